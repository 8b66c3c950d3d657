//! The benchmark's tokens: the test harness's throwaway SoftHSMv2 and Kryoptic tokens
//! (`pkcs11_tests::modules`; its library part uses the safe crate with default features,
//! so the benchmark measures the crate as users get it), and a copy of the release-built
//! fault module named for its `noop` plan, in a directory of this process.

use std::path::{Path, PathBuf};

use pkcs11::{Pkcs11, Slot};
use pkcs11_tests::modules::{token, Module};

/// The user PIN of every token (the harness's and the fault module's).
pub const USER_PIN: &str = "user-pin-1234";
/// The fault module's initialized token.
pub const FAULT_SLOT: pkcs11_sys::CK_SLOT_ID = 1;
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
    /// The module copy's directory (the harness keeps its tokens for the process).
    pub scratch: Option<Scratch>,
}

/// SoftHSMv2 with the test harness's throwaway token (`pkcs11_tests::modules`).
///
/// # Panics
/// If SoftHSM is missing or the token cannot be made (with what to do).
pub fn softhsm() -> Opened {
    from_harness(Module::SoftHsm)
}

/// Kryoptic (`$KRYOPTIC_MODULE`, else the `cargo xtask kryoptic` cache) with the test
/// harness's throwaway token.
///
/// # Panics
/// If Kryoptic is not built or the token cannot be made (with what to do).
pub fn kryoptic() -> Opened {
    from_harness(Module::Kryoptic)
}

fn from_harness(module: Module) -> Opened {
    let token = token(module);
    assert_eq!(token.user_pin, USER_PIN, "the harness's user PIN");
    Opened {
        path: module.path(),
        slot: token.slot.clone(),
        pin: token.user_pin,
        scratch: None,
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
        scratch: Some(scratch),
    }
}
