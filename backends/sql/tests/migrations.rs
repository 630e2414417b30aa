//! Schema migrations on every dialect available (ADR 0021): the migrations add up to the
//! current definitions (a database they made has the catalogue of one made from the generated
//! `schema/current/<dialect>.sql`), and a database written as schema version 1 wrote it is
//! upgraded in place when a store opens it, keeping its records and taking the new ones.
#![cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]

mod common;

use std::collections::BTreeSet;

use common::{Factory, raw_execute, raw_int};
use rehome_core::fold::fold;
use rehome_core::ids::IdKind;
use rehome_core::model::{Device, DeviceStatus, Location, User};
use rehome_core::query::{Collection, Field, ListQuery, Op, Search, Value};
use rehome_core::store::{Conflict, Record, RecordKey, Store, StoreError, UniqueField};
use rehome_core::testing::fixtures::{date, device, inserts, location, medium, sanitization, user};
use rehome_core::{LocationId, UserId};
use rehome_sql::{Dialect, SCHEMA_VERSION};
use sha2::{Digest as _, Sha256};
use sqlx::Connection as _;

fn dialect(url: &str) -> Dialect {
    rehome_sql::Options::new(url).dialect().expect("a SQL URL")
}

/// The first column of every row `sql` returns, as text, read on its own connection.
async fn raw_strings(url: &str, sql: &str) -> Vec<String> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let run = async {
        #[allow(unused_mut, unused_assignments)]
        let mut v: Vec<String> = Vec::new();
        match dialect(url) {
            Dialect::Sqlite => {
                #[cfg(feature = "sqlite")]
                {
                    let mut c = sqlx::SqliteConnection::connect(url).await?;
                    v = sqlx::query_scalar::<_, String>(sql)
                        .fetch_all(&mut c)
                        .await?;
                    c.close().await?;
                }
            }
            Dialect::Postgres => {
                #[cfg(feature = "postgres")]
                {
                    let mut c = sqlx::PgConnection::connect(url).await?;
                    v = sqlx::query_scalar::<_, String>(sql)
                        .fetch_all(&mut c)
                        .await?;
                    c.close().await?;
                }
            }
            Dialect::MySql => {
                #[cfg(feature = "mysql")]
                {
                    let mut c = sqlx::MySqlConnection::connect(url).await?;
                    v = sqlx::query_scalar::<_, String>(sql)
                        .fetch_all(&mut c)
                        .await?;
                    c.close().await?;
                }
            }
        }
        Ok::<Vec<String>, sqlx::Error>(v)
    };
    run.await.unwrap_or_else(|e| panic!("query on {url}: {e}"))
}

/// The catalogue queries of a dialect: one line of text per table, column (type,
/// nullability and, but on SQLite, default), index (columns in order, uniqueness), constraint
/// and foreign key, and the id counters' kinds. The schema-version table is left out (it is
/// the migrations' own, not the schema's).
fn catalogue_queries(d: Dialect) -> &'static [&'static str] {
    match d {
        Dialect::Sqlite => &[
            "SELECT 'table ' || name || ' ' || type || ' strict=' || strict FROM pragma_table_list \
             WHERE schema = 'main' AND name NOT LIKE 'sqlite_%' AND name <> 'rehome_schema'",
            "SELECT 'column ' || m.name || '.' || p.name || ' ' || p.type || ' notnull=' || \
             p.\"notnull\" || ' pk=' || p.pk FROM sqlite_master m JOIN pragma_table_info(m.name) p \
             WHERE m.type = 'table' AND m.name <> 'rehome_schema'",
            "SELECT 'index ' || m.name || ' ' || il.name || ' unique=' || il.\"unique\" || ' origin=' \
             || il.origin || ' partial=' || il.partial || ' (' || (SELECT group_concat(c, ', ') \
             FROM (SELECT ii.name AS c FROM pragma_index_info(il.name) ii ORDER BY ii.seqno)) \
             || ')' FROM sqlite_master m JOIN pragma_index_list(m.name) il \
             WHERE m.type = 'table' AND m.name <> 'rehome_schema'",
            "SELECT 'fk ' || m.name || ' #' || f.seq || ' (' || f.\"from\" || ') -> ' || f.\"table\" \
             || ' (' || f.\"to\" || ') on delete ' || f.on_delete FROM sqlite_master m \
             JOIN pragma_foreign_key_list(m.name) f WHERE m.type = 'table'",
            "SELECT 'id kind ' || kind || ' = ' || value FROM rehome_ids",
        ],
        Dialect::Postgres => &[
            "SELECT 'table ' || table_name || ' ' || table_type FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_name <> 'rehome_schema'",
            "SELECT 'column ' || table_name || '.' || column_name || ' ' || data_type || \
             ' nullable=' || is_nullable || ' default=' || coalesce(column_default, '-') \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name <> 'rehome_schema'",
            "SELECT 'index ' || tablename || ' ' || replace(indexdef, schemaname || '.', '') \
             FROM pg_indexes WHERE schemaname = current_schema() AND tablename <> 'rehome_schema'",
            "SELECT 'constraint ' || conrelid::regclass::text || ' ' || conname || ' ' || \
             pg_get_constraintdef(oid) FROM pg_constraint \
             WHERE connamespace = current_schema()::regnamespace \
             AND conrelid::regclass::text <> 'rehome_schema'",
            "SELECT 'id kind ' || kind || ' = ' || value FROM rehome_ids",
        ],
        Dialect::MySql => &[
            "SELECT CAST(CONCAT_WS(' ', 'table', table_name, table_type, engine) AS CHAR) \
             FROM information_schema.tables \
             WHERE table_schema = DATABASE() AND table_name <> 'rehome_schema'",
            "SELECT CAST(CONCAT_WS(' ', 'column', table_name, column_name, column_type, \
             is_nullable, COALESCE(column_default, '-'), column_key) AS CHAR) \
             FROM information_schema.columns \
             WHERE table_schema = DATABASE() AND table_name <> 'rehome_schema'",
            "SELECT CAST(CONCAT_WS(' ', 'index', table_name, index_name, non_unique, \
             seq_in_index, column_name, COALESCE(sub_part, '-')) AS CHAR) \
             FROM information_schema.statistics \
             WHERE table_schema = DATABASE() AND table_name <> 'rehome_schema'",
            "SELECT CAST(CONCAT_WS(' ', 'key', table_name, constraint_name, ordinal_position, \
             column_name, COALESCE(referenced_table_name, '-'), \
             COALESCE(referenced_column_name, '-')) AS CHAR) \
             FROM information_schema.key_column_usage \
             WHERE table_schema = DATABASE() AND table_name <> 'rehome_schema'",
            "SELECT CAST(CONCAT_WS(' ', 'fk', table_name, constraint_name, \
             referenced_table_name, update_rule, delete_rule) AS CHAR) \
             FROM information_schema.referential_constraints \
             WHERE constraint_schema = DATABASE()",
            "SELECT CAST(CONCAT_WS(' ', 'id kind', kind, '=', value) AS CHAR) FROM rehome_ids",
        ],
    }
}

/// The catalogue of the database at `url`, one line per fact.
async fn catalogue(url: &str) -> BTreeSet<String> {
    let mut lines = BTreeSet::new();
    for q in catalogue_queries(dialect(url)) {
        lines.extend(raw_strings(url, q).await);
    }
    lines
}

/// The committed full DDL of the current schema (generated from `schema.rs`; a unit test
/// checks that it matches).
fn current_ddl(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => include_str!("../schema/current/sqlite.sql"),
        Dialect::Postgres => include_str!("../schema/current/postgres.sql"),
        Dialect::MySql => include_str!("../schema/current/mysql.sql"),
    }
}

/// The frozen version-1 script, as a version-1 build ran it.
fn v1_ddl(d: Dialect) -> &'static str {
    match d {
        Dialect::Sqlite => include_str!("../schema/v1/sqlite.sql"),
        Dialect::Postgres => include_str!("../schema/v1/postgres.sql"),
        Dialect::MySql => include_str!("../schema/v1/mysql.sql"),
    }
}

fn assert_same_catalogue(migrated: &BTreeSet<String>, current: &BTreeSet<String>, what: &str) {
    let missing: Vec<&String> = current.difference(migrated).collect();
    let extra: Vec<&String> = migrated.difference(current).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: the migrated catalogue lacks {missing:#?}\nand has besides {extra:#?}"
    );
}

/// A fresh database that the store migrated (v1, then v2 ...) has the catalogue of one made
/// from `schema/current/<dialect>.sql`.
async fn migrations_add_up_to_the_current_schema(f: &Factory) {
    let migrated = f.database().await;
    let store = rehome_sql::open(&migrated.url).await.expect("open");
    assert_eq!(
        store.schema_version().await.expect("version"),
        Some(SCHEMA_VERSION)
    );
    store.close().await.expect("close");
    drop(store);
    let generated = f.database().await;
    raw_execute(&generated.url, current_ddl(dialect(&generated.url))).await;

    let (a, b) = (
        catalogue(&migrated.url).await,
        catalogue(&generated.url).await,
    );
    // Not vacuous: the new tables, the IMEI key and the new counters are in it.
    for needle in [
        "sanitizations",
        "imei_key",
        "devices_imei_key_key",
        "id kind 9",
    ] {
        assert!(
            b.iter().any(|l| l.contains(needle)),
            "no {needle} in {b:#?}"
        );
    }
    assert_same_catalogue(&a, &b, "fresh database");
}

// ---------------------------------------------------------------------------------------------
// A database written by version 1.

/// A literal of the dialect.
enum Lit {
    Null,
    Int(i64),
    Bytes(Vec<u8>),
}

fn text(s: &str) -> Lit {
    Lit::Bytes(s.as_bytes().to_vec())
}

fn opt_text(s: &str) -> Lit {
    if s.is_empty() { Lit::Null } else { text(s) }
}

fn int(i: impl Into<i64>) -> Lit {
    Lit::Int(i.into())
}

fn opt_int(i: Option<i64>) -> Lit {
    i.map_or(Lit::Null, Lit::Int)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn literal(d: Dialect, l: &Lit) -> String {
    match l {
        Lit::Null => "NULL".into(),
        Lit::Int(i) => i.to_string(),
        Lit::Bytes(b) => match d {
            Dialect::Postgres => format!("'\\x{}'::bytea", hex(b)),
            Dialect::Sqlite | Dialect::MySql => format!("X'{}'", hex(b)),
        },
    }
}

/// `INSERT INTO table (columns) VALUES (literals)`.
fn insert_sql(d: Dialect, table: &str, row: &[(&str, Lit)]) -> String {
    let cols: Vec<&str> = row.iter().map(|(c, _)| *c).collect();
    let vals: Vec<String> = row.iter().map(|(_, v)| literal(d, v)).collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({});\n",
        cols.join(", "),
        vals.join(", ")
    )
}

/// A text column and its folded copy, as version 1 wrote them.
fn with_folded<'a>(row: &mut Vec<(&'a str, Lit)>, col: &'a str, folded: &'a str, v: &str) {
    row.push((col, text(v)));
    row.push((folded, text(&fold(v))));
}

/// The record JSON as version 1 wrote it: the record, less the fields version 2 added.
fn v1_json(record: &Record) -> Lit {
    let mut json = serde_json::to_value(record).expect("record JSON");
    if let Some(fields) = json.get_mut("record").and_then(|r| r.as_object_mut()) {
        for k in [
            "imei",
            "no_media",
            "locks",
            "sample",
            "no_evidence_recorded",
            "recycling",
        ] {
            fields.remove(k);
        }
    }
    Lit::Bytes(serde_json::to_vec(&json).expect("JSON bytes"))
}

fn micros(t: &chrono::DateTime<chrono::Utc>) -> Lit {
    Lit::Int(t.timestamp_micros())
}

fn user_row(u: &User) -> Vec<(&'static str, Lit)> {
    let mut row = vec![("id", int(u.id.0))];
    with_folded(&mut row, "username", "username_f", &u.username);
    with_folded(&mut row, "email", "email_f", &u.email);
    match &u.role {
        Some(r) => with_folded(&mut row, "role_name", "role_name_f", r),
        None => {
            row.push(("role_name", Lit::Null));
            row.push(("role_name_f", Lit::Null));
        }
    }
    with_folded(&mut row, "first_name", "first_name_f", &u.first_name);
    with_folded(&mut row, "last_name", "last_name_f", &u.last_name);
    row.push(("is_active", int(u.is_active)));
    row.push(("is_superuser", int(u.is_superuser)));
    row.push(("date_joined", micros(&u.date_joined)));
    row.push(("updated_at", micros(&u.updated_at)));
    row.push(("version", int(u.version as i64)));
    row.push(("data", v1_json(&Record::User(u.clone()))));
    row
}

fn location_row(l: &Location) -> Vec<(&'static str, Lit)> {
    let mut row = vec![("id", int(l.location_id.0))];
    with_folded(&mut row, "name", "name_f", &l.name);
    with_folded(
        &mut row,
        "location_type",
        "location_type_f",
        &l.location_type,
    );
    with_folded(&mut row, "address", "address_f", &l.address);
    with_folded(&mut row, "country", "country_f", &l.country);
    with_folded(&mut row, "city", "city_f", &l.city);
    with_folded(&mut row, "postal_code", "postal_code_f", &l.postal_code);
    with_folded(&mut row, "phone", "phone_f", &l.phone);
    row.push(("created_at", micros(&l.created_at)));
    row.push(("updated_at", micros(&l.updated_at)));
    row.push((
        "address_key",
        Lit::Bytes(Sha256::digest(l.address.as_bytes()).to_vec()),
    ));
    row.push(("phone_key", opt_text(&l.phone)));
    row.push(("version", int(l.version as i64)));
    row.push(("data", v1_json(&Record::Location(l.clone()))));
    row
}

fn device_row(d: &Device) -> Vec<(&'static str, Lit)> {
    let days = |x: chrono::NaiveDate| i64::from(chrono::Datelike::num_days_from_ce(&x));
    let mut row = vec![("id", Lit::Bytes(d.device_id.0.as_bytes().to_vec()))];
    with_folded(&mut row, "device_type", "device_type_f", &d.device_type);
    with_folded(&mut row, "make", "make_f", &d.make);
    with_folded(&mut row, "model", "model_f", &d.model);
    with_folded(
        &mut row,
        "serial_number",
        "serial_number_f",
        &d.serial_number,
    );
    with_folded(&mut row, "mac_id", "mac_id_f", &d.mac_id);
    row.push(("status", text(d.status.as_str())));
    row.push((
        "year_of_manufacture",
        opt_int(d.year_of_manufacture.map(i64::from)),
    ));
    with_folded(
        &mut row,
        "operating_system",
        "operating_system_f",
        &d.operating_system,
    );
    with_folded(
        &mut row,
        "physical_condition",
        "physical_condition_f",
        &d.physical_condition,
    );
    row.push(("donor_id", opt_int(d.donor.map(|x| x.0))));
    row.push(("start_location_id", opt_int(d.start_location.map(|x| x.0))));
    row.push(("end_location_id", opt_int(d.end_location.map(|x| x.0))));
    row.push(("date_received", opt_int(d.date_received.map(days))));
    with_folded(&mut row, "notes", "notes_f", &d.notes);
    row.push(("created_at", micros(&d.created_at)));
    row.push(("updated_at", micros(&d.updated_at)));
    row.push(("mac_key", opt_text(&d.mac_id)));
    row.push(("received_by", opt_int(d.received_by.map(|x| x.0))));
    row.push(("created_by", opt_int(d.created_by.map(|x| x.0))));
    row.push(("version", int(d.version as i64)));
    row.push(("data", v1_json(&Record::Device(d.clone()))));
    row
}

/// What version 1 wrote: a user, a location, a wiped device (with a MAC, received at the
/// location by the user) and a received one; the records as version 2 reads them.
fn v1_world() -> (User, Location, Device, Device) {
    let u = user(1, "tech", "tech@example.org");
    let mut l = location(1, "1 Main Street");
    l.city = "Straßburg".into();
    let mut wiped = device(1, "SER-1");
    wiped.mac_id = "aa:bb:cc:dd:ee:01".into();
    wiped.status = DeviceStatus::Wiped;
    wiped.start_location = Some(LocationId(1));
    wiped.received_by = Some(UserId(1));
    wiped.date_received = Some(date(2024, 1, 31));
    wiped.year_of_manufacture = Some(2019);
    wiped.notes = "Ünïcödé ΣΊΣΥΦΟΣ".into();
    let received = device(2, "SER-2");
    (u, l, wiped, received)
}

/// The SQL that creates a version-1 database holding [`v1_world`], as a version-1 build did:
/// the schema table, the v1 script, the version row, the rows and the counters they moved.
fn v1_database_sql(d: Dialect) -> String {
    let int_ty = if d == Dialect::Sqlite {
        "INTEGER"
    } else {
        "BIGINT"
    };
    let engine = match d {
        Dialect::Sqlite => " STRICT",
        Dialect::Postgres => "",
        Dialect::MySql => " ENGINE=InnoDB",
    };
    let (u, l, wiped, received) = v1_world();
    let mut sql = format!(
        "CREATE TABLE IF NOT EXISTS rehome_schema (\n    version {int_ty} NOT NULL PRIMARY KEY,\n    \
         applied_at {int_ty} NOT NULL\n){engine};\n"
    );
    sql.push_str(v1_ddl(d));
    sql.push_str("INSERT INTO rehome_schema (version, applied_at) VALUES (1, 1000);\n");
    sql.push_str(&insert_sql(d, "users", &user_row(&u)));
    sql.push_str(&insert_sql(d, "locations", &location_row(&l)));
    sql.push_str(&insert_sql(d, "devices", &device_row(&wiped)));
    sql.push_str(&insert_sql(d, "devices", &device_row(&received)));
    for kind in [IdKind::User, IdKind::Location] {
        sql.push_str(&format!(
            "UPDATE rehome_ids SET value = 1 WHERE kind = {};\n",
            kind.tag()
        ));
    }
    sql
}

/// Version 2 reads a version-1 device with no evidence recorded and an empty IMEI.
fn as_v2_reads(mut d: Device) -> Device {
    d.no_evidence_recorded = true;
    d.imei = String::new();
    d
}

/// A database written by version 1 is upgraded when the store opens it: version 2 recorded,
/// its records read back (devices with no evidence recorded), found by list, search and
/// unique keys; the new records and the IMEI key work; a second open changes nothing.
async fn version_1_database_is_upgraded(f: &Factory) {
    let db = f.database().await;
    let d = dialect(&db.url);
    raw_execute(&db.url, &v1_database_sql(d)).await;
    assert_eq!(
        raw_int(&db.url, "SELECT MAX(version) FROM rehome_schema").await,
        1
    );
    let (u, l, wiped, received) = v1_world();

    let store = rehome_sql::open(&db.url).await.expect("open (migrating)");
    assert_eq!(store.schema_version().await.expect("version"), Some(2));
    assert_eq!(
        raw_int(&db.url, "SELECT COUNT(*) FROM rehome_schema").await,
        2
    );
    let applied = "SELECT MAX(applied_at) FROM rehome_schema";
    let applied_at = raw_int(&db.url, applied).await;

    // The records as they were, the devices with the new fields' defaults.
    let get = |k: RecordKey| {
        let store = &store;
        async move { store.get(k).await.expect("get") }
    };
    assert_eq!(get(RecordKey::User(UserId(1))).await, Some(Record::User(u)));
    assert_eq!(
        get(RecordKey::Location(LocationId(1))).await,
        Some(Record::Location(l))
    );
    let wiped2 = as_v2_reads(wiped.clone());
    let received2 = as_v2_reads(received.clone());
    match get(RecordKey::Device(wiped.device_id)).await {
        Some(Record::Device(got)) => {
            assert!(got.no_evidence_recorded);
            assert!(got.imei.is_empty());
            assert_eq!(got, wiped2);
        }
        other => panic!("expected the wiped device, got {other:?}"),
    }
    assert_eq!(
        get(RecordKey::Device(received.device_id)).await,
        Some(Record::Device(received2.clone()))
    );
    assert_eq!(
        raw_int(
            &db.url,
            "SELECT COUNT(*) FROM devices WHERE imei_key IS NULL AND LENGTH(imei) = 0 \
             AND LENGTH(imei_f) = 0"
        )
        .await,
        2
    );

    // Lists, search and unique keys over the old rows.
    let list = |q: ListQuery| {
        let store = &store;
        async move {
            store
                .list(&q)
                .await
                .expect("list")
                .items
                .iter()
                .map(Record::key)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        list(
            ListQuery::all(Collection::Devices)
                .filter(Field::DeviceStatus, Op::Eq(Value::Text("wiped".into())))
        )
        .await,
        vec![RecordKey::Device(wiped.device_id)]
    );
    let mut search = ListQuery::all(Collection::Devices);
    search.search = Some(Search {
        text: "ser-2".into(),
        fields: Collection::Devices.list_spec().search.to_vec(),
    });
    assert_eq!(
        list(search).await,
        vec![RecordKey::Device(received.device_id)]
    );
    assert_eq!(
        list(
            ListQuery::all(Collection::Devices)
                .filter(Field::DeviceNotes, Op::IContains(fold("σίσυφος")))
        )
        .await,
        vec![RecordKey::Device(wiped.device_id)]
    );
    let by_unique = |f: UniqueField, v: &str| {
        let store = &store;
        let k = f.key(v);
        async move { store.get_by_unique(&k).await.expect("get_by_unique") }
    };
    assert_eq!(
        by_unique(UniqueField::DeviceSerialNumber, "SER-1").await,
        Some(Record::Device(wiped2.clone()))
    );
    assert_eq!(
        by_unique(UniqueField::DeviceMacId, "aa:bb:cc:dd:ee:01").await,
        Some(Record::Device(wiped2.clone()))
    );
    assert_eq!(by_unique(UniqueField::DeviceImei, "").await, None);

    // New records: media and a sanitization of the old device, a device with an IMEI; a second
    // device with that IMEI is refused. The new counters are there.
    let mut phone = device(3, "SER-3");
    phone.device_type = "Phone".into();
    phone.imei = "490154203237518".into();
    let new = vec![
        Record::Medium(medium(1, wiped.device_id, "DRIVE-1")),
        Record::Sanitization(sanitization(1, wiped.device_id, 1, 1)),
        Record::Device(phone.clone()),
    ];
    store
        .commit(inserts(new.clone()))
        .await
        .expect("new records");
    for r in &new {
        assert_eq!(get(r.key()).await.as_ref(), Some(r), "{}", r.key());
    }
    assert_eq!(
        by_unique(UniqueField::DeviceImei, "490154203237518").await,
        Some(Record::Device(phone.clone()))
    );
    assert_eq!(
        by_unique(UniqueField::MediumSerial, "DRIVE-1").await,
        Some(new[0].clone())
    );
    let mut twin = device(4, "SER-4");
    twin.imei = phone.imei.clone();
    match store
        .commit(inserts(vec![Record::Device(twin.clone())]))
        .await
    {
        Err(StoreError::Conflict {
            conflict: Conflict::Unique(k),
            ..
        }) => assert_eq!(k, UniqueField::DeviceImei.key(&phone.imei)),
        other => panic!("expected the IMEI conflict, got {other:?}"),
    }
    assert_eq!(get(RecordKey::Device(twin.device_id)).await, None);
    for kind in [IdKind::Medium, IdKind::Sanitization, IdKind::Verification] {
        let id = store.next_id(kind).await.expect("next id");
        assert!(id >= 1, "{kind:?}: {id}");
    }
    assert!(store.next_id(IdKind::Medium).await.expect("next id") > 1);
    store.close().await.expect("close");
    drop(store);

    // The upgraded catalogue is the current one.
    let generated = f.database().await;
    raw_execute(&generated.url, current_ddl(d)).await;
    let mut upgraded = catalogue(&db.url).await;
    let mut current = catalogue(&generated.url).await;
    // The counters moved with the records: compare the structure only.
    upgraded.retain(|l| !l.starts_with("id kind"));
    current.retain(|l| !l.starts_with("id kind"));
    assert_same_catalogue(&upgraded, &current, "upgraded database");

    // A second open migrates nothing.
    let store = rehome_sql::open(&db.url).await.expect("second open");
    assert_eq!(store.schema_version().await.expect("version"), Some(2));
    assert_eq!(
        raw_int(&db.url, "SELECT COUNT(*) FROM rehome_schema").await,
        2
    );
    assert_eq!(raw_int(&db.url, applied).await, applied_at);
    assert_eq!(
        store
            .get(RecordKey::Device(phone.device_id))
            .await
            .expect("get"),
        Some(Record::Device(phone))
    );
    store.close().await.expect("close");
}

/// MySQL's version-2 script completes a run cut short: run again on a database it migrated
/// (in part or in full), it changes nothing and fails on nothing.
async fn mysql_v2_script_runs_again(f: &Factory) {
    let db = f.database().await;
    let d = dialect(&db.url);
    if d != Dialect::MySql {
        return;
    }
    raw_execute(&db.url, &v1_database_sql(d)).await;
    // Cut short: the devices change made, the tables not yet.
    let v2 = include_str!("../schema/v2/mysql.sql");
    let first_table = v2.find("CREATE TABLE").expect("a CREATE TABLE");
    raw_execute(&db.url, &v2[..first_table]).await;
    raw_execute(&db.url, v2).await;
    raw_execute(&db.url, v2).await;
    raw_execute(
        &db.url,
        "INSERT INTO rehome_schema (version, applied_at) VALUES (2, 2000)",
    )
    .await;
    let generated = f.database().await;
    raw_execute(&generated.url, current_ddl(d)).await;
    let mut a = catalogue(&db.url).await;
    let mut b = catalogue(&generated.url).await;
    a.retain(|l| !l.starts_with("id kind"));
    b.retain(|l| !l.starts_with("id kind"));
    assert_same_catalogue(&a, &b, "v2 run three times");
    let store = rehome_sql::open(&db.url).await.expect("open");
    assert_eq!(raw_int(&db.url, "SELECT COUNT(*) FROM rehome_ids").await, 9);
    store.close().await.expect("close");
}

/// One test per check and dialect; server dialects skip (and say so) without their URL.
macro_rules! per_dialect {
    ($($check:ident),* $(,)?) => {
        #[cfg(feature = "sqlite")]
        mod sqlite_file {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    super::$check(&super::Factory::sqlite_file()).await;
                }
            )*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(f) = super::Factory::postgres() else { return };
                    super::$check(&f).await;
                }
            )*
        }
        #[cfg(feature = "mysql")]
        mod mysql {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $check() {
                    let Some(f) = super::Factory::mysql() else { return };
                    super::$check(&f).await;
                }
            )*
        }
    };
}

per_dialect!(
    migrations_add_up_to_the_current_schema,
    version_1_database_is_upgraded,
);

#[cfg(feature = "mysql")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_v2_script_completes_an_interrupted_run() {
    let Some(f) = Factory::mysql() else { return };
    mysql_v2_script_runs_again(&f).await;
}
