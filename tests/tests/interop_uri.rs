//! PKCS #11 URIs (RFC 7512) against an independent implementation: GnuTLS's `p11tool`
//! (Debian `gnutls-bin`) run as a child process on the harness's SoftHSM token.
//!
//! - every `URL: pkcs11:...` that `p11tool --list-tokens` / `--list-all` prints parses,
//!   and resolves through this crate to the same token (label, serial) or to exactly the
//!   same object (label, ID, class as p11tool shows them);
//! - the URIs this crate makes (`for_token`, `for_object`) select, in p11tool, exactly
//!   that token's objects / that object;
//! - a URI with `module-path` and `pin-value` (or `module-name`) opens the module and
//!   logs in; on both modules, `for_object` URIs resolve back to their object;
//! - the `find_by_uri` example lists an object by URI.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Mutex, MutexGuard};

use pkcs11::{
    Attribute, AttributeType, Error, KeyType, ModuleLocator, ObjectClass, ObjectHandle, Pin,
    Pkcs11, Pkcs11Uri, Rv, SecretBytes, Session, UriObjectType,
};
use pkcs11_tests::modules::{each_module, token, Module, TestToken};
use pkcs11_tests::{shared_softhsm_token, softhsm_module, TempDir};

/// The harness's label for its tokens (tests/src/modules.rs): the SoftHSM token this
/// process shares with the harness is the one `shared_softhsm_token` created.
const HARNESS_LABEL: &str = "pkcs11-rs-ops";

/// Serializes the SoftHSM tests of this binary: they list every object of the token and
/// log out and in, which the others must not see half done.
fn softhsm_turn() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The SoftHSM test token, initialized (and its configuration exported) by the harness.
fn softhsm() -> &'static TestToken {
    let token = token(Module::SoftHsm);
    assert_eq!(token.label, HARNESS_LABEL);
    token
}

/// Runs a GnuTLS tool on the SoftHSM token; returns stdout, panics with the output on
/// failure unless `may_fail`.
fn run_tool(tool: &str, args: &[&str], may_fail: bool) -> (bool, String, String) {
    let conf = shared_softhsm_token(HARNESS_LABEL).conf();
    let mut command = Command::new(tool);
    if tool == "p11tool" {
        command.arg("--provider").arg(softhsm_module());
    }
    let output = command
        .args(args)
        .env("SOFTHSM2_CONF", conf)
        .env("GNUTLS_PIN", softhsm().user_pin)
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {tool} ({e}): run `cargo xtask test`, or \
                 `apt-get install gnutls-bin`"
            )
        });
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(
        may_fail || output.status.success(),
        "{tool} {args:?} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    (output.status.success(), stdout, stderr)
}

fn p11tool(args: &[&str]) -> String {
    run_tool("p11tool", args, false).1
}

/// One `Token N:` or `Object N:` block of p11tool's listing: its `Key: value` lines.
#[derive(Debug)]
struct Block {
    fields: BTreeMap<String, String>,
}

impl Block {
    fn get(&self, key: &str) -> &str {
        self.fields
            .get(key)
            .unwrap_or_else(|| panic!("p11tool printed no {key}: in {self:?}"))
    }

    fn url(&self) -> &str {
        self.get("URL")
    }

    /// The `ID:` line (`01:02:ff`) as bytes (empty for an empty or absent ID).
    fn id(&self) -> Vec<u8> {
        let Some(text) = self.fields.get("ID").filter(|t| !t.is_empty()) else {
            return Vec::new();
        };
        text.split(':')
            .map(|b| u8::from_str_radix(b, 16).unwrap_or_else(|_| panic!("ID {text:?}")))
            .collect()
    }

    /// The `Type:` line as a URI type (`Private key (EC/ECDSA)` is `private`).
    fn object_type(&self) -> UriObjectType {
        let text = self.get("Type");
        [
            ("Private key", UriObjectType::Private),
            ("Public key", UriObjectType::Public),
            ("X.509 Certificate", UriObjectType::Cert),
            ("Secret key", UriObjectType::SecretKey),
            ("Data", UriObjectType::Data),
        ]
        .into_iter()
        .find(|(prefix, _)| text.starts_with(prefix))
        .unwrap_or_else(|| panic!("unknown p11tool type {text:?}"))
        .1
    }
}

/// Splits p11tool's listing into its blocks.
fn blocks(listing: &str) -> Vec<Block> {
    let mut out: Vec<Block> = Vec::new();
    for line in listing.lines() {
        if !line.starts_with('\t') && (line.starts_with("Object ") || line.starts_with("Token ")) {
            out.push(Block {
                fields: BTreeMap::new(),
            });
        } else if let (Some(block), Some((key, value))) =
            (out.last_mut(), line.trim_start().split_once(": "))
        {
            block
                .fields
                .entry(key.to_owned())
                .or_insert_with(|| value.to_owned());
        }
    }
    out
}

/// Label, ID (data objects have none) and class of `object`, read through this crate.
fn describe(session: &Session, object: ObjectHandle) -> (String, Option<Vec<u8>>, UriObjectType) {
    let values = session
        .get_attributes(
            object,
            &[
                AttributeType::Label,
                AttributeType::Id,
                AttributeType::Class,
            ],
        )
        .expect("C_GetAttributeValue");
    let label = values[0]
        .value()
        .and_then(Attribute::as_str)
        .expect("a text label");
    let id = values[1]
        .value()
        .and_then(Attribute::as_bytes)
        .map(<[u8]>::to_vec);
    let class = values[2]
        .value()
        .and_then(Attribute::as_ulong)
        .expect("a class");
    (
        label.to_owned(),
        id,
        UriObjectType::from_class(class).expect("a URI type"),
    )
}

/// Objects of every URI type on the SoftHSM token, labels and IDs full of characters
/// that need percent-encoding; some made by p11tool, some by this crate. Returns the
/// labels. Made once per process.
fn populate(token: &'static TestToken) -> &'static [String] {
    static LABELS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    LABELS.get_or_init(|| {
        let token_uri = Pkcs11Uri::for_token(&token.slot).unwrap().to_string();
        let dir = TempDir::new("interop-uri");
        // A key pair generated by p11tool (private and public key).
        let pair = "uri pair \u{e9};&?/%=#";
        p11tool(&[
            "--login",
            "--generate-privkey",
            "ECDSA",
            "--curve",
            "secp256r1",
            "--label",
            pair,
            "--id",
            "00a1b2ff",
            &token_uri,
        ]);
        // A certificate made by certtool and written by p11tool.
        let key = dir.path().join("key.pem");
        let template = dir.path().join("template.cfg");
        let cert = dir.path().join("cert.pem");
        std::fs::write(&template, "cn = \"uri test\"\nexpiration_days = 2\n").unwrap();
        let path = |p: &Path| p.to_str().unwrap().to_owned();
        run_tool(
            "certtool",
            &[
                "--generate-privkey",
                "--key-type=ecdsa",
                "--outfile",
                &path(&key),
            ],
            false,
        );
        run_tool(
            "certtool",
            &[
                "--generate-self-signed",
                "--load-privkey",
                &path(&key),
                "--template",
                &path(&template),
                "--outfile",
                &path(&cert),
            ],
            false,
        );
        let cert_label = "uri cert [x] a/b";
        p11tool(&[
            "--login",
            "--write",
            "--load-certificate",
            &path(&cert),
            "--label",
            cert_label,
            "--id",
            "0c",
            &token_uri,
        ]);
        // A secret key and a data object made by this crate.
        let session = token.session();
        let secret = "uri secret 100% \u{1F511}";
        session
            .create_object(&[
                Attribute::Class(ObjectClass::SecretKey),
                Attribute::KeyType(KeyType::Aes),
                Attribute::Token(true),
                Attribute::Private(true),
                Attribute::Label(secret.into()),
                Attribute::Id(vec![0, b'%', b';', 0xff]),
                Attribute::Value(SecretBytes::new(vec![7; 16])),
            ])
            .expect("create the AES key");
        let data = "uri data |&;";
        session
            .create_object(&[
                Attribute::Class(ObjectClass::Data),
                Attribute::Token(true),
                Attribute::Private(false),
                Attribute::Label(data.into()),
                Attribute::Application("pkcs11-rs".into()),
                Attribute::Value(SecretBytes::new(b"hello".to_vec())),
            ])
            .expect("create the data object");
        vec![
            pair.to_owned(),
            cert_label.to_owned(),
            secret.to_owned(),
            data.to_owned(),
        ]
    })
}

#[test]
fn p11tool_token_urls_resolve_to_the_same_token() {
    let _turn = softhsm_turn();
    let token = softhsm();
    let listing = p11tool(&["--list-tokens"]);
    let tokens = blocks(&listing);
    assert!(!tokens.is_empty(), "{listing}");
    let mut ours = 0;
    for block in &tokens {
        let uri = Pkcs11Uri::parse(block.url())
            .unwrap_or_else(|e| panic!("p11tool's {} does not parse: {e}", block.url()));
        let slot = token
            .pkcs11
            .token_by_uri(&uri)
            .unwrap_or_else(|e| panic!("{} resolves to no single token: {e}", block.url()));
        let info = slot.token_info().unwrap();
        assert_eq!(info.label().as_str(), block.get("Label"), "{}", block.url());
        assert_eq!(
            info.serial_number().as_str(),
            block.get("Serial"),
            "{}",
            block.url()
        );
        assert_eq!(info.model().as_str(), block.get("Model"));
        assert_eq!(info.manufacturer().as_str(), block.get("Manufacturer"));
        if info.label().as_str() == HARNESS_LABEL {
            assert_eq!(slot.id(), token.slot.id());
            // Ours is the same token, written the same way.
            let mine = Pkcs11Uri::for_token(&token.slot).unwrap();
            assert_eq!(mine, uri);
            ours += 1;
        }
    }
    assert_eq!(ours, 1, "p11tool lists the harness token once:\n{listing}");
}

#[test]
fn p11tool_object_urls_resolve_to_the_same_objects() {
    let _turn = softhsm_turn();
    let token = softhsm();
    let labels = populate(token);
    let session = token.session();
    let token_uri = Pkcs11Uri::for_token(&token.slot).unwrap().to_string();
    let listing = p11tool(&["--login", "--list-all", &token_uri]);
    let objects = blocks(&listing);
    let mut seen = Vec::new();
    let mut types = Vec::new();
    for block in &objects {
        let url = block.url();
        let uri =
            Pkcs11Uri::parse(url).unwrap_or_else(|e| panic!("p11tool's {url} does not parse: {e}"));
        assert_eq!(
            token.pkcs11.token_by_uri(&uri).unwrap().id(),
            token.slot.id()
        );
        let found = session.find_by_uri(&uri).unwrap();
        assert_eq!(found.len(), 1, "{url} names {} objects", found.len());
        let (label, id, class) = describe(&session, found[0]);
        // What p11tool shows of the object is what this crate reads from it.
        assert_eq!(label, block.get("Label"), "{url}");
        assert_eq!(Some(label.as_str()), uri.object(), "{url}");
        assert_eq!(id.clone().unwrap_or_default(), block.id(), "{url}");
        assert_eq!(
            id.as_deref().filter(|id| !id.is_empty()),
            uri.id().filter(|id| !id.is_empty()),
            "{url}"
        );
        assert_eq!(class, block.object_type(), "{url}");
        assert_eq!(Some(class), uri.object_type(), "{url}");
        seen.push(label);
        types.push(class);
    }
    for label in labels {
        assert!(
            seen.contains(label),
            "p11tool did not list {label:?}:\n{listing}"
        );
    }
    for t in [
        UriObjectType::Private,
        UriObjectType::Public,
        UriObjectType::Cert,
        UriObjectType::SecretKey,
        UriObjectType::Data,
    ] {
        assert!(types.contains(&t), "no {t} object in:\n{listing}");
    }
}

#[test]
fn our_uris_select_the_same_objects_in_p11tool() {
    let _turn = softhsm_turn();
    let token = softhsm();
    let labels = populate(token);
    let session = token.session();
    let mut checked = 0;
    for handle in session.find_all(&[]).unwrap() {
        let (label, id, class) = describe(&session, handle);
        if !labels.contains(&label) {
            continue;
        }
        let uri = Pkcs11Uri::for_object(&session, handle).unwrap();
        assert_eq!(session.find_by_uri(&uri).unwrap(), [handle], "{uri}");
        let text = uri.to_string();
        let listing = p11tool(&["--login", "--list-all", &text]);
        let listed = blocks(&listing);
        assert_eq!(listed.len(), 1, "p11tool lists for {text}:\n{listing}");
        assert_eq!(listed[0].get("Label"), label, "{text}");
        assert_eq!(listed[0].object_type(), class, "{text}");
        assert_eq!(listed[0].id(), id.clone().unwrap_or_default(), "{text}");
        assert_eq!(Pkcs11Uri::parse(listed[0].url()).unwrap(), uri, "{text}");
        checked += 1;
    }
    // The key pair is two objects.
    assert_eq!(checked, labels.len() + 1);

    // The token's URI lists its objects; one with another serial number lists none.
    let token_uri = Pkcs11Uri::for_token(&token.slot).unwrap();
    let all = p11tool(&["--login", "--list-all", &token_uri.to_string()]);
    for label in labels {
        assert!(all.contains(&format!("Label: {label}\n")), "{all}");
    }
    let elsewhere = token_uri.with_serial("0000000000000000").to_string();
    let (_, stdout, _) = run_tool("p11tool", &["--login", "--list-all", &elsewhere], true);
    assert!(blocks(&stdout).is_empty(), "{elsewhere} lists:\n{stdout}");
}

#[test]
fn a_uri_with_module_path_and_pin_value_logs_in() {
    let _turn = softhsm_turn();
    let token = softhsm();
    let labels = populate(token);
    let module = softhsm_module();
    let base = Pkcs11Uri::for_token(&token.slot)
        .unwrap()
        .with_module_path(module.to_str().unwrap())
        .with_object(labels[2].clone())
        .with_object_type(UriObjectType::SecretKey);
    let p11 = Pkcs11::open_uri(&base).unwrap();
    assert!(p11.same_module(&token.pkcs11));
    let slot = p11.token_by_uri(&base).unwrap();
    assert_eq!(slot.id(), token.slot.id());
    let session = slot.open_ro_session().unwrap();
    // Login state is the application's: start logged out.
    match session.logout() {
        Ok(())
        | Err(Error::Module {
            rv: Rv::UserNotLoggedIn,
            ..
        }) => {}
        Err(other) => panic!("C_Logout: {other}"),
    }
    assert!(
        session.find_by_uri(&base).unwrap().is_empty(),
        "private before login"
    );
    assert!(!session.login_with_uri(&base).unwrap(), "no PIN, no login");

    let wrong = base.clone().with_pin_value(Pin::from("not-the-pin"));
    let error = session.login_with_uri(&wrong).unwrap_err();
    assert_eq!(error.rv(), Some(Rv::PinIncorrect), "{error}");
    assert!(!error.to_string().contains("not-the-pin"));

    // The URI as a user would write it: parsed from text with the PIN in it.
    let text = base
        .clone()
        .with_pin_value(Pin::from(token.user_pin))
        .to_string_with_pin();
    assert!(
        text.contains("&pin-value=user-pin-1234"),
        "{}",
        text.as_str()
    );
    let uri: Pkcs11Uri = text.parse().unwrap();
    assert!(!format!("{uri} {uri:?}").contains(token.user_pin));
    assert!(session.login_with_uri(&uri).unwrap());
    let found = session.find_by_uri(&uri).unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(describe(&session, found[0]).0, labels[2]);

    // The same through a pin-source file.
    session.logout().unwrap();
    let dir = TempDir::new("uri-pin");
    let pin_file = dir.path().join("pin");
    std::fs::write(&pin_file, format!("{}\n", token.user_pin)).unwrap();
    let uri = base
        .clone()
        .with_pin_source(format!("file:{}", pin_file.display()));
    assert!(session.login_with_uri(&uri).unwrap());
    assert_eq!(session.find_by_uri(&uri).unwrap().len(), 1);
    // Leave the shared login state as the harness expects it.
    drop(token.session());
}

#[test]
fn module_name_is_looked_up_like_p11kit() {
    let token = softhsm();
    let dir = TempDir::new("uri-modules");
    std::fs::write(
        dir.path().join("softhsm-under-test.module"),
        format!("module: {}\n", softhsm_module().display()),
    )
    .unwrap();
    let locator = ModuleLocator::new([dir.path().to_path_buf()], []);
    let uri: Pkcs11Uri = format!("pkcs11:token={HARNESS_LABEL}?module-name=softhsm-under-test")
        .parse()
        .unwrap();
    let p11 = Pkcs11::open_uri_with(&uri, &locator).unwrap();
    assert!(p11.same_module(&token.pkcs11));
    assert_eq!(p11.token_by_uri(&uri).unwrap().id(), token.slot.id());
    // Without a module the URI cannot be opened; a missing name says where it looked.
    let error = Pkcs11::open_uri(&Pkcs11Uri::new()).unwrap_err();
    assert!(matches!(error, Error::InvalidInput { .. }), "{error}");
    let error = Pkcs11::open_uri_with(
        &Pkcs11Uri::new().with_module_name("no-such-module"),
        &locator,
    )
    .unwrap_err();
    assert!(matches!(error, Error::NotFound { .. }), "{error}");
}

#[test]
fn our_uris_resolve_back_on_every_module() {
    each_module("our_uris_resolve_back_on_every_module", |token| {
        let _turn = (token.module == Module::SoftHsm).then(softhsm_turn);
        let session = token.session();
        let label = format!("uri round trip {} ;&?%/", token.module.name());
        let object = session
            .create_object(&[
                Attribute::Class(ObjectClass::SecretKey),
                Attribute::KeyType(KeyType::Aes),
                Attribute::Token(false),
                Attribute::Label(label.clone()),
                Attribute::Id(vec![0x25, 0, 0x3b, 0xfe]),
                Attribute::Value(SecretBytes::new(vec![1; 32])),
            ])
            .expect("create an AES key");
        let uri = Pkcs11Uri::for_object(&session, object).unwrap();
        assert_eq!(uri.object(), Some(label.as_str()));
        assert_eq!(uri.id(), Some(&[0x25, 0, 0x3b, 0xfe][..]));
        assert_eq!(uri.object_type(), Some(UriObjectType::SecretKey));
        // Through text and back.
        let uri: Pkcs11Uri = uri.to_string().parse().unwrap();
        assert_eq!(session.find_by_uri(&uri).unwrap(), [object], "{uri}");
        assert_eq!(
            token.pkcs11.token_by_uri(&uri).unwrap().id(),
            token.slot.id()
        );
        // The library's URI matches this module, and narrows nothing away.
        let library = Pkcs11Uri::for_library(&token.pkcs11).unwrap();
        let mut both = library.clone();
        both.set_object(uri.object().map(str::to_owned));
        assert_eq!(session.find_by_uri(&both).unwrap(), [object], "{both}");
        assert!(Pkcs11::open_uri(&library)
            .unwrap()
            .same_module(&token.pkcs11));
        // A URI naming another token, library version or slot finds nothing.
        let other_token = uri.clone().with_token("another token");
        assert!(session.find_by_uri(&other_token).unwrap().is_empty());
        assert!(token
            .pkcs11
            .tokens_matching(&other_token)
            .unwrap()
            .is_empty());
        let other_version = library.with_library_version(pkcs11::Version {
            major: 250,
            minor: 1,
        });
        assert!(token
            .pkcs11
            .slots_matching(&other_version)
            .unwrap()
            .is_empty());
        let slot_uri = Pkcs11Uri::new().with_slot_id(token.slot.id());
        let slots = token.pkcs11.slots_matching(&slot_uri).unwrap();
        assert_eq!(slots.len(), 1);
        assert_eq!(slots[0].id(), token.slot.id());
        session.destroy_object(object).unwrap();
        assert!(session.find_by_uri(&uri).unwrap().is_empty());
    });
}

#[test]
fn the_find_by_uri_example_lists_an_object() {
    let _turn = softhsm_turn();
    let token = softhsm();
    let labels = populate(token);
    let uri = Pkcs11Uri::for_token(&token.slot)
        .unwrap()
        .with_object(labels[0].clone())
        .with_object_type(UriObjectType::Private)
        .with_module_path(softhsm_module().to_str().unwrap())
        .with_pin_value(Pin::from(token.user_pin));
    let output = Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--package",
            "pkcs11",
            "--example",
            "find_by_uri",
            "--",
        ])
        .arg(uri.to_string_with_pin().as_str())
        .env("SOFTHSM2_CONF", shared_softhsm_token(HARNESS_LABEL).conf())
        .output()
        .expect("run cargo");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains("logged in with the URI's PIN"), "{stdout}");
    assert!(stdout.ends_with("1 objects\n"), "{stdout}");
    assert!(
        !stdout.contains(token.user_pin),
        "the PIN is printed:\n{stdout}"
    );
    let line = stdout
        .lines()
        .find_map(|l| l.strip_prefix("object: "))
        .expect("an object line");
    let printed = Pkcs11Uri::parse(line).unwrap();
    assert_eq!(printed.object(), Some(labels[0].as_str()));
    assert_eq!(printed.object_type(), Some(UriObjectType::Private));

    // A malformed URI is refused with its position.
    let output = Command::new(env!("CARGO"))
        .args([
            "run",
            "--quiet",
            "--package",
            "pkcs11",
            "--example",
            "find_by_uri",
            "--",
        ])
        .arg("pkcs11:token=two words")
        .output()
        .expect("run cargo");
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("character ' ' at offset 16 (in `token`)"),
        "{stderr}"
    );
}
