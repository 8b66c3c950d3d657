//! A PKCS #11 module written on `pkcs11-sys` that misbehaves on command.
//!
//! The test suites load copies of this shared library with `pkcs11_sys::Module::load` (and,
//! later, the safe crate) to check that every lie a module can tell is survived. It is also
//! the proof that a vendor can implement a module on the sys crate's types alone: the
//! entry points below have exactly the standard's signatures (checked at compile time
//! against `CK_C_GetFunctionList`, `CK_C_GetInterfaceList` and `CK_C_GetInterface`) and
//! hand out pointers to `static` function tables of `pkcs11-sys` types.
//!
//! # Choosing the misbehaviour: the plan
//!
//! A plan says how the entry points misbehave (the table below). It is read once, on
//! first use:
//!
//! 1. from the module's own file name, `fault-<plan>.so` (`.dylib`, `.dll` elsewhere), so
//!    that parallel tests load independent copies of the library, each with its own plan
//!    and its own counters;
//! 2. otherwise from the environment variable `PKCS11_FAULT_PLAN`;
//! 3. otherwise the plan is `normal`.
//!
//! An unknown plan name makes all three entry points answer `CKR_FUNCTION_FAILED`, so a
//! misspelt plan never passes for a working one.
//!
//! The plans, each a test scenario:
//!
//! | plan | `C_GetInterfaceList` | `C_GetInterface` | `C_GetFunctionList` |
//! |------|----------------------|------------------|---------------------|
//! | `normal` | "PKCS 11" 3.0, 3.2, 2.40 (in that order) and "Vendor fault" 3.3 | default 3.2 | the 2.40 table |
//! | `list-only-3-0` | "PKCS 11" 2.40 and 3.0 | default 3.0 | the 2.40 table |
//! | `list-not-supported` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_FUNCTION_NOT_SUPPORTED` | the 2.40 table |
//! | `list-null-tables` | three "PKCS 11" entries with NULL tables | `CKR_OK`, NULL interface | the 2.40 table |
//! | `interface-ok-null` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_OK`, out-pointer not written | the 2.40 table |
//! | `list-count-lies` | count 3, then 3 entries reported as 2^40 | default 3.2 | the 2.40 table |
//! | `list-count-grows` | one more interface on every call (`CKR_BUFFER_TOO_SMALL` forever) | `CKR_FUNCTION_NOT_SUPPORTED` | the 2.40 table |
//! | `function-list-fails` | `CKR_GENERAL_ERROR` | `CKR_GENERAL_ERROR` | `CKR_GENERAL_ERROR` |
//! | `function-list-null` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_OK`, NULL table |
//! | `function-list-claims-3` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_FUNCTION_NOT_SUPPORTED` | a 2.x table whose version says 3.2 |
//! | `null-slots` | as `normal`, but the 3.2 table's `C_GetInfo` is NULL | default 3.2 (that table) | the 2.40 table |
//!
//! # What the module implements
//!
//! Three tables — 2.40 ([`CK_FUNCTION_LIST`]), 3.0 ([`CK_FUNCTION_LIST_3_0`]) and 3.2
//! ([`CK_FUNCTION_LIST_3_2`]) — share minimal implementations of `C_Initialize`,
//! `C_Finalize`, `C_GetInfo` (whose `cryptokiVersion` is the version of the table it was
//! called through), `C_GetSlotList` (one slot, ID 1, with a token), `C_GetTokenInfo`
//! (label `fault-token`) and `C_GetFunctionList`; the 3.x tables also hold
//! `C_GetInterfaceList` and `C_GetInterface`. Every other slot is NULL: not supported.
//!
//! # Counters
//!
//! [`fault_calls`] tells how often each function of this copy of the module was called,
//! so a test can check, for example, that `C_GetFunctionList` was never needed.

mod calls;
mod negotiation;
mod plan;
mod tables;
mod token;

use core::ffi::c_char;

use pkcs11_sys::{
    CK_C_GetFunctionList, CK_C_GetInterface, CK_C_GetInterfaceList, CK_FLAGS,
    CK_FUNCTION_LIST_PTR_PTR, CK_INTERFACE_PTR, CK_INTERFACE_PTR_PTR, CK_RV, CK_ULONG_PTR,
    CK_UTF8CHAR_PTR, CK_VERSION_PTR,
};
#[cfg(doc)]
use pkcs11_sys::{CK_FUNCTION_LIST, CK_FUNCTION_LIST_3_0, CK_FUNCTION_LIST_3_2};

// The exported entry points have exactly the standard's signatures.
const _: CK_C_GetFunctionList = Some(C_GetFunctionList);
const _: CK_C_GetInterfaceList = Some(C_GetInterfaceList);
const _: CK_C_GetInterface = Some(C_GetInterface);

/// `C_GetFunctionList`: the 2.x function table (or the plan's misbehaviour).
///
/// # Safety
/// `pp_function_list` is NULL or points to a writable `CK_FUNCTION_LIST_PTR`.
#[no_mangle]
#[allow(non_snake_case)]
pub unsafe extern "C" fn C_GetFunctionList(pp_function_list: CK_FUNCTION_LIST_PTR_PTR) -> CK_RV {
    // SAFETY: forwarded from the caller.
    unsafe { negotiation::get_function_list(pp_function_list) }
}

/// `C_GetInterfaceList`: the interfaces this plan offers (or the plan's misbehaviour).
///
/// # Safety
/// `p_count` is NULL or points to a writable `CK_ULONG`; `p_interfaces_list` is NULL or
/// points to `*p_count` writable `CK_INTERFACE`s.
#[no_mangle]
#[allow(non_snake_case)]
pub unsafe extern "C" fn C_GetInterfaceList(
    p_interfaces_list: CK_INTERFACE_PTR,
    p_count: CK_ULONG_PTR,
) -> CK_RV {
    // SAFETY: forwarded from the caller.
    unsafe { negotiation::get_interface_list(p_interfaces_list, p_count) }
}

/// `C_GetInterface`: one interface by name, version and flags; the default one for a NULL
/// name (or the plan's misbehaviour).
///
/// # Safety
/// `p_interface_name` is NULL or a NUL-terminated string; `p_version` is NULL or points to
/// a `CK_VERSION`; `pp_interface` is NULL or points to a writable `CK_INTERFACE_PTR`.
#[no_mangle]
#[allow(non_snake_case)]
pub unsafe extern "C" fn C_GetInterface(
    p_interface_name: CK_UTF8CHAR_PTR,
    p_version: CK_VERSION_PTR,
    pp_interface: CK_INTERFACE_PTR_PTR,
    flags: CK_FLAGS,
) -> CK_RV {
    // SAFETY: forwarded from the caller.
    unsafe { negotiation::get_interface(p_interface_name, p_version, pp_interface, flags) }
}

/// How many times the function `name` (`"C_GetFunctionList"`, `"C_GetInfo"`, ...) of this
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
    let name = unsafe { core::ffi::CStr::from_ptr(name) };
    calls::count(name).unwrap_or(u64::MAX)
}
