//! Inputs: reading what the caller passes (byte strings, mechanisms, templates), with
//! the standard's checks, into owned Rust values.

use core::{ptr, slice};

use pkcs11_sys::{
    CKF_ARRAY_ATTRIBUTE, CKR_ARGUMENTS_BAD, CKR_ATTRIBUTE_VALUE_INVALID,
    CKR_MECHANISM_PARAM_INVALID, CK_ATTRIBUTE, CK_ATTRIBUTE_PTR, CK_ATTRIBUTE_TYPE, CK_MECHANISM,
    CK_MECHANISM_PTR, CK_MECHANISM_TYPE, CK_ULONG,
};

use crate::entry::Ck;
use crate::objects::Value;

/// A length as `usize`.
pub(crate) fn size(len: CK_ULONG) -> Ck<usize> {
    usize::try_from(len).map_err(|_| CKR_ARGUMENTS_BAD)
}

/// The `len` bytes at `p` (NULL is allowed for zero bytes).
///
/// # Safety
/// `p` is NULL or valid for reading `len` bytes for `'a`.
pub(crate) unsafe fn bytes<'a>(p: *const u8, len: CK_ULONG) -> Ck<&'a [u8]> {
    let len = size(len)?;
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    // SAFETY: non-NULL, `len` readable bytes (the caller's contract).
    Ok(unsafe { slice::from_raw_parts(p, len) })
}

/// A mechanism without parameters: its type, or `None` for a NULL pointer.
///
/// # Safety
/// `p` is NULL or valid for reading a `CK_MECHANISM`.
pub(crate) unsafe fn mechanism(p: CK_MECHANISM_PTR) -> Ck<Option<CK_MECHANISM_TYPE>> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-NULL and readable (the caller's contract).
    let mechanism: CK_MECHANISM = unsafe { ptr::read_unaligned(p) };
    // None of this module's mechanisms takes a parameter.
    if !{ mechanism.pParameter }.is_null() || { mechanism.ulParameterLen } != 0 {
        return Err(CKR_MECHANISM_PARAM_INVALID);
    }
    Ok(Some(mechanism.mechanism))
}

/// The entries of the attribute array at `p`.
///
/// # Safety
/// `p` is NULL or valid for reading `count` `CK_ATTRIBUTE`s.
pub(crate) unsafe fn attributes(p: CK_ATTRIBUTE_PTR, count: CK_ULONG) -> Ck<Vec<CK_ATTRIBUTE>> {
    let count = size(count)?;
    if count == 0 {
        return Ok(Vec::new());
    }
    if p.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    // SAFETY: `count` readable entries (the caller's contract); read unaligned.
    Ok((0..count)
        .map(|index| unsafe { p.add(index).read_unaligned() })
        .collect())
}

/// Whether attributes of type `ty` hold an array of attributes (`CKA_WRAP_TEMPLATE`...).
pub(crate) fn is_array(ty: CK_ATTRIBUTE_TYPE) -> bool {
    ty & CKF_ARRAY_ATTRIBUTE != 0
}

/// An input template: types and values.
///
/// # Safety
/// `p` is NULL or valid for reading `count` `CK_ATTRIBUTE`s, each of whose values is
/// valid for reading `ulValueLen` bytes (nested templates likewise, one level deep).
pub(crate) unsafe fn template(
    p: CK_ATTRIBUTE_PTR,
    count: CK_ULONG,
) -> Ck<Vec<(CK_ATTRIBUTE_TYPE, Value)>> {
    // SAFETY: forwarded.
    let entries = unsafe { attributes(p, count) }?;
    let mut template = Vec::with_capacity(entries.len());
    for entry in entries {
        let ty = entry.type_;
        let value = if is_array(ty) {
            let len = size(entry.ulValueLen)?;
            if len % size_of::<CK_ATTRIBUTE>() != 0 {
                return Err(CKR_ATTRIBUTE_VALUE_INVALID);
            }
            let inner_count = (len / size_of::<CK_ATTRIBUTE>()) as CK_ULONG;
            // SAFETY: an array attribute's value is an array of CK_ATTRIBUTE (the
            // caller's contract).
            let inner = unsafe { attributes(entry.pValue.cast(), inner_count) }?;
            let mut nested = Vec::with_capacity(inner.len());
            for inner in inner {
                if is_array(inner.type_) {
                    return Err(CKR_ATTRIBUTE_VALUE_INVALID);
                }
                // SAFETY: each entry's value is readable (the caller's contract).
                let bytes = unsafe { bytes(inner.pValue.cast(), inner.ulValueLen) }
                    .map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?;
                nested.push((inner.type_, bytes.to_vec()));
            }
            Value::Template(nested)
        } else {
            // SAFETY: the value is readable (the caller's contract).
            let bytes = unsafe { bytes(entry.pValue.cast(), entry.ulValueLen) }
                .map_err(|_| CKR_ATTRIBUTE_VALUE_INVALID)?;
            Value::Bytes(bytes.to_vec())
        };
        template.push((ty, value));
    }
    Ok(template)
}
