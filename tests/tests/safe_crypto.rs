//! The safe crate's cryptographic operations against SoftHSMv2: random, digests, HMAC,
//! AES-GCM, AES-CBC-PAD, ECDSA, EdDSA, RSA PKCS #1 v1.5, RSA-PSS and RSA-OAEP, in their
//! single-part, `_into` and multipart forms; the operation guard's promises (a dropped
//! half-fed stream leaves the session usable, a conflicting start on the same thread is
//! `OperationActive`, one session shared by 8 threads runs clean).
//!
//! Results are cross-checked with independent implementations where it is cheap:
//! published test vectors (FIPS 180 SHA examples, RFC 4231 HMAC-SHA-256) and RustCrypto
//! (`sha2`, `hmac`, `aes-gcm`, `p256`).
//!
//! SoftHSM is one instance per process: the tests of this binary share one throwaway
//! token and one logged-in session with the keys, and take turns. Keys are made through
//! the raw function table (key generation in the safe API is another module's job).

use std::sync::OnceLock;
use std::time::Duration;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use hmac::Mac;
use p256::ecdsa::signature::hazmat::PrehashVerifier;
use p256::ecdsa::signature::Verifier;
use pkcs11::{
    Error, GcmParams, Mechanism, MechanismType, Mgf, OaepParams, ObjectHandle, Pin, Pkcs11,
    PssParams, Rv, Session, UserType,
};
use pkcs11_sys as sys;
use pkcs11_tests::{shared_softhsm_token, softhsm_module, take_turn, Watchdog};
use sha2::Digest;

/// The AES-256 key (a session object made from this known value, so that `aes-gcm` can
/// check the token's results).
const AES_KEY: [u8; 32] = *b"0123456789abcdef0123456789ABCDEF";
/// RFC 4231 test cases 6 and 7 use this 131-byte key.
const HMAC_KEY: [u8; 131] = [0xaa; 131];
/// DER of the P-256 OID (1.2.840.10045.3.1.7).
const P256_OID: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of the Ed25519 OID (1.3.101.112).
const ED25519_OID: [u8; 5] = [0x06, 0x03, 0x2b, 0x65, 0x70];
/// The `DigestInfo` prefix of a SHA-256 hash (PKCS #1 v1.5).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

fn hex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
        .collect()
}

fn sha256(data: &[u8]) -> Vec<u8> {
    sha2::Sha256::digest(data).to_vec()
}

/// The length a "buffer too small" error names.
fn needed(error: &Error) -> usize {
    let text = error.to_string();
    assert!(
        matches!(error, Error::InvalidInput { .. }) && text.contains("bytes needed"),
        "not a too-small error: {text}"
    );
    let before = text.split(" bytes needed").next().unwrap();
    before.rsplit(' ').next().unwrap().parse().unwrap()
}

/// Calls a function of the session's raw table, panicking with its name if the slot is
/// NULL; evaluates to the `CK_RV`.
macro_rules! raw_call {
    ($session:expr, $function:ident($($arg:expr),* $(,)?)) => {{
        let function = $session
            .pkcs11()
            .raw_module()
            .functions()
            .$function
            .unwrap_or_else(|| panic!("{} is NULL in SoftHSM's table", stringify!($function)));
        // SAFETY: each call site passes the session's own handle and pointers to live,
        // correctly typed values (templates whose values outlive the call, writable
        // handles and lengths) as the function's specification requires.
        unsafe { function($($arg),*) }
    }};
}

fn ok(function: &str, rv: sys::CK_RV) {
    assert_eq!(rv, sys::CKR_OK, "{function} returned {}", Rv::from_raw(rv));
}

/// A template attribute pointing at `value`.
fn attr<T>(kind: sys::CK_ATTRIBUTE_TYPE, value: &T) -> sys::CK_ATTRIBUTE {
    sys::CK_ATTRIBUTE {
        type_: kind,
        pValue: std::ptr::from_ref(value).cast_mut().cast(),
        ulValueLen: std::mem::size_of::<T>() as sys::CK_ULONG,
    }
}

/// A template attribute pointing at the bytes `value`.
fn attr_bytes(kind: sys::CK_ATTRIBUTE_TYPE, value: &[u8]) -> sys::CK_ATTRIBUTE {
    sys::CK_ATTRIBUTE {
        type_: kind,
        pValue: value.as_ptr().cast_mut().cast(),
        ulValueLen: value.len() as sys::CK_ULONG,
    }
}

const TRUE: sys::CK_BBOOL = sys::CK_TRUE;
const FALSE: sys::CK_BBOOL = sys::CK_FALSE;

/// A session secret key with a known value; `usage` are the CKA_ flags to set true.
fn create_secret(
    session: &Session,
    key_type: sys::CK_KEY_TYPE,
    value: &[u8],
    usage: &[sys::CK_ATTRIBUTE_TYPE],
) -> ObjectHandle {
    let class = sys::CKO_SECRET_KEY;
    let mut template = vec![
        attr(sys::CKA_CLASS, &class),
        attr(sys::CKA_KEY_TYPE, &key_type),
        attr(sys::CKA_TOKEN, &FALSE),
        attr(sys::CKA_SENSITIVE, &FALSE),
        attr(sys::CKA_EXTRACTABLE, &TRUE),
        attr_bytes(sys::CKA_VALUE, value),
    ];
    template.extend(usage.iter().map(|&kind| attr(kind, &TRUE)));
    let mut handle = 0;
    let rv = raw_call!(
        session,
        C_CreateObject(
            session.handle(),
            template.as_mut_ptr(),
            template.len() as sys::CK_ULONG,
            &mut handle,
        )
    );
    ok("C_CreateObject", rv);
    ObjectHandle(handle)
}

/// A session key pair: `(public, private)`.
fn generate_pair(
    session: &Session,
    mechanism: sys::CK_MECHANISM_TYPE,
    mut public: Vec<sys::CK_ATTRIBUTE>,
    mut private: Vec<sys::CK_ATTRIBUTE>,
) -> sys::CK_RV {
    let mut mechanism = sys::CK_MECHANISM {
        mechanism,
        pParameter: std::ptr::null_mut(),
        ulParameterLen: 0,
    };
    public.push(attr(sys::CKA_TOKEN, &FALSE));
    private.push(attr(sys::CKA_TOKEN, &FALSE));
    let (mut public_handle, mut private_handle) = (0, 0);
    let rv = raw_call!(
        session,
        C_GenerateKeyPair(
            session.handle(),
            &mut mechanism,
            public.as_mut_ptr(),
            public.len() as sys::CK_ULONG,
            private.as_mut_ptr(),
            private.len() as sys::CK_ULONG,
            &mut public_handle,
            &mut private_handle,
        )
    );
    LAST_PAIR.with(|last| last.set((public_handle, private_handle)));
    rv
}

thread_local! {
    static LAST_PAIR: std::cell::Cell<(sys::CK_OBJECT_HANDLE, sys::CK_OBJECT_HANDLE)> =
        const { std::cell::Cell::new((0, 0)) };
}

fn last_pair() -> KeyPair {
    let (public, private) = LAST_PAIR.with(std::cell::Cell::get);
    KeyPair {
        public: ObjectHandle(public),
        private: ObjectHandle(private),
    }
}

/// An attribute's value, read with the two-call idiom.
fn get_attribute(session: &Session, object: ObjectHandle, kind: sys::CK_ATTRIBUTE_TYPE) -> Vec<u8> {
    let mut template = [sys::CK_ATTRIBUTE {
        type_: kind,
        pValue: std::ptr::null_mut(),
        ulValueLen: 0,
    }];
    let rv = raw_call!(
        session,
        C_GetAttributeValue(session.handle(), object.raw(), template.as_mut_ptr(), 1)
    );
    ok("C_GetAttributeValue", rv);
    let mut value = vec![0u8; template[0].ulValueLen as usize];
    template[0].pValue = value.as_mut_ptr().cast();
    let rv = raw_call!(
        session,
        C_GetAttributeValue(session.handle(), object.raw(), template.as_mut_ptr(), 1)
    );
    ok("C_GetAttributeValue", rv);
    value.truncate(template[0].ulValueLen as usize);
    value
}

#[derive(Debug, Clone, Copy)]
struct KeyPair {
    public: ObjectHandle,
    private: ObjectHandle,
}

/// The shared session and its keys.
struct Fixture {
    session: Session,
    aes: ObjectHandle,
    hmac: ObjectHandle,
    ec: KeyPair,
    /// The P-256 public key, as `p256` sees it.
    ec_verifier: p256::ecdsa::VerifyingKey,
    rsa: KeyPair,
    ed: KeyPair,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let token = shared_softhsm_token("safe-crypto");
        let p11 = Pkcs11::open(softhsm_module()).expect("open SoftHSM");
        let slot = p11.slots_with_token().unwrap().into_iter().next().unwrap();
        let session = slot.open_rw_session().unwrap();
        session
            .login(UserType::User, &Pin::from(token.user_pin))
            .unwrap();

        let aes = create_secret(
            &session,
            sys::CKK_AES,
            &AES_KEY,
            &[sys::CKA_ENCRYPT, sys::CKA_DECRYPT],
        );
        let hmac = create_secret(
            &session,
            sys::CKK_GENERIC_SECRET,
            &HMAC_KEY,
            &[sys::CKA_SIGN, sys::CKA_VERIFY],
        );

        let rv = generate_pair(
            &session,
            sys::CKM_EC_KEY_PAIR_GEN,
            vec![
                attr_bytes(sys::CKA_EC_PARAMS, &P256_OID),
                attr(sys::CKA_VERIFY, &TRUE),
            ],
            vec![attr(sys::CKA_SIGN, &TRUE)],
        );
        ok("C_GenerateKeyPair (EC)", rv);
        let ec = last_pair();
        // CKA_EC_POINT is a DER OCTET STRING around the uncompressed point.
        let point = get_attribute(&session, ec.public, sys::CKA_EC_POINT);
        assert_eq!(point[..2], [0x04, 0x41], "DER OCTET STRING of 65 bytes");
        let ec_verifier = p256::ecdsa::VerifyingKey::from_sec1_bytes(&point[2..]).unwrap();

        let bits: sys::CK_ULONG = 2048;
        let exponent = [1u8, 0, 1];
        let rv = generate_pair(
            &session,
            sys::CKM_RSA_PKCS_KEY_PAIR_GEN,
            vec![
                attr(sys::CKA_MODULUS_BITS, &bits),
                attr_bytes(sys::CKA_PUBLIC_EXPONENT, &exponent),
                attr(sys::CKA_VERIFY, &TRUE),
                attr(sys::CKA_ENCRYPT, &TRUE),
            ],
            vec![attr(sys::CKA_SIGN, &TRUE), attr(sys::CKA_DECRYPT, &TRUE)],
        );
        ok("C_GenerateKeyPair (RSA)", rv);
        let rsa = last_pair();

        let rv = generate_pair(
            &session,
            sys::CKM_EC_EDWARDS_KEY_PAIR_GEN,
            vec![
                attr_bytes(sys::CKA_EC_PARAMS, &ED25519_OID),
                attr(sys::CKA_VERIFY, &TRUE),
            ],
            vec![attr(sys::CKA_SIGN, &TRUE)],
        );
        ok(
            "C_GenerateKeyPair (Ed25519: SoftHSM must be built with EdDSA support)",
            rv,
        );
        let ed = last_pair();

        Fixture {
            session,
            aes,
            hmac,
            ec,
            ec_verifier,
            rsa,
            ed,
        }
    })
}

fn gcm_reference(iv: &[u8], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&AES_KEY).unwrap();
    cipher
        .encrypt(
            &aes_gcm::Nonce::from(<[u8; 12]>::try_from(iv).unwrap()),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap()
}

fn hmac_reference(data: &[u8]) -> Vec<u8> {
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&HMAC_KEY).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn random_bytes_fill_buffers_and_seeding_is_accepted() {
    let _turn = take_turn();
    let f = fixture();
    let a = f.session.generate_random(32).unwrap();
    let b = f.session.generate_random(32).unwrap();
    assert_eq!(a.len(), 32);
    assert_ne!(a, b, "two random draws differ");
    let mut buffer = [0u8; 64];
    f.session.generate_random_into(&mut buffer).unwrap();
    assert_ne!(buffer, [0u8; 64]);
    f.session.seed_random(b"some extra entropy").unwrap();
}

#[test]
fn sha_digests_match_the_fips_180_examples_and_sha2() {
    let _turn = take_turn();
    let s = &fixture().session;
    let abc = b"abc";
    let cases: [(Mechanism<'_>, &str); 5] = [
        (Mechanism::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
        (
            Mechanism::Sha224,
            "23097d223405d8228642a477bda255b32aadbce4bda0b3f7e36c9da7",
        ),
        (
            Mechanism::Sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            Mechanism::Sha384,
            "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed\
             8086072ba1e7cc2358baeca134c825a7",
        ),
        (
            Mechanism::Sha512,
            "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a\
             2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
        ),
    ];
    for (mechanism, expected) in &cases {
        assert_eq!(
            s.digest(mechanism, abc).unwrap(),
            hex(expected),
            "{mechanism:?}"
        );
    }
    assert_eq!(
        s.digest(&Mechanism::Sha256, b"").unwrap(),
        hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    );
    let two_blocks = b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    assert_eq!(
        s.digest(&Mechanism::Sha256, two_blocks).unwrap(),
        hex("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
    );
    // And against an independent implementation, on data the token made up.
    let data = s.generate_random(1000).unwrap();
    assert_eq!(s.digest(&Mechanism::Sha256, &data).unwrap(), sha256(&data));
    assert_eq!(
        s.digest(&Mechanism::Sha512, &data).unwrap(),
        sha2::Sha512::digest(&data).to_vec()
    );
    // A typed mechanism and its raw twin are the same thing to the module.
    assert_eq!(
        s.digest(&Mechanism::plain(sys::CKM_SHA256), &data).unwrap(),
        sha256(&data)
    );
}

#[test]
fn rule_15_digest_into_with_exact_larger_and_too_small_buffers() {
    let _turn = take_turn();
    let s = &fixture().session;
    let mut exact = [0u8; 32];
    assert_eq!(
        s.digest_into(&Mechanism::Sha256, b"abc", &mut exact)
            .unwrap(),
        32
    );
    assert_eq!(exact.to_vec(), sha256(b"abc"));
    let mut larger = [0u8; 64];
    assert_eq!(
        s.digest_into(&Mechanism::Sha256, b"abc", &mut larger)
            .unwrap(),
        32
    );
    assert_eq!(larger[..32], exact);

    let mut small = [0u8; 31];
    let error = s
        .digest_into(&Mechanism::Sha256, b"abc", &mut small)
        .unwrap_err();
    assert_eq!(needed(&error), 32, "{error}");
    assert!(error.to_string().contains("C_Digest"), "{error}");
    // The digest was ended cleanly: the session goes on.
    assert_eq!(
        s.digest(&Mechanism::Sha256, b"abc").unwrap(),
        sha256(b"abc")
    );
}

#[test]
fn rule_16_digest_stream_equals_single_digest_and_digests_a_key_value() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let data = s.generate_random(777).unwrap();
    let mechanism = Mechanism::Sha256;
    let mut stream = s.digest_stream(&mechanism).unwrap();
    for chunk in data.chunks(100) {
        stream.update(chunk).unwrap();
    }
    assert!(stream.is_running());
    assert_eq!(
        stream.finish().unwrap(),
        s.digest(&mechanism, &data).unwrap()
    );

    // C_DigestKey feeds the key's value, which never leaves the token.
    let mut stream = s.digest_stream(&mechanism).unwrap();
    stream.update(b"prefix").unwrap();
    stream.update_key(f.aes).unwrap();
    let mut expected = b"prefix".to_vec();
    expected.extend_from_slice(&AES_KEY);
    // finish_into: too small keeps the digest active for a retry.
    let mut small = [0u8; 8];
    let error = stream.finish_into(&mut small).unwrap_err();
    assert_eq!(needed(&error), 32);
    assert!(stream.is_running());
    let mut out = [0u8; 32];
    assert_eq!(stream.finish_into(&mut out).unwrap(), 32);
    assert_eq!(out.to_vec(), sha256(&expected));
    assert!(!stream.is_running());
    // A finished stream refuses more work without calling the module.
    let error = stream.update(b"more").unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error}");
    drop(stream);
    assert_eq!(s.digest(&mechanism, b"abc").unwrap(), sha256(b"abc"));
}

#[test]
fn hmac_sha256_matches_rfc_4231_and_verifies() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let case6 = b"Test Using Larger Than Block-Size Key - Hash Key First";
    let case7 = b"This is a test using a larger than block-size key and a larger than \
                  block-size data. The key needs to be hashed before being used by the \
                  HMAC algorithm.";
    let mac6 = s.sign(&Mechanism::Sha256Hmac, f.hmac, case6).unwrap();
    assert_eq!(
        mac6,
        hex("60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    );
    let mac7 = s.sign(&Mechanism::Sha256Hmac, f.hmac, case7).unwrap();
    assert_eq!(
        mac7,
        hex("9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2")
    );
    assert_eq!(mac7, hmac_reference(case7));

    assert!(s
        .verify(&Mechanism::Sha256Hmac, f.hmac, case6, &mac6)
        .unwrap());
    assert!(!s
        .verify(&Mechanism::Sha256Hmac, f.hmac, case7, &mac6)
        .unwrap());
    assert!(
        !s.verify(&Mechanism::Sha256Hmac, f.hmac, case6, &mac6[..16])
            .unwrap(),
        "a short MAC is Ok(false), not an error"
    );

    let mechanism = Mechanism::Sha256Hmac;
    let mut stream = s.sign_stream(&mechanism, f.hmac).unwrap();
    for chunk in case7.chunks(13) {
        stream.update(chunk).unwrap();
    }
    assert_eq!(stream.finish().unwrap(), mac7);
    let mut stream = s.verify_stream(&mechanism, f.hmac).unwrap();
    stream.update(&case7[..50]).unwrap();
    stream.update(&case7[50..]).unwrap();
    assert!(stream.finish(&mac7).unwrap());
    let mut stream = s.verify_stream(&mechanism, f.hmac).unwrap();
    stream.update(&case7[..50]).unwrap();
    assert!(!stream.finish(&mac7).unwrap());
}

#[test]
fn rule_27_28_aes_gcm_round_trip_agrees_with_aes_gcm_and_detects_tampering() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let iv = s.generate_random(12).unwrap();
    let aad = b"header";
    let plaintext = b"attack at dawn, bring the good biscuits".to_vec();
    let mechanism = Mechanism::AesGcm(GcmParams::new(&iv, aad, 128).unwrap());

    let ciphertext = s.encrypt(&mechanism, f.aes, &plaintext).unwrap();
    assert_eq!(ciphertext.len(), plaintext.len() + 16);
    assert_eq!(ciphertext, gcm_reference(&iv, aad, &plaintext));

    let decrypted = s.decrypt(&mechanism, f.aes, &ciphertext).unwrap();
    assert_eq!(&*decrypted, &plaintext[..]);
    assert!(
        !format!("{decrypted:?}").contains("attack"),
        "redacted Debug"
    );

    // What aes-gcm encrypted, the token decrypts.
    let iv2 = [0x42u8; 12];
    let theirs = gcm_reference(&iv2, b"", b"from RustCrypto");
    let mechanism2 = Mechanism::AesGcm(GcmParams::new(&iv2, b"", 128).unwrap());
    assert_eq!(
        &*s.decrypt(&mechanism2, f.aes, &theirs).unwrap(),
        b"from RustCrypto"
    );

    // A flipped bit fails authentication, as an error.
    let mut tampered = ciphertext.clone();
    tampered[3] ^= 1;
    // (SoftHSM 2.6 answers CKR_GENERAL_ERROR where the standard suggests
    // CKR_ENCRYPTED_DATA_INVALID or CKR_AEAD_DECRYPT_FAILED.)
    let error = s.decrypt(&mechanism, f.aes, &tampered).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Module {
                function: "C_Decrypt",
                rv: Rv::EncryptedDataInvalid | Rv::AeadDecryptFailed | Rv::GeneralError
            }
        ),
        "{error}"
    );
    // A wrong AAD too.
    let other = Mechanism::AesGcm(GcmParams::new(&iv, b"other", 128).unwrap());
    assert!(s.decrypt(&other, f.aes, &ciphertext).is_err());

    // Multipart, with the parameters borrowed by the stream for its whole life.
    let mut stream = s.encrypt_stream(&mechanism, f.aes).unwrap();
    let mut streamed = Vec::new();
    for chunk in plaintext.chunks(7) {
        streamed.extend(stream.update(chunk).unwrap());
    }
    streamed.extend(stream.finish().unwrap());
    assert_eq!(streamed, ciphertext);
    let mut stream = s.decrypt_stream(&mechanism, f.aes).unwrap();
    let mut recovered = Vec::new();
    for chunk in ciphertext.chunks(10) {
        recovered.extend_from_slice(&stream.update(chunk).unwrap());
    }
    recovered.extend_from_slice(&stream.finish().unwrap());
    assert_eq!(recovered, plaintext);

    // The session is usable after the failures.
    assert_eq!(
        s.encrypt(&mechanism, f.aes, &plaintext).unwrap(),
        ciphertext
    );
}

#[test]
fn aes_cbc_pad_stream_of_several_updates_equals_single_part() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let mechanism = Mechanism::AesCbcPad { iv: [7; 16] };
    let plaintext: Vec<u8> = (0..100u8).collect();
    let ciphertext = s.encrypt(&mechanism, f.aes, &plaintext).unwrap();
    assert_eq!(ciphertext.len(), 112, "100 bytes padded to 7 blocks");

    let mut stream = s.encrypt_stream(&mechanism, f.aes).unwrap();
    let mut streamed = Vec::new();
    for range in [0..1, 1..16, 16..33, 33..73, 73..100] {
        streamed.extend(stream.update(&plaintext[range]).unwrap());
    }
    streamed.extend(stream.finish().unwrap());
    assert_eq!(streamed, ciphertext);

    // The same with the allocation-free forms.
    let mut out = [0u8; 128];
    let mut written = 0;
    let mut stream = s.encrypt_stream(&mechanism, f.aes).unwrap();
    for chunk in plaintext.chunks(30) {
        written += stream.update_into(chunk, &mut out[written..]).unwrap();
    }
    // A too-small buffer consumes nothing: the update can be retried.
    let error = stream.finish_into(&mut [0u8; 3]).unwrap_err();
    assert_eq!(needed(&error), 16);
    written += stream.finish_into(&mut out[written..]).unwrap();
    drop(stream);
    assert_eq!(&out[..written], &ciphertext[..]);

    let mut stream = s.decrypt_stream(&mechanism, f.aes).unwrap();
    let mut recovered = Vec::new();
    for chunk in ciphertext.chunks(20) {
        recovered.extend_from_slice(&stream.update(chunk).unwrap());
    }
    recovered.extend_from_slice(&stream.finish().unwrap());
    assert_eq!(recovered, plaintext);
    assert_eq!(
        &*s.decrypt(&mechanism, f.aes, &ciphertext).unwrap(),
        &plaintext[..]
    );

    // Bad padding is an error, and the session goes on.
    let mut bad = ciphertext.clone();
    bad[100] ^= 0xff;
    assert!(s.decrypt(&mechanism, f.aes, &bad).is_err());
    assert_eq!(
        s.encrypt(&mechanism, f.aes, &plaintext).unwrap(),
        ciphertext
    );
}

#[test]
fn rule_15_34_encrypt_and_decrypt_into_with_exact_and_too_small_buffers() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let mechanism = Mechanism::AesCbcPad { iv: [1; 16] };
    let plaintext = [9u8; 40];
    let ciphertext = s.encrypt(&mechanism, f.aes, &plaintext).unwrap();

    let mut exact = [0u8; 48];
    assert_eq!(
        s.encrypt_into(&mechanism, f.aes, &plaintext, &mut exact)
            .unwrap(),
        48
    );
    assert_eq!(exact.to_vec(), ciphertext);
    let error = s
        .encrypt_into(&mechanism, f.aes, &plaintext, &mut [0u8; 47])
        .unwrap_err();
    assert_eq!(needed(&error), 48);

    // SoftHSM asks for the ciphertext's length before it knows the padding.
    let mut out = [0u8; 48];
    let len = s
        .decrypt_into(&mechanism, f.aes, &ciphertext, &mut out)
        .unwrap();
    assert_eq!(&out[..len], &plaintext[..]);
    let mut small = [0x55u8; 20];
    let error = s
        .decrypt_into(&mechanism, f.aes, &ciphertext, &mut small)
        .unwrap_err();
    assert!(needed(&error) >= 40, "{error}");
    assert_eq!(small, [0u8; 20], "a failed decrypt_into wipes the buffer");

    // Every failed attempt ended its operation: the session goes on.
    assert_eq!(
        &*s.decrypt(&mechanism, f.aes, &ciphertext).unwrap(),
        &plaintext
    );
}

#[test]
fn ecdsa_signatures_verify_on_the_token_and_with_p256() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let message = b"a message to sign";
    let hash = sha256(message);

    let signature = s.sign(&Mechanism::Ecdsa, f.ec.private, &hash).unwrap();
    assert_eq!(signature.len(), 64, "r || s");
    assert!(s
        .verify(&Mechanism::Ecdsa, f.ec.public, &hash, &signature)
        .unwrap());
    let parsed = p256::ecdsa::Signature::from_slice(&signature).unwrap();
    f.ec_verifier.verify_prehash(&hash, &parsed).unwrap();
    let other = sha256(b"another message");
    assert!(!s
        .verify(&Mechanism::Ecdsa, f.ec.public, &other, &signature)
        .unwrap());
    assert!(
        !s.verify(&Mechanism::Ecdsa, f.ec.public, &hash, &signature[..63])
            .unwrap(),
        "a signature of the wrong length is Ok(false)"
    );

    // CKM_ECDSA_SHA256 hashes on the token; SoftHSM 2.6 does not offer it (2.7 does).
    // The token's mechanism list decides which outcome is required: listed, it must sign
    // and verify; not listed, C_SignInit must refuse it with exactly CKR_MECHANISM_INVALID.
    let listed = s
        .pkcs11()
        .slot(s.slot_id())
        .mechanisms()
        .unwrap()
        .contains(&MechanismType::ECDSA_SHA256);
    let result = s.sign(&Mechanism::EcdsaSha256, f.ec.private, message);
    if listed {
        let signature = result.expect("CKM_ECDSA_SHA256 is listed, so it must sign");
        let parsed = p256::ecdsa::Signature::from_slice(&signature).unwrap();
        f.ec_verifier.verify(message, &parsed).unwrap();
        let mechanism = Mechanism::EcdsaSha256;
        let mut stream = s.verify_stream(&mechanism, f.ec.public).unwrap();
        stream.update(&message[..5]).unwrap();
        stream.update(&message[5..]).unwrap();
        assert!(stream.finish(&signature).unwrap());
    } else {
        let error = result.expect_err("CKM_ECDSA_SHA256 is not listed, so it must be refused");
        assert_eq!(error.rv(), Some(Rv::MechanismInvalid), "{error}");
        assert_eq!(error.function(), Some("C_SignInit"), "{error}");
    }

    // sign_into: exact, then too small (the signature is ended, the session goes on).
    let mut out = [0u8; 64];
    assert_eq!(
        s.sign_into(&Mechanism::Ecdsa, f.ec.private, &hash, &mut out)
            .unwrap(),
        64
    );
    assert!(s
        .verify(&Mechanism::Ecdsa, f.ec.public, &hash, &out)
        .unwrap());
    let error = s
        .sign_into(&Mechanism::Ecdsa, f.ec.private, &hash, &mut [0u8; 10])
        .unwrap_err();
    assert_eq!(needed(&error), 64);
    let again = s.sign(&Mechanism::Ecdsa, f.ec.private, &hash).unwrap();
    assert!(s
        .verify(&Mechanism::Ecdsa, f.ec.public, &hash, &again)
        .unwrap());
}

#[test]
fn eddsa_signatures_verify_and_reject_a_modified_message() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let message = b"ed25519 message";
    let signature = s.sign(&Mechanism::Eddsa, f.ed.private, message).unwrap();
    assert_eq!(signature.len(), 64);
    assert!(s
        .verify(&Mechanism::Eddsa, f.ed.public, message, &signature)
        .unwrap());
    assert!(!s
        .verify(
            &Mechanism::Eddsa,
            f.ed.public,
            b"ed25519 messagE",
            &signature
        )
        .unwrap());
    // Ed25519 is deterministic.
    assert_eq!(
        s.sign(&Mechanism::Eddsa, f.ed.private, message).unwrap(),
        signature
    );
}

#[test]
fn rule_27_rsa_pkcs_and_pss_signatures_verify_and_reject_modified_messages() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let message = b"an RSA message";
    let (private, public) = (f.rsa.private, f.rsa.public);

    let signature = s.sign(&Mechanism::Sha256RsaPkcs, private, message).unwrap();
    assert_eq!(signature.len(), 256);
    assert!(s
        .verify(&Mechanism::Sha256RsaPkcs, public, message, &signature)
        .unwrap());
    assert!(!s
        .verify(
            &Mechanism::Sha256RsaPkcs,
            public,
            b"An RSA message",
            &signature
        )
        .unwrap());
    // CKM_RSA_PKCS over a DigestInfo gives the same (deterministic) signature.
    let mut digest_info = SHA256_DIGEST_INFO.to_vec();
    digest_info.extend(sha256(message));
    assert_eq!(
        s.sign(&Mechanism::RsaPkcs, private, &digest_info).unwrap(),
        signature
    );

    let pss = Mechanism::Sha256RsaPkcsPss(PssParams::sha256());
    let signature = s.sign(&pss, private, message).unwrap();
    assert!(s.verify(&pss, public, message, &signature).unwrap());
    assert!(!s.verify(&pss, public, b"other", &signature).unwrap());
    let mut flipped = signature.clone();
    flipped[10] ^= 0x80;
    assert!(!s.verify(&pss, public, message, &flipped).unwrap());
    // Raw PSS over the hash verifies the same signature.
    let raw_pss =
        Mechanism::RsaPkcsPss(PssParams::new(MechanismType::SHA256, Mgf::MGF1_SHA256, 32));
    assert!(s
        .verify(&raw_pss, public, &sha256(message), &signature)
        .unwrap());

    // Streams.
    let mut stream = s.sign_stream(&pss, private).unwrap();
    stream.update(b"an RSA ").unwrap();
    stream.update(b"message").unwrap();
    let mut out = vec![0u8; 256];
    let error = stream.finish_into(&mut out[..100]).unwrap_err();
    assert_eq!(needed(&error), 256);
    assert_eq!(stream.finish_into(&mut out).unwrap(), 256);
    drop(stream);
    let mut stream = s.verify_stream(&pss, public).unwrap();
    stream.update(message).unwrap();
    assert!(stream.finish(&out).unwrap());
}

#[test]
fn rule_16_27_rsa_oaep_round_trip_and_too_small_buffers_leave_the_session_usable() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let oaep = Mechanism::RsaPkcsOaep(OaepParams::sha1());
    let secret = b"session key material";
    let ciphertext = s.encrypt(&oaep, f.rsa.public, secret).unwrap();
    assert_eq!(ciphertext.len(), 256);
    let decrypted = s.decrypt(&oaep, f.rsa.private, &ciphertext).unwrap();
    assert_eq!(&*decrypted, secret);

    // RSA operations are single-part only in SoftHSM: `C_EncryptFinal` cannot end
    // them, so a too-small buffer must be handled by completing the operation.
    let error = s
        .encrypt_into(&oaep, f.rsa.public, secret, &mut [0u8; 100])
        .unwrap_err();
    assert_eq!(needed(&error), 256);
    let mut out = [0u8; 256];
    assert_eq!(
        s.encrypt_into(&oaep, f.rsa.public, secret, &mut out)
            .unwrap(),
        256
    );
    let mut small = [0u8; 8];
    let error = s
        .decrypt_into(&oaep, f.rsa.private, &out, &mut small)
        .unwrap_err();
    assert!(needed(&error) > 8, "{error}");
    assert_eq!(small, [0u8; 8]);
    let mut plain = [0u8; 256];
    let len = s
        .decrypt_into(&oaep, f.rsa.private, &out, &mut plain)
        .unwrap();
    assert_eq!(&plain[..len], secret);

    let mut tampered = ciphertext.clone();
    tampered[0] ^= 1;
    assert!(s.decrypt(&oaep, f.rsa.private, &tampered).is_err());
    assert_eq!(
        &*s.decrypt(&oaep, f.rsa.private, &ciphertext).unwrap(),
        secret
    );
}

#[test]
fn rule_16_a_dropped_half_fed_stream_leaves_the_session_usable() {
    let _turn = take_turn();
    let f = fixture();
    let s = &f.session;
    let cbc = Mechanism::AesCbcPad { iv: [3; 16] };
    let expected = s.encrypt(&cbc, f.aes, &[5u8; 50]).unwrap();

    let mut stream = s.encrypt_stream(&cbc, f.aes).unwrap();
    let _ = stream.update(&[5u8; 20]).unwrap();
    drop(stream);
    assert_eq!(s.encrypt(&cbc, f.aes, &[5u8; 50]).unwrap(), expected);

    let mut stream = s.decrypt_stream(&cbc, f.aes).unwrap();
    let _ = stream.update(&expected[..32]).unwrap();
    drop(stream);
    assert_eq!(&*s.decrypt(&cbc, f.aes, &expected).unwrap(), &[5u8; 50]);

    let iv = [1u8; 12];
    let gcm = Mechanism::AesGcm(GcmParams::new(&iv, b"", 128).unwrap());
    let mut stream = s.encrypt_stream(&gcm, f.aes).unwrap();
    let _ = stream.update(b"half").unwrap();
    drop(stream);
    assert_eq!(
        s.encrypt(&gcm, f.aes, b"whole").unwrap(),
        gcm_reference(&iv, b"", b"whole")
    );

    let mut stream = s.sign_stream(&Mechanism::Sha256Hmac, f.hmac).unwrap();
    stream.update(b"half").unwrap();
    drop(stream);
    assert_eq!(
        s.sign(&Mechanism::Sha256Hmac, f.hmac, b"whole").unwrap(),
        hmac_reference(b"whole")
    );

    let pss = Mechanism::Sha256RsaPkcsPss(PssParams::sha256());
    let mut stream = s.verify_stream(&pss, f.rsa.public).unwrap();
    stream.update(b"half").unwrap();
    drop(stream);
    let signature = s.sign(&pss, f.rsa.private, b"m").unwrap();
    assert!(s.verify(&pss, f.rsa.public, b"m", &signature).unwrap());

    let mut stream = s.digest_stream(&Mechanism::Sha256).unwrap();
    stream.update(b"half").unwrap();
    drop(stream);
    assert_eq!(
        s.digest(&Mechanism::Sha256, b"abc").unwrap(),
        sha256(b"abc")
    );

    // SoftHSM refuses the multi-part *Final of RSA streams with
    // CKR_FUNCTION_NOT_SUPPORTED and keeps them active: cancellation must still end them.
    let oaep = Mechanism::RsaPkcsOaep(OaepParams::sha1());
    let stream = s.encrypt_stream(&oaep, f.rsa.public).unwrap();
    drop(stream);
    let ciphertext = s
        .encrypt(&oaep, f.rsa.public, b"after a dropped RSA stream")
        .unwrap();
    let stream = s.decrypt_stream(&oaep, f.rsa.private).unwrap();
    drop(stream);
    // SoftHSM also refuses C_EncryptUpdate for RSA with CKR_FUNCTION_NOT_SUPPORTED and
    // keeps the operation: the guard must still cancel it when dropped.
    let mut stream = s.encrypt_stream(&oaep, f.rsa.public).unwrap();
    let refused = stream.update(b"x").unwrap_err();
    assert_eq!(
        refused.rv(),
        Some(pkcs11::Rv::FunctionNotSupported),
        "{refused}"
    );
    drop(stream);
    assert_eq!(
        &*s.decrypt(&oaep, f.rsa.private, &ciphertext).unwrap(),
        b"after a dropped RSA stream"
    );
    let pkcs = Mechanism::Sha256RsaPkcs;
    let mut stream = s.sign_stream(&pkcs, f.rsa.private).unwrap();
    stream.update(b"half").unwrap();
    drop(stream);
    let signature = s.sign(&pkcs, f.rsa.private, b"m").unwrap();
    assert!(s.verify(&pkcs, f.rsa.public, b"m", &signature).unwrap());
    assert!(s.is_usable());
}

#[test]
fn a_second_operation_of_the_same_kind_on_the_same_thread_is_operation_active() {
    let _turn = take_turn();
    let _watchdog = Watchdog::new("the same-thread conflict test", Duration::from_secs(30));
    let f = fixture();
    let s = &f.session;
    let cbc = Mechanism::AesCbcPad { iv: [4; 16] };
    let plaintext = [8u8; 32];
    let expected = s.encrypt(&cbc, f.aes, &plaintext).unwrap();

    let mut stream = s.encrypt_stream(&cbc, f.aes).unwrap();
    let mut streamed = stream.update(&plaintext[..10]).unwrap();
    let error = s.encrypt_stream(&cbc, f.aes).unwrap_err();
    assert!(
        matches!(
            error,
            Error::OperationActive {
                active: "an encryption",
                requested: "an encryption"
            }
        ),
        "{error:?}"
    );
    let error = s.encrypt(&cbc, f.aes, &plaintext).unwrap_err();
    assert!(matches!(error, Error::OperationActive { .. }), "{error:?}");
    let error = s
        .encrypt_into(&cbc, f.aes, &plaintext, &mut [0u8; 64])
        .unwrap_err();
    assert!(matches!(error, Error::OperationActive { .. }), "{error:?}");

    // Another thread waits for the stream instead of interleaving with it.
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::channel();
        let (cbc, plaintext) = (&cbc, &plaintext);
        scope.spawn(move || {
            sender.send(s.encrypt(cbc, f.aes, plaintext)).unwrap();
        });
        assert!(
            receiver.recv_timeout(Duration::from_millis(200)).is_err(),
            "the other thread must wait while the stream holds the session"
        );
        // The refused calls did not disturb the stream.
        streamed.extend(stream.update(&plaintext[10..]).unwrap());
        streamed.extend(stream.finish().unwrap());
        let theirs = receiver
            .recv_timeout(Duration::from_secs(20))
            .expect("the waiting thread runs once the stream is finished");
        assert_eq!(theirs.unwrap(), expected);
    });
    assert_eq!(streamed, expected);
}

#[test]
fn rule_09_eight_threads_share_one_logged_in_session() {
    let _turn = take_turn();
    let _watchdog = Watchdog::new("the 8-thread shared-session test", Duration::from_secs(60));
    let f = fixture();
    let s = &f.session;
    let cbc = Mechanism::AesCbcPad { iv: [2; 16] };
    let data: Vec<u8> = (0..200u32).map(|i| (i * 7) as u8).collect();
    let cbc_expected = s.encrypt(&cbc, f.aes, &data).unwrap();
    let digest_expected = sha256(&data);
    let mac_expected = hmac_reference(&data);

    std::thread::scope(|scope| {
        for thread in 0..8u32 {
            let (cbc, data) = (&cbc, &data);
            let (cbc_expected, digest_expected, mac_expected) =
                (&cbc_expected, &digest_expected, &mac_expected);
            scope.spawn(move || {
                for i in 0..200u32 {
                    match (thread + i) % 8 {
                        0 => assert_eq!(
                            &s.digest(&Mechanism::Sha256, data).unwrap(),
                            digest_expected
                        ),
                        1 => {
                            let mechanism = Mechanism::Sha256;
                            let mut stream = s.digest_stream(&mechanism).unwrap();
                            for chunk in data.chunks(64) {
                                stream.update(chunk).unwrap();
                            }
                            assert_eq!(&stream.finish().unwrap(), digest_expected);
                        }
                        2 => assert_eq!(
                            &s.sign(&Mechanism::Sha256Hmac, f.hmac, data).unwrap(),
                            mac_expected
                        ),
                        3 => {
                            let mut stream = s.encrypt_stream(cbc, f.aes).unwrap();
                            let mut out = Vec::new();
                            for chunk in data.chunks(50) {
                                out.extend(stream.update(chunk).unwrap());
                            }
                            out.extend(stream.finish().unwrap());
                            assert_eq!(&out, cbc_expected);
                        }
                        4 => {
                            let mut stream = s.decrypt_stream(cbc, f.aes).unwrap();
                            let mut out = Vec::new();
                            for chunk in cbc_expected.chunks(48) {
                                out.extend_from_slice(&stream.update(chunk).unwrap());
                            }
                            out.extend_from_slice(&stream.finish().unwrap());
                            assert_eq!(&out, data);
                        }
                        5 => {
                            let mut iv = [0u8; 12];
                            iv[..4].copy_from_slice(&thread.to_be_bytes());
                            iv[4..8].copy_from_slice(&i.to_be_bytes());
                            let gcm = Mechanism::AesGcm(GcmParams::new(&iv, b"aad", 128).unwrap());
                            let sealed = s.encrypt(&gcm, f.aes, data).unwrap();
                            let opened = s.decrypt(&gcm, f.aes, &sealed).unwrap();
                            assert_eq!(&*opened, &data[..]);
                        }
                        6 => {
                            let hash = digest_expected;
                            let signature = s.sign(&Mechanism::Ecdsa, f.ec.private, hash).unwrap();
                            assert!(s
                                .verify(&Mechanism::Ecdsa, f.ec.public, hash, &signature)
                                .unwrap());
                        }
                        _ => {
                            // A stream abandoned half-way, then a single-part call.
                            let mut stream = s.encrypt_stream(cbc, f.aes).unwrap();
                            let _ = stream.update(&data[..40]).unwrap();
                            drop(stream);
                            let mut out = [0u8; 256];
                            let len = s.encrypt_into(cbc, f.aes, data, &mut out).unwrap();
                            assert_eq!(&out[..len], &cbc_expected[..]);
                        }
                    }
                }
            });
        }
    });
    assert!(s.is_usable());
}
