//! A PKCS #11 module written on `pkcs11-sys`: a small in-memory token that follows the
//! specification, and misbehaves on command.
//!
//! The test suites load copies of this shared library (through `pkcs11_sys::Module` or
//! the safe crate) to check that every lie a module can tell is survived. It is also the
//! proof that a vendor can implement a module on the sys crate's types alone: the
//! exported entry points have exactly the standard's signatures (checked at compile time
//! against `CK_C_GetFunctionList`, `CK_C_GetInterfaceList` and `CK_C_GetInterface`), and
//! every function in the tables is an `unsafe extern "C" fn` of the generated
//! `CK_C_*` type.
//!
//! # The token
//!
//! | | |
//! |-|-|
//! | tables | 2.40 ([`CK_FUNCTION_LIST`]: every function), 3.0 and 3.2 ([`CK_FUNCTION_LIST_3_0`], [`CK_FUNCTION_LIST_3_2`]: also `C_GetInterfaceList`, `C_GetInterface`, `C_LoginUser`, `C_SessionCancel`; the message-based and other newer functions are NULL) |
//! | library | `C_Initialize` (NULL or `CK_C_INITIALIZE_ARGS`: all or none of the mutex callbacks, `CKF_OS_LOCKING_OK` accepted; with callbacks one mutex is created, locked and unlocked once, and destroyed by `C_Finalize`), `C_Finalize`, `C_GetInfo` (its `cryptokiVersion` is the version of the table it was called through) |
//! | slots | 1: token `fault-token`, serial `fault-0001`, SO PIN `so-pin-1234`, user PIN `user-pin-1234`; 2: a token not yet initialized, serial `fault-0002`. PINs are 4 to 64 bytes. |
//! | sessions | read-only and read-write; login state per token and application, shared by every session, ended by closing the last one; `CK_NOTIFY` and `pApplication` kept per session. Handles restart at 1 after each `C_Initialize`. |
//! | objects | any class; secret keys get the standard's defaults (`CKA_SENSITIVE` false, `CKA_EXTRACTABLE` true, usage flags true, `CKA_PRIVATE` true); `C_GetAttributeValue` per attribute exactly as the standard says (sensitive `CKA_VALUE`, absent types, short buffers, nested templates); find; copy; set with the read-only rules |
//! | mechanisms | `CKM_SHA256` (digest, real), `CKM_VENDOR_DEFINED + 1` XOR cipher (encrypt, decrypt, wrap, unwrap), `CKM_VENDOR_DEFINED + 2` and `CKM_SHA256_HMAC`: HMAC-SHA-256 (sign, verify), `CKM_GENERIC_SECRET_KEY_GEN`, `CKM_AES_KEY_GEN`; see `crypto.rs` |
//! | operations | single- and multi-part, dual-function updates; the standard's termination rules; NULL-mechanism `*Init` (3.x tables) and `C_SessionCancel` end operations |
//! | random | `C_GenerateRandom` gives counter bytes; `C_SeedRandom` answers `CKR_RANDOM_SEED_NOT_SUPPORTED` |
//! | slot events | `C_WaitForSlotEvent` blocks until [`fault_raise_slot_event`] or `C_Finalize`; `CKF_DONT_BLOCK` gives `CKR_NO_EVENT` |
//!
//! # The plan
//!
//! A plan says how this copy of the module misbehaves. The initial plan comes from
//!
//! 1. the module's own file name `fault-<plan>.so` (`.dylib`, `.dll`), where anything
//!    after `--` is a free tag: `fault-normal--my_test-3.so` has the plan `normal`. So
//!    parallel tests load independent copies, each with its own plan, state and counters;
//! 2. otherwise the environment variable `PKCS11_FAULT_PLAN`, read on first use;
//! 3. otherwise the empty plan (a well-behaved module).
//!
//! An initial plan that does not parse makes the three negotiation entry points answer
//! `CKR_FUNCTION_FAILED`, so a misspelt plan never passes for a working one. After
//! loading, [`fault_plan_set`], [`fault_plan_append`] and [`fault_plan_clear`] change it
//! (a test opens the same file with `dlopen` first, sets the plan, then loads it as a
//! module; table slots are decided when a negotiation entry point hands a table out).
//!
//! ## Grammar
//!
//! ```text
//! plan    = item { ";" item }                     (blanks around items are ignored)
//! item    = preset | "fork=" ("nss" | "softhsm") | rule
//! rule    = target ":" action { "," action } [ "@" when ]
//! target  = C function name (e.g. "C_Sign", any of v3.2) | "*" (every function)
//! when    = K          the K-th call only (calls of that function, counted from 1
//!                      since the rule was set)
//!         | K "+"      the K-th call and all later ones
//!         | K "*" N    N calls from the K-th
//!                      (no "@": every call)
//! action  = "rv=" CKR          answer CKR without doing anything (CKR_DEVICE_ERROR,
//!                              0x30 or 48); an error other than CKR_BUFFER_TOO_SMALL
//!                              ends the operation the call belongs to
//!         | "len=" LIE         report lengths and counts falsely (variable outputs,
//!           ("count=" LIE)     lists, C_FindObjects, attribute lengths, object size,
//!                              session counts)
//!         | "nowrite"          answer as usual but write nothing through the caller's
//!                              pointers (values, lengths, handles, structs)
//!         | "garbage"          text fields (CK_INFO, CK_SLOT_INFO, CK_TOKEN_INFO) and
//!                              values get non-UTF-8 bytes and NULs; nested templates'
//!                              entries point at the module's own memory
//!         | "null"             the function's slot is NULL in every table (no "@", no
//!                              other action; decided when tables are handed out)
//!         | "version=" M "." m report this version (C_GetInfo: cryptokiVersion;
//!                              C_GetFunctionList: the 2.x table's version field;
//!                              C_GetSlotInfo / C_GetTokenInfo: hardware and firmware)
//!         | "sleep=" N ("ms" | "s")   sleep at the start of the call
//!         | "notify"           call the session's CK_NOTIFY (CKN_SURRENDER) first, on the
//!                              calling thread; CKR_CANCEL from it makes the call answer
//!                              CKR_FUNCTION_CANCELED
//!         | "notify=thread"    the same from a new module thread, not waited for
//!         | "attr=" CKA        restrict len / nowrite / garbage of C_GetAttributeValue
//!                              to one attribute (CKA_VALUE, 0x11 or 17)
//! LIE     = N | "+" N | "-" N  exactly N; the truth plus / minus N
//!         | "huge"             2^40
//!         | "unavailable"      CK_UNAVAILABLE_INFORMATION
//!         | "grow"             the truth plus 16 per call of the rule, and a buffer is
//!                              judged against that: it never converges
//! ```
//!
//! With a `len` lie a NULL-buffer query reports the lie; a buffer too small for the
//! truth gets `CKR_BUFFER_TOO_SMALL` and the lie; otherwise the true value is written
//! and the lie reported with `CKR_OK` (so `+N` on a filled buffer says "more than the
//! buffer holds"). Several rules may match one call: flags add up, later values win.
//!
//! Presets (negotiation scenarios, and modes):
//!
//! | preset | `C_GetInterfaceList` | `C_GetInterface` | `C_GetFunctionList` |
//! |--------|----------------------|------------------|---------------------|
//! | `normal` | "PKCS 11" 3.0, 3.2, 2.40 (in that order) and "Vendor fault" 3.3 | default 3.2 | the 2.40 table |
//! | `list-only-3-0` | "PKCS 11" 2.40 and 3.0 | default 3.0 | the 2.40 table |
//! | `list-not-supported` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_FUNCTION_NOT_SUPPORTED` | the 2.40 table |
//! | `list-null-tables` | three "PKCS 11" entries with NULL tables | `CKR_OK`, NULL interface | the 2.40 table |
//! | `interface-ok-null` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_OK`, out-pointer not written | the 2.40 table |
//! | `list-count-lies` | count 3, then 3 entries reported as 2^40 | default 3.2 | the 2.40 table |
//! | `list-count-grows` | one more interface on every call (`CKR_BUFFER_TOO_SMALL` forever) | `CKR_FUNCTION_NOT_SUPPORTED` | the 2.40 table |
//! | `function-list-fails` | `CKR_GENERAL_ERROR` | `CKR_GENERAL_ERROR` | `CKR_GENERAL_ERROR` |
//! | `function-list-null` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_OK`, NULL table |
//! | `function-list-claims-3` | `CKR_FUNCTION_NOT_SUPPORTED` | `CKR_FUNCTION_NOT_SUPPORTED` | a 2.x table whose version says 3.2 (= `list-not-supported; C_GetFunctionList:version=3.2`) |
//! | `null-slots` | as `normal`, `C_GetInfo` NULL in every table (= `C_GetInfo:null`) | | |
//!
//! - `noop`: the digest, sign, verify, encrypt and decrypt functions and
//!   `C_GenerateRandom` return at once with fixed output, without sessions or locks
//!   (for benchmarks of the binding's own cost).
//! - `fork=softhsm` (the default): a fork child inherits the module's state, as with
//!   SoftHSMv2; its `C_Initialize` answers `CKR_CRYPTOKI_ALREADY_INITIALIZED`.
//!   `fork=nss`: in a fork child of the process that initialized the module, every
//!   function but the negotiation entry points and `C_Initialize` answers
//!   `CKR_DEVICE_ERROR`, as NSS does; `C_Initialize` in the child starts afresh.
//!
//! Example: `C_Sign:rv=0x30;C_GetAttributeValue:len=huge@2;C_Digest:sleep=200ms;C_GetTokenInfo:garbage`.
//!
//! # Control functions
//!
//! Exported C functions, not part of PKCS #11 and not counted: [`fault_plan_set`],
//! [`fault_plan_append`], [`fault_plan_clear`], [`fault_plan_error`] (the plan);
//! [`fault_calls`], [`fault_calls_total`], [`fault_calls_reset`] (call counters of every
//! function of v3.2, whichever table or export it was called through);
//! [`fault_raise_slot_event`], [`fault_notify`] (`CK_NOTIFY` now, from this or another
//! thread, also after the session's close); [`fault_initialized`],
//! [`fault_open_sessions`], [`fault_objects`], [`fault_login_state`] (the state, to
//! check what the binding did). The helpers in `pkcs11_tests::fault` wrap them.

mod args;
mod calls;
mod control;
mod crypto;
mod entry;
mod negotiation;
mod objects;
mod out;
mod plan;
mod session;
mod state;
mod tables;
mod token;

pub use control::{
    fault_calls, fault_calls_reset, fault_calls_total, fault_initialized, fault_login_state,
    fault_notify, fault_objects, fault_open_sessions, fault_plan_append, fault_plan_clear,
    fault_plan_error, fault_plan_set, fault_raise_slot_event,
};

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
