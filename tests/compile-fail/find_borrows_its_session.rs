// An object search is an operation guard that borrows its session: the session cannot
// be dropped while the search lives, nor the search returned beyond the session.
use pkcs11::{FindObjects, Session, Slot};

fn search(session: Session) {
    let found = session.find(&[]).unwrap();
    drop(session);
    drop(found);
}

fn escape(slot: &Slot) -> FindObjects<'static> {
    let session = slot.open_ro_session().unwrap();
    session.find(&[]).unwrap()
}

fn main() {}
