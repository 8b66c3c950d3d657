//! Slots, tokens, library and session information, and authentication through the safe
//! API: against SoftHSMv2, compared with raw calls and with `softhsm2-util`; and against a
//! small C module built by the test for what SoftHSM lacks (a blocking
//! `C_WaitForSlotEvent`, `C_LoginUser` through a 3.0 interface).
//!
//! SoftHSM is one instance per process: the SoftHSM tests of this binary share one
//! throwaway token directory and take turns. Tests that create tokens give them labels of
//! their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{mpsc, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use pkcs11::{
    Count, Error, MechanismType, Pin, Pkcs11, Rv, SessionState, Slot, UserType, UtcTime, Version,
};
use pkcs11_sys as sys;
use pkcs11_tests::{shared_softhsm_token, softhsm_module, take_turn, SoftHsmToken, TempDir};

fn token() -> &'static SoftHsmToken {
    shared_softhsm_token("safe-slots")
}

/// Takes this binary's SoftHSM turn and opens the module on the shared token directory.
fn open() -> (MutexGuard<'static, ()>, Pkcs11) {
    let turn = take_turn();
    let _ = token();
    let p11 = Pkcs11::open(softhsm_module()).unwrap();
    (turn, p11)
}

/// The slot of the test token.
fn main_slot(p11: &Pkcs11) -> Slot {
    p11.token_by_label(token().label()).unwrap()
}

/// The slot holding SoftHSM's free (uninitialized) token.
fn free_slot(p11: &Pkcs11) -> Slot {
    let free: Vec<Slot> = p11
        .slots_with_token()
        .unwrap()
        .into_iter()
        .filter(|slot| !slot.token_info().unwrap().flags().token_initialized())
        .collect();
    assert_eq!(free.len(), 1, "SoftHSM always offers one free slot");
    free.into_iter().next().unwrap()
}

fn assert_module_error<T: std::fmt::Debug>(
    result: pkcs11::Result<T>,
    function: &str,
    rv: Rv,
) -> Error {
    let error = result.unwrap_err();
    match &error {
        Error::Module { function: f, rv: r } if *f == function && *r == rv => {}
        _ => panic!("expected {function}: {rv:?}, got {error:?}"),
    }
    error
}

/// A raw `C_GetTokenInfo` through the module's table, bypassing the safe crate.
fn raw_token_info(p11: &Pkcs11, slot: sys::CK_SLOT_ID) -> sys::CK_TOKEN_INFO {
    let mut info = sys::CK_TOKEN_INFO::default();
    let f = p11.raw_module().functions().C_GetTokenInfo.unwrap();
    // SAFETY: `info` is a writable CK_TOKEN_INFO; the module is initialized.
    assert_eq!(unsafe { f(slot, &mut info) }, sys::CKR_OK);
    info
}

/// `softhsm2-util --show-slots`, parsed: slot ID → ("Slot info" | "Token info", key) →
/// value (trailing blanks trimmed).
fn show_slots() -> BTreeMap<sys::CK_SLOT_ID, BTreeMap<(String, String), String>> {
    let output = Command::new("softhsm2-util")
        .arg("--show-slots")
        .env("SOFTHSM2_CONF", token().conf())
        .output()
        .expect("run softhsm2-util --show-slots");
    assert!(output.status.success(), "softhsm2-util --show-slots failed");
    let text = String::from_utf8(output.stdout).unwrap();
    let mut slots = BTreeMap::new();
    let mut current: Option<sys::CK_SLOT_ID> = None;
    let mut section = String::new();
    for line in text.lines() {
        if let Some(id) = line.strip_prefix("Slot ") {
            let id = id.trim().parse().unwrap();
            slots.insert(id, BTreeMap::new());
            current = Some(id);
        } else if let (Some(id), Some((key, value))) = (current, line.split_once(':')) {
            let key = key.trim().to_owned();
            if value.trim().is_empty() && (key == "Slot info" || key == "Token info") {
                section = key;
                continue;
            }
            let value = value.trim_start().trim_end_matches(' ').to_owned();
            slots
                .get_mut(&id)
                .unwrap()
                .insert((section.clone(), key), value);
        }
    }
    slots
}

fn yes_no(flag: bool) -> &'static str {
    if flag {
        "yes"
    } else {
        "no"
    }
}

#[test]
fn library_info_matches_a_raw_c_get_info() {
    let (_turn, p11) = open();
    let info = p11.info().unwrap();

    let mut raw = sys::CK_INFO::default();
    let f = p11.raw_module().functions().C_GetInfo.unwrap();
    // SAFETY: `raw` is a writable CK_INFO; the module is initialized.
    assert_eq!(unsafe { f(&mut raw) }, sys::CKR_OK);

    assert_eq!(info.cryptoki_version(), Version::from(raw.cryptokiVersion));
    assert_eq!(
        info.cryptoki_version(),
        Version {
            major: 2,
            minor: 40
        }
    );
    assert_eq!(info.manufacturer().as_bytes(), &raw.manufacturerID);
    assert_eq!(info.manufacturer(), "SoftHSM");
    assert_eq!(info.description().as_bytes(), &raw.libraryDescription);
    assert_eq!(info.description(), "Implementation of PKCS11");
    assert_eq!(info.flags(), raw.flags);
    assert_eq!(info.library_version(), Version::from(raw.libraryVersion));

    // The library version is the one softhsm2-util reports ("2.6.1").
    let output = Command::new("softhsm2-util")
        .arg("--version")
        .output()
        .unwrap();
    let version = String::from_utf8(output.stdout).unwrap();
    let mut parts = version.trim().split('.');
    let major: u8 = parts.next().unwrap().parse().unwrap();
    let minor: u8 = parts.next().unwrap().parse().unwrap();
    assert_eq!(info.library_version(), Version { major, minor });
}

#[test]
fn slot_and_token_info_match_softhsm2_util() {
    let (_turn, p11) = open();
    let shown = show_slots();
    let slots = p11.slots().unwrap();
    assert!(slots.len() >= 2, "the test token and the free slot");
    let mut ids: Vec<_> = slots.iter().map(Slot::id).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        shown.keys().copied().collect::<Vec<_>>(),
        "the same slots"
    );
    for slot in &slots {
        let expected = &shown[&slot.id()];
        let get = |section: &str, key: &str| -> &str {
            expected
                .get(&(section.to_owned(), key.to_owned()))
                .unwrap_or_else(|| panic!("softhsm2-util shows no {section} / {key}"))
        };
        let info = slot.info().unwrap();
        assert_eq!(info.description(), get("Slot info", "Description"));
        assert_eq!(info.manufacturer(), get("Slot info", "Manufacturer ID"));
        assert_eq!(
            info.hardware_version().to_string(),
            get("Slot info", "Hardware version")
        );
        assert_eq!(
            info.firmware_version().to_string(),
            get("Slot info", "Firmware version")
        );
        assert_eq!(
            yes_no(info.token_present()),
            get("Slot info", "Token present")
        );
        assert!(info.flags().token_present());
        assert!(!info.flags().removable_device(), "slots.removable = false");
        assert_eq!(info.raw().flags, info.flags().raw());

        let token = slot.token_info().unwrap();
        assert_eq!(token.manufacturer(), get("Token info", "Manufacturer ID"));
        assert_eq!(token.model(), get("Token info", "Model"));
        assert_eq!(token.serial_number(), get("Token info", "Serial number"));
        assert_eq!(token.label(), get("Token info", "Label"));
        assert_eq!(
            token.hardware_version().to_string(),
            get("Token info", "Hardware version")
        );
        assert_eq!(
            token.firmware_version().to_string(),
            get("Token info", "Firmware version")
        );
        assert_eq!(
            yes_no(token.flags().token_initialized()),
            get("Token info", "Initialized")
        );
        assert_eq!(
            yes_no(token.flags().user_pin_initialized()),
            get("Token info", "User PIN init.")
        );
    }
    // An invalid slot ID is the module's error, naming the function.
    assert_module_error(
        p11.slot(0xDEAD_BEEF).info(),
        "C_GetSlotInfo",
        Rv::SlotIdInvalid,
    );
    assert_module_error(
        p11.slot(0xDEAD_BEEF).token_info(),
        "C_GetTokenInfo",
        Rv::SlotIdInvalid,
    );
}

#[test]
fn rule_20_token_info_counts_are_count_variants_and_fields_match_the_raw_struct() {
    let (_turn, p11) = open();
    let slot = main_slot(&p11);
    let _ro = slot.open_ro_session().unwrap();
    let _rw = slot.open_rw_session().unwrap();
    let info = slot.token_info().unwrap();
    let raw = raw_token_info(&p11, slot.id());

    // SoftHSM reports CK_EFFECTIVELY_INFINITE (0) for the maximum session counts and
    // CK_UNAVAILABLE_INFORMATION for the current counts and the memory sizes.
    assert_eq!(raw.ulMaxSessionCount, sys::CK_EFFECTIVELY_INFINITE);
    assert_eq!(info.max_session_count(), Count::EffectivelyInfinite);
    assert_eq!(raw.ulMaxRwSessionCount, sys::CK_EFFECTIVELY_INFINITE);
    assert_eq!(info.max_rw_session_count(), Count::EffectivelyInfinite);
    assert_eq!(raw.ulSessionCount, sys::CK_UNAVAILABLE_INFORMATION);
    assert_eq!(info.session_count(), Count::Unavailable);
    assert_eq!(raw.ulRwSessionCount, sys::CK_UNAVAILABLE_INFORMATION);
    assert_eq!(info.rw_session_count(), Count::Unavailable);
    for (raw, count) in [
        (raw.ulTotalPublicMemory, info.total_public_memory()),
        (raw.ulFreePublicMemory, info.free_public_memory()),
        (raw.ulTotalPrivateMemory, info.total_private_memory()),
        (raw.ulFreePrivateMemory, info.free_private_memory()),
    ] {
        assert_eq!(raw, sys::CK_UNAVAILABLE_INFORMATION);
        assert_eq!(count, Count::Unavailable);
    }
    // PIN lengths are plain values (SoftHSM: 4 to 255).
    assert_eq!(info.min_pin_len(), Count::Value(4));
    assert_eq!(info.max_pin_len(), Count::Value(255));
    assert_eq!(info.min_pin_len().value(), Some(raw.ulMinPinLen));
    assert_eq!(info.max_pin_len().value(), Some(raw.ulMaxPinLen));

    // Every other field against the independent raw call.
    assert_eq!(info.label().as_bytes(), &raw.label);
    assert_eq!(info.label(), token().label());
    assert_eq!(info.manufacturer().as_bytes(), &raw.manufacturerID);
    assert_eq!(info.model().as_bytes(), &raw.model);
    assert_eq!(info.model(), "SoftHSM v2");
    assert_eq!(info.serial_number().as_bytes(), &raw.serialNumber);
    assert_eq!(info.serial_number().as_str().len(), 16);
    assert_eq!(info.flags().raw(), raw.flags);
    let flags = info.flags();
    assert!(flags.rng() && flags.login_required() && flags.token_initialized());
    assert!(flags.user_pin_initialized() && !flags.write_protected());
    assert!(!flags.protected_authentication_path());
    assert!(!flags.user_pin_locked() && !flags.so_pin_locked());
    assert_eq!(info.hardware_version(), Version::from(raw.hardwareVersion));
    assert_eq!(info.firmware_version(), Version::from(raw.firmwareVersion));

    // utcTime: SoftHSM writes the current UTC time; the raw field is kept.
    let clock = info.utc_time().expect("SoftHSM fills utcTime");
    assert_eq!(&info.utc_time_raw()[..14], &clock_digits(clock)[..]);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let skew = seconds_of(clock).abs_diff(now);
    assert!(
        skew < 300,
        "token clock {clock} is {skew} s off the system clock"
    );
}

/// The 14 digits `YYYYMMDDhhmmss` of a time.
fn clock_digits(time: UtcTime) -> Vec<u8> {
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        time.year, time.month, time.day, time.hour, time.minute, time.second
    )
    .into_bytes()
}

/// Seconds since the epoch of a `UtcTime` (days-from-civil).
fn seconds_of(time: UtcTime) -> u64 {
    let (y, m, d) = (
        i64::from(time.year) - i64::from(time.month <= 2),
        i64::from(time.month),
        i64::from(time.day),
    );
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    (days * 86_400
        + i64::from(time.hour) * 3600
        + i64::from(time.minute) * 60
        + i64::from(time.second)) as u64
}

#[test]
fn mechanisms_include_aes_gcm_and_every_mechanism_info_succeeds() {
    let (_turn, p11) = open();
    let slot = main_slot(&p11);
    let mechanisms = slot.mechanisms().unwrap();
    assert!(mechanisms.contains(&MechanismType(sys::CKM_AES_GCM)));

    // The same list, in the same order, as raw calls give.
    let f = p11.raw_module().functions().C_GetMechanismList.unwrap();
    let mut count: sys::CK_ULONG = 0;
    // SAFETY: a NULL list asks for the count only; `count` is writable.
    let rv = unsafe { f(slot.id(), std::ptr::null_mut(), &mut count) };
    assert_eq!(rv, sys::CKR_OK);
    let mut raw = vec![0; count as usize];
    // SAFETY: `raw` has room for `count` entries.
    let rv = unsafe { f(slot.id(), raw.as_mut_ptr(), &mut count) };
    assert_eq!(rv, sys::CKR_OK);
    raw.truncate(count as usize);
    assert_eq!(
        mechanisms.iter().map(|m| m.raw()).collect::<Vec<_>>(),
        raw,
        "the safe list is the module's list"
    );

    let get_info = p11.raw_module().functions().C_GetMechanismInfo.unwrap();
    for &mechanism in &mechanisms {
        let info = slot
            .mechanism_info(mechanism)
            .unwrap_or_else(|e| panic!("{mechanism}: {e}"));
        let mut raw = sys::CK_MECHANISM_INFO::default();
        // SAFETY: `raw` is a writable CK_MECHANISM_INFO.
        let rv = unsafe { get_info(slot.id(), mechanism.raw(), &mut raw) };
        assert_eq!(rv, sys::CKR_OK);
        assert_eq!(info.flags().raw(), raw.flags, "{mechanism}");
        assert_eq!(info.min_key_size(), raw.ulMinKeySize, "{mechanism}");
        assert_eq!(info.max_key_size(), raw.ulMaxKeySize, "{mechanism}");
    }

    let gcm = slot
        .mechanism_info(MechanismType(sys::CKM_AES_GCM))
        .unwrap();
    assert!(gcm.flags().encrypt() && gcm.flags().decrypt());
    assert!(!gcm.flags().sign() && !gcm.flags().digest());
    assert_eq!((gcm.min_key_size(), gcm.max_key_size()), (16, 32));
    let sha = slot.mechanism_info(MechanismType(sys::CKM_SHA256)).unwrap();
    assert!(sha.flags().digest() && !sha.flags().encrypt());
    let rsa = slot
        .mechanism_info(MechanismType(sys::CKM_RSA_PKCS))
        .unwrap();
    let flags = rsa.flags();
    assert!(flags.encrypt() && flags.decrypt() && flags.sign() && flags.verify());
    assert!(flags.wrap() && flags.unwrap() && !flags.derive());
    let ec = slot
        .mechanism_info(MechanismType(sys::CKM_EC_KEY_PAIR_GEN))
        .unwrap();
    assert!(ec.flags().generate_key_pair() && !ec.flags().generate());
    assert!(ec.flags().ec_f_p() && ec.flags().ec_oid() && ec.flags().ec_uncompress());
    let aes_gen = slot
        .mechanism_info(MechanismType(sys::CKM_AES_KEY_GEN))
        .unwrap();
    assert!(aes_gen.flags().generate() && !aes_gen.flags().generate_key_pair());
    let derive = slot
        .mechanism_info(MechanismType(sys::CKM_ECDH1_DERIVE))
        .unwrap();
    assert!(derive.flags().derive());

    // A mechanism the token lacks (a vendor value) is the module's error.
    assert_module_error(
        slot.mechanism_info(MechanismType(sys::CKM_VENDOR_DEFINED | 0x4242)),
        "C_GetMechanismInfo",
        Rv::MechanismInvalid,
    );
    assert_module_error(
        p11.slot(0xDEAD_BEEF).mechanisms(),
        "C_GetMechanismList",
        Rv::SlotIdInvalid,
    );
}

#[test]
fn token_lookup_by_label_and_serial() {
    let (_turn, p11) = open();
    let slot = main_slot(&p11);
    let info = slot.token_info().unwrap();
    assert_eq!(info.label(), token().label());

    // Labels compare without their blank padding.
    let padded = format!("{}   ", token().label());
    assert_eq!(p11.token_by_label(&padded).unwrap().id(), slot.id());

    let serial = info.serial_number().as_str().to_owned();
    assert_eq!(p11.token_by_serial(&serial).unwrap().id(), slot.id());

    match p11.token_by_label("no-such-token-label") {
        Err(Error::NotFound { what }) => assert!(what.contains("no-such-token-label"), "{what}"),
        other => panic!("expected NotFound, got {other:?}"),
    }
    match p11.token_by_serial("0000000000000000") {
        Err(Error::NotFound { what }) => {
            assert!(what.contains("serial") && what.contains("0000000000000000"))
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
    // Longer than any label: nothing can match.
    assert!(matches!(
        p11.token_by_label(&"x".repeat(40)),
        Err(Error::NotFound { .. })
    ));
}

#[test]
fn init_token_on_the_free_slot_and_duplicate_labels_are_more_than_one() {
    let (_turn, p11) = open();
    let so_pin = Pin::from("dup-so-pin-1");

    // Too long a label is refused before the module is called.
    let free = free_slot(&p11);
    match free.init_token(&so_pin, &"L".repeat(33)) {
        Err(Error::InvalidInput { what }) => assert!(what.contains("33 bytes"), "{what}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    }
    assert!(!free.token_info().unwrap().flags().token_initialized());

    // Two tokens with one label.
    free.init_token(&so_pin, "dup-label").unwrap();
    let first = p11.token_by_label("dup-label").unwrap();
    let info = first.token_info().unwrap();
    assert_eq!(info.label(), "dup-label");
    assert_eq!(info.label().as_bytes(), b"dup-label                       ");
    assert!(info.flags().token_initialized());
    assert!(!info.flags().user_pin_initialized());
    free_slot(&p11).init_token(&so_pin, "dup-label").unwrap();
    let ids = match p11.token_by_label("dup-label") {
        Err(Error::MoreThanOne { what }) => {
            assert!(what.contains("dup-label"), "{what}");
            what
        }
        other => panic!("expected MoreThanOne, got {other:?}"),
    };
    let second = p11
        .slots_with_token()
        .unwrap()
        .into_iter()
        .find(|s| s.id() != first.id() && s.token_info().unwrap().label() == "dup-label")
        .unwrap();
    assert!(ids.contains(&first.id().to_string()) && ids.contains(&second.id().to_string()));

    // A wrong SO PIN does not re-initialize; the right one does (renaming it).
    assert_module_error(
        second.init_token(&Pin::from("wrong-so-pin"), "renamed"),
        "C_InitToken",
        Rv::PinIncorrect,
    );
    second.init_token(&so_pin, "dup-renamed").unwrap();
    assert_eq!(p11.token_by_label("dup-label").unwrap().id(), first.id());
    assert_eq!(p11.token_by_label("dup-renamed").unwrap().id(), second.id());
    // Serial numbers tell the two apart.
    let serial = second
        .token_info()
        .unwrap()
        .serial_number()
        .as_str()
        .to_owned();
    assert_eq!(p11.token_by_serial(&serial).unwrap().id(), second.id());
}

#[test]
fn init_pin_set_pin_and_login_with_the_new_pin() {
    let (_turn, p11) = open();
    let so_pin = Pin::from("pin-so-pin-1");
    free_slot(&p11).init_token(&so_pin, "pin-token").unwrap();
    let slot = p11.token_by_label("pin-token").unwrap();
    assert!(!slot.token_info().unwrap().flags().user_pin_initialized());

    let session = slot.open_rw_session().unwrap();
    // C_InitPIN needs the SO.
    assert_module_error(
        session.init_pin(&Pin::from("first-user-pin")),
        "C_InitPIN",
        Rv::UserNotLoggedIn,
    );
    session.login(UserType::So, &so_pin).unwrap();
    assert_module_error(
        session.init_pin(&Pin::from("123")),
        "C_InitPIN",
        Rv::PinLenRange,
    );
    session.init_pin(&Pin::from("first-user-pin")).unwrap();
    session.logout().unwrap();
    assert!(slot.token_info().unwrap().flags().user_pin_initialized());

    session
        .login(UserType::User, &Pin::from("first-user-pin"))
        .unwrap();
    let error = assert_module_error(
        session.set_pin(&Pin::from("not-the-old-pin"), &Pin::from("second-user-pin")),
        "C_SetPIN",
        Rv::PinIncorrect,
    );
    assert!(!format!("{error} {error:?}").contains("second-user-pin"));
    session
        .set_pin(&Pin::from("first-user-pin"), &Pin::from("second-user-pin"))
        .unwrap();
    session.logout().unwrap();

    assert_module_error(
        session.login(UserType::User, &Pin::from("first-user-pin")),
        "C_Login",
        Rv::PinIncorrect,
    );
    session
        .login(UserType::User, &Pin::from("second-user-pin"))
        .unwrap();
    session.logout().unwrap();

    // A read-only session cannot change a PIN.
    let ro = slot.open_ro_session().unwrap();
    assert_module_error(
        ro.set_pin(&Pin::from("second-user-pin"), &Pin::from("third-user-pin")),
        "C_SetPIN",
        Rv::SessionReadOnly,
    );
}

#[test]
fn rule_12_session_info_follows_login_and_logout() {
    let (_turn, p11) = open();
    let slot = main_slot(&p11);
    let user_pin = Pin::from(token().user_pin);
    let so_pin = Pin::from(token().so_pin);
    let ro = slot.open_ro_session().unwrap();
    let rw = slot.open_rw_session().unwrap();

    let ro_info = ro.info().unwrap();
    assert_eq!(ro_info.slot_id(), slot.id());
    assert_eq!(ro_info.state(), SessionState::RoPublic);
    assert!(ro_info.flags().serial_session() && !ro_info.flags().rw_session());
    assert!(!ro_info.is_read_write());
    assert_eq!(ro_info.device_error(), 0);
    let rw_info = rw.info().unwrap();
    assert_eq!(rw_info.state(), SessionState::RwPublic);
    assert!(rw_info.is_read_write() && rw_info.flags().serial_session());
    assert_eq!(rw_info.raw().state, sys::CKS_RW_PUBLIC_SESSION);

    // Login state belongs to the application: both sessions see it.
    ro.login(UserType::User, &user_pin).unwrap();
    assert_eq!(ro.info().unwrap().state(), SessionState::RoUser);
    assert_eq!(rw.info().unwrap().state(), SessionState::RwUser);
    rw.logout().unwrap();
    assert_eq!(ro.info().unwrap().state(), SessionState::RoPublic);
    assert_eq!(rw.info().unwrap().state(), SessionState::RwPublic);

    // The SO cannot log in while a read-only session exists.
    assert_module_error(
        rw.login(UserType::So, &so_pin),
        "C_Login",
        Rv::SessionReadOnlyExists,
    );
    ro.close().unwrap();
    rw.login(UserType::So, &so_pin).unwrap();
    assert_eq!(rw.info().unwrap().state(), SessionState::RwSo);
    rw.logout().unwrap();
    assert_eq!(rw.info().unwrap().state(), SessionState::RwPublic);
}

#[test]
fn rule_03_login_protected_passes_a_null_pin_and_login_user_needs_a_3_0_interface() {
    let (_turn, p11) = open();
    let slot = main_slot(&p11);
    assert!(!slot
        .token_info()
        .unwrap()
        .flags()
        .protected_authentication_path());
    let session = slot.open_ro_session().unwrap();
    // SoftHSM has no protected authentication path: a NULL PIN is a bad argument.
    assert_module_error(
        session.login_protected(UserType::User),
        "C_Login",
        Rv::ArgumentsBad,
    );
    assert_eq!(session.info().unwrap().state(), SessionState::RoPublic);

    // SoftHSM 2.6 offers only the 2.x table: C_LoginUser is not there.
    assert_eq!(p11.interface_version().major, 2);
    match session.login_user(UserType::User, &Pin::from(token().user_pin), "user") {
        Err(Error::NotSupported {
            function: "C_LoginUser",
        }) => {}
        other => panic!("expected NotSupported naming C_LoginUser, got {other:?}"),
    }
    assert_eq!(session.info().unwrap().state(), SessionState::RoPublic);
    session
        .login(UserType::User, &Pin::from(token().user_pin))
        .unwrap();
    assert_eq!(session.info().unwrap().state(), SessionState::RoUser);
}

#[test]
fn softhsm_has_no_blocking_slot_events() {
    let (_turn, p11) = open();
    // SoftHSM answers CKR_NO_EVENT to a non-blocking poll...
    assert!(p11.try_slot_event().unwrap().is_none());
    // ...and CKR_FUNCTION_NOT_SUPPORTED to a blocking wait.
    assert_module_error(
        p11.wait_for_slot_event(),
        "C_WaitForSlotEvent",
        Rv::FunctionNotSupported,
    );
}

// ---------------------------------------------------------------------------------------
// A small C module for what SoftHSM lacks: a blocking C_WaitForSlotEvent that C_Finalize
// wakes, and C_LoginUser in a 3.0 interface.

/// The mock module's source; `@NAME@` placeholders are filled from `pkcs11-sys`.
const MOCK_SOURCE: &str = r#"
#include <pthread.h>
#include <string.h>

typedef unsigned long CK_ULONG;
typedef CK_ULONG CK_RV;
typedef struct { unsigned char major, minor; } CK_VERSION;
typedef struct {
    CK_VERSION cryptokiVersion;
    unsigned char manufacturerID[32];
    CK_ULONG flags;
    unsigned char libraryDescription[32];
    CK_VERSION libraryVersion;
} CK_INFO;
typedef struct { unsigned char *name; void *list; CK_ULONG flags; } CK_INTERFACE;
typedef struct { CK_VERSION version; void *f[@N2@]; } LIST_2;
typedef struct { CK_VERSION version; void *f[@N3@]; } LIST_3;

_Static_assert(sizeof(CK_INFO) == @INFO_SIZE@, "CK_INFO layout");
_Static_assert(sizeof(LIST_2) == @LIST2_SIZE@, "2.x table layout");
_Static_assert(sizeof(LIST_3) == @LIST3_SIZE@, "3.0 table layout");

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int initialized, pending, waiters;

static LIST_2 list2;
static LIST_3 list3;
static CK_INTERFACE interface = { (unsigned char *)"PKCS 11", &list3, 0 };

static CK_RV Initialize(void *args) {
    (void)args;
    pthread_mutex_lock(&lock);
    CK_RV rv = initialized ? @CKR_CRYPTOKI_ALREADY_INITIALIZED@ : @CKR_OK@;
    initialized = 1;
    pending = 0;
    pthread_mutex_unlock(&lock);
    return rv;
}

static CK_RV Finalize(void *reserved) {
    (void)reserved;
    pthread_mutex_lock(&lock);
    CK_RV rv = initialized ? @CKR_OK@ : @CKR_CRYPTOKI_NOT_INITIALIZED@;
    initialized = 0;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
    return rv;
}

static CK_RV GetInfo(CK_INFO *info) {
    if (!info) return @CKR_ARGUMENTS_BAD@;
    memset(info, 0, sizeof *info);
    info->cryptokiVersion.major = 3;
    /* NUL-padded manufacturer; blank-padded description with a byte that is not UTF-8. */
    memcpy(info->manufacturerID, "pkcs11-rs mock", 14);
    memset(info->libraryDescription, ' ', 32);
    memcpy(info->libraryDescription, "slot \xFF events", 13);
    info->libraryVersion.major = 1;
    info->libraryVersion.minor = 2;
    return @CKR_OK@;
}

static CK_RV OpenSession(CK_ULONG slot, CK_ULONG flags, void *app, void *notify, CK_ULONG *session) {
    (void)slot; (void)flags; (void)app; (void)notify;
    if (!session) return @CKR_ARGUMENTS_BAD@;
    *session = 1;
    return @CKR_OK@;
}

static CK_RV CloseSession(CK_ULONG session) {
    (void)session;
    return @CKR_OK@;
}

static CK_RV LoginUser(CK_ULONG session, CK_ULONG user, unsigned char *pin, CK_ULONG pin_len,
                       unsigned char *name, CK_ULONG name_len) {
    (void)session;
    if (user != @CKU_USER@) return @CKR_USER_TYPE_INVALID@;
    if (name_len != 5 || memcmp(name, "alice", 5) != 0) return @CKR_ARGUMENTS_BAD@;
    if (pin_len != 4 || memcmp(pin, "1234", 4) != 0) return @CKR_PIN_INCORRECT@;
    return @CKR_OK@;
}

static CK_RV WaitForSlotEvent(CK_ULONG flags, CK_ULONG *slot, void *reserved) {
    if (!slot || reserved) return @CKR_ARGUMENTS_BAD@;
    CK_RV rv;
    pthread_mutex_lock(&lock);
    if (!initialized) {
        rv = @CKR_CRYPTOKI_NOT_INITIALIZED@;
    } else if (pending) {
        pending = 0;
        *slot = 7;
        rv = @CKR_OK@;
    } else if (flags & @CKF_DONT_BLOCK@) {
        rv = @CKR_NO_EVENT@;
    } else {
        waiters++;
        while (initialized && !pending) pthread_cond_wait(&changed, &lock);
        waiters--;
        if (!initialized) {
            rv = @CKR_CRYPTOKI_NOT_INITIALIZED@;
        } else {
            pending = 0;
            *slot = 7;
            rv = @CKR_OK@;
        }
    }
    pthread_mutex_unlock(&lock);
    return rv;
}

CK_RV C_GetFunctionList(LIST_2 **list) {
    if (!list) return @CKR_ARGUMENTS_BAD@;
    *list = &list2;
    return @CKR_OK@;
}

CK_RV C_GetInterfaceList(CK_INTERFACE *list, CK_ULONG *count) {
    if (!count) return @CKR_ARGUMENTS_BAD@;
    if (!list) { *count = 1; return @CKR_OK@; }
    if (*count < 1) { *count = 1; return @CKR_BUFFER_TOO_SMALL@; }
    list[0] = interface;
    *count = 1;
    return @CKR_OK@;
}

CK_RV C_GetInterface(unsigned char *name, CK_VERSION *version, CK_INTERFACE **found, CK_ULONG flags) {
    (void)name; (void)version; (void)flags;
    if (!found) return @CKR_ARGUMENTS_BAD@;
    *found = &interface;
    return @CKR_OK@;
}

/* Test hooks. */
int mock_waiters(void) {
    pthread_mutex_lock(&lock);
    int n = waiters;
    pthread_mutex_unlock(&lock);
    return n;
}

void mock_raise_event(void) {
    pthread_mutex_lock(&lock);
    pending = 1;
    pthread_cond_broadcast(&changed);
    pthread_mutex_unlock(&lock);
}

static void set(int index, void *function) {
    if (index < @N2@) list2.f[index] = function;
    list3.f[index] = function;
}

__attribute__((constructor)) static void setup(void) {
    list2.version.major = 2; list2.version.minor = 40;
    list3.version.major = 3; list3.version.minor = 0;
    set(@C_Initialize@, (void *)Initialize);
    set(@C_Finalize@, (void *)Finalize);
    set(@C_GetInfo@, (void *)GetInfo);
    set(@C_GetFunctionList@, (void *)C_GetFunctionList);
    set(@C_OpenSession@, (void *)OpenSession);
    set(@C_CloseSession@, (void *)CloseSession);
    set(@C_WaitForSlotEvent@, (void *)WaitForSlotEvent);
    set(@C_GetInterfaceList@, (void *)C_GetInterfaceList);
    set(@C_GetInterface@, (void *)C_GetInterface);
    set(@C_LoginUser@, (void *)LoginUser);
}
"#;

/// The mock module, built once per test run; its tests take turns.
struct Mock {
    path: PathBuf,
    hooks: libloading::Library,
    _dir: TempDir,
}

fn mock() -> (MutexGuard<'static, ()>, &'static Mock) {
    static LOCK: Mutex<()> = Mutex::new(());
    static MOCK: OnceLock<Mock> = OnceLock::new();
    let turn = LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let mock = MOCK.get_or_init(|| {
        let dir = TempDir::new("slot-events-mock");
        let path = build_mock(dir.path());
        // SAFETY: the mock's constructor only fills its tables.
        let hooks = unsafe { libloading::Library::new(&path) }.unwrap();
        Mock {
            path,
            hooks,
            _dir: dir,
        }
    });
    (turn, mock)
}

fn build_mock(dir: &Path) -> PathBuf {
    use std::mem::{offset_of, size_of};
    use sys::{CK_FUNCTION_LIST as L2, CK_FUNCTION_LIST_3_0 as L3};
    let slot = |offset: usize| (offset - offset_of!(L3, C_Initialize)) / size_of::<usize>();
    let replacements: Vec<(&str, String)> = vec![
        (
            "N2",
            ((size_of::<L2>() - offset_of!(L2, C_Initialize)) / size_of::<usize>()).to_string(),
        ),
        (
            "N3",
            ((size_of::<L3>() - offset_of!(L3, C_Initialize)) / size_of::<usize>()).to_string(),
        ),
        ("INFO_SIZE", size_of::<sys::CK_INFO>().to_string()),
        ("LIST2_SIZE", size_of::<L2>().to_string()),
        ("LIST3_SIZE", size_of::<L3>().to_string()),
        (
            "C_Initialize",
            slot(offset_of!(L3, C_Initialize)).to_string(),
        ),
        ("C_Finalize", slot(offset_of!(L3, C_Finalize)).to_string()),
        ("C_GetInfo", slot(offset_of!(L3, C_GetInfo)).to_string()),
        (
            "C_GetFunctionList",
            slot(offset_of!(L3, C_GetFunctionList)).to_string(),
        ),
        (
            "C_OpenSession",
            slot(offset_of!(L3, C_OpenSession)).to_string(),
        ),
        (
            "C_CloseSession",
            slot(offset_of!(L3, C_CloseSession)).to_string(),
        ),
        (
            "C_WaitForSlotEvent",
            slot(offset_of!(L3, C_WaitForSlotEvent)).to_string(),
        ),
        (
            "C_GetInterfaceList",
            slot(offset_of!(L3, C_GetInterfaceList)).to_string(),
        ),
        (
            "C_GetInterface",
            slot(offset_of!(L3, C_GetInterface)).to_string(),
        ),
        ("C_LoginUser", slot(offset_of!(L3, C_LoginUser)).to_string()),
        ("CKR_OK", format!("{:#x}UL", sys::CKR_OK)),
        (
            "CKR_ARGUMENTS_BAD",
            format!("{:#x}UL", sys::CKR_ARGUMENTS_BAD),
        ),
        ("CKR_NO_EVENT", format!("{:#x}UL", sys::CKR_NO_EVENT)),
        (
            "CKR_PIN_INCORRECT",
            format!("{:#x}UL", sys::CKR_PIN_INCORRECT),
        ),
        (
            "CKR_USER_TYPE_INVALID",
            format!("{:#x}UL", sys::CKR_USER_TYPE_INVALID),
        ),
        (
            "CKR_BUFFER_TOO_SMALL",
            format!("{:#x}UL", sys::CKR_BUFFER_TOO_SMALL),
        ),
        (
            "CKR_CRYPTOKI_NOT_INITIALIZED",
            format!("{:#x}UL", sys::CKR_CRYPTOKI_NOT_INITIALIZED),
        ),
        (
            "CKR_CRYPTOKI_ALREADY_INITIALIZED",
            format!("{:#x}UL", sys::CKR_CRYPTOKI_ALREADY_INITIALIZED),
        ),
        ("CKF_DONT_BLOCK", format!("{:#x}UL", sys::CKF_DONT_BLOCK)),
        ("CKU_USER", format!("{:#x}UL", sys::CKU_USER)),
    ];
    let mut source = MOCK_SOURCE.to_owned();
    for (name, value) in &replacements {
        source = source.replace(&format!("@{name}@"), value);
    }
    assert!(!source.contains('@'), "unfilled placeholder in the mock");
    pkcs11_tests::compile_shared_library(dir, "libslot-events-mock.so", &source, &["-lpthread"])
}

impl Mock {
    /// How many threads are blocked in the mock's `C_WaitForSlotEvent`.
    fn waiters(&self) -> i32 {
        // SAFETY: `mock_waiters` is `int (void)`.
        let f = unsafe {
            self.hooks
                .get::<unsafe extern "C" fn() -> std::os::raw::c_int>(b"mock_waiters")
        }
        .unwrap();
        // SAFETY: the hook only reads a counter under the mock's mutex.
        unsafe { f() }
    }

    /// Makes a slot event (for slot 7) pending and wakes the waiters.
    fn raise_event(&self) {
        // SAFETY: `mock_raise_event` is `void (void)`.
        let f = unsafe {
            self.hooks
                .get::<unsafe extern "C" fn()>(b"mock_raise_event")
        }
        .unwrap();
        // SAFETY: the hook only sets a flag under the mock's mutex.
        unsafe { f() }
    }

    /// Waits (at most 10 s) until `n` threads are blocked in `C_WaitForSlotEvent`.
    fn await_waiters(&self, n: i32) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.waiters() != n {
            assert!(Instant::now() < deadline, "no thread blocked in the wait");
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[test]
fn mock_library_info_is_trimmed_and_decoded_lossily_with_raw_bytes_kept() {
    let (_turn, mock) = mock();
    let p11 = Pkcs11::open(&mock.path).unwrap();
    assert_eq!(p11.interface_version(), Version { major: 3, minor: 0 });
    let info = p11.info().unwrap();
    assert_eq!(info.cryptoki_version(), Version { major: 3, minor: 0 });
    // NUL padding is cut like blank padding.
    assert_eq!(info.manufacturer(), "pkcs11-rs mock");
    assert_eq!(&info.manufacturer().as_bytes()[..14], b"pkcs11-rs mock");
    assert!(info.manufacturer().as_bytes()[14..].iter().all(|&b| b == 0));
    // Invalid UTF-8 is replaced in the text and kept in the raw bytes.
    assert_eq!(info.description(), "slot \u{FFFD} events");
    assert_eq!(info.description().trimmed_bytes(), b"slot \xFF events");
    assert_eq!(info.description().as_bytes().len(), 32);
    assert_eq!(info.library_version(), Version { major: 1, minor: 2 });
}

#[test]
fn mock_slot_events_poll_and_block() {
    let (_turn, mock) = mock();
    let p11 = Pkcs11::open(&mock.path).unwrap();
    assert!(p11.try_slot_event().unwrap().is_none(), "CKR_NO_EVENT");
    mock.raise_event();
    assert_eq!(p11.try_slot_event().unwrap().map(|s| s.id()), Some(7));
    assert!(
        p11.try_slot_event().unwrap().is_none(),
        "the event was taken"
    );

    let waiter = {
        let p11 = p11.clone();
        std::thread::spawn(move || p11.wait_for_slot_event().map(|slot| slot.id()))
    };
    mock.await_waiters(1);
    mock.raise_event();
    assert_eq!(waiter.join().unwrap().unwrap(), 7);
}

#[test]
fn rule_10_mock_finalize_wakes_a_blocked_wait_without_waiting_for_it() {
    let (_turn, mock) = mock();
    let p11 = Pkcs11::open(&mock.path).unwrap();
    let waiter = {
        let p11 = p11.clone();
        std::thread::spawn(move || {
            let woken = p11.wait_for_slot_event().map(|slot| slot.id());
            // After finalization nothing reaches the module.
            let after = p11.wait_for_slot_event().map(|slot| slot.id());
            (woken, after)
        })
    };
    mock.await_waiters(1);

    // The blocked wait is not a call in flight: finalize must not wait for it.
    let (done, finalized) = mpsc::channel();
    std::thread::spawn(move || done.send(p11.finalize()).unwrap());
    let Ok(result) = finalized.recv_timeout(Duration::from_secs(10)) else {
        mock.raise_event(); // unblock the waiter so that the process can end
        panic!("Pkcs11::finalize waited for the blocked C_WaitForSlotEvent");
    };
    result.unwrap();

    let (woken, after) = waiter.join().unwrap();
    assert_module_error(woken, "C_WaitForSlotEvent", Rv::CryptokiNotInitialized);
    assert!(matches!(after, Err(Error::Finalized)), "{after:?}");
    assert_eq!(mock.waiters(), 0);
}

#[test]
fn rule_03_mock_login_user_passes_user_type_pin_and_username() {
    let (_turn, mock) = mock();
    let p11 = Pkcs11::open(&mock.path).unwrap();
    let session = p11.slot(7).open_ro_session().unwrap();
    let pin = Pin::from("1234");
    session.login_user(UserType::User, &pin, "alice").unwrap();
    assert_module_error(
        session.login_user(UserType::User, &Pin::from("9999"), "alice"),
        "C_LoginUser",
        Rv::PinIncorrect,
    );
    assert_module_error(
        session.login_user(UserType::User, &pin, "bob"),
        "C_LoginUser",
        Rv::ArgumentsBad,
    );
    assert_module_error(
        session.login_user(UserType::So, &pin, "alice"),
        "C_LoginUser",
        Rv::UserTypeInvalid,
    );
}
