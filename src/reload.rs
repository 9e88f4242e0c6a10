//! A context that replaces its generation when its files change, without disturbing what it
//! serves.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;

use crate::config::TlsConfig;
use crate::context::{Context, Lineage};
use crate::error::Error;
use crate::material::Inputs;
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
}

/// A context whose current generation can be replaced while connections use older ones.
///
/// [`current`](Self::current) is a lock-free load of the current generation.
/// [`reload`](Self::reload) builds the next generation completely before swapping it in; on any
/// error the current one stays. Each generation is freed when its last connection or handle lets go of it, which
/// [`live_generations`](Self::live_generations) makes visible.
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
    /// Serialises reloads, manual and the watcher's.
    reloading: Mutex<()>,
    /// The reload statistics, locked only briefly.
    reloads: Mutex<ReloadStats>,
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
            reloading: Mutex::new(()),
            reloads: Mutex::new(ReloadStats {
                last_swap: Some(SystemTime::now()),
                ..Default::default()
            }),
        });
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

    pub(crate) fn reload(&self) -> Result<ReloadOutcome, Error> {
        // One reload at a time; readers of the statistics do not wait for the file reads.
        let _serialised = self
            .reloading
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let current = self.current.load_full();
        let built = Inputs::read(&self.config).and_then(|inputs| {
            if inputs.digest() == *current.digest() {
                return Ok(None);
            }
            let generation = current.generation() + 1;
            Context::build(&self.config, &inputs, generation, &self.lineage).map(Some)
        });

        let mut stats = self.stats();
        match built {
            Ok(Some(next)) => {
                let generation = next.generation();
                log_generation(&self.config, &next, "reload swapped");
                self.current.store(Arc::new(next));
                stats.swapped += 1;
                stats.last_error = None;
                stats.last_swap = Some(SystemTime::now());
                Ok(ReloadOutcome::Swapped { generation })
            }
            Ok(None) => {
                tracing::debug!(generation = current.generation(), "reload unchanged");
                stats.unchanged += 1;
                stats.last_error = None;
                Ok(ReloadOutcome::Unchanged)
            }
            Err(err) => {
                let message = err.to_string();
                // A watcher polling files that stay bad reports the same failure once, not at
                // every poll.
                if stats.last_error.as_deref() != Some(message.as_str()) {
                    tracing::warn!(
                        path = err.path().map(|path| tracing::field::display(path.display())),
                        generation = current.generation(),
                        error = %message,
                        "reload failed; keeping the current generation"
                    );
                }
                stats.failed += 1;
                stats.last_error = Some(message);
                Err(err)
            }
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
