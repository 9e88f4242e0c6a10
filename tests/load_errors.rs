//! Loading errors name the file and the problem, for every condition an operator meets first.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;

use common::case;
use tlsctx::{ClientAuth, Context, Error, TlsConfig};

fn load_server(cert: &std::path::Path, key: &std::path::Path) -> Error {
    Context::load(&TlsConfig::server().cert_chain(cert).private_key(key)).unwrap_err()
}

#[test]
fn a_key_in_the_certificate_file_is_named() {
    let key = case("B05", "server-pkcs8.key");
    let failure = load_server(&key, &key);
    assert!(
        matches!(failure, Error::NoCertificate { .. }),
        "{failure:?}"
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: no certificate found (found a private key)",
            key.display()
        )
    );
}

#[test]
fn a_certificate_in_the_key_file_is_named() {
    let cert = case("B05", "server.crt");
    let failure = load_server(&cert, &cert);
    assert!(matches!(failure, Error::NoPrivateKey { .. }), "{failure:?}");
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: no private key found (found a certificate)",
            cert.display()
        )
    );
}

#[test]
fn text_without_pem_armour_is_malformed() {
    let dir = tempfile::tempdir().unwrap();
    let cert = dir.path().join("notes.txt");
    fs::write(&cert, "this is not a certificate\n").unwrap();
    let failure = load_server(&cert, &case("B05", "server.crt"));
    assert!(matches!(failure, Error::MalformedPem { .. }), "{failure:?}");
    assert!(failure
        .to_string()
        .starts_with(&format!("{}: malformed PEM", cert.display())));
}

#[test]
fn two_keys_in_one_file_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("two.key");
    let mut bytes = fs::read(case("B05", "server-pkcs8.key")).unwrap();
    bytes.extend(fs::read(case("B19", "other-rsa.key")).unwrap());
    fs::write(&key, bytes).unwrap();
    let failure = load_server(&case("B05", "server.crt"), &key);
    assert_eq!(
        failure.to_string(),
        format!("{}: expected one private key, found 2", key.display())
    );
}

#[test]
fn a_server_without_a_key_is_an_incomplete_configuration() {
    let config = TlsConfig::server().cert_chain(case("B05", "server.crt"));
    let failure = Context::load(&config).unwrap_err();
    assert!(matches!(failure, Error::InvalidConfig(_)), "{failure:?}");
}

#[test]
fn client_auth_without_a_trust_bundle_is_an_incomplete_configuration() {
    let config = TlsConfig::server()
        .cert_chain(case("B05", "server.crt"))
        .private_key(case("B05", "server-pkcs8.key"))
        .client_auth(ClientAuth::Require);
    let failure = Context::load(&config).unwrap_err();
    assert_eq!(
        failure.to_string(),
        "invalid configuration: client authentication Require needs a trust bundle"
    );
}

#[test]
fn a_verifying_client_needs_a_trust_bundle() {
    let failure = Context::load(&TlsConfig::client()).unwrap_err();
    assert!(matches!(failure, Error::InvalidConfig(_)), "{failure:?}");
}

#[test]
fn encrypted_pkcs8_key_needs_its_password() {
    let key = case("B09", "server-rsa-pbes2-aes256-sha256.key");
    let cert = case("B09", "server-rsa.crt");
    let password = fs::read_to_string(case("B09", "password.txt")).unwrap();

    let missing = load_server(&cert, &key);
    assert!(matches!(missing, Error::KeyEncrypted { .. }), "{missing:?}");

    let wrong = Context::load(
        &TlsConfig::server()
            .cert_chain(&cert)
            .private_key(&key)
            .key_password("not the password"),
    )
    .unwrap_err();
    assert!(matches!(wrong, Error::WrongPassword { .. }), "{wrong:?}");

    let loaded = Context::load(
        &TlsConfig::server()
            .cert_chain(&cert)
            .private_key(&key)
            .key_password(password),
    )
    .unwrap();
    assert_eq!(loaded.generation(), 1);
}
