//! The rest of the operation surface (issue 4, item 2) on both real modules and on the
//! fault module: sign-recover / verify-recover, the dual-function updates, saving and
//! restoring operation state, the 3.2 `C_VerifySignature*` functions, explicit
//! cancellation (`C_SessionCancel`) and the 3.2 asynchronous functions. Where a module
//! lacks a function, the test shows the typed error naming it, and that the session is
//! usable afterwards.

use hmac::Mac;
use pkcs11::{
    ffi, AsyncOutcome, Attribute, Error, KeyType, Mechanism, MechanismType, ObjectClass,
    ObjectHandle, Pin, Rv, SecretBytes, Session, UserType,
};
use pkcs11_tests::fault::{FaultModule, CKM_FAULT_XOR, SLOT, USER_PIN};
use pkcs11_tests::modules::{each_module, Module};
use sha2::{Digest, Sha256};

fn mech(m: ffi::CK_MECHANISM_TYPE) -> MechanismType {
    MechanismType(m)
}

const P256: [u8; 10] = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn aes_key(session: &Session, value: &[u8]) -> ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::Aes),
            Attribute::Value(SecretBytes::new(value.to_vec())),
            Attribute::Token(false),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
        ])
        .expect("create an AES key")
}

fn sha256(data: &[u8]) -> Vec<u8> {
    Sha256::digest(data).to_vec()
}

/// The module answered `rv` from `function`.
#[track_caller]
fn assert_module_error(error: &Error, function: &str, rv: ffi::CK_RV) {
    assert_eq!(error.function(), Some(function), "{error:?}");
    assert_eq!(error.rv(), Some(Rv::from_raw(rv)), "{error:?}");
}

/// Checks that the session has no operation left active: a digest works.
#[track_caller]
fn assert_usable(session: &Session) {
    assert_eq!(
        session
            .digest(&Mechanism::plain(ffi::CKM_SHA256), b"abc")
            .unwrap(),
        sha256(b"abc")
    );
}

#[test]
fn sign_recover_and_verify_recover_where_supported() {
    each_module("sign_recover", |token| {
        if !token.require(
            "sign_recover",
            &[
                mech(ffi::CKM_RSA_PKCS_KEY_PAIR_GEN),
                mech(ffi::CKM_RSA_X_509),
            ],
        ) {
            return;
        }
        let session = token.session();
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::plain(ffi::CKM_RSA_PKCS_KEY_PAIR_GEN),
                &[
                    Attribute::ModulusBits(2048),
                    Attribute::PublicExponent(vec![1, 0, 1]),
                    Attribute::Token(false),
                    Attribute::VerifyRecover(true),
                    Attribute::Verify(true),
                ],
                &[
                    Attribute::Token(false),
                    Attribute::SignRecover(true),
                    Attribute::Sign(true),
                ],
            )
            .expect("RSA key pair");
        for m in [ffi::CKM_RSA_PKCS, ffi::CKM_RSA_X_509] {
            let mechanism = Mechanism::plain(m);
            let data = b"recoverable message";
            match session.sign_recover(&mechanism, private, data) {
                Ok(signature) => {
                    assert_eq!(signature.len(), 256);
                    let recovered = session
                        .verify_recover(&mechanism, public, &signature)
                        .expect("C_VerifyRecover")
                        .expect("a valid signature");
                    if m == ffi::CKM_RSA_PKCS {
                        assert_eq!(recovered, data);
                    } else {
                        // Raw RSA recovers the zero-padded block.
                        assert!(recovered.ends_with(data));
                    }
                    let mut out = [0u8; 256];
                    let n = session
                        .sign_recover_into(&mechanism, private, data, &mut out)
                        .unwrap();
                    assert_eq!(n, 256);
                    let mut damaged = signature.clone();
                    damaged[100] ^= 1;
                    if m == ffi::CKM_RSA_PKCS {
                        assert_eq!(
                            session
                                .verify_recover(&mechanism, public, &damaged)
                                .unwrap(),
                            None
                        );
                    }
                }
                Err(error) => {
                    // SoftHSM 2.6 and Kryoptic 1.5 implement neither function.
                    pkcs11_tests::note!("{}: sign-recover: {error}", token.module.name());
                    assert_module_error(
                        &error,
                        "C_SignRecoverInit",
                        ffi::CKR_FUNCTION_NOT_SUPPORTED,
                    );
                    let error = session
                        .verify_recover(&mechanism, public, &[1; 256])
                        .unwrap_err();
                    assert_module_error(
                        &error,
                        "C_VerifyRecoverInit",
                        ffi::CKR_FUNCTION_NOT_SUPPORTED,
                    );
                }
            }
        }
        assert_usable(&session);
    });
}

#[test]
fn dual_function_updates_where_supported() {
    each_module("dual_function", |token| {
        if !token.require(
            "dual_function",
            &[mech(ffi::CKM_SHA256), mech(ffi::CKM_AES_ECB)],
        ) {
            return;
        }
        let session = token.session();
        let key = aes_key(&session, &[0x2b; 16]);
        let sha = Mechanism::plain(ffi::CKM_SHA256);
        let ecb = Mechanism::plain(ffi::CKM_AES_ECB);
        let data: Vec<u8> = (0..64u8).collect();
        let reference = session.encrypt(&ecb, key, &data).unwrap();

        let mut stream = match session.digest_encrypt_stream(&sha, &ecb, key) {
            Ok(stream) => stream,
            Err(error) => {
                // SoftHSM runs one operation per session: the second init is refused,
                // and the digest started first is cancelled.
                pkcs11_tests::note!("{}: dual-function: {error}", token.module.name());
                assert_module_error(&error, "C_EncryptInit", ffi::CKR_OPERATION_ACTIVE);
                let error = session.decrypt_digest_stream(&ecb, key, &sha).unwrap_err();
                assert_module_error(&error, "C_DigestInit", ffi::CKR_OPERATION_ACTIVE);
                assert_usable(&session);
                assert_eq!(session.encrypt(&ecb, key, &data).unwrap(), reference);
                return;
            }
        };
        match stream.update(&data[..32]) {
            Ok(first) => {
                let mut rest = [0u8; 32];
                let n = stream.update_into(&data[32..], &mut rest).unwrap();
                let (last, digest) = stream.finish().unwrap();
                let mut ciphertext = first;
                ciphertext.extend_from_slice(&rest[..n]);
                ciphertext.extend(last);
                assert_eq!(ciphertext, reference);
                assert_eq!(digest, sha256(&data));

                let mut stream = session.decrypt_digest_stream(&ecb, key, &sha).unwrap();
                let mut plain = stream.update(&reference).unwrap().as_bytes().to_vec();
                let (last, digest) = stream.finish().unwrap();
                plain.extend_from_slice(&last);
                assert_eq!(plain, data);
                assert_eq!(digest, sha256(&data));

                // Sign-encrypt and decrypt-verify with an HMAC key.
                let mac_value = [0x3cu8; 32];
                let mac_key = session
                    .create_object(&[
                        Attribute::Class(ObjectClass::SecretKey),
                        Attribute::KeyType(KeyType::GenericSecret),
                        Attribute::Value(SecretBytes::new(mac_value.to_vec())),
                        Attribute::Token(false),
                        Attribute::Sign(true),
                        Attribute::Verify(true),
                    ])
                    .unwrap();
                let hmac = Mechanism::plain(ffi::CKM_SHA256_HMAC);
                let mut stream = session
                    .sign_encrypt_stream(&hmac, mac_key, &ecb, key)
                    .unwrap();
                let mut ciphertext = stream.update(&data[..48]).unwrap();
                ciphertext.extend(stream.update(&data[48..]).unwrap());
                let (last, signature) = stream.finish().unwrap();
                ciphertext.extend(last);
                assert_eq!(ciphertext, reference);
                assert_eq!(signature, hmac_sha256(&mac_value, &data));
                let mut stream = session
                    .decrypt_verify_stream(&ecb, key, &hmac, mac_key)
                    .unwrap();
                let mut plain = stream.update(&reference).unwrap().as_bytes().to_vec();
                let (last, valid) = stream.finish(&signature).unwrap();
                plain.extend_from_slice(&last);
                assert_eq!(plain, data);
                assert!(valid);
                let mut stream = session
                    .decrypt_verify_stream(&ecb, key, &hmac, mac_key)
                    .unwrap();
                stream.update(&reference).unwrap();
                let mut bad = signature.clone();
                bad[31] ^= 1;
                assert!(!stream.finish(&bad).unwrap().1);

                // Dropped half-way: both operations are cancelled.
                let mut stream = session.digest_encrypt_stream(&sha, &ecb, key).unwrap();
                stream.update(&data[..16]).unwrap();
                drop(stream);
                assert_eq!(session.encrypt(&ecb, key, &data).unwrap(), reference);
            }
            Err(error) => {
                // SoftHSM: CKR_FUNCTION_NOT_SUPPORTED. Both operations stay tracked
                // and are cancelled when the stream is dropped.
                pkcs11_tests::note!("{}: dual-function: {error}", token.module.name());
                assert_module_error(
                    &error,
                    "C_DigestEncryptUpdate",
                    ffi::CKR_FUNCTION_NOT_SUPPORTED,
                );
                assert!(stream.is_running());
                drop(stream);
                let mut stream = session.decrypt_digest_stream(&ecb, key, &sha).unwrap();
                let error = stream.update(&reference).unwrap_err();
                assert_module_error(
                    &error,
                    "C_DecryptDigestUpdate",
                    ffi::CKR_FUNCTION_NOT_SUPPORTED,
                );
                drop(stream);
            }
        }
        // Both kinds of operation work afterwards.
        assert_usable(&session);
        assert_eq!(session.encrypt(&ecb, key, &data).unwrap(), reference);
    });
}

#[test]
fn digest_state_saved_and_restored_where_supported() {
    each_module("operation_state", |token| {
        let session = token.session();
        let sha = Mechanism::plain(ffi::CKM_SHA256);
        let mut digest = session.digest_stream(&sha).unwrap();
        digest.update(b"first half, ").unwrap();
        match digest.save_state() {
            Ok(state) => {
                assert!(!state.is_empty());
                digest.update(b"second half").unwrap();
                assert_eq!(digest.finish().unwrap(), sha256(b"first half, second half"));
                // Resumed on another session of the token.
                let other = token.session();
                let mut resumed = other
                    .resume_digest_stream(&sha, &state)
                    .expect("C_SetOperationState");
                resumed.update(b"another end").unwrap();
                assert_eq!(
                    resumed.finish().unwrap(),
                    sha256(b"first half, another end")
                );
                // A damaged state is refused, and nothing stays active.
                let error = other.resume_digest_stream(&sha, &state[..state.len() / 2]);
                assert!(error.is_err());
                assert_eq!(error.unwrap_err().function(), Some("C_SetOperationState"));
                assert_usable(&other);
            }
            Err(error) => {
                pkcs11_tests::note!("{}: digest state: {error}", token.module.name());
                assert_eq!(error.function(), Some("C_GetOperationState"), "{error}");
                assert!(matches!(error, Error::Module { .. }), "{error:?}");
                // The refusal did not end the digest.
                assert!(digest.is_running());
                digest.update(b"second half").unwrap();
                assert_eq!(digest.finish().unwrap(), sha256(b"first half, second half"));
            }
        }
        assert_usable(&session);

        // An HMAC: Kryoptic's own HMAC saves its state.
        let key = session
            .create_object(&[
                Attribute::Class(ObjectClass::SecretKey),
                Attribute::KeyType(KeyType::GenericSecret),
                Attribute::Value(SecretBytes::new(
                    b"an hmac key of thirty-two bytes!".to_vec(),
                )),
                Attribute::Token(false),
                Attribute::Sign(true),
            ])
            .unwrap();
        let hmac = Mechanism::plain(ffi::CKM_SHA256_HMAC);
        let mut sign = session.sign_stream(&hmac, key).unwrap();
        sign.update(b"first half, ").unwrap();
        match sign.save_state() {
            Ok(state) => {
                pkcs11_tests::note!(
                    "{}: HMAC state saved ({} bytes)",
                    token.module.name(),
                    state.len()
                );
                drop(sign);
                let mut resumed = session
                    .resume_sign_stream(&hmac, None, &state)
                    .or_else(|_| session.resume_sign_stream(&hmac, Some(key), &state))
                    .expect("C_SetOperationState");
                resumed.update(b"second half").unwrap();
                assert_eq!(
                    resumed.finish().unwrap(),
                    hmac_sha256(
                        b"an hmac key of thirty-two bytes!",
                        b"first half, second half"
                    )
                );
            }
            Err(error) => {
                pkcs11_tests::note!("{}: HMAC state: {error}", token.module.name());
                assert_eq!(error.function(), Some("C_GetOperationState"), "{error}");
                sign.update(b"second half").unwrap();
                assert_eq!(
                    sign.finish().unwrap(),
                    hmac_sha256(
                        b"an hmac key of thirty-two bytes!",
                        b"first half, second half"
                    )
                );
            }
        }
        assert_usable(&session);
    });
}

#[test]
fn verify_signature_of_pkcs11_3_2() {
    each_module("verify_signature", |token| {
        if !token.require(
            "verify_signature",
            &[mech(ffi::CKM_EC_KEY_PAIR_GEN), mech(ffi::CKM_ECDSA)],
        ) {
            return;
        }
        let session = token.session();
        let (public, private) = session
            .generate_key_pair(
                &Mechanism::plain(ffi::CKM_EC_KEY_PAIR_GEN),
                &[
                    Attribute::EcParams(P256.to_vec()),
                    Attribute::Token(false),
                    Attribute::Verify(true),
                ],
                &[Attribute::Token(false), Attribute::Sign(true)],
            )
            .unwrap();
        let ecdsa = Mechanism::plain(ffi::CKM_ECDSA);
        let hash = sha256(b"signed data");
        let signature = session.sign(&ecdsa, private, &hash).unwrap();
        let mut damaged = signature.clone();
        damaged[10] ^= 1;
        if token.module == Module::SoftHsm {
            let error = session
                .verify_signature(&ecdsa, public, &hash, &signature)
                .unwrap_err();
            assert!(
                matches!(
                    error,
                    Error::NotSupported {
                        function: "C_VerifySignatureInit"
                    }
                ),
                "{error:?}"
            );
            assert_usable(&session);
            return;
        }
        assert!(session
            .verify_signature(&ecdsa, public, &hash, &signature)
            .expect("C_VerifySignature"));
        assert!(!session
            .verify_signature(&ecdsa, public, &hash, &damaged)
            .expect("a bad signature is Ok(false)"));
        assert!(!session
            .verify_signature(&ecdsa, public, &hash, &signature[..10])
            .expect("a short signature is Ok(false)"));

        // Multi-part, with a mechanism that hashes.
        if token.has(mech(ffi::CKM_ECDSA_SHA256)) {
            let hashing = Mechanism::plain(ffi::CKM_ECDSA_SHA256);
            let signature = session
                .sign(&hashing, private, b"part one, part two")
                .unwrap();
            let mut stream = session
                .verify_signature_stream(&hashing, public, &signature)
                .expect("C_VerifySignatureInit");
            stream.update(b"part one, ").unwrap();
            stream.update(b"part two").unwrap();
            assert!(stream.finish().expect("C_VerifySignatureFinal"));
            let mut stream = session
                .verify_signature_stream(&hashing, public, &signature)
                .unwrap();
            stream.update(b"part one, part three").unwrap();
            assert!(!stream.finish().unwrap());

            // Dropped unfinished, and cancelled explicitly: the next one starts.
            let mut stream = session
                .verify_signature_stream(&hashing, public, &signature)
                .unwrap();
            stream.update(b"part one").unwrap();
            let error = session
                .verify_signature(&hashing, public, b"x", &signature)
                .unwrap_err();
            assert!(matches!(error, Error::OperationActive { .. }), "{error:?}");
            drop(stream);
            let stream = session
                .verify_signature_stream(&hashing, public, &signature)
                .unwrap();
            stream.cancel().expect("cancel with a NULL-mechanism init");
            assert!(session
                .verify_signature(&hashing, public, b"part one, part two", &signature)
                .unwrap());
        }
        assert_usable(&session);
    });
}

#[test]
fn explicit_cancel_reports_c_session_cancel() {
    each_module("explicit_cancel", |token| {
        let session = token.session();
        let sha = Mechanism::plain(ffi::CKM_SHA256);
        let mut digest = session.digest_stream(&sha).unwrap();
        digest.update(b"abandoned").unwrap();
        match token.module {
            Module::Kryoptic => digest.cancel().expect("C_SessionCancel"),
            Module::SoftHsm => {
                let error = digest.cancel().unwrap_err();
                assert!(
                    matches!(
                        error,
                        Error::NotSupported {
                            function: "C_SessionCancel"
                        }
                    ),
                    "{error:?}"
                );
            }
        }
        // Either way the digest is gone and a new one starts.
        assert_usable(&session);
        let mut digest = session.digest_stream(&sha).unwrap();
        digest.update(b"a").unwrap();
        assert_eq!(digest.finish().unwrap(), sha256(b"a"));
    });
}

#[test]
fn async_functions_give_typed_errors() {
    each_module("async_functions", |token| {
        let session = token.session();
        let complete = session.async_complete("C_Sign").unwrap_err();
        let id = session.async_get_id("C_Sign").unwrap_err();
        let join = session.async_join("C_Sign", 1, 64).unwrap_err();
        match token.module {
            Module::SoftHsm => {
                assert!(
                    matches!(
                        complete,
                        Error::NotSupported {
                            function: "C_AsyncComplete"
                        }
                    ),
                    "{complete:?}"
                );
                assert!(
                    matches!(
                        id,
                        Error::NotSupported {
                            function: "C_AsyncGetID"
                        }
                    ),
                    "{id:?}"
                );
                assert!(
                    matches!(
                        join,
                        Error::NotSupported {
                            function: "C_AsyncJoin"
                        }
                    ),
                    "{join:?}"
                );
            }
            Module::Kryoptic => {
                assert_module_error(&join, "C_AsyncJoin", ffi::CKR_FUNCTION_NOT_SUPPORTED);
                assert_module_error(
                    &complete,
                    "C_AsyncComplete",
                    ffi::CKR_FUNCTION_NOT_SUPPORTED,
                );
                assert_module_error(&id, "C_AsyncGetID", ffi::CKR_FUNCTION_NOT_SUPPORTED);
            }
        }
        let error = session.async_complete("C_Si\0gn").unwrap_err();
        assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
        let error = session.async_join("C_Si\0gn", 1, 8).unwrap_err();
        assert!(matches!(error, Error::InvalidInput { .. }), "{error:?}");
        assert_usable(&session);
    });
}

// ---------------------------------------------------------------------------------------
// The fault module: dual-function updates, state, recover and cancel, counted
// ---------------------------------------------------------------------------------------

fn fault_session(tag: &str) -> (FaultModule, pkcs11::Pkcs11, Session) {
    let module = FaultModule::new(tag);
    let p11 = module.open().expect("open the fault module");
    let session = p11.slot(SLOT).open_rw_session().expect("open a session");
    session
        .login(UserType::User, &Pin::from(USER_PIN))
        .expect("log in");
    (module, p11, session)
}

fn fault_secret(session: &Session, value: &[u8]) -> ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::GenericSecret),
            Attribute::Value(SecretBytes::new(value.to_vec())),
            Attribute::Token(false),
        ])
        .expect("create a secret key")
}

fn xor(data: &[u8], key: &[u8]) -> Vec<u8> {
    data.iter()
        .zip(key.iter().cycle())
        .map(|(a, b)| a ^ b)
        .collect()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[test]
fn fault_module_dual_function_updates_are_exact() {
    let (module, _p11, session) = fault_session("dual_exact");
    let key = fault_secret(&session, b"xor-key");
    let mac_key = fault_secret(&session, b"mac-key");
    let sha = Mechanism::plain(ffi::CKM_SHA256);
    let cipher = Mechanism::plain(CKM_FAULT_XOR);
    let hmac = Mechanism::plain(ffi::CKM_SHA256_HMAC);
    let data = b"plaintext in two parts";

    let mut stream = session.digest_encrypt_stream(&sha, &cipher, key).unwrap();
    let mut ciphertext = stream.update(&data[..9]).unwrap();
    ciphertext.extend(stream.update(&data[9..]).unwrap());
    let (last, digest) = stream.finish().unwrap();
    assert!(last.is_empty());
    assert_eq!(ciphertext, xor(data, b"xor-key"));
    assert_eq!(digest, sha256(data));
    assert_eq!(
        module.calls("C_DigestEncryptUpdate"),
        4,
        "two parts, two calls each"
    );

    let mut stream = session.decrypt_digest_stream(&cipher, key, &sha).unwrap();
    let mut out = [0u8; 64];
    let n = stream.update_into(&ciphertext, &mut out).unwrap();
    assert_eq!(&out[..n], data);
    let error = stream.update_into(&ciphertext, &mut [0u8; 3]).unwrap_err();
    assert!(
        error.to_string().contains("C_DecryptDigestUpdate"),
        "{error}"
    );
    assert!(stream.is_running(), "CKR_BUFFER_TOO_SMALL ends nothing");
    let (_, digest) = stream.finish().unwrap();
    assert_eq!(digest, sha256(data));

    let mut stream = session
        .sign_encrypt_stream(&hmac, mac_key, &cipher, key)
        .unwrap();
    let ciphertext = stream.update(data).unwrap();
    let (_, signature) = stream.finish().unwrap();
    assert_eq!(signature, hmac_sha256(b"mac-key", data));

    let mut stream = session
        .decrypt_verify_stream(&cipher, key, &hmac, mac_key)
        .unwrap();
    assert_eq!(stream.update(&ciphertext).unwrap().as_bytes(), data);
    let (_, valid) = stream.finish(&signature).unwrap();
    assert!(valid);
    let mut stream = session
        .decrypt_verify_stream(&cipher, key, &hmac, mac_key)
        .unwrap();
    stream.update(&ciphertext).unwrap();
    let mut bad = signature.clone();
    bad[0] ^= 1;
    assert!(!stream.finish(&bad).unwrap().1);

    // Dropped half-way: C_SessionCancel ends both (one call each); the session works.
    module.reset_calls();
    let mut stream = session
        .sign_encrypt_stream(&hmac, mac_key, &cipher, key)
        .unwrap();
    stream.update(b"half").unwrap();
    drop(stream);
    assert_eq!(module.calls("C_SessionCancel"), 2);
    assert_eq!(session.digest(&sha, b"abc").unwrap(), sha256(b"abc"));
    assert_eq!(
        session.encrypt(&cipher, key, b"abc").unwrap(),
        xor(b"abc", b"xor-key")
    );

    // A failed update ends both operations: nothing to cancel afterwards.
    module.set_plan("C_DigestEncryptUpdate:rv=CKR_DEVICE_ERROR");
    let mut stream = session.digest_encrypt_stream(&sha, &cipher, key).unwrap();
    let error = stream.update(data).unwrap_err();
    assert_eq!(
        error.to_string(),
        "C_DigestEncryptUpdate: CKR_DEVICE_ERROR (0x00000030)"
    );
    assert!(!stream.is_running());
    module.reset_calls();
    drop(stream);
    assert_eq!(module.calls("C_SessionCancel"), 0);
    module.clear_plan();

    // A second init failing cancels the first operation.
    let error = session
        .digest_encrypt_stream(&sha, &Mechanism::plain(ffi::CKM_AES_ECB), key)
        .unwrap_err();
    assert_eq!(error.function(), Some("C_EncryptInit"), "{error}");
    assert_eq!(session.digest(&sha, b"abc").unwrap(), sha256(b"abc"));
}

#[test]
fn fault_module_state_recover_cancel_and_3_2_slots() {
    let (module, _p11, session) = fault_session("state_recover_cancel");
    let key = fault_secret(&session, b"k");
    let sha = Mechanism::plain(ffi::CKM_SHA256);

    let mut digest = session.digest_stream(&sha).unwrap();
    digest.update(b"ab").unwrap();
    let error = digest.save_state().unwrap_err();
    assert_eq!(
        error.to_string(),
        "C_GetOperationState: CKR_STATE_UNSAVEABLE (0x00000180)"
    );
    digest.update(b"c").unwrap();
    assert_eq!(digest.finish().unwrap(), sha256(b"abc"));
    let error = session.resume_digest_stream(&sha, &[1, 2, 3]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "C_SetOperationState: CKR_SAVED_STATE_INVALID (0x00000160)"
    );

    let error = session
        .sign_recover(&Mechanism::plain(ffi::CKM_RSA_X_509), key, b"data")
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "C_SignRecoverInit: CKR_MECHANISM_INVALID (0x00000070)"
    );
    assert_eq!(
        module.calls("C_SignRecover"),
        0,
        "no call after a failed init"
    );

    // Explicit cancel: one C_SessionCancel, reported.
    module.reset_calls();
    let mut digest = session.digest_stream(&sha).unwrap();
    digest.update(b"x").unwrap();
    digest.cancel().expect("C_SessionCancel");
    assert_eq!(module.calls("C_SessionCancel"), 1);
    // Refused: the error names it, and the guard still ends the operation.
    module.set_plan("C_SessionCancel:rv=CKR_OPERATION_CANCEL_FAILED@1");
    let mut digest = session.digest_stream(&sha).unwrap();
    digest.update(b"x").unwrap();
    let error = digest.cancel().unwrap_err();
    assert_eq!(
        error.to_string(),
        "C_SessionCancel: CKR_OPERATION_CANCEL_FAILED (0x00000202)"
    );
    module.clear_plan();
    assert_eq!(session.digest(&sha, b"abc").unwrap(), sha256(b"abc"));

    // The fault module's 3.2 table leaves these slots NULL.
    let error = session
        .verify_signature(&Mechanism::plain(ffi::CKM_SHA256_HMAC), key, b"d", &[0; 32])
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotSupported {
                function: "C_VerifySignatureInit"
            }
        ),
        "{error:?}"
    );
    let error = session.async_get_id("C_Sign").unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotSupported {
                function: "C_AsyncGetID"
            }
        ),
        "{error:?}"
    );
    // And its message-based slots.
    let error = session
        .message_encrypt(&Mechanism::plain(CKM_FAULT_XOR), key)
        .unwrap_err();
    assert!(
        matches!(
            error,
            Error::NotSupported {
                function: "C_MessageEncryptInit"
            }
        ),
        "{error:?}"
    );
    assert!(matches!(
        session.async_complete("C_Sign"),
        Err(Error::NotSupported {
            function: "C_AsyncComplete"
        })
    ));
    assert!(!matches!(
        session.async_complete("C_Sign"),
        Ok(AsyncOutcome::Pending)
    ));
}
