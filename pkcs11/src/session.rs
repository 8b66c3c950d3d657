//! Sessions and the operation guard.
//!
//! A [`Session`] owns its handle and closes it on drop. It is `Send + Sync`: one
//! logged-in session may serve many threads. Each session has a reentrant lock (owner
//! thread and depth): a single-part call holds it for the call; a multi-step operation
//! (object search, multipart digest / encrypt / decrypt / sign / verify) returns an
//! [`Operation`] guard that borrows the session and holds the lock until the operation
//! is finished or the guard dropped. Other threads wait meanwhile, so the module never
//! sees two operations interleaved on one session.
//!
//! On the thread that holds a guard, starting another operation of the same kind gives
//! [`Error::OperationActive`] without calling the module (and without deadlock).
//! Dropping an unfinished guard cancels the operation: `C_SessionCancel` (3.x), else the
//! NULL-mechanism `*Init` (3.x), else finishing it into a scratch buffer that is wiped;
//! if everything fails the session is poisoned. Session-fatal return values
//! (`SESSION_HANDLE_INVALID`, `SESSION_CLOSED`, `DEVICE_REMOVED`, `TOKEN_NOT_PRESENT`,
//! `CRYPTOKI_NOT_INITIALIZED`) poison the session too: no further call reaches the
//! module through it.

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use crate::context::{log_error, Pkcs11};
use crate::error::{Error, Result, Rv};
use crate::raw::{self, Returned};

/// The kinds of multi-step operation a session can have active.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
#[repr(u8)]
pub enum OperationKind {
    /// `C_FindObjectsInit` .. `C_FindObjectsFinal`.
    Find,
    /// `C_DigestInit` .. `C_DigestFinal`.
    Digest,
    /// `C_EncryptInit` .. `C_EncryptFinal`.
    Encrypt,
    /// `C_DecryptInit` .. `C_DecryptFinal`.
    Decrypt,
    /// `C_SignInit` .. `C_SignFinal`.
    Sign,
    /// `C_VerifyInit` .. `C_VerifyFinal`.
    Verify,
    /// `C_SignRecoverInit` .. `C_SignRecover`.
    SignRecover,
    /// `C_VerifyRecoverInit` .. `C_VerifyRecover`.
    VerifyRecover,
    /// `C_MessageEncryptInit` .. `C_MessageEncryptFinal` (3.0).
    MessageEncrypt,
    /// `C_MessageDecryptInit` .. `C_MessageDecryptFinal` (3.0).
    MessageDecrypt,
    /// `C_MessageSignInit` .. `C_MessageSignFinal` (3.0).
    MessageSign,
    /// `C_MessageVerifyInit` .. `C_MessageVerifyFinal` (3.0).
    MessageVerify,
    /// `C_VerifySignatureInit` .. `C_VerifySignature` / `C_VerifySignatureFinal` (3.2).
    VerifySignature,
}

impl OperationKind {
    /// The kind's bit in a session's set of active operations.
    const fn bit(self) -> u32 {
        1 << (self as u32)
    }

    /// A short name for messages: `"an object search"`, `"a digest"`...
    pub const fn describe(self) -> &'static str {
        match self {
            OperationKind::Find => "an object search",
            OperationKind::Digest => "a digest",
            OperationKind::Encrypt => "an encryption",
            OperationKind::Decrypt => "a decryption",
            OperationKind::Sign => "a signature",
            OperationKind::Verify => "a verification",
            OperationKind::SignRecover => "a sign-recover",
            OperationKind::VerifyRecover => "a verify-recover",
            OperationKind::MessageEncrypt => "a message-based encryption",
            OperationKind::MessageDecrypt => "a message-based decryption",
            OperationKind::MessageSign => "a message-based signature",
            OperationKind::MessageVerify => "a message-based verification",
            OperationKind::VerifySignature => "a signature verification",
        }
    }

    /// The `C_SessionCancel` flag for this kind.
    pub(crate) const fn cancel_flag(self) -> ffi::CK_FLAGS {
        match self {
            OperationKind::Find => ffi::CKF_FIND_OBJECTS,
            OperationKind::Digest => ffi::CKF_DIGEST,
            OperationKind::Encrypt => ffi::CKF_ENCRYPT,
            OperationKind::Decrypt => ffi::CKF_DECRYPT,
            OperationKind::Sign => ffi::CKF_SIGN,
            OperationKind::Verify => ffi::CKF_VERIFY,
            OperationKind::SignRecover => ffi::CKF_SIGN_RECOVER,
            OperationKind::VerifyRecover => ffi::CKF_VERIFY_RECOVER,
            OperationKind::MessageEncrypt => ffi::CKF_MESSAGE_ENCRYPT,
            OperationKind::MessageDecrypt => ffi::CKF_MESSAGE_DECRYPT,
            OperationKind::MessageSign => ffi::CKF_MESSAGE_SIGN,
            OperationKind::MessageVerify => ffi::CKF_MESSAGE_VERIFY,
            // A 3.2 verification with the signature given at init is a verification.
            OperationKind::VerifySignature => ffi::CKF_VERIFY,
        }
    }
}

/// The session's reentrant lock: an owner word taken with one compare-exchange when
/// free, a depth for re-entry, and a mutex and condition variable only for threads that
/// have to wait.
///
/// `depth` and `active` are only touched by the owner, so relaxed accesses suffice: the
/// release store of `owner` and the acquiring compare-exchange of the next owner order
/// them. A waiter registers in `waiters` and re-checks `owner` while holding `parked`; a
/// release stores `owner` then reads `waiters`, and if anyone waits, takes `parked`
/// before notifying. Both sides use sequentially consistent operations, so either the
/// waiter sees the lock free or the release sees the waiter, and the notification cannot
/// fall between the waiter's check and its wait.
#[derive(Default)]
struct ReentrantLock {
    /// 0 when free, else the owning thread's token ([`thread_token`]).
    owner: AtomicUsize,
    depth: AtomicUsize,
    /// Threads waiting for the lock (a condition variable's notify is a system call
    /// even when nobody waits, so a release notifies only when this is not 0).
    waiters: AtomicUsize,
    parked: Mutex<()>,
    released: Condvar,
    /// Operations the owner has active (guards alive), one bit per kind.
    active: AtomicU32,
}

impl ReentrantLock {
    /// Takes the lock one level deeper for the calling thread.
    #[inline]
    fn acquire(&self) {
        let me = thread_token();
        if self.owner.load(Ordering::Relaxed) == me {
            self.depth.fetch_add(1, Ordering::Relaxed);
            return;
        }
        if self
            .owner
            .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.wait_for(me);
        }
        self.depth.store(1, Ordering::Relaxed);
    }

    /// The contended path: waits until the lock is ours. Spins briefly first (most
    /// holds are one module call, shorter than putting a thread to sleep and waking it),
    /// then sleeps on the condition variable.
    #[cold]
    fn wait_for(&self, me: usize) {
        for _ in 0..SPINS {
            std::hint::spin_loop();
            if self.owner.load(Ordering::Relaxed) == 0
                && self
                    .owner
                    .compare_exchange(0, me, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                return;
            }
        }
        let mut parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
        self.waiters.fetch_add(1, Ordering::SeqCst);
        while self
            .owner
            .compare_exchange(0, me, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            parked = self
                .released
                .wait(parked)
                .unwrap_or_else(|e| e.into_inner());
        }
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }

    /// Leaves one level; the last one frees the lock and wakes a waiter, if any.
    #[inline]
    fn release(&self) {
        let depth = self.depth.load(Ordering::Relaxed) - 1;
        self.depth.store(depth, Ordering::Relaxed);
        if depth == 0 {
            self.owner.store(0, Ordering::SeqCst);
            if self.waiters.load(Ordering::SeqCst) != 0 {
                self.wake_one();
            }
        }
    }

    /// Wakes one waiting thread (the contended path of [`ReentrantLock::release`]).
    #[cold]
    #[inline(never)]
    fn wake_one(&self) {
        let _parked = self.parked.lock().unwrap_or_else(|e| e.into_inner());
        self.released.notify_one();
    }
}

/// How many times a thread finding a session's lock taken checks again before it
/// sleeps (as many as the standard library's mutex spins).
const SPINS: u32 = 100;

/// `poisoned` value meaning "not poisoned".
const HEALTHY: u64 = u64::MAX;
/// `poisoned` value meaning "poisoned without a return value" (cancellation failed).
const POISONED_NO_RV: u64 = u64::MAX - 1;

/// An open session. Closed on drop (errors reported, never a panic; silent after fork
/// or finalization), or explicitly with [`Session::close`].
pub struct Session {
    p11: Pkcs11,
    handle: ffi::CK_SESSION_HANDLE,
    slot: ffi::CK_SLOT_ID,
    lock: ReentrantLock,
    poisoned: AtomicU64,
    closed: AtomicBool,
    /// The notification callback's state (callback.rs), released after the close.
    pub(crate) notify: Option<crate::callback::NotifyHandle>,
    /// Buffers handed to `C_AsyncJoin`: the module may write into them until the
    /// session is closed, so they live as long as the session's handle does.
    joined: Mutex<Vec<Box<[u8]>>>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("handle", &self.handle)
            .field("slot", &self.slot)
            .field("poisoned", &self.poison_cause())
            .finish_non_exhaustive()
    }
}

/// Holds a session's reentrant lock; released on drop.
pub(crate) struct LockGuard<'s> {
    session: &'s Session,
}

impl Drop for LockGuard<'_> {
    #[inline]
    fn drop(&mut self) {
        self.session.lock.release();
    }
}

/// A number that identifies the calling thread for the session locks (never 0, never
/// reused: a counter, not an address).
#[inline]
fn thread_token() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    thread_local! {
        // 0 until the thread's first lock. A `const` thread-local without destructor:
        // one load on the hot path, and usable during thread-local destruction.
        static TOKEN: Cell<usize> = const { Cell::new(0) };
    }
    let token = TOKEN.with(Cell::get);
    if token != 0 {
        return token;
    }
    let token = NEXT.fetch_add(1, Ordering::Relaxed);
    TOKEN.with(|t| t.set(token));
    token
}

impl Session {
    /// Opens a session on `slot` with `C_OpenSession` (`CKF_SERIAL_SESSION` is added).
    pub(crate) fn open(
        p11: &Pkcs11,
        slot: ffi::CK_SLOT_ID,
        flags: ffi::CK_FLAGS,
    ) -> Result<Session> {
        let mut handle: ffi::CK_SESSION_HANDLE = ffi::CK_INVALID_HANDLE;
        raw::session::open_session(
            &p11.inner,
            slot,
            flags | ffi::CKF_SERIAL_SESSION,
            &mut handle,
        )?
        .ok()?;
        Ok(Session::adopt(p11, slot, handle))
    }

    /// Wraps a session handle just opened by `C_OpenSession`; it is closed on drop.
    pub(crate) fn adopt(
        p11: &Pkcs11,
        slot: ffi::CK_SLOT_ID,
        handle: ffi::CK_SESSION_HANDLE,
    ) -> Session {
        Session {
            p11: p11.clone(),
            handle,
            slot,
            lock: ReentrantLock::default(),
            poisoned: AtomicU64::new(HEALTHY),
            closed: AtomicBool::new(false),
            notify: None,
            joined: Mutex::new(Vec::new()),
        }
    }

    /// Like [`Session::adopt`], for a session opened with a notification callback
    /// (callback.rs); `notify` is released after the session is closed.
    pub(crate) fn adopt_with_notify(
        p11: &Pkcs11,
        slot: ffi::CK_SLOT_ID,
        handle: ffi::CK_SESSION_HANDLE,
        notify: crate::callback::NotifyHandle,
    ) -> Session {
        let mut session = Session::adopt(p11, slot, handle);
        session.notify = Some(notify);
        session
    }

    /// The raw session handle (valid while this `Session` is open).
    pub fn handle(&self) -> ffi::CK_SESSION_HANDLE {
        self.handle
    }

    /// The slot the session was opened on.
    pub fn slot_id(&self) -> ffi::CK_SLOT_ID {
        self.slot
    }

    /// The module handle this session keeps alive.
    pub fn pkcs11(&self) -> &Pkcs11 {
        &self.p11
    }

    /// Why the session is unusable, if it is: `Some(Some(rv))` for a session-fatal
    /// return value, `Some(None)` for an operation that could not be cancelled.
    #[inline]
    pub fn poison_cause(&self) -> Option<Option<Rv>> {
        match self.poisoned.load(Ordering::Acquire) {
            HEALTHY => None,
            POISONED_NO_RV => Some(None),
            rv => Some(Some(Rv::from_raw(
                ffi::CK_RV::try_from(rv).unwrap_or(ffi::CK_RV::MAX),
            ))),
        }
    }

    /// Whether the session can still reach the module.
    pub fn is_usable(&self) -> bool {
        self.poison_cause().is_none() && self.p11.inner.is_usable()
    }

    /// Takes the session's reentrant lock (waiting for other threads' operations).
    #[inline]
    pub(crate) fn lock(&self) -> LockGuard<'_> {
        self.lock.acquire();
        LockGuard { session: self }
    }

    /// Takes the lock for one call, refusing it if the session is poisoned.
    #[inline]
    pub(crate) fn locked(&self) -> Result<LockGuard<'_>> {
        self.check_usable()?;
        Ok(self.lock())
    }

    /// Fails if the session is poisoned.
    #[inline]
    pub(crate) fn check_usable(&self) -> Result<()> {
        if self.poisoned.load(Ordering::Acquire) == HEALTHY {
            return Ok(());
        }
        self.poisoned_error()
    }

    /// The error for a poisoned session (the cold half of [`Session::check_usable`]).
    #[cold]
    #[inline(never)]
    fn poisoned_error(&self) -> Result<()> {
        match self.poison_cause() {
            None => Ok(()),
            Some(cause) => Err(Error::SessionPoisoned { cause }),
        }
    }

    /// Records a module call's outcome: a session-fatal value poisons the session.
    /// Returns the `Returned` unchanged.
    #[inline]
    pub(crate) fn track(&self, returned: Result<Returned>) -> Result<Returned> {
        if let Ok(r) = &returned {
            if r.rv != ffi::CKR_OK && Rv::from_raw(r.rv).is_session_fatal() {
                let _ = self.poisoned.compare_exchange(
                    HEALTHY,
                    #[allow(clippy::useless_conversion)] // CK_RV is 32 bits on Windows
                    u64::from(r.rv),
                    Ordering::AcqRel,
                    Ordering::Acquire,
                );
            }
        }
        returned
    }

    /// Like [`Session::track`], then `CKR_OK` or the error.
    #[inline]
    pub(crate) fn track_ok(&self, returned: Result<Returned>) -> Result<()> {
        self.track(returned)?.ok()
    }

    fn poison(&self) {
        let _ = self.poisoned.compare_exchange(
            HEALTHY,
            POISONED_NO_RV,
            Ordering::AcqRel,
            Ordering::Acquire,
        );
    }

    /// Starts a multi-step operation of `kind`: takes the lock and records the kind.
    /// Single-part calls use it too (their `*Init` and call must not be separated).
    ///
    /// # Errors
    /// [`Error::OperationActive`] if this thread already has one of that kind active on
    /// this session; [`Error::SessionPoisoned`] if the session is unusable.
    #[inline]
    pub(crate) fn begin(&self, kind: OperationKind) -> Result<Operation<'_>> {
        self.check_usable()?;
        let lock = self.lock();
        // Only the owner touches `active` (see `ReentrantLock`).
        let active = self.lock.active.load(Ordering::Relaxed);
        if active & kind.bit() != 0 {
            return Err(Error::OperationActive {
                active: kind.describe(),
                requested: kind.describe(),
            });
        }
        self.lock
            .active
            .store(active | kind.bit(), Ordering::Relaxed);
        Ok(Operation {
            session: self,
            kind,
            running: true,
            _lock: lock,
            _this_thread: PhantomData,
            // Every module call of the operation, its cancellation included, is traced
            // inside this span (feature `tracing`).
            #[cfg(feature = "tracing")]
            _span: tracing::trace_span!(
                target: "pkcs11",
                "operation",
                kind = kind.describe(),
                session = self.handle
            )
            .entered(),
        })
    }

    /// The module internals, for the call macros.
    #[inline]
    pub(crate) fn inner(&self) -> &crate::context::Inner {
        &self.p11.inner
    }

    /// Closes the session now, returning the module's answer.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_CloseSession`; nothing is called (and `Ok` returned)
    /// after fork, after finalization or on a poisoned session.
    #[doc(alias = "C_CloseSession")]
    pub fn close(self) -> Result<()> {
        self.close_now()
        // `Drop` finds the session closed.
    }

    /// Closes the handle once (later calls do nothing).
    #[inline]
    fn close_now(&self) -> Result<()> {
        let _lock = self.lock();
        if self.closed.swap(true, Ordering::AcqRel)
            || self.poisoned.load(Ordering::Acquire) != HEALTHY
            || !self.p11.inner.is_usable()
        {
            return Ok(());
        }
        self.track_ok(raw::session::close_session(self.inner(), self.handle))
    }

    /// Cancels an unfinished operation of `kind` (see the module documentation).
    #[cold]
    #[inline(never)]
    fn cancel(&self, kind: OperationKind) {
        if !self.is_usable() {
            return;
        }
        let inner = self.inner();
        // 1. C_SessionCancel (3.x). Its flags have no bit for a 3.2 signature
        // verification (CKF_VERIFY names the other kind), so that one goes to step 2.
        if inner.functions_3_0().is_some() {
            if kind != OperationKind::VerifySignature {
                let r = raw::session::session_cancel(inner, self.handle, kind);
                if Self::accepted(self.track(r)) {
                    return;
                }
            }
            // 2. The NULL-mechanism *Init of 3.x also ends the operation.
            if let Some(r) = raw::session::null_init(inner, self.handle, kind) {
                if Self::accepted(self.track(r)) {
                    return;
                }
            }
        }
        // 3. Finish it, discarding (and wiping) what it produces.
        if self.finish_into_scratch(kind) {
            return;
        }
        self.poison();
    }

    fn accepted(returned: Result<Returned>) -> bool {
        matches!(
            returned,
            Ok(Returned {
                rv: ffi::CKR_OK,
                ..
            })
        )
    }

    /// Ends `kind` the 2.x way: `C_FindObjectsFinal`, or the `*Final` call into a
    /// scratch buffer that is wiped afterwards. True if the operation ended.
    fn finish_into_scratch(&self, kind: OperationKind) -> bool {
        let ended = self.end_with(kind, raw::session::finish_into);
        if ended == Some(ffi::CKR_OK) {
            return true;
        }
        // The standard says any other answer ends the operation too, but some modules
        // (SoftHSM for RSA streams) refuse the multi-part *Final with
        // CKR_FUNCTION_NOT_SUPPORTED and keep the operation active. The single-part call
        // with empty input ends it there; where the *Final did end it, this answers
        // CKR_OPERATION_NOT_INITIALIZED, which is harmless.
        match self.end_with(kind, raw::session::single_part_into) {
            Some(_) => true,
            None => ended.is_some(),
        }
    }

    /// Runs one way of ending `kind` into a scratch buffer that is wiped afterwards,
    /// growing it once (to at most 1 MiB) on `CKR_BUFFER_TOO_SMALL`. `Some(rv)` is the
    /// final answer; `None` if the call could not be made or the buffer never sufficed.
    fn end_with(
        &self,
        kind: OperationKind,
        end: fn(
            &crate::context::Inner,
            ffi::CK_SESSION_HANDLE,
            OperationKind,
            &mut [u8],
            &mut ffi::CK_ULONG,
        ) -> Result<Returned>,
    ) -> Option<ffi::CK_RV> {
        let mut scratch = zeroize::Zeroizing::new(vec![0u8; 4096]);
        for _ in 0..2 {
            let mut len: ffi::CK_ULONG = 0;
            match self.track(end(self.inner(), self.handle, kind, &mut scratch, &mut len)) {
                Ok(Returned {
                    rv: ffi::CKR_BUFFER_TOO_SMALL,
                    ..
                }) if len <= 1 << 20 => {
                    // The old buffer is wiped when it is dropped here.
                    scratch = zeroize::Zeroizing::new(vec![0u8; len as usize]);
                }
                Ok(Returned { rv, .. }) if rv != ffi::CKR_BUFFER_TOO_SMALL => return Some(rv),
                _ => return None,
            }
        }
        None
    }
}

/// What [`Session::async_complete`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AsyncOutcome {
    /// `CKR_PENDING`: the function has not completed yet.
    Pending,
    /// The function completed (`CK_ASYNC_DATA`): the length of its value (written into
    /// the buffer given to the original call) and the objects it made, if any.
    Done {
        /// `ulValue`.
        value_len: u64,
        /// The value, when `pValue` points into a buffer given to
        /// [`Session::async_join`] on this session (otherwise it is in the buffer of the
        /// original call, which this crate does not hand out).
        value: Option<Vec<u8>>,
        /// `hObject` (`None` for `CK_INVALID_HANDLE`).
        object: Option<crate::ObjectHandle>,
        /// `hAdditionalObject` (`None` for `CK_INVALID_HANDLE`).
        additional_object: Option<crate::ObjectHandle>,
    },
}

/// The function name as the module expects it: NUL-terminated UTF-8.
fn function_name(function: &str) -> Result<std::ffi::CString> {
    std::ffi::CString::new(function).map_err(|_| Error::InvalidInput {
        what: format!("the function name {function:?} contains a NUL byte"),
    })
}

impl Session {
    /// Asks whether the asynchronous call of `function` (e.g. `"C_Sign"`) on this
    /// session has completed (PKCS #11 3.2, sessions opened with `CKF_ASYNC_SESSION`).
    ///
    /// # Errors
    /// [`Error::NotSupported`] naming `C_AsyncComplete` on a module without it;
    /// [`Error::Module`] naming it (Kryoptic 1.5 answers `CKR_FUNCTION_NOT_SUPPORTED`);
    /// [`Error::InvalidInput`] for a name with a NUL byte.
    #[doc(alias = "C_AsyncComplete")]
    pub fn async_complete(&self, function: &str) -> Result<AsyncOutcome> {
        let name = function_name(function)?;
        let _lock = self.locked()?;
        let mut data = ffi::CK_ASYNC_DATA {
            ulVersion: 1,
            pValue: std::ptr::null_mut(),
            ulValue: 0,
            hObject: ffi::CK_INVALID_HANDLE,
            hAdditionalObject: ffi::CK_INVALID_HANDLE,
        };
        let returned = self.track(raw::session::async_complete(
            self.inner(),
            self.handle,
            &name,
            &mut data,
        ))?;
        if returned.rv == ffi::CKR_PENDING {
            return Ok(AsyncOutcome::Pending);
        }
        returned.ok()?;
        let handle = |h: ffi::CK_OBJECT_HANDLE| {
            (h != ffi::CK_INVALID_HANDLE).then_some(crate::ObjectHandle(h))
        };
        #[allow(clippy::useless_conversion)] // CK_ULONG is 32 bits on Windows
        let value_len = u64::from(data.ulValue);
        let value = usize::try_from(value_len)
            .ok()
            .and_then(|len| self.joined_output(data.pValue.cast_const(), len));
        Ok(AsyncOutcome::Done {
            value_len,
            value,
            object: handle(data.hObject),
            additional_object: handle(data.hAdditionalObject),
        })
    }

    /// Joins, on this session, the asynchronous call of `function` with ID `id` started
    /// on another session (PKCS #11 3.2; the ID comes from
    /// [`Session::async_get_id`] there), giving the module a buffer of `capacity`
    /// bytes for the call's output.
    ///
    /// The module may write into that buffer after this call returns, until the call
    /// completes, so the buffer belongs to the session: it lives until the session is
    /// closed. [`Session::async_complete`] then reports the completion, and
    /// [`AsyncOutcome::Done`] carries the output copied out of the buffer.
    ///
    /// # Errors
    /// [`Error::NotSupported`] or [`Error::Module`] naming `C_AsyncJoin`;
    /// [`Error::InvalidInput`] for a name with a NUL byte or a capacity that does not
    /// fit a `CK_ULONG`.
    #[doc(alias = "C_AsyncJoin")]
    pub fn async_join(&self, function: &str, id: u64, capacity: usize) -> Result<()> {
        let name = function_name(function)?;
        let id = ffi::CK_ULONG::try_from(id).map_err(|_| Error::InvalidInput {
            what: format!("the asynchronous call ID {id} does not fit a CK_ULONG"),
        })?;
        let _lock = self.locked()?;
        let mut joined = self.joined.lock().unwrap_or_else(|e| e.into_inner());
        let mut buffer = vec![0u8; capacity].into_boxed_slice();
        let returned = self.track(raw::session::async_join(
            self.inner(),
            self.handle,
            &name,
            id,
            &mut buffer,
        ))?;
        // Whatever the answer, the module saw the buffer: keep it with the session.
        joined.push(buffer);
        returned.ok()
    }

    /// The bytes at `pointer` (`len` of them) if they lie inside a buffer this session
    /// gave to `C_AsyncJoin`.
    fn joined_output(&self, pointer: *const u8, len: usize) -> Option<Vec<u8>> {
        let joined = self.joined.lock().unwrap_or_else(|e| e.into_inner());
        joined.iter().find_map(|buffer| {
            let start = buffer.as_ptr() as usize;
            let offset = (pointer as usize).checked_sub(start)?;
            buffer
                .get(offset..offset.checked_add(len)?)
                .map(<[u8]>::to_vec)
        })
    }

    /// The ID of the pending asynchronous call of `function` on this session, to join
    /// it from another session (PKCS #11 3.2).
    ///
    /// # Errors
    /// [`Error::NotSupported`] or [`Error::Module`] naming `C_AsyncGetID`;
    /// [`Error::InvalidInput`] for a name with a NUL byte.
    #[doc(alias = "C_AsyncGetID")]
    pub fn async_get_id(&self, function: &str) -> Result<u64> {
        let name = function_name(function)?;
        let _lock = self.locked()?;
        let mut id: ffi::CK_ULONG = 0;
        self.track_ok(raw::session::async_get_id(
            self.inner(),
            self.handle,
            &name,
            &mut id,
        ))?;
        #[allow(clippy::useless_conversion)] // CK_ULONG is 32 bits on Windows
        Ok(u64::from(id))
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let Err(error) = self.close_now() {
            log_error(&error);
        }
        // A session poisoned by an operation that could not be cancelled is never
        // closed: the module may still write into joined buffers, so they are leaked
        // rather than freed under it.
        if self.poison_cause() == Some(None) {
            let joined = std::mem::take(self.joined.get_mut().unwrap_or_else(|e| e.into_inner()));
            for buffer in joined {
                let _: &mut [u8] = Box::leak(buffer);
            }
        }
    }
}

/// A multi-step operation in progress: holds the session's lock until finished or
/// dropped. Dropping it unfinished cancels the operation.
#[must_use = "dropping the guard cancels the operation"]
pub struct Operation<'s> {
    session: &'s Session,
    kind: OperationKind,
    running: bool,
    _lock: LockGuard<'s>,
    /// The lock belongs to this thread: the guard (and every stream built on it) must
    /// not move to another thread, so it is neither `Send` nor `Sync`.
    _this_thread: PhantomData<*const ()>,
    /// The operation's tracing span, entered until the guard is dropped.
    #[cfg(feature = "tracing")]
    _span: tracing::span::EnteredSpan,
}

impl std::fmt::Debug for Operation<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operation")
            .field("kind", &self.kind)
            .field("running", &self.running)
            .finish_non_exhaustive()
    }
}

impl<'s> Operation<'s> {
    /// The session the operation runs on.
    pub fn session(&self) -> &'s Session {
        self.session
    }

    /// The operation's kind.
    pub fn kind(&self) -> OperationKind {
        self.kind
    }

    /// Records a call of this operation. Per PKCS #11, every error but
    /// `CKR_BUFFER_TOO_SMALL` ends the operation, so the guard stops tracking it — except
    /// `CKR_FUNCTION_NOT_SUPPORTED`: SoftHSM answers it to multi-part RSA calls and keeps
    /// the operation active, so the guard still cancels it when dropped (a cancel of an
    /// ended operation only costs a call answered `CKR_OPERATION_NOT_INITIALIZED`).
    #[inline]
    pub(crate) fn track(&mut self, returned: Result<Returned>) -> Result<Returned> {
        let returned = self.session.track(returned);
        match &returned {
            Ok(r)
                if matches!(
                    r.rv,
                    ffi::CKR_OK | ffi::CKR_BUFFER_TOO_SMALL | ffi::CKR_FUNCTION_NOT_SUPPORTED
                ) => {}
            Ok(_) => self.running = false,
            Err(_) => {}
        }
        returned
    }

    /// Marks the operation as ended by the module (a final call returned).
    #[inline]
    pub(crate) fn ended(&mut self) {
        self.running = false;
    }

    /// Whether the module still has the operation active.
    #[inline]
    pub fn is_running(&self) -> bool {
        self.running
    }

    /// Cancels the operation now with `C_SessionCancel` (PKCS #11 3.0) and reports the
    /// module's answer (dropping the guard cancels silently instead).
    ///
    /// If the call fails — a 2.x module has no `C_SessionCancel`, or the module refuses
    /// — the guard still ends the operation another way as it goes (the NULL-mechanism
    /// `*Init`, or finishing into a wiped scratch buffer), so the session stays usable;
    /// the error says what `C_SessionCancel` answered. An operation that has already
    /// ended is not cancelled again. A 3.2 signature verification
    /// ([`OperationKind::VerifySignature`]), which no `C_SessionCancel` flag names, is
    /// cancelled with a NULL-mechanism `C_VerifySignatureInit` instead.
    ///
    /// # Errors
    /// [`Error::NotSupported`] naming `C_SessionCancel` for a module without it;
    /// [`Error::Module`] naming `C_SessionCancel` (e.g. `CKR_OPERATION_CANCEL_FAILED`).
    #[doc(alias = "C_SessionCancel")]
    pub fn cancel(mut self) -> Result<()> {
        if !self.running {
            return Ok(());
        }
        let session = self.session;
        let returned = if self.kind == OperationKind::VerifySignature {
            // No C_SessionCancel flag names it: the NULL-mechanism init ends it.
            raw::session::null_init(session.inner(), session.handle, self.kind).unwrap_or(Err(
                Error::NotSupported {
                    function: "C_VerifySignatureInit",
                },
            ))
        } else {
            raw::session::session_cancel(session.inner(), session.handle, self.kind)
        };
        session.track(returned)?.ok()?;
        self.running = false;
        Ok(())
    }
}

impl Drop for Operation<'_> {
    #[inline]
    fn drop(&mut self) {
        if self.running {
            self.session.cancel(self.kind);
        }
        // The guard still holds the lock: only the owner touches `active`.
        let active = &self.session.lock.active;
        active.store(
            active.load(Ordering::Relaxed) & !self.kind.bit(),
            Ordering::Relaxed,
        );
    }
}
