//! Quick start: open a module, find a token by label, log in, sign.
//!
//! ```text
//! cargo run -p pkcs11 --example quick_start -- MODULE_PATH TOKEN_LABEL USER_PIN
//! ```

use pkcs11::{Attribute, Mechanism, Pin, Pkcs11, UserType};

fn main() -> Result<(), pkcs11::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module, label, pin] = &args[..] else {
        eprintln!("usage: quick_start MODULE_PATH TOKEN_LABEL USER_PIN");
        std::process::exit(2);
    };
    let p11 = Pkcs11::open(module)?;
    let session = p11.token_by_label(label)?.open_rw_session()?;
    session.login(UserType::User, &Pin::from(pin.as_str()))?;

    let key = session.generate_key(
        &Mechanism::plain(pkcs11::ffi::CKM_GENERIC_SECRET_KEY_GEN),
        &[
            Attribute::Token(false),
            Attribute::ValueLen(32),
            Attribute::Sign(true),
            Attribute::Verify(true),
        ],
    )?;
    let mac = session.sign(&Mechanism::Sha256Hmac, key, b"hello")?;
    println!("HMAC-SHA-256(hello) = {}", hex(&mac));
    println!(
        "verifies: {}",
        session.verify(&Mechanism::Sha256Hmac, key, b"hello", &mac)?
    );
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
