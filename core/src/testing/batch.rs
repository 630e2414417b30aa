//! Change sets: all or nothing, each change seeing the ones before it; versions, missing and
//! existing keys; audit events; id counters.

use crate::ids::{AuditId, DonorId, IdKind, LocationId};
use crate::store::{
    Change, ChangeSet, Conflict, Record, RecordKey, Reference, Store, StoreResult, UniqueKey,
};

use super::StoreFactory;
use super::assert::{conflict, invalid, not_found, ok, referenced, same_record, snapshot, unique};
use super::fixtures::{
    audit, changes, delete, device, device_id, donor, insert, inserts, location, role, shipment,
    update, user, world,
};
use super::unique::{touch, with_version};

fn key(field: crate::store::UniqueField, value: &str) -> UniqueKey {
    UniqueKey {
        field,
        value: value.to_owned(),
    }
}

/// What a failing change must be refused with.
#[derive(Debug, Clone)]
enum Expect {
    Conflict(Conflict),
    NotFound(RecordKey),
    Invalid,
    Referenced(RecordKey, Vec<RecordKey>),
}

#[track_caller]
fn expect(r: StoreResult<()>, index: usize, e: &Expect, what: &str) {
    match e {
        Expect::Conflict(c) => conflict(r, index, c.clone(), what),
        Expect::NotFound(k) => not_found(r, index, *k, what),
        Expect::Invalid => invalid(r, index, what),
        Expect::Referenced(k, by) => referenced(r, index, *k, by, what),
    }
}

/// A change set whose fifth change fails (in every way a change can fail, against the stored
/// state or against the batch's own earlier changes) leaves nothing behind: not its updates,
/// inserts, deletes or audit event, no unique key taken or freed; and the error names change 4.
pub async fn check_batch_atomicity(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let mut d0 = device(0xD0, "D0");
    d0.donor = Some(DonorId(1));
    let x = donor(5, "x@example.org");
    let y = location(9, "Y street");
    let mut setup = world();
    setup.extend([
        Record::Device(d0.clone()),
        Record::Donor(x.clone()),
        Record::Location(y.clone()),
        Record::Audit(audit(1, "device.create")),
    ]);
    ok(store.commit(inserts(setup)).await, "setup");
    let before = snapshot(store.as_ref()).await;

    let mut x2 = x.clone();
    x2.email = "x2@example.org".to_owned();
    x2.version = 2;
    let mut n = device(0xAA, "N-SERIAL");
    n.mac_id = "N-MAC".to_owned();
    let a = audit(900, "device.create");
    let m = donor(6, "m@example.org");
    let base = |failing: Change| {
        changes(vec![
            update(Record::Donor(x2.clone()), 1),
            insert(Record::Device(n.clone())),
            insert(Record::Audit(a.clone())),
            delete(RecordKey::Location(y.location_id), 1),
            failing,
            insert(Record::Donor(m.clone())),
        ])
    };

    let d0k = RecordKey::Device(d0.device_id);
    let mut shipment_to_missing = shipment(30);
    shipment_to_missing.destination = Some(LocationId(777));
    let mut shipment_to_deleted = shipment(31);
    shipment_to_deleted.destination = Some(y.location_id);
    let mut ghost_user = user(30, "ghost-holder", "ghost@example.org");
    ghost_user.role = Some("Ghost".to_owned());
    let mut a_changed = a.clone();
    a_changed.action = "changed".to_owned();
    let mut old_event = audit(1, "device.create");
    old_event.action = "changed".to_owned();

    let cases: Vec<(&str, Change, Expect)> = vec![
        (
            "insert of an existing key",
            insert(Record::Donor(donor(1, "new@example.org"))),
            Expect::Conflict(Conflict::Exists(RecordKey::Donor(DonorId(1)))),
        ),
        (
            "insert of a key inserted earlier in the batch",
            insert(Record::Device(device(0xAA, "OTHER"))),
            Expect::Conflict(Conflict::Exists(RecordKey::Device(device_id(0xAA)))),
        ),
        (
            "insert of a taken unique key",
            insert(Record::Location(location(10, "1 World Street"))),
            Expect::Conflict(unique(key(
                crate::store::UniqueField::LocationAddress,
                "1 World Street",
            ))),
        ),
        (
            "insert of a unique key taken earlier in the batch",
            insert(Record::Device(device(0xAB, "N-SERIAL"))),
            Expect::Conflict(unique(key(
                crate::store::UniqueField::DeviceSerialNumber,
                "N-SERIAL",
            ))),
        ),
        (
            "update with a wrong version",
            update(with_version(Record::Device(d0.clone()), 6), 5),
            Expect::Conflict(Conflict::Version {
                key: d0k,
                expected: 5,
                actual: 1,
            }),
        ),
        (
            "update with the version before the batch's own update",
            update(with_version(Record::Donor(x.clone()), 3), 1),
            Expect::Conflict(Conflict::Version {
                key: RecordKey::Donor(x.donor_id),
                expected: 1,
                actual: 2,
            }),
        ),
        (
            "update of a missing record",
            update(Record::Donor(donor(4242, "nobody@example.org")), 1),
            Expect::NotFound(RecordKey::Donor(DonorId(4242))),
        ),
        (
            "delete of a missing record",
            delete(RecordKey::Location(LocationId(4242)), 1),
            Expect::NotFound(RecordKey::Location(LocationId(4242))),
        ),
        (
            "delete of a record deleted earlier in the batch",
            delete(RecordKey::Location(y.location_id), 1),
            Expect::NotFound(RecordKey::Location(y.location_id)),
        ),
        (
            "insert with a missing reference",
            insert(Record::Shipment(shipment_to_missing)),
            Expect::Conflict(Conflict::MissingReference(Reference::Key(
                RecordKey::Location(LocationId(777)),
            ))),
        ),
        (
            "insert referring to a record deleted earlier in the batch",
            insert(Record::Shipment(shipment_to_deleted)),
            Expect::Conflict(Conflict::MissingReference(Reference::Key(
                RecordKey::Location(y.location_id),
            ))),
        ),
        (
            "insert with a missing role",
            insert(Record::User(ghost_user)),
            Expect::Conflict(Conflict::MissingReference(Reference::RoleName(
                "Ghost".to_owned(),
            ))),
        ),
        (
            "delete of a referenced record",
            delete(RecordKey::Donor(DonorId(1)), 1),
            Expect::Referenced(RecordKey::Donor(DonorId(1)), vec![d0k]),
        ),
        (
            "update of an audit event",
            update(Record::Audit(old_event), 1),
            Expect::Invalid,
        ),
        (
            "delete of an audit event",
            delete(RecordKey::Audit(AuditId(1)), 1),
            Expect::Invalid,
        ),
        (
            "update of an audit event inserted earlier in the batch",
            update(Record::Audit(a_changed), 1),
            Expect::Invalid,
        ),
    ];

    for (what, failing, e) in cases {
        let what = format!("batch whose change 4 is an {what}");
        expect(store.commit(base(failing)).await, 4, &e, &what);
        if snapshot(store.as_ref()).await != before {
            panic!("{what}: the refused batch changed the store (lists or scans differ)");
        }
        same_record(
            store.get(RecordKey::Donor(x.donor_id)).await,
            Some(&Record::Donor(x.clone())),
            &format!("{what}: the donor change 0 updated"),
        );
        for (k, want) in [
            (
                key(crate::store::UniqueField::DonorEmail, "x@example.org"),
                Some(Record::Donor(x.clone())),
            ),
            (
                key(crate::store::UniqueField::DonorEmail, "x2@example.org"),
                None,
            ),
            (
                key(crate::store::UniqueField::DeviceSerialNumber, "N-SERIAL"),
                None,
            ),
            (key(crate::store::UniqueField::DeviceMacId, "N-MAC"), None),
            (
                key(crate::store::UniqueField::DonorEmail, "m@example.org"),
                None,
            ),
        ] {
            same_record(
                store.get_by_unique(&k).await,
                want.as_ref(),
                &format!("{what}: get_by_unique({k:?})"),
            );
        }
        same_record(
            store.get(RecordKey::Device(n.device_id)).await,
            None,
            &format!("{what}: the device change 1 inserted"),
        );
        same_record(
            store.get(RecordKey::Audit(a.id)).await,
            None,
            &format!("{what}: the audit event change 2 inserted"),
        );
        same_record(
            store.get(RecordKey::Location(y.location_id)).await,
            Some(&Record::Location(y.clone())),
            &format!("{what}: the location change 3 deleted"),
        );
        same_record(
            store.get(RecordKey::Donor(m.donor_id)).await,
            None,
            &format!("{what}: the donor change 5 inserted"),
        );
    }

    // Nothing stayed reserved: the same batch with a harmless change 4 goes through.
    let harmless = insert(Record::Role(role(7, "harmless")));
    ok(
        store.commit(base(harmless)).await,
        "the batch with a harmless change 4",
    );
    same_record(
        store.get(RecordKey::Donor(x.donor_id)).await,
        Some(&Record::Donor(x2)),
        "the updated donor",
    );
    same_record(
        store.get(RecordKey::Audit(a.id)).await,
        Some(&Record::Audit(a)),
        "the inserted audit event",
    );
    same_record(
        store.get(RecordKey::Location(y.location_id)).await,
        None,
        "the deleted location",
    );
}

/// Each change of a batch sees the ones before it: insert then update or delete, delete then
/// insert again, two updates of one record; and is refused against them (duplicate key or
/// unique key within the batch, stale version within the batch).
pub async fn check_batch_sees_earlier_changes(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    ok(
        store
            .commit(inserts(vec![Record::Location(location(1, "Old address"))]))
            .await,
        "setup",
    );

    let d7 = donor(7, "seven@example.org");
    let mut d7b = d7.clone();
    d7b.name = "Seven, renamed".to_owned();
    d7b.version = 2;
    let mut dev = device(1, "DEV-1");
    dev.donor = Some(DonorId(7));
    ok(
        store
            .commit(changes(vec![
                insert(Record::Donor(d7)),
                update(Record::Donor(d7b.clone()), 1),
                insert(Record::Device(dev.clone())),
            ]))
            .await,
        "insert, update, and refer to a donor in one batch",
    );
    same_record(
        store.get(RecordKey::Donor(DonorId(7))).await,
        Some(&Record::Donor(d7b)),
        "the donor inserted and updated in one batch",
    );
    same_record(
        store.get(RecordKey::Device(dev.device_id)).await,
        Some(&Record::Device(dev)),
        "the device referring to it",
    );

    ok(
        store
            .commit(changes(vec![
                insert(Record::Donor(donor(8, "eight@example.org"))),
                delete(RecordKey::Donor(DonorId(8)), 1),
            ]))
            .await,
        "insert then delete in one batch",
    );
    same_record(
        store.get(RecordKey::Donor(DonorId(8))).await,
        None,
        "the donor inserted and deleted in one batch",
    );
    ok(
        store
            .commit(inserts(vec![Record::Donor(donor(9, "eight@example.org"))]))
            .await,
        "the email of the donor inserted and deleted is free",
    );

    let renewed = location(1, "New address");
    ok(
        store
            .commit(changes(vec![
                delete(RecordKey::Location(LocationId(1)), 1),
                insert(Record::Location(renewed.clone())),
            ]))
            .await,
        "delete then insert the same key in one batch",
    );
    same_record(
        store.get(RecordKey::Location(LocationId(1))).await,
        Some(&Record::Location(renewed)),
        "the location deleted and inserted again",
    );

    let d9 = donor(9, "eight@example.org");
    let d9v2 = with_version(touch(Record::Donor(d9.clone())), 2);
    let d9v3 = with_version(touch(d9v2.clone()), 3);
    ok(
        store
            .commit(changes(vec![update(d9v2, 1), update(d9v3.clone(), 2)]))
            .await,
        "two updates of one record in one batch",
    );
    same_record(
        store.get(RecordKey::Donor(DonorId(9))).await,
        Some(&d9v3),
        "the donor updated twice",
    );
    let d9v4 = with_version(touch(d9v3.clone()), 4);
    conflict(
        store
            .commit(changes(vec![update(d9v4.clone(), 3), update(d9v4, 3)]))
            .await,
        1,
        Conflict::Version {
            key: RecordKey::Donor(DonorId(9)),
            expected: 3,
            actual: 4,
        },
        "two updates of one record from the same version",
    );
    conflict(
        store
            .commit(changes(vec![
                insert(Record::Donor(donor(10, "ten@example.org"))),
                insert(Record::Donor(donor(10, "ten-b@example.org"))),
            ]))
            .await,
        1,
        Conflict::Exists(RecordKey::Donor(DonorId(10))),
        "two inserts of one key in one batch",
    );
    conflict(
        store
            .commit(changes(vec![
                insert(Record::Donor(donor(11, "same@example.org"))),
                insert(Record::Donor(donor(12, "same@example.org"))),
            ]))
            .await,
        1,
        unique(key(
            crate::store::UniqueField::DonorEmail,
            "same@example.org",
        )),
        "two inserts of one unique key in one batch",
    );
    same_record(
        store.get(RecordKey::Donor(DonorId(9))).await,
        Some(&d9v3),
        "the donor after refused batches",
    );
    for id in [10, 11, 12] {
        same_record(
            store.get(RecordKey::Donor(DonorId(id))).await,
            None,
            "a donor of a refused batch",
        );
    }
}

/// Updates and deletes must name the current version, and the version a record carries is the
/// one stored (even when an update jumps).
pub async fn check_version_conflicts(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let records = world();
    ok(store.commit(inserts(records.clone())).await, "setup");
    for r in &records {
        let k = r.key();
        for wrong in [0, 2, u64::MAX] {
            conflict(
                store
                    .commit(changes(vec![update(
                        with_version(touch(r.clone()), wrong.wrapping_add(1)),
                        wrong,
                    )]))
                    .await,
                0,
                Conflict::Version {
                    key: k,
                    expected: wrong,
                    actual: 1,
                },
                &format!("updating {k} from version {wrong}"),
            );
            conflict(
                store.commit(changes(vec![delete(k, wrong)])).await,
                0,
                Conflict::Version {
                    key: k,
                    expected: wrong,
                    actual: 1,
                },
                &format!("deleting {k} at version {wrong}"),
            );
        }
        same_record(
            store.get(k).await,
            Some(r),
            "after refused version conflicts",
        );
    }

    let d = donor(1, "donor@world.example");
    let k = RecordKey::Donor(d.donor_id);
    let jumped = with_version(touch(Record::Donor(d)), 7);
    ok(
        store.commit(changes(vec![update(jumped.clone(), 1)])).await,
        "an update to version 7",
    );
    same_record(store.get(k).await, Some(&jumped), "the record at version 7");
    conflict(
        store
            .commit(changes(vec![update(with_version(jumped.clone(), 3), 2)]))
            .await,
        0,
        Conflict::Version {
            key: k,
            expected: 2,
            actual: 7,
        },
        "updating from version 2 a record at version 7",
    );
    let eight = with_version(touch(jumped), 8);
    ok(
        store.commit(changes(vec![update(eight.clone(), 7)])).await,
        "updating from version 7",
    );
    conflict(
        store.commit(changes(vec![delete(k, 7)])).await,
        0,
        Conflict::Version {
            key: k,
            expected: 7,
            actual: 8,
        },
        "deleting at the old version",
    );
    ok(
        store.commit(changes(vec![delete(k, 8)])).await,
        "deleting at version 8",
    );
}

/// Updates and deletes of missing records fail with `NotFound` naming the key and the change.
pub async fn check_not_found(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    ok(store.commit(inserts(world())).await, "setup");
    let missing = vec![
        Record::Device(device(0x99, "MISSING")),
        Record::Location(location(99, "Missing street")),
        Record::Donor(donor(99, "missing@example.org")),
        Record::Shipment(shipment(99)),
        Record::User(user(99, "missing", "missing@example.org")),
        Record::Role(role(99, "Missing")),
    ];
    for (i, r) in missing.into_iter().enumerate() {
        let k = r.key();
        let m = Record::Audit(audit(100 + i as i64, "marker"));
        not_found(
            store
                .commit(changes(vec![
                    insert(m.clone()),
                    update(with_version(r.clone(), 2), 1),
                ]))
                .await,
            1,
            k,
            &format!("updating missing {k}"),
        );
        not_found(
            store
                .commit(changes(vec![insert(m.clone()), delete(k, 1)]))
                .await,
            1,
            k,
            &format!("deleting missing {k}"),
        );
        same_record(store.get(m.key()).await, None, "the change before NotFound");
        same_record(store.get(k).await, None, "the missing record");
    }
}

/// Inserting a key that exists fails with `Exists`, for every collection.
pub async fn check_exists(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let mut records = world();
    records.push(Record::Device(device(1, "ONE")));
    records.push(Record::Audit(audit(1, "device.create")));
    ok(store.commit(inserts(records.clone())).await, "setup");
    let again = vec![
        Record::Device(device(1, "ANOTHER SERIAL")),
        Record::Location(location(1, "Another street")),
        Record::Donor(donor(1, "another@example.org")),
        Record::Shipment(shipment(1)),
        Record::User(user(1, "another", "another@example.org")),
        Record::Role(role(1, "Another")),
        Record::Audit(audit(1, "another.action")),
    ];
    for r in again {
        let k = r.key();
        conflict(
            store.commit(inserts(vec![r])).await,
            0,
            Conflict::Exists(k),
            &format!("inserting {k} again"),
        );
    }
    for r in &records {
        same_record(store.get(r.key()).await, Some(r), "after refused inserts");
    }
}

/// An empty change set commits and changes nothing; a fresh store answers `ping` and is empty.
pub async fn check_empty_change_set(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    ok(store.ping().await, "ping");
    let empty = snapshot(store.as_ref()).await;
    for (page, scan) in &empty {
        if !page.items.is_empty() || page.total != Some(0) || !scan.is_empty() {
            panic!("a fresh store is not empty: {page:?} / {scan:?}");
        }
    }
    ok(store.commit(ChangeSet::new()).await, "an empty change set");
    if snapshot(store.as_ref()).await != empty {
        panic!("an empty change set changed a fresh store");
    }
    ok(store.commit(inserts(world())).await, "setup");
    let before = snapshot(store.as_ref()).await;
    ok(store.commit(ChangeSet::new()).await, "an empty change set");
    if snapshot(store.as_ref()).await != before {
        panic!("an empty change set changed the store");
    }
}

/// Audit events are never updated or deleted, also not ones inserted earlier in the batch; the
/// refusal names the change and undoes the batch.
pub async fn check_audit_immutable(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let event = audit(1, "device.create");
    ok(
        store
            .commit(inserts(vec![Record::Audit(event.clone())]))
            .await,
        "setup",
    );
    let mut changed = event.clone();
    changed.action = "device.delete".to_owned();
    let dev = Record::Device(device(1, "ONE"));
    invalid(
        store
            .commit(changes(vec![
                insert(dev.clone()),
                update(Record::Audit(changed.clone()), 1),
            ]))
            .await,
        1,
        "updating an audit event",
    );
    invalid(
        store
            .commit(changes(vec![
                insert(dev.clone()),
                delete(RecordKey::Audit(AuditId(1)), 1),
            ]))
            .await,
        1,
        "deleting an audit event",
    );
    let fresh = audit(2, "device.update");
    let mut fresh_changed = fresh.clone();
    fresh_changed.action = "changed".to_owned();
    invalid(
        store
            .commit(changes(vec![
                insert(Record::Audit(fresh.clone())),
                update(Record::Audit(fresh_changed), 1),
            ]))
            .await,
        1,
        "updating an audit event inserted earlier in the batch",
    );
    invalid(
        store
            .commit(changes(vec![
                insert(Record::Audit(fresh.clone())),
                delete(RecordKey::Audit(fresh.id), 1),
            ]))
            .await,
        1,
        "deleting an audit event inserted earlier in the batch",
    );
    same_record(
        store.get(dev.key()).await,
        None,
        "the device of refused batches",
    );
    same_record(
        store.get(RecordKey::Audit(fresh.id)).await,
        None,
        "the audit event of refused batches",
    );
    same_record(
        store.get(RecordKey::Audit(event.id)).await,
        Some(&Record::Audit(event)),
        "the audit event",
    );
}

/// An audit event committed with the changes it records is there exactly when they are.
pub async fn check_audit_lands_with_changes(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let d = device(1, "ONE");
    let dk = RecordKey::Device(d.device_id);
    let created = audit(1, "device.create");
    ok(
        store
            .commit(changes(vec![
                insert(Record::Device(d.clone())),
                insert(Record::Audit(created.clone())),
            ]))
            .await,
        "a device with its audit event",
    );
    same_record(
        store.get(dk).await,
        Some(&Record::Device(d.clone())),
        "the device",
    );
    same_record(
        store.get(RecordKey::Audit(created.id)).await,
        Some(&Record::Audit(created.clone())),
        "its audit event",
    );

    let updated = with_version(touch(Record::Device(d.clone())), 2);
    let update_event = audit(2, "device.update");
    conflict(
        store
            .commit(changes(vec![
                update(updated.clone(), 1),
                insert(Record::Audit(update_event.clone())),
                insert(Record::Device(device(2, "ONE"))),
            ]))
            .await,
        2,
        unique(key(crate::store::UniqueField::DeviceSerialNumber, "ONE")),
        "an update with its audit event and a failing insert",
    );
    same_record(
        store.get(dk).await,
        Some(&Record::Device(d)),
        "the device not updated",
    );
    same_record(
        store.get(RecordKey::Audit(update_event.id)).await,
        None,
        "the audit event of the refused update",
    );

    let delete_event = audit(3, "device.delete");
    ok(
        store
            .commit(changes(vec![
                update(updated, 1),
                insert(Record::Audit(update_event.clone())),
                delete(dk, 2),
                insert(Record::Audit(delete_event.clone())),
            ]))
            .await,
        "an update and a delete with their audit events",
    );
    same_record(store.get(dk).await, None, "the deleted device");
    let got = ok(
        store.scan(crate::query::Collection::Audit, None, 100).await,
        "scan audit",
    );
    let want = vec![
        Record::Audit(created),
        Record::Audit(update_event),
        Record::Audit(delete_event),
    ];
    if got != want {
        panic!("audit events: expected {want:#?}\n, got {got:#?}");
    }
}

async fn next(store: &dyn Store, kind: IdKind) -> i64 {
    ok(store.next_id(kind).await, &format!("next_id({kind:?})"))
}

/// `next_id` is positive and strictly increasing per kind; an explicitly inserted id (even one
/// deleted since) pushes its kind's counter past it, and only its own kind's.
pub async fn check_next_id(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    for kind in IdKind::ALL {
        let mut last = 0;
        for _ in 0..3 {
            let id = next(store.as_ref(), kind).await;
            if id <= last {
                panic!("next_id({kind:?}) gave {id} after {last}");
            }
            last = id;
        }
    }

    // An id above the counter, stored explicitly, pushes the counter past it ...
    let high = 1_000_000;
    let lows: Vec<(IdKind, i64)> = {
        let mut v = Vec::new();
        for kind in IdKind::ALL {
            v.push((kind, next(store.as_ref(), kind).await));
        }
        v
    };
    ok(
        store
            .commit(inserts(vec![Record::Location(location(
                high,
                "High street",
            ))]))
            .await,
        "a location with a high id",
    );
    let got = next(store.as_ref(), IdKind::Location).await;
    if got <= high {
        panic!("next_id(Location) gave {got} after location {high} was stored");
    }
    // ... and no other kind's.
    for (kind, low) in &lows {
        if *kind == IdKind::Location {
            continue;
        }
        let got = next(store.as_ref(), *kind).await;
        if got <= *low || got >= high {
            panic!(
                "next_id({kind:?}) gave {got} after {low}, with only a location at {high}: \
                 counters must be per kind"
            );
        }
    }

    // Every kind, all in one batch, one id deleted again in a later batch.
    let batch = vec![
        Record::Donor(donor(2_000_000, "high@example.org")),
        Record::Shipment(shipment(3_000_000)),
        Record::User(user(4_000_000, "high", "high@example.org")),
        Record::Role(role(5_000_000, "High")),
        Record::Audit(audit(6_000_000, "high")),
    ];
    ok(store.commit(inserts(batch)).await, "records with high ids");
    ok(
        store
            .commit(changes(vec![delete(
                RecordKey::Donor(DonorId(2_000_000)),
                1,
            )]))
            .await,
        "deleting the high donor",
    );
    for (kind, stored) in [
        (IdKind::Donor, 2_000_000),
        (IdKind::Shipment, 3_000_000),
        (IdKind::User, 4_000_000),
        (IdKind::Role, 5_000_000),
        (IdKind::Audit, 6_000_000),
    ] {
        let got = next(store.as_ref(), kind).await;
        if got <= stored {
            panic!("next_id({kind:?}) gave {got} although id {stored} was stored");
        }
    }

    // Ids handed out and then used are not handed out again.
    let id = next(store.as_ref(), IdKind::Shipment).await;
    ok(
        store
            .commit(inserts(vec![Record::Shipment(shipment(id))]))
            .await,
        "a shipment with an allocated id",
    );
    let after = next(store.as_ref(), IdKind::Shipment).await;
    if after <= id {
        panic!("next_id(Shipment) gave {after} after {id} was allocated and stored");
    }
}
