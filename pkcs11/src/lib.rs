#![doc = include_str!("../../README.md")]
#![deny(unsafe_code)]

pub use ffi;

mod attribute;
#[allow(unsafe_code)] // the callback trampolines
mod callback;
mod context;
#[doc = include_str!("coverage.md")]
pub mod coverage {}
mod crypto;
mod error;
#[cfg(feature = "formats")]
pub mod formats;
mod info;
mod keygen;
mod keys;
mod mechanism;
mod message;
mod object;
mod output;
mod pool;
#[allow(unsafe_code)]
mod raw;
mod reader;
mod secret;
mod session;
#[cfg(any(feature = "rustcrypto", feature = "rustls"))]
pub mod signer;
mod slot;
#[cfg(feature = "rustls")]
pub mod tls;
mod token;
mod uri;

pub use attribute::{
    Attribute, AttributeResult, AttributeType, CertificateType, Date, KeyType, ObjectClass,
};
pub use callback::{AppMutex, MutexError, Notification, NotifyReply, StdAppMutex};
pub use context::Pkcs11;
pub use crypto::{
    DecryptDigestStream, DecryptStream, DecryptVerifyStream, DigestEncryptStream, DigestStream,
    EncryptStream, SignEncryptStream, SignStream, VerifySignatureStream, VerifyStream,
};
pub use error::{Category, Error, Result, Rv};
pub use info::{
    LibraryInfo, MechanismFlags, MechanismInfo, PaddedText, SessionFlags, SessionInfo,
    SessionState, SlotFlags, SlotInfo, Version,
};
pub use mechanism::{
    AesCbcEncryptDataParams, AesCtrParams, CcmParams, ChaCha20Params, ChaCha20Poly1305Params,
    CounterFormat, Des3CbcEncryptDataParams, DkmLengthFormat, DkmLengthMethod, EcdhParams,
    EddsaParams, GcmParams, HashSignContext, Hedge, HkdfParams, HkdfSalt, Kdf, KeyDerivationData,
    Mechanism, MechanismType, Mgf, OaepParams, ParameterSet, Pbkdf2Params, Pbkdf2Prf, PrfDataParam,
    PssParams, SignContext, Sp800108FeedbackParams, Sp800108Params, XeddsaParams,
};
pub use message::{
    Generator, MessageDecrypt, MessageEncrypt, MessageParams, MessageSign, MessageVerify,
};
pub use object::{CertificateQuery, FindObjects, ObjectHandle};
pub use pool::{PooledSession, SessionPool, SessionPoolBuilder};
pub use reader::{AttributeReader, AttributeView};
pub use secret::{Pin, SecretBytes};
pub use session::{AsyncOutcome, Operation, OperationKind, Session};
pub use slot::{Slot, UserType};
pub use token::{Count, TokenFlags, TokenInfo, UtcTime};
pub use uri::{ModuleLocator, Pkcs11Uri, UriComponent, UriError, UriErrorKind, UriObjectType};
