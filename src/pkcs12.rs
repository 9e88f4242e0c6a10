//! Reading a certificate chain and its private key from a PKCS#12 (`.p12`, `.pfx`) file.
//!
//! Decrypted natively, so the result does not depend on what the JRE or the system OpenSSL can
//! decrypt: OpenSSL 3's defaults (PBES2 with PBKDF2 and AES-256-CBC, SHA-256 MAC), `-legacy`
//! files (triple DES key bag, RC2-40 certificate bag, SHA-1 MAC), Java keytool's, and files
//! without an integrity MAC. Every bag encryption [`crate::keys`] knows is accepted.
//!
//! The ASN.1 structures come from the RustCrypto `pkcs12` and `cms` crates, the MAC key from
//! `pkcs12`'s key derivation and the HMAC from the `hmac` crate.
//!
//! Not supported, with an error naming it: the public-key integrity mode (`signedData`), bags
//! encrypted to a recipient's public key (`envelopedData`), the PBMAC1 integrity MAC of RFC 9579,
//! and BER encodings (indefinite lengths) that are not DER.

use std::path::Path;

use ::pkcs12::kdf::Pkcs12KeyType;
use ::pkcs12::mac_data::MacData;
use ::pkcs12::pfx::Pfx;
use ::pkcs12::safe_bag::SafeContents;
use cms::encrypted_data::EncryptedData;
use hmac::{Mac, SimpleHmac};
use pkcs8::der::asn1::{AnyRef, OctetString};
use pkcs8::der::referenced::OwnedToRef;
use pkcs8::der::{Decode, Tag, TagNumber, Tagged};
use pkcs8::ObjectIdentifier;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::digest::core_api::BlockSizeUser;
use sha2::Digest;
use zeroize::Zeroizing;

use crate::error::Error;
use crate::keys::{self, Refusal, Scheme};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const ID_ENVELOPED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.3");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const LOCAL_KEY_ID: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.21");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
const SHA1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.14.3.2.26");
const SHA224: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.4");
const SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");
const PBMAC1: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.14");

/// How deep `safeContentsBag`s may nest; real files do not nest at all.
const MAX_NESTING: usize = 4;

/// Reads the one private key of a PKCS#12 file and its certificate chain, leaf first.
///
/// The leaf is the certificate whose `localKeyId` attribute equals the key bag's, or else the one
/// whose public key is the key's. After it come its issuers in order, as far as the file holds
/// them; certificates that are not on that path are left out.
///
/// A file without an integrity MAC is read, with a warning. A missing password is tried as the
/// empty password, which OpenSSL and keytool both use for "no password".
///
/// # Errors
///
/// [`Error::WrongPassword`] when the MAC does not verify or a bag does not decrypt
/// ([`Error::KeyEncrypted`] when no password or an empty one was given),
/// [`Error::UnsupportedEncryption`] naming the scheme, [`Error::MalformedKey`] for a file that is
/// not PKCS#12 or is truncated, [`Error::NoPrivateKey`] or [`Error::MultiplePrivateKeys`] when
/// the file does not hold exactly one key, [`Error::NoCertificate`] when it holds none, and
/// [`Error::KeyMismatch`] when no certificate belongs to the key.
pub(crate) fn read_pkcs12(
    path: &Path,
    bytes: &[u8],
    password: Option<&str>,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), Error> {
    let contents = open(bytes, password).map_err(|refusal| refusal.into_error(path, password))?;
    if !contents.authenticated {
        tracing::warn!(
            path = %path.display(),
            "PKCS#12 file has no integrity MAC; its contents are not authenticated"
        );
    }

    let mut keys = contents.keys;
    let key = match keys.len() {
        0 => {
            return Err(Error::NoPrivateKey {
                path: path.to_path_buf(),
                found: describe_certificates(contents.certificates.len()),
            })
        }
        1 => keys.remove(0),
        count => {
            return Err(Error::MultiplePrivateKeys {
                path: path.to_path_buf(),
                count,
            })
        }
    };
    if let Some(scheme) = &key.scheme {
        keys::log_scheme(path, scheme);
    }
    if contents.certificates.is_empty() {
        return Err(Error::NoCertificate {
            path: path.to_path_buf(),
            found: "a private key".into(),
        });
    }

    let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.der.to_vec()));
    let Some(leaf) = find_leaf(&contents.certificates, &key, &key_der) else {
        return Err(Error::KeyMismatch {
            cert_path: path.to_path_buf(),
            key_path: path.to_path_buf(),
        });
    };
    let chain = issuer_path(path, &contents.certificates, leaf);
    if chain.len() < contents.certificates.len() {
        tracing::debug!(
            path = %path.display(),
            left_out = contents.certificates.len() - chain.len(),
            "PKCS#12 certificates that are not on the leaf's issuer path are left out"
        );
    }
    Ok((chain, key_der))
}

/// What the bags of a PKCS#12 file hold, decrypted.
struct Contents {
    keys: Vec<KeyBag>,
    certificates: Vec<CertificateBag>,
    /// Whether an integrity MAC was present and verified.
    authenticated: bool,
}

struct KeyBag {
    /// A PKCS#8 `PrivateKeyInfo`.
    der: Zeroizing<Vec<u8>>,
    local_key_id: Option<Vec<u8>>,
    /// How the key bag was encrypted, when it was.
    scheme: Option<Scheme>,
}

struct CertificateBag {
    der: Vec<u8>,
    local_key_id: Option<Vec<u8>>,
}

fn open(bytes: &[u8], password: Option<&str>) -> Result<Contents, Refusal> {
    let pfx = Pfx::from_der(bytes)
        .map_err(|err| Refusal::Malformed(format!("not a PKCS#12 file: {err}")))?;
    if pfx.auth_safe.content_type == ID_SIGNED_DATA {
        return Err(Refusal::Unsupported(
            "PKCS#12 public-key integrity mode (signedData)".into(),
        ));
    }
    if pfx.auth_safe.content_type != ID_DATA {
        return Err(Refusal::Unsupported(format!(
            "PKCS#12 content type {}",
            pfx.auth_safe.content_type
        )));
    }
    let auth_safe = pfx
        .auth_safe
        .content
        .decode_as::<OctetString>()
        .map_err(|err| Refusal::Malformed(format!("PKCS#12 authenticated safe: {err}")))?;

    let (password, authenticated) = match &pfx.mac_data {
        Some(mac_data) => {
            let attempt = password.unwrap_or("");
            verify_mac(mac_data, attempt, auth_safe.as_bytes())?;
            (Some(attempt), true)
        }
        None => (password, false),
    };

    read_safes(auth_safe.as_bytes(), password, authenticated).map_err(|refusal| match refusal {
        // The MAC proved the password right: a bag that still does not decrypt is damaged.
        Refusal::Undecryptable if authenticated => Refusal::Malformed(
            "a PKCS#12 bag does not decrypt with the password its MAC accepted".into(),
        ),
        other => other,
    })
}

fn read_safes(
    auth_safe: &[u8],
    password: Option<&str>,
    authenticated: bool,
) -> Result<Contents, Refusal> {
    let safes = ::pkcs12::authenticated_safe::AuthenticatedSafe::from_der(auth_safe)
        .map_err(|err| Refusal::Malformed(format!("PKCS#12 authenticated safe: {err}")))?;
    let mut contents = Contents {
        keys: Vec::new(),
        certificates: Vec::new(),
        authenticated,
    };
    for safe in safes {
        let safe_contents = match safe.content_type {
            ID_DATA => {
                let data = safe
                    .content
                    .decode_as::<OctetString>()
                    .map_err(|err| Refusal::Malformed(format!("PKCS#12 data content: {err}")))?;
                SafeContents::from_der(data.as_bytes())
                    .map_err(|err| Refusal::Malformed(format!("PKCS#12 safe contents: {err}")))?
            }
            ID_ENCRYPTED_DATA => decrypt_safe_contents(&safe.content, password)?,
            ID_ENVELOPED_DATA => {
                return Err(Refusal::Unsupported(
                    "PKCS#12 bags encrypted to a public key (envelopedData)".into(),
                ))
            }
            other => {
                return Err(Refusal::Unsupported(format!(
                    "PKCS#12 content type {other}"
                )))
            }
        };
        read_bags(safe_contents, password, 0, &mut contents)?;
    }
    Ok(contents)
}

fn verify_mac(mac_data: &MacData, password: &str, data: &[u8]) -> Result<(), Refusal> {
    if mac_data.iterations < 1 || i64::from(mac_data.iterations) > 10_000_000 {
        return Err(Refusal::Unsupported(format!(
            "PKCS#12 MAC with {} iterations",
            mac_data.iterations
        )));
    }
    let expected = mac_data.mac.digest.as_bytes();
    let salt = mac_data.mac_salt.as_bytes();
    let iterations = mac_data.iterations;
    let verified = match mac_data.mac.algorithm.oid {
        SHA1 => hmac_matches::<sha1::Sha1>(password, salt, iterations, data, expected),
        SHA224 => hmac_matches::<sha2::Sha224>(password, salt, iterations, data, expected),
        SHA256 => hmac_matches::<sha2::Sha256>(password, salt, iterations, data, expected),
        SHA384 => hmac_matches::<sha2::Sha384>(password, salt, iterations, data, expected),
        SHA512 => hmac_matches::<sha2::Sha512>(password, salt, iterations, data, expected),
        PBMAC1 => {
            return Err(Refusal::Unsupported(
                "PKCS#12 integrity MAC PBMAC1 (RFC 9579)".into(),
            ))
        }
        other => {
            return Err(Refusal::Unsupported(format!(
                "PKCS#12 integrity MAC with digest {other}"
            )))
        }
    };
    if verified {
        Ok(())
    } else {
        Err(Refusal::Undecryptable)
    }
}

/// Whether the PKCS#12 MAC (RFC 7292 appendix B key derivation, then HMAC) over `data` is
/// `expected`. The comparison is constant-time.
fn hmac_matches<D>(
    password: &str,
    salt: &[u8],
    iterations: i32,
    data: &[u8],
    expected: &[u8],
) -> bool
where
    D: Digest + BlockSizeUser + sha2::digest::FixedOutputReset,
{
    let key_len = <D as Digest>::output_size();
    let Ok(key) = ::pkcs12::kdf::derive_key_utf8::<D>(
        password,
        salt,
        Pkcs12KeyType::Mac,
        iterations,
        key_len,
    )
    .map(Zeroizing::new) else {
        return false;
    };
    let Ok(mut mac) = <SimpleHmac<D> as Mac>::new_from_slice(&key) else {
        return false;
    };
    mac.update(data);
    mac.verify_slice(expected).is_ok()
}

fn decrypt_safe_contents(
    content: &pkcs8::der::Any,
    password: Option<&str>,
) -> Result<SafeContents, Refusal> {
    let encrypted_data = content
        .decode_as::<EncryptedData>()
        .map_err(|err| Refusal::Malformed(format!("PKCS#12 encrypted data: {err}")))?;
    let info = &encrypted_data.enc_content_info;
    let Some(ciphertext) = &info.encrypted_content else {
        return Ok(SafeContents::new());
    };
    let plaintext = keys::decrypt(
        info.content_enc_alg.owned_to_ref(),
        ciphertext.as_bytes(),
        password,
    )?;
    // Without a MAC, a wrong password shows only here: the padding passed by chance but the
    // bytes are not a list of bags.
    SafeContents::from_der(&plaintext.der).map_err(|_| Refusal::Undecryptable)
}

fn read_bags(
    bags: SafeContents,
    password: Option<&str>,
    depth: usize,
    contents: &mut Contents,
) -> Result<(), Refusal> {
    for bag in bags {
        let value = explicit_zero(&bag.bag_value)?;
        let local_key_id = bag.bag_attributes.as_ref().and_then(|attributes| {
            let attribute = attributes
                .iter()
                .find(|attribute| attribute.oid == LOCAL_KEY_ID)?;
            let id = attribute
                .values
                .iter()
                .next()?
                .decode_as::<OctetString>()
                .ok()?;
            Some(id.as_bytes().to_vec())
        });
        match bag.bag_id {
            ::pkcs12::PKCS_12_KEY_BAG_OID => {
                if pkcs8::PrivateKeyInfo::from_der(value).is_err() {
                    return Err(Refusal::Malformed("PKCS#12 key bag is not PKCS#8".into()));
                }
                contents.keys.push(KeyBag {
                    der: Zeroizing::new(value.to_vec()),
                    local_key_id,
                    scheme: None,
                });
            }
            ::pkcs12::PKCS_12_PKCS8_KEY_BAG_OID => {
                let plaintext = keys::decrypt_private_key_info(value, password)?;
                contents.keys.push(KeyBag {
                    der: plaintext.der,
                    local_key_id,
                    scheme: Some(plaintext.scheme),
                });
            }
            ::pkcs12::PKCS_12_CERT_BAG_OID => {
                let cert_bag = ::pkcs12::cert_type::CertBag::from_der(value)
                    .map_err(|err| Refusal::Malformed(format!("PKCS#12 certificate bag: {err}")))?;
                // SDSI certificates never carry a TLS chain; such bags are passed over.
                if cert_bag.cert_id == X509_CERTIFICATE {
                    contents.certificates.push(CertificateBag {
                        der: cert_bag.cert_value.as_bytes().to_vec(),
                        local_key_id,
                    });
                }
            }
            ::pkcs12::PKCS_12_SAFE_CONTENTS_BAG_OID => {
                if depth >= MAX_NESTING {
                    return Err(Refusal::Malformed(
                        "PKCS#12 safe contents nested too deeply".into(),
                    ));
                }
                let nested = SafeContents::from_der(value)
                    .map_err(|err| Refusal::Malformed(format!("PKCS#12 nested bags: {err}")))?;
                read_bags(nested, password, depth + 1, contents)?;
            }
            // CRL and secret bags are not part of a TLS identity.
            _ => {}
        }
    }
    Ok(())
}

/// The content of a bag value, which is wrapped in an explicit `[0]` tag.
fn explicit_zero(bag_value: &[u8]) -> Result<&[u8], Refusal> {
    let wrapper = AnyRef::from_der(bag_value)
        .map_err(|err| Refusal::Malformed(format!("PKCS#12 bag value: {err}")))?;
    let expected = Tag::ContextSpecific {
        constructed: true,
        number: TagNumber::N0,
    };
    if wrapper.tag() != expected {
        return Err(Refusal::Malformed(format!(
            "PKCS#12 bag value tagged {} instead of [0]",
            wrapper.tag()
        )));
    }
    Ok(wrapper.value())
}

fn describe_certificates(count: usize) -> String {
    match count {
        0 => "no certificate either".into(),
        1 => "1 certificate".into(),
        _ => format!("{count} certificates"),
    }
}

/// The index of the certificate that belongs to the key.
fn find_leaf(
    certificates: &[CertificateBag],
    key: &KeyBag,
    key_der: &PrivateKeyDer<'static>,
) -> Option<usize> {
    if let Some(id) = &key.local_key_id {
        let by_id = certificates
            .iter()
            .position(|certificate| certificate.local_key_id.as_ref() == Some(id));
        if by_id.is_some() {
            return by_id;
        }
    }
    let signing_key = rustls::crypto::aws_lc_rs::sign::any_supported_type(key_der).ok()?;
    let public_key = signing_key.public_key()?;
    certificates.iter().position(|certificate| {
        x509_parser::parse_x509_certificate(&certificate.der)
            .is_ok_and(|(_, parsed)| parsed.tbs_certificate.subject_pki.raw == public_key.as_ref())
    })
}

/// The leaf and then each issuer the file holds, following subject and issuer names.
fn issuer_path(
    path: &Path,
    certificates: &[CertificateBag],
    leaf: usize,
) -> Vec<CertificateDer<'static>> {
    let names: Vec<Option<(Vec<u8>, Vec<u8>)>> = certificates
        .iter()
        .map(|certificate| {
            x509_parser::parse_x509_certificate(&certificate.der)
                .ok()
                .map(|(_, parsed)| {
                    (
                        parsed.tbs_certificate.subject.as_raw().to_vec(),
                        parsed.tbs_certificate.issuer.as_raw().to_vec(),
                    )
                })
        })
        .collect();
    if names[leaf].is_none() {
        tracing::debug!(path = %path.display(), "the PKCS#12 leaf certificate does not parse");
    }

    let mut order = vec![leaf];
    let mut current = leaf;
    while let Some((subject, issuer)) = &names[current] {
        if subject == issuer {
            break;
        }
        let next = (0..certificates.len()).find(|&candidate| {
            !order.contains(&candidate)
                && names[candidate]
                    .as_ref()
                    .is_some_and(|(candidate_subject, _)| candidate_subject == issuer)
        });
        let Some(next) = next else {
            break;
        };
        order.push(next);
        current = next;
    }
    order
        .into_iter()
        .map(|index| CertificateDer::from(certificates[index].der.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn case(file: &str) -> PathBuf {
        let cases = match std::env::var_os("TLSCTX_CASES") {
            Some(dir) => PathBuf::from(dir),
            None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cases"),
        };
        cases.join("B21").join(file)
    }

    fn password() -> String {
        std::fs::read_to_string(case("password.txt")).unwrap()
    }

    fn pem_der(file: &str) -> Vec<Vec<u8>> {
        pem::parse_many(std::fs::read(case(file)).unwrap())
            .unwrap()
            .into_iter()
            .map(|block| block.contents().to_vec())
            .collect()
    }

    fn read(file: &str, password: Option<&str>) -> Result<(Vec<Vec<u8>>, Vec<u8>), Error> {
        let path = case(file);
        let bytes = std::fs::read(&path).unwrap();
        let (chain, key) = read_pkcs12(&path, &bytes, password)?;
        Ok((
            chain
                .iter()
                .map(|certificate| certificate.to_vec())
                .collect(),
            key.secret_der().to_vec(),
        ))
    }

    /// The PKCS#8 form of `server.key`, whatever form the file has.
    fn reference_key() -> Vec<u8> {
        let block = pem::parse(std::fs::read(case("server.key")).unwrap()).unwrap();
        assert_eq!(block.tag(), "PRIVATE KEY");
        block.contents().to_vec()
    }

    fn expected_chain() -> Vec<Vec<u8>> {
        let mut chain = pem_der("server.crt");
        chain.extend(pem_der("ca.crt"));
        chain
    }

    #[test]
    fn openssl3_default_file_gives_leaf_ca_and_key() {
        let (chain, key) = read("server-openssl3-default.p12", Some(&password())).unwrap();
        assert_eq!(chain, expected_chain());
        assert_eq!(key, reference_key());
    }

    #[test]
    fn legacy_3des_rc2_file_gives_leaf_ca_and_key() {
        let (chain, key) = read("server-legacy-3des-rc2.p12", Some(&password())).unwrap();
        assert_eq!(chain, expected_chain());
        assert_eq!(key, reference_key());
    }

    #[test]
    fn file_without_mac_gives_leaf_ca_and_key() {
        let (chain, key) = read("server-nomac.p12", Some(&password())).unwrap();
        assert_eq!(chain, expected_chain());
        assert_eq!(key, reference_key());
    }

    #[test]
    fn wrong_password_is_reported_for_every_file() {
        for file in [
            "server-openssl3-default.p12",
            "server-legacy-3des-rc2.p12",
            "server-nomac.p12",
        ] {
            let failure = read(file, Some("not-the-password")).unwrap_err();
            assert!(
                matches!(failure, Error::WrongPassword { .. }),
                "{file}: {failure:?}"
            );
            assert_eq!(
                failure.to_string(),
                format!(
                    "{}: wrong password for the encrypted private key",
                    case(file).display()
                )
            );
        }
    }

    #[test]
    fn missing_password_is_reported_as_encrypted() {
        for file in [
            "server-openssl3-default.p12",
            "server-legacy-3des-rc2.p12",
            "server-nomac.p12",
        ] {
            let failure = read(file, None).unwrap_err();
            assert!(
                matches!(failure, Error::KeyEncrypted { .. }),
                "{file}: {failure:?}"
            );
        }
    }

    #[test]
    fn a_pem_file_is_not_pkcs12() {
        let failure = read("server.crt", Some(&password())).unwrap_err();
        assert!(matches!(failure, Error::MalformedKey { .. }), "{failure:?}");
        assert!(failure.to_string().starts_with(&format!(
            "{}: malformed private key: not a PKCS#12 file",
            case("server.crt").display()
        )));
    }

    #[test]
    fn a_truncated_file_is_malformed_not_a_wrong_password() {
        let path = case("server-openssl3-default.p12");
        let bytes = std::fs::read(&path).unwrap();
        for cut in [bytes.len() / 2, bytes.len() - 1] {
            let failure = read_pkcs12(&path, &bytes[..cut], Some(&password())).unwrap_err();
            assert!(
                matches!(failure, Error::MalformedKey { .. }),
                "cut at {cut}: {failure:?}"
            );
        }
    }

    /// Makes a PKCS#12 file from B21's PEM files with `openssl pkcs12 -export` and `options`.
    fn openssl_export(dir: &Path, name: &str, options: &[&str]) -> PathBuf {
        openssl_export_with(dir, name, options, "p12-pw")
    }

    fn openssl_export_with(dir: &Path, name: &str, options: &[&str], password: &str) -> PathBuf {
        let out = dir.join(name);
        let output = std::process::Command::new("openssl")
            .args([
                "pkcs12",
                "-export",
                "-provider",
                "legacy",
                "-provider",
                "default",
            ])
            .args(options)
            .arg("-in")
            .arg(case("server.crt"))
            .arg("-inkey")
            .arg(case("server.key"))
            .arg("-certfile")
            .arg(case("ca.crt"))
            .arg("-out")
            .arg(&out)
            .arg("-passout")
            .arg(format!("pass:{password}"))
            .output()
            .expect("the openssl command line tool is needed to make PKCS#12 files");
        assert!(
            output.status.success(),
            "openssl pkcs12 {options:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    }

    #[test]
    fn pkcs12_files_with_other_schemes_made_by_openssl_load() {
        let dir = tempfile::tempdir().unwrap();
        let variants: [(&str, &[&str]); 4] = [
            (
                "rc4.p12",
                &[
                    "-keypbe",
                    "PBE-SHA1-RC4-128",
                    "-certpbe",
                    "PBE-SHA1-RC2-128",
                ],
            ),
            (
                "pbes2-des3.p12",
                &["-keypbe", "DES-EDE3-CBC", "-certpbe", "AES-128-CBC"],
            ),
            ("sha512-mac.p12", &["-macalg", "SHA512"]),
            ("cleartext-certs.p12", &["-certpbe", "NONE"]),
        ];
        for (name, options) in variants {
            let path = openssl_export(dir.path(), name, options);
            let bytes = std::fs::read(&path).unwrap();
            let (chain, key) = read_pkcs12(&path, &bytes, Some("p12-pw")).unwrap();
            let chain: Vec<Vec<u8>> = chain.iter().map(|c| c.to_vec()).collect();
            assert_eq!(chain, expected_chain(), "{name}");
            assert_eq!(key.secret_der(), reference_key().as_slice(), "{name}");
        }
    }

    #[test]
    fn an_unencrypted_pkcs12_file_without_mac_needs_no_password() {
        let dir = tempfile::tempdir().unwrap();
        let path = openssl_export(
            dir.path(),
            "clear.p12",
            &["-keypbe", "NONE", "-certpbe", "NONE", "-nomac"],
        );
        let bytes = std::fs::read(&path).unwrap();
        let (chain, key) = read_pkcs12(&path, &bytes, None).unwrap();
        assert_eq!(chain.len(), 2);
        assert_eq!(chain[0].as_ref(), pem_der("server.crt")[0].as_slice());
        assert_eq!(key.secret_der(), reference_key().as_slice());
    }

    #[test]
    fn a_certificate_only_file_has_no_private_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = openssl_export(dir.path(), "certs.p12", &["-nokeys"]);
        let bytes = std::fs::read(&path).unwrap();
        let failure = read_pkcs12(&path, &bytes, Some("p12-pw")).unwrap_err();
        assert_eq!(
            failure.to_string(),
            format!(
                "{}: no private key found (found 2 certificates)",
                path.display()
            )
        );
    }

    #[test]
    fn damaged_files_never_panic_and_truncated_ones_fail() {
        let password = password();
        for file in [
            "server-openssl3-default.p12",
            "server-legacy-3des-rc2.p12",
            "server-nomac.p12",
        ] {
            let path = case(file);
            let bytes = std::fs::read(&path).unwrap();
            let stride = std::env::var("TLSCTX_DAMAGE_STRIDE")
                .ok()
                .and_then(|stride| stride.parse().ok())
                .unwrap_or(97);
            for at in (0..bytes.len()).step_by(stride) {
                let mut damaged = bytes.clone();
                damaged[at] ^= 0x41;
                let _ = read_pkcs12(&path, &damaged, Some(&password));
                assert!(read_pkcs12(&path, &bytes[..at], Some(&password)).is_err());
            }
        }
    }

    #[test]
    fn a_file_with_an_empty_password_loads_without_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = openssl_export_with(dir.path(), "empty.p12", &[], "");
        let bytes = std::fs::read(&path).unwrap();
        for password in [None, Some("")] {
            let (chain, key) = read_pkcs12(&path, &bytes, password).unwrap();
            assert_eq!(chain[0].as_ref(), pem_der("server.crt")[0].as_slice());
            assert_eq!(key.secret_der(), reference_key().as_slice());
        }
        let failure = read_pkcs12(&path, &bytes, Some("p12-pw")).unwrap_err();
        assert!(
            matches!(failure, Error::WrongPassword { .. }),
            "{failure:?}"
        );
    }
}
