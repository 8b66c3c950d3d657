//! The storage of an [`AttributeReader`](crate::AttributeReader) and its
//! `C_GetAttributeValue` calls: one `CK_ATTRIBUTE` per attribute, each pointing at its
//! own room in one word-aligned value area that the reader owns and reuses.
//!
//! Everything is laid out once, when the reader is made; a read allocates nothing. The
//! area is wiped before every read (the module never sees, and no result ever shows,
//! the previous object's bytes) and when the reader is dropped (rule 34). Every room
//! starts on a word boundary, so a `CK_ULONG` (or an array of them) is aligned wherever
//! the module writes it (rule 23). The decisions about what the module answered are the
//! safe crate's (`reader.rs`): this file only lays out, calls, and hands back lengths.

use core::ffi::c_void;
use std::ptr;

use ffi::{CK_ATTRIBUTE, CK_ATTRIBUTE_TYPE, CK_OBJECT_HANDLE, CK_ULONG};
use zeroize::Zeroizing;

use super::{word_bytes, UNAVAILABLE};
use crate::error::Result;
use crate::raw::{call, Returned};
use crate::session::Session;

/// How one attribute is asked for in a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// Its value, into its room.
    Value,
    /// Its length only (a NULL value pointer).
    Length,
}

/// One attribute of the reader: its type and its room in the area.
#[derive(Clone, Copy, Debug)]
struct Room {
    ty: CK_ATTRIBUTE_TYPE,
    /// The room's first word in the area.
    word: usize,
    /// Its size in bytes (at most the words it spans).
    len: usize,
}

/// What the module left in one attribute's template entry after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Answer {
    /// `ulValueLen` as the module left it.
    pub(crate) len: CK_ULONG,
    /// Whether the type and the value pointer are still those we passed (a module that
    /// changed either is never read from: rule 24).
    pub(crate) intact: bool,
}

/// The template and value area of a reader.
pub(crate) struct ReaderBuffers {
    rooms: Box<[Room]>,
    /// The full call's template as we pass it: every attribute's value into its room.
    /// Made once: the area's words never move (it is never resized, and written only
    /// through its pointer: [`ReaderBuffers::zero`]).
    requests: Box<[CK_ATTRIBUTE]>,
    /// The template of the last call for every attribute, as the module left it (the
    /// full call uses it in place; a call for some attributes goes through `scratch`
    /// and is copied back).
    template: Box<[CK_ATTRIBUTE]>,
    /// Whether the last call was the full one; otherwise, how each attribute was last
    /// asked for.
    full: bool,
    asked: Box<[Ask]>,
    /// The template of a call for some of the attributes, and which ones.
    scratch: Box<[CK_ATTRIBUTE]>,
    picked: Box<[usize]>,
    /// How many attributes the last call of `get_some` was for.
    count: usize,
    /// The values, in `u64` words: aligned for `CK_ULONG`.
    area: Zeroizing<Vec<u64>>,
}

// SAFETY: the only non-`Send`/`Sync` parts are the `pValue` pointers of `requests`,
// `template` and `scratch`. They point into `area`, which this value owns (heap memory,
// never shared otherwise), or are NULL; they are only ever passed to the module during
// a call, which takes `&mut self`, and otherwise only compared: this crate never reads
// or writes through them. Moving the value to another thread, or sharing
// `&ReaderBuffers` (which reads only lengths and the area through safe slices), cannot
// create a data race through them.
unsafe impl Send for ReaderBuffers {}
// SAFETY: as for `Send` above.
unsafe impl Sync for ReaderBuffers {}

fn blank(ty: CK_ATTRIBUTE_TYPE) -> CK_ATTRIBUTE {
    CK_ATTRIBUTE {
        type_: ty,
        pValue: ptr::null_mut(),
        ulValueLen: UNAVAILABLE,
    }
}

/// What the module left in `entry`, which we sent with type `ty` and value pointer
/// `value`.
#[inline]
fn compare(entry: &CK_ATTRIBUTE, ty: CK_ATTRIBUTE_TYPE, value: *const c_void) -> Answer {
    // Copies of the fields: `CK_ATTRIBUTE` is packed on Windows (rule 26).
    let (out_ty, out_value, len) = (entry.type_, entry.pValue, entry.ulValueLen);
    Answer {
        len,
        intact: out_ty == ty && out_value.cast_const() == value,
    }
}

impl ReaderBuffers {
    /// Lays out one room of `len` bytes per `(type, len)`, each starting on a word.
    pub(crate) fn new(rooms: impl ExactSizeIterator<Item = (CK_ATTRIBUTE_TYPE, usize)>) -> Self {
        let count = rooms.len();
        let mut words = 0;
        let rooms: Box<[Room]> = rooms
            .map(|(ty, len)| {
                let room = Room {
                    ty,
                    word: words,
                    len,
                };
                words += len.div_ceil(8);
                room
            })
            .collect();
        let mut area = Zeroizing::new(vec![0u64; words]);
        let base = area.as_mut_ptr();
        let requests = rooms
            .iter()
            .map(|room| CK_ATTRIBUTE {
                type_: room.ty,
                pValue: base.wrapping_add(room.word).cast(),
                ulValueLen: room.len as CK_ULONG,
            })
            .collect();
        ReaderBuffers {
            requests,
            full: false,
            template: rooms.iter().map(|room| blank(room.ty)).collect(),
            scratch: rooms.iter().map(|room| blank(room.ty)).collect(),
            asked: vec![Ask::Value; count].into_boxed_slice(),
            picked: vec![0; count].into_boxed_slice(),
            count: 0,
            rooms,
            area,
        }
    }

    /// Where attribute `index`'s room starts in the area, in bytes.
    pub(crate) fn start(&self, index: usize) -> usize {
        self.rooms[index].word * 8
    }

    /// `len` bytes of the area from byte `start` (empty if beyond the area, which the
    /// caller rules out: a room's start and a length within it).
    #[inline]
    pub(crate) fn bytes(&self, start: usize, len: usize) -> &[u8] {
        word_bytes(&self.area)
            .get(start..start + len)
            .unwrap_or_default()
    }

    /// The attributes the last call of [`ReaderBuffers::get_some`] was for, in order.
    pub(crate) fn picked(&self) -> &[usize] {
        &self.picked[..self.count]
    }

    /// How attribute `index` was last asked for.
    pub(crate) fn asked(&self, index: usize) -> Ask {
        if self.full {
            Ask::Value
        } else {
            self.asked[index]
        }
    }

    /// Wipes every value.
    pub(crate) fn wipe(&mut self) {
        let words = self.area.len();
        self.zero(0, words);
    }

    /// Zeroes `count` words of the area from word `first` (within the area).
    ///
    /// Through the area's pointer, never a `&mut` to its words: that would invalidate
    /// the pointers of `requests` for the aliasing model (`Vec::as_mut_ptr` guarantees
    /// that its pointers stay valid together).
    #[inline]
    fn zero(&mut self, first: usize, count: usize) {
        assert!(first + count <= self.area.len(), "within the area");
        let start = self.area.as_mut_ptr().wrapping_add(first);
        // SAFETY: `first + count` words are within the area (checked above), a live
        // allocation owned by `self` and borrowed mutably here; `u64` is valid for any
        // bytes.
        unsafe { ptr::write_bytes(start, 0, count) };
    }

    /// The request for attribute `index` asked for as `ask`; its room is wiped first.
    fn request(&mut self, index: usize, ask: Ask) -> CK_ATTRIBUTE {
        let room = self.rooms[index];
        self.asked[index] = ask;
        match ask {
            Ask::Value => {
                self.zero(room.word, room.len.div_ceil(8));
                self.requests[index]
            }
            Ask::Length => blank(room.ty),
        }
    }

    /// What the module left for attribute `index` in the last call that asked for it.
    pub(crate) fn answer(&self, index: usize) -> Answer {
        let request = self.requests[index];
        let expected: *const c_void = match self.asked(index) {
            Ask::Value => request.pValue,
            Ask::Length => ptr::null(),
        };
        compare(&self.template[index], request.type_, expected)
    }

    /// What the module left for every attribute after [`ReaderBuffers::get_all`], in
    /// order.
    pub(crate) fn all_answers(&self) -> impl Iterator<Item = Answer> + '_ {
        self.template
            .iter()
            .zip(self.requests.iter())
            .map(|(entry, request)| compare(entry, request.type_, request.pValue))
    }

    /// `C_GetAttributeValue` of `object` for every attribute, each into its room (the
    /// area wiped first): the common read, one call. The caller holds the session's
    /// lock.
    pub(crate) fn get_all(
        &mut self,
        session: &Session,
        object: CK_OBJECT_HANDLE,
    ) -> Result<Returned> {
        self.wipe();
        self.template.copy_from_slice(&self.requests);
        self.full = true;
        let count = self.template.len() as CK_ULONG;
        let template = self.template.as_mut_ptr();
        // SAFETY: `template` holds `count` entries, copies of `requests`: each points at
        // its own room of the area (laid out within it by `new` from the area's own
        // pointer, which stays valid: the area is never resized nor written through a
        // reference; rooms do not overlap), writable for the `ulValueLen` bytes it gives;
        // the area and the template are owned by `self`, borrowed mutably until the call
        // returns.
        unsafe {
            call!(
                session.inner(),
                C_GetAttributeValue(session.handle(), object, template, count)
            )
        }
    }

    /// `C_GetAttributeValue` of `object` for the attributes `ask` picks (`Some`), in
    /// order, each asked for as it says (a value into its wiped room, or its length).
    /// The caller holds the session's lock. Returns the call's answer (no call for
    /// none); [`ReaderBuffers::picked`] tells which attributes it was for.
    pub(crate) fn get_some(
        &mut self,
        session: &Session,
        object: CK_OBJECT_HANDLE,
        mut ask: impl FnMut(usize) -> Option<Ask>,
    ) -> Result<Option<Returned>> {
        self.count = 0;
        self.full = false;
        let mut count = 0;
        for index in 0..self.rooms.len() {
            if let Some(how) = ask(index) {
                self.scratch[count] = self.request(index, how);
                self.picked[count] = index;
                count += 1;
            }
        }
        self.count = count;
        if count == 0 {
            return Ok(None);
        }
        let template = self.scratch.as_mut_ptr();
        // SAFETY: `scratch[..count]` holds the requests: each points at its own room of
        // the area (laid out within it by `new`, rooms do not overlap), writable for the
        // `ulValueLen` bytes it gives, or is NULL (a length query); the area and the
        // template are owned by `self`, borrowed mutably until the call returns.
        let returned = unsafe {
            call!(
                session.inner(),
                C_GetAttributeValue(session.handle(), object, template, count as CK_ULONG)
            )
        }?;
        for (entry, &index) in self.scratch[..count].iter().zip(self.picked.iter()) {
            self.template[index] = *entry;
        }
        Ok(Some(returned))
    }
}

#[cfg(test)]
mod tests {
    use std::mem::align_of;

    use super::*;

    #[test]
    fn rooms_start_on_words_and_do_not_overlap() {
        let buffers = ReaderBuffers::new(
            [
                (ffi::CKA_CLASS, 8),
                (ffi::CKA_TOKEN, 1),
                (ffi::CKA_LABEL, 13),
            ]
            .into_iter(),
        );
        assert_eq!(buffers.rooms.len(), 3);
        assert_eq!(buffers.area.len(), 1 + 1 + 2);
        assert_eq!(buffers.rooms[1].word, 1);
        assert_eq!(buffers.rooms[2].word, 2);
        assert_eq!(buffers.area.as_ptr() as usize % align_of::<CK_ULONG>(), 0);
        assert_eq!(buffers.start(2), 16);
        assert_eq!(buffers.bytes(16, 16).len(), 16);
        assert!(buffers.bytes(16, 17).is_empty(), "never beyond the area");
    }

    #[test]
    fn requests_point_into_the_room_or_are_queries() {
        let mut buffers =
            ReaderBuffers::new([(ffi::CKA_CLASS, 8), (ffi::CKA_LABEL, 16)].into_iter());
        buffers.area.fill(u64::MAX);
        let request = buffers.request(1, Ask::Value);
        assert_eq!(request.ulValueLen, 16);
        assert_eq!(
            request.pValue.cast_const(),
            buffers.area.as_ptr().wrapping_add(1).cast()
        );
        assert_eq!(buffers.area[1..], [0, 0], "the room is wiped");
        assert_eq!(buffers.area[0], u64::MAX, "the others are left");
        buffers.template[1] = request;
        assert!(buffers.answer(1).intact);
        let query = buffers.request(0, Ask::Length);
        assert!(query.pValue.is_null());
        assert_eq!(query.ulValueLen, UNAVAILABLE);
        buffers.template[0] = query;
        assert!(buffers.answer(0).intact);
        // Moved or retyped: not intact.
        buffers.template[0].pValue = buffers.area.as_mut_ptr().cast();
        assert!(!buffers.answer(0).intact);
        buffers.template[1].type_ = ffi::CKA_ID;
        assert!(!buffers.answer(1).intact);
    }
}
