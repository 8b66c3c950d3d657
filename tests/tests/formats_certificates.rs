//! X.509 certificate objects on both real modules: OpenSSL issues a certificate for a key
//! pair generated on the token (its public key taken from the token's exported
//! `SubjectPublicKeyInfo`), the certificate is stored with the subject, issuer and serial
//! number taken from it, found again by each of them and by the key's `CKA_ID`, and read
//! back byte for byte.

use std::path::Path;
use std::process::Command;

use pkcs11::formats::{EcCurve, X509Certificate};
use pkcs11::{ffi, Attribute, AttributeType, CertificateQuery, Error, MechanismType, Session};
use pkcs11_tests::modules::{each_module, TestToken};
use pkcs11_tests::TempDir;

fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (the OpenSSL command line is a test prerequisite)");
    assert!(
        output.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A CA certificate (self-signed by OpenSSL) and a certificate it issues for the public
/// key `spki`, with serial number 0xDEADBEEF0102: (CA DER, leaf DER).
fn certificates_for(spki: &[u8], tag: &str) -> (Vec<u8>, Vec<u8>) {
    let dir = TempDir::new("formats-certs");
    let path = dir.path();
    std::fs::write(path.join("token.der"), spki).unwrap();
    // OpenSSL must read the token's SPKI to put it in the certificate.
    openssl(
        path,
        &[
            "pkey",
            "-pubin",
            "-inform",
            "DER",
            "-in",
            "token.der",
            "-out",
            "token.pem",
        ],
    );
    openssl(
        path,
        &[
            "req",
            "-x509",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            "ca.key",
            "-subj",
            "/O=pkcs11-rs tests/CN=formats test CA",
            "-days",
            "2",
            "-out",
            "ca.pem",
        ],
    );
    openssl(
        path,
        &["x509", "-in", "ca.pem", "-outform", "DER", "-out", "ca.der"],
    );
    let subject = format!("/O=pkcs11-rs tests/CN=token key {tag}");
    openssl(
        path,
        &[
            "req", "-new", "-key", "ca.key", "-subj", &subject, "-out", "leaf.csr",
        ],
    );
    openssl(
        path,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-force_pubkey",
            "token.pem",
            "-set_serial",
            "0xDEADBEEF0102",
            "-days",
            "2",
            "-outform",
            "DER",
            "-out",
            "leaf.der",
        ],
    );
    (
        std::fs::read(path.join("ca.der")).unwrap(),
        std::fs::read(path.join("leaf.der")).unwrap(),
    )
}

fn find(
    token: &TestToken,
    session: &Session,
    query: &CertificateQuery,
) -> Vec<pkcs11::ObjectHandle> {
    session
        .find_certificates(query)
        .unwrap_or_else(|e| panic!("{}: find certificates: {e}", token.module.name()))
}

#[test]
fn certificates_for_token_keys_are_stored_and_found() {
    each_module("certificates_for_token_keys", |token| {
        if !token.require(
            "certificates_for_token_keys",
            &[MechanismType(ffi::CKM_EC_KEY_PAIR_GEN)],
        ) {
            return;
        }
        let module = token.module.name();
        let session = token.session();
        let id = format!("formats-cert-{module}").into_bytes();
        let (public, private) = session
            .generate_ec_key_pair(
                EcCurve::P256,
                &[Attribute::Token(false), Attribute::Id(id.clone())],
                &[
                    Attribute::Token(false),
                    Attribute::Sign(true),
                    Attribute::Id(id.clone()),
                ],
            )
            .unwrap_or_else(|e| panic!("{module}: P-256 key pair: {e}"));
        let spki = session.export_spki(public).unwrap();
        let (ca_der, leaf_der) = certificates_for(&spki, module);
        let ca = X509Certificate::from_der(&ca_der).unwrap();
        let leaf = X509Certificate::from_der(&leaf_der).unwrap();

        // What OpenSSL put in the certificate is the token's key, byte for byte.
        assert_eq!(
            leaf.public_key_info_der(),
            spki,
            "{module}: the certificate's key"
        );
        // The fields are the certificate's bytes: the leaf's issuer is the CA's subject,
        // the CA is self-issued, the serial is the one asked for.
        assert_eq!(leaf.issuer_der(), ca.subject_der());
        assert_eq!(ca.issuer_der(), ca.subject_der());
        assert_ne!(leaf.subject_der(), ca.subject_der());
        assert_eq!(
            leaf.serial_number_der(),
            [0x02, 0x07, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]
        );
        assert_eq!(
            leaf.serial_number(),
            [0x00, 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02]
        );
        let subject_at = leaf_der
            .windows(leaf.subject_der().len())
            .position(|w| w == leaf.subject_der());
        assert!(subject_at.is_some());

        let label = format!("formats leaf {module}");
        let leaf_object = session
            .create_x509_certificate(
                &leaf,
                &[
                    Attribute::Token(false),
                    Attribute::Label(label.clone()),
                    Attribute::Id(id.clone()),
                ],
            )
            .unwrap_or_else(|e| panic!("{module}: create the leaf certificate: {e}"));
        let ca_object = session
            .create_x509_certificate(
                &ca,
                &[
                    Attribute::Token(false),
                    Attribute::Label("formats CA".into()),
                ],
            )
            .unwrap_or_else(|e| panic!("{module}: create the CA certificate: {e}"));

        // The attributes the token keeps are the certificate's bytes.
        for (ty, expected) in [
            (AttributeType::Subject, leaf.subject_der()),
            (AttributeType::Issuer, leaf.issuer_der()),
            (AttributeType::SerialNumber, leaf.serial_number_der()),
            (AttributeType::Value, leaf.der()),
        ] {
            let value = session.get_attribute(leaf_object, ty).unwrap();
            assert_eq!(value.as_bytes().unwrap(), expected, "{module}: {ty}");
        }

        // Found by each field and by the key.
        let by_subject = find(
            token,
            &session,
            &CertificateQuery::new().subject(leaf.subject_der()),
        );
        assert_eq!(by_subject, [leaf_object], "{module}: by subject");
        let mut by_issuer = find(
            token,
            &session,
            &CertificateQuery::new().issuer(ca.subject_der()),
        );
        by_issuer.sort();
        let mut both = vec![leaf_object, ca_object];
        both.sort();
        assert_eq!(
            by_issuer, both,
            "{module}: by issuer (the CA issued itself and the leaf)"
        );
        let by_issuer_serial = find(
            token,
            &session,
            &CertificateQuery::new()
                .issuer(leaf.issuer_der())
                .serial_number(leaf.serial_number_der()),
        );
        assert_eq!(
            by_issuer_serial,
            [leaf_object],
            "{module}: by issuer and serial"
        );
        let by_serial = find(
            token,
            &session,
            &CertificateQuery::new().serial_number(ca.serial_number_der()),
        );
        assert_eq!(by_serial, [ca_object], "{module}: by the CA's serial");
        assert_eq!(
            find(token, &session, &CertificateQuery::new().label(label)),
            [leaf_object]
        );
        assert_eq!(
            session.find_certificates_for_key(private).unwrap(),
            [leaf_object]
        );
        assert_eq!(
            session.find_certificates_for_key(public).unwrap(),
            [leaf_object]
        );
        assert!(find(
            token,
            &session,
            &CertificateQuery::new().serial_number([0x02, 0x01, 0x07])
        )
        .is_empty());

        // Read back equal.
        let read = session.read_x509_certificate(leaf_object).unwrap();
        assert_eq!(read, leaf, "{module}: read back");
        assert!(matches!(
            session.read_x509_certificate(public),
            Err(Error::InvalidInput { .. })
        ));
        session.destroy_object(leaf_object).unwrap();
        session.destroy_object(ca_object).unwrap();
    });
}

#[test]
fn bad_certificates_are_refused_naming_what_is_wrong() {
    let (ca_der, _) = certificates_for(
        &{
            use p256::pkcs8::EncodePublicKey;
            p256::SecretKey::random(&mut aes_gcm::aead::OsRng)
                .public_key()
                .to_public_key_der()
                .unwrap()
                .into_vec()
        },
        "bad",
    );
    for bad in [
        &ca_der[..ca_der.len() - 1],
        &ca_der[..10],
        &[][..],
        &ca_der[4..],
    ] {
        match X509Certificate::from_der(bad) {
            Err(Error::InvalidInput { what }) => {
                assert!(what.contains("X.509 certificate DER"), "{what}")
            }
            other => panic!("{} bytes: {other:?}", bad.len()),
        }
    }
    // An SPKI is DER but not a certificate.
    let spki = X509Certificate::from_der(&ca_der)
        .unwrap()
        .public_key_info_der()
        .to_vec();
    assert!(matches!(
        X509Certificate::from_der(&spki),
        Err(Error::InvalidInput { .. })
    ));
}
