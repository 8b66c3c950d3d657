//! A pool of sessions on one token, for multi-threaded servers.
//!
//! One [`Session`] may be shared by many threads, but its reentrant lock lets only one
//! of them talk to the module at a time. A [`SessionPool`] keeps up to N sessions on one
//! token, all sharing the token's login (PKCS #11 login state belongs to the
//! application and token, not to one session): a thread borrows one with
//! [`SessionPool::get`], uses it through the [`PooledSession`] guard and gives it back
//! by dropping the guard.
//!
//! - A session that became unusable while borrowed (poisoned by a session-fatal code
//!   such as `CKR_SESSION_HANDLE_INVALID` or `CKR_DEVICE_REMOVED`, or by an operation
//!   that could not be cancelled) is closed and forgotten when it comes back; the next
//!   borrower gets a fresh one, logged in again.
//! - When all N are in use, `get` waits up to the pool's wait limit, then fails with
//!   [`Error::PoolTimeout`], never blocking forever.
//!
//! ```no_run
//! use std::time::Duration;
//! use pkcs11::{Mechanism, Pin, Pkcs11, SessionPool, UserType};
//!
//! let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
//! let pool = SessionPool::builder(&p11.token_by_label("app")?)
//!     .max_sessions(4)
//!     .login(UserType::User, Pin::from("1234"))
//!     .wait_timeout(Duration::from_secs(5))
//!     .build()?;
//! std::thread::scope(|s| {
//!     for _ in 0..8 {
//!         s.spawn(|| -> pkcs11::Result<()> {
//!             let session = pool.get()?; // waits while 4 are in use
//!             session.digest(&Mechanism::Sha256, b"request")?;
//!             Ok(()) // dropping the guard returns the session
//!         });
//!     }
//! });
//! # Ok::<(), pkcs11::Error>(())
//! ```

use core::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};
use crate::secret::Pin;
use crate::session::Session;
use crate::slot::{Slot, UserType};

/// Builds a [`SessionPool`]: see [`SessionPool::builder`].
#[derive(Debug)]
#[must_use]
pub struct SessionPoolBuilder {
    slot: Slot,
    max_sessions: usize,
    read_write: bool,
    login: Option<(UserType, Pin)>,
    wait: Duration,
}

impl SessionPoolBuilder {
    /// At most `n` sessions (at least 1; default 4).
    pub fn max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }

    /// Read-only sessions (the default is read-write).
    pub fn read_only(mut self) -> Self {
        self.read_write = false;
        self
    }

    /// Logs `user` in with `pin` when the pool opens its first session and whenever it
    /// replaces one (`CKR_USER_ALREADY_LOGGED_IN` counts as success). The PIN is kept,
    /// zeroized when the pool is dropped, and never shown.
    pub fn login(mut self, user: UserType, pin: Pin) -> Self {
        self.login = Some((user, pin));
        self
    }

    /// How long [`SessionPool::get`] waits for a free session (default 30 s).
    pub fn wait_timeout(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// Opens the first session (and logs in), so that a wrong slot or PIN fails here.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a size of 0; the errors of `C_OpenSession` and
    /// `C_Login`.
    pub fn build(self) -> Result<SessionPool> {
        if self.max_sessions == 0 {
            return Err(Error::InvalidInput {
                what: "a session pool needs room for at least one session".into(),
            });
        }
        let shared = Arc::new(Shared {
            slot: self.slot,
            read_write: self.read_write,
            login: self.login,
            max_sessions: self.max_sessions,
            wait: self.wait,
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        });
        let first = shared.open()?;
        let mut state = shared.state();
        state.open = 1;
        state.idle.push(first);
        drop(state);
        Ok(SessionPool { shared })
    }
}

/// Up to N sessions on one token sharing its login: borrow with [`SessionPool::get`], give
/// back by dropping the [`PooledSession`]; unusable sessions are replaced.
///
/// Cloning gives another handle on the same pool. The pool (and every borrowed
/// session) keeps the module open.
#[derive(Clone)]
pub struct SessionPool {
    shared: Arc<Shared>,
}

struct Shared {
    slot: Slot,
    read_write: bool,
    login: Option<(UserType, Pin)>,
    max_sessions: usize,
    wait: Duration,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Default)]
struct State {
    /// Sessions ready to lend.
    idle: Vec<Session>,
    /// Sessions alive: idle, lent, or being opened.
    open: usize,
    /// Sessions discarded because they became unusable.
    replaced: u64,
    /// Threads waiting in `get`: a return wakes one only when there is one (a
    /// condition variable's notify is a system call even when nobody waits).
    waiters: usize,
}

impl Shared {
    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic (every update is one statement).
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Releases `state` and wakes one waiting borrower, if any.
    fn wake_one(&self, state: MutexGuard<'_, State>) {
        let waiting = state.waiters != 0;
        drop(state);
        if waiting {
            self.freed.notify_one();
        }
    }

    /// A new session, logged in if the pool logs in.
    fn open(&self) -> Result<Session> {
        let session = if self.read_write {
            self.slot.open_rw_session()?
        } else {
            self.slot.open_ro_session()?
        };
        if let Some((user, pin)) = &self.login {
            session.ensure_logged_in(*user, pin)?;
        }
        Ok(session)
    }
}

impl SessionPool {
    /// A builder for a pool on `slot`'s token: read-write sessions, at most 4, no
    /// login, a 30 s wait limit.
    pub fn builder(slot: &Slot) -> SessionPoolBuilder {
        SessionPoolBuilder {
            slot: slot.clone(),
            max_sessions: 4,
            read_write: true,
            login: None,
            wait: Duration::from_secs(30),
        }
    }

    /// Borrows a session, waiting up to the pool's wait limit while all are in use.
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] after the wait limit; the errors of `C_OpenSession` and
    /// `C_Login` when a new session is opened.
    pub fn get(&self) -> Result<PooledSession> {
        self.get_timeout(self.shared.wait)
    }

    /// Borrows a session, waiting up to `wait` while all are in use.
    ///
    /// # Errors
    /// As [`SessionPool::get`].
    pub fn get_timeout(&self, wait: Duration) -> Result<PooledSession> {
        // The clock is read only when the pool is full.
        let mut start = None;
        let mut state = self.shared.state();
        loop {
            if let Some(session) = self.take_idle(&mut state) {
                return Ok(self.lend(session));
            }
            if state.open < self.shared.max_sessions {
                state.open += 1;
                drop(state);
                return match self.shared.open() {
                    Ok(session) => Ok(self.lend(session)),
                    Err(error) => {
                        let mut state = self.shared.state();
                        state.open -= 1;
                        self.shared.wake_one(state);
                        Err(error)
                    }
                };
            }
            let waited = start.get_or_insert_with(Instant::now).elapsed();
            let Some(left) = wait.checked_sub(waited).filter(|d| !d.is_zero()) else {
                return Err(Error::PoolTimeout {
                    waited,
                    max_sessions: self.shared.max_sessions,
                });
            };
            state.waiters += 1;
            state = self
                .shared
                .freed
                .wait_timeout(state, left)
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .0;
            state.waiters -= 1;
        }
    }

    /// Borrows a session if one is free (or may be opened) right now.
    ///
    /// # Errors
    /// The errors of `C_OpenSession` and `C_Login` when a new session is opened.
    pub fn try_get(&self) -> Result<Option<PooledSession>> {
        match self.get_timeout(Duration::ZERO) {
            Ok(session) => Ok(Some(session)),
            Err(Error::PoolTimeout { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// An idle session that is still usable; unusable ones are closed on the way.
    fn take_idle(&self, state: &mut State) -> Option<Session> {
        while let Some(session) = state.idle.pop() {
            if session.is_usable() {
                return Some(session);
            }
            state.open -= 1;
            state.replaced += 1;
            // Closing an unusable session makes no module call.
            drop(session);
        }
        None
    }

    fn lend(&self, session: Session) -> PooledSession {
        PooledSession {
            session: Some(session),
            shared: Arc::clone(&self.shared),
        }
    }

    /// The most sessions the pool opens.
    pub fn max_sessions(&self) -> usize {
        self.shared.max_sessions
    }

    /// Sessions alive now (idle and lent).
    pub fn open_sessions(&self) -> usize {
        self.shared.state().open
    }

    /// Sessions ready to lend now.
    pub fn idle_sessions(&self) -> usize {
        self.shared.state().idle.len()
    }

    /// How many sessions were discarded because they became unusable.
    pub fn replaced_sessions(&self) -> u64 {
        self.shared.state().replaced
    }

    /// The slot the pool's sessions are on.
    pub fn slot(&self) -> &Slot {
        &self.shared.slot
    }
}

impl fmt::Debug for SessionPool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let state = self.shared.state();
        f.debug_struct("SessionPool")
            .field("slot", &self.shared.slot.id())
            .field("max_sessions", &self.shared.max_sessions)
            .field("open", &state.open)
            .field("idle", &state.idle.len())
            .field("replaced", &state.replaced)
            .field("login", &self.shared.login.as_ref().map(|(user, _)| user))
            .finish()
    }
}

/// A session borrowed from a [`SessionPool`]; dereferences to [`Session`] and goes back
/// to the pool when dropped (or is discarded if it became unusable).
pub struct PooledSession {
    session: Option<Session>,
    shared: Arc<Shared>,
}

impl core::ops::Deref for PooledSession {
    type Target = Session;

    fn deref(&self) -> &Session {
        self.session
            .as_ref()
            .expect("a pooled session is only taken out when dropped")
    }
}

impl fmt::Debug for PooledSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("PooledSession").field(&**self).finish()
    }
}

impl Drop for PooledSession {
    fn drop(&mut self) {
        let Some(session) = self.session.take() else {
            return;
        };
        let mut state = self.shared.state();
        if session.is_usable() {
            state.idle.push(session);
            self.shared.wake_one(state);
        } else {
            state.open -= 1;
            state.replaced += 1;
            self.shared.wake_one(state);
            // Closed outside the pool's lock (no module call for a poisoned session).
            drop(session);
        }
    }
}
