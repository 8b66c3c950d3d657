//! One logged-in session shared by several threads: single-part calls and streams
//! interleave safely because each holds the session's lock for its duration.
//!
//! ```text
//! cargo run -p pkcs11 --example shared_session -- MODULE_PATH TOKEN_LABEL USER_PIN
//! ```

use pkcs11::{Mechanism, Pin, Pkcs11, UserType};

fn main() -> Result<(), pkcs11::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module, label, pin] = &args[..] else {
        eprintln!("usage: shared_session MODULE_PATH TOKEN_LABEL USER_PIN");
        std::process::exit(2);
    };
    let p11 = Pkcs11::open(module)?;
    let session = p11.token_by_label(label)?.open_ro_session()?;
    session.login(UserType::User, &Pin::from(pin.as_str()))?;

    let expected = session.digest(&Mechanism::Sha256, b"0123456789")?;
    std::thread::scope(|scope| {
        for thread in 0..4 {
            let (session, expected) = (&session, &expected);
            scope.spawn(move || -> Result<(), pkcs11::Error> {
                for _ in 0..100 {
                    // A stream holds the lock from its start to its finish...
                    let mut stream = session.digest_stream(&Mechanism::Sha256)?;
                    stream.update(b"01234")?;
                    stream.update(b"56789")?;
                    assert_eq!(&stream.finish()?, expected);
                    // ...and a single-part call for the call.
                    assert_eq!(
                        &session.digest(&Mechanism::Sha256, b"0123456789")?,
                        expected
                    );
                }
                println!("thread {thread}: 200 digests, all correct");
                Ok(())
            });
        }
    });
    Ok(())
}
