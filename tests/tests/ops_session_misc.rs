//! The remaining session and slot functions on both real modules: `C_CloseAllSessions`,
//! the legacy `C_GetFunctionStatus` / `C_CancelFunction`, and the 3.2
//! `C_GetSessionValidationFlags`.
//!
//! One test function: closing all sessions of the slot would pull the sessions of any
//! other test in this process from under it.

use pkcs11::{Error, Rv};
use pkcs11_tests::modules::{each_module, Module};

#[test]
fn close_all_sessions_legacy_status_and_validation_flags() {
    each_module(
        "close_all_sessions_legacy_status_and_validation_flags",
        |token| {
            let session = token.session();

            // Parallel functions were withdrawn in 2.01: both modules say so.
            for (name, result) in [
                ("C_GetFunctionStatus", session.legacy_function_status()),
                ("C_CancelFunction", session.legacy_cancel_function()),
            ] {
                match result {
                    Err(Error::Module { function, rv }) => {
                        assert_eq!(function, name);
                        assert_eq!(rv, Rv::FunctionNotParallel, "{name} on {:?}", token.module);
                    }
                    other => panic!("{name} on {:?}: {other:?}", token.module),
                }
            }

            // 3.2 only: SoftHSM's 2.40 table has no such slot, which is a typed error
            // without a module call.
            let flags = session.validation_flags(pkcs11::ffi::CKS_LAST_VALIDATION_OK);
            match token.module {
                Module::SoftHsm => assert!(
                    matches!(
                        flags,
                        Err(Error::NotSupported {
                            function: "C_GetSessionValidationFlags"
                        })
                    ),
                    "{flags:?}"
                ),
                Module::Kryoptic => match flags {
                    Ok(_) => {}
                    Err(Error::Module { function, rv }) => {
                        assert_eq!(function, "C_GetSessionValidationFlags");
                        assert_eq!(rv, Rv::FunctionNotSupported, "{rv:?}");
                    }
                    Err(other) => panic!("{other:?}"),
                },
            }

            // Close everything: the open session's handle is gone, and its next call is the
            // module's "handle invalid", which poisons it.
            let other = token.session();
            token.slot.close_all_sessions().expect("C_CloseAllSessions");
            let after = session.info();
            assert!(
                matches!(
                    after,
                    Err(Error::Module {
                        rv: Rv::SessionHandleInvalid | Rv::SessionClosed,
                        ..
                    })
                ),
                "{after:?}"
            );
            assert!(!session.is_usable());
            assert!(matches!(other.info(), Err(Error::Module { .. })));
            // New sessions work (and log in again: closing all sessions logged the user out).
            let fresh = token.session();
            assert_eq!(fresh.generate_random(8).expect("random").len(), 8);
        },
    );
}
