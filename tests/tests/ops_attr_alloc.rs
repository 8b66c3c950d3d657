//! Heap allocations of attribute reads (issue 6, attribute reads): `get_attributes`
//! decodes straight from the engine's call-local scratch area, so a read costs one
//! allocation for the results plus one per variable-length value, and nothing for
//! fixed-size ones; `get_attribute` only its value's; `get_ulong` / `get_bool` nothing
//! at all; `read_attributes_into` an `AttributeReader` made beforehand nothing at all,
//! its accessors included. On SoftHSMv2 and Kryoptic.
//!
//! A counting global allocator (its own test binary: it affects no other suite) counts
//! this thread's allocations. The modules' own allocations are not counted: SoftHSM
//! allocates with C++'s allocator, Kryoptic with its own Rust runtime's. Each read runs
//! twice first (first-call costs), then [`RUNS`] times counted, and its values are
//! checked, so that a read that fails or returns nothing cannot pass for a cheap one.

use pkcs11::{
    Attribute, AttributeReader, AttributeResult, AttributeType, AttributeView, Error, KeyType,
    ObjectClass, Rv, SecretBytes, Session,
};
use pkcs11_tests::alloc::{allocations_so_far, Counting};
use pkcs11_tests::modules::{each_module, TestToken};

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The label of the objects read.
const LABEL: &str = "ops-attr-alloc";

/// Counted runs per read.
const RUNS: u64 = 8;

/// Allocations per call of `read` (after two uncounted calls), which checks its result.
fn per_call(mut read: impl FnMut()) -> f64 {
    read();
    read();
    let before = allocations_so_far();
    for _ in 0..RUNS {
        read();
    }
    (allocations_so_far() - before) as f64 / RUNS as f64
}

/// A session data object with a label, an application, an ID... and a value.
fn data_object(session: &Session) -> pkcs11::ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Token(false),
            Attribute::Private(false),
            Attribute::Label(LABEL.into()),
            Attribute::Application("pkcs11-tests".into()),
            Attribute::Value(SecretBytes::new(vec![0x42; 16])),
        ])
        .expect("create a data object")
}

fn value(result: &AttributeResult) -> &Attribute {
    result
        .value()
        .unwrap_or_else(|| panic!("no value: {result:?}"))
}

/// A session generic secret key with a label and an ID (the benchmark reads a key's
/// CLASS + LABEL + ID).
fn secret_key(session: &Session) -> pkcs11::ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::GenericSecret),
            Attribute::Token(false),
            Attribute::Label(LABEL.into()),
            Attribute::Id(b"key-id-01".to_vec()),
            Attribute::Value(SecretBytes::new(vec![0x42; 32])),
        ])
        .expect("create a secret key")
}

/// Whether `attribute` is the objects' label (compared without allocating).
fn is_label(attribute: &Attribute) -> bool {
    matches!(attribute, Attribute::Label(label) if label == LABEL)
}

fn check(session: &Session, name: &str) {
    let object = data_object(session);
    let key = secret_key(session);
    let class_label_id = [
        AttributeType::Class,
        AttributeType::Label,
        AttributeType::Id,
    ];

    // CLASS + LABEL + ID of a key: the results, the label's text and the ID's bytes.
    let n = per_call(|| {
        let results = session
            .get_attributes(key, &class_label_id)
            .expect("read CLASS + LABEL + ID");
        assert_eq!(
            value(&results[0]),
            &Attribute::Class(ObjectClass::SecretKey)
        );
        assert!(is_label(value(&results[1])));
        assert!(matches!(value(&results[2]), Attribute::Id(id) if id == b"key-id-01"));
    });
    assert!(
        n <= 3.0,
        "{name}: CLASS + LABEL + ID allocated {n} times per read (at most 3: the results, \
         the label and the ID)"
    );

    // A data object has no CKA_ID: invalid, a result of its own, allocating nothing.
    let n = per_call(|| {
        let results = session
            .get_attributes(object, &class_label_id)
            .expect("read CLASS + LABEL + ID");
        assert_eq!(value(&results[0]), &Attribute::Class(ObjectClass::Data));
        assert!(is_label(value(&results[1])));
        assert!(
            matches!(results[2], AttributeResult::Invalid),
            "{:?}",
            results[2]
        );
    });
    assert!(
        n <= 2.0,
        "{name}: CLASS + LABEL + (invalid) ID allocated {n} times per read"
    );

    // Fixed-size values only: the results.
    let fixed = [
        AttributeType::Class,
        AttributeType::Token,
        AttributeType::Private,
        AttributeType::Modifiable,
    ];
    let n = per_call(|| {
        let results = session.get_attributes(object, &fixed).expect("read flags");
        assert_eq!(value(&results[1]), &Attribute::Token(false));
        assert_eq!(value(&results[2]), &Attribute::Private(false));
    });
    assert!(
        n <= 1.0,
        "{name}: four fixed-size values allocated {n} times per read"
    );

    // Every public attribute of a data object (as the benchmark reads them): the results
    // and the three variable values.
    let all = [
        AttributeType::Class,
        AttributeType::Token,
        AttributeType::Private,
        AttributeType::Modifiable,
        AttributeType::Label,
        AttributeType::Application,
        AttributeType::Value,
    ];
    let n = per_call(|| {
        let results = session.get_attributes(object, &all).expect("read all");
        assert!(is_label(value(&results[4])));
        assert!(matches!(
            value(&results[5]),
            Attribute::Application(a) if a == "pkcs11-tests"
        ));
        match value(&results[6]) {
            Attribute::Value(v) => assert_eq!(v.as_bytes(), &[0x42; 16]),
            other => panic!("CKA_VALUE: {other:?}"),
        }
    });
    assert!(
        n <= 4.0,
        "{name}: seven attributes allocated {n} times per read"
    );

    // One value: the value alone.
    let n = per_call(|| {
        let label = session
            .get_attribute(object, AttributeType::Label)
            .expect("read the label");
        assert!(is_label(&label));
    });
    assert!(n <= 1.0, "{name}: one label allocated {n} times per read");

    // Fixed-size values into plain variables: nothing.
    let n = per_call(|| {
        let class = session
            .get_ulong(key, AttributeType::Class)
            .expect("read the class");
        assert_eq!(ObjectClass::from_raw(class), ObjectClass::SecretKey);
        let len = session
            .get_ulong(key, AttributeType::ValueLen)
            .expect("read the value length");
        assert_eq!(len, 32);
        assert!(!session
            .get_bool(key, AttributeType::Token)
            .expect("read CKA_TOKEN"));
        assert!(session
            .get_bool(object, AttributeType::Modifiable)
            .expect("read CKA_MODIFIABLE"));
    });
    assert!(
        n == 0.0,
        "{name}: get_ulong / get_bool allocated {n} times per read"
    );

    // Into a reader made once (its allocations are not the reads'): nothing at all per
    // read, for CLASS + LABEL + ID of a key and for the seven attributes of a data
    // object, values read through the accessors.
    let mut reader = AttributeReader::new(&class_label_id, 64).expect("a reader");
    let n = per_call(|| {
        session
            .read_attributes_into(key, &mut reader)
            .expect("read CLASS + LABEL + ID");
        assert_eq!(
            reader.ulong(AttributeType::Class).expect("CKA_CLASS"),
            pkcs11::ffi::CKO_SECRET_KEY
        );
        assert_eq!(reader.str(AttributeType::Label).expect("CKA_LABEL"), LABEL);
        assert_eq!(
            reader.bytes(AttributeType::Id).expect("CKA_ID"),
            b"key-id-01"
        );
    });
    assert!(
        n == 0.0,
        "{name}: CLASS + LABEL + ID into a reader allocated {n} times per read"
    );
    // The same reader on an object without CKA_ID: a result of its own, no allocation.
    let n = per_call(|| {
        session
            .read_attributes_into(object, &mut reader)
            .expect("read CLASS + LABEL + ID");
        assert_eq!(reader.str(AttributeType::Label).expect("CKA_LABEL"), LABEL);
        assert_eq!(reader.get(AttributeType::Id), Some(AttributeView::Invalid));
    });
    assert!(
        n == 0.0,
        "{name}: CLASS + LABEL + (invalid) ID into a reader allocated {n} times per read"
    );
    let mut reader = AttributeReader::new(&all, 64).expect("a reader");
    let n = per_call(|| {
        session
            .read_attributes_into(object, &mut reader)
            .expect("read all");
        assert_eq!(
            reader.ulong(AttributeType::Class).expect("CKA_CLASS"),
            pkcs11::ffi::CKO_DATA
        );
        assert!(!reader.bool(AttributeType::Token).expect("CKA_TOKEN"));
        assert!(!reader.bool(AttributeType::Private).expect("CKA_PRIVATE"));
        assert!(reader
            .bool(AttributeType::Modifiable)
            .expect("CKA_MODIFIABLE"));
        assert_eq!(reader.str(AttributeType::Label).expect("CKA_LABEL"), LABEL);
        assert_eq!(
            reader
                .str(AttributeType::Application)
                .expect("CKA_APPLICATION"),
            "pkcs11-tests"
        );
        assert_eq!(
            reader.bytes(AttributeType::Value).expect("CKA_VALUE"),
            [0x42; 16]
        );
    });
    assert!(
        n == 0.0,
        "{name}: seven attributes into a reader allocated {n} times per read"
    );

    // What they refuse: an attribute of another type (before any call), one the object
    // does not have.
    match session.get_ulong(key, AttributeType::Label) {
        Err(Error::InvalidInput { what }) => assert!(what.contains("CKA_LABEL"), "{what}"),
        other => panic!("{name}: get_ulong of CKA_LABEL gave {other:?}"),
    }
    match session.get_bool(key, AttributeType::Class) {
        Err(Error::InvalidInput { what }) => assert!(what.contains("CKA_CLASS"), "{what}"),
        other => panic!("{name}: get_bool of CKA_CLASS gave {other:?}"),
    }
    match session.get_ulong(object, AttributeType::KeyType) {
        Err(Error::Module { function, rv }) => {
            assert_eq!(function, "C_GetAttributeValue");
            assert_eq!(rv, Rv::AttributeTypeInvalid);
        }
        other => panic!("{name}: CKA_KEY_TYPE of a data object gave {other:?}"),
    }

    session.destroy_object(object).expect("destroy");
    session.destroy_object(key).expect("destroy");
}

#[test]
fn attribute_reads_allocate_only_their_results() {
    each_module(
        "attribute_reads_allocate_only_their_results",
        |token: &'static TestToken| check(&token.session(), token.module.name()),
    );
}
