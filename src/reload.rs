//! A context that replaces its generation when its files change, without disturbing what it
//! serves.

use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use crate::config::TlsConfig;
use crate::context::{Context, Lineage};
use crate::error::Error;
use crate::material::{Inputs, LeafInfo};
use crate::watch::{WatchOptions, Watcher};

/// What a successful reload did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The files changed; a new generation was built and is now current.
    Swapped {
        /// The new generation's number.
        generation: u64,
    },
    /// The files hold the same bytes as the current generation's; nothing was built.
    Unchanged,
}

/// Counters describing a reloading context's history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReloadStats {
    /// Reloads that swapped in a new generation.
    pub swapped: u64,
    /// Reloads that found the files unchanged.
    pub unchanged: u64,
    /// Reloads that failed and kept the current generation.
    pub failed: u64,
    /// The message of the most recent failure, kept until the next successful reload.
    pub last_error: Option<String>,
    /// When the current generation was swapped in (or first loaded).
    pub last_swap: Option<SystemTime>,
    /// Content checks the watcher made, including those that found nothing new (which are
    /// neither counted above nor reported to the listener).
    pub checks: u64,
}

/// What one reload attempt did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReloadAttempt {
    /// A new generation was built and is now current.
    Swapped,
    /// The files were unchanged; nothing was built.
    Unchanged,
    /// The files could not be loaded; the current generation stays.
    Failed,
}

/// The report a [listener](ReloadingContext::set_listener) receives after each reload attempt,
/// manual or the watcher's.
#[derive(Clone, Debug)]
pub struct ReloadReport {
    /// What the attempt did.
    pub attempt: ReloadAttempt,
    /// The current generation after the attempt: the new one when swapped.
    pub generation: u64,
    /// The current generation's leaf certificate, if it has one.
    pub leaf: Option<LeafInfo>,
    /// The failure's message (naming the file and the problem) when the attempt failed.
    pub error: Option<String>,
}

/// A function told about every reload attempt. It runs on the thread that reloaded (the
/// watcher's, or the caller of [`ReloadingContext::reload`]) while reloads are held back, so it
/// must be quick and must not reload itself.
pub type ReloadListener = Arc<dyn Fn(&ReloadReport) + Send + Sync>;

thread_local! {
    /// Set while this thread runs a reload listener, which must not reload (it would wait on
    /// itself).
    static IN_LISTENER: Cell<bool> = const { Cell::new(false) };
}

/// How long before a leaf expires a warning is logged, unless configured otherwise.
pub const DEFAULT_EXPIRY_WARNING: Duration = Duration::from_secs(14 * 24 * 60 * 60);

impl ReloadStats {
    /// [`last_swap`](Self::last_swap) in seconds since the Unix epoch, for C and Java.
    pub fn last_swap_unix(&self) -> Option<i64> {
        let since = self
            .last_swap?
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()?;
        Some(since.as_secs() as i64)
    }
}

/// A context whose current generation can be replaced while connections use older ones.
///
/// [`current`](Self::current) is a lock-free load of the current generation.
/// [`reload`](Self::reload) builds the next generation completely before swapping it in; on any
/// error the current one stays. Each generation is freed when its last connection or handle lets
/// go of it, which [`live_generations`](Self::live_generations) makes visible.
///
/// Dropping a reloading context stops its watcher: the file events are released and the
/// thread is joined.
pub struct ReloadingContext {
    shared: Arc<Shared>,
    watcher: Option<Watcher>,
}

pub(crate) struct Shared {
    config: TlsConfig,
    lineage: Lineage,
    current: ArcSwap<Context>,
    /// Serialises reloads, manual and the watcher's; holds the digest of the last inputs that
    /// failed to build.
    reloading: Mutex<Option<[u8; 32]>>,
    /// Keeps listener reports in the order of their reloads.
    reporting: Mutex<()>,
    /// The reload statistics, locked only briefly.
    reloads: Mutex<ReloadStats>,
    listener: Mutex<Option<ReloadListener>>,
    /// The last generation whose coming expiry was logged, so it is logged once.
    expiry_warned: AtomicU64,
}

impl ReloadingContext {
    /// Loads the first generation and returns a reloading context without a watcher.
    ///
    /// # Errors
    ///
    /// The same as [`Context::load`]: a reloading context never starts without a valid
    /// generation.
    pub fn new(config: TlsConfig) -> Result<Self, Error> {
        let lineage = Lineage::new()?;
        let inputs = Inputs::read(&config)?;
        let first = Context::build(&config, &inputs, 1, &lineage)?;
        log_generation(&config, &first, "context loaded");
        let shared = Arc::new(Shared {
            config,
            lineage,
            current: ArcSwap::from_pointee(first),
            reloading: Mutex::new(None),
            reporting: Mutex::new(()),
            reloads: Mutex::new(ReloadStats {
                last_swap: Some(SystemTime::now()),
                ..Default::default()
            }),
            listener: Mutex::new(None),
            expiry_warned: AtomicU64::new(0),
        });
        shared.warn_if_expiring();
        Ok(ReloadingContext {
            shared,
            watcher: None,
        })
    }

    /// Like [`new`](Self::new), and starts a watcher with [`WatchOptions::default`] except for the
    /// poll interval, which is `interval`.
    ///
    /// # Errors
    ///
    /// As [`watching`](Self::watching).
    pub fn with_polling(config: TlsConfig, interval: Duration) -> Result<Self, Error> {
        Self::watching(config, WatchOptions::default().with_poll_interval(interval))
    }

    /// Like [`new`](Self::new), and starts a watcher thread that reloads when the files change.
    ///
    /// The watcher listens for file events in the directories holding the configured files and
    /// the targets of their symbolic links, so a rename over a file, a delete and re-create, an
    /// in-place write and a Kubernetes `..data` symlink swap are all seen. After an event it waits
    /// until no further event has come for [`WatchOptions::debounce`], so a rotation that writes
    /// several files is read whole. Independently of events it compares the files' content every
    /// [`WatchOptions::poll_interval`], so an event that is lost (on a network file system, or
    /// when a watched directory is replaced) costs at most one interval. Content decides, never
    /// modification times: a reload that finds the same bytes reports
    /// [`ReloadOutcome::Unchanged`], and one that fails keeps the current generation and records
    /// [`ReloadStats::last_error`] until a later change is consistent.
    ///
    /// # Errors
    ///
    /// As [`new`](Self::new); also [`Error::InvalidConfig`] when the thread cannot be started.
    /// Failing to set up file events is not an error: the watcher then relies on the periodic
    /// check alone and logs a warning.
    pub fn watching(config: TlsConfig, options: WatchOptions) -> Result<Self, Error> {
        let mut reloading = Self::new(config)?;
        reloading.watcher = Some(Watcher::start(reloading.shared.clone(), options)?);
        Ok(reloading)
    }

    /// The current generation. The caller's `Arc` keeps it alive after later reloads.
    pub fn current(&self) -> Arc<Context> {
        self.shared.current.load_full()
    }

    /// Builds the next generation from the same configuration and swaps it in when complete.
    ///
    /// # Errors
    ///
    /// Any loading error; the current generation stays and the message is kept as
    /// [`ReloadStats::last_error`].
    pub fn reload(&self) -> Result<ReloadOutcome, Error> {
        self.shared.reload()
    }

    /// Generations of this reloading context still alive: the current one plus every older one
    /// that a connection or handle still holds.
    pub fn live_generations(&self) -> usize {
        self.shared.lineage.live()
    }

    /// A snapshot of the reload counters and the last error.
    pub fn stats(&self) -> ReloadStats {
        self.shared.stats().clone()
    }

    /// The configuration every generation is built from.
    pub fn config(&self) -> &TlsConfig {
        &self.shared.config
    }

    /// Sets the function told about every later reload attempt (replacing any earlier one), or
    /// removes it with `None`. A panicking listener is caught and logged.
    pub fn set_listener(&self, listener: Option<ReloadListener>) {
        *self
            .shared
            .listener
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = listener;
    }
}

impl Shared {
    /// The configuration every generation is built from.
    pub(crate) fn config(&self) -> &TlsConfig {
        &self.config
    }

    fn stats(&self) -> MutexGuard<'_, ReloadStats> {
        self.reloads
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// A reload asked for by the application: always attempted, counted and reported.
    pub(crate) fn reload(&self) -> Result<ReloadOutcome, Error> {
        match self.attempt(false) {
            Some(outcome) => outcome,
            None => Ok(ReloadOutcome::Unchanged),
        }
    }

    /// The watcher's check: a reload when the files hold something new. The same bytes as the
    /// current generation, or as the last attempt that failed, are neither rebuilt (a bad key's
    /// decryption can be costly) nor counted or reported again.
    pub(crate) fn reload_if_changed(&self) {
        let _ = self.attempt(true);
    }

    fn attempt(&self, only_if_changed: bool) -> Option<Result<ReloadOutcome, Error>> {
        if IN_LISTENER.with(Cell::get) {
            return Some(Err(Error::InvalidState(
                "a reload listener cannot reload the context it listens to",
            )));
        }
        if only_if_changed {
            self.stats().checks += 1;
        }
        // One reload at a time; it guards the digest of the last inputs that failed to build.
        let mut failed_inputs = self
            .reloading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let current = self.current.load_full();
        let built = match Inputs::read(&self.config) {
            Ok(inputs) => {
                let digest = inputs.digest();
                if digest == *current.digest() {
                    *failed_inputs = None;
                    Ok(None)
                } else if only_if_changed && *failed_inputs == Some(digest) {
                    return None;
                } else {
                    let generation = current.generation() + 1;
                    let next = Context::build(&self.config, &inputs, generation, &self.lineage);
                    *failed_inputs = if next.is_err() { Some(digest) } else { None };
                    next.map(Some)
                }
            }
            Err(err) => Err(err),
        };
        if only_if_changed {
            let repeated = match &built {
                Ok(None) => true,
                Err(err) => self.stats().last_error.as_deref() == Some(err.to_string().as_str()),
                Ok(Some(_)) => false,
            };
            if repeated {
                self.warn_if_expiring();
                return None;
            }
        }

        let outcome = self.record(built, &current);
        self.warn_if_expiring();
        // Reports go out in the order of the reloads, but without holding reloads back: the
        // next reload may build while this one is reported.
        let _reporting = self
            .reporting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        drop(failed_inputs);
        self.report(&outcome);
        Some(outcome)
    }

    /// Swaps in a new generation and updates the statistics; logs after releasing them, so a
    /// log handler may read them.
    fn record(
        &self,
        built: Result<Option<Context>, Error>,
        current: &Context,
    ) -> Result<ReloadOutcome, Error> {
        let mut stats = self.stats();
        match built {
            Ok(Some(next)) => {
                let next = Arc::new(next);
                self.current.store(next.clone());
                stats.swapped += 1;
                stats.last_error = None;
                stats.last_swap = Some(SystemTime::now());
                drop(stats);
                log_generation(&self.config, &next, "reload swapped");
                Ok(ReloadOutcome::Swapped {
                    generation: next.generation(),
                })
            }
            Ok(None) => {
                stats.unchanged += 1;
                stats.last_error = None;
                drop(stats);
                log_generation(&self.config, current, "reload unchanged");
                Ok(ReloadOutcome::Unchanged)
            }
            Err(err) => {
                let message = err.to_string();
                // Files that stay bad are reported once, not at every attempt.
                let new_failure = stats.last_error.as_deref() != Some(message.as_str());
                stats.failed += 1;
                stats.last_error = Some(message.clone());
                drop(stats);
                if new_failure {
                    tracing::warn!(
                        path = err.path().map(|path| tracing::field::display(path.display())),
                        generation = current.generation(),
                        fingerprint = current.leaf().map(|leaf| leaf.fingerprint.as_str()),
                        error = %message,
                        "reload failed; keeping the current generation"
                    );
                }
                Err(err)
            }
        }
    }

    /// Tells the listener, if any, what the attempt did.
    fn report(&self, outcome: &Result<ReloadOutcome, Error>) {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        let Some(listener) = listener else { return };
        let current = self.current.load_full();
        let report = ReloadReport {
            attempt: match outcome {
                Ok(ReloadOutcome::Swapped { .. }) => ReloadAttempt::Swapped,
                Ok(ReloadOutcome::Unchanged) => ReloadAttempt::Unchanged,
                Err(_) => ReloadAttempt::Failed,
            },
            generation: current.generation(),
            leaf: current.leaf().cloned(),
            error: outcome.as_ref().err().map(ToString::to_string),
        };
        IN_LISTENER.with(|flag| flag.set(true));
        let called = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| listener(&report)));
        IN_LISTENER.with(|flag| flag.set(false));
        if called.is_err() {
            tracing::error!(
                generation = report.generation,
                "the reload listener panicked"
            );
        }
    }

    /// Logs once per generation when its leaf expires within the configured warning time.
    fn warn_if_expiring(&self) {
        let current = self.current.load();
        let Some(leaf) = current.leaf() else { return };
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_secs() as i64);
        let warning = self.config.expiry_warning.as_secs() as i64;
        if leaf.not_after - now > warning {
            return;
        }
        let generation = current.generation();
        if self.expiry_warned.swap(generation, Ordering::AcqRel) != generation {
            tracing::warn!(
                path = self
                    .config
                    .cert_chain_path()
                    .map(|path| tracing::field::display(path.display())),
                generation,
                fingerprint = leaf.fingerprint.as_str(),
                not_after = leaf.not_after,
                days_left = (leaf.not_after - now) / 86_400,
                "the served certificate expires soon; renew it"
            );
        }
    }
}

fn log_generation(config: &TlsConfig, context: &Context, message: &'static str) {
    let leaf = context.leaf();
    tracing::info!(
        path = config
            .cert_chain_path()
            .map(|path| tracing::field::display(path.display())),
        generation = context.generation(),
        fingerprint = leaf.map(|leaf| leaf.fingerprint.as_str()),
        not_after = leaf.map(|leaf| leaf.not_after),
        "{message}"
    );
}
