//! The rotation cases B22, B23, B25, B26 and B31 replayed against a watching reloading context:
//! each step of the case's `actions.sh` runs against a temporary directory, and the served leaf
//! is checked by an in-memory handshake between the steps.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use common::{case, open_fds, pump, send, threads, wait_until};
use tlsctx::{
    ClientAuth, Connection, Context, ReloadOutcome, ReloadingContext, TlsConfig, WatchOptions,
};

/// Short enough for tests; the documented defaults are 1 s and 200 ms.
const POLL: Duration = Duration::from_millis(100);
const DEBOUNCE: Duration = Duration::from_millis(50);

/// The cases' "within N s": the longer of debounce and poll, plus 2 s.
fn within() -> Duration {
    POLL.max(DEBOUNCE) + Duration::from_secs(2)
}

/// One test at a time, so the descriptor and thread counts see only their own test's watcher.
fn serial() -> MutexGuard<'static, ()> {
    static SERIAL: Mutex<()> = Mutex::new(());
    SERIAL
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn watch_options() -> WatchOptions {
    WatchOptions::default()
        .with_poll_interval(POLL)
        .with_debounce(DEBOUNCE)
}

/// A case's target directory, filled and rotated by its `actions.sh`.
struct Rotation {
    case: &'static str,
    _scratch: tempfile::TempDir,
    target: PathBuf,
}

impl Rotation {
    fn new(case: &'static str) -> Self {
        let scratch = tempfile::tempdir().unwrap();
        let target = scratch.path().join("target");
        Rotation {
            case,
            _scratch: scratch,
            target,
        }
    }

    /// Runs `actions.sh STEP TARGET_DIR` with bash, as the cases' README says.
    fn step(&self, step: &str) {
        let status = Command::new("bash")
            .arg(case(self.case, "actions.sh"))
            .arg(step)
            .arg(&self.target)
            .status()
            .unwrap();
        assert!(status.success(), "{} {step}: {status}", self.case);
    }

    fn file(&self, name: &str) -> PathBuf {
        self.target.join(name)
    }

    fn server_config(&self) -> TlsConfig {
        TlsConfig::server()
            .cert_chain(self.file("tls.crt"))
            .private_key(self.file("tls.key"))
    }

    /// A client trusting the case's root, presenting the case's client certificate.
    fn client(&self) -> Arc<Context> {
        let config = TlsConfig::client()
            .trust_bundle(case(self.case, "root.crt"))
            .cert_chain(case(self.case, "client.crt"))
            .private_key(case(self.case, "client.key"));
        Context::load(&config).unwrap()
    }

    /// SHA-256 of the DER of `generation/tls.crt`'s first certificate.
    fn leaf(&self, generation: &str) -> String {
        let path = case(self.case, &format!("{generation}/tls.crt"));
        let pem = pem::parse(std::fs::read(path).unwrap()).unwrap();
        hex_sha256(pem.contents())
    }
}

fn hex_sha256(bytes: &[u8]) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes);
    digest
        .as_ref()
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// A completed full handshake with the current generation. Each client context is new: a client
/// that resumed an earlier session would see the certificate of that session, not the served one.
fn handshake(reloading: &ReloadingContext, rotation: &Rotation) -> (Connection, Connection) {
    let mut server = Connection::server(reloading.current()).unwrap();
    let mut client = Connection::client(rotation.client(), "localhost", None).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking() && !server.is_handshaking());
    (client, server)
}

fn served(reloading: &ReloadingContext, rotation: &Rotation) -> String {
    let (client, _server) = handshake(reloading, rotation);
    hex_sha256(&client.peer_certificates().unwrap()[0])
}

/// Waits until new handshakes get `leaf`, within the cases' N.
fn expect_swap(reloading: &ReloadingContext, rotation: &Rotation, generation: &str, what: &str) {
    let leaf = rotation.leaf(generation);
    let swapped = wait_until(within(), || served(reloading, rotation) == leaf);
    assert!(
        swapped,
        "{what}: not served within {:?}; generation {}, stats {:?}",
        within(),
        reloading.current().generation(),
        reloading.stats()
    );
}

/// Content checks the watcher has made so far.
fn attempts(reloading: &ReloadingContext) -> u64 {
    reloading.stats().checks
}

/// Waits until the watcher has made two more checks: checks are serialised, so the second of
/// them began after this call, and after whatever file operation came before it.
fn settle(reloading: &ReloadingContext) {
    let from = attempts(reloading);
    assert!(
        wait_until(within(), || attempts(reloading) >= from + 2),
        "the watcher made no reload attempt within {:?}",
        within()
    );
}

const MISMATCH: &str = "private key does not match the certificate's public key";

#[test]
fn b22_kubernetes_secret_volume_symlink_swap() {
    let _serial = serial();
    let rotation = Rotation::new("B22");

    // 1. The secret volume layout: tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>.
    rotation.step("setup");
    assert!(std::fs::symlink_metadata(rotation.file("tls.crt"))
        .unwrap()
        .file_type()
        .is_symlink());

    // 2. Watching the three files, with client authentication from ca.crt: LOAD-OK, gen1.
    let config = rotation
        .server_config()
        .trust_bundle(rotation.file("ca.crt"))
        .client_auth(ClientAuth::Require);
    let reloading = ReloadingContext::watching(config, watch_options()).unwrap();
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));
    assert_eq!(reloading.current().generation(), 1);

    // 3. A long-lived connection on gen1.
    let (mut c1_client, mut c1_server) = handshake(&reloading, &rotation);

    // 4-5. The kubelet's swap: new handshakes get gen2 within N, C1 keeps working on gen1.
    rotation.step("rotate");
    expect_swap(&reloading, &rotation, "gen2", "B22 rotate");
    assert_eq!(reloading.current().generation(), 2);
    assert_eq!(
        send(&mut c1_client, &mut c1_server, b"still gen1"),
        b"still gen1"
    );
    assert_eq!(c1_server.context().generation(), 1);
    assert_eq!(reloading.live_generations(), 2, "C1 holds gen1");
    drop((c1_client, c1_server));
    assert!(
        wait_until(within(), || reloading.live_generations() == 1),
        "gen1 is freed once C1 closes"
    );

    // 6. The same generation again: no error, content unchanged, no new generation.
    let swapped = reloading.stats().swapped;
    rotation.step("rotate");
    settle(&reloading);
    let stats = reloading.stats();
    assert_eq!(stats.last_error, None);
    assert_eq!(stats.swapped, swapped);
    assert_eq!(reloading.current().generation(), 2);
    assert_eq!(reloading.reload().unwrap(), ReloadOutcome::Unchanged);
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen2"));
}

#[test]
fn b23_every_rotation_is_seen() {
    let _serial = serial();
    let rotation = Rotation::new("B23");
    rotation.step("setup");
    let reloading = ReloadingContext::watching(rotation.server_config(), watch_options()).unwrap();
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));

    // The case's cycle gen1 -> gen2 -> gen3 -> gen1 -> gen2, continued in the same order so each
    // of the 20 steps is a real swap: rotate-2, rotate-3, rotate-1, rotate-2, rotate-3, ...
    let order = [
        ("rotate-2", "gen2"),
        ("rotate-3", "gen3"),
        ("rotate-1", "gen1"),
    ];
    let mut after_first_cycle = None;
    for swap in 1..=20u64 {
        let (step, generation) = order[(swap as usize - 1) % order.len()];
        rotation.step(step);
        expect_swap(&reloading, &rotation, generation, step);
        assert_eq!(
            reloading.current().generation(),
            swap + 1,
            "after swap {swap}"
        );
        assert!(
            wait_until(within(), || reloading.live_generations() == 1),
            "older generations are freed after swap {swap}"
        );
        if swap == 4 {
            after_first_cycle = Some((open_fds(), threads()));
        }
    }

    // Descriptors and threads do not grow with the number of swaps.
    assert_eq!(Some((open_fds(), threads())), after_first_cycle);
    let stats = reloading.stats();
    assert_eq!(stats.swapped, 20);
    assert_eq!(stats.last_error, None);
}

#[test]
fn b25_certificate_renewed_with_the_same_key() {
    let _serial = serial();
    let rotation = Rotation::new("B25");

    // 1. gen1.
    rotation.step("setup");
    let reloading = ReloadingContext::watching(rotation.server_config(), watch_options()).unwrap();
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));
    let gen1 = reloading.current().leaf().unwrap().clone();

    // 2. Only tls.crt changes: within N the renewed certificate is served (new serial).
    rotation.step("renew-cert-only");
    expect_swap(
        &reloading,
        &rotation,
        "gen2-same-key",
        "B25 renew-cert-only",
    );
    let gen2 = reloading.current().leaf().unwrap().clone();
    assert_ne!(gen2.serial, gen1.serial);
    assert_eq!(reloading.current().generation(), 2);

    // 3. The key replaced by identical bytes (new inode and mtime): still gen2, no error.
    rotation.step("touch-key-only");
    settle(&reloading);
    let stats = reloading.stats();
    assert_eq!(stats.last_error, None);
    assert_eq!(stats.failed, 0);
    assert_eq!(stats.swapped, 1);
    assert_eq!(reloading.current().generation(), 2);
    assert_eq!(
        served(&reloading, &rotation),
        rotation.leaf("gen2-same-key")
    );
}

#[test]
fn b26_key_and_certificate_written_one_after_the_other() {
    let _serial = serial();
    let rotation = Rotation::new("B26");

    // 1. gen1.
    rotation.step("setup");
    let reloading = ReloadingContext::watching(rotation.server_config(), watch_options()).unwrap();
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));

    // 2. The gen2 key beside the gen1 certificate: the reload fails, gen1 keeps serving.
    rotation.step("write-key-gen2");
    let mismatch_seen = || {
        reloading
            .stats()
            .last_error
            .is_some_and(|error| error.contains(MISMATCH) && error.contains("tls.key"))
    };
    assert!(
        wait_until(within(), mismatch_seen),
        "B26 write-key-gen2: {:?}",
        reloading.stats()
    );
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));
    assert_eq!(reloading.current().generation(), 1);

    // 3. For 10 s (a renewal that never finishes): gen1 served, the error still visible.
    let renewal_stalled = wait_until(Duration::from_secs(10), || {
        assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));
        assert!(mismatch_seen(), "{:?}", reloading.stats());
        false
    });
    assert!(!renewal_stalled);

    // 4. The gen2 certificate completes the pair: gen2 within N, the error cleared.
    rotation.step("write-crt-gen2");
    expect_swap(&reloading, &rotation, "gen2", "B26 write-crt-gen2");
    assert_eq!(reloading.current().generation(), 2);
    assert_eq!(reloading.stats().last_error, None);

    // 5. The reverse order, certificate first: the reload fails, gen2 keeps serving.
    rotation.step("write-crt-gen1");
    assert!(
        wait_until(within(), mismatch_seen),
        "B26 write-crt-gen1: {:?}",
        reloading.stats()
    );
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen2"));
    assert_eq!(reloading.current().generation(), 2);

    // 6. ... and the key second: gen1 served again.
    rotation.step("write-key-gen1");
    expect_swap(&reloading, &rotation, "gen1", "B26 write-key-gen1");
    assert_eq!(reloading.current().generation(), 3);
    assert_eq!(reloading.stats().last_error, None);
}

#[test]
fn b31_explicit_reload_compares_content_not_modification_times() {
    let _serial = serial();
    let rotation = Rotation::new("B31");

    // 1. gen1.
    rotation.step("setup");
    let reloading = ReloadingContext::new(rotation.server_config()).unwrap();
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));

    // 2-3. New content under the old modification times: an explicit reload swaps to gen2.
    let mtime = modified(&rotation.file("tls.crt"));
    rotation.step("overwrite-keep-mtime");
    assert_eq!(modified(&rotation.file("tls.crt")), mtime);
    assert_eq!(
        reloading.reload().unwrap(),
        ReloadOutcome::Swapped { generation: 2 }
    );
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen2"));

    // 4. The same bytes under a new modification time: unchanged, no new context.
    let current = reloading.current();
    rotation.step("rewrite-identical");
    assert_eq!(reloading.reload().unwrap(), ReloadOutcome::Unchanged);
    assert!(Arc::ptr_eq(&current, &reloading.current()));
    assert_eq!(reloading.live_generations(), 1);

    // 5. Nothing changed: unchanged.
    assert_eq!(reloading.reload().unwrap(), ReloadOutcome::Unchanged);
    let stats = reloading.stats();
    assert_eq!((stats.swapped, stats.unchanged, stats.failed), (1, 2, 0));
}

#[test]
fn b31_watcher_sees_content_changed_under_the_old_modification_time() {
    let _serial = serial();
    let rotation = Rotation::new("B31");
    rotation.step("setup");
    let reloading = ReloadingContext::watching(rotation.server_config(), watch_options()).unwrap();
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));

    rotation.step("overwrite-keep-mtime");
    expect_swap(&reloading, &rotation, "gen2", "B31 overwrite-keep-mtime");
    assert_eq!(reloading.current().generation(), 2);

    let swapped = reloading.stats().swapped;
    rotation.step("rewrite-identical");
    settle(&reloading);
    assert_eq!(reloading.stats().swapped, swapped);
    assert_eq!(reloading.stats().last_error, None);
    assert_eq!(reloading.current().generation(), 2);
}

#[test]
fn files_missing_later_keep_serving_and_watching() {
    let _serial = serial();
    let rotation = Rotation::new("B26");
    rotation.step("setup");
    let reloading = ReloadingContext::watching(rotation.server_config(), watch_options()).unwrap();

    std::fs::remove_file(rotation.file("tls.crt")).unwrap();
    std::fs::remove_file(rotation.file("tls.key")).unwrap();
    assert!(
        wait_until(within(), || reloading
            .stats()
            .last_error
            .is_some_and(|error| error.ends_with("tls.crt: file not found"))),
        "{:?}",
        reloading.stats()
    );
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));

    std::fs::copy(case("B26", "gen2/tls.key"), rotation.file("tls.key")).unwrap();
    std::fs::copy(case("B26", "gen2/tls.crt"), rotation.file("tls.crt")).unwrap();
    expect_swap(&reloading, &rotation, "gen2", "files back");
    assert_eq!(reloading.stats().last_error, None);
}

#[test]
fn a_directory_replaced_whole_is_seen_and_watched_again() {
    let _serial = serial();
    let rotation = Rotation::new("B26");
    rotation.step("setup");
    // Poll only hourly, so every swap below is owed to file events.
    let options = watch_options().with_poll_interval(Duration::from_secs(3600));
    let reloading = ReloadingContext::watching(rotation.server_config(), options).unwrap();

    // The watcher's first check after start is past, so what follows is owed to file events.
    assert!(wait_until(within(), || attempts(&reloading) >= 1));

    // The whole directory is replaced by one holding gen2: the watched directory's move is seen.
    let next = rotation.target.with_file_name("next");
    std::fs::create_dir(&next).unwrap();
    for name in ["tls.crt", "tls.key"] {
        std::fs::copy(case("B26", &format!("gen2/{name}")), next.join(name)).unwrap();
    }
    std::fs::rename(&rotation.target, rotation.target.with_file_name("previous")).unwrap();
    std::fs::rename(&next, &rotation.target).unwrap();
    expect_swap(&reloading, &rotation, "gen2", "directory replaced");

    // The new directory is watched in turn: a rotation inside it is seen.
    for name in ["tls.key", "tls.crt"] {
        let staged = rotation.file(&format!(".{name}.new"));
        std::fs::copy(case("B26", &format!("gen1/{name}")), &staged).unwrap();
        std::fs::rename(&staged, rotation.file(name)).unwrap();
    }
    expect_swap(
        &reloading,
        &rotation,
        "gen1",
        "rotation in the new directory",
    );
    assert_eq!(reloading.current().generation(), 3);
}

fn modified(path: &Path) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn kubernetes_swaps_are_seen_by_file_events_alone() {
    let _serial = serial();
    let rotation = Rotation::new("B23");
    rotation.step("setup");
    // Poll only hourly, so every swap below is owed to file events through the `..data` link.
    let options = watch_options().with_poll_interval(Duration::from_secs(3600));
    let reloading = ReloadingContext::watching(rotation.server_config(), options).unwrap();
    assert_eq!(served(&reloading, &rotation), rotation.leaf("gen1"));
    assert!(wait_until(within(), || attempts(&reloading) >= 1));

    for (swap, (step, generation)) in [
        ("rotate-2", "gen2"),
        ("rotate-3", "gen3"),
        ("rotate-1", "gen1"),
    ]
    .into_iter()
    .enumerate()
    {
        rotation.step(step);
        expect_swap(&reloading, &rotation, generation, step);
        assert_eq!(reloading.current().generation(), swap as u64 + 2);
    }
}
