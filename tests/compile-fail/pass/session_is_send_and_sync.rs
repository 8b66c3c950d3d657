// One logged-in session may serve many threads: Session (and the handles it comes
// from) are Send + Sync.
use pkcs11::{Pkcs11, Session, Slot};

fn shared<T: Send + Sync>() {}

fn serve(session: &Session) {
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| session.generate_random(8));
        }
    });
}

fn main() {
    shared::<Session>();
    shared::<Pkcs11>();
    shared::<Slot>();
    let _ = serve;
}
