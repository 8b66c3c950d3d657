//! `C_Initialize`, `C_Finalize` and the fork watch.

use crate::context::Inner;
use crate::error::{Error, Result};
use crate::raw::{call, Returned};

/// `CK_C_INITIALIZE_ARGS` and what its pointers point to.
pub(crate) struct InitArgs {
    args: ffi::CK_C_INITIALIZE_ARGS,
}

impl InitArgs {
    /// `CKF_OS_LOCKING_OK`, no application mutexes.
    pub(crate) fn os_locking() -> InitArgs {
        InitArgs {
            args: ffi::CK_C_INITIALIZE_ARGS {
                flags: ffi::CKF_OS_LOCKING_OK,
                ..Default::default()
            },
        }
    }
}

/// `C_Initialize(args)`.
pub(crate) fn initialize(inner: &Inner, args: &mut InitArgs) -> Result<Returned> {
    let pointer: ffi::CK_VOID_PTR = std::ptr::from_mut(&mut args.args).cast();
    // SAFETY: `pointer` is a valid CK_C_INITIALIZE_ARGS that outlives the call; its
    // callbacks, if any, are trampolines that live as long as the program.
    unsafe { call!(inner, C_Initialize(pointer)) }
}

/// `C_Finalize(NULL)`, bypassing the in-flight accounting (the caller has made sure no
/// call of ours is in flight).
pub(crate) fn finalize(inner: &Inner) -> Result<()> {
    let f = inner.functions().C_Finalize.ok_or(Error::NotSupported {
        function: "C_Finalize",
    })?;
    // SAFETY: NULL is the only valid argument.
    let rv = unsafe { f(std::ptr::null_mut()) };
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
