//! Message-based encryption, decryption, signatures and verification (PKCS #11 3.0).
//!
//! A message-based operation is started once with a key ([`Session::message_encrypt`]...)
//! and then processes any number of messages, each with its own parameters (for AEAD:
//! its IV or nonce, and its tag) — one call per message, or a message in parts
//! (`begin`, `next` ... with the last part flagged). The guard ([`MessageEncrypt`]...)
//! holds the session's lock until it is finished or dropped; dropping it unfinished
//! cancels the operation.
//!
//! Per-message parameters are [`MessageParams`]: typed for AES-GCM, AES-CCM and
//! ChaCha20-Poly1305, raw for anything else. They borrow the caller's IV / nonce and tag
//! buffers mutably, because the module writes into them: a generated IV (see
//! [`Generator`]) and, when encrypting, the tag. Read them once the parameters are
//! dropped:
//!
//! ```no_run
//! use pkcs11::{ffi, Generator, Mechanism, MessageParams, Pkcs11};
//!
//! # let p11 = Pkcs11::open("/usr/lib/libkryoptic_pkcs11.so")?;
//! # let session = p11.slots_with_token()?.remove(0).open_rw_session()?;
//! # let key = pkcs11::ObjectHandle(1);
//! let gcm = Mechanism::plain(ffi::CKM_AES_GCM);
//! let mut encryption = session.message_encrypt(&gcm, key)?;
//! let (mut iv, mut tag) = ([0u8; 12], [0u8; 16]);
//! let ciphertext = {
//!     // The token makes the IV (a random one, with no fixed part) and the tag.
//!     let mut params = MessageParams::gcm(&mut iv, 0, Generator::RANDOM, &mut tag)?;
//!     encryption.encrypt(&mut params, b"header", b"the message")?
//! };
//! // `iv` and `tag` now hold what the token made: send them with the ciphertext.
//! encryption.finish()?;
//! # Ok::<(), pkcs11::Error>(())
//! ```
//!
//! SoftHSM (Cryptoki 2.40) has none of these functions: starting an operation gives
//! [`Error::NotSupported`] naming the `C_Message*Init` function. Kryoptic 1.5 offers
//! message-based encryption and decryption (AES-GCM, AES-CCM, ChaCha20-Poly1305) and
//! answers `CKR_FUNCTION_NOT_SUPPORTED` to message-based signing and verification.

use core::fmt;

use crate::crypto::{check_running, start, stream_common};
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::mechanism::Mechanism;
use crate::object::ObjectHandle;
use crate::output::{self, OutputBuffer};
use crate::raw::message::{MessageParam, RawParam};
use crate::raw::{self, Returned};
use crate::secret::SecretBytes;
use crate::session::{Operation, OperationKind, Session};

/// How the token makes the variable part of a message's IV or nonce
/// (`CK_GENERATOR_FUNCTION`, `CKG_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Generator(pub ffi::CK_GENERATOR_FUNCTION);

impl Generator {
    /// `CKG_NO_GENERATE`: the caller gives the whole IV (the only choice when
    /// decrypting).
    pub const NO_GENERATE: Generator = Generator(ffi::CKG_NO_GENERATE);
    /// `CKG_GENERATE`: the token chooses how.
    pub const GENERATE: Generator = Generator(ffi::CKG_GENERATE);
    /// `CKG_GENERATE_COUNTER`: a counter after the fixed part.
    pub const COUNTER: Generator = Generator(ffi::CKG_GENERATE_COUNTER);
    /// `CKG_GENERATE_RANDOM`: random bits after the fixed part.
    pub const RANDOM: Generator = Generator(ffi::CKG_GENERATE_RANDOM);
    /// `CKG_GENERATE_COUNTER_XOR`: a counter XORed into the IV.
    pub const COUNTER_XOR: Generator = Generator(ffi::CKG_GENERATE_COUNTER_XOR);

    /// The raw value.
    pub const fn raw(self) -> ffi::CK_GENERATOR_FUNCTION {
        self.0
    }
}

impl fmt::Debug for Generator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            ffi::CKG_NO_GENERATE => "CKG_NO_GENERATE",
            ffi::CKG_GENERATE => "CKG_GENERATE",
            ffi::CKG_GENERATE_COUNTER => "CKG_GENERATE_COUNTER",
            ffi::CKG_GENERATE_RANDOM => "CKG_GENERATE_RANDOM",
            ffi::CKG_GENERATE_COUNTER_XOR => "CKG_GENERATE_COUNTER_XOR",
            other => return write!(f, "CKG(0x{other:08X})"),
        };
        f.write_str(name)
    }
}

/// The parameters of one message: typed for AES-GCM (`CK_GCM_MESSAGE_PARAMS`), AES-CCM
/// (`CK_CCM_MESSAGE_PARAMS`) and ChaCha20-Poly1305
/// (`CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS`), raw bytes for any other mechanism, or
/// none.
///
/// The IV / nonce and tag buffers are borrowed mutably for `'a`: the module writes a
/// generated IV and (when encrypting) the tag into them, and reads the tag when
/// decrypting. Not `Copy` nor `Clone`.
pub struct MessageParams<'a> {
    kind: Kind<'a>,
}

enum Kind<'a> {
    None,
    Gcm(MessageParam<'a, ffi::CK_GCM_MESSAGE_PARAMS>),
    Ccm(MessageParam<'a, ffi::CK_CCM_MESSAGE_PARAMS>),
    ChaCha20Poly1305(MessageParam<'a, ffi::CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS>),
    Raw(&'a mut [u8]),
}

impl fmt::Debug for MessageParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match &self.kind {
            Kind::None => "none",
            Kind::Gcm(_) => "CK_GCM_MESSAGE_PARAMS",
            Kind::Ccm(_) => "CK_CCM_MESSAGE_PARAMS",
            Kind::ChaCha20Poly1305(_) => "CK_SALSA20_CHACHA20_POLY1305_MSG_PARAMS",
            Kind::Raw(_) => "raw",
        };
        f.debug_struct("MessageParams")
            .field("kind", &kind)
            .finish_non_exhaustive()
    }
}

impl<'a> MessageParams<'a> {
    /// AES-GCM: `iv` (its first `iv_fixed_bits` bits fixed by the caller, the rest made
    /// by the token with `generator`; [`Generator::NO_GENERATE`] to give it whole, as
    /// decryption must), and `tag`, whose length is the tag size (16 bytes usually):
    /// written by encryption, read by decryption.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `iv_fixed_bits` exceeds the IV or a length does not fit
    /// in a `CK_ULONG`.
    pub fn gcm(
        iv: &'a mut [u8],
        iv_fixed_bits: u32,
        generator: Generator,
        tag: &'a mut [u8],
    ) -> Result<MessageParams<'a>> {
        Ok(MessageParams {
            kind: Kind::Gcm(MessageParam::gcm(iv, iv_fixed_bits, generator.0, tag)?),
        })
    }

    /// AES-CCM: the message's length `data_len` (CCM needs it up front), `nonce` (7 to 13
    /// bytes; first `nonce_fixed_bits` bits fixed, the rest made with `generator`), and
    /// `mac`, whose length is the MAC size: written by encryption, read by decryption.
    ///
    /// # Errors
    /// As [`MessageParams::gcm`].
    pub fn ccm(
        data_len: usize,
        nonce: &'a mut [u8],
        nonce_fixed_bits: u32,
        generator: Generator,
        mac: &'a mut [u8],
    ) -> Result<MessageParams<'a>> {
        Ok(MessageParams {
            kind: Kind::Ccm(MessageParam::ccm(
                data_len,
                nonce,
                nonce_fixed_bits,
                generator.0,
                mac,
            )?),
        })
    }

    /// ChaCha20-Poly1305 (and Salsa20-Poly1305): `nonce` (12 bytes for ChaCha20-Poly1305)
    /// and the 16-byte `tag`: written by encryption, read by decryption.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the nonce's length does not fit in a `CK_ULONG`.
    pub fn chacha20_poly1305(
        nonce: &'a mut [u8],
        tag: &'a mut [u8; 16],
    ) -> Result<MessageParams<'a>> {
        Ok(MessageParams {
            kind: Kind::ChaCha20Poly1305(MessageParam::chacha20_poly1305(nonce, tag)?),
        })
    }

    /// Raw parameter bytes for any other mechanism, passed as they are (laid out and
    /// aligned as the module's C compiler lays out the struct they encode); borrowed
    /// mutably, since a module may write into per-message parameters.
    pub fn raw(bytes: &'a mut [u8]) -> MessageParams<'a> {
        MessageParams {
            kind: Kind::Raw(bytes),
        }
    }

    /// No parameters (NULL, 0).
    pub const fn none() -> MessageParams<'static> {
        MessageParams { kind: Kind::None }
    }

    /// The parameter for one call.
    fn as_raw(&mut self) -> RawParam {
        match &mut self.kind {
            Kind::None => (core::ptr::null_mut(), 0),
            Kind::Gcm(p) => p.as_raw(),
            Kind::Ccm(p) => p.as_raw(),
            Kind::ChaCha20Poly1305(p) => p.as_raw(),
            Kind::Raw([]) => (core::ptr::null_mut(), 0),
            // A slice longer than CK_ULONG (Windows) is cut, and the module rejects it.
            Kind::Raw(bytes) => (
                bytes.as_mut_ptr().cast(),
                ffi::CK_ULONG::try_from(bytes.len()).unwrap_or(ffi::CK_ULONG::MAX),
            ),
        }
    }
}

/// A per-message call with a variable output, into a fresh buffer. The call is
/// recorded on the session, not the operation: an error about one message leaves the
/// operation to the guard, which ends it when finished or dropped.
fn message_output<B: OutputBuffer<Item = u8>>(
    op: &Operation<'_>,
    call: impl FnMut(Option<&mut [u8]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<B> {
    check_running(op)?;
    let session = op.session();
    let mut call = call;
    output::fetch(|out, len| session.track(call(out, len)))
}

/// A per-message call with a variable output, into the caller's buffer.
fn message_into(
    op: &Operation<'_>,
    out: &mut [u8],
    secret: bool,
    call: impl FnOnce(Option<&mut [u8]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<usize> {
    check_running(op)?;
    let session = op.session();
    let given = out.len();
    output::into_slice(out, secret, |out, len| session.track(call(out, len)))?.or_too_small(given)
}

/// A per-message call without output.
fn message_call(op: &Operation<'_>, returned: Result<Returned>) -> Result<()> {
    check_running(op)?;
    op.session().track(returned)?.ok()
}

/// A per-message verdict: `CKR_OK` is `true`, `CKR_SIGNATURE_INVALID` and
/// `CKR_SIGNATURE_LEN_RANGE` are `false`.
fn message_verdict(op: &Operation<'_>, returned: Result<Returned>) -> Result<bool> {
    check_running(op)?;
    op.session().track(returned)?.verdict()
}

/// The `C_Message*Final` of a guard: ends the operation. If the module refuses (e.g.
/// `CKR_OPERATION_ACTIVE` for a message left unfinished), the guard still cancels the
/// operation as it is dropped, so the session is never left with it active.
fn finish_op(mut op: Operation<'_>, call: impl FnOnce() -> Result<Returned>) -> Result<()> {
    check_running(&op)?;
    let returned = op.session().track(call())?;
    if returned.rv == ffi::CKR_OK {
        op.ended();
    }
    returned.ok()
}

impl Session {
    /// Starts a message-based encryption with `key` (`mechanism` without per-message
    /// parameters, e.g. `Mechanism::plain(CKM_AES_GCM)`).
    ///
    /// # Errors
    /// [`Error::NotSupported`] naming `C_MessageEncryptInit` on a module without the 3.0
    /// functions; [`Error::Module`] naming it; [`Error::OperationActive`] if this thread
    /// already has one active on this session.
    #[doc(alias = "C_MessageEncryptInit")]
    pub fn message_encrypt<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: ObjectHandle,
    ) -> Result<MessageEncrypt<'a>> {
        let op = start(self, OperationKind::MessageEncrypt, || {
            raw::message::message_encrypt_init(self.inner(), self.handle(), mechanism, key.raw())
        })?;
        Ok(MessageEncrypt { op, mechanism })
    }

    /// Starts a message-based decryption with `key`.
    ///
    /// # Errors
    /// As [`Session::message_encrypt`], naming `C_MessageDecryptInit`.
    #[doc(alias = "C_MessageDecryptInit")]
    pub fn message_decrypt<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: ObjectHandle,
    ) -> Result<MessageDecrypt<'a>> {
        let op = start(self, OperationKind::MessageDecrypt, || {
            raw::message::message_decrypt_init(self.inner(), self.handle(), mechanism, key.raw())
        })?;
        Ok(MessageDecrypt { op, mechanism })
    }

    /// Starts a message-based signature with `key`.
    ///
    /// # Errors
    /// As [`Session::message_encrypt`], naming `C_MessageSignInit` (Kryoptic 1.5
    /// answers `CKR_FUNCTION_NOT_SUPPORTED`).
    #[doc(alias = "C_MessageSignInit")]
    pub fn message_sign<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: ObjectHandle,
    ) -> Result<MessageSign<'a>> {
        let op = start(self, OperationKind::MessageSign, || {
            raw::message::message_sign_init(self.inner(), self.handle(), mechanism, key.raw())
        })?;
        Ok(MessageSign { op, mechanism })
    }

    /// Starts a message-based verification with `key`.
    ///
    /// # Errors
    /// As [`Session::message_encrypt`], naming `C_MessageVerifyInit`.
    #[doc(alias = "C_MessageVerifyInit")]
    pub fn message_verify<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: ObjectHandle,
    ) -> Result<MessageVerify<'a>> {
        let op = start(self, OperationKind::MessageVerify, || {
            raw::message::message_verify_init(self.inner(), self.handle(), mechanism, key.raw())
        })?;
        Ok(MessageVerify { op, mechanism })
    }
}

/// A message-based encryption ([`Session::message_encrypt`]): any number of messages,
/// each with its own [`MessageParams`]. Holds the session's lock until finished or
/// dropped; dropping it unfinished cancels the operation.
#[must_use = "dropping the guard cancels the operation"]
pub struct MessageEncrypt<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
}

stream_common!(MessageEncrypt);

impl MessageEncrypt<'_> {
    /// Encrypts one message with its `params` (the module writes a generated IV and the
    /// tag into their buffers) and associated data `aad`; returns the ciphertext.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptMessage`.
    #[doc(alias = "C_EncryptMessage")]
    pub fn encrypt(
        &mut self,
        params: &mut MessageParams<'_>,
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<Vec<u8>> {
        let s = self.op.session();
        message_output(&self.op, |out, len| {
            raw::message::encrypt_message(
                s.inner(),
                s.handle(),
                params.as_raw(),
                aad,
                plaintext,
                out,
                len,
            )
        })
    }

    /// Like [`MessageEncrypt::encrypt`], into `out`; returns the ciphertext's length
    /// (allocates nothing).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptMessage`; [`Error::InvalidInput`] naming the
    /// length needed if `out` is too small (nothing was encrypted).
    #[doc(alias = "C_EncryptMessage")]
    pub fn encrypt_into(
        &mut self,
        params: &mut MessageParams<'_>,
        aad: &[u8],
        plaintext: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let s = self.op.session();
        message_into(&self.op, out, false, |out, len| {
            raw::message::encrypt_message(
                s.inner(),
                s.handle(),
                params.as_raw(),
                aad,
                plaintext,
                out,
                len,
            )
        })
    }

    /// Begins a message in parts with its `params` and associated data `aad`; feed it
    /// with [`MessageEncrypt::next`], the last part flagged.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptMessageBegin`.
    #[doc(alias = "C_EncryptMessageBegin")]
    pub fn begin(&mut self, params: &mut MessageParams<'_>, aad: &[u8]) -> Result<()> {
        let s = self.op.session();
        message_call(
            &self.op,
            raw::message::encrypt_message_begin(s.inner(), s.handle(), params.as_raw(), aad),
        )
    }

    /// Encrypts the next part of the message begun with [`MessageEncrypt::begin`]
    /// (`last`: it ends the message, `CKF_END_OF_MESSAGE`; the tag is written then);
    /// `params` are the message's. Returns the ciphertext the module releases now.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptMessageNext`.
    #[doc(alias = "C_EncryptMessageNext")]
    pub fn next(
        &mut self,
        params: &mut MessageParams<'_>,
        part: &[u8],
        last: bool,
    ) -> Result<Vec<u8>> {
        let s = self.op.session();
        message_output(&self.op, |out, len| {
            raw::message::encrypt_message_next(
                s.inner(),
                s.handle(),
                params.as_raw(),
                part,
                out,
                len,
                end_flag(last),
            )
        })
    }

    /// Like [`MessageEncrypt::next`], into `out`; returns the length written.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptMessageNext`; [`Error::InvalidInput`] naming
    /// the length needed if `out` is too small (nothing was consumed).
    #[doc(alias = "C_EncryptMessageNext")]
    pub fn next_into(
        &mut self,
        params: &mut MessageParams<'_>,
        part: &[u8],
        last: bool,
        out: &mut [u8],
    ) -> Result<usize> {
        let s = self.op.session();
        message_into(&self.op, out, false, |out, len| {
            raw::message::encrypt_message_next(
                s.inner(),
                s.handle(),
                params.as_raw(),
                part,
                out,
                len,
                end_flag(last),
            )
        })
    }

    /// Ends the operation.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_MessageEncryptFinal`.
    #[doc(alias = "C_MessageEncryptFinal")]
    pub fn finish(self) -> Result<()> {
        let s = self.op.session();
        finish_op(self.op, || {
            raw::message::message_encrypt_final(s.inner(), s.handle())
        })
    }
}

/// `CKF_END_OF_MESSAGE` for the last part.
fn end_flag(last: bool) -> ffi::CK_FLAGS {
    if last {
        ffi::CKF_END_OF_MESSAGE
    } else {
        0
    }
}

/// A message-based decryption ([`Session::message_decrypt`]). Plaintext comes back as
/// [`SecretBytes`]. Holds the session's lock until finished or dropped; dropping it
/// unfinished cancels the operation.
#[must_use = "dropping the guard cancels the operation"]
pub struct MessageDecrypt<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
}

stream_common!(MessageDecrypt);

impl MessageDecrypt<'_> {
    /// Decrypts one message with its `params` (IV and the tag to check) and `aad`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptMessage` (`CKR_AEAD_DECRYPT_FAILED` or
    /// `CKR_ENCRYPTED_DATA_INVALID` for a tag that does not match).
    #[doc(alias = "C_DecryptMessage")]
    pub fn decrypt(
        &mut self,
        params: &mut MessageParams<'_>,
        aad: &[u8],
        ciphertext: &[u8],
    ) -> Result<SecretBytes> {
        let s = self.op.session();
        message_output(&self.op, |out, len| {
            raw::message::decrypt_message(
                s.inner(),
                s.handle(),
                params.as_raw(),
                aad,
                ciphertext,
                out,
                len,
            )
        })
    }

    /// Like [`MessageDecrypt::decrypt`], into `out`; returns the plaintext's length
    /// (allocates nothing; `out` is wiped on any failure).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptMessage`; [`Error::InvalidInput`] naming the
    /// length needed if `out` is too small.
    #[doc(alias = "C_DecryptMessage")]
    pub fn decrypt_into(
        &mut self,
        params: &mut MessageParams<'_>,
        aad: &[u8],
        ciphertext: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let s = self.op.session();
        message_into(&self.op, out, true, |out, len| {
            raw::message::decrypt_message(
                s.inner(),
                s.handle(),
                params.as_raw(),
                aad,
                ciphertext,
                out,
                len,
            )
        })
    }

    /// Begins a message in parts.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptMessageBegin`.
    #[doc(alias = "C_DecryptMessageBegin")]
    pub fn begin(&mut self, params: &mut MessageParams<'_>, aad: &[u8]) -> Result<()> {
        let s = self.op.session();
        message_call(
            &self.op,
            raw::message::decrypt_message_begin(s.inner(), s.handle(), params.as_raw(), aad),
        )
    }

    /// Decrypts the next part (`last`: it ends the message and the tag is checked).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptMessageNext`.
    #[doc(alias = "C_DecryptMessageNext")]
    pub fn next(
        &mut self,
        params: &mut MessageParams<'_>,
        part: &[u8],
        last: bool,
    ) -> Result<SecretBytes> {
        let s = self.op.session();
        message_output(&self.op, |out, len| {
            raw::message::decrypt_message_next(
                s.inner(),
                s.handle(),
                params.as_raw(),
                part,
                out,
                len,
                end_flag(last),
            )
        })
    }

    /// Like [`MessageDecrypt::next`], into `out` (wiped on any failure).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptMessageNext`; [`Error::InvalidInput`] naming
    /// the length needed if `out` is too small.
    #[doc(alias = "C_DecryptMessageNext")]
    pub fn next_into(
        &mut self,
        params: &mut MessageParams<'_>,
        part: &[u8],
        last: bool,
        out: &mut [u8],
    ) -> Result<usize> {
        let s = self.op.session();
        message_into(&self.op, out, true, |out, len| {
            raw::message::decrypt_message_next(
                s.inner(),
                s.handle(),
                params.as_raw(),
                part,
                out,
                len,
                end_flag(last),
            )
        })
    }

    /// Ends the operation.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_MessageDecryptFinal`.
    #[doc(alias = "C_MessageDecryptFinal")]
    pub fn finish(self) -> Result<()> {
        let s = self.op.session();
        finish_op(self.op, || {
            raw::message::message_decrypt_final(s.inner(), s.handle())
        })
    }
}

/// A message-based signature ([`Session::message_sign`]). Holds the session's lock
/// until finished or dropped; dropping it unfinished cancels the operation.
#[must_use = "dropping the guard cancels the operation"]
pub struct MessageSign<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
}

stream_common!(MessageSign);

impl MessageSign<'_> {
    /// Signs one message with its `params`; returns the signature.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignMessage`.
    #[doc(alias = "C_SignMessage")]
    pub fn sign(&mut self, params: &mut MessageParams<'_>, data: &[u8]) -> Result<Vec<u8>> {
        let s = self.op.session();
        message_output(&self.op, |out, len| {
            raw::message::sign_message(s.inner(), s.handle(), params.as_raw(), data, out, len)
        })
    }

    /// Like [`MessageSign::sign`], into `out`; returns the signature's length.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignMessage`; [`Error::InvalidInput`] naming the
    /// length needed if `out` is too small.
    #[doc(alias = "C_SignMessage")]
    pub fn sign_into(
        &mut self,
        params: &mut MessageParams<'_>,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let s = self.op.session();
        message_into(&self.op, out, false, |out, len| {
            raw::message::sign_message(s.inner(), s.handle(), params.as_raw(), data, out, len)
        })
    }

    /// Begins a message in parts.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignMessageBegin`.
    #[doc(alias = "C_SignMessageBegin")]
    pub fn begin(&mut self, params: &mut MessageParams<'_>) -> Result<()> {
        let s = self.op.session();
        message_call(
            &self.op,
            raw::message::sign_message_begin(s.inner(), s.handle(), params.as_raw()),
        )
    }

    /// Feeds a part that is not the last.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignMessageNext`.
    #[doc(alias = "C_SignMessageNext")]
    pub fn update(&mut self, params: &mut MessageParams<'_>, data: &[u8]) -> Result<()> {
        let s = self.op.session();
        message_call(
            &self.op,
            raw::message::sign_message_next(s.inner(), s.handle(), params.as_raw(), data, None),
        )
    }

    /// Feeds the last part and returns the message's signature.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignMessageNext`.
    #[doc(alias = "C_SignMessageNext")]
    pub fn finish_message(
        &mut self,
        params: &mut MessageParams<'_>,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let s = self.op.session();
        message_output(&self.op, |out, len| {
            raw::message::sign_message_next(
                s.inner(),
                s.handle(),
                params.as_raw(),
                data,
                Some((out, len)),
            )
        })
    }

    /// Ends the operation.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_MessageSignFinal`.
    #[doc(alias = "C_MessageSignFinal")]
    pub fn finish(self) -> Result<()> {
        let s = self.op.session();
        finish_op(self.op, || {
            raw::message::message_sign_final(s.inner(), s.handle())
        })
    }
}

/// A message-based verification ([`Session::message_verify`]). Holds the session's lock
/// until finished or dropped; dropping it unfinished cancels the operation.
#[must_use = "dropping the guard cancels the operation"]
pub struct MessageVerify<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
}

stream_common!(MessageVerify);

impl MessageVerify<'_> {
    /// Verifies one message: `Ok(true)` if `signature` is valid, `Ok(false)` if the
    /// module answers `CKR_SIGNATURE_INVALID` or `CKR_SIGNATURE_LEN_RANGE`.
    ///
    /// # Errors
    /// Any other answer: [`Error::Module`] naming `C_VerifyMessage`.
    #[doc(alias = "C_VerifyMessage")]
    pub fn verify(
        &mut self,
        params: &mut MessageParams<'_>,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool> {
        let s = self.op.session();
        message_verdict(
            &self.op,
            raw::message::verify_message(s.inner(), s.handle(), params.as_raw(), data, signature),
        )
    }

    /// Begins a message in parts.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_VerifyMessageBegin`.
    #[doc(alias = "C_VerifyMessageBegin")]
    pub fn begin(&mut self, params: &mut MessageParams<'_>) -> Result<()> {
        let s = self.op.session();
        message_call(
            &self.op,
            raw::message::verify_message_begin(s.inner(), s.handle(), params.as_raw()),
        )
    }

    /// Feeds a part that is not the last.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_VerifyMessageNext`.
    #[doc(alias = "C_VerifyMessageNext")]
    pub fn update(&mut self, params: &mut MessageParams<'_>, data: &[u8]) -> Result<()> {
        let s = self.op.session();
        message_call(
            &self.op,
            raw::message::verify_message_next(s.inner(), s.handle(), params.as_raw(), data, None),
        )
    }

    /// Feeds the last part and checks `signature`: `Ok(true)` if valid, `Ok(false)` for
    /// `CKR_SIGNATURE_INVALID` or `CKR_SIGNATURE_LEN_RANGE`.
    ///
    /// # Errors
    /// Any other answer: [`Error::Module`] naming `C_VerifyMessageNext`.
    #[doc(alias = "C_VerifyMessageNext")]
    pub fn finish_message(
        &mut self,
        params: &mut MessageParams<'_>,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool> {
        let s = self.op.session();
        message_verdict(
            &self.op,
            raw::message::verify_message_next(
                s.inner(),
                s.handle(),
                params.as_raw(),
                data,
                Some(signature),
            ),
        )
    }

    /// Ends the operation.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_MessageVerifyFinal`.
    #[doc(alias = "C_MessageVerifyFinal")]
    pub fn finish(self) -> Result<()> {
        let s = self.op.session();
        finish_op(self.op, || {
            raw::message::message_verify_final(s.inner(), s.handle())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn params_are_send_and_sync_and_show_no_pointers() {
        assert_send_sync::<MessageParams<'static>>();
        let (mut iv, mut tag) = ([0u8; 12], [0u8; 16]);
        let p = MessageParams::gcm(&mut iv, 0, Generator::RANDOM, &mut tag).unwrap();
        assert_eq!(
            format!("{p:?}"),
            "MessageParams { kind: \"CK_GCM_MESSAGE_PARAMS\", .. }"
        );
        assert_eq!(format!("{:?}", Generator::COUNTER), "CKG_GENERATE_COUNTER");
        assert_eq!(format!("{:?}", Generator(77)), "CKG(0x0000004D)");
    }

    #[test]
    fn none_and_empty_raw_params_are_null() {
        let (p, len) = MessageParams::none().as_raw();
        assert!(p.is_null());
        assert_eq!(len, 0);
        let mut bytes = [0u8; 0];
        let (p, len) = MessageParams::raw(&mut bytes).as_raw();
        assert!(p.is_null());
        assert_eq!(len, 0);
        let mut bytes = [1u8; 5];
        let expected = bytes.as_mut_ptr();
        let (p, len) = MessageParams::raw(&mut bytes).as_raw();
        assert_eq!(p.cast::<u8>(), expected);
        assert_eq!(len, 5);
    }
}
