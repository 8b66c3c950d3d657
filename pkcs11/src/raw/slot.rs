//! Slot and token functions.

use crate::context::Inner;
use crate::error::Result;
use crate::raw::{call, Returned};

/// `C_GetSlotList`: NULL (a count query) when `list` is `None`, else `list` with
/// `*count` set to its length.
pub(crate) fn get_slot_list(
    inner: &Inner,
    token_present: bool,
    list: Option<&mut [ffi::CK_SLOT_ID]>,
    count: &mut ffi::CK_ULONG,
) -> Result<Returned> {
    let present = if token_present {
        ffi::CK_TRUE
    } else {
        ffi::CK_FALSE
    };
    let pointer = super::list_pointer(list, count);
    // SAFETY: `pointer` is NULL or has room for `*count` slot IDs.
    unsafe { call!(inner, C_GetSlotList(present, pointer, count)) }
}

/// `C_GetInfo` into `info`.
pub(crate) fn get_info(inner: &Inner, info: &mut ffi::CK_INFO) -> Result<Returned> {
    // SAFETY: `info` is a writable CK_INFO.
    unsafe { call!(inner, C_GetInfo(info)) }
}

/// `C_GetSlotInfo` into `info`.
pub(crate) fn get_slot_info(
    inner: &Inner,
    slot: ffi::CK_SLOT_ID,
    info: &mut ffi::CK_SLOT_INFO,
) -> Result<Returned> {
    // SAFETY: `info` is a writable CK_SLOT_INFO.
    unsafe { call!(inner, C_GetSlotInfo(slot, info)) }
}

/// `C_GetTokenInfo` into `info`.
pub(crate) fn get_token_info(
    inner: &Inner,
    slot: ffi::CK_SLOT_ID,
    info: &mut ffi::CK_TOKEN_INFO,
) -> Result<Returned> {
    // SAFETY: `info` is a writable CK_TOKEN_INFO.
    unsafe { call!(inner, C_GetTokenInfo(slot, info)) }
}

/// `C_GetMechanismList`: NULL (a count query) when `list` is `None`, else `list` with
/// `*count` set to its length.
pub(crate) fn get_mechanism_list(
    inner: &Inner,
    slot: ffi::CK_SLOT_ID,
    list: Option<&mut [ffi::CK_MECHANISM_TYPE]>,
    count: &mut ffi::CK_ULONG,
) -> Result<Returned> {
    let pointer = super::list_pointer(list, count);
    // SAFETY: `pointer` is NULL or has room for `*count` mechanism types.
    unsafe { call!(inner, C_GetMechanismList(slot, pointer, count)) }
}

/// `C_GetMechanismInfo` for `mechanism` into `info`.
pub(crate) fn get_mechanism_info(
    inner: &Inner,
    slot: ffi::CK_SLOT_ID,
    mechanism: ffi::CK_MECHANISM_TYPE,
    info: &mut ffi::CK_MECHANISM_INFO,
) -> Result<Returned> {
    // SAFETY: `info` is a writable CK_MECHANISM_INFO.
    unsafe { call!(inner, C_GetMechanismInfo(slot, mechanism, info)) }
}

/// `C_InitToken` with the SO PIN `so_pin` (NULL for the protected authentication path
/// when `None`) and the blank-padded `label`.
pub(crate) fn init_token(
    inner: &Inner,
    slot: ffi::CK_SLOT_ID,
    so_pin: Option<&[u8]>,
    label: &[u8; 32],
) -> Result<Returned> {
    let (pin, pin_len) = text_pointer(so_pin);
    let label = label.as_ptr().cast_mut();
    // SAFETY: the PIN is NULL or valid for `pin_len` bytes, the label for the 32 bytes
    // the function reads; the module only reads both.
    unsafe { call!(inner, C_InitToken(slot, pin, pin_len, label)) }
}

/// `C_WaitForSlotEvent`, writing the slot to `slot`.
///
/// With `CKF_DONT_BLOCK` in `flags` it is an ordinary call. Without it the call may
/// block until an event or until `C_Finalize`, so it is admitted without being counted
/// in flight (an explicit finalize must not wait for it: `C_Finalize` wakes it).
pub(crate) fn wait_for_slot_event(
    inner: &Inner,
    flags: ffi::CK_FLAGS,
    slot: &mut ffi::CK_SLOT_ID,
) -> Result<Returned> {
    let reserved = std::ptr::null_mut();
    let function = inner.functions().C_WaitForSlotEvent;
    // SAFETY: `slot` is writable; the reserved argument must be NULL.
    unsafe {
        if flags & ffi::CKF_DONT_BLOCK != 0 {
            call!(inner, C_WaitForSlotEvent(flags, slot, reserved))
        } else {
            super::invoke_waiting(inner, "C_WaitForSlotEvent", function, |f, args| {
                f(args.arg(flags), args.arg(slot), args.arg(reserved))
            })
        }
    }
}

/// The pointer and length for a PIN or other text argument: NULL and 0 for `None`.
///
/// The pointer is `*mut` because the C prototypes lack `const`; modules only read it.
pub(crate) fn text_pointer(text: Option<&[u8]>) -> (*mut ffi::CK_UTF8CHAR, ffi::CK_ULONG) {
    text.map_or((std::ptr::null_mut(), 0), |text| {
        (text.as_ptr().cast_mut(), text.len() as ffi::CK_ULONG)
    })
}
