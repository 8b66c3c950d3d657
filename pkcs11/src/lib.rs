//! Safe, thread-friendly access to PKCS #11 ("Cryptoki") modules.
//!
//! - [`Pkcs11`]: one initialized module per process, shared by every handle and
//!   session, finalized when the last is gone.
//! - [`Session`]: an open session, `Send + Sync`, closed on drop; multi-step operations
//!   return an [`Operation`] guard that holds the session's reentrant lock.
//! - [`Error`] and [`Rv`]: every `CKR_*` code as its own kind, with the failing function.
//!
//! The raw bindings are re-exported as [`ffi`] (the `pkcs11-sys` crate).

#![deny(unsafe_code)]

pub use ffi;

mod context;
mod error;
mod info;
mod mechanism;
mod object;
#[allow(unsafe_code)]
mod raw;
mod secret;
mod session;
mod slot;

pub use context::Pkcs11;
pub use error::{Category, Error, Result, Rv};
pub use info::Version;
pub use mechanism::{Mechanism, MechanismType};
pub use object::ObjectHandle;
pub use secret::{Pin, SecretBytes};
pub use session::{Operation, OperationKind, Session};
pub use slot::{Slot, UserType};
