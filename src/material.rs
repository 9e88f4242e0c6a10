//! Reading certificate chains, private keys and trust bundles from files.
//!
//! Files are read once into memory, so a generation is built from one consistent snapshot of
//! its inputs and the same bytes decide whether a reload changed anything.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aws_lc_rs::digest;
use pkcs8::der::Decode;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{
    CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer, PrivateSec1KeyDer,
};
use rustls::sign::{CertifiedKey, SigningKey};
use zeroize::Zeroizing;

use crate::config::{Source, TlsConfig};
use crate::error::Error;

/// Material read from a [`Source`]: the path (or the name standing for it) and the bytes.
pub(crate) type Loaded = (PathBuf, Zeroizing<Vec<u8>>);

/// The raw bytes of everything a generation is built from, read in one pass.
pub(crate) struct Inputs {
    pub(crate) cert_chain: Option<Loaded>,
    pub(crate) private_key: Option<Loaded>,
    pub(crate) trust_bundle: Option<Loaded>,
    /// A PKCS#12 file holding the chain and key together.
    pub(crate) pkcs12: Option<Loaded>,
    /// Per SNI name: the name, its chain and its key.
    pub(crate) named: Vec<(String, Loaded, Loaded)>,
}

impl Inputs {
    /// Reads every source the configuration names.
    pub(crate) fn read(config: &TlsConfig) -> Result<Self, Error> {
        let read = |source: &Option<Source>| source.as_ref().map(read_source).transpose();
        let mut named = Vec::with_capacity(config.named_identities.len());
        for identity in &config.named_identities {
            named.push((
                identity.server_name.clone(),
                read_source(&identity.cert_chain)?,
                read_source(&identity.private_key)?,
            ));
        }
        let (cert_chain, private_key) = config.identity();
        Ok(Inputs {
            cert_chain: cert_chain.map(read_source).transpose()?,
            private_key: private_key.map(read_source).transpose()?,
            trust_bundle: read(&config.trust_bundle)?,
            pkcs12: read(&config.pkcs12)?,
            named,
        })
    }

    /// A SHA-256 over every input, so identical content is recognised without building anything.
    pub(crate) fn digest(&self) -> [u8; 32] {
        let mut context = digest::Context::new(&digest::SHA256);
        let mut add = |bytes: &[u8]| {
            // The length prefix keeps ("ab", "c") and ("a", "bc") apart.
            context.update(&(bytes.len() as u64).to_be_bytes());
            context.update(bytes);
        };
        for part in [
            &self.cert_chain,
            &self.private_key,
            &self.trust_bundle,
            &self.pkcs12,
        ] {
            add(part
                .as_ref()
                .map(|(_, bytes)| bytes.as_slice())
                .unwrap_or_default());
        }
        for (name, (_, cert_chain), (_, private_key)) in &self.named {
            add(name.as_bytes());
            add(cert_chain);
            add(private_key);
        }
        let mut out = [0u8; 32];
        out.copy_from_slice(context.finish().as_ref());
        out
    }
}

fn read_source(source: &Source) -> Result<Loaded, Error> {
    let label = source.label();
    let bytes = match source {
        Source::File(path) => {
            Zeroizing::new(fs::read(path).map_err(|err| Error::read_failure(path, err))?)
        }
        Source::Memory { bytes, .. } => Zeroizing::new(bytes.to_vec()),
    };
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::FileEmpty { path: label });
    }
    Ok((label, bytes))
}

/// Parses every PEM block of a file. A file without PEM armour that holds DER comes back as one
/// block tagged with `der_tag`; a PKCS#12 file is named as such rather than parsed.
fn pem_blocks(path: &Path, bytes: &[u8], der_tag: &str) -> Result<Vec<pem::Pem>, Error> {
    let malformed = |detail: &str| Error::MalformedPem {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    if !contains(bytes, b"-----BEGIN") {
        if is_pkcs12(bytes) {
            return Err(malformed("file is PKCS#12, not PEM"));
        }
        if bytes.first() == Some(&DER_SEQUENCE) {
            return Ok(vec![pem::Pem::new(der_tag, bytes.to_vec())]);
        }
        return Err(malformed("no PEM BEGIN/END armour found"));
    }
    let blocks = pem::parse_many(bytes).map_err(|err| malformed(&err.to_string()))?;
    if blocks.is_empty() {
        return Err(malformed("a \"-----BEGIN\" line without a complete block"));
    }
    if let Some(empty) = blocks.iter().find(|block| block.contents().is_empty()) {
        return Err(malformed(&format!("empty {} block", empty.tag())));
    }
    Ok(blocks)
}

const DER_SEQUENCE: u8 = 0x30;

/// Recognises a PKCS#12 file by its outer structure: a SEQUENCE opening with version 3 and
/// PKCS#7 data content.
fn is_pkcs12(bytes: &[u8]) -> bool {
    const VERSION_3: [u8; 3] = [0x02, 0x01, 0x03];
    const PKCS7_DATA: [u8; 11] = [
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
    ];
    let head = &bytes[..bytes.len().min(32)];
    bytes.first() == Some(&DER_SEQUENCE)
        && contains(head, &VERSION_3)
        && contains(head, &PKCS7_DATA)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}

/// Names what a list of PEM blocks holds, for "found X instead" messages.
fn describe(blocks: &[pem::Pem]) -> String {
    let mut kinds: Vec<&str> = blocks
        .iter()
        .map(|block| match block.tag() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => "a certificate",
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" | DER_KEY_TAG => "a private key",
            "ENCRYPTED PRIVATE KEY" => "an encrypted private key",
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => "a certificate request",
            "PUBLIC KEY" | "RSA PUBLIC KEY" => "a public key",
            "EC PARAMETERS" => "EC parameters",
            "X509 CRL" => "a certificate revocation list",
            _ => "an unknown PEM block",
        })
        .collect();
    kinds.dedup();
    kinds.join(", ")
}

/// Reads a certificate chain (leaf first) from a PEM or DER file.
pub(crate) fn certificate_chain(
    path: &Path,
    bytes: &[u8],
) -> Result<Vec<CertificateDer<'static>>, Error> {
    let blocks = pem_blocks(path, bytes, "CERTIFICATE")?;
    let chain: Vec<CertificateDer<'static>> = blocks
        .iter()
        .filter(|block| block.tag() == "CERTIFICATE")
        .map(|block| CertificateDer::from(block.contents().to_vec()))
        .collect();
    if chain.is_empty() {
        return Err(Error::NoCertificate {
            path: path.to_path_buf(),
            found: describe(&blocks),
        });
    }
    for certificate in &chain {
        x509_parser::parse_x509_certificate(certificate).map_err(|err| {
            Error::InvalidCertificate {
                path: path.to_path_buf(),
                detail: err.to_string(),
            }
        })?;
    }
    Ok(chain)
}

/// The tag given to a private key read from DER, whose format is then told from its content.
const DER_KEY_TAG: &str = "DER PRIVATE KEY";

/// Reads exactly one private key from a PEM or DER file, decrypting it when it is an encrypted
/// PKCS#8 key and a password is given.
pub(crate) fn private_key(
    path: &Path,
    bytes: &[u8],
    password: Option<&str>,
) -> Result<PrivateKeyDer<'static>, Error> {
    let blocks = pem_blocks(path, bytes, DER_KEY_TAG)?;
    let keys: Vec<&pem::Pem> = blocks
        .iter()
        .filter(|block| block.tag().ends_with("PRIVATE KEY"))
        .collect();
    let key = match keys.as_slice() {
        [] => {
            return Err(Error::NoPrivateKey {
                path: path.to_path_buf(),
                found: describe(&blocks),
            })
        }
        [key] => *key,
        _ => {
            return Err(Error::MultiplePrivateKeys {
                path: path.to_path_buf(),
                count: keys.len(),
            })
        }
    };

    if let Some(proc_type) = key.headers().get("Proc-Type") {
        if proc_type.contains("ENCRYPTED") {
            return crate::keys::decrypt_traditional(path, key, password);
        }
    }
    let der = key.contents().to_vec();
    let encrypted_der = key.tag() == DER_KEY_TAG
        && PrivateKeyDer::try_from(der.as_slice()).is_err()
        && pkcs8::EncryptedPrivateKeyInfo::from_der(&der).is_ok();
    if !encrypted_der {
        crate::keys::note_unused_password(path, key.tag(), password);
    }
    match key.tag() {
        DER_KEY_TAG => match PrivateKeyDer::try_from(der.clone()) {
            Ok(key) => Ok(key),
            // Not a plain key: perhaps an EncryptedPrivateKeyInfo, which has no PEM label to
            // tell it apart.
            Err(_) if pkcs8::EncryptedPrivateKeyInfo::from_der(&der).is_ok() => {
                crate::keys::decrypt_pkcs8(path, &der, password)
            }
            Err(_) => Err(Error::MalformedPem {
                path: path.to_path_buf(),
                detail: "DER that is not a PKCS#8, PKCS#1 or SEC1 private key".into(),
            }),
        },
        "PRIVATE KEY" => Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der))),
        "RSA PRIVATE KEY" => Ok(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der))),
        "EC PRIVATE KEY" => Ok(PrivateKeyDer::Sec1(PrivateSec1KeyDer::from(der))),
        "ENCRYPTED PRIVATE KEY" => crate::keys::decrypt_pkcs8(path, &der, password),
        other => Err(Error::UnsupportedKey {
            path: path.to_path_buf(),
            detail: format!("PEM block \"{other}\""),
        }),
    }
}

/// Pairs a chain with its key, checking at load time that the key belongs to the leaf.
pub(crate) fn certified_key(
    provider: &CryptoProvider,
    cert_path: &Path,
    chain: Vec<CertificateDer<'static>>,
    key_path: &Path,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<CertifiedKey>, Error> {
    let key_type = key_type(&key);
    let signing_key: Arc<dyn SigningKey> =
        provider
            .key_provider
            .load_private_key(key)
            .map_err(|err| Error::UnsupportedKey {
                path: key_path.to_path_buf(),
                detail: match key_type {
                    KeyType::Unsupported(name) => format!("unsupported key type {name}"),
                    KeyType::Supported(name) => {
                        format!("{name} key rejected by the provider: {err}")
                    }
                },
            })?;
    let chain = leaf_first(cert_path, chain, signing_key.as_ref())?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        Ok(()) => Ok(Arc::new(certified)),
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            Err(Error::KeyMismatch {
                cert_path: cert_path.to_path_buf(),
                key_path: key_path.to_path_buf(),
            })
        }
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            // The provider could not expose the key's public half; rustls then cannot compare,
            // and neither can we without parsing the key ourselves.
            tracing::warn!(
                path = %key_path.display(),
                "cannot check that the private key matches the certificate"
            );
            Ok(Arc::new(certified))
        }
        Err(err) => Err(Error::InvalidCertificate {
            path: cert_path.to_path_buf(),
            detail: err.to_string(),
        }),
    }
}

/// Puts the certificate that belongs to the key first, then its issuers in order.
///
/// A chain that already starts with the key's certificate is kept exactly as written. A chain
/// whose leaf is elsewhere is reordered, with a warning, when exactly one certificate matches the
/// key; when none does, the key does not match; when several do, the order is ambiguous.
fn leaf_first(
    cert_path: &Path,
    chain: Vec<CertificateDer<'static>>,
    key: &dyn SigningKey,
) -> Result<Vec<CertificateDer<'static>>, Error> {
    // Without the public half (a provider that cannot expose it) nothing can be compared;
    // keys_match() then reports that too.
    let Some(public_key) = key.public_key() else {
        return Ok(chain);
    };
    let spki = |certificate: &CertificateDer<'_>| {
        x509_parser::parse_x509_certificate(certificate)
            .map(|(_, parsed)| parsed.tbs_certificate.subject_pki.raw.to_vec())
            .unwrap_or_default()
    };
    if spki(&chain[0]) == public_key.as_ref() {
        return Ok(chain);
    }
    let matching: Vec<usize> = (0..chain.len())
        .filter(|&index| spki(&chain[index]) == public_key.as_ref())
        .collect();
    let leaf = match matching.as_slice() {
        // No certificate matches: keys_match() reports the mismatch against the first one.
        [] => return Ok(chain),
        [leaf] => *leaf,
        _ => {
            return Err(Error::InvalidCertificate {
                path: cert_path.to_path_buf(),
                detail: format!(
                    "{} certificates match the private key and none is first; put the leaf first",
                    matching.len()
                ),
            })
        }
    };

    let mut rest = chain;
    let mut ordered = vec![rest.remove(leaf)];
    // Follow issuer names so intermediates come before the root, whatever the file's order.
    let mut issuer = names(&ordered[0]).map(|(_, issuer)| issuer);
    while let Some(next) = rest
        .iter()
        .position(|cert| issuer.is_some() && names(cert).map(|(subject, _)| subject) == issuer)
    {
        let certificate = rest.remove(next);
        issuer = names(&certificate).map(|(_, issuer)| issuer);
        ordered.push(certificate);
    }
    ordered.extend(rest);
    tracing::warn!(
        path = %cert_path.display(),
        leaf_position = leaf + 1,
        "the certificate chain does not start with the leaf; serving it reordered"
    );
    Ok(ordered)
}

/// The raw subject and issuer names of a certificate.
fn names(certificate: &CertificateDer<'_>) -> Option<(Vec<u8>, Vec<u8>)> {
    let (_, parsed) = x509_parser::parse_x509_certificate(certificate).ok()?;
    Some((
        parsed.subject().as_raw().to_vec(),
        parsed.issuer().as_raw().to_vec(),
    ))
}

/// What a private key is, as far as its encoding tells.
enum KeyType {
    /// A type rustls signs with; a failure to load it is about the key itself (size, encoding).
    Supported(String),
    /// A type the provider cannot sign with.
    Unsupported(String),
}

fn key_type(key: &PrivateKeyDer<'_>) -> KeyType {
    use pkcs8::ObjectIdentifier as Oid;
    const RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.1");
    const RSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
    const EC: Oid = Oid::new_unwrap("1.2.840.10045.2.1");
    const P256: Oid = Oid::new_unwrap("1.2.840.10045.3.1.7");
    const P384: Oid = Oid::new_unwrap("1.3.132.0.34");
    const P521: Oid = Oid::new_unwrap("1.3.132.0.35");
    const ED25519: Oid = Oid::new_unwrap("1.3.101.112");
    const ED448: Oid = Oid::new_unwrap("1.3.101.113");
    const X25519: Oid = Oid::new_unwrap("1.3.101.110");
    const X448: Oid = Oid::new_unwrap("1.3.101.111");
    const DSA: Oid = Oid::new_unwrap("1.2.840.10040.4.1");

    let supported = |name: &str| KeyType::Supported(name.to_string());
    let der = match key {
        PrivateKeyDer::Pkcs1(_) => return supported("RSA"),
        PrivateKeyDer::Sec1(_) => return supported("EC"),
        PrivateKeyDer::Pkcs8(der) => der.secret_pkcs8_der(),
        _ => return KeyType::Unsupported("in an unknown encoding".into()),
    };
    let Ok(info) = pkcs8::PrivateKeyInfo::from_der(der) else {
        return KeyType::Unsupported("in a PKCS#8 structure that does not parse".into());
    };
    let name = match info.algorithm.oid {
        RSA => return supported("RSA"),
        ED25519 => return supported("Ed25519"),
        EC => match info.algorithm.parameters_oid() {
            Ok(P256) => return supported("EC P-256"),
            Ok(P384) => return supported("EC P-384"),
            Ok(P521) => return supported("EC P-521"),
            Ok(curve) => format!("EC on curve {curve}"),
            Err(_) => "EC with explicit curve parameters".into(),
        },
        RSA_PSS => "RSA-PSS (id-RSASSA-PSS)".into(),
        ED448 => "Ed448".into(),
        X25519 => "X25519 (a key-agreement key, not a signing key)".into(),
        X448 => "X448 (a key-agreement key, not a signing key)".into(),
        DSA => "DSA".into(),
        other => format!("with algorithm OID {other}"),
    };
    KeyType::Unsupported(name)
}

/// Reads a trust bundle into a root store; every certificate must parse.
pub(crate) fn root_store(path: &Path, bytes: &[u8]) -> Result<rustls::RootCertStore, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in certificate_chain(path, bytes)? {
        roots
            .add(certificate)
            .map_err(|err| Error::InvalidCertificate {
                path: path.to_path_buf(),
                detail: err.to_string(),
            })?;
    }
    Ok(roots)
}

/// What operators look at to tell one generation's certificate from another.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafInfo {
    /// Lowercase hex SHA-256 of the leaf's DER encoding.
    pub fingerprint: String,
    /// The subject in RFC 4514 form.
    pub subject: String,
    /// The serial number as lowercase hex without leading zeros.
    pub serial: String,
    /// notBefore, seconds since the Unix epoch.
    pub not_before: i64,
    /// notAfter, seconds since the Unix epoch.
    pub not_after: i64,
}

impl LeafInfo {
    pub(crate) fn read(path: &Path, leaf: &CertificateDer<'_>) -> Result<Self, Error> {
        let (_, parsed) =
            x509_parser::parse_x509_certificate(leaf).map_err(|err| Error::InvalidCertificate {
                path: path.to_path_buf(),
                detail: err.to_string(),
            })?;
        let serial = parsed.tbs_certificate.raw_serial();
        let serial = serial
            .iter()
            .skip_while(|byte| **byte == 0)
            .collect::<Vec<_>>();
        let serial = if serial.is_empty() {
            "0".to_string()
        } else {
            hex(serial)
        };
        Ok(LeafInfo {
            fingerprint: hex(digest::digest(&digest::SHA256, leaf).as_ref()),
            subject: parsed.subject().to_string(),
            serial: serial.trim_start_matches('0').to_string(),
            not_before: parsed.validity().not_before.timestamp(),
            not_after: parsed.validity().not_after.timestamp(),
        })
    }
}

/// Clock skew tolerated at both ends of a leaf's validity.
const CLOCK_SKEW_SECONDS: i64 = 5 * 60;

/// Refuses a leaf outside its validity period at `now`, give or take [`CLOCK_SKEW_SECONDS`].
/// With `allow_expired`, an expired leaf only logs a warning.
pub(crate) fn check_validity(
    path: &Path,
    leaf: &LeafInfo,
    now: SystemTime,
    allow_expired: bool,
) -> Result<(), Error> {
    let now = match now.duration_since(UNIX_EPOCH) {
        Ok(elapsed) => elapsed.as_secs() as i64,
        Err(before_epoch) => -(before_epoch.duration().as_secs() as i64),
    };
    if now + CLOCK_SKEW_SECONDS < leaf.not_before {
        return Err(Error::CertificateNotYetValid {
            path: path.to_path_buf(),
            not_before: leaf.not_before,
            now,
        });
    }
    if now - CLOCK_SKEW_SECONDS > leaf.not_after {
        if allow_expired {
            tracing::warn!(
                path = %path.display(),
                not_after = leaf.not_after,
                "serving an expired certificate because expired leaves are allowed at first load"
            );
            return Ok(());
        }
        return Err(Error::CertificateExpired {
            path: path.to_path_buf(),
            not_after: leaf.not_after,
            now,
        });
    }
    Ok(())
}

pub(crate) fn hex<'a>(bytes: impl IntoIterator<Item = &'a u8>) -> String {
    bytes
        .into_iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}
