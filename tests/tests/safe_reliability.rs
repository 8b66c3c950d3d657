//! RELIABILITY.md rules checked end to end against SoftHSMv2 through the safe crate:
//!
//! - rule 9: several threads, each with its own session, hammer one initialization
//!   (which works only because `C_Initialize` gets `CKF_OS_LOCKING_OK`: SoftHSM
//!   initialized with NULL arguments does no locking and corrupts its heap);
//! - rule 14: a session-fatal return value poisons the session, and nothing reaches the
//!   module through it afterwards (not even its close on drop);
//! - rule 8: `Pkcs11::open` re-entered from a mutex callback of the `C_Initialize` that
//!   the same thread is making is an error, not a deadlock;
//! - rule 12: login state is shared by every session; `CKR_USER_ALREADY_LOGGED_IN` is
//!   benign for [`Session::ensure_logged_in`] only, the other login conflicts are errors;
//! - rule 11: sessions and slots of a finalized initialization are refused without the
//!   module, even when the new initialization reuses their handle numbers;
//! - rule 33: a PIN never appears in an error or in `Debug`.
//!
//! SoftHSM is one instance per process: the tests of this binary share one throwaway
//! token (exported before any initialization), take turns, and each leaves the module
//! finalized (several need to make the initialization themselves). A watchdog aborts the
//! process if a test hangs.

use std::any::type_name;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::thread::ThreadId;
use std::time::Duration;

use hmac::Mac;
use pkcs11::{
    AppMutex, Attribute, Error, KeyType, Mechanism, MutexError, ObjectClass, ObjectHandle, Pin,
    Pkcs11, Rv, SecretBytes, Session, SessionState, Slot, StdAppMutex, UserType,
};
use pkcs11_sys as sys;
use pkcs11_tests::{
    shared_softhsm_token, softhsm_get_info_rv, softhsm_module, take_finalized_turn, SoftHsmToken,
    Watchdog,
};
use sha2::Digest;

fn token() -> &'static SoftHsmToken {
    shared_softhsm_token("safe-reliability")
}

/// Serializes the tests of this binary; makes sure the token exists and is exported.
fn turn() -> MutexGuard<'static, ()> {
    take_finalized_turn(token)
}

fn first_slot(p11: &Pkcs11) -> Slot {
    p11.slots_with_token()
        .unwrap()
        .into_iter()
        .next()
        .expect("the test token")
}

fn user_pin() -> Pin {
    Pin::from(token().user_pin)
}

fn so_pin() -> Pin {
    Pin::from(token().so_pin)
}

fn state(session: &Session) -> SessionState {
    session.info().unwrap().state()
}

// --- Rule 9 -----------------------------------------------------------------------------

/// One worker's keys: an AES key generated on the token, an HMAC key of known value.
struct WorkerKeys {
    aes: ObjectHandle,
    hmac: ObjectHandle,
    hmac_value: [u8; 32],
    aes_label: String,
    hmac_label: String,
}

fn make_worker_keys(session: &Session, worker: usize) -> WorkerKeys {
    let aes_label = format!("rule-09-aes-{worker}");
    let hmac_label = format!("rule-09-hmac-{worker}");
    let aes = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::ValueLen(32),
                Attribute::Token(false),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Label(aes_label.clone()),
            ],
        )
        .unwrap();
    let mut hmac_value = [0u8; 32];
    for (i, byte) in hmac_value.iter_mut().enumerate() {
        *byte = (worker * 31 + i * 7) as u8;
    }
    let hmac = session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::GenericSecret),
            Attribute::Token(false),
            Attribute::Sign(true),
            Attribute::Verify(true),
            Attribute::Label(hmac_label.clone()),
            Attribute::Value(SecretBytes::new(hmac_value.to_vec())),
        ])
        .unwrap();
    WorkerKeys {
        aes,
        hmac,
        hmac_value,
        aes_label,
        hmac_label,
    }
}

/// Data that differs per worker and iteration, 0 to 299 bytes long.
fn varying_data(worker: usize, i: usize) -> Vec<u8> {
    let len = (i * 37 + worker * 11) % 300;
    (0..len)
        .map(|j| (j * 13 + i + worker * 101) as u8)
        .collect()
}

/// `operations` mixed operations through the worker's own session, each counted in
/// `done` once checked; panics on the first wrong result or error.
fn hammer(slot: &Slot, worker: usize, operations: usize, done: &AtomicUsize) {
    let session = slot.open_rw_session().unwrap();
    // Logged in once on another session: the login state is the application's.
    assert_eq!(state(&session), SessionState::RwUser);
    let keys = make_worker_keys(&session, worker);
    for i in 0..operations {
        let data = varying_data(worker, i);
        match i % 6 {
            0 => {
                let len = 1 + (i + worker) % 64;
                let random = session.generate_random(len).unwrap();
                assert_eq!(random.len(), len);
            }
            1 => {
                let digest = session.digest(&Mechanism::Sha256, &data).unwrap();
                assert_eq!(digest, sha2::Sha256::digest(&data).to_vec());
            }
            2 => {
                let mut iv = [0u8; 16];
                iv[..8].copy_from_slice(&(i as u64).to_be_bytes());
                iv[8] = worker as u8;
                let cbc = Mechanism::AesCbcPad { iv };
                let ciphertext = session.encrypt(&cbc, keys.aes, &data).unwrap();
                assert_eq!(ciphertext.len(), (data.len() / 16 + 1) * 16);
                let plaintext = session.decrypt(&cbc, keys.aes, &ciphertext).unwrap();
                assert_eq!(&*plaintext, &data[..]);
            }
            3 => {
                let mac = session
                    .sign(&Mechanism::Sha256Hmac, keys.hmac, &data)
                    .unwrap();
                let mut reference =
                    <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&keys.hmac_value).unwrap();
                reference.update(&data);
                assert_eq!(mac, reference.finalize().into_bytes().to_vec());
                assert!(session
                    .verify(&Mechanism::Sha256Hmac, keys.hmac, &data, &mac)
                    .unwrap());
                let mut forged = mac.clone();
                forged[i % 32] ^= 1;
                assert!(!session
                    .verify(&Mechanism::Sha256Hmac, keys.hmac, &data, &forged)
                    .unwrap());
            }
            4 => {
                let (label, expected) = if i % 12 == 4 {
                    (&keys.aes_label, keys.aes)
                } else {
                    (&keys.hmac_label, keys.hmac)
                };
                let found = session
                    .find_all(&[Attribute::Label(label.clone())])
                    .unwrap();
                assert_eq!(found, [expected], "{label}");
            }
            _ => {
                let extra = slot.open_ro_session().unwrap();
                assert_eq!(state(&extra), SessionState::RoUser);
                assert_eq!(extra.digest(&Mechanism::Sha256, &data).unwrap().len(), 32);
                extra.close().unwrap();
            }
        }
        done.fetch_add(1, Ordering::Relaxed);
    }
    session.destroy_object(keys.aes).unwrap();
    session.destroy_object(keys.hmac).unwrap();
    session.close().unwrap();
}

/// `workers` threads with their own sessions, plus one that opens and closes sessions
/// until they are done.
fn hammer_with(workers: usize) {
    const OPERATIONS: usize = 1_000;
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    assert!(
        !p11.is_adopted(),
        "our C_Initialize (with CKF_OS_LOCKING_OK)"
    );
    let slot = first_slot(&p11);
    let login = slot.open_ro_session().unwrap();
    login.login(UserType::User, &user_pin()).unwrap();

    let done = AtomicBool::new(false);
    let churned = AtomicUsize::new(0);
    let performed = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let churn = scope.spawn(|| {
            while !done.load(Ordering::Acquire) {
                let session = slot.open_ro_session().unwrap();
                assert_eq!(state(&session), SessionState::RoUser);
                session.close().unwrap();
                churned.fetch_add(1, Ordering::Relaxed);
            }
        });
        let threads: Vec<_> = (0..workers)
            .map(|worker| {
                let (slot, performed) = (&slot, &performed);
                scope.spawn(move || hammer(slot, worker, OPERATIONS, performed))
            })
            .collect();
        let results: Vec<_> = threads.into_iter().map(|t| t.join()).collect();
        done.store(true, Ordering::Release);
        let churn = churn.join();
        for (worker, result) in results.into_iter().enumerate() {
            if let Err(panic) = result {
                std::panic::resume_unwind(Box::new(format!("worker {worker}: {panic:?}")));
            }
        }
        if let Err(panic) = churn {
            std::panic::resume_unwind(panic);
        }
    });
    assert_eq!(performed.into_inner(), workers * OPERATIONS);
    assert!(churned.load(Ordering::Relaxed) > 0, "the churn thread ran");
    // The login session still works, still logged in; nothing was left behind.
    assert_eq!(state(&login), SessionState::RoUser);
    assert!(login
        .find_all(&[Attribute::Class(ObjectClass::SecretKey)])
        .unwrap()
        .is_empty());
    login.logout().unwrap();
    drop(login);
    drop(slot);
    drop(p11);
    assert_eq!(softhsm_get_info_rv(), sys::CKR_CRYPTOKI_NOT_INITIALIZED);
}

#[test]
fn rule_09_two_threads_hammer_softhsm_through_their_own_sessions() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the 2-thread hammer", Duration::from_secs(120));
    hammer_with(2);
}

#[test]
fn rule_09_four_threads_hammer_softhsm_through_their_own_sessions() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the 4-thread hammer", Duration::from_secs(120));
    hammer_with(4);
}

// --- Rule 14 ----------------------------------------------------------------------------

/// Locks taken by the module on [`CountingMutex`]es: SoftHSM locks its handle table's
/// mutex in every call that names a session, so a call that reaches the module moves
/// this counter and one that does not leaves it alone.
static MODULE_LOCKS: AtomicUsize = AtomicUsize::new(0);

/// [`StdAppMutex`] counting the module's locks.
struct CountingMutex(StdAppMutex);

impl AppMutex for CountingMutex {
    fn create() -> Result<Self, MutexError> {
        StdAppMutex::create().map(CountingMutex)
    }

    fn lock(&self) -> Result<(), MutexError> {
        MODULE_LOCKS.fetch_add(1, Ordering::SeqCst);
        self.0.lock()
    }

    fn unlock(&self) -> Result<(), MutexError> {
        self.0.unlock()
    }
}

fn module_locks() -> usize {
    MODULE_LOCKS.load(Ordering::SeqCst)
}

fn assert_poisoned<T: std::fmt::Debug>(what: &str, result: pkcs11::Result<T>) {
    match result {
        Err(Error::SessionPoisoned {
            cause: Some(Rv::SessionHandleInvalid),
        }) => {}
        other => panic!("{what}: expected SessionPoisoned, got {other:?}"),
    }
}

#[test]
fn rule_14_session_fatal_code_poisons_the_session() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the poisoning test", Duration::from_secs(30));
    let p11 = Pkcs11::open_with_mutexes::<CountingMutex>(softhsm_module()).unwrap();
    assert_eq!(
        p11.app_mutexes(),
        Some(type_name::<CountingMutex>()),
        "our initialization, with the counting mutexes"
    );
    let slot = first_slot(&p11);
    let victim = slot.open_rw_session().unwrap();
    let bystander = slot.open_ro_session().unwrap();
    victim.generate_random(8).unwrap();

    // Close the victim's handle behind the safe crate's back.
    let close = victim
        .pkcs11()
        .raw_module()
        .functions()
        .C_CloseSession
        .unwrap();
    // SAFETY: a plain C_CloseSession on a handle of this initialization; the safe
    // `Session` keeps the (now dangling) number but never dereferences anything by it.
    let rv = unsafe { close(victim.handle()) };
    assert_eq!(rv, sys::CKR_OK);

    // The next call reaches the module, which no longer knows the handle.
    let before = module_locks();
    let error = victim.generate_random(8).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Module {
                function: "C_GenerateRandom",
                rv: Rv::SessionHandleInvalid
            }
        ),
        "{error:?}"
    );
    assert!(module_locks() > before, "that call reached the module");
    assert_eq!(victim.poison_cause(), Some(Some(Rv::SessionHandleInvalid)));
    assert!(!victim.is_usable());
    assert!(format!("{victim:?}").contains("SessionHandleInvalid"));

    // A healthy session's call moves the counter (the counter sees module calls)...
    let before = module_locks();
    bystander.generate_random(8).unwrap();
    assert!(
        module_locks() > before,
        "a module call locks the module's mutexes"
    );

    // ...the poisoned session's calls do not: they never reach the module.
    let before = module_locks();
    assert_poisoned("generate_random", victim.generate_random(8));
    assert_poisoned(
        "generate_random_into",
        victim.generate_random_into(&mut [0; 4]),
    );
    assert_poisoned("seed_random", victim.seed_random(b"seed"));
    assert_poisoned("info", victim.info());
    assert_poisoned("digest", victim.digest(&Mechanism::Sha256, b"abc"));
    assert_poisoned("digest_stream", victim.digest_stream(&Mechanism::Sha256));
    assert_poisoned("login", victim.login(UserType::User, &user_pin()));
    assert_poisoned(
        "ensure_logged_in",
        victim.ensure_logged_in(UserType::User, &user_pin()),
    );
    assert_poisoned("logout", victim.logout());
    assert_poisoned("find", victim.find(&[]));
    assert_poisoned("find_all", victim.find_all(&[]));
    assert_poisoned(
        "generate_key",
        victim.generate_key(
            &Mechanism::AesKeyGen,
            &[Attribute::ValueLen(16), Attribute::Token(false)],
        ),
    );
    assert_poisoned(
        "create_object",
        victim.create_object(&[Attribute::Class(ObjectClass::Data), Attribute::Token(false)]),
    );
    assert_poisoned(
        "encrypt",
        victim.encrypt(&Mechanism::AesCbcPad { iv: [0; 16] }, ObjectHandle(1), b"x"),
    );
    assert_poisoned(
        "sign",
        victim.sign(&Mechanism::Sha256Hmac, ObjectHandle(1), b"x"),
    );
    assert_poisoned("set_pin", victim.set_pin(&user_pin(), &user_pin()));
    assert_eq!(
        module_locks(),
        before,
        "no poisoned call reached the module"
    );
    // Still poisoned by the first cause.
    assert_eq!(victim.poison_cause(), Some(Some(Rv::SessionHandleInvalid)));

    // A session opened afterwards, and the bystander, survive the poisoned session's
    // drop, which calls nothing: no C_CloseSession on a number the module may have
    // handed out again. (SoftHSM numbers sessions from one counter per initialization,
    // so `fresh` does not get the victim's number here; the counter proves the drop
    // calls nothing at all, and rule 11's test covers a reused number.)
    let fresh = slot.open_rw_session().unwrap();
    fresh.generate_random(8).unwrap();
    let before = module_locks();
    drop(victim);
    assert_eq!(
        module_locks(),
        before,
        "dropping a poisoned session calls nothing"
    );
    fresh.generate_random(8).unwrap();
    assert_eq!(state(&fresh), SessionState::RwPublic);
    assert_eq!(state(&bystander), SessionState::RoPublic);
    drop((fresh, bystander, slot, p11));
    assert_eq!(softhsm_get_info_rv(), sys::CKR_CRYPTOKI_NOT_INITIALIZED);
}

// --- Rule 8 -----------------------------------------------------------------------------

/// Armed by the test: the next [`ReenteringMutex::create`] re-enters `Pkcs11::open`.
static REENTER: AtomicBool = AtomicBool::new(false);

/// What the re-entrant open returned, and on which thread it ran.
static REENTERED: Mutex<Option<(ThreadId, pkcs11::Result<Pkcs11>)>> = Mutex::new(None);

/// A mutex whose creation (once armed) opens the module it is being created for: a
/// callback that runs inside the `C_Initialize` of `Pkcs11::open_with_mutexes`, on the
/// thread that holds the module registry.
struct ReenteringMutex(StdAppMutex);

impl AppMutex for ReenteringMutex {
    fn create() -> Result<Self, MutexError> {
        if REENTER.swap(false, Ordering::SeqCst) {
            let result = Pkcs11::open(softhsm_module());
            *REENTERED.lock().unwrap_or_else(|e| e.into_inner()) =
                Some((std::thread::current().id(), result));
        }
        // The inner failure is the callback's business: the module gets its mutex.
        StdAppMutex::create().map(ReenteringMutex)
    }

    fn lock(&self) -> Result<(), MutexError> {
        self.0.lock()
    }

    fn unlock(&self) -> Result<(), MutexError> {
        self.0.unlock()
    }
}

/// The contract: the re-entrant `open` fails at once with `InvalidInput` (it cannot wait
/// for the registry its own thread holds, and it cannot hand out the module that is
/// still initializing). It is the callback's own call that fails, not the outer one: the
/// callback goes on and returns its mutex, so the outer `C_Initialize` completes and the
/// outer open succeeds with the callbacks in place. Afterwards the thread is no longer
/// "inside open": a plain open on it shares the initialization, and dropping everything
/// finalizes (nothing is left locked or registered).
#[test]
fn rule_08_reentrant_open_is_an_error_not_a_deadlock() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the re-entrant open", Duration::from_secs(30));
    *REENTERED.lock().unwrap() = None;
    REENTER.store(true, Ordering::SeqCst);
    let outer = Pkcs11::open_with_mutexes::<ReenteringMutex>(softhsm_module());
    let reentered = REENTERED.lock().unwrap().take();
    let (thread, inner) = reentered.expect("SoftHSM creates mutexes in C_Initialize");
    assert_eq!(
        thread,
        std::thread::current().id(),
        "the callback ran on the opening thread: a true re-entry"
    );
    match inner {
        Err(Error::InvalidInput { what }) => assert!(what.contains("re-entered"), "{what}"),
        other => panic!("the re-entrant open must be InvalidInput, got {other:?}"),
    }

    let outer = outer.expect("the outer open completes");
    assert_eq!(outer.app_mutexes(), Some(type_name::<ReenteringMutex>()));
    assert!(!outer.is_adopted());
    let again = Pkcs11::open(softhsm_module()).expect("the thread left the registry");
    assert!(again.same_module(&outer));
    let session = first_slot(&again).open_ro_session().unwrap();
    assert_eq!(session.generate_random(16).unwrap().len(), 16);
    drop((session, again, outer));
    assert_eq!(
        softhsm_get_info_rv(),
        sys::CKR_CRYPTOKI_NOT_INITIALIZED,
        "the last drop finalized"
    );
}

// --- Rule 12 ----------------------------------------------------------------------------

#[test]
fn rule_12_login_state_is_shared_and_already_logged_in_is_benign() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the login-state test", Duration::from_secs(30));
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let slot = first_slot(&p11);
    let rw = slot.open_rw_session().unwrap();
    let ro = slot.open_ro_session().unwrap();
    assert_eq!(state(&rw), SessionState::RwPublic);
    assert_eq!(state(&ro), SessionState::RoPublic);

    // A login on one session is the application's: the other is logged in too.
    rw.login(UserType::User, &user_pin()).unwrap();
    assert_eq!(state(&rw), SessionState::RwUser);
    assert_eq!(state(&ro), SessionState::RoUser);

    // The same user again: benign for ensure_logged_in, reported by login.
    ro.ensure_logged_in(UserType::User, &user_pin()).unwrap();
    let again = ro.login(UserType::User, &user_pin()).unwrap_err();
    assert!(
        matches!(
            again,
            Error::Module {
                function: "C_Login",
                rv: Rv::UserAlreadyLoggedIn
            }
        ),
        "{again:?}"
    );
    assert!(
        rw.is_usable() && ro.is_usable(),
        "login errors are not fatal"
    );

    // The SO cannot log in while a read-only session exists: a real error, also for
    // ensure_logged_in.
    for result in [
        rw.login(UserType::So, &so_pin()),
        rw.ensure_logged_in(UserType::So, &so_pin()),
    ] {
        assert!(
            matches!(
                result,
                Err(Error::Module {
                    function: "C_Login",
                    rv: Rv::SessionReadOnlyExists
                })
            ),
            "{result:?}"
        );
    }

    // A logout on one session logs out every session.
    ro.logout().unwrap();
    assert_eq!(state(&rw), SessionState::RwPublic);
    assert_eq!(state(&ro), SessionState::RoPublic);

    // With only read-write sessions the SO may log in, on every session at once; the
    // user is then another user: a real error, also for ensure_logged_in. The SO
    // again is benign for ensure_logged_in.
    drop(ro);
    let second = slot.open_rw_session().unwrap();
    rw.login(UserType::So, &so_pin()).unwrap();
    assert_eq!(state(&second), SessionState::RwSo);
    for result in [
        second.login(UserType::User, &user_pin()),
        second.ensure_logged_in(UserType::User, &user_pin()),
    ] {
        assert!(
            matches!(
                result,
                Err(Error::Module {
                    function: "C_Login",
                    rv: Rv::UserAnotherAlreadyLoggedIn
                })
            ),
            "{result:?}"
        );
    }
    second.ensure_logged_in(UserType::So, &so_pin()).unwrap();
    second.logout().unwrap();
    assert_eq!(state(&rw), SessionState::RwPublic);

    // Closing the last session logs out (closing one of two does not).
    second
        .ensure_logged_in(UserType::User, &user_pin())
        .unwrap();
    assert_eq!(state(&rw), SessionState::RwUser);
    drop(second);
    assert_eq!(state(&rw), SessionState::RwUser, "one session is left");
    drop(rw);
    let later = slot.open_ro_session().unwrap();
    assert_eq!(state(&later), SessionState::RoPublic);
    drop((later, slot, p11));
    assert_eq!(softhsm_get_info_rv(), sys::CKR_CRYPTOKI_NOT_INITIALIZED);
}

// --- Rule 11 ----------------------------------------------------------------------------

#[test]
fn rule_11_handles_after_finalize_are_refused_without_the_module() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the stale-handle test", Duration::from_secs(30));
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let old_slot = first_slot(&p11);
    let old = old_slot.open_rw_session().unwrap();
    old.login(UserType::User, &user_pin()).unwrap();
    let old_handle = old.handle();
    p11.finalize().unwrap();
    assert_eq!(softhsm_get_info_rv(), sys::CKR_CRYPTOKI_NOT_INITIALIZED);

    // A new initialization, whose first session gets the old one's number.
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    assert!(!p11.same_module(old.pkcs11()));
    let slot = first_slot(&p11);
    assert_eq!(slot.id(), old_slot.id());
    let new = slot.open_rw_session().unwrap();
    assert_eq!(
        new.handle(),
        old_handle,
        "premise: SoftHSM numbers sessions afresh after C_Initialize"
    );
    assert_eq!(state(&new), SessionState::RwPublic);

    // Everything of the old initialization is refused before reaching the module
    // (had it reached it, these would act on `new`, which has the same number).
    fn finalized<T: std::fmt::Debug>(what: &str, result: pkcs11::Result<T>) {
        assert!(
            matches!(result, Err(Error::Finalized)),
            "{what}: expected Finalized, got {result:?}"
        );
    }
    assert!(!old.is_usable());
    finalized("generate_random", old.generate_random(8));
    finalized("info", old.info());
    finalized("digest", old.digest(&Mechanism::Sha256, b"abc"));
    finalized("find_all", old.find_all(&[]));
    finalized("logout", old.logout());
    finalized("login", old.login(UserType::User, &user_pin()));
    finalized(
        "create_object",
        old.create_object(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Token(false),
            Attribute::Label("stale".into()),
        ]),
    );
    finalized("slot.info", old_slot.info());
    finalized("slot.token_info", old_slot.token_info());
    finalized("slot.mechanisms", old_slot.mechanisms());
    finalized("slot.open_ro_session", old_slot.open_ro_session());
    finalized("slot.open_rw_session", old_slot.open_rw_session());
    finalized("slots", old_slot.pkcs11().slots());
    finalized("info", old_slot.pkcs11().info());
    assert_eq!(old.poison_cause(), None, "finalized, not poisoned");
    // The stale calls did nothing to the new session: not logged out, not logged in,
    // no object created.
    assert_eq!(state(&new), SessionState::RwPublic);
    new.login(UserType::User, &user_pin()).unwrap();
    assert!(new
        .find_all(&[Attribute::Label("stale".into())])
        .unwrap()
        .is_empty());
    finalized("logout", old.logout());
    assert_eq!(state(&new), SessionState::RwUser);

    // Dropping the old session closes nothing: `new` (same number) lives on.
    drop(old);
    drop(old_slot);
    assert_eq!(state(&new), SessionState::RwUser);
    assert_eq!(new.generate_random(8).unwrap().len(), 8);
    new.logout().unwrap();
    drop((new, slot, p11));
    assert_eq!(softhsm_get_info_rv(), sys::CKR_CRYPTOKI_NOT_INITIALIZED);
}

// --- Rule 33 ----------------------------------------------------------------------------

/// Asserts that neither the error's `Display` nor its `Debug` contains a PIN, and that
/// the error is `function` failing with `rv`.
fn assert_pin_free(error: &Error, function: &str, rv: Rv, pins: &[&str]) {
    let shown = format!("{error} | {error:?} | {error:#?}");
    for pin in pins {
        assert!(!shown.contains(pin), "{function} shows a PIN: {shown}");
    }
    assert_eq!(error.function(), Some(function), "{error:?}");
    assert_eq!(error.rv(), Some(rv), "{error:?}");
}

#[test]
fn rule_33_pin_never_appears_in_errors_or_debug() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the PIN redaction test", Duration::from_secs(30));
    const WRONG: &str = "wrong-pin-7319";
    const NEW: &str = "new-pin-5517";
    let long = format!("long-pin-8642-{}", "z".repeat(300));
    let pins = [WRONG, NEW, long.as_str(), token().user_pin, token().so_pin];

    for pin in [WRONG, NEW, long.as_str(), token().user_pin] {
        let pin = Pin::from(pin);
        let shown = format!("{pin:?} {pin:#?}");
        assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
        for secret in &pins {
            assert!(!shown.contains(secret), "{shown}");
        }
    }

    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let slot = first_slot(&p11);
    let session = slot.open_rw_session().unwrap();

    let error = session
        .login(UserType::User, &Pin::from(WRONG))
        .unwrap_err();
    assert_pin_free(&error, "C_Login", Rv::PinIncorrect, &pins);
    let error = session.login(UserType::So, &Pin::from(WRONG)).unwrap_err();
    assert_pin_free(&error, "C_Login", Rv::PinIncorrect, &pins);
    let error = session
        .ensure_logged_in(UserType::User, &Pin::from(WRONG))
        .unwrap_err();
    assert_pin_free(&error, "C_Login", Rv::PinIncorrect, &pins);

    // Nobody logged in on a read-write session: C_SetPIN changes the user's PIN, and
    // the old one is wrong.
    let error = session
        .set_pin(&Pin::from(WRONG), &Pin::from(NEW))
        .unwrap_err();
    assert_pin_free(&error, "C_SetPIN", Rv::PinIncorrect, &pins);
    let error = session
        .set_pin(&user_pin(), &Pin::from(long.as_str()))
        .unwrap_err();
    assert_pin_free(&error, "C_SetPIN", Rv::PinLenRange, &pins);

    // C_InitPIN needs the SO...
    let error = session.init_pin(&Pin::from(NEW)).unwrap_err();
    assert_pin_free(&error, "C_InitPIN", Rv::UserNotLoggedIn, &pins);
    // ...and a PIN of a length the token accepts.
    session.login(UserType::So, &so_pin()).unwrap();
    let error = session.init_pin(&Pin::from(long.as_str())).unwrap_err();
    assert_pin_free(&error, "C_InitPIN", Rv::PinLenRange, &pins);
    session.logout().unwrap();

    // C_InitToken with a wrong SO PIN (no session open, so that the PIN is checked).
    drop(session);
    let error = slot
        .init_token(&Pin::from(WRONG), "safe-reliability")
        .unwrap_err();
    assert_pin_free(&error, "C_InitToken", Rv::PinIncorrect, &pins);

    // The real PINs still work: nothing was changed.
    let session = slot.open_rw_session().unwrap();
    session.login(UserType::User, &user_pin()).unwrap();
    session.logout().unwrap();
    session.login(UserType::So, &so_pin()).unwrap();
    session.logout().unwrap();
    drop((session, slot, p11));
    assert_eq!(softhsm_get_info_rv(), sys::CKR_CRYPTOKI_NOT_INITIALIZED);
}
