//! SoftHSMv2 through the raw `pkcs11-sys` tables: load, negotiate, initialize for
//! multi-threaded use, query library, slots, tokens and mechanisms, use a session,
//! finalize.
//!
//! SoftHSM is one instance per process and reads `SOFTHSM2_CONF` in `C_Initialize`, so
//! the tests of this binary share one throwaway token and take turns (`take_turn`).

use std::ptr;

use pkcs11_sys::*;
use pkcs11_tests::{shared_softhsm_token, softhsm_module, take_turn, SoftHsmToken};

/// Calls a slot of a raw function table, panicking with the function's name if the
/// slot is NULL; evaluates to the `CK_RV`.
macro_rules! call {
    ($table:expr, $function:ident($($arg:expr),* $(,)?)) => {{
        let function = $table
            .$function
            .unwrap_or_else(|| panic!("{} is NULL in SoftHSM's table", stringify!($function)));
        // SAFETY: each call site passes pointers to live, correctly typed values that
        // outlive the call, as the function's specification requires.
        unsafe { function($($arg),*) }
    }};
}

/// Asserts that a return value is `CKR_OK`, naming the function and the code.
fn ok(function: &str, rv: CK_RV) {
    assert_eq!(
        rv,
        CKR_OK,
        "{function} returned {} (0x{rv:08X})",
        ckr_name(rv).unwrap_or("?")
    );
}

fn text(field: &[u8]) -> String {
    String::from_utf8_lossy(field).trim_end().to_owned()
}

/// The token shared by this binary, exported before any module initialization.
fn token() -> &'static SoftHsmToken {
    shared_softhsm_token("raw-tests")
}

/// Loads SoftHSM and initializes it with `CKF_OS_LOCKING_OK`.
fn initialized() -> Module {
    let _ = token();
    let module = Module::load(softhsm_module()).expect("load SoftHSM");
    let mut args = CK_C_INITIALIZE_ARGS {
        flags: CKF_OS_LOCKING_OK,
        ..Default::default()
    };
    ok(
        "C_Initialize",
        call!(
            module.functions(),
            C_Initialize(ptr::from_mut(&mut args).cast())
        ),
    );
    module
}

fn finalize(module: &Module) {
    ok(
        "C_Finalize",
        call!(module.functions(), C_Finalize(ptr::null_mut())),
    );
}

/// The slot holding this binary's token.
fn token_slot(f: &CK_FUNCTION_LIST) -> CK_SLOT_ID {
    let mut count: CK_ULONG = 0;
    ok(
        "C_GetSlotList",
        call!(f, C_GetSlotList(CK_TRUE, ptr::null_mut(), &mut count)),
    );
    let mut slots = vec![0; count as usize];
    ok(
        "C_GetSlotList",
        call!(f, C_GetSlotList(CK_TRUE, slots.as_mut_ptr(), &mut count)),
    );
    slots.truncate(count as usize);
    slots
        .into_iter()
        .find(|&slot| {
            let mut info = CK_TOKEN_INFO::default();
            ok("C_GetTokenInfo", call!(f, C_GetTokenInfo(slot, &mut info)));
            text(&info.label) == token().label()
        })
        .expect("the throwaway token is in the slot list")
}

#[test]
fn rule_01_03_negotiates_a_consistent_table() {
    let _turn = take_turn();
    let module = Module::load(softhsm_module()).expect("load SoftHSM");
    let version = module.version();
    match module.negotiation() {
        // SoftHSM 2.6 (Debian 12) offers only C_GetFunctionList: a 2.x table.
        Negotiation::FunctionList => {
            assert_eq!(version.major, 2, "a C_GetFunctionList table is 2.x");
            assert!(module.functions_3_0().is_none());
            assert!(module.functions_3_2().is_none());
            assert!(
                module
                    .notes()
                    .iter()
                    .any(|note| note.starts_with("C_GetInterfaceList")),
                "the notes say why the interface list was not used: {:?}",
                module.notes()
            );
        }
        // A newer SoftHSM offers 3.x interfaces.
        _ => {
            assert_eq!(version.major, 3);
            assert!(module.functions_3_0().is_some());
        }
    }
    let f = module.functions();
    for (name, present) in [
        ("C_Initialize", { f.C_Initialize }.is_some()),
        ("C_Finalize", { f.C_Finalize }.is_some()),
        ("C_GetInfo", { f.C_GetInfo }.is_some()),
        ("C_GetSlotList", { f.C_GetSlotList }.is_some()),
        ("C_Sign", { f.C_Sign }.is_some()),
        ("C_WaitForSlotEvent", { f.C_WaitForSlotEvent }.is_some()),
    ] {
        assert!(present, "SoftHSM implements {name}");
    }
}

#[test]
fn library_info_slots_tokens_and_mechanisms() {
    let _turn = take_turn();
    let module = initialized();
    let f = module.functions();

    let mut info = CK_INFO::default();
    ok("C_GetInfo", call!(f, C_GetInfo(&mut info)));
    assert_eq!(text(&info.manufacturerID), "SoftHSM");
    assert_eq!(text(&info.libraryDescription), "Implementation of PKCS11");
    assert!(matches!(info.cryptokiVersion.major, 2 | 3));

    let slot = token_slot(f);
    let mut slot_info = CK_SLOT_INFO::default();
    ok(
        "C_GetSlotInfo",
        call!(f, C_GetSlotInfo(slot, &mut slot_info)),
    );
    assert_ne!(slot_info.flags & CKF_TOKEN_PRESENT, 0);

    let mut token_info = CK_TOKEN_INFO::default();
    ok(
        "C_GetTokenInfo",
        call!(f, C_GetTokenInfo(slot, &mut token_info)),
    );
    assert_eq!(text(&token_info.label), "raw-tests");
    assert_eq!(text(&token_info.model), "SoftHSM v2");
    for flag in [
        CKF_TOKEN_INITIALIZED,
        CKF_USER_PIN_INITIALIZED,
        CKF_LOGIN_REQUIRED,
    ] {
        assert_ne!(token_info.flags & flag, 0, "token flag 0x{flag:X}");
    }

    let mut count: CK_ULONG = 0;
    ok(
        "C_GetMechanismList",
        call!(f, C_GetMechanismList(slot, ptr::null_mut(), &mut count)),
    );
    let mut mechanisms = vec![0; count as usize];
    ok(
        "C_GetMechanismList",
        call!(
            f,
            C_GetMechanismList(slot, mechanisms.as_mut_ptr(), &mut count)
        ),
    );
    mechanisms.truncate(count as usize);
    for expected in [
        CKM_SHA256,
        CKM_AES_GCM,
        CKM_AES_KEY_WRAP,
        CKM_ECDSA,
        CKM_EC_KEY_PAIR_GEN,
        CKM_RSA_PKCS_PSS,
        CKM_RSA_PKCS_OAEP,
        CKM_SHA256_HMAC,
    ] {
        assert!(
            mechanisms.contains(&expected),
            "SoftHSM lists {}",
            ckm_name(expected).unwrap()
        );
    }
    // Every mechanism SoftHSM lists is one the header set names.
    let unnamed: Vec<_> = mechanisms
        .iter()
        .filter(|&&m| ckm_name(m).is_none())
        .map(|m| format!("0x{m:08X}"))
        .collect();
    assert!(
        unnamed.is_empty(),
        "mechanisms without a CKM_ name: {unnamed:?}"
    );

    let mut mech_info = CK_MECHANISM_INFO::default();
    ok(
        "C_GetMechanismInfo",
        call!(f, C_GetMechanismInfo(slot, CKM_AES_KEY_GEN, &mut mech_info)),
    );
    assert_ne!(mech_info.flags & CKF_GENERATE, 0);
    assert!(mech_info.ulMinKeySize <= 16 && mech_info.ulMaxKeySize >= 32);

    finalize(&module);
    // After the real finalize the module is uninitialized again.
    assert_eq!(
        call!(f, C_Finalize(ptr::null_mut())),
        CKR_CRYPTOKI_NOT_INITIALIZED
    );
}

#[test]
fn session_login_random_and_digest() {
    let _turn = take_turn();
    let module = initialized();
    let f = module.functions();
    let slot = token_slot(f);

    let mut session: CK_SESSION_HANDLE = CK_INVALID_HANDLE;
    ok(
        "C_OpenSession",
        call!(
            f,
            C_OpenSession(
                slot,
                CKF_SERIAL_SESSION | CKF_RW_SESSION,
                ptr::null_mut(),
                None,
                &mut session
            )
        ),
    );
    let mut pin = token().user_pin.as_bytes().to_vec();
    ok(
        "C_Login",
        call!(
            f,
            C_Login(session, CKU_USER, pin.as_mut_ptr(), pin.len() as CK_ULONG)
        ),
    );
    let mut session_info = CK_SESSION_INFO::default();
    ok(
        "C_GetSessionInfo",
        call!(f, C_GetSessionInfo(session, &mut session_info)),
    );
    assert_eq!({ session_info.state }, CKS_RW_USER_FUNCTIONS);

    let mut random = [0u8; 32];
    ok(
        "C_GenerateRandom",
        call!(f, C_GenerateRandom(session, random.as_mut_ptr(), 32)),
    );
    assert_ne!(random, [0u8; 32], "32 random bytes are not all zero");

    // SHA-256("abc"), the FIPS 180-2 example.
    let expected: [u8; 32] = [
        0xba, 0x78, 0x16, 0xbf, 0x8f, 0x01, 0xcf, 0xea, 0x41, 0x41, 0x40, 0xde, 0x5d, 0xae, 0x22,
        0x23, 0xb0, 0x03, 0x61, 0xa3, 0x96, 0x17, 0x7a, 0x9c, 0xb4, 0x10, 0xff, 0x61, 0xf2, 0x00,
        0x15, 0xad,
    ];
    let mut mechanism = CK_MECHANISM {
        mechanism: CKM_SHA256,
        pParameter: ptr::null_mut(),
        ulParameterLen: 0,
    };
    ok(
        "C_DigestInit",
        call!(f, C_DigestInit(session, &mut mechanism)),
    );
    let mut data = *b"abc";
    let mut length: CK_ULONG = 0;
    // Length query: does not end the operation.
    ok(
        "C_Digest",
        call!(
            f,
            C_Digest(session, data.as_mut_ptr(), 3, ptr::null_mut(), &mut length)
        ),
    );
    assert_eq!(length, 32);
    let mut digest = [0u8; 32];
    ok(
        "C_Digest",
        call!(
            f,
            C_Digest(
                session,
                data.as_mut_ptr(),
                3,
                digest.as_mut_ptr(),
                &mut length
            )
        ),
    );
    assert_eq!(digest, expected);

    ok("C_Logout", call!(f, C_Logout(session)));
    ok("C_CloseSession", call!(f, C_CloseSession(session)));
    assert_eq!(
        call!(f, C_CloseSession(session)),
        CKR_SESSION_HANDLE_INVALID
    );
    finalize(&module);
}

#[test]
fn rule_10_tables_keep_the_library_loaded() {
    let _turn = take_turn();
    let module = initialized();
    // A copy of the table outlives the Module that produced it.
    let table = module.functions().clone();
    drop(module);
    let mut info = CK_INFO::default();
    ok("C_GetInfo", call!(table, C_GetInfo(&mut info)));
    assert_eq!(text(&info.manufacturerID), "SoftHSM");
    ok("C_Finalize", call!(table, C_Finalize(ptr::null_mut())));
}
