//! Races between tasks sharing one store: exactly one winner per unique key and per version,
//! and ids that are never handed out twice.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::sync::Barrier;

use crate::ids::IdKind;
use crate::store::{Conflict, Record, RecordKey, Store, StoreError, StoreResult, UniqueKey};

use super::StoreFactory;
use super::assert::{ok, same_record, show};
use super::fixtures::{changes, device, digest, donor, inserts, now_plus, session, update, user};

const TASKS: usize = 50;

/// Runs `TASKS` tasks that all start at once, each committing what `make` builds for it.
async fn race(
    store: &Arc<dyn Store>,
    make: impl Fn(usize) -> crate::store::ChangeSet,
) -> Vec<StoreResult<()>> {
    let barrier = Arc::new(Barrier::new(TASKS));
    let handles: Vec<_> = (0..TASKS)
        .map(|i| {
            let store = Arc::clone(store);
            let barrier = Arc::clone(&barrier);
            let batch = make(i);
            tokio::spawn(async move {
                barrier.wait().await;
                store.commit(batch).await
            })
        })
        .collect();
    let mut results = Vec::with_capacity(TASKS);
    for h in handles {
        results.push(h.await.expect("a racing task panicked"));
    }
    results
}

/// Fifty tasks insert different devices with the same serial number at once: exactly one
/// succeeds, every other gets `Conflict::Unique` for that serial number, and the store holds
/// the winner only.
pub async fn check_concurrent_unique_inserts(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let results = race(&store, |i| {
        inserts(vec![Record::Device(device(
            1000 + i as u128,
            "SAME-SERIAL",
        ))])
    })
    .await;
    let serial = UniqueKey {
        field: crate::store::UniqueField::DeviceSerialNumber,
        value: "SAME-SERIAL".to_owned(),
    };
    let mut winners = Vec::new();
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(StoreError::Conflict {
                conflict: Conflict::Unique(k),
                index: 0,
            }) if *k == serial => {}
            other => panic!(
                "racing insert {i}: expected success or Conflict {{ Unique({serial:?}), index: 0 }}, got {}",
                show(other)
            ),
        }
    }
    if winners.len() != 1 {
        panic!(
            "{} of {TASKS} racing inserts of one serial number succeeded (tasks {winners:?}); \
             exactly one must",
            winners.len()
        );
    }
    let winner = Record::Device(device(1000 + winners[0] as u128, "SAME-SERIAL"));
    same_record(
        store.get_by_unique(&serial).await,
        Some(&winner),
        "get_by_unique of the raced serial number",
    );
    let all = ok(
        store
            .scan(crate::query::Collection::Devices, None, 1000)
            .await,
        "scan devices",
    );
    if all != vec![winner] {
        panic!(
            "after the race the store holds {:?}, not only the winner",
            super::assert::keys(&all)
        );
    }
}

/// Fifty tasks update one record from the same version at once: exactly one succeeds, every
/// other gets `Conflict::Version` (expected 1, actual 2), and the winner's state is stored.
pub async fn check_concurrent_version_updates(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let original = donor(1, "race@example.org");
    ok(
        store
            .commit(inserts(vec![Record::Donor(original.clone())]))
            .await,
        "setup",
    );
    let version_of = |i: usize| {
        let mut d = original.clone();
        d.name = format!("written by task {i}");
        d.version = 2;
        Record::Donor(d)
    };
    let results = race(&store, |i| changes(vec![update(version_of(i), 1)])).await;
    let key = RecordKey::Donor(original.donor_id);
    let lost = Conflict::Version {
        key,
        expected: 1,
        actual: 2,
    };
    let mut winners = Vec::new();
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(StoreError::Conflict { conflict, index: 0 }) if *conflict == lost => {}
            other => panic!(
                "racing update {i}: expected success or Conflict {{ {lost:?}, index: 0 }}, got {}",
                show(other)
            ),
        }
    }
    if winners.len() != 1 {
        panic!(
            "{} of {TASKS} racing updates from version 1 succeeded (tasks {winners:?}); \
             exactly one must",
            winners.len()
        );
    }
    same_record(
        store.get(key).await,
        Some(&version_of(winners[0])),
        "the record after the race",
    );
}

/// Tasks allocating ids at once never get the same id twice, and each sees its own ids rise.
pub async fn check_concurrent_next_id(factory: &dyn StoreFactory) {
    const PER_TASK: usize = 20;
    let store = factory.open().await;
    let barrier = Arc::new(Barrier::new(TASKS));
    let handles: Vec<_> = (0..TASKS)
        .map(|i| {
            let store = Arc::clone(&store);
            let barrier = Arc::clone(&barrier);
            // Half the tasks share the Audit counter, the others alternate two kinds.
            let kinds = if i % 2 == 0 {
                [IdKind::Audit, IdKind::Audit]
            } else {
                [IdKind::Donor, IdKind::Audit]
            };
            tokio::spawn(async move {
                barrier.wait().await;
                let mut got = Vec::new();
                for j in 0..PER_TASK {
                    let kind = kinds[j % 2];
                    got.push((kind, store.next_id(kind).await));
                }
                got
            })
        })
        .collect();
    let mut seen: BTreeSet<(IdKind, i64)> = BTreeSet::new();
    for (task, h) in handles.into_iter().enumerate() {
        let got = h.await.expect("an allocating task panicked");
        let mut last = std::collections::BTreeMap::new();
        for (kind, r) in got {
            let id = ok(r, &format!("next_id({kind:?}) in task {task}"));
            if let Some(prev) = last.insert(kind, id)
                && id <= prev
            {
                panic!("task {task}: next_id({kind:?}) gave {id} after {prev}");
            }
            if !seen.insert((kind, id)) {
                panic!("next_id({kind:?}) handed out {id} twice");
            }
        }
    }
}

/// Fifty tasks record a use of one login session from the same version at once (what requests
/// sharing a token do): exactly one succeeds, every other gets `Conflict::Version` (expected 1,
/// actual 2), and the winner's state is stored.
pub async fn check_concurrent_session_updates(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let original = session(digest(0x5e, 0x55), 1);
    ok(
        store
            .commit(inserts(vec![
                Record::User(user(1, "racer", "racer@example.org")),
                Record::Session(original.clone()),
            ]))
            .await,
        "setup",
    );
    let used_by = |i: usize| {
        let mut s = original.clone();
        s.last_used_at = now_plus(60_000_000 + i as i64);
        s.ip = Some(format!("192.0.2.{i}"));
        s.version = 2;
        Record::Session(s)
    };
    let results = race(&store, |i| changes(vec![update(used_by(i), 1)])).await;
    let key = RecordKey::Session(original.digest);
    let lost = Conflict::Version {
        key,
        expected: 1,
        actual: 2,
    };
    let mut winners = Vec::new();
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(StoreError::Conflict { conflict, index: 0 }) if *conflict == lost => {}
            other => panic!(
                "racing session update {i}: expected success or Conflict {{ {lost:?}, index: 0 }}, \
                 got {}",
                show(other)
            ),
        }
    }
    if winners.len() != 1 {
        panic!(
            "{} of {TASKS} racing session updates from version 1 succeeded (tasks {winners:?}); \
             exactly one must",
            winners.len()
        );
    }
    same_record(
        store.get(key).await,
        Some(&used_by(winners[0])),
        "the session after the race",
    );
}

/// Fifty tasks insert a login session with the same digest at once (for two users, from
/// different addresses): exactly one succeeds, every other gets `Conflict::Exists` for that
/// session, and the store holds the winner only.
pub async fn check_concurrent_session_inserts(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    ok(
        store
            .commit(inserts(vec![
                Record::User(user(1, "one", "one@example.org")),
                Record::User(user(2, "two", "two@example.org")),
            ]))
            .await,
        "setup",
    );
    let d = digest(0x5e, 0x55);
    let made_by = |i: usize| {
        let mut s = session(d, 1 + (i % 2) as i64);
        s.created_at = now_plus(i as i64);
        s.ip = Some(format!("198.51.100.{i}"));
        Record::Session(s)
    };
    let results = race(&store, |i| inserts(vec![made_by(i)])).await;
    let key = RecordKey::Session(d);
    let mut winners = Vec::new();
    for (i, r) in results.iter().enumerate() {
        match r {
            Ok(()) => winners.push(i),
            Err(StoreError::Conflict {
                conflict: Conflict::Exists(k),
                index: 0,
            }) if *k == key => {}
            other => panic!(
                "racing session insert {i}: expected success or Conflict {{ Exists({key:?}), \
                 index: 0 }}, got {}",
                show(other)
            ),
        }
    }
    if winners.len() != 1 {
        panic!(
            "{} of {TASKS} racing inserts of one session digest succeeded (tasks {winners:?}); \
             exactly one must",
            winners.len()
        );
    }
    let winner = made_by(winners[0]);
    same_record(
        store.get(key).await,
        Some(&winner),
        "the session after the race",
    );
    let all = ok(
        store
            .scan(crate::query::Collection::Sessions, None, 1000)
            .await,
        "scan sessions",
    );
    if all != vec![winner] {
        panic!(
            "after the race the store holds sessions {:?}, not only the winner",
            super::assert::keys(&all)
        );
    }
}
