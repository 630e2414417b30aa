//! A unit of work: reads through the changes made so far, and collects them into one
//! [`ChangeSet`] (with its audit events) that the store commits atomically.

use std::collections::BTreeMap;

use crate::ids::AuditId;
use crate::model::{AuditEvent, Timestamp};
use crate::store::{
    Change, ChangeSet, Record, RecordKey, Reference, Store, StoreError, StoreResult, UniqueKey,
};

use super::Caller;

/// Pending changes over a store.
pub(crate) struct Tx<'a> {
    store: &'a dyn Store,
    /// The latest state of every record this unit touched (`None` = deleted).
    pending: BTreeMap<RecordKey, Option<Record>>,
    changes: ChangeSet,
    /// For each change, the operation (batch index) that made it.
    origins: Vec<usize>,
    /// The operation now running (batch index; 0 for single calls).
    pub op: usize,
}

impl<'a> Tx<'a> {
    pub fn new(store: &'a dyn Store) -> Tx<'a> {
        Tx {
            store,
            pending: BTreeMap::new(),
            changes: ChangeSet::new(),
            origins: Vec::new(),
            op: 0,
        }
    }

    pub fn store(&self) -> &'a dyn Store {
        self.store
    }

    /// The current state of `key`, pending changes included.
    pub async fn get(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        match self.pending.get(&key) {
            Some(r) => Ok(r.clone()),
            None => self.store.get(key).await,
        }
    }

    /// The record holding `key`, pending changes included.
    pub async fn get_by_unique(&self, key: &UniqueKey) -> StoreResult<Option<Record>> {
        for r in self.pending.values().flatten() {
            if r.unique_keys().contains(key) {
                return Ok(Some(r.clone()));
            }
        }
        match self.store.get_by_unique(key).await? {
            // Stored, but changed or deleted here: it no longer holds the key (the loop above
            // would have found its pending state otherwise).
            Some(r) if self.pending.contains_key(&r.key()) => Ok(None),
            other => Ok(other),
        }
    }

    /// The records that refer to `reference`, pending changes included, in key order.
    pub async fn referrers(&self, reference: &Reference) -> StoreResult<Vec<Record>> {
        let mut found: BTreeMap<RecordKey, Record> = BTreeMap::new();
        for key in self.store.referrers(reference).await? {
            if self.pending.contains_key(&key) {
                continue;
            }
            if let Some(r) = self.store.get(key).await?
                && r.references().contains(reference)
            {
                found.insert(key, r);
            }
        }
        for r in self.pending.values().flatten() {
            if r.references().contains(reference) {
                found.insert(r.key(), r.clone());
            }
        }
        Ok(found.into_values().collect())
    }

    /// Records a change.
    pub fn push(&mut self, change: Change) {
        match &change {
            Change::Insert(r) | Change::Update { record: r, .. } => {
                self.pending.insert(r.key(), Some(r.clone()));
            }
            Change::Delete { key, .. } => {
                self.pending.insert(*key, None);
            }
        }
        self.changes.changes.push(change);
        self.origins.push(self.op);
    }

    /// Adds an audit event for `action` on `object`.
    pub async fn audit(
        &mut self,
        caller: &Caller,
        now: Timestamp,
        action: &str,
        object_type: &str,
        object_id: String,
        changes: serde_json::Value,
    ) -> StoreResult<()> {
        let id = AuditId(self.store.next_id(crate::ids::IdKind::Audit).await?);
        let event = AuditEvent {
            id,
            timestamp: now,
            actor: caller.user_id(),
            actor_username: caller.username().map(str::to_owned),
            action: action.to_owned(),
            object_type: object_type.to_owned(),
            object_id,
            ip: caller.ip().map(str::to_owned),
            changes,
        };
        self.push(Change::Insert(Record::Audit(event)));
        Ok(())
    }

    /// Commits everything. On failure, also names the operation (batch index) whose change
    /// the store refused.
    pub async fn commit_with_origin(self) -> Result<(), (StoreError, usize)> {
        if self.changes.is_empty() {
            return Ok(());
        }
        let origins = self.origins;
        self.store.commit(self.changes).await.map_err(|e| {
            let op = match &e {
                StoreError::Conflict { index, .. } | StoreError::NotFound { index, .. } => {
                    origins.get(*index).copied().unwrap_or(0)
                }
                _ => 0,
            };
            (e, op)
        })
    }

    /// Commits everything.
    pub async fn commit(self) -> StoreResult<()> {
        self.commit_with_origin().await.map_err(|(e, _)| e)
    }
}
