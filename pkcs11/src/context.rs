//! The shared module lifecycle: one loaded, initialized module per process, shared by
//! every [`Pkcs11`] handle and every session made from one.
//!
//! - A process-wide registry keyed by module identity (device and inode of the file, so
//!   a symlink is the same module) hands out one [`Inner`] per module. Concurrent opens
//!   make exactly one `C_Initialize`; re-entering `open` from the same thread while it
//!   initializes is an error, not a deadlock.
//! - `C_Initialize` gets `CKF_OS_LOCKING_OK` (never NULL arguments: SoftHSM corrupts its
//!   heap when used from several threads after a NULL initialization).
//! - `CKR_CRYPTOKI_ALREADY_INITIALIZED` means another component of the process owns the
//!   initialization: the module is adopted and never finalized by us.
//! - The last handle to go (sessions hold one) calls `C_Finalize`, under the registry
//!   lock so that a concurrent open cannot adopt a module that is being finalized.
//! - A fork child sees every call refused with [`Error::Forked`] without the module being
//!   touched (an atfork handler bumps a counter, nothing more); destructors stay silent;
//!   opening the module again in the child initializes it anew.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, Once, Weak};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::raw::lifecycle::{self, InitArgs};

/// A handle to an initialized PKCS #11 module, shared process-wide.
///
/// Cheap to clone; every clone and every session made from it keeps the module
/// initialized. `C_Finalize` runs when the last of them is dropped (unless the module
/// was initialized by another component of the process, see [`Pkcs11::is_adopted`]).
///
/// ```no_run
/// use pkcs11::Pkcs11;
///
/// let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
/// let again = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?; // same initialization
/// assert!(p11.same_module(&again));
/// # Ok::<(), pkcs11::Error>(())
/// ```
#[derive(Clone)]
pub struct Pkcs11 {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Pkcs11 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pkcs11")
            .field("path", &self.inner.path)
            .field("adopted", &!self.inner.owns_initialization)
            .finish_non_exhaustive()
    }
}

/// The identity of a module file: device and inode where the platform has them.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ModuleKey {
    #[cfg(unix)]
    File {
        dev: u64,
        ino: u64,
    },
    Path(PathBuf),
}

/// How many counters the calls in flight are spread over (see [`InFlightCount`]).
const SHARDS: usize = 16;

/// One counter on its own cache line, so that threads counting their calls do not
/// contend for one line.
#[repr(align(128))]
#[derive(Default)]
struct Shard(AtomicUsize);

/// The calls in flight, counted per thread group, and whether the module is closed.
///
/// A call increments its thread's shard, then checks `closed`; finalization sets
/// `closed`, then waits for every shard to drain. With sequentially consistent
/// operations on both sides, either the call sees `closed` (and backs out) or the
/// finalization sees the call (and waits for it).
#[derive(Default)]
struct InFlightCount {
    closed: AtomicBool,
    shards: [Shard; SHARDS],
}

impl InFlightCount {
    /// This thread's shard (threads are spread round-robin).
    #[inline]
    fn shard(&self) -> &AtomicUsize {
        /// `INDEX` before this thread's first call.
        const UNASSIGNED: u8 = u8::MAX;
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        thread_local! {
            // A `const` thread-local without destructor: one load, no lazy-init state.
            static INDEX: Cell<u8> = const { Cell::new(UNASSIGNED) };
        }
        let mut index = INDEX.with(Cell::get);
        if index == UNASSIGNED {
            // Lossless: SHARDS is far below u8::MAX.
            index = (NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS) as u8;
            INDEX.with(|i| i.set(index));
        }
        &self.shards[usize::from(index) % SHARDS].0
    }

    fn is_closed(&self) -> bool {
        self.closed.load(Ordering::SeqCst)
    }

    /// Closes; returns whether it was already closed.
    fn close(&self) -> bool {
        self.closed.swap(true, Ordering::SeqCst)
    }

    fn busy(&self) -> bool {
        self.shards.iter().any(|s| s.0.load(Ordering::SeqCst) != 0)
    }
}

/// One initialized module: the tables, and what is needed to finalize it correctly.
pub(crate) struct Inner {
    module: ffi::Module,
    path: PathBuf,
    /// The fork generation in which the module was initialized.
    fork_generation: usize,
    /// Whether our `C_Initialize` initialized it (else it was adopted).
    owns_initialization: bool,
    /// Calls in flight, and whether the module is closed.
    state: InFlightCount,
    // -- callbacks (callback.rs) --
    /// Callback state that must live as long as the initialization (dropped after
    /// `C_Finalize`): notification user data, the application mutex type's name.
    pub(crate) callbacks: crate::callback::ModuleCallbacks,
    // -- end callbacks --
}

/// Incremented in every fork child (the only thing the atfork handler does).
static FORK_GENERATION: AtomicUsize = AtomicUsize::new(0);

/// Live modules by identity.
static REGISTRY: Mutex<Vec<(ModuleKey, Weak<Inner>)>> = Mutex::new(Vec::new());

thread_local! {
    /// Set while this thread holds the registry lock (to refuse re-entry).
    static IN_REGISTRY: Cell<bool> = const { Cell::new(false) };
}

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

fn watch_forks() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| lifecycle::on_fork_in_child(after_fork_in_child));
}

/// The registry, locked, with re-entry from the same thread refused.
struct RegistryGuard {
    guard: MutexGuard<'static, Vec<(ModuleKey, Weak<Inner>)>>,
}

impl RegistryGuard {
    fn lock() -> Result<RegistryGuard> {
        if IN_REGISTRY.with(Cell::get) {
            return Err(Error::InvalidInput {
                what: "Pkcs11::open re-entered from the thread that is initializing a \
                       module (e.g. from a mutex callback)"
                    .into(),
            });
        }
        let guard = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        IN_REGISTRY.with(|flag| flag.set(true));
        Ok(RegistryGuard { guard })
    }
}

impl Drop for RegistryGuard {
    fn drop(&mut self) {
        IN_REGISTRY.with(|flag| flag.set(false));
    }
}

fn identify(path: &Path) -> ModuleKey {
    match std::fs::canonicalize(path) {
        #[cfg(unix)]
        Ok(canonical) => {
            use std::os::unix::fs::MetadataExt;
            match std::fs::metadata(&canonical) {
                Ok(meta) => ModuleKey::File {
                    dev: meta.dev(),
                    ino: meta.ino(),
                },
                Err(_) => ModuleKey::Path(canonical),
            }
        }
        #[cfg(not(unix))]
        Ok(canonical) => ModuleKey::Path(canonical),
        // A bare library name, found by the dynamic loader's search.
        Err(_) => ModuleKey::Path(path.to_path_buf()),
    }
}

impl Pkcs11 {
    /// Opens the module at `path`, initializing it for multi-threaded use if no other
    /// handle in this process has (`C_Initialize` with `CKF_OS_LOCKING_OK`).
    ///
    /// Opening a module that is already open — by the same path, another path or a
    /// symlink to the same file — returns a handle to the same initialization.
    ///
    /// # Errors
    /// [`Error::Load`] if the module cannot be loaded; [`Error::Module`] naming
    /// `C_Initialize` if it refuses to initialize.
    #[doc(alias = "C_Initialize")]
    pub fn open(path: impl AsRef<Path>) -> Result<Pkcs11> {
        Self::open_with(path.as_ref(), &mut InitArgs::os_locking())
    }

    /// Opens with explicit initialization arguments (see [`Pkcs11::open`]).
    pub(crate) fn open_with(path: &Path, args: &mut InitArgs) -> Result<Pkcs11> {
        watch_forks();
        let key = identify(path);
        let generation = FORK_GENERATION.load(Ordering::Relaxed);
        // Stale entries are dropped only after the registry lock is released.
        let mut stale: Vec<Arc<Inner>> = Vec::new();
        let mut registry = RegistryGuard::lock()?;
        let entries = &mut registry.guard;
        let mut found = None;
        entries.retain(|(known, weak)| {
            let Some(inner) = weak.upgrade() else {
                return false;
            };
            if inner.fork_generation != generation || inner.is_closed() {
                stale.push(inner);
                return false;
            }
            if *known == key {
                found = Some(inner);
            }
            true
        });
        if let Some(inner) = found {
            drop(registry);
            drop(stale);
            return Ok(Pkcs11 { inner });
        }
        let module = ffi::Module::load(path)?;
        let mut inner = Inner {
            module,
            path: path.to_path_buf(),
            fork_generation: generation,
            owns_initialization: false,
            state: InFlightCount::default(),
            callbacks: crate::callback::ModuleCallbacks::new(args), // callbacks (callback.rs)
        };
        let returned = lifecycle::initialize(&inner, args)?;
        inner.owns_initialization = match returned.rv {
            ffi::CKR_OK => true,
            ffi::CKR_CRYPTOKI_ALREADY_INITIALIZED => false,
            // Not initialized by us: dropping `inner` finalizes nothing.
            _ => return Err(returned.error()),
        };
        let inner = Arc::new(inner);
        registry.guard.push((key, Arc::downgrade(&inner)));
        drop(registry);
        drop(stale);
        Ok(Pkcs11 { inner })
    }

    /// Whether another component of the process had initialized the module before us
    /// (`CKR_CRYPTOKI_ALREADY_INITIALIZED`): then we never call `C_Finalize`.
    pub fn is_adopted(&self) -> bool {
        !self.inner.owns_initialization
    }

    /// Whether two handles share one module initialization.
    pub fn same_module(&self, other: &Pkcs11) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The path the module was opened with.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// The negotiated interface version (3.2, 3.0, or 2.x).
    pub fn interface_version(&self) -> crate::Version {
        crate::Version::from(self.inner.module.version())
    }

    /// The raw module: its negotiated function tables, for calls this crate does not
    /// wrap. Calls made through it bypass the fork and finalization checks.
    pub fn raw_module(&self) -> &ffi::Module {
        &self.inner.module
    }

    /// Finalizes the module now, for every handle and session of this process.
    ///
    /// Waits for calls in flight on other threads to return (threads blocked in
    /// `C_WaitForSlotEvent` are woken by the finalization instead); afterwards every
    /// call through any handle or session of this initialization fails with
    /// [`Error::Finalized`] without reaching the module. An adopted module is not
    /// finalized (another component owns its initialization). In a fork child nothing
    /// is called.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_Finalize` if the module refuses.
    #[doc(alias = "C_Finalize")]
    pub fn finalize(self) -> Result<()> {
        let inner = &self.inner;
        if inner.state.close() {
            return Ok(()); // already finalized
        }
        let registry = RegistryGuard::lock();
        let result = if inner.owns_initialization && !inner.is_forked() {
            while inner.state.busy() {
                std::thread::sleep(Duration::from_millis(1));
            }
            inner.finalize_now()
        } else {
            Ok(())
        };
        if let Ok(mut registry) = registry {
            registry
                .guard
                .retain(|(_, weak)| !std::ptr::eq(weak.as_ptr(), Arc::as_ptr(inner)));
        }
        result
    }
}

/// An in-flight call; dropping it ends the call.
pub(crate) struct InFlight<'a> {
    shard: &'a AtomicUsize,
}

impl Drop for InFlight<'_> {
    #[inline]
    fn drop(&mut self) {
        self.shard.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Inner {
    /// The 2.x table (every version's table begins with it).
    #[inline]
    pub(crate) fn functions(&self) -> &ffi::CK_FUNCTION_LIST {
        self.module.functions()
    }

    /// The 3.0 table, if negotiated.
    #[inline]
    pub(crate) fn functions_3_0(&self) -> Option<&ffi::CK_FUNCTION_LIST_3_0> {
        self.module.functions_3_0().map(|f| &**f)
    }

    /// The 3.2 table, if negotiated (for `call_3_2!`; the 3.2 operations are issue 4's).
    #[inline]
    #[allow(dead_code)]
    pub(crate) fn functions_3_2(&self) -> Option<&ffi::CK_FUNCTION_LIST_3_2> {
        self.module.functions_3_2().map(|f| &**f)
    }

    fn is_forked(&self) -> bool {
        FORK_GENERATION.load(Ordering::Relaxed) != self.fork_generation
    }

    fn is_closed(&self) -> bool {
        self.state.is_closed()
    }

    /// Whether calls would reach the module (not forked, not finalized).
    pub(crate) fn is_usable(&self) -> bool {
        !self.is_forked() && !self.is_closed()
    }

    /// Admits one call, or refuses it in a fork child or after finalization.
    #[inline]
    pub(crate) fn enter(&self) -> Result<InFlight<'_>> {
        if self.is_forked() {
            return Err(Error::Forked);
        }
        let shard = self.state.shard();
        shard.fetch_add(1, Ordering::SeqCst);
        let in_flight = InFlight { shard };
        if self.state.is_closed() {
            return Err(Error::Finalized);
        }
        Ok(in_flight)
    }

    /// Admits a call that may block until finalization (`C_WaitForSlotEvent`): it is
    /// refused after fork or finalization but not counted, so that an explicit finalize
    /// does not wait for it (`C_Finalize` wakes it instead).
    pub(crate) fn enter_waiting(&self) -> Result<()> {
        if self.is_forked() {
            return Err(Error::Forked);
        }
        if self.is_closed() {
            return Err(Error::Finalized);
        }
        Ok(())
    }

    fn finalize_now(&self) -> Result<()> {
        lifecycle::finalize(self)
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        // -- fork (safe_fork.rs) --
        if self.is_forked() {
            // Unloading the library in a fork child would run the module's destructors
            // (SoftHSM's close its sessions and destroy its mutexes): keep it loaded for
            // the rest of the process instead (RELIABILITY rule 30).
            std::mem::forget(self.module.functions().clone());
            return;
        }
        // -- end fork --
        if !self.owns_initialization || self.is_closed() {
            return;
        }
        // Under the registry lock, so that no concurrent open adopts the module while it
        // is being finalized. (No `Arc<Inner>` is ever dropped while the lock is held.)
        let registry = REGISTRY.lock().unwrap_or_else(|e| e.into_inner());
        if let Err(error) = self.finalize_now() {
            log_error(&error);
        }
        drop(registry);
    }
}

/// Reports an error that a destructor cannot return.
pub(crate) fn log_error(error: &Error) {
    if std::env::var_os("PKCS11_RS_QUIET").is_none() {
        eprintln!("pkcs11: {error}");
    }
}
