//! In-memory handshakes through the Rust API: TLS 1.2 and 1.3, RSA and ECDSA, ALPN, client
//! authentication, and the engine-style record steps the Java engine relies on.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{case, generate, pump, send};
use tlsctx::{flags, ClientAuth, Connection, Context, Error, TlsConfig, Versions};

const TLS12: Versions = Versions {
    tls12: true,
    tls13: false,
};
const TLS13: Versions = Versions {
    tls12: false,
    tls13: true,
};

fn pair(server: &Arc<Context>, client: &Arc<Context>) -> (Connection, Connection) {
    let server = Connection::server(server.clone()).unwrap();
    let client = Connection::client(client.clone(), "localhost", None).unwrap();
    (client, server)
}

fn handshake_and_talk(server_config: TlsConfig, client_config: TlsConfig, leaf_der: &[u8]) -> u16 {
    let server_context = Context::load(&server_config.alpn(["h2", "http/1.1"])).unwrap();
    let client_context = Context::load(&client_config.alpn(["h2"])).unwrap();
    let (mut client, mut server) = pair(&server_context, &client_context);

    pump(&mut client, &mut server).unwrap();
    assert!(!client.is_handshaking());
    assert!(!server.is_handshaking());
    assert_eq!(client.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(server.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(server.server_name(), Some("localhost"));
    assert_eq!(client.peer_certificates().unwrap()[0].as_ref(), leaf_der);

    assert_eq!(
        send(&mut client, &mut server, b"ping from the client"),
        b"ping from the client"
    );
    assert_eq!(
        send(&mut server, &mut client, b"pong from the server"),
        b"pong from the server"
    );

    client.send_close_notify();
    pump(&mut client, &mut server).unwrap();
    assert!(server.peer_closed());
    assert!(!client.peer_closed());

    let version = client.protocol_version().unwrap();
    assert_eq!(server.protocol_version(), Some(version));
    u16::from(version)
}

fn rsa_server() -> TlsConfig {
    TlsConfig::server()
        .cert_chain(case("B05", "server.crt"))
        .private_key(case("B05", "server-pkcs1.key"))
}

fn rsa_client() -> TlsConfig {
    TlsConfig::client().trust_bundle(case("B05", "ca.crt"))
}

fn der_of(pem_path: &std::path::Path) -> Vec<u8> {
    let pem = pem::parse(std::fs::read(pem_path).unwrap()).unwrap();
    pem.contents().to_vec()
}

#[test]
fn tls13_with_rsa_pkcs1_key() {
    let leaf = der_of(&case("B05", "server.crt"));
    let version = handshake_and_talk(rsa_server().versions(TLS13), rsa_client(), &leaf);
    assert_eq!(version, 0x0304);
}

#[test]
fn tls12_with_rsa_pkcs1_key() {
    let leaf = der_of(&case("B05", "server.crt"));
    let version = handshake_and_talk(rsa_server(), rsa_client().versions(TLS12), &leaf);
    assert_eq!(version, 0x0303);
}

#[test]
fn pkcs8_key_behaves_like_pkcs1_key() {
    let leaf = der_of(&case("B05", "server.crt"));
    let server = TlsConfig::server()
        .cert_chain(case("B05", "server.crt"))
        .private_key(case("B05", "server-pkcs8.key"));
    assert_eq!(handshake_and_talk(server, rsa_client(), &leaf), 0x0304);
}

#[test]
fn tls13_and_tls12_with_ecdsa_p256() {
    let dir = tempfile::tempdir().unwrap();
    let identity = generate(dir.path(), "ecdsa", &rcgen::PKCS_ECDSA_P256_SHA256);
    for (versions, expected) in [(TLS13, 0x0304), (TLS12, 0x0303)] {
        let server = TlsConfig::server()
            .cert_chain(&identity.cert)
            .private_key(&identity.key);
        let client = TlsConfig::client()
            .trust_bundle(&identity.ca)
            .versions(versions);
        assert_eq!(
            handshake_and_talk(server, client, &identity.leaf_der),
            expected
        );
    }
}

#[test]
fn context_metadata_describes_the_leaf() {
    let context = Context::load(&rsa_server()).unwrap();
    let leaf = context.leaf().unwrap();
    assert_eq!(context.generation(), 1);
    assert_eq!(leaf.serial, "d4ea23449b23fea2");
    assert_eq!(leaf.subject, "O=Acceptance Test, CN=b05-server");
    assert_eq!(leaf.not_before, 1704067200, "2024-01-01T00:00:00Z");
    assert_eq!(leaf.not_after, 2493071999, "2048-12-31T23:59:59Z");
    assert_eq!(leaf.fingerprint.len(), 64);
}

#[test]
fn client_certificate_required_and_presented() {
    let server = Context::load(
        &rsa_server()
            .trust_bundle(case("B05", "ca.crt"))
            .client_auth(ClientAuth::Require),
    )
    .unwrap();
    let client = Context::load(
        &rsa_client()
            .cert_chain(case("B05", "client.crt"))
            .private_key(case("B05", "client-pkcs1.key")),
    )
    .unwrap();
    let (mut client, mut server) = pair(&server, &client);
    pump(&mut client, &mut server).unwrap();
    assert!(!server.is_handshaking());
    let presented = server.peer_certificates().unwrap();
    assert_eq!(presented[0].as_ref(), der_of(&case("B05", "client.crt")));
}

#[test]
fn client_certificate_required_and_missing_fails_the_handshake() {
    let server = Context::load(
        &rsa_server()
            .trust_bundle(case("B05", "ca.crt"))
            .client_auth(ClientAuth::Require),
    )
    .unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    let failure = pump(&mut client, &mut server).unwrap_err();
    assert!(
        matches!(failure, Error::Tls(rustls::Error::NoCertificatesPresented)),
        "{failure:?}"
    );
}

#[test]
fn client_certificate_optional_accepts_a_client_without_one() {
    let server = Context::load(
        &rsa_server()
            .trust_bundle(case("B05", "ca.crt"))
            .client_auth(ClientAuth::Optional),
    )
    .unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    pump(&mut client, &mut server).unwrap();
    assert!(!server.is_handshaking());
    assert!(server.peer_certificates().is_none());
}

#[test]
fn client_rejects_a_server_outside_its_trust_bundle() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&TlsConfig::client().trust_bundle(case("B01", "ca.crt"))).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    let failure = pump(&mut client, &mut server).unwrap_err();
    assert!(
        matches!(
            failure,
            Error::Tls(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer
            ))
        ),
        "{failure:?}"
    );
}

/// Runs engine-style steps (one record per unwrap) between a client and a server until both are
/// done, returning every step's flags in order.
fn engine_handshake(client: &mut Connection, server: &mut Connection) -> Vec<(char, u32)> {
    let mut to_server = Vec::new();
    let mut to_client = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..64 {
        let idle = |conn: &Connection| !conn.is_handshaking() && !conn.wants_write();
        if idle(client) && idle(server) && to_server.is_empty() && to_client.is_empty() {
            return seen;
        }
        engine_turn('c', client, &mut to_server, &mut to_client, &mut seen);
        engine_turn('s', server, &mut to_client, &mut to_server, &mut seen);
    }
    panic!("engine handshake did not finish");
}

/// One side's turn: wrap what it has to send, then unwrap every whole record waiting for it.
fn engine_turn(
    side: char,
    conn: &mut Connection,
    outbox: &mut Vec<u8>,
    inbox: &mut Vec<u8>,
    seen: &mut Vec<(char, u32)>,
) {
    let mut scratch = vec![0u8; 32 * 1024];
    let step = conn.wrap_record(&[], &mut scratch).unwrap();
    outbox.extend_from_slice(&scratch[..step.produced]);
    if step.produced > 0 {
        seen.push((side, step.flags));
    }
    loop {
        let step = conn.unwrap_record(inbox, &mut scratch).unwrap();
        inbox.drain(..step.consumed);
        if step.consumed > 0 {
            seen.push((side, step.flags));
        }
        if step.consumed == 0 {
            break;
        }
    }
}

#[test]
fn engine_steps_report_finished_once_per_side() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    let steps = engine_handshake(&mut client, &mut server);
    let finished: Vec<char> = steps
        .iter()
        .filter(|(_, bits)| bits & flags::HANDSHAKE_FINISHED != 0)
        .map(|(side, _)| *side)
        .collect();
    assert_eq!(finished.len(), 2, "{steps:?}");
    assert!(
        finished.contains(&'c') && finished.contains(&'s'),
        "{steps:?}"
    );
}

#[test]
fn engine_unwrap_needs_a_whole_record_and_room_for_it() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    engine_handshake(&mut client, &mut server);

    let message = vec![0x5a; 1000];
    let mut record = vec![0u8; 2048];
    let step = client.wrap_record(&message, &mut record).unwrap();
    assert_eq!(step.consumed, 1000);
    assert_eq!(
        step.produced,
        1000 + 22,
        "TLS 1.3 adds header, content type and tag"
    );
    let record = &record[..step.produced];

    let mut plaintext = vec![0u8; 4096];
    let short = server.unwrap_record(&record[..4], &mut plaintext).unwrap();
    assert_eq!((short.consumed, short.produced), (0, 0));
    assert_ne!(short.flags & flags::UNDERFLOW, 0);
    let partial = server
        .unwrap_record(&record[..record.len() - 1], &mut plaintext)
        .unwrap();
    assert_eq!((partial.consumed, partial.produced), (0, 0));
    assert_ne!(partial.flags & flags::UNDERFLOW, 0);
    let cramped = server.unwrap_record(record, &mut plaintext[..500]).unwrap();
    assert_eq!((cramped.consumed, cramped.produced), (0, 0));
    assert_ne!(cramped.flags & flags::OVERFLOW, 0);

    let whole = server.unwrap_record(record, &mut plaintext).unwrap();
    assert_eq!((whole.consumed, whole.produced), (record.len(), 1000));
    assert_eq!(&plaintext[..1000], &message[..]);
    assert_eq!(
        whole.flags & (flags::UNDERFLOW | flags::OVERFLOW | flags::HANDSHAKING),
        0
    );
}

#[test]
fn engine_wrap_takes_one_record_and_needs_room_for_it() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    engine_handshake(&mut client, &mut server);

    let message = vec![7u8; 40_000];
    let mut out = vec![0u8; 20_000];
    let cramped = client.wrap_record(&message, &mut out[..16_000]).unwrap();
    assert_eq!((cramped.consumed, cramped.produced), (0, 0));
    assert_ne!(cramped.flags & flags::OVERFLOW, 0);
    let step = client.wrap_record(&message, &mut out).unwrap();
    assert_eq!(step.consumed, 16_384);
    assert_eq!(step.produced, 16_384 + 22);
}

#[test]
fn server_selecting_alpn_pauses_after_the_client_hello() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&rsa_client().alpn(["spdy/3", "h2"])).unwrap();
    let mut server = Connection::server_selecting_alpn(server).unwrap();
    let mut client = Connection::client(client, "localhost", None).unwrap();

    let mut hello = vec![0u8; 16 * 1024];
    let n = client.write_tls(&mut hello);
    let mut plaintext = vec![0u8; 16 * 1024];
    let step = server.unwrap_record(&hello[..n], &mut plaintext).unwrap();
    assert_eq!(step.consumed, n);
    assert_ne!(step.flags & flags::CLIENT_HELLO, 0);
    assert_eq!(
        server.offered_alpn().unwrap(),
        vec![b"spdy/3".to_vec(), b"h2".to_vec()]
    );

    server.accept(Some(b"h2")).unwrap();
    assert_eq!(server.flags() & flags::CLIENT_HELLO, 0);
    pump(&mut client, &mut server).unwrap();
    assert_eq!(server.alpn_protocol(), Some(&b"h2"[..]));
    assert_eq!(client.alpn_protocol(), Some(&b"h2"[..]));
}

#[test]
fn a_client_connection_needs_a_client_context() {
    let server = Context::load(&rsa_server()).unwrap();
    let failure = Connection::client(server, "localhost", None).err().unwrap();
    assert!(matches!(failure, Error::InvalidState(_)), "{failure:?}");
}

#[test]
fn a_large_offer_is_taken_in_parts_while_plaintext_is_drained() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    pump(&mut client, &mut server).unwrap();

    let message: Vec<u8> = (0..64 * 1024).map(|i| (i % 251) as u8).collect();
    let mut written = 0;
    while written < message.len() {
        written += client.write(&message[written..]).unwrap();
    }
    let mut wire = vec![0u8; 128 * 1024];
    let mut wire_len = 0;
    while client.wants_write() {
        wire_len += client.write_tls(&mut wire[wire_len..]);
    }

    let mut offset = 0;
    let mut received = Vec::new();
    let mut buffer = vec![0u8; 8 * 1024];
    while offset < wire_len || received.len() < message.len() {
        offset += server.read_tls(&wire[offset..wire_len]).unwrap();
        loop {
            let n = server.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            received.extend_from_slice(&buffer[..n]);
        }
    }
    assert_eq!(received, message);
}

#[test]
fn a_record_header_longer_than_tls_allows_fails_at_once() {
    let server = Context::load(&rsa_server()).unwrap();
    let mut server = Connection::server(server).unwrap();
    let mut plaintext = vec![0u8; 1024];
    let failure = server
        .unwrap_record(&[0x16, 0x03, 0x01, 0xff, 0xff], &mut plaintext)
        .unwrap_err();
    assert!(matches!(failure, Error::Tls(_)), "{failure:?}");
}

#[test]
fn an_empty_alpn_name_is_refused() {
    let failure = Context::load(&rsa_server().alpn([""])).unwrap_err();
    assert_eq!(
        failure.to_string(),
        "invalid configuration: ALPN protocol \"\" must be 1 to 255 bytes"
    );
    let server = Context::load(&rsa_server()).unwrap();
    let failure = Connection::server_with(server, Some(&[Vec::new()]))
        .err()
        .unwrap();
    assert!(matches!(failure, Error::InvalidConfig(_)), "{failure:?}");
}

#[test]
fn a_server_may_write_before_the_client_hello_and_the_client_reads_it_after_the_handshake() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);

    assert_eq!(server.write(b"banner\n").unwrap(), 7);
    assert!(!server.wants_write(), "held until the handshake allows it");
    pump(&mut client, &mut server).unwrap();

    let mut received = [0u8; 64];
    let n = client.read(&mut received).unwrap();
    assert_eq!(&received[..n], b"banner\n");
}

#[test]
fn a_close_notify_requested_during_the_handshake_follows_the_plaintext_held_for_it() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);

    assert_eq!(client.write(b"last words").unwrap(), 10);
    client.send_close_notify();
    assert!(matches!(
        client.write(b"more").unwrap_err(),
        Error::InvalidState(_)
    ));
    pump(&mut client, &mut server).unwrap();

    let mut received = [0u8; 64];
    let n = server.read(&mut received).unwrap();
    assert_eq!(&received[..n], b"last words");
    assert!(server.peer_closed());
    assert_ne!(server.flags() & flags::PEER_CLOSED, 0);
}

#[test]
fn engine_records_of_16_kib_cross_in_both_directions_until_close_notify() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    engine_handshake(&mut client, &mut server);

    let mut record = vec![0u8; 17 * 1024];
    let mut plaintext = vec![0u8; 16 * 1024];
    for round in 0..4u8 {
        let message = vec![round; 16 * 1024];
        let (from, to) = if round % 2 == 0 {
            (&mut client, &mut server)
        } else {
            (&mut server, &mut client)
        };
        let wrapped = from.wrap_record(&message, &mut record).unwrap();
        assert_eq!(
            (wrapped.consumed, wrapped.produced),
            (16 * 1024, 16 * 1024 + 22)
        );
        let unwrapped = to
            .unwrap_record(&record[..wrapped.produced], &mut plaintext)
            .unwrap();
        assert_eq!(
            (unwrapped.consumed, unwrapped.produced),
            (wrapped.produced, 16 * 1024)
        );
        assert_eq!(plaintext, message);
    }

    client.send_close_notify();
    let close = client.wrap_record(&[], &mut record).unwrap();
    assert_eq!(close.produced, 5 + 2 + 1 + 16, "an encrypted alert record");
    assert_ne!(close.flags & flags::OUTBOUND_CLOSED, 0);
    let closed = server
        .unwrap_record(&record[..close.produced], &mut plaintext)
        .unwrap();
    assert_eq!((closed.consumed, closed.produced), (close.produced, 0));
    assert_ne!(closed.flags & flags::PEER_CLOSED, 0);
}

#[test]
fn a_tampered_record_after_the_handshake_fails_either_side_with_an_alert() {
    let server = Context::load(&rsa_server().versions(TLS13)).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    for tamper_on_server in [true, false] {
        let (mut client, mut server) = pair(&server, &client);
        engine_handshake(&mut client, &mut server);
        let (from, to) = if tamper_on_server {
            (&mut client, &mut server)
        } else {
            (&mut server, &mut client)
        };

        let mut record = vec![0u8; 2048];
        let wrapped = from.wrap_record(b"sealed", &mut record).unwrap();
        record[wrapped.produced - 1] ^= 0x01;
        let mut plaintext = vec![0u8; 2048];
        let failure = to
            .unwrap_record(&record[..wrapped.produced], &mut plaintext)
            .unwrap_err();
        assert!(matches!(failure, Error::Tls(_)), "{failure:?}");

        // The alert goes out once, encrypted as application data; the connection stays failed.
        assert!(to.wants_write());
        let alert = to.write_tls(&mut record);
        assert_eq!((alert, record[0]), (5 + 2 + 1 + 16, 0x17));
        assert!(!to.wants_write());
        assert!(to.unwrap_record(&record[..alert], &mut plaintext).is_err());
        assert!(to.wrap_record(b"more", &mut record).is_err());
    }
}

#[test]
fn a_record_header_longer_than_tls_allows_fails_after_the_handshake_too() {
    let server = Context::load(&rsa_server()).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    engine_handshake(&mut client, &mut server);

    let mut plaintext = vec![0u8; 1024];
    let failure = client
        .unwrap_record(&[0x17, 0x03, 0x03, 0xff, 0xff], &mut plaintext)
        .unwrap_err();
    assert!(matches!(failure, Error::Tls(_)), "{failure:?}");
    assert!(client.wants_write());
}

#[test]
fn writes_stop_at_64_kib_while_nothing_is_taken_for_sending() {
    let server = Context::load(&rsa_server().versions(TLS13)).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    pump(&mut client, &mut server).unwrap();

    let chunk = vec![7u8; 16 * 1024];
    let mut taken = Vec::new();
    for _ in 0..6 {
        taken.push(client.write(&chunk).unwrap());
    }
    // Each record adds 22 bytes (header, content type, tag); 64 KiB of TLS bytes is the limit.
    assert_eq!(taken, [16_384, 16_384, 16_384, 16_318, 0, 0]);

    // Once the TLS bytes are taken, writes are accepted again.
    let mut sent = vec![0u8; 128 * 1024];
    assert_eq!(client.write_tls(&mut sent), 3 * (16_384 + 22) + 16_318 + 22);
    assert_eq!(client.write(&chunk).unwrap(), 16_384);
}

/// Splits the plaintext handshake records in `tls` (type 22, before this direction's
/// ChangeCipherSpec, which `encrypted` remembers) into records of at most `size` payload bytes;
/// returns the bytes and how many records were split.
fn refragment(tls: &[u8], size: usize, encrypted: &mut bool) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut split = 0;
    let mut rest = tls;
    while !rest.is_empty() {
        let length = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        let (record, after) = rest.split_at(5 + length);
        if record[0] == 20 {
            *encrypted = true;
        }
        if record[0] == 22 && !*encrypted && length > size {
            split += 1;
            for piece in record[5..].chunks(size) {
                out.extend_from_slice(&record[..3]);
                out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
                out.extend_from_slice(piece);
            }
        } else {
            out.extend_from_slice(record);
        }
        rest = after;
    }
    (out, split)
}

/// Unwraps every whole record in `inbox`, decrypting each where it lies; returns the plaintext.
fn unwrap_all_in_place(conn: &mut Connection, inbox: &mut Vec<u8>) -> Vec<u8> {
    let mut plaintext = vec![0u8; 16 * 1024];
    let mut received = Vec::new();
    loop {
        let step = conn.unwrap_record_in_place(inbox, &mut plaintext).unwrap();
        received.extend_from_slice(&plaintext[..step.produced]);
        inbox.drain(..step.consumed);
        if step.consumed == 0 && step.produced == 0 {
            return received;
        }
    }
}

#[test]
fn unwrap_in_place_takes_handshake_messages_split_across_records_then_data() {
    for versions in [TLS12, TLS13] {
        let server = Context::load(&rsa_server().versions(versions)).unwrap();
        let client = Context::load(&rsa_client()).unwrap();
        let (mut client, mut server) = pair(&server, &client);
        let (mut to_server, mut to_client) = (Vec::new(), Vec::new());
        let mut scratch = vec![0u8; 32 * 1024];
        let (mut encrypted, mut split) = (false, 0);
        for _ in 0..16 {
            let step = client.wrap_record(&[], &mut scratch).unwrap();
            to_server.extend_from_slice(&scratch[..step.produced]);
            unwrap_all_in_place(&mut server, &mut to_server);
            let step = server.wrap_record(&[], &mut scratch).unwrap();
            let (records, made) = refragment(&scratch[..step.produced], 300, &mut encrypted);
            split += made;
            to_client.extend_from_slice(&records);
            unwrap_all_in_place(&mut client, &mut to_client);
        }
        assert!(!client.is_handshaking() && !server.is_handshaking());
        assert!(to_server.is_empty() && to_client.is_empty());
        // TLS 1.2 sends the server's certificate and key exchange in the clear, so they can be
        // cut up here; TLS 1.3 encrypts them, and its plaintext ServerHello is short.
        assert_eq!(split, usize::from(versions.tls12), "records split");

        for size in [1, 1024, 16 * 1024] {
            let message: Vec<u8> = (0..size).map(|i| (i % 251) as u8).collect();
            let step = client.wrap_record(&message, &mut scratch).unwrap();
            assert_eq!(step.consumed, size);
            let mut record = scratch[..step.produced].to_vec();
            assert_eq!(unwrap_all_in_place(&mut server, &mut record), message);
            let step = server.wrap_record(&message, &mut scratch).unwrap();
            let mut record = scratch[..step.produced].to_vec();
            assert_eq!(unwrap_all_in_place(&mut client, &mut record), message);
        }
    }
}

#[test]
fn unwrap_in_place_reports_tampering_and_closes_like_the_copying_unwrap() {
    let server = Context::load(&rsa_server().versions(TLS13)).unwrap();
    let client = Context::load(&rsa_client()).unwrap();
    let (mut client, mut server) = pair(&server, &client);
    engine_handshake(&mut client, &mut server);

    let mut record = vec![0u8; 2048];
    let wrapped = client.wrap_record(b"sealed", &mut record).unwrap();
    let mut tampered = record[..wrapped.produced].to_vec();
    tampered[wrapped.produced - 1] ^= 0x01;
    let mut plaintext = vec![0u8; 2048];
    let failure = server
        .unwrap_record_in_place(&mut tampered, &mut plaintext)
        .unwrap_err();
    assert!(matches!(failure, Error::Tls(_)), "{failure:?}");
    assert!(server.wants_write(), "the alert waits to be sent");

    let (mut client, mut server) = pair(
        &Context::load(&rsa_server()).unwrap(),
        &Context::load(&rsa_client()).unwrap(),
    );
    engine_handshake(&mut client, &mut server);
    client.send_close_notify();
    let close = client.wrap_record(&[], &mut record).unwrap();
    let closed = server
        .unwrap_record_in_place(&mut record[..close.produced], &mut plaintext)
        .unwrap();
    assert_eq!((closed.consumed, closed.produced), (close.produced, 0));
    assert_ne!(closed.flags & flags::PEER_CLOSED, 0);
}

/// A rustls server of its own, not a tlsctx one, sending records of at most `fragment` bytes of
/// plaintext and `tickets` TLS 1.3 session tickets.
fn fragmenting_rustls_server(
    versions: Versions,
    fragment: usize,
    tickets: usize,
) -> rustls::ServerConnection {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let chain = CertificateDer::pem_file_iter(case("B05", "server.crt"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_file(case("B05", "server-pkcs1.key")).unwrap();
    let version: &'static rustls::SupportedProtocolVersion = if versions.tls13 {
        &rustls::version::TLS13
    } else {
        &rustls::version::TLS12
    };
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[version])
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    config.max_fragment_size = Some(fragment);
    config.send_tls13_tickets = tickets;
    rustls::ServerConnection::new(Arc::new(config)).unwrap()
}

/// Hands everything `server` has to send to `client`, unwrapping in place; returns the plaintext.
fn server_to_client_in_place(
    server: &mut rustls::ServerConnection,
    client: &mut Connection,
) -> Vec<u8> {
    let mut tls = Vec::new();
    while server.wants_write() {
        server.write_tls(&mut tls).unwrap();
    }
    let received = unwrap_all_in_place(client, &mut tls);
    assert!(tls.is_empty(), "{} bytes left unread", tls.len());
    received
}

/// Hands everything `client` has to send to `server`; returns the plaintext the server read.
fn client_to_server(
    client: &mut Connection,
    server: &mut rustls::ServerConnection,
    data: &[u8],
) -> Vec<u8> {
    use std::io::Read;

    let mut scratch = vec![0u8; 32 * 1024];
    let mut data = data;
    loop {
        let step = client.wrap_record(data, &mut scratch).unwrap();
        data = &data[step.consumed..];
        let mut tls = &scratch[..step.produced];
        while !tls.is_empty() {
            server.read_tls(&mut tls).unwrap();
            server.process_new_packets().unwrap();
        }
        if step.produced == 0 && data.is_empty() {
            break;
        }
    }
    let mut received = Vec::new();
    match server.reader().read_to_end(&mut received) {
        Ok(_) => {}
        Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => {}
        Err(err) => panic!("{err}"),
    }
    received
}

#[test]
fn unwrap_in_place_follows_a_peer_that_splits_every_message_into_small_records() {
    use std::io::Write;

    for versions in [TLS13, TLS12] {
        let client_context = Context::load(&rsa_client()).unwrap();
        let mut client = Connection::client(client_context, "localhost", None).unwrap();
        let mut server = fragmenting_rustls_server(versions, 32, 3);
        for _ in 0..16 {
            if !client.is_handshaking() && !server.is_handshaking() {
                break;
            }
            client_to_server(&mut client, &mut server, &[]);
            assert!(server_to_client_in_place(&mut server, &mut client).is_empty());
        }
        assert!(!client.is_handshaking() && !server.is_handshaking());

        // Application data in records of 32 bytes, then (TLS 1.3) a key update that asks the
        // client to update its own keys too, then more data under the new keys.
        let first: Vec<u8> = (0..1000).map(|i| (i % 199) as u8).collect();
        server.writer().write_all(&first).unwrap();
        assert_eq!(server_to_client_in_place(&mut server, &mut client), first);
        if versions.tls13 {
            server.refresh_traffic_keys().unwrap();
        }
        server.writer().write_all(b"after the key update").unwrap();
        assert_eq!(
            server_to_client_in_place(&mut server, &mut client),
            b"after the key update"
        );
        assert_eq!(
            client_to_server(&mut client, &mut server, b"the client's reply"),
            b"the client's reply"
        );

        server.send_close_notify();
        let mut tls = Vec::new();
        server.write_tls(&mut tls).unwrap();
        let mut plaintext = vec![0u8; 1024];
        let closed = client
            .unwrap_record_in_place(&mut tls, &mut plaintext)
            .unwrap();
        assert_ne!(closed.flags & flags::PEER_CLOSED, 0);
    }
}
