//! [`KvStore`]: the [`Store`] over a [`KvEngine`], and its writer.

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::encode::{prefix_end, read_i64, successor};
use super::layout::{
    FORMAT_VERSION, decode_key, derive, encode_key, id_counter_key, record_key, record_prefix,
    ref_prefix, ref_source, unique_key, version_key,
};
use super::{KvBatch, KvEngine, KvOp};
use crate::ids::IdKind;
use crate::query::{Collection, ListQuery, Page};
use crate::store::{
    Change, ChangeSet, Conflict, Record, RecordKey, Reference, Store, StoreError, StoreResult,
    UniqueField, UniqueKey,
};

/// A [`Store`] over any ordered key-value engine, with its indexes and counters kept in the
/// same engine and written in the same batch as the records.
///
/// # Layout
/// Records are stored by collection and id (integers big-endian with the sign flipped, UUIDs
/// as their 16 bytes, so key order is id order) as JSON. Beside them: unique keys (value ->
/// holder), reverse references (target -> referrer, for [`Conflict::Referenced`]), a plain
/// index `(value, id)` per filter field and per ordering field (`created_at`, `updated_at`,
/// `date_joined`), a composite index `(value, default-order value, id)` per non-unique filter
/// field of collections not ordered by id, record counts per collection, per-value counts for
/// filter fields (not for timestamps, nor non-empty values of unique fields), the id counters
/// and a format version. Values encode order-preservingly: null first, text by UTF-8 bytes
/// with `0x00` escaped and a terminator, so a text is never confused with a longer one.
///
/// # Lists
/// [`Store::list`] gives exactly the answers of [`crate::eval::apply`], rechecking every
/// fetched record with [`crate::eval::Matcher`]. It streams the page from an index when one is
/// in the query's order (an equality filter's composite index for the default ordering, its
/// plain index for id order, the ordering field's index otherwise), else reads the smallest
/// candidate set (an equality or `In` filter's entries, a range, or every record), sorts with
/// [`crate::eval::compare_records`] keeping only `offset + limit`, and pages. An equality
/// filter on an indexed field bounds what a list reads by its matches.
///
/// # Counts
/// Without filters, the collection's counter; with one `Eq` or `In` filter on an indexed field,
/// the per-value counters (or, for values without one, counting their index entries); with one
/// range filter, counting its index entries. Anything else counts by checking every candidate.
///
/// # Concurrency
/// Writers are serialised by a mutex held while a change set is validated and its batch built
/// and applied; the engine's `sync` runs after the mutex is released, so concurrent committers
/// can share one flush. Readers take no lock: a list made of several engine reads may observe a
/// commit that lands in between, but every record it returns matched the query when read, and
/// none is returned twice.
pub struct KvStore<E: KvEngine> {
    engine: E,
    writer: Mutex<()>,
    entries_read: AtomicU64,
}

impl<E: KvEngine> std::fmt::Debug for KvStore<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KvStore")
            .field("entries_read", &self.entries_read())
            .finish_non_exhaustive()
    }
}

pub(crate) fn corrupt(what: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(what.to_string())
}

pub(crate) fn decode_record(bytes: &[u8]) -> StoreResult<Record> {
    serde_json::from_slice(bytes).map_err(|e| corrupt(format_args!("unreadable record: {e}")))
}

fn encode_record(record: &Record) -> StoreResult<Vec<u8>> {
    serde_json::to_vec(record).map_err(StoreError::backend)
}

fn read_u64(bytes: &[u8]) -> StoreResult<u64> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| corrupt("a counter is not 8 bytes long"))?;
    Ok(u64::from_be_bytes(arr))
}

/// Brings a store written in format `from` to [`FORMAT_VERSION`], in one batch.
///
/// Format 2 (sanitization evidence) added collections and the devices' `imei` unique key,
/// which no record of format 1 holds (its devices read with an empty IMEI), and no index:
/// the records and every derived entry of format 1 stand as they are, so the upgrade only
/// records the new version. Devices of format 1 read as `no_evidence_recorded`.
fn upgrade<E: KvEngine>(engine: &E, from: u32) -> StoreResult<()> {
    debug_assert!((1..FORMAT_VERSION).contains(&from));
    engine.apply(KvBatch {
        ops: vec![KvOp::Put(
            version_key(),
            FORMAT_VERSION.to_be_bytes().to_vec(),
        )],
    })
}

impl<E: KvEngine> KvStore<E> {
    /// Opens a store over `engine`: an empty engine gets the current format version, an older
    /// format is upgraded in place; an engine written by a newer format, or holding data that
    /// is not a rehome store, is refused with [`StoreError::Corrupt`].
    pub fn new(engine: E) -> StoreResult<Self> {
        match engine.get(&version_key())? {
            Some(v) => {
                let arr: [u8; 4] = v
                    .as_slice()
                    .try_into()
                    .map_err(|_| corrupt("the format version key is malformed"))?;
                let version = u32::from_be_bytes(arr);
                if version > FORMAT_VERSION {
                    return Err(corrupt(format_args!(
                        "the store was written in format version {version}, newer than version \
                         {FORMAT_VERSION} which this build of rehome reads; upgrade rehome to open it"
                    )));
                }
                if version == 0 {
                    return Err(corrupt(format_args!(
                        "unknown store format version {version}"
                    )));
                }
                if version < FORMAT_VERSION {
                    upgrade(&engine, version)?;
                }
            }
            None => {
                let mut any = false;
                engine.scan(&[], None, false, &mut |_, _| {
                    any = true;
                    false
                })?;
                if any {
                    return Err(corrupt(
                        "the key-value store holds data but no rehome format version",
                    ));
                }
                engine.apply(KvBatch {
                    ops: vec![KvOp::Put(
                        version_key(),
                        FORMAT_VERSION.to_be_bytes().to_vec(),
                    )],
                })?;
            }
        }
        Ok(KvStore {
            engine,
            writer: Mutex::new(()),
            entries_read: AtomicU64::new(0),
        })
    }

    /// The engine underneath.
    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// How many engine entries (records, index entries, counters) `get`, `get_by_unique`,
    /// `scan` and `list` have visited since the store was opened. Tests use it to bound what a
    /// query plan reads.
    pub fn entries_read(&self) -> u64 {
        self.entries_read.load(Ordering::Relaxed)
    }

    pub(crate) fn note_read(&self, n: usize) {
        self.entries_read.fetch_add(n as u64, Ordering::Relaxed);
    }

    /// Reads one entry, counting it.
    pub(crate) fn read(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        self.note_read(1);
        self.engine.get(key)
    }

    /// A counter's value (absent counters are zero).
    pub(crate) fn read_counter(&self, key: &[u8]) -> StoreResult<u64> {
        self.read(key)?.map_or(Ok(0), |v| read_u64(&v))
    }

    /// The record with this key.
    pub(crate) fn fetch(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        self.read(&record_key(key))?
            .map(|v| decode_record(&v))
            .transpose()
    }

    /// Up to `max` entries of `[lo, hi)`, in key order or reversed, with their values when
    /// `values` is set.
    pub(crate) fn read_range(
        &self,
        lo: &[u8],
        hi: Option<&[u8]>,
        reverse: bool,
        max: usize,
        values: bool,
    ) -> StoreResult<Vec<(Vec<u8>, Vec<u8>)>> {
        let mut out = Vec::new();
        if max == 0 || hi.is_some_and(|hi| hi <= lo) {
            return Ok(out);
        }
        self.engine.scan(lo, hi, reverse, &mut |k, v| {
            out.push((k.to_vec(), if values { v.to_vec() } else { Vec::new() }));
            out.len() < max
        })?;
        self.note_read(out.len());
        Ok(out)
    }

    /// How many entries `[lo, hi)` holds.
    pub(crate) fn count_range(&self, lo: &[u8], hi: Option<&[u8]>) -> StoreResult<u64> {
        if hi.is_some_and(|hi| hi <= lo) {
            return Ok(0);
        }
        let mut n = 0u64;
        self.engine.scan(lo, hi, false, &mut |_, _| {
            n += 1;
            true
        })?;
        self.entries_read.fetch_add(n, Ordering::Relaxed);
        Ok(n)
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, ()> {
        // The guarded section keeps no state of its own (the engine applies batches
        // atomically), so a panic in another writer leaves nothing to repair.
        self.writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Validates `changes` against the current state and applies them as one batch.
    /// The caller holds the writer lock.
    fn validate_and_apply(&self, changes: &ChangeSet) -> StoreResult<()> {
        let mut tx = Tx::new(&self.engine);
        for (index, change) in changes.changes.iter().enumerate() {
            tx.apply(index, change)?;
        }
        let batch = tx.into_batch()?;
        if !batch.ops.is_empty() {
            self.engine.apply(batch)?;
        }
        Ok(())
    }
}

/// A change set being validated: its writes so far, seen by the checks of later changes.
struct Tx<'a, E: KvEngine> {
    engine: &'a E,
    /// Pending writes (`None` = removal), in key order.
    overlay: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Pending counter changes; counters are never read during validation.
    counters: BTreeMap<Vec<u8>, i64>,
    /// The highest integer id inserted, per kind.
    ids: BTreeMap<IdKind, i64>,
}

fn conflict(index: usize, conflict: Conflict) -> StoreError {
    StoreError::Conflict { conflict, index }
}

impl<'a, E: KvEngine> Tx<'a, E> {
    fn new(engine: &'a E) -> Self {
        Tx {
            engine,
            overlay: BTreeMap::new(),
            counters: BTreeMap::new(),
            ids: BTreeMap::new(),
        }
    }

    fn get(&self, key: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        match self.overlay.get(key) {
            Some(v) => Ok(v.clone()),
            None => self.engine.get(key),
        }
    }

    fn exists(&self, key: &[u8]) -> StoreResult<bool> {
        match self.overlay.get(key) {
            Some(v) => Ok(v.is_some()),
            None => Ok(self.engine.get(key)?.is_some()),
        }
    }

    fn record(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        self.get(&record_key(key))?
            .map(|v| decode_record(&v))
            .transpose()
    }

    /// Some key starting with `prefix` in the running state.
    fn first_with_prefix(&self, prefix: &[u8]) -> StoreResult<Option<Vec<u8>>> {
        let pending = self
            .overlay
            .range::<[u8], _>((Bound::Included(prefix), Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .find(|(_, v)| v.is_some())
            .map(|(k, _)| k.clone());
        if pending.is_some() {
            return Ok(pending);
        }
        let end = prefix_end(prefix);
        let mut found = None;
        let overlay = &self.overlay;
        self.engine
            .scan(prefix, end.as_deref(), false, &mut |k, _| {
                if matches!(overlay.get(k), Some(None)) {
                    return true; // removed earlier in this change set
                }
                found = Some(k.to_vec());
                false
            })?;
        Ok(found)
    }

    fn put(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.overlay.insert(key, Some(value));
    }

    fn remove(&mut self, key: Vec<u8>) {
        self.overlay.insert(key, None);
    }

    fn count(&mut self, key: Vec<u8>, delta: i64) {
        *self.counters.entry(key).or_insert(0) += delta;
    }

    fn reference_exists(&self, r: &Reference) -> StoreResult<bool> {
        match r {
            Reference::Key(k) => self.exists(&record_key(*k)),
            Reference::RoleName(name) => self.exists(&unique_key(&UniqueField::RoleName.key(name))),
        }
    }

    /// Checks unique keys and references of a record about to be written as `key`.
    fn check_links(&self, index: usize, record: &Record) -> StoreResult<()> {
        let owner = encode_key(record.key());
        for u in record.unique_keys() {
            if let Some(holder) = self.get(&unique_key(&u))?
                && holder != owner
            {
                return Err(conflict(index, Conflict::Unique(u)));
            }
        }
        for r in record.references() {
            if !self.reference_exists(&r)? {
                return Err(conflict(index, Conflict::MissingReference(r)));
            }
        }
        Ok(())
    }

    fn apply(&mut self, index: usize, change: &Change) -> StoreResult<()> {
        match change {
            Change::Insert(record) => {
                let key = record.key();
                if self.exists(&record_key(key))? {
                    return Err(conflict(index, Conflict::Exists(key)));
                }
                self.check_links(index, record)?;
                self.write_new(record)
            }
            Change::Update {
                record,
                expected_version,
            } => {
                let key = record.key();
                if key.collection().is_append_only() {
                    return Err(StoreError::InvalidChange {
                        index,
                        reason: key.collection().append_only_refusal(false),
                    });
                }
                let old = self.current(index, key, *expected_version)?;
                if let (Record::Role(before), Record::Role(after)) = (&old, record)
                    && before.name != after.name
                {
                    // Users refer to a role by name: a rename would leave them dangling.
                    let prefix = ref_prefix(&Reference::RoleName(before.name.clone()));
                    if let Some(entry) = self.first_with_prefix(&prefix)? {
                        let by = ref_source(&prefix, &entry)
                            .ok_or_else(|| corrupt("malformed reverse-reference entry"))?;
                        return Err(conflict(index, Conflict::Referenced { key, by }));
                    }
                }
                self.check_links(index, record)?;
                self.write_replacement(&old, record)
            }
            Change::Delete {
                key,
                expected_version,
            } => {
                if key.collection().is_append_only() {
                    return Err(StoreError::InvalidChange {
                        index,
                        reason: key.collection().append_only_refusal(true),
                    });
                }
                let old = self.current(index, *key, *expected_version)?;
                let mut targets = vec![Reference::Key(*key)];
                if let Record::Role(role) = &old {
                    targets.push(Reference::RoleName(role.name.clone()));
                }
                for target in targets {
                    let prefix = ref_prefix(&target);
                    if let Some(entry) = self.first_with_prefix(&prefix)? {
                        let by = ref_source(&prefix, &entry)
                            .ok_or_else(|| corrupt("malformed reverse-reference entry"))?;
                        return Err(conflict(index, Conflict::Referenced { key: *key, by }));
                    }
                }
                self.write_removal(&old);
                Ok(())
            }
        }
    }

    /// The current record at `key`, which must exist at `expected` version.
    fn current(&self, index: usize, key: RecordKey, expected: u64) -> StoreResult<Record> {
        let old = self
            .record(key)?
            .ok_or(StoreError::NotFound { key, index })?;
        if old.key() != key {
            return Err(corrupt(format_args!("{key} is stored as {}", old.key())));
        }
        if old.version() != expected {
            return Err(conflict(
                index,
                Conflict::Version {
                    key,
                    expected,
                    actual: old.version(),
                },
            ));
        }
        Ok(old)
    }

    fn write_new(&mut self, record: &Record) -> StoreResult<()> {
        let key = record.key();
        self.put(record_key(key), encode_record(record)?);
        let derived = derive(record);
        for (k, v) in derived.entries {
            self.put(k, v);
        }
        for c in derived.counters {
            self.count(c, 1);
        }
        if let Some((kind, id)) = key.int_id() {
            let max = self.ids.entry(kind).or_insert(id);
            *max = (*max).max(id);
        }
        Ok(())
    }

    fn write_replacement(&mut self, old: &Record, new: &Record) -> StoreResult<()> {
        self.put(record_key(new.key()), encode_record(new)?);
        let (old, new) = (derive(old), derive(new));
        for k in old.entries.keys() {
            if !new.entries.contains_key(k) {
                self.remove(k.clone());
            }
        }
        for (k, v) in new.entries {
            if old.entries.get(&k) != Some(&v) {
                self.put(k, v);
            }
        }
        for c in old.counters {
            self.count(c, -1);
        }
        for c in new.counters {
            self.count(c, 1);
        }
        Ok(())
    }

    fn write_removal(&mut self, old: &Record) {
        self.remove(record_key(old.key()));
        let derived = derive(old);
        for k in derived.entries.into_keys() {
            self.remove(k);
        }
        for c in derived.counters {
            self.count(c, -1);
        }
    }

    /// The batch: the pending writes, advanced id counters and updated counters.
    fn into_batch(self) -> StoreResult<KvBatch> {
        let mut ops = Vec::with_capacity(self.overlay.len() + self.counters.len());
        for (kind, id) in self.ids {
            let key = id_counter_key(kind);
            let current = self.engine.get(&key)?.map_or(Ok(0), |v| {
                read_i64(&v).ok_or_else(|| corrupt("an id counter is malformed"))
            })?;
            if id > current {
                ops.push(KvOp::Put(key, encode_counter_i64(id)));
            }
        }
        for (key, delta) in self.counters {
            if delta == 0 {
                continue;
            }
            let current = self.engine.get(&key)?.map_or(Ok(0), |v| read_u64(&v))?;
            // Counters never go below zero unless the store is damaged; an absent counter
            // is zero, so a counter that reaches zero is removed.
            let next = i64::try_from(current)
                .unwrap_or(i64::MAX)
                .saturating_add(delta);
            if next <= 0 {
                ops.push(KvOp::Remove(key));
            } else {
                ops.push(KvOp::Put(key, next.cast_unsigned().to_be_bytes().to_vec()));
            }
        }
        for (key, value) in self.overlay {
            ops.push(match value {
                Some(v) => KvOp::Put(key, v),
                None => KvOp::Remove(key),
            });
        }
        Ok(KvBatch { ops })
    }
}

fn encode_counter_i64(v: i64) -> Vec<u8> {
    let mut b = Vec::with_capacity(8);
    super::encode::push_i64(&mut b, v);
    b
}

#[async_trait]
impl<E: KvEngine> Store for KvStore<E> {
    async fn get(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        self.fetch(key)
    }

    async fn get_by_unique(&self, key: &UniqueKey) -> StoreResult<Option<Record>> {
        let Some(owner) = self.read(&unique_key(key))? else {
            return Ok(None);
        };
        let owner = decode_key(&owner).ok_or_else(|| corrupt("malformed unique-key entry"))?;
        self.fetch(owner)
    }

    async fn scan(
        &self,
        collection: Collection,
        after: Option<RecordKey>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        let prefix = record_prefix(collection);
        let end = prefix_end(&prefix);
        let start = match after {
            Some(k) => successor(&record_key(k)).max(prefix),
            None => prefix,
        };
        self.read_range(&start, end.as_deref(), false, limit, true)?
            .into_iter()
            .map(|(_, v)| decode_record(&v))
            .collect()
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<Page<Record>> {
        self.list_indexed(query)
    }

    async fn referrers(&self, reference: &Reference) -> StoreResult<Vec<RecordKey>> {
        let prefix = ref_prefix(reference);
        let end = prefix_end(&prefix);
        let mut found = Vec::new();
        let mut malformed = false;
        self.engine
            .scan(&prefix, end.as_deref(), false, &mut |k, _| {
                self.note_read(1);
                match ref_source(&prefix, k) {
                    Some(source) => found.push(source),
                    None => malformed = true,
                }
                true
            })?;
        if malformed {
            return Err(corrupt("malformed reverse-reference entry"));
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    async fn next_id(&self, kind: IdKind) -> StoreResult<i64> {
        let next = {
            let _writer = self.lock_writer();
            let key = id_counter_key(kind);
            let current = self.engine.get(&key)?.map_or(Ok(0), |v| {
                read_i64(&v).ok_or_else(|| corrupt("an id counter is malformed"))
            })?;
            let next = current
                .checked_add(1)
                .ok_or_else(|| StoreError::backend(format!("{} ids exhausted", kind.as_str())))?;
            self.engine.apply(KvBatch {
                ops: vec![KvOp::Put(key, encode_counter_i64(next))],
            })?;
            next
        };
        // No sync: an id only matters once a commit stores it, and that commit advances the
        // counter past it durably. An id handed out but lost in a crash was never stored, so
        // handing it out again is harmless.
        Ok(next)
    }

    async fn commit(&self, changes: ChangeSet) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        {
            let _writer = self.lock_writer();
            self.validate_and_apply(&changes)?;
        }
        self.engine.sync().await
    }

    async fn ping(&self) -> StoreResult<()> {
        self.engine.get(&version_key()).map(|_| ())
    }

    async fn close(&self) -> StoreResult<()> {
        self.engine.close().await
    }
}
