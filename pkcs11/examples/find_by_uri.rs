//! Find a key by PKCS #11 URI (RFC 7512): open the module the URI names, find its token,
//! log in with its PIN if it carries one, and list the matching objects with their URIs.
//!
//! ```text
//! cargo run -p pkcs11 --example find_by_uri -- \
//!   'pkcs11:token=my-token;type=private?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/run/pin'
//! ```
//!
//! The module comes from `module-path` (or `module-name`, looked up the way p11-kit
//! does); the PIN from `pin-value` or a `pin-source` file. Without a PIN only public
//! objects are found.

use pkcs11::{Pkcs11, Pkcs11Uri};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [text] = &args[..] else {
        eprintln!("usage: find_by_uri 'pkcs11:...?module-path=/path/to/module.so'");
        std::process::exit(2);
    };
    // A malformed URI is reported with the offending character, offset and attribute.
    let uri: Pkcs11Uri = match text.parse() {
        Ok(uri) => uri,
        Err(error) => {
            eprintln!("{error}");
            std::process::exit(2);
        }
    };
    if let Err(error) = run(&uri) {
        // Errors never contain the PIN.
        eprintln!("{error}");
        std::process::exit(1);
    }
}

fn run(uri: &Pkcs11Uri) -> Result<(), pkcs11::Error> {
    // `{uri}` prints the URI without its pin-value: safe to log.
    println!("uri:    {uri}");
    let p11 = Pkcs11::open_uri(uri)?;
    println!("module: {}", p11.path().display());
    let slot = p11.token_by_uri(uri)?;
    println!("token:  {}", Pkcs11Uri::for_token(&slot)?);
    let session = slot.open_ro_session()?;
    if session.login_with_uri(uri)? {
        println!("logged in with the URI's PIN");
    }
    let objects = session.find_by_uri(uri)?;
    for object in &objects {
        println!("object: {}", Pkcs11Uri::for_object(&session, *object)?);
    }
    println!("{} objects", objects.len());
    Ok(())
}
