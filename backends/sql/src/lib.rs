#![doc = include_str!("../README.md")]
// Built without any dialect feature the crate still compiles (so every feature combination
// does), but its drivers' shared machinery goes unused.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_macros, unused_imports)
)]

mod driver;
mod list;
mod migrate;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod row;
mod schema;
#[cfg(feature = "sqlite")]
mod sqlite;
mod store;
#[cfg(feature = "testing")]
pub mod testing;

use std::time::Duration;

use rehome_core::store::{StoreError, StoreResult};

pub use migrate::SCHEMA_VERSION;
pub use schema::Dialect;
pub use store::SqlStore;

/// How to open a [`SqlStore`]: the URL and pool sizes.
#[derive(Debug, Clone)]
pub struct Options {
    url: String,
    max_connections: u32,
    acquire_timeout: Duration,
}

impl Options {
    /// Options for `url`: `sqlite://PATH` (created if missing), `sqlite::memory:`,
    /// `postgres://...` (or `postgresql://`), `mysql://...` (or `mariadb://`).
    pub fn new(url: impl Into<String>) -> Options {
        Options {
            url: url.into(),
            max_connections: 10,
            acquire_timeout: Duration::from_secs(30),
        }
    }

    /// How long to wait for a connection, at open (a server that is still starting) and
    /// later (every connection busy). Default 30 s.
    pub fn acquire_timeout(mut self, timeout: Duration) -> Options {
        self.acquire_timeout = timeout;
        self
    }

    /// The most connections the store holds (readers, for SQLite, which writes through one
    /// connection of its own). Default 10.
    pub fn max_connections(mut self, n: u32) -> Options {
        self.max_connections = n.max(1);
        self
    }

    /// The dialect the URL names, or `None` for a URL this crate does not know.
    pub fn dialect(&self) -> Option<Dialect> {
        dialect_of(&self.url)
    }

    /// Connects, brings the schema up to [`SCHEMA_VERSION`] and returns the store.
    ///
    /// A database written by a newer schema, or holding other tables and no rehome schema, is
    /// refused with [`StoreError::Corrupt`] and left untouched. A URL of a dialect this build
    /// was compiled without (cargo features `sqlite`, `postgres`, `mysql`) is a
    /// [`StoreError::Backend`] naming the feature.
    pub async fn open(self) -> StoreResult<SqlStore> {
        let dialect = self.dialect().ok_or_else(|| {
            StoreError::backend(format!(
                "not a SQL store URL: {:?} (expected sqlite://PATH, sqlite::memory:, \
                 postgres://... or mysql://...)",
                redact(&self.url)
            ))
        })?;
        let driver = connect(dialect, &self).await?;
        migrate::migrate(driver.as_ref()).await?;
        Ok(SqlStore::new(driver))
    }
}

/// Opens the store at `url` with default [`Options`].
pub async fn open(url: &str) -> StoreResult<SqlStore> {
    Options::new(url).open().await
}

fn dialect_of(url: &str) -> Option<Dialect> {
    let scheme = url.split(':').next()?.to_ascii_lowercase();
    match scheme.as_str() {
        "sqlite" => Some(Dialect::Sqlite),
        "postgres" | "postgresql" => Some(Dialect::Postgres),
        "mysql" | "mariadb" => Some(Dialect::MySql),
        _ => None,
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let userinfo = &url[s + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..s + 3], &userinfo[..colon], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

fn not_compiled(dialect: Dialect) -> StoreError {
    StoreError::backend(format!(
        "this build of rehome-sql has no {} support (cargo feature `{}`)",
        dialect.as_str(),
        dialect.as_str()
    ))
}

async fn connect(dialect: Dialect, options: &Options) -> StoreResult<Box<dyn driver::Driver>> {
    let url = options.url.as_str();
    let n = driver::PoolSize {
        max_connections: options.max_connections,
        acquire_timeout: options.acquire_timeout,
    };
    match dialect {
        #[cfg(feature = "sqlite")]
        Dialect::Sqlite => Ok(Box::new(sqlite::connect(url, n).await?)),
        #[cfg(feature = "postgres")]
        Dialect::Postgres => {
            // sqlx knows `postgres://` and `postgresql://` alike.
            Ok(Box::new(postgres::connect(url, n).await?))
        }
        #[cfg(feature = "mysql")]
        Dialect::MySql => {
            let url = match url.strip_prefix("mariadb://") {
                Some(rest) => format!("mysql://{rest}"),
                None => url.to_owned(),
            };
            Ok(Box::new(mysql::connect(&url, n).await?))
        }
        #[allow(unreachable_patterns)]
        other => {
            let _ = (url, n);
            Err(not_compiled(other))
        }
    }
}

impl SqlStore {
    /// The schema version recorded in the database.
    pub async fn schema_version(&self) -> StoreResult<Option<i64>> {
        migrate::version(self.driver()).await
    }

    /// The durability and isolation settings in force, as the database reports them on the
    /// connection that writes: SQLite's `journal_mode`, `synchronous` (2 = FULL),
    /// `foreign_keys`, `busy_timeout` (ms); PostgreSQL's `synchronous_commit`, `fsync`,
    /// `transaction_isolation`, `search_path`; MySQL's `innodb_flush_log_at_trx_commit`,
    /// `sync_binlog`, `tx_isolation`, `sql_mode`.
    pub async fn settings(&self) -> StoreResult<Vec<(String, String)>> {
        Ok(self.driver().settings().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_dialect() {
        for (url, d) in [
            ("sqlite://rehome.db", Some(Dialect::Sqlite)),
            ("sqlite::memory:", Some(Dialect::Sqlite)),
            ("postgres://u@h/db", Some(Dialect::Postgres)),
            ("postgresql://u@h/db", Some(Dialect::Postgres)),
            ("mysql://root@h/db", Some(Dialect::MySql)),
            ("mariadb://root@h/db", Some(Dialect::MySql)),
            ("sled://x", None),
            ("rehome.db", None),
        ] {
            assert_eq!(Options::new(url).dialect(), d, "{url}");
        }
        assert_eq!(
            redact("postgres://me:secret@host/db"),
            "postgres://me:***@host/db"
        );
        assert_eq!(redact("mysql://root@host/db"), "mysql://root@host/db");
    }
}
