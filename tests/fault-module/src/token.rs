//! The module's library, slot and token: for now one slot (ID 1) holding one token.
//!
//! Every function checks its arguments the way the standard says and never writes through
//! a NULL pointer; none of them panics.

use core::ptr;
use core::sync::atomic::{AtomicBool, Ordering};

use pkcs11_sys::{
    CKF_TOKEN_INITIALIZED, CKR_ARGUMENTS_BAD, CKR_BUFFER_TOO_SMALL,
    CKR_CRYPTOKI_ALREADY_INITIALIZED, CKR_CRYPTOKI_NOT_INITIALIZED, CKR_OK, CKR_SLOT_ID_INVALID,
    CK_BBOOL, CK_C_INITIALIZE_ARGS, CK_EFFECTIVELY_INFINITE, CK_INFO, CK_INFO_PTR, CK_RV,
    CK_SLOT_ID, CK_SLOT_ID_PTR, CK_TOKEN_INFO, CK_TOKEN_INFO_PTR, CK_ULONG, CK_ULONG_PTR,
    CK_UNAVAILABLE_INFORMATION, CK_VERSION, CK_VOID_PTR,
};

use crate::calls::{record, Function};

/// `CK_INFO.libraryDescription`.
pub(crate) const LIBRARY_DESCRIPTION: &str = "pkcs11 fault module";
/// `CK_INFO.manufacturerID` and `CK_TOKEN_INFO.manufacturerID`.
pub(crate) const MANUFACTURER: &str = "pkcs11-rs tests";
/// `CK_TOKEN_INFO.label`.
pub(crate) const TOKEN_LABEL: &str = "fault-token";
/// The only slot.
pub(crate) const SLOT_ID: CK_SLOT_ID = 1;
/// The library's own version (`CK_INFO.libraryVersion`).
const LIBRARY_VERSION: CK_VERSION = CK_VERSION { major: 0, minor: 1 };

/// Whether `C_Initialize` has been called without a matching `C_Finalize`.
static INITIALIZED: AtomicBool = AtomicBool::new(false);

/// A blank-padded fixed-size text field, as `CK_INFO` and `CK_TOKEN_INFO` use.
fn padded<const N: usize>(text: &str) -> [u8; N] {
    let mut field = [b' '; N];
    let bytes = text.as_bytes();
    let length = bytes.len().min(N);
    field[..length].copy_from_slice(&bytes[..length]);
    field
}

fn initialized() -> bool {
    INITIALIZED.load(Ordering::Acquire)
}

/// `C_Initialize`: NULL arguments, or arguments with all or none of the mutex callbacks
/// and a NULL `pReserved`.
pub(crate) unsafe extern "C" fn initialize(p_init_args: CK_VOID_PTR) -> CK_RV {
    record(Function::Initialize);
    if !p_init_args.is_null() {
        // SAFETY: a non-NULL argument points to a CK_C_INITIALIZE_ARGS (the caller's
        // contract); read unaligned so a misaligned one is no UB here.
        let args = unsafe { ptr::read_unaligned(p_init_args.cast::<CK_C_INITIALIZE_ARGS>()) };
        // Fields are copied out (`{ ... }`): the struct is packed on Windows.
        let callbacks = [
            { args.CreateMutex }.is_some(),
            { args.DestroyMutex }.is_some(),
            { args.LockMutex }.is_some(),
            { args.UnlockMutex }.is_some(),
        ];
        let all_or_none = callbacks.iter().all(|&set| set) || callbacks.iter().all(|&set| !set);
        if !all_or_none || !{ args.pReserved }.is_null() {
            return CKR_ARGUMENTS_BAD;
        }
    }
    if INITIALIZED.swap(true, Ordering::AcqRel) {
        return CKR_CRYPTOKI_ALREADY_INITIALIZED;
    }
    CKR_OK
}

/// `C_Finalize`.
pub(crate) unsafe extern "C" fn finalize(p_reserved: CK_VOID_PTR) -> CK_RV {
    record(Function::Finalize);
    if !p_reserved.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    if !INITIALIZED.swap(false, Ordering::AcqRel) {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    CKR_OK
}

/// `C_GetInfo` reporting `version` as the Cryptoki version.
///
/// # Safety
/// `p_info` is NULL or points to a writable `CK_INFO`.
unsafe fn get_info(p_info: CK_INFO_PTR, version: CK_VERSION) -> CK_RV {
    record(Function::GetInfo);
    if !initialized() {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if p_info.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    let info = CK_INFO {
        cryptokiVersion: version,
        manufacturerID: padded(MANUFACTURER),
        flags: 0,
        libraryDescription: padded(LIBRARY_DESCRIPTION),
        libraryVersion: LIBRARY_VERSION,
    };
    // SAFETY: `p_info` is non-NULL and writable (the caller's contract).
    unsafe { ptr::write_unaligned(p_info, info) };
    CKR_OK
}

/// `C_GetInfo` of the 2.40 table.
pub(crate) unsafe extern "C" fn get_info_2_40(p_info: CK_INFO_PTR) -> CK_RV {
    // SAFETY: forwarded from the caller.
    unsafe { get_info(p_info, crate::tables::VERSION_2_40) }
}

/// `C_GetInfo` of the 3.0 table.
pub(crate) unsafe extern "C" fn get_info_3_0(p_info: CK_INFO_PTR) -> CK_RV {
    // SAFETY: forwarded from the caller.
    unsafe { get_info(p_info, crate::tables::VERSION_3_0) }
}

/// `C_GetInfo` of the 3.2 table.
pub(crate) unsafe extern "C" fn get_info_3_2(p_info: CK_INFO_PTR) -> CK_RV {
    // SAFETY: forwarded from the caller.
    unsafe { get_info(p_info, crate::tables::VERSION_3_2) }
}

/// `C_GetSlotList`: slot 1, which always holds a token.
pub(crate) unsafe extern "C" fn get_slot_list(
    _token_present: CK_BBOOL,
    p_slot_list: CK_SLOT_ID_PTR,
    pul_count: CK_ULONG_PTR,
) -> CK_RV {
    record(Function::GetSlotList);
    if !initialized() {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if pul_count.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    let slots = [SLOT_ID];
    let count = slots.len() as CK_ULONG;
    if p_slot_list.is_null() {
        // SAFETY: `pul_count` is non-NULL and writable (the caller's contract).
        unsafe { pul_count.write_unaligned(count) };
        return CKR_OK;
    }
    // SAFETY: as above, readable too.
    let room = unsafe { pul_count.read_unaligned() };
    // SAFETY: as above.
    unsafe { pul_count.write_unaligned(count) };
    if room < count {
        return CKR_BUFFER_TOO_SMALL;
    }
    for (index, slot) in slots.into_iter().enumerate() {
        // SAFETY: `p_slot_list` has room for `room >= count` slot IDs.
        unsafe { p_slot_list.add(index).write_unaligned(slot) };
    }
    CKR_OK
}

/// `C_GetTokenInfo` for slot 1.
pub(crate) unsafe extern "C" fn get_token_info(
    slot_id: CK_SLOT_ID,
    p_info: CK_TOKEN_INFO_PTR,
) -> CK_RV {
    record(Function::GetTokenInfo);
    if !initialized() {
        return CKR_CRYPTOKI_NOT_INITIALIZED;
    }
    if slot_id != SLOT_ID {
        return CKR_SLOT_ID_INVALID;
    }
    if p_info.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    let info = CK_TOKEN_INFO {
        label: padded(TOKEN_LABEL),
        manufacturerID: padded(MANUFACTURER),
        model: padded("fault-module"),
        serialNumber: padded("1"),
        flags: CKF_TOKEN_INITIALIZED,
        ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
        ulSessionCount: 0,
        ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
        ulRwSessionCount: 0,
        ulMaxPinLen: 64,
        ulMinPinLen: 4,
        ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
        ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
        ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
        ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
        hardwareVersion: LIBRARY_VERSION,
        firmwareVersion: LIBRARY_VERSION,
        utcTime: [b' '; 16],
    };
    // SAFETY: `p_info` is non-NULL and writable (the caller's contract).
    unsafe { ptr::write_unaligned(p_info, info) };
    CKR_OK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_truncates() {
        assert_eq!(&padded::<4>("ab"), b"ab  ");
        assert_eq!(&padded::<2>("abc"), b"ab");
    }
}
