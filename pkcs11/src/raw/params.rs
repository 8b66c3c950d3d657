//! The storage of mechanism parameter structs that carry pointers: the generated
//! `pkcs11-sys` structs, wrapped so that their pointers borrow the caller's buffers.

use core::marker::PhantomData;

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

#[cfg(test)]
impl<T: Copy> Params<'_, T> {
    /// The struct, by value (fields of a packed struct are never borrowed).
    pub(crate) fn get(&self) -> T {
        self.value
    }
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
