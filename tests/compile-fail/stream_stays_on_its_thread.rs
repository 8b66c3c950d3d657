// A stream (and the session lock it holds) belongs to the thread that started it: it
// cannot be sent to another thread.
use pkcs11::{Mechanism, Session};

fn digest(session: &Session) {
    let mechanism = Mechanism::Sha256;
    let stream = session.digest_stream(&mechanism).unwrap();
    std::thread::scope(|scope| {
        scope.spawn(move || drop(stream));
    });
}

fn main() {}
