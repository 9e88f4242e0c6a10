//! Helpers shared by the integration tests: case files, generated identities, in-memory pumps.
#![allow(clippy::unwrap_used)]
#![allow(dead_code)]

use std::fs;
use std::path::{Path, PathBuf};

use tlsctx::{Connection, Error};

/// The shared acceptance cases: `$TLSCTX_CASES`, or `../shared/cases` beside the repository.
pub fn cases() -> PathBuf {
    match std::env::var_os("TLSCTX_CASES") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/cases"),
    }
}

pub fn case(name: &str, file: &str) -> PathBuf {
    let path = cases().join(name).join(file);
    assert!(path.exists(), "missing case file {}", path.display());
    path
}

/// A CA and a server leaf for `localhost` and 127.0.0.1, written as PEM into `dir`.
pub struct Identity {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
    pub leaf_der: Vec<u8>,
}

pub fn generate(
    dir: &Path,
    prefix: &str,
    algorithm: &'static rcgen::SignatureAlgorithm,
) -> Identity {
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{prefix} root"));
    let ca_key = rcgen::KeyPair::generate_for(algorithm).unwrap();
    let ca = ca_params.self_signed(&ca_key).unwrap();

    let mut params =
        rcgen::CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, format!("{prefix} server"));
    let key = rcgen::KeyPair::generate_for(algorithm).unwrap();
    let leaf = params.signed_by(&key, &ca, &ca_key).unwrap();

    let identity = Identity {
        ca: dir.join(format!("{prefix}-ca.crt")),
        cert: dir.join(format!("{prefix}.crt")),
        key: dir.join(format!("{prefix}.key")),
        leaf_der: leaf.der().to_vec(),
    };
    fs::write(&identity.ca, ca.pem()).unwrap();
    fs::write(&identity.cert, leaf.pem()).unwrap();
    fs::write(&identity.key, key.serialize_pem()).unwrap();
    identity
}

/// Moves TLS bytes between two connections until neither has anything to send.
pub fn pump(client: &mut Connection, server: &mut Connection) -> Result<(), Error> {
    for _ in 0..32 {
        let moved = transfer(client, server)? | transfer(server, client)?;
        if !moved {
            return Ok(());
        }
    }
    panic!("connections kept exchanging bytes after 32 rounds");
}

/// Moves everything `from` has to send into `to`; true when anything moved.
fn transfer(from: &mut Connection, to: &mut Connection) -> Result<bool, Error> {
    let mut buffer = vec![0u8; 64 * 1024];
    let mut moved = false;
    while from.wants_write() {
        let n = from.write_tls(&mut buffer);
        if n == 0 {
            break;
        }
        let mut offset = 0;
        while offset < n {
            offset += to.read_tls(&buffer[offset..n])?;
        }
        moved = true;
    }
    Ok(moved)
}

/// Sends `message` from one side and returns what the other side reads.
pub fn send(from: &mut Connection, to: &mut Connection, message: &[u8]) -> Vec<u8> {
    let mut sent = 0;
    while sent < message.len() {
        sent += from.write(&message[sent..]).unwrap();
    }
    let (client, server) = (from, to);
    pump(client, server).unwrap();
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = server.read(&mut buffer).unwrap();
        if n == 0 {
            break;
        }
        received.extend_from_slice(&buffer[..n]);
    }
    received
}

/// Open file descriptors of this process.
pub fn open_fds() -> usize {
    fs::read_dir("/proc/self/fd").unwrap().count()
}

/// Threads of this process.
pub fn threads() -> usize {
    fs::read_dir("/proc/self/task").unwrap().count()
}

/// Polls `done` every 10 ms until it holds or `limit` has passed; true when it held.
pub fn wait_until(limit: std::time::Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if done() {
            return true;
        }
        if std::time::Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}
