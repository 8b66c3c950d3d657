//! Cryptographic functions: random numbers, digest, encrypt, decrypt, sign, verify.
//!
//! Every wrapper takes slices and references; lengths are converted to `CK_ULONG` with a
//! check (a slice longer than `CK_ULONG` can count is [`Error::InvalidInput`], never a
//! silent truncation, RELIABILITY rule 25). Input buffers are only read by the module
//! (the C prototypes are not `const`-correct, hence the `cast_mut`). An output argument
//! is `Option<&mut [u8]>`: `None` passes NULL (the length query of the two-call idiom),
//! `Some(buffer)` passes the buffer with `*len` set to its size; after the call `*len`
//! holds what the module reported, which the output helper (`crate::output`) checks.

use crate::context::Inner;
use crate::error::{Error, Result};
use crate::mechanism::Mechanism;
use crate::raw::{call, call_3_2, Returned};

/// A length as `CK_ULONG`, or [`Error::InvalidInput`] if it does not fit (32-bit
/// `CK_ULONG` on Windows).
#[inline]
pub(crate) fn ulong(len: usize, what: &str) -> Result<ffi::CK_ULONG> {
    ffi::CK_ULONG::try_from(len).map_err(|_| Error::InvalidInput {
        what: format!("{what} of {len} bytes is too long for a CK_ULONG length"),
    })
}

/// The input pointer and length of `data` (the module only reads it).
#[inline]
pub(crate) fn input(data: &[u8], what: &str) -> Result<(ffi::CK_BYTE_PTR, ffi::CK_ULONG)> {
    Ok((data.as_ptr().cast_mut(), ulong(data.len(), what)?))
}

/// The pointer of an optional parameter slice: NULL when empty (the module never
/// dereferences a zero-length parameter).
#[inline]
pub(crate) fn param_pointer(data: &[u8]) -> ffi::CK_BYTE_PTR {
    if data.is_empty() {
        core::ptr::null_mut()
    } else {
        data.as_ptr().cast_mut()
    }
}

/// The output pointer for `out`: NULL for `None` (a length query), else the buffer with
/// `*len` set to its size (capped below `CK_UNAVAILABLE_INFORMATION`; announcing less
/// than the buffer holds is always safe).
#[inline]
pub(crate) fn output(out: Option<&mut [u8]>, len: &mut ffi::CK_ULONG) -> ffi::CK_BYTE_PTR {
    match out {
        None => {
            *len = 0;
            core::ptr::null_mut()
        }
        Some(out) => {
            *len = ffi::CK_ULONG::try_from(out.len())
                .unwrap_or(ffi::CK_ULONG::MAX)
                .min(ffi::CK_ULONG::MAX - 1);
            out.as_mut_ptr()
        }
    }
}

/// `C_GenerateRandom` filling `out`.
#[inline]
pub(crate) fn generate_random(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    out: &mut [u8],
) -> Result<Returned> {
    let len = ulong(out.len(), "the random output")?;
    let buf = out.as_mut_ptr();
    // SAFETY: `buf` is writable for `len` bytes.
    unsafe { call!(inner, C_GenerateRandom(h, buf, len)) }
}

/// `C_SeedRandom` with `seed`.
#[inline]
pub(crate) fn seed_random(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    seed: &[u8],
) -> Result<Returned> {
    let (seed, len) = input(seed, "the seed")?;
    // SAFETY: `seed` is readable for `len` bytes.
    unsafe { call!(inner, C_SeedRandom(h, seed, len)) }
}

/// Generates a wrapper for an `*Init` function taking a mechanism (and a key).
macro_rules! init {
    ($(#[$doc:meta])* $name:ident, $function:ident) => {
        $(#[$doc])*
        ///
        /// The mechanism's parameter storage must outlive the operation: the multi-step
        /// guards borrow the `Mechanism` for their lifetime (RELIABILITY rule 28).
        #[inline]
        pub(crate) fn $name(
            inner: &Inner,
            h: ffi::CK_SESSION_HANDLE,
            mechanism: &Mechanism<'_>,
            key: ffi::CK_OBJECT_HANDLE,
        ) -> Result<Returned> {
            let mut ck = mechanism.to_ck();
            // SAFETY: `ck` is a valid CK_MECHANISM whose parameter points into
            // `mechanism` (or the buffers it borrows), alive for the operation.
            unsafe { call!(inner, $function(h, &mut ck, key)) }
        }
    };
}

/// Generates a wrapper for a function with one input and a variable-length output.
macro_rules! in_out {
    ($(#[$doc:meta])* $name:ident, $function:ident, $what:literal) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name(
            inner: &Inner,
            h: ffi::CK_SESSION_HANDLE,
            data: &[u8],
            out: Option<&mut [u8]>,
            len: &mut ffi::CK_ULONG,
        ) -> Result<Returned> {
            let (data, data_len) = input(data, $what)?;
            let buf = output(out, len);
            // SAFETY: `data` is readable for `data_len` bytes; `buf` is NULL or writable
            // for `*len` bytes; `len` is writable.
            unsafe { call!(inner, $function(h, data, data_len, buf, len)) }
        }
    };
}

/// Generates a wrapper for a `*Final` function with a variable-length output.
macro_rules! out {
    ($(#[$doc:meta])* $name:ident, $function:ident) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name(
            inner: &Inner,
            h: ffi::CK_SESSION_HANDLE,
            out: Option<&mut [u8]>,
            len: &mut ffi::CK_ULONG,
        ) -> Result<Returned> {
            let buf = output(out, len);
            // SAFETY: `buf` is NULL or writable for `*len` bytes; `len` is writable.
            unsafe { call!(inner, $function(h, buf, len)) }
        }
    };
}

/// Generates a wrapper for an `*Update` function without output.
macro_rules! update {
    ($(#[$doc:meta])* $name:ident, $function:ident) => {
        $(#[$doc])*
        #[inline]
        pub(crate) fn $name(
            inner: &Inner,
            h: ffi::CK_SESSION_HANDLE,
            data: &[u8],
        ) -> Result<Returned> {
            let (data, len) = input(data, "the input")?;
            // SAFETY: `data` is readable for `len` bytes.
            unsafe { call!(inner, $function(h, data, len)) }
        }
    };
}

/// `C_DigestInit` (no key).
#[inline]
pub(crate) fn digest_init(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
) -> Result<Returned> {
    let mut ck = mechanism.to_ck();
    // SAFETY: `ck` is a valid CK_MECHANISM whose parameter points into `mechanism`
    // (or the buffers it borrows), alive for the operation.
    unsafe { call!(inner, C_DigestInit(h, &mut ck)) }
}

in_out!(
    /// `C_Digest`.
    digest, C_Digest, "the data to digest"
);
update!(
    /// `C_DigestUpdate`.
    digest_update, C_DigestUpdate
);

/// `C_DigestKey`.
#[inline]
pub(crate) fn digest_key(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    key: ffi::CK_OBJECT_HANDLE,
) -> Result<Returned> {
    // SAFETY: plain values only.
    unsafe { call!(inner, C_DigestKey(h, key)) }
}

out!(
    /// `C_DigestFinal`.
    digest_final, C_DigestFinal
);

init!(
    /// `C_EncryptInit`.
    encrypt_init, C_EncryptInit
);
in_out!(
    /// `C_Encrypt`.
    encrypt, C_Encrypt, "the plaintext"
);
in_out!(
    /// `C_EncryptUpdate`.
    encrypt_update, C_EncryptUpdate, "the plaintext"
);
out!(
    /// `C_EncryptFinal`.
    encrypt_final, C_EncryptFinal
);

init!(
    /// `C_DecryptInit`.
    decrypt_init, C_DecryptInit
);
in_out!(
    /// `C_Decrypt`.
    decrypt, C_Decrypt, "the ciphertext"
);
in_out!(
    /// `C_DecryptUpdate`.
    decrypt_update, C_DecryptUpdate, "the ciphertext"
);
out!(
    /// `C_DecryptFinal`.
    decrypt_final, C_DecryptFinal
);

init!(
    /// `C_SignInit`.
    sign_init, C_SignInit
);
in_out!(
    /// `C_Sign`.
    sign, C_Sign, "the data to sign"
);
update!(
    /// `C_SignUpdate`.
    sign_update, C_SignUpdate
);
out!(
    /// `C_SignFinal`.
    sign_final, C_SignFinal
);

init!(
    /// `C_VerifyInit`.
    verify_init, C_VerifyInit
);

/// `C_Verify`.
#[inline]
pub(crate) fn verify(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    data: &[u8],
    signature: &[u8],
) -> Result<Returned> {
    let (data, data_len) = input(data, "the data to verify")?;
    let (signature, signature_len) = input(signature, "the signature")?;
    // SAFETY: both buffers are readable for their lengths.
    unsafe { call!(inner, C_Verify(h, data, data_len, signature, signature_len)) }
}

update!(
    /// `C_VerifyUpdate`.
    verify_update, C_VerifyUpdate
);

/// `C_VerifyFinal`.
#[inline]
pub(crate) fn verify_final(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    signature: &[u8],
) -> Result<Returned> {
    let (signature, len) = input(signature, "the signature")?;
    // SAFETY: `signature` is readable for `len` bytes.
    unsafe { call!(inner, C_VerifyFinal(h, signature, len)) }
}

init!(
    /// `C_SignRecoverInit`.
    sign_recover_init, C_SignRecoverInit
);
in_out!(
    /// `C_SignRecover`.
    sign_recover, C_SignRecover, "the data to sign"
);
init!(
    /// `C_VerifyRecoverInit`.
    verify_recover_init, C_VerifyRecoverInit
);
in_out!(
    /// `C_VerifyRecover`.
    verify_recover, C_VerifyRecover, "the signature"
);

in_out!(
    /// `C_DigestEncryptUpdate`.
    digest_encrypt_update, C_DigestEncryptUpdate, "the plaintext"
);
in_out!(
    /// `C_DecryptDigestUpdate`.
    decrypt_digest_update, C_DecryptDigestUpdate, "the ciphertext"
);
in_out!(
    /// `C_SignEncryptUpdate`.
    sign_encrypt_update, C_SignEncryptUpdate, "the plaintext"
);
in_out!(
    /// `C_DecryptVerifyUpdate`.
    decrypt_verify_update, C_DecryptVerifyUpdate, "the ciphertext"
);

out!(
    /// `C_GetOperationState`.
    get_operation_state, C_GetOperationState
);

/// `C_SetOperationState` with `state` and the keys (`CK_INVALID_HANDLE` when not
/// needed).
#[inline]
pub(crate) fn set_operation_state(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    state: &[u8],
    encryption_key: ffi::CK_OBJECT_HANDLE,
    authentication_key: ffi::CK_OBJECT_HANDLE,
) -> Result<Returned> {
    let (state, len) = input(state, "the operation state")?;
    // SAFETY: `state` is readable for `len` bytes; the module only reads it.
    unsafe {
        call!(
            inner,
            C_SetOperationState(h, state, len, encryption_key, authentication_key)
        )
    }
}

/// `C_VerifySignatureInit` (3.2) with the signature to check.
///
/// The mechanism's parameter storage and the signature must outlive the operation: the
/// guard borrows both for its lifetime (RELIABILITY rule 28).
#[inline]
pub(crate) fn verify_signature_init(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    mechanism: &Mechanism<'_>,
    key: ffi::CK_OBJECT_HANDLE,
    signature: &[u8],
) -> Result<Returned> {
    let mut ck = mechanism.to_ck();
    let (signature, len) = input(signature, "the signature")?;
    // SAFETY: `ck` is a valid CK_MECHANISM whose parameter points into `mechanism`;
    // `signature` is readable for `len` bytes; both outlive the operation.
    unsafe {
        call_3_2!(
            inner,
            C_VerifySignatureInit(h, &mut ck, key, signature, len)
        )
    }
}

/// `C_VerifySignature` (3.2).
#[inline]
pub(crate) fn verify_signature(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    data: &[u8],
) -> Result<Returned> {
    let (data, len) = input(data, "the data to verify")?;
    // SAFETY: `data` is readable for `len` bytes.
    unsafe { call_3_2!(inner, C_VerifySignature(h, data, len)) }
}

/// `C_VerifySignatureUpdate` (3.2).
#[inline]
pub(crate) fn verify_signature_update(
    inner: &Inner,
    h: ffi::CK_SESSION_HANDLE,
    data: &[u8],
) -> Result<Returned> {
    let (data, len) = input(data, "the data to verify")?;
    // SAFETY: `data` is readable for `len` bytes.
    unsafe { call_3_2!(inner, C_VerifySignatureUpdate(h, data, len)) }
}

/// `C_VerifySignatureFinal` (3.2).
#[inline]
pub(crate) fn verify_signature_final(inner: &Inner, h: ffi::CK_SESSION_HANDLE) -> Result<Returned> {
    // SAFETY: plain values only.
    unsafe { call_3_2!(inner, C_VerifySignatureFinal(h)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_pointer_is_null_for_a_query_and_sized_for_a_buffer() {
        let mut len = 99;
        assert!(output(None, &mut len).is_null());
        assert_eq!(len, 0);
        let mut buf = [0u8; 17];
        let p = output(Some(&mut buf), &mut len);
        assert_eq!(p, buf.as_mut_ptr());
        assert_eq!(len, 17);
    }
}
