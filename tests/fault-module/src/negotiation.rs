//! The three negotiation entry points, as the plan's negotiation preset (and its rules
//! for these functions) have them behave.

use core::ffi::CStr;
use core::ptr;
use core::sync::atomic::{AtomicU64, Ordering};

use pkcs11_sys::{
    CKR_ARGUMENTS_BAD, CKR_BUFFER_TOO_SMALL, CKR_FUNCTION_FAILED, CKR_FUNCTION_NOT_SUPPORTED,
    CKR_GENERAL_ERROR, CK_FLAGS, CK_FUNCTION_LIST_PTR, CK_FUNCTION_LIST_PTR_PTR, CK_INTERFACE,
    CK_INTERFACE_PTR, CK_INTERFACE_PTR_PTR, CK_RV, CK_ULONG, CK_ULONG_PTR, CK_UTF8CHAR_PTR,
    CK_VERSION, CK_VERSION_PTR,
};

use crate::calls::Function;
use crate::entry::{run, Ck};
use crate::out;
use crate::plan::{self, Negotiation, Plan};
use crate::tables::{self, Tables, NORMAL_DEFAULT, ONLY_3_0_DEFAULT, VERSION_2_40};
use crate::token;

/// What preset `list-count-lies` answers to a NULL-list query.
const LYING_COUNT: usize = 3;
/// What preset `list-count-grows` answers first; every call adds one.
static GROWING_COUNT: AtomicU64 = AtomicU64::new(3);

/// The current plan and its tables (with a `C_GetFunctionList` table claiming
/// `claimed`), unless the plan says the entry points fail.
fn plan_and_tables(claimed: CK_VERSION) -> Ck<(std::sync::Arc<Plan>, &'static Tables)> {
    let plan = plan::current();
    if plan.invalid {
        return Err(CKR_FUNCTION_FAILED);
    }
    if plan.negotiation == Negotiation::FunctionListFails {
        return Err(CKR_GENERAL_ERROR);
    }
    let tables = tables::tables(plan.nulls, claimed);
    Ok((plan, tables))
}

/// `C_GetFunctionList`.
///
/// # Safety
/// `pp_function_list` is NULL or points to a writable `CK_FUNCTION_LIST_PTR`.
pub(crate) unsafe fn get_function_list(pp_function_list: CK_FUNCTION_LIST_PTR_PTR) -> CK_RV {
    run(Function::GetFunctionList, None, || {
        let (plan, tables) = plan_and_tables(out::version(VERSION_2_40))?;
        let table: CK_FUNCTION_LIST_PTR = match plan.negotiation {
            Negotiation::FunctionListNull => ptr::null_mut(),
            // Never written through the `*mut` the standard's type requires.
            _ => ptr::from_ref(&tables.function_list).cast_mut(),
        };
        token::set_claimed(tables.function_list.version);
        // SAFETY: NULL or writable (the caller's contract).
        unsafe { out::value(table, pp_function_list) }
    })
}

/// `C_GetInterfaceList`.
///
/// # Safety
/// `p_count` is NULL or points to a writable `CK_ULONG`; `p_list` is NULL or points to
/// `*p_count` writable `CK_INTERFACE`s.
pub(crate) unsafe fn get_interface_list(p_list: CK_INTERFACE_PTR, p_count: CK_ULONG_PTR) -> CK_RV {
    run(Function::GetInterfaceList, None, || {
        let (plan, tables) = plan_and_tables(VERSION_2_40)?;
        let list = match plan.negotiation {
            Negotiation::FunctionListFails => return Err(CKR_GENERAL_ERROR),
            Negotiation::ListNotSupported
            | Negotiation::InterfaceOkNull
            | Negotiation::FunctionListNull => return Err(CKR_FUNCTION_NOT_SUPPORTED),
            Negotiation::ListCountGrows => {
                if p_count.is_null() {
                    return Err(CKR_ARGUMENTS_BAD);
                }
                let grown = GROWING_COUNT.fetch_add(1, Ordering::Relaxed);
                let grown = CK_ULONG::try_from(grown).unwrap_or(CK_ULONG::MAX);
                // SAFETY: non-NULL and writable (the caller's contract).
                unsafe { p_count.write_unaligned(grown) };
                // Never enough room: the count has grown since the caller asked.
                return if p_list.is_null() {
                    Ok(())
                } else {
                    Err(CKR_BUFFER_TOO_SMALL)
                };
            }
            Negotiation::ListCountLies => {
                // SAFETY: forwarded from the caller.
                unsafe { out::list(&tables.normal[..LYING_COUNT], p_list, p_count) }?;
                if !p_list.is_null() {
                    let absurd = CK_ULONG::try_from(1_u64 << 40).unwrap_or(CK_ULONG::MAX);
                    // SAFETY: non-NULL (`out::list` checked) and writable.
                    unsafe { p_count.write_unaligned(absurd) };
                }
                return Ok(());
            }
            Negotiation::ListOnly3_0 => &tables.only_3_0,
            Negotiation::ListNullTables => &tables.null_tables,
            Negotiation::Normal => &tables.normal,
        };
        // SAFETY: forwarded from the caller.
        unsafe { out::list(list, p_list, p_count) }.map(drop)
    })
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
    run(Function::GetInterface, None, || {
        let (plan, tables) = plan_and_tables(VERSION_2_40)?;
        let (list, default) = match plan.negotiation {
            Negotiation::FunctionListFails => return Err(CKR_GENERAL_ERROR),
            Negotiation::ListNotSupported
            | Negotiation::ListCountGrows
            | Negotiation::FunctionListNull => return Err(CKR_FUNCTION_NOT_SUPPORTED),
            // OK, and the out-pointer left as the caller set it.
            Negotiation::InterfaceOkNull => return Ok(()),
            Negotiation::ListNullTables => {
                // SAFETY: NULL or writable (the caller's contract).
                return unsafe { out::value(ptr::null_mut(), pp_interface) };
            }
            Negotiation::ListOnly3_0 => (&tables.only_3_0, ONLY_3_0_DEFAULT),
            Negotiation::Normal | Negotiation::ListCountLies => (&tables.normal, NORMAL_DEFAULT),
        };
        if pp_interface.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
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
            // SAFETY: the entries are this module's: NUL-terminated names and tables
            // beginning with a CK_VERSION.
            if unsafe { matches(entry, name, version, flags) } {
                // Never written through the `*mut` the standard's type requires.
                let entry = ptr::from_ref(entry).cast_mut();
                // SAFETY: non-NULL (checked) and writable (the caller's contract).
                return unsafe { out::value(entry, pp_interface) };
            }
        }
        Err(CKR_ARGUMENTS_BAD)
    })
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
