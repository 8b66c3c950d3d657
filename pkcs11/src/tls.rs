//! A token private key as a rustls signing key (feature `rustls`).
//!
//! [`TlsSigningKey`] implements [`rustls::sign::SigningKey`] over a
//! [`TokenKey`]: the TLS handshake signature (server `CertificateVerify`, or the client's
//! in mutual TLS) is made on the token, the private key never leaves it. Schemes:
//!
//! | key | schemes offered to rustls |
//! |---|---|
//! | ECDSA P-256 | `ecdsa_secp256r1_sha256` |
//! | ECDSA P-384 | `ecdsa_secp384r1_sha384` |
//! | RSA | `rsa_pss_rsae_sha512/384/256` (TLS 1.2 and 1.3), then `rsa_pkcs1_sha512/384/256` (TLS 1.2 only, as rustls offers them) |
//! | Ed25519 | `ed25519` |
//!
//! The hash is computed in Rust and the token gets `CKM_ECDSA` (the `r || s` it returns
//! is DER-encoded as TLS wants), `CKM_RSA_PKCS_PSS` (salt as long as the hash),
//! `CKM_RSA_PKCS` over a `DigestInfo`, or `CKM_EDDSA`. The key is `Send + Sync`: all
//! the server's connection threads sign through one shared session (its lock lets one
//! signature through at a time) or a [`SessionPool`](crate::SessionPool).
//!
//! ```no_run
//! use std::sync::Arc;
//! use pkcs11::signer::TokenKey;
//! use pkcs11::tls::TlsSigningKey;
//! use pkcs11::{Pin, Pkcs11, UserType};
//! use rustls::pki_types::CertificateDer;
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
//! let session = p11.token_by_label("web")?.open_ro_session()?;
//! session.login(UserType::User, &Pin::from("1234"))?;
//! let key = TlsSigningKey::new(TokenKey::find_by_label(Arc::new(session), "server")?);
//! let chain: Vec<CertificateDer<'static>> = Vec::new(); // the server's certificate chain
//! # let chain = vec![CertificateDer::from(Vec::new())];
//! let certified = key.certified_key(chain)?;
//! let config = rustls::ServerConfig::builder_with_provider(Arc::new(
//!     rustls::crypto::ring::default_provider(),
//! ))
//! .with_safe_default_protocol_versions()?
//! .with_no_client_auth()
//! .with_cert_resolver(Arc::new(rustls::sign::SingleCertAndKey::from(certified)));
//! # let _ = config;
//! # Ok(())
//! # }
//! ```

use core::fmt;
use std::sync::Arc;

use rustls::pki_types::{alg_id, CertificateDer, SubjectPublicKeyInfoDer};
use rustls::sign::{CertifiedKey, Signer, SigningKey};
use rustls::{OtherError, SignatureAlgorithm, SignatureScheme};

use crate::error::Error;
use crate::signer::{HashAlgorithm, KeyAlgorithm, PublicKey, TokenKey};

/// A token private key as a [`rustls::sign::SigningKey`]; see the [module](self) docs.
#[derive(Clone)]
pub struct TlsSigningKey {
    key: TokenKey,
    spki: Option<Vec<u8>>,
}

impl TlsSigningKey {
    /// A signing key over `key`. Its SubjectPublicKeyInfo (which rustls compares with
    /// the certificate in [`CertifiedKey::keys_match`]) is built from the key's public
    /// half when [`TokenKey::public_key`] finds it; otherwise the key still signs, and
    /// [`SigningKey::public_key`] answers `None`.
    #[doc(alias = "C_GetAttributeValue")]
    pub fn new(key: TokenKey) -> TlsSigningKey {
        let spki = key.public_key().ok().and_then(|public| spki_der(&public));
        TlsSigningKey { key, spki }
    }

    /// The token key.
    pub fn token_key(&self) -> &TokenKey {
        &self.key
    }

    /// The schemes this key can sign with, in order of preference.
    pub fn schemes(&self) -> Vec<SignatureScheme> {
        match self.key.algorithm() {
            KeyAlgorithm::EcdsaP256 => vec![SignatureScheme::ECDSA_NISTP256_SHA256],
            KeyAlgorithm::EcdsaP384 => vec![SignatureScheme::ECDSA_NISTP384_SHA384],
            KeyAlgorithm::Ed25519 => vec![SignatureScheme::ED25519],
            KeyAlgorithm::Rsa { bits } => [
                SignatureScheme::RSA_PSS_SHA512,
                SignatureScheme::RSA_PSS_SHA384,
                SignatureScheme::RSA_PSS_SHA256,
                SignatureScheme::RSA_PKCS1_SHA512,
                SignatureScheme::RSA_PKCS1_SHA384,
                SignatureScheme::RSA_PKCS1_SHA256,
            ]
            .into_iter()
            .filter(|scheme| rsa_scheme_fits(*scheme, bits))
            .collect(),
        }
    }

    /// A [`CertifiedKey`] of this key and `chain` (end-entity certificate first).
    ///
    /// # Errors
    /// [`rustls::Error::NoCertificatesPresented`] for an empty chain;
    /// [`rustls::Error::InconsistentKeys`] if the end-entity certificate's public key is
    /// not this key's (when this key knows its public half), or the certificate does not
    /// parse.
    pub fn certified_key(
        self,
        chain: Vec<CertificateDer<'static>>,
    ) -> Result<CertifiedKey, rustls::Error> {
        let certified = CertifiedKey::new(chain, Arc::new(self));
        certified.end_entity_cert()?;
        match certified.keys_match() {
            Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
                Ok(certified)
            }
            Err(e) => Err(e),
        }
    }
}

impl fmt::Debug for TlsSigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSigningKey")
            .field("key", &self.key)
            .field("has_spki", &self.spki.is_some())
            .finish()
    }
}

impl SigningKey for TlsSigningKey {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn Signer>> {
        let scheme = self
            .schemes()
            .into_iter()
            .find(|scheme| offered.contains(scheme))?;
        Some(Box::new(TlsSigner {
            key: self.key.clone(),
            scheme,
        }))
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        self.spki.as_deref().map(SubjectPublicKeyInfoDer::from)
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        match self.key.algorithm() {
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384 => SignatureAlgorithm::ECDSA,
            KeyAlgorithm::Rsa { .. } => SignatureAlgorithm::RSA,
            KeyAlgorithm::Ed25519 => SignatureAlgorithm::ED25519,
        }
    }
}

/// Whether an RSA key of `bits` bits can make a `scheme` signature: PSS with a salt as
/// long as the hash needs `emLen >= 2 hLen + 2` (RFC 8017, section 9.1.1).
fn rsa_scheme_fits(scheme: SignatureScheme, bits: usize) -> bool {
    match rsa_hash(scheme) {
        Some((hash, true)) => (bits - 1).div_ceil(8) >= 2 * hash.output_len() + 2,
        Some((hash, false)) => bits.div_ceil(8) >= hash.output_len() + 19 + 11,
        None => false,
    }
}

/// The hash of an RSA scheme, and whether it is PSS.
fn rsa_hash(scheme: SignatureScheme) -> Option<(HashAlgorithm, bool)> {
    Some(match scheme {
        SignatureScheme::RSA_PSS_SHA256 => (HashAlgorithm::Sha256, true),
        SignatureScheme::RSA_PSS_SHA384 => (HashAlgorithm::Sha384, true),
        SignatureScheme::RSA_PSS_SHA512 => (HashAlgorithm::Sha512, true),
        SignatureScheme::RSA_PKCS1_SHA256 => (HashAlgorithm::Sha256, false),
        SignatureScheme::RSA_PKCS1_SHA384 => (HashAlgorithm::Sha384, false),
        SignatureScheme::RSA_PKCS1_SHA512 => (HashAlgorithm::Sha512, false),
        _ => return None,
    })
}

/// One chosen scheme of a [`TlsSigningKey`].
struct TlsSigner {
    key: TokenKey,
    scheme: SignatureScheme,
}

impl fmt::Debug for TlsSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsSigner")
            .field("key", &self.key.handle())
            .field("scheme", &self.scheme)
            .finish()
    }
}

impl TlsSigner {
    fn sign_inner(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        match self.scheme {
            SignatureScheme::ECDSA_NISTP256_SHA256 => {
                let raw = self
                    .key
                    .sign_ecdsa_prehash(&HashAlgorithm::Sha256.digest(message))?;
                Ok(ecdsa_der(&raw))
            }
            SignatureScheme::ECDSA_NISTP384_SHA384 => {
                let raw = self
                    .key
                    .sign_ecdsa_prehash(&HashAlgorithm::Sha384.digest(message))?;
                Ok(ecdsa_der(&raw))
            }
            SignatureScheme::ED25519 => self.key.sign_ed25519(message),
            scheme => match rsa_hash(scheme) {
                Some((hash, true)) => self.key.sign_pss_prehash(hash, &hash.digest(message)),
                Some((hash, false)) => self.key.sign_pkcs1v15_prehash(hash, &hash.digest(message)),
                None => Err(Error::InvalidInput {
                    what: format!("the TLS signature scheme {scheme:?} is not supported"),
                }),
            },
        }
    }
}

impl Signer for TlsSigner {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, rustls::Error> {
        self.sign_inner(message)
            .map_err(|e| rustls::Error::Other(OtherError(Arc::new(e))))
    }

    fn scheme(&self) -> SignatureScheme {
        self.scheme
    }
}

/// Appends a DER length.
fn push_len(out: &mut Vec<u8>, len: usize) {
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
}

/// Appends a DER element.
fn push_tlv(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    push_len(out, content.len());
    out.extend_from_slice(content);
}

/// Appends the DER INTEGER of the unsigned big-endian `value`.
fn push_uint(out: &mut Vec<u8>, value: &[u8]) {
    let skip = value.iter().take_while(|b| **b == 0).count();
    let value = &value[skip..];
    let mut content = Vec::with_capacity(value.len() + 1);
    if value.first().is_none_or(|first| first & 0x80 != 0) {
        content.push(0);
    }
    content.extend_from_slice(value);
    push_tlv(out, 0x02, &content);
}

/// The DER `Ecdsa-Sig-Value` (`SEQUENCE { r INTEGER, s INTEGER }`, RFC 5480) of a
/// PKCS #11 `r || s` signature.
fn ecdsa_der(raw: &[u8]) -> Vec<u8> {
    let (r, s) = raw.split_at(raw.len() / 2);
    let mut content = Vec::with_capacity(raw.len() + 6);
    push_uint(&mut content, r);
    push_uint(&mut content, s);
    let mut out = Vec::with_capacity(content.len() + 3);
    push_tlv(&mut out, 0x30, &content);
    out
}

/// The DER SubjectPublicKeyInfo of `public` (RFC 5480, RFC 8017, RFC 8410).
fn spki_der(public: &PublicKey) -> Option<Vec<u8>> {
    let (algorithm, key) = match public {
        PublicKey::Ec { algorithm, point } => (
            match algorithm {
                KeyAlgorithm::EcdsaP256 => alg_id::ECDSA_P256,
                KeyAlgorithm::EcdsaP384 => alg_id::ECDSA_P384,
                _ => return None,
            },
            point.clone(),
        ),
        PublicKey::Rsa {
            modulus,
            public_exponent,
        } => {
            let mut content = Vec::new();
            push_uint(&mut content, modulus);
            push_uint(&mut content, public_exponent);
            let mut key = Vec::new();
            push_tlv(&mut key, 0x30, &content);
            (alg_id::RSA_ENCRYPTION, key)
        }
        PublicKey::Ed25519(key) => (alg_id::ED25519, key.to_vec()),
        #[allow(unreachable_patterns)] // `PublicKey` is non-exhaustive for other crates
        _ => return None,
    };
    let mut content = Vec::new();
    push_tlv(&mut content, 0x30, algorithm.as_ref());
    let mut bits = vec![0u8]; // no unused bits
    bits.extend_from_slice(&key);
    push_tlv(&mut content, 0x03, &bits);
    let mut out = Vec::new();
    push_tlv(&mut out, 0x30, &content);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecdsa_der_encoding() {
        // r with its high bit set gets a 0x00; s with leading zeros loses them.
        let mut raw = vec![0x80; 32];
        raw.extend(std::iter::repeat_n(0, 31));
        raw.push(0x05);
        let der = ecdsa_der(&raw);
        let mut expected = vec![0x30, 2 + 33 + 3, 0x02, 33, 0x00];
        expected.extend([0x80; 32]);
        expected.extend([0x02, 1, 0x05]);
        assert_eq!(der, expected);
        // Zero is one 0x00 byte.
        assert_eq!(ecdsa_der(&[0; 4]), [0x30, 6, 0x02, 1, 0, 0x02, 1, 0]);
    }

    #[test]
    fn long_lengths() {
        let mut out = Vec::new();
        push_len(&mut out, 0x7f);
        push_len(&mut out, 0x80);
        push_len(&mut out, 0x1234);
        assert_eq!(out, [0x7f, 0x81, 0x80, 0x82, 0x12, 0x34]);
    }

    #[test]
    fn ed25519_spki_matches_rfc_8410() {
        // RFC 8410, section 10.1: 302a300506032b6570032100 || key.
        let spki = spki_der(&PublicKey::Ed25519([0x19; 32])).unwrap();
        let mut expected = vec![
            0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
        ];
        expected.extend([0x19; 32]);
        assert_eq!(spki, expected);
    }

    #[test]
    fn rsa_schemes_by_key_size() {
        // 1024-bit: PSS-SHA-512 needs 130 bytes, the key has 128.
        assert!(!rsa_scheme_fits(SignatureScheme::RSA_PSS_SHA512, 1024));
        assert!(rsa_scheme_fits(SignatureScheme::RSA_PSS_SHA384, 1024));
        assert!(rsa_scheme_fits(SignatureScheme::RSA_PSS_SHA512, 2048));
        assert!(rsa_scheme_fits(SignatureScheme::RSA_PKCS1_SHA512, 1024));
        assert!(!rsa_scheme_fits(SignatureScheme::ED25519, 2048));
    }
}
