//! The safe crate's module lifecycle and sessions against SoftHSMv2: one shared
//! initialization, adoption, finalization, login errors.
//!
//! SoftHSM is one instance per process: the tests of this binary share one throwaway
//! token and take turns.

use pkcs11::{Error, Pin, Pkcs11, Rv, UserType};
use pkcs11_tests::{
    shared_softhsm_token, softhsm_get_info_rv, softhsm_module, take_turn, SoftHsmToken,
};

fn token() -> &'static SoftHsmToken {
    shared_softhsm_token("safe-lifecycle")
}

#[test]
fn rule_06_08_opens_share_one_initialization_and_the_last_drop_finalizes() {
    let _turn = take_turn();
    let _ = token();
    let dir = pkcs11_tests::TempDir::new("symlink");
    let link = dir.path().join("libsofthsm-link.so");
    std::os::unix::fs::symlink(softhsm_module(), &link).unwrap();

    let first = Pkcs11::open(softhsm_module()).unwrap();
    assert!(!first.is_adopted());
    let second = Pkcs11::open(&link).unwrap();
    assert!(first.same_module(&second), "a symlink is the same module");
    assert_eq!(softhsm_get_info_rv(), pkcs11_sys::CKR_OK);

    let slot = first
        .slots_with_token()
        .unwrap()
        .into_iter()
        .next()
        .unwrap();
    let session = slot.open_ro_session().unwrap();
    drop(slot);
    drop(first);
    drop(second);
    assert_eq!(
        softhsm_get_info_rv(),
        pkcs11_sys::CKR_OK,
        "the session keeps it initialized"
    );
    drop(session);
    assert_eq!(
        softhsm_get_info_rv(),
        pkcs11_sys::CKR_CRYPTOKI_NOT_INITIALIZED,
        "the last drop finalized the module"
    );
}

#[test]
fn rule_08_concurrent_opens_make_one_initialization() {
    let _turn = take_turn();
    let _ = token();
    let handles: Vec<Pkcs11> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| Pkcs11::open(softhsm_module()).unwrap()))
            .collect();
        threads.into_iter().map(|t| t.join().unwrap()).collect()
    });
    assert!(handles.iter().all(|h| h.same_module(&handles[0])));
    assert!(handles.iter().all(|h| !h.is_adopted()));
    drop(handles);
    assert_eq!(
        softhsm_get_info_rv(),
        pkcs11_sys::CKR_CRYPTOKI_NOT_INITIALIZED
    );
}

#[test]
fn rule_07_module_initialized_by_raw_calls_is_adopted_and_left_initialized() {
    let _turn = take_turn();
    let _ = token();
    let raw = pkcs11_sys::Module::load(softhsm_module()).unwrap();
    let mut args = pkcs11_sys::CK_C_INITIALIZE_ARGS {
        flags: pkcs11_sys::CKF_OS_LOCKING_OK,
        ..Default::default()
    };
    let initialize = raw.functions().C_Initialize.unwrap();
    // SAFETY: `args` outlives the call.
    let rv = unsafe { initialize(std::ptr::from_mut(&mut args).cast()) };
    assert_eq!(rv, pkcs11_sys::CKR_OK);

    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    assert!(p11.is_adopted());
    drop(p11);
    assert_eq!(
        softhsm_get_info_rv(),
        pkcs11_sys::CKR_OK,
        "an adopted module stays initialized"
    );

    let finalize = raw.functions().C_Finalize.unwrap();
    // SAFETY: we initialized it above; nothing else uses it now.
    let rv = unsafe { finalize(std::ptr::null_mut()) };
    assert_eq!(rv, pkcs11_sys::CKR_OK);
}

#[test]
fn rule_12_33_wrong_pin_is_pin_incorrect_naming_c_login() {
    let _turn = take_turn();
    let token = token();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let slot = p11.slots_with_token().unwrap().into_iter().next().unwrap();
    let session = slot.open_rw_session().unwrap();
    let error = session
        .login(UserType::User, &Pin::from("definitely-wrong-4242"))
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::Module {
                function: "C_Login",
                rv: Rv::PinIncorrect
            }
        ),
        "{error:?}"
    );
    let text = format!("{error} {error:?}");
    assert_eq!(error.to_string(), "C_Login: CKR_PIN_INCORRECT (0x000000A0)");
    assert!(!text.contains("definitely-wrong-4242"));

    session
        .login(UserType::User, &Pin::from(token.user_pin))
        .unwrap();
    let again = session.login(UserType::User, &Pin::from(token.user_pin));
    assert!(matches!(
        again,
        Err(Error::Module {
            rv: Rv::UserAlreadyLoggedIn,
            ..
        })
    ));
    session
        .ensure_logged_in(UserType::User, &Pin::from(token.user_pin))
        .unwrap();
    session.logout().unwrap();
    session.close().unwrap();
}

#[test]
fn rule_11_explicit_finalize_refuses_later_calls_without_reaching_the_module() {
    let _turn = take_turn();
    let _ = token();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let other = p11.clone();
    let slot = p11.slots_with_token().unwrap().into_iter().next().unwrap();
    let session = slot.open_ro_session().unwrap();
    p11.finalize().unwrap();
    assert_eq!(
        softhsm_get_info_rv(),
        pkcs11_sys::CKR_CRYPTOKI_NOT_INITIALIZED
    );
    assert!(matches!(other.slots(), Err(Error::Finalized)));
    assert!(!session.is_usable());
    // Closing a session of a finalized module calls nothing and succeeds.
    session.close().unwrap();
    drop(other);
    // Opening again initializes anew.
    let fresh = Pkcs11::open(softhsm_module()).unwrap();
    assert!(!fresh.slots_with_token().unwrap().is_empty());
}
