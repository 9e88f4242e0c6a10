//! Every key type operators bring, made by the OpenSSL CLI: RSA from 2048 to 4096 bits, ECDSA
//! P-256, P-384 and P-521, Ed25519 (case B12), and the types the provider cannot sign with,
//! refused at load naming the type. Also the PEM quirks of such files: a UTF-8 byte-order mark
//! and an `EC PARAMETERS` block before the key.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::pump;
use tlsctx::{Connection, Context, Error, TlsConfig};

fn openssl(args: &[&str]) {
    let output = Command::new("openssl").args(args).output().unwrap();
    assert!(
        output.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A self-signed certificate for localhost over a key made with `genpkey` `options`.
fn self_signed(dir: &Path, name: &str, options: &[&str]) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let cert = dir.join(format!("{name}.crt"));
    let mut genpkey = vec!["genpkey", "-out", key.to_str().unwrap()];
    genpkey.extend_from_slice(options);
    openssl(&genpkey);
    certify(&key, &cert);
    (cert, key)
}

/// Writes a self-signed end-entity certificate for localhost over `key` to `cert`.
fn certify(key: &Path, cert: &Path) {
    openssl(&[
        "req",
        "-x509",
        "-new",
        "-key",
        key.to_str().unwrap(),
        "-out",
        cert.to_str().unwrap(),
        "-days",
        "30",
        "-subj",
        "/CN=localhost",
        "-addext",
        "subjectAltName=DNS:localhost",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ]);
}

/// Loads the pair and completes a TLS 1.3 handshake with a client trusting the certificate.
fn serves(cert: &Path, key: &Path) {
    let server = Context::load(&TlsConfig::server().cert_chain(cert).private_key(key)).unwrap();
    let client = Context::load(&TlsConfig::client().trust_bundle(cert)).unwrap();
    let mut client = Connection::client(client, "localhost", None).unwrap();
    let mut server = Connection::server(server).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking(), "{}", cert.display());
    let served = client.peer_certificates().unwrap()[0].as_ref().to_vec();
    assert_eq!(
        served,
        pem::parse(fs::read(cert).unwrap()).unwrap().into_contents()
    );
}

#[test]
fn rsa_keys_from_2048_to_4096_bits_serve() {
    let dir = tempfile::tempdir().unwrap();
    for bits in ["2048", "3072", "4096"] {
        let bits_option = format!("rsa_keygen_bits:{bits}");
        let (cert, key) = self_signed(
            dir.path(),
            &format!("rsa{bits}"),
            &["-algorithm", "RSA", "-pkeyopt", &bits_option],
        );
        serves(&cert, &key);
    }
}

#[test]
fn ecdsa_keys_on_p256_p384_and_p521_serve() {
    let dir = tempfile::tempdir().unwrap();
    for curve in ["P-256", "P-384", "P-521"] {
        let curve_option = format!("ec_paramgen_curve:{curve}");
        let (cert, key) = self_signed(
            dir.path(),
            curve,
            &["-algorithm", "EC", "-pkeyopt", &curve_option],
        );
        serves(&cert, &key);
    }
}

#[test]
fn sec1_ec_key_after_an_ec_parameters_block_serves() {
    let dir = tempfile::tempdir().unwrap();
    let params = dir.path().join("params.pem");
    let key = dir.path().join("ec.key");
    let cert = dir.path().join("ec.crt");
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-out",
        params.to_str().unwrap(),
    ]);
    // `ecparam -genkey` writes EC PARAMETERS and then a SEC1 EC PRIVATE KEY, as many
    // deployment guides still do.
    openssl(&[
        "ecparam",
        "-name",
        "prime256v1",
        "-genkey",
        "-out",
        key.to_str().unwrap(),
    ]);
    let text = fs::read_to_string(&key).unwrap();
    assert!(text.starts_with("-----BEGIN EC PARAMETERS-----"), "{text}");
    assert!(text.contains("-----BEGIN EC PRIVATE KEY-----"), "{text}");
    certify(&key, &cert);
    serves(&cert, &key);
}

#[test]
fn a_utf8_byte_order_mark_before_the_pem_is_ignored() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(
        dir.path(),
        "bom",
        &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
    );
    for path in [&cert, &key] {
        let mut bytes = vec![0xef, 0xbb, 0xbf];
        bytes.extend(fs::read(path).unwrap());
        fs::write(path, bytes).unwrap();
    }
    serves(&cert, &key);
}

#[test]
fn key_types_the_provider_cannot_sign_with_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = self_signed(
        dir.path(),
        "pss",
        &["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"],
    );
    let failure =
        Context::load(&TlsConfig::server().cert_chain(&cert).private_key(&key)).unwrap_err();
    assert!(
        matches!(failure, Error::UnsupportedKey { .. }),
        "{failure:?}"
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: unsupported private key: unsupported key type RSA-PSS (id-RSASSA-PSS)",
            key.display()
        )
    );
}
