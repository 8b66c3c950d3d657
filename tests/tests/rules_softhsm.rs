//! RELIABILITY.md rules that SoftHSMv2 can show and that had no test of their own:
//!
//! - rule 10: an explicit finalize waits for a call in flight (a slow RSA key generation
//!   on another thread) instead of finalizing under it;
//! - rule 13: the crate never calls `C_CloseAllSessions`: another component's session
//!   (opened by raw calls on the same module) survives everything the crate does, on a
//!   module the crate adopted and on one it initialized;
//! - rule 15: the NULL-buffer length query may be larger than the result (SoftHSM asks
//!   for the ciphertext's length to decrypt CBC-PAD): the result is truncated to the
//!   final call's length;
//! - rule 16: `CKR_BUFFER_TOO_SMALL` does not end a stream, a failed `C_EncryptUpdate`
//!   does (the crate then refuses the stream without calling the module, and the next
//!   operation starts without `CKR_OPERATION_ACTIVE`);
//! - rule 18: SoftHSM 2.6's `C_DecryptUpdate` answers the length query of an empty part
//!   with 2^64 − 16 (an unsigned underflow): a contract violation reported as an error,
//!   before any allocation, and the session goes on;
//! - rule 20: `CK_UNAVAILABLE_INFORMATION` is never taken for a size (sensitive and
//!   invalid attributes, object sizes, token counts) and is kept as a value where it is
//!   one (`CKA_KEY_GEN_MECHANISM` of an imported key);
//! - rule 21: `CK_ULONG` attributes are exactly `sizeof(CK_ULONG)` native-endian bytes,
//!   both ways (a `CKA_VALUE_LEN` template sizes the key SoftHSM generates; read back it
//!   is the raw bytes SoftHSM wrote);
//! - rule 22: zero-length values are legal, in templates, searches, attribute reads and
//!   operation inputs and outputs;
//! - rule 34: decrypted data comes back as `SecretBytes` (redacted `Debug`), and every
//!   failed `_into` decryption leaves the caller's buffer wiped.
//!
//! Each test checks its premise about SoftHSM with raw calls where the rule is about
//! what the module answers, so that a different SoftHSM fails loudly instead of making
//! the test vacuous.
//!
//! SoftHSM is one instance per process: the tests of this binary share one throwaway
//! token (exported before any initialization), take turns, and each leaves the module
//! finalized (rule 13 needs to initialize it by raw calls). A watchdog aborts the
//! process if a test hangs.

use std::sync::MutexGuard;
use std::time::{Duration, Instant};

use pkcs11::{
    Attribute, AttributeResult, AttributeType, Count, Error, GcmParams, KeyType, Mechanism,
    MechanismType, ObjectClass, ObjectHandle, Pin, Pkcs11, Rv, SecretBytes, Session, Slot,
    UserType,
};
use pkcs11_sys as sys;
use pkcs11_tests::{
    shared_softhsm_token, softhsm_get_info_rv, softhsm_module, take_finalized_turn, SoftHsmToken,
    Watchdog,
};
use sha2::Digest;

fn token() -> &'static SoftHsmToken {
    shared_softhsm_token("rules-softhsm")
}

/// Serializes the tests of this binary; makes sure the token exists and is exported.
fn turn() -> MutexGuard<'static, ()> {
    take_finalized_turn(token)
}

fn user_pin() -> Pin {
    Pin::from(token().user_pin)
}

fn first_slot(p11: &Pkcs11) -> Slot {
    p11.token_by_label(token().label()).unwrap()
}

/// A logged-in read-write session on the test token.
fn user_session(p11: &Pkcs11) -> Session {
    let session = first_slot(p11).open_rw_session().unwrap();
    session.login(UserType::User, &user_pin()).unwrap();
    session
}

/// Calls a function of a raw table, panicking with its name if the slot is NULL;
/// evaluates to the `CK_RV`.
macro_rules! raw_call {
    ($table:expr, $function:ident($($arg:expr),* $(,)?)) => {{
        let function = $table
            .$function
            .unwrap_or_else(|| panic!("{} is NULL in SoftHSM's table", stringify!($function)));
        // SAFETY: each call site passes handles of this initialization and pointers to
        // live, correctly typed values (writable where the function writes) as the
        // function's specification requires.
        unsafe { function($($arg),*) }
    }};
}

/// The raw table of the module behind `session`.
fn table(session: &Session) -> &sys::CK_FUNCTION_LIST {
    session.pkcs11().raw_module().functions()
}

/// A secret key with a known value, not sensitive: its `CKA_VALUE` can be read back.
fn aes_key(session: &Session, value: &[u8]) -> ObjectHandle {
    session
        .create_object(&[
            Attribute::Class(ObjectClass::SecretKey),
            Attribute::KeyType(KeyType::Aes),
            Attribute::Token(false),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Label("rules-aes".into()),
            Attribute::Value(SecretBytes::new(value.to_vec())),
        ])
        .unwrap()
}

/// A raw `C_GetAttributeValue` of one attribute with a NULL value pointer: the return
/// value and the length the module wrote.
fn raw_length_query(
    session: &Session,
    object: ObjectHandle,
    ty: sys::CK_ATTRIBUTE_TYPE,
) -> (sys::CK_RV, sys::CK_ULONG) {
    let mut template = [sys::CK_ATTRIBUTE {
        type_: ty,
        pValue: std::ptr::null_mut(),
        ulValueLen: 0,
    }];
    let rv = raw_call!(
        table(session),
        C_GetAttributeValue(session.handle(), object.raw(), template.as_mut_ptr(), 1)
    );
    (rv, template[0].ulValueLen)
}

/// The length an "output buffer too small" error names.
fn needed(error: &Error) -> usize {
    let text = error.to_string();
    assert!(
        matches!(error, Error::InvalidInput { .. }) && text.contains("bytes needed"),
        "not a too-small error: {text}"
    );
    let before = text.split(" bytes needed").next().unwrap();
    before.rsplit(' ').next().unwrap().parse().unwrap()
}

// --- Rule 10 ----------------------------------------------------------------------------

/// When each side of the race started and ended.
#[derive(Debug)]
struct Race {
    generation_end: Instant,
    finalize_start: Instant,
    finalize_end: Instant,
}

/// A 3072-bit RSA key pair takes SoftHSM a long while (hundreds of milliseconds or
/// more): a call in flight on one thread while another finalizes. The finalize must wait
/// for it: the generation succeeds (SoftHSM crashes when finalized under a call), and
/// finalize lasts as long as the call stays in flight.
#[test]
fn rule_10_finalize_waits_for_a_slow_call_in_flight() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the finalize-in-flight test", Duration::from_secs(120));
    let mut races = Vec::new();
    for _attempt in 0..3 {
        let p11 = Pkcs11::open(softhsm_module()).unwrap();
        let session = user_session(&p11);
        let (started, entered) = std::sync::mpsc::channel();
        let race = std::thread::scope(|scope| {
            let generator = scope.spawn(|| {
                started.send(()).unwrap();
                let pair = session.generate_key_pair(
                    &Mechanism::RsaPkcsKeyPairGen,
                    &[
                        Attribute::ModulusBits(3072),
                        Attribute::PublicExponent(vec![1, 0, 1]),
                        Attribute::Token(false),
                    ],
                    &[Attribute::Token(false), Attribute::Sign(true)],
                );
                (Instant::now(), pair)
            });
            entered.recv().unwrap();
            // Give the generation time to enter the module.
            std::thread::sleep(Duration::from_millis(30));
            let finalize_start = Instant::now();
            p11.clone().finalize().unwrap();
            let finalize_end = Instant::now();
            let (generation_end, pair) = generator.join().unwrap();
            let (public, private) = pair.expect("the call in flight completes normally");
            assert_ne!(public, private);
            Race {
                generation_end,
                finalize_start,
                finalize_end,
            }
        });
        assert_eq!(softhsm_get_info_rv(), sys::CKR_CRYPTOKI_NOT_INITIALIZED);
        assert!(
            matches!(session.generate_random(1), Err(Error::Finalized)),
            "after finalize nothing reaches the module"
        );
        drop((session, p11));
        // How long the call stayed in flight after finalize began, and how long finalize
        // took. `generation_end` is taken after the crate's own work following the module
        // call, so finalize may return a moment before it; without the wait it would
        // return at once (if SoftHSM survived the C_Finalize under its call at all).
        let overlap = race
            .generation_end
            .saturating_duration_since(race.finalize_start);
        let waited = race.finalize_end - race.finalize_start;
        eprintln!(
            "rule 10: the call was in flight {overlap:?} into finalize, which took {waited:?}"
        );
        if overlap >= Duration::from_millis(20) {
            // The premise held: the call was in flight when finalize began.
            assert!(
                waited * 2 >= overlap,
                "finalize returned before the call in flight: {race:?}"
            );
            return;
        }
        races.push(race);
    }
    panic!("the key generation never overlapped the finalize: {races:?}");
}

// --- Rule 13 ----------------------------------------------------------------------------

/// A session of "another component": opened by raw calls through `functions`.
fn raw_open(functions: &sys::CK_FUNCTION_LIST, slot: sys::CK_SLOT_ID) -> sys::CK_SESSION_HANDLE {
    let mut handle = sys::CK_INVALID_HANDLE;
    let rv = raw_call!(
        functions,
        C_OpenSession(
            slot,
            sys::CKF_SERIAL_SESSION | sys::CKF_RW_SESSION,
            std::ptr::null_mut(),
            None,
            &mut handle
        )
    );
    assert_eq!(rv, sys::CKR_OK, "C_OpenSession");
    handle
}

/// Asserts that the raw session `handle` is still open and works.
fn assert_alive(functions: &sys::CK_FUNCTION_LIST, handle: sys::CK_SESSION_HANDLE, when: &str) {
    let mut info = sys::CK_SESSION_INFO::default();
    let rv = raw_call!(functions, C_GetSessionInfo(handle, &mut info));
    assert_eq!(
        rv,
        sys::CKR_OK,
        "the other component's session died {when}: {}",
        Rv::from_raw(rv)
    );
    let mut random = [0u8; 8];
    let rv = raw_call!(functions, C_GenerateRandom(handle, random.as_mut_ptr(), 8));
    assert_eq!(rv, sys::CKR_OK, "C_GenerateRandom on it {when}");
}

/// Everything the safe crate does with sessions, on `p11`: opening and closing, login
/// and a failed login, dropped streams and searches, a session poisoned by a
/// session-fatal answer, explicit closes and drops. `other` is checked after each step.
fn churn_sessions(p11: &Pkcs11, functions: &sys::CK_FUNCTION_LIST, other: sys::CK_SESSION_HANDLE) {
    let slot = first_slot(p11);
    let rw = slot.open_rw_session().unwrap();
    let ro = slot.open_ro_session().unwrap();
    let error = rw
        .login(UserType::User, &Pin::from("wrong-pin-1313"))
        .unwrap_err();
    assert_eq!(error.rv(), Some(Rv::PinIncorrect));
    rw.login(UserType::User, &user_pin()).unwrap();
    let key = aes_key(&rw, &[0x13; 16]);
    let cbc = Mechanism::AesCbcPad { iv: [0; 16] };
    let mut stream = ro.encrypt_stream(&cbc, key).unwrap();
    let _ = stream.update(&[1; 20]).unwrap();
    drop(stream);
    let mut search = rw
        .find(&[Attribute::Class(ObjectClass::SecretKey)])
        .unwrap();
    let _ = search.next();
    drop(search);
    assert_alive(functions, other, "after dropped operations");

    // A session closed behind the crate's back is poisoned, and dropping it calls
    // nothing (rule 14); the crate closes no other session in its place.
    let victim = slot.open_ro_session().unwrap();
    assert_eq!(
        raw_call!(functions, C_CloseSession(victim.handle())),
        sys::CKR_OK
    );
    assert!(victim.generate_random(4).is_err());
    assert!(!victim.is_usable());
    drop(victim);
    assert_alive(functions, other, "after a poisoned session was dropped");

    rw.logout().unwrap();
    ro.close().unwrap();
    assert_alive(functions, other, "after Session::close");
    drop(rw);
    assert_alive(functions, other, "after the last crate session was dropped");
    let many: Vec<Session> = (0..5).map(|_| slot.open_ro_session().unwrap()).collect();
    drop(many);
    drop(slot);
    assert_alive(
        functions,
        other,
        "after dropping many sessions and the slot",
    );
}

#[test]
fn rule_13_other_components_sessions_survive_everything_the_crate_does() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the close-all-sessions test", Duration::from_secs(60));

    // 1. Another component initialized the module and holds a session: the crate adopts
    //    the module; nothing it does, not even dropping its last handle or an explicit
    //    finalize, closes that session.
    let component = sys::Module::load(softhsm_module()).unwrap();
    let functions = component.functions();
    let mut args = sys::CK_C_INITIALIZE_ARGS {
        flags: sys::CKF_OS_LOCKING_OK,
        ..Default::default()
    };
    let rv = raw_call!(
        functions,
        C_Initialize(std::ptr::from_mut(&mut args).cast())
    );
    assert_eq!(rv, sys::CKR_OK);
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    assert!(p11.is_adopted());
    let slot_id = first_slot(&p11).id();
    let other = raw_open(functions, slot_id);
    churn_sessions(&p11, functions, other);
    p11.clone().finalize().unwrap();
    assert_alive(
        functions,
        other,
        "after an explicit finalize of an adopted module",
    );
    drop(p11);
    assert_alive(
        functions,
        other,
        "after the crate's last handle was dropped",
    );
    // Once more, with a fresh handle of the crate.
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    assert!(p11.is_adopted());
    churn_sessions(&p11, functions, other);
    drop(p11);
    assert_alive(functions, other, "after the second round");
    assert_eq!(raw_call!(functions, C_CloseSession(other)), sys::CKR_OK);
    assert_eq!(
        raw_call!(functions, C_Finalize(std::ptr::null_mut())),
        sys::CKR_OK
    );
    drop(component);

    // 2. The crate initialized the module; another component works through the same
    //    function table (as a C library handed the crate's table would): its session
    //    lives as long as the crate keeps the module initialized.
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    assert!(!p11.is_adopted());
    let functions = p11.raw_module().functions();
    let other = raw_open(functions, slot_id);
    let spare = p11.clone();
    churn_sessions(&spare, functions, other);
    drop(spare);
    assert_alive(functions, other, "after dropping a clone of the handle");
    assert_eq!(raw_call!(functions, C_CloseSession(other)), sys::CKR_OK);
    drop(p11);
    assert_eq!(softhsm_get_info_rv(), sys::CKR_CRYPTOKI_NOT_INITIALIZED);
}

// --- Rule 15 ----------------------------------------------------------------------------

#[test]
fn rule_15_a_larger_length_query_is_truncated_to_the_final_length() {
    let _turn = turn();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let session = user_session(&p11);
    let key = aes_key(&session, &[0x15; 32]);
    let iv = [7u8; 16];
    let cbc = Mechanism::AesCbcPad { iv };
    let plaintext = [0x42u8; 40];
    let ciphertext = session.encrypt(&cbc, key, &plaintext).unwrap();
    assert_eq!(ciphertext.len(), 48);

    // Premise: SoftHSM answers the NULL query with the ciphertext's length, 48, before it
    // knows the padding.
    let mut mechanism = sys::CK_MECHANISM {
        mechanism: sys::CKM_AES_CBC_PAD,
        pParameter: iv.as_ptr().cast_mut().cast(),
        ulParameterLen: 16,
    };
    let f = table(&session);
    assert_eq!(
        raw_call!(
            f,
            C_DecryptInit(session.handle(), &mut mechanism, key.raw())
        ),
        sys::CKR_OK
    );
    let mut len: sys::CK_ULONG = 0;
    let rv = raw_call!(
        f,
        C_Decrypt(
            session.handle(),
            ciphertext.as_ptr().cast_mut(),
            48,
            std::ptr::null_mut(),
            &mut len
        )
    );
    assert_eq!((rv, len), (sys::CKR_OK, 48), "SoftHSM's length query");
    let mut out = [0u8; 48];
    let rv = raw_call!(
        f,
        C_Decrypt(
            session.handle(),
            ciphertext.as_ptr().cast_mut(),
            48,
            out.as_mut_ptr(),
            &mut len
        )
    );
    assert_eq!((rv, len), (sys::CKR_OK, 40), "the final call's length");

    // The safe crate's results have exactly the final length.
    let decrypted = session.decrypt(&cbc, key, &ciphertext).unwrap();
    assert_eq!(decrypted.len(), 40);
    assert_eq!(&*decrypted, &plaintext[..]);
    let mut stream = session.decrypt_stream(&cbc, key).unwrap();
    let mut streamed = stream.update(&ciphertext).unwrap().to_vec();
    streamed.extend_from_slice(&stream.finish().unwrap());
    assert_eq!(streamed, plaintext);
    // A larger caller buffer: the length written is the final one.
    let mut big = [0u8; 64];
    assert_eq!(
        session
            .decrypt_into(&cbc, key, &ciphertext, &mut big)
            .unwrap(),
        40
    );
    assert_eq!(big[..40], plaintext);
    // Too small: CKR_BUFFER_TOO_SMALL with the size the module needs.
    let error = session
        .encrypt_into(&cbc, key, &plaintext, &mut [0u8; 47])
        .unwrap_err();
    assert_eq!(needed(&error), 48, "{error}");
    drop((session, p11));
}

// --- Rule 16 ----------------------------------------------------------------------------

/// `CK_AES_CTR_PARAMS` with a counter of `bits` bits starting at zero, as the bytes of
/// the C struct (a `Vec` of `CK_ULONG`s keeps them aligned for it).
fn ctr_params(bits: sys::CK_ULONG) -> Vec<sys::CK_ULONG> {
    let words =
        std::mem::size_of::<sys::CK_AES_CTR_PARAMS>() / std::mem::size_of::<sys::CK_ULONG>();
    let mut params = vec![0 as sys::CK_ULONG; words];
    params[0] = bits;
    params
}

fn as_bytes(words: &[sys::CK_ULONG]) -> &[u8] {
    // SAFETY: any initialized `CK_ULONG`s are readable as bytes, for their whole size.
    unsafe { std::slice::from_raw_parts(words.as_ptr().cast(), std::mem::size_of_val(words)) }
}

#[test]
fn rule_16_buffer_too_small_keeps_a_stream_and_a_failed_update_ends_it() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the operation-state test", Duration::from_secs(30));
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let session = user_session(&p11);
    let key = aes_key(&session, &[0x16; 32]);
    let cbc = Mechanism::AesCbcPad { iv: [9; 16] };
    let plaintext: Vec<u8> = (0..70u8).collect();
    let expected = session.encrypt(&cbc, key, &plaintext).unwrap();

    // CKR_BUFFER_TOO_SMALL does not end the operation: the same update is retried.
    let mut stream = session.encrypt_stream(&cbc, key).unwrap();
    let mut out = vec![0u8; 96];
    let error = stream
        .update_into(&plaintext[..40], &mut out[..8])
        .unwrap_err();
    assert_eq!(needed(&error), 32, "{error}");
    assert!(stream.is_running(), "a too-small buffer ends nothing");
    let mut written = stream.update_into(&plaintext[..40], &mut out).unwrap();
    written += stream
        .update_into(&plaintext[40..], &mut out[written..])
        .unwrap();
    let error = stream.finish_into(&mut [0u8; 4]).unwrap_err();
    assert_eq!(needed(&error), 16, "{error}");
    assert!(stream.is_running(), "a too-small final buffer ends nothing");
    written += stream.finish_into(&mut out[written..]).unwrap();
    assert!(!stream.is_running(), "a successful final call ends it");
    drop(stream);
    assert_eq!(&out[..written], &expected[..]);

    // A failed C_EncryptUpdate ends the operation. Premise: SoftHSM refuses to go past a
    // 1-bit CTR counter (two blocks) with CKR_DATA_LEN_RANGE.
    let params = ctr_params(1);
    let ctr = Mechanism::Raw {
        mechanism: MechanismType(sys::CKM_AES_CTR),
        parameter: as_bytes(&params),
    };
    let mut stream = session.encrypt_stream(&ctr, key).unwrap();
    assert_eq!(stream.update(&[0u8; 16]).unwrap().len(), 16);
    let error = stream.update(&[0u8; 48]).unwrap_err();
    assert!(
        matches!(
            error,
            Error::Module {
                function: "C_EncryptUpdate",
                rv: Rv::DataLenRange
            }
        ),
        "{error:?}"
    );
    assert!(!stream.is_running(), "the failed update ended the stream");
    // The crate knows: the ended stream is refused without a module call...
    let error = stream.update(&[0u8; 1]).unwrap_err();
    assert!(
        matches!(&error, Error::InvalidInput { what } if what.contains("already ended")),
        "{error:?}"
    );
    drop(stream);
    // ...and so does SoftHSM: the next operations start without CKR_OPERATION_ACTIVE.
    assert_eq!(
        raw_call!(
            table(&session),
            C_EncryptUpdate(
                session.handle(),
                [0u8; 16].as_ptr().cast_mut(),
                16,
                [0u8; 16].as_mut_ptr(),
                &mut 16
            )
        ),
        sys::CKR_OPERATION_NOT_INITIALIZED,
        "premise: SoftHSM ended the operation too"
    );
    assert_eq!(session.encrypt(&cbc, key, &plaintext).unwrap(), expected);
    let mut stream = session.encrypt_stream(&ctr, key).unwrap();
    assert_eq!(stream.update(&[0u8; 32]).unwrap().len(), 32);
    drop(stream);
    assert!(session.is_usable());
    drop((session, p11));
}

// --- Rule 18 ----------------------------------------------------------------------------

#[test]
fn rule_18_softhsm_decrypt_update_length_underflow_is_a_contract_error() {
    let _turn = turn();
    let _watchdog = Watchdog::new("the underflow test", Duration::from_secs(30));
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let session = user_session(&p11);
    let key = aes_key(&session, &[0x18; 32]);
    let iv = [3u8; 16];
    let cbc = Mechanism::AesCbcPad { iv };
    let ciphertext = session.encrypt(&cbc, key, b"eighteen").unwrap();

    // Premise: the raw length query of an empty part answers OK and 2^64 - 16.
    let mut mechanism = sys::CK_MECHANISM {
        mechanism: sys::CKM_AES_CBC_PAD,
        pParameter: iv.as_ptr().cast_mut().cast(),
        ulParameterLen: 16,
    };
    let f = table(&session);
    assert_eq!(
        raw_call!(
            f,
            C_DecryptInit(session.handle(), &mut mechanism, key.raw())
        ),
        sys::CKR_OK
    );
    let mut len: sys::CK_ULONG = 0;
    let rv = raw_call!(
        f,
        C_DecryptUpdate(
            session.handle(),
            ciphertext.as_ptr().cast_mut(),
            0,
            std::ptr::null_mut(),
            &mut len
        )
    );
    assert_eq!(rv, sys::CKR_OK);
    assert_eq!(
        len,
        sys::CK_ULONG::MAX - 15,
        "premise: SoftHSM 2.6's unsigned underflow (a fixed SoftHSM needs another lie)"
    );
    // End the raw operation.
    let mut out = [0u8; 32];
    let mut len: sys::CK_ULONG = 32;
    let rv = raw_call!(
        f,
        C_Decrypt(
            session.handle(),
            ciphertext.as_ptr().cast_mut(),
            ciphertext.len() as sys::CK_ULONG,
            out.as_mut_ptr(),
            &mut len
        )
    );
    assert_eq!(rv, sys::CKR_OK);

    // The safe crate: an error naming the function, not a 2^64-byte allocation.
    let mut stream = session.decrypt_stream(&cbc, key).unwrap();
    let error = stream.update(&[]).unwrap_err();
    match &error {
        Error::ModuleContract {
            function: "C_DecryptUpdate",
            what,
        } => assert!(what.contains("18446744073709551600"), "{what}"),
        other => panic!("expected a contract error, got {other:?}"),
    }
    // The same lie into the caller's buffer (CKR_BUFFER_TOO_SMALL asking for 2^64 - 16).
    let mut out = [0x55u8; 32];
    let error = stream.update_into(&[], &mut out).unwrap_err();
    assert!(
        matches!(
            error,
            Error::ModuleContract {
                function: "C_DecryptUpdate",
                ..
            }
        ),
        "{error:?}"
    );
    assert_eq!(out, [0u8; 32], "the secret output buffer is wiped");
    // The stream is still usable past the lie, and the session after it.
    let mut plaintext = stream.update(&ciphertext).unwrap().to_vec();
    plaintext.extend_from_slice(&stream.finish().unwrap());
    assert_eq!(plaintext, b"eighteen");
    let mut stream = session.decrypt_stream(&cbc, key).unwrap();
    assert!(stream.update(&[]).is_err());
    drop(stream);
    assert_eq!(
        &*session.decrypt(&cbc, key, &ciphertext).unwrap(),
        b"eighteen"
    );
    drop((session, p11));
}

// --- Rule 20 ----------------------------------------------------------------------------

#[test]
fn rule_20_unavailable_information_is_never_a_size() {
    let _turn = turn();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let session = user_session(&p11);
    let unavailable = sys::CK_UNAVAILABLE_INFORMATION;

    // A sensitive key's CKA_VALUE and an attribute the key lacks: SoftHSM answers with
    // CK_UNAVAILABLE_INFORMATION as the length.
    let sensitive = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::ValueLen(32),
                Attribute::Token(false),
                Attribute::Sensitive(true),
                Attribute::Label("rule-20".into()),
            ],
        )
        .unwrap();
    assert_eq!(
        raw_length_query(&session, sensitive, sys::CKA_VALUE),
        (sys::CKR_ATTRIBUTE_SENSITIVE, unavailable),
        "premise"
    );
    assert_eq!(
        raw_length_query(&session, sensitive, sys::CKA_MODULUS),
        (sys::CKR_ATTRIBUTE_TYPE_INVALID, unavailable),
        "premise"
    );
    let results = session
        .get_attributes(
            sensitive,
            &[
                AttributeType::Value,
                AttributeType::Modulus,
                AttributeType::Label,
                AttributeType::Value,
            ],
        )
        .unwrap();
    assert_eq!(results[0], AttributeResult::Sensitive);
    assert_eq!(results[1], AttributeResult::Invalid);
    assert_eq!(
        results[2],
        AttributeResult::Value(Attribute::Label("rule-20".into()))
    );
    assert_eq!(results[3], AttributeResult::Sensitive);

    // C_GetObjectSize: SoftHSM does not tell; None, not a size of 2^64 - 1.
    let mut size: sys::CK_ULONG = 0;
    let rv = raw_call!(
        table(&session),
        C_GetObjectSize(session.handle(), sensitive.raw(), &mut size)
    );
    assert_eq!((rv, size), (sys::CKR_OK, unavailable), "premise");
    assert_eq!(session.object_size(sensitive).unwrap(), None);

    // Token counts: SoftHSM does not count sessions; Unavailable, not a count.
    let slot = first_slot(&p11);
    let mut raw = sys::CK_TOKEN_INFO::default();
    let rv = raw_call!(table(&session), C_GetTokenInfo(slot.id(), &mut raw));
    assert_eq!(rv, sys::CKR_OK);
    assert_eq!(raw.ulSessionCount, unavailable, "premise");
    let info = slot.token_info().unwrap();
    assert_eq!(info.session_count(), Count::Unavailable);
    assert_eq!(info.session_count().value(), None);
    assert_eq!(info.free_public_memory(), Count::Unavailable);

    // Where it is a value (the key-generation mechanism of an imported key), it is kept
    // as the value: eight bytes, never a length.
    let imported = aes_key(&session, &[0x20; 16]);
    assert_eq!(
        raw_length_query(&session, imported, sys::CKA_KEY_GEN_MECHANISM),
        (
            sys::CKR_OK,
            std::mem::size_of::<sys::CK_ULONG>() as sys::CK_ULONG
        ),
        "premise"
    );
    assert_eq!(
        session
            .get_attribute(imported, AttributeType::KeyGenMechanism)
            .unwrap(),
        Attribute::KeyGenMechanism(MechanismType(unavailable))
    );
    drop((session, slot, p11));
}

// --- Rule 21 ----------------------------------------------------------------------------

#[test]
fn rule_21_ulong_attributes_are_exactly_native_endian_ck_ulongs_both_ways() {
    let _turn = turn();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let session = user_session(&p11);
    const ULONG: usize = std::mem::size_of::<sys::CK_ULONG>();

    // Written: a CKA_VALUE_LEN of 24 in the template makes SoftHSM generate a 24-byte
    // key (a value of the wrong size or byte order would be refused or misread).
    let key = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::ValueLen(24),
                Attribute::Token(false),
                Attribute::Sensitive(false),
                Attribute::Extractable(true),
            ],
        )
        .unwrap();
    let value = session.get_attribute(key, AttributeType::Value).unwrap();
    assert_eq!(value.as_bytes().map(<[u8]>::len), Some(24));

    // Read: SoftHSM writes exactly sizeof(CK_ULONG) native-endian bytes; the crate
    // decodes them as such.
    for (ty, expected) in [
        (sys::CKA_VALUE_LEN, 24),
        (sys::CKA_CLASS, sys::CKO_SECRET_KEY),
        (sys::CKA_KEY_TYPE, sys::CKK_AES),
        (sys::CKA_KEY_GEN_MECHANISM, sys::CKM_AES_KEY_GEN),
    ] {
        let mut bytes = [0xeeu8; 16];
        let mut template = [sys::CK_ATTRIBUTE {
            type_: ty,
            pValue: bytes.as_mut_ptr().cast(),
            ulValueLen: 16,
        }];
        let rv = raw_call!(
            table(&session),
            C_GetAttributeValue(session.handle(), key.raw(), template.as_mut_ptr(), 1)
        );
        assert_eq!(rv, sys::CKR_OK);
        assert_eq!(template[0].ulValueLen as usize, ULONG, "premise: {ty:#x}");
        assert_eq!(bytes[..ULONG], expected.to_ne_bytes(), "premise: {ty:#x}");
    }
    let results = session
        .get_attributes(
            key,
            &[
                AttributeType::ValueLen,
                AttributeType::Class,
                AttributeType::KeyType,
                AttributeType::KeyGenMechanism,
                AttributeType::Token,
            ],
        )
        .unwrap();
    assert_eq!(results[0], AttributeResult::Value(Attribute::ValueLen(24)));
    assert_eq!(results[0].value().and_then(Attribute::as_ulong), Some(24));
    assert_eq!(
        results[1],
        AttributeResult::Value(Attribute::Class(ObjectClass::SecretKey))
    );
    assert_eq!(
        results[2],
        AttributeResult::Value(Attribute::KeyType(KeyType::Aes))
    );
    assert_eq!(
        results[3],
        AttributeResult::Value(Attribute::KeyGenMechanism(MechanismType(
            sys::CKM_AES_KEY_GEN
        )))
    );
    assert_eq!(results[4], AttributeResult::Value(Attribute::Token(false)));
    // And a search by a CK_ULONG value finds the key.
    let found = session
        .find_all(&[
            Attribute::KeyType(KeyType::Aes),
            Attribute::ValueLen(24),
            Attribute::KeyGenMechanism(MechanismType(sys::CKM_AES_KEY_GEN)),
        ])
        .unwrap();
    assert_eq!(found, [key]);
    drop((session, p11));
}

// --- Rule 22 ----------------------------------------------------------------------------

#[test]
fn rule_22_zero_length_values_are_legal_in_templates_reads_and_operations() {
    let _turn = turn();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let session = user_session(&p11);

    // A data object with an empty value, label and object ID.
    let data = session
        .create_object(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Token(false),
            Attribute::Label(String::new()),
            Attribute::Application("rule-22".into()),
            Attribute::ObjectId(Vec::new()),
            Attribute::Value(SecretBytes::new(Vec::new())),
        ])
        .unwrap();
    assert_eq!(
        raw_length_query(&session, data, sys::CKA_VALUE),
        (sys::CKR_OK, 0),
        "premise: SoftHSM stored an empty value"
    );
    let results = session
        .get_attributes(
            data,
            &[
                AttributeType::Value,
                AttributeType::Label,
                AttributeType::ObjectId,
                AttributeType::Application,
            ],
        )
        .unwrap();
    assert_eq!(
        results[0].value().and_then(Attribute::as_bytes),
        Some(&[][..])
    );
    assert_eq!(
        results[1],
        AttributeResult::Value(Attribute::Label(String::new()))
    );
    assert_eq!(
        results[2],
        AttributeResult::Value(Attribute::ObjectId(Vec::new()))
    );
    assert_eq!(
        results[3],
        AttributeResult::Value(Attribute::Application("rule-22".into()))
    );
    // Searched for by its empty label.
    assert_eq!(
        session
            .find_all(&[
                Attribute::Label(String::new()),
                Attribute::Application("rule-22".into()),
            ])
            .unwrap(),
        [data]
    );
    // A label emptied by C_SetAttributeValue (SoftHSM keeps a data object's value
    // read-only).
    let filled = session
        .create_object(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Token(false),
            Attribute::Label("rule-22 filled".into()),
            Attribute::Value(SecretBytes::new(b"not for long".to_vec())),
        ])
        .unwrap();
    session
        .set_attributes(filled, &[Attribute::Label(String::new())])
        .unwrap();
    assert_eq!(
        session.get_attribute(filled, AttributeType::Label).unwrap(),
        Attribute::Label(String::new())
    );
    // A generated key with an empty label.
    let key = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[
                Attribute::ValueLen(16),
                Attribute::Token(false),
                Attribute::Label(String::new()),
                Attribute::Encrypt(true),
                Attribute::Decrypt(true),
                Attribute::Sign(false),
            ],
        )
        .unwrap();
    assert_eq!(
        session.get_attribute(key, AttributeType::Label).unwrap(),
        Attribute::Label(String::new())
    );

    // Empty inputs and outputs of operations (SoftHSM refuses NULL data pointers with
    // CKR_ARGUMENTS_BAD even for zero lengths).
    assert!(session.generate_random(0).unwrap().is_empty());
    session.generate_random_into(&mut []).unwrap();
    assert_eq!(
        session.digest(&Mechanism::Sha256, &[]).unwrap(),
        sha2::Sha256::digest([]).to_vec()
    );
    let iv = [0x22u8; 12];
    let gcm = Mechanism::AesGcm(GcmParams::new(&iv, &[], 128).unwrap());
    let sealed = session.encrypt(&gcm, key, &[]).unwrap();
    assert_eq!(sealed.len(), 16, "the tag alone");
    let opened = session.decrypt(&gcm, key, &sealed).unwrap();
    assert!(opened.is_empty(), "an empty plaintext");
    let cbc = Mechanism::AesCbcPad { iv: [0x22; 16] };
    let padded = session.encrypt(&cbc, key, &[]).unwrap();
    assert_eq!(padded.len(), 16, "one block of padding");
    assert!(session.decrypt(&cbc, key, &padded).unwrap().is_empty());
    let mut empty: [u8; 0] = [];
    let error = session
        .decrypt_into(&cbc, key, &padded, &mut empty)
        .unwrap_err();
    assert_eq!(needed(&error), 16, "{error}");
    drop((session, p11));
}

// --- Rule 34 ----------------------------------------------------------------------------

#[test]
fn rule_34_decrypted_data_is_secret_and_failed_into_calls_wipe_the_buffer() {
    let _turn = turn();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    let session = user_session(&p11);
    let key = aes_key(&session, &[0x34; 32]);
    const PLAINTEXT: &[u8] = b"SENTINEL-secret-plaintext-3434!";
    let cbc = Mechanism::AesCbcPad { iv: [4; 16] };
    let ciphertext = session.encrypt(&cbc, key, PLAINTEXT).unwrap();
    let shown = |secret: &SecretBytes| format!("{secret:?} {secret:#?}");

    // Every form of decrypted output is SecretBytes, redacted in Debug.
    let single: SecretBytes = session.decrypt(&cbc, key, &ciphertext).unwrap();
    assert_eq!(&*single, PLAINTEXT);
    assert!(!shown(&single).contains("SENTINEL"), "{}", shown(&single));
    assert!(shown(&single).contains("redacted"));
    let mut stream = session.decrypt_stream(&cbc, key).unwrap();
    let part: SecretBytes = stream.update(&ciphertext).unwrap();
    let last: SecretBytes = stream.finish().unwrap();
    for secret in [&part, &last] {
        assert!(!shown(secret).contains("SENTINEL"));
    }
    assert_eq!([&*part, &*last].concat(), PLAINTEXT);
    // A key's value read back is SecretBytes too.
    let value = session.get_attribute(key, AttributeType::Value).unwrap();
    assert!(matches!(&value, Attribute::Value(bytes) if **bytes == [0x34; 32]));
    assert!(!format!("{value:?}").contains("52, 52"), "{value:?}");

    // Every failed `_into` leaves the caller's buffer wiped: too small...
    let mut small = [0x55u8; 16];
    let error = session
        .decrypt_into(&cbc, key, &ciphertext, &mut small)
        .unwrap_err();
    assert!(needed(&error) > 16, "{error}");
    assert_eq!(small, [0; 16], "decrypt_into, too small");
    // ...bad padding (the module may have written plaintext before it failed)...
    let mut bad = ciphertext.clone();
    let last_block = bad.len() - 17;
    bad[last_block] ^= 0x7f;
    let mut out = [0x55u8; 64];
    let error = session.decrypt_into(&cbc, key, &bad, &mut out).unwrap_err();
    assert_eq!(error.function(), Some("C_Decrypt"), "{error}");
    assert_eq!(out, [0; 64], "decrypt_into, bad padding");
    // ...a GCM tag that does not match...
    let iv = [0x34u8; 12];
    let gcm = Mechanism::AesGcm(GcmParams::new(&iv, b"", 128).unwrap());
    let mut sealed = session.encrypt(&gcm, key, PLAINTEXT).unwrap();
    let end = sealed.len() - 1;
    sealed[end] ^= 1;
    let mut out = [0x55u8; 64];
    assert!(session.decrypt_into(&gcm, key, &sealed, &mut out).is_err());
    assert_eq!(out, [0; 64], "decrypt_into, GCM tag mismatch");
    // ...and the stream forms.
    let mut stream = session.decrypt_stream(&cbc, key).unwrap();
    let mut small = [0x55u8; 8];
    let error = stream.update_into(&ciphertext, &mut small).unwrap_err();
    assert!(needed(&error) > 8, "{error}");
    assert_eq!(small, [0; 8], "DecryptStream::update_into, too small");
    let mut out = [0u8; 64];
    let mut written = stream.update_into(&ciphertext, &mut out).unwrap();
    let mut small = [0x55u8; 4];
    if stream.finish_into(&mut small).is_err() {
        assert_eq!(small, [0; 4], "DecryptStream::finish_into, too small");
        written += stream.finish_into(&mut out[written..]).unwrap();
    } else {
        panic!("the last block does not fit 4 bytes");
    }
    assert_eq!(&out[..written], PLAINTEXT);
    drop(stream);
    // A failed decryption's error never carries the plaintext either.
    let error = session.decrypt(&cbc, key, &bad).unwrap_err();
    assert!(!format!("{error} {error:?}").contains("SENTINEL"));
    drop((session, p11));
}
