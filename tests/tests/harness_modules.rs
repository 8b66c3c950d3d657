//! The two-module harness itself: both real modules load, get a token with a user PIN and
//! answer with their mechanism lists; Kryoptic is the Cryptoki 3.2 module the issue asks
//! for; the harness finds Kryoptic where `cargo xtask kryoptic` puts it; tokens work from
//! many threads and from several test processes at once.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use pkcs11::{Attribute, Mechanism, MechanismType, ObjectClass};
use pkcs11_tests::modules::{
    each_module, kryoptic_cache_dir, kryoptic_cache_dir_in, token, Module, KRYOPTIC_LIBRARY,
    KRYOPTIC_VERSION,
};
use pkcs11_tests::Watchdog;

/// DER of the P-256 curve OID (1.2.840.10045.3.1.7), for `CKA_EC_PARAMS`.
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

#[test]
fn both_modules_have_a_logged_in_token() {
    each_module("both_modules_have_a_logged_in_token", |token| {
        let session = token.session();
        let random = session.generate_random(16).expect("C_GenerateRandom");
        assert_eq!(random.len(), 16);
        assert!(token.has(MechanismType::SHA256), "{:?}", token.module);
    });
}

#[test]
fn kryoptic_speaks_3_2() {
    let kryoptic = token(Module::Kryoptic);
    let version = kryoptic.pkcs11.interface_version();
    assert_eq!((version.major, version.minor), (3, 2), "{version:?}");
    assert!(
        kryoptic.mechanisms().len() > 150,
        "{}",
        kryoptic.mechanisms().len()
    );
}

#[test]
fn kryoptic_library_and_token_info() {
    let kryoptic = token(Module::Kryoptic);
    let info = kryoptic.pkcs11.info().expect("C_GetInfo on Kryoptic");
    let version = info.cryptoki_version();
    assert_eq!((version.major, version.minor), (3, 2), "{version:?}");
    assert_eq!(info.manufacturer().as_str(), "Kryoptic");
    assert!(
        info.description().as_str().starts_with("Kryoptic"),
        "{:?}",
        info.description().as_str()
    );

    let token_info = kryoptic
        .slot
        .token_info()
        .expect("C_GetTokenInfo on Kryoptic");
    assert_eq!(token_info.label().as_str(), kryoptic.label);
    assert!(
        token_info.manufacturer().as_str().starts_with("Kryoptic"),
        "{:?}",
        token_info.manufacturer().as_str()
    );
    let flags = token_info.flags();
    for (flag, name) in [
        (pkcs11_sys::CKF_TOKEN_INITIALIZED, "CKF_TOKEN_INITIALIZED"),
        (
            pkcs11_sys::CKF_USER_PIN_INITIALIZED,
            "CKF_USER_PIN_INITIALIZED",
        ),
        (pkcs11_sys::CKF_LOGIN_REQUIRED, "CKF_LOGIN_REQUIRED"),
        (pkcs11_sys::CKF_RNG, "CKF_RNG"),
    ] {
        assert!(
            flags.contains(flag),
            "Kryoptic token lacks {name}: {flags:?}"
        );
    }
}

#[test]
fn kryoptic_offers_the_3_x_and_post_quantum_mechanisms() {
    let kryoptic = token(Module::Kryoptic);
    let wanted = [
        pkcs11_sys::CKM_ML_KEM_KEY_PAIR_GEN,
        pkcs11_sys::CKM_ML_KEM,
        pkcs11_sys::CKM_ML_DSA_KEY_PAIR_GEN,
        pkcs11_sys::CKM_ML_DSA,
        pkcs11_sys::CKM_HASH_ML_DSA,
        pkcs11_sys::CKM_SLH_DSA_KEY_PAIR_GEN,
        pkcs11_sys::CKM_SLH_DSA,
        pkcs11_sys::CKM_HKDF_DERIVE,
        pkcs11_sys::CKM_HKDF_DATA,
        pkcs11_sys::CKM_CHACHA20_POLY1305,
        pkcs11_sys::CKM_SHA3_256,
        pkcs11_sys::CKM_EDDSA,
        pkcs11_sys::CKM_SP800_108_COUNTER_KDF,
    ];
    let missing: Vec<MechanismType> = wanted
        .into_iter()
        .map(MechanismType)
        .filter(|mechanism| !kryoptic.has(*mechanism))
        .collect();
    assert!(missing.is_empty(), "Kryoptic lacks {missing:?}");
}

/// The `executable` of the `xtask` binary in `cargo build --message-format json` output.
fn xtask_executable(json: &str) -> Option<PathBuf> {
    json.lines()
        .filter(|line| line.contains("\"name\":\"xtask\""))
        .find_map(|line| {
            let start = line.find("\"executable\":\"")? + "\"executable\":\"".len();
            let end = start + line[start..].find('"')?;
            Some(PathBuf::from(&line[start..end]))
        })
}

#[test]
fn the_harness_looks_where_xtask_caches_kryoptic() {
    // Build (or find up to date) the xtask binary, then ask it where it caches Kryoptic
    // under several environments and compare with what the harness computes.
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(&cargo)
        .args([
            "build",
            "--quiet",
            "--package",
            "xtask",
            "--message-format",
            "json",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run cargo build --package xtask");
    assert!(
        output.status.success(),
        "cargo build --package xtask failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    let xtask = xtask_executable(&stdout)
        .unwrap_or_else(|| panic!("no xtask executable in cargo's output:\n{stdout}"));

    let cases: [[(&str, Option<&str>); 3]; 5] = [
        [
            ("PKCS11_RS_CACHE", Some("/c/explicit")),
            ("XDG_CACHE_HOME", Some("/c/xdg")),
            ("HOME", Some("/c/home")),
        ],
        [
            ("PKCS11_RS_CACHE", None),
            ("XDG_CACHE_HOME", Some("/c/xdg")),
            ("HOME", Some("/c/home")),
        ],
        [
            ("PKCS11_RS_CACHE", Some("")),
            ("XDG_CACHE_HOME", Some("")),
            ("HOME", Some("/c/home")),
        ],
        [
            ("PKCS11_RS_CACHE", None),
            ("XDG_CACHE_HOME", None),
            ("HOME", Some("/c/home")),
        ],
        [
            ("PKCS11_RS_CACHE", None),
            ("XDG_CACHE_HOME", None),
            ("HOME", None),
        ],
    ];
    for case in cases {
        let mut command = Command::new(&xtask);
        command.args(["kryoptic", "--print-path"]);
        for (name, value) in case {
            match value {
                Some(value) => command.env(name, value),
                None => command.env_remove(name),
            };
        }
        let output = command.output().expect("run xtask kryoptic --print-path");
        assert!(output.status.success(), "{case:?}: {output:?}");
        let printed = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim_end());
        let harness = kryoptic_cache_dir_in(|name| {
            case.iter()
                .find(|(n, _)| *n == name)
                .and_then(|(_, value)| value.map(OsString::from))
        })
        .join(KRYOPTIC_LIBRARY);
        assert_eq!(printed, harness, "{case:?}");
        assert!(
            printed.ends_with(format!("kryoptic-{KRYOPTIC_VERSION}/{KRYOPTIC_LIBRARY}")),
            "{}",
            printed.display()
        );
    }
    assert_eq!(
        kryoptic_cache_dir_in(|name| (name == "PKCS11_RS_CACHE").then(|| "/c/x".into())),
        PathBuf::from(format!("/c/x/kryoptic-{KRYOPTIC_VERSION}"))
    );
    // And in this process's own environment.
    let output = Command::new(&xtask)
        .args(["kryoptic", "--print-path"])
        .output()
        .expect("run xtask kryoptic --print-path");
    assert_eq!(
        PathBuf::from(String::from_utf8_lossy(&output.stdout).trim_end()),
        kryoptic_cache_dir().join(KRYOPTIC_LIBRARY)
    );
}

/// One round of work on a module's token: an AES key and a CBC-PAD round trip, an EC key
/// pair and an ECDSA signature that verifies, and a search that finds the key by label.
fn work_round(token: &'static pkcs11_tests::modules::TestToken, tag: &str) {
    let session = token.session();
    let label = format!("harness-thread-{tag}");
    let aes = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Token(false),
                Attribute::ValueLen(32),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Label(label.clone()),
            ],
        )
        .expect("C_GenerateKey AES");
    let cbc = Mechanism::AesCbcPad { iv: [3; 16] };
    let plaintext = format!("message from {tag} on {}", token.module.name());
    let ciphertext = session
        .encrypt(&cbc, aes, plaintext.as_bytes())
        .expect("C_Encrypt");
    assert_ne!(ciphertext.as_slice(), plaintext.as_bytes());
    let decrypted = session.decrypt(&cbc, aes, &ciphertext).expect("C_Decrypt");
    assert_eq!(&decrypted[..], plaintext.as_bytes());

    let (public, private) = session
        .generate_key_pair(
            &Mechanism::EcKeyPairGen,
            &[
                Attribute::Token(false),
                Attribute::EcParams(P256.to_vec()),
                Attribute::Verify(true),
            ],
            &[
                Attribute::Token(false),
                Attribute::Sign(true),
                Attribute::Sensitive(true),
            ],
        )
        .expect("C_GenerateKeyPair EC");
    let digest = [0x5a; 32];
    let signature = session
        .sign(&Mechanism::Ecdsa, private, &digest)
        .expect("C_Sign ECDSA");
    assert_eq!(signature.len(), 64);
    assert!(session
        .verify(&Mechanism::Ecdsa, public, &digest, &signature)
        .expect("C_Verify ECDSA"));
    assert!(!session
        .verify(&Mechanism::Ecdsa, public, &[0xa5; 32], &signature)
        .expect("C_Verify ECDSA, wrong digest"));

    let found = session
        .find_all(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::Label(label),
        ])
        .expect("C_FindObjects");
    assert_eq!(found, [aes]);
    for object in [aes, public, private] {
        session.destroy_object(object).expect("C_DestroyObject");
    }
}

#[test]
fn both_modules_work_from_many_threads_at_once() {
    let _watchdog = Watchdog::new(
        "both_modules_work_from_many_threads_at_once",
        Duration::from_secs(300),
    );
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            std::thread::spawn(move || {
                for round in 0..3 {
                    each_module("both_modules_work_from_many_threads_at_once", |token| {
                        work_round(token, &format!("{thread}-{round}"));
                    });
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a worker thread panicked");
    }
}

/// Run by [`several_test_processes_each_get_their_own_kryoptic_token`] in child processes.
#[test]
#[ignore = "a child of several_test_processes_each_get_their_own_kryoptic_token"]
fn kryoptic_token_is_private_to_its_process() {
    let kryoptic = token(Module::Kryoptic);
    let dir = kryoptic.dir().expect("the Kryoptic token has a directory");
    let pid = std::process::id();
    assert!(
        dir.to_string_lossy().contains(&format!("-{pid}-")),
        "{} is not named after process {pid}",
        dir.display()
    );
    assert!(dir.join("token.sql").is_file(), "{}", dir.display());
    let session = kryoptic.session();
    // A token object (persistent, in this process's SQLite file): no other process's
    // object may show up next to it.
    let label = format!("owned-by-{pid}");
    session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::Token(true),
                Attribute::ValueLen(16),
                Attribute::Encrypt(true),
                Attribute::Label(label.clone()),
            ],
        )
        .expect("C_GenerateKey on Kryoptic");
    std::thread::sleep(Duration::from_millis(500));
    let keys = session
        .find_all(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::Token(true),
        ])
        .expect("C_FindObjects on Kryoptic");
    assert_eq!(keys.len(), 1, "{keys:?}");
    let found = session
        .get_attributes(keys[0], &[pkcs11::AttributeType::Label])
        .expect("C_GetAttributeValue");
    assert!(
        matches!(&found[0], pkcs11::AttributeResult::Value(Attribute::Label(l)) if *l == label),
        "{found:?}"
    );
    println!("PRIVATE-TOKEN-OK {pid}");
}

#[test]
fn several_test_processes_each_get_their_own_kryoptic_token() {
    let _watchdog = Watchdog::new(
        "several_test_processes_each_get_their_own_kryoptic_token",
        Duration::from_secs(300),
    );
    let exe = std::env::current_exe().expect("the test binary's path");
    let children: Vec<_> = (0..4)
        .map(|_| {
            Command::new(&exe)
                .args([
                    "--exact",
                    "kryoptic_token_is_private_to_its_process",
                    "--ignored",
                    "--nocapture",
                    "--test-threads=1",
                ])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start a child test process")
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().expect("wait for a child");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("PRIVATE-TOKEN-OK"),
            "child failed ({}):\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// Run by [`a_kryoptic_that_does_not_load_names_the_path_and_the_fix`] in child processes
/// with a broken `KRYOPTIC_MODULE`: must panic.
#[test]
#[ignore = "a child of a_kryoptic_that_does_not_load_names_the_path_and_the_fix"]
fn kryoptic_token_with_the_environment_given() {
    let _ = token(Module::Kryoptic);
}

#[test]
fn a_kryoptic_that_does_not_load_names_the_path_and_the_fix() {
    let dir = pkcs11_tests::TempDir::new("broken-kryoptic");
    let not_a_library = dir.path().join("libkryoptic_pkcs11.so");
    std::fs::write(&not_a_library, b"not an ELF file").expect("write a fake library");
    let missing = dir.path().join("missing/libkryoptic_pkcs11.so");
    for (module, fix) in [
        (&missing, "cargo xtask kryoptic"),
        (&not_a_library, "cargo xtask kryoptic --force"),
    ] {
        let output = Command::new(std::env::current_exe().expect("the test binary's path"))
            .args([
                "--exact",
                "kryoptic_token_with_the_environment_given",
                "--ignored",
                "--nocapture",
            ])
            .env("KRYOPTIC_MODULE", module)
            .output()
            .expect("start a child test process");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{}: {stderr}", module.display());
        assert!(
            stderr.contains(&module.display().to_string()) && stderr.contains(fix),
            "the failure must name {} and `{fix}`:\n{stderr}",
            module.display()
        );
    }
}
