//! The fault module (`tests/fault-module`) from the tests: build it once per test
//! process, load private copies of it, steer them through their control functions and
//! read their call counters.
//!
//! ```no_run
//! use pkcs11_tests::fault::{FaultModule, SLOT};
//!
//! let module = FaultModule::new("my_test");
//! module.set_plan("C_GenerateRandom:rv=CKR_DEVICE_ERROR@2");
//! let p11 = module.open().unwrap();
//! let session = p11.slot(SLOT).open_ro_session().unwrap();
//! assert!(session.generate_random(8).is_ok());
//! assert!(session.generate_random(8).is_err());
//! assert_eq!(module.calls("C_GenerateRandom"), 2);
//! ```
//!
//! Every copy is its own file, so it is its own module to the dynamic loader and to the
//! safe crate's registry (keyed by device and inode): its own plan, state and counters.
//! A copy is deleted when its [`FaultModule`] is dropped (a library still loaded keeps
//! its unlinked file, and its inode, until it is unloaded).

use std::ffi::{c_char, c_int, CString};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use pkcs11_sys::{
    CKM_VENDOR_DEFINED, CK_MECHANISM_TYPE, CK_NOTIFICATION, CK_RV, CK_SESSION_HANDLE, CK_SLOT_ID,
    CK_USER_TYPE,
};

/// The slot whose token (`fault-token`) is initialized, with [`SO_PIN`] and
/// [`USER_PIN`].
pub const SLOT: CK_SLOT_ID = 1;
/// The slot whose token is not initialized yet.
pub const UNINITIALIZED_SLOT: CK_SLOT_ID = 2;
/// The label of the token in [`SLOT`].
pub const TOKEN_LABEL: &str = "fault-token";
/// The security officer's PIN of the token in [`SLOT`].
pub const SO_PIN: &str = "so-pin-1234";
/// The user's PIN of the token in [`SLOT`].
pub const USER_PIN: &str = "user-pin-1234";
/// The module's XOR cipher (encrypt, decrypt, wrap, unwrap with a secret key).
pub const CKM_FAULT_XOR: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED + 1;
/// The module's keyed SHA-256 MAC (HMAC-SHA-256; sign, verify with a secret key).
pub const CKM_FAULT_MAC: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED + 2;

/// How long the nested `cargo build` of the fault module may take before the test gives
/// up (rather than hang, e.g. on a build-directory lock).
const BUILD_TIMEOUT: Duration = Duration::from_secs(600);

// ---------------------------------------------------------------------------------------
// Building and copying
// ---------------------------------------------------------------------------------------

/// The freshly built fault module (built once per test process).
///
/// # Panics
/// If cargo cannot build it.
pub fn built_module() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_module)
}

/// Runs `cargo build -p pkcs11-fault-module` and returns the cdylib it reports.
///
/// The build sees the same configuration as the `cargo test` that runs the test (a
/// `build.target` from the environment or a config file included), and the lock on the
/// build directory is free: cargo releases it before it runs the tests. A `--target` given
/// on the command line of `cargo test` alone is not seen; the module is then built for the
/// host.
fn build_module() -> PathBuf {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace");
    let mut child = Command::new(env!("CARGO"))
        .args(["build", "--package", "pkcs11-fault-module"])
        .args(["--message-format", "json-render-diagnostics"])
        .arg("--manifest-path")
        .arg(workspace.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} to build the fault module: {e}",
                env!("CARGO")
            )
        });
    let stdout = child.stdout.take().expect("piped");
    let stderr = child.stderr.take().expect("piped");
    let stdout = std::thread::spawn(move || std::io::read_to_string(stdout).unwrap_or_default());
    let stderr = std::thread::spawn(move || std::io::read_to_string(stderr).unwrap_or_default());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for cargo") {
            break status;
        }
        if started.elapsed() > BUILD_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`cargo build -p pkcs11-fault-module` did not finish in {BUILD_TIMEOUT:?}; \
                 stderr:\n{}",
                stderr.join().unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    assert!(
        status.success(),
        "`cargo build -p pkcs11-fault-module` failed ({status}):\n{stderr}"
    );
    let file_name = format!(
        "{}pkcs11_fault_module{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    stdout
        .lines()
        .filter(|line| line.contains(r#""reason":"compiler-artifact""#))
        .flat_map(json_strings)
        .map(PathBuf::from)
        .find(|path| {
            path.file_name()
                .is_some_and(|name| name == file_name.as_str())
        })
        .unwrap_or_else(|| {
            panic!("cargo built no {file_name}; its messages:\n{stdout}\nstderr:\n{stderr}")
        })
}

/// The string values of one line of cargo's JSON messages (enough to find artifact paths
/// without a JSON parser: keys come out too, and are filtered out by the caller).
fn json_strings(line: &str) -> Vec<String> {
    let mut strings = Vec::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut value = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => value.push('\n'),
                    Some('t') => value.push('\t'),
                    Some(other) => value.push(other), // \" \\ \/ (\u is not in paths we use)
                    None => break,
                },
                other => value.push(other),
            }
        }
        strings.push(value);
    }
    strings
}

/// This process's directory of copies, `<target>/<profile>/fault-module-copies/<pid>`;
/// directories left by processes that are gone are removed on first use.
fn copies_directory() -> &'static Path {
    static DIRECTORY: OnceLock<PathBuf> = OnceLock::new();
    DIRECTORY.get_or_init(|| {
        let parent = built_module()
            .parent()
            .expect("the module has a directory")
            .join("fault-module-copies");
        if let Ok(entries) = std::fs::read_dir(&parent) {
            for entry in entries.flatten() {
                let gone = entry
                    .file_name()
                    .to_str()
                    .and_then(|name| name.parse::<u32>().ok())
                    .is_some_and(|pid| {
                        Path::new("/proc/self").exists()
                            && !Path::new(&format!("/proc/{pid}")).exists()
                    });
                if gone {
                    let _ = std::fs::remove_dir_all(entry.path());
                }
            }
        }
        let directory = parent.join(std::process::id().to_string());
        std::fs::create_dir_all(&directory)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", directory.display()));
        directory
    })
}

/// A fresh copy of the built module named `file_name` (plus the platform's suffix if it
/// has no extension) in this process's directory of copies.
///
/// # Panics
/// If the module cannot be built or copied.
pub fn copy_module(file_name: &str) -> PathBuf {
    let file_name = if Path::new(file_name).extension().is_some() {
        file_name.to_owned()
    } else {
        format!("{file_name}{}", std::env::consts::DLL_SUFFIX)
    };
    let copy = copies_directory().join(file_name);
    // Copy, then rename over: whoever still runs an older copy keeps its file.
    let partial = copy.with_extension("partial");
    std::fs::copy(built_module(), &partial)
        .unwrap_or_else(|e| panic!("cannot copy the fault module to {}: {e}", partial.display()));
    std::fs::rename(&partial, &copy)
        .unwrap_or_else(|e| panic!("cannot rename {}: {e}", partial.display()));
    copy
}

/// A file-name-safe version of `tag`.
fn sanitize(tag: &str) -> String {
    tag.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// A number unique in this process.
fn unique() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------
// A copy and its control functions
// ---------------------------------------------------------------------------------------

/// Where [`FaultModule::notify`] calls the session's `CK_NOTIFY` from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NotifyFrom {
    /// The calling thread.
    ThisThread,
    /// A new thread of the module, waited for.
    ModuleThread,
    /// A new thread of the module, not waited for (the answer is not known).
    ModuleThreadDetached,
}

/// The control functions of one loaded copy.
struct Control {
    plan_set: unsafe extern "C" fn(*const c_char) -> c_int,
    plan_append: unsafe extern "C" fn(*const c_char) -> c_int,
    plan_clear: extern "C" fn(),
    plan_error: unsafe extern "C" fn(*mut c_char, usize) -> usize,
    calls: unsafe extern "C" fn(*const c_char) -> u64,
    calls_total: extern "C" fn() -> u64,
    calls_reset: extern "C" fn(),
    raise_slot_event: extern "C" fn(CK_SLOT_ID) -> c_int,
    notify: extern "C" fn(CK_SESSION_HANDLE, CK_NOTIFICATION, c_int) -> i64,
    initialized: extern "C" fn() -> c_int,
    open_sessions: extern "C" fn() -> u64,
    objects: extern "C" fn() -> u64,
    login_state: extern "C" fn(CK_SLOT_ID) -> i64,
    // Keeps the functions above loaded.
    _library: libloading::Library,
}

/// Resolves `name` in `library` as a `T` (a function pointer type).
///
/// # Safety
/// `T` is the symbol's true type.
unsafe fn symbol<T: Copy>(library: &libloading::Library, name: &str) -> T {
    // SAFETY: the caller's contract.
    let symbol = unsafe { library.get::<T>(name.as_bytes()) }
        .unwrap_or_else(|e| panic!("the fault module does not export {name}: {e}"));
    *symbol
}

impl Control {
    fn open(path: &Path) -> Control {
        // SAFETY: loading runs only the Rust runtime's initializers; the fault module has
        // none of its own.
        let library = unsafe { libloading::Library::new(path) }
            .unwrap_or_else(|e| panic!("cannot load {}: {e}", path.display()));
        // SAFETY: each type is the signature in tests/fault-module/src/control.rs.
        unsafe {
            Control {
                plan_set: symbol(&library, "fault_plan_set"),
                plan_append: symbol(&library, "fault_plan_append"),
                plan_clear: symbol(&library, "fault_plan_clear"),
                plan_error: symbol(&library, "fault_plan_error"),
                calls: symbol(&library, "fault_calls"),
                calls_total: symbol(&library, "fault_calls_total"),
                calls_reset: symbol(&library, "fault_calls_reset"),
                raise_slot_event: symbol(&library, "fault_raise_slot_event"),
                notify: symbol(&library, "fault_notify"),
                initialized: symbol(&library, "fault_initialized"),
                open_sessions: symbol(&library, "fault_open_sessions"),
                objects: symbol(&library, "fault_objects"),
                login_state: symbol(&library, "fault_login_state"),
                _library: library,
            }
        }
    }
}

/// A private copy of the fault module, loaded for its control functions.
///
/// The copy is loaded (with `dlopen`) when this is made, so a plan set now is in force
/// when the binding loads the same file ([`FaultModule::open`], [`FaultModule::load`]),
/// and the counters survive a failed load. The file is deleted on drop.
pub struct FaultModule {
    path: PathBuf,
    control: Control,
}

impl std::fmt::Debug for FaultModule {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultModule")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl FaultModule {
    /// A copy with the empty plan (`fault-normal--<tag>-<n>.so`: the environment
    /// variable `PKCS11_FAULT_PLAN` does not apply); set one with
    /// [`FaultModule::set_plan`].
    pub fn new(tag: &str) -> FaultModule {
        FaultModule::with_file_plan("normal", tag)
    }

    /// A copy whose file name carries `plan`: `fault-<plan>--<tag>-<n>.so` (the plan
    /// must not contain `/`).
    pub fn with_file_plan(plan: &str, tag: &str) -> FaultModule {
        let name = format!("fault-{plan}--{}-{}", sanitize(tag), unique());
        FaultModule::named(&name)
    }

    /// A copy named exactly `file_name` (unique in this process); a name that does not
    /// start with `fault-` carries no plan, so the module reads `PKCS11_FAULT_PLAN`.
    pub fn named(file_name: &str) -> FaultModule {
        let path = copy_module(file_name);
        let control = Control::open(&path);
        FaultModule { path, control }
    }

    /// The copy's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opens the copy with the safe crate (`Pkcs11::open`).
    ///
    /// # Errors
    /// What `Pkcs11::open` returns.
    pub fn open(&self) -> pkcs11::Result<pkcs11::Pkcs11> {
        pkcs11::Pkcs11::open(&self.path)
    }

    /// Loads the copy with the sys crate's loader (`pkcs11_sys::Module::load`).
    ///
    /// # Errors
    /// What the loader returns.
    pub fn load(&self) -> Result<pkcs11_sys::Module, pkcs11_sys::LoadError> {
        pkcs11_sys::Module::load(&self.path)
    }

    /// Replaces the plan (the grammar of the fault module's crate documentation).
    ///
    /// # Errors
    /// The module's message if `plan` does not parse (the plan is then unchanged).
    pub fn try_set_plan(&self, plan: &str) -> Result<(), String> {
        self.plan_call(self.control.plan_set, plan)
    }

    /// Replaces the plan.
    ///
    /// # Panics
    /// If `plan` does not parse.
    pub fn set_plan(&self, plan: &str) {
        self.try_set_plan(plan)
            .unwrap_or_else(|e| panic!("fault plan `{plan}`: {e}"));
    }

    /// Adds the items of `plan` to the current plan.
    ///
    /// # Panics
    /// If `plan` does not parse.
    pub fn append_plan(&self, plan: &str) {
        self.plan_call(self.control.plan_append, plan)
            .unwrap_or_else(|e| panic!("fault plan `{plan}`: {e}"));
    }

    /// Goes back to the empty plan.
    pub fn clear_plan(&self) {
        (self.control.plan_clear)();
    }

    fn plan_call(
        &self,
        f: unsafe extern "C" fn(*const c_char) -> c_int,
        plan: &str,
    ) -> Result<(), String> {
        let text = CString::new(plan).map_err(|_| "the plan contains a NUL".to_owned())?;
        // SAFETY: a NUL-terminated string; the library is loaded while `self` lives.
        if unsafe { f(text.as_ptr()) } == 0 {
            return Ok(());
        }
        let mut buffer = vec![0u8; 512];
        // SAFETY: `buffer` holds its length in writable bytes.
        let len = unsafe { (self.control.plan_error)(buffer.as_mut_ptr().cast(), buffer.len()) };
        buffer.truncate(len.min(buffer.len() - 1));
        Err(String::from_utf8_lossy(&buffer).into_owned())
    }

    /// How many times the module's function `name` (`"C_Sign"`) was called.
    ///
    /// # Panics
    /// If the module has no function of that name.
    pub fn calls(&self, name: &str) -> u64 {
        let c_name = CString::new(name).expect("a function name without NUL");
        // SAFETY: a NUL-terminated string; the library is loaded while `self` lives.
        let count = unsafe { (self.control.calls)(c_name.as_ptr()) };
        assert_ne!(count, u64::MAX, "the fault module has no function {name}");
        count
    }

    /// The calls of all functions of the module.
    pub fn calls_total(&self) -> u64 {
        (self.control.calls_total)()
    }

    /// Sets every call counter back to zero.
    pub fn reset_calls(&self) {
        (self.control.calls_reset)();
    }

    /// Raises a slot event for `slot`; false if the module is not initialized or has no
    /// such slot.
    pub fn raise_slot_event(&self, slot: CK_SLOT_ID) -> bool {
        (self.control.raise_slot_event)(slot) == 0
    }

    /// Calls the `CK_NOTIFY` given to `C_OpenSession` for `session` (also after the
    /// session's close, until `C_Finalize`) with `event`, from `from`. The callback's
    /// answer (`CKR_OK` for a detached thread), or `None` if the session had none.
    pub fn notify(
        &self,
        session: CK_SESSION_HANDLE,
        event: CK_NOTIFICATION,
        from: NotifyFrom,
    ) -> Option<CK_RV> {
        let mode = match from {
            NotifyFrom::ThisThread => 0,
            NotifyFrom::ModuleThread => 1,
            NotifyFrom::ModuleThreadDetached => 2,
        };
        let rv = (self.control.notify)(session, event, mode);
        CK_RV::try_from(rv).ok()
    }

    /// Whether the module is initialized.
    pub fn is_initialized(&self) -> bool {
        (self.control.initialized)() != 0
    }

    /// The number of sessions open in the module.
    pub fn open_sessions(&self) -> u64 {
        (self.control.open_sessions)()
    }

    /// The number of objects in the module (token and session objects).
    pub fn objects(&self) -> u64 {
        (self.control.objects)()
    }

    /// Who is logged in on the token in `slot` (`CKU_SO`, `CKU_USER`), if anyone.
    pub fn login_state(&self, slot: CK_SLOT_ID) -> Option<CK_USER_TYPE> {
        CK_USER_TYPE::try_from((self.control.login_state)(slot)).ok()
    }
}

impl Drop for FaultModule {
    fn drop(&mut self) {
        // A library still loaded by the binding keeps the unlinked file.
        let _ = std::fs::remove_file(&self.path);
    }
}
