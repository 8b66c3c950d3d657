//! Errors: every `CKR_*` return value as its own [`Rv`] kind, and the crate's [`Error`].
//!
//! Modelled on pyOpenSSL's translation of OpenSSL's error codes: the module's code is
//! kept losslessly (vendor-defined and unassigned values included) together with the
//! PKCS #11 function that returned it, and grouped into a coarse [`Category`] for retry
//! logic and matching.

use core::fmt;

use ffi::CK_RV;

/// A coarse grouping of return values, for retry logic and matching.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// `CKR_OK`.
    Success,
    /// Authentication: PINs, login state, user types.
    Auth,
    /// The session: closed, invalid, read-only, conflicting sessions.
    Session,
    /// The state of an operation: active, not initialized, saved state.
    OperationState,
    /// Templates, attributes and object handles.
    Template,
    /// Keys: handles, sizes, types, permitted functions, wrapping.
    Key,
    /// Mechanisms, their parameters and the data or signature given to them.
    MechanismArgument,
    /// The slot, token or device.
    TokenDevice,
    /// The library itself: initialization, locking, unsupported functions.
    Library,
    /// Host or device memory, session counts, token resources, buffer sizes.
    Resource,
    /// Cancelled operations.
    Cancelled,
    /// Unspecified failures (`CKR_GENERAL_ERROR`, `CKR_FUNCTION_FAILED`).
    Fatal,
    /// A vendor-defined value (`CKR_VENDOR_DEFINED` and above).
    Vendor,
    /// A value the standard does not assign.
    Unknown,
}

/// Writes the [`Rv`] enum and its mapping from one table: variant, `CKR_` constant,
/// category. The table below is the only list of return values in this crate.
macro_rules! rv_table {
    ($($variant:ident = $ckr:ident => $category:ident,)*) => {
        /// A PKCS #11 return value: every `CKR_*` of v3.2 as its own kind, plus
        /// vendor-defined and unassigned values kept as they are.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Rv {
            $(
                #[doc = concat!("`", stringify!($ckr), "`")]
                $variant,
            )*
            /// A vendor-defined value (`CKR_VENDOR_DEFINED` and above).
            Vendor(CK_RV),
            /// A value the standard does not assign.
            Unknown(CK_RV),
        }

        impl Rv {
            /// The kind of a raw return value.
            pub const fn from_raw(rv: CK_RV) -> Rv {
                match rv {
                    $(ffi::$ckr => Rv::$variant,)*
                    rv if rv >= ffi::CKR_VENDOR_DEFINED => Rv::Vendor(rv),
                    rv => Rv::Unknown(rv),
                }
            }

            /// The raw value, exactly as the module returned it.
            pub const fn raw(self) -> CK_RV {
                match self {
                    $(Rv::$variant => ffi::$ckr,)*
                    Rv::Vendor(rv) | Rv::Unknown(rv) => rv,
                }
            }

            /// The standard name (`"CKR_PIN_INCORRECT"`); `"CKR_VENDOR_DEFINED"` for
            /// vendor values and `"CKR_UNKNOWN"` for unassigned ones (see `raw()`).
            pub const fn name(self) -> &'static str {
                match self {
                    $(Rv::$variant => stringify!($ckr),)*
                    Rv::Vendor(_) => "CKR_VENDOR_DEFINED",
                    Rv::Unknown(_) => "CKR_UNKNOWN",
                }
            }

            /// The coarse group of this value.
            pub const fn category(self) -> Category {
                match self {
                    $(Rv::$variant => Category::$category,)*
                    Rv::Vendor(_) => Category::Vendor,
                    Rv::Unknown(_) => Category::Unknown,
                }
            }
        }
    };
}

rv_table! {
    Ok = CKR_OK => Success,
    Cancel = CKR_CANCEL => Cancelled,
    HostMemory = CKR_HOST_MEMORY => Resource,
    SlotIdInvalid = CKR_SLOT_ID_INVALID => TokenDevice,
    GeneralError = CKR_GENERAL_ERROR => Fatal,
    FunctionFailed = CKR_FUNCTION_FAILED => Fatal,
    ArgumentsBad = CKR_ARGUMENTS_BAD => MechanismArgument,
    NoEvent = CKR_NO_EVENT => TokenDevice,
    NeedToCreateThreads = CKR_NEED_TO_CREATE_THREADS => Library,
    CantLock = CKR_CANT_LOCK => Library,
    AttributeReadOnly = CKR_ATTRIBUTE_READ_ONLY => Template,
    AttributeSensitive = CKR_ATTRIBUTE_SENSITIVE => Template,
    AttributeTypeInvalid = CKR_ATTRIBUTE_TYPE_INVALID => Template,
    AttributeValueInvalid = CKR_ATTRIBUTE_VALUE_INVALID => Template,
    ActionProhibited = CKR_ACTION_PROHIBITED => Template,
    DataInvalid = CKR_DATA_INVALID => MechanismArgument,
    DataLenRange = CKR_DATA_LEN_RANGE => MechanismArgument,
    DeviceError = CKR_DEVICE_ERROR => TokenDevice,
    DeviceMemory = CKR_DEVICE_MEMORY => Resource,
    DeviceRemoved = CKR_DEVICE_REMOVED => TokenDevice,
    EncryptedDataInvalid = CKR_ENCRYPTED_DATA_INVALID => MechanismArgument,
    EncryptedDataLenRange = CKR_ENCRYPTED_DATA_LEN_RANGE => MechanismArgument,
    AeadDecryptFailed = CKR_AEAD_DECRYPT_FAILED => MechanismArgument,
    FunctionCanceled = CKR_FUNCTION_CANCELED => Cancelled,
    FunctionNotParallel = CKR_FUNCTION_NOT_PARALLEL => Library,
    FunctionNotSupported = CKR_FUNCTION_NOT_SUPPORTED => Library,
    KeyHandleInvalid = CKR_KEY_HANDLE_INVALID => Key,
    KeySizeRange = CKR_KEY_SIZE_RANGE => Key,
    KeyTypeInconsistent = CKR_KEY_TYPE_INCONSISTENT => Key,
    KeyNotNeeded = CKR_KEY_NOT_NEEDED => Key,
    KeyChanged = CKR_KEY_CHANGED => Key,
    KeyNeeded = CKR_KEY_NEEDED => Key,
    KeyIndigestible = CKR_KEY_INDIGESTIBLE => Key,
    KeyFunctionNotPermitted = CKR_KEY_FUNCTION_NOT_PERMITTED => Key,
    KeyNotWrappable = CKR_KEY_NOT_WRAPPABLE => Key,
    KeyUnextractable = CKR_KEY_UNEXTRACTABLE => Key,
    MechanismInvalid = CKR_MECHANISM_INVALID => MechanismArgument,
    MechanismParamInvalid = CKR_MECHANISM_PARAM_INVALID => MechanismArgument,
    ObjectHandleInvalid = CKR_OBJECT_HANDLE_INVALID => Template,
    OperationActive = CKR_OPERATION_ACTIVE => OperationState,
    OperationNotInitialized = CKR_OPERATION_NOT_INITIALIZED => OperationState,
    PinIncorrect = CKR_PIN_INCORRECT => Auth,
    PinInvalid = CKR_PIN_INVALID => Auth,
    PinLenRange = CKR_PIN_LEN_RANGE => Auth,
    PinExpired = CKR_PIN_EXPIRED => Auth,
    PinLocked = CKR_PIN_LOCKED => Auth,
    SessionClosed = CKR_SESSION_CLOSED => Session,
    SessionCount = CKR_SESSION_COUNT => Resource,
    SessionHandleInvalid = CKR_SESSION_HANDLE_INVALID => Session,
    SessionParallelNotSupported = CKR_SESSION_PARALLEL_NOT_SUPPORTED => Session,
    SessionReadOnly = CKR_SESSION_READ_ONLY => Session,
    SessionExists = CKR_SESSION_EXISTS => Session,
    SessionReadOnlyExists = CKR_SESSION_READ_ONLY_EXISTS => Session,
    SessionReadWriteSoExists = CKR_SESSION_READ_WRITE_SO_EXISTS => Session,
    SignatureInvalid = CKR_SIGNATURE_INVALID => MechanismArgument,
    SignatureLenRange = CKR_SIGNATURE_LEN_RANGE => MechanismArgument,
    TemplateIncomplete = CKR_TEMPLATE_INCOMPLETE => Template,
    TemplateInconsistent = CKR_TEMPLATE_INCONSISTENT => Template,
    TokenNotPresent = CKR_TOKEN_NOT_PRESENT => TokenDevice,
    TokenNotRecognized = CKR_TOKEN_NOT_RECOGNIZED => TokenDevice,
    TokenWriteProtected = CKR_TOKEN_WRITE_PROTECTED => TokenDevice,
    UnwrappingKeyHandleInvalid = CKR_UNWRAPPING_KEY_HANDLE_INVALID => Key,
    UnwrappingKeySizeRange = CKR_UNWRAPPING_KEY_SIZE_RANGE => Key,
    UnwrappingKeyTypeInconsistent = CKR_UNWRAPPING_KEY_TYPE_INCONSISTENT => Key,
    UserAlreadyLoggedIn = CKR_USER_ALREADY_LOGGED_IN => Auth,
    UserNotLoggedIn = CKR_USER_NOT_LOGGED_IN => Auth,
    UserPinNotInitialized = CKR_USER_PIN_NOT_INITIALIZED => Auth,
    UserTypeInvalid = CKR_USER_TYPE_INVALID => Auth,
    UserAnotherAlreadyLoggedIn = CKR_USER_ANOTHER_ALREADY_LOGGED_IN => Auth,
    UserTooManyTypes = CKR_USER_TOO_MANY_TYPES => Auth,
    WrappedKeyInvalid = CKR_WRAPPED_KEY_INVALID => Key,
    WrappedKeyLenRange = CKR_WRAPPED_KEY_LEN_RANGE => Key,
    WrappingKeyHandleInvalid = CKR_WRAPPING_KEY_HANDLE_INVALID => Key,
    WrappingKeySizeRange = CKR_WRAPPING_KEY_SIZE_RANGE => Key,
    WrappingKeyTypeInconsistent = CKR_WRAPPING_KEY_TYPE_INCONSISTENT => Key,
    RandomSeedNotSupported = CKR_RANDOM_SEED_NOT_SUPPORTED => TokenDevice,
    RandomNoRng = CKR_RANDOM_NO_RNG => TokenDevice,
    DomainParamsInvalid = CKR_DOMAIN_PARAMS_INVALID => MechanismArgument,
    CurveNotSupported = CKR_CURVE_NOT_SUPPORTED => MechanismArgument,
    BufferTooSmall = CKR_BUFFER_TOO_SMALL => Resource,
    SavedStateInvalid = CKR_SAVED_STATE_INVALID => OperationState,
    InformationSensitive = CKR_INFORMATION_SENSITIVE => TokenDevice,
    StateUnsaveable = CKR_STATE_UNSAVEABLE => OperationState,
    CryptokiNotInitialized = CKR_CRYPTOKI_NOT_INITIALIZED => Library,
    CryptokiAlreadyInitialized = CKR_CRYPTOKI_ALREADY_INITIALIZED => Library,
    MutexBad = CKR_MUTEX_BAD => Library,
    MutexNotLocked = CKR_MUTEX_NOT_LOCKED => Library,
    NewPinMode = CKR_NEW_PIN_MODE => Auth,
    NextOtp = CKR_NEXT_OTP => Auth,
    ExceededMaxIterations = CKR_EXCEEDED_MAX_ITERATIONS => MechanismArgument,
    FipsSelfTestFailed = CKR_FIPS_SELF_TEST_FAILED => TokenDevice,
    LibraryLoadFailed = CKR_LIBRARY_LOAD_FAILED => Library,
    PinTooWeak = CKR_PIN_TOO_WEAK => Auth,
    PublicKeyInvalid = CKR_PUBLIC_KEY_INVALID => Key,
    FunctionRejected = CKR_FUNCTION_REJECTED => TokenDevice,
    TokenResourceExceeded = CKR_TOKEN_RESOURCE_EXCEEDED => Resource,
    OperationCancelFailed = CKR_OPERATION_CANCEL_FAILED => Cancelled,
    KeyExhausted = CKR_KEY_EXHAUSTED => Resource,
    Pending = CKR_PENDING => Library,
    SessionAsyncNotSupported = CKR_SESSION_ASYNC_NOT_SUPPORTED => Library,
    SeedRandomRequired = CKR_SEED_RANDOM_REQUIRED => TokenDevice,
    OperationNotValidated = CKR_OPERATION_NOT_VALIDATED => MechanismArgument,
    TokenNotInitialized = CKR_TOKEN_NOT_INITIALIZED => TokenDevice,
    ParameterSetNotSupported = CKR_PARAMETER_SET_NOT_SUPPORTED => MechanismArgument,
}

impl Rv {
    /// Whether this value means the session can no longer be used: the module lost it
    /// (`SESSION_HANDLE_INVALID`, `SESSION_CLOSED`), the token is gone
    /// (`DEVICE_REMOVED`, `TOKEN_NOT_PRESENT`) or the library was finalized
    /// (`CRYPTOKI_NOT_INITIALIZED`).
    pub const fn is_session_fatal(self) -> bool {
        matches!(
            self,
            Rv::SessionHandleInvalid
                | Rv::SessionClosed
                | Rv::DeviceRemoved
                | Rv::TokenNotPresent
                | Rv::CryptokiNotInitialized
        )
    }
}

impl fmt::Display for Rv {
    /// `CKR_PIN_INCORRECT (0x000000A0)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (0x{:08X})", self.name(), self.raw())
    }
}

impl From<CK_RV> for Rv {
    fn from(rv: CK_RV) -> Rv {
        Rv::from_raw(rv)
    }
}

/// The crate's error. Displays in one line, e.g. `C_Login: CKR_PIN_INCORRECT (0x000000A0)`;
/// never contains a PIN or other secret.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A module function returned an error code.
    Module {
        /// The PKCS #11 function, e.g. `"C_Login"`.
        function: &'static str,
        /// What it returned.
        rv: Rv,
    },
    /// The module could not be loaded.
    Load(ffi::LoadError),
    /// The module does not implement the function (its table slot is NULL).
    NotSupported {
        /// The PKCS #11 function.
        function: &'static str,
    },
    /// The module broke the PKCS #11 contract (a length, count or pointer it returned
    /// cannot be right).
    ModuleContract {
        /// The PKCS #11 function.
        function: &'static str,
        /// What was wrong.
        what: String,
    },
    /// The caller's input cannot be passed to the module.
    InvalidInput {
        /// What was wrong.
        what: String,
    },
    /// Nothing matched (a token label, an object template).
    NotFound {
        /// What was looked for.
        what: String,
    },
    /// More than one thing matched where exactly one was expected.
    MoreThanOne {
        /// What was looked for.
        what: String,
    },
    /// This process is a fork child of the process that initialized the module: no call
    /// reaches the module until it is initialized again in the child.
    Forked,
    /// The module was finalized ([`Pkcs11::finalize`](crate::Pkcs11::finalize)); no
    /// call reaches it until it is opened again.
    Finalized,
    /// The session can no longer be used: the module reported it lost
    /// (`CKR_SESSION_HANDLE_INVALID`, `CKR_DEVICE_REMOVED`...), or an abandoned
    /// operation could not be cancelled. No call reaches the module through it.
    SessionPoisoned {
        /// The return value that poisoned it, if a module call did.
        cause: Option<Rv>,
    },
    /// Another operation is active on this session in this thread.
    OperationActive {
        /// The operation that is active.
        active: &'static str,
        /// The operation that was asked for.
        requested: &'static str,
    },
    /// No pooled session became free within the pool's wait limit
    /// ([`SessionPool::get`](crate::SessionPool::get)).
    PoolTimeout {
        /// How long the caller waited.
        waited: std::time::Duration,
        /// The pool's size: every one of these sessions was in use.
        max_sessions: usize,
    },
}

impl Error {
    /// The return value, for errors that come from a module call.
    pub fn rv(&self) -> Option<Rv> {
        match self {
            Error::Module { rv, .. } => Some(*rv),
            Error::Load(ffi::LoadError::EntryPointFailed { rv, .. }) => Some(Rv::from_raw(*rv)),
            _ => None,
        }
    }

    /// The PKCS #11 function that failed, where one did.
    pub fn function(&self) -> Option<&'static str> {
        match self {
            Error::Module { function, .. }
            | Error::NotSupported { function }
            | Error::ModuleContract { function, .. } => Some(function),
            _ => None,
        }
    }

    /// Turns `rv` into `Ok(())` or an [`Error::Module`] naming `function`.
    ///
    /// # Errors
    /// Any value but `CKR_OK`.
    pub fn check(function: &'static str, rv: CK_RV) -> Result<()> {
        if rv == ffi::CKR_OK {
            Ok(())
        } else {
            Err(Error::Module {
                function,
                rv: Rv::from_raw(rv),
            })
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Module { function, rv } => write!(f, "{function}: {rv}"),
            Error::Load(error) => error.fmt(f),
            Error::NotSupported { function } => {
                write!(f, "{function}: not supported by the module")
            }
            Error::ModuleContract { function, what } => {
                write!(
                    f,
                    "{function}: the module broke the PKCS #11 contract: {what}"
                )
            }
            Error::InvalidInput { what } => write!(f, "invalid input: {what}"),
            Error::NotFound { what } => write!(f, "not found: {what}"),
            Error::MoreThanOne { what } => write!(f, "more than one found: {what}"),
            Error::Forked => f.write_str(
                "the module was initialized in the parent process; initialize it again in \
                 this forked child",
            ),
            Error::Finalized => f.write_str("the module was finalized; open it again to use it"),
            Error::SessionPoisoned { cause: Some(rv) } => {
                write!(f, "the session is unusable since the module returned {rv}")
            }
            Error::SessionPoisoned { cause: None } => f.write_str(
                "the session is unusable: an abandoned operation could not be cancelled",
            ),
            Error::OperationActive { active, requested } => write!(
                f,
                "cannot start {requested}: {active} is active on this session in this thread"
            ),
            Error::PoolTimeout {
                waited,
                max_sessions,
            } => write!(
                f,
                "no pooled session became free within {waited:?} (all {max_sessions} in use)"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Load(error) => Some(error),
            _ => None,
        }
    }
}

impl From<ffi::LoadError> for Error {
    fn from(error: ffi::LoadError) -> Error {
        Error::Load(error)
    }
}

/// The crate's result type.
pub type Result<T, E = Error> = core::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_value_has_its_own_kind_and_name() {
        for &(raw, name) in ffi::CKR_NAMES {
            let rv = Rv::from_raw(raw);
            if raw == ffi::CKR_VENDOR_DEFINED {
                assert_eq!(rv, Rv::Vendor(raw));
                continue;
            }
            assert!(
                !matches!(rv, Rv::Unknown(_) | Rv::Vendor(_)),
                "{name} has no Rv kind"
            );
            assert_eq!(rv.raw(), raw, "{name} round-trips");
            assert_eq!(Some(rv.name()), ffi::ckr_name(raw), "{name}");
            assert_ne!(rv.category(), Category::Unknown, "{name}");
        }
    }

    #[test]
    fn vendor_and_unknown_values_are_kept() {
        let vendor = Rv::from_raw(ffi::CKR_VENDOR_DEFINED + 0x42);
        assert_eq!(vendor, Rv::Vendor(0x8000_0042));
        assert_eq!(vendor.raw(), 0x8000_0042);
        assert_eq!(vendor.category(), Category::Vendor);
        assert_eq!(vendor.to_string(), "CKR_VENDOR_DEFINED (0x80000042)");
        let unknown = Rv::from_raw(0x0000_0004);
        assert_eq!(unknown, Rv::Unknown(4));
        assert_eq!(unknown.raw(), 4);
        assert_eq!(unknown.category(), Category::Unknown);
    }

    #[test]
    fn display_names_function_code_and_hex() {
        let error = Error::check("C_Login", ffi::CKR_PIN_INCORRECT).unwrap_err();
        assert_eq!(error.to_string(), "C_Login: CKR_PIN_INCORRECT (0x000000A0)");
        assert_eq!(error.rv(), Some(Rv::PinIncorrect));
        assert_eq!(error.function(), Some("C_Login"));
        assert_eq!(Rv::PinIncorrect.category(), Category::Auth);
        assert!(Error::check("C_Login", ffi::CKR_OK).is_ok());
    }

    #[test]
    fn session_fatal_values() {
        let fatal: Vec<&str> = ffi::CKR_NAMES
            .iter()
            .filter(|(raw, _)| Rv::from_raw(*raw).is_session_fatal())
            .map(|(_, name)| *name)
            .collect();
        assert_eq!(
            fatal,
            [
                "CKR_DEVICE_REMOVED",
                "CKR_SESSION_CLOSED",
                "CKR_SESSION_HANDLE_INVALID",
                "CKR_TOKEN_NOT_PRESENT",
                "CKR_CRYPTOKI_NOT_INITIALIZED"
            ]
        );
    }
}
