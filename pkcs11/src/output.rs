//! The one helper for every variable-length output (RELIABILITY rules 15–18 and 34).
//!
//! A module function with a variable-length output (`C_Encrypt`, `C_SignFinal`,
//! `C_DigestFinal`...) is driven through a closure `call(out, len)` that makes one call:
//! `out` is `None` for the length query (NULL buffer) or the buffer to fill; `*len` comes
//! back as the module reported it. The helpers here decide what to do with the answer:
//!
//! - [`fetch`]: the two-call idiom, for bytes and for lists alike (slot IDs, mechanism
//!   types: `Vec<T>` of any plain element type). A NULL query (answered `CKR_OK`, or tolerated
//!   `CKR_BUFFER_TOO_SMALL`) gives a length, which may be larger than the result; a buffer
//!   of exactly that size is allocated and the call made; `CKR_BUFFER_TOO_SMALL` (the
//!   length changed) is retried with the new size a bounded number of times; the result is
//!   truncated to the final call's length.
//! - [`into_slice`]: one call into the caller's buffer, allocating nothing.
//!
//! Lengths are checked before anything is allocated: `CK_UNAVAILABLE_INFORMATION`, a
//! length above [`MAX_OUTPUT`], a length larger than the buffer after `CKR_OK`, a
//! `CKR_BUFFER_TOO_SMALL` that asks for no more than the buffer held, or a length that
//! never converges are [`Error::ModuleContract`], never an allocation or a panic.
//!
//! Secret outputs ([`SecretBytes`]) are never grown in place: each attempt gets a fresh
//! zeroed buffer and the previous one is wiped when it is dropped, on every path.

use zeroize::Zeroize;

use crate::error::{Error, Result};
use crate::raw::Returned;
use crate::secret::SecretBytes;

/// The largest output the helper allocates: 64 MiB (for lists: that many bytes of
/// elements). A module that asks for more is treated as broken rather than trusted with
/// the process's memory.
pub(crate) const MAX_OUTPUT: usize = 64 << 20;

/// How many buffers [`fetch`] tries after the length query before giving up.
const ATTEMPTS: usize = 4;

/// A buffer the helper can allocate and truncate: `Vec<T>` (bytes, or a list of slot IDs,
/// mechanism types...) or [`SecretBytes`].
pub(crate) trait OutputBuffer: Sized {
    /// The element the module writes (`u8` for byte outputs).
    type Item;
    /// A zeroed (default-filled) buffer of `len` elements.
    fn zeroed(len: usize) -> Self;
    /// The elements, for the module to fill.
    fn bytes_mut(&mut self) -> &mut [Self::Item];
    /// Keeps the first `len` elements (never reallocates).
    fn truncate(&mut self, len: usize);
}

impl<T: Copy + Default> OutputBuffer for Vec<T> {
    type Item = T;

    fn zeroed(len: usize) -> Self {
        vec![T::default(); len]
    }

    fn bytes_mut(&mut self) -> &mut [T] {
        self
    }

    fn truncate(&mut self, len: usize) {
        Vec::truncate(self, len);
    }
}

impl OutputBuffer for SecretBytes {
    type Item = u8;

    fn zeroed(len: usize) -> Self {
        SecretBytes::new(vec![0; len])
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        self.as_mut_vec()
    }

    fn truncate(&mut self, len: usize) {
        // `Zeroizing<Vec<u8>>` wipes the whole capacity on drop, the cut tail included.
        self.as_mut_vec().truncate(len);
    }
}

/// What one call into the caller's buffer gave: see [`into_slice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Written {
    /// `CKR_OK`: this many bytes were written.
    Done(usize),
    /// `CKR_BUFFER_TOO_SMALL`: the module needs `needed` bytes (checked against
    /// [`MAX_OUTPUT`] and known to exceed the buffer). The operation is still active.
    TooSmall {
        /// The function that answered.
        function: &'static str,
        /// The length it asked for.
        needed: usize,
    },
}

/// The error for a caller's buffer that is too small: [`Error::InvalidInput`] naming the
/// function and both lengths.
pub(crate) fn too_small(function: &'static str, needed: usize, given: usize) -> Error {
    Error::InvalidInput {
        what: format!(
            "output buffer too small for {function}: {needed} bytes needed, {given} given"
        ),
    }
}

impl Written {
    /// The length written, or the "too small" error for a caller's buffer of `given`
    /// bytes (for calls that leave the operation active, so the caller may retry).
    pub(crate) fn or_too_small(self, given: usize) -> Result<usize> {
        match self {
            Written::Done(len) => Ok(len),
            Written::TooSmall { function, needed } => Err(too_small(function, needed, given)),
        }
    }
}

fn contract(function: &'static str, what: String) -> Error {
    Error::ModuleContract { function, what }
}

/// A length the module reported, as a size we are willing to allocate.
pub(crate) fn checked_len(function: &'static str, len: ffi::CK_ULONG) -> Result<usize> {
    checked_count::<u8>(function, len)
}

/// A length or count of `T` elements the module reported, as a number of elements we
/// are willing to allocate ([`MAX_OUTPUT`] bytes at most).
fn checked_count<T>(function: &'static str, len: ffi::CK_ULONG) -> Result<usize> {
    if len == ffi::CK_UNAVAILABLE_INFORMATION {
        return Err(contract(
            function,
            "reported CK_UNAVAILABLE_INFORMATION as an output length".into(),
        ));
    }
    let cap = MAX_OUTPUT / std::mem::size_of::<T>().max(1);
    match usize::try_from(len) {
        Ok(len) if len <= cap => Ok(len),
        _ => Err(contract(
            function,
            format!("reported an absurd output length of {len} (the cap is {cap})"),
        )),
    }
}

/// The length written after `CKR_OK`: at most the buffer's size.
#[inline]
fn written(function: &'static str, len: ffi::CK_ULONG, capacity: usize) -> Result<usize> {
    match usize::try_from(len) {
        Ok(len) if len <= capacity => Ok(len),
        _ => Err(contract(
            function,
            format!("reported writing {len} bytes into a {capacity}-byte buffer"),
        )),
    }
}

/// The two-call idiom: a NULL length query, then a buffer of the reported size, retried
/// on `CKR_BUFFER_TOO_SMALL`; the result is truncated to the final length.
///
/// `call` makes one module call and records it on the operation; any answer but
/// `CKR_OK` and `CKR_BUFFER_TOO_SMALL` is returned as the module's error.
pub(crate) fn fetch<B: OutputBuffer>(
    mut call: impl FnMut(Option<&mut [B::Item]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<B> {
    let mut len: ffi::CK_ULONG = 0;
    let returned = call(None, &mut len)?;
    let need = match returned.rv {
        // Some modules answer a NULL query with BUFFER_TOO_SMALL (rule 17): same meaning.
        ffi::CKR_OK | ffi::CKR_BUFFER_TOO_SMALL => {
            checked_count::<B::Item>(returned.function, len)?
        }
        _ => return Err(returned.error()),
    };
    fetch_from(returned.function, need, call)
}

/// The retry loop of [`fetch`] once the module has asked for `need` items.
fn fetch_from<B: OutputBuffer>(
    mut function: &'static str,
    mut need: usize,
    mut call: impl FnMut(Option<&mut [B::Item]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<B> {
    let mut len: ffi::CK_ULONG = 0;
    for _ in 0..ATTEMPTS {
        // A fresh buffer per attempt: the previous one (secret or not) is dropped, and
        // a `SecretBytes` is wiped as it goes.
        let mut buffer = B::zeroed(need);
        let returned = call(Some(buffer.bytes_mut()), &mut len)?;
        function = returned.function;
        match returned.rv {
            ffi::CKR_OK => {
                let len = written(function, len, need)?;
                buffer.truncate(len);
                return Ok(buffer);
            }
            ffi::CKR_BUFFER_TOO_SMALL => {
                let asked = checked_count::<B::Item>(function, len)?;
                if asked <= need {
                    return Err(contract(
                        function,
                        format!(
                            "answered CKR_BUFFER_TOO_SMALL to a {need}-byte buffer, asking \
                             for {asked} bytes"
                        ),
                    ));
                }
                need = asked;
            }
            _ => return Err(returned.error()),
        }
    }
    Err(contract(
        function,
        format!("the output length did not converge after {ATTEMPTS} attempts"),
    ))
}

/// Like [`fetch`], but starts with a buffer of `guess` items instead of a NULL length
/// query, saving a module round trip when the output length is known or bounded (a
/// digest, a block cipher's update): one call when the guess suffices, and the module's
/// `CKR_BUFFER_TOO_SMALL` answer (which ends nothing) leads to the usual retries.
///
/// It also spares modules that mishandle length queries on update calls (Kryoptic 1.5
/// consumes the input of a NULL-buffer `C_DecryptUpdate`).
pub(crate) fn fetch_guess<B: OutputBuffer>(
    guess: usize,
    mut call: impl FnMut(Option<&mut [B::Item]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<B> {
    if guess == 0 || guess > MAX_OUTPUT / std::mem::size_of::<B::Item>().max(1) {
        return fetch(call);
    }
    let mut len: ffi::CK_ULONG = 0;
    let mut buffer = B::zeroed(guess);
    let returned = call(Some(buffer.bytes_mut()), &mut len)?;
    match returned.rv {
        ffi::CKR_OK => {
            let len = written(returned.function, len, guess)?;
            buffer.truncate(len);
            Ok(buffer)
        }
        ffi::CKR_BUFFER_TOO_SMALL => {
            drop(buffer);
            let asked = checked_count::<B::Item>(returned.function, len)?;
            if asked <= guess {
                // No usable length in the answer: ask the usual way.
                return fetch(call);
            }
            fetch_from(returned.function, asked, call)
        }
        _ => Err(returned.error()),
    }
}

/// One call into the caller's `out`, allocating nothing.
///
/// Returns [`Written::Done`] with the length written, or [`Written::TooSmall`] with the
/// length the module asked for (the operation is then still active: the caller retries
/// with a larger buffer, or ends the operation). When `secret` is set, `out` is wiped on
/// every outcome but success, so no partial plaintext is left in it.
#[inline]
pub(crate) fn into_slice(
    out: &mut [u8],
    secret: bool,
    call: impl FnOnce(Option<&mut [u8]>, &mut ffi::CK_ULONG) -> Result<Returned>,
) -> Result<Written> {
    let capacity = out.len();
    let mut len: ffi::CK_ULONG = 0;
    let outcome = call(Some(&mut *out), &mut len).and_then(|returned| {
        let function = returned.function;
        match returned.rv {
            ffi::CKR_OK => written(function, len, capacity).map(Written::Done),
            ffi::CKR_BUFFER_TOO_SMALL => {
                let asked = checked_len(function, len)?;
                if asked <= capacity {
                    return Err(contract(
                        function,
                        format!(
                            "answered CKR_BUFFER_TOO_SMALL to a {capacity}-byte buffer, \
                             asking for {asked} bytes"
                        ),
                    ));
                }
                Ok(Written::TooSmall {
                    function,
                    needed: asked,
                })
            }
            _ => Err(returned.error()),
        }
    });
    if secret && !matches!(outcome, Ok(Written::Done(_))) {
        out.zeroize();
    }
    outcome
}

#[cfg(test)]
pub(crate) mod proptests;

#[cfg(test)]
mod tests {
    use std::cell::RefCell;

    use super::*;

    /// A scripted module function: each call pops (rv, len, bytes to write). Shared with
    /// the property tests ([`super::proptests`]).
    pub(super) struct Script {
        steps: RefCell<Vec<(ffi::CK_RV, ffi::CK_ULONG, Vec<u8>)>>,
        /// The size of the buffer of every call made (`None` for a NULL length query).
        pub(super) seen: RefCell<Vec<Option<usize>>>,
    }

    impl Script {
        pub(super) fn new(mut steps: Vec<(ffi::CK_RV, ffi::CK_ULONG, Vec<u8>)>) -> Script {
            steps.reverse();
            Script {
                steps: RefCell::new(steps),
                seen: RefCell::new(Vec::new()),
            }
        }

        /// One call: writes the step's bytes (as many as the buffer holds: a module
        /// never writes past the length it was given), reports the step's length and
        /// returns its value.
        pub(super) fn call(
            &self,
            out: Option<&mut [u8]>,
            len: &mut ffi::CK_ULONG,
        ) -> Result<Returned> {
            self.seen.borrow_mut().push(out.as_ref().map(|o| o.len()));
            let (rv, reported, bytes) = self.steps.borrow_mut().pop().expect("extra call");
            if let Some(out) = out {
                let n = bytes.len().min(out.len());
                out[..n].copy_from_slice(&bytes[..n]);
            }
            *len = reported;
            Ok(Returned {
                function: "C_Test",
                rv,
            })
        }
    }

    #[test]
    fn two_calls_then_truncate_to_the_final_length() {
        let script = Script::new(vec![
            (ffi::CKR_OK, 10, vec![]),
            (ffi::CKR_OK, 3, vec![1, 2, 3]),
        ]);
        let out: Vec<u8> = fetch(|o, l| script.call(o, l)).unwrap();
        assert_eq!(out, [1, 2, 3]);
        assert_eq!(*script.seen.borrow(), [None, Some(10)]);
    }

    #[test]
    fn buffer_too_small_to_the_query_is_tolerated_and_retries_grow() {
        let script = Script::new(vec![
            (ffi::CKR_BUFFER_TOO_SMALL, 4, vec![]),
            (ffi::CKR_BUFFER_TOO_SMALL, 8, vec![]),
            (ffi::CKR_OK, 8, vec![9; 8]),
        ]);
        let out: SecretBytes = fetch(|o, l| script.call(o, l)).unwrap();
        assert_eq!(&*out, &[9; 8]);
        assert_eq!(*script.seen.borrow(), [None, Some(4), Some(8)]);
    }

    #[test]
    fn absurd_and_unavailable_lengths_are_contract_errors_before_allocation() {
        let two_to_the_40 = ffi::CK_ULONG::try_from(1u64 << 40).unwrap_or(ffi::CK_ULONG::MAX - 1);
        let over_cap = MAX_OUTPUT as ffi::CK_ULONG + 1;
        for len in [ffi::CK_UNAVAILABLE_INFORMATION, two_to_the_40, over_cap] {
            let script = Script::new(vec![(ffi::CKR_OK, len, vec![])]);
            let error = fetch::<Vec<u8>>(|o, l| script.call(o, l)).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::ModuleContract {
                        function: "C_Test",
                        ..
                    }
                ),
                "{error}"
            );
            assert_eq!(script.seen.borrow().len(), 1, "nothing allocated or called");
        }
    }

    #[test]
    fn a_length_larger_than_the_buffer_after_ok_is_a_contract_error() {
        let script = Script::new(vec![(ffi::CKR_OK, 4, vec![]), (ffi::CKR_OK, 5, vec![])]);
        let error = fetch::<Vec<u8>>(|o, l| script.call(o, l)).unwrap_err();
        assert!(error
            .to_string()
            .contains("writing 5 bytes into a 4-byte buffer"));

        let mut out = [0u8; 4];
        let script = Script::new(vec![(ffi::CKR_OK, 5, vec![])]);
        let error = into_slice(&mut out, false, |o, l| script.call(o, l)).unwrap_err();
        assert!(matches!(error, Error::ModuleContract { .. }), "{error}");
    }

    #[test]
    fn a_length_that_never_converges_is_a_contract_error() {
        let mut steps = vec![(ffi::CKR_OK, 1, vec![])];
        for n in 2..10 {
            steps.push((ffi::CKR_BUFFER_TOO_SMALL, n, vec![]));
        }
        let script = Script::new(steps);
        let error = fetch::<Vec<u8>>(|o, l| script.call(o, l)).unwrap_err();
        assert!(error.to_string().contains("did not converge"), "{error}");
        assert_eq!(script.seen.borrow().len(), 1 + ATTEMPTS);

        // Too small, yet asking for no more than was given: a lie.
        let script = Script::new(vec![
            (ffi::CKR_OK, 8, vec![]),
            (ffi::CKR_BUFFER_TOO_SMALL, 8, vec![]),
        ]);
        let error = fetch::<Vec<u8>>(|o, l| script.call(o, l)).unwrap_err();
        assert!(matches!(error, Error::ModuleContract { .. }), "{error}");
    }

    #[test]
    fn module_errors_pass_through() {
        let script = Script::new(vec![
            (ffi::CKR_OK, 8, vec![]),
            (ffi::CKR_DATA_INVALID, 0, vec![]),
        ]);
        let error = fetch::<Vec<u8>>(|o, l| script.call(o, l)).unwrap_err();
        assert_eq!(error.rv(), Some(crate::Rv::DataInvalid));
    }

    #[test]
    fn into_slice_reports_written_or_needed_and_wipes_secret_output_on_failure() {
        let mut out = [0u8; 4];
        let script = Script::new(vec![(ffi::CKR_OK, 2, vec![5, 6])]);
        assert_eq!(
            into_slice(&mut out, true, |o, l| script.call(o, l)).unwrap(),
            Written::Done(2)
        );
        assert_eq!(out[..2], [5, 6]);

        let mut out = [0u8; 4];
        let script = Script::new(vec![(ffi::CKR_BUFFER_TOO_SMALL, 16, vec![7, 7])]);
        let needed = into_slice(&mut out, true, |o, l| script.call(o, l)).unwrap();
        assert_eq!(
            needed,
            Written::TooSmall {
                function: "C_Test",
                needed: 16
            }
        );
        assert_eq!(out, [0; 4], "partial secret output is wiped");
        let error = too_small("C_Test", 16, 4);
        assert_eq!(
            error.to_string(),
            "invalid input: output buffer too small for C_Test: 16 bytes needed, 4 given"
        );

        let mut out = [0u8; 4];
        let script = Script::new(vec![(ffi::CKR_ENCRYPTED_DATA_INVALID, 0, vec![1, 2, 3])]);
        assert!(into_slice(&mut out, true, |o, l| script.call(o, l)).is_err());
        assert_eq!(out, [0; 4]);
    }
}
