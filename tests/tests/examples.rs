//! The safe crate's examples run against a throwaway SoftHSM token and say what they
//! should (each example is its own process, so each gets its own SoftHSM instance).

use std::process::Command;

use pkcs11_tests::{softhsm_module, SoftHsmToken};

/// Runs `cargo run --example name` with the token's module, label and user PIN.
fn run_example(token: &SoftHsmToken, name: &str) -> String {
    let output = Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--package",
            "pkcs11",
            "--example",
            name,
            "--",
        ])
        .arg(softhsm_module())
        .args([token.label(), token.user_pin])
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
