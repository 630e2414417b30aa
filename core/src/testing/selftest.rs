//! The suite run against a tiny store written here (a locked map, the default scan-based
//! `list`), to show the suite compiles and can pass; and against deliberately broken variants
//! of it, to show the checks can fail.

use std::collections::{BTreeMap, HashMap};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;

use crate::ids::IdKind;
use crate::query::{Collection, ListQuery, Order, Page};
use crate::store::{
    Change, ChangeSet, Conflict, Record, RecordKey, Reference, Store, StoreError, StoreResult,
    UniqueKey,
};

use super::StoreFactory;

/// A defect to build into the tiny store, to see the suite catch it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Defect {
    None,
    /// Ties in list orderings go by id descending.
    TiesDescending,
    /// `offset` is ignored.
    IgnoresOffset,
    /// Usernames and emails are unique exactly, not folded.
    CaseSensitiveUsers,
    /// A failing batch keeps the changes before the failure.
    NotAtomic,
    /// Deleting a referenced record is allowed.
    NoReferenceCheckOnDelete,
    /// Every store handle shares one counter and a reopen starts it again.
    CountersForgotten,
    /// Credentials, sessions and MFA challenges do not keep their user from being deleted.
    AuthReferencesIgnored,
    /// Digest keys scan in little-endian order (last byte first).
    DigestKeysLittleEndian,
    /// `totp_last_step` is kept in 32 bits, as in an SQL `INTEGER` column.
    TotpStepIn32Bits,
}

#[derive(Debug, Default, Clone)]
struct State {
    records: BTreeMap<RecordKey, Record>,
    counters: BTreeMap<IdKind, i64>,
}

struct TinyStore {
    state: Arc<Mutex<State>>,
    defect: Defect,
}

impl TinyStore {
    fn lock(&self) -> StoreResult<std::sync::MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| StoreError::backend("tiny store lock poisoned"))
    }

    fn keys_of(&self, r: &Record) -> Vec<UniqueKey> {
        if self.defect == Defect::CaseSensitiveUsers
            && let Record::User(u) = r
        {
            return vec![
                UniqueKey {
                    field: crate::store::UniqueField::UserUsername,
                    value: u.username.clone(),
                },
                UniqueKey {
                    field: crate::store::UniqueField::UserEmail,
                    value: u.email.clone(),
                },
            ];
        }
        r.unique_keys()
    }

    /// What the store keeps of `r`.
    fn stored(&self, r: &Record) -> Record {
        match r {
            Record::Credentials(c) if self.defect == Defect::TotpStepIn32Bits => {
                let mut c = c.clone();
                c.totp_last_step = c.totp_last_step.map(|s| u64::from(s as u32));
                Record::Credentials(c)
            }
            _ => r.clone(),
        }
    }

    /// The order scans go in: the key's, or for [`Defect::DigestKeysLittleEndian`] digests
    /// compared from their last byte.
    fn scan_order(&self, k: &RecordKey) -> (RecordKey, [u8; 32]) {
        match k {
            RecordKey::Session(d) | RecordKey::MfaChallenge(d) | RecordKey::Throttle(d)
                if self.defect == Defect::DigestKeysLittleEndian =>
            {
                let mut le = d.0;
                le.reverse();
                // The collection still comes first: every digest key of it compares equal.
                let zeroed = match k {
                    RecordKey::Session(_) => RecordKey::Session(crate::ids::Digest([0; 32])),
                    RecordKey::MfaChallenge(_) => {
                        RecordKey::MfaChallenge(crate::ids::Digest([0; 32]))
                    }
                    _ => RecordKey::Throttle(crate::ids::Digest([0; 32])),
                };
                (zeroed, le)
            }
            _ => (*k, [0; 32]),
        }
    }

    fn check_new_state(&self, s: &State, r: &Record) -> Result<(), Conflict> {
        let key = r.key();
        for k in self.keys_of(r) {
            if s.records
                .values()
                .any(|o| o.key() != key && self.keys_of(o).contains(&k))
            {
                return Err(Conflict::Unique(k));
            }
        }
        for reference in r.references() {
            let exists = match &reference {
                Reference::Key(k) => s.records.contains_key(k),
                Reference::RoleName(n) => s
                    .records
                    .values()
                    .any(|o| matches!(o, Record::Role(role) if role.name == *n)),
            };
            if !exists {
                return Err(Conflict::MissingReference(reference));
            }
        }
        Ok(())
    }

    fn apply(&self, s: &mut State, change: &Change, index: usize) -> StoreResult<()> {
        let conflict = |conflict| StoreError::Conflict { conflict, index };
        let version = |current: &Record, expected: u64| {
            if current.version() == expected {
                Ok(())
            } else {
                Err(conflict(Conflict::Version {
                    key: current.key(),
                    expected,
                    actual: current.version(),
                }))
            }
        };
        match change {
            Change::Insert(r) => {
                let key = r.key();
                if s.records.contains_key(&key) {
                    return Err(conflict(Conflict::Exists(key)));
                }
                self.check_new_state(s, r).map_err(conflict)?;
                if let Some((kind, id)) = key.int_id() {
                    let c = s.counters.entry(kind).or_insert(0);
                    *c = (*c).max(id);
                }
                s.records.insert(key, self.stored(r));
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
                let current = s
                    .records
                    .get(&key)
                    .ok_or(StoreError::NotFound { key, index })?;
                version(current, *expected_version)?;
                if let (Record::Role(before), Record::Role(after)) = (current, record)
                    && before.name != after.name
                {
                    let held = Reference::RoleName(before.name.clone());
                    if let Some(by) = s.records.values().find(|o| o.references().contains(&held)) {
                        return Err(conflict(Conflict::Referenced { key, by: by.key() }));
                    }
                }
                self.check_new_state(s, record).map_err(conflict)?;
                s.records.insert(key, self.stored(record));
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
                let current = s
                    .records
                    .get(key)
                    .ok_or(StoreError::NotFound { key: *key, index })?;
                version(current, *expected_version)?;
                let as_reference = match current {
                    Record::Role(r) => Reference::RoleName(r.name.clone()),
                    _ => Reference::Key(*key),
                };
                let counts = |o: &Record| {
                    self.defect != Defect::AuthReferencesIgnored
                        || !matches!(
                            o,
                            Record::Credentials(_) | Record::Session(_) | Record::MfaChallenge(_)
                        )
                };
                if self.defect != Defect::NoReferenceCheckOnDelete
                    && let Some(by) = s
                        .records
                        .values()
                        .find(|o| counts(o) && o.references().contains(&as_reference))
                {
                    return Err(conflict(Conflict::Referenced {
                        key: *key,
                        by: by.key(),
                    }));
                }
                s.records.remove(key);
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Store for TinyStore {
    async fn get(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        Ok(self.lock()?.records.get(&key).cloned())
    }

    async fn get_by_unique(&self, key: &UniqueKey) -> StoreResult<Option<Record>> {
        Ok(self
            .lock()?
            .records
            .values()
            .find(|r| self.keys_of(r).contains(key))
            .cloned())
    }

    async fn scan(
        &self,
        collection: Collection,
        after: Option<RecordKey>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        let s = self.lock()?;
        let mut found: Vec<&Record> = s
            .records
            .values()
            .filter(|r| {
                r.collection() == collection
                    && after.is_none_or(|a| self.scan_order(&r.key()) > self.scan_order(&a))
            })
            .collect();
        found.sort_by_key(|r| self.scan_order(&r.key()));
        Ok(found.into_iter().take(limit).cloned().collect())
    }

    async fn list(&self, query: &ListQuery) -> StoreResult<Page<Record>> {
        match self.defect {
            Defect::TiesDescending => {
                let mut q = query.clone();
                q.ordering.push(Order::desc(q.collection.id_field()));
                crate::eval::list_by_scan(self, &q).await
            }
            Defect::IgnoresOffset => {
                let mut q = query.clone();
                q.offset = 0;
                crate::eval::list_by_scan(self, &q).await
            }
            _ => crate::eval::list_by_scan(self, query).await,
        }
    }

    async fn next_id(&self, kind: IdKind) -> StoreResult<i64> {
        let mut s = self.lock()?;
        let c = s.counters.entry(kind).or_insert(0);
        *c += 1;
        Ok(*c)
    }

    async fn commit(&self, changes: ChangeSet) -> StoreResult<()> {
        let mut s = self.lock()?;
        let mut next = s.clone();
        for (i, c) in changes.changes.iter().enumerate() {
            if let Err(e) = self.apply(&mut next, c, i) {
                if self.defect == Defect::NotAtomic {
                    *s = next;
                }
                return Err(e);
            }
        }
        *s = next;
        Ok(())
    }
}

/// Opens tiny stores; a persistent one "reopens" a store by handing out a new handle on the
/// same state.
struct TinyFactory {
    persistent: bool,
    defect: Defect,
    states: Mutex<HashMap<usize, Arc<Mutex<State>>>>,
}

impl TinyFactory {
    fn new(persistent: bool, defect: Defect) -> TinyFactory {
        TinyFactory {
            persistent,
            defect,
            states: Mutex::new(HashMap::new()),
        }
    }

    fn persistent() -> TinyFactory {
        TinyFactory::new(true, Defect::None)
    }

    fn handle(&self, state: Arc<Mutex<State>>) -> Arc<dyn Store> {
        let store: Arc<dyn Store> = Arc::new(TinyStore {
            state: Arc::clone(&state),
            defect: self.defect,
        });
        self.states
            .lock()
            .expect("factory lock")
            .insert(Arc::as_ptr(&store) as *const () as usize, state);
        store
    }
}

#[async_trait]
impl StoreFactory for TinyFactory {
    async fn open(&self) -> Arc<dyn Store> {
        self.handle(Arc::new(Mutex::new(State::default())))
    }

    async fn reopen(&self, store: Arc<dyn Store>) -> Option<Arc<dyn Store>> {
        if !self.persistent {
            return None;
        }
        store.close().await.expect("close");
        let state = self
            .states
            .lock()
            .expect("factory lock")
            .remove(&(Arc::as_ptr(&store) as *const () as usize))
            .expect("a store this factory opened");
        drop(store);
        if self.defect == Defect::CountersForgotten
            && let Ok(mut s) = state.lock()
        {
            s.counters.clear();
        }
        Some(self.handle(state))
    }
}

crate::store_conformance_tests!(TinyFactory::persistent());

#[test]
fn reopen_is_skipped_for_a_volatile_store() {
    super::run_check(super::check_reopen(&TinyFactory::new(false, Defect::None)));
}

/// Runs `check` against a store with `defect` and asserts that it fails.
fn must_fail<F>(defect: Defect, check: impl FnOnce(TinyFactory) -> F)
where
    F: std::future::Future<Output = ()>,
{
    let factory = TinyFactory::new(true, defect);
    let outcome = catch_unwind(AssertUnwindSafe(|| super::run_check(check(factory))));
    assert!(outcome.is_err(), "the suite did not notice {defect:?}");
}

#[test]
fn catches_ties_broken_the_wrong_way() {
    must_fail(Defect::TiesDescending, |f| async move {
        super::check_list_table(&f).await
    });
    must_fail(Defect::TiesDescending, |f| async move {
        super::check_list_property(&f).await
    });
}

#[test]
fn catches_an_ignored_offset() {
    must_fail(Defect::IgnoresOffset, |f| async move {
        super::check_list_table(&f).await
    });
    must_fail(Defect::IgnoresOffset, |f| async move {
        super::check_list_property(&f).await
    });
}

#[test]
fn catches_case_sensitive_usernames() {
    must_fail(Defect::CaseSensitiveUsers, |f| async move {
        super::check_unique_case_insensitive(&f).await
    });
    must_fail(Defect::CaseSensitiveUsers, |f| async move {
        super::check_crud_users(&f).await
    });
}

#[test]
fn catches_a_batch_that_is_not_atomic() {
    must_fail(Defect::NotAtomic, |f| async move {
        super::check_batch_atomicity(&f).await
    });
    must_fail(Defect::NotAtomic, |f| async move {
        super::check_audit_lands_with_changes(&f).await
    });
}

#[test]
fn catches_deletes_of_referenced_records() {
    must_fail(Defect::NoReferenceCheckOnDelete, |f| async move {
        super::check_referenced_delete(&f).await
    });
}

#[test]
fn catches_counters_lost_on_reopen() {
    must_fail(Defect::CountersForgotten, |f| async move {
        super::check_reopen(&f).await
    });
}

#[test]
fn catches_users_deleted_under_their_sessions() {
    must_fail(Defect::AuthReferencesIgnored, |f| async move {
        super::check_auth_referenced_delete(&f).await
    });
    must_fail(Defect::AuthReferencesIgnored, |f| async move {
        super::check_reopen(&f).await
    });
}

#[test]
fn catches_digest_keys_out_of_byte_order() {
    must_fail(Defect::DigestKeysLittleEndian, |f| async move {
        super::check_scan_digest_keys(&f).await
    });
}

#[test]
fn catches_a_totp_step_cut_to_32_bits() {
    must_fail(Defect::TotpStepIn32Bits, |f| async move {
        super::check_crud_credentials(&f).await
    });
    must_fail(Defect::TotpStepIn32Bits, |f| async move {
        super::check_reopen(&f).await
    });
}
