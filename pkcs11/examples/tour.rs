//! A tour of the safe API on a token: keys, signatures, a stream cipher, search,
//! attributes and a typed error.
//!
//! ```text
//! cargo run -p pkcs11 --example tour -- MODULE_PATH TOKEN_LABEL USER_PIN
//! ```
//! (`cargo xtask demo` runs it on a throwaway SoftHSM token.)

use pkcs11::{
    Attribute, AttributeResult, AttributeType, Error, Mechanism, ObjectClass, Pin, Pkcs11, Rv,
    UserType,
};

/// DER of the P-256 curve OID (1.2.840.10045.3.1.7), for `CKA_EC_PARAMS`.
const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(module), Some(label), Some(pin)) = (args.next(), args.next(), args.next()) else {
        return Err("usage: tour MODULE_PATH TOKEN_LABEL USER_PIN".into());
    };

    // One initialization per process, shared by every handle and session.
    let p11 = Pkcs11::open(&module)?;
    let info = p11.info()?;
    println!(
        "library: {} by {} (Cryptoki {}, interface {})",
        info.description(),
        info.manufacturer(),
        info.cryptoki_version(),
        p11.interface_version()
    );

    let slot = p11.token_by_label(&label)?;
    let token = slot.token_info()?;
    println!(
        "token:   \"{}\" ({}, serial {}) in slot {}",
        token.label(),
        token.model(),
        token.serial_number(),
        slot.id()
    );

    let mechanisms = slot.mechanisms()?;
    let names: Vec<String> = mechanisms.iter().map(ToString::to_string).collect();
    println!("mechanisms ({}): {}", names.len(), names.join(" "));

    let session = slot.open_rw_session()?;

    // A typed error: which call, which code.
    match session.login(UserType::User, &Pin::from("not-the-pin")) {
        Err(
            error @ Error::Module {
                rv: Rv::PinIncorrect,
                ..
            },
        ) => {
            println!(
                "a wrong PIN gives: {error}  [category {:?}]",
                error.rv().unwrap().category()
            );
        }
        other => println!("unexpected answer to a wrong PIN: {other:?}"),
    }
    session.login(UserType::User, &Pin::from(pin))?;

    // Keys: an EC P-256 key pair and an AES-256 key, as session objects.
    let (public, private) = session.generate_key_pair(
        &Mechanism::EcKeyPairGen,
        &[
            Attribute::Token(false),
            Attribute::EcParams(P256.to_vec()),
            Attribute::Verify(true),
            Attribute::Label("tour-ec".into()),
        ],
        &[
            Attribute::Token(false),
            Attribute::Sign(true),
            Attribute::Sensitive(true),
            Attribute::Label("tour-ec".into()),
        ],
    )?;
    let aes = session.generate_key(
        &Mechanism::AesKeyGen,
        &[
            Attribute::Token(false),
            Attribute::ValueLen(32),
            Attribute::Encrypt(true),
            Attribute::Decrypt(true),
            Attribute::Label("tour-aes".into()),
        ],
    )?;
    println!("keys:    EC P-256 pair {public:?}/{private:?}, AES-256 {aes:?}");

    // Sign and verify.
    let digest = session.digest(&Mechanism::Sha256, b"a message to sign")?;
    let signature = session.sign(&Mechanism::Ecdsa, private, &digest)?;
    println!(
        "ECDSA:   {}-byte signature; verifies: {}; on another message: {}",
        signature.len(),
        session.verify(&Mechanism::Ecdsa, public, &digest, &signature)?,
        session.verify(&Mechanism::Ecdsa, public, &[0u8; 32], &signature)?
    );

    // Encrypt a stream in pieces, decrypt it in one go.
    let cbc = Mechanism::AesCbcPad { iv: [7; 16] };
    let mut ciphertext = Vec::new();
    let mut stream = session.encrypt_stream(&cbc, aes)?;
    for chunk in [&b"stream "[..], b"ciphers ", b"hold the session's lock"] {
        ciphertext.extend(stream.update(chunk)?);
    }
    ciphertext.extend(stream.finish()?);
    let plaintext = session.decrypt(&cbc, aes, &ciphertext)?;
    println!(
        "AES-CBC: {} bytes of ciphertext decrypt to {:?}",
        ciphertext.len(),
        String::from_utf8_lossy(&plaintext)
    );

    // Search and attributes (per attribute: a sensitive value is a result, not an error).
    for object in session.find(&[Attribute::Token(false)])? {
        let object = object?;
        let values = session.get_attributes(
            object,
            &[
                AttributeType::Class,
                AttributeType::Label,
                AttributeType::Value,
            ],
        )?;
        let shown: Vec<String> = values
            .iter()
            .map(|result| match result {
                AttributeResult::Value(Attribute::Value(secret)) => {
                    format!("value: {} secret bytes", secret.len())
                }
                AttributeResult::Value(attribute) => format!("{attribute:?}"),
                other => format!("{other:?}"),
            })
            .collect();
        println!("object {object:?}: {}", shown.join(", "));
    }
    let private_keys = session.find_all(&[Attribute::Class(ObjectClass::PrivateKey)])?;
    println!("private keys in this session: {}", private_keys.len());

    session.logout()?;
    Ok(())
}
