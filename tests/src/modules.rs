//! The real modules the operation suites run on: SoftHSMv2 and Kryoptic, each with one
//! throwaway token per test process.
//!
//! ```ignore
//! use pkcs11_tests::modules::{each_module, Module};
//!
//! #[test]
//! fn aes_gcm_round_trip() {
//!     each_module("aes_gcm_round_trip", |token| {
//!         if !token.require(MechanismType::AES_GCM) {
//!             return; // printed loudly: "SKIPPED on SoftHSMv2: aes_gcm_round_trip ..."
//!         }
//!         let session = token.session();
//!         // ...
//!     });
//! }
//! ```
//!
//! A module that is missing makes the test fail with the command that installs it
//! (`cargo xtask kryoptic` builds Kryoptic); a test is skipped on one module only when that
//! module's mechanism list lacks a mechanism the test needs, and the skip is printed with
//! the module, the test and the mechanism.

use std::path::PathBuf;
use std::sync::OnceLock;

use pkcs11::{MechanismType, Pin, Pkcs11, Session, Slot, UserType};

use crate::{shared_softhsm_token, softhsm_module, TempDir};

/// The Kryoptic version `cargo xtask kryoptic` builds.
pub const KRYOPTIC_VERSION: &str = "1.5.4";

/// The slot number of the Kryoptic test token (from the generated configuration).
pub const KRYOPTIC_SLOT: u64 = 1;

/// A real module the suites run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Module {
    /// SoftHSMv2 from the distribution (`softhsm2`), Cryptoki 2.40.
    SoftHsm,
    /// Kryoptic built by `cargo xtask kryoptic`, Cryptoki 3.2 with post-quantum mechanisms.
    Kryoptic,
}

impl Module {
    /// Every module, in the order the suites run them.
    pub const ALL: [Module; 2] = [Module::SoftHsm, Module::Kryoptic];

    /// A display name for test output.
    pub fn name(self) -> &'static str {
        match self {
            Module::SoftHsm => "SoftHSMv2",
            Module::Kryoptic => "Kryoptic",
        }
    }

    /// The module's shared library.
    ///
    /// # Panics
    /// If it is not installed / built, naming the command that provides it.
    pub fn path(self) -> PathBuf {
        match self {
            Module::SoftHsm => softhsm_module(),
            Module::Kryoptic => kryoptic_module(),
        }
    }
}

/// Where `cargo xtask kryoptic` caches its build: `$PKCS11_RS_CACHE`, else
/// `$XDG_CACHE_HOME/pkcs11-rs`, else `$HOME/.cache/pkcs11-rs`; one directory per version.
pub fn kryoptic_cache_dir() -> PathBuf {
    let base = std::env::var_os("PKCS11_RS_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("XDG_CACHE_HOME").map(|d| PathBuf::from(d).join("pkcs11-rs")))
        .or_else(|| std::env::var_os("HOME").map(|d| PathBuf::from(d).join(".cache/pkcs11-rs")))
        .unwrap_or_else(|| std::env::temp_dir().join("pkcs11-rs-cache"));
    base.join(format!("kryoptic-{KRYOPTIC_VERSION}"))
}

/// The Kryoptic module: `$KRYOPTIC_MODULE`, else the `cargo xtask kryoptic` cache.
///
/// # Panics
/// If neither exists, with the command that builds it.
pub fn kryoptic_module() -> PathBuf {
    if let Some(path) = std::env::var_os("KRYOPTIC_MODULE") {
        return PathBuf::from(path);
    }
    let path = kryoptic_cache_dir().join("libkryoptic_pkcs11.so");
    assert!(
        path.is_file(),
        "Kryoptic {KRYOPTIC_VERSION} is not built ({} is missing): run `cargo xtask kryoptic` \
         (or `cargo xtask test`, which builds it), or set KRYOPTIC_MODULE",
        path.display()
    );
    path
}

/// An initialized token with a user PIN on one module, open for the whole test process.
#[derive(Debug)]
pub struct TestToken {
    /// Which module.
    pub module: Module,
    /// The open module (never finalized before the process exits).
    pub pkcs11: Pkcs11,
    /// The token's slot.
    pub slot: Slot,
    /// The token label.
    pub label: &'static str,
    /// The security officer PIN.
    pub so_pin: &'static str,
    /// The user PIN.
    pub user_pin: &'static str,
    mechanisms: Vec<MechanismType>,
    _dir: Option<TempDir>,
}

const LABEL: &str = "pkcs11-rs-ops";
const SO_PIN: &str = "so-pin-1234";
const USER_PIN: &str = "user-pin-1234";

/// The token of `module` for this process, created and initialized on first use.
pub fn token(module: Module) -> &'static TestToken {
    static SOFTHSM: OnceLock<TestToken> = OnceLock::new();
    static KRYOPTIC: OnceLock<TestToken> = OnceLock::new();
    match module {
        Module::SoftHsm => SOFTHSM.get_or_init(softhsm_token),
        Module::Kryoptic => KRYOPTIC.get_or_init(kryoptic_token),
    }
}

fn softhsm_token() -> TestToken {
    let softhsm = shared_softhsm_token(LABEL);
    assert_eq!((softhsm.so_pin, softhsm.user_pin), (SO_PIN, USER_PIN));
    let pkcs11 = Pkcs11::open(softhsm_module()).expect("open SoftHSMv2");
    let slot = pkcs11
        .token_by_label(LABEL)
        .expect("find the SoftHSM test token");
    finish(Module::SoftHsm, pkcs11, slot, None)
}

fn kryoptic_token() -> TestToken {
    let path = kryoptic_module();
    let dir = TempDir::new("kryoptic");
    let conf = dir.path().join("kryoptic.conf");
    std::fs::write(
        &conf,
        format!(
            "[[slots]]\nslot = {KRYOPTIC_SLOT}\ndbtype = \"sqlite\"\ndbargs = \"{}\"\n",
            dir.path().join("token.sql").display()
        ),
    )
    .expect("write kryoptic.conf");
    // Read by Kryoptic's C_Initialize; set before the first open in this process.
    std::env::set_var("KRYOPTIC_CONF", &conf);
    let pkcs11 =
        Pkcs11::open(&path).unwrap_or_else(|e| panic!("open Kryoptic ({}): {e}", path.display()));
    let slot = pkcs11.slot(KRYOPTIC_SLOT);
    slot.init_token(&Pin::from(SO_PIN), LABEL)
        .expect("C_InitToken on Kryoptic");
    {
        let session = slot.open_rw_session().expect("open a Kryoptic session");
        session
            .login(UserType::So, &Pin::from(SO_PIN))
            .expect("SO login on Kryoptic");
        session
            .init_pin(&Pin::from(USER_PIN))
            .expect("C_InitPIN on Kryoptic");
        session.logout().expect("SO logout on Kryoptic");
    }
    finish(Module::Kryoptic, pkcs11, slot, Some(dir))
}

fn finish(module: Module, pkcs11: Pkcs11, slot: Slot, dir: Option<TempDir>) -> TestToken {
    let mechanisms = slot
        .mechanisms()
        .unwrap_or_else(|e| panic!("mechanism list of {}: {e}", module.name()));
    TestToken {
        module,
        pkcs11,
        slot,
        label: LABEL,
        so_pin: SO_PIN,
        user_pin: USER_PIN,
        mechanisms,
        _dir: dir,
    }
}

impl TestToken {
    /// A new read-write session with the user logged in (the login is shared by all the
    /// process's sessions on the token).
    pub fn session(&self) -> Session {
        let session = self
            .slot
            .open_rw_session()
            .unwrap_or_else(|e| panic!("open a session on {}: {e}", self.module.name()));
        session
            .ensure_logged_in(UserType::User, &Pin::from(self.user_pin))
            .unwrap_or_else(|e| panic!("user login on {}: {e}", self.module.name()));
        session
    }

    /// Whether the token's mechanism list has `mechanism`.
    pub fn has(&self, mechanism: MechanismType) -> bool {
        self.mechanisms.contains(&mechanism)
    }

    /// The token's mechanism list.
    pub fn mechanisms(&self) -> &[MechanismType] {
        &self.mechanisms
    }

    /// Whether every mechanism in `needed` is available; if not, prints loudly which
    /// test is skipped on which module for want of which mechanisms.
    #[track_caller]
    pub fn require(&self, test: &str, needed: &[MechanismType]) -> bool {
        let missing: Vec<_> = needed.iter().filter(|m| !self.has(**m)).collect();
        if missing.is_empty() {
            return true;
        }
        eprintln!(
            "SKIPPED on {}: {test}: the module's mechanism list lacks {missing:?}",
            self.module.name()
        );
        false
    }
}

/// Runs `test` on every module's token, naming the module when it fails.
#[track_caller]
pub fn each_module(name: &str, test: impl Fn(&'static TestToken)) {
    for module in Module::ALL {
        let token = token(module);
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| test(token)));
        if let Err(panic) = result {
            eprintln!("{name} FAILED on {}", module.name());
            std::panic::resume_unwind(panic);
        }
    }
}
