//! Outputs: everything the module writes through a caller's pointer goes through here,
//! where the current call's faults (`len`, `nowrite`, `garbage`, `version`) apply.
//!
//! Variable-length outputs follow the standard's two-call idiom: a NULL buffer asks for
//! the length (`CKR_OK`); a buffer too small gets `CKR_BUFFER_TOO_SMALL` and the length;
//! otherwise the value is written with its exact length.

use core::ptr;

use pkcs11_sys::{CKR_ARGUMENTS_BAD, CKR_BUFFER_TOO_SMALL, CK_ULONG, CK_ULONG_PTR, CK_VERSION};

use crate::entry::{effects, Ck};
use crate::plan::Lie;

/// Bytes written by the plan action `garbage`: not UTF-8, with NULs, no blank padding.
const GARBAGE: &[u8] = b"\xff\xfe\x00fault\xc3\x28\x80\x00\xf0\x9f";

/// `len` bytes of garbage.
pub(crate) fn garbage(len: usize) -> Vec<u8> {
    GARBAGE.iter().copied().cycle().take(len).collect()
}

/// How a variable-length output call ended when it did not fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Delivered {
    /// A length query (NULL buffer): the operation goes on.
    Query,
    /// The value was written: a final call ends its operation.
    Written,
}

/// The length or count to report for a true `truth`, after the plan's lie.
pub(crate) fn reported(truth: CK_ULONG) -> CK_ULONG {
    let effects = effects();
    effects
        .actions
        .len
        .map_or(truth, |lie| lie.apply(truth, effects.hit))
}

/// The room a buffer must have: the truth, or the lie for [`Lie::Grow`] (so that a
/// buffer of the size reported before is never enough).
fn needed(truth: CK_ULONG) -> CK_ULONG {
    match effects().actions.len {
        Some(Lie::Grow) => reported(truth),
        _ => truth,
    }
}

/// Whether the plan says `nowrite` for this call.
pub(crate) fn nowrite() -> bool {
    effects().actions.nowrite
}

/// Whether the plan says `garbage` for this call.
pub(crate) fn garbage_wanted() -> bool {
    effects().actions.garbage
}

/// Writes `value` to `*p` (unaligned).
///
/// # Safety
/// `p` is NULL or valid for writing a `T`.
pub(crate) unsafe fn value<T>(value: T, p: *mut T) -> Ck {
    if p.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    if !nowrite() {
        // SAFETY: non-NULL and writable (the caller's contract).
        unsafe { ptr::write_unaligned(p, value) };
    }
    Ok(())
}

/// Writes a length or count to `*p` (unless `nowrite`).
///
/// # Safety
/// `p` is non-NULL and valid for writing a `CK_ULONG`.
unsafe fn length(p: CK_ULONG_PTR, len: CK_ULONG) {
    if !nowrite() {
        // SAFETY: the caller's contract.
        unsafe { p.write_unaligned(len) };
    }
}

/// A variable-length byte output: `data` into `p_out` (room `*pul_len`).
///
/// # Safety
/// `pul_len` is NULL or valid for reading and writing a `CK_ULONG`; `p_out` is NULL or
/// valid for writing `*pul_len` bytes.
pub(crate) unsafe fn bytes(data: &[u8], p_out: *mut u8, pul_len: CK_ULONG_PTR) -> Ck<Delivered> {
    // SAFETY: forwarded.
    unsafe { list(data, p_out, pul_len) }
}

/// A list output of the two-call idiom: `items` into `p_list` (room `*pul_count`).
///
/// # Safety
/// `pul_count` is NULL or valid for reading and writing a `CK_ULONG`; `p_list` is NULL
/// or valid for writing `*pul_count` items.
pub(crate) unsafe fn list<T: Copy>(
    items: &[T],
    p_list: *mut T,
    pul_count: CK_ULONG_PTR,
) -> Ck<Delivered> {
    if pul_count.is_null() {
        return Err(CKR_ARGUMENTS_BAD);
    }
    let truth = items.len() as CK_ULONG;
    let reported = reported(truth);
    if p_list.is_null() {
        // SAFETY: non-NULL (checked), writable (the caller's contract).
        unsafe { length(pul_count, reported) };
        return Ok(Delivered::Query);
    }
    // SAFETY: as above, readable too.
    let room = unsafe { pul_count.read_unaligned() };
    if room < needed(truth) {
        // SAFETY: as above.
        unsafe { length(pul_count, reported) };
        return Err(CKR_BUFFER_TOO_SMALL);
    }
    if !nowrite() {
        if garbage_wanted() && size_of::<T>() == 1 {
            let junk = garbage(items.len());
            // SAFETY: `p_list` has room for `room >= items.len()` one-byte items.
            unsafe { ptr::copy_nonoverlapping(junk.as_ptr(), p_list.cast::<u8>(), junk.len()) };
        } else {
            for (index, item) in items.iter().enumerate() {
                // SAFETY: `p_list` has room for `room >= items.len()` items.
                unsafe { p_list.add(index).write_unaligned(*item) };
            }
        }
    }
    // SAFETY: as above.
    unsafe { length(pul_count, reported) };
    Ok(Delivered::Written)
}

/// A blank-padded text field holding `text` — or garbage if the plan says so.
pub(crate) fn text<const N: usize>(text: &str) -> [u8; N] {
    let mut field = [b' '; N];
    if garbage_wanted() {
        field.copy_from_slice(&garbage(N));
        return field;
    }
    let bytes = text.as_bytes();
    let length = bytes.len().min(N);
    field[..length].copy_from_slice(&bytes[..length]);
    field
}

/// `real`, or the version the plan makes this call report.
pub(crate) fn version(real: CK_VERSION) -> CK_VERSION {
    effects()
        .actions
        .version
        .map_or(real, |(major, minor)| CK_VERSION { major, minor })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_and_truncates() {
        assert_eq!(&text::<4>("ab"), b"ab  ");
        assert_eq!(&text::<2>("abc"), b"ab");
    }

    #[test]
    fn two_call_idiom() {
        let data = [1u8, 2, 3];
        let mut len: CK_ULONG = 0;
        // SAFETY: `len` is writable; NULL buffer.
        let r = unsafe { bytes(&data, ptr::null_mut(), &mut len) };
        assert_eq!((r, len), (Ok(Delivered::Query), 3));
        let mut small = [0u8; 2];
        len = 2;
        // SAFETY: `small` has room for `len` bytes.
        let r = unsafe { bytes(&data, small.as_mut_ptr(), &mut len) };
        assert_eq!((r, len), (Err(CKR_BUFFER_TOO_SMALL), 3));
        let mut room = [0u8; 8];
        len = 8;
        // SAFETY: `room` has room for `len` bytes.
        let r = unsafe { bytes(&data, room.as_mut_ptr(), &mut len) };
        assert_eq!((r, len, &room[..3]), (Ok(Delivered::Written), 3, &data[..]));
        // SAFETY: NULL length pointer.
        let r = unsafe { bytes(&data, room.as_mut_ptr(), ptr::null_mut()) };
        assert_eq!(r, Err(CKR_ARGUMENTS_BAD));
    }

    #[test]
    fn garbage_is_not_utf8() {
        assert!(std::str::from_utf8(&garbage(32)).is_err());
        assert!(garbage(32).contains(&0));
    }
}
