//! Connections in the C ABI: bytes in and out, no sockets.

use std::ffi::c_char;

use super::context::context;
use super::{
    boundary, boundary_value, bytes_arg, bytes_out, str_arg, tls_result, write_out, Failure,
};
use crate::config::Role;
use crate::connection::{flags, Connection, RecordSource, Step};

/// A TLS connection bound to one context generation for its whole life. Created by
/// [`tls_conn_new_server`] or [`tls_conn_new_client`], freed by [`tls_conn_free`]. A connection
/// is used by one thread at a time.
pub struct tls_conn(pub(crate) Connection);

/// Borrows a connection.
///
/// # Safety
///
/// `conn` is NULL or a live pointer from `tls_conn_new_*`, not used by another thread.
unsafe fn conn_mut<'a>(conn: *mut tls_conn) -> Result<&'a mut Connection, Failure> {
    // SAFETY: the caller's promise; as_mut turns NULL into None.
    unsafe { conn.as_mut() }
        .map(|conn| &mut conn.0)
        .ok_or_else(|| Failure::null("conn"))
}

/// Borrows a connection for reading.
///
/// # Safety
///
/// As [`conn_mut`].
unsafe fn conn_ref<'a>(conn: *const tls_conn) -> Result<&'a Connection, Failure> {
    // SAFETY: the caller's promise; as_ref turns NULL into None.
    unsafe { conn.as_ref() }
        .map(|conn| &conn.0)
        .ok_or_else(|| Failure::null("conn"))
}

fn wrong_role(expected: Role) -> Failure {
    Failure::new(
        tls_result::WrongRole,
        format!(
            "a {} connection needs a {} context",
            role_name(expected),
            role_name(expected)
        ),
    )
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Server => "server",
        Role::Client => "client",
    }
}

/// Starts a server connection on the context behind `ctx`. The connection takes its own
/// reference to that generation, so the handle may be released right after. On success
/// `*conn_out` receives a connection owned by the caller, freed with [`tls_conn_free`].
///
/// # Safety
///
/// `conn_out` is a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_new_server(ctx: u64, conn_out: *mut *mut tls_conn) -> tls_result {
    boundary(|| {
        let context = context(ctx)?;
        if context.role() != Role::Server {
            return Err(wrong_role(Role::Server));
        }
        if conn_out.is_null() {
            return Err(Failure::null("conn_out"));
        }
        let conn = Box::into_raw(Box::new(tls_conn(Connection::server(context)?)));
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(conn_out, conn, "conn_out") }
    })
}

/// Starts a client connection to `server_name` (a DNS name or an IP literal, sent as SNI and
/// verified against the server's certificate) on the context behind `ctx`. Ownership as for
/// [`tls_conn_new_server`].
///
/// # Safety
///
/// `server_name` is a NUL-terminated UTF-8 string; `conn_out` a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_new_client(
    ctx: u64,
    server_name: *const c_char,
    conn_out: *mut *mut tls_conn,
) -> tls_result {
    boundary(|| {
        let context = context(ctx)?;
        if context.role() != Role::Client {
            return Err(wrong_role(Role::Client));
        }
        // SAFETY: forwarded caller promise.
        let server_name = unsafe { str_arg(server_name, "server_name")? };
        if conn_out.is_null() {
            return Err(Failure::null("conn_out"));
        }
        let conn = Connection::client(context, server_name, None)?;
        let conn = Box::into_raw(Box::new(tls_conn(conn)));
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(conn_out, conn, "conn_out") }
    })
}

/// Frees a connection and its reference to its generation. NULL is accepted and ignored.
///
/// # Safety
///
/// `conn` is NULL or a pointer from `tls_conn_new_*` not freed yet.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_free(conn: *mut tls_conn) {
    boundary(|| {
        if !conn.is_null() {
            // SAFETY: a pointer from tls_conn_new_*, freed only here and once (caller's promise).
            drop(unsafe { Box::from_raw(conn) });
        }
        Ok(())
    });
}

/// Feeds `len` bytes received from the peer and processes them. `*consumed_out` receives how
/// many were taken. Plaintext that arrived can then be read with [`tls_conn_read`]; TLS bytes
/// to send back are announced by [`tls_conn_wants_write`].
///
/// Intake stops once 16 KiB of received plaintext waits to be read, as with a buffered rustls
/// connection: `*consumed_out` is then less than `len`, and 0 while that plaintext stays
/// unread. Read it with [`tls_conn_read`] before offering the rest again, or a loop offering
/// the rest makes no progress.
///
/// A TLS error (bad message, alert, failed verification) is [`tls_result::TlsProtocol`]; an
/// alert for the peer may then be pending.
///
/// # Safety
///
/// `conn` is a live connection; `buf` readable for `len` bytes; `consumed_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_read_tls(
    conn: *mut tls_conn,
    buf: *const u8,
    len: usize,
    consumed_out: *mut usize,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (conn, bytes) = unsafe { (conn_mut(conn)?, bytes_arg(buf, len, "buf")?) };
        if consumed_out.is_null() {
            return Err(Failure::null("consumed_out"));
        }
        let consumed = conn.read_tls(bytes)?;
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(consumed_out, consumed, "consumed_out") }
    })
}

/// Writes pending TLS bytes (handshake, records, alerts) into `buf`; `*written_out` receives
/// how many. Send them to the peer.
///
/// # Safety
///
/// `conn` is a live connection; `buf` writable for `len` bytes; `written_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_write_tls(
    conn: *mut tls_conn,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (conn, out) = unsafe { (conn_mut(conn)?, bytes_out(buf, len, "buf")?) };
        if written_out.is_null() {
            return Err(Failure::null("written_out"));
        }
        let written = conn.write_tls(out);
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(written_out, written, "written_out") }
    })
}

/// Reads received plaintext into `buf`; `*read_out` receives how many bytes, 0 when none is
/// waiting.
///
/// # Safety
///
/// `conn` is a live connection; `buf` writable for `len` bytes; `read_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_read(
    conn: *mut tls_conn,
    buf: *mut u8,
    len: usize,
    read_out: *mut usize,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (conn, out) = unsafe { (conn_mut(conn)?, bytes_out(buf, len, "buf")?) };
        if read_out.is_null() {
            return Err(Failure::null("read_out"));
        }
        let read = conn.read(out)?;
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(read_out, read, "read_out") }
    })
}

/// Queues `len` bytes of plaintext for the peer; `*written_out` receives how many were taken.
/// Plaintext written before the handshake ends is sent once it does. Afterwards call
/// [`tls_conn_write_tls`] to get the encrypted bytes.
///
/// # Safety
///
/// `conn` is a live connection; `buf` readable for `len` bytes; `written_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_write(
    conn: *mut tls_conn,
    buf: *const u8,
    len: usize,
    written_out: *mut usize,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promises.
        let (conn, bytes) = unsafe { (conn_mut(conn)?, bytes_arg(buf, len, "buf")?) };
        if written_out.is_null() {
            return Err(Failure::null("written_out"));
        }
        let written = conn.write(bytes)?;
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(written_out, written, "written_out") }
    })
}

/// What one [`tls_conn_unwrap`] or [`tls_conn_wrap`] call did.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct tls_step {
    /// Bytes taken from `src`.
    pub consumed: usize,
    /// Bytes written to `dst`.
    pub produced: usize,
    /// `TLS_STEP_*` bits: the connection's state after the call, and
    /// [`TLS_STEP_HANDSHAKE_FINISHED`] when this call is the one that ended the handshake.
    pub flags: u32,
}

/// [`tls_step`] flag: the handshake is still in progress.
pub const TLS_STEP_HANDSHAKING: u32 = 1;
/// [`tls_step`] flag: TLS bytes wait to be written; call [`tls_conn_wrap`].
pub const TLS_STEP_WANTS_WRITE: u32 = 2;
/// [`tls_step`] flag: `src` does not hold a whole TLS record; nothing was consumed. Call again
/// with more bytes behind the same ones.
pub const TLS_STEP_UNDERFLOW: u32 = 4;
/// [`tls_step`] flag: `dst` is too small for what the call would write; nothing was consumed or
/// produced. [`TLS_MAX_RECORD_LEN`] bytes always suffice.
pub const TLS_STEP_OVERFLOW: u32 = 8;
/// [`tls_step`] flag: the peer's close_notify has been received.
pub const TLS_STEP_PEER_CLOSED: u32 = 16;
/// [`tls_step`] flag: our close_notify has been requested ([`tls_conn_send_close_notify`]).
pub const TLS_STEP_OUTBOUND_CLOSED: u32 = 32;
/// [`tls_step`] flag: this call completed the handshake. [`TLS_STEP_WANTS_WRITE`] may be set
/// with it: the last handshake message (a client's Finished) still waits to be wrapped.
pub const TLS_STEP_HANDSHAKE_FINISHED: u32 = 64;

/// The longest TLS record: header, 2^14 bytes of plaintext and 2048 of expansion. A `dst` this
/// long never overflows.
pub const TLS_MAX_RECORD_LEN: usize = 5 + 16384 + 2048;

// The C flags are the connection's own bits under C names, spelled out for cbindgen.
const _: () = {
    assert!(TLS_STEP_HANDSHAKING == flags::HANDSHAKING);
    assert!(TLS_STEP_WANTS_WRITE == flags::WANTS_WRITE);
    assert!(TLS_STEP_UNDERFLOW == flags::UNDERFLOW);
    assert!(TLS_STEP_OVERFLOW == flags::OVERFLOW);
    assert!(TLS_STEP_PEER_CLOSED == flags::PEER_CLOSED);
    assert!(TLS_STEP_OUTBOUND_CLOSED == flags::OUTBOUND_CLOSED);
    assert!(TLS_STEP_HANDSHAKE_FINISHED == flags::HANDSHAKE_FINISHED);
    assert!(TLS_MAX_RECORD_LEN == crate::connection::MAX_RECORD_LEN);
};

/// Runs one engine-style step after checking the arguments: `src` and `dst` must not overlap,
/// since the connection reads one while it writes the other.
///
/// # Safety
///
/// As [`tls_conn_unwrap`], and `src` writable for `src_len` bytes when `src_writable`.
#[allow(clippy::too_many_arguments)]
unsafe fn record_step(
    conn: *mut tls_conn,
    src: *const u8,
    src_len: usize,
    src_writable: bool,
    dst: *mut u8,
    dst_len: usize,
    step_out: *mut tls_step,
    step: impl FnOnce(&mut Connection, RecordSource<'_>, &mut [u8]) -> Result<Step, crate::Error>,
) -> tls_result {
    boundary(|| {
        if step_out.is_null() {
            return Err(Failure::null("step_out"));
        }
        let (src_start, dst_start) = (src as usize, dst as usize);
        if src_len > 0
            && dst_len > 0
            && src_start < dst_start.saturating_add(dst_len)
            && dst_start < src_start.saturating_add(src_len)
        {
            return Err(Failure::new(
                tls_result::InvalidArgument,
                "`src` and `dst` overlap".to_string(),
            ));
        }
        // SAFETY: forwarded caller promises (`src` writable when `src_writable`); the two
        // buffers were just found disjoint.
        let (conn, src, dst) = unsafe {
            let src = if src_writable {
                RecordSource::Writable(bytes_out(src.cast_mut(), src_len, "src")?)
            } else {
                RecordSource::Shared(bytes_arg(src, src_len, "src")?)
            };
            (conn_mut(conn)?, src, bytes_out(dst, dst_len, "dst")?)
        };
        let done = step(conn, src, dst)?;
        let done = tls_step {
            consumed: done.consumed,
            produced: done.produced,
            flags: done.flags & !flags::CLIENT_HELLO,
        };
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(step_out, done, "step_out") }
    })
}

/// Engine-style read, as Java's `SSLEngine.unwrap`: takes at most one whole TLS record from
/// `src` and writes its plaintext straight into `dst`, without the copy through the
/// connection's plaintext buffer that [`tls_conn_read_tls`] and [`tls_conn_read`] make.
/// `*step_out` receives the bytes consumed from `src`, the bytes produced into `dst`, and
/// `TLS_STEP_*` flags.
///
/// Plaintext still held from earlier calls (records given to [`tls_conn_read_tls`] and not yet
/// read with [`tls_conn_read`]) is delivered first, consuming nothing. Less than a whole
/// record in `src` consumes nothing and sets [`TLS_STEP_UNDERFLOW`]; after the handshake,
/// a `dst` shorter than the record's body (its length less the 5-byte header, capped at 16,384,
/// the most plaintext a record holds) consumes nothing and sets [`TLS_STEP_OVERFLOW`]: the
/// plaintext's exact length is only known once the record is decrypted.
/// During the handshake nothing is produced; send what [`tls_conn_wrap`] then writes.
/// `src` and `dst` must not overlap ([`tls_result::InvalidArgument`]). The engine-style calls
/// and the stream calls may be mixed on one connection, between whole records: `src` must start
/// where a record starts, not after part of one given to [`tls_conn_read_tls`].
///
/// A TLS error is [`tls_result::TlsProtocol`]; an alert for the peer may then be pending.
///
/// # Safety
///
/// `conn` is a live connection; `src` readable for `src_len` bytes and `dst` writable for
/// `dst_len` bytes (each may be NULL when its length is 0); `step_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_unwrap(
    conn: *mut tls_conn,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_len: usize,
    step_out: *mut tls_step,
) -> tls_result {
    // SAFETY: forwarded caller promises.
    unsafe {
        record_step(
            conn,
            src,
            src_len,
            false,
            dst,
            dst_len,
            step_out,
            |conn, src, dst| conn.unwrap_from(src, dst),
        )
    }
}

/// As [`tls_conn_unwrap`], but the record is decrypted where it lies in `src`, which must be
/// writable. The first record in `src` (5 bytes plus the length in its header) may be
/// overwritten, also when the call fails, and then holds nothing meaningful; nothing after it is
/// written, and nothing at all when the step consumes nothing (underflow, overflow, or plaintext
/// of an earlier record delivered first). While the connection holds part of a handshake
/// message from earlier records, the record is copied as by [`tls_conn_unwrap`]. This spares
/// copying every record into the connection before decrypting it, and for a record of more than
/// 4 KiB a buffer allocated for it: the call for a program that reads from its socket into a
/// buffer of its own. Java's `SSLEngine.unwrap` in the JDK treats its source buffer the same
/// way.
///
/// # Safety
///
/// `conn` is a live connection; `src` readable and writable for `src_len` bytes and `dst`
/// writable for `dst_len` bytes (each may be NULL when its length is 0); `step_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_unwrap_in_place(
    conn: *mut tls_conn,
    src: *mut u8,
    src_len: usize,
    dst: *mut u8,
    dst_len: usize,
    step_out: *mut tls_step,
) -> tls_result {
    // SAFETY: forwarded caller promises, `src` writable among them.
    unsafe {
        record_step(
            conn,
            src,
            src_len,
            true,
            dst,
            dst_len,
            step_out,
            |conn, src, dst| conn.unwrap_from(src, dst),
        )
    }
}

/// Engine-style write, as Java's `SSLEngine.wrap`: writes pending TLS bytes (handshake,
/// alerts, close_notify) into `dst`; when none are pending and the handshake is done, encrypts
/// at most one record of plaintext from `src` straight into `dst`, without the copy through the
/// connection's outgoing buffer that [`tls_conn_write`] and [`tls_conn_write_tls`] make.
/// `*step_out` receives the plaintext bytes consumed from `src`, the TLS bytes produced into
/// `dst`, and `TLS_STEP_*` flags.
///
/// Plaintext needs room for its record in `dst`: up to 16384 bytes of it plus 29, else
/// nothing is consumed and [`TLS_STEP_OVERFLOW`] is set ([`TLS_MAX_RECORD_LEN`] always
/// suffices). While [`TLS_STEP_WANTS_WRITE`] is set, call again before offering plaintext.
/// `src` and `dst` must not overlap ([`tls_result::InvalidArgument`]).
///
/// # Safety
///
/// `conn` is a live connection; `src` readable for `src_len` bytes and `dst` writable for
/// `dst_len` bytes (each may be NULL when its length is 0); `step_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_wrap(
    conn: *mut tls_conn,
    src: *const u8,
    src_len: usize,
    dst: *mut u8,
    dst_len: usize,
    step_out: *mut tls_step,
) -> tls_result {
    // SAFETY: forwarded caller promises.
    unsafe {
        record_step(
            conn,
            src,
            src_len,
            false,
            dst,
            dst_len,
            step_out,
            |conn, src, dst| conn.wrap_record(src.bytes(), dst),
        )
    }
}

/// Queues a close_notify alert; write it out with [`tls_conn_write_tls`] or [`tls_conn_wrap`]
/// (with no plaintext). No plaintext can be written afterwards. During the handshake the alert
/// is held until the handshake ends (it can only be sent encrypted with the traffic keys); a
/// handshake abandoned meanwhile sends none.
///
/// # Safety
///
/// `conn` is a live connection.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_send_close_notify(conn: *mut tls_conn) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        unsafe { conn_mut(conn)? }.send_close_notify();
        Ok(())
    })
}

/// Whether the handshake is still in progress. False for NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_is_handshaking(conn: *const tls_conn) -> bool {
    boundary_value(false, || {
        // SAFETY: forwarded caller promise.
        let conn = unsafe { conn_ref(conn) };
        conn.is_ok_and(|conn| conn.is_handshaking())
    })
}

/// Whether TLS bytes are waiting for [`tls_conn_write_tls`]. False for NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_wants_write(conn: *const tls_conn) -> bool {
    boundary_value(false, || {
        // SAFETY: forwarded caller promise.
        let conn = unsafe { conn_ref(conn) };
        conn.is_ok_and(|conn| conn.wants_write())
    })
}

/// Whether the peer's close_notify has been received. False for NULL.
///
/// # Safety
///
/// `conn` is NULL or a live connection.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_peer_closed(conn: *const tls_conn) -> bool {
    boundary_value(false, || {
        // SAFETY: forwarded caller promise.
        let conn = unsafe { conn_ref(conn) };
        conn.is_ok_and(|conn| conn.peer_closed())
    })
}

/// The negotiated ALPN protocol: `*protocol_out` points into the connection (valid until it is
/// freed, not NUL-terminated) and `*len_out` is its length; NULL and 0 when none was negotiated.
///
/// # Safety
///
/// `conn` is a live connection; `protocol_out` and `len_out` are writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_alpn(
    conn: *const tls_conn,
    protocol_out: *mut *const u8,
    len_out: *mut usize,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let conn = unsafe { conn_ref(conn)? };
        if protocol_out.is_null() || len_out.is_null() {
            return Err(Failure::null("protocol_out or len_out"));
        }
        let (pointer, len) = match conn.alpn_protocol() {
            Some(protocol) => (protocol.as_ptr(), protocol.len()),
            None => (std::ptr::null(), 0),
        };
        // SAFETY: both checked non-NULL; writable by the caller's promise.
        unsafe {
            protocol_out.write(pointer);
            len_out.write(len);
        }
        Ok(())
    })
}

/// The negotiated protocol version as its wire value (0x0303 for TLS 1.2, 0x0304 for TLS 1.3),
/// or 0 before it is known.
///
/// # Safety
///
/// `conn` is a live connection; `version_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_protocol_version(
    conn: *const tls_conn,
    version_out: *mut u16,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let conn = unsafe { conn_ref(conn)? };
        let version = conn.protocol_version().map(u16::from).unwrap_or(0);
        // SAFETY: the caller's promise.
        unsafe { write_out(version_out, version, "version_out") }
    })
}

/// The negotiated cipher suite as its IANA number, or 0 before it is known.
///
/// # Safety
///
/// `conn` is a live connection; `suite_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_cipher_suite(
    conn: *const tls_conn,
    suite_out: *mut u16,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let conn = unsafe { conn_ref(conn)? };
        let suite = conn
            .cipher_suite()
            .map(|suite| u16::from(suite.suite()))
            .unwrap_or(0);
        // SAFETY: the caller's promise.
        unsafe { write_out(suite_out, suite, "suite_out") }
    })
}

/// The generation number of the context this connection is bound to.
///
/// # Safety
///
/// `conn` is a live connection; `generation_out` writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_generation(
    conn: *const tls_conn,
    generation_out: *mut u64,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let generation = unsafe { conn_ref(conn)? }.context().generation();
        // SAFETY: the caller's promise.
        unsafe { write_out(generation_out, generation, "generation_out") }
    })
}

/// The DER of the peer's certificate at `index` (0 is the leaf): `*der_out` points into the
/// connection (valid until it is freed) and `*len_out` is its length. An index past the chain,
/// or no peer certificate, is [`tls_result::InvalidArgument`].
///
/// # Safety
///
/// `conn` is a live connection; `der_out` and `len_out` are writable.
#[no_mangle]
pub unsafe extern "C" fn tls_conn_peer_certificate(
    conn: *const tls_conn,
    index: usize,
    der_out: *mut *const u8,
    len_out: *mut usize,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let conn = unsafe { conn_ref(conn)? };
        if der_out.is_null() || len_out.is_null() {
            return Err(Failure::null("der_out or len_out"));
        }
        let certificate = conn
            .peer_certificates()
            .and_then(|chain| chain.get(index))
            .ok_or_else(|| {
                Failure::new(
                    tls_result::InvalidArgument,
                    format!("no peer certificate at index {index}"),
                )
            })?;
        // SAFETY: both checked non-NULL; writable by the caller's promise.
        unsafe {
            der_out.write(certificate.as_ptr());
            len_out.write(certificate.len());
        }
        Ok(())
    })
}
