//! Serve TLS with a key on an HSM: a rustls server whose private key never leaves the
//! token, one thread per connection, all signing through one shared session.
//!
//! ```text
//! cargo run -p pkcs11 --features rustls,rustcrypto --example tls_server -- \
//!     MODULE_PATH TOKEN_LABEL USER_PIN KEY_LABEL [--serve 127.0.0.1:8443]
//! ```
//!
//! The key labelled `KEY_LABEL` (ECDSA P-256 / P-384 or RSA; a P-256 session key pair is
//! made when the token has none) gets a self-signed certificate for `localhost`, signed
//! on the token through the RustCrypto signers and x509-cert's builder. Without
//! `--serve`, the example starts the server on a free loopback port, connects three
//! rustls clients at once that trust that certificate, prints what they got and exits;
//! with `--serve ADDRESS` it serves until killed (try
//! `openssl s_client -connect ADDRESS -servername localhost`).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use pkcs11::signer::{
    KeyAlgorithm, P256SigningKey, P384SigningKey, RsaPkcs1v15SigningKey, TokenKey,
};
use pkcs11::tls::TlsSigningKey;
use pkcs11::{Attribute, Error, Mechanism, Pin, Pkcs11, Session, UserType};
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::sign::SingleCertAndKey;
use rustls::{
    ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection, StreamOwned,
};
use signature::{Keypair, Signer};
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::Ia5String;
use x509_cert::der::Encode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    DynSignatureAlgorithmIdentifier, EncodePublicKey, SignatureBitStringEncoding,
    SubjectPublicKeyInfoOwned,
};
use x509_cert::time::Validity;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (module, token, pin, key_label, serve) = match &args[..] {
        [module, token, pin, key] => (module, token, pin, key, None),
        [module, token, pin, key, flag, address] if flag == "--serve" => {
            (module, token, pin, key, Some(address.clone()))
        }
        _ => {
            eprintln!(
                "usage: tls_server MODULE_PATH TOKEN_LABEL USER_PIN KEY_LABEL [--serve ADDRESS]"
            );
            std::process::exit(2);
        }
    };
    let p11 = Pkcs11::open(module)?;
    let session = p11.token_by_label(token)?.open_ro_session()?;
    session.login(UserType::User, &Pin::from(pin.as_str()))?;
    // Every connection thread signs through this one session (`Session` is Send + Sync;
    // its lock serializes the calls). A `SessionPool` would give each thread its own.
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
    let cert = self_signed_for(&key)?;
    println!(
        "key {key_label:?} ({:?}), self-signed certificate of {} bytes",
        key.algorithm(),
        cert.len()
    );

    // The TLS signing key: rustls asks it for a signature in every handshake, and it
    // makes that signature on the token.
    let certified = TlsSigningKey::new(key).certified_key(vec![cert.clone()])?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server_config = Arc::new(
        ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified))),
    );

    let listener = TcpListener::bind(serve.as_deref().unwrap_or("127.0.0.1:0"))?;
    let address = listener.local_addr()?;
    println!("serving TLS on {address}");
    let connections = if serve.is_some() { usize::MAX } else { 3 };
    let server = std::thread::spawn(move || {
        for stream in listener.incoming().take(connections) {
            let config = Arc::clone(&server_config);
            match stream {
                Ok(stream) => {
                    std::thread::spawn(move || {
                        if let Err(e) = handle(config, stream) {
                            eprintln!("connection: {e}");
                        }
                    });
                }
                Err(e) => eprintln!("accept: {e}"),
            }
        }
    });
    if serve.is_some() {
        server.join().expect("the server thread");
        return Ok(());
    }

    // Self-test: three clients at once, trusting only this certificate.
    let mut roots = RootCertStore::empty();
    roots.add(cert)?;
    let client_config = Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    std::thread::scope(|scope| -> Result<(), BoxError> {
        let clients: Vec<_> = (0..3)
            .map(|n| {
                let config = Arc::clone(&client_config);
                scope.spawn(move || client(config, address, n))
            })
            .collect();
        for client in clients {
            println!("{}", client.join().expect("a client thread")?);
        }
        Ok(())
    })?;
    server.join().expect("the server thread");
    Ok(())
}

/// One connection: reads a line, answers it, closes.
fn handle(config: Arc<ServerConfig>, stream: TcpStream) -> Result<(), BoxError> {
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    let mut tls = BufReader::new(StreamOwned::new(ServerConnection::new(config)?, stream));
    let mut line = String::new();
    tls.read_line(&mut line)?;
    let tls = tls.get_mut();
    let reply = format!(
        "hello {}, from a key on the token ({:?})\n",
        line.trim_end(),
        tls.conn.protocol_version().expect("after the handshake")
    );
    tls.write_all(reply.as_bytes())?;
    tls.conn.send_close_notify();
    tls.flush()?;
    Ok(())
}

/// One client: sends its name, returns the server's answer.
fn client(
    config: Arc<ClientConfig>,
    address: std::net::SocketAddr,
    n: usize,
) -> Result<String, BoxError> {
    let connection = ClientConnection::new(config, ServerName::try_from("localhost")?)?;
    let mut tls = StreamOwned::new(connection, TcpStream::connect(address)?);
    tls.write_all(format!("client {n}\n").as_bytes())?;
    let mut reply = String::new();
    tls.read_to_string(&mut reply)?;
    Ok(reply.trim_end().to_owned())
}

/// A certificate for `localhost` with `key`'s public key, self-signed on the token.
fn self_signed_for(key: &TokenKey) -> Result<CertificateDer<'static>, BoxError> {
    match key.algorithm() {
        KeyAlgorithm::EcdsaP256 => {
            self_signed::<_, p256::ecdsa::DerSignature>(&P256SigningKey::new(key.clone())?)
        }
        KeyAlgorithm::EcdsaP384 => {
            self_signed::<_, p384::ecdsa::DerSignature>(&P384SigningKey::new(key.clone())?)
        }
        KeyAlgorithm::Rsa { .. } => self_signed::<_, rsa::pkcs1v15::Signature>(
            &RsaPkcs1v15SigningKey::<sha2::Sha256>::new(key.clone())?,
        ),
        other => Err(format!(
            "this example self-signs ECDSA and RSA keys; {other:?} keys need a certificate \
             made elsewhere (TlsSigningKey::certified_key takes any chain)"
        )
        .into()),
    }
}

fn self_signed<S, Sig>(signer: &S) -> Result<CertificateDer<'static>, BoxError>
where
    S: Keypair + DynSignatureAlgorithmIdentifier + Signer<Sig>,
    S::VerifyingKey: EncodePublicKey,
    Sig: SignatureBitStringEncoding,
{
    let subject = Name::from_str("CN=localhost")?;
    let mut builder = CertificateBuilder::new(
        Profile::Leaf {
            issuer: subject.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        SerialNumber::from(1u32),
        Validity::from_now(Duration::from_secs(24 * 3600))?,
        subject,
        SubjectPublicKeyInfoOwned::from_key(signer.verifying_key())?,
        signer,
    )?;
    builder.add_extension(&SubjectAltName(vec![GeneralName::DnsName(Ia5String::new(
        "localhost",
    )?)]))?;
    // The TBSCertificate is signed by the token key.
    let cert = builder.build::<Sig>()?;
    Ok(CertificateDer::from(cert.to_der()?))
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
