//! [`SqlStore`]: the [`Store`] over a [`Driver`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use rehome_core::ids::IdKind;
use rehome_core::query::{Collection, ListQuery, Page};
use rehome_core::store::{
    Change, ChangeSet, Conflict, Record, RecordKey, RefSpec, Reference, Store, StoreError,
    StoreResult, UniqueField, UniqueKey,
};

use crate::driver::{Arg, DbError, Driver, ErrorClass, Sql, Tx, Ty};
use crate::list::{count_sql, page_sql};
use crate::row::{decode, key_arg, key_from_id, record_args, unique_arg};
use crate::schema::{
    DEVICE_SHIPMENTS, Dialect, IDS, RefColumn, Table, id_kind_tag, ref_column, table,
};

/// How many times a commit is tried when the database asks for a retry (deadlock,
/// serialisation failure) or a constraint fails that the checks did not foresee (a race).
const ATTEMPTS: usize = 4;

/// rehome's [`Store`] on a SQL database (SQLite, PostgreSQL or MySQL/MariaDB, by cargo
/// feature). Open it with [`crate::open`] or [`crate::Options::open`].
pub struct SqlStore {
    driver: Box<dyn Driver>,
    /// Per id kind, a value the database's counter is known to have reached: inserting an id
    /// at or below it needs no counter update (ids from [`Store::next_id`] never do).
    floors: [AtomicI64; IdKind::ALL.len()],
}

impl std::fmt::Debug for SqlStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("dialect", &self.driver.dialect())
            .finish_non_exhaustive()
    }
}

fn kind_index(k: IdKind) -> usize {
    IdKind::ALL.iter().position(|x| *x == k).unwrap_or(0)
}

fn conflict(index: usize, conflict: Conflict) -> StoreError {
    StoreError::Conflict { conflict, index }
}

/// Why one attempt at a commit ended.
enum Stop {
    /// The final answer.
    Store(StoreError),
    /// A unique or foreign key failed: try again, checking every change first.
    Constraint(DbError),
    /// The database rolled back for a transient reason: try again.
    Retry(DbError),
}

impl From<StoreError> for Stop {
    fn from(e: StoreError) -> Stop {
        Stop::Store(e)
    }
}

/// Sorts a database error from the statement of change `index`.
fn stop(index: usize, e: DbError) -> Stop {
    match e.class() {
        ErrorClass::Unique | ErrorClass::ForeignKey => Stop::Constraint(e),
        ErrorClass::Retry => Stop::Retry(e),
        ErrorClass::TooLong => Stop::Store(StoreError::InvalidChange {
            index,
            reason: format!("a value is too long for the database: {}", e.0),
        }),
        ErrorClass::NoTable | ErrorClass::Other => Stop::Store(e.into_store()),
    }
}

/// Errors of statements that are not part of one change (begin, counters, commit).
fn stop_any(e: DbError) -> Stop {
    match e.class() {
        ErrorClass::Retry => Stop::Retry(e),
        ErrorClass::Unique | ErrorClass::ForeignKey => Stop::Constraint(e),
        _ => Stop::Store(e.into_store()),
    }
}

fn with_index(index: usize, e: StoreError) -> StoreError {
    match e {
        StoreError::InvalidChange { reason, .. } => StoreError::InvalidChange { index, reason },
        other => other,
    }
}

impl SqlStore {
    pub(crate) fn new(driver: Box<dyn Driver>) -> SqlStore {
        SqlStore {
            driver,
            floors: Default::default(),
        }
    }

    /// The dialect of the database underneath.
    pub fn dialect(&self) -> Dialect {
        self.driver.dialect()
    }

    pub(crate) fn driver(&self) -> &dyn Driver {
        self.driver.as_ref()
    }

    fn sql(&self) -> Sql {
        Sql::new(self.driver.dialect())
    }

    fn raise_floor(&self, kind: IdKind, id: i64) {
        self.floors[kind_index(kind)].fetch_max(id, Ordering::Relaxed);
    }

    async fn fetch_data(&self, q: Sql) -> StoreResult<Vec<Option<Vec<u8>>>> {
        let mut conn = self.driver.reader().await?;
        let rows = conn.fetch(q, &[Ty::Bytes]).await?;
        Ok(rows
            .into_iter()
            .map(|mut r| r.pop().and_then(Arg::into_bytes))
            .collect())
    }

    async fn fetch_records(&self, c: Collection, q: Sql) -> StoreResult<Vec<Record>> {
        self.fetch_data(q)
            .await?
            .into_iter()
            .map(|d| decode(c, d))
            .collect()
    }

    /// One attempt at committing `changes`; `checked` checks every key, unique key, reference
    /// and version before writing, so that a refusal names exactly what conflicts.
    async fn attempt(
        &self,
        changes: &ChangeSet,
        checked: bool,
    ) -> Result<BTreeMap<IdKind, i64>, Stop> {
        let mut tx = self.driver.begin().await.map_err(stop_any)?;
        match self.apply_all(tx.as_mut(), changes, checked).await {
            Ok(highest) => {
                tx.commit().await.map_err(stop_any)?;
                Ok(highest)
            }
            Err(e) => {
                // A failed rollback leaves nothing to repair: the connection is discarded.
                let _ = tx.rollback().await;
                Err(e)
            }
        }
    }

    /// Applies every change and the counter updates inside `tx`.
    async fn apply_all(
        &self,
        tx: &mut dyn Tx,
        changes: &ChangeSet,
        checked: bool,
    ) -> Result<BTreeMap<IdKind, i64>, Stop> {
        self.lock_rows(&mut *tx, changes).await?;
        let mut highest: BTreeMap<IdKind, i64> = BTreeMap::new();
        for (index, change) in changes.changes.iter().enumerate() {
            match change {
                Change::Insert(record) => {
                    if checked {
                        self.check_insert(&mut *tx, index, record).await?;
                    }
                    self.insert(&mut *tx, index, record).await?;
                    if let Some((kind, id)) = record.key().int_id() {
                        let h = highest.entry(kind).or_insert(id);
                        *h = (*h).max(id);
                    }
                }
                Change::Update {
                    record,
                    expected_version,
                } => {
                    if checked {
                        self.check_update(&mut *tx, index, record, *expected_version)
                            .await?;
                    }
                    self.update(&mut *tx, index, record, *expected_version)
                        .await?;
                }
                Change::Delete {
                    key,
                    expected_version,
                } => {
                    if checked {
                        self.check_delete(&mut *tx, index, *key, *expected_version)
                            .await?;
                    }
                    self.delete(&mut *tx, index, *key, *expected_version)
                        .await?;
                }
            }
        }
        // Counters last and in kind order, so two commits never wait for each other's counter
        // rows in opposite orders.
        for (kind, id) in &highest {
            if *id <= self.floors[kind_index(*kind)].load(Ordering::Relaxed) {
                continue;
            }
            let mut q = self.sql();
            q.push("UPDATE ")
                .push(IDS)
                .push(" SET value = ")
                .arg(Arg::int(*id))
                .push(" WHERE kind = ")
                .arg(Arg::int(id_kind_tag(*kind)))
                .push(" AND value < ")
                .arg(Arg::int(*id));
            tx.execute(q).await.map_err(stop_any)?;
        }
        Ok(highest)
    }

    /// Locks every stored row the change set updates or deletes before writing any, table by
    /// table in one fixed order and by id within a table (PostgreSQL and MySQL; an SQLite
    /// write transaction already holds the whole database).
    ///
    /// Without it, two change sets touching the same rows in different orders (batches,
    /// deletes clearing referrers) each lock some and wait for the other's: the database
    /// breaks the deadlock by aborting one, which is retried — but with dozens of such
    /// transactions from several processes, PostgreSQL's one-second deadlock detection turns
    /// into a convoy in which nothing commits for tens of seconds and retries run out. In one
    /// order, a change set waits for the one ahead of it to commit, then finds the new
    /// version and is refused at once.
    async fn lock_rows(&self, tx: &mut dyn Tx, changes: &ChangeSet) -> Result<(), Stop> {
        if self.driver.dialect() == Dialect::Sqlite {
            return Ok(());
        }
        let mut targets: BTreeMap<Collection, std::collections::BTreeSet<RecordKey>> =
            BTreeMap::new();
        for change in &changes.changes {
            let key = match change {
                Change::Insert(_) => continue,
                Change::Update { record, .. } => record.key(),
                Change::Delete { key, .. } => *key,
            };
            if !key.collection().is_append_only() {
                targets.entry(key.collection()).or_default().insert(key);
            }
        }
        // One row needs no ordering: its update takes the lock by itself.
        if targets.values().map(|keys| keys.len()).sum::<usize>() < 2 {
            return Ok(());
        }
        for (collection, keys) in targets {
            let t = table(collection);
            let mut q = self.sql();
            q.push("SELECT id FROM ")
                .push(t.name)
                .push(" WHERE id IN (");
            for (i, key) in keys.iter().enumerate() {
                if i > 0 {
                    q.push(", ");
                }
                q.arg(key_arg(*key));
            }
            q.push(") ORDER BY id FOR UPDATE");
            tx.fetch(q, &[id_ty(t)]).await.map_err(stop_any)?;
        }
        Ok(())
    }

    async fn insert(&self, tx: &mut dyn Tx, index: usize, record: &Record) -> Result<(), Stop> {
        let (t, args) = record_args(record).map_err(|e| with_index(index, e))?;
        let mut q = self.sql();
        q.push("INSERT INTO ").push(t.name).push(" (");
        for (i, c) in t.columns.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push(&c.name);
        }
        q.push(") VALUES (");
        for (i, a) in args.into_iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.arg(a);
        }
        q.push(")");
        tx.execute(q).await.map_err(|e| stop(index, e))?;
        if let Record::Device(d) = record
            && !d.shipping_infos.is_empty()
        {
            self.insert_shipments(tx, index, record.key(), &d.shipping_infos)
                .await?;
        }
        Ok(())
    }

    async fn insert_shipments(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        device: RecordKey,
        shipments: &[rehome_core::ShipmentId],
    ) -> Result<(), Stop> {
        let mut q = self.sql();
        q.push("INSERT INTO ")
            .push(DEVICE_SHIPMENTS)
            .push(" (device_id, shipment_id) VALUES ");
        let mut seen = std::collections::BTreeSet::new();
        for s in shipments {
            // The model keeps them unique; a duplicate must not fail the join table's key.
            if !seen.insert(s.0) {
                continue;
            }
            if seen.len() > 1 {
                q.push(", ");
            }
            q.push("(")
                .arg(key_arg(device))
                .push(", ")
                .arg(Arg::int(s.0))
                .push(")");
        }
        tx.execute(q).await.map_err(|e| stop(index, e))?;
        Ok(())
    }

    /// After a conditional write touched no row: `NotFound` or `Version`, or `Ok` when the row
    /// is there at the expected version (MySQL counts unchanged rows as untouched).
    async fn explain_miss(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        key: RecordKey,
        expected: u64,
    ) -> Result<(), Stop> {
        match self.current_version(tx, index, key).await? {
            None => Err(Stop::Store(StoreError::NotFound { key, index })),
            Some(actual) if actual == expected => Ok(()),
            Some(actual) => Err(Stop::Store(conflict(
                index,
                Conflict::Version {
                    key,
                    expected,
                    actual,
                },
            ))),
        }
    }

    async fn current_version(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        key: RecordKey,
    ) -> Result<Option<u64>, Stop> {
        let t = table(key.collection());
        let mut q = self.sql();
        q.push("SELECT version FROM ")
            .push(t.name)
            .push(" WHERE id = ")
            .arg(key_arg(key));
        let rows = tx.fetch(q, &[Ty::Int]).await.map_err(|e| stop(index, e))?;
        // Bit for bit: the column is i64, versions u64.
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(Arg::as_int)
            .map(|v| v as u64))
    }

    async fn update(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        record: &Record,
        expected: u64,
    ) -> Result<(), Stop> {
        let key = record.key();
        if key.collection().is_append_only() {
            return Err(Stop::Store(StoreError::InvalidChange {
                index,
                reason: key.collection().append_only_refusal(false),
            }));
        }
        let (t, args) = record_args(record).map_err(|e| with_index(index, e))?;
        let mut q = self.sql();
        q.push("UPDATE ").push(t.name).push(" SET ");
        let mut first = true;
        for (c, a) in t.columns.iter().zip(args) {
            if c.name == "id" {
                continue;
            }
            if !first {
                q.push(", ");
            }
            first = false;
            q.push(&c.name).push(" = ").arg(a);
        }
        q.push(" WHERE id = ")
            .arg(key_arg(key))
            .push(" AND version = ")
            .arg(Arg::int(expected as i64));
        let done = tx.execute(q).await.map_err(|e| stop(index, e))?;
        if done.rows == 0 {
            self.explain_miss(tx, index, key, expected).await?;
        }
        if let Record::Device(d) = record {
            let mut q = self.sql();
            q.push("DELETE FROM ")
                .push(DEVICE_SHIPMENTS)
                .push(" WHERE device_id = ")
                .arg(key_arg(key));
            tx.execute(q).await.map_err(|e| stop(index, e))?;
            if !d.shipping_infos.is_empty() {
                self.insert_shipments(tx, index, key, &d.shipping_infos)
                    .await?;
            }
        }
        Ok(())
    }

    async fn delete(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        key: RecordKey,
        expected: u64,
    ) -> Result<(), Stop> {
        if key.collection().is_append_only() {
            return Err(Stop::Store(StoreError::InvalidChange {
                index,
                reason: key.collection().append_only_refusal(true),
            }));
        }
        let t = table(key.collection());
        let mut q = self.sql();
        q.push("DELETE FROM ")
            .push(t.name)
            .push(" WHERE id = ")
            .arg(key_arg(key))
            .push(" AND version = ")
            .arg(Arg::int(expected as i64));
        let done = tx.execute(q).await.map_err(|e| stop(index, e))?;
        if done.rows == 0 {
            match self.current_version(tx, index, key).await? {
                None => return Err(Stop::Store(StoreError::NotFound { key, index })),
                Some(actual) => {
                    return Err(Stop::Store(conflict(
                        index,
                        Conflict::Version {
                            key,
                            expected,
                            actual,
                        },
                    )));
                }
            }
        }
        Ok(())
    }

    // -----------------------------------------------------------------------------------------
    // The checks of the checked attempt, in the order the key-value store makes them.

    async fn exists(&self, tx: &mut dyn Tx, index: usize, key: RecordKey) -> Result<bool, Stop> {
        Ok(self.current_version(tx, index, key).await?.is_some())
    }

    async fn holder(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        key: &UniqueKey,
    ) -> Result<Option<RecordKey>, Stop> {
        let Some((column, arg)) = unique_arg(key) else {
            return Ok(None);
        };
        let c = key.field.collection();
        let t = table(c);
        let mut q = self.sql();
        q.push("SELECT id FROM ")
            .push(t.name)
            .push(" WHERE ")
            .push(column)
            .push(" = ")
            .arg(arg);
        let rows = tx.fetch(q, &[id_ty(t)]).await.map_err(|e| stop(index, e))?;
        match rows.first().and_then(|r| r.first()) {
            Some(id) => Ok(Some(key_from_id(c, id)?)),
            None => Ok(None),
        }
    }

    async fn reference_exists(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        r: &Reference,
    ) -> Result<bool, Stop> {
        match r {
            Reference::Key(k) => self.exists(tx, index, *k).await,
            Reference::RoleName(name) => Ok(self
                .holder(tx, index, &UniqueField::RoleName.key(name))
                .await?
                .is_some()),
        }
    }

    async fn check_links(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        record: &Record,
    ) -> Result<(), Stop> {
        let own = record.key();
        for u in record.unique_keys() {
            if let Some(holder) = self.holder(tx, index, &u).await?
                && holder != own
            {
                return Err(Stop::Store(conflict(index, Conflict::Unique(u))));
            }
        }
        for r in record.references() {
            if !self.reference_exists(tx, index, &r).await? {
                return Err(Stop::Store(conflict(index, Conflict::MissingReference(r))));
            }
        }
        Ok(())
    }

    async fn check_insert(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        record: &Record,
    ) -> Result<(), Stop> {
        let key = record.key();
        if self.exists(tx, index, key).await? {
            return Err(Stop::Store(conflict(index, Conflict::Exists(key))));
        }
        self.check_links(tx, index, record).await
    }

    async fn check_version(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        key: RecordKey,
        expected: u64,
    ) -> Result<(), Stop> {
        match self.current_version(tx, index, key).await? {
            None => Err(Stop::Store(StoreError::NotFound { key, index })),
            Some(actual) if actual != expected => Err(Stop::Store(conflict(
                index,
                Conflict::Version {
                    key,
                    expected,
                    actual,
                },
            ))),
            Some(_) => Ok(()),
        }
    }

    async fn stored(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        key: RecordKey,
    ) -> Result<Option<Record>, Stop> {
        let t = table(key.collection());
        let mut q = self.sql();
        q.push("SELECT data FROM ")
            .push(t.name)
            .push(" WHERE id = ")
            .arg(key_arg(key));
        let rows = tx
            .fetch(q, &[Ty::Bytes])
            .await
            .map_err(|e| stop(index, e))?;
        match rows.into_iter().next().and_then(|r| r.into_iter().next()) {
            Some(data) => Ok(Some(decode(key.collection(), data.into_bytes())?)),
            None => Ok(None),
        }
    }

    async fn check_update(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        record: &Record,
        expected: u64,
    ) -> Result<(), Stop> {
        let key = record.key();
        if key.collection().is_append_only() {
            return Err(Stop::Store(StoreError::InvalidChange {
                index,
                reason: key.collection().append_only_refusal(false),
            }));
        }
        self.check_version(tx, index, key, expected).await?;
        if let Record::Role(after) = record
            && let Some(Record::Role(before)) = self.stored(tx, index, key).await?
            && before.name != after.name
            && let Some(by) = self
                .first_referrer(tx, index, &Reference::RoleName(before.name.clone()))
                .await?
        {
            // Users refer to a role by name: a rename would leave them dangling.
            return Err(Stop::Store(conflict(
                index,
                Conflict::Referenced { key, by },
            )));
        }
        self.check_links(tx, index, record).await
    }

    async fn check_delete(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        key: RecordKey,
        expected: u64,
    ) -> Result<(), Stop> {
        if key.collection().is_append_only() {
            return Err(Stop::Store(StoreError::InvalidChange {
                index,
                reason: key.collection().append_only_refusal(true),
            }));
        }
        self.check_version(tx, index, key, expected).await?;
        let mut targets = vec![Reference::Key(key)];
        if key.collection() == Collection::Roles
            && let Some(Record::Role(role)) = self.stored(tx, index, key).await?
        {
            targets.push(Reference::RoleName(role.name));
        }
        for target in targets {
            if let Some(by) = self.first_referrer(tx, index, &target).await? {
                return Err(Stop::Store(conflict(
                    index,
                    Conflict::Referenced { key, by },
                )));
            }
        }
        Ok(())
    }

    async fn first_referrer(
        &self,
        tx: &mut dyn Tx,
        index: usize,
        target: &Reference,
    ) -> Result<Option<RecordKey>, Stop> {
        for (c, q) in referrer_queries(self.driver.dialect(), target, true) {
            let t = table(c);
            let rows = tx.fetch(q, &[id_ty(t)]).await.map_err(|e| stop(index, e))?;
            if let Some(id) = rows.first().and_then(|r| r.first()) {
                return Ok(Some(key_from_id(c, id)?));
            }
        }
        Ok(None)
    }
}

fn id_ty(t: &Table) -> Ty {
    if t.id_type().is_bytes() {
        Ty::Bytes
    } else {
        Ty::Int
    }
}

/// The queries finding the ids of records that hold `target`, one per collection that can
/// hold it ([`RefSpec::holding`], in [`RecordKey`] order, so the first hit of the first query
/// is the least referrer's collection), testing each column of that collection's fields.
fn referrer_queries(d: Dialect, target: &Reference, first_only: bool) -> Vec<(Collection, Sql)> {
    let arg = match target {
        Reference::Key(key) => key_arg(*key),
        Reference::RoleName(name) => Arg::bytes(name.as_bytes()),
    };
    let mut groups: Vec<(Collection, RefColumn, Vec<&str>)> = Vec::new();
    for spec in RefSpec::holding(target) {
        let col = ref_column(spec);
        match groups.last_mut() {
            Some((c, first, columns)) if *c == spec.source && first.table == col.table => {
                columns.push(col.column)
            }
            _ => groups.push((spec.source, col, vec![col.column])),
        }
    }
    groups
        .into_iter()
        .map(|(c, col, columns)| {
            let mut q = Sql::new(d);
            q.push("SELECT ")
                .push(col.id)
                .push(" FROM ")
                .push(col.table)
                .push(" WHERE ");
            for (i, column) in columns.iter().enumerate() {
                if i > 0 {
                    q.push(" OR ");
                }
                q.push(column).push(" = ").arg(arg.clone());
            }
            q.push(" ORDER BY ").push(col.id);
            if first_only {
                q.push(" LIMIT 1");
            }
            (c, q)
        })
        .collect()
}

#[async_trait]
impl Store for SqlStore {
    async fn get(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        let t = table(key.collection());
        let mut q = self.sql();
        q.push("SELECT data FROM ")
            .push(t.name)
            .push(" WHERE id = ")
            .arg(key_arg(key));
        Ok(self
            .fetch_records(key.collection(), q)
            .await?
            .into_iter()
            .next())
    }

    async fn get_by_unique(&self, key: &UniqueKey) -> StoreResult<Option<Record>> {
        let Some((column, arg)) = unique_arg(key) else {
            return Ok(None);
        };
        let c = key.field.collection();
        let mut q = self.sql();
        q.push("SELECT data FROM ")
            .push(table(c).name)
            .push(" WHERE ")
            .push(column)
            .push(" = ")
            .arg(arg);
        Ok(self.fetch_records(c, q).await?.into_iter().next())
    }

    async fn scan(
        &self,
        collection: Collection,
        after: Option<RecordKey>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let mut q = self.sql();
        q.push("SELECT data FROM ").push(table(collection).name);
        if let Some(after) = after {
            if after.collection() != collection {
                return Err(StoreError::backend(format!(
                    "scan of {} after a key of {}",
                    collection.as_str(),
                    after.collection().as_str()
                )));
            }
            q.push(" WHERE id > ").arg(key_arg(after));
        }
        q.push(" ORDER BY id LIMIT ")
            .arg(Arg::int(i64::try_from(limit).unwrap_or(i64::MAX)));
        self.fetch_records(collection, q).await
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<Page<Record>> {
        let d = self.driver.dialect();
        let c = query.collection;
        let items = if query.limit == 0 {
            Vec::new()
        } else {
            self.fetch_records(c, page_sql(d, query)).await?
        };
        let total = if !query.count {
            None
        } else if !items.is_empty() && (items.len() as u64) < query.limit {
            // The page ends before the limit: it holds the last match.
            Some(query.offset.saturating_add(items.len() as u64))
        } else if items.is_empty() && query.offset == 0 && query.limit > 0 {
            Some(0)
        } else {
            let mut conn = self.driver.reader().await?;
            let rows = conn.fetch(count_sql(d, query), &[Ty::Int]).await?;
            let n = rows
                .first()
                .and_then(|r| r.first())
                .and_then(Arg::as_int)
                .unwrap_or(0);
            Some(u64::try_from(n).unwrap_or(0))
        };
        Ok(Page { items, total })
    }

    async fn referrers(&self, reference: &Reference) -> StoreResult<Vec<RecordKey>> {
        let mut found = Vec::new();
        let mut conn = self.driver.reader().await?;
        for (c, q) in referrer_queries(self.driver.dialect(), reference, false) {
            let rows = conn.fetch(q, &[id_ty(table(c))]).await?;
            for r in rows {
                if let Some(id) = r.first() {
                    found.push(key_from_id(c, id)?);
                }
            }
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    async fn next_id(&self, kind: IdKind) -> StoreResult<i64> {
        let tag = Arg::int(id_kind_tag(kind));
        let mut q = self.sql();
        let id = match self.driver.dialect() {
            Dialect::Sqlite | Dialect::Postgres => {
                q.push("UPDATE ")
                    .push(IDS)
                    .push(" SET value = value + 1 WHERE kind = ")
                    .arg(tag)
                    .push(" RETURNING value");
                let (_, rows) = self.driver.write_one(q, &[Ty::Int]).await?;
                rows.first().and_then(|r| r.first()).and_then(Arg::as_int)
            }
            Dialect::MySql => {
                // No RETURNING on MySQL: LAST_INSERT_ID(expr) hands the value back in the
                // statement's own reply.
                q.push("UPDATE ")
                    .push(IDS)
                    .push(" SET value = LAST_INSERT_ID(value + 1) WHERE kind = ")
                    .arg(tag);
                let (done, _) = self.driver.write_one(q, &[]).await?;
                (done.rows == 1).then(|| i64::try_from(done.last_insert_id).unwrap_or(0))
            }
        };
        let id = id.ok_or_else(|| {
            StoreError::Corrupt(format!("the id counter of {} is missing", kind.as_str()))
        })?;
        self.raise_floor(kind, id);
        Ok(id)
    }

    async fn commit(&self, changes: ChangeSet) -> StoreResult<()> {
        if changes.is_empty() {
            return Ok(());
        }
        let mut checked = false;
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            match self.attempt(&changes, checked).await {
                Ok(highest) => {
                    for (kind, id) in highest {
                        self.raise_floor(kind, id);
                    }
                    return Ok(());
                }
                Err(Stop::Store(e)) => return Err(e),
                Err(Stop::Constraint(e)) => {
                    // Find out which change and key: again, checking each change first. A
                    // constraint failing even so means another writer got in between.
                    checked = true;
                    last = Some(e);
                }
                Err(Stop::Retry(e)) => {
                    last = Some(e);
                    tokio::time::sleep(Duration::from_millis(5 << attempt)).await;
                }
            }
        }
        Err(last.map_or_else(|| StoreError::backend("commit failed"), DbError::into_store))
    }

    async fn ping(&self) -> StoreResult<()> {
        let mut conn = self.driver.reader().await?;
        let mut q = self.sql();
        q.push("SELECT 1");
        conn.execute(q).await?;
        Ok(())
    }

    async fn close(&self) -> StoreResult<()> {
        self.driver.close().await;
        Ok(())
    }
}
