//! The remaining session and slot functions: closing all of a slot's sessions, the legacy
//! parallel-function status calls, and the 3.2 session validation flags.

use crate::context::Inner;
use crate::error::Result;
use crate::raw::{call, call_3_2, Returned};

/// `C_CloseAllSessions` on `slot`.
pub(crate) fn close_all_sessions(inner: &Inner, slot: ffi::CK_SLOT_ID) -> Result<Returned> {
    // SAFETY: plain values only.
    unsafe { call!(inner, C_CloseAllSessions(slot)) }
}

/// `C_GetFunctionStatus` (legacy: a conforming module answers
/// `CKR_FUNCTION_NOT_PARALLEL`).
pub(crate) fn get_function_status(
    inner: &Inner,
    session: ffi::CK_SESSION_HANDLE,
) -> Result<Returned> {
    // SAFETY: plain values only.
    unsafe { call!(inner, C_GetFunctionStatus(session)) }
}

/// `C_CancelFunction` (legacy: a conforming module answers `CKR_FUNCTION_NOT_PARALLEL`).
pub(crate) fn cancel_function(inner: &Inner, session: ffi::CK_SESSION_HANDLE) -> Result<Returned> {
    // SAFETY: plain values only.
    unsafe { call!(inner, C_CancelFunction(session)) }
}

/// `C_GetSessionValidationFlags` (3.2) of `kind`, written to `flags`.
pub(crate) fn get_session_validation_flags(
    inner: &Inner,
    session: ffi::CK_SESSION_HANDLE,
    kind: ffi::CK_SESSION_VALIDATION_FLAGS_TYPE,
    flags: &mut ffi::CK_FLAGS,
) -> Result<Returned> {
    // SAFETY: `flags` is a writable CK_FLAGS.
    unsafe { call_3_2!(inner, C_GetSessionValidationFlags(session, kind, flags)) }
}
