//! Mechanisms (`CKM_*`) and their parameters.
//!
//! [`Mechanism`] names the PKCS #11 v3.2 mechanisms a safe caller needs — AES (ECB, CBC,
//! CBC-PAD, CTR, GCM, CCM, CTS, OFB, CFB, key wrap, CMAC, XCBC-MAC), ChaCha20 and
//! ChaCha20-Poly1305, DES3, RSA (PKCS #1 v1.5, X.509, PSS, OAEP and every hash-and-sign
//! combination), ECDSA, ECDH, EdDSA, XEdDSA, the SHA-1 / SHA-2 / SHA-3 digests and
//! HMACs, HKDF, the SP 800-108 KDFs, PBKDF2, the concatenate / XOR / extract / encrypt
//! derivations, ML-KEM, ML-DSA, HashML-DSA, SLH-DSA and HashSLH-DSA, and the key
//! generation mechanisms — with [`Mechanism::Raw`] for any other standard or vendor
//! mechanism. [`MechanismType`] has a constant for every `CKM_*` name.
//!
//! Parameters are the generated `pkcs11-sys` structs (`CK_GCM_PARAMS`, `CK_HKDF_PARAMS`,
//! `CK_SP800_108_KDF_PARAMS`, ...), kept inside the `Mechanism` value; their pointers
//! borrow the caller's buffers for `'a` (nested arrays, such as the SP 800-108 data
//! parameters, live in the parameter value itself). A multi-step operation borrows the
//! `Mechanism` for its whole duration, so the module can read the parameters until the
//! operation ends (RELIABILITY rules 27 and 28). Parameter types that hold such pointers
//! are not `Copy`, and their `Debug` shows lengths, never the bytes.
//!
//! ```
//! use pkcs11::{GcmParams, HkdfParams, HkdfSalt, Mechanism, MechanismType, PssParams};
//!
//! let iv = [0u8; 12];
//! let gcm = Mechanism::AesGcm(GcmParams::new(&iv, b"header", 128)?);
//! assert_eq!(gcm.mechanism_type().name(), Some("CKM_AES_GCM"));
//! let pss = Mechanism::Sha256RsaPkcsPss(PssParams::sha256());
//! assert_eq!(pss.mechanism_type(), MechanismType::SHA256_RSA_PKCS_PSS);
//! let hkdf = Mechanism::HkdfDerive(HkdfParams::extract_and_expand(
//!     MechanismType::SHA256,
//!     HkdfSalt::Data(b"salt"),
//!     b"info",
//! )?);
//! assert_eq!(hkdf.mechanism_type(), MechanismType::HKDF_DERIVE);
//! # Ok::<(), pkcs11::Error>(())
//! ```

use core::fmt;

use crate::object::ObjectHandle;

mod aes;
mod ec;
mod kdf;
mod pqc;
mod rsa;
mod types;

pub use aes::{AesCtrParams, CcmParams, ChaCha20Params, ChaCha20Poly1305Params, GcmParams};
pub use ec::{EcdhParams, EddsaParams, Kdf, XeddsaParams};
pub use kdf::{
    AesCbcEncryptDataParams, CounterFormat, Des3CbcEncryptDataParams, DkmLengthFormat,
    DkmLengthMethod, HkdfParams, HkdfSalt, KeyDerivationData, Pbkdf2Params, Pbkdf2Prf,
    PrfDataParam, Sp800108FeedbackParams, Sp800108Params,
};
pub use pqc::{HashSignContext, Hedge, ParameterSet, SignContext};
pub use rsa::{Mgf, OaepParams, PssParams};

/// A mechanism type (`CKM_*`): standard, vendor-defined or unknown, kept as it is.
///
/// Every standard name has a constant: `MechanismType::AES_GCM` is `CKM_AES_GCM`
/// (`MechanismType::SHA1` is kept as another name for `CKM_SHA_1`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MechanismType(pub ffi::CK_MECHANISM_TYPE);

impl MechanismType {
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

    /// The output length in bytes of a digest mechanism (SHA-1, SHA-2, SHA-3), or `None`
    /// for any other value.
    pub const fn digest_len(self) -> Option<usize> {
        Some(match self.0 {
            ffi::CKM_SHA_1 => 20,
            ffi::CKM_SHA224 | ffi::CKM_SHA512_224 | ffi::CKM_SHA3_224 => 28,
            ffi::CKM_SHA256 | ffi::CKM_SHA512_256 | ffi::CKM_SHA3_256 => 32,
            ffi::CKM_SHA384 | ffi::CKM_SHA3_384 => 48,
            ffi::CKM_SHA512 | ffi::CKM_SHA3_512 => 64,
            _ => return None,
        })
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

/// The `pParameter` / `ulParameterLen` of a parameter kept in a [`Mechanism`]: a pointer
/// into the value (or the buffers it borrows), valid while the value is neither moved nor
/// dropped.
pub(crate) trait Parameter {
    /// The pointer and length of the parameter.
    fn raw_param(&self) -> (*const core::ffi::c_void, usize);
}

/// No parameter.
const NO_PARAM: (*const core::ffi::c_void, usize) = (core::ptr::null(), 0);

/// The `pParameter` / `ulParameterLen` of a parameter struct.
pub(crate) fn struct_param<T>(pointer: *const T) -> (*const core::ffi::c_void, usize) {
    (pointer.cast(), core::mem::size_of::<T>())
}

impl<const N: usize> Parameter for [u8; N] {
    /// An IV kept inline.
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        (self.as_ptr().cast(), N)
    }
}

impl Parameter for ffi::CK_ULONG {
    /// `CK_MAC_GENERAL_PARAMS`, `CK_EXTRACT_PARAMS`: one `CK_ULONG`.
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        struct_param(core::ptr::from_ref(self))
    }
}

impl Parameter for ObjectHandle {
    /// A `CK_OBJECT_HANDLE` (`CKM_CONCATENATE_BASE_AND_KEY`).
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        struct_param(core::ptr::from_ref(&self.0))
    }
}

impl<P: Parameter> Parameter for Option<P> {
    /// An optional parameter: NULL and 0 for `None`.
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        self.as_ref().map_or(NO_PARAM, Parameter::raw_param)
    }
}

/// The parameter of one variant (an inner `match`, so that the outer one can use the
/// same `Variant { .. }` pattern for every shape).
macro_rules! variant_param {
    ($self:ident, $name:ident) => {
        NO_PARAM
    };
    ($self:ident, $name:ident ($ty:ty)) => {
        match $self {
            Mechanism::$name(param) => Parameter::raw_param(param),
            _ => NO_PARAM,
        }
    };
    ($self:ident, $name:ident { $field:ident : $fty:ty }) => {
        match $self {
            Mechanism::$name { $field } => Parameter::raw_param($field),
            _ => NO_PARAM,
        }
    };
}

/// Declares [`Mechanism`] from a table: each variant with its docs, its shape (no
/// parameter, one tuple field, or one named field) and its `CKM_*` constant.
macro_rules! mechanisms {
    (
        $lt:lifetime;
        $(
            $(#[$meta:meta])*
            $name:ident $( ( $ty:ty ) )? $( { $(#[$fmeta:meta])* $field:ident : $fty:ty } )? = $ck:ident,
        )*
    ) => {
        /// A mechanism with its parameters, ready to pass to an `*Init`, key-generation or
        /// derivation call.
        ///
        /// Parameters live inside the value (or borrow the caller's buffers for `'a`), so a
        /// `CK_MECHANISM` built from it stays valid as long as the `Mechanism` does — the
        /// whole operation for multi-step operations (RELIABILITY rule 28). `Mechanism` is
        /// `Send + Sync` and `Clone`, never `Copy`. Variants without parameters send a NULL
        /// parameter; [`Mechanism::Raw`] reaches anything else.
        #[derive(Clone, Debug)]
        #[non_exhaustive]
        pub enum Mechanism<$lt> {
            $(
                $(#[$meta])*
                #[doc = concat!("\n\n`", stringify!($ck), "`.")]
                $name $( ($ty) )? $( { $(#[$fmeta])* $field: $fty } )?,
            )*
            /// Any mechanism, standard or vendor, with raw parameter bytes (empty for none).
            ///
            /// The bytes are passed as they are; when they encode a C struct, they must be
            /// laid out (and aligned) as the module's C compiler lays out that struct.
            Raw {
                /// The mechanism type.
                mechanism: MechanismType,
                /// The parameter bytes, passed as they are.
                parameter: &$lt [u8],
            },
        }

        impl Mechanism<'_> {
            /// The mechanism type.
            #[inline]
            pub fn mechanism_type(&self) -> MechanismType {
                MechanismType(match self {
                    $( Mechanism::$name { .. } => ffi::$ck, )*
                    Mechanism::Raw { mechanism, .. } => mechanism.raw(),
                })
            }

            /// The mechanism type with the parameter pointer and length, from one
            /// `match` (one jump on the hot path of every `*Init`).
            #[inline]
            fn raw_parts(&self) -> (ffi::CK_MECHANISM_TYPE, *const core::ffi::c_void, usize) {
                match self {
                    $(
                        Mechanism::$name { .. } => {
                            let (pointer, len) =
                                variant_param!(self, $name $( ($ty) )? $( { $field: $fty } )?);
                            (ffi::$ck, pointer, len)
                        }
                    )*
                    Mechanism::Raw { mechanism, parameter } if !parameter.is_empty() => {
                        (mechanism.raw(), parameter.as_ptr().cast(), parameter.len())
                    }
                    Mechanism::Raw { mechanism, .. } => (mechanism.raw(), NO_PARAM.0, NO_PARAM.1),
                }
            }
        }
    };
}

mechanisms! {
    'a;

    // ---- AES ----
    /// AES key generation (the key size goes in the template as `CKA_VALUE_LEN`).
    AesKeyGen = CKM_AES_KEY_GEN,
    /// AES in ECB mode (no padding; whole blocks only).
    AesEcb = CKM_AES_ECB,
    /// AES in CBC mode without padding (whole blocks only).
    AesCbc {
        /// The initialization vector.
        iv: [u8; 16]
    } = CKM_AES_CBC,
    /// AES-CBC with PKCS #7 padding, with its 16-byte IV.
    AesCbcPad {
        /// The initialization vector.
        iv: [u8; 16]
    } = CKM_AES_CBC_PAD,
    /// AES in counter mode.
    AesCtr(AesCtrParams) = CKM_AES_CTR,
    /// AES-GCM authenticated encryption (the tag follows the ciphertext).
    AesGcm(GcmParams<'a>) = CKM_AES_GCM,
    /// AES-CCM authenticated encryption (the MAC follows the ciphertext).
    AesCcm(CcmParams<'a>) = CKM_AES_CCM,
    /// AES-CBC with ciphertext stealing (any length of at least one block). PKCS #11 cites
    /// the SP 800-38A addendum without choosing a variant; Kryoptic, like NSS, uses CS1.
    AesCts {
        /// The initialization vector.
        iv: [u8; 16]
    } = CKM_AES_CTS,
    /// AES in OFB mode.
    AesOfb {
        /// The initialization vector.
        iv: [u8; 16]
    } = CKM_AES_OFB,
    /// AES in 1-bit CFB mode.
    AesCfb1 {
        /// The initialization vector.
        iv: [u8; 16]
    } = CKM_AES_CFB1,
    /// AES in 8-bit CFB mode.
    AesCfb8 {
        /// The initialization vector.
        iv: [u8; 16]
    } = CKM_AES_CFB8,
    /// AES in 64-bit CFB mode.
    AesCfb64 {
        /// The initialization vector.
        iv: [u8; 16]
    } = CKM_AES_CFB64,
    /// AES in 128-bit CFB mode.
    AesCfb128 {
        /// The initialization vector.
        iv: [u8; 16]
    } = CKM_AES_CFB128,
    /// AES key wrap (RFC 3394) with the default IV.
    AesKeyWrap = CKM_AES_KEY_WRAP,
    /// AES key wrap with padding, default IV (tokens implement it as RFC 5649, for which
    /// PKCS #11 3.0 added [`Mechanism::AesKeyWrapKwp`]).
    AesKeyWrapPad = CKM_AES_KEY_WRAP_PAD,
    /// AES key wrap with padding (RFC 5649, KWP) with the default IV.
    AesKeyWrapKwp = CKM_AES_KEY_WRAP_KWP,
    /// AES key wrap (RFC 3394) of PKCS #7-padded input (PKCS #11 3.0), default IV.
    AesKeyWrapPkcs7 = CKM_AES_KEY_WRAP_PKCS7,
    /// AES-CMAC with a full 16-byte MAC.
    AesCmac = CKM_AES_CMAC,
    /// AES-CMAC with a MAC of the given length in bytes (`CK_MAC_GENERAL_PARAMS`).
    AesCmacGeneral(ffi::CK_ULONG) = CKM_AES_CMAC_GENERAL,
    /// AES-XCBC-MAC (RFC 3566).
    AesXcbcMac = CKM_AES_XCBC_MAC,
    /// AES-XCBC-MAC-96 (the MAC truncated to 12 bytes).
    AesXcbcMac96 = CKM_AES_XCBC_MAC_96,
    /// AES CBC-MAC with a half-block MAC.
    AesMac = CKM_AES_MAC,
    /// AES CBC-MAC with a MAC of the given length in bytes (`CK_MAC_GENERAL_PARAMS`).
    AesMacGeneral(ffi::CK_ULONG) = CKM_AES_MAC_GENERAL,
    /// Key derivation by AES-ECB encryption of the data under the base key.
    AesEcbEncryptData(KeyDerivationData<'a>) = CKM_AES_ECB_ENCRYPT_DATA,
    /// Key derivation by AES-CBC encryption of the data under the base key.
    AesCbcEncryptData(AesCbcEncryptDataParams<'a>) = CKM_AES_CBC_ENCRYPT_DATA,

    // ---- ChaCha20 ----
    /// ChaCha20 key generation (32-byte keys).
    ChaCha20KeyGen = CKM_CHACHA20_KEY_GEN,
    /// The ChaCha20 stream cipher.
    ChaCha20(ChaCha20Params<'a>) = CKM_CHACHA20,
    /// ChaCha20-Poly1305 authenticated encryption (RFC 8439; the tag follows the
    /// ciphertext).
    ChaCha20Poly1305(ChaCha20Poly1305Params<'a>) = CKM_CHACHA20_POLY1305,

    // ---- DES3 (legacy) ----
    /// Triple-DES key generation.
    Des3KeyGen = CKM_DES3_KEY_GEN,
    /// Triple-DES in ECB mode.
    Des3Ecb = CKM_DES3_ECB,
    /// Triple-DES in CBC mode without padding.
    Des3Cbc {
        /// The initialization vector.
        iv: [u8; 8]
    } = CKM_DES3_CBC,
    /// Triple-DES in CBC mode with PKCS #7 padding.
    Des3CbcPad {
        /// The initialization vector.
        iv: [u8; 8]
    } = CKM_DES3_CBC_PAD,
    /// Key derivation by triple-DES ECB encryption of the data under the base key.
    Des3EcbEncryptData(KeyDerivationData<'a>) = CKM_DES3_ECB_ENCRYPT_DATA,
    /// Key derivation by triple-DES CBC encryption of the data under the base key.
    Des3CbcEncryptData(Des3CbcEncryptDataParams<'a>) = CKM_DES3_CBC_ENCRYPT_DATA,

    // ---- RSA ----
    /// RSA key pair generation (`CKA_MODULUS_BITS`, `CKA_PUBLIC_EXPONENT` in the public
    /// template).
    RsaPkcsKeyPairGen = CKM_RSA_PKCS_KEY_PAIR_GEN,
    /// RSA PKCS #1 v1.5 (signature over a caller-built `DigestInfo`, or encryption).
    RsaPkcs = CKM_RSA_PKCS,
    /// Raw RSA (X.509): the bare RSA primitive, no padding.
    RsaX509 = CKM_RSA_X_509,
    /// RSA-PSS over a caller-computed hash.
    RsaPkcsPss(PssParams) = CKM_RSA_PKCS_PSS,
    /// RSA-OAEP encryption.
    RsaPkcsOaep(OaepParams<'a>) = CKM_RSA_PKCS_OAEP,
    /// RSA PKCS #1 v1.5 signature with SHA-1.
    Sha1RsaPkcs = CKM_SHA1_RSA_PKCS,
    /// RSA PKCS #1 v1.5 signature with SHA-224.
    Sha224RsaPkcs = CKM_SHA224_RSA_PKCS,
    /// RSA PKCS #1 v1.5 signature with SHA-256.
    Sha256RsaPkcs = CKM_SHA256_RSA_PKCS,
    /// RSA PKCS #1 v1.5 signature with SHA-384.
    Sha384RsaPkcs = CKM_SHA384_RSA_PKCS,
    /// RSA PKCS #1 v1.5 signature with SHA-512.
    Sha512RsaPkcs = CKM_SHA512_RSA_PKCS,
    /// RSA PKCS #1 v1.5 signature with SHA3-224.
    Sha3_224RsaPkcs = CKM_SHA3_224_RSA_PKCS,
    /// RSA PKCS #1 v1.5 signature with SHA3-256.
    Sha3_256RsaPkcs = CKM_SHA3_256_RSA_PKCS,
    /// RSA PKCS #1 v1.5 signature with SHA3-384.
    Sha3_384RsaPkcs = CKM_SHA3_384_RSA_PKCS,
    /// RSA PKCS #1 v1.5 signature with SHA3-512.
    Sha3_512RsaPkcs = CKM_SHA3_512_RSA_PKCS,
    /// RSA-PSS with SHA-1 hashing by the token (use [`PssParams::sha1`]).
    Sha1RsaPkcsPss(PssParams) = CKM_SHA1_RSA_PKCS_PSS,
    /// RSA-PSS with SHA-224 hashing by the token (use [`PssParams::sha224`]).
    Sha224RsaPkcsPss(PssParams) = CKM_SHA224_RSA_PKCS_PSS,
    /// RSA-PSS with SHA-256 hashing by the token (use [`PssParams::sha256`]).
    Sha256RsaPkcsPss(PssParams) = CKM_SHA256_RSA_PKCS_PSS,
    /// RSA-PSS with SHA-384 hashing by the token (use [`PssParams::sha384`]).
    Sha384RsaPkcsPss(PssParams) = CKM_SHA384_RSA_PKCS_PSS,
    /// RSA-PSS with SHA-512 hashing by the token (use [`PssParams::sha512`]).
    Sha512RsaPkcsPss(PssParams) = CKM_SHA512_RSA_PKCS_PSS,
    /// RSA-PSS with SHA3-224 hashing by the token (use [`PssParams::for_hash`]).
    Sha3_224RsaPkcsPss(PssParams) = CKM_SHA3_224_RSA_PKCS_PSS,
    /// RSA-PSS with SHA3-256 hashing by the token (use [`PssParams::for_hash`]).
    Sha3_256RsaPkcsPss(PssParams) = CKM_SHA3_256_RSA_PKCS_PSS,
    /// RSA-PSS with SHA3-384 hashing by the token (use [`PssParams::for_hash`]).
    Sha3_384RsaPkcsPss(PssParams) = CKM_SHA3_384_RSA_PKCS_PSS,
    /// RSA-PSS with SHA3-512 hashing by the token (use [`PssParams::for_hash`]).
    Sha3_512RsaPkcsPss(PssParams) = CKM_SHA3_512_RSA_PKCS_PSS,

    // ---- Elliptic curves ----
    /// EC (Weierstrass) key pair generation (the curve goes in the public template as
    /// `CKA_EC_PARAMS`).
    EcKeyPairGen = CKM_EC_KEY_PAIR_GEN,
    /// ECDSA over data the caller has already hashed.
    Ecdsa = CKM_ECDSA,
    /// ECDSA with SHA-1 hashing by the token.
    EcdsaSha1 = CKM_ECDSA_SHA1,
    /// ECDSA with SHA-224 hashing by the token.
    EcdsaSha224 = CKM_ECDSA_SHA224,
    /// ECDSA with SHA-256 hashing by the token.
    EcdsaSha256 = CKM_ECDSA_SHA256,
    /// ECDSA with SHA-384 hashing by the token.
    EcdsaSha384 = CKM_ECDSA_SHA384,
    /// ECDSA with SHA-512 hashing by the token.
    EcdsaSha512 = CKM_ECDSA_SHA512,
    /// ECDSA with SHA3-224 hashing by the token.
    EcdsaSha3_224 = CKM_ECDSA_SHA3_224,
    /// ECDSA with SHA3-256 hashing by the token.
    EcdsaSha3_256 = CKM_ECDSA_SHA3_256,
    /// ECDSA with SHA3-384 hashing by the token.
    EcdsaSha3_384 = CKM_ECDSA_SHA3_384,
    /// ECDSA with SHA3-512 hashing by the token.
    EcdsaSha3_512 = CKM_ECDSA_SHA3_512,
    /// ECDH key derivation (the other party's public value in the parameters).
    Ecdh1Derive(EcdhParams<'a>) = CKM_ECDH1_DERIVE,
    /// ECDH key derivation with cofactor multiplication.
    Ecdh1CofactorDerive(EcdhParams<'a>) = CKM_ECDH1_COFACTOR_DERIVE,
    /// Edwards-curve key pair generation (Ed25519, Ed448: the curve in `CKA_EC_PARAMS`).
    EcEdwardsKeyPairGen = CKM_EC_EDWARDS_KEY_PAIR_GEN,
    /// Montgomery-curve key pair generation (X25519, X448: the curve in
    /// `CKA_EC_PARAMS`).
    EcMontgomeryKeyPairGen = CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
    /// EdDSA without parameters: pure Ed25519 (or Ed448 without context).
    Eddsa = CKM_EDDSA,
    /// EdDSA with `CK_EDDSA_PARAMS` (pre-hash, context): Ed25519ctx, Ed25519ph, Ed448,
    /// Ed448ph.
    EddsaWith(EddsaParams<'a>) = CKM_EDDSA,
    /// XEdDSA signatures with a Montgomery key.
    Xeddsa(XeddsaParams) = CKM_XEDDSA,

    // ---- Digests ----
    /// SHA-1 digest.
    Sha1 = CKM_SHA_1,
    /// SHA-224 digest.
    Sha224 = CKM_SHA224,
    /// SHA-256 digest.
    Sha256 = CKM_SHA256,
    /// SHA-384 digest.
    Sha384 = CKM_SHA384,
    /// SHA-512 digest.
    Sha512 = CKM_SHA512,
    /// SHA-512/224 digest.
    Sha512_224 = CKM_SHA512_224,
    /// SHA-512/256 digest.
    Sha512_256 = CKM_SHA512_256,
    /// SHA3-224 digest.
    Sha3_224 = CKM_SHA3_224,
    /// SHA3-256 digest.
    Sha3_256 = CKM_SHA3_256,
    /// SHA3-384 digest.
    Sha3_384 = CKM_SHA3_384,
    /// SHA3-512 digest.
    Sha3_512 = CKM_SHA3_512,

    // ---- HMACs ----
    /// HMAC-SHA-1 (sign / verify with a secret key).
    Sha1Hmac = CKM_SHA_1_HMAC,
    /// HMAC-SHA-224.
    Sha224Hmac = CKM_SHA224_HMAC,
    /// HMAC-SHA-256.
    Sha256Hmac = CKM_SHA256_HMAC,
    /// HMAC-SHA-384.
    Sha384Hmac = CKM_SHA384_HMAC,
    /// HMAC-SHA-512.
    Sha512Hmac = CKM_SHA512_HMAC,
    /// HMAC-SHA-512/224.
    Sha512_224Hmac = CKM_SHA512_224_HMAC,
    /// HMAC-SHA-512/256.
    Sha512_256Hmac = CKM_SHA512_256_HMAC,
    /// HMAC-SHA3-224.
    Sha3_224Hmac = CKM_SHA3_224_HMAC,
    /// HMAC-SHA3-256.
    Sha3_256Hmac = CKM_SHA3_256_HMAC,
    /// HMAC-SHA3-384.
    Sha3_384Hmac = CKM_SHA3_384_HMAC,
    /// HMAC-SHA3-512.
    Sha3_512Hmac = CKM_SHA3_512_HMAC,
    /// HMAC-SHA-1 truncated to the given length in bytes (`CK_MAC_GENERAL_PARAMS`).
    Sha1HmacGeneral(ffi::CK_ULONG) = CKM_SHA_1_HMAC_GENERAL,
    /// HMAC-SHA-224 truncated to the given length in bytes.
    Sha224HmacGeneral(ffi::CK_ULONG) = CKM_SHA224_HMAC_GENERAL,
    /// HMAC-SHA-256 truncated to the given length in bytes.
    Sha256HmacGeneral(ffi::CK_ULONG) = CKM_SHA256_HMAC_GENERAL,
    /// HMAC-SHA-384 truncated to the given length in bytes.
    Sha384HmacGeneral(ffi::CK_ULONG) = CKM_SHA384_HMAC_GENERAL,
    /// HMAC-SHA-512 truncated to the given length in bytes.
    Sha512HmacGeneral(ffi::CK_ULONG) = CKM_SHA512_HMAC_GENERAL,
    /// HMAC-SHA-512/224 truncated to the given length in bytes.
    Sha512_224HmacGeneral(ffi::CK_ULONG) = CKM_SHA512_224_HMAC_GENERAL,
    /// HMAC-SHA-512/256 truncated to the given length in bytes.
    Sha512_256HmacGeneral(ffi::CK_ULONG) = CKM_SHA512_256_HMAC_GENERAL,
    /// HMAC-SHA3-224 truncated to the given length in bytes.
    Sha3_224HmacGeneral(ffi::CK_ULONG) = CKM_SHA3_224_HMAC_GENERAL,
    /// HMAC-SHA3-256 truncated to the given length in bytes.
    Sha3_256HmacGeneral(ffi::CK_ULONG) = CKM_SHA3_256_HMAC_GENERAL,
    /// HMAC-SHA3-384 truncated to the given length in bytes.
    Sha3_384HmacGeneral(ffi::CK_ULONG) = CKM_SHA3_384_HMAC_GENERAL,
    /// HMAC-SHA3-512 truncated to the given length in bytes.
    Sha3_512HmacGeneral(ffi::CK_ULONG) = CKM_SHA3_512_HMAC_GENERAL,

    // ---- Secret key generation ----
    /// Generic secret key generation (`CKA_VALUE_LEN` in the template).
    GenericSecretKeyGen = CKM_GENERIC_SECRET_KEY_GEN,
    /// HKDF key generation (`CKK_HKDF` keys).
    HkdfKeyGen = CKM_HKDF_KEY_GEN,
    /// SHA-1 HMAC key generation.
    Sha1KeyGen = CKM_SHA_1_KEY_GEN,
    /// SHA-224 HMAC key generation.
    Sha224KeyGen = CKM_SHA224_KEY_GEN,
    /// SHA-256 HMAC key generation.
    Sha256KeyGen = CKM_SHA256_KEY_GEN,
    /// SHA-384 HMAC key generation.
    Sha384KeyGen = CKM_SHA384_KEY_GEN,
    /// SHA-512 HMAC key generation.
    Sha512KeyGen = CKM_SHA512_KEY_GEN,
    /// SHA-512/224 HMAC key generation.
    Sha512_224KeyGen = CKM_SHA512_224_KEY_GEN,
    /// SHA-512/256 HMAC key generation.
    Sha512_256KeyGen = CKM_SHA512_256_KEY_GEN,
    /// SHA3-224 HMAC key generation.
    Sha3_224KeyGen = CKM_SHA3_224_KEY_GEN,
    /// SHA3-256 HMAC key generation.
    Sha3_256KeyGen = CKM_SHA3_256_KEY_GEN,
    /// SHA3-384 HMAC key generation.
    Sha3_384KeyGen = CKM_SHA3_384_KEY_GEN,
    /// SHA3-512 HMAC key generation.
    Sha3_512KeyGen = CKM_SHA3_512_KEY_GEN,

    // ---- Key derivation ----
    /// Derives the concatenation of the base key's value and this key's value.
    ConcatenateBaseAndKey(ObjectHandle) = CKM_CONCATENATE_BASE_AND_KEY,
    /// Derives the base key's value followed by the data.
    ConcatenateBaseAndData(KeyDerivationData<'a>) = CKM_CONCATENATE_BASE_AND_DATA,
    /// Derives the data followed by the base key's value.
    ConcatenateDataAndBase(KeyDerivationData<'a>) = CKM_CONCATENATE_DATA_AND_BASE,
    /// Derives the base key's value XORed with the data.
    XorBaseAndData(KeyDerivationData<'a>) = CKM_XOR_BASE_AND_DATA,
    /// Derives a key from the base key's bits starting at this bit index
    /// (`CK_EXTRACT_PARAMS`).
    ExtractKeyFromKey(ffi::CK_ULONG) = CKM_EXTRACT_KEY_FROM_KEY,
    /// Derives the SHA-1 digest of the base key's value.
    Sha1KeyDerivation = CKM_SHA1_KEY_DERIVATION,
    /// Derives the SHA-224 digest of the base key's value.
    Sha224KeyDerivation = CKM_SHA224_KEY_DERIVATION,
    /// Derives the SHA-256 digest of the base key's value.
    Sha256KeyDerivation = CKM_SHA256_KEY_DERIVATION,
    /// Derives the SHA-384 digest of the base key's value.
    Sha384KeyDerivation = CKM_SHA384_KEY_DERIVATION,
    /// Derives the SHA-512 digest of the base key's value.
    Sha512KeyDerivation = CKM_SHA512_KEY_DERIVATION,
    /// Derives the SHA-512/224 digest of the base key's value.
    Sha512_224KeyDerivation = CKM_SHA512_224_KEY_DERIVATION,
    /// Derives the SHA-512/256 digest of the base key's value.
    Sha512_256KeyDerivation = CKM_SHA512_256_KEY_DERIVATION,
    /// Derives the SHA3-224 digest of the base key's value.
    Sha3_224KeyDerivation = CKM_SHA3_224_KEY_DERIVATION,
    /// Derives the SHA3-256 digest of the base key's value.
    Sha3_256KeyDerivation = CKM_SHA3_256_KEY_DERIVATION,
    /// Derives the SHA3-384 digest of the base key's value.
    Sha3_384KeyDerivation = CKM_SHA3_384_KEY_DERIVATION,
    /// Derives the SHA3-512 digest of the base key's value.
    Sha3_512KeyDerivation = CKM_SHA3_512_KEY_DERIVATION,
    /// Derives SHAKE128 output of the base key's value (`CKA_VALUE_LEN` bytes).
    Shake128KeyDerivation = CKM_SHAKE_128_KEY_DERIVATION,
    /// Derives SHAKE256 output of the base key's value (`CKA_VALUE_LEN` bytes).
    Shake256KeyDerivation = CKM_SHAKE_256_KEY_DERIVATION,
    /// HKDF key derivation (RFC 5869) from a secret key: the result is a key object.
    HkdfDerive(HkdfParams<'a>) = CKM_HKDF_DERIVE,
    /// HKDF over a data object or non-secret input (`CKM_HKDF_DATA`).
    HkdfData(HkdfParams<'a>) = CKM_HKDF_DATA,
    /// The NIST SP 800-108 KDF in counter mode.
    Sp800108CounterKdf(Sp800108Params<'a>) = CKM_SP800_108_COUNTER_KDF,
    /// The NIST SP 800-108 KDF in feedback mode.
    Sp800108FeedbackKdf(Sp800108FeedbackParams<'a>) = CKM_SP800_108_FEEDBACK_KDF,
    /// The NIST SP 800-108 KDF in double-pipeline mode.
    Sp800108DoublePipelineKdf(Sp800108Params<'a>) = CKM_SP800_108_DOUBLE_PIPELINE_KDF,
    /// PBKDF2 (PKCS #5 v2) key generation from a password (used with `C_GenerateKey`).
    Pkcs5Pbkd2(Pbkdf2Params<'a>) = CKM_PKCS5_PBKD2,

    // ---- Post-quantum (PKCS #11 3.2) ----
    /// ML-KEM key pair generation (`CKA_PARAMETER_SET` in the public template, e.g.
    /// [`ParameterSet::ML_KEM_768`]).
    MlKemKeyPairGen = CKM_ML_KEM_KEY_PAIR_GEN,
    /// ML-KEM encapsulation / decapsulation.
    MlKem = CKM_ML_KEM,
    /// ML-DSA key pair generation (`CKA_PARAMETER_SET`, e.g. [`ParameterSet::ML_DSA_65`]).
    MlDsaKeyPairGen = CKM_ML_DSA_KEY_PAIR_GEN,
    /// Pure ML-DSA, with an optional context and hedge variant (`None`: no parameter,
    /// empty context, hedging preferred).
    MlDsa(Option<SignContext<'a>>) = CKM_ML_DSA,
    /// HashML-DSA over a digest the caller computed with the hash in the parameter.
    HashMlDsa(HashSignContext<'a>) = CKM_HASH_ML_DSA,
    /// HashML-DSA with SHA-224 hashing by the token.
    HashMlDsaSha224(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHA224,
    /// HashML-DSA with SHA-256 hashing by the token.
    HashMlDsaSha256(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHA256,
    /// HashML-DSA with SHA-384 hashing by the token.
    HashMlDsaSha384(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHA384,
    /// HashML-DSA with SHA-512 hashing by the token.
    HashMlDsaSha512(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHA512,
    /// HashML-DSA with SHA3-224 hashing by the token.
    HashMlDsaSha3_224(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHA3_224,
    /// HashML-DSA with SHA3-256 hashing by the token.
    HashMlDsaSha3_256(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHA3_256,
    /// HashML-DSA with SHA3-384 hashing by the token.
    HashMlDsaSha3_384(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHA3_384,
    /// HashML-DSA with SHA3-512 hashing by the token.
    HashMlDsaSha3_512(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHA3_512,
    /// HashML-DSA with SHAKE128 hashing by the token.
    HashMlDsaShake128(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHAKE128,
    /// HashML-DSA with SHAKE256 hashing by the token.
    HashMlDsaShake256(Option<SignContext<'a>>) = CKM_HASH_ML_DSA_SHAKE256,
    /// SLH-DSA key pair generation (`CKA_PARAMETER_SET`, e.g.
    /// [`ParameterSet::SLH_DSA_SHA2_128F`]).
    SlhDsaKeyPairGen = CKM_SLH_DSA_KEY_PAIR_GEN,
    /// Pure SLH-DSA, with an optional context and hedge variant.
    SlhDsa(Option<SignContext<'a>>) = CKM_SLH_DSA,
    /// HashSLH-DSA over a digest the caller computed with the hash in the parameter.
    HashSlhDsa(HashSignContext<'a>) = CKM_HASH_SLH_DSA,
    /// HashSLH-DSA with SHA-224 hashing by the token.
    HashSlhDsaSha224(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHA224,
    /// HashSLH-DSA with SHA-256 hashing by the token.
    HashSlhDsaSha256(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHA256,
    /// HashSLH-DSA with SHA-384 hashing by the token.
    HashSlhDsaSha384(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHA384,
    /// HashSLH-DSA with SHA-512 hashing by the token.
    HashSlhDsaSha512(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHA512,
    /// HashSLH-DSA with SHA3-224 hashing by the token.
    HashSlhDsaSha3_224(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHA3_224,
    /// HashSLH-DSA with SHA3-256 hashing by the token.
    HashSlhDsaSha3_256(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHA3_256,
    /// HashSLH-DSA with SHA3-384 hashing by the token.
    HashSlhDsaSha3_384(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHA3_384,
    /// HashSLH-DSA with SHA3-512 hashing by the token.
    HashSlhDsaSha3_512(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHA3_512,
    /// HashSLH-DSA with SHAKE128 hashing by the token.
    HashSlhDsaShake128(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHAKE128,
    /// HashSLH-DSA with SHAKE256 hashing by the token.
    HashSlhDsaShake256(Option<SignContext<'a>>) = CKM_HASH_SLH_DSA_SHAKE256,
}

impl Mechanism<'_> {
    /// A mechanism without parameters.
    pub const fn plain(mechanism: ffi::CK_MECHANISM_TYPE) -> Mechanism<'static> {
        Mechanism::Raw {
            mechanism: MechanismType(mechanism),
            parameter: &[],
        }
    }

    /// The `CK_MECHANISM` for this value; its parameter pointer points into `self`
    /// (or the buffers `self` borrows), valid while `self` is neither moved nor dropped.
    #[inline]
    pub(crate) fn to_ck(&self) -> ffi::CK_MECHANISM {
        let (mechanism, pointer, len) = self.raw_parts();
        ffi::CK_MECHANISM {
            mechanism,
            pParameter: pointer.cast_mut(),
            // Lossless: a parameter is a struct or an in-memory slice; a `Raw` slice
            // longer than CK_ULONG (Windows) is cut, and the module rejects it.
            ulParameterLen: ffi::CK_ULONG::try_from(len).unwrap_or(ffi::CK_ULONG::MAX),
        }
    }
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
        assert_send_sync::<EcdhParams<'static>>();
        assert_send_sync::<HkdfParams<'static>>();
        assert_send_sync::<Sp800108Params<'static>>();
        assert_send_sync::<Sp800108FeedbackParams<'static>>();
        assert_send_sync::<Pbkdf2Params<'static>>();
        assert_send_sync::<KeyDerivationData<'static>>();
        assert_send_sync::<SignContext<'static>>();
        assert_send_sync::<HashSignContext<'static>>();
        assert_send_sync::<CcmParams<'static>>();
        assert_send_sync::<ChaCha20Params<'static>>();
        assert_send_sync::<ChaCha20Poly1305Params<'static>>();
    }

    /// The C layout of the structs added for the v3.2 set (same conventions as above).
    #[cfg(not(windows))]
    #[test]
    fn more_parameter_structs_have_the_c_layout() {
        let p = size_of::<*mut u8>();
        let u = size_of::<ffi::CK_ULONG>();

        assert_eq!(size_of::<ffi::CK_ECDH1_DERIVE_PARAMS>(), 3 * u + 2 * p);
        assert_eq!(offset_of!(ffi::CK_ECDH1_DERIVE_PARAMS, ulSharedDataLen), u);
        assert_eq!(offset_of!(ffi::CK_ECDH1_DERIVE_PARAMS, pSharedData), 2 * u);
        assert_eq!(
            offset_of!(ffi::CK_ECDH1_DERIVE_PARAMS, ulPublicDataLen),
            2 * u + p
        );
        assert_eq!(
            offset_of!(ffi::CK_ECDH1_DERIVE_PARAMS, pPublicData),
            3 * u + p
        );

        // Two CK_BBOOLs, then CK_ULONGs aligned to their size.
        assert_eq!(size_of::<ffi::CK_HKDF_PARAMS>(), 6 * u + 2 * p);
        assert_eq!(offset_of!(ffi::CK_HKDF_PARAMS, bExpand), 1);
        assert_eq!(offset_of!(ffi::CK_HKDF_PARAMS, prfHashMechanism), u);
        assert_eq!(offset_of!(ffi::CK_HKDF_PARAMS, ulSaltType), 2 * u);
        assert_eq!(offset_of!(ffi::CK_HKDF_PARAMS, pSalt), 3 * u);
        assert_eq!(offset_of!(ffi::CK_HKDF_PARAMS, ulSaltLen), 3 * u + p);
        assert_eq!(offset_of!(ffi::CK_HKDF_PARAMS, hSaltKey), 4 * u + p);
        assert_eq!(offset_of!(ffi::CK_HKDF_PARAMS, pInfo), 5 * u + p);
        assert_eq!(offset_of!(ffi::CK_HKDF_PARAMS, ulInfoLen), 5 * u + 2 * p);

        assert_eq!(size_of::<ffi::CK_PRF_DATA_PARAM>(), 2 * u + p);
        assert_eq!(offset_of!(ffi::CK_PRF_DATA_PARAM, pValue), u);
        assert_eq!(offset_of!(ffi::CK_PRF_DATA_PARAM, ulValueLen), u + p);
        assert_eq!(size_of::<ffi::CK_SP800_108_COUNTER_FORMAT>(), 2 * u);
        assert_eq!(
            offset_of!(ffi::CK_SP800_108_COUNTER_FORMAT, ulWidthInBits),
            u
        );
        assert_eq!(size_of::<ffi::CK_SP800_108_DKM_LENGTH_FORMAT>(), 3 * u);
        assert_eq!(
            offset_of!(ffi::CK_SP800_108_DKM_LENGTH_FORMAT, bLittleEndian),
            u
        );
        assert_eq!(
            offset_of!(ffi::CK_SP800_108_DKM_LENGTH_FORMAT, ulWidthInBits),
            2 * u
        );

        assert_eq!(size_of::<ffi::CK_SP800_108_KDF_PARAMS>(), 3 * u + 2 * p);
        assert_eq!(
            offset_of!(ffi::CK_SP800_108_KDF_PARAMS, ulNumberOfDataParams),
            u
        );
        assert_eq!(offset_of!(ffi::CK_SP800_108_KDF_PARAMS, pDataParams), 2 * u);
        assert_eq!(
            offset_of!(ffi::CK_SP800_108_KDF_PARAMS, ulAdditionalDerivedKeys),
            2 * u + p
        );
        assert_eq!(
            offset_of!(ffi::CK_SP800_108_KDF_PARAMS, pAdditionalDerivedKeys),
            3 * u + p
        );

        assert_eq!(
            size_of::<ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS>(),
            4 * u + 3 * p
        );
        assert_eq!(
            offset_of!(ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS, pDataParams),
            2 * u
        );
        assert_eq!(
            offset_of!(ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS, ulIVLen),
            2 * u + p
        );
        assert_eq!(
            offset_of!(ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS, pIV),
            3 * u + p
        );
        assert_eq!(
            offset_of!(
                ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS,
                ulAdditionalDerivedKeys
            ),
            3 * u + 2 * p
        );
        assert_eq!(
            offset_of!(
                ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS,
                pAdditionalDerivedKeys
            ),
            4 * u + 2 * p
        );

        assert_eq!(size_of::<ffi::CK_PKCS5_PBKD2_PARAMS2>(), 6 * u + 3 * p);
        assert_eq!(offset_of!(ffi::CK_PKCS5_PBKD2_PARAMS2, pSaltSourceData), u);
        assert_eq!(
            offset_of!(ffi::CK_PKCS5_PBKD2_PARAMS2, ulSaltSourceDataLen),
            u + p
        );
        assert_eq!(
            offset_of!(ffi::CK_PKCS5_PBKD2_PARAMS2, iterations),
            2 * u + p
        );
        assert_eq!(offset_of!(ffi::CK_PKCS5_PBKD2_PARAMS2, prf), 3 * u + p);
        assert_eq!(offset_of!(ffi::CK_PKCS5_PBKD2_PARAMS2, pPrfData), 4 * u + p);
        assert_eq!(
            offset_of!(ffi::CK_PKCS5_PBKD2_PARAMS2, ulPrfDataLen),
            4 * u + 2 * p
        );
        assert_eq!(
            offset_of!(ffi::CK_PKCS5_PBKD2_PARAMS2, pPassword),
            5 * u + 2 * p
        );
        assert_eq!(
            offset_of!(ffi::CK_PKCS5_PBKD2_PARAMS2, ulPasswordLen),
            5 * u + 3 * p
        );

        assert_eq!(size_of::<ffi::CK_KEY_DERIVATION_STRING_DATA>(), p + u);
        assert_eq!(offset_of!(ffi::CK_KEY_DERIVATION_STRING_DATA, ulLen), p);
        assert_eq!(size_of::<ffi::CK_AES_CBC_ENCRYPT_DATA_PARAMS>(), 16 + p + u);
        assert_eq!(offset_of!(ffi::CK_AES_CBC_ENCRYPT_DATA_PARAMS, pData), 16);
        assert_eq!(
            offset_of!(ffi::CK_AES_CBC_ENCRYPT_DATA_PARAMS, length),
            16 + p
        );
        assert_eq!(size_of::<ffi::CK_DES_CBC_ENCRYPT_DATA_PARAMS>(), 8 + p + u);
        assert_eq!(offset_of!(ffi::CK_DES_CBC_ENCRYPT_DATA_PARAMS, pData), 8);
        assert_eq!(
            offset_of!(ffi::CK_DES_CBC_ENCRYPT_DATA_PARAMS, length),
            8 + p
        );

        assert_eq!(size_of::<ffi::CK_SIGN_ADDITIONAL_CONTEXT>(), 2 * u + p);
        assert_eq!(offset_of!(ffi::CK_SIGN_ADDITIONAL_CONTEXT, pContext), u);
        assert_eq!(
            offset_of!(ffi::CK_SIGN_ADDITIONAL_CONTEXT, ulContextLen),
            u + p
        );
        assert_eq!(size_of::<ffi::CK_HASH_SIGN_ADDITIONAL_CONTEXT>(), 3 * u + p);
        assert_eq!(
            offset_of!(ffi::CK_HASH_SIGN_ADDITIONAL_CONTEXT, pContext),
            u
        );
        assert_eq!(
            offset_of!(ffi::CK_HASH_SIGN_ADDITIONAL_CONTEXT, ulContextLen),
            u + p
        );
        assert_eq!(
            offset_of!(ffi::CK_HASH_SIGN_ADDITIONAL_CONTEXT, hash),
            2 * u + p
        );

        assert_eq!(size_of::<ffi::CK_CCM_PARAMS>(), 4 * u + 2 * p);
        assert_eq!(offset_of!(ffi::CK_CCM_PARAMS, pNonce), u);
        assert_eq!(offset_of!(ffi::CK_CCM_PARAMS, ulNonceLen), u + p);
        assert_eq!(offset_of!(ffi::CK_CCM_PARAMS, pAAD), 2 * u + p);
        assert_eq!(offset_of!(ffi::CK_CCM_PARAMS, ulAADLen), 2 * u + 2 * p);
        assert_eq!(offset_of!(ffi::CK_CCM_PARAMS, ulMACLen), 3 * u + 2 * p);

        assert_eq!(size_of::<ffi::CK_AES_CTR_PARAMS>(), u + 16);
        assert_eq!(offset_of!(ffi::CK_AES_CTR_PARAMS, cb), u);

        assert_eq!(size_of::<ffi::CK_CHACHA20_PARAMS>(), 2 * p + 2 * u);
        assert_eq!(offset_of!(ffi::CK_CHACHA20_PARAMS, blockCounterBits), p);
        assert_eq!(offset_of!(ffi::CK_CHACHA20_PARAMS, pNonce), p + u);
        assert_eq!(offset_of!(ffi::CK_CHACHA20_PARAMS, ulNonceBits), 2 * p + u);

        assert_eq!(
            size_of::<ffi::CK_SALSA20_CHACHA20_POLY1305_PARAMS>(),
            2 * p + 2 * u
        );
        assert_eq!(
            offset_of!(ffi::CK_SALSA20_CHACHA20_POLY1305_PARAMS, ulNonceLen),
            p
        );
        assert_eq!(
            offset_of!(ffi::CK_SALSA20_CHACHA20_POLY1305_PARAMS, pAAD),
            p + u
        );
        assert_eq!(
            offset_of!(ffi::CK_SALSA20_CHACHA20_POLY1305_PARAMS, ulAADLen),
            2 * p + u
        );

        assert_eq!(size_of::<ffi::CK_XEDDSA_PARAMS>(), u);
        assert_eq!(size_of::<ffi::CK_MAC_GENERAL_PARAMS>(), u);
        assert_eq!(size_of::<ffi::CK_EXTRACT_PARAMS>(), u);
    }

    /// The parameter struct a mechanism points at, read back by value.
    fn read_param<T: Copy>(mechanism: &Mechanism<'_>) -> T {
        let ck = mechanism.to_ck();
        assert_eq!(
            { ck.ulParameterLen } as usize,
            size_of::<T>(),
            "{mechanism:?}"
        );
        let pointer = { ck.pParameter }.cast_const().cast::<T>();
        assert!(!pointer.is_null());
        crate::raw::params::read_c(pointer)
    }

    #[test]
    fn ecdh_params_point_into_the_borrowed_slices() {
        let shared = *b"shared";
        let point = [4u8; 65];
        let mechanism =
            Mechanism::Ecdh1Derive(EcdhParams::new(Kdf::SHA256, &shared, &point).unwrap());
        assert_eq!(mechanism.mechanism_type(), MechanismType::ECDH1_DERIVE);
        let ck: ffi::CK_ECDH1_DERIVE_PARAMS = read_param(&mechanism);
        assert_eq!({ ck.kdf }, ffi::CKD_SHA256_KDF);
        assert_eq!(ck.pSharedData.cast_const(), shared.as_ptr());
        assert_eq!({ ck.ulSharedDataLen }, 6);
        assert_eq!(ck.pPublicData.cast_const(), point.as_ptr());
        assert_eq!({ ck.ulPublicDataLen }, 65);

        let raw = Mechanism::Ecdh1CofactorDerive(EcdhParams::raw_secret(&point).unwrap());
        let ck: ffi::CK_ECDH1_DERIVE_PARAMS = read_param(&raw);
        assert_eq!({ ck.kdf }, ffi::CKD_NULL);
        assert!(ck.pSharedData.is_null());
        assert_eq!({ ck.ulSharedDataLen }, 0);
        assert_eq!(
            format!("{:?}", Kdf::SHA3_256_SP800),
            "CKD_SHA3_256_KDF_SP800"
        );
    }

    #[test]
    fn hkdf_params_carry_the_salt_kind() {
        let salt = *b"salt";
        let info = *b"info";
        let with_data = Mechanism::HkdfDerive(
            HkdfParams::extract_and_expand(MechanismType::SHA256, HkdfSalt::Data(&salt), &info)
                .unwrap(),
        );
        let ck: ffi::CK_HKDF_PARAMS = read_param(&with_data);
        assert_eq!(
            ({ ck.bExtract }, { ck.bExpand }),
            (ffi::CK_TRUE, ffi::CK_TRUE)
        );
        assert_eq!({ ck.prfHashMechanism }, ffi::CKM_SHA256);
        assert_eq!({ ck.ulSaltType }, ffi::CKF_HKDF_SALT_DATA);
        assert_eq!(ck.pSalt.cast_const(), salt.as_ptr());
        assert_eq!({ ck.ulSaltLen }, 4);
        assert_eq!(ck.pInfo.cast_const(), info.as_ptr());
        assert_eq!({ ck.ulInfoLen }, 4);

        let with_key = Mechanism::HkdfData(
            HkdfParams::new(
                true,
                false,
                MechanismType::SHA384,
                HkdfSalt::Key(ObjectHandle(42)),
                &[],
            )
            .unwrap(),
        );
        let ck: ffi::CK_HKDF_PARAMS = read_param(&with_key);
        assert_eq!({ ck.ulSaltType }, ffi::CKF_HKDF_SALT_KEY);
        assert_eq!({ ck.hSaltKey }, 42);
        assert!(ck.pSalt.is_null());
        assert!(ck.pInfo.is_null());
        assert_eq!({ ck.bExpand }, ffi::CK_FALSE);

        let expand = HkdfParams::expand(MechanismType::SHA256, &info).unwrap();
        let ck: ffi::CK_HKDF_PARAMS = read_param(&Mechanism::HkdfDerive(expand));
        assert_eq!({ ck.ulSaltType }, ffi::CKF_HKDF_SALT_NULL);
        assert_eq!({ ck.bExtract }, ffi::CK_FALSE);
        let text = format!("{with_data:?}");
        assert!(text.contains("len: 4") && !text.contains("115"), "{text}");
    }

    #[test]
    fn sp800_108_data_params_live_in_the_parameter_and_survive_moves_and_clones() {
        let label = *b"label";
        let context = *b"context";
        let data = [
            PrfDataParam::IterationCounter(CounterFormat::big_endian(16)),
            PrfDataParam::ByteArray(&label),
            PrfDataParam::DkmLength(DkmLengthFormat {
                method: DkmLengthMethod::SumOfSegments,
                little_endian: true,
                width_bits: 32,
            }),
            PrfDataParam::ByteArray(&context),
            PrfDataParam::KeyHandle(ObjectHandle(7)),
        ];
        let original = Mechanism::Sp800108CounterKdf(
            Sp800108Params::new(MechanismType::SHA256_HMAC, &data).unwrap(),
        );
        let moved = Box::new(original);
        let cloned = moved.clone();
        for mechanism in [&*moved, &cloned] {
            let ck: ffi::CK_SP800_108_KDF_PARAMS = read_param(mechanism);
            assert_eq!({ ck.prfType }, ffi::CKM_SHA256_HMAC);
            assert_eq!({ ck.ulNumberOfDataParams }, 5);
            assert_eq!({ ck.ulAdditionalDerivedKeys }, 0);
            assert!(ck.pAdditionalDerivedKeys.is_null());
            let params: Vec<ffi::CK_PRF_DATA_PARAM> = (0..5)
                .map(|i| {
                    crate::raw::params::read_c(ck.pDataParams.cast_const().wrapping_add(i).cast())
                })
                .collect();
            assert_eq!({ params[0].type_ }, ffi::CK_SP800_108_ITERATION_VARIABLE);
            let counter: ffi::CK_SP800_108_COUNTER_FORMAT =
                crate::raw::params::read_c(params[0].pValue.cast_const().cast());
            assert_eq!({ counter.ulWidthInBits }, 16);
            assert_eq!({ counter.bLittleEndian }, ffi::CK_FALSE);
            assert_eq!({ params[1].type_ }, ffi::CK_SP800_108_BYTE_ARRAY);
            assert_eq!(params[1].pValue.cast_const().cast(), label.as_ptr());
            assert_eq!({ params[1].ulValueLen }, 5);
            assert_eq!({ params[2].type_ }, ffi::CK_SP800_108_DKM_LENGTH);
            let dkm: ffi::CK_SP800_108_DKM_LENGTH_FORMAT =
                crate::raw::params::read_c(params[2].pValue.cast_const().cast());
            assert_eq!(
                { dkm.dkmLengthMethod },
                ffi::CK_SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS
            );
            assert_eq!({ dkm.ulWidthInBits }, 32);
            assert_eq!({ dkm.bLittleEndian }, ffi::CK_TRUE);
            assert_eq!(params[3].pValue.cast_const().cast(), context.as_ptr());
            assert_eq!({ params[4].type_ }, ffi::CK_SP800_108_KEY_HANDLE);
            let handle: ffi::CK_OBJECT_HANDLE =
                crate::raw::params::read_c(params[4].pValue.cast_const().cast());
            assert_eq!(handle, 7);
        }
        // The clone has its own array.
        let a: ffi::CK_SP800_108_KDF_PARAMS = read_param(&moved);
        let b: ffi::CK_SP800_108_KDF_PARAMS = read_param(&cloned);
        assert_ne!(a.pDataParams, b.pDataParams);

        let iv = [9u8; 32];
        let feedback = Mechanism::Sp800108FeedbackKdf(
            Sp800108FeedbackParams::new(
                MechanismType::AES_CMAC,
                &[
                    PrfDataParam::IterationVariable,
                    PrfDataParam::ByteArray(&label),
                ],
                &iv,
            )
            .unwrap(),
        );
        let copy = feedback.clone();
        for mechanism in [&feedback, &copy] {
            let ck: ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS = read_param(mechanism);
            assert_eq!(ck.pIV.cast_const(), iv.as_ptr());
            assert_eq!({ ck.ulIVLen }, 32);
            assert_eq!({ ck.ulNumberOfDataParams }, 2);
            let first: ffi::CK_PRF_DATA_PARAM =
                crate::raw::params::read_c(ck.pDataParams.cast_const().cast());
            assert!(first.pValue.is_null());
            assert_eq!({ first.ulValueLen }, 0);
        }
        let empty = Mechanism::Sp800108DoublePipelineKdf(
            Sp800108Params::new(MechanismType::SHA256_HMAC, &[]).unwrap(),
        );
        let ck: ffi::CK_SP800_108_KDF_PARAMS = read_param(&empty);
        assert!(ck.pDataParams.is_null());
        assert!(format!("{moved:?}").contains("ByteArray { len: 5 }"));
    }

    #[test]
    fn pbkdf2_params_point_at_the_password_and_never_show_it() {
        let password = crate::Pin::from_bytes(b"hunter2-password".to_vec());
        let salt = *b"NaCl";
        let mechanism = Mechanism::Pkcs5Pbkd2(
            Pbkdf2Params::new(Pbkdf2Prf::HMAC_SHA256, &password, &salt, 1000).unwrap(),
        );
        let ck: ffi::CK_PKCS5_PBKD2_PARAMS2 = read_param(&mechanism);
        assert_eq!({ ck.saltSource }, ffi::CKZ_SALT_SPECIFIED);
        assert_eq!(ck.pSaltSourceData.cast_const().cast(), salt.as_ptr());
        assert_eq!({ ck.iterations }, 1000);
        assert_eq!({ ck.prf }, ffi::CKP_PKCS5_PBKD2_HMAC_SHA256);
        assert!(ck.pPrfData.is_null());
        assert_eq!(ck.pPassword.cast_const(), password.bytes().as_ptr());
        assert_eq!({ ck.ulPasswordLen }, 16);
        let text = format!("{mechanism:?}");
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("redacted"), "{text}");
    }

    #[test]
    fn derivation_data_and_handles() {
        let data = [5u8; 16];
        for mechanism in [
            Mechanism::ConcatenateBaseAndData(KeyDerivationData::new(&data).unwrap()),
            Mechanism::ConcatenateDataAndBase(KeyDerivationData::new(&data).unwrap()),
            Mechanism::XorBaseAndData(KeyDerivationData::new(&data).unwrap()),
            Mechanism::AesEcbEncryptData(KeyDerivationData::new(&data).unwrap()),
        ] {
            let ck: ffi::CK_KEY_DERIVATION_STRING_DATA = read_param(&mechanism);
            assert_eq!(ck.pData.cast_const(), data.as_ptr());
            assert_eq!({ ck.ulLen }, 16);
            assert!(!format!("{mechanism:?}").contains("5, 5"));
        }
        let cbc =
            Mechanism::AesCbcEncryptData(AesCbcEncryptDataParams::new([1; 16], &data).unwrap());
        let ck: ffi::CK_AES_CBC_ENCRYPT_DATA_PARAMS = read_param(&cbc);
        assert_eq!(ck.iv, [1; 16]);
        assert_eq!(ck.pData.cast_const(), data.as_ptr());
        assert_eq!({ ck.length }, 16);

        let key = Mechanism::ConcatenateBaseAndKey(ObjectHandle(99));
        let handle: ffi::CK_OBJECT_HANDLE = read_param(&key);
        assert_eq!(handle, 99);
        let extract: ffi::CK_ULONG = read_param(&Mechanism::ExtractKeyFromKey(21));
        assert_eq!(extract, 21);
        let mac: ffi::CK_ULONG = read_param(&Mechanism::Sha3_256HmacGeneral(16));
        assert_eq!(mac, 16);
    }

    #[test]
    fn pqc_contexts() {
        let context = *b"ctx";
        let plain = Mechanism::MlDsa(None);
        assert!({ plain.to_ck().pParameter }.is_null());
        let with = Mechanism::MlDsa(Some(
            SignContext::new(Hedge::DeterministicRequired, &context).unwrap(),
        ));
        let ck: ffi::CK_SIGN_ADDITIONAL_CONTEXT = read_param(&with);
        assert_eq!({ ck.hedgeVariant }, ffi::CKH_DETERMINISTIC_REQUIRED);
        assert_eq!(ck.pContext.cast_const(), context.as_ptr());
        assert_eq!({ ck.ulContextLen }, 3);
        let empty: ffi::CK_SIGN_ADDITIONAL_CONTEXT =
            read_param(&Mechanism::SlhDsa(Some(SignContext::context(&[]).unwrap())));
        assert!(empty.pContext.is_null());
        assert_eq!({ empty.hedgeVariant }, ffi::CKH_HEDGE_PREFERRED);

        let hashed = Mechanism::HashMlDsa(
            HashSignContext::new(MechanismType::SHA3_256, Hedge::Required, &context).unwrap(),
        );
        let ck: ffi::CK_HASH_SIGN_ADDITIONAL_CONTEXT = read_param(&hashed);
        assert_eq!({ ck.hash }, ffi::CKM_SHA3_256);
        assert_eq!({ ck.hedgeVariant }, ffi::CKH_HEDGE_REQUIRED);
        assert_eq!(ck.pContext.cast_const(), context.as_ptr());
        assert_eq!(ParameterSet::ML_KEM_768.raw(), ffi::CKP_ML_KEM_768);
        assert_eq!(
            Mechanism::HashSlhDsaShake256(None).mechanism_type(),
            MechanismType::HASH_SLH_DSA_SHAKE256
        );
    }

    #[test]
    fn cipher_params() {
        let nonce = [3u8; 12];
        let aad = *b"aad";
        let ccm = Mechanism::AesCcm(CcmParams::new(100, &nonce, &aad, 16).unwrap());
        let ck: ffi::CK_CCM_PARAMS = read_param(&ccm);
        assert_eq!({ ck.ulDataLen }, 100);
        assert_eq!(ck.pNonce.cast_const(), nonce.as_ptr());
        assert_eq!(ck.pAAD.cast_const(), aad.as_ptr());
        assert_eq!({ ck.ulMACLen }, 16);

        let ctr = Mechanism::AesCtr(AesCtrParams::new(32, [7; 16]).unwrap());
        let ck: ffi::CK_AES_CTR_PARAMS = read_param(&ctr);
        assert_eq!({ ck.ulCounterBits }, 32);
        assert_eq!(ck.cb, [7; 16]);
        assert!(AesCtrParams::new(0, [0; 16]).is_err());
        assert!(AesCtrParams::new(129, [0; 16]).is_err());

        let counter = [0u8; 4];
        let chacha = Mechanism::ChaCha20(ChaCha20Params::new(&counter, &nonce).unwrap());
        let ck: ffi::CK_CHACHA20_PARAMS = read_param(&chacha);
        assert_eq!(ck.pBlockCounter.cast_const(), counter.as_ptr());
        assert_eq!({ ck.blockCounterBits }, 32);
        assert_eq!({ ck.ulNonceBits }, 96);

        let poly = Mechanism::ChaCha20Poly1305(ChaCha20Poly1305Params::new(&nonce, &[]).unwrap());
        let ck: ffi::CK_SALSA20_CHACHA20_POLY1305_PARAMS = read_param(&poly);
        assert_eq!(ck.pNonce.cast_const(), nonce.as_ptr());
        assert_eq!({ ck.ulNonceLen }, 12);
        assert!(ck.pAAD.is_null());

        let cts = Mechanism::AesCts { iv: [2; 16] };
        let ck = cts.to_ck();
        assert_eq!({ ck.ulParameterLen }, 16);
        let des = Mechanism::Des3CbcPad { iv: [2; 8] };
        assert_eq!({ des.to_ck().ulParameterLen }, 8);
        let x: ffi::CK_XEDDSA_PARAMS =
            read_param(&Mechanism::Xeddsa(XeddsaParams::new(MechanismType::SHA512)));
        assert_eq!({ x.hash }, ffi::CKM_SHA512);
    }

    #[test]
    fn pss_and_oaep_for_every_hash() {
        for hash in [
            MechanismType::SHA_1,
            MechanismType::SHA224,
            MechanismType::SHA256,
            MechanismType::SHA384,
            MechanismType::SHA512,
            MechanismType::SHA3_224,
            MechanismType::SHA3_256,
            MechanismType::SHA3_384,
            MechanismType::SHA3_512,
        ] {
            let pss = PssParams::for_hash(hash).unwrap();
            assert_eq!(pss.hash(), hash);
            assert_eq!(pss.salt_len() as usize, hash.digest_len().unwrap());
            let oaep = OaepParams::for_hash(hash, Some(b"label")).unwrap();
            assert_eq!(Some(oaep.mgf()), Mgf::mgf1(hash));
            assert!(format!("{:?}", oaep.mgf()).starts_with("CKG_MGF1_SHA"));
        }
        assert!(PssParams::for_hash(MechanismType::AES_GCM).is_err());
        assert_eq!(PssParams::sha384().salt_len(), 48);
    }

    #[test]
    fn every_variant_names_a_standard_mechanism() {
        let samples = [
            Mechanism::AesKeyWrapKwp,
            Mechanism::AesCmacGeneral(8),
            Mechanism::Sha3_512RsaPkcsPss(PssParams::sha512()),
            Mechanism::EcdsaSha3_384,
            Mechanism::Sha512_256,
            Mechanism::Shake256KeyDerivation,
            Mechanism::EcMontgomeryKeyPairGen,
            Mechanism::MlKemKeyPairGen,
        ];
        for mechanism in &samples {
            let name = mechanism.mechanism_type().name().unwrap();
            assert!(name.starts_with("CKM_"), "{name}");
        }
        assert_eq!(MechanismType::SHA1, MechanismType::SHA_1);
        assert_eq!(MechanismType::ML_DSA.name(), Some("CKM_ML_DSA"));
        assert_eq!(MechanismType::SHA3_256.digest_len(), Some(32));
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
