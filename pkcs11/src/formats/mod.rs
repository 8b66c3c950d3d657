//! Standard key and certificate formats: keys made on a token in the formats the rest of
//! the ecosystem speaks (rustls, RustCrypto, OpenSSL), and theirs brought to the token.
//!
//! - Public keys as `SubjectPublicKeyInfo` DER (RFC 5280): [`PublicKey`],
//!   [`Session::export_spki`], [`Session::import_spki`]. RSA, EC (P-256, P-384, P-521 and
//!   any other curve by its parameters), Ed25519 / Ed448, X25519 / X448, ML-DSA and
//!   ML-KEM.
//! - Private keys from PKCS #8 DER (RFC 5208 / RFC 5958): [`private_key_template`],
//!   [`Session::import_pkcs8`]. Every secret parsed is held in wiping buffers.
//! - EC parameters (`CKA_EC_PARAMS`) from curve names and OIDs: [`EcCurve`],
//!   [`EcParams`], and key pair generation on a named curve in one call,
//!   [`Session::generate_ec_key_pair`].
//! - X.509 certificate objects: [`X509Certificate`],
//!   [`Session::create_x509_certificate`]; search them with
//!   [`Session::find_certificates`](crate::Session::find_certificates).
//!
//! DER is read and written by the RustCrypto `der` / `spki` / `pkcs8` / `x509-cert`
//! crates (the default-on `formats` feature), not by a hand-written codec.
//!
//! ```no_run
//! use pkcs11::formats::{EcCurve, PublicKey};
//! use pkcs11::{Attribute, Pkcs11};
//!
//! # let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
//! # let session = p11.slots_with_token()?.remove(0).open_rw_session()?;
//! let (public, private) = session.generate_ec_key_pair(
//!     EcCurve::P256,
//!     &[Attribute::Verify(true)],
//!     &[Attribute::Sign(true)],
//! )?;
//! let spki: Vec<u8> = session.export_spki(public)?; // for p256, rustls, OpenSSL...
//! assert!(matches!(PublicKey::from_spki_der(&spki)?, PublicKey::Ec { .. }));
//! # Ok::<(), pkcs11::Error>(())
//! ```

use core::fmt;
use core::str::FromStr;

use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, PrintableStringRef};
use der::{Decode, Encode, Tag, Tagged};

use crate::attribute::{Attribute, KeyType};
use crate::error::{Error, Result};
use crate::mechanism::{Mechanism, MechanismType};
use crate::object::ObjectHandle;
use crate::session::Session;

mod certificate;
mod private;
mod public;

pub use certificate::X509Certificate;
pub use private::private_key_template;
pub use public::PublicKey;

/// Object identifiers used by the formats (facts of RFC 3279, 5480, 5639, 8410, FIPS 204
/// / 203 and the NIST algorithm registry).
pub(crate) mod oids {
    use const_oid::ObjectIdentifier as Oid;

    /// `rsaEncryption` (PKCS #1).
    pub(crate) const RSA_ENCRYPTION: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    /// `id-ecPublicKey` (RFC 5480).
    pub(crate) const EC_PUBLIC_KEY: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    /// `secp256r1` / `prime256v1`.
    pub(crate) const SECP256R1: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    /// `secp384r1`.
    pub(crate) const SECP384R1: Oid = Oid::new_unwrap("1.3.132.0.34");
    /// `secp521r1`.
    pub(crate) const SECP521R1: Oid = Oid::new_unwrap("1.3.132.0.35");
    /// `secp256k1`.
    pub(crate) const SECP256K1: Oid = Oid::new_unwrap("1.3.132.0.10");
    /// `brainpoolP256r1` (RFC 5639).
    pub(crate) const BRAINPOOL_P256R1: Oid = Oid::new_unwrap("1.3.36.3.3.2.8.1.1.7");
    /// `brainpoolP384r1`.
    pub(crate) const BRAINPOOL_P384R1: Oid = Oid::new_unwrap("1.3.36.3.3.2.8.1.1.11");
    /// `brainpoolP512r1`.
    pub(crate) const BRAINPOOL_P512R1: Oid = Oid::new_unwrap("1.3.36.3.3.2.8.1.1.13");
    /// `id-X25519` (RFC 8410).
    pub(crate) const X25519: Oid = Oid::new_unwrap("1.3.101.110");
    /// `id-X448`.
    pub(crate) const X448: Oid = Oid::new_unwrap("1.3.101.111");
    /// `id-Ed25519`.
    pub(crate) const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    /// `id-Ed448`.
    pub(crate) const ED448: Oid = Oid::new_unwrap("1.3.101.113");
    /// `id-ml-dsa-44` (FIPS 204).
    pub(crate) const ML_DSA_44: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.17");
    /// `id-ml-dsa-65`.
    pub(crate) const ML_DSA_65: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.18");
    /// `id-ml-dsa-87`.
    pub(crate) const ML_DSA_87: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.3.19");
    /// `id-alg-ml-kem-512` (FIPS 203).
    pub(crate) const ML_KEM_512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.4.1");
    /// `id-alg-ml-kem-768`.
    pub(crate) const ML_KEM_768: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.4.2");
    /// `id-alg-ml-kem-1024`.
    pub(crate) const ML_KEM_1024: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.4.3");
}

/// Rust-side bad input: `what` and the DER reader's reason.
pub(crate) fn bad_der(what: &str, error: der::Error) -> Error {
    Error::InvalidInput {
        what: format!("{what}: {error}"),
    }
}

/// Rust-side bad input.
pub(crate) fn invalid(what: impl Into<String>) -> Error {
    Error::InvalidInput { what: what.into() }
}

/// The family of an elliptic curve: which key type and key-pair mechanism it uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CurveFamily {
    /// Short Weierstrass curves (`CKK_EC`, ECDSA / ECDH).
    Weierstrass,
    /// Twisted Edwards curves (`CKK_EC_EDWARDS`, EdDSA).
    Edwards,
    /// Montgomery curves (`CKK_EC_MONTGOMERY`, X25519 / X448 key agreement).
    Montgomery,
}

/// The named elliptic curves this crate knows by name and OID.
///
/// ```
/// use pkcs11::formats::EcCurve;
///
/// let curve: EcCurve = "prime256v1".parse()?;
/// assert_eq!(curve, EcCurve::P256);
/// assert_eq!(curve.oid(), "1.2.840.10045.3.1.7");
/// assert_eq!(curve.ec_params_der(), [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]);
/// assert_eq!(EcCurve::from_oid("1.3.101.112"), Some(EcCurve::Ed25519));
/// # Ok::<(), pkcs11::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EcCurve {
    /// NIST P-256, also `secp256r1` and `prime256v1`.
    P256,
    /// NIST P-384 (`secp384r1`).
    P384,
    /// NIST P-521 (`secp521r1`).
    P521,
    /// `secp256k1`.
    Secp256k1,
    /// `brainpoolP256r1` (RFC 5639).
    BrainpoolP256r1,
    /// `brainpoolP384r1`.
    BrainpoolP384r1,
    /// `brainpoolP512r1`.
    BrainpoolP512r1,
    /// Ed25519 (`edwards25519`, RFC 8032).
    Ed25519,
    /// Ed448 (`edwards448`).
    Ed448,
    /// X25519 (`curve25519`, RFC 7748).
    X25519,
    /// X448 (`curve448`).
    X448,
}

impl EcCurve {
    /// Every curve of the enumeration.
    pub const ALL: [EcCurve; 11] = [
        EcCurve::P256,
        EcCurve::P384,
        EcCurve::P521,
        EcCurve::Secp256k1,
        EcCurve::BrainpoolP256r1,
        EcCurve::BrainpoolP384r1,
        EcCurve::BrainpoolP512r1,
        EcCurve::Ed25519,
        EcCurve::Ed448,
        EcCurve::X25519,
        EcCurve::X448,
    ];

    pub(crate) fn object_identifier(self) -> ObjectIdentifier {
        match self {
            EcCurve::P256 => oids::SECP256R1,
            EcCurve::P384 => oids::SECP384R1,
            EcCurve::P521 => oids::SECP521R1,
            EcCurve::Secp256k1 => oids::SECP256K1,
            EcCurve::BrainpoolP256r1 => oids::BRAINPOOL_P256R1,
            EcCurve::BrainpoolP384r1 => oids::BRAINPOOL_P384R1,
            EcCurve::BrainpoolP512r1 => oids::BRAINPOOL_P512R1,
            EcCurve::Ed25519 => oids::ED25519,
            EcCurve::Ed448 => oids::ED448,
            EcCurve::X25519 => oids::X25519,
            EcCurve::X448 => oids::X448,
        }
    }

    fn from_object_identifier(oid: &ObjectIdentifier) -> Option<EcCurve> {
        EcCurve::ALL
            .into_iter()
            .find(|curve| curve.object_identifier() == *oid)
    }

    /// The curve's object identifier in dotted form (`"1.2.840.10045.3.1.7"`).
    pub fn oid(self) -> String {
        self.object_identifier().to_string()
    }

    /// The curve with object identifier `oid` (dotted form), if this crate knows it.
    pub fn from_oid(oid: &str) -> Option<EcCurve> {
        EcCurve::from_object_identifier(&ObjectIdentifier::new(oid).ok()?)
    }

    /// The curve's usual name: `"P-256"`, `"secp256k1"`, `"brainpoolP256r1"`,
    /// `"Ed25519"`, `"X448"`...
    pub const fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
            EcCurve::Secp256k1 => "secp256k1",
            EcCurve::BrainpoolP256r1 => "brainpoolP256r1",
            EcCurve::BrainpoolP384r1 => "brainpoolP384r1",
            EcCurve::BrainpoolP512r1 => "brainpoolP512r1",
            EcCurve::Ed25519 => "Ed25519",
            EcCurve::Ed448 => "Ed448",
            EcCurve::X25519 => "X25519",
            EcCurve::X448 => "X448",
        }
    }

    /// The curve named `name`, ignoring case: the names of [`EcCurve::name`] and the
    /// aliases `secp256r1`, `prime256v1`, `nistp256`, `P256`, `secp384r1`, `secp521r1`,
    /// `edwards25519`, `edwards448`, `curve25519`, `curve448`...
    pub fn from_name(name: &str) -> Option<EcCurve> {
        let name = name.to_ascii_lowercase();
        Some(match name.as_str() {
            "p-256" | "p256" | "secp256r1" | "prime256v1" | "nistp256" => EcCurve::P256,
            "p-384" | "p384" | "secp384r1" | "nistp384" => EcCurve::P384,
            "p-521" | "p521" | "secp521r1" | "nistp521" => EcCurve::P521,
            "secp256k1" => EcCurve::Secp256k1,
            "brainpoolp256r1" => EcCurve::BrainpoolP256r1,
            "brainpoolp384r1" => EcCurve::BrainpoolP384r1,
            "brainpoolp512r1" => EcCurve::BrainpoolP512r1,
            "ed25519" | "edwards25519" => EcCurve::Ed25519,
            "ed448" | "edwards448" => EcCurve::Ed448,
            "x25519" | "curve25519" => EcCurve::X25519,
            "x448" | "curve448" => EcCurve::X448,
            _ => return None,
        })
    }

    /// The curve's family (which key type and mechanisms it uses).
    pub const fn family(self) -> CurveFamily {
        match self {
            EcCurve::Ed25519 | EcCurve::Ed448 => CurveFamily::Edwards,
            EcCurve::X25519 | EcCurve::X448 => CurveFamily::Montgomery,
            _ => CurveFamily::Weierstrass,
        }
    }

    /// The key type of keys on this curve: `CKK_EC`, `CKK_EC_EDWARDS` or
    /// `CKK_EC_MONTGOMERY`.
    pub const fn key_type(self) -> KeyType {
        match self.family() {
            CurveFamily::Weierstrass => KeyType::Ec,
            CurveFamily::Edwards => KeyType::EcEdwards,
            CurveFamily::Montgomery => KeyType::EcMontgomery,
        }
    }

    /// The key-pair generation mechanism for this curve: `CKM_EC_KEY_PAIR_GEN`,
    /// `CKM_EC_EDWARDS_KEY_PAIR_GEN` or `CKM_EC_MONTGOMERY_KEY_PAIR_GEN`.
    pub const fn key_pair_gen_mechanism(self) -> MechanismType {
        MechanismType(match self.family() {
            CurveFamily::Weierstrass => ffi::CKM_EC_KEY_PAIR_GEN,
            CurveFamily::Edwards => ffi::CKM_EC_EDWARDS_KEY_PAIR_GEN,
            CurveFamily::Montgomery => ffi::CKM_EC_MONTGOMERY_KEY_PAIR_GEN,
        })
    }

    /// The size of a public key in bytes: for Weierstrass curves, of one coordinate
    /// (the field size; an uncompressed point has `1 + 2 ×` this); for Edwards and
    /// Montgomery curves, of the whole public key (RFC 8032 / RFC 7748).
    pub const fn size(self) -> usize {
        match self {
            EcCurve::P256
            | EcCurve::Secp256k1
            | EcCurve::BrainpoolP256r1
            | EcCurve::Ed25519
            | EcCurve::X25519 => 32,
            EcCurve::P384 | EcCurve::BrainpoolP384r1 => 48,
            EcCurve::P521 => 66,
            EcCurve::BrainpoolP512r1 => 64,
            EcCurve::Ed448 => 57,
            EcCurve::X448 => 56,
        }
    }

    /// Whether `point` is a well-formed public key encoding on this curve: an
    /// uncompressed (`04 X Y`) or compressed (`02 X` / `03 X`) SEC 1 point for
    /// Weierstrass curves, a key of [`EcCurve::size`] bytes otherwise. Only the length
    /// and the leading byte are checked, not that the point is on the curve.
    pub fn is_point_encoding(self, point: &[u8]) -> bool {
        let size = self.size();
        match self.family() {
            CurveFamily::Weierstrass => match point.first() {
                Some(0x04) => point.len() == 1 + 2 * size,
                Some(0x02 | 0x03) => point.len() == 1 + size,
                _ => false,
            },
            _ => point.len() == size,
        }
    }

    /// The DER for `CKA_EC_PARAMS`: the curve's OID (`namedCurve`).
    pub fn ec_params_der(self) -> Vec<u8> {
        // Encoding a known OID cannot fail.
        self.object_identifier().to_der().unwrap_or_default()
    }

    /// The curve as a `CKA_EC_PARAMS` template attribute.
    pub fn ec_params_attribute(self) -> Attribute {
        Attribute::EcParams(self.ec_params_der())
    }
}

impl fmt::Display for EcCurve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EcCurve {
    type Err = Error;

    /// A curve by name ([`EcCurve::from_name`]) or dotted OID ([`EcCurve::from_oid`]).
    fn from_str(text: &str) -> Result<EcCurve> {
        EcCurve::from_name(text)
            .or_else(|| EcCurve::from_oid(text))
            .ok_or_else(|| invalid(format!("unknown elliptic curve name or OID {text:?}")))
    }
}

/// The value of `CKA_EC_PARAMS`: DER of an `ECParameters` choice (a named curve OID,
/// explicit parameters, `implicitlyCA`) or, for Edwards and Montgomery curves, the OID
/// or a `PrintableString` curve name (`"edwards25519"`) as PKCS #11 3.x allows.
///
/// The bytes are kept as they are; [`EcParams::curve`] names the curve when it is one
/// this crate knows, and unknown OIDs and explicit parameters stay usable raw.
///
/// ```
/// use pkcs11::formats::{EcCurve, EcParams};
///
/// let params = EcParams::from_der(&[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22])?;
/// assert_eq!(params.curve(), Some(EcCurve::P384));
/// let named = EcParams::from_der(b"\x13\x0cedwards25519")?;
/// assert_eq!(named.curve(), Some(EcCurve::Ed25519));
/// let other = EcParams::from_der(&[0x06, 0x03, 0x2a, 0x03, 0x04])?;
/// assert_eq!((other.curve(), other.oid().as_deref()), (None, Some("1.2.3.4")));
/// # Ok::<(), pkcs11::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct EcParams {
    der: Vec<u8>,
    curve: Option<EcCurve>,
}

impl EcParams {
    /// Parses `CKA_EC_PARAMS` DER: exactly one DER value (else
    /// [`Error::InvalidInput`] saying what is wrong).
    pub fn from_der(der: &[u8]) -> Result<EcParams> {
        let any = AnyRef::from_der(der).map_err(|e| bad_der("CKA_EC_PARAMS DER", e))?;
        let curve = match any.tag() {
            Tag::ObjectIdentifier => {
                let oid: ObjectIdentifier = any
                    .decode_as()
                    .map_err(|e| bad_der("CKA_EC_PARAMS object identifier", e))?;
                EcCurve::from_object_identifier(&oid)
            }
            Tag::PrintableString => {
                let name: PrintableStringRef<'_> = any
                    .decode_as()
                    .map_err(|e| bad_der("CKA_EC_PARAMS curve name", e))?;
                // Only the names PKCS #11 gives for these curves.
                match name.as_str() {
                    "edwards25519" => Some(EcCurve::Ed25519),
                    "edwards448" => Some(EcCurve::Ed448),
                    "curve25519" => Some(EcCurve::X25519),
                    "curve448" => Some(EcCurve::X448),
                    _ => None,
                }
            }
            _ => None,
        };
        Ok(EcParams {
            der: der.to_vec(),
            curve,
        })
    }

    /// The `namedCurve` parameters of `curve` (its OID).
    pub fn named(curve: EcCurve) -> EcParams {
        EcParams {
            der: curve.ec_params_der(),
            curve: Some(curve),
        }
    }

    /// The curve, if the parameters name one this crate knows.
    pub fn curve(&self) -> Option<EcCurve> {
        self.curve
    }

    /// The DER bytes, as given.
    pub fn as_der(&self) -> &[u8] {
        &self.der
    }

    /// The DER bytes.
    pub fn into_der(self) -> Vec<u8> {
        self.der
    }

    /// The OID in dotted form, when the parameters are a named-curve OID (known or not).
    pub fn oid(&self) -> Option<String> {
        let oid = ObjectIdentifier::from_der(&self.der).ok()?;
        Some(oid.to_string())
    }

    /// Whether the parameters are a `PrintableString` curve name (PKCS #11 3.x form for
    /// Edwards and Montgomery curves) rather than an OID.
    pub fn is_curve_name(&self) -> bool {
        self.der.first() == Some(&0x13)
    }

    /// The parameters as a `CKA_EC_PARAMS` template attribute.
    pub fn to_attribute(&self) -> Attribute {
        Attribute::EcParams(self.der.clone())
    }

    /// The parameters for an `AlgorithmIdentifier` of a key on this curve: the same
    /// DER, except that a curve name is turned into its OID.
    fn as_der_for_spki(&self) -> Vec<u8> {
        match self.curve {
            Some(curve) if self.is_curve_name() => curve.ec_params_der(),
            _ => self.der.clone(),
        }
    }
}

impl From<EcCurve> for EcParams {
    fn from(curve: EcCurve) -> EcParams {
        EcParams::named(curve)
    }
}

impl fmt::Debug for EcParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.curve, self.oid()) {
            (Some(curve), _) => write!(f, "EcParams({curve})"),
            (None, Some(oid)) => write!(f, "EcParams(OID {oid})"),
            (None, None) => write!(f, "EcParams({:02x?})", self.der),
        }
    }
}

/// Writes a parameter-set enumeration: variant = `CKP_*` constant, OID, public key size.
macro_rules! parameter_sets {
    (
        $(#[$meta:meta])*
        $name:ident, $what:literal {
            $($variant:ident = $ckp:ident, $oid:ident, $public_len:literal, $label:literal;)*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $(
                #[doc = concat!("`", stringify!($ckp), "`: ", $label, ".")]
                $variant,
            )*
        }

        impl $name {
            /// Every parameter set.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The `CKA_PARAMETER_SET` value.
            pub const fn raw(self) -> ffi::CK_ULONG {
                match self {
                    $($name::$variant => ffi::$ckp as ffi::CK_ULONG,)*
                }
            }

            /// The parameter set with `CKA_PARAMETER_SET` value `raw`.
            pub fn from_raw(raw: ffi::CK_ULONG) -> Option<$name> {
                match raw {
                    $(raw if raw == ffi::$ckp as ffi::CK_ULONG => Some($name::$variant),)*
                    _ => None,
                }
            }

            /// The algorithm OID of keys of this parameter set, dotted.
            pub fn oid(self) -> String {
                self.object_identifier().to_string()
            }

            pub(crate) fn object_identifier(self) -> ObjectIdentifier {
                match self {
                    $($name::$variant => oids::$oid,)*
                }
            }

            pub(crate) fn from_object_identifier(oid: &ObjectIdentifier) -> Option<$name> {
                $name::ALL.iter().copied().find(|set| set.object_identifier() == *oid)
            }

            /// The size of an encoded public key, in bytes.
            pub const fn public_key_len(self) -> usize {
                match self {
                    $($name::$variant => $public_len,)*
                }
            }

            /// The name (`"ML-DSA-65"`).
            pub const fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $label,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

parameter_sets! {
    /// An ML-DSA parameter set (FIPS 204): the `CKA_PARAMETER_SET` of `CKK_ML_DSA` keys.
    MlDsaParameterSet, "ML-DSA" {
        MlDsa44 = CKP_ML_DSA_44, ML_DSA_44, 1312, "ML-DSA-44";
        MlDsa65 = CKP_ML_DSA_65, ML_DSA_65, 1952, "ML-DSA-65";
        MlDsa87 = CKP_ML_DSA_87, ML_DSA_87, 2592, "ML-DSA-87";
    }
}

parameter_sets! {
    /// An ML-KEM parameter set (FIPS 203): the `CKA_PARAMETER_SET` of `CKK_ML_KEM` keys.
    MlKemParameterSet, "ML-KEM" {
        MlKem512 = CKP_ML_KEM_512, ML_KEM_512, 800, "ML-KEM-512";
        MlKem768 = CKP_ML_KEM_768, ML_KEM_768, 1184, "ML-KEM-768";
        MlKem1024 = CKP_ML_KEM_1024, ML_KEM_1024, 1568, "ML-KEM-1024";
    }
}

impl From<MlDsaParameterSet> for crate::mechanism::ParameterSet {
    fn from(set: MlDsaParameterSet) -> crate::mechanism::ParameterSet {
        crate::mechanism::ParameterSet(set.raw())
    }
}

impl From<MlKemParameterSet> for crate::mechanism::ParameterSet {
    fn from(set: MlKemParameterSet) -> crate::mechanism::ParameterSet {
        crate::mechanism::ParameterSet(set.raw())
    }
}

impl Session {
    /// Generates a key pair on the named `curve` in one call: the mechanism
    /// (`CKM_EC_KEY_PAIR_GEN`, `CKM_EC_EDWARDS_KEY_PAIR_GEN` or
    /// `CKM_EC_MONTGOMERY_KEY_PAIR_GEN`) and the public key's `CKA_EC_PARAMS` come from
    /// the curve; `public` and `private` add the caller's attributes (usage flags,
    /// label, id, token...). Returns (public key, private key).
    ///
    /// ```no_run
    /// # use pkcs11::{formats::EcCurve, Attribute};
    /// # fn f(session: &pkcs11::Session) -> pkcs11::Result<()> {
    /// let (public, private) = session.generate_ec_key_pair(
    ///     EcCurve::Ed25519,
    ///     &[Attribute::Verify(true)],
    ///     &[Attribute::Sign(true), Attribute::Token(true), Attribute::Id(vec![1])],
    /// )?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    /// [`Error::Module`] naming `C_GenerateKeyPair`.
    #[doc(alias = "C_GenerateKeyPair")]
    pub fn generate_ec_key_pair(
        &self,
        curve: EcCurve,
        public: &[Attribute],
        private: &[Attribute],
    ) -> Result<(ObjectHandle, ObjectHandle)> {
        let mut public_template = Vec::with_capacity(public.len() + 1);
        public_template.push(curve.ec_params_attribute());
        public_template.extend_from_slice(public);
        let mechanism = Mechanism::plain(curve.key_pair_gen_mechanism().raw());
        self.generate_key_pair(&mechanism, &public_template, private)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_params_are_the_der_of_the_oids() {
        // The P-256 OID as RFC 5480 prints it.
        assert_eq!(
            EcCurve::P256.ec_params_der(),
            [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07]
        );
        assert_eq!(
            EcCurve::P384.ec_params_der(),
            [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22]
        );
        assert_eq!(
            EcCurve::P521.ec_params_der(),
            [0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23]
        );
        assert_eq!(
            EcCurve::Ed25519.ec_params_der(),
            [0x06, 0x03, 0x2b, 0x65, 0x70]
        );
        assert_eq!(
            EcCurve::X448.ec_params_der(),
            [0x06, 0x03, 0x2b, 0x65, 0x6f]
        );
        for curve in EcCurve::ALL {
            let params = EcParams::from_der(&curve.ec_params_der()).unwrap();
            assert_eq!(params.curve(), Some(curve));
            assert_eq!(params.oid(), Some(curve.oid()));
            assert_eq!(EcCurve::from_name(curve.name()), Some(curve));
            assert_eq!(curve.oid().parse::<EcCurve>().unwrap(), curve);
        }
    }

    #[test]
    fn curve_names_and_aliases() {
        for (name, curve) in [
            ("secp256r1", EcCurve::P256),
            ("PRIME256V1", EcCurve::P256),
            ("P-384", EcCurve::P384),
            ("secp521r1", EcCurve::P521),
            ("brainpoolP512r1", EcCurve::BrainpoolP512r1),
            ("edwards448", EcCurve::Ed448),
            ("curve25519", EcCurve::X25519),
        ] {
            assert_eq!(name.parse::<EcCurve>().unwrap(), curve, "{name}");
        }
        let error = "P-999".parse::<EcCurve>().unwrap_err();
        assert!(matches!(error, Error::InvalidInput { ref what } if what.contains("P-999")));
        assert_eq!(EcCurve::Ed25519.key_type(), KeyType::EcEdwards);
        assert_eq!(
            EcCurve::X25519.key_pair_gen_mechanism(),
            MechanismType(ffi::CKM_EC_MONTGOMERY_KEY_PAIR_GEN)
        );
    }

    #[test]
    fn ec_params_keep_unknown_and_name_forms() {
        let name = EcParams::from_der(b"\x13\x0aedwards448").unwrap();
        assert_eq!(name.curve(), Some(EcCurve::Ed448));
        assert!(name.is_curve_name());
        assert_eq!(name.as_der_for_spki(), EcCurve::Ed448.ec_params_der());
        let unknown = EcParams::from_der(&[0x06, 0x03, 0x2a, 0x03, 0x04]).unwrap();
        assert_eq!(unknown.curve(), None);
        assert_eq!(unknown.as_der(), [0x06, 0x03, 0x2a, 0x03, 0x04]);
        assert_eq!(format!("{unknown:?}"), "EcParams(OID 1.2.3.4)");
        // Explicit parameters (a SEQUENCE) are kept raw.
        let explicit = EcParams::from_der(&[0x30, 0x03, 0x02, 0x01, 0x01]).unwrap();
        assert_eq!((explicit.curve(), explicit.oid()), (None, None));
        for bad in [
            &[0x06, 0x08, 0x2a][..],
            &[],
            &[0x06, 0x03, 0x2b, 0x65, 0x70, 0x00],
        ] {
            let error = EcParams::from_der(bad).unwrap_err();
            assert!(
                matches!(error, Error::InvalidInput { ref what } if what.contains("CKA_EC_PARAMS")),
                "{error}"
            );
        }
    }

    #[test]
    fn point_encodings_by_curve() {
        assert!(EcCurve::P256.is_point_encoding(&[&[4u8][..], &[1; 64]].concat()));
        assert!(EcCurve::P256.is_point_encoding(&[&[2u8][..], &[1; 32]].concat()));
        assert!(!EcCurve::P256.is_point_encoding(&[&[4u8][..], &[1; 63]].concat()));
        assert!(EcCurve::P521.is_point_encoding(&[&[4u8][..], &[1; 132]].concat()));
        assert!(EcCurve::Ed448.is_point_encoding(&[0; 57]));
        assert!(!EcCurve::X448.is_point_encoding(&[0; 57]));
    }

    #[test]
    fn parameter_sets() {
        assert_eq!(MlDsaParameterSet::MlDsa65.raw(), 2);
        assert_eq!(MlDsaParameterSet::MlDsa87.oid(), "2.16.840.1.101.3.4.3.19");
        assert_eq!(MlKemParameterSet::MlKem512.oid(), "2.16.840.1.101.3.4.4.1");
        assert_eq!(
            MlKemParameterSet::from_raw(3),
            Some(MlKemParameterSet::MlKem1024)
        );
        assert_eq!(MlKemParameterSet::MlKem768.public_key_len(), 1184);
        assert_eq!(MlDsaParameterSet::from_raw(9), None);
    }
}
