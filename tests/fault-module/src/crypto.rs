//! Mechanisms and cryptographic functions: digest, encrypt, decrypt, sign, verify (single-
//! and multi-part, and the dual-function updates), wrap and unwrap, random numbers.
//!
//! The mechanisms are deliberately simple and deterministic:
//!
//! | mechanism | functions | what it computes |
//! |-----------|-----------|------------------|
//! | `CKM_SHA256` | digest | SHA-256 (the `sha2` crate) |
//! | [`CKM_FAULT_XOR`] = `CKM_VENDOR_DEFINED + 1` | encrypt, decrypt, wrap, unwrap | the data XOR the key's `CKA_VALUE` repeated (the stream position carries across updates) |
//! | [`CKM_FAULT_MAC`] = `CKM_VENDOR_DEFINED + 2`, `CKM_SHA256_HMAC` | sign, verify | HMAC-SHA-256 with the key's `CKA_VALUE` (the `hmac` crate) |
//! | `CKM_GENERIC_SECRET_KEY_GEN`, `CKM_AES_KEY_GEN` | generate key | bytes of the generator |
//!
//! Operations end as PKCS #11 says: a length query or `CKR_BUFFER_TOO_SMALL` leaves the
//! operation active (and consumes no input); any other error ends it, and so does the
//! success of a single-part or final call. In the 3.x tables an `*Init` with a NULL
//! mechanism ends the active operation; `C_SessionCancel` ends those its flags name.
//!
//! Plan `noop`: the digest, sign, verify, encrypt and decrypt functions and
//! `C_GenerateRandom` return at once without looking at the session — digests and
//! signatures are 32 zero bytes, encryption and decryption copy their input, random
//! bytes are zeros — for benchmarks of the binding's own cost.

use hmac::{Hmac, Mac as _};
use pkcs11_sys::{
    CKA_DECRYPT, CKA_ENCRYPT, CKA_SIGN, CKA_UNWRAP, CKA_VALUE, CKA_VERIFY, CKA_WRAP, CKF_DECRYPT,
    CKF_DIGEST, CKF_ENCRYPT, CKF_FIND_OBJECTS, CKF_GENERATE, CKF_SIGN, CKF_UNWRAP, CKF_VERIFY,
    CKF_WRAP, CKM_AES_KEY_GEN, CKM_GENERIC_SECRET_KEY_GEN, CKM_SHA256, CKM_SHA256_HMAC,
    CKM_VENDOR_DEFINED, CKO_SECRET_KEY, CKR_ARGUMENTS_BAD, CKR_BUFFER_TOO_SMALL,
    CKR_FUNCTION_NOT_PARALLEL, CKR_KEY_HANDLE_INVALID, CKR_KEY_INDIGESTIBLE, CKR_MECHANISM_INVALID,
    CKR_OBJECT_HANDLE_INVALID, CKR_OPERATION_ACTIVE, CKR_OPERATION_NOT_INITIALIZED,
    CKR_RANDOM_SEED_NOT_SUPPORTED, CKR_SAVED_STATE_INVALID, CKR_SIGNATURE_INVALID,
    CKR_SIGNATURE_LEN_RANGE, CKR_STATE_UNSAVEABLE, CKR_UNWRAPPING_KEY_HANDLE_INVALID,
    CKR_WRAPPING_KEY_HANDLE_INVALID, CK_ATTRIBUTE_PTR, CK_ATTRIBUTE_TYPE, CK_BYTE_PTR, CK_FLAGS,
    CK_MECHANISM_INFO, CK_MECHANISM_PTR, CK_MECHANISM_TYPE, CK_OBJECT_HANDLE, CK_OBJECT_HANDLE_PTR,
    CK_RV, CK_SESSION_HANDLE, CK_ULONG, CK_ULONG_PTR,
};
use sha2::{Digest as _, Sha256};

use crate::args;
use crate::calls::Function;
use crate::entry::{run, Ck};
use crate::out::{self, Delivered};
use crate::plan;
use crate::state::{self, OpKind, Ops, State};

/// The vendor-defined "XOR cipher".
pub(crate) const CKM_FAULT_XOR: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED + 1;
/// The vendor-defined "keyed SHA-256 MAC" (HMAC-SHA-256).
pub(crate) const CKM_FAULT_MAC: CK_MECHANISM_TYPE = CKM_VENDOR_DEFINED + 2;

const fn info(min: CK_ULONG, max: CK_ULONG, flags: CK_FLAGS) -> CK_MECHANISM_INFO {
    CK_MECHANISM_INFO {
        ulMinKeySize: min,
        ulMaxKeySize: max,
        flags,
    }
}

/// The mechanisms of every token, with their information (key sizes in bytes).
pub(crate) const MECHANISMS: [(CK_MECHANISM_TYPE, CK_MECHANISM_INFO); 6] = [
    (CKM_SHA256, info(0, 0, CKF_DIGEST)),
    (CKM_SHA256_HMAC, info(1, 512, CKF_SIGN | CKF_VERIFY)),
    (CKM_GENERIC_SECRET_KEY_GEN, info(1, 512, CKF_GENERATE)),
    (CKM_AES_KEY_GEN, info(16, 32, CKF_GENERATE)),
    (
        CKM_FAULT_XOR,
        info(1, 512, CKF_ENCRYPT | CKF_DECRYPT | CKF_WRAP | CKF_UNWRAP),
    ),
    (CKM_FAULT_MAC, info(1, 512, CKF_SIGN | CKF_VERIFY)),
];

/// An active digest.
#[derive(Clone)]
pub(crate) struct Digest {
    hasher: Sha256,
    /// `C_DigestUpdate` (or `C_DigestKey`) was called.
    multi: bool,
}

/// An active encryption or decryption.
pub(crate) struct Cipher {
    key: Vec<u8>,
    /// Bytes processed so far by updates.
    position: usize,
    multi: bool,
}

/// An active signature or verification.
pub(crate) struct Mac {
    mac: Hmac<Sha256>,
    multi: bool,
}

/// `data` XOR `key` repeated, starting at stream position `position`.
fn xor(key: &[u8], position: usize, data: &[u8]) -> Vec<u8> {
    data.iter()
        .enumerate()
        .map(|(index, byte)| byte ^ key[(position + index) % key.len()])
        .collect()
}

/// HMAC-SHA-256 keyed with `key`.
fn hmac(key: &[u8]) -> Hmac<Sha256> {
    // HMAC takes keys of any length.
    Hmac::<Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!())
}

/// `n` bytes from the generator (a counter).
pub(crate) fn random_bytes(state: &mut State, n: usize) -> Vec<u8> {
    (0..n)
        .map(|_| {
            state.random = state.random.wrapping_add(1);
            state.random
        })
        .collect()
}

/// 32 zero bytes: the digest and signature of plan `noop`.
const NOOP_OUTPUT: [u8; 32] = [0; 32];

// ---------------------------------------------------------------------------------------
// Operation plumbing
// ---------------------------------------------------------------------------------------

fn digest_op(ops: &mut Ops) -> &mut Option<Digest> {
    &mut ops.digest
}
fn encrypt_op(ops: &mut Ops) -> &mut Option<Cipher> {
    &mut ops.encrypt
}
fn decrypt_op(ops: &mut Ops) -> &mut Option<Cipher> {
    &mut ops.decrypt
}
fn sign_op(ops: &mut Ops) -> &mut Option<Mac> {
    &mut ops.sign
}
fn verify_op(ops: &mut Ops) -> &mut Option<Mac> {
    &mut ops.verify
}

/// Whether a call's outcome leaves its operation active: a length query, a non-final
/// step, or `CKR_BUFFER_TOO_SMALL`.
fn goes_on(result: &Ck<bool>) -> bool {
    matches!(result, Ok(false) | Err(CKR_BUFFER_TOO_SMALL))
}

/// Runs `f` on session `h`'s active operation in `slot`. `f` answers whether the
/// operation is finished; any error but `CKR_BUFFER_TOO_SMALL` ends it too.
fn step<T>(
    h: CK_SESSION_HANDLE,
    slot: fn(&mut Ops) -> &mut Option<T>,
    f: impl FnOnce(&mut T) -> Ck<bool>,
) -> Ck {
    state::with(|state| {
        let ops = &mut state.session(h)?.ops;
        let op = slot(ops).as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
        let result = f(op);
        if !goes_on(&result) {
            *slot(ops) = None;
        }
        result.map(drop)
    })
}

/// A dual-function update: runs `f` with both operations; any error but
/// `CKR_BUFFER_TOO_SMALL` ends both.
fn pair<A, B>(
    h: CK_SESSION_HANDLE,
    a: fn(&mut Ops) -> &mut Option<A>,
    b: fn(&mut Ops) -> &mut Option<B>,
    f: impl FnOnce(&mut A, &mut B) -> Ck,
) -> Ck {
    state::with(|state| {
        let ops = &mut state.session(h)?.ops;
        let (Some(mut first), Some(mut second)) = (a(ops).take(), b(ops).take()) else {
            return Err(CKR_OPERATION_NOT_INITIALIZED);
        };
        let result = f(&mut first, &mut second);
        if matches!(result, Ok(()) | Err(CKR_BUFFER_TOO_SMALL)) {
            *a(ops) = Some(first);
            *b(ops) = Some(second);
        }
        result
    })
}

/// Starts an operation in `slot` of session `h` with `make(state, mechanism)`; a NULL
/// mechanism ends the active one in the 3.x tables (`V3`) and is refused in 2.x.
///
/// # Safety
/// `p_mechanism` is NULL or valid for reading a `CK_MECHANISM`.
unsafe fn init<T, const V3: bool>(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
    slot: fn(&mut Ops) -> &mut Option<T>,
    make: impl FnOnce(&mut State, CK_MECHANISM_TYPE) -> Ck<T>,
) -> Ck {
    if plan::noop() {
        return Ok(());
    }
    state::with(|state| {
        // SAFETY: the caller's mechanism.
        let mechanism = unsafe { args::mechanism(p_mechanism) };
        let ops = &mut state.session(h)?.ops;
        let Some(mechanism) = mechanism? else {
            if V3 {
                *slot(ops) = None;
                return Ok(());
            }
            return Err(CKR_ARGUMENTS_BAD);
        };
        if slot(ops).is_some() {
            return Err(CKR_OPERATION_ACTIVE);
        }
        let op = make(state, mechanism)?;
        *slot(&mut state.session(h)?.ops) = Some(op);
        Ok(())
    })
}

/// A cipher with key `key` for `usage`, if `mechanism` is the XOR cipher.
fn cipher(
    state: &mut State,
    h: CK_SESSION_HANDLE,
    mechanism: CK_MECHANISM_TYPE,
    key: CK_OBJECT_HANDLE,
    usage: CK_ATTRIBUTE_TYPE,
) -> Ck<Cipher> {
    if mechanism != CKM_FAULT_XOR {
        return Err(CKR_MECHANISM_INVALID);
    }
    Ok(Cipher {
        key: state.key(h, key, usage)?,
        position: 0,
        multi: false,
    })
}

/// A MAC with key `key` for `usage`, if `mechanism` is one of the MACs.
fn mac(
    state: &mut State,
    h: CK_SESSION_HANDLE,
    mechanism: CK_MECHANISM_TYPE,
    key: CK_OBJECT_HANDLE,
    usage: CK_ATTRIBUTE_TYPE,
) -> Ck<Mac> {
    if mechanism != CKM_FAULT_MAC && mechanism != CKM_SHA256_HMAC {
        return Err(CKR_MECHANISM_INVALID);
    }
    Ok(Mac {
        mac: hmac(&state.key(h, key, usage)?),
        multi: false,
    })
}

/// Writes a final output; true when written (the operation is over).
///
/// # Safety
/// As [`out::bytes`].
unsafe fn output(data: &[u8], p_out: CK_BYTE_PTR, pul_len: CK_ULONG_PTR) -> Ck<bool> {
    // SAFETY: forwarded.
    Ok(unsafe { out::bytes(data, p_out, pul_len) }? == Delivered::Written)
}

/// A signature check.
fn check(expected: &[u8], signature: &[u8]) -> Ck<bool> {
    if signature.len() != expected.len() {
        return Err(CKR_SIGNATURE_LEN_RANGE);
    }
    if signature != expected {
        return Err(CKR_SIGNATURE_INVALID);
    }
    Ok(true)
}

/// Declares an `extern "C"` function with the standard's name and arguments whose body
/// runs under [`run`]: `entry!(C_Digest = digest(h, ...) { body })`.
macro_rules! entry {
    ($(#[$doc:meta])* $function:ident = $name:ident($h:ident: CK_SESSION_HANDLE $(, $arg:ident: $ty:ty)* $(,)?) $body:block) => {
        $(#[$doc])*
        pub(crate) unsafe extern "C" fn $name($h: CK_SESSION_HANDLE $(, $arg: $ty)*) -> CK_RV {
            run(Function::$function, Some($h), || $body)
        }
    };
}

// ---------------------------------------------------------------------------------------
// Digest
// ---------------------------------------------------------------------------------------

/// `C_DigestInit` (`V3`: of a 3.x table).
pub(crate) unsafe extern "C" fn digest_init<const V3: bool>(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
) -> CK_RV {
    run(Function::DigestInit, Some(h), || {
        // SAFETY: the caller's mechanism.
        unsafe {
            init::<_, V3>(h, p_mechanism, digest_op, |_, mechanism| {
                if mechanism != CKM_SHA256 {
                    return Err(CKR_MECHANISM_INVALID);
                }
                Ok(Digest {
                    hasher: Sha256::new(),
                    multi: false,
                })
            })
        }
    })
}

entry! {
    /// `C_Digest`.
    Digest = digest(h: CK_SESSION_HANDLE, p_data: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        if plan::noop() {
            // SAFETY: the caller's output buffer.
            return unsafe { out::bytes(&NOOP_OUTPUT, p_out, pul_out) }.map(drop);
        }
        step(h, digest_op, |digest| {
            if digest.multi {
                return Err(CKR_OPERATION_ACTIVE);
            }
            // SAFETY: the caller's data.
            let data = unsafe { args::bytes(p_data, len) }?;
            // SAFETY: the caller's output buffer.
            unsafe { output(&Sha256::digest(data), p_out, pul_out) }
        })
    }
}

entry! {
    /// `C_DigestUpdate`.
    DigestUpdate = digest_update(h: CK_SESSION_HANDLE, p_part: CK_BYTE_PTR, len: CK_ULONG) {
        if plan::noop() {
            return Ok(());
        }
        step(h, digest_op, |digest| {
            // SAFETY: the caller's data.
            digest.hasher.update(unsafe { args::bytes(p_part, len) }?);
            digest.multi = true;
            Ok(false)
        })
    }
}

entry! {
    /// `C_DigestKey`: digests a secret key's value.
    DigestKey = digest_key(h: CK_SESSION_HANDLE, key: CK_OBJECT_HANDLE) {
        state::with(|state| {
            let value = match state.visible(h, key) {
                Ok(object) if object.ulong(pkcs11_sys::CKA_CLASS) == Some(CKO_SECRET_KEY) => {
                    Ok(object.clone())
                }
                Ok(_) => Err(CKR_KEY_INDIGESTIBLE),
                Err(CKR_OBJECT_HANDLE_INVALID) => Err(CKR_KEY_HANDLE_INVALID),
                Err(rv) => Err(rv),
            };
            let ops = &mut state.session(h)?.ops;
            let digest = ops.digest.as_mut().ok_or(CKR_OPERATION_NOT_INITIALIZED)?;
            match value {
                Ok(object) => {
                    digest.hasher.update(object.bytes(CKA_VALUE).unwrap_or_default());
                    digest.multi = true;
                    Ok(())
                }
                Err(rv) => {
                    ops.end(OpKind::Digest);
                    Err(rv)
                }
            }
        })
    }
}

entry! {
    /// `C_DigestFinal`.
    DigestFinal = digest_final(h: CK_SESSION_HANDLE, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        if plan::noop() {
            // SAFETY: the caller's output buffer.
            return unsafe { out::bytes(&NOOP_OUTPUT, p_out, pul_out) }.map(drop);
        }
        step(h, digest_op, |digest| {
            // SAFETY: the caller's output buffer.
            unsafe { output(&digest.hasher.clone().finalize(), p_out, pul_out) }
        })
    }
}

// ---------------------------------------------------------------------------------------
// Encrypt and decrypt
// ---------------------------------------------------------------------------------------

/// `C_EncryptInit` (`V3`: of a 3.x table).
pub(crate) unsafe extern "C" fn encrypt_init<const V3: bool>(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
    key: CK_OBJECT_HANDLE,
) -> CK_RV {
    run(Function::EncryptInit, Some(h), || {
        // SAFETY: the caller's mechanism.
        unsafe {
            init::<_, V3>(h, p_mechanism, encrypt_op, |state, mechanism| {
                cipher(state, h, mechanism, key, CKA_ENCRYPT)
            })
        }
    })
}

/// `C_DecryptInit` (`V3`: of a 3.x table).
pub(crate) unsafe extern "C" fn decrypt_init<const V3: bool>(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
    key: CK_OBJECT_HANDLE,
) -> CK_RV {
    run(Function::DecryptInit, Some(h), || {
        // SAFETY: the caller's mechanism.
        unsafe {
            init::<_, V3>(h, p_mechanism, decrypt_op, |state, mechanism| {
                cipher(state, h, mechanism, key, CKA_DECRYPT)
            })
        }
    })
}

/// Single-part encryption or decryption (the same for a XOR cipher).
///
/// # Safety
/// The caller's buffers.
unsafe fn cipher_once(
    h: CK_SESSION_HANDLE,
    slot: fn(&mut Ops) -> &mut Option<Cipher>,
    p_in: CK_BYTE_PTR,
    len: CK_ULONG,
    p_out: CK_BYTE_PTR,
    pul_out: CK_ULONG_PTR,
) -> Ck {
    if plan::noop() {
        // SAFETY: the caller's buffers.
        return unsafe { out::bytes(args::bytes(p_in, len)?, p_out, pul_out) }.map(drop);
    }
    step(h, slot, |cipher| {
        if cipher.multi {
            return Err(CKR_OPERATION_ACTIVE);
        }
        // SAFETY: the caller's data.
        let data = unsafe { args::bytes(p_in, len) }?;
        // SAFETY: the caller's output buffer.
        unsafe { output(&xor(&cipher.key, 0, data), p_out, pul_out) }
    })
}

/// One update of `cipher`: the output for `data`; the stream advances only when the
/// output was written.
///
/// # Safety
/// The caller's buffers.
unsafe fn cipher_update(
    cipher: &mut Cipher,
    data: &[u8],
    p_out: CK_BYTE_PTR,
    pul_out: CK_ULONG_PTR,
) -> Ck<Option<Vec<u8>>> {
    let output = xor(&cipher.key, cipher.position, data);
    // SAFETY: the caller's output buffer.
    match unsafe { out::bytes(&output, p_out, pul_out) }? {
        Delivered::Query => Ok(None),
        Delivered::Written => {
            cipher.position += data.len();
            cipher.multi = true;
            Ok(Some(output))
        }
    }
}

/// `C_EncryptUpdate` / `C_DecryptUpdate`.
///
/// # Safety
/// The caller's buffers.
unsafe fn cipher_part(
    h: CK_SESSION_HANDLE,
    slot: fn(&mut Ops) -> &mut Option<Cipher>,
    p_in: CK_BYTE_PTR,
    len: CK_ULONG,
    p_out: CK_BYTE_PTR,
    pul_out: CK_ULONG_PTR,
) -> Ck {
    if plan::noop() {
        // SAFETY: as for `cipher_once`.
        return unsafe { cipher_once(h, slot, p_in, len, p_out, pul_out) };
    }
    step(h, slot, |cipher| {
        // SAFETY: the caller's buffers.
        let data = unsafe { args::bytes(p_in, len) }?;
        // SAFETY: as above.
        unsafe { cipher_update(cipher, data, p_out, pul_out) }.map(|_| false)
    })
}

/// `C_EncryptFinal` / `C_DecryptFinal`: nothing is left over.
///
/// # Safety
/// The caller's buffers.
unsafe fn cipher_final(
    h: CK_SESSION_HANDLE,
    slot: fn(&mut Ops) -> &mut Option<Cipher>,
    p_out: CK_BYTE_PTR,
    pul_out: CK_ULONG_PTR,
) -> Ck {
    if plan::noop() {
        // SAFETY: the caller's buffers.
        return unsafe { out::bytes(&[], p_out, pul_out) }.map(drop);
    }
    // SAFETY: the caller's output buffer.
    step(h, slot, |_| unsafe { output(&[], p_out, pul_out) })
}

entry! {
    /// `C_Encrypt`.
    Encrypt = encrypt(h: CK_SESSION_HANDLE, p_data: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        // SAFETY: the caller's buffers.
        unsafe { cipher_once(h, encrypt_op, p_data, len, p_out, pul_out) }
    }
}

entry! {
    /// `C_EncryptUpdate`.
    EncryptUpdate = encrypt_update(h: CK_SESSION_HANDLE, p_part: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        // SAFETY: the caller's buffers.
        unsafe { cipher_part(h, encrypt_op, p_part, len, p_out, pul_out) }
    }
}

entry! {
    /// `C_EncryptFinal`.
    EncryptFinal = encrypt_final(h: CK_SESSION_HANDLE, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        // SAFETY: the caller's buffers.
        unsafe { cipher_final(h, encrypt_op, p_out, pul_out) }
    }
}

entry! {
    /// `C_Decrypt`.
    Decrypt = decrypt(h: CK_SESSION_HANDLE, p_data: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        // SAFETY: the caller's buffers.
        unsafe { cipher_once(h, decrypt_op, p_data, len, p_out, pul_out) }
    }
}

entry! {
    /// `C_DecryptUpdate`.
    DecryptUpdate = decrypt_update(h: CK_SESSION_HANDLE, p_part: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        // SAFETY: the caller's buffers.
        unsafe { cipher_part(h, decrypt_op, p_part, len, p_out, pul_out) }
    }
}

entry! {
    /// `C_DecryptFinal`.
    DecryptFinal = decrypt_final(h: CK_SESSION_HANDLE, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        // SAFETY: the caller's buffers.
        unsafe { cipher_final(h, decrypt_op, p_out, pul_out) }
    }
}

// ---------------------------------------------------------------------------------------
// Sign and verify
// ---------------------------------------------------------------------------------------

/// `C_SignInit` (`V3`: of a 3.x table).
pub(crate) unsafe extern "C" fn sign_init<const V3: bool>(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
    key: CK_OBJECT_HANDLE,
) -> CK_RV {
    run(Function::SignInit, Some(h), || {
        // SAFETY: the caller's mechanism.
        unsafe {
            init::<_, V3>(h, p_mechanism, sign_op, |state, mechanism| {
                mac(state, h, mechanism, key, CKA_SIGN)
            })
        }
    })
}

/// `C_VerifyInit` (`V3`: of a 3.x table).
pub(crate) unsafe extern "C" fn verify_init<const V3: bool>(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
    key: CK_OBJECT_HANDLE,
) -> CK_RV {
    run(Function::VerifyInit, Some(h), || {
        // SAFETY: the caller's mechanism.
        unsafe {
            init::<_, V3>(h, p_mechanism, verify_op, |state, mechanism| {
                mac(state, h, mechanism, key, CKA_VERIFY)
            })
        }
    })
}

/// `C_SignUpdate` / `C_VerifyUpdate`.
///
/// # Safety
/// The caller's buffer.
unsafe fn mac_part(
    h: CK_SESSION_HANDLE,
    slot: fn(&mut Ops) -> &mut Option<Mac>,
    p_part: CK_BYTE_PTR,
    len: CK_ULONG,
) -> Ck {
    if plan::noop() {
        return Ok(());
    }
    step(h, slot, |mac| {
        // SAFETY: the caller's data.
        mac.mac.update(unsafe { args::bytes(p_part, len) }?);
        mac.multi = true;
        Ok(false)
    })
}

entry! {
    /// `C_Sign`.
    Sign = sign(h: CK_SESSION_HANDLE, p_data: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        if plan::noop() {
            // SAFETY: the caller's output buffer.
            return unsafe { out::bytes(&NOOP_OUTPUT, p_out, pul_out) }.map(drop);
        }
        step(h, sign_op, |mac| {
            if mac.multi {
                return Err(CKR_OPERATION_ACTIVE);
            }
            let mut once = mac.mac.clone();
            // SAFETY: the caller's data.
            once.update(unsafe { args::bytes(p_data, len) }?);
            // SAFETY: the caller's output buffer.
            unsafe { output(&once.finalize().into_bytes(), p_out, pul_out) }
        })
    }
}

entry! {
    /// `C_SignUpdate`.
    SignUpdate = sign_update(h: CK_SESSION_HANDLE, p_part: CK_BYTE_PTR, len: CK_ULONG) {
        // SAFETY: the caller's buffer.
        unsafe { mac_part(h, sign_op, p_part, len) }
    }
}

entry! {
    /// `C_SignFinal`.
    SignFinal = sign_final(h: CK_SESSION_HANDLE, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        if plan::noop() {
            // SAFETY: the caller's output buffer.
            return unsafe { out::bytes(&NOOP_OUTPUT, p_out, pul_out) }.map(drop);
        }
        step(h, sign_op, |mac| {
            // SAFETY: the caller's output buffer.
            unsafe { output(&mac.mac.clone().finalize().into_bytes(), p_out, pul_out) }
        })
    }
}

entry! {
    /// `C_Verify`: `CKR_SIGNATURE_INVALID` or `CKR_SIGNATURE_LEN_RANGE` for a bad
    /// signature.
    Verify = verify(h: CK_SESSION_HANDLE, p_data: CK_BYTE_PTR, len: CK_ULONG, p_signature: CK_BYTE_PTR, signature_len: CK_ULONG) {
        if plan::noop() {
            return Ok(());
        }
        step(h, verify_op, |mac| {
            if mac.multi {
                return Err(CKR_OPERATION_ACTIVE);
            }
            let mut once = mac.mac.clone();
            // SAFETY: the caller's data and signature.
            once.update(unsafe { args::bytes(p_data, len) }?);
            // SAFETY: as above.
            let signature = unsafe { args::bytes(p_signature, signature_len) }?;
            check(&once.finalize().into_bytes(), signature)
        })
    }
}

entry! {
    /// `C_VerifyUpdate`.
    VerifyUpdate = verify_update(h: CK_SESSION_HANDLE, p_part: CK_BYTE_PTR, len: CK_ULONG) {
        // SAFETY: the caller's buffer.
        unsafe { mac_part(h, verify_op, p_part, len) }
    }
}

entry! {
    /// `C_VerifyFinal`.
    VerifyFinal = verify_final(h: CK_SESSION_HANDLE, p_signature: CK_BYTE_PTR, signature_len: CK_ULONG) {
        if plan::noop() {
            return Ok(());
        }
        step(h, verify_op, |mac| {
            // SAFETY: the caller's signature.
            let signature = unsafe { args::bytes(p_signature, signature_len) }?;
            check(&mac.mac.clone().finalize().into_bytes(), signature)
        })
    }
}

/// `C_SignRecoverInit` / `C_VerifyRecoverInit`: no mechanism recovers data here.
fn recover_init<const V3: bool>(h: CK_SESSION_HANDLE, p_mechanism: CK_MECHANISM_PTR) -> Ck {
    state::with(|state| {
        state.session(h)?;
        match (p_mechanism.is_null(), V3) {
            (true, true) => Ok(()),
            (true, false) => Err(CKR_ARGUMENTS_BAD),
            (false, _) => Err(CKR_MECHANISM_INVALID),
        }
    })
}

/// `C_SignRecoverInit` (`V3`: of a 3.x table).
pub(crate) unsafe extern "C" fn sign_recover_init<const V3: bool>(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
    _key: CK_OBJECT_HANDLE,
) -> CK_RV {
    run(Function::SignRecoverInit, Some(h), || {
        recover_init::<V3>(h, p_mechanism)
    })
}

/// `C_VerifyRecoverInit` (`V3`: of a 3.x table).
pub(crate) unsafe extern "C" fn verify_recover_init<const V3: bool>(
    h: CK_SESSION_HANDLE,
    p_mechanism: CK_MECHANISM_PTR,
    _key: CK_OBJECT_HANDLE,
) -> CK_RV {
    run(Function::VerifyRecoverInit, Some(h), || {
        recover_init::<V3>(h, p_mechanism)
    })
}

entry! {
    /// `C_SignRecover`: never initialized.
    SignRecover = sign_recover(h: CK_SESSION_HANDLE, _p_data: CK_BYTE_PTR, _len: CK_ULONG, _p_out: CK_BYTE_PTR, _pul_out: CK_ULONG_PTR) {
        state::with(|state| state.session(h).and(Err(CKR_OPERATION_NOT_INITIALIZED)))
    }
}

entry! {
    /// `C_VerifyRecover`: never initialized.
    VerifyRecover = verify_recover(h: CK_SESSION_HANDLE, _p_signature: CK_BYTE_PTR, _len: CK_ULONG, _p_out: CK_BYTE_PTR, _pul_out: CK_ULONG_PTR) {
        state::with(|state| state.session(h).and(Err(CKR_OPERATION_NOT_INITIALIZED)))
    }
}

// ---------------------------------------------------------------------------------------
// Dual-function updates
// ---------------------------------------------------------------------------------------

entry! {
    /// `C_DigestEncryptUpdate`: digests and encrypts the part.
    DigestEncryptUpdate = digest_encrypt_update(h: CK_SESSION_HANDLE, p_part: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        pair(h, digest_op, encrypt_op, |digest, cipher| {
            // SAFETY: the caller's buffers.
            let data = unsafe { args::bytes(p_part, len) }?;
            // SAFETY: as above.
            if unsafe { cipher_update(cipher, data, p_out, pul_out) }?.is_some() {
                digest.hasher.update(data);
                digest.multi = true;
            }
            Ok(())
        })
    }
}

entry! {
    /// `C_DecryptDigestUpdate`: decrypts the part and digests the plaintext.
    DecryptDigestUpdate = decrypt_digest_update(h: CK_SESSION_HANDLE, p_part: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        pair(h, decrypt_op, digest_op, |cipher, digest| {
            // SAFETY: the caller's buffers.
            let data = unsafe { args::bytes(p_part, len) }?;
            // SAFETY: as above.
            if let Some(plain) = unsafe { cipher_update(cipher, data, p_out, pul_out) }? {
                digest.hasher.update(&plain);
                digest.multi = true;
            }
            Ok(())
        })
    }
}

entry! {
    /// `C_SignEncryptUpdate`: signs and encrypts the part.
    SignEncryptUpdate = sign_encrypt_update(h: CK_SESSION_HANDLE, p_part: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        pair(h, sign_op, encrypt_op, |mac, cipher| {
            // SAFETY: the caller's buffers.
            let data = unsafe { args::bytes(p_part, len) }?;
            // SAFETY: as above.
            if unsafe { cipher_update(cipher, data, p_out, pul_out) }?.is_some() {
                mac.mac.update(data);
                mac.multi = true;
            }
            Ok(())
        })
    }
}

entry! {
    /// `C_DecryptVerifyUpdate`: decrypts the part and verifies the plaintext.
    DecryptVerifyUpdate = decrypt_verify_update(h: CK_SESSION_HANDLE, p_part: CK_BYTE_PTR, len: CK_ULONG, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        pair(h, decrypt_op, verify_op, |cipher, mac| {
            // SAFETY: the caller's buffers.
            let data = unsafe { args::bytes(p_part, len) }?;
            // SAFETY: as above.
            if let Some(plain) = unsafe { cipher_update(cipher, data, p_out, pul_out) }? {
                mac.mac.update(&plain);
                mac.multi = true;
            }
            Ok(())
        })
    }
}

// ---------------------------------------------------------------------------------------
// Keys, random numbers, legacy functions
// ---------------------------------------------------------------------------------------

/// `err` for a key handle the module does not know, else `rv`.
fn key_error(rv: CK_RV, err: CK_RV) -> CK_RV {
    if rv == CKR_KEY_HANDLE_INVALID {
        err
    } else {
        rv
    }
}

entry! {
    /// `C_WrapKey` with the XOR cipher: the key's value XOR the wrapping key.
    WrapKey = wrap_key(h: CK_SESSION_HANDLE, p_mechanism: CK_MECHANISM_PTR, wrapping_key: CK_OBJECT_HANDLE, key: CK_OBJECT_HANDLE, p_out: CK_BYTE_PTR, pul_out: CK_ULONG_PTR) {
        state::with(|state| {
            state.session(h)?;
            // SAFETY: the caller's mechanism.
            if unsafe { args::mechanism(p_mechanism) }?.ok_or(CKR_ARGUMENTS_BAD)? != CKM_FAULT_XOR {
                return Err(CKR_MECHANISM_INVALID);
            }
            let wrapping = state
                .key(h, wrapping_key, CKA_WRAP)
                .map_err(|rv| key_error(rv, CKR_WRAPPING_KEY_HANDLE_INVALID))?;
            let value = state.wrappable(h, key)?;
            // SAFETY: the caller's output buffer.
            unsafe { out::bytes(&xor(&wrapping, 0, &value), p_out, pul_out) }.map(drop)
        })
    }
}

entry! {
    /// `C_UnwrapKey` with the XOR cipher: a secret key with the template's attributes.
    UnwrapKey = unwrap_key(h: CK_SESSION_HANDLE, p_mechanism: CK_MECHANISM_PTR, unwrapping_key: CK_OBJECT_HANDLE, p_wrapped: CK_BYTE_PTR, wrapped_len: CK_ULONG, p_template: CK_ATTRIBUTE_PTR, count: CK_ULONG, ph_key: CK_OBJECT_HANDLE_PTR) {
        state::with(|state| {
            state.session(h)?;
            // SAFETY: the caller's mechanism.
            if unsafe { args::mechanism(p_mechanism) }?.ok_or(CKR_ARGUMENTS_BAD)? != CKM_FAULT_XOR {
                return Err(CKR_MECHANISM_INVALID);
            }
            let unwrapping = state
                .key(h, unwrapping_key, CKA_UNWRAP)
                .map_err(|rv| key_error(rv, CKR_UNWRAPPING_KEY_HANDLE_INVALID))?;
            // SAFETY: the caller's wrapped key and template.
            let wrapped = unsafe { args::bytes(p_wrapped, wrapped_len) }?;
            // SAFETY: as above.
            let template = unsafe { args::template(p_template, count) }?;
            if ph_key.is_null() {
                return Err(CKR_ARGUMENTS_BAD);
            }
            let handle = state.unwrapped_key(h, template, xor(&unwrapping, 0, wrapped))?;
            // SAFETY: non-NULL (checked), writable (the caller's contract).
            unsafe { out::value(handle, ph_key) }
        })
    }
}

entry! {
    /// `C_DeriveKey`: no mechanism derives keys here.
    DeriveKey = derive_key(h: CK_SESSION_HANDLE, _p_mechanism: CK_MECHANISM_PTR, _base: CK_OBJECT_HANDLE, _p_template: CK_ATTRIBUTE_PTR, _count: CK_ULONG, _ph_key: CK_OBJECT_HANDLE_PTR) {
        state::with(|state| state.session(h).and(Err(CKR_MECHANISM_INVALID)))
    }
}

entry! {
    /// `C_SeedRandom`: the generator takes no seed.
    SeedRandom = seed_random(h: CK_SESSION_HANDLE, p_seed: CK_BYTE_PTR, len: CK_ULONG) {
        state::with(|state| {
            state.session(h)?;
            // SAFETY: the caller's seed.
            unsafe { args::bytes(p_seed, len) }?;
            Err(CKR_RANDOM_SEED_NOT_SUPPORTED)
        })
    }
}

entry! {
    /// `C_GenerateRandom`: bytes of a counter.
    GenerateRandom = generate_random(h: CK_SESSION_HANDLE, p_out: CK_BYTE_PTR, len: CK_ULONG) {
        let n = args::size(len)?;
        if n > 0 && p_out.is_null() {
            return Err(CKR_ARGUMENTS_BAD);
        }
        if plan::noop() {
            // SAFETY: `n` writable bytes (the caller's contract).
            unsafe { p_out.write_bytes(0, n) };
            return Ok(());
        }
        state::with(|state| {
            state.session(h)?;
            let bytes = random_bytes(state, n);
            if !out::nowrite() {
                let bytes = if out::garbage_wanted() { out::garbage(n) } else { bytes };
                // SAFETY: `n` writable bytes (the caller's contract).
                unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), p_out, n) };
            }
            Ok(())
        })
    }
}

entry! {
    /// `C_GetOperationState`: no state is saveable.
    GetOperationState = get_operation_state(h: CK_SESSION_HANDLE, _p_state: CK_BYTE_PTR, _pul_len: CK_ULONG_PTR) {
        state::with(|state| {
            if state.session(h)?.ops.any() {
                Err(CKR_STATE_UNSAVEABLE)
            } else {
                Err(CKR_OPERATION_NOT_INITIALIZED)
            }
        })
    }
}

entry! {
    /// `C_SetOperationState`: no state was ever saved.
    SetOperationState = set_operation_state(h: CK_SESSION_HANDLE, _p_state: CK_BYTE_PTR, _len: CK_ULONG, _encryption_key: CK_OBJECT_HANDLE, _authentication_key: CK_OBJECT_HANDLE) {
        state::with(|state| state.session(h).and(Err(CKR_SAVED_STATE_INVALID)))
    }
}

entry! {
    /// `C_GetFunctionStatus` (legacy): `CKR_FUNCTION_NOT_PARALLEL`.
    GetFunctionStatus = get_function_status(h: CK_SESSION_HANDLE) {
        state::with(|state| state.session(h).and(Err(CKR_FUNCTION_NOT_PARALLEL)))
    }
}

entry! {
    /// `C_CancelFunction` (legacy): `CKR_FUNCTION_NOT_PARALLEL`.
    CancelFunction = cancel_function(h: CK_SESSION_HANDLE) {
        state::with(|state| state.session(h).and(Err(CKR_FUNCTION_NOT_PARALLEL)))
    }
}

entry! {
    /// `C_SessionCancel` (3.0): ends the operations `flags` name.
    SessionCancel = session_cancel(h: CK_SESSION_HANDLE, flags: CK_FLAGS) {
        state::with(|state| {
            let ops = &mut state.session(h)?.ops;
            for (flag, kind) in [
                (CKF_DIGEST, OpKind::Digest),
                (CKF_ENCRYPT, OpKind::Encrypt),
                (CKF_DECRYPT, OpKind::Decrypt),
                (CKF_SIGN, OpKind::Sign),
                (CKF_VERIFY, OpKind::Verify),
                (CKF_FIND_OBJECTS, OpKind::Find),
            ] {
                if flags & flag != 0 {
                    ops.end(kind);
                }
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xor_is_its_own_inverse_across_parts() {
        let key = b"key";
        let data = b"attack at dawn";
        let whole = xor(key, 0, data);
        let mut parts = xor(key, 0, &data[..5]);
        parts.extend(xor(key, 5, &data[5..]));
        assert_eq!(whole, parts);
        assert_eq!(xor(key, 0, &whole), data);
    }

    #[test]
    fn mac_is_hmac_sha256() {
        // RFC 4231 test case 2.
        let mut mac = hmac(b"Jefe");
        mac.update(b"what do ya want for nothing?");
        let tag = mac.finalize().into_bytes();
        assert_eq!(tag[..4], [0x5b, 0xdc, 0xc1, 0x46]);
        assert_eq!(check(&tag, &tag), Ok(true));
        assert_eq!(check(&tag, &tag[..31]), Err(CKR_SIGNATURE_LEN_RANGE));
        assert_eq!(check(&tag, &[0; 32]), Err(CKR_SIGNATURE_INVALID));
    }
}
