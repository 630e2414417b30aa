//! What the conformance suite does not pin but the SQL store promises: durability settings,
//! schema versions (a newer schema is refused untouched, so is someone else's database),
//! several handles on one database (as several processes would hold), and room for the
//! longest values the contract allows. Each check runs on every dialect available.
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

mod common;

use common::{Factory, raw_execute, raw_int};
use rehome_core::fold::fold;
use rehome_core::ids::IdKind;
use rehome_core::query::{Collection, Field, ListQuery, Op, Order, Value};
use rehome_core::store::{Change, ChangeSet, Conflict, Record, RecordKey, Store, StoreError};
use rehome_core::testing::fixtures::{
    device, donor, full_device, inserts, location, role, user, world,
};
use rehome_core::{DonorId, LocationId};
use rehome_sql::{Dialect, SCHEMA_VERSION};

fn dialect(url: &str) -> Dialect {
    rehome_sql::Options::new(url).dialect().expect("a SQL URL")
}

/// The settings the store sets are in force on the connection that writes.
async fn settings_are_in_force(f: &Factory) {
    let db = f.database().await;
    let store = rehome_sql::open(&db.url).await.expect("open");
    let settings = store.settings().await.expect("settings");
    let get = |name: &str| {
        settings
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("no setting {name} in {settings:?}"))
    };
    match dialect(&db.url) {
        Dialect::Sqlite if db.url.contains(":memory:") => {
            assert_eq!(get("foreign_keys"), "1");
            assert_eq!(get("synchronous"), "2");
        }
        Dialect::Sqlite => {
            assert_eq!(get("journal_mode"), "wal");
            // 2 = FULL: the WAL is synced at every commit.
            assert_eq!(get("synchronous"), "2");
            assert_eq!(get("foreign_keys"), "1");
            assert_eq!(get("busy_timeout"), "10000");
        }
        Dialect::Postgres => {
            assert_eq!(get("transaction_isolation"), "read committed");
            assert!(get("search_path").contains("rehome_test_"));
        }
        Dialect::MySql => {
            assert_eq!(get("transaction_isolation"), "read-committed");
            assert!(get("sql_mode").contains("strict_all_tables"));
        }
    }
    assert_eq!(
        store.schema_version().await.expect("version"),
        Some(SCHEMA_VERSION)
    );
    store.close().await.expect("close");
}

/// A database written by a newer schema is refused with `Corrupt`, and nothing in it changes.
async fn newer_schema_is_refused_untouched(f: &Factory) {
    let db = f.database().await;
    let store = rehome_sql::open(&db.url).await.expect("open");
    store
        .commit(inserts(vec![Record::Donor(donor(1, "a@example.org"))]))
        .await
        .expect("insert");
    store.close().await.expect("close");
    drop(store);
    raw_execute(
        &db.url,
        "INSERT INTO rehome_schema (version, applied_at) VALUES (99, 0)",
    )
    .await;
    let count = "SELECT COUNT(*) + 1000 * (SELECT COUNT(*) FROM rehome_schema) FROM donors";
    let before = raw_int(&db.url, count).await;
    match rehome_sql::open(&db.url).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("99"), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    assert_eq!(raw_int(&db.url, count).await, before);
    assert_eq!(
        raw_int(&db.url, "SELECT MAX(version) FROM rehome_schema").await,
        99
    );
}

/// A database holding tables but no rehome schema version is not ours: refused, untouched.
async fn foreign_database_is_refused(f: &Factory) {
    let db = f.database().await;
    raw_execute(&db.url, "CREATE TABLE someone_elses (x BIGINT)").await;
    match rehome_sql::open(&db.url).await {
        Err(StoreError::Corrupt(m)) => assert!(m.contains("no rehome schema"), "{m}"),
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let tables = match dialect(&db.url) {
        Dialect::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        }
        Dialect::MySql => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
    };
    assert_eq!(raw_int(&db.url, tables).await, 1);
}

/// Two handles on one database (two processes): ids are never handed out twice, an id one
/// inserts is never handed out by the other, a unique key or version race has one winner.
async fn two_handles_share_one_database(f: &Factory) {
    let db = f.database().await;
    let a = f.handle(db.clone()).await;
    let b = f.handle(db.clone()).await;

    let mut tasks = Vec::new();
    for store in [a.clone(), b.clone(), a.clone(), b.clone()] {
        tasks.push(tokio::spawn(async move {
            let mut ids = Vec::new();
            for _ in 0..25 {
                ids.push(store.next_id(IdKind::Donor).await.expect("next_id"));
            }
            ids
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.expect("task"));
    }
    all.sort_unstable();
    assert_eq!(all, (1..=100).collect::<Vec<i64>>());

    // An id inserted through one handle moves the counter the other hands out from.
    a.commit(inserts(vec![Record::Donor(donor(500, "x@example.org"))]))
        .await
        .expect("insert 500");
    assert_eq!(b.next_id(IdKind::Donor).await.expect("next"), 501);
    assert_eq!(a.next_id(IdKind::Donor).await.expect("next"), 502);

    // One serial number, two handles, eight tries: exactly one wins, the others name the key.
    let mut tasks = Vec::new();
    for (i, store) in [a.clone(), b.clone()]
        .into_iter()
        .cycle()
        .take(8)
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let d = device(100 + i as u128, "RACE-1");
            store.commit(inserts(vec![Record::Device(d)])).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => won += 1,
            Err(StoreError::Conflict {
                conflict: Conflict::Unique(k),
                index: 0,
            }) => assert_eq!(k.value, "RACE-1"),
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);

    // Version race on one donor: one update wins, the rest see version 2.
    let mut tasks = Vec::new();
    for (i, store) in [a.clone(), b.clone()]
        .into_iter()
        .cycle()
        .take(6)
        .enumerate()
    {
        tasks.push(tokio::spawn(async move {
            let mut d = donor(500, "x@example.org");
            d.name = format!("writer {i}");
            d.version = 2;
            store
                .commit(ChangeSet {
                    changes: vec![Change::Update {
                        record: Record::Donor(d),
                        expected_version: 1,
                    }],
                })
                .await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => won += 1,
            Err(StoreError::Conflict {
                conflict: Conflict::Version { actual: 2, .. },
                ..
            }) => {}
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!(won, 1);
    let seen_by_b = b
        .get(RecordKey::Donor(DonorId(500)))
        .await
        .expect("get")
        .expect("donor");
    assert_eq!(seen_by_b.version(), 2);
}

/// Change sets updating the same rows in opposite orders, from two handles at once (two
/// processes running all-or-nothing batches): the database sees lock-order inversions, yet
/// exactly one change set commits and every other one is refused with a version conflict —
/// none fails with a database error after its retries, none waits out a deadlock convoy.
/// (Regression: on PostgreSQL, 200 such batches over two servers all hit the 30 s request
/// timeout; the store now locks the rows it updates in one order before writing.)
async fn inverted_lock_orders_have_one_winner(f: &Factory) {
    const ROWS: i64 = 4;
    const WRITERS: usize = 200;
    let db = f.database().await;
    let a = f.handle(db.clone()).await;
    let b = f.handle(db.clone()).await;
    let donors: Vec<Record> = (0..ROWS)
        .map(|k| Record::Donor(donor(700 + k, &format!("d{k}@example.org"))))
        .collect();
    a.commit(inserts(donors)).await.expect("insert the donors");
    let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(WRITERS));
    let mut tasks = Vec::new();
    for (i, store) in [a.clone(), b.clone()]
        .into_iter()
        .cycle()
        .take(WRITERS)
        .enumerate()
    {
        let barrier = barrier.clone();
        tasks.push(tokio::spawn(async move {
            // Rotations of the four rows, every second group reversed.
            let mut order: Vec<i64> = (0..ROWS).map(|k| (k + i as i64) % ROWS).collect();
            if (i / ROWS as usize) % 2 == 1 {
                order.reverse();
            }
            let changes = order
                .into_iter()
                .map(|k| {
                    let mut d = donor(700 + k, &format!("d{k}@example.org"));
                    d.name = format!("writer {i}");
                    d.version = 2;
                    Change::Update {
                        record: Record::Donor(d),
                        expected_version: 1,
                    }
                })
                .collect();
            barrier.wait().await;
            store.commit(ChangeSet { changes }).await
        }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.expect("task") {
            Ok(()) => won += 1,
            Err(StoreError::Conflict {
                conflict: Conflict::Version { actual: 2, .. },
                ..
            }) => {}
            Err(e) => panic!("a loser must see a version conflict, got {e:?}"),
        }
    }
    assert_eq!(won, 1, "exactly one change set commits");
    let mut names = Vec::new();
    for k in 0..ROWS {
        let r = b
            .get(RecordKey::Donor(DonorId(700 + k)))
            .await
            .expect("get")
            .expect("donor");
        assert_eq!(r.version(), 2);
        let Record::Donor(d) = r else {
            panic!("a donor")
        };
        names.push(d.name);
    }
    names.dedup();
    assert_eq!(
        names.len(),
        1,
        "all four rows from one change set: {names:?}"
    );
}

/// The longest values the contract accepts (255 characters for short text, 10,000 for free
/// text, 254 for emails, 50 for usernames), in four-byte characters, fit every column, key and
/// index, and come back exactly.
async fn longest_values_fit(f: &Factory) {
    let store = rehome_core::testing::StoreFactory::open(f).await;
    let long = |n: usize, c: char| std::iter::repeat_n(c, n).collect::<String>();
    let mut records = world();
    let mut r = role(9, &long(255, '😀'));
    r.description = long(10_000, '😀');
    records.push(Record::Role(r.clone()));
    let mut u = user(9, &long(50, 'ẞ'), &format!("{}@x", long(252, 'ẞ')));
    u.role = Some(r.name.clone());
    u.first_name = long(255, '😀');
    u.last_name = long(255, 'ẞ');
    records.push(Record::User(u.clone()));
    let mut l = location(9, &long(10_000, '😀'));
    l.name = long(255, '😀');
    l.location_type = long(255, '😀');
    l.country = long(255, '😀');
    l.city = long(255, '😀');
    l.postal_code = long(20, '😀');
    l.phone = long(30, '😀');
    records.push(Record::Location(l.clone()));
    let mut d = full_device(9, &long(255, '😀'));
    d.device_type = long(255, '😀');
    d.make = long(255, '😀');
    d.model = long(255, '😀');
    d.mac_id = long(255, 'ẞ');
    d.operating_system = long(255, '😀');
    d.physical_condition = long(255, '😀');
    d.specifications = long(10_000, '😀');
    d.notes = long(10_000, '😀');
    d.start_location = Some(LocationId(9));
    records.push(Record::Device(d.clone()));
    store
        .commit(inserts(records))
        .await
        .unwrap_or_else(|e| panic!("the longest values were refused: {e:?}"));
    for rec in [
        Record::Role(r),
        Record::User(u.clone()),
        Record::Location(l),
        Record::Device(d.clone()),
    ] {
        assert_eq!(
            store.get(rec.key()).await.expect("get").as_ref(),
            Some(&rec)
        );
    }
    let by_name = store
        .get_by_unique(&rehome_core::store::UniqueField::UserUsername.key(&u.username))
        .await
        .expect("by username");
    assert_eq!(by_name, Some(Record::User(u.clone())));
    let page = store
        .list(
            &ListQuery::all(Collection::Devices)
                .filter(Field::DeviceMake, Op::Eq(Value::Text(d.make.clone())))
                .filter(Field::DeviceMacId, Op::IContains(fold(&d.mac_id)))
                .order_by(vec![Order::asc(Field::DeviceType)])
                .with_count(),
        )
        .await
        .expect("list");
    assert_eq!(page.items, vec![Record::Device(d)]);
    assert_eq!(page.total, Some(1));
}

/// One test per check and dialect; server dialects skip (and say so) without their URL.
macro_rules! per_dialect {
    ($($check:ident),* $(,)?) => {
        #[cfg(feature = "sqlite")]
        mod sqlite_file {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    super::$check(&super::Factory::sqlite_file()).await;
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    let Some(f) = super::Factory::postgres() else { return };
                    super::$check(&f).await;
                }
            )*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $check() {
                    let Some(f) = super::Factory::mysql() else { return };
                    super::$check(&f).await;
                }
            )*
        }
    };
}

per_dialect!(
    settings_are_in_force,
    newer_schema_is_refused_untouched,
    foreign_database_is_refused,
    two_handles_share_one_database,
    inverted_lock_orders_have_one_winner,
    longest_values_fit,
);

#[cfg(feature = "sqlite")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn memory_settings_are_in_force() {
    settings_are_in_force(&Factory::sqlite_memory()).await;
}
