//! [`SledEngine`]: rehome's [`KvEngine`] on one sled tree.

use std::ops::Bound;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;
use rehome_core::kv::{KvBatch, KvEngine, KvOp};
use rehome_core::store::{StoreError, StoreResult};

use crate::frame;
use crate::group_commit::{FlushError, GroupCommit, SyncFailure, panic_message};
use crate::marker::Marker;

/// The tree holding the format header, apart from the data so that no scan of the data ever
/// meets it.
const META_TREE: &[u8] = b"rehome-sled/meta";
/// The key of the format header in [`META_TREE`].
const FORMAT_KEY: &[u8] = b"format";
/// The start of the format header's value; the format number follows as 4 big-endian bytes.
const FORMAT_MAGIC: &[u8] = b"rehome-sled\0";
/// The key in [`META_TREE`] of the number of the last group-commit flush (see
/// [`crate::marker`]).
const FLUSHED_KEY: &[u8] = b"flushed";
/// The engine-level format (header, value frames, flush number) this build reads and writes;
/// `KvStore` versions its key layout separately.
const FORMAT_VERSION: u32 = 1;

/// Knobs for opening a sled store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    path: PathBuf,
    cache_capacity: u64,
}

impl Config {
    /// Defaults for a store in the directory `path` (created when missing).
    pub fn new(path: impl AsRef<Path>) -> Config {
        Config {
            path: path.as_ref().to_owned(),
            // sled's own default: 1 GiB of page cache.
            cache_capacity: 1024 * 1024 * 1024,
        }
    }

    /// The most memory, in bytes, sled's page cache may use.
    pub fn cache_capacity(mut self, bytes: u64) -> Config {
        self.cache_capacity = bytes;
        self
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Failures of the sled backend that are not about the data itself; they reach callers as
/// [`StoreError::Backend`] and can be downcast to this type.
#[derive(Debug, thiserror::Error)]
pub enum SledError {
    /// sled reported an I/O or usage error.
    #[error("sled store at {path}: {source}")]
    Sled {
        /// The store's directory.
        path: PathBuf,
        /// sled's error.
        #[source]
        source: sled::Error,
    },
    /// The store directory could not be created.
    #[error("cannot create the store directory {path}: {source}")]
    CreateDir {
        /// The directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The flusher thread could not be started.
    #[error("cannot start the flusher of the sled store at {path}: {source}")]
    Flusher {
        /// The store's directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A flush (fsync) failed: writes may not be durable.
    #[error("flushing the sled store at {path} failed: {message}")]
    Flush {
        /// The store's directory.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
    /// An earlier write or flush failed; sled cannot go on in this process.
    #[error(
        "the sled store at {path} stopped after a failed write ({why}); free space or make it \
         writable, then restart (reopen the store)"
    )]
    Failed {
        /// The store's directory.
        path: PathBuf,
        /// The first failure.
        why: String,
    },
    /// An unfinished snapshot left by a crash could not be removed (see [`SledEngine::open`]).
    #[error("cannot remove an unfinished snapshot of the sled store at {path}: {source}")]
    Snapshot {
        /// The store's directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The flush marker file could not be opened.
    #[error("cannot open the flush marker of the sled store at {path}: {source}")]
    Marker {
        /// The store's directory.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The store was closed.
    #[error("the sled store at {path} is closed")]
    Closed {
        /// The store's directory.
        path: PathBuf,
    },
}

/// A [`KvEngine`] on one sled tree: batches apply atomically (one sled batch), every value is
/// framed with a CRC32, and [`KvEngine::sync`] flushes with group commit.
#[derive(Debug)]
pub struct SledEngine {
    path: PathBuf,
    /// `None` once closed. A read lock is held for each call, so `close` waits for calls in
    /// flight and then drops the last handle.
    db: RwLock<Option<sled::Db>>,
    flusher: GroupCommit,
    /// Set by the first failed write or flush: sled 0.34 cannot recover from an I/O error in
    /// the process (its log buffer keeps the error, and some reads fail while others are
    /// served from cache), so from then on every call is refused as unavailable until the
    /// store is reopened. `/healthz` then fails too, so a supervisor restarts the server.
    failure: std::sync::OnceLock<String>,
}

impl SledEngine {
    /// Opens (or creates) the store described by `config`. This blocks: sled recovers its log
    /// on open, which takes a while for big stores.
    ///
    /// A store that sled cannot read, or whose format header is missing or wrong, gives
    /// [`StoreError::Corrupt`] naming the path. sled panics on some damaged files; the panic
    /// is caught and reported the same way.
    ///
    /// Before sled opens the store, an unfinished snapshot (`snap.*.generating`) left by a
    /// process that died while writing it is removed: sled 0.34 would otherwise take it for the
    /// latest snapshot and refuse the store as corrupt (sled issue #1527). It never was a
    /// snapshot (sled renames a snapshot once it is complete), so sled then recovers as after
    /// any crash. This happens only while no process has the store open.
    pub fn open(config: &Config) -> StoreResult<SledEngine> {
        let path = config.path.clone();
        std::fs::create_dir_all(&path).map_err(|source| {
            StoreError::backend(SledError::CreateDir {
                path: path.clone(),
                source,
            })
        })?;
        // A torn snapshot from a crash would make sled refuse the store (see crate::snapshot).
        crate::snapshot::remove_unfinished(&path).map_err(|source| {
            StoreError::backend(SledError::Snapshot {
                path: path.clone(),
                source,
            })
        })?;
        let sled_config = sled::Config::new()
            .path(&path)
            .cache_capacity(config.cache_capacity);
        let db = catch_unwind(AssertUnwindSafe(|| sled_config.open()))
            .map_err(|panic| {
                StoreError::Corrupt(format!(
                    "sled store at {}: cannot open: sled panicked: {}",
                    path.display(),
                    panic_message(&*panic)
                ))
            })?
            .map_err(|e| map_sled(&path, e))?;
        let marker = Marker::open(&path).map_err(|source| {
            StoreError::backend(SledError::Marker {
                path: path.clone(),
                source,
            })
        })?;
        let meta = guarded(&path, || {
            let meta = db.open_tree(META_TREE).map_err(|e| map_sled(&path, e))?;
            check_format(&path, &db, &meta, marker.last())?;
            Ok(meta)
        })?;
        let flusher = GroupCommit::start(
            format!("rehome-sled flusher {}", path.display()),
            flush_fn(db.clone(), meta, marker),
        )
        .map_err(|source| {
            StoreError::backend(SledError::Flusher {
                path: path.clone(),
                source,
            })
        })?;
        Ok(SledEngine {
            path,
            db: RwLock::new(Some(db)),
            flusher,
            failure: std::sync::OnceLock::new(),
        })
    }

    /// The store's directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Flushes done by the group-commit flusher so far (not counting sled's own periodic ones).
    pub fn flush_count(&self) -> u64 {
        self.flusher.flush_count()
    }

    /// [`KvEngine::sync`] calls so far.
    pub fn sync_count(&self) -> u64 {
        self.flusher.sync_count()
    }

    /// Runs `f` on the open database, catching sled panics.
    fn with_db<T>(&self, f: impl FnOnce(&sled::Db) -> StoreResult<T>) -> StoreResult<T> {
        self.check_failure()?;
        let db = self.db.read().unwrap_or_else(PoisonError::into_inner);
        let db = db.as_ref().ok_or_else(|| self.closed())?;
        guarded(&self.path, || f(db)).inspect_err(|e| self.note_failure(e))
    }

    /// Refuses every call once a write or flush has failed (see [`SledEngine::failure`]).
    fn check_failure(&self) -> StoreResult<()> {
        match self.failure.get() {
            None => Ok(()),
            Some(why) => Err(StoreError::unavailable(SledError::Failed {
                path: self.path.clone(),
                why: why.clone(),
            })),
        }
    }

    /// Remembers an I/O failure (the first one wins).
    fn note_failure(&self, error: &StoreError) {
        if let StoreError::Unavailable(e) = error {
            let _ = self.failure.set(e.to_string());
        }
    }

    fn closed(&self) -> StoreError {
        StoreError::backend(SledError::Closed {
            path: self.path.clone(),
        })
    }

    fn corrupt_value(&self, key: &[u8]) -> StoreError {
        StoreError::Corrupt(format!(
            "sled store at {}: the value of key {} fails its checksum",
            self.path.display(),
            hex(key)
        ))
    }
}

#[async_trait]
impl KvEngine for SledEngine {
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let stored = self.with_db(|db| db.get(key).map_err(|e| map_sled(&self.path, e)))?;
        match stored {
            None => Ok(None),
            Some(stored) => frame::decode(key, &stored)
                .map(|payload| Some(payload.to_vec()))
                .ok_or_else(|| self.corrupt_value(key)),
        }
    }

    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        if end.is_some_and(|end| end <= start) {
            // An empty range; sled's range iterator is not asked about inverted bounds.
            return Ok(());
        }
        self.with_db(|db| {
            let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
            let range = db.range::<&[u8], _>((Bound::Included(start), upper));
            let mut step = |entry: sled::Result<(sled::IVec, sled::IVec)>| {
                let (key, stored) = entry.map_err(|e| map_sled(&self.path, e))?;
                let payload =
                    frame::decode(&key, &stored).ok_or_else(|| self.corrupt_value(&key))?;
                Ok::<bool, StoreError>(visit(&key, payload))
            };
            if reverse {
                for entry in range.rev() {
                    if !step(entry)? {
                        break;
                    }
                }
            } else {
                for entry in range {
                    if !step(entry)? {
                        break;
                    }
                }
            }
            Ok(())
        })
    }

    fn apply(&self, batch: KvBatch) -> StoreResult<()> {
        let mut sled_batch = sled::Batch::default();
        for op in batch.ops {
            // A sled batch keeps the last write per key, which is what applying in order gives.
            match op {
                KvOp::Put(key, value) => {
                    let framed = frame::encode(&key, &value);
                    sled_batch.insert(key, framed);
                }
                KvOp::Remove(key) => sled_batch.remove(key),
            }
        }
        self.with_db(|db| {
            db.apply_batch(sled_batch)
                .map_err(|e| map_sled(&self.path, e))
        })
    }

    async fn sync(&self) -> StoreResult<()> {
        self.check_failure()?;
        self.flusher.sync().await.map_err(|failure| match failure {
            SyncFailure::Flush(FlushError {
                message,
                unavailable,
            }) => {
                let error = SledError::Flush {
                    path: self.path.clone(),
                    message,
                };
                if unavailable {
                    let error = StoreError::unavailable(error);
                    self.note_failure(&error);
                    error
                } else {
                    StoreError::backend(error)
                }
            }
            SyncFailure::Stopped => self.closed(),
        })
    }

    async fn close(&self) -> StoreResult<()> {
        if self.is_closed() {
            // Closing twice is fine.
            return Ok(());
        }
        let synced = self.sync().await;
        // The flusher holds a handle too: stop it before dropping ours, so that the last handle
        // goes now and sled releases its file lock (the store can then be reopened).
        self.flusher.stop();
        let db = self
            .db
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        drop(db);
        synced
    }
}

impl SledEngine {
    fn is_closed(&self) -> bool {
        self.db
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_none()
    }
}

/// Runs `f`, turning a sled panic into [`StoreError::Corrupt`]: sled 0.34 panics rather than
/// erring on some damaged data, and a panic must not take the server down.
fn guarded<T>(path: &Path, f: impl FnOnce() -> StoreResult<T>) -> StoreResult<T> {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|panic| {
        Err(StoreError::Corrupt(format!(
            "sled store at {}: a call into sled panicked: {}",
            path.display(),
            panic_message(&*panic)
        )))
    })
}

/// sled's errors with rehome's meaning: damage is [`StoreError::Corrupt`], the rest is a
/// backend failure.
fn map_sled(path: &Path, error: sled::Error) -> StoreError {
    match error {
        sled::Error::Corruption { at, .. } => StoreError::Corrupt(format!(
            "sled store at {}: sled found corrupt data{}",
            path.display(),
            at.map(|at| format!(" at {at:?}")).unwrap_or_default()
        )),
        sled::Error::ReportableBug(message) => StoreError::Corrupt(format!(
            "sled store at {}: sled found an inconsistency: {message}",
            path.display()
        )),
        sled::Error::Io(io) if StoreError::is_unavailable_io(io.kind()) => {
            StoreError::unavailable(SledError::Sled {
                path: path.to_owned(),
                source: sled::Error::Io(io),
            })
        }
        source => StoreError::backend(SledError::Sled {
            path: path.to_owned(),
            source,
        }),
    }
}

/// The flush the group-commit flusher runs: number it, flush, then record the number in the
/// marker (see [`crate::marker`]).
fn flush_fn(
    db: sled::Db,
    meta: sled::Tree,
    mut marker: Marker,
) -> impl FnMut() -> Result<(), FlushError> + Send + 'static {
    let mut number = marker.last();
    let sled_error = |e: sled::Error| FlushError {
        unavailable: matches!(&e, sled::Error::Io(io) if StoreError::is_unavailable_io(io.kind())),
        message: e.to_string(),
    };
    move || {
        // Numbers keep growing across restarts: the store's own is at least the marker's.
        number = number.max(marker.last()) + 1;
        meta.insert(
            FLUSHED_KEY,
            frame::encode(FLUSHED_KEY, &number.to_be_bytes()),
        )
        .map_err(sled_error)?;
        db.flush().map_err(sled_error)?;
        marker.record(number).map_err(|e| FlushError {
            unavailable: StoreError::is_unavailable_io(e.kind()),
            message: format!(
                "flushed, but writing {} failed: {e}",
                marker.path().display()
            ),
        })
    }
}

/// Checks the format header (writing it into a new, empty store) and that sled recovered every
/// flush the marker knows of.
fn check_format(path: &Path, db: &sled::Db, meta: &sled::Tree, marked: u64) -> StoreResult<()> {
    let corrupt =
        |why: String| StoreError::Corrupt(format!("sled store at {}: {why}", path.display()));
    let flushed = match meta.get(FLUSHED_KEY).map_err(|e| map_sled(path, e))? {
        None => 0,
        Some(stored) => frame::decode(FLUSHED_KEY, &stored)
            .and_then(|b| <[u8; 8]>::try_from(b).ok())
            .map(u64::from_be_bytes)
            .ok_or_else(|| corrupt("the flush number fails its checksum".into()))?,
    };
    if flushed < marked {
        return Err(corrupt(format!(
            "sled recovered its log only up to flush {flushed}, but flush {marked} had \
             completed: the log is damaged and acknowledged writes are missing"
        )));
    }
    match meta.get(FORMAT_KEY).map_err(|e| map_sled(path, e))? {
        None => {
            if !db.is_empty() {
                return Err(corrupt(
                    "holds data but no rehome format header (not a rehome store, or damaged)"
                        .into(),
                ));
            }
            let mut header = FORMAT_MAGIC.to_vec();
            header.extend_from_slice(&FORMAT_VERSION.to_be_bytes());
            meta.insert(FORMAT_KEY, frame::encode(FORMAT_KEY, &header))
                .map_err(|e| map_sled(path, e))?;
            db.flush().map_err(|e| map_sled(path, e))?;
            Ok(())
        }
        Some(stored) => {
            let header = frame::decode(FORMAT_KEY, &stored)
                .ok_or_else(|| corrupt("the format header fails its checksum".into()))?;
            let version = header
                .strip_prefix(FORMAT_MAGIC)
                .and_then(|rest| <[u8; 4]>::try_from(rest).ok())
                .map(u32::from_be_bytes)
                .ok_or_else(|| corrupt("the format header is not rehome's".into()))?;
            if version != FORMAT_VERSION {
                return Err(corrupt(format!(
                    "written in format {version}, this build reads format {FORMAT_VERSION} \
                     (a newer rehome wrote it?)"
                )));
            }
            Ok(())
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
