//! References: refused when they point at nothing, and they keep their target from being deleted
//! until they are cleared (earlier in the same batch is enough).

use crate::ids::{DonorId, LocationId, RoleId, ShipmentId, UserId};
use crate::model::Device;
use crate::store::{Conflict, Record, RecordKey, Reference};

use super::StoreFactory;
use super::assert::{conflict, ok, referenced, same_record, snapshot};
use super::fixtures::{
    audit, changes, credentials, delete, device, digest, donor, full_device, insert, inserts,
    mfa_challenge, session, throttle, update, user, world,
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

/// Renaming a role that users hold is refused with `Referenced` (users refer to it by name);
/// once nobody holds it, it can be renamed, and users can take the new name in the same batch.
pub async fn check_role_rename_while_held(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    ok(store.commit(inserts(world())).await, "setup");
    let before = snapshot(store.as_ref()).await;
    let mut renamed = super::fixtures::role(1, "Helper");
    renamed.permissions = match store.get(RecordKey::Role(RoleId(1))).await {
        Ok(Some(Record::Role(r))) => r.permissions,
        other => panic!("role 1 of the world: {other:?}"),
    };
    renamed.version = 2;
    referenced(
        store
            .commit(changes(vec![update(Record::Role(renamed.clone()), 1)]))
            .await,
        0,
        RecordKey::Role(RoleId(1)),
        &[RecordKey::User(UserId(1))],
        "renaming a role that user 1 holds",
    );
    if snapshot(store.as_ref()).await != before {
        panic!("a refused rename changed the store");
    }
    // Free the role, rename it, and give the new name back, all in one batch.
    let mut u1 = match store.get(RecordKey::User(UserId(1))).await {
        Ok(Some(Record::User(u))) => u,
        other => panic!("user 1 of the world: {other:?}"),
    };
    u1.role = None;
    u1.version = 2;
    let mut u1_back = u1.clone();
    u1_back.role = Some("Helper".to_owned());
    u1_back.version = 3;
    ok(
        store
            .commit(changes(vec![
                update(Record::User(u1), 1),
                update(Record::Role(renamed), 1),
                update(Record::User(u1_back.clone()), 2),
            ]))
            .await,
        "freeing, renaming and re-assigning a role in one batch",
    );
    same_record(
        store.get(RecordKey::User(UserId(1))).await,
        Some(&Record::User(u1_back)),
        "user 1 after the rename",
    );
}

/// `referrers` names exactly the records that refer to a target, ascending, whatever kind of
/// reference they hold.
pub async fn check_referrers(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let dev = full_device(1, "FULL");
    let dk = RecordKey::Device(dev.device_id);
    let mut setup = world();
    setup.push(Record::Device(dev));
    ok(store.commit(inserts(setup)).await, "setup");
    // Written out from `world()` and `full_device`.
    let cases: Vec<(Reference, Vec<RecordKey>)> = vec![
        (key_ref(RecordKey::Donor(DonorId(1))), vec![dk]),
        (key_ref(RecordKey::Location(LocationId(1))), vec![dk]),
        (
            key_ref(RecordKey::Location(LocationId(2))),
            vec![dk, RecordKey::Shipment(ShipmentId(1))],
        ),
        (key_ref(RecordKey::User(UserId(1))), vec![dk]),
        (key_ref(RecordKey::User(UserId(2))), vec![dk]),
        (key_ref(RecordKey::Shipment(ShipmentId(1))), vec![dk]),
        (key_ref(RecordKey::Shipment(ShipmentId(2))), vec![dk]),
        (
            Reference::RoleName("Volunteer".to_owned()),
            vec![RecordKey::User(UserId(1))],
        ),
        (Reference::RoleName("volunteer".to_owned()), vec![]),
        (key_ref(RecordKey::Donor(DonorId(9))), vec![]),
        (
            key_ref(RecordKey::Device(crate::DeviceId(uuid::Uuid::nil()))),
            vec![],
        ),
    ];
    for (target, want) in cases {
        let mut want = want;
        want.sort();
        let got = ok(store.referrers(&target).await, "referrers");
        assert_eq!(got, want, "referrers of {target:?}");
    }
}

/// The records of the authentication reference checks, on top of [`world`]: user 1 has a
/// device (which also names user 2), credentials, two sessions and an MFA challenge; users 3, 4
/// and 5 have only a session, only a challenge and only credentials; user 6 has nothing that
/// refers to it, though a throttle exists (throttles refer to nothing).
struct AuthWorld {
    records: Vec<Record>,
    device: RecordKey,
    /// User 1's sessions, inserted in descending key order.
    sessions_of_1: [RecordKey; 2],
    challenge_of_1: RecordKey,
    session_of_3: RecordKey,
    challenge_of_4: RecordKey,
}

fn auth_world() -> AuthWorld {
    let dev = full_device(1, "FULL");
    let mut records = world();
    records.push(Record::Device(dev.clone()));
    for id in 3..=6 {
        records.push(Record::User(user(
            id,
            &format!("user-{id}"),
            &format!("{id}@example.org"),
        )));
    }
    let high = session(digest(0x90, 0x00), 1);
    let low = session(digest(0x10, 0x00), 1);
    let challenge_of_1 = mfa_challenge(digest(0x55, 0x00), 1);
    let session_of_3 = session(digest(0x33, 0x00), 3);
    let challenge_of_4 = mfa_challenge(digest(0x44, 0x00), 4);
    let out = AuthWorld {
        device: RecordKey::Device(dev.device_id),
        sessions_of_1: [
            RecordKey::Session(low.digest),
            RecordKey::Session(high.digest),
        ],
        challenge_of_1: RecordKey::MfaChallenge(challenge_of_1.digest),
        session_of_3: RecordKey::Session(session_of_3.digest),
        challenge_of_4: RecordKey::MfaChallenge(challenge_of_4.digest),
        records: Vec::new(),
    };
    records.extend([
        Record::Session(high),
        Record::Session(low),
        Record::MfaChallenge(challenge_of_1),
        Record::Credentials(credentials(1)),
        Record::Session(session_of_3),
        Record::MfaChallenge(challenge_of_4),
        Record::Credentials(credentials(5)),
        Record::Throttle(throttle(digest(0x66, 0x00))),
    ]);
    AuthWorld { records, ..out }
}

fn user_ref(id: i64) -> Reference {
    key_ref(RecordKey::User(UserId(id)))
}

/// Credentials, sessions and MFA challenges refer to their user: inserting one for a user that
/// does not exist (never did, was deleted earlier in the batch, or is inserted later in it),
/// and moving a session or challenge to such a user, is refused with `MissingReference` naming
/// the user; a user inserted earlier in the batch is fine.
pub async fn check_auth_missing_references(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let w = auth_world();
    ok(store.commit(inserts(w.records.clone())).await, "setup");
    let before = snapshot(store.as_ref()).await;

    let dangling: Vec<(&str, Record)> = vec![
        ("a session", Record::Session(session(digest(0xa0, 1), 99))),
        (
            "an MFA challenge",
            Record::MfaChallenge(mfa_challenge(digest(0xa0, 2), 99)),
        ),
        ("credentials", Record::Credentials(credentials(99))),
    ];
    for (i, (what, r)) in dangling.iter().enumerate() {
        let m = Record::Audit(audit(100 + i as i64, "marker"));
        conflict(
            store
                .commit(changes(vec![insert(m), insert(r.clone())]))
                .await,
            1,
            missing(user_ref(99)),
            &format!("inserting {what} of a user that does not exist"),
        );
    }

    let mut moved = session(digest(0x33, 0x00), 98);
    moved.version = 2;
    conflict(
        store
            .commit(changes(vec![update(Record::Session(moved), 1)]))
            .await,
        0,
        missing(user_ref(98)),
        "moving a session to a user that does not exist",
    );
    let mut moved = mfa_challenge(digest(0x44, 0x00), 97);
    moved.version = 2;
    conflict(
        store
            .commit(changes(vec![update(Record::MfaChallenge(moved), 1)]))
            .await,
        0,
        missing(user_ref(97)),
        "moving an MFA challenge to a user that does not exist",
    );

    // User 6 is deleted earlier in the batch.
    for (i, r) in [
        Record::Session(session(digest(0xb0, 0), 6)),
        Record::MfaChallenge(mfa_challenge(digest(0xb0, 0), 6)),
        Record::Credentials(credentials(6)),
    ]
    .into_iter()
    .enumerate()
    {
        conflict(
            store
                .commit(changes(vec![
                    delete(RecordKey::User(UserId(6)), 1),
                    insert(r),
                ]))
                .await,
            1,
            missing(user_ref(6)),
            &format!("referring to a user deleted earlier in the batch (case {i})"),
        );
    }
    // User 7 is inserted later in the batch.
    conflict(
        store
            .commit(changes(vec![
                insert(Record::Credentials(credentials(7))),
                insert(Record::User(user(7, "seven", "seven@example.org"))),
            ]))
            .await,
        0,
        missing(user_ref(7)),
        "credentials of a user inserted later in the batch",
    );
    if snapshot(store.as_ref()).await != before {
        panic!("refused changes with missing users changed the store");
    }

    let s7 = session(digest(0xc0, 7), 7);
    let m7 = mfa_challenge(digest(0xc0, 7), 7);
    ok(
        store
            .commit(changes(vec![
                insert(Record::User(user(7, "seven", "seven@example.org"))),
                insert(Record::Credentials(credentials(7))),
                insert(Record::Session(s7.clone())),
                insert(Record::MfaChallenge(m7.clone())),
            ]))
            .await,
        "a user and its credentials, session and challenge in one batch",
    );
    same_record(
        store.get(RecordKey::Session(s7.digest)).await,
        Some(&Record::Session(s7)),
        "the session of the user inserted in the same batch",
    );
}

/// A user that credentials, a session or an MFA challenge refers to cannot be deleted (the
/// conflict names one referrer); a batch that deletes them first and then the user succeeds,
/// the same deletes in the other order or missing one referrer fail and change nothing; moving
/// a session or challenge to another user frees the first. Throttles hold nobody.
pub async fn check_auth_referenced_delete(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let w = auth_world();
    ok(store.commit(inserts(w.records.clone())).await, "setup");
    let before = snapshot(store.as_ref()).await;
    let creds = |id: i64| RecordKey::Credentials(UserId(id));

    let cases: Vec<(i64, Vec<RecordKey>)> = vec![
        (
            1,
            vec![
                w.device,
                creds(1),
                w.sessions_of_1[0],
                w.sessions_of_1[1],
                w.challenge_of_1,
            ],
        ),
        (3, vec![w.session_of_3]),
        (4, vec![w.challenge_of_4]),
        (5, vec![creds(5)]),
    ];
    for (i, (id, by)) in cases.into_iter().enumerate() {
        let key = RecordKey::User(UserId(id));
        let m = Record::Audit(audit(200 + i as i64, "marker"));
        referenced(
            store.commit(changes(vec![insert(m), delete(key, 1)])).await,
            1,
            key,
            &by,
            &format!("deleting user {id} while {by:?} refer to it"),
        );
    }

    // User 1 without its device, but referrers deleted after the user, or one left behind.
    let user1 = RecordKey::User(UserId(1));
    referenced(
        store
            .commit(changes(vec![
                delete(w.device, 1),
                delete(user1, 1),
                delete(w.sessions_of_1[0], 1),
                delete(w.sessions_of_1[1], 1),
                delete(w.challenge_of_1, 1),
                delete(creds(1), 1),
            ]))
            .await,
        1,
        user1,
        &[
            creds(1),
            w.sessions_of_1[0],
            w.sessions_of_1[1],
            w.challenge_of_1,
        ],
        "deleting user 1 before its sessions, challenge and credentials",
    );
    referenced(
        store
            .commit(changes(vec![
                delete(w.device, 1),
                delete(w.sessions_of_1[0], 1),
                delete(w.sessions_of_1[1], 1),
                delete(w.challenge_of_1, 1),
                delete(user1, 1),
            ]))
            .await,
        4,
        user1,
        &[creds(1)],
        "deleting user 1 while its credentials remain",
    );
    referenced(
        store
            .commit(changes(vec![
                delete(w.device, 1),
                delete(creds(1), 1),
                delete(w.sessions_of_1[1], 1),
                delete(w.challenge_of_1, 1),
                delete(user1, 1),
            ]))
            .await,
        4,
        user1,
        &[w.sessions_of_1[0]],
        "deleting user 1 while one of its sessions remains",
    );
    if snapshot(store.as_ref()).await != before {
        panic!("refused deletes of users changed the store");
    }

    ok(
        store
            .commit(changes(vec![
                delete(w.sessions_of_1[1], 1),
                delete(w.sessions_of_1[0], 1),
                delete(w.challenge_of_1, 1),
                delete(creds(1), 1),
                delete(w.device, 1),
                delete(user1, 1),
                delete(w.session_of_3, 1),
                delete(RecordKey::User(UserId(3)), 1),
                delete(creds(5), 1),
                delete(RecordKey::User(UserId(5)), 1),
                delete(RecordKey::User(UserId(6)), 1),
            ]))
            .await,
        "deleting sessions, challenges and credentials, then their users",
    );
    for key in [
        user1,
        RecordKey::User(UserId(3)),
        RecordKey::User(UserId(5)),
        RecordKey::User(UserId(6)),
        w.sessions_of_1[0],
        w.sessions_of_1[1],
        w.challenge_of_1,
        creds(1),
        creds(5),
        w.session_of_3,
    ] {
        same_record(
            store.get(key).await,
            None,
            &format!("{key} after its delete"),
        );
    }
    let throttle_key = RecordKey::Throttle(digest(0x66, 0x00));
    same_record(
        store.get(throttle_key).await,
        Some(&Record::Throttle(throttle(digest(0x66, 0x00)))),
        "the throttle, after every user it might name was deleted",
    );

    // Moving user 4's challenge to user 2 frees user 4 and holds user 2.
    let mut moved = mfa_challenge(digest(0x44, 0x00), 2);
    moved.version = 2;
    ok(
        store
            .commit(changes(vec![
                update(Record::MfaChallenge(moved), 1),
                delete(RecordKey::User(UserId(4)), 1),
            ]))
            .await,
        "moving a challenge to another user, then deleting the first",
    );
    referenced(
        store
            .commit(changes(vec![delete(RecordKey::User(UserId(2)), 1)]))
            .await,
        0,
        RecordKey::User(UserId(2)),
        &[w.challenge_of_4],
        "deleting the user a challenge was moved to",
    );
}

/// `referrers` of a user names its device, credentials, sessions and MFA challenges, ascending
/// (devices, then credentials, then sessions and challenges by digest bytes), and follows a
/// session moved to another user and deletes.
pub async fn check_auth_referrers(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let w = auth_world();
    ok(store.commit(inserts(w.records.clone())).await, "setup");
    let creds = |id: i64| RecordKey::Credentials(UserId(id));
    // Written out from `auth_world` in the order `RecordKey` sorts: by kind (devices, ...,
    // credentials, sessions, MFA challenges), then by id or digest bytes.
    let cases: Vec<(i64, Vec<RecordKey>)> = vec![
        (
            1,
            vec![
                w.device,
                creds(1),
                w.sessions_of_1[0],
                w.sessions_of_1[1],
                w.challenge_of_1,
            ],
        ),
        (2, vec![w.device]),
        (3, vec![w.session_of_3]),
        (4, vec![w.challenge_of_4]),
        (5, vec![creds(5)]),
        (6, vec![]),
        (99, vec![]),
    ];
    for (id, want) in &cases {
        let got = ok(store.referrers(&user_ref(*id)).await, "referrers");
        assert_eq!(&got, want, "referrers of user {id}");
    }
    for target in [
        key_ref(w.session_of_3),
        key_ref(w.challenge_of_1),
        key_ref(creds(1)),
        key_ref(RecordKey::Throttle(digest(0x66, 0x00))),
    ] {
        let got = ok(store.referrers(&target).await, "referrers");
        assert_eq!(got, Vec::<RecordKey>::new(), "referrers of {target:?}");
    }

    // Session of user 3 moves to user 1; user 1's higher session goes.
    let mut moved = session(digest(0x33, 0x00), 1);
    moved.version = 2;
    ok(
        store
            .commit(changes(vec![
                update(Record::Session(moved), 1),
                delete(w.sessions_of_1[1], 1),
            ]))
            .await,
        "moving a session, deleting another",
    );
    let got = ok(store.referrers(&user_ref(1)).await, "referrers");
    let want = vec![
        w.device,
        creds(1),
        w.sessions_of_1[0],
        w.session_of_3,
        w.challenge_of_1,
    ];
    assert_eq!(got, want, "referrers of user 1 after the move");
    let got = ok(store.referrers(&user_ref(3)).await, "referrers");
    assert_eq!(
        got,
        Vec::<RecordKey>::new(),
        "referrers of user 3 after the move"
    );
}
