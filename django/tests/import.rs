//! Importing the fixture written by the original Django backend itself
//! (`django/tests/fixtures/django-original.sqlite3`). Expected values are written out by hand from
//! the fixture's README and from querying it with the `sqlite3` command.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use common::{count, dump, fixture_copy, fixture_url};
use rehome_core::ids::IdKind;
use rehome_core::query::{Collection, ListQuery, Page};
use rehome_core::store::{
    ChangeSet, Record, RecordKey, Reference, StoreError, StoreResult, UniqueKey,
};
use rehome_core::{Caller, MemoryStore, Store};
use rehome_django::{Counts, ImportError, Options, import};
use rehome_tests::{Req, TestApp};
use serde_json::json;

/// (username, password, role, is_superuser, permissions) from the fixture's README.
const USERS: &[(&str, &str, &str, bool, &[&str])] = &[
    (
        "admin",
        "Admin@12345!",
        "admin",
        true,
        &[
            "readDevices",
            "createDevices",
            "editDevices",
            "deleteDevices",
            "scanDevices",
            "bulkUploadDevices",
            "manageWarehouses",
            "manageDonors",
            "manageShipments",
            "generateQRCodes",
        ],
    ),
    (
        "maria",
        "Maria-Intake-2024!",
        "intake",
        false,
        &[
            "readDevices",
            "createDevices",
            "scanDevices",
            "manageDonors",
        ],
    ),
    (
        "tomas",
        "Tomas-Warehouse-2024!",
        "warehouse",
        false,
        &[
            "readDevices",
            "editDevices",
            "manageWarehouses",
            "manageShipments",
            "generateQRCodes",
        ],
    ),
    ("li", "Li-Viewer-2024!", "viewer", false, &["readDevices"]),
];

const FIXTURE_COUNTS: Counts = Counts {
    roles: 4,
    users: 4,
    locations: 6,
    donors: 25,
    shipments: 8,
    devices: 300,
    links: 48,
};

fn app() -> TestApp {
    TestApp::with_store(
        Arc::new(MemoryStore::new()),
        rehome_http::Settings::default(),
    )
}

async fn get(store: &dyn Store, key: RecordKey) -> Record {
    store
        .get(key)
        .await
        .expect("get")
        .unwrap_or_else(|| panic!("{key} is missing"))
}

fn device_key(hex: &str) -> RecordKey {
    RecordKey::Device(hex.parse().expect("a device id"))
}

#[tokio::test]
async fn the_fixture_imports_completely_and_everyone_logs_in() {
    let app = app();
    let started = std::time::Instant::now();
    let report = import(&fixture_url(), &app.core, Options::default())
        .await
        .expect("the fixture imports");
    eprintln!("imported the fixture in {:?}", started.elapsed());
    assert_eq!(report.counts, FIXTURE_COUNTS);
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let store = &**app.core.store();
    for (c, n) in [
        (Collection::Users, 4),
        (Collection::Roles, 4),
        (Collection::Locations, 6),
        (Collection::Donors, 25),
        (Collection::Shipments, 8),
        (Collection::Devices, 300),
        (Collection::Credentials, 4),
        (Collection::Sessions, 0),
    ] {
        assert_eq!(count(store, c).await, n, "{}", c.as_str());
    }
    // 48 links over the devices.
    let links: usize = dump(store)
        .await
        .iter()
        .map(|r| match r {
            Record::Device(d) => d.shipping_infos.len(),
            _ => 0,
        })
        .sum();
    assert_eq!(links, 48);

    // Roles: one per distinct name, no permissions.
    for name in ["admin", "intake", "viewer", "warehouse"] {
        let role = app
            .core
            .get_role(&Caller::system(), name)
            .await
            .expect("the role exists");
        assert!(role.permissions.is_empty(), "{name}");
    }

    for (i, (username, password, role, superuser, perms)) in USERS.iter().enumerate() {
        let id = i as i64 + 1;
        let Record::User(u) = get(store, RecordKey::User(rehome_core::UserId(id))).await else {
            panic!("a user")
        };
        assert_eq!(u.username, *username);
        assert_eq!(u.email, format!("{username}@example.org"));
        assert_eq!(u.role.as_deref(), Some(*role));
        assert_eq!(u.is_superuser, *superuser);
        assert!(u.is_active);
        assert_eq!(u.last_login, None);
        let grants: Vec<&str> = u.permissions.iter().map(|p| p.as_str()).collect();
        let mut want: Vec<&str> = perms.to_vec();
        want.sort_by_key(|p| {
            rehome_core::Permission::ALL
                .iter()
                .position(|q| q.as_str() == *p)
        });
        assert_eq!(grants, want, "{username}");

        // The imported hash is Django's until the first login...
        let Record::Credentials(c) = get(store, RecordKey::Credentials(u.id)).await else {
            panic!("credentials")
        };
        let hash = c.password_hash.clone().expect("a password hash");
        assert!(hash.starts_with("pbkdf2_sha256$720000$"), "{username}");

        // ... a wrong password is refused ...
        app.send(Req::new("POST", "/authen/login/").json(&json!({
            "username": username, "password": format!("{password}x")
        })))
        .await
        .expect(401);
        // ... the right one logs in through the REST API ...
        let r = app
            .send(Req::new("POST", "/authen/login/").json(&json!({
                "username": username, "password": password
            })))
            .await
            .expect(200);
        let token = r.json()["tokens"]["access_token"]
            .as_str()
            .expect("a token")
            .to_owned();
        // ... and the hash is argon2id afterwards.
        let Record::Credentials(c) = get(store, RecordKey::Credentials(u.id)).await else {
            panic!("credentials")
        };
        let hash = c.password_hash.expect("a password hash");
        assert!(hash.starts_with("$argon2id$"), "{username}: {hash}");
        // Logging in again verifies the new hash.
        app.send(Req::new("POST", "/authen/login/").json(&json!({
            "username": username, "password": password
        })))
        .await
        .expect(200);

        // Effective permissions: the original list; a superuser has every permission
        // (rehome's twelve, of which the original knew ten).
        let me = app.get("/authen/me/", &token).await.expect(200).json();
        let effective: Vec<String> =
            serde_json::from_value(me["effective_permissions"].clone()).expect("a list");
        if *superuser {
            assert_eq!(effective.len(), 12, "{username}: {effective:?}");
            for p in *perms {
                assert!(effective.iter().any(|e| e == p), "{username}: {p}");
            }
        } else {
            assert_eq!(effective, want, "{username}");
        }
    }

    // A sample of devices, field by field, from `sqlite3 ... 'select * from inventory_device
    // where device_id in (...)'` and the links table.
    let Record::Device(d) = get(store, device_key("727c6d17d01944c985286b06ea71a69b")).await else {
        panic!("a device")
    };
    assert_eq!(
        d.device_id.to_string(),
        "727c6d17-d019-44c9-8528-6b06ea71a69b"
    );
    assert_eq!(
        (
            d.device_type.as_str(),
            d.make.as_str(),
            d.model.as_str(),
            d.serial_number.as_str(),
            d.mac_id.as_str()
        ),
        ("Tablet", "Lenovo", "Model 1", "SN-1-28566", "MAC-1-637498")
    );
    assert_eq!(d.year_of_manufacture, Some(2021));
    assert_eq!(
        d.date_received.map(|x| x.to_string()).as_deref(),
        Some("2026-11-20")
    );
    assert_eq!(
        d.date_of_donation.map(|x| x.to_string()).as_deref(),
        Some("2026-09-22")
    );
    assert_eq!(d.physical_condition, "Excellent");
    assert_eq!(d.specifications, "Specs for Device 1");
    assert_eq!(d.operating_system, "macOS");
    assert_eq!(d.notes, "Notes for Device 1");
    assert_eq!(d.value.map(|v| v.to_string()).as_deref(), Some("445.92"));
    assert_eq!(d.created_by.map(|u| u.0), Some(2));
    assert_eq!(d.received_by.map(|u| u.0), Some(2));
    assert_eq!(d.donor.map(|x| x.0), Some(17));
    assert_eq!(d.start_location.map(|x| x.0), Some(1));
    assert_eq!(d.end_location.map(|x| x.0), Some(4));
    assert!(d.shipping_infos.is_empty());
    assert_eq!(d.status, rehome_core::DeviceStatus::Received);
    // The original kept no sanitization evidence: none is invented.
    assert!(d.no_evidence_recorded);
    assert_eq!(d.imei, "");

    let Record::Device(d) = get(store, device_key("2c3525e4d8c5467197855bc11d7361b6")).await else {
        panic!("a device")
    };
    assert_eq!(
        (d.device_type.as_str(), d.make.as_str()),
        ("Desktop", "Apple")
    );
    assert_eq!(d.value.map(|v| v.to_string()).as_deref(), Some("636.54"));
    assert_eq!(
        (d.created_by.map(|u| u.0), d.received_by.map(|u| u.0)),
        (Some(4), Some(1))
    );
    assert_eq!(
        (
            d.donor.map(|x| x.0),
            d.start_location.map(|x| x.0),
            d.end_location.map(|x| x.0)
        ),
        (Some(17), Some(1), Some(5))
    );
    let ships: Vec<i64> = d.shipping_infos.iter().map(|s| s.0).collect();
    assert_eq!(ships, [1, 4]);

    // SQLite stored this value as the INTEGER 150.
    let Record::Device(d) = get(store, device_key("ec4c3e67f9e74c17bbe783b8a8ae246c")).await else {
        panic!("a device")
    };
    assert_eq!(d.value.map(|v| v.to_string()).as_deref(), Some("150.00"));
    assert_eq!(d.serial_number, "SN-72-96012");

    let Record::Shipment(s) = get(store, RecordKey::Shipment(rehome_core::ShipmentId(2))).await
    else {
        panic!("a shipment")
    };
    assert_eq!(
        (
            s.arrived,
            s.date_shipped.to_string(),
            s.date_delivered,
            s.tracking_identifier.as_str(),
            s.destination.map(|l| l.0)
        ),
        (false, "2024-07-02".to_owned(), None, "TRK-1001", Some(2))
    );
    let Record::Donor(d) = get(store, RecordKey::Donor(rehome_core::DonorId(17))).await else {
        panic!("a donor")
    };
    assert_eq!(
        (
            d.name.as_str(),
            d.email.as_str(),
            d.phone.as_str(),
            d.address.as_str()
        ),
        (
            "Donor 17",
            "donor17@example.com",
            "+1-671-871-3195",
            "Address 17, City 17"
        )
    );
    let Record::Location(l) = get(store, RecordKey::Location(rehome_core::LocationId(3))).await
    else {
        panic!("a location")
    };
    assert_eq!(
        (
            l.name.as_str(),
            l.country.as_str(),
            l.postal_code.as_str(),
            l.phone.as_str()
        ),
        ("Warehouse 3", "Germany", "15715", "+1-346-847-5085")
    );
}

#[tokio::test]
async fn every_imported_object_is_audited_and_ids_continue_after_the_imported_ones() {
    let app = app();
    let report = import(&fixture_url(), &app.core, Options::default())
        .await
        .expect("imports");
    let store = &**app.core.store();
    // One event per object plus start and finish: 4 + 4 + 6 + 25 + 8 + 300 + 2.
    assert_eq!(report.audit_events, 349);
    let all = dump(store).await;
    let mut audited = std::collections::BTreeSet::new();
    let mut markers = Vec::new();
    for r in &all {
        if let Record::Audit(a) = r {
            assert_eq!(a.actor, None);
            if a.object_type == "import" {
                markers.push(a.action.clone());
            } else {
                assert_eq!(a.action, format!("{}.import", a.object_type));
                assert!(audited.insert((a.object_type.clone(), a.object_id.clone())));
            }
        }
    }
    assert_eq!(markers, ["import.start", "import.finish"]);
    let mut objects = 0;
    for r in &all {
        let (t, id) = match r {
            Record::Device(d) => ("device", d.device_id.to_string()),
            Record::Location(l) => ("location", l.location_id.to_string()),
            Record::Donor(d) => ("donor", d.donor_id.to_string()),
            Record::Shipment(s) => ("shipment", s.shipping_id.to_string()),
            Record::User(u) => ("user", u.id.to_string()),
            Record::Role(r) => ("role", r.id.to_string()),
            _ => continue,
        };
        objects += 1;
        assert!(
            audited.contains(&(t.to_owned(), id.clone())),
            "{t} {id} not audited"
        );
    }
    assert_eq!(objects, 347);
    assert_eq!(audited.len(), 347);

    // New objects get ids above the imported ones (max ids: 6 locations, 25 donors,
    // 8 shipments, 4 users, 4 roles).
    let sys = Caller::system();
    use rehome_core::services::Model;
    let l = app
        .core
        .create(
            &sys,
            Model::Location,
            &json!({"name": "New", "address": "New Road 1"}),
        )
        .await
        .expect("location");
    assert_eq!(l.key(), RecordKey::Location(rehome_core::LocationId(7)));
    let d = app
        .core
        .create(
            &sys,
            Model::Donor,
            &json!({"name": "New", "email": "new@example.org"}),
        )
        .await
        .expect("donor");
    assert_eq!(d.key(), RecordKey::Donor(rehome_core::DonorId(26)));
    let s = app
        .core
        .create(
            &sys,
            Model::Shipment,
            &json!({"date_shipped": "2024-08-01"}),
        )
        .await
        .expect("shipment");
    assert_eq!(s.key(), RecordKey::Shipment(rehome_core::ShipmentId(9)));
    let u = app
        .core
        .create_user(
            &sys,
            &json!({"username": "newbie", "email": "newbie@example.org", "password": "Quiet-Harbour-Lamp-77"}),
        )
        .await
        .expect("user");
    assert_eq!(u.id.0, 5);
    let r = app
        .core
        .create_role(&sys, &json!({"name": "auditor"}))
        .await
        .expect("role");
    assert_eq!(r.id.0, 5);
    let dev = app
        .core
        .create(
            &sys,
            Model::Device,
            &json!({"type": "Laptop", "make": "X", "model": "Y", "serial_number": "SN-NEW"}),
        )
        .await
        .expect("device");
    assert!(matches!(dev, Record::Device(_)));
}

#[tokio::test]
async fn a_dry_run_reports_and_writes_nothing() {
    let app = app();
    let report = import(
        &fixture_url(),
        &app.core,
        Options {
            dry_run: true,
            ..Options::default()
        },
    )
    .await
    .expect("a dry run");
    assert!(report.dry_run);
    assert_eq!(report.counts, FIXTURE_COUNTS);
    assert_eq!(report.audit_events, 0);
    assert_eq!(
        report.source_rows.get("inventory_device_shipping_infos"),
        Some(&48)
    );
    assert!(dump(&**app.core.store()).await.is_empty());
}

/// The fixture with bad rows: a user whose username and email differ from `maria`'s only by
/// case and whose password is an MD5 hash rehome cannot verify, a user with an invalid email, a donor with an invalid email (13 devices, with 2 links,
/// refer to donor 25), and a permission rehome does not know.
async fn corrupted_copy(dir: &tempfile::TempDir) -> String {
    use sqlx::Connection as _;
    let url = fixture_copy(dir);
    let mut c = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("open the copy");
    for sql in [
        "INSERT INTO users_user (id, username, password, email, role, first_name, last_name, permissions, is_superuser) \
         VALUES (5, 'MARIA', 'md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3', 'Maria@Example.org', 'intake', '', '', '[]', 0)",
        "INSERT INTO users_user (id, username, password, email, role, first_name, last_name, permissions, is_superuser) \
         VALUES (6, 'bruno', '!', 'bruno-at-example.org', '', '', '', '[]', 0)",
        "INSERT INTO users_user (id, username, password, email, role, first_name, last_name, permissions, is_superuser) \
         VALUES (7, 'carla', '!', 'carla@example.org', '', '', '', '[\"readDevices\", \"flyPlanes\"]', 0)",
        // A permission listed twice is granted once, not a problem.
        "UPDATE users_user SET permissions = '[\"readDevices\", \"readDevices\"]' WHERE id = 4",
        "UPDATE inventory_donor SET email = 'donor25 at example' WHERE donor_id = 25",
        // Valid, and kept: Django's naive UTC text.
        "UPDATE users_user SET last_login = '2024-07-01 12:34:56.123456' WHERE id = 2",
    ] {
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
    c.close().await.expect("close");
    url
}

/// The thirteen devices of donor 25 (`select device_id from inventory_device where
/// donor_id = 25`).
const DONOR_25_DEVICES: [&str; 13] = [
    "0e0257882b804405bcbed4ac5c50b47e",
    "44b15cf65dd84f0c9b5b343517b84ac1",
    "65a81c5a5cf54e389218cc3cd80cd168",
    "69bd9ad6681c453882ebb0f6f083c270",
    "93efbc422d7d44a191efcd4d1d608779",
    "9b2c4d22cefe45248a5a61e2a70aaabb",
    "b2b08977691148b68673c7d4fb0481b0",
    "b73b3a64e0704cbf8891fc0e679966c8",
    "ccfcde243cb641cdaffebb59ab678b09",
    "d525a3f3856e4e85b78651e621994a59",
    "d87e6f7f2e2b466fa650fc78260b9e1f",
    "f0c8da1f76be4c94bbe98288df44367d",
    "f55c3b3b6d8747eca2286dd26a8150a6",
];

fn has_problem(problems: &[rehome_django::Problem], table: &str, row: &str, field: &str) -> bool {
    problems
        .iter()
        .any(|p| p.table == table && p.row == row && p.field == field)
}

#[tokio::test]
async fn invalid_rows_abort_with_nothing_written_and_are_reported_by_row() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = corrupted_copy(&dir).await;
    let app = app();
    let err = import(&url, &app.core, Options::default())
        .await
        .expect_err("invalid rows abort");
    let ImportError::Invalid(report) = err else {
        panic!("not Invalid: {err}")
    };
    let p = &report.problems;
    assert!(has_problem(p, "users_user", "5", "username"), "{p:#?}");
    assert!(has_problem(p, "users_user", "5", "email"), "{p:#?}");
    assert!(has_problem(p, "users_user", "5", "password"), "{p:#?}");
    assert!(
        p.iter()
            .any(|x| x.row == "5" && x.reason.contains("regardless of case")),
        "{p:#?}"
    );
    assert!(has_problem(p, "users_user", "6", "email"), "{p:#?}");
    assert!(has_problem(p, "users_user", "7", "permissions"), "{p:#?}");
    assert!(
        p.iter()
            .any(|x| x.row == "7" && x.reason == "\"flyPlanes\" is not a valid permission."),
        "{p:#?}"
    );
    assert!(has_problem(p, "inventory_donor", "25", "email"), "{p:#?}");
    for d in DONOR_25_DEVICES {
        assert!(
            has_problem(p, "inventory_device", d, "donor"),
            "{d}: {p:#?}"
        );
    }
    // 3 problems of user 5, 1 each of users 6 and 7, 1 donor, 13 devices; the 2 links of
    // those devices.
    assert_eq!(p.len(), 3 + 1 + 1 + 1 + 13 + 2, "{p:#?}");
    assert!(
        dump(&**app.core.store()).await.is_empty(),
        "nothing written"
    );

    // A dry run reports the same and writes nothing.
    let dry = import(
        &url,
        &app.core,
        Options {
            dry_run: true,
            ..Options::default()
        },
    )
    .await
    .expect("a dry run reports");
    assert_eq!(dry.problems, report.problems);
    assert!(
        dump(&**app.core.store()).await.is_empty(),
        "nothing written"
    );

    // --skip-invalid imports the rest.
    let report = import(
        &url,
        &app.core,
        Options {
            skip_invalid: true,
            ..Options::default()
        },
    )
    .await
    .expect("imports the valid rows");
    assert_eq!(
        report.counts,
        Counts {
            roles: 4,
            users: 4,
            locations: 6,
            donors: 24,
            shipments: 8,
            devices: 287,
            links: 46,
        }
    );
    let store = &**app.core.store();
    assert_eq!(count(store, Collection::Devices).await, 287);
    assert_eq!(count(store, Collection::Donors).await, 24);
    assert_eq!(count(store, Collection::Users).await, 4);
    let Record::User(maria) = get(store, RecordKey::User(rehome_core::UserId(2))).await else {
        panic!("a user")
    };
    assert_eq!(
        maria.last_login.map(|t| t.to_rfc3339()).as_deref(),
        Some("2024-07-01T12:34:56.123456+00:00")
    );
    let Record::User(li) = get(store, RecordKey::User(rehome_core::UserId(4))).await else {
        panic!("a user")
    };
    let grants: Vec<&str> = li.permissions.iter().map(|p| p.as_str()).collect();
    assert_eq!(grants, ["readDevices"]);
}

#[tokio::test]
async fn a_source_changed_since_an_interrupted_import_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = fixture_copy(&dir);
    let inner: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let failing = Arc::new(Interrupted {
        inner: inner.clone(),
        commits: AtomicUsize::new(0),
        fail_at: 2,
    });
    let options = || Options {
        batch_size: 100,
        ..Options::default()
    };
    import(&url, &rehome_core::Rehome::new(failing), options())
        .await
        .expect_err("interrupted");
    {
        use sqlx::Connection as _;
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("open");
        sqlx::raw_sql("UPDATE inventory_location SET name = 'Renamed' WHERE location_id = 3")
            .execute(&mut c)
            .await
            .expect("rename");
        c.close().await.expect("close");
    }
    let err = import(&url, &rehome_core::Rehome::new(inner.clone()), options())
        .await
        .expect_err("the store holds the old location 3");
    assert!(matches!(err, ImportError::Changed(_)), "{err}");
    assert!(err.to_string().contains("location 3"), "{err}");
    // Nothing was added by the refused run: the first batch's 53 devices only.
    assert_eq!(count(&*inner, Collection::Devices).await, 53);
}

#[tokio::test]
async fn a_store_that_is_not_empty_is_refused() {
    let app = app();
    app.create_user("someone", json!({})).await;
    let err = import(&fixture_url(), &app.core, Options::default())
        .await
        .expect_err("refused");
    assert!(matches!(err, ImportError::NotEmpty(_)), "{err}");
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(count(&**app.core.store(), Collection::Users).await, 1);

    // A finished import is not imported over either.
    let app = self::app();
    import(&fixture_url(), &app.core, Options::default())
        .await
        .expect("imports");
    let err = import(&fixture_url(), &app.core, Options::default())
        .await
        .expect_err("refused");
    assert!(err.to_string().contains("finished import"), "{err}");
}

#[tokio::test]
async fn bad_sources_get_a_clear_error() {
    let app = app();
    let err = import("postgres://x@localhost/db", &app.core, Options::default())
        .await
        .expect_err("unsupported");
    assert!(matches!(err, ImportError::UnsupportedSource(_)), "{err}");
    let dir = tempfile::tempdir().expect("temp dir");
    let err = import(
        &format!("sqlite://{}", dir.path().join("absent.db").display()),
        &app.core,
        Options::default(),
    )
    .await
    .expect_err("absent");
    assert!(matches!(err, ImportError::Connect(_)), "{err}");
    // A database without the original's tables.
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("other.db").display()
    );
    {
        use sqlx::Connection as _;
        let mut c = sqlx::SqliteConnection::connect(&url).await.expect("create");
        sqlx::raw_sql("CREATE TABLE t (x INTEGER)")
            .execute(&mut c)
            .await
            .expect("table");
        c.close().await.expect("close");
    }
    let err = import(&url, &app.core, Options::default())
        .await
        .expect_err("not the original");
    assert!(err.to_string().contains("users_user"), "{err}");
    assert!(dump(&**app.core.store()).await.is_empty());
}

/// A store whose commits fail from the `fail_at`-th on (an interruption).
struct Interrupted {
    inner: Arc<dyn Store>,
    commits: AtomicUsize,
    fail_at: usize,
}

#[async_trait]
impl Store for Interrupted {
    async fn get(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        self.inner.get(key).await
    }
    async fn get_by_unique(&self, key: &UniqueKey) -> StoreResult<Option<Record>> {
        self.inner.get_by_unique(key).await
    }
    async fn scan(
        &self,
        collection: Collection,
        after: Option<RecordKey>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        self.inner.scan(collection, after, limit).await
    }
    async fn list(&self, query: &ListQuery) -> StoreResult<Page<Record>> {
        self.inner.list(query).await
    }
    async fn referrers(&self, reference: &Reference) -> StoreResult<Vec<RecordKey>> {
        self.inner.referrers(reference).await
    }
    async fn next_id(&self, kind: IdKind) -> StoreResult<i64> {
        self.inner.next_id(kind).await
    }
    async fn commit(&self, changes: ChangeSet) -> StoreResult<()> {
        if self.commits.fetch_add(1, Ordering::SeqCst) + 1 >= self.fail_at {
            return Err(StoreError::backend("the connection went away"));
        }
        self.inner.commit(changes).await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.inner.ping().await
    }
    async fn close(&self) -> StoreResult<()> {
        self.inner.close().await
    }
}

#[tokio::test]
async fn an_interrupted_import_runs_again_from_the_start() {
    let inner: Arc<dyn Store> = Arc::new(MemoryStore::new());
    let failing = Arc::new(Interrupted {
        inner: inner.clone(),
        commits: AtomicUsize::new(0),
        fail_at: 3,
    });
    let first = rehome_core::Rehome::new(failing);
    let options = || Options {
        batch_size: 100,
        ..Options::default()
    };
    let err = import(&fixture_url(), &first, options())
        .await
        .expect_err("interrupted");
    assert!(matches!(err, ImportError::Store(_)), "{err}");
    // Two batches of 100 objects made it: 4 roles, 4 users, 6 locations, 25 donors,
    // 8 shipments and the first 153 devices.
    assert_eq!(count(&*inner, Collection::Devices).await, 153);
    assert_eq!(count(&*inner, Collection::Roles).await, 4);

    let again = rehome_core::Rehome::new(inner.clone());
    let report = import(&fixture_url(), &again, options())
        .await
        .expect("the second run completes");
    assert_eq!(report.already_present, 200);
    assert_eq!(report.counts, FIXTURE_COUNTS);
    assert_eq!(count(&*inner, Collection::Devices).await, 300);
    // Every object audited exactly once, one start and one finish.
    let mut per_object = std::collections::BTreeMap::<(String, String), usize>::new();
    let mut starts = 0;
    let mut finishes = 0;
    for r in dump(&*inner).await {
        if let Record::Audit(a) = r {
            match a.action.as_str() {
                "import.start" => starts += 1,
                "import.finish" => finishes += 1,
                _ => *per_object.entry((a.object_type, a.object_id)).or_default() += 1,
            }
        }
    }
    assert_eq!((starts, finishes), (1, 1));
    assert_eq!(per_object.len(), 347);
    assert!(per_object.values().all(|n| *n == 1));
    // And the finished store is not imported over.
    assert!(import(&fixture_url(), &again, options()).await.is_err());
}
