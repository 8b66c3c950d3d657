//! Counts and lengths the fault module lies about reach the safe crate as
//! `Error::ModuleContract` naming the function — never a hang, a panic, a huge
//! allocation or invented handles (RELIABILITY rules 17 and 18).

use pkcs11::{Attribute, Error, ObjectClass};
use pkcs11_tests::fault::{FaultModule, SLOT, USER_PIN};
use pkcs11_tests::Watchdog;

fn contract(result: pkcs11::Result<impl std::fmt::Debug>, function: &str) -> String {
    match result {
        Err(Error::ModuleContract { function: f, what }) if f == function => what,
        other => panic!("expected a contract error naming {function}, got {other:?}"),
    }
}

#[test]
fn rule_18_find_count_above_what_was_written_is_a_contract_error() {
    // Trusting the count would yield unwritten handles forever: a hang is a failure.
    let _watchdog = Watchdog::new("the find-count test", std::time::Duration::from_secs(60));
    let module = FaultModule::new("find-lies");
    let p11 = module.open().unwrap();
    let session = p11.slot(SLOT).open_rw_session().unwrap();
    let template = [
        Attribute::Class(ObjectClass::Data),
        Attribute::Token(false),
        Attribute::Label("lied-about".into()),
    ];
    for _ in 0..3 {
        session.create_object(&template).unwrap();
    }
    assert_eq!(session.find_all(&template).unwrap().len(), 3);

    // Five more than it wrote: handles that were never written are not invented.
    module.set_plan("C_FindObjects:count=+5");
    let what = contract(session.find_all(&template), "C_FindObjects");
    assert!(what.contains("was not written"), "{what}");
    // A count above the room given.
    module.set_plan("C_FindObjects:count=huge");
    contract(session.find_all(&template), "C_FindObjects");

    // The dropped searches were ended: an honest search works again.
    module.clear_plan();
    assert_eq!(session.find_all(&template).unwrap().len(), 3);
}

#[test]
fn rule_17_18_slot_and_mechanism_counts_that_lie_are_contract_errors() {
    let module = FaultModule::new("count-lies");
    let p11 = module.open().unwrap();
    let honest = p11.slots().unwrap().len();

    module.set_plan("C_GetSlotList:count=huge");
    let what = contract(p11.slots(), "C_GetSlotList");
    assert!(what.contains("absurd"), "{what}");
    module.set_plan("C_GetSlotList:count=grow");
    let what = contract(p11.slots(), "C_GetSlotList");
    assert!(what.contains("did not converge"), "{what}");
    let bounded = module.calls("C_GetSlotList");
    assert!(bounded <= 16, "{bounded} calls: the retries are bounded");

    module.set_plan("C_GetMechanismList:count=unavailable");
    contract(p11.slot(SLOT).mechanisms(), "C_GetMechanismList");

    module.clear_plan();
    assert_eq!(p11.slots().unwrap().len(), honest);
}

#[test]
fn rule_18_output_length_lies_are_contract_errors_before_allocating() {
    let module = FaultModule::new("length-lies");
    let p11 = module.open().unwrap();
    let session = p11.slot(SLOT).open_ro_session().unwrap();
    for plan in [
        "C_Digest:len=huge",
        "C_Digest:len=unavailable",
        "C_Digest:len=grow",
    ] {
        module.set_plan(plan);
        contract(
            session.digest(&pkcs11::Mechanism::Sha256, b"abc"),
            "C_Digest",
        );
    }
    module.clear_plan();
    let digest = session.digest(&pkcs11::Mechanism::Sha256, b"abc").unwrap();
    assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
}

#[test]
fn rule_24_nested_template_pointing_into_the_module_is_rejected_unread() {
    let module = FaultModule::new("nested-lies");
    let p11 = module.open().unwrap();
    let session = p11.slot(SLOT).open_rw_session().unwrap();
    // Secret keys are private objects: log in first.
    session
        .login(pkcs11::UserType::User, &pkcs11::Pin::from(USER_PIN))
        .unwrap();
    let key = session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(pkcs11::KeyType::GenericSecret),
            Attribute::Token(false),
            Attribute::Value(pkcs11::SecretBytes::new(vec![7; 16])),
            Attribute::WrapTemplate(vec![Attribute::Extractable(true)]),
        ])
        .unwrap();
    let honest = session
        .get_attribute(key, pkcs11::AttributeType::WrapTemplate)
        .unwrap();
    assert_eq!(
        honest,
        Attribute::WrapTemplate(vec![Attribute::Extractable(true)])
    );

    // The module redirects the nested entries' pointers into its own memory.
    module.set_plan("C_GetAttributeValue:garbage,attr=CKA_WRAP_TEMPLATE");
    let what = contract(
        session.get_attributes(key, &[pkcs11::AttributeType::WrapTemplate]),
        "C_GetAttributeValue",
    );
    assert!(what.contains("CKA_WRAP_TEMPLATE"), "{what}");
    module.clear_plan();
    assert_eq!(
        session
            .get_attribute(key, pkcs11::AttributeType::WrapTemplate)
            .unwrap(),
        honest
    );
}
