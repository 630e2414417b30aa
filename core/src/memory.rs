//! [`MemoryStore`]: the in-memory [`Store`], a [`KvStore`] over an ordered map.
//!
//! It has the same indexes and gives the same answers as the persistent key-value backends,
//! so it serves tests, demos and benchmarks of everything above the store.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::{PoisonError, RwLock};

use async_trait::async_trait;

use crate::ids::IdKind;
use crate::kv::{KvBatch, KvEngine, KvOp, KvStore};
use crate::query::{Collection, ListQuery, Page};
use crate::store::{ChangeSet, Record, RecordKey, Store, StoreResult, UniqueKey};

/// An ordered byte map behind a read-write lock: batches apply atomically under the write
/// lock; nothing is durable, so `sync` does nothing.
///
/// Keys and values are kept as boxed slices (no spare capacity, one word less than a `Vec`),
/// which matters at millions of index entries.
#[derive(Debug, Default)]
pub struct MemoryEngine {
    map: RwLock<Map>,
}

type Map = BTreeMap<Box<[u8]>, Box<[u8]>>;

impl MemoryEngine {
    /// An empty map.
    pub fn new() -> Self {
        MemoryEngine::default()
    }

    /// How many entries the map holds.
    pub fn len(&self) -> usize {
        self.read().len()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    // A panic while holding the lock cannot leave the map half-written (a batch is applied by
    // infallible map operations), so a poisoned lock is still consistent.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Map> {
        self.map.read().unwrap_or_else(PoisonError::into_inner)
    }
}

#[async_trait]
impl KvEngine for MemoryEngine {
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        Ok(self.read().get(key).map(|v| v.to_vec()))
    }

    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        // `BTreeMap::range` panics on an inverted range.
        if end.is_some_and(|end| end <= start) {
            return Ok(());
        }
        let map = self.read();
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        let range = map.range::<[u8], _>((Bound::Included(start), upper));
        if reverse {
            for (k, v) in range.rev() {
                if !visit(k, v) {
                    break;
                }
            }
        } else {
            for (k, v) in range {
                if !visit(k, v) {
                    break;
                }
            }
        }
        Ok(())
    }

    fn apply(&self, batch: KvBatch) -> StoreResult<()> {
        let mut map = self.map.write().unwrap_or_else(PoisonError::into_inner);
        for op in batch.ops {
            match op {
                KvOp::Put(k, v) => {
                    map.insert(k.into_boxed_slice(), v.into_boxed_slice());
                }
                KvOp::Remove(k) => {
                    map.remove(k.as_slice());
                }
            }
        }
        Ok(())
    }
}

/// The in-memory [`Store`]: a [`KvStore`] over a [`MemoryEngine`].
#[derive(Debug)]
pub struct MemoryStore {
    inner: KvStore<MemoryEngine>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore {
            // Opening an empty map cannot fail: it only writes the format version.
            inner: match KvStore::new(MemoryEngine::new()) {
                Ok(s) => s,
                Err(e) => unreachable!("opening an empty MemoryEngine failed: {e}"),
            },
        }
    }

    /// The [`KvStore`] inside (its engine and read counter).
    pub fn kv(&self) -> &KvStore<MemoryEngine> {
        &self.inner
    }

    /// See [`KvStore::entries_read`].
    pub fn entries_read(&self) -> u64 {
        self.inner.entries_read()
    }
}

impl Default for MemoryStore {
    fn default() -> Self {
        MemoryStore::new()
    }
}

#[async_trait]
impl Store for MemoryStore {
    async fn get(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        self.inner.get(key).await
    }

    async fn get_by_unique(&self, key: &UniqueKey) -> StoreResult<Option<Record>> {
        self.inner.get_by_unique(key).await
    }

    async fn scan(
        &self,
        collection: Collection,
        after: Option<RecordKey>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        self.inner.scan(collection, after, limit).await
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<Page<Record>> {
        self.inner.list(query).await
    }

    async fn next_id(&self, kind: IdKind) -> StoreResult<i64> {
        self.inner.next_id(kind).await
    }

    async fn commit(&self, changes: ChangeSet) -> StoreResult<()> {
        self.inner.commit(changes).await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }

    async fn close(&self) -> StoreResult<()> {
        self.inner.close().await
    }
}
