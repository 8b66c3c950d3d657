//! Unit tests of the URI parser and printer: the RFC 7512 examples (section 3.3), the
//! errors for malformed input, PIN redaction, module lookup, and a round-trip property.

use proptest::prelude::*;

use super::*;
use crate::attribute::ObjectClass;

/// Every example URI of RFC 7512 section 3.3, joined onto one line (the RFC wraps the
/// long ones for display only), with the value each must parse to.
fn rfc_examples() -> Vec<(&'static str, Pkcs11Uri)> {
    vec![
        ("pkcs11:", Pkcs11Uri::new()),
        (
            "pkcs11:object=my-pubkey;type=public",
            Pkcs11Uri::new()
                .with_object("my-pubkey")
                .with_object_type(UriObjectType::Public),
        ),
        (
            "pkcs11:object=my-key;type=private?pin-source=file:/etc/token",
            Pkcs11Uri::new()
                .with_object("my-key")
                .with_object_type(UriObjectType::Private)
                .with_pin_source("file:/etc/token"),
        ),
        (
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;\
             manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;\
             type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=\
             ?pin-source=file:/etc/token_pin",
            Pkcs11Uri::new()
                .with_token("The Software PKCS#11 Softtoken")
                .with_manufacturer("Snake Oil, Inc.")
                .with_model("1.0")
                .with_object("my-certificate")
                .with_object_type(UriObjectType::Cert)
                .with_id([0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91])
                .with_serial("")
                .with_pin_source("file:/etc/token_pin"),
        ),
        (
            "pkcs11:object=my-sign-key;type=private?module-name=mypkcs11",
            Pkcs11Uri::new()
                .with_object("my-sign-key")
                .with_object_type(UriObjectType::Private)
                .with_module_name("mypkcs11"),
        ),
        (
            "pkcs11:object=my-sign-key;type=private?module-path=/mnt/libmypkcs11.so.1",
            Pkcs11Uri::new()
                .with_object("my-sign-key")
                .with_object_type(UriObjectType::Private)
                .with_module_path("/mnt/libmypkcs11.so.1"),
        ),
        (
            "pkcs11:token=Software%20PKCS%2311%20softtoken;\
             manufacturer=Snake%20Oil,%20Inc.?pin-value=the-pin",
            Pkcs11Uri::new()
                .with_token("Software PKCS#11 softtoken")
                .with_manufacturer("Snake Oil, Inc.")
                .with_pin_value(Pin::from("the-pin")),
        ),
        (
            "pkcs11:slot-description=Sun%20Metaslot",
            Pkcs11Uri::new().with_slot_description("Sun Metaslot"),
        ),
        (
            "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;\
             library-description=Soft%20Token%20Library;library-version=1.23",
            Pkcs11Uri::new()
                .with_library_manufacturer("Snake Oil, Inc.")
                .with_library_description("Soft Token Library")
                .with_library_version(Version {
                    major: 1,
                    minor: 23,
                }),
        ),
        (
            "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;\
             id=%01%02%03%Ba%dd%Ca%fe%04%05%06",
            Pkcs11Uri::new()
                .with_token("My token% created by Joe")
                .with_library_version(Version { major: 3, minor: 0 })
                .with_id([1, 2, 3, 0xba, 0xdd, 0xca, 0xfe, 4, 5, 6]),
        ),
        (
            "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;\
             object=my-certificate;type=cert",
            Pkcs11Uri::new()
                .with_token("A name with a substring %;")
                .with_object("my-certificate")
                .with_object_type(UriObjectType::Cert),
        ),
        (
            "pkcs11:token=Name%20with%20a%20small%20A%20with%20acute:%20%C3%A1;\
             object=my-certificate;type=cert",
            Pkcs11Uri::new()
                .with_token("Name with a small A with acute: \u{e1}")
                .with_object("my-certificate")
                .with_object_type(UriObjectType::Cert),
        ),
        (
            "pkcs11:token=my-token;object=my-certificate;type=cert;vendor-aaa=value-a\
             ?pin-source=file:/etc/token_pin&vendor-bbb=value-b",
            Pkcs11Uri::new()
                .with_token("my-token")
                .with_object("my-certificate")
                .with_object_type(UriObjectType::Cert)
                .with_vendor_attribute(UriComponent::Path, "vendor-aaa", "value-a")
                .unwrap()
                .with_pin_source("file:/etc/token_pin")
                .with_vendor_attribute(UriComponent::Query, "vendor-bbb", "value-b")
                .unwrap(),
        ),
    ]
}

#[test]
fn rfc_examples_parse_to_their_meaning() {
    for (text, expected) in rfc_examples() {
        let uri = Pkcs11Uri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(uri, expected, "{text}");
    }
}

#[test]
fn rfc_examples_print_canonically_and_round_trip() {
    for (text, _) in rfc_examples() {
        let uri = Pkcs11Uri::parse(text).unwrap();
        let printed = uri.to_string_with_pin().to_string();
        let again = Pkcs11Uri::parse(&printed).unwrap_or_else(|e| panic!("{printed}: {e}"));
        assert_eq!(again, uri, "{text} printed as {printed}");
        assert_eq!(
            again.to_string_with_pin().to_string(),
            printed,
            "canonical form is stable"
        );
    }
}

#[test]
fn canonical_form_of_rfc_examples() {
    // Fixed attribute order, upper-case hex, `id` entirely encoded, `;` and `%` and
    // space encoded, `,` `:` and `/` (in the query) left as they are.
    let cases = [
        (
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;\
             manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;\
             type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=\
             ?pin-source=file:/etc/token_pin",
            "pkcs11:token=The%20Software%20PKCS%2311%20Softtoken;\
             manufacturer=Snake%20Oil,%20Inc.;serial=;model=1.0;object=my-certificate;\
             id=%69%95%3E%5C%F4%BD%EC%91;type=cert?pin-source=file:/etc/token_pin",
        ),
        (
            "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;\
             id=%01%02%03%Ba%dd%Ca%fe%04%05%06",
            "pkcs11:token=My%20token%25%20created%20by%20Joe;library-version=3;\
             id=%01%02%03%BA%DD%CA%FE%04%05%06",
        ),
        (
            "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;\
             object=my-certificate;type=cert",
            "pkcs11:token=A%20name%20with%20a%20substring%20%25%3B;\
             object=my-certificate;type=cert",
        ),
        (
            "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;\
             library-description=Soft%20Token%20Library;library-version=1.23",
            "pkcs11:library-manufacturer=Snake%20Oil,%20Inc.;\
             library-description=Soft%20Token%20Library;library-version=1.23",
        ),
        ("pkcs11:", "pkcs11:"),
        ("PKCS11:TOKEN=a;Type=PRIVATE", "pkcs11:token=a;type=private"),
        ("pkcs11:library-version=3.0", "pkcs11:library-version=3"),
        (
            "pkcs11:library-version=003.007",
            "pkcs11:library-version=3.7",
        ),
        ("pkcs11:?", "pkcs11:"),
        ("pkcs11:slot-id=0042", "pkcs11:slot-id=42"),
        // The unescaped reserved characters each component allows stay unescaped.
        (
            "pkcs11:object=a:b[c]@!$'()*+,=&d?module-path=/x/y?z|w:@",
            "pkcs11:object=a:b[c]@!$'()*+,=&d?module-path=/x/y?z|w:@",
        ),
        // Escaped unreserved characters are printed plainly.
        ("pkcs11:object=%41%2d%7e", "pkcs11:object=A-~"),
    ];
    for (text, canonical) in cases {
        let uri = Pkcs11Uri::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(uri.to_string_with_pin().to_string(), canonical, "{text}");
    }
}

#[test]
fn pin_value_is_never_shown_unless_asked() {
    let uri = Pkcs11Uri::parse("pkcs11:token=t?pin-value=s%65cret&pin-source=file:/p").unwrap();
    assert_eq!(uri.pin_value().map(Pin::bytes), Some(&b"secret"[..]));
    let shown = [
        uri.to_string(),
        format!("{uri}"),
        format!("{uri:?}"),
        format!("{uri:#?}"),
    ];
    for text in &shown {
        assert!(!text.contains("secret"), "{text}");
        assert!(!text.contains("s%65cret"), "{text}");
        assert!(!text.contains("pin-value"), "{text}");
    }
    assert_eq!(uri.to_string(), "pkcs11:token=t?pin-source=file:/p");
    assert!(format!("{uri:?}").contains("<redacted>"));
    assert_eq!(
        uri.to_string_with_pin().to_string(),
        "pkcs11:token=t?pin-source=file:/p&pin-value=secret"
    );
    // Nor in errors about the PIN: the offending character is withheld.
    let error = Pkcs11Uri::parse("pkcs11:?pin-value=abc#def").unwrap_err();
    assert_eq!(error.kind(), &UriErrorKind::InvalidCharacter(None));
    assert_eq!(error.offset(), 21);
    // ("PKCS #11" has a '#' of its own: look for the character as it would be shown.)
    assert!(!error.to_string().contains("'#'"), "{error}");
    assert!(!error.to_string().contains("%23"), "{error}");
    assert!(!error.to_string().contains("abc"), "{error}");
}

/// `(input, offset, attribute, kind)` of malformed URIs.
#[test]
fn malformed_uris_name_the_character_offset_and_attribute() {
    use UriErrorKind as K;
    let cases: Vec<(&str, usize, Option<&str>, UriErrorKind)> = vec![
        ("", 0, None, K::NotPkcs11),
        ("pkcs1:token=a", 0, None, K::NotPkcs11),
        ("file:/etc/token", 0, None, K::NotPkcs11),
        (
            "pkcs11:token=My token",
            15,
            Some("token"),
            K::InvalidCharacter(Some(' ')),
        ),
        (
            "pkcs11:object=a/b",
            15,
            Some("object"),
            K::InvalidCharacter(Some('/')),
        ),
        (
            "pkcs11:object=a|b",
            15,
            Some("object"),
            K::InvalidCharacter(Some('|')),
        ),
        (
            "pkcs11:object=ab#frag",
            16,
            Some("object"),
            K::InvalidCharacter(Some('#')),
        ),
        (
            "pkcs11:object=\u{e1}",
            14,
            Some("object"),
            K::InvalidCharacter(Some('\u{e1}')),
        ),
        ("pkcs11:?module-path=/a&b", 23, Some("b"), K::MissingEquals),
        (
            "pkcs11:?pin-source=a;b",
            20,
            Some("pin-source"),
            K::InvalidCharacter(Some(';')),
        ),
        ("pkcs11:id=%0", 10, Some("id"), K::InvalidPercentEncoding),
        ("pkcs11:id=%zz", 10, Some("id"), K::InvalidPercentEncoding),
        (
            "pkcs11:token=a;id=%1%22",
            18,
            Some("id"),
            K::InvalidPercentEncoding,
        ),
        ("pkcs11:token=%FF%FE", 13, Some("token"), K::NotUtf8),
        ("pkcs11:token=a;;object=b", 15, None, K::EmptyAttribute),
        ("pkcs11:token=a;", 15, None, K::EmptyAttribute),
        ("pkcs11:;", 7, None, K::EmptyAttribute),
        ("pkcs11:?a=b&", 12, None, K::EmptyAttribute),
        ("pkcs11:token", 7, Some("token"), K::MissingEquals),
        ("pkcs11:=x", 7, None, K::EmptyName),
        ("pkcs11:to.ken=x", 9, None, K::InvalidNameCharacter('.')),
        (
            "pkcs11:token=a;token=b",
            15,
            Some("token"),
            K::Duplicate { first: 7 },
        ),
        (
            "pkcs11:token=a;TOKEN=b",
            15,
            Some("TOKEN"),
            K::Duplicate { first: 7 },
        ),
        (
            "pkcs11:x-a=1;x-a=2",
            13,
            Some("x-a"),
            K::Duplicate { first: 7 },
        ),
        (
            "pkcs11:?pin-value=1&pin-value=2",
            20,
            Some("pin-value"),
            K::Duplicate { first: 8 },
        ),
        (
            "pkcs11:pin-value=1234",
            7,
            Some("pin-value"),
            K::WrongComponent {
                belongs_in: UriComponent::Query,
            },
        ),
        (
            "pkcs11:?token=a",
            8,
            Some("token"),
            K::WrongComponent {
                belongs_in: UriComponent::Path,
            },
        ),
        (
            "pkcs11:type=key",
            12,
            Some("type"),
            K::InvalidValue {
                expected: TYPE_FORM,
            },
        ),
        (
            "pkcs11:type=",
            12,
            Some("type"),
            K::InvalidValue {
                expected: TYPE_FORM,
            },
        ),
        (
            "pkcs11:slot-id=",
            15,
            Some("slot-id"),
            K::InvalidValue {
                expected: SLOT_ID_FORM,
            },
        ),
        (
            "pkcs11:slot-id=1a",
            16,
            Some("slot-id"),
            K::InvalidValue {
                expected: SLOT_ID_FORM,
            },
        ),
        (
            "pkcs11:slot-id=-1",
            15,
            Some("slot-id"),
            K::InvalidValue {
                expected: SLOT_ID_FORM,
            },
        ),
        (
            "pkcs11:slot-id=18446744073709551616",
            15,
            Some("slot-id"),
            K::InvalidValue {
                expected: SLOT_ID_FORM,
            },
        ),
        (
            "pkcs11:library-version=1.",
            25,
            Some("library-version"),
            K::InvalidValue {
                expected: VERSION_FORM,
            },
        ),
        (
            "pkcs11:library-version=.1",
            23,
            Some("library-version"),
            K::InvalidValue {
                expected: VERSION_FORM,
            },
        ),
        (
            "pkcs11:library-version=1.2.3",
            26,
            Some("library-version"),
            K::InvalidValue {
                expected: VERSION_FORM,
            },
        ),
        (
            "pkcs11:library-version=256",
            23,
            Some("library-version"),
            K::InvalidValue {
                expected: VERSION_FORM,
            },
        ),
        (
            "pkcs11:library-version=%31",
            23,
            Some("library-version"),
            K::InvalidValue {
                expected: VERSION_FORM,
            },
        ),
    ];
    for (text, offset, attribute, kind) in cases {
        let error = Pkcs11Uri::parse(text).expect_err(text);
        assert_eq!(
            (error.offset(), error.attribute(), error.kind()),
            (offset, attribute, &kind),
            "{text}: {error}"
        );
    }
}

#[test]
fn error_messages_read_well() {
    let error = Pkcs11Uri::parse("pkcs11:token=My token").unwrap_err();
    assert_eq!(
        error.to_string(),
        "PKCS #11 URI: character ' ' at offset 15 (in `token`) may not appear unescaped; \
         percent-encode it as %20"
    );
    let error = Pkcs11Uri::parse("pkcs11:object=\u{e1}").unwrap_err();
    assert!(error.to_string().ends_with("as %C3%A1"), "{error}");
    let error = Pkcs11Uri::parse("pkcs11:token=a;token=b").unwrap_err();
    assert_eq!(
        error.to_string(),
        "PKCS #11 URI: attribute at offset 15 (in `token`) was already given at offset 7"
    );
    let error: Error = Pkcs11Uri::parse("pkcs11:slot-id=x").unwrap_err().into();
    match error {
        Error::InvalidInput { what } => {
            assert!(
                what.contains("offset 15") && what.contains("slot-id"),
                "{what}"
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn values_and_vendor_attributes() {
    let uri = Pkcs11Uri::parse(
        "pkcs11:x-b=%00%FF;x-a=1;slot-id=18446744073709551615?x-q=1&x-q=2&X-Q=%2F",
    )
    .unwrap();
    assert_eq!(uri.slot_id(), Some(u64::MAX));
    let path: Vec<_> = uri.vendor_path_attributes().collect();
    assert_eq!(path, [("x-b", &[0u8, 0xff][..]), ("x-a", &b"1"[..])]);
    let query: Vec<_> = uri.vendor_query_attributes().collect();
    assert_eq!(
        query,
        [("x-q", &b"1"[..]), ("x-q", &b"2"[..]), ("X-Q", &b"/"[..])]
    );
    // Order kept, binary vendor values encoded, the slot ID printed decimal.
    assert_eq!(
        uri.to_string(),
        "pkcs11:slot-id=18446744073709551615;x-b=%00%FF;x-a=1?x-q=1&x-q=2&X-Q=/"
    );
    // Standard names and bad names cannot be added as vendor attributes.
    for bad in ["", "token", "Pin-Value", "a b", "a=b", "a;b"] {
        assert!(
            Pkcs11Uri::new()
                .with_vendor_attribute(UriComponent::Path, bad, "x")
                .is_err(),
            "{bad:?}"
        );
    }
}

#[test]
fn object_types_and_template() {
    for (text, class) in [
        ("public", ObjectClass::PublicKey),
        ("private", ObjectClass::PrivateKey),
        ("cert", ObjectClass::Certificate),
        ("secret-key", ObjectClass::SecretKey),
        ("data", ObjectClass::Data),
    ] {
        let uri = Pkcs11Uri::parse(&format!("pkcs11:type={text};object=l;id=%01")).unwrap();
        let t = uri.object_type().unwrap();
        assert_eq!((t.as_str(), t.class()), (text, class.raw()));
        assert_eq!(UriObjectType::from_class(class.raw()), Some(t));
        assert_eq!(
            uri.object_template(),
            [
                Attribute::Label("l".into()),
                Attribute::Id(vec![1]),
                Attribute::Class(class)
            ]
        );
    }
    assert_eq!(UriObjectType::from_class(ffi::CKO_MECHANISM), None);
    assert!(Pkcs11Uri::new().object_template().is_empty());
}

fn padded<const N: usize>(text: &str) -> [u8; N] {
    let mut raw = [b' '; N];
    raw[..text.len()].copy_from_slice(text.as_bytes());
    raw
}

#[test]
fn matching_ignores_padding_and_compares_exactly() {
    let raw = ffi::CK_TOKEN_INFO {
        label: padded("My token"),
        manufacturerID: padded("Snake Oil, Inc."),
        model: padded("1.0"),
        serialNumber: padded(""),
        ..Default::default()
    };
    let info = TokenInfo::from_raw(raw);
    let matches = |text: &str| Pkcs11Uri::parse(text).unwrap().matches_token(&info);
    assert!(matches("pkcs11:"));
    assert!(matches("pkcs11:token=My%20token"));
    assert!(matches("pkcs11:token=My%20token%20%20"));
    assert!(matches("pkcs11:token=My%20token;serial=;model=1.0"));
    assert!(!matches("pkcs11:token=My"));
    assert!(!matches("pkcs11:token=my%20token"));
    assert!(!matches("pkcs11:token=My%20token;serial=1"));
    assert!(!matches("pkcs11:manufacturer=Snake"));

    let raw = ffi::CK_INFO {
        manufacturerID: padded("Snake Oil, Inc."),
        libraryDescription: padded("Soft Token Library"),
        libraryVersion: ffi::CK_VERSION { major: 3, minor: 0 },
        ..Default::default()
    };
    let library = LibraryInfo::from_raw(raw);
    let lib = |text: &str| Pkcs11Uri::parse(text).unwrap().matches_library(&library);
    assert!(lib(
        "pkcs11:library-version=3;library-manufacturer=Snake%20Oil,%20Inc."
    ));
    assert!(lib("pkcs11:library-version=3.0"));
    assert!(!lib("pkcs11:library-version=3.1"));
    assert!(!lib("pkcs11:library-description=Soft"));

    let raw = ffi::CK_SLOT_INFO {
        slotDescription: padded("Sun Metaslot"),
        manufacturerID: padded("Sun"),
        ..Default::default()
    };
    let slot = SlotInfo::from_raw(raw);
    let slot_matches = |text: &str| Pkcs11Uri::parse(text).unwrap().matches_slot(7, &slot);
    assert!(slot_matches(
        "pkcs11:slot-description=Sun%20Metaslot;slot-id=7"
    ));
    assert!(slot_matches("pkcs11:slot-manufacturer=Sun"));
    assert!(!slot_matches("pkcs11:slot-id=8"));
}

use crate::info::{LibraryInfo, SlotInfo};
use crate::token::TokenInfo;
use crate::Attribute;

#[test]
fn module_name_lookup_follows_p11kit() {
    let dir = std::env::temp_dir().join(format!("pkcs11-uri-unit-{}", std::process::id()));
    let config = dir.join("config");
    let modules = dir.join("modules");
    let elsewhere = dir.join("elsewhere");
    for d in [&config, &modules, &elsewhere] {
        std::fs::create_dir_all(d).unwrap();
    }
    std::fs::write(modules.join("libplain.so"), b"").unwrap();
    std::fs::write(modules.join("relative-target.so"), b"").unwrap();
    std::fs::write(elsewhere.join("libabs.so"), b"").unwrap();
    std::fs::write(
        config.join("abs.module"),
        format!(
            "# comment\nmodule: {}\n",
            elsewhere.join("libabs.so").display()
        ),
    )
    .unwrap();
    std::fs::write(config.join("rel.module"), "module: relative-target.so\n").unwrap();
    let locator = ModuleLocator::new([config.clone()], [modules.clone()]);
    assert_eq!(locator.find("abs").unwrap(), elsewhere.join("libabs.so"));
    assert_eq!(
        locator.find("rel").unwrap(),
        modules.join("relative-target.so")
    );
    assert_eq!(locator.find("plain").unwrap(), modules.join("libplain.so"));
    assert_eq!(
        locator.find("libplain.so").unwrap(),
        modules.join("libplain.so")
    );
    assert!(matches!(
        locator.find("absent"),
        Err(Error::NotFound { .. })
    ));
    assert!(matches!(
        locator.find("../x"),
        Err(Error::InvalidInput { .. })
    ));
    // Through a URI: module-path wins; a module-path directory is searched for the name.
    let uri = Pkcs11Uri::new().with_module_name("plain");
    assert_eq!(
        uri.module_file_with(&locator).unwrap(),
        Some(modules.join("libplain.so"))
    );
    let uri = uri.with_module_path(elsewhere.to_str().unwrap().to_owned());
    let uri = uri.with_module_name("abs");
    assert_eq!(
        uri.module_file_with(&locator).unwrap(),
        Some(elsewhere.join("libabs.so"))
    );
    let uri = Pkcs11Uri::new().with_module_path("relative/lib.so");
    assert!(matches!(
        uri.module_file_with(&locator),
        Err(Error::InvalidInput { .. })
    ));
    assert_eq!(Pkcs11Uri::new().module_file_with(&locator).unwrap(), None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn pin_source_files_are_read() {
    let dir = std::env::temp_dir().join(format!("pkcs11-uri-pin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pin");
    std::fs::write(&file, b"12 34\r\n").unwrap();
    let path = file.to_str().unwrap();
    for source in [
        format!("file:{path}"),
        format!("file://{path}"),
        format!("file://localhost{path}"),
        path.to_owned(),
    ] {
        let uri = Pkcs11Uri::new().with_pin_source(source.clone());
        let pin = uri.read_pin().unwrap().unwrap();
        assert_eq!(pin.bytes(), b"12 34", "{source}");
    }
    // pin-value wins over pin-source.
    let uri = Pkcs11Uri::new()
        .with_pin_source(path.to_owned())
        .with_pin_value(Pin::from("v"));
    assert_eq!(uri.read_pin().unwrap().unwrap().bytes(), b"v");
    for bad in ["|/usr/bin/ask-pin", "env:PIN", "file://otherhost/etc/pin"] {
        let uri = Pkcs11Uri::new().with_pin_source(bad);
        assert!(
            matches!(uri.read_pin(), Err(Error::InvalidInput { .. })),
            "{bad}"
        );
    }
    assert!(Pkcs11Uri::new().read_pin().unwrap().is_none());
    let _ = std::fs::remove_dir_all(&dir);
}

/// Text values: any string, biased towards the characters that need care.
fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => prop::sample::select(vec![
                ' ', '%', ';', '&', '?', '/', '|', '=', '#', ':', '@', '\u{e1}', '\u{1F511}',
                '\0', '~', '-', '.', '_', '+', ',', '\'', '[', ']'
            ]),
            2 => prop::char::range('a', 'z'),
            1 => any::<char>(),
        ],
        0..12,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

fn vendor_name() -> impl Strategy<Value = String> {
    "x-[A-Za-z0-9_-]{1,8}"
}

prop_compose! {
    fn any_uri()(
        texts in prop::collection::vec(prop::option::of(text()), 13),
        id in prop::option::of(prop::collection::vec(any::<u8>(), 0..10)),
        version in prop::option::of((any::<u8>(), any::<u8>())),
        slot_id in prop::option::of(any::<u64>()),
        object_type in prop::option::of(prop::sample::select(UriObjectType::ALL.to_vec())),
        pin in prop::option::of(prop::collection::vec(any::<u8>(), 0..10)),
        vendor_path in prop::collection::btree_map(vendor_name(), prop::collection::vec(any::<u8>(), 0..6), 0..3),
        vendor_query in prop::collection::vec((vendor_name(), prop::collection::vec(any::<u8>(), 0..6)), 0..3),
    ) -> Pkcs11Uri {
        let mut t = texts.into_iter();
        let mut next = || t.next().flatten();
        let mut uri = Pkcs11Uri::new();
        uri.token = next();
        uri.manufacturer = next();
        uri.serial = next();
        uri.model = next();
        uri.library_manufacturer = next();
        uri.library_description = next();
        uri.slot_description = next();
        uri.slot_manufacturer = next();
        uri.object = next();
        uri.module_name = next();
        uri.module_path = next();
        uri.pin_source = next();
        uri.id = id;
        uri.library_version = version.map(|(major, minor)| Version { major, minor });
        uri.slot_id = slot_id;
        uri.object_type = object_type;
        uri.pin_value = pin.map(Pin::from_bytes);
        // Lower-case names: path vendor names are unique case-insensitively.
        let mut seen = std::collections::BTreeSet::new();
        uri.vendor_path = vendor_path
            .into_iter()
            .filter(|(name, _)| seen.insert(name.to_ascii_lowercase()))
            .collect();
        uri.vendor_query = vendor_query;
        uri
    }
}

proptest! {
    #![proptest_config(crate::output::proptests::config())]

    /// print(x) parses back to x, and printing that again gives the same text.
    #[test]
    fn printing_round_trips(uri in any_uri()) {
        let printed = uri.to_string_with_pin().to_string();
        let parsed = Pkcs11Uri::parse(&printed);
        prop_assert!(parsed.is_ok(), "{printed}: {:?}", parsed.err());
        let parsed = parsed.unwrap();
        prop_assert_eq!(&parsed, &uri);
        prop_assert_eq!(parsed.to_string_with_pin().to_string(), printed);
        // Without the PIN: the same URI minus pin-value.
        let mut no_pin = uri.clone();
        no_pin.pin_value = None;
        prop_assert_eq!(Pkcs11Uri::parse(&uri.to_string()).unwrap(), no_pin);
    }

    /// Any text: parsing never panics, and what parses prints to a canonical form that
    /// parses to the same value.
    #[test]
    fn parsing_anything_is_canonicalized(
        tail in "[a-zA-Z=;&?%0-9 /|#._~-]{0,40}"
    ) {
        let text = format!("pkcs11:{tail}");
        if let Ok(uri) = Pkcs11Uri::parse(&text) {
            let printed = uri.to_string_with_pin().to_string();
            prop_assert_eq!(Pkcs11Uri::parse(&printed).unwrap(), uri, "{} -> {}", text, printed);
        }
    }
}
