//! Sign with RustCrypto traits: a private key on the token as a `signature::Signer`,
//! its public half as the ecosystem's `VerifyingKey`, shared by several threads.
//!
//! ```text
//! cargo run -p pkcs11 --features rustcrypto --example sign_rustcrypto -- \
//!     MODULE_PATH TOKEN_LABEL USER_PIN KEY_LABEL
//! ```
//!
//! The key labelled `KEY_LABEL` may be ECDSA P-256 / P-384, RSA or Ed25519; when the
//! token has none, a P-256 session key pair (gone when the example exits) is made.

use std::sync::Arc;

use pkcs11::signer::{
    Ed25519SigningKey, KeyAlgorithm, P256SigningKey, P384SigningKey, RsaPkcs1v15SigningKey,
    RsaPssSigningKey, TokenKey,
};
use pkcs11::{Attribute, Error, Mechanism, Pin, Pkcs11, Session, UserType};
use signature::{Keypair, Signer, Verifier};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [module, token, pin, key_label] = &args[..] else {
        eprintln!("usage: sign_rustcrypto MODULE_PATH TOKEN_LABEL USER_PIN KEY_LABEL");
        std::process::exit(2);
    };
    let p11 = Pkcs11::open(module)?;
    let session = p11.token_by_label(token)?.open_ro_session()?;
    session.login(UserType::User, &Pin::from(pin.as_str()))?;
    // One session for the key and every thread that signs with it: `Session` is
    // `Send + Sync`, and its lock lets one call through at a time. (A `SessionPool`
    // works the same way: `TokenKey::find_by_label(&pool, ...)`.)
    let session = Arc::new(session);
    let key = match TokenKey::find_by_label(Arc::clone(&session), key_label) {
        Ok(key) => key,
        Err(Error::NotFound { .. }) => {
            println!("no private key labelled {key_label:?}: made a P-256 session key pair");
            generate_p256(&session, key_label)?;
            TokenKey::find_by_label(Arc::clone(&session), key_label)?
        }
        Err(e) => return Err(e.into()),
    };
    println!("key {key_label:?}: {:?}", key.algorithm());

    let message = b"signed by a key that never leaves the token";
    match key.algorithm() {
        KeyAlgorithm::EcdsaP256 => {
            let signer = P256SigningKey::new(key)?;
            let signature: p256::ecdsa::Signature = signer.try_sign(message)?;
            report("ECDSA P-256", &signer.verifying_key(), message, &signature);
            // Clones share the session: sign from four threads at once.
            std::thread::scope(|scope| {
                for thread in 0..4 {
                    let signer = signer.clone();
                    scope.spawn(move || {
                        let text = format!("thread {thread}");
                        let signature: p256::ecdsa::Signature = signer.sign(text.as_bytes());
                        assert!(signer
                            .verifying_key()
                            .verify(text.as_bytes(), &signature)
                            .is_ok());
                    });
                }
            });
            println!("4 threads signed through one session");
        }
        KeyAlgorithm::EcdsaP384 => {
            let signer = P384SigningKey::new(key)?;
            let signature: p384::ecdsa::Signature = signer.try_sign(message)?;
            report("ECDSA P-384", &signer.verifying_key(), message, &signature);
        }
        KeyAlgorithm::Rsa { bits } => {
            let pkcs1 = RsaPkcs1v15SigningKey::<sha2::Sha256>::new(key.clone())?;
            let signature = pkcs1.try_sign(message)?;
            report(
                &format!("RSA-{bits} PKCS #1 v1.5 SHA-256"),
                &pkcs1.verifying_key(),
                message,
                &signature,
            );
            let pss = RsaPssSigningKey::<sha2::Sha256>::new(key)?;
            let signature = pss.try_sign(message)?;
            report(
                &format!("RSA-{bits} PSS SHA-256"),
                &pss.verifying_key(),
                message,
                &signature,
            );
        }
        KeyAlgorithm::Ed25519 => {
            let signer = Ed25519SigningKey::new(key)?;
            let signature = signer.try_sign(message)?;
            report("Ed25519", &signer.verifying_key(), message, &signature);
        }
        other => println!("no RustCrypto signer for {other:?}"),
    }
    Ok(())
}

/// Prints whether `signature` verifies on `message` and on another message.
fn report<S>(what: &str, verifier: &impl Verifier<S>, message: &[u8], signature: &S) {
    println!(
        "{what}: verifies: {}; on another message: {}",
        verifier.verify(message, signature).is_ok(),
        verifier.verify(b"another message", signature).is_ok()
    );
}

/// A P-256 session key pair labelled `label` (and with it as `CKA_ID`).
fn generate_p256(session: &Session, label: &str) -> pkcs11::Result<()> {
    // DER of the OID of P-256 (1.2.840.10045.3.1.7): CKA_EC_PARAMS.
    const P256: &[u8] = &[0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    let common = [
        Attribute::Token(false),
        Attribute::Label(label.to_owned()),
        Attribute::Id(label.as_bytes().to_vec()),
    ];
    let mut public = common.to_vec();
    public.extend([Attribute::EcParams(P256.to_vec()), Attribute::Verify(true)]);
    let mut private = common.to_vec();
    private.extend([
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
    ]);
    session.generate_key_pair(&Mechanism::EcKeyPairGen, &public, &private)?;
    Ok(())
}
