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

mod attribute;
#[allow(unsafe_code)] // the callback trampolines
mod callback;
mod context;
mod crypto;
mod error;
mod info;
mod keygen;
mod mechanism;
mod object;
mod output;
#[allow(unsafe_code)]
mod raw;
mod secret;
mod session;
mod slot;
mod token;

pub use attribute::{
    Attribute, AttributeResult, AttributeType, CertificateType, Date, KeyType, ObjectClass,
};
pub use callback::{AppMutex, MutexError, Notification, NotifyReply, StdAppMutex};
pub use context::Pkcs11;
pub use crypto::{DecryptStream, DigestStream, EncryptStream, SignStream, VerifyStream};
pub use error::{Category, Error, Result, Rv};
pub use info::{
    LibraryInfo, MechanismFlags, MechanismInfo, PaddedText, SessionFlags, SessionInfo,
    SessionState, SlotFlags, SlotInfo, Version,
};
pub use mechanism::{EddsaParams, GcmParams, Mechanism, MechanismType, Mgf, OaepParams, PssParams};
pub use object::{FindObjects, ObjectHandle};
pub use secret::{Pin, SecretBytes};
pub use session::{Operation, OperationKind, Session};
pub use slot::{Slot, UserType};
pub use token::{Count, TokenFlags, TokenInfo, UtcTime};
