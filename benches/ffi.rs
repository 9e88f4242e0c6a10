//! The C ABI against rustls called directly: what the FFI layer costs a server.
//!
//! ```text
//! cargo bench --bench ffi
//! ```
//!
//! Every case runs twice over the same code. In the `rustls` arm the server is a
//! [`rustls::ServerConnection`] built with rustls alone; in the `c-abi` arm it is a `tls_conn`
//! from [`tlsctx::ffi`], called as a C program calls it: raw pointers, byte buffers, result codes.
//! Both serve the same PEM files with the same aws-lc-rs provider, protocol versions, cipher suites
//! and key exchange groups, a 1024-entry session cache and a session ticketer, as tlsctx sets up a
//! generation. The client is a plain rustls [`ClientConnection`] in both arms, with resumption
//! off, so every handshake is a full one. Everything happens in memory; no socket is involved.
//!
//! Only the server's work is timed (criterion's `iter_custom`): creating, driving and freeing the
//! server in a handshake, decrypting a record and reading its plaintext, writing plaintext and
//! encrypting it. The client's work runs between the timed spans.
//!
//! Criterion reports each arm on its own, one after the other. On a small shared machine the load
//! changes between two such runs by more than the difference sought, so the summary comes from a
//! second pass that alternates the arms round by round and compares each round's pair. Its table
//! (both arms' medians and the overhead of the C ABI) is printed and written to
//! `target/bench/ffi.md`, for `docs/benchmarks.md`.

use std::ffi::CString;
use std::fmt::Write as _;
use std::fs;
use std::hint::black_box;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::ptr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion};
use rustls::client::Resumption;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::server::ServerSessionMemoryCache;
use rustls::{version, SupportedProtocolVersion};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use tlsctx::ffi::{
    tls_config_free, tls_config_new, tls_config_set_cert_chain, tls_config_set_private_key,
    tls_config_set_versions, tls_conn, tls_conn_free, tls_conn_is_handshaking, tls_conn_new_server,
    tls_conn_read, tls_conn_read_tls, tls_conn_unwrap, tls_conn_unwrap_in_place, tls_conn_wrap,
    tls_conn_write, tls_conn_write_tls, tls_ctx_load, tls_ctx_release, tls_last_error, tls_result,
    tls_role, tls_step, TLS_VERSION_TLS12, TLS_VERSION_TLS13,
};

/// The overhead of the C ABI over rustls called directly that the project accepts, in percent.
const TARGET_PERCENT: f64 = 10.0;

/// Rounds of the alternating measurement behind the summary.
const ROUNDS: usize = 201;

/// Server time of one arm in one round of the alternating measurement, about.
const ROUND: Duration = Duration::from_millis(2);

/// Records timed together in a bulk measurement, so the clock is read once per batch.
const BATCH: u64 = 64;

/// Records one session carries before the bulk cases replace it with a fresh handshake, far below
/// the record limits of AES-GCM.
const RECORDS_PER_SESSION: u64 = 1 << 20;

/// Room for any flight of the handshake or a batch of records.
const BUFFER: usize = 256 * 1024;

/// A server connection as the benchmark drives it; both arms implement it, so the code that
/// moves bytes is the same for both.
trait Server {
    /// Takes TLS bytes from the client and processes them; all of them must be taken.
    fn receive(&mut self, tls: &[u8]);

    /// Writes pending TLS bytes into `out`, returning how many.
    fn send(&mut self, out: &mut [u8]) -> usize;

    /// Whether the handshake is still in progress.
    fn is_handshaking(&self) -> bool;

    /// Reads received plaintext into `out`, returning how many bytes.
    fn read_plaintext(&mut self, out: &mut [u8]) -> usize;

    /// Queues plaintext for the client, returning how many bytes were taken.
    fn write_plaintext(&mut self, plaintext: &[u8]) -> usize;

    /// Takes one whole record from the client and writes its plaintext into `out`, returning
    /// how many plaintext bytes. The record's bytes may be overwritten.
    fn decrypt(&mut self, record: &mut [u8], out: &mut [u8]) -> usize {
        self.receive(record);
        self.read_plaintext(out)
    }

    /// Encrypts `plaintext` into one record written into `out`, returning the record's length.
    fn encrypt(&mut self, plaintext: &[u8], out: &mut [u8]) -> usize {
        let taken = self.write_plaintext(plaintext);
        assert_eq!(
            taken,
            plaintext.len(),
            "the server takes the whole plaintext"
        );
        self.send(out)
    }
}

/// One way of making servers: rustls called directly, or the C ABI.
trait Arm {
    /// The server connection this arm makes.
    type Conn: Server;

    /// The arm's name in benchmark ids.
    const NAME: &'static str;

    /// Starts a server connection.
    fn start(&self) -> Self::Conn;
}

/// The `rustls` arm: a [`ServerConfig`] built with rustls alone.
struct Direct {
    config: Arc<ServerConfig>,
}

impl Direct {
    /// Builds the configuration from the identity's PEM files as tlsctx builds a generation.
    fn new(identity: &IdentityFiles, versions: &[&'static SupportedProtocolVersion]) -> Self {
        let chain = CertificateDer::pem_file_iter(&identity.cert_chain)
            .expect("the certificate file opens")
            .collect::<Result<Vec<_>, _>>()
            .expect("the certificate file parses");
        let key = PrivateKeyDer::from_pem_file(&identity.private_key).expect("the key parses");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .expect("the versions suit the provider")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("the key matches the certificate");
        config.session_storage = ServerSessionMemoryCache::new(1024);
        config.ticketer = rustls::crypto::aws_lc_rs::Ticketer::new().expect("a ticketer");
        Direct {
            config: Arc::new(config),
        }
    }
}

impl Arm for Direct {
    type Conn = ServerConnection;

    const NAME: &'static str = "rustls";

    fn start(&self) -> ServerConnection {
        ServerConnection::new(self.config.clone()).expect("a server connection")
    }
}

impl Server for ServerConnection {
    fn receive(&mut self, mut tls: &[u8]) {
        // The same loop as the library's: read what rustls takes, process it, go on.
        while !tls.is_empty() {
            match self.read_tls(&mut tls) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    self.process_new_packets()
                        .expect("the client's bytes are valid");
                }
            }
        }
        assert!(tls.is_empty(), "the server took every byte");
    }

    fn send(&mut self, out: &mut [u8]) -> usize {
        let capacity = out.len();
        let mut rest = out;
        while self.wants_write() && !rest.is_empty() {
            match self.write_tls(&mut rest) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        capacity - rest.len()
    }

    fn is_handshaking(&self) -> bool {
        rustls::CommonState::is_handshaking(self)
    }

    fn read_plaintext(&mut self, out: &mut [u8]) -> usize {
        match self.reader().read(out) {
            Ok(n) => n,
            Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => 0,
            Err(err) => panic!("reading plaintext: {err}"),
        }
    }

    fn write_plaintext(&mut self, plaintext: &[u8]) -> usize {
        self.writer().write(plaintext).expect("plaintext is queued")
    }
}

/// The `c-abi` arm: a context handle from `tls_ctx_load`, released when the arm is dropped.
struct CAbi {
    context: u64,
}

/// Panics with the library's message unless `result` is success.
fn check(result: tls_result, call: &str) {
    if result != tls_result::Ok {
        // SAFETY: tls_last_error never returns NULL, and its string stays valid until the next
        // failing call on this thread.
        let message = unsafe { std::ffi::CStr::from_ptr(tls_last_error()) };
        panic!("{call}: {result:?}: {}", message.to_string_lossy());
    }
}

impl CAbi {
    /// Loads a context from the identity's PEM files, as a C program does.
    fn new(identity: &IdentityFiles, versions: u32) -> Self {
        let cert_chain = c_path(&identity.cert_chain);
        let private_key = c_path(&identity.private_key);
        let mut config = ptr::null_mut();
        let mut context = 0;
        // SAFETY: the out-pointers are writable locals; the paths are NUL-terminated strings
        // alive for the calls; `config` is used only between its creation and its free.
        unsafe {
            check(
                tls_config_new(tls_role::Server as u32, &mut config),
                "tls_config_new",
            );
            check(
                tls_config_set_cert_chain(config, cert_chain.as_ptr()),
                "tls_config_set_cert_chain",
            );
            check(
                tls_config_set_private_key(config, private_key.as_ptr()),
                "tls_config_set_private_key",
            );
            check(
                tls_config_set_versions(config, versions),
                "tls_config_set_versions",
            );
            check(tls_ctx_load(config, &mut context), "tls_ctx_load");
            tls_config_free(config);
        }
        CAbi { context }
    }
}

impl Drop for CAbi {
    fn drop(&mut self) {
        check(tls_ctx_release(self.context), "tls_ctx_release");
    }
}

impl Arm for CAbi {
    type Conn = CAbiServer;

    const NAME: &'static str = "c-abi";

    fn start(&self) -> CAbiServer {
        let mut conn = ptr::null_mut();
        // SAFETY: the out-pointer is a writable local.
        check(
            unsafe { tls_conn_new_server(self.context, &mut conn) },
            "tls_conn_new_server",
        );
        CAbiServer(conn)
    }
}

/// A `tls_conn` owned by the benchmark and freed with `tls_conn_free` when dropped.
struct CAbiServer(*mut tls_conn);

impl Drop for CAbiServer {
    fn drop(&mut self) {
        // SAFETY: the pointer came from tls_conn_new_server and is freed only here.
        unsafe { tls_conn_free(self.0) };
    }
}

impl Server for CAbiServer {
    fn receive(&mut self, tls: &[u8]) {
        let mut consumed = 0;
        // SAFETY: a live connection, a buffer readable for its length, a writable local.
        let result = unsafe { tls_conn_read_tls(self.0, tls.as_ptr(), tls.len(), &mut consumed) };
        check(result, "tls_conn_read_tls");
        assert_eq!(consumed, tls.len(), "the server took every byte");
    }

    fn send(&mut self, out: &mut [u8]) -> usize {
        let mut written = 0;
        // SAFETY: a live connection, a buffer writable for its length, a writable local.
        let result =
            unsafe { tls_conn_write_tls(self.0, out.as_mut_ptr(), out.len(), &mut written) };
        check(result, "tls_conn_write_tls");
        written
    }

    fn is_handshaking(&self) -> bool {
        // SAFETY: a live connection.
        unsafe { tls_conn_is_handshaking(self.0) }
    }

    fn read_plaintext(&mut self, out: &mut [u8]) -> usize {
        let mut read = 0;
        // SAFETY: a live connection, a buffer writable for its length, a writable local.
        let result = unsafe { tls_conn_read(self.0, out.as_mut_ptr(), out.len(), &mut read) };
        check(result, "tls_conn_read");
        read
    }

    fn write_plaintext(&mut self, plaintext: &[u8]) -> usize {
        let mut written = 0;
        // SAFETY: a live connection, a buffer readable for its length, a writable local.
        let result =
            unsafe { tls_conn_write(self.0, plaintext.as_ptr(), plaintext.len(), &mut written) };
        check(result, "tls_conn_write");
        written
    }
}

/// The `c-abi` arm through the engine-style record calls: records go through
/// `tls_conn_unwrap` and `tls_conn_wrap`, straight between the caller's buffers; the handshake
/// uses the stream calls as in the other arm.
struct CAbiRecords(CAbi);

impl Arm for CAbiRecords {
    type Conn = CAbiRecordServer;

    const NAME: &'static str = "c-abi-records";

    fn start(&self) -> CAbiRecordServer {
        CAbiRecordServer {
            conn: self.0.start(),
            in_place: false,
        }
    }
}

/// A `tls_conn` whose records go through the record calls; with `in_place`, records are
/// decrypted where they lie by `tls_conn_unwrap_in_place`.
struct CAbiRecordServer {
    conn: CAbiServer,
    in_place: bool,
}

impl CAbiRecordServer {
    fn step(
        &mut self,
        call: unsafe extern "C" fn(
            *mut tls_conn,
            *const u8,
            usize,
            *mut u8,
            usize,
            *mut tls_step,
        ) -> tls_result,
        name: &str,
        src: &[u8],
        dst: &mut [u8],
    ) -> tls_step {
        let mut step = tls_step::default();
        // SAFETY: a live connection, a readable and a writable buffer that do not overlap (one
        // is borrowed shared, the other exclusively), a writable local.
        let result = unsafe {
            call(
                self.conn.0,
                src.as_ptr(),
                src.len(),
                dst.as_mut_ptr(),
                dst.len(),
                &mut step,
            )
        };
        check(result, name);
        assert_eq!(step.consumed, src.len(), "{name} takes the whole source");
        step
    }
}

impl Server for CAbiRecordServer {
    fn receive(&mut self, tls: &[u8]) {
        self.conn.receive(tls);
    }

    fn send(&mut self, out: &mut [u8]) -> usize {
        self.conn.send(out)
    }

    fn is_handshaking(&self) -> bool {
        self.conn.is_handshaking()
    }

    fn read_plaintext(&mut self, out: &mut [u8]) -> usize {
        self.conn.read_plaintext(out)
    }

    fn write_plaintext(&mut self, plaintext: &[u8]) -> usize {
        self.conn.write_plaintext(plaintext)
    }

    fn decrypt(&mut self, record: &mut [u8], out: &mut [u8]) -> usize {
        if !self.in_place {
            return self
                .step(tls_conn_unwrap, "tls_conn_unwrap", record, out)
                .produced;
        }
        let mut step = tls_step::default();
        // SAFETY: a live connection, two writable buffers that do not overlap (both borrowed
        // exclusively), a writable local.
        let result = unsafe {
            tls_conn_unwrap_in_place(
                self.conn.0,
                record.as_mut_ptr(),
                record.len(),
                out.as_mut_ptr(),
                out.len(),
                &mut step,
            )
        };
        check(result, "tls_conn_unwrap_in_place");
        assert_eq!(step.consumed, record.len(), "the whole record is taken");
        step.produced
    }

    fn encrypt(&mut self, plaintext: &[u8], out: &mut [u8]) -> usize {
        self.step(tls_conn_wrap, "tls_conn_wrap", plaintext, out)
            .produced
    }
}

/// The `c-abi` arm with records decrypted in the caller's buffer by `tls_conn_unwrap_in_place`;
/// otherwise as [`CAbiRecords`].
struct CAbiInPlace(CAbi);

impl Arm for CAbiInPlace {
    type Conn = CAbiRecordServer;

    const NAME: &'static str = "c-abi-in-place";

    fn start(&self) -> CAbiRecordServer {
        CAbiRecordServer {
            conn: self.0.start(),
            in_place: true,
        }
    }
}

fn c_path(path: &Path) -> CString {
    CString::new(path.to_str().expect("a UTF-8 path")).expect("a path without NUL")
}

/// The PEM files of one server identity.
struct IdentityFiles {
    cert_chain: PathBuf,
    private_key: PathBuf,
}

/// A test CA and two leaves it signed for `localhost`, one ECDSA P-256 and one RSA-2048.
struct Identities {
    ca: CertificateDer<'static>,
    ecdsa: IdentityFiles,
    rsa: IdentityFiles,
}

impl Identities {
    fn generate(dir: &Path) -> Result<Self, rcgen::Error> {
        let ca_key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new())?;
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "tlsctx bench CA");
        let ca = ca_params.self_signed(&ca_key)?;

        let leaf = |name: &str, key: rcgen::KeyPair| -> Result<IdentityFiles, rcgen::Error> {
            let params = rcgen::CertificateParams::new(vec!["localhost".to_string()])?;
            let cert = params.signed_by(&key, &ca, &ca_key)?;
            let files = IdentityFiles {
                cert_chain: dir.join(format!("{name}.crt")),
                private_key: dir.join(format!("{name}.key")),
            };
            fs::write(&files.cert_chain, cert.pem()).expect("the certificate is written");
            fs::write(&files.private_key, key.serialize_pem()).expect("the key is written");
            Ok(files)
        };
        let ecdsa = leaf(
            "ecdsa",
            rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?,
        )?;
        let rsa = leaf(
            "rsa",
            rcgen::KeyPair::generate_rsa_for(&rcgen::PKCS_RSA_SHA256, rcgen::RsaKeySize::_2048)?,
        )?;
        Ok(Identities {
            ca: ca.der().clone(),
            ecdsa,
            rsa,
        })
    }

    /// A client that trusts the test CA, offers TLS 1.3 and 1.2 and never resumes.
    fn client_config(&self) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(self.ca.clone())
            .expect("the CA is a trust anchor");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&version::TLS13, &version::TLS12])
            .expect("the versions suit the provider")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.resumption = Resumption::disabled();
        Arc::new(config)
    }
}

/// Byte buffers reused across iterations, the same for both arms.
struct Buffers {
    to_server: Vec<u8>,
    to_client: Vec<u8>,
    plaintext: Vec<u8>,
}

impl Buffers {
    fn new() -> Self {
        Buffers {
            to_server: vec![0; BUFFER],
            to_client: vec![0; BUFFER],
            plaintext: vec![0; BUFFER],
        }
    }
}

/// Encrypted bytes the client has to send, written into `out`.
fn client_send(client: &mut ClientConnection, out: &mut [u8]) -> usize {
    let capacity = out.len();
    let mut rest = out;
    while client.wants_write() {
        client.write_tls(&mut rest).expect("the buffer has room");
    }
    capacity - rest.len()
}

/// Gives the client what the server sent.
fn client_receive(client: &mut ClientConnection, mut tls: &[u8]) {
    while !tls.is_empty() {
        client
            .read_tls(&mut tls)
            .expect("the client takes the bytes");
        client
            .process_new_packets()
            .expect("the server's bytes are valid");
    }
}

/// Runs one full handshake; returns the server, the client and the server's time alone.
fn handshake<A: Arm>(
    arm: &A,
    client_config: &Arc<ClientConfig>,
    buffers: &mut Buffers,
) -> (A::Conn, ClientConnection, Duration) {
    let name = ServerName::try_from("localhost").expect("a DNS name");
    let mut client = ClientConnection::new(client_config.clone(), name).expect("a client");

    let started = Instant::now();
    let mut server = arm.start();
    let mut server_time = started.elapsed();

    for _ in 0..8 {
        let sent = client_send(&mut client, &mut buffers.to_server);

        let started = Instant::now();
        if sent > 0 {
            server.receive(&buffers.to_server[..sent]);
        }
        let answered = server.send(&mut buffers.to_client);
        let server_done = !server.is_handshaking();
        server_time += started.elapsed();

        client_receive(&mut client, &buffers.to_client[..answered]);
        if sent == 0 && answered == 0 && server_done && !client.is_handshaking() {
            return (server, client, server_time);
        }
    }
    panic!("the handshake did not finish in 8 rounds");
}

/// Median time per operation of each benchmark, from the samples criterion took last.
/// The server's time for `iters` full handshakes, each with a new client.
fn time_handshakes<A: Arm>(
    arm: &A,
    client_config: &Arc<ClientConfig>,
    buffers: &mut Buffers,
    iters: u64,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let (server, client, server_time) = handshake(arm, client_config, buffers);
        let started = Instant::now();
        drop(server);
        total += server_time + started.elapsed();
        drop(client);
    }
    total
}

/// What a bulk case times on the server.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    /// Takes a record from the client, decrypts it and reads the plaintext.
    Decrypt,
    /// Writes plaintext and encrypts it into a record.
    Encrypt,
}

/// An established session that the bulk cases renew before its records run out.
struct Session<'a, A: Arm> {
    arm: &'a A,
    client_config: &'a Arc<ClientConfig>,
    server: A::Conn,
    client: ClientConnection,
    records: u64,
    buffers: Buffers,
}

impl<'a, A: Arm> Session<'a, A> {
    fn new(arm: &'a A, client_config: &'a Arc<ClientConfig>) -> Self {
        let mut buffers = Buffers::new();
        let (server, client, _) = handshake(arm, client_config, &mut buffers);
        Session {
            arm,
            client_config,
            server,
            client,
            records: 0,
            buffers,
        }
    }

    /// Makes room for `records` more records, with a new handshake when needed.
    fn reserve(&mut self, records: u64) {
        if self.records + records > RECORDS_PER_SESSION {
            *self = Session::new(self.arm, self.client_config);
        }
        self.records += records;
    }

    /// The server's time for `iters` records of `plaintext` in `direction`.
    fn time_records(&mut self, direction: Direction, plaintext: &[u8], iters: u64) -> Duration {
        let mut total = Duration::ZERO;
        let mut left = iters;
        while left > 0 {
            let batch = left.min(BATCH);
            left -= batch;
            self.reserve(batch);
            total += match direction {
                Direction::Decrypt => self.decrypt_batch(plaintext, batch),
                Direction::Encrypt => self.encrypt_batch(plaintext, batch),
            };
        }
        total
    }

    /// The client encrypts `batch` records; the server's time to take and read them is returned.
    fn decrypt_batch(&mut self, plaintext: &[u8], batch: u64) -> Duration {
        let buffers = &mut self.buffers;
        let mut records = Vec::with_capacity(batch as usize);
        for _ in 0..batch {
            self.client
                .writer()
                .write_all(plaintext)
                .expect("plaintext is queued");
            let sent = client_send(&mut self.client, &mut buffers.to_server);
            records.push(buffers.to_server[..sent].to_vec());
        }

        let started = Instant::now();
        for record in &mut records {
            let read = self.server.decrypt(record, &mut buffers.plaintext);
            assert_eq!(
                read,
                plaintext.len(),
                "one record carries the whole plaintext"
            );
        }
        let elapsed = started.elapsed();
        black_box(&buffers.plaintext);
        elapsed
    }

    /// The server writes and encrypts `batch` records; the client never reads them.
    fn encrypt_batch(&mut self, plaintext: &[u8], batch: u64) -> Duration {
        let started = Instant::now();
        for _ in 0..batch {
            black_box(self.server.encrypt(plaintext, &mut self.buffers.to_client));
        }
        started.elapsed()
    }
}

/// Registers one criterion benchmark whose iterations `routine` times.
fn bench(
    group: &mut BenchmarkGroup<'_, WallTime>,
    id: &str,
    mut routine: impl FnMut(u64) -> Duration,
) {
    group.bench_function(id, |bencher| bencher.iter_custom(&mut routine));
}

/// Both arms of one case measured in alternation, so that a change in the machine's load hits
/// both alike.
struct Pair {
    direct_ns: f64,
    c_abi_ns: f64,
    difference_ns: f64,
    overhead_percent: f64,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let middle = values.len() / 2;
    if values.len() % 2 == 0 {
        (values[middle - 1] + values[middle]) / 2.0
    } else {
        values[middle]
    }
}

/// Times the two arms in [`ROUNDS`] alternating rounds of the same number of operations, each
/// round about [`ROUND`] of server time, the arm that goes first swapping every round. The
/// difference and the overhead are the medians of the rounds' differences and ratios; the times
/// are each arm's median.
fn paired(mut direct: impl FnMut(u64) -> Duration, mut c_abi: impl FnMut(u64) -> Duration) -> Pair {
    let mut iters = 1;
    while direct(iters) < ROUND {
        iters *= 2;
    }
    let per_operation = |elapsed: Duration| elapsed.as_secs_f64() * 1e9 / iters as f64;
    let mut direct_ns = Vec::with_capacity(ROUNDS);
    let mut c_abi_ns = Vec::with_capacity(ROUNDS);
    let mut differences = Vec::with_capacity(ROUNDS);
    let mut ratios = Vec::with_capacity(ROUNDS);
    for round in 0..ROUNDS {
        let (first, second) = if round % 2 == 0 {
            let first = per_operation(direct(iters));
            (first, per_operation(c_abi(iters)))
        } else {
            let second = per_operation(c_abi(iters));
            (per_operation(direct(iters)), second)
        };
        direct_ns.push(first);
        c_abi_ns.push(second);
        differences.push(second - first);
        ratios.push(second / first);
    }
    Pair {
        direct_ns: median(&mut direct_ns),
        c_abi_ns: median(&mut c_abi_ns),
        difference_ns: median(&mut differences),
        overhead_percent: (median(&mut ratios) - 1.0) * 100.0,
    }
}

/// One row of the summary.
struct Case {
    description: String,
    /// The C ABI calls the case makes per operation.
    calls: &'static str,
    negotiated: String,
    pair: Pair,
}

/// What a handshake of this client with this arm negotiates, for the summary.
fn negotiated(arm: &Direct, client_config: &Arc<ClientConfig>) -> String {
    let (_, client, _) = handshake(arm, client_config, &mut Buffers::new());
    let suite = client
        .negotiated_cipher_suite()
        .map(|suite| format!("{:?}", suite.suite()))
        .unwrap_or_default();
    let group = client
        .negotiated_key_exchange_group()
        .map(|group| format!("{:?}", group.name()))
        .unwrap_or_default();
    format!("{suite}, {group}")
}

/// Nanoseconds as the table shows them.
fn duration_text(ns: f64) -> String {
    if ns >= 10_000.0 {
        format!("{:.1} µs", ns / 1000.0)
    } else {
        format!("{ns:.0} ns")
    }
}

/// The summary as a Markdown section: a paragraph on the method and a table.
fn summary(cases: &[Case]) -> String {
    let mut text = String::new();
    text.push_str("## C ABI against rustls called directly\n\n");
    let _ = write!(
        text,
        "Server-side cost of the same work through the tlsctx C ABI (`tls_conn_*`, called from \
         Rust with raw pointers and byte buffers as a C program calls it) and through a \
         `rustls::ServerConnection` called directly, in memory, with no socket \
         (`benches/ffi.rs`, `make bench-ffi`). Both serve the same PEM files with the aws-lc-rs \
         provider, the same versions, cipher suites and key exchange groups, a session cache and \
         a ticketer; the client is a plain rustls client with resumption off, so every handshake \
         is a full one. Only the server's time is counted: creating, driving and freeing the \
         connection for a handshake; taking one record and reading its plaintext (decrypt); \
         writing plaintext and taking the encrypted record (encrypt). Records go through the C \
         ABI three ways: the stream calls (`tls_conn_read_tls` then `tls_conn_read`, \
         `tls_conn_write` then `tls_conn_write_tls`), which hold the bytes in the connection in \
         between; the engine-style record calls (`tls_conn_unwrap`, `tls_conn_wrap`), which \
         decrypt and encrypt between the caller's two buffers, as the Java `SSLEngine` does; and \
         `tls_conn_unwrap_in_place`, which decrypts the record in the caller's buffer. \
         tlsctx drives rustls' unbuffered connection, which encrypts into a buffer it is given, \
         so a stream write encrypts into the connection's outgoing buffer and `write_tls` \
         copies it out: one copy of each record more than a buffered `ServerConnection`, which \
         queues the record it encrypted. After criterion's own \
         runs, each case is timed again in {ROUNDS} rounds that alternate the two arms, about \
         {} ms of server time each, so that the load of a shared machine falls on both alike: \
         the times are each arm's median round, the difference and the overhead are the medians \
         of the rounds' differences and ratios. The target is a C ABI at most {TARGET_PERCENT}% slower.\n\n",
        ROUND.as_millis()
    );
    text.push_str(
        "| case | C ABI calls (`tls_conn_`) | negotiated | rustls | C ABI | difference | overhead | within 10% |\n",
    );
    text.push_str("| --- | --- | --- | ---: | ---: | ---: | ---: | --- |\n");
    for case in cases {
        let pair = &case.pair;
        let within = if pair.overhead_percent <= TARGET_PERCENT {
            "yes"
        } else {
            "no"
        };
        let _ = writeln!(
            text,
            "| {} | {} | {} | {} | {} | {:+.0} ns | {:+.1}% | {within} |",
            case.description,
            case.calls,
            case.negotiated,
            duration_text(pair.direct_ns),
            duration_text(pair.c_abi_ns),
            pair.difference_ns,
            pair.overhead_percent,
        );
    }
    text
}

/// The protocol versions the cases cover: id, name, rustls version and C ABI mask.
const VERSIONS: [(&str, &str, &SupportedProtocolVersion, u32); 2] = [
    ("tls13", "TLS 1.3", &version::TLS13, TLS_VERSION_TLS13),
    ("tls12", "TLS 1.2", &version::TLS12, TLS_VERSION_TLS12),
];

fn main() {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let identities = Identities::generate(dir.path()).expect("test identities");
    let client_config = &identities.client_config();
    let mut cases = Vec::new();
    let mut criterion = Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(1))
        .configure_from_args();

    let mut group = criterion.benchmark_group("handshake");
    for (version_id, version_name, version, mask) in VERSIONS {
        let keys = [
            ("ecdsa", "ECDSA P-256", &identities.ecdsa),
            ("rsa", "RSA-2048", &identities.rsa),
        ];
        for (key_id, key_name, files) in keys {
            let direct = &Direct::new(files, &[version]);
            let c_abi = &CAbi::new(files, mask);
            let id = format!("{version_id}-{key_id}");
            let mut direct_buffers = Buffers::new();
            let mut c_abi_buffers = Buffers::new();
            let mut direct_run =
                |iters| time_handshakes(direct, client_config, &mut direct_buffers, iters);
            let mut c_abi_run =
                |iters| time_handshakes(c_abi, client_config, &mut c_abi_buffers, iters);
            bench(
                &mut group,
                &format!("{id}/{}", Direct::NAME),
                &mut direct_run,
            );
            bench(&mut group, &format!("{id}/{}", CAbi::NAME), &mut c_abi_run);
            cases.push(Case {
                description: format!("full handshake, {version_name}, {key_name}"),
                calls: "`read_tls`, `write_tls`",
                negotiated: negotiated(direct, client_config),
                pair: paired(direct_run, c_abi_run),
            });
        }
    }
    group.finish();

    for (direction, direction_id) in [
        (Direction::Decrypt, "decrypt"),
        (Direction::Encrypt, "encrypt"),
    ] {
        let mut group = criterion.benchmark_group(direction_id);
        let (stream_calls, record_calls) = match direction {
            Direction::Decrypt => ("`read_tls` + `read`", "`unwrap`"),
            Direction::Encrypt => ("`write` + `write_tls`", "`wrap`"),
        };
        for (version_id, version_name, version, mask) in VERSIONS {
            let direct = &Direct::new(&identities.ecdsa, &[version]);
            let c_abi = &CAbi::new(&identities.ecdsa, mask);
            let c_abi_records = &CAbiRecords(CAbi::new(&identities.ecdsa, mask));
            let c_abi_in_place = &CAbiInPlace(CAbi::new(&identities.ecdsa, mask));
            for size in [1024, 16 * 1024] {
                let id = format!("{version_id}-{}k", size / 1024);
                let plaintext = vec![0x5a; size];
                let mut direct_session = Session::new(direct, client_config);
                let mut c_abi_session = Session::new(c_abi, client_config);
                let mut records_session = Session::new(c_abi_records, client_config);
                let mut direct_run =
                    |iters| direct_session.time_records(direction, &plaintext, iters);
                let mut c_abi_run =
                    |iters| c_abi_session.time_records(direction, &plaintext, iters);
                let mut records_run =
                    |iters| records_session.time_records(direction, &plaintext, iters);
                let mut in_place_session = (direction == Direction::Decrypt)
                    .then(|| Session::new(c_abi_in_place, client_config));
                bench(
                    &mut group,
                    &format!("{id}/{}", Direct::NAME),
                    &mut direct_run,
                );
                bench(&mut group, &format!("{id}/{}", CAbi::NAME), &mut c_abi_run);
                bench(
                    &mut group,
                    &format!("{id}/{}", CAbiRecords::NAME),
                    &mut records_run,
                );
                let description = format!(
                    "{direction_id} one record of {} KiB, {version_name}",
                    size / 1024
                );
                let negotiated = negotiated(direct, client_config);
                cases.push(Case {
                    description: description.clone(),
                    calls: stream_calls,
                    negotiated: negotiated.clone(),
                    pair: paired(&mut direct_run, &mut c_abi_run),
                });
                cases.push(Case {
                    description: description.clone(),
                    calls: record_calls,
                    negotiated: negotiated.clone(),
                    pair: paired(&mut direct_run, &mut records_run),
                });
                if let Some(session) = &mut in_place_session {
                    let mut in_place_run =
                        |iters| session.time_records(direction, &plaintext, iters);
                    bench(
                        &mut group,
                        &format!("{id}/{}", CAbiInPlace::NAME),
                        &mut in_place_run,
                    );
                    cases.push(Case {
                        description,
                        calls: "`unwrap_in_place`",
                        negotiated,
                        pair: paired(&mut direct_run, &mut in_place_run),
                    });
                }
            }
        }
        group.finish();
    }
    criterion.final_summary();

    let text = summary(&cases);
    println!("\n{text}");
    let out = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target")
        .join("bench");
    fs::create_dir_all(&out).expect("target/bench is created");
    fs::write(out.join("ffi.md"), text).expect("target/bench/ffi.md is written");
    println!("written to {}", out.join("ffi.md").display());
}
