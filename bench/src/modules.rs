//! The benchmark's tokens: a throwaway SoftHSMv2 token, a throwaway Kryoptic token, and
//! a copy of the fault module named for its `noop` plan — each in a directory of this
//! process, removed when dropped.
//!
//! This crate does not use the test harness (`pkcs11-tests`): depending on it would
//! switch on the safe crate's optional features that the tests use (`tracing`...), and
//! the benchmark measures the crate as users get it by default.

use std::path::{Path, PathBuf};
use std::process::Command;

use pkcs11::{Pin, Pkcs11, Slot, UserType};

/// The token label of the SoftHSM and Kryoptic tokens.
pub const LABEL: &str = "pkcs11-bench";
/// Their security officer PIN.
pub const SO_PIN: &str = "so-pin-1234";
/// The user PIN of every token (the fault module's too).
pub const USER_PIN: &str = "user-pin-1234";
/// The fault module's initialized token.
pub const FAULT_SLOT: pkcs11_sys::CK_SLOT_ID = 1;
/// The slot of the Kryoptic token (from the configuration written here).
pub const KRYOPTIC_SLOT: pkcs11_sys::CK_SLOT_ID = 1;

const SOFTHSM_CANDIDATES: [&str; 5] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// A directory of this process (`<tmp>/pkcs11-bench-<pid>-<tag>`), removed on drop.
#[derive(Debug)]
pub struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let path = std::env::temp_dir().join(format!("pkcs11-bench-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("create {}: {e}", path.display()));
        Scratch(path)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        // A loaded library keeps its (unlinked) file.
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An opened module with a logged-in-able token, and what must outlive it.
pub struct Opened {
    /// The module's library.
    pub path: PathBuf,
    /// The token's slot.
    pub slot: Slot,
    /// The user PIN.
    pub pin: &'static str,
    /// The token's (or module copy's) directory.
    pub scratch: Scratch,
}

/// SoftHSMv2 (`$SOFTHSM2_MODULE`, else a standard location) with a fresh token.
///
/// # Panics
/// If SoftHSM is missing or the token cannot be made.
pub fn softhsm() -> Opened {
    let path = std::env::var_os("SOFTHSM2_MODULE")
        .map(PathBuf::from)
        .or_else(|| {
            SOFTHSM_CANDIDATES
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
        })
        .expect("SoftHSMv2 is not installed: `apt-get install softhsm2` or set SOFTHSM2_MODULE");
    let scratch = Scratch::new("softhsm");
    let tokens = scratch.path().join("tokens");
    std::fs::create_dir_all(&tokens).expect("create the token directory");
    let conf = scratch.path().join("softhsm2.conf");
    std::fs::write(
        &conf,
        format!(
            "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
            tokens.display()
        ),
    )
    .expect("write softhsm2.conf");
    let output = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", LABEL])
        .args(["--so-pin", SO_PIN, "--pin", USER_PIN])
        .env("SOFTHSM2_CONF", &conf)
        .output()
        .expect("run softhsm2-util (apt-get install softhsm2)");
    assert!(
        output.status.success(),
        "softhsm2-util --init-token: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Read by SoftHSM's C_Initialize (the first open in this process).
    std::env::set_var("SOFTHSM2_CONF", &conf);
    let p11 = Pkcs11::open(&path).expect("open SoftHSMv2");
    let slot = p11.token_by_label(LABEL).expect("find the bench token");
    Opened {
        path,
        slot,
        pin: USER_PIN,
        scratch,
    }
}

/// Kryoptic (`$KRYOPTIC_MODULE`, else the `cargo xtask kryoptic` cache) with a fresh
/// token in an SQLite database.
///
/// # Panics
/// If Kryoptic is not built or the token cannot be made.
pub fn kryoptic() -> Opened {
    let path = std::env::var_os("KRYOPTIC_MODULE")
        .map(PathBuf::from)
        .or_else(|| {
            let home = std::env::var_os("HOME")?;
            Some(PathBuf::from(home).join(".cache/pkcs11-rs/kryoptic-1.5.4/libkryoptic_pkcs11.so"))
        })
        .filter(|p| p.is_file())
        .expect("Kryoptic is not built: run `cargo xtask kryoptic` or set KRYOPTIC_MODULE");
    let scratch = Scratch::new("kryoptic");
    let conf = scratch.path().join("kryoptic.conf");
    std::fs::write(
        &conf,
        format!(
            "[[slots]]\nslot = {KRYOPTIC_SLOT}\ndbtype = \"sqlite\"\ndbargs = \"{}\"\n",
            scratch.path().join("token.sql").display()
        ),
    )
    .expect("write kryoptic.conf");
    // Read by Kryoptic's C_Initialize (the first open in this process).
    std::env::set_var("KRYOPTIC_CONF", &conf);
    let p11 = Pkcs11::open(&path).expect("open Kryoptic");
    let slot = p11.slot(KRYOPTIC_SLOT);
    slot.init_token(&Pin::from(SO_PIN), LABEL)
        .expect("C_InitToken on Kryoptic");
    let session = slot.open_rw_session().expect("open a Kryoptic session");
    session
        .login(UserType::So, &Pin::from(SO_PIN))
        .expect("SO login");
    session.init_pin(&Pin::from(USER_PIN)).expect("C_InitPIN");
    session.logout().expect("SO logout");
    drop(session);
    Opened {
        path,
        slot,
        pin: USER_PIN,
        scratch,
    }
}

/// A copy of the fault module (`$PKCS11_BENCH_FAULT_MODULE`, a release build that
/// `cargo xtask bench` makes) named `fault-noop--bench.so`, so that it starts in its
/// `noop` plan.
///
/// # Panics
/// If the variable is unset or the copy fails.
pub fn noop() -> Opened {
    let built = std::env::var_os("PKCS11_BENCH_FAULT_MODULE")
        .map(PathBuf::from)
        .filter(|p| p.is_file())
        .expect(
            "PKCS11_BENCH_FAULT_MODULE must name a build of the fault module \
             (`cargo xtask bench` sets it)",
        );
    let scratch = Scratch::new("noop");
    let path = scratch
        .path()
        .join(format!("fault-noop--bench{}", std::env::consts::DLL_SUFFIX));
    std::fs::copy(&built, &path).expect("copy the fault module");
    let p11 = Pkcs11::open(&path).expect("open the noop fault module");
    let slot = p11.slot(FAULT_SLOT);
    Opened {
        path,
        slot,
        pin: USER_PIN,
        scratch,
    }
}
