//! Group commit: one flusher thread turns any number of concurrent `sync` requests into as few
//! blocking `Db::flush` calls as possible.
//!
//! Flushes are numbered 1, 2, ... in the order they start. A caller of [`GroupCommit::sync`]
//! needs a flush that *starts* after its call, because only such a flush is sure to cover every
//! batch applied before it; it takes ticket `started + 1` and waits until a flush with at least
//! that number has succeeded. While one flush runs, every caller that arrives asks for the next
//! one, so a single flush serves them all.
//!
//! `Db::flush_async` is not used: it hangs under concurrent use in sled 0.34 (sled issue #1308).
//! The flusher calls the blocking `Db::flush` on its own thread instead.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use tokio::sync::watch;

/// What callers ask of the flusher.
#[derive(Debug, Default)]
struct Requests {
    /// The highest flush number some caller waits for.
    requested: u64,
    /// Flushes started so far (the number of the last one started).
    started: u64,
    /// Set by [`GroupCommit::stop`]: serve what was requested, then exit.
    shutdown: bool,
}

/// What the flusher has done, published to waiting callers.
#[derive(Debug, Clone, Default)]
struct Progress {
    /// The number of the last flush finished (successfully or not).
    completed: u64,
    /// The number of the last flush that succeeded.
    succeeded: u64,
    /// Why the last failed flush failed.
    last_error: Option<FlushError>,
    /// The flusher thread has exited: no further flush will happen.
    stopped: bool,
}

/// Why a flush failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FlushError {
    /// What went wrong.
    pub message: String,
    /// The cause may pass (a full disk, a read-only file system): see
    /// [`rehome_core::StoreError::Unavailable`].
    pub unavailable: bool,
}

impl From<String> for FlushError {
    fn from(message: String) -> FlushError {
        FlushError {
            message,
            unavailable: false,
        }
    }
}

impl From<&str> for FlushError {
    fn from(message: &str) -> FlushError {
        FlushError::from(message.to_owned())
    }
}

/// Why a sync did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SyncFailure {
    /// The flush covering the caller's writes failed.
    Flush(FlushError),
    /// The flusher has stopped (the engine is closed).
    Stopped,
}

/// State shared between the engine and its flusher thread.
#[derive(Debug)]
struct Shared {
    requests: Mutex<Requests>,
    wake: Condvar,
    progress: watch::Sender<Progress>,
    flushes: AtomicU64,
    syncs: AtomicU64,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Requests> {
        // Nothing panics while holding the lock, so a poisoned lock still holds consistent data.
        self.requests.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The group-commit flusher of one engine.
#[derive(Debug)]
pub(crate) struct GroupCommit {
    shared: Arc<Shared>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

/// Marks the flusher stopped however its thread ends (even by a panic), so no caller waits
/// forever.
struct StopGuard(Arc<Shared>);

impl Drop for StopGuard {
    fn drop(&mut self) {
        self.0.progress.send_modify(|p| p.stopped = true);
    }
}

impl GroupCommit {
    /// Starts the flusher thread; `flush` makes everything applied so far durable.
    pub(crate) fn start<F>(name: String, flush: F) -> std::io::Result<GroupCommit>
    where
        F: FnMut() -> Result<(), FlushError> + Send + 'static,
    {
        let shared = Arc::new(Shared {
            requests: Mutex::new(Requests::default()),
            wake: Condvar::new(),
            progress: watch::Sender::new(Progress::default()),
            flushes: AtomicU64::new(0),
            syncs: AtomicU64::new(0),
        });
        let thread = std::thread::Builder::new().name(name).spawn({
            let shared = Arc::clone(&shared);
            move || run(shared, flush)
        })?;
        Ok(GroupCommit {
            shared,
            thread: Mutex::new(Some(thread)),
        })
    }

    /// Returns once a flush that started after this call has succeeded.
    pub(crate) async fn sync(&self) -> Result<(), SyncFailure> {
        // Subscribe before asking, so the flush cannot complete unseen.
        let mut progress = self.shared.progress.subscribe();
        let ticket = {
            let mut requests = self.shared.requests();
            if requests.shutdown {
                return Err(SyncFailure::Stopped);
            }
            let ticket = requests.started + 1;
            requests.requested = requests.requested.max(ticket);
            // Counted under the lock, so a count includes the caller's ticket (tests rely on it).
            self.shared.syncs.fetch_add(1, Ordering::Relaxed);
            ticket
        };
        self.shared.wake.notify_one();
        let seen = progress
            .wait_for(|p| p.succeeded >= ticket || p.completed >= ticket || p.stopped)
            .await
            .map_err(|_| SyncFailure::Stopped)?
            .clone();
        if seen.succeeded >= ticket {
            Ok(())
        } else if seen.completed >= ticket {
            Err(SyncFailure::Flush(
                seen.last_error
                    .unwrap_or_else(|| FlushError::from("unknown")),
            ))
        } else {
            Err(SyncFailure::Stopped)
        }
    }

    /// Serves the pending requests, stops the thread and waits for it to exit (it holds a
    /// database handle, which must be gone before the store can be reopened).
    pub(crate) fn stop(&self) {
        self.shared.requests().shutdown = true;
        self.shared.wake.notify_one();
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            // A panicking flusher already marked itself stopped; nothing more to do about it.
            let _ = thread.join();
        }
    }

    /// Flushes performed so far.
    pub(crate) fn flush_count(&self) -> u64 {
        self.shared.flushes.load(Ordering::Relaxed)
    }

    /// Sync calls received so far.
    pub(crate) fn sync_count(&self) -> u64 {
        self.shared.syncs.load(Ordering::Relaxed)
    }
}

impl Drop for GroupCommit {
    fn drop(&mut self) {
        self.stop();
    }
}

fn run<F>(shared: Arc<Shared>, mut flush: F)
where
    F: FnMut() -> Result<(), FlushError>,
{
    let _stopped = StopGuard(Arc::clone(&shared));
    loop {
        let number = {
            let mut requests = shared.requests();
            while requests.requested <= requests.started && !requests.shutdown {
                requests = shared
                    .wake
                    .wait(requests)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if requests.requested <= requests.started {
                // Shut down with nothing left to serve.
                return;
            }
            requests.started += 1;
            requests.started
        };
        let result = catch_unwind(AssertUnwindSafe(&mut flush)).unwrap_or_else(|panic| {
            Err(FlushError::from(format!(
                "flush panicked: {}",
                panic_message(&*panic)
            )))
        });
        shared.flushes.fetch_add(1, Ordering::Relaxed);
        shared.progress.send_modify(|p| {
            p.completed = number;
            match result {
                Ok(()) => p.succeeded = number,
                Err(e) => p.last_error = Some(e),
            }
        });
    }
}

/// The text of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::mpsc;

    /// A flush that blocks until the test lets it finish, so the test controls interleavings
    /// without timing anything.
    fn gated() -> (
        GroupCommit,
        mpsc::Sender<Result<(), FlushError>>,
        mpsc::Receiver<()>,
    ) {
        let (release_tx, release_rx) = mpsc::channel::<Result<(), FlushError>>();
        let (entered_tx, entered_rx) = mpsc::channel::<()>();
        let gc = GroupCommit::start("test flusher".into(), move || {
            let _ = entered_tx.send(());
            release_rx.recv().unwrap_or(Ok(()))
        })
        .expect("spawn flusher");
        (gc, release_tx, entered_rx)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn callers_arriving_during_a_flush_share_the_next_one() {
        let (gc, release, entered) = gated();
        let gc = Arc::new(gc);
        let entered = Arc::new(Mutex::new(entered));
        let flush_started = || {
            let entered = Arc::clone(&entered);
            tokio::task::spawn_blocking(move || {
                entered
                    .lock()
                    .expect("lock")
                    .recv()
                    .expect("a flush starts")
            })
        };
        let sync = || {
            let gc = Arc::clone(&gc);
            tokio::spawn(async move { gc.sync().await })
        };

        let first = sync();
        flush_started().await.expect("join");
        // Flush 1 is running (blocked); ten callers arrive and all take ticket 2.
        let waiters: Vec<_> = (0..10).map(|_| sync()).collect();
        while gc.sync_count() < 11 {
            tokio::task::yield_now().await;
        }
        release.send(Ok(())).expect("release flush 1");
        assert_eq!(first.await.expect("join"), Ok(()));
        flush_started().await.expect("join");
        release.send(Ok(())).expect("release flush 2");
        for w in waiters {
            assert_eq!(w.await.expect("join"), Ok(()));
        }
        assert_eq!(gc.flush_count(), 2);
        assert_eq!(gc.sync_count(), 11);
    }

    #[tokio::test]
    async fn a_failed_flush_fails_its_callers_and_later_ones_succeed() {
        let (gc, release, _entered) = gated();
        release.send(Err("disk on fire".into())).expect("queue");
        assert_eq!(
            gc.sync().await,
            Err(SyncFailure::Flush("disk on fire".into()))
        );
        release.send(Ok(())).expect("queue");
        assert_eq!(gc.sync().await, Ok(()));
        gc.stop();
        assert_eq!(gc.sync().await, Err(SyncFailure::Stopped));
    }

    #[tokio::test]
    async fn a_panicking_flush_is_reported() {
        let gc = GroupCommit::start("test flusher".into(), || panic!("boom")).expect("spawn");
        assert_eq!(
            gc.sync().await,
            Err(SyncFailure::Flush("flush panicked: boom".into()))
        );
    }
}
