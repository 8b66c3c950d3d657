//! The two-module harness itself: both real modules load, get a token with a user PIN and
//! answer with their mechanism lists.

use pkcs11::MechanismType;
use pkcs11_tests::modules::{each_module, token, Module};

#[test]
fn both_modules_have_a_logged_in_token() {
    each_module("both_modules_have_a_logged_in_token", |token| {
        let session = token.session();
        let random = session.generate_random(16).expect("C_GenerateRandom");
        assert_eq!(random.len(), 16);
        assert!(token.has(MechanismType::SHA256), "{:?}", token.module);
    });
}

#[test]
fn kryoptic_speaks_3_2() {
    let kryoptic = token(Module::Kryoptic);
    let version = kryoptic.pkcs11.interface_version();
    assert_eq!((version.major, version.minor), (3, 2), "{version:?}");
    assert!(
        kryoptic.mechanisms().len() > 150,
        "{}",
        kryoptic.mechanisms().len()
    );
}
