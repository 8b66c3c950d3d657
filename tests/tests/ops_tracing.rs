//! Call tracing (feature `tracing`): the events a subscriber sees for a login with a wrong
//! PIN, object searches, a signature and a decryption — function names, argument
//! summaries (mechanism names, attribute types), return codes — and never the PIN, key
//! values or plaintext.

use std::io::Write;
use std::sync::{Arc, Mutex};

use pkcs11::{Attribute, AttributeType, Error, Mechanism, ObjectClass, Pin, Rv, UserType};
use pkcs11_tests::modules::each_module;
use tracing_subscriber::fmt::MakeWriter;

/// A writer collecting everything the subscriber prints.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Captured {
        self.clone()
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
    fn bytes(&self) -> Vec<u8> {
        self.0.lock().unwrap().clone()
    }
}

/// Runs `f` with a TRACE subscriber for this thread; returns what it printed.
fn traced(f: impl FnOnce()) -> Captured {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(captured.clone())
        .with_ansi(false)
        .finish();
    tracing::subscriber::with_default(subscriber, f);
    captured
}

/// The tests of this file take turns: the wrong-PIN test logs the token's user out,
/// which every session of the process on that token would notice.
fn turn() -> std::sync::MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|e| e.into_inner())
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn a_wrong_pin_login_is_traced_without_the_pin() {
    let _turn = turn();
    each_module("a_wrong_pin_login_is_traced_without_the_pin", |token| {
        let wrong = "WrongPin-7Q4ZK9";
        let session = token.slot.open_ro_session().unwrap();
        // Login state is shared per token: log out first so the PIN is really checked.
        let _ = session.logout();
        let captured = traced(|| {
            let error = session
                .login(UserType::User, &Pin::from(wrong))
                .unwrap_err();
            assert_eq!(error.rv(), Some(Rv::PinIncorrect), "{error}");
        });
        let text = captured.text();
        assert!(text.contains("C_Login("), "{text}");
        assert!(text.contains("CKR_PIN_INCORRECT"), "{text}");
        assert!(text.contains("<redacted>"), "{text}");
        assert!(text.contains("pkcs11"), "{text}");
        assert!(!contains(&captured.bytes(), wrong.as_bytes()), "{text}");
        // Nor its length (the argument after the PIN pointer).
        assert!(!text.contains(&format!(", {}", wrong.len())), "{text}");
        // The right PIN is not shown either.
        let captured = traced(|| {
            session
                .ensure_logged_in(UserType::User, &Pin::from(token.user_pin))
                .unwrap();
        });
        assert!(captured.text().contains("C_Login("));
        assert!(!contains(&captured.bytes(), token.user_pin.as_bytes()));
    });
}

#[test]
fn operations_show_mechanisms_templates_and_spans_but_no_secret_bytes() {
    let _turn = turn();
    each_module("operations_show_mechanisms_templates_and_spans", |token| {
        let session = token.session();
        let key_value = *b"K3yM4t3r14l-0123456789ABCDEFGHI!"; // 32 bytes
        let plaintext = b"PlainTextSecret-XYZZY-0123456789";
        let captured = traced(|| {
            let key = session
                .create_object(&[
                    Attribute::Class(ObjectClass::SecretKey),
                    Attribute::KeyType(pkcs11::KeyType::Aes),
                    Attribute::Value(pkcs11::SecretBytes::new(key_value.to_vec())),
                    Attribute::Token(false),
                    Attribute::Encrypt(true),
                    Attribute::Decrypt(true),
                    Attribute::Label("traced-key".into()),
                ])
                .unwrap();
            let iv = [7u8; 16];
            let mechanism = Mechanism::AesCbcPad { iv };
            let ciphertext = session.encrypt(&mechanism, key, plaintext).unwrap();
            let decrypted = session.decrypt(&mechanism, key, &ciphertext).unwrap();
            assert_eq!(&decrypted[..], plaintext);
            let found = session
                .find_all(&[Attribute::Label("traced-key".into())])
                .unwrap();
            assert_eq!(found, vec![key]);
            let _ = session
                .get_attributes(key, &[AttributeType::Class, AttributeType::Value])
                .unwrap();
            session.destroy_object(key).unwrap();
        });
        let text = captured.text();
        for expected in [
            "C_CreateObject(",
            "CKA_CLASS",
            "CKA_VALUE",
            "C_EncryptInit(",
            "CKM_AES_CBC_PAD(param 16 bytes)",
            "C_Decrypt(",
            "C_FindObjectsInit(",
            "[CKA_LABEL]",
            "C_GetAttributeValue(",
            "operation{kind=\"an encryption\"",
            "CKR_OK",
        ] {
            assert!(text.contains(expected), "{expected} missing from:\n{text}");
        }
        let bytes = captured.bytes();
        assert!(!contains(&bytes, &key_value), "key bytes traced:\n{text}");
        assert!(!contains(&bytes, plaintext), "plaintext traced:\n{text}");
    });
}

#[test]
fn without_a_subscriber_nothing_is_recorded_and_calls_work() {
    let _turn = turn();
    each_module("without_a_subscriber", |token| {
        let session = token.session();
        // No subscriber: the calls work and produce nothing (there is nowhere to put it);
        // a subscriber that only wants INFO sees no call events.
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::INFO)
            .with_writer(captured.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            assert_eq!(session.generate_random(8).unwrap().len(), 8);
        });
        assert!(captured.text().is_empty(), "{}", captured.text());
        let error = session
            .digest(&Mechanism::plain(0x8000_7777), b"x")
            .unwrap_err();
        assert!(matches!(error, Error::Module { .. }), "{error:?}");
    });
}
