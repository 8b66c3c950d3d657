//! Cryptographic operations on a [`Session`]: random numbers, digests, encryption,
//! decryption, signatures and their verification.
//!
//! Each operation comes in three forms:
//!
//! - single-part: [`Session::encrypt`] returns the whole output in a fresh buffer;
//! - `_into`: [`Session::encrypt_into`] writes into the caller's buffer and allocates
//!   nothing, returning the length written; a buffer that is too small is an
//!   [`Error::InvalidInput`] naming the length needed (and the module's operation is ended
//!   cleanly, so the session stays usable);
//! - multipart: [`Session::encrypt_stream`] returns a guard ([`EncryptStream`]) with
//!   `update` and `finish`. The guard holds the session's lock (other threads using the
//!   session wait), borrows the [`Mechanism`] so its parameters stay alive for the whole
//!   operation, and cancels the operation if dropped unfinished.
//!
//! Variable-length outputs go through one helper (the two-call idiom, a bounded retry on
//! `CKR_BUFFER_TOO_SMALL`, a 64 MiB allocation cap, truncation to the final length): a
//! module that lies about a length gives [`Error::ModuleContract`], never a panic.
//! Decrypted data come back as [`SecretBytes`], wiped when dropped, also on error and
//! retry paths. A bad signature is `Ok(false)` from `verify`, never an error.
//!
//! On the thread that has a stream guard alive, a single-part call or a new stream of
//! the same kind on that session is refused with [`Error::OperationActive`] (no module
//! call, no deadlock).

use core::fmt;

use zeroize::Zeroizing;

use crate::error::{Error, Result};
use crate::mechanism::Mechanism;
use crate::object::ObjectHandle;
use crate::output::{self, OutputBuffer, Written};
use crate::raw::{self, Returned};
use crate::secret::SecretBytes;
use crate::session::{Operation, OperationKind, Session};

/// Starts an operation of `kind`: takes the lock, records the kind, calls `init`.
#[inline]
pub(crate) fn start<'s>(
    session: &'s Session,
    kind: OperationKind,
    init: impl FnOnce() -> Result<Returned>,
) -> Result<Operation<'s>> {
    let mut op = session.begin(kind)?;
    match init() {
        // The call never reached the module: there is nothing to cancel.
        Err(error) => {
            op.ended();
            Err(error)
        }
        // A failed `*Init` starts nothing (`track` records that).
        Ok(returned) => {
            op.track(Ok(returned))?.ok()?;
            Ok(op)
        }
    }
}

/// Fails without calling the module if the operation has already ended.
#[inline]
pub(crate) fn check_running(op: &Operation<'_>) -> Result<()> {
    if op.is_running() {
        Ok(())
    } else {
        Err(Error::InvalidInput {
            what: format!(
                "{} has already ended; start a new one",
                op.kind().describe()
            ),
        })
    }
}

/// The final call of a single-part operation, into a fresh buffer.
fn single_output<B: OutputBuffer<Item = u8>>(
    op: &mut Operation<'_>,
    call: impl FnMut(Option<&mut [u8]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<B> {
    single_output_guess(op, 0, call)
}

/// Like [`single_output`], starting with a buffer of `guess` bytes instead of a length
/// query (one round trip when the output fits; see [`output::fetch_guess`]).
fn single_output_guess<B: OutputBuffer<Item = u8>>(
    op: &mut Operation<'_>,
    guess: usize,
    mut call: impl FnMut(Option<&mut [u8]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<B> {
    let out = output::fetch_guess(guess, |out, len| op.track(call(out, len)))?;
    op.ended();
    Ok(out)
}

/// The output room a block cipher, AEAD tag or padding may add to an input (a guess:
/// a module asking for more gets it on the retry).
const CIPHER_SLACK: usize = 32;

/// A first guess at a signature's length when the mechanism does not bound it: enough
/// for RSA up to 4096 bits (longer ones take the retry).
const SIGNATURE_GUESS: usize = 512;

/// The first buffer offered for a signature made with `mechanism`: the family's largest
/// signature where the mechanism bounds it (a smaller allocation to zero than
/// [`SIGNATURE_GUESS`]), else [`SIGNATURE_GUESS`]. A longer signature takes the retry.
fn signature_guess(mechanism: &Mechanism<'_>) -> usize {
    match mechanism.mechanism_type().raw() {
        // ECDSA: r and s of P-521, 66 bytes each (the longest standard curve).
        ffi::CKM_ECDSA..=ffi::CKM_ECDSA_SHA3_512 => 132,
        // EdDSA: Ed448's 114 bytes.
        ffi::CKM_EDDSA => 114,
        // HMACs: at most the longest hash, 64 bytes.
        ffi::CKM_SHA_1_HMAC
        | ffi::CKM_SHA_1_HMAC_GENERAL
        | ffi::CKM_SHA224_HMAC
        | ffi::CKM_SHA224_HMAC_GENERAL
        | ffi::CKM_SHA256_HMAC
        | ffi::CKM_SHA256_HMAC_GENERAL
        | ffi::CKM_SHA384_HMAC
        | ffi::CKM_SHA384_HMAC_GENERAL
        | ffi::CKM_SHA512_HMAC
        | ffi::CKM_SHA512_HMAC_GENERAL
        | ffi::CKM_SHA512_224_HMAC
        | ffi::CKM_SHA512_224_HMAC_GENERAL
        | ffi::CKM_SHA512_256_HMAC
        | ffi::CKM_SHA512_256_HMAC_GENERAL
        | ffi::CKM_SHA3_224_HMAC
        | ffi::CKM_SHA3_224_HMAC_GENERAL
        | ffi::CKM_SHA3_256_HMAC
        | ffi::CKM_SHA3_256_HMAC_GENERAL
        | ffi::CKM_SHA3_384_HMAC
        | ffi::CKM_SHA3_384_HMAC_GENERAL
        | ffi::CKM_SHA3_512_HMAC
        | ffi::CKM_SHA3_512_HMAC_GENERAL => 64,
        _ => SIGNATURE_GUESS,
    }
}

/// The final call of a single-part operation, into the caller's buffer.
///
/// When the buffer is too small, the operation is completed into a scratch buffer of
/// the size the module asked for (wiped afterwards): ending a single-part operation that
/// way works on every module, including those whose `*Final` refuses single-part-only
/// mechanisms. The caller gets the "too small" error with the length needed.
#[inline]
fn single_into(
    op: &mut Operation<'_>,
    out: &mut [u8],
    secret: bool,
    mut call: impl FnMut(Option<&mut [u8]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<usize> {
    let given = out.len();
    match output::into_slice(out, secret, |out, len| op.track(call(out, len)))? {
        Written::Done(len) => {
            op.ended();
            Ok(len)
        }
        Written::TooSmall { function, needed } => {
            let mut scratch = Zeroizing::new(vec![0u8; needed]);
            let mut len = 0;
            if let Ok(Returned {
                rv: ffi::CKR_OK, ..
            }) = op.track(call(Some(&mut scratch), &mut len))
            {
                op.ended();
            }
            // Otherwise the guard cancels the operation when it is dropped.
            Err(output::too_small(function, needed, given))
        }
    }
}

/// A stream's `*Update` or `*Final` into the caller's buffer: on "too small" the
/// operation stays active, so the caller can call again with a larger buffer.
#[inline]
fn stream_into(
    op: &mut Operation<'_>,
    out: &mut [u8],
    secret: bool,
    last: bool,
    mut call: impl FnMut(Option<&mut [u8]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<usize> {
    check_running(op)?;
    let given = out.len();
    let len = output::into_slice(out, secret, |out, len| op.track(call(out, len)))?
        .or_too_small(given)?;
    if last {
        op.ended();
    }
    Ok(len)
}

/// A verification's verdict: `CKR_OK` is `true`, `CKR_SIGNATURE_INVALID` and
/// `CKR_SIGNATURE_LEN_RANGE` are `false`; anything else is an error. Every answer ends the
/// operation.
fn verdict(op: &mut Operation<'_>, returned: Result<Returned>) -> Result<bool> {
    let good = op.track(returned)?.verdict()?;
    if good {
        op.ended();
    }
    Ok(good)
}

impl Session {
    /// Random bytes from the token's generator: `len` of them.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GenerateRandom` (e.g. `CKR_RANDOM_NO_RNG`).
    #[doc(alias = "C_GenerateRandom")]
    pub fn generate_random(&self, len: usize) -> Result<Vec<u8>> {
        let mut out = vec![0; len];
        self.generate_random_into(&mut out)?;
        Ok(out)
    }

    /// Fills `out` with random bytes from the token's generator (allocates nothing).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GenerateRandom`.
    #[doc(alias = "C_GenerateRandom")]
    pub fn generate_random_into(&self, out: &mut [u8]) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::crypto::generate_random(
            self.inner(),
            self.handle(),
            out,
        ))
    }

    /// Mixes `seed` into the token's random number generator.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SeedRandom` (`CKR_RANDOM_SEED_NOT_SUPPORTED` for
    /// tokens that do not take seeds).
    #[doc(alias = "C_SeedRandom")]
    pub fn seed_random(&self, seed: &[u8]) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::crypto::seed_random(self.inner(), self.handle(), seed))
    }

    /// The digest of `data` with `mechanism` (e.g. [`Mechanism::Sha256`]).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DigestInit` or `C_Digest`;
    /// [`Error::OperationActive`] if this thread has a [`DigestStream`] on this session.
    #[doc(alias = "C_DigestInit")]
    #[doc(alias = "C_Digest")]
    pub fn digest(&self, mechanism: &Mechanism<'_>, data: &[u8]) -> Result<Vec<u8>> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::Digest, || {
            raw::crypto::digest_init(inner, h, mechanism)
        })?;
        let guess = mechanism.mechanism_type().digest_len().unwrap_or(64);
        single_output_guess(&mut op, guess, |out, len| {
            raw::crypto::digest(inner, h, data, out, len)
        })
    }

    /// The digest of `data` into `out`; returns the length written (allocates nothing).
    ///
    /// # Errors
    /// As [`Session::digest`]; [`Error::InvalidInput`] naming the length needed if `out`
    /// is too small.
    #[doc(alias = "C_DigestInit")]
    #[doc(alias = "C_Digest")]
    pub fn digest_into(
        &self,
        mechanism: &Mechanism<'_>,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::Digest, || {
            raw::crypto::digest_init(inner, h, mechanism)
        })?;
        single_into(&mut op, out, false, |out, len| {
            raw::crypto::digest(inner, h, data, out, len)
        })
    }

    /// Starts a multipart digest: feed it with [`DigestStream::update`] and
    /// [`DigestStream::update_key`], end it with [`DigestStream::finish`].
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DigestInit`; [`Error::OperationActive`] if this thread
    /// already has a digest active on this session.
    #[doc(alias = "C_DigestInit")]
    pub fn digest_stream<'a>(&'a self, mechanism: &'a Mechanism<'a>) -> Result<DigestStream<'a>> {
        let op = start(self, OperationKind::Digest, || {
            raw::crypto::digest_init(self.inner(), self.handle(), mechanism)
        })?;
        Ok(DigestStream { op, mechanism })
    }

    /// Encrypts `data` with `key` in one call.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptInit` or `C_Encrypt`;
    /// [`Error::OperationActive`] if this thread has an [`EncryptStream`] on this session.
    #[doc(alias = "C_EncryptInit")]
    #[doc(alias = "C_Encrypt")]
    pub fn encrypt(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::Encrypt, || {
            raw::crypto::encrypt_init(inner, h, mechanism, key.raw())
        })?;
        single_output_guess(&mut op, data.len() + CIPHER_SLACK, |out, len| {
            raw::crypto::encrypt(inner, h, data, out, len)
        })
    }

    /// Encrypts `data` into `out`; returns the length written (allocates nothing).
    ///
    /// # Errors
    /// As [`Session::encrypt`]; [`Error::InvalidInput`] naming the length needed if `out`
    /// is too small.
    #[doc(alias = "C_EncryptInit")]
    #[doc(alias = "C_Encrypt")]
    pub fn encrypt_into(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::Encrypt, || {
            raw::crypto::encrypt_init(inner, h, mechanism, key.raw())
        })?;
        single_into(&mut op, out, false, |out, len| {
            raw::crypto::encrypt(inner, h, data, out, len)
        })
    }

    /// Starts a multipart encryption with `key`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptInit`; [`Error::OperationActive`] if this thread
    /// already has an encryption active on this session.
    #[doc(alias = "C_EncryptInit")]
    pub fn encrypt_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: ObjectHandle,
    ) -> Result<EncryptStream<'a>> {
        let op = start(self, OperationKind::Encrypt, || {
            raw::crypto::encrypt_init(self.inner(), self.handle(), mechanism, key.raw())
        })?;
        Ok(EncryptStream { op, mechanism })
    }

    /// Decrypts `data` with `key` in one call; the plaintext is wiped when dropped.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptInit` or `C_Decrypt` (e.g.
    /// `CKR_ENCRYPTED_DATA_INVALID`, or `CKR_AEAD_DECRYPT_FAILED` for a GCM tag that does
    /// not match); [`Error::OperationActive`] if this thread has a [`DecryptStream`] on
    /// this session.
    #[doc(alias = "C_DecryptInit")]
    #[doc(alias = "C_Decrypt")]
    pub fn decrypt(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
    ) -> Result<SecretBytes> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::Decrypt, || {
            raw::crypto::decrypt_init(inner, h, mechanism, key.raw())
        })?;
        // Plaintext is never longer than its ciphertext (padding and tags only shrink).
        single_output_guess(&mut op, data.len(), |out, len| {
            raw::crypto::decrypt(inner, h, data, out, len)
        })
    }

    /// Decrypts `data` into `out`; returns the length written (allocates nothing). On
    /// any failure `out` is wiped, so no partial plaintext is left in it.
    ///
    /// # Errors
    /// As [`Session::decrypt`]; [`Error::InvalidInput`] naming the length needed if `out`
    /// is too small.
    #[doc(alias = "C_DecryptInit")]
    #[doc(alias = "C_Decrypt")]
    pub fn decrypt_into(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::Decrypt, || {
            raw::crypto::decrypt_init(inner, h, mechanism, key.raw())
        })?;
        single_into(&mut op, out, true, |out, len| {
            raw::crypto::decrypt(inner, h, data, out, len)
        })
    }

    /// Starts a multipart decryption with `key`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptInit`; [`Error::OperationActive`] if this thread
    /// already has a decryption active on this session.
    #[doc(alias = "C_DecryptInit")]
    pub fn decrypt_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: ObjectHandle,
    ) -> Result<DecryptStream<'a>> {
        let op = start(self, OperationKind::Decrypt, || {
            raw::crypto::decrypt_init(self.inner(), self.handle(), mechanism, key.raw())
        })?;
        Ok(DecryptStream { op, mechanism })
    }

    /// Signs `data` with `key` (a private key, or a secret key for MACs) in one call.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignInit` or `C_Sign`; [`Error::OperationActive`] if
    /// this thread has a [`SignStream`] on this session.
    #[doc(alias = "C_SignInit")]
    #[doc(alias = "C_Sign")]
    pub fn sign(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::Sign, || {
            raw::crypto::sign_init(inner, h, mechanism, key.raw())
        })?;
        single_output_guess(&mut op, signature_guess(mechanism), |out, len| {
            raw::crypto::sign(inner, h, data, out, len)
        })
    }

    /// Signs `data` into `out`; returns the signature's length (allocates nothing).
    ///
    /// # Errors
    /// As [`Session::sign`]; [`Error::InvalidInput`] naming the length needed if `out` is
    /// too small.
    #[doc(alias = "C_SignInit")]
    #[doc(alias = "C_Sign")]
    pub fn sign_into(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::Sign, || {
            raw::crypto::sign_init(inner, h, mechanism, key.raw())
        })?;
        single_into(&mut op, out, false, |out, len| {
            raw::crypto::sign(inner, h, data, out, len)
        })
    }

    /// Starts a multipart signature with `key`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignInit`; [`Error::OperationActive`] if this thread
    /// already has a signature active on this session.
    #[doc(alias = "C_SignInit")]
    pub fn sign_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: ObjectHandle,
    ) -> Result<SignStream<'a>> {
        let op = start(self, OperationKind::Sign, || {
            raw::crypto::sign_init(self.inner(), self.handle(), mechanism, key.raw())
        })?;
        Ok(SignStream { op, mechanism })
    }

    /// Verifies `signature` over `data` with `key`: `Ok(true)` if it is valid, `Ok(false)`
    /// if the module answers `CKR_SIGNATURE_INVALID` or `CKR_SIGNATURE_LEN_RANGE`.
    ///
    /// # Errors
    /// Any other answer: [`Error::Module`] naming `C_VerifyInit` or `C_Verify`;
    /// [`Error::OperationActive`] if this thread has a [`VerifyStream`] on this session.
    #[doc(alias = "C_VerifyInit")]
    #[doc(alias = "C_Verify")]
    pub fn verify(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::Verify, || {
            raw::crypto::verify_init(inner, h, mechanism, key.raw())
        })?;
        verdict(&mut op, raw::crypto::verify(inner, h, data, signature))
    }

    /// Starts a multipart verification with `key`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_VerifyInit`; [`Error::OperationActive`] if this thread
    /// already has a verification active on this session.
    #[doc(alias = "C_VerifyInit")]
    pub fn verify_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: ObjectHandle,
    ) -> Result<VerifyStream<'a>> {
        let op = start(self, OperationKind::Verify, || {
            raw::crypto::verify_init(self.inner(), self.handle(), mechanism, key.raw())
        })?;
        Ok(VerifyStream { op, mechanism })
    }
}

/// Writes the parts every stream and message guard shares: `Debug`, `is_running`,
/// `cancel`.
macro_rules! stream_common {
    ($name:ident) => {
        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("mechanism", &self.mechanism.mechanism_type())
                    .field("running", &self.op.is_running())
                    .finish_non_exhaustive()
            }
        }

        impl $name<'_> {
            /// Whether the module still has the operation active (false once it is
            /// finished or a call failed).
            pub fn is_running(&self) -> bool {
                self.op.is_running()
            }

            /// Cancels the operation now and reports the module's answer (see
            /// [`Operation::cancel`]); dropping the stream cancels it silently.
            ///
            /// # Errors
            /// [`Error::NotSupported`] naming `C_SessionCancel` on a module without it
            /// (the operation is then ended the 2.x way, and the session stays usable);
            /// [`Error::Module`] naming the function that refused.
            #[doc(alias = "C_SessionCancel")]
            pub fn cancel(self) -> Result<()> {
                self.op.cancel()
            }
        }
    };
}
pub(crate) use stream_common;

/// Writes `save_state` for a stream guard: `C_GetOperationState`.
macro_rules! stream_state {
    ($name:ident) => {
        impl $name<'_> {
            /// Saves the state of the operation (`C_GetOperationState`), to resume it
            /// later on this or another session of the same token with the matching
            /// `Session::resume_*` function. The state is secret (it may hold keys or
            /// intermediate values): it comes back as [`SecretBytes`]. Saving does not
            /// end the operation, also when the module refuses.
            ///
            /// # Errors
            /// [`Error::Module`] naming `C_GetOperationState` (`CKR_STATE_UNSAVEABLE`;
            /// `CKR_FUNCTION_NOT_SUPPORTED` on modules that save no state, such as
            /// SoftHSM).
            #[doc(alias = "C_GetOperationState")]
            pub fn save_state(&self) -> Result<SecretBytes> {
                check_running(&self.op)?;
                save_state(self.op.session())
            }
        }
    };
}

/// `C_GetOperationState` of `session`: recorded on the session (not the operation,
/// which a refusal does not end).
fn save_state(session: &Session) -> Result<SecretBytes> {
    output::fetch(|out, len| {
        session.track(raw::crypto::get_operation_state(
            session.inner(),
            session.handle(),
            out,
            len,
        ))
    })
}

/// Starts an operation of `kind` from a saved state (`C_SetOperationState`).
fn resume<'s>(
    session: &'s Session,
    kind: OperationKind,
    state: &[u8],
    encryption_key: Option<ObjectHandle>,
    authentication_key: Option<ObjectHandle>,
) -> Result<Operation<'s>> {
    let handle = |key: Option<ObjectHandle>| key.map_or(ffi::CK_INVALID_HANDLE, ObjectHandle::raw);
    start(session, kind, || {
        raw::crypto::set_operation_state(
            session.inner(),
            session.handle(),
            state,
            handle(encryption_key),
            handle(authentication_key),
        )
    })
}

/// A multipart digest ([`Session::digest_stream`]). Holds the session's lock until
/// dropped; dropping it unfinished cancels the digest.
#[must_use = "dropping the stream cancels the digest"]
pub struct DigestStream<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
}

stream_common!(DigestStream);
stream_state!(DigestStream);

impl DigestStream<'_> {
    /// Feeds `data` to the digest.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DigestUpdate` (which ends the digest).
    #[doc(alias = "C_DigestUpdate")]
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        check_running(&self.op)?;
        let session = self.op.session();
        self.op
            .track(raw::crypto::digest_update(
                session.inner(),
                session.handle(),
                data,
            ))?
            .ok()
    }

    /// Feeds the value of the secret key `key` to the digest (the value never leaves
    /// the token).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DigestKey` (e.g. `CKR_KEY_INDIGESTIBLE`; it ends the
    /// digest).
    #[doc(alias = "C_DigestKey")]
    pub fn update_key(&mut self, key: ObjectHandle) -> Result<()> {
        check_running(&self.op)?;
        let session = self.op.session();
        self.op
            .track(raw::crypto::digest_key(
                session.inner(),
                session.handle(),
                key.raw(),
            ))?
            .ok()
    }

    /// Ends the digest and returns it.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DigestFinal`.
    #[doc(alias = "C_DigestFinal")]
    pub fn finish(mut self) -> Result<Vec<u8>> {
        check_running(&self.op)?;
        let session = self.op.session();
        single_output_guess(&mut self.op, 64, |out, len| {
            raw::crypto::digest_final(session.inner(), session.handle(), out, len)
        })
    }

    /// Ends the digest into `out`; returns the length written (allocates nothing). If
    /// `out` is too small the digest stays active: call again with a larger buffer. Drop
    /// the stream afterwards to release the session.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DigestFinal`; [`Error::InvalidInput`] naming the
    /// length needed if `out` is too small.
    #[doc(alias = "C_DigestFinal")]
    pub fn finish_into(&mut self, out: &mut [u8]) -> Result<usize> {
        let session = self.op.session();
        stream_into(&mut self.op, out, false, true, |out, len| {
            raw::crypto::digest_final(session.inner(), session.handle(), out, len)
        })
    }
}

/// A multipart encryption ([`Session::encrypt_stream`]). Holds the session's lock until
/// dropped; dropping it unfinished cancels the encryption.
#[must_use = "dropping the stream cancels the encryption"]
pub struct EncryptStream<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
}

stream_common!(EncryptStream);
stream_state!(EncryptStream);

impl EncryptStream<'_> {
    /// Encrypts the next part, returning the ciphertext the module releases now (which
    /// may be shorter or longer than `data`, or empty).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptUpdate` (which ends the encryption).
    #[doc(alias = "C_EncryptUpdate")]
    pub fn update(&mut self, data: &[u8]) -> Result<Vec<u8>> {
        check_running(&self.op)?;
        let session = self.op.session();
        let op = &mut self.op;
        output::fetch_guess(data.len() + CIPHER_SLACK, |out, len| {
            op.track(raw::crypto::encrypt_update(
                session.inner(),
                session.handle(),
                data,
                out,
                len,
            ))
        })
    }

    /// Encrypts the next part into `out`; returns the length written (allocates
    /// nothing). If `out` is too small, nothing was consumed: call again with the same
    /// data and a larger buffer.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptUpdate`; [`Error::InvalidInput`] naming the
    /// length needed if `out` is too small.
    #[doc(alias = "C_EncryptUpdate")]
    pub fn update_into(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize> {
        let session = self.op.session();
        stream_into(&mut self.op, out, false, false, |out, len| {
            raw::crypto::encrypt_update(session.inner(), session.handle(), data, out, len)
        })
    }

    /// Ends the encryption, returning the last part of the ciphertext (padding, GCM
    /// tag...).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptFinal`.
    #[doc(alias = "C_EncryptFinal")]
    pub fn finish(mut self) -> Result<Vec<u8>> {
        check_running(&self.op)?;
        let session = self.op.session();
        single_output_guess(&mut self.op, 2 * CIPHER_SLACK, |out, len| {
            raw::crypto::encrypt_final(session.inner(), session.handle(), out, len)
        })
    }

    /// Ends the encryption into `out`; returns the length written (allocates nothing).
    /// If `out` is too small the encryption stays active: call again with a larger
    /// buffer. Drop the stream afterwards to release the session.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptFinal`; [`Error::InvalidInput`] naming the
    /// length needed if `out` is too small.
    #[doc(alias = "C_EncryptFinal")]
    pub fn finish_into(&mut self, out: &mut [u8]) -> Result<usize> {
        let session = self.op.session();
        stream_into(&mut self.op, out, false, true, |out, len| {
            raw::crypto::encrypt_final(session.inner(), session.handle(), out, len)
        })
    }
}

/// A multipart decryption ([`Session::decrypt_stream`]). Holds the session's lock until
/// dropped; dropping it unfinished cancels the decryption. Every plaintext part comes
/// back as [`SecretBytes`].
#[must_use = "dropping the stream cancels the decryption"]
pub struct DecryptStream<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
}

stream_common!(DecryptStream);
stream_state!(DecryptStream);

impl DecryptStream<'_> {
    /// Decrypts the next part, returning the plaintext the module releases now (AEAD
    /// mechanisms may hold everything back until [`DecryptStream::finish`]).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptUpdate` (which ends the decryption).
    #[doc(alias = "C_DecryptUpdate")]
    pub fn update(&mut self, data: &[u8]) -> Result<SecretBytes> {
        check_running(&self.op)?;
        let session = self.op.session();
        let op = &mut self.op;
        output::fetch_guess(data.len() + CIPHER_SLACK, |out, len| {
            op.track(raw::crypto::decrypt_update(
                session.inner(),
                session.handle(),
                data,
                out,
                len,
            ))
        })
    }

    /// Decrypts the next part into `out`; returns the length written (allocates
    /// nothing). If `out` is too small, nothing was consumed: call again with the same
    /// data and a larger buffer. On any failure `out` is wiped.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptUpdate`; [`Error::InvalidInput`] naming the
    /// length needed if `out` is too small.
    #[doc(alias = "C_DecryptUpdate")]
    pub fn update_into(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize> {
        let session = self.op.session();
        stream_into(&mut self.op, out, true, false, |out, len| {
            raw::crypto::decrypt_update(session.inner(), session.handle(), data, out, len)
        })
    }

    /// Ends the decryption, returning the last part of the plaintext.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptFinal` (e.g. `CKR_ENCRYPTED_DATA_INVALID` for
    /// bad padding, `CKR_AEAD_DECRYPT_FAILED` for a GCM tag that does not match).
    #[doc(alias = "C_DecryptFinal")]
    pub fn finish(mut self) -> Result<SecretBytes> {
        check_running(&self.op)?;
        let session = self.op.session();
        single_output_guess(&mut self.op, 2 * CIPHER_SLACK, |out, len| {
            raw::crypto::decrypt_final(session.inner(), session.handle(), out, len)
        })
    }

    /// Ends the decryption into `out`; returns the length written (allocates nothing).
    /// If `out` is too small the decryption stays active: call again with a larger
    /// buffer. On any failure `out` is wiped. Drop the stream afterwards to release the
    /// session.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptFinal`; [`Error::InvalidInput`] naming the
    /// length needed if `out` is too small.
    #[doc(alias = "C_DecryptFinal")]
    pub fn finish_into(&mut self, out: &mut [u8]) -> Result<usize> {
        let session = self.op.session();
        stream_into(&mut self.op, out, true, true, |out, len| {
            raw::crypto::decrypt_final(session.inner(), session.handle(), out, len)
        })
    }
}

/// A multipart signature ([`Session::sign_stream`]). Holds the session's lock until
/// dropped; dropping it unfinished cancels the signature.
#[must_use = "dropping the stream cancels the signature"]
pub struct SignStream<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
}

stream_common!(SignStream);
stream_state!(SignStream);

impl SignStream<'_> {
    /// Feeds `data` to the signature.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignUpdate` (which ends the signature; mechanisms that
    /// only sign in one part, like `CKM_ECDSA`, refuse it).
    #[doc(alias = "C_SignUpdate")]
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        check_running(&self.op)?;
        let session = self.op.session();
        self.op
            .track(raw::crypto::sign_update(
                session.inner(),
                session.handle(),
                data,
            ))?
            .ok()
    }

    /// Ends the signature and returns it.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignFinal`.
    #[doc(alias = "C_SignFinal")]
    pub fn finish(mut self) -> Result<Vec<u8>> {
        check_running(&self.op)?;
        let session = self.op.session();
        let guess = signature_guess(self.mechanism);
        single_output_guess(&mut self.op, guess, |out, len| {
            raw::crypto::sign_final(session.inner(), session.handle(), out, len)
        })
    }

    /// Ends the signature into `out`; returns its length (allocates nothing). If `out` is
    /// too small the signature stays active: call again with a larger buffer. Drop the
    /// stream afterwards to release the session.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignFinal`; [`Error::InvalidInput`] naming the length
    /// needed if `out` is too small.
    #[doc(alias = "C_SignFinal")]
    pub fn finish_into(&mut self, out: &mut [u8]) -> Result<usize> {
        let session = self.op.session();
        stream_into(&mut self.op, out, false, true, |out, len| {
            raw::crypto::sign_final(session.inner(), session.handle(), out, len)
        })
    }
}

/// A multipart verification ([`Session::verify_stream`]). Holds the session's lock until
/// dropped; dropping it unfinished cancels the verification.
#[must_use = "dropping the stream cancels the verification"]
pub struct VerifyStream<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
}

stream_common!(VerifyStream);
stream_state!(VerifyStream);

impl VerifyStream<'_> {
    /// Feeds `data` to the verification.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_VerifyUpdate` (which ends the verification).
    #[doc(alias = "C_VerifyUpdate")]
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        check_running(&self.op)?;
        let session = self.op.session();
        self.op
            .track(raw::crypto::verify_update(
                session.inner(),
                session.handle(),
                data,
            ))?
            .ok()
    }

    /// Ends the verification: `Ok(true)` if `signature` is valid, `Ok(false)` if the
    /// module answers `CKR_SIGNATURE_INVALID` or `CKR_SIGNATURE_LEN_RANGE`.
    ///
    /// # Errors
    /// Any other answer: [`Error::Module`] naming `C_VerifyFinal`.
    #[doc(alias = "C_VerifyFinal")]
    pub fn finish(mut self, signature: &[u8]) -> Result<bool> {
        check_running(&self.op)?;
        let session = self.op.session();
        verdict(
            &mut self.op,
            raw::crypto::verify_final(session.inner(), session.handle(), signature),
        )
    }
}

/// A recovery's verdict: the recovered data, or `None` if the module answers
/// `CKR_SIGNATURE_INVALID` or `CKR_SIGNATURE_LEN_RANGE` (which end the operation).
fn recovered<T>(result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(Error::Module { rv, .. })
            if matches!(
                rv.raw(),
                ffi::CKR_SIGNATURE_INVALID | ffi::CKR_SIGNATURE_LEN_RANGE
            ) =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

impl Session {
    /// Signs `data` with `key` with a mechanism from which the data can be recovered
    /// (`CKM_RSA_X_509`, `CKM_RSA_PKCS`...), in one call.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SignRecoverInit` or `C_SignRecover` (many modules,
    /// Kryoptic among them, answer `CKR_FUNCTION_NOT_SUPPORTED`);
    /// [`Error::OperationActive`] if this thread has a sign-recover active on this
    /// session.
    #[doc(alias = "C_SignRecoverInit")]
    #[doc(alias = "C_SignRecover")]
    pub fn sign_recover(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
    ) -> Result<Vec<u8>> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::SignRecover, || {
            raw::crypto::sign_recover_init(inner, h, mechanism, key.raw())
        })?;
        single_output(&mut op, |out, len| {
            raw::crypto::sign_recover(inner, h, data, out, len)
        })
    }

    /// Like [`Session::sign_recover`], into `out`; returns the signature's length
    /// (allocates nothing).
    ///
    /// # Errors
    /// As [`Session::sign_recover`]; [`Error::InvalidInput`] naming the length needed if
    /// `out` is too small.
    #[doc(alias = "C_SignRecoverInit")]
    #[doc(alias = "C_SignRecover")]
    pub fn sign_recover_into(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::SignRecover, || {
            raw::crypto::sign_recover_init(inner, h, mechanism, key.raw())
        })?;
        single_into(&mut op, out, false, |out, len| {
            raw::crypto::sign_recover(inner, h, data, out, len)
        })
    }

    /// Verifies `signature` with `key` and recovers the signed data: `Ok(Some(data))` if
    /// the signature is valid, `Ok(None)` if the module answers `CKR_SIGNATURE_INVALID`
    /// or `CKR_SIGNATURE_LEN_RANGE`.
    ///
    /// # Errors
    /// Any other answer: [`Error::Module`] naming `C_VerifyRecoverInit` or
    /// `C_VerifyRecover`; [`Error::OperationActive`] if this thread has a verify-recover
    /// active on this session.
    #[doc(alias = "C_VerifyRecoverInit")]
    #[doc(alias = "C_VerifyRecover")]
    pub fn verify_recover(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        signature: &[u8],
    ) -> Result<Option<Vec<u8>>> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::VerifyRecover, || {
            raw::crypto::verify_recover_init(inner, h, mechanism, key.raw())
        })?;
        recovered(single_output(&mut op, |out, len| {
            raw::crypto::verify_recover(inner, h, signature, out, len)
        }))
    }

    /// Like [`Session::verify_recover`], recovering into `out`: `Ok(Some(len))` with the
    /// length written (allocates nothing).
    ///
    /// # Errors
    /// As [`Session::verify_recover`]; [`Error::InvalidInput`] naming the length needed
    /// if `out` is too small.
    #[doc(alias = "C_VerifyRecoverInit")]
    #[doc(alias = "C_VerifyRecover")]
    pub fn verify_recover_into(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        signature: &[u8],
        out: &mut [u8],
    ) -> Result<Option<usize>> {
        let (inner, h) = (self.inner(), self.handle());
        let mut op = start(self, OperationKind::VerifyRecover, || {
            raw::crypto::verify_recover_init(inner, h, mechanism, key.raw())
        })?;
        recovered(single_into(&mut op, out, false, |out, len| {
            raw::crypto::verify_recover(inner, h, signature, out, len)
        }))
    }

    /// Verifies `signature` over `data` with `key` the PKCS #11 3.2 way, the signature
    /// given before the data (`C_VerifySignatureInit`, `C_VerifySignature`): `Ok(true)`
    /// if it is valid, `Ok(false)` if the module answers `CKR_SIGNATURE_INVALID` or
    /// `CKR_SIGNATURE_LEN_RANGE` (at init or at the check).
    ///
    /// # Errors
    /// [`Error::NotSupported`] naming `C_VerifySignatureInit` on a module without the
    /// 3.2 functions; any other answer: [`Error::Module`] naming the function;
    /// [`Error::OperationActive`] if this thread has a [`VerifySignatureStream`] on this
    /// session.
    #[doc(alias = "C_VerifySignatureInit")]
    #[doc(alias = "C_VerifySignature")]
    pub fn verify_signature(
        &self,
        mechanism: &Mechanism<'_>,
        key: ObjectHandle,
        data: &[u8],
        signature: &[u8],
    ) -> Result<bool> {
        let (inner, h) = (self.inner(), self.handle());
        let started = start(self, OperationKind::VerifySignature, || {
            raw::crypto::verify_signature_init(inner, h, mechanism, key.raw(), signature)
        });
        let mut op = match recovered(started)? {
            Some(op) => op,
            None => return Ok(false),
        };
        verdict(&mut op, raw::crypto::verify_signature(inner, h, data))
    }

    /// Starts a multipart PKCS #11 3.2 verification of `signature` with `key`: feed the
    /// data with [`VerifySignatureStream::update`], get the verdict from
    /// [`VerifySignatureStream::finish`]. The stream borrows the mechanism and the
    /// signature: the module may read both until the verification ends.
    ///
    /// # Errors
    /// [`Error::NotSupported`] or [`Error::Module`] naming `C_VerifySignatureInit`;
    /// [`Error::OperationActive`] if this thread already has one active on this session.
    #[doc(alias = "C_VerifySignatureInit")]
    pub fn verify_signature_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: ObjectHandle,
        signature: &'a [u8],
    ) -> Result<VerifySignatureStream<'a>> {
        let op = start(self, OperationKind::VerifySignature, || {
            raw::crypto::verify_signature_init(
                self.inner(),
                self.handle(),
                mechanism,
                key.raw(),
                signature,
            )
        })?;
        Ok(VerifySignatureStream {
            op,
            mechanism,
            _signature: signature,
        })
    }

    /// Resumes a digest from a state saved with [`DigestStream::save_state`]
    /// (`C_SetOperationState`). `mechanism` is the digest's mechanism (the state
    /// carries it; the stream keeps it for display).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SetOperationState` (`CKR_SAVED_STATE_INVALID`...).
    #[doc(alias = "C_SetOperationState")]
    pub fn resume_digest_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        state: &[u8],
    ) -> Result<DigestStream<'a>> {
        let op = resume(self, OperationKind::Digest, state, None, None)?;
        Ok(DigestStream { op, mechanism })
    }

    /// Resumes an encryption from a state saved with [`EncryptStream::save_state`];
    /// `key` is the encryption key when the module asks for it
    /// (`CKR_KEY_NEEDED`), else `None` (a key it does not need is `CKR_KEY_NOT_NEEDED`).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SetOperationState`.
    #[doc(alias = "C_SetOperationState")]
    pub fn resume_encrypt_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: Option<ObjectHandle>,
        state: &[u8],
    ) -> Result<EncryptStream<'a>> {
        let op = resume(self, OperationKind::Encrypt, state, key, None)?;
        Ok(EncryptStream { op, mechanism })
    }

    /// Resumes a decryption from a state saved with [`DecryptStream::save_state`]; `key`
    /// as for [`Session::resume_encrypt_stream`].
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SetOperationState`.
    #[doc(alias = "C_SetOperationState")]
    pub fn resume_decrypt_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: Option<ObjectHandle>,
        state: &[u8],
    ) -> Result<DecryptStream<'a>> {
        let op = resume(self, OperationKind::Decrypt, state, key, None)?;
        Ok(DecryptStream { op, mechanism })
    }

    /// Resumes a signature from a state saved with [`SignStream::save_state`]; `key` is
    /// the signing (authentication) key when the module asks for it, else `None`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SetOperationState`.
    #[doc(alias = "C_SetOperationState")]
    pub fn resume_sign_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: Option<ObjectHandle>,
        state: &[u8],
    ) -> Result<SignStream<'a>> {
        let op = resume(self, OperationKind::Sign, state, None, key)?;
        Ok(SignStream { op, mechanism })
    }

    /// Resumes a verification from a state saved with [`VerifyStream::save_state`];
    /// `key` as for [`Session::resume_sign_stream`].
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SetOperationState`.
    #[doc(alias = "C_SetOperationState")]
    pub fn resume_verify_stream<'a>(
        &'a self,
        mechanism: &'a Mechanism<'a>,
        key: Option<ObjectHandle>,
        state: &[u8],
    ) -> Result<VerifyStream<'a>> {
        let op = resume(self, OperationKind::Verify, state, None, key)?;
        Ok(VerifyStream { op, mechanism })
    }

    /// Starts a digest and an encryption together, fed by one call per part
    /// (`C_DigestEncryptUpdate`): the plaintext is digested and encrypted.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DigestInit` or `C_EncryptInit`;
    /// [`Error::OperationActive`] if this thread already has a digest or an encryption
    /// active on this session. If the second init fails, the first operation is
    /// cancelled.
    #[doc(alias = "C_DigestEncryptUpdate")]
    pub fn digest_encrypt_stream<'a>(
        &'a self,
        digest: &'a Mechanism<'a>,
        encryption: &'a Mechanism<'a>,
        key: ObjectHandle,
    ) -> Result<DigestEncryptStream<'a>> {
        let digest = self.digest_stream(digest)?;
        let encrypt = self.encrypt_stream(encryption, key)?;
        Ok(DigestEncryptStream { digest, encrypt })
    }

    /// Starts a decryption and a digest together, fed by one call per part
    /// (`C_DecryptDigestUpdate`): the ciphertext is decrypted and the plaintext
    /// digested.
    ///
    /// # Errors
    /// As [`Session::digest_encrypt_stream`], naming `C_DecryptInit` or `C_DigestInit`.
    #[doc(alias = "C_DecryptDigestUpdate")]
    pub fn decrypt_digest_stream<'a>(
        &'a self,
        decryption: &'a Mechanism<'a>,
        key: ObjectHandle,
        digest: &'a Mechanism<'a>,
    ) -> Result<DecryptDigestStream<'a>> {
        let decrypt = self.decrypt_stream(decryption, key)?;
        let digest = self.digest_stream(digest)?;
        Ok(DecryptDigestStream { decrypt, digest })
    }

    /// Starts a signature and an encryption together, fed by one call per part
    /// (`C_SignEncryptUpdate`): the plaintext is signed and encrypted.
    ///
    /// # Errors
    /// As [`Session::digest_encrypt_stream`], naming `C_SignInit` or `C_EncryptInit`.
    #[doc(alias = "C_SignEncryptUpdate")]
    pub fn sign_encrypt_stream<'a>(
        &'a self,
        signature: &'a Mechanism<'a>,
        signing_key: ObjectHandle,
        encryption: &'a Mechanism<'a>,
        encryption_key: ObjectHandle,
    ) -> Result<SignEncryptStream<'a>> {
        let sign = self.sign_stream(signature, signing_key)?;
        let encrypt = self.encrypt_stream(encryption, encryption_key)?;
        Ok(SignEncryptStream { sign, encrypt })
    }

    /// Starts a decryption and a verification together, fed by one call per part
    /// (`C_DecryptVerifyUpdate`): the ciphertext is decrypted and the plaintext
    /// verified.
    ///
    /// # Errors
    /// As [`Session::digest_encrypt_stream`], naming `C_DecryptInit` or `C_VerifyInit`.
    #[doc(alias = "C_DecryptVerifyUpdate")]
    pub fn decrypt_verify_stream<'a>(
        &'a self,
        decryption: &'a Mechanism<'a>,
        decryption_key: ObjectHandle,
        verification: &'a Mechanism<'a>,
        verification_key: ObjectHandle,
    ) -> Result<DecryptVerifyStream<'a>> {
        let decrypt = self.decrypt_stream(decryption, decryption_key)?;
        let verify = self.verify_stream(verification, verification_key)?;
        Ok(DecryptVerifyStream { decrypt, verify })
    }
}

/// A multipart PKCS #11 3.2 verification with the signature given at the start
/// ([`Session::verify_signature_stream`]). Holds the session's lock until dropped;
/// dropping it unfinished cancels the verification.
#[must_use = "dropping the stream cancels the verification"]
pub struct VerifySignatureStream<'a> {
    op: Operation<'a>,
    mechanism: &'a Mechanism<'a>,
    /// The module may read the signature until the verification ends.
    _signature: &'a [u8],
}

stream_common!(VerifySignatureStream);

impl VerifySignatureStream<'_> {
    /// Feeds `data` to the verification.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_VerifySignatureUpdate` (which ends the verification).
    #[doc(alias = "C_VerifySignatureUpdate")]
    pub fn update(&mut self, data: &[u8]) -> Result<()> {
        check_running(&self.op)?;
        let session = self.op.session();
        self.op
            .track(raw::crypto::verify_signature_update(
                session.inner(),
                session.handle(),
                data,
            ))?
            .ok()
    }

    /// Ends the verification: `Ok(true)` if the signature is valid, `Ok(false)` if the
    /// module answers `CKR_SIGNATURE_INVALID` or `CKR_SIGNATURE_LEN_RANGE`.
    ///
    /// # Errors
    /// Any other answer: [`Error::Module`] naming `C_VerifySignatureFinal`.
    #[doc(alias = "C_VerifySignatureFinal")]
    pub fn finish(mut self) -> Result<bool> {
        check_running(&self.op)?;
        let session = self.op.session();
        verdict(
            &mut self.op,
            raw::crypto::verify_signature_final(session.inner(), session.handle()),
        )
    }
}

/// One dual-function update into a fresh buffer: the call is recorded on both
/// operations (an error but `CKR_BUFFER_TOO_SMALL` ends both).
fn dual_update<B: OutputBuffer<Item = u8>>(
    first: &mut Operation<'_>,
    second: &mut Operation<'_>,
    mut call: impl FnMut(Option<&mut [u8]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<B> {
    check_running(first)?;
    check_running(second)?;
    output::fetch(|out, len| second.track(first.track(call(out, len))))
}

/// One dual-function update into the caller's buffer: on "too small" both operations
/// stay active and nothing was consumed.
fn dual_update_into(
    first: &mut Operation<'_>,
    second: &mut Operation<'_>,
    out: &mut [u8],
    secret: bool,
    call: impl FnOnce(Option<&mut [u8]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<usize> {
    check_running(first)?;
    check_running(second)?;
    let given = out.len();
    output::into_slice(out, secret, |out, len| {
        second.track(first.track(call(out, len)))
    })?
    .or_too_small(given)
}

/// Writes a dual-function stream: its `Debug`, `update`, `update_into`, `into_parts`
/// and `cancel`.
macro_rules! dual_stream {
    (
        $(#[$doc:meta])*
        $name:ident { $first:ident: $first_ty:ident, $second:ident: $second_ty:ident },
        $function:literal, $raw:ident, $out:ty, $secret:literal, $what:literal
    ) => {
        $(#[$doc])*
        ///
        /// Both operations are tracked by their own guards, which hold the session's
        /// lock: dropping the stream unfinished cancels both. Finish with `finish`, or
        /// split it with `into_parts` to finish each operation on its own.
        #[must_use = "dropping the stream cancels both operations"]
        pub struct $name<'a> {
            $first: $first_ty<'a>,
            $second: $second_ty<'a>,
        }

        impl fmt::Debug for $name<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field(stringify!($first), &self.$first)
                    .field(stringify!($second), &self.$second)
                    .finish()
            }
        }

        impl<'a> $name<'a> {
            #[doc = concat!("Processes the next part (", $what, "), returning the output the")]
            /// module releases now.
            ///
            /// # Errors
            #[doc = concat!("[`Error::Module`] naming `", $function, "` (which ends both")]
            /// operations; `CKR_FUNCTION_NOT_SUPPORTED` on modules without dual-function
            /// updates, such as SoftHSM, after which dropping the stream cancels both).
            #[doc(alias = $function)]
            pub fn update(&mut self, data: &[u8]) -> Result<$out> {
                let session = self.$first.op.session();
                dual_update(&mut self.$first.op, &mut self.$second.op, |out, len| {
                    raw::crypto::$raw(session.inner(), session.handle(), data, out, len)
                })
            }

            /// Like `update`, into `out`; returns the length written (allocates
            /// nothing). If `out` is too small nothing was consumed: call again with a
            /// larger buffer.
            ///
            /// # Errors
            #[doc = concat!("[`Error::Module`] naming `", $function, "`;")]
            /// [`Error::InvalidInput`] naming the length needed if `out` is too small.
            #[doc(alias = $function)]
            pub fn update_into(&mut self, data: &[u8], out: &mut [u8]) -> Result<usize> {
                let session = self.$first.op.session();
                dual_update_into(&mut self.$first.op, &mut self.$second.op, out, $secret, |out, len| {
                    raw::crypto::$raw(session.inner(), session.handle(), data, out, len)
                })
            }

            /// The two operations' streams, to continue or finish each on its own.
            pub fn into_parts(self) -> ($first_ty<'a>, $second_ty<'a>) {
                (self.$first, self.$second)
            }

            /// Whether both operations are still active.
            pub fn is_running(&self) -> bool {
                self.$first.is_running() && self.$second.is_running()
            }

            /// Cancels both operations now (see [`Operation::cancel`]).
            ///
            /// # Errors
            /// The first refusal (both operations are ended in any case).
            #[doc(alias = "C_SessionCancel")]
            pub fn cancel(self) -> Result<()> {
                let first = self.$first.cancel();
                let second = self.$second.cancel();
                first.and(second)
            }
        }
    };
}

dual_stream!(
    /// A digest and an encryption fed together ([`Session::digest_encrypt_stream`]).
    DigestEncryptStream { digest: DigestStream, encrypt: EncryptStream },
    "C_DigestEncryptUpdate", digest_encrypt_update, Vec<u8>, false, "digested and encrypted"
);

impl DigestEncryptStream<'_> {
    /// Ends both operations: returns the last part of the ciphertext
    /// (`C_EncryptFinal`) and the digest (`C_DigestFinal`).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptFinal` or `C_DigestFinal`.
    #[doc(alias = "C_EncryptFinal")]
    #[doc(alias = "C_DigestFinal")]
    pub fn finish(self) -> Result<(Vec<u8>, Vec<u8>)> {
        let last = self.encrypt.finish()?;
        Ok((last, self.digest.finish()?))
    }
}

dual_stream!(
    /// A decryption and a digest fed together ([`Session::decrypt_digest_stream`]); the
    /// plaintext comes back as [`SecretBytes`].
    DecryptDigestStream { decrypt: DecryptStream, digest: DigestStream },
    "C_DecryptDigestUpdate", decrypt_digest_update, SecretBytes, true, "decrypted and digested"
);

impl DecryptDigestStream<'_> {
    /// Ends both operations: returns the last part of the plaintext (`C_DecryptFinal`)
    /// and the digest of the whole plaintext (`C_DigestFinal`).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptFinal` or `C_DigestFinal`.
    #[doc(alias = "C_DecryptFinal")]
    #[doc(alias = "C_DigestFinal")]
    pub fn finish(self) -> Result<(SecretBytes, Vec<u8>)> {
        let last = self.decrypt.finish()?;
        Ok((last, self.digest.finish()?))
    }
}

dual_stream!(
    /// A signature and an encryption fed together ([`Session::sign_encrypt_stream`]).
    SignEncryptStream { sign: SignStream, encrypt: EncryptStream },
    "C_SignEncryptUpdate", sign_encrypt_update, Vec<u8>, false, "signed and encrypted"
);

impl SignEncryptStream<'_> {
    /// Ends both operations: returns the last part of the ciphertext
    /// (`C_EncryptFinal`) and the signature (`C_SignFinal`).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_EncryptFinal` or `C_SignFinal`.
    #[doc(alias = "C_EncryptFinal")]
    #[doc(alias = "C_SignFinal")]
    pub fn finish(self) -> Result<(Vec<u8>, Vec<u8>)> {
        let last = self.encrypt.finish()?;
        Ok((last, self.sign.finish()?))
    }
}

dual_stream!(
    /// A decryption and a verification fed together
    /// ([`Session::decrypt_verify_stream`]); the plaintext comes back as
    /// [`SecretBytes`].
    DecryptVerifyStream { decrypt: DecryptStream, verify: VerifyStream },
    "C_DecryptVerifyUpdate", decrypt_verify_update, SecretBytes, true, "decrypted and verified"
);

impl DecryptVerifyStream<'_> {
    /// Ends both operations: returns the last part of the plaintext (`C_DecryptFinal`)
    /// and whether `signature` is valid for the whole plaintext (`C_VerifyFinal`;
    /// `false` for `CKR_SIGNATURE_INVALID` and `CKR_SIGNATURE_LEN_RANGE`).
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DecryptFinal` or `C_VerifyFinal`.
    #[doc(alias = "C_DecryptFinal")]
    #[doc(alias = "C_VerifyFinal")]
    pub fn finish(self, signature: &[u8]) -> Result<(SecretBytes, bool)> {
        let last = self.decrypt.finish()?;
        Ok((last, self.verify.finish(signature)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Rv;

    #[test]
    fn an_invalid_signature_recovers_nothing_and_other_errors_stay_errors() {
        let module = |rv| Error::Module {
            function: "C_VerifyRecover",
            rv: Rv::from_raw(rv),
        };
        assert_eq!(recovered(Ok(3)).unwrap(), Some(3));
        for rv in [ffi::CKR_SIGNATURE_INVALID, ffi::CKR_SIGNATURE_LEN_RANGE] {
            assert_eq!(recovered::<u8>(Err(module(rv))).unwrap(), None);
        }
        let error = recovered::<u8>(Err(module(ffi::CKR_DEVICE_ERROR))).unwrap_err();
        assert_eq!(error.rv(), Some(Rv::from_raw(ffi::CKR_DEVICE_ERROR)));
    }
}
