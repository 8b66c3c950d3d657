//! Reading attributes into storage the caller owns and reuses: [`AttributeReader`] and
//! [`Session::read_attributes_into`], the attribute analogue of the `_into` crypto
//! forms. The unsafe half (the template, the value area and the calls) is
//! `raw/attribute/reader.rs`; this file decides what each answer means.

use core::fmt;

use ffi::{CK_ATTRIBUTE_TYPE, CK_OBJECT_HANDLE, CK_RV, CK_ULONG};

use crate::attribute::{self, AttributeResult, AttributeType};
use crate::error::{Error, Result, Rv};
use crate::object::ObjectHandle;
use crate::raw::attribute::reader::{Answer, Ask, ReaderBuffers};
use crate::raw::attribute::{
    check_shape, checked_len, Fetched, Outcome, Shape, MAX_VALUE_LEN, ULONG_SIZE, UNAVAILABLE,
};
use crate::session::Session;

/// The function every error of a read names.
const FUNCTION: &str = "C_GetAttributeValue";
/// Calls shared by the attributes still unsettled after the first call (a too-small
/// value's length query, attributes a refused call may have skipped) before the rest are
/// asked for one at a time.
const MAX_SHARED_ROUNDS: usize = 2;
/// Calls spent on one attribute asked for on its own before giving up on the module.
const MAX_SOLO_CALLS: u32 = 8;

/// The shape of a `CK_ULONG` value.
const ULONG: Shape = Shape::Fixed {
    size: ULONG_SIZE,
    empty_ok: false,
};
/// The shape of a `CK_BBOOL` value.
const BOOL: Shape = Shape::Fixed {
    size: 1,
    empty_ok: false,
};

/// Where one attribute of a read stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// The value: this many bytes at the start of its room.
    Value(usize),
    /// `CKR_ATTRIBUTE_SENSITIVE`.
    Sensitive,
    /// `CKR_ATTRIBUTE_TYPE_INVALID`.
    Invalid,
    /// `CK_UNAVAILABLE_INFORMATION` without a reason.
    Unavailable,
    /// Longer than its room: this many bytes.
    TooSmall(usize),
    /// To be asked for again, as `ask`; `solo`: on its own.
    Pending { ask: Ask, solo: bool },
}

/// One attribute of a reader.
#[derive(Clone, Copy, Debug)]
struct Entry {
    ty: CK_ATTRIBUTE_TYPE,
    shape: Shape,
    /// A vendor-defined attribute (of no known layout): read as whatever the caller
    /// asks for, if its size fits.
    vendor: bool,
    /// Where its buffer starts in the value area, in bytes.
    start: usize,
    /// The longest value read: a fixed size, or the room the caller gave.
    room: usize,
    /// The buffer's size, as the module is told: always larger than `room`, so that a
    /// length left as we gave it never passes for a value's.
    passed: usize,
    state: State,
}

/// What one call was like, for judging each attribute's answer.
#[derive(Clone, Copy)]
struct Call {
    rv: CK_RV,
    /// How many attributes of the call came back `CK_UNAVAILABLE_INFORMATION`.
    unavailable: usize,
    /// Whether the call was for one attribute (its return value is about it).
    solo: bool,
}

/// A contract violation about attribute `ty`.
fn contract(ty: CK_ATTRIBUTE_TYPE, what: impl fmt::Display) -> Error {
    Error::ModuleContract {
        function: FUNCTION,
        what: format!("{}: {what}", AttributeType(ty)),
    }
}

/// The length of a value answered with `CKR_OK` that is plainly right: intact, within
/// its room, of its shape. `None` leaves the answer to [`absorb`].
#[inline]
fn plain_value(entry: &Entry, answer: Answer) -> Option<usize> {
    // `CK_UNAVAILABLE_INFORMATION` is larger than any room, and so is a length left as
    // we gave it.
    if !answer.intact || answer.len > entry.room as CK_ULONG {
        return None;
    }
    let n = answer.len as usize;
    let fits = match entry.shape {
        Shape::Fixed { size, empty_ok } => n == size || (n == 0 && empty_ok),
        Shape::Bytes => true,
        Shape::Ulongs => n % ULONG_SIZE == 0,
        Shape::Template => false,
    };
    fits.then_some(n)
}

/// What one attribute's answer to a call means.
#[cold]
#[inline(never)]
fn absorb(entry: &Entry, ask: Ask, answer: Answer, call: Call) -> Result<State> {
    let (ty, shape, room) = (entry.ty, entry.shape, entry.room);
    if !answer.intact {
        // Never read: rule 24.
        return Err(contract(
            ty,
            "the module changed the template entry's type or pointed its value outside our \
             buffer",
        ));
    }
    let len = answer.len;
    let fixed = match shape {
        Shape::Fixed { size, .. } => Some(size),
        _ => None,
    };
    if len == UNAVAILABLE {
        // The return value tells why only when it can be about this attribute alone.
        let reason_known = call.solo || (call.unavailable == 1 && call.rv != ffi::CKR_OK);
        return Ok(match call.rv {
            _ if !reason_known => State::Pending { ask, solo: true },
            ffi::CKR_ATTRIBUTE_SENSITIVE => State::Sensitive,
            ffi::CKR_ATTRIBUTE_TYPE_INVALID => State::Invalid,
            ffi::CKR_BUFFER_TOO_SMALL => {
                match (ask, fixed) {
                    (Ask::Value, Some(size)) => {
                        return Err(contract(
                            ty,
                            format!(
                            "the value does not fit {size} bytes, for a value of exactly {size}"
                        ),
                        ))
                    }
                    // Its length is asked for.
                    (Ask::Value, None) => State::Pending {
                        ask: Ask::Length,
                        solo: call.solo,
                    },
                    // A length query cannot be too small: asked again, on its own.
                    (Ask::Length, _) => State::Pending {
                        ask: Ask::Length,
                        solo: true,
                    },
                }
            }
            // `CKR_OK` for this attribute alone.
            _ => State::Unavailable,
        });
    }
    match ask {
        Ask::Value => {
            let passed = entry.passed as CK_ULONG;
            if len > passed {
                return match call.rv {
                    ffi::CKR_OK => Err(contract(
                        ty,
                        format!("reported {len} bytes written into a buffer of {passed}"),
                    )),
                    ffi::CKR_BUFFER_TOO_SMALL => match (fixed, checked_len(len)) {
                        (Some(size), _) => Err(contract(
                            ty,
                            format!("{len} bytes for a value of exactly {size}"),
                        )),
                        (None, Some(needed)) => Ok(State::TooSmall(needed)),
                        (None, None) => Err(contract(
                            ty,
                            format!("absurd length {len} (more than {MAX_VALUE_LEN} bytes)"),
                        )),
                    },
                    // Too small, while the call was refused for another attribute: asked
                    // for on its own, its answer cannot be confused with another's.
                    _ => Ok(State::Pending {
                        ask: Ask::Value,
                        solo: true,
                    }),
                };
            }
            if len == passed {
                // The buffer is larger than the room: a length left as we gave it is an
                // attribute the module skipped (some stop at the first refused one), or
                // a value longer than the room. Never taken for a value's length: asked
                // for again with the others, then its length on its own.
                return Ok(State::Pending {
                    ask: if call.solo { Ask::Length } else { Ask::Value },
                    solo: call.solo,
                });
            }
            // Within the buffer, which the module wrote.
            let n = len as usize;
            if n > room {
                return match fixed {
                    Some(size) => Err(contract(
                        ty,
                        format!("{n} bytes for a value of exactly {size}"),
                    )),
                    None => Ok(State::TooSmall(n)),
                };
            }
            check_shape(shape, n).map_err(|what| contract(ty, what))?;
            Ok(State::Value(n))
        }
        Ask::Length => {
            let n = checked_len(len).ok_or_else(|| {
                contract(
                    ty,
                    format!("absurd length {len} (more than {MAX_VALUE_LEN} bytes)"),
                )
            })?;
            check_shape(shape, n).map_err(|what| contract(ty, what))?;
            Ok(if n > room {
                State::TooSmall(n)
            } else {
                // It fits now (it changed, or the refusal was another attribute's):
                // fetched again.
                State::Pending {
                    ask: Ask::Value,
                    solo: call.solo,
                }
            })
        }
    }
}

/// The values of several attributes of one object, read by
/// [`Session::read_attributes_into`] into storage this reader owns and reuses: one
/// `C_GetAttributeValue` call in the common case and no allocation at all, like a C
/// program with stack buffers. The attribute analogue of the `_into` crypto forms;
/// [`Session::get_attributes`] is the allocating form.
///
/// # Reading
///
/// A reader is made once for a list of attribute types: fixed-size attributes
/// (`CK_BBOOL`, `CK_ULONG`, `CK_DATE`, `CK_VERSION`) must have exactly their size,
/// variable ones (bytes, text, `CK_ULONG` arrays) get the room the caller gives. Making
/// it allocates its template and value area; each read then fills them in place, for
/// any number of objects, without a length query:
///
/// - every attribute comes back as an [`AttributeView`]: its value (borrowing the
///   reader), or why there is none: sensitive, not an attribute of the object
///   (`CKR_ATTRIBUTE_TYPE_INVALID`), unavailable, or longer than the room given (with
///   the length needed: make a reader with more room, or fall back to
///   [`Session::get_attributes`]). None of those fails the read;
/// - typed accessors read a value directly: [`ulong`](Self::ulong),
///   [`bool`](Self::bool), [`bytes`](Self::bytes), [`str`](Self::str) (checked UTF-8),
///   and [`result`](Self::result) decodes it into the owned [`AttributeResult`] that
///   `get_attributes` would give;
/// - a value is only ever what the last read's call wrote: the area is wiped before
///   each read (the module never sees the previous object's bytes either) and when the
///   reader is dropped or [`clear`](Self::clear)ed. After a failed read the reader holds
///   no results.
///
/// The module is offered a buffer a little larger than each room (the next whole
/// number of 8-byte words above it: aligned for `CK_ULONG`s), so that a length it leaves
/// as we gave it, when it skips an attribute, is never taken for a value's length.
/// Only the rare answer takes more calls: a value longer than its buffer takes a length
/// query (to report the length needed) unless the module gives it, and when the module
/// refuses the call for one attribute (`CKR_ATTRIBUTE_SENSITIVE`...), the attributes
/// whose answer it leaves unclear are asked for again, together, then one at a time
/// (some modules stop at the first such attribute). Lengths that cannot be right
/// (longer than the buffer after `CKR_OK`, a fixed-size value of another size,
/// `CK_UNAVAILABLE_INFORMATION` taken as a size) are [`Error::ModuleContract`] naming
/// the attribute.
///
/// Nested templates (`CKA_WRAP_TEMPLATE`...) are not read this way: use
/// [`Session::get_attributes`].
///
/// ```no_run
/// use pkcs11::{AttributeReader, AttributeType, AttributeView, ObjectClass, Pin, Pkcs11, UserType};
///
/// let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
/// let session = p11.slots_with_token()?.remove(0).open_ro_session()?;
/// session.login(UserType::User, &Pin::from("1234"))?;
///
/// // Made once: CKA_CLASS is a CK_ULONG, the label and the ID get 64 bytes each.
/// let mut reader = AttributeReader::new(
///     &[AttributeType::Class, AttributeType::Label, AttributeType::Id],
///     64,
/// )?;
/// for object in session.find_all(&[])? {
///     // One C_GetAttributeValue, no allocation.
///     session.read_attributes_into(object, &mut reader)?;
///     let class = ObjectClass::from_raw(reader.ulong(AttributeType::Class)?);
///     let label = match reader.get(AttributeType::Label) {
///         Some(AttributeView::Value(_)) => reader.str(AttributeType::Label)?,
///         _ => "(no label)",
///     };
///     match reader.get(AttributeType::Id) {
///         Some(AttributeView::Value(id)) => println!("{class:?} {label:?} id {id:02x?}"),
///         Some(AttributeView::TooSmall { needed }) => println!("{label:?}: a {needed}-byte id"),
///         _ => println!("{class:?} {label:?} without an id"),
///     }
/// }
/// # Ok::<(), pkcs11::Error>(())
/// ```
#[doc(alias = "C_GetAttributeValue")]
#[doc(alias = "CK_ATTRIBUTE")]
pub struct AttributeReader {
    buffers: ReaderBuffers,
    entries: Box<[Entry]>,
    /// Whether the last read succeeded (the entries hold its results).
    read: bool,
}

/// One attribute's result in an [`AttributeReader`]: its value, borrowing the reader,
/// or why there is none.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AttributeView<'r> {
    /// The value's bytes, exactly as the module wrote them (a `CK_ULONG` in native byte
    /// order, a `CK_BBOOL` as one byte...).
    Value(&'r [u8]),
    /// `CKR_ATTRIBUTE_SENSITIVE`: the object does not reveal the value.
    Sensitive,
    /// `CKR_ATTRIBUTE_TYPE_INVALID`: the object has no such attribute.
    Invalid,
    /// `CK_UNAVAILABLE_INFORMATION` without a reason from the module.
    Unavailable,
    /// The value is longer than the room the reader gives it.
    TooSmall {
        /// The value's length in bytes.
        needed: usize,
    },
}

impl<'r> AttributeView<'r> {
    /// The value, if there is one.
    #[inline]
    pub fn value(&self) -> Option<&'r [u8]> {
        match self {
            AttributeView::Value(bytes) => Some(bytes),
            _ => None,
        }
    }
}

impl fmt::Debug for AttributeView<'_> {
    /// Never the value's bytes (they may be secret): only their length.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttributeView::Value(bytes) => write!(f, "Value({} bytes)", bytes.len()),
            AttributeView::Sensitive => f.write_str("Sensitive"),
            AttributeView::Invalid => f.write_str("Invalid"),
            AttributeView::Unavailable => f.write_str("Unavailable"),
            AttributeView::TooSmall { needed } => write!(f, "TooSmall {{ needed: {needed} }}"),
        }
    }
}

impl fmt::Debug for AttributeReader {
    /// The types and the results' kinds and lengths, never the values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_map();
        for entry in self.entries.iter() {
            let ty = AttributeType(entry.ty);
            match self.view(entry) {
                Some(view) => list.entry(&ty, &view),
                None => list.entry(&ty, &"not read"),
            };
        }
        list.finish()
    }
}

impl AttributeReader {
    /// A reader for the attributes `types`, in order; each variable-length one gets
    /// `room` bytes, each fixed-size one exactly its size.
    ///
    /// # Errors
    /// As [`AttributeReader::with_rooms`].
    pub fn new(types: &[AttributeType], room: usize) -> Result<AttributeReader> {
        AttributeReader::with_rooms(types.iter().map(|&ty| (ty, room)))
    }

    /// A reader for the attributes `rooms` names, in order, each variable-length one
    /// with the room given (bytes); a fixed-size one gets exactly its size whatever is
    /// given. A type listed twice is read twice; the accessors find the first.
    ///
    /// ```
    /// use pkcs11::{AttributeReader, AttributeType};
    ///
    /// let reader = AttributeReader::with_rooms([
    ///     (AttributeType::Class, 0),
    ///     (AttributeType::Label, 32),
    ///     (AttributeType::Value, 256),
    /// ])?;
    /// assert_eq!(reader.room(AttributeType::Class), Some(std::mem::size_of::<pkcs11::ffi::CK_ULONG>()));
    /// assert_eq!(reader.room(AttributeType::Value), Some(256));
    /// # Ok::<(), pkcs11::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the attribute for a nested template
    /// (`CKA_WRAP_TEMPLATE`...: read it with [`Session::get_attributes`]) or a room of
    /// more than 64 MiB.
    pub fn with_rooms(
        rooms: impl IntoIterator<Item = (AttributeType, usize)>,
    ) -> Result<AttributeReader> {
        let mut layout = Vec::new();
        let mut entries = Vec::new();
        for (ty, room) in rooms {
            let shape = attribute::shape_of(ty.0);
            let room = match shape {
                Shape::Fixed { size, .. } => size,
                Shape::Template => {
                    return Err(Error::InvalidInput {
                        what: format!(
                            "{ty} is a nested template: read it with Session::get_attributes"
                        ),
                    })
                }
                Shape::Bytes | Shape::Ulongs if room > MAX_VALUE_LEN => {
                    return Err(Error::InvalidInput {
                        what: format!(
                            "a room of {room} bytes for {ty} (more than {MAX_VALUE_LEN})"
                        ),
                    })
                }
                Shape::Bytes | Shape::Ulongs => room,
            };
            // At least one byte more than the room, in whole words.
            let passed = (room / 8 + 1) * 8;
            layout.push((ty.0, passed));
            entries.push(Entry {
                ty: ty.0,
                shape,
                vendor: ty.is_vendor_defined() && shape == Shape::Bytes,
                start: 0,
                room,
                passed,
                state: State::Unavailable,
            });
        }
        let buffers = ReaderBuffers::new(layout.into_iter());
        for (index, entry) in entries.iter_mut().enumerate() {
            entry.start = buffers.start(index);
        }
        Ok(AttributeReader {
            buffers,
            entries: entries.into_boxed_slice(),
            read: false,
        })
    }

    /// The number of attributes read.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the reader reads no attribute.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The attribute types, in order.
    pub fn types(&self) -> impl ExactSizeIterator<Item = AttributeType> + '_ {
        self.entries.iter().map(|entry| AttributeType(entry.ty))
    }

    /// The room given to attribute `ty`, in bytes; `None` if it is not one of the
    /// reader's.
    pub fn room(&self, ty: AttributeType) -> Option<usize> {
        self.entry(ty).map(|entry| entry.room)
    }

    /// Wipes every value and forgets the results.
    pub fn clear(&mut self) {
        self.read = false;
        self.buffers.wipe();
    }

    /// The result of attribute `ty` in the last read; `None` if `ty` is not one of the
    /// reader's, or if there is no result (no read yet, or the last one failed).
    #[inline]
    pub fn get(&self, ty: AttributeType) -> Option<AttributeView<'_>> {
        self.view(self.entry(ty)?)
    }

    /// Every attribute's type and result in the last read, in order (nothing if there
    /// is no result: no read yet, or the last one failed).
    pub fn iter(&self) -> impl Iterator<Item = (AttributeType, AttributeView<'_>)> + '_ {
        self.entries
            .iter()
            .filter_map(|entry| Some((AttributeType(entry.ty), self.view(entry)?)))
    }

    /// The value of the `CK_ULONG` attribute `ty` (`CKA_CLASS`, `CKA_KEY_TYPE`,
    /// `CKA_VALUE_LEN`...; or a vendor-defined one of that size) in the last read.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `ty` is not one of the reader's, not a `CK_ULONG`, or
    /// there is no result; [`Error::Module`] with [`Rv::AttributeSensitive`] or
    /// [`Rv::AttributeTypeInvalid`] naming `C_GetAttributeValue` for a sensitive or
    /// absent attribute; [`Error::NotFound`] for an unavailable one.
    #[inline]
    pub fn ulong(&self, ty: AttributeType) -> Result<CK_ULONG> {
        if let Some((entry, bytes)) = self.value(ty) {
            if entry.shape == ULONG || entry.vendor {
                if let Ok(bytes) = <[u8; ULONG_SIZE]>::try_from(bytes) {
                    return Ok(CK_ULONG::from_ne_bytes(bytes));
                }
            }
        }
        Err(self.error(ty, Some((ULONG, "a CK_ULONG"))))
    }

    /// The value of the `CK_BBOOL` attribute `ty` (`CKA_TOKEN`, `CKA_SENSITIVE`...; or a
    /// vendor-defined one of that size) in the last read. Any byte but `CK_FALSE` is
    /// true.
    ///
    /// # Errors
    /// As [`AttributeReader::ulong`], for a `CK_BBOOL`.
    #[inline]
    pub fn bool(&self, ty: AttributeType) -> Result<bool> {
        if let Some((entry, &[byte])) = self.value(ty) {
            if entry.shape == BOOL || entry.vendor {
                return Ok(byte != ffi::CK_FALSE);
            }
        }
        Err(self.error(ty, Some((BOOL, "a CK_BBOOL"))))
    }

    /// The value of attribute `ty` in the last read, as the module wrote it.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `ty` is not one of the reader's, if there is no
    /// result, or if the value was longer than its room (naming the length needed);
    /// otherwise as [`AttributeReader::ulong`].
    #[inline]
    pub fn bytes(&self, ty: AttributeType) -> Result<&[u8]> {
        match self.value(ty) {
            Some((_, bytes)) => Ok(bytes),
            None => Err(self.error(ty, None)),
        }
    }

    /// The value of the text attribute `ty` (`CKA_LABEL`, `CKA_APPLICATION`,
    /// `CKA_UNIQUE_ID`...; or a vendor-defined one) in the last read, checked to be
    /// UTF-8.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a value that is not UTF-8 (read it with
    /// [`bytes`](Self::bytes)) or an attribute of a fixed size; otherwise as
    /// [`AttributeReader::bytes`].
    #[inline]
    pub fn str(&self, ty: AttributeType) -> Result<&str> {
        match self.value(ty) {
            Some((entry, bytes)) if entry.shape == Shape::Bytes => core::str::from_utf8(bytes)
                .map_err(|error| Error::InvalidInput {
                    what: format!(
                        "{ty}: the value is not UTF-8 text (invalid at byte {})",
                        error.valid_up_to()
                    ),
                }),
            _ => Err(self.error(ty, Some((Shape::Bytes, "text")))),
        }
    }

    /// The result of attribute `ty` in the last read, decoded as
    /// [`Session::get_attributes`] decodes it (this allocates for variable-length
    /// values).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `ty` is not one of the reader's, if there is no
    /// result, or if the value was longer than its room (naming the length needed).
    pub fn result(&self, ty: AttributeType) -> Result<AttributeResult> {
        let outcome = match self.entry(ty).and_then(|entry| self.view(entry)) {
            Some(AttributeView::Value(bytes)) => Outcome::Value(Fetched::Bytes(bytes)),
            Some(AttributeView::Sensitive) => Outcome::Sensitive,
            Some(AttributeView::Invalid) => Outcome::Invalid,
            Some(AttributeView::Unavailable) => Outcome::Unavailable,
            Some(AttributeView::TooSmall { .. }) | None => return Err(self.error(ty, None)),
        };
        AttributeResult::from_outcome(ty.0, outcome)
    }

    /// The first attribute `ty`.
    #[inline]
    fn entry(&self, ty: AttributeType) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.ty == ty.0)
    }

    /// The first attribute `ty` and its value, if the last read gave it one.
    #[inline]
    fn value(&self, ty: AttributeType) -> Option<(&Entry, &[u8])> {
        let entry = self.entry(ty)?;
        match entry.state {
            State::Value(len) if self.read => Some((entry, self.buffers.bytes(entry.start, len))),
            _ => None,
        }
    }

    /// The result of `entry`, if the last read succeeded.
    fn view(&self, entry: &Entry) -> Option<AttributeView<'_>> {
        if !self.read {
            return None;
        }
        Some(match entry.state {
            State::Value(len) => AttributeView::Value(self.buffers.bytes(entry.start, len)),
            State::Sensitive => AttributeView::Sensitive,
            State::Invalid => AttributeView::Invalid,
            State::TooSmall(needed) => AttributeView::TooSmall { needed },
            // Not left after a successful read.
            State::Unavailable | State::Pending { .. } => AttributeView::Unavailable,
        })
    }

    /// The error for reading attribute `ty` (as a value of shape and name `expected`)
    /// when the fast path found no such value.
    #[cold]
    #[inline(never)]
    fn error(&self, ty: AttributeType, expected: Option<(Shape, &str)>) -> Error {
        let Some(entry) = self.entry(ty) else {
            return Error::InvalidInput {
                what: format!("{ty} is not one of the attribute reader's"),
            };
        };
        if let Some((shape, what)) = expected {
            if entry.shape != shape && !(entry.vendor && what != "text") {
                return Error::InvalidInput {
                    what: format!("{ty} is not {what}"),
                };
            }
        }
        match self.view(entry) {
            None => Error::InvalidInput {
                what: "nothing read into the attribute reader (no read yet, or the last one \
                       failed)"
                    .into(),
            },
            Some(AttributeView::Sensitive) => Error::Module {
                function: FUNCTION,
                rv: Rv::AttributeSensitive,
            },
            Some(AttributeView::Invalid) => Error::Module {
                function: FUNCTION,
                rv: Rv::AttributeTypeInvalid,
            },
            Some(AttributeView::TooSmall { needed }) => Error::InvalidInput {
                what: format!(
                    "{ty}: the value has {needed} bytes, more than the attribute reader's \
                     room of {}",
                    entry.room
                ),
            },
            Some(AttributeView::Unavailable) => Error::NotFound {
                what: format!("{ty}: the module reports the value unavailable"),
            },
            Some(AttributeView::Value(bytes)) => Error::InvalidInput {
                what: format!(
                    "{ty}: {} bytes, not {}",
                    bytes.len(),
                    expected.map_or("a value", |(_, what)| what)
                ),
            },
        }
    }

    /// One read of `object` (the caller holds the session's lock).
    fn read(&mut self, session: &Session, object: CK_OBJECT_HANDLE) -> Result<()> {
        self.read = false;
        let count = self.entries.len();
        if count == 0 {
            self.read = true;
            return Ok(());
        }
        let returned = session.track(self.buffers.get_all(session, object))?;
        let rv = returned.rv;
        if !is_per_attribute(rv) {
            return Err(returned.error());
        }
        let AttributeReader {
            buffers, entries, ..
        } = self;
        let mut unsettled = false;
        if rv == ffi::CKR_OK {
            // The common answer: every value where it belongs, checked inline; anything
            // else is judged in full.
            for (entry, answer) in entries.iter_mut().zip(buffers.all_answers()) {
                if let Some(n) = plain_value(entry, answer) {
                    entry.state = State::Value(n);
                    continue;
                }
                let call = Call {
                    rv,
                    unavailable: 0,
                    solo: count == 1,
                };
                entry.state = absorb(entry, Ask::Value, answer, call)?;
                unsettled |= matches!(entry.state, State::Pending { .. });
            }
        } else {
            let call = Call {
                rv,
                unavailable: buffers
                    .all_answers()
                    .filter(|answer| answer.len == UNAVAILABLE)
                    .count(),
                solo: count == 1,
            };
            for (entry, answer) in entries.iter_mut().zip(buffers.all_answers()) {
                entry.state = absorb(entry, Ask::Value, answer, call)?;
                unsettled |= matches!(entry.state, State::Pending { .. });
            }
        }
        if unsettled {
            self.settle(session, object)?;
        }
        self.read = true;
        Ok(())
    }

    /// Asks again for the attributes left unsettled by the first call: together
    /// (boundedly), then one at a time.
    fn settle(&mut self, session: &Session, object: CK_OBJECT_HANDLE) -> Result<()> {
        for _ in 0..MAX_SHARED_ROUNDS {
            let shared = |state: State| matches!(state, State::Pending { solo: false, .. });
            if !self.entries.iter().any(|entry| shared(entry.state)) {
                break;
            }
            self.round(session, object, |_, state| shared(state))?;
        }
        for index in 0..self.entries.len() {
            let mut calls = 0;
            while let State::Pending { ask, .. } = self.entries[index].state {
                calls += 1;
                if calls > MAX_SOLO_CALLS {
                    return Err(contract(
                        self.entries[index].ty,
                        format!("no answer settled in {MAX_SOLO_CALLS} calls"),
                    ));
                }
                self.entries[index].state = State::Pending { ask, solo: true };
                self.round(session, object, |picked, _| picked == index)?;
            }
        }
        Ok(())
    }

    /// One call for the pending attributes `pick` chooses (by index and state).
    fn round(
        &mut self,
        session: &Session,
        object: CK_OBJECT_HANDLE,
        pick: impl Fn(usize, State) -> bool,
    ) -> Result<()> {
        let AttributeReader {
            buffers, entries, ..
        } = self;
        let returned = buffers.get_some(session, object, |index| match entries[index].state {
            State::Pending { ask, .. } if pick(index, entries[index].state) => Some(ask),
            _ => None,
        })?;
        let Some(returned) = returned else {
            return Ok(());
        };
        let returned = session.track(Ok(returned))?;
        if !is_per_attribute(returned.rv) {
            return Err(returned.error());
        }
        let picked = buffers.picked();
        let call = Call {
            rv: returned.rv,
            unavailable: picked
                .iter()
                .filter(|&&index| buffers.answer(index).len == UNAVAILABLE)
                .count(),
            solo: picked.len() == 1,
        };
        for &index in picked {
            let entry = &mut entries[index];
            entry.state = absorb(entry, buffers.asked(index), buffers.answer(index), call)?;
        }
        Ok(())
    }
}

/// Whether `rv` is a return value of `C_GetAttributeValue` about single attributes
/// (rule 19), or `CKR_OK`.
fn is_per_attribute(rv: CK_RV) -> bool {
    matches!(
        rv,
        ffi::CKR_OK
            | ffi::CKR_ATTRIBUTE_SENSITIVE
            | ffi::CKR_ATTRIBUTE_TYPE_INVALID
            | ffi::CKR_BUFFER_TOO_SMALL
    )
}

impl Session {
    /// Reads the attributes of `reader` of `object` into the reader's own storage: one
    /// `C_GetAttributeValue` call in the common case, and no allocation. The results
    /// replace the previous read's; read them with the reader's accessors
    /// ([`AttributeReader::get`], [`AttributeReader::ulong`]...). A sensitive, absent,
    /// unavailable or too long attribute is a result of its own, never an error of the
    /// whole read. See [`AttributeReader`] for an example.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GetAttributeValue` for answers about the object or the
    /// session (`CKR_OBJECT_HANDLE_INVALID`...); [`Error::ModuleContract`] naming the
    /// attribute for lengths, sizes or pointers that cannot be right. After an error the
    /// reader holds no results.
    #[doc(alias = "C_GetAttributeValue")]
    pub fn read_attributes_into(
        &self,
        object: ObjectHandle,
        reader: &mut AttributeReader,
    ) -> Result<()> {
        let _lock = self.locked()?;
        reader.read(self, object.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader's entry for `ty` with `room` (as `with_rooms` makes it).
    fn entry(ty: CK_ATTRIBUTE_TYPE, room: usize) -> Entry {
        let reader = AttributeReader::with_rooms([(AttributeType(ty), room)]).unwrap();
        reader.entries[0]
    }

    fn ok(len: CK_ULONG) -> (Answer, Call) {
        answered(len, ffi::CKR_OK, 0, false)
    }

    fn answered(len: CK_ULONG, rv: CK_RV, unavailable: usize, solo: bool) -> (Answer, Call) {
        (
            Answer { len, intact: true },
            Call {
                rv,
                unavailable,
                solo,
            },
        )
    }

    fn judge(entry: &Entry, ask: Ask, (answer, call): (Answer, Call)) -> Result<State> {
        absorb(entry, ask, answer, call)
    }

    fn contract_text(result: Result<State>) -> String {
        match result {
            Err(Error::ModuleContract { function, what }) => {
                assert_eq!(function, "C_GetAttributeValue");
                what
            }
            other => panic!("expected a contract violation, got {other:?}"),
        }
    }

    #[test]
    fn a_reader_can_be_kept_in_shared_state() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<AttributeReader>();
        send_sync::<AttributeView<'static>>();
    }

    #[test]
    fn buffers_are_larger_than_rooms() {
        let class = entry(ffi::CKA_CLASS, 1000);
        assert_eq!(class.room, ULONG_SIZE, "a fixed size, whatever the room");
        assert!(class.passed > class.room && class.passed % 8 == 0);
        let label = entry(ffi::CKA_LABEL, 64);
        assert_eq!((label.room, label.passed), (64, 72));
        let empty = entry(ffi::CKA_ID, 0);
        assert_eq!((empty.room, empty.passed), (0, 8));
        let token = entry(ffi::CKA_TOKEN, 0);
        assert_eq!((token.room, token.passed), (1, 8));
    }

    #[test]
    fn plain_values_take_the_fast_path_and_nothing_else_does() {
        let label = entry(ffi::CKA_LABEL, 64);
        let intact = |len| Answer { len, intact: true };
        assert_eq!(plain_value(&label, intact(0)), Some(0));
        assert_eq!(plain_value(&label, intact(64)), Some(64));
        assert_eq!(plain_value(&label, intact(65)), None);
        assert_eq!(plain_value(&label, intact(72)), None);
        assert_eq!(plain_value(&label, intact(UNAVAILABLE)), None);
        assert_eq!(
            plain_value(
                &label,
                Answer {
                    len: 3,
                    intact: false
                }
            ),
            None
        );
        let class = entry(ffi::CKA_CLASS, 0);
        assert_eq!(plain_value(&class, intact(8)), Some(8));
        assert_eq!(plain_value(&class, intact(4)), None);
        let date = entry(ffi::CKA_START_DATE, 0);
        assert_eq!(plain_value(&date, intact(0)), Some(0));
        assert_eq!(plain_value(&date, intact(8)), Some(8));
        let mechanisms = entry(ffi::CKA_ALLOWED_MECHANISMS, 64);
        assert_eq!(plain_value(&mechanisms, intact(16)), Some(16));
        assert_eq!(plain_value(&mechanisms, intact(12)), None);
    }

    #[test]
    fn a_length_beyond_the_buffer_after_ok_is_a_contract_violation_naming_it() {
        let label = entry(ffi::CKA_LABEL, 64);
        let what = contract_text(judge(&label, Ask::Value, ok(1000)));
        assert!(
            what.contains("CKA_LABEL") && what.contains("1000"),
            "{what}"
        );
        let class = entry(ffi::CKA_CLASS, 0);
        let what = contract_text(judge(&class, Ask::Value, ok(4)));
        assert!(what.contains("CKA_CLASS"), "{what}");
        let what = contract_text(judge(&class, Ask::Value, ok(12)));
        assert!(what.contains("CKA_CLASS"), "{what}");
        // A fixed-size value that does not fit its buffer.
        let what = contract_text(judge(
            &class,
            Ask::Value,
            answered(UNAVAILABLE, ffi::CKR_BUFFER_TOO_SMALL, 1, false),
        ));
        assert!(what.contains("CKA_CLASS"), "{what}");
        // A changed entry is never read.
        let what = contract_text(absorb(
            &label,
            Ask::Value,
            Answer {
                len: 3,
                intact: false,
            },
            ok(3).1,
        ));
        assert!(what.contains("outside our buffer"), "{what}");
    }

    #[test]
    fn too_small_values_report_the_length_needed() {
        let label = entry(ffi::CKA_LABEL, 64);
        // Within the buffer but beyond the room: known exactly.
        assert_eq!(
            judge(&label, Ask::Value, ok(70)).unwrap(),
            State::TooSmall(70)
        );
        // A module that says how much it needs.
        assert_eq!(
            judge(
                &label,
                Ask::Value,
                answered(300, ffi::CKR_BUFFER_TOO_SMALL, 0, false)
            )
            .unwrap(),
            State::TooSmall(300)
        );
        // One that does not: its length is asked for.
        assert_eq!(
            judge(
                &label,
                Ask::Value,
                answered(UNAVAILABLE, ffi::CKR_BUFFER_TOO_SMALL, 1, false)
            )
            .unwrap(),
            State::Pending {
                ask: Ask::Length,
                solo: false
            }
        );
        assert_eq!(
            judge(&label, Ask::Length, ok(300)).unwrap(),
            State::TooSmall(300)
        );
        // The length query finds it fits after all: fetched again.
        assert_eq!(
            judge(&label, Ask::Length, answered(10, ffi::CKR_OK, 0, true)).unwrap(),
            State::Pending {
                ask: Ask::Value,
                solo: true
            }
        );
        let what = contract_text(judge(&label, Ask::Length, ok(UNAVAILABLE - 1)));
        assert!(what.contains("absurd"), "{what}");
    }

    #[test]
    fn a_length_left_as_given_is_never_a_value() {
        let label = entry(ffi::CKA_LABEL, 64);
        assert_eq!(
            judge(&label, Ask::Value, ok(72)).unwrap(),
            State::Pending {
                ask: Ask::Value,
                solo: false
            }
        );
        assert_eq!(
            judge(&label, Ask::Value, answered(72, ffi::CKR_OK, 0, true)).unwrap(),
            State::Pending {
                ask: Ask::Length,
                solo: true
            }
        );
        let class = entry(ffi::CKA_CLASS, 0);
        assert!(matches!(
            judge(
                &class,
                Ask::Value,
                answered(16, ffi::CKR_ATTRIBUTE_SENSITIVE, 1, false)
            )
            .unwrap(),
            State::Pending { .. }
        ));
    }

    #[test]
    fn refusals_are_per_attribute_when_the_return_value_can_tell() {
        let value = entry(ffi::CKA_VALUE, 64);
        let sensitive = answered(UNAVAILABLE, ffi::CKR_ATTRIBUTE_SENSITIVE, 1, false);
        assert_eq!(
            judge(&value, Ask::Value, sensitive).unwrap(),
            State::Sensitive
        );
        let invalid = answered(UNAVAILABLE, ffi::CKR_ATTRIBUTE_TYPE_INVALID, 1, false);
        assert_eq!(judge(&value, Ask::Value, invalid).unwrap(), State::Invalid);
        // Two unavailable attributes, one return value: each is asked on its own.
        let unclear = answered(UNAVAILABLE, ffi::CKR_ATTRIBUTE_SENSITIVE, 2, false);
        assert_eq!(
            judge(&value, Ask::Value, unclear).unwrap(),
            State::Pending {
                ask: Ask::Value,
                solo: true
            }
        );
        // CKR_OK with no length: unavailable once asked alone.
        assert!(matches!(
            judge(&value, Ask::Value, ok(UNAVAILABLE)).unwrap(),
            State::Pending { solo: true, .. }
        ));
        assert_eq!(
            judge(
                &value,
                Ask::Value,
                answered(UNAVAILABLE, ffi::CKR_OK, 1, true)
            )
            .unwrap(),
            State::Unavailable
        );
        // A value that fits while another attribute was refused is kept.
        assert_eq!(
            judge(
                &value,
                Ask::Value,
                answered(5, ffi::CKR_ATTRIBUTE_SENSITIVE, 1, false)
            )
            .unwrap(),
            State::Value(5)
        );
    }

    #[test]
    fn nested_templates_and_huge_rooms_are_refused() {
        match AttributeReader::new(&[AttributeType::Label, AttributeType::WrapTemplate], 64) {
            Err(Error::InvalidInput { what }) => assert!(what.contains("CKA_WRAP_TEMPLATE")),
            other => panic!("{other:?}"),
        }
        match AttributeReader::new(&[AttributeType::Label], MAX_VALUE_LEN + 1) {
            Err(Error::InvalidInput { what }) => assert!(what.contains("CKA_LABEL")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn accessors_before_a_read_say_so() {
        let reader =
            AttributeReader::new(&[AttributeType::Class, AttributeType::Label], 8).unwrap();
        assert_eq!(reader.get(AttributeType::Class), None);
        assert_eq!(reader.iter().count(), 0);
        assert_eq!(
            reader.types().collect::<Vec<_>>(),
            [AttributeType::Class, AttributeType::Label]
        );
        match reader.ulong(AttributeType::Class) {
            Err(Error::InvalidInput { what }) => assert!(what.contains("nothing read"), "{what}"),
            other => panic!("{other:?}"),
        }
        match reader.ulong(AttributeType::Label) {
            Err(Error::InvalidInput { what }) => assert!(what.contains("CKA_LABEL"), "{what}"),
            other => panic!("{other:?}"),
        }
        match reader.bytes(AttributeType::Id) {
            Err(Error::InvalidInput { what }) => assert!(what.contains("CKA_ID"), "{what}"),
            other => panic!("{other:?}"),
        }
        assert!(format!("{reader:?}").contains("not read"));
    }
}
