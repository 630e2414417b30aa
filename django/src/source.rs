//! Reading the original database: SQLite or MySQL/MariaDB through sqlx, every value as text.
//!
//! Each column is cast to text in SQL (`CAST(c AS TEXT)` on SQLite, `CAST(c AS CHAR)` on
//! MySQL), so one reader serves both dialects and SQLite's loose typing (a `decimal` column
//! holding a REAL or an INTEGER) reads the same as MySQL's exact types: `445.92`, `1`,
//! `2024-07-01`, `2024-07-01 12:00:00.000000`. The importer parses the text with core's rules.

use std::str::FromStr;

use sqlx::Row as _;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool, SqlitePoolOptions};

use crate::ImportError;

/// One source row: each selected column as text, `None` for SQL NULL.
pub(crate) type Row = Vec<Option<String>>;

/// An open original database.
pub(crate) enum Source {
    Sqlite(SqlitePool),
    MySql(MySqlPool),
}

impl Source {
    /// Opens `url` (`sqlite://PATH` read-only, or `mysql://...`).
    pub async fn open(url: &str) -> Result<Source, ImportError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)
                .map_err(ImportError::Connect)?
                .read_only(true)
                .create_if_missing(false);
            let pool = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .map_err(ImportError::Connect)?;
            Ok(Source::Sqlite(pool))
        } else if url.starts_with("mysql:") || url.starts_with("mariadb:") {
            let url = url.replacen("mariadb:", "mysql:", 1);
            let options = MySqlConnectOptions::from_str(&url).map_err(ImportError::Connect)?;
            let pool = MySqlPoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await
                .map_err(ImportError::Connect)?;
            Ok(Source::MySql(pool))
        } else {
            Err(ImportError::UnsupportedSource(
                url.split(':').next().unwrap_or_default().to_owned(),
            ))
        }
    }

    /// `"sqlite"` or `"mysql"`.
    pub fn dialect(&self) -> &'static str {
        match self {
            Source::Sqlite(_) => "sqlite",
            Source::MySql(_) => "mysql",
        }
    }

    /// Every row of `table`, the `columns` in order, as text.
    pub async fn rows(
        &self,
        table: &'static str,
        columns: &[&str],
    ) -> Result<Vec<Row>, ImportError> {
        let err = |e| ImportError::Source { table, error: e };
        match self {
            Source::Sqlite(pool) => {
                let cols: Vec<String> = columns
                    .iter()
                    .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
                    .collect();
                let sql = format!("SELECT {} FROM \"{table}\"", cols.join(", "));
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await
                    .map_err(err)?;
                rows.iter()
                    .map(|r| {
                        (0..columns.len())
                            .map(|i| r.try_get::<Option<String>, _>(i))
                            .collect::<Result<Row, _>>()
                    })
                    .collect::<Result<Vec<Row>, _>>()
                    .map_err(err)
            }
            Source::MySql(pool) => {
                let cols: Vec<String> = columns
                    .iter()
                    .map(|c| format!("CAST(`{c}` AS CHAR)"))
                    .collect();
                let sql = format!("SELECT {} FROM `{table}`", cols.join(", "));
                let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
                    .fetch_all(pool)
                    .await
                    .map_err(err)?;
                rows.iter()
                    .map(|r| {
                        (0..columns.len())
                            .map(|i| r.try_get::<Option<String>, _>(i))
                            .collect::<Result<Row, _>>()
                    })
                    .collect::<Result<Vec<Row>, _>>()
                    .map_err(err)
            }
        }
    }

    /// Closes the connection.
    pub async fn close(self) {
        match self {
            Source::Sqlite(p) => p.close().await,
            Source::MySql(p) => p.close().await,
        }
    }
}
