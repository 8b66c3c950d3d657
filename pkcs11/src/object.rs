//! Objects on a token.

/// A handle to an object (`CK_OBJECT_HANDLE`), valid in the session (or, for token
/// objects, the application) that found or made it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectHandle(pub ffi::CK_OBJECT_HANDLE);

impl ObjectHandle {
    /// The raw handle.
    pub const fn raw(self) -> ffi::CK_OBJECT_HANDLE {
        self.0
    }
}
