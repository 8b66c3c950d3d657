//! The library, its slots and their tokens: information, mechanisms, token
//! initialization, slot events.
//!
//! Slot 1 holds the token `fault-token` (initialized; SO PIN `so-pin-1234`, user PIN
//! `user-pin-1234`); slot 2 holds a token that is not initialized yet (for
//! `C_InitToken`).

use std::sync::atomic::{AtomicU16, Ordering};

use pkcs11_sys::{
    CKF_DONT_BLOCK, CKF_LOGIN_REQUIRED, CKF_REMOVABLE_DEVICE, CKF_RNG, CKF_TOKEN_INITIALIZED,
    CKF_TOKEN_PRESENT, CKF_USER_PIN_INITIALIZED, CKR_ARGUMENTS_BAD, CKR_CRYPTOKI_NOT_INITIALIZED,
    CKR_MECHANISM_INVALID, CKR_NO_EVENT, CKR_PIN_INCORRECT, CKR_PIN_LEN_RANGE, CKR_SESSION_EXISTS,
    CK_BBOOL, CK_EFFECTIVELY_INFINITE, CK_FLAGS, CK_INFO, CK_INFO_PTR, CK_MECHANISM_INFO_PTR,
    CK_MECHANISM_TYPE, CK_MECHANISM_TYPE_PTR, CK_RV, CK_SLOT_ID, CK_SLOT_ID_PTR, CK_SLOT_INFO,
    CK_SLOT_INFO_PTR, CK_TOKEN_INFO, CK_TOKEN_INFO_PTR, CK_ULONG, CK_ULONG_PTR,
    CK_UNAVAILABLE_INFORMATION, CK_UTF8CHAR_PTR, CK_VERSION, CK_VOID_PTR,
};

use crate::args;
use crate::calls::Function;
use crate::crypto::MECHANISMS;
use crate::entry::{run, Ck};
use crate::out;
use crate::state::{self, Pin, MAX_PIN, MIN_PIN, SLOTS};
use crate::tables::{VERSION_2_40, VERSION_3_0, VERSION_3_2};

/// `CK_INFO.libraryDescription`.
pub(crate) const LIBRARY_DESCRIPTION: &str = "pkcs11 fault module";
/// `CK_INFO.manufacturerID` and `CK_TOKEN_INFO.manufacturerID`.
pub(crate) const MANUFACTURER: &str = "pkcs11-rs tests";
/// The library's own version (`CK_INFO.libraryVersion`), also the slots' and tokens'
/// hardware and firmware versions.
const LIBRARY_VERSION: CK_VERSION = CK_VERSION { major: 0, minor: 2 };

/// The version the table handed out by `C_GetFunctionList` claims (its `C_GetInfo`
/// keeps up the claim).
static CLAIMED: AtomicU16 = AtomicU16::new(2 << 8 | 40);

/// Records the version the `C_GetFunctionList` table claims.
pub(crate) fn set_claimed(version: CK_VERSION) {
    CLAIMED.store(
        u16::from(version.major) << 8 | u16::from(version.minor),
        Ordering::Relaxed,
    );
}

/// `C_GetInfo` reporting `version` as the Cryptoki version.
///
/// # Safety
/// `p_info` is NULL or points to a writable `CK_INFO`.
unsafe fn get_info(p_info: CK_INFO_PTR, version: CK_VERSION) -> CK_RV {
    run(Function::GetInfo, None, || {
        state::with(|_| {
            let info = CK_INFO {
                cryptokiVersion: out::version(version),
                manufacturerID: out::text(MANUFACTURER),
                flags: 0,
                libraryDescription: out::text(LIBRARY_DESCRIPTION),
                libraryVersion: LIBRARY_VERSION,
            };
            // SAFETY: NULL or writable (the caller's contract).
            unsafe { out::value(info, p_info) }
        })
    })
}

/// `C_GetInfo` of the 2.40 table.
pub(crate) unsafe extern "C" fn get_info_2_40(p_info: CK_INFO_PTR) -> CK_RV {
    // SAFETY: forwarded from the caller.
    unsafe { get_info(p_info, VERSION_2_40) }
}

/// `C_GetInfo` of the 3.0 table.
pub(crate) unsafe extern "C" fn get_info_3_0(p_info: CK_INFO_PTR) -> CK_RV {
    // SAFETY: forwarded from the caller.
    unsafe { get_info(p_info, VERSION_3_0) }
}

/// `C_GetInfo` of the 3.2 table.
pub(crate) unsafe extern "C" fn get_info_3_2(p_info: CK_INFO_PTR) -> CK_RV {
    // SAFETY: forwarded from the caller.
    unsafe { get_info(p_info, VERSION_3_2) }
}

/// `C_GetInfo` of the table handed out by `C_GetFunctionList`: the version it claims.
pub(crate) unsafe extern "C" fn get_info_claimed(p_info: CK_INFO_PTR) -> CK_RV {
    let claimed = CLAIMED.load(Ordering::Relaxed);
    let version = CK_VERSION {
        major: (claimed >> 8) as u8,
        minor: claimed as u8,
    };
    // SAFETY: forwarded from the caller.
    unsafe { get_info(p_info, version) }
}

/// `C_GetSlotList`: both slots (each holds a token).
pub(crate) unsafe extern "C" fn get_slot_list(
    _token_present: CK_BBOOL,
    p_slot_list: CK_SLOT_ID_PTR,
    pul_count: CK_ULONG_PTR,
) -> CK_RV {
    run(Function::GetSlotList, None, || {
        // SAFETY: the caller's buffers.
        state::with(|_| unsafe { out::list(&SLOTS, p_slot_list, pul_count) }.map(drop))
    })
}

/// `C_GetSlotInfo`.
pub(crate) unsafe extern "C" fn get_slot_info(slot: CK_SLOT_ID, p_info: CK_SLOT_INFO_PTR) -> CK_RV {
    run(Function::GetSlotInfo, None, || {
        state::with(|state| {
            state.token(slot)?;
            let removable = if slot == SLOTS[1] {
                CKF_REMOVABLE_DEVICE
            } else {
                0
            };
            let info = CK_SLOT_INFO {
                slotDescription: out::text(&format!("fault slot {slot}")),
                manufacturerID: out::text(MANUFACTURER),
                flags: CKF_TOKEN_PRESENT | removable,
                hardwareVersion: out::version(LIBRARY_VERSION),
                firmwareVersion: out::version(LIBRARY_VERSION),
            };
            // SAFETY: NULL or writable (the caller's contract).
            unsafe { out::value(info, p_info) }
        })
    })
}

/// `C_GetTokenInfo`: label, serial, flags and the live session counts.
pub(crate) unsafe extern "C" fn get_token_info(
    slot: CK_SLOT_ID,
    p_info: CK_TOKEN_INFO_PTR,
) -> CK_RV {
    run(Function::GetTokenInfo, None, || {
        state::with(|state| {
            let sessions = state.sessions.values().filter(|s| s.slot == slot);
            let (all, rw) =
                sessions.fold((0, 0), |(all, rw), s| (all + 1, rw + CK_ULONG::from(s.rw)));
            let token = state.token(slot)?;
            let mut flags: CK_FLAGS = CKF_RNG | CKF_LOGIN_REQUIRED;
            if token.so_pin.is_some() {
                flags |= CKF_TOKEN_INITIALIZED;
            }
            if token.user_pin.is_some() {
                flags |= CKF_USER_PIN_INITIALIZED;
            }
            let mut label = token.label;
            if out::garbage_wanted() {
                label = out::text("");
            }
            let info = CK_TOKEN_INFO {
                label,
                manufacturerID: out::text(MANUFACTURER),
                model: out::text("fault-module"),
                serialNumber: out::text(token.serial),
                flags,
                ulMaxSessionCount: CK_EFFECTIVELY_INFINITE,
                ulSessionCount: out::reported(all),
                ulMaxRwSessionCount: CK_EFFECTIVELY_INFINITE,
                ulRwSessionCount: out::reported(rw),
                ulMaxPinLen: MAX_PIN as CK_ULONG,
                ulMinPinLen: MIN_PIN as CK_ULONG,
                ulTotalPublicMemory: CK_UNAVAILABLE_INFORMATION,
                ulFreePublicMemory: CK_UNAVAILABLE_INFORMATION,
                ulTotalPrivateMemory: CK_UNAVAILABLE_INFORMATION,
                ulFreePrivateMemory: CK_UNAVAILABLE_INFORMATION,
                hardwareVersion: out::version(LIBRARY_VERSION),
                firmwareVersion: out::version(LIBRARY_VERSION),
                utcTime: out::text(""),
            };
            // SAFETY: NULL or writable (the caller's contract).
            unsafe { out::value(info, p_info) }
        })
    })
}

/// `C_GetMechanismList`.
pub(crate) unsafe extern "C" fn get_mechanism_list(
    slot: CK_SLOT_ID,
    p_list: CK_MECHANISM_TYPE_PTR,
    pul_count: CK_ULONG_PTR,
) -> CK_RV {
    run(Function::GetMechanismList, None, || {
        state::with(|state| {
            state.token(slot)?;
            let types = MECHANISMS.map(|(mechanism, _)| mechanism);
            // SAFETY: the caller's buffers.
            unsafe { out::list(&types, p_list, pul_count) }.map(drop)
        })
    })
}

/// `C_GetMechanismInfo`.
pub(crate) unsafe extern "C" fn get_mechanism_info(
    slot: CK_SLOT_ID,
    mechanism: CK_MECHANISM_TYPE,
    p_info: CK_MECHANISM_INFO_PTR,
) -> CK_RV {
    run(Function::GetMechanismInfo, None, || {
        state::with(|state| {
            state.token(slot)?;
            let (_, info) = MECHANISMS
                .iter()
                .find(|(known, _)| *known == mechanism)
                .ok_or(CKR_MECHANISM_INVALID)?;
            // SAFETY: NULL or writable (the caller's contract).
            unsafe { out::value(*info, p_info) }
        })
    })
}

/// A PIN argument within the token's length limits.
///
/// # Safety
/// `p` is NULL or valid for reading `len` bytes.
pub(crate) unsafe fn pin_argument<'a>(p: CK_UTF8CHAR_PTR, len: CK_ULONG) -> Ck<&'a [u8]> {
    if p.is_null() {
        // No protected authentication path.
        return Err(CKR_ARGUMENTS_BAD);
    }
    // SAFETY: the caller's contract.
    let pin = unsafe { args::bytes(p, len) }?;
    if !(MIN_PIN..=MAX_PIN).contains(&pin.len()) {
        return Err(CKR_PIN_LEN_RANGE);
    }
    Ok(pin)
}

/// `C_InitToken`: (re)initializes the token: new label and SO PIN, no user PIN, no
/// objects. An initialized token wants its current SO PIN.
pub(crate) unsafe extern "C" fn init_token(
    slot: CK_SLOT_ID,
    p_pin: CK_UTF8CHAR_PTR,
    len: CK_ULONG,
    p_label: CK_UTF8CHAR_PTR,
) -> CK_RV {
    run(Function::InitToken, None, || {
        state::with(|state| {
            state.token(slot)?;
            // SAFETY: the caller's PIN.
            let pin = unsafe { pin_argument(p_pin, len) }.map_err(|rv| {
                if rv == CKR_PIN_LEN_RANGE {
                    CKR_PIN_INCORRECT
                } else {
                    rv
                }
            })?;
            // SAFETY: the label is 32 bytes (the standard's contract).
            let label = unsafe { args::bytes(p_label, 32) }?;
            if state.sessions.values().any(|s| s.slot == slot) {
                return Err(CKR_SESSION_EXISTS);
            }
            let token = state.token(slot)?;
            if token.so_pin.is_some_and(|so| !so.matches(pin)) {
                return Err(CKR_PIN_INCORRECT);
            }
            token.label.copy_from_slice(label);
            token.so_pin = Some(Pin::new(pin));
            token.user_pin = None;
            state.objects.retain(|_, object| object.slot != slot);
            Ok(())
        })
    })
}

/// `C_WaitForSlotEvent`: the oldest event raised by `fault_raise_slot_event`; blocks
/// until there is one (`CKF_DONT_BLOCK`: `CKR_NO_EVENT`) or until `C_Finalize`
/// (`CKR_CRYPTOKI_NOT_INITIALIZED`).
pub(crate) unsafe extern "C" fn wait_for_slot_event(
    flags: CK_FLAGS,
    p_slot: CK_SLOT_ID_PTR,
    p_reserved: CK_VOID_PTR,
) -> CK_RV {
    run(Function::WaitForSlotEvent, None, || {
        if p_slot.is_null() || !p_reserved.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        let mut state = state::lock();
        if !state.initialized {
            return Err(CKR_CRYPTOKI_NOT_INITIALIZED);
        }
        let generation = state.generation;
        loop {
            if let Some(slot) = state.events.pop_front() {
                // SAFETY: non-NULL (checked), writable (the caller's contract).
                return unsafe { out::value(slot, p_slot) };
            }
            if flags & CKF_DONT_BLOCK != 0 {
                return Err(CKR_NO_EVENT);
            }
            state = state::EVENT.wait(state).unwrap_or_else(|e| e.into_inner());
            if state.generation != generation {
                return Err(CKR_CRYPTOKI_NOT_INITIALIZED);
            }
        }
    })
}
