//! Reloads under load: thousands of swaps and refused rotations while other threads hand-shake
//! and hold generations, then proof that nothing is left behind (generations, memory, file
//! descriptors).
//!
//! This file holds one test on purpose: the memory and descriptor counts are per process, and a
//! second test running beside it would move them.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::VecDeque;
use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use common::{generate, open_fds, pump, send};
use tlsctx::{Connection, Context, Error, ReloadOutcome, ReloadingContext, Source, TlsConfig};

/// Threads opening connections beside the reloader; with the reloader that is twice the cores of
/// the machine the suite runs on, so the swaps really interleave with the handshakes.
const WORKERS: usize = 3;

/// Every this many rotations, one is first attempted with a key that does not match.
const BAD_EVERY: u64 = 10;

/// A kept connection closes once the current generation is this many ahead of its own.
const KEPT_ACROSS: u64 = 3;

/// Every this many connections, one is kept open across reloads instead of closed at once.
const KEEP_EVERY: usize = 4;

/// Generations each worker holds on to (as a server would while it sets up connections).
const HELD_GENERATIONS: usize = 8;

/// Growth of the resident set allowed between the end of the warm-up and the end of the main
/// phase.
///
/// The warm-up runs the same threads up to the same peaks (connections kept, generations held),
/// so the allocator's arenas and the caches of rustls and aws-lc have reached their working size
/// before the first measurement. What may still move is the allocator keeping freed pages and
/// fragmenting: under 200 KiB in the runs made while writing this test. A leak scales with the
/// work instead. Measured with this test's identities, a generation that is never freed costs
/// about 2.5 KiB and a connection pair with its client context about 31 KiB, so leaking one per
/// swap makes about 48 MiB over the main phase and one per handshake over 300 MiB. 8 MiB is far
/// above the noise and still catches anything over about 420 bytes lost per reload.
const RSS_GROWTH_BOUND: u64 = 8 * 1024 * 1024;

/// The work of one phase.
#[derive(Clone, Copy)]
struct Phase {
    /// Successful reloads (each a real swap).
    swaps: u64,
    /// Connections each worker opens and closes.
    connections: usize,
}

const WARM_UP: Phase = Phase {
    swaps: 1000,
    connections: 300,
};

const MAIN: Phase = Phase {
    swaps: 20_000,
    connections: 4000,
};

/// Two generated identities and the served files that the reloader swaps between them.
struct Rotation {
    _dir: tempfile::TempDir,
    cert: PathBuf,
    key: PathBuf,
    /// PEM certificate chain and private key of identity A (index 0) and B (index 1).
    pems: [(Vec<u8>, Vec<u8>); 2],
    /// The leaf certificate each identity serves.
    leaves: [Vec<u8>; 2],
    /// Both roots, for the clients.
    roots: Vec<u8>,
}

impl Rotation {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let a = generate(dir.path(), "a", &rcgen::PKCS_ECDSA_P256_SHA256);
        let b = generate(dir.path(), "b", &rcgen::PKCS_ECDSA_P256_SHA256);
        let pems = [&a, &b].map(|id| (fs::read(&id.cert).unwrap(), fs::read(&id.key).unwrap()));
        let mut roots = fs::read(&a.ca).unwrap();
        roots.extend(fs::read(&b.ca).unwrap());
        let rotation = Rotation {
            cert: dir.path().join("tls.crt"),
            key: dir.path().join("tls.key"),
            _dir: dir,
            pems,
            leaves: [a.leaf_der, b.leaf_der],
            roots,
        };
        rotation.install_cert(0);
        rotation.install_key(0);
        rotation
    }

    fn config(&self) -> TlsConfig {
        TlsConfig::server()
            .cert_chain(self.cert.clone())
            .private_key(self.key.clone())
    }

    fn install_cert(&self, identity: usize) {
        fs::write(&self.cert, &self.pems[identity].0).unwrap();
    }

    fn install_key(&self, identity: usize) {
        fs::write(&self.key, &self.pems[identity].1).unwrap();
    }

    /// The identity a generation serves: the first generation is A and every swap alternates.
    fn identity_of(generation: u64) -> usize {
        ((generation - 1) % 2) as usize
    }

    fn leaf_of(&self, generation: u64) -> &[u8] {
        &self.leaves[Self::identity_of(generation)]
    }

    /// Swaps `swaps` times, trying a mismatched key before every [`BAD_EVERY`]th swap; returns how
    /// many reloads failed. Each outcome is checked as it happens.
    fn rotate(&self, reloading: &ReloadingContext, swaps: u64) -> u64 {
        let mut failed = 0;
        for _ in 0..swaps {
            let generation = reloading.current().generation();
            let next = Self::identity_of(generation + 1);
            if (generation + 1) % BAD_EVERY == 0 {
                // Only the key has been rotated so far: it belongs to the other certificate.
                self.install_key(next);
                let failure = reloading.reload().unwrap_err();
                assert!(matches!(failure, Error::KeyMismatch { .. }), "{failure:?}");
                assert_eq!(reloading.current().generation(), generation);
                failed += 1;
            }
            self.install_cert(next);
            self.install_key(next);
            assert_eq!(
                reloading.reload().unwrap(),
                ReloadOutcome::Swapped {
                    generation: generation + 1
                }
            );
        }
        failed
    }
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    handshakes: usize,
    /// Kept connections that were still working after [`KEPT_ACROSS`] or more reloads.
    kept_across_reloads: usize,
}

/// A client and a server connection joined in memory.
struct Pair {
    client: Connection,
    server: Connection,
}

impl Pair {
    /// Checks that the pair still carries data both ways on its generation, then closes it with a
    /// close_notify.
    fn close(mut self) {
        assert_eq!(send(&mut self.client, &mut self.server, b"ping"), b"ping");
        assert_eq!(send(&mut self.server, &mut self.client, b"pong"), b"pong");
        self.client.send_close_notify();
        pump(&mut self.client, &mut self.server).unwrap();
        assert!(self.server.peer_closed());
    }
}

/// A full handshake against the current generation, checking the client was served the leaf of
/// the generation the server connection is bound to.
fn handshake(reloading: &ReloadingContext, rotation: &Rotation) -> Pair {
    // A client context per connection: a shared one would resume sessions, and a resumed
    // handshake neither signs with the generation's key nor shows its certificate.
    let trust = Source::memory("roots.pem", rotation.roots.clone());
    let client_context = Context::load(&TlsConfig::client().trust_bundle(trust)).unwrap();
    let mut server = Connection::server(reloading.current()).unwrap();
    let mut client = Connection::client(client_context, "localhost", None).unwrap();
    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking() && !server.is_handshaking());
    let served = &client.peer_certificates().unwrap()[0];
    assert_eq!(
        served.as_ref(),
        rotation.leaf_of(server.context().generation())
    );
    Pair { client, server }
}

/// One worker: `connections` handshakes, every [`KEEP_EVERY`]th kept open until the current
/// generation is [`KEPT_ACROSS`] ahead of its own (or the reloader has finished), the others closed
/// at once; between them it takes and releases the current generation.
fn work(
    reloading: &ReloadingContext,
    rotation: &Rotation,
    connections: usize,
    rotating: &AtomicBool,
) -> Tally {
    let mut tally = Tally::default();
    let mut kept: Vec<Pair> = Vec::new();
    let mut held: VecDeque<Arc<Context>> = VecDeque::new();
    for round in 0..connections {
        let connection = handshake(reloading, rotation);
        tally.handshakes += 1;
        if round % KEEP_EVERY == 0 {
            kept.push(connection);
        } else {
            connection.close();
        }

        held.push_back(reloading.current());
        if held.len() > HELD_GENERATIONS {
            held.pop_front();
        }
        for _ in 0..16 {
            drop(reloading.current());
        }

        let current = reloading.current().generation();
        let still_rotating = rotating.load(Ordering::Acquire);
        let (closing, staying) = kept.drain(..).partition(|connection| {
            !still_rotating || connection.server.context().generation() + KEPT_ACROSS <= current
        });
        kept = staying;
        for connection in closing {
            if connection.server.context().generation() + KEPT_ACROSS <= current {
                tally.kept_across_reloads += 1;
            }
            connection.close();
        }
    }
    kept.into_iter().for_each(Pair::close);
    tally
}

/// Runs one phase: the reloader on this thread, [`WORKERS`] threads beside it. Returns the
/// failed reloads and the workers' tallies added up.
fn run(reloading: &ReloadingContext, rotation: &Rotation, phase: Phase) -> (u64, Tally) {
    let rotating = AtomicBool::new(true);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..WORKERS)
            .map(|_| scope.spawn(|| work(reloading, rotation, phase.connections, &rotating)))
            .collect();
        let failed = rotation.rotate(reloading, phase.swaps);
        rotating.store(false, Ordering::Release);
        let mut total = Tally::default();
        for worker in workers {
            let tally = worker.join().unwrap();
            total.handshakes += tally.handshakes;
            total.kept_across_reloads += tally.kept_across_reloads;
        }
        (failed, total)
    })
}

/// The resident set of this process in bytes.
fn resident_bytes() -> u64 {
    let status = fs::read_to_string("/proc/self/status").unwrap();
    let line = status
        .lines()
        .find(|line| line.starts_with("VmRSS:"))
        .unwrap();
    let kib: u64 = line
        .trim_start_matches("VmRSS:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .unwrap();
    kib * 1024
}

#[test]
fn thousands_of_reloads_under_load_leave_nothing_behind() {
    let started = Instant::now();
    let rotation = Rotation::new();
    let reloading = ReloadingContext::new(rotation.config()).unwrap();

    let (warm_up_failed, warm_up) = run(&reloading, &rotation, WARM_UP);
    assert_eq!(warm_up.handshakes, WORKERS * WARM_UP.connections);
    assert_eq!(reloading.live_generations(), 1);
    let resident_after_warm_up = resident_bytes();
    let fds_after_warm_up = open_fds();

    let (main_failed, main) = run(&reloading, &rotation, MAIN);
    let resident_after_main = resident_bytes();

    assert_eq!(main.handshakes, WORKERS * MAIN.connections);
    assert!(
        main.kept_across_reloads >= WORKERS,
        "only {} connections stayed open across {KEPT_ACROSS} reloads",
        main.kept_across_reloads
    );
    assert_eq!(reloading.live_generations(), 1);
    assert_eq!(
        tlsctx::live_generations(),
        1,
        "no client context or older generation survives its connections"
    );
    assert_eq!(
        reloading.current().generation(),
        1 + WARM_UP.swaps + MAIN.swaps
    );

    // A refused rotation is tried before every tenth generation, counted from generation 1.
    let swaps = WARM_UP.swaps + MAIN.swaps;
    assert_eq!(warm_up_failed + main_failed, (swaps + 1) / BAD_EVERY);
    let stats = reloading.stats();
    assert_eq!(
        (stats.swapped, stats.unchanged, stats.failed),
        (swaps, 0, (swaps + 1) / BAD_EVERY)
    );
    assert_eq!(stats.last_error, None);

    let growth = resident_after_main.saturating_sub(resident_after_warm_up);
    assert!(
        growth < RSS_GROWTH_BOUND,
        "resident set grew by {growth} bytes ({resident_after_warm_up} -> {resident_after_main})"
    );
    assert_eq!(open_fds(), fds_after_warm_up);

    eprintln!(
        "stress: {} reloads ({} refused), {} handshakes, {} kept across reloads, resident set \
         {} KiB -> {} KiB, {:.1} s",
        swaps + stats.failed,
        stats.failed,
        warm_up.handshakes + main.handshakes,
        warm_up.kept_across_reloads + main.kept_across_reloads,
        resident_after_warm_up / 1024,
        resident_after_main / 1024,
        started.elapsed().as_secs_f64()
    );
}
