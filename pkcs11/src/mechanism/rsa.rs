//! RSA parameters: mask generation functions, RSA-PSS and RSA-OAEP.

use core::fmt;

use super::{MechanismType, Parameter};
use crate::error::{Error, Result};
use crate::raw::params::Params;

/// A mask generation function for RSA-PSS and RSA-OAEP (`CKG_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Mgf(pub ffi::CK_RSA_PKCS_MGF_TYPE);

impl Mgf {
    /// `CKG_MGF1_SHA1`.
    pub const MGF1_SHA1: Mgf = Mgf(ffi::CKG_MGF1_SHA1);
    /// `CKG_MGF1_SHA224`.
    pub const MGF1_SHA224: Mgf = Mgf(ffi::CKG_MGF1_SHA224);
    /// `CKG_MGF1_SHA256`.
    pub const MGF1_SHA256: Mgf = Mgf(ffi::CKG_MGF1_SHA256);
    /// `CKG_MGF1_SHA384`.
    pub const MGF1_SHA384: Mgf = Mgf(ffi::CKG_MGF1_SHA384);
    /// `CKG_MGF1_SHA512`.
    pub const MGF1_SHA512: Mgf = Mgf(ffi::CKG_MGF1_SHA512);
    /// `CKG_MGF1_SHA3_224`.
    pub const MGF1_SHA3_224: Mgf = Mgf(ffi::CKG_MGF1_SHA3_224);
    /// `CKG_MGF1_SHA3_256`.
    pub const MGF1_SHA3_256: Mgf = Mgf(ffi::CKG_MGF1_SHA3_256);
    /// `CKG_MGF1_SHA3_384`.
    pub const MGF1_SHA3_384: Mgf = Mgf(ffi::CKG_MGF1_SHA3_384);
    /// `CKG_MGF1_SHA3_512`.
    pub const MGF1_SHA3_512: Mgf = Mgf(ffi::CKG_MGF1_SHA3_512);

    /// MGF1 with `hash` (`CKM_SHA_1`, `CKM_SHA224` ... `CKM_SHA3_512`), if the standard
    /// defines one.
    pub const fn mgf1(hash: MechanismType) -> Option<Mgf> {
        Some(match hash.0 {
            ffi::CKM_SHA_1 => Mgf::MGF1_SHA1,
            ffi::CKM_SHA224 => Mgf::MGF1_SHA224,
            ffi::CKM_SHA256 => Mgf::MGF1_SHA256,
            ffi::CKM_SHA384 => Mgf::MGF1_SHA384,
            ffi::CKM_SHA512 => Mgf::MGF1_SHA512,
            ffi::CKM_SHA3_224 => Mgf::MGF1_SHA3_224,
            ffi::CKM_SHA3_256 => Mgf::MGF1_SHA3_256,
            ffi::CKM_SHA3_384 => Mgf::MGF1_SHA3_384,
            ffi::CKM_SHA3_512 => Mgf::MGF1_SHA3_512,
            _ => return None,
        })
    }

    /// The raw value.
    pub const fn raw(self) -> ffi::CK_RSA_PKCS_MGF_TYPE {
        self.0
    }
}

impl fmt::Debug for Mgf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not `CKG_NAMES`: generator functions (`CKG_GENERATE`, ...) share the values.
        let name = match self.0 {
            ffi::CKG_MGF1_SHA1 => "CKG_MGF1_SHA1",
            ffi::CKG_MGF1_SHA224 => "CKG_MGF1_SHA224",
            ffi::CKG_MGF1_SHA256 => "CKG_MGF1_SHA256",
            ffi::CKG_MGF1_SHA384 => "CKG_MGF1_SHA384",
            ffi::CKG_MGF1_SHA512 => "CKG_MGF1_SHA512",
            ffi::CKG_MGF1_SHA3_224 => "CKG_MGF1_SHA3_224",
            ffi::CKG_MGF1_SHA3_256 => "CKG_MGF1_SHA3_256",
            ffi::CKG_MGF1_SHA3_384 => "CKG_MGF1_SHA3_384",
            ffi::CKG_MGF1_SHA3_512 => "CKG_MGF1_SHA3_512",
            other => return write!(f, "CKG(0x{other:08X})"),
        };
        f.write_str(name)
    }
}

/// The hash's MGF1, or an error naming `what` it was for.
fn mgf1_for(hash: MechanismType, what: &str) -> Result<Mgf> {
    Mgf::mgf1(hash).ok_or_else(|| Error::InvalidInput {
        what: format!("{what}: no MGF1 is defined for the hash {hash}"),
    })
}

/// RSA-PSS parameters (`CK_RSA_PKCS_PSS_PARAMS`): hash, mask generation function and salt
/// length. Holds no pointer.
#[derive(Clone, Copy)]
pub struct PssParams {
    pub(super) ck: ffi::CK_RSA_PKCS_PSS_PARAMS,
}

impl PssParams {
    /// Parameters with `hash` (e.g. [`MechanismType::SHA256`]), `mgf` and a salt of
    /// `salt_len` bytes.
    pub const fn new(hash: MechanismType, mgf: Mgf, salt_len: u32) -> PssParams {
        PssParams {
            ck: ffi::CK_RSA_PKCS_PSS_PARAMS {
                hashAlg: hash.0,
                mgf: mgf.0,
                // Lossless: CK_ULONG has at least 32 bits.
                sLen: salt_len as ffi::CK_ULONG,
            },
        }
    }

    /// `hash`, MGF1 with the same hash and a salt as long as the digest: what the
    /// `CKM_<hash>_RSA_PKCS_PSS` mechanisms expect (e.g. [`MechanismType::SHA3_256`]).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if `hash` is not a SHA-1,
    /// SHA-2 or SHA-3 digest with an MGF1.
    pub fn for_hash(hash: MechanismType) -> Result<PssParams> {
        let mgf = mgf1_for(hash, "RSA-PSS parameters")?;
        let len = hash.digest_len().ok_or_else(|| Error::InvalidInput {
            what: format!("RSA-PSS parameters: {hash} is not a digest"),
        })?;
        // Lossless: a digest is at most 64 bytes.
        Ok(PssParams::new(hash, mgf, len as u32))
    }

    /// SHA-1, MGF1 with SHA-1, a 20-byte salt.
    pub const fn sha1() -> PssParams {
        PssParams::new(MechanismType::SHA_1, Mgf::MGF1_SHA1, 20)
    }

    /// SHA-224, MGF1 with SHA-224, a 28-byte salt.
    pub const fn sha224() -> PssParams {
        PssParams::new(MechanismType::SHA224, Mgf::MGF1_SHA224, 28)
    }

    /// SHA-256, MGF1 with SHA-256, a 32-byte salt: what `CKM_SHA256_RSA_PKCS_PSS`
    /// expects.
    pub const fn sha256() -> PssParams {
        PssParams::new(MechanismType::SHA256, Mgf::MGF1_SHA256, 32)
    }

    /// SHA-384, MGF1 with SHA-384, a 48-byte salt.
    pub const fn sha384() -> PssParams {
        PssParams::new(MechanismType::SHA384, Mgf::MGF1_SHA384, 48)
    }

    /// SHA-512, MGF1 with SHA-512, a 64-byte salt.
    pub const fn sha512() -> PssParams {
        PssParams::new(MechanismType::SHA512, Mgf::MGF1_SHA512, 64)
    }

    /// The hash.
    pub fn hash(&self) -> MechanismType {
        MechanismType(self.ck.hashAlg)
    }

    /// The mask generation function.
    pub fn mgf(&self) -> Mgf {
        Mgf(self.ck.mgf)
    }

    /// The salt length in bytes.
    pub fn salt_len(&self) -> ffi::CK_ULONG {
        self.ck.sLen
    }
}

impl fmt::Debug for PssParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PssParams")
            .field("hash", &self.hash())
            .field("mgf", &self.mgf())
            .field("salt_len", &self.salt_len())
            .finish()
    }
}

impl Parameter for PssParams {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(core::ptr::from_ref(&self.ck))
    }
}

/// RSA-OAEP parameters (`CK_RSA_PKCS_OAEP_PARAMS`): hash, mask generation function and
/// an optional label (`CKZ_DATA_SPECIFIED`), borrowed for `'a`.
#[derive(Clone)]
pub struct OaepParams<'a> {
    hash: MechanismType,
    mgf: Mgf,
    label: Option<&'a [u8]>,
    pub(super) ck: Params<'a, ffi::CK_RSA_PKCS_OAEP_PARAMS>,
}

impl<'a> OaepParams<'a> {
    /// Parameters with `hash`, `mgf` and `label` (`None`: no label).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if the label's length does not
    /// fit in a `CK_ULONG`.
    pub fn new(hash: MechanismType, mgf: Mgf, label: Option<&'a [u8]>) -> Result<OaepParams<'a>> {
        Ok(OaepParams {
            hash,
            mgf,
            label,
            ck: Params::oaep(hash.0, mgf.0, label.unwrap_or_default())?,
        })
    }

    /// `hash` with MGF1 over the same hash, and `label` (`None`: no label).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if `hash` has no MGF1 or the
    /// label is too long.
    pub fn for_hash(hash: MechanismType, label: Option<&'a [u8]>) -> Result<OaepParams<'a>> {
        OaepParams::new(hash, mgf1_for(hash, "RSA-OAEP parameters")?, label)
    }

    /// SHA-1 with MGF1-SHA-1 and no label (the classic OAEP, and the only one some
    /// tokens, SoftHSM among them, accept).
    pub fn sha1() -> OaepParams<'static> {
        OaepParams::unlabelled(MechanismType::SHA1, Mgf::MGF1_SHA1)
    }

    /// SHA-256 with MGF1-SHA-256 and no label.
    pub fn sha256() -> OaepParams<'static> {
        OaepParams::unlabelled(MechanismType::SHA256, Mgf::MGF1_SHA256)
    }

    fn unlabelled(hash: MechanismType, mgf: Mgf) -> OaepParams<'static> {
        OaepParams {
            hash,
            mgf,
            label: None,
            ck: Params::oaep_unlabelled(hash.0, mgf.0),
        }
    }

    /// The hash.
    pub fn hash(&self) -> MechanismType {
        self.hash
    }

    /// The mask generation function.
    pub fn mgf(&self) -> Mgf {
        self.mgf
    }

    /// The label.
    pub fn label(&self) -> Option<&'a [u8]> {
        self.label
    }
}

impl fmt::Debug for OaepParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OaepParams")
            .field("hash", &self.hash)
            .field("mgf", &self.mgf)
            .field("label_len", &self.label.map(<[u8]>::len))
            .finish()
    }
}

impl Parameter for OaepParams<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}
