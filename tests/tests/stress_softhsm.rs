//! Thread stress against SoftHSMv2 through the safe crate (item 5 of the reliability
//! issue; RELIABILITY rule 9 under load, with rules 12, 15 and 16 exercised on the way).
//!
//! Eight worker threads make 2,000 mixed operations each while two more threads open
//! and close sessions in a loop the whole time:
//!
//! - workers 0–3 each open a session of their own (two read-write, two read-only);
//!   workers 4–7 share one logged-in read-write session (the safe crate's per-session
//!   lock makes them take turns, a multipart stream holding the session until it is
//!   finished or dropped);
//! - the operations: random bytes; SHA-256/SHA-512 digests; AES-CBC-PAD and AES-GCM
//!   encrypt/decrypt round trips; HMAC-SHA-256 sign/verify; ECDSA P-256 sign/verify with
//!   one key pair generated at the start; the `_into` forms with exact and too-small
//!   buffers; multipart digest, encryption, decryption and HMAC streams; streams
//!   dropped half-fed (each followed by the complete operation, which must not meet
//!   `CKR_OPERATION_ACTIVE`); object searches by label (some dropped half-consumed);
//!   attribute reads (values, sensitive results, EC points);
//! - every result is checked, against independent implementations where one exists
//!   (`sha2`, `hmac`, `aes-gcm`, AES-CBC-PAD built on `aes-gcm`'s AES block cipher,
//!   `p256`), and every error that is not the expected answer (a tampered GCM tag, a
//!   forged MAC, a too-small buffer) is counted: the counts of unexpected errors and of
//!   wrong results must both be zero;
//! - the login made once at the start is the application's: every session, the
//!   short-lived ones of the session churners included, must report it all along
//!   (closing a session that is not the last one logs nobody out), and the key objects
//!   are private, so a lost login shows up as errors;
//! - a [`Watchdog`] aborts the process if the run does not finish in 300 s: a deadlock is
//!   a failure, not a hung CI job.
//!
//! Measured on the development container (2 CPUs, debug build): the whole test takes
//! 2.5–6.5 s (the spread is other work on the machine), far below the 60 s budget, so the
//! full 2,000 operations per worker are kept. Under valgrind memcheck it takes about
//! 230 s (and runs clean): set `PKCS11_STRESS_OPERATIONS` to a smaller count there. The
//! test prints its duration and operation mix (`--nocapture` shows them).
//!
//! SoftHSM is one instance per process: this binary has the one test, on its own
//! throwaway token.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::aes::cipher::BlockEncrypt;
use hmac::Mac;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use pkcs11::{
    Attribute, AttributeResult, AttributeType, Error, GcmParams, KeyType, Mechanism, ObjectClass,
    ObjectHandle, Pin, Pkcs11, SecretBytes, Session, SessionState, Slot, UserType,
};
use pkcs11_sys as sys;
use pkcs11_tests::{softhsm_get_info_rv, softhsm_module, SoftHsmToken, Watchdog};
use sha2::Digest;

/// Worker threads.
const WORKERS: usize = 8;
/// Workers `0..OWN_SESSION_WORKERS` open their own session; the others share one.
const OWN_SESSION_WORKERS: usize = 4;
/// Operations per worker, unless `PKCS11_STRESS_OPERATIONS` says otherwise.
const OPERATIONS: usize = 2_000;
/// Threads that open and close sessions until the workers are done.
const CHURNERS: usize = 2;
/// The watchdog's limit.
const DEADLINE: Duration = Duration::from_secs(300);

/// The AES-256 key's value (known, so that the references can check the token).
const AES_KEY: [u8; 32] = *b"stress-test AES-256 key, 32 byte";
/// The HMAC key's value.
const HMAC_KEY: [u8; 40] = *b"stress-test HMAC-SHA-256 key, 40 bytes!!";
/// DER of the P-256 OID (1.2.840.10045.3.1.7).
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// Data objects sharing one label, found together by label searches.
const MANY: usize = 24;

// --- Failures ----------------------------------------------------------------------------

/// Why one operation failed.
#[derive(Debug)]
enum Failure {
    /// The safe crate or the module answered an error that was not expected.
    Error(String),
    /// A result was wrong (or an expected error did not come).
    Wrong(String),
}

type Check = Result<(), Failure>;

/// Turns an unexpected `pkcs11::Error` into a [`Failure::Error`] naming the step.
trait Context<T> {
    fn ctx(self, what: &str) -> Result<T, Failure>;
}

impl<T> Context<T> for pkcs11::Result<T> {
    fn ctx(self, what: &str) -> Result<T, Failure> {
        self.map_err(|error| Failure::Error(format!("{what}: {error}")))
    }
}

/// Returns a [`Failure::Wrong`] unless `cond` holds.
macro_rules! ensure {
    ($cond:expr, $($message:tt)*) => {
        if !$cond {
            return Err(Failure::Wrong(format!($($message)*)));
        }
    };
}

/// The tally of the whole run.
#[derive(Default)]
struct Tally {
    performed: AtomicUsize,
    errors: AtomicUsize,
    wrong: AtomicUsize,
    /// The first few failures, for the report.
    first: Mutex<Vec<String>>,
    /// Operations per kind (index: [`Op`] as usize).
    kinds: [AtomicUsize; Op::COUNT],
    /// Sessions opened and closed by the churners.
    churned: AtomicUsize,
}

impl Tally {
    /// Counts one operation of kind `op` and its outcome.
    fn record(&self, who: &str, op: Op, outcome: Check) {
        self.performed.fetch_add(1, Ordering::Relaxed);
        self.kinds[op as usize].fetch_add(1, Ordering::Relaxed);
        if let Err(failure) = outcome {
            self.fail(&format!("{who} {op:?}"), failure);
        }
    }

    /// Counts a failure of `what`.
    fn fail(&self, what: &str, failure: Failure) {
        let text = match failure {
            Failure::Error(text) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                format!("{what}: unexpected error: {text}")
            }
            Failure::Wrong(text) => {
                self.wrong.fetch_add(1, Ordering::Relaxed);
                format!("{what}: wrong result: {text}")
            }
        };
        let mut first = self.first.lock().unwrap_or_else(|e| e.into_inner());
        if first.len() < 20 {
            first.push(text);
        }
    }
}

// --- A small deterministic generator ------------------------------------------------------

/// SplitMix64: each worker's sequence of operations and data is reproducible.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// 0 to 299 bytes.
    fn data(&mut self) -> Vec<u8> {
        let len = self.below(300);
        self.bytes(len)
    }
}

// --- References ---------------------------------------------------------------------------

fn sha256(data: &[u8]) -> Vec<u8> {
    sha2::Sha256::digest(data).to_vec()
}

fn hmac_reference(data: &[u8]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&HMAC_KEY).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn gcm_reference(iv: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    aes_gcm::Aes256Gcm::new_from_slice(&AES_KEY)
        .unwrap()
        .encrypt(
            &aes_gcm::Nonce::from(*iv),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap()
}

/// AES-256-CBC with PKCS #7 padding, built on the AES block cipher of `aes-gcm`.
fn cbc_reference(iv: &[u8; 16], plaintext: &[u8]) -> Vec<u8> {
    let cipher = aes_gcm::aes::Aes256::new_from_slice(&AES_KEY).unwrap();
    let pad = 16 - plaintext.len() % 16;
    let mut padded = plaintext.to_vec();
    padded.resize(plaintext.len() + pad, pad as u8);
    let mut previous = *iv;
    let mut out = Vec::with_capacity(padded.len());
    for chunk in padded.chunks(16) {
        let mut block = aes_gcm::aes::Block::default();
        for (b, (p, c)) in block.iter_mut().zip(previous.iter().zip(chunk)) {
            *b = p ^ c;
        }
        cipher.encrypt_block(&mut block);
        previous.copy_from_slice(&block);
        out.extend_from_slice(&block);
    }
    out
}

/// Splits `data` into 1 to 5 chunks at random places (some empty).
fn chunks<'d>(rng: &mut Rng, data: &'d [u8]) -> Vec<&'d [u8]> {
    let mut cuts: Vec<usize> = (0..rng.below(5))
        .map(|_| rng.below(data.len() + 1))
        .collect();
    cuts.sort_unstable();
    let mut parts = Vec::new();
    let mut start = 0;
    for cut in cuts {
        parts.push(&data[start..cut]);
        start = cut;
    }
    parts.push(&data[start..]);
    parts
}

// --- The fixture ----------------------------------------------------------------------------

/// The objects every worker uses: session objects of the shared session (which stays
/// open for the whole run), visible to every session of the application.
struct Keys {
    aes: ObjectHandle,
    hmac: ObjectHandle,
    ec_public: ObjectHandle,
    ec_private: ObjectHandle,
    /// `CKA_EC_POINT` of the public key, as read at the start.
    ec_point: Vec<u8>,
    ec_verifier: p256::ecdsa::VerifyingKey,
    /// [`MANY`] data objects labelled `stress-many`.
    many: BTreeSet<ObjectHandle>,
}

fn make_keys(session: &Session) -> Keys {
    let secret = |key_type: KeyType, value: &[u8], label: &str, usage: [Attribute; 2]| {
        let mut template = vec![
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(key_type),
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
            Attribute::Label(label.into()),
            Attribute::Value(SecretBytes::new(value.to_vec())),
        ];
        template.extend(usage);
        session.create_object(&template).unwrap()
    };
    let aes = secret(
        KeyType::Aes,
        &AES_KEY,
        "stress-aes",
        [Attribute::Encrypt(true), Attribute::Decrypt(true)],
    );
    let hmac = secret(
        KeyType::GenericSecret,
        &HMAC_KEY,
        "stress-hmac",
        [Attribute::Sign(true), Attribute::Verify(true)],
    );
    let (ec_public, ec_private) = session
        .generate_key_pair(
            &Mechanism::EcKeyPairGen,
            &[
                Attribute::EcParams(P256_OID.to_vec()),
                Attribute::Token(false),
                Attribute::Verify(true),
                Attribute::Label("stress-ec".into()),
            ],
            &[
                Attribute::Token(false),
                Attribute::Private(true),
                Attribute::Sensitive(true),
                Attribute::Sign(true),
                Attribute::Label("stress-ec".into()),
            ],
        )
        .unwrap();
    let ec_point = session
        .get_attribute(ec_public, AttributeType::EcPoint)
        .unwrap()
        .as_bytes()
        .unwrap()
        .to_vec();
    // A DER OCTET STRING around the 65-byte uncompressed point.
    assert_eq!(ec_point[..2], [0x04, 0x41]);
    let ec_verifier = p256::ecdsa::VerifyingKey::from_sec1_bytes(&ec_point[2..]).unwrap();
    let many = (0..MANY)
        .map(|i| {
            session
                .create_object(&[
                    Attribute::Class(ObjectClass::Data),
                    Attribute::Token(false),
                    Attribute::Label("stress-many".into()),
                    Attribute::Application(format!("object {i}")),
                ])
                .unwrap()
        })
        .collect();
    Keys {
        aes,
        hmac,
        ec_public,
        ec_private,
        ec_point,
        ec_verifier,
        many,
    }
}

// --- The operations -------------------------------------------------------------------------

/// The kinds of operation a worker picks from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Random,
    Digest,
    CbcRoundTrip,
    GcmRoundTrip,
    Hmac,
    Ecdsa,
    IntoBuffers,
    DigestStream,
    EncryptStream,
    DecryptStream,
    SignStream,
    DroppedStream,
    FindByLabel,
    Attributes,
}

impl Op {
    const ALL: [Op; 14] = [
        Op::Random,
        Op::Digest,
        Op::CbcRoundTrip,
        Op::GcmRoundTrip,
        Op::Hmac,
        Op::Ecdsa,
        Op::IntoBuffers,
        Op::DigestStream,
        Op::EncryptStream,
        Op::DecryptStream,
        Op::SignStream,
        Op::DroppedStream,
        Op::FindByLabel,
        Op::Attributes,
    ];
    const COUNT: usize = Op::ALL.len();
}

/// What one worker needs.
struct Worker<'a> {
    session: &'a Session,
    keys: &'a Keys,
    rng: Rng,
    /// Unique per worker and operation: GCM IVs are never reused with the key.
    nonce: u64,
}

impl Worker<'_> {
    fn gcm_iv(&mut self) -> [u8; 12] {
        self.nonce += 1;
        let mut iv = [0u8; 12];
        iv[..8].copy_from_slice(&self.nonce.to_be_bytes());
        iv[8..].copy_from_slice(&(self.rng.next() as u32).to_be_bytes());
        iv
    }

    fn cbc_iv(&mut self) -> [u8; 16] {
        let mut iv = [0u8; 16];
        iv.copy_from_slice(&self.rng.bytes(16));
        iv
    }

    fn run(&mut self, op: Op) -> Check {
        match op {
            Op::Random => self.random(),
            Op::Digest => self.digest(),
            Op::CbcRoundTrip => self.cbc_round_trip(),
            Op::GcmRoundTrip => self.gcm_round_trip(),
            Op::Hmac => self.hmac(),
            Op::Ecdsa => self.ecdsa(),
            Op::IntoBuffers => self.caller_buffers(),
            Op::DigestStream => self.digest_stream(),
            Op::EncryptStream => self.encrypt_stream(),
            Op::DecryptStream => self.decrypt_stream(),
            Op::SignStream => self.sign_stream(),
            Op::DroppedStream => self.dropped_stream(),
            Op::FindByLabel => self.find_by_label(),
            Op::Attributes => self.attributes(),
        }
    }

    fn random(&mut self) -> Check {
        let s = self.session;
        let len = 1 + self.rng.below(64);
        let a = s.generate_random(len).ctx("generate_random")?;
        ensure!(a.len() == len, "{} random bytes for {len}", a.len());
        let mut buffer = [0u8; 48];
        s.generate_random_into(&mut buffer)
            .ctx("generate_random_into")?;
        ensure!(buffer != [0u8; 48], "48 zero bytes from the generator");
        Ok(())
    }

    fn digest(&mut self) -> Check {
        let s = self.session;
        let data = self.rng.data();
        let digest = s.digest(&Mechanism::Sha256, &data).ctx("SHA-256")?;
        ensure!(digest == sha256(&data), "SHA-256 differs from sha2");
        if self.rng.below(2) == 0 {
            let digest = s.digest(&Mechanism::Sha512, &data).ctx("SHA-512")?;
            ensure!(
                digest == sha2::Sha512::digest(&data).to_vec(),
                "SHA-512 differs from sha2"
            );
        }
        Ok(())
    }

    fn cbc_round_trip(&mut self) -> Check {
        let s = self.session;
        let (data, iv) = (self.rng.data(), self.cbc_iv());
        let cbc = Mechanism::AesCbcPad { iv };
        let ciphertext = s.encrypt(&cbc, self.keys.aes, &data).ctx("CBC encrypt")?;
        ensure!(
            ciphertext == cbc_reference(&iv, &data),
            "CBC ciphertext of {} bytes differs from the reference",
            data.len()
        );
        let plaintext = s
            .decrypt(&cbc, self.keys.aes, &ciphertext)
            .ctx("CBC decrypt")?;
        ensure!(*plaintext == data[..], "CBC round trip changed the data");
        Ok(())
    }

    fn gcm_round_trip(&mut self) -> Check {
        let s = self.session;
        let data = self.rng.data();
        let aad_len = self.rng.below(20);
        let (aad, iv) = (self.rng.bytes(aad_len), self.gcm_iv());
        let gcm = Mechanism::AesGcm(GcmParams::new(&iv, &aad, 128).ctx("GcmParams")?);
        let sealed = s.encrypt(&gcm, self.keys.aes, &data).ctx("GCM encrypt")?;
        ensure!(
            sealed == gcm_reference(&iv, &aad, &data),
            "GCM ciphertext differs from aes-gcm"
        );
        let opened = s.decrypt(&gcm, self.keys.aes, &sealed).ctx("GCM decrypt")?;
        ensure!(*opened == data[..], "GCM round trip changed the data");
        if self.rng.below(4) == 0 {
            // A tampered tag must fail, as an error of C_Decrypt, and end the operation.
            let mut tampered = sealed.clone();
            let last = tampered.len() - 1;
            tampered[last] ^= 0x80;
            match s.decrypt(&gcm, self.keys.aes, &tampered) {
                Err(Error::Module {
                    function: "C_Decrypt",
                    ..
                }) => {}
                Err(other) => return Err(Failure::Error(format!("tampered GCM: {other}"))),
                Ok(_) => return Err(Failure::Wrong("a tampered GCM tag was accepted".into())),
            }
            let again = s
                .decrypt(&gcm, self.keys.aes, &sealed)
                .ctx("GCM after tamper")?;
            ensure!(*again == data[..], "GCM after a failed decrypt");
        }
        Ok(())
    }

    fn hmac(&mut self) -> Check {
        let s = self.session;
        let data = self.rng.data();
        let mac = s
            .sign(&Mechanism::Sha256Hmac, self.keys.hmac, &data)
            .ctx("HMAC sign")?;
        ensure!(mac == hmac_reference(&data), "HMAC differs from hmac");
        let valid = s
            .verify(&Mechanism::Sha256Hmac, self.keys.hmac, &data, &mac)
            .ctx("HMAC verify")?;
        ensure!(valid, "the token rejects its own MAC");
        let mut forged = mac;
        forged[self.rng.below(32)] ^= 1 << self.rng.below(8);
        let valid = s
            .verify(&Mechanism::Sha256Hmac, self.keys.hmac, &data, &forged)
            .ctx("HMAC verify (forged)")?;
        ensure!(!valid, "the token accepts a forged MAC");
        Ok(())
    }

    fn ecdsa(&mut self) -> Check {
        let s = self.session;
        let hash = sha256(&self.rng.data());
        let signature = s
            .sign(&Mechanism::Ecdsa, self.keys.ec_private, &hash)
            .ctx("ECDSA sign")?;
        ensure!(
            signature.len() == 64,
            "{}-byte ECDSA signature",
            signature.len()
        );
        let valid = s
            .verify(&Mechanism::Ecdsa, self.keys.ec_public, &hash, &signature)
            .ctx("ECDSA verify")?;
        ensure!(valid, "the token rejects its own ECDSA signature");
        let parsed = p256::ecdsa::Signature::from_slice(&signature)
            .map_err(|e| Failure::Wrong(format!("not an r || s signature: {e}")))?;
        ensure!(
            self.keys.ec_verifier.verify_prehash(&hash, &parsed).is_ok(),
            "p256 rejects the token's signature"
        );
        if self.rng.below(4) == 0 {
            let other = sha256(b"another message");
            let valid = s
                .verify(&Mechanism::Ecdsa, self.keys.ec_public, &other, &signature)
                .ctx("ECDSA verify (other hash)")?;
            ensure!(!valid, "an ECDSA signature verifies another hash");
        }
        Ok(())
    }

    /// The `_into` forms: exact buffers, and too-small ones (an `InvalidInput` naming
    /// the size needed, after which the session goes on).
    fn caller_buffers(&mut self) -> Check {
        let s = self.session;
        let (data, iv) = (self.rng.data(), self.cbc_iv());
        let cbc = Mechanism::AesCbcPad { iv };
        let expected = cbc_reference(&iv, &data);
        match self.rng.below(4) {
            0 => {
                let mut out = vec![0u8; expected.len()];
                let len = s
                    .encrypt_into(&cbc, self.keys.aes, &data, &mut out)
                    .ctx("encrypt_into")?;
                ensure!(out[..len] == expected[..], "encrypt_into differs");
                let mut plain = vec![0u8; expected.len()];
                let len = s
                    .decrypt_into(&cbc, self.keys.aes, &expected, &mut plain)
                    .ctx("decrypt_into")?;
                ensure!(plain[..len] == data[..], "decrypt_into differs");
            }
            1 => {
                let mut small = vec![0x5au8; expected.len() - 1];
                too_small(
                    "encrypt_into",
                    s.encrypt_into(&cbc, self.keys.aes, &data, &mut small),
                )?;
                let mut small = vec![0x5au8; data.len() / 2];
                too_small(
                    "decrypt_into",
                    s.decrypt_into(&cbc, self.keys.aes, &expected, &mut small),
                )?;
                ensure!(
                    small.iter().all(|&b| b == 0),
                    "a failed decrypt_into left bytes in the buffer"
                );
                let again = s.encrypt(&cbc, self.keys.aes, &data).ctx("encrypt after")?;
                ensure!(again == expected, "encrypt after a too-small buffer");
            }
            2 => {
                let mut out = [0u8; 40];
                let len = s
                    .digest_into(&Mechanism::Sha256, &data, &mut out)
                    .ctx("digest_into")?;
                ensure!(len == 32 && out[..32] == sha256(&data)[..], "digest_into");
                too_small(
                    "digest_into",
                    s.digest_into(&Mechanism::Sha256, &data, &mut [0u8; 31]),
                )?;
            }
            _ => {
                let mut out = [0u8; 32];
                let len = s
                    .sign_into(&Mechanism::Sha256Hmac, self.keys.hmac, &data, &mut out)
                    .ctx("sign_into")?;
                ensure!(
                    len == 32 && out[..] == hmac_reference(&data)[..],
                    "sign_into"
                );
                too_small(
                    "sign_into",
                    s.sign_into(
                        &Mechanism::Sha256Hmac,
                        self.keys.hmac,
                        &data,
                        &mut [0u8; 16],
                    ),
                )?;
                let mac = s
                    .sign(&Mechanism::Sha256Hmac, self.keys.hmac, &data)
                    .ctx("sign after")?;
                ensure!(
                    mac == hmac_reference(&data),
                    "sign after a too-small buffer"
                );
            }
        }
        Ok(())
    }

    fn digest_stream(&mut self) -> Check {
        let s = self.session;
        let data = self.rng.data();
        let parts = chunks(&mut self.rng, &data);
        let mechanism = Mechanism::Sha256;
        let mut stream = s.digest_stream(&mechanism).ctx("digest_stream")?;
        for part in parts {
            stream.update(part).ctx("C_DigestUpdate")?;
        }
        let digest = stream.finish().ctx("C_DigestFinal")?;
        ensure!(
            digest == sha256(&data),
            "streamed SHA-256 differs from sha2"
        );
        Ok(())
    }

    fn encrypt_stream(&mut self) -> Check {
        let s = self.session;
        let data = self.rng.data();
        let (iv, gcm_iv) = (self.cbc_iv(), self.gcm_iv());
        let (mechanism, expected) = if self.rng.below(2) == 0 {
            (Mechanism::AesCbcPad { iv }, cbc_reference(&iv, &data))
        } else {
            (
                Mechanism::AesGcm(GcmParams::new(&gcm_iv, b"stream", 128).ctx("GcmParams")?),
                gcm_reference(&gcm_iv, b"stream", &data),
            )
        };
        let mut stream = s
            .encrypt_stream(&mechanism, self.keys.aes)
            .ctx("encrypt_stream")?;
        let mut out = Vec::new();
        for part in chunks(&mut self.rng, &data) {
            out.extend(stream.update(part).ctx("C_EncryptUpdate")?);
        }
        out.extend(stream.finish().ctx("C_EncryptFinal")?);
        ensure!(
            out == expected,
            "streamed {:?} ciphertext differs",
            mechanism.mechanism_type()
        );
        Ok(())
    }

    fn decrypt_stream(&mut self) -> Check {
        let s = self.session;
        let data = self.rng.data();
        let iv = self.cbc_iv();
        let ciphertext = cbc_reference(&iv, &data);
        let mechanism = Mechanism::AesCbcPad { iv };
        let mut stream = s
            .decrypt_stream(&mechanism, self.keys.aes)
            .ctx("decrypt_stream")?;
        let mut out = Vec::new();
        // No empty parts: SoftHSM 2.6 answers the length query of an empty
        // C_DecryptUpdate (CBC-PAD, nothing buffered) with 2^64 - 16, an unsigned
        // underflow, which the safe crate rightly refuses as a contract violation
        // (rule 18; rules_softhsm.rs shows it).
        for part in chunks(&mut self.rng, &ciphertext)
            .into_iter()
            .filter(|part| !part.is_empty())
        {
            out.extend_from_slice(&stream.update(part).ctx("C_DecryptUpdate")?);
        }
        out.extend_from_slice(&stream.finish().ctx("C_DecryptFinal")?);
        ensure!(out == data, "streamed CBC plaintext differs");
        Ok(())
    }

    fn sign_stream(&mut self) -> Check {
        let s = self.session;
        let data = self.rng.data();
        let mechanism = Mechanism::Sha256Hmac;
        let mut stream = s
            .sign_stream(&mechanism, self.keys.hmac)
            .ctx("sign_stream")?;
        for part in chunks(&mut self.rng, &data) {
            stream.update(part).ctx("C_SignUpdate")?;
        }
        let mac = stream.finish().ctx("C_SignFinal")?;
        ensure!(mac == hmac_reference(&data), "streamed HMAC differs");
        let mut stream = s
            .verify_stream(&mechanism, self.keys.hmac)
            .ctx("verify_stream")?;
        for part in chunks(&mut self.rng, &data) {
            stream.update(part).ctx("C_VerifyUpdate")?;
        }
        ensure!(
            stream.finish(&mac).ctx("C_VerifyFinal")?,
            "the token rejects its streamed MAC"
        );
        Ok(())
    }

    /// A stream dropped half-fed, then the same kind of operation in one part: the drop
    /// must have ended the operation (no `CKR_OPERATION_ACTIVE`, the right result).
    fn dropped_stream(&mut self) -> Check {
        let s = self.session;
        let data = self.rng.data();
        let half = &data[..data.len() / 2];
        let iv = self.cbc_iv();
        let cbc = Mechanism::AesCbcPad { iv };
        let hmac = Mechanism::Sha256Hmac;
        let sha = Mechanism::Sha256;
        match self.rng.below(5) {
            0 => {
                let mut stream = s
                    .encrypt_stream(&cbc, self.keys.aes)
                    .ctx("encrypt_stream")?;
                let _ = stream.update(half).ctx("C_EncryptUpdate")?;
                drop(stream);
                let out = s
                    .encrypt(&cbc, self.keys.aes, &data)
                    .ctx("encrypt after drop")?;
                ensure!(
                    out == cbc_reference(&iv, &data),
                    "encrypt after a dropped stream"
                );
            }
            1 => {
                let ciphertext = cbc_reference(&iv, &data);
                let mut stream = s
                    .decrypt_stream(&cbc, self.keys.aes)
                    .ctx("decrypt_stream")?;
                let _ = stream
                    .update(&ciphertext[..ciphertext.len() / 2])
                    .ctx("C_DecryptUpdate")?;
                drop(stream);
                let out = s
                    .decrypt(&cbc, self.keys.aes, &ciphertext)
                    .ctx("decrypt after drop")?;
                ensure!(*out == data[..], "decrypt after a dropped stream");
            }
            2 => {
                let iv = self.gcm_iv();
                let gcm = Mechanism::AesGcm(GcmParams::new(&iv, b"", 128).ctx("GcmParams")?);
                let mut stream = s
                    .encrypt_stream(&gcm, self.keys.aes)
                    .ctx("encrypt_stream")?;
                let _ = stream.update(half).ctx("C_EncryptUpdate")?;
                drop(stream);
                let iv = self.gcm_iv();
                let gcm = Mechanism::AesGcm(GcmParams::new(&iv, b"", 128).ctx("GcmParams")?);
                let out = s
                    .encrypt(&gcm, self.keys.aes, &data)
                    .ctx("GCM after drop")?;
                ensure!(
                    out == gcm_reference(&iv, b"", &data),
                    "GCM after a dropped stream"
                );
            }
            3 => {
                let mut stream = s.sign_stream(&hmac, self.keys.hmac).ctx("sign_stream")?;
                stream.update(half).ctx("C_SignUpdate")?;
                drop(stream);
                let mac = s
                    .sign(&hmac, self.keys.hmac, &data)
                    .ctx("sign after drop")?;
                ensure!(mac == hmac_reference(&data), "HMAC after a dropped stream");
            }
            _ => {
                let mut stream = s.digest_stream(&sha).ctx("digest_stream")?;
                stream.update(half).ctx("C_DigestUpdate")?;
                drop(stream);
                let digest = s.digest(&sha, &data).ctx("digest after drop")?;
                ensure!(digest == sha256(&data), "digest after a dropped stream");
            }
        }
        Ok(())
    }

    fn find_by_label(&mut self) -> Check {
        let s = self.session;
        let keys = self.keys;
        match self.rng.below(4) {
            0 => {
                let found = s
                    .find_all(&[Attribute::Label("stress-aes".into())])
                    .ctx("find_all stress-aes")?;
                ensure!(found == [keys.aes], "stress-aes found as {found:?}");
            }
            1 => {
                let found = s
                    .find_one(&[
                        Attribute::Class(ObjectClass::PrivateKey),
                        Attribute::Label("stress-ec".into()),
                    ])
                    .ctx("find_one stress-ec")?;
                ensure!(
                    found == keys.ec_private,
                    "stress-ec private key found as {found:?}"
                );
            }
            2 => {
                let found: BTreeSet<_> = s
                    .find_all(&[Attribute::Label("stress-many".into())])
                    .ctx("find_all stress-many")?
                    .into_iter()
                    .collect();
                ensure!(
                    found == keys.many,
                    "stress-many: {} objects found",
                    found.len()
                );
            }
            _ => {
                // Half-consumed, dropped: the search is ended; the next one works.
                let mut search = s
                    .find(&[Attribute::Label("stress-many".into())])
                    .ctx("find stress-many")?;
                for _ in 0..1 + self.rng.below(MANY - 1) {
                    let object = search
                        .next()
                        .ok_or_else(|| Failure::Wrong("the search ended early".into()))?
                        .ctx("C_FindObjects")?;
                    ensure!(keys.many.contains(&object), "found a stranger {object:?}");
                }
                drop(search);
                let found = s
                    .find_all(&[
                        Attribute::Class(ObjectClass::SecretKey),
                        Attribute::Label("stress-hmac".into()),
                    ])
                    .ctx("find_all after a dropped search")?;
                ensure!(found == [keys.hmac], "stress-hmac found as {found:?}");
            }
        }
        Ok(())
    }

    fn attributes(&mut self) -> Check {
        let s = self.session;
        let keys = self.keys;
        match self.rng.below(3) {
            0 => {
                let results = s
                    .get_attributes(
                        keys.aes,
                        &[
                            AttributeType::Class,
                            AttributeType::KeyType,
                            AttributeType::ValueLen,
                            AttributeType::Value,
                            AttributeType::Label,
                            AttributeType::Modulus,
                        ],
                    )
                    .ctx("AES attributes")?;
                let expected = [
                    Attribute::Class(ObjectClass::SecretKey),
                    Attribute::KeyType(KeyType::Aes),
                    Attribute::ValueLen(32),
                    Attribute::Value(SecretBytes::new(AES_KEY.to_vec())),
                    Attribute::Label("stress-aes".into()),
                ];
                for (result, expected) in results.iter().zip(&expected) {
                    ensure!(
                        result.value() == Some(expected),
                        "{:?}: {result:?}",
                        expected.attribute_type()
                    );
                }
                ensure!(
                    results[5] == AttributeResult::Invalid,
                    "an AES key's CKA_MODULUS: {:?}",
                    results[5]
                );
            }
            1 => {
                let results = s
                    .get_attributes(
                        keys.ec_private,
                        &[
                            AttributeType::Value,
                            AttributeType::KeyType,
                            AttributeType::Sign,
                            AttributeType::Sensitive,
                        ],
                    )
                    .ctx("EC private key attributes")?;
                ensure!(
                    results[0] == AttributeResult::Sensitive,
                    "CKA_VALUE of a sensitive key: {:?}",
                    results[0]
                );
                ensure!(
                    results[1].value() == Some(&Attribute::KeyType(KeyType::Ec))
                        && results[2].value() == Some(&Attribute::Sign(true))
                        && results[3].value() == Some(&Attribute::Sensitive(true)),
                    "EC private key: {:?}",
                    &results[1..]
                );
            }
            _ => {
                let point = s
                    .get_attribute(keys.ec_public, AttributeType::EcPoint)
                    .ctx("CKA_EC_POINT")?;
                ensure!(
                    point.as_bytes() == Some(&keys.ec_point[..]),
                    "the EC point changed"
                );
                let label = s
                    .get_attribute(keys.hmac, AttributeType::Label)
                    .ctx("CKA_LABEL")?;
                ensure!(
                    label == Attribute::Label("stress-hmac".into()),
                    "HMAC key label {label:?}"
                );
            }
        }
        Ok(())
    }
}

fn too_small(what: &str, result: pkcs11::Result<usize>) -> Check {
    match result {
        Err(Error::InvalidInput { what: text }) if text.contains("bytes needed") => Ok(()),
        Err(other) => Err(Failure::Error(format!("{what} (too small): {other}"))),
        Ok(len) => Err(Failure::Wrong(format!(
            "{what} wrote {len} bytes into a too-small buffer"
        ))),
    }
}

/// Operations per worker: [`OPERATIONS`], or `$PKCS11_STRESS_OPERATIONS` (for slow
/// runs such as valgrind's).
fn operations() -> usize {
    match std::env::var("PKCS11_STRESS_OPERATIONS") {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("PKCS11_STRESS_OPERATIONS={text:?} is not a count")),
        Err(_) => OPERATIONS,
    }
}

/// One worker: `operations` operations on `session` (its own, or the shared one).
fn work(index: usize, operations: usize, session: &Session, keys: &Keys, tally: &Tally) {
    let who = format!("worker {index}");
    let expected = if session.info().is_ok_and(|i| i.is_read_write()) {
        SessionState::RwUser
    } else {
        SessionState::RoUser
    };
    let mut worker = Worker {
        session,
        keys,
        rng: Rng(0x5eed_0000 + index as u64),
        nonce: (index as u64) << 32,
    };
    for i in 0..operations {
        let op = Op::ALL[worker.rng.below(Op::COUNT)];
        let outcome = worker.run(op);
        tally.record(&who, op, outcome);
        if i % 250 == 0 {
            match session.info() {
                Ok(info) if info.state() == expected => {}
                Ok(info) => tally.fail(
                    &who,
                    Failure::Wrong(format!("session state {:?}", info.state())),
                ),
                Err(error) => {
                    tally.fail(&who, Failure::Error(format!("C_GetSessionInfo: {error}")))
                }
            }
        }
    }
}

/// Opens and closes sessions (read-only and read-write, alternately) until `done`.
fn churn(index: usize, slot: &Slot, done: &AtomicBool, tally: &Tally) {
    let who = format!("churner {index}");
    let mut n = 0usize;
    while !done.load(Ordering::Acquire) {
        let outcome = (|| -> Check {
            let rw = n % 2 == 0;
            let session = if rw {
                slot.open_rw_session().ctx("C_OpenSession (rw)")?
            } else {
                slot.open_ro_session().ctx("C_OpenSession (ro)")?
            };
            let state = session.info().ctx("C_GetSessionInfo")?.state();
            let expected = if rw {
                SessionState::RwUser
            } else {
                SessionState::RoUser
            };
            ensure!(state == expected, "a new session is {state:?}");
            if n % 3 == 0 {
                let random = session.generate_random(8).ctx("generate_random")?;
                ensure!(random.len() == 8, "random bytes");
            }
            session.close().ctx("C_CloseSession")
        })();
        if let Err(failure) = outcome {
            tally.fail(&who, failure);
        }
        n += 1;
        tally.churned.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
fn rule_09_eight_threads_two_thousand_mixed_operations_and_session_churn() {
    let _watchdog = Watchdog::new("the SoftHSM stress test", DEADLINE);
    let token = SoftHsmToken::new("stress");
    token.export();
    let operations = operations();
    let started = Instant::now();

    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    assert!(
        !p11.is_adopted(),
        "our C_Initialize, with CKF_OS_LOCKING_OK"
    );
    let slot = p11.token_by_label(token.label()).unwrap();
    let shared = slot.open_rw_session().unwrap();
    shared
        .login(UserType::User, &Pin::from(token.user_pin))
        .unwrap();
    let keys = make_keys(&shared);
    let own: Vec<Session> = (0..OWN_SESSION_WORKERS)
        .map(|i| {
            if i % 2 == 0 {
                slot.open_rw_session().unwrap()
            } else {
                slot.open_ro_session().unwrap()
            }
        })
        .collect();
    let setup = started.elapsed();

    let tally = Tally::default();
    let done = AtomicBool::new(false);
    let run = Instant::now();
    std::thread::scope(|scope| {
        let churners: Vec<_> = (0..CHURNERS)
            .map(|index| {
                let (slot, done, tally) = (&slot, &done, &tally);
                scope.spawn(move || churn(index, slot, done, tally))
            })
            .collect();
        let workers: Vec<_> = (0..WORKERS)
            .map(|index| {
                let session = own.get(index).unwrap_or(&shared);
                let (keys, tally) = (&keys, &tally);
                scope.spawn(move || work(index, operations, session, keys, tally))
            })
            .collect();
        let mut panics: Vec<_> = workers.into_iter().map(|w| w.join()).collect();
        done.store(true, Ordering::Release);
        panics.extend(churners.into_iter().map(|c| c.join()));
        if let Some(panic) = panics.into_iter().find_map(Result::err) {
            std::panic::resume_unwind(panic);
        }
    });
    let run = run.elapsed();

    let kinds: Vec<String> = Op::ALL
        .iter()
        .map(|&op| {
            format!(
                "{op:?} {}",
                tally.kinds[op as usize].load(Ordering::Relaxed)
            )
        })
        .collect();
    let (errors, wrong) = (
        tally.errors.load(Ordering::Relaxed),
        tally.wrong.load(Ordering::Relaxed),
    );
    let churned = tally.churned.load(Ordering::Relaxed);
    eprintln!(
        "stress: {WORKERS} workers x {operations} operations in {run:.2?} (setup {setup:.2?}); \
         {churned} sessions churned; {errors} unexpected errors, {wrong} wrong results\n  \
         mix: {}",
        kinds.join(", ")
    );
    let first = tally.first.lock().unwrap();
    assert!(
        errors == 0 && wrong == 0,
        "{errors} unexpected errors and {wrong} wrong results; the first ones:\n  {}",
        first.join("\n  ")
    );
    assert!(
        tally.performed.load(Ordering::Relaxed) >= WORKERS * operations,
        "every operation was made"
    );
    for op in Op::ALL {
        assert!(
            tally.kinds[op as usize].load(Ordering::Relaxed)
                >= WORKERS * operations / Op::COUNT / 4,
            "{op:?} ran too rarely to mean anything"
        );
    }
    assert!(churned >= 2 * CHURNERS, "the churners ran: {churned}");

    // Afterwards: still logged in, the objects intact, everything closes cleanly and the
    // last handle finalizes.
    assert_eq!(shared.info().unwrap().state(), SessionState::RwUser);
    assert_eq!(
        shared
            .find_all(&[Attribute::Label("stress-many".into())])
            .unwrap()
            .len(),
        MANY
    );
    for session in own {
        assert!(session.is_usable());
        session.close().unwrap();
    }
    shared.logout().unwrap();
    shared.close().unwrap();
    drop((slot, p11));
    assert_eq!(softhsm_get_info_rv(), sys::CKR_CRYPTOKI_NOT_INITIALIZED);
    eprintln!("stress: total {:.2?}", started.elapsed());
}
