//! Objects, attributes, search and key generation through the safe crate against
//! SoftHSMv2: every attribute kind read back, searches in growing batches, per-attribute
//! results for sensitive and invalid attributes, the search guard's cancellation and
//! conflict errors, and generated AES, EC and RSA keys.
//!
//! SoftHSM is one instance per process: the tests of this binary share one throwaway
//! token, take turns, and make session objects only.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use pkcs11::{
    ffi, Attribute, AttributeResult, AttributeType, Date, Error, KeyType, Mechanism, MechanismType,
    ObjectClass, ObjectHandle, Pin, Pkcs11, Rv, SecretBytes, Session, UserType,
};
use pkcs11_tests::{shared_softhsm_token, softhsm_module, take_turn, SoftHsmToken};

/// The DER OID of P-256 (`prime256v1`), the `CKA_EC_PARAMS` of its keys.
const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn token() -> &'static SoftHsmToken {
    shared_softhsm_token("safe-objects")
}

/// A read-write session on the test token, logged in as the user.
fn user_session() -> Session {
    let token = token();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let slot = p11.token_by_label(token.label()).unwrap();
    let session = slot.open_rw_session().unwrap();
    session
        .ensure_logged_in(UserType::User, &Pin::from(token.user_pin))
        .unwrap();
    session
}

/// Fails the whole test binary if `body` does not finish within `limit`: a hang is a
/// failure, never a test that never ends.
fn within<T>(limit: Duration, what: &'static str, body: impl FnOnce() -> T) -> T {
    let finished = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&finished);
    std::thread::spawn(move || {
        std::thread::sleep(limit);
        if !flag.load(Ordering::SeqCst) {
            eprintln!("{what}: still running after {limit:?} (a hang)");
            std::process::exit(101);
        }
    });
    let result = body();
    finished.store(true, Ordering::SeqCst);
    result
}

fn value(result: &AttributeResult) -> &Attribute {
    result
        .value()
        .unwrap_or_else(|| panic!("expected a value, got {result:?}"))
}

fn data_object(session: &Session, label: &str, application: &str) -> ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Token(false),
            Attribute::Label(label.into()),
            Attribute::Application(application.into()),
        ])
        .unwrap()
}

fn sorted_by_type(mut template: Vec<Attribute>) -> Vec<Attribute> {
    template.sort_by_key(Attribute::attribute_type);
    template
}

#[test]
fn rule_21_22_a_data_object_and_a_secret_key_read_back_every_attribute_kind() {
    let _turn = take_turn();
    let session = user_session();

    // A data object: class, booleans, UTF-8 (one empty), byte strings, secret bytes.
    let oid = vec![0x06, 0x03, 0x2a, 0x03, 0x04];
    let data = session
        .create_object(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Token(false),
            Attribute::Private(true),
            Attribute::Label("données ✓".into()),
            Attribute::Application(String::new()),
            Attribute::ObjectId(oid.clone()),
            Attribute::Value(SecretBytes::new(b"payload bytes".to_vec())),
        ])
        .unwrap();
    let results = session
        .get_attributes(
            data,
            &[
                AttributeType::Class,
                AttributeType::Token,
                AttributeType::Private,
                AttributeType::Label,
                AttributeType::Application,
                AttributeType::ObjectId,
                AttributeType::Value,
                AttributeType::Modifiable,
            ],
        )
        .unwrap();
    assert_eq!(results.len(), 8);
    assert_eq!(value(&results[0]), &Attribute::Class(ObjectClass::Data));
    assert_eq!(value(&results[1]), &Attribute::Token(false));
    assert_eq!(value(&results[2]), &Attribute::Private(true));
    assert_eq!(value(&results[3]), &Attribute::Label("données ✓".into()));
    // Zero-length values are legal (RELIABILITY rule 22).
    assert_eq!(value(&results[4]), &Attribute::Application(String::new()));
    assert_eq!(value(&results[5]), &Attribute::ObjectId(oid));
    match value(&results[6]) {
        Attribute::Value(secret) => assert_eq!(secret.as_bytes(), b"payload bytes"),
        other => panic!("CKA_VALUE decoded as {other:?}"),
    }
    assert_eq!(value(&results[7]), &Attribute::Modifiable(true));

    // A secret key: key type, ulongs, dates (one empty), a mechanism list and a nested
    // template with boolean, ulong and text entries.
    let start = Date::new(2024, 2, 29).unwrap();
    let wrap_template = vec![
        Attribute::Class(ObjectClass::SecretKey),
        Attribute::Extractable(true),
        Attribute::Label("wrapped".into()),
    ];
    let mechanisms = vec![
        MechanismType(ffi::CKM_AES_CBC_PAD),
        MechanismType(ffi::CKM_AES_GCM),
        MechanismType(ffi::CKM_AES_KEY_WRAP),
    ];
    let key_bytes: Vec<u8> = (0u8..32).collect();
    let key = session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::Aes),
            Attribute::Token(false),
            // SoftHSM 2.6 cannot read back the dates of private objects (it stores them
            // unencrypted and decrypts them when read: CKR_GENERAL_ERROR).
            Attribute::Private(false),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
            Attribute::Wrap(true),
            Attribute::Label("kinds".into()),
            Attribute::Id(vec![0xAB; 4]),
            Attribute::StartDate(Some(start)),
            Attribute::AllowedMechanisms(mechanisms.clone()),
            Attribute::WrapTemplate(wrap_template.clone()),
            Attribute::Value(SecretBytes::new(key_bytes.clone())),
        ])
        .unwrap();
    let results = session
        .get_attributes(
            key,
            &[
                AttributeType::KeyType,
                AttributeType::ValueLen,
                AttributeType::StartDate,
                AttributeType::EndDate,
                AttributeType::AllowedMechanisms,
                AttributeType::WrapTemplate,
                AttributeType::UnwrapTemplate,
                AttributeType::Id,
                AttributeType::Value,
                AttributeType::KeyGenMechanism,
                AttributeType::Local,
            ],
        )
        .unwrap();
    assert_eq!(value(&results[0]), &Attribute::KeyType(KeyType::Aes));
    assert_eq!(value(&results[1]), &Attribute::ValueLen(32));
    assert_eq!(value(&results[2]), &Attribute::StartDate(Some(start)));
    assert_eq!(value(&results[3]), &Attribute::EndDate(None));
    match value(&results[4]) {
        Attribute::AllowedMechanisms(found) => {
            let found: BTreeSet<_> = found.iter().map(|m| m.raw()).collect();
            let expected: BTreeSet<_> = mechanisms.iter().map(|m| m.raw()).collect();
            assert_eq!(found, expected);
        }
        other => panic!("CKA_ALLOWED_MECHANISMS decoded as {other:?}"),
    }
    match value(&results[5]) {
        Attribute::WrapTemplate(found) => {
            assert_eq!(sorted_by_type(found.clone()), sorted_by_type(wrap_template));
        }
        other => panic!("CKA_WRAP_TEMPLATE decoded as {other:?}"),
    }
    // An empty nested template.
    assert_eq!(value(&results[6]), &Attribute::UnwrapTemplate(Vec::new()));
    assert_eq!(value(&results[7]), &Attribute::Id(vec![0xAB; 4]));
    assert_eq!(value(&results[8]).as_bytes(), Some(&key_bytes[..]));
    // Not generated: CK_UNAVAILABLE_INFORMATION as a value, not a length.
    assert_eq!(
        value(&results[9]),
        &Attribute::KeyGenMechanism(MechanismType(ffi::CK_UNAVAILABLE_INFORMATION))
    );
    assert_eq!(value(&results[10]), &Attribute::Local(false));

    // The single-attribute convenience.
    assert_eq!(
        session.get_attribute(key, AttributeType::Label).unwrap(),
        Attribute::Label("kinds".into())
    );
    session.destroy_object(data).unwrap();
    session.destroy_object(key).unwrap();
}

#[test]
fn find_by_label_among_two_hundred_objects_finds_each_once() {
    let _turn = take_turn();
    let session = user_session();
    let mut many = BTreeSet::new();
    let mut few = BTreeSet::new();
    for i in 0..200 {
        if i % 8 == 0 {
            few.insert(data_object(&session, "find-few", &i.to_string()));
        } else {
            many.insert(data_object(&session, "find-many", &i.to_string()));
        }
    }
    assert_eq!((many.len(), few.len()), (175, 25));

    let found: Vec<ObjectHandle> = session
        .find(&[Attribute::Label("find-many".into())])
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(found.len(), 175, "each object exactly once");
    assert_eq!(found.iter().copied().collect::<BTreeSet<_>>(), many);

    let found = session
        .find_all(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Label("find-few".into()),
        ])
        .unwrap();
    assert_eq!(found.len(), 25);
    assert_eq!(found.into_iter().collect::<BTreeSet<_>>(), few);

    // Every data object of the session, in any order.
    let all: BTreeSet<_> = session
        .find_all(&[Attribute::Class(ObjectClass::Data)])
        .unwrap()
        .into_iter()
        .collect();
    assert!(all.is_superset(&many) && all.is_superset(&few));

    assert!(session
        .find_all(&[Attribute::Label("find-none".into())])
        .unwrap()
        .is_empty());
}

#[test]
fn find_one_gives_the_object_or_not_found_or_more_than_one() {
    let _turn = take_turn();
    let session = user_session();
    let single = data_object(&session, "one-single", "a");
    data_object(&session, "one-twice", "a");
    data_object(&session, "one-twice", "b");

    let found = session
        .find_one(&[Attribute::Label("one-single".into())])
        .unwrap();
    assert_eq!(found, single);

    let error = session
        .find_one(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Label("one-missing".into()),
        ])
        .unwrap_err();
    match &error {
        Error::NotFound { what } => {
            assert!(what.contains("CKA_CLASS, CKA_LABEL"), "{what}");
            assert!(!what.contains("one-missing"), "values stay out of messages");
        }
        other => panic!("expected NotFound, got {other:?}"),
    }

    let error = session
        .find_one(&[Attribute::Label("one-twice".into())])
        .unwrap_err();
    assert!(
        matches!(&error, Error::MoreThanOne { what } if what.contains("CKA_LABEL")),
        "{error:?}"
    );
    // The session is left without an active search either way.
    assert_eq!(
        session
            .find_all(&[Attribute::Label("one-twice".into())])
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn a_dropped_half_consumed_find_leaves_the_session_usable() {
    let _turn = take_turn();
    let session = user_session();
    let created: BTreeSet<_> = (0..40)
        .map(|i| data_object(&session, "half-consumed", &i.to_string()))
        .collect();

    within(Duration::from_secs(20), "half-consumed find", || {
        let mut search = session
            .find(&[Attribute::Label("half-consumed".into())])
            .unwrap();
        for _ in 0..3 {
            search.next().unwrap().unwrap();
        }
        drop(search);

        // A new search works: the first one was ended, no CKR_OPERATION_ACTIVE.
        let again: BTreeSet<_> = session
            .find_all(&[Attribute::Label("half-consumed".into())])
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(again, created);

        // A search ended explicitly, half-consumed, leaves it usable too.
        let mut search = session
            .find(&[Attribute::Label("half-consumed".into())])
            .unwrap();
        search.next().unwrap().unwrap();
        search.finish().unwrap();
        assert_eq!(
            session
                .find_all(&[Attribute::Label("half-consumed".into())])
                .unwrap()
                .len(),
            40
        );
    });
}

#[test]
fn a_second_find_on_the_same_thread_is_operation_active_not_a_hang() {
    let _turn = take_turn();
    let session = user_session();
    data_object(&session, "conflict", "a");
    within(Duration::from_secs(20), "conflicting find", || {
        let mut search = session
            .find(&[Attribute::Label("conflict".into())])
            .unwrap();
        let error = session
            .find(&[Attribute::Label("conflict".into())])
            .unwrap_err();
        assert!(
            matches!(error, Error::OperationActive { .. }),
            "expected OperationActive, got {error:?}"
        );
        let error = session
            .find_one(&[Attribute::Label("conflict".into())])
            .unwrap_err();
        assert!(matches!(error, Error::OperationActive { .. }), "{error:?}");
        // The first search is unharmed, and attributes can be read meanwhile.
        let found = search.next().unwrap().unwrap();
        assert_eq!(
            session.get_attribute(found, AttributeType::Label).unwrap(),
            Attribute::Label("conflict".into())
        );
        assert!(search.next().is_none());
        drop(search);
        session
            .find_one(&[Attribute::Label("conflict".into())])
            .unwrap();
    });
}

#[test]
fn rule_19_a_mixed_template_gives_per_attribute_results() {
    let _turn = take_turn();
    let session = user_session();
    let key = session
        .generate_key(
            &Mechanism::plain(ffi::CKM_AES_KEY_GEN),
            &[
                Attribute::ValueLen(32),
                Attribute::Token(false),
                Attribute::Sensitive(true),
                Attribute::Extractable(false),
                Attribute::Label("mixed".into()),
            ],
        )
        .unwrap();
    let vendor = AttributeType(ffi::CKA_VENDOR_DEFINED | 0x1234);
    let results = session
        .get_attributes(
            key,
            &[
                AttributeType::Value,
                vendor,
                AttributeType::Label,
                AttributeType::KeyType,
                AttributeType::ValueLen,
                AttributeType::Sensitive,
                AttributeType::Class,
                AttributeType::Modulus,
            ],
        )
        .unwrap();
    assert_eq!(results[0], AttributeResult::Sensitive);
    assert_eq!(results[1], AttributeResult::Invalid);
    assert_eq!(value(&results[2]), &Attribute::Label("mixed".into()));
    assert_eq!(value(&results[3]), &Attribute::KeyType(KeyType::Aes));
    assert_eq!(value(&results[4]), &Attribute::ValueLen(32));
    assert_eq!(value(&results[5]), &Attribute::Sensitive(true));
    assert_eq!(
        value(&results[6]),
        &Attribute::Class(ObjectClass::SecretKey)
    );
    assert_eq!(
        results[7],
        AttributeResult::Invalid,
        "an AES key has no modulus"
    );

    // One sensitive attribute among fixed-size ones (the rv names it alone).
    let results = session
        .get_attributes(key, &[AttributeType::Token, AttributeType::Value])
        .unwrap();
    assert_eq!(value(&results[0]), &Attribute::Token(false));
    assert_eq!(results[1], AttributeResult::Sensitive);

    // The single-attribute form turns them into typed errors.
    let error = session
        .get_attribute(key, AttributeType::Value)
        .unwrap_err();
    assert_eq!(error.rv(), Some(Rv::AttributeSensitive), "{error:?}");
    assert_eq!(error.function(), Some("C_GetAttributeValue"));
    let error = session.get_attribute(key, vendor).unwrap_err();
    assert_eq!(error.rv(), Some(Rv::AttributeTypeInvalid), "{error:?}");

    // A whole-call error is an error: a destroyed object.
    session.destroy_object(key).unwrap();
    let error = session
        .get_attributes(key, &[AttributeType::Label])
        .unwrap_err();
    assert_eq!(error.rv(), Some(Rv::ObjectHandleInvalid), "{error:?}");
}

#[test]
fn rule_20_copy_destroy_set_attributes_and_object_size() {
    let _turn = take_turn();
    let session = user_session();
    let original = session
        .create_object(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Token(false),
            Attribute::Label("copy-original".into()),
            Attribute::Value(SecretBytes::new(b"shared value".to_vec())),
        ])
        .unwrap();

    session
        .set_attributes(original, &[Attribute::Label("copy-renamed".into())])
        .unwrap();
    let results = session
        .get_attributes(original, &[AttributeType::Label, AttributeType::Class])
        .unwrap();
    assert_eq!(value(&results[0]), &Attribute::Label("copy-renamed".into()));
    assert_eq!(value(&results[1]), &Attribute::Class(ObjectClass::Data));
    let error = session
        .set_attributes(original, &[Attribute::Class(ObjectClass::SecretKey)])
        .unwrap_err();
    assert_eq!(error.rv(), Some(Rv::AttributeReadOnly), "{error:?}");
    assert_eq!(error.function(), Some("C_SetAttributeValue"));

    let copy = session
        .copy_object(original, &[Attribute::Label("copy-copy".into())])
        .unwrap();
    assert_ne!(copy, original);
    assert_eq!(
        session.get_attribute(copy, AttributeType::Label).unwrap(),
        Attribute::Label("copy-copy".into())
    );
    assert_eq!(
        session
            .get_attribute(copy, AttributeType::Value)
            .unwrap()
            .as_bytes(),
        Some(&b"shared value"[..])
    );

    // SoftHSM does not tell object sizes: CK_UNAVAILABLE_INFORMATION is None, not a size.
    assert_eq!(session.object_size(copy).unwrap(), None);

    session.destroy_object(copy).unwrap();
    let error = session.destroy_object(copy).unwrap_err();
    assert_eq!(error.rv(), Some(Rv::ObjectHandleInvalid), "{error:?}");
    assert_eq!(error.function(), Some("C_DestroyObject"));
    let error = session.object_size(copy).unwrap_err();
    assert_eq!(error.rv(), Some(Rv::ObjectHandleInvalid), "{error:?}");
    assert_eq!(
        session
            .find_all(&[Attribute::Label("copy-copy".into())])
            .unwrap(),
        Vec::new()
    );
    assert_eq!(
        session
            .find_one(&[Attribute::Label("copy-renamed".into())])
            .unwrap(),
        original
    );
    let error = session
        .create_object(&[Attribute::Class(ObjectClass::SecretKey)])
        .unwrap_err();
    assert_eq!(error.function(), Some("C_CreateObject"), "{error:?}");
}

#[test]
fn generated_aes_ec_and_rsa_keys_show_their_public_attributes() {
    let _turn = take_turn();
    let session = user_session();

    let aes = session
        .generate_key(
            &Mechanism::plain(ffi::CKM_AES_KEY_GEN),
            &[
                Attribute::ValueLen(32),
                Attribute::Token(false),
                Attribute::Encrypt(true),
                Attribute::Label("gen-aes".into()),
            ],
        )
        .unwrap();
    let results = session
        .get_attributes(
            aes,
            &[
                AttributeType::Class,
                AttributeType::KeyType,
                AttributeType::ValueLen,
                AttributeType::Local,
                AttributeType::KeyGenMechanism,
                AttributeType::Encrypt,
            ],
        )
        .unwrap();
    assert_eq!(
        value(&results[0]),
        &Attribute::Class(ObjectClass::SecretKey)
    );
    assert_eq!(value(&results[1]), &Attribute::KeyType(KeyType::Aes));
    assert_eq!(value(&results[2]), &Attribute::ValueLen(32));
    assert_eq!(value(&results[3]), &Attribute::Local(true));
    assert_eq!(
        value(&results[4]),
        &Attribute::KeyGenMechanism(MechanismType(ffi::CKM_AES_KEY_GEN))
    );
    assert_eq!(value(&results[5]), &Attribute::Encrypt(true));

    let (ec_public, ec_private) = session
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
                Attribute::Label("gen-ec".into()),
            ],
        )
        .unwrap();
    assert_ne!(ec_public, ec_private);
    let results = session
        .get_attributes(
            ec_public,
            &[
                AttributeType::Class,
                AttributeType::KeyType,
                AttributeType::EcParams,
                AttributeType::EcPoint,
            ],
        )
        .unwrap();
    assert_eq!(
        value(&results[0]),
        &Attribute::Class(ObjectClass::PublicKey)
    );
    assert_eq!(value(&results[1]), &Attribute::KeyType(KeyType::Ec));
    assert_eq!(value(&results[2]), &Attribute::EcParams(P256.to_vec()));
    // A DER OCTET STRING around the uncompressed point: 04 41 04 x(32) y(32).
    let point = value(&results[3]).as_bytes().unwrap();
    assert_eq!(point.len(), 67, "{point:02x?}");
    assert_eq!(&point[..3], &[0x04, 0x41, 0x04]);
    let results = session
        .get_attributes(ec_private, &[AttributeType::Value, AttributeType::Sign])
        .unwrap();
    assert_eq!(results[0], AttributeResult::Sensitive);
    assert_eq!(value(&results[1]), &Attribute::Sign(true));
    assert_eq!(
        session
            .find_one(&[
                Attribute::Class(ObjectClass::PrivateKey),
                Attribute::Label("gen-ec".into()),
            ])
            .unwrap(),
        ec_private
    );

    let (rsa_public, rsa_private) = session
        .generate_key_pair(
            &Mechanism::plain(ffi::CKM_RSA_PKCS_KEY_PAIR_GEN),
            &[
                Attribute::ModulusBits(2048),
                Attribute::PublicExponent(vec![0x01, 0x00, 0x01]),
                Attribute::Token(false),
                Attribute::Verify(true),
            ],
            &[
                Attribute::Token(false),
                Attribute::Sign(true),
                Attribute::Sensitive(true),
            ],
        )
        .unwrap();
    let results = session
        .get_attributes(
            rsa_public,
            &[
                AttributeType::KeyType,
                AttributeType::ModulusBits,
                AttributeType::Modulus,
                AttributeType::PublicExponent,
            ],
        )
        .unwrap();
    assert_eq!(value(&results[0]), &Attribute::KeyType(KeyType::Rsa));
    assert_eq!(value(&results[1]), &Attribute::ModulusBits(2048));
    let modulus = value(&results[2]).as_bytes().unwrap();
    assert_eq!(modulus.len(), 256);
    assert!(
        modulus[0] & 0x80 != 0,
        "a 2048-bit modulus has its top bit set"
    );
    assert_eq!(
        value(&results[3]),
        &Attribute::PublicExponent(vec![0x01, 0x00, 0x01])
    );
    let results = session
        .get_attributes(
            rsa_private,
            &[
                AttributeType::PrivateExponent,
                AttributeType::Prime1,
                AttributeType::Modulus,
            ],
        )
        .unwrap();
    assert_eq!(results[0], AttributeResult::Sensitive);
    assert_eq!(results[1], AttributeResult::Sensitive);
    assert_eq!(value(&results[2]).as_bytes().map(<[u8]>::len), Some(256));

    // A mechanism the module refuses is an error naming the function.
    let error = session
        .generate_key(&Mechanism::plain(ffi::CKM_VENDOR_DEFINED | 0x77), &[])
        .unwrap_err();
    assert_eq!(error.function(), Some("C_GenerateKey"), "{error:?}");
    assert_eq!(error.rv(), Some(Rv::MechanismInvalid), "{error:?}");
}
