//! Callbacks against SoftHSMv2: application mutexes (`CK_CREATEMUTEX`...) and session
//! notifications (`CK_NOTIFY`), and panics in both (RELIABILITY rules 31-32).
//!
//! SoftHSM uses the application's mutex functions whenever they are given (even with
//! `CKF_OS_LOCKING_OK`), so a counting implementation sees every lock. SoftHSM never
//! sends notifications: those tests deliver one through the real C trampoline with the
//! session's `pApplication` ([`Session::simulate_notification`]).
//!
//! SoftHSM is one instance per process: the tests of this binary share one throwaway
//! token and take turns, and each leaves the module finalized.

use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use pkcs11::{
    AppMutex, Error, MutexError, Notification, NotifyReply, Pin, Pkcs11, Rv, Session, StdAppMutex,
    UserType,
};
use pkcs11_tests::{
    shared_softhsm_token, softhsm_get_info_rv, softhsm_module, take_turn, SoftHsmToken,
};

fn token() -> &'static SoftHsmToken {
    shared_softhsm_token("safe-callbacks")
}

fn turn() -> MutexGuard<'static, ()> {
    let guard = take_turn();
    let _ = token();
    Counting::reset();
    guard
}

fn first_slot(p11: &Pkcs11) -> pkcs11::Slot {
    p11.slots_with_token()
        .unwrap()
        .into_iter()
        .next()
        .expect("the test token")
}

/// The text of a panic payload.
fn message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "<non-text panic>".to_owned())
}

// --- A counting application mutex -----------------------------------------------------

static CREATED: AtomicUsize = AtomicUsize::new(0);
static DESTROYED: AtomicUsize = AtomicUsize::new(0);
static LOCKS: AtomicUsize = AtomicUsize::new(0);
static UNLOCKS: AtomicUsize = AtomicUsize::new(0);
static PANIC_IN_CREATE: AtomicBool = AtomicBool::new(false);
static PANIC_IN_LOCK: AtomicBool = AtomicBool::new(false);

/// [`StdAppMutex`] counting every callback; panics once on demand.
struct Counting(StdAppMutex);

impl Counting {
    fn reset() {
        for counter in [&CREATED, &DESTROYED, &LOCKS, &UNLOCKS] {
            counter.store(0, Ordering::SeqCst);
        }
        PANIC_IN_CREATE.store(false, Ordering::SeqCst);
        PANIC_IN_LOCK.store(false, Ordering::SeqCst);
    }

    /// (created, destroyed, locks, unlocks)
    fn counts() -> [usize; 4] {
        [&CREATED, &DESTROYED, &LOCKS, &UNLOCKS].map(|c| c.load(Ordering::SeqCst))
    }
}

impl AppMutex for Counting {
    fn create() -> Result<Self, MutexError> {
        if PANIC_IN_CREATE.swap(false, Ordering::SeqCst) {
            panic!("create panicked on purpose");
        }
        CREATED.fetch_add(1, Ordering::SeqCst);
        StdAppMutex::create().map(Counting)
    }

    fn lock(&self) -> Result<(), MutexError> {
        if PANIC_IN_LOCK.swap(false, Ordering::SeqCst) {
            panic!("lock panicked on purpose");
        }
        LOCKS.fetch_add(1, Ordering::SeqCst);
        self.0.lock()
    }

    fn unlock(&self) -> Result<(), MutexError> {
        let result = self.0.unlock();
        if result.is_ok() {
            UNLOCKS.fetch_add(1, Ordering::SeqCst);
        }
        result
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        DESTROYED.fetch_add(1, Ordering::SeqCst);
    }
}

// --- Application mutexes --------------------------------------------------------------

#[test]
fn softhsm_uses_the_application_mutexes_and_destroys_them_all() {
    let _turn = turn();
    let token = token();
    let p11 = Pkcs11::open_with_mutexes::<Counting>(softhsm_module()).unwrap();
    assert!(!p11.is_adopted());
    assert!(p11
        .app_mutexes()
        .is_some_and(|name| name.ends_with("Counting")));
    let [created, ..] = Counting::counts();
    assert!(created > 0, "C_Initialize created mutexes");

    let session = first_slot(&p11).open_rw_session().unwrap();
    session
        .login(UserType::User, &Pin::from(token.user_pin))
        .unwrap();
    session.logout().unwrap();
    let [_, _, locks, unlocks] = Counting::counts();
    assert!(locks > 0, "the module locked our mutexes");
    assert_eq!(locks, unlocks, "every lock was released");

    drop(session);
    drop(p11);
    assert_eq!(
        softhsm_get_info_rv(),
        pkcs11_sys::CKR_CRYPTOKI_NOT_INITIALIZED
    );
    let [created, destroyed, locks, unlocks] = Counting::counts();
    assert_eq!(created, destroyed, "C_Finalize destroyed every mutex");
    assert_eq!(locks, unlocks);
}

#[test]
fn rule_31_a_panic_in_lock_surfaces_after_the_module_call_and_the_module_survives() {
    let _turn = turn();
    let token = token();
    let p11 = Pkcs11::open_with_mutexes::<Counting>(softhsm_module()).unwrap();
    let session = first_slot(&p11).open_rw_session().unwrap();

    PANIC_IN_LOCK.store(true, Ordering::SeqCst);
    let caught = panic::catch_unwind(AssertUnwindSafe(|| {
        session.login(UserType::User, &Pin::from(token.user_pin))
    }));
    let payload = caught.expect_err("the callback's panic reaches the caller");
    assert_eq!(message(&*payload), "lock panicked on purpose");
    assert!(
        !PANIC_IN_LOCK.load(Ordering::SeqCst),
        "the module did lock during C_Login"
    );

    // Nothing is left pending, and the module still works.
    assert!(!p11.slots_with_token().unwrap().is_empty());
    session
        .ensure_logged_in(UserType::User, &Pin::from(token.user_pin))
        .unwrap();
    session.logout().unwrap();
    drop(session);
    drop(p11);
    assert_eq!(
        softhsm_get_info_rv(),
        pkcs11_sys::CKR_CRYPTOKI_NOT_INITIALIZED
    );
}

#[test]
fn rule_31_a_panic_in_create_during_initialize_surfaces_and_leaves_the_module_finalized() {
    let _turn = turn();
    PANIC_IN_CREATE.store(true, Ordering::SeqCst);
    let caught = panic::catch_unwind(|| Pkcs11::open_with_mutexes::<Counting>(softhsm_module()));
    let payload = caught.expect_err("the callback's panic reaches the caller");
    assert_eq!(message(&*payload), "create panicked on purpose");
    assert_eq!(
        softhsm_get_info_rv(),
        pkcs11_sys::CKR_CRYPTOKI_NOT_INITIALIZED,
        "an initialization that panicked is not left behind"
    );
    let [created, destroyed, ..] = Counting::counts();
    assert_eq!(created, destroyed);

    // The next open initializes normally.
    let p11 = Pkcs11::open_with_mutexes::<Counting>(softhsm_module()).unwrap();
    assert!(!p11.is_adopted());
    assert!(!p11.slots_with_token().unwrap().is_empty());
}

#[test]
fn rule_06_open_with_mutexes_shares_an_initialization_made_without_them() {
    let _turn = turn();
    let plain = Pkcs11::open(softhsm_module()).unwrap();
    assert_eq!(plain.app_mutexes(), None);
    let with = Pkcs11::open_with_mutexes::<Counting>(softhsm_module()).unwrap();
    assert!(with.same_module(&plain));
    assert_eq!(
        with.app_mutexes(),
        None,
        "the existing initialization uses OS locking"
    );
    drop(with);
    drop(plain);
    assert_eq!(Counting::counts(), [0; 4], "our mutexes were never given");
}

#[test]
fn rule_09_app_mutexes_serve_several_threads() {
    let _turn = turn();
    let token = token();
    let p11 = Pkcs11::open_with_mutexes::<Counting>(softhsm_module()).unwrap();
    let slot = first_slot(&p11);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..20 {
                    let session = slot.open_ro_session().unwrap();
                    session
                        .ensure_logged_in(UserType::User, &Pin::from(token.user_pin))
                        .unwrap();
                    assert!(!session.generate_random(16).unwrap().is_empty());
                }
            });
        }
    });
    drop(slot);
    drop(p11);
    let [created, destroyed, locks, unlocks] = Counting::counts();
    assert_eq!(created, destroyed);
    assert_eq!(locks, unlocks);
    assert!(locks >= 4 * 20);
}

// --- Notifications --------------------------------------------------------------------

#[test]
fn rule_32_sessions_with_a_notify_callback_open_on_softhsm_and_work() {
    let _turn = turn();
    let token = token();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let slot = first_slot(&p11);
    let seen = Arc::new(Mutex::new(Vec::new()));

    let log = Arc::clone(&seen);
    let rw = slot
        .open_rw_session_with_notify(move |event| {
            log.lock().unwrap().push(event);
            NotifyReply::Continue
        })
        .unwrap();
    let ro = slot
        .open_ro_session_with_notify(|event| match event {
            Notification::Surrender => NotifyReply::Cancel,
            _ => NotifyReply::Continue,
        })
        .unwrap();
    assert!(rw.info().unwrap().is_read_write());
    assert!(!ro.info().unwrap().is_read_write());
    rw.login(UserType::User, &Pin::from(token.user_pin))
        .unwrap();
    assert_eq!(rw.generate_random(8).unwrap().len(), 8);

    // Delivered through the C trampoline with the session's pApplication.
    let ok = pkcs11_sys::CKR_OK;
    assert_eq!(
        rw.simulate_notification(pkcs11_sys::CKN_SURRENDER),
        Some(ok)
    );
    assert_eq!(rw.simulate_notification(0x8000_0042), Some(ok));
    assert_eq!(
        ro.simulate_notification(pkcs11_sys::CKN_SURRENDER),
        Some(pkcs11_sys::CKR_CANCEL)
    );
    assert_eq!(
        *seen.lock().unwrap(),
        [Notification::Surrender, Notification::Unknown(0x8000_0042)]
    );
    let plain = slot.open_ro_session().unwrap();
    assert_eq!(plain.simulate_notification(pkcs11_sys::CKN_SURRENDER), None);

    // Closing the session releases the callback (and whatever it captured).
    assert_eq!(Arc::strong_count(&seen), 2);
    rw.close().unwrap();
    assert_eq!(Arc::strong_count(&seen), 1);
    drop((ro, plain));
}

#[test]
fn rule_31_32_a_notify_panic_on_a_module_thread_is_resumed_at_the_next_call() {
    let _turn = turn();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let session = first_slot(&p11)
        .open_ro_session_with_notify(|_| panic!("notify panicked on purpose"))
        .unwrap();

    // A "module thread": outside any call of ours. The module gets CKR_CANCEL.
    let rv = std::thread::scope(|scope| {
        scope
            .spawn(|| session.simulate_notification(pkcs11_sys::CKN_SURRENDER))
            .join()
            .expect("the panic never unwinds into the trampoline's caller")
    });
    assert_eq!(rv, Some(pkcs11_sys::CKR_CANCEL));

    // The next call into the module resumes it, after the call returned.
    let caught = panic::catch_unwind(AssertUnwindSafe(|| session.info()));
    let payload = caught.expect_err("resumed at the next call");
    assert_eq!(message(&*payload), "notify panicked on purpose");
    // Once only.
    session.info().unwrap();
}

#[test]
fn rule_32_session_is_send_and_sync_with_a_notify_callback() {
    fn shared<T: Send + Sync>(_: &T) {}
    let _turn = turn();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let session: Session = first_slot(&p11)
        .open_ro_session_with_notify(|_| NotifyReply::Continue)
        .unwrap();
    shared(&session);
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| session.generate_random(4).unwrap());
        }
    });
    let error = session
        .login(UserType::User, &Pin::from("definitely-wrong-4242"))
        .unwrap_err();
    assert!(matches!(
        error,
        Error::Module {
            rv: Rv::PinIncorrect,
            ..
        }
    ));
}
