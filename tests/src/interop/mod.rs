//! Helpers of the interop suites (`interop_*`): key objects built from values an
//! independent implementation made (or values read back from the token so that one can
//! use them), and the small DER pieces PKCS #11 and the RustCrypto crates disagree on.
//!
//! Every helper panics with the module's name and the failing call on error: these are
//! test fixtures, and a fixture that cannot be built must fail the test loudly.

pub mod der;

use pkcs11::{
    Attribute, AttributeType, KeyType, Mechanism, ObjectClass, ObjectHandle, SecretBytes, Session,
};

use crate::modules::TestToken;

/// DER of the OID of P-256 (`secp256r1`, 1.2.840.10045.3.1.7): its `CKA_EC_PARAMS`.
pub const P256_PARAMS: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
/// DER of the OID of P-384 (`secp384r1`, 1.3.132.0.34): its `CKA_EC_PARAMS`.
pub const P384_PARAMS: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
/// DER of the OID of Ed25519 (1.3.101.112, RFC 8410): its `CKA_EC_PARAMS`.
pub const ED25519_PARAMS: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];

/// The bytes of attribute `ty` of `object` (a byte-string, big-integer or secret value).
///
/// # Panics
/// If the attribute cannot be read or is not a byte string.
pub fn bytes_of(
    token: &TestToken,
    session: &Session,
    object: ObjectHandle,
    ty: AttributeType,
) -> Vec<u8> {
    let attribute = session
        .get_attribute(object, ty)
        .unwrap_or_else(|e| panic!("{}: reading {ty:?} of {object:?}: {e}", token.module.name()));
    attribute
        .as_bytes()
        .unwrap_or_else(|| panic!("{}: {ty:?} is not a byte string", token.module.name()))
        .to_vec()
}

/// The `CK_ULONG` attribute `ty` of `object`.
///
/// # Panics
/// If the attribute cannot be read or is not a `CK_ULONG`.
pub fn ulong_of(
    token: &TestToken,
    session: &Session,
    object: ObjectHandle,
    ty: AttributeType,
) -> pkcs11::ffi::CK_ULONG {
    let attribute = session
        .get_attribute(object, ty)
        .unwrap_or_else(|e| panic!("{}: reading {ty:?} of {object:?}: {e}", token.module.name()));
    attribute
        .as_ulong()
        .unwrap_or_else(|| panic!("{}: {ty:?} is not a CK_ULONG", token.module.name()))
}

/// A session-object key pair made by the token with `mechanism`: (public, private). The
/// public key gets `public` after `CKA_TOKEN = false`, the private key `private` after
/// `CKA_TOKEN = false`, `CKA_PRIVATE = true` and `CKA_SENSITIVE = true`; usage flags come
/// with `public` and `private`.
///
/// # Panics
/// If `C_GenerateKeyPair` fails.
pub fn generate_pair(
    token: &TestToken,
    session: &Session,
    mechanism: &Mechanism<'_>,
    public: &[Attribute],
    private: &[Attribute],
) -> (ObjectHandle, ObjectHandle) {
    let mut public_template = vec![Attribute::Token(false)];
    public_template.extend_from_slice(public);
    let mut private_template = vec![
        Attribute::Token(false),
        Attribute::Private(true),
        Attribute::Sensitive(true),
    ];
    private_template.extend_from_slice(private);
    session
        .generate_key_pair(mechanism, &public_template, &private_template)
        .unwrap_or_else(|e| {
            panic!(
                "{}: generating a {:?} key pair: {e}",
                token.module.name(),
                mechanism.mechanism_type()
            )
        })
}

/// A signing EC key pair on curve `params` (`CKA_EC_PARAMS`), or an Edwards key pair
/// with `edwards`: (public, private).
///
/// # Panics
/// If `C_GenerateKeyPair` fails.
pub fn ec_signing_pair(
    token: &TestToken,
    session: &Session,
    params: &[u8],
    edwards: bool,
) -> (ObjectHandle, ObjectHandle) {
    let mechanism = if edwards {
        Mechanism::EcEdwardsKeyPairGen
    } else {
        Mechanism::EcKeyPairGen
    };
    generate_pair(
        token,
        session,
        &mechanism,
        &[
            Attribute::EcParams(params.to_vec()),
            Attribute::Verify(true),
        ],
        &[Attribute::Sign(true)],
    )
}

/// The public point of an EC (or Edwards) public key, without the DER `OCTET STRING`
/// wrapping PKCS #11 puts around `CKA_EC_POINT`: `len` bytes (65 for an uncompressed
/// P-256 point, 97 for P-384, 32 for Ed25519).
///
/// A module that returns the bare point (as some do for Edwards keys) is accepted; any
/// other length or encoding fails.
///
/// # Panics
/// If the attribute cannot be read or is neither `len` bytes nor a DER `OCTET STRING`
/// of `len` bytes.
pub fn ec_point(token: &TestToken, session: &Session, public: ObjectHandle, len: usize) -> Vec<u8> {
    let value = bytes_of(token, session, public, AttributeType::EcPoint);
    if let Some(inner) = der::parse_octet_string(&value) {
        if inner.len() == len {
            return inner.to_vec();
        }
    }
    assert_eq!(
        value.len(),
        len,
        "{}: CKA_EC_POINT is neither a DER OCTET STRING of {len} bytes nor the bare point: {value:02x?}",
        token.module.name()
    );
    value.to_vec()
}

/// Creates a session public-key object from `template` (which names the key type, the
/// key's values and its usage flags) with `CKA_CLASS = CKO_PUBLIC_KEY` and
/// `CKA_TOKEN = false` added.
///
/// # Panics
/// If `C_CreateObject` fails.
pub fn create_public_key(
    token: &TestToken,
    session: &Session,
    template: &[Attribute],
) -> ObjectHandle {
    let mut full = vec![
        Attribute::Class(ObjectClass::PublicKey),
        Attribute::Token(false),
    ];
    full.extend_from_slice(template);
    session
        .create_object(&full)
        .unwrap_or_else(|e| panic!("{}: creating a public key object: {e}", token.module.name()))
}

/// A session public-key object for the EC point `point` (uncompressed SEC1 for Weierstrass
/// curves, the 32 bytes for Ed25519) on curve `params`, for verification; `CKA_EC_POINT`
/// gets the DER `OCTET STRING` wrapping the spec asks for.
///
/// # Panics
/// If `C_CreateObject` fails.
pub fn import_ec_public(
    token: &TestToken,
    session: &Session,
    params: &[u8],
    point: &[u8],
    edwards: bool,
) -> ObjectHandle {
    let key_type = if edwards {
        KeyType::EcEdwards
    } else {
        KeyType::Ec
    };
    create_public_key(
        token,
        session,
        &[
            Attribute::KeyType(key_type),
            Attribute::EcParams(params.to_vec()),
            Attribute::EcPoint(der::octet_string(point)),
            Attribute::Verify(true),
        ],
    )
}

/// A session secret-key object of type `key_type` holding `value`, extractable and not
/// sensitive (so its value can be read back), with the usage flags in `usage`.
///
/// # Panics
/// If `C_CreateObject` fails.
pub fn import_secret(
    token: &TestToken,
    session: &Session,
    key_type: KeyType,
    value: &[u8],
    usage: &[Attribute],
) -> ObjectHandle {
    let mut template = vec![
        Attribute::Class(ObjectClass::SecretKey),
        Attribute::KeyType(key_type),
        Attribute::Token(false),
        Attribute::Sensitive(false),
        Attribute::Extractable(true),
        Attribute::Value(SecretBytes::new(value.to_vec())),
    ];
    template.extend_from_slice(usage);
    session.create_object(&template).unwrap_or_else(|e| {
        panic!(
            "{}: creating a {key_type:?} secret key of {} bytes: {e}",
            token.module.name(),
            value.len()
        )
    })
}

/// The usage flags of a key that encrypts and decrypts.
pub fn crypt_usage() -> [Attribute; 2] {
    [Attribute::Encrypt(true), Attribute::Decrypt(true)]
}
