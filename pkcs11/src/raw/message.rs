//! Message-based functions (PKCS #11 3.0): `C_MessageEncryptInit` .. `C_MessageEncryptFinal`
//! and the decrypt, sign and verify counterparts, with the per-message parameter structs
//! (`CK_GCM_MESSAGE_PARAMS`, `CK_CCM_MESSAGE_PARAMS`,
//! `CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS`) whose pointers borrow the caller's IV /
//! nonce and tag buffers mutably: the module writes a generated IV and the tag there.
//!
//! A per-message parameter is passed as a [`RawParam`]: the pointer and length of the
//! struct (or of raw parameter bytes), valid for the call.

use core::marker::PhantomData;

use ffi::{CK_FLAGS, CK_SESSION_HANDLE, CK_ULONG};

use crate::context::Inner;
use crate::error::{Error, Result};
use crate::mechanism::Mechanism;
use crate::raw::crypto::{input, output, ulong};
use crate::raw::{call_3_0, Returned};

/// A per-message parameter as passed to the module: `pParameter`, `ulParameterLen`.
/// Built from a `&mut` borrow of the parameter's storage, for one call.
pub(crate) type RawParam = (ffi::CK_VOID_PTR, CK_ULONG);

/// A per-message parameter struct whose pointers point into buffers borrowed mutably for
/// `'a` (the module reads the IV and, for decryption, the tag, and writes a generated IV
/// and, for encryption, the tag).
///
/// The struct is the generated one (RELIABILITY rule 27); it is only built by the
/// constructors below, from `&'a mut` slices, so nothing else aliases the buffers while
/// it lives. It is neither `Copy` nor `Clone` (a copy would alias the `&mut` borrows).
pub(crate) struct MessageParam<'a, T: Copy> {
    value: T,
    _borrow: PhantomData<&'a mut [u8]>,
}

// SAFETY: the only pointers in `value` come from `&'a mut [u8]` slices (see the
// constructors), which are `Send`; the struct owns those borrows exclusively.
unsafe impl<T: Copy> Send for MessageParam<'_, T> {}
// SAFETY: shared access only reads the struct's fields (pointer values and lengths);
// writing through the pointers needs `&mut self` ([`MessageParam::as_raw`]).
unsafe impl<T: Copy> Sync for MessageParam<'_, T> {}

impl<T: Copy> MessageParam<'_, T> {
    /// The parameter for one call: a pointer to the struct and its size. Takes `&mut
    /// self` because the module may write through the struct's pointers.
    pub(crate) fn as_raw(&mut self) -> RawParam {
        (
            core::ptr::from_mut(&mut self.value).cast(),
            core::mem::size_of::<T>() as CK_ULONG,
        )
    }

    /// The struct, for checks.
    #[cfg(test)]
    pub(crate) fn get(&self) -> &T {
        &self.value
    }
}

/// A bit count of `bits` as `CK_ULONG`, checked against the `len` bytes it counts in.
fn fixed_bits(bits: u32, len: usize, what: &str) -> Result<CK_ULONG> {
    if u64::from(bits) > (len as u64).saturating_mul(8) {
        return Err(Error::InvalidInput {
            what: format!("{bits} fixed bits in a {len}-byte {what}"),
        });
    }
    Ok(CK_ULONG::from(bits))
}

/// The pointer of a mutable buffer: NULL when empty.
fn pointer(buffer: &mut [u8]) -> ffi::CK_BYTE_PTR {
    if buffer.is_empty() {
        core::ptr::null_mut()
    } else {
        buffer.as_mut_ptr()
    }
}

impl<'a> MessageParam<'a, ffi::CK_GCM_MESSAGE_PARAMS> {
    /// `CK_GCM_MESSAGE_PARAMS`: `iv` (its first `iv_fixed_bits` bits fixed, the rest made
    /// by `generator`), and `tag`, whose length gives the tag size.
    pub(crate) fn gcm(
        iv: &'a mut [u8],
        iv_fixed_bits: u32,
        generator: ffi::CK_GENERATOR_FUNCTION,
        tag: &'a mut [u8],
    ) -> Result<Self> {
        let tag_bits = tag
            .len()
            .checked_mul(8)
            .ok_or_else(|| Error::InvalidInput {
                what: "the GCM tag is too long".into(),
            })?;
        Ok(MessageParam {
            value: ffi::CK_GCM_MESSAGE_PARAMS {
                ulIvLen: ulong(iv.len(), "the GCM IV")?,
                ulIvFixedBits: fixed_bits(iv_fixed_bits, iv.len(), "GCM IV")?,
                ivGenerator: generator,
                pIv: pointer(iv),
                ulTagBits: ulong(tag_bits, "the GCM tag (in bits)")?,
                pTag: pointer(tag),
            },
            _borrow: PhantomData,
        })
    }
}

impl<'a> MessageParam<'a, ffi::CK_CCM_MESSAGE_PARAMS> {
    /// `CK_CCM_MESSAGE_PARAMS`: the message's length `data_len`, `nonce` (its first
    /// `nonce_fixed_bits` bits fixed, the rest made by `generator`), and `mac`, whose
    /// length gives the MAC size.
    pub(crate) fn ccm(
        data_len: usize,
        nonce: &'a mut [u8],
        nonce_fixed_bits: u32,
        generator: ffi::CK_GENERATOR_FUNCTION,
        mac: &'a mut [u8],
    ) -> Result<Self> {
        Ok(MessageParam {
            value: ffi::CK_CCM_MESSAGE_PARAMS {
                ulDataLen: ulong(data_len, "the CCM message")?,
                ulNonceLen: ulong(nonce.len(), "the CCM nonce")?,
                ulNonceFixedBits: fixed_bits(nonce_fixed_bits, nonce.len(), "CCM nonce")?,
                nonceGenerator: generator,
                pNonce: pointer(nonce),
                ulMACLen: ulong(mac.len(), "the CCM MAC")?,
                pMAC: pointer(mac),
            },
            _borrow: PhantomData,
        })
    }
}

impl<'a> MessageParam<'a, ffi::CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS> {
    /// `CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS`: `nonce` and the 16-byte `tag`.
    pub(crate) fn chacha20_poly1305(nonce: &'a mut [u8], tag: &'a mut [u8; 16]) -> Result<Self> {
        Ok(MessageParam {
            value: ffi::CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS {
                ulNonceLen: ulong(nonce.len(), "the ChaCha20-Poly1305 nonce")?,
                pNonce: pointer(nonce),
                pTag: tag.as_mut_ptr(),
            },
            _borrow: PhantomData,
        })
    }
}

/// Generates a wrapper for a `C_Message*Init` function.
macro_rules! message_init {
    ($(#[$doc:meta])* $name:ident, $function:ident) => {
        $(#[$doc])*
        ///
        /// The mechanism's parameter storage must outlive the operation: the guard
        /// borrows the `Mechanism` for its lifetime (RELIABILITY rule 28).
        pub(crate) fn $name(
            inner: &Inner,
            h: CK_SESSION_HANDLE,
            mechanism: &Mechanism<'_>,
            key: ffi::CK_OBJECT_HANDLE,
        ) -> Result<Returned> {
            let mut ck = mechanism.to_ck();
            // SAFETY: `ck` is a valid CK_MECHANISM whose parameter points into
            // `mechanism` (or the buffers it borrows), alive for the operation.
            unsafe { call_3_0!(inner, $function(h, &mut ck, key)) }
        }
    };
}

/// Generates a wrapper for a `C_Message*Final` function.
macro_rules! message_final {
    ($(#[$doc:meta])* $name:ident, $function:ident) => {
        $(#[$doc])*
        pub(crate) fn $name(inner: &Inner, h: CK_SESSION_HANDLE) -> Result<Returned> {
            // SAFETY: plain values only.
            unsafe { call_3_0!(inner, $function(h)) }
        }
    };
}

/// The pointer and length of optional associated data: NULL and 0 when empty.
fn associated(data: &[u8]) -> Result<(ffi::CK_BYTE_PTR, CK_ULONG)> {
    if data.is_empty() {
        Ok((core::ptr::null_mut(), 0))
    } else {
        input(data, "the associated data")
    }
}

/// Generates a wrapper for `C_EncryptMessage` / `C_DecryptMessage`.
macro_rules! one_message {
    ($(#[$doc:meta])* $name:ident, $function:ident, $what:literal) => {
        $(#[$doc])*
        pub(crate) fn $name(
            inner: &Inner,
            h: CK_SESSION_HANDLE,
            param: RawParam,
            aad: &[u8],
            data: &[u8],
            out: Option<&mut [u8]>,
            len: &mut CK_ULONG,
        ) -> Result<Returned> {
            let (param, param_len) = param;
            let (aad, aad_len) = associated(aad)?;
            let (data, data_len) = input(data, $what)?;
            let buf = output(out, len);
            // SAFETY: `param` points to `param_len` bytes of parameter storage borrowed
            // mutably for the call (its buffers too); `aad` is NULL or readable for
            // `aad_len` bytes, `data` for `data_len`; `buf` is NULL or writable for
            // `*len` bytes; `len` is writable.
            unsafe {
                call_3_0!(
                    inner,
                    $function(h, param, param_len, aad, aad_len, data, data_len, buf, len)
                )
            }
        }
    };
}

/// Generates a wrapper for `C_EncryptMessageBegin` / `C_DecryptMessageBegin`.
macro_rules! message_begin {
    ($(#[$doc:meta])* $name:ident, $function:ident) => {
        $(#[$doc])*
        pub(crate) fn $name(
            inner: &Inner,
            h: CK_SESSION_HANDLE,
            param: RawParam,
            aad: &[u8],
        ) -> Result<Returned> {
            let (param, param_len) = param;
            let (aad, aad_len) = associated(aad)?;
            // SAFETY: `param` as in `one_message`; `aad` is NULL or readable for
            // `aad_len` bytes.
            unsafe { call_3_0!(inner, $function(h, param, param_len, aad, aad_len)) }
        }
    };
}

/// Generates a wrapper for `C_EncryptMessageNext` / `C_DecryptMessageNext`.
macro_rules! message_next {
    ($(#[$doc:meta])* $name:ident, $function:ident, $what:literal) => {
        $(#[$doc])*
        #[allow(clippy::too_many_arguments)]
        pub(crate) fn $name(
            inner: &Inner,
            h: CK_SESSION_HANDLE,
            param: RawParam,
            data: &[u8],
            out: Option<&mut [u8]>,
            len: &mut CK_ULONG,
            flags: CK_FLAGS,
        ) -> Result<Returned> {
            let (param, param_len) = param;
            let (data, data_len) = input(data, $what)?;
            let buf = output(out, len);
            // SAFETY: as in `one_message`.
            unsafe {
                call_3_0!(
                    inner,
                    $function(h, param, param_len, data, data_len, buf, len, flags)
                )
            }
        }
    };
}

message_init!(
    /// `C_MessageEncryptInit`.
    message_encrypt_init, C_MessageEncryptInit
);
one_message!(
    /// `C_EncryptMessage`.
    encrypt_message, C_EncryptMessage, "the plaintext"
);
message_begin!(
    /// `C_EncryptMessageBegin`.
    encrypt_message_begin, C_EncryptMessageBegin
);
message_next!(
    /// `C_EncryptMessageNext`.
    encrypt_message_next, C_EncryptMessageNext, "the plaintext"
);
message_final!(
    /// `C_MessageEncryptFinal`.
    message_encrypt_final, C_MessageEncryptFinal
);

message_init!(
    /// `C_MessageDecryptInit`.
    message_decrypt_init, C_MessageDecryptInit
);
one_message!(
    /// `C_DecryptMessage`.
    decrypt_message, C_DecryptMessage, "the ciphertext"
);
message_begin!(
    /// `C_DecryptMessageBegin`.
    decrypt_message_begin, C_DecryptMessageBegin
);
message_next!(
    /// `C_DecryptMessageNext`.
    decrypt_message_next, C_DecryptMessageNext, "the ciphertext"
);
message_final!(
    /// `C_MessageDecryptFinal`.
    message_decrypt_final, C_MessageDecryptFinal
);

message_init!(
    /// `C_MessageSignInit`.
    message_sign_init, C_MessageSignInit
);

/// `C_SignMessage`.
pub(crate) fn sign_message(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    param: RawParam,
    data: &[u8],
    out: Option<&mut [u8]>,
    len: &mut CK_ULONG,
) -> Result<Returned> {
    let (param, param_len) = param;
    let (data, data_len) = input(data, "the data to sign")?;
    let buf = output(out, len);
    // SAFETY: as in `one_message`.
    unsafe {
        call_3_0!(
            inner,
            C_SignMessage(h, param, param_len, data, data_len, buf, len)
        )
    }
}

/// `C_SignMessageBegin`.
pub(crate) fn sign_message_begin(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    param: RawParam,
) -> Result<Returned> {
    let (param, param_len) = param;
    // SAFETY: `param` as in `one_message`.
    unsafe { call_3_0!(inner, C_SignMessageBegin(h, param, param_len)) }
}

/// `C_SignMessageNext`: with `last` `None` a part that is not the last (NULL signature
/// and length); with `Some((out, len))` the last part and the signature's output.
pub(crate) fn sign_message_next(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    param: RawParam,
    data: &[u8],
    last: Option<(Option<&mut [u8]>, &mut CK_ULONG)>,
) -> Result<Returned> {
    let (param, param_len) = param;
    let (data, data_len) = input(data, "the data to sign")?;
    let (buf, len): (ffi::CK_BYTE_PTR, *mut CK_ULONG) = match last {
        None => (core::ptr::null_mut(), core::ptr::null_mut()),
        Some((out, len)) => (output(out, len), len),
    };
    // SAFETY: as in `one_message`; `len` is NULL (not the last part) or writable.
    unsafe {
        call_3_0!(
            inner,
            C_SignMessageNext(h, param, param_len, data, data_len, buf, len)
        )
    }
}

message_final!(
    /// `C_MessageSignFinal`.
    message_sign_final, C_MessageSignFinal
);

message_init!(
    /// `C_MessageVerifyInit`.
    message_verify_init, C_MessageVerifyInit
);

/// `C_VerifyMessage`.
pub(crate) fn verify_message(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    param: RawParam,
    data: &[u8],
    signature: &[u8],
) -> Result<Returned> {
    let (param, param_len) = param;
    let (data, data_len) = input(data, "the data to verify")?;
    let (signature, signature_len) = input(signature, "the signature")?;
    // SAFETY: `param` as in `one_message`; both buffers are readable for their lengths.
    unsafe {
        call_3_0!(
            inner,
            C_VerifyMessage(
                h,
                param,
                param_len,
                data,
                data_len,
                signature,
                signature_len
            )
        )
    }
}

/// `C_VerifyMessageBegin`.
pub(crate) fn verify_message_begin(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    param: RawParam,
) -> Result<Returned> {
    let (param, param_len) = param;
    // SAFETY: `param` as in `one_message`.
    unsafe { call_3_0!(inner, C_VerifyMessageBegin(h, param, param_len)) }
}

/// `C_VerifyMessageNext`: `signature` `None` for a part that is not the last (NULL
/// signature), `Some` with the last part.
pub(crate) fn verify_message_next(
    inner: &Inner,
    h: CK_SESSION_HANDLE,
    param: RawParam,
    data: &[u8],
    signature: Option<&[u8]>,
) -> Result<Returned> {
    let (param, param_len) = param;
    let (data, data_len) = input(data, "the data to verify")?;
    let (signature, signature_len) = match signature {
        None => (core::ptr::null_mut(), 0),
        Some(signature) => input(signature, "the signature")?,
    };
    // SAFETY: `param` as in `one_message`; `data` is readable for `data_len` bytes,
    // `signature` NULL or readable for `signature_len`.
    unsafe {
        call_3_0!(
            inner,
            C_VerifyMessageNext(
                h,
                param,
                param_len,
                data,
                data_len,
                signature,
                signature_len
            )
        )
    }
}

message_final!(
    /// `C_MessageVerifyFinal`.
    message_verify_final, C_MessageVerifyFinal
);

#[cfg(test)]
mod tests {
    #[cfg(not(windows))]
    use core::mem::offset_of;
    use core::mem::size_of;

    use super::*;

    /// The C layout of the per-message structs on this (non-Windows) target.
    #[cfg(not(windows))]
    #[test]
    fn message_parameter_structs_have_the_c_layout() {
        let p = size_of::<*mut u8>();
        let u = size_of::<CK_ULONG>();
        assert_eq!(size_of::<ffi::CK_GCM_MESSAGE_PARAMS>(), 2 * p + 4 * u);
        assert_eq!(offset_of!(ffi::CK_GCM_MESSAGE_PARAMS, pIv), 0);
        assert_eq!(offset_of!(ffi::CK_GCM_MESSAGE_PARAMS, ulIvLen), p);
        assert_eq!(offset_of!(ffi::CK_GCM_MESSAGE_PARAMS, ulIvFixedBits), p + u);
        assert_eq!(
            offset_of!(ffi::CK_GCM_MESSAGE_PARAMS, ivGenerator),
            p + 2 * u
        );
        assert_eq!(offset_of!(ffi::CK_GCM_MESSAGE_PARAMS, pTag), p + 3 * u);
        assert_eq!(
            offset_of!(ffi::CK_GCM_MESSAGE_PARAMS, ulTagBits),
            2 * p + 3 * u
        );

        assert_eq!(size_of::<ffi::CK_CCM_MESSAGE_PARAMS>(), 2 * p + 5 * u);
        assert_eq!(offset_of!(ffi::CK_CCM_MESSAGE_PARAMS, ulDataLen), 0);
        assert_eq!(offset_of!(ffi::CK_CCM_MESSAGE_PARAMS, pNonce), u);
        assert_eq!(offset_of!(ffi::CK_CCM_MESSAGE_PARAMS, ulNonceLen), u + p);
        assert_eq!(
            offset_of!(ffi::CK_CCM_MESSAGE_PARAMS, ulNonceFixedBits),
            2 * u + p
        );
        assert_eq!(
            offset_of!(ffi::CK_CCM_MESSAGE_PARAMS, nonceGenerator),
            3 * u + p
        );
        assert_eq!(offset_of!(ffi::CK_CCM_MESSAGE_PARAMS, pMAC), 4 * u + p);
        assert_eq!(
            offset_of!(ffi::CK_CCM_MESSAGE_PARAMS, ulMACLen),
            4 * u + 2 * p
        );

        assert_eq!(
            size_of::<ffi::CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS>(),
            2 * p + u
        );
        assert_eq!(
            offset_of!(ffi::CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS, ulNonceLen),
            p
        );
        assert_eq!(
            offset_of!(ffi::CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS, pTag),
            p + u
        );
    }

    #[test]
    fn gcm_message_params_point_into_the_callers_buffers() {
        let mut iv = [0u8; 12];
        let mut tag = [0u8; 16];
        let (iv_ptr, tag_ptr) = (iv.as_mut_ptr(), tag.as_mut_ptr());
        let mut p = MessageParam::gcm(&mut iv, 32, ffi::CKG_GENERATE_RANDOM, &mut tag).unwrap();
        let v = *p.get();
        assert_eq!(v.pIv, iv_ptr);
        assert_eq!(v.ulIvLen, 12);
        assert_eq!(v.ulIvFixedBits, 32);
        assert_eq!(v.ivGenerator, ffi::CKG_GENERATE_RANDOM);
        assert_eq!(v.pTag, tag_ptr);
        assert_eq!(v.ulTagBits, 128);
        let (pointer, len) = p.as_raw();
        assert_eq!(len as usize, size_of::<ffi::CK_GCM_MESSAGE_PARAMS>());
        assert_eq!(pointer.cast_const(), core::ptr::from_ref(p.get()).cast());

        let mut iv = [0u8; 12];
        let mut tag = [0u8; 16];
        let error = MessageParam::gcm(&mut iv, 97, ffi::CKG_GENERATE, &mut tag)
            .err()
            .unwrap();
        assert!(error.to_string().contains("97 fixed bits"), "{error}");
    }

    #[test]
    fn ccm_and_chacha_message_params() {
        let mut nonce = [0u8; 13];
        let mut mac = [0u8; 8];
        let p = MessageParam::ccm(100, &mut nonce, 0, ffi::CKG_NO_GENERATE, &mut mac).unwrap();
        let v = *p.get();
        assert_eq!(
            (v.ulDataLen, v.ulNonceLen, v.ulMACLen, v.nonceGenerator),
            (100, 13, 8, ffi::CKG_NO_GENERATE)
        );
        let mut nonce = [0u8; 12];
        let mut tag = [0u8; 16];
        let tag_ptr = tag.as_mut_ptr();
        let p = MessageParam::chacha20_poly1305(&mut nonce, &mut tag).unwrap();
        let v = *p.get();
        assert_eq!(v.ulNonceLen, 12);
        assert_eq!(v.pTag, tag_ptr);
    }
}
