//! The module's state — library, slots and tokens, sessions, objects, slot events — all
//! behind one mutex; `C_Initialize` and `C_Finalize`; the fork watch; and delivery of
//! `CK_NOTIFY` callbacks.
//!
//! What lives on a token (label, PINs, token objects) survives `C_Finalize`; what
//! belongs to an initialization (sessions, session objects, login state, handle
//! numbers) does not. Handles restart at 1 after every `C_Initialize` (token objects get
//! new ones), so a handle kept from before finalization names something else or nothing.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, Once};

use pkcs11_sys::{
    CKN_SURRENDER, CKR_ARGUMENTS_BAD, CKR_CRYPTOKI_ALREADY_INITIALIZED,
    CKR_CRYPTOKI_NOT_INITIALIZED, CKR_SESSION_HANDLE_INVALID, CKR_SLOT_ID_INVALID, CKU_SO,
    CKU_USER, CK_CREATEMUTEX, CK_C_INITIALIZE_ARGS, CK_DESTROYMUTEX, CK_LOCKMUTEX, CK_NOTIFICATION,
    CK_NOTIFY, CK_OBJECT_HANDLE, CK_RV, CK_SESSION_HANDLE, CK_SLOT_ID, CK_ULONG, CK_UNLOCKMUTEX,
    CK_USER_TYPE, CK_VOID_PTR,
};

use crate::calls::Function;
use crate::crypto::{Cipher, Digest, Mac};
use crate::entry::{run, Ck};
use crate::objects::Object;
use crate::plan::{self, ForkMode, NotifyMode};

/// The slots, each with a token.
pub(crate) const SLOTS: [CK_SLOT_ID; 2] = [1, 2];
/// The longest PIN.
pub(crate) const MAX_PIN: usize = 64;
/// The shortest PIN.
pub(crate) const MIN_PIN: usize = 4;
/// The security officer's PIN of the token in slot 1.
pub(crate) const SO_PIN: &[u8] = b"so-pin-1234";
/// The user's PIN of the token in slot 1.
pub(crate) const USER_PIN: &[u8] = b"user-pin-1234";

/// A PIN (fixed-size storage, so that the initial state is a constant).
#[derive(Clone, Copy)]
pub(crate) struct Pin {
    bytes: [u8; MAX_PIN],
    len: usize,
}

impl Pin {
    /// A PIN of at most [`MAX_PIN`] bytes (longer ones are cut).
    pub(crate) const fn new(pin: &[u8]) -> Pin {
        let mut bytes = [0; MAX_PIN];
        let mut len = 0;
        while len < pin.len() && len < MAX_PIN {
            bytes[len] = pin[len];
            len += 1;
        }
        Pin { bytes, len }
    }

    pub(crate) fn matches(&self, pin: &[u8]) -> bool {
        &self.bytes[..self.len] == pin
    }
}

/// A blank-padded label.
const fn label(text: &str) -> [u8; 32] {
    let mut field = [b' '; 32];
    let bytes = text.as_bytes();
    let mut index = 0;
    while index < bytes.len() && index < 32 {
        field[index] = bytes[index];
        index += 1;
    }
    field
}

/// A token and its application-wide login state.
pub(crate) struct Token {
    pub(crate) slot: CK_SLOT_ID,
    pub(crate) label: [u8; 32],
    pub(crate) serial: &'static str,
    /// `None` while the token is not initialized.
    pub(crate) so_pin: Option<Pin>,
    pub(crate) user_pin: Option<Pin>,
    /// Who is logged in (shared by every session of the application on this token).
    pub(crate) login: Option<CK_USER_TYPE>,
}

/// The kinds of operation a session can have active (each at most once).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OpKind {
    Digest,
    Encrypt,
    Decrypt,
    Sign,
    Verify,
    Find,
}

/// A session's active operations.
#[derive(Default)]
pub(crate) struct Ops {
    pub(crate) digest: Option<Digest>,
    pub(crate) encrypt: Option<Cipher>,
    pub(crate) decrypt: Option<Cipher>,
    pub(crate) sign: Option<Mac>,
    pub(crate) verify: Option<Mac>,
    pub(crate) find: Option<VecDeque<CK_OBJECT_HANDLE>>,
}

impl Ops {
    /// Ends the operation of `kind`.
    pub(crate) fn end(&mut self, kind: OpKind) {
        match kind {
            OpKind::Digest => self.digest = None,
            OpKind::Encrypt => self.encrypt = None,
            OpKind::Decrypt => self.decrypt = None,
            OpKind::Sign => self.sign = None,
            OpKind::Verify => self.verify = None,
            OpKind::Find => self.find = None,
        }
    }

    /// Whether any operation is active.
    pub(crate) fn any(&self) -> bool {
        self.digest.is_some()
            || self.encrypt.is_some()
            || self.decrypt.is_some()
            || self.sign.is_some()
            || self.verify.is_some()
            || self.find.is_some()
    }
}

/// The operations a failing call of `function` ends (PKCS #11: every error but
/// `CKR_BUFFER_TOO_SMALL` ends the operation of a single-part, update or final call).
fn operations_of(function: Function) -> &'static [OpKind] {
    use Function as F;
    match function {
        F::Encrypt | F::EncryptUpdate | F::EncryptFinal => &[OpKind::Encrypt],
        F::Decrypt | F::DecryptUpdate | F::DecryptFinal => &[OpKind::Decrypt],
        F::Digest | F::DigestUpdate | F::DigestKey | F::DigestFinal => &[OpKind::Digest],
        F::Sign | F::SignUpdate | F::SignFinal => &[OpKind::Sign],
        F::Verify | F::VerifyUpdate | F::VerifyFinal => &[OpKind::Verify],
        F::DigestEncryptUpdate => &[OpKind::Digest, OpKind::Encrypt],
        F::DecryptDigestUpdate => &[OpKind::Decrypt, OpKind::Digest],
        F::SignEncryptUpdate => &[OpKind::Sign, OpKind::Encrypt],
        F::DecryptVerifyUpdate => &[OpKind::Decrypt, OpKind::Verify],
        _ => &[],
    }
}

/// A session's notification callback and its `pApplication` (kept as an address).
#[derive(Clone, Copy)]
pub(crate) struct Notify {
    callback: CK_NOTIFY,
    application: usize,
}

impl Notify {
    pub(crate) fn new(callback: CK_NOTIFY, application: CK_VOID_PTR) -> Notify {
        Notify {
            callback,
            application: application as usize,
        }
    }
}

/// An open session.
pub(crate) struct Session {
    pub(crate) slot: CK_SLOT_ID,
    pub(crate) rw: bool,
    pub(crate) notify: Notify,
    pub(crate) ops: Ops,
}

/// The application's mutex callbacks and the one mutex the module made with them.
struct AppMutex {
    destroy: CK_DESTROYMUTEX,
    mutex: usize,
}

/// Everything.
pub(crate) struct State {
    pub(crate) initialized: bool,
    /// Bumped by `C_Initialize` and `C_Finalize` (wakes `C_WaitForSlotEvent`).
    pub(crate) generation: u64,
    next_session: CK_SESSION_HANDLE,
    next_object: CK_OBJECT_HANDLE,
    pub(crate) sessions: BTreeMap<CK_SESSION_HANDLE, Session>,
    /// Callbacks of closed sessions, for `fault_notify` (until `C_Finalize`).
    closed: BTreeMap<CK_SESSION_HANDLE, Notify>,
    pub(crate) tokens: [Token; 2],
    pub(crate) objects: BTreeMap<CK_OBJECT_HANDLE, Object>,
    pub(crate) events: VecDeque<CK_SLOT_ID>,
    /// The generator behind `C_GenerateRandom`: a counter.
    pub(crate) random: u8,
    app_mutex: Option<AppMutex>,
}

static STATE: Mutex<State> = Mutex::new(State {
    initialized: false,
    generation: 0,
    next_session: 1,
    next_object: 1,
    sessions: BTreeMap::new(),
    closed: BTreeMap::new(),
    tokens: [
        Token {
            slot: SLOTS[0],
            label: label("fault-token"),
            serial: "fault-0001",
            so_pin: Some(Pin::new(SO_PIN)),
            user_pin: Some(Pin::new(USER_PIN)),
            login: None,
        },
        // Not initialized: for C_InitToken.
        Token {
            slot: SLOTS[1],
            label: label(""),
            serial: "fault-0002",
            so_pin: None,
            user_pin: None,
            login: None,
        },
    ],
    objects: BTreeMap::new(),
    events: VecDeque::new(),
    random: 0,
    app_mutex: None,
});

/// Signalled when a slot event is raised or the module is finalized.
pub(crate) static EVENT: Condvar = Condvar::new();

/// The state, locked.
pub(crate) fn lock() -> MutexGuard<'static, State> {
    STATE.lock().unwrap_or_else(|e| e.into_inner())
}

/// Runs `f` on the state if the module is initialized.
pub(crate) fn with<T>(f: impl FnOnce(&mut State) -> Ck<T>) -> Ck<T> {
    let mut state = lock();
    if !state.initialized {
        return Err(CKR_CRYPTOKI_NOT_INITIALIZED);
    }
    f(&mut state)
}

impl State {
    /// The token in `slot`.
    pub(crate) fn token(&mut self, slot: CK_SLOT_ID) -> Ck<&mut Token> {
        self.tokens
            .iter_mut()
            .find(|token| token.slot == slot)
            .ok_or(CKR_SLOT_ID_INVALID)
    }

    /// The open session `h`.
    pub(crate) fn session(&mut self, h: CK_SESSION_HANDLE) -> Ck<&mut Session> {
        self.sessions.get_mut(&h).ok_or(CKR_SESSION_HANDLE_INVALID)
    }

    /// Who is logged in on the token of session `h`.
    pub(crate) fn login_of(&mut self, h: CK_SESSION_HANDLE) -> Ck<Option<CK_USER_TYPE>> {
        let slot = self.session(h)?.slot;
        Ok(self.token(slot)?.login)
    }

    /// Whether the normal user is logged in on the token of session `h`.
    pub(crate) fn user_logged_in(&mut self, h: CK_SESSION_HANDLE) -> Ck<bool> {
        Ok(self.login_of(h)? == Some(CKU_USER))
    }

    /// Whether the security officer is logged in on the token of session `h`.
    pub(crate) fn so_logged_in(&mut self, h: CK_SESSION_HANDLE) -> Ck<bool> {
        Ok(self.login_of(h)? == Some(CKU_SO))
    }

    /// A fresh session handle.
    pub(crate) fn new_session(&mut self, session: Session) -> CK_SESSION_HANDLE {
        let h = self.next_session;
        self.next_session += 1;
        self.sessions.insert(h, session);
        h
    }

    /// Stores `object` under a fresh handle.
    pub(crate) fn new_object(&mut self, object: Object) -> CK_OBJECT_HANDLE {
        let h = self.next_object;
        self.next_object += 1;
        self.objects.insert(h, object);
        h
    }

    /// Closes session `h`: its operations end, its session objects go, and closing the
    /// last session of a token logs the application out of it.
    pub(crate) fn close_session(&mut self, h: CK_SESSION_HANDLE) -> Ck {
        let session = self.sessions.remove(&h).ok_or(CKR_SESSION_HANDLE_INVALID)?;
        self.objects.retain(|_, object| object.session != Some(h));
        self.closed.insert(h, session.notify);
        if !self.sessions.values().any(|s| s.slot == session.slot) {
            self.token(session.slot)?.login = None;
        }
        Ok(())
    }

    /// Starts an initialization: fresh handles, no sessions, nobody logged in; token
    /// objects get new handles.
    fn start(&mut self) {
        self.initialized = true;
        self.generation += 1;
        self.next_session = 1;
        self.next_object = 1;
        self.sessions.clear();
        self.closed.clear();
        self.events.clear();
        for token in &mut self.tokens {
            token.login = None;
        }
        let objects = std::mem::take(&mut self.objects);
        for (_, object) in objects {
            if object.session.is_none() {
                self.new_object(object);
            }
        }
    }

    /// Ends an initialization.
    fn stop(&mut self) {
        self.initialized = false;
        self.generation += 1;
        self.sessions.clear();
        self.closed.clear();
        self.events.clear();
        self.objects.retain(|_, object| object.session.is_none());
        for token in &mut self.tokens {
            token.login = None;
        }
        if let Some(app) = self.app_mutex.take() {
            if let Some(destroy) = app.destroy {
                // SAFETY: the application's DestroyMutex, on the mutex its CreateMutex
                // made (PKCS #11 §5.4: the module destroys what it created).
                unsafe { destroy(app.mutex as CK_VOID_PTR) };
            }
        }
        EVENT.notify_all();
    }
}

// ---------------------------------------------------------------------------------------
// Fork
// ---------------------------------------------------------------------------------------

/// Bumped in every fork child (all the atfork handler does).
static FORKS: AtomicU64 = AtomicU64::new(0);
/// [`FORKS`] when the module was initialized; `u64::MAX` while it is not.
static INITIALIZED_AT: AtomicU64 = AtomicU64::new(u64::MAX);

#[cfg(unix)]
extern "C" fn in_fork_child() {
    FORKS.fetch_add(1, Ordering::Relaxed);
}

fn watch_forks() {
    static ONCE: Once = Once::new();
    #[cfg(unix)]
    ONCE.call_once(|| {
        // SAFETY: registers a handler that only bumps an atomic (async-signal-safe). The
        // registration is tied to this library and removed if it is unloaded.
        unsafe { libc::pthread_atfork(None, None, Some(in_fork_child)) };
    });
    #[cfg(not(unix))]
    ONCE.call_once(|| {});
}

/// Whether this process is a fork child of the one that initialized the module.
fn forked_since_initialized() -> bool {
    let at = INITIALIZED_AT.load(Ordering::Acquire);
    at != u64::MAX && at != FORKS.load(Ordering::Relaxed)
}

/// Whether `function` answers `CKR_DEVICE_ERROR` here (a fork child, plan `fork=nss`).
pub(crate) fn refused_after_fork(function: Function) -> bool {
    forked_since_initialized()
        && plan::fork_mode() == ForkMode::DeviceError
        && !matches!(
            function,
            Function::Initialize
                | Function::GetFunctionList
                | Function::GetInterfaceList
                | Function::GetInterface
        )
}

// ---------------------------------------------------------------------------------------
// C_Initialize, C_Finalize
// ---------------------------------------------------------------------------------------

/// `C_Initialize`: NULL arguments, or arguments with all or none of the mutex callbacks
/// and a NULL `pReserved`. With callbacks, the module creates one mutex with them (and
/// locks and unlocks it once) and destroys it in `C_Finalize`; it locks with its own.
pub(crate) unsafe extern "C" fn initialize(p_init_args: CK_VOID_PTR) -> CK_RV {
    run(Function::Initialize, None, || {
        let mut callbacks = None;
        if !p_init_args.is_null() {
            // SAFETY: a non-NULL argument points to a CK_C_INITIALIZE_ARGS (the caller's
            // contract); read unaligned so a misaligned one is no UB here.
            let args = unsafe { p_init_args.cast::<CK_C_INITIALIZE_ARGS>().read_unaligned() };
            // Fields are copied out (`{ ... }`): the struct is packed on Windows.
            let (create, destroy, lock, unlock) = (
                { args.CreateMutex },
                { args.DestroyMutex },
                { args.LockMutex },
                { args.UnlockMutex },
            );
            let set = [
                create.is_some(),
                destroy.is_some(),
                lock.is_some(),
                unlock.is_some(),
            ];
            if !(set.iter().all(|&s| s) || set.iter().all(|&s| !s)) || !{ args.pReserved }.is_null()
            {
                return Err(CKR_ARGUMENTS_BAD);
            }
            if set[0] {
                callbacks = Some((create, destroy, lock, unlock));
            }
        }
        watch_forks();
        let mut state = lock();
        if state.initialized {
            if !(forked_since_initialized() && plan::fork_mode() == ForkMode::DeviceError) {
                return Err(CKR_CRYPTOKI_ALREADY_INITIALIZED);
            }
            // NSS: the child starts afresh.
            state.initialized = false;
        }
        if let Some((create, destroy, lock, unlock)) = callbacks {
            // SAFETY: the application's callbacks, called as PKCS #11 §5.4 describes.
            state.app_mutex = Some(unsafe { app_mutex(create, destroy, lock, unlock) }?);
        }
        state.start();
        INITIALIZED_AT.store(FORKS.load(Ordering::Relaxed), Ordering::Release);
        Ok(())
    })
}

/// Creates one mutex with the application's callbacks, and locks and unlocks it.
///
/// # Safety
/// The callbacks are the application's, which promises they work.
unsafe fn app_mutex(
    create: CK_CREATEMUTEX,
    destroy: CK_DESTROYMUTEX,
    lock: CK_LOCKMUTEX,
    unlock: CK_UNLOCKMUTEX,
) -> Ck<AppMutex> {
    let (Some(create), Some(lock), Some(unlock)) = (create, lock, unlock) else {
        return Err(CKR_ARGUMENTS_BAD);
    };
    let mut mutex: CK_VOID_PTR = core::ptr::null_mut();
    // SAFETY: `mutex` is a writable pointer (the callback's contract).
    let rv = unsafe { create(&mut mutex) };
    if rv != 0 {
        return Err(rv);
    }
    let app = AppMutex {
        destroy,
        mutex: mutex as usize,
    };
    // SAFETY: the mutex the application just created.
    let rv = unsafe { lock(mutex) };
    if rv == 0 {
        // SAFETY: as above; locked by us.
        unsafe { unlock(mutex) };
    }
    Ok(app)
}

/// `C_Finalize`: sessions close, blocked `C_WaitForSlotEvent` calls return.
pub(crate) unsafe extern "C" fn finalize(p_reserved: CK_VOID_PTR) -> CK_RV {
    run(Function::Finalize, None, || {
        if !p_reserved.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        with(|state| {
            state.stop();
            INITIALIZED_AT.store(u64::MAX, Ordering::Release);
            Ok(())
        })
    })
}

/// End the operations a failing call of `function` on session `h` ends.
pub(crate) fn end_operations_of(function: Function, h: CK_SESSION_HANDLE) {
    let mut state = lock();
    if let Ok(session) = state.session(h) {
        for &kind in operations_of(function) {
            session.ops.end(kind);
        }
    }
}

// ---------------------------------------------------------------------------------------
// Notifications and control
// ---------------------------------------------------------------------------------------

/// The callback of session `h`, open or closed.
fn notify_of(h: CK_SESSION_HANDLE) -> Option<Notify> {
    let state = lock();
    let notify = match state.sessions.get(&h) {
        Some(session) => session.notify,
        None => *state.closed.get(&h)?,
    };
    notify.callback.is_some().then_some(notify)
}

/// Calls `notify` (never under the state lock: the callback may call the module).
fn deliver(h: CK_SESSION_HANDLE, notify: Notify, event: CK_NOTIFICATION) -> CK_RV {
    match notify.callback {
        // SAFETY: the callback and pApplication the application gave C_OpenSession;
        // PKCS #11 lets the module call it at any time while the session is open. After
        // the close (fault_notify), relying on it is what the test is about.
        Some(callback) => unsafe { callback(h, event, notify.application as CK_VOID_PTR) },
        None => 0,
    }
}

/// Plan action `notify`: the callback's answer (inline), or `None`.
pub(crate) fn notify_from_call(h: CK_SESSION_HANDLE, mode: NotifyMode) -> Option<CK_RV> {
    let notify = notify_of(h)?;
    match mode {
        NotifyMode::Inline => Some(deliver(h, notify, CKN_SURRENDER)),
        NotifyMode::Thread => {
            std::thread::spawn(move || deliver(h, notify, CKN_SURRENDER));
            None
        }
    }
}

/// `fault_notify`: calls the callback of session `h` (open or closed) with `event` —
/// on this thread (`mode` 0), on a new thread joined before returning (1), or on a new
/// thread not waited for (2, answers `CKR_OK`). `None` if the session has no callback.
pub(crate) fn notify_now(h: CK_SESSION_HANDLE, event: CK_NOTIFICATION, mode: i32) -> Option<CK_RV> {
    let notify = notify_of(h)?;
    Some(match mode {
        0 => deliver(h, notify, event),
        1 => std::thread::spawn(move || deliver(h, notify, event))
            .join()
            .unwrap_or(CK_ULONG::MAX),
        _ => {
            std::thread::spawn(move || deliver(h, notify, event));
            0
        }
    })
}

/// `fault_raise_slot_event`: queues an event for `slot` (false if not initialized or no
/// such slot).
pub(crate) fn raise_slot_event(slot: CK_SLOT_ID) -> bool {
    let mut state = lock();
    if !state.initialized || !SLOTS.contains(&slot) {
        return false;
    }
    state.events.push_back(slot);
    EVENT.notify_all();
    true
}
