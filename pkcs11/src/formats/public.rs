//! Public keys as `SubjectPublicKeyInfo` DER (RFC 5280 §4.1.2.7), read from and written
//! to token objects.

use core::fmt;

use const_oid::ObjectIdentifier;
use der::asn1::{AnyRef, BitStringRef, OctetStringRef, UintRef};
use der::{Decode, Encode, Header, Reader, SliceReader, Tag, Tagged};
use spki::{AlgorithmIdentifierRef, SubjectPublicKeyInfoRef};

use super::{
    bad_der, invalid, oids, CurveFamily, EcCurve, EcParams, MlDsaParameterSet, MlKemParameterSet,
};
use crate::attribute::{Attribute, AttributeResult, AttributeType, KeyType, ObjectClass};
use crate::error::{Error, Result};
use crate::object::ObjectHandle;
use crate::secret::SecretBytes;
use crate::session::Session;

/// A public key in the terms both PKCS #11 and `SubjectPublicKeyInfo` use: the algorithm,
/// its parameters and the key's bytes.
///
/// Made from a `SubjectPublicKeyInfo` ([`PublicKey::from_spki_der`]) or from a token
/// object ([`Session::read_public_key`]); turned into either
/// ([`PublicKey::to_spki_der`], [`PublicKey::template`]).
///
/// ```
/// use pkcs11::formats::{EcCurve, EcParams, PublicKey};
///
/// let key = PublicKey::Edwards { params: EcCurve::Ed25519.into(), key: vec![7; 32] };
/// let spki = key.to_spki_der()?;
/// assert_eq!(&spki[..12], [0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
/// assert_eq!(PublicKey::from_spki_der(&spki)?, key);
/// # Ok::<(), pkcs11::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// `CKK_RSA` / `rsaEncryption`.
    Rsa {
        /// `CKA_MODULUS`: unsigned big-endian, without leading zeros.
        modulus: Vec<u8>,
        /// `CKA_PUBLIC_EXPONENT`: unsigned big-endian, without leading zeros.
        public_exponent: Vec<u8>,
    },
    /// `CKK_EC` / `id-ecPublicKey`: a key on a short Weierstrass curve.
    Ec {
        /// `CKA_EC_PARAMS` (the SPKI's algorithm parameters).
        params: EcParams,
        /// The SEC 1 point (`04 X Y`, or compressed), not DER-wrapped.
        point: Vec<u8>,
    },
    /// `CKK_EC_EDWARDS` / `id-Ed25519`, `id-Ed448`.
    Edwards {
        /// `CKA_EC_PARAMS`: the curve.
        params: EcParams,
        /// The RFC 8032 public key (32 or 57 bytes), not DER-wrapped.
        key: Vec<u8>,
    },
    /// `CKK_EC_MONTGOMERY` / `id-X25519`, `id-X448`.
    Montgomery {
        /// `CKA_EC_PARAMS`: the curve.
        params: EcParams,
        /// The RFC 7748 public key (32 or 56 bytes), not DER-wrapped.
        key: Vec<u8>,
    },
    /// `CKK_ML_DSA` / `id-ml-dsa-*` (FIPS 204).
    MlDsa {
        /// `CKA_PARAMETER_SET`.
        parameter_set: MlDsaParameterSet,
        /// `CKA_VALUE`: the encoded public key.
        key: Vec<u8>,
    },
    /// `CKK_ML_KEM` / `id-alg-ml-kem-*` (FIPS 203).
    MlKem {
        /// `CKA_PARAMETER_SET`.
        parameter_set: MlKemParameterSet,
        /// `CKA_VALUE`: the encoded encapsulation key.
        key: Vec<u8>,
    },
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PublicKey::Rsa { modulus, .. } => write!(f, "PublicKey::Rsa({} bits)", bits(modulus)),
            PublicKey::Ec { params, point } => {
                write!(f, "PublicKey::Ec({params:?}, {} bytes)", point.len())
            }
            PublicKey::Edwards { params, key } => {
                write!(f, "PublicKey::Edwards({params:?}, {} bytes)", key.len())
            }
            PublicKey::Montgomery { params, key } => {
                write!(f, "PublicKey::Montgomery({params:?}, {} bytes)", key.len())
            }
            PublicKey::MlDsa { parameter_set, key } => {
                write!(f, "PublicKey::MlDsa({parameter_set}, {} bytes)", key.len())
            }
            PublicKey::MlKem { parameter_set, key } => {
                write!(f, "PublicKey::MlKem({parameter_set}, {} bytes)", key.len())
            }
        }
    }
}

/// The size of an unsigned big-endian integer in bits.
fn bits(bytes: &[u8]) -> usize {
    let bytes = strip_zeros(bytes);
    match bytes.first() {
        Some(first) => bytes.len() * 8 - first.leading_zeros() as usize,
        None => 0,
    }
}

pub(crate) fn strip_zeros(mut bytes: &[u8]) -> &[u8] {
    while let [0, rest @ ..] = bytes {
        bytes = rest;
    }
    bytes
}

/// Checks that `key` is a public key of the length the algorithm fixes.
fn check_len(what: &str, key: &[u8], expected: usize) -> Result<()> {
    if key.len() == expected {
        Ok(())
    } else {
        Err(invalid(format!(
            "{what} public key: {} bytes, expected {expected}",
            key.len()
        )))
    }
}

/// Refuses algorithm parameters where the algorithm has none (RFC 8410 §3, FIPS 204 /
/// 203 SPKI profiles: "parameters MUST be absent").
fn no_params(what: &str, algorithm: &AlgorithmIdentifierRef<'_>) -> Result<()> {
    match algorithm.parameters {
        None => Ok(()),
        Some(_) => Err(invalid(format!(
            "SubjectPublicKeyInfo: {what} algorithm parameters must be absent"
        ))),
    }
}

/// Reads an `RSAPublicKey` (RFC 8017 A.1.1): (modulus, public exponent).
pub(crate) fn rsa_public_key(der: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let what = "RSAPublicKey DER";
    let mut reader = SliceReader::new(der).map_err(|e| bad_der(what, e))?;
    let (n, e) = reader
        .sequence(|seq| {
            let n = UintRef::decode(seq)?;
            let e = UintRef::decode(seq)?;
            Ok((n.as_bytes().to_vec(), e.as_bytes().to_vec()))
        })
        .and_then(|value| reader.finish(value))
        .map_err(|e| bad_der(what, e))?;
    if n.is_empty() || e.is_empty() {
        return Err(invalid("RSAPublicKey: a zero modulus or exponent"));
    }
    Ok((n, e))
}

/// Writes an `RSAPublicKey`.
fn encode_rsa_public_key(modulus: &[u8], exponent: &[u8]) -> der::Result<Vec<u8>> {
    let n = UintRef::new(modulus)?;
    let e = UintRef::new(exponent)?;
    let mut out = Vec::new();
    Header::new(Tag::Sequence, (n.encoded_len()? + e.encoded_len()?)?)?.encode_to_vec(&mut out)?;
    n.encode_to_vec(&mut out)?;
    e.encode_to_vec(&mut out)?;
    Ok(out)
}

/// The key bytes of `CKA_EC_POINT`.
///
/// PKCS #11 says `CKA_EC_POINT` is the DER of an `ECPoint` (an OCTET STRING holding the
/// point), and most modules follow it for Weierstrass curves; for Edwards and Montgomery
/// keys practice differs (SoftHSM 2.6 wraps them, Kryoptic 1.5 gives them bare, as the
/// PKCS #11 3.x text for those key types can be read), and some modules give every point
/// bare. Both are
/// accepted: when the curve is known the two cannot be confused (a wrapped value is two
/// or three bytes longer than any valid bare one), so the DER form is taken when its
/// content is a well-formed point and the bare form otherwise. For unknown curves a value
/// that is exactly one DER OCTET STRING is unwrapped.
pub(crate) fn unwrap_ec_point(curve: Option<EcCurve>, value: &[u8]) -> Result<Vec<u8>> {
    let wrapped = OctetStringRef::from_der(value).ok().map(|o| o.as_bytes());
    let Some(curve) = curve else {
        return Ok(wrapped.unwrap_or(value).to_vec());
    };
    if let Some(inner) = wrapped.filter(|inner| curve.is_point_encoding(inner)) {
        return Ok(inner.to_vec());
    }
    if curve.is_point_encoding(value) {
        return Ok(value.to_vec());
    }
    Err(Error::ModuleContract {
        function: "C_GetAttributeValue",
        what: format!(
            "CKA_EC_POINT: {} bytes, neither a {curve} key nor a DER OCTET STRING holding one",
            value.len()
        ),
    })
}

/// `point` as the DER OCTET STRING that `CKA_EC_POINT` holds.
pub(crate) fn wrap_ec_point(point: &[u8]) -> Result<Vec<u8>> {
    OctetStringRef::new(point)
        .and_then(|o| o.to_der())
        .map_err(|e| bad_der("CKA_EC_POINT", e))
}

impl PublicKey {
    /// Parses a `SubjectPublicKeyInfo` (DER): RSA, EC, Ed25519 / Ed448, X25519 / X448,
    /// ML-DSA and ML-KEM keys.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] saying what is wrong: DER that is truncated or malformed,
    /// an algorithm OID this crate does not support (named), parameters where there
    /// must be none, a key of the wrong length for its curve or parameter set.
    pub fn from_spki_der(der: &[u8]) -> Result<PublicKey> {
        let spki = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| bad_der("SubjectPublicKeyInfo DER", e))?;
        let key = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| invalid("SubjectPublicKeyInfo: the key BIT STRING has unused bits"))?;
        let algorithm = &spki.algorithm;
        let oid = algorithm.oid;
        if oid == oids::RSA_ENCRYPTION {
            match algorithm.parameters {
                Some(params) if params.tag() == Tag::Null => {}
                // RFC 3279 requires NULL; absent parameters are tolerated.
                None => {}
                Some(_) => {
                    return Err(invalid(
                        "SubjectPublicKeyInfo: rsaEncryption parameters must be NULL",
                    ))
                }
            }
            let (modulus, public_exponent) = rsa_public_key(key)?;
            return Ok(PublicKey::Rsa {
                modulus,
                public_exponent,
            });
        }
        if oid == oids::EC_PUBLIC_KEY {
            let params = algorithm.parameters.ok_or_else(|| {
                invalid("SubjectPublicKeyInfo: id-ecPublicKey without curve parameters")
            })?;
            let params_der = params
                .to_der()
                .map_err(|e| bad_der("SubjectPublicKeyInfo curve parameters", e))?;
            let params = EcParams::from_der(&params_der)?;
            match params.curve() {
                Some(curve) if curve.family() != CurveFamily::Weierstrass => {
                    return Err(invalid(format!(
                        "SubjectPublicKeyInfo: id-ecPublicKey with the {curve} curve \
                         (RFC 8410 keys have their own algorithm OID)"
                    )))
                }
                Some(curve) if !curve.is_point_encoding(key) => {
                    return Err(invalid(format!(
                        "SubjectPublicKeyInfo: {} bytes are not a {curve} point",
                        key.len()
                    )))
                }
                None if key.is_empty() => {
                    return Err(invalid("SubjectPublicKeyInfo: an empty EC point"))
                }
                _ => {}
            }
            return Ok(PublicKey::Ec {
                params,
                point: key.to_vec(),
            });
        }
        if let Some(curve) = [
            EcCurve::Ed25519,
            EcCurve::Ed448,
            EcCurve::X25519,
            EcCurve::X448,
        ]
        .into_iter()
        .find(|curve| curve.object_identifier() == oid)
        {
            no_params(curve.name(), algorithm)?;
            check_len(curve.name(), key, curve.size())?;
            let (params, key) = (EcParams::named(curve), key.to_vec());
            return Ok(match curve.family() {
                CurveFamily::Edwards => PublicKey::Edwards { params, key },
                _ => PublicKey::Montgomery { params, key },
            });
        }
        if let Some(parameter_set) = MlDsaParameterSet::from_object_identifier(&oid) {
            no_params(parameter_set.name(), algorithm)?;
            check_len(parameter_set.name(), key, parameter_set.public_key_len())?;
            return Ok(PublicKey::MlDsa {
                parameter_set,
                key: key.to_vec(),
            });
        }
        if let Some(parameter_set) = MlKemParameterSet::from_object_identifier(&oid) {
            no_params(parameter_set.name(), algorithm)?;
            check_len(parameter_set.name(), key, parameter_set.public_key_len())?;
            return Ok(PublicKey::MlKem {
                parameter_set,
                key: key.to_vec(),
            });
        }
        Err(invalid(format!(
            "SubjectPublicKeyInfo: unsupported public key algorithm OID {oid}"
        )))
    }

    /// The key as `SubjectPublicKeyInfo` DER: RSA as `rsaEncryption` with NULL
    /// parameters, EC keys as `id-ecPublicKey` with the curve parameters, Edwards and
    /// Montgomery keys as `id-Ed25519` ... `id-X448`, ML-DSA and ML-KEM keys as
    /// `id-ml-dsa-*` / `id-alg-ml-kem-*`, all without parameters (RFC 8410 and the
    /// FIPS 203 / 204 profiles).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a key that cannot be written: an Edwards or
    /// Montgomery key on a curve this crate does not know, EC parameters that are not
    /// DER, lengths DER cannot express.
    pub fn to_spki_der(&self) -> Result<Vec<u8>> {
        let what = "SubjectPublicKeyInfo";
        let rsa_key;
        let params_der;
        let (oid, params, key): (ObjectIdentifier, Option<AnyRef<'_>>, &[u8]) = match self {
            PublicKey::Rsa {
                modulus,
                public_exponent,
            } => {
                rsa_key = encode_rsa_public_key(modulus, public_exponent)
                    .map_err(|e| bad_der("RSAPublicKey", e))?;
                (oids::RSA_ENCRYPTION, Some(AnyRef::NULL), &rsa_key)
            }
            PublicKey::Ec { params, point } => {
                params_der = params.as_der_for_spki();
                let params =
                    AnyRef::from_der(&params_der).map_err(|e| bad_der("CKA_EC_PARAMS DER", e))?;
                (oids::EC_PUBLIC_KEY, Some(params), point)
            }
            PublicKey::Edwards { params, key } | PublicKey::Montgomery { params, key } => {
                let curve = params
                    .curve()
                    .filter(|curve| curve.family() != CurveFamily::Weierstrass)
                    .ok_or_else(|| {
                        invalid(format!(
                            "{what}: no algorithm OID for an Edwards or Montgomery key with \
                             {params:?}"
                        ))
                    })?;
                (curve.object_identifier(), None, key)
            }
            PublicKey::MlDsa { parameter_set, key } => {
                (parameter_set.object_identifier(), None, key)
            }
            PublicKey::MlKem { parameter_set, key } => {
                (parameter_set.object_identifier(), None, key)
            }
        };
        let spki = SubjectPublicKeyInfoRef {
            algorithm: AlgorithmIdentifierRef {
                oid,
                parameters: params,
            },
            subject_public_key: BitStringRef::from_bytes(key).map_err(|e| bad_der(what, e))?,
        };
        spki.to_der().map_err(|e| bad_der(what, e))
    }

    /// The key type (`CKK_RSA`, `CKK_EC`, `CKK_EC_EDWARDS`, `CKK_EC_MONTGOMERY`,
    /// `CKK_ML_DSA`, `CKK_ML_KEM`).
    pub fn key_type(&self) -> KeyType {
        match self {
            PublicKey::Rsa { .. } => KeyType::Rsa,
            PublicKey::Ec { .. } => KeyType::Ec,
            PublicKey::Edwards { .. } => KeyType::EcEdwards,
            PublicKey::Montgomery { .. } => KeyType::EcMontgomery,
            PublicKey::MlDsa { .. } => KeyType::MlDsa,
            PublicKey::MlKem { .. } => KeyType::MlKem,
        }
    }

    /// The template that creates this key as a public key object: `CKA_CLASS`,
    /// `CKA_KEY_TYPE` and the key's values (`CKA_MODULUS` and `CKA_PUBLIC_EXPONENT`;
    /// `CKA_EC_PARAMS` and `CKA_EC_POINT` as a DER OCTET STRING; `CKA_PARAMETER_SET`
    /// and `CKA_VALUE`). Add usage flags, label, id... before creating it.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for a point DER cannot hold.
    pub fn template(&self) -> Result<Vec<Attribute>> {
        let mut template = vec![
            Attribute::Class(ObjectClass::PublicKey),
            Attribute::KeyType(self.key_type()),
        ];
        match self {
            PublicKey::Rsa {
                modulus,
                public_exponent,
            } => {
                template.push(Attribute::Modulus(modulus.clone()));
                template.push(Attribute::PublicExponent(public_exponent.clone()));
            }
            PublicKey::Ec { params, point: key }
            | PublicKey::Edwards { params, key }
            | PublicKey::Montgomery { params, key } => {
                template.push(params.to_attribute());
                template.push(Attribute::EcPoint(wrap_ec_point(key)?));
            }
            PublicKey::MlDsa { parameter_set, key } => {
                template.push(Attribute::ParameterSet(parameter_set.raw()));
                template.push(Attribute::Value(SecretBytes::new(key.clone())));
            }
            PublicKey::MlKem { parameter_set, key } => {
                template.push(Attribute::ParameterSet(parameter_set.raw()));
                template.push(Attribute::Value(SecretBytes::new(key.clone())));
            }
        }
        Ok(template)
    }
}

/// The bytes of attribute `ty` in `results` (read from `key`), or an error naming it.
fn bytes_of(results: &[AttributeResult], index: usize, ty: AttributeType) -> Result<&[u8]> {
    let result = results.get(index).ok_or_else(|| Error::ModuleContract {
        function: "C_GetAttributeValue",
        what: format!("no result for {ty}"),
    })?;
    let what = match result {
        AttributeResult::Value(value) => {
            return value.as_bytes().ok_or_else(|| Error::ModuleContract {
                function: "C_GetAttributeValue",
                what: format!("{ty}: not a byte string"),
            })
        }
        AttributeResult::Sensitive => "sensitive",
        AttributeResult::Invalid => "absent (CKR_ATTRIBUTE_TYPE_INVALID)",
        AttributeResult::Unavailable => "unavailable",
    };
    Err(Error::NotFound {
        what: format!("the key's {ty}: the module reports it {what}"),
    })
}

impl Session {
    /// Reads the public key of `key`: a public key object, or a private key whose module
    /// shows the public values on it (RSA private keys carry `CKA_MODULUS` and
    /// `CKA_PUBLIC_EXPONENT`; others may carry `CKA_EC_POINT` or `CKA_PUBLIC_KEY_INFO`).
    ///
    /// The key is built from the key's own attributes (`CKA_MODULUS`,
    /// `CKA_EC_PARAMS` + `CKA_EC_POINT`, `CKA_PARAMETER_SET` + `CKA_VALUE`);
    /// `CKA_PUBLIC_KEY_INFO` is used only when those are not there.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for an object that is not a public or private key, or a
    /// key type without a format here (naming it); [`Error::NotFound`] naming the
    /// attribute the module does not give; [`Error::Module`] naming
    /// `C_GetAttributeValue`.
    #[doc(alias = "C_GetAttributeValue")]
    pub fn read_public_key(&self, key: ObjectHandle) -> Result<PublicKey> {
        let head = self.get_attributes(key, &[AttributeType::Class, AttributeType::KeyType])?;
        let class = head[0].value().and_then(Attribute::as_ulong);
        let key_type = head[1].value().and_then(Attribute::as_ulong);
        let (Some(class), Some(key_type)) = (class, key_type) else {
            return Err(invalid(format!(
                "object {} has no CKA_CLASS or CKA_KEY_TYPE: not a key",
                key.raw()
            )));
        };
        let class = ObjectClass::from_raw(class);
        if class != ObjectClass::PublicKey && class != ObjectClass::PrivateKey {
            return Err(invalid(format!(
                "object {} is a {class}, not a public or private key",
                key.raw()
            )));
        }
        let key_type = KeyType::from_raw(key_type);
        let own = self.public_key_from_attributes(key, key_type);
        match own {
            Err(Error::NotFound { .. }) if class == ObjectClass::PrivateKey => {
                self.public_key_from_info(key).or(own)
            }
            other => other,
        }
    }

    fn public_key_from_info(&self, key: ObjectHandle) -> Result<PublicKey> {
        let info = self.get_attribute(key, AttributeType::PublicKeyInfo)?;
        match info.as_bytes() {
            Some(der) if !der.is_empty() => PublicKey::from_spki_der(der),
            _ => Err(Error::NotFound {
                what: "the key's CKA_PUBLIC_KEY_INFO: empty".into(),
            }),
        }
    }

    fn public_key_from_attributes(
        &self,
        key: ObjectHandle,
        key_type: KeyType,
    ) -> Result<PublicKey> {
        match key_type {
            KeyType::Rsa => {
                let types = [AttributeType::Modulus, AttributeType::PublicExponent];
                let results = self.get_attributes(key, &types)?;
                Ok(PublicKey::Rsa {
                    modulus: strip_zeros(bytes_of(&results, 0, types[0])?).to_vec(),
                    public_exponent: strip_zeros(bytes_of(&results, 1, types[1])?).to_vec(),
                })
            }
            KeyType::Ec | KeyType::EcEdwards | KeyType::EcMontgomery => {
                let types = [AttributeType::EcParams, AttributeType::EcPoint];
                let results = self.get_attributes(key, &types)?;
                let params = EcParams::from_der(bytes_of(&results, 0, types[0])?).map_err(|e| {
                    Error::ModuleContract {
                        function: "C_GetAttributeValue",
                        what: e.to_string(),
                    }
                })?;
                let point = unwrap_ec_point(params.curve(), bytes_of(&results, 1, types[1])?)?;
                let family = params.curve().map(EcCurve::family);
                Ok(match (key_type, family) {
                    (KeyType::Ec, None | Some(CurveFamily::Weierstrass)) => {
                        PublicKey::Ec { params, point }
                    }
                    (KeyType::EcEdwards, Some(CurveFamily::Edwards)) => {
                        PublicKey::Edwards { params, key: point }
                    }
                    (KeyType::EcMontgomery, Some(CurveFamily::Montgomery)) => {
                        PublicKey::Montgomery { params, key: point }
                    }
                    _ => {
                        return Err(invalid(format!(
                            "a {key_type} key with CKA_EC_PARAMS {params:?}: no format for it"
                        )))
                    }
                })
            }
            KeyType::MlDsa | KeyType::MlKem => {
                let types = [AttributeType::ParameterSet, AttributeType::Value];
                let results = self.get_attributes(key, &types)?;
                let raw_set = results[0]
                    .value()
                    .and_then(Attribute::as_ulong)
                    .ok_or_else(|| Error::NotFound {
                        what: "the key's CKA_PARAMETER_SET".into(),
                    })?;
                let value = bytes_of(&results, 1, types[1])?.to_vec();
                let unknown = || {
                    invalid(format!(
                        "a {key_type} key with CKA_PARAMETER_SET {raw_set}: unknown set"
                    ))
                };
                let key = if key_type == KeyType::MlDsa {
                    let parameter_set = MlDsaParameterSet::from_raw(raw_set).ok_or_else(unknown)?;
                    check_len(parameter_set.name(), &value, parameter_set.public_key_len())?;
                    PublicKey::MlDsa {
                        parameter_set,
                        key: value,
                    }
                } else {
                    let parameter_set = MlKemParameterSet::from_raw(raw_set).ok_or_else(unknown)?;
                    check_len(parameter_set.name(), &value, parameter_set.public_key_len())?;
                    PublicKey::MlKem {
                        parameter_set,
                        key: value,
                    }
                };
                Ok(key)
            }
            other => Err(invalid(format!(
                "no SubjectPublicKeyInfo format for {other} keys here"
            ))),
        }
    }

    /// The public key of `key` as `SubjectPublicKeyInfo` DER, the form
    /// `p256::PublicKey::from_public_key_der`, rustls and OpenSSL
    /// (`openssl pkey -pubin -inform DER`) read. See [`Session::read_public_key`] for
    /// which objects work; for other key types the module's `CKA_PUBLIC_KEY_INFO` is
    /// returned as it is when it has one.
    ///
    /// # Errors
    /// As [`Session::read_public_key`] and [`PublicKey::to_spki_der`].
    #[doc(alias = "C_GetAttributeValue")]
    pub fn export_spki(&self, key: ObjectHandle) -> Result<Vec<u8>> {
        match self.read_public_key(key) {
            Ok(public) => public.to_spki_der(),
            Err(error @ Error::InvalidInput { .. }) => {
                match self
                    .get_attributes(key, &[AttributeType::PublicKeyInfo])?
                    .pop()
                {
                    Some(AttributeResult::Value(info))
                        if info.as_bytes().is_some_and(|der| !der.is_empty()) =>
                    {
                        Ok(info.as_bytes().unwrap_or_default().to_vec())
                    }
                    _ => Err(error),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// Creates a public key object from `SubjectPublicKeyInfo` DER: the template comes
    /// from the key ([`PublicKey::template`]), followed by `extra` (label, id,
    /// `CKA_TOKEN`, `CKA_VERIFY`...).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] for DER that is not a supported public key (see
    /// [`PublicKey::from_spki_der`]); [`Error::Module`] naming `C_CreateObject`.
    #[doc(alias = "C_CreateObject")]
    pub fn import_spki(&self, der: &[u8], extra: &[Attribute]) -> Result<ObjectHandle> {
        let mut template = PublicKey::from_spki_der(der)?.template()?;
        template.extend_from_slice(extra);
        self.create_object(&template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A P-256 public key from RFC 6979 A.2.5 (the test key), as the uncompressed point.
    fn p256_point() -> Vec<u8> {
        let x = "60FED4BA255A9D31C961EB74C6356D68C049B8923B61FA6CE669622E60F29FB6";
        let y = "7903FE1008B8BC99A41AE9E95628BC64F2F1B20C2D7E9F5177A3C294D4462299";
        let mut point = vec![4u8];
        for hex in [x, y] {
            for i in (0..hex.len()).step_by(2) {
                point.push(u8::from_str_radix(&hex[i..i + 2], 16).unwrap());
            }
        }
        point
    }

    #[test]
    fn ec_spki_round_trips_and_has_the_rfc5480_header() {
        let key = PublicKey::Ec {
            params: EcCurve::P256.into(),
            point: p256_point(),
        };
        let der = key.to_spki_der().unwrap();
        // SEQUENCE { SEQUENCE { id-ecPublicKey, prime256v1 }, BIT STRING (0 unused) }
        let header = [
            0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06,
            0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
        ];
        assert_eq!(&der[..header.len()], header);
        assert_eq!(der.len(), header.len() + 65);
        assert_eq!(PublicKey::from_spki_der(&der).unwrap(), key);
    }

    #[test]
    fn rsa_spki_has_null_parameters_and_minimal_integers() {
        // A modulus with its top bit set gets a 0x00 sign byte in DER; one with leading
        // zeros loses them.
        let key = PublicKey::Rsa {
            modulus: vec![0x80, 0, 0, 1],
            public_exponent: vec![1, 0, 1],
        };
        let der = key.to_spki_der().unwrap();
        let expected = [
            0x30, 0x20, 0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01,
            0x01, 0x05, 0x00, 0x03, 0x0f, 0x00, 0x30, 0x0c, 0x02, 0x05, 0x00, 0x80, 0, 0, 1, 0x02,
            0x03, 1, 0, 1,
        ];
        // (0x0f = 15 bytes of BIT STRING: the unused-bits byte and 14 of RSAPublicKey.)
        assert_eq!(der, expected);
        assert_eq!(PublicKey::from_spki_der(&der).unwrap(), key);
        let padded = PublicKey::Rsa {
            modulus: vec![0, 0, 0x80, 0, 0, 1],
            public_exponent: vec![0, 1, 0, 1],
        };
        assert_eq!(padded.to_spki_der().unwrap(), expected);
    }

    #[test]
    fn ec_points_are_accepted_wrapped_or_bare() {
        let point = p256_point();
        let wrapped = wrap_ec_point(&point).unwrap();
        assert_eq!(&wrapped[..2], [0x04, 0x41]);
        let curve = Some(EcCurve::P256);
        assert_eq!(unwrap_ec_point(curve, &wrapped).unwrap(), point);
        assert_eq!(unwrap_ec_point(curve, &point).unwrap(), point);
        // A bare Ed25519 key whose first bytes happen to read as an OCTET STRING header
        // of 30 bytes stays bare.
        let mut ed = vec![0x04, 30];
        ed.extend_from_slice(&[9; 30]);
        assert_eq!(unwrap_ec_point(Some(EcCurve::Ed25519), &ed).unwrap(), ed);
        let wrapped_ed = wrap_ec_point(&ed).unwrap();
        assert_eq!(
            unwrap_ec_point(Some(EcCurve::Ed25519), &wrapped_ed).unwrap(),
            ed
        );
        // P-521's wrapped point has a two-byte length.
        let p521 = [&[4u8][..], &[5; 132]].concat();
        let wrapped = wrap_ec_point(&p521).unwrap();
        assert_eq!(&wrapped[..3], [0x04, 0x81, 0x85]);
        assert_eq!(
            unwrap_ec_point(Some(EcCurve::P521), &wrapped).unwrap(),
            p521
        );
        assert!(unwrap_ec_point(curve, &point[..40]).is_err());
    }

    #[test]
    fn bad_spki_input_names_what_is_wrong() {
        let good = PublicKey::Ec {
            params: EcCurve::P256.into(),
            point: p256_point(),
        }
        .to_spki_der()
        .unwrap();
        let what = |der: &[u8]| match PublicKey::from_spki_der(der) {
            Err(Error::InvalidInput { what }) => what,
            other => panic!("{other:?}"),
        };
        assert!(what(&good[..50]).contains("SubjectPublicKeyInfo DER"));
        // P-256 OID changed to an unknown curve 1.2.840.10045.3.1.99 keeps the key raw...
        let mut unknown_curve = good.clone();
        unknown_curve[22] = 99;
        let key = PublicKey::from_spki_der(&unknown_curve).unwrap();
        assert!(matches!(key, PublicKey::Ec { ref params, .. } if params.curve().is_none()));
        // ...an unknown algorithm OID is refused by name.
        let mut unknown_alg = good.clone();
        unknown_alg[12] = 9; // id-ecPublicKey 1.2.840.10045.2.1 -> .2.9
        assert!(
            what(&unknown_alg).contains("unsupported public key algorithm OID 1.2.840.10045.2.9")
        );
        // A P-256 SPKI with a point of the wrong length.
        let short = PublicKey::Ec {
            params: EcCurve::P256.into(),
            point: p256_point()[..64].to_vec(),
        }
        .to_spki_der()
        .unwrap();
        assert!(what(&short).contains("not a P-256 point"));
        let ed = PublicKey::Edwards {
            params: EcCurve::Ed448.into(),
            key: vec![1; 56],
        }
        .to_spki_der()
        .unwrap();
        assert!(what(&ed).contains("Ed448 public key: 56 bytes, expected 57"));
    }

    #[test]
    fn ml_dsa_and_ml_kem_spki() {
        for set in MlDsaParameterSet::ALL {
            let key = PublicKey::MlDsa {
                parameter_set: *set,
                key: vec![3; set.public_key_len()],
            };
            let der = key.to_spki_der().unwrap();
            let spki = SubjectPublicKeyInfoRef::from_der(&der).unwrap();
            assert_eq!(spki.algorithm.oid.to_string(), set.oid());
            assert!(spki.algorithm.parameters.is_none());
            assert_eq!(PublicKey::from_spki_der(&der).unwrap(), key);
        }
        let kem = PublicKey::MlKem {
            parameter_set: MlKemParameterSet::MlKem768,
            key: vec![3; 1183],
        }
        .to_spki_der()
        .unwrap();
        assert!(PublicKey::from_spki_der(&kem).is_err());
    }
}
