//! Key management on both real modules (issue 4, item 2): wrap / unwrap with templates,
//! derive, and the 3.2 key encapsulation; the marshalling of the same functions checked
//! on the fault module.
//!
//! Results are checked against independent implementations where one exists (RustCrypto
//! `aes-kw` for RFC 3394 / RFC 5649 key wrap, `p256` for ECDH, `hkdf` / `pbkdf2`), and
//! always by using the keys that come out: an unwrapped or derived key must encrypt
//! exactly as the original does.

use pkcs11::{
    ffi, Attribute, AttributeType, Error, KeyType, Mechanism, MechanismType, OaepParams,
    ObjectClass, ObjectHandle, Pin, SecretBytes, Session, UserType,
};
use pkcs11_tests::fault::{FaultModule, CKM_FAULT_XOR, SLOT, USER_PIN};
use pkcs11_tests::modules::{each_module, token, Module, TestToken};

/// DER of the OID of NIST P-256 (`CKA_EC_PARAMS`).
const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn mech(m: ffi::CK_MECHANISM_TYPE) -> MechanismType {
    MechanismType(m)
}

/// An AES key with the known `value`, usable for everything these tests do with it.
fn aes_key(session: &Session, value: &[u8]) -> ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::Aes),
            Attribute::Value(SecretBytes::new(value.to_vec())),
            Attribute::Token(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Wrap(true),
            Attribute::Unwrap(true),
            Attribute::Extractable(true),
            Attribute::Sensitive(false),
        ])
        .expect("create an AES key")
}

/// The template of a session AES key that can be read back.
fn readable_aes_template() -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SecretKey),
        Attribute::KeyType(KeyType::Aes),
        Attribute::Token(false),
        Attribute::Encrypt(true),
        Attribute::Decrypt(true),
        Attribute::Extractable(true),
        Attribute::Sensitive(false),
    ]
}

/// A key's `CKA_VALUE`.
fn value(session: &Session, key: ObjectHandle) -> SecretBytes {
    match session.get_attribute(key, AttributeType::Value) {
        Ok(Attribute::Value(v)) => v,
        other => panic!("CKA_VALUE of {key:?}: {other:?}"),
    }
}

/// The AES-ECB encryption of one fixed block under `key`: two keys are equal if this is.
fn ecb_block(session: &Session, key: ObjectHandle) -> Vec<u8> {
    session
        .encrypt(
            &Mechanism::plain(ffi::CKM_AES_ECB),
            key,
            b"sixteen byte blk",
        )
        .expect("AES-ECB encrypt")
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

#[test]
fn aes_key_wrap_matches_rfc_3394_and_unwraps_with_a_template() {
    each_module("aes_key_wrap", |token: &'static TestToken| {
        if !token.require(
            "aes_key_wrap",
            &[mech(ffi::CKM_AES_KEY_WRAP), mech(ffi::CKM_AES_ECB)],
        ) {
            return;
        }
        let session = token.session();
        let kek_value = pattern(32, 1);
        let key_value = pattern(16, 2);
        let kek = aes_key(&session, &kek_value);
        let key = aes_key(&session, &key_value);
        let wrap = Mechanism::plain(ffi::CKM_AES_KEY_WRAP);

        let wrapped = session.wrap_key(&wrap, kek, key).expect("C_WrapKey");
        // RFC 3394 with the default IV, computed independently.
        let kw = aes_kw::KekAes256::from(<[u8; 32]>::try_from(&kek_value[..]).unwrap());
        let expected = kw.wrap_vec(&key_value).expect("aes-kw wrap");
        assert_eq!(wrapped, expected, "{}", token.module.name());

        // The allocation-free form: exact buffer, and a buffer one byte short.
        let mut out = [0u8; 24];
        assert_eq!(
            session.wrap_key_into(&wrap, kek, key, &mut out).unwrap(),
            24
        );
        assert_eq!(out[..], expected[..]);
        let mut short = [0u8; 23];
        let error = session
            .wrap_key_into(&wrap, kek, key, &mut short)
            .expect_err("a 23-byte buffer for a 24-byte wrapped key");
        let text = error.to_string();
        assert!(
            matches!(error, Error::InvalidInput { .. }) && text.contains("C_WrapKey"),
            "{text}"
        );
        assert!(text.contains("24 bytes needed"), "{text}");

        let unwrapped = session
            .unwrap_key(&wrap, kek, &wrapped, &readable_aes_template())
            .expect("C_UnwrapKey");
        assert_ne!(unwrapped, key);
        assert_eq!(value(&session, unwrapped).as_bytes(), &key_value[..]);
        assert_eq!(
            session
                .get_attribute(unwrapped, AttributeType::KeyType)
                .unwrap(),
            Attribute::KeyType(KeyType::Aes)
        );
        assert_eq!(ecb_block(&session, unwrapped), ecb_block(&session, key));

        // A damaged wrapped key is refused, naming the function.
        let mut damaged = wrapped.clone();
        damaged[3] ^= 1;
        let error = session
            .unwrap_key(&wrap, kek, &damaged, &readable_aes_template())
            .expect_err("a damaged wrapped key");
        assert_eq!(error.function(), Some("C_UnwrapKey"), "{error}");
        // The session is fine afterwards.
        assert_eq!(ecb_block(&session, unwrapped), ecb_block(&session, key));
    });
}

/// RFC 5649 (AES key wrap with padding) under its two PKCS #11 names: `CKM_AES_KEY_WRAP_PAD`
/// (SoftHSM) and `CKM_AES_KEY_WRAP_KWP` (3.0; Kryoptic).
fn padded_wrap(token: &'static TestToken, mechanism: ffi::CK_MECHANISM_TYPE, test: &str) {
    if !token.require(test, &[mech(mechanism), mech(ffi::CKM_AES_ECB)]) {
        return;
    }
    let session = token.session();
    let kek_value = pattern(16, 7);
    let kek = aes_key(&session, &kek_value);
    let wrap = Mechanism::plain(mechanism);
    let kw = aes_kw::KekAes128::from(<[u8; 16]>::try_from(&kek_value[..]).unwrap());
    // A 24-byte AES key (a multiple of 8) and, for the padding, a 20-byte generic secret.
    let key_value = pattern(24, 8);
    let key = aes_key(&session, &key_value);
    let wrapped = session.wrap_key(&wrap, kek, key).expect("C_WrapKey");
    assert_eq!(wrapped, kw.wrap_with_padding_vec(&key_value).unwrap());
    let unwrapped = session
        .unwrap_key(&wrap, kek, &wrapped, &readable_aes_template())
        .expect("C_UnwrapKey");
    assert_eq!(ecb_block(&session, unwrapped), ecb_block(&session, key));

    let secret_value = pattern(20, 9);
    let secret = session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::GenericSecret),
            Attribute::Value(SecretBytes::new(secret_value.clone())),
            Attribute::Token(false),
            Attribute::Extractable(true),
            Attribute::Sensitive(false),
        ])
        .expect("create a generic secret");
    let wrapped = session.wrap_key(&wrap, kek, secret).expect("C_WrapKey");
    assert_eq!(
        wrapped.len(),
        32,
        "20 bytes padded to 24, plus the 8-byte AIV"
    );
    let mut padded = secret_value.clone();
    if mechanism == ffi::CKM_AES_KEY_WRAP_KWP {
        // RFC 5649 exactly: the length indicator says 20.
        assert_eq!(wrapped, kw.wrap_with_padding_vec(&secret_value).unwrap());
    } else {
        // SoftHSM's CKM_AES_KEY_WRAP_PAD (a 2.40 name whose padding the standard left
        // open) zero-pads the key to a multiple of 8 first, then wraps with RFC 5649:
        // the length indicator says 24.
        padded.resize(24, 0);
        assert_eq!(kw.unwrap_with_padding_vec(&wrapped).unwrap(), padded);
    }
    let back = session
        .unwrap_key(
            &wrap,
            kek,
            &wrapped,
            &[
                Attribute::Class(ObjectClass::SecretKey),
                Attribute::KeyType(KeyType::GenericSecret),
                Attribute::Token(false),
                Attribute::Extractable(true),
                Attribute::Sensitive(false),
            ],
        )
        .expect("C_UnwrapKey");
    assert_eq!(value(&session, back).as_bytes(), &padded[..]);
}

#[test]
fn aes_key_wrap_pad_matches_rfc_5649() {
    each_module("aes_key_wrap_pad", |token| {
        padded_wrap(token, ffi::CKM_AES_KEY_WRAP_PAD, "aes_key_wrap_pad")
    });
}

#[test]
fn aes_key_wrap_kwp_matches_rfc_5649() {
    each_module("aes_key_wrap_kwp", |token| {
        padded_wrap(token, ffi::CKM_AES_KEY_WRAP_KWP, "aes_key_wrap_kwp")
    });
}

/// The padded wrap mechanism the token has (`KWP` preferred), if any.
fn pad_mechanism(token: &TestToken) -> Option<ffi::CK_MECHANISM_TYPE> {
    [ffi::CKM_AES_KEY_WRAP_KWP, ffi::CKM_AES_KEY_WRAP_PAD]
        .into_iter()
        .find(|m| token.has(mech(*m)))
}

#[test]
fn an_ec_private_key_wrapped_and_unwrapped_still_signs() {
    each_module("wrap_ec_private_key", |token| {
        let Some(pad) = pad_mechanism(token) else {
            token.require(
                "wrap_ec_private_key",
                &[
                    mech(ffi::CKM_AES_KEY_WRAP_KWP),
                    mech(ffi::CKM_AES_KEY_WRAP_PAD),
                ],
            );
            return;
        };
        if !token.require(
            "wrap_ec_private_key",
            &[mech(ffi::CKM_EC_KEY_PAIR_GEN), mech(ffi::CKM_ECDSA)],
        ) {
            return;
        }
        let session = token.session();
        let kek = aes_key(&session, &pattern(32, 3));
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::plain(ffi::CKM_EC_KEY_PAIR_GEN),
                &[
                    Attribute::EcParams(P256.to_vec()),
                    Attribute::Token(false),
                    Attribute::Verify(true),
                ],
                &[
                    Attribute::Token(false),
                    Attribute::Sign(true),
                    Attribute::Sensitive(true),
                    Attribute::Extractable(true),
                ],
            )
            .expect("P-256 key pair");
        let wrap = Mechanism::plain(pad);
        let wrapped = session.wrap_key(&wrap, kek, private).expect("C_WrapKey");
        assert!(
            wrapped.len() > 64,
            "a PKCS #8 P-256 key is larger than that"
        );
        let unwrapped = session
            .unwrap_key(
                &wrap,
                kek,
                &wrapped,
                &[
                    Attribute::Class(ObjectClass::PrivateKey),
                    Attribute::KeyType(KeyType::Ec),
                    Attribute::Token(false),
                    Attribute::Sign(true),
                    Attribute::Sensitive(true),
                ],
            )
            .expect("C_UnwrapKey of an EC private key");
        assert_eq!(
            session
                .get_attribute(unwrapped, AttributeType::EcParams)
                .unwrap(),
            Attribute::EcParams(P256.to_vec())
        );
        let hash = [0x5au8; 32];
        let signature = session
            .sign(&Mechanism::plain(ffi::CKM_ECDSA), unwrapped, &hash)
            .expect("sign with the unwrapped key");
        assert!(session
            .verify(&Mechanism::plain(ffi::CKM_ECDSA), public, &hash, &signature)
            .expect("verify"));
    });
}

#[test]
fn rsa_oaep_wraps_an_aes_key() {
    each_module("rsa_oaep_wrap", |token| {
        if !token.require(
            "rsa_oaep_wrap",
            &[
                mech(ffi::CKM_RSA_PKCS_KEY_PAIR_GEN),
                mech(ffi::CKM_RSA_PKCS_OAEP),
                mech(ffi::CKM_AES_ECB),
            ],
        ) {
            return;
        }
        let session = token.session();
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::plain(ffi::CKM_RSA_PKCS_KEY_PAIR_GEN),
                &[
                    Attribute::ModulusBits(2048),
                    Attribute::PublicExponent(vec![1, 0, 1]),
                    Attribute::Token(false),
                    Attribute::Wrap(true),
                    Attribute::Encrypt(true),
                ],
                &[
                    Attribute::Token(false),
                    Attribute::Unwrap(true),
                    Attribute::Decrypt(true),
                ],
            )
            .expect("RSA key pair");
        let key_value = pattern(32, 4);
        let key = aes_key(&session, &key_value);
        // SHA-1 without a label: the one OAEP SoftHSM accepts.
        let oaep = Mechanism::RsaPkcsOaep(OaepParams::sha1());
        let wrapped = session.wrap_key(&oaep, public, key).expect("C_WrapKey");
        assert_eq!(wrapped.len(), 256);
        let unwrapped = session
            .unwrap_key(&oaep, private, &wrapped, &readable_aes_template())
            .expect("C_UnwrapKey");
        assert_eq!(value(&session, unwrapped).as_bytes(), &key_value[..]);
        assert_eq!(ecb_block(&session, unwrapped), ecb_block(&session, key));
        // The wrapped key is an OAEP ciphertext of the key value: decrypting it gives
        // the value too.
        let plain = session.decrypt(&oaep, private, &wrapped).expect("decrypt");
        assert_eq!(plain.as_bytes(), &key_value[..]);
    });
}

/// ML-KEM key pair with `parameter_set`.
fn ml_kem_pair(session: &Session, parameter_set: ffi::CK_ULONG) -> (ObjectHandle, ObjectHandle) {
    session
        .generate_key_pair(
            &Mechanism::plain(ffi::CKM_ML_KEM_KEY_PAIR_GEN),
            &[
                Attribute::ParameterSet(parameter_set),
                Attribute::Token(false),
                Attribute::Encapsulate(true),
            ],
            &[Attribute::Token(false), Attribute::Decapsulate(true)],
        )
        .expect("ML-KEM key pair")
}

fn shared_secret_template() -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SecretKey),
        Attribute::KeyType(KeyType::GenericSecret),
        Attribute::Token(false),
        Attribute::Extractable(true),
        Attribute::Sensitive(false),
    ]
}

#[test]
fn ml_kem_encapsulated_and_decapsulated_secrets_are_equal() {
    each_module("ml_kem_encapsulate", |token| {
        if !token.require(
            "ml_kem_encapsulate",
            &[mech(ffi::CKM_ML_KEM_KEY_PAIR_GEN), mech(ffi::CKM_ML_KEM)],
        ) {
            return;
        }
        let session = token.session();
        let kem = Mechanism::plain(ffi::CKM_ML_KEM);
        // FIPS 203 ciphertext sizes.
        for (set, ciphertext_len) in [
            (ffi::CKP_ML_KEM_512, 768),
            (ffi::CKP_ML_KEM_768, 1088),
            (ffi::CKP_ML_KEM_1024, 1568),
        ] {
            let (public, private) = ml_kem_pair(&session, set);
            let (ciphertext, sent) = session
                .encapsulate_key(&kem, public, &shared_secret_template())
                .expect("C_EncapsulateKey");
            assert_eq!(ciphertext.len(), ciphertext_len, "parameter set {set}");
            let received = session
                .decapsulate_key(&kem, private, &shared_secret_template(), &ciphertext)
                .expect("C_DecapsulateKey");
            let (a, b) = (value(&session, sent), value(&session, received));
            assert_eq!(a.len(), 32, "an ML-KEM shared secret has 32 bytes");
            assert_eq!(a, b, "parameter set {set}");

            // The allocation-free form: a short buffer creates nothing and names the
            // length; an exact one works.
            let mut short = vec![0u8; ciphertext_len - 1];
            let error = session
                .encapsulate_key_into(&kem, public, &shared_secret_template(), &mut short)
                .expect_err("a short ciphertext buffer");
            assert!(
                error
                    .to_string()
                    .contains(&format!("{ciphertext_len} bytes needed")),
                "{error}"
            );
            let mut exact = vec![0u8; ciphertext_len];
            let (len, sent) = session
                .encapsulate_key_into(&kem, public, &shared_secret_template(), &mut exact)
                .expect("C_EncapsulateKey into a buffer");
            assert_eq!(len, ciphertext_len);
            let received = session
                .decapsulate_key(&kem, private, &shared_secret_template(), &exact)
                .expect("C_DecapsulateKey");
            assert_eq!(value(&session, sent), value(&session, received));
            assert_ne!(value(&session, sent), a, "a fresh secret per encapsulation");

            // A damaged ciphertext decapsulates (implicit rejection) to another secret.
            let mut damaged = ciphertext.clone();
            damaged[0] ^= 0x80;
            if let Ok(other) =
                session.decapsulate_key(&kem, private, &shared_secret_template(), &damaged)
            {
                assert_ne!(value(&session, other), a);
            }
        }
    });
}

#[test]
fn the_3_2_key_functions_on_a_2_x_module_are_not_supported() {
    // SoftHSM has a 2.x function table only: no slot for the 3.2 functions.
    let token = token(Module::SoftHsm);
    let session = token.session();
    let key = aes_key(&session, &pattern(16, 5));
    let kem = Mechanism::plain(ffi::CKM_ML_KEM);
    let checks: Vec<(&str, Error)> = vec![
        (
            "C_EncapsulateKey",
            session
                .encapsulate_key(&kem, key, &shared_secret_template())
                .unwrap_err(),
        ),
        (
            "C_EncapsulateKey",
            session
                .encapsulate_key_into(&kem, key, &shared_secret_template(), &mut [0; 8])
                .unwrap_err(),
        ),
        (
            "C_DecapsulateKey",
            session
                .decapsulate_key(&kem, key, &shared_secret_template(), &[1; 8])
                .unwrap_err(),
        ),
        (
            "C_WrapKeyAuthenticated",
            session
                .wrap_key_authenticated(&kem, key, key, b"aad")
                .unwrap_err(),
        ),
        (
            "C_UnwrapKeyAuthenticated",
            session
                .unwrap_key_authenticated(&kem, key, &[1; 8], &readable_aes_template(), b"")
                .unwrap_err(),
        ),
    ];
    for (function, error) in checks {
        assert!(
            matches!(&error, Error::NotSupported { function: f } if *f == function),
            "{function}: {error:?}"
        );
        assert!(error.to_string().contains(function), "{error}");
    }
    // The session still works.
    assert!(session.generate_random(4).is_ok());
}

#[test]
fn kryoptic_answers_the_authenticated_wrap_with_a_typed_error() {
    let token = token(Module::Kryoptic);
    let session = token.session();
    let kek = aes_key(&session, &pattern(32, 6));
    let key = aes_key(&session, &pattern(16, 7));
    let gcm = Mechanism::plain(ffi::CKM_AES_GCM);
    let error = session
        .wrap_key_authenticated(&gcm, kek, key, b"header")
        .expect_err("Kryoptic 1.5 does not implement C_WrapKeyAuthenticated");
    assert_eq!(error.function(), Some("C_WrapKeyAuthenticated"), "{error}");
    assert_eq!(
        error.rv().map(|rv| rv.raw()),
        Some(ffi::CKR_FUNCTION_NOT_SUPPORTED)
    );
    let error = session
        .unwrap_key_authenticated(&gcm, kek, &[0; 40], &readable_aes_template(), b"header")
        .expect_err("nor C_UnwrapKeyAuthenticated");
    assert_eq!(
        error.function(),
        Some("C_UnwrapKeyAuthenticated"),
        "{error}"
    );
    assert!(session.generate_random(4).is_ok());
}

// ---------------------------------------------------------------------------------------
// The fault module: marshalling of wrap / unwrap / derive, and lies about lengths
// ---------------------------------------------------------------------------------------

fn fault_session(tag: &str) -> (FaultModule, pkcs11::Pkcs11, Session) {
    let module = FaultModule::new(tag);
    let p11 = module.open().expect("open the fault module");
    let session = p11.slot(SLOT).open_rw_session().expect("open a session");
    session
        .login(UserType::User, &Pin::from(USER_PIN))
        .expect("log in");
    (module, p11, session)
}

fn fault_secret(session: &Session, value: &[u8]) -> ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::GenericSecret),
            Attribute::Value(SecretBytes::new(value.to_vec())),
            Attribute::Token(false),
            Attribute::Extractable(true),
        ])
        .expect("create a secret key")
}

#[test]
fn fault_module_wrap_and_unwrap_are_marshalled_exactly() {
    let (module, _p11, session) = fault_session("wrap_marshalling");
    let kek = fault_secret(&session, b"KEK");
    let key_value = b"the key value, 29 bytes long!";
    let key = fault_secret(&session, key_value);
    let xor = Mechanism::plain(CKM_FAULT_XOR);
    let wrapped = session.wrap_key(&xor, kek, key).expect("C_WrapKey");
    let expected: Vec<u8> = key_value
        .iter()
        .zip(b"KEK".iter().cycle())
        .map(|(a, b)| a ^ b)
        .collect();
    assert_eq!(wrapped, expected);
    // The two-call idiom: a length query and the call.
    assert_eq!(module.calls("C_WrapKey"), 2);

    let mut out = [0u8; 64];
    let len = session.wrap_key_into(&xor, kek, key, &mut out).unwrap();
    assert_eq!(&out[..len], &expected[..]);
    assert_eq!(module.calls("C_WrapKey"), 3, "one call, no length query");

    let unwrapped = session
        .unwrap_key(
            &xor,
            kek,
            &wrapped,
            &[
                Attribute::Class(ObjectClass::SecretKey),
                Attribute::KeyType(KeyType::GenericSecret),
                Attribute::Label("unwrapped".into()),
            ],
        )
        .expect("C_UnwrapKey");
    assert_eq!(value(&session, unwrapped).as_bytes(), key_value);
    assert_eq!(
        session
            .get_attribute(unwrapped, AttributeType::Label)
            .unwrap(),
        Attribute::Label("unwrapped".into())
    );

    // A module that reports a length larger than the buffer it filled, or an absurd
    // one, breaks the contract: an error naming C_WrapKey, no allocation.
    module.set_plan("C_WrapKey:len=huge");
    let error = session.wrap_key(&xor, kek, key).unwrap_err();
    assert!(
        matches!(
            error,
            Error::ModuleContract {
                function: "C_WrapKey",
                ..
            }
        ),
        "{error:?}"
    );
    module.set_plan("C_WrapKey:len=+5@2");
    let error = session.wrap_key(&xor, kek, key).unwrap_err();
    assert!(
        matches!(
            error,
            Error::ModuleContract {
                function: "C_WrapKey",
                ..
            }
        ),
        "{error:?}"
    );
    // A handle never written after CKR_OK.
    module.set_plan("C_UnwrapKey:nowrite");
    let error = session
        .unwrap_key(
            &xor,
            kek,
            &wrapped,
            &[
                Attribute::Class(ObjectClass::SecretKey),
                Attribute::KeyType(KeyType::GenericSecret),
            ],
        )
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::ModuleContract {
                function: "C_UnwrapKey",
                ..
            }
        ),
        "{error:?}"
    );
    // The same check guards every call that makes an object.
    for (plan, function) in [
        ("C_CreateObject:nowrite", "C_CreateObject"),
        ("C_CopyObject:nowrite", "C_CopyObject"),
    ] {
        module.set_plan(plan);
        let made = if function == "C_CreateObject" {
            session.create_object(&[
                Attribute::Class(ObjectClass::SecretKey),
                Attribute::KeyType(KeyType::GenericSecret),
                Attribute::Value(pkcs11::SecretBytes::new(vec![7; 16])),
            ])
        } else {
            session.copy_object(kek, &[])
        };
        match made {
            Err(Error::ModuleContract { function: f, .. }) => assert_eq!(f, function),
            other => panic!("{plan}: {other:?}"),
        }
    }
    module.set_plan("C_UnwrapKey:rv=CKR_WRAPPED_KEY_INVALID");
    let error = session.unwrap_key(&xor, kek, &wrapped, &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "C_UnwrapKey: CKR_WRAPPED_KEY_INVALID (0x00000110)"
    );
    module.clear_plan();
    assert_eq!(session.wrap_key(&xor, kek, key).unwrap(), expected);
}

#[test]
fn fault_module_derive_and_the_3_2_functions_give_typed_errors() {
    let (module, _p11, session) = fault_session("derive_errors");
    let base = fault_secret(&session, b"base");
    let error = session
        .derive_key(&Mechanism::plain(ffi::CKM_SHA256_KEY_DERIVATION), base, &[])
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "C_DeriveKey: CKR_MECHANISM_INVALID (0x00000070)"
    );
    assert_eq!(module.calls("C_DeriveKey"), 1);
    // The fault module's 3.2 table leaves these slots NULL.
    let kem = Mechanism::plain(ffi::CKM_ML_KEM);
    let error = session
        .encapsulate_key(&kem, base, &shared_secret_template())
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotSupported {
                function: "C_EncapsulateKey"
            }
        ),
        "{error:?}"
    );
    let error = session
        .decapsulate_key(&kem, base, &[], &[0; 4])
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotSupported {
                function: "C_DecapsulateKey"
            }
        ),
        "{error:?}"
    );
    assert_eq!(module.calls("C_EncapsulateKey"), 0);
}

// ---------------------------------------------------------------------------------------
// Derivation
// ---------------------------------------------------------------------------------------

/// A session generic secret with `value`, usable as a derivation base.
fn base_key(session: &Session, value: &[u8]) -> ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::GenericSecret),
            Attribute::Value(SecretBytes::new(value.to_vec())),
            Attribute::Token(false),
            Attribute::Derive(true),
            Attribute::Extractable(true),
            Attribute::Sensitive(false),
        ])
        .expect("create a derivation base key")
}

/// The template of a readable derived generic secret of `len` bytes.
fn derived_secret(len: u64) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SecretKey),
        Attribute::KeyType(KeyType::GenericSecret),
        Attribute::ValueLen(len as ffi::CK_ULONG),
        Attribute::Token(false),
        Attribute::Extractable(true),
        Attribute::Sensitive(false),
    ]
}

/// An EC point as the raw X9.62 encoding: `CKA_EC_POINT` is DER (an OCTET STRING around
/// it) on most tokens.
fn raw_point(ec_point: &[u8]) -> Vec<u8> {
    match ec_point {
        [0x04, 0x41, rest @ ..] if rest.len() == 65 => rest.to_vec(),
        _ => ec_point.to_vec(),
    }
}

fn p256_pair(session: &Session) -> (ObjectHandle, Vec<u8>) {
    let (public, private) = session
        .generate_key_pair(
            &Mechanism::plain(ffi::CKM_EC_KEY_PAIR_GEN),
            &[Attribute::EcParams(P256.to_vec()), Attribute::Token(false)],
            &[Attribute::Token(false), Attribute::Derive(true)],
        )
        .expect("P-256 key pair");
    let point = match session.get_attribute(public, AttributeType::EcPoint) {
        Ok(Attribute::EcPoint(p)) => raw_point(&p),
        other => panic!("CKA_EC_POINT: {other:?}"),
    };
    assert_eq!(point.len(), 65);
    (private, point)
}

#[test]
fn ecdh_p256_between_two_token_keys_gives_equal_secrets() {
    use pkcs11::{EcdhParams, Kdf};
    use sha2::Digest;
    each_module("ecdh_p256", |token| {
        if !token.require(
            "ecdh_p256",
            &[mech(ffi::CKM_EC_KEY_PAIR_GEN), mech(ffi::CKM_ECDH1_DERIVE)],
        ) {
            return;
        }
        let session = token.session();
        let (alice, alice_point) = p256_pair(&session);
        let (bob, bob_point) = p256_pair(&session);

        let derive = |private, peer: &[u8], kdf: Kdf, shared: &[u8], len| {
            let mechanism = Mechanism::Ecdh1Derive(EcdhParams::new(kdf, shared, peer).unwrap());
            session.derive_key(&mechanism, private, &derived_secret(len))
        };
        let a = derive(alice, &bob_point, Kdf::NULL, b"", 32).expect("C_DeriveKey (ECDH)");
        let b = derive(bob, &alice_point, Kdf::NULL, b"", 32).expect("C_DeriveKey (ECDH)");
        let z = value(&session, a);
        assert_eq!(z.len(), 32);
        assert_eq!(z, value(&session, b), "{}", token.module.name());

        // Derived AES keys encrypt alike.
        if token.has(mech(ffi::CKM_AES_ECB)) {
            let aes = |private, peer: &[u8]| {
                let mechanism = Mechanism::Ecdh1Derive(EcdhParams::raw_secret(peer).unwrap());
                session
                    .derive_key(&mechanism, private, &readable_aes_template_of(16))
                    .expect("C_DeriveKey (ECDH, AES)")
            };
            let (ka, kb) = (aes(alice, &bob_point), aes(bob, &alice_point));
            assert_eq!(ecb_block(&session, ka), ecb_block(&session, kb));
            // Truncation of the raw secret to the key's length: tokens keep either the
            // leading or the trailing bytes (the standard leaves it open).
            let v = value(&session, ka);
            assert!(
                v.as_bytes() == &z[..16] || v.as_bytes() == &z[16..],
                "{}: the AES key is not a part of the shared secret",
                token.module.name()
            );
        }

        // The ANSI X9.63 KDF with SHA-256 over the same secret: SHA-256(Z || 00000001 ||
        // shared info), computed here.
        let shared_info = b"shared info";
        match derive(alice, &bob_point, Kdf::SHA256, shared_info, 32) {
            Ok(key) => {
                let mut h = sha2::Sha256::new();
                h.update(&z);
                h.update(1u32.to_be_bytes());
                h.update(shared_info);
                assert_eq!(value(&session, key).as_bytes(), &h.finalize()[..]);
                let other = derive(bob, &alice_point, Kdf::SHA256, shared_info, 32).unwrap();
                assert_eq!(value(&session, key), value(&session, other));
            }
            Err(error) => {
                // SoftHSM 2.6 takes CKD_NULL only.
                pkcs11_tests::note!("{}: ECDH with CKD_SHA256_KDF: {error}", token.module.name());
                assert_eq!(token.module, Module::SoftHsm, "{error}");
                assert_eq!(error.function(), Some("C_DeriveKey"));
            }
        }
    });
}

fn readable_aes_template_of(len: u64) -> Vec<Attribute> {
    let mut t = readable_aes_template();
    t.push(Attribute::ValueLen(len as ffi::CK_ULONG));
    t
}

#[test]
fn hkdf_derives_what_rfc_5869_says() {
    use pkcs11::{HkdfParams, HkdfSalt};
    each_module("hkdf_derive", |token| {
        if !token.require("hkdf_derive", &[mech(ffi::CKM_HKDF_DERIVE)]) {
            return;
        }
        let session = token.session();
        let ikm = pattern(22, 0x0b);
        let base = base_key(&session, &ikm);
        let (salt, info) = (b"salt value".as_slice(), b"application info".as_slice());
        let hkdf = Mechanism::HkdfDerive(
            HkdfParams::extract_and_expand(MechanismType::SHA256, HkdfSalt::Data(salt), info)
                .unwrap(),
        );
        let key = session
            .derive_key(&hkdf, base, &derived_secret(42))
            .expect("C_DeriveKey (HKDF)");
        let mut expected = [0u8; 42];
        hkdf::Hkdf::<sha2::Sha256>::new(Some(salt), &ikm)
            .expand(info, &mut expected)
            .unwrap();
        assert_eq!(value(&session, key).as_bytes(), &expected[..]);

        // Extract only: the PRK (HMAC(salt, IKM)), 32 bytes.
        let extract = Mechanism::HkdfDerive(
            HkdfParams::extract(MechanismType::SHA256, HkdfSalt::Data(salt)).unwrap(),
        );
        let prk = session
            .derive_key(&extract, base, &derived_secret(32))
            .expect("C_DeriveKey (HKDF extract)");
        let (expected_prk, _) = hkdf::Hkdf::<sha2::Sha256>::extract(Some(salt), &ikm);
        assert_eq!(value(&session, prk).as_bytes(), &expected_prk[..]);

        // Expand only, from that PRK: the same as extract-and-expand.
        let prk_base = base_key(&session, &expected_prk);
        let expand =
            Mechanism::HkdfDerive(HkdfParams::expand(MechanismType::SHA256, info).unwrap());
        let okm = session
            .derive_key(&expand, prk_base, &derived_secret(42))
            .expect("C_DeriveKey (HKDF expand)");
        assert_eq!(value(&session, okm).as_bytes(), &expected[..]);
    });
}

#[test]
fn sp800_108_counter_kdf_matches_an_hmac_recomputation() {
    use hmac::Mac;
    use pkcs11::{CounterFormat, DkmLengthFormat, PrfDataParam, Sp800108Params};
    each_module("sp800_108_counter", |token| {
        if !token.require("sp800_108_counter", &[mech(ffi::CKM_SP800_108_COUNTER_KDF)]) {
            return;
        }
        let session = token.session();
        let key_value = pattern(32, 0x33);
        let base = base_key(&session, &key_value);
        let (label, context) = (b"label".as_slice(), b"context".as_slice());
        let params = Sp800108Params::new(
            MechanismType::SHA256_HMAC,
            &[
                PrfDataParam::IterationCounter(CounterFormat::big_endian(32)),
                PrfDataParam::ByteArray(label),
                PrfDataParam::ByteArray(&[0]),
                PrfDataParam::ByteArray(context),
                PrfDataParam::DkmLength(DkmLengthFormat::big_endian(32)),
            ],
        )
        .unwrap();
        let key = session
            .derive_key(
                &Mechanism::Sp800108CounterKdf(params),
                base,
                &derived_secret(48),
            )
            .expect("C_DeriveKey (SP 800-108 counter)");
        // K(i) = HMAC(key, [i]32 || label || 00 || context || [L]32), L in bits.
        let mut expected = Vec::new();
        for i in 1u32..=2 {
            let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key_value).unwrap();
            mac.update(&i.to_be_bytes());
            mac.update(label);
            mac.update(&[0]);
            mac.update(context);
            mac.update(&(48u32 * 8).to_be_bytes());
            expected.extend_from_slice(&mac.finalize().into_bytes());
        }
        expected.truncate(48);
        assert_eq!(value(&session, key).as_bytes(), &expected[..]);
    });
}

#[test]
fn pbkdf2_generates_what_rfc_8018_says() {
    use pkcs11::{Pbkdf2Params, Pbkdf2Prf};
    each_module("pbkdf2", |token| {
        if !token.require("pbkdf2", &[mech(ffi::CKM_PKCS5_PBKD2)]) {
            return;
        }
        let session = token.session();
        let password = Pin::from("correct horse battery staple");
        let salt = b"NaCl and pepper";
        let params = Pbkdf2Params::new(Pbkdf2Prf::HMAC_SHA256, &password, salt, 1000).unwrap();
        let key = session
            .generate_key(&Mechanism::Pkcs5Pbkd2(params), &derived_secret(32))
            .expect("C_GenerateKey (PBKDF2)");
        let mut expected = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
            b"correct horse battery staple",
            salt,
            1000,
            &mut expected,
        );
        assert_eq!(value(&session, key).as_bytes(), &expected[..]);
    });
}

#[test]
fn concatenate_xor_and_extract_derivations() {
    use pkcs11::KeyDerivationData;
    each_module("simple_derivations", |token| {
        let session = token.session();
        let base_value = pattern(16, 0x40);
        let other_value = pattern(8, 0x90);
        let base = base_key(&session, &base_value);
        let other = base_key(&session, &other_value);
        let data = b"12345678";
        let cases: Vec<(ffi::CK_MECHANISM_TYPE, Mechanism<'_>, u64, Vec<u8>)> = vec![
            (
                ffi::CKM_CONCATENATE_BASE_AND_KEY,
                Mechanism::ConcatenateBaseAndKey(other),
                24,
                [&base_value[..], &other_value[..]].concat(),
            ),
            (
                ffi::CKM_CONCATENATE_BASE_AND_DATA,
                Mechanism::ConcatenateBaseAndData(KeyDerivationData::new(data).unwrap()),
                24,
                [&base_value[..], &data[..]].concat(),
            ),
            (
                ffi::CKM_CONCATENATE_DATA_AND_BASE,
                Mechanism::ConcatenateDataAndBase(KeyDerivationData::new(data).unwrap()),
                24,
                [&data[..], &base_value[..]].concat(),
            ),
            (
                ffi::CKM_XOR_BASE_AND_DATA,
                Mechanism::XorBaseAndData(KeyDerivationData::new(data).unwrap()),
                8,
                base_value.iter().zip(data).map(|(a, b)| a ^ b).collect(),
            ),
            (
                ffi::CKM_EXTRACT_KEY_FROM_KEY,
                // From bit 8: the key's bytes 1..5.
                Mechanism::ExtractKeyFromKey(8),
                4,
                base_value[1..5].to_vec(),
            ),
        ];
        for (m, mechanism, len, expected) in cases {
            let name = MechanismType(m);
            if !token.require(&format!("simple_derivations ({name:?})"), &[name]) {
                continue;
            }
            let key = session
                .derive_key(&mechanism, base, &derived_secret(len))
                .unwrap_or_else(|e| panic!("{name:?}: {e}"));
            assert_eq!(value(&session, key).as_bytes(), &expected[..], "{name:?}");
        }
    });
}
