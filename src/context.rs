//! One immutable generation of a TLS configuration, and the counters that prove generations die.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::SystemTime;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::{
    ProducesTickets, ResolvesServerCert, StoresServerSessions, WebPkiClientVerifier,
};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, DigitallySignedStruct, ServerConfig, SignatureScheme};

use crate::config::{ClientAuth, Role, TlsConfig};
use crate::error::Error;
use crate::material::{self, Inputs, LeafInfo, Loaded};

static LIVE_GENERATIONS: AtomicUsize = AtomicUsize::new(0);

/// Context generations alive in the whole process, across every reloading context and every
/// context loaded on its own.
pub fn live_generations() -> usize {
    LIVE_GENERATIONS.load(Ordering::Acquire)
}

/// The crypto provider every context uses: aws-lc-rs, chosen explicitly.
pub(crate) fn provider() -> &'static Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER.get_or_init(|| Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// State that outlives one generation: the live count of a family of generations and the
/// resumption state, which must survive a reload so clients keep resuming.
#[derive(Clone)]
pub(crate) struct Lineage {
    live: Arc<AtomicUsize>,
    session_storage: Arc<dyn StoresServerSessions>,
    ticketer: Arc<dyn ProducesTickets>,
    client_sessions: Arc<dyn rustls::client::ClientSessionStore>,
}

impl Lineage {
    pub(crate) fn new() -> Result<Self, Error> {
        Ok(Lineage {
            live: Arc::new(AtomicUsize::new(0)),
            session_storage: rustls::server::ServerSessionMemoryCache::new(1024),
            ticketer: rustls::crypto::aws_lc_rs::Ticketer::new()?,
            client_sessions: Arc::new(rustls::client::ClientSessionMemoryCache::new(256)),
        })
    }

    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }
}

/// Counts one generation alive in its lineage and in the process until it drops.
struct LiveToken(Arc<AtomicUsize>);

impl LiveToken {
    fn new(lineage: &Lineage) -> Self {
        lineage.live.fetch_add(1, Ordering::AcqRel);
        LIVE_GENERATIONS.fetch_add(1, Ordering::AcqRel);
        LiveToken(lineage.live.clone())
    }
}

impl Drop for LiveToken {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
        LIVE_GENERATIONS.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How many ALPN variants a generation keeps. Applications use a handful of lists; a selector
/// that echoes whatever a client offers must not grow the cache without bound, so further
/// lists are built per connection.
const MAX_ALPN_VARIANTS: usize = 8;

/// The rustls configuration of one side.
#[derive(Clone)]
pub(crate) enum RustlsConfig {
    Server(Arc<ServerConfig>),
    Client(Arc<ClientConfig>),
}

/// One immutable generation of a server or client TLS configuration.
///
/// A context is shared as an `Arc<Context>`: every connection made from it holds one, so a
/// generation lives exactly as long as its last connection or handle. It never changes after
/// it is built; a reload builds a new one.
pub struct Context {
    generation: u64,
    role: Role,
    rustls: RustlsConfig,
    leaf: Option<LeafInfo>,
    cert_chain: Vec<CertificateDer<'static>>,
    /// The server's choice of certificate by SNI name, when names have their own.
    by_server_name: Option<Arc<ByServerName>>,
    digest: [u8; 32],
    /// Copies of the rustls configuration with other ALPN lists, made on first use by
    /// connections that choose their own protocols (the Java ALPN API).
    alpn_variants: Mutex<Vec<(Vec<Vec<u8>>, RustlsConfig)>>,
    _live: LiveToken,
}

impl Context {
    /// Loads one context from the files the configuration names.
    ///
    /// # Errors
    ///
    /// Any file that is missing, unreadable, empty or malformed; a key that does not match the
    /// leaf certificate; a leaf that is expired or not yet valid (beyond five minutes of clock
    /// skew, and unless [`TlsConfig::allow_expired_leaf`] is set); a configuration that is
    /// incomplete (a server without a certificate, a verifying client without a trust bundle,
    /// client authentication without a trust bundle).
    pub fn load(config: &TlsConfig) -> Result<Arc<Context>, Error> {
        let inputs = Inputs::read(config)?;
        let context = Context::build(config, &inputs, 1, &Lineage::new()?)?;
        Ok(Arc::new(context))
    }

    pub(crate) fn build(
        config: &TlsConfig,
        inputs: &Inputs,
        generation: u64,
        lineage: &Lineage,
    ) -> Result<Context, Error> {
        let provider = provider_for(config)?;
        let versions = protocol_versions(config)?;
        crate::config::check_alpn(&config.alpn)?;
        let password = config.key_password.as_deref().map(String::as_str);
        let allow_expired = config.allow_expired_leaf && generation == 1;
        let certify = |cert_path: &Path, chain, key_path: &Path, key| {
            let certified = material::certified_key(&provider, cert_path, chain, key_path, key)?;
            let leaf = LeafInfo::read(cert_path, &certified.cert[0])?;
            // Only the first generation may start with an expired leaf; a reload never swaps
            // one in.
            material::check_validity(cert_path, &leaf, SystemTime::now(), allow_expired)?;
            Ok::<_, Error>((certified, leaf))
        };
        let identity = |(cert_path, cert_bytes): &Loaded, (key_path, key_bytes): &Loaded| {
            let chain = material::certificate_chain(cert_path, cert_bytes)?;
            let key = material::private_key(key_path, key_bytes, password)?;
            certify(cert_path, chain, key_path, key)
        };

        let main = match (&inputs.pkcs12, &inputs.cert_chain, &inputs.private_key) {
            (Some((path, bytes)), None, None) => {
                let (chain, key) = crate::pkcs12::read_pkcs12(path, bytes, password)?;
                Some(certify(path, chain, path, key)?)
            }
            (Some(_), _, _) => {
                return Err(Error::InvalidConfig(
                    "a PKCS#12 file is configured together with a certificate chain or key".into(),
                ))
            }
            (None, Some(cert_chain), Some(private_key)) => Some(identity(cert_chain, private_key)?),
            (None, None, None) => None,
            (None, Some(_), None) => {
                return Err(Error::InvalidConfig(
                    "a certificate chain is configured without its private key".into(),
                ))
            }
            (None, None, Some(_)) => {
                return Err(Error::InvalidConfig(
                    "a private key is configured without its certificate chain".into(),
                ))
            }
        };
        let mut named = Vec::with_capacity(inputs.named.len());
        for (server_name, cert_chain, private_key) in &inputs.named {
            named.push((server_name.clone(), identity(cert_chain, private_key)?.0));
        }
        let roots = match &inputs.trust_bundle {
            Some((path, bytes)) => Some(Arc::new(material::root_store(path, bytes)?)),
            None => None,
        };

        let mut by_server_name = None;
        let rustls = match config.role {
            Role::Server => {
                let Some((certified, _)) = &main else {
                    return Err(Error::InvalidConfig(
                        "a server needs a certificate chain and a private key".into(),
                    ));
                };
                let resolver: Arc<dyn ResolvesServerCert> = if named.is_empty() {
                    Arc::new(SingleCertAndKey::from(certified.clone()))
                } else {
                    let by_name = Arc::new(ByServerName {
                        default: certified.clone(),
                        named,
                    });
                    by_server_name = Some(by_name.clone());
                    by_name
                };
                let server = server_config(config, &provider, &versions, resolver, roots, lineage)?;
                RustlsConfig::Server(server)
            }
            Role::Client => {
                if !named.is_empty() {
                    return Err(Error::InvalidConfig(
                        "certificates chosen by server name (SNI) are for servers only".into(),
                    ));
                }
                let certified = main.as_ref().map(|(certified, _)| certified.clone());
                let client =
                    client_config(config, &provider, &versions, certified, roots, lineage)?;
                RustlsConfig::Client(client)
            }
        };

        let (leaf, cert_chain) = match main {
            Some((certified, leaf)) => (Some(leaf), certified.cert.clone()),
            None => (None, Vec::new()),
        };
        Ok(Context {
            generation,
            role: config.role,
            rustls,
            leaf,
            cert_chain,
            by_server_name,
            digest: inputs.digest(),
            alpn_variants: Mutex::new(Vec::new()),
            _live: LiveToken::new(lineage),
        })
    }

    /// The generation number: 1 for the first load, one more for each reload that swapped.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Whether this is a server or a client context.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The leaf certificate's fingerprint, subject, serial and validity; `None` for a client
    /// without a certificate.
    pub fn leaf(&self) -> Option<&LeafInfo> {
        self.leaf.as_ref()
    }

    /// The certificate chain this context presents, leaf first; empty for a client without one.
    pub fn cert_chain(&self) -> &[CertificateDer<'static>] {
        &self.cert_chain
    }

    /// The certificate chain a server presents to a client that asked for `server_name` by
    /// SNI (`None` when it asked for none): the one configured for that name, or
    /// [`cert_chain`](Self::cert_chain).
    pub fn cert_chain_for(&self, server_name: Option<&str>) -> &[CertificateDer<'static>] {
        match &self.by_server_name {
            Some(by_name) => &by_name.choose(server_name).cert,
            None => &self.cert_chain,
        }
    }

    pub(crate) fn digest(&self) -> &[u8; 32] {
        &self.digest
    }

    pub(crate) fn rustls(&self) -> &RustlsConfig {
        &self.rustls
    }

    /// The rustls configuration with `alpn` in place of the context's ALPN list; the copy is made
    /// once per distinct list and kept for the generation's life.
    pub(crate) fn with_alpn(&self, alpn: &[Vec<u8>]) -> RustlsConfig {
        let mut variants = self
            .alpn_variants
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some((_, config)) = variants.iter().find(|(list, _)| list.as_slice() == alpn) {
            return config.clone();
        }
        let cache = variants.len() < MAX_ALPN_VARIANTS;
        let config = match &self.rustls {
            RustlsConfig::Server(base) => {
                let mut copy = ServerConfig::clone(base);
                copy.alpn_protocols = alpn.to_vec();
                RustlsConfig::Server(Arc::new(copy))
            }
            RustlsConfig::Client(base) => {
                let mut copy = ClientConfig::clone(base);
                copy.alpn_protocols = alpn.to_vec();
                RustlsConfig::Client(Arc::new(copy))
            }
        };
        if cache {
            variants.push((alpn.to_vec(), config.clone()));
        }
        config
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("generation", &self.generation)
            .field("role", &self.role)
            .field("leaf", &self.leaf)
            .finish_non_exhaustive()
    }
}

fn protocol_versions(
    config: &TlsConfig,
) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, Error> {
    let mut versions = Vec::new();
    if config.versions.tls13 {
        versions.push(&rustls::version::TLS13);
    }
    if config.versions.tls12 {
        versions.push(&rustls::version::TLS12);
    }
    if versions.is_empty() {
        return Err(Error::InvalidConfig(
            "no TLS protocol version is enabled".into(),
        ));
    }
    Ok(versions)
}

fn server_config(
    config: &TlsConfig,
    provider: &Arc<CryptoProvider>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    resolver: Arc<dyn ResolvesServerCert>,
    roots: Option<Arc<rustls::RootCertStore>>,
    lineage: &Lineage,
) -> Result<Arc<ServerConfig>, Error> {
    let provider = provider.clone();
    let builder =
        ServerConfig::builder_with_provider(provider.clone()).with_protocol_versions(versions)?;
    let builder = match (config.client_auth, roots) {
        (ClientAuth::None, _) => builder.with_no_client_auth(),
        (mode, Some(roots)) => {
            let verifier = WebPkiClientVerifier::builder_with_provider(roots, provider);
            let verifier = match mode {
                ClientAuth::Optional => verifier.allow_unauthenticated(),
                _ => verifier,
            };
            let verifier = verifier
                .build()
                .map_err(|err| Error::InvalidConfig(format!("client verifier: {err}")))?;
            builder.with_client_cert_verifier(verifier)
        }
        (mode, None) => {
            return Err(Error::InvalidConfig(format!(
                "client authentication {mode:?} needs a trust bundle"
            )))
        }
    };
    let mut server = builder.with_cert_resolver(resolver);
    server.alpn_protocols = config.alpn.clone();
    server.session_storage = lineage.session_storage.clone();
    server.ticketer = lineage.ticketer.clone();
    Ok(Arc::new(server))
}

fn client_config(
    config: &TlsConfig,
    provider: &Arc<CryptoProvider>,
    versions: &[&'static rustls::SupportedProtocolVersion],
    certified: Option<Arc<CertifiedKey>>,
    roots: Option<Arc<rustls::RootCertStore>>,
    lineage: &Lineage,
) -> Result<Arc<ClientConfig>, Error> {
    let provider = provider.clone();
    let builder =
        ClientConfig::builder_with_provider(provider.clone()).with_protocol_versions(versions)?;
    let builder = match (config.verify_server, roots) {
        (true, Some(roots)) => builder.with_root_certificates(roots),
        (true, None) => {
            return Err(Error::InvalidConfig(
                "a client that verifies the server needs a trust bundle".into(),
            ))
        }
        (false, _) => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnyServer(provider))),
    };
    let mut client = match certified {
        Some(certified) => {
            builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(certified)))
        }
        None => builder.with_no_client_auth(),
    };
    client.alpn_protocols = config.alpn.clone();
    client.resumption = rustls::client::Resumption::store(lineage.client_sessions.clone());
    Ok(Arc::new(client))
}

/// The provider restricted to the configured cipher suites, or the full provider.
fn provider_for(config: &TlsConfig) -> Result<Arc<CryptoProvider>, Error> {
    let Some(names) = &config.cipher_suites else {
        return Ok(provider().clone());
    };
    let full = provider();
    let mut restricted = CryptoProvider::clone(full);
    restricted.cipher_suites = full
        .cipher_suites
        .iter()
        .filter(|suite| names.iter().any(|name| *name == suite_name(suite.suite())))
        .copied()
        .collect();
    let unknown: Vec<&str> = names
        .iter()
        .filter(|name| {
            full.cipher_suites
                .iter()
                .all(|suite| suite_name(suite.suite()) != **name)
        })
        .map(String::as_str)
        .collect();
    if restricted.cipher_suites.is_empty() {
        let offered: Vec<String> = full
            .cipher_suites
            .iter()
            .map(|suite| suite_name(suite.suite()))
            .collect();
        return Err(Error::InvalidConfig(format!(
            "none of the cipher suites {} is offered; offered are {}",
            names.join(", "),
            offered.join(", ")
        )));
    }
    if !unknown.is_empty() {
        tracing::warn!(
            skipped = %unknown.join(", "),
            "cipher suites not offered by rustls are skipped"
        );
    }
    Ok(Arc::new(restricted))
}

/// The standard (IANA) name of a cipher suite; rustls names TLS 1.3 suites `TLS13_...`.
pub(crate) fn suite_name(suite: rustls::CipherSuite) -> String {
    let name = suite
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("{suite:?}"));
    match name.strip_prefix("TLS13_") {
        Some(rest) => format!("TLS_{rest}"),
        None => name,
    }
}

/// Chooses the certificate by the name a client asks for (SNI); the main one otherwise.
#[derive(Debug)]
struct ByServerName {
    default: Arc<CertifiedKey>,
    named: Vec<(String, Arc<CertifiedKey>)>,
}

impl ByServerName {
    fn choose(&self, requested: Option<&str>) -> &Arc<CertifiedKey> {
        let named = self.named.iter().find(|(name, _)| {
            requested.is_some_and(|requested| name.eq_ignore_ascii_case(requested))
        });
        named.map_or(&self.default, |(_, certified)| certified)
    }
}

impl ResolvesServerCert for ByServerName {
    fn resolve(&self, client_hello: rustls::server::ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.choose(client_hello.server_name()).clone())
    }
}

/// Accepts any server certificate while still checking handshake signatures; the test mode of
/// [`TlsConfig::verify_server`].
#[derive(Debug)]
struct AcceptAnyServer(Arc<CryptoProvider>);

impl ServerCertVerifier for AcceptAnyServer {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
