//! `pkcs11_sys::Module::load` against modules that lie during interface negotiation
//! (RELIABILITY.md rules 1–5, 17, 18).
//!
//! Most tests load a copy of the fault module (`tests/fault-module`) named
//! `fault-<plan>--<tag>.so`: the module reads its plan from its own file name, so every
//! test has its own copy with its own state and call counters. The module is built by a
//! nested `cargo build -p pkcs11-fault-module` on first use (`pkcs11_tests::fault`). The rule-5 test compiles two small C
//! libraries with the system C compiler against this project's header set.
//!
//! Successful loads are also used: `C_Initialize`, `C_GetInfo`, `C_GetSlotList`,
//! `C_GetTokenInfo` and `C_Finalize` are called through the negotiated tables only.

use std::ptr;
#[cfg(all(target_os = "linux", target_env = "gnu"))]
use std::{
    path::{Path, PathBuf},
    process::Command,
};

use pkcs11_sys::{
    CK_C_Finalize, CK_C_GetInfo, CK_C_GetSlotList, CK_C_GetTokenInfo, CK_C_Initialize, LoadError,
    Module, Negotiation, CKR_GENERAL_ERROR, CKR_OK, CK_FALSE, CK_INFO, CK_SLOT_ID, CK_TOKEN_INFO,
    CK_ULONG, CK_VERSION,
};
use pkcs11_tests::fault::FaultModule;

// ---------------------------------------------------------------------------------------
// Loading a copy of the fault module
// ---------------------------------------------------------------------------------------

/// Loads a fresh copy of the fault module whose file name carries `plan`
/// (`fault-<plan>--<tag>.so`), and the copy, whose counters survive a failed load.
fn load(plan: &str) -> (Result<Module, LoadError>, FaultModule) {
    let copy = FaultModule::with_file_plan(plan, "loader");
    (copy.load(), copy)
}

/// Loads a copy of the fault module with `plan`, which must succeed.
fn load_ok(plan: &str) -> (Module, FaultModule) {
    let (module, copy) = load(plan);
    let module = module.unwrap_or_else(|e| panic!("plan {plan}: {e}"));
    (module, copy)
}

// ---------------------------------------------------------------------------------------
// Using a loaded module through its tables
// ---------------------------------------------------------------------------------------

/// The base functions, from the highest table the module negotiated.
struct Base {
    initialize: CK_C_Initialize,
    finalize: CK_C_Finalize,
    get_info: CK_C_GetInfo,
    get_slot_list: CK_C_GetSlotList,
    get_token_info: CK_C_GetTokenInfo,
}

macro_rules! base_of {
    ($table:expr) => {{
        let table = $table;
        Base {
            initialize: table.C_Initialize,
            finalize: table.C_Finalize,
            get_info: table.C_GetInfo,
            get_slot_list: table.C_GetSlotList,
            get_token_info: table.C_GetTokenInfo,
        }
    }};
}

fn base(module: &Module) -> Base {
    if let Some(table) = module.functions_3_2() {
        base_of!(table)
    } else if let Some(table) = module.functions_3_0() {
        base_of!(table)
    } else {
        base_of!(module.functions())
    }
}

/// Text of a blank-padded field.
fn text(field: &[u8]) -> &str {
    std::str::from_utf8(field)
        .expect("UTF-8 text field")
        .trim_end_matches(' ')
}

/// Initializes, reads the library and token information, and finalizes — through the
/// highest negotiated table only. Returns the `CK_INFO`.
fn use_through_tables(module: &Module) -> CK_INFO {
    let f = base(module);
    let initialize = f.initialize.expect("C_Initialize slot");
    let finalize = f.finalize.expect("C_Finalize slot");
    let get_info = f.get_info.expect("C_GetInfo slot");
    let get_slot_list = f.get_slot_list.expect("C_GetSlotList slot");
    let get_token_info = f.get_token_info.expect("C_GetTokenInfo slot");

    // SAFETY: NULL init args; this copy of the module is used by this test only.
    assert_eq!(unsafe { initialize(ptr::null_mut()) }, CKR_OK);
    let mut info = CK_INFO::default();
    // SAFETY: `info` is a writable CK_INFO.
    assert_eq!(unsafe { get_info(&mut info) }, CKR_OK);
    assert_eq!(text(&info.libraryDescription), "pkcs11 fault module");
    assert_eq!(text(&info.manufacturerID), "pkcs11-rs tests");

    let mut count: CK_ULONG = 0;
    // SAFETY: NULL list: the count is written to `count`.
    let rv = unsafe { get_slot_list(CK_FALSE, ptr::null_mut(), &mut count) };
    assert_eq!((rv, count), (CKR_OK, 2));
    let mut slots: [CK_SLOT_ID; 2] = [0; 2];
    // SAFETY: room for `count` slot IDs.
    let rv = unsafe { get_slot_list(CK_FALSE, slots.as_mut_ptr(), &mut count) };
    assert_eq!((rv, count, slots), (CKR_OK, 2, [1, 2]));

    let mut token = CK_TOKEN_INFO::default();
    // SAFETY: `token` is a writable CK_TOKEN_INFO.
    assert_eq!(unsafe { get_token_info(slots[0], &mut token) }, CKR_OK);
    assert_eq!(text(&token.label), "fault-token");

    // SAFETY: initialized above; no call is in flight.
    assert_eq!(unsafe { finalize(ptr::null_mut()) }, CKR_OK);
    info
}

/// `(major, minor)`, since `CK_VERSION` has no `PartialEq`.
fn v(version: CK_VERSION) -> (u8, u8) {
    (version.major, version.minor)
}

fn notes_contain(module: &Module, needles: &[&str]) -> bool {
    module
        .notes()
        .iter()
        .any(|note| needles.iter().all(|needle| note.contains(needle)))
}

// ---------------------------------------------------------------------------------------
// The tests
// ---------------------------------------------------------------------------------------

#[test]
fn picks_highest_pkcs11_interface() {
    let (module, fault) = load_ok("normal");
    assert_eq!(module.negotiation(), Negotiation::InterfaceList);
    assert_eq!(v(module.version()), (3, 2));
    assert!(module.functions_3_0().is_some());
    assert!(module.functions_3_2().is_some());
    let listed: Vec<(&str, Option<(u8, u8)>)> = module
        .interfaces()
        .iter()
        .map(|i| (i.name.as_str(), i.version.map(v)))
        .collect();
    assert_eq!(
        listed,
        [
            ("PKCS 11", Some((3, 0))),
            ("PKCS 11", Some((3, 2))),
            ("PKCS 11", Some((2, 40))),
            ("Vendor fault", Some((3, 3))),
        ]
    );
    // The 3.2 table's C_GetInfo reports 3.2 (the 2.40 and 3.0 tables' report theirs).
    assert_eq!(v(use_through_tables(&module).cryptokiVersion), (3, 2));
    assert_eq!(fault.calls("C_GetFunctionList"), 0);
    assert_eq!(fault.calls("C_GetInterface"), 0);
    assert_eq!(fault.calls("C_GetInfo"), 1);
}

#[test]
fn list_only_3_0_gives_3_0_table() {
    let (module, fault) = load_ok("list-only-3-0");
    assert_eq!(module.negotiation(), Negotiation::InterfaceList);
    assert_eq!(v(module.version()), (3, 0));
    assert!(module.functions_3_0().is_some());
    assert!(module.functions_3_2().is_none());
    assert_eq!(module.interfaces().len(), 2);
    assert_eq!(v(use_through_tables(&module).cryptokiVersion), (3, 0));
    assert_eq!(fault.calls("C_GetFunctionList"), 0);
}

#[test]
fn rule_01_falls_back_when_interface_list_not_supported() {
    let (module, fault) = load_ok("list-not-supported");
    assert_eq!(module.negotiation(), Negotiation::FunctionList);
    assert_eq!(v(module.version()), (2, 40));
    assert!(module.functions_3_0().is_none());
    assert!(module.functions_3_2().is_none());
    assert!(module.interfaces().is_empty());
    for function in ["C_GetInterfaceList", "C_GetInterface:"] {
        assert!(
            notes_contain(&module, &[function, "CKR_FUNCTION_NOT_SUPPORTED"]),
            "no note on {function}: {:?}",
            module.notes()
        );
    }
    assert_eq!(v(use_through_tables(&module).cryptokiVersion), (2, 40));
    assert_eq!(fault.calls("C_GetInterfaceList"), 1);
    assert_eq!(fault.calls("C_GetInterface"), 1);
    assert_eq!(fault.calls("C_GetFunctionList"), 1);
}

#[test]
fn rule_01_falls_back_when_interfaces_have_null_tables() {
    let (module, fault) = load_ok("list-null-tables");
    assert_eq!(module.negotiation(), Negotiation::FunctionList);
    assert_eq!(v(module.version()), (2, 40));
    assert!(module.functions_3_0().is_none());
    // The entries are still reported, without a version.
    assert_eq!(module.interfaces().len(), 3);
    assert!(module
        .interfaces()
        .iter()
        .all(|i| i.name == "PKCS 11" && i.version.is_none()));
    assert!(
        notes_contain(&module, &["C_GetInterface:", "NULL"]),
        "{:?}",
        module.notes()
    );
    assert_eq!(v(use_through_tables(&module).cryptokiVersion), (2, 40));
    assert_eq!(fault.calls("C_GetInterface"), 1);
    assert_eq!(fault.calls("C_GetFunctionList"), 1);
}

#[test]
fn rule_01_every_entry_point_failing_is_an_error_naming_c_get_function_list() {
    let (module, fault) = load("function-list-fails");
    let error = module.expect_err("every entry point fails");
    let message = error.to_string();
    match error {
        LoadError::EntryPointFailed { function, rv, path } => {
            assert_eq!((function, rv), ("C_GetFunctionList", CKR_GENERAL_ERROR));
            assert_eq!(path, fault.path(), "{path:?}");
        }
        other => panic!("unexpected error: {other:?}"),
    }
    assert!(message.contains("C_GetFunctionList"), "{message}");
    assert!(message.contains("CKR_GENERAL_ERROR"), "{message}");
    assert!(message.contains("fault-function-list-fails"), "{message}");
    // Each entry point was tried once.
    assert_eq!(fault.calls("C_GetInterfaceList"), 1);
    assert_eq!(fault.calls("C_GetInterface"), 1);
    assert_eq!(fault.calls("C_GetFunctionList"), 1);
}

#[test]
fn rule_02_ok_with_null_interface_falls_back() {
    let (module, fault) = load_ok("interface-ok-null");
    assert_eq!(module.negotiation(), Negotiation::FunctionList);
    assert_eq!(v(module.version()), (2, 40));
    assert!(module.functions_3_0().is_none());
    assert!(
        notes_contain(&module, &["C_GetInterface:", "NULL"]),
        "{:?}",
        module.notes()
    );
    assert_eq!(v(use_through_tables(&module).cryptokiVersion), (2, 40));
    assert_eq!(fault.calls("C_GetInterface"), 1);
    assert_eq!(fault.calls("C_GetFunctionList"), 1);
}

#[test]
fn rule_02_function_list_ok_with_null_is_an_error() {
    let (module, fault) = load("function-list-null");
    let error = module.expect_err("no table at all");
    let message = error.to_string();
    match error {
        LoadError::NullTable { function, .. } => assert_eq!(function, "C_GetFunctionList"),
        other => panic!("unexpected error: {other:?}"),
    }
    assert!(message.contains("NULL function table"), "{message}");
    assert!(message.contains("fault-function-list-null"), "{message}");
    assert_eq!(fault.calls("C_GetFunctionList"), 1);
}

#[test]
fn rule_03_function_list_table_is_2x_whatever_it_claims() {
    let (module, _fault) = load_ok("function-list-claims-3");
    assert_eq!(module.negotiation(), Negotiation::FunctionList);
    // The table says 3.2, but C_GetFunctionList only ever hands out a 2.x struct.
    assert_eq!(v(module.functions().version), (3, 2));
    assert_eq!(v(module.version()), (2, 40));
    assert!(module.functions_3_0().is_none());
    assert!(module.functions_3_2().is_none());
    assert!(
        notes_contain(&module, &["claims version 3.2"]),
        "{:?}",
        module.notes()
    );
    // Its C_GetInfo keeps up the lie; the 2.x slots work.
    assert_eq!(v(use_through_tables(&module).cryptokiVersion), (3, 2));
}

#[test]
fn rule_04_null_slot_is_none() {
    let (module, fault) = load_ok("null-slots");
    assert_eq!(module.negotiation(), Negotiation::InterfaceList);
    assert_eq!(v(module.version()), (3, 2));
    let v3_2 = module.functions_3_2().expect("3.2 table");
    let v3_0 = module.functions_3_0().expect("3.0 table");
    // Fields are copied out (`{ ... }`): the tables are packed on Windows.
    assert!({ v3_2.C_GetInfo }.is_none());
    assert!({ v3_0.C_GetInfo }.is_none());
    assert!({ module.functions().C_GetInfo }.is_none());
    // The other slots of that table are there and work.
    let initialize = v3_2.C_Initialize.expect("C_Initialize");
    let get_token_info = v3_2.C_GetTokenInfo.expect("C_GetTokenInfo");
    let finalize = v3_2.C_Finalize.expect("C_Finalize");
    // SAFETY: NULL init args; this copy is used by this test only.
    assert_eq!(unsafe { initialize(ptr::null_mut()) }, CKR_OK);
    let mut token = CK_TOKEN_INFO::default();
    // SAFETY: `token` is a writable CK_TOKEN_INFO.
    assert_eq!(unsafe { get_token_info(1, &mut token) }, CKR_OK);
    assert_eq!(text(&token.label), "fault-token");
    // SAFETY: initialized above; no call is in flight.
    assert_eq!(unsafe { finalize(ptr::null_mut()) }, CKR_OK);
    assert_eq!(fault.calls("C_GetInfo"), 0);
}

#[test]
fn rule_17_interface_count_that_never_settles_is_bounded() {
    let (module, fault) = load_ok("list-count-grows");
    assert_eq!(module.negotiation(), Negotiation::FunctionList);
    assert_eq!(v(module.version()), (2, 40));
    assert!(module.interfaces().is_empty());
    assert!(
        notes_contain(&module, &["C_GetInterfaceList", "never settled"]),
        "{:?}",
        module.notes()
    );
    let tries = fault.calls("C_GetInterfaceList");
    assert!(
        (2..=16).contains(&tries),
        "C_GetInterfaceList called {tries} times"
    );
    assert_eq!(v(use_through_tables(&module).cryptokiVersion), (2, 40));
}

#[test]
fn rule_18_interface_count_2_pow_40_is_ignored() {
    let (module, fault) = load_ok("list-count-lies");
    // The list is dropped; the default interface still gives 3.2.
    assert!(module.interfaces().is_empty());
    assert!(
        notes_contain(&module, &["C_GetInterfaceList", "reported"]),
        "{:?}",
        module.notes()
    );
    assert_eq!(module.negotiation(), Negotiation::DefaultInterface);
    assert_eq!(v(module.version()), (3, 2));
    assert!(module.functions_3_2().is_some());
    assert_eq!(v(use_through_tables(&module).cryptokiVersion), (3, 2));
    assert_eq!(fault.calls("C_GetInterfaceList"), 2);
    assert_eq!(fault.calls("C_GetInterface"), 1);
    assert_eq!(fault.calls("C_GetFunctionList"), 0);
}

/// A module (C, exporting only `C_GetFunctionList`) linked against a "provider" library
/// that exports `C_GetInterfaceList` and `C_GetInterface` answering with its own table,
/// as a module linked against p11-kit would see. `dlsym` on the module's handle finds the
/// provider's functions; the loader must ignore them.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn rule_05_entry_points_from_the_module_itself() {
    let module_path = build_rule_5_libraries();

    // The scenario is real: the module's handle does reach the provider's C_GetInterface.
    // SAFETY: the test libraries have no initializers.
    let handle = unsafe { libloading::Library::new(&module_path) }.expect("load the C module");
    // SAFETY: only the address is read.
    let leaked = unsafe { handle.get::<*mut std::ffi::c_void>(b"C_GetInterface") };
    assert!(
        leaked.is_ok(),
        "dlsym through the module does not see the provider's C_GetInterface: \
         the test does not test anything"
    );

    let module = Module::load(&module_path).expect("load the C module");
    assert_eq!(module.negotiation(), Negotiation::FunctionList);
    assert_eq!(v(module.version()), (2, 40));
    assert!(module.functions_3_0().is_none());
    assert!(module.interfaces().is_empty());
    for function in ["C_GetInterfaceList", "C_GetInterface:"] {
        assert!(
            notes_contain(&module, &[function, "links against"]),
            "no note on {function}: {:?}",
            module.notes()
        );
    }
    let get_info = module.functions().C_GetInfo.expect("C_GetInfo");
    let mut info = CK_INFO::default();
    // SAFETY: `info` is a writable CK_INFO (this test module needs no C_Initialize).
    assert_eq!(unsafe { get_info(&mut info) }, CKR_OK);
    assert_eq!(text(&info.libraryDescription), "rule 5 module");
    assert_eq!(v(info.cryptokiVersion), (2, 40));
    drop(handle);
}

/// Builds `libprovider.so` and `libmodule.so` (linked against it, found through
/// `$ORIGIN`) in `$CARGO_TARGET_TMPDIR/rule-05`, and returns the module's path.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn build_rule_5_libraries() -> PathBuf {
    const PLATFORM: &str = r#"
#define CK_PTR *
#define CK_DECLARE_FUNCTION(returnType, name) returnType name
#define CK_DECLARE_FUNCTION_POINTER(returnType, name) returnType (* name)
#define CK_CALLBACK_FUNCTION(returnType, name) returnType (* name)
#define NULL_PTR 0
#include "pkcs11.h"
#include <string.h>

static void fill_info(CK_INFO_PTR info, CK_BYTE major, CK_BYTE minor, const char *text) {
    memset(info, 0, sizeof *info);
    info->cryptokiVersion.major = major;
    info->cryptokiVersion.minor = minor;
    memset(info->manufacturerID, ' ', sizeof info->manufacturerID);
    memset(info->libraryDescription, ' ', sizeof info->libraryDescription);
    memcpy(info->libraryDescription, text, strlen(text));
}
"#;
    const PROVIDER: &str = r#"
static CK_RV provider_get_info(CK_INFO_PTR info) {
    if (info == NULL_PTR) return CKR_ARGUMENTS_BAD;
    fill_info(info, 3, 2, "the provider, not the module");
    return CKR_OK;
}
static CK_FUNCTION_LIST_3_2 provider_table = {
    .version = {3, 2},
    .C_GetInfo = provider_get_info,
};
static CK_INTERFACE provider_interface = {
    (CK_CHAR_PTR)"PKCS 11", &provider_table, 0
};
CK_RV C_GetInterfaceList(CK_INTERFACE_PTR list, CK_ULONG_PTR count) {
    if (count == NULL_PTR) return CKR_ARGUMENTS_BAD;
    if (list == NULL_PTR) { *count = 1; return CKR_OK; }
    if (*count < 1) { *count = 1; return CKR_BUFFER_TOO_SMALL; }
    list[0] = provider_interface;
    *count = 1;
    return CKR_OK;
}
CK_RV C_GetInterface(CK_UTF8CHAR_PTR name, CK_VERSION_PTR version,
                     CK_INTERFACE_PTR_PTR interface, CK_FLAGS flags) {
    (void)name; (void)version; (void)flags;
    if (interface == NULL_PTR) return CKR_ARGUMENTS_BAD;
    *interface = &provider_interface;
    return CKR_OK;
}
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
    if (list == NULL_PTR) return CKR_ARGUMENTS_BAD;
    *list = (CK_FUNCTION_LIST_PTR)&provider_table;
    return CKR_OK;
}
"#;
    const MODULE: &str = r#"
static CK_RV module_get_info(CK_INFO_PTR info) {
    if (info == NULL_PTR) return CKR_ARGUMENTS_BAD;
    fill_info(info, 2, 40, "rule 5 module");
    return CKR_OK;
}
static CK_FUNCTION_LIST module_table = {
    .version = {2, 40},
    .C_GetInfo = module_get_info,
};
CK_RV C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list) {
    if (list == NULL_PTR) return CKR_ARGUMENTS_BAD;
    *list = &module_table;
    return CKR_OK;
}
"#;
    let directory = Path::new(env!("CARGO_TARGET_TMPDIR")).join("rule-05");
    std::fs::create_dir_all(&directory).expect("create the rule-05 directory");
    let headers = Path::new(env!("CARGO_MANIFEST_DIR")).join("../vendor/pkcs11");
    let compile = |name: &str, body: &str, extra: &[&str]| {
        let source = directory.join(format!("{name}.c"));
        std::fs::write(&source, format!("{PLATFORM}{body}")).expect("write the C source");
        let output = directory.join(format!("lib{name}.so"));
        let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
        let result = Command::new(&compiler)
            .args(["-shared", "-fPIC", "-Wall", "-Werror", "-I"])
            .arg(&headers)
            .arg("-o")
            .arg(&output)
            .arg(&source)
            .args(extra)
            .output()
            .unwrap_or_else(|e| {
                panic!(
                    "rule 5 needs a C compiler: cannot run `{compiler}` ({e}); install one \
                     (Debian: apt-get install gcc) or set CC"
                )
            });
        assert!(
            result.status.success(),
            "`{compiler}` failed on {}:\n{}",
            source.display(),
            String::from_utf8_lossy(&result.stderr)
        );
        output
    };
    compile("provider", PROVIDER, &[]);
    let library_dir = format!("-L{}", directory.display());
    compile(
        "module",
        MODULE,
        &[
            &library_dir,
            "-Wl,--no-as-needed",
            "-lprovider",
            "-Wl,-rpath,$ORIGIN",
        ],
    )
}
