//! Reference-counted, hot-reloadable rustls TLS contexts for long-running servers.
//!
//! A [`Context`] is one immutable generation of a server or client TLS configuration, loaded
//! from certificate and key files and checked completely at load time. A [`ReloadingContext`]
//! holds the current generation and replaces it atomically when the files change, keeping the
//! current one when the new files are bad. A [`Connection`] holds its own reference to the
//! generation it started on, so each old generation is freed when its last connection ends.
//!
//! The same API is offered to C through [`ffi`] (header `include/tlsctx.h`) and to Java through
//! the JNI functions of the `jni` module (package `org.tlsctx`).

#![cfg_attr(test, allow(clippy::unwrap_used))]

mod config;
mod connection;
mod context;
mod error;
mod keys;
mod material;
mod pkcs12;
mod properties;
mod reload;
mod watch;

pub mod ffi;
mod jni;
mod jni_log;

pub use config::{ClientAuth, Role, Source, TlsConfig, Versions};
pub use connection::{flags, Connection, Step, MAX_RECORD_PLAINTEXT};
pub use context::{live_generations, Context};
pub use error::Error;
pub use material::LeafInfo;
pub use reload::{
    ReloadAttempt, ReloadListener, ReloadOutcome, ReloadReport, ReloadStats, ReloadingContext,
    DEFAULT_EXPIRY_WARNING,
};
pub use watch::WatchOptions;
