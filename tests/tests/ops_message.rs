//! Message-based operations (PKCS #11 3.0; issue 4, item 2) on both real modules:
//! AES-GCM, AES-CCM and ChaCha20-Poly1305 per-message encryption on Kryoptic, checked
//! against RustCrypto (`aes-gcm`, `ccm`, `chacha20poly1305`) in both directions, with
//! every IV generation mode; the guards' cancellation; and the clean "not supported"
//! errors of SoftHSM (a 2.x table: no message functions) and of Kryoptic for the
//! message-based signatures it does not implement.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use pkcs11::{
    ffi, Attribute, Error, Generator, KeyType, Mechanism, MechanismType, MessageParams,
    ObjectClass, ObjectHandle, SecretBytes, Session,
};
use pkcs11_tests::modules::{each_module, Module, TestToken};

fn mech(m: ffi::CK_MECHANISM_TYPE) -> MechanismType {
    MechanismType(m)
}

fn secret_key(session: &Session, key_type: KeyType, value: &[u8]) -> ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(key_type),
            Attribute::Value(SecretBytes::new(value.to_vec())),
            Attribute::Token(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
        ])
        .expect("create a secret key")
}

const KEY: [u8; 32] = [
    0x60, 0x3d, 0xeb, 0x10, 0x15, 0xca, 0x71, 0xbe, 0x2b, 0x73, 0xae, 0xf0, 0x85, 0x7d, 0x77, 0x81,
    0x1f, 0x35, 0x2c, 0x07, 0x3b, 0x61, 0x08, 0xd7, 0x2d, 0x98, 0x10, 0xa3, 0x09, 0x14, 0xdf, 0xf4,
];

/// On SoftHSM, `start` must fail with `NotSupported` naming `function`. True if the
/// module is SoftHSM (the caller stops there).
fn softhsm_refuses(token: &TestToken, function: &str, start: impl FnOnce() -> Error) -> bool {
    if token.module != Module::SoftHsm {
        return false;
    }
    let error = start();
    assert!(
        matches!(&error, Error::NotSupported { function: f } if *f == function),
        "SoftHSM: {error:?}"
    );
    assert!(error.to_string().contains(function), "{error}");
    true
}

/// AES-256-GCM on the RustCrypto side: ciphertext || tag.
fn rust_gcm(iv: &[u8], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(&KEY).unwrap();
    cipher
        .encrypt(
            &aes_gcm::Nonce::from(<[u8; 12]>::try_from(iv).unwrap()),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .unwrap()
}

#[test]
fn aes_gcm_messages_with_every_iv_generator() {
    each_module("message_aes_gcm", |token| {
        let session = token.session();
        let gcm = Mechanism::plain(ffi::CKM_AES_GCM);
        if softhsm_refuses(token, "C_MessageEncryptInit", || {
            let key = secret_key(&session, KeyType::Aes, &KEY);
            session.message_encrypt(&gcm, key).unwrap_err()
        }) {
            // The session is usable afterwards, and a second try gives the same answer
            // (nothing was left active).
            let key = secret_key(&session, KeyType::Aes, &KEY);
            assert!(session.message_decrypt(&gcm, key).is_err());
            assert!(session
                .encrypt(&Mechanism::plain(ffi::CKM_AES_ECB), key, &[0; 16])
                .is_ok());
            return;
        }
        if !token.require("message_aes_gcm", &[mech(ffi::CKM_AES_GCM)]) {
            return;
        }
        let key = secret_key(&session, KeyType::Aes, &KEY);
        let mut encryption = session
            .message_encrypt(&gcm, key)
            .expect("C_MessageEncryptInit");
        let aad = b"associated data";
        let plaintext = b"a message of some thirty-six bytes..";

        // 1. The caller's IV.
        let mut iv = [7u8; 12];
        let mut tag = [0u8; 16];
        let ciphertext = {
            let mut params =
                MessageParams::gcm(&mut iv, 0, Generator::NO_GENERATE, &mut tag).unwrap();
            encryption
                .encrypt(&mut params, aad, plaintext)
                .expect("C_EncryptMessage")
        };
        let mut expected = rust_gcm(&iv, aad, plaintext);
        assert_eq!(iv, [7u8; 12], "a caller's IV is left as it is");
        assert_eq!(
            &expected[plaintext.len()..],
            &tag,
            "the tag written into `tag`"
        );
        expected.truncate(plaintext.len());
        assert_eq!(ciphertext, expected);

        // 2. Generated IVs: a 4-byte fixed part kept, the rest made by the token, and
        // given back through the IV buffer.
        let mut seen = Vec::new();
        for generator in [
            Generator::RANDOM,
            Generator::COUNTER,
            Generator::COUNTER,
            Generator::GENERATE,
        ] {
            let mut iv = [0xa5u8, 0x5a, 0x01, 0x02, 0, 0, 0, 0, 0, 0, 0, 0];
            let mut tag = [0u8; 16];
            let ciphertext = {
                let mut params = MessageParams::gcm(&mut iv, 32, generator, &mut tag).unwrap();
                encryption
                    .encrypt(&mut params, aad, plaintext)
                    .unwrap_or_else(|e| panic!("C_EncryptMessage with {generator:?}: {e}"))
            };
            assert_eq!(
                iv[..4],
                [0xa5, 0x5a, 0x01, 0x02],
                "{generator:?}: fixed part"
            );
            assert!(
                !seen.contains(&iv),
                "{generator:?}: the IV {iv:?} was used before"
            );
            seen.push(iv);
            let mut expected = rust_gcm(&iv, aad, plaintext);
            assert_eq!(&expected[plaintext.len()..], &tag, "{generator:?}");
            expected.truncate(plaintext.len());
            assert_eq!(ciphertext, expected, "{generator:?}");
        }

        // 3. A message in parts; the tag is written with the last one.
        let mut iv = [9u8; 12];
        let mut tag = [0u8; 16];
        let mut parts = Vec::new();
        {
            let mut params =
                MessageParams::gcm(&mut iv, 0, Generator::NO_GENERATE, &mut tag).unwrap();
            encryption
                .begin(&mut params, aad)
                .expect("C_EncryptMessageBegin");
            parts.extend(
                encryption
                    .next(&mut params, &plaintext[..10], false)
                    .unwrap(),
            );
            let mut out = [0u8; 64];
            let n = encryption
                .next_into(&mut params, &plaintext[10..], true, &mut out)
                .expect("C_EncryptMessageNext");
            parts.extend_from_slice(&out[..n]);
        }
        let mut expected = rust_gcm(&iv, aad, plaintext);
        assert_eq!(&expected[plaintext.len()..], &tag);
        expected.truncate(plaintext.len());
        assert_eq!(parts, expected);

        encryption.finish().expect("C_MessageEncryptFinal");

        // 4. A buffer too small names the length needed. (Kryoptic keeps the message
        // begun after CKR_BUFFER_TOO_SMALL, so `finish` is refused with
        // CKR_OPERATION_ACTIVE; the guard then cancels the operation as it goes.)
        let mut encryption = session.message_encrypt(&gcm, key).unwrap();
        let mut iv = [1u8; 12];
        let mut tag = [0u8; 16];
        let mut params = MessageParams::gcm(&mut iv, 0, Generator::NO_GENERATE, &mut tag).unwrap();
        let mut short = [0u8; 5];
        let error = encryption
            .encrypt_into(&mut params, aad, plaintext, &mut short)
            .unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("C_EncryptMessage")
                && text.contains(&format!("{} bytes needed, 5 given", plaintext.len())),
            "{text}"
        );
        let mut exact = [0u8; 36];
        if let Ok(n) = encryption.encrypt_into(&mut params, aad, plaintext, &mut exact) {
            assert_eq!(n, plaintext.len());
        }
        if let Err(error) = encryption.finish() {
            assert_eq!(error.function(), Some("C_MessageEncryptFinal"), "{error}");
        }

        // Decryption of what RustCrypto encrypted, and of a damaged tag.
        let mut decryption = session
            .message_decrypt(&gcm, key)
            .expect("C_MessageDecryptInit");
        let mut iv = [3u8; 12];
        let sealed = rust_gcm(&iv, aad, plaintext);
        let (body, tag_bytes) = sealed.split_at(plaintext.len());
        let mut tag = [0u8; 16];
        tag.copy_from_slice(tag_bytes);
        let opened = {
            let mut params =
                MessageParams::gcm(&mut iv, 0, Generator::NO_GENERATE, &mut tag).unwrap();
            decryption
                .decrypt(&mut params, aad, body)
                .expect("C_DecryptMessage")
        };
        assert_eq!(opened.as_bytes(), plaintext);
        let mut bad = tag;
        bad[0] ^= 1;
        let error = {
            let mut params =
                MessageParams::gcm(&mut iv, 0, Generator::NO_GENERATE, &mut bad).unwrap();
            decryption.decrypt(&mut params, aad, body).unwrap_err()
        };
        assert_eq!(error.function(), Some("C_DecryptMessage"), "{error}");
        // Kryoptic ends the whole operation on a tag mismatch: the guard, which still
        // tracks it, cancels it when dropped, and a new one starts cleanly.
        drop(decryption);
        let mut decryption = session
            .message_decrypt(&gcm, key)
            .expect("C_MessageDecryptInit");
        // In parts, with the right tag.
        let mut out = Vec::new();
        {
            let mut params =
                MessageParams::gcm(&mut iv, 0, Generator::NO_GENERATE, &mut tag).unwrap();
            decryption
                .begin(&mut params, aad)
                .expect("C_DecryptMessageBegin");
            out.extend_from_slice(&decryption.next(&mut params, &body[..20], false).unwrap());
            out.extend_from_slice(&decryption.next(&mut params, &body[20..], true).unwrap());
        }
        assert_eq!(out, plaintext);
        decryption.finish().expect("C_MessageDecryptFinal");
    });
}

#[test]
fn aes_ccm_messages_match_rustcrypto() {
    each_module("message_aes_ccm", |token| {
        let session = token.session();
        let ccm_mechanism = Mechanism::plain(ffi::CKM_AES_CCM);
        if softhsm_refuses(token, "C_MessageEncryptInit", || {
            let key = secret_key(&session, KeyType::Aes, &KEY);
            session.message_encrypt(&ccm_mechanism, key).unwrap_err()
        }) {
            return;
        }
        if !token.require("message_aes_ccm", &[mech(ffi::CKM_AES_CCM)]) {
            return;
        }
        use ccm::aead::{Aead as _, KeyInit as _};
        type Ccm = ccm::Ccm<aes::Aes256, ccm::consts::U16, ccm::consts::U13>;
        let rust = Ccm::new_from_slice(&KEY).unwrap();
        let key = secret_key(&session, KeyType::Aes, &KEY);
        let aad = b"ccm header";
        let plaintext = b"CCM needs the length first";
        let mut nonce = [0x42u8; 13];
        let mut mac = [0u8; 16];
        let mut encryption = session.message_encrypt(&ccm_mechanism, key).unwrap();
        let ciphertext = {
            let mut params = MessageParams::ccm(
                plaintext.len(),
                &mut nonce,
                0,
                Generator::NO_GENERATE,
                &mut mac,
            )
            .unwrap();
            encryption
                .encrypt(&mut params, aad, plaintext)
                .expect("C_EncryptMessage (CCM)")
        };
        let mut expected = rust
            .encrypt(
                &ccm::Nonce::<ccm::consts::U13>::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap();
        assert_eq!(&expected[plaintext.len()..], &mac);
        expected.truncate(plaintext.len());
        assert_eq!(ciphertext, expected);

        // The same message in parts (CCM releases the output with the last part).
        let mut mac2 = [0u8; 16];
        let mut parts = Vec::new();
        {
            let mut params = MessageParams::ccm(
                plaintext.len(),
                &mut nonce,
                0,
                Generator::NO_GENERATE,
                &mut mac2,
            )
            .unwrap();
            encryption
                .begin(&mut params, aad)
                .expect("C_EncryptMessageBegin");
            parts.extend(
                encryption
                    .next(&mut params, &plaintext[..7], false)
                    .unwrap(),
            );
            parts.extend(encryption.next(&mut params, &plaintext[7..], true).unwrap());
        }
        assert_eq!(parts, expected);
        assert_eq!(mac2, mac);
        encryption.finish().unwrap();

        let mut decryption = session.message_decrypt(&ccm_mechanism, key).unwrap();
        let opened = {
            let mut params = MessageParams::ccm(
                plaintext.len(),
                &mut nonce,
                0,
                Generator::NO_GENERATE,
                &mut mac,
            )
            .unwrap();
            decryption.decrypt(&mut params, aad, &ciphertext).unwrap()
        };
        assert_eq!(opened.as_bytes(), plaintext);
        decryption.finish().unwrap();
    });
}

#[test]
fn chacha20_poly1305_messages_match_rustcrypto() {
    each_module("message_chacha20_poly1305", |token| {
        let session = token.session();
        let mechanism = Mechanism::plain(ffi::CKM_CHACHA20_POLY1305);
        if token.module == Module::SoftHsm {
            // SoftHSM has neither the mechanism nor the function: the function is
            // what is missing first.
            let key = secret_key(&session, KeyType::GenericSecret, &KEY);
            let error = session.message_encrypt(&mechanism, key).unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::NotSupported {
                        function: "C_MessageEncryptInit"
                    }
                ),
                "{error:?}"
            );
            return;
        }
        if !token.require(
            "message_chacha20_poly1305",
            &[mech(ffi::CKM_CHACHA20_POLY1305)],
        ) {
            return;
        }
        let key = secret_key(&session, KeyType::Chacha20, &KEY);
        let rust = chacha20poly1305::ChaCha20Poly1305::new_from_slice(&KEY).unwrap();
        let aad = b"chacha header";
        let plaintext = b"twenty-nine bytes of plaintext";
        let mut nonce = [0x11u8; 12];
        let mut tag = [0u8; 16];
        let mut encryption = session.message_encrypt(&mechanism, key).unwrap();
        let ciphertext = {
            let mut params = MessageParams::chacha20_poly1305(&mut nonce, &mut tag).unwrap();
            encryption.encrypt(&mut params, aad, plaintext).unwrap()
        };
        let mut expected = rust
            .encrypt(
                &chacha20poly1305::Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap();
        assert_eq!(&expected[plaintext.len()..], &tag);
        expected.truncate(plaintext.len());
        assert_eq!(ciphertext, expected);
        encryption.finish().unwrap();

        // RustCrypto encrypts, the token decrypts.
        let mut nonce = [0x22u8; 12];
        let sealed = rust
            .encrypt(
                &chacha20poly1305::Nonce::from(nonce),
                Payload {
                    msg: plaintext,
                    aad,
                },
            )
            .unwrap();
        let mut tag = [0u8; 16];
        tag.copy_from_slice(&sealed[plaintext.len()..]);
        let mut decryption = session.message_decrypt(&mechanism, key).unwrap();
        let opened = {
            let mut params = MessageParams::chacha20_poly1305(&mut nonce, &mut tag).unwrap();
            decryption
                .decrypt(&mut params, aad, &sealed[..plaintext.len()])
                .unwrap()
        };
        assert_eq!(opened.as_bytes(), plaintext);
        decryption.finish().unwrap();
    });
}

#[test]
fn dropped_message_guards_cancel_and_the_session_stays_usable() {
    each_module("message_guard_drop", |token| {
        if token.module == Module::SoftHsm {
            // No message functions (a 2.40 table): nothing to cancel; the tests above
            // show the typed error.
            token.skip(
                "message_guard_drop",
                "no C_Message* functions (Cryptoki 2.40)",
            );
            return;
        }
        if !token.require("message_guard_drop", &[mech(ffi::CKM_AES_GCM)]) {
            return;
        }
        let session = token.session();
        let gcm = Mechanism::plain(ffi::CKM_AES_GCM);
        let key = secret_key(&session, KeyType::Aes, &KEY);
        for round in 0..3 {
            let mut encryption = session.message_encrypt(&gcm, key).unwrap();
            // A second one on this thread is refused without reaching the module.
            let error = session.message_encrypt(&gcm, key).unwrap_err();
            assert!(matches!(error, Error::OperationActive { .. }), "{error:?}");
            let mut iv = [round as u8; 12];
            let mut tag = [0u8; 16];
            let mut params =
                MessageParams::gcm(&mut iv, 0, Generator::NO_GENERATE, &mut tag).unwrap();
            match round {
                // Dropped between messages.
                0 => {
                    encryption.encrypt(&mut params, b"", b"data").unwrap();
                }
                // Dropped in the middle of a message in parts.
                1 => {
                    encryption.begin(&mut params, b"aad").unwrap();
                    encryption.next(&mut params, b"part", false).unwrap();
                }
                // Cancelled explicitly.
                _ => {
                    encryption.begin(&mut params, b"aad").unwrap();
                    encryption.cancel().expect("C_SessionCancel");
                    continue;
                }
            }
            drop(encryption);
        }
        // A fresh operation works: nothing was left active in the module.
        let mut encryption = session.message_encrypt(&gcm, key).unwrap();
        let mut iv = [9u8; 12];
        let mut tag = [0u8; 16];
        let mut params = MessageParams::gcm(&mut iv, 0, Generator::NO_GENERATE, &mut tag).unwrap();
        assert_eq!(
            encryption.encrypt(&mut params, b"", b"ok").unwrap().len(),
            2
        );
        encryption.finish().unwrap();
        let mut decryption = session.message_decrypt(&gcm, key).unwrap();
        let mut iv = [9u8; 12];
        let mut tag = [0u8; 16];
        let mut params = MessageParams::gcm(&mut iv, 0, Generator::NO_GENERATE, &mut tag).unwrap();
        decryption.begin(&mut params, b"").unwrap();
        drop(decryption);
        assert!(session.message_decrypt(&gcm, key).is_ok());
    });
}

#[test]
fn message_signatures_give_typed_errors() {
    each_module("message_sign", |token| {
        let session = token.session();
        let key = session
            .create_object(&[
                Attribute::Class(ObjectClass::SecretKey),
                Attribute::KeyType(KeyType::GenericSecret),
                Attribute::Value(SecretBytes::new(vec![5; 32])),
                Attribute::Token(false),
                Attribute::Sign(true),
                Attribute::Verify(true),
            ])
            .unwrap();
        let hmac = Mechanism::plain(ffi::CKM_SHA256_HMAC);
        let sign = session.message_sign(&hmac, key).unwrap_err();
        let verify = session.message_verify(&hmac, key).unwrap_err();
        match token.module {
            Module::SoftHsm => {
                assert!(
                    matches!(
                        sign,
                        Error::NotSupported {
                            function: "C_MessageSignInit"
                        }
                    ),
                    "{sign:?}"
                );
                assert!(
                    matches!(
                        verify,
                        Error::NotSupported {
                            function: "C_MessageVerifyInit"
                        }
                    ),
                    "{verify:?}"
                );
            }
            Module::Kryoptic => {
                // Kryoptic 1.5 has the slots but no implementation.
                assert_eq!(
                    sign.to_string(),
                    "C_MessageSignInit: CKR_FUNCTION_NOT_SUPPORTED (0x00000054)"
                );
                assert_eq!(
                    verify.to_string(),
                    "C_MessageVerifyInit: CKR_FUNCTION_NOT_SUPPORTED (0x00000054)"
                );
            }
        }
        // Nothing was left active: a plain HMAC works.
        let mac = session.sign(&hmac, key, b"data").unwrap();
        assert!(session.verify(&hmac, key, b"data", &mac).unwrap());
    });
}
