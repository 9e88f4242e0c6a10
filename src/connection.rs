//! A TLS connection bound to one context generation, moving bytes without owning a socket.
//!
//! The connection drives rustls' unbuffered API and keeps its own buffers: TLS bytes received but
//! not yet processed, TLS bytes waiting to be sent, and plaintext waiting to be read. The engine
//! path ([`Connection::unwrap_record`], [`Connection::wrap_record`]) hands plaintext straight to
//! the caller's destination and encrypts straight into it once the handshake is done.

use std::sync::Arc;

use rustls::client::UnbufferedClientConnection;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::server::{Accepted, Acceptor, UnbufferedServerConnection};
use rustls::unbuffered::{ConnectionState, EncodeError, EncryptError, WriteTraffic};
use rustls::ServerConfig;

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
pub(crate) const MAX_RECORD_LEN: usize = RECORD_HEADER + MAX_RECORD_PLAINTEXT + 2048;

/// Received plaintext held for [`Connection::read`] beyond which no more TLS bytes are taken.
const RECEIVED_PLAINTEXT_LIMIT: usize = 16 * 1024;

/// Plaintext held for sending until the handshake ends beyond which writes are refused.
const PENDING_PLAINTEXT_LIMIT: usize = 64 * 1024;

/// A server or client TLS connection that holds its own reference to its generation, so the
/// generation lives exactly as long as the connection (rustls drops its configuration reference
/// once the handshake ends).
pub struct Connection {
    state: State,
    context: Arc<Context>,
    outbound_closed: bool,
}

enum State {
    Tls(Box<Session>),
    /// A server reading the ClientHello. Every server starts here: rustls' unbuffered server does
    /// not report the SNI name, so the [`Acceptor`] reads it, and the bytes it took are replayed
    /// into the real connection once its configuration is known.
    Accepting {
        acceptor: Box<Acceptor>,
        accepted: Option<Box<Accepted>>,
        /// The TLS bytes the acceptor took, replayed into the connection.
        hello: Vec<u8>,
        /// The configuration to continue with at once; `None` when the caller chooses the ALPN
        /// protocol with [`Connection::accept`].
        config: Option<Arc<ServerConfig>>,
        /// Plaintext written before the ClientHello arrived, sent once the handshake allows.
        pending_write: Vec<u8>,
    },
    /// A server that failed before it had a connection; holds the alert still to be sent.
    Failed {
        alert: Vec<u8>,
    },
}

enum Tls {
    Server(UnbufferedServerConnection),
    Client(UnbufferedClientConnection),
}

/// A running rustls connection and the buffers around it.
struct Session {
    tls: Tls,
    /// Server: the SNI name the ClientHello carried.
    server_name: Option<String>,
    /// TLS bytes received and not yet consumed by rustls (a partial record or handshake message).
    incoming: Vec<u8>,
    buffers: Buffers,
}

/// The buffers the state handlers fill, apart from `incoming`, which rustls borrows meanwhile.
#[derive(Default)]
struct Buffers {
    /// TLS bytes waiting for [`Connection::write_tls`].
    outgoing: OutgoingTls,
    /// Received plaintext; `plaintext[plaintext_read..]` is still unread.
    plaintext: Vec<u8>,
    plaintext_read: usize,
    /// Plaintext written before the handshake allowed it to be encrypted.
    pending_write: Vec<u8>,
    close_requested: bool,
    close_queued: bool,
    peer_closed: bool,
    /// The error that ended the connection; every later read of TLS bytes reports it again.
    failure: Option<rustls::Error>,
}

/// Where one round of processing delivers plaintext and, once traffic keys allow it, encrypts
/// the caller's plaintext.
struct Sink<'a> {
    dst: &'a mut [u8],
    produced: usize,
    encrypt: Option<(&'a [u8], &'a mut [u8])>,
    encrypted: Option<Encrypted>,
}

/// Where plaintext handed to [`Sink::encrypt`] ended up.
#[derive(Clone, Copy)]
enum Encrypted {
    /// This many TLS bytes were written to the caller's buffer.
    Direct(usize),
    /// The TLS bytes went to the outgoing buffer (it held something that must go first).
    Queued,
}

/// What [`Buffers::handle`] leaves to the loop that drives rustls.
enum Flow {
    /// rustls has more to do without new input.
    More,
    /// rustls waits for input, or for the caller to write.
    Blocked,
    /// Plaintext of received records was delivered; rustls has more to do only if bytes remain
    /// to be processed or something waits to be sent.
    Delivered,
}

/// Why a `fill` function given to [`append`] wrote nothing.
enum Fill {
    Needs(usize),
    Failed(rustls::Error),
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
    /// Our close_notify has been requested: queued, or during the handshake held until traffic
    /// keys exist (a handshake that never ends sends none).
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
        Ok(Self::wrap(Self::accepting(Some(config)), context))
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
        Ok(Self::wrap(Self::accepting(None), context))
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
        let connection = UnbufferedClientConnection::new(config, name)?;
        let mut session = Session::new(Tls::Client(connection), None, Vec::new());
        // The ClientHello is queued at once, so the first wrap has it to send.
        session.pump(Sink::discard())?;
        Ok(Self::wrap(State::Tls(Box::new(session)), context))
    }

    fn accepting(config: Option<Arc<ServerConfig>>) -> State {
        State::Accepting {
            acceptor: Box::default(),
            accepted: None,
            hello: Vec::new(),
            config,
            pending_write: Vec::new(),
        }
    }

    fn wrap(state: State, context: Arc<Context>) -> Self {
        Connection {
            state,
            context,
            outbound_closed: false,
        }
    }

    /// The generation this connection is bound to.
    pub fn context(&self) -> &Arc<Context> {
        &self.context
    }

    fn common(&self) -> Option<&rustls::CommonState> {
        match &self.state {
            State::Tls(session) => Some(session.common()),
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
            State::Accepting { .. } => false,
            State::Tls(session) => !session.buffers.outgoing.is_empty(),
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
        if self.peer_closed() {
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
    pub fn read_tls(&mut self, tls: &[u8]) -> Result<usize, Error> {
        match &mut self.state {
            State::Accepting { .. } => self.read_client_hello(tls),
            State::Failed { .. } => Err(Error::InvalidState("the connection has failed")),
            State::Tls(session) => Ok(session.read_tls(tls)?),
        }
    }

    fn read_client_hello(&mut self, mut tls: &[u8]) -> Result<usize, Error> {
        let offered = tls.len();
        let State::Accepting {
            acceptor,
            accepted,
            hello,
            config,
            ..
        } = &mut self.state
        else {
            return Ok(0);
        };
        if accepted.is_some() {
            return Err(Error::InvalidState(
                "accept() must be called after the ClientHello",
            ));
        }

        // Reading from a slice fails only when the acceptor's buffer is full: take no more and
        // let the caller offer the rest later.
        while !tls.is_empty() {
            let before = tls;
            match acceptor.read_tls(&mut tls) {
                Ok(0) | Err(_) => break,
                Ok(n) => hello.extend_from_slice(&before[..n]),
            }
        }
        let consumed = offered - tls.len();

        match acceptor.accept() {
            Ok(Some(ready)) => {
                let ready = Box::new(ready);
                match config.take() {
                    Some(config) => self.start_server(config, &ready)?,
                    None => *accepted = Some(ready),
                }
            }
            Ok(None) => {}
            Err((err, mut alert)) => {
                let mut bytes = Vec::new();
                // Writing into a Vec cannot fail.
                let _ = alert.write_all(&mut bytes);
                self.state = State::Failed { alert: bytes };
                return Err(err.into());
            }
        }
        Ok(consumed)
    }

    /// Replaces the accepting state with a server connection on `config` and replays the bytes
    /// the acceptor took into it.
    fn start_server(&mut self, config: Arc<ServerConfig>, ready: &Accepted) -> Result<(), Error> {
        let State::Accepting {
            hello,
            pending_write,
            ..
        } = &mut self.state
        else {
            return Err(Error::InvalidState(
                "no ClientHello is waiting to be accepted",
            ));
        };
        let hello = std::mem::take(hello);
        let pending_write = std::mem::take(pending_write);
        let server_name = ready.client_hello().server_name().map(str::to_string);
        let connection = UnbufferedServerConnection::new(config)?;
        let mut session = Session::new(Tls::Server(connection), server_name, hello);
        session.buffers.pending_write = pending_write;
        session.buffers.close_requested = self.outbound_closed;

        // Stored before processing, so an alert from processing the ClientHello stays sendable.
        let result = session.pump(Sink::discard());
        self.state = State::Tls(Box::new(session));
        result?;
        Ok(())
    }

    /// Writes pending TLS bytes into `out`, returning how many were written.
    pub fn write_tls(&mut self, out: &mut [u8]) -> usize {
        match &mut self.state {
            State::Failed { alert } => {
                let n = alert.len().min(out.len());
                out[..n].copy_from_slice(&alert[..n]);
                alert.drain(..n);
                n
            }
            State::Accepting { .. } => 0,
            State::Tls(session) => session.buffers.outgoing.take_into(out),
        }
    }

    /// Reads received plaintext into `out`.
    ///
    /// Returns `Ok(0)` when no plaintext is waiting (or the peer has closed cleanly and all was
    /// read).
    pub fn read(&mut self, out: &mut [u8]) -> Result<usize, Error> {
        match &mut self.state {
            State::Tls(session) => Ok(session.buffers.read_plaintext(out)),
            State::Accepting { .. } | State::Failed { .. } => Ok(0),
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
        let session = match &mut self.state {
            State::Tls(session) => session,
            State::Accepting {
                config: Some(_),
                pending_write,
                ..
            } => return Ok(hold(pending_write, plaintext)),
            State::Accepting { config: None, .. } | State::Failed { .. } => {
                return Err(Error::InvalidState("the handshake has not started"));
            }
        };
        // TLS bytes not yet taken by write_tls count against the limit too, so a caller whose
        // peer stops reading sees short writes instead of an ever-growing buffer.
        let limit = PENDING_PLAINTEXT_LIMIT.saturating_sub(session.buffers.outgoing.len());
        if let Some(failure) = &session.buffers.failure {
            return Err(failure.clone().into());
        }
        if !session.common().is_handshaking() && session.buffers.pending_write.is_empty() {
            // Encrypted straight into the outgoing buffer, without holding a copy first.
            let taken = plaintext.len().min(limit);
            if taken == 0 || session.encrypt(&plaintext[..taken], &mut [])?.is_some() {
                return Ok(taken);
            }
        }
        let taken = hold_within(&mut session.buffers.pending_write, plaintext, limit);
        session.pump(Sink::discard())?;
        Ok(taken)
    }

    /// Queues a close_notify alert; no plaintext may be written afterwards.
    ///
    /// During the handshake the alert waits until the handshake ends, behind any plaintext held
    /// for sending: rustls' unbuffered connection can only encrypt it with traffic keys, so unlike
    /// rustls' buffered connection it is not sent in the clear or under handshake keys, and a
    /// handshake abandoned after this call ends without one (the peer sees the transport close).
    pub fn send_close_notify(&mut self) {
        self.outbound_closed = true;
        if let State::Tls(session) = &mut self.state {
            session.buffers.close_requested = true;
            if session.buffers.failure.is_none() {
                // A failure here is kept in the session and reported by the next read.
                let _ = session.pump(Sink::discard());
            }
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
            State::Tls(session) => session.server_name.as_deref(),
            _ => None,
        }
    }

    /// The certificate chain this end presents, leaf first: for a server, the one chosen by the
    /// client's SNI name (see [`Context::cert_chain_for`]).
    pub fn local_certificates(&self) -> &[CertificateDer<'static>] {
        match self.context.role() {
            Role::Server => self.context.cert_chain_for(self.server_name()),
            Role::Client => self.context.cert_chain(),
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
        if let Err(err) = crate::config::check_alpn(&alpn) {
            // The ClientHello stays waiting, so the caller may choose again.
            if let State::Accepting { accepted, .. } = &mut self.state {
                *accepted = Some(ready);
            }
            return Err(err);
        }
        let RustlsConfig::Server(config) = self.context.with_alpn(&alpn) else {
            return Err(Error::InvalidState(
                "a server connection needs a server context",
            ));
        };
        self.start_server(config, &ready)
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
        self.unwrap_from(RecordSource::Shared(src), dst)
    }

    /// As [`unwrap_record`](Self::unwrap_record), but the record is decrypted where it lies in
    /// `src`, which is left holding the record's bytes in an unspecified state (the JDK's own
    /// `SSLEngine` does the same with the buffer it is given). This spares copying the record
    /// into the connection first, and for a large record the buffer it would have needed.
    ///
    /// # Errors
    ///
    /// As [`unwrap_record`](Self::unwrap_record).
    pub fn unwrap_record_in_place(
        &mut self,
        src: &mut [u8],
        dst: &mut [u8],
    ) -> Result<Step, Error> {
        self.unwrap_from(RecordSource::Writable(src), dst)
    }

    /// [`unwrap_record`](Self::unwrap_record), or
    /// [`unwrap_record_in_place`](Self::unwrap_record_in_place) for a writable `src`.
    pub(crate) fn unwrap_from(
        &mut self,
        src: RecordSource<'_>,
        dst: &mut [u8],
    ) -> Result<Step, Error> {
        let was_handshaking = self.is_handshaking();

        // Plaintext left from an earlier record goes out before another record comes in.
        let pending = self.read(dst)?;
        if pending > 0 {
            return Ok(self.step(0, pending, was_handshaking, 0));
        }
        let bytes = src.bytes();
        if bytes.len() < RECORD_HEADER {
            return Ok(self.step(0, 0, was_handshaking, flags::UNDERFLOW));
        }
        let record = RECORD_HEADER + usize::from(u16::from_be_bytes([bytes[3], bytes[4]]));
        if record > MAX_RECORD_LEN {
            // No valid record is this long: let rustls reject the header now instead of waiting
            // for bytes that should never come.
            let consumed = self.read_tls(&bytes[..RECORD_HEADER])?;
            return Ok(self.step(consumed, 0, was_handshaking, 0));
        }
        if bytes.len() < record {
            return Ok(self.step(0, 0, was_handshaking, flags::UNDERFLOW));
        }
        if !was_handshaking && dst.len() < (record - RECORD_HEADER).min(MAX_RECORD_PLAINTEXT) {
            return Ok(self.step(0, 0, was_handshaking, flags::OVERFLOW));
        }

        if let State::Tls(session) = &mut self.state {
            if session.buffers.failure.is_none() {
                // The record's plaintext goes straight to `dst`, not through the plaintext buffer.
                let produced = match src {
                    RecordSource::Writable(bytes) if session.incoming.is_empty() => {
                        session.pump_in_place(&mut bytes[..record], Sink::plaintext(dst))?
                    }
                    src => {
                        session.incoming.extend_from_slice(&src.bytes()[..record]);
                        session.pump(Sink::plaintext(dst))?
                    }
                };
                return Ok(self.step(record, produced, was_handshaking, 0));
            }
        }
        let consumed = self.read_tls(&src.bytes()[..record])?;
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
        let State::Tls(session) = &mut self.state else {
            return Ok(self.step(0, 0, was_handshaking, 0));
        };
        if let Some(failure) = &session.buffers.failure {
            return Err(failure.clone().into());
        }
        let (consumed, produced) = match session.encrypt(&src[..chunk], dst)? {
            Some(Encrypted::Direct(produced)) => (chunk, produced),
            Some(Encrypted::Queued) => (chunk, self.write_tls(dst)),
            None => (0, 0),
        };
        Ok(self.step(consumed, produced, was_handshaking, 0))
    }

    /// Whether the peer's close_notify has been received.
    pub fn peer_closed(&self) -> bool {
        match &self.state {
            State::Tls(session) => session.buffers.peer_closed,
            State::Accepting { .. } | State::Failed { .. } => false,
        }
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

/// Runs rustls' state machine on a session's incoming bytes until it blocks, handing each state
/// to [`Buffers::handle`]; after a failure, collects the alert rustls queued.
macro_rules! drive {
    ($tls:expr, $incoming:expr, $buffers:expr, $sink:expr) => {{
        let mut outcome = Ok(());
        loop {
            let status = $tls.process_tls_records($incoming.unread());
            let mut discard = status.discard;
            let flow = $buffers.handle(status.state, $sink, &mut discard);
            match flow {
                Ok(flow) => {
                    $incoming.discard(discard);
                    let done = match flow {
                        Flow::More => false,
                        Flow::Blocked => true,
                        // With every byte taken and nothing to send, another round would only
                        // report that the connection may write: leave it to the next call.
                        Flow::Delivered => {
                            $incoming.is_empty()
                                && !$tls.wants_write()
                                && !$buffers.has_output($sink)
                        }
                    };
                    if done {
                        break;
                    }
                }
                Err(err) => {
                    // `incoming` is left as it was: rustls' handshake reassembly may still point
                    // into the bytes the failed step would have discarded.
                    outcome = Err(err);
                    break;
                }
            }
        }
        if let Err(err) = &outcome {
            $buffers.failure = Some(err.clone());
            // rustls' handshake reassembly refers to `incoming`, so the same unchanged bytes are
            // passed again; the connection takes no more input, so nothing is discarded. Only
            // while rustls has the alert to hand over: with nothing to send it would parse the
            // failed bytes again and fail a second time.
            while $tls.wants_write() {
                let status = $tls.process_tls_records($incoming.unread());
                if !$buffers.flush_alert(status.state) {
                    break;
                }
            }
        }
        outcome
    }};
}

impl Tls {
    /// Runs rustls on the bytes in `incoming` until it blocks ([`drive!`]), for either side.
    fn drive(
        &mut self,
        incoming: &mut impl Incoming,
        buffers: &mut Buffers,
        sink: &mut Sink<'_>,
    ) -> Result<(), rustls::Error> {
        match self {
            Tls::Server(conn) => drive!(conn, incoming, buffers, sink),
            Tls::Client(conn) => drive!(conn, incoming, buffers, sink),
        }
    }
}

impl Session {
    fn new(tls: Tls, server_name: Option<String>, incoming: Vec<u8>) -> Self {
        Session {
            tls,
            server_name,
            incoming,
            buffers: Buffers::default(),
        }
    }

    fn common(&self) -> &rustls::CommonState {
        match &self.tls {
            Tls::Server(conn) => conn,
            Tls::Client(conn) => conn,
        }
    }

    /// Processes what `incoming` holds, delivering plaintext to `sink`; returns the plaintext
    /// bytes written to the sink's destination.
    fn pump(&mut self, mut sink: Sink<'_>) -> Result<usize, rustls::Error> {
        let Session {
            tls,
            incoming,
            buffers,
            ..
        } = self;
        tls.drive(incoming, buffers, &mut sink)?;
        if buffers.peer_closed {
            // rustls reads nothing after the peer's close_notify.
            incoming.clear();
        }
        release_if_empty(incoming);
        Ok(sink.produced)
    }

    /// As [`pump`](Self::pump) for one whole record that rustls decrypts where it lies in
    /// `record`; `incoming` must be empty. Bytes rustls does not discard (part of a handshake
    /// message, kept for the records that complete it) are copied to `incoming`, as if the
    /// record had been received there.
    fn pump_in_place(
        &mut self,
        record: &mut [u8],
        mut sink: Sink<'_>,
    ) -> Result<usize, rustls::Error> {
        debug_assert!(self.incoming.is_empty());
        let Session {
            tls,
            incoming,
            buffers,
            ..
        } = self;
        let mut in_place = InPlace {
            bytes: record,
            start: 0,
        };
        let outcome = tls.drive(&mut in_place, buffers, &mut sink);
        if !buffers.peer_closed {
            incoming.extend_from_slice(in_place.unread());
        }
        outcome?;
        Ok(sink.produced)
    }

    /// Encrypts `plaintext` into `dst` if traffic keys allow it.
    fn encrypt(
        &mut self,
        plaintext: &[u8],
        dst: &mut [u8],
    ) -> Result<Option<Encrypted>, rustls::Error> {
        let mut sink = Sink {
            dst: &mut [],
            produced: 0,
            encrypt: Some((plaintext, dst)),
            encrypted: None,
        };
        let Session {
            tls,
            incoming,
            buffers,
            ..
        } = self;
        tls.drive(incoming, buffers, &mut sink)?;
        Ok(sink.encrypted)
    }

    fn read_tls(&mut self, mut tls: &[u8]) -> Result<usize, rustls::Error> {
        if let Some(failure) = &self.buffers.failure {
            return Err(failure.clone());
        }
        let offered = tls.len();

        // A record at a time, so a full plaintext buffer stops the intake as rustls' buffered
        // connection does.
        while !tls.is_empty() && self.buffers.unread_plaintext() < RECEIVED_PLAINTEXT_LIMIT {
            let take = tls.len().min(MAX_RECORD_LEN);
            self.incoming.extend_from_slice(&tls[..take]);
            tls = &tls[take..];
            self.pump(Sink::discard())?;
        }
        Ok(offered - tls.len())
    }
}

impl Buffers {
    /// Acts on one state; returns whether rustls has more to do without new input.
    fn handle<Data>(
        &mut self,
        state: Result<ConnectionState<'_, '_, Data>, rustls::Error>,
        sink: &mut Sink<'_>,
        discard: &mut usize,
    ) -> Result<Flow, rustls::Error> {
        match state? {
            ConnectionState::ReadTraffic(mut traffic) => {
                while let Some(record) = traffic.next_record() {
                    let record = record?;
                    *discard += record.discard;
                    self.deliver(record.payload, sink);
                }
                Ok(Flow::Delivered)
            }
            ConnectionState::EncodeTlsData(mut encode) => {
                self.outgoing.append(|out| {
                    encode.encode(out).map_err(|err| match err {
                        EncodeError::InsufficientSize(size) => Fill::Needs(size.required_size),
                        EncodeError::AlreadyEncoded => {
                            Fill::Failed(rustls::Error::General(err.to_string()))
                        }
                    })
                })?;
                Ok(Flow::More)
            }
            ConnectionState::TransmitTlsData(transmit) => {
                // The bytes stay in `outgoing` until the caller takes them.
                transmit.done();
                Ok(Flow::More)
            }
            ConnectionState::PeerClosed => {
                self.peer_closed = true;
                Ok(Flow::More)
            }
            ConnectionState::WriteTraffic(mut traffic) => {
                self.write_traffic(&mut traffic, sink)?;
                Ok(Flow::Blocked)
            }
            ConnectionState::ReadEarlyData(_) => Err(rustls::Error::General(
                "early data is not accepted".to_string(),
            )),
            _ => Ok(Flow::Blocked),
        }
    }

    /// Handles a state reached after a failure: only the alert rustls queued is wanted.
    fn flush_alert<Data>(
        &mut self,
        state: Result<ConnectionState<'_, '_, Data>, rustls::Error>,
    ) -> bool {
        match state {
            Ok(ConnectionState::EncodeTlsData(mut encode)) => self
                .outgoing
                .append(|out| {
                    encode.encode(out).map_err(|err| match err {
                        EncodeError::InsufficientSize(size) => Fill::Needs(size.required_size),
                        EncodeError::AlreadyEncoded => {
                            Fill::Failed(rustls::Error::General(err.to_string()))
                        }
                    })
                })
                .is_ok(),
            Ok(ConnectionState::TransmitTlsData(transmit)) => {
                transmit.done();
                true
            }
            _ => false,
        }
    }

    /// Encrypts what waits to be sent: plaintext held from the handshake, the caller's
    /// plaintext, then a requested close_notify.
    fn write_traffic<Data>(
        &mut self,
        traffic: &mut WriteTraffic<'_, Data>,
        sink: &mut Sink<'_>,
    ) -> Result<(), rustls::Error> {
        if !self.pending_write.is_empty() {
            let pending = std::mem::take(&mut self.pending_write);
            self.outgoing
                .append(|out| traffic.encrypt(&pending, out).map_err(encrypt_fill))?;
        }

        if let Some((plaintext, dst)) = sink.encrypt.take() {
            if self.outgoing.is_empty() && !dst.is_empty() {
                match traffic.encrypt(plaintext, dst) {
                    Ok(written) => sink.encrypted = Some(Encrypted::Direct(written)),
                    Err(EncryptError::InsufficientSize(_)) => {}
                    Err(err) => return Err(rustls::Error::General(err.to_string())),
                }
            }
            if sink.encrypted.is_none() {
                // Something must go out first (or a key update did not fit): queue behind it.
                self.outgoing
                    .append(|out| traffic.encrypt(plaintext, out).map_err(encrypt_fill))?;
                sink.encrypted = Some(Encrypted::Queued);
            }
        }

        if self.close_requested && !self.close_queued {
            self.outgoing
                .append(|out| traffic.queue_close_notify(out).map_err(encrypt_fill))?;
            self.close_queued = true;
        }
        Ok(())
    }

    /// Whether anything waits to be encrypted: plaintext held from the handshake, the sink's
    /// plaintext, or a requested close_notify not yet queued.
    fn has_output(&self, sink: &Sink<'_>) -> bool {
        !self.pending_write.is_empty()
            || sink.encrypt.is_some()
            || (self.close_requested && !self.close_queued)
    }

    /// Hands a record's plaintext to the sink's destination, keeping what does not fit.
    fn deliver(&mut self, payload: &[u8], sink: &mut Sink<'_>) {
        let room = if self.unread_plaintext() == 0 {
            sink.dst.len() - sink.produced
        } else {
            0
        };
        let direct = payload.len().min(room);
        sink.dst[sink.produced..sink.produced + direct].copy_from_slice(&payload[..direct]);
        sink.produced += direct;
        self.plaintext.extend_from_slice(&payload[direct..]);
    }

    fn unread_plaintext(&self) -> usize {
        self.plaintext.len() - self.plaintext_read
    }

    fn read_plaintext(&mut self, out: &mut [u8]) -> usize {
        let n = self.unread_plaintext().min(out.len());
        out[..n].copy_from_slice(&self.plaintext[self.plaintext_read..self.plaintext_read + n]);
        self.plaintext_read += n;
        if self.plaintext_read == self.plaintext.len() {
            self.plaintext.clear();
            self.plaintext_read = 0;
            release_if_empty(&mut self.plaintext);
        }
        n
    }
}

/// Where rustls reads TLS bytes from: the session's own buffer, or a record decrypted where the
/// caller holds it ([`InPlace`]). rustls works on the bytes not yet discarded, which must start
/// with what it left there the last time.
trait Incoming {
    /// The bytes not yet discarded.
    fn unread(&mut self) -> &mut [u8];
    /// Drops the first `count` of them, which rustls is done with.
    fn discard(&mut self, count: usize);
    fn is_empty(&self) -> bool;
}

impl Incoming for Vec<u8> {
    fn unread(&mut self) -> &mut [u8] {
        self
    }

    fn discard(&mut self, count: usize) {
        self.drain(..count.min(self.len()));
    }

    fn is_empty(&self) -> bool {
        self.as_slice().is_empty()
    }
}

/// A caller's record that rustls decrypts in place: `bytes[start..]` are not yet discarded.
struct InPlace<'a> {
    bytes: &'a mut [u8],
    start: usize,
}

impl Incoming for InPlace<'_> {
    fn unread(&mut self) -> &mut [u8] {
        &mut self.bytes[self.start..]
    }

    fn discard(&mut self, count: usize) {
        self.start = (self.start + count).min(self.bytes.len());
    }

    fn is_empty(&self) -> bool {
        self.start == self.bytes.len()
    }
}

/// The source of an engine-style step: read only, or the caller's to decrypt a record in
/// ([`Connection::unwrap_record_in_place`]).
pub(crate) enum RecordSource<'a> {
    Shared(&'a [u8]),
    Writable(&'a mut [u8]),
}

impl RecordSource<'_> {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            RecordSource::Shared(bytes) => bytes,
            RecordSource::Writable(bytes) => bytes,
        }
    }
}

/// Frees an emptied buffer that grew past [`KEPT_CAPACITY`], so an idle connection holds little
/// beyond rustls' own state: a broker keeps thousands of mostly idle connections. A stream of
/// 16 KiB records then allocates a buffer per record, a few percent of its cost.
fn release_if_empty(buffer: &mut Vec<u8>) {
    if buffer.is_empty() && buffer.capacity() > KEPT_CAPACITY {
        *buffer = Vec::new();
    }
}

/// The capacity an empty buffer may keep: enough for handshake messages and small records.
const KEPT_CAPACITY: usize = 4096;

impl<'a> Sink<'a> {
    /// A sink whose plaintext all goes to the connection's plaintext buffer.
    fn discard() -> Self {
        Self::plaintext(&mut [])
    }

    /// A sink writing plaintext to `dst` first.
    fn plaintext(dst: &'a mut [u8]) -> Self {
        Sink {
            dst,
            produced: 0,
            encrypt: None,
            encrypted: None,
        }
    }
}

/// Appends as much of `plaintext` to `pending` as the pending limit allows; returns how much.
fn hold(pending: &mut Vec<u8>, plaintext: &[u8]) -> usize {
    hold_within(pending, plaintext, PENDING_PLAINTEXT_LIMIT)
}

/// As [`hold`], with `limit` bytes allowed in `pending`.
fn hold_within(pending: &mut Vec<u8>, plaintext: &[u8], limit: usize) -> usize {
    let room = limit.saturating_sub(pending.len());
    let taken = plaintext.len().min(room);
    pending.extend_from_slice(&plaintext[..taken]);
    taken
}

fn encrypt_fill(err: EncryptError) -> Fill {
    match err {
        EncryptError::InsufficientSize(size) => Fill::Needs(size.required_size),
        err => Fill::Failed(rustls::Error::General(err.to_string())),
    }
}

/// TLS bytes waiting for [`Connection::write_tls`]: `bytes[start..end]`.
///
/// The vector's length is how much of it was ever written, so encrypting into room already there
/// writes no zeros first, as a vector truncated and resized again would. Emptied, it keeps up to
/// one record of room for the next, and frees more.
#[derive(Default)]
struct OutgoingTls {
    bytes: Vec<u8>,
    start: usize,
    end: usize,
}

impl OutgoingTls {
    fn len(&self) -> usize {
        self.end - self.start
    }

    fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// Moves as many waiting bytes as fit into `out`; returns how many.
    fn take_into(&mut self, out: &mut [u8]) -> usize {
        let n = self.len().min(out.len());
        out[..n].copy_from_slice(&self.bytes[self.start..self.start + n]);
        self.start += n;
        if self.is_empty() {
            self.start = 0;
            self.end = 0;
            if self.bytes.len() > MAX_RECORD_LEN {
                self.bytes = Vec::new();
            }
        }
        n
    }

    /// Lets `fill` write after the waiting bytes, growing the room to what `fill` asks for.
    fn append(
        &mut self,
        mut fill: impl FnMut(&mut [u8]) -> Result<usize, Fill>,
    ) -> Result<(), rustls::Error> {
        if self.start > 0 {
            self.bytes.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        loop {
            let room = self.bytes.len() - self.end;
            match fill(&mut self.bytes[self.end..]) {
                Ok(written) => {
                    self.end += written;
                    return Ok(());
                }
                Err(Fill::Needs(needed)) if needed > room => {
                    self.bytes.resize(self.end + needed, 0);
                }
                Err(Fill::Needs(needed)) => {
                    return Err(rustls::Error::General(format!(
                        "rustls asked for {needed} bytes of room and did not use them"
                    )));
                }
                Err(Fill::Failed(err)) => return Err(err),
            }
        }
    }
}
