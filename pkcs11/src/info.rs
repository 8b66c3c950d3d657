//! Information about the library, slots, mechanisms and sessions, and the small value
//! types the info structs share.
//!
//! Text fields arrive blank-padded in fixed-size arrays: [`PaddedText`] keeps the raw
//! bytes and offers them trimmed and decoded lossily. Flags come as typed accessors with
//! the raw value kept ([`SlotFlags`], [`MechanismFlags`], [`SessionFlags`]).

use core::fmt;

use crate::context::Pkcs11;
use crate::error::Result;
use crate::mechanism::MechanismType;
use crate::raw;
use crate::session::Session;
use crate::slot::{read_list, Slot};

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

/// A blank-padded text field of an info struct (a label, a manufacturer ID...): the raw
/// `N` bytes as the module wrote them, and the text trimmed and decoded.
///
/// The text is cut at the first NUL (some modules pad with NULs), stripped of trailing
/// blanks, and decoded as UTF-8 with invalid sequences replaced by `U+FFFD`.
///
/// ```
/// use pkcs11::PaddedText;
///
/// let mut raw = [b' '; 32];
/// raw[..3].copy_from_slice(b"app");
/// let text = PaddedText::from_raw(raw);
/// assert_eq!(text, "app");
/// assert_eq!(text.trimmed_bytes(), b"app");
/// assert_eq!(text.as_bytes().len(), 32);
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PaddedText<const N: usize> {
    raw: [u8; N],
    text: String,
}

impl<const N: usize> PaddedText<N> {
    /// Decodes a padded field.
    pub fn from_raw(raw: [u8; N]) -> PaddedText<N> {
        let text = String::from_utf8_lossy(trim_padding(&raw)).into_owned();
        PaddedText { raw, text }
    }

    /// The text: trimmed and decoded lossily.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The raw bytes, padding included, exactly as the module wrote them.
    pub fn as_bytes(&self) -> &[u8; N] {
        &self.raw
    }

    /// The raw bytes without the padding (cut at the first NUL, trailing blanks
    /// removed), before decoding.
    pub fn trimmed_bytes(&self) -> &[u8] {
        trim_padding(&self.raw)
    }
}

/// Cuts `raw` at its first NUL and strips trailing blanks.
fn trim_padding(raw: &[u8]) -> &[u8] {
    let end = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    let mut text = &raw[..end];
    while let [rest @ .., b' '] = text {
        text = rest;
    }
    text
}

impl<const N: usize> fmt::Debug for PaddedText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl<const N: usize> fmt::Display for PaddedText<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl<const N: usize> AsRef<str> for PaddedText<N> {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl<const N: usize> PartialEq<str> for PaddedText<N> {
    fn eq(&self, other: &str) -> bool {
        self.text == other
    }
}

impl<const N: usize> PartialEq<&str> for PaddedText<N> {
    fn eq(&self, other: &&str) -> bool {
        self.text == *other
    }
}

/// `CK_ULONG` to `u64` (lossless on every target).
#[allow(clippy::useless_conversion)] // CK_ULONG is 32 bits on Windows
pub(crate) fn ulong(value: ffi::CK_ULONG) -> u64 {
    u64::from(value)
}

/// Defines a flags type over `CK_FLAGS`: typed accessors, the raw value, and a `Debug`
/// that lists the flags set.
macro_rules! flags_type {
    (
        $(#[$meta:meta])*
        $name:ident {
            $($method:ident = $ckf:ident,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
        pub struct $name(ffi::CK_FLAGS);

        impl $name {
            /// The flags of a raw `CK_FLAGS` value (unknown bits are kept).
            pub const fn from_raw(raw: ffi::CK_FLAGS) -> $name {
                $name(raw)
            }

            /// The raw value, unknown bits included.
            pub const fn raw(self) -> ffi::CK_FLAGS {
                self.0
            }

            /// Whether every bit of `flag` (a raw `CKF_*` value) is set.
            pub const fn contains(self, flag: ffi::CK_FLAGS) -> bool {
                self.0 & flag == flag
            }

            $(
                #[doc = concat!("`", stringify!($ckf), "`.")]
                pub const fn $method(self) -> bool {
                    self.0 & ffi::$ckf != 0
                }
            )*
        }

        impl ::core::fmt::Debug for $name {
            /// The names of the flags set, and any unknown bits in hex.
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                let mut set = f.debug_set();
                let mut known: ffi::CK_FLAGS = 0;
                $(
                    known |= ffi::$ckf;
                    if self.0 & ffi::$ckf != 0 {
                        set.entry(&format_args!("{}", stringify!($ckf)));
                    }
                )*
                let unknown = self.0 & !known;
                if unknown != 0 {
                    set.entry(&format_args!("{unknown:#x}"));
                }
                set.finish()
            }
        }
    };
}
pub(crate) use flags_type;

/// Information about the library (`CK_INFO`), from [`Pkcs11::info`].
#[derive(Clone)]
pub struct LibraryInfo {
    raw: ffi::CK_INFO,
    manufacturer: PaddedText<32>,
    description: PaddedText<32>,
}

impl LibraryInfo {
    /// Decodes a raw `CK_INFO`.
    pub fn from_raw(raw: ffi::CK_INFO) -> LibraryInfo {
        LibraryInfo {
            manufacturer: PaddedText::from_raw(raw.manufacturerID),
            description: PaddedText::from_raw(raw.libraryDescription),
            raw,
        }
    }

    /// The PKCS #11 version the library implements (`cryptokiVersion`).
    pub fn cryptoki_version(&self) -> Version {
        self.raw.cryptokiVersion.into()
    }

    /// The library's manufacturer (`manufacturerID`).
    pub fn manufacturer(&self) -> &PaddedText<32> {
        &self.manufacturer
    }

    /// The flags (`flags`; PKCS #11 defines none, so this is normally 0).
    pub fn flags(&self) -> ffi::CK_FLAGS {
        self.raw.flags
    }

    /// The library's description (`libraryDescription`).
    pub fn description(&self) -> &PaddedText<32> {
        &self.description
    }

    /// The library's own version (`libraryVersion`).
    pub fn library_version(&self) -> Version {
        self.raw.libraryVersion.into()
    }

    /// The raw struct.
    pub fn raw(&self) -> &ffi::CK_INFO {
        &self.raw
    }
}

impl fmt::Debug for LibraryInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LibraryInfo")
            .field("cryptoki_version", &self.cryptoki_version())
            .field("manufacturer", &self.manufacturer)
            .field("flags", &self.flags())
            .field("description", &self.description)
            .field("library_version", &self.library_version())
            .finish()
    }
}

impl Pkcs11 {
    /// Information about the library: PKCS #11 version, manufacturer, description and
    /// library version.
    ///
    /// # Errors
    /// [`Error::Module`](crate::Error::Module) naming `C_GetInfo`.
    #[doc(alias = "C_GetInfo")]
    pub fn info(&self) -> Result<LibraryInfo> {
        let mut info = ffi::CK_INFO::default();
        raw::slot::get_info(&self.inner, &mut info)?.ok()?;
        Ok(LibraryInfo::from_raw(info))
    }
}

flags_type! {
    /// The flags of a slot (`CK_SLOT_INFO.flags`).
    SlotFlags {
        token_present = CKF_TOKEN_PRESENT,
        removable_device = CKF_REMOVABLE_DEVICE,
        hardware_slot = CKF_HW_SLOT,
    }
}

/// Information about a slot (`CK_SLOT_INFO`), from [`Slot::info`].
#[derive(Clone)]
pub struct SlotInfo {
    raw: ffi::CK_SLOT_INFO,
    description: PaddedText<64>,
    manufacturer: PaddedText<32>,
}

impl SlotInfo {
    /// Decodes a raw `CK_SLOT_INFO`.
    pub fn from_raw(raw: ffi::CK_SLOT_INFO) -> SlotInfo {
        SlotInfo {
            description: PaddedText::from_raw(raw.slotDescription),
            manufacturer: PaddedText::from_raw(raw.manufacturerID),
            raw,
        }
    }

    /// The slot's description (`slotDescription`).
    pub fn description(&self) -> &PaddedText<64> {
        &self.description
    }

    /// The slot's manufacturer (`manufacturerID`).
    pub fn manufacturer(&self) -> &PaddedText<32> {
        &self.manufacturer
    }

    /// The flags: token present, removable device, hardware slot.
    pub fn flags(&self) -> SlotFlags {
        SlotFlags::from_raw(self.raw.flags)
    }

    /// Whether a token is in the slot (`CKF_TOKEN_PRESENT`).
    pub fn token_present(&self) -> bool {
        self.flags().token_present()
    }

    /// The slot's hardware version.
    pub fn hardware_version(&self) -> Version {
        self.raw.hardwareVersion.into()
    }

    /// The slot's firmware version.
    pub fn firmware_version(&self) -> Version {
        self.raw.firmwareVersion.into()
    }

    /// The raw struct.
    pub fn raw(&self) -> &ffi::CK_SLOT_INFO {
        &self.raw
    }
}

impl fmt::Debug for SlotInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SlotInfo")
            .field("description", &self.description)
            .field("manufacturer", &self.manufacturer)
            .field("flags", &self.flags())
            .field("hardware_version", &self.hardware_version())
            .field("firmware_version", &self.firmware_version())
            .finish()
    }
}

flags_type! {
    /// What a mechanism can do (`CK_MECHANISM_INFO.flags`).
    MechanismFlags {
        hardware = CKF_HW,
        message_encrypt = CKF_MESSAGE_ENCRYPT,
        message_decrypt = CKF_MESSAGE_DECRYPT,
        message_sign = CKF_MESSAGE_SIGN,
        message_verify = CKF_MESSAGE_VERIFY,
        multi_message = CKF_MULTI_MESSAGE,
        encrypt = CKF_ENCRYPT,
        decrypt = CKF_DECRYPT,
        digest = CKF_DIGEST,
        sign = CKF_SIGN,
        sign_recover = CKF_SIGN_RECOVER,
        verify = CKF_VERIFY,
        verify_recover = CKF_VERIFY_RECOVER,
        generate = CKF_GENERATE,
        generate_key_pair = CKF_GENERATE_KEY_PAIR,
        wrap = CKF_WRAP,
        unwrap = CKF_UNWRAP,
        derive = CKF_DERIVE,
        ec_f_p = CKF_EC_F_P,
        ec_f_2m = CKF_EC_F_2M,
        ec_parameters = CKF_EC_ECPARAMETERS,
        ec_oid = CKF_EC_OID,
        ec_uncompress = CKF_EC_UNCOMPRESS,
        ec_compress = CKF_EC_COMPRESS,
        ec_curve_name = CKF_EC_CURVENAME,
        encapsulate = CKF_ENCAPSULATE,
        decapsulate = CKF_DECAPSULATE,
        extension = CKF_EXTENSION,
    }
}

/// What a mechanism supports on a token (`CK_MECHANISM_INFO`), from
/// [`Slot::mechanism_info`].
#[derive(Clone, Copy)]
pub struct MechanismInfo {
    raw: ffi::CK_MECHANISM_INFO,
}

impl MechanismInfo {
    /// Wraps a raw `CK_MECHANISM_INFO`.
    pub fn from_raw(raw: ffi::CK_MECHANISM_INFO) -> MechanismInfo {
        MechanismInfo { raw }
    }

    /// The smallest key size (`ulMinKeySize`), in bits or bytes depending on the
    /// mechanism; 0 where key sizes do not apply.
    pub fn min_key_size(&self) -> u64 {
        ulong(self.raw.ulMinKeySize)
    }

    /// The largest key size (`ulMaxKeySize`), in the same unit as
    /// [`MechanismInfo::min_key_size`].
    pub fn max_key_size(&self) -> u64 {
        ulong(self.raw.ulMaxKeySize)
    }

    /// What the mechanism can do.
    pub fn flags(&self) -> MechanismFlags {
        MechanismFlags::from_raw(self.raw.flags)
    }

    /// The raw struct.
    pub fn raw(&self) -> &ffi::CK_MECHANISM_INFO {
        &self.raw
    }
}

impl fmt::Debug for MechanismInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MechanismInfo")
            .field("min_key_size", &self.min_key_size())
            .field("max_key_size", &self.max_key_size())
            .field("flags", &self.flags())
            .finish()
    }
}

impl Slot {
    /// Information about the slot: description, manufacturer, flags, versions.
    ///
    /// # Errors
    /// [`Error::Module`](crate::Error::Module) naming `C_GetSlotInfo`, e.g.
    /// `CKR_SLOT_ID_INVALID`.
    #[doc(alias = "C_GetSlotInfo")]
    pub fn info(&self) -> Result<SlotInfo> {
        let mut info = ffi::CK_SLOT_INFO::default();
        raw::slot::get_slot_info(&self.pkcs11().inner, self.id(), &mut info)?.ok()?;
        Ok(SlotInfo::from_raw(info))
    }

    /// The mechanisms the token in this slot supports, in the module's order; vendor
    /// and unknown values are kept.
    ///
    /// # Errors
    /// [`Error::Module`](crate::Error::Module) naming `C_GetMechanismList`, e.g.
    /// `CKR_TOKEN_NOT_PRESENT`; [`Error::ModuleContract`](crate::Error::ModuleContract)
    /// if the module's counts cannot be right.
    #[doc(alias = "C_GetMechanismList")]
    pub fn mechanisms(&self) -> Result<Vec<MechanismType>> {
        let inner = &self.pkcs11().inner;
        let list =
            read_list(|list, count| raw::slot::get_mechanism_list(inner, self.id(), list, count))?;
        Ok(list.into_iter().map(MechanismType).collect())
    }

    /// What `mechanism` supports on the token in this slot: key sizes and flags.
    ///
    /// # Errors
    /// [`Error::Module`](crate::Error::Module) naming `C_GetMechanismInfo`, e.g.
    /// `CKR_MECHANISM_INVALID` for a mechanism the token does not support.
    #[doc(alias = "C_GetMechanismInfo")]
    pub fn mechanism_info(&self, mechanism: MechanismType) -> Result<MechanismInfo> {
        let mut info = ffi::CK_MECHANISM_INFO::default();
        raw::slot::get_mechanism_info(&self.pkcs11().inner, self.id(), mechanism.raw(), &mut info)?
            .ok()?;
        Ok(MechanismInfo::from_raw(info))
    }
}

/// The state of a session (`CKS_*`): read-only or read-write, and who is logged in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// A read-only session, nobody logged in (`CKS_RO_PUBLIC_SESSION`).
    RoPublic,
    /// A read-only session, the user logged in (`CKS_RO_USER_FUNCTIONS`).
    RoUser,
    /// A read-write session, nobody logged in (`CKS_RW_PUBLIC_SESSION`).
    RwPublic,
    /// A read-write session, the user logged in (`CKS_RW_USER_FUNCTIONS`).
    RwUser,
    /// A read-write session, the security officer logged in (`CKS_RW_SO_FUNCTIONS`).
    RwSo,
    /// A value the standard does not define, kept as it is.
    Unknown(ffi::CK_STATE),
}

impl SessionState {
    /// The state of a raw `CKS_*` value.
    pub const fn from_raw(raw: ffi::CK_STATE) -> SessionState {
        match raw {
            ffi::CKS_RO_PUBLIC_SESSION => SessionState::RoPublic,
            ffi::CKS_RO_USER_FUNCTIONS => SessionState::RoUser,
            ffi::CKS_RW_PUBLIC_SESSION => SessionState::RwPublic,
            ffi::CKS_RW_USER_FUNCTIONS => SessionState::RwUser,
            ffi::CKS_RW_SO_FUNCTIONS => SessionState::RwSo,
            raw => SessionState::Unknown(raw),
        }
    }

    /// The raw `CKS_*` value.
    pub const fn raw(self) -> ffi::CK_STATE {
        match self {
            SessionState::RoPublic => ffi::CKS_RO_PUBLIC_SESSION,
            SessionState::RoUser => ffi::CKS_RO_USER_FUNCTIONS,
            SessionState::RwPublic => ffi::CKS_RW_PUBLIC_SESSION,
            SessionState::RwUser => ffi::CKS_RW_USER_FUNCTIONS,
            SessionState::RwSo => ffi::CKS_RW_SO_FUNCTIONS,
            SessionState::Unknown(raw) => raw,
        }
    }
}

flags_type! {
    /// The flags of a session (`CK_SESSION_INFO.flags`).
    SessionFlags {
        rw_session = CKF_RW_SESSION,
        serial_session = CKF_SERIAL_SESSION,
        async_session = CKF_ASYNC_SESSION,
    }
}

/// Information about a session (`CK_SESSION_INFO`), from [`Session::info`].
#[derive(Clone, Copy)]
pub struct SessionInfo {
    raw: ffi::CK_SESSION_INFO,
}

impl SessionInfo {
    /// Wraps a raw `CK_SESSION_INFO`.
    pub fn from_raw(raw: ffi::CK_SESSION_INFO) -> SessionInfo {
        SessionInfo { raw }
    }

    /// The slot the session is on (`slotID`).
    pub fn slot_id(&self) -> ffi::CK_SLOT_ID {
        self.raw.slotID
    }

    /// The session's state: read-only or read-write, and who is logged in.
    pub fn state(&self) -> SessionState {
        SessionState::from_raw(self.raw.state)
    }

    /// The session's flags: read-write, serial.
    pub fn flags(&self) -> SessionFlags {
        SessionFlags::from_raw(self.raw.flags)
    }

    /// Whether the session is read-write (`CKF_RW_SESSION`).
    pub fn is_read_write(&self) -> bool {
        self.flags().rw_session()
    }

    /// A device-specific error code (`ulDeviceError`).
    pub fn device_error(&self) -> u64 {
        ulong(self.raw.ulDeviceError)
    }

    /// The raw struct.
    pub fn raw(&self) -> &ffi::CK_SESSION_INFO {
        &self.raw
    }
}

impl fmt::Debug for SessionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SessionInfo")
            .field("slot_id", &self.slot_id())
            .field("state", &self.state())
            .field("flags", &self.flags())
            .field("device_error", &self.device_error())
            .finish()
    }
}

impl Session {
    /// Information about the session: its slot, state (who is logged in), flags and
    /// device error.
    ///
    /// # Errors
    /// [`Error::Module`](crate::Error::Module) naming `C_GetSessionInfo`;
    /// [`Error::SessionPoisoned`](crate::Error::SessionPoisoned) if the session is
    /// unusable.
    #[doc(alias = "C_GetSessionInfo")]
    pub fn info(&self) -> Result<SessionInfo> {
        let _lock = self.locked()?;
        let mut info = ffi::CK_SESSION_INFO::default();
        self.track_ok(raw::session::get_session_info(
            self.inner(),
            self.handle(),
            &mut info,
        ))?;
        Ok(SessionInfo::from_raw(info))
    }

    /// The session's validation flags of `kind` (3.2): which validations (for example
    /// FIPS 140-3 approved-mode checks, `CKS_LAST_VALIDATION_OK` for the last
    /// operation) the module reports as satisfied. The flag values are module-defined.
    ///
    /// # Errors
    /// [`Error::NotSupported`](crate::Error::NotSupported) naming
    /// `C_GetSessionValidationFlags` when the module's interface is older than 3.2;
    /// [`Error::Module`](crate::Error::Module) naming it when the module refuses.
    #[doc(alias = "C_GetSessionValidationFlags")]
    pub fn validation_flags(
        &self,
        kind: ffi::CK_SESSION_VALIDATION_FLAGS_TYPE,
    ) -> Result<ffi::CK_FLAGS> {
        let _lock = self.locked()?;
        let mut flags: ffi::CK_FLAGS = 0;
        self.track_ok(raw::misc::get_session_validation_flags(
            self.inner(),
            self.handle(),
            kind,
            &mut flags,
        ))?;
        Ok(flags)
    }

    /// The legacy parallel-function status (`C_GetFunctionStatus`).
    ///
    /// Parallel functions were withdrawn in PKCS #11 v2.01: a conforming module answers
    /// `CKR_FUNCTION_NOT_PARALLEL`, which is what this returns as
    /// [`Error::Module`](crate::Error::Module). Kept so that every function of the
    /// interface is reachable.
    ///
    /// # Errors
    /// As described; `Ok(())` only from a module that still answers `CKR_OK`.
    #[doc(alias = "C_GetFunctionStatus")]
    pub fn legacy_function_status(&self) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::misc::get_function_status(self.inner(), self.handle()))
    }

    /// The legacy cancellation of a parallel function (`C_CancelFunction`).
    ///
    /// Like [`Session::legacy_function_status`], a conforming module answers
    /// `CKR_FUNCTION_NOT_PARALLEL`. To abandon an operation, drop its guard (which uses
    /// `C_SessionCancel` where the module has it).
    ///
    /// # Errors
    /// As described.
    #[doc(alias = "C_CancelFunction")]
    pub fn legacy_cancel_function(&self) -> Result<()> {
        let _lock = self.locked()?;
        self.track_ok(raw::misc::cancel_function(self.inner(), self.handle()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn padded_text_is_trimmed_and_decoded_lossily() {
        let mut raw = [b' '; 16];
        raw[..5].copy_from_slice(b"ab\xFFc ");
        let text = PaddedText::from_raw(raw);
        assert_eq!(text.as_str(), "ab\u{FFFD}c");
        assert_eq!(text.trimmed_bytes(), b"ab\xFFc");
        assert_eq!(text.as_bytes(), &raw);

        let mut raw = [0u8; 8];
        raw[..3].copy_from_slice(b"x y");
        assert_eq!(PaddedText::from_raw(raw), "x y");
        assert_eq!(PaddedText::from_raw([b' '; 4]), "");
        assert_eq!(PaddedText::from_raw([0u8; 4]), "");
        // Leading blanks are content.
        assert_eq!(PaddedText::from_raw(*b"  a "), "  a");
    }

    #[test]
    fn flags_keep_unknown_bits_and_list_names() {
        let flags = MechanismFlags::from_raw(ffi::CKF_ENCRYPT | ffi::CKF_SIGN | (1 << 27));
        assert!(flags.encrypt() && flags.sign());
        assert!(!flags.decrypt());
        assert!(flags.contains(ffi::CKF_ENCRYPT | ffi::CKF_SIGN));
        assert!(!flags.contains(ffi::CKF_ENCRYPT | ffi::CKF_DECRYPT));
        assert_eq!(flags.raw(), ffi::CKF_ENCRYPT | ffi::CKF_SIGN | (1 << 27));
        assert_eq!(format!("{flags:?}"), "{CKF_ENCRYPT, CKF_SIGN, 0x8000000}");
    }

    #[test]
    fn session_states_round_trip() {
        for raw in 0..6 {
            assert_eq!(SessionState::from_raw(raw).raw(), raw);
        }
        assert_eq!(SessionState::from_raw(5), SessionState::Unknown(5));
        assert_eq!(
            SessionState::from_raw(ffi::CKS_RW_SO_FUNCTIONS),
            SessionState::RwSo
        );
    }
}
