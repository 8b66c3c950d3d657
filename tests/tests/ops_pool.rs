//! The session pool on both real modules and on the fault module: sessions shared by
//! threads up to the pool's size, a bounded wait with a typed timeout, unusable sessions
//! discarded and replaced (logged in again).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pkcs11::{Error, Mechanism, Pin, Rv, SessionPool, UserType};
use pkcs11_tests::fault::{FaultModule, SLOT, USER_PIN};
use pkcs11_tests::modules::each_module;
use sha2::{Digest as _, Sha256};

#[test]
fn eight_threads_share_two_pooled_sessions() {
    each_module("eight_threads_share_two_pooled_sessions", |token| {
        let pool = SessionPool::builder(&token.slot)
            .max_sessions(2)
            .login(UserType::User, Pin::from(token.user_pin))
            .build()
            .expect("build the pool");
        assert_eq!((pool.open_sessions(), pool.idle_sessions()), (1, 1));
        let borrowed = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for t in 0..8u8 {
                let (pool, borrowed, most) = (&pool, &borrowed, &most);
                s.spawn(move || {
                    for i in 0..20u8 {
                        let session = pool.get().expect("borrow a session");
                        let now = borrowed.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        // The pool logged in: a private object search would fail
                        // otherwise; here, the digest proves the session works.
                        let data = [t, i];
                        let digest = session.digest(&Mechanism::Sha256, &data).unwrap();
                        assert_eq!(digest, Sha256::digest(data).to_vec());
                        borrowed.fetch_sub(1, Ordering::SeqCst);
                    }
                });
            }
        });
        assert!(most.load(Ordering::SeqCst) <= 2, "{most:?}");
        assert!(most.load(Ordering::SeqCst) >= 1);
        assert!(pool.open_sessions() <= 2 && pool.open_sessions() >= 1);
        assert_eq!(pool.idle_sessions(), pool.open_sessions());
        assert_eq!(pool.replaced_sessions(), 0);
        // Logged in: the session state says so.
        let session = pool.get().unwrap();
        let state = session.info().unwrap().state();
        assert_eq!(state, pkcs11::SessionState::RwUser, "{state:?}");
    });
}

#[test]
fn a_full_pool_times_out_with_a_typed_error_and_recovers() {
    each_module(
        "a_full_pool_times_out_with_a_typed_error_and_recovers",
        |token| {
            let pool = SessionPool::builder(&token.slot)
                .max_sessions(1)
                .wait_timeout(Duration::from_millis(150))
                .build()
                .unwrap();
            let held = pool.get().unwrap();
            let start = Instant::now();
            match pool.get() {
                Err(Error::PoolTimeout {
                    waited,
                    max_sessions,
                }) => {
                    assert!(waited >= Duration::from_millis(150), "{waited:?}");
                    assert_eq!(max_sessions, 1);
                }
                other => panic!("{other:?}"),
            }
            assert!(start.elapsed() >= Duration::from_millis(150));
            let message = pool.get_timeout(Duration::ZERO).unwrap_err().to_string();
            assert!(message.contains("all 1 in use"), "{message}");
            assert!(pool.try_get().unwrap().is_none());

            // A waiter is woken when the session comes back.
            std::thread::scope(|s| {
                let waiter = s.spawn(|| pool.get_timeout(Duration::from_secs(10)).map(drop));
                std::thread::sleep(Duration::from_millis(50));
                drop(held);
                waiter
                    .join()
                    .unwrap()
                    .expect("the waiter gets the returned session");
            });
            assert!(pool.try_get().unwrap().is_some());
            assert!(matches!(
                SessionPool::builder(&token.slot).max_sessions(0).build(),
                Err(Error::InvalidInput { .. })
            ));
        },
    );
}

#[test]
fn a_wrong_pin_fails_the_build_naming_c_login() {
    // A module nobody in this process has logged in to yet (login state is per token and
    // application, so the real modules' shared tokens would answer "already logged in").
    let module = FaultModule::new("pool-pin");
    let p11 = module.open().expect("open the fault module");
    let result = SessionPool::builder(&p11.slot(SLOT))
        .login(UserType::User, Pin::from("not-the-pin"))
        .build();
    match result {
        Err(Error::Module { function, rv }) => {
            assert_eq!(function, "C_Login");
            assert_eq!(rv, Rv::PinIncorrect);
        }
        other => panic!("{other:?}"),
    }
    let debug = format!(
        "{:?}",
        SessionPool::builder(&p11.slot(SLOT)).login(UserType::User, Pin::from("secret-pin"))
    );
    assert!(!debug.contains("secret-pin"), "{debug}");
}

#[test]
fn a_poisoned_session_is_discarded_and_replaced_logged_in() {
    let module = FaultModule::new("pool");
    let p11 = module.open().expect("open the fault module");
    let pool = SessionPool::builder(&p11.slot(SLOT))
        .max_sessions(2)
        .login(UserType::User, Pin::from(USER_PIN))
        .build()
        .unwrap();
    assert_eq!(module.open_sessions(), 1);
    {
        let session = pool.get().unwrap();
        module.set_plan("C_GenerateRandom:rv=CKR_SESSION_HANDLE_INVALID@1*1");
        let error = session.generate_random(4).unwrap_err();
        assert_eq!(error.rv(), Some(Rv::SessionHandleInvalid), "{error}");
        assert!(!session.is_usable());
    }
    module.clear_plan();
    assert_eq!(pool.replaced_sessions(), 1);
    assert_eq!(pool.open_sessions(), 0);
    let logins_before = module.calls("C_Login");
    let session = pool.get().unwrap();
    assert_eq!(session.generate_random(4).unwrap().len(), 4);
    assert_eq!(
        module.calls("C_Login"),
        logins_before + 1,
        "logged in again"
    );
    assert_eq!(pool.open_sessions(), 1);
    drop(session);
    assert_eq!(pool.idle_sessions(), 1);
}
