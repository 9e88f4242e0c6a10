//! A TLS connection bound to one context generation, moving bytes without owning a socket.

use std::io::{self, Read, Write};
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::{Accepted, Acceptor};
use rustls::{ClientConnection, ServerConnection};

type RustlsConnection = rustls::Connection;

use crate::config::Role;
use crate::context::{Context, RustlsConfig};
use crate::error::Error;

/// The largest plaintext one TLS record carries.
pub const MAX_RECORD_PLAINTEXT: usize = 16 * 1024;

/// The most a record adds to its plaintext: header, explicit nonce (TLS 1.2) and tag, or header,
/// content type and tag (TLS 1.3).
const MAX_RECORD_OVERHEAD: usize = 5 + 8 + 16;

const RECORD_HEADER: usize = 5;

/// The longest record TLS allows: header, 2^14 bytes of plaintext and 2048 of expansion.
const MAX_RECORD_LEN: usize = RECORD_HEADER + MAX_RECORD_PLAINTEXT + 2048;

/// A server or client TLS connection that holds its own reference to its generation, so the
/// generation lives exactly as long as the connection (rustls drops its configuration reference
/// once the handshake ends).
pub struct Connection {
    state: State,
    context: Arc<Context>,
    outbound_closed: bool,
    peer_closed: bool,
}

// The large variant is the common one, and a connection lives in its own allocation anyway.
#[allow(clippy::large_enum_variant)]
enum State {
    Tls(RustlsConnection),
    /// A server reading the ClientHello before its ALPN protocol is chosen.
    Accepting {
        acceptor: Acceptor,
        accepted: Option<Accepted>,
    },
    /// A server that failed before it had a connection; holds the alert still to be sent.
    Failed {
        alert: Vec<u8>,
    },
}

/// What one engine-style step did: bytes consumed from the source, bytes produced into the
/// destination, and the connection's flags afterwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    /// Bytes taken from the source buffer.
    pub consumed: usize,
    /// Bytes written to the destination buffer.
    pub produced: usize,
    /// [`flags`] bits describing the connection after the step.
    pub flags: u32,
}

/// Bits of [`Step::flags`] and [`Connection::flags`].
pub mod flags {
    /// The handshake is still in progress.
    pub const HANDSHAKING: u32 = 1;
    /// TLS bytes are waiting to be written.
    pub const WANTS_WRITE: u32 = 1 << 1;
    /// The source does not hold a whole TLS record; nothing was consumed.
    pub const UNDERFLOW: u32 = 1 << 2;
    /// The destination is too small; nothing was consumed or produced.
    pub const OVERFLOW: u32 = 1 << 3;
    /// The peer's close_notify has been received.
    pub const PEER_CLOSED: u32 = 1 << 4;
    /// Our close_notify has been queued.
    pub const OUTBOUND_CLOSED: u32 = 1 << 5;
    /// This step completed the handshake.
    pub const HANDSHAKE_FINISHED: u32 = 1 << 6;
    /// A server in ALPN-selection mode has read the ClientHello and waits for
    /// [`Connection::accept`](super::Connection::accept).
    pub const CLIENT_HELLO: u32 = 1 << 7;
}

impl Connection {
    /// Starts a server connection on `context`, which must be a server context.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] for a client context.
    pub fn server(context: Arc<Context>) -> Result<Self, Error> {
        Self::server_with(context, None)
    }

    /// Starts a server connection using `alpn` instead of the context's ALPN list.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] for a client context.
    pub fn server_with(context: Arc<Context>, alpn: Option<&[Vec<u8>]>) -> Result<Self, Error> {
        let config = match alpn {
            Some(alpn) => {
                crate::config::check_alpn(alpn)?;
                context.with_alpn(alpn)
            }
            None => context.rustls().clone(),
        };
        let RustlsConfig::Server(config) = config else {
            return Err(Error::InvalidState(
                "a server connection needs a server context",
            ));
        };
        let connection = ServerConnection::new(config)?;
        Ok(Self::wrap(State::Tls(connection.into()), context))
    }

    /// Starts a server connection that stops after the ClientHello, so the caller can choose the
    /// ALPN protocol from [`offered_alpn`](Self::offered_alpn) and continue with
    /// [`accept`](Self::accept).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] for a client context.
    pub fn server_selecting_alpn(context: Arc<Context>) -> Result<Self, Error> {
        if context.role() != Role::Server {
            return Err(Error::InvalidState(
                "a server connection needs a server context",
            ));
        }
        let state = State::Accepting {
            acceptor: Acceptor::default(),
            accepted: None,
        };
        Ok(Self::wrap(state, context))
    }

    /// Starts a client connection to `server_name` (a DNS name or an IP literal), which is sent
    /// as SNI and verified against the server's certificate.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] for a server context; [`Error::InvalidConfig`] for a name that is
    /// neither a DNS name nor an IP address.
    pub fn client(
        context: Arc<Context>,
        server_name: &str,
        alpn: Option<&[Vec<u8>]>,
    ) -> Result<Self, Error> {
        let config = match alpn {
            Some(alpn) => {
                crate::config::check_alpn(alpn)?;
                context.with_alpn(alpn)
            }
            None => context.rustls().clone(),
        };
        let RustlsConfig::Client(config) = config else {
            return Err(Error::InvalidState(
                "a client connection needs a client context",
            ));
        };
        let name = ServerName::try_from(server_name.to_string()).map_err(|_| {
            Error::InvalidConfig(format!(
                "\"{server_name}\" is not a DNS name or an IP address"
            ))
        })?;
        let connection = ClientConnection::new(config, name)?;
        Ok(Self::wrap(State::Tls(connection.into()), context))
    }

    fn wrap(state: State, context: Arc<Context>) -> Self {
        Connection {
            state,
            context,
            outbound_closed: false,
            peer_closed: false,
        }
    }

    /// The generation this connection is bound to.
    pub fn context(&self) -> &Arc<Context> {
        &self.context
    }

    fn common(&self) -> Option<&rustls::CommonState> {
        match &self.state {
            State::Tls(conn) => Some(conn),
            State::Accepting { .. } | State::Failed { .. } => None,
        }
    }

    fn tls(&mut self) -> Option<&mut RustlsConnection> {
        match &mut self.state {
            State::Tls(conn) => Some(conn),
            State::Accepting { .. } | State::Failed { .. } => None,
        }
    }

    /// Whether the handshake is still in progress.
    pub fn is_handshaking(&self) -> bool {
        self.common().is_none_or(|common| common.is_handshaking())
    }

    /// Whether TLS bytes are waiting for [`write_tls`](Self::write_tls).
    pub fn wants_write(&self) -> bool {
        match &self.state {
            State::Failed { alert } => !alert.is_empty(),
            _ => self.common().is_some_and(|common| common.wants_write()),
        }
    }

    /// The current [`flags`] bits.
    pub fn flags(&self) -> u32 {
        let mut bits = 0;
        if self.is_handshaking() {
            bits |= flags::HANDSHAKING;
        }
        if self.wants_write() {
            bits |= flags::WANTS_WRITE;
        }
        if self.outbound_closed {
            bits |= flags::OUTBOUND_CLOSED;
        }
        if self.peer_closed {
            bits |= flags::PEER_CLOSED;
        }
        if let State::Accepting {
            accepted: Some(_), ..
        } = self.state
        {
            bits |= flags::CLIENT_HELLO;
        }
        bits
    }

    /// Feeds TLS bytes received from the peer and processes them.
    ///
    /// Returns how many bytes were taken; the rest must be offered again later. Plaintext that
    /// arrives is then available from [`read`](Self::read).
    ///
    /// # Errors
    ///
    /// A TLS protocol error or alert. An alert to send may then be pending
    /// ([`wants_write`](Self::wants_write)).
    pub fn read_tls(&mut self, mut tls: &[u8]) -> Result<usize, Error> {
        let offered = tls.len();
        match &mut self.state {
            State::Accepting { acceptor, accepted } => {
                if accepted.is_some() {
                    return Err(Error::InvalidState(
                        "accept() must be called after the ClientHello",
                    ));
                }
                // As below: an error reading from a slice means a full buffer.
                while !tls.is_empty() {
                    match acceptor.read_tls(&mut tls) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                match acceptor.accept() {
                    Ok(Some(ready)) => *accepted = Some(ready),
                    Ok(None) => {}
                    Err((err, mut alert)) => {
                        let mut bytes = Vec::new();
                        // Writing into a Vec cannot fail.
                        let _ = alert.write_all(&mut bytes);
                        self.state = State::Failed { alert: bytes };
                        return Err(err.into());
                    }
                }
            }
            State::Failed { .. } => return Err(Error::InvalidState("the connection has failed")),
            State::Tls(conn) => {
                // Reading from a slice fails only when rustls' buffers are full (records not
                // processed yet, or plaintext not read): take no more and let the caller offer
                // the rest later. Processing after each read keeps the record buffer draining.
                while !tls.is_empty() {
                    match conn.read_tls(&mut tls) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let io_state = conn.process_new_packets()?;
                            self.peer_closed |= io_state.peer_has_closed();
                        }
                    }
                }
            }
        }
        Ok(offered - tls.len())
    }

    /// Writes pending TLS bytes into `out`, returning how many were written.
    pub fn write_tls(&mut self, mut out: &mut [u8]) -> usize {
        let capacity = out.len();
        match &mut self.state {
            State::Failed { alert } => {
                let n = alert.len().min(capacity);
                out[..n].copy_from_slice(&alert[..n]);
                alert.drain(..n);
                n
            }
            State::Accepting { .. } => 0,
            State::Tls(conn) => {
                while conn.wants_write() && !out.is_empty() {
                    match conn.write_tls(&mut out) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
                capacity - out.len()
            }
        }
    }

    /// Reads received plaintext into `out`.
    ///
    /// Returns `Ok(0)` when no plaintext is waiting (or the peer has closed cleanly and all was
    /// read).
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        let Some(conn) = self.tls() else { return Ok(0) };
        match conn.reader().read(out) {
            Ok(n) => Ok(n),
            Err(err) if err.kind() == io::ErrorKind::WouldBlock => Ok(0),
            Err(err) => Err(Error::Tls(rustls::Error::General(err.to_string()))),
        }
    }

    /// Queues plaintext to send. Before the handshake ends it is held and sent afterwards.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] after [`send_close_notify`](Self::send_close_notify) or before a
    /// server has accepted its ClientHello.
    pub fn write(&mut self, plaintext: &[u8]) -> Result<usize, Error> {
        if self.outbound_closed {
            return Err(Error::InvalidState(
                "the connection's outbound side is closed",
            ));
        }
        let Some(conn) = self.tls() else {
            return Err(Error::InvalidState("the handshake has not started"));
        };
        conn.writer()
            .write(plaintext)
            .map_err(|err| Error::Tls(rustls::Error::General(err.to_string())))
    }

    /// Queues a close_notify alert; no plaintext may be written afterwards.
    pub fn send_close_notify(&mut self) {
        self.outbound_closed = true;
        if let Some(conn) = self.tls() {
            conn.send_close_notify();
        }
    }

    /// The negotiated ALPN protocol.
    pub fn alpn_protocol(&self) -> Option<&[u8]> {
        self.common().and_then(|common| common.alpn_protocol())
    }

    /// Whether the handshake was full or resumed a session (known once the handshake ends).
    pub fn handshake_kind(&self) -> Option<rustls::HandshakeKind> {
        self.common().and_then(|common| common.handshake_kind())
    }

    /// The negotiated protocol version.
    pub fn protocol_version(&self) -> Option<rustls::ProtocolVersion> {
        self.common().and_then(|common| common.protocol_version())
    }

    /// The negotiated cipher suite.
    pub fn cipher_suite(&self) -> Option<rustls::SupportedCipherSuite> {
        self.common()
            .and_then(|common| common.negotiated_cipher_suite())
    }

    /// The certificate chain the peer presented, leaf first.
    pub fn peer_certificates(&self) -> Option<&[CertificateDer<'static>]> {
        self.common().and_then(|common| common.peer_certificates())
    }

    /// Server: the SNI name the client sent.
    pub fn server_name(&self) -> Option<&str> {
        match &self.state {
            State::Tls(rustls::Connection::Server(conn)) => conn.server_name(),
            _ => None,
        }
    }

    /// Server in ALPN-selection mode: the protocols the client offered, in its order.
    pub fn offered_alpn(&self) -> Option<Vec<Vec<u8>>> {
        match &self.state {
            State::Accepting {
                accepted: Some(accepted),
                ..
            } => Some(
                accepted
                    .client_hello()
                    .alpn()
                    .map(|protocols| protocols.map(<[u8]>::to_vec).collect())
                    .unwrap_or_default(),
            ),
            _ => None,
        }
    }

    /// Server in ALPN-selection mode: continues the handshake with `protocol` as the only ALPN
    /// protocol (or none).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidState`] when no ClientHello is waiting; a TLS error when the ClientHello
    /// cannot be served.
    pub fn accept(&mut self, protocol: Option<&[u8]>) -> Result<(), Error> {
        let State::Accepting { accepted, .. } = &mut self.state else {
            return Err(Error::InvalidState(
                "no ClientHello is waiting to be accepted",
            ));
        };
        let Some(ready) = accepted.take() else {
            return Err(Error::InvalidState(
                "no ClientHello is waiting to be accepted",
            ));
        };
        let alpn: Vec<Vec<u8>> = protocol.map(|p| vec![p.to_vec()]).unwrap_or_default();
        crate::config::check_alpn(&alpn)?;
        let RustlsConfig::Server(config) = self.context.with_alpn(&alpn) else {
            return Err(Error::InvalidState(
                "a server connection needs a server context",
            ));
        };
        match ready.into_connection(config) {
            Ok(conn) => {
                // Stored first, so an alert from processing the ClientHello stays sendable.
                self.state = State::Tls(conn.into());
                if let State::Tls(conn) = &mut self.state {
                    conn.process_new_packets()?;
                }
                Ok(())
            }
            Err((err, mut alert)) => {
                let mut bytes = Vec::new();
                // Writing into a Vec cannot fail.
                let _ = alert.write_all(&mut bytes);
                self.state = State::Failed { alert: bytes };
                Err(err.into())
            }
        }
    }

    /// Engine-style read: takes at most one whole TLS record from `src` and writes its plaintext
    /// into `dst`, as `javax.net.ssl.SSLEngine.unwrap` does.
    ///
    /// Nothing is consumed when `src` holds less than a record ([`flags::UNDERFLOW`]) or `dst`
    /// could not take the record's plaintext ([`flags::OVERFLOW`]).
    ///
    /// # Errors
    ///
    /// A TLS protocol error or alert; an alert to send may then be pending.
    pub fn unwrap_record(&mut self, src: &[u8], dst: &mut [u8]) -> Result<Step, Error> {
        let was_handshaking = self.is_handshaking();

        // Plaintext left from an earlier record goes out before another record comes in.
        let pending = self.read(dst)?;
        if pending > 0 {
            return Ok(self.step(0, pending, was_handshaking, 0));
        }
        if src.len() < RECORD_HEADER {
            return Ok(self.step(0, 0, was_handshaking, flags::UNDERFLOW));
        }
        let record = RECORD_HEADER + usize::from(u16::from_be_bytes([src[3], src[4]]));
        if record > MAX_RECORD_LEN {
            // No valid record is this long: let rustls reject the header now instead of waiting
            // for bytes that should never come.
            let consumed = self.read_tls(&src[..RECORD_HEADER])?;
            return Ok(self.step(consumed, 0, was_handshaking, 0));
        }
        if src.len() < record {
            return Ok(self.step(0, 0, was_handshaking, flags::UNDERFLOW));
        }
        if !was_handshaking && dst.len() < (record - RECORD_HEADER).min(MAX_RECORD_PLAINTEXT) {
            return Ok(self.step(0, 0, was_handshaking, flags::OVERFLOW));
        }

        let consumed = self.read_tls(&src[..record])?;
        let produced = self.read(dst)?;
        Ok(self.step(consumed, produced, was_handshaking, 0))
    }

    /// Engine-style write: first any pending TLS bytes (handshake, alerts, close_notify); when
    /// none are pending and the handshake is done, at most one record of plaintext from `src`,
    /// as `javax.net.ssl.SSLEngine.wrap` does.
    ///
    /// # Errors
    ///
    /// A TLS error while encrypting.
    pub fn wrap_record(&mut self, src: &[u8], dst: &mut [u8]) -> Result<Step, Error> {
        let was_handshaking = self.is_handshaking();
        if self.wants_write() {
            if dst.is_empty() {
                return Ok(self.step(0, 0, was_handshaking, flags::OVERFLOW));
            }
            let produced = self.write_tls(dst);
            return Ok(self.step(0, produced, was_handshaking, 0));
        }
        if was_handshaking || self.outbound_closed || src.is_empty() {
            return Ok(self.step(0, 0, was_handshaking, 0));
        }

        let chunk = src.len().min(MAX_RECORD_PLAINTEXT);
        if dst.len() < chunk + MAX_RECORD_OVERHEAD {
            return Ok(self.step(0, 0, was_handshaking, flags::OVERFLOW));
        }
        let consumed = self.write(&src[..chunk])?;
        let produced = self.write_tls(dst);
        Ok(self.step(consumed, produced, was_handshaking, 0))
    }

    /// Whether the peer's close_notify has been received.
    pub fn peer_closed(&self) -> bool {
        self.peer_closed
    }

    fn step(&self, consumed: usize, produced: usize, was_handshaking: bool, extra: u32) -> Step {
        let mut bits = self.flags() | extra;
        if was_handshaking && bits & flags::HANDSHAKING == 0 {
            bits |= flags::HANDSHAKE_FINISHED;
        }
        Step {
            consumed,
            produced,
            flags: bits,
        }
    }
}
