//! Signatures across implementations, on both real modules: what the token signs,
//! RustCrypto verifies (`p256`, `p384`, `rsa`, `ed25519-dalek`, `ml-dsa`), and what
//! RustCrypto signs, the token verifies — with a flipped bit (in the signature, the
//! message or the hash) refused on both sides, so a verifier that says yes to anything
//! fails the test.
//!
//! Key material crosses over as public values only: the token's public key is read
//! (`CKA_EC_POINT`, `CKA_MODULUS` / `CKA_PUBLIC_EXPONENT`, `CKA_VALUE` of an ML-DSA
//! key) and rebuilt on the RustCrypto side; a RustCrypto public key is imported into the
//! token as a session public-key object.

use aes_gcm::aead::OsRng;
use pkcs11::{
    Attribute, AttributeType, Hedge, KeyType, Mechanism, MechanismType, ObjectHandle, ParameterSet,
    PssParams, Session, SignContext,
};
use pkcs11_tests::interop::{
    bytes_of, create_public_key, ec_point, ec_signing_pair, generate_pair, import_ec_public,
    ulong_of, ED25519_PARAMS, P256_PARAMS, P384_PARAMS,
};
use pkcs11_tests::modules::{each_module, TestToken};
use sha2::Digest;

const RSA_TEST_KEY_PEM: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQDRF2az5m6Mo+Lo\n\
Gl1wFGOV/dFqw2Dx2NtVW7cl6A3fcNkJaSEClWAQtQGIqJ2Zmcqjz/VrdqAti/WT\n\
FETthzSDClrz1Tpnk4Sfq2OmM5Pam9oDTo7VyoA+5x8xrvfbHHLv1LNhHZEcAwu6\n\
Rh5W4SlQB30Yv2txla80WROhlP7aT+6+fCtXp3Qviz+kmXFbh3lr7dOO0huWKQfn\n\
1mZDyWKTi6gF4I98NNdbIMW4EcBghWS9PqOSY7fJsweYR6JbJ/6/VDxF4vULB/KZ\n\
yAoY36C6K1PgGbwPu60cbv37t5OBsciXh8cfvXgNaSZ7af1CJlqEXhSY+Wpw/gyU\n\
slQj5pFrAgMBAAECggEAYgZDB18l/7hLhf3qRUPBxk1W0uMi/W7psPRNAi/u5Qxu\n\
K8vGBoSKI3sAa5WFQUAI8NBrYcSc5o2BhUEQ6XykATUnG74g4fMWT5bVolL245uC\n\
U1+Odis4AYVwKeY529bUCZzhtctbPtMsudjqm1d2+0Zvft0q3XbLy1JhcjS8YBMU\n\
wZLk1a+O9sB1wXXwku3pJhtwLd2OrXSjGNxkPsDBynmJlLhc0fxTLDW0+4QrxKNt\n\
/FRXlpVC2/dKTvNo6BjCcLXjOWjy0DxPUmgKyzuDoe1Tj8PmONiyYG4ybi/Jv/7t\n\
NBHAChVZRgEUQTTRdGneH29norsZsaVdQIQmP9rsrQKBgQD4fvXpb/yFRkNYWuVR\n\
55p5MZleL+wjbX1mPxwJkjVLnWFPMRBSrszjJQ3D0eIRX/trNcDH4uKZ2EaRbSR7\n\
Z4ZJu1kp4RIjzlxApCoPrzFRNeZ1JPrbdI778dUx5d9Jc+uQQOSvyNXzl6tWEVLO\n\
b2MVn/P+k59fJJ4ht8c7HlmZdQKBgQDXZ9E59JiLA9Tv2Y0+tBmPdOus9LMMHClL\n\
xHyLleljq1Pra5Ea0SM82a0hCvEtihEyD3xTYqRSFFE78AG0PlHAd+HCamFOisdv\n\
utbfUZPj/tOPzeKGGLYGNQHIe4+9+eNjnp9slBAhG+oHzc30bP3dSLhmIg7dNhxc\n\
jBw0eulDXwKBgQCYREOvPP3BNKLDmz71hzNym9/chQTvWIIEixtFCiA6Kz+bZPcZ\n\
kx7c+LGMkikyeFv4/8EXOoGbv5jON9CpBXCV8YTbUpzo7+Q7f9x+K93OY3bJxVUp\n\
8CxFWZRHtRGzUqK/i+QVirz/PKqyXH8fG8XdVFwQXKjFhgyXoKMmKJzCmQKBgAC6\n\
y0yk9XdTFf+R/xZ9SbDgtoOpeInL9p/ZFIrsgRPjWq9rd9xdZP8pxZpdDSAYXaKL\n\
xuIJbYERrIzFbVwM8f3y6gLclWPMuIw6V8v93MBi9piAHApUPxmaSF1DfeMo24pU\n\
2Tlm7v8Ntyc7nTz8uYdsXaOK7f311vbBSr8qw2uFAoGBAIcME6V1JS8fkEekeGBQ\n\
CPPjwDxFmwzhVaeV7R05LdP+3AvrPHKCegKTlIAuGFiKSF0T2JeJvc6nM0789lOh\n\
mk/P+2Bu1P4+e3abWtNS4QhoOcVUnTeJURCLusuLl49MBt9OBcu0mdHr+J4Xihkx\n\
V1jR7eL4cyDQnOn/t0lugbg4\n\
-----END PRIVATE KEY-----\n";

/// The messages every test signs: empty, short, 256 bytes, several kilobytes.
fn messages() -> Vec<Vec<u8>> {
    vec![
        Vec::new(),
        b"interop".to_vec(),
        (0..=255u8).collect(),
        (0..5000u32)
            .map(|i| (i.wrapping_mul(7) + 3) as u8)
            .collect(),
    ]
}

/// `data` with one bit flipped (bit `bit`, counted from the start), or one byte added
/// when it is empty: a different message or signature by exactly one change.
fn altered(data: &[u8], bit: usize) -> Vec<u8> {
    let mut out = data.to_vec();
    if out.is_empty() {
        out.push(0);
    } else {
        let bit = bit % (8 * out.len());
        out[bit / 8] ^= 1 << (bit % 8);
    }
    out
}

fn sign(
    token: &TestToken,
    session: &Session,
    mechanism: &Mechanism<'_>,
    key: ObjectHandle,
    data: &[u8],
) -> Vec<u8> {
    session.sign(mechanism, key, data).unwrap_or_else(|e| {
        panic!(
            "{}: signing {} bytes with {:?}: {e}",
            token.module.name(),
            data.len(),
            mechanism.mechanism_type()
        )
    })
}

fn verify(
    token: &TestToken,
    session: &Session,
    mechanism: &Mechanism<'_>,
    key: ObjectHandle,
    data: &[u8],
    signature: &[u8],
) -> bool {
    session
        .verify(mechanism, key, data, signature)
        .unwrap_or_else(|e| {
            panic!(
                "{}: verifying over {} bytes with {:?}: {e}",
                token.module.name(),
                data.len(),
                mechanism.mechanism_type()
            )
        })
}

// ---------------------------------------------------------------------------------------
// ECDSA P-256 / P-384

/// RustCrypto's verdicts on (uncompressed point, message, hash, `r || s`): verifying the
/// message, verifying the pre-computed hash.
type RcVerify = fn(&[u8], &[u8], &[u8], &[u8]) -> (bool, bool);

/// A fresh RustCrypto key for some messages: its uncompressed point and its `r || s`
/// signatures of the messages.
type RcSign = fn(&[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>);

/// One curve as both sides see it.
struct Curve {
    name: &'static str,
    params: &'static [u8],
    /// Bytes of a coordinate, and of `r` and `s`.
    field_len: usize,
    /// The hash its RustCrypto `Verifier` / `Signer` uses.
    hash: fn(&[u8]) -> Vec<u8>,
    /// `CKM_ECDSA_SHA256` / `CKM_ECDSA_SHA384`: the token hashes.
    with_hash: MechanismType,
    /// The same, as a mechanism.
    hashing: Mechanism<'static>,
    verify: RcVerify,
    sign: RcSign,
}

fn sha256(data: &[u8]) -> Vec<u8> {
    sha2::Sha256::digest(data).to_vec()
}

fn sha384(data: &[u8]) -> Vec<u8> {
    sha2::Sha384::digest(data).to_vec()
}

fn p256_verify(point: &[u8], message: &[u8], hash: &[u8], signature: &[u8]) -> (bool, bool) {
    use p256::ecdsa::signature::hazmat::PrehashVerifier;
    use p256::ecdsa::signature::Verifier;
    use p256::ecdsa::{Signature, VerifyingKey};
    let key = VerifyingKey::from_sec1_bytes(point).expect("the token's point is on P-256");
    let Ok(signature) = Signature::from_slice(signature) else {
        return (false, false);
    };
    (
        key.verify(message, &signature).is_ok(),
        key.verify_prehash(hash, &signature).is_ok(),
    )
}

fn p256_sign(messages: &[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>) {
    use p256::ecdsa::signature::Signer;
    use p256::ecdsa::{Signature, SigningKey};
    let key = SigningKey::random(&mut OsRng);
    let point = key
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec();
    let signatures = messages
        .iter()
        .map(|message| {
            let signature: Signature = key.sign(message);
            signature.to_bytes().to_vec()
        })
        .collect();
    (point, signatures)
}

fn p384_verify(point: &[u8], message: &[u8], hash: &[u8], signature: &[u8]) -> (bool, bool) {
    use p384::ecdsa::signature::hazmat::PrehashVerifier;
    use p384::ecdsa::signature::Verifier;
    use p384::ecdsa::{Signature, VerifyingKey};
    let key = VerifyingKey::from_sec1_bytes(point).expect("the token's point is on P-384");
    let Ok(signature) = Signature::from_slice(signature) else {
        return (false, false);
    };
    (
        key.verify(message, &signature).is_ok(),
        key.verify_prehash(hash, &signature).is_ok(),
    )
}

fn p384_sign(messages: &[Vec<u8>]) -> (Vec<u8>, Vec<Vec<u8>>) {
    use p384::ecdsa::signature::Signer;
    use p384::ecdsa::{Signature, SigningKey};
    let key = SigningKey::random(&mut OsRng);
    let point = key
        .verifying_key()
        .to_encoded_point(false)
        .as_bytes()
        .to_vec();
    let signatures = messages
        .iter()
        .map(|message| {
            let signature: Signature = key.sign(message);
            signature.to_bytes().to_vec()
        })
        .collect();
    (point, signatures)
}

const P256: Curve = Curve {
    name: "P-256",
    params: P256_PARAMS,
    field_len: 32,
    hash: sha256,
    with_hash: MechanismType::ECDSA_SHA256,
    hashing: Mechanism::EcdsaSha256,
    verify: p256_verify,
    sign: p256_sign,
};

const P384: Curve = Curve {
    name: "P-384",
    params: P384_PARAMS,
    field_len: 48,
    hash: sha384,
    with_hash: MechanismType::ECDSA_SHA384,
    hashing: Mechanism::EcdsaSha384,
    verify: p384_verify,
    sign: p384_sign,
};

fn token_ecdsa_verified_by_rustcrypto(test: &str, token: &TestToken, curve: &Curve) {
    let module = token.module.name();
    let session = token.session();
    let (public, private) = ec_signing_pair(token, &session, curve.params, false);
    let point = ec_point(token, &session, public, 1 + 2 * curve.field_len);
    assert_eq!(point[0], 0x04, "{module}: an uncompressed point");
    let with_hash = token.require(
        &format!("{test} (the {:?} part)", curve.with_hash),
        &[curve.with_hash],
    );
    for message in messages() {
        let hash = (curve.hash)(&message);
        let other = altered(&message, 5);
        let other_hash = (curve.hash)(&other);
        let signature = sign(token, &session, &Mechanism::Ecdsa, private, &hash);
        assert_eq!(signature.len(), 2 * curve.field_len, "{module}: r || s");
        assert_eq!(
            (curve.verify)(&point, &message, &hash, &signature),
            (true, true),
            "{module}: RustCrypto refuses the token's {} CKM_ECDSA signature over {} bytes",
            curve.name,
            message.len()
        );
        assert_eq!(
            (curve.verify)(&point, &other, &other_hash, &signature),
            (false, false),
            "{module}: RustCrypto accepts a {} signature for another message",
            curve.name
        );
        for bit in [3, 8 * curve.field_len + 250] {
            assert_eq!(
                (curve.verify)(&point, &message, &hash, &altered(&signature, bit)),
                (false, false),
                "{module}: RustCrypto accepts a {} signature with bit {bit} flipped",
                curve.name
            );
        }
        if with_hash {
            let mechanism = curve.hashing.clone();
            let signature = sign(token, &session, &mechanism, private, &message);
            assert_eq!(
                (curve.verify)(&point, &message, &hash, &signature),
                (true, true),
                "{module}: RustCrypto refuses the token's {:?} signature over {} bytes",
                curve.with_hash,
                message.len()
            );
            assert_eq!(
                (curve.verify)(&point, &other, &other_hash, &signature),
                (false, false),
                "{module}: RustCrypto accepts a {:?} signature for another message",
                curve.with_hash
            );
        }
    }
}

fn rustcrypto_ecdsa_verified_by_token(test: &str, token: &TestToken, curve: &Curve) {
    let module = token.module.name();
    let session = token.session();
    let messages = messages();
    let (point, signatures) = (curve.sign)(&messages);
    let public = import_ec_public(token, &session, curve.params, &point, false);
    assert_eq!(
        ec_point(token, &session, public, point.len()),
        point,
        "{module}: the imported point reads back"
    );
    let with_hash = token.require(
        &format!("{test} (the {:?} part)", curve.with_hash),
        &[curve.with_hash],
    );
    for (message, signature) in messages.iter().zip(&signatures) {
        let hash = (curve.hash)(message);
        let ecdsa = Mechanism::Ecdsa;
        assert!(
            verify(token, &session, &ecdsa, public, &hash, signature),
            "{module}: the token refuses RustCrypto's {} signature over {} bytes",
            curve.name,
            message.len()
        );
        for bit in [0, 8 * curve.field_len - 1, 8 * curve.field_len + 17] {
            assert!(
                !verify(
                    token,
                    &session,
                    &ecdsa,
                    public,
                    &hash,
                    &altered(signature, bit)
                ),
                "{module}: the token accepts a {} signature with bit {bit} flipped",
                curve.name
            );
        }
        assert!(
            !verify(
                token,
                &session,
                &ecdsa,
                public,
                &altered(&hash, 77),
                signature
            ),
            "{module}: the token accepts a {} signature over another hash",
            curve.name
        );
        if with_hash {
            let mechanism = curve.hashing.clone();
            assert!(
                verify(token, &session, &mechanism, public, message, signature),
                "{module}: the token's {:?} refuses RustCrypto's signature over {} bytes",
                curve.with_hash,
                message.len()
            );
            assert!(
                !verify(
                    token,
                    &session,
                    &mechanism,
                    public,
                    &altered(message, 9),
                    signature
                ),
                "{module}: the token's {:?} accepts a signature for another message",
                curve.with_hash
            );
        }
    }
}

#[test]
fn token_ecdsa_p256_verified_by_rustcrypto() {
    each_module("token_ecdsa_p256_verified_by_rustcrypto", |token| {
        if token.require(
            "token_ecdsa_p256_verified_by_rustcrypto",
            &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDSA],
        ) {
            token_ecdsa_verified_by_rustcrypto(
                "token_ecdsa_p256_verified_by_rustcrypto",
                token,
                &P256,
            );
        }
    });
}

#[test]
fn token_ecdsa_p384_verified_by_rustcrypto() {
    each_module("token_ecdsa_p384_verified_by_rustcrypto", |token| {
        if token.require(
            "token_ecdsa_p384_verified_by_rustcrypto",
            &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDSA],
        ) {
            token_ecdsa_verified_by_rustcrypto(
                "token_ecdsa_p384_verified_by_rustcrypto",
                token,
                &P384,
            );
        }
    });
}

#[test]
fn rustcrypto_ecdsa_p256_verified_by_token() {
    each_module("rustcrypto_ecdsa_p256_verified_by_token", |token| {
        if token.require(
            "rustcrypto_ecdsa_p256_verified_by_token",
            &[MechanismType::ECDSA],
        ) {
            rustcrypto_ecdsa_verified_by_token(
                "rustcrypto_ecdsa_p256_verified_by_token",
                token,
                &P256,
            );
        }
    });
}

#[test]
fn rustcrypto_ecdsa_p384_verified_by_token() {
    each_module("rustcrypto_ecdsa_p384_verified_by_token", |token| {
        if token.require(
            "rustcrypto_ecdsa_p384_verified_by_token",
            &[MechanismType::ECDSA],
        ) {
            rustcrypto_ecdsa_verified_by_token(
                "rustcrypto_ecdsa_p384_verified_by_token",
                token,
                &P384,
            );
        }
    });
}

// ---------------------------------------------------------------------------------------
// RSA PKCS #1 v1.5 and PSS

/// The `DigestInfo` prefix of a SHA-256 hash (RFC 8017 section 9.2, note 1).
const SHA256_DIGEST_INFO: [u8; 19] = [
    0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05,
    0x00, 0x04, 0x20,
];

/// PSS with SHA-384, MGF1-SHA-384 and a 48-byte salt (what RustCrypto's
/// `pss::VerifyingKey<Sha384>` expects): passed to `CKM_RSA_PKCS_PSS` over a hash.
const PSS_SHA384: PssParams = PssParams::new(MechanismType::SHA384, pkcs11::Mgf::MGF1_SHA384, 48);

fn rsa_public_of(token: &TestToken, session: &Session, public: ObjectHandle) -> rsa::RsaPublicKey {
    let n = bytes_of(token, session, public, AttributeType::Modulus);
    let e = bytes_of(token, session, public, AttributeType::PublicExponent);
    rsa::RsaPublicKey::new(
        rsa::BigUint::from_bytes_be(&n),
        rsa::BigUint::from_bytes_be(&e),
    )
    .unwrap_or_else(|e| panic!("{}: the token's RSA public key: {e}", token.module.name()))
}

/// RustCrypto's verdict on `signature` of `message` under `verifier`.
fn rc_verifies<V, S>(verifier: &V, message: &[u8], signature: &[u8]) -> bool
where
    V: rsa::signature::Verifier<S>,
    S: for<'a> TryFrom<&'a [u8]>,
{
    match S::try_from(signature) {
        Ok(signature) => verifier.verify(message, &signature).is_ok(),
        Err(_) => false,
    }
}

#[test]
fn token_rsa_verified_by_rustcrypto() {
    each_module("token_rsa_verified_by_rustcrypto", |token| {
        let needed = [
            MechanismType::RSA_PKCS_KEY_PAIR_GEN,
            MechanismType::RSA_PKCS,
            MechanismType::SHA256_RSA_PKCS,
            MechanismType::RSA_PKCS_PSS,
            MechanismType::SHA256_RSA_PKCS_PSS,
            MechanismType::SHA384_RSA_PKCS,
            MechanismType::SHA384_RSA_PKCS_PSS,
        ];
        if !token.require("token_rsa_verified_by_rustcrypto", &needed) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public, private) = generate_pair(
            token,
            &session,
            &Mechanism::RsaPkcsKeyPairGen,
            &[
                Attribute::ModulusBits(2048),
                Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                Attribute::Verify(true),
            ],
            &[Attribute::Sign(true)],
        );
        let key = rsa_public_of(token, &session, public);
        let pkcs1 = rsa::pkcs1v15::VerifyingKey::<sha2::Sha256>::new(key.clone());
        let pss = rsa::pss::VerifyingKey::<sha2::Sha256>::new(key.clone());
        let pkcs1_384 = rsa::pkcs1v15::VerifyingKey::<sha2::Sha384>::new(key.clone());
        let pss384 = rsa::pss::VerifyingKey::<sha2::Sha384>::new(key);
        for message in messages() {
            let other = altered(&message, 11);
            let hash = sha256(&message);

            let signature = sign(
                token,
                &session,
                &Mechanism::Sha256RsaPkcs,
                private,
                &message,
            );
            assert_eq!(signature.len(), 256, "{module}: a 2048-bit signature");
            assert!(
                rc_verifies::<_, rsa::pkcs1v15::Signature>(&pkcs1, &message, &signature),
                "{module}: RustCrypto refuses the token's CKM_SHA256_RSA_PKCS signature over {} bytes",
                message.len()
            );
            assert!(!rc_verifies::<_, rsa::pkcs1v15::Signature>(
                &pkcs1, &other, &signature
            ));
            assert!(!rc_verifies::<_, rsa::pkcs1v15::Signature>(
                &pkcs1,
                &message,
                &altered(&signature, 1000)
            ));
            // PKCS #1 v1.5 is deterministic: CKM_RSA_PKCS over the DigestInfo gives the
            // very same bytes.
            let digest_info = [&SHA256_DIGEST_INFO[..], &hash].concat();
            let raw = sign(token, &session, &Mechanism::RsaPkcs, private, &digest_info);
            assert_eq!(raw, signature, "{module}: CKM_RSA_PKCS over the DigestInfo");

            let mechanism = Mechanism::Sha256RsaPkcsPss(PssParams::sha256());
            let signature = sign(token, &session, &mechanism, private, &message);
            assert!(
                rc_verifies::<_, rsa::pss::Signature>(&pss, &message, &signature),
                "{module}: RustCrypto refuses the token's CKM_SHA256_RSA_PKCS_PSS signature over {} bytes",
                message.len()
            );
            assert!(!rc_verifies::<_, rsa::pss::Signature>(
                &pss, &other, &signature
            ));
            assert!(!rc_verifies::<_, rsa::pss::Signature>(
                &pss,
                &message,
                &altered(&signature, 7)
            ));

            let hash384 = sha384(&message);
            let mechanism = Mechanism::RsaPkcsPss(PSS_SHA384);
            let signature = sign(token, &session, &mechanism, private, &hash384);
            assert!(
                rc_verifies::<_, rsa::pss::Signature>(&pss384, &message, &signature),
                "{module}: RustCrypto refuses the token's CKM_RSA_PKCS_PSS (SHA-384, salt 48) \
                 signature over {} bytes",
                message.len()
            );
            assert!(!rc_verifies::<_, rsa::pss::Signature>(
                &pss384, &other, &signature
            ));
            // The same token hashing with SHA-384.
            let mechanism = Mechanism::Sha384RsaPkcsPss(PssParams::sha384());
            let signature = sign(token, &session, &mechanism, private, &message);
            assert!(
                rc_verifies::<_, rsa::pss::Signature>(&pss384, &message, &signature),
                "{module}: RustCrypto refuses the token's CKM_SHA384_RSA_PKCS_PSS signature"
            );
            let signature = sign(
                token,
                &session,
                &Mechanism::Sha384RsaPkcs,
                private,
                &message,
            );
            assert!(
                rc_verifies::<_, rsa::pkcs1v15::Signature>(&pkcs1_384, &message, &signature),
                "{module}: RustCrypto refuses the token's CKM_SHA384_RSA_PKCS signature"
            );
            assert!(!rc_verifies::<_, rsa::pkcs1v15::Signature>(
                &pkcs1_384, &other, &signature
            ));
        }
    });
}

#[test]
fn rustcrypto_rsa_verified_by_token() {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{RandomizedSigner, SignatureEncoding, Signer};
    use rsa::traits::PublicKeyParts;

    each_module("rustcrypto_rsa_verified_by_token", |token| {
        let needed = [
            MechanismType::RSA_PKCS,
            MechanismType::SHA256_RSA_PKCS,
            MechanismType::RSA_PKCS_PSS,
            MechanismType::SHA256_RSA_PKCS_PSS,
        ];
        if !token.require("rustcrypto_rsa_verified_by_token", &needed) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let private = rsa::RsaPrivateKey::from_pkcs8_pem(RSA_TEST_KEY_PEM).expect("the test key");
        let public = create_public_key(
            token,
            &session,
            &[
                Attribute::KeyType(KeyType::Rsa),
                Attribute::Modulus(private.n().to_bytes_be()),
                Attribute::PublicExponent(private.e().to_bytes_be()),
                Attribute::Verify(true),
            ],
        );
        let pkcs1 = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(private.clone());
        let pss = rsa::pss::SigningKey::<sha2::Sha256>::new(private.clone());
        let pss384 = rsa::pss::SigningKey::<sha2::Sha384>::new(private);
        for message in messages() {
            let other = altered(&message, 3);
            let signature = pkcs1.sign(&message).to_vec();
            let mechanism = Mechanism::Sha256RsaPkcs;
            assert!(
                verify(token, &session, &mechanism, public, &message, &signature),
                "{module}: CKM_SHA256_RSA_PKCS refuses RustCrypto's signature over {} bytes",
                message.len()
            );
            assert!(!verify(
                token, &session, &mechanism, public, &other, &signature
            ));
            assert!(!verify(
                token,
                &session,
                &mechanism,
                public,
                &message,
                &altered(&signature, 2040)
            ));
            let digest_info = [&SHA256_DIGEST_INFO[..], &sha256(&message)].concat();
            assert!(
                verify(
                    token,
                    &session,
                    &Mechanism::RsaPkcs,
                    public,
                    &digest_info,
                    &signature
                ),
                "{module}: CKM_RSA_PKCS refuses RustCrypto's signature over the DigestInfo"
            );

            let signature = pss.sign_with_rng(&mut OsRng, &message).to_vec();
            let mechanism = Mechanism::Sha256RsaPkcsPss(PssParams::sha256());
            assert!(
                verify(token, &session, &mechanism, public, &message, &signature),
                "{module}: CKM_SHA256_RSA_PKCS_PSS refuses RustCrypto's signature over {} bytes",
                message.len()
            );
            assert!(!verify(
                token, &session, &mechanism, public, &other, &signature
            ));
            assert!(!verify(
                token,
                &session,
                &mechanism,
                public,
                &message,
                &altered(&signature, 100)
            ));

            let signature = pss384.sign_with_rng(&mut OsRng, &message).to_vec();
            let mechanism = Mechanism::RsaPkcsPss(PSS_SHA384);
            let hash384 = sha384(&message);
            assert!(
                verify(token, &session, &mechanism, public, &hash384, &signature),
                "{module}: CKM_RSA_PKCS_PSS (SHA-384, salt 48) refuses RustCrypto's signature"
            );
            assert!(!verify(
                token,
                &session,
                &mechanism,
                public,
                &altered(&hash384, 1),
                &signature
            ));
        }
    });
}

// ---------------------------------------------------------------------------------------
// Ed25519

#[test]
fn token_ed25519_verified_by_rustcrypto() {
    each_module("token_ed25519_verified_by_rustcrypto", |token| {
        let needed = [MechanismType::EC_EDWARDS_KEY_PAIR_GEN, MechanismType::EDDSA];
        if !token.require("token_ed25519_verified_by_rustcrypto", &needed) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public, private) = ec_signing_pair(token, &session, ED25519_PARAMS, true);
        let point: [u8; 32] = ec_point(token, &session, public, 32).try_into().unwrap();
        let key = ed25519_dalek::VerifyingKey::from_bytes(&point)
            .unwrap_or_else(|e| panic!("{module}: the token's Ed25519 public key: {e}"));
        let rc_verifies = |message: &[u8], signature: &[u8]| {
            let Ok(bytes) = <[u8; 64]>::try_from(signature) else {
                return false;
            };
            let signature = ed25519_dalek::Signature::from_bytes(&bytes);
            key.verify_strict(message, &signature).is_ok()
        };
        for message in messages() {
            let signature = sign(token, &session, &Mechanism::Eddsa, private, &message);
            assert!(
                rc_verifies(&message, &signature),
                "{module}: ed25519-dalek refuses the token's signature over {} bytes",
                message.len()
            );
            assert!(!rc_verifies(&altered(&message, 2), &signature));
            for bit in [0, 300, 511] {
                assert!(
                    !rc_verifies(&message, &altered(&signature, bit)),
                    "bit {bit}"
                );
            }
            // Ed25519 is deterministic: the token signs the same message the same way.
            assert_eq!(
                sign(token, &session, &Mechanism::Eddsa, private, &message),
                signature,
                "{module}: Ed25519 signatures are deterministic"
            );
        }
    });
}

#[test]
fn rustcrypto_ed25519_verified_by_token() {
    use ed25519_dalek::Signer;

    each_module("rustcrypto_ed25519_verified_by_token", |token| {
        if !token.require(
            "rustcrypto_ed25519_verified_by_token",
            &[MechanismType::EDDSA],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let key = ed25519_dalek::SigningKey::generate(&mut OsRng);
        let point = key.verifying_key().to_bytes();
        let public = import_ec_public(token, &session, ED25519_PARAMS, &point, true);
        for message in messages() {
            let signature = key.sign(&message).to_bytes();
            assert!(
                verify(
                    token,
                    &session,
                    &Mechanism::Eddsa,
                    public,
                    &message,
                    &signature
                ),
                "{module}: the token refuses ed25519-dalek's signature over {} bytes",
                message.len()
            );
            assert!(!verify(
                token,
                &session,
                &Mechanism::Eddsa,
                public,
                &altered(&message, 4),
                &signature
            ));
            for bit in [1, 256, 510] {
                assert!(
                    !verify(
                        token,
                        &session,
                        &Mechanism::Eddsa,
                        public,
                        &message,
                        &altered(&signature, bit)
                    ),
                    "{module}: the token accepts an Ed25519 signature with bit {bit} flipped"
                );
            }
        }
    });
}

// ---------------------------------------------------------------------------------------
// ML-DSA (FIPS 204), pure, with and without a context string

/// `CKM_ML_DSA` with the context `context`: `None` for no mechanism parameter at all
/// (pure ML-DSA, empty context, hedged), else `CK_SIGN_ADDITIONAL_CONTEXT` with `hedge`.
fn ml_dsa(hedge: Hedge, context: Option<&[u8]>) -> Mechanism<'_> {
    Mechanism::MlDsa(context.map(|c| SignContext::new(hedge, c).expect("a short context")))
}

/// The contexts every ML-DSA test uses: none (no mechanism parameter), an empty one
/// given explicitly, and a non-empty one.
const CONTEXTS: [Option<&[u8]>; 3] = [None, Some(b""), Some(b"pkcs11-rs interop context")];

/// The three parameter sets: (`CKP_ML_DSA_*`, name).
const ML_DSA_SETS: [(ParameterSet, &str); 3] = [
    (ParameterSet::ML_DSA_44, "ML-DSA-44"),
    (ParameterSet::ML_DSA_65, "ML-DSA-65"),
    (ParameterSet::ML_DSA_87, "ML-DSA-87"),
];

/// RustCrypto's verdict on an ML-DSA signature by the public key `public` (its FIPS 204
/// encoding).
fn ml_dsa_verifies<P: ml_dsa::MlDsaParams>(
    public: &[u8],
    message: &[u8],
    context: &[u8],
    signature: &[u8],
) -> bool {
    let encoded = ml_dsa::EncodedVerifyingKey::<P>::try_from(public).unwrap_or_else(|_| {
        panic!(
            "an ML-DSA public key of {} bytes has the wrong size",
            public.len()
        )
    });
    let key = ml_dsa::VerifyingKey::<P>::decode(&encoded);
    match ml_dsa::Signature::<P>::try_from(signature) {
        Ok(signature) => key.verify_with_context(message, context, &signature),
        Err(_) => false,
    }
}

fn token_ml_dsa_for<P: ml_dsa::MlDsaParams>(token: &TestToken, set: ParameterSet, name: &str) {
    let set = set.raw();
    let module = token.module.name();
    let session = token.session();
    let (public, private) = generate_pair(
        token,
        &session,
        &Mechanism::MlDsaKeyPairGen,
        &[Attribute::ParameterSet(set), Attribute::Verify(true)],
        &[Attribute::Sign(true)],
    );
    assert_eq!(
        ulong_of(token, &session, public, AttributeType::ParameterSet),
        set
    );
    let value = bytes_of(token, &session, public, AttributeType::Value);
    for context in CONTEXTS {
        let mechanism = ml_dsa(Hedge::Preferred, context);
        let context = context.unwrap_or_default();
        for message in messages() {
            let signature = sign(token, &session, &mechanism, private, &message);
            assert!(
                ml_dsa_verifies::<P>(&value, &message, context, &signature),
                "{module}: ml-dsa refuses the token's {name} signature over {} bytes with a \
                 {}-byte context",
                message.len(),
                context.len()
            );
            assert!(!ml_dsa_verifies::<P>(
                &value,
                &altered(&message, 6),
                context,
                &signature
            ));
            assert!(
                !ml_dsa_verifies::<P>(&value, &message, b"another context", &signature),
                "{module}: ml-dsa accepts a {name} signature under another context"
            );
            for bit in [0, 8 * signature.len() / 2, 8 * signature.len() - 1] {
                assert!(!ml_dsa_verifies::<P>(
                    &value,
                    &message,
                    context,
                    &altered(&signature, bit)
                ));
            }
        }
    }
}

#[test]
fn token_ml_dsa_verified_by_rustcrypto() {
    each_module("token_ml_dsa_verified_by_rustcrypto", |token| {
        let needed = [MechanismType::ML_DSA_KEY_PAIR_GEN, MechanismType::ML_DSA];
        if !token.require("token_ml_dsa_verified_by_rustcrypto", &needed) {
            return;
        }
        token_ml_dsa_for::<ml_dsa::MlDsa44>(token, ML_DSA_SETS[0].0, ML_DSA_SETS[0].1);
        token_ml_dsa_for::<ml_dsa::MlDsa65>(token, ML_DSA_SETS[1].0, ML_DSA_SETS[1].1);
        token_ml_dsa_for::<ml_dsa::MlDsa87>(token, ML_DSA_SETS[2].0, ML_DSA_SETS[2].1);
    });
}

fn rustcrypto_ml_dsa_for<P: ml_dsa::MlDsaParams>(token: &TestToken, set: ParameterSet, name: &str) {
    let set = set.raw();
    use aes_gcm::aead::rand_core::RngCore;

    let module = token.module.name();
    let session = token.session();
    let mut seed = [0u8; 32];
    OsRng.fill_bytes(&mut seed);
    let key = ml_dsa::SigningKey::<P>::from_seed(&seed.into());
    let encoded = ml_dsa::Keypair::verifying_key(&key).encode();
    let public = create_public_key(
        token,
        &session,
        &[
            Attribute::KeyType(KeyType::MlDsa),
            Attribute::ParameterSet(set),
            Attribute::Value(pkcs11::SecretBytes::new(encoded.to_vec())),
            Attribute::Verify(true),
        ],
    );
    // The same key as a token private key (from its FIPS 204 seed): deterministic
    // signing is a function of key, message and context, so the token's signature must
    // equal ml-dsa's byte for byte.
    let private = session
        .create_object(&[
            Attribute::Class(pkcs11::ObjectClass::PrivateKey),
            Attribute::KeyType(KeyType::MlDsa),
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::ParameterSet(set),
            Attribute::Seed(pkcs11::SecretBytes::new(seed.to_vec())),
            Attribute::Sign(true),
        ])
        .unwrap_or_else(|e| panic!("{module}: importing an {name} private key from its seed: {e}"));
    for context in CONTEXTS {
        let context = context.unwrap_or_default();
        let deterministic = ml_dsa(Hedge::DeterministicRequired, Some(context));
        for message in messages() {
            let expected = key
                .expanded_key()
                .sign_deterministic(&message, context)
                .expect("a short context")
                .encode()
                .to_vec();
            assert_eq!(
                sign(token, &session, &deterministic, private, &message),
                expected,
                "{module}: the token's deterministic {name} signature over {} bytes with a \
                 {}-byte context differs from ml-dsa's",
                message.len(),
                context.len()
            );
        }
    }
    for context in CONTEXTS {
        let mechanism = ml_dsa(Hedge::Preferred, context);
        let context = context.unwrap_or_default();
        let other_context = ml_dsa(Hedge::Preferred, Some(b"other"));
        for message in messages() {
            let signature = key
                .expanded_key()
                .sign_deterministic(&message, context)
                .expect("a context of at most 255 bytes")
                .encode()
                .to_vec();
            assert!(
                verify(token, &session, &mechanism, public, &message, &signature),
                "{module}: the token refuses ml-dsa's {name} signature over {} bytes with a \
                 {}-byte context",
                message.len(),
                context.len()
            );
            assert!(
                !verify(
                    token,
                    &session,
                    &other_context,
                    public,
                    &message,
                    &signature
                ),
                "{module}: the token accepts a {name} signature under another context"
            );
            assert!(!verify(
                token,
                &session,
                &mechanism,
                public,
                &altered(&message, 8),
                &signature
            ));
            for bit in [5, 8 * signature.len() / 3, 8 * signature.len() - 8] {
                assert!(
                    !verify(
                        token,
                        &session,
                        &mechanism,
                        public,
                        &message,
                        &altered(&signature, bit)
                    ),
                    "{module}: the token accepts a {name} signature with bit {bit} flipped"
                );
            }
        }
    }
}

#[test]
fn rustcrypto_ml_dsa_verified_by_token() {
    each_module("rustcrypto_ml_dsa_verified_by_token", |token| {
        if !token.require(
            "rustcrypto_ml_dsa_verified_by_token",
            &[MechanismType::ML_DSA],
        ) {
            return;
        }
        rustcrypto_ml_dsa_for::<ml_dsa::MlDsa44>(token, ML_DSA_SETS[0].0, ML_DSA_SETS[0].1);
        rustcrypto_ml_dsa_for::<ml_dsa::MlDsa65>(token, ML_DSA_SETS[1].0, ML_DSA_SETS[1].1);
        rustcrypto_ml_dsa_for::<ml_dsa::MlDsa87>(token, ML_DSA_SETS[2].0, ML_DSA_SETS[2].1);
    });
}
