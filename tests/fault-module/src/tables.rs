//! The static function tables and interface lists.
//!
//! Tables are `static`, never `const`, so that the pointers handed to callers stay valid
//! and stable for as long as the library is loaded.

use core::ffi::c_void;

use pkcs11_sys::{
    CK_CHAR, CK_FLAGS, CK_FUNCTION_LIST, CK_FUNCTION_LIST_3_0, CK_FUNCTION_LIST_3_2, CK_INTERFACE,
    CK_VERSION,
};

use crate::token;

/// The version of [`FUNCTIONS_2_40`].
pub(crate) const VERSION_2_40: CK_VERSION = CK_VERSION {
    major: 2,
    minor: 40,
};
/// The version of [`FUNCTIONS_3_0`].
pub(crate) const VERSION_3_0: CK_VERSION = CK_VERSION { major: 3, minor: 0 };
/// The version of [`FUNCTIONS_3_2`].
pub(crate) const VERSION_3_2: CK_VERSION = CK_VERSION { major: 3, minor: 2 };

/// A table of type `$table` with version `$version`, the module's base functions (with
/// `$get_info` as `C_GetInfo`), and every other slot NULL.
macro_rules! base_table {
    ($table:ty, $version:expr, $get_info:expr) => {{
        // SAFETY: all-zero bytes are a valid function table: version 0.0 and every slot
        // `None` (NULL, "not supported").
        let mut table: $table = unsafe { core::mem::zeroed() };
        table.version = $version;
        table.C_Initialize = Some(token::initialize);
        table.C_Finalize = Some(token::finalize);
        table.C_GetInfo = $get_info;
        table.C_GetFunctionList = Some(crate::C_GetFunctionList);
        table.C_GetSlotList = Some(token::get_slot_list);
        table.C_GetTokenInfo = Some(token::get_token_info);
        table
    }};
}

/// A 3.x table: the base functions plus the interface entry points.
macro_rules! table_3 {
    ($table:ty, $version:expr, $get_info:expr) => {{
        let mut table = base_table!($table, $version, $get_info);
        table.C_GetInterfaceList = Some(crate::C_GetInterfaceList);
        table.C_GetInterface = Some(crate::C_GetInterface);
        table
    }};
}

/// The 2.40 table.
pub(crate) static FUNCTIONS_2_40: CK_FUNCTION_LIST =
    base_table!(CK_FUNCTION_LIST, VERSION_2_40, Some(token::get_info_2_40));

/// A 2.x table (the `CK_FUNCTION_LIST` struct, nothing more) whose version field claims
/// 3.2, as SoftHSMv2 2.6 returned from `C_GetFunctionList`.
pub(crate) static FUNCTIONS_2_CLAIMING_3_2: CK_FUNCTION_LIST =
    base_table!(CK_FUNCTION_LIST, VERSION_3_2, Some(token::get_info_3_2));

/// The 3.0 table.
pub(crate) static FUNCTIONS_3_0: CK_FUNCTION_LIST_3_0 =
    table_3!(CK_FUNCTION_LIST_3_0, VERSION_3_0, Some(token::get_info_3_0));

/// The 3.2 table.
pub(crate) static FUNCTIONS_3_2: CK_FUNCTION_LIST_3_2 =
    table_3!(CK_FUNCTION_LIST_3_2, VERSION_3_2, Some(token::get_info_3_2));

/// The 3.2 table of plan `null-slots`: `C_GetInfo` is NULL.
pub(crate) static FUNCTIONS_3_2_WITHOUT_GET_INFO: CK_FUNCTION_LIST_3_2 =
    table_3!(CK_FUNCTION_LIST_3_2, VERSION_3_2, None);

/// The function table of the vendor interface "Vendor fault": like every interface table it
/// begins with a `CK_VERSION`; what follows is the vendor's business.
///
/// Its version, 3.3, is higher than any "PKCS 11" interface here, so a loader that ignored
/// interface names would pick it; `_room` makes it as large as a 3.2 table so that such a
/// loader fails a test instead of reading past the static.
#[repr(C)]
pub(crate) struct VendorFunctionList {
    version: CK_VERSION,
    fault_calls: Option<unsafe extern "C" fn(*const core::ffi::c_char) -> u64>,
    _room: [usize; VENDOR_ROOM],
}

/// Words of [`VendorFunctionList::_room`].
const VENDOR_ROOM: usize = size_of::<CK_FUNCTION_LIST_3_2>() / size_of::<usize>();

/// The version of the "Vendor fault" interface.
const VENDOR_VERSION: CK_VERSION = CK_VERSION { major: 3, minor: 3 };

/// The table of the "Vendor fault" interface.
static VENDOR_FUNCTIONS: VendorFunctionList = VendorFunctionList {
    version: VENDOR_VERSION,
    fault_calls: Some(crate::fault_calls),
    _room: [0; VENDOR_ROOM],
};

/// A list of interfaces that can be a `static`.
pub(crate) struct Interfaces<const N: usize>([CK_INTERFACE; N]);

// SAFETY: the entries point only to immutable statics (names and tables), which are never
// written through these pointers, so sharing them between threads is sound.
unsafe impl<const N: usize> Sync for Interfaces<N> {}

impl<const N: usize> Interfaces<N> {
    /// The entries.
    pub(crate) fn entries(&'static self) -> &'static [CK_INTERFACE] {
        &self.0
    }
}

const PKCS11_NAME: *mut CK_CHAR = c"PKCS 11".as_ptr().cast::<CK_CHAR>().cast_mut();
const VENDOR_NAME: *mut CK_CHAR = c"Vendor fault".as_ptr().cast::<CK_CHAR>().cast_mut();

/// An interface entry.
const fn interface(name: *mut CK_CHAR, table: *const c_void, flags: CK_FLAGS) -> CK_INTERFACE {
    CK_INTERFACE {
        pInterfaceName: name,
        pFunctionList: table.cast_mut(),
        flags,
    }
}

/// A "PKCS 11" interface entry for `table`.
const fn pkcs11<T>(table: &'static T) -> CK_INTERFACE {
    interface(PKCS11_NAME, core::ptr::from_ref(table).cast(), 0)
}

/// Plan `normal`: the standard interfaces in an order where the highest version is neither
/// first nor last, and a vendor interface.
pub(crate) static NORMAL: Interfaces<4> = Interfaces([
    pkcs11(&FUNCTIONS_3_0),
    pkcs11(&FUNCTIONS_3_2),
    pkcs11(&FUNCTIONS_2_40),
    interface(
        VENDOR_NAME,
        core::ptr::from_ref(&VENDOR_FUNCTIONS).cast(),
        0,
    ),
]);

/// Index of the default interface (3.2) in [`NORMAL`] and [`NULL_SLOTS`].
pub(crate) const NORMAL_DEFAULT: usize = 1;

/// Plan `null-slots`: as [`NORMAL`], with a 3.2 table lacking `C_GetInfo`.
pub(crate) static NULL_SLOTS: Interfaces<4> = Interfaces([
    pkcs11(&FUNCTIONS_3_0),
    pkcs11(&FUNCTIONS_3_2_WITHOUT_GET_INFO),
    pkcs11(&FUNCTIONS_2_40),
    interface(
        VENDOR_NAME,
        core::ptr::from_ref(&VENDOR_FUNCTIONS).cast(),
        0,
    ),
]);

/// Plan `list-only-3-0`: 2.40 and 3.0.
pub(crate) static ONLY_3_0: Interfaces<2> =
    Interfaces([pkcs11(&FUNCTIONS_2_40), pkcs11(&FUNCTIONS_3_0)]);

/// Index of the default interface (3.0) in [`ONLY_3_0`].
pub(crate) const ONLY_3_0_DEFAULT: usize = 1;

/// Plan `list-null-tables`: "PKCS 11" entries without tables.
pub(crate) static NULL_TABLES: Interfaces<3> = Interfaces([
    interface(PKCS11_NAME, core::ptr::null(), 0),
    interface(PKCS11_NAME, core::ptr::null(), 0),
    interface(PKCS11_NAME, core::ptr::null(), 0),
]);
