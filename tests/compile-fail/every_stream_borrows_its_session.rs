// Every multipart stream is an operation guard that borrows its session: the session
// cannot be dropped or closed while the stream lives.
use pkcs11::{Mechanism, ObjectHandle, Session};

fn digest(session: Session, mechanism: &Mechanism<'_>) {
    let stream = session.digest_stream(mechanism).unwrap();
    drop(session);
    drop(stream);
}

fn encrypt(session: Session, mechanism: &Mechanism<'_>, key: ObjectHandle) {
    let stream = session.encrypt_stream(mechanism, key).unwrap();
    session.close().unwrap();
    drop(stream);
}

fn decrypt(session: Session, mechanism: &Mechanism<'_>, key: ObjectHandle) {
    let stream = session.decrypt_stream(mechanism, key).unwrap();
    drop(session);
    drop(stream);
}

fn sign(session: Session, mechanism: &Mechanism<'_>, key: ObjectHandle) {
    let stream = session.sign_stream(mechanism, key).unwrap();
    drop(session);
    drop(stream);
}

fn verify(session: Session, mechanism: &Mechanism<'_>, key: ObjectHandle) {
    let stream = session.verify_stream(mechanism, key).unwrap();
    drop(session);
    drop(stream);
}

fn main() {}
