//! Schema migrations: applied when a store opens, each recorded in `rehome_schema`.
//!
//! A migration is a committed SQL script per dialect, `schema/v<N>/<dialect>.sql`, taking a
//! database from version N-1 to N (`v1` creates everything from nothing). The scripts are
//! history: once released they never change (a test pins their SHA-256), and a change to the
//! tables ([`crate::schema`]) is a new version with a new script. A fresh database runs every
//! script in turn, so a fresh database and an upgraded one are the same by construction. The
//! full DDL of the current schema, generated from [`crate::schema`], is committed beside them
//! as `schema/current/<dialect>.sql` for reading; the tests (`tests/migrations.rs`) create a
//! database by the migrations and one from that file on every dialect and compare their
//! catalogues (tables, columns with type and nullability, indexes with their columns and
//! uniqueness, foreign keys), and upgrade a database written as version 1 wrote it.
//!
//! Opening reads the recorded version first, without taking any lock: the current version
//! opens at once, a newer one is refused with [`StoreError::Corrupt`] before anything is
//! written. Otherwise the migrations run under a lock that keeps several processes opening the
//! same new database from migrating it twice: SQLite's write lock (`BEGIN IMMEDIATE`),
//! PostgreSQL's transaction-scoped advisory lock, MySQL's named lock (`GET_LOCK`). On SQLite and
//! PostgreSQL each migration is one transaction with its DDL; MySQL commits DDL as it goes, so
//! its scripts are written to be run again after an interruption: `CREATE TABLE IF NOT
//! EXISTS`, `INSERT IGNORE`, and an `ALTER TABLE` run only while what it adds is missing
//! (looked up in `information_schema`, as plain MySQL 8 has no `ADD COLUMN IF NOT EXISTS`).
//! A migration's version is recorded in the same transaction as its script (on MySQL, after
//! it), so an interrupted migration is run again as a whole.

use std::time::{SystemTime, UNIX_EPOCH};

use rehome_core::store::{StoreError, StoreResult};

use crate::driver::{Arg, Conn, DbResult, Driver, ErrorClass, Sql, Ty};
use crate::schema::{Dialect, SCHEMA, ddl_schema_table};

/// The schema version this build writes and reads: 1, the first; 2, storage media,
/// sanitization records, verifications and tool reports, and devices' IMEI.
pub const SCHEMA_VERSION: i64 = 2;

/// The migration to `version`, for `d`.
fn script(d: Dialect, version: i64) -> Option<&'static str> {
    match (version, d) {
        (1, Dialect::Sqlite) => Some(include_str!("../schema/v1/sqlite.sql")),
        (1, Dialect::Postgres) => Some(include_str!("../schema/v1/postgres.sql")),
        (1, Dialect::MySql) => Some(include_str!("../schema/v1/mysql.sql")),
        (2, Dialect::Sqlite) => Some(include_str!("../schema/v2/sqlite.sql")),
        (2, Dialect::Postgres) => Some(include_str!("../schema/v2/postgres.sql")),
        (2, Dialect::MySql) => Some(include_str!("../schema/v2/mysql.sql")),
        _ => None,
    }
}

/// The highest recorded version; `None` when there is no version table.
async fn recorded(conn: &mut dyn Conn, d: Dialect) -> DbResult<Option<i64>> {
    let mut q = Sql::new(d);
    q.push("SELECT MAX(version) FROM ").push(SCHEMA);
    match conn.fetch(q, &[Ty::Int]).await {
        Ok(rows) => Ok(Some(
            rows.first()
                .and_then(|r| r.first())
                .and_then(Arg::as_int)
                .unwrap_or(0),
        )),
        Err(e) if e.class() == ErrorClass::NoTable => Ok(None),
        Err(e) => Err(e),
    }
}

fn newer(version: i64) -> StoreError {
    StoreError::Corrupt(format!(
        "the database holds rehome schema version {version}, newer than version \
         {SCHEMA_VERSION} which this build reads; upgrade rehome to open it (nothing was changed)"
    ))
}

/// How many tables the database (or schema) holds.
async fn table_count(conn: &mut dyn Conn, d: Dialect) -> DbResult<i64> {
    let mut q = Sql::new(d);
    q.push(match d {
        Dialect::Sqlite => {
            "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 7) <> 'sqlite_'"
        }
        Dialect::Postgres => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()"
        }
        Dialect::MySql => {
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE()"
        }
    });
    let rows = conn.fetch(q, &[Ty::Int]).await?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(Arg::as_int)
        .unwrap_or(0))
}

/// Brings the database to [`SCHEMA_VERSION`].
pub(crate) async fn migrate(driver: &dyn Driver) -> StoreResult<()> {
    let d = driver.dialect();
    let before = {
        let mut conn = driver.reader().await?;
        let v = recorded(conn.as_mut(), d).await?;
        if v.is_none() && table_count(conn.as_mut(), d).await? > 0 {
            return Err(StoreError::Corrupt(
                "the database holds tables but no rehome schema version: rehome needs a \
                 database of its own (nothing was changed)"
                    .into(),
            ));
        }
        v
    };
    match before {
        Some(v) if v == SCHEMA_VERSION => return Ok(()),
        Some(v) if v > SCHEMA_VERSION => return Err(newer(v)),
        _ => {}
    }
    let mut tx = driver.begin().await?;
    match d {
        // BEGIN IMMEDIATE holds the write lock already.
        Dialect::Sqlite => {}
        Dialect::Postgres => {
            tx.script(
                "SELECT pg_advisory_xact_lock(hashtext('rehome_migrate:' || current_schema()))",
            )
            .await?;
        }
        Dialect::MySql => {
            tx.script("DO GET_LOCK(CONCAT('rehome_migrate:', DATABASE()), 300)")
                .await?;
        }
    }
    let result = run(tx.as_mut(), d).await;
    if d == Dialect::MySql {
        // The named lock belongs to the session, not the transaction: release it before the
        // connection goes back to the pool.
        tx.script("DO RELEASE_LOCK(CONCAT('rehome_migrate:', DATABASE()))")
            .await?;
    }
    result?;
    tx.commit().await?;
    Ok(())
}

async fn run(tx: &mut dyn Conn, d: Dialect) -> StoreResult<()> {
    tx.script(&ddl_schema_table(d)).await?;
    let from = recorded(tx, d).await?.unwrap_or(0);
    if from > SCHEMA_VERSION {
        return Err(newer(from));
    }
    for version in from + 1..=SCHEMA_VERSION {
        let sql = script(d, version).ok_or_else(|| {
            StoreError::Corrupt(format!("no migration to schema version {version}"))
        })?;
        tx.script(sql).await?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|t| i64::try_from(t.as_micros()).unwrap_or(i64::MAX))
            .unwrap_or(0);
        let mut q = Sql::new(d);
        q.push("INSERT INTO ")
            .push(SCHEMA)
            .push(" (version, applied_at) VALUES (")
            .arg(Arg::int(version))
            .push(", ")
            .arg(Arg::int(now))
            .push(")");
        tx.execute(q).await?;
    }
    Ok(())
}

/// The recorded schema version (for tests and tools).
pub(crate) async fn version(driver: &dyn Driver) -> StoreResult<Option<i64>> {
    let mut conn = driver.reader().await?;
    Ok(recorded(conn.as_mut(), driver.dialect()).await?)
}

#[cfg(test)]
mod tests {
    use sha2::{Digest as _, Sha256};

    use super::*;

    /// The SHA-256 of every released migration script (line ends normalised to `\n`), by
    /// version and dialect. Released scripts are history: databases out there ran them, so a
    /// change belongs in a new version's script, never here.
    const FROZEN: &[(i64, Dialect, &str)] = &[
        (
            1,
            Dialect::Sqlite,
            "c2dff6c0f592823e4a8c97f09d11440dabfab64ff0fc8661330faec5b32ab219",
        ),
        (
            1,
            Dialect::Postgres,
            "4d8a9da977eb07857e820bdc061c9c8f08b43e5c7f857c8016bd40f6104cd9d9",
        ),
        (
            1,
            Dialect::MySql,
            "0122abd9e4a6a430f5e2cd55dd33bb33028ccfdce15cb413914200c418071aba",
        ),
        (
            2,
            Dialect::Sqlite,
            "4e5b58eed940fed734d6608bba1922ec8444c7c9411167f1141bdebf6a2e0249",
        ),
        (
            2,
            Dialect::Postgres,
            "5e246f8adad06ecdaefc7430bf101ba58ab4d9c82c63392b62186ad986a0ea92",
        ),
        (
            2,
            Dialect::MySql,
            "c610ff55608a5dd1cf7773f18d77325ad9d24c72b9133abe979f6bb5b4972330",
        ),
    ];

    fn sha256_hex(s: &str) -> String {
        Sha256::digest(s.replace("\r\n", "\n").as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn released_migrations_are_frozen() {
        for (version, d, pinned) in FROZEN {
            let sql = script(*d, *version).expect("a released script");
            assert_eq!(
                sha256_hex(sql),
                *pinned,
                "schema/v{version}/{}.sql changed: released migrations are history; write \
                 the change as a new version instead",
                d.as_str()
            );
        }
    }

    #[test]
    fn every_version_has_a_pinned_script_per_dialect_and_no_more() {
        for version in 1..=SCHEMA_VERSION {
            for d in Dialect::ALL {
                assert!(script(d, version).is_some(), "v{version} {}", d.as_str());
                assert!(
                    FROZEN.iter().any(|(v, x, _)| *v == version && *x == d),
                    "v{version} {} is not pinned in FROZEN",
                    d.as_str()
                );
            }
        }
        for d in Dialect::ALL {
            assert!(script(d, SCHEMA_VERSION + 1).is_none());
            assert!(script(d, 0).is_none());
        }
    }
}
