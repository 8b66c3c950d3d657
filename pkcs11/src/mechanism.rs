//! Mechanism types (`CKM_*`).

use core::fmt;

/// A mechanism type (`CKM_*`): standard, vendor-defined or unknown, kept as it is.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MechanismType(pub ffi::CK_MECHANISM_TYPE);

impl MechanismType {
    /// The raw value.
    pub const fn raw(self) -> ffi::CK_MECHANISM_TYPE {
        self.0
    }

    /// The standard name (`"CKM_AES_GCM"`), if the value has one.
    pub fn name(self) -> Option<&'static str> {
        ffi::ckm_name(self.0)
    }

    /// Whether the value is in the vendor-defined range.
    pub const fn is_vendor_defined(self) -> bool {
        self.0 >= ffi::CKM_VENDOR_DEFINED
    }
}

impl From<ffi::CK_MECHANISM_TYPE> for MechanismType {
    fn from(raw: ffi::CK_MECHANISM_TYPE) -> MechanismType {
        MechanismType(raw)
    }
}

impl fmt::Debug for MechanismType {
    /// `CKM_AES_GCM`, or `CKM(0x80000001)` for a value without a standard name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "CKM(0x{:08X})", self.0),
        }
    }
}

impl fmt::Display for MechanismType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A mechanism with its parameters, ready to pass to an `*Init` or key-generation call.
///
/// Parameters live inside the value (or borrow the caller's buffers for `'a`), so a
/// `CK_MECHANISM` built from it stays valid as long as the `Mechanism` does — the whole
/// operation for multi-step operations (RELIABILITY rule 28).
#[derive(Debug)]
#[non_exhaustive]
pub enum Mechanism<'a> {
    /// Any mechanism, standard or vendor, with raw parameter bytes (empty for none).
    Raw {
        /// The mechanism type.
        mechanism: MechanismType,
        /// The parameter bytes, passed as they are.
        parameter: &'a [u8],
    },
}

impl Mechanism<'_> {
    /// A mechanism without parameters.
    pub const fn plain(mechanism: ffi::CK_MECHANISM_TYPE) -> Mechanism<'static> {
        Mechanism::Raw {
            mechanism: MechanismType(mechanism),
            parameter: &[],
        }
    }

    /// The mechanism type.
    pub fn mechanism_type(&self) -> MechanismType {
        match self {
            Mechanism::Raw { mechanism, .. } => *mechanism,
        }
    }

    /// The `CK_MECHANISM` for this value; its parameter pointer points into `self`
    /// (or the buffers `self` borrows), valid while `self` is neither moved nor dropped.
    #[allow(dead_code)] // used by the operation modules as they land
    pub(crate) fn to_ck(&self) -> ffi::CK_MECHANISM {
        match self {
            Mechanism::Raw {
                mechanism,
                parameter,
            } => ffi::CK_MECHANISM {
                mechanism: mechanism.raw(),
                pParameter: if parameter.is_empty() {
                    std::ptr::null_mut()
                } else {
                    parameter.as_ptr().cast_mut().cast()
                },
                ulParameterLen: parameter.len() as ffi::CK_ULONG,
            },
        }
    }
}
