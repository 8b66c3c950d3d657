//! The function tables and interface lists.
//!
//! Tables are built when a negotiation entry point is called, from the plan at that
//! moment (its `null` slots, the version `C_GetFunctionList` claims), and never freed:
//! a pointer handed out stays valid as long as the library is loaded. Each distinct
//! plan builds one set, cached.

use core::ffi::c_void;
use std::sync::Mutex;

use pkcs11_sys::{
    CK_CHAR, CK_FLAGS, CK_FUNCTION_LIST, CK_FUNCTION_LIST_3_0, CK_FUNCTION_LIST_3_2, CK_INTERFACE,
    CK_VERSION,
};

use crate::calls::{self, Function, FunctionSet};
use crate::{crypto, objects, session, state, token};

/// The version of the 2.40 table.
pub(crate) const VERSION_2_40: CK_VERSION = CK_VERSION {
    major: 2,
    minor: 40,
};
/// The version of the 3.0 table.
pub(crate) const VERSION_3_0: CK_VERSION = CK_VERSION { major: 3, minor: 0 };
/// The version of the 3.2 table.
pub(crate) const VERSION_3_2: CK_VERSION = CK_VERSION { major: 3, minor: 2 };

/// Fills the 2.x part of a table (of any version): every 2.40 function. `$v3` selects
/// the `*Init` functions that take a NULL mechanism as "end the operation" (3.x).
macro_rules! fill_2 {
    ($table:expr, $v3:literal) => {{
        let t = &mut $table;
        t.C_Initialize = Some(state::initialize);
        t.C_Finalize = Some(state::finalize);
        t.C_GetFunctionList = Some(crate::C_GetFunctionList);
        t.C_GetSlotList = Some(token::get_slot_list);
        t.C_GetSlotInfo = Some(token::get_slot_info);
        t.C_GetTokenInfo = Some(token::get_token_info);
        t.C_GetMechanismList = Some(token::get_mechanism_list);
        t.C_GetMechanismInfo = Some(token::get_mechanism_info);
        t.C_InitToken = Some(token::init_token);
        t.C_InitPIN = Some(session::init_pin);
        t.C_SetPIN = Some(session::set_pin);
        t.C_OpenSession = Some(session::open_session);
        t.C_CloseSession = Some(session::close_session);
        t.C_CloseAllSessions = Some(session::close_all_sessions);
        t.C_GetSessionInfo = Some(session::get_session_info);
        t.C_GetOperationState = Some(crypto::get_operation_state);
        t.C_SetOperationState = Some(crypto::set_operation_state);
        t.C_Login = Some(session::login_entry);
        t.C_Logout = Some(session::logout);
        t.C_CreateObject = Some(objects::create_object);
        t.C_CopyObject = Some(objects::copy_object);
        t.C_DestroyObject = Some(objects::destroy_object);
        t.C_GetObjectSize = Some(objects::get_object_size);
        t.C_GetAttributeValue = Some(objects::get_attribute_value);
        t.C_SetAttributeValue = Some(objects::set_attribute_value);
        t.C_FindObjectsInit = Some(objects::find_objects_init);
        t.C_FindObjects = Some(objects::find_objects);
        t.C_FindObjectsFinal = Some(objects::find_objects_final);
        t.C_EncryptInit = Some(crypto::encrypt_init::<$v3>);
        t.C_Encrypt = Some(crypto::encrypt);
        t.C_EncryptUpdate = Some(crypto::encrypt_update);
        t.C_EncryptFinal = Some(crypto::encrypt_final);
        t.C_DecryptInit = Some(crypto::decrypt_init::<$v3>);
        t.C_Decrypt = Some(crypto::decrypt);
        t.C_DecryptUpdate = Some(crypto::decrypt_update);
        t.C_DecryptFinal = Some(crypto::decrypt_final);
        t.C_DigestInit = Some(crypto::digest_init::<$v3>);
        t.C_Digest = Some(crypto::digest);
        t.C_DigestUpdate = Some(crypto::digest_update);
        t.C_DigestKey = Some(crypto::digest_key);
        t.C_DigestFinal = Some(crypto::digest_final);
        t.C_SignInit = Some(crypto::sign_init::<$v3>);
        t.C_Sign = Some(crypto::sign);
        t.C_SignUpdate = Some(crypto::sign_update);
        t.C_SignFinal = Some(crypto::sign_final);
        t.C_SignRecoverInit = Some(crypto::sign_recover_init::<$v3>);
        t.C_SignRecover = Some(crypto::sign_recover);
        t.C_VerifyInit = Some(crypto::verify_init::<$v3>);
        t.C_Verify = Some(crypto::verify);
        t.C_VerifyUpdate = Some(crypto::verify_update);
        t.C_VerifyFinal = Some(crypto::verify_final);
        t.C_VerifyRecoverInit = Some(crypto::verify_recover_init::<$v3>);
        t.C_VerifyRecover = Some(crypto::verify_recover);
        t.C_DigestEncryptUpdate = Some(crypto::digest_encrypt_update);
        t.C_DecryptDigestUpdate = Some(crypto::decrypt_digest_update);
        t.C_SignEncryptUpdate = Some(crypto::sign_encrypt_update);
        t.C_DecryptVerifyUpdate = Some(crypto::decrypt_verify_update);
        t.C_GenerateKey = Some(objects::generate_key);
        t.C_GenerateKeyPair = Some(objects::generate_key_pair);
        t.C_WrapKey = Some(crypto::wrap_key);
        t.C_UnwrapKey = Some(crypto::unwrap_key);
        t.C_DeriveKey = Some(crypto::derive_key);
        t.C_SeedRandom = Some(crypto::seed_random);
        t.C_GenerateRandom = Some(crypto::generate_random);
        t.C_GetFunctionStatus = Some(crypto::get_function_status);
        t.C_CancelFunction = Some(crypto::cancel_function);
        t.C_WaitForSlotEvent = Some(token::wait_for_slot_event);
    }};
}

/// Fills the 3.0 additions this module implements (the message-based functions stay
/// NULL).
macro_rules! fill_3_0 {
    ($table:expr) => {{
        let t = &mut $table;
        t.C_GetInterfaceList = Some(crate::C_GetInterfaceList);
        t.C_GetInterface = Some(crate::C_GetInterface);
        t.C_LoginUser = Some(session::login_user);
        t.C_SessionCancel = Some(crypto::session_cancel);
    }};
}

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

/// The table of the "Vendor fault" interface.
static VENDOR_FUNCTIONS: VendorFunctionList = VendorFunctionList {
    version: CK_VERSION { major: 3, minor: 3 },
    fault_calls: Some(crate::control::fault_calls),
    _room: [0; VENDOR_ROOM],
};

const PKCS11_NAME: *mut CK_CHAR = c"PKCS 11".as_ptr().cast::<CK_CHAR>().cast_mut();
const VENDOR_NAME: *mut CK_CHAR = c"Vendor fault".as_ptr().cast::<CK_CHAR>().cast_mut();

/// An interface entry.
fn interface(name: *mut CK_CHAR, table: *const c_void, flags: CK_FLAGS) -> CK_INTERFACE {
    CK_INTERFACE {
        pInterfaceName: name,
        pFunctionList: table.cast_mut(),
        flags,
    }
}

/// A "PKCS 11" interface entry for `table`.
fn pkcs11<T>(table: &T) -> CK_INTERFACE {
    interface(PKCS11_NAME, core::ptr::from_ref(table).cast(), 0)
}

/// The vendor interface entry.
fn vendor() -> CK_INTERFACE {
    interface(
        VENDOR_NAME,
        core::ptr::from_ref(&VENDOR_FUNCTIONS).cast(),
        0,
    )
}

/// One set of tables and the interface lists over them.
pub(crate) struct Tables {
    /// What `C_GetFunctionList` hands out: a 2.x table (whatever version it claims).
    pub(crate) function_list: CK_FUNCTION_LIST,
    v2_40: CK_FUNCTION_LIST,
    v3_0: CK_FUNCTION_LIST_3_0,
    v3_2: CK_FUNCTION_LIST_3_2,
    /// "PKCS 11" 3.0, 3.2, 2.40 (the highest version neither first nor last), and the
    /// vendor interface.
    pub(crate) normal: Vec<CK_INTERFACE>,
    /// "PKCS 11" 2.40 and 3.0.
    pub(crate) only_3_0: Vec<CK_INTERFACE>,
    /// Three "PKCS 11" entries without tables.
    pub(crate) null_tables: Vec<CK_INTERFACE>,
}

/// Index of the default interface (3.2) in [`Tables::normal`].
pub(crate) const NORMAL_DEFAULT: usize = 1;
/// Index of the default interface (3.0) in [`Tables::only_3_0`].
pub(crate) const ONLY_3_0_DEFAULT: usize = 1;

// SAFETY: the tables are immutable once built; the entries point only to immutable
// statics (names, the vendor table) and into the same never-freed `Tables`.
unsafe impl Sync for Tables {}
// SAFETY: as above.
unsafe impl Send for Tables {}

/// The table set for `nulls` and a `C_GetFunctionList` table claiming `claimed`.
pub(crate) fn tables(nulls: FunctionSet, claimed: CK_VERSION) -> &'static Tables {
    type Key = (FunctionSet, u8, u8);
    static CACHE: Mutex<Vec<(Key, &'static Tables)>> = Mutex::new(Vec::new());
    let key = (nulls, claimed.major, claimed.minor);
    let mut cache = CACHE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, tables)) = cache.iter().find(|(known, _)| *known == key) {
        return tables;
    }
    let tables = build(nulls, claimed);
    cache.push((key, tables));
    tables
}

fn build(nulls: FunctionSet, claimed: CK_VERSION) -> &'static Tables {
    // SAFETY: all-zero bytes are a valid function table: version 0.0, every slot NULL.
    let (mut v2_40, mut v3_0, mut v3_2): (
        CK_FUNCTION_LIST,
        CK_FUNCTION_LIST_3_0,
        CK_FUNCTION_LIST_3_2,
    ) = unsafe {
        (
            core::mem::zeroed(),
            core::mem::zeroed(),
            core::mem::zeroed(),
        )
    };
    fill_2!(v2_40, false);
    fill_2!(v3_0, true);
    fill_3_0!(v3_0);
    fill_2!(v3_2, true);
    fill_3_0!(v3_2);
    v2_40.version = VERSION_2_40;
    v3_0.version = VERSION_3_0;
    v3_2.version = VERSION_3_2;
    v2_40.C_GetInfo = Some(token::get_info_2_40);
    v3_0.C_GetInfo = Some(token::get_info_3_0);
    v3_2.C_GetInfo = Some(token::get_info_3_2);
    let mut function_list = v2_40;
    function_list.version = claimed;
    function_list.C_GetInfo = Some(token::get_info_claimed);
    for &function in Function::ALL {
        if nulls & function.bit() != 0 {
            calls::clear_2(&mut v2_40, function);
            calls::clear_2(&mut function_list, function);
            calls::clear_3_0(&mut v3_0, function);
            calls::clear_3_2(&mut v3_2, function);
        }
    }
    let tables: &'static mut Tables = Box::leak(Box::new(Tables {
        function_list,
        v2_40,
        v3_0,
        v3_2,
        normal: Vec::new(),
        only_3_0: Vec::new(),
        null_tables: Vec::new(),
    }));
    let null = core::ptr::null();
    tables.normal = vec![
        pkcs11(&tables.v3_0),
        pkcs11(&tables.v3_2),
        pkcs11(&tables.v2_40),
        vendor(),
    ];
    tables.only_3_0 = vec![pkcs11(&tables.v2_40), pkcs11(&tables.v3_0)];
    tables.null_tables = vec![interface(PKCS11_NAME, null, 0); 3];
    tables
}
