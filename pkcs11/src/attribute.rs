//! Attributes: their types (`CKA_*`), typed values for every attribute of PKCS #11 v3.2,
//! object classes, key and certificate types, and dates.
//!
//! One table below maps every `CKA_*` to the kind of its value; the [`Attribute`] enum,
//! the [`AttributeType`] constants, encoding, decoding and the knowledge of which values
//! have a fixed size all derive from it. Vendor-defined and unknown attributes pass
//! through as [`Attribute::Raw`].
//!
//! ```
//! use pkcs11::{Attribute, AttributeType, ObjectClass};
//!
//! let template = [
//!     Attribute::Class(ObjectClass::Data),
//!     Attribute::Token(false),
//!     Attribute::Label("report".into()),
//! ];
//! assert_eq!(template[2].attribute_type(), AttributeType::Label);
//! assert_eq!(AttributeType::Label.name(), Some("CKA_LABEL"));
//! assert_eq!(template[2].as_str(), Some("report"));
//! ```

use core::fmt;
use core::hash::{Hash, Hasher};

use ffi::{CK_ATTRIBUTE_TYPE, CK_ULONG};

use crate::error::{Error, Result};
use crate::info::Version;
use crate::mechanism::MechanismType;
use crate::raw::attribute::{Fetched, InTemplate, Outcome, Shape, ULONG_SIZE};
use crate::secret::SecretBytes;

/// An attribute type (`CKA_*`): standard, vendor-defined or unknown, kept as it is.
///
/// Every standard attribute has an associated constant named like its [`Attribute`]
/// variant: `AttributeType::Label` is `CKA_LABEL`.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct AttributeType(pub CK_ATTRIBUTE_TYPE);

impl AttributeType {
    /// The raw value.
    pub const fn raw(self) -> CK_ATTRIBUTE_TYPE {
        self.0
    }

    /// The standard name (`"CKA_LABEL"`), if the value has one.
    pub fn name(self) -> Option<&'static str> {
        ffi::cka_name(self.0)
    }

    /// Whether the value is in the vendor-defined range.
    pub const fn is_vendor_defined(self) -> bool {
        self.0 >= ffi::CKA_VENDOR_DEFINED
    }

    /// Whether the value carries `CKF_ARRAY_ATTRIBUTE` (its value is an array).
    pub const fn is_array(self) -> bool {
        self.0 & ffi::CKF_ARRAY_ATTRIBUTE != 0
    }

    /// Whether values of this type have a fixed size (`CK_BBOOL`, `CK_ULONG`,
    /// `CK_DATE`, `CK_VERSION`): those are read in one call, without a length query.
    pub fn is_fixed_size(self) -> bool {
        matches!(shape_of(self.0), Shape::Fixed { .. })
    }
}

impl From<CK_ATTRIBUTE_TYPE> for AttributeType {
    fn from(raw: CK_ATTRIBUTE_TYPE) -> AttributeType {
        AttributeType(raw)
    }
}

impl From<AttributeType> for CK_ATTRIBUTE_TYPE {
    fn from(ty: AttributeType) -> CK_ATTRIBUTE_TYPE {
        ty.0
    }
}

impl fmt::Debug for AttributeType {
    /// `CKA_LABEL`, or `CKA(0x80001234)` for a value without a standard name.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "CKA(0x{:08X})", self.0),
        }
    }
}

impl fmt::Display for AttributeType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Writes a `CK_ULONG` enumeration (object classes, key types...) from its table:
/// variant = constant. Vendor-defined and unassigned values are kept as they are, and
/// values compare by their raw number.
macro_rules! ulong_enum {
    (
        $(#[$meta:meta])*
        $name:ident: $raw:ty, $prefix:literal, $vendor:ident {
            $($variant:ident = $constant:ident,)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", stringify!($constant), "`")]
                $variant,
            )*
            /// A vendor-defined value.
            Vendor($raw),
            /// A value the standard does not assign.
            Unknown($raw),
        }

        impl $name {
            /// The kind of a raw value.
            pub const fn from_raw(raw: $raw) -> $name {
                match raw {
                    $(ffi::$constant => $name::$variant,)*
                    raw if raw >= ffi::$vendor => $name::Vendor(raw),
                    raw => $name::Unknown(raw),
                }
            }

            /// The raw value.
            pub const fn raw(self) -> $raw {
                match self {
                    $($name::$variant => ffi::$constant,)*
                    $name::Vendor(raw) | $name::Unknown(raw) => raw,
                }
            }

            /// The standard name, if the value has one.
            pub const fn name(self) -> Option<&'static str> {
                match $name::from_raw(self.raw()) {
                    $($name::$variant => Some(stringify!($constant)),)*
                    _ => None,
                }
            }
        }

        impl PartialEq for $name {
            fn eq(&self, other: &$name) -> bool {
                self.raw() == other.raw()
            }
        }

        impl Eq for $name {}

        impl Hash for $name {
            fn hash<H: Hasher>(&self, state: &mut H) {
                self.raw().hash(state);
            }
        }

        impl From<$raw> for $name {
            fn from(raw: $raw) -> $name {
                $name::from_raw(raw)
            }
        }

        impl From<$name> for $raw {
            fn from(value: $name) -> $raw {
                value.raw()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                match self.name() {
                    Some(name) => f.write_str(name),
                    None => write!(f, concat!($prefix, "(0x{:08X})"), self.raw()),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(self, f)
            }
        }
    };
}

ulong_enum! {
    /// An object class (`CKO_*`, the value of `CKA_CLASS`).
    ObjectClass: ffi::CK_OBJECT_CLASS, "CKO", CKO_VENDOR_DEFINED {
        Data = CKO_DATA,
        Certificate = CKO_CERTIFICATE,
        PublicKey = CKO_PUBLIC_KEY,
        PrivateKey = CKO_PRIVATE_KEY,
        SecretKey = CKO_SECRET_KEY,
        HwFeature = CKO_HW_FEATURE,
        DomainParameters = CKO_DOMAIN_PARAMETERS,
        Mechanism = CKO_MECHANISM,
        OtpKey = CKO_OTP_KEY,
        Profile = CKO_PROFILE,
        Validation = CKO_VALIDATION,
        Trust = CKO_TRUST,
    }
}

ulong_enum! {
    /// A key type (`CKK_*`, the value of `CKA_KEY_TYPE`). The deprecated aliases
    /// `CKK_ECDSA` and `CKK_CAST5` are [`KeyType::Ec`] and [`KeyType::Cast128`].
    KeyType: ffi::CK_KEY_TYPE, "CKK", CKK_VENDOR_DEFINED {
        Rsa = CKK_RSA,
        Dsa = CKK_DSA,
        Dh = CKK_DH,
        Ec = CKK_EC,
        X942Dh = CKK_X9_42_DH,
        Kea = CKK_KEA,
        GenericSecret = CKK_GENERIC_SECRET,
        Rc2 = CKK_RC2,
        Rc4 = CKK_RC4,
        Des = CKK_DES,
        Des2 = CKK_DES2,
        Des3 = CKK_DES3,
        Cast = CKK_CAST,
        Cast3 = CKK_CAST3,
        Cast128 = CKK_CAST128,
        Rc5 = CKK_RC5,
        Idea = CKK_IDEA,
        Skipjack = CKK_SKIPJACK,
        Baton = CKK_BATON,
        Juniper = CKK_JUNIPER,
        Cdmf = CKK_CDMF,
        Aes = CKK_AES,
        Blowfish = CKK_BLOWFISH,
        Twofish = CKK_TWOFISH,
        Securid = CKK_SECURID,
        Hotp = CKK_HOTP,
        Acti = CKK_ACTI,
        Camellia = CKK_CAMELLIA,
        Aria = CKK_ARIA,
        Md5Hmac = CKK_MD5_HMAC,
        Sha1Hmac = CKK_SHA_1_HMAC,
        Ripemd128Hmac = CKK_RIPEMD128_HMAC,
        Ripemd160Hmac = CKK_RIPEMD160_HMAC,
        Sha256Hmac = CKK_SHA256_HMAC,
        Sha384Hmac = CKK_SHA384_HMAC,
        Sha512Hmac = CKK_SHA512_HMAC,
        Sha224Hmac = CKK_SHA224_HMAC,
        Seed = CKK_SEED,
        Gostr3410 = CKK_GOSTR3410,
        Gostr3411 = CKK_GOSTR3411,
        Gost28147 = CKK_GOST28147,
        Chacha20 = CKK_CHACHA20,
        Poly1305 = CKK_POLY1305,
        AesXts = CKK_AES_XTS,
        Sha3_224Hmac = CKK_SHA3_224_HMAC,
        Sha3_256Hmac = CKK_SHA3_256_HMAC,
        Sha3_384Hmac = CKK_SHA3_384_HMAC,
        Sha3_512Hmac = CKK_SHA3_512_HMAC,
        Blake2b160Hmac = CKK_BLAKE2B_160_HMAC,
        Blake2b256Hmac = CKK_BLAKE2B_256_HMAC,
        Blake2b384Hmac = CKK_BLAKE2B_384_HMAC,
        Blake2b512Hmac = CKK_BLAKE2B_512_HMAC,
        Salsa20 = CKK_SALSA20,
        X2ratchet = CKK_X2RATCHET,
        EcEdwards = CKK_EC_EDWARDS,
        EcMontgomery = CKK_EC_MONTGOMERY,
        Hkdf = CKK_HKDF,
        Sha512_224Hmac = CKK_SHA512_224_HMAC,
        Sha512_256Hmac = CKK_SHA512_256_HMAC,
        Sha512THmac = CKK_SHA512_T_HMAC,
        Hss = CKK_HSS,
        Xmss = CKK_XMSS,
        Xmssmt = CKK_XMSSMT,
        MlKem = CKK_ML_KEM,
        MlDsa = CKK_ML_DSA,
        SlhDsa = CKK_SLH_DSA,
    }
}

ulong_enum! {
    /// A certificate type (`CKC_*`, the value of `CKA_CERTIFICATE_TYPE`).
    CertificateType: ffi::CK_CERTIFICATE_TYPE, "CKC", CKC_VENDOR_DEFINED {
        X509 = CKC_X_509,
        X509AttrCert = CKC_X_509_ATTR_CERT,
        Wtls = CKC_WTLS,
    }
}

/// A date (`CK_DATE`: `YYYYMMDD` in ASCII digits), kept exactly as the module wrote it.
///
/// ```
/// use pkcs11::Date;
///
/// let date = Date::new(2031, 12, 24)?;
/// assert_eq!(date.to_string(), "2031-12-24");
/// assert_eq!(date.as_bytes(), b"20311224");
/// assert_eq!((date.year(), date.month(), date.day()), (Some(2031), Some(12), Some(24)));
/// # Ok::<(), pkcs11::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Date([u8; 8]);

impl Date {
    /// The date `year`-`month`-`day`.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] unless `year` ≤ 9999, `month` is 1–12 and `day` 1–31.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Date> {
        if year > 9999 || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return Err(Error::InvalidInput {
                what: format!("{year:04}-{month:02}-{day:02} is not a CK_DATE"),
            });
        }
        let text = format!("{year:04}{month:02}{day:02}");
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(text.as_bytes());
        Ok(Date(bytes))
    }

    /// A date from its eight bytes, unchecked (as a module may write them).
    pub const fn from_bytes(bytes: [u8; 8]) -> Date {
        Date(bytes)
    }

    /// The eight bytes.
    pub const fn to_bytes(self) -> [u8; 8] {
        self.0
    }

    /// The eight bytes, borrowed.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    fn number(digits: &[u8]) -> Option<u16> {
        digits.iter().try_fold(0u16, |n, &d| {
            d.is_ascii_digit().then(|| n * 10 + u16::from(d - b'0'))
        })
    }

    /// The year, if its four bytes are digits.
    pub fn year(&self) -> Option<u16> {
        Date::number(&self.0[..4])
    }

    /// The month, if its two bytes are digits.
    pub fn month(&self) -> Option<u8> {
        Date::number(&self.0[4..6]).map(|n| n as u8)
    }

    /// The day, if its two bytes are digits.
    pub fn day(&self) -> Option<u8> {
        Date::number(&self.0[6..]).map(|n| n as u8)
    }
}

impl From<ffi::CK_DATE> for Date {
    fn from(date: ffi::CK_DATE) -> Date {
        let (year, month, day) = (date.year, date.month, date.day);
        Date([
            year[0], year[1], year[2], year[3], month[0], month[1], day[0], day[1],
        ])
    }
}

impl From<Date> for ffi::CK_DATE {
    fn from(date: Date) -> ffi::CK_DATE {
        let b = date.0;
        ffi::CK_DATE {
            year: [b[0], b[1], b[2], b[3]],
            month: [b[4], b[5]],
            day: [b[6], b[7]],
        }
    }
}

impl fmt::Display for Date {
    /// `2031-12-24`; bytes that are not digits are shown escaped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.year(), self.month(), self.day()) {
            (Some(y), Some(m), Some(d)) => write!(f, "{y:04}-{m:02}-{d:02}"),
            _ => write!(f, "{}", self.0.escape_ascii()),
        }
    }
}

impl fmt::Debug for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Date({self})")
    }
}

/// Why a fetched value did not decode.
enum Undecodable {
    /// Keep the bytes as [`Attribute::Raw`] (text that is not UTF-8).
    Keep(Vec<u8>),
    /// The module broke the contract.
    Fail(Error),
}

fn fail(ty: CK_ATTRIBUTE_TYPE, what: impl fmt::Display) -> Undecodable {
    Undecodable::Fail(Error::ModuleContract {
        function: "C_GetAttributeValue",
        what: format!("{}: {what}", AttributeType(ty)),
    })
}

/// The bytes of a plain value.
fn plain<'a>(ty: CK_ATTRIBUTE_TYPE, fetched: &Fetched<'a>) -> Result<&'a [u8], Undecodable> {
    match fetched {
        Fetched::Bytes(bytes) => Ok(bytes),
        Fetched::Template(_) => Err(fail(ty, "a nested template where a value was expected")),
    }
}

fn ulong_from(ty: CK_ATTRIBUTE_TYPE, bytes: &[u8]) -> Result<CK_ULONG, Undecodable> {
    let array: [u8; ULONG_SIZE] = bytes
        .try_into()
        .map_err(|_| fail(ty, format!("{} bytes for a CK_ULONG", bytes.len())))?;
    Ok(CK_ULONG::from_ne_bytes(array))
}

fn ulongs_from(ty: CK_ATTRIBUTE_TYPE, bytes: &[u8]) -> Result<Vec<CK_ULONG>, Undecodable> {
    bytes
        .chunks(ULONG_SIZE)
        .map(|chunk| ulong_from(ty, chunk))
        .collect()
}

/// Read access to a value of any kind.
trait Access {
    fn as_bool(&self) -> Option<bool> {
        None
    }
    fn as_ulong(&self) -> Option<CK_ULONG> {
        None
    }
    fn as_bytes(&self) -> Option<&[u8]> {
        None
    }
    fn as_str(&self) -> Option<&str> {
        None
    }
    fn as_template(&self) -> Option<&[Attribute]> {
        None
    }
}

/// The value of one kind of the table: its layout, encoding and decoding.
trait Value: Access + Sized {
    /// How it is laid out.
    const SHAPE: Shape;
    /// Adds it to `template` as attribute `ty`.
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>);
    /// Decodes what was read for attribute `ty`.
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<Self, Undecodable>;
}

const fn fixed(size: usize) -> Shape {
    Shape::Fixed {
        size,
        empty_ok: false,
    }
}

impl Access for bool {
    fn as_bool(&self) -> Option<bool> {
        Some(*self)
    }
}

impl Value for bool {
    const SHAPE: Shape = fixed(1);
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
        template.bool(ty, *self);
    }
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<bool, Undecodable> {
        match plain(ty, &fetched)? {
            [byte] => Ok(*byte != ffi::CK_FALSE),
            bytes => Err(fail(ty, format!("{} bytes for a CK_BBOOL", bytes.len()))),
        }
    }
}

/// `CK_ULONG` values and the enumerations over them.
macro_rules! ulong_value {
    ($($ty:ty: $from:expr, $to:expr;)*) => {$(
        impl Access for $ty {
            fn as_ulong(&self) -> Option<CK_ULONG> {
                Some($to(*self))
            }
        }

        impl Value for $ty {
            const SHAPE: Shape = fixed(ULONG_SIZE);
            fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
                template.ulong(ty, $to(*self));
            }
            fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<$ty, Undecodable> {
                ulong_from(ty, plain(ty, &fetched)?).map($from)
            }
        }
    )*};
}

ulong_value! {
    CK_ULONG: |raw| raw, |value| value;
    ObjectClass: ObjectClass::from_raw, ObjectClass::raw;
    KeyType: KeyType::from_raw, KeyType::raw;
    CertificateType: CertificateType::from_raw, CertificateType::raw;
    MechanismType: MechanismType, MechanismType::raw;
}

impl Access for Option<Date> {
    fn as_bytes(&self) -> Option<&[u8]> {
        Some(self.as_ref().map_or(&[], Date::as_bytes))
    }
}

impl Value for Option<Date> {
    const SHAPE: Shape = Shape::Fixed {
        size: 8,
        empty_ok: true,
    };
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
        template.bytes(ty, self.as_ref().map_or(&[], Date::as_bytes));
    }
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<Option<Date>, Undecodable> {
        match plain(ty, &fetched)? {
            [] => Ok(None),
            bytes => match <[u8; 8]>::try_from(bytes) {
                Ok(bytes) => Ok(Some(Date(bytes))),
                Err(_) => Err(fail(ty, format!("{} bytes for a CK_DATE", bytes.len()))),
            },
        }
    }
}

impl Access for Version {}

impl Value for Version {
    const SHAPE: Shape = fixed(2);
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
        template.owned(ty, vec![self.major, self.minor]);
    }
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<Version, Undecodable> {
        match plain(ty, &fetched)? {
            &[major, minor] => Ok(Version { major, minor }),
            bytes => Err(fail(ty, format!("{} bytes for a CK_VERSION", bytes.len()))),
        }
    }
}

impl Access for String {
    fn as_bytes(&self) -> Option<&[u8]> {
        Some(String::as_bytes(self))
    }
    fn as_str(&self) -> Option<&str> {
        Some(self)
    }
}

impl Value for String {
    const SHAPE: Shape = Shape::Bytes;
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
        template.bytes(ty, String::as_bytes(self));
    }
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<String, Undecodable> {
        String::from_utf8(plain(ty, &fetched)?.to_vec())
            .map_err(|error| Undecodable::Keep(error.into_bytes()))
    }
}

impl Access for Vec<u8> {
    fn as_bytes(&self) -> Option<&[u8]> {
        Some(self)
    }
}

impl Value for Vec<u8> {
    const SHAPE: Shape = Shape::Bytes;
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
        template.bytes(ty, self);
    }
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<Vec<u8>, Undecodable> {
        Ok(plain(ty, &fetched)?.to_vec())
    }
}

impl Access for SecretBytes {
    fn as_bytes(&self) -> Option<&[u8]> {
        Some(SecretBytes::as_bytes(self))
    }
}

impl Value for SecretBytes {
    const SHAPE: Shape = Shape::Bytes;
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
        template.bytes(ty, SecretBytes::as_bytes(self));
    }
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<SecretBytes, Undecodable> {
        // An exact-size copy: no reallocation leaves secret bytes behind; the engine's
        // buffers (its arena included) are wiped once the read is over.
        Ok(SecretBytes::new(plain(ty, &fetched)?.to_vec()))
    }
}

impl Access for Vec<MechanismType> {}

impl Value for Vec<MechanismType> {
    const SHAPE: Shape = Shape::Ulongs;
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
        template.ulongs(ty, self.iter().map(|m| m.raw()).collect());
    }
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<Self, Undecodable> {
        Ok(ulongs_from(ty, plain(ty, &fetched)?)?
            .into_iter()
            .map(MechanismType)
            .collect())
    }
}

impl Access for Vec<CK_ULONG> {}

impl Value for Vec<CK_ULONG> {
    const SHAPE: Shape = Shape::Ulongs;
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
        template.ulong_slice(ty, self);
    }
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<Self, Undecodable> {
        ulongs_from(ty, plain(ty, &fetched)?)
    }
}

impl Access for Vec<Attribute> {
    fn as_template(&self) -> Option<&[Attribute]> {
        Some(self)
    }
}

impl Value for Vec<Attribute> {
    const SHAPE: Shape = Shape::Template;
    fn encode<'a>(&'a self, ty: CK_ATTRIBUTE_TYPE, template: &mut InTemplate<'a>) {
        template.nested(ty, encode(self));
    }
    fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<Self, Undecodable> {
        match fetched {
            Fetched::Template(entries) => entries
                .iter()
                .map(|(ty, bytes)| Attribute::decode(*ty, Fetched::Bytes(bytes.bytes())))
                .collect::<Result<_>>()
                .map_err(Undecodable::Fail),
            Fetched::Bytes(_) => Err(fail(ty, "a plain value where a template was expected")),
        }
    }
}

/// Decodes `fetched` as a `T` and wraps it in its variant; text that is not UTF-8 is
/// kept as [`Attribute::Raw`].
fn decode_as<T: Value>(
    ty: CK_ATTRIBUTE_TYPE,
    fetched: Fetched<'_>,
    variant: fn(T) -> Attribute,
) -> Result<Attribute> {
    match T::decode(ty, fetched) {
        Ok(value) => Ok(variant(value)),
        Err(Undecodable::Keep(bytes)) => Ok(Attribute::Raw {
            attribute_type: AttributeType(ty),
            value: SecretBytes::new(bytes),
        }),
        Err(Undecodable::Fail(error)) => Err(error),
    }
}

/// The Rust type of each kind of the table.
macro_rules! kind_type {
    (Bool) => { bool };
    (Ulong) => { CK_ULONG };
    (Class) => { ObjectClass };
    (KeyType) => { KeyType };
    (CertType) => { CertificateType };
    (Mech) => { MechanismType };
    (Date) => { Option<Date> };
    (Version) => { Version };
    (Utf8) => { String };
    (Bytes) => { Vec<u8> };
    (BigInt) => { Vec<u8> };
    (Secret) => { SecretBytes };
    (Mechs) => { Vec<MechanismType> };
    (Ulongs) => { Vec<CK_ULONG> };
    (Template) => { Vec<Attribute> };
}

/// How each kind of the table is documented.
macro_rules! kind_doc {
    (Bool) => {
        "a `CK_BBOOL`"
    };
    (Ulong) => {
        "a `CK_ULONG`"
    };
    (Class) => {
        "an object class"
    };
    (KeyType) => {
        "a key type"
    };
    (CertType) => {
        "a certificate type"
    };
    (Mech) => {
        "a mechanism type"
    };
    (Date) => {
        "a `CK_DATE`, `None` for the empty date"
    };
    (Version) => {
        "a `CK_VERSION`"
    };
    (Utf8) => {
        "UTF-8 text"
    };
    (Bytes) => {
        "a byte string"
    };
    (BigInt) => {
        "a big integer: unsigned, big-endian bytes"
    };
    (Secret) => {
        "secret bytes, wiped when dropped"
    };
    (Mechs) => {
        "a list of mechanism types"
    };
    (Ulongs) => {
        "a list of `CK_ULONG`s"
    };
    (Template) => {
        "a nested template"
    };
}

/// Writes everything derived from the table: `Variant = CKA_CONSTANT: Kind`.
macro_rules! attribute_table {
    ($($variant:ident = $cka:ident: $kind:ident,)*) => {
        /// An attribute with its value, typed for every attribute of PKCS #11 v3.2;
        /// [`Attribute::Raw`] carries vendor-defined and unknown ones.
        ///
        /// Sensitive values (`CKA_VALUE`, private key components, seeds and ratchet
        /// state) are [`SecretBytes`], wiped when dropped and redacted in `Debug`.
        #[derive(Clone, Debug, PartialEq, Eq)]
        #[non_exhaustive]
        pub enum Attribute {
            $(
                #[doc = concat!("`", stringify!($cka), "`: ", kind_doc!($kind), ".")]
                $variant(kind_type!($kind)),
            )*
            /// Any attribute, as raw bytes: vendor-defined and unknown attributes, and
            /// text attributes whose value is not UTF-8.
            Raw {
                /// The attribute type.
                attribute_type: AttributeType,
                /// The value's bytes (wiped when dropped: their meaning is unknown).
                value: SecretBytes,
            },
        }

        #[allow(non_upper_case_globals)]
        impl AttributeType {
            $(
                #[doc = concat!("`", stringify!($cka), "`: ", kind_doc!($kind), ".")]
                pub const $variant: AttributeType = AttributeType(ffi::$cka);
            )*
        }

        /// Every attribute of the table: value and name.
        #[cfg_attr(not(test), allow(dead_code))]
        const TABLE: &[(CK_ATTRIBUTE_TYPE, &str)] = &[$((ffi::$cka, stringify!($cka)),)*];

        /// The layout of attribute `ty`'s value: raw bytes for attributes the table
        /// does not know.
        pub(crate) fn shape_of(ty: CK_ATTRIBUTE_TYPE) -> Shape {
            match ty {
                $(ffi::$cka => <kind_type!($kind) as Value>::SHAPE,)*
                _ => Shape::Bytes,
            }
        }

        impl Attribute {
            /// The attribute type.
            pub fn attribute_type(&self) -> AttributeType {
                match self {
                    $(Attribute::$variant(_) => AttributeType::$variant,)*
                    Attribute::Raw { attribute_type, .. } => *attribute_type,
                }
            }

            fn access(&self) -> &dyn Access {
                match self {
                    $(Attribute::$variant(value) => value,)*
                    Attribute::Raw { value, .. } => value,
                }
            }

            fn encode_into<'a>(&'a self, template: &mut InTemplate<'a>) {
                match self {
                    $(Attribute::$variant(value) => Value::encode(value, ffi::$cka, template),)*
                    Attribute::Raw {
                        attribute_type,
                        value,
                    } => template.bytes(attribute_type.0, value.as_bytes()),
                }
            }

            /// Decodes what the engine read for attribute `ty`.
            pub(crate) fn decode(ty: CK_ATTRIBUTE_TYPE, fetched: Fetched<'_>) -> Result<Attribute> {
                match ty {
                    $(ffi::$cka => decode_as::<kind_type!($kind)>(ty, fetched, Attribute::$variant),)*
                    _ => match fetched {
                        Fetched::Bytes(bytes) => Ok(Attribute::Raw {
                            attribute_type: AttributeType(ty),
                            value: SecretBytes::new(bytes.to_vec()),
                        }),
                        Fetched::Template(_) => Err(Error::ModuleContract {
                            function: "C_GetAttributeValue",
                            what: format!("{}: an unexpected nested template", AttributeType(ty)),
                        }),
                    },
                }
            }
        }
    };
}

attribute_table! {
    Class = CKA_CLASS: Class,
    Token = CKA_TOKEN: Bool,
    Private = CKA_PRIVATE: Bool,
    Label = CKA_LABEL: Utf8,
    UniqueId = CKA_UNIQUE_ID: Utf8,
    Application = CKA_APPLICATION: Utf8,
    Value = CKA_VALUE: Secret,
    ObjectId = CKA_OBJECT_ID: Bytes,
    CertificateType = CKA_CERTIFICATE_TYPE: CertType,
    Issuer = CKA_ISSUER: Bytes,
    SerialNumber = CKA_SERIAL_NUMBER: Bytes,
    AcIssuer = CKA_AC_ISSUER: Bytes,
    Owner = CKA_OWNER: Bytes,
    AttrTypes = CKA_ATTR_TYPES: Bytes,
    Trusted = CKA_TRUSTED: Bool,
    CertificateCategory = CKA_CERTIFICATE_CATEGORY: Ulong,
    JavaMidpSecurityDomain = CKA_JAVA_MIDP_SECURITY_DOMAIN: Ulong,
    Url = CKA_URL: Utf8,
    HashOfSubjectPublicKey = CKA_HASH_OF_SUBJECT_PUBLIC_KEY: Bytes,
    HashOfIssuerPublicKey = CKA_HASH_OF_ISSUER_PUBLIC_KEY: Bytes,
    NameHashAlgorithm = CKA_NAME_HASH_ALGORITHM: Mech,
    CheckValue = CKA_CHECK_VALUE: Bytes,
    KeyType = CKA_KEY_TYPE: KeyType,
    Subject = CKA_SUBJECT: Bytes,
    Id = CKA_ID: Bytes,
    Sensitive = CKA_SENSITIVE: Bool,
    Encrypt = CKA_ENCRYPT: Bool,
    Decrypt = CKA_DECRYPT: Bool,
    Wrap = CKA_WRAP: Bool,
    Unwrap = CKA_UNWRAP: Bool,
    Sign = CKA_SIGN: Bool,
    SignRecover = CKA_SIGN_RECOVER: Bool,
    Verify = CKA_VERIFY: Bool,
    VerifyRecover = CKA_VERIFY_RECOVER: Bool,
    Derive = CKA_DERIVE: Bool,
    StartDate = CKA_START_DATE: Date,
    EndDate = CKA_END_DATE: Date,
    Modulus = CKA_MODULUS: BigInt,
    ModulusBits = CKA_MODULUS_BITS: Ulong,
    PublicExponent = CKA_PUBLIC_EXPONENT: BigInt,
    PrivateExponent = CKA_PRIVATE_EXPONENT: Secret,
    Prime1 = CKA_PRIME_1: Secret,
    Prime2 = CKA_PRIME_2: Secret,
    Exponent1 = CKA_EXPONENT_1: Secret,
    Exponent2 = CKA_EXPONENT_2: Secret,
    Coefficient = CKA_COEFFICIENT: Secret,
    PublicKeyInfo = CKA_PUBLIC_KEY_INFO: Bytes,
    Prime = CKA_PRIME: BigInt,
    Subprime = CKA_SUBPRIME: BigInt,
    Base = CKA_BASE: BigInt,
    PrimeBits = CKA_PRIME_BITS: Ulong,
    SubprimeBits = CKA_SUBPRIME_BITS: Ulong,
    ValueBits = CKA_VALUE_BITS: Ulong,
    ValueLen = CKA_VALUE_LEN: Ulong,
    Extractable = CKA_EXTRACTABLE: Bool,
    Local = CKA_LOCAL: Bool,
    NeverExtractable = CKA_NEVER_EXTRACTABLE: Bool,
    AlwaysSensitive = CKA_ALWAYS_SENSITIVE: Bool,
    KeyGenMechanism = CKA_KEY_GEN_MECHANISM: Mech,
    Modifiable = CKA_MODIFIABLE: Bool,
    Copyable = CKA_COPYABLE: Bool,
    Destroyable = CKA_DESTROYABLE: Bool,
    EcParams = CKA_EC_PARAMS: Bytes,
    EcPoint = CKA_EC_POINT: Bytes,
    SecondaryAuth = CKA_SECONDARY_AUTH: Bool,
    AuthPinFlags = CKA_AUTH_PIN_FLAGS: Ulong,
    AlwaysAuthenticate = CKA_ALWAYS_AUTHENTICATE: Bool,
    WrapWithTrusted = CKA_WRAP_WITH_TRUSTED: Bool,
    OtpFormat = CKA_OTP_FORMAT: Ulong,
    OtpLength = CKA_OTP_LENGTH: Ulong,
    OtpTimeInterval = CKA_OTP_TIME_INTERVAL: Ulong,
    OtpUserFriendlyMode = CKA_OTP_USER_FRIENDLY_MODE: Bool,
    OtpChallengeRequirement = CKA_OTP_CHALLENGE_REQUIREMENT: Ulong,
    OtpTimeRequirement = CKA_OTP_TIME_REQUIREMENT: Ulong,
    OtpCounterRequirement = CKA_OTP_COUNTER_REQUIREMENT: Ulong,
    OtpPinRequirement = CKA_OTP_PIN_REQUIREMENT: Ulong,
    OtpUserIdentifier = CKA_OTP_USER_IDENTIFIER: Utf8,
    OtpServiceIdentifier = CKA_OTP_SERVICE_IDENTIFIER: Utf8,
    OtpServiceLogo = CKA_OTP_SERVICE_LOGO: Bytes,
    OtpServiceLogoType = CKA_OTP_SERVICE_LOGO_TYPE: Utf8,
    OtpCounter = CKA_OTP_COUNTER: Bytes,
    OtpTime = CKA_OTP_TIME: Utf8,
    Gostr3410Params = CKA_GOSTR3410_PARAMS: Bytes,
    Gostr3411Params = CKA_GOSTR3411_PARAMS: Bytes,
    Gost28147Params = CKA_GOST28147_PARAMS: Bytes,
    HwFeatureType = CKA_HW_FEATURE_TYPE: Ulong,
    ResetOnInit = CKA_RESET_ON_INIT: Bool,
    HasReset = CKA_HAS_RESET: Bool,
    PixelX = CKA_PIXEL_X: Ulong,
    PixelY = CKA_PIXEL_Y: Ulong,
    Resolution = CKA_RESOLUTION: Ulong,
    CharRows = CKA_CHAR_ROWS: Ulong,
    CharColumns = CKA_CHAR_COLUMNS: Ulong,
    Color = CKA_COLOR: Bool,
    BitsPerPixel = CKA_BITS_PER_PIXEL: Ulong,
    CharSets = CKA_CHAR_SETS: Utf8,
    EncodingMethods = CKA_ENCODING_METHODS: Utf8,
    MimeTypes = CKA_MIME_TYPES: Utf8,
    MechanismType = CKA_MECHANISM_TYPE: Mech,
    RequiredCmsAttributes = CKA_REQUIRED_CMS_ATTRIBUTES: Bytes,
    DefaultCmsAttributes = CKA_DEFAULT_CMS_ATTRIBUTES: Bytes,
    SupportedCmsAttributes = CKA_SUPPORTED_CMS_ATTRIBUTES: Bytes,
    ProfileId = CKA_PROFILE_ID: Ulong,
    X2ratchetBag = CKA_X2RATCHET_BAG: Secret,
    X2ratchetBagsize = CKA_X2RATCHET_BAGSIZE: Ulong,
    X2ratchetBobs1stmsg = CKA_X2RATCHET_BOBS1STMSG: Bool,
    X2ratchetCkr = CKA_X2RATCHET_CKR: Secret,
    X2ratchetCks = CKA_X2RATCHET_CKS: Secret,
    X2ratchetDhp = CKA_X2RATCHET_DHP: Secret,
    X2ratchetDhr = CKA_X2RATCHET_DHR: Secret,
    X2ratchetDhs = CKA_X2RATCHET_DHS: Secret,
    X2ratchetHkr = CKA_X2RATCHET_HKR: Secret,
    X2ratchetHks = CKA_X2RATCHET_HKS: Secret,
    X2ratchetIsalice = CKA_X2RATCHET_ISALICE: Bool,
    X2ratchetNhkr = CKA_X2RATCHET_NHKR: Secret,
    X2ratchetNhks = CKA_X2RATCHET_NHKS: Secret,
    X2ratchetNr = CKA_X2RATCHET_NR: Ulong,
    X2ratchetNs = CKA_X2RATCHET_NS: Ulong,
    X2ratchetPns = CKA_X2RATCHET_PNS: Ulong,
    X2ratchetRk = CKA_X2RATCHET_RK: Secret,
    HssLevels = CKA_HSS_LEVELS: Ulong,
    HssLmsType = CKA_HSS_LMS_TYPE: Ulong,
    HssLmotsType = CKA_HSS_LMOTS_TYPE: Ulong,
    HssLmsTypes = CKA_HSS_LMS_TYPES: Ulongs,
    HssLmotsTypes = CKA_HSS_LMOTS_TYPES: Ulongs,
    HssKeysRemaining = CKA_HSS_KEYS_REMAINING: Ulong,
    ParameterSet = CKA_PARAMETER_SET: Ulong,
    ObjectValidationFlags = CKA_OBJECT_VALIDATION_FLAGS: Ulong,
    ValidationType = CKA_VALIDATION_TYPE: Ulong,
    ValidationVersion = CKA_VALIDATION_VERSION: Version,
    ValidationLevel = CKA_VALIDATION_LEVEL: Ulong,
    ValidationModuleId = CKA_VALIDATION_MODULE_ID: Utf8,
    ValidationFlag = CKA_VALIDATION_FLAG: Ulong,
    ValidationAuthorityType = CKA_VALIDATION_AUTHORITY_TYPE: Ulong,
    ValidationCountry = CKA_VALIDATION_COUNTRY: Utf8,
    ValidationCertificateIdentifier = CKA_VALIDATION_CERTIFICATE_IDENTIFIER: Utf8,
    ValidationCertificateUri = CKA_VALIDATION_CERTIFICATE_URI: Utf8,
    ValidationVendorUri = CKA_VALIDATION_VENDOR_URI: Utf8,
    ValidationProfile = CKA_VALIDATION_PROFILE: Utf8,
    EncapsulateTemplate = CKA_ENCAPSULATE_TEMPLATE: Template,
    DecapsulateTemplate = CKA_DECAPSULATE_TEMPLATE: Template,
    TrustServerAuth = CKA_TRUST_SERVER_AUTH: Ulong,
    TrustClientAuth = CKA_TRUST_CLIENT_AUTH: Ulong,
    TrustCodeSigning = CKA_TRUST_CODE_SIGNING: Ulong,
    TrustEmailProtection = CKA_TRUST_EMAIL_PROTECTION: Ulong,
    TrustIpsecIke = CKA_TRUST_IPSEC_IKE: Ulong,
    TrustTimeStamping = CKA_TRUST_TIME_STAMPING: Ulong,
    TrustOcspSigning = CKA_TRUST_OCSP_SIGNING: Ulong,
    Encapsulate = CKA_ENCAPSULATE: Bool,
    Decapsulate = CKA_DECAPSULATE: Bool,
    HashOfCertificate = CKA_HASH_OF_CERTIFICATE: Bytes,
    PublicCrc64Value = CKA_PUBLIC_CRC64_VALUE: Bytes,
    Seed = CKA_SEED: Secret,
    WrapTemplate = CKA_WRAP_TEMPLATE: Template,
    UnwrapTemplate = CKA_UNWRAP_TEMPLATE: Template,
    DeriveTemplate = CKA_DERIVE_TEMPLATE: Template,
    AllowedMechanisms = CKA_ALLOWED_MECHANISMS: Mechs,
}

impl Attribute {
    /// A raw attribute: any type (vendor-defined ones included), the value's bytes
    /// passed as they are.
    pub fn raw(attribute_type: impl Into<AttributeType>, value: impl Into<Vec<u8>>) -> Attribute {
        Attribute::Raw {
            attribute_type: attribute_type.into(),
            value: SecretBytes::new(value.into()),
        }
    }

    /// The value of a `CK_BBOOL` attribute.
    pub fn as_bool(&self) -> Option<bool> {
        self.access().as_bool()
    }

    /// The value of a `CK_ULONG` attribute (object classes, key types, mechanism types
    /// and other enumerations as their raw value).
    pub fn as_ulong(&self) -> Option<CK_ULONG> {
        self.access().as_ulong()
    }

    /// The bytes of a byte-string, big-integer, secret, text, date or raw attribute.
    pub fn as_bytes(&self) -> Option<&[u8]> {
        self.access().as_bytes()
    }

    /// The value of a text attribute.
    pub fn as_str(&self) -> Option<&str> {
        self.access().as_str()
    }

    /// The entries of a nested template (`CKA_WRAP_TEMPLATE`...).
    pub fn as_template(&self) -> Option<&[Attribute]> {
        self.access().as_template()
    }
}

/// What `C_GetAttributeValue` gave for one attribute of an object.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttributeResult {
    /// The value.
    Value(Attribute),
    /// `CKR_ATTRIBUTE_SENSITIVE`: the object does not reveal the value (a sensitive
    /// or unextractable key's `CKA_VALUE`...).
    Sensitive,
    /// `CKR_ATTRIBUTE_TYPE_INVALID`: the object has no such attribute.
    Invalid,
    /// `CK_UNAVAILABLE_INFORMATION` without a reason from the module.
    Unavailable,
}

impl AttributeResult {
    /// The value, if there is one.
    pub fn value(&self) -> Option<&Attribute> {
        match self {
            AttributeResult::Value(attribute) => Some(attribute),
            _ => None,
        }
    }

    /// The value, if there is one.
    pub fn into_value(self) -> Option<Attribute> {
        match self {
            AttributeResult::Value(attribute) => Some(attribute),
            _ => None,
        }
    }

    /// Turns an engine outcome for attribute `ty` into a result.
    pub(crate) fn from_outcome(
        ty: CK_ATTRIBUTE_TYPE,
        outcome: Outcome<'_>,
    ) -> Result<AttributeResult> {
        Ok(match outcome {
            Outcome::Value(fetched) => AttributeResult::Value(Attribute::decode(ty, fetched)?),
            Outcome::Sensitive => AttributeResult::Sensitive,
            Outcome::Invalid => AttributeResult::Invalid,
            Outcome::Unavailable => AttributeResult::Unavailable,
        })
    }
}

/// Lays `attributes` out as an input template (values borrowed, not copied).
pub(crate) fn encode(attributes: &[Attribute]) -> InTemplate<'_> {
    let mut template = InTemplate::with_capacity(attributes.len());
    for attribute in attributes {
        attribute.encode_into(&mut template);
    }
    template
}

/// The types of `attributes`, for messages (never their values, which may be secret):
/// `"CKA_CLASS, CKA_LABEL"`.
pub(crate) fn describe_types(attributes: &[Attribute]) -> String {
    if attributes.is_empty() {
        return "an empty template".into();
    }
    attributes
        .iter()
        .map(|attribute| attribute.attribute_type().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_standard_attribute_has_an_entry_in_the_table() {
        let mut missing = Vec::new();
        for (index, &(value, name)) in ffi::CKA_NAMES.iter().enumerate() {
            let alias = ffi::CKA_NAMES[..index].iter().any(|&(v, _)| v == value);
            if alias || value == ffi::CKA_VENDOR_DEFINED {
                continue;
            }
            if !TABLE.iter().any(|&(v, _)| v == value) {
                missing.push(name);
            }
        }
        assert!(
            missing.is_empty(),
            "not in the attribute table: {missing:?}"
        );
    }

    #[test]
    fn table_names_match_the_standard_names() {
        for &(value, name) in TABLE {
            assert_eq!(ffi::cka_name(value), Some(name), "0x{value:X}");
            assert_eq!(AttributeType(value).to_string(), name);
        }
        let distinct: std::collections::HashSet<_> = TABLE.iter().map(|&(v, _)| v).collect();
        assert_eq!(distinct.len(), TABLE.len(), "a value appears twice");
    }

    #[test]
    fn fixed_sizes_derive_from_the_kinds() {
        assert!(AttributeType::Token.is_fixed_size());
        assert!(AttributeType::Class.is_fixed_size());
        assert!(AttributeType::StartDate.is_fixed_size());
        assert!(AttributeType::ValidationVersion.is_fixed_size());
        assert!(!AttributeType::Label.is_fixed_size());
        assert!(!AttributeType::WrapTemplate.is_fixed_size());
        assert!(!AttributeType(0x8000_1234).is_fixed_size());
        assert_eq!(shape_of(ffi::CKA_ALLOWED_MECHANISMS), Shape::Ulongs);
        assert_eq!(shape_of(ffi::CKA_WRAP_TEMPLATE), Shape::Template);
        assert_eq!(
            shape_of(ffi::CKA_MODULUS_BITS),
            Shape::Fixed {
                size: ULONG_SIZE,
                empty_ok: false
            }
        );
    }

    #[test]
    fn vendor_and_unknown_values_are_kept() {
        let vendor = AttributeType(ffi::CKA_VENDOR_DEFINED | 0x1234);
        assert!(vendor.is_vendor_defined());
        assert_eq!(vendor.to_string(), "CKA(0x80001234)");
        assert_eq!(
            ObjectClass::from_raw(ffi::CKO_PRIVATE_KEY),
            ObjectClass::PrivateKey
        );
        assert_eq!(
            ObjectClass::from_raw(0x8000_0001),
            ObjectClass::Vendor(0x8000_0001)
        );
        assert_eq!(ObjectClass::from_raw(0x77).raw(), 0x77);
        assert_eq!(ObjectClass::Unknown(ffi::CKO_DATA), ObjectClass::Data);
        assert_eq!(KeyType::from_raw(ffi::CKK_ECDSA), KeyType::Ec);
        assert_eq!(KeyType::Aes.name(), Some("CKK_AES"));
        assert_eq!(
            format!("{:?}", KeyType::from_raw(0x9999)),
            "CKK(0x00009999)"
        );
        assert_eq!(CertificateType::X509.raw(), ffi::CKC_X_509);
        assert_eq!(
            AttributeType::Class,
            AttributeType::from(ffi::CKA_CLASS),
            "constants are the raw values"
        );
    }

    #[test]
    fn dates_are_checked_and_kept_raw() {
        let date = Date::new(2024, 2, 29).unwrap();
        assert_eq!(date.as_bytes(), b"20240229");
        assert_eq!(date.to_string(), "2024-02-29");
        assert!(Date::new(2024, 13, 1).is_err());
        assert!(Date::new(10000, 1, 1).is_err());
        let junk = Date::from_bytes(*b"20x40101");
        assert_eq!(junk.year(), None);
        assert_eq!(junk.month(), Some(1));
        let ck: ffi::CK_DATE = date.into();
        assert_eq!(Date::from(ck), date);
    }

    #[test]
    fn accessors_follow_the_kind() {
        assert_eq!(Attribute::Token(true).as_bool(), Some(true));
        assert_eq!(
            Attribute::Class(ObjectClass::SecretKey).as_ulong(),
            Some(ffi::CKO_SECRET_KEY)
        );
        assert_eq!(Attribute::Label("x".into()).as_str(), Some("x"));
        assert_eq!(Attribute::Id(vec![1, 2]).as_bytes(), Some(&[1u8, 2][..]));
        assert_eq!(Attribute::Token(true).as_bytes(), None);
        let nested = Attribute::WrapTemplate(vec![Attribute::Token(false)]);
        assert_eq!(nested.as_template().map(<[_]>::len), Some(1));
        assert_eq!(
            Attribute::raw(0x8000_0001, vec![7]).attribute_type(),
            AttributeType(0x8000_0001)
        );
        let secret = Attribute::Value(SecretBytes::new(b"top secret".to_vec()));
        assert!(!format!("{secret:?}").contains("top secret"));
    }

    #[test]
    fn messages_name_types_never_values() {
        let template = [
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::Value(SecretBytes::new(b"hunter2".to_vec())),
        ];
        let text = describe_types(&template);
        assert_eq!(text, "CKA_CLASS, CKA_VALUE");
        assert_eq!(describe_types(&[]), "an empty template");
    }

    #[test]
    fn templates_encode_every_kind() {
        let template = [
            Attribute::Class(ObjectClass::Data),
            Attribute::Token(false),
            Attribute::Label("label".into()),
            Attribute::StartDate(None),
            Attribute::EndDate(Some(Date::new(2030, 1, 1).unwrap())),
            Attribute::AllowedMechanisms(vec![MechanismType(ffi::CKM_AES_CBC)]),
            Attribute::HssLmsTypes(vec![1, 2]),
            Attribute::ValidationVersion(Version { major: 3, minor: 2 }),
            Attribute::WrapTemplate(vec![Attribute::Token(true)]),
            Attribute::raw(0x8000_0001, vec![1, 2, 3]),
        ];
        let mut encoded = encode(&template);
        assert_eq!(encoded.len(), template.len());
        let (pointer, count) = encoded.as_ck();
        assert!(!pointer.is_null());
        assert_eq!(count as usize, template.len());
    }
}
