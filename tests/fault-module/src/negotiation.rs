//! The three negotiation entry points, as each [plan] has them behave.

use core::ffi::CStr;
use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};

use pkcs11_sys::{
    CKR_ARGUMENTS_BAD, CKR_BUFFER_TOO_SMALL, CKR_FUNCTION_FAILED, CKR_FUNCTION_NOT_SUPPORTED,
    CKR_GENERAL_ERROR, CKR_OK, CK_FLAGS, CK_FUNCTION_LIST, CK_FUNCTION_LIST_PTR_PTR, CK_INTERFACE,
    CK_INTERFACE_PTR, CK_INTERFACE_PTR_PTR, CK_RV, CK_ULONG, CK_ULONG_PTR, CK_UTF8CHAR_PTR,
    CK_VERSION, CK_VERSION_PTR,
};

use crate::calls::{record, Function};
use crate::plan::{self, Plan};
use crate::tables;

/// What plan `list-count-lies` answers to a NULL-list query.
const LYING_COUNT: CK_ULONG = 3;
/// What plan `list-count-grows` answers first; every call adds one.
static GROWING_COUNT: AtomicU64 = AtomicU64::new(3);

/// `C_GetFunctionList`.
///
/// # Safety
/// `pp_function_list` is NULL or points to a writable `CK_FUNCTION_LIST_PTR`.
pub(crate) unsafe fn get_function_list(pp_function_list: CK_FUNCTION_LIST_PTR_PTR) -> CK_RV {
    record(Function::GetFunctionList);
    let table: *const CK_FUNCTION_LIST = match plan::current() {
        None => return CKR_FUNCTION_FAILED,
        Some(Plan::FunctionListFails) => return CKR_GENERAL_ERROR,
        Some(Plan::FunctionListNull) => ptr::null(),
        Some(Plan::FunctionListClaims3) => &raw const tables::FUNCTIONS_2_CLAIMING_3_2,
        Some(_) => &raw const tables::FUNCTIONS_2_40,
    };
    if pp_function_list.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    // SAFETY: non-NULL and writable (the caller's contract). The table is never written
    // through the `*mut` the standard's type requires.
    unsafe { pp_function_list.write_unaligned(table.cast_mut()) };
    CKR_OK
}

/// `C_GetInterfaceList`.
///
/// # Safety
/// `p_count` is NULL or points to a writable `CK_ULONG`; `p_list` is NULL or points to
/// `*p_count` writable `CK_INTERFACE`s.
pub(crate) unsafe fn get_interface_list(p_list: CK_INTERFACE_PTR, p_count: CK_ULONG_PTR) -> CK_RV {
    record(Function::GetInterfaceList);
    let list = match plan::current() {
        None => return CKR_FUNCTION_FAILED,
        Some(Plan::FunctionListFails) => return CKR_GENERAL_ERROR,
        Some(
            Plan::ListNotSupported
            | Plan::InterfaceOkNull
            | Plan::FunctionListNull
            | Plan::FunctionListClaims3,
        ) => return CKR_FUNCTION_NOT_SUPPORTED,
        Some(Plan::ListCountGrows) => {
            if p_count.is_null() {
                return CKR_ARGUMENTS_BAD;
            }
            let grown = GROWING_COUNT.fetch_add(1, Ordering::Relaxed);
            let grown = CK_ULONG::try_from(grown).unwrap_or(CK_ULONG::MAX);
            // SAFETY: non-NULL and writable (the caller's contract).
            unsafe { p_count.write_unaligned(grown) };
            // Never enough room: the count has grown since the caller asked.
            return if p_list.is_null() {
                CKR_OK
            } else {
                CKR_BUFFER_TOO_SMALL
            };
        }
        Some(Plan::ListCountLies) => {
            if p_count.is_null() {
                return CKR_ARGUMENTS_BAD;
            }
            let entries = &tables::NORMAL.entries()[..LYING_COUNT as usize];
            // SAFETY: forwarded from the caller.
            let rv = unsafe { copy_interfaces(entries, p_list, p_count) };
            if rv == CKR_OK && !p_list.is_null() {
                let absurd = CK_ULONG::try_from(1_u64 << 40).unwrap_or(CK_ULONG::MAX);
                // SAFETY: non-NULL and writable (the caller's contract).
                unsafe { p_count.write_unaligned(absurd) };
            }
            return rv;
        }
        Some(Plan::ListOnly3_0) => tables::ONLY_3_0.entries(),
        Some(Plan::ListNullTables) => tables::NULL_TABLES.entries(),
        Some(Plan::NullSlots) => tables::NULL_SLOTS.entries(),
        Some(Plan::Normal) => tables::NORMAL.entries(),
    };
    // SAFETY: forwarded from the caller.
    unsafe { copy_interfaces(list, p_list, p_count) }
}

/// The standard two-call protocol over `entries`.
///
/// # Safety
/// As [`get_interface_list`].
unsafe fn copy_interfaces(
    entries: &[CK_INTERFACE],
    p_list: CK_INTERFACE_PTR,
    p_count: CK_ULONG_PTR,
) -> CK_RV {
    if p_count.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    let count = entries.len() as CK_ULONG;
    if p_list.is_null() {
        // SAFETY: non-NULL and writable (the caller's contract).
        unsafe { p_count.write_unaligned(count) };
        return CKR_OK;
    }
    // SAFETY: as above, readable too.
    let room = unsafe { p_count.read_unaligned() };
    // SAFETY: as above.
    unsafe { p_count.write_unaligned(count) };
    if room < count {
        return CKR_BUFFER_TOO_SMALL;
    }
    for (index, entry) in entries.iter().enumerate() {
        // SAFETY: `p_list` has room for `room >= count` entries.
        unsafe { p_list.add(index).write_unaligned(*entry) };
    }
    CKR_OK
}

/// `C_GetInterface`.
///
/// # Safety
/// `p_name` is NULL or a NUL-terminated string; `p_version` is NULL or points to a
/// `CK_VERSION`; `pp_interface` is NULL or points to a writable `CK_INTERFACE_PTR`.
pub(crate) unsafe fn get_interface(
    p_name: CK_UTF8CHAR_PTR,
    p_version: CK_VERSION_PTR,
    pp_interface: CK_INTERFACE_PTR_PTR,
    flags: CK_FLAGS,
) -> CK_RV {
    record(Function::GetInterface);
    let (list, default) = match plan::current() {
        None => return CKR_FUNCTION_FAILED,
        Some(Plan::FunctionListFails) => return CKR_GENERAL_ERROR,
        Some(
            Plan::ListNotSupported
            | Plan::ListCountGrows
            | Plan::FunctionListNull
            | Plan::FunctionListClaims3,
        ) => return CKR_FUNCTION_NOT_SUPPORTED,
        // OK, and the out-pointer left as the caller set it.
        Some(Plan::InterfaceOkNull) => return CKR_OK,
        Some(Plan::ListNullTables) => {
            if pp_interface.is_null() {
                return CKR_ARGUMENTS_BAD;
            }
            // SAFETY: non-NULL and writable (the caller's contract).
            unsafe { pp_interface.write_unaligned(ptr::null_mut()) };
            return CKR_OK;
        }
        Some(Plan::ListOnly3_0) => (tables::ONLY_3_0.entries(), tables::ONLY_3_0_DEFAULT),
        Some(Plan::NullSlots) => (tables::NULL_SLOTS.entries(), tables::NORMAL_DEFAULT),
        Some(Plan::Normal | Plan::ListCountLies) => {
            (tables::NORMAL.entries(), tables::NORMAL_DEFAULT)
        }
    };
    if pp_interface.is_null() {
        return CKR_ARGUMENTS_BAD;
    }
    let name = (!p_name.is_null()).then(|| {
        // SAFETY: a non-NULL name is NUL-terminated (the caller's contract).
        unsafe { CStr::from_ptr(p_name.cast_const().cast()) }
    });
    let version = (!p_version.is_null()).then(|| {
        // SAFETY: a non-NULL version points to a CK_VERSION (the caller's contract).
        unsafe { p_version.read_unaligned() }
    });
    // The default interface first, then the others in list order.
    let candidates = core::iter::once(default)
        .chain((0..list.len()).filter(|&index| index != default))
        .map(|index| &list[index]);
    for entry in candidates {
        // SAFETY: the entries are this module's statics: NUL-terminated names and tables
        // beginning with a CK_VERSION.
        if unsafe { matches(entry, name, version, flags) } {
            // SAFETY: non-NULL and writable (the caller's contract). The entry is a
            // static that is never written through the `*mut` the standard's type requires.
            unsafe { pp_interface.write_unaligned(ptr::from_ref(entry).cast_mut()) };
            return CKR_OK;
        }
    }
    CKR_ARGUMENTS_BAD
}

/// Whether `entry` has the name (if given), the version (if given) and all the `flags`.
///
/// # Safety
/// `entry`'s name is NUL-terminated and its table, if not NULL, begins with a `CK_VERSION`.
unsafe fn matches(
    entry: &CK_INTERFACE,
    name: Option<&CStr>,
    version: Option<CK_VERSION>,
    flags: CK_FLAGS,
) -> bool {
    if entry.flags & flags != flags {
        return false;
    }
    if let Some(name) = name {
        // SAFETY: the caller's contract.
        let own = unsafe { CStr::from_ptr(entry.pInterfaceName.cast_const().cast()) };
        if own != name {
            return false;
        }
    }
    if let Some(wanted) = version {
        let table = entry.pFunctionList.cast_const().cast::<CK_VERSION>();
        if table.is_null() {
            return false;
        }
        // SAFETY: the caller's contract.
        let own = unsafe { table.read_unaligned() };
        if (own.major, own.minor) != (wanted.major, wanted.minor) {
            return false;
        }
    }
    true
}
