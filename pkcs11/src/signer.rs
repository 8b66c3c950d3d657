//! Token private keys as signers for the Rust ecosystem (features `rustcrypto` and
//! `rustls`).
//!
//! [`TokenKey`] is a private key on a token together with where to get a session for
//! each signature ([`SessionSource`]: one shared [`Session`], or a [`SessionPool`]). It
//! knows its algorithm ([`KeyAlgorithm`]), finds its public half ([`PublicKey`]) and
//! signs with the bare mechanisms every token has: the hash is computed in Rust and the
//! token gets `CKM_ECDSA`, `CKM_RSA_PKCS` over a `DigestInfo`, `CKM_RSA_PKCS_PSS` or
//! `CKM_EDDSA`, so modules without `CKM_ECDSA_SHA256` and friends (SoftHSM 2.6) work
//! too. This module is compiled with either feature; the rustls signing key built on
//! [`TokenKey`] is `pkcs11::tls::TlsSigningKey` (feature `rustls`).
//!
//! With the `rustcrypto` feature the typed keys implement the RustCrypto traits
//! (`signature::Signer`, `Keypair`, `DigestSigner`, `hazmat::PrehashSigner`, and the
//! `spki` signature-algorithm traits that `x509-cert`'s certificate builder needs) and
//! return the ecosystem's types:
//!
//! | key | signature | `Keypair::VerifyingKey` |
//! |---|---|---|
//! | `P256SigningKey` | `p256::ecdsa::Signature`, `p256::ecdsa::DerSignature` | `p256::ecdsa::VerifyingKey` |
//! | `P384SigningKey` | `p384::ecdsa::Signature`, `p384::ecdsa::DerSignature` | `p384::ecdsa::VerifyingKey` |
//! | `RsaPkcs1v15SigningKey<D>` | `rsa::pkcs1v15::Signature` | `rsa::pkcs1v15::VerifyingKey<D>` |
//! | `RsaPssSigningKey<D>` | `rsa::pss::Signature` | `rsa::pss::VerifyingKey<D>` |
//! | `Ed25519SigningKey` | `ed25519::Signature` | `ed25519_dalek::VerifyingKey` |
//!
//! `D` is `sha2::Sha256`, `Sha384` or `Sha512`. A failed signature is a
//! `signature::Error` whose [`source`](std::error::Error::source) is the crate's
//! [`Error`].
//!
//! Every key is `Clone + Send + Sync`: clones share the session (or pool), so many
//! threads can sign with one key; a shared session's lock lets one call through at a
//! time, a pool lends each thread its own session.
//!
//! ```no_run
//! use std::sync::Arc;
//! use pkcs11::signer::{HashAlgorithm, KeyAlgorithm, TokenKey};
//! use pkcs11::{Pin, Pkcs11, UserType};
//!
//! let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
//! let session = p11.token_by_label("app")?.open_ro_session()?;
//! session.login(UserType::User, &Pin::from("1234"))?;
//! let key = TokenKey::find_by_label(Arc::new(session), "signing key")?;
//! assert_eq!(key.algorithm(), KeyAlgorithm::EcdsaP256);
//! // `r || s` from CKM_ECDSA over a SHA-256 hash computed here.
//! let signature = key.sign_ecdsa_prehash(&HashAlgorithm::Sha256.digest(b"message"))?;
//! assert_eq!(signature.len(), 64);
//! # Ok::<(), pkcs11::Error>(())
//! ```

use core::fmt;
use std::sync::Arc;

use sha2::Digest as _;

use crate::attribute::{Attribute, AttributeResult, AttributeType, KeyType, ObjectClass};
use crate::error::{Error, Result};
use crate::mechanism::{Mechanism, MechanismType, Mgf, PssParams};
use crate::object::ObjectHandle;
use crate::pool::SessionPool;
use crate::session::Session;

/// Where a [`TokenKey`] gets the session for each call.
///
/// The login state of a token belongs to the application, so any logged-in session (or
/// a pool that logs in) can use the key. Cloning shares the session or the pool.
#[derive(Clone, Debug)]
pub enum SessionSource {
    /// One session shared by every clone and thread; its lock lets one call through at
    /// a time.
    Shared(Arc<Session>),
    /// Each call borrows a session from the pool (waiting up to the pool's limit).
    Pool(SessionPool),
}

impl SessionSource {
    /// Runs `f` with a session: the shared one, or one borrowed from the pool for the
    /// duration of `f`.
    ///
    /// # Errors
    /// [`Error::PoolTimeout`] (and the errors of opening or logging in a session) from
    /// the pool; whatever `f` returns.
    pub fn with_session<R>(&self, f: impl FnOnce(&Session) -> Result<R>) -> Result<R> {
        match self {
            SessionSource::Shared(session) => f(session),
            SessionSource::Pool(pool) => {
                let session = pool.get()?;
                f(&session)
            }
        }
    }
}

impl From<Session> for SessionSource {
    fn from(session: Session) -> SessionSource {
        SessionSource::Shared(Arc::new(session))
    }
}

impl From<Arc<Session>> for SessionSource {
    fn from(session: Arc<Session>) -> SessionSource {
        SessionSource::Shared(session)
    }
}

impl From<SessionPool> for SessionSource {
    fn from(pool: SessionPool) -> SessionSource {
        SessionSource::Pool(pool)
    }
}

impl From<&SessionPool> for SessionSource {
    fn from(pool: &SessionPool) -> SessionSource {
        SessionSource::Pool(pool.clone())
    }
}

/// The algorithm of a [`TokenKey`], from its `CKA_KEY_TYPE` and `CKA_EC_PARAMS` /
/// `CKA_MODULUS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 (`secp256r1`).
    EcdsaP256,
    /// ECDSA on NIST P-384 (`secp384r1`).
    EcdsaP384,
    /// RSA with a modulus of `bits` bits.
    Rsa {
        /// The modulus length in bits.
        bits: usize,
    },
    /// Ed25519 (`CKK_EC_EDWARDS` on edwards25519).
    Ed25519,
}

impl KeyAlgorithm {
    /// The length in bytes of a signature: `r || s` for ECDSA, the modulus length for
    /// RSA, 64 for Ed25519.
    pub fn signature_len(self) -> usize {
        match self {
            KeyAlgorithm::EcdsaP256 => 64,
            KeyAlgorithm::EcdsaP384 => 96,
            KeyAlgorithm::Rsa { bits } => bits.div_ceil(8),
            KeyAlgorithm::Ed25519 => 64,
        }
    }
}

/// A hash computed in Rust before the token signs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum HashAlgorithm {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlgorithm {
    /// The digest length in bytes.
    pub fn output_len(self) -> usize {
        match self {
            HashAlgorithm::Sha256 => 32,
            HashAlgorithm::Sha384 => 48,
            HashAlgorithm::Sha512 => 64,
        }
    }

    /// The hash of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlgorithm::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlgorithm::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlgorithm::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// The PKCS #11 digest mechanism (`CKM_SHA256`...), as `CK_RSA_PKCS_PSS_PARAMS`
    /// names it.
    pub fn mechanism_type(self) -> MechanismType {
        match self {
            HashAlgorithm::Sha256 => MechanismType::SHA256,
            HashAlgorithm::Sha384 => MechanismType::SHA384,
            HashAlgorithm::Sha512 => MechanismType::SHA512,
        }
    }

    /// MGF1 with this hash (`CKG_MGF1_SHA256`...).
    pub fn mgf1(self) -> Mgf {
        match self {
            HashAlgorithm::Sha256 => Mgf::MGF1_SHA256,
            HashAlgorithm::Sha384 => Mgf::MGF1_SHA384,
            HashAlgorithm::Sha512 => Mgf::MGF1_SHA512,
        }
    }

    /// The DER of a PKCS #1 `DigestInfo` up to the digest itself (RFC 8017, section
    /// 9.2, note 1): `SEQUENCE { SEQUENCE { OID, NULL }, OCTET STRING (len) }`.
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            HashAlgorithm::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            HashAlgorithm::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            HashAlgorithm::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
        }
    }

    /// The PKCS #1 `DigestInfo` of `digest` (the input of `CKM_RSA_PKCS` signing).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if `digest` is not [`output_len`](Self::output_len)
    /// bytes.
    pub fn digest_info(self, digest: &[u8]) -> Result<Vec<u8>> {
        self.check_len(digest)?;
        let mut info = self.digest_info_prefix().to_vec();
        info.extend_from_slice(digest);
        Ok(info)
    }

    fn check_len(self, digest: &[u8]) -> Result<()> {
        if digest.len() == self.output_len() {
            Ok(())
        } else {
            Err(Error::InvalidInput {
                what: format!(
                    "a {self:?} digest is {} bytes, not {}",
                    self.output_len(),
                    digest.len()
                ),
            })
        }
    }
}

/// The public half of a [`TokenKey`], as the token stores it.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// An ECDSA key: its curve and its uncompressed SEC 1 point (`04 || x || y`).
    Ec {
        /// [`KeyAlgorithm::EcdsaP256`] or [`KeyAlgorithm::EcdsaP384`].
        algorithm: KeyAlgorithm,
        /// The SEC 1 encoded point (without the `CKA_EC_POINT` OCTET STRING wrapper).
        point: Vec<u8>,
    },
    /// An RSA key: big-endian modulus and public exponent.
    Rsa {
        /// `CKA_MODULUS`.
        modulus: Vec<u8>,
        /// `CKA_PUBLIC_EXPONENT`.
        public_exponent: Vec<u8>,
    },
    /// An Ed25519 key: its 32 bytes (RFC 8032).
    Ed25519([u8; 32]),
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex = |bytes: &[u8]| bytes.iter().map(|b| format!("{b:02x}")).collect::<String>();
        match self {
            PublicKey::Ec { algorithm, point } => f
                .debug_struct("Ec")
                .field("algorithm", algorithm)
                .field("point", &hex(point))
                .finish(),
            PublicKey::Rsa {
                modulus,
                public_exponent,
            } => f
                .debug_struct("Rsa")
                .field("modulus_bits", &(8 * modulus.len()))
                .field("public_exponent", &hex(public_exponent))
                .finish(),
            PublicKey::Ed25519(key) => f.debug_tuple("Ed25519").field(&hex(key)).finish(),
        }
    }
}

/// DER of the OID of P-256 (`secp256r1`, 1.2.840.10045.3.1.7) as `CKA_EC_PARAMS`.
const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of the OID of P-384 (`secp384r1`, 1.3.132.0.34) as `CKA_EC_PARAMS`.
const P384_PARAMS: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
/// DER of the OID of Ed25519 (`id-Ed25519`, 1.3.101.112, RFC 8410) as `CKA_EC_PARAMS`.
const ED25519_OID_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
/// DER of the PrintableString `edwards25519`: the curve name PKCS #11 3.0 allows as
/// `CKA_EC_PARAMS` of an Edwards key.
const ED25519_NAME_PARAMS: &[u8] = b"\x13\x0cedwards25519";

/// The algorithm of an EC (`edwards` false) or Edwards key from its `CKA_EC_PARAMS`.
fn ec_algorithm(params: &[u8], edwards: bool) -> Option<KeyAlgorithm> {
    match (edwards, params) {
        (false, P256_PARAMS) => Some(KeyAlgorithm::EcdsaP256),
        (false, P384_PARAMS) => Some(KeyAlgorithm::EcdsaP384),
        (true, ED25519_OID_PARAMS | ED25519_NAME_PARAMS) => Some(KeyAlgorithm::Ed25519),
        _ => None,
    }
}

/// The raw public key bytes of `CKA_EC_POINT` for a key whose raw encoding is `len`
/// bytes: PKCS #11 wraps them in a DER OCTET STRING, some modules give them bare.
fn unwrap_point(value: &[u8], len: usize) -> Option<&[u8]> {
    if value.len() == len {
        return Some(value);
    }
    // A short-form (< 128) or one-byte long-form (0x81) DER length.
    let body = match value {
        [0x04, 0x81, n, rest @ ..] if usize::from(*n) >= 0x80 && usize::from(*n) == rest.len() => {
            rest
        }
        [0x04, n, rest @ ..] if usize::from(*n) < 0x80 && usize::from(*n) == rest.len() => rest,
        _ => return None,
    };
    (body.len() == len).then_some(body)
}

/// A private key on a token, with the session source to use it: the common base of the
/// typed signers of this module and of `pkcs11::tls::TlsSigningKey`.
///
/// Cheap to clone (clones share the session or pool) and `Send + Sync`.
#[derive(Clone, Debug)]
pub struct TokenKey {
    source: SessionSource,
    private: ObjectHandle,
    public: Option<ObjectHandle>,
    algorithm: KeyAlgorithm,
}

impl TokenKey {
    /// The private key `private`, reached through `source`: reads its class, key type and
    /// `CKA_EC_PARAMS` / `CKA_MODULUS` (or `CKA_MODULUS_BITS`) to learn its algorithm.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the object is not a private key of a supported
    /// algorithm (ECDSA P-256 / P-384, RSA, Ed25519), naming what it is; the errors of
    /// `C_GetAttributeValue`.
    #[doc(alias = "C_GetAttributeValue")]
    pub fn new(source: impl Into<SessionSource>, private: ObjectHandle) -> Result<TokenKey> {
        let source = source.into();
        let algorithm = source.with_session(|session| key_algorithm(session, private))?;
        Ok(TokenKey {
            source,
            private,
            public: None,
            algorithm,
        })
    }

    /// The one private key matching `template` (`CKA_CLASS = CKO_PRIVATE_KEY` is added).
    ///
    /// # Errors
    /// [`Error::NotFound`] / [`Error::MoreThanOne`] when not exactly one private key
    /// matches; as [`TokenKey::new`].
    #[doc(alias = "C_FindObjectsInit")]
    pub fn find(source: impl Into<SessionSource>, template: &[Attribute]) -> Result<TokenKey> {
        let source = source.into();
        let mut full = vec![Attribute::Class(ObjectClass::PrivateKey)];
        full.extend_from_slice(template);
        let private = source.with_session(|session| session.find_one(&full))?;
        TokenKey::new(source, private)
    }

    /// The one private key labelled `label` (`CKA_LABEL`).
    ///
    /// # Errors
    /// As [`TokenKey::find`].
    pub fn find_by_label(source: impl Into<SessionSource>, label: &str) -> Result<TokenKey> {
        TokenKey::find(source, &[Attribute::Label(label.to_owned())])
    }

    /// The one private key with `CKA_ID` `id`.
    ///
    /// # Errors
    /// As [`TokenKey::find`].
    pub fn find_by_id(source: impl Into<SessionSource>, id: &[u8]) -> Result<TokenKey> {
        TokenKey::find(source, &[Attribute::Id(id.to_vec())])
    }

    /// Reads the public key from the public-key object `public` instead of searching for
    /// it (see [`TokenKey::public_key`]).
    #[must_use]
    pub fn with_public_key_object(mut self, public: ObjectHandle) -> TokenKey {
        self.public = Some(public);
        self
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> KeyAlgorithm {
        self.algorithm
    }

    /// The private key's handle.
    pub fn handle(&self) -> ObjectHandle {
        self.private
    }

    /// Where the key gets its sessions.
    pub fn session_source(&self) -> &SessionSource {
        &self.source
    }

    /// The public half: read from the object given to
    /// [`with_public_key_object`](Self::with_public_key_object); else from the private
    /// key itself (`CKA_MODULUS` / `CKA_PUBLIC_EXPONENT` of an RSA key, `CKA_EC_POINT`
    /// where the module keeps it on the private key); else from the one public key
    /// object of the same key type with the private key's `CKA_ID` (or, without an ID,
    /// its `CKA_LABEL`) and, for ECDSA keys, the same `CKA_EC_PARAMS`.
    ///
    /// # Errors
    /// [`Error::NotFound`] naming the private key when no public half is found,
    /// [`Error::MoreThanOne`] when several candidates match;
    /// [`Error::ModuleContract`] when the stored point has the wrong length for the
    /// curve; the errors of `C_GetAttributeValue` and the search.
    #[doc(alias = "C_GetAttributeValue")]
    pub fn public_key(&self) -> Result<PublicKey> {
        self.source.with_session(|session| {
            if let Some(public) = self.public {
                return self
                    .read_public(session, public)?
                    .ok_or_else(|| Error::NotFound {
                        what: format!(
                            "the public key in object {:?} (CKA_EC_POINT or CKA_MODULUS / \
                         CKA_PUBLIC_EXPONENT) for private key {:?}",
                            public, self.private
                        ),
                    });
            }
            if let Some(key) = self.read_public(session, self.private)? {
                return Ok(key);
            }
            let public = self.find_public(session)?;
            self.read_public(session, public)?
                .ok_or_else(|| Error::NotFound {
                    what: format!(
                        "the public key value of object {public:?}, the public half of \
                         private key {:?}",
                        self.private
                    ),
                })
        })
    }

    /// The public key stored on `object`, if it has one.
    fn read_public(&self, session: &Session, object: ObjectHandle) -> Result<Option<PublicKey>> {
        match self.algorithm {
            KeyAlgorithm::Rsa { .. } => {
                let values = session.get_attributes(
                    object,
                    &[AttributeType::Modulus, AttributeType::PublicExponent],
                )?;
                match (bytes(&values[0]), bytes(&values[1])) {
                    (Some(modulus), Some(public_exponent)) if !public_exponent.is_empty() => {
                        Ok(Some(PublicKey::Rsa {
                            modulus: modulus.to_vec(),
                            public_exponent: public_exponent.to_vec(),
                        }))
                    }
                    _ => Ok(None),
                }
            }
            algorithm => {
                let values = session.get_attributes(object, &[AttributeType::EcPoint])?;
                let Some(value) = bytes(&values[0]).filter(|value| !value.is_empty()) else {
                    return Ok(None);
                };
                let raw_len = match algorithm {
                    KeyAlgorithm::EcdsaP256 => 65,
                    KeyAlgorithm::EcdsaP384 => 97,
                    _ => 32,
                };
                let raw = unwrap_point(value, raw_len).ok_or_else(|| Error::ModuleContract {
                    function: "C_GetAttributeValue",
                    what: format!(
                        "CKA_EC_POINT of object {object:?} is {} bytes, neither a {algorithm:?} \
                         public key of {raw_len} bytes nor one in a DER OCTET STRING",
                        value.len()
                    ),
                })?;
                Ok(Some(match algorithm {
                    KeyAlgorithm::Ed25519 => {
                        let mut key = [0u8; 32];
                        key.copy_from_slice(raw);
                        PublicKey::Ed25519(key)
                    }
                    _ if raw.first() != Some(&0x04) => {
                        return Err(Error::ModuleContract {
                            function: "C_GetAttributeValue",
                            what: format!(
                                "CKA_EC_POINT of object {object:?} is not an uncompressed point"
                            ),
                        })
                    }
                    _ => PublicKey::Ec {
                        algorithm,
                        point: raw.to_vec(),
                    },
                }))
            }
        }
    }

    /// The public-key object paired with the private key.
    fn find_public(&self, session: &Session) -> Result<ObjectHandle> {
        let values = session.get_attributes(
            self.private,
            &[
                AttributeType::Id,
                AttributeType::Label,
                AttributeType::KeyType,
                AttributeType::EcParams,
            ],
        )?;
        let mut template = vec![Attribute::Class(ObjectClass::PublicKey)];
        let mut values = values.into_iter().map(AttributeResult::into_value);
        let id = values.next().flatten();
        let label = values.next().flatten();
        let key_type = values.next().flatten();
        let params = values.next().flatten();
        match (id, label) {
            (Some(id), _) if id.as_bytes().is_some_and(|id| !id.is_empty()) => template.push(id),
            (_, Some(label)) if label.as_bytes().is_some_and(|l| !l.is_empty()) => {
                template.push(label);
            }
            _ => {
                return Err(Error::NotFound {
                    what: format!(
                        "the public half of private key {:?}: it has neither a CKA_ID nor a \
                         CKA_LABEL to find it by (pass the public key object with \
                         TokenKey::with_public_key_object)",
                        self.private
                    ),
                })
            }
        }
        template.extend(key_type);
        // Not for Edwards keys: SoftHSM 2.6 gives the private key the curve's name
        // (`edwards25519`) and the public key its OID.
        if matches!(
            self.algorithm,
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384
        ) {
            template.extend(params);
        }
        session.find_one(&template).map_err(|e| match e {
            Error::NotFound { what } => Error::NotFound {
                what: format!("{what} (the public half of private key {:?})", self.private),
            },
            Error::MoreThanOne { what } => Error::MoreThanOne {
                what: format!("{what} (the public half of private key {:?})", self.private),
            },
            other => other,
        })
    }

    /// Signs with `mechanism` on a session from the source (`C_SignInit` + `C_Sign`).
    ///
    /// # Errors
    /// The errors of [`Session::sign`] and of the session source.
    #[doc(alias = "C_Sign")]
    pub fn sign_raw(&self, mechanism: &Mechanism<'_>, data: &[u8]) -> Result<Vec<u8>> {
        self.source
            .with_session(|session| session.sign(mechanism, self.private, data))
    }

    /// ECDSA over an already computed hash with `CKM_ECDSA`: `r || s`, each as long as
    /// the curve's field.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the key is not an ECDSA key or `prehash` is empty;
    /// [`Error::ModuleContract`] if the token's signature has the wrong length; as
    /// [`TokenKey::sign_raw`].
    #[doc(alias = "CKM_ECDSA")]
    pub fn sign_ecdsa_prehash(&self, prehash: &[u8]) -> Result<Vec<u8>> {
        if !matches!(
            self.algorithm,
            KeyAlgorithm::EcdsaP256 | KeyAlgorithm::EcdsaP384
        ) {
            return Err(self.wrong_algorithm("ECDSA"));
        }
        if prehash.is_empty() {
            return Err(Error::InvalidInput {
                what: "an ECDSA hash to sign is empty".into(),
            });
        }
        let signature = self.sign_raw(&Mechanism::Ecdsa, prehash)?;
        self.check_signature_len("CKM_ECDSA", &signature)?;
        Ok(signature)
    }

    /// RSA PKCS #1 v1.5 over an already computed `hash` digest: `CKM_RSA_PKCS` over the
    /// `DigestInfo` built here.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the key is not an RSA key or the digest has the wrong
    /// length; [`Error::ModuleContract`] if the signature is not as long as the modulus;
    /// as [`TokenKey::sign_raw`].
    #[doc(alias = "CKM_RSA_PKCS")]
    pub fn sign_pkcs1v15_prehash(&self, hash: HashAlgorithm, digest: &[u8]) -> Result<Vec<u8>> {
        if !matches!(self.algorithm, KeyAlgorithm::Rsa { .. }) {
            return Err(self.wrong_algorithm("RSA PKCS #1 v1.5"));
        }
        let info = hash.digest_info(digest)?;
        let signature = self.sign_raw(&Mechanism::RsaPkcs, &info)?;
        self.check_signature_len("CKM_RSA_PKCS", &signature)?;
        Ok(signature)
    }

    /// RSA-PSS over an already computed `hash` digest with `CKM_RSA_PKCS_PSS`, MGF1 with
    /// the same hash and a salt as long as the digest (what TLS 1.3 and X.509 expect).
    ///
    /// # Errors
    /// As [`TokenKey::sign_pkcs1v15_prehash`].
    #[doc(alias = "CKM_RSA_PKCS_PSS")]
    pub fn sign_pss_prehash(&self, hash: HashAlgorithm, digest: &[u8]) -> Result<Vec<u8>> {
        if !matches!(self.algorithm, KeyAlgorithm::Rsa { .. }) {
            return Err(self.wrong_algorithm("RSA-PSS"));
        }
        hash.check_len(digest)?;
        // Lossless: digests are at most 64 bytes.
        let params = PssParams::new(hash.mechanism_type(), hash.mgf1(), hash.output_len() as u32);
        let signature = self.sign_raw(&Mechanism::RsaPkcsPss(params), digest)?;
        self.check_signature_len("CKM_RSA_PKCS_PSS", &signature)?;
        Ok(signature)
    }

    /// Pure Ed25519 over `message` with `CKM_EDDSA` (no parameters).
    ///
    /// # Errors
    /// [`Error::InvalidInput`] if the key is not an Ed25519 key;
    /// [`Error::ModuleContract`] if the signature is not 64 bytes; as
    /// [`TokenKey::sign_raw`].
    #[doc(alias = "CKM_EDDSA")]
    pub fn sign_ed25519(&self, message: &[u8]) -> Result<Vec<u8>> {
        if self.algorithm != KeyAlgorithm::Ed25519 {
            return Err(self.wrong_algorithm("Ed25519"));
        }
        let signature = self.sign_raw(&Mechanism::Eddsa, message)?;
        self.check_signature_len("CKM_EDDSA", &signature)?;
        Ok(signature)
    }

    fn wrong_algorithm(&self, wanted: &str) -> Error {
        Error::InvalidInput {
            what: format!(
                "private key {:?} is a {:?} key, not a {wanted} key",
                self.private, self.algorithm
            ),
        }
    }

    fn check_signature_len(&self, mechanism: &str, signature: &[u8]) -> Result<()> {
        let expected = self.algorithm.signature_len();
        if signature.len() == expected {
            Ok(())
        } else {
            Err(Error::ModuleContract {
                function: "C_Sign",
                what: format!(
                    "a {mechanism} signature with {:?} key {:?} is {} bytes, not {expected}",
                    self.algorithm,
                    self.private,
                    signature.len()
                ),
            })
        }
    }
}

/// The bytes of an attribute result, if it has a value.
fn bytes(result: &AttributeResult) -> Option<&[u8]> {
    result.value().and_then(Attribute::as_bytes)
}

/// The algorithm of private key `object`.
fn key_algorithm(session: &Session, object: ObjectHandle) -> Result<KeyAlgorithm> {
    let values = session.get_attributes(
        object,
        &[
            AttributeType::Class,
            AttributeType::KeyType,
            AttributeType::EcParams,
            AttributeType::Modulus,
            AttributeType::ModulusBits,
        ],
    )?;
    let ulong = |i: usize| values[i].value().and_then(Attribute::as_ulong);
    let class = ulong(0);
    if class != Some(ObjectClass::PrivateKey.raw()) {
        return Err(Error::InvalidInput {
            what: format!(
                "object {object:?} is not a private key (CKA_CLASS {})",
                class.map_or_else(
                    || "unreadable".to_owned(),
                    |class| ObjectClass::from_raw(class)
                        .name()
                        .map_or_else(|| format!("{class:#x}"), str::to_owned)
                )
            ),
        });
    }
    let key_type = ulong(1).map(KeyType::from_raw);
    let unsupported = |what: String| Error::InvalidInput {
        what: format!("private key {object:?}: {what}"),
    };
    match key_type {
        Some(KeyType::Rsa) => {
            let bits = match bytes(&values[3]) {
                Some(modulus) if !modulus.is_empty() => {
                    let leading = modulus.iter().take_while(|b| **b == 0).count();
                    let modulus = &modulus[leading..];
                    modulus.first().map_or(0, |first| {
                        8 * modulus.len() - first.leading_zeros() as usize
                    })
                }
                _ => ulong(4).map_or(0, |bits| bits as usize),
            };
            if bits == 0 {
                return Err(unsupported(
                    "its RSA modulus length cannot be read (neither CKA_MODULUS nor \
                     CKA_MODULUS_BITS)"
                        .into(),
                ));
            }
            Ok(KeyAlgorithm::Rsa { bits })
        }
        Some(kind @ (KeyType::Ec | KeyType::EcEdwards)) => {
            let params = bytes(&values[2]).unwrap_or_default();
            ec_algorithm(params, matches!(kind, KeyType::EcEdwards)).ok_or_else(|| {
                unsupported(format!(
                    "its curve (CKA_EC_PARAMS {}) is not supported: P-256, P-384 and \
                     Ed25519 are",
                    params
                        .iter()
                        .map(|b| format!("{b:02x}"))
                        .collect::<String>()
                ))
            })
        }
        other => Err(unsupported(format!(
            "its key type {} is not supported: RSA, EC (P-256, P-384) and EC_EDWARDS \
             (Ed25519) are",
            other.and_then(|kind| kind.name()).unwrap_or("(unreadable)")
        ))),
    }
}

#[cfg(feature = "rustcrypto")]
pub use self::rustcrypto::{
    Ed25519SigningKey, P256SigningKey, P384SigningKey, RsaDigest, RsaPkcs1v15SigningKey,
    RsaPssSigningKey,
};

/// The RustCrypto trait implementations.
#[cfg(feature = "rustcrypto")]
mod rustcrypto {
    use core::marker::PhantomData;

    use sha2::Digest as _;
    use signature::hazmat::PrehashSigner;
    use signature::{DigestSigner, Keypair, Signer};
    use spki::{AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier};

    use super::{HashAlgorithm, KeyAlgorithm, PublicKey, TokenKey};
    use crate::error::{Error, Result};

    /// A crate error as the `signature` crate's error, keeping it as the source.
    fn signature_error(error: Error) -> signature::Error {
        signature::Error::from_source(error)
    }

    /// The public key of `key`, checked to be of `algorithm`.
    fn public_of(key: &TokenKey, algorithm: KeyAlgorithm, wanted: &str) -> Result<PublicKey> {
        if key.algorithm() != algorithm
            && !(matches!(algorithm, KeyAlgorithm::Rsa { .. })
                && matches!(key.algorithm(), KeyAlgorithm::Rsa { .. }))
        {
            return Err(key.wrong_algorithm(wanted));
        }
        key.public_key()
    }

    macro_rules! ecdsa_key {
        (
            $(#[$meta:meta])*
            $name:ident, $krate:ident, $algorithm:ident, $hash:ident, $digest:ty, $curve:literal
        ) => {
            $(#[$meta])*
            #[derive(Clone, Debug)]
            pub struct $name {
                key: TokenKey,
                verifying: $krate::ecdsa::VerifyingKey,
            }

            impl $name {
                #[doc = concat!("The ", $curve, " key `key`, with its public half ")]
                /// (see [`TokenKey::public_key`]).
                ///
                /// # Errors
                #[doc = concat!("[`Error::InvalidInput`] if `key` is not a ", $curve)]
                /// key or its public point is not on the curve; the errors of
                /// [`TokenKey::public_key`].
                pub fn new(key: TokenKey) -> Result<$name> {
                    let PublicKey::Ec { point, .. } =
                        public_of(&key, KeyAlgorithm::$algorithm, $curve)?
                    else {
                        return Err(key.wrong_algorithm($curve));
                    };
                    let verifying = $krate::ecdsa::VerifyingKey::from_sec1_bytes(&point)
                        .map_err(|_| Error::InvalidInput {
                            what: format!(
                                concat!("the public point of key {:?} is not on ", $curve),
                                key.handle()
                            ),
                        })?;
                    Ok($name { key, verifying })
                }

                /// The token key.
                pub fn token_key(&self) -> &TokenKey {
                    &self.key
                }

                fn sign_prehash_result(
                    &self,
                    prehash: &[u8],
                ) -> Result<$krate::ecdsa::Signature> {
                    let raw = self.key.sign_ecdsa_prehash(prehash)?;
                    $krate::ecdsa::Signature::from_slice(&raw).map_err(|_| {
                        Error::ModuleContract {
                            function: "C_Sign",
                            what: format!(
                                concat!("the ", $curve, " signature of key {:?} has r or s \
                                         out of range"),
                                self.key.handle()
                            ),
                        }
                    })
                }
            }

            impl PrehashSigner<$krate::ecdsa::Signature> for $name {
                fn sign_prehash(
                    &self,
                    prehash: &[u8],
                ) -> signature::Result<$krate::ecdsa::Signature> {
                    self.sign_prehash_result(prehash).map_err(signature_error)
                }
            }

            impl DigestSigner<$digest, $krate::ecdsa::Signature> for $name {
                fn try_sign_digest(
                    &self,
                    digest: $digest,
                ) -> signature::Result<$krate::ecdsa::Signature> {
                    self.sign_prehash(&digest.finalize())
                }
            }

            impl Signer<$krate::ecdsa::Signature> for $name {
                fn try_sign(&self, message: &[u8]) -> signature::Result<$krate::ecdsa::Signature> {
                    self.sign_prehash(&HashAlgorithm::$hash.digest(message))
                }
            }

            impl Signer<$krate::ecdsa::DerSignature> for $name {
                fn try_sign(
                    &self,
                    message: &[u8],
                ) -> signature::Result<$krate::ecdsa::DerSignature> {
                    let signature: $krate::ecdsa::Signature = self.try_sign(message)?;
                    Ok(signature.to_der())
                }
            }

            impl Keypair for $name {
                type VerifyingKey = $krate::ecdsa::VerifyingKey;

                fn verifying_key(&self) -> Self::VerifyingKey {
                    self.verifying
                }
            }

            impl spki::SignatureAlgorithmIdentifier for $name {
                type Params = <$krate::ecdsa::VerifyingKey
                    as spki::SignatureAlgorithmIdentifier>::Params;
                const SIGNATURE_ALGORITHM_IDENTIFIER: spki::AlgorithmIdentifier<Self::Params> =
                    <$krate::ecdsa::VerifyingKey
                        as spki::SignatureAlgorithmIdentifier>::SIGNATURE_ALGORITHM_IDENTIFIER;
            }
        };
    }

    ecdsa_key!(
        /// An ECDSA P-256 private key on a token as a RustCrypto signer: SHA-256 in Rust,
        /// `CKM_ECDSA` on the token; `p256::ecdsa::Signature` (fixed `r || s`) or
        /// `DerSignature`, verified by `p256::ecdsa::VerifyingKey`; `ecdsa-with-SHA256`
        /// as its X.509 signature algorithm.
        ///
        /// ```no_run
        /// use std::sync::Arc;
        /// use pkcs11::signer::{P256SigningKey, TokenKey};
        /// use pkcs11::{Pin, Pkcs11, UserType};
        /// use p256::ecdsa::signature::{Keypair, Signer, Verifier};
        ///
        /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
        /// let p11 = Pkcs11::open("/usr/lib/softhsm/libsofthsm2.so")?;
        /// let session = p11.token_by_label("app")?.open_ro_session()?;
        /// session.login(UserType::User, &Pin::from("1234"))?;
        /// let key = P256SigningKey::new(TokenKey::find_by_label(Arc::new(session), "tls")?)?;
        /// let signature: p256::ecdsa::Signature = key.try_sign(b"message")?;
        /// key.verifying_key().verify(b"message", &signature)?;
        /// # Ok(())
        /// # }
        /// ```
        P256SigningKey, p256, EcdsaP256, Sha256, sha2::Sha256, "P-256"
    );
    ecdsa_key!(
        /// An ECDSA P-384 private key on a token as a RustCrypto signer: SHA-384 in Rust,
        /// `CKM_ECDSA` on the token; `p384::ecdsa::Signature` (fixed `r || s`) or
        /// `DerSignature`, verified by `p384::ecdsa::VerifyingKey`; `ecdsa-with-SHA384`
        /// as its X.509 signature algorithm.
        P384SigningKey, p384, EcdsaP384, Sha384, sha2::Sha384, "P-384"
    );

    /// A hash the RSA signers accept: `sha2::Sha256`, `Sha384` or `Sha512` (sealed).
    pub trait RsaDigest:
        sha2::Digest
        + sha2::digest::FixedOutputReset
        + sha2::digest::const_oid::AssociatedOid
        + rsa::pkcs1v15::RsaSignatureAssociatedOid
        + Send
        + Sync
        + 'static
        + sealed::Sealed
    {
        /// The same hash for the token calls.
        const HASH: HashAlgorithm;
    }

    mod sealed {
        #[allow(unreachable_pub)] // sealed-trait pattern: nameable but not implementable
        pub trait Sealed {}
        impl Sealed for sha2::Sha256 {}
        impl Sealed for sha2::Sha384 {}
        impl Sealed for sha2::Sha512 {}
    }

    impl RsaDigest for sha2::Sha256 {
        const HASH: HashAlgorithm = HashAlgorithm::Sha256;
    }
    impl RsaDigest for sha2::Sha384 {
        const HASH: HashAlgorithm = HashAlgorithm::Sha384;
    }
    impl RsaDigest for sha2::Sha512 {
        const HASH: HashAlgorithm = HashAlgorithm::Sha512;
    }

    /// The `rsa` crate's public key of an RSA `key`.
    fn rsa_public(key: &TokenKey) -> Result<rsa::RsaPublicKey> {
        let PublicKey::Rsa {
            modulus,
            public_exponent,
        } = public_of(key, KeyAlgorithm::Rsa { bits: 0 }, "RSA")?
        else {
            return Err(key.wrong_algorithm("RSA"));
        };
        rsa::RsaPublicKey::new_with_max_size(
            rsa::BigUint::from_bytes_be(&modulus),
            rsa::BigUint::from_bytes_be(&public_exponent),
            16384,
        )
        .map_err(|e| Error::InvalidInput {
            what: format!(
                "the RSA public key of {:?} is not usable by the `rsa` crate: {e}",
                key.handle()
            ),
        })
    }

    macro_rules! rsa_key {
        (
            $(#[$meta:meta])*
            $name:ident, $module:ident, $sign:ident, $what:literal
        ) => {
            $(#[$meta])*
            pub struct $name<D: RsaDigest> {
                key: TokenKey,
                verifying: rsa::$module::VerifyingKey<D>,
                digest: PhantomData<fn() -> D>,
            }

            impl<D: RsaDigest> $name<D> {
                /// The RSA key `key`, with its public half (see [`TokenKey::public_key`]).
                ///
                /// # Errors
                /// [`Error::InvalidInput`] if `key` is not an RSA key or the `rsa` crate
                /// refuses its public key (a modulus above 16384 bits...); the errors of
                /// [`TokenKey::public_key`].
                pub fn new(key: TokenKey) -> Result<Self> {
                    let verifying = rsa::$module::VerifyingKey::<D>::new(rsa_public(&key)?);
                    Ok($name {
                        key,
                        verifying,
                        digest: PhantomData,
                    })
                }

                /// The token key.
                pub fn token_key(&self) -> &TokenKey {
                    &self.key
                }
            }

            impl<D: RsaDigest> Clone for $name<D> {
                fn clone(&self) -> Self {
                    $name {
                        key: self.key.clone(),
                        verifying: self.verifying.clone(),
                        digest: PhantomData,
                    }
                }
            }

            impl<D: RsaDigest> core::fmt::Debug for $name<D> {
                fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                    f.debug_struct(stringify!($name))
                        .field("hash", &D::HASH)
                        .field("key", &self.key)
                        .finish()
                }
            }

            impl<D: RsaDigest> PrehashSigner<rsa::$module::Signature> for $name<D> {
                fn sign_prehash(
                    &self,
                    prehash: &[u8],
                ) -> signature::Result<rsa::$module::Signature> {
                    let raw = self.key.$sign(D::HASH, prehash).map_err(signature_error)?;
                    rsa::$module::Signature::try_from(raw.as_slice())
                }
            }

            impl<D: RsaDigest> DigestSigner<D, rsa::$module::Signature> for $name<D> {
                fn try_sign_digest(&self, digest: D) -> signature::Result<rsa::$module::Signature> {
                    self.sign_prehash(&digest.finalize())
                }
            }

            impl<D: RsaDigest> Signer<rsa::$module::Signature> for $name<D> {
                fn try_sign(&self, message: &[u8]) -> signature::Result<rsa::$module::Signature> {
                    self.sign_prehash(&D::digest(message))
                }
            }

            impl<D: RsaDigest> Keypair for $name<D> {
                type VerifyingKey = rsa::$module::VerifyingKey<D>;

                fn verifying_key(&self) -> Self::VerifyingKey {
                    self.verifying.clone()
                }
            }
        };
    }

    rsa_key!(
        /// An RSA private key on a token as a RustCrypto PKCS #1 v1.5 signer with hash
        /// `D`: `D` in Rust, `CKM_RSA_PKCS` over the `DigestInfo` on the token;
        /// `rsa::pkcs1v15::Signature`, verified by `rsa::pkcs1v15::VerifyingKey<D>`;
        /// `sha256WithRSAEncryption` (...) as its X.509 signature algorithm.
        RsaPkcs1v15SigningKey, pkcs1v15, sign_pkcs1v15_prehash, "PKCS #1 v1.5"
    );
    rsa_key!(
        /// An RSA private key on a token as a RustCrypto RSA-PSS signer with hash `D`:
        /// `D` in Rust, `CKM_RSA_PKCS_PSS` (MGF1 with `D`, salt as long as the digest)
        /// on the token; `rsa::pss::Signature`, verified by `rsa::pss::VerifyingKey<D>`;
        /// `id-RSASSA-PSS` with those parameters as its X.509 signature algorithm.
        RsaPssSigningKey, pss, sign_pss_prehash, "PSS"
    );

    impl<D: RsaDigest> spki::SignatureAlgorithmIdentifier for RsaPkcs1v15SigningKey<D> {
        type Params =
            <rsa::pkcs1v15::VerifyingKey<D> as spki::SignatureAlgorithmIdentifier>::Params;
        const SIGNATURE_ALGORITHM_IDENTIFIER: spki::AlgorithmIdentifier<Self::Params> =
            <rsa::pkcs1v15::VerifyingKey<D> as spki::SignatureAlgorithmIdentifier>::SIGNATURE_ALGORITHM_IDENTIFIER;
    }

    impl<D: RsaDigest> DynSignatureAlgorithmIdentifier for RsaPssSigningKey<D> {
        fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
            rsa::pss::get_default_pss_signature_algo_id::<D>()
        }
    }

    /// An Ed25519 private key on a token as a RustCrypto signer: `CKM_EDDSA` (pure
    /// Ed25519) on the token; `ed25519::Signature`, verified by
    /// `ed25519_dalek::VerifyingKey`; `id-Ed25519` as its X.509 signature algorithm.
    #[derive(Clone, Debug)]
    pub struct Ed25519SigningKey {
        key: TokenKey,
        verifying: ed25519_dalek::VerifyingKey,
    }

    impl Ed25519SigningKey {
        /// The Ed25519 key `key`, with its public half (see [`TokenKey::public_key`]).
        ///
        /// # Errors
        /// [`Error::InvalidInput`] if `key` is not an Ed25519 key or its public key is not
        /// a valid point; the errors of [`TokenKey::public_key`].
        pub fn new(key: TokenKey) -> Result<Ed25519SigningKey> {
            let PublicKey::Ed25519(bytes) = public_of(&key, KeyAlgorithm::Ed25519, "Ed25519")?
            else {
                return Err(key.wrong_algorithm("Ed25519"));
            };
            let verifying = ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|_| {
                Error::InvalidInput {
                    what: format!(
                        "the public key of {:?} is not an Ed25519 point",
                        key.handle()
                    ),
                }
            })?;
            Ok(Ed25519SigningKey { key, verifying })
        }

        /// The token key.
        pub fn token_key(&self) -> &TokenKey {
            &self.key
        }
    }

    impl Signer<ed25519_dalek::Signature> for Ed25519SigningKey {
        fn try_sign(&self, message: &[u8]) -> signature::Result<ed25519_dalek::Signature> {
            let raw = self.key.sign_ed25519(message).map_err(signature_error)?;
            ed25519_dalek::Signature::from_slice(&raw)
        }
    }

    impl Keypair for Ed25519SigningKey {
        type VerifyingKey = ed25519_dalek::VerifyingKey;

        fn verifying_key(&self) -> Self::VerifyingKey {
            self.verifying
        }
    }

    impl DynSignatureAlgorithmIdentifier for Ed25519SigningKey {
        fn signature_algorithm_identifier(&self) -> spki::Result<AlgorithmIdentifierOwned> {
            self.verifying.signature_algorithm_identifier()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync + Clone>() {}

    #[test]
    fn keys_are_send_sync_clone() {
        assert_send_sync::<SessionSource>();
        assert_send_sync::<TokenKey>();
        #[cfg(feature = "rustcrypto")]
        {
            assert_send_sync::<P256SigningKey>();
            assert_send_sync::<P384SigningKey>();
            assert_send_sync::<RsaPkcs1v15SigningKey<sha2::Sha256>>();
            assert_send_sync::<RsaPssSigningKey<sha2::Sha512>>();
            assert_send_sync::<Ed25519SigningKey>();
        }
    }

    #[test]
    fn digest_info_matches_rfc_8017() {
        // RFC 8017, section 9.2, note 1: the DER prefixes end with the OCTET STRING
        // header of the digest; the whole is one SEQUENCE of the announced length.
        for hash in [
            HashAlgorithm::Sha256,
            HashAlgorithm::Sha384,
            HashAlgorithm::Sha512,
        ] {
            let digest = hash.digest(b"abc");
            assert_eq!(digest.len(), hash.output_len());
            let info = hash.digest_info(&digest).unwrap();
            assert_eq!(info[0], 0x30);
            assert_eq!(usize::from(info[1]), info.len() - 2, "{hash:?}");
            assert_eq!(
                &info[info.len() - digest.len() - 2..][..2],
                &[0x04, digest.len() as u8]
            );
            assert!(hash.digest_info(&digest[1..]).is_err());
        }
        // SHA-256 of "abc" (FIPS 180-2 example).
        assert_eq!(
            HashAlgorithm::Sha256.digest(b"abc")[..4],
            [0xba, 0x78, 0x16, 0xbf]
        );
    }

    #[test]
    fn curves_from_ec_params() {
        assert_eq!(
            ec_algorithm(P256_PARAMS, false),
            Some(KeyAlgorithm::EcdsaP256)
        );
        assert_eq!(
            ec_algorithm(P384_PARAMS, false),
            Some(KeyAlgorithm::EcdsaP384)
        );
        assert_eq!(
            ec_algorithm(ED25519_OID_PARAMS, true),
            Some(KeyAlgorithm::Ed25519)
        );
        assert_eq!(
            ec_algorithm(ED25519_NAME_PARAMS, true),
            Some(KeyAlgorithm::Ed25519)
        );
        assert_eq!(ec_algorithm(ED25519_OID_PARAMS, false), None);
        assert_eq!(ec_algorithm(P256_PARAMS, true), None);
        // Ed448 (1.3.101.113).
        assert_eq!(ec_algorithm(&[0x06, 0x03, 0x2b, 0x65, 0x71], true), None);
    }

    #[test]
    fn points_with_and_without_octet_string() {
        let mut point = vec![0x04];
        point.extend((0..64).map(|i| i as u8 ^ 0x3f));
        point[1] = 63; // a bare point whose second byte looks like a DER length
        assert_eq!(unwrap_point(&point, 65), Some(&point[..]));
        let mut wrapped = vec![0x04, 65];
        wrapped.extend_from_slice(&point);
        assert_eq!(unwrap_point(&wrapped, 65), Some(&point[..]));
        let mut long = vec![0x04, 0x81, 0x80];
        long.extend((0..0x80).map(|i| i as u8));
        assert_eq!(unwrap_point(&long, 0x80), Some(&long[3..]));
        assert_eq!(unwrap_point(&wrapped, 97), None);
        assert_eq!(unwrap_point(&wrapped[..10], 65), None);
        let ed = [7u8; 32];
        let mut ed_wrapped = vec![0x04, 0x20];
        ed_wrapped.extend_from_slice(&ed);
        assert_eq!(unwrap_point(&ed_wrapped, 32), Some(&ed[..]));
        assert_eq!(unwrap_point(&ed, 32), Some(&ed[..]));
    }

    #[test]
    fn signature_lengths() {
        assert_eq!(KeyAlgorithm::Rsa { bits: 2048 }.signature_len(), 256);
        assert_eq!(KeyAlgorithm::Rsa { bits: 2047 }.signature_len(), 256);
        assert_eq!(KeyAlgorithm::EcdsaP384.signature_len(), 96);
    }
}
