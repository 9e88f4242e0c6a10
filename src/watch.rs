//! The watcher behind [`ReloadingContext::watching`](crate::ReloadingContext::watching): file
//! events in the directories that hold the configured files, a quiet period before each reload,
//! and a periodic content check for the events that never arrive.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use notify::event::{AccessKind, AccessMode};
use notify::{EventKind, RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::error::Error;
use crate::reload::Shared;

/// How a watching [`ReloadingContext`](crate::ReloadingContext) notices changed files.
///
/// # Defaults
///
/// - [`with_poll_interval`](Self::with_poll_interval): 1 s. The content of every file is compared this
///   often even without a file event, so a lost event delays a reload by at most this long.
/// - [`with_debounce`](Self::with_debounce): 200 ms. After a file event the watcher waits until no other
///   event has come for this long, so a rotation that writes the key and the certificate one
///   after the other is normally read once, whole.
///
/// A rotation is therefore served within the debounce after its last write when events arrive,
/// and within one poll interval when they do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WatchOptions {
    poll_interval: Duration,
    debounce: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            poll_interval: Duration::from_secs(1),
            debounce: Duration::from_millis(200),
        }
    }
}

impl WatchOptions {
    /// Sets how often the files' content is compared without a file event. A zero interval is
    /// taken as 1 ms.
    pub fn with_poll_interval(mut self, interval: Duration) -> Self {
        self.poll_interval = interval.max(Duration::from_millis(1));
        self
    }

    /// Sets the quiet period after a file event before the files are read. Zero reloads at the
    /// first event.
    pub fn with_debounce(mut self, quiet: Duration) -> Self {
        self.debounce = quiet;
        self
    }

    /// The interval of the periodic content check.
    pub fn poll_interval(&self) -> Duration {
        self.poll_interval
    }

    /// The quiet period after a file event.
    pub fn debounce(&self) -> Duration {
        self.debounce
    }
}

/// What the watcher thread is told.
enum Signal {
    /// Something happened in a watched directory.
    FileEvent,
    /// The reloading context is going away.
    Stop,
}

/// The running watcher: its thread, and the way to stop it.
///
/// Besides this thread, `notify` runs one event thread of its own per watcher (on Linux, around
/// one inotify descriptor); it ends shortly after the watcher is dropped, without being joined.
pub(crate) struct Watcher {
    signals: Sender<Signal>,
    thread: Option<JoinHandle<()>>,
}

impl Watcher {
    /// Starts the watcher thread for `shared`.
    pub(crate) fn start(shared: Arc<Shared>, options: WatchOptions) -> Result<Self, Error> {
        let (signals, received) = mpsc::channel();
        // Armed before returning, so that a change right after creation raises an event.
        let mut directories = Directories::new(signals.clone());
        directories.arm(&shared);
        let thread = std::thread::Builder::new()
            .name("tlsctx-watcher".into())
            .spawn(move || run(&shared, options, directories, received))
            .map_err(|err| {
                Error::InvalidConfig(format!("cannot start the watcher thread: {err}"))
            })?;
        Ok(Watcher {
            signals,
            thread: Some(thread),
        })
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        // A send error means the thread already ended; joining is then immediate.
        let _ = self.signals.send(Signal::Stop);
        if let Some(thread) = self.thread.take() {
            // The last reference may go on the watcher thread itself (a reload listener that
            // frees its context): it stops at its next wake-up, and cannot join itself.
            if thread.thread().id() != std::thread::current().id() {
                let _ = thread.join();
            }
        }
    }
}

/// The watcher thread: reload after a quiet period following file events, and at every poll.
///
/// The file events (`directories`) live and die with this thread, so stopping it releases them.
fn run(
    shared: &Shared,
    options: WatchOptions,
    mut directories: Directories,
    received: Receiver<Signal>,
) {
    let mut next_poll = Instant::now() + options.poll_interval;
    // One check after the first quiet period covers a change made between the first load and
    // the arming of the file events.
    let mut quiet_until = Some(Instant::now() + options.debounce);
    // Events keep pushing the quiet period back, but never past this: a directory that is
    // written to all the time (a log beside the certificates) must not starve the reload.
    let mut settle_by: Option<Instant> = None;
    loop {
        let wake = quiet_until.map_or(next_poll, |quiet| quiet.min(next_poll));
        match received.recv_timeout(wake.saturating_duration_since(Instant::now())) {
            Ok(Signal::FileEvent) => {
                let now = Instant::now();
                let limit = *settle_by.get_or_insert(now + options.debounce * 10);
                quiet_until = Some((now + options.debounce).min(limit));
            }
            Ok(Signal::Stop) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }

        let now = Instant::now();
        let quiet = quiet_until.is_some_and(|quiet| quiet <= now);
        if quiet || next_poll <= now {
            quiet_until = None;
            settle_by = None;
            next_poll = now + options.poll_interval;
            // Outcomes are logged, counted and reported inside; a panic in a dependency while
            // reading a file must not end the watcher.
            let checked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                shared.reload_if_changed();
            }));
            if checked.is_err() {
                tracing::error!("a reload panicked; the watcher keeps the current generation");
            }
            // A rotation may have replaced a watched directory or re-pointed a symbolic link.
            directories.arm(shared);
        }
    }
}

/// The directories under watch, each with the identity it had when its watch was added.
struct Directories {
    /// `None` when file events could not be set up; the periodic check then works alone.
    notify: Option<RecommendedWatcher>,
    watched: BTreeMap<PathBuf, Option<(u64, u64)>>,
}

impl Directories {
    fn new(events: Sender<Signal>) -> Self {
        let handler = move |event: notify::Result<notify::Event>| {
            let relevant = match event {
                // Opening and reading a file, which every reload does, changes nothing.
                Ok(event) => !matches!(
                    event.kind,
                    EventKind::Access(
                        AccessKind::Open(_)
                            | AccessKind::Read
                            | AccessKind::Close(AccessMode::Read | AccessMode::Execute)
                    )
                ),
                // An error may stand for lost events (a full queue): check the files.
                Err(_) => true,
            };
            if relevant {
                let _ = events.send(Signal::FileEvent);
            }
        };
        let notify = notify::recommended_watcher(handler)
            .map_err(|err| {
                tracing::warn!(
                    error = %err,
                    "file events unavailable; the watcher relies on its periodic check"
                )
            })
            .ok();
        Directories {
            notify,
            watched: BTreeMap::new(),
        }
    }

    /// Watches the directories the configured files live in now, and stops watching those they
    /// left. A directory replaced under the same path is watched again.
    fn arm(&mut self, shared: &Shared) {
        let Some(notify) = self.notify.as_mut() else {
            return;
        };
        let mut wanted = BTreeMap::new();
        for file in shared.config().files() {
            for directory in directories_of(&file) {
                let identity = identity(&directory);
                wanted.insert(directory, identity);
            }
        }

        let gone: Vec<PathBuf> = self
            .watched
            .iter()
            .filter(|(directory, identity)| wanted.get(*directory) != Some(*identity))
            .map(|(directory, _)| directory.clone())
            .collect();
        for directory in gone {
            // The watch may already have ended with its directory.
            let _ = notify.unwatch(&directory);
            self.watched.remove(&directory);
        }

        for (directory, identity) in wanted {
            if self.watched.contains_key(&directory) || identity.is_none() {
                continue;
            }
            match notify.watch(&directory, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    tracing::debug!(path = %directory.display(), "watching directory");
                    self.watched.insert(directory, identity);
                }
                // Tried again at the next poll; the periodic check covers the gap.
                Err(err) => tracing::debug!(
                    path = %directory.display(),
                    error = %err,
                    "cannot watch directory yet"
                ),
            }
        }
    }
}

/// The directories whose entries decide what `file` reads: its own, and that of every target
/// along its chain of symbolic links, each with symbolic links resolved so that one directory is
/// watched once.
///
/// Directories further up are not watched: when a symbolic link above the file's own directory is
/// re-pointed (say `/etc/tls/current -> v2` with the files configured under `current/`), only the
/// periodic check sees it, one poll interval later at most.
fn directories_of(file: &Path) -> Vec<PathBuf> {
    let mut directories = Vec::new();
    let mut path = file.to_path_buf();
    // The kernel gives up after 40 links; so do we.
    for _ in 0..40 {
        let parent = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        if let Ok(resolved) = fs::canonicalize(&parent) {
            if !directories.contains(&resolved) {
                directories.push(resolved);
            }
        }
        match fs::read_link(&path) {
            Ok(target) => path = parent.join(target),
            Err(_) => break,
        }
    }
    // The directory of the final file, reached through linked directories such as `..data`.
    if let Some(parent) = fs::canonicalize(file)
        .ok()
        .and_then(|resolved| resolved.parent().map(Path::to_path_buf))
    {
        if !directories.contains(&parent) {
            directories.push(parent);
        }
    }
    directories
}

/// Device and inode of a directory, to notice one replaced under the same path.
#[cfg(unix)]
fn identity(directory: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;

    fs::metadata(directory)
        .ok()
        .map(|metadata| (metadata.dev(), metadata.ino()))
}

/// Whether the directory exists; replacement under the same path is not told apart here.
#[cfg(not(unix))]
fn identity(directory: &Path) -> Option<(u64, u64)> {
    fs::metadata(directory).ok().map(|_| (0, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_one_second_and_two_hundred_milliseconds() {
        let options = WatchOptions::default();
        assert_eq!(options.poll_interval(), Duration::from_secs(1));
        assert_eq!(options.debounce(), Duration::from_millis(200));
        assert_eq!(
            options.with_poll_interval(Duration::ZERO).poll_interval(),
            Duration::from_millis(1)
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_file_watches_the_directories_along_its_links() {
        let root = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(root.path()).unwrap();
        fs::create_dir(root.join("..2024")).unwrap();
        fs::write(root.join("..2024/tls.crt"), b"x").unwrap();
        std::os::unix::fs::symlink("..2024", root.join("..data")).unwrap();
        std::os::unix::fs::symlink("..data/tls.crt", root.join("tls.crt")).unwrap();

        assert_eq!(
            directories_of(&root.join("tls.crt")),
            vec![root.clone(), root.join("..2024")]
        );
    }
}
