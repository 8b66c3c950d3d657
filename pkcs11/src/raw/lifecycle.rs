//! `C_Initialize`, `C_Finalize` and the fork watch.

use crate::context::Inner;
use crate::error::{Error, Result};
use crate::raw::{call, Returned};

/// `CK_C_INITIALIZE_ARGS` and what its pointers point to.
pub(crate) struct InitArgs {
    args: ffi::CK_C_INITIALIZE_ARGS,
    /// The name of the application mutex type whose trampolines `args` holds.
    mutexes: Option<&'static str>,
}

/// The four application mutex callbacks of `CK_C_INITIALIZE_ARGS`.
pub(crate) struct MutexCallbacks {
    pub(crate) create: ffi::CK_CREATEMUTEX,
    pub(crate) destroy: ffi::CK_DESTROYMUTEX,
    pub(crate) lock: ffi::CK_LOCKMUTEX,
    pub(crate) unlock: ffi::CK_UNLOCKMUTEX,
    /// A name for the implementation, for `Pkcs11::app_mutexes`.
    pub(crate) name: &'static str,
}

impl InitArgs {
    /// `CKF_OS_LOCKING_OK`, no application mutexes.
    pub(crate) fn os_locking() -> InitArgs {
        InitArgs {
            args: ffi::CK_C_INITIALIZE_ARGS {
                flags: ffi::CKF_OS_LOCKING_OK,
                ..Default::default()
            },
            mutexes: None,
        }
    }

    /// Application mutex callbacks, with `CKF_OS_LOCKING_OK` still set: the module may
    /// use either (PKCS #11 §5.4, case 4).
    ///
    /// The callbacks must be functions that live as long as the program (they are kept
    /// by the module until it is finalized, and by some modules beyond).
    pub(crate) fn with_mutexes(callbacks: MutexCallbacks) -> InitArgs {
        InitArgs {
            args: ffi::CK_C_INITIALIZE_ARGS {
                CreateMutex: callbacks.create,
                DestroyMutex: callbacks.destroy,
                LockMutex: callbacks.lock,
                UnlockMutex: callbacks.unlock,
                flags: ffi::CKF_OS_LOCKING_OK,
                pReserved: std::ptr::null_mut(),
            },
            mutexes: Some(callbacks.name),
        }
    }

    /// The application mutex implementation given, if any.
    pub(crate) fn mutexes(&self) -> Option<&'static str> {
        self.mutexes
    }
}

/// `C_Initialize(args)`.
///
/// A panic raised by an application mutex callback during the call is resumed after it
/// returns; if the module initialized all the same, it is finalized first, so that the
/// panic does not leave behind an initialization nobody owns.
pub(crate) fn initialize(inner: &Inner, args: &mut InitArgs) -> Result<Returned> {
    let pointer: ffi::CK_VOID_PTR = std::ptr::from_mut(&mut args.args).cast();
    let (returned, panic) = crate::callback::holding_panics(|| {
        // SAFETY: `pointer` is a valid CK_C_INITIALIZE_ARGS that outlives the call; its
        // callbacks, if any, are trampolines that live as long as the program.
        unsafe { call!(inner, C_Initialize(pointer)) }
    });
    if let Some(payload) = panic {
        if matches!(
            returned,
            Ok(Returned {
                rv: ffi::CKR_OK,
                ..
            })
        ) {
            // Later panics of the same callbacks are dropped: the first one wins.
            let _ = crate::callback::holding_panics(|| finalize(inner));
        }
        std::panic::resume_unwind(payload);
    }
    returned
}

/// `C_Finalize(NULL)`, bypassing the in-flight accounting (the caller has made sure no
/// call of ours is in flight). A panic of an application mutex callback during the call
/// is resumed after it returns (unless the thread is already panicking).
pub(crate) fn finalize(inner: &Inner) -> Result<()> {
    let f = inner.functions().C_Finalize.ok_or(Error::NotSupported {
        function: "C_Finalize",
    })?;
    // SAFETY: NULL is the only valid argument.
    let rv = crate::callback::during_call(inner, || unsafe { f(std::ptr::null_mut()) });
    Error::check("C_Finalize", rv)
}

/// Registers `child` to run in every fork child (it may only touch atomics).
pub(crate) fn on_fork_in_child(child: extern "C" fn()) {
    #[cfg(unix)]
    {
        // SAFETY: registers a handler that only increments an atomic, which is allowed
        // in a fork child.
        let rc = unsafe { libc::pthread_atfork(None, None, Some(child)) };
        debug_assert_eq!(rc, 0, "pthread_atfork");
    }
    #[cfg(not(unix))]
    let _ = child;
}
