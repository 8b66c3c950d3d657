//! Counts and lengths the fault module lies about reach the safe crate as
//! `Error::ModuleContract` naming the function — never a hang, a panic, a huge
//! allocation or invented handles (RELIABILITY rules 17 and 18).

use pkcs11::{Attribute, Error, ObjectClass};
use pkcs11_tests::fault::{FaultModule, SLOT};
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
    assert!(what.contains("never settled"), "{what}");
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
