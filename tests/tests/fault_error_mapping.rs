//! Total error mapping (issue 5, item 4; RELIABILITY.md rule 14): every `CKR_` value of
//! v3.2, a vendor-defined value and an unassigned value, injected by the fault module at
//! representative calls, come back as `Error::Module` naming the function, with the
//! right `Rv` kind, name, category and display; session-fatal values poison the session
//! and the module's counters show that nothing more reaches it through that session.
//!
//! Every scenario uses its own copy of the fault module (`pkcs11_tests::fault`).

use pkcs11::{
    Attribute, Category, Error, KeyType, Mechanism, ObjectClass, Pin, Pkcs11, Rv, SecretBytes,
    Session, UserType,
};
use pkcs11_sys::{
    LoadError, CKR_BUFFER_TOO_SMALL, CKR_CRYPTOKI_ALREADY_INITIALIZED, CKR_NAMES, CKR_OK,
    CKR_VENDOR_DEFINED, CK_RV,
};
use pkcs11_tests::fault::{FaultModule, SLOT, USER_PIN};

/// A vendor-defined value.
const VENDOR: CK_RV = 0x8000_0123;
/// A value the standard does not assign.
const UNASSIGNED: CK_RV = 0x0000_0777;

/// Every value to inject at a call where only `CKR_OK` is success and no output length
/// is involved: the standard's (less `skip`), then the vendor and the unassigned one,
/// each with the name `Rv::name` must give.
fn values(skip: &[CK_RV]) -> Vec<(CK_RV, &'static str)> {
    CKR_NAMES
        .iter()
        .copied()
        .filter(|(rv, _)| *rv != CKR_OK && !skip.contains(rv))
        .chain([(VENDOR, "CKR_VENDOR_DEFINED"), (UNASSIGNED, "CKR_UNKNOWN")])
        .collect()
}

/// Checks that `error` is `raw` from `function`, mapped as the error table says.
fn assert_maps(error: &Error, function: &str, raw: CK_RV, name: &str) {
    let Error::Module {
        function: failed,
        rv,
    } = error
    else {
        panic!("{name} at {function}: not Error::Module but {error:?}");
    };
    let rv = *rv;
    assert_eq!(*failed, function, "{name}");
    assert_eq!(rv.raw(), raw, "{name}: the raw value is kept");
    assert_eq!(rv, Rv::from_raw(raw), "{name}");
    assert_eq!(rv.name(), name, "{name}: its name");
    match raw {
        VENDOR => assert_eq!(rv, Rv::Vendor(VENDOR)),
        UNASSIGNED => assert_eq!(rv, Rv::Unknown(UNASSIGNED)),
        _ => {}
    }
    let category = rv.category();
    match raw {
        UNASSIGNED => assert_eq!(category, Category::Unknown, "{name}"),
        VENDOR | CKR_VENDOR_DEFINED => assert_eq!(category, Category::Vendor, "{name}"),
        _ => assert!(
            !matches!(
                category,
                Category::Unknown | Category::Vendor | Category::Success
            ),
            "{name}: a standard error with category {category:?}"
        ),
    }
    assert_eq!(error.rv(), Some(rv));
    assert_eq!(error.function(), Some(function));
    assert_eq!(
        error.to_string(),
        format!("{function}: {name} (0x{raw:08X})")
    );
}

/// A copy of the fault module, opened.
fn open(tag: &str) -> (FaultModule, Pkcs11) {
    let module = FaultModule::new(tag);
    let p11 = module.open().expect("open the fault module");
    (module, p11)
}

/// Every call the safe crate could make on a poisoned session: all must fail with
/// `SessionPoisoned { cause }` and none may reach the module.
fn assert_poisoned(module: &FaultModule, session: &Session, cause: Rv) {
    let before = module.calls_total();
    let poisoned = |result: pkcs11::Result<()>, what: &str| match result {
        Err(Error::SessionPoisoned { cause: Some(got) }) => assert_eq!(got, cause, "{what}"),
        other => panic!("{what} on a session poisoned by {cause}: {other:?}"),
    };
    poisoned(session.generate_random(16).map(drop), "generate_random");
    poisoned(
        session.digest(&Mechanism::Sha256, b"data").map(drop),
        "digest",
    );
    poisoned(
        session.digest_stream(&Mechanism::Sha256).map(drop),
        "digest_stream",
    );
    poisoned(session.login(UserType::User, &Pin::from(USER_PIN)), "login");
    poisoned(session.logout(), "logout");
    poisoned(session.find_all(&[]).map(drop), "find_all");
    assert_eq!(session.poison_cause(), Some(Some(cause)));
    assert!(!session.is_usable());
    assert_eq!(
        module.calls_total(),
        before,
        "a call on a session poisoned by {cause} reached the module"
    );
}

#[test]
fn rule_14_every_ckr_value_at_c_generate_random_maps_and_fatal_ones_poison() {
    let (module, p11) = open("generate_random");
    let slot = p11.slot(SLOT);
    let mut fatal = Vec::new();
    // CKR_BUFFER_TOO_SMALL is not a plain error anywhere (see the next test).
    for (raw, name) in values(&[CKR_BUFFER_TOO_SMALL]) {
        let session = slot.open_ro_session().expect("open a session");
        let sessions = module.open_sessions();
        module.set_plan(&format!("C_GenerateRandom:rv={raw:#x}@1"));
        let calls = module.calls("C_GenerateRandom");
        let error = session
            .generate_random(16)
            .expect_err("the injected value is an error");
        assert_eq!(module.calls("C_GenerateRandom"), calls + 1, "{name}");
        assert_maps(&error, "C_GenerateRandom", raw, name);

        let rv = Rv::from_raw(raw);
        if rv.is_session_fatal() {
            fatal.push(name);
            assert_poisoned(&module, &session, rv);
            let before = module.calls_total();
            drop(session);
            assert_eq!(
                module.calls_total(),
                before,
                "{name}: dropping the poisoned session called the module"
            );
            assert_eq!(module.open_sessions(), sessions, "{name}: it was closed");
        } else {
            assert!(session.is_usable(), "{name} poisoned the session");
            assert_eq!(
                session.generate_random(16).expect("the next call").len(),
                16
            );
            assert_eq!(module.calls("C_GenerateRandom"), calls + 2, "{name}");
            let closes = module.calls("C_CloseSession");
            drop(session);
            assert_eq!(module.calls("C_CloseSession"), closes + 1, "{name}");
        }
    }
    fatal.sort_unstable();
    assert_eq!(
        fatal,
        [
            "CKR_CRYPTOKI_NOT_INITIALIZED",
            "CKR_DEVICE_REMOVED",
            "CKR_SESSION_CLOSED",
            "CKR_SESSION_HANDLE_INVALID",
            "CKR_TOKEN_NOT_PRESENT",
        ]
    );
}

#[test]
fn buffer_too_small_where_there_is_no_length_is_not_success() {
    let (module, p11) = open("generate_random_buffer_too_small");
    let session = p11.slot(SLOT).open_ro_session().unwrap();
    module.set_plan("C_GenerateRandom:rv=CKR_BUFFER_TOO_SMALL@1");
    let error = session
        .generate_random(16)
        .expect_err("CKR_BUFFER_TOO_SMALL is no success");
    assert_eq!(error.function(), Some("C_GenerateRandom"), "{error:?}");
    assert!(session.is_usable());
    assert!(session.generate_random(16).is_ok());
}

#[test]
fn rule_14_every_ckr_value_at_a_sessionless_call_maps_the_same() {
    let (module, p11) = open("get_token_info");
    let slot = p11.slot(SLOT);
    for (raw, name) in values(&[CKR_BUFFER_TOO_SMALL]) {
        module.set_plan(&format!("C_GetTokenInfo:rv={raw:#x}@1"));
        let error = slot
            .token_info()
            .expect_err("the injected value is an error");
        assert_maps(&error, "C_GetTokenInfo", raw, name);
        let info = slot.token_info().expect("the next call");
        assert_eq!(info.label().as_str(), "fault-token");
    }
}

#[test]
fn rule_14_fatal_value_in_a_stream_poisons_and_the_guard_calls_nothing() {
    let (module, p11) = open("stream");
    let slot = p11.slot(SLOT);
    let fatal: Vec<_> = values(&[CKR_BUFFER_TOO_SMALL])
        .into_iter()
        .filter(|(raw, _)| Rv::from_raw(*raw).is_session_fatal())
        .collect();
    assert_eq!(fatal.len(), 5);
    for (raw, name) in fatal {
        let session = slot.open_ro_session().unwrap();
        module.set_plan(&format!("C_DigestUpdate:rv={raw:#x}@2"));
        let mut stream = session.digest_stream(&Mechanism::Sha256).unwrap();
        stream.update(b"first").expect("the first update");
        let error = stream.update(b"second").expect_err("the injected value");
        assert_maps(&error, "C_DigestUpdate", raw, name);
        let before = module.calls_total();
        drop(stream);
        assert_eq!(
            module.calls_total(),
            before,
            "{name}: dropping the stream called the module (C_SessionCancel, *Init or *Final)"
        );
        assert_poisoned(&module, &session, Rv::from_raw(raw));
    }
}

#[test]
fn failed_update_ends_the_operation_without_a_cancel() {
    // Not session-fatal: the session stays usable, the module ended the digest itself
    // (RELIABILITY rule 16), so the guard must not try to cancel it.
    let (module, p11) = open("stream_error");
    let session = p11.slot(SLOT).open_ro_session().unwrap();
    module.set_plan("C_DigestUpdate:rv=CKR_DEVICE_ERROR@1");
    let mut stream = session.digest_stream(&Mechanism::Sha256).unwrap();
    let error = stream.update(b"data").expect_err("injected");
    assert_maps(&error, "C_DigestUpdate", 0x30, "CKR_DEVICE_ERROR");
    let before = module.calls_total();
    drop(stream);
    assert_eq!(module.calls_total(), before, "the guard called the module");
    let digest = session.digest(&Mechanism::Sha256, b"abc").unwrap();
    assert_eq!(digest[..4], [0xba, 0x78, 0x16, 0xbf]);
}

#[test]
fn statuses_are_not_errors_at_their_calls() {
    let (module, p11) = open("statuses");
    let session = p11.slot(SLOT).open_rw_session().unwrap();
    session
        .login(UserType::User, &Pin::from(USER_PIN))
        .expect("log in");
    let key = session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::GenericSecret),
            Attribute::Value(SecretBytes::new(b"mac key".to_vec())),
        ])
        .expect("create a MAC key");
    let signature = session
        .sign(&Mechanism::Sha256Hmac, key, b"message")
        .expect("sign");
    assert_eq!(signature.len(), 32);

    // CKR_SIGNATURE_INVALID and CKR_SIGNATURE_LEN_RANGE from C_Verify are a verdict.
    assert!(session
        .verify(&Mechanism::Sha256Hmac, key, b"message", &signature)
        .unwrap());
    assert!(!session
        .verify(&Mechanism::Sha256Hmac, key, b"massage", &signature)
        .unwrap());
    module.set_plan("C_Verify:rv=CKR_SIGNATURE_INVALID@1");
    assert!(!session
        .verify(&Mechanism::Sha256Hmac, key, b"message", &signature)
        .unwrap());
    module.set_plan("C_Verify:rv=CKR_SIGNATURE_LEN_RANGE@1");
    assert!(!session
        .verify(&Mechanism::Sha256Hmac, key, b"message", &signature)
        .unwrap());
    // Any other value from C_Verify is an error.
    module.set_plan("C_Verify:rv=CKR_DEVICE_ERROR@1");
    let error = session
        .verify(&Mechanism::Sha256Hmac, key, b"message", &signature)
        .expect_err("an error");
    assert_maps(&error, "C_Verify", 0x30, "CKR_DEVICE_ERROR");

    // CKR_USER_ALREADY_LOGGED_IN is benign for ensure_logged_in, an error for login.
    let error = session
        .login(UserType::User, &Pin::from(USER_PIN))
        .expect_err("already logged in");
    assert_maps(&error, "C_Login", 0x100, "CKR_USER_ALREADY_LOGGED_IN");
    session
        .ensure_logged_in(UserType::User, &Pin::from(USER_PIN))
        .expect("benign");

    // CKR_NO_EVENT from a non-blocking C_WaitForSlotEvent is "no event".
    assert!(p11.try_slot_event().unwrap().is_none());
    assert!(module.raise_slot_event(SLOT));
    assert_eq!(p11.try_slot_event().unwrap().map(|s| s.id()), Some(SLOT));
    module.set_plan("C_WaitForSlotEvent:rv=CKR_DEVICE_ERROR@1");
    let error = p11.try_slot_event().expect_err("an error");
    assert_maps(&error, "C_WaitForSlotEvent", 0x30, "CKR_DEVICE_ERROR");
}

#[test]
fn every_ckr_value_at_c_initialize_fails_the_open_and_finalizes_nothing() {
    let module = FaultModule::new("initialize");
    for (raw, name) in values(&[CKR_CRYPTOKI_ALREADY_INITIALIZED]) {
        module.set_plan(&format!("C_Initialize:rv={raw:#x}@1"));
        let error = module
            .open()
            .expect_err("the injected value fails the open");
        assert_maps(&error, "C_Initialize", raw, name);
        assert!(!module.is_initialized());
    }
    assert_eq!(module.calls("C_Finalize"), 0, "an error path finalized");
    module.clear_plan();
    let p11 = module.open().expect("a clean open");
    assert!(!p11.is_adopted());
    drop(p11);
    assert_eq!(module.calls("C_Finalize"), 1);

    // CKR_CRYPTOKI_ALREADY_INITIALIZED is no error: another component initialized the
    // module, and we adopt it (never finalizing it).
    module.set_plan("C_Initialize:rv=CKR_CRYPTOKI_ALREADY_INITIALIZED@1");
    let p11 = module.open().expect("adopted");
    assert!(p11.is_adopted());
    drop(p11);
    assert_eq!(module.calls("C_Finalize"), 1);
}

#[test]
fn loader_failures_keep_the_entry_points_value() {
    for (raw, name) in [
        (0x5, "CKR_GENERAL_ERROR"),
        (0x2, "CKR_HOST_MEMORY"),
        (VENDOR, "CKR_VENDOR_DEFINED"),
        (UNASSIGNED, "CKR_UNKNOWN"),
    ] {
        let module = FaultModule::new("loader");
        module.set_plan(&format!(
            "list-not-supported; C_GetFunctionList:rv={raw:#x}"
        ));
        let error = module.open().expect_err("no function table");
        match &error {
            Error::Load(LoadError::EntryPointFailed { function, rv, .. }) => {
                assert_eq!((*function, *rv), ("C_GetFunctionList", raw), "{name}");
            }
            other => panic!("{name}: {other:?}"),
        }
        assert_eq!(error.rv(), Some(Rv::from_raw(raw)));
        assert_eq!(error.rv().map(Rv::name), Some(name));
        assert_eq!(module.calls("C_Initialize"), 0);
    }
}
