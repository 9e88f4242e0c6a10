//! Connections in the C ABI: bytes in and out, no sockets.

use std::ffi::c_char;

use super::context::context;
use super::{
    boundary, boundary_value, bytes_arg, bytes_out, str_arg, tls_result, write_out, Failure,
};
use crate::config::Role;
use crate::connection::Connection;

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
/// many were taken (offer the rest again later). Plaintext that arrived can then be read with
/// [`tls_conn_read`]; TLS bytes to send back are announced by [`tls_conn_wants_write`].
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

/// Queues a close_notify alert; write it out with [`tls_conn_write_tls`]. No plaintext can be
/// written afterwards. During the handshake the alert is held until the handshake ends (it can
/// only be sent encrypted with the traffic keys); a handshake abandoned meanwhile sends none.
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
