//! The control functions a test calls (through its own `dlopen` of the same file) to
//! steer this copy of the module and to see what the binding did with it. They are not
//! PKCS #11 functions and are not counted.

use core::ffi::{c_char, c_int, CStr};
use std::sync::Mutex;

use pkcs11_sys::{CKU_SO, CKU_USER, CK_NOTIFICATION, CK_SESSION_HANDLE, CK_SLOT_ID};

use crate::{calls, plan, state};

/// The last error of `fault_plan_set` / `fault_plan_append`.
static LAST_ERROR: Mutex<String> = Mutex::new(String::new());

/// Sets (or, with `append`, extends) the plan from a C string.
///
/// # Safety
/// `text` is NULL or NUL-terminated.
unsafe fn set_plan(text: *const c_char, append: bool) -> c_int {
    let result = if text.is_null() {
        Err("NULL plan".to_owned())
    } else {
        // SAFETY: NUL-terminated (the caller's contract).
        match unsafe { CStr::from_ptr(text) }.to_str() {
            Ok(text) => plan::set(text, append),
            Err(_) => Err("the plan is not UTF-8".to_owned()),
        }
    };
    match result {
        Ok(()) => 0,
        Err(error) => {
            *LAST_ERROR.lock().unwrap_or_else(|e| e.into_inner()) = error;
            -1
        }
    }
}

/// Replaces the plan with `plan` (the grammar of the crate documentation). Returns 0,
/// or -1 if `plan` does not parse (the plan is then unchanged; see
/// [`fault_plan_error`]). Tables already handed out keep their NULL slots.
///
/// # Safety
/// `plan` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fault_plan_set(plan: *const c_char) -> c_int {
    // SAFETY: forwarded.
    unsafe { set_plan(plan, false) }
}

/// Adds the items of `plan` to the current plan (whose rules keep their call counts).
/// Returns 0, or -1 as [`fault_plan_set`].
///
/// # Safety
/// `plan` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fault_plan_append(plan: *const c_char) -> c_int {
    // SAFETY: forwarded.
    unsafe { set_plan(plan, true) }
}

/// Goes back to the empty plan (negotiation `normal`, no rules).
#[no_mangle]
pub extern "C" fn fault_plan_clear() {
    let _ = plan::set("", false);
}

/// Copies the message of the last plan error, NUL-terminated and cut to `len` bytes,
/// into `buffer`; returns the message's full length.
///
/// # Safety
/// `buffer` is NULL or valid for writing `len` bytes.
#[no_mangle]
pub unsafe extern "C" fn fault_plan_error(buffer: *mut c_char, len: usize) -> usize {
    let error = LAST_ERROR.lock().unwrap_or_else(|e| e.into_inner());
    if !buffer.is_null() && len > 0 {
        let n = error.len().min(len - 1);
        // SAFETY: `buffer` holds `len > n` bytes (the caller's contract).
        unsafe {
            core::ptr::copy_nonoverlapping(error.as_ptr().cast::<c_char>(), buffer, n);
            buffer.add(n).write(0);
        }
    }
    error.len()
}

/// How many times the function `name` (`"C_GetFunctionList"`, `"C_Sign"`, ...) of this
/// copy of the module has been called, whichever table or export it was called through.
///
/// Returns `u64::MAX` for a NULL or unknown name, so a misspelt name never reads as "not
/// called".
///
/// # Safety
/// `name` is NULL or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn fault_calls(name: *const c_char) -> u64 {
    if name.is_null() {
        return u64::MAX;
    }
    // SAFETY: the caller passes a NUL-terminated string.
    let name = unsafe { CStr::from_ptr(name) };
    calls::count(name).unwrap_or(u64::MAX)
}

/// The calls of all PKCS #11 functions of this copy.
#[no_mangle]
pub extern "C" fn fault_calls_total() -> u64 {
    calls::total()
}

/// Sets every call counter back to zero.
#[no_mangle]
pub extern "C" fn fault_calls_reset() {
    calls::reset();
}

/// Raises a slot event for `slot` (wakes `C_WaitForSlotEvent`). Returns 0, or -1 if
/// the module is not initialized or has no such slot.
#[no_mangle]
pub extern "C" fn fault_raise_slot_event(slot: CK_SLOT_ID) -> c_int {
    if state::raise_slot_event(slot) {
        0
    } else {
        -1
    }
}

/// Calls the `CK_NOTIFY` that was given to `C_OpenSession` for `session` — also after
/// the session was closed (until `C_Finalize`) — with `event` (`CKN_SURRENDER` is 0):
/// on the calling thread (`mode` 0), on a new thread of the module, waited for (1), or
/// on a new thread not waited for (2: returns `CKR_OK` at once). Returns the callback's
/// `CK_RV`, or -1 if the session had no callback.
#[no_mangle]
pub extern "C" fn fault_notify(
    session: CK_SESSION_HANDLE,
    event: CK_NOTIFICATION,
    mode: c_int,
) -> i64 {
    match state::notify_now(session, event, mode) {
        #[allow(clippy::unnecessary_fallible_conversions)] // CK_RV is 32 bits on some targets
        Some(rv) => i64::try_from(rv).unwrap_or(i64::MAX),
        None => -1,
    }
}

/// Whether the module is initialized (1) or not (0).
#[no_mangle]
pub extern "C" fn fault_initialized() -> c_int {
    c_int::from(state::lock().initialized)
}

/// The number of open sessions (all slots).
#[no_mangle]
pub extern "C" fn fault_open_sessions() -> u64 {
    state::lock().sessions.len() as u64
}

/// The number of objects (token and session objects, all slots).
#[no_mangle]
pub extern "C" fn fault_objects() -> u64 {
    state::lock().objects.len() as u64
}

/// Who is logged in on the token in `slot`: -1 nobody (or no such slot), else the
/// `CKU_*` value.
#[no_mangle]
pub extern "C" fn fault_login_state(slot: CK_SLOT_ID) -> i64 {
    let mut state = state::lock();
    match state.token(slot).ok().and_then(|token| token.login) {
        #[allow(clippy::unnecessary_fallible_conversions)] // CK_ULONG is 32 bits on some targets
        Some(user @ (CKU_SO | CKU_USER)) => i64::try_from(user).unwrap_or(-1),
        _ => -1,
    }
}
