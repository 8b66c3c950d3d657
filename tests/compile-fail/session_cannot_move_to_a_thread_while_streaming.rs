// A session cannot be moved away (here: to another thread) while a stream borrows it.
use pkcs11::{Mechanism, ObjectHandle, Session};

fn encrypt(session: Session, mechanism: &Mechanism<'_>, key: ObjectHandle) {
    let stream = session.encrypt_stream(mechanism, key).unwrap();
    std::thread::spawn(move || drop(session));
    drop(stream);
}

fn main() {}
