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
