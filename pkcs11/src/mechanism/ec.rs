//! Elliptic-curve parameters: ECDH key derivation with its KDFs, EdDSA and XEdDSA.

use core::fmt;

use super::{MechanismType, Parameter};
use crate::error::Result;
use crate::raw::params::Params;

/// The key derivation function applied to an ECDH shared secret (`CKD_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Kdf(pub ffi::CK_EC_KDF_TYPE);

impl Kdf {
    /// `CKD_NULL`: the raw shared secret (truncated to the derived key's length).
    pub const NULL: Kdf = Kdf(ffi::CKD_NULL);
    /// `CKD_SHA1_KDF` (ANSI X9.63 with SHA-1).
    pub const SHA1: Kdf = Kdf(ffi::CKD_SHA1_KDF);
    /// `CKD_SHA224_KDF`.
    pub const SHA224: Kdf = Kdf(ffi::CKD_SHA224_KDF);
    /// `CKD_SHA256_KDF`.
    pub const SHA256: Kdf = Kdf(ffi::CKD_SHA256_KDF);
    /// `CKD_SHA384_KDF`.
    pub const SHA384: Kdf = Kdf(ffi::CKD_SHA384_KDF);
    /// `CKD_SHA512_KDF`.
    pub const SHA512: Kdf = Kdf(ffi::CKD_SHA512_KDF);
    /// `CKD_SHA3_224_KDF`.
    pub const SHA3_224: Kdf = Kdf(ffi::CKD_SHA3_224_KDF);
    /// `CKD_SHA3_256_KDF`.
    pub const SHA3_256: Kdf = Kdf(ffi::CKD_SHA3_256_KDF);
    /// `CKD_SHA3_384_KDF`.
    pub const SHA3_384: Kdf = Kdf(ffi::CKD_SHA3_384_KDF);
    /// `CKD_SHA3_512_KDF`.
    pub const SHA3_512: Kdf = Kdf(ffi::CKD_SHA3_512_KDF);
    /// `CKD_SHA1_KDF_SP800` (NIST SP 800-56A single-step KDF with SHA-1).
    pub const SHA1_SP800: Kdf = Kdf(ffi::CKD_SHA1_KDF_SP800);
    /// `CKD_SHA224_KDF_SP800`.
    pub const SHA224_SP800: Kdf = Kdf(ffi::CKD_SHA224_KDF_SP800);
    /// `CKD_SHA256_KDF_SP800`.
    pub const SHA256_SP800: Kdf = Kdf(ffi::CKD_SHA256_KDF_SP800);
    /// `CKD_SHA384_KDF_SP800`.
    pub const SHA384_SP800: Kdf = Kdf(ffi::CKD_SHA384_KDF_SP800);
    /// `CKD_SHA512_KDF_SP800`.
    pub const SHA512_SP800: Kdf = Kdf(ffi::CKD_SHA512_KDF_SP800);
    /// `CKD_SHA3_224_KDF_SP800`.
    pub const SHA3_224_SP800: Kdf = Kdf(ffi::CKD_SHA3_224_KDF_SP800);
    /// `CKD_SHA3_256_KDF_SP800`.
    pub const SHA3_256_SP800: Kdf = Kdf(ffi::CKD_SHA3_256_KDF_SP800);
    /// `CKD_SHA3_384_KDF_SP800`.
    pub const SHA3_384_SP800: Kdf = Kdf(ffi::CKD_SHA3_384_KDF_SP800);
    /// `CKD_SHA3_512_KDF_SP800`.
    pub const SHA3_512_SP800: Kdf = Kdf(ffi::CKD_SHA3_512_KDF_SP800);
    /// `CKD_BLAKE2B_160_KDF`.
    pub const BLAKE2B_160: Kdf = Kdf(ffi::CKD_BLAKE2B_160_KDF);
    /// `CKD_BLAKE2B_256_KDF`.
    pub const BLAKE2B_256: Kdf = Kdf(ffi::CKD_BLAKE2B_256_KDF);
    /// `CKD_BLAKE2B_384_KDF`.
    pub const BLAKE2B_384: Kdf = Kdf(ffi::CKD_BLAKE2B_384_KDF);
    /// `CKD_BLAKE2B_512_KDF`.
    pub const BLAKE2B_512: Kdf = Kdf(ffi::CKD_BLAKE2B_512_KDF);

    /// The raw value.
    pub const fn raw(self) -> ffi::CK_EC_KDF_TYPE {
        self.0
    }
}

impl fmt::Debug for Kdf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match ffi::CKD_NAMES.iter().find(|(value, _)| *value == self.0) {
            Some((_, name)) => f.write_str(name),
            None => write!(f, "CKD(0x{:08X})", self.0),
        }
    }
}

/// ECDH parameters (`CK_ECDH1_DERIVE_PARAMS`) for `CKM_ECDH1_DERIVE` and
/// `CKM_ECDH1_COFACTOR_DERIVE`: the KDF, optional shared data for it, and the other
/// party's public value, borrowed for `'a`.
///
/// The public value is the other party's EC point: the raw octet string (`04 || X || Y`
/// for Weierstrass curves, the 32 / 56 bytes of an X25519 / X448 key) — some tokens also
/// accept it DER-wrapped as an OCTET STRING.
#[derive(Clone)]
pub struct EcdhParams<'a> {
    kdf: Kdf,
    shared_data: &'a [u8],
    public_data: &'a [u8],
    ck: Params<'a, ffi::CK_ECDH1_DERIVE_PARAMS>,
}

impl<'a> EcdhParams<'a> {
    /// Parameters with `kdf`, `shared_data` (may be empty; must be empty with
    /// [`Kdf::NULL`]) and the other party's `public_data`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if a length does not fit in a
    /// `CK_ULONG`.
    pub fn new(kdf: Kdf, shared_data: &'a [u8], public_data: &'a [u8]) -> Result<EcdhParams<'a>> {
        Ok(EcdhParams {
            kdf,
            shared_data,
            public_data,
            ck: Params::ecdh1(kdf.0, shared_data, public_data)?,
        })
    }

    /// The raw shared secret ([`Kdf::NULL`], no shared data) with `public_data`.
    ///
    /// # Errors
    /// As [`EcdhParams::new`].
    pub fn raw_secret(public_data: &'a [u8]) -> Result<EcdhParams<'a>> {
        EcdhParams::new(Kdf::NULL, &[], public_data)
    }

    /// The KDF.
    pub fn kdf(&self) -> Kdf {
        self.kdf
    }

    /// The shared data given to the KDF.
    pub fn shared_data(&self) -> &'a [u8] {
        self.shared_data
    }

    /// The other party's public value.
    pub fn public_data(&self) -> &'a [u8] {
        self.public_data
    }
}

impl fmt::Debug for EcdhParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EcdhParams")
            .field("kdf", &self.kdf)
            .field("shared_data_len", &self.shared_data.len())
            .field("public_data_len", &self.public_data.len())
            .finish()
    }
}

impl Parameter for EcdhParams<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// EdDSA parameters (`CK_EDDSA_PARAMS`): pre-hash flag (Ed25519ph / Ed448ph) and context
/// data (Ed25519ctx, Ed448), borrowed for `'a`.
#[derive(Clone)]
pub struct EddsaParams<'a> {
    prehash: bool,
    context: &'a [u8],
    pub(super) ck: Params<'a, ffi::CK_EDDSA_PARAMS>,
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

impl Parameter for EddsaParams<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// XEdDSA parameters (`CK_XEDDSA_PARAMS`): the hash (a `CKM_*` digest such as
/// [`MechanismType::SHA512`]). Holds no pointer.
#[derive(Clone, Copy)]
pub struct XeddsaParams {
    ck: ffi::CK_XEDDSA_PARAMS,
}

impl XeddsaParams {
    /// Parameters with `hash`.
    pub const fn new(hash: MechanismType) -> XeddsaParams {
        XeddsaParams {
            ck: ffi::CK_XEDDSA_PARAMS { hash: hash.0 },
        }
    }

    /// The hash.
    pub fn hash(&self) -> MechanismType {
        MechanismType(self.ck.hash)
    }
}

impl fmt::Debug for XeddsaParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("XeddsaParams")
            .field("hash", &self.hash())
            .finish()
    }
}

impl Parameter for XeddsaParams {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(core::ptr::from_ref(&self.ck))
    }
}
