//! The fault module itself (`tests/fault-module`): its token follows the specification,
//! and each fault of its plan does what the plan grammar says. The other suites rely on
//! both, so they are checked here — through the safe crate where it shows the token's
//! behaviour, and through the raw 3.2 table where the exact bytes and return values the
//! module produces matter.

use std::ptr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hmac::Mac as _;
use pkcs11::{
    Attribute, AttributeResult, AttributeType, Error, KeyType, Mechanism, Notification,
    NotifyReply, ObjectClass, Pin, Pkcs11, Rv, SecretBytes, SessionState, UserType,
};
use pkcs11_sys::{
    Module, CKA_CLASS, CKA_LABEL, CKA_VALUE, CKF_DIGEST, CKF_OS_LOCKING_OK, CKF_SERIAL_SESSION,
    CKM_SHA256, CKN_SURRENDER, CKR_ARGUMENTS_BAD, CKR_ATTRIBUTE_SENSITIVE,
    CKR_ATTRIBUTE_TYPE_INVALID, CKR_BUFFER_TOO_SMALL, CKR_CANCEL, CKR_DEVICE_ERROR, CKR_OK,
    CKR_OPERATION_ACTIVE, CKR_OPERATION_NOT_INITIALIZED, CKU_USER, CK_ATTRIBUTE,
    CK_C_INITIALIZE_ARGS, CK_FUNCTION_LIST_3_2, CK_INFO, CK_MECHANISM, CK_OBJECT_HANDLE, CK_RV,
    CK_SESSION_HANDLE, CK_SLOT_ID, CK_TOKEN_INFO, CK_ULONG, CK_UNAVAILABLE_INFORMATION,
};
use pkcs11_tests::fault::{
    FaultModule, NotifyFrom, CKM_FAULT_MAC, CKM_FAULT_XOR, SLOT, SO_PIN, TOKEN_LABEL,
    UNINITIALIZED_SLOT, USER_PIN,
};
use sha2::Digest as _;

/// A copy of the fault module, opened with the safe crate.
fn open(tag: &str) -> (FaultModule, Pkcs11) {
    let module = FaultModule::new(tag);
    let p11 = module.open().expect("open the fault module");
    (module, p11)
}

fn rv_of<T: std::fmt::Debug>(result: pkcs11::Result<T>) -> Rv {
    match result {
        Err(Error::Module { rv, .. }) => rv,
        other => panic!("expected a module error, got {other:?}"),
    }
}

fn user_pin() -> Pin {
    Pin::from(USER_PIN)
}

fn secret_key(value: &[u8]) -> Vec<Attribute> {
    vec![
        Attribute::Class(ObjectClass::SecretKey),
        Attribute::KeyType(KeyType::GenericSecret),
        Attribute::Value(SecretBytes::new(value.to_vec())),
    ]
}

// ---------------------------------------------------------------------------------------
// The raw 3.2 table
// ---------------------------------------------------------------------------------------

/// Calls a function of the 3.2 table `$f` with arguments that point to live locals.
macro_rules! ck {
    ($f:ident . $name:ident ( $($arg:expr),* $(,)? )) => {{
        let function = $f.$name.expect(stringify!($name));
        // SAFETY: every argument is a plain value, NULL, or points to a live local of
        // the right type and size for the call.
        unsafe { function($($arg),*) }
    }};
}

/// A copy loaded through the sys crate and initialized with `CKF_OS_LOCKING_OK`.
struct Raw {
    module: Module,
}

impl Raw {
    fn new(fault: &FaultModule) -> Raw {
        let raw = Raw::load(fault);
        let f = raw.f();
        let mut args = CK_C_INITIALIZE_ARGS {
            flags: CKF_OS_LOCKING_OK,
            ..Default::default()
        };
        assert_eq!(ck!(f.C_Initialize(ptr::from_mut(&mut args).cast())), CKR_OK);
        raw
    }

    fn load(fault: &FaultModule) -> Raw {
        Raw {
            module: fault.load().expect("load the fault module"),
        }
    }

    fn f(&self) -> &CK_FUNCTION_LIST_3_2 {
        self.module.functions_3_2().expect("a 3.2 table")
    }

    fn open_session(&self, slot: CK_SLOT_ID, flags: CK_ULONG) -> CK_SESSION_HANDLE {
        let f = self.f();
        let mut h: CK_SESSION_HANDLE = 0;
        let rv = ck!(f.C_OpenSession(
            slot,
            flags | CKF_SERIAL_SESSION,
            ptr::null_mut(),
            None,
            &mut h
        ));
        assert_eq!(rv, CKR_OK);
        h
    }

    fn login_user(&self, h: CK_SESSION_HANDLE) {
        let f = self.f();
        let mut pin = USER_PIN.as_bytes().to_vec();
        let rv = ck!(f.C_Login(h, CKU_USER, pin.as_mut_ptr(), pin.len() as CK_ULONG));
        assert_eq!(rv, CKR_OK);
    }

    fn digest_init(&self, h: CK_SESSION_HANDLE) -> CK_RV {
        let f = self.f();
        let mut mechanism = CK_MECHANISM {
            mechanism: CKM_SHA256,
            pParameter: ptr::null_mut(),
            ulParameterLen: 0,
        };
        ck!(f.C_DigestInit(h, &mut mechanism))
    }
}

impl Drop for Raw {
    fn drop(&mut self) {
        // Through the 2.x table, which every negotiation gives; answers
        // CKR_CRYPTOKI_NOT_INITIALIZED if the test finalized already.
        let f = self.module.functions();
        ck!(f.C_Finalize(ptr::null_mut()));
    }
}

// ---------------------------------------------------------------------------------------
// The token
// ---------------------------------------------------------------------------------------

#[test]
fn token_slots_sessions_and_login_follow_the_standard() {
    let (module, p11) = open("token");
    let ids: Vec<_> = p11.slots().unwrap().iter().map(|s| s.id()).collect();
    assert_eq!(ids, [SLOT, UNINITIALIZED_SLOT]);
    let slot = p11.slot(SLOT);
    let info = slot.token_info().unwrap();
    assert_eq!(info.label().as_str(), TOKEN_LABEL);
    assert_eq!(info.serial_number().as_str(), "fault-0001");
    let flags = info.flags();
    assert!(flags.token_initialized() && flags.user_pin_initialized());
    assert!(flags.login_required() && flags.rng());
    assert!(!p11
        .slot(UNINITIALIZED_SLOT)
        .token_info()
        .unwrap()
        .flags()
        .token_initialized());
    assert_eq!(p11.token_by_label(TOKEN_LABEL).unwrap().id(), SLOT);

    let ro = slot.open_ro_session().unwrap();
    let rw = slot.open_rw_session().unwrap();
    assert_eq!(
        rv_of(ro.login(UserType::User, &Pin::from("wrong-pin"))),
        Rv::PinIncorrect
    );
    assert_eq!(
        rv_of(rw.login(UserType::So, &Pin::from(SO_PIN))),
        Rv::SessionReadOnlyExists
    );
    ro.login(UserType::User, &user_pin()).unwrap();
    // Login state is shared by the sessions of the application.
    assert_eq!(ro.info().unwrap().state(), SessionState::RoUser);
    assert_eq!(rw.info().unwrap().state(), SessionState::RwUser);
    assert_eq!(module.login_state(SLOT), Some(CKU_USER));
    assert_eq!(
        rv_of(rw.login(UserType::User, &user_pin())),
        Rv::UserAlreadyLoggedIn
    );
    assert_eq!(
        rv_of(rw.login(UserType::So, &Pin::from(SO_PIN))),
        Rv::UserAnotherAlreadyLoggedIn
    );
    let info = slot.token_info().unwrap();
    assert_eq!(
        (info.session_count(), info.rw_session_count()),
        (pkcs11::Count::Value(2), pkcs11::Count::Value(1))
    );
    // Closing the last session logs out.
    drop(ro);
    assert_eq!(module.login_state(SLOT), Some(CKU_USER));
    drop(rw);
    assert_eq!(module.login_state(SLOT), None);
    assert_eq!(module.open_sessions(), 0);

    // The SO: only read-write sessions; sets the user's PIN.
    let so = slot.open_rw_session().unwrap();
    so.login(UserType::So, &Pin::from(SO_PIN)).unwrap();
    assert_eq!(rv_of(slot.open_ro_session()), Rv::SessionReadWriteSoExists);
    so.init_pin(&Pin::from("new-user-pin")).unwrap();
    so.logout().unwrap();
    assert_eq!(rv_of(so.logout()), Rv::UserNotLoggedIn);
    assert_eq!(
        rv_of(so.login(UserType::User, &user_pin())),
        Rv::PinIncorrect
    );
    so.login(UserType::User, &Pin::from("new-user-pin"))
        .unwrap();
    drop(so);

    // The uninitialized token.
    let second = p11.slot(UNINITIALIZED_SLOT);
    second
        .init_token(&Pin::from("second-so"), "second")
        .unwrap();
    assert_eq!(second.token_info().unwrap().label().as_str(), "second");
    assert!(second.token_info().unwrap().flags().token_initialized());
    assert_eq!(
        rv_of(second.init_token(&Pin::from("not-the-so-pin"), "third")),
        Rv::PinIncorrect
    );
    let open = second.open_ro_session().unwrap();
    assert_eq!(
        rv_of(second.init_token(&Pin::from("second-so"), "x")),
        Rv::SessionExists
    );
    drop(open);
}

#[test]
fn objects_attributes_and_search_follow_the_standard() {
    let (module, p11) = open("objects");
    let session = p11.slot(SLOT).open_rw_session().unwrap();
    let data = session
        .create_object(&[
            Attribute::Class(ObjectClass::Data),
            Attribute::Label("public data".into()),
            Attribute::Value(SecretBytes::new(b"payload".to_vec())),
        ])
        .unwrap();
    // Secret keys are private by default: not without login.
    assert_eq!(
        rv_of(session.create_object(&secret_key(b"k"))),
        Rv::UserNotLoggedIn
    );
    session.login(UserType::User, &user_pin()).unwrap();
    let mut sensitive = secret_key(b"sensitive key");
    sensitive.push(Attribute::Sensitive(true));
    let key = session.create_object(&sensitive).unwrap();

    let results = session
        .get_attributes(
            key,
            &[
                AttributeType(CKA_CLASS),
                AttributeType(CKA_VALUE),
                AttributeType(pkcs11_sys::CKA_MODULUS),
                AttributeType(pkcs11_sys::CKA_VALUE_LEN),
            ],
        )
        .unwrap();
    assert_eq!(
        results[0],
        AttributeResult::Value(Attribute::Class(ObjectClass::SecretKey))
    );
    assert_eq!(results[1], AttributeResult::Sensitive);
    assert_eq!(results[2], AttributeResult::Invalid);
    assert_eq!(results[3], AttributeResult::Value(Attribute::ValueLen(13)));

    // Search: private objects only while logged in.
    assert_eq!(session.find_all(&[]).unwrap().len(), 2);
    assert_eq!(
        session
            .find_one(&[Attribute::Label("public data".into())])
            .unwrap(),
        data
    );
    session.logout().unwrap();
    assert_eq!(session.find_all(&[]).unwrap(), [data]);
    assert_eq!(
        rv_of(session.get_attributes(key, &[AttributeType(CKA_CLASS)])),
        Rv::ObjectHandleInvalid
    );
    session.login(UserType::User, &user_pin()).unwrap();

    // Set: a key cannot become less sensitive; copy; destroy.
    assert_eq!(
        rv_of(session.set_attributes(key, &[Attribute::Sensitive(false)])),
        Rv::AttributeReadOnly
    );
    session
        .set_attributes(data, &[Attribute::Label("renamed".into())])
        .unwrap();
    let copy = session
        .copy_object(data, &[Attribute::Label("copy".into())])
        .unwrap();
    assert_eq!(
        session
            .get_attribute(copy, AttributeType(CKA_LABEL))
            .unwrap(),
        Attribute::Label("copy".into())
    );
    assert!(session.object_size(copy).unwrap().unwrap() > 0);
    session.destroy_object(copy).unwrap();
    assert_eq!(rv_of(session.destroy_object(copy)), Rv::ObjectHandleInvalid);

    // Session objects vanish with their session; handles restart after re-init.
    assert_eq!(module.objects(), 2);
    drop(session);
    assert_eq!(module.objects(), 0);
}

#[test]
fn get_attribute_value_answers_per_attribute_as_the_standard_says() {
    let module = FaultModule::new("get_attribute_value");
    let raw = Raw::new(&module);
    let f = raw.f();
    let h = raw.open_session(SLOT, 0);
    raw.login_user(h);
    let (mut class, mut key_type) = (pkcs11_sys::CKO_SECRET_KEY, pkcs11_sys::CKK_GENERIC_SECRET);
    let (mut value, mut yes) = (*b"0123456789", 1u8);
    let attribute = |ty, p: *mut u8, len: usize| CK_ATTRIBUTE {
        type_: ty,
        pValue: p.cast(),
        ulValueLen: len as CK_ULONG,
    };
    let mut template = [
        attribute(
            CKA_CLASS,
            ptr::from_mut(&mut class).cast(),
            size_of::<CK_ULONG>(),
        ),
        attribute(
            pkcs11_sys::CKA_KEY_TYPE,
            ptr::from_mut(&mut key_type).cast(),
            size_of::<CK_ULONG>(),
        ),
        attribute(CKA_VALUE, value.as_mut_ptr(), value.len()),
        attribute(pkcs11_sys::CKA_SENSITIVE, &mut yes, 1),
    ];
    let mut key: CK_OBJECT_HANDLE = 0;
    assert_eq!(
        ck!(f.C_CreateObject(h, template.as_mut_ptr(), 4, &mut key)),
        CKR_OK
    );

    // Sensitive value, absent type, short buffer, fine label: each gets its answer.
    let mut short = [0u8; 2];
    let mut label = [0xeeu8; 8];
    let mut asked = [
        attribute(CKA_VALUE, ptr::null_mut(), 0),
        attribute(pkcs11_sys::CKA_MODULUS, ptr::null_mut(), 0),
        attribute(pkcs11_sys::CKA_ID, short.as_mut_ptr(), 0),
        attribute(CKA_LABEL, label.as_mut_ptr(), label.len()),
        attribute(pkcs11_sys::CKA_VALUE_LEN, ptr::null_mut(), 0),
    ];
    let rv = ck!(f.C_GetAttributeValue(h, key, asked.as_mut_ptr(), 5));
    assert!(
        [
            CKR_ATTRIBUTE_SENSITIVE,
            CKR_ATTRIBUTE_TYPE_INVALID,
            CKR_BUFFER_TOO_SMALL
        ]
        .contains(&rv),
        "{rv:#x}"
    );
    let lens: Vec<_> = asked.iter().map(|a| a.ulValueLen).collect();
    assert_eq!(
        lens,
        [
            CK_UNAVAILABLE_INFORMATION,
            CK_UNAVAILABLE_INFORMATION,
            0,
            0,
            size_of::<CK_ULONG>() as CK_ULONG
        ]
    );
    // A buffer too small: CK_UNAVAILABLE_INFORMATION and CKR_BUFFER_TOO_SMALL.
    let mut value_len = [attribute(pkcs11_sys::CKA_VALUE_LEN, short.as_mut_ptr(), 2)];
    assert_eq!(
        ck!(f.C_GetAttributeValue(h, key, value_len.as_mut_ptr(), 1)),
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!({ value_len[0].ulValueLen }, CK_UNAVAILABLE_INFORMATION);
}

#[test]
fn crypto_matches_independent_implementations() {
    let (module, p11) = open("crypto");
    let session = p11.slot(SLOT).open_rw_session().unwrap();
    session.login(UserType::User, &user_pin()).unwrap();
    let digest = session.digest(&Mechanism::Sha256, b"some data").unwrap();
    assert_eq!(digest, sha2::Sha256::digest(b"some data").to_vec());
    let mut stream = session.digest_stream(&Mechanism::Sha256).unwrap();
    stream.update(b"some ").unwrap();
    stream.update(b"data").unwrap();
    assert_eq!(stream.finish().unwrap(), digest);

    let key = session.create_object(&secret_key(b"the key")).unwrap();
    for mechanism in [Mechanism::Sha256Hmac, Mechanism::plain(CKM_FAULT_MAC)] {
        let signature = session.sign(&mechanism, key, b"message").unwrap();
        let mut hmac = hmac::Hmac::<sha2::Sha256>::new_from_slice(b"the key").unwrap();
        hmac.update(b"message");
        assert_eq!(signature, hmac.finalize().into_bytes().to_vec());
        assert!(session
            .verify(&mechanism, key, b"message", &signature)
            .unwrap());
    }

    let xor = Mechanism::plain(CKM_FAULT_XOR);
    let ciphertext = session.encrypt(&xor, key, b"plaintext").unwrap();
    let expected: Vec<u8> = b"plaintext"
        .iter()
        .zip(b"the key".iter().cycle())
        .map(|(a, b)| a ^ b)
        .collect();
    assert_eq!(ciphertext, expected);
    let mut stream = session.encrypt_stream(&xor, key).unwrap();
    let mut streamed = stream.update(b"plain").unwrap();
    streamed.extend(stream.update(b"text").unwrap());
    streamed.extend(stream.finish().unwrap());
    assert_eq!(streamed, ciphertext);
    assert_eq!(
        &*session.decrypt(&xor, key, &ciphertext).unwrap(),
        b"plaintext"
    );

    let aes = session
        .generate_key(
            &Mechanism::AesKeyGen,
            &[Attribute::ValueLen(32), Attribute::Token(false)],
        )
        .unwrap();
    assert_eq!(
        session
            .get_attribute(aes, AttributeType(pkcs11_sys::CKA_KEY_TYPE))
            .unwrap(),
        Attribute::KeyType(KeyType::Aes)
    );
    assert_eq!(session.generate_random(4).unwrap().len(), 4);
    assert_eq!(module.calls("C_GenerateRandom"), 1);
}

#[test]
fn operations_end_as_the_standard_says() {
    let module = FaultModule::new("termination");
    let raw = Raw::new(&module);
    let f = raw.f();
    let h = raw.open_session(SLOT, 0);
    let mut data = *b"abc";
    let mut out = [0u8; 64];
    let mut len: CK_ULONG = 0;

    // A length query and CKR_BUFFER_TOO_SMALL leave the digest active; success ends it.
    assert_eq!(raw.digest_init(h), CKR_OK);
    assert_eq!(raw.digest_init(h), CKR_OPERATION_ACTIVE);
    assert_eq!(
        ck!(f.C_Digest(h, data.as_mut_ptr(), 3, ptr::null_mut(), &mut len)),
        CKR_OK
    );
    assert_eq!(len, 32);
    len = 4;
    assert_eq!(
        ck!(f.C_Digest(h, data.as_mut_ptr(), 3, out.as_mut_ptr(), &mut len)),
        CKR_BUFFER_TOO_SMALL
    );
    assert_eq!(len, 32);
    len = 64;
    assert_eq!(
        ck!(f.C_Digest(h, data.as_mut_ptr(), 3, out.as_mut_ptr(), &mut len)),
        CKR_OK
    );
    assert_eq!(out[..4], [0xba, 0x78, 0x16, 0xbf]);
    assert_eq!(
        ck!(f.C_DigestUpdate(h, data.as_mut_ptr(), 3)),
        CKR_OPERATION_NOT_INITIALIZED
    );

    // Any other error ends it.
    assert_eq!(raw.digest_init(h), CKR_OK);
    assert_eq!(
        ck!(f.C_DigestUpdate(h, ptr::null_mut(), 3)),
        CKR_ARGUMENTS_BAD
    );
    assert_eq!(
        ck!(f.C_DigestFinal(h, out.as_mut_ptr(), &mut len)),
        CKR_OPERATION_NOT_INITIALIZED
    );

    // 3.x: a NULL mechanism ends the operation, and so does C_SessionCancel.
    assert_eq!(raw.digest_init(h), CKR_OK);
    assert_eq!(ck!(f.C_DigestInit(h, ptr::null_mut())), CKR_OK);
    assert_eq!(raw.digest_init(h), CKR_OK);
    assert_eq!(ck!(f.C_SessionCancel(h, CKF_DIGEST)), CKR_OK);
    assert_eq!(raw.digest_init(h), CKR_OK);
    // An injected error ends the operation as a real one would.
    module.set_plan("C_DigestUpdate:rv=CKR_DEVICE_ERROR@1");
    assert_eq!(
        ck!(f.C_DigestUpdate(h, data.as_mut_ptr(), 3)),
        CKR_DEVICE_ERROR
    );
    assert_eq!(
        ck!(f.C_DigestUpdate(h, data.as_mut_ptr(), 3)),
        CKR_OPERATION_NOT_INITIALIZED
    );
}

#[test]
fn the_2_40_table_refuses_a_null_mechanism() {
    let module = FaultModule::new("termination_2_40");
    module.set_plan("list-not-supported");
    let raw = Raw::load(&module);
    assert!(raw.module.functions_3_0().is_none());
    let f = raw.module.functions();
    let mut args = CK_C_INITIALIZE_ARGS {
        flags: CKF_OS_LOCKING_OK,
        ..Default::default()
    };
    assert_eq!(ck!(f.C_Initialize(ptr::from_mut(&mut args).cast())), CKR_OK);
    let mut h: CK_SESSION_HANDLE = 0;
    assert_eq!(
        ck!(f.C_OpenSession(SLOT, CKF_SERIAL_SESSION, ptr::null_mut(), None, &mut h)),
        CKR_OK
    );
    assert_eq!(ck!(f.C_DigestInit(h, ptr::null_mut())), CKR_ARGUMENTS_BAD);
    assert_eq!(ck!(f.C_Finalize(ptr::null_mut())), CKR_OK);
}

// ---------------------------------------------------------------------------------------
// The plan
// ---------------------------------------------------------------------------------------

#[test]
fn plan_return_values_count_their_calls() {
    let module = FaultModule::new("plan_rv");
    let raw = Raw::new(&module);
    let f = raw.f();
    let h = raw.open_session(SLOT, 0);
    let mut out = [0u8; 4];
    let mut random = |_: ()| ck!(f.C_GenerateRandom(h, out.as_mut_ptr(), 4));
    module.set_plan("C_GenerateRandom:rv=CKR_DEVICE_ERROR@2*2");
    let answers: Vec<_> = (0..5).map(|_| random(())).collect();
    assert_eq!(
        answers,
        [CKR_OK, CKR_DEVICE_ERROR, CKR_DEVICE_ERROR, CKR_OK, CKR_OK]
    );
    module.set_plan("C_GenerateRandom:rv=0x80000123@3+");
    let answers: Vec<_> = (0..4).map(|_| random(())).collect();
    assert_eq!(answers, [CKR_OK, CKR_OK, 0x8000_0123, 0x8000_0123]);
    module.clear_plan();
    assert_eq!(random(()), CKR_OK);
    assert_eq!(module.calls("C_GenerateRandom"), 10);
    assert!(module.calls_total() >= 12);
    module.reset_calls();
    assert_eq!(module.calls_total(), 0);
    assert!(module.try_set_plan("C_NoSuchFunction:rv=1").is_err());
    assert!(module
        .try_set_plan("C_Sign:len=lots")
        .unwrap_err()
        .contains("C_Sign:len=lots"));
}

#[test]
fn plan_lies_about_lengths_and_counts() {
    let module = FaultModule::new("plan_len");
    let raw = Raw::new(&module);
    let f = raw.f();
    let h = raw.open_session(SLOT, 0);
    let mut data = *b"abc";
    let mut out = [0u8; 64];
    let mut len: CK_ULONG;
    let mut digest = |len: &mut CK_ULONG, buffer: bool| {
        let p = if buffer {
            out.as_mut_ptr()
        } else {
            ptr::null_mut()
        };
        ck!(f.C_Digest(h, data.as_mut_ptr(), 3, p, len))
    };

    assert_eq!(raw.digest_init(h), CKR_OK);
    module.set_plan("C_Digest:len=huge");
    len = 0;
    assert_eq!(digest(&mut len, false), CKR_OK);
    assert_eq!(len, 1 << 40);
    module.set_plan("C_Digest:len=unavailable");
    assert_eq!(digest(&mut len, false), CKR_OK);
    assert_eq!(len, CK_UNAVAILABLE_INFORMATION);
    // More than the buffer holds, after OK.
    module.set_plan("C_Digest:len=+100");
    len = 64;
    assert_eq!(digest(&mut len, true), CKR_OK);
    assert_eq!(len, 132);

    // Never converges.
    assert_eq!(raw.digest_init(h), CKR_OK);
    module.set_plan("C_Digest:len=grow");
    len = 0;
    assert_eq!(digest(&mut len, false), CKR_OK);
    let mut last = len;
    for _ in 0..4 {
        len = last;
        assert_eq!(digest(&mut len, true), CKR_BUFFER_TOO_SMALL);
        assert!(len > last);
        last = len;
    }

    // Counts above capacity.
    module.set_plan("C_GetSlotList:count=+3");
    let mut slots = [0 as CK_SLOT_ID; 8];
    let mut count: CK_ULONG = 8;
    assert_eq!(
        ck!(f.C_GetSlotList(0, slots.as_mut_ptr(), &mut count)),
        CKR_OK
    );
    assert_eq!((count, &slots[..2]), (5, &[1, 2][..]));

    // OK without writing.
    module.set_plan("C_GetTokenInfo:nowrite");
    let mut info = CK_TOKEN_INFO {
        flags: 0x5a5a,
        ..Default::default()
    };
    assert_eq!(ck!(f.C_GetTokenInfo(SLOT, &mut info)), CKR_OK);
    assert_eq!({ info.flags }, 0x5a5a);
    assert_eq!({ info.label }, [0; 32]);
}

#[test]
fn plan_garbage_versions_and_null_slots() {
    let module = FaultModule::new("plan_misc");
    module.set_plan("C_GetInfo:garbage,version=9.9; C_Sign:null; C_LoginUser:null");
    let raw = Raw::new(&module);
    let f = raw.f();
    assert!({ f.C_Sign }.is_none() && { f.C_LoginUser }.is_none());
    assert!({ raw.module.functions().C_Sign }.is_none());
    assert!({ f.C_Verify }.is_some());
    let mut info = CK_INFO::default();
    assert_eq!(ck!(f.C_GetInfo(&mut info)), CKR_OK);
    assert_eq!(
        (info.cryptokiVersion.major, info.cryptokiVersion.minor),
        (9, 9)
    );
    assert!(std::str::from_utf8(&info.manufacturerID).is_err());
    assert!(info.libraryDescription.contains(&0));

    // Slots are decided when tables are handed out: a later plan does not change them.
    module.clear_plan();
    assert!({ raw.f().C_Sign }.is_none());
    let again = Raw::load(&module);
    assert!({ again.f().C_Sign }.is_some());
}

#[test]
fn plan_sleeps_inside_calls() {
    let module = FaultModule::new("plan_sleep");
    let raw = Raw::new(&module);
    let f = raw.f();
    module.set_plan("C_GetInfo:sleep=300ms@1");
    let mut info = CK_INFO::default();
    let started = Instant::now();
    assert_eq!(ck!(f.C_GetInfo(&mut info)), CKR_OK);
    assert!(started.elapsed() >= Duration::from_millis(300));
    // Only the first call sleeps.
    let started = Instant::now();
    assert_eq!(ck!(f.C_GetInfo(&mut info)), CKR_OK);
    assert!(started.elapsed() < Duration::from_millis(300));
}

#[test]
fn notify_from_calls_threads_and_after_close() {
    let (module, p11) = open("notify");
    let seen = Arc::new(AtomicUsize::new(0));
    let threads = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (seen_in, threads_in) = (Arc::clone(&seen), Arc::clone(&threads));
    let cancel = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cancel_in = Arc::clone(&cancel);
    let session = p11
        .slot(SLOT)
        .open_ro_session_with_notify(move |event| {
            assert_eq!(event, Notification::Surrender);
            seen_in.fetch_add(1, Ordering::SeqCst);
            threads_in.lock().unwrap().push(std::thread::current().id());
            if cancel_in.load(Ordering::SeqCst) {
                NotifyReply::Cancel
            } else {
                NotifyReply::Continue
            }
        })
        .unwrap();
    let h = session.handle();

    // During a call, on the calling thread; CKR_CANCEL cancels the call.
    module.set_plan("C_GenerateRandom:notify");
    session.generate_random(4).unwrap();
    assert_eq!(seen.load(Ordering::SeqCst), 1);
    cancel.store(true, Ordering::SeqCst);
    assert_eq!(rv_of(session.generate_random(4)), Rv::FunctionCanceled);
    cancel.store(false, Ordering::SeqCst);

    // From module threads, at any time.
    assert_eq!(
        module.notify(h, CKN_SURRENDER, NotifyFrom::ThisThread),
        Some(CKR_OK)
    );
    assert_eq!(
        module.notify(h, CKN_SURRENDER, NotifyFrom::ModuleThread),
        Some(CKR_OK)
    );
    cancel.store(true, Ordering::SeqCst);
    assert_eq!(
        module.notify(h, CKN_SURRENDER, NotifyFrom::ModuleThread),
        Some(CKR_CANCEL)
    );
    assert_eq!(seen.load(Ordering::SeqCst), 5);
    let ids = threads.lock().unwrap().clone();
    assert_ne!(ids[3], std::thread::current().id());

    // After the close: the module still has the pointers (the binding keeps the user
    // data alive, and its callback is released).
    drop(session);
    assert_eq!(
        module.notify(h, CKN_SURRENDER, NotifyFrom::ModuleThread),
        Some(CKR_OK)
    );
    assert_eq!(seen.load(Ordering::SeqCst), 5);
    assert_eq!(
        module.notify(999, CKN_SURRENDER, NotifyFrom::ThisThread),
        None
    );
}

#[test]
fn slot_events_block_until_raised_or_finalized() {
    /// Waits until `C_WaitForSlotEvent` has been entered `n` times.
    fn entered(module: &FaultModule, n: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while module.calls("C_WaitForSlotEvent") < n {
            assert!(
                Instant::now() < deadline,
                "the waiter never called the module"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let (module, p11) = open("events");
    assert!(p11.try_slot_event().unwrap().is_none());
    let waiter = {
        let p11 = p11.clone();
        std::thread::spawn(move || p11.wait_for_slot_event().map(|slot| slot.id()))
    };
    entered(&module, 2);
    std::thread::sleep(Duration::from_millis(50));
    assert!(!waiter.is_finished(), "C_WaitForSlotEvent did not block");
    assert!(module.raise_slot_event(UNINITIALIZED_SLOT));
    assert_eq!(waiter.join().unwrap().unwrap(), UNINITIALIZED_SLOT);
    assert!(!module.raise_slot_event(77));

    let waiter = {
        let p11 = p11.clone();
        std::thread::spawn(move || p11.wait_for_slot_event().map(|slot| slot.id()))
    };
    entered(&module, 3);
    p11.finalize().unwrap();
    assert_eq!(rv_of(waiter.join().unwrap()), Rv::CryptokiNotInitialized);
    assert!(!module.is_initialized());
}

#[test]
fn noop_plan_answers_without_a_session() {
    let module = FaultModule::new("noop");
    module.set_plan("noop");
    let raw = Raw::new(&module);
    let f = raw.f();
    let (mut data, mut out) = (*b"abc", [1u8; 32]);
    let mut len: CK_ULONG = 32;
    assert_eq!(ck!(f.C_DigestInit(12345, ptr::null_mut())), CKR_OK);
    assert_eq!(
        ck!(f.C_Digest(12345, data.as_mut_ptr(), 3, out.as_mut_ptr(), &mut len)),
        CKR_OK
    );
    assert_eq!((len, out), (32, [0; 32]));
    assert_eq!(module.calls("C_Digest"), 1);
}

#[cfg(unix)]
/// Forks; the child runs `child` and exits with its answer; returns the child's exit
/// status.
fn in_fork_child(child: impl FnOnce() -> i32) -> i32 {
    // SAFETY: the child only calls into this test's own copy of the module (whose lock
    // no other thread holds) and leaves with `_exit`.
    let pid = unsafe { libc::fork() };
    assert!(pid >= 0, "fork failed");
    if pid == 0 {
        let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(child)).unwrap_or(101);
        // SAFETY: ends the child without running the parent's exit handlers.
        unsafe { libc::_exit(code) };
    }
    let mut status = 0;
    // SAFETY: waits for our own child.
    assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
    assert!(libc::WIFEXITED(status), "the child did not exit: {status}");
    libc::WEXITSTATUS(status)
}

#[cfg(unix)]
#[test]
fn fork_like_softhsm_inherits_and_like_nss_refuses() {
    for (plan, expected) in [("fork=softhsm", 0), ("fork=nss", 0)] {
        let module = FaultModule::new("fork");
        module.set_plan(plan);
        let raw = Raw::new(&module);
        let h = raw.open_session(SLOT, 0);
        let code = in_fork_child(|| {
            let f = raw.f();
            let mut info = CK_INFO::default();
            let mut args = CK_C_INITIALIZE_ARGS {
                flags: CKF_OS_LOCKING_OK,
                ..Default::default()
            };
            let args = ptr::from_mut(&mut args).cast();
            let inherit = plan == "fork=softhsm";
            let checks = if inherit {
                [
                    ck!(f.C_GetInfo(&mut info)) == CKR_OK,
                    raw.digest_init(h) == CKR_OK,
                    ck!(f.C_Initialize(args)) == pkcs11_sys::CKR_CRYPTOKI_ALREADY_INITIALIZED,
                ]
            } else {
                [
                    ck!(f.C_GetInfo(&mut info)) == CKR_DEVICE_ERROR,
                    raw.digest_init(h) == CKR_DEVICE_ERROR,
                    ck!(f.C_Initialize(args)) == CKR_OK
                        && ck!(f.C_GetInfo(&mut info)) == CKR_OK
                        && raw.digest_init(h) == pkcs11_sys::CKR_SESSION_HANDLE_INVALID,
                ]
            };
            checks
                .iter()
                .position(|ok| !ok)
                .map_or(0, |index| 10 + index as i32)
        });
        assert_eq!(
            code,
            expected,
            "{plan}: check {} failed in the child",
            code - 10
        );
        // The parent is not affected.
        assert_eq!(raw.digest_init(h), CKR_OK);
    }
}

/// Run by `plan_from_the_environment` in a child process.
#[test]
#[ignore = "the child process of plan_from_the_environment"]
fn plan_from_the_environment_child() {
    assert!(
        std::env::var_os("FAULT_MODULE_ENV_CHILD").is_some(),
        "run only by plan_from_the_environment, which sets FAULT_MODULE_ENV_CHILD"
    );
    let module = FaultModule::named(&format!("plain-{}", std::process::id()));
    let raw = Raw::new(&module);
    let mut info = CK_INFO::default();
    let f = raw.f();
    assert_eq!(ck!(f.C_GetInfo(&mut info)), CKR_DEVICE_ERROR);
    // A file name with a plan wins over the environment.
    let named = FaultModule::new("named");
    let raw = Raw::new(&named);
    let f = raw.f();
    assert_eq!(ck!(f.C_GetInfo(&mut info)), CKR_OK);
}

#[test]
fn plan_from_the_environment() {
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "plan_from_the_environment_child",
            "--nocapture",
        ])
        .env("FAULT_MODULE_ENV_CHILD", "1")
        .env("PKCS11_FAULT_PLAN", "C_GetInfo:rv=CKR_DEVICE_ERROR")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "the child failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
