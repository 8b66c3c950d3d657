//! Private keys from PKCS #8 DER (RFC 5208 `PrivateKeyInfo`, RFC 5958
//! `OneAsymmetricKey`).
//!
//! The DER is read in place (borrowed from the caller's buffer); every secret value is
//! copied once, at its exact size, into a [`SecretBytes`] of the template, so dropping
//! the template wipes them all.

use der::asn1::{AnyRef, OctetStringRef, UintRef};
use der::{Decode, Encode, Reader, SliceReader, Tag, TagNumber, Tagged};
use pkcs8::PrivateKeyInfo;

use super::{
    bad_der, invalid, oids, CurveFamily, EcCurve, EcParams, MlDsaParameterSet, MlKemParameterSet,
};
use crate::attribute::{Attribute, KeyType, ObjectClass};
use crate::error::Result;
use crate::object::ObjectHandle;
use crate::secret::SecretBytes;
use crate::session::Session;

fn secret(bytes: &[u8]) -> SecretBytes {
    SecretBytes::new(bytes.to_vec())
}

/// The template of an RSA private key from an `RSAPrivateKey` (RFC 8017 A.1.2).
fn rsa_private_key(der: &[u8], template: &mut Vec<Attribute>) -> Result<()> {
    let what = "PKCS #8 RSAPrivateKey DER";
    let mut reader = SliceReader::new(der).map_err(|e| bad_der(what, e))?;
    let parsed = reader
        .sequence(|seq| {
            let version = u8::decode(seq)?;
            let mut values = [UintRef::new(&[])?; 8];
            for value in &mut values {
                *value = UintRef::decode(seq)?;
            }
            // otherPrimeInfos (version 1) is refused below, not parsed.
            while !seq.is_finished() {
                AnyRef::decode(seq)?;
            }
            Ok((version, values))
        })
        .and_then(|parsed| reader.finish(parsed))
        .map_err(|e| bad_der(what, e))?;
    let (version, [n, e, d, p, q, dp, dq, qinv]) = parsed;
    if version != 0 {
        return Err(invalid(format!(
            "PKCS #8 RSAPrivateKey version {version}: multi-prime RSA keys are not supported"
        )));
    }
    template.extend([
        Attribute::Modulus(n.as_bytes().to_vec()),
        Attribute::PublicExponent(e.as_bytes().to_vec()),
        Attribute::PrivateExponent(secret(d.as_bytes())),
        Attribute::Prime1(secret(p.as_bytes())),
        Attribute::Prime2(secret(q.as_bytes())),
        Attribute::Exponent1(secret(dp.as_bytes())),
        Attribute::Exponent2(secret(dq.as_bytes())),
        Attribute::Coefficient(secret(qinv.as_bytes())),
    ]);
    Ok(())
}

/// The template of an EC private key from an `ECPrivateKey` (RFC 5915), its curve from
/// the algorithm parameters or else from the key's own `[0]` parameters.
fn ec_private_key(
    algorithm_params: Option<AnyRef<'_>>,
    der: &[u8],
    template: &mut Vec<Attribute>,
) -> Result<()> {
    let what = "PKCS #8 ECPrivateKey DER";
    let mut reader = SliceReader::new(der).map_err(|e| bad_der(what, e))?;
    let (version, scalar, own_params) = reader
        .sequence(|seq| {
            let version = u8::decode(seq)?;
            let scalar = OctetStringRef::decode(seq)?.as_bytes();
            let mut own_params = None;
            while !seq.is_finished() {
                let field = AnyRef::decode(seq)?;
                if field.tag()
                    == (Tag::ContextSpecific {
                        constructed: true,
                        number: TagNumber::N0,
                    })
                {
                    own_params = Some(field.value());
                }
                // [1] publicKey: the token computes it.
            }
            Ok((version, scalar, own_params))
        })
        .and_then(|parsed| reader.finish(parsed))
        .map_err(|e| bad_der(what, e))?;
    if version != 1 {
        return Err(invalid(format!(
            "PKCS #8 ECPrivateKey version {version}, expected 1"
        )));
    }
    let params_der = match (algorithm_params, own_params) {
        (Some(params), _) => params
            .to_der()
            .map_err(|e| bad_der("PKCS #8 EC algorithm parameters", e))?,
        (None, Some(inner)) => inner.to_vec(),
        (None, None) => return Err(invalid("PKCS #8 EC private key without curve parameters")),
    };
    let params = EcParams::from_der(&params_der)?;
    if let Some(curve) = params.curve() {
        if curve.family() != CurveFamily::Weierstrass {
            return Err(invalid(format!(
                "PKCS #8: id-ecPublicKey with the {curve} curve (RFC 8410 keys have their own \
                 algorithm OID)"
            )));
        }
        if scalar.is_empty() || scalar.len() > curve.size() {
            return Err(invalid(format!(
                "PKCS #8 EC private key: {} bytes for a {curve} scalar of {}",
                scalar.len(),
                curve.size()
            )));
        }
    }
    template.extend([params.to_attribute(), Attribute::Value(secret(scalar))]);
    Ok(())
}

/// Where a post-quantum private key's seed and expanded key go.
struct PqSizes {
    name: &'static str,
    seed: usize,
    expanded: usize,
}

/// The template entries of an ML-DSA or ML-KEM private key: the `CHOICE` of the IETF
/// LAMPS profiles — `seed [0] IMPLICIT OCTET STRING`, `expandedKey OCTET STRING`, or
/// `both SEQUENCE { seed, expandedKey }` — the seed as `CKA_SEED`, the expanded key as
/// `CKA_VALUE`.
fn pq_private_key(sizes: &PqSizes, der: &[u8], template: &mut Vec<Attribute>) -> Result<()> {
    let what = format!("PKCS #8 {} private key DER", sizes.name);
    let any = AnyRef::from_der(der).map_err(|e| bad_der(&what, e))?;
    let seed_tag = Tag::ContextSpecific {
        constructed: false,
        number: TagNumber::N0,
    };
    let (seed, expanded) = match any.tag() {
        tag if tag == seed_tag => (Some(any.value()), None),
        Tag::OctetString => (None, Some(any.value())),
        Tag::Sequence => {
            let mut reader = SliceReader::new(any.value()).map_err(|e| bad_der(&what, e))?;
            let seed = OctetStringRef::decode(&mut reader).map_err(|e| bad_der(&what, e))?;
            let expanded = OctetStringRef::decode(&mut reader).map_err(|e| bad_der(&what, e))?;
            reader.finish(()).map_err(|e| bad_der(&what, e))?;
            (Some(seed.as_bytes()), Some(expanded.as_bytes()))
        }
        tag => {
            return Err(invalid(format!(
                "{what}: a {tag}, expected a seed, an expanded key or both"
            )))
        }
    };
    if let Some(seed) = seed {
        if seed.len() != sizes.seed {
            return Err(invalid(format!(
                "PKCS #8 {} seed: {} bytes, expected {}",
                sizes.name,
                seed.len(),
                sizes.seed
            )));
        }
        template.push(Attribute::Seed(secret(seed)));
    }
    if let Some(expanded) = expanded {
        if expanded.len() != sizes.expanded {
            return Err(invalid(format!(
                "PKCS #8 {} expanded private key: {} bytes, expected {}",
                sizes.name,
                expanded.len(),
                sizes.expanded
            )));
        }
        template.push(Attribute::Value(secret(expanded)));
    }
    Ok(())
}

/// The template that creates the private key of PKCS #8 DER (`PrivateKeyInfo` or
/// `OneAsymmetricKey`) as a private key object: `CKA_CLASS`, `CKA_KEY_TYPE` and the key's
/// values. Add usage flags, label, id, `CKA_SENSITIVE`... before creating it.
///
/// - RSA (`rsaEncryption`): `CKA_MODULUS`, `CKA_PUBLIC_EXPONENT`,
///   `CKA_PRIVATE_EXPONENT` and the CRT values `CKA_PRIME_1` .. `CKA_COEFFICIENT`.
/// - EC (`id-ecPublicKey`, RFC 5915 `ECPrivateKey` inside): `CKA_EC_PARAMS` and the
///   private scalar as `CKA_VALUE`.
/// - Ed25519, Ed448, X25519, X448 (RFC 8410 `CurvePrivateKey`): `CKA_EC_PARAMS` (the
///   curve OID) and the private key as `CKA_VALUE`.
/// - ML-DSA and ML-KEM: `CKA_PARAMETER_SET`, the seed as `CKA_SEED` and the expanded
///   private key as `CKA_VALUE`, whichever of the two the DER holds. (Whether a module
///   accepts a key from its seed alone is up to the module.)
///
/// Secret values are [`SecretBytes`]: dropping the template wipes them. An encrypted
/// PKCS #8 (`EncryptedPrivateKeyInfo`) must be decrypted first.
///
/// # Errors
/// [`Error::InvalidInput`](crate::Error::InvalidInput) saying what is wrong: truncated or
/// malformed DER, an unsupported algorithm OID (named), a key of the wrong length.
pub fn private_key_template(der: &[u8]) -> Result<Vec<Attribute>> {
    let info = PrivateKeyInfo::from_der(der).map_err(|e| bad_der("PKCS #8 DER", e))?;
    let algorithm = &info.algorithm;
    let oid = algorithm.oid;
    let key = info.private_key;
    let mut template = vec![Attribute::Class(ObjectClass::PrivateKey)];
    if oid == oids::RSA_ENCRYPTION {
        template.push(Attribute::KeyType(KeyType::Rsa));
        rsa_private_key(key, &mut template)?;
    } else if oid == oids::EC_PUBLIC_KEY {
        template.push(Attribute::KeyType(KeyType::Ec));
        ec_private_key(algorithm.parameters, key, &mut template)?;
    } else if let Some(curve) = [
        EcCurve::Ed25519,
        EcCurve::Ed448,
        EcCurve::X25519,
        EcCurve::X448,
    ]
    .into_iter()
    .find(|curve| curve.object_identifier() == oid)
    {
        if algorithm.parameters.is_some() {
            return Err(invalid(format!(
                "PKCS #8: {curve} algorithm parameters must be absent"
            )));
        }
        let what = format!("PKCS #8 {curve} CurvePrivateKey DER");
        let value = OctetStringRef::from_der(key)
            .map_err(|e| bad_der(&what, e))?
            .as_bytes();
        if value.len() != curve.size() {
            return Err(invalid(format!(
                "PKCS #8 {curve} private key: {} bytes, expected {}",
                value.len(),
                curve.size()
            )));
        }
        template.extend([
            Attribute::KeyType(curve.key_type()),
            curve.ec_params_attribute(),
            Attribute::Value(secret(value)),
        ]);
    } else if let Some(set) = MlDsaParameterSet::from_object_identifier(&oid) {
        template.extend([
            Attribute::KeyType(KeyType::MlDsa),
            Attribute::ParameterSet(set.raw()),
        ]);
        let expanded = match set {
            MlDsaParameterSet::MlDsa44 => 2560,
            MlDsaParameterSet::MlDsa65 => 4032,
            MlDsaParameterSet::MlDsa87 => 4896,
        };
        let sizes = PqSizes {
            name: set.name(),
            seed: 32,
            expanded,
        };
        pq_private_key(&sizes, key, &mut template)?;
    } else if let Some(set) = MlKemParameterSet::from_object_identifier(&oid) {
        template.extend([
            Attribute::KeyType(KeyType::MlKem),
            Attribute::ParameterSet(set.raw()),
        ]);
        let expanded = match set {
            MlKemParameterSet::MlKem512 => 1632,
            MlKemParameterSet::MlKem768 => 2400,
            MlKemParameterSet::MlKem1024 => 3168,
        };
        let sizes = PqSizes {
            name: set.name(),
            seed: 64,
            expanded,
        };
        pq_private_key(&sizes, key, &mut template)?;
    } else {
        return Err(invalid(format!(
            "PKCS #8: unsupported private key algorithm OID {oid}"
        )));
    }
    Ok(template)
}

impl Session {
    /// Creates a private key object from PKCS #8 DER: the template comes from the key
    /// ([`private_key_template`]), followed by `extra` (label, id, `CKA_TOKEN`,
    /// `CKA_SIGN`, `CKA_SENSITIVE`...). The template, secrets included, is wiped when
    /// the call returns.
    ///
    /// # Errors
    /// [`Error::InvalidInput`](crate::Error::InvalidInput) for DER that is not a
    /// supported private key; [`Error::Module`](crate::Error::Module) naming
    /// `C_CreateObject`.
    #[doc(alias = "C_CreateObject")]
    pub fn import_pkcs8(&self, der: &[u8], extra: &[Attribute]) -> Result<ObjectHandle> {
        let mut template = private_key_template(der)?;
        template.extend_from_slice(extra);
        self.create_object(&template)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    fn what(der: &[u8]) -> String {
        match private_key_template(der) {
            Err(Error::InvalidInput { what }) => what,
            other => panic!("{other:?}"),
        }
    }

    /// PKCS #8 of Ed25519 from RFC 8410 §10.3.
    const RFC8410_ED25519: [u8; 48] = [
        0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04,
        0x20, 0xd4, 0xee, 0x72, 0xdb, 0xf9, 0x13, 0x58, 0x4a, 0xd5, 0xb6, 0xd8, 0xf1, 0xf7, 0x69,
        0xf8, 0xad, 0x3a, 0xfe, 0x7c, 0x28, 0xcb, 0xf1, 0xd4, 0xfb, 0xe0, 0x97, 0xa8, 0x8f, 0x44,
        0x75, 0x58, 0x42,
    ];

    #[test]
    fn ed25519_pkcs8_from_rfc8410() {
        let template = private_key_template(&RFC8410_ED25519).unwrap();
        assert_eq!(template[0], Attribute::Class(ObjectClass::PrivateKey));
        assert_eq!(template[1], Attribute::KeyType(KeyType::EcEdwards));
        assert_eq!(template[2], EcCurve::Ed25519.ec_params_attribute());
        assert_eq!(template[3].as_bytes().unwrap(), &RFC8410_ED25519[16..]);
    }

    #[test]
    fn bad_pkcs8_input_names_what_is_wrong() {
        assert!(what(&RFC8410_ED25519[..40]).contains("PKCS #8 DER"));
        let mut x25519 = RFC8410_ED25519;
        x25519[11] = 0x6e; // the same 32 bytes as an X25519 key: fine
        assert_eq!(
            private_key_template(&x25519).unwrap()[1],
            Attribute::KeyType(KeyType::EcMontgomery)
        );
        let mut x448 = RFC8410_ED25519;
        x448[11] = 0x6f; // X448 needs 56 bytes
        assert!(what(&x448).contains("X448 private key: 32 bytes, expected 56"));
        let mut unknown = RFC8410_ED25519;
        unknown[11] = 0x7f;
        assert!(what(&unknown).contains("unsupported private key algorithm OID 1.3.101.127"));
        let mut not_wrapped = RFC8410_ED25519;
        not_wrapped[14] = 0x05; // inner OCTET STRING tag made NULL
        assert!(what(&not_wrapped).contains("CurvePrivateKey DER"));
    }

    #[test]
    fn ml_dsa_seed_form() {
        // OneAsymmetricKey { 0, { id-ml-dsa-44 }, OCTET STRING { [0] 32-byte seed } }
        let mut der = vec![
            0x30, 0x34, 0x02, 0x01, 0x00, 0x30, 0x0b, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65,
            0x03, 0x04, 0x03, 0x11, 0x04, 0x22, 0x80, 0x20,
        ];
        der.extend_from_slice(&[0x5a; 32]);
        let template = private_key_template(&der).unwrap();
        assert_eq!(template[1], Attribute::KeyType(KeyType::MlDsa));
        assert_eq!(template[2], Attribute::ParameterSet(1));
        assert_eq!(template[3].attribute_type(), crate::AttributeType::Seed);
        assert_eq!(template[3].as_bytes().unwrap(), &[0x5a; 32]);
        der[21] = 0x1f; // seed length 31
        der.truncate(der.len() - 1);
        der[1] -= 1;
        der[19] -= 1;
        assert!(what(&der).contains("ML-DSA-44 seed: 31 bytes, expected 32"));
    }
}
