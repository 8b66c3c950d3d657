//! Post-quantum parameters (PKCS #11 3.2): signature contexts and hedging for ML-DSA and
//! SLH-DSA, and the `CKP_*` parameter sets of ML-KEM, ML-DSA and SLH-DSA keys.

use core::fmt;

use super::{MechanismType, Parameter};
use crate::error::Result;
use crate::raw::params::Params;

/// Whether an ML-DSA / SLH-DSA signature is randomized (`CKH_*`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Hedge {
    /// `CKH_HEDGE_PREFERRED`: hedged (randomized) if the token can; the default.
    #[default]
    Preferred,
    /// `CKH_HEDGE_REQUIRED`: hedged, or the operation fails.
    Required,
    /// `CKH_DETERMINISTIC_REQUIRED`: deterministic, or the operation fails.
    DeterministicRequired,
}

impl Hedge {
    /// The raw value.
    pub const fn raw(self) -> ffi::CK_HEDGE_TYPE {
        match self {
            Hedge::Preferred => ffi::CKH_HEDGE_PREFERRED,
            Hedge::Required => ffi::CKH_HEDGE_REQUIRED,
            Hedge::DeterministicRequired => ffi::CKH_DETERMINISTIC_REQUIRED,
        }
    }
}

/// The additional signing context of ML-DSA and SLH-DSA (`CK_SIGN_ADDITIONAL_CONTEXT`):
/// the hedge variant and the context string (at most 255 bytes by FIPS 204 / 205; the
/// token checks), borrowed for `'a`.
#[derive(Clone)]
pub struct SignContext<'a> {
    hedge: Hedge,
    context: &'a [u8],
    ck: Params<'a, ffi::CK_SIGN_ADDITIONAL_CONTEXT>,
}

impl<'a> SignContext<'a> {
    /// A context with `hedge` and `context` (may be empty).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if the context's length does
    /// not fit in a `CK_ULONG`.
    pub fn new(hedge: Hedge, context: &'a [u8]) -> Result<SignContext<'a>> {
        Ok(SignContext {
            hedge,
            context,
            ck: Params::sign_context(hedge.raw(), context)?,
        })
    }

    /// [`Hedge::Preferred`] with `context`.
    ///
    /// # Errors
    /// As [`SignContext::new`].
    pub fn context(context: &'a [u8]) -> Result<SignContext<'a>> {
        SignContext::new(Hedge::Preferred, context)
    }

    /// The hedge variant.
    pub fn hedge(&self) -> Hedge {
        self.hedge
    }

    /// The context string.
    pub fn context_bytes(&self) -> &'a [u8] {
        self.context
    }
}

impl fmt::Debug for SignContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignContext")
            .field("hedge", &self.hedge)
            .field("context_len", &self.context.len())
            .finish()
    }
}

impl Parameter for SignContext<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// The context of the pre-hash variants HashML-DSA and HashSLH-DSA over a digest the
/// caller computed (`CK_HASH_SIGN_ADDITIONAL_CONTEXT`): hedge variant, context string and
/// the hash that was applied, borrowed for `'a`.
#[derive(Clone)]
pub struct HashSignContext<'a> {
    hedge: Hedge,
    context: &'a [u8],
    hash: MechanismType,
    ck: Params<'a, ffi::CK_HASH_SIGN_ADDITIONAL_CONTEXT>,
}

impl<'a> HashSignContext<'a> {
    /// A context for a digest made with `hash` (e.g. [`MechanismType::SHA256`]), with
    /// `hedge` and `context` (may be empty).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if the context's length does
    /// not fit in a `CK_ULONG`.
    pub fn new(
        hash: MechanismType,
        hedge: Hedge,
        context: &'a [u8],
    ) -> Result<HashSignContext<'a>> {
        Ok(HashSignContext {
            hedge,
            context,
            hash,
            ck: Params::hash_sign_context(hedge.raw(), context, hash.0)?,
        })
    }

    /// The hedge variant.
    pub fn hedge(&self) -> Hedge {
        self.hedge
    }

    /// The context string.
    pub fn context_bytes(&self) -> &'a [u8] {
        self.context
    }

    /// The hash the caller applied.
    pub fn hash(&self) -> MechanismType {
        self.hash
    }
}

impl fmt::Debug for HashSignContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HashSignContext")
            .field("hash", &self.hash)
            .field("hedge", &self.hedge)
            .field("context_len", &self.context.len())
            .finish()
    }
}

impl Parameter for HashSignContext<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// A post-quantum key's parameter set (`CKA_PARAMETER_SET` values `CKP_ML_KEM_*`,
/// `CKP_ML_DSA_*`, `CKP_SLH_DSA_*`).
///
/// ```
/// use pkcs11::{Attribute, ParameterSet};
///
/// let public_template = [Attribute::ParameterSet(ParameterSet::ML_DSA_65.raw())];
/// # let _ = public_template;
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParameterSet(pub ffi::CK_ULONG);

impl ParameterSet {
    /// `CKP_ML_KEM_512`.
    pub const ML_KEM_512: ParameterSet = ParameterSet(ffi::CKP_ML_KEM_512);
    /// `CKP_ML_KEM_768`.
    pub const ML_KEM_768: ParameterSet = ParameterSet(ffi::CKP_ML_KEM_768);
    /// `CKP_ML_KEM_1024`.
    pub const ML_KEM_1024: ParameterSet = ParameterSet(ffi::CKP_ML_KEM_1024);
    /// `CKP_ML_DSA_44`.
    pub const ML_DSA_44: ParameterSet = ParameterSet(ffi::CKP_ML_DSA_44);
    /// `CKP_ML_DSA_65`.
    pub const ML_DSA_65: ParameterSet = ParameterSet(ffi::CKP_ML_DSA_65);
    /// `CKP_ML_DSA_87`.
    pub const ML_DSA_87: ParameterSet = ParameterSet(ffi::CKP_ML_DSA_87);
    /// `CKP_SLH_DSA_SHA2_128S`.
    pub const SLH_DSA_SHA2_128S: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHA2_128S);
    /// `CKP_SLH_DSA_SHAKE_128S`.
    pub const SLH_DSA_SHAKE_128S: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHAKE_128S);
    /// `CKP_SLH_DSA_SHA2_128F`.
    pub const SLH_DSA_SHA2_128F: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHA2_128F);
    /// `CKP_SLH_DSA_SHAKE_128F`.
    pub const SLH_DSA_SHAKE_128F: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHAKE_128F);
    /// `CKP_SLH_DSA_SHA2_192S`.
    pub const SLH_DSA_SHA2_192S: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHA2_192S);
    /// `CKP_SLH_DSA_SHAKE_192S`.
    pub const SLH_DSA_SHAKE_192S: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHAKE_192S);
    /// `CKP_SLH_DSA_SHA2_192F`.
    pub const SLH_DSA_SHA2_192F: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHA2_192F);
    /// `CKP_SLH_DSA_SHAKE_192F`.
    pub const SLH_DSA_SHAKE_192F: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHAKE_192F);
    /// `CKP_SLH_DSA_SHA2_256S`.
    pub const SLH_DSA_SHA2_256S: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHA2_256S);
    /// `CKP_SLH_DSA_SHAKE_256S`.
    pub const SLH_DSA_SHAKE_256S: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHAKE_256S);
    /// `CKP_SLH_DSA_SHA2_256F`.
    pub const SLH_DSA_SHA2_256F: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHA2_256F);
    /// `CKP_SLH_DSA_SHAKE_256F`.
    pub const SLH_DSA_SHAKE_256F: ParameterSet = ParameterSet(ffi::CKP_SLH_DSA_SHAKE_256F);

    /// The raw value, for `Attribute::ParameterSet`.
    pub const fn raw(self) -> ffi::CK_ULONG {
        self.0
    }
}

impl From<ParameterSet> for ffi::CK_ULONG {
    fn from(set: ParameterSet) -> ffi::CK_ULONG {
        set.0
    }
}

impl fmt::Debug for ParameterSet {
    /// The value: the `CKP_*` names of ML-KEM, ML-DSA and SLH-DSA share values, so the
    /// key type decides which one it is.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ParameterSet(0x{:X})", self.0)
    }
}
