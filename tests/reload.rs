//! Reloading contexts: swaps while connections stay on their generation, unchanged content,
//! bad rotations that keep the current generation, and the polling watcher.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use common::{case, pump, send};
use tlsctx::{Connection, Context, Error, ReloadOutcome, ReloadingContext, TlsConfig};

/// Server files in a temporary directory, starting as case B05's identity.
struct Served {
    dir: tempfile::TempDir,
}

impl Served {
    fn new() -> Self {
        let served = Served {
            dir: tempfile::tempdir().unwrap(),
        };
        served.install("B05", "server.crt", "server-pkcs1.key");
        served
    }

    fn cert(&self) -> PathBuf {
        self.dir.path().join("tls.crt")
    }

    fn key(&self) -> PathBuf {
        self.dir.path().join("tls.key")
    }

    fn install(&self, name: &str, cert: &str, key: &str) {
        fs::copy(case(name, cert), self.cert()).unwrap();
        fs::copy(case(name, key), self.key()).unwrap();
    }

    fn config(&self) -> TlsConfig {
        TlsConfig::server()
            .cert_chain(self.cert())
            .private_key(self.key())
    }
}

fn fingerprint(path: &Path) -> String {
    let pem = pem::parse(fs::read(path).unwrap()).unwrap();
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, pem.contents());
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A client trusting both the B05 and the B01 roots, so it accepts either generation.
fn client_context() -> std::sync::Arc<Context> {
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("roots.pem");
    let mut roots = fs::read(case("B05", "ca.crt")).unwrap();
    roots.extend(fs::read(case("B01", "ca.crt")).unwrap());
    fs::write(&bundle, roots).unwrap();
    Context::load(&TlsConfig::client().trust_bundle(&bundle)).unwrap()
}

fn connect(reloading: &ReloadingContext) -> (Connection, Connection) {
    let mut server = Connection::server(reloading.current()).unwrap();
    let mut client = Connection::client(client_context(), "localhost", None).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking() && !server.is_handshaking());
    (client, server)
}

fn served_fingerprint(client: &Connection) -> String {
    let leaf = &client.peer_certificates().unwrap()[0];
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, leaf);
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

#[test]
fn reload_while_a_connection_is_open() {
    let served = Served::new();
    let reloading = ReloadingContext::new(served.config()).unwrap();
    let (mut old_client, mut old_server) = connect(&reloading);
    assert_eq!(
        served_fingerprint(&old_client),
        fingerprint(&case("B05", "server.crt"))
    );

    served.install("B01", "server.crt", "server.key");
    assert_eq!(
        reloading.reload().unwrap(),
        ReloadOutcome::Swapped { generation: 2 }
    );
    assert_eq!(reloading.current().generation(), 2);
    assert_eq!(
        reloading.live_generations(),
        2,
        "the open connection holds generation 1"
    );

    assert_eq!(
        send(&mut old_client, &mut old_server, b"still here"),
        b"still here"
    );
    assert_eq!(old_server.context().generation(), 1);

    let (new_client, new_server) = connect(&reloading);
    assert_eq!(new_server.context().generation(), 2);
    assert_eq!(
        served_fingerprint(&new_client),
        fingerprint(&case("B01", "server.crt"))
    );

    drop((old_client, old_server));
    assert_eq!(reloading.live_generations(), 1);
    drop((new_client, new_server));
    assert_eq!(
        reloading.live_generations(),
        1,
        "the current generation stays"
    );
}

#[test]
fn unchanged_content_makes_no_new_generation() {
    let served = Served::new();
    let reloading = ReloadingContext::new(served.config()).unwrap();
    let before = reloading.current();

    // Rewriting the same bytes changes the modification time, not the content.
    served.install("B05", "server.crt", "server-pkcs1.key");
    assert_eq!(reloading.reload().unwrap(), ReloadOutcome::Unchanged);
    assert!(std::sync::Arc::ptr_eq(&before, &reloading.current()));
    assert_eq!(reloading.live_generations(), 1);
    let stats = reloading.stats();
    assert_eq!((stats.swapped, stats.unchanged, stats.failed), (0, 1, 0));
}

/// A bad rotation fails with `expected`, keeps serving generation 1, and a later good rotation
/// is still picked up.
fn bad_rotation_keeps_the_current_generation(
    break_files: impl FnOnce(&Served),
    expected: impl FnOnce(&Error) -> bool,
    named_file: &str,
) {
    let served = Served::new();
    let reloading = ReloadingContext::new(served.config()).unwrap();
    let b05 = fingerprint(&case("B05", "server.crt"));

    break_files(&served);
    let failure = reloading.reload().unwrap_err();
    assert!(expected(&failure), "{failure:?}");
    assert!(failure.to_string().contains(named_file), "{failure}");
    assert_eq!(reloading.current().generation(), 1);
    assert_eq!(reloading.live_generations(), 1);
    let stats = reloading.stats();
    assert_eq!(stats.failed, 1);
    assert_eq!(
        stats.last_error.as_deref(),
        Some(failure.to_string().as_str())
    );
    let (client, _server) = connect(&reloading);
    assert_eq!(served_fingerprint(&client), b05);

    served.install("B01", "server.crt", "server.key");
    assert_eq!(
        reloading.reload().unwrap(),
        ReloadOutcome::Swapped { generation: 2 }
    );
    assert_eq!(reloading.stats().last_error, None);
}

#[test]
fn mismatched_key_is_refused_on_reload() {
    bad_rotation_keeps_the_current_generation(
        |served| {
            fs::copy(case("B19", "other-rsa.key"), served.key()).unwrap();
        },
        |err| matches!(err, Error::KeyMismatch { .. }),
        "tls.key",
    );
}

#[test]
fn empty_key_file_is_refused_on_reload() {
    bad_rotation_keeps_the_current_generation(
        |served| fs::write(served.key(), b"").unwrap(),
        |err| matches!(err, Error::FileEmpty { .. }),
        "tls.key",
    );
}

#[test]
fn missing_certificate_file_is_refused_on_reload() {
    bad_rotation_keeps_the_current_generation(
        |served| fs::remove_file(served.cert()).unwrap(),
        |err| matches!(err, Error::FileNotFound { .. }),
        "tls.crt",
    );
}

#[test]
fn the_mismatch_case_b19_fails_at_load_time() {
    for other in ["other-rsa.key", "other-ec.key"] {
        let config = TlsConfig::server()
            .cert_chain(case("B19", "server.crt"))
            .private_key(case("B19", other));
        let failure = Context::load(&config).unwrap_err();
        assert!(
            matches!(failure, Error::KeyMismatch { .. }),
            "{other}: {failure:?}"
        );
        assert!(failure.to_string().contains(other), "{failure}");
        assert!(
            failure
                .to_string()
                .contains("private key does not match the certificate's public key"),
            "{failure}"
        );
    }
    let client = TlsConfig::client()
        .trust_bundle(case("B19", "ca.crt"))
        .cert_chain(case("B19", "client.crt"))
        .private_key(case("B19", "client-other.key"));
    assert!(matches!(
        Context::load(&client).unwrap_err(),
        Error::KeyMismatch { .. }
    ));
}

#[test]
fn polling_watcher_swaps_after_a_rotation() {
    let served = Served::new();
    let reloading =
        ReloadingContext::with_polling(served.config(), Duration::from_millis(50)).unwrap();
    served.install("B01", "server.crt", "server.key");

    let deadline = Instant::now() + Duration::from_secs(10);
    while reloading.current().generation() == 1 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(reloading.current().generation(), 2);
    let (client, _server) = connect(&reloading);
    assert_eq!(
        served_fingerprint(&client),
        fingerprint(&case("B01", "server.crt"))
    );
}

#[test]
fn creation_fails_when_the_files_are_missing() {
    let dir = tempfile::tempdir().unwrap();
    let config = TlsConfig::server()
        .cert_chain(dir.path().join("absent.crt"))
        .private_key(dir.path().join("absent.key"));
    let failure = ReloadingContext::new(config).err().unwrap();
    assert!(matches!(failure, Error::FileNotFound { .. }), "{failure:?}");
    assert!(
        failure.to_string().ends_with("absent.crt: file not found"),
        "{failure}"
    );
}

#[test]
fn the_listener_hears_every_attempt_with_its_outcome() {
    let served = Served::new();
    let reloading = ReloadingContext::new(served.config()).unwrap();
    let heard = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = heard.clone();
    reloading.set_listener(Some(std::sync::Arc::new(
        move |report: &tlsctx::ReloadReport| {
            let serial = report.leaf.as_ref().map(|leaf| leaf.serial.clone());
            sink.lock().unwrap().push((
                report.attempt,
                report.generation,
                serial,
                report.error.clone(),
            ));
        },
    )));

    reloading.reload().unwrap();
    served.install("B01", "server.crt", "server.key");
    reloading.reload().unwrap();
    fs::copy(case("B19", "other-rsa.key"), served.key()).unwrap();
    let failure = reloading.reload().unwrap_err().to_string();

    use tlsctx::ReloadAttempt::{Failed, Swapped, Unchanged};
    let b05 = Some("d4ea23449b23fea2".to_string());
    let b01 = Some("5f19806269c0012e".to_string());
    assert_eq!(
        *heard.lock().unwrap(),
        vec![
            (Unchanged, 1, b05, None),
            (Swapped, 2, b01.clone(), None),
            (Failed, 2, b01, Some(failure)),
        ]
    );
}

#[test]
fn a_client_resumes_its_session_after_a_rotation() {
    let served = Served::new();
    let reloading = ReloadingContext::new(served.config()).unwrap();
    let client_context = client_context();

    let mut client = Connection::client(client_context.clone(), "localhost", None).unwrap();
    let mut server = Connection::server(reloading.current()).unwrap();
    pump(&mut client, &mut server).unwrap();
    // TLS 1.3 tickets arrive after the handshake; reading them stores the session.
    send(&mut server, &mut client, b"ticket");
    assert_eq!(client.handshake_kind(), Some(rustls::HandshakeKind::Full));

    served.install("B01", "server.crt", "server.key");
    assert_eq!(
        reloading.reload().unwrap(),
        ReloadOutcome::Swapped { generation: 2 }
    );

    let mut client = Connection::client(client_context, "localhost", None).unwrap();
    let mut server = Connection::server(reloading.current()).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert_eq!(
        client.handshake_kind(),
        Some(rustls::HandshakeKind::Resumed)
    );
    assert_eq!(server.context().generation(), 2);
}

#[test]
fn a_changed_trust_bundle_reloads_with_the_identity() {
    let served = Served::new();
    let bundle = served.dir.path().join("clients.pem");
    fs::copy(case("B05", "ca.crt"), &bundle).unwrap();
    let config = served
        .config()
        .trust_bundle(&bundle)
        .client_auth(tlsctx::ClientAuth::Require);
    let reloading = ReloadingContext::new(config).unwrap();
    let b01_client = || {
        Context::load(
            &TlsConfig::client()
                .trust_bundle(case("B05", "ca.crt"))
                .cert_chain(case("B01", "client.crt"))
                .private_key(case("B01", "client.key")),
        )
        .unwrap()
    };
    let attempt = |reloading: &ReloadingContext| {
        let mut client = Connection::client(b01_client(), "localhost", None).unwrap();
        let mut server = Connection::server(reloading.current()).unwrap();
        pump(&mut client, &mut server)
    };
    assert!(
        attempt(&reloading).is_err(),
        "a B01 client certificate is not trusted yet"
    );

    fs::copy(case("B01", "ca.crt"), &bundle).unwrap();
    assert_eq!(
        reloading.reload().unwrap(),
        ReloadOutcome::Swapped { generation: 2 }
    );
    attempt(&reloading).unwrap();
}

#[test]
fn a_listener_that_reloads_gets_an_error_instead_of_a_hang() {
    let served = Served::new();
    let reloading = std::sync::Arc::new(ReloadingContext::new(served.config()).unwrap());
    let inner = std::sync::Arc::downgrade(&reloading);
    let nested = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = nested.clone();
    reloading.set_listener(Some(std::sync::Arc::new(
        move |_: &tlsctx::ReloadReport| {
            if let Some(reloading) = inner.upgrade() {
                sink.lock()
                    .unwrap()
                    .push(reloading.reload().unwrap_err().to_string());
            }
        },
    )));
    assert_eq!(reloading.reload().unwrap(), ReloadOutcome::Unchanged);
    assert_eq!(
        *nested.lock().unwrap(),
        vec!["invalid connection state: a reload listener cannot reload the context it listens to"]
    );
}

#[test]
fn the_watcher_reports_files_that_stay_bad_once() {
    let served = Served::new();
    let reloading =
        ReloadingContext::with_polling(served.config(), Duration::from_millis(20)).unwrap();
    let reports = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let counter = reports.clone();
    reloading.set_listener(Some(std::sync::Arc::new(
        move |_: &tlsctx::ReloadReport| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        },
    )));
    fs::copy(case("B19", "other-rsa.key"), served.key()).unwrap();

    let deadline = Instant::now() + Duration::from_secs(10);
    while reloading.stats().failed == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let checks = reloading.stats().checks;
    while reloading.stats().checks < checks + 10 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let stats = reloading.stats();
    assert!(
        stats.checks >= checks + 10,
        "the watcher kept checking: {stats:?}"
    );
    assert_eq!((stats.failed, stats.swapped), (1, 0), "{stats:?}");
    assert_eq!(reports.load(std::sync::atomic::Ordering::SeqCst), 1);
}
