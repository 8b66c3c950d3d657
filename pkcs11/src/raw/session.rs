//! Session functions: open, close, login, and ending abandoned operations.

use crate::context::Inner;
use crate::error::Result;
use crate::raw::{call, call_3_0, call_3_2, Returned};
use crate::session::OperationKind;

/// `C_OpenSession` without a notification callback, writing the new handle to `handle`.
#[inline]
pub(crate) fn open_session(
    inner: &Inner,
    slot: ffi::CK_SLOT_ID,
    flags: ffi::CK_FLAGS,
    handle: &mut ffi::CK_SESSION_HANDLE,
) -> Result<Returned> {
    // SAFETY: no callback, no application pointer; `handle` is writable.
    unsafe { open_session_notify(inner, slot, flags, std::ptr::null_mut(), None, handle) }
}

/// `C_OpenSession` with a notification callback, writing the new handle to `handle`.
///
/// # Safety
/// `application` must stay valid, and `notify` callable with it, until the session is
/// closed (the module may call `notify` until then, from any thread).
pub(crate) unsafe fn open_session_notify(
    inner: &Inner,
    slot: ffi::CK_SLOT_ID,
    flags: ffi::CK_FLAGS,
    application: ffi::CK_VOID_PTR,
    notify: ffi::CK_NOTIFY,
    handle: &mut ffi::CK_SESSION_HANDLE,
) -> Result<Returned> {
    // SAFETY: `handle` is writable; `notify`/`application` are the caller's contract.
    unsafe {
        call!(
            inner,
            C_OpenSession(slot, flags, application, notify, handle)
        )
    }
}

/// `C_CloseSession`.
#[inline]
pub(crate) fn close_session(inner: &Inner, session: ffi::CK_SESSION_HANDLE) -> Result<Returned> {
    // SAFETY: plain values only.
    unsafe { call!(inner, C_CloseSession(session)) }
}

/// `C_Login` with `pin` (or NULL for the protected authentication path when `None`).
#[inline]
pub(crate) fn login(
    inner: &Inner,
    session: ffi::CK_SESSION_HANDLE,
    user: ffi::CK_USER_TYPE,
    pin: Option<&[u8]>,
) -> Result<Returned> {
    let (pointer, len) = pin.map_or((std::ptr::null_mut(), 0), |pin| {
        (pin.as_ptr().cast_mut(), pin.len() as ffi::CK_ULONG)
    });
    // SAFETY: the PIN buffer is NULL or valid for `len` bytes; the module only reads it.
    unsafe { call!(inner, C_Login(session, user, pointer, len)) }
}

/// `C_Logout`.
#[inline]
pub(crate) fn logout(inner: &Inner, session: ffi::CK_SESSION_HANDLE) -> Result<Returned> {
    // SAFETY: plain values only.
    unsafe { call!(inner, C_Logout(session)) }
}

/// `C_SessionCancel` (3.0) for the operation `kind`.
#[inline]
pub(crate) fn session_cancel(
    inner: &Inner,
    session: ffi::CK_SESSION_HANDLE,
    kind: OperationKind,
) -> Result<Returned> {
    let flags = kind.cancel_flag();
    // SAFETY: plain values only.
    unsafe { call_3_0!(inner, C_SessionCancel(session, flags)) }
}

/// The `*Init` of `kind` with a NULL mechanism, which ends the active operation in
/// PKCS #11 3.x; `None` for kinds without one.
#[inline]
pub(crate) fn null_init(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    kind: OperationKind,
) -> Option<Result<Returned>> {
    let null = std::ptr::null_mut();
    // SAFETY: a NULL mechanism, and an invalid key handle that is never used.
    let returned = unsafe {
        match kind {
            OperationKind::Find => return None,
            OperationKind::Digest => call!(inner, C_DigestInit(h, null)),
            OperationKind::Encrypt => call!(inner, C_EncryptInit(h, null, 0)),
            OperationKind::Decrypt => call!(inner, C_DecryptInit(h, null, 0)),
            OperationKind::Sign => call!(inner, C_SignInit(h, null, 0)),
            OperationKind::Verify => call!(inner, C_VerifyInit(h, null, 0)),
            OperationKind::SignRecover => call!(inner, C_SignRecoverInit(h, null, 0)),
            OperationKind::VerifyRecover => call!(inner, C_VerifyRecoverInit(h, null, 0)),
            OperationKind::MessageEncrypt => call_3_0!(inner, C_MessageEncryptInit(h, null, 0)),
            OperationKind::MessageDecrypt => call_3_0!(inner, C_MessageDecryptInit(h, null, 0)),
            OperationKind::MessageSign => call_3_0!(inner, C_MessageSignInit(h, null, 0)),
            OperationKind::MessageVerify => call_3_0!(inner, C_MessageVerifyInit(h, null, 0)),
            OperationKind::VerifySignature => call_3_2!(
                inner,
                C_VerifySignatureInit(h, null, 0, std::ptr::null_mut(), 0)
            ),
        }
    };
    Some(returned)
}

/// Ends `kind` the 2.x way: `C_FindObjectsFinal`, or the `*Final` call into `scratch`
/// (`len` in: its size; out: what the module wrote or wants).
#[inline]
pub(crate) fn finish_into(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    kind: OperationKind,
    scratch: &mut [u8],
    len: &mut ffi::CK_ULONG,
) -> Result<Returned> {
    *len = scratch.len() as ffi::CK_ULONG;
    let buf = scratch.as_mut_ptr();
    // SAFETY: `buf` holds `*len` writable bytes; `len` is writable.
    unsafe {
        match kind {
            OperationKind::Find => call!(inner, C_FindObjectsFinal(h)),
            OperationKind::Digest => call!(inner, C_DigestFinal(h, buf, len)),
            OperationKind::Encrypt => call!(inner, C_EncryptFinal(h, buf, len)),
            OperationKind::Decrypt => call!(inner, C_DecryptFinal(h, buf, len)),
            OperationKind::Sign => call!(inner, C_SignFinal(h, buf, len)),
            // An empty signature ends the verification (with a verdict we ignore).
            OperationKind::Verify => call!(inner, C_VerifyFinal(h, buf, 0)),
            // Single-part completions: an empty input ends them either way.
            OperationKind::SignRecover => call!(inner, C_SignRecover(h, buf, 0, buf, len)),
            OperationKind::VerifyRecover => call!(inner, C_VerifyRecover(h, buf, 0, buf, len)),
            // The message-based operations end with their *Final, which has no output.
            OperationKind::MessageEncrypt => call_3_0!(inner, C_MessageEncryptFinal(h)),
            OperationKind::MessageDecrypt => call_3_0!(inner, C_MessageDecryptFinal(h)),
            OperationKind::MessageSign => call_3_0!(inner, C_MessageSignFinal(h)),
            OperationKind::MessageVerify => call_3_0!(inner, C_MessageVerifyFinal(h)),
            OperationKind::VerifySignature => call_3_2!(inner, C_VerifySignatureFinal(h)),
        }
    }
}

/// `C_GetSessionInfo` into `info`.
#[inline]
pub(crate) fn get_session_info(
    inner: &Inner,
    session: ffi::CK_SESSION_HANDLE,
    info: &mut ffi::CK_SESSION_INFO,
) -> Result<Returned> {
    // SAFETY: `info` is a writable CK_SESSION_INFO.
    unsafe { call!(inner, C_GetSessionInfo(session, info)) }
}

/// `C_LoginUser` (3.0) with `pin` (NULL for the protected authentication path when
/// `None`) and `username`.
#[inline]
pub(crate) fn login_user(
    inner: &Inner,
    session: ffi::CK_SESSION_HANDLE,
    user: ffi::CK_USER_TYPE,
    pin: Option<&[u8]>,
    username: &[u8],
) -> Result<Returned> {
    let (pin, pin_len) = super::slot::text_pointer(pin);
    let (name, name_len) = super::slot::text_pointer(Some(username));
    // SAFETY: the PIN is NULL or valid for `pin_len` bytes, the username valid for
    // `name_len` bytes; the module only reads them.
    unsafe {
        call_3_0!(
            inner,
            C_LoginUser(session, user, pin, pin_len, name, name_len)
        )
    }
}

/// `C_InitPIN` with `pin` (NULL for the protected authentication path when `None`).
#[inline]
pub(crate) fn init_pin(
    inner: &Inner,
    session: ffi::CK_SESSION_HANDLE,
    pin: Option<&[u8]>,
) -> Result<Returned> {
    let (pin, pin_len) = super::slot::text_pointer(pin);
    // SAFETY: the PIN is NULL or valid for `pin_len` bytes; the module only reads it.
    unsafe { call!(inner, C_InitPIN(session, pin, pin_len)) }
}

/// `C_SetPIN` from `old` to `new` (both NULL for the protected authentication path).
#[inline]
pub(crate) fn set_pin(
    inner: &Inner,
    session: ffi::CK_SESSION_HANDLE,
    old: Option<&[u8]>,
    new: Option<&[u8]>,
) -> Result<Returned> {
    let (old, old_len) = super::slot::text_pointer(old);
    let (new, new_len) = super::slot::text_pointer(new);
    // SAFETY: each PIN is NULL or valid for its length; the module only reads them.
    unsafe { call!(inner, C_SetPIN(session, old, old_len, new, new_len)) }
}

/// Ends `kind` with its single-part call on empty input into `scratch` (`len` in: its
/// size; out: what the module wrote or wants); for `Find` this is `C_FindObjectsFinal`.
#[inline]
pub(crate) fn single_part_into(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    kind: OperationKind,
    scratch: &mut [u8],
    len: &mut ffi::CK_ULONG,
) -> Result<Returned> {
    *len = scratch.len() as ffi::CK_ULONG;
    let buf = scratch.as_mut_ptr();
    // SAFETY: `buf` holds `*len` writable bytes (also read as a zero-length input);
    // `len` is writable.
    unsafe {
        match kind {
            OperationKind::Find => call!(inner, C_FindObjectsFinal(h)),
            OperationKind::Digest => call!(inner, C_Digest(h, buf, 0, buf, len)),
            OperationKind::Encrypt => call!(inner, C_Encrypt(h, buf, 0, buf, len)),
            OperationKind::Decrypt => call!(inner, C_Decrypt(h, buf, 0, buf, len)),
            OperationKind::Sign => call!(inner, C_Sign(h, buf, 0, buf, len)),
            OperationKind::Verify => call!(inner, C_Verify(h, buf, 0, buf, 0)),
            OperationKind::SignRecover => call!(inner, C_SignRecover(h, buf, 0, buf, len)),
            OperationKind::VerifyRecover => call!(inner, C_VerifyRecover(h, buf, 0, buf, len)),
            OperationKind::MessageEncrypt => call_3_0!(inner, C_MessageEncryptFinal(h)),
            OperationKind::MessageDecrypt => call_3_0!(inner, C_MessageDecryptFinal(h)),
            OperationKind::MessageSign => call_3_0!(inner, C_MessageSignFinal(h)),
            OperationKind::MessageVerify => call_3_0!(inner, C_MessageVerifyFinal(h)),
            OperationKind::VerifySignature => call_3_2!(inner, C_VerifySignature(h, buf, 0)),
        }
    }
}

/// `C_AsyncComplete` (3.2) for the function named by `function` (NUL-terminated),
/// writing the outcome to `result` (whose `ulVersion` the caller has set).
#[inline]
pub(crate) fn async_complete(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    function: &std::ffi::CStr,
    result: &mut ffi::CK_ASYNC_DATA,
) -> Result<Returned> {
    let name = function.as_ptr().cast::<ffi::CK_UTF8CHAR>().cast_mut();
    // SAFETY: `name` is a NUL-terminated string the module only reads; `result` is a
    // writable CK_ASYNC_DATA.
    unsafe { call_3_2!(inner, C_AsyncComplete(h, name, result)) }
}

/// `C_AsyncGetID` (3.2) for the function named by `function`, writing the ID to `id`.
#[inline]
pub(crate) fn async_get_id(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    function: &std::ffi::CStr,
    id: &mut ffi::CK_ULONG,
) -> Result<Returned> {
    let name = function.as_ptr().cast::<ffi::CK_UTF8CHAR>().cast_mut();
    // SAFETY: `name` is a NUL-terminated string the module only reads; `id` is
    // writable.
    unsafe { call_3_2!(inner, C_AsyncGetID(h, name, id)) }
}

/// `C_AsyncJoin` (3.2): joins the asynchronous call `id` of `function`, handing the
/// module `buffer` for its output.
///
/// The module may write into `buffer` after the call returns: the caller keeps it alive
/// (and unmoved) until the session is closed.
#[inline]
pub(crate) fn async_join(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    function: &std::ffi::CStr,
    id: ffi::CK_ULONG,
    buffer: &mut [u8],
) -> Result<Returned> {
    let name = function.as_ptr().cast::<ffi::CK_UTF8CHAR>().cast_mut();
    let len = crate::raw::crypto::ulong(buffer.len(), "the C_AsyncJoin buffer")?;
    // SAFETY: `name` is NUL-terminated and only read; `buffer` is writable for `len`
    // bytes and, per the contract above, outlives every later write by the module.
    unsafe { call_3_2!(inner, C_AsyncJoin(h, name, id, buffer.as_mut_ptr(), len)) }
}
