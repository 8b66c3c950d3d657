#![doc = include_str!("../../README.md")]
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
mod pool;
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
pub use pool::{PooledSession, SessionPool, SessionPoolBuilder};
pub use secret::{Pin, SecretBytes};
pub use session::{Operation, OperationKind, Session};
pub use slot::{Slot, UserType};
pub use token::{Count, TokenFlags, TokenInfo, UtcTime};
