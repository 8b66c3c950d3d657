//! Callbacks from the module into Rust: application mutexes (`CK_CREATEMUTEX`,
//! `CK_DESTROYMUTEX`, `CK_LOCKMUTEX`, `CK_UNLOCKMUTEX`) and session notifications
//! (`CK_NOTIFY`).
//!
//! # Panics never unwind into C
//!
//! Every trampoline runs the Rust code under [`std::panic::catch_unwind`]. A panic is
//! caught, the module gets a conservative return value (documented per callback), and
//! the panic is kept to be resumed where Rust code can receive it:
//!
//! - raised on a thread that is inside a module call made by this crate (the usual case:
//!   the module locks its mutexes, or asks a surrender question, while serving our call),
//!   it is resumed on that thread as soon as that call returns, with
//!   [`std::panic::resume_unwind`] — the caller of, say, [`Session::login`] sees the
//!   callback's panic, not an abort;
//! - raised on another thread (a module's own worker thread, asynchronously), it is kept
//!   and resumed on the thread that next calls into the same module through this crate
//!   (for a mutex callback: into any module). The single call helper does not know
//!   which session a call is for, so "the next call through that module" is the finest
//!   delivery it can make without a cost on every call;
//! - a panic that would have to be resumed while the thread is already unwinding is
//!   reported on standard error and dropped (resuming it would abort the process).
//!
//! Only the first pending panic of a thread is kept; later ones are dropped. The check
//! after each module call is one thread-local flag and one relaxed atomic load.
//!
//! # Why application mutexes are a type, not a value
//!
//! `CK_CREATEMUTEX` carries no user-data pointer, so a trampoline cannot find a provider
//! *object*; it can only know the provider *type* it was instantiated for. [`AppMutex`]
//! is therefore implemented by the mutex type itself (`create` is an associated
//! function): each implementation gets its own monomorphized trampolines and no global
//! registry is needed. Each mutex the module creates is a `Box` of that type, handed to
//! the module as an opaque pointer and dropped by `CK_DESTROYMUTEX`. State shared by all
//! mutexes of an implementation (counters, a pool) lives in statics of the application.
//!
//! # Notification state lifetime (RELIABILITY rule 32)
//!
//! A module may call `CK_NOTIFY` from its own threads, asynchronously, even racing with
//! `C_CloseSession`. The `pApplication` pointer given to it is an `Arc` of a small state
//! record that the module handle ([`Pkcs11`]'s shared initialization) keeps until it is
//! finalized and dropped, so a late call never touches freed memory. The user's closure
//! itself is released when the session is closed (a late call then finds no closure and
//! answers `CKR_OK`), so what stays behind per closed session is a few words.

use std::any::Any;
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use crate::context::{Inner, Pkcs11};
use crate::error::Result;
use crate::raw;
use crate::raw::lifecycle::{InitArgs, MutexCallbacks};
use crate::session::Session;
use crate::slot::Slot;

// ---------------------------------------------------------------------------------------
// The panic relay.
// ---------------------------------------------------------------------------------------

/// A caught panic.
type Payload = Box<dyn Any + Send + 'static>;

thread_local! {
    /// How many module calls of this crate are in progress on this thread.
    static DEPTH: Cell<u32> = const { Cell::new(0) };
    /// Whether [`PANIC`] holds a payload (read on every call, so kept apart).
    static PENDING: Cell<bool> = const { Cell::new(false) };
    /// Set while a caller takes pending panics itself ([`holding_panics`]).
    static HOLD: Cell<bool> = const { Cell::new(false) };
    /// The first panic a callback raised on this thread during one of our calls.
    static PANIC: Cell<Option<Payload>> = const { Cell::new(None) };
}

/// How many entries [`ASYNC`] holds.
static ASYNC_COUNT: AtomicUsize = AtomicUsize::new(0);

/// Panics raised on threads outside our calls, with the module (its
/// [`ModuleCallbacks::id`]) whose next call resumes them; `None`: any module's.
static ASYNC: Mutex<Vec<(Option<usize>, Payload)>> = Mutex::new(Vec::new());

fn async_list() -> MutexGuard<'static, Vec<(Option<usize>, Payload)>> {
    ASYNC.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs one module call as a call of this crate (so that callbacks on this thread know
/// it), then resumes a panic that a callback raised meanwhile (see the module docs).
#[inline]
pub(crate) fn during_call<R>(inner: &Inner, call: impl FnOnce() -> R) -> R {
    let depth = DEPTH.with(|d| d.replace(d.get() + 1));
    let result = call();
    DEPTH.with(|d| d.set(depth));
    if PENDING.with(Cell::get) || ASYNC_COUNT.load(Ordering::Relaxed) != 0 {
        resume_pending(inner.callbacks.id);
    }
    result
}

/// Runs `f` (which makes module calls) without resuming callback panics at its calls'
/// returns; gives back the first panic raised on this thread meanwhile, for the caller
/// to clean up and resume.
pub(crate) fn holding_panics<R>(f: impl FnOnce() -> R) -> (R, Option<Payload>) {
    /// Restores the outer hold, also if `f` unwinds.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            HOLD.with(|h| h.set(self.0));
        }
    }
    let outer = HOLD.with(|h| h.replace(true));
    let restore = Restore(outer);
    let result = f();
    drop(restore);
    // A nested hold leaves the panic to the outer one.
    let payload = if outer { None } else { take_local() };
    (result, payload)
}

fn take_local() -> Option<Payload> {
    if !PENDING.with(|p| p.replace(false)) {
        return None;
    }
    PANIC.try_with(Cell::take).ok().flatten()
}

fn take_async(module: usize) -> Option<Payload> {
    if ASYNC_COUNT.load(Ordering::Relaxed) == 0 {
        return None;
    }
    let mut list = async_list();
    let index = list
        .iter()
        .position(|(owner, _)| owner.is_none_or(|owner| owner == module))?;
    ASYNC_COUNT.fetch_sub(1, Ordering::Relaxed);
    Some(list.remove(index).1)
}

#[cold]
#[inline(never)]
fn resume_pending(module: usize) {
    if HOLD.with(Cell::get) {
        return;
    }
    if std::thread::panicking() {
        // Resuming now would abort; the thread's own panic goes on.
        if let Some(payload) = take_local() {
            report_dropped("while the thread was already panicking");
            drop_quietly(payload);
        }
        return;
    }
    if let Some(payload) = take_local().or_else(|| take_async(module)) {
        panic::resume_unwind(payload);
    }
}

/// Keeps a panic caught in a trampoline (see the module docs).
fn stash(payload: Payload, module: Option<usize>) {
    if DEPTH.with(Cell::get) > 0 {
        let mut payload = Some(payload);
        let _ = PANIC.try_with(|slot| {
            let first = slot.take();
            if first.is_none() {
                slot.set(payload.take());
                PENDING.with(|p| p.set(true));
            } else {
                slot.set(first);
            }
        });
        if let Some(later) = payload {
            drop_quietly(later); // only the first panic is resumed
        }
    } else {
        async_list().push((module, payload));
        ASYNC_COUNT.fetch_add(1, Ordering::Relaxed);
    }
}

/// Runs `f`, catching a panic (kept by [`stash`]): `None` if it panicked.
fn catching<R>(module: Option<usize>, f: impl FnOnce() -> R) -> Option<R> {
    match panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(result) => Some(result),
        Err(payload) => {
            stash(payload, module);
            None
        }
    }
}

/// Drops a payload whose destructor might itself panic.
fn drop_quietly(payload: Payload) {
    let _ = panic::catch_unwind(AssertUnwindSafe(move || drop(payload)));
}

fn report_dropped(why: &str) {
    if std::env::var_os("PKCS11_RS_QUIET").is_none() {
        eprintln!("pkcs11: a panic raised in a PKCS #11 callback was dropped {why}");
    }
}

// ---------------------------------------------------------------------------------------
// What a module initialization keeps for its callbacks.
// ---------------------------------------------------------------------------------------

/// The callback state of one module initialization, kept by its `Inner` (and so dropped
/// only after `C_Finalize`).
pub(crate) struct ModuleCallbacks {
    /// Identifies the initialization in [`ASYNC`].
    id: usize,
    /// The application mutex implementation passed to `C_Initialize`, if any.
    mutexes: Option<&'static str>,
    /// Every notification state handed to the module as `pApplication`.
    notify: Mutex<Vec<Arc<NotifyState>>>,
}

impl ModuleCallbacks {
    /// The state for an initialization made with `args`.
    pub(crate) fn new(args: &InitArgs) -> ModuleCallbacks {
        static NEXT_ID: AtomicUsize = AtomicUsize::new(1);
        ModuleCallbacks {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            mutexes: args.mutexes(),
            notify: Mutex::new(Vec::new()),
        }
    }

    fn keep(&self, state: Arc<NotifyState>) {
        self.notify
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(state);
    }
}

impl Drop for ModuleCallbacks {
    fn drop(&mut self) {
        if ASYNC_COUNT.load(Ordering::Relaxed) == 0 {
            return;
        }
        // No call through this initialization can resume these any more.
        let mut orphans = Vec::new();
        {
            let mut list = async_list();
            let mut index = 0;
            while index < list.len() {
                if list[index].0 == Some(self.id) {
                    orphans.push(list.remove(index).1);
                    ASYNC_COUNT.fetch_sub(1, Ordering::Relaxed);
                } else {
                    index += 1;
                }
            }
        }
        for payload in orphans {
            report_dropped("after its module was finalized");
            drop_quietly(payload);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Application mutexes.
// ---------------------------------------------------------------------------------------

/// Why an [`AppMutex`] operation failed; each maps to the `CKR_*` value the module gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MutexError {
    /// Out of memory (`CKR_HOST_MEMORY`).
    HostMemory,
    /// `unlock` of a mutex that is not locked (`CKR_MUTEX_NOT_LOCKED`).
    NotLocked,
    /// Any other failure (`CKR_GENERAL_ERROR`).
    Failed,
}

impl MutexError {
    /// The return value the module gets.
    pub const fn rv(self) -> ffi::CK_RV {
        match self {
            MutexError::HostMemory => ffi::CKR_HOST_MEMORY,
            MutexError::NotLocked => ffi::CKR_MUTEX_NOT_LOCKED,
            MutexError::Failed => ffi::CKR_GENERAL_ERROR,
        }
    }
}

impl std::fmt::Display for MutexError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MutexError::HostMemory => "out of memory",
            MutexError::NotLocked => "the mutex is not locked",
            MutexError::Failed => "the mutex operation failed",
        })
    }
}

impl std::error::Error for MutexError {}

/// A mutex type the module may use instead of its own locking, passed to
/// `C_Initialize` by [`Pkcs11::open_with_mutexes`].
///
/// The module creates as many mutexes as it needs (`create`), locks and unlocks them
/// around its critical sections, possibly from several threads at once, and drops them
/// (`CK_DESTROYMUTEX`) when it is done with them. The methods are plain lock/unlock
/// calls, not guards: the module unlocks in a later callback than it locked in.
///
/// Panics in these methods never unwind into the module: the module gets
/// `CKR_HOST_MEMORY` (create) or `CKR_GENERAL_ERROR` (lock, unlock, drop), and the panic
/// is resumed after the module call returns (see [`Pkcs11::open_with_mutexes`]).
///
/// The implementation is a type rather than a value because `CK_CREATEMUTEX` carries no
/// user data: state shared by all mutexes (a counter, say) belongs in a `static`.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use pkcs11::{AppMutex, MutexError, StdAppMutex};
///
/// static LOCKS: AtomicUsize = AtomicUsize::new(0);
///
/// /// The standard implementation, counting locks.
/// struct CountingMutex(StdAppMutex);
///
/// impl AppMutex for CountingMutex {
///     fn create() -> Result<Self, MutexError> {
///         StdAppMutex::create().map(CountingMutex)
///     }
///     fn lock(&self) -> Result<(), MutexError> {
///         LOCKS.fetch_add(1, Ordering::Relaxed);
///         self.0.lock()
///     }
///     fn unlock(&self) -> Result<(), MutexError> {
///         self.0.unlock()
///     }
/// }
///
/// let m = CountingMutex::create()?;
/// m.lock()?;
/// m.unlock()?;
/// assert_eq!(m.unlock(), Err(MutexError::NotLocked));
/// assert_eq!(LOCKS.load(Ordering::Relaxed), 1);
/// # Ok::<(), MutexError>(())
/// ```
#[doc(alias = "CK_CREATEMUTEX")]
#[doc(alias = "CK_DESTROYMUTEX")]
#[doc(alias = "CK_LOCKMUTEX")]
#[doc(alias = "CK_UNLOCKMUTEX")]
pub trait AppMutex: Send + Sync + Sized + 'static {
    /// Creates an unlocked mutex (`CK_CREATEMUTEX`). Destruction
    /// (`CK_DESTROYMUTEX`) is `Drop`.
    ///
    /// # Errors
    /// [`MutexError::HostMemory`] or [`MutexError::Failed`]: the module gets the
    /// matching `CKR_*` value.
    fn create() -> std::result::Result<Self, MutexError>;

    /// Locks the mutex, waiting while another thread holds it (`CK_LOCKMUTEX`).
    ///
    /// # Errors
    /// Any [`MutexError`]: the module gets the matching `CKR_*` value.
    fn lock(&self) -> std::result::Result<(), MutexError>;

    /// Unlocks the mutex (`CK_UNLOCKMUTEX`).
    ///
    /// # Errors
    /// [`MutexError::NotLocked`] if it is not locked; any other [`MutexError`] for
    /// other failures.
    fn unlock(&self) -> std::result::Result<(), MutexError>;
}

/// An [`AppMutex`] built on the standard library's `Mutex` and `Condvar`: the natural
/// building block for an implementation that wraps it (to count or trace locking).
#[derive(Debug, Default)]
pub struct StdAppMutex {
    locked: Mutex<bool>,
    unlocked: Condvar,
}

impl AppMutex for StdAppMutex {
    fn create() -> std::result::Result<Self, MutexError> {
        Ok(StdAppMutex::default())
    }

    fn lock(&self) -> std::result::Result<(), MutexError> {
        let mut locked = self.locked.lock().map_err(|_| MutexError::Failed)?;
        while *locked {
            locked = self.unlocked.wait(locked).map_err(|_| MutexError::Failed)?;
        }
        *locked = true;
        Ok(())
    }

    fn unlock(&self) -> std::result::Result<(), MutexError> {
        let mut locked = self.locked.lock().map_err(|_| MutexError::Failed)?;
        if !*locked {
            return Err(MutexError::NotLocked);
        }
        *locked = false;
        drop(locked);
        self.unlocked.notify_one();
        Ok(())
    }
}

/// What a mutex pointer given to the module points to. Never zero-sized, so that two
/// mutexes never share an address even when `M` is a zero-sized type.
struct Boxed<M> {
    mutex: M,
    _distinct: u8,
}

/// `CK_CREATEMUTEX` for `M`.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
unsafe extern "C" fn create_mutex<M: AppMutex>(out: ffi::CK_VOID_PTR_PTR) -> ffi::CK_RV {
    if out.is_null() {
        return ffi::CKR_ARGUMENTS_BAD;
    }
    let created = catching(None, || {
        M::create().map(|mutex| {
            Box::new(Boxed {
                mutex,
                _distinct: 0,
            })
        })
    });
    match created {
        Some(Ok(boxed)) => {
            // SAFETY: `out` is non-NULL and writable (the caller's contract).
            unsafe { out.write(Box::into_raw(boxed).cast()) };
            ffi::CKR_OK
        }
        Some(Err(error)) => error.rv(),
        None => ffi::CKR_HOST_MEMORY,
    }
}

/// `CK_DESTROYMUTEX` for `M`.
///
/// # Safety
/// `mutex` is NULL or a pointer returned by [`create_mutex::<M>`] and not destroyed
/// yet; no other callback uses it during or after the call.
unsafe extern "C" fn destroy_mutex<M: AppMutex>(mutex: ffi::CK_VOID_PTR) -> ffi::CK_RV {
    if mutex.is_null() {
        return ffi::CKR_MUTEX_BAD;
    }
    // SAFETY: `mutex` came from `Box::into_raw` in `create_mutex::<M>` and is given
    // back exactly once (the caller's contract).
    let boxed = unsafe { Box::from_raw(mutex.cast::<Boxed<M>>()) };
    match catching(None, move || drop(boxed)) {
        Some(()) => ffi::CKR_OK,
        None => ffi::CKR_GENERAL_ERROR,
    }
}

/// `CK_LOCKMUTEX` for `M`.
///
/// # Safety
/// `mutex` is NULL or a live pointer returned by [`create_mutex::<M>`].
unsafe extern "C" fn lock_mutex<M: AppMutex>(mutex: ffi::CK_VOID_PTR) -> ffi::CK_RV {
    if mutex.is_null() {
        return ffi::CKR_MUTEX_BAD;
    }
    // SAFETY: a live `Boxed<M>` from `create_mutex::<M>` (the caller's contract);
    // `M: Sync`, so a shared reference may be used from any thread.
    let boxed = unsafe { &*mutex.cast::<Boxed<M>>() };
    match catching(None, || boxed.mutex.lock()) {
        Some(Ok(())) => ffi::CKR_OK,
        Some(Err(error)) => error.rv(),
        None => ffi::CKR_GENERAL_ERROR,
    }
}

/// `CK_UNLOCKMUTEX` for `M`.
///
/// # Safety
/// `mutex` is NULL or a live pointer returned by [`create_mutex::<M>`].
unsafe extern "C" fn unlock_mutex<M: AppMutex>(mutex: ffi::CK_VOID_PTR) -> ffi::CK_RV {
    if mutex.is_null() {
        return ffi::CKR_MUTEX_BAD;
    }
    // SAFETY: as in `lock_mutex`.
    let boxed = unsafe { &*mutex.cast::<Boxed<M>>() };
    match catching(None, || boxed.mutex.unlock()) {
        Some(Ok(())) => ffi::CKR_OK,
        Some(Err(error)) => error.rv(),
        None => ffi::CKR_GENERAL_ERROR,
    }
}

impl Pkcs11 {
    /// Opens the module at `path` like [`Pkcs11::open`], but offers it the application
    /// mutexes `M` (`CK_C_INITIALIZE_ARGS` with the four mutex callbacks) while still
    /// setting `CKF_OS_LOCKING_OK`, so that the module may use either kind of locking.
    ///
    /// The callbacks take effect only if this call initializes the module: if it is
    /// already open in this process (through any path) the existing initialization is
    /// shared, and if another component initialized it the module is adopted;
    /// [`Pkcs11::app_mutexes`] tells which happened.
    ///
    /// A panic in `M`'s methods is caught before it reaches the module (which gets
    /// `CKR_HOST_MEMORY` or `CKR_GENERAL_ERROR`) and resumed on the calling thread when
    /// the module call that triggered it returns; if `C_Initialize` itself succeeded
    /// despite the panic, the module is finalized before the panic is resumed. A panic
    /// on a thread of the module's own is resumed at the next call of this crate into a
    /// module.
    ///
    /// ```no_run
    /// use pkcs11::{Pkcs11, StdAppMutex};
    ///
    /// let p11 = Pkcs11::open_with_mutexes::<StdAppMutex>("/usr/lib/softhsm/libsofthsm2.so")?;
    /// assert!(p11.app_mutexes().is_some() || p11.is_adopted());
    /// # Ok::<(), pkcs11::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`Pkcs11::open`].
    #[doc(alias = "C_Initialize")]
    #[doc(alias = "CK_C_INITIALIZE_ARGS")]
    pub fn open_with_mutexes<M: AppMutex>(path: impl AsRef<Path>) -> Result<Pkcs11> {
        let mut args = InitArgs::with_mutexes(MutexCallbacks {
            create: Some(create_mutex::<M>),
            destroy: Some(destroy_mutex::<M>),
            lock: Some(lock_mutex::<M>),
            unlock: Some(unlock_mutex::<M>),
            name: std::any::type_name::<M>(),
        });
        Pkcs11::open_with(path.as_ref(), &mut args)
    }

    /// The type name of the [`AppMutex`] implementation this initialization gave the
    /// module, or `None` if it was initialized for OS locking only or adopted from
    /// another component of the process.
    pub fn app_mutexes(&self) -> Option<&'static str> {
        if self.is_adopted() {
            None
        } else {
            self.inner.callbacks.mutexes
        }
    }
}

// ---------------------------------------------------------------------------------------
// Session notifications.
// ---------------------------------------------------------------------------------------

/// A notification a module sends to a session's callback (`CK_NOTIFICATION`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Notification {
    /// `CKN_SURRENDER`: the module asks, during a long call, whether to go on. Answer
    /// [`NotifyReply::Cancel`] to make the call fail with `CKR_FUNCTION_CANCELED`.
    Surrender,
    /// `CKN_OTP_CHANGED`: an OTP key's value changed (PKCS #11 OTP extension).
    OtpChanged,
    /// Any other (vendor-defined or future) notification, kept as it came.
    Unknown(ffi::CK_NOTIFICATION),
}

impl Notification {
    /// The kind of a raw `CKN_*` value.
    pub const fn from_raw(raw: ffi::CK_NOTIFICATION) -> Notification {
        match raw {
            ffi::CKN_SURRENDER => Notification::Surrender,
            ffi::CKN_OTP_CHANGED => Notification::OtpChanged,
            other => Notification::Unknown(other),
        }
    }

    /// The raw `CKN_*` value.
    pub const fn raw(self) -> ffi::CK_NOTIFICATION {
        match self {
            Notification::Surrender => ffi::CKN_SURRENDER,
            Notification::OtpChanged => ffi::CKN_OTP_CHANGED,
            Notification::Unknown(raw) => raw,
        }
    }
}

/// A notification callback's answer to the module.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum NotifyReply {
    /// Go on (`CKR_OK`).
    #[default]
    Continue,
    /// Stop the operation (`CKR_CANCEL`); meaningful for [`Notification::Surrender`].
    Cancel,
}

impl NotifyReply {
    /// The return value the module gets.
    pub const fn rv(self) -> ffi::CK_RV {
        match self {
            NotifyReply::Continue => ffi::CKR_OK,
            NotifyReply::Cancel => ffi::CKR_CANCEL,
        }
    }
}

/// A session's notification callback.
type Callback = dyn Fn(Notification) -> NotifyReply + Send + Sync + 'static;

/// What `pApplication` points to. Kept by [`ModuleCallbacks`] until the module is
/// finalized; the callback itself is released when the session closes.
pub(crate) struct NotifyState {
    callback: Mutex<Option<Arc<Callback>>>,
    /// The initialization ([`ModuleCallbacks::id`]) the session belongs to.
    module: usize,
}

impl NotifyState {
    fn new(module: usize, callback: Arc<Callback>) -> NotifyState {
        NotifyState {
            callback: Mutex::new(Some(callback)),
            module,
        }
    }

    fn slot(&self) -> MutexGuard<'_, Option<Arc<Callback>>> {
        self.callback.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The pointer handed to the module.
    fn application(self: &Arc<Self>) -> ffi::CK_VOID_PTR {
        Arc::as_ptr(self).cast_mut().cast()
    }
}

/// A session's hold on its notification state: dropping it (after the session is
/// closed, as a field of [`Session`]) releases the user's callback.
pub(crate) struct NotifyHandle {
    state: Arc<NotifyState>,
}

impl Drop for NotifyHandle {
    fn drop(&mut self) {
        // Taken under the lock, dropped outside it (a running callback keeps its clone).
        let callback = self.state.slot().take();
        drop(callback);
    }
}

/// `CK_NOTIFY`: calls the session's callback.
///
/// A panicking callback answers `CKR_CANCEL`; the panic is resumed as the module docs
/// describe. A notification for a closed session answers `CKR_OK` without a call.
///
/// # Safety
/// `application` is NULL or the pointer of a [`NotifyState`] still kept alive (every
/// pointer this crate hands to `C_OpenSession` is, until the module is finalized).
unsafe extern "C" fn notify_trampoline(
    _session: ffi::CK_SESSION_HANDLE,
    event: ffi::CK_NOTIFICATION,
    application: ffi::CK_VOID_PTR,
) -> ffi::CK_RV {
    if application.is_null() {
        return ffi::CKR_OK;
    }
    // SAFETY: a live `NotifyState` (the caller's contract); it is `Sync`.
    let state = unsafe { &*application.cast_const().cast::<NotifyState>() };
    let callback = state.slot().clone();
    let Some(callback) = callback else {
        return ffi::CKR_OK;
    };
    let notification = Notification::from_raw(event);
    match catching(Some(state.module), move || callback(notification)) {
        Some(reply) => reply.rv(),
        None => ffi::CKR_CANCEL,
    }
}

fn open_with_notify(slot: &Slot, flags: ffi::CK_FLAGS, callback: Arc<Callback>) -> Result<Session> {
    let p11 = slot.pkcs11();
    let inner = &p11.inner;
    let state = Arc::new(NotifyState::new(inner.callbacks.id, callback));
    // From here until the initialization is dropped (after `C_Finalize`), the pointer
    // stays valid, whatever happens to the session.
    inner.callbacks.keep(Arc::clone(&state));
    let application = state.application();
    // Releases the callback if the open fails.
    let notify = NotifyHandle { state };
    let mut handle: ffi::CK_SESSION_HANDLE = ffi::CK_INVALID_HANDLE;
    // SAFETY: `application` points to a `NotifyState` kept by `inner.callbacks` until
    // the module is finalized, which outlives the session; `notify_trampoline` accepts
    // exactly such pointers, from any thread.
    let returned = unsafe {
        raw::session::open_session_notify(
            inner,
            slot.id(),
            flags | ffi::CKF_SERIAL_SESSION,
            application,
            Some(notify_trampoline),
            &mut handle,
        )
    };
    returned?.ok()?;
    Ok(Session::adopt_with_notify(p11, slot.id(), handle, notify))
}

impl Slot {
    /// Opens a read-only session whose notifications (`CK_NOTIFY`) go to `callback`.
    ///
    /// The module may call `callback` during any call on the session, and also from its
    /// own threads at any time until the session is closed; it is dropped when the
    /// session is closed. A panic in `callback` answers `CKR_CANCEL` to the module and
    /// is resumed on the calling thread when the module call during which it happened
    /// returns — or, if it happened on a thread of the module's own, at the next call
    /// of this crate into the same module.
    ///
    /// ```no_run
    /// use pkcs11::{Notification, NotifyReply, Pkcs11};
    ///
    /// let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
    /// let slot = p11.slots_with_token()?.remove(0);
    /// let session = slot.open_ro_session_with_notify(|event| match event {
    ///     Notification::Surrender => NotifyReply::Continue,
    ///     _ => NotifyReply::Continue,
    /// })?;
    /// # drop(session);
    /// # Ok::<(), pkcs11::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Module`](crate::Error::Module) naming `C_OpenSession`.
    #[doc(alias = "C_OpenSession")]
    #[doc(alias = "CK_NOTIFY")]
    pub fn open_ro_session_with_notify<F>(&self, callback: F) -> Result<Session>
    where
        F: Fn(Notification) -> NotifyReply + Send + Sync + 'static,
    {
        open_with_notify(self, 0, Arc::new(callback))
    }

    /// Opens a read-write session whose notifications (`CK_NOTIFY`) go to `callback`;
    /// see [`Slot::open_ro_session_with_notify`].
    ///
    /// # Errors
    /// [`Error::Module`](crate::Error::Module) naming `C_OpenSession`.
    #[doc(alias = "C_OpenSession")]
    #[doc(alias = "CK_NOTIFY")]
    pub fn open_rw_session_with_notify<F>(&self, callback: F) -> Result<Session>
    where
        F: Fn(Notification) -> NotifyReply + Send + Sync + 'static,
    {
        open_with_notify(self, ffi::CKF_RW_SESSION, Arc::new(callback))
    }
}

impl Session {
    /// Test hook: delivers `event` to this session's notification callback exactly as
    /// a module would, through the C trampoline with the session's `pApplication`, on
    /// the calling thread (outside any module call, like a module's own thread).
    /// Returns what the module would get, or `None` if the session has no callback.
    ///
    /// SoftHSM never sends notifications; this lets tests exercise the real path. A
    /// panic in the callback is resumed at the next call into the module.
    #[doc(hidden)]
    pub fn simulate_notification(&self, event: ffi::CK_NOTIFICATION) -> Option<ffi::CK_RV> {
        let notify = self.notify.as_ref()?;
        // SAFETY: the session's own state pointer, alive while the session is.
        Some(unsafe { notify_trampoline(self.handle(), event, notify.state.application()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    /// Runs `f` as if it were a module call of ours (what `during_call` does, without a
    /// module).
    fn as_call<R>(f: impl FnOnce() -> R) -> R {
        let depth = DEPTH.with(|d| d.replace(d.get() + 1));
        let result = f();
        DEPTH.with(|d| d.set(depth));
        if PENDING.with(Cell::get) {
            resume_pending(0);
        }
        result
    }

    fn state(
        module: usize,
        f: impl Fn(Notification) -> NotifyReply + Send + Sync + 'static,
    ) -> Arc<NotifyState> {
        Arc::new(NotifyState::new(module, Arc::new(f)))
    }

    fn notify(state: &Arc<NotifyState>, event: ffi::CK_NOTIFICATION) -> ffi::CK_RV {
        // SAFETY: a live state.
        unsafe { notify_trampoline(1, event, state.application()) }
    }

    #[test]
    fn notification_values_round_trip() {
        for raw in [
            ffi::CKN_SURRENDER,
            ffi::CKN_OTP_CHANGED,
            7,
            ffi::CK_ULONG::MAX,
        ] {
            assert_eq!(Notification::from_raw(raw).raw(), raw);
        }
        assert_eq!(Notification::from_raw(0), Notification::Surrender);
        assert_eq!(Notification::from_raw(1), Notification::OtpChanged);
        assert_eq!(
            Notification::from_raw(0x8000_0001),
            Notification::Unknown(0x8000_0001)
        );
    }

    #[test]
    fn notify_trampoline_calls_the_callback_and_answers_for_it() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let state = state(0, move |event| {
            log.lock().unwrap().push(event);
            match event {
                Notification::Surrender => NotifyReply::Cancel,
                _ => NotifyReply::Continue,
            }
        });
        assert_eq!(notify(&state, ffi::CKN_SURRENDER), ffi::CKR_CANCEL);
        assert_eq!(notify(&state, ffi::CKN_OTP_CHANGED), ffi::CKR_OK);
        assert_eq!(notify(&state, 99), ffi::CKR_OK);
        assert_eq!(
            *seen.lock().unwrap(),
            [
                Notification::Surrender,
                Notification::OtpChanged,
                Notification::Unknown(99)
            ]
        );
        // SAFETY: NULL is handled.
        let rv = unsafe { notify_trampoline(1, 0, std::ptr::null_mut()) };
        assert_eq!(rv, ffi::CKR_OK);
    }

    #[test]
    fn notify_after_close_answers_ok_without_the_callback() {
        let called = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&called);
        let state = state(0, move |_| {
            flag.store(true, Ordering::SeqCst);
            NotifyReply::Cancel
        });
        drop(NotifyHandle {
            state: Arc::clone(&state),
        }); // the session closed
        assert_eq!(notify(&state, ffi::CKN_SURRENDER), ffi::CKR_OK);
        assert!(!called.load(Ordering::SeqCst));
        assert_eq!(Arc::strong_count(&state), 1, "the closure was released");
    }

    #[test]
    fn a_panic_during_our_call_is_resumed_when_the_call_returns() {
        let state = state(0, |_| panic!("notify boom"));
        let caught = panic::catch_unwind(AssertUnwindSafe(|| {
            let rv = as_call(|| notify(&state, ffi::CKN_SURRENDER));
            // Not reached: the panic is resumed after the "call".
            rv
        }));
        let payload = caught.unwrap_err();
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"notify boom"));
        assert!(!PENDING.with(Cell::get), "nothing left pending");
    }

    #[test]
    fn the_trampoline_answers_cancel_when_the_callback_panics() {
        let state = state(0, |_| panic!("boom"));
        let rv = as_call_catching(|| notify(&state, ffi::CKN_SURRENDER));
        assert_eq!(rv.0, ffi::CKR_CANCEL);
        assert!(rv.1.is_some());
    }

    /// Like `as_call`, holding the panic instead of resuming it.
    fn as_call_catching<R>(f: impl FnOnce() -> R) -> (R, Option<Payload>) {
        holding_panics(|| as_call(f))
    }

    #[test]
    fn only_the_first_panic_is_kept() {
        let state = state(0, |event| std::panic::panic_any(event.raw()));
        let (_, payload) = as_call_catching(|| {
            notify(&state, 5);
            notify(&state, 6)
        });
        assert_eq!(payload.unwrap().downcast_ref::<ffi::CK_ULONG>(), Some(&5));
    }

    #[test]
    fn a_panic_on_a_foreign_thread_waits_for_a_call_into_its_module() {
        const MODULE: usize = usize::MAX - 7;
        let state = state(MODULE, |_| panic!("from a module thread"));
        let worker = Arc::clone(&state);
        let rv = std::thread::spawn(move || notify(&worker, ffi::CKN_SURRENDER))
            .join()
            .unwrap();
        assert_eq!(rv, ffi::CKR_CANCEL);
        // Not for another module.
        assert!(take_async(MODULE - 1).is_none());
        let payload = take_async(MODULE).expect("kept for the module");
        assert_eq!(
            payload.downcast_ref::<&str>(),
            Some(&"from a module thread")
        );
        assert!(take_async(MODULE).is_none());
    }

    static CREATED: AtomicUsize = AtomicUsize::new(0);
    static DROPPED: AtomicUsize = AtomicUsize::new(0);

    struct Probe(StdAppMutex);

    impl AppMutex for Probe {
        fn create() -> std::result::Result<Self, MutexError> {
            CREATED.fetch_add(1, Ordering::SeqCst);
            StdAppMutex::create().map(Probe)
        }
        fn lock(&self) -> std::result::Result<(), MutexError> {
            self.0.lock()
        }
        fn unlock(&self) -> std::result::Result<(), MutexError> {
            self.0.unlock()
        }
    }

    /// A mutex whose `lock` panics (its own type: tests run in parallel).
    struct PanickingLock(StdAppMutex);

    impl AppMutex for PanickingLock {
        fn create() -> std::result::Result<Self, MutexError> {
            StdAppMutex::create().map(PanickingLock)
        }
        fn lock(&self) -> std::result::Result<(), MutexError> {
            panic!("lock boom")
        }
        fn unlock(&self) -> std::result::Result<(), MutexError> {
            self.0.unlock()
        }
    }

    impl Drop for Probe {
        fn drop(&mut self) {
            DROPPED.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn mutex_trampolines_create_lock_unlock_destroy() {
        let mut pointer: ffi::CK_VOID_PTR = std::ptr::null_mut();
        // SAFETY: the trampolines with pointers they made, in order.
        unsafe {
            assert_eq!(create_mutex::<Probe>(&mut pointer), ffi::CKR_OK);
            assert!(!pointer.is_null());
            assert_eq!(lock_mutex::<Probe>(pointer), ffi::CKR_OK);
            assert_eq!(unlock_mutex::<Probe>(pointer), ffi::CKR_OK);
            assert_eq!(unlock_mutex::<Probe>(pointer), ffi::CKR_MUTEX_NOT_LOCKED);
            let dropped = DROPPED.load(Ordering::SeqCst);
            assert_eq!(destroy_mutex::<Probe>(pointer), ffi::CKR_OK);
            assert!(DROPPED.load(Ordering::SeqCst) > dropped);
            assert_eq!(
                lock_mutex::<Probe>(std::ptr::null_mut()),
                ffi::CKR_MUTEX_BAD
            );
            assert_eq!(
                unlock_mutex::<Probe>(std::ptr::null_mut()),
                ffi::CKR_MUTEX_BAD
            );
            assert_eq!(
                destroy_mutex::<Probe>(std::ptr::null_mut()),
                ffi::CKR_MUTEX_BAD
            );
            assert_eq!(
                create_mutex::<Probe>(std::ptr::null_mut()),
                ffi::CKR_ARGUMENTS_BAD
            );
        }
        assert!(CREATED.load(Ordering::SeqCst) >= 1);
    }

    #[test]
    fn a_panicking_lock_answers_general_error_and_is_resumed_after_the_call() {
        let mut pointer: ffi::CK_VOID_PTR = std::ptr::null_mut();
        // SAFETY: a mutex made by the trampoline.
        let rv = unsafe { create_mutex::<PanickingLock>(&mut pointer) };
        assert_eq!(rv, ffi::CKR_OK);
        let (rv, payload) = as_call_catching(|| {
            // SAFETY: live mutex.
            unsafe { lock_mutex::<PanickingLock>(pointer) }
        });
        assert_eq!(rv, ffi::CKR_GENERAL_ERROR);
        let payload = payload.expect("the panic is kept");
        assert_eq!(payload.downcast_ref::<&str>(), Some(&"lock boom"));
        // SAFETY: not locked (the panic came first); destroyed once.
        unsafe {
            assert_eq!(
                unlock_mutex::<PanickingLock>(pointer),
                ffi::CKR_MUTEX_NOT_LOCKED
            );
            assert_eq!(destroy_mutex::<PanickingLock>(pointer), ffi::CKR_OK);
        }
    }

    #[test]
    fn std_app_mutex_excludes_across_threads() {
        let mutex = Arc::new(StdAppMutex::create().unwrap());
        let inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let (mutex, inside) = (Arc::clone(&mutex), Arc::clone(&inside));
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        mutex.lock().unwrap();
                        assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0);
                        inside.fetch_sub(1, Ordering::SeqCst);
                        mutex.unlock().unwrap();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        assert_eq!(mutex.unlock(), Err(MutexError::NotLocked));
    }

    #[test]
    fn zero_sized_mutexes_get_distinct_pointers() {
        struct Nothing;
        impl AppMutex for Nothing {
            fn create() -> std::result::Result<Self, MutexError> {
                Ok(Nothing)
            }
            fn lock(&self) -> std::result::Result<(), MutexError> {
                Ok(())
            }
            fn unlock(&self) -> std::result::Result<(), MutexError> {
                Ok(())
            }
        }
        let (mut a, mut b): (ffi::CK_VOID_PTR, ffi::CK_VOID_PTR) =
            (std::ptr::null_mut(), std::ptr::null_mut());
        // SAFETY: made and destroyed by the trampolines.
        unsafe {
            assert_eq!(create_mutex::<Nothing>(&mut a), ffi::CKR_OK);
            assert_eq!(create_mutex::<Nothing>(&mut b), ffi::CKR_OK);
            assert_ne!(a, b);
            assert_eq!(destroy_mutex::<Nothing>(a), ffi::CKR_OK);
            assert_eq!(destroy_mutex::<Nothing>(b), ffi::CKR_OK);
        }
    }
}
