//! References: refused when they point at nothing, and they keep their target from being deleted
//! until they are cleared (earlier in the same batch is enough).

use crate::ids::{DonorId, LocationId, RoleId, ShipmentId, UserId};
use crate::model::Device;
use crate::store::{Conflict, Record, RecordKey, Reference};

use super::StoreFactory;
use super::assert::{conflict, ok, referenced, same_record, snapshot};
use super::fixtures::{
    audit, changes, delete, device, donor, full_device, insert, inserts, update, user, world,
};

fn missing(reference: Reference) -> Conflict {
    Conflict::MissingReference(reference)
}

fn key_ref(key: RecordKey) -> Reference {
    Reference::Key(key)
}

/// Inserts and updates whose references point at nothing are refused with
/// `MissingReference` naming the reference, for every kind of reference; a role is referred to
/// by its exact name.
pub async fn check_missing_references(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let mut setup = world();
    setup.push(Record::Donor(donor(2, "two@example.org")));
    let existing = device(0xE0, "EXISTING");
    setup.push(Record::Device(existing.clone()));
    ok(store.commit(inserts(setup)).await, "setup");

    // (description, device with one dangling reference, the reference)
    let mut dangling: Vec<(&str, Device, Reference)> = Vec::new();
    let mut d = device(1, "D1");
    d.donor = Some(DonorId(99));
    dangling.push(("donor", d, key_ref(RecordKey::Donor(DonorId(99)))));
    let mut d = device(2, "D2");
    d.start_location = Some(LocationId(99));
    dangling.push((
        "start_location",
        d,
        key_ref(RecordKey::Location(LocationId(99))),
    ));
    let mut d = device(3, "D3");
    d.end_location = Some(LocationId(98));
    dangling.push((
        "end_location",
        d,
        key_ref(RecordKey::Location(LocationId(98))),
    ));
    let mut d = device(4, "D4");
    d.received_by = Some(UserId(99));
    dangling.push(("received_by", d, key_ref(RecordKey::User(UserId(99)))));
    let mut d = device(5, "D5");
    d.created_by = Some(UserId(98));
    dangling.push(("created_by", d, key_ref(RecordKey::User(UserId(98)))));
    let mut d = device(6, "D6");
    d.shipping_infos = vec![ShipmentId(1), ShipmentId(99)];
    dangling.push((
        "shipping_infos",
        d,
        key_ref(RecordKey::Shipment(ShipmentId(99))),
    ));

    let mut marker_id = 1000;
    let mut marker = || {
        marker_id += 1;
        Record::Audit(audit(marker_id, "marker"))
    };

    for (field, d, reference) in &dangling {
        let what = format!("inserting a device with a missing {field}");
        let m = marker();
        conflict(
            store
                .commit(changes(vec![
                    insert(m.clone()),
                    insert(Record::Device(d.clone())),
                ]))
                .await,
            1,
            missing(reference.clone()),
            &what,
        );
        same_record(
            store.get(m.key()).await,
            None,
            &format!("{what}: earlier change"),
        );
        same_record(
            store.get(RecordKey::Device(d.device_id)).await,
            None,
            &format!("{what}: the device"),
        );
        // The same reference set on an existing device by an update.
        let mut u = d.clone();
        u.device_id = existing.device_id;
        u.serial_number = existing.serial_number.clone();
        u.version = 2;
        conflict(
            store
                .commit(changes(vec![update(Record::Device(u), 1)]))
                .await,
            0,
            missing(reference.clone()),
            &format!("updating a device to a missing {field}"),
        );
    }

    let mut s = super::fixtures::shipment(7);
    s.destination = Some(LocationId(99));
    conflict(
        store.commit(inserts(vec![Record::Shipment(s)])).await,
        0,
        missing(key_ref(RecordKey::Location(LocationId(99)))),
        "inserting a shipment with a missing destination",
    );
    let mut s2 = super::fixtures::shipment(2);
    s2.destination = Some(LocationId(97));
    s2.version = 2;
    conflict(
        store
            .commit(changes(vec![update(Record::Shipment(s2), 1)]))
            .await,
        0,
        missing(key_ref(RecordKey::Location(LocationId(97)))),
        "updating a shipment to a missing destination",
    );

    for name in ["Ghost", "volunteer", "VOLUNTEER", "Volunteer "] {
        let mut u = user(7, "seven", "seven@example.org");
        u.role = Some(name.to_owned());
        conflict(
            store.commit(inserts(vec![Record::User(u)])).await,
            0,
            missing(Reference::RoleName(name.to_owned())),
            &format!("inserting a user with role {name:?} (roles are named exactly)"),
        );
        let mut u2 = user(2, "world-two", "two@world.example");
        u2.role = Some(name.to_owned());
        u2.version = 2;
        conflict(
            store
                .commit(changes(vec![update(Record::User(u2), 1)]))
                .await,
            0,
            missing(Reference::RoleName(name.to_owned())),
            &format!("updating a user to role {name:?}"),
        );
    }

    // Within a batch: a reference to a record deleted earlier is missing, one to a record
    // inserted later is missing too, one to a record inserted earlier is fine.
    let mut d = device(10, "D10");
    d.donor = Some(DonorId(2));
    conflict(
        store
            .commit(changes(vec![
                delete(RecordKey::Donor(DonorId(2)), 1),
                insert(Record::Device(d.clone())),
            ]))
            .await,
        1,
        missing(key_ref(RecordKey::Donor(DonorId(2)))),
        "referring to a donor deleted earlier in the batch",
    );
    let mut d = device(11, "D11");
    d.donor = Some(DonorId(3));
    conflict(
        store
            .commit(changes(vec![
                insert(Record::Device(d.clone())),
                insert(Record::Donor(donor(3, "three@example.org"))),
            ]))
            .await,
        0,
        missing(key_ref(RecordKey::Donor(DonorId(3)))),
        "referring to a donor inserted later in the batch",
    );
    let mut u = user(8, "eight", "eight@example.org");
    u.role = Some("Newcomer".to_owned());
    ok(
        store
            .commit(changes(vec![
                insert(Record::Donor(donor(3, "three@example.org"))),
                insert(Record::Device(d)),
                insert(Record::Role(super::fixtures::role(2, "Newcomer"))),
                insert(Record::User(u)),
            ]))
            .await,
        "referring to records inserted earlier in the batch",
    );
    // Every reference set at once, to records that exist.
    ok(
        store
            .commit(inserts(vec![Record::Device(full_device(20, "FULL"))]))
            .await,
        "inserting a device whose references all exist",
    );
}

/// A record that something refers to cannot be deleted; the conflict names it and one
/// referrer. Audit events refer to nothing, so the user they name can go.
pub async fn check_referenced_delete(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let dev = full_device(1, "FULL");
    let dk = RecordKey::Device(dev.device_id);
    let mut setup = world();
    setup.push(Record::Device(dev));
    setup.push(Record::User(user(3, "three", "three@example.org")));
    let mut event = audit(1, "user.update");
    event.actor = Some(UserId(3));
    setup.push(Record::Audit(event.clone()));
    ok(store.commit(inserts(setup)).await, "setup");
    let before = snapshot(store.as_ref()).await;

    let cases: Vec<(RecordKey, Vec<RecordKey>)> = vec![
        (RecordKey::Donor(DonorId(1)), vec![dk]),
        (RecordKey::Location(LocationId(1)), vec![dk]),
        (
            RecordKey::Location(LocationId(2)),
            vec![dk, RecordKey::Shipment(ShipmentId(1))],
        ),
        (RecordKey::User(UserId(1)), vec![dk]),
        (RecordKey::User(UserId(2)), vec![dk]),
        (RecordKey::Shipment(ShipmentId(1)), vec![dk]),
        (RecordKey::Shipment(ShipmentId(2)), vec![dk]),
        (RecordKey::Role(RoleId(1)), vec![RecordKey::User(UserId(1))]),
    ];
    for (i, (key, by)) in cases.into_iter().enumerate() {
        let m = Record::Audit(audit(100 + i as i64, "marker"));
        referenced(
            store
                .commit(changes(vec![insert(m.clone()), delete(key, 1)]))
                .await,
            1,
            key,
            &by,
            &format!("deleting {key} while {by:?} refer to it"),
        );
    }
    if snapshot(store.as_ref()).await != before {
        panic!("refused deletes changed the store");
    }

    ok(
        store
            .commit(changes(vec![delete(RecordKey::User(UserId(3)), 1)]))
            .await,
        "deleting a user that only an audit event names",
    );
    same_record(
        store.get(RecordKey::Audit(event.id)).await,
        Some(&Record::Audit(event)),
        "the audit event naming the deleted user",
    );
}

/// A batch that first clears every reference to some records and then deletes them succeeds;
/// the same deletes before the clearing fail, as does clearing only one of two referrers.
/// Deleting the referrer first also frees the target.
pub async fn check_clear_references_then_delete(factory: &dyn StoreFactory) {
    let dev = full_device(1, "FULL");
    let dk = RecordKey::Device(dev.device_id);
    let mut setup = world();
    setup.push(Record::Device(dev.clone()));

    let store = factory.open().await;
    ok(store.commit(inserts(setup.clone())).await, "setup");

    let mut cleared = dev.clone();
    cleared.donor = None;
    cleared.start_location = None;
    cleared.end_location = None;
    cleared.received_by = None;
    cleared.created_by = None;
    cleared.shipping_infos = Vec::new();
    cleared.version = 2;

    referenced(
        store
            .commit(changes(vec![
                delete(RecordKey::Donor(DonorId(1)), 1),
                update(Record::Device(cleared.clone()), 1),
            ]))
            .await,
        0,
        RecordKey::Donor(DonorId(1)),
        &[dk],
        "deleting a donor before clearing the reference to it",
    );

    let mut only_end = dev.clone();
    only_end.end_location = None;
    only_end.version = 2;
    referenced(
        store
            .commit(changes(vec![
                update(Record::Device(only_end), 1),
                delete(RecordKey::Location(LocationId(2)), 1),
            ]))
            .await,
        1,
        RecordKey::Location(LocationId(2)),
        &[RecordKey::Shipment(ShipmentId(1))],
        "deleting a location that a shipment still refers to",
    );

    let mut s1 = super::fixtures::shipment(1);
    s1.version = 2;
    let mut u1 = user(1, "world-one", "one@world.example");
    u1.version = 2;
    let batch = changes(vec![
        update(Record::Device(cleared.clone()), 1),
        update(Record::Shipment(s1.clone()), 1),
        update(Record::User(u1.clone()), 1),
        delete(RecordKey::Donor(DonorId(1)), 1),
        delete(RecordKey::Location(LocationId(1)), 1),
        delete(RecordKey::Location(LocationId(2)), 1),
        delete(RecordKey::User(UserId(2)), 1),
        delete(RecordKey::Shipment(ShipmentId(1)), 2),
        delete(RecordKey::Shipment(ShipmentId(2)), 1),
        delete(RecordKey::Role(RoleId(1)), 1),
        delete(RecordKey::User(UserId(1)), 2),
    ]);
    ok(
        store.commit(batch).await,
        "clearing every reference, then deleting the targets",
    );
    same_record(
        store.get(dk).await,
        Some(&Record::Device(cleared)),
        "the cleared device",
    );
    for key in [
        RecordKey::Donor(DonorId(1)),
        RecordKey::Location(LocationId(1)),
        RecordKey::Location(LocationId(2)),
        RecordKey::User(UserId(1)),
        RecordKey::User(UserId(2)),
        RecordKey::Shipment(ShipmentId(1)),
        RecordKey::Shipment(ShipmentId(2)),
        RecordKey::Role(RoleId(1)),
    ] {
        same_record(
            store.get(key).await,
            None,
            &format!("{key} after its delete"),
        );
    }

    // Deleting the referrers first frees every target in the same batch.
    let store = factory.open().await;
    ok(
        store.commit(inserts(setup)).await,
        "setup of the second store",
    );
    ok(
        store
            .commit(changes(vec![
                delete(dk, 1),
                delete(RecordKey::Shipment(ShipmentId(1)), 1),
                delete(RecordKey::Location(LocationId(2)), 1),
                delete(RecordKey::User(UserId(1)), 1),
                delete(RecordKey::Role(RoleId(1)), 1),
                delete(RecordKey::Donor(DonorId(1)), 1),
            ]))
            .await,
        "deleting the referrers, then their targets",
    );
    for key in [
        dk,
        RecordKey::Shipment(ShipmentId(1)),
        RecordKey::Location(LocationId(2)),
        RecordKey::Role(RoleId(1)),
    ] {
        same_record(
            store.get(key).await,
            None,
            &format!("{key} after its delete"),
        );
    }
}
