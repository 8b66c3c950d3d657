//! Tokens: their information, finding one by label or serial number, initializing one,
//! and setting its PINs.

use core::fmt;

use crate::context::Pkcs11;
use crate::error::{Error, Result, Rv};
use crate::info::{flags_type, PaddedText, Version};
use crate::raw;
use crate::secret::Pin;
use crate::session::Session;
use crate::slot::Slot;

/// A count or size from a token's information: a value, "effectively infinite"
/// (`CK_EFFECTIVELY_INFINITE`, for the maximum session counts) or "unavailable"
/// (`CK_UNAVAILABLE_INFORMATION`) — never a sentinel mistaken for a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Count {
    /// A number (of sessions, bytes, characters).
    Value(u64),
    /// No practical limit (`CK_EFFECTIVELY_INFINITE`, only for maximum session counts).
    EffectivelyInfinite,
    /// The token does not say (`CK_UNAVAILABLE_INFORMATION`).
    Unavailable,
}

impl Count {
    /// A maximum session count: 0 is `CK_EFFECTIVELY_INFINITE`.
    pub const fn from_limit(raw: ffi::CK_ULONG) -> Count {
        match raw {
            ffi::CK_EFFECTIVELY_INFINITE => Count::EffectivelyInfinite,
            _ => Count::from_amount(raw),
        }
    }

    /// Any other count or size: 0 is zero.
    #[allow(clippy::unnecessary_cast)] // CK_ULONG is 32 bits on Windows
    pub const fn from_amount(raw: ffi::CK_ULONG) -> Count {
        match raw {
            ffi::CK_UNAVAILABLE_INFORMATION => Count::Unavailable,
            // `as` is lossless: CK_ULONG is at most 64 bits.
            value => Count::Value(value as u64),
        }
    }

    /// The number, if there is one.
    pub const fn value(self) -> Option<u64> {
        match self {
            Count::Value(value) => Some(value),
            Count::EffectivelyInfinite | Count::Unavailable => None,
        }
    }
}

impl fmt::Display for Count {
    /// `5`, `effectively infinite`, `unavailable`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Count::Value(value) => write!(f, "{value}"),
            Count::EffectivelyInfinite => f.write_str("effectively infinite"),
            Count::Unavailable => f.write_str("unavailable"),
        }
    }
}

/// A token's clock reading (`utcTime`, `YYYYMMDDhhmmss00`), in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct UtcTime {
    /// The year, e.g. 2026.
    pub year: u16,
    /// The month, 1 to 12.
    pub month: u8,
    /// The day of the month, 1 to 31.
    pub day: u8,
    /// The hour, 0 to 23.
    pub hour: u8,
    /// The minute, 0 to 59.
    pub minute: u8,
    /// The second, 0 to 60 (a leap second).
    pub second: u8,
}

impl UtcTime {
    /// Parses the 16 characters of `utcTime`: 14 digits `YYYYMMDDhhmmss` (the last two
    /// characters are reserved and ignored). `None` if they are not digits or not a
    /// plausible date and time (a token without a clock leaves the field blank).
    pub fn parse(raw: &[u8; 16]) -> Option<UtcTime> {
        let mut digits = [0u16; 14];
        for (digit, &byte) in digits.iter_mut().zip(raw.iter()) {
            if !byte.is_ascii_digit() {
                return None;
            }
            *digit = u16::from(byte - b'0');
        }
        let number =
            |range: core::ops::Range<usize>| digits[range].iter().fold(0u16, |n, &d| n * 10 + d);
        let time = UtcTime {
            year: number(0..4),
            month: number(4..6) as u8,
            day: number(6..8) as u8,
            hour: number(8..10) as u8,
            minute: number(10..12) as u8,
            second: number(12..14) as u8,
        };
        let plausible = (1..=12).contains(&time.month)
            && (1..=31).contains(&time.day)
            && time.hour < 24
            && time.minute < 60
            && time.second <= 60;
        plausible.then_some(time)
    }
}

impl fmt::Display for UtcTime {
    /// RFC 3339: `2026-01-31T12:34:56Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        )
    }
}

flags_type! {
    /// The flags of a token (`CK_TOKEN_INFO.flags`).
    TokenFlags {
        rng = CKF_RNG,
        write_protected = CKF_WRITE_PROTECTED,
        login_required = CKF_LOGIN_REQUIRED,
        user_pin_initialized = CKF_USER_PIN_INITIALIZED,
        restore_key_not_needed = CKF_RESTORE_KEY_NOT_NEEDED,
        clock_on_token = CKF_CLOCK_ON_TOKEN,
        protected_authentication_path = CKF_PROTECTED_AUTHENTICATION_PATH,
        dual_crypto_operations = CKF_DUAL_CRYPTO_OPERATIONS,
        token_initialized = CKF_TOKEN_INITIALIZED,
        secondary_authentication = CKF_SECONDARY_AUTHENTICATION,
        user_pin_count_low = CKF_USER_PIN_COUNT_LOW,
        user_pin_final_try = CKF_USER_PIN_FINAL_TRY,
        user_pin_locked = CKF_USER_PIN_LOCKED,
        user_pin_to_be_changed = CKF_USER_PIN_TO_BE_CHANGED,
        so_pin_count_low = CKF_SO_PIN_COUNT_LOW,
        so_pin_final_try = CKF_SO_PIN_FINAL_TRY,
        so_pin_locked = CKF_SO_PIN_LOCKED,
        so_pin_to_be_changed = CKF_SO_PIN_TO_BE_CHANGED,
        error_state = CKF_ERROR_STATE,
        seed_random_required = CKF_SEED_RANDOM_REQUIRED,
        async_session_supported = CKF_ASYNC_SESSION_SUPPORTED,
    }
}

/// Information about a token (`CK_TOKEN_INFO`), from [`Slot::token_info`].
#[derive(Clone)]
pub struct TokenInfo {
    raw: ffi::CK_TOKEN_INFO,
    label: PaddedText<32>,
    manufacturer: PaddedText<32>,
    model: PaddedText<16>,
    serial_number: PaddedText<16>,
}

impl TokenInfo {
    /// Decodes a raw `CK_TOKEN_INFO`.
    pub fn from_raw(raw: ffi::CK_TOKEN_INFO) -> TokenInfo {
        TokenInfo {
            label: PaddedText::from_raw(raw.label),
            manufacturer: PaddedText::from_raw(raw.manufacturerID),
            model: PaddedText::from_raw(raw.model),
            serial_number: PaddedText::from_raw(raw.serialNumber),
            raw,
        }
    }

    /// The token's label (`label`).
    pub fn label(&self) -> &PaddedText<32> {
        &self.label
    }

    /// The token's manufacturer (`manufacturerID`).
    pub fn manufacturer(&self) -> &PaddedText<32> {
        &self.manufacturer
    }

    /// The token's model (`model`).
    pub fn model(&self) -> &PaddedText<16> {
        &self.model
    }

    /// The token's serial number (`serialNumber`).
    pub fn serial_number(&self) -> &PaddedText<16> {
        &self.serial_number
    }

    /// The token's flags: initialized, login required, PIN states...
    pub fn flags(&self) -> TokenFlags {
        TokenFlags::from_raw(self.raw.flags)
    }

    /// How many sessions may be open at once (`ulMaxSessionCount`).
    pub fn max_session_count(&self) -> Count {
        Count::from_limit(self.raw.ulMaxSessionCount)
    }

    /// How many sessions this application has open (`ulSessionCount`).
    pub fn session_count(&self) -> Count {
        Count::from_amount(self.raw.ulSessionCount)
    }

    /// How many read-write sessions may be open at once (`ulMaxRwSessionCount`).
    pub fn max_rw_session_count(&self) -> Count {
        Count::from_limit(self.raw.ulMaxRwSessionCount)
    }

    /// How many read-write sessions this application has open (`ulRwSessionCount`).
    pub fn rw_session_count(&self) -> Count {
        Count::from_amount(self.raw.ulRwSessionCount)
    }

    /// The longest PIN accepted, in bytes (`ulMaxPinLen`).
    pub fn max_pin_len(&self) -> Count {
        Count::from_amount(self.raw.ulMaxPinLen)
    }

    /// The shortest PIN accepted, in bytes (`ulMinPinLen`).
    pub fn min_pin_len(&self) -> Count {
        Count::from_amount(self.raw.ulMinPinLen)
    }

    /// Memory for public objects, in bytes (`ulTotalPublicMemory`).
    pub fn total_public_memory(&self) -> Count {
        Count::from_amount(self.raw.ulTotalPublicMemory)
    }

    /// Free memory for public objects, in bytes (`ulFreePublicMemory`).
    pub fn free_public_memory(&self) -> Count {
        Count::from_amount(self.raw.ulFreePublicMemory)
    }

    /// Memory for private objects, in bytes (`ulTotalPrivateMemory`).
    pub fn total_private_memory(&self) -> Count {
        Count::from_amount(self.raw.ulTotalPrivateMemory)
    }

    /// Free memory for private objects, in bytes (`ulFreePrivateMemory`).
    pub fn free_private_memory(&self) -> Count {
        Count::from_amount(self.raw.ulFreePrivateMemory)
    }

    /// The token's hardware version.
    pub fn hardware_version(&self) -> Version {
        self.raw.hardwareVersion.into()
    }

    /// The token's firmware version.
    pub fn firmware_version(&self) -> Version {
        self.raw.firmwareVersion.into()
    }

    /// The token's clock (`utcTime`), if it has one and the field parses (see
    /// [`UtcTime::parse`]; the raw field is [`TokenInfo::utc_time_raw`]).
    pub fn utc_time(&self) -> Option<UtcTime> {
        UtcTime::parse(&self.raw.utcTime)
    }

    /// The raw `utcTime` field.
    pub fn utc_time_raw(&self) -> &[u8; 16] {
        &self.raw.utcTime
    }

    /// The raw struct.
    pub fn raw(&self) -> &ffi::CK_TOKEN_INFO {
        &self.raw
    }
}

impl fmt::Debug for TokenInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenInfo")
            .field("label", &self.label)
            .field("manufacturer", &self.manufacturer)
            .field("model", &self.model)
            .field("serial_number", &self.serial_number)
            .field("flags", &self.flags())
            .field("max_session_count", &self.max_session_count())
            .field("session_count", &self.session_count())
            .field("max_rw_session_count", &self.max_rw_session_count())
            .field("rw_session_count", &self.rw_session_count())
            .field("max_pin_len", &self.max_pin_len())
            .field("min_pin_len", &self.min_pin_len())
            .field("total_public_memory", &self.total_public_memory())
            .field("free_public_memory", &self.free_public_memory())
            .field("total_private_memory", &self.total_private_memory())
            .field("free_private_memory", &self.free_private_memory())
            .field("hardware_version", &self.hardware_version())
            .field("firmware_version", &self.firmware_version())
            .field("utc_time", &self.utc_time())
            .finish()
    }
}

/// The size of a token label (`CK_TOKEN_INFO.label`, `C_InitToken`'s `pLabel`).
const LABEL_LEN: usize = 32;

/// `label` padded with blanks to 32 bytes.
fn padded_label(label: &str) -> Result<[u8; LABEL_LEN]> {
    let bytes = label.as_bytes();
    if bytes.len() > LABEL_LEN {
        return Err(Error::InvalidInput {
            what: format!(
                "token label {label:?} is {} bytes long; at most {LABEL_LEN} fit",
                bytes.len()
            ),
        });
    }
    let mut padded = [b' '; LABEL_LEN];
    padded[..bytes.len()].copy_from_slice(bytes);
    Ok(padded)
}

impl Slot {
    /// Information about the token in this slot: label, manufacturer, model, serial
    /// number, flags, session counts, PIN lengths, memory, versions and clock.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GetTokenInfo`, e.g. `CKR_TOKEN_NOT_PRESENT`.
    #[doc(alias = "C_GetTokenInfo")]
    pub fn token_info(&self) -> Result<TokenInfo> {
        let mut info = ffi::CK_TOKEN_INFO::default();
        raw::slot::get_token_info(&self.pkcs11().inner, self.id(), &mut info)?.ok()?;
        Ok(TokenInfo::from_raw(info))
    }

    /// Initializes (or re-initializes, destroying its objects) the token in this slot,
    /// with the security officer's PIN and a label of at most 32 bytes (padded with
    /// blanks).
    ///
    /// The user PIN is not set: log in as SO and call [`Session::init_pin`].
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `label` is longer than 32 bytes (nothing is called);
    /// [`Error::Module`] naming `C_InitToken`, e.g. `CKR_PIN_INCORRECT` for a token
    /// already initialized with another SO PIN, `CKR_SESSION_EXISTS` while sessions are
    /// open on the token.
    #[doc(alias = "C_InitToken")]
    pub fn init_token(&self, so_pin: &Pin, label: &str) -> Result<()> {
        let label = padded_label(label)?;
        raw::slot::init_token(
            &self.pkcs11().inner,
            self.id(),
            Some(so_pin.bytes()),
            &label,
        )?
        .ok()
    }
}

/// Which field of the token information a lookup compares.
#[derive(Clone, Copy)]
enum TokenField {
    Label,
    Serial,
}

impl Pkcs11 {
    /// The slot holding the token labelled `label`.
    ///
    /// Labels are compared as bytes without their blank padding, so `"app"` and
    /// `"app  "` are the same label. Slots whose token vanishes or is not recognized
    /// while they are searched are skipped.
    ///
    /// # Errors
    /// [`Error::NotFound`] or [`Error::MoreThanOne`] naming the label;
    /// [`Error::Module`] naming `C_GetSlotList` or `C_GetTokenInfo`.
    #[doc(alias = "C_GetTokenInfo")]
    pub fn token_by_label(&self, label: &str) -> Result<Slot> {
        self.token_by(TokenField::Label, label)
    }

    /// The slot holding the token with serial number `serial`.
    ///
    /// Compared like labels (see [`Pkcs11::token_by_label`]).
    ///
    /// # Errors
    /// [`Error::NotFound`] or [`Error::MoreThanOne`] naming the serial number;
    /// [`Error::Module`] naming `C_GetSlotList` or `C_GetTokenInfo`.
    #[doc(alias = "C_GetTokenInfo")]
    pub fn token_by_serial(&self, serial: &str) -> Result<Slot> {
        self.token_by(TokenField::Serial, serial)
    }

    fn token_by(&self, field: TokenField, wanted: &str) -> Result<Slot> {
        let wanted_bytes = wanted.trim_end_matches(' ').as_bytes();
        let mut found = Vec::new();
        for slot in self.slots_with_token()? {
            let info = match slot.token_info() {
                Ok(info) => info,
                // Removed or unusable since the slot list was read: not a match.
                Err(Error::Module {
                    rv: Rv::TokenNotPresent | Rv::TokenNotRecognized | Rv::DeviceRemoved,
                    ..
                }) => continue,
                Err(error) => return Err(error),
            };
            let value = match field {
                TokenField::Label => info.label().trimmed_bytes(),
                TokenField::Serial => info.serial_number().trimmed_bytes(),
            };
            if value == wanted_bytes {
                found.push(slot);
            }
        }
        let what = match field {
            TokenField::Label => format!("a token labelled {wanted:?}"),
            TokenField::Serial => format!("a token with serial number {wanted:?}"),
        };
        match found.len() {
            0 => Err(Error::NotFound { what }),
            1 => Ok(found.remove(0)),
            _ => {
                let ids: Vec<_> = found.iter().map(Slot::id).collect();
                Err(Error::MoreThanOne {
                    what: format!("{what} (in slots {ids:?})"),
                })
            }
        }
    }
}

impl Session {
    /// Sets the normal user's PIN; the security officer must be logged in on this
    /// (read-write) session.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_InitPIN`, e.g. `CKR_USER_NOT_LOGGED_IN`,
    /// `CKR_PIN_LEN_RANGE`; the PIN never appears in it.
    #[doc(alias = "C_InitPIN")]
    pub fn init_pin(&self, pin: &Pin) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::session::init_pin(
            self.inner(),
            self.handle(),
            Some(pin.bytes()),
        ))
    }

    /// Changes the PIN of the user logged in on this (read-write) session — or of the
    /// normal user when nobody is — from `old` to `new`.
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_SetPIN`, e.g. `CKR_PIN_INCORRECT` for a wrong `old`,
    /// `CKR_SESSION_READ_ONLY`; no PIN ever appears in it.
    #[doc(alias = "C_SetPIN")]
    pub fn set_pin(&self, old: &Pin, new: &Pin) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::session::set_pin(
            self.inner(),
            self.handle(),
            Some(old.bytes()),
            Some(new.bytes()),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_never_sentinels() {
        assert_eq!(Count::from_limit(0), Count::EffectivelyInfinite);
        assert_eq!(Count::from_amount(0), Count::Value(0));
        assert_eq!(
            Count::from_limit(ffi::CK_UNAVAILABLE_INFORMATION),
            Count::Unavailable
        );
        assert_eq!(
            Count::from_amount(ffi::CK_UNAVAILABLE_INFORMATION),
            Count::Unavailable
        );
        assert_eq!(Count::from_limit(7), Count::Value(7));
        assert_eq!(Count::Value(7).value(), Some(7));
        assert_eq!(Count::Unavailable.value(), None);
        assert_eq!(
            Count::EffectivelyInfinite.to_string(),
            "effectively infinite"
        );
    }

    #[test]
    fn utc_time_parses_lossily() {
        let time = UtcTime::parse(b"2026013112345600").unwrap();
        assert_eq!(
            time,
            UtcTime {
                year: 2026,
                month: 1,
                day: 31,
                hour: 12,
                minute: 34,
                second: 56
            }
        );
        assert_eq!(time.to_string(), "2026-01-31T12:34:56Z");
        assert_eq!(UtcTime::parse(b"20260131123456  "), Some(time));
        assert_eq!(UtcTime::parse(&[b' '; 16]), None);
        assert_eq!(UtcTime::parse(&[0; 16]), None);
        assert_eq!(UtcTime::parse(b"2026133112345600"), None, "month 13");
        assert_eq!(UtcTime::parse(b"2026-01-31T12:34"), None);
    }

    #[test]
    fn labels_are_padded_or_refused() {
        let padded = padded_label("app").unwrap();
        assert_eq!(&padded[..3], b"app");
        assert!(padded[3..].iter().all(|&b| b == b' '));
        assert_eq!(padded_label(&"x".repeat(32)).unwrap(), [b'x'; 32]);
        let error = padded_label(&"é".repeat(17)).unwrap_err();
        assert!(
            matches!(&error, Error::InvalidInput { what } if what.contains("34 bytes")),
            "{error}"
        );
    }
}
