//! Token keys in TLS (`pkcs11::tls::TlsSigningKey`, feature `rustls`) on both real
//! modules: a rustls server on loopback whose certificate key lives on the token
//! completes TLS 1.3 handshakes with rustls clients that verify it, and exchanges
//! application data both ways; the same with mutual TLS where the client's key is on the
//! token too; many connections at once, served by threads that share one token session
//! (or a session pool).
//!
//! The certificates are self-signed by the token keys themselves through `x509-cert`'s
//! builder over the RustCrypto signers of `pkcs11::signer`, and each side trusts the
//! other's certificate as its only root — so a handshake completes only if the token
//! made every signature right. A client trusting another certificate, and a certificate
//! paired with the wrong key, must fail.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use p256::ecdsa::signature::{Keypair, Signer, Verifier};
use pkcs11::signer::{
    Ed25519SigningKey, P256SigningKey, P384SigningKey, RsaPkcs1v15SigningKey, SessionSource,
    TokenKey,
};
use pkcs11::tls::TlsSigningKey;
use pkcs11::{Attribute, Mechanism, MechanismType, ObjectHandle, Pin, SessionPool, UserType};
use pkcs11_tests::interop::{ED25519_PARAMS, P256_PARAMS, P384_PARAMS};
use pkcs11_tests::modules::{each_module, TestToken};
use pkcs11_tests::Watchdog;
use rustls::pki_types::{CertificateDer, ServerName, SubjectPublicKeyInfoDer};
use rustls::server::WebPkiClientVerifier;
use rustls::sign::{CertifiedKey, SigningKey, SingleCertAndKey};
use rustls::{
    ClientConfig, ClientConnection, ProtocolVersion, RootCertStore, ServerConfig, ServerConnection,
    SignatureAlgorithm, SignatureScheme, StreamOwned,
};
use sha2::Digest;
use x509_cert::builder::{Builder, CertificateBuilder, Profile};
use x509_cert::der::asn1::{BitString, Ia5String};
use x509_cert::der::Encode;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey,
    SignatureBitStringEncoding, SubjectPublicKeyInfoOwned,
};
use x509_cert::time::Validity;

/// What one server connection saw: the client's certificate (if any), or the error.
type ServerOutcome = Result<Option<CertificateDer<'static>>, String>;

/// The server name the certificates carry and the clients ask for.
const SERVER_NAME: &str = "localhost";

/// A label no other test of this process uses.
fn unique(prefix: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!(
        "h8-tls-{prefix}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The key algorithms the suites run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Algorithm {
    P256,
    P384,
    Rsa,
    Ed25519,
}

impl Algorithm {
    /// What the token must offer to make and use such a key in TLS 1.3.
    fn mechanisms(self) -> &'static [MechanismType] {
        match self {
            Algorithm::P256 | Algorithm::P384 => {
                &[MechanismType::EC_KEY_PAIR_GEN, MechanismType::ECDSA]
            }
            Algorithm::Rsa => &[
                MechanismType::RSA_PKCS_KEY_PAIR_GEN,
                MechanismType::RSA_PKCS,
                MechanismType::RSA_PKCS_PSS,
            ],
            Algorithm::Ed25519 => &[MechanismType::EC_EDWARDS_KEY_PAIR_GEN, MechanismType::EDDSA],
        }
    }

    /// The TLS 1.3 scheme the token key must sign with.
    fn tls13_scheme(self) -> SignatureScheme {
        match self {
            Algorithm::P256 => SignatureScheme::ECDSA_NISTP256_SHA256,
            Algorithm::P384 => SignatureScheme::ECDSA_NISTP384_SHA384,
            Algorithm::Rsa => SignatureScheme::RSA_PSS_SHA512,
            Algorithm::Ed25519 => SignatureScheme::ED25519,
        }
    }
}

/// A key on the token and a certificate for it, self-signed by the token key.
#[derive(Clone)]
struct Identity {
    key: TokenKey,
    cert: CertificateDer<'static>,
}

/// A new key pair of `algorithm` on the token (session objects) with a self-signed
/// certificate for `CN=<cn>`, `DNS:localhost`; `None` (and a loud skip) if the token
/// lacks a mechanism.
fn identity(
    token: &'static TestToken,
    test: &str,
    source: &SessionSource,
    algorithm: Algorithm,
    cn: &str,
) -> Option<Identity> {
    if !token.require(test, algorithm.mechanisms()) {
        return None;
    }
    let label = unique(cn);
    let (mechanism, public) = match algorithm {
        Algorithm::P256 => (
            Mechanism::EcKeyPairGen,
            vec![Attribute::EcParams(P256_PARAMS.to_vec())],
        ),
        Algorithm::P384 => (
            Mechanism::EcKeyPairGen,
            vec![Attribute::EcParams(P384_PARAMS.to_vec())],
        ),
        Algorithm::Ed25519 => (
            Mechanism::EcEdwardsKeyPairGen,
            vec![Attribute::EcParams(ED25519_PARAMS.to_vec())],
        ),
        Algorithm::Rsa => (
            Mechanism::RsaPkcsKeyPairGen,
            vec![
                Attribute::ModulusBits(2048),
                Attribute::PublicExponent(vec![1, 0, 1]),
            ],
        ),
    };
    let common = [
        Attribute::Token(false),
        Attribute::Label(label.clone()),
        Attribute::Id(label.clone().into_bytes()),
    ];
    let mut public_template = common.to_vec();
    public_template.push(Attribute::Verify(true));
    public_template.extend(public);
    let mut private_template = common.to_vec();
    private_template.extend([
        Attribute::Private(true),
        Attribute::Sensitive(true),
        Attribute::Sign(true),
    ]);
    let (_, private): (ObjectHandle, ObjectHandle) = source
        .with_session(|session| {
            session.generate_key_pair(&mechanism, &public_template, &private_template)
        })
        .unwrap_or_else(|e| panic!("{}: {algorithm:?} key pair: {e}", token.module.name()));
    let key = TokenKey::new(source.clone(), private)
        .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
    let fail =
        |e: pkcs11::Error| -> ! { panic!("{}: {algorithm:?} signer: {e}", token.module.name()) };
    let cert = match algorithm {
        Algorithm::P256 => self_signed::<_, p256::ecdsa::DerSignature>(
            &P256SigningKey::new(key.clone()).unwrap_or_else(|e| fail(e)),
            cn,
        ),
        Algorithm::P384 => self_signed::<_, p384::ecdsa::DerSignature>(
            &P384SigningKey::new(key.clone()).unwrap_or_else(|e| fail(e)),
            cn,
        ),
        Algorithm::Rsa => self_signed::<_, rsa::pkcs1v15::Signature>(
            &RsaPkcs1v15SigningKey::<sha2::Sha256>::new(key.clone()).unwrap_or_else(|e| fail(e)),
            cn,
        ),
        Algorithm::Ed25519 => self_signed::<_, EdSignature>(
            &EdCertSigner(Ed25519SigningKey::new(key.clone()).unwrap_or_else(|e| fail(e))),
            cn,
        ),
    };
    Some(Identity { key, cert })
}

/// A self-signed end-entity certificate (`CN=<cn>`, `DNS:localhost`, valid for an hour)
/// for `signer`'s key, signed by `signer`.
fn self_signed<S, Sig>(signer: &S, cn: &str) -> CertificateDer<'static>
where
    S: Keypair + DynSignatureAlgorithmIdentifier + Signer<Sig>,
    S::VerifyingKey: EncodePublicKey,
    Sig: SignatureBitStringEncoding,
{
    static SERIAL: AtomicUsize = AtomicUsize::new(1);
    let subject = Name::from_str(&format!("CN={cn}")).expect("a distinguished name");
    let spki = SubjectPublicKeyInfoOwned::from_key(signer.verifying_key()).expect("an SPKI");
    let mut builder = CertificateBuilder::new(
        Profile::Leaf {
            issuer: subject.clone(),
            enable_key_agreement: false,
            enable_key_encipherment: false,
        },
        SerialNumber::from(SERIAL.fetch_add(1, Ordering::Relaxed) as u32),
        Validity::from_now(Duration::from_secs(3600)).expect("a validity"),
        subject,
        spki,
        signer,
    )
    .expect("a certificate builder");
    builder
        .add_extension(&SubjectAltName(vec![GeneralName::DnsName(
            Ia5String::new(SERVER_NAME).expect("an IA5 name"),
        )]))
        .expect("the SAN extension");
    let cert = builder
        .build::<Sig>()
        .expect("a certificate signed on the token");
    CertificateDer::from(cert.to_der().expect("DER"))
}

/// `ed25519::Signature` as a certificate signature (the `ed25519` crate does not
/// implement `SignatureBitStringEncoding`).
struct EdSignature(ed25519_dalek::Signature);

impl SignatureBitStringEncoding for EdSignature {
    fn to_bitstring(&self) -> x509_cert::der::Result<BitString> {
        BitString::from_bytes(&self.0.to_bytes())
    }
}

/// The token's Ed25519 signer, signing certificates as [`EdSignature`].
struct EdCertSigner(Ed25519SigningKey);

impl Keypair for EdCertSigner {
    type VerifyingKey = ed25519_dalek::VerifyingKey;

    fn verifying_key(&self) -> ed25519_dalek::VerifyingKey {
        self.0.verifying_key()
    }
}

impl DynSignatureAlgorithmIdentifier for EdCertSigner {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        self.0.signature_algorithm_identifier()
    }
}

impl Signer<EdSignature> for EdCertSigner {
    fn try_sign(&self, message: &[u8]) -> Result<EdSignature, p256::ecdsa::signature::Error> {
        self.0.try_sign(message).map(EdSignature)
    }
}

/// A [`TlsSigningKey`] that records the schemes rustls chose and counts its signatures.
#[derive(Debug)]
struct Recording {
    inner: TlsSigningKey,
    chosen: Arc<Mutex<Vec<SignatureScheme>>>,
}

impl SigningKey for Recording {
    fn choose_scheme(&self, offered: &[SignatureScheme]) -> Option<Box<dyn rustls::sign::Signer>> {
        let signer = self.inner.choose_scheme(offered)?;
        self.chosen.lock().unwrap().push(signer.scheme());
        Some(signer)
    }

    fn public_key(&self) -> Option<SubjectPublicKeyInfoDer<'_>> {
        self.inner.public_key()
    }

    fn algorithm(&self) -> SignatureAlgorithm {
        self.inner.algorithm()
    }
}

/// The certified key of `identity`, checked against its certificate, recording into
/// `chosen`.
fn certified(identity: &Identity, chosen: &Arc<Mutex<Vec<SignatureScheme>>>) -> Arc<CertifiedKey> {
    let key = TlsSigningKey::new(identity.key.clone());
    // The SPKI the key builds from the token's public key is the certificate's.
    let checked = key
        .clone()
        .certified_key(vec![identity.cert.clone()])
        .expect("the certificate is the key's");
    checked.keys_match().expect("the key knows its public half");
    Arc::new(CertifiedKey::new(
        vec![identity.cert.clone()],
        Arc::new(Recording {
            inner: key,
            chosen: Arc::clone(chosen),
        }),
    ))
}

fn roots(cert: &CertificateDer<'static>) -> Arc<RootCertStore> {
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).expect("a trust anchor");
    Arc::new(roots)
}

/// A TLS 1.3 server configuration with `server`'s key; requiring a client certificate
/// issued by (here: equal to) `client_root` when given.
fn server_config(
    server: Arc<CertifiedKey>,
    client_root: Option<&CertificateDer<'static>>,
) -> Arc<ServerConfig> {
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3");
    let builder = match client_root {
        Some(root) => builder.with_client_cert_verifier(
            WebPkiClientVerifier::builder_with_provider(roots(root), provider())
                .build()
                .expect("a client verifier"),
        ),
        None => builder.with_no_client_auth(),
    };
    Arc::new(builder.with_cert_resolver(Arc::new(SingleCertAndKey::from(server))))
}

/// A TLS 1.3 client configuration trusting `server_root`, with `client`'s key when
/// given.
fn client_config(
    server_root: &CertificateDer<'static>,
    client: Option<Arc<CertifiedKey>>,
) -> Arc<ClientConfig> {
    let builder = ClientConfig::builder_with_provider(provider())
        .with_protocol_versions(&[&rustls::version::TLS13])
        .expect("TLS 1.3")
        .with_root_certificates(roots(server_root));
    let mut config = match client {
        Some(client) => builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(client))),
        None => builder.with_no_client_auth(),
    };
    // Every connection a full handshake (no resumption), so each one makes the token sign.
    config.resumption = rustls::client::Resumption::disabled();
    Arc::new(config)
}

/// Serves `connections` connections on a loopback port, one thread each: reads one line,
/// answers `pong <line>` and closes. Each connection's outcome is returned by the join
/// handle: the client certificate it saw, or the error.
fn serve(
    config: Arc<ServerConfig>,
    connections: usize,
) -> (SocketAddr, JoinHandle<Vec<ServerOutcome>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    let addr = listener.local_addr().unwrap();
    let handle = std::thread::spawn(move || {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                let (stream, _) = listener.accept().expect("a connection");
                let config = Arc::clone(&config);
                std::thread::spawn(move || serve_one(config, stream))
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a server thread panicked"))
            .collect()
    });
    (addr, handle)
}

fn serve_one(config: Arc<ServerConfig>, stream: TcpStream) -> ServerOutcome {
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let connection = ServerConnection::new(config).map_err(|e| e.to_string())?;
    let mut tls = StreamOwned::new(connection, stream);
    let mut line = Vec::new();
    let mut byte = [0u8; 1];
    while !line.ends_with(b"\n") {
        match tls.read(&mut byte) {
            Ok(0) => return Err("the client closed before its line".into()),
            Ok(_) => line.push(byte[0]),
            Err(e) => return Err(format!("server read: {e}")),
        }
    }
    if tls.conn.protocol_version() != Some(ProtocolVersion::TLSv1_3) {
        return Err(format!("not TLS 1.3: {:?}", tls.conn.protocol_version()));
    }
    let client = tls
        .conn
        .peer_certificates()
        .and_then(|chain| chain.first())
        .cloned();
    let mut reply = b"pong ".to_vec();
    reply.extend_from_slice(&line);
    tls.write_all(&reply)
        .map_err(|e| format!("server write: {e}"))?;
    tls.conn.send_close_notify();
    tls.flush().map_err(|e| format!("server flush: {e}"))?;
    Ok(client)
}

/// Connects, sends `ping <n>`, expects `pong ping <n>` and a TLS 1.3 session.
fn exchange(config: Arc<ClientConfig>, addr: SocketAddr, n: usize) -> Result<(), String> {
    let connection = ClientConnection::new(
        config,
        ServerName::try_from(SERVER_NAME).expect("a server name"),
    )
    .map_err(|e| e.to_string())?;
    let stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let mut tls = StreamOwned::new(connection, stream);
    let request = format!("ping {n}\n");
    tls.write_all(request.as_bytes())
        .map_err(|e| format!("client write: {e}"))?;
    let mut reply = String::new();
    tls.read_to_string(&mut reply)
        .map_err(|e| format!("client read: {e}"))?;
    if reply != format!("pong {request}") {
        return Err(format!("unexpected reply {reply:?}"));
    }
    if tls.conn.protocol_version() != Some(ProtocolVersion::TLSv1_3) {
        return Err(format!("not TLS 1.3: {:?}", tls.conn.protocol_version()));
    }
    Ok(())
}

/// Runs `clients` clients at once against a server with `server_config`; returns the
/// clients' and the server's outcomes.
fn run(
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    clients: usize,
) -> (Vec<Result<(), String>>, Vec<ServerOutcome>) {
    let (addr, server) = serve(server, clients);
    let client_results = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|n| {
                let client = Arc::clone(&client);
                scope.spawn(move || exchange(client, addr, n))
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("a client thread panicked"))
            .collect()
    });
    (client_results, server.join().expect("the server panicked"))
}

/// A TLS 1.3 server whose key of `algorithm` is on the token serves `clients` clients at
/// once, all signing through the session source `source`.
fn server_key_on_token(
    token: &'static TestToken,
    test: &str,
    source: SessionSource,
    algorithm: Algorithm,
    clients: usize,
) {
    let Some(server) = identity(token, test, &source, algorithm, "server") else {
        return;
    };
    let chosen = Arc::new(Mutex::new(Vec::new()));
    let (client_results, server_results) = run(
        server_config(certified(&server, &chosen), None),
        client_config(&server.cert, None),
        clients,
    );
    for result in client_results {
        result.unwrap_or_else(|e| panic!("{}: {algorithm:?}: client: {e}", token.module.name()));
    }
    for result in server_results {
        let client = result
            .unwrap_or_else(|e| panic!("{}: {algorithm:?}: server: {e}", token.module.name()));
        assert!(client.is_none(), "no client certificate was asked for");
    }
    let chosen = chosen.lock().unwrap();
    assert_eq!(
        *chosen,
        vec![algorithm.tls13_scheme(); clients],
        "{}: one token signature per handshake, with the TLS 1.3 scheme",
        token.module.name()
    );
}

#[test]
fn tls13_server_key_on_token_p256() {
    let _watchdog = Watchdog::new("tls13_server_key_on_token_p256", Duration::from_secs(300));
    each_module("tls13_server_key_on_token_p256", |token| {
        let source = SessionSource::from(token.session());
        server_key_on_token(
            token,
            "tls13_server_key_on_token_p256",
            source,
            Algorithm::P256,
            2,
        );
    });
}

#[test]
fn tls13_server_key_on_token_p384() {
    let _watchdog = Watchdog::new("tls13_server_key_on_token_p384", Duration::from_secs(300));
    each_module("tls13_server_key_on_token_p384", |token| {
        let source = SessionSource::from(token.session());
        server_key_on_token(
            token,
            "tls13_server_key_on_token_p384",
            source,
            Algorithm::P384,
            2,
        );
    });
}

#[test]
fn tls13_server_key_on_token_rsa_pss() {
    let _watchdog = Watchdog::new(
        "tls13_server_key_on_token_rsa_pss",
        Duration::from_secs(300),
    );
    each_module("tls13_server_key_on_token_rsa_pss", |token| {
        let source = SessionSource::from(token.session());
        server_key_on_token(
            token,
            "tls13_server_key_on_token_rsa_pss",
            source,
            Algorithm::Rsa,
            2,
        );
    });
}

#[test]
fn tls13_server_key_on_token_ed25519() {
    let _watchdog = Watchdog::new(
        "tls13_server_key_on_token_ed25519",
        Duration::from_secs(300),
    );
    each_module("tls13_server_key_on_token_ed25519", |token| {
        let source = SessionSource::from(token.session());
        server_key_on_token(
            token,
            "tls13_server_key_on_token_ed25519",
            source,
            Algorithm::Ed25519,
            2,
        );
    });
}

/// Eight connections at once, their server threads all signing through one shared
/// token session.
#[test]
fn concurrent_connections_share_one_session() {
    let _watchdog = Watchdog::new(
        "concurrent_connections_share_one_session",
        Duration::from_secs(300),
    );
    each_module("concurrent_connections_share_one_session", |token| {
        let source = SessionSource::from(Arc::new(token.session()));
        server_key_on_token(
            token,
            "concurrent_connections_share_one_session",
            source,
            Algorithm::P256,
            8,
        );
    });
}

/// Eight connections at once, their server threads signing through a pool of three
/// sessions.
#[test]
fn concurrent_connections_through_a_session_pool() {
    let _watchdog = Watchdog::new(
        "concurrent_connections_through_a_session_pool",
        Duration::from_secs(300),
    );
    each_module("concurrent_connections_through_a_session_pool", |token| {
        // The key pair is made through the pool: session objects of the pool's first
        // session, which the pool keeps open.
        let pool = SessionPool::builder(&token.slot)
            .max_sessions(3)
            .login(UserType::User, Pin::from(token.user_pin))
            .wait_timeout(Duration::from_secs(60))
            .build()
            .unwrap_or_else(|e| panic!("{}: {e}", token.module.name()));
        server_key_on_token(
            token,
            "concurrent_connections_through_a_session_pool",
            SessionSource::from(&pool),
            Algorithm::P256,
            8,
        );
        assert!(pool.open_sessions() <= 3, "{pool:?}");
    });
}

/// Mutual TLS: the server's and the client's keys are both on the token; the server
/// requires the client's certificate, verifies it and sees it.
fn mutual_tls(token: &'static TestToken, test: &str, server_alg: Algorithm, client_alg: Algorithm) {
    let source = SessionSource::from(Arc::new(token.session()));
    let Some(server) = identity(token, test, &source, server_alg, "server") else {
        return;
    };
    let Some(client) = identity(token, test, &source, client_alg, "client") else {
        return;
    };
    let server_chosen = Arc::new(Mutex::new(Vec::new()));
    let client_chosen = Arc::new(Mutex::new(Vec::new()));
    let (client_results, server_results) = run(
        server_config(certified(&server, &server_chosen), Some(&client.cert)),
        client_config(&server.cert, Some(certified(&client, &client_chosen))),
        3,
    );
    for result in client_results {
        result.unwrap_or_else(|e| panic!("{}: mutual TLS client: {e}", token.module.name()));
    }
    for result in server_results {
        let seen =
            result.unwrap_or_else(|e| panic!("{}: mutual TLS server: {e}", token.module.name()));
        assert_eq!(
            seen.as_ref(),
            Some(&client.cert),
            "the server saw the client's certificate"
        );
    }
    assert_eq!(
        *server_chosen.lock().unwrap(),
        vec![server_alg.tls13_scheme(); 3]
    );
    assert_eq!(
        *client_chosen.lock().unwrap(),
        vec![client_alg.tls13_scheme(); 3]
    );

    // A client without a certificate is refused by that server.
    let (client_results, server_results) = run(
        server_config(certified(&server, &server_chosen), Some(&client.cert)),
        client_config(&server.cert, None),
        1,
    );
    assert!(client_results[0].is_err() || server_results[0].is_err());
    assert!(
        server_results[0].is_err(),
        "the server accepted a client without a certificate"
    );
}

#[test]
fn mutual_tls_client_key_on_token_p256() {
    let _watchdog = Watchdog::new(
        "mutual_tls_client_key_on_token_p256",
        Duration::from_secs(300),
    );
    each_module("mutual_tls_client_key_on_token_p256", |token| {
        mutual_tls(
            token,
            "mutual_tls_client_key_on_token_p256",
            Algorithm::P256,
            Algorithm::P256,
        );
    });
}

#[test]
fn mutual_tls_client_key_on_token_mixed() {
    let _watchdog = Watchdog::new(
        "mutual_tls_client_key_on_token_mixed",
        Duration::from_secs(300),
    );
    each_module("mutual_tls_client_key_on_token_mixed", |token| {
        mutual_tls(
            token,
            "mutual_tls_client_key_on_token_mixed",
            Algorithm::Rsa,
            Algorithm::P384,
        );
        mutual_tls(
            token,
            "mutual_tls_client_key_on_token_mixed",
            Algorithm::P384,
            Algorithm::Ed25519,
        );
    });
}

/// A client that trusts another certificate refuses the server; a certificate paired
/// with another key is refused when the certified key is built.
#[test]
fn untrusted_or_mismatched_certificates_fail() {
    let _watchdog = Watchdog::new(
        "untrusted_or_mismatched_certificates_fail",
        Duration::from_secs(300),
    );
    each_module("untrusted_or_mismatched_certificates_fail", |token| {
        let test = "untrusted_or_mismatched_certificates_fail";
        let source = SessionSource::from(Arc::new(token.session()));
        let Some(server) = identity(token, test, &source, Algorithm::P256, "server") else {
            return;
        };
        let Some(other) = identity(token, test, &source, Algorithm::P256, "other") else {
            return;
        };
        let chosen = Arc::new(Mutex::new(Vec::new()));
        let (client_results, _) = run(
            server_config(certified(&server, &chosen), None),
            client_config(&other.cert, None),
            1,
        );
        let error = client_results[0]
            .as_ref()
            .expect_err("an untrusted server was accepted");
        assert!(error.contains("certificate"), "{error}");

        match TlsSigningKey::new(server.key.clone()).certified_key(vec![other.cert.clone()]) {
            Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {}
            other => panic!("a certificate of another key: {other:?}"),
        }
    });
}

/// Every scheme the key offers, signed directly and checked by RustCrypto: the DER
/// ECDSA signatures TLS wants, RSA-PSS and PKCS #1 v1.5 with each hash (the latter are
/// TLS 1.2 only), Ed25519.
#[test]
fn tls_signer_schemes_verified_by_rustcrypto() {
    each_module("tls_signer_schemes_verified_by_rustcrypto", |token| {
        let test = "tls_signer_schemes_verified_by_rustcrypto";
        let source = SessionSource::from(Arc::new(token.session()));
        let message = b"TLS 1.3, server CertificateVerify\0 transcript hash stand-in".to_vec();
        for algorithm in [
            Algorithm::P256,
            Algorithm::P384,
            Algorithm::Rsa,
            Algorithm::Ed25519,
        ] {
            let Some(identity) = identity(token, test, &source, algorithm, "schemes") else {
                continue;
            };
            let key = TlsSigningKey::new(identity.key.clone());
            let schemes = key.schemes();
            assert!(!schemes.is_empty());
            assert!(key
                .choose_scheme(&[SignatureScheme::ECDSA_SHA1_Legacy])
                .is_none());
            for scheme in schemes {
                let signer = key.choose_scheme(&[scheme]).expect("the key's own scheme");
                assert_eq!(signer.scheme(), scheme);
                let signature = signer
                    .sign(&message)
                    .unwrap_or_else(|e| panic!("{}: {scheme:?}: {e}", token.module.name()));
                let ok = verify(&identity, scheme, &message, &signature);
                assert!(ok, "{}: {scheme:?} does not verify", token.module.name());
                let mut flipped = message.clone();
                flipped[0] ^= 1;
                assert!(
                    !verify(&identity, scheme, &flipped, &signature),
                    "{scheme:?}"
                );
            }
        }
    });
}

/// RustCrypto's verdict on a TLS `signature` of `message` by `identity` with `scheme`.
fn verify(identity: &Identity, scheme: SignatureScheme, message: &[u8], signature: &[u8]) -> bool {
    use x509_cert::der::Decode;
    let cert = x509_cert::Certificate::from_der(&identity.cert).expect("our certificate");
    let spki = cert.tbs_certificate.subject_public_key_info;
    let key_bytes = spki.subject_public_key.raw_bytes();
    match scheme {
        SignatureScheme::ECDSA_NISTP256_SHA256 => {
            let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).unwrap();
            p256::ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok())
        }
        SignatureScheme::ECDSA_NISTP384_SHA384 => {
            let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(key_bytes).unwrap();
            p384::ecdsa::DerSignature::try_from(signature)
                .is_ok_and(|signature| key.verify(message, &signature).is_ok())
        }
        SignatureScheme::ED25519 => {
            let key = ed25519_dalek::VerifyingKey::try_from(key_bytes).unwrap();
            ed25519_dalek::Signature::from_slice(signature)
                .is_ok_and(|signature| key.verify_strict(message, &signature).is_ok())
        }
        rsa_scheme => {
            use rsa::pkcs1::DecodeRsaPublicKey;
            let key = rsa::RsaPublicKey::from_pkcs1_der(key_bytes).unwrap();
            fn pss<D>(key: rsa::RsaPublicKey, message: &[u8], signature: &[u8]) -> bool
            where
                D: Digest + sha2::digest::FixedOutputReset,
            {
                let signature = rsa::pss::Signature::try_from(signature).unwrap();
                rsa::pss::VerifyingKey::<D>::new(key)
                    .verify(message, &signature)
                    .is_ok()
            }
            fn pkcs1<D>(key: rsa::RsaPublicKey, message: &[u8], signature: &[u8]) -> bool
            where
                D: Digest + sha2::digest::const_oid::AssociatedOid,
            {
                let signature = rsa::pkcs1v15::Signature::try_from(signature).unwrap();
                rsa::pkcs1v15::VerifyingKey::<D>::new(key)
                    .verify(message, &signature)
                    .is_ok()
            }
            match rsa_scheme {
                SignatureScheme::RSA_PSS_SHA256 => pss::<sha2::Sha256>(key, message, signature),
                SignatureScheme::RSA_PSS_SHA384 => pss::<sha2::Sha384>(key, message, signature),
                SignatureScheme::RSA_PSS_SHA512 => pss::<sha2::Sha512>(key, message, signature),
                SignatureScheme::RSA_PKCS1_SHA256 => pkcs1::<sha2::Sha256>(key, message, signature),
                SignatureScheme::RSA_PKCS1_SHA384 => pkcs1::<sha2::Sha384>(key, message, signature),
                SignatureScheme::RSA_PKCS1_SHA512 => pkcs1::<sha2::Sha512>(key, message, signature),
                other => panic!("unexpected scheme {other:?}"),
            }
        }
    }
}
