//! The typed mechanisms (issue 4, item 1) on both real modules: every cipher family
//! round-trips and matches an independent implementation where one exists, every
//! signature family signs and verifies (and a wrong parameter is caught), digests and
//! MACs equal what RustCrypto computes, and the derivation parameters (SP 800-108,
//! concatenate / XOR / extract, digest and encrypt-data derivations, ECDH with KDFs)
//! produce the key values an independent computation predicts.
//!
//! A test skips on one module only when that module's mechanism list lacks the
//! mechanism (`token.require`, which prints `SKIPPED on <module>`).

use aes::cipher::{BlockEncrypt, KeyInit};
use pkcs11::{
    ffi, AesCbcEncryptDataParams, AesCtrParams, Attribute, AttributeType, CcmParams,
    ChaCha20Params, ChaCha20Poly1305Params, CounterFormat, DkmLengthFormat, EcdhParams,
    EddsaParams, GcmParams, HashSignContext, Hedge, Kdf, KeyDerivationData, KeyType, Mechanism,
    MechanismType, OaepParams, ObjectClass, ObjectHandle, ParameterSet, PrfDataParam, PssParams,
    Session, SignContext, Sp800108FeedbackParams, Sp800108Params,
};
use pkcs11_tests::modules::{each_module, Module, TestToken};

// ---------------------------------------------------------------- helpers

/// DER of the curve OIDs (`CKA_EC_PARAMS`).
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22];
const ED25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x70];
const ED448: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x71];
const X25519: &[u8] = &[0x06, 0x03, 0x2b, 0x65, 0x6e];

const MESSAGE: &[u8] = b"the typed mechanisms of PKCS #11 v3.2, checked on two modules";

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(29).wrapping_add(seed))
        .collect()
}

/// A session secret key of `key_type` with the known `value`, usable for everything.
fn secret_key(session: &Session, key_type: KeyType, value: &[u8]) -> ObjectHandle {
    let mut template = vec![
        Attribute::Class(ObjectClass::SecretKey),
        Attribute::KeyType(key_type),
        Attribute::Value(pkcs11::SecretBytes::new(value.to_vec())),
        Attribute::Token(false),
        Attribute::Sign(true),
        Attribute::Verify(true),
        Attribute::Derive(true),
        Attribute::Extractable(true),
        Attribute::Sensitive(false),
    ];
    if key_type != KeyType::GenericSecret {
        template.push(Attribute::Encrypt(true));
        template.push(Attribute::Decrypt(true));
    }
    session
        .create_object(&template)
        .unwrap_or_else(|e| panic!("create a {key_type:?} key: {e}"))
}

/// The `CKA_VALUE` of a key.
fn value_of(session: &Session, key: ObjectHandle) -> Vec<u8> {
    match session.get_attribute(key, AttributeType::Value) {
        Ok(Attribute::Value(v)) => v.as_bytes().to_vec(),
        other => panic!("CKA_VALUE of {key:?}: {other:?}"),
    }
}

/// The template of a derived generic secret of `len` bytes that can be read back.
fn derived_template(len: u64) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SecretKey),
        Attribute::KeyType(KeyType::GenericSecret),
        Attribute::ValueLen(len as ffi::CK_ULONG),
        Attribute::Token(false),
        Attribute::Sensitive(false),
        Attribute::Extractable(true),
        Attribute::Derive(true),
    ]
}

fn encrypt(session: &Session, m: &Mechanism<'_>, key: ObjectHandle, data: &[u8]) -> Vec<u8> {
    session
        .encrypt(m, key, data)
        .unwrap_or_else(|e| panic!("encrypt with {:?}: {e}", m.mechanism_type()))
}

fn decrypt(session: &Session, m: &Mechanism<'_>, key: ObjectHandle, data: &[u8]) -> Vec<u8> {
    session
        .decrypt(m, key, data)
        .unwrap_or_else(|e| panic!("decrypt with {:?}: {e}", m.mechanism_type()))
        .as_bytes()
        .to_vec()
}

fn sign(session: &Session, m: &Mechanism<'_>, key: ObjectHandle, data: &[u8]) -> Vec<u8> {
    session
        .sign(m, key, data)
        .unwrap_or_else(|e| panic!("sign with {m:?}: {e}"))
}

fn verify(
    session: &Session,
    m: &Mechanism<'_>,
    key: ObjectHandle,
    data: &[u8],
    sig: &[u8],
) -> bool {
    session
        .verify(m, key, data, sig)
        .unwrap_or_else(|e| panic!("verify with {m:?}: {e}"))
}

/// The module's return value name for a failed call.
fn rv_name(result: pkcs11::Result<impl core::fmt::Debug>) -> &'static str {
    match result {
        Ok(value) => panic!("expected an error, got {value:?}"),
        Err(e) => e.rv().map_or("(not a module error)", |rv| rv.name()),
    }
}

// ---------------------------------------------------------------- AES reference

fn aes_block(key: &[u8], block: &[u8; 16]) -> [u8; 16] {
    let mut b: aes::Block = (*block).into();
    match key.len() {
        16 => aes::Aes128::new_from_slice(key)
            .unwrap()
            .encrypt_block(&mut b),
        24 => aes::Aes192::new_from_slice(key)
            .unwrap()
            .encrypt_block(&mut b),
        32 => aes::Aes256::new_from_slice(key)
            .unwrap()
            .encrypt_block(&mut b),
        n => panic!("AES key of {n} bytes"),
    }
    b.into()
}

fn xor16(a: &[u8], b: &[u8]) -> [u8; 16] {
    let mut out = [0u8; 16];
    for i in 0..16 {
        out[i] = a[i] ^ b[i];
    }
    out
}

fn ref_ecb(key: &[u8], data: &[u8]) -> Vec<u8> {
    data.chunks(16)
        .flat_map(|c| aes_block(key, c.try_into().unwrap()))
        .collect()
}

fn ref_cbc(key: &[u8], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut prev = *iv;
    let mut out = Vec::new();
    for chunk in data.chunks(16) {
        prev = aes_block(key, &xor16(chunk, &prev));
        out.extend_from_slice(&prev);
    }
    out
}

fn pkcs7(data: &[u8]) -> Vec<u8> {
    let pad = 16 - data.len() % 16;
    let mut out = data.to_vec();
    out.extend(std::iter::repeat_n(pad as u8, pad));
    out
}

/// CTR with the whole block as a big-endian 128-bit counter.
fn ref_ctr(key: &[u8], block: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut counter = u128::from_be_bytes(*block);
    let mut out = Vec::new();
    for chunk in data.chunks(16) {
        let stream = aes_block(key, &counter.to_be_bytes());
        out.extend(chunk.iter().zip(stream).map(|(a, b)| a ^ b));
        counter = counter.wrapping_add(1);
    }
    out
}

fn ref_ofb(key: &[u8], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut state = *iv;
    let mut out = Vec::new();
    for chunk in data.chunks(16) {
        state = aes_block(key, &state);
        out.extend(chunk.iter().zip(state).map(|(a, b)| a ^ b));
    }
    out
}

/// CFB with `segment` bytes per step (1, 8 or 16).
fn ref_cfb_bytes(key: &[u8], iv: &[u8; 16], segment: usize, data: &[u8]) -> Vec<u8> {
    let mut register = *iv;
    let mut out = Vec::new();
    for chunk in data.chunks(segment) {
        let stream = aes_block(key, &register);
        let cipher: Vec<u8> = chunk.iter().zip(stream).map(|(a, b)| a ^ b).collect();
        let mut next = [0u8; 16];
        next[..16 - segment].copy_from_slice(&register[segment..]);
        next[16 - segment..16 - segment + cipher.len()].copy_from_slice(&cipher);
        register = next;
        out.extend(cipher);
    }
    out
}

/// CFB with one-bit segments.
fn ref_cfb1(key: &[u8], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let mut register = u128::from_be_bytes(*iv);
    let mut out = Vec::new();
    for byte in data {
        let mut c = 0u8;
        for bit in (0..8).rev() {
            let stream = aes_block(key, &register.to_be_bytes())[0] >> 7;
            let cbit = ((byte >> bit) & 1) ^ stream;
            c |= cbit << bit;
            register = (register << 1) | u128::from(cbit);
        }
        out.push(c);
    }
    out
}

/// CBC with ciphertext stealing, variant CS1 of the SP 800-38A addendum (the partial
/// block's ciphertext before the last full one): CBC over the zero-padded data, then
/// `C1 .. C(n-2) || first d bytes of C(n-1) || Cn`. PKCS #11 names the addendum without
/// choosing a variant; Kryoptic (like NSS) uses CS1.
fn ref_cts_cs1(key: &[u8], iv: &[u8; 16], data: &[u8]) -> Vec<u8> {
    let d = match data.len() % 16 {
        0 => 16,
        d => d,
    };
    let mut padded = data.to_vec();
    padded.resize(data.len().div_ceil(16) * 16, 0);
    let cbc = ref_cbc(key, iv, &padded);
    let n = cbc.len() / 16;
    let mut out = cbc[..(n - 2) * 16].to_vec();
    out.extend_from_slice(&cbc[(n - 2) * 16..(n - 2) * 16 + d]);
    out.extend_from_slice(&cbc[(n - 1) * 16..]);
    out
}

// ---------------------------------------------------------------- AES modes

#[test]
fn aes_modes_match_an_independent_implementation_and_round_trip() {
    each_module("aes_modes", |token: &'static TestToken| {
        let module = token.module.name();
        let session = token.session();
        for key_len in [16usize, 32] {
            let key_value = pattern(key_len, 3);
            let key = secret_key(&session, KeyType::Aes, &key_value);
            let iv: [u8; 16] = pattern(16, 77).try_into().unwrap();
            let blocks = pattern(64, 9);
            let odd = pattern(45, 11);

            type Case<'a> = (Mechanism<'a>, &'a [u8], Option<Vec<u8>>);
            let ctr_block: [u8; 16] = {
                let mut b = [0u8; 16];
                b[..12].copy_from_slice(&pattern(12, 5));
                b[15] = 1;
                b
            };
            let cases: Vec<Case<'_>> = vec![
                (
                    Mechanism::AesEcb,
                    &blocks[..],
                    Some(ref_ecb(&key_value, &blocks)),
                ),
                (
                    Mechanism::AesCbc { iv },
                    &blocks[..],
                    Some(ref_cbc(&key_value, &iv, &blocks)),
                ),
                (
                    Mechanism::AesCbcPad { iv },
                    &odd[..],
                    Some(ref_cbc(&key_value, &iv, &pkcs7(&odd))),
                ),
                (
                    Mechanism::AesCtr(AesCtrParams::new(128, ctr_block).unwrap()),
                    &odd,
                    Some(ref_ctr(&key_value, &ctr_block, &odd)),
                ),
                (
                    Mechanism::AesOfb { iv },
                    &odd[..],
                    Some(ref_ofb(&key_value, &iv, &odd)),
                ),
                (
                    Mechanism::AesCfb128 { iv },
                    &odd[..],
                    Some(ref_cfb_bytes(&key_value, &iv, 16, &odd)),
                ),
                (
                    Mechanism::AesCfb64 { iv },
                    &odd[..],
                    Some(ref_cfb_bytes(&key_value, &iv, 8, &odd)),
                ),
                (
                    Mechanism::AesCfb8 { iv },
                    &odd[..],
                    Some(ref_cfb_bytes(&key_value, &iv, 1, &odd)),
                ),
                (
                    Mechanism::AesCfb1 { iv },
                    &odd[..],
                    Some(ref_cfb1(&key_value, &iv, &odd)),
                ),
                (
                    Mechanism::AesCts { iv },
                    &odd[..],
                    Some(ref_cts_cs1(&key_value, &iv, &odd)),
                ),
                (
                    Mechanism::AesCts { iv },
                    &blocks[..],
                    Some(ref_cts_cs1(&key_value, &iv, &blocks)),
                ),
            ];
            for (mechanism, plaintext, expected) in cases {
                let ty = mechanism.mechanism_type();
                if !token.require(&format!("aes_modes {ty}"), &[ty]) {
                    continue;
                }
                let ciphertext = encrypt(&session, &mechanism, key, plaintext);
                match expected {
                    Some(expected) => assert_eq!(
                        ciphertext, expected,
                        "{module}: {ty} with a {key_len}-byte key differs from the reference"
                    ),
                    None => {
                        assert_eq!(ciphertext.len(), plaintext.len(), "{module}: {ty} length");
                        assert_ne!(&ciphertext[..], plaintext, "{module}: {ty} did nothing");
                    }
                }
                let back = decrypt(&session, &mechanism, key, &ciphertext);
                assert_eq!(back, plaintext, "{module}: {ty} round trip");
            }
        }
    });
}

#[test]
fn aes_gcm_and_ccm_match_rustcrypto_and_reject_a_tampered_tag() {
    use aes_gcm::aead::{Aead, Payload};
    each_module("aes_gcm_ccm", |token| {
        let module = token.module.name();
        let session = token.session();
        let key_value = pattern(16, 21);
        let key = secret_key(&session, KeyType::Aes, &key_value);
        let nonce = pattern(12, 1);
        let aad = b"header bytes";
        let plaintext = pattern(50, 2);

        if token.require("aes_gcm", &[MechanismType::AES_GCM]) {
            let gcm = Mechanism::AesGcm(GcmParams::new(&nonce, aad, 128).unwrap());
            let ciphertext = encrypt(&session, &gcm, key, &plaintext);
            let reference = aes_gcm::Aes128Gcm::new_from_slice(&key_value)
                .unwrap()
                .encrypt(
                    nonce.as_slice().into(),
                    Payload {
                        msg: &plaintext,
                        aad,
                    },
                )
                .unwrap();
            assert_eq!(ciphertext, reference, "{module}: AES-GCM");
            assert_eq!(decrypt(&session, &gcm, key, &ciphertext), plaintext);
            let mut tampered = ciphertext.clone();
            *tampered.last_mut().unwrap() ^= 1;
            assert!(
                session.decrypt(&gcm, key, &tampered).is_err(),
                "{module}: a tampered GCM tag decrypts"
            );
            let other_aad = Mechanism::AesGcm(GcmParams::new(&nonce, b"other", 128).unwrap());
            assert!(
                session.decrypt(&other_aad, key, &ciphertext).is_err(),
                "{module}: GCM decrypts with other AAD"
            );
        }

        if token.require("aes_ccm", &[MechanismType::AES_CCM]) {
            use ccm::aead::Aead as _;
            let ccm_params = CcmParams::new(plaintext.len(), &nonce, aad, 16).unwrap();
            let mechanism = Mechanism::AesCcm(ccm_params);
            let ciphertext = encrypt(&session, &mechanism, key, &plaintext);
            type Ccm = ccm::Ccm<aes::Aes128, ccm::consts::U16, ccm::consts::U12>;
            let reference = <Ccm as ccm::KeyInit>::new_from_slice(&key_value)
                .unwrap()
                .encrypt(
                    nonce.as_slice().into(),
                    ccm::aead::Payload {
                        msg: &plaintext,
                        aad,
                    },
                )
                .unwrap();
            assert_eq!(ciphertext, reference, "{module}: AES-CCM");
            assert_eq!(decrypt(&session, &mechanism, key, &ciphertext), plaintext);
            let mut tampered = ciphertext.clone();
            tampered[0] ^= 0x80;
            assert!(
                session.decrypt(&mechanism, key, &tampered).is_err(),
                "{module}: tampered AES-CCM decrypts"
            );
        }
    });
}

#[test]
fn aes_macs_match_rustcrypto() {
    use cmac::Mac as _;
    each_module("aes_macs", |token| {
        let module = token.module.name();
        let session = token.session();
        let key_value = pattern(16, 40);
        let key = secret_key(&session, KeyType::Aes, &key_value);
        let data = pattern(48, 41);

        if token.require("aes_cmac", &[MechanismType::AES_CMAC]) {
            let mut mac =
                <cmac::Cmac<aes::Aes128> as cmac::Mac>::new_from_slice(&key_value).unwrap();
            mac.update(&data);
            let expected = mac.finalize().into_bytes().to_vec();
            let tag = sign(&session, &Mechanism::AesCmac, key, &data);
            assert_eq!(tag, expected, "{module}: AES-CMAC");
            assert!(verify(&session, &Mechanism::AesCmac, key, &data, &tag));
            if token.require("aes_cmac_general", &[MechanismType::AES_CMAC_GENERAL]) {
                let short = sign(&session, &Mechanism::AesCmacGeneral(8), key, &data);
                assert_eq!(short, expected[..8], "{module}: AES-CMAC-GENERAL(8)");
            }
        }
        // CBC-MAC over whole blocks: the last CBC block with a zero IV.
        let last = ref_cbc(&key_value, &[0; 16], &data)[32..].to_vec();
        if token.require("aes_mac", &[MechanismType::AES_MAC]) {
            let tag = sign(&session, &Mechanism::AesMac, key, &data);
            assert_eq!(tag, last[..8], "{module}: AES-MAC (half a block)");
        }
        if token.require("aes_mac_general", &[MechanismType::AES_MAC_GENERAL]) {
            let tag = sign(&session, &Mechanism::AesMacGeneral(12), key, &data);
            assert_eq!(tag, last[..12], "{module}: AES-MAC-GENERAL(12)");
        }
        if token.require("aes_xcbc_mac", &[MechanismType::AES_XCBC_MAC]) {
            let tag = sign(&session, &Mechanism::AesXcbcMac, key, &data);
            assert_eq!(tag.len(), 16);
            assert!(verify(&session, &Mechanism::AesXcbcMac, key, &data, &tag));
        }
    });
}

// ---------------------------------------------------------------- ChaCha20, DES3

#[test]
fn chacha20_and_chacha20_poly1305_match_rustcrypto() {
    use chacha20::cipher::{KeyIvInit, StreamCipher};
    use chacha20poly1305::aead::{Aead, Payload};
    each_module("chacha20", |token| {
        let module = token.module.name();
        let session = token.session();
        let needed = [MechanismType::CHACHA20_KEY_GEN];
        if !token.require("chacha20 keygen", &needed) {
            return;
        }
        // A generated key is usable; a known key is compared with RustCrypto.
        let generated = session
            .generate_key(
                &Mechanism::ChaCha20KeyGen,
                &[
                    Attribute::Token(false),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                    Attribute::ValueLen(32),
                ],
            )
            .unwrap_or_else(|e| panic!("{module}: ChaCha20 key generation: {e}"));
        let key_value = pattern(32, 60);
        let key = secret_key(&session, KeyType::Chacha20, &key_value);
        let nonce = pattern(12, 61);
        let plaintext = pattern(100, 62);

        if token.require("chacha20", &[MechanismType::CHACHA20]) {
            let counter = [0u8; 4];
            let mechanism = Mechanism::ChaCha20(ChaCha20Params::new(&counter, &nonce).unwrap());
            let ciphertext = encrypt(&session, &mechanism, key, &plaintext);
            let mut reference = plaintext.clone();
            chacha20::ChaCha20::new(key_value.as_slice().into(), nonce.as_slice().into())
                .apply_keystream(&mut reference);
            assert_eq!(ciphertext, reference, "{module}: ChaCha20");
            assert_eq!(decrypt(&session, &mechanism, key, &ciphertext), plaintext);
            let again = encrypt(&session, &mechanism, generated, &plaintext);
            assert_eq!(decrypt(&session, &mechanism, generated, &again), plaintext);
        }
        if token.require("chacha20_poly1305", &[MechanismType::CHACHA20_POLY1305]) {
            let aad = b"aad";
            let mechanism =
                Mechanism::ChaCha20Poly1305(ChaCha20Poly1305Params::new(&nonce, aad).unwrap());
            let ciphertext = encrypt(&session, &mechanism, key, &plaintext);
            let reference = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&key_value)
                .unwrap()
                .encrypt(
                    nonce.as_slice().into(),
                    Payload {
                        msg: &plaintext,
                        aad,
                    },
                )
                .unwrap();
            assert_eq!(ciphertext, reference, "{module}: ChaCha20-Poly1305");
            assert_eq!(decrypt(&session, &mechanism, key, &ciphertext), plaintext);
            let mut tampered = ciphertext.clone();
            *tampered.last_mut().unwrap() ^= 1;
            assert!(
                session.decrypt(&mechanism, key, &tampered).is_err(),
                "{module}: bad tag"
            );
        }
    });
}

#[test]
fn des3_modes_round_trip_and_chain_like_cbc() {
    each_module("des3", |token| {
        let needed = [
            MechanismType::DES3_KEY_GEN,
            MechanismType::DES3_ECB,
            MechanismType::DES3_CBC,
            MechanismType::DES3_CBC_PAD,
        ];
        if !token.require("des3", &needed) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let key = session
            .generate_key(
                &Mechanism::Des3KeyGen,
                &[
                    Attribute::Token(false),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                ],
            )
            .unwrap_or_else(|e| panic!("{module}: DES3 key: {e}"));
        let iv = [7u8; 8];
        let data = pattern(24, 3);
        let ecb = encrypt(&session, &Mechanism::Des3Ecb, key, &data);
        let cbc = encrypt(&session, &Mechanism::Des3Cbc { iv }, key, &data);
        // CBC's first block is ECB of (P1 xor IV).
        let first: Vec<u8> = data[..8].iter().zip(iv).map(|(a, b)| a ^ b).collect();
        assert_eq!(
            encrypt(&session, &Mechanism::Des3Ecb, key, &first),
            cbc[..8],
            "{module}: DES3-CBC chaining"
        );
        assert_ne!(ecb, cbc);
        for m in [Mechanism::Des3Ecb, Mechanism::Des3Cbc { iv }] {
            let c = encrypt(&session, &m, key, &data);
            assert_eq!(decrypt(&session, &m, key, &c), data);
        }
        let odd = pattern(13, 4);
        let padded = encrypt(&session, &Mechanism::Des3CbcPad { iv }, key, &odd);
        assert_eq!(padded.len(), 16);
        assert_eq!(
            decrypt(&session, &Mechanism::Des3CbcPad { iv }, key, &padded),
            odd
        );
    });
}

// ---------------------------------------------------------------- digests and HMACs

/// Each digest mechanism with the matching HMAC mechanisms and RustCrypto's results.
fn digest_table(
    data: &[u8],
    key: &[u8],
) -> Vec<(Mechanism<'static>, Mechanism<'static>, Vec<u8>, Vec<u8>)> {
    use hmac::{Hmac, Mac};
    use sha2::Digest;
    macro_rules! row {
        ($d:expr, $h:expr, $hash:ty) => {{
            let mut mac = <Hmac<$hash> as Mac>::new_from_slice(key).unwrap();
            mac.update(data);
            (
                $d,
                $h,
                <$hash>::digest(data).to_vec(),
                mac.finalize().into_bytes().to_vec(),
            )
        }};
    }
    vec![
        row!(Mechanism::Sha1, Mechanism::Sha1Hmac, sha1::Sha1),
        row!(Mechanism::Sha224, Mechanism::Sha224Hmac, sha2::Sha224),
        row!(Mechanism::Sha256, Mechanism::Sha256Hmac, sha2::Sha256),
        row!(Mechanism::Sha384, Mechanism::Sha384Hmac, sha2::Sha384),
        row!(Mechanism::Sha512, Mechanism::Sha512Hmac, sha2::Sha512),
        row!(
            Mechanism::Sha512_224,
            Mechanism::Sha512_224Hmac,
            sha2::Sha512_224
        ),
        row!(
            Mechanism::Sha512_256,
            Mechanism::Sha512_256Hmac,
            sha2::Sha512_256
        ),
        row!(Mechanism::Sha3_224, Mechanism::Sha3_224Hmac, sha3::Sha3_224),
        row!(Mechanism::Sha3_256, Mechanism::Sha3_256Hmac, sha3::Sha3_256),
        row!(Mechanism::Sha3_384, Mechanism::Sha3_384Hmac, sha3::Sha3_384),
        row!(Mechanism::Sha3_512, Mechanism::Sha3_512Hmac, sha3::Sha3_512),
    ]
}

/// The `_GENERAL` HMAC of a plain HMAC mechanism, truncating to `len` bytes.
fn hmac_general(hmac: &Mechanism<'_>, len: ffi::CK_ULONG) -> Mechanism<'static> {
    match hmac {
        Mechanism::Sha1Hmac => Mechanism::Sha1HmacGeneral(len),
        Mechanism::Sha224Hmac => Mechanism::Sha224HmacGeneral(len),
        Mechanism::Sha256Hmac => Mechanism::Sha256HmacGeneral(len),
        Mechanism::Sha384Hmac => Mechanism::Sha384HmacGeneral(len),
        Mechanism::Sha512Hmac => Mechanism::Sha512HmacGeneral(len),
        Mechanism::Sha512_224Hmac => Mechanism::Sha512_224HmacGeneral(len),
        Mechanism::Sha512_256Hmac => Mechanism::Sha512_256HmacGeneral(len),
        Mechanism::Sha3_224Hmac => Mechanism::Sha3_224HmacGeneral(len),
        Mechanism::Sha3_256Hmac => Mechanism::Sha3_256HmacGeneral(len),
        Mechanism::Sha3_384Hmac => Mechanism::Sha3_384HmacGeneral(len),
        Mechanism::Sha3_512Hmac => Mechanism::Sha3_512HmacGeneral(len),
        other => panic!("no general form for {other:?}"),
    }
}

#[test]
fn digests_and_hmacs_match_rustcrypto() {
    each_module("digests_hmacs", |token| {
        let module = token.module.name();
        let session = token.session();
        let data = pattern(300, 8);
        let key_value = pattern(64, 90);
        let key = secret_key(&session, KeyType::GenericSecret, &key_value);
        for (digest, hmac, expected_digest, expected_mac) in digest_table(&data, &key_value) {
            let ty = digest.mechanism_type();
            if token.require(&format!("digest {ty}"), &[ty]) {
                let got = session
                    .digest(&digest, &data)
                    .unwrap_or_else(|e| panic!("{module}: {ty}: {e}"));
                assert_eq!(got, expected_digest, "{module}: {ty}");
                assert_eq!(Some(got.len()), ty.digest_len(), "{module}: {ty} length");
            }
            let ty = hmac.mechanism_type();
            if token.require(&format!("hmac {ty}"), &[ty]) {
                let tag = sign(&session, &hmac, key, &data);
                assert_eq!(tag, expected_mac, "{module}: {ty}");
                assert!(
                    verify(&session, &hmac, key, &data, &tag),
                    "{module}: {ty} verify"
                );
                let mut bad = tag.clone();
                bad[0] ^= 1;
                assert!(
                    !verify(&session, &hmac, key, &data, &bad),
                    "{module}: {ty} bad tag"
                );
            }
            let general = hmac_general(&hmac, 10);
            let ty = general.mechanism_type();
            if token.require(&format!("hmac {ty}"), &[ty]) {
                let tag = sign(&session, &general, key, &data);
                assert_eq!(
                    tag,
                    expected_mac[..10],
                    "{module}: {ty} truncated to 10 bytes"
                );
            }
        }
    });
}

#[test]
fn hmac_key_generation_mechanisms_make_usable_keys() {
    each_module("hmac_keygen", |token| {
        let module = token.module.name();
        let session = token.session();
        let cases = [
            (Mechanism::GenericSecretKeyGen, Mechanism::Sha256Hmac),
            (Mechanism::Sha1KeyGen, Mechanism::Sha1Hmac),
            (Mechanism::Sha224KeyGen, Mechanism::Sha224Hmac),
            (Mechanism::Sha256KeyGen, Mechanism::Sha256Hmac),
            (Mechanism::Sha384KeyGen, Mechanism::Sha384Hmac),
            (Mechanism::Sha512KeyGen, Mechanism::Sha512Hmac),
            (Mechanism::Sha512_224KeyGen, Mechanism::Sha512_224Hmac),
            (Mechanism::Sha512_256KeyGen, Mechanism::Sha512_256Hmac),
            (Mechanism::Sha3_224KeyGen, Mechanism::Sha3_224Hmac),
            (Mechanism::Sha3_256KeyGen, Mechanism::Sha3_256Hmac),
            (Mechanism::Sha3_384KeyGen, Mechanism::Sha3_384Hmac),
            (Mechanism::Sha3_512KeyGen, Mechanism::Sha3_512Hmac),
        ];
        for (keygen, hmac) in cases {
            let (kt, ht) = (keygen.mechanism_type(), hmac.mechanism_type());
            if !token.require(&format!("hmac_keygen {kt}"), &[kt, ht]) {
                continue;
            }
            let key = session
                .generate_key(
                    &keygen,
                    &[
                        Attribute::Token(false),
                        Attribute::Sign(true),
                        Attribute::Verify(true),
                        Attribute::ValueLen(32),
                        Attribute::Sensitive(false),
                        Attribute::Extractable(true),
                    ],
                )
                .unwrap_or_else(|e| panic!("{module}: {kt}: {e}"));
            assert_eq!(
                value_of(&session, key).len(),
                32,
                "{module}: {kt} CKA_VALUE_LEN"
            );
            let tag = sign(&session, &hmac, key, MESSAGE);
            assert!(
                verify(&session, &hmac, key, MESSAGE, &tag),
                "{module}: {kt} + {ht}"
            );
        }
        if token.require("hkdf_keygen", &[MechanismType::HKDF_KEY_GEN]) {
            let key = session
                .generate_key(
                    &Mechanism::HkdfKeyGen,
                    &[
                        Attribute::Token(false),
                        Attribute::Derive(true),
                        Attribute::ValueLen(32),
                    ],
                )
                .unwrap_or_else(|e| panic!("{module}: HKDF key generation: {e}"));
            assert_ne!(key.0, ffi::CK_INVALID_HANDLE);
        }
    });
}

// ---------------------------------------------------------------- RSA

fn rsa_pair(session: &Session, module: &str) -> (ObjectHandle, ObjectHandle) {
    session
        .generate_key_pair(
            &Mechanism::RsaPkcsKeyPairGen,
            &[
                Attribute::ModulusBits(2048),
                Attribute::PublicExponent(vec![1, 0, 1]),
                Attribute::Verify(true),
                Attribute::Encrypt(true),
                Attribute::Token(false),
            ],
            &[
                Attribute::Sign(true),
                Attribute::Decrypt(true),
                Attribute::Token(false),
                Attribute::Sensitive(true),
            ],
        )
        .unwrap_or_else(|e| panic!("{module}: RSA key pair: {e}"))
}

/// The hash mechanisms of the hash-and-sign combinations, with RustCrypto's digest of
/// `data` and the DER `DigestInfo` prefix (RFC 8017, section 9.2, note 1; the SHA-3 OIDs
/// are 2.16.840.1.101.3.4.2.7 to .10).
fn hashes(data: &[u8]) -> Vec<(MechanismType, Vec<u8>, Vec<u8>)> {
    use sha2::Digest;
    fn nist(last: u8, len: u8) -> Vec<u8> {
        vec![
            0x30,
            0x11 + len,
            0x30,
            0x0d,
            0x06,
            0x09,
            0x60,
            0x86,
            0x48,
            0x01,
            0x65,
            0x03,
            0x04,
            0x02,
            last,
            0x05,
            0x00,
            0x04,
            len,
        ]
    }
    let sha1_prefix = vec![
        0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04, 0x14,
    ];
    vec![
        (
            MechanismType::SHA_1,
            sha1::Sha1::digest(data).to_vec(),
            sha1_prefix,
        ),
        (
            MechanismType::SHA224,
            sha2::Sha224::digest(data).to_vec(),
            nist(4, 28),
        ),
        (
            MechanismType::SHA256,
            sha2::Sha256::digest(data).to_vec(),
            nist(1, 32),
        ),
        (
            MechanismType::SHA384,
            sha2::Sha384::digest(data).to_vec(),
            nist(2, 48),
        ),
        (
            MechanismType::SHA512,
            sha2::Sha512::digest(data).to_vec(),
            nist(3, 64),
        ),
        (
            MechanismType::SHA3_224,
            sha3::Sha3_224::digest(data).to_vec(),
            nist(7, 28),
        ),
        (
            MechanismType::SHA3_256,
            sha3::Sha3_256::digest(data).to_vec(),
            nist(8, 32),
        ),
        (
            MechanismType::SHA3_384,
            sha3::Sha3_384::digest(data).to_vec(),
            nist(9, 48),
        ),
        (
            MechanismType::SHA3_512,
            sha3::Sha3_512::digest(data).to_vec(),
            nist(10, 64),
        ),
    ]
}

fn rsa_pkcs_for(hash: MechanismType) -> Mechanism<'static> {
    match hash {
        MechanismType::SHA_1 => Mechanism::Sha1RsaPkcs,
        MechanismType::SHA224 => Mechanism::Sha224RsaPkcs,
        MechanismType::SHA256 => Mechanism::Sha256RsaPkcs,
        MechanismType::SHA384 => Mechanism::Sha384RsaPkcs,
        MechanismType::SHA512 => Mechanism::Sha512RsaPkcs,
        MechanismType::SHA3_224 => Mechanism::Sha3_224RsaPkcs,
        MechanismType::SHA3_256 => Mechanism::Sha3_256RsaPkcs,
        MechanismType::SHA3_384 => Mechanism::Sha3_384RsaPkcs,
        MechanismType::SHA3_512 => Mechanism::Sha3_512RsaPkcs,
        other => panic!("{other}"),
    }
}

fn rsa_pss_for(hash: MechanismType) -> Mechanism<'static> {
    let p = PssParams::for_hash(hash).unwrap();
    match hash {
        MechanismType::SHA_1 => Mechanism::Sha1RsaPkcsPss(p),
        MechanismType::SHA224 => Mechanism::Sha224RsaPkcsPss(p),
        MechanismType::SHA256 => Mechanism::Sha256RsaPkcsPss(p),
        MechanismType::SHA384 => Mechanism::Sha384RsaPkcsPss(p),
        MechanismType::SHA512 => Mechanism::Sha512RsaPkcsPss(p),
        MechanismType::SHA3_224 => Mechanism::Sha3_224RsaPkcsPss(p),
        MechanismType::SHA3_256 => Mechanism::Sha3_256RsaPkcsPss(p),
        MechanismType::SHA3_384 => Mechanism::Sha3_384RsaPkcsPss(p),
        MechanismType::SHA3_512 => Mechanism::Sha3_512RsaPkcsPss(p),
        other => panic!("{other}"),
    }
}

#[test]
fn rsa_pkcs1_hash_and_sign_equals_raw_pkcs1_over_an_independent_digest_info() {
    each_module("rsa_pkcs1_hashes", |token| {
        if !token.require(
            "rsa_pkcs1_hashes",
            &[
                MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                MechanismType::RSA_PKCS,
            ],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public, private) = rsa_pair(&session, module);
        for (hash, digest, prefix) in hashes(MESSAGE) {
            let mechanism = rsa_pkcs_for(hash);
            let ty = mechanism.mechanism_type();
            if !token.require(&format!("rsa_pkcs1 {ty}"), &[ty]) {
                continue;
            }
            let signature = sign(&session, &mechanism, private, MESSAGE);
            // PKCS #1 v1.5 is deterministic: the same as signing the DigestInfo raw.
            let digest_info = [prefix, digest].concat();
            let raw = sign(&session, &Mechanism::RsaPkcs, private, &digest_info);
            assert_eq!(
                signature, raw,
                "{module}: {ty} vs CKM_RSA_PKCS over its DigestInfo"
            );
            assert!(
                verify(&session, &mechanism, public, MESSAGE, &signature),
                "{module}: {ty}"
            );
            assert!(
                !verify(&session, &mechanism, public, b"another message", &signature),
                "{module}: {ty} verifies another message"
            );
        }
    });
}

#[test]
fn rsa_x509_is_the_bare_primitive() {
    each_module("rsa_x509", |token| {
        if !token.require(
            "rsa_x509",
            &[
                MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                MechanismType::RSA_X_509,
            ],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public, private) = rsa_pair(&session, module);
        let mut block = pattern(256, 12);
        block[0] = 0; // below the modulus
        let signature = sign(&session, &Mechanism::RsaX509, private, &block);
        assert_eq!(signature.len(), 256);
        // s^e mod n, computed here from the public key, gives the block back.
        let modulus = match session.get_attribute(public, AttributeType::Modulus) {
            Ok(Attribute::Modulus(n)) => rsa::BigUint::from_bytes_be(&n),
            other => panic!("{module}: CKA_MODULUS: {other:?}"),
        };
        let s = rsa::BigUint::from_bytes_be(&signature);
        let back = s
            .modpow(&rsa::BigUint::from(65537u32), &modulus)
            .to_bytes_be();
        assert_eq!(
            back,
            block[1..],
            "{module}: raw RSA signature is not block^d"
        );
        if token.module != Module::Kryoptic {
            // Raw decryption of block^e (computed here) gives the block, and raw
            // encryption computes it. (Kryoptic 1.5 lists CKM_RSA_X_509 but answers
            // CKR_GENERAL_ERROR to every raw RSA encryption and decryption; its raw
            // signatures are checked above.)
            let e = rsa::BigUint::from(65537u32);
            let mut c = rsa::BigUint::from_bytes_be(&block)
                .modpow(&e, &modulus)
                .to_bytes_be();
            while c.len() < 256 {
                c.insert(0, 0);
            }
            assert_eq!(
                decrypt(&session, &Mechanism::RsaX509, private, &c),
                block,
                "{module}: raw RSA decryption"
            );
            assert_eq!(
                encrypt(&session, &Mechanism::RsaX509, public, &block),
                c,
                "{module}: raw RSA encryption"
            );
        }
        assert!(verify(
            &session,
            &Mechanism::RsaX509,
            public,
            &block,
            &signature
        ));
    });
}

#[test]
fn rsa_pss_with_every_hash_matches_the_prehashed_form() {
    each_module("rsa_pss_hashes", |token| {
        if !token.require(
            "rsa_pss_hashes",
            &[
                MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                MechanismType::RSA_PKCS_PSS,
            ],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public, private) = rsa_pair(&session, module);
        for (hash, digest, _) in hashes(MESSAGE) {
            let mechanism = rsa_pss_for(hash);
            let ty = mechanism.mechanism_type();
            let params = PssParams::for_hash(hash).unwrap();
            // A module without the hash-and-sign mechanism does not do PSS with that hash
            // (SoftHSM 2.6 refuses SHA-3 parameters of CKM_RSA_PKCS_PSS too).
            if !token.require(&format!("rsa_pss {ty}"), &[ty]) {
                continue;
            }
            {
                let signature = sign(&session, &mechanism, private, MESSAGE);
                assert!(
                    verify(&session, &mechanism, public, MESSAGE, &signature),
                    "{module}: {ty}"
                );
                assert!(
                    verify(
                        &session,
                        &Mechanism::RsaPkcsPss(params),
                        public,
                        &digest,
                        &signature
                    ),
                    "{module}: {ty} signature does not verify as CKM_RSA_PKCS_PSS over the digest"
                );
                assert!(!verify(&session, &mechanism, public, b"other", &signature));
            }
            let signature = sign(&session, &Mechanism::RsaPkcsPss(params), private, &digest);
            assert!(
                verify(
                    &session,
                    &Mechanism::RsaPkcsPss(params),
                    public,
                    &digest,
                    &signature
                ),
                "{module}: CKM_RSA_PKCS_PSS with {hash}"
            );
            // A different salt length is a different parameter: the check fails.
            let wrong = PssParams::new(hash, params.mgf(), 0);
            assert!(
                !session
                    .verify(&Mechanism::RsaPkcsPss(wrong), public, &digest, &signature)
                    .unwrap_or(false),
                "{module}: PSS with {hash} verifies with the wrong salt length"
            );
        }
    });
}

#[test]
fn rsa_oaep_with_every_hash_and_label() {
    each_module("rsa_oaep", |token| {
        if !token.require(
            "rsa_oaep",
            &[
                MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                MechanismType::RSA_PKCS_OAEP,
            ],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public, private) = rsa_pair(&session, module);
        let secret = pattern(32, 70);
        // The classic OAEP works everywhere.
        let classic = Mechanism::RsaPkcsOaep(OaepParams::sha1());
        let c = encrypt(&session, &classic, public, &secret);
        assert_eq!(decrypt(&session, &classic, private, &c), secret);
        for (hash, _, _) in hashes(b"") {
            for label in [None, Some(&b"a label"[..])] {
                let params = OaepParams::for_hash(hash, label).unwrap();
                let mechanism = Mechanism::RsaPkcsOaep(params);
                let result = session.encrypt(&mechanism, public, &secret);
                if token.module == Module::SoftHsm
                    && (hash != MechanismType::SHA_1 || label.is_some())
                {
                    // SoftHSM 2.6 implements only SHA-1 OAEP without a label, and says so.
                    assert_eq!(
                        rv_name(result),
                        "CKR_ARGUMENTS_BAD",
                        "SoftHSM: OAEP {hash} label {label:?}"
                    );
                    continue;
                }
                let ciphertext =
                    result.unwrap_or_else(|e| panic!("{module}: OAEP {hash} label {label:?}: {e}"));
                assert_eq!(decrypt(&session, &mechanism, private, &ciphertext), secret);
                if token.module == Module::SoftHsm {
                    // SoftHSM 2.6 refuses a label when encrypting but ignores one when
                    // decrypting: the wrong-label check is Kryoptic's.
                    continue;
                }
                let other_label = Mechanism::RsaPkcsOaep(
                    OaepParams::for_hash(hash, Some(b"another label")).unwrap(),
                );
                assert!(
                    session.decrypt(&other_label, private, &ciphertext).is_err(),
                    "{module}: OAEP {hash} decrypts with the wrong label"
                );
            }
        }
    });
}

// ---------------------------------------------------------------- ECDSA, EdDSA

fn ec_pair(
    session: &Session,
    module: &str,
    mechanism: &Mechanism<'_>,
    params: &[u8],
) -> (ObjectHandle, ObjectHandle) {
    session
        .generate_key_pair(
            mechanism,
            &[
                Attribute::EcParams(params.to_vec()),
                Attribute::Verify(true),
                Attribute::Token(false),
            ],
            &[
                Attribute::Sign(true),
                Attribute::Derive(true),
                Attribute::Token(false),
                Attribute::Sensitive(true),
            ],
        )
        .unwrap_or_else(|e| panic!("{module}: {mechanism:?} key pair ({params:02x?}): {e}"))
}

fn ecdsa_for(hash: MechanismType) -> Mechanism<'static> {
    match hash {
        MechanismType::SHA_1 => Mechanism::EcdsaSha1,
        MechanismType::SHA224 => Mechanism::EcdsaSha224,
        MechanismType::SHA256 => Mechanism::EcdsaSha256,
        MechanismType::SHA384 => Mechanism::EcdsaSha384,
        MechanismType::SHA512 => Mechanism::EcdsaSha512,
        MechanismType::SHA3_224 => Mechanism::EcdsaSha3_224,
        MechanismType::SHA3_256 => Mechanism::EcdsaSha3_256,
        MechanismType::SHA3_384 => Mechanism::EcdsaSha3_384,
        MechanismType::SHA3_512 => Mechanism::EcdsaSha3_512,
        other => panic!("{other}"),
    }
}

#[test]
fn ecdsa_with_every_hash_verifies_as_raw_ecdsa_over_an_independent_digest() {
    each_module("ecdsa_hashes", |token| {
        if !token.require(
            "ecdsa_hashes",
            &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDSA],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        for (curve, params, field) in [("P-256", P256, 32usize), ("P-384", P384, 48)] {
            let (public, private) = ec_pair(&session, module, &Mechanism::EcKeyPairGen, params);
            for (hash, digest, _) in hashes(MESSAGE) {
                let mechanism = ecdsa_for(hash);
                let ty = mechanism.mechanism_type();
                if !token.require(&format!("ecdsa {ty}"), &[ty]) {
                    continue;
                }
                let signature = sign(&session, &mechanism, private, MESSAGE);
                assert_eq!(signature.len(), 2 * field, "{module}: {curve} {ty} r || s");
                assert!(verify(&session, &mechanism, public, MESSAGE, &signature));
                // Raw ECDSA uses the leftmost bits of the digest (the field size).
                let truncated = &digest[..digest.len().min(field)];
                assert!(
                    verify(&session, &Mechanism::Ecdsa, public, truncated, &signature),
                    "{module}: {curve} {ty} is not ECDSA over RustCrypto's digest"
                );
                assert!(!verify(&session, &mechanism, public, b"other", &signature));
            }
        }
    });
}

#[test]
fn eddsa_variants_bind_their_parameters() {
    each_module("eddsa_variants", |token| {
        if !token.require(
            "eddsa_variants",
            &[MechanismType::EC_EDWARDS_KEY_PAIR_GEN, MechanismType::EDDSA],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        for (curve, params, sig_len) in [("Ed25519", ED25519, 64usize), ("Ed448", ED448, 114)] {
            let (public, private) = session
                .generate_key_pair(
                    &Mechanism::EcEdwardsKeyPairGen,
                    &[
                        Attribute::EcParams(params.to_vec()),
                        Attribute::Verify(true),
                        Attribute::Token(false),
                    ],
                    &[Attribute::Sign(true), Attribute::Token(false)],
                )
                .unwrap_or_else(|e| panic!("{module}: {curve} key pair: {e}"));
            // Pure EdDSA: no parameter for Ed25519; Ed448 always has a (here empty)
            // context, so it takes CK_EDDSA_PARAMS.
            let pure = if curve == "Ed25519" {
                Mechanism::Eddsa
            } else {
                Mechanism::EddsaWith(EddsaParams::new(false, &[]).unwrap())
            };
            let plain = sign(&session, &pure, private, MESSAGE);
            assert_eq!(plain.len(), sig_len);
            assert!(
                verify(&session, &pure, public, MESSAGE, &plain),
                "{module}: {curve}"
            );
            assert!(!verify(&session, &pure, public, b"other", &plain));
            let ctx_a = Mechanism::EddsaWith(EddsaParams::new(false, b"context A").unwrap());
            if token.module == Module::SoftHsm {
                // SoftHSM 2.6 accepts CK_EDDSA_PARAMS and ignores them: a "context"
                // signature is the pure one. Nothing more can be checked there.
                assert_eq!(
                    sign(&session, &ctx_a, private, MESSAGE),
                    plain,
                    "SoftHSM now honours CK_EDDSA_PARAMS: check the variants there too"
                );
                token.skip(
                    &format!("eddsa {curve}ctx / {curve}ph variants"),
                    "the module ignores CK_EDDSA_PARAMS (asserted above)",
                );
                continue;
            }
            let ctx_b = Mechanism::EddsaWith(EddsaParams::new(false, b"context B").unwrap());
            let ph = Mechanism::EddsaWith(EddsaParams::new(true, &[]).unwrap());
            let ph_ctx = Mechanism::EddsaWith(EddsaParams::new(true, b"context A").unwrap());
            let with_a = sign(&session, &ctx_a, private, MESSAGE);
            assert!(
                verify(&session, &ctx_a, public, MESSAGE, &with_a),
                "{module}: {curve}ctx"
            );
            assert!(
                !verify(&session, &ctx_b, public, MESSAGE, &with_a),
                "{module}: {curve} signature with context A verifies with context B"
            );
            assert!(!verify(&session, &pure, public, MESSAGE, &with_a));
            let prehashed = sign(&session, &ph, private, MESSAGE);
            assert!(
                verify(&session, &ph, public, MESSAGE, &prehashed),
                "{module}: {curve}ph"
            );
            assert!(!verify(&session, &pure, public, MESSAGE, &prehashed));
            let ph_a = sign(&session, &ph_ctx, private, MESSAGE);
            assert!(verify(&session, &ph_ctx, public, MESSAGE, &ph_a));
            assert!(!verify(&session, &ph, public, MESSAGE, &ph_a));
            // EdDSA is deterministic: the same parameters give the same signature.
            assert_eq!(sign(&session, &ctx_a, private, MESSAGE), with_a);
        }
    });
}

// ---------------------------------------------------------------- ML-DSA, SLH-DSA, ML-KEM

/// A pre-hash mechanism of ML-DSA or SLH-DSA with the hash it applies.
type PrehashRow = (
    MechanismType,
    fn(Option<SignContext<'static>>) -> Mechanism<'static>,
);

fn pqc_pair(
    session: &Session,
    module: &str,
    mechanism: &Mechanism<'_>,
    set: ParameterSet,
) -> (ObjectHandle, ObjectHandle) {
    session
        .generate_key_pair(
            mechanism,
            &[
                Attribute::ParameterSet(set.raw()),
                Attribute::Verify(true),
                Attribute::Token(false),
            ],
            &[Attribute::Sign(true), Attribute::Token(false)],
        )
        .unwrap_or_else(|e| panic!("{module}: {mechanism:?} {set:?}: {e}"))
}

/// Pure and pre-hash signatures of one family (ML-DSA or SLH-DSA) with contexts and
/// hedging; `pure` and `prehash` build the family's mechanisms.
fn check_pq_signatures(
    token: &TestToken,
    session: &Session,
    public: ObjectHandle,
    private: ObjectHandle,
    pure: fn(Option<SignContext<'static>>) -> Mechanism<'static>,
    hash_with: fn(HashSignContext<'static>) -> Mechanism<'static>,
    prehash: &[PrehashRow],
) {
    let module = token.module.name();
    let plain = pure(None);
    let signature = sign(session, &plain, private, MESSAGE);
    assert!(
        verify(session, &plain, public, MESSAGE, &signature),
        "{module}: {plain:?}"
    );
    assert!(!verify(session, &plain, public, b"other", &signature));

    let ctx_a = pure(Some(SignContext::context(b"context A").unwrap()));
    let ctx_b = pure(Some(SignContext::context(b"context B").unwrap()));
    let with_a = sign(session, &ctx_a, private, MESSAGE);
    assert!(
        verify(session, &ctx_a, public, MESSAGE, &with_a),
        "{module}: context A"
    );
    assert!(
        !verify(session, &ctx_b, public, MESSAGE, &with_a),
        "{module}: a signature with context A verifies with context B"
    );
    assert!(!verify(session, &plain, public, MESSAGE, &with_a));
    // An empty context is no context.
    let empty = pure(Some(SignContext::context(&[]).unwrap()));
    assert!(
        verify(session, &empty, public, MESSAGE, &signature),
        "{module}: empty context"
    );

    let deterministic = pure(Some(
        SignContext::new(Hedge::DeterministicRequired, b"context A").unwrap(),
    ));
    let d1 = sign(session, &deterministic, private, MESSAGE);
    let d2 = sign(session, &deterministic, private, MESSAGE);
    assert_eq!(d1, d2, "{module}: deterministic signatures differ");
    assert!(
        verify(session, &ctx_a, public, MESSAGE, &d1),
        "{module}: deterministic verifies"
    );
    let hedged = pure(Some(
        SignContext::new(Hedge::Required, b"context A").unwrap(),
    ));
    let h1 = sign(session, &hedged, private, MESSAGE);
    let h2 = sign(session, &hedged, private, MESSAGE);
    assert_ne!(h1, h2, "{module}: hedged signatures are equal");
    assert!(verify(session, &ctx_a, public, MESSAGE, &h1));

    for (hash, make) in prehash {
        let mechanism = make(Some(SignContext::context(b"ctx").unwrap()));
        let ty = mechanism.mechanism_type();
        if !token.require(&format!("prehash {ty}"), &[ty]) {
            continue;
        }
        let signature = sign(session, &mechanism, private, MESSAGE);
        assert!(
            verify(session, &mechanism, public, MESSAGE, &signature),
            "{module}: {ty}"
        );
        assert!(
            !verify(session, &make(None), public, MESSAGE, &signature),
            "{module}: {ty} without ctx"
        );
        assert!(
            !verify(session, &plain, public, MESSAGE, &signature),
            "{module}: {ty} as pure"
        );
        // The same as the caller-hashed form over RustCrypto's digest.
        if let Some((_, digest, _)) = hashes(MESSAGE).into_iter().find(|(h, _, _)| h == hash) {
            let by_caller =
                hash_with(HashSignContext::new(*hash, Hedge::Preferred, b"ctx").unwrap());
            assert!(
                verify(session, &by_caller, public, &digest, &signature),
                "{module}: {ty} is not the caller-hashed form over the digest"
            );
            let wrong_hash = hash_with(
                HashSignContext::new(MechanismType::SHA512_256, Hedge::Preferred, b"ctx").unwrap(),
            );
            assert!(!session
                .verify(&wrong_hash, public, &digest, &signature)
                .unwrap_or(false));
        }
    }
}

#[test]
fn ml_dsa_pure_context_hedge_and_prehash() {
    each_module("ml_dsa", |token| {
        if !token.require(
            "ml_dsa",
            &[
                MechanismType::ML_DSA_KEY_PAIR_GEN,
                MechanismType::ML_DSA,
                MechanismType::HASH_ML_DSA,
            ],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        for set in [
            ParameterSet::ML_DSA_44,
            ParameterSet::ML_DSA_65,
            ParameterSet::ML_DSA_87,
        ] {
            let (public, private) = pqc_pair(&session, module, &Mechanism::MlDsaKeyPairGen, set);
            let prehash: [PrehashRow; 10] = [
                (MechanismType::SHA224, Mechanism::HashMlDsaSha224),
                (MechanismType::SHA256, Mechanism::HashMlDsaSha256),
                (MechanismType::SHA384, Mechanism::HashMlDsaSha384),
                (MechanismType::SHA512, Mechanism::HashMlDsaSha512),
                (MechanismType::SHA3_224, Mechanism::HashMlDsaSha3_224),
                (MechanismType::SHA3_256, Mechanism::HashMlDsaSha3_256),
                (MechanismType::SHA3_384, Mechanism::HashMlDsaSha3_384),
                (MechanismType::SHA3_512, Mechanism::HashMlDsaSha3_512),
                (
                    MechanismType::SHAKE_128_KEY_DERIVATION,
                    Mechanism::HashMlDsaShake128,
                ),
                (
                    MechanismType::SHAKE_256_KEY_DERIVATION,
                    Mechanism::HashMlDsaShake256,
                ),
            ];
            check_pq_signatures(
                token,
                &session,
                public,
                private,
                Mechanism::MlDsa,
                Mechanism::HashMlDsa,
                if set == ParameterSet::ML_DSA_65 {
                    &prehash
                } else {
                    &prehash[1..2]
                },
            );
        }
    });
}

#[test]
fn slh_dsa_pure_context_hedge_and_prehash() {
    each_module("slh_dsa", |token| {
        if !token.require(
            "slh_dsa",
            &[
                MechanismType::SLH_DSA_KEY_PAIR_GEN,
                MechanismType::SLH_DSA,
                MechanismType::HASH_SLH_DSA,
            ],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        for set in [
            ParameterSet::SLH_DSA_SHA2_128F,
            ParameterSet::SLH_DSA_SHAKE_128F,
        ] {
            let (public, private) = pqc_pair(&session, module, &Mechanism::SlhDsaKeyPairGen, set);
            let prehash: [PrehashRow; 3] = [
                (MechanismType::SHA256, Mechanism::HashSlhDsaSha256),
                (MechanismType::SHA3_384, Mechanism::HashSlhDsaSha3_384),
                (MechanismType::SHA512, Mechanism::HashSlhDsaSha512),
            ];
            check_pq_signatures(
                token,
                &session,
                public,
                private,
                Mechanism::SlhDsa,
                Mechanism::HashSlhDsa,
                &prehash,
            );
        }
    });
}

#[test]
fn ml_kem_key_pairs_for_every_parameter_set() {
    each_module("ml_kem_keygen", |token| {
        if !token.require("ml_kem_keygen", &[MechanismType::ML_KEM_KEY_PAIR_GEN]) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        for (set, public_len) in [
            (ParameterSet::ML_KEM_512, 800usize),
            (ParameterSet::ML_KEM_768, 1184),
            (ParameterSet::ML_KEM_1024, 1568),
        ] {
            let (public, _private) = session
                .generate_key_pair(
                    &Mechanism::MlKemKeyPairGen,
                    &[
                        Attribute::ParameterSet(set.raw()),
                        Attribute::Encapsulate(true),
                        Attribute::Token(false),
                    ],
                    &[Attribute::Decapsulate(true), Attribute::Token(false)],
                )
                .unwrap_or_else(|e| panic!("{module}: ML-KEM {set:?}: {e}"));
            assert_eq!(
                value_of(&session, public).len(),
                public_len,
                "{module}: {set:?} public key"
            );
        }
    });
}

// ---------------------------------------------------------------- derivation parameters

/// NIST SP 800-108 counter mode with HMAC-SHA-256: `[i]_32 || label || 0x00 || context ||
/// [L]_32` per block, computed here with RustCrypto's HMAC.
fn ref_sp800_108_counter(key: &[u8], label: &[u8], context: &[u8], len: usize) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut out = Vec::new();
    let mut i = 1u32;
    while out.len() < len {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(&i.to_be_bytes());
        mac.update(label);
        mac.update(&[0]);
        mac.update(context);
        mac.update(&((len * 8) as u32).to_be_bytes());
        out.extend_from_slice(&mac.finalize().into_bytes());
        i += 1;
    }
    out.truncate(len);
    out
}

/// SP 800-108 feedback mode with HMAC-SHA-256: `K(i) = PRF(K(i-1) || [i]_32 || label)`,
/// `K(0)` the IV.
fn ref_sp800_108_feedback(key: &[u8], iv: &[u8], label: &[u8], len: usize) -> Vec<u8> {
    use hmac::{Hmac, Mac};
    let mut out = Vec::new();
    let mut previous = iv.to_vec();
    let mut i = 1u32;
    while out.len() < len {
        let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
        mac.update(&previous);
        mac.update(&i.to_be_bytes());
        mac.update(label);
        previous = mac.finalize().into_bytes().to_vec();
        out.extend_from_slice(&previous);
        i += 1;
    }
    out.truncate(len);
    out
}

#[test]
fn sp800_108_kdfs_match_an_independent_computation() {
    each_module("sp800_108", |token| {
        if !token.require(
            "sp800_108 counter",
            &[
                MechanismType::SP800_108_COUNTER_KDF,
                MechanismType::SHA256_HMAC,
            ],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let key_value = pattern(32, 100);
        let base = secret_key(&session, KeyType::GenericSecret, &key_value);
        let (label, context) = (b"label".as_slice(), b"context".as_slice());
        let counter = Mechanism::Sp800108CounterKdf(
            Sp800108Params::new(
                MechanismType::SHA256_HMAC,
                &[
                    PrfDataParam::IterationCounter(CounterFormat::big_endian(32)),
                    PrfDataParam::ByteArray(label),
                    PrfDataParam::ByteArray(&[0]),
                    PrfDataParam::ByteArray(context),
                    PrfDataParam::DkmLength(DkmLengthFormat::big_endian(32)),
                ],
            )
            .unwrap(),
        );
        // 48 bytes: two PRF blocks, so the counter and the DKM length both matter.
        let derived = session
            .derive_key(&counter, base, &derived_template(48))
            .unwrap_or_else(|e| panic!("{module}: SP 800-108 counter KDF: {e}"));
        assert_eq!(
            value_of(&session, derived),
            ref_sp800_108_counter(&key_value, label, context, 48),
            "{module}: SP 800-108 counter mode"
        );

        if token.require(
            "sp800_108 feedback",
            &[MechanismType::SP800_108_FEEDBACK_KDF],
        ) {
            let iv = pattern(32, 7);
            let feedback = Mechanism::Sp800108FeedbackKdf(
                Sp800108FeedbackParams::new(
                    MechanismType::SHA256_HMAC,
                    &[
                        PrfDataParam::IterationVariable,
                        PrfDataParam::Counter(CounterFormat::big_endian(32)),
                        PrfDataParam::ByteArray(label),
                    ],
                    &iv,
                )
                .unwrap(),
            );
            let derived = session
                .derive_key(&feedback, base, &derived_template(40))
                .unwrap_or_else(|e| panic!("{module}: SP 800-108 feedback KDF: {e}"));
            assert_eq!(
                value_of(&session, derived),
                ref_sp800_108_feedback(&key_value, &iv, label, 40),
                "{module}: SP 800-108 feedback mode"
            );
        }
    });
}

#[test]
fn concatenate_xor_extract_and_digest_derivations() {
    use sha2::Digest;
    each_module("simple_derivations", |token| {
        let module = token.module.name();
        let session = token.session();
        let base_value = pattern(16, 120);
        let other_value = pattern(16, 121);
        let base = secret_key(&session, KeyType::GenericSecret, &base_value);
        let other = secret_key(&session, KeyType::GenericSecret, &other_value);
        let data = pattern(16, 122);

        let derive = |mechanism: &Mechanism<'_>, key: ObjectHandle, len: u64| -> Option<Vec<u8>> {
            let ty = mechanism.mechanism_type();
            if !token.require(&format!("derive {ty}"), &[ty]) {
                return None;
            }
            let derived = session
                .derive_key(mechanism, key, &derived_template(len))
                .unwrap_or_else(|e| panic!("{module}: {ty}: {e}"));
            Some(value_of(&session, derived))
        };

        if let Some(v) = derive(&Mechanism::ConcatenateBaseAndKey(other), base, 32) {
            assert_eq!(
                v,
                [&base_value[..], &other_value[..]].concat(),
                "{module}: base || key"
            );
        }
        let string = KeyDerivationData::new(&data).unwrap();
        if let Some(v) = derive(&Mechanism::ConcatenateBaseAndData(string.clone()), base, 32) {
            assert_eq!(
                v,
                [&base_value[..], &data[..]].concat(),
                "{module}: base || data"
            );
        }
        if let Some(v) = derive(&Mechanism::ConcatenateDataAndBase(string.clone()), base, 32) {
            assert_eq!(
                v,
                [&data[..], &base_value[..]].concat(),
                "{module}: data || base"
            );
        }
        if let Some(v) = derive(&Mechanism::XorBaseAndData(string), base, 16) {
            let xor: Vec<u8> = base_value.iter().zip(&data).map(|(a, b)| a ^ b).collect();
            assert_eq!(v, xor, "{module}: base xor data");
        }
        if let Some(v) = derive(&Mechanism::ExtractKeyFromKey(8), base, 4) {
            // Bits 8..40 of the base key: its bytes 1..5.
            assert_eq!(v, base_value[1..5], "{module}: extract from bit 8");
        }
        if let Some(v) = derive(&Mechanism::Sha256KeyDerivation, base, 32) {
            assert_eq!(
                v,
                sha2::Sha256::digest(&base_value).to_vec(),
                "{module}: SHA-256 derivation"
            );
        }
        if let Some(v) = derive(&Mechanism::Sha3_256KeyDerivation, base, 32) {
            assert_eq!(
                v,
                sha3::Sha3_256::digest(&base_value).to_vec(),
                "{module}: SHA3-256 derivation"
            );
        }
        if let Some(v) = derive(&Mechanism::Sha384KeyDerivation, base, 20) {
            assert_eq!(
                v,
                sha2::Sha384::digest(&base_value)[..20],
                "{module}: SHA-384 derivation, truncated"
            );
        }

        let aes_value = pattern(16, 123);
        let aes = secret_key(&session, KeyType::Aes, &aes_value);
        let block = pattern(32, 124);
        let ecb = Mechanism::AesEcbEncryptData(KeyDerivationData::new(&block).unwrap());
        if let Some(v) = derive(&ecb, aes, 32) {
            assert_eq!(
                v,
                ref_ecb(&aes_value, &block),
                "{module}: AES-ECB encrypt data"
            );
        }
        let iv = [9u8; 16];
        let cbc = Mechanism::AesCbcEncryptData(AesCbcEncryptDataParams::new(iv, &block).unwrap());
        if let Some(v) = derive(&cbc, aes, 32) {
            assert_eq!(
                v,
                ref_cbc(&aes_value, &iv, &block),
                "{module}: AES-CBC encrypt data"
            );
        }
    });
}

/// The hash KDFs of ECDH: ANSI X9.63 (`CKD_<hash>_KDF`: `H(Z || [i]_32 || info)`) and
/// the NIST SP 800-56A single-step KDF (`CKD_<hash>_KDF_SP800`: `H([i]_32 || Z || info)`).
fn hash_kdf<D: sha2::Digest>(sp800: bool, z: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 1u32;
    while out.len() < len {
        let mut h = D::new();
        if sp800 {
            h.update(i.to_be_bytes());
            h.update(z);
        } else {
            h.update(z);
            h.update(i.to_be_bytes());
        }
        h.update(info);
        out.extend_from_slice(&h.finalize());
        i += 1;
    }
    out.truncate(len);
    out
}

/// What `kdf` derives from `z` and `info`.
fn kdf_reference(kdf: Kdf, z: &[u8], info: &[u8], len: usize) -> Vec<u8> {
    match kdf {
        Kdf::SHA1 => hash_kdf::<sha1::Sha1>(false, z, info, len),
        Kdf::SHA224 => hash_kdf::<sha2::Sha224>(false, z, info, len),
        Kdf::SHA256 => hash_kdf::<sha2::Sha256>(false, z, info, len),
        Kdf::SHA384 => hash_kdf::<sha2::Sha384>(false, z, info, len),
        Kdf::SHA512 => hash_kdf::<sha2::Sha512>(false, z, info, len),
        Kdf::SHA3_224 => hash_kdf::<sha3::Sha3_224>(false, z, info, len),
        Kdf::SHA3_256 => hash_kdf::<sha3::Sha3_256>(false, z, info, len),
        Kdf::SHA3_384 => hash_kdf::<sha3::Sha3_384>(false, z, info, len),
        Kdf::SHA3_512 => hash_kdf::<sha3::Sha3_512>(false, z, info, len),
        Kdf::SHA256_SP800 => hash_kdf::<sha2::Sha256>(true, z, info, len),
        Kdf::SHA3_256_SP800 => hash_kdf::<sha3::Sha3_256>(true, z, info, len),
        other => panic!("no reference for {other:?}"),
    }
}

#[test]
fn ecdh_with_kdfs_matches_p256() {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    each_module("ecdh_kdfs", |token| {
        if !token.require(
            "ecdh_kdfs",
            &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDH1_DERIVE],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (public, private) = ec_pair(&session, module, &Mechanism::EcKeyPairGen, P256);
        let point = match session.get_attribute(public, AttributeType::EcPoint) {
            Ok(Attribute::EcPoint(der)) => der,
            other => panic!("{module}: CKA_EC_POINT: {other:?}"),
        };
        // DER OCTET STRING of 65 bytes around the uncompressed point.
        let token_point = if point.len() == 67 {
            &point[2..]
        } else {
            &point[..]
        };
        let token_public = p256::PublicKey::from_sec1_bytes(token_point).unwrap();
        let peer = p256::SecretKey::from_slice(&pattern(32, 44)).unwrap();
        let peer_point = peer.public_key().to_encoded_point(false);
        let z = p256::ecdh::diffie_hellman(peer.to_nonzero_scalar(), token_public.as_affine());
        let z = z.raw_secret_bytes().to_vec();

        let raw = Mechanism::Ecdh1Derive(EcdhParams::raw_secret(peer_point.as_bytes()).unwrap());
        let derived = session
            .derive_key(&raw, private, &derived_template(32))
            .unwrap_or_else(|e| panic!("{module}: ECDH with CKD_NULL: {e}"));
        assert_eq!(
            value_of(&session, derived),
            z,
            "{module}: ECDH raw shared secret"
        );

        if token.require("ecdh cofactor", &[MechanismType::ECDH1_COFACTOR_DERIVE]) {
            let cofactor = Mechanism::Ecdh1CofactorDerive(
                EcdhParams::raw_secret(peer_point.as_bytes()).unwrap(),
            );
            let derived = session
                .derive_key(&cofactor, private, &derived_template(32))
                .unwrap_or_else(|e| panic!("{module}: ECDH cofactor: {e}"));
            // P-256 has cofactor 1.
            assert_eq!(value_of(&session, derived), z, "{module}: cofactor ECDH");
        }

        let info = b"shared info";
        for (kdf, name) in [
            (Kdf::SHA1, "CKD_SHA1_KDF"),
            (Kdf::SHA224, "CKD_SHA224_KDF"),
            (Kdf::SHA256, "CKD_SHA256_KDF"),
            (Kdf::SHA384, "CKD_SHA384_KDF"),
            (Kdf::SHA512, "CKD_SHA512_KDF"),
            (Kdf::SHA3_224, "CKD_SHA3_224_KDF"),
            (Kdf::SHA3_256, "CKD_SHA3_256_KDF"),
            (Kdf::SHA3_384, "CKD_SHA3_384_KDF"),
            (Kdf::SHA3_512, "CKD_SHA3_512_KDF"),
            (Kdf::SHA256_SP800, "CKD_SHA256_KDF_SP800"),
            (Kdf::SHA3_256_SP800, "CKD_SHA3_256_KDF_SP800"),
        ] {
            assert_eq!(format!("{kdf:?}"), name);
            let mechanism =
                Mechanism::Ecdh1Derive(EcdhParams::new(kdf, info, peer_point.as_bytes()).unwrap());
            let result = session.derive_key(&mechanism, private, &derived_template(48));
            let expected = kdf_reference(kdf, &z, info, 48);
            match result {
                Ok(derived) => assert_eq!(
                    value_of(&session, derived),
                    expected,
                    "{module}: ECDH with {name}"
                ),
                Err(e) if token.module == Module::SoftHsm => {
                    // SoftHSM 2.6 derives only with CKD_NULL, and says so.
                    assert_eq!(
                        e.rv().map(|rv| rv.name()),
                        Some("CKR_MECHANISM_PARAM_INVALID"),
                        "SoftHSM: {name}: {e}"
                    );
                }
                Err(e) => panic!("{module}: ECDH with {name}: {e}"),
            }
        }
    });
}

#[test]
fn x25519_key_pairs_agree() {
    each_module("x25519", |token| {
        if !token.require(
            "x25519",
            &[
                MechanismType::EC_MONTGOMERY_KEY_PAIR_GEN,
                MechanismType::ECDH1_DERIVE,
            ],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let (a_pub, a_priv) = ec_pair(&session, module, &Mechanism::EcMontgomeryKeyPairGen, X25519);
        let (b_pub, b_priv) = ec_pair(&session, module, &Mechanism::EcMontgomeryKeyPairGen, X25519);
        let point = |key| match session.get_attribute(key, AttributeType::EcPoint) {
            Ok(Attribute::EcPoint(p)) => {
                if p.len() == 34 && p[0] == 0x04 {
                    p[2..].to_vec()
                } else {
                    p
                }
            }
            other => panic!("{module}: CKA_EC_POINT: {other:?}"),
        };
        let (pa, pb) = (point(a_pub), point(b_pub));
        assert_eq!(pa.len(), 32);
        let ab = session
            .derive_key(
                &Mechanism::Ecdh1Derive(EcdhParams::raw_secret(&pb).unwrap()),
                a_priv,
                &derived_template(32),
            )
            .unwrap_or_else(|e| panic!("{module}: X25519 a*B: {e}"));
        let ba = session
            .derive_key(
                &Mechanism::Ecdh1Derive(EcdhParams::raw_secret(&pa).unwrap()),
                b_priv,
                &derived_template(32),
            )
            .unwrap_or_else(|e| panic!("{module}: X25519 b*A: {e}"));
        assert_eq!(
            value_of(&session, ab),
            value_of(&session, ba),
            "{module}: X25519 agreement"
        );
    });
}

// ---------------------------------------------------------------- raw stays reachable

#[test]
fn raw_mechanisms_remain_reachable() {
    each_module("raw_mechanisms", |token| {
        let module = token.module.name();
        let session = token.session();
        let data = pattern(40, 1);
        let typed = session.digest(&Mechanism::Sha256, &data).unwrap();
        let raw = session
            .digest(&Mechanism::plain(ffi::CKM_SHA256), &data)
            .unwrap_or_else(|e| panic!("{module}: raw CKM_SHA256: {e}"));
        assert_eq!(typed, raw);
        // A GCM parameter passed as raw bytes of the generated struct is not possible
        // without unsafe; an unknown vendor mechanism is refused by the module.
        let vendor = Mechanism::plain(ffi::CKM_VENDOR_DEFINED | 0x5a5a);
        assert_eq!(
            rv_name(session.digest(&vendor, &data)),
            "CKR_MECHANISM_INVALID",
            "{module}: vendor mechanism"
        );
    });
}

#[test]
fn parameters_stay_valid_for_a_whole_multi_part_operation() {
    each_module("multi_part_params", |token| {
        let module = token.module.name();
        let session = token.session();
        let key_value = pattern(32, 31);
        let key = secret_key(&session, KeyType::Aes, &key_value);
        let data = pattern(100, 32);
        let iv = pattern(12, 33);
        let aad = pattern(20, 34);
        let ctr_block = [0x42u8; 16];
        let mut mechanisms = vec![Mechanism::AesCbcPad { iv: [5; 16] }];
        if token.require("multi-part AES-GCM", &[MechanismType::AES_GCM]) {
            mechanisms.push(Mechanism::AesGcm(GcmParams::new(&iv, &aad, 128).unwrap()));
        }
        if token.require("multi-part AES-CTR", &[MechanismType::AES_CTR]) {
            mechanisms.push(Mechanism::AesCtr(
                AesCtrParams::new(128, ctr_block).unwrap(),
            ));
        }
        for mechanism in &mechanisms {
            let ty = mechanism.mechanism_type();
            let one_shot = encrypt(&session, mechanism, key, &data);
            // The stream borrows the mechanism (and through it the IV and AAD buffers)
            // until it finishes; the module reads them on every update.
            let mut stream = session
                .encrypt_stream(mechanism, key)
                .unwrap_or_else(|e| panic!("{module}: {ty} stream: {e}"));
            let mut streamed = Vec::new();
            for chunk in data.chunks(7) {
                streamed.extend(stream.update(chunk).unwrap());
            }
            streamed.extend(stream.finish().unwrap());
            assert_eq!(streamed, one_shot, "{module}: {ty} multi-part vs one call");
            let mut stream = session.decrypt_stream(mechanism, key).unwrap();
            let mut back = Vec::new();
            // Whole blocks into a buffer large enough for any part, so no length query:
            // Kryoptic 1.5 answers CKR_DEVICE_ERROR to CBC-PAD decryption updates that are
            // not whole blocks, and a NULL-buffer length query of its CBC-PAD
            // C_DecryptUpdate consumes the input (C_DecryptFinal then fails).
            let mut buffer = [0u8; 256];
            for chunk in streamed.chunks(16) {
                let n = stream
                    .update_into(chunk, &mut buffer)
                    .unwrap_or_else(|e| panic!("{module}: {ty} decrypt update: {e}"));
                back.extend_from_slice(&buffer[..n]);
            }
            let n = stream
                .finish_into(&mut buffer)
                .unwrap_or_else(|e| panic!("{module}: {ty} decrypt finish: {e}"));
            back.extend_from_slice(&buffer[..n]);
            assert_eq!(back, data, "{module}: {ty} multi-part decryption");
        }
    });
}

#[test]
fn hkdf_salt_kinds_and_hkdf_data() {
    use pkcs11::{HkdfParams, HkdfSalt};
    each_module("hkdf_salts", |token| {
        if !token.require("hkdf_salts", &[MechanismType::HKDF_DERIVE]) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let ikm = pattern(32, 0x51);
        let base = secret_key(&session, KeyType::GenericSecret, &ikm);
        let salt_value = pattern(20, 0x52);
        let salt_key = secret_key(&session, KeyType::GenericSecret, &salt_value);
        let info = b"hkdf info";
        let mut with_salt = [0u8; 40];
        hkdf::Hkdf::<sha2::Sha384>::new(Some(&salt_value), &ikm)
            .expand(info, &mut with_salt)
            .unwrap();
        let mut without_salt = [0u8; 40];
        hkdf::Hkdf::<sha2::Sha384>::new(None, &ikm)
            .expand(info, &mut without_salt)
            .unwrap();
        for (salt, expected, what) in [
            (HkdfSalt::Key(salt_key), &with_salt, "salt from a key"),
            (HkdfSalt::Data(&salt_value), &with_salt, "salt bytes"),
            (HkdfSalt::Null, &without_salt, "no salt"),
        ] {
            let mechanism = Mechanism::HkdfDerive(
                HkdfParams::extract_and_expand(MechanismType::SHA384, salt, info).unwrap(),
            );
            let derived = session
                .derive_key(&mechanism, base, &derived_template(40))
                .unwrap_or_else(|e| panic!("{module}: HKDF-SHA-384 with {what}: {e}"));
            assert_eq!(
                &value_of(&session, derived)[..],
                &expected[..],
                "{module}: {what}"
            );
        }
        if token.require("hkdf_data", &[MechanismType::HKDF_DATA]) {
            let mechanism = Mechanism::HkdfData(
                HkdfParams::extract_and_expand(
                    MechanismType::SHA384,
                    HkdfSalt::Data(&salt_value),
                    info,
                )
                .unwrap(),
            );
            let result = session.derive_key(
                &mechanism,
                base,
                &[
                    Attribute::Class(ObjectClass::Data),
                    Attribute::Token(false),
                    Attribute::ValueLen(40),
                ],
            );
            // The result is a data object holding the output keying material.
            let object = result.unwrap_or_else(|e| panic!("{module}: CKM_HKDF_DATA: {e}"));
            assert_eq!(
                value_of(&session, object),
                with_salt,
                "{module}: CKM_HKDF_DATA"
            );
        }
    });
}
