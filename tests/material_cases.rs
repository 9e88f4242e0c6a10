//! The shared certificate-material cases (B01, B03, B12, B16, B18, B21) through the Rust API:
//! every file operators arrive with either loads and serves the expected leaf, or fails at load
//! time with an error that names the file and the problem.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{case, pump};
use tlsctx::{ClientAuth, Connection, Context, Error, TlsConfig};

fn server(cert: &Path, key: &Path) -> Result<Arc<Context>, Error> {
    Context::load(&TlsConfig::server().cert_chain(cert).private_key(key))
}

fn der(path: &Path) -> Vec<u8> {
    pem::parse_many(std::fs::read(path).unwrap())
        .unwrap()
        .into_iter()
        .map(|block| block.into_contents())
        .next()
        .unwrap()
}

/// Handshakes with a client trusting `ca` and returns the chain the server presented.
fn served_chain(server: &Arc<Context>, ca: &Path) -> Vec<Vec<u8>> {
    let client = Context::load(&TlsConfig::client().trust_bundle(ca)).unwrap();
    let mut client = Connection::client(client, "localhost", None).unwrap();
    let mut server = Connection::server(server.clone()).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking());
    client
        .peer_certificates()
        .unwrap()
        .iter()
        .map(|c| c.as_ref().to_vec())
        .collect()
}

#[test]
fn b01_crlf_files_serve_the_same_leaf() {
    let context = server(
        &case("B01", "server-crlf.crt"),
        &case("B01", "server-crlf.key"),
    )
    .unwrap();
    let chain = served_chain(&context, &case("B01", "ca.crt"));
    assert_eq!(chain[0], der(&case("B01", "server.crt")));
}

#[test]
fn b01_full_chain_is_served_in_file_order() {
    let context = server(
        &case("B01", "fullchain-mixed.crt"),
        &case("B01", "server.key"),
    )
    .unwrap();
    let chain = served_chain(&context, &case("B01", "ca.crt"));
    let expected: Vec<Vec<u8>> =
        pem::parse_many(std::fs::read(case("B01", "fullchain-mixed.crt")).unwrap())
            .unwrap()
            .into_iter()
            .map(|block| block.into_contents())
            .collect();
    assert_eq!(chain.len(), 2);
    assert_eq!(chain, expected);
}

#[test]
fn b01_cr_only_line_endings_load() {
    let context = server(
        &case("B01", "server-cr-only.crt"),
        &case("B01", "server-cr-only.key"),
    )
    .unwrap();
    let chain = served_chain(&context, &case("B01", "ca.crt"));
    assert_eq!(chain[0], der(&case("B01", "server.crt")));
}

#[test]
fn b01_crlf_trust_bundle_verifies_client_certificates() {
    let context = Context::load(
        &TlsConfig::server()
            .cert_chain(case("B01", "server.crt"))
            .private_key(case("B01", "server.key"))
            .trust_bundle(case("B01", "ca-crlf.crt"))
            .client_auth(ClientAuth::Require),
    )
    .unwrap();
    let with_cert = Context::load(
        &TlsConfig::client()
            .trust_bundle(case("B01", "ca.crt"))
            .cert_chain(case("B01", "client.crt"))
            .private_key(case("B01", "client.key")),
    )
    .unwrap();
    let mut client = Connection::client(with_cert, "localhost", None).unwrap();
    let mut server = Connection::server(context.clone()).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert_eq!(
        server.peer_certificates().unwrap()[0].as_ref(),
        der(&case("B01", "client.crt"))
    );

    let without = Context::load(&TlsConfig::client().trust_bundle(case("B01", "ca.crt"))).unwrap();
    let mut client = Connection::client(without, "localhost", None).unwrap();
    let mut server = Connection::server(context).unwrap();
    assert!(matches!(
        pump(&mut client, &mut server).unwrap_err(),
        Error::Tls(rustls::Error::NoCertificatesPresented)
    ));
}

#[test]
fn b03_bag_attributes_and_text_around_blocks_are_ignored() {
    let context = server(
        &case("B03", "chain-bagattrs.crt"),
        &case("B03", "key-bagattrs.pem"),
    )
    .unwrap();
    assert_eq!(context.cert_chain().len(), 2, "leaf and CA");
    assert_eq!(
        context.cert_chain()[0].as_ref(),
        der(&case("B03", "server.crt"))
    );

    for cert in ["chain-subject-lines.crt", "server-with-text-dump.crt"] {
        let context = server(&case("B03", cert), &case("B03", "server.key")).unwrap();
        assert_eq!(
            context.cert_chain()[0].as_ref(),
            der(&case("B03", "server.crt")),
            "{cert}"
        );
    }
}

#[test]
fn b12_ed25519_server_and_client_certificates() {
    let context = Context::load(
        &TlsConfig::server()
            .cert_chain(case("B12", "server-ed25519.crt"))
            .private_key(case("B12", "server-ed25519.key"))
            .trust_bundle(case("B12", "ca.crt"))
            .client_auth(ClientAuth::Require),
    )
    .unwrap();
    let client = Context::load(
        &TlsConfig::client()
            .trust_bundle(case("B12", "ca.crt"))
            .cert_chain(case("B12", "client-ed25519.crt"))
            .private_key(case("B12", "client-ed25519.key")),
    )
    .unwrap();
    let mut client = Connection::client(client, "localhost", None).unwrap();
    let mut server = Connection::server(context).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert!(!server.is_handshaking());
    assert_eq!(
        server.peer_certificates().unwrap()[0].as_ref(),
        der(&case("B12", "client-ed25519.crt"))
    );
}

#[test]
fn b12_ed448_is_refused_at_load_naming_the_key_type() {
    let key = case("B12", "server-ed448.key");
    let failure = server(&case("B12", "server-ed448.crt"), &key).unwrap_err();
    assert!(
        matches!(failure, Error::UnsupportedKey { .. }),
        "{failure:?}"
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: unsupported private key: unsupported key type Ed448",
            key.display()
        )
    );
}

#[test]
fn b16_empty_and_wrong_files_are_named() {
    let cert = case("B16", "server.crt");
    let key = case("B16", "server.key");
    let expectations: [(&Path, &Path, &Path, &str); 7] = [
        (
            &cert,
            &case("B16", "empty.key"),
            &case("B16", "empty.key"),
            "file is empty",
        ),
        (
            &cert,
            &case("B16", "blank.key"),
            &case("B16", "blank.key"),
            "file is empty",
        ),
        (
            &case("B16", "empty.crt"),
            &key,
            &case("B16", "empty.crt"),
            "file is empty",
        ),
        (
            &cert,
            &case("B16", "key-slot-contains-cert.pem"),
            &case("B16", "key-slot-contains-cert.pem"),
            "no private key found (found a certificate)",
        ),
        (
            &case("B16", "cert-slot-contains-key.pem"),
            &key,
            &case("B16", "cert-slot-contains-key.pem"),
            "no certificate found (found a private key)",
        ),
        (
            &case("B16", "csr-in-cert-slot.pem"),
            &key,
            &case("B16", "csr-in-cert-slot.pem"),
            "no certificate found (found a certificate request)",
        ),
        (
            &cert,
            &case("B16", "two-keys.key"),
            &case("B16", "two-keys.key"),
            "expected one private key, found 2",
        ),
    ];
    for (cert, key, named, problem) in expectations {
        let failure = server(cert, key).unwrap_err();
        assert_eq!(
            failure.to_string(),
            format!("{}: {problem}", named.display())
        );
    }
    let empty_block = case("B16", "empty-block.crt");
    let failure = server(&empty_block, &key).unwrap_err();
    assert!(matches!(failure, Error::MalformedPem { .. }), "{failure:?}");
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: malformed PEM: empty CERTIFICATE block",
            empty_block.display()
        )
    );
}

#[test]
fn b18_der_files_are_detected_by_content() {
    for key in ["server-key-pkcs8.der", "server-key-pkcs1.der"] {
        let context = server(&case("B18", "server.der"), &case("B18", key)).unwrap();
        let chain = served_chain(&context, &case("B18", "ca.der"));
        assert_eq!(
            chain[0],
            std::fs::read(case("B18", "server.der")).unwrap(),
            "{key}"
        );
    }
}

#[test]
fn b18_bare_base64_has_no_armour() {
    let bare = case("B18", "server-bare-base64.txt");
    let failure = server(&bare, &case("B18", "server.key")).unwrap_err();
    assert!(matches!(failure, Error::MalformedPem { .. }), "{failure:?}");
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: malformed PEM: no PEM BEGIN/END armour found",
            bare.display()
        )
    );
}

#[test]
fn b21_a_pkcs12_file_given_as_pem_is_named() {
    let p12 = case("B21", "server-openssl3-default.p12");
    let failure = server(&p12, &case("B21", "server.key")).unwrap_err();
    assert!(matches!(failure, Error::MalformedPem { .. }), "{failure:?}");
    assert_eq!(
        failure.to_string(),
        format!("{}: malformed PEM: file is PKCS#12, not PEM", p12.display())
    );
}

/// Writes the blocks of `source` into a new file in `order` (indexes into the source's blocks).
fn reorder(dir: &Path, source: &Path, order: &[usize]) -> std::path::PathBuf {
    let blocks = pem::parse_many(std::fs::read(source).unwrap()).unwrap();
    let picked: Vec<pem::Pem> = order.iter().map(|&index| blocks[index].clone()).collect();
    let path = dir.join("reordered.crt");
    std::fs::write(&path, pem::encode_many(&picked)).unwrap();
    path
}

#[test]
fn a_chain_with_the_leaf_last_is_served_leaf_first() {
    let dir = tempfile::tempdir().unwrap();
    let source = case("B03", "chain-bagattrs.crt");
    let reversed = reorder(dir.path(), &source, &[1, 0]);
    let context = server(&reversed, &case("B03", "server.key")).unwrap();
    let blocks = pem::parse_many(std::fs::read(&source).unwrap()).unwrap();
    let served: Vec<&[u8]> = context.cert_chain().iter().map(|c| c.as_ref()).collect();
    assert_eq!(served, vec![blocks[0].contents(), blocks[1].contents()]);
    assert_eq!(
        context.leaf().unwrap().subject,
        "O=Acceptance Test, CN=b03-server"
    );
}

#[test]
fn a_chain_with_the_leaf_twice_and_not_first_is_ambiguous() {
    let dir = tempfile::tempdir().unwrap();
    let reordered = reorder(dir.path(), &case("B03", "chain-bagattrs.crt"), &[1, 0, 0]);
    let failure = server(&reordered, &case("B03", "server.key")).unwrap_err();
    assert_eq!(
        failure.to_string(),
        format!(
            "{}: invalid certificate: 2 certificates match the private key and none is first; \
             put the leaf first",
            reordered.display()
        )
    );
}
