//! Key-derivation parameters: HKDF, the NIST SP 800-108 KDFs, PBKDF2, and the
//! concatenate / XOR / encrypt-data derivations.

use core::fmt;

use super::{MechanismType, Parameter};
use crate::error::Result;
use crate::object::ObjectHandle;
use crate::raw::params::{
    HkdfSaltRaw, Params, PrfDataList, PrfDataValue, Sp800108FeedbackParams as RawFeedback,
    Sp800108KdfParams as RawKdf,
};
use crate::secret::Pin;

/// The salt of an HKDF extract step (`CKF_HKDF_SALT_*`).
#[derive(Clone, Copy)]
pub enum HkdfSalt<'a> {
    /// `CKF_HKDF_SALT_NULL`: no salt (a string of zero bytes as long as the hash).
    Null,
    /// `CKF_HKDF_SALT_DATA`: these bytes.
    Data(&'a [u8]),
    /// `CKF_HKDF_SALT_KEY`: the value of this secret key object.
    Key(ObjectHandle),
}

impl fmt::Debug for HkdfSalt<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HkdfSalt::Null => f.write_str("Null"),
            HkdfSalt::Data(data) => write!(f, "Data {{ len: {} }}", data.len()),
            HkdfSalt::Key(key) => f.debug_tuple("Key").field(key).finish(),
        }
    }
}

/// HKDF parameters (`CK_HKDF_PARAMS`) for `CKM_HKDF_DERIVE` and `CKM_HKDF_DATA`: which
/// steps to run, the PRF hash, the salt and the info, borrowed for `'a`.
#[derive(Clone)]
pub struct HkdfParams<'a> {
    extract: bool,
    expand: bool,
    prf: MechanismType,
    salt: HkdfSalt<'a>,
    info: &'a [u8],
    ck: Params<'a, ffi::CK_HKDF_PARAMS>,
}

impl<'a> HkdfParams<'a> {
    /// Parameters running the extract step, the expand step or both, with `prf` (a
    /// digest such as [`MechanismType::SHA256`]), `salt` (used by extract) and `info`
    /// (used by expand; may be empty).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if a length does not fit in a
    /// `CK_ULONG`.
    pub fn new(
        extract: bool,
        expand: bool,
        prf: MechanismType,
        salt: HkdfSalt<'a>,
        info: &'a [u8],
    ) -> Result<HkdfParams<'a>> {
        let raw_salt = match salt {
            HkdfSalt::Null => HkdfSaltRaw::Null,
            HkdfSalt::Data(data) => HkdfSaltRaw::Data(data),
            HkdfSalt::Key(key) => HkdfSaltRaw::Key(key.0),
        };
        Ok(HkdfParams {
            extract,
            expand,
            prf,
            salt,
            info,
            ck: Params::hkdf(extract, expand, prf.0, raw_salt, info)?,
        })
    }

    /// Extract then expand (the full RFC 5869 HKDF).
    ///
    /// # Errors
    /// As [`HkdfParams::new`].
    pub fn extract_and_expand(
        prf: MechanismType,
        salt: HkdfSalt<'a>,
        info: &'a [u8],
    ) -> Result<HkdfParams<'a>> {
        HkdfParams::new(true, true, prf, salt, info)
    }

    /// Extract only: the result is the pseudo-random key.
    ///
    /// # Errors
    /// As [`HkdfParams::new`].
    pub fn extract(prf: MechanismType, salt: HkdfSalt<'a>) -> Result<HkdfParams<'a>> {
        HkdfParams::new(true, false, prf, salt, &[])
    }

    /// Expand only: the base key is the pseudo-random key.
    ///
    /// # Errors
    /// As [`HkdfParams::new`].
    pub fn expand(prf: MechanismType, info: &'a [u8]) -> Result<HkdfParams<'a>> {
        HkdfParams::new(false, true, prf, HkdfSalt::Null, info)
    }

    /// Whether the extract step runs.
    pub fn runs_extract(&self) -> bool {
        self.extract
    }

    /// Whether the expand step runs.
    pub fn runs_expand(&self) -> bool {
        self.expand
    }

    /// The PRF hash.
    pub fn prf(&self) -> MechanismType {
        self.prf
    }

    /// The salt.
    pub fn salt(&self) -> HkdfSalt<'a> {
        self.salt
    }

    /// The info.
    pub fn info(&self) -> &'a [u8] {
        self.info
    }
}

impl fmt::Debug for HkdfParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HkdfParams")
            .field("extract", &self.extract)
            .field("expand", &self.expand)
            .field("prf", &self.prf)
            .field("salt", &self.salt)
            .field("info_len", &self.info.len())
            .finish()
    }
}

impl Parameter for HkdfParams<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// The encoding of a counter in an SP 800-108 KDF input (`CK_SP800_108_COUNTER_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CounterFormat {
    /// Little-endian instead of the usual big-endian.
    pub little_endian: bool,
    /// The width in bits (8, 16, 24 or 32 are the values tokens accept).
    pub width_bits: u32,
}

impl CounterFormat {
    /// A big-endian counter of `width_bits` bits.
    pub const fn big_endian(width_bits: u32) -> CounterFormat {
        CounterFormat {
            little_endian: false,
            width_bits,
        }
    }

    fn to_ck(self) -> ffi::CK_SP800_108_COUNTER_FORMAT {
        ffi::CK_SP800_108_COUNTER_FORMAT {
            bLittleEndian: bool_to_ck(self.little_endian),
            // Lossless: CK_ULONG has at least 32 bits.
            ulWidthInBits: self.width_bits as ffi::CK_ULONG,
        }
    }
}

/// How the derived keying material's length is computed for an SP 800-108 DKM-length
/// field (`CK_SP800_108_DKM_LENGTH_METHOD`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DkmLengthMethod {
    /// `CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS`: the sum of the derived keys' lengths.
    SumOfKeys,
    /// `CK_SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS`: the sum of the PRF output segments.
    SumOfSegments,
}

/// The encoding of the derived keying material's length in an SP 800-108 KDF input
/// (`CK_SP800_108_DKM_LENGTH_FORMAT`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DkmLengthFormat {
    /// How the length is computed.
    pub method: DkmLengthMethod,
    /// Little-endian instead of the usual big-endian.
    pub little_endian: bool,
    /// The width in bits (8, 16, 24 or 32 are the values tokens accept).
    pub width_bits: u32,
}

impl DkmLengthFormat {
    /// A big-endian length of `width_bits` bits, summing the derived keys.
    pub const fn big_endian(width_bits: u32) -> DkmLengthFormat {
        DkmLengthFormat {
            method: DkmLengthMethod::SumOfKeys,
            little_endian: false,
            width_bits,
        }
    }

    fn to_ck(self) -> ffi::CK_SP800_108_DKM_LENGTH_FORMAT {
        ffi::CK_SP800_108_DKM_LENGTH_FORMAT {
            dkmLengthMethod: match self.method {
                DkmLengthMethod::SumOfKeys => ffi::CK_SP800_108_DKM_LENGTH_SUM_OF_KEYS,
                DkmLengthMethod::SumOfSegments => ffi::CK_SP800_108_DKM_LENGTH_SUM_OF_SEGMENTS,
            },
            bLittleEndian: bool_to_ck(self.little_endian),
            // Lossless: CK_ULONG has at least 32 bits.
            ulWidthInBits: self.width_bits as ffi::CK_ULONG,
        }
    }
}

fn bool_to_ck(value: bool) -> ffi::CK_BBOOL {
    if value {
        ffi::CK_TRUE
    } else {
        ffi::CK_FALSE
    }
}

/// One field of the PRF input of an SP 800-108 KDF (`CK_PRF_DATA_PARAM`), in order.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PrfDataParam<'a> {
    /// `CK_SP800_108_ITERATION_VARIABLE` in counter mode: the iteration counter, in this
    /// format (required exactly once in counter mode).
    IterationCounter(CounterFormat),
    /// `CK_SP800_108_ITERATION_VARIABLE` in feedback and double-pipeline modes: the
    /// previous PRF output (or the IV / pipeline value); no value.
    IterationVariable,
    /// `CK_SP800_108_OPTIONAL_COUNTER`: a counter in feedback and double-pipeline modes.
    Counter(CounterFormat),
    /// `CK_SP800_108_DKM_LENGTH`: the derived keying material's length.
    DkmLength(DkmLengthFormat),
    /// `CK_SP800_108_BYTE_ARRAY`: fixed bytes (label, separator, context).
    ByteArray(&'a [u8]),
    /// `CK_SP800_108_KEY_HANDLE` (PKCS #11 3.2): the value of this key object.
    KeyHandle(ObjectHandle),
}

impl fmt::Debug for PrfDataParam<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PrfDataParam::IterationCounter(format) => {
                f.debug_tuple("IterationCounter").field(format).finish()
            }
            PrfDataParam::IterationVariable => f.write_str("IterationVariable"),
            PrfDataParam::Counter(format) => f.debug_tuple("Counter").field(format).finish(),
            PrfDataParam::DkmLength(format) => f.debug_tuple("DkmLength").field(format).finish(),
            PrfDataParam::ByteArray(bytes) => write!(f, "ByteArray {{ len: {} }}", bytes.len()),
            PrfDataParam::KeyHandle(key) => f.debug_tuple("KeyHandle").field(key).finish(),
        }
    }
}

/// The raw list for `data`.
fn prf_data_list<'a>(data: &[PrfDataParam<'a>]) -> Result<PrfDataList<'a>> {
    PrfDataList::new(
        data.iter()
            .map(|param| match *param {
                PrfDataParam::IterationCounter(format) => (
                    ffi::CK_SP800_108_ITERATION_VARIABLE,
                    PrfDataValue::Counter(format.to_ck()),
                ),
                PrfDataParam::IterationVariable => {
                    (ffi::CK_SP800_108_ITERATION_VARIABLE, PrfDataValue::Null)
                }
                PrfDataParam::Counter(format) => (
                    ffi::CK_SP800_108_OPTIONAL_COUNTER,
                    PrfDataValue::Counter(format.to_ck()),
                ),
                PrfDataParam::DkmLength(format) => (
                    ffi::CK_SP800_108_DKM_LENGTH,
                    PrfDataValue::DkmLength(format.to_ck()),
                ),
                PrfDataParam::ByteArray(bytes) => {
                    (ffi::CK_SP800_108_BYTE_ARRAY, PrfDataValue::Bytes(bytes))
                }
                PrfDataParam::KeyHandle(key) => {
                    (ffi::CK_SP800_108_KEY_HANDLE, PrfDataValue::Key(key.0))
                }
            })
            .collect(),
    )
}

/// Parameters of the SP 800-108 counter-mode and double-pipeline KDFs
/// (`CK_SP800_108_KDF_PARAMS`): the PRF (a MAC mechanism such as
/// [`MechanismType::SHA256_HMAC`] or [`MechanismType::AES_CMAC`]) and the PRF input
/// fields. The `CK_PRF_DATA_PARAM` array and the formats it points at live inside the
/// value; byte arrays are borrowed for `'a`. Additional derived keys are not supported
/// (the array is empty).
#[derive(Clone)]
pub struct Sp800108Params<'a> {
    prf: MechanismType,
    data: Vec<PrfDataParam<'a>>,
    raw: RawKdf<'a>,
}

impl<'a> Sp800108Params<'a> {
    /// Parameters with `prf` and the PRF input fields `data`, in order.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if a byte array's length does
    /// not fit in a `CK_ULONG`.
    pub fn new(prf: MechanismType, data: &[PrfDataParam<'a>]) -> Result<Sp800108Params<'a>> {
        Ok(Sp800108Params {
            prf,
            data: data.to_vec(),
            raw: RawKdf::new(prf.0, prf_data_list(data)?),
        })
    }

    /// The PRF.
    pub fn prf(&self) -> MechanismType {
        self.prf
    }

    /// The PRF input fields.
    pub fn data(&self) -> &[PrfDataParam<'a>] {
        &self.data
    }
}

impl fmt::Debug for Sp800108Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sp800108Params")
            .field("prf", &self.prf)
            .field("data", &self.data)
            .finish()
    }
}

impl Parameter for Sp800108Params<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.raw.as_ptr())
    }
}

/// Parameters of the SP 800-108 feedback-mode KDF (`CK_SP800_108_FEEDBACK_KDF_PARAMS`):
/// as [`Sp800108Params`] plus the IV (may be empty), borrowed for `'a`.
#[derive(Clone)]
pub struct Sp800108FeedbackParams<'a> {
    prf: MechanismType,
    data: Vec<PrfDataParam<'a>>,
    iv: &'a [u8],
    raw: RawFeedback<'a>,
}

impl<'a> Sp800108FeedbackParams<'a> {
    /// Parameters with `prf`, the PRF input fields `data` and `iv`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if a length does not fit in a
    /// `CK_ULONG`.
    pub fn new(
        prf: MechanismType,
        data: &[PrfDataParam<'a>],
        iv: &'a [u8],
    ) -> Result<Sp800108FeedbackParams<'a>> {
        Ok(Sp800108FeedbackParams {
            prf,
            data: data.to_vec(),
            iv,
            raw: RawFeedback::new(prf.0, prf_data_list(data)?, iv)?,
        })
    }

    /// The PRF.
    pub fn prf(&self) -> MechanismType {
        self.prf
    }

    /// The PRF input fields.
    pub fn data(&self) -> &[PrfDataParam<'a>] {
        &self.data
    }

    /// The IV.
    pub fn iv(&self) -> &'a [u8] {
        self.iv
    }
}

impl fmt::Debug for Sp800108FeedbackParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sp800108FeedbackParams")
            .field("prf", &self.prf)
            .field("data", &self.data)
            .field("iv_len", &self.iv.len())
            .finish()
    }
}

impl Parameter for Sp800108FeedbackParams<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.raw.as_ptr())
    }
}

/// The pseudo-random function of PBKDF2 (`CKP_PKCS5_PBKD2_*`).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Pbkdf2Prf(pub ffi::CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE);

impl Pbkdf2Prf {
    /// `CKP_PKCS5_PBKD2_HMAC_SHA1`.
    pub const HMAC_SHA1: Pbkdf2Prf = Pbkdf2Prf(ffi::CKP_PKCS5_PBKD2_HMAC_SHA1);
    /// `CKP_PKCS5_PBKD2_HMAC_GOSTR3411`.
    pub const HMAC_GOSTR3411: Pbkdf2Prf = Pbkdf2Prf(ffi::CKP_PKCS5_PBKD2_HMAC_GOSTR3411);
    /// `CKP_PKCS5_PBKD2_HMAC_SHA224`.
    pub const HMAC_SHA224: Pbkdf2Prf = Pbkdf2Prf(ffi::CKP_PKCS5_PBKD2_HMAC_SHA224);
    /// `CKP_PKCS5_PBKD2_HMAC_SHA256`.
    pub const HMAC_SHA256: Pbkdf2Prf = Pbkdf2Prf(ffi::CKP_PKCS5_PBKD2_HMAC_SHA256);
    /// `CKP_PKCS5_PBKD2_HMAC_SHA384`.
    pub const HMAC_SHA384: Pbkdf2Prf = Pbkdf2Prf(ffi::CKP_PKCS5_PBKD2_HMAC_SHA384);
    /// `CKP_PKCS5_PBKD2_HMAC_SHA512`.
    pub const HMAC_SHA512: Pbkdf2Prf = Pbkdf2Prf(ffi::CKP_PKCS5_PBKD2_HMAC_SHA512);
    /// `CKP_PKCS5_PBKD2_HMAC_SHA512_224`.
    pub const HMAC_SHA512_224: Pbkdf2Prf = Pbkdf2Prf(ffi::CKP_PKCS5_PBKD2_HMAC_SHA512_224);
    /// `CKP_PKCS5_PBKD2_HMAC_SHA512_256`.
    pub const HMAC_SHA512_256: Pbkdf2Prf = Pbkdf2Prf(ffi::CKP_PKCS5_PBKD2_HMAC_SHA512_256);

    /// The raw value.
    pub const fn raw(self) -> ffi::CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE {
        self.0
    }
}

impl fmt::Debug for Pbkdf2Prf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            ffi::CKP_PKCS5_PBKD2_HMAC_SHA1 => "CKP_PKCS5_PBKD2_HMAC_SHA1",
            ffi::CKP_PKCS5_PBKD2_HMAC_GOSTR3411 => "CKP_PKCS5_PBKD2_HMAC_GOSTR3411",
            ffi::CKP_PKCS5_PBKD2_HMAC_SHA224 => "CKP_PKCS5_PBKD2_HMAC_SHA224",
            ffi::CKP_PKCS5_PBKD2_HMAC_SHA256 => "CKP_PKCS5_PBKD2_HMAC_SHA256",
            ffi::CKP_PKCS5_PBKD2_HMAC_SHA384 => "CKP_PKCS5_PBKD2_HMAC_SHA384",
            ffi::CKP_PKCS5_PBKD2_HMAC_SHA512 => "CKP_PKCS5_PBKD2_HMAC_SHA512",
            ffi::CKP_PKCS5_PBKD2_HMAC_SHA512_224 => "CKP_PKCS5_PBKD2_HMAC_SHA512_224",
            ffi::CKP_PKCS5_PBKD2_HMAC_SHA512_256 => "CKP_PKCS5_PBKD2_HMAC_SHA512_256",
            other => return write!(f, "CKP(0x{other:08X})"),
        };
        f.write_str(name)
    }
}

/// PBKDF2 parameters (`CK_PKCS5_PBKD2_PARAMS2`, salt source `CKZ_SALT_SPECIFIED`): the
/// password (a [`Pin`], never shown by `Debug`), the salt, the iteration count and the
/// PRF, borrowed for `'a`.
#[derive(Clone)]
pub struct Pbkdf2Params<'a> {
    prf: Pbkdf2Prf,
    salt: &'a [u8],
    iterations: u32,
    ck: Params<'a, ffi::CK_PKCS5_PBKD2_PARAMS2>,
}

impl<'a> Pbkdf2Params<'a> {
    /// Parameters deriving from `password` with `salt`, `iterations` and `prf`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if a length does not fit in a
    /// `CK_ULONG`.
    pub fn new(
        prf: Pbkdf2Prf,
        password: &'a Pin,
        salt: &'a [u8],
        iterations: u32,
    ) -> Result<Pbkdf2Params<'a>> {
        Ok(Pbkdf2Params {
            prf,
            salt,
            iterations,
            // Lossless: CK_ULONG has at least 32 bits.
            ck: Params::pbkdf2(salt, iterations as ffi::CK_ULONG, prf.0, password.bytes())?,
        })
    }

    /// The PRF.
    pub fn prf(&self) -> Pbkdf2Prf {
        self.prf
    }

    /// The salt.
    pub fn salt(&self) -> &'a [u8] {
        self.salt
    }

    /// The iteration count.
    pub fn iterations(&self) -> u32 {
        self.iterations
    }
}

impl fmt::Debug for Pbkdf2Params<'_> {
    /// Shows the PRF, the salt's length and the iteration count; never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pbkdf2Params")
            .field("prf", &self.prf)
            .field("salt_len", &self.salt.len())
            .field("iterations", &self.iterations)
            .field("password", &"<redacted>")
            .finish()
    }
}

impl Parameter for Pbkdf2Params<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// A byte string for a derivation (`CK_KEY_DERIVATION_STRING_DATA`), borrowed for
/// `'a`: the data of `CKM_CONCATENATE_BASE_AND_DATA`, `CKM_CONCATENATE_DATA_AND_BASE`,
/// `CKM_XOR_BASE_AND_DATA` and the block to encrypt for `CKM_AES_ECB_ENCRYPT_DATA` /
/// `CKM_DES3_ECB_ENCRYPT_DATA`.
#[derive(Clone)]
pub struct KeyDerivationData<'a> {
    data: &'a [u8],
    ck: Params<'a, ffi::CK_KEY_DERIVATION_STRING_DATA>,
}

impl<'a> KeyDerivationData<'a> {
    /// The parameter for `data`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if the length does not fit in a
    /// `CK_ULONG`.
    pub fn new(data: &'a [u8]) -> Result<KeyDerivationData<'a>> {
        Ok(KeyDerivationData {
            data,
            ck: Params::key_derivation_string(data)?,
        })
    }

    /// The data.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

impl fmt::Debug for KeyDerivationData<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyDerivationData")
            .field("len", &self.data.len())
            .finish()
    }
}

impl Parameter for KeyDerivationData<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// Parameters of `CKM_AES_CBC_ENCRYPT_DATA` (`CK_AES_CBC_ENCRYPT_DATA_PARAMS`): the IV
/// (kept inline) and the data to encrypt under the base key (a multiple of 16 bytes),
/// borrowed for `'a`.
#[derive(Clone)]
pub struct AesCbcEncryptDataParams<'a> {
    data: &'a [u8],
    ck: Params<'a, ffi::CK_AES_CBC_ENCRYPT_DATA_PARAMS>,
}

impl<'a> AesCbcEncryptDataParams<'a> {
    /// Parameters with `iv` and `data`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if the length does not fit in a
    /// `CK_ULONG`.
    pub fn new(iv: [u8; 16], data: &'a [u8]) -> Result<AesCbcEncryptDataParams<'a>> {
        Ok(AesCbcEncryptDataParams {
            data,
            ck: Params::aes_cbc_encrypt_data(iv, data)?,
        })
    }

    /// The data.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

impl fmt::Debug for AesCbcEncryptDataParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesCbcEncryptDataParams")
            .field("data_len", &self.data.len())
            .finish()
    }
}

impl Parameter for AesCbcEncryptDataParams<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// Parameters of `CKM_DES3_CBC_ENCRYPT_DATA` (`CK_DES_CBC_ENCRYPT_DATA_PARAMS`): the IV
/// (kept inline) and the data to encrypt (a multiple of 8 bytes), borrowed for `'a`.
#[derive(Clone)]
pub struct Des3CbcEncryptDataParams<'a> {
    data: &'a [u8],
    ck: Params<'a, ffi::CK_DES_CBC_ENCRYPT_DATA_PARAMS>,
}

impl<'a> Des3CbcEncryptDataParams<'a> {
    /// Parameters with `iv` and `data`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if the length does not fit in a
    /// `CK_ULONG`.
    pub fn new(iv: [u8; 8], data: &'a [u8]) -> Result<Des3CbcEncryptDataParams<'a>> {
        Ok(Des3CbcEncryptDataParams {
            data,
            ck: Params::des_cbc_encrypt_data(iv, data)?,
        })
    }

    /// The data.
    pub fn data(&self) -> &'a [u8] {
        self.data
    }
}

impl fmt::Debug for Des3CbcEncryptDataParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Des3CbcEncryptDataParams")
            .field("data_len", &self.data.len())
            .finish()
    }
}

impl Parameter for Des3CbcEncryptDataParams<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}
