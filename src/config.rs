//! What a context is built from: the files, the password and the TLS settings.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use zeroize::Zeroizing;

use crate::error::Error;

/// Which side of the handshake a context serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Accepts connections and presents a certificate chain.
    Server,
    /// Opens connections and verifies the server.
    Client,
}

/// Whether a server asks for, and how it treats, client certificates.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ClientAuth {
    /// No client certificate is requested.
    #[default]
    None,
    /// A certificate is requested and verified against the trust bundle when presented; a client
    /// without one is still accepted.
    Optional,
    /// A certificate verified against the trust bundle is required.
    Require,
}

/// The TLS protocol versions a context may negotiate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Versions {
    /// TLS 1.2 allowed.
    pub tls12: bool,
    /// TLS 1.3 allowed.
    pub tls13: bool,
}

impl Default for Versions {
    fn default() -> Self {
        Versions {
            tls12: true,
            tls13: true,
        }
    }
}

/// Where a certificate chain, private key or trust bundle comes from.
#[derive(Clone)]
pub enum Source {
    /// A file, read again at every load and reload.
    File(PathBuf),
    /// PEM or DER bytes handed over in memory (from a Java `KeyStore`, say). They never change,
    /// so a reload finds them unchanged. `name` stands for the path in error messages.
    Memory {
        /// What to call the material in messages, e.g. `keystore alias "broker"`.
        name: String,
        /// The PEM or DER encoding; wiped from memory when the last configuration drops it.
        bytes: Arc<Zeroizing<Vec<u8>>>,
    },
}

impl Source {
    /// In-memory material named `name` for error messages.
    pub fn memory(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Source::Memory {
            name: name.into(),
            bytes: Arc::new(Zeroizing::new(bytes.into())),
        }
    }

    /// The path, or the name standing for it, used in messages.
    pub(crate) fn label(&self) -> PathBuf {
        match self {
            Source::File(path) => path.clone(),
            Source::Memory { name, .. } => PathBuf::from(name),
        }
    }

    fn path(&self) -> Option<&Path> {
        match self {
            Source::File(path) => Some(path),
            Source::Memory { .. } => None,
        }
    }
}

impl fmt::Debug for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::File(path) => f.debug_tuple("File").field(path).finish(),
            // Never the bytes: they may be a private key.
            Source::Memory { name, bytes } => {
                write!(f, "Memory {{ name: {name:?}, {} bytes }}", bytes.len())
            }
        }
    }
}

impl<P: Into<PathBuf>> From<P> for Source {
    fn from(path: P) -> Self {
        Source::File(path.into())
    }
}

/// A certificate chain and key served to clients that ask for `server_name` by SNI.
#[derive(Clone, Debug)]
pub(crate) struct NamedIdentity {
    pub(crate) server_name: String,
    pub(crate) cert_chain: Source,
    pub(crate) private_key: Source,
}

/// Everything a context generation is built from.
///
/// A configuration names files rather than holding their content, so a
/// [`ReloadingContext`](crate::ReloadingContext) can build the next generation from the same
/// configuration after the files change.
///
/// # Defaults
///
/// No certificate, key, password or trust bundle; client authentication [`ClientAuth::None`];
/// no ALPN protocols; TLS 1.2 and 1.3; a client verifies the server; an expired leaf is refused.
#[derive(Clone, Debug)]
pub struct TlsConfig {
    pub(crate) role: Role,
    pub(crate) cert_chain: Option<Source>,
    pub(crate) private_key: Option<Source>,
    pub(crate) key_password: Option<Zeroizing<String>>,
    pub(crate) trust_bundle: Option<Source>,
    pub(crate) pkcs12: Option<Source>,
    pub(crate) named_identities: Vec<NamedIdentity>,
    pub(crate) cipher_suites: Option<Vec<String>>,
    pub(crate) test_mode: bool,
    /// The self-signed identity of a test-mode server, generated on first use and shared by
    /// clones, so reloads find it unchanged.
    test_identity: Arc<OnceLock<Option<(Source, Source)>>>,
    pub(crate) client_auth: ClientAuth,
    pub(crate) alpn: Vec<Vec<u8>>,
    pub(crate) versions: Versions,
    pub(crate) verify_server: bool,
    pub(crate) allow_expired_leaf: bool,
    pub(crate) expiry_warning: std::time::Duration,
}

impl TlsConfig {
    /// Starts a server configuration. A server needs a certificate chain and a private key.
    pub fn server() -> Self {
        Self::new(Role::Server)
    }

    /// Starts a client configuration. A client that verifies the server needs a trust bundle;
    /// a certificate chain and key are optional (for client authentication).
    pub fn client() -> Self {
        Self::new(Role::Client)
    }

    fn new(role: Role) -> Self {
        TlsConfig {
            role,
            cert_chain: None,
            private_key: None,
            key_password: None,
            trust_bundle: None,
            pkcs12: None,
            named_identities: Vec::new(),
            cipher_suites: None,
            test_mode: false,
            test_identity: Arc::new(OnceLock::new()),
            client_auth: ClientAuth::None,
            alpn: Vec::new(),
            versions: Versions::default(),
            verify_server: true,
            allow_expired_leaf: false,
            expiry_warning: crate::reload::DEFAULT_EXPIRY_WARNING,
        }
    }

    /// Sets the certificate chain: a PEM or DER file (or [`Source::memory`]), leaf first. A
    /// chain whose leaf (the certificate matching the key) is elsewhere is reordered with a
    /// warning.
    pub fn cert_chain(mut self, source: impl Into<Source>) -> Self {
        self.cert_chain = Some(source.into());
        self
    }

    /// Sets the private key of the leaf: a PEM or DER file (or [`Source::memory`]) holding one
    /// PKCS#8, PKCS#1 RSA or SEC1 EC key, possibly encrypted.
    pub fn private_key(mut self, source: impl Into<Source>) -> Self {
        self.private_key = Some(source.into());
        self
    }

    /// Sets a PKCS#12 file (`.p12`, `.pfx`) holding the certificate chain and private key
    /// together, in place of [`cert_chain`](Self::cert_chain) and
    /// [`private_key`](Self::private_key); [`key_password`](Self::key_password) opens it. OpenSSL 3
    /// defaults, `-legacy` files and files without a MAC (with a warning) are read natively.
    pub fn pkcs12(mut self, source: impl Into<Source>) -> Self {
        self.pkcs12 = Some(source.into());
        self
    }

    /// Server only: adds a certificate chain and key served to clients asking for
    /// `server_name` (SNI). Clients asking for another name, or none, get the main chain.
    pub fn identity_for_name(
        mut self,
        server_name: impl Into<String>,
        cert_chain: impl Into<Source>,
        private_key: impl Into<Source>,
    ) -> Self {
        self.add_identity_for_name(server_name.into(), cert_chain.into(), private_key.into());
        self
    }

    pub(crate) fn add_identity_for_name(
        &mut self,
        server_name: String,
        cert_chain: Source,
        private_key: Source,
    ) {
        self.named_identities.push(NamedIdentity {
            server_name: server_name.to_ascii_lowercase(),
            cert_chain,
            private_key,
        });
    }

    /// Restricts the cipher suites to these standard (IANA) names, e.g.
    /// `TLS_AES_128_GCM_SHA256` or `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256`, in any order.
    ///
    /// Names rustls does not offer (CBC, DHE, RSA key exchange suites) are skipped with a
    /// warning, since broker settings often list them; when no offered suite remains, loading
    /// fails naming them.
    pub fn cipher_suites<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.cipher_suites = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Test mode, for development only. A server without a certificate chain and key serves a
    /// self-signed certificate for `localhost` and 127.0.0.1, generated once per configuration;
    /// a client accepts any server certificate.
    pub fn test_mode(mut self, enabled: bool) -> Self {
        self.set_test_mode(enabled);
        self
    }

    pub(crate) fn set_test_mode(&mut self, enabled: bool) {
        self.test_mode = enabled;
        if enabled && self.role == Role::Client {
            self.verify_server = false;
        }
    }

    /// Sets the password of an encrypted private key (PKCS#8 `ENCRYPTED PRIVATE KEY`).
    pub fn key_password(mut self, password: impl Into<String>) -> Self {
        self.key_password = Some(Zeroizing::new(password.into()));
        self
    }

    /// Sets the PEM bundle of trusted CA certificates: on a server it verifies client
    /// certificates, on a client it verifies the server.
    pub fn trust_bundle(mut self, source: impl Into<Source>) -> Self {
        self.trust_bundle = Some(source.into());
        self
    }

    /// Sets how a server treats client certificates. Anything but [`ClientAuth::None`] needs a
    /// trust bundle.
    pub fn client_auth(mut self, mode: ClientAuth) -> Self {
        self.client_auth = mode;
        self
    }

    /// Sets the ALPN protocols, most preferred first (for example `h2`, then `http/1.1`).
    pub fn alpn<I, P>(mut self, protocols: I) -> Self
    where
        I: IntoIterator<Item = P>,
        P: AsRef<[u8]>,
    {
        self.alpn = protocols.into_iter().map(|p| p.as_ref().to_vec()).collect();
        self
    }

    /// Sets which TLS versions may be negotiated. At least one must be allowed.
    pub fn versions(mut self, versions: Versions) -> Self {
        self.versions = versions;
        self
    }

    /// Client only: whether the server's certificate is verified. Turning it off accepts any
    /// server and is meant for tests only.
    pub fn verify_server(mut self, verify: bool) -> Self {
        self.verify_server = verify;
        self
    }

    /// Whether the first load may serve a leaf that has expired (with a warning), so a server
    /// can start while its renewal is late. A reload never swaps to an expired leaf.
    pub fn allow_expired_leaf(mut self, allow: bool) -> Self {
        self.allow_expired_leaf = allow;
        self
    }

    /// The certificate chain and key to serve: the configured ones, or in test mode a generated
    /// self-signed pair when none is configured.
    pub(crate) fn identity(&self) -> (Option<&Source>, Option<&Source>) {
        if !self.test_mode
            || self.role != Role::Server
            || self.cert_chain.is_some()
            || self.private_key.is_some()
            || self.pkcs12.is_some()
        {
            return (self.cert_chain.as_ref(), self.private_key.as_ref());
        }
        match self.test_identity.get_or_init(generate_test_identity) {
            Some((cert_chain, private_key)) => (Some(cert_chain), Some(private_key)),
            None => (None, None),
        }
    }

    /// How long before the served leaf expires a reloading context logs a warning (once per
    /// generation, at load and at each reload). Defaults to 14 days.
    pub fn expiry_warning(mut self, before_expiry: std::time::Duration) -> Self {
        self.expiry_warning = before_expiry;
        self
    }

    /// The side this configuration builds contexts for.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configured certificate chain path.
    pub fn cert_chain_path(&self) -> Option<&Path> {
        self.cert_chain.as_ref().and_then(Source::path)
    }

    /// The configured private key path.
    pub fn private_key_path(&self) -> Option<&Path> {
        self.private_key.as_ref().and_then(Source::path)
    }

    /// The configured trust bundle path.
    pub fn trust_bundle_path(&self) -> Option<&Path> {
        self.trust_bundle.as_ref().and_then(Source::path)
    }

    /// Every file a load reads: chain, key, trust bundle, PKCS#12 file and the SNI identities.
    pub(crate) fn files(&self) -> Vec<PathBuf> {
        let named = self
            .named_identities
            .iter()
            .flat_map(|identity| [&identity.cert_chain, &identity.private_key]);
        [
            &self.cert_chain,
            &self.private_key,
            &self.trust_bundle,
            &self.pkcs12,
        ]
        .into_iter()
        .flatten()
        .chain(named)
        .filter_map(Source::path)
        .map(Path::to_path_buf)
        .collect()
    }
}

/// A self-signed ECDSA P-256 certificate for `localhost` and 127.0.0.1. `None` only if the
/// crypto provider cannot generate a key; loading then fails for want of a certificate.
fn generate_test_identity() -> Option<(Source, Source)> {
    let names = vec!["localhost".to_string(), "127.0.0.1".to_string()];
    let generated = rcgen::generate_simple_self_signed(names)
        .map_err(|err| tracing::error!(error = %err, "test mode cannot generate its certificate"))
        .ok()?;
    tracing::warn!(
        "test mode: serving a self-signed certificate for localhost; not for production"
    );
    Some((
        Source::memory("test mode self-signed certificate", generated.cert.pem()),
        Source::memory("test mode private key", generated.key_pair.serialize_pem()),
    ))
}

/// Checks ALPN protocol names: each must be 1 to 255 bytes (RFC 7301).
pub(crate) fn check_alpn(protocols: &[Vec<u8>]) -> Result<(), Error> {
    match protocols
        .iter()
        .find(|protocol| protocol.is_empty() || protocol.len() > 255)
    {
        Some(bad) => Err(Error::InvalidConfig(format!(
            "ALPN protocol \"{}\" must be 1 to 255 bytes",
            String::from_utf8_lossy(bad)
        ))),
        None => Ok(()),
    }
}
