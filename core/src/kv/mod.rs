//! A [`Store`](crate::store::Store) over any ordered key-value engine, with secondary indexes.
//!
//! Backends that are ordered key-value maps (the in-memory [`crate::memory::MemoryStore`],
//! `rehome-sled`) implement only [`KvEngine`]; [`KvStore`] lays records, unique keys, reference
//! and filter indexes and counters out as keys, and plans list queries over those indexes.

use async_trait::async_trait;

use crate::store::StoreResult;

mod encode;
mod layout;
mod plan;
mod store;

pub use store::KvStore;

/// One write of a [`KvBatch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvOp {
    /// Sets `key` to `value`.
    Put(Vec<u8>, Vec<u8>),
    /// Removes `key` (no error when absent).
    Remove(Vec<u8>),
}

/// Writes an engine applies atomically, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KvBatch {
    /// The writes.
    pub ops: Vec<KvOp>,
}

/// An ordered map from byte strings to byte strings.
///
/// Keys compare as unsigned byte strings. The engine need not be safe against concurrent
/// writers: [`KvStore`] serialises its calls to [`KvEngine::apply`].
#[async_trait]
pub trait KvEngine: Send + Sync + 'static {
    /// The value at `key`.
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>>;

    /// Calls `visit` for each entry whose key is in `[start, end)` (no upper bound when `end`
    /// is `None`), ascending, or descending when `reverse`, until `visit` returns `false`.
    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()>;

    /// Applies every op of `batch` or none. It need not be durable on return.
    fn apply(&self, batch: KvBatch) -> StoreResult<()>;

    /// Returns once every batch applied before the call is durable. Concurrent callers should
    /// share one flush (group commit). The default does nothing (a volatile engine).
    async fn sync(&self) -> StoreResult<()> {
        Ok(())
    }

    /// Flushes and releases the engine.
    async fn close(&self) -> StoreResult<()> {
        self.sync().await
    }
}
