//! Fork safety against SoftHSMv2 (RELIABILITY rules 29-30).
//!
//! Forking a multi-threaded test harness is unsound, and a crash or hang in a fork child
//! must fail a test rather than take the harness down. So each scenario runs in a fresh
//! process: the test re-executes this binary with `--ignored --exact
//! fork_scenario_entry_point` and the scenario's name in `PKCS11_FORK_SCENARIO`, under a
//! watchdog. In that process the scenario opens SoftHSM, logs a session in, forks, and
//! checks in the child that:
//!
//! - every call through the inherited `Pkcs11`, `Slot` and `Session` is
//!   `Error::Forked`, and dropping them calls nothing (with counting application
//!   mutexes: SoftHSM takes no lock at all in the child until it is re-initialized);
//! - an explicit re-initialization (`Pkcs11::open` again) gives a fresh, usable handle
//!   (SoftHSM inherits its initialized state, so it comes back adopted);
//!
//! and the child leaves with `libc::_exit` and a status the parent checks. The parent
//! then checks that its own session is still logged in and usable.

use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use pkcs11::{AppMutex, Error, MutexError, Pin, Pkcs11, Rv, SessionState, StdAppMutex, UserType};
use pkcs11_tests::{softhsm_module, SoftHsmToken};

/// Names the scenario the re-executed binary runs.
const SCENARIO: &str = "PKCS11_FORK_SCENARIO";
/// How long a scenario process, or a fork child, may take.
const WATCHDOG: Duration = Duration::from_secs(60);

/// Runs `scenario` in a fresh process of this test binary and fails if it fails,
/// crashes, or outlives the watchdog.
fn run_scenario(scenario: &str) {
    let exe = std::env::current_exe().expect("the test binary");
    let mut child = Command::new(exe)
        .args([
            "--ignored",
            "--exact",
            "fork_scenario_entry_point",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(SCENARIO, scenario)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("re-execute the test binary");
    let pipe_reader = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = pipe_reader(Box::new(child.stdout.take().unwrap()));
    let stderr = pipe_reader(Box::new(child.stderr.take().unwrap()));
    let deadline = Instant::now() + WATCHDOG;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (stdout, stderr) = (stdout.join().unwrap(), stderr.join().unwrap());
    let report = format!("--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let status = status.unwrap_or_else(|| panic!("scenario {scenario} hung\n{report}"));
    assert!(status.success(), "scenario {scenario}: {status}\n{report}");
    assert!(
        stdout.contains(&format!("scenario {scenario}: passed")),
        "scenario {scenario} did not run\n{report}"
    );
}

/// The entry point of the re-executed binary: runs the scenario named in
/// `PKCS11_FORK_SCENARIO`; ignored in an ordinary test run, and fails without a scenario.
#[test]
#[ignore = "the child process of the rule_29_30 fork tests"]
fn fork_scenario_entry_point() {
    let scenario =
        std::env::var(SCENARIO).expect("run only by run_scenario, which sets PKCS11_FORK_SCENARIO");
    match scenario.as_str() {
        "plain" => forked_child_is_refused_and_reinitializes(Opening::Plain),
        "counted" => forked_child_is_refused_and_reinitializes(Opening::CountedMutexes),
        other => panic!("unknown fork scenario {other}"),
    }
    println!("scenario {scenario}: passed");
}

#[test]
fn rule_29_30_forked_child_gets_forked_errors_and_can_reinitialize() {
    run_scenario("plain");
}

#[test]
fn rule_30_forked_child_makes_no_module_call_until_reinitialized() {
    run_scenario("counted");
}

// --- The scenario ------------------------------------------------------------------------

/// Locks taken by the module through [`Counting`] (it locks in nearly every call).
static LOCKS: AtomicUsize = AtomicUsize::new(0);
/// Mutexes created or destroyed through [`Counting`].
static LIFECYCLE: AtomicUsize = AtomicUsize::new(0);

/// Application mutexes that count what the module does with them.
struct Counting(StdAppMutex);

impl AppMutex for Counting {
    fn create() -> Result<Self, MutexError> {
        LIFECYCLE.fetch_add(1, Ordering::SeqCst);
        StdAppMutex::create().map(Counting)
    }
    fn lock(&self) -> Result<(), MutexError> {
        LOCKS.fetch_add(1, Ordering::SeqCst);
        self.0.lock()
    }
    fn unlock(&self) -> Result<(), MutexError> {
        self.0.unlock()
    }
}

impl Drop for Counting {
    fn drop(&mut self) {
        LIFECYCLE.fetch_add(1, Ordering::SeqCst);
    }
}

fn module_activity() -> (usize, usize) {
    (
        LOCKS.load(Ordering::SeqCst),
        LIFECYCLE.load(Ordering::SeqCst),
    )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Opening {
    Plain,
    CountedMutexes,
}

fn forked_child_is_refused_and_reinitializes(opening: Opening) {
    let token = SoftHsmToken::new("safe-fork");
    token.export();
    let pin = Pin::from(token.user_pin);
    let p11 = match opening {
        Opening::Plain => Pkcs11::open(softhsm_module()).unwrap(),
        Opening::CountedMutexes => {
            let p11 = Pkcs11::open_with_mutexes::<Counting>(softhsm_module()).unwrap();
            assert!(p11.app_mutexes().is_some());
            p11
        }
    };
    let slot = p11.slots_with_token().unwrap().remove(0);
    let session = slot.open_rw_session().unwrap();
    session.login(UserType::User, &pin).unwrap();
    assert!(LOCKS.load(Ordering::SeqCst) > 0 || opening == Opening::Plain);

    std::io::stdout().flush().unwrap();
    std::io::stderr().flush().unwrap();
    // SAFETY: this process runs only this test; the child only runs the checks below
    // and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            in_the_child(opening, p11, slot, session, &pin);
        }));
        let code = match outcome {
            Ok(()) => 0,
            Err(_) => 3, // the panic message is already on stderr
        };
        // SAFETY: ends the child without running the parent's exit handlers or
        // destructors (RELIABILITY rule 30).
        unsafe { libc::_exit(code) };
    }

    let status = wait_for(pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "the fork child failed (wait status {status:#x}); see its messages above"
    );

    // The parent's session was not touched by the child.
    assert!(session.is_usable());
    assert_eq!(session.info().unwrap().state(), SessionState::RwUser);
    let again = session.login(UserType::User, &pin);
    assert!(
        matches!(
            again,
            Err(Error::Module {
                rv: Rv::UserAlreadyLoggedIn,
                ..
            })
        ),
        "still logged in: {again:?}"
    );
    assert_eq!(session.generate_random(16).unwrap().len(), 16);
    session.close().unwrap();
    drop(slot);
    drop(p11);
}

/// Waits for `pid` (the watchdog kills it when it takes too long); its wait status.
fn wait_for(pid: libc::pid_t) -> libc::c_int {
    let deadline = Instant::now() + WATCHDOG;
    loop {
        let mut status = 0;
        // SAFETY: `status` is writable; `pid` is our child.
        let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        assert!(rc >= 0, "waitpid failed");
        if rc == pid {
            return status;
        }
        if Instant::now() > deadline {
            // SAFETY: kills our own hung child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
            panic!("the fork child hung");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The child's checks; panics (reported by the parent as a failed child) on a failure.
fn in_the_child(
    opening: Opening,
    p11: Pkcs11,
    slot: pkcs11::Slot,
    session: pkcs11::Session,
    pin: &Pin,
) {
    let before = module_activity();
    let forked = |what: &str, result: Result<(), Error>| {
        assert!(
            matches!(result, Err(Error::Forked)),
            "{what} in the fork child: {result:?}"
        );
    };

    // Every call through inherited objects is refused without reaching the module.
    forked("slots", p11.slots().map(drop));
    forked("slots_with_token", p11.slots_with_token().map(drop));
    forked("info", p11.info().map(drop));
    forked("slot info", slot.info().map(drop));
    forked("open_rw_session", slot.open_rw_session().map(drop));
    forked(
        "open_ro_session_with_notify",
        slot.open_ro_session_with_notify(|_| pkcs11::NotifyReply::Continue)
            .map(drop),
    );
    forked("login", session.login(UserType::User, pin));
    forked("logout", session.logout());
    forked("session info", session.info().map(drop));
    forked("generate_random", session.generate_random(8).map(drop));
    forked("find", session.find(&[]).map(drop));
    assert!(!session.is_usable());

    // Dropping them calls nothing either (closing a session here could close the
    // parent's, RELIABILITY rule 30).
    drop(session);
    drop(slot);
    let same = p11.clone();
    drop(p11);
    drop(same);
    if opening == Opening::CountedMutexes {
        assert_eq!(
            module_activity(),
            before,
            "the module was entered in the fork child before re-initialization"
        );
    }

    // An explicit re-initialization gives a fresh, usable handle. Modules differ (NSS
    // wants a new C_Initialize); SoftHSM keeps its inherited initialization and answers
    // CKR_CRYPTOKI_ALREADY_INITIALIZED, so the module is adopted. (Had the inherited
    // handles unloaded the library on drop, SoftHSM would have started afresh.)
    let fresh = Pkcs11::open(softhsm_module()).unwrap();
    assert!(
        fresh.is_adopted(),
        "SoftHSM keeps its state in the child: the library was not unloaded"
    );
    let slots = fresh.slots_with_token().unwrap();
    assert!(!slots.is_empty());
    let session = slots[0].open_ro_session().unwrap();
    assert_eq!(session.generate_random(8).unwrap().len(), 8);
    if opening == Opening::CountedMutexes {
        assert!(
            module_activity().0 > before.0,
            "calls reach the module again"
        );
    }
    drop(session);
}
