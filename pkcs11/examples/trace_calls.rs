//! Traces every module call of a short session — the way OpenSC's pkcs11-spy is used,
//! without a second library: a login with a wrong PIN (the PIN never appears), a login,
//! a digest and a search.
//!
//! ```text
//! cargo run -p pkcs11 --features tracing --example trace_calls -- MODULE_PATH TOKEN_LABEL USER_PIN
//! ```

use pkcs11::{Attribute, Mechanism, ObjectClass, Pin, Pkcs11, UserType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module, token, pin] = &args[..] else {
        eprintln!("usage: trace_calls MODULE_PATH TOKEN_LABEL USER_PIN");
        std::process::exit(2);
    };
    // Any `tracing` subscriber works; this one prints TRACE events of the `pkcs11` target.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_target(true)
        .without_time()
        .with_ansi(false)
        .with_writer(std::io::stdout)
        .init();

    let p11 = Pkcs11::open(module)?;
    let session = p11.token_by_label(token)?.open_rw_session()?;
    if let Err(error) = session.login(UserType::User, &Pin::from("not-the-pin")) {
        println!("a wrong PIN gives: {error}");
    }
    session.login(UserType::User, &Pin::from(pin.as_str()))?;
    let digest = session.digest(&Mechanism::Sha256, b"traced")?;
    println!("SHA-256 has {} bytes", digest.len());
    let keys = session.find_all(&[Attribute::Class(ObjectClass::PrivateKey)])?;
    println!("private keys: {}", keys.len());
    Ok(())
}
