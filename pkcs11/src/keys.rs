//! Key management on a [`Session`]: wrapping and unwrapping keys, deriving keys, and the
//! key encapsulation of PKCS #11 3.2 (ML-KEM...), with the 3.2 authenticated wrap.
//!
//! None of these starts an operation that outlives the call: each takes the session's
//! lock for its duration (other threads using the session wait). Templates are the
//! typed [`Attribute`]s; mechanism parameters (an ECDH peer point, HKDF salt and info,
//! a wrap IV...) are borrowed for the call. Outputs of variable length — the wrapped
//! key, the encapsulation's ciphertext — come in two forms: a fresh `Vec<u8>`, and an
//! `_into` form that writes into the caller's buffer and allocates nothing (a buffer
//! that is too small is [`Error::InvalidInput`] naming the length needed, and the module
//! creates nothing).
//!
//! Neither a wrapped key nor a ciphertext is secret (both are encrypted); the keys that
//! come out of unwrap, derive, encapsulate and decapsulate stay on the token, as
//! objects: read their `CKA_VALUE` (a [`SecretBytes`](crate::SecretBytes)) if the
//! template made them extractable and not sensitive.
//!
//! ```no_run
//! use pkcs11::{ffi, Attribute, KeyType, Mechanism, ObjectClass, Pkcs11};
//!
//! # let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
//! # let session = p11.slots_with_token()?.remove(0).open_rw_session()?;
//! # let (kek, key) = (pkcs11::ObjectHandle(1), pkcs11::ObjectHandle(2));
//! let wrap = Mechanism::plain(ffi::CKM_AES_KEY_WRAP_PAD);
//! let wrapped = session.wrap_key(&wrap, kek, key)?;
//! let copy = session.unwrap_key(
//!     &wrap,
//!     kek,
//!     &wrapped,
//!     &[
//!         Attribute::Class(ObjectClass::SecretKey),
//!         Attribute::KeyType(KeyType::Aes),
//!         Attribute::Token(false),
//!         Attribute::Encrypt(true),
//!     ],
//! )?;
//! # Ok::<(), pkcs11::Error>(())
//! ```

use crate::attribute::{self, Attribute};
#[cfg(doc)]
use crate::error::Error;
use crate::error::Result;
use crate::mechanism::Mechanism;
use crate::object::{written_handle, ObjectHandle};
use crate::output;
use crate::raw;
use crate::session::Session;

impl Session {
    /// Wraps (encrypts) `key` with `wrapping_key` and returns the wrapped key.
    ///
    /// `mechanism` is the wrapping mechanism: `CKM_AES_KEY_WRAP`,
    /// `CKM_AES_KEY_WRAP_PAD` / `CKM_AES_KEY_WRAP_KWP`, RSA-OAEP, AES-CBC-PAD...
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_WrapKey` (`CKR_KEY_UNEXTRACTABLE`,
    /// `CKR_KEY_NOT_WRAPPABLE`, `CKR_WRAPPING_KEY_HANDLE_INVALID`...).
    #[doc(alias = "C_WrapKey")]
    pub fn wrap_key(
        &self,
        mechanism: &Mechanism<'_>,
        wrapping_key: ObjectHandle,
        key: ObjectHandle,
    ) -> Result<Vec<u8>> {
        let _lock = self.locked()?;
        let (inner, h) = (self.inner(), self.handle());
        output::fetch(|out, len| {
            self.track(raw::keys::wrap_key(
                inner,
                h,
                mechanism,
                wrapping_key.raw(),
                key.raw(),
                out,
                len,
            ))
        })
    }

    /// Wraps `key` with `wrapping_key` into `out`; returns the wrapped key's length
    /// (allocates nothing).
    ///
    /// # Errors
    /// As [`Session::wrap_key`]; [`Error::InvalidInput`] naming the length needed if
    /// `out` is too small.
    #[doc(alias = "C_WrapKey")]
    pub fn wrap_key_into(
        &self,
        mechanism: &Mechanism<'_>,
        wrapping_key: ObjectHandle,
        key: ObjectHandle,
        out: &mut [u8],
    ) -> Result<usize> {
        let _lock = self.locked()?;
        let (inner, h) = (self.inner(), self.handle());
        let given = out.len();
        output::into_slice(out, false, |out, len| {
            self.track(raw::keys::wrap_key(
                inner,
                h,
                mechanism,
                wrapping_key.raw(),
                key.raw(),
                out,
                len,
            ))
        })?
        .or_too_small(given)
    }

    /// Unwraps (decrypts) `wrapped` with `unwrapping_key` into a new key object with
    /// the attributes of `template` (at least the class and key type, unless the
    /// mechanism implies them), and returns its handle.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_UnwrapKey` (`CKR_WRAPPED_KEY_INVALID`,
    /// `CKR_TEMPLATE_INCOMPLETE`, `CKR_UNWRAPPING_KEY_HANDLE_INVALID`...).
    #[doc(alias = "C_UnwrapKey")]
    pub fn unwrap_key(
        &self,
        mechanism: &Mechanism<'_>,
        unwrapping_key: ObjectHandle,
        wrapped: &[u8],
        template: &[Attribute],
    ) -> Result<ObjectHandle> {
        self.new_object(template, |encoded, key| {
            raw::keys::unwrap_key(
                self.inner(),
                self.handle(),
                mechanism,
                unwrapping_key.raw(),
                wrapped,
                encoded,
                key,
            )
        })
    }

    /// Derives a new key from `base_key` with `mechanism` (ECDH with the peer's public
    /// point, HKDF, SP 800-108, PBKDF2, the concatenate / XOR / extract
    /// derivations...), its attributes from `template`, and returns its handle.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_DeriveKey` (`CKR_MECHANISM_PARAM_INVALID`,
    /// `CKR_TEMPLATE_INCONSISTENT`, `CKR_KEY_TYPE_INCONSISTENT`...).
    #[doc(alias = "C_DeriveKey")]
    pub fn derive_key(
        &self,
        mechanism: &Mechanism<'_>,
        base_key: ObjectHandle,
        template: &[Attribute],
    ) -> Result<ObjectHandle> {
        self.new_object(template, |encoded, key| {
            raw::keys::derive_key(
                self.inner(),
                self.handle(),
                mechanism,
                base_key.raw(),
                encoded,
                key,
            )
        })
    }

    /// Encapsulates a new shared secret to `public_key` (PKCS #11 3.2, e.g. `CKM_ML_KEM`
    /// with an ML-KEM public key): the token makes the secret as a new key object with
    /// the attributes of `template` and returns the ciphertext to send to the holder of
    /// the private key, with the new key's handle.
    ///
    /// # Errors
    /// [`Error::NotSupported`] naming `C_EncapsulateKey` for a module without it (a
    /// Cryptoki 2.x or 3.0 module); [`Error::Module`] naming `C_EncapsulateKey`.
    #[doc(alias = "C_EncapsulateKey")]
    pub fn encapsulate_key(
        &self,
        mechanism: &Mechanism<'_>,
        public_key: ObjectHandle,
        template: &[Attribute],
    ) -> Result<(Vec<u8>, ObjectHandle)> {
        let _lock = self.locked()?;
        let mut encoded = attribute::encode(template);
        let mut key = ffi::CK_INVALID_HANDLE;
        let mut function = "C_EncapsulateKey";
        let ciphertext = output::fetch(|out, len| {
            // Only the call with a buffer creates the key: the length query does not.
            let returned = self.track(raw::keys::encapsulate_key(
                self.inner(),
                self.handle(),
                mechanism,
                public_key.raw(),
                &mut encoded,
                out,
                len,
                &mut key,
            ))?;
            function = returned.function;
            Ok(returned)
        })?;
        Ok((ciphertext, written_handle(function, key)?))
    }

    /// Like [`Session::encapsulate_key`], writing the ciphertext into `ciphertext`;
    /// returns its length and the new key's handle (allocates nothing). If the buffer is
    /// too small, no key is created.
    ///
    /// # Errors
    /// As [`Session::encapsulate_key`]; [`Error::InvalidInput`] naming the length needed
    /// if `ciphertext` is too small.
    #[doc(alias = "C_EncapsulateKey")]
    pub fn encapsulate_key_into(
        &self,
        mechanism: &Mechanism<'_>,
        public_key: ObjectHandle,
        template: &[Attribute],
        ciphertext: &mut [u8],
    ) -> Result<(usize, ObjectHandle)> {
        let _lock = self.locked()?;
        let mut encoded = attribute::encode(template);
        let mut key = ffi::CK_INVALID_HANDLE;
        let given = ciphertext.len();
        let written = output::into_slice(ciphertext, false, |out, len| {
            self.track(raw::keys::encapsulate_key(
                self.inner(),
                self.handle(),
                mechanism,
                public_key.raw(),
                &mut encoded,
                out,
                len,
                &mut key,
            ))
        })?;
        let len = written.or_too_small(given)?;
        Ok((len, written_handle("C_EncapsulateKey", key)?))
    }

    /// Decapsulates `ciphertext` with `private_key` (PKCS #11 3.2, e.g. `CKM_ML_KEM`):
    /// the token recovers the shared secret as a new key object with the attributes of
    /// `template` and returns its handle.
    ///
    /// # Errors
    /// [`Error::NotSupported`] naming `C_DecapsulateKey` for a module without it;
    /// [`Error::Module`] naming `C_DecapsulateKey`.
    #[doc(alias = "C_DecapsulateKey")]
    pub fn decapsulate_key(
        &self,
        mechanism: &Mechanism<'_>,
        private_key: ObjectHandle,
        template: &[Attribute],
        ciphertext: &[u8],
    ) -> Result<ObjectHandle> {
        self.new_object(template, |encoded, key| {
            raw::keys::decapsulate_key(
                self.inner(),
                self.handle(),
                mechanism,
                private_key.raw(),
                encoded,
                ciphertext,
                key,
            )
        })
    }

    /// Wraps `key` with `wrapping_key`, authenticating `associated_data` with it
    /// (PKCS #11 3.2, AEAD wrapping mechanisms), and returns the wrapped key.
    ///
    /// # Errors
    /// [`Error::NotSupported`] naming `C_WrapKeyAuthenticated` for a module without it;
    /// [`Error::Module`] naming `C_WrapKeyAuthenticated` (Kryoptic 1.5 answers
    /// `CKR_FUNCTION_NOT_SUPPORTED`).
    #[doc(alias = "C_WrapKeyAuthenticated")]
    pub fn wrap_key_authenticated(
        &self,
        mechanism: &Mechanism<'_>,
        wrapping_key: ObjectHandle,
        key: ObjectHandle,
        associated_data: &[u8],
    ) -> Result<Vec<u8>> {
        let _lock = self.locked()?;
        output::fetch(|out, len| {
            self.track(raw::keys::wrap_key_authenticated(
                self.inner(),
                self.handle(),
                mechanism,
                wrapping_key.raw(),
                key.raw(),
                associated_data,
                out,
                len,
            ))
        })
    }

    /// Like [`Session::wrap_key_authenticated`], into `out`; returns the wrapped key's
    /// length (allocates nothing).
    ///
    /// # Errors
    /// As [`Session::wrap_key_authenticated`]; [`Error::InvalidInput`] naming the length
    /// needed if `out` is too small.
    #[doc(alias = "C_WrapKeyAuthenticated")]
    pub fn wrap_key_authenticated_into(
        &self,
        mechanism: &Mechanism<'_>,
        wrapping_key: ObjectHandle,
        key: ObjectHandle,
        associated_data: &[u8],
        out: &mut [u8],
    ) -> Result<usize> {
        let _lock = self.locked()?;
        let given = out.len();
        output::into_slice(out, false, |out, len| {
            self.track(raw::keys::wrap_key_authenticated(
                self.inner(),
                self.handle(),
                mechanism,
                wrapping_key.raw(),
                key.raw(),
                associated_data,
                out,
                len,
            ))
        })?
        .or_too_small(given)
    }

    /// Unwraps `wrapped` with `unwrapping_key`, checking `associated_data` (PKCS #11
    /// 3.2), into a new key object with the attributes of `template`.
    ///
    /// # Errors
    /// [`Error::NotSupported`] naming `C_UnwrapKeyAuthenticated` for a module without
    /// it; [`Error::Module`] naming `C_UnwrapKeyAuthenticated`.
    #[doc(alias = "C_UnwrapKeyAuthenticated")]
    pub fn unwrap_key_authenticated(
        &self,
        mechanism: &Mechanism<'_>,
        unwrapping_key: ObjectHandle,
        wrapped: &[u8],
        template: &[Attribute],
        associated_data: &[u8],
    ) -> Result<ObjectHandle> {
        self.new_object(template, |encoded, key| {
            raw::keys::unwrap_key_authenticated(
                self.inner(),
                self.handle(),
                mechanism,
                unwrapping_key.raw(),
                wrapped,
                encoded,
                associated_data,
                key,
            )
        })
    }
}
