//! Compile-fail tests (trybuild) for the safe crate's type-level promises: an operation
//! guard (an object search, every multipart stream) borrows its session and its
//! mechanism, a `Pin` cannot be displayed, and a `Session` is `Send + Sync`.
//!
//! The expected compiler messages (`tests/compile-fail/*.stderr`) depend on the compiler
//! version: after a toolchain update, regenerate them with
//! `TRYBUILD=overwrite cargo test -p pkcs11-tests --test compile_fail` and review the
//! diff (the error codes and spans must stay the same).

#[test]
fn rule_28_33_type_level_promises() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("compile-fail/*.rs");
    cases.pass("compile-fail/pass/*.rs");
}
