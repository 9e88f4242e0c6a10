//! A leaf outside its validity period is refused at load (beyond five minutes of clock skew),
//! may be allowed at the first load only, and is never swapped in by a reload.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tlsctx::{Context, Error, ReloadingContext, TlsConfig};

/// Writes a self-signed leaf valid from `not_before` to `not_after` (seconds from now) and its
/// key into `dir`, returning their paths.
fn leaf(dir: &Path, name: &str, not_before: i64, not_after: i64) -> (PathBuf, PathBuf) {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    params.not_before =
        rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs((now + not_before) as u64);
    params.not_after =
        rcgen::date_time_ymd(1970, 1, 1) + Duration::from_secs((now + not_after) as u64);
    let key = rcgen::KeyPair::generate().unwrap();
    let certificate = params.self_signed(&key).unwrap();
    let (cert_path, key_path) = (
        dir.join(format!("{name}.crt")),
        dir.join(format!("{name}.key")),
    );
    fs::write(&cert_path, certificate.pem()).unwrap();
    fs::write(&key_path, key.serialize_pem()).unwrap();
    (cert_path, key_path)
}

fn config(cert: &Path, key: &Path) -> TlsConfig {
    TlsConfig::server().cert_chain(cert).private_key(key)
}

#[test]
fn an_expired_leaf_is_refused_with_its_dates() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = leaf(dir.path(), "expired", -86_400, -3_600);
    let failure = Context::load(&config(&cert, &key)).unwrap_err();
    assert!(
        matches!(failure, Error::CertificateExpired { .. }),
        "{failure:?}"
    );
    let message = failure.to_string();
    assert!(message.starts_with(&format!(
        "{}: certificate expired: valid until ",
        cert.display()
    )));
    assert!(message.contains(", now "), "{message}");
}

#[test]
fn a_leaf_not_yet_valid_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = leaf(dir.path(), "future", 3_600, 86_400);
    let failure = Context::load(&config(&cert, &key)).unwrap_err();
    assert!(
        matches!(failure, Error::CertificateNotYetValid { .. }),
        "{failure:?}"
    );
    assert!(failure
        .to_string()
        .contains("certificate not yet valid: valid from "));
}

#[test]
fn five_minutes_of_clock_skew_are_tolerated_at_both_ends() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = leaf(dir.path(), "early", 120, 86_400);
    assert_eq!(Context::load(&config(&cert, &key)).unwrap().generation(), 1);
    let (cert, key) = leaf(dir.path(), "late", -86_400, -120);
    assert_eq!(Context::load(&config(&cert, &key)).unwrap().generation(), 1);
}

#[test]
fn an_expired_leaf_may_start_a_server_but_never_comes_in_by_reload() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = leaf(dir.path(), "served", -86_400, -3_600);
    let reloading = ReloadingContext::new(config(&cert, &key).allow_expired_leaf(true)).unwrap();
    assert_eq!(reloading.current().generation(), 1);

    let (fresh_cert, fresh_key) = leaf(dir.path(), "fresh", -60, 86_400);
    fs::copy(&fresh_cert, &cert).unwrap();
    fs::copy(&fresh_key, &key).unwrap();
    assert_eq!(
        reloading.reload().unwrap(),
        tlsctx::ReloadOutcome::Swapped { generation: 2 }
    );

    let (stale_cert, stale_key) = leaf(dir.path(), "stale", -86_400, -3_600);
    fs::copy(&stale_cert, &cert).unwrap();
    fs::copy(&stale_key, &key).unwrap();
    let failure = reloading.reload().unwrap_err();
    assert!(
        matches!(failure, Error::CertificateExpired { .. }),
        "{failure:?}"
    );
    assert_eq!(reloading.current().generation(), 2);
}
