//! Small value types shared by the info structs.

use core::fmt;

/// A PKCS #11 version (`CK_VERSION`): interface, library, hardware or firmware.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version {
    /// The major version.
    pub major: u8,
    /// The minor version.
    pub minor: u8,
}

impl From<ffi::CK_VERSION> for Version {
    fn from(version: ffi::CK_VERSION) -> Version {
        Version {
            major: version.major,
            minor: version.minor,
        }
    }
}

impl fmt::Display for Version {
    /// `3.2`, `2.40`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}
