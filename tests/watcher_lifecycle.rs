//! Stopping a watching reloading context leaves no thread and no file descriptor behind. Alone in
//! its test binary, so that no other test's threads or files disturb the counts.
#![allow(clippy::unwrap_used)]

mod common;

use std::fs;
use std::time::Duration;

use common::{case, open_fds, threads, wait_until};
use tlsctx::{ReloadingContext, TlsConfig, WatchOptions};

#[test]
fn dropping_the_reloading_context_stops_and_joins_the_watcher() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    fs::copy(case("B26", "gen1/tls.crt"), &cert).unwrap();
    fs::copy(case("B26", "gen1/tls.key"), &key).unwrap();
    let config = TlsConfig::server().cert_chain(&cert).private_key(&key);
    let options = WatchOptions::default()
        .with_poll_interval(Duration::from_millis(100))
        .with_debounce(Duration::from_millis(50));
    let (fds_before, threads_before) = (open_fds(), threads());

    let reloading = ReloadingContext::watching(config, options).unwrap();
    // The watcher is running: a rotation is swapped in.
    fs::copy(case("B26", "gen2/tls.key"), &key).unwrap();
    fs::copy(case("B26", "gen2/tls.crt"), &cert).unwrap();
    assert!(wait_until(Duration::from_secs(3), || {
        reloading.current().generation() == 2
    }));
    assert!(threads() > threads_before);
    assert!(open_fds() > fds_before, "the file events hold descriptors");
    drop(reloading);

    // Our thread is joined by drop; the file-event thread of `notify` ends on its own shortly
    // after, closing its descriptors.
    assert!(
        wait_until(Duration::from_secs(5), || threads() == threads_before),
        "threads: {} before, {} after",
        threads_before,
        threads()
    );
    assert!(
        wait_until(Duration::from_secs(5), || open_fds() == fds_before),
        "descriptors: {} before, {} after",
        fds_before,
        open_fds()
    );
}
