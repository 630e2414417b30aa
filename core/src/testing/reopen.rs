//! Persistence: everything written survives closing and opening the store again, constraints
//! keep holding afterwards, and ids are never handed out twice across a reopen.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::ids::{Digest, DonorId, IdKind, LocationId, UserId};
use crate::query::{Collection, Field, ListQuery, Op, Order, Value};
use crate::store::{Conflict, Record, RecordKey, Reference, Store, UniqueField};

use super::StoreFactory;
use super::assert::{compare_pages, conflict, keys, ok, referenced, same_record};
use super::fixtures::{
    TOTP_STEP_MAX, audit, changes, credentials, date, delete, device, digest, donor, full_device,
    insert, inserts, location, mfa_challenge, now_plus, session, throttle, update, user, world,
};
use super::model::Model;
use super::unique::{touch, with_version};

/// What the checks expect after a reopen: the records, and the highest id of each kind ever
/// handed out or stored.
struct Expected {
    model: Model,
    highest: BTreeMap<IdKind, i64>,
    deleted: Vec<RecordKey>,
}

impl Expected {
    fn saw(&mut self, kind: IdKind, id: i64) {
        let h = self.highest.entry(kind).or_insert(id);
        *h = (*h).max(id);
    }

    fn commit_ok(&mut self, batch: &crate::store::ChangeSet) {
        self.model.apply(batch);
        for c in &batch.changes {
            if let crate::store::Change::Insert(r) = c
                && let Some((kind, id)) = r.key().int_id()
            {
                self.saw(kind, id);
            }
            if let crate::store::Change::Delete { key, .. } = c {
                self.deleted.push(*key);
            }
        }
    }
}

async fn commit(store: &dyn Store, exp: &mut Expected, batch: crate::store::ChangeSet, what: &str) {
    ok(store.commit(batch.clone()).await, what);
    exp.commit_ok(&batch);
}

async fn allocate(store: &dyn Store, exp: &mut Expected, n: usize) {
    for kind in IdKind::ALL {
        for _ in 0..n {
            let id = ok(store.next_id(kind).await, "next_id");
            exp.saw(kind, id);
        }
    }
}

/// The session of user 3 that [`check_reopen`] writes (user 3 has only it and a challenge).
fn session_of_3() -> Digest {
    digest(0x33, 0x01)
}

/// The MFA challenge of user 3.
fn challenge_of_3() -> Digest {
    digest(0x33, 0x02)
}

/// Writes every collection (the authentication records included), updates, deletes, a refused
/// batch and allocated ids; reopens; and checks that the data, the unique keys, the references
/// (of sessions, challenges and credentials too), the versions and the counters all survived.
/// Then writes more and does it again. Skipped (with a note) for volatile backends.
pub async fn check_reopen(factory: &dyn StoreFactory) {
    let store = factory.open().await;
    let mut exp = Expected {
        model: Model::new(),
        highest: BTreeMap::new(),
        deleted: Vec::new(),
    };

    let mut records = world();
    records.push(Record::Device(full_device(0xF1, "FULL-1")));
    let mut plain = device(u128::MAX - 1, "PLAIN");
    plain.notes = "Straße".to_owned();
    records.push(Record::Device(plain.clone()));
    let mut phoned = location(77_777, "Phone street");
    phoned.phone = "+49 1".to_owned();
    phoned.city = "Köln".to_owned();
    records.push(Record::Location(phoned));
    records.push(Record::Donor(donor(3, "three@example.org")));
    let mut event = audit(5, "device.create");
    event.actor = Some(UserId(1));
    event.changes = serde_json::json!({"serial_number": [null, "FULL-1"], "n": [1, 2.5]});
    records.push(Record::Audit(event));
    records.push(Record::Audit(audit(6, "device.update")));
    // Authentication records: user 3 has only a session and a challenge, so its referrers after
    // the reopen are exactly those.
    records.push(Record::User(user(3, "three", "three@example.org")));
    let mut creds = credentials(1);
    creds.password_hash = Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned());
    creds.totp_secret = Some("JBSWY3DPEHPK3PXP".to_owned());
    creds.totp_enabled = true;
    creds.totp_last_step = Some(TOTP_STEP_MAX);
    creds.recovery_codes = vec![digest(9, 9), digest(0, 1), Digest::of("code")];
    records.push(Record::Credentials(creds));
    records.push(Record::Credentials(credentials(2)));
    let mut used = session(digest(0xa0, 0x00), 1);
    used.ip = Some("2001:db8::7".to_owned());
    used.expires_at = now_plus(-1);
    records.push(Record::Session(used.clone()));
    records.push(Record::Session(session(digest(0x0b, 0x00), 2)));
    records.push(Record::Session(session(session_of_3(), 3)));
    records.push(Record::MfaChallenge(mfa_challenge(digest(0x0c, 0x00), 2)));
    records.push(Record::MfaChallenge(mfa_challenge(challenge_of_3(), 3)));
    let mut locked = throttle(digest(0xa0, 0x00));
    locked.failures = vec![now_plus(-2), now_plus(-1)];
    locked.locked_until = Some(now_plus(1));
    locked.locks = 3;
    records.push(Record::Throttle(locked.clone()));
    records.push(Record::Throttle(throttle(digest(0x01, 0x00))));
    commit(
        store.as_ref(),
        &mut exp,
        inserts(records),
        "writing every collection",
    )
    .await;

    let updated_plain = with_version(touch(Record::Device(plain)), 2);
    let mut renamed = user(2, "World-Two-Renamed", "TWO@world.example");
    renamed.date_joined = now_plus(0);
    renamed.version = 2;
    commit(
        store.as_ref(),
        &mut exp,
        changes(vec![
            update(updated_plain, 1),
            update(Record::User(renamed), 1),
            delete(RecordKey::Donor(DonorId(3)), 1),
            insert(Record::Audit(audit(7, "donor.delete"))),
            update(with_version(touch(Record::Session(used)), 2), 1),
            update(with_version(touch(Record::Throttle(locked)), 2), 1),
            update(
                with_version(touch(Record::Credentials(credentials(2))), 2),
                1,
            ),
            delete(RecordKey::MfaChallenge(digest(0x0c, 0x00)), 1),
        ]),
        "updates and deletes",
    )
    .await;
    // A refused batch must not come back after the reopen.
    let refused = changes(vec![
        insert(Record::Donor(donor(40, "refused@example.org"))),
        insert(Record::Device(device(0x40, "FULL-1"))),
    ]);
    if store.commit(refused).await.is_ok() {
        panic!("a batch inserting a taken serial number was accepted");
    }
    allocate(store.as_ref(), &mut exp, 3).await;

    let Some(store) = factory.reopen(store).await else {
        println!("note: this backend is volatile (reopen gives None); check_reopen skipped");
        return;
    };
    verify(&store, &mut exp, "after the first reopen").await;

    // Keep working on the reopened store, then reopen again.
    let donor_id = ok(store.next_id(IdKind::Donor).await, "next_id");
    exp.saw(IdKind::Donor, donor_id);
    let mut d = device(0x42, "AFTER-REOPEN");
    d.donor = Some(DonorId(donor_id));
    d.date_received = Some(date(2025, 1, 1));
    commit(
        store.as_ref(),
        &mut exp,
        changes(vec![
            insert(Record::Donor(donor(donor_id, "after@example.org"))),
            insert(Record::Device(d)),
            delete(RecordKey::Location(LocationId(77_777)), 1),
            insert(Record::Session(session(digest(0xc0, 0x00), 1))),
            delete(RecordKey::Session(digest(0x0b, 0x00)), 1),
            insert(Record::MfaChallenge(mfa_challenge(digest(0x0d, 0x00), 1))),
            insert(Record::Throttle(throttle(digest(0x02, 0x00)))),
        ]),
        "writing after the reopen",
    )
    .await;
    allocate(store.as_ref(), &mut exp, 2).await;
    let Some(store) = factory.reopen(store).await else {
        panic!("reopen gave a store once and None the second time");
    };
    verify(&store, &mut exp, "after the second reopen").await;
    ok(store.close().await, "close");
}

async fn verify(store: &Arc<dyn Store>, exp: &mut Expected, when: &str) {
    for c in Collection::ALL {
        let want = exp.model.scan(c);
        let got = ok(store.scan(c, None, 10_000).await, &format!("{when}: scan"));
        if got != want {
            panic!(
                "{when}: scan of {c:?}: expected {:?}, got {:?}\n(expected {}\n got {})",
                keys(&want),
                keys(&got),
                super::assert::plain(&want),
                super::assert::plain(&got)
            );
        }
        for r in &want {
            same_record(store.get(r.key()).await, Some(r), &format!("{when}: get"));
            for k in Model::unique_keys(r) {
                same_record(
                    store.get_by_unique(&k).await,
                    Some(r),
                    &format!("{when}: get_by_unique({k:?})"),
                );
            }
        }
    }
    for k in &exp.deleted {
        same_record(store.get(*k).await, None, &format!("{when}: deleted {k}"));
    }
    same_record(
        store
            .get_by_unique(&UniqueField::DonorEmail.key("refused@example.org"))
            .await,
        None,
        &format!("{when}: the refused batch"),
    );

    // The indexes behind list queries survived too.
    let queries = [
        ListQuery::all(Collection::Devices)
            .filter(Field::DeviceNotes, Op::IContains("STRASSE".to_owned()))
            .with_count(),
        ListQuery::all(Collection::Devices)
            .filter(
                Field::DeviceDonor,
                Op::In(vec![Value::Int(1), Value::Int(3)]),
            )
            .order_by(vec![Order::desc(Field::DeviceSerialNumber)]),
        ListQuery::all(Collection::Devices)
            .order_by(vec![Order::asc(Field::DeviceDateReceived)])
            .page(1, 2)
            .with_count(),
        ListQuery::all(Collection::Users)
            .filter(Field::UserUsername, Op::IContains("world".to_owned()))
            .order_by(vec![Order::desc(Field::UserUsername)]),
        ListQuery::all(Collection::Locations)
            .filter(Field::LocationCity, Op::Eq(Value::Text("Köln".to_owned()))),
        ListQuery::all(Collection::Audit)
            .order_by(vec![Order::desc(Field::AuditId)])
            .with_count(),
        ListQuery::all(Collection::Sessions)
            .filter(Field::SessionUser, Op::Eq(Value::Int(1)))
            .with_count(),
        ListQuery::all(Collection::Sessions)
            .filter(
                Field::SessionExpiresAt,
                Op::Lte(Value::Timestamp(now_plus(86_400_000_000))),
            )
            .order_by(vec![Order::asc(Field::SessionExpiresAt)]),
        ListQuery::all(Collection::MfaChallenges)
            .filter(
                Field::MfaChallengeUser,
                Op::In(vec![Value::Int(1), Value::Int(3)]),
            )
            .order_by(vec![Order::desc(Field::MfaChallengeExpiresAt)])
            .with_count(),
        ListQuery::all(Collection::Throttles)
            .order_by(vec![Order::desc(Field::ThrottleUpdatedAt)])
            .with_count(),
        ListQuery::all(Collection::Credentials).with_count(),
    ];
    for q in &queries {
        let got = ok(store.list(q).await, &format!("{when}: list"));
        if let Err(e) = compare_pages(q, &got, &exp.model.list(q)) {
            panic!("{when}: {e}");
        }
    }

    // Counters: above everything handed out or stored before.
    for (kind, highest) in exp.highest.clone() {
        let id = ok(store.next_id(kind).await, &format!("{when}: next_id"));
        if id <= highest {
            panic!(
                "{when}: next_id({kind:?}) gave {id}, but {highest} was handed out or stored \
                 before"
            );
        }
        exp.saw(kind, id);
    }

    // Constraints still hold.
    conflict(
        store
            .commit(inserts(vec![Record::Device(device(0x99, "FULL-1"))]))
            .await,
        0,
        Conflict::Unique(UniqueField::DeviceSerialNumber.key("FULL-1")),
        &format!("{when}: inserting a taken serial number"),
    );
    conflict(
        store
            .commit(inserts(vec![Record::User(user(
                99,
                "WORLD-ONE",
                "x@example.org",
            ))]))
            .await,
        0,
        Conflict::Unique(UniqueField::UserUsername.key("world-one")),
        &format!("{when}: inserting a taken username in another case"),
    );
    // The references of the authentication records survived (user 3 has only those two).
    let user3 = RecordKey::User(UserId(3));
    let by = [
        RecordKey::Session(session_of_3()),
        RecordKey::MfaChallenge(challenge_of_3()),
    ];
    let got = ok(
        store.referrers(&Reference::Key(user3)).await,
        &format!("{when}: referrers"),
    );
    if got != by {
        panic!("{when}: referrers of user 3: expected {by:?}, got {got:?}");
    }
    referenced(
        store.commit(changes(vec![delete(user3, 1)])).await,
        0,
        user3,
        &by,
        &format!("{when}: deleting a user that a session and a challenge refer to"),
    );
    conflict(
        store
            .commit(inserts(vec![Record::Session(session(
                digest(0xa0, 0x00),
                2,
            ))]))
            .await,
        0,
        Conflict::Exists(RecordKey::Session(digest(0xa0, 0x00))),
        &format!("{when}: inserting a stored session digest"),
    );
    conflict(
        store
            .commit(inserts(vec![Record::MfaChallenge(mfa_challenge(
                digest(0xee, 0x00),
                99,
            ))]))
            .await,
        0,
        Conflict::MissingReference(Reference::Key(RecordKey::User(UserId(99)))),
        &format!("{when}: a challenge of a user that does not exist"),
    );
    let full_key = RecordKey::Device(super::fixtures::device_id(0xF1));
    referenced(
        store
            .commit(changes(vec![delete(RecordKey::Donor(DonorId(1)), 1)]))
            .await,
        0,
        RecordKey::Donor(DonorId(1)),
        &[full_key],
        &format!("{when}: deleting a referenced donor"),
    );
    let current = exp
        .model
        .get(full_key)
        .cloned()
        .expect("the full device is in the model");
    conflict(
        store
            .commit(changes(vec![update(
                with_version(touch(current.clone()), 1),
                0,
            )]))
            .await,
        0,
        Conflict::Version {
            key: full_key,
            expected: 0,
            actual: current.version(),
        },
        &format!("{when}: updating from a wrong version"),
    );
}
