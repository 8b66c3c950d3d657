//! The prologue every function of the module runs: count the call, refuse it in a fork
//! child (plan `fork=nss`), then apply the plan's rules for it — sleep, notify, answer
//! an injected return value, or run the real work with the lies the output helpers
//! (`out.rs`) apply.

use std::cell::Cell;

use pkcs11_sys::{
    CKR_BUFFER_TOO_SMALL, CKR_CANCEL, CKR_DEVICE_ERROR, CKR_FUNCTION_CANCELED, CKR_OK, CK_RV,
    CK_SESSION_HANDLE,
};

use crate::calls::{record, Function};
use crate::plan::{self, Effects};
use crate::state;

/// What the body of a function returns: `Ok(())` for `CKR_OK`, else the return value.
pub(crate) type Ck<T = ()> = Result<T, CK_RV>;

thread_local! {
    /// The faults of the call running on this thread.
    static CURRENT: Cell<Effects> = Cell::new(Effects::default());
}

/// The faults of the call running on this thread (none outside a call).
pub(crate) fn effects() -> Effects {
    CURRENT.with(Cell::get)
}

/// Restores the previous call's effects (a notification callback may call into the
/// module from inside a call).
struct Installed(Effects);

impl Drop for Installed {
    fn drop(&mut self) {
        CURRENT.with(|current| current.set(self.0));
    }
}

/// Runs one call of `function`; `session` is its session handle, if it has one.
pub(crate) fn run(
    function: Function,
    session: Option<CK_SESSION_HANDLE>,
    body: impl FnOnce() -> Ck,
) -> CK_RV {
    record(function);
    if state::refused_after_fork(function) {
        return CKR_DEVICE_ERROR;
    }
    let effects = plan::effects(function).unwrap_or_default();
    let actions = effects.actions;
    if let Some(sleep) = actions.sleep {
        std::thread::sleep(sleep);
    }
    if let (Some(mode), Some(session)) = (actions.notify, session) {
        if state::notify_from_call(session, mode) == Some(CKR_CANCEL) {
            return CKR_FUNCTION_CANCELED;
        }
    }
    if let Some(rv) = actions.rv {
        // An injected failure ends the operation the call belongs to, as a real one would.
        if let Some(session) = session.filter(|_| rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL) {
            state::end_operations_of(function, session);
        }
        return rv;
    }
    let previous = CURRENT.with(|current| current.replace(effects));
    let _restore = Installed(previous);
    match body() {
        Ok(()) => CKR_OK,
        Err(rv) => rv,
    }
}
