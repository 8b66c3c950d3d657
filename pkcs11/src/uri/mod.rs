//! PKCS #11 URIs (RFC 7512): parsing, printing, and resolving them to a module, a token
//! and objects.
//!
//! A [`Pkcs11Uri`] holds every attribute of the RFC — the path attributes that name a
//! library, a slot, a token and objects, and the query attributes that name the module
//! and the PIN — plus vendor attributes, kept in order. [`Pkcs11Uri::parse`] follows the
//! RFC's grammar to the letter and says, for malformed input, which character at which
//! offset of which attribute is wrong ([`UriError`]); printing ([`fmt::Display`])
//! gives a canonical form that parses back to the same value.
//!
//! ```
//! use pkcs11::{ObjectClass, Pkcs11Uri};
//!
//! let uri: Pkcs11Uri = "pkcs11:token=My%20token;object=signing%20key;type=private\
//!                       ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-value=1234"
//!     .parse()?;
//! assert_eq!(uri.token(), Some("My token"));
//! assert_eq!(uri.object(), Some("signing key"));
//! assert_eq!(uri.object_type().map(|t| t.class()), Some(ObjectClass::PrivateKey.raw()));
//! // The PIN is never printed unless asked for.
//! assert!(!uri.to_string().contains("1234"));
//! assert!(!format!("{uri:?}").contains("1234"));
//! assert!(uri.to_string_with_pin().ends_with("&pin-value=1234"));
//! # Ok::<(), pkcs11::UriError>(())
//! ```
//!
//! Resolution (see [`Pkcs11::open_uri`](crate::Pkcs11::open_uri),
//! [`Pkcs11::tokens_matching`](crate::Pkcs11::tokens_matching),
//! [`Session::find_by_uri`](crate::Session::find_by_uri)) lives in `resolve.rs`.
//!
//! Choices where the RFC leaves room, all documented on the items:
//! - Standard attribute names, the scheme and the `type` values are ABNF literals, which
//!   RFC 5234 (section 2.3) makes case-insensitive: `TOKEN=x` is the `token` attribute.
//!   They are printed in lower case. Vendor attribute names are kept as written.
//! - A query attribute in the path (`pkcs11:pin-value=1`) or a path attribute in the
//!   query is refused rather than taken for a vendor attribute of the same name.
//! - `library-version=3` is version 3.0; it prints as `3`, and 3.0 prints as `3`.

use core::fmt;
use core::str::FromStr;

use crate::error::Error;
use crate::info::Version;
use crate::secret::Pin;

mod resolve;
#[cfg(test)]
mod tests;

pub use resolve::ModuleLocator;

/// The scheme, with its colon.
const SCHEME: &str = "pkcs11:";

/// The `type` attribute of a URI: which class of object it names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UriObjectType {
    /// `public`: a public key (`CKO_PUBLIC_KEY`).
    Public,
    /// `private`: a private key (`CKO_PRIVATE_KEY`).
    Private,
    /// `cert`: a certificate (`CKO_CERTIFICATE`).
    Cert,
    /// `secret-key`: a secret key (`CKO_SECRET_KEY`).
    SecretKey,
    /// `data`: a data object (`CKO_DATA`).
    Data,
}

impl UriObjectType {
    const ALL: [UriObjectType; 5] = [
        UriObjectType::Public,
        UriObjectType::Private,
        UriObjectType::Cert,
        UriObjectType::SecretKey,
        UriObjectType::Data,
    ];

    /// The value as written in a URI: `public`, `private`, `cert`, `secret-key`, `data`.
    pub const fn as_str(self) -> &'static str {
        match self {
            UriObjectType::Public => "public",
            UriObjectType::Private => "private",
            UriObjectType::Cert => "cert",
            UriObjectType::SecretKey => "secret-key",
            UriObjectType::Data => "data",
        }
    }

    /// The object class (`CKO_*`) it stands for.
    pub const fn class(self) -> ffi::CK_OBJECT_CLASS {
        match self {
            UriObjectType::Public => ffi::CKO_PUBLIC_KEY,
            UriObjectType::Private => ffi::CKO_PRIVATE_KEY,
            UriObjectType::Cert => ffi::CKO_CERTIFICATE,
            UriObjectType::SecretKey => ffi::CKO_SECRET_KEY,
            UriObjectType::Data => ffi::CKO_DATA,
        }
    }

    /// The type of an object class; `None` for classes a URI cannot name (mechanisms,
    /// hardware features, profiles...).
    pub fn from_class(class: ffi::CK_OBJECT_CLASS) -> Option<UriObjectType> {
        UriObjectType::ALL.into_iter().find(|t| t.class() == class)
    }

    /// The type named `value`, compared case-insensitively (an ABNF literal).
    fn from_uri(value: &str) -> Option<UriObjectType> {
        UriObjectType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(value))
    }
}

impl fmt::Display for UriObjectType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A PKCS #11 URI (RFC 7512).
///
/// Every attribute is optional; an absent attribute matches anything, a present one
/// (even empty: `serial=` matches only an empty serial number) must match. Text values
/// are UTF-8, `id` is bytes. The PIN (`pin-value`) is held as a [`Pin`]: wiped when
/// dropped, never shown by `Debug` or `Display` — only
/// [`Pkcs11Uri::to_string_with_pin`] prints it.
///
/// Equality compares every attribute, the PIN and the vendor attributes (in order)
/// included.
///
/// Parse errors say which character at which offset of which attribute is wrong
/// ([`UriError`]); printing gives a canonical form that parses back to the same value.
/// Standard attribute names and `type` values are ABNF literals, compared
/// case-insensitively (RFC 5234) and printed in lower case; a query attribute written in
/// the path (or the reverse) is refused.
///
/// Resolving a URI to a module, a token and its objects:
///
/// ```no_run
/// use pkcs11::{Pkcs11, Pkcs11Uri};
///
/// let uri: Pkcs11Uri = "pkcs11:token=my-token;object=my-key;type=private\
///                       ?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin"
///     .parse()?;
/// let p11 = Pkcs11::open_uri(&uri)?; // module-path, or module-name looked up like p11-kit
/// let slot = p11.token_by_uri(&uri)?; // exactly one token matches
/// let session = slot.open_ro_session()?;
/// session.login_with_uri(&uri)?; // pin-value, or the pin-source file
/// for key in session.find_by_uri(&uri)? {
///     println!("{}", Pkcs11Uri::for_object(&session, key)?); // never prints a PIN
/// }
/// # Ok::<(), pkcs11::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Pkcs11Uri {
    token: Option<String>,
    manufacturer: Option<String>,
    serial: Option<String>,
    model: Option<String>,
    library_manufacturer: Option<String>,
    library_description: Option<String>,
    library_version: Option<Version>,
    slot_id: Option<u64>,
    slot_description: Option<String>,
    slot_manufacturer: Option<String>,
    object: Option<String>,
    id: Option<Vec<u8>>,
    object_type: Option<UriObjectType>,
    vendor_path: Vec<(String, Vec<u8>)>,
    module_name: Option<String>,
    module_path: Option<String>,
    pin_value: Option<Pin>,
    pin_source: Option<String>,
    vendor_query: Vec<(String, Vec<u8>)>,
}

impl PartialEq for Pkcs11Uri {
    fn eq(&self, other: &Pkcs11Uri) -> bool {
        self.token == other.token
            && self.manufacturer == other.manufacturer
            && self.serial == other.serial
            && self.model == other.model
            && self.library_manufacturer == other.library_manufacturer
            && self.library_description == other.library_description
            && self.library_version == other.library_version
            && self.slot_id == other.slot_id
            && self.slot_description == other.slot_description
            && self.slot_manufacturer == other.slot_manufacturer
            && self.object == other.object
            && self.id == other.id
            && self.object_type == other.object_type
            && self.vendor_path == other.vendor_path
            && self.module_name == other.module_name
            && self.module_path == other.module_path
            && self.pin_value.as_ref().map(Pin::bytes) == other.pin_value.as_ref().map(Pin::bytes)
            && self.pin_source == other.pin_source
            && self.vendor_query == other.vendor_query
    }
}

impl Eq for Pkcs11Uri {}

/// The standard attributes: name, component, and the field each fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Known {
    Token,
    Manufacturer,
    Serial,
    Model,
    LibraryManufacturer,
    LibraryDescription,
    LibraryVersion,
    SlotId,
    SlotDescription,
    SlotManufacturer,
    Object,
    Id,
    Type,
    ModuleName,
    ModulePath,
    PinValue,
    PinSource,
}

/// Which component of the URI an attribute belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UriComponent {
    /// The path: after `pkcs11:`, attributes separated by `;`.
    Path,
    /// The query: after `?`, attributes separated by `&`.
    Query,
}

impl fmt::Display for UriComponent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            UriComponent::Path => "path",
            UriComponent::Query => "query",
        })
    }
}

impl Known {
    const ALL: [Known; 17] = [
        Known::Token,
        Known::Manufacturer,
        Known::Serial,
        Known::Model,
        Known::LibraryManufacturer,
        Known::LibraryDescription,
        Known::LibraryVersion,
        Known::SlotId,
        Known::SlotDescription,
        Known::SlotManufacturer,
        Known::Object,
        Known::Id,
        Known::Type,
        Known::ModuleName,
        Known::ModulePath,
        Known::PinValue,
        Known::PinSource,
    ];

    const fn name(self) -> &'static str {
        match self {
            Known::Token => "token",
            Known::Manufacturer => "manufacturer",
            Known::Serial => "serial",
            Known::Model => "model",
            Known::LibraryManufacturer => "library-manufacturer",
            Known::LibraryDescription => "library-description",
            Known::LibraryVersion => "library-version",
            Known::SlotId => "slot-id",
            Known::SlotDescription => "slot-description",
            Known::SlotManufacturer => "slot-manufacturer",
            Known::Object => "object",
            Known::Id => "id",
            Known::Type => "type",
            Known::ModuleName => "module-name",
            Known::ModulePath => "module-path",
            Known::PinValue => "pin-value",
            Known::PinSource => "pin-source",
        }
    }

    const fn component(self) -> UriComponent {
        match self {
            Known::ModuleName | Known::ModulePath | Known::PinValue | Known::PinSource => {
                UriComponent::Query
            }
            _ => UriComponent::Path,
        }
    }

    /// The standard attribute named `name` (ASCII case-insensitive: an ABNF literal).
    fn from_name(name: &str) -> Option<Known> {
        Known::ALL
            .into_iter()
            .find(|k| k.name().eq_ignore_ascii_case(name))
    }
}

/// What is wrong with a URI (see [`UriError`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UriErrorKind {
    /// The text does not begin with `pkcs11:`.
    NotPkcs11,
    /// A character that may not appear there unescaped; `None` when it belongs to the
    /// PIN (`pin-value`) and is therefore not shown.
    InvalidCharacter(Option<char>),
    /// A `%` not followed by two hexadecimal digits.
    InvalidPercentEncoding,
    /// The percent-decoded value of a text attribute is not UTF-8.
    NotUtf8,
    /// An empty attribute (`;;`, `&&`, a trailing separator).
    EmptyAttribute,
    /// An attribute without `=`.
    MissingEquals,
    /// An attribute name without characters before its `=`.
    EmptyName,
    /// A character that may not appear in an attribute name (letters, digits, `-`, `_`).
    InvalidNameCharacter(char),
    /// An attribute given twice where the RFC allows it once; the offset of the first.
    Duplicate {
        /// Where the first occurrence begins.
        first: usize,
    },
    /// A standard attribute written in the wrong component (`pin-value` in the path...).
    WrongComponent {
        /// Where it belongs.
        belongs_in: UriComponent,
    },
    /// A value that does not have the attribute's form (`slot-id` is decimal digits,
    /// `library-version` is `M` or `M.N` with each part at most 255, `type` is one of
    /// five words); says what was expected.
    InvalidValue {
        /// The form the attribute's value takes.
        expected: &'static str,
    },
    /// A vendor attribute built with an invalid name (see
    /// [`Pkcs11Uri::with_vendor_attribute`]).
    InvalidVendorName,
}

/// A malformed PKCS #11 URI: what is wrong, at which byte offset of the text, in which
/// attribute.
///
/// Displays as e.g. ``PKCS #11 URI: character ' ' at offset 13 (in the value of `token`)
/// may not appear unescaped in the path; percent-encode it as %20``. A PIN's characters
/// never appear in it. Converts into [`Error::InvalidInput`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UriError {
    offset: usize,
    attribute: Option<String>,
    kind: UriErrorKind,
}

impl UriError {
    fn new(offset: usize, attribute: Option<&str>, kind: UriErrorKind) -> UriError {
        UriError {
            offset,
            attribute: attribute.map(str::to_owned),
            kind,
        }
    }

    /// The byte offset in the text where the problem is.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The attribute the problem is in, as written, when it is in one.
    pub fn attribute(&self) -> Option<&str> {
        self.attribute.as_deref()
    }

    /// What is wrong.
    pub fn kind(&self) -> &UriErrorKind {
        &self.kind
    }
}

impl fmt::Display for UriError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.offset;
        let within = |f: &mut fmt::Formatter<'_>| match &self.attribute {
            Some(name) => write!(f, " (in `{name}`)"),
            None => Ok(()),
        };
        f.write_str("PKCS #11 URI: ")?;
        match &self.kind {
            UriErrorKind::NotPkcs11 => write!(f, "does not begin with `pkcs11:`"),
            UriErrorKind::InvalidCharacter(Some(c)) => {
                write!(f, "character {c:?} at offset {at}")?;
                within(f)?;
                write!(f, " may not appear unescaped; percent-encode it as ")?;
                let mut buf = [0; 4];
                for byte in c.encode_utf8(&mut buf).bytes() {
                    write!(f, "%{byte:02X}")?;
                }
                Ok(())
            }
            UriErrorKind::InvalidCharacter(None) => {
                write!(f, "a character at offset {at}")?;
                within(f)?;
                write!(
                    f,
                    " may not appear unescaped (not shown: it is part of the PIN)"
                )
            }
            UriErrorKind::InvalidPercentEncoding => {
                write!(f, "`%` at offset {at}")?;
                within(f)?;
                write!(f, " is not followed by two hexadecimal digits")
            }
            UriErrorKind::NotUtf8 => {
                write!(f, "the value at offset {at}")?;
                within(f)?;
                write!(f, " is not UTF-8 once percent-decoded")
            }
            UriErrorKind::EmptyAttribute => write!(f, "empty attribute at offset {at}"),
            UriErrorKind::MissingEquals => {
                write!(f, "attribute at offset {at}")?;
                within(f)?;
                write!(f, " has no `=`")
            }
            UriErrorKind::EmptyName => write!(f, "attribute at offset {at} has no name"),
            UriErrorKind::InvalidNameCharacter(c) => {
                write!(f, "character {c:?} at offset {at}")?;
                within(f)?;
                write!(
                    f,
                    " may not appear in an attribute name (letters, digits, `-` and `_`)"
                )
            }
            UriErrorKind::Duplicate { first } => {
                write!(f, "attribute at offset {at}")?;
                within(f)?;
                write!(f, " was already given at offset {first}")
            }
            UriErrorKind::WrongComponent { belongs_in } => {
                write!(f, "attribute at offset {at}")?;
                within(f)?;
                write!(f, " belongs in the {belongs_in}")
            }
            UriErrorKind::InvalidValue { expected } => {
                write!(f, "the value at offset {at}")?;
                within(f)?;
                write!(f, " is not {expected}")
            }
            UriErrorKind::InvalidVendorName => {
                write!(f, "invalid vendor attribute name")?;
                within(f)?;
                write!(
                    f,
                    ": letters, digits, `-` and `_`, and not the name of a standard attribute"
                )
            }
        }
    }
}

impl std::error::Error for UriError {}

impl From<UriError> for Error {
    fn from(error: UriError) -> Error {
        Error::InvalidInput {
            what: error.to_string(),
        }
    }
}

/// RFC 3986 `unreserved`: letters, digits, `-`, `.`, `_`, `~`.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// `pk11-res-avail`: the reserved characters that need no escaping in either component.
fn is_res_avail(b: u8) -> bool {
    matches!(
        b,
        b':' | b'[' | b']' | b'@' | b'!' | b'$' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'='
    )
}

/// `pk11-pchar` without `pct-encoded`: what a path value may hold unescaped.
fn is_pchar(b: u8) -> bool {
    is_unreserved(b) || is_res_avail(b) || b == b'&'
}

/// `pk11-qchar` without `pct-encoded`: what a query value may hold unescaped.
fn is_qchar(b: u8) -> bool {
    is_unreserved(b) || is_res_avail(b) || matches!(b, b'/' | b'?' | b'|')
}

/// `pk11-v-attr-nm-char`.
fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

/// The character of `text` that begins at `offset`.
fn char_at(text: &str, offset: usize) -> char {
    text[offset..].chars().next().unwrap_or('\u{FFFD}')
}

/// One `name=value` of the text, with offsets into the whole URI.
struct RawAttribute<'a> {
    name: &'a str,
    name_at: usize,
    value: &'a str,
    value_at: usize,
}

/// Splits a component (`text` starting at `base` in `uri`) at `separator` into
/// attributes; an empty component has none.
fn split_component<'a>(
    uri: &'a str,
    start: usize,
    end: usize,
    separator: char,
) -> Result<Vec<RawAttribute<'a>>, UriError> {
    let text = &uri[start..end];
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let mut attributes = Vec::new();
    let mut at = start;
    for piece in text.split(separator) {
        if piece.is_empty() {
            return Err(UriError::new(at, None, UriErrorKind::EmptyAttribute));
        }
        let Some(eq) = piece.find('=') else {
            // Name it only if it looks like a name.
            let shown = piece.bytes().all(is_name_char).then_some(piece);
            return Err(UriError::new(at, shown, UriErrorKind::MissingEquals));
        };
        let name = &piece[..eq];
        if name.is_empty() {
            return Err(UriError::new(at, None, UriErrorKind::EmptyName));
        }
        if let Some(bad) = name.bytes().position(|b| !is_name_char(b)) {
            return Err(UriError::new(
                at + bad,
                None,
                UriErrorKind::InvalidNameCharacter(char_at(uri, at + bad)),
            ));
        }
        attributes.push(RawAttribute {
            name,
            name_at: at,
            value: &piece[eq + 1..],
            value_at: at + eq + 1,
        });
        at += piece.len() + separator.len_utf8();
    }
    Ok(attributes)
}

/// Percent-decodes `value` (at `at` in `uri`), refusing characters `allowed` refuses.
fn decode(
    uri: &str,
    value: &str,
    at: usize,
    name: &str,
    allowed: fn(u8) -> bool,
    secret: bool,
) -> Result<Vec<u8>, UriError> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).and_then(|&h| (h as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => {
                    if secret {
                        // Do not keep partial PIN bytes around.
                        zeroize::Zeroize::zeroize(&mut out);
                    }
                    return Err(UriError::new(
                        at + i,
                        Some(name),
                        UriErrorKind::InvalidPercentEncoding,
                    ));
                }
            }
            i += 3;
        } else if allowed(b) {
            out.push(b);
            i += 1;
        } else {
            if secret {
                zeroize::Zeroize::zeroize(&mut out);
            }
            let shown = (!secret).then(|| char_at(uri, at + i));
            return Err(UriError::new(
                at + i,
                Some(name),
                UriErrorKind::InvalidCharacter(shown),
            ));
        }
    }
    Ok(out)
}

/// Decodes a text value: percent-decoded, then UTF-8.
fn decode_text(
    uri: &str,
    raw: &RawAttribute<'_>,
    allowed: fn(u8) -> bool,
) -> Result<String, UriError> {
    let bytes = decode(uri, raw.value, raw.value_at, raw.name, allowed, false)?;
    String::from_utf8(bytes)
        .map_err(|_| UriError::new(raw.value_at, Some(raw.name), UriErrorKind::NotUtf8))
}

/// Checks that `value` is one or more decimal digits; the offset of the first that is
/// not otherwise.
fn check_digits(value: &str, at: usize) -> Result<(), usize> {
    match value.bytes().position(|b| !b.is_ascii_digit()) {
        Some(bad) => Err(at + bad),
        None if value.is_empty() => Err(at),
        None => Ok(()),
    }
}

const SLOT_ID_FORM: &str = "a slot ID: decimal digits, at most 18446744073709551615";
const VERSION_FORM: &str = "a version: `M` or `M.N`, decimal, each at most 255";
const TYPE_FORM: &str = "one of public, private, cert, secret-key, data";

fn parse_slot_id(raw: &RawAttribute<'_>) -> Result<u64, UriError> {
    let invalid = |at| {
        UriError::new(
            at,
            Some(raw.name),
            UriErrorKind::InvalidValue {
                expected: SLOT_ID_FORM,
            },
        )
    };
    check_digits(raw.value, raw.value_at).map_err(invalid)?;
    raw.value.parse().map_err(|_| invalid(raw.value_at))
}

fn parse_version(raw: &RawAttribute<'_>) -> Result<Version, UriError> {
    let invalid = |at| {
        UriError::new(
            at,
            Some(raw.name),
            UriErrorKind::InvalidValue {
                expected: VERSION_FORM,
            },
        )
    };
    let (major, minor) = match raw.value.find('.') {
        Some(dot) => (&raw.value[..dot], Some((&raw.value[dot + 1..], dot + 1))),
        None => (raw.value, None),
    };
    check_digits(major, raw.value_at).map_err(invalid)?;
    let major: u8 = major.parse().map_err(|_| invalid(raw.value_at))?;
    let minor: u8 = match minor {
        Some((minor, skip)) => {
            check_digits(minor, raw.value_at + skip).map_err(invalid)?;
            minor.parse().map_err(|_| invalid(raw.value_at + skip))?
        }
        None => 0,
    };
    Ok(Version { major, minor })
}

impl Pkcs11Uri {
    /// An empty URI (`pkcs11:`): it matches every library, slot, token and object.
    pub fn new() -> Pkcs11Uri {
        Pkcs11Uri::default()
    }

    /// Parses a `pkcs11:` URI following RFC 7512's grammar.
    ///
    /// Rejected, with the offset and attribute in the error: a missing scheme, a
    /// character outside the component's allowed set (path values take RFC 3986
    /// `unreserved`, ``:[]@!$'()*+,=`` and `&`; query values take the same without `&`,
    /// plus `/`, `?` and `|`; anything else must be percent-encoded, spaces and
    /// non-ASCII included), a malformed `%XX`, a text value that is not UTF-8 once
    /// decoded, an attribute without `=`, a name outside letters/digits/`-`/`_`, a
    /// standard or vendor path attribute or a standard query attribute given twice, a
    /// standard attribute in the wrong component, and `slot-id`, `library-version` and
    /// `type` values of the wrong form. Vendor query attributes may repeat.
    ///
    /// # Errors
    /// [`UriError`], which names what is wrong and where; converts into
    /// [`Error::InvalidInput`].
    pub fn parse(text: &str) -> Result<Pkcs11Uri, UriError> {
        let scheme_ok = text
            .get(..SCHEME.len())
            .is_some_and(|s| s.eq_ignore_ascii_case(SCHEME));
        if !scheme_ok {
            return Err(UriError::new(0, None, UriErrorKind::NotPkcs11));
        }
        let path_start = SCHEME.len();
        let (path_end, query) = match text[path_start..].find('?') {
            Some(q) => (path_start + q, Some(path_start + q + 1)),
            None => (text.len(), None),
        };
        let mut uri = Pkcs11Uri::new();
        // Where each standard attribute and each path vendor attribute was first seen.
        let mut seen: Vec<(Known, usize)> = Vec::new();
        let mut seen_vendor: Vec<(String, usize)> = Vec::new();
        for raw in split_component(text, path_start, path_end, ';')? {
            uri.take(text, &raw, UriComponent::Path, &mut seen, &mut seen_vendor)?;
        }
        if let Some(start) = query {
            for raw in split_component(text, start, text.len(), '&')? {
                uri.take(text, &raw, UriComponent::Query, &mut seen, &mut seen_vendor)?;
            }
        }
        Ok(uri)
    }

    /// Stores one attribute of `component`.
    fn take(
        &mut self,
        text: &str,
        raw: &RawAttribute<'_>,
        component: UriComponent,
        seen: &mut Vec<(Known, usize)>,
        seen_vendor: &mut Vec<(String, usize)>,
    ) -> Result<(), UriError> {
        let name = raw.name;
        let allowed: fn(u8) -> bool = match component {
            UriComponent::Path => is_pchar,
            UriComponent::Query => is_qchar,
        };
        let Some(known) = Known::from_name(name) else {
            // A vendor attribute.
            let value = decode(text, raw.value, raw.value_at, name, allowed, false)?;
            if component == UriComponent::Path {
                if let Some((_, first)) = seen_vendor
                    .iter()
                    .find(|(seen, _)| seen.eq_ignore_ascii_case(name))
                {
                    return Err(UriError::new(
                        raw.name_at,
                        Some(name),
                        UriErrorKind::Duplicate { first: *first },
                    ));
                }
                seen_vendor.push((name.to_owned(), raw.name_at));
                self.vendor_path.push((name.to_owned(), value));
            } else {
                self.vendor_query.push((name.to_owned(), value));
            }
            return Ok(());
        };
        if known.component() != component {
            return Err(UriError::new(
                raw.name_at,
                Some(name),
                UriErrorKind::WrongComponent {
                    belongs_in: known.component(),
                },
            ));
        }
        if let Some((_, first)) = seen.iter().find(|(k, _)| *k == known) {
            return Err(UriError::new(
                raw.name_at,
                Some(name),
                UriErrorKind::Duplicate { first: *first },
            ));
        }
        seen.push((known, raw.name_at));
        let text_value = || decode_text(text, raw, allowed);
        match known {
            Known::Token => self.token = Some(text_value()?),
            Known::Manufacturer => self.manufacturer = Some(text_value()?),
            Known::Serial => self.serial = Some(text_value()?),
            Known::Model => self.model = Some(text_value()?),
            Known::LibraryManufacturer => self.library_manufacturer = Some(text_value()?),
            Known::LibraryDescription => self.library_description = Some(text_value()?),
            Known::SlotDescription => self.slot_description = Some(text_value()?),
            Known::SlotManufacturer => self.slot_manufacturer = Some(text_value()?),
            Known::Object => self.object = Some(text_value()?),
            Known::ModuleName => self.module_name = Some(text_value()?),
            Known::ModulePath => self.module_path = Some(text_value()?),
            Known::PinSource => self.pin_source = Some(text_value()?),
            Known::Id => {
                self.id = Some(decode(text, raw.value, raw.value_at, name, allowed, false)?)
            }
            Known::PinValue => {
                let bytes = decode(text, raw.value, raw.value_at, name, allowed, true)?;
                self.pin_value = Some(Pin::from_bytes(bytes));
            }
            Known::SlotId => self.slot_id = Some(parse_slot_id(raw)?),
            Known::LibraryVersion => self.library_version = Some(parse_version(raw)?),
            Known::Type => {
                let value = UriObjectType::from_uri(raw.value).ok_or_else(|| {
                    UriError::new(
                        raw.value_at,
                        Some(name),
                        UriErrorKind::InvalidValue {
                            expected: TYPE_FORM,
                        },
                    )
                })?;
                self.object_type = Some(value);
            }
        }
        Ok(())
    }

    /// The URI with its PIN (`pin-value`) included — the only way to print it.
    ///
    /// The text is wiped when dropped (it dereferences to `String`); it is written into
    /// a buffer sized beforehand, so that no reallocation leaves a copy of the PIN
    /// behind.
    pub fn to_string_with_pin(&self) -> zeroize::Zeroizing<String> {
        let pin_len = self.pin_value.as_ref().map_or(0, |pin| pin.bytes().len());
        // Without the PIN, plus `&pin-value=` and at most 3 characters per PIN byte.
        let capacity = self.to_string().len() + "&pin-value=".len() + 3 * pin_len;
        let mut out = zeroize::Zeroizing::new(String::with_capacity(capacity));
        self.write(&mut *out, true)
            .expect("writing to a String cannot fail");
        out
    }

    /// Writes the canonical form: standard path attributes in a fixed order (`token`,
    /// `manufacturer`, `serial`, `model`, `library-manufacturer`, `library-description`,
    /// `library-version`, `slot-id`, `slot-description`, `slot-manufacturer`, `object`,
    /// `id`, `type`), vendor path attributes in order, then `module-name`,
    /// `module-path`, `pin-source`, `pin-value` (only with `with_pin`) and vendor query
    /// attributes in order. Values are percent-encoded where the component requires it
    /// (upper-case hex); `id` is percent-encoded entirely, as the RFC recommends.
    fn write(&self, out: &mut dyn fmt::Write, with_pin: bool) -> fmt::Result {
        out.write_str(SCHEME)?;
        let text = |v: &Option<String>| v.as_ref().map(|s| s.as_bytes().to_vec());
        let version = self.library_version.map(|v| {
            if v.minor == 0 {
                v.major.to_string().into_bytes()
            } else {
                format!("{}.{}", v.major, v.minor).into_bytes()
            }
        });
        let path: [PathEntry<'_>; 13] = [
            ("token", text(&self.token), is_pchar),
            ("manufacturer", text(&self.manufacturer), is_pchar),
            ("serial", text(&self.serial), is_pchar),
            ("model", text(&self.model), is_pchar),
            (
                "library-manufacturer",
                text(&self.library_manufacturer),
                is_pchar,
            ),
            (
                "library-description",
                text(&self.library_description),
                is_pchar,
            ),
            ("library-version", version, is_pchar),
            (
                "slot-id",
                self.slot_id.map(|id| id.to_string().into_bytes()),
                is_pchar,
            ),
            ("slot-description", text(&self.slot_description), is_pchar),
            ("slot-manufacturer", text(&self.slot_manufacturer), is_pchar),
            ("object", text(&self.object), is_pchar),
            ("id", self.id.clone(), |_| false),
            (
                "type",
                self.object_type.map(|t| t.as_str().as_bytes().to_vec()),
                is_pchar,
            ),
        ];
        let mut count = 0;
        for (name, value, keep) in &path {
            if let Some(value) = value {
                write_attribute(out, (count > 0).then_some(';'), name, value, *keep)?;
                count += 1;
            }
        }
        for (name, value) in &self.vendor_path {
            write_attribute(out, (count > 0).then_some(';'), name, value, is_pchar)?;
            count += 1;
        }
        let pin = self.pin_value.as_ref().filter(|_| with_pin).map(Pin::bytes);
        let query = [
            (
                "module-name",
                self.module_name.as_ref().map(String::as_bytes),
            ),
            (
                "module-path",
                self.module_path.as_ref().map(String::as_bytes),
            ),
            ("pin-source", self.pin_source.as_ref().map(String::as_bytes)),
            ("pin-value", pin),
        ];
        let standard = query
            .iter()
            .filter_map(|(name, value)| value.map(|value| (*name, value)));
        let vendor = self
            .vendor_query
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()));
        for (i, (name, value)) in standard.chain(vendor).enumerate() {
            let sep = if i == 0 { '?' } else { '&' };
            write_attribute(out, Some(sep), name, value, is_qchar)?;
        }
        Ok(())
    }
}

/// A path attribute to print: name, value if present, which bytes stay unescaped.
type PathEntry<'a> = (&'a str, Option<Vec<u8>>, fn(u8) -> bool);

/// Writes `sep` (if any), `name=` and `value`, percent-encoding the bytes `keep` refuses.
fn write_attribute(
    out: &mut dyn fmt::Write,
    sep: Option<char>,
    name: &str,
    value: &[u8],
    keep: fn(u8) -> bool,
) -> fmt::Result {
    if let Some(sep) = sep {
        out.write_char(sep)?;
    }
    out.write_str(name)?;
    out.write_char('=')?;
    for &b in value {
        if keep(b) {
            out.write_char(b as char)?;
        } else {
            write!(out, "%{b:02X}")?;
        }
    }
    Ok(())
}

impl FromStr for Pkcs11Uri {
    type Err = UriError;

    fn from_str(text: &str) -> Result<Pkcs11Uri, UriError> {
        Pkcs11Uri::parse(text)
    }
}

impl fmt::Display for Pkcs11Uri {
    /// The canonical form without the PIN: `pin-value` is left out (see
    /// [`Pkcs11Uri::to_string_with_pin`]).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write(f, false)
    }
}

impl fmt::Debug for Pkcs11Uri {
    /// The canonical form without the PIN, and whether there is one.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Pkcs11Uri");
        s.field("uri", &format_args!("{self}"));
        if self.pin_value.is_some() {
            s.field("pin_value", &"<redacted>");
        }
        s.finish()
    }
}

/// Writes getter, builder and setter for text attributes.
macro_rules! text_attributes {
    ($($field:ident, $with:ident, $set:ident, $name:literal, $meaning:literal;)*) => {
        impl Pkcs11Uri {
            $(
                #[doc = concat!("The `", $name, "` attribute (", $meaning, "), decoded.")]
                pub fn $field(&self) -> Option<&str> {
                    self.$field.as_deref()
                }

                #[doc = concat!("This URI with the `", $name, "` attribute set to `value`.")]
                pub fn $with(mut self, value: impl Into<String>) -> Pkcs11Uri {
                    self.$field = Some(value.into());
                    self
                }

                #[doc = concat!("Sets or (with `None`) removes the `", $name, "` attribute.")]
                pub fn $set(&mut self, value: Option<String>) {
                    self.$field = value;
                }
            )*
        }
    };
}

text_attributes! {
    token, with_token, set_token, "token", "the token label, `CK_TOKEN_INFO.label`";
    manufacturer, with_manufacturer, set_manufacturer, "manufacturer",
        "the token manufacturer, `CK_TOKEN_INFO.manufacturerID`";
    serial, with_serial, set_serial, "serial",
        "the token serial number, `CK_TOKEN_INFO.serialNumber`";
    model, with_model, set_model, "model", "the token model, `CK_TOKEN_INFO.model`";
    library_manufacturer, with_library_manufacturer, set_library_manufacturer,
        "library-manufacturer", "`CK_INFO.manufacturerID`";
    library_description, with_library_description, set_library_description,
        "library-description", "`CK_INFO.libraryDescription`";
    slot_description, with_slot_description, set_slot_description, "slot-description",
        "`CK_SLOT_INFO.slotDescription`";
    slot_manufacturer, with_slot_manufacturer, set_slot_manufacturer, "slot-manufacturer",
        "`CK_SLOT_INFO.manufacturerID`";
    object, with_object, set_object, "object", "the object label, `CKA_LABEL`";
    module_name, with_module_name, set_module_name, "module-name",
        "the module's name without directory or suffix, looked up as described on \
         `ModuleLocator`";
    module_path, with_module_path, set_module_path, "module-path",
        "the module's absolute file path (or a directory to look `module-name` up in)";
    pin_source, with_pin_source, set_pin_source, "pin-source",
        "where to read the PIN from, e.g. `file:/etc/token_pin`; see `Pkcs11Uri::read_pin`";
}

impl Pkcs11Uri {
    /// The `id` attribute (`CKA_ID`): bytes.
    pub fn id(&self) -> Option<&[u8]> {
        self.id.as_deref()
    }

    /// This URI with the `id` attribute set.
    pub fn with_id(mut self, id: impl Into<Vec<u8>>) -> Pkcs11Uri {
        self.id = Some(id.into());
        self
    }

    /// Sets or (with `None`) removes the `id` attribute.
    pub fn set_id(&mut self, id: Option<Vec<u8>>) {
        self.id = id;
    }

    /// The `type` attribute (`CKA_CLASS`).
    pub fn object_type(&self) -> Option<UriObjectType> {
        self.object_type
    }

    /// This URI with the `type` attribute set.
    pub fn with_object_type(mut self, object_type: UriObjectType) -> Pkcs11Uri {
        self.object_type = Some(object_type);
        self
    }

    /// Sets or (with `None`) removes the `type` attribute.
    pub fn set_object_type(&mut self, object_type: Option<UriObjectType>) {
        self.object_type = object_type;
    }

    /// The `slot-id` attribute (`CK_SLOT_ID`, decimal in the URI).
    pub fn slot_id(&self) -> Option<u64> {
        self.slot_id
    }

    /// This URI with the `slot-id` attribute set.
    pub fn with_slot_id(mut self, slot_id: u64) -> Pkcs11Uri {
        self.slot_id = Some(slot_id);
        self
    }

    /// Sets or (with `None`) removes the `slot-id` attribute.
    pub fn set_slot_id(&mut self, slot_id: Option<u64>) {
        self.slot_id = slot_id;
    }

    /// The `library-version` attribute (`CK_INFO.libraryVersion`); `library-version=3`
    /// is version 3.0.
    pub fn library_version(&self) -> Option<Version> {
        self.library_version
    }

    /// This URI with the `library-version` attribute set.
    pub fn with_library_version(mut self, version: Version) -> Pkcs11Uri {
        self.library_version = Some(version);
        self
    }

    /// Sets or (with `None`) removes the `library-version` attribute.
    pub fn set_library_version(&mut self, version: Option<Version>) {
        self.library_version = version;
    }

    /// The `pin-value` attribute: the PIN, redacted in `Debug`, wiped when dropped.
    pub fn pin_value(&self) -> Option<&Pin> {
        self.pin_value.as_ref()
    }

    /// This URI with the `pin-value` attribute set. It is printed only by
    /// [`Pkcs11Uri::to_string_with_pin`].
    pub fn with_pin_value(mut self, pin: Pin) -> Pkcs11Uri {
        self.pin_value = Some(pin);
        self
    }

    /// Sets or (with `None`) removes the `pin-value` attribute.
    pub fn set_pin_value(&mut self, pin: Option<Pin>) {
        self.pin_value = pin;
    }

    /// The vendor attributes of the path, in order: name as written, decoded value.
    pub fn vendor_path_attributes(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.vendor_path
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
    }

    /// The vendor attributes of the query, in order (a name may repeat).
    pub fn vendor_query_attributes(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.vendor_query
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_slice()))
    }

    /// This URI with a vendor attribute added at the end of `component`.
    ///
    /// # Errors
    /// [`UriErrorKind::InvalidVendorName`] for an empty name, one with characters other
    /// than letters, digits, `-` and `_`, or the name of a standard attribute;
    /// [`UriErrorKind::Duplicate`] for a name the path already has.
    pub fn with_vendor_attribute(
        mut self,
        component: UriComponent,
        name: &str,
        value: impl Into<Vec<u8>>,
    ) -> Result<Pkcs11Uri, UriError> {
        if name.is_empty() || !name.bytes().all(is_name_char) || Known::from_name(name).is_some() {
            return Err(UriError::new(
                0,
                Some(name),
                UriErrorKind::InvalidVendorName,
            ));
        }
        let list = match component {
            UriComponent::Path => {
                if self
                    .vendor_path
                    .iter()
                    .any(|(n, _)| n.eq_ignore_ascii_case(name))
                {
                    return Err(UriError::new(
                        0,
                        Some(name),
                        UriErrorKind::Duplicate { first: 0 },
                    ));
                }
                &mut self.vendor_path
            }
            UriComponent::Query => &mut self.vendor_query,
        };
        list.push((name.to_owned(), value.into()));
        Ok(self)
    }

    /// Whether the URI has any of the library attributes (`library-manufacturer`,
    /// `library-description`, `library-version`).
    pub fn has_library_attributes(&self) -> bool {
        self.library_manufacturer.is_some()
            || self.library_description.is_some()
            || self.library_version.is_some()
    }

    /// Whether the URI has any of the slot attributes (`slot-id`, `slot-description`,
    /// `slot-manufacturer`).
    pub fn has_slot_attributes(&self) -> bool {
        self.slot_id.is_some()
            || self.slot_description.is_some()
            || self.slot_manufacturer.is_some()
    }

    /// Whether the URI has any of the token attributes (`token`, `manufacturer`,
    /// `serial`, `model`).
    pub fn has_token_attributes(&self) -> bool {
        self.token.is_some()
            || self.manufacturer.is_some()
            || self.serial.is_some()
            || self.model.is_some()
    }

    /// Whether the URI has any of the object attributes (`object`, `id`, `type`).
    pub fn has_object_attributes(&self) -> bool {
        self.object.is_some() || self.id.is_some() || self.object_type.is_some()
    }
}
