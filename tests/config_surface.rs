//! The configuration surface a broker sets: in-memory material, certificates chosen by SNI,
//! cipher suites by standard name, and test mode.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::sync::Arc;

use common::{case, pump};
use tlsctx::{Connection, Context, Error, ReloadOutcome, ReloadingContext, Source, TlsConfig};

fn handshake(server: &Arc<Context>, client: &Arc<Context>, name: &str) -> (Connection, Connection) {
    let mut client = Connection::client(client.clone(), name, None).unwrap();
    let mut server = Connection::server(server.clone()).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking());
    (client, server)
}

fn der(path: &std::path::Path) -> Vec<u8> {
    pem::parse(fs::read(path).unwrap()).unwrap().into_contents()
}

#[test]
fn material_handed_over_in_memory_loads_and_never_changes() {
    let config = TlsConfig::server()
        .cert_chain(Source::memory(
            "keystore alias \"broker\"",
            fs::read(case("B05", "server.crt")).unwrap(),
        ))
        .private_key(Source::memory(
            "keystore alias \"broker\" key",
            fs::read(case("B05", "server-pkcs8.key")).unwrap(),
        ));
    let reloading = ReloadingContext::new(config).unwrap();
    assert_eq!(reloading.reload().unwrap(), ReloadOutcome::Unchanged);
    assert_eq!(
        reloading.current().cert_chain()[0].as_ref(),
        der(&case("B05", "server.crt"))
    );
}

#[test]
fn in_memory_errors_name_the_material() {
    let config = TlsConfig::server()
        .cert_chain(Source::memory(
            "keystore alias \"broker\"",
            fs::read(case("B19", "server.crt")).unwrap(),
        ))
        .private_key(Source::memory(
            "keystore alias \"broker\" key",
            fs::read(case("B19", "other-rsa.key")).unwrap(),
        ));
    let failure = Context::load(&config).unwrap_err();
    assert!(matches!(failure, Error::KeyMismatch { .. }), "{failure:?}");
    assert!(failure
        .to_string()
        .starts_with("keystore alias \"broker\" key: private key does not match"));
}

#[test]
fn sni_chooses_the_certificate_for_the_name_asked() {
    let dir = tempfile::tempdir().unwrap();
    let other = common::generate(dir.path(), "other", &rcgen::PKCS_ECDSA_P256_SHA256);
    // The generated leaf is for localhost; serve it under another name as well.
    let server = Context::load(
        &TlsConfig::server()
            .cert_chain(case("B05", "server.crt"))
            .private_key(case("B05", "server-pkcs8.key"))
            .identity_for_name("LocalHost", &other.cert, &other.key),
    )
    .unwrap();
    let trusts_other = Context::load(&TlsConfig::client().trust_bundle(&other.ca)).unwrap();
    let (client, served) = handshake(&server, &trusts_other, "localhost");
    assert_eq!(
        client.peer_certificates().unwrap()[0].as_ref(),
        other.leaf_der.as_slice()
    );
    // The server connection reports the chain it chose, not the context's main one.
    assert_eq!(served.server_name(), Some("localhost"));
    assert_eq!(
        served.local_certificates(),
        client.peer_certificates().unwrap()
    );
    assert_eq!(
        server.cert_chain_for(Some("LOCALHOST"))[0].as_ref(),
        other.leaf_der.as_slice()
    );

    let trusts_b05 =
        Context::load(&TlsConfig::client().trust_bundle(case("B05", "ca.crt"))).unwrap();
    let (client, served) = handshake(&server, &trusts_b05, "127.0.0.1");
    assert_eq!(
        client.peer_certificates().unwrap()[0].as_ref(),
        der(&case("B05", "server.crt"))
    );
    assert_eq!(
        served.server_name(),
        None,
        "an IP address is not sent as SNI"
    );
    assert_eq!(served.local_certificates(), server.cert_chain());
    assert_eq!(
        served.local_certificates()[0].as_ref(),
        der(&case("B05", "server.crt"))
    );
}

#[test]
fn cipher_suites_are_chosen_by_standard_name_and_unknown_ones_skipped() {
    let server = Context::load(
        &TlsConfig::server()
            .cert_chain(case("B05", "server.crt"))
            .private_key(case("B05", "server-pkcs8.key"))
            .cipher_suites([
                "TLS_RSA_WITH_AES_128_CBC_SHA",
                "TLS_CHACHA20_POLY1305_SHA256",
            ]),
    )
    .unwrap();
    let client = Context::load(&TlsConfig::client().trust_bundle(case("B05", "ca.crt"))).unwrap();
    let (client, _) = handshake(&server, &client, "localhost");
    let suite = client.cipher_suite().unwrap().suite();
    assert_eq!(suite, rustls::CipherSuite::TLS13_CHACHA20_POLY1305_SHA256);
}

#[test]
fn cipher_suites_none_of_which_is_offered_fail_naming_them() {
    let failure = Context::load(
        &TlsConfig::server()
            .cert_chain(case("B05", "server.crt"))
            .private_key(case("B05", "server-pkcs8.key"))
            .cipher_suites(["TLS_RSA_WITH_AES_128_CBC_SHA"]),
    )
    .unwrap_err();
    let message = failure.to_string();
    assert!(
        message.starts_with(
            "invalid configuration: none of the cipher suites TLS_RSA_WITH_AES_128_CBC_SHA is \
             offered; offered are TLS_AES_256_GCM_SHA384"
        ),
        "{message}"
    );
}

#[test]
fn test_mode_serves_a_self_signed_certificate_to_a_test_mode_client() {
    let reloading = ReloadingContext::new(TlsConfig::server().test_mode(true)).unwrap();
    let leaf = reloading.current().leaf().unwrap().clone();
    assert_eq!(
        reloading.reload().unwrap(),
        ReloadOutcome::Unchanged,
        "generated once"
    );

    let client = Context::load(&TlsConfig::client().test_mode(true)).unwrap();
    let (client, _) = handshake(&reloading.current(), &client, "localhost");
    let served = client.peer_certificates().unwrap()[0].as_ref().to_vec();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, &served);
    let fingerprint: String = digest.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(fingerprint, leaf.fingerprint);

    let verifying =
        Context::load(&TlsConfig::client().trust_bundle(case("B05", "ca.crt"))).unwrap();
    let mut client = Connection::client(verifying, "localhost", None).unwrap();
    let mut server = Connection::server(reloading.current()).unwrap();
    assert!(matches!(
        pump(&mut client, &mut server).unwrap_err(),
        Error::Tls(rustls::Error::InvalidCertificate(_))
    ));
}

fn properties(dir: &std::path::Path, text: &str) -> std::path::PathBuf {
    let path = dir.join("tls.properties");
    fs::write(&path, text).unwrap();
    path
}

#[test]
fn broker_properties_configure_a_server_with_client_authentication() {
    let dir = tempfile::tempdir().unwrap();
    let path = properties(
        dir.path(),
        &format!(
            "# broker TLS\ntls.test.mode.enable=false\ntls.server.need.client.auth=require\n\
             tls.server.certPath={}\ntls.server.keyPath={}\ntls.server.trustCertPath={}\n",
            case("B05", "server.crt").display(),
            case("B05", "server-pkcs1.key").display(),
            case("B05", "ca.crt").display()
        ),
    );
    let config = TlsConfig::from_broker_properties(&path, tlsctx::Role::Server).unwrap();
    assert_eq!(
        config.cert_chain_path(),
        Some(case("B05", "server.crt").as_path())
    );
    let server = Context::load(&config).unwrap();

    let client_path = properties(
        dir.path(),
        &format!(
            "tls.test.mode.enable=false\ntls.client.authServer=true\ntls.client.certPath={}\n\
             tls.client.keyPath={}\ntls.client.trustCertPath={}\n",
            case("B05", "client.crt").display(),
            case("B05", "client-pkcs1.key").display(),
            case("B05", "ca.crt").display()
        ),
    );
    let client = TlsConfig::from_broker_properties(&client_path, tlsctx::Role::Client).unwrap();
    let (_, served) = handshake(&server, &Context::load(&client).unwrap(), "localhost");
    assert_eq!(
        served.peer_certificates().unwrap()[0].as_ref(),
        der(&case("B05", "client.crt"))
    );

    // need.client.auth=require: a client without a certificate is refused.
    let anonymous =
        Context::load(&TlsConfig::client().trust_bundle(case("B05", "ca.crt"))).unwrap();
    let mut client = Connection::client(anonymous, "localhost", None).unwrap();
    let mut refused = Connection::server(server).unwrap();
    assert!(matches!(
        pump(&mut client, &mut refused).unwrap_err(),
        Error::Tls(rustls::Error::NoCertificatesPresented)
    ));
}

#[test]
fn broker_properties_default_to_test_mode_like_rocketmq() {
    let dir = tempfile::tempdir().unwrap();
    let path = properties(dir.path(), "tls.server.certPath=/nonexistent/server.crt\n");
    let server =
        Context::load(&TlsConfig::from_broker_properties(&path, tlsctx::Role::Server).unwrap())
            .unwrap();
    let client =
        Context::load(&TlsConfig::from_broker_properties(&path, tlsctx::Role::Client).unwrap())
            .unwrap();
    let (client, _) = handshake(&server, &client, "localhost");
    assert_eq!(
        client.peer_certificates().unwrap()[0].as_ref(),
        server.cert_chain()[0].as_ref()
    );
}

#[test]
fn broker_properties_with_a_bad_value_name_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = properties(dir.path(), "tls.server.need.client.auth=always\n");
    let failure = TlsConfig::from_broker_properties(&path, tlsctx::Role::Server).unwrap_err();
    assert_eq!(
        failure.to_string(),
        format!(
            "invalid configuration: {}: tls.server.need.client.auth=always is not valid; \
             expected none, optional or require",
            path.display()
        )
    );
}
