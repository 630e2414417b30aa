//! SQLite: one writer connection, a pool of readers (WAL lets them read while it writes).

use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, SqliteConnection};

use crate::driver::{
    Arg, Conn, DbResult, Done, Driver, PoolSize, Sql, Tx, Ty, impl_conn, read_settings,
};
use crate::schema::Dialect;

impl_conn!(
    Sqlite,
    SqliteConnection,
    SqliteTx,
    SqlitePooled,
    |r: sqlx::sqlite::SqliteQueryResult| {
        Done {
            rows: r.rows_affected(),
            last_insert_id: 0,
        }
    }
);

/// How long a connection waits for another process's write lock before giving up.
pub(crate) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) struct SqliteDriver {
    /// Writes go through this single connection, so writers in this process queue here
    /// instead of contending for SQLite's lock.
    writer: SqlitePool,
    /// Reads; the writer itself for an in-memory database (each connection to one would be a
    /// database of its own).
    reader: SqlitePool,
}

pub(crate) async fn connect(url: &str, size: PoolSize) -> DbResult<SqliteDriver> {
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .foreign_keys(true)
        // Durable means surviving power loss, not only a killed process: fsync the WAL at
        // every commit.
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(BUSY_TIMEOUT);
    let memory = url.trim_start_matches("sqlite:").trim_start_matches("//") == ":memory:"
        || url.contains("mode=memory");
    if !memory {
        // "Created if missing" covers the directories on the way.
        let path = options.get_filename();
        if let Some(parent) = path.parent()
            && !parent.as_os_str().is_empty()
        {
            std::fs::create_dir_all(parent).map_err(sqlx::Error::Io)?;
        }
        check_writable(path.parent().unwrap_or(std::path::Path::new(".")))?;
    }
    if memory {
        // One connection for everything, kept open for the life of the store: the database
        // lives only as long as a connection to it.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(size.acquire_timeout)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .test_before_acquire(false)
            .connect_with(options)
            .await?;
        return Ok(SqliteDriver {
            writer: pool.clone(),
            reader: pool,
        });
    }
    // WAL is a property of the file: set once, by the writer, before any reader opens.
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(size.acquire_timeout)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .test_before_acquire(false)
        .connect_with(
            options
                .clone()
                .journal_mode(SqliteJournalMode::Wal)
                // Every insert touches some thirty index b-trees: a page cache of 64 MiB (the
                // default is 2 MiB) keeps their upper levels in memory.
                .pragma("cache_size", "-65536"),
        )
        .await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(size.max_connections.max(1))
        .acquire_timeout(size.acquire_timeout)
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    Ok(SqliteDriver { writer, reader })
}

/// SQLite writes the database and its `-wal` and `-shm` files in the database's directory, and
/// says only "unable to open database file" when it cannot: check first and say why.
fn check_writable(dir: &std::path::Path) -> Result<(), sqlx::Error> {
    let dir = if dir.as_os_str().is_empty() {
        std::path::Path::new(".")
    } else {
        dir
    };
    let probe = dir.join(format!(".rehome-write-check-{}", std::process::id()));
    let made = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(&probe);
    match made {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(sqlx::Error::Io(std::io::Error::new(
            e.kind(),
            format!(
                "the directory {} is not writable ({e}); SQLite writes the database and its \
                 -wal and -shm files there",
                dir.display()
            ),
        ))),
    }
}

#[async_trait]
impl Driver for SqliteDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn reader(&self) -> DbResult<Box<dyn Conn + '_>> {
        Ok(Box::new(SqlitePooled(self.reader.acquire().await?)))
    }

    async fn begin(&self) -> DbResult<Box<dyn Tx + '_>> {
        Ok(Box::new(SqliteTx(
            self.writer.begin_with("BEGIN IMMEDIATE").await?,
        )))
    }

    async fn write_one(&self, q: Sql, cols: &[Ty]) -> DbResult<(Done, Vec<Vec<Arg>>)> {
        let mut conn = SqlitePooled(self.writer.acquire().await?);
        if cols.is_empty() {
            Ok((conn.execute(q).await?, Vec::new()))
        } else {
            Ok((Done::default(), conn.fetch(q, cols).await?))
        }
    }

    async fn settings(&self) -> DbResult<Vec<(String, String)>> {
        let mut conn = SqlitePooled(self.writer.acquire().await?);
        read_settings(
            &mut conn,
            Dialect::Sqlite,
            &[
                (
                    "journal_mode",
                    "SELECT CAST(journal_mode AS BLOB) FROM pragma_journal_mode()",
                ),
                (
                    "synchronous",
                    "SELECT CAST(synchronous AS BLOB) FROM pragma_synchronous()",
                ),
                (
                    "foreign_keys",
                    "SELECT CAST(foreign_keys AS BLOB) FROM pragma_foreign_keys()",
                ),
                (
                    "busy_timeout",
                    "SELECT CAST(timeout AS BLOB) FROM pragma_busy_timeout()",
                ),
            ],
        )
        .await
    }

    async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}
