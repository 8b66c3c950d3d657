// A stream cannot outlive the session it runs on.
use pkcs11::{DigestStream, Mechanism, Slot};

fn start(slot: &Slot, mechanism: &'static Mechanism<'static>) -> DigestStream<'static> {
    let session = slot.open_ro_session().unwrap();
    session.digest_stream(mechanism).unwrap()
}

fn main() {}
