// A PIN cannot be formatted for display (its Debug is redacted).
use pkcs11::Pin;

fn main() {
    let pin = Pin::from("1234");
    println!("{pin}");
}
