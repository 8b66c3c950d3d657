//! Mechanisms (`CKM_*`) and their parameters.
//!
//! [`Mechanism`] is typed for a starter set — AES-CBC-PAD, AES-GCM, ECDSA, EdDSA,
//! RSA PKCS #1 v1.5, RSA-PSS, RSA-OAEP, HMAC-SHA-256, the SHA-1/SHA-2 digests and the
//! matching key generation mechanisms — with [`Mechanism::Raw`] for any other standard or
//! vendor mechanism. Parameters are the generated `pkcs11-sys` structs
//! (`CK_GCM_PARAMS`, `CK_RSA_PKCS_PSS_PARAMS`, `CK_RSA_PKCS_OAEP_PARAMS`,
//! `CK_EDDSA_PARAMS`), kept inside the `Mechanism` value; their pointers borrow the
//! caller's buffers for `'a`. A multi-step operation borrows the `Mechanism` for its whole
//! duration, so the module can read the parameters until the operation ends
//! (RELIABILITY rules 27 and 28). Parameter types that hold such pointers are not `Copy`.
//!
//! ```
//! use pkcs11::{GcmParams, Mechanism, PssParams};
//!
//! let iv = [0u8; 12];
//! let gcm = Mechanism::AesGcm(GcmParams::new(&iv, b"header", 128)?);
//! assert_eq!(gcm.mechanism_type().name(), Some("CKM_AES_GCM"));
//! let pss = Mechanism::Sha256RsaPkcsPss(PssParams::sha256());
//! assert_eq!(pss.mechanism_type(), pkcs11::MechanismType::SHA256_RSA_PKCS_PSS);
//! # Ok::<(), pkcs11::Error>(())
//! ```

use core::fmt;

use crate::error::Result;
use crate::raw::params::Params;

/// A mechanism type (`CKM_*`): standard, vendor-defined or unknown, kept as it is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MechanismType(pub ffi::CK_MECHANISM_TYPE);

impl MechanismType {
    /// `CKM_AES_CBC_PAD`.
    pub const AES_CBC_PAD: MechanismType = MechanismType(ffi::CKM_AES_CBC_PAD);
    /// `CKM_AES_GCM`.
    pub const AES_GCM: MechanismType = MechanismType(ffi::CKM_AES_GCM);
    /// `CKM_AES_KEY_GEN`.
    pub const AES_KEY_GEN: MechanismType = MechanismType(ffi::CKM_AES_KEY_GEN);
    /// `CKM_ECDSA`.
    pub const ECDSA: MechanismType = MechanismType(ffi::CKM_ECDSA);
    /// `CKM_ECDSA_SHA256`.
    pub const ECDSA_SHA256: MechanismType = MechanismType(ffi::CKM_ECDSA_SHA256);
    /// `CKM_EC_KEY_PAIR_GEN`.
    pub const EC_KEY_PAIR_GEN: MechanismType = MechanismType(ffi::CKM_EC_KEY_PAIR_GEN);
    /// `CKM_EC_EDWARDS_KEY_PAIR_GEN`.
    pub const EC_EDWARDS_KEY_PAIR_GEN: MechanismType =
        MechanismType(ffi::CKM_EC_EDWARDS_KEY_PAIR_GEN);
    /// `CKM_EDDSA`.
    pub const EDDSA: MechanismType = MechanismType(ffi::CKM_EDDSA);
    /// `CKM_RSA_PKCS`.
    pub const RSA_PKCS: MechanismType = MechanismType(ffi::CKM_RSA_PKCS);
    /// `CKM_SHA256_RSA_PKCS`.
    pub const SHA256_RSA_PKCS: MechanismType = MechanismType(ffi::CKM_SHA256_RSA_PKCS);
    /// `CKM_RSA_PKCS_PSS`.
    pub const RSA_PKCS_PSS: MechanismType = MechanismType(ffi::CKM_RSA_PKCS_PSS);
    /// `CKM_SHA256_RSA_PKCS_PSS`.
    pub const SHA256_RSA_PKCS_PSS: MechanismType = MechanismType(ffi::CKM_SHA256_RSA_PKCS_PSS);
    /// `CKM_RSA_PKCS_OAEP`.
    pub const RSA_PKCS_OAEP: MechanismType = MechanismType(ffi::CKM_RSA_PKCS_OAEP);
    /// `CKM_RSA_PKCS_KEY_PAIR_GEN`.
    pub const RSA_PKCS_KEY_PAIR_GEN: MechanismType = MechanismType(ffi::CKM_RSA_PKCS_KEY_PAIR_GEN);
    /// `CKM_SHA256_HMAC`.
    pub const SHA256_HMAC: MechanismType = MechanismType(ffi::CKM_SHA256_HMAC);
    /// `CKM_SHA_1`.
    pub const SHA1: MechanismType = MechanismType(ffi::CKM_SHA_1);
    /// `CKM_SHA224`.
    pub const SHA224: MechanismType = MechanismType(ffi::CKM_SHA224);
    /// `CKM_SHA256`.
    pub const SHA256: MechanismType = MechanismType(ffi::CKM_SHA256);
    /// `CKM_SHA384`.
    pub const SHA384: MechanismType = MechanismType(ffi::CKM_SHA384);
    /// `CKM_SHA512`.
    pub const SHA512: MechanismType = MechanismType(ffi::CKM_SHA512);

    /// The raw value.
    pub const fn raw(self) -> ffi::CK_MECHANISM_TYPE {
        self.0
    }

    /// The standard name (`"CKM_AES_GCM"`), if the value has one.
    pub fn name(self) -> Option<&'static str> {
        ffi::ckm_name(self.0)
    }

    /// Whether the value is in the vendor-defined range.
    pub const fn is_vendor_defined(self) -> bool {
        self.0 >= ffi::CKM_VENDOR_DEFINED
    }
}

impl From<ffi::CK_MECHANISM_TYPE> for MechanismType {
    fn from(raw: ffi::CK_MECHANISM_TYPE) -> MechanismType {
        MechanismType(raw)
    }
}

impl fmt::Debug for MechanismType {
    /// `CKM_AES_GCM`, or `CKM(0x80000001)` for a value without a standard name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "CKM(0x{:08X})", self.0),
        }
    }
}

impl fmt::Display for MechanismType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

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

    /// The raw value.
    pub const fn raw(self) -> ffi::CK_RSA_PKCS_MGF_TYPE {
        self.0
    }
}

impl fmt::Debug for Mgf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            ffi::CKG_MGF1_SHA1 => "CKG_MGF1_SHA1",
            ffi::CKG_MGF1_SHA224 => "CKG_MGF1_SHA224",
            ffi::CKG_MGF1_SHA256 => "CKG_MGF1_SHA256",
            ffi::CKG_MGF1_SHA384 => "CKG_MGF1_SHA384",
            ffi::CKG_MGF1_SHA512 => "CKG_MGF1_SHA512",
            other => return write!(f, "CKG(0x{other:08X})"),
        };
        f.write_str(name)
    }
}

/// AES-GCM parameters (`CK_GCM_PARAMS`): IV, additional authenticated data and tag
/// length, borrowed for `'a`.
#[derive(Clone)]
pub struct GcmParams<'a> {
    iv: &'a [u8],
    aad: &'a [u8],
    tag_bits: u32,
    ck: Params<'a, ffi::CK_GCM_PARAMS>,
}

impl<'a> GcmParams<'a> {
    /// Parameters for `iv` (12 bytes is the usual size), `aad` (may be empty) and a tag of
    /// `tag_bits` bits (128 is the usual size; the module checks what it accepts).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if a length does not fit in a
    /// `CK_ULONG`.
    pub fn new(iv: &'a [u8], aad: &'a [u8], tag_bits: u32) -> Result<GcmParams<'a>> {
        Ok(GcmParams {
            iv,
            aad,
            tag_bits,
            ck: Params::gcm(iv, aad, tag_bits)?,
        })
    }

    /// The IV.
    pub fn iv(&self) -> &'a [u8] {
        self.iv
    }

    /// The additional authenticated data.
    pub fn aad(&self) -> &'a [u8] {
        self.aad
    }

    /// The tag length in bits.
    pub fn tag_bits(&self) -> u32 {
        self.tag_bits
    }
}

impl fmt::Debug for GcmParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GcmParams")
            .field("iv_len", &self.iv.len())
            .field("aad_len", &self.aad.len())
            .field("tag_bits", &self.tag_bits)
            .finish()
    }
}

/// RSA-PSS parameters (`CK_RSA_PKCS_PSS_PARAMS`): hash, mask generation function and salt
/// length. Holds no pointer.
#[derive(Clone, Copy)]
pub struct PssParams {
    ck: ffi::CK_RSA_PKCS_PSS_PARAMS,
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

    /// SHA-256, MGF1 with SHA-256, a 32-byte salt: what `CKM_SHA256_RSA_PKCS_PSS`
    /// expects.
    pub const fn sha256() -> PssParams {
        PssParams::new(MechanismType::SHA256, Mgf::MGF1_SHA256, 32)
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

/// RSA-OAEP parameters (`CK_RSA_PKCS_OAEP_PARAMS`): hash, mask generation function and
/// an optional label (`CKZ_DATA_SPECIFIED`), borrowed for `'a`.
#[derive(Clone)]
pub struct OaepParams<'a> {
    hash: MechanismType,
    mgf: Mgf,
    label: Option<&'a [u8]>,
    ck: Params<'a, ffi::CK_RSA_PKCS_OAEP_PARAMS>,
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

/// EdDSA parameters (`CK_EDDSA_PARAMS`): pre-hash flag (Ed25519ph / Ed448ph) and context
/// data (Ed25519ctx, Ed448), borrowed for `'a`.
#[derive(Clone)]
pub struct EddsaParams<'a> {
    prehash: bool,
    context: &'a [u8],
    ck: Params<'a, ffi::CK_EDDSA_PARAMS>,
}

impl<'a> EddsaParams<'a> {
    /// Parameters with the pre-hash flag and `context` (may be empty).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if the context's length does
    /// not fit in a `CK_ULONG`.
    pub fn new(prehash: bool, context: &'a [u8]) -> Result<EddsaParams<'a>> {
        Ok(EddsaParams {
            prehash,
            context,
            ck: Params::eddsa(prehash, context)?,
        })
    }

    /// Whether the message is pre-hashed.
    pub fn prehash(&self) -> bool {
        self.prehash
    }

    /// The context data.
    pub fn context(&self) -> &'a [u8] {
        self.context
    }
}

impl fmt::Debug for EddsaParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EddsaParams")
            .field("prehash", &self.prehash)
            .field("context_len", &self.context.len())
            .finish()
    }
}

/// A mechanism with its parameters, ready to pass to an `*Init` or key-generation call.
///
/// Parameters live inside the value (or borrow the caller's buffers for `'a`), so a
/// `CK_MECHANISM` built from it stays valid as long as the `Mechanism` does — the whole
/// operation for multi-step operations (RELIABILITY rule 28). `Mechanism` is `Send +
/// Sync` and `Clone`, never `Copy`.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Mechanism<'a> {
    /// `CKM_AES_CBC_PAD`: AES-CBC with PKCS #7 padding, with its 16-byte IV.
    AesCbcPad {
        /// The initialization vector.
        iv: [u8; 16],
    },
    /// `CKM_AES_GCM`: AES-GCM authenticated encryption.
    AesGcm(GcmParams<'a>),
    /// `CKM_ECDSA`: ECDSA over data the caller has already hashed.
    Ecdsa,
    /// `CKM_ECDSA_SHA256`: ECDSA with SHA-256 hashing by the token.
    EcdsaSha256,
    /// `CKM_EDDSA` without parameters: pure Ed25519 (or Ed448 without context).
    Eddsa,
    /// `CKM_EDDSA` with `CK_EDDSA_PARAMS` (pre-hash, context).
    EddsaWith(EddsaParams<'a>),
    /// `CKM_RSA_PKCS`: RSA PKCS #1 v1.5 (signature over a caller-built `DigestInfo`, or
    /// encryption).
    RsaPkcs,
    /// `CKM_SHA256_RSA_PKCS`: RSA PKCS #1 v1.5 signature with SHA-256.
    Sha256RsaPkcs,
    /// `CKM_RSA_PKCS_PSS`: RSA-PSS over a caller-computed hash.
    RsaPkcsPss(PssParams),
    /// `CKM_SHA256_RSA_PKCS_PSS`: RSA-PSS with SHA-256 hashing by the token (use
    /// [`PssParams::sha256`]).
    Sha256RsaPkcsPss(PssParams),
    /// `CKM_RSA_PKCS_OAEP`: RSA-OAEP encryption.
    RsaPkcsOaep(OaepParams<'a>),
    /// `CKM_SHA256_HMAC`: HMAC-SHA-256 (sign / verify with a secret key).
    Sha256Hmac,
    /// `CKM_SHA_1` digest.
    Sha1,
    /// `CKM_SHA224` digest.
    Sha224,
    /// `CKM_SHA256` digest.
    Sha256,
    /// `CKM_SHA384` digest.
    Sha384,
    /// `CKM_SHA512` digest.
    Sha512,
    /// `CKM_AES_KEY_GEN` (the key size goes in the template as `CKA_VALUE_LEN`).
    AesKeyGen,
    /// `CKM_EC_KEY_PAIR_GEN` (the curve goes in the public template as `CKA_EC_PARAMS`).
    EcKeyPairGen,
    /// `CKM_EC_EDWARDS_KEY_PAIR_GEN`.
    EcEdwardsKeyPairGen,
    /// `CKM_RSA_PKCS_KEY_PAIR_GEN`.
    RsaPkcsKeyPairGen,
    /// Any mechanism, standard or vendor, with raw parameter bytes (empty for none).
    ///
    /// The bytes are passed as they are; when they encode a C struct, they must be laid
    /// out (and aligned) as the module's C compiler lays out that struct.
    Raw {
        /// The mechanism type.
        mechanism: MechanismType,
        /// The parameter bytes, passed as they are.
        parameter: &'a [u8],
    },
}

impl Mechanism<'_> {
    /// A mechanism without parameters.
    pub const fn plain(mechanism: ffi::CK_MECHANISM_TYPE) -> Mechanism<'static> {
        Mechanism::Raw {
            mechanism: MechanismType(mechanism),
            parameter: &[],
        }
    }

    /// The mechanism type.
    pub fn mechanism_type(&self) -> MechanismType {
        MechanismType(match self {
            Mechanism::AesCbcPad { .. } => ffi::CKM_AES_CBC_PAD,
            Mechanism::AesGcm(_) => ffi::CKM_AES_GCM,
            Mechanism::Ecdsa => ffi::CKM_ECDSA,
            Mechanism::EcdsaSha256 => ffi::CKM_ECDSA_SHA256,
            Mechanism::Eddsa | Mechanism::EddsaWith(_) => ffi::CKM_EDDSA,
            Mechanism::RsaPkcs => ffi::CKM_RSA_PKCS,
            Mechanism::Sha256RsaPkcs => ffi::CKM_SHA256_RSA_PKCS,
            Mechanism::RsaPkcsPss(_) => ffi::CKM_RSA_PKCS_PSS,
            Mechanism::Sha256RsaPkcsPss(_) => ffi::CKM_SHA256_RSA_PKCS_PSS,
            Mechanism::RsaPkcsOaep(_) => ffi::CKM_RSA_PKCS_OAEP,
            Mechanism::Sha256Hmac => ffi::CKM_SHA256_HMAC,
            Mechanism::Sha1 => ffi::CKM_SHA_1,
            Mechanism::Sha224 => ffi::CKM_SHA224,
            Mechanism::Sha256 => ffi::CKM_SHA256,
            Mechanism::Sha384 => ffi::CKM_SHA384,
            Mechanism::Sha512 => ffi::CKM_SHA512,
            Mechanism::AesKeyGen => ffi::CKM_AES_KEY_GEN,
            Mechanism::EcKeyPairGen => ffi::CKM_EC_KEY_PAIR_GEN,
            Mechanism::EcEdwardsKeyPairGen => ffi::CKM_EC_EDWARDS_KEY_PAIR_GEN,
            Mechanism::RsaPkcsKeyPairGen => ffi::CKM_RSA_PKCS_KEY_PAIR_GEN,
            Mechanism::Raw { mechanism, .. } => mechanism.raw(),
        })
    }

    /// The `CK_MECHANISM` for this value; its parameter pointer points into `self`
    /// (or the buffers `self` borrows), valid while `self` is neither moved nor dropped.
    pub(crate) fn to_ck(&self) -> ffi::CK_MECHANISM {
        let (pointer, len): (*const core::ffi::c_void, usize) = match self {
            Mechanism::AesCbcPad { iv } => (iv.as_ptr().cast(), iv.len()),
            Mechanism::AesGcm(p) => struct_param(p.ck.as_ptr()),
            Mechanism::EddsaWith(p) => struct_param(p.ck.as_ptr()),
            Mechanism::RsaPkcsPss(p) | Mechanism::Sha256RsaPkcsPss(p) => {
                struct_param(core::ptr::from_ref(&p.ck))
            }
            Mechanism::RsaPkcsOaep(p) => struct_param(p.ck.as_ptr()),
            Mechanism::Raw { parameter, .. } if !parameter.is_empty() => {
                (parameter.as_ptr().cast(), parameter.len())
            }
            _ => (core::ptr::null(), 0),
        };
        ffi::CK_MECHANISM {
            mechanism: self.mechanism_type().raw(),
            pParameter: pointer.cast_mut(),
            // Lossless: a parameter is a struct or an in-memory slice; a `Raw` slice
            // longer than CK_ULONG (Windows) is cut, and the module rejects it.
            ulParameterLen: ffi::CK_ULONG::try_from(len).unwrap_or(ffi::CK_ULONG::MAX),
        }
    }
}

/// The `pParameter` / `ulParameterLen` of a parameter struct.
fn struct_param<T>(pointer: *const T) -> (*const core::ffi::c_void, usize) {
    (pointer.cast(), core::mem::size_of::<T>())
}

#[cfg(test)]
mod tests {
    #[cfg(not(windows))]
    use core::mem::offset_of;
    use core::mem::size_of;

    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn mechanism_is_send_and_sync() {
        assert_send_sync::<Mechanism<'static>>();
        assert_send_sync::<GcmParams<'static>>();
        assert_send_sync::<OaepParams<'static>>();
        assert_send_sync::<EddsaParams<'static>>();
    }

    /// The C layout of the parameter structs this crate fills in, as a C compiler lays
    /// them out on this (non-Windows) target: pointers and `unsigned long` alike.
    #[cfg(not(windows))]
    #[test]
    fn parameter_structs_have_the_c_layout() {
        let p = size_of::<*mut u8>();
        let u = size_of::<ffi::CK_ULONG>();
        assert_eq!(size_of::<ffi::CK_MECHANISM>(), 2 * u + p);
        assert_eq!(offset_of!(ffi::CK_MECHANISM, pParameter), u);
        assert_eq!(offset_of!(ffi::CK_MECHANISM, ulParameterLen), u + p);

        assert_eq!(size_of::<ffi::CK_GCM_PARAMS>(), 2 * p + 4 * u);
        assert_eq!(offset_of!(ffi::CK_GCM_PARAMS, pIv), 0);
        assert_eq!(offset_of!(ffi::CK_GCM_PARAMS, ulIvLen), p);
        assert_eq!(offset_of!(ffi::CK_GCM_PARAMS, ulIvBits), p + u);
        assert_eq!(offset_of!(ffi::CK_GCM_PARAMS, pAAD), p + 2 * u);
        assert_eq!(offset_of!(ffi::CK_GCM_PARAMS, ulAADLen), 2 * p + 2 * u);
        assert_eq!(offset_of!(ffi::CK_GCM_PARAMS, ulTagBits), 2 * p + 3 * u);

        assert_eq!(size_of::<ffi::CK_RSA_PKCS_PSS_PARAMS>(), 3 * u);
        assert_eq!(offset_of!(ffi::CK_RSA_PKCS_PSS_PARAMS, mgf), u);
        assert_eq!(offset_of!(ffi::CK_RSA_PKCS_PSS_PARAMS, sLen), 2 * u);

        assert_eq!(size_of::<ffi::CK_RSA_PKCS_OAEP_PARAMS>(), 4 * u + p);
        assert_eq!(offset_of!(ffi::CK_RSA_PKCS_OAEP_PARAMS, mgf), u);
        assert_eq!(offset_of!(ffi::CK_RSA_PKCS_OAEP_PARAMS, source), 2 * u);
        assert_eq!(offset_of!(ffi::CK_RSA_PKCS_OAEP_PARAMS, pSourceData), 3 * u);
        assert_eq!(
            offset_of!(ffi::CK_RSA_PKCS_OAEP_PARAMS, ulSourceDataLen),
            3 * u + p
        );

        // CK_BBOOL, then CK_ULONG aligned to its size, then the pointer.
        assert_eq!(size_of::<ffi::CK_EDDSA_PARAMS>(), 2 * u + p);
        assert_eq!(offset_of!(ffi::CK_EDDSA_PARAMS, phFlag), 0);
        assert_eq!(offset_of!(ffi::CK_EDDSA_PARAMS, ulContextDataLen), u);
        assert_eq!(offset_of!(ffi::CK_EDDSA_PARAMS, pContextData), 2 * u);
    }

    #[test]
    fn to_ck_points_at_the_parameter_storage() {
        let iv = [1u8; 12];
        let gcm = Mechanism::AesGcm(GcmParams::new(&iv, b"aad", 96).unwrap());
        let ck = gcm.to_ck();
        assert_eq!({ ck.mechanism }, ffi::CKM_AES_GCM);
        assert_eq!(
            { ck.ulParameterLen } as usize,
            size_of::<ffi::CK_GCM_PARAMS>()
        );
        let Mechanism::AesGcm(params) = &gcm else {
            unreachable!()
        };
        assert_eq!({ ck.pParameter }.cast_const(), params.ck.as_ptr().cast());
        let inner = params.ck.get();
        assert_eq!(inner.pIv.cast_const(), iv.as_ptr());

        let cbc = Mechanism::AesCbcPad { iv: [9; 16] };
        let ck = cbc.to_ck();
        assert_eq!({ ck.ulParameterLen }, 16);
        let Mechanism::AesCbcPad { iv } = &cbc else {
            unreachable!()
        };
        assert_eq!({ ck.pParameter }.cast_const(), iv.as_ptr().cast());

        let pss = Mechanism::Sha256RsaPkcsPss(PssParams::sha256());
        let ck = pss.to_ck();
        assert_eq!({ ck.mechanism }, ffi::CKM_SHA256_RSA_PKCS_PSS);
        assert_eq!(
            { ck.ulParameterLen } as usize,
            size_of::<ffi::CK_RSA_PKCS_PSS_PARAMS>()
        );

        for plain in [
            Mechanism::Sha256,
            Mechanism::Ecdsa,
            Mechanism::plain(0x1234),
        ] {
            let ck = plain.to_ck();
            assert!({ ck.pParameter }.is_null());
            assert_eq!({ ck.ulParameterLen }, 0);
        }
        assert_eq!(
            Mechanism::plain(0x1234).mechanism_type(),
            MechanismType(0x1234)
        );
    }

    #[test]
    fn a_clone_points_at_its_own_storage_and_the_same_borrowed_buffers() {
        let iv = [3u8; 12];
        let original = Mechanism::AesGcm(GcmParams::new(&iv, &[], 128).unwrap());
        let copy = original.clone();
        assert_ne!({ original.to_ck().pParameter }, { copy.to_ck().pParameter });
        let Mechanism::AesGcm(params) = &copy else {
            unreachable!()
        };
        assert_eq!(params.ck.get().pIv.cast_const(), iv.as_ptr());
    }

    #[test]
    fn debug_shows_lengths_not_pointers() {
        let text = format!(
            "{:?}",
            Mechanism::RsaPkcsOaep(
                OaepParams::new(MechanismType::SHA256, Mgf::MGF1_SHA256, Some(b"l")).unwrap()
            )
        );
        assert!(text.contains("CKM_SHA256"), "{text}");
        assert!(text.contains("CKG_MGF1_SHA256"), "{text}");
        assert!(text.contains("label_len: Some(1)"), "{text}");
    }
}
