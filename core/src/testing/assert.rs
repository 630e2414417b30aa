//! Assertions on store answers that say what was expected and what came instead.

use std::fmt::Debug;

use crate::query::{Collection, ListQuery, Page};
use crate::store::{Conflict, Record, RecordKey, Store, StoreError, StoreResult, UniqueKey};

/// The value of a call that must succeed.
#[track_caller]
pub(crate) fn ok<T>(r: StoreResult<T>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("{what}: expected success, got error: {e} ({e:?})"),
    }
}

/// A commit that must fail with `conflict` at change `index`.
#[track_caller]
pub(crate) fn conflict(r: StoreResult<()>, index: usize, want: Conflict, what: &str) {
    match r {
        Err(StoreError::Conflict { conflict, index: i }) if conflict == want && i == index => {}
        other => panic!(
            "{what}: expected Conflict {{ conflict: {want:?}, index: {index} }}, got {}",
            show(&other)
        ),
    }
}

/// A commit that must fail with `NotFound` for `key` at change `index`.
#[track_caller]
pub(crate) fn not_found(r: StoreResult<()>, index: usize, key: RecordKey, what: &str) {
    match r {
        Err(StoreError::NotFound { key: k, index: i }) if k == key && i == index => {}
        other => panic!(
            "{what}: expected NotFound {{ key: {key:?}, index: {index} }}, got {}",
            show(&other)
        ),
    }
}

/// A commit that must fail with `InvalidChange` at change `index`.
#[track_caller]
pub(crate) fn invalid(r: StoreResult<()>, index: usize, what: &str) {
    match r {
        Err(StoreError::InvalidChange { index: i, .. }) if i == index => {}
        other => panic!(
            "{what}: expected InvalidChange {{ index: {index}, .. }}, got {}",
            show(&other)
        ),
    }
}

/// A commit that must fail with `Referenced` for `key`, naming one of `by` as the referrer.
#[track_caller]
pub(crate) fn referenced(
    r: StoreResult<()>,
    index: usize,
    key: RecordKey,
    by: &[RecordKey],
    what: &str,
) {
    match r {
        Err(StoreError::Conflict {
            conflict: Conflict::Referenced { key: k, by: b },
            index: i,
        }) if k == key && i == index && by.contains(&b) => {}
        other => panic!(
            "{what}: expected Conflict {{ Referenced {{ key: {key:?}, by: one of {by:?} }}, \
             index: {index} }}, got {}",
            show(&other)
        ),
    }
}

/// The Unique conflict of `key`.
pub(crate) fn unique(key: UniqueKey) -> Conflict {
    Conflict::Unique(key)
}

pub(crate) fn show<T: Debug>(r: &StoreResult<T>) -> String {
    match r {
        Ok(v) => format!("success ({v:?})"),
        Err(e) => format!("error: {e} ({e:?})"),
    }
}

/// Records as text for failure messages: their `Debug`, except credentials, whose `Debug` hides
/// the secrets that may be the very difference, so they show as their full JSON (test data only).
pub(crate) fn plain<'a>(records: impl IntoIterator<Item = &'a Record>) -> String {
    let shown: Vec<String> = records
        .into_iter()
        .map(|r| match r {
            Record::Credentials(_) => {
                serde_json::to_string(r).unwrap_or_else(|e| format!("{r:?} (no JSON: {e})"))
            }
            _ => format!("{r:#?}"),
        })
        .collect();
    format!("[{}]", shown.join(",\n"))
}

/// Asserts that `store.get(key)` gives `want`.
#[track_caller]
pub(crate) fn same_record(got: StoreResult<Option<Record>>, want: Option<&Record>, what: &str) {
    let got = ok(got, what);
    if got.as_ref() != want {
        panic!(
            "{what}: expected {}\n, got {}",
            plain(want),
            plain(got.as_ref())
        );
    }
}

/// Short names of the records of a list, for messages.
pub(crate) fn keys(records: &[Record]) -> Vec<String> {
    records.iter().map(|r| short(r.key())).collect()
}

/// A record key as a short string (`device 00..0a`, `location 5`).
pub(crate) fn short(k: RecordKey) -> String {
    k.to_string()
}

/// Compares a store's page with the expected one: same records in the same order, same total.
/// Returns a description of the first difference.
pub(crate) fn compare_pages(
    q: &ListQuery,
    got: &Page<Record>,
    want: &Page<Record>,
) -> Result<(), String> {
    if got
        .items
        .iter()
        .map(Record::key)
        .ne(want.items.iter().map(Record::key))
    {
        return Err(format!(
            "list {q:?}:\n  expected {} items {:?}\n  got      {} items {:?}",
            want.items.len(),
            keys(&want.items),
            got.items.len(),
            keys(&got.items)
        ));
    }
    for (g, w) in got.items.iter().zip(&want.items) {
        if g != w {
            return Err(format!(
                "list {q:?}: record {} differs:\n  expected {}\n  got      {}",
                short(w.key()),
                plain([w]),
                plain([g])
            ));
        }
    }
    if got.total != want.total {
        return Err(format!(
            "list {q:?}: expected total {:?}, got {:?}",
            want.total, got.total
        ));
    }
    Ok(())
}

/// The whole content of every collection, through `list` (id order, with counts) and `scan`.
pub(crate) async fn snapshot(store: &dyn Store) -> Vec<(Page<Record>, Vec<Record>)> {
    let mut out = Vec::new();
    for c in Collection::ALL {
        let page = ok(
            store.list(&ListQuery::all(c).with_count()).await,
            "snapshot list",
        );
        let scan = ok(store.scan(c, None, 10_000).await, "snapshot scan");
        out.push((page, scan));
    }
    out
}
