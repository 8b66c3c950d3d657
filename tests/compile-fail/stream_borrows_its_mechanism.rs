// A stream borrows its mechanism, so the parameters stay alive for the whole operation,
// not just the *Init call (RELIABILITY rule 28).
use pkcs11::{Mechanism, ObjectHandle, Session};

fn encrypt(session: &Session, key: ObjectHandle, make: impl Fn() -> Mechanism<'static>) {
    let stream;
    {
        let mechanism = make();
        stream = session.encrypt_stream(&mechanism, key).unwrap();
    }
    drop(stream);
}

fn main() {}
