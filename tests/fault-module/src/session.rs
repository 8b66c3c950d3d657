//! Sessions and login.
//!
//! Login state belongs to the token and the application: every session on the token
//! shares it, and closing the last one logs out. The standard's errors are given:
//! `CKR_USER_ALREADY_LOGGED_IN`, `CKR_USER_ANOTHER_ALREADY_LOGGED_IN`,
//! `CKR_SESSION_READ_ONLY_EXISTS` (SO login with a read-only session open),
//! `CKR_SESSION_READ_WRITE_SO_EXISTS` (read-only session while the SO is logged in),
//! `CKR_PIN_INCORRECT`, `CKR_USER_PIN_NOT_INITIALIZED`, `CKR_USER_NOT_LOGGED_IN`...

use pkcs11_sys::{
    CKF_RW_SESSION, CKF_SERIAL_SESSION, CKR_ARGUMENTS_BAD, CKR_OPERATION_NOT_INITIALIZED,
    CKR_PIN_INCORRECT, CKR_SESSION_PARALLEL_NOT_SUPPORTED, CKR_SESSION_READ_ONLY,
    CKR_SESSION_READ_ONLY_EXISTS, CKR_SESSION_READ_WRITE_SO_EXISTS, CKR_TOKEN_NOT_INITIALIZED,
    CKR_USER_ALREADY_LOGGED_IN, CKR_USER_ANOTHER_ALREADY_LOGGED_IN, CKR_USER_NOT_LOGGED_IN,
    CKR_USER_PIN_NOT_INITIALIZED, CKR_USER_TYPE_INVALID, CKS_RO_PUBLIC_SESSION,
    CKS_RO_USER_FUNCTIONS, CKS_RW_PUBLIC_SESSION, CKS_RW_SO_FUNCTIONS, CKS_RW_USER_FUNCTIONS,
    CKU_CONTEXT_SPECIFIC, CKU_SO, CKU_USER, CK_FLAGS, CK_NOTIFY, CK_RV, CK_SESSION_HANDLE,
    CK_SESSION_HANDLE_PTR, CK_SESSION_INFO, CK_SESSION_INFO_PTR, CK_SLOT_ID, CK_ULONG,
    CK_USER_TYPE, CK_UTF8CHAR_PTR, CK_VOID_PTR,
};

use crate::args;
use crate::calls::Function;
use crate::entry::{run, Ck};
use crate::out;
use crate::state::{self, Notify, Ops, Pin, Session, State};
use crate::token::pin_argument;

/// `C_OpenSession`: `CKF_SERIAL_SESSION` is required; the callback and `pApplication`
/// are kept for `CK_NOTIFY` (plan action `notify`, `fault_notify`).
pub(crate) unsafe extern "C" fn open_session(
    slot: CK_SLOT_ID,
    flags: CK_FLAGS,
    p_application: CK_VOID_PTR,
    notify: CK_NOTIFY,
    ph_session: CK_SESSION_HANDLE_PTR,
) -> CK_RV {
    run(Function::OpenSession, None, || {
        state::with(|state| {
            let token = state.token(slot)?;
            if flags & CKF_SERIAL_SESSION == 0 {
                return Err(CKR_SESSION_PARALLEL_NOT_SUPPORTED);
            }
            if ph_session.is_null() {
                return Err(CKR_ARGUMENTS_BAD);
            }
            let rw = flags & CKF_RW_SESSION != 0;
            if !rw && token.login == Some(CKU_SO) {
                return Err(CKR_SESSION_READ_WRITE_SO_EXISTS);
            }
            let handle = state.new_session(Session {
                slot,
                rw,
                notify: Notify::new(notify, p_application),
                ops: Ops::default(),
            });
            // SAFETY: non-NULL (checked), writable (the caller's contract).
            unsafe { out::value(handle, ph_session) }
        })
    })
}

/// `C_CloseSession`.
pub(crate) unsafe extern "C" fn close_session(h: CK_SESSION_HANDLE) -> CK_RV {
    run(Function::CloseSession, Some(h), || {
        state::with(|state| state.close_session(h))
    })
}

/// `C_CloseAllSessions`: every session on the slot.
pub(crate) unsafe extern "C" fn close_all_sessions(slot: CK_SLOT_ID) -> CK_RV {
    run(Function::CloseAllSessions, None, || {
        state::with(|state| {
            state.token(slot)?;
            let handles: Vec<_> = state
                .sessions
                .iter()
                .filter(|(_, s)| s.slot == slot)
                .map(|(&h, _)| h)
                .collect();
            for h in handles {
                state.close_session(h)?;
            }
            Ok(())
        })
    })
}

/// `C_GetSessionInfo`.
pub(crate) unsafe extern "C" fn get_session_info(
    h: CK_SESSION_HANDLE,
    p_info: CK_SESSION_INFO_PTR,
) -> CK_RV {
    run(Function::GetSessionInfo, Some(h), || {
        state::with(|state| {
            let login = state.login_of(h)?;
            let session = state.session(h)?;
            let state = match (session.rw, login) {
                (false, None) => CKS_RO_PUBLIC_SESSION,
                (false, Some(_)) => CKS_RO_USER_FUNCTIONS,
                (true, None) => CKS_RW_PUBLIC_SESSION,
                (true, Some(CKU_SO)) => CKS_RW_SO_FUNCTIONS,
                (true, Some(_)) => CKS_RW_USER_FUNCTIONS,
            };
            let info = CK_SESSION_INFO {
                slotID: session.slot,
                state,
                flags: CKF_SERIAL_SESSION | if session.rw { CKF_RW_SESSION } else { 0 },
                ulDeviceError: 0,
            };
            // SAFETY: NULL or writable (the caller's contract).
            unsafe { out::value(info, p_info) }
        })
    })
}

/// Logs `user` in on the token of session `h` with `pin`.
fn login(state: &mut State, h: CK_SESSION_HANDLE, user: CK_USER_TYPE, pin: &[u8]) -> Ck {
    let slot = state.session(h)?.slot;
    let active = state.session(h)?.ops.any();
    let read_only = state.sessions.values().any(|s| s.slot == slot && !s.rw);
    let token = state.token(slot)?;
    let (expected, conflict) = match user {
        CKU_SO => (token.so_pin.ok_or(CKR_TOKEN_NOT_INITIALIZED)?, CKU_USER),
        CKU_USER => (token.user_pin.ok_or(CKR_USER_PIN_NOT_INITIALIZED)?, CKU_SO),
        CKU_CONTEXT_SPECIFIC => {
            if !active {
                return Err(CKR_OPERATION_NOT_INITIALIZED);
            }
            if token.login != Some(CKU_USER) {
                return Err(CKR_USER_NOT_LOGGED_IN);
            }
            let expected = token.user_pin.ok_or(CKR_USER_PIN_NOT_INITIALIZED)?;
            return check_pin(&expected, pin);
        }
        _ => return Err(CKR_USER_TYPE_INVALID),
    };
    match token.login {
        Some(logged) if logged == user => return Err(CKR_USER_ALREADY_LOGGED_IN),
        Some(logged) if logged == conflict => return Err(CKR_USER_ANOTHER_ALREADY_LOGGED_IN),
        _ => {}
    }
    if user == CKU_SO && read_only {
        return Err(CKR_SESSION_READ_ONLY_EXISTS);
    }
    check_pin(&expected, pin)?;
    token.login = Some(user);
    Ok(())
}

fn check_pin(expected: &Pin, pin: &[u8]) -> Ck {
    if expected.matches(pin) {
        Ok(())
    } else {
        Err(CKR_PIN_INCORRECT)
    }
}

/// `C_Login`.
pub(crate) unsafe extern "C" fn login_entry(
    h: CK_SESSION_HANDLE,
    user: CK_USER_TYPE,
    p_pin: CK_UTF8CHAR_PTR,
    len: CK_ULONG,
) -> CK_RV {
    run(Function::Login, Some(h), || {
        state::with(|state| {
            state.session(h)?;
            // SAFETY: the caller's PIN (NULL: no protected authentication path).
            let pin = unsafe { pin_argument(p_pin, len) }.map_err(|rv| {
                if rv == CKR_ARGUMENTS_BAD {
                    rv
                } else {
                    CKR_PIN_INCORRECT
                }
            })?;
            login(state, h, user, pin)
        })
    })
}

/// `C_LoginUser` (3.0): as `C_Login`; the token has one user of each type, whatever
/// the name (which must not be empty).
pub(crate) unsafe extern "C" fn login_user(
    h: CK_SESSION_HANDLE,
    user: CK_USER_TYPE,
    p_pin: CK_UTF8CHAR_PTR,
    len: CK_ULONG,
    p_username: CK_UTF8CHAR_PTR,
    username_len: CK_ULONG,
) -> CK_RV {
    run(Function::LoginUser, Some(h), || {
        state::with(|state| {
            state.session(h)?;
            // SAFETY: the caller's user name.
            if unsafe { args::bytes(p_username, username_len) }?.is_empty() {
                return Err(CKR_ARGUMENTS_BAD);
            }
            // SAFETY: the caller's PIN.
            let pin = unsafe { pin_argument(p_pin, len) }.map_err(|rv| {
                if rv == CKR_ARGUMENTS_BAD {
                    rv
                } else {
                    CKR_PIN_INCORRECT
                }
            })?;
            login(state, h, user, pin)
        })
    })
}

/// `C_Logout`: of every session on the token.
pub(crate) unsafe extern "C" fn logout(h: CK_SESSION_HANDLE) -> CK_RV {
    run(Function::Logout, Some(h), || {
        state::with(|state| {
            let slot = state.session(h)?.slot;
            let token = state.token(slot)?;
            if token.login.take().is_none() {
                return Err(CKR_USER_NOT_LOGGED_IN);
            }
            Ok(())
        })
    })
}

/// `C_InitPIN`: the SO sets the user's PIN, in a read-write session.
pub(crate) unsafe extern "C" fn init_pin(
    h: CK_SESSION_HANDLE,
    p_pin: CK_UTF8CHAR_PTR,
    len: CK_ULONG,
) -> CK_RV {
    run(Function::InitPin, Some(h), || {
        state::with(|state| {
            if !state.session(h)?.rw {
                return Err(CKR_SESSION_READ_ONLY);
            }
            if !state.so_logged_in(h)? {
                return Err(CKR_USER_NOT_LOGGED_IN);
            }
            // SAFETY: the caller's PIN.
            let pin = unsafe { pin_argument(p_pin, len) }?;
            let slot = state.session(h)?.slot;
            state.token(slot)?.user_pin = Some(Pin::new(pin));
            Ok(())
        })
    })
}

/// `C_SetPIN`: the SO's PIN if the SO is logged in, else the user's; in a read-write
/// session.
pub(crate) unsafe extern "C" fn set_pin(
    h: CK_SESSION_HANDLE,
    p_old: CK_UTF8CHAR_PTR,
    old_len: CK_ULONG,
    p_new: CK_UTF8CHAR_PTR,
    new_len: CK_ULONG,
) -> CK_RV {
    run(Function::SetPin, Some(h), || {
        state::with(|state| {
            if !state.session(h)?.rw {
                return Err(CKR_SESSION_READ_ONLY);
            }
            let so = state.so_logged_in(h)?;
            // SAFETY: the caller's PINs.
            let old = unsafe { args::bytes(p_old, old_len) }?;
            // SAFETY: as above.
            let new = unsafe { pin_argument(p_new, new_len) }?;
            let slot = state.session(h)?.slot;
            let token = state.token(slot)?;
            let current = if so {
                &mut token.so_pin
            } else {
                &mut token.user_pin
            };
            let expected = current.ok_or(CKR_USER_PIN_NOT_INITIALIZED)?;
            check_pin(&expected, old)?;
            *current = Some(Pin::new(new));
            Ok(())
        })
    })
}
