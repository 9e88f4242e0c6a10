//! What a context is built from: the files, the password and the TLS settings.

use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

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
    pub(crate) cert_chain: Option<PathBuf>,
    pub(crate) private_key: Option<PathBuf>,
    pub(crate) key_password: Option<Zeroizing<String>>,
    pub(crate) trust_bundle: Option<PathBuf>,
    pub(crate) client_auth: ClientAuth,
    pub(crate) alpn: Vec<Vec<u8>>,
    pub(crate) versions: Versions,
    pub(crate) verify_server: bool,
    pub(crate) allow_expired_leaf: bool,
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
            client_auth: ClientAuth::None,
            alpn: Vec::new(),
            versions: Versions::default(),
            verify_server: true,
            allow_expired_leaf: false,
        }
    }

    /// Sets the PEM file holding the certificate chain, leaf first.
    pub fn cert_chain(mut self, path: impl Into<PathBuf>) -> Self {
        self.cert_chain = Some(path.into());
        self
    }

    /// Sets the PEM file holding the private key of the leaf (PKCS#8, PKCS#1 RSA or SEC1 EC).
    pub fn private_key(mut self, path: impl Into<PathBuf>) -> Self {
        self.private_key = Some(path.into());
        self
    }

    /// Sets the password of an encrypted private key (PKCS#8 `ENCRYPTED PRIVATE KEY`).
    pub fn key_password(mut self, password: impl Into<String>) -> Self {
        self.key_password = Some(Zeroizing::new(password.into()));
        self
    }

    /// Sets the PEM bundle of trusted CA certificates: on a server it verifies client
    /// certificates, on a client it verifies the server.
    pub fn trust_bundle(mut self, path: impl Into<PathBuf>) -> Self {
        self.trust_bundle = Some(path.into());
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

    /// The side this configuration builds contexts for.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The configured certificate chain path.
    pub fn cert_chain_path(&self) -> Option<&Path> {
        self.cert_chain.as_deref()
    }

    /// The configured private key path.
    pub fn private_key_path(&self) -> Option<&Path> {
        self.private_key.as_deref()
    }

    /// The configured trust bundle path.
    pub fn trust_bundle_path(&self) -> Option<&Path> {
        self.trust_bundle.as_deref()
    }
}
