//! The C ABI: configuration builders, context handles, reloading contexts and connections.
//!
//! Every exported function runs behind a panic boundary, checks its pointer arguments first
//! (NULL is [`tls_result::NullArgument`]), writes its out-parameters only on success, and on
//! failure leaves a message naming the file and the problem for [`tls_last_error`].
#![allow(non_camel_case_types)]

mod config;
mod connection;
mod context;
mod handle;

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{self, AssertUnwindSafe};

pub use config::*;
pub(crate) use config::{client_auth_from, set_material, versions_from_mask};
pub use connection::*;
pub use context::*;
pub(crate) use context::{context, reloader, CONTEXTS, RELOADERS};
pub(crate) use handle::HandleTable;

use crate::error::Error;

/// The result of every fallible tlsctx function. 0 is success; the hundreds group the causes:
/// 1xx arguments and handles, 2xx certificate and key material, 3xx TLS.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tls_result {
    /// Success.
    Ok = 0,
    /// A required pointer argument was NULL.
    NullArgument = 100,
    /// An argument is invalid (not UTF-8, not a valid name, out of range).
    InvalidArgument = 101,
    /// A handle was released already or was never issued.
    InvalidHandle = 102,
    /// A server context was used for a client connection or the reverse.
    WrongRole = 103,
    /// An internal error was caught at the boundary; the process is intact.
    Panic = 104,
    /// The connection's state does not allow the call.
    InvalidState = 105,
    /// A caller-provided buffer is too small for the value.
    BufferTooSmall = 106,
    /// A file named in the configuration does not exist.
    FileNotFound = 200,
    /// A file exists but cannot be read.
    FileUnreadable = 201,
    /// A file is empty.
    FileEmpty = 202,
    /// A PEM block is malformed or truncated, the file is neither PEM nor DER, or the key or
    /// PKCS#12 structure inside is malformed or truncated.
    MalformedPem = 203,
    /// The certificate file holds no certificate.
    NoCertificate = 204,
    /// The key file holds no private key.
    NoPrivateKey = 205,
    /// The key file holds more than one private key.
    MultiplePrivateKeys = 206,
    /// The key is encrypted and no password was given.
    KeyEncrypted = 207,
    /// The password does not decrypt the key.
    WrongPassword = 208,
    /// The key's encryption scheme is not supported.
    UnsupportedEncryption = 209,
    /// The key's type or parameters are not supported.
    UnsupportedKey = 210,
    /// The private key does not match the leaf certificate.
    KeyMismatch = 211,
    /// A certificate cannot be parsed.
    InvalidCertificate = 212,
    /// The configuration is incomplete or contradictory.
    InvalidConfig = 213,
    /// The leaf certificate has expired.
    CertificateExpired = 214,
    /// The leaf certificate is not valid yet.
    CertificateNotYetValid = 215,
    /// A TLS protocol error: a malformed or unexpected message, an alert, a failed verification.
    TlsProtocol = 300,
}

impl From<&Error> for tls_result {
    fn from(err: &Error) -> Self {
        match err {
            Error::FileNotFound { .. } => tls_result::FileNotFound,
            Error::FileUnreadable { .. } => tls_result::FileUnreadable,
            Error::FileEmpty { .. } => tls_result::FileEmpty,
            Error::MalformedPem { .. } => tls_result::MalformedPem,
            Error::NoCertificate { .. } => tls_result::NoCertificate,
            Error::NoPrivateKey { .. } => tls_result::NoPrivateKey,
            Error::MultiplePrivateKeys { .. } => tls_result::MultiplePrivateKeys,
            Error::KeyEncrypted { .. } => tls_result::KeyEncrypted,
            Error::WrongPassword { .. } => tls_result::WrongPassword,
            Error::UnsupportedEncryption { .. } => tls_result::UnsupportedEncryption,
            Error::UnsupportedKey { .. } => tls_result::UnsupportedKey,
            Error::KeyMismatch { .. } => tls_result::KeyMismatch,
            Error::InvalidCertificate { .. } => tls_result::InvalidCertificate,
            Error::CertificateExpired { .. } => tls_result::CertificateExpired,
            Error::CertificateNotYetValid { .. } => tls_result::CertificateNotYetValid,
            Error::InvalidConfig(_) => tls_result::InvalidConfig,
            Error::Tls(_) => tls_result::TlsProtocol,
            Error::InvalidState(_) => tls_result::InvalidState,
            Error::MalformedKey { .. } => tls_result::MalformedPem,
        }
    }
}

/// A failed call: its result code and the message for [`tls_last_error`].
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) code: tls_result,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(code: tls_result, message: impl Into<String>) -> Self {
        Failure {
            code,
            message: message.into(),
        }
    }

    pub(crate) fn null(argument: &str) -> Self {
        Failure::new(
            tls_result::NullArgument,
            format!("argument `{argument}` is NULL"),
        )
    }

    pub(crate) fn invalid_handle(kind: &str, handle: u64) -> Self {
        Failure::new(
            tls_result::InvalidHandle,
            format!("{kind} handle {handle:#x} was released or never issued"),
        )
    }
}

impl From<Error> for Failure {
    fn from(err: Error) -> Self {
        Failure {
            code: tls_result::from(&err),
            message: err.to_string(),
        }
    }
}

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // An interior NUL cannot come from our messages, but a path could hold one.
    let message = CString::new(message.replace('\0', "\\0")).unwrap_or_default();
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// Describes a caught panic without assuming its payload type.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    let detail = payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("internal error (caught at the API boundary): {detail}")
}

/// Runs an exported function's body: a panic becomes [`tls_result::Panic`] and every failure
/// leaves its message for [`tls_last_error`].
pub(crate) fn boundary(body: impl FnOnce() -> Result<(), Failure>) -> tls_result {
    match panic::catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => tls_result::Ok,
        Ok(Err(failure)) => {
            set_last_error(&failure.message);
            failure.code
        }
        Err(payload) => {
            set_last_error(&panic_message(payload.as_ref()));
            tls_result::Panic
        }
    }
}

/// Runs a body that returns a plain value, turning a panic into `fallback`.
pub(crate) fn boundary_value<T>(fallback: T, body: impl FnOnce() -> T) -> T {
    panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|payload| {
        set_last_error(&panic_message(payload.as_ref()));
        fallback
    })
}

/// Borrows a NUL-terminated UTF-8 string argument.
///
/// # Safety
///
/// `ptr` is NULL or points to a NUL-terminated string valid for the call.
pub(crate) unsafe fn str_arg<'a>(ptr: *const c_char, name: &str) -> Result<&'a str, Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL, and the caller promises a NUL-terminated string alive for the call.
    let bytes = unsafe { CStr::from_ptr(ptr) };
    bytes.to_str().map_err(|_| {
        Failure::new(
            tls_result::InvalidArgument,
            format!("argument `{name}` is not UTF-8"),
        )
    })
}

/// Borrows a byte buffer argument; NULL is accepted when `len` is 0.
///
/// # Safety
///
/// `ptr` is NULL or valid for reads of `len` bytes for the call.
pub(crate) unsafe fn bytes_arg<'a>(
    ptr: *const u8,
    len: usize,
    name: &str,
) -> Result<&'a [u8], Failure> {
    if len == 0 {
        return Ok(&[]);
    }
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and valid for `len` bytes by the caller's promise.
    Ok(unsafe { std::slice::from_raw_parts(ptr, len) })
}

/// Borrows a writable byte buffer argument; NULL is accepted when `len` is 0.
///
/// # Safety
///
/// `ptr` is NULL or valid for writes of `len` bytes for the call, and not aliased.
pub(crate) unsafe fn bytes_out<'a>(
    ptr: *mut u8,
    len: usize,
    name: &str,
) -> Result<&'a mut [u8], Failure> {
    if len == 0 {
        return Ok(&mut []);
    }
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL, valid for `len` writable bytes and unaliased by the caller's promise.
    Ok(unsafe { std::slice::from_raw_parts_mut(ptr, len) })
}

/// Writes an out-parameter after checking it is not NULL.
///
/// # Safety
///
/// `ptr` is NULL or valid for a write of `T`.
pub(crate) unsafe fn write_out<T>(ptr: *mut T, value: T, name: &str) -> Result<(), Failure> {
    if ptr.is_null() {
        return Err(Failure::null(name));
    }
    // SAFETY: non-NULL and writable by the caller's promise.
    unsafe { ptr.write(value) };
    Ok(())
}

/// Copies `text` and a terminating NUL into a caller's buffer, reporting the length without
/// the NUL. A buffer that is too small is [`tls_result::BufferTooSmall`] and receives nothing.
///
/// # Safety
///
/// As [`bytes_out`] for `buf`/`len` and [`write_out`] for `out_len`.
pub(crate) unsafe fn copy_text(
    text: &str,
    buf: *mut c_char,
    len: usize,
    out_len: *mut usize,
) -> Result<(), Failure> {
    if out_len.is_null() {
        return Err(Failure::null("out_len"));
    }
    // SAFETY: forwarded caller promise on `buf` and `len`.
    let out = unsafe { bytes_out(buf.cast::<u8>(), len, "buf") }?;
    if out.len() < text.len() + 1 {
        return Err(Failure::new(
            tls_result::BufferTooSmall,
            format!(
                "the buffer holds {} bytes; {} are needed",
                out.len(),
                text.len() + 1
            ),
        ));
    }
    out[..text.len()].copy_from_slice(text.as_bytes());
    out[text.len()] = 0;
    // SAFETY: checked non-NULL above; writable by the caller's promise.
    unsafe { out_len.write(text.len()) };
    Ok(())
}

/// The message of the last call on this thread that failed, naming the file and the problem.
///
/// The returned string is owned by tlsctx and stays valid until the next call on this thread
/// that fails. It is empty when no call has failed on this thread. Never NULL.
#[no_mangle]
pub extern "C" fn tls_last_error() -> *const c_char {
    LAST_ERROR.with(|last| last.borrow().as_ptr())
}

/// A short, static description of a result code, for logs. Never NULL; the string lives for the
/// whole process.
#[no_mangle]
pub extern "C" fn tls_result_name(result: u32) -> *const c_char {
    let name: &'static CStr = match result {
        0 => c"ok",
        100 => c"null argument",
        101 => c"invalid argument",
        102 => c"invalid handle",
        103 => c"wrong role",
        104 => c"internal error",
        105 => c"invalid state",
        106 => c"buffer too small",
        200 => c"file not found",
        201 => c"file unreadable",
        202 => c"file empty",
        203 => c"malformed PEM",
        204 => c"no certificate",
        205 => c"no private key",
        206 => c"multiple private keys",
        207 => c"key encrypted",
        208 => c"wrong password",
        209 => c"unsupported encryption",
        210 => c"unsupported key",
        211 => c"key mismatch",
        212 => c"invalid certificate",
        213 => c"invalid configuration",
        214 => c"certificate expired",
        215 => c"certificate not yet valid",
        300 => c"TLS protocol error",
        _ => c"unknown result",
    };
    name.as_ptr()
}
