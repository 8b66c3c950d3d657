//! Object search: list a token's objects with their class, label and ID.
//!
//! ```text
//! cargo run -p pkcs11 --example find_objects -- MODULE_PATH TOKEN_LABEL USER_PIN
//! ```

use pkcs11::{AttributeResult, AttributeType, Pin, Pkcs11, UserType};

fn main() -> Result<(), pkcs11::Error> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module, label, pin] = &args[..] else {
        eprintln!("usage: find_objects MODULE_PATH TOKEN_LABEL USER_PIN");
        std::process::exit(2);
    };
    let p11 = Pkcs11::open(module)?;
    let session = p11.token_by_label(label)?.open_ro_session()?;
    session.login(UserType::User, &Pin::from(pin.as_str()))?;

    // An empty template matches every object the session can see. The search guard
    // holds the session's lock and calls C_FindObjectsFinal when done or dropped.
    let mut count = 0;
    for object in session.find(&[])? {
        let object = object?;
        let attributes = session.get_attributes(
            object,
            &[
                AttributeType::Class,
                AttributeType::Label,
                AttributeType::Id,
            ],
        )?;
        let shown: Vec<String> = attributes
            .iter()
            .map(|result| match result {
                AttributeResult::Value(attribute) => format!("{attribute:?}"),
                other => format!("{other:?}"),
            })
            .collect();
        println!("{object:?}: {}", shown.join(", "));
        count += 1;
    }
    println!("{count} objects");
    Ok(())
}
