//! The real modules the operation suites run on: SoftHSMv2 and Kryoptic, each with one
//! throwaway token per test process.
//!
//! ```no_run
//! use pkcs11::MechanismType;
//! use pkcs11_tests::modules::{each_module, TestToken};
//!
//! #[test]
//! fn aes_gcm_round_trip() {
//!     each_module("aes_gcm_round_trip", |token: &'static TestToken| {
//!         if !token.require("aes_gcm_round_trip", &[MechanismType::AES_GCM]) {
//!             return; // printed loudly: "SKIPPED on SoftHSMv2: aes_gcm_round_trip ..."
//!         }
//!         let session = token.session();
//!         // ...
//!     });
//! }
//! ```
//!
//! Kryoptic is found through `$KRYOPTIC_MODULE` (set by `cargo xtask test`), else in the
//! cache `cargo xtask kryoptic` fills (see [`kryoptic_cache_dir`]). Each test process
//! gets its own Kryoptic configuration and SQLite token database in a temporary
//! directory, so test binaries can run at once.
//!
//! A module that is missing makes the test fail with the command that installs it
//! (`cargo xtask kryoptic` builds Kryoptic); a test is skipped on one module only when that
//! module's mechanism list lacks a mechanism the test needs, and the skip is printed with
//! the module, the test and the mechanism.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use pkcs11::{MechanismType, Pin, Pkcs11, Session, Slot, UserType};

use crate::{shared_softhsm_token, softhsm_module, TempDir};

/// Held while the harness sets a module's configuration variable and initializes the
/// module, so that no two harness initializations change or read the environment at once.
static INIT: Mutex<()> = Mutex::new(());

fn init_turn() -> std::sync::MutexGuard<'static, ()> {
    INIT.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The Kryoptic version `cargo xtask kryoptic` builds.
pub const KRYOPTIC_VERSION: &str = "1.5.4";

/// The slot number of the Kryoptic test token (from the generated configuration).
pub const KRYOPTIC_SLOT: pkcs11::ffi::CK_SLOT_ID = 1;

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

/// The file name of the Kryoptic module in its cache directory.
pub const KRYOPTIC_LIBRARY: &str = "libkryoptic_pkcs11.so";

/// Where `cargo xtask kryoptic` caches its build: `$PKCS11_RS_CACHE`, else
/// `$XDG_CACHE_HOME/pkcs11-rs`, else `$HOME/.cache/pkcs11-rs` (else
/// `<tmp>/pkcs11-rs-cache`), then one directory per version: `kryoptic-<version>`.
///
/// `xtask/src/kryoptic.rs` computes the same path (`cargo xtask kryoptic --print-path`
/// prints it; `harness_modules` checks that the two agree).
pub fn kryoptic_cache_dir() -> PathBuf {
    kryoptic_cache_dir_in(|name| std::env::var_os(name))
}

/// [`kryoptic_cache_dir`] with the environment variables read from `env` (an empty value
/// counts as unset); the last fallback is [`std::env::temp_dir`].
pub fn kryoptic_cache_dir_in(env: impl Fn(&str) -> Option<OsString>) -> PathBuf {
    let var = |name: &str| env(name).filter(|value| !value.is_empty());
    let base = var("PKCS11_RS_CACHE")
        .map(PathBuf::from)
        .or_else(|| var("XDG_CACHE_HOME").map(|dir| PathBuf::from(dir).join("pkcs11-rs")))
        .or_else(|| var("HOME").map(|dir| PathBuf::from(dir).join(".cache/pkcs11-rs")))
        .unwrap_or_else(|| std::env::temp_dir().join("pkcs11-rs-cache"));
    base.join(format!("kryoptic-{KRYOPTIC_VERSION}"))
}

/// The Kryoptic module: `$KRYOPTIC_MODULE` (which `cargo xtask test` sets), else the
/// `cargo xtask kryoptic` cache.
///
/// # Panics
/// If the file is missing, with the command that builds it.
pub fn kryoptic_module() -> PathBuf {
    if let Some(path) = std::env::var_os("KRYOPTIC_MODULE").filter(|path| !path.is_empty()) {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "KRYOPTIC_MODULE is {}, which is not a file: point it at a built \
             {KRYOPTIC_LIBRARY}, or unset it and run `cargo xtask kryoptic`",
            path.display()
        );
        return path;
    }
    let path = kryoptic_cache_dir().join(KRYOPTIC_LIBRARY);
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
    dir: Option<TempDir>,
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
    let _turn = init_turn();
    let softhsm = shared_softhsm_token(LABEL);
    assert_eq!((softhsm.so_pin, softhsm.user_pin), (SO_PIN, USER_PIN));
    let pkcs11 = Pkcs11::open(softhsm_module()).expect("open SoftHSMv2");
    let slot = pkcs11
        .token_by_label(LABEL)
        .expect("find the SoftHSM test token");
    finish(Module::SoftHsm, pkcs11, slot, None)
}

/// The tag of the harness's Kryoptic directories (`<tmp>/pkcs11-tests-<pid>-<n>-<tag>`).
const KRYOPTIC_DIR_TAG: &str = "kryoptic";

/// Each test process gets its own Kryoptic token: a configuration file and an SQLite
/// database in a directory named after the process, exported as `KRYOPTIC_CONF` before
/// Kryoptic's `C_Initialize` reads it. Statics are never dropped, so the directory
/// outlives the process; the directories of processes that have exited are removed here.
fn kryoptic_token() -> TestToken {
    let path = kryoptic_module();
    let _turn = init_turn();
    crate::remove_dead_processes_dirs(&std::env::temp_dir(), KRYOPTIC_DIR_TAG);
    let dir = TempDir::new(KRYOPTIC_DIR_TAG);
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
    let pkcs11 = Pkcs11::open(&path).unwrap_or_else(|e| {
        panic!(
            "cannot open Kryoptic {} ({e}): rebuild it with `cargo xtask kryoptic --force` \
             (needs libsqlite3-0 at run time), or point KRYOPTIC_MODULE at a working build",
            path.display()
        )
    });
    let slot = pkcs11.slot(KRYOPTIC_SLOT);
    slot.init_token(&Pin::from(SO_PIN), LABEL)
        .unwrap_or_else(|e| panic!("C_InitToken on Kryoptic ({}): {e}", conf.display()));
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
        dir,
    }
}

impl TestToken {
    /// The directory holding this process's token files, when the harness made one
    /// (Kryoptic: `kryoptic.conf` and the SQLite database `token.sql`).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_ref().map(TempDir::path)
    }

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
        self.skip(
            test,
            &format!("the module's mechanism list lacks {missing:?}"),
        );
        false
    }

    /// Prints, loudly, that `test` is skipped on this module and why, past the test
    /// harness's output capture ([`crate::write_note`]): a skip is always visible.
    pub fn skip(&self, test: &str, why: &str) {
        crate::write_note(&format!("SKIPPED on {}: {test}: {why}", self.module.name()));
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
