//! Attribute marshalling: the one engine behind every `C_GetAttributeValue`, and the
//! input templates of `C_CreateObject`, `C_FindObjectsInit`, `C_SetAttributeValue`,
//! `C_GenerateKey`...
//!
//! # Reading attributes (RELIABILITY rules 18–24)
//!
//! [`get_attribute_values`] reads any list of attributes of one object in as few calls as
//! the values allow, and hands every answer of the module, per attribute, to the caller
//! as an [`Outcome`] borrowing the engine's buffers (decoded in place, never copied in
//! between):
//!
//! - The first call already offers every attribute a buffer in one call-local arena (on
//!   the stack for small requests): fixed-size values (`CK_BBOOL`, `CK_ULONG`, `CK_DATE`,
//!   `CK_VERSION`) a room larger than the value, variable ones (bytes, text, `CK_ULONG`
//!   arrays) a guess of [`GUESS_ROOM`] bytes. The common read takes one call, like C.
//! - A fixed-size value must have exactly its size (rule 21); an untouched room shows a
//!   module that skipped the attribute. A variable value that does not fit its guess
//!   (`CKR_BUFFER_TOO_SMALL`), or fills it exactly (it may have been skipped), takes a
//!   length query and a fetch into a buffer one byte larger than its length; nested
//!   templates (`CKA_WRAP_TEMPLATE`...) take three calls (length, the entries' types and
//!   lengths, the values). All attributes in the same stage share one call.
//! - `CK_UNAVAILABLE_INFORMATION` is never a length (rule 20). `CKR_ATTRIBUTE_SENSITIVE`,
//!   `CKR_ATTRIBUTE_TYPE_INVALID` and `CKR_BUFFER_TOO_SMALL` are per-attribute answers
//!   (rule 19): when the call's return value cannot tell which attribute it is about, or
//!   the module skipped an attribute, that attribute is asked for again (with a length
//!   query, then on its own).
//! - Zero-length values are legal and never read through a pointer (rule 22); every
//!   buffer is aligned for `CK_ULONG`, pointers and `CK_ATTRIBUTE`, whatever the module
//!   writes into it (rule 23); a nested template whose entries point anywhere but into
//!   our buffers is rejected without being read (rule 24); a length larger than the
//!   buffer after `CKR_OK`, or beyond [`MAX_VALUE_LEN`], is a contract violation raised
//!   before any allocation (rule 18).
//! - Every buffer, the arena included, is wiped when dropped: sensitive values never
//!   linger (rule 34).

use core::ffi::c_void;
use std::mem::{align_of, size_of};
use std::ptr;

use ffi::{CK_ATTRIBUTE, CK_ATTRIBUTE_TYPE, CK_OBJECT_HANDLE, CK_RV, CK_ULONG};
use zeroize::{Zeroize, Zeroizing};

use crate::attribute::AttributeType;
use crate::error::{Error, Result};
use crate::raw::{call, Returned};
use crate::session::Session;

/// The function every error of the engine names.
const FUNCTION: &str = "C_GetAttributeValue";

/// `sizeof(CK_ULONG)`.
pub(crate) const ULONG_SIZE: usize = size_of::<CK_ULONG>();
/// `sizeof(CK_ATTRIBUTE)`.
const ATTRIBUTE_SIZE: usize = size_of::<CK_ATTRIBUTE>();
/// `CK_UNAVAILABLE_INFORMATION`.
pub(crate) const UNAVAILABLE: CK_ULONG = ffi::CK_UNAVAILABLE_INFORMATION;

/// The largest attribute value read (64 MiB): a longer length is a contract violation.
pub(crate) const MAX_VALUE_LEN: usize = 1 << 26;
/// The most entries a nested template may have.
pub(crate) const MAX_TEMPLATE_ENTRIES: usize = 1 << 12;
/// The room given to a fixed-size value: larger than every fixed size, so that an
/// untouched room (its length left as we set it) shows a skipped attribute.
const FIXED_ROOM: usize = 16;
/// The room the first call offers a variable value: labels, identifiers, EC points and
/// most public values fit; a value of this size or more takes a length query.
pub(crate) const GUESS_ROOM: usize = 128;
/// The most variable values of one read offered a guess (the later ones start with a
/// length query): bounds the arena at a few KiB however long the list.
const MAX_GUESSED: usize = 32;
/// The arena (in `u64` words) kept on the stack; larger ones are one heap buffer.
const STACK_WORDS: usize = 64;
/// The most attributes of one read (and of one call) kept on the stack; more use the heap.
const STACK_ENTRIES: usize = 8;
/// How often one attribute is asked for again when its value keeps changing.
const MAX_RETRIES: u32 = 4;
/// Bound on the shared rounds (three suffice for the deepest value, a nested template).
const MAX_ROUNDS: usize = 6;
/// Bound on the calls spent on one attribute asked for on its own.
const MAX_SOLO_CALLS: u32 = 4 * (MAX_RETRIES + 1);
/// The type written into the entries of a nested template before the module describes
/// them: not a valid attribute type, so an entry the module skipped shows.
const UNDESCRIBED: CK_ATTRIBUTE_TYPE = UNAVAILABLE;

// Our buffers are `u64` words: aligned for everything a module may write into them.
const _: () = assert!(align_of::<u64>() >= align_of::<CK_ULONG>());
const _: () = assert!(align_of::<u64>() >= align_of::<CK_ATTRIBUTE>());
const _: () = assert!(align_of::<u64>() >= align_of::<*mut c_void>());
const _: () = assert!(FIXED_ROOM > ULONG_SIZE && FIXED_ROOM > size_of::<ffi::CK_DATE>());
// Rooms are whole words: every slot of the arena starts aligned.
const _: () = assert!(FIXED_ROOM % 8 == 0 && GUESS_ROOM % 8 == 0);

/// How a value is laid out, which decides how it is fetched.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// Exactly `size` bytes (`CK_BBOOL`, `CK_ULONG`, `CK_DATE`, `CK_VERSION`), or zero
    /// bytes where `empty_ok` (an empty `CK_DATE`).
    Fixed {
        /// The size in bytes.
        size: usize,
        /// Whether an empty value is legal too.
        empty_ok: bool,
    },
    /// Any number of bytes.
    Bytes,
    /// An array of `CK_ULONG` (mechanism types...).
    Ulongs,
    /// An array of `CK_ATTRIBUTE`: a nested template.
    Template,
}

/// Views words as their bytes.
fn word_bytes(words: &[u64]) -> &[u8] {
    // SAFETY: `words` is `8 * words.len()` initialized bytes (zeroed, then written by
    // the module); `u8` needs no alignment; the pointer of a slice is never NULL
    // (dangling but aligned when empty, with length 0).
    unsafe { std::slice::from_raw_parts(words.as_ptr().cast::<u8>(), words.len() * 8) }
}

/// A wiped-on-drop byte buffer aligned for `CK_ULONG`, pointers and `CK_ATTRIBUTE`.
pub(crate) struct AlignedBytes {
    words: Zeroizing<Vec<u64>>,
    /// The value's length in bytes (at most the capacity).
    len: usize,
}

impl AlignedBytes {
    /// An empty value (no allocation).
    fn empty() -> AlignedBytes {
        AlignedBytes {
            words: Zeroizing::new(Vec::new()),
            len: 0,
        }
    }

    /// A zeroed buffer with room for at least `room` bytes.
    fn with_room(room: usize) -> AlignedBytes {
        AlignedBytes {
            words: Zeroizing::new(vec![0; room.div_ceil(8)]),
            len: 0,
        }
    }

    /// The room in bytes.
    fn capacity(&self) -> usize {
        self.words.len() * 8
    }

    fn as_mut_ptr(&mut self) -> *mut c_void {
        self.words.as_mut_ptr().cast()
    }

    fn as_ptr(&self) -> *const c_void {
        self.words.as_ptr().cast()
    }

    /// The value's bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        let bytes = word_bytes(&self.words);
        &bytes[..self.len.min(bytes.len())]
    }
}

/// A value read from the module, not yet decoded: it borrows the engine's buffers
/// (wiped once the read is over), so decoding copies it exactly once.
pub(crate) enum Fetched<'a> {
    /// The bytes of a plain value (fixed-size values and `CK_ULONG` arrays included).
    Bytes(&'a [u8]),
    /// The entries of a nested template: type and value bytes.
    Template(&'a [(CK_ATTRIBUTE_TYPE, AlignedBytes)]),
}

/// What `C_GetAttributeValue` gave for one attribute.
pub(crate) enum Outcome<'a> {
    /// The value.
    Value(Fetched<'a>),
    /// `CKR_ATTRIBUTE_SENSITIVE`: the object does not reveal it.
    Sensitive,
    /// `CKR_ATTRIBUTE_TYPE_INVALID`: the object has no such attribute.
    Invalid,
    /// `CK_UNAVAILABLE_INFORMATION` without a reason.
    Unavailable,
}

/// Where a finished value is held.
enum Held {
    /// In the entry's slot of the arena: this many bytes.
    Arena(usize),
    /// In a buffer of its own (fetched after a length query; empty values).
    Own(AlignedBytes),
    /// A nested template's entries.
    Template(Vec<(CK_ATTRIBUTE_TYPE, AlignedBytes)>),
}

/// The result for one attribute, once finished.
enum Kept {
    Value(Held),
    Sensitive,
    Invalid,
    Unavailable,
}

/// The stage one attribute is in.
enum State {
    /// A fixed-size value, fetched into the entry's slot of the arena ([`FIXED_ROOM`]
    /// bytes).
    Fixed,
    /// A variable value offered the entry's slot of the arena ([`GUESS_ROOM`] bytes)
    /// in the first call, before its length is known.
    Guess,
    /// A length query (NULL value pointer).
    Query,
    /// A variable value, fetched into a buffer one byte larger than its length.
    Fetch(AlignedBytes),
    /// A nested template: its entries' types and lengths, in an array one entry larger
    /// than the template.
    Types(Vec<CK_ATTRIBUTE>),
    /// A nested template: its entries' values.
    Values {
        /// The array handed to the module.
        inner: Vec<CK_ATTRIBUTE>,
        /// The entries' types.
        types: Vec<CK_ATTRIBUTE_TYPE>,
        /// The entries' buffers.
        buffers: Vec<AlignedBytes>,
    },
    /// Finished.
    Done(Kept),
}

/// One attribute being read.
struct Entry {
    ty: CK_ATTRIBUTE_TYPE,
    shape: Shape,
    shape_of: fn(CK_ATTRIBUTE_TYPE) -> Shape,
    state: State,
    /// The entry's slot of the arena: its first word and its size in bytes (0: none).
    slot: usize,
    room: usize,
    /// Asked for on its own (after an ambiguous or skipped answer).
    solo: bool,
    retries: u32,
}

fn blank_attribute(ty: CK_ATTRIBUTE_TYPE) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: ty,
        pValue: ptr::null_mut(),
        ulValueLen: UNAVAILABLE,
    }
}

/// The length in bytes of a value the module reports, if it is a plausible one.
pub(crate) fn checked_len(len: CK_ULONG) -> Option<usize> {
    usize::try_from(len).ok().filter(|&n| n <= MAX_VALUE_LEN)
}

/// Whether `n` bytes fit `shape`; the problem otherwise.
pub(crate) fn check_shape(shape: Shape, n: usize) -> Result<(), String> {
    match shape {
        Shape::Fixed { size, empty_ok } => {
            if n == size || (n == 0 && empty_ok) {
                Ok(())
            } else {
                Err(format!("{n} bytes for a value of exactly {size}"))
            }
        }
        Shape::Ulongs if n % ULONG_SIZE != 0 => Err(format!(
            "{n} bytes for an array of {ULONG_SIZE}-byte CK_ULONGs"
        )),
        Shape::Template if n % ATTRIBUTE_SIZE != 0 => Err(format!(
            "{n} bytes for an array of {ATTRIBUTE_SIZE}-byte CK_ATTRIBUTEs"
        )),
        _ => Ok(()),
    }
}

/// A contract violation about attribute `ty`.
fn contract(ty: CK_ATTRIBUTE_TYPE, what: impl core::fmt::Display) -> Error {
    Error::ModuleContract {
        function: FUNCTION,
        what: format!("{}: {what}", AttributeType(ty)),
    }
}

impl Entry {
    /// An entry whose slot of the arena starts at word `slot`; `guess` whether a
    /// variable value is offered a guessed room in the first call.
    fn new(
        ty: CK_ATTRIBUTE_TYPE,
        shape_of: fn(CK_ATTRIBUTE_TYPE) -> Shape,
        slot: usize,
        guess: bool,
    ) -> Entry {
        Entry::with_shape(ty, shape_of(ty), shape_of, slot, guess)
    }

    /// The same, for a value of layout `shape`.
    fn with_shape(
        ty: CK_ATTRIBUTE_TYPE,
        shape: Shape,
        shape_of: fn(CK_ATTRIBUTE_TYPE) -> Shape,
        slot: usize,
        guess: bool,
    ) -> Entry {
        let (state, room) = match shape {
            Shape::Fixed { .. } => (State::Fixed, FIXED_ROOM),
            Shape::Bytes | Shape::Ulongs if guess => (State::Guess, GUESS_ROOM),
            _ => (State::Query, 0),
        };
        Entry {
            ty,
            shape,
            shape_of,
            state,
            slot,
            room,
            solo: false,
            retries: 0,
        }
    }

    /// The state to start over in: a fixed-size value in its slot again, a variable one
    /// with a length query.
    fn restart(&self) -> State {
        match self.shape {
            Shape::Fixed { .. } => State::Fixed,
            _ => State::Query,
        }
    }

    fn is_done(&self) -> bool {
        matches!(self.state, State::Done(_))
    }

    /// The finished result, borrowing the arena's bytes `arena` or the entry's buffers.
    fn outcome<'a>(&'a self, arena: &'a [u8]) -> Outcome<'a> {
        match &self.state {
            State::Done(Kept::Value(held)) => Outcome::Value(match held {
                Held::Arena(len) => {
                    let start = self.slot * 8;
                    // Within the slot: `len` is below its room (checked when absorbed).
                    Fetched::Bytes(&arena[start..start + len])
                }
                Held::Own(buffer) => Fetched::Bytes(buffer.bytes()),
                Held::Template(entries) => Fetched::Template(entries),
            }),
            State::Done(Kept::Sensitive) => Outcome::Sensitive,
            State::Done(Kept::Invalid) => Outcome::Invalid,
            State::Done(Kept::Unavailable) => Outcome::Unavailable,
            // Not reached: every entry is finished before the outcomes are taken.
            _ => Outcome::Unavailable,
        }
    }

    fn contract(&self, what: impl core::fmt::Display) -> Error {
        contract(self.ty, what)
    }

    /// The request for the next call: the value pointer points into this entry's slot
    /// of the arena (at `arena`), into its own buffers, or is NULL, with their capacity
    /// as the length.
    fn request(&mut self, arena: *mut u64) -> CK_ATTRIBUTE {
        let (pointer, len) = match &mut self.state {
            State::Fixed | State::Guess => (arena.wrapping_add(self.slot).cast(), self.room),
            State::Fetch(buffer) => (buffer.as_mut_ptr(), buffer.capacity()),
            State::Types(inner) => {
                for entry in inner.iter_mut() {
                    *entry = blank_attribute(UNDESCRIBED);
                }
                (inner.as_mut_ptr().cast(), inner.len() * ATTRIBUTE_SIZE)
            }
            State::Values {
                inner,
                types,
                buffers,
            } => {
                for ((entry, &ty), buffer) in inner.iter_mut().zip(types.iter()).zip(buffers) {
                    *entry = CK_ATTRIBUTE {
                        type_: ty,
                        pValue: buffer.as_mut_ptr(),
                        ulValueLen: buffer.capacity() as CK_ULONG,
                    };
                }
                (inner.as_mut_ptr().cast(), inner.len() * ATTRIBUTE_SIZE)
            }
            // A length query; the length is ignored, and left as it is by a module that
            // skips the attribute.
            State::Query | State::Done(_) => return blank_attribute(self.ty),
        };
        CK_ATTRIBUTE {
            type_: self.ty,
            pValue: pointer,
            ulValueLen: len as CK_ULONG,
        }
    }

    /// Starts over on its own (an ambiguous or skipped answer).
    fn go_solo(&mut self) -> Result<()> {
        if self.solo {
            return self.retry();
        }
        self.solo = true;
        self.state = self.restart();
        Ok(())
    }

    /// Starts over on its own because the value changed between calls (boundedly).
    fn retry(&mut self) -> Result<()> {
        self.retries += 1;
        if self.retries > MAX_RETRIES {
            return Err(self.contract(format!(
                "the value's length never settled after {MAX_RETRIES} retries"
            )));
        }
        self.solo = true;
        self.state = self.restart();
        Ok(())
    }

    /// Takes the module's answer for this entry.
    ///
    /// `sent` is what we passed, `out` what the module left; `rv` the call's return value
    /// (one of the per-attribute ones); `unavailable` how many attributes of the call
    /// came back `CK_UNAVAILABLE_INFORMATION`.
    fn absorb(
        &mut self,
        sent: &CK_ATTRIBUTE,
        out: &CK_ATTRIBUTE,
        rv: CK_RV,
        unavailable: usize,
    ) -> Result<()> {
        let (sent_type, sent_value, sent_len) = (sent.type_, sent.pValue, sent.ulValueLen);
        let (out_type, out_value, len) = (out.type_, out.pValue, out.ulValueLen);
        if out_type != sent_type {
            return Err(self.contract(format!(
                "the module changed the template entry's type to {}",
                AttributeType(out_type)
            )));
        }
        if out_value != sent_value {
            // Never read: rule 24.
            return Err(self.contract("the module pointed the value outside our buffer"));
        }
        if matches!(self.state, State::Guess) {
            return self.guessed(sent_len, len, rv, unavailable);
        }
        if len == UNAVAILABLE {
            return self.unavailable(rv, unavailable);
        }
        if !sent_value.is_null() && len > sent_len {
            if rv == ffi::CKR_BUFFER_TOO_SMALL {
                // Some modules give the length they need: the value grew.
                return self.retry();
            }
            return Err(self.contract(format!(
                "reported {len} bytes written into a buffer of {sent_len}"
            )));
        }
        let is_values = matches!(self.state, State::Values { .. });
        let is_fetch = matches!(self.state, State::Fetch(_));
        if !sent_value.is_null() && len == sent_len && (!self.solo && !is_values || is_fetch) {
            // The room is larger than the value: the module skipped this attribute, or
            // left the length as it was given. Asked on its own, then again (boundedly):
            // the room's size is never taken for the value's (it would pad the value
            // with bytes the module never wrote).
            return self.go_solo();
        }
        // `len` is at most a buffer we allocated (or, for a query, checked below).
        let state = std::mem::replace(&mut self.state, State::Query);
        match state {
            State::Fixed => {
                let n = len as usize;
                check_shape(self.shape, n).map_err(|what| self.contract(what))?;
                self.state = State::Done(Kept::Value(Held::Arena(n)));
            }
            State::Query => {
                let n = checked_len(len).ok_or_else(|| {
                    self.contract(format!(
                        "absurd length {len} (more than {MAX_VALUE_LEN} bytes)"
                    ))
                })?;
                check_shape(self.shape, n).map_err(|what| self.contract(what))?;
                self.state = match self.shape {
                    _ if n == 0 => State::Done(Kept::Value(match self.shape {
                        Shape::Template => Held::Template(Vec::new()),
                        _ => Held::Own(AlignedBytes::empty()),
                    })),
                    Shape::Fixed { .. } => State::Fixed,
                    Shape::Bytes | Shape::Ulongs => State::Fetch(AlignedBytes::with_room(n + 1)),
                    Shape::Template => {
                        let entries = n / ATTRIBUTE_SIZE;
                        if entries > MAX_TEMPLATE_ENTRIES {
                            return Err(self.contract(format!(
                                "a nested template of {entries} entries (more than \
                                 {MAX_TEMPLATE_ENTRIES})"
                            )));
                        }
                        State::Types(vec![blank_attribute(UNDESCRIBED); entries + 1])
                    }
                };
            }
            State::Fetch(mut buffer) => {
                let n = len as usize;
                check_shape(self.shape, n).map_err(|what| self.contract(what))?;
                buffer.len = n;
                self.state = State::Done(Kept::Value(Held::Own(buffer)));
            }
            State::Types(inner) => return self.described(&inner, len),
            State::Values {
                inner,
                types,
                buffers,
            } => return self.filled(&inner, types, buffers, rv, len),
            // Handled above; left as they were.
            state @ (State::Guess | State::Done(_)) => self.state = state,
        }
        Ok(())
    }

    /// The answer for a variable value offered a guessed room: the value when it fits
    /// (shorter than the room), else a length query in the next shared call.
    fn guessed(
        &mut self,
        sent_len: CK_ULONG,
        len: CK_ULONG,
        rv: CK_RV,
        unavailable: usize,
    ) -> Result<()> {
        if len == UNAVAILABLE {
            // Sensitive or invalid when the return value can only be about this
            // attribute; too small, or not known which: the length query tells.
            self.state = match rv {
                ffi::CKR_ATTRIBUTE_SENSITIVE if unavailable == 1 => State::Done(Kept::Sensitive),
                ffi::CKR_ATTRIBUTE_TYPE_INVALID if unavailable == 1 => State::Done(Kept::Invalid),
                _ => State::Query,
            };
            return Ok(());
        }
        if len > sent_len {
            if rv == ffi::CKR_BUFFER_TOO_SMALL {
                // The length it needs, maybe: asked for properly.
                self.state = State::Query;
                return Ok(());
            }
            return Err(self.contract(format!(
                "reported {len} bytes written into a buffer of {sent_len}"
            )));
        }
        if len == sent_len {
            // A value filling the room exactly, or an attribute the module skipped (the
            // room's size is never taken for the value's): its length is asked for.
            self.state = State::Query;
            return Ok(());
        }
        // Shorter than the room, which is within the arena.
        let n = len as usize;
        check_shape(self.shape, n).map_err(|what| self.contract(what))?;
        self.state = State::Done(Kept::Value(Held::Arena(n)));
        Ok(())
    }

    /// `CK_UNAVAILABLE_INFORMATION` came back for this entry.
    fn unavailable(&mut self, rv: CK_RV, unavailable: usize) -> Result<()> {
        let reason_known = self.solo
            || (unavailable == 1
                && matches!(
                    rv,
                    ffi::CKR_ATTRIBUTE_SENSITIVE | ffi::CKR_ATTRIBUTE_TYPE_INVALID
                ));
        if !reason_known {
            return self.go_solo();
        }
        match rv {
            ffi::CKR_ATTRIBUTE_SENSITIVE => self.state = State::Done(Kept::Sensitive),
            ffi::CKR_ATTRIBUTE_TYPE_INVALID => self.state = State::Done(Kept::Invalid),
            ffi::CKR_BUFFER_TOO_SMALL => {
                if let (State::Fixed, Shape::Fixed { size, .. }) = (&self.state, self.shape) {
                    return Err(self.contract(format!(
                        "the value does not fit {FIXED_ROOM} bytes, for a value of exactly \
                         {size}"
                    )));
                }
                return self.retry();
            }
            _ => self.state = State::Done(Kept::Unavailable),
        }
        Ok(())
    }

    /// A nested template's entries were described (types and lengths): allocate their
    /// buffers.
    fn described(&mut self, inner: &[CK_ATTRIBUTE], len: CK_ULONG) -> Result<()> {
        let n = len as usize;
        check_shape(Shape::Template, n).map_err(|what| self.contract(what))?;
        let count = n / ATTRIBUTE_SIZE;
        if count >= inner.len() {
            // It grew since its length was given (or the array was left untouched).
            return self.retry();
        }
        if count == 0 {
            self.state = State::Done(Kept::Value(Held::Template(Vec::new())));
            return Ok(());
        }
        let mut types = Vec::with_capacity(count);
        let mut buffers = Vec::with_capacity(count);
        for (index, entry) in inner[..count].iter().enumerate() {
            let (ty, value, len) = (entry.type_, entry.pValue, entry.ulValueLen);
            if !value.is_null() {
                return Err(self.contract(format!(
                    "the module pointed entry {index} of the nested template outside our \
                     buffer"
                )));
            }
            if ty == UNDESCRIBED || len == UNAVAILABLE {
                if self.solo {
                    return Err(self.contract(format!(
                        "entry {index} of the nested template has no type or length"
                    )));
                }
                return self.go_solo();
            }
            let shape = (self.shape_of)(ty);
            let nested =
                |what: String| self.contract(format!("nested {}: {what}", AttributeType(ty)));
            if shape == Shape::Template {
                return Err(nested(
                    "a template inside a nested template is not supported".into(),
                ));
            }
            let n = checked_len(len).ok_or_else(|| {
                nested(format!(
                    "absurd length {len} (more than {MAX_VALUE_LEN} bytes)"
                ))
            })?;
            check_shape(shape, n).map_err(nested)?;
            types.push(ty);
            buffers.push(AlignedBytes::with_room(n + 1));
        }
        self.state = State::Values {
            inner: vec![blank_attribute(UNDESCRIBED); count],
            types,
            buffers,
        };
        Ok(())
    }

    /// A nested template's values came back.
    fn filled(
        &mut self,
        inner: &[CK_ATTRIBUTE],
        types: Vec<CK_ATTRIBUTE_TYPE>,
        mut buffers: Vec<AlignedBytes>,
        rv: CK_RV,
        len: CK_ULONG,
    ) -> Result<()> {
        if usize::try_from(len).ok() != Some(inner.len() * ATTRIBUTE_SIZE) {
            // Its number of entries changed since they were described.
            return self.retry();
        }
        for (index, (entry, buffer)) in inner.iter().zip(buffers.iter_mut()).enumerate() {
            let (ty, value, len) = (entry.type_, entry.pValue, entry.ulValueLen);
            let expected = types.get(index).copied().unwrap_or(UNDESCRIBED);
            if ty != expected {
                return Err(self.contract(format!(
                    "the module changed entry {index} of the nested template from {} to {}",
                    AttributeType(expected),
                    AttributeType(ty)
                )));
            }
            if value.cast_const() != buffer.as_ptr() {
                // Never read: rule 24.
                return Err(self.contract(format!(
                    "the module pointed nested {} outside our buffer",
                    AttributeType(ty)
                )));
            }
            let capacity = buffer.capacity() as CK_ULONG;
            if len == UNAVAILABLE || (len > capacity && rv == ffi::CKR_BUFFER_TOO_SMALL) {
                return self.retry();
            }
            if len > capacity {
                return Err(self.contract(format!(
                    "reported {len} bytes written for nested {} into a buffer of {capacity}",
                    AttributeType(ty)
                )));
            }
            if len == capacity {
                // The buffer is larger than the value: the length was left as given.
                // Never taken for the value's (asked on its own, then again, boundedly).
                return self.go_solo();
            }
            let n = len as usize;
            check_shape((self.shape_of)(ty), n)
                .map_err(|what| self.contract(format!("nested {}: {what}", AttributeType(ty))))?;
            buffer.len = n;
        }
        self.state = State::Done(Kept::Value(Held::Template(
            types.into_iter().zip(buffers).collect(),
        )));
        Ok(())
    }
}

/// Where the engine's calls go: the module, or a simulated one in the tests.
trait GetAttributeValue {
    /// `C_GetAttributeValue` on `template`.
    ///
    /// # Safety
    /// Every `pValue` in `template` is NULL or valid for writes of `ulValueLen` bytes,
    /// and so are those of the `CK_ATTRIBUTE` arrays it points to, until the call
    /// returns.
    unsafe fn get(&mut self, template: &mut [CK_ATTRIBUTE]) -> Result<Returned>;
}

/// The module's `C_GetAttributeValue` for one object of a session.
struct Live<'s> {
    session: &'s Session,
    object: CK_OBJECT_HANDLE,
}

impl GetAttributeValue for Live<'_> {
    unsafe fn get(&mut self, template: &mut [CK_ATTRIBUTE]) -> Result<Returned> {
        let count = template.len() as CK_ULONG;
        let pointer = template.as_mut_ptr();
        let (handle, object) = (self.session.handle(), self.object);
        // SAFETY: `template` is writable for `count` entries; the values are the
        // caller's contract.
        let returned = unsafe {
            call!(
                self.session.inner(),
                C_GetAttributeValue(handle, object, pointer, count)
            )
        };
        self.session.track(returned)
    }
}

/// Which entries a call is for.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Select {
    /// Every unfinished entry not asked for on its own: a shared call.
    Shared,
    /// Every unfinished entry (one, asked for on its own).
    Unfinished,
}

impl Select {
    fn picks(self, entry: &Entry) -> bool {
        !entry.is_done() && (self == Select::Unfinished || !entry.solo)
    }

    /// The entries of `entries` it picks, in order.
    fn picked(self, entries: &mut [Option<Entry>]) -> impl Iterator<Item = &mut Entry> {
        entries
            .iter_mut()
            .flatten()
            .filter(move |entry| self.picks(entry))
    }
}

/// One call for the entries `select` picks, whose answers they absorb. `arena` is the
/// start of the arena the entries' slots are in.
fn round(
    module: &mut dyn GetAttributeValue,
    entries: &mut [Option<Entry>],
    select: Select,
    arena: *mut u64,
) -> Result<()> {
    let count = select.picked(entries).count();
    if count == 0 {
        return Ok(());
    }
    // The template and a copy of what was sent, on the stack for small calls.
    let blank = blank_attribute(UNDESCRIBED);
    let mut stack = [blank; 2 * STACK_ENTRIES];
    let mut heap = Vec::new();
    let both: &mut [CK_ATTRIBUTE] = if count <= STACK_ENTRIES {
        &mut stack[..2 * count]
    } else {
        heap.resize(2 * count, blank);
        &mut heap
    };
    let (template, sent) = both.split_at_mut(count);
    let picked = select.picked(entries);
    for ((entry, request), copy) in picked.zip(template.iter_mut()).zip(sent.iter_mut()) {
        *request = entry.request(arena);
        *copy = *request;
    }
    // SAFETY: each request points into its entry's slot of the arena (`arena` is valid
    // for every slot, and the arena is neither moved nor read until the call returns),
    // into its own buffers, or is NULL, with their capacity as the length; nested arrays
    // point into the entry's own arrays and buffers likewise; the entries are neither
    // moved nor touched until the call returns.
    let returned = unsafe { module.get(template) }?;
    let rv = returned.rv;
    if !matches!(
        rv,
        ffi::CKR_OK
            | ffi::CKR_ATTRIBUTE_SENSITIVE
            | ffi::CKR_ATTRIBUTE_TYPE_INVALID
            | ffi::CKR_BUFFER_TOO_SMALL
    ) {
        return Err(returned.error());
    }
    let unavailable = template
        .iter()
        .filter(|entry| entry.ulValueLen == UNAVAILABLE)
        .count();
    // The same entries in the same order: absorbing an answer changes only its own
    // entry, picked before it is absorbed.
    let picked = select.picked(entries);
    for ((entry, sent), out) in picked.zip(sent.iter()).zip(template.iter()) {
        entry.absorb(sent, out, rv, unavailable)?;
    }
    Ok(())
}

/// The arena of one read: wiped when dropped, whatever happened (rule 34).
struct Arena<'a>(&'a mut [u64]);

impl Drop for Arena<'_> {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// Reads the attributes `types` of `object` and passes each one's [`Outcome`] to
/// `each`, in order, collecting what it returns.
///
/// `shape_of` gives the layout of every attribute type (nested entries included). The
/// outcomes borrow the engine's buffers, wiped when the read is over: `each` copies what
/// it keeps. The caller holds the session's lock.
///
/// # Errors
/// [`Error::Module`] for a return value that is not about single attributes
/// (`CKR_OBJECT_HANDLE_INVALID`...); [`Error::ModuleContract`] naming the attribute for
/// lengths, sizes or pointers that cannot be right; and the errors of `each`.
pub(crate) fn get_attribute_values<T>(
    session: &Session,
    object: CK_OBJECT_HANDLE,
    types: impl ExactSizeIterator<Item = CK_ATTRIBUTE_TYPE>,
    shape_of: fn(CK_ATTRIBUTE_TYPE) -> Shape,
    each: impl FnMut(CK_ATTRIBUTE_TYPE, Outcome<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    read_with(&mut Live { session, object }, types, shape_of, each)
}

fn read_with<T>(
    module: &mut dyn GetAttributeValue,
    types: impl ExactSizeIterator<Item = CK_ATTRIBUTE_TYPE>,
    shape_of: fn(CK_ATTRIBUTE_TYPE) -> Shape,
    mut each: impl FnMut(CK_ATTRIBUTE_TYPE, Outcome<'_>) -> Result<T>,
) -> Result<Vec<T>> {
    // The entries, on the stack for small reads.
    let count = types.len();
    let mut stack_entries = [const { None }; STACK_ENTRIES];
    let mut heap_entries = Vec::new();
    let entries: &mut [Option<Entry>] = if count <= STACK_ENTRIES {
        &mut stack_entries[..count]
    } else {
        heap_entries.resize_with(count, || None);
        &mut heap_entries
    };
    let (mut words, mut guessed) = (0, 0);
    for (slot, ty) in entries.iter_mut().zip(types) {
        let entry = Entry::new(ty, shape_of, words, guessed < MAX_GUESSED);
        if matches!(entry.state, State::Guess) {
            guessed += 1;
        }
        words += entry.room / 8;
        *slot = Some(entry);
    }
    let mut stack = [0u64; STACK_WORDS];
    let mut heap = Vec::new();
    let arena = Arena(if words <= STACK_WORDS {
        &mut stack[..words]
    } else {
        heap.resize(words, 0);
        &mut heap
    });
    run(module, entries, arena.0)?;
    let bytes = word_bytes(arena.0);
    let mut results = Vec::with_capacity(count);
    for entry in entries.iter().flatten() {
        results.push(each(entry.ty, entry.outcome(bytes))?);
    }
    Ok(results)
}

/// Reads one attribute `ty` of `object` and passes its [`Outcome`] to `decode`: as
/// [`get_attribute_values`] for one type, without allocating (the entry and its room are
/// on the stack; only a value longer than [`GUESS_ROOM`] takes a buffer of its own).
///
/// `shape` is the layout the value must have (`shape_of` gives those of nested
/// entries).
///
/// # Errors
/// As [`get_attribute_values`].
pub(crate) fn get_attribute_value<T>(
    session: &Session,
    object: CK_OBJECT_HANDLE,
    ty: CK_ATTRIBUTE_TYPE,
    shape: Shape,
    shape_of: fn(CK_ATTRIBUTE_TYPE) -> Shape,
    decode: impl FnOnce(Outcome<'_>) -> Result<T>,
) -> Result<T> {
    read_one(&mut Live { session, object }, ty, shape, shape_of, decode)
}

fn read_one<T>(
    module: &mut dyn GetAttributeValue,
    ty: CK_ATTRIBUTE_TYPE,
    shape: Shape,
    shape_of: fn(CK_ATTRIBUTE_TYPE) -> Shape,
    decode: impl FnOnce(Outcome<'_>) -> Result<T>,
) -> Result<T> {
    let entry = Entry::with_shape(ty, shape, shape_of, 0, true);
    let mut stack = [0u64; GUESS_ROOM / 8];
    let arena = Arena(&mut stack[..entry.room / 8]);
    let mut entries = [Some(entry)];
    run(module, &mut entries, arena.0)?;
    let bytes = word_bytes(arena.0);
    match &entries[0] {
        Some(entry) => decode(entry.outcome(bytes)),
        // Not reached: the entry is never taken.
        None => decode(Outcome::Unavailable),
    }
}

/// Runs the calls until every entry is finished: shared calls, one per stage, then the
/// rest one at a time. `arena` holds every entry's slot.
fn run(
    module: &mut dyn GetAttributeValue,
    entries: &mut [Option<Entry>],
    arena: &mut [u64],
) -> Result<()> {
    let base = arena.as_mut_ptr();
    for _ in 0..MAX_ROUNDS {
        if Select::Shared.picked(entries).next().is_none() {
            break;
        }
        round(module, entries, Select::Shared, base)?;
    }
    for slot in entries.iter_mut() {
        let mut calls = 0;
        while let Some(entry) = slot.as_mut().filter(|entry| !entry.is_done()) {
            calls += 1;
            if calls > MAX_SOLO_CALLS {
                return Err(entry.contract("no answer settled"));
            }
            entry.solo = true;
            round(module, std::slice::from_mut(slot), Select::Unfinished, base)?;
        }
    }
    Ok(())
}

/// An input template (`C_CreateObject`, `C_FindObjectsInit`, `C_SetAttributeValue`,
/// `C_GenerateKey`...): values borrowed for `'a` or held here, laid out as
/// `CK_ATTRIBUTE`s right before each call.
#[derive(Default)]
pub(crate) struct InTemplate<'a> {
    entries: Vec<InEntry<'a>>,
    ck: Vec<CK_ATTRIBUTE>,
}

enum InEntry<'a> {
    Bytes(CK_ATTRIBUTE_TYPE, &'a [u8]),
    Owned(CK_ATTRIBUTE_TYPE, Vec<u8>),
    Ulong(CK_ATTRIBUTE_TYPE, CK_ULONG),
    Ulongs(CK_ATTRIBUTE_TYPE, Vec<CK_ULONG>),
    UlongSlice(CK_ATTRIBUTE_TYPE, &'a [CK_ULONG]),
    Nested(CK_ATTRIBUTE_TYPE, InTemplate<'a>),
}

impl<'a> InTemplate<'a> {
    /// An empty template with room for `n` attributes.
    pub(crate) fn with_capacity(n: usize) -> InTemplate<'a> {
        InTemplate {
            entries: Vec::with_capacity(n),
            ck: Vec::new(),
        }
    }

    /// A byte value, borrowed.
    pub(crate) fn bytes(&mut self, ty: CK_ATTRIBUTE_TYPE, value: &'a [u8]) {
        self.entries.push(InEntry::Bytes(ty, value));
    }

    /// A byte value, held by the template.
    pub(crate) fn owned(&mut self, ty: CK_ATTRIBUTE_TYPE, value: Vec<u8>) {
        self.entries.push(InEntry::Owned(ty, value));
    }

    /// A `CK_BBOOL`.
    pub(crate) fn bool(&mut self, ty: CK_ATTRIBUTE_TYPE, value: bool) {
        let byte: &'static [u8] = if value {
            &[ffi::CK_TRUE]
        } else {
            &[ffi::CK_FALSE]
        };
        self.bytes(ty, byte);
    }

    /// A `CK_ULONG`.
    pub(crate) fn ulong(&mut self, ty: CK_ATTRIBUTE_TYPE, value: CK_ULONG) {
        self.entries.push(InEntry::Ulong(ty, value));
    }

    /// A `CK_ULONG` array, held by the template.
    pub(crate) fn ulongs(&mut self, ty: CK_ATTRIBUTE_TYPE, values: Vec<CK_ULONG>) {
        self.entries.push(InEntry::Ulongs(ty, values));
    }

    /// A `CK_ULONG` array, borrowed.
    pub(crate) fn ulong_slice(&mut self, ty: CK_ATTRIBUTE_TYPE, values: &'a [CK_ULONG]) {
        self.entries.push(InEntry::UlongSlice(ty, values));
    }

    /// A nested template (`CKA_WRAP_TEMPLATE`...).
    pub(crate) fn nested(&mut self, ty: CK_ATTRIBUTE_TYPE, template: InTemplate<'a>) {
        self.entries.push(InEntry::Nested(ty, template));
    }

    /// The number of attributes.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Lays the template out as `CK_ATTRIBUTE`s: the pointer and count to pass to the
    /// module. The values point into the borrowed values and into `self`, and stay
    /// valid until `self` is next used; the module only reads them.
    pub(crate) fn as_ck(&mut self) -> (*mut CK_ATTRIBUTE, CK_ULONG) {
        self.ck.clear();
        self.ck.reserve(self.entries.len());
        for entry in self.entries.iter_mut() {
            let (ty, pointer, len): (CK_ATTRIBUTE_TYPE, *mut c_void, usize) = match entry {
                // An empty slice's pointer is dangling but not NULL: some modules refuse
                // NULL values even of length zero.
                InEntry::Bytes(ty, value) => (*ty, value.as_ptr().cast_mut().cast(), value.len()),
                InEntry::Owned(ty, value) => (*ty, value.as_mut_ptr().cast(), value.len()),
                InEntry::Ulong(ty, value) => (*ty, ptr::from_mut(value).cast(), ULONG_SIZE),
                InEntry::Ulongs(ty, values) => {
                    (*ty, values.as_mut_ptr().cast(), values.len() * ULONG_SIZE)
                }
                InEntry::UlongSlice(ty, values) => (
                    *ty,
                    values.as_ptr().cast_mut().cast(),
                    values.len() * ULONG_SIZE,
                ),
                InEntry::Nested(ty, template) => {
                    let (pointer, count) = template.as_ck();
                    (*ty, pointer.cast(), count as usize * ATTRIBUTE_SIZE)
                }
            };
            self.ck.push(CK_ATTRIBUTE {
                type_: ty,
                pValue: pointer,
                ulValueLen: len as CK_ULONG,
            });
        }
        (self.ck.as_mut_ptr(), self.ck.len() as CK_ULONG)
    }
}

pub(crate) mod reader;

#[cfg(test)]
mod proptests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// What the engine gave for one attribute, kept past the read (the engine's own
    /// [`super::Outcome`]s borrow its buffers, wiped when the read is over).
    pub(super) enum Outcome {
        Value(Fetched),
        Sensitive,
        Invalid,
        Unavailable,
    }

    /// A value the engine read, copied.
    pub(super) enum Fetched {
        Bytes(Copied),
        Template(Vec<(CK_ATTRIBUTE_TYPE, Copied)>),
    }

    /// Copied bytes of a value.
    pub(super) struct Copied(Vec<u8>);

    impl Copied {
        pub(super) fn bytes(&self) -> &[u8] {
            &self.0
        }
    }

    /// Reads `types` from `module`, keeping copies of the outcomes.
    pub(super) fn read(
        module: &mut dyn GetAttributeValue,
        types: &[CK_ATTRIBUTE_TYPE],
        shape_of: fn(CK_ATTRIBUTE_TYPE) -> Shape,
    ) -> Result<Vec<Outcome>> {
        read_with(module, types.iter().copied(), shape_of, |_, outcome| {
            Ok(keep(outcome))
        })
    }

    /// A copy of `outcome`.
    pub(super) fn keep(outcome: super::Outcome<'_>) -> Outcome {
        match outcome {
            super::Outcome::Value(super::Fetched::Bytes(bytes)) => {
                Outcome::Value(Fetched::Bytes(Copied(bytes.to_vec())))
            }
            super::Outcome::Value(super::Fetched::Template(entries)) => {
                Outcome::Value(Fetched::Template(
                    entries
                        .iter()
                        .map(|(ty, bytes)| (*ty, Copied(bytes.bytes().to_vec())))
                        .collect(),
                ))
            }
            super::Outcome::Sensitive => Outcome::Sensitive,
            super::Outcome::Invalid => Outcome::Invalid,
            super::Outcome::Unavailable => Outcome::Unavailable,
        }
    }

    /// A value of the simulated object.
    #[derive(Clone, Debug)]
    pub(super) enum Sim {
        Bytes(Vec<u8>),
        Sensitive,
        Template(Vec<(CK_ATTRIBUTE_TYPE, Vec<u8>)>),
    }

    /// A simulated `C_GetAttributeValue` over one object, spec-conformant unless told
    /// to misbehave. Shared with the property tests ([`super::proptests`]).
    #[derive(Default)]
    pub(super) struct SimModule {
        pub(super) object: BTreeMap<CK_ATTRIBUTE_TYPE, Sim>,
        pub(super) calls: usize,
        /// Stop at the first attribute that fails, leaving the rest untouched.
        pub(super) stop_at_first_error: bool,
        /// Answer every length query with this.
        query_len: Option<CK_ULONG>,
        /// After copying a value, report this many bytes more than its length.
        overstate_by: CK_ULONG,
        /// Point nested values at the module's own memory instead of copying.
        redirect_nested: bool,
        /// Append 16 bytes to this attribute's value before the next `n` calls.
        pub(super) grow: Option<(CK_ATTRIBUTE_TYPE, usize)>,
        /// Misbehaviours of single attributes, each for its next `n` answers.
        pub(super) lies: BTreeMap<CK_ATTRIBUTE_TYPE, (Lie, usize)>,
        /// The call's return value.
        pub(super) rv_policy: RvPolicy,
        /// For every call, its return value.
        pub(super) returned: Vec<CK_RV>,
        /// For every call, the attributes it left `CK_UNAVAILABLE_INFORMATION` (whatever
        /// the reason, a skipped query included) and the call's return value.
        pub(super) unavailable: Vec<(CK_ATTRIBUTE_TYPE, CK_RV)>,
        /// Where redirected nested values point: never to be read by the engine.
        own: [u64; 4],
    }

    /// What [`SimModule::own`] holds: a value seen in a result was read from there.
    const OWN: u64 = 0xEEEE_EEEE_EEEE_EEEE;

    /// A misbehaviour of the simulated module for one attribute.
    #[derive(Clone, Copy, Debug)]
    pub(super) enum Lie {
        /// Leave the entry untouched (skip it).
        Skip,
        /// Answer `CK_UNAVAILABLE_INFORMATION` with no error.
        Unavailable,
        /// Answer `CKR_BUFFER_TOO_SMALL` with this length, whatever the buffer.
        TooSmall(Len),
        /// Answer a length query with this length.
        QueryLen(Len),
        /// After copying the value, report the buffer's length plus this.
        Overstate(CK_ULONG),
        /// Copy the value but leave the length as it was given (the buffer's length).
        KeepLength,
        /// The same in the entries of a nested template.
        KeepNestedLength,
        /// Answer for another attribute of the object, changing the entry's type to it.
        Retype,
        /// Point the value at the module's own memory instead of copying, reporting the
        /// value's length.
        Redirect,
        /// Point nested values at the module's own memory instead of copying.
        RedirectNested,
        /// Fill the first nested entry with the second one (its type and value).
        RetypeNested,
        /// Report one byte more than written for the nested entries of the types this
        /// picks (whose values have a fixed size, or are arrays).
        MisshapeNested(fn(CK_ATTRIBUTE_TYPE) -> bool),
    }

    /// A length a lie reports.
    #[derive(Clone, Copy, Debug)]
    pub(super) enum Len {
        /// This length.
        Is(CK_ULONG),
        /// The true length (of the value, or of the nested array) plus this.
        Plus(CK_ULONG),
        /// The true length less this, but at least 1 (a module that reports 0 for a
        /// value it holds cannot be caught).
        Minus(CK_ULONG),
        /// The buffer's length plus this.
        PastBuffer(CK_ULONG),
    }

    impl Len {
        fn resolve(self, truth: CK_ULONG, buffer: CK_ULONG) -> CK_ULONG {
            match self {
                Len::Is(len) => len,
                Len::Plus(d) => truth.saturating_add(d),
                Len::Minus(d) => truth.saturating_sub(d).max(1),
                Len::PastBuffer(d) => buffer.saturating_add(d),
            }
        }
    }

    /// The return value of a call, from the per-attribute answers.
    #[derive(Clone, Copy, Debug, Default)]
    pub(super) enum RvPolicy {
        /// The last per-attribute error, or `CKR_OK` (the first one when the module
        /// stops at the first error): as the specification has it.
        #[default]
        Consistent,
        /// Always this value, whatever the answers: `CKR_OK` hiding errors, a
        /// per-attribute code that fits no attribute, a general error.
        Always(CK_RV),
        /// This value on the `n`-th call (from 1), consistent otherwise.
        OnCall(usize, CK_RV),
    }

    fn ulong(value: CK_ULONG) -> Sim {
        Sim::Bytes(value.to_ne_bytes().to_vec())
    }

    fn ulongs(values: &[CK_ULONG]) -> Vec<u8> {
        values.iter().flat_map(|v| v.to_ne_bytes()).collect()
    }

    impl SimModule {
        pub(super) fn with(
            object: impl IntoIterator<Item = (CK_ATTRIBUTE_TYPE, Sim)>,
        ) -> SimModule {
            SimModule {
                object: object.into_iter().collect(),
                own: [OWN; 4],
                ..SimModule::default()
            }
        }

        /// The lie to tell about `ty` in this answer, if any.
        fn take_lie(&mut self, ty: CK_ATTRIBUTE_TYPE) -> Option<Lie> {
            let (lie, times) = self.lies.get_mut(&ty)?;
            if *times == 0 {
                return None;
            }
            *times -= 1;
            Some(*lie)
        }

        /// The true length of `ty`'s value (of its array for a nested template).
        fn true_len(&self, ty: CK_ATTRIBUTE_TYPE) -> CK_ULONG {
            match self.object.get(&ty) {
                Some(Sim::Bytes(value)) => value.len() as CK_ULONG,
                Some(Sim::Template(entries)) => (entries.len() * ATTRIBUTE_SIZE) as CK_ULONG,
                _ => 0,
            }
        }

        /// # Safety
        /// As [`GetAttributeValue::get`], for `attribute`.
        unsafe fn write(&self, attribute: &mut CK_ATTRIBUTE, value: &[u8]) -> CK_RV {
            if attribute.pValue.is_null() {
                attribute.ulValueLen = self.query_len.unwrap_or(value.len() as CK_ULONG);
                return ffi::CKR_OK;
            }
            if (attribute.ulValueLen as usize) < value.len() {
                attribute.ulValueLen = UNAVAILABLE;
                return ffi::CKR_BUFFER_TOO_SMALL;
            }
            // SAFETY: the caller's buffer holds `ulValueLen` >= `value.len()` bytes.
            unsafe {
                ptr::copy_nonoverlapping(value.as_ptr(), attribute.pValue.cast(), value.len())
            };
            attribute.ulValueLen = value.len() as CK_ULONG + self.overstate_by;
            ffi::CKR_OK
        }

        /// The answer for one entry: the truthful one, bent by the entry's lie if it
        /// has one.
        ///
        /// # Safety
        /// As [`GetAttributeValue::get`], for `attribute`.
        unsafe fn answer(&mut self, attribute: &mut CK_ATTRIBUTE) -> CK_RV {
            let ty = attribute.type_;
            let (query, sent_len) = (attribute.pValue.is_null(), attribute.ulValueLen);
            let lie = self.take_lie(ty);
            match lie {
                Some(Lie::Skip) => return ffi::CKR_OK,
                Some(Lie::Unavailable) => {
                    attribute.ulValueLen = UNAVAILABLE;
                    return ffi::CKR_OK;
                }
                Some(Lie::TooSmall(len)) => {
                    attribute.ulValueLen = len.resolve(self.true_len(ty), sent_len);
                    return ffi::CKR_BUFFER_TOO_SMALL;
                }
                Some(Lie::QueryLen(len)) if query => {
                    attribute.ulValueLen = len.resolve(self.true_len(ty), sent_len);
                    return ffi::CKR_OK;
                }
                Some(Lie::Retype) => {
                    let other = self.object.keys().copied().find(|&other| other != ty);
                    attribute.type_ = other.unwrap_or(ty ^ 1);
                    // SAFETY: forwarded from the caller.
                    return unsafe { self.answer_truthfully(attribute, Bend::default()) };
                }
                Some(Lie::Redirect) if !query => {
                    attribute.pValue = self.own.as_mut_ptr().cast();
                    let own = size_of_val(&self.own) as CK_ULONG;
                    attribute.ulValueLen = self.true_len(ty).min(own);
                    return ffi::CKR_OK;
                }
                _ => {}
            }
            let bend = Bend {
                redirect: self.redirect_nested || matches!(lie, Some(Lie::RedirectNested)),
                retype: matches!(lie, Some(Lie::RetypeNested)),
                keep_length: matches!(lie, Some(Lie::KeepNestedLength)),
                misshape: match lie {
                    Some(Lie::MisshapeNested(picks)) => Some(picks),
                    _ => None,
                },
            };
            // SAFETY: forwarded from the caller.
            let rv = unsafe { self.answer_truthfully(attribute, bend) };
            if rv == ffi::CKR_OK && !query {
                match lie {
                    Some(Lie::Overstate(by)) => {
                        attribute.ulValueLen = sent_len.saturating_add(by);
                    }
                    Some(Lie::KeepLength) => attribute.ulValueLen = sent_len,
                    _ => {}
                }
            }
            rv
        }

        /// # Safety
        /// As [`GetAttributeValue::get`], for `attribute`.
        unsafe fn answer_truthfully(&mut self, attribute: &mut CK_ATTRIBUTE, bend: Bend) -> CK_RV {
            let ty = attribute.type_;
            match self.object.get(&ty).cloned() {
                None => {
                    attribute.ulValueLen = UNAVAILABLE;
                    ffi::CKR_ATTRIBUTE_TYPE_INVALID
                }
                Some(Sim::Sensitive) => {
                    attribute.ulValueLen = UNAVAILABLE;
                    ffi::CKR_ATTRIBUTE_SENSITIVE
                }
                // SAFETY: forwarded from the caller.
                Some(Sim::Bytes(value)) => unsafe { self.write(attribute, &value) },
                Some(Sim::Template(entries)) => {
                    let size = entries.len() * ATTRIBUTE_SIZE;
                    if attribute.pValue.is_null() {
                        attribute.ulValueLen = size as CK_ULONG;
                        return ffi::CKR_OK;
                    }
                    if (attribute.ulValueLen as usize) < size {
                        attribute.ulValueLen = UNAVAILABLE;
                        return ffi::CKR_BUFFER_TOO_SMALL;
                    }
                    // SAFETY: the caller's aligned array holds at least `entries.len()`
                    // CK_ATTRIBUTEs.
                    let inner = unsafe {
                        std::slice::from_raw_parts_mut(
                            attribute.pValue.cast::<CK_ATTRIBUTE>(),
                            entries.len(),
                        )
                    };
                    attribute.ulValueLen = size as CK_ULONG;
                    if inner.iter().all(|a| a.pValue.is_null()) {
                        for (slot, (ty, value)) in inner.iter_mut().zip(&entries) {
                            slot.type_ = *ty;
                            slot.ulValueLen = value.len() as CK_ULONG;
                        }
                        return ffi::CKR_OK;
                    }
                    if bend.retype {
                        inner[0].type_ = match entries.get(1) {
                            Some(&(second, _)) => second,
                            None => inner[0].type_ ^ 1,
                        };
                    }
                    for slot in inner.iter_mut() {
                        let slot_type = slot.type_;
                        let Some((_, value)) = entries.iter().find(|(ty, _)| *ty == slot_type)
                        else {
                            slot.ulValueLen = UNAVAILABLE;
                            return ffi::CKR_ATTRIBUTE_TYPE_INVALID;
                        };
                        if bend.redirect {
                            slot.pValue = self.own.as_mut_ptr().cast();
                            slot.ulValueLen = value.len() as CK_ULONG;
                            continue;
                        }
                        let given = slot.ulValueLen;
                        // SAFETY: forwarded from the caller (nested buffers included).
                        let rv = unsafe { self.write(slot, value) };
                        if rv != ffi::CKR_OK {
                            return rv;
                        }
                        if bend.keep_length {
                            slot.ulValueLen = given;
                        }
                        let misshape = bend.misshape.is_some_and(|picks| picks(slot_type));
                        if misshape && slot.ulValueLen + 1 < given {
                            slot.ulValueLen += 1;
                        }
                    }
                    ffi::CKR_OK
                }
            }
        }
    }

    /// How a truthful answer is bent (in the entries of a nested template).
    #[derive(Clone, Copy, Default)]
    struct Bend {
        /// Point the values at the module's own memory.
        redirect: bool,
        /// Change the first entry's type.
        retype: bool,
        /// Leave the lengths as they were given.
        keep_length: bool,
        /// Report one byte more than written for the entries of the types this picks.
        misshape: Option<fn(CK_ATTRIBUTE_TYPE) -> bool>,
    }

    impl GetAttributeValue for SimModule {
        unsafe fn get(&mut self, template: &mut [CK_ATTRIBUTE]) -> Result<Returned> {
            self.calls += 1;
            let types: Vec<CK_ATTRIBUTE_TYPE> = template.iter().map(|a| a.type_).collect();
            if let Some((ty, times)) = &mut self.grow {
                if *times > 0 {
                    *times -= 1;
                    if let Some(Sim::Bytes(value)) = self.object.get_mut(ty) {
                        value.extend_from_slice(&[b'+'; 16]);
                    }
                }
            }
            let mut rv = ffi::CKR_OK;
            for attribute in template.iter_mut() {
                // SAFETY: forwarded from the caller.
                let answer = unsafe { self.answer(attribute) };
                if answer != ffi::CKR_OK {
                    rv = answer;
                    if self.stop_at_first_error {
                        break;
                    }
                }
            }
            rv = match self.rv_policy {
                RvPolicy::Consistent => rv,
                RvPolicy::Always(always) => always,
                RvPolicy::OnCall(n, on) if n == self.calls => on,
                RvPolicy::OnCall(..) => rv,
            };
            self.returned.push(rv);
            for (&ty, attribute) in types.iter().zip(template.iter()) {
                if attribute.ulValueLen == UNAVAILABLE {
                    self.unavailable.push((ty, rv));
                }
            }
            Ok(Returned {
                function: FUNCTION,
                rv,
            })
        }
    }

    /// The layouts of the simulated attributes (as the safe table gives them).
    fn shapes(ty: CK_ATTRIBUTE_TYPE) -> Shape {
        match ty {
            ffi::CKA_TOKEN | ffi::CKA_SENSITIVE => Shape::Fixed {
                size: 1,
                empty_ok: false,
            },
            ffi::CKA_CLASS | ffi::CKA_VALUE_LEN => Shape::Fixed {
                size: ULONG_SIZE,
                empty_ok: false,
            },
            ffi::CKA_START_DATE | ffi::CKA_END_DATE => Shape::Fixed {
                size: 8,
                empty_ok: true,
            },
            ffi::CKA_ALLOWED_MECHANISMS => Shape::Ulongs,
            ffi::CKA_WRAP_TEMPLATE | ffi::CKA_UNWRAP_TEMPLATE => Shape::Template,
            _ => Shape::Bytes,
        }
    }

    fn bytes_of(outcome: &Outcome) -> &[u8] {
        match outcome {
            Outcome::Value(Fetched::Bytes(bytes)) => bytes.bytes(),
            _ => panic!("not a plain value"),
        }
    }

    fn contract_text(result: Result<Vec<Outcome>>) -> String {
        match result {
            Err(Error::ModuleContract { function, what }) => {
                assert_eq!(function, FUNCTION);
                what
            }
            Err(other) => panic!("expected a contract error, got {other:?}"),
            Ok(_) => panic!("expected a contract error, got values"),
        }
    }

    const VENDOR: CK_ATTRIBUTE_TYPE = ffi::CKA_VENDOR_DEFINED | 0x1234;

    #[test]
    fn fixed_size_values_take_one_call_without_a_length_query() {
        let mut module = SimModule::with([
            (ffi::CKA_TOKEN, Sim::Bytes(vec![ffi::CK_TRUE])),
            (ffi::CKA_CLASS, ulong(ffi::CKO_SECRET_KEY)),
            (ffi::CKA_START_DATE, Sim::Bytes(b"20240229".to_vec())),
            (ffi::CKA_END_DATE, Sim::Bytes(Vec::new())),
        ]);
        let types = [
            ffi::CKA_TOKEN,
            ffi::CKA_CLASS,
            ffi::CKA_START_DATE,
            ffi::CKA_END_DATE,
        ];
        let outcomes = read(&mut module, &types, shapes).unwrap();
        assert_eq!(module.calls, 1);
        assert_eq!(bytes_of(&outcomes[0]), &[ffi::CK_TRUE]);
        assert_eq!(
            bytes_of(&outcomes[1]),
            &ffi::CKO_SECRET_KEY.to_ne_bytes()[..]
        );
        assert_eq!(bytes_of(&outcomes[2]), b"20240229");
        assert_eq!(bytes_of(&outcomes[3]), b"");
    }

    #[test]
    fn variable_values_take_one_call_and_nested_templates_three() {
        let mechanisms = ulongs(&[ffi::CKM_AES_GCM, ffi::CKM_AES_CBC]);
        let mut module = SimModule::with([
            (ffi::CKA_TOKEN, Sim::Bytes(vec![ffi::CK_FALSE])),
            (ffi::CKA_LABEL, Sim::Bytes(b"label".to_vec())),
            (ffi::CKA_ID, Sim::Bytes(Vec::new())),
            (ffi::CKA_ALLOWED_MECHANISMS, Sim::Bytes(mechanisms.clone())),
            (
                ffi::CKA_WRAP_TEMPLATE,
                Sim::Template(vec![
                    (ffi::CKA_TOKEN, vec![ffi::CK_TRUE]),
                    (ffi::CKA_LABEL, b"inner".to_vec()),
                    (ffi::CKA_ID, Vec::new()),
                    (ffi::CKA_ALLOWED_MECHANISMS, mechanisms.clone()),
                ]),
            ),
            (ffi::CKA_UNWRAP_TEMPLATE, Sim::Template(Vec::new())),
        ]);
        let types = [
            ffi::CKA_TOKEN,
            ffi::CKA_LABEL,
            ffi::CKA_ID,
            ffi::CKA_ALLOWED_MECHANISMS,
            ffi::CKA_WRAP_TEMPLATE,
            ffi::CKA_UNWRAP_TEMPLATE,
        ];
        let outcomes = read(&mut module, &types, shapes).unwrap();
        assert_eq!(
            module.calls, 3,
            "values and template lengths, then entries, then entry values"
        );
        assert_eq!(bytes_of(&outcomes[0]), &[ffi::CK_FALSE]);
        assert_eq!(bytes_of(&outcomes[1]), b"label");
        assert_eq!(bytes_of(&outcomes[2]), b"");
        assert_eq!(bytes_of(&outcomes[3]), &mechanisms[..]);
        match &outcomes[4] {
            Outcome::Value(Fetched::Template(entries)) => {
                let entries: Vec<_> = entries.iter().map(|(t, b)| (*t, b.bytes())).collect();
                assert_eq!(
                    entries,
                    vec![
                        (ffi::CKA_TOKEN, &[ffi::CK_TRUE][..]),
                        (ffi::CKA_LABEL, &b"inner"[..]),
                        (ffi::CKA_ID, &b""[..]),
                        (ffi::CKA_ALLOWED_MECHANISMS, &mechanisms[..]),
                    ]
                );
            }
            _ => panic!("not a template"),
        }
        assert!(matches!(&outcomes[5], Outcome::Value(Fetched::Template(e)) if e.is_empty()));

        let mut module = SimModule::with([(ffi::CKA_LABEL, Sim::Bytes(b"x".to_vec()))]);
        read(&mut module, &[ffi::CKA_LABEL], shapes).unwrap();
        assert_eq!(module.calls, 1);
    }

    #[test]
    fn values_that_do_not_fit_the_first_room_take_a_length_query_and_a_fetch() {
        // Shorter than the room: one call. As long as the room (it may have been
        // skipped) or longer (CKR_BUFFER_TOO_SMALL): a length query, then a fetch, in
        // calls shared with the other attributes.
        for (len, calls) in [
            (0, 1),
            (GUESS_ROOM - 1, 1),
            (GUESS_ROOM, 3),
            (GUESS_ROOM + 1, 3),
            (5000, 3),
        ] {
            let label: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
            let mechanisms = ulongs(&vec![ffi::CKM_AES_GCM; len / ULONG_SIZE]);
            let mut module = SimModule::with([
                (ffi::CKA_CLASS, ulong(ffi::CKO_DATA)),
                (ffi::CKA_LABEL, Sim::Bytes(label.clone())),
                (ffi::CKA_ALLOWED_MECHANISMS, Sim::Bytes(mechanisms.clone())),
                (ffi::CKA_ID, Sim::Bytes(b"id".to_vec())),
                (ffi::CKA_VALUE, Sim::Sensitive),
            ]);
            let types = [
                ffi::CKA_CLASS,
                ffi::CKA_LABEL,
                ffi::CKA_ALLOWED_MECHANISMS,
                ffi::CKA_ID,
                ffi::CKA_VALUE,
            ];
            let outcomes = read(&mut module, &types, shapes).unwrap();
            assert_eq!(module.calls, calls, "a value of {len} bytes");
            assert_eq!(bytes_of(&outcomes[0]), &ffi::CKO_DATA.to_ne_bytes()[..]);
            assert_eq!(bytes_of(&outcomes[1]), &label[..]);
            assert_eq!(bytes_of(&outcomes[2]), &mechanisms[..]);
            assert_eq!(bytes_of(&outcomes[3]), b"id");
            assert!(matches!(outcomes[4], Outcome::Sensitive));
        }

        // A lone long value next to a sensitive one: the return value names neither
        // (CKR_BUFFER_TOO_SMALL or CKR_ATTRIBUTE_SENSITIVE), the length query tells.
        let mut module = SimModule::with([
            (ffi::CKA_LABEL, Sim::Bytes(vec![b'l'; 300])),
            (ffi::CKA_VALUE, Sim::Sensitive),
        ]);
        let outcomes = read(&mut module, &[ffi::CKA_VALUE, ffi::CKA_LABEL], shapes).unwrap();
        assert!(matches!(outcomes[0], Outcome::Sensitive));
        assert_eq!(bytes_of(&outcomes[1]), &[b'l'; 300][..]);
        assert_eq!(module.calls, 3);
    }

    #[test]
    fn one_attribute_is_read_on_the_stack_in_one_call() {
        let object = || {
            SimModule::with([
                (ffi::CKA_CLASS, ulong(ffi::CKO_DATA)),
                (ffi::CKA_LABEL, Sim::Bytes(b"label".to_vec())),
                (ffi::CKA_ID, Sim::Bytes(vec![b'i'; 300])),
                (ffi::CKA_VALUE, Sim::Sensitive),
            ])
        };
        let one = |module: &mut SimModule, ty: CK_ATTRIBUTE_TYPE, shape: Shape| {
            read_one(module, ty, shape, shapes, |outcome| Ok(keep(outcome)))
        };
        let ulong_shape = Shape::Fixed {
            size: ULONG_SIZE,
            empty_ok: false,
        };
        for (ty, calls, expected) in [
            (
                ffi::CKA_CLASS,
                1,
                Some(ffi::CKO_DATA.to_ne_bytes().to_vec()),
            ),
            (ffi::CKA_LABEL, 1, Some(b"label".to_vec())),
            (ffi::CKA_ID, 3, Some(vec![b'i'; 300])),
            (ffi::CKA_VALUE, 1, None),
            (VENDOR, 1, None),
        ] {
            let mut module = object();
            let outcome = one(&mut module, ty, shapes(ty)).unwrap();
            assert_eq!(module.calls, calls, "{}", AttributeType(ty));
            match expected {
                Some(value) => assert_eq!(bytes_of(&outcome), &value[..]),
                None if ty == VENDOR => assert!(matches!(outcome, Outcome::Invalid)),
                None => assert!(matches!(outcome, Outcome::Sensitive)),
            }
        }

        // A layout given by the caller: the value must have it.
        let mut module = object();
        let what = match one(&mut module, ffi::CKA_LABEL, ulong_shape) {
            Err(Error::ModuleContract { what, .. }) => what,
            _ => panic!("a 5-byte value read as a CK_ULONG"),
        };
        assert!(what.contains("CKA_LABEL"), "{what}");

        // Skipped however often it is asked: never the room's bytes.
        let mut module = object();
        module.lies.insert(ffi::CKA_CLASS, (Lie::Skip, usize::MAX));
        assert!(matches!(
            one(&mut module, ffi::CKA_CLASS, ulong_shape),
            Err(Error::ModuleContract { .. })
        ));
    }

    #[test]
    fn more_than_a_stack_of_attributes_share_one_call() {
        // Beyond the stack arena and the stack template: one heap arena, one call.
        let types: Vec<CK_ATTRIBUTE_TYPE> = (0..40).map(|i| VENDOR + i).collect();
        let mut module = SimModule::with(
            types
                .iter()
                .map(|&ty| (ty, Sim::Bytes(ty.to_ne_bytes().to_vec()))),
        );
        let outcomes = read(&mut module, &types, shapes).unwrap();
        assert_eq!(
            module.calls,
            1 + 1,
            "the guesses run out after {MAX_GUESSED}"
        );
        for (ty, outcome) in types.iter().zip(&outcomes) {
            assert_eq!(bytes_of(outcome), &ty.to_ne_bytes()[..]);
        }
    }

    #[test]
    fn sensitive_and_invalid_attributes_are_results_of_their_own() {
        let mut module = SimModule::with([
            (ffi::CKA_VALUE, Sim::Sensitive),
            (ffi::CKA_LABEL, Sim::Bytes(b"plain".to_vec())),
            (ffi::CKA_CLASS, ulong(ffi::CKO_SECRET_KEY)),
        ]);
        let types = [
            ffi::CKA_VALUE,
            VENDOR,
            ffi::CKA_LABEL,
            ffi::CKA_CLASS,
            ffi::CKA_TOKEN,
        ];
        let outcomes = read(&mut module, &types, shapes).unwrap();
        assert!(matches!(outcomes[0], Outcome::Sensitive));
        assert!(matches!(outcomes[1], Outcome::Invalid));
        assert_eq!(bytes_of(&outcomes[2]), b"plain");
        assert_eq!(
            bytes_of(&outcomes[3]),
            &ffi::CKO_SECRET_KEY.to_ne_bytes()[..]
        );
        assert!(matches!(outcomes[4], Outcome::Invalid));

        // A lone unavailable attribute is named by the return value: no extra call.
        let mut module = SimModule::with([
            (ffi::CKA_VALUE, Sim::Sensitive),
            (ffi::CKA_TOKEN, Sim::Bytes(vec![ffi::CK_TRUE])),
        ]);
        let outcomes = read(&mut module, &[ffi::CKA_TOKEN, ffi::CKA_VALUE], shapes).unwrap();
        assert_eq!(module.calls, 1);
        assert!(matches!(outcomes[1], Outcome::Sensitive));
    }

    #[test]
    fn a_module_that_stops_at_the_first_error_is_read_one_at_a_time() {
        let mut module = SimModule::with([
            (ffi::CKA_VALUE, Sim::Sensitive),
            (ffi::CKA_TOKEN, Sim::Bytes(vec![ffi::CK_TRUE])),
            (ffi::CKA_LABEL, Sim::Bytes(b"after".to_vec())),
            (ffi::CKA_CLASS, ulong(ffi::CKO_DATA)),
        ]);
        module.stop_at_first_error = true;
        let types = [
            VENDOR,
            ffi::CKA_TOKEN,
            ffi::CKA_VALUE,
            ffi::CKA_LABEL,
            ffi::CKA_CLASS,
        ];
        let outcomes = read(&mut module, &types, shapes).unwrap();
        assert!(matches!(outcomes[0], Outcome::Invalid));
        assert_eq!(bytes_of(&outcomes[1]), &[ffi::CK_TRUE]);
        assert!(matches!(outcomes[2], Outcome::Sensitive));
        assert_eq!(bytes_of(&outcomes[3]), b"after");
        assert_eq!(bytes_of(&outcomes[4]), &ffi::CKO_DATA.to_ne_bytes()[..]);
    }

    #[test]
    fn a_fixed_size_value_of_the_wrong_size_is_a_contract_error_naming_it() {
        let mut module = SimModule::with([(ffi::CKA_CLASS, Sim::Bytes(vec![0; 4]))]);
        let what = contract_text(read(&mut module, &[ffi::CKA_CLASS], shapes));
        assert!(what.contains("CKA_CLASS"), "{what}");
        let mut module = SimModule::with([(ffi::CKA_TOKEN, Sim::Bytes(vec![0; 40]))]);
        let what = contract_text(read(&mut module, &[ffi::CKA_TOKEN], shapes));
        assert!(what.contains("CKA_TOKEN"), "{what}");
        let mut module = SimModule::with([(ffi::CKA_ALLOWED_MECHANISMS, Sim::Bytes(vec![0; 5]))]);
        let what = contract_text(read(&mut module, &[ffi::CKA_ALLOWED_MECHANISMS], shapes));
        assert!(what.contains("CKA_ALLOWED_MECHANISMS"), "{what}");
    }

    #[test]
    fn absurd_lengths_are_refused_before_allocating_and_unavailable_is_never_a_size() {
        // Values that do not fit the first call's room take a length query.
        let long = || Sim::Bytes(vec![b'x'; GUESS_ROOM]);
        let mut module = SimModule::with([(ffi::CKA_LABEL, long())]);
        module.query_len = Some((MAX_VALUE_LEN as CK_ULONG) * 4);
        let what = contract_text(read(&mut module, &[ffi::CKA_LABEL], shapes));
        assert!(what.contains("absurd length"), "{what}");
        assert_eq!(module.calls, 2, "refused before a fetch");

        // CK_UNAVAILABLE_INFORMATION with CKR_OK: unavailable, not a length.
        let mut module = SimModule::with([(ffi::CKA_LABEL, long())]);
        module.query_len = Some(UNAVAILABLE);
        let outcomes = read(&mut module, &[ffi::CKA_LABEL], shapes).unwrap();
        assert!(matches!(outcomes[0], Outcome::Unavailable));
    }

    #[test]
    fn a_length_larger_than_the_buffer_after_ok_is_a_contract_error() {
        let mut module = SimModule::with([(ffi::CKA_LABEL, Sim::Bytes(b"label".to_vec()))]);
        module.overstate_by = 1000;
        let what = contract_text(read(&mut module, &[ffi::CKA_LABEL], shapes));
        assert!(what.contains("into a buffer of"), "{what}");
    }

    #[test]
    fn rule_24_nested_values_pointing_outside_our_buffer_are_rejected_unread() {
        let mut module = SimModule::with([(
            ffi::CKA_WRAP_TEMPLATE,
            Sim::Template(vec![(ffi::CKA_LABEL, b"inner".to_vec())]),
        )]);
        module.redirect_nested = true;
        let what = contract_text(read(&mut module, &[ffi::CKA_WRAP_TEMPLATE], shapes));
        assert!(what.contains("outside our buffer"), "{what}");
    }

    #[test]
    fn a_length_left_as_given_never_pads_a_value() {
        // Found by the property tests: a module that copies a value but leaves the length
        // as it was given (the room, larger than the value) had its value padded with
        // zeros up to the room once asked on its own, at the top level and in nested
        // templates (an empty mechanism list came back as one `CKM_RSA_PKCS_KEY_PAIR_GEN`).
        let mut module = SimModule::with([(ffi::CKA_LABEL, Sim::Bytes(vec![0]))]);
        module
            .lies
            .insert(ffi::CKA_LABEL, (Lie::KeepLength, usize::MAX));
        let what = contract_text(read(&mut module, &[ffi::CKA_LABEL], shapes));
        assert!(what.contains("never settled"), "{what}");

        let mut module = SimModule::with([(
            ffi::CKA_WRAP_TEMPLATE,
            Sim::Template(vec![(ffi::CKA_ALLOWED_MECHANISMS, Vec::new())]),
        )]);
        module
            .lies
            .insert(ffi::CKA_WRAP_TEMPLATE, (Lie::KeepNestedLength, usize::MAX));
        let what = contract_text(read(&mut module, &[ffi::CKA_WRAP_TEMPLATE], shapes));
        assert!(what.contains("never settled"), "{what}");

        // Told once (the length query uses up the first answer): asked again, the value.
        let mut module = SimModule::with([(ffi::CKA_LABEL, Sim::Bytes(b"label".to_vec()))]);
        module.lies.insert(ffi::CKA_LABEL, (Lie::KeepLength, 2));
        let outcomes = read(&mut module, &[ffi::CKA_LABEL], shapes).unwrap();
        assert_eq!(bytes_of(&outcomes[0]), b"label");
    }

    #[test]
    fn a_value_that_grows_is_fetched_again_boundedly() {
        // Too long for the first call's room, then grows before the length query and
        // again between the query and the fetch.
        let long = vec![b'g'; GUESS_ROOM + 8];
        let mut module = SimModule::with([(ffi::CKA_LABEL, Sim::Bytes(long.clone()))]);
        module.grow = Some((ffi::CKA_LABEL, 3));
        let outcomes = read(&mut module, &[ffi::CKA_LABEL], shapes).unwrap();
        let mut expected = long;
        expected.extend_from_slice(&[b'+'; 48]);
        assert_eq!(bytes_of(&outcomes[0]), &expected[..]);
        assert!(module.calls >= 4, "fetched again after it grew");

        // A value that fits the first call's room is read before it can grow; one that
        // keeps growing past it never settles.
        let mut module = SimModule::with([(ffi::CKA_LABEL, Sim::Bytes(b"grow".to_vec()))]);
        module.grow = Some((ffi::CKA_LABEL, usize::MAX));
        let outcomes = read(&mut module, &[ffi::CKA_LABEL], shapes).unwrap();
        assert_eq!(bytes_of(&outcomes[0]), b"grow++++++++++++++++");
        let mut module = SimModule::with([(ffi::CKA_LABEL, Sim::Bytes(vec![b'g'; GUESS_ROOM]))]);
        module.grow = Some((ffi::CKA_LABEL, usize::MAX));
        let what = contract_text(read(&mut module, &[ffi::CKA_LABEL], shapes));
        assert!(what.contains("never settled"), "{what}");
        assert!(module.calls < 40, "{} calls", module.calls);
    }

    #[test]
    fn other_return_values_fail_the_call() {
        struct Refusing;
        impl GetAttributeValue for Refusing {
            unsafe fn get(&mut self, _: &mut [CK_ATTRIBUTE]) -> Result<Returned> {
                Ok(Returned {
                    function: FUNCTION,
                    rv: ffi::CKR_OBJECT_HANDLE_INVALID,
                })
            }
        }
        match read(&mut Refusing, &[ffi::CKA_LABEL], shapes) {
            Err(Error::Module { function, rv }) => {
                assert_eq!(function, FUNCTION);
                assert_eq!(rv, crate::Rv::ObjectHandleInvalid);
            }
            _ => panic!("expected the module's error"),
        }
        assert!(read(&mut Refusing, &[], shapes).unwrap().is_empty());
    }

    #[test]
    fn shapes_check_sizes() {
        let bool_shape = Shape::Fixed {
            size: 1,
            empty_ok: false,
        };
        assert!(check_shape(bool_shape, 1).is_ok());
        assert!(check_shape(bool_shape, 0).is_err());
        assert!(check_shape(bool_shape, 4).is_err());
        let date = Shape::Fixed {
            size: 8,
            empty_ok: true,
        };
        assert!(check_shape(date, 0).is_ok());
        assert!(check_shape(date, 8).is_ok());
        assert!(check_shape(date, 7).is_err());
        assert!(check_shape(Shape::Ulongs, ULONG_SIZE * 3).is_ok());
        assert!(check_shape(Shape::Ulongs, ULONG_SIZE * 3 + 1).is_err());
        assert!(check_shape(Shape::Template, ATTRIBUTE_SIZE * 2).is_ok());
        assert!(check_shape(Shape::Template, ATTRIBUTE_SIZE + 3).is_err());
    }

    #[test]
    fn unavailable_and_absurd_lengths_are_never_sizes() {
        assert_eq!(checked_len(UNAVAILABLE), None);
        assert_eq!(checked_len((MAX_VALUE_LEN + 1) as CK_ULONG), None);
        assert_eq!(checked_len(0), Some(0));
        #[cfg(target_pointer_width = "64")]
        #[allow(clippy::useless_conversion)]
        {
            assert_eq!(checked_len(CK_ULONG::try_from(1u64 << 40).unwrap()), None);
        }
    }

    #[test]
    fn rule_22_23_aligned_bytes_are_aligned_and_empty_is_not_null() {
        let mut buffer = AlignedBytes::with_room(13);
        assert!(buffer.capacity() >= 13);
        assert_eq!(buffer.as_mut_ptr() as usize % align_of::<CK_ATTRIBUTE>(), 0);
        assert_eq!(buffer.bytes(), &[] as &[u8]);
        let empty = AlignedBytes::empty();
        assert!(!empty.as_ptr().is_null());
        assert!(empty.bytes().is_empty());
    }

    #[test]
    fn rule_23_in_templates_lay_out_values_and_nested_arrays() {
        let label = b"abc".to_vec();
        let mut nested = InTemplate::with_capacity(1);
        nested.bool(ffi::CKA_TOKEN, true);
        let mut template = InTemplate::with_capacity(4);
        template.bytes(ffi::CKA_LABEL, &label);
        template.bytes(ffi::CKA_ID, &[]);
        template.ulong(ffi::CKA_CLASS, ffi::CKO_DATA);
        template.nested(ffi::CKA_WRAP_TEMPLATE, nested);
        assert_eq!(template.len(), 4);
        let (pointer, count) = template.as_ck();
        assert_eq!(count, 4);
        assert!(!pointer.is_null());
        // Copies of the fields: `CK_ATTRIBUTE` is packed on Windows.
        let ck: Vec<(CK_ULONG, *mut c_void)> = template
            .ck
            .iter()
            .map(|a| (a.ulValueLen, a.pValue))
            .collect();
        assert_eq!(ck[0].0, 3);
        assert_eq!(ck[0].1.cast_const(), label.as_ptr().cast());
        assert_eq!(ck[1].0, 0);
        assert!(!ck[1].1.is_null());
        assert_eq!(ck[2].0 as usize, ULONG_SIZE);
        assert_eq!(ck[3].0 as usize, ATTRIBUTE_SIZE);
    }
}
