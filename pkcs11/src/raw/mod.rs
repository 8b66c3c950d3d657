//! The one path from safe code to a module function, and the only place (with the
//! attribute marshalling and the callback trampolines) where this crate uses `unsafe`.
//!
//! Each submodule wraps the PKCS #11 functions of one area in `pub(crate)` functions
//! that take references and slices, so that the rest of the crate is safe code (the
//! crate denies `unsafe_code` outside these modules). Inside, every call is written
//! `call!(inner, C_Name(args...))` (or `call_3_0!` / `call_3_2!` for the 3.x tables) in
//! an `unsafe` block whose `// SAFETY:` comment vouches for the arguments. The macro names the function once; it
//! fetches the slot (a NULL slot is [`Error::NotSupported`]), refuses the call in a fork
//! child or after finalization without touching the module, counts the call as in
//! flight (so an explicit finalize waits for it), calls, and returns a [`Returned`]: the
//! raw `CK_RV` with the function's name, which `.ok()` turns into a `Result`.

use crate::context::Inner;
use crate::error::{Error, Result};

pub(crate) mod attribute;
pub(crate) mod crypto;
pub(crate) mod keys;
pub(crate) mod lifecycle;
pub(crate) mod message;
pub(crate) mod misc;
pub(crate) mod object;
pub(crate) mod params;
pub(crate) mod session;
pub(crate) mod slot;
pub(crate) mod trace;

/// Calls `$function` through the table slot `$slot`: one module call, traced when a
/// subscriber listens (feature `tracing`; without it, or without a listener, the plain
/// call). The three macros below give the slot of each table version.
macro_rules! call_through {
    ($inner:expr, $slot:expr, $function:ident($($arg:expr),*)) => {
        if $crate::raw::trace::wanted() {
            $crate::raw::invoke_traced(
                $inner,
                stringify!($function),
                $slot,
                |f, args: &mut $crate::raw::trace::Args| f($(args.arg($arg)),*),
            )
        } else {
            $crate::raw::invoke($inner, stringify!($function), $slot, |f| f($($arg),*))
        }
    };
}

/// Calls a 2.x-table function: `call!(inner, C_GetInfo(&mut info))` evaluates to
/// `Result<Returned>`. Must be used inside `unsafe { }`: the caller vouches for the
/// arguments.
macro_rules! call {
    ($inner:expr, $function:ident($($arg:expr),* $(,)?)) => {
        $crate::raw::call_through!($inner, $inner.functions().$function, $function($($arg),*))
    };
}

/// Calls a 3.0-table function (`C_SessionCancel`, `C_LoginUser`, message functions...).
macro_rules! call_3_0 {
    ($inner:expr, $function:ident($($arg:expr),* $(,)?)) => {
        $crate::raw::call_through!(
            $inner,
            $inner.functions_3_0().and_then(|t| t.$function),
            $function($($arg),*)
        )
    };
}

/// Calls a 3.2-table function (`C_EncapsulateKey`, `C_VerifySignature*`...).
macro_rules! call_3_2 {
    ($inner:expr, $function:ident($($arg:expr),* $(,)?)) => {
        $crate::raw::call_through!(
            $inner,
            $inner.functions_3_2().and_then(|t| t.$function),
            $function($($arg),*)
        )
    };
}

pub(crate) use call;
pub(crate) use call_3_0;
pub(crate) use call_3_2;
pub(crate) use call_through;

/// Calls `function` through `slot` unless the module is unavailable to this process.
///
/// # Safety
/// `call` passes arguments that satisfy the PKCS #11 contract of `function`: pointers
/// are valid for the lengths given and outlive the call (and, for `*Init` parameters,
/// the operation).
#[inline]
pub(crate) unsafe fn invoke<F: Copy>(
    inner: &Inner,
    function: &'static str,
    slot: Option<F>,
    call: impl FnOnce(F) -> ffi::CK_RV,
) -> Result<Returned> {
    let f = slot.ok_or(Error::NotSupported { function })?;
    let _in_flight = inner.enter()?;
    // Resumes a panic of a callback (callback.rs) after the call returns.
    let rv = crate::callback::during_call(inner, || call(f));
    Ok(Returned { function, rv })
}

/// Like [`invoke`], recording the arguments and emitting the call's trace event
/// (`call` summarizes each argument through `args`).
///
/// # Safety
/// As [`invoke`].
#[inline(never)]
pub(crate) unsafe fn invoke_traced<F: Copy>(
    inner: &Inner,
    function: &'static str,
    slot: Option<F>,
    call: impl FnOnce(F, &mut trace::Args) -> ffi::CK_RV,
) -> Result<Returned> {
    let f = slot.ok_or(Error::NotSupported { function })?;
    let _in_flight = inner.enter()?;
    let mut args = trace::Args::new(function);
    let start = args.start();
    // Resumes a panic of a callback (callback.rs) after the call returns.
    let rv = crate::callback::during_call(inner, || call(f, &mut args));
    args.finish(function, rv, start);
    Ok(Returned { function, rv })
}

/// What a module function returned, with the function's name.
#[derive(Clone, Copy, Debug)]
#[must_use]
pub(crate) struct Returned {
    /// The PKCS #11 function, e.g. `"C_Login"`.
    pub(crate) function: &'static str,
    /// Its return value.
    pub(crate) rv: ffi::CK_RV,
}

impl Returned {
    /// `CKR_OK` → `Ok(())`, anything else → [`Error::Module`] naming the function.
    #[inline]
    pub(crate) fn ok(self) -> Result<()> {
        Error::check(self.function, self.rv)
    }

    /// A verification's answer: `CKR_OK` is `true`; `CKR_SIGNATURE_INVALID` and
    /// `CKR_SIGNATURE_LEN_RANGE` are `false` (a bad signature is not an error); anything
    /// else is the module's error.
    pub(crate) fn verdict(self) -> Result<bool> {
        match self.rv {
            ffi::CKR_OK => Ok(true),
            ffi::CKR_SIGNATURE_INVALID | ffi::CKR_SIGNATURE_LEN_RANGE => Ok(false),
            _ => Err(self.error()),
        }
    }

    /// The error for this (non-OK) value.
    pub(crate) fn error(self) -> Error {
        Error::Module {
            function: self.function,
            rv: crate::Rv::from_raw(self.rv),
        }
    }
}

/// The pointer for a list argument of the two-call idiom: NULL for `None` (a count
/// query), else the slice, with `*count` set to its length.
pub(crate) fn list_pointer<T>(list: Option<&mut [T]>, count: &mut ffi::CK_ULONG) -> *mut T {
    match list {
        None => std::ptr::null_mut(),
        Some(list) => {
            *count = list.len() as ffi::CK_ULONG;
            list.as_mut_ptr()
        }
    }
}

/// Like [`invoke`], for a call that may block until finalization (`C_WaitForSlotEvent`
/// without `CKF_DONT_BLOCK`): refused in a fork child or after finalization, but not
/// counted in flight, so that an explicit finalize does not wait for it (`C_Finalize`
/// wakes it instead). The library stays loaded: the caller borrows the module.
///
/// # Safety
/// As [`invoke`].
pub(crate) unsafe fn invoke_waiting<F: Copy>(
    inner: &Inner,
    function: &'static str,
    slot: Option<F>,
    call: impl FnOnce(F, &mut trace::Args) -> ffi::CK_RV,
) -> Result<Returned> {
    let f = slot.ok_or(Error::NotSupported { function })?;
    inner.enter_waiting()?;
    let mut args = trace::Args::new(function);
    let start = args.start();
    // Resumes a panic of a callback (callback.rs) after the call returns.
    let rv = crate::callback::during_call(inner, || call(f, &mut args));
    args.finish(function, rv, start);
    Ok(Returned { function, rv })
}
