//! The storage of mechanism parameter structs that carry pointers: the generated
//! `pkcs11-sys` structs, wrapped so that their pointers borrow the caller's buffers.

use core::marker::PhantomData;
use core::mem::size_of;

use crate::error::{Error, Result};
use crate::raw::crypto::{param_pointer, ulong};

/// A mechanism parameter struct (`CK_GCM_PARAMS`, `CK_RSA_PKCS_OAEP_PARAMS`,
/// `CK_EDDSA_PARAMS`) whose pointers point into slices borrowed for `'a`.
///
/// The struct is the generated one (RELIABILITY rule 27), wrapped transparently; it is
/// only built by the constructors below, from shared slices, and neither this crate nor
/// the module writes through its pointers. It is deliberately not `Copy`.
#[repr(transparent)]
pub(crate) struct Params<'a, T: Copy> {
    value: T,
    _borrow: PhantomData<&'a [u8]>,
}

impl<T: Copy> Clone for Params<'_, T> {
    /// The copy points into the same borrowed slices, which outlive it.
    fn clone(&self) -> Self {
        Params {
            value: self.value,
            _borrow: PhantomData,
        }
    }
}

// SAFETY: the only pointers in `value` come from `&'a [u8]` slices (see the constructors),
// which are `Send + Sync`; they are only ever read (by the module, as input parameters).
// Sending or sharing a `Params` is therefore as safe as sending or sharing those slices.
unsafe impl<T: Copy> Send for Params<'_, T> {}
// SAFETY: as for `Send`: shared access only reads the borrowed slices.
unsafe impl<T: Copy> Sync for Params<'_, T> {}

impl<T: Copy> Params<'_, T> {
    /// A pointer to the struct, for `CK_MECHANISM.pParameter`; valid while `self` is
    /// neither moved nor dropped.
    pub(crate) fn as_ptr(&self) -> *const T {
        &self.value
    }
}

impl<'a> Params<'a, ffi::CK_GCM_PARAMS> {
    /// `CK_GCM_PARAMS` for `iv`, `aad` and a tag of `tag_bits` bits.
    pub(crate) fn gcm(iv: &'a [u8], aad: &'a [u8], tag_bits: u32) -> Result<Self> {
        let iv_len = ulong(iv.len(), "the GCM IV")?;
        let iv_bits = iv
            .len()
            .checked_mul(8)
            .ok_or_else(|| Error::InvalidInput {
                what: "the GCM IV is too long".into(),
            })
            .and_then(|bits| ulong(bits, "the GCM IV (in bits)"))?;
        Ok(Params {
            value: ffi::CK_GCM_PARAMS {
                pIv: param_pointer(iv),
                ulIvLen: iv_len,
                ulIvBits: iv_bits,
                pAAD: param_pointer(aad),
                ulAADLen: ulong(aad.len(), "the GCM additional authenticated data")?,
                ulTagBits: ffi::CK_ULONG::from(tag_bits),
            },
            _borrow: PhantomData,
        })
    }
}

impl<'a> Params<'a, ffi::CK_RSA_PKCS_OAEP_PARAMS> {
    /// `CK_RSA_PKCS_OAEP_PARAMS` with `CKZ_DATA_SPECIFIED` and `label` (none: NULL, 0).
    pub(crate) fn oaep(
        hash: ffi::CK_MECHANISM_TYPE,
        mgf: ffi::CK_RSA_PKCS_MGF_TYPE,
        label: &'a [u8],
    ) -> Result<Self> {
        Ok(Params {
            value: ffi::CK_RSA_PKCS_OAEP_PARAMS {
                hashAlg: hash,
                mgf,
                source: ffi::CKZ_DATA_SPECIFIED,
                pSourceData: param_pointer(label).cast(),
                ulSourceDataLen: ulong(label.len(), "the OAEP label")?,
            },
            _borrow: PhantomData,
        })
    }
}

impl Params<'static, ffi::CK_RSA_PKCS_OAEP_PARAMS> {
    /// `CK_RSA_PKCS_OAEP_PARAMS` with `CKZ_DATA_SPECIFIED` and no label.
    pub(crate) fn oaep_unlabelled(
        hash: ffi::CK_MECHANISM_TYPE,
        mgf: ffi::CK_RSA_PKCS_MGF_TYPE,
    ) -> Self {
        Params {
            value: ffi::CK_RSA_PKCS_OAEP_PARAMS {
                hashAlg: hash,
                mgf,
                source: ffi::CKZ_DATA_SPECIFIED,
                pSourceData: core::ptr::null_mut(),
                ulSourceDataLen: 0,
            },
            _borrow: PhantomData,
        }
    }
}

impl<'a> Params<'a, ffi::CK_EDDSA_PARAMS> {
    /// `CK_EDDSA_PARAMS`: pre-hash flag and context data (empty: NULL, 0).
    pub(crate) fn eddsa(prehash: bool, context: &'a [u8]) -> Result<Self> {
        Ok(Params {
            value: ffi::CK_EDDSA_PARAMS {
                phFlag: if prehash { ffi::CK_TRUE } else { ffi::CK_FALSE },
                ulContextDataLen: ulong(context.len(), "the EdDSA context")?,
                pContextData: param_pointer(context),
            },
            _borrow: PhantomData,
        })
    }
}

impl<'a, T: Copy> Params<'a, T> {
    /// Wraps `value`, whose pointers (if any) the caller built from slices borrowed for
    /// `'a` or NULL. Private: only the constructors of this module build `Params`.
    fn wrap(value: T) -> Self {
        Params {
            value,
            _borrow: PhantomData,
        }
    }
}

/// `CK_TRUE` / `CK_FALSE`.
fn bbool(value: bool) -> ffi::CK_BBOOL {
    if value {
        ffi::CK_TRUE
    } else {
        ffi::CK_FALSE
    }
}

/// A length in bits, checked to fit in a `CK_ULONG`.
fn bits(len: usize, what: &str) -> Result<ffi::CK_ULONG> {
    len.checked_mul(8)
        .ok_or_else(|| Error::InvalidInput {
            what: format!("{what} is too long"),
        })
        .and_then(|bits| ulong(bits, &format!("{what} (in bits)")))
}

impl<'a> Params<'a, ffi::CK_ECDH1_DERIVE_PARAMS> {
    /// `CK_ECDH1_DERIVE_PARAMS`: KDF, shared data (empty: NULL, 0) and the other party's
    /// public value.
    pub(crate) fn ecdh1(
        kdf: ffi::CK_EC_KDF_TYPE,
        shared_data: &'a [u8],
        public_data: &'a [u8],
    ) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_ECDH1_DERIVE_PARAMS {
            kdf,
            ulSharedDataLen: ulong(shared_data.len(), "the ECDH shared data")?,
            pSharedData: param_pointer(shared_data),
            ulPublicDataLen: ulong(public_data.len(), "the ECDH public data")?,
            pPublicData: param_pointer(public_data),
        }))
    }
}

/// The salt of `CK_HKDF_PARAMS`, as the constructor takes it.
pub(crate) enum HkdfSaltRaw<'a> {
    /// `CKF_HKDF_SALT_NULL`.
    Null,
    /// `CKF_HKDF_SALT_DATA` with the bytes.
    Data(&'a [u8]),
    /// `CKF_HKDF_SALT_KEY` with the key handle.
    Key(ffi::CK_OBJECT_HANDLE),
}

impl<'a> Params<'a, ffi::CK_HKDF_PARAMS> {
    /// `CK_HKDF_PARAMS`: extract / expand flags, PRF hash, salt and info (empty: NULL, 0).
    pub(crate) fn hkdf(
        extract: bool,
        expand: bool,
        prf: ffi::CK_MECHANISM_TYPE,
        salt: HkdfSaltRaw<'a>,
        info: &'a [u8],
    ) -> Result<Self> {
        let (salt_type, salt_data, salt_key): (_, &[u8], _) = match salt {
            HkdfSaltRaw::Null => (ffi::CKF_HKDF_SALT_NULL, &[], ffi::CK_INVALID_HANDLE),
            HkdfSaltRaw::Data(data) => (ffi::CKF_HKDF_SALT_DATA, data, ffi::CK_INVALID_HANDLE),
            HkdfSaltRaw::Key(key) => (ffi::CKF_HKDF_SALT_KEY, &[], key),
        };
        Ok(Params::wrap(ffi::CK_HKDF_PARAMS {
            bExtract: bbool(extract),
            bExpand: bbool(expand),
            prfHashMechanism: prf,
            ulSaltType: salt_type,
            pSalt: param_pointer(salt_data),
            ulSaltLen: ulong(salt_data.len(), "the HKDF salt")?,
            hSaltKey: salt_key,
            pInfo: param_pointer(info),
            ulInfoLen: ulong(info.len(), "the HKDF info")?,
        }))
    }
}

impl<'a> Params<'a, ffi::CK_KEY_DERIVATION_STRING_DATA> {
    /// `CK_KEY_DERIVATION_STRING_DATA` over `data` (empty: NULL, 0).
    pub(crate) fn key_derivation_string(data: &'a [u8]) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_KEY_DERIVATION_STRING_DATA {
            pData: param_pointer(data),
            ulLen: ulong(data.len(), "the key derivation data")?,
        }))
    }
}

impl<'a> Params<'a, ffi::CK_AES_CBC_ENCRYPT_DATA_PARAMS> {
    /// `CK_AES_CBC_ENCRYPT_DATA_PARAMS`: the IV (inline) and the data to encrypt.
    pub(crate) fn aes_cbc_encrypt_data(iv: [u8; 16], data: &'a [u8]) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_AES_CBC_ENCRYPT_DATA_PARAMS {
            iv,
            pData: param_pointer(data),
            length: ulong(data.len(), "the AES-CBC key derivation data")?,
        }))
    }
}

impl<'a> Params<'a, ffi::CK_DES_CBC_ENCRYPT_DATA_PARAMS> {
    /// `CK_DES_CBC_ENCRYPT_DATA_PARAMS`: the IV (inline) and the data to encrypt.
    pub(crate) fn des_cbc_encrypt_data(iv: [u8; 8], data: &'a [u8]) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_DES_CBC_ENCRYPT_DATA_PARAMS {
            iv,
            pData: param_pointer(data),
            length: ulong(data.len(), "the DES3-CBC key derivation data")?,
        }))
    }
}

impl<'a> Params<'a, ffi::CK_PKCS5_PBKD2_PARAMS2> {
    /// `CK_PKCS5_PBKD2_PARAMS2` with `CKZ_SALT_SPECIFIED`, no PRF data, and the password
    /// (a secret: the struct only points at it).
    pub(crate) fn pbkdf2(
        salt: &'a [u8],
        iterations: ffi::CK_ULONG,
        prf: ffi::CK_PKCS5_PBKD2_PSEUDO_RANDOM_FUNCTION_TYPE,
        password: &'a [u8],
    ) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_PKCS5_PBKD2_PARAMS2 {
            saltSource: ffi::CKZ_SALT_SPECIFIED,
            pSaltSourceData: param_pointer(salt).cast(),
            ulSaltSourceDataLen: ulong(salt.len(), "the PBKDF2 salt")?,
            iterations,
            prf,
            pPrfData: core::ptr::null_mut(),
            ulPrfDataLen: 0,
            pPassword: param_pointer(password),
            ulPasswordLen: ulong(password.len(), "the PBKDF2 password")?,
        }))
    }
}

impl<'a> Params<'a, ffi::CK_SIGN_ADDITIONAL_CONTEXT> {
    /// `CK_SIGN_ADDITIONAL_CONTEXT`: hedge variant and context (empty: NULL, 0).
    pub(crate) fn sign_context(hedge: ffi::CK_HEDGE_TYPE, context: &'a [u8]) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_SIGN_ADDITIONAL_CONTEXT {
            hedgeVariant: hedge,
            pContext: param_pointer(context),
            ulContextLen: ulong(context.len(), "the signature context")?,
        }))
    }
}

impl<'a> Params<'a, ffi::CK_HASH_SIGN_ADDITIONAL_CONTEXT> {
    /// `CK_HASH_SIGN_ADDITIONAL_CONTEXT`: hedge variant, context (empty: NULL, 0) and the
    /// hash the caller applied.
    pub(crate) fn hash_sign_context(
        hedge: ffi::CK_HEDGE_TYPE,
        context: &'a [u8],
        hash: ffi::CK_MECHANISM_TYPE,
    ) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_HASH_SIGN_ADDITIONAL_CONTEXT {
            hedgeVariant: hedge,
            pContext: param_pointer(context),
            ulContextLen: ulong(context.len(), "the signature context")?,
            hash,
        }))
    }
}

impl<'a> Params<'a, ffi::CK_CCM_PARAMS> {
    /// `CK_CCM_PARAMS`: total data length, nonce, AAD (empty: NULL, 0), MAC length.
    pub(crate) fn ccm(
        data_len: usize,
        nonce: &'a [u8],
        aad: &'a [u8],
        mac_len: ffi::CK_ULONG,
    ) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_CCM_PARAMS {
            ulDataLen: ulong(data_len, "the CCM data")?,
            pNonce: param_pointer(nonce),
            ulNonceLen: ulong(nonce.len(), "the CCM nonce")?,
            pAAD: param_pointer(aad),
            ulAADLen: ulong(aad.len(), "the CCM additional authenticated data")?,
            ulMACLen: mac_len,
        }))
    }
}

impl<'a> Params<'a, ffi::CK_CHACHA20_PARAMS> {
    /// `CK_CHACHA20_PARAMS`: block counter bytes and nonce, with their lengths in bits.
    pub(crate) fn chacha20(block_counter: &'a [u8], nonce: &'a [u8]) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_CHACHA20_PARAMS {
            pBlockCounter: param_pointer(block_counter),
            blockCounterBits: bits(block_counter.len(), "the ChaCha20 block counter")?,
            pNonce: param_pointer(nonce),
            ulNonceBits: bits(nonce.len(), "the ChaCha20 nonce")?,
        }))
    }
}

impl<'a> Params<'a, ffi::CK_SALSA20_CHACHA20_POLY1305_PARAMS> {
    /// `CK_SALSA20_CHACHA20_POLY1305_PARAMS`: nonce and AAD (empty: NULL, 0).
    pub(crate) fn chacha20_poly1305(nonce: &'a [u8], aad: &'a [u8]) -> Result<Self> {
        Ok(Params::wrap(ffi::CK_SALSA20_CHACHA20_POLY1305_PARAMS {
            pNonce: param_pointer(nonce),
            ulNonceLen: ulong(nonce.len(), "the ChaCha20-Poly1305 nonce")?,
            pAAD: param_pointer(aad),
            ulAADLen: ulong(
                aad.len(),
                "the ChaCha20-Poly1305 additional authenticated data",
            )?,
        }))
    }
}

/// What one `CK_PRF_DATA_PARAM` of an SP 800-108 KDF points at.
#[derive(Clone, Copy)]
pub(crate) enum PrfDataValue<'a> {
    /// `pValue` NULL, `ulValueLen` 0 (an iteration variable in feedback or
    /// double-pipeline mode).
    Null,
    /// A `CK_SP800_108_COUNTER_FORMAT`.
    Counter(ffi::CK_SP800_108_COUNTER_FORMAT),
    /// A `CK_SP800_108_DKM_LENGTH_FORMAT`.
    DkmLength(ffi::CK_SP800_108_DKM_LENGTH_FORMAT),
    /// Caller bytes (`CK_SP800_108_BYTE_ARRAY`).
    Bytes(&'a [u8]),
    /// A `CK_OBJECT_HANDLE` (`CK_SP800_108_KEY_HANDLE`).
    Key(ffi::CK_OBJECT_HANDLE),
}

/// An SP 800-108 data-parameter array (`CK_PRF_DATA_PARAM[]`) together with the
/// counter / DKM-length formats and key handles its entries point at.
///
/// Everything lives in heap buffers that are filled once and never resized, so the
/// pointers stay valid when the list (or the parameter holding it) is moved; a clone
/// builds its own buffers and points into them.
pub(crate) struct PrfDataList<'a> {
    entries: Vec<(ffi::CK_PRF_DATA_TYPE, PrfDataValue<'a>)>,
    // The next three are never read by Rust: they own what `params` points at.
    #[allow(dead_code)]
    counters: Vec<ffi::CK_SP800_108_COUNTER_FORMAT>,
    #[allow(dead_code)]
    dkm_lengths: Vec<ffi::CK_SP800_108_DKM_LENGTH_FORMAT>,
    #[allow(dead_code)]
    keys: Vec<ffi::CK_OBJECT_HANDLE>,
    params: Vec<ffi::CK_PRF_DATA_PARAM>,
}

// SAFETY: the pointers in `params` point into `counters`, `dkm_lengths` and `keys` (heap
// buffers owned by this value and never resized or written after `build`) or into
// `&'a [u8]` slices; all of them are only read, by the module. Sending the list moves the
// owning `Vec`s along with the pointers into them.
unsafe impl Send for PrfDataList<'_> {}
// SAFETY: shared access never writes any of the buffers (see `Send`).
unsafe impl Sync for PrfDataList<'_> {}

impl<'a> PrfDataList<'a> {
    /// The array for `entries`: (`CK_SP800_108_*` data type, what it points at).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if a byte array's length does not fit in a `CK_ULONG`, or
    /// the list is too long.
    pub(crate) fn new(entries: Vec<(ffi::CK_PRF_DATA_TYPE, PrfDataValue<'a>)>) -> Result<Self> {
        ulong(entries.len(), "the SP 800-108 data parameter list")?;
        for (index, (_, value)) in entries.iter().enumerate() {
            if let PrfDataValue::Bytes(bytes) = value {
                ulong(
                    bytes.len(),
                    &format!("the SP 800-108 byte array (data parameter {index})"),
                )?;
            }
        }
        Ok(PrfDataList::build(entries))
    }

    /// Fills the buffers, then points the array at them (no buffer is resized after a
    /// pointer into it was taken).
    fn build(entries: Vec<(ffi::CK_PRF_DATA_TYPE, PrfDataValue<'a>)>) -> Self {
        let mut counters = Vec::new();
        let mut dkm_lengths = Vec::new();
        let mut keys = Vec::new();
        for (_, value) in &entries {
            match value {
                PrfDataValue::Counter(format) => counters.push(*format),
                PrfDataValue::DkmLength(format) => dkm_lengths.push(*format),
                PrfDataValue::Key(key) => keys.push(*key),
                PrfDataValue::Null | PrfDataValue::Bytes(_) => {}
            }
        }
        let (mut next_counter, mut next_dkm, mut next_key) =
            (counters.as_ptr(), dkm_lengths.as_ptr(), keys.as_ptr());
        let mut params = Vec::with_capacity(entries.len());
        for (ty, value) in &entries {
            let (pointer, len): (*const core::ffi::c_void, usize) = match value {
                PrfDataValue::Null => (core::ptr::null(), 0),
                PrfDataValue::Counter(_) => {
                    let pointer = next_counter;
                    next_counter = next_counter.wrapping_add(1);
                    (
                        pointer.cast(),
                        size_of::<ffi::CK_SP800_108_COUNTER_FORMAT>(),
                    )
                }
                PrfDataValue::DkmLength(_) => {
                    let pointer = next_dkm;
                    next_dkm = next_dkm.wrapping_add(1);
                    (
                        pointer.cast(),
                        size_of::<ffi::CK_SP800_108_DKM_LENGTH_FORMAT>(),
                    )
                }
                PrfDataValue::Key(_) => {
                    let pointer = next_key;
                    next_key = next_key.wrapping_add(1);
                    (pointer.cast(), size_of::<ffi::CK_OBJECT_HANDLE>())
                }
                PrfDataValue::Bytes(bytes) => {
                    (param_pointer(bytes).cast_const().cast(), bytes.len())
                }
            };
            params.push(ffi::CK_PRF_DATA_PARAM {
                type_: *ty,
                pValue: pointer.cast_mut(),
                // Checked in `new`; a struct size always fits.
                ulValueLen: ffi::CK_ULONG::try_from(len).unwrap_or(ffi::CK_ULONG::MAX),
            });
        }
        PrfDataList {
            entries,
            counters,
            dkm_lengths,
            keys,
            params,
        }
    }

    /// The number of entries, as a `CK_ULONG` (checked in `new`).
    fn count(&self) -> ffi::CK_ULONG {
        ffi::CK_ULONG::try_from(self.params.len()).unwrap_or(ffi::CK_ULONG::MAX)
    }

    /// The array pointer (NULL for an empty list).
    fn as_mut_ptr(&self) -> ffi::CK_PRF_DATA_PARAM_PTR {
        if self.params.is_empty() {
            core::ptr::null_mut()
        } else {
            self.params.as_ptr().cast_mut()
        }
    }
}

impl Clone for PrfDataList<'_> {
    /// Builds new buffers and points the new array into them.
    fn clone(&self) -> Self {
        PrfDataList::build(self.entries.clone())
    }
}

/// `CK_SP800_108_KDF_PARAMS` (counter and double-pipeline modes) with its data-parameter
/// array; no additional derived keys.
pub(crate) struct Sp800108KdfParams<'a> {
    list: PrfDataList<'a>,
    value: ffi::CK_SP800_108_KDF_PARAMS,
}

// SAFETY: `value` points only into `list` (see `PrfDataList`, which is `Send + Sync`),
// and is only read.
unsafe impl Send for Sp800108KdfParams<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for Sp800108KdfParams<'_> {}

impl<'a> Sp800108KdfParams<'a> {
    /// The struct for `prf` (a `CKM_*` MAC such as `CKM_SHA256_HMAC`) and `list`.
    pub(crate) fn new(prf: ffi::CK_SP800_108_PRF_TYPE, list: PrfDataList<'a>) -> Self {
        let value = ffi::CK_SP800_108_KDF_PARAMS {
            prfType: prf,
            ulNumberOfDataParams: list.count(),
            pDataParams: list.as_mut_ptr(),
            ulAdditionalDerivedKeys: 0,
            pAdditionalDerivedKeys: core::ptr::null_mut(),
        };
        Sp800108KdfParams { list, value }
    }

    /// A pointer to the struct, valid while `self` is neither moved nor dropped (the
    /// array it points at stays put when `self` moves).
    pub(crate) fn as_ptr(&self) -> *const ffi::CK_SP800_108_KDF_PARAMS {
        &self.value
    }
}

impl Clone for Sp800108KdfParams<'_> {
    fn clone(&self) -> Self {
        Sp800108KdfParams::new(self.value.prfType, self.list.clone())
    }
}

/// `CK_SP800_108_FEEDBACK_KDF_PARAMS` with its data-parameter array and IV (borrowed);
/// no additional derived keys.
pub(crate) struct Sp800108FeedbackParams<'a> {
    list: PrfDataList<'a>,
    iv: &'a [u8],
    value: ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS,
}

// SAFETY: `value` points into `list` (see `PrfDataList`) and into the `&'a [u8]` IV; all
// only read.
unsafe impl Send for Sp800108FeedbackParams<'_> {}
// SAFETY: as for `Send`.
unsafe impl Sync for Sp800108FeedbackParams<'_> {}

impl<'a> Sp800108FeedbackParams<'a> {
    /// The struct for `prf`, `list` and `iv` (empty: NULL, 0).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the IV's length does not fit in a `CK_ULONG`.
    pub(crate) fn new(
        prf: ffi::CK_SP800_108_PRF_TYPE,
        list: PrfDataList<'a>,
        iv: &'a [u8],
    ) -> Result<Self> {
        let iv_len = ulong(iv.len(), "the SP 800-108 feedback IV")?;
        let value = ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS {
            prfType: prf,
            ulNumberOfDataParams: list.count(),
            pDataParams: list.as_mut_ptr(),
            ulIVLen: iv_len,
            pIV: param_pointer(iv),
            ulAdditionalDerivedKeys: 0,
            pAdditionalDerivedKeys: core::ptr::null_mut(),
        };
        Ok(Sp800108FeedbackParams { list, iv, value })
    }

    /// A pointer to the struct, valid while `self` is neither moved nor dropped.
    pub(crate) fn as_ptr(&self) -> *const ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS {
        &self.value
    }
}

impl Clone for Sp800108FeedbackParams<'_> {
    fn clone(&self) -> Self {
        let list = self.list.clone();
        Sp800108FeedbackParams {
            value: ffi::CK_SP800_108_FEEDBACK_KDF_PARAMS {
                pDataParams: list.as_mut_ptr(),
                ..self.value
            },
            list,
            iv: self.iv,
        }
    }
}

#[cfg(test)]
impl<T: Copy> Params<'_, T> {
    /// The struct, by value (fields of a packed struct are never borrowed).
    pub(crate) fn get(&self) -> T {
        self.value
    }
}

/// Reads the C struct at `pointer` (tests only: `pointer` comes from `to_ck()` of a live
/// parameter, or from the pointers inside one, and `T` is a plain generated C struct, valid
/// for every bit pattern).
#[cfg(test)]
pub(crate) fn read_c<T: Copy>(pointer: *const T) -> T {
    assert!(!pointer.is_null());
    // SAFETY: see above: the pointer is non-NULL and points at a live `T` (possibly
    // unaligned inside a packed struct, hence `read_unaligned`).
    unsafe { pointer.read_unaligned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_are_transparent_over_the_generated_structs() {
        use core::mem::{align_of, size_of};
        assert_eq!(
            size_of::<Params<'_, ffi::CK_GCM_PARAMS>>(),
            size_of::<ffi::CK_GCM_PARAMS>()
        );
        assert_eq!(
            align_of::<Params<'_, ffi::CK_GCM_PARAMS>>(),
            align_of::<ffi::CK_GCM_PARAMS>()
        );
        assert_eq!(
            size_of::<Params<'_, ffi::CK_RSA_PKCS_OAEP_PARAMS>>(),
            size_of::<ffi::CK_RSA_PKCS_OAEP_PARAMS>()
        );
        assert_eq!(
            size_of::<Params<'_, ffi::CK_EDDSA_PARAMS>>(),
            size_of::<ffi::CK_EDDSA_PARAMS>()
        );
    }

    #[test]
    fn gcm_params_point_into_the_borrowed_slices() {
        let iv = [7u8; 12];
        let aad = *b"header";
        let params = Params::gcm(&iv, &aad, 128).unwrap();
        let ck = params.get();
        assert_eq!(ck.pIv.cast_const(), iv.as_ptr());
        assert_eq!({ ck.ulIvLen }, 12);
        assert_eq!({ ck.ulIvBits }, 96);
        assert_eq!(ck.pAAD.cast_const(), aad.as_ptr());
        assert_eq!({ ck.ulAADLen }, 6);
        assert_eq!({ ck.ulTagBits }, 128);
        let empty = Params::gcm(&iv, &[], 96).unwrap().get();
        assert!(empty.pAAD.is_null());
        assert_eq!({ empty.ulAADLen }, 0);
    }

    #[test]
    fn oaep_and_eddsa_params_use_null_for_empty_data() {
        let oaep = Params::oaep(ffi::CKM_SHA_1, ffi::CKG_MGF1_SHA1, &[])
            .unwrap()
            .get();
        assert!(oaep.pSourceData.is_null());
        assert_eq!({ oaep.ulSourceDataLen }, 0);
        assert_eq!({ oaep.source }, ffi::CKZ_DATA_SPECIFIED);
        let label = *b"label";
        let oaep = Params::oaep(ffi::CKM_SHA256, ffi::CKG_MGF1_SHA256, &label)
            .unwrap()
            .get();
        assert_eq!(oaep.pSourceData.cast_const().cast(), label.as_ptr());
        assert_eq!({ oaep.ulSourceDataLen }, 5);

        let eddsa = Params::eddsa(true, &[]).unwrap().get();
        assert_eq!({ eddsa.phFlag }, ffi::CK_TRUE);
        assert!(eddsa.pContextData.is_null());
    }
}
