//! Scratch databases for tests (feature `testing`): a fresh PostgreSQL schema or MySQL /
//! MariaDB database per test run, dropped when its handle goes, so runs never share state and
//! never need a server to themselves.
//!
//! The SQL backend's conformance suite, the Django importer's MariaDB test and the HTTP
//! scale-out tests all use this one helper. Test runs read the servers from
//! `REHOME_TEST_POSTGRES_URL` and `REHOME_TEST_MYSQL_URL` ([`server_url`]); a run that is
//! killed leaves its schema behind, and the next [`ScratchDatabase::create`] on that server
//! drops every scratch schema more than an hour old.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

#[cfg(any(feature = "postgres", feature = "mysql"))]
use sqlx::Connection as _;

/// Every scratch schema or database name starts with this.
pub const PREFIX: &str = "rehome_test_";

/// The test server URL in the environment variable `var`, or `None` after printing that the
/// test is skipped (unset or empty).
pub fn server_url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            eprintln!("skipped: {var} is not set");
            None
        }
    }
}

/// A fresh PostgreSQL schema or MySQL database on a test server; dropped (with everything in
/// it) when this is dropped.
#[derive(Debug)]
pub struct ScratchDatabase {
    url: String,
    admin_url: String,
    drop_sql: String,
}

impl ScratchDatabase {
    /// Creates a fresh schema (a `postgres://` `admin_url`) or database (`mysql://`) on the
    /// server `admin_url` names, after dropping scratch schemas more than an hour old there.
    pub async fn create(admin_url: &str) -> Result<ScratchDatabase, sqlx::Error> {
        drop_stale(admin_url).await;
        let name = scratch_name();
        let (create, drop_sql, url) = if is_postgres(admin_url) {
            let sep = if admin_url.contains('?') { '&' } else { '?' };
            (
                format!("CREATE SCHEMA {name}"),
                format!("DROP SCHEMA IF EXISTS {name} CASCADE"),
                format!("{admin_url}{sep}options[search_path]={name}"),
            )
        } else {
            (
                format!("CREATE DATABASE {name}"),
                format!("DROP DATABASE IF EXISTS {name}"),
                replace_database(admin_url, &name),
            )
        };
        admin_execute(admin_url, &create).await?;
        Ok(ScratchDatabase {
            url,
            admin_url: admin_url.to_owned(),
            drop_sql,
        })
    }

    /// [`create`](Self::create) for synchronous tests (runs on a thread of its own, so it
    /// works inside and outside a runtime).
    pub fn create_blocking(admin_url: &str) -> Result<ScratchDatabase, sqlx::Error> {
        let admin_url = admin_url.to_owned();
        on_own_runtime(async move { ScratchDatabase::create(&admin_url).await })
    }

    /// The store URL of the scratch database (what `rehome_sql::open` and `rehome serve
    /// --store` take).
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ScratchDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let sql = self.drop_sql.clone();
        let done = on_own_runtime(async move { admin_execute(&admin_url, &sql).await });
        if let Err(e) = done {
            eprintln!(
                "clean-up `{}` failed (a later run drops it): {e}",
                self.drop_sql
            );
        }
    }
}

/// Runs `future` to its end on a current-thread runtime on a new thread (so it may be called
/// from inside a runtime, and from `Drop`).
fn on_own_runtime<T, F>(future: F) -> Result<T, sqlx::Error>
where
    T: Send + 'static,
    F: std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'static,
{
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(sqlx::Error::Io)?;
        runtime.block_on(future)
    })
    .join()
    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres")
}

/// Runs one statement on its own connection to the PostgreSQL or MySQL server at `url`.
pub async fn admin_execute(url: &str, sql: &str) -> Result<(), sqlx::Error> {
    let _ = sql;
    if is_postgres(url) {
        #[cfg(feature = "postgres")]
        {
            let mut c = sqlx::PgConnection::connect(url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await?;
            return c.close().await;
        }
        #[cfg(not(feature = "postgres"))]
        return Err(missing_driver("postgres"));
    }
    #[cfg(feature = "mysql")]
    {
        let mut c = sqlx::MySqlConnection::connect(url).await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
            .execute(&mut c)
            .await?;
        c.close().await
    }
    #[cfg(not(feature = "mysql"))]
    Err(missing_driver("mysql"))
}

#[cfg(not(all(feature = "postgres", feature = "mysql")))]
fn missing_driver(feature: &str) -> sqlx::Error {
    sqlx::Error::Configuration(
        format!("rehome-sql was built without its `{feature}` feature").into(),
    )
}

/// The URL with its database path replaced by `name` (the query string kept).
pub fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{name}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// A name no other run uses: the prefix, the time in seconds (read back by the stale check),
/// and the nanoseconds, the process id and a per-process counter mixed together.
pub fn scratch_name() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| u64::from(d.subsec_nanos()))
        .unwrap_or(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let unique = (nanos << 24) ^ (u64::from(std::process::id()) << 8) ^ n;
    format!("{PREFIX}{}_{unique:016x}", now_secs())
}

fn stale(name: &str) -> bool {
    name.strip_prefix(PREFIX)
        .and_then(|rest| rest.split('_').next())
        .and_then(|t| t.parse::<u64>().ok())
        .is_some_and(|t| t + 3600 < now_secs())
}

/// Drops the scratch schemas or databases more than an hour old (left by killed runs) on the
/// server `admin_url` names, once per process and server. Failures are ignored: this is
/// tidying, not the test.
pub async fn drop_stale(admin_url: &str) {
    static DONE: Mutex<Vec<String>> = Mutex::new(Vec::new());
    {
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        if done.iter().any(|u| u == admin_url) {
            return;
        }
        done.push(admin_url.to_owned());
    }
    for name in scratch_names(admin_url)
        .await
        .into_iter()
        .filter(|n| stale(n))
    {
        let sql = if is_postgres(admin_url) {
            format!("DROP SCHEMA IF EXISTS {name} CASCADE")
        } else {
            format!("DROP DATABASE IF EXISTS {name}")
        };
        let _ = admin_execute(admin_url, &sql).await;
    }
}

async fn scratch_names(admin_url: &str) -> Vec<String> {
    if is_postgres(admin_url) {
        #[cfg(feature = "postgres")]
        {
            let Ok(mut c) = sqlx::PgConnection::connect(admin_url).await else {
                return Vec::new();
            };
            let names = sqlx::query_scalar::<_, String>(
                "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, 'rehome_test_')",
            )
            .fetch_all(&mut c)
            .await
            .unwrap_or_default();
            let _ = c.close().await;
            return names;
        }
        #[cfg(not(feature = "postgres"))]
        return Vec::new();
    }
    #[cfg(feature = "mysql")]
    {
        let Ok(mut c) = sqlx::MySqlConnection::connect(admin_url).await else {
            return Vec::new();
        };
        let names = sqlx::query_scalar::<_, String>(
            "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
             WHERE LEFT(schema_name, 12) = 'rehome_test_'",
        )
        .fetch_all(&mut c)
        .await
        .unwrap_or_default();
        let _ = c.close().await;
        names
    }
    #[cfg(not(feature = "mysql"))]
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_of_a_url_is_replaced_and_its_query_kept() {
        let cases = [
            (
                "mysql://root@127.0.0.1:3306/test",
                "mysql://root@127.0.0.1:3306/x",
            ),
            (
                "mysql://root@h/test?ssl-mode=disabled",
                "mysql://root@h/x?ssl-mode=disabled",
            ),
            ("mysql://root@h", "mysql://root@h/x"),
        ];
        for (url, expected) in cases {
            assert_eq!(replace_database(url, "x"), expected, "{url}");
        }
    }

    #[test]
    fn scratch_names_are_distinct_and_only_old_ones_are_stale() {
        let a = scratch_name();
        let b = scratch_name();
        assert_ne!(a, b);
        assert!(a.starts_with(PREFIX));
        assert!(!stale(&a));
        assert!(stale("rehome_test_1000_00000000000000ff"));
        assert!(!stale("rehome_test_notatime_1"));
        assert!(!stale("someone_elses_1000_1"));
    }
}
