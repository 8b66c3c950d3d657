//! Reads into an `AttributeReader` (`Session::read_attributes_into`, issue 6) on SoftHSMv2
//! and Kryoptic, checked against the allocating `Session::get_attributes` on the same
//! objects (secret keys, EC key pairs, data objects, certificates): every result the
//! same, every typed accessor the same value. Then what the reader reports besides
//! values (sensitive, absent, too long for the room given), reuse across objects (no
//! value of a previous object ever shows), and, on the fault module, the number of calls
//! and the module lies the reader must catch.

use std::process::Command;

use pkcs11::formats::{EcCurve, X509Certificate};
use pkcs11::{
    ffi, Attribute, AttributeReader, AttributeResult, AttributeType, AttributeView, Error, KeyType,
    MechanismType, ObjectClass, ObjectHandle, Pin, Rv, SecretBytes, Session, UserType,
};
use pkcs11_tests::fault::{FaultModule, SLOT, USER_PIN};
use pkcs11_tests::modules::{each_module, TestToken};
use pkcs11_tests::TempDir;

/// Reads `types` of `object` both ways and checks that they agree, result by result and
/// accessor by accessor. Returns the reader's results as owned values.
fn agree(
    session: &Session,
    object: ObjectHandle,
    types: &[AttributeType],
    room: usize,
    what: &str,
) -> Vec<AttributeResult> {
    let expected = session
        .get_attributes(object, types)
        .unwrap_or_else(|e| panic!("{what}: get_attributes: {e}"));
    let mut reader = AttributeReader::new(types, room).unwrap();
    session
        .read_attributes_into(object, &mut reader)
        .unwrap_or_else(|e| panic!("{what}: read_attributes_into: {e}"));
    check_reader(&reader, types, &expected, what);
    expected
}

/// Checks every result of `reader` against `expected` (from `get_attributes`).
fn check_reader(
    reader: &AttributeReader,
    types: &[AttributeType],
    expected: &[AttributeResult],
    what: &str,
) {
    assert_eq!(reader.iter().count(), types.len(), "{what}");
    for (&ty, want) in types.iter().zip(expected) {
        let got = reader
            .result(ty)
            .unwrap_or_else(|e| panic!("{what}: {ty}: {e}"));
        assert_eq!(&got, want, "{what}: {ty}");
        let view = reader.get(ty).unwrap();
        match want {
            AttributeResult::Value(attribute) => {
                let AttributeView::Value(bytes) = view else {
                    panic!("{what}: {ty}: {view:?}");
                };
                assert_eq!(reader.bytes(ty).unwrap(), bytes, "{what}: {ty}");
                if let Some(value) = attribute.as_ulong() {
                    assert_eq!(reader.ulong(ty).unwrap(), value, "{what}: {ty}");
                    assert_eq!(bytes, value.to_ne_bytes(), "{what}: {ty}");
                } else if let Some(value) = attribute.as_bool() {
                    assert_eq!(reader.bool(ty).unwrap(), value, "{what}: {ty}");
                } else if let Some(text) = attribute.as_str() {
                    assert_eq!(reader.str(ty).unwrap(), text, "{what}: {ty}");
                    assert_eq!(bytes, text.as_bytes(), "{what}: {ty}");
                } else if let Some(value) = attribute.as_bytes() {
                    assert_eq!(bytes, value, "{what}: {ty}");
                }
            }
            AttributeResult::Sensitive => assert_eq!(view, AttributeView::Sensitive),
            AttributeResult::Invalid => assert_eq!(view, AttributeView::Invalid),
            AttributeResult::Unavailable => assert_eq!(view, AttributeView::Unavailable),
        }
    }
}

fn value_of(results: &[AttributeResult], index: usize) -> &Attribute {
    results[index]
        .value()
        .unwrap_or_else(|| panic!("no value: {:?}", results[index]))
}

const KEY_TYPES: [AttributeType; 16] = [
    AttributeType::Class,
    AttributeType::KeyType,
    AttributeType::Token,
    AttributeType::Private,
    AttributeType::Modifiable,
    AttributeType::Label,
    AttributeType::Id,
    AttributeType::ValueLen,
    AttributeType::Sensitive,
    AttributeType::Extractable,
    AttributeType::Value,
    AttributeType::Sign,
    AttributeType::Verify,
    AttributeType::Derive,
    AttributeType::Local,
    AttributeType::StartDate,
];

fn secret_key(session: &Session, label: &str, sensitive: bool) -> ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::GenericSecret),
            Attribute::Token(false),
            Attribute::Label(label.into()),
            Attribute::Id(b"reader-key-id".to_vec()),
            Attribute::Sensitive(sensitive),
            Attribute::Extractable(true),
            Attribute::Sign(true),
            Attribute::Verify(true),
            Attribute::Value(SecretBytes::new(vec![0x5c; 32])),
        ])
        .expect("create a secret key")
}

fn data_object(session: &Session, template: &[Attribute]) -> ObjectHandle {
    let mut full = vec![
        Attribute::Class(ObjectClass::Data),
        Attribute::Token(false),
        Attribute::Private(false),
    ];
    full.extend_from_slice(template);
    session.create_object(&full).expect("create a data object")
}

const DATA_TYPES: [AttributeType; 8] = [
    AttributeType::Class,
    AttributeType::Token,
    AttributeType::Private,
    AttributeType::Modifiable,
    AttributeType::Label,
    AttributeType::Application,
    AttributeType::Value,
    AttributeType::ObjectId,
];

#[test]
fn reads_equal_get_attributes_for_keys_and_data_objects() {
    each_module("reads_equal_get_attributes", |token: &'static TestToken| {
        let module = token.module.name();
        let session = token.session();

        let key = secret_key(&session, "reader secret key", false);
        let results = agree(&session, key, &KEY_TYPES, 64, &format!("{module}: key"));
        assert_eq!(
            value_of(&results, 0),
            &Attribute::Class(ObjectClass::SecretKey)
        );
        assert_eq!(
            value_of(&results, 6).as_bytes(),
            Some(&b"reader-key-id"[..])
        );
        assert_eq!(value_of(&results, 10).as_bytes(), Some(&[0x5c; 32][..]));

        let data = data_object(
            &session,
            &[
                Attribute::Label("reader data".into()),
                Attribute::Application("pkcs11-tests".into()),
                Attribute::Value(SecretBytes::new(b"some data".to_vec())),
            ],
        );
        let results = agree(&session, data, &DATA_TYPES, 64, &format!("{module}: data"));
        assert_eq!(value_of(&results, 5).as_str(), Some("pkcs11-tests"));

        if token.require(
            "reads_equal_get_attributes (EC keys)",
            &[MechanismType(ffi::CKM_EC_KEY_PAIR_GEN)],
        ) {
            let (public, private) = session
                .generate_ec_key_pair(
                    EcCurve::P256,
                    &[
                        Attribute::Token(false),
                        Attribute::Label("reader ec".into()),
                    ],
                    &[Attribute::Token(false), Attribute::Sign(true)],
                )
                .expect("P-256 key pair");
            let public_types = [
                AttributeType::Class,
                AttributeType::KeyType,
                AttributeType::EcParams,
                AttributeType::EcPoint,
                AttributeType::Label,
                AttributeType::Verify,
                AttributeType::Local,
                AttributeType::KeyGenMechanism,
                AttributeType::AllowedMechanisms,
            ];
            let results = agree(
                &session,
                public,
                &public_types,
                128,
                &format!("{module}: EC public key"),
            );
            assert!(results[3].value().is_some(), "{module}: CKA_EC_POINT");
            let private_types = [
                AttributeType::Class,
                AttributeType::KeyType,
                AttributeType::Sensitive,
                AttributeType::Value,
                AttributeType::EcParams,
                AttributeType::Sign,
                AttributeType::AlwaysSensitive,
                AttributeType::NeverExtractable,
            ];
            agree(
                &session,
                private,
                &private_types,
                128,
                &format!("{module}: EC private key"),
            );
            session.destroy_object(public).unwrap();
            session.destroy_object(private).unwrap();
        }
        session.destroy_object(key).unwrap();
        session.destroy_object(data).unwrap();
    });
}

/// A self-signed P-256 certificate made by OpenSSL (DER).
fn self_signed_certificate() -> Vec<u8> {
    let dir = TempDir::new("reader-cert");
    let output = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "key.pem",
            "-subj",
            "/O=pkcs11-rs tests/CN=attribute reader",
            "-days",
            "2",
            "-outform",
            "DER",
            "-out",
            "cert.der",
        ])
        .current_dir(dir.path())
        .output()
        .expect("run openssl (the OpenSSL command line is a test prerequisite)");
    assert!(
        output.status.success(),
        "openssl: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    std::fs::read(dir.path().join("cert.der")).unwrap()
}

#[test]
fn reads_equal_get_attributes_for_certificates() {
    let der = self_signed_certificate();
    let certificate = X509Certificate::from_der(&der).unwrap();
    each_module("reads_equal_get_attributes_certificates", |token| {
        let module = token.module.name();
        let session = token.session();
        let object = session
            .create_x509_certificate(
                &certificate,
                &[
                    Attribute::Token(false),
                    Attribute::Label("reader certificate".into()),
                    Attribute::Id(b"cert-id".to_vec()),
                ],
            )
            .unwrap_or_else(|e| panic!("{module}: create the certificate: {e}"));
        let types = [
            AttributeType::Class,
            AttributeType::CertificateType,
            AttributeType::Subject,
            AttributeType::Issuer,
            AttributeType::SerialNumber,
            AttributeType::Value,
            AttributeType::Label,
            AttributeType::Id,
            AttributeType::Trusted,
            AttributeType::CertificateCategory,
        ];
        let results = agree(
            &session,
            object,
            &types,
            der.len(),
            &format!("{module}: certificate"),
        );
        assert_eq!(value_of(&results, 5).as_bytes(), Some(&der[..]));
        assert_eq!(
            value_of(&results, 2).as_bytes(),
            Some(certificate.subject_der())
        );

        // The certificate does not fit a small room: its length is reported, the rest
        // is read.
        let mut reader = AttributeReader::new(&types, 64).unwrap();
        session.read_attributes_into(object, &mut reader).unwrap();
        assert_eq!(
            reader.get(AttributeType::Value),
            Some(AttributeView::TooSmall { needed: der.len() }),
            "{module}"
        );
        assert_eq!(
            reader.str(AttributeType::Label).unwrap(),
            "reader certificate"
        );
        assert_eq!(
            reader.ulong(AttributeType::Class).unwrap(),
            ffi::CKO_CERTIFICATE
        );
        session.destroy_object(object).unwrap();
    });
}

#[test]
fn sensitive_absent_and_too_long_attributes_are_results_of_their_own() {
    each_module("sensitive_absent_too_long", |token| {
        let module = token.module.name();
        let session = token.session();
        let key = secret_key(&session, "reader sensitive key", true);
        let types = [
            AttributeType::Class,
            AttributeType::Value,
            AttributeType::Label,
            AttributeType::Modulus,
            AttributeType::Id,
            AttributeType::Sensitive,
        ];
        let results = agree(&session, key, &types, 64, &format!("{module}: sensitive"));
        assert_eq!(results[1], AttributeResult::Sensitive, "{module}");
        assert_eq!(results[3], AttributeResult::Invalid, "{module}");

        let mut reader = AttributeReader::new(&types, 64).unwrap();
        session.read_attributes_into(key, &mut reader).unwrap();
        assert_eq!(
            reader.get(AttributeType::Value),
            Some(AttributeView::Sensitive)
        );
        assert_eq!(
            reader.get(AttributeType::Modulus),
            Some(AttributeView::Invalid)
        );
        assert_eq!(
            reader.str(AttributeType::Label).unwrap(),
            "reader sensitive key"
        );
        assert!(reader.bool(AttributeType::Sensitive).unwrap());
        match reader.bytes(AttributeType::Value) {
            Err(Error::Module { function, rv }) => {
                assert_eq!(function, "C_GetAttributeValue");
                assert_eq!(rv, Rv::AttributeSensitive);
            }
            other => panic!("{module}: CKA_VALUE of a sensitive key: {other:?}"),
        }
        match reader.bytes(AttributeType::Modulus) {
            Err(Error::Module { rv, .. }) => assert_eq!(rv, Rv::AttributeTypeInvalid),
            other => panic!("{module}: CKA_MODULUS of a secret key: {other:?}"),
        }
        // Read as what it is not: refused naming it.
        match reader.ulong(AttributeType::Label) {
            Err(Error::InvalidInput { what }) => assert!(what.contains("CKA_LABEL"), "{what}"),
            other => panic!("{module}: {other:?}"),
        }

        // A label longer than its room: the length needed, the rest read; more room
        // reads it.
        let long = "a label that is longer than the room".repeat(3);
        let data = data_object(
            &session,
            &[
                Attribute::Label(long.clone()),
                Attribute::Application("short".into()),
            ],
        );
        let small = [
            AttributeType::Label,
            AttributeType::Class,
            AttributeType::Application,
        ];
        let mut reader = AttributeReader::new(&small, 16).unwrap();
        session.read_attributes_into(data, &mut reader).unwrap();
        assert_eq!(
            reader.get(AttributeType::Label),
            Some(AttributeView::TooSmall { needed: long.len() }),
            "{module}"
        );
        match reader.str(AttributeType::Label) {
            Err(Error::InvalidInput { what }) => {
                assert!(what.contains("CKA_LABEL"), "{what}");
                assert!(what.contains(&long.len().to_string()), "{what}");
            }
            other => panic!("{module}: {other:?}"),
        }
        assert_eq!(reader.ulong(AttributeType::Class).unwrap(), ffi::CKO_DATA);
        assert_eq!(reader.str(AttributeType::Application).unwrap(), "short");
        let mut roomy = AttributeReader::new(&small, long.len()).unwrap();
        session.read_attributes_into(data, &mut roomy).unwrap();
        assert_eq!(roomy.str(AttributeType::Label).unwrap(), long);

        session.destroy_object(key).unwrap();
        session.destroy_object(data).unwrap();
    });
}

#[test]
fn a_reused_reader_never_shows_a_previous_objects_values() {
    each_module("reused_reader", |token| {
        let module = token.module.name();
        let session = token.session();
        let labelled = data_object(
            &session,
            &[
                Attribute::Label("the first object's label".into()),
                Attribute::Application("first application".into()),
                Attribute::Value(SecretBytes::new(vec![0xaa; 40])),
            ],
        );
        // No label, no application, no value: the defaults (empty).
        let bare = data_object(&session, &[]);
        let key = secret_key(&session, "reused reader key", false);
        let types = [
            AttributeType::Class,
            AttributeType::Label,
            AttributeType::Application,
            AttributeType::Value,
            AttributeType::Id,
        ];
        let mut reader = AttributeReader::new(&types, 64).unwrap();
        for round in 0..2 {
            let what = format!("{module}, round {round}");
            session.read_attributes_into(labelled, &mut reader).unwrap();
            let expected = session.get_attributes(labelled, &types).unwrap();
            check_reader(&reader, &types, &expected, &what);
            assert_eq!(reader.bytes(AttributeType::Value).unwrap(), [0xaa; 40]);
            assert_eq!(reader.get(AttributeType::Id), Some(AttributeView::Invalid));

            session.read_attributes_into(bare, &mut reader).unwrap();
            let expected = session.get_attributes(bare, &types).unwrap();
            check_reader(&reader, &types, &expected, &what);
            for ty in [
                AttributeType::Label,
                AttributeType::Application,
                AttributeType::Value,
            ] {
                // Absent or empty: never the first object's bytes.
                match reader.get(ty).unwrap() {
                    AttributeView::Value(bytes) => assert!(bytes.is_empty(), "{what}: {ty}"),
                    other => assert_ne!(other, AttributeView::Sensitive, "{what}: {ty}"),
                }
            }

            // A key: an ID now, a class of its own.
            session.read_attributes_into(key, &mut reader).unwrap();
            let expected = session.get_attributes(key, &types).unwrap();
            check_reader(&reader, &types, &expected, &what);
            assert_eq!(reader.bytes(AttributeType::Id).unwrap(), b"reader-key-id");
            assert_eq!(
                reader.ulong(AttributeType::Class).unwrap(),
                ffi::CKO_SECRET_KEY
            );
        }

        // A failed read leaves no results behind: not the key's.
        session.destroy_object(bare).unwrap();
        match session.read_attributes_into(bare, &mut reader) {
            Err(Error::Module { function, rv }) => {
                assert_eq!(function, "C_GetAttributeValue");
                assert_eq!(rv, Rv::ObjectHandleInvalid, "{module}");
            }
            other => panic!("{module}: a destroyed object: {other:?}"),
        }
        assert_eq!(reader.get(AttributeType::Class), None);
        assert_eq!(reader.iter().count(), 0);
        assert!(matches!(
            reader.ulong(AttributeType::Class),
            Err(Error::InvalidInput { .. })
        ));
        // And the reader works again.
        session.read_attributes_into(key, &mut reader).unwrap();
        assert_eq!(
            reader.str(AttributeType::Label).unwrap(),
            "reused reader key"
        );
        reader.clear();
        assert_eq!(reader.get(AttributeType::Label), None);

        session.destroy_object(labelled).unwrap();
        session.destroy_object(key).unwrap();
    });
}

// ---------------------------------------------------------------------------------------
// The fault module: calls counted, lies told
// ---------------------------------------------------------------------------------------

/// A logged-in session on a fresh copy of the fault module (kept alive with it).
fn fault_session(tag: &str) -> (FaultModule, pkcs11::Pkcs11, Session) {
    let module = FaultModule::new(tag);
    let p11 = module.open().unwrap();
    let session = p11.slot(SLOT).open_rw_session().unwrap();
    session.login(UserType::User, &Pin::from(USER_PIN)).unwrap();
    (module, p11, session)
}

/// The `ModuleContract` text of `result`, which must name `C_GetAttributeValue`.
fn contract(result: pkcs11::Result<()>) -> String {
    match result {
        Err(Error::ModuleContract { function, what }) => {
            assert_eq!(function, "C_GetAttributeValue");
            what
        }
        other => panic!("expected a contract violation, got {other:?}"),
    }
}

#[test]
fn fault_module_one_call_for_a_read_even_with_refused_attributes() {
    let (module, _p11, session) = fault_session("reader-calls");
    let key = secret_key(&session, "fault key", true);
    let mut reader = AttributeReader::new(
        &[
            AttributeType::Class,
            AttributeType::Label,
            AttributeType::Id,
        ],
        64,
    )
    .unwrap();
    let before = module.calls("C_GetAttributeValue");
    session.read_attributes_into(key, &mut reader).unwrap();
    assert_eq!(module.calls("C_GetAttributeValue") - before, 1);
    assert_eq!(
        reader.ulong(AttributeType::Class).unwrap(),
        ffi::CKO_SECRET_KEY
    );
    assert_eq!(reader.str(AttributeType::Label).unwrap(), "fault key");
    assert_eq!(reader.bytes(AttributeType::Id).unwrap(), b"reader-key-id");

    // A sensitive and an absent attribute among them: still one call (the module
    // answers every attribute, the return value names the one refusal of each kind).
    let mut mixed = AttributeReader::new(
        &[
            AttributeType::Class,
            AttributeType::Value,
            AttributeType::Label,
        ],
        64,
    )
    .unwrap();
    let before = module.calls("C_GetAttributeValue");
    session.read_attributes_into(key, &mut mixed).unwrap();
    assert_eq!(module.calls("C_GetAttributeValue") - before, 1);
    assert_eq!(
        mixed.get(AttributeType::Value),
        Some(AttributeView::Sensitive)
    );
    assert_eq!(mixed.str(AttributeType::Label).unwrap(), "fault key");

    // A sensitive and an absent one: the return value cannot tell which is which, so
    // each is asked for on its own.
    let mut unclear = AttributeReader::new(
        &[
            AttributeType::Value,
            AttributeType::Modulus,
            AttributeType::Label,
        ],
        64,
    )
    .unwrap();
    session.read_attributes_into(key, &mut unclear).unwrap();
    assert_eq!(
        unclear.get(AttributeType::Value),
        Some(AttributeView::Sensitive)
    );
    assert_eq!(
        unclear.get(AttributeType::Modulus),
        Some(AttributeView::Invalid)
    );
    assert_eq!(unclear.str(AttributeType::Label).unwrap(), "fault key");
}

#[test]
fn fault_module_lengths_that_cannot_be_right_are_contract_violations_naming_the_attribute() {
    let (module, _p11, session) = fault_session("reader-lies");
    let object = data_object(
        &session,
        &[
            Attribute::Label("honest label".into()),
            Attribute::Application("app".into()),
        ],
    );
    let types = [
        AttributeType::Class,
        AttributeType::Label,
        AttributeType::Application,
    ];
    let mut reader = AttributeReader::new(&types, 64).unwrap();
    session.read_attributes_into(object, &mut reader).unwrap();
    assert_eq!(reader.str(AttributeType::Label).unwrap(), "honest label");

    // Longer than the buffer after CKR_OK.
    module.set_plan("C_GetAttributeValue:len=+1000,attr=CKA_LABEL");
    let what = contract(session.read_attributes_into(object, &mut reader));
    assert!(what.contains("CKA_LABEL"), "{what}");
    assert!(what.contains("1012"), "{what}");
    assert_eq!(
        reader.get(AttributeType::Label),
        None,
        "no results after an error"
    );

    // A fixed-size value of another size.
    module.set_plan("C_GetAttributeValue:len=4,attr=CKA_CLASS");
    let what = contract(session.read_attributes_into(object, &mut reader));
    assert!(what.contains("CKA_CLASS"), "{what}");

    // A length that is no length.
    module.set_plan("C_GetAttributeValue:len=huge,attr=CKA_APPLICATION");
    let what = contract(session.read_attributes_into(object, &mut reader));
    assert!(what.contains("CKA_APPLICATION"), "{what}");

    module.clear_plan();
    session.read_attributes_into(object, &mut reader).unwrap();
    assert_eq!(reader.str(AttributeType::Label).unwrap(), "honest label");
}

#[test]
fn fault_module_an_attribute_the_module_skips_is_never_a_stale_value() {
    let (module, _p11, session) = fault_session("reader-skip");
    let first = data_object(&session, &[Attribute::Label("first label".into())]);
    let second = data_object(&session, &[Attribute::Label("second".into())]);
    let types = [AttributeType::Class, AttributeType::Label];
    let mut reader = AttributeReader::new(&types, 64).unwrap();
    session.read_attributes_into(first, &mut reader).unwrap();
    assert_eq!(reader.str(AttributeType::Label).unwrap(), "first label");

    // The module answers CKR_OK but writes nothing for CKA_LABEL (its length left as
    // given): not the first object's label, nor the buffer's bytes.
    module.set_plan("C_GetAttributeValue:nowrite,attr=CKA_LABEL");
    session.read_attributes_into(second, &mut reader).unwrap();
    assert_eq!(reader.ulong(AttributeType::Class).unwrap(), ffi::CKO_DATA);
    assert_eq!(
        reader.get(AttributeType::Label),
        Some(AttributeView::Unavailable)
    );
    module.clear_plan();
    session.read_attributes_into(second, &mut reader).unwrap();
    assert_eq!(reader.str(AttributeType::Label).unwrap(), "second");
}
