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
/// The map is split by the first two key bytes (in [`KvStore`]'s layout: one part per
/// collection's records, per index, per counter kind), and keys up to 38 bytes are stored inline
/// in the tree nodes. Lookups thus search a tree of one collection's size, comparing bytes in
/// place instead of following a pointer per comparison, and most entries need no allocation of
/// their own. Values are boxed slices (no spare capacity).
#[derive(Debug, Default)]
pub struct MemoryEngine {
    parts: RwLock<Parts>,
}

/// Key prefix (up to [`PART`] bytes) -> the rest of the key -> value. A key shorter than
/// [`PART`] bytes is its own prefix, with an empty rest.
type Parts = BTreeMap<Key, BTreeMap<Key, Box<[u8]>>>;

const PART: usize = 2;
const INLINE: usize = 38;

fn split(key: &[u8]) -> (&[u8], &[u8]) {
    key.split_at(key.len().min(PART))
}

/// A map key: inline when short (40 bytes in all), else on the heap.
#[derive(Clone)]
enum Key {
    Inline(u8, [u8; INLINE]),
    Heap(Box<[u8]>),
}

impl Key {
    fn new(bytes: &[u8]) -> Key {
        match u8::try_from(bytes.len()) {
            Ok(len) if bytes.len() <= INLINE => {
                let mut inline = [0; INLINE];
                inline[..bytes.len()].copy_from_slice(bytes);
                Key::Inline(len, inline)
            }
            _ => Key::Heap(bytes.into()),
        }
    }

    fn as_slice(&self) -> &[u8] {
        match self {
            Key::Inline(len, bytes) => &bytes[..usize::from(*len)],
            Key::Heap(bytes) => bytes,
        }
    }
}

// Equality and order are those of the bytes, so the maps can be searched with `&[u8]`.
impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}
impl std::borrow::Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_slice()
    }
}
impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.as_slice().fmt(f)
    }
}

impl MemoryEngine {
    /// An empty map.
    pub fn new() -> Self {
        MemoryEngine::default()
    }

    /// How many entries the map holds.
    pub fn len(&self) -> usize {
        self.read().values().map(BTreeMap::len).sum()
    }

    /// Whether the map is empty.
    pub fn is_empty(&self) -> bool {
        self.read().is_empty()
    }

    // A panic while holding the lock cannot leave the map half-written (a batch is applied by
    // infallible map operations), so a poisoned lock is still consistent.
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Parts> {
        self.parts.read().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Bounds on the rest of a key, within one part.
type RestBounds<'a> = (Bound<&'a [u8]>, Bound<&'a [u8]>);

/// The bounds, within part `prefix`, of the keys of `[start, end)`; `None` when none of the
/// part's keys is in the range.
fn part_bounds<'a>(
    prefix: &[u8],
    start: &'a [u8],
    end: Option<&'a [u8]>,
) -> Option<RestBounds<'a>> {
    if prefix.len() < PART {
        // The part holds the one key `prefix` (with an empty rest).
        let inside = start <= prefix && end.is_none_or(|e| prefix < e);
        return inside.then_some((Bound::Unbounded, Bound::Unbounded));
    }
    // Every key of the part starts with `prefix`; a bound that starts with it too cuts the
    // part, any other bound lies wholly before or after it.
    let lower = if start.starts_with(prefix) {
        Bound::Included(&start[PART..])
    } else if start <= prefix {
        Bound::Unbounded
    } else {
        return None;
    };
    let upper = match end {
        Some(e) if e.starts_with(prefix) => Bound::Excluded(&e[PART..]),
        Some(e) if e <= prefix => return None,
        _ => Bound::Unbounded,
    };
    if let (Bound::Included(l), Bound::Excluded(u)) = (lower, upper)
        && u <= l
    {
        return None;
    }
    Some((lower, upper))
}

#[async_trait]
impl KvEngine for MemoryEngine {
    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let (prefix, rest) = split(key);
        Ok(self
            .read()
            .get(prefix)
            .and_then(|part| part.get(rest))
            .map(|v| v.to_vec()))
    }

    fn scan(
        &self,
        start: &[u8],
        end: Option<&[u8]>,
        reverse: bool,
        visit: &mut dyn FnMut(&[u8], &[u8]) -> bool,
    ) -> StoreResult<()> {
        if end.is_some_and(|end| end <= start) {
            return Ok(());
        }
        let parts = self.read();
        // Parts before `start`'s prefix hold only keys below `start`; parts from `end` on
        // only keys at or above `end`.
        let first = split(start).0;
        let upper = end.map_or(Bound::Unbounded, Bound::Excluded);
        let candidates = parts.range::<[u8], _>((Bound::Included(first), upper));
        let mut key = Vec::new();
        let mut visit_part = |prefix: &Key, part: &BTreeMap<Key, Box<[u8]>>| -> bool {
            let Some(bounds) = part_bounds(prefix.as_slice(), start, end) else {
                return true;
            };
            let mut go = |rest: &Key, v: &[u8]| {
                key.clear();
                key.extend_from_slice(prefix.as_slice());
                key.extend_from_slice(rest.as_slice());
                visit(&key, v)
            };
            let range = part.range::<[u8], _>(bounds);
            if reverse {
                range.rev().all(|(k, v)| go(k, v))
            } else {
                range.into_iter().all(|(k, v)| go(k, v))
            }
        };
        if reverse {
            for (prefix, part) in candidates.rev() {
                if !visit_part(prefix, part) {
                    break;
                }
            }
        } else {
            for (prefix, part) in candidates {
                if !visit_part(prefix, part) {
                    break;
                }
            }
        }
        Ok(())
    }

    fn apply(&self, batch: KvBatch) -> StoreResult<()> {
        let mut parts = self.parts.write().unwrap_or_else(PoisonError::into_inner);
        for op in batch.ops {
            match op {
                KvOp::Put(k, v) => {
                    let (prefix, rest) = split(&k);
                    let part = match parts.get_mut(prefix) {
                        Some(part) => part,
                        None => parts.entry(Key::new(prefix)).or_default(),
                    };
                    part.insert(Key::new(rest), v.into_boxed_slice());
                }
                KvOp::Remove(k) => {
                    let (prefix, rest) = split(&k);
                    if let Some(part) = parts.get_mut(prefix) {
                        part.remove(rest);
                        if part.is_empty() {
                            parts.remove(prefix);
                        }
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn key() -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(prop_oneof![Just(0u8), Just(1), Just(2), Just(255)], 0..4)
    }

    proptest! {
        /// Scans over the split map give what one ordered map would give.
        #[test]
        fn scans_match_one_ordered_map(
            keys in proptest::collection::vec(key(), 0..40),
            removed in proptest::collection::vec(key(), 0..10),
            start in key(),
            end in proptest::option::of(key()),
            reverse in any::<bool>(),
            stop_after in 0usize..50,
        ) {
            let engine = MemoryEngine::new();
            let mut model = BTreeMap::new();
            let mut ops = Vec::new();
            for (i, k) in keys.iter().enumerate() {
                ops.push(KvOp::Put(k.clone(), vec![i as u8]));
                model.insert(k.clone(), vec![i as u8]);
            }
            for k in &removed {
                ops.push(KvOp::Remove(k.clone()));
                model.remove(k);
            }
            engine.apply(KvBatch { ops }).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut got = Vec::new();
            engine
                .scan(&start, end.as_deref(), reverse, &mut |k, v| {
                    got.push((k.to_vec(), v.to_vec()));
                    got.len() < stop_after
                })
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let mut want: Vec<(Vec<u8>, Vec<u8>)> = model
                .iter()
                .filter(|(k, _)| **k >= start && end.as_ref().is_none_or(|e| *k < e))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if reverse {
                want.reverse();
            }
            want.truncate(stop_after.max(1));
            prop_assert_eq!(got, want);
            for k in &keys {
                prop_assert_eq!(engine.get(k).ok().flatten(), model.get(k).cloned());
            }
            prop_assert_eq!(engine.len(), model.len());
        }
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
