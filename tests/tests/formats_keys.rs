//! Standard key formats on both real modules: keys generated on the token leave it as
//! `SubjectPublicKeyInfo` DER that RustCrypto (`p256`, `p384`, `p521`, `rsa`,
//! `ed25519-dalek`, `ml-dsa`) and OpenSSL read, and that key then verifies a signature
//! the token made — the proof that the DER is right. The other way, keys made by
//! RustCrypto and OpenSSL enter the token as PKCS #8 / SPKI DER, the token signs with
//! them, the originals verify, and the token's export equals the original bytes.
//!
//! A test is skipped on one module only when its mechanism list lacks the key-pair
//! generation (or signing) mechanism the test needs.

use std::path::Path;
use std::process::Command;

use pkcs11::formats::{
    private_key_template, EcCurve, MlDsaParameterSet, MlKemParameterSet, PublicKey,
};
use pkcs11::{
    ffi, Attribute, AttributeResult, AttributeType, EddsaParams, Error, KeyType, Mechanism,
    MechanismType, ObjectHandle, Session,
};
use pkcs11_tests::modules::{each_module, TestToken};
use pkcs11_tests::TempDir;
use sha2::Digest;

const MESSAGE: &[u8] = b"pkcs11-rs formats: a message signed on the token";

fn mech(raw: ffi::CK_MECHANISM_TYPE) -> MechanismType {
    MechanismType(raw)
}

fn sign(
    token: &TestToken,
    session: &Session,
    mechanism: ffi::CK_MECHANISM_TYPE,
    key: ObjectHandle,
    data: &[u8],
) -> Vec<u8> {
    session
        .sign(&Mechanism::plain(mechanism), key, data)
        .unwrap_or_else(|e| {
            panic!(
                "{}: C_Sign with {:?}: {e}",
                token.module.name(),
                mech(mechanism)
            )
        })
}

fn export(token: &TestToken, session: &Session, key: ObjectHandle) -> Vec<u8> {
    session
        .export_spki(key)
        .unwrap_or_else(|e| panic!("{}: export_spki: {e}", token.module.name()))
}

/// Compares `spki` with the module's own `CKA_PUBLIC_KEY_INFO` of `key` when the module
/// fills it in; says so either way.
fn cross_check_public_key_info(
    token: &TestToken,
    session: &Session,
    key: ObjectHandle,
    spki: &[u8],
    what: &str,
) {
    let result = session
        .get_attributes(key, &[AttributeType::PublicKeyInfo])
        .unwrap_or_else(|e| panic!("{}: read CKA_PUBLIC_KEY_INFO: {e}", token.module.name()))
        .pop();
    match result {
        Some(AttributeResult::Value(info)) if info.as_bytes().is_some_and(|b| !b.is_empty()) => {
            assert_eq!(
                info.as_bytes().unwrap(),
                spki,
                "{}: the module's CKA_PUBLIC_KEY_INFO of the {what} key differs from the SPKI built \
                 from its attributes",
                token.module.name()
            );
            pkcs11_tests::note!(
                "{}: {what}: CKA_PUBLIC_KEY_INFO equals the built SPKI",
                token.module.name()
            );
        }
        _ => pkcs11_tests::note!(
            "{}: {what}: the module gives no CKA_PUBLIC_KEY_INFO to compare with",
            token.module.name()
        ),
    }
}

/// Says whether the module gives `CKA_EC_POINT` of `public` DER-wrapped or bare (both
/// are read).
fn report_point_form(token: &TestToken, session: &Session, public: ObjectHandle, curve: EcCurve) {
    let point = session
        .get_attribute(public, AttributeType::EcPoint)
        .unwrap();
    let point = point.as_bytes().unwrap();
    let form = if curve.is_point_encoding(point) {
        "bare"
    } else {
        "a DER OCTET STRING"
    };
    pkcs11_tests::note!(
        "{}: {curve}: CKA_EC_POINT is {form} ({} bytes)",
        token.module.name(),
        point.len()
    );
}

/// Runs the `openssl` command line in `dir`; returns stdout, panicking with stderr on
/// failure.
fn openssl(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (the OpenSSL command line is a test prerequisite)");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// OpenSSL parses `spki` and writes it back byte for byte; returns its text dump.
fn openssl_reads_spki(spki: &[u8], what: &str) -> String {
    let dir = TempDir::new("formats-openssl");
    std::fs::write(dir.path().join("pub.der"), spki).unwrap();
    openssl(
        dir.path(),
        &[
            "pkey", "-pubin", "-inform", "DER", "-in", "pub.der", "-outform", "DER", "-out",
            "back.der",
        ],
    );
    let back = std::fs::read(dir.path().join("back.der")).unwrap();
    assert_eq!(back, spki, "OpenSSL re-encodes the {what} SPKI differently");
    String::from_utf8(openssl(
        dir.path(),
        &[
            "pkey", "-pubin", "-inform", "DER", "-in", "pub.der", "-noout", "-text",
        ],
    ))
    .unwrap()
}

/// OpenSSL's verdict on `signature` over `message` with the SPKI `spki` (EdDSA: raw
/// input).
fn openssl_verifies(spki: &[u8], message: &[u8], signature: &[u8]) -> bool {
    let dir = TempDir::new("formats-verify");
    std::fs::write(dir.path().join("pub.der"), spki).unwrap();
    std::fs::write(dir.path().join("msg"), message).unwrap();
    std::fs::write(dir.path().join("sig"), signature).unwrap();
    Command::new("openssl")
        .args([
            "pkeyutl", "-verify", "-pubin", "-keyform", "DER", "-inkey", "pub.der", "-rawin",
            "-in", "msg", "-sigfile", "sig",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run openssl")
        .status
        .success()
}

fn session_key_pair_templates() -> ([Attribute; 2], [Attribute; 3]) {
    (
        [Attribute::Verify(true), Attribute::Token(false)],
        [
            Attribute::Sign(true),
            Attribute::Token(false),
            Attribute::Sensitive(true),
        ],
    )
}

#[test]
fn rsa_2048_spki_is_read_by_the_rsa_crate_and_verifies_a_token_signature() {
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    each_module("rsa_2048_spki", |token| {
        let needed = [
            mech(ffi::CKM_RSA_PKCS_KEY_PAIR_GEN),
            mech(ffi::CKM_SHA256_RSA_PKCS),
        ];
        if !token.require("rsa_2048_spki", &needed) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::plain(ffi::CKM_RSA_PKCS_KEY_PAIR_GEN),
                &[
                    Attribute::ModulusBits(2048),
                    Attribute::PublicExponent(vec![1, 0, 1]),
                    Attribute::Verify(true),
                    Attribute::Token(false),
                ],
                &[
                    Attribute::Sign(true),
                    Attribute::Token(false),
                    Attribute::Sensitive(true),
                ],
            )
            .unwrap_or_else(|e| panic!("{module}: RSA key pair: {e}"));
        let spki = export(token, &session, public);
        // The private key shows CKA_MODULUS / CKA_PUBLIC_EXPONENT: the same SPKI.
        assert_eq!(
            export(token, &session, private),
            spki,
            "{module}: SPKI from the private key"
        );
        cross_check_public_key_info(token, &session, public, &spki, "RSA");
        let key = rsa::RsaPublicKey::from_public_key_der(&spki)
            .unwrap_or_else(|e| panic!("{module}: the rsa crate refuses the SPKI: {e}"));
        assert_eq!(rsa::traits::PublicKeyParts::size(&key), 256);
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key);
        let signature = sign(token, &session, ffi::CKM_SHA256_RSA_PKCS, private, MESSAGE);
        let signature = rsa::pkcs1v15::Signature::try_from(&signature[..]).unwrap();
        verifier
            .verify(MESSAGE, &signature)
            .unwrap_or_else(|e| panic!("{module}: the token's RSA signature does not verify: {e}"));
        assert!(verifier.verify(b"another message", &signature).is_err());
        assert!(openssl_reads_spki(&spki, "RSA").contains("Public-Key: (2048 bit)"));
    });
}

/// Generates a key pair on `curve`, signs SHA-`digest` of the message with `CKM_ECDSA`,
/// and returns (SPKI, raw r‖s signature).
fn ecdsa_on_token<D: Digest>(token: &TestToken, curve: EcCurve) -> (Vec<u8>, Vec<u8>) {
    let module = token.module.name();
    let session = token.session();
    let (public_extra, private_extra) = session_key_pair_templates();
    let (public, private) = session
        .generate_ec_key_pair(curve, &public_extra, &private_extra)
        .unwrap_or_else(|e| panic!("{module}: {curve} key pair: {e}"));
    let spki = export(token, &session, public);
    cross_check_public_key_info(token, &session, public, &spki, curve.name());
    report_point_form(token, &session, public, curve);
    // The private key gives the same SPKI where the module shows the public key on it
    // (CKA_EC_POINT or CKA_PUBLIC_KEY_INFO); otherwise the error names what is missing.
    match session.export_spki(private) {
        Ok(from_private) => assert_eq!(
            from_private, spki,
            "{module}: {curve} SPKI of the private key"
        ),
        Err(Error::NotFound { what }) => {
            assert!(what.contains("CKA_EC_POINT"), "{module}: {what}");
            pkcs11_tests::note!("{module}: {curve}: the private key shows no public key ({what})");
        }
        Err(other) => panic!("{module}: {curve} SPKI of the private key: {other}"),
    }
    let decoded = PublicKey::from_spki_der(&spki).unwrap();
    assert!(matches!(decoded, PublicKey::Ec { ref params, .. } if params.curve() == Some(curve)));
    assert!(
        openssl_reads_spki(&spki, curve.name()).contains(match curve {
            EcCurve::P256 => "NIST CURVE: P-256",
            EcCurve::P384 => "NIST CURVE: P-384",
            _ => "NIST CURVE: P-521",
        })
    );
    let digest = D::digest(MESSAGE);
    let signature = sign(token, &session, ffi::CKM_ECDSA, private, &digest);
    assert_eq!(
        signature.len(),
        2 * curve.size(),
        "{module}: {curve} signature length"
    );
    (spki, signature)
}

#[test]
fn ec_spki_is_read_by_rustcrypto_and_verifies_token_signatures() {
    use p256::ecdsa::signature::Verifier;
    use p256::pkcs8::DecodePublicKey;
    each_module("ec_spki", |token| {
        let needed = [mech(ffi::CKM_EC_KEY_PAIR_GEN), mech(ffi::CKM_ECDSA)];
        if !token.require("ec_spki", &needed) {
            return;
        }
        let module = token.module.name();

        let (spki, signature) = ecdsa_on_token::<sha2::Sha256>(token, EcCurve::P256);
        let key = p256::PublicKey::from_public_key_der(&spki)
            .unwrap_or_else(|e| panic!("{module}: p256 refuses the SPKI: {e}"));
        let verifier = p256::ecdsa::VerifyingKey::from(&key);
        let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
        verifier
            .verify(MESSAGE, &signature)
            .unwrap_or_else(|e| panic!("{module}: P-256 token signature: {e}"));
        assert!(verifier.verify(b"tampered", &signature).is_err());

        let (spki, signature) = ecdsa_on_token::<sha2::Sha384>(token, EcCurve::P384);
        let key = p384::PublicKey::from_public_key_der(&spki)
            .unwrap_or_else(|e| panic!("{module}: p384 refuses the SPKI: {e}"));
        let verifier = p384::ecdsa::VerifyingKey::from(&key);
        let signature = p384::ecdsa::Signature::from_slice(&signature).unwrap();
        verifier
            .verify(MESSAGE, &signature)
            .unwrap_or_else(|e| panic!("{module}: P-384 token signature: {e}"));
        assert!(verifier.verify(b"tampered", &signature).is_err());

        let (spki, signature) = ecdsa_on_token::<sha2::Sha512>(token, EcCurve::P521);
        let key = p521::PublicKey::from_public_key_der(&spki)
            .unwrap_or_else(|e| panic!("{module}: p521 refuses the SPKI: {e}"));
        let verifier = p521::ecdsa::VerifyingKey::from_sec1_bytes(
            &p521::elliptic_curve::sec1::ToEncodedPoint::to_encoded_point(&key, false).to_bytes(),
        )
        .unwrap();
        let signature = p521::ecdsa::Signature::from_slice(&signature).unwrap();
        verifier
            .verify(MESSAGE, &signature)
            .unwrap_or_else(|e| panic!("{module}: P-521 token signature: {e}"));
        assert!(verifier.verify(b"tampered", &signature).is_err());
    });
}

#[test]
fn ed25519_spki_is_read_by_ed25519_dalek_and_verifies_a_token_signature() {
    use ed25519_dalek::pkcs8::DecodePublicKey;
    use ed25519_dalek::Verifier;
    each_module("ed25519_spki", |token| {
        let needed = [mech(ffi::CKM_EC_EDWARDS_KEY_PAIR_GEN), mech(ffi::CKM_EDDSA)];
        if !token.require("ed25519_spki", &needed) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public_extra, private_extra) = session_key_pair_templates();
        let (public, private) = session
            .generate_ec_key_pair(EcCurve::Ed25519, &public_extra, &private_extra)
            .unwrap_or_else(|e| panic!("{module}: Ed25519 key pair: {e}"));
        let spki = export(token, &session, public);
        assert_eq!(spki.len(), 44, "{module}: an Ed25519 SPKI is 44 bytes");
        cross_check_public_key_info(token, &session, public, &spki, "Ed25519");
        report_point_form(token, &session, public, EcCurve::Ed25519);
        let key = ed25519_dalek::VerifyingKey::from_public_key_der(&spki)
            .unwrap_or_else(|e| panic!("{module}: ed25519-dalek refuses the SPKI: {e}"));
        let signature = sign(token, &session, ffi::CKM_EDDSA, private, MESSAGE);
        let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
        key.verify(MESSAGE, &signature)
            .unwrap_or_else(|e| panic!("{module}: Ed25519 token signature: {e}"));
        assert!(key.verify(b"tampered", &signature).is_err());
        assert!(openssl_reads_spki(&spki, "Ed25519").contains("ED25519 Public-Key"));
    });
}

#[test]
fn ed448_spki_is_read_by_openssl_and_verifies_a_token_signature() {
    each_module("ed448_spki", |token| {
        let needed = [mech(ffi::CKM_EC_EDWARDS_KEY_PAIR_GEN), mech(ffi::CKM_EDDSA)];
        if !token.require("ed448_spki", &needed) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public_extra, private_extra) = session_key_pair_templates();
        let (public, private) = session
            .generate_ec_key_pair(EcCurve::Ed448, &public_extra, &private_extra)
            .unwrap_or_else(|e| panic!("{module}: Ed448 key pair: {e}"));
        let spki = export(token, &session, public);
        assert_eq!(spki.len(), 69, "{module}: an Ed448 SPKI is 69 bytes");
        cross_check_public_key_info(token, &session, public, &spki, "Ed448");
        report_point_form(token, &session, public, EcCurve::Ed448);
        assert!(openssl_reads_spki(&spki, "Ed448").contains("ED448 Public-Key"));
        // Pure Ed448 with an empty context, as OpenSSL does: CK_EDDSA_PARAMS without
        // pre-hash or context (Kryoptic requires the parameter for Ed448).
        let params = EddsaParams::new(false, b"").unwrap();
        let signature = session
            .sign(&Mechanism::EddsaWith(params), private, MESSAGE)
            .unwrap_or_else(|e| panic!("{module}: Ed448 C_Sign: {e}"));
        assert_eq!(signature.len(), 114);
        assert!(
            openssl_verifies(&spki, MESSAGE, &signature),
            "{module}: OpenSSL refuses the token's Ed448 signature"
        );
        assert!(!openssl_verifies(&spki, b"tampered", &signature));
    });
}

#[test]
fn montgomery_spki_is_read_by_openssl() {
    each_module("montgomery_spki", |token| {
        if !token.require(
            "montgomery_spki",
            &[mech(ffi::CKM_EC_MONTGOMERY_KEY_PAIR_GEN)],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        for (curve, len, text) in [
            (EcCurve::X25519, 44, "X25519 Public-Key"),
            (EcCurve::X448, 68, "X448 Public-Key"),
        ] {
            let (public, _private) = session
                .generate_ec_key_pair(
                    curve,
                    &[Attribute::Token(false)],
                    &[Attribute::Derive(true), Attribute::Token(false)],
                )
                .unwrap_or_else(|e| panic!("{module}: {curve} key pair: {e}"));
            let spki = export(token, &session, public);
            assert_eq!(spki.len(), len, "{module}: {curve} SPKI length");
            cross_check_public_key_info(token, &session, public, &spki, curve.name());
            report_point_form(token, &session, public, curve);
            assert!(openssl_reads_spki(&spki, curve.name()).contains(text));
            // The key in the SPKI is the token's CKA_EC_POINT, unwrapped.
            let PublicKey::Montgomery { key, .. } = PublicKey::from_spki_der(&spki).unwrap() else {
                panic!("{module}: {curve} SPKI is not a Montgomery key");
            };
            let point = session
                .get_attribute(public, AttributeType::EcPoint)
                .unwrap();
            assert!(
                point.as_bytes().unwrap().ends_with(&key),
                "{module}: {curve} point"
            );
        }
    });
}

fn ml_dsa_for<P>(token: &TestToken, set: MlDsaParameterSet)
where
    P: ml_dsa::MlDsaParams
        + pkcs8_v011::spki::AssociatedAlgorithmIdentifier<Params = pkcs8_v011::der::AnyRef<'static>>,
{
    use ml_dsa::signature::Verifier;
    use pkcs8_v011::DecodePublicKey;
    let module = token.module.name();
    let session = token.session();
    let (public, private) = session
        .generate_key_pair(
            &Mechanism::plain(ffi::CKM_ML_DSA_KEY_PAIR_GEN),
            &[
                Attribute::ParameterSet(set.raw()),
                Attribute::Verify(true),
                Attribute::Token(false),
            ],
            &[Attribute::Sign(true), Attribute::Token(false)],
        )
        .unwrap_or_else(|e| panic!("{module}: {set} key pair: {e}"));
    let spki = export(token, &session, public);
    let parsed = pkcs8_v011::spki::SubjectPublicKeyInfoRef::try_from(&spki[..]).unwrap();
    let expected_oid = match set {
        MlDsaParameterSet::MlDsa44 => "2.16.840.1.101.3.4.3.17",
        MlDsaParameterSet::MlDsa65 => "2.16.840.1.101.3.4.3.18",
        _ => "2.16.840.1.101.3.4.3.19",
    };
    assert_eq!(
        parsed.algorithm.oid.to_string(),
        expected_oid,
        "{module}: {set} OID"
    );
    assert!(
        parsed.algorithm.parameters.is_none(),
        "{module}: {set} parameters"
    );
    let key_len = [1312, 1952, 2592][set.raw() as usize - 1];
    assert_eq!(
        parsed.subject_public_key.raw_bytes().len(),
        key_len,
        "{module}: {set} key"
    );
    cross_check_public_key_info(token, &session, public, &spki, set.name());
    let key = ml_dsa::VerifyingKey::<P>::from_public_key_der(&spki)
        .unwrap_or_else(|e| panic!("{module}: ml-dsa refuses the {set} SPKI: {e}"));
    let signature = sign(token, &session, ffi::CKM_ML_DSA, private, MESSAGE);
    let signature = ml_dsa::Signature::<P>::try_from(&signature[..]).unwrap();
    key.verify(MESSAGE, &signature)
        .unwrap_or_else(|e| panic!("{module}: the token's {set} signature does not verify: {e}"));
    assert!(key.verify(b"tampered", &signature).is_err());
    // Back in through the SPKI: the token verifies its own signature with the import.
    let imported = session
        .import_spki(&spki, &[Attribute::Verify(true), Attribute::Token(false)])
        .unwrap_or_else(|e| panic!("{module}: import the {set} SPKI: {e}"));
    assert_eq!(export(token, &session, imported), spki);
}

#[test]
fn ml_dsa_spki_is_read_by_ml_dsa_and_verifies_token_signatures() {
    each_module("ml_dsa_spki", |token| {
        let needed = [mech(ffi::CKM_ML_DSA_KEY_PAIR_GEN), mech(ffi::CKM_ML_DSA)];
        if !token.require("ml_dsa_spki", &needed) {
            return;
        }
        ml_dsa_for::<ml_dsa::MlDsa44>(token, MlDsaParameterSet::MlDsa44);
        ml_dsa_for::<ml_dsa::MlDsa65>(token, MlDsaParameterSet::MlDsa65);
        ml_dsa_for::<ml_dsa::MlDsa87>(token, MlDsaParameterSet::MlDsa87);
    });
}

#[test]
fn ml_kem_spki_has_the_oid_and_key_of_each_parameter_set() {
    each_module("ml_kem_spki", |token| {
        if !token.require("ml_kem_spki", &[mech(ffi::CKM_ML_KEM_KEY_PAIR_GEN)]) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        for (set, oid, len) in [
            (MlKemParameterSet::MlKem512, "2.16.840.1.101.3.4.4.1", 800),
            (MlKemParameterSet::MlKem768, "2.16.840.1.101.3.4.4.2", 1184),
            (MlKemParameterSet::MlKem1024, "2.16.840.1.101.3.4.4.3", 1568),
        ] {
            let (public, _private) = session
                .generate_key_pair(
                    &Mechanism::plain(ffi::CKM_ML_KEM_KEY_PAIR_GEN),
                    &[Attribute::ParameterSet(set.raw()), Attribute::Token(false)],
                    &[Attribute::Token(false)],
                )
                .unwrap_or_else(|e| panic!("{module}: {set} key pair: {e}"));
            let spki = export(token, &session, public);
            let parsed = pkcs8_v011::spki::SubjectPublicKeyInfoRef::try_from(&spki[..]).unwrap();
            assert_eq!(parsed.algorithm.oid.to_string(), oid, "{module}: {set} OID");
            assert!(parsed.algorithm.parameters.is_none());
            let key = parsed.subject_public_key.raw_bytes();
            assert_eq!(key.len(), len, "{module}: {set} key length");
            let value = session.get_attribute(public, AttributeType::Value).unwrap();
            assert_eq!(
                value.as_bytes().unwrap(),
                key,
                "{module}: {set} key is CKA_VALUE"
            );
            cross_check_public_key_info(token, &session, public, &spki, set.name());
            let imported = session
                .import_spki(&spki, &[Attribute::Token(false)])
                .unwrap_or_else(|e| panic!("{module}: import the {set} SPKI: {e}"));
            assert_eq!(export(token, &session, imported), spki);
        }
    });
}

#[test]
fn p256_keys_from_rustcrypto_round_trip_through_the_token() {
    use p256::ecdsa::signature::{Signer, Verifier};
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
    each_module("p256_round_trip", |token| {
        if !token.require("p256_round_trip", &[mech(ffi::CKM_ECDSA)]) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let secret = p256::SecretKey::random(&mut aes_gcm::aead::OsRng);
        let pkcs8 = secret.to_pkcs8_der().unwrap();
        let spki = secret.public_key().to_public_key_der().unwrap();
        let private = session
            .import_pkcs8(
                pkcs8.as_bytes(),
                &[Attribute::Sign(true), Attribute::Token(false)],
            )
            .unwrap_or_else(|e| panic!("{module}: import the p256 PKCS #8: {e}"));
        let public = session
            .import_spki(
                spki.as_bytes(),
                &[Attribute::Verify(true), Attribute::Token(false)],
            )
            .unwrap_or_else(|e| panic!("{module}: import the p256 SPKI: {e}"));
        assert_eq!(
            export(token, &session, public),
            spki.as_bytes(),
            "{module}: SPKI round trip"
        );
        // The token signs with the imported private key; p256 verifies with its own key.
        let digest = sha2::Sha256::digest(MESSAGE);
        let signature = sign(token, &session, ffi::CKM_ECDSA, private, &digest);
        let signature = p256::ecdsa::Signature::from_slice(&signature).unwrap();
        let verifier = p256::ecdsa::VerifyingKey::from(secret.public_key());
        verifier
            .verify(MESSAGE, &signature)
            .unwrap_or_else(|e| panic!("{module}: p256 refuses the imported key's signature: {e}"));
        // And the token verifies p256's signature with the imported public key.
        let signer = p256::ecdsa::SigningKey::from(&secret);
        let theirs: p256::ecdsa::Signature = signer.sign(MESSAGE);
        let verdict = session
            .verify(
                &Mechanism::plain(ffi::CKM_ECDSA),
                public,
                &digest,
                &theirs.to_bytes(),
            )
            .unwrap();
        assert!(verdict, "{module}: the token refuses p256's signature");
    });
}

#[test]
fn ed25519_keys_from_rustcrypto_round_trip_through_the_token() {
    use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
    use ed25519_dalek::Verifier;
    each_module("ed25519_round_trip", |token| {
        if !token.require("ed25519_round_trip", &[mech(ffi::CKM_EDDSA)]) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let signing = ed25519_dalek::SigningKey::generate(&mut aes_gcm::aead::OsRng);
        let pkcs8 = signing.to_pkcs8_der().unwrap();
        let spki = signing.verifying_key().to_public_key_der().unwrap();
        let private = session
            .import_pkcs8(
                pkcs8.as_bytes(),
                &[Attribute::Sign(true), Attribute::Token(false)],
            )
            .unwrap_or_else(|e| panic!("{module}: import the Ed25519 PKCS #8: {e}"));
        let public = session
            .import_spki(
                spki.as_bytes(),
                &[Attribute::Verify(true), Attribute::Token(false)],
            )
            .unwrap_or_else(|e| panic!("{module}: import the Ed25519 SPKI: {e}"));
        assert_eq!(
            export(token, &session, public),
            spki.as_bytes(),
            "{module}: SPKI round trip"
        );
        let signature = sign(token, &session, ffi::CKM_EDDSA, private, MESSAGE);
        // Ed25519 is deterministic: the token's signature is dalek's, byte for byte.
        let theirs = ed25519_dalek::Signer::sign(&signing, MESSAGE);
        assert_eq!(
            signature,
            theirs.to_bytes(),
            "{module}: Ed25519 signatures differ"
        );
        signing
            .verifying_key()
            .verify(
                MESSAGE,
                &ed25519_dalek::Signature::from_slice(&signature).unwrap(),
            )
            .unwrap();
        let verdict = session
            .verify(
                &Mechanism::plain(ffi::CKM_EDDSA),
                public,
                MESSAGE,
                &theirs.to_bytes(),
            )
            .unwrap();
        assert!(verdict, "{module}: the token refuses dalek's signature");
    });
}

#[test]
fn rsa_and_p384_keys_from_openssl_round_trip_through_the_token() {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
    use rsa::signature::Verifier;
    each_module("openssl_round_trip", |token| {
        let needed = [mech(ffi::CKM_SHA256_RSA_PKCS), mech(ffi::CKM_ECDSA)];
        if !token.require("openssl_round_trip", &needed) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let dir = TempDir::new("formats-openssl-keys");
        // (OpenSSL writes DER keys in the algorithm's own format, PEM ones as PKCS #8:
        // `pkcs8 -topk8` turns the PEM into PKCS #8 DER.)
        openssl(
            dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "rsa.pem",
            ],
        );
        openssl(
            dir.path(),
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "rsa.pem", "-outform", "DER", "-out",
                "rsa.der",
            ],
        );
        let pkcs8 = std::fs::read(dir.path().join("rsa.der")).unwrap();
        let template = private_key_template(&pkcs8).unwrap();
        for ty in [
            AttributeType::Modulus,
            AttributeType::PublicExponent,
            AttributeType::PrivateExponent,
            AttributeType::Prime1,
            AttributeType::Prime2,
            AttributeType::Exponent1,
            AttributeType::Exponent2,
            AttributeType::Coefficient,
        ] {
            assert!(
                template.iter().any(|a| a.attribute_type() == ty),
                "{ty} in the template"
            );
        }
        drop(template);
        let reference = rsa::RsaPrivateKey::from_pkcs8_der(&pkcs8).unwrap();
        let private = session
            .import_pkcs8(&pkcs8, &[Attribute::Sign(true), Attribute::Token(false)])
            .unwrap_or_else(|e| panic!("{module}: import OpenSSL's RSA PKCS #8: {e}"));
        let spki = reference.to_public_key().to_public_key_der().unwrap();
        assert_eq!(
            export(token, &session, private),
            spki.as_bytes(),
            "{module}: RSA SPKI"
        );
        let signature = sign(token, &session, ffi::CKM_SHA256_RSA_PKCS, private, MESSAGE);
        let verifier = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(reference.to_public_key());
        verifier
            .verify(
                MESSAGE,
                &rsa::pkcs1v15::Signature::try_from(&signature[..]).unwrap(),
            )
            .unwrap_or_else(|e| panic!("{module}: imported RSA key's signature: {e}"));

        openssl(
            dir.path(),
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-384",
                "-out",
                "p384.pem",
            ],
        );
        openssl(
            dir.path(),
            &[
                "pkcs8", "-topk8", "-nocrypt", "-in", "p384.pem", "-outform", "DER", "-out",
                "p384.der",
            ],
        );
        let pkcs8 = std::fs::read(dir.path().join("p384.der")).unwrap();
        let reference = p384::SecretKey::from_pkcs8_der(&pkcs8).unwrap();
        let private = session
            .import_pkcs8(&pkcs8, &[Attribute::Sign(true), Attribute::Token(false)])
            .unwrap_or_else(|e| panic!("{module}: import OpenSSL's P-384 PKCS #8: {e}"));
        let digest = sha2::Sha384::digest(MESSAGE);
        let signature = sign(token, &session, ffi::CKM_ECDSA, private, &digest);
        let verifier = p384::ecdsa::VerifyingKey::from(reference.public_key());
        p384::ecdsa::signature::Verifier::verify(
            &verifier,
            MESSAGE,
            &p384::ecdsa::Signature::from_slice(&signature).unwrap(),
        )
        .unwrap_or_else(|e| panic!("{module}: imported P-384 key's signature: {e}"));
    });
}

#[test]
fn ml_dsa_seed_pkcs8_from_ml_dsa_signs_on_the_token() {
    use ml_dsa::signature::Verifier;
    use pkcs8_v011::EncodePrivateKey;
    each_module("ml_dsa_pkcs8", |token| {
        if !token.require("ml_dsa_pkcs8", &[mech(ffi::CKM_ML_DSA)]) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let seed = session.generate_random(32).unwrap();
        let signing =
            ml_dsa::SigningKey::<ml_dsa::MlDsa65>::from_seed(&seed[..].try_into().unwrap());
        let pkcs8 = signing.to_pkcs8_der().unwrap();
        let template = private_key_template(pkcs8.as_bytes()).unwrap();
        assert!(template
            .iter()
            .any(|a| a.attribute_type() == AttributeType::Seed));
        let private = match session.import_pkcs8(
            pkcs8.as_bytes(),
            &[Attribute::Sign(true), Attribute::Token(false)],
        ) {
            Ok(private) => private,
            Err(error) => panic!("{module}: import a seed-only ML-DSA-65 PKCS #8: {error}"),
        };
        let signature = sign(token, &session, ffi::CKM_ML_DSA, private, MESSAGE);
        let signature = ml_dsa::Signature::<ml_dsa::MlDsa65>::try_from(&signature[..]).unwrap();
        ml_dsa::signature::Keypair::verifying_key(&signing)
            .verify(MESSAGE, &signature)
            .unwrap_or_else(|e| panic!("{module}: the imported ML-DSA key's signature: {e}"));
    });
}

#[test]
fn bad_input_is_refused_naming_what_is_wrong() {
    fn what(result: pkcs11::Result<impl std::fmt::Debug>) -> String {
        match result {
            Err(Error::InvalidInput { what }) => what,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }
    use p256::pkcs8::{EncodePrivateKey, EncodePublicKey};
    let secret = p256::SecretKey::random(&mut aes_gcm::aead::OsRng);
    let spki = secret.public_key().to_public_key_der().unwrap().into_vec();
    let pkcs8 = secret.to_pkcs8_der().unwrap().as_bytes().to_vec();
    // Truncated DER.
    assert!(what(PublicKey::from_spki_der(&spki[..spki.len() - 1]))
        .contains("SubjectPublicKeyInfo DER"));
    assert!(what(private_key_template(&pkcs8[..30])).contains("PKCS #8 DER"));
    // A DSA SubjectPublicKeyInfo: an algorithm without a format here.
    let mut dsa = spki.clone();
    let ec_oid = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    let at = dsa.windows(7).position(|w| w == ec_oid).unwrap();
    dsa[at..at + 7].copy_from_slice(&[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01]);
    assert!(what(PublicKey::from_spki_der(&dsa))
        .contains("unsupported public key algorithm OID 1.2.840.10040.4.1"));
    // A P-256 point under the P-384 OID: the point's size does not fit the curve.
    let mut p384 = spki.clone();
    let p256_oid = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let at = p384.windows(8).position(|w| w == p256_oid).unwrap();
    p384.splice(at - 2..at + 8, [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]);
    p384[1] -= 3;
    p384[3] -= 3;
    assert!(what(PublicKey::from_spki_der(&p384)).contains("not a P-384 point"));
    assert!(what("brainpoolP999r1".parse::<EcCurve>()).contains("brainpoolP999r1"));

    each_module("formats_bad_input", |token| {
        let module = token.module.name();
        let session = token.session();
        if token.require("formats_bad_input", &[mech(ffi::CKM_AES_KEY_GEN)]) {
            let aes = session
                .generate_key(
                    &Mechanism::plain(ffi::CKM_AES_KEY_GEN),
                    &[Attribute::ValueLen(16), Attribute::Token(false)],
                )
                .unwrap();
            let error = what(session.export_spki(aes));
            assert!(error.contains("CKO_SECRET_KEY"), "{module}: {error}");
        }
        let data = session
            .create_object(&[
                Attribute::Class(pkcs11::ObjectClass::Data),
                Attribute::Token(false),
                Attribute::Label("not a key".into()),
            ])
            .unwrap();
        let error = what(session.read_public_key(data));
        assert!(
            error.contains("not a key") || error.contains("CKO_DATA"),
            "{module}: {error}"
        );
        // Refused before the module is called.
        assert!(what(session.import_spki(&dsa, &[])).contains("1.2.840.10040.4.1"));
        assert!(what(session.import_pkcs8(&pkcs8[..pkcs8.len() - 2], &[])).contains("PKCS #8"));
    });
}

fn readable_secret() -> [Attribute; 5] {
    [
        Attribute::Class(pkcs11::ObjectClass::SecretKey),
        Attribute::KeyType(KeyType::GenericSecret),
        Attribute::Token(false),
        Attribute::Sensitive(false),
        Attribute::Extractable(true),
    ]
}

/// The token decapsulates `ciphertext` with `private`; returns the shared secret.
fn token_decapsulates(
    token: &TestToken,
    session: &Session,
    private: ObjectHandle,
    ciphertext: &[u8],
) -> Vec<u8> {
    let module = token.module.name();
    let secret = session
        .decapsulate_key(
            &Mechanism::plain(ffi::CKM_ML_KEM),
            private,
            &readable_secret(),
            ciphertext,
        )
        .unwrap_or_else(|e| panic!("{module}: C_DecapsulateKey: {e}"));
    let value = session.get_attribute(secret, AttributeType::Value).unwrap();
    value.as_bytes().unwrap().to_vec()
}

#[test]
fn ml_kem_spki_and_seed_pkcs8_work_with_ml_kem() {
    use ml_kem::MlKem768;
    use pkcs8_v011::{DecodePublicKey, EncodePrivateKey};
    each_module("ml_kem_interop", |token| {
        let needed = [mech(ffi::CKM_ML_KEM_KEY_PAIR_GEN), mech(ffi::CKM_ML_KEM)];
        if !token.require("ml_kem_interop", &needed) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        // The token's key, exported as SPKI, read by ml-kem; ml-kem encapsulates to it and
        // the token decapsulates to the same secret.
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::plain(ffi::CKM_ML_KEM_KEY_PAIR_GEN),
                &[
                    Attribute::ParameterSet(MlKemParameterSet::MlKem768.raw()),
                    Attribute::Encapsulate(true),
                    Attribute::Token(false),
                ],
                &[Attribute::Decapsulate(true), Attribute::Token(false)],
            )
            .unwrap_or_else(|e| panic!("{module}: ML-KEM-768 key pair: {e}"));
        let spki = export(token, &session, public);
        let theirs = ml_kem::EncapsulationKey::<MlKem768>::from_public_key_der(&spki)
            .unwrap_or_else(|e| panic!("{module}: ml-kem refuses the ML-KEM-768 SPKI: {e}"));
        let m: [u8; 32] = session.generate_random(32).unwrap().try_into().unwrap();
        let (ciphertext, shared) = theirs.encapsulate_deterministic(&m.into());
        assert_eq!(
            token_decapsulates(token, &session, private, &ciphertext),
            shared.to_vec(),
            "{module}: the token decapsulates to another secret"
        );

        // An ml-kem key enters the token as seed-form PKCS #8; the token decapsulates
        // what ml-kem encapsulated to the key's public half.
        let seed: [u8; 64] = session.generate_random(64).unwrap().try_into().unwrap();
        let decapsulation = ml_kem::DecapsulationKey::<MlKem768>::from_seed(seed.into());
        let pkcs8 = decapsulation.to_pkcs8_der().unwrap();
        let imported = session
            .import_pkcs8(
                pkcs8.as_bytes(),
                &[Attribute::Decapsulate(true), Attribute::Token(false)],
            )
            .unwrap_or_else(|e| panic!("{module}: import a seed-only ML-KEM-768 PKCS #8: {e}"));
        let (ciphertext, shared) = decapsulation
            .encapsulation_key()
            .encapsulate_deterministic(&m.into());
        assert_eq!(
            token_decapsulates(token, &session, imported, &ciphertext),
            shared.to_vec(),
            "{module}: the imported ML-KEM key decapsulates to another secret"
        );
    });
}

#[test]
fn eddsa_and_montgomery_keys_from_openssl_enter_the_token() {
    each_module("openssl_curve_keys", |token| {
        if !token.require("openssl_curve_keys", &[mech(ffi::CKM_EDDSA)]) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let dir = TempDir::new("formats-openssl-curves");
        for (algorithm, curve) in [
            ("ED448", EcCurve::Ed448),
            ("ED25519", EcCurve::Ed25519),
            ("X25519", EcCurve::X25519),
            ("X448", EcCurve::X448),
        ] {
            // Montgomery keys only where the module has them at all.
            if curve.family() == pkcs11::formats::CurveFamily::Montgomery
                && !token.require(
                    &format!("openssl_curve_keys ({curve})"),
                    &[mech(ffi::CKM_EC_MONTGOMERY_KEY_PAIR_GEN)],
                )
            {
                continue;
            }
            let pem = format!("{algorithm}.pem");
            let der = format!("{algorithm}.der");
            let spki_file = format!("{algorithm}.pub.der");
            openssl(
                dir.path(),
                &["genpkey", "-algorithm", algorithm, "-out", &pem],
            );
            openssl(
                dir.path(),
                &[
                    "pkcs8", "-topk8", "-nocrypt", "-in", &pem, "-outform", "DER", "-out", &der,
                ],
            );
            openssl(
                dir.path(),
                &[
                    "pkey", "-in", &pem, "-pubout", "-outform", "DER", "-out", &spki_file,
                ],
            );
            let pkcs8 = std::fs::read(dir.path().join(&der)).unwrap();
            let spki = std::fs::read(dir.path().join(&spki_file)).unwrap();
            let template = private_key_template(&pkcs8).unwrap();
            assert!(
                template.contains(&Attribute::KeyType(curve.key_type())),
                "{curve}"
            );
            assert!(template.contains(&curve.ec_params_attribute()), "{curve}");
            // The public key, imported and exported again, is OpenSSL's SPKI.
            let public = session
                .import_spki(&spki, &[Attribute::Token(false)])
                .unwrap_or_else(|e| panic!("{module}: import OpenSSL's {curve} SPKI: {e}"));
            assert_eq!(
                export(token, &session, public),
                spki,
                "{module}: {curve} SPKI round trip"
            );
            if curve.family() == pkcs11::formats::CurveFamily::Montgomery {
                session
                    .import_pkcs8(&pkcs8, &[Attribute::Derive(true), Attribute::Token(false)])
                    .unwrap_or_else(|e| panic!("{module}: import OpenSSL's {curve} PKCS #8: {e}"));
                continue;
            }
            let private = session
                .import_pkcs8(&pkcs8, &[Attribute::Sign(true), Attribute::Token(false)])
                .unwrap_or_else(|e| panic!("{module}: import OpenSSL's {curve} PKCS #8: {e}"));
            let params = EddsaParams::new(false, b"").unwrap();
            let signature = match curve {
                EcCurve::Ed448 => session.sign(&Mechanism::EddsaWith(params), private, MESSAGE),
                _ => session.sign(&Mechanism::plain(ffi::CKM_EDDSA), private, MESSAGE),
            }
            .unwrap_or_else(|e| panic!("{module}: {curve} C_Sign: {e}"));
            assert!(
                openssl_verifies(&spki, MESSAGE, &signature),
                "{module}: OpenSSL refuses the imported {curve} key's signature"
            );
        }
    });
}
