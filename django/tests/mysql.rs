//! The same data in MySQL/MariaDB, as the original ran in production, imports exactly as
//! from SQLite. Needs `REHOME_TEST_MYSQL_URL` (e.g. `mysql://root@127.0.0.1:3306/test`);
//! skips with a message when it is unset. Each run makes its own database
//! (`rehome_test_<unix seconds>_<random>`, the naming the SQL backend's tests use, so their
//! clean-up of stale databases covers a killed run) and drops it at the end.

mod common;

use std::sync::Arc;

use chrono::TimeZone;
use common::{dump, fixture_url};
use rehome_core::env::ManualClock;
use rehome_core::{MemoryStore, Record, Rehome};
use rehome_django::{Options, import};
use rehome_sql::testing::{ScratchDatabase, server_url};
use sqlx::Connection as _;

/// The original's tables as Django's MySQL backend creates them: `char(32)` UUIDs,
/// `numeric(10, 2)` money, `datetime(6)`, `bool` (tinyint(1)), `json` permissions (an alias
/// of `longtext` with a JSON check on MariaDB), `longtext` for text fields, foreign keys.
/// (Django cannot put a UNIQUE index on `longtext`; the location address's uniqueness is
/// left out.)
const DDL: &[&str] = &[
    "CREATE TABLE `users_user` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, \
     `last_login` datetime(6) NULL, `username` varchar(50) NOT NULL UNIQUE, \
     `password` varchar(128) NOT NULL, `email` varchar(254) NOT NULL UNIQUE, \
     `role` varchar(50) NOT NULL, `first_name` varchar(30) NOT NULL, \
     `last_name` varchar(30) NOT NULL, `permissions` json NOT NULL, `is_superuser` bool NOT NULL)",
    "CREATE TABLE `inventory_location` (`location_id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \
     `name` varchar(255) NOT NULL, `type` varchar(100) NOT NULL, `address` longtext NOT NULL, \
     `country` varchar(100) NOT NULL, `city` varchar(100) NOT NULL, \
     `postal_code` varchar(20) NOT NULL, `phone` varchar(20) NOT NULL UNIQUE)",
    "CREATE TABLE `inventory_donor` (`donor_id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \
     `name` varchar(255) NOT NULL, `contact_info` varchar(255) NOT NULL, \
     `address` longtext NOT NULL, `email` varchar(254) NOT NULL UNIQUE, `phone` varchar(20) NOT NULL)",
    "CREATE TABLE `inventory_shipment` (`shipping_id` integer AUTO_INCREMENT NOT NULL PRIMARY KEY, \
     `arrived` bool NOT NULL, `date_shipped` date NOT NULL, `date_delivered` date NULL, \
     `tracking_identifier` varchar(100) NOT NULL, `destination_id` integer NULL, \
     CONSTRAINT `shipment_destination_fk` FOREIGN KEY (`destination_id`) \
     REFERENCES `inventory_location` (`location_id`))",
    "CREATE TABLE `inventory_device` (`device_id` char(32) NOT NULL PRIMARY KEY, \
     `type` varchar(100) NOT NULL, `make` varchar(100) NOT NULL, `model` varchar(100) NOT NULL, \
     `serial_number` varchar(100) NOT NULL UNIQUE, `mac_id` varchar(100) NOT NULL UNIQUE, \
     `year_of_manufacture` integer NOT NULL, `date_received` date NOT NULL, \
     `physical_condition` varchar(100) NOT NULL, `specifications` longtext NOT NULL, \
     `operating_system` varchar(100) NOT NULL, `date_of_donation` date NOT NULL, \
     `value` numeric(10, 2) NOT NULL, `notes` longtext NOT NULL, \
     `created_by_id` bigint NULL, `received_by_id` bigint NULL, `donor_id` integer NULL, \
     `end_location_id` integer NULL, `start_location_id` integer NULL, \
     CONSTRAINT `device_created_by_fk` FOREIGN KEY (`created_by_id`) REFERENCES `users_user` (`id`), \
     CONSTRAINT `device_received_by_fk` FOREIGN KEY (`received_by_id`) REFERENCES `users_user` (`id`), \
     CONSTRAINT `device_donor_fk` FOREIGN KEY (`donor_id`) REFERENCES `inventory_donor` (`donor_id`), \
     CONSTRAINT `device_end_fk` FOREIGN KEY (`end_location_id`) REFERENCES `inventory_location` (`location_id`), \
     CONSTRAINT `device_start_fk` FOREIGN KEY (`start_location_id`) REFERENCES `inventory_location` (`location_id`))",
    "CREATE TABLE `inventory_device_shipping_infos` (`id` bigint AUTO_INCREMENT NOT NULL PRIMARY KEY, \
     `device_id` char(32) NOT NULL, `shipment_id` integer NOT NULL, \
     UNIQUE KEY `device_shipment_uniq` (`device_id`, `shipment_id`), \
     CONSTRAINT `link_device_fk` FOREIGN KEY (`device_id`) REFERENCES `inventory_device` (`device_id`), \
     CONSTRAINT `link_shipment_fk` FOREIGN KEY (`shipment_id`) REFERENCES `inventory_shipment` (`shipping_id`))",
];

/// Tables in the order their rows can be inserted (what is referred to first).
const TABLES: &[&str] = &[
    "users_user",
    "inventory_location",
    "inventory_donor",
    "inventory_shipment",
    "inventory_device",
    "inventory_device_shipping_infos",
];

/// Copies every row of the fixture's tables into the MySQL database at `url`, each value as
/// the text SQLite holds (MySQL converts it to the column's type).
async fn copy_fixture(url: &str) {
    let mut sqlite = sqlx::SqliteConnection::connect(&format!("{}?mode=ro", fixture_url()))
        .await
        .expect("open the fixture");
    let mut my = sqlx::MySqlConnection::connect(url)
        .await
        .expect("open MySQL");
    for ddl in DDL {
        sqlx::raw_sql(sqlx::AssertSqlSafe((*ddl).to_owned()))
            .execute(&mut my)
            .await
            .unwrap_or_else(|e| panic!("{ddl}: {e}"));
    }
    for table in TABLES {
        let columns: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT name FROM pragma_table_info('{table}') ORDER BY cid"
        )))
        .fetch_all(&mut sqlite)
        .await
        .expect("the fixture's columns");
        let select = format!(
            "SELECT {} FROM \"{table}\"",
            columns
                .iter()
                .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(select))
            .fetch_all(&mut sqlite)
            .await
            .expect("the fixture's rows");
        let insert = format!(
            "INSERT INTO `{table}` ({}) VALUES ({})",
            columns
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            vec!["?"; columns.len()].join(", ")
        );
        for row in &rows {
            use sqlx::Row as _;
            let mut q = sqlx::query(sqlx::AssertSqlSafe(insert.clone()));
            for i in 0..columns.len() {
                q = q.bind(row.try_get::<Option<String>, _>(i).expect("a text value"));
            }
            q.execute(&mut my)
                .await
                .unwrap_or_else(|e| panic!("inserting into {table}: {e}"));
        }
        eprintln!("copied {} rows of {table}", rows.len());
    }
    let _ = my.close().await;
    let _ = sqlite.close().await;
}

fn core() -> Rehome {
    let clock = ManualClock::new(
        chrono::Utc
            .with_ymd_and_hms(2026, 11, 27, 12, 0, 0)
            .single()
            .expect("a time"),
    );
    Rehome::new(Arc::new(MemoryStore::new())).with_clock(Arc::new(clock))
}

#[tokio::test]
async fn the_same_data_in_mariadb_imports_identically() {
    let Some(admin_url) = server_url("REHOME_TEST_MYSQL_URL") else {
        return;
    };
    let db = ScratchDatabase::create(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("a scratch database on {admin_url}: {e}"));
    let url = db.url().to_owned();

    let outcome = async move {
        copy_fixture(&url).await;
        let from_sqlite = core();
        let a = import(&fixture_url(), &from_sqlite, Options::default())
            .await
            .expect("imports from SQLite");
        let from_mysql = core();
        let b = import(&url, &from_mysql, Options::default())
            .await
            .expect("imports from MySQL");
        assert_eq!(a, b, "the reports differ");
        let left = dump(&**from_sqlite.store()).await;
        let right = dump(&**from_mysql.store()).await;
        assert_eq!(left.len(), right.len());
        // Same clock, same order: every object of every kind is equal, audit events too,
        // but for the start and finish events naming their source's dialect.
        let mut markers = 0;
        for (l, r) in left.iter().zip(&right) {
            match (l, r) {
                (Record::Audit(la), Record::Audit(ra)) if la.object_type == "import" => {
                    assert_eq!(la.changes["source"], "sqlite");
                    assert_eq!(ra.changes["source"], "mysql");
                    let mut ra = ra.clone();
                    ra.changes["source"] = "sqlite".into();
                    assert_eq!(la, &ra);
                    markers += 1;
                }
                _ => assert_eq!(l, r),
            }
        }
        assert_eq!(markers, 2);
        assert_eq!(b.counts.devices, 300);
        assert_eq!(b.counts.links, 48);
    };
    // The database is dropped whatever happened (with `db`, after the outcome).
    let result = tokio::spawn(outcome).await;
    drop(db);
    if let Err(e) = result {
        std::panic::resume_unwind(e.into_panic());
    }
}
