//! Measures reloads and generation lookups of a [`ReloadingContext`].
//!
//! ```text
//! cargo run --release --example reload_bench [RELOADS]
//! ```
//!
//! Two ECDSA P-256 identities are generated and the served files alternate between them, so every
//! reload is a real swap (`RELOADS`, 100,000 unless given). The program prints the time per
//! reload (mean, p50, p99; the file writes before each reload are not counted), the resident set
//! before and after the reloads, and the time of one [`ReloadingContext::current`] call on one
//! and on two threads, with no reloads running and with a thread reloading back to back.
//!
//! On a machine with two cores, the runs with reloads put three busy threads on two cores, so
//! part of what they show is the lookup threads waiting for a core.

use std::error::Error;
use std::fs;
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use tlsctx::{ReloadOutcome, ReloadingContext, TlsConfig};

const DEFAULT_RELOADS: usize = 100_000;

/// Calls of `current()` each lookup thread makes per measurement.
const LOOKUPS: u32 = 5_000_000;

/// The PEM certificate chain and private key of one identity.
struct Identity {
    cert_chain: String,
    private_key: String,
}

/// A self-signed ECDSA P-256 certificate for `localhost`.
fn identity(name: &str) -> Result<Identity, rcgen::Error> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    let cert = params.self_signed(&key)?;
    Ok(Identity {
        cert_chain: cert.pem(),
        private_key: key.serialize_pem(),
    })
}

/// The served files and the two identities they alternate between.
struct Rotation {
    cert_chain: PathBuf,
    private_key: PathBuf,
    identities: [Identity; 2],
    installed: usize,
}

impl Rotation {
    fn new(dir: &Path) -> Result<Self, Box<dyn Error>> {
        let rotation = Rotation {
            cert_chain: dir.join("tls.crt"),
            private_key: dir.join("tls.key"),
            identities: [identity("bench a")?, identity("bench b")?],
            installed: 0,
        };
        rotation.install(0)?;
        Ok(rotation)
    }

    fn install(&self, index: usize) -> std::io::Result<()> {
        let identity = &self.identities[index];
        fs::write(&self.cert_chain, &identity.cert_chain)?;
        fs::write(&self.private_key, &identity.private_key)
    }

    /// Writes the other identity and reloads; returns how long the reload alone took.
    fn swap(&mut self, reloading: &ReloadingContext) -> Result<Duration, Box<dyn Error>> {
        let next = 1 - self.installed;
        self.install(next)?;
        let started = Instant::now();
        let outcome = reloading.reload()?;
        let took = started.elapsed();
        if !matches!(outcome, ReloadOutcome::Swapped { .. }) {
            return Err(format!("reload did not swap: {outcome:?}").into());
        }
        self.installed = next;
        Ok(took)
    }
}

/// The resident set of this process in KiB.
fn resident_kib() -> Result<u64, Box<dyn Error>> {
    let status = fs::read_to_string("/proc/self/status")?;
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .ok_or("no VmRSS line in /proc/self/status")?;
    let kib = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()?;
    Ok(kib)
}

/// Nanoseconds per `current()` call, averaged over `threads` threads calling it together, while
/// another thread reloads back to back when `reloading_meanwhile` holds.
fn lookup_ns(
    reloading: &ReloadingContext,
    rotation: &mut Rotation,
    threads: usize,
    reloading_meanwhile: bool,
) -> Result<(f64, usize), Box<dyn Error>> {
    std::thread::scope(|scope| {
        let lookups: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let started = Instant::now();
                    for _ in 0..LOOKUPS {
                        black_box(reloading.current());
                    }
                    started.elapsed()
                })
            })
            .collect();
        let mut reloads = 0;
        if reloading_meanwhile {
            while !lookups.iter().all(|lookup| lookup.is_finished()) {
                rotation.swap(reloading)?;
                reloads += 1;
            }
        }
        let mut total = Duration::ZERO;
        for lookup in lookups {
            total += lookup.join().map_err(|_| "a lookup thread panicked")?;
        }
        let calls = f64::from(LOOKUPS) * threads as f64;
        Ok((total.as_nanos() as f64 / calls, reloads))
    })
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() - 1) as f64 * fraction).round() as usize;
    sorted[index]
}

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

fn main() -> Result<(), Box<dyn Error>> {
    let reloads: usize = match std::env::args().nth(1) {
        Some(count) => count
            .parse()
            .map_err(|_| format!("RELOADS must be a count, not \"{count}\""))?,
        None => DEFAULT_RELOADS,
    };
    if reloads == 0 {
        return Err("RELOADS must be at least 1".into());
    }

    let dir = tempfile::tempdir()?;
    let mut rotation = Rotation::new(dir.path())?;
    let config = TlsConfig::server()
        .cert_chain(rotation.cert_chain.clone())
        .private_key(rotation.private_key.clone());
    let reloading = ReloadingContext::new(config)?;
    // Filled in place, so its pages are already counted in the resident set before.
    let mut timings = vec![Duration::ZERO; reloads];

    // A few swaps first, so the resident set before includes what the first reloads set up once.
    for _ in 0..100 {
        rotation.swap(&reloading)?;
    }
    let resident_before = resident_kib()?;
    let started = Instant::now();
    for timing in timings.iter_mut() {
        *timing = rotation.swap(&reloading)?;
    }
    let wall = started.elapsed();
    let resident_after = resident_kib()?;

    let mean = timings.iter().sum::<Duration>() / reloads as u32;
    timings.sort_unstable();
    println!("reloads: {reloads} swaps of an ECDSA P-256 identity, {wall:.2?} in all with the file writes");
    println!(
        "reload: mean {:.1} us, p50 {:.1} us, p99 {:.1} us",
        micros(mean),
        micros(percentile(&timings, 0.50)),
        micros(percentile(&timings, 0.99))
    );
    println!(
        "resident set: {resident_before} KiB before, {resident_after} KiB after, {:+} KiB",
        resident_after as i64 - resident_before as i64
    );
    println!(
        "live generations after the reloads: {}",
        reloading.live_generations()
    );

    for reloading_meanwhile in [false, true] {
        for threads in [1, 2] {
            let (ns, swaps) = lookup_ns(&reloading, &mut rotation, threads, reloading_meanwhile)?;
            let meanwhile = if reloading_meanwhile {
                format!("while reloading ({swaps} swaps meanwhile)")
            } else {
                "without reloads".to_string()
            };
            println!("current(): {ns:.1} ns per call, {threads} thread(s), {meanwhile}");
        }
    }
    Ok(())
}
