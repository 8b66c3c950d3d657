//! Secrets: PINs and secret output, wiped when dropped and never shown.

use core::fmt;

use zeroize::Zeroizing;

/// A PIN: wiped from memory when dropped, shown as `Pin(<redacted>)` by `Debug`, and
/// never included in an error or log.
///
/// ```
/// use pkcs11::Pin;
///
/// let pin = Pin::from("1234");
/// assert_eq!(format!("{pin:?}"), "Pin(<redacted>)");
/// ```
#[derive(Clone)]
pub struct Pin(Zeroizing<Vec<u8>>);

impl Pin {
    /// A PIN from raw bytes (PKCS #11 PINs are UTF-8 by convention, bytes by contract).
    pub fn from_bytes(bytes: impl Into<Vec<u8>>) -> Pin {
        Pin(Zeroizing::new(bytes.into()))
    }

    /// The PIN's bytes, for passing to the module.
    pub(crate) fn bytes(&self) -> &[u8] {
        &self.0
    }
}

impl From<&str> for Pin {
    fn from(pin: &str) -> Pin {
        Pin::from_bytes(pin.as_bytes())
    }
}

impl From<String> for Pin {
    /// Takes the string's buffer (no copy is left behind).
    fn from(pin: String) -> Pin {
        Pin::from_bytes(pin.into_bytes())
    }
}

impl fmt::Debug for Pin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pin(<redacted>)")
    }
}

/// Secret bytes returned by the module (decrypted data, unwrapped or derived key values,
/// sensitive attribute values): wiped when dropped, redacted in `Debug`.
///
/// Dereferences to `[u8]`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecretBytes(Zeroizing<Vec<u8>>);

impl SecretBytes {
    /// Wraps a buffer that already holds secret bytes.
    pub fn new(bytes: Vec<u8>) -> SecretBytes {
        SecretBytes(Zeroizing::new(bytes))
    }

    /// The bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// The buffer, for the output helper (which never reallocates it in place).
    pub(crate) fn as_mut_vec(&mut self) -> &mut Vec<u8> {
        &mut self.0
    }
}

impl core::ops::Deref for SecretBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl AsRef<[u8]> for SecretBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes(<{} bytes redacted>)", self.0.len())
    }
}
