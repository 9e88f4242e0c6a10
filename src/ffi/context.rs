//! Context handles and reloading contexts in the C ABI.

use std::ffi::c_char;
use std::sync::Arc;
use std::time::Duration;

use super::{
    boundary, boundary_value, copy_text, tls_config, tls_result, write_out, Failure, HandleTable,
};
use crate::context::{self, Context};
use crate::material::LeafInfo;
use crate::reload::{ReloadAttempt, ReloadOutcome, ReloadReport, ReloadingContext};
use crate::watch::WatchOptions;

pub(crate) static CONTEXTS: HandleTable<Context> = HandleTable::new();
pub(crate) static RELOADERS: HandleTable<ReloadingContext> = HandleTable::new();

pub(crate) fn context(handle: u64) -> Result<Arc<Context>, Failure> {
    CONTEXTS
        .get(handle)
        .ok_or_else(|| Failure::invalid_handle("context", handle))
}

pub(crate) fn reloader(handle: u64) -> Result<Arc<ReloadingContext>, Failure> {
    RELOADERS
        .get(handle)
        .ok_or_else(|| Failure::invalid_handle("reloading context", handle))
}

/// Borrows a configuration for reading.
///
/// # Safety
///
/// `config` is NULL or a live pointer from `tls_config_new`.
unsafe fn config_ref<'a>(config: *const tls_config) -> Result<&'a tls_config, Failure> {
    // SAFETY: the caller's promise; as_ref turns NULL into None.
    unsafe { config.as_ref() }.ok_or_else(|| Failure::null("config"))
}

/// Loads one immutable context generation from the files `config` names.
///
/// On success `*handle_out` receives a new handle with one reference, owned by the caller and
/// given back with [`tls_ctx_release`]. The configuration is copied and may be freed right away.
/// The files are read and checked now: a missing or malformed file, or a key that does not match
/// the certificate, fails here with a message naming the file (see `tls_last_error`).
///
/// # Safety
///
/// `config` is a live configuration; `handle_out` a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_ctx_load(
    config: *const tls_config,
    handle_out: *mut u64,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let config = unsafe { config_ref(config)? };
        if handle_out.is_null() {
            return Err(Failure::null("handle_out"));
        }
        let loaded = Context::load(&config.0)?;
        let handle = CONTEXTS.insert(loaded);
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(handle_out, handle, "handle_out") }
    })
}

/// Adds one reference to a context handle; each must be matched by a [`tls_ctx_release`].
///
/// A handle that was already released, or never issued, is [`tls_result::InvalidHandle`], even
/// when its slot has been reused for another context.
#[no_mangle]
pub extern "C" fn tls_ctx_acquire(handle: u64) -> tls_result {
    boundary(|| {
        if CONTEXTS.acquire(handle) {
            Ok(())
        } else {
            Err(Failure::invalid_handle("context", handle))
        }
    })
}

/// Drops one reference to a context handle. The last release retires the handle; the context
/// itself is freed once no connection made from it is alive either.
///
/// Releasing a handle that was already retired, or never issued, is
/// [`tls_result::InvalidHandle`] and changes nothing: never a double free.
#[no_mangle]
pub extern "C" fn tls_ctx_release(handle: u64) -> tls_result {
    boundary(|| match CONTEXTS.release(handle) {
        Some(_) => Ok(()),
        None => Err(Failure::invalid_handle("context", handle)),
    })
}

/// What identifies a context generation and its leaf certificate.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct tls_ctx_info {
    /// 1 for the first load, one more for each reload that swapped.
    pub generation: u64,
    /// The leaf's notBefore, seconds since the epoch; 0 without a certificate.
    pub not_before: i64,
    /// The leaf's notAfter, seconds since the epoch; 0 without a certificate.
    pub not_after: i64,
    /// Lowercase hex SHA-256 of the leaf's DER, NUL-terminated; empty without a certificate.
    pub fingerprint: [c_char; 65],
    /// The leaf's serial number, lowercase hex without leading zeros, NUL-terminated (truncated
    /// past 64 digits); empty without a certificate.
    pub serial: [c_char; 65],
}

fn ctx_info(generation: u64, leaf: Option<&LeafInfo>) -> tls_ctx_info {
    let mut info = tls_ctx_info {
        generation,
        not_before: 0,
        not_after: 0,
        fingerprint: [0; 65],
        serial: [0; 65],
    };
    if let Some(leaf) = leaf {
        info.not_before = leaf.not_before;
        info.not_after = leaf.not_after;
        fill(&mut info.fingerprint, &leaf.fingerprint);
        fill(&mut info.serial, &leaf.serial);
    }
    info
}

fn fill(field: &mut [c_char; 65], text: &str) {
    for (slot, byte) in field.iter_mut().zip(text.bytes().take(64)) {
        *slot = byte as c_char;
    }
}

/// Describes the context behind `handle`: generation, validity, fingerprint and serial.
///
/// # Safety
///
/// `info_out` is a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_ctx_info_get(handle: u64, info_out: *mut tls_ctx_info) -> tls_result {
    boundary(|| {
        let context = context(handle)?;
        let info = ctx_info(context.generation(), context.leaf());
        // SAFETY: the caller's promise.
        unsafe { write_out(info_out, info, "info_out") }
    })
}

/// Copies the leaf certificate's subject (RFC 4514) into `buf` with a terminating NUL and stores
/// its length without the NUL in `*len_out`. A buffer that is too small is
/// [`tls_result::BufferTooSmall`]; a context without a certificate gives an empty string.
///
/// # Safety
///
/// `buf` is writable for `len` bytes; `len_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn tls_ctx_subject(
    handle: u64,
    buf: *mut c_char,
    len: usize,
    len_out: *mut usize,
) -> tls_result {
    boundary(|| {
        let context = context(handle)?;
        let subject = context
            .leaf()
            .map(|leaf| leaf.subject.as_str())
            .unwrap_or_default();
        // SAFETY: forwarded caller promises.
        unsafe { copy_text(subject, buf, len, len_out) }
    })
}

/// Context generations alive in the whole process: every generation not yet freed, of every
/// reloading context and every context loaded on its own.
#[no_mangle]
pub extern "C" fn tls_live_generations() -> u64 {
    boundary_value(0, || context::live_generations() as u64)
}

/// The outcome of a successful [`tls_reloader_reload`].
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tls_reload_outcome {
    /// A new generation was built and swapped in.
    Swapped = 0,
    /// The files hold the same bytes as the current generation; nothing was built.
    Unchanged = 1,
}

/// Creates a reloading context and loads its first generation from `config` now.
///
/// With a non-zero `poll_interval_ms` a watcher thread is started, as by
/// [`tls_reloader_new_with_watch`] with the default quiet period of 200 ms. With zero there is no
/// watcher and the files are read again only by [`tls_reloader_reload`]. On success
/// `*reloader_out` receives a handle owned by the caller, to be given back with
/// [`tls_reloader_free`]. The configuration is copied and may be freed right away.
///
/// # Safety
///
/// `config` is a live configuration; `reloader_out` a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_reloader_new(
    config: *const tls_config,
    poll_interval_ms: u64,
    reloader_out: *mut u64,
) -> tls_result {
    let debounce_ms = WatchOptions::default().debounce().as_millis() as u64;
    // SAFETY: the caller's promises are this function's.
    unsafe { tls_reloader_new_with_watch(config, poll_interval_ms, debounce_ms, reloader_out) }
}

/// Creates a reloading context whose watcher reloads when the files change.
///
/// The watcher thread listens for file events in the directories that hold the configured files
/// and the targets of their symbolic links (so a rename over a file, an in-place write and a
/// Kubernetes `..data` symlink swap are all seen). After an event it waits until no further event
/// has come for `debounce_ms` milliseconds, then reads every file and swaps in a new generation
/// if, and only if, the content changed and the new files load completely. Besides, it compares
/// the content every `poll_interval_ms` milliseconds, so a lost event costs at most one
/// interval. A reload that fails keeps the current generation; its message is available from
/// [`tls_reloader_last_error`] until a later reload succeeds.
///
/// `poll_interval_ms` zero means no watcher at all (`debounce_ms` is then ignored). On success
/// `*reloader_out` receives a handle owned by the caller, to be given back with
/// [`tls_reloader_free`], which stops the watcher and waits for its thread to end. The
/// configuration is copied and may be freed right away.
///
/// # Safety
///
/// `config` is a live configuration; `reloader_out` a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_reloader_new_with_watch(
    config: *const tls_config,
    poll_interval_ms: u64,
    debounce_ms: u64,
    reloader_out: *mut u64,
) -> tls_result {
    boundary(|| {
        // SAFETY: forwarded caller promise.
        let config = unsafe { config_ref(config)? }.0.clone();
        if reloader_out.is_null() {
            return Err(Failure::null("reloader_out"));
        }
        let reloading = match poll_interval_ms {
            0 => ReloadingContext::new(config)?,
            ms => ReloadingContext::watching(
                config,
                WatchOptions::default()
                    .with_poll_interval(Duration::from_millis(ms))
                    .with_debounce(Duration::from_millis(debounce_ms)),
            )?,
        };
        let handle = RELOADERS.insert(Arc::new(reloading));
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(reloader_out, handle, "reloader_out") }
    })
}

/// Acquires the current generation: `*handle_out` receives a new context handle with one
/// reference, which keeps that generation alive after later reloads until it is released with
/// [`tls_ctx_release`].
///
/// # Safety
///
/// `handle_out` is a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_reloader_current(reloader: u64, handle_out: *mut u64) -> tls_result {
    boundary(|| {
        let current = self::reloader(reloader)?.current();
        if handle_out.is_null() {
            return Err(Failure::null("handle_out"));
        }
        let handle = CONTEXTS.insert(current);
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(handle_out, handle, "handle_out") }
    })
}

/// Reloads from the same files now. On success `*outcome_out` tells whether a new generation
/// was swapped in or the content was unchanged. On failure the current generation stays and
/// keeps serving; the message names the file and the problem.
///
/// # Safety
///
/// `outcome_out` is a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_reloader_reload(
    reloader: u64,
    outcome_out: *mut tls_reload_outcome,
) -> tls_result {
    boundary(|| {
        if outcome_out.is_null() {
            return Err(Failure::null("outcome_out"));
        }
        let outcome = match self::reloader(reloader)?.reload()? {
            ReloadOutcome::Swapped { .. } => tls_reload_outcome::Swapped,
            ReloadOutcome::Unchanged => tls_reload_outcome::Unchanged,
        };
        // SAFETY: checked non-NULL; writable by the caller's promise.
        unsafe { write_out(outcome_out, outcome, "outcome_out") }
    })
}

/// Stores in `*count_out` how many generations of this reloading context are alive: the current
/// one plus every older one still held by a connection or a context handle.
///
/// # Safety
///
/// `count_out` is a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_reloader_live_generations(
    reloader: u64,
    count_out: *mut u64,
) -> tls_result {
    boundary(|| {
        let live = self::reloader(reloader)?.live_generations() as u64;
        // SAFETY: the caller's promise.
        unsafe { write_out(count_out, live, "count_out") }
    })
}

/// Copies the message of the most recent failed reload (by [`tls_reloader_reload`] or the
/// watcher) into `buf`, as [`tls_ctx_subject`] does; empty when the latest reload succeeded.
///
/// # Safety
///
/// `buf` is writable for `len` bytes; `len_out` is writable.
#[no_mangle]
pub unsafe extern "C" fn tls_reloader_last_error(
    reloader: u64,
    buf: *mut c_char,
    len: usize,
    len_out: *mut usize,
) -> tls_result {
    boundary(|| {
        let message = self::reloader(reloader)?
            .stats()
            .last_error
            .unwrap_or_default();
        // SAFETY: forwarded caller promises.
        unsafe { copy_text(&message, buf, len, len_out) }
    })
}

/// Stops the watcher (joining its thread) and frees the reloading context. Generations still
/// held by connections or context handles live on until those let go.
///
/// Freeing a handle twice, or one never issued, is [`tls_result::InvalidHandle`].
#[no_mangle]
pub extern "C" fn tls_reloader_free(reloader: u64) -> tls_result {
    boundary(|| match RELOADERS.release(reloader) {
        Some(_) => Ok(()),
        None => Err(Failure::invalid_handle("reloading context", reloader)),
    })
}

/// What one reload attempt did, in a [`tls_reload_report`].
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum tls_reload_attempt {
    /// A new generation was built and is now current.
    Swapped = 0,
    /// The files were unchanged; nothing was built.
    Unchanged = 1,
    /// The files could not be loaded; the current generation stays.
    Failed = 2,
}

/// The report a reload listener receives after each reload attempt.
#[repr(C)]
#[derive(Debug)]
pub struct tls_reload_report {
    /// A [`tls_reload_attempt`] value.
    pub attempt: u32,
    /// The current generation after the attempt, with its leaf certificate.
    pub current: tls_ctx_info,
    /// When the attempt failed: the message naming the file and the problem, NUL-terminated and
    /// valid only during the callback. NULL otherwise.
    pub error: *const c_char,
}

/// A reload listener: called with the `userdata` given to [`tls_reloader_set_listener`] and a
/// report that is valid only during the call.
pub type tls_reload_callback =
    Option<unsafe extern "C" fn(userdata: *mut std::ffi::c_void, report: *const tls_reload_report)>;

/// The caller's userdata pointer, which the C caller promises may be used from the watcher
/// thread.
struct Userdata(*mut std::ffi::c_void);

impl Userdata {
    /// The pointer; a method, so closures capture the whole (Send) wrapper, not its field.
    fn pointer(&self) -> *mut std::ffi::c_void {
        self.0
    }
}

// SAFETY: tls_reloader_set_listener documents that the callback and its userdata are used from
// whichever thread reloads; the C caller takes on that promise.
unsafe impl Send for Userdata {}
// SAFETY: as for Send; tlsctx never dereferences the pointer, it only hands it back.
unsafe impl Sync for Userdata {}

/// Sets the function called after every reload attempt of this reloading context (manual or by
/// the watcher), replacing any earlier one; a NULL `callback` removes it.
///
/// The callback runs on the thread that reloaded, the watcher's or the caller of
/// [`tls_reloader_reload`], while further reloads wait: it must be quick, must not call
/// [`tls_reloader_reload`] or [`tls_reloader_free`] on this reloading context, and must accept
/// `userdata` from any thread. `userdata` is passed back untouched and never freed by tlsctx.
///
/// # Safety
///
/// `callback` is NULL or a function that can be called with `userdata` from any thread until
/// the listener is replaced or the reloading context freed.
#[no_mangle]
pub unsafe extern "C" fn tls_reloader_set_listener(
    reloader: u64,
    callback: tls_reload_callback,
    userdata: *mut std::ffi::c_void,
) -> tls_result {
    boundary(|| {
        let reloading = self::reloader(reloader)?;
        let Some(callback) = callback else {
            reloading.set_listener(None);
            return Ok(());
        };
        let userdata = Userdata(userdata);
        reloading.set_listener(Some(Arc::new(move |report: &ReloadReport| {
            let error = report.error.as_ref().map(|message| {
                std::ffi::CString::new(message.replace('\0', "\\0")).unwrap_or_default()
            });
            let report = tls_reload_report {
                attempt: match report.attempt {
                    ReloadAttempt::Swapped => tls_reload_attempt::Swapped,
                    ReloadAttempt::Unchanged => tls_reload_attempt::Unchanged,
                    ReloadAttempt::Failed => tls_reload_attempt::Failed,
                } as u32,
                current: ctx_info(report.generation, report.leaf.as_ref()),
                error: error
                    .as_ref()
                    .map_or(std::ptr::null(), |message| message.as_ptr()),
            };
            // SAFETY: the caller of tls_reloader_set_listener promised the callback may be
            // called with this userdata from any thread; the report outlives the call.
            unsafe { callback(userdata.pointer(), &report) };
        })));
        Ok(())
    })
}

/// A reloading context's figures, from [`tls_reloader_stats`].
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct tls_reload_stats {
    /// Reloads that swapped in a new generation.
    pub swapped: u64,
    /// Reloads that found the files unchanged.
    pub unchanged: u64,
    /// Reloads that failed and kept the current generation.
    pub failed: u64,
    /// The current generation.
    pub generation: u64,
    /// Generations of this reloading context still alive.
    pub live_generations: u64,
    /// When the current generation was swapped in (or first loaded), seconds since the epoch.
    pub last_swap: i64,
    /// The current leaf's notAfter, seconds since the epoch; 0 without a certificate.
    pub not_after: i64,
}

/// Stores the reloading context's figures in `*stats_out`. The last error is read with
/// [`tls_reloader_last_error`].
///
/// # Safety
///
/// `stats_out` is a writable pointer.
#[no_mangle]
pub unsafe extern "C" fn tls_reloader_stats(
    reloader: u64,
    stats_out: *mut tls_reload_stats,
) -> tls_result {
    boundary(|| {
        let reloading = self::reloader(reloader)?;
        let history = reloading.stats();
        let current = reloading.current();
        let stats = tls_reload_stats {
            swapped: history.swapped,
            unchanged: history.unchanged,
            failed: history.failed,
            generation: current.generation(),
            live_generations: reloading.live_generations() as u64,
            last_swap: history.last_swap_unix().unwrap_or(0),
            not_after: current.leaf().map_or(0, |leaf| leaf.not_after),
        };
        // SAFETY: the caller's promise.
        unsafe { write_out(stats_out, stats, "stats_out") }
    })
}
