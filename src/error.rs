//! The one error type of tlsctx, and the result codes it maps to across the C ABI and JNI.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// Everything that can go wrong while loading, reloading or running a TLS context.
///
/// Every variant that concerns a file carries its path, so the message printed by
/// [`Display`](fmt::Display) names the file and the problem.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A file named in the configuration does not exist.
    FileNotFound {
        /// The path as configured.
        path: PathBuf,
    },
    /// A file exists but could not be read (permissions, a directory, an I/O error).
    FileUnreadable {
        /// The path as configured.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A file is empty.
    FileEmpty {
        /// The path as configured.
        path: PathBuf,
    },
    /// A PEM block is malformed or truncated.
    MalformedPem {
        /// The path as configured.
        path: PathBuf,
        /// What the PEM parser reported.
        detail: String,
    },
    /// The certificate file holds no certificate.
    NoCertificate {
        /// The path as configured.
        path: PathBuf,
        /// What the file holds instead, e.g. "a private key".
        found: String,
    },
    /// The key file holds no private key.
    NoPrivateKey {
        /// The path as configured.
        path: PathBuf,
        /// What the file holds instead, e.g. "a certificate".
        found: String,
    },
    /// The key file holds more than one private key.
    MultiplePrivateKeys {
        /// The path as configured.
        path: PathBuf,
        /// How many keys were found.
        count: usize,
    },
    /// The key is encrypted and no password was configured.
    KeyEncrypted {
        /// The path as configured.
        path: PathBuf,
    },
    /// The key could not be decrypted with the configured password.
    WrongPassword {
        /// The path as configured.
        path: PathBuf,
    },
    /// The key is encrypted with a scheme tlsctx cannot decrypt.
    UnsupportedEncryption {
        /// The path as configured.
        path: PathBuf,
        /// The scheme, as named in the file.
        scheme: String,
    },
    /// The key's algorithm or parameters are not supported by the crypto provider.
    UnsupportedKey {
        /// The path as configured.
        path: PathBuf,
        /// What the provider reported.
        detail: String,
    },
    /// The private key does not belong to the leaf certificate.
    KeyMismatch {
        /// The certificate chain's path.
        cert_path: PathBuf,
        /// The private key's path.
        key_path: PathBuf,
    },
    /// A certificate could not be parsed.
    InvalidCertificate {
        /// The path as configured.
        path: PathBuf,
        /// What the parser reported.
        detail: String,
    },
    /// The leaf certificate's notAfter has passed (beyond the tolerated clock skew).
    CertificateExpired {
        /// The certificate chain's path.
        path: PathBuf,
        /// The leaf's notAfter, seconds since the epoch.
        not_after: i64,
        /// The time of the check, seconds since the epoch.
        now: i64,
    },
    /// The leaf certificate's notBefore is still ahead (beyond the tolerated clock skew).
    CertificateNotYetValid {
        /// The certificate chain's path.
        path: PathBuf,
        /// The leaf's notBefore, seconds since the epoch.
        not_before: i64,
        /// The time of the check, seconds since the epoch.
        now: i64,
    },
    /// The configuration is incomplete or contradictory.
    InvalidConfig(String),
    /// A TLS protocol error on a connection (a bad peer message, an alert, a failed verification).
    Tls(rustls::Error),
    /// A connection was used in a way its state does not allow.
    InvalidState(&'static str),
    /// The private key or PKCS#12 file is readable as PEM or DER, but the structure inside is
    /// malformed or truncated (as opposed to a wrong password or an unsupported scheme).
    MalformedKey {
        /// The path as configured.
        path: PathBuf,
        /// What is wrong with the structure.
        detail: String,
    },
}

impl Error {
    pub(crate) fn read_failure(path: &Path, source: io::Error) -> Self {
        match source.kind() {
            io::ErrorKind::NotFound => Error::FileNotFound {
                path: path.to_path_buf(),
            },
            _ => Error::FileUnreadable {
                path: path.to_path_buf(),
                source,
            },
        }
    }

    /// The file this error is about, when it is about one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Error::FileNotFound { path }
            | Error::FileUnreadable { path, .. }
            | Error::FileEmpty { path }
            | Error::MalformedPem { path, .. }
            | Error::NoCertificate { path, .. }
            | Error::NoPrivateKey { path, .. }
            | Error::MultiplePrivateKeys { path, .. }
            | Error::KeyEncrypted { path }
            | Error::WrongPassword { path }
            | Error::UnsupportedEncryption { path, .. }
            | Error::UnsupportedKey { path, .. }
            | Error::InvalidCertificate { path, .. }
            | Error::CertificateExpired { path, .. }
            | Error::CertificateNotYetValid { path, .. }
            | Error::MalformedKey { path, .. } => Some(path),
            Error::KeyMismatch { key_path, .. } => Some(key_path),
            Error::InvalidConfig(_) | Error::Tls(_) | Error::InvalidState(_) => None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::FileNotFound { path } => write!(f, "{}: file not found", path.display()),
            Error::FileUnreadable { path, source } => {
                write!(f, "{}: file cannot be read: {source}", path.display())
            }
            Error::FileEmpty { path } => write!(f, "{}: file is empty", path.display()),
            Error::MalformedPem { path, detail } => {
                write!(f, "{}: malformed PEM: {detail}", path.display())
            }
            Error::NoCertificate { path, found } => {
                write!(
                    f,
                    "{}: no certificate found (found {found})",
                    path.display()
                )
            }
            Error::NoPrivateKey { path, found } => {
                write!(
                    f,
                    "{}: no private key found (found {found})",
                    path.display()
                )
            }
            Error::MultiplePrivateKeys { path, count } => {
                write!(
                    f,
                    "{}: expected one private key, found {count}",
                    path.display()
                )
            }
            Error::KeyEncrypted { path } => {
                write!(
                    f,
                    "{}: private key is encrypted and no password was given",
                    path.display()
                )
            }
            Error::WrongPassword { path } => {
                write!(
                    f,
                    "{}: wrong password for the encrypted private key",
                    path.display()
                )
            }
            Error::UnsupportedEncryption { path, scheme } => {
                write!(
                    f,
                    "{}: unsupported key encryption scheme: {scheme}",
                    path.display()
                )
            }
            Error::UnsupportedKey { path, detail } => {
                write!(f, "{}: unsupported private key: {detail}", path.display())
            }
            Error::KeyMismatch {
                cert_path,
                key_path,
            } => write!(
                f,
                "{}: private key does not match the certificate's public key (certificate {})",
                key_path.display(),
                cert_path.display()
            ),
            Error::InvalidCertificate { path, detail } => {
                write!(f, "{}: invalid certificate: {detail}", path.display())
            }
            Error::CertificateExpired {
                path,
                not_after,
                now,
            } => write!(
                f,
                "{}: certificate expired: valid until {}, now {}",
                path.display(),
                date(*not_after),
                date(*now)
            ),
            Error::CertificateNotYetValid {
                path,
                not_before,
                now,
            } => write!(
                f,
                "{}: certificate not yet valid: valid from {}, now {}",
                path.display(),
                date(*not_before),
                date(*now)
            ),
            Error::InvalidConfig(detail) => write!(f, "invalid configuration: {detail}"),
            Error::Tls(err) => write!(f, "TLS error: {err}"),
            Error::InvalidState(detail) => write!(f, "invalid connection state: {detail}"),
            Error::MalformedKey { path, detail } => {
                write!(f, "{}: malformed private key: {detail}", path.display())
            }
        }
    }
}

/// A timestamp as operators read it in `openssl x509 -dates`.
fn date(seconds: i64) -> String {
    match x509_parser::time::ASN1Time::from_timestamp(seconds) {
        Ok(time) => time.to_string(),
        Err(_) => format!("{seconds} seconds after the epoch"),
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::FileUnreadable { source, .. } => Some(source),
            Error::Tls(err) => Some(err),
            _ => None,
        }
    }
}

impl From<rustls::Error> for Error {
    fn from(err: rustls::Error) -> Self {
        Error::Tls(err)
    }
}
