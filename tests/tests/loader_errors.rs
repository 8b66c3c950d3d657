//! `Module::load` on things that are not PKCS #11 modules: each gives its own clear error
//! naming the path.

use pkcs11_sys::{LoadError, Module};
use pkcs11_tests::{compile_shared_library, TempDir};

#[test]
fn missing_path_is_not_found() {
    let dir = TempDir::new("missing");
    let path = dir.path().join("no-such-module.so");
    let error = Module::load(&path).expect_err("nothing to load");
    assert!(
        matches!(&error, LoadError::NotFound { path: p } if *p == path),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(message.contains("no such file"), "{message}");
}

#[test]
fn missing_bare_name_is_not_found() {
    let error = Module::load("libno-such-pkcs11-module-here.so").expect_err("nothing to load");
    assert!(matches!(error, LoadError::NotFound { .. }), "{error:?}");
}

#[test]
fn text_file_is_not_a_shared_object() {
    let dir = TempDir::new("text");
    let path = dir.path().join("module.so");
    std::fs::write(&path, "this is a text file, not a PKCS #11 module\n").unwrap();
    let error = Module::load(&path).expect_err("a text file does not load");
    let LoadError::NotASharedObject { path: p, reason } = &error else {
        panic!("expected NotASharedObject, got {error:?}");
    };
    assert_eq!(*p, path);
    assert!(!reason.is_empty());
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains("not a loadable shared library"),
        "{message}"
    );
}

#[test]
fn directory_is_not_a_shared_object() {
    let dir = TempDir::new("directory");
    let error = Module::load(dir.path()).expect_err("a directory does not load");
    assert!(
        matches!(error, LoadError::NotASharedObject { .. }),
        "{error:?}"
    );
}

#[test]
fn shared_library_without_entry_points_is_not_a_module() {
    let dir = TempDir::new("not-pkcs11");
    let path = compile_shared_library(
        dir.path(),
        "libnot_pkcs11.so",
        "int not_a_pkcs11_function(void) { return 42; }\n",
        &[],
    );
    let error = Module::load(&path).expect_err("no PKCS #11 entry point");
    assert!(
        matches!(&error, LoadError::NotAModule { path: p } if *p == path),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(message.contains("is not a PKCS #11 module"), "{message}");
    assert!(message.contains("C_GetFunctionList"), "{message}");
}

#[test]
fn system_library_is_not_a_module() {
    // A real, unrelated shared library of the system (found through the loader's search
    // path by its bare name).
    let error = Module::load("libz.so.1")
        .or_else(|_| Module::load("libm.so.6"))
        .expect_err("zlib / libm are not PKCS #11 modules");
    assert!(matches!(error, LoadError::NotAModule { .. }), "{error:?}");
}

#[test]
fn rule_01_failing_entry_point_reports_function_and_code() {
    let dir = TempDir::new("failing");
    // Only C_GetFunctionList, answering CKR_GENERAL_ERROR (0x5).
    let path = compile_shared_library(
        dir.path(),
        "libfailing.so",
        "unsigned long C_GetFunctionList(void **list) { (void)list; return 0x5UL; }\n",
        &[],
    );
    let error = Module::load(&path).expect_err("entry point fails");
    assert!(
        matches!(
            error,
            LoadError::EntryPointFailed {
                function: "C_GetFunctionList",
                rv: pkcs11_sys::CKR_GENERAL_ERROR,
                ..
            }
        ),
        "{error:?}"
    );
    let message = error.to_string();
    assert!(
        message.contains("C_GetFunctionList failed: CKR_GENERAL_ERROR (0x00000005)"),
        "{message}"
    );
}

#[test]
fn rule_02_ok_with_null_table_is_an_error() {
    let dir = TempDir::new("null-table");
    let path = compile_shared_library(
        dir.path(),
        "libnulltable.so",
        "unsigned long C_GetFunctionList(void **list) { (void)list; return 0UL; }\n",
        &[],
    );
    let error = Module::load(&path).expect_err("OK without a table");
    assert!(
        matches!(
            error,
            LoadError::NullTable {
                function: "C_GetFunctionList",
                ..
            }
        ),
        "{error:?}"
    );
    assert!(error.to_string().contains("NULL function table"));
}
