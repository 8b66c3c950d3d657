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
