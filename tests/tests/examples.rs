//! The safe crate's examples run against a throwaway SoftHSM token and say what they
//! should (each example is its own process, so each gets its own SoftHSM instance).

use std::process::Command;

use pkcs11_tests::{softhsm_module, SoftHsmToken};

/// Runs `cargo run --example name` with the token's module, label and user PIN.
fn run_example(token: &SoftHsmToken, name: &str) -> String {
    run_example_with(token, name, "", &[])
}

/// Runs `cargo run --features FEATURES --example name` with the token's module, label,
/// user PIN and `extra` arguments.
fn run_example_with(token: &SoftHsmToken, name: &str, features: &str, extra: &[&str]) -> String {
    let output = Command::new(env!("CARGO"))
        .args(["run", "--quiet", "--package", "pkcs11"])
        .args(if features.is_empty() {
            vec![]
        } else {
            vec!["--features", features]
        })
        .args(["--example", name, "--"])
        .arg(softhsm_module())
        .args([token.label(), token.user_pin])
        .args(extra)
        .env("SOFTHSM2_CONF", token.conf())
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn the_examples_run_on_softhsm() {
    let token = SoftHsmToken::new("examples");

    let tour = run_example(&token, "tour");
    for expected in [
        "library: Implementation of PKCS11 by SoftHSM",
        "token:   \"examples\"",
        "CKM_AES_GCM",
        "a wrong PIN gives: C_Login: CKR_PIN_INCORRECT (0x000000A0)",
        "verifies: true; on another message: false",
        "decrypt to \"stream ciphers hold the session's lock\"",
        "Class(CKO_PRIVATE_KEY), Label(\"tour-ec\"), Sensitive",
        "private keys in this session: 1",
    ] {
        assert!(tour.contains(expected), "tour lacks {expected:?}:\n{tour}");
    }

    let quick = run_example(&token, "quick_start");
    assert!(quick.contains("HMAC-SHA-256(hello) = "), "{quick}");
    assert!(quick.contains("verifies: true"), "{quick}");

    let shared = run_example(&token, "shared_session");
    assert_eq!(
        shared.matches("200 digests, all correct").count(),
        4,
        "{shared}"
    );

    // The examples made session objects only: the token is empty again.
    let found = run_example(&token, "find_objects");
    assert!(found.ends_with("0 objects\n"), "{found}");
}

#[test]
fn the_feature_examples_run_on_softhsm() {
    let token = SoftHsmToken::new("feature-examples");

    let traced = run_example_with(&token, "trace_calls", "tracing", &[]);
    for expected in [
        "C_Login(",
        "<redacted>",
        "CKR_PIN_INCORRECT",
        "a wrong PIN gives: C_Login: CKR_PIN_INCORRECT",
        "CKM_SHA256",
        "C_FindObjectsInit(",
        "[CKA_CLASS]",
        "SHA-256 has 32 bytes",
    ] {
        assert!(
            traced.contains(expected),
            "trace_calls lacks {expected:?}:\n{traced}"
        );
    }
    assert!(!traced.contains("not-the-pin"), "{traced}");
    assert!(!traced.contains(token.user_pin), "{traced}");

    let signed = run_example_with(&token, "sign_rustcrypto", "rustcrypto", &["demo-key"]);
    assert!(
        signed.contains("ECDSA P-256: verifies: true; on another message: false"),
        "{signed}"
    );
    assert!(
        signed.contains("4 threads signed through one session"),
        "{signed}"
    );

    let served = run_example_with(&token, "tls_server", "rustls,rustcrypto", &["web-key"]);
    assert_eq!(
        served
            .matches(", from a key on the token (TLSv1_3)")
            .count(),
        3,
        "{served}"
    );
}
