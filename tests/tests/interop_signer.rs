//! Token keys as RustCrypto signers (`pkcs11::signer`, feature `rustcrypto`) on both real
//! modules: every signature the signers return is checked by the matching RustCrypto
//! verifier built from the public key read independently from the token's public-key
//! object (`CKA_EC_POINT`, `CKA_MODULUS` / `CKA_PUBLIC_EXPONENT`), and a message with one
//! bit flipped must fail. RSA PKCS #1 v1.5 is deterministic, so the signer's signature
//! (Rust-side hash and `DigestInfo`, `CKM_RSA_PKCS`) must also equal, byte for byte, the
//! token's own `CKM_SHA*_RSA_PKCS` signature.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use p256::ecdsa::signature::hazmat::{PrehashSigner, PrehashVerifier};
use p256::ecdsa::signature::{DigestSigner, Keypair, Signer, Verifier};
use pkcs11::signer::{
    Ed25519SigningKey, KeyAlgorithm, P256SigningKey, P384SigningKey, PublicKey, RsaDigest,
    RsaPkcs1v15SigningKey, RsaPssSigningKey, SessionSource, TokenKey,
};
use pkcs11::{
    ffi, Attribute, AttributeType, Error, Mechanism, MechanismType, ObjectHandle, Pin, Session,
    SessionPool, UserType,
};
use pkcs11_tests::interop::{bytes_of, ec_point, ED25519_PARAMS, P256_PARAMS, P384_PARAMS};
use pkcs11_tests::modules::{each_module, TestToken};
use pkcs11_tests::Watchdog;
use sha2::Digest;

/// The messages every test signs: empty, short, 256 bytes, several kilobytes.
fn messages() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"signer".to_vec(),
        (0..=255u8).collect(),
        (0..5000u32)
            .map(|i| (i.wrapping_mul(13) + 5) as u8)
            .collect(),
    ]
}

/// `data` with one bit flipped (or one byte added when it is empty).
fn altered(data: &[u8]) -> Vec<u8> {
    let mut out = data.to_vec();
    match out.last_mut() {
        Some(last) => *last ^= 0x10,
        None => out.push(0),
    }
    out
}

/// A label no other test of this process uses.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "h8-{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A session key pair made by the token, labelled `label` and with `CKA_ID` = `id` on
/// both halves (when given): (public, private).
fn pair(
    token: &TestToken,
    session: &Session,
    mechanism: &Mechanism<'_>,
    public: &[Attribute],
    label: &str,
    id: Option<&[u8]>,
) -> (ObjectHandle, ObjectHandle) {
    let mut common = vec![Attribute::Token(false), Attribute::Label(label.to_owned())];
    if let Some(id) = id {
        common.push(Attribute::Id(id.to_vec()));
    }
    let mut public_template = common.clone();
    public_template.push(Attribute::Verify(true));
    public_template.extend_from_slice(public);
    let mut private_template = common;
    private_template.extend([
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
    ]);
    session
        .generate_key_pair(mechanism, &public_template, &private_template)
        .unwrap_or_else(|e| {
            panic!(
                "{}: generating a {:?} key pair: {e}",
                token.module.name(),
                mechanism.mechanism_type()
            )
        })
}

fn ec_pair(
    token: &TestToken,
    session: &Session,
    params: &[u8],
    label: &str,
) -> (ObjectHandle, ObjectHandle) {
    let mechanism = if params == ED25519_PARAMS {
        Mechanism::EcEdwardsKeyPairGen
    } else {
        Mechanism::EcKeyPairGen
    };
    pair(
        token,
        session,
        &mechanism,
        &[Attribute::EcParams(params.to_vec())],
        label,
        Some(label.as_bytes()),
    )
}

fn rsa_pair(token: &TestToken, session: &Session, label: &str) -> (ObjectHandle, ObjectHandle) {
    pair(
        token,
        session,
        &Mechanism::RsaPkcsKeyPairGen,
        &[
            Attribute::ModulusBits(2048),
            Attribute::PublicExponent(vec![1, 0, 1]),
        ],
        label,
        Some(label.as_bytes()),
    )
}

/// The RustCrypto public key of RSA public-key object `public`.
fn rsa_public(token: &TestToken, session: &Session, public: ObjectHandle) -> rsa::RsaPublicKey {
    rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&bytes_of(token, session, public, AttributeType::Modulus)),
        rsa::BigUint::from_bytes_be(&bytes_of(
            token,
            session,
            public,
            AttributeType::PublicExponent,
        )),
    )
    .expect("the token's RSA public key")
}

macro_rules! ecdsa_case {
    ($test:ident, $krate:ident, $key:ident, $params:expr, $point_len:expr, $digest:ty, $algorithm:ident) => {
        #[test]
        fn $test() {
            each_module(stringify!($test), |token| {
                if !token.require(
                    stringify!($test),
                    &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDSA],
                ) {
                    return;
                }
                let session = Arc::new(token.session());
                let label = unique(stringify!($test));
                let (public, _) = ec_pair(token, &session, $params, &label);
                let token_key = TokenKey::find_by_label(Arc::clone(&session), &label)
                    .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
                assert_eq!(token_key.algorithm(), KeyAlgorithm::$algorithm);
                let key = $key::new(token_key).unwrap_or_else(|e| {
                    panic!("{}: {}: {e}", token.module.name(), stringify!($key))
                });
                // The verifier is built from the public-key object, not from the signer.
                let point = ec_point(token, &session, public, $point_len);
                let verifier = $krate::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                    .expect("the token's point is on the curve");
                assert_eq!(key.verifying_key(), verifier, "Keypair::verifying_key");
                for message in messages() {
                    let fixed: $krate::ecdsa::Signature = key
                        .try_sign(&message)
                        .unwrap_or_else(|e| panic!("{}: try_sign: {e}", token.module.name()));
                    verifier
                        .verify(&message, &fixed)
                        .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
                    assert!(
                        verifier.verify(&altered(&message), &fixed).is_err(),
                        "{}: a flipped message verifies",
                        token.module.name()
                    );
                    let der: $krate::ecdsa::DerSignature = key.try_sign(&message).unwrap();
                    verifier.verify(&message, &der).expect("DER signature");
                    assert!(verifier.verify(&altered(&message), &der).is_err());
                    let digested: $krate::ecdsa::Signature = key
                        .try_sign_digest(<$digest>::new_with_prefix(&message))
                        .unwrap();
                    verifier.verify(&message, &digested).expect("DigestSigner");
                    let hash = <$digest>::digest(&message);
                    let prehashed: $krate::ecdsa::Signature = key.sign_prehash(&hash).unwrap();
                    verifier
                        .verify_prehash(&hash, &prehashed)
                        .expect("PrehashSigner");
                    assert!(verifier
                        .verify_prehash(&altered(&hash), &prehashed)
                        .is_err());
                }
            });
        }
    };
}

ecdsa_case!(
    p256_signer_verified_by_p256,
    p256,
    P256SigningKey,
    P256_PARAMS,
    65,
    sha2::Sha256,
    EcdsaP256
);
ecdsa_case!(
    p384_signer_verified_by_p384,
    p384,
    P384SigningKey,
    P384_PARAMS,
    97,
    sha2::Sha384,
    EcdsaP384
);

/// PKCS #1 v1.5 with hash `D`: verified by `rsa`, equal to the token's `with_hash`.
fn pkcs1v15_case<D: RsaDigest>(
    token: &TestToken,
    session: &Arc<Session>,
    private: ObjectHandle,
    verifier: &rsa::RsaPublicKey,
    with_hash: ffi::CK_MECHANISM_TYPE,
) {
    let key = RsaPkcs1v15SigningKey::<D>::new(
        TokenKey::new(Arc::clone(session), private).expect("an RSA token key"),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
    let verifier = rsa::pkcs1v15::VerifyingKey::<D>::new(verifier.clone());
    for message in messages() {
        let signature: rsa::pkcs1v15::Signature = key
            .try_sign(&message)
            .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
        verifier
            .verify(&message, &signature)
            .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
        assert!(verifier.verify(&altered(&message), &signature).is_err());
        key.verifying_key()
            .verify(&message, &signature)
            .expect("Keypair::verifying_key");
        if token.has(MechanismType(with_hash)) {
            let theirs = session
                .sign(&Mechanism::plain(with_hash), private, &message)
                .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
            assert_eq!(
                Box::<[u8]>::from(signature.clone()).as_ref(),
                theirs.as_slice(),
                "{}: the signer's DigestInfo signature differs from the token's own",
                token.module.name()
            );
        }
        let digested = key.try_sign_digest(D::new_with_prefix(&message)).unwrap();
        assert_eq!(digested, signature, "PKCS #1 v1.5 is deterministic");
    }
}

/// PSS with hash `D`, verified by `rsa`.
fn pss_case<D: RsaDigest>(
    token: &TestToken,
    session: &Arc<Session>,
    private: ObjectHandle,
    verifier: &rsa::RsaPublicKey,
) {
    let key = RsaPssSigningKey::<D>::new(
        TokenKey::new(Arc::clone(session), private).expect("an RSA token key"),
    )
    .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
    let verifier = rsa::pss::VerifyingKey::<D>::new(verifier.clone());
    for message in messages() {
        let signature: rsa::pss::Signature = key
            .try_sign(&message)
            .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
        verifier
            .verify(&message, &signature)
            .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
        assert!(verifier.verify(&altered(&message), &signature).is_err());
        key.verifying_key()
            .verify(&message, &signature)
            .expect("Keypair::verifying_key");
        let hash = D::digest(&message);
        let prehashed = key.sign_prehash(&hash).unwrap();
        verifier
            .verify_prehash(&hash, &prehashed)
            .expect("PrehashSigner");
    }
}

#[test]
fn rsa_pkcs1v15_signer_verified_by_rsa() {
    each_module("rsa_pkcs1v15_signer_verified_by_rsa", |token| {
        if !token.require(
            "rsa_pkcs1v15_signer_verified_by_rsa",
            &[
                MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                MechanismType::RSA_PKCS,
            ],
        ) {
            return;
        }
        let session = Arc::new(token.session());
        let (public, private) = rsa_pair(token, &session, &unique("rsa-pkcs1"));
        let verifier = rsa_public(token, &session, public);
        pkcs1v15_case::<sha2::Sha256>(
            token,
            &session,
            private,
            &verifier,
            ffi::CKM_SHA256_RSA_PKCS,
        );
        pkcs1v15_case::<sha2::Sha384>(
            token,
            &session,
            private,
            &verifier,
            ffi::CKM_SHA384_RSA_PKCS,
        );
        pkcs1v15_case::<sha2::Sha512>(
            token,
            &session,
            private,
            &verifier,
            ffi::CKM_SHA512_RSA_PKCS,
        );
    });
}

#[test]
fn rsa_pss_signer_verified_by_rsa() {
    each_module("rsa_pss_signer_verified_by_rsa", |token| {
        if !token.require(
            "rsa_pss_signer_verified_by_rsa",
            &[
                MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                MechanismType::RSA_PKCS_PSS,
            ],
        ) {
            return;
        }
        let session = Arc::new(token.session());
        let (public, private) = rsa_pair(token, &session, &unique("rsa-pss"));
        let verifier = rsa_public(token, &session, public);
        pss_case::<sha2::Sha256>(token, &session, private, &verifier);
        pss_case::<sha2::Sha384>(token, &session, private, &verifier);
        pss_case::<sha2::Sha512>(token, &session, private, &verifier);
    });
}

#[test]
fn ed25519_signer_verified_by_ed25519_dalek() {
    each_module("ed25519_signer_verified_by_ed25519_dalek", |token| {
        if !token.require(
            "ed25519_signer_verified_by_ed25519_dalek",
            &[MechanismType::EC_EDWARDS_KEY_PAIR_GEN, MechanismType::EDDSA],
        ) {
            return;
        }
        let session = Arc::new(token.session());
        let label = unique("ed25519");
        let (public, _) = ec_pair(token, &session, ED25519_PARAMS, &label);
        let token_key = TokenKey::find_by_label(Arc::clone(&session), &label).unwrap();
        assert_eq!(token_key.algorithm(), KeyAlgorithm::Ed25519);
        let key = Ed25519SigningKey::new(token_key)
            .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
        let bytes: [u8; 32] = ec_point(token, &session, public, 32).try_into().unwrap();
        let verifier = ed25519_dalek::VerifyingKey::from_bytes(&bytes).expect("an Ed25519 point");
        assert_eq!(key.verifying_key(), verifier);
        for message in messages() {
            let signature: ed25519_dalek::Signature = key
                .try_sign(&message)
                .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
            verifier
                .verify_strict(&message, &signature)
                .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
            assert!(verifier.verify(&altered(&message), &signature).is_err());
        }
    });
}

/// A failed signature is a `signature::Error` whose source is the crate's error, naming
/// the failing call.
#[test]
fn sign_error_carries_the_crate_error() {
    each_module("sign_error_carries_the_crate_error", |token| {
        if !token.require(
            "sign_error_carries_the_crate_error",
            &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDSA],
        ) {
            return;
        }
        let session = Arc::new(token.session());
        let (_, private) = ec_pair(token, &session, P256_PARAMS, &unique("gone"));
        let key =
            P256SigningKey::new(TokenKey::new(Arc::clone(&session), private).unwrap()).unwrap();
        let _: p256::ecdsa::Signature = key.try_sign(b"before").expect("the key signs");
        session.destroy_object(private).unwrap();
        let error = Signer::<p256::ecdsa::Signature>::try_sign(&key, b"after")
            .expect_err("the key is gone");
        let source = std::error::Error::source(&error)
            .expect("the signature error has a source")
            .downcast_ref::<Error>()
            .expect("the source is pkcs11::Error");
        assert_eq!(source.function(), Some("C_SignInit"), "{source}");
        let rv = source.rv().expect("a module error").name();
        assert!(
            ["CKR_KEY_HANDLE_INVALID", "CKR_OBJECT_HANDLE_INVALID"].contains(&rv),
            "{}: {source}",
            token.module.name()
        );
    });
}

/// A key of another algorithm, or an object that is not a private key, is refused when
/// the signer is built, saying what it is.
#[test]
fn wrong_keys_are_refused() {
    each_module("wrong_keys_are_refused", |token| {
        if !token.require(
            "wrong_keys_are_refused",
            &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDSA],
        ) {
            return;
        }
        let session = Arc::new(token.session());
        let (public, private) = ec_pair(token, &session, P256_PARAMS, &unique("wrong"));
        let key = TokenKey::new(Arc::clone(&session), private).unwrap();
        match P384SigningKey::new(key.clone()) {
            Err(Error::InvalidInput { what }) => assert!(what.contains("EcdsaP256"), "{what}"),
            other => panic!("P-384 signer over a P-256 key: {other:?}"),
        }
        assert!(matches!(
            Ed25519SigningKey::new(key.clone()),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            RsaPssSigningKey::<sha2::Sha256>::new(key.clone()),
            Err(Error::InvalidInput { .. })
        ));
        assert!(matches!(
            key.sign_pss_prehash(pkcs11::signer::HashAlgorithm::Sha256, &[0; 32]),
            Err(Error::InvalidInput { .. })
        ));
        match TokenKey::new(Arc::clone(&session), public) {
            Err(Error::InvalidInput { what }) => {
                assert!(what.contains("not a private key"), "{what}")
            }
            other => panic!("a token key over a public key: {other:?}"),
        }
        match TokenKey::find_by_label(Arc::clone(&session), &unique("absent")) {
            Err(Error::NotFound { .. }) => {}
            other => panic!("a missing label: {other:?}"),
        }
    });
}

/// The public half is found by `CKA_ID`, by `CKA_LABEL` without an ID, or given; a key
/// with neither cannot be paired by search (unless the module keeps the point on the
/// private key).
#[test]
fn public_half_by_id_label_or_handle() {
    each_module("public_half_by_id_label_or_handle", |token| {
        if !token.require(
            "public_half_by_id_label_or_handle",
            &[MechanismType::EC_KEY_PAIR_GEN],
        ) {
            return;
        }
        let session = Arc::new(token.session());
        let source = SessionSource::from(Arc::clone(&session));
        let expected = |public: ObjectHandle| PublicKey::Ec {
            algorithm: KeyAlgorithm::EcdsaP256,
            point: ec_point(token, &session, public, 65),
        };
        // By CKA_ID, with a second key of the same label present.
        let label = unique("pub");
        let (public, private) = ec_pair(token, &session, P256_PARAMS, &label);
        let by_id = TokenKey::find_by_id(source.clone(), label.as_bytes()).unwrap();
        assert_eq!(by_id.handle(), private);
        assert_eq!(by_id.public_key().unwrap(), expected(public));
        // By CKA_LABEL (no CKA_ID).
        let label = unique("pub-label");
        let (public, private) = pair(
            token,
            &session,
            &Mechanism::EcKeyPairGen,
            &[Attribute::EcParams(P256_PARAMS.to_vec())],
            &label,
            None,
        );
        let by_label = TokenKey::new(source.clone(), private).unwrap();
        assert_eq!(by_label.public_key().unwrap(), expected(public));
        // Neither: only the module's own CKA_EC_POINT on the private key, or the handle.
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::EcKeyPairGen,
                &[
                    Attribute::Token(false),
                    Attribute::EcParams(P256_PARAMS.to_vec()),
                ],
                &[
                    Attribute::Token(false),
                    Attribute::Private(true),
                    Attribute::Sign(true),
                ],
            )
            .unwrap();
        let bare = TokenKey::new(source.clone(), private).unwrap();
        match bare.public_key() {
            Ok(found) => assert_eq!(found, expected(public), "the point on the private key"),
            Err(Error::NotFound { what }) => assert!(what.contains("CKA_ID"), "{what}"),
            Err(other) => panic!("{}: {other}", token.module.name()),
        }
        let given = bare.with_public_key_object(public);
        assert_eq!(given.public_key().unwrap(), expected(public));
        assert!(P256SigningKey::new(given).is_ok());
    });
}

/// Verifies `count` signatures by clones of `key` made on `threads` threads at once.
fn sign_concurrently(key: &P256SigningKey, threads: usize, count: usize) {
    let verifier = key.verifying_key();
    std::thread::scope(|scope| {
        for t in 0..threads {
            let key = key.clone();
            scope.spawn(move || {
                for i in 0..count {
                    let message = format!("thread {t} message {i}");
                    let signature: p256::ecdsa::Signature =
                        key.try_sign(message.as_bytes()).expect("a signature");
                    verifier
                        .verify(message.as_bytes(), &signature)
                        .expect("a valid signature");
                }
            });
        }
    });
}

/// One signer on one shared session, used by many threads at once.
#[test]
fn shared_session_signer_across_threads() {
    let _watchdog = Watchdog::new(
        "shared_session_signer_across_threads",
        Duration::from_secs(120),
    );
    each_module("shared_session_signer_across_threads", |token| {
        if !token.require(
            "shared_session_signer_across_threads",
            &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDSA],
        ) {
            return;
        }
        let session = Arc::new(token.session());
        let label = unique("threads");
        ec_pair(token, &session, P256_PARAMS, &label);
        let key = P256SigningKey::new(TokenKey::find_by_label(session, &label).unwrap()).unwrap();
        sign_concurrently(&key, 8, 16);
    });
}

/// One signer over a session pool: each signature borrows a session of its own.
#[test]
fn pooled_signer_across_threads() {
    let _watchdog = Watchdog::new("pooled_signer_across_threads", Duration::from_secs(120));
    each_module("pooled_signer_across_threads", |token| {
        if !token.require(
            "pooled_signer_across_threads",
            &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDSA],
        ) {
            return;
        }
        // The key pair lives as session objects of `owner`, visible to the pool's
        // sessions while `owner` is open.
        let owner = token.session();
        let label = unique("pool");
        ec_pair(token, &owner, P256_PARAMS, &label);
        let pool = SessionPool::builder(&token.slot)
            .max_sessions(3)
            .login(UserType::User, Pin::from(token.user_pin))
            .wait_timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
        let key = P256SigningKey::new(TokenKey::find_by_label(&pool, &label).unwrap()).unwrap();
        sign_concurrently(&key, 8, 16);
        assert!(pool.open_sessions() <= 3, "{pool:?}");
        drop(owner);
    });
}
