//! Key management functions: wrap, unwrap, derive (2.x), encapsulate, decapsulate and
//! the authenticated wrap and unwrap (3.2).
//!
//! Templates are [`InTemplate`]s, valid for the call; mechanisms are borrowed for the
//! call (these functions start no operation, so nothing outlives the call). Output
//! buffers follow the conventions of [`crate::raw::crypto`]: `None` is the NULL length
//! query, `Some(buffer)` passes the buffer with `*len` set to its size.

use ffi::{CK_OBJECT_HANDLE, CK_SESSION_HANDLE, CK_ULONG};

use crate::context::Inner;
use crate::error::Result;
use crate::mechanism::Mechanism;
use crate::raw::attribute::InTemplate;
use crate::raw::crypto::{input, output};
use crate::raw::{call, call_3_2, Returned};

/// The pointer and length of optional associated data: NULL and 0 when empty.
fn associated(data: &[u8]) -> Result<(ffi::CK_BYTE_PTR, CK_ULONG)> {
    if data.is_empty() {
        Ok((core::ptr::null_mut(), 0))
    } else {
        input(data, "the associated data")
    }
}

/// `C_WrapKey`: `key` wrapped with `wrapping_key` into `out`.
pub(crate) fn wrap_key(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    wrapping_key: CK_OBJECT_HANDLE,
    key: CK_OBJECT_HANDLE,
    out: Option<&mut [u8]>,
    len: &mut CK_ULONG,
) -> Result<Returned> {
    let mut ck = mechanism.to_ck();
    let buf = output(out, len);
    // SAFETY: `ck`'s parameter points into `mechanism`, borrowed for the call; `buf` is
    // NULL or writable for `*len` bytes; `len` is writable.
    unsafe { call!(inner, C_WrapKey(h, &mut ck, wrapping_key, key, buf, len)) }
}

/// `C_UnwrapKey`: `wrapped` unwrapped with `unwrapping_key` into a new key with the
/// attributes of `template`, whose handle is written to `key`.
pub(crate) fn unwrap_key(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    unwrapping_key: CK_OBJECT_HANDLE,
    wrapped: &[u8],
    template: &mut InTemplate<'_>,
    key: &mut CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let mut ck = mechanism.to_ck();
    let (wrapped, wrapped_len) = input(wrapped, "the wrapped key")?;
    let (pointer, count) = template.as_ck();
    // SAFETY: `ck`'s parameter points into `mechanism`, borrowed for the call; `wrapped`
    // is readable for `wrapped_len` bytes; `pointer` holds `count` attributes valid
    // until `template` is next used; `key` is writable.
    unsafe {
        call!(
            inner,
            C_UnwrapKey(
                h,
                &mut ck,
                unwrapping_key,
                wrapped,
                wrapped_len,
                pointer,
                count,
                key
            )
        )
    }
}

/// `C_DeriveKey`: a new key derived from `base` with the attributes of `template`,
/// whose handle is written to `key`.
pub(crate) fn derive_key(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    base: CK_OBJECT_HANDLE,
    template: &mut InTemplate<'_>,
    key: &mut CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let mut ck = mechanism.to_ck();
    let (pointer, count) = template.as_ck();
    // SAFETY: `ck`'s parameter points into `mechanism`, borrowed for the call; `pointer`
    // holds `count` attributes valid until `template` is next used; `key` is writable.
    unsafe { call!(inner, C_DeriveKey(h, &mut ck, base, pointer, count, key)) }
}

/// `C_EncapsulateKey` (3.2): a new shared secret key with the attributes of `template`
/// (handle written to `key`) and its ciphertext for `public_key` into `out`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn encapsulate_key(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    public_key: CK_OBJECT_HANDLE,
    template: &mut InTemplate<'_>,
    out: Option<&mut [u8]>,
    len: &mut CK_ULONG,
    key: &mut CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let mut ck = mechanism.to_ck();
    let (pointer, count) = template.as_ck();
    let buf = output(out, len);
    // SAFETY: `ck`'s parameter points into `mechanism`, borrowed for the call; `pointer`
    // holds `count` attributes valid until `template` is next used; `buf` is NULL or
    // writable for `*len` bytes; `len` and `key` are writable.
    unsafe {
        call_3_2!(
            inner,
            C_EncapsulateKey(h, &mut ck, public_key, pointer, count, buf, len, key)
        )
    }
}

/// `C_DecapsulateKey` (3.2): the shared secret key of `ciphertext` recovered with
/// `private_key`, with the attributes of `template`; its handle is written to `key`.
pub(crate) fn decapsulate_key(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    private_key: CK_OBJECT_HANDLE,
    template: &mut InTemplate<'_>,
    ciphertext: &[u8],
    key: &mut CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let mut ck = mechanism.to_ck();
    let (pointer, count) = template.as_ck();
    let (ciphertext, ciphertext_len) = input(ciphertext, "the ciphertext")?;
    // SAFETY: as for `encapsulate_key`; `ciphertext` is readable for its length.
    unsafe {
        call_3_2!(
            inner,
            C_DecapsulateKey(
                h,
                &mut ck,
                private_key,
                pointer,
                count,
                ciphertext,
                ciphertext_len,
                key
            )
        )
    }
}

/// `C_WrapKeyAuthenticated` (3.2): `key` wrapped with `wrapping_key`, binding
/// `associated_data`, into `out`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn wrap_key_authenticated(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    wrapping_key: CK_OBJECT_HANDLE,
    key: CK_OBJECT_HANDLE,
    associated_data: &[u8],
    out: Option<&mut [u8]>,
    len: &mut CK_ULONG,
) -> Result<Returned> {
    let mut ck = mechanism.to_ck();
    let (aad, aad_len) = associated(associated_data)?;
    let buf = output(out, len);
    // SAFETY: `ck`'s parameter points into `mechanism`, borrowed for the call; `aad` is
    // NULL or readable for `aad_len` bytes; `buf` is NULL or writable for `*len` bytes;
    // `len` is writable.
    unsafe {
        call_3_2!(
            inner,
            C_WrapKeyAuthenticated(h, &mut ck, wrapping_key, key, aad, aad_len, buf, len)
        )
    }
}

/// `C_UnwrapKeyAuthenticated` (3.2): `wrapped` unwrapped with `unwrapping_key`,
/// checking `associated_data`, into a new key with the attributes of `template`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn unwrap_key_authenticated(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    unwrapping_key: CK_OBJECT_HANDLE,
    wrapped: &[u8],
    template: &mut InTemplate<'_>,
    associated_data: &[u8],
    key: &mut CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let mut ck = mechanism.to_ck();
    let (wrapped, wrapped_len) = input(wrapped, "the wrapped key")?;
    let (pointer, count) = template.as_ck();
    let (aad, aad_len) = associated(associated_data)?;
    // SAFETY: as for `unwrap_key`; `aad` is NULL or readable for `aad_len` bytes.
    unsafe {
        call_3_2!(
            inner,
            C_UnwrapKeyAuthenticated(
                h,
                &mut ck,
                unwrapping_key,
                wrapped,
                wrapped_len,
                pointer,
                count,
                aad,
                aad_len,
                key
            )
        )
    }
}
