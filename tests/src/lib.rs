//! Shared helpers of the integration suites: throwaway SoftHSMv2 tokens and a C compiler
//! for small test libraries.
//!
//! A test that needs a module or a tool that is missing fails with the install command;
//! it never passes silently.

pub mod alloc;
pub mod fault;
pub mod interop;
pub mod modules;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// Where Debian and other distributions install the SoftHSMv2 module.
const SOFTHSM_CANDIDATES: &[&str] = &[
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/softhsm/libsofthsm2.so",
    "/usr/lib64/pkcs11/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// The SoftHSMv2 module (`$SOFTHSM2_MODULE`, else a standard location).
///
/// # Panics
/// When it is not installed, with the command that installs it.
pub fn softhsm_module() -> PathBuf {
    if let Some(path) = std::env::var_os("SOFTHSM2_MODULE") {
        return PathBuf::from(path);
    }
    SOFTHSM_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "SoftHSMv2 is not installed (looked in {SOFTHSM_CANDIDATES:?}): run \
                 `cargo xtask test`, or `apt-get install softhsm2`, or set SOFTHSM2_MODULE"
            )
        })
}

/// A fresh directory under the system's temporary directory, removed on drop.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `<tmp>/pkcs11-tests-<pid>-<n>-<tag>`.
    ///
    /// # Panics
    /// If the directory cannot be created.
    pub fn new(tag: &str) -> TempDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path =
            std::env::temp_dir().join(format!("pkcs11-tests-{}-{n}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir { path }
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A throwaway SoftHSMv2 token: its own configuration file and token directory.
#[derive(Debug)]
pub struct SoftHsmToken {
    dir: TempDir,
    conf: PathBuf,
    label: String,
    /// The security officer's PIN.
    pub so_pin: &'static str,
    /// The user's PIN.
    pub user_pin: &'static str,
}

impl SoftHsmToken {
    /// Creates and initializes a token labelled `label` with `softhsm2-util`.
    ///
    /// SoftHSM reads `SOFTHSM2_CONF` in `C_Initialize`: export [`SoftHsmToken::conf`]
    /// (see [`SoftHsmToken::export`]) before initializing the module.
    ///
    /// # Panics
    /// If SoftHSM is missing or the token cannot be created.
    pub fn new(label: &str) -> SoftHsmToken {
        let _ = softhsm_module();
        let dir = TempDir::new("softhsm");
        let tokens = dir.path().join("tokens");
        std::fs::create_dir_all(&tokens).expect("create token directory");
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
                tokens.display()
            ),
        )
        .expect("write softhsm2.conf");
        let token = SoftHsmToken {
            dir,
            conf,
            label: label.to_owned(),
            so_pin: "so-pin-1234",
            user_pin: "user-pin-1234",
        };
        let output = Command::new("softhsm2-util")
            .args(["--init-token", "--free", "--label", label])
            .args(["--so-pin", token.so_pin, "--pin", token.user_pin])
            .env("SOFTHSM2_CONF", &token.conf)
            .output()
            .unwrap_or_else(|e| {
                panic!("cannot run softhsm2-util ({e}): run `apt-get install softhsm2`")
            });
        assert!(
            output.status.success(),
            "softhsm2-util --init-token failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        token
    }

    /// The configuration file to export as `SOFTHSM2_CONF`.
    pub fn conf(&self) -> &Path {
        &self.conf
    }

    /// The token label.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The token's directory.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Sets `SOFTHSM2_CONF` for this process. Call it before the module's `C_Initialize`,
    /// from a test binary whose SoftHSM tests all share this one token.
    pub fn export(&self) {
        std::env::set_var("SOFTHSM2_CONF", &self.conf);
    }
}

/// Compiles C `source` into the shared library `dir/name` with the system C compiler.
///
/// `extra` are additional compiler arguments (libraries to link, ...).
///
/// # Panics
/// If there is no C compiler (with the install command) or compilation fails.
pub fn compile_shared_library(dir: &Path, name: &str, source: &str, extra: &[&str]) -> PathBuf {
    let c_file = dir.join(format!("{name}.c"));
    std::fs::write(&c_file, source).expect("write C source");
    let output_path = dir.join(name);
    let output = Command::new("cc")
        .args(["-shared", "-fPIC", "-o"])
        .arg(&output_path)
        .arg(&c_file)
        .args(extra)
        .output()
        .unwrap_or_else(|e| panic!("cannot run the C compiler `cc` ({e}): apt-get install gcc"));
    assert!(
        output.status.success(),
        "cc failed on {}:\n{}",
        c_file.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    output_path
}

/// Aborts the process with a message unless dropped within a time limit: a test that
/// deadlocks must fail the run, not hang it.
///
/// ```no_run
/// let _watchdog = pkcs11_tests::Watchdog::new("my test", std::time::Duration::from_secs(30));
/// // ... the test; the watchdog is disarmed when `_watchdog` is dropped.
/// ```
#[derive(Debug)]
pub struct Watchdog {
    done: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Watchdog {
    /// Starts a thread that aborts the process if this watchdog is still alive after
    /// `limit`; `what` names the test in the message.
    pub fn new(what: &'static str, limit: std::time::Duration) -> Watchdog {
        let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = std::sync::Arc::clone(&done);
        std::thread::spawn(move || {
            use std::io::Write as _;
            let start = std::time::Instant::now();
            while !flag.load(Ordering::Acquire) {
                if start.elapsed() > limit {
                    // Straight to the process's stderr: the test harness captures
                    // `eprintln!` of test threads and would lose it in the abort.
                    let _ = writeln!(
                        std::io::stderr(),
                        "WATCHDOG: {what} did not finish within {limit:?}: deadlock?"
                    );
                    std::process::abort();
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        Watchdog { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        self.done.store(true, Ordering::Release);
    }
}

/// `C_GetInfo` through a separately loaded SoftHSM table, bypassing the safe crate:
/// `CKR_OK` while the module is initialized in this process,
/// `CKR_CRYPTOKI_NOT_INITIALIZED` once it is finalized.
///
/// # Panics
/// If SoftHSM cannot be loaded.
pub fn softhsm_get_info_rv() -> pkcs11_sys::CK_RV {
    let module = pkcs11_sys::Module::load(softhsm_module()).expect("load SoftHSM");
    let mut info = pkcs11_sys::CK_INFO::default();
    let get_info = module.functions().C_GetInfo.expect("SoftHSM has C_GetInfo");
    // SAFETY: `info` is a writable CK_INFO that outlives the call.
    unsafe { get_info(&mut info) }
}

/// The SoftHSM token of this test process, created labelled `label` and exported (see
/// [`SoftHsmToken::export`]) on the first call; it lives, with its directory, until the
/// process exits.
///
/// One per process: the first call's `label` wins and later calls get the same token
/// whatever label they pass, so a test binary should pass one label everywhere (wrap
/// it in a local `token()`). SoftHSM reads `SOFTHSM2_CONF` once per initialization (in
/// `C_Initialize`), so call this before the module is first initialized, and do not
/// export another token while the module is initialized.
///
/// # Panics
/// If SoftHSM is missing or the token cannot be created (see [`SoftHsmToken::new`]).
pub fn shared_softhsm_token(label: &str) -> &'static SoftHsmToken {
    static TOKEN: OnceLock<SoftHsmToken> = OnceLock::new();
    TOKEN.get_or_init(|| {
        remove_dead_processes_dirs(&std::env::temp_dir(), "softhsm");
        let token = SoftHsmToken::new(label);
        token.export();
        token
    })
}

/// Serializes the SoftHSM tests of this process: SoftHSM is one instance per process,
/// so each test holds the returned guard for its whole `C_Initialize` .. `C_Finalize`
/// (or its use of a shared session).
///
/// A test that panicked while holding its turn does not poison the others: the lock is
/// taken back from a poisoned mutex.
pub fn take_turn() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// [`take_turn`] for binaries whose every test leaves the module finalized: with the
/// turn held, makes sure the token exists and is exported (`token`, typically a
/// binary's wrapper of [`shared_softhsm_token`]) and asserts that SoftHSM is not
/// initialized in this process (see [`softhsm_get_info_rv`]).
///
/// # Panics
/// If the module is still initialized: a previous test did not finalize it.
pub fn take_finalized_turn(
    token: impl FnOnce() -> &'static SoftHsmToken,
) -> MutexGuard<'static, ()> {
    let guard = take_turn();
    let _ = token();
    assert_eq!(
        softhsm_get_info_rv(),
        pkcs11_sys::CKR_CRYPTOKI_NOT_INITIALIZED,
        "every test leaves the module finalized"
    );
    guard
}

/// Removes `<tmp>/pkcs11-tests-<pid>-<n>-<tag>` directories whose process has exited
/// (the per-process tokens live in statics that are never dropped, so each process
/// sweeps up after the dead ones)
/// (Linux: no `/proc/<pid>`). A pid that was reused keeps its directory: harmless.
pub fn remove_dead_processes_dirs(tmp: &Path, tag: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(tmp) else {
        return;
    };
    let suffix = format!("-{tag}");
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|name| name.strip_prefix("pkcs11-tests-"))
            .filter(|rest| rest.ends_with(&suffix))
        else {
            continue;
        };
        let Some(pid) = rest
            .split('-')
            .next()
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if pid != std::process::id() && !Path::new("/proc").join(pid.to_string()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Writes `line` to the process's standard error directly, past the test harness's
/// output capture (which hides `eprintln!` of passing tests): for what a reader of the
/// test output must see — a skipped check, a module defect accepted by name.
pub fn write_note(line: &str) {
    let _ = std::io::Write::write_all(&mut std::io::stderr(), format!("{line}\n").as_bytes());
}

/// `eprintln!` that the test harness does not capture (see [`write_note`]).
#[macro_export]
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::write_note(&format!($($arg)*))
    };
}
