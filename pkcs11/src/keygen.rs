//! Key generation: secret keys and key pairs.
//!
//! ```no_run
//! use pkcs11::{ffi, Attribute, Mechanism, Pkcs11};
//!
//! # let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
//! # let session = p11.slots_with_token()?.remove(0).open_rw_session()?;
//! let aes = session.generate_key(
//!     &Mechanism::plain(ffi::CKM_AES_KEY_GEN),
//!     &[Attribute::ValueLen(32), Attribute::Token(false), Attribute::Encrypt(true)],
//! )?;
//! let p256 = vec![0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
//! let (public, private) = session.generate_key_pair(
//!     &Mechanism::plain(ffi::CKM_EC_KEY_PAIR_GEN),
//!     &[Attribute::EcParams(p256), Attribute::Verify(true)],
//!     &[Attribute::Sign(true), Attribute::Sensitive(true)],
//! )?;
//! # Ok::<(), pkcs11::Error>(())
//! ```

use crate::attribute::{self, Attribute};
use crate::error::Result;
use crate::mechanism::Mechanism;
use crate::object::{written_handle, ObjectHandle};
use crate::raw;
use crate::session::Session;

impl Session {
    /// Generates a secret key (or domain parameters) with `mechanism`
    /// (`CKM_AES_KEY_GEN`...), its attributes from `template`.
    ///
    /// # Errors
    /// [`Error::Module`](crate::Error::Module) naming `C_GenerateKey`
    /// (`CKR_MECHANISM_INVALID`, `CKR_TEMPLATE_INCOMPLETE`...).
    #[doc(alias = "C_GenerateKey")]
    pub fn generate_key(
        &self,
        mechanism: &Mechanism<'_>,
        template: &[Attribute],
    ) -> Result<ObjectHandle> {
        self.new_object(template, |encoded, key| {
            raw::object::generate_key(self.inner(), self.handle(), mechanism, encoded, key)
        })
    }

    /// Generates a key pair with `mechanism` (`CKM_EC_KEY_PAIR_GEN`,
    /// `CKM_RSA_PKCS_KEY_PAIR_GEN`...), the public key's attributes from `public` and
    /// the private key's from `private`. Returns (public key, private key).
    ///
    /// # Errors
    /// [`Error::Module`](crate::Error::Module) naming `C_GenerateKeyPair`.
    #[doc(alias = "C_GenerateKeyPair")]
    pub fn generate_key_pair(
        &self,
        mechanism: &Mechanism<'_>,
        public: &[Attribute],
        private: &[Attribute],
    ) -> Result<(ObjectHandle, ObjectHandle)> {
        let _lock = self.locked()?;
        let mut public_template = attribute::encode(public);
        let mut private_template = attribute::encode(private);
        let mut public_key = ffi::CK_INVALID_HANDLE;
        let mut private_key = ffi::CK_INVALID_HANDLE;
        let returned = self.track(raw::object::generate_key_pair(
            self.inner(),
            self.handle(),
            mechanism,
            &mut public_template,
            &mut private_template,
            &mut public_key,
            &mut private_key,
        ))?;
        returned.ok()?;
        Ok((
            written_handle(returned.function, public_key)?,
            written_handle(returned.function, private_key)?,
        ))
    }
}
