//! Symmetric cipher parameters: AES-GCM, AES-CCM, AES-CTR, ChaCha20 and
//! ChaCha20-Poly1305.

use core::fmt;

use super::Parameter;
use crate::error::{Error, Result};
use crate::raw::params::Params;

/// AES-GCM parameters (`CK_GCM_PARAMS`): IV, additional authenticated data and tag
/// length, borrowed for `'a`.
#[derive(Clone)]
pub struct GcmParams<'a> {
    iv: &'a [u8],
    aad: &'a [u8],
    tag_bits: u32,
    pub(super) ck: Params<'a, ffi::CK_GCM_PARAMS>,
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

impl Parameter for GcmParams<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// AES-CCM parameters (`CK_CCM_PARAMS`): the total length of the data (CCM needs it up
/// front), the nonce (7 to 13 bytes), additional authenticated data and the MAC length in
/// bytes (4, 6, ..., 16), borrowed for `'a`.
#[derive(Clone)]
pub struct CcmParams<'a> {
    data_len: usize,
    nonce: &'a [u8],
    aad: &'a [u8],
    mac_len: u32,
    ck: Params<'a, ffi::CK_CCM_PARAMS>,
}

impl<'a> CcmParams<'a> {
    /// Parameters for `data_len` bytes of plaintext (when encrypting; when decrypting
    /// also the plaintext's length, i.e. the ciphertext's minus the MAC), `nonce`, `aad`
    /// (may be empty) and a MAC of `mac_len` bytes.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if a length does not fit in a
    /// `CK_ULONG`.
    pub fn new(
        data_len: usize,
        nonce: &'a [u8],
        aad: &'a [u8],
        mac_len: u32,
    ) -> Result<CcmParams<'a>> {
        Ok(CcmParams {
            data_len,
            nonce,
            aad,
            mac_len,
            // Lossless: CK_ULONG has at least 32 bits.
            ck: Params::ccm(data_len, nonce, aad, mac_len as ffi::CK_ULONG)?,
        })
    }

    /// The plaintext length.
    pub fn data_len(&self) -> usize {
        self.data_len
    }

    /// The nonce.
    pub fn nonce(&self) -> &'a [u8] {
        self.nonce
    }

    /// The additional authenticated data.
    pub fn aad(&self) -> &'a [u8] {
        self.aad
    }

    /// The MAC length in bytes.
    pub fn mac_len(&self) -> u32 {
        self.mac_len
    }
}

impl fmt::Debug for CcmParams<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CcmParams")
            .field("data_len", &self.data_len)
            .field("nonce_len", &self.nonce.len())
            .field("aad_len", &self.aad.len())
            .field("mac_len", &self.mac_len)
            .finish()
    }
}

impl Parameter for CcmParams<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// AES-CTR parameters (`CK_AES_CTR_PARAMS`): the initial counter block and how many of
/// its low-order bits are the counter. Holds no pointer.
#[derive(Clone, Copy)]
pub struct AesCtrParams {
    ck: ffi::CK_AES_CTR_PARAMS,
}

impl AesCtrParams {
    /// Parameters with the 16-byte initial counter `block`, whose last `counter_bits` bits
    /// (1 to 128; 128 makes the whole block the counter) are incremented.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if `counter_bits` is 0 or more
    /// than 128.
    pub fn new(counter_bits: u32, block: [u8; 16]) -> Result<AesCtrParams> {
        if counter_bits == 0 || counter_bits > 128 {
            return Err(Error::InvalidInput {
                what: format!("AES-CTR counter of {counter_bits} bits (must be 1 to 128)"),
            });
        }
        Ok(AesCtrParams {
            ck: ffi::CK_AES_CTR_PARAMS {
                // Lossless: CK_ULONG has at least 32 bits.
                ulCounterBits: counter_bits as ffi::CK_ULONG,
                cb: block,
            },
        })
    }

    /// The number of counter bits.
    pub fn counter_bits(&self) -> ffi::CK_ULONG {
        self.ck.ulCounterBits
    }

    /// The initial counter block.
    pub fn block(&self) -> [u8; 16] {
        self.ck.cb
    }
}

impl fmt::Debug for AesCtrParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AesCtrParams")
            .field("counter_bits", &self.counter_bits())
            .finish_non_exhaustive()
    }
}

impl Parameter for AesCtrParams {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(core::ptr::from_ref(&self.ck))
    }
}

/// ChaCha20 parameters (`CK_CHACHA20_PARAMS`): the initial block counter (4 or 8 bytes,
/// as the token expects them) and the nonce (12 or 8 bytes), borrowed for `'a`.
#[derive(Clone)]
pub struct ChaCha20Params<'a> {
    block_counter: &'a [u8],
    nonce: &'a [u8],
    ck: Params<'a, ffi::CK_CHACHA20_PARAMS>,
}

impl<'a> ChaCha20Params<'a> {
    /// Parameters with `block_counter` and `nonce`; their lengths in bits go into the
    /// struct.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if a length does not fit in a
    /// `CK_ULONG`.
    pub fn new(block_counter: &'a [u8], nonce: &'a [u8]) -> Result<ChaCha20Params<'a>> {
        Ok(ChaCha20Params {
            block_counter,
            nonce,
            ck: Params::chacha20(block_counter, nonce)?,
        })
    }

    /// The block counter bytes.
    pub fn block_counter(&self) -> &'a [u8] {
        self.block_counter
    }

    /// The nonce.
    pub fn nonce(&self) -> &'a [u8] {
        self.nonce
    }
}

impl fmt::Debug for ChaCha20Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChaCha20Params")
            .field("block_counter_len", &self.block_counter.len())
            .field("nonce_len", &self.nonce.len())
            .finish()
    }
}

impl Parameter for ChaCha20Params<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}

/// ChaCha20-Poly1305 parameters (`CK_SALSA20_CHACHA20_POLY1305_PARAMS`): the nonce (12
/// bytes, or 24 for XChaCha20) and additional authenticated data, borrowed for `'a`. The
/// 16-byte tag follows the ciphertext.
#[derive(Clone)]
pub struct ChaCha20Poly1305Params<'a> {
    nonce: &'a [u8],
    aad: &'a [u8],
    ck: Params<'a, ffi::CK_SALSA20_CHACHA20_POLY1305_PARAMS>,
}

impl<'a> ChaCha20Poly1305Params<'a> {
    /// Parameters with `nonce` and `aad` (may be empty).
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) if a length does not fit in a
    /// `CK_ULONG`.
    pub fn new(nonce: &'a [u8], aad: &'a [u8]) -> Result<ChaCha20Poly1305Params<'a>> {
        Ok(ChaCha20Poly1305Params {
            nonce,
            aad,
            ck: Params::chacha20_poly1305(nonce, aad)?,
        })
    }

    /// The nonce.
    pub fn nonce(&self) -> &'a [u8] {
        self.nonce
    }

    /// The additional authenticated data.
    pub fn aad(&self) -> &'a [u8] {
        self.aad
    }
}

impl fmt::Debug for ChaCha20Poly1305Params<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChaCha20Poly1305Params")
            .field("nonce_len", &self.nonce.len())
            .field("aad_len", &self.aad.len())
            .finish()
    }
}

impl Parameter for ChaCha20Poly1305Params<'_> {
    fn raw_param(&self) -> (*const core::ffi::c_void, usize) {
        super::struct_param(self.ck.as_ptr())
    }
}
