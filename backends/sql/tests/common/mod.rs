//! Store factories for the tests: SQLite files in temporary directories, in-memory SQLite, and
//! a fresh PostgreSQL schema or MySQL database per store on the servers that
//! `REHOME_TEST_POSTGRES_URL` / `REHOME_TEST_MYSQL_URL` name.
#![allow(dead_code)] // each test file uses some of these

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use rand::RngExt;
use rehome_core::ids::IdKind;
use rehome_core::query::{Collection, ListQuery, Page};
use rehome_core::store::{ChangeSet, Record, RecordKey, Reference, Store, StoreResult, UniqueKey};
use rehome_core::testing::StoreFactory;
use rehome_sql::SqlStore;
use sqlx::Connection as _;

/// What a store's database needs when the last handle on it goes: dropping a server-side
/// database or schema, or a temporary directory.
pub enum Cleanup {
    /// Nothing (in-memory databases vanish with their connection).
    None,
    /// A directory holding SQLite files.
    Dir(tempfile::TempDir),
    /// A statement run on a fresh connection to `admin_url`.
    Drop { admin_url: String, sql: String },
}

/// The database behind one or more handles (a store and its reopened successors).
pub struct Database {
    pub url: String,
    cleanup: Mutex<Cleanup>,
}

impl Drop for Database {
    fn drop(&mut self) {
        let cleanup = std::mem::replace(
            self.cleanup.get_mut().unwrap_or_else(|e| e.into_inner()),
            Cleanup::None,
        );
        if let Cleanup::Drop { admin_url, sql } = cleanup {
            // Drop runs inside the test's runtime: do the async work on a thread of its own.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for cleanup");
                rt.block_on(async move {
                    if let Err(e) = admin_execute(&admin_url, &sql).await {
                        eprintln!("cleanup `{sql}` failed (a later run drops it): {e}");
                    }
                });
            })
            .join();
        }
    }
}

/// A store with the database it lives in.
pub struct Tracked {
    pub store: SqlStore,
    pub db: Arc<Database>,
}

#[async_trait]
impl Store for Tracked {
    async fn get(&self, key: RecordKey) -> StoreResult<Option<Record>> {
        self.store.get(key).await
    }
    async fn get_by_unique(&self, key: &UniqueKey) -> StoreResult<Option<Record>> {
        self.store.get_by_unique(key).await
    }
    async fn scan(
        &self,
        collection: Collection,
        after: Option<RecordKey>,
        limit: usize,
    ) -> StoreResult<Vec<Record>> {
        self.store.scan(collection, after, limit).await
    }
    async fn list(&self, query: &ListQuery) -> StoreResult<Page<Record>> {
        self.store.list(query).await
    }
    async fn referrers(&self, reference: &Reference) -> StoreResult<Vec<RecordKey>> {
        self.store.referrers(reference).await
    }
    async fn next_id(&self, kind: IdKind) -> StoreResult<i64> {
        self.store.next_id(kind).await
    }
    async fn commit(&self, changes: ChangeSet) -> StoreResult<()> {
        self.store.commit(changes).await
    }
    async fn ping(&self) -> StoreResult<()> {
        self.store.ping().await
    }
    async fn close(&self) -> StoreResult<()> {
        self.store.close().await
    }
}

async fn admin_execute(admin_url: &str, sql: &str) -> Result<(), sqlx::Error> {
    let _ = sql; // unused without a server dialect
    if admin_url.starts_with("postgres") {
        #[cfg(feature = "postgres")]
        {
            let mut c = sqlx::PgConnection::connect(admin_url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await?;
            c.close().await?;
        }
    } else {
        #[cfg(feature = "mysql")]
        {
            let mut c = sqlx::MySqlConnection::connect(admin_url).await?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut c)
                .await?;
            c.close().await?;
        }
    }
    Ok(())
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// `rehome_test_<unix seconds>_<random>`: the time lets a later run drop what a killed run
/// left behind.
fn test_name() -> String {
    let n: u64 = rand::rng().random();
    format!("rehome_test_{}_{:016x}", now_secs(), n)
}

fn stale(name: &str) -> bool {
    name.strip_prefix("rehome_test_")
        .and_then(|rest| rest.split('_').next())
        .and_then(|t| t.parse::<u64>().ok())
        .is_some_and(|t| t + 3600 < now_secs())
}

/// Opens stores and reopens them on the same database.
pub struct Factory {
    kind: Kind,
    open: Mutex<HashMap<usize, Weak<Database>>>,
}

enum Kind {
    SqliteFile,
    SqliteMemory,
    Postgres { admin_url: String },
    MySql { admin_url: String },
}

impl Factory {
    pub fn sqlite_file() -> Factory {
        Factory::with(Kind::SqliteFile)
    }

    pub fn sqlite_memory() -> Factory {
        Factory::with(Kind::SqliteMemory)
    }

    /// `None` (after saying so) when `REHOME_TEST_POSTGRES_URL` is not set.
    pub fn postgres() -> Option<Factory> {
        match std::env::var("REHOME_TEST_POSTGRES_URL") {
            Ok(url) if !url.is_empty() => Some(Factory::with(Kind::Postgres { admin_url: url })),
            _ => {
                eprintln!("skipped: REHOME_TEST_POSTGRES_URL is not set");
                None
            }
        }
    }

    /// `None` (after saying so) when `REHOME_TEST_MYSQL_URL` is not set.
    pub fn mysql() -> Option<Factory> {
        match std::env::var("REHOME_TEST_MYSQL_URL") {
            Ok(url) if !url.is_empty() => Some(Factory::with(Kind::MySql { admin_url: url })),
            _ => {
                eprintln!("skipped: REHOME_TEST_MYSQL_URL is not set");
                None
            }
        }
    }

    fn with(kind: Kind) -> Factory {
        Factory {
            kind,
            open: Mutex::new(HashMap::new()),
        }
    }

    /// A fresh, empty database.
    pub async fn database(&self) -> Arc<Database> {
        let (url, cleanup) = match &self.kind {
            Kind::SqliteFile => {
                let dir = tempfile::tempdir().expect("a temporary directory");
                let url = format!("sqlite://{}", dir.path().join("rehome.db").display());
                (url, Cleanup::Dir(dir))
            }
            Kind::SqliteMemory => ("sqlite::memory:".to_owned(), Cleanup::None),
            Kind::Postgres { admin_url } => {
                drop_stale(admin_url).await;
                let name = test_name();
                admin_execute(admin_url, &format!("CREATE SCHEMA {name}"))
                    .await
                    .expect("creating a test schema");
                let sep = if admin_url.contains('?') { '&' } else { '?' };
                let url = format!("{admin_url}{sep}options[search_path]={name}");
                let sql = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                (
                    url,
                    Cleanup::Drop {
                        admin_url: admin_url.clone(),
                        sql,
                    },
                )
            }
            Kind::MySql { admin_url } => {
                drop_stale(admin_url).await;
                let name = test_name();
                admin_execute(admin_url, &format!("CREATE DATABASE {name}"))
                    .await
                    .expect("creating a test database");
                let url = replace_database(admin_url, &name);
                let sql = format!("DROP DATABASE IF EXISTS {name}");
                (
                    url,
                    Cleanup::Drop {
                        admin_url: admin_url.clone(),
                        sql,
                    },
                )
            }
        };
        Arc::new(Database {
            url,
            cleanup: Mutex::new(cleanup),
        })
    }

    /// A store on `db`.
    pub async fn handle(&self, db: Arc<Database>) -> Arc<dyn Store> {
        let store = rehome_sql::open(&db.url)
            .await
            .unwrap_or_else(|e| panic!("opening {}: {e} ({e:?})", db.url));
        let weak = Arc::downgrade(&db);
        let store: Arc<dyn Store> = Arc::new(Tracked { store, db });
        self.open
            .lock()
            .expect("factory lock")
            .insert(Arc::as_ptr(&store) as *const () as usize, weak);
        store
    }
}

/// The URL with its database path replaced by `name`.
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

/// Drops test schemas or databases more than an hour old (left by killed runs), once per
/// process and server.
async fn drop_stale(admin_url: &str) {
    static DONE: Mutex<Vec<String>> = Mutex::new(Vec::new());
    {
        let mut done = DONE.lock().unwrap_or_else(|e| e.into_inner());
        if done.iter().any(|u| u == admin_url) {
            return;
        }
        done.push(admin_url.to_owned());
    }
    let names: Vec<String> = if admin_url.starts_with("postgres") {
        #[cfg(feature = "postgres")]
        {
            let Ok(mut c) = sqlx::PgConnection::connect(admin_url).await else {
                return;
            };
            sqlx::query_scalar::<_, String>(
                "SELECT nspname::text FROM pg_namespace WHERE starts_with(nspname, 'rehome_test_')",
            )
            .fetch_all(&mut c)
            .await
            .unwrap_or_default()
        }
        #[cfg(not(feature = "postgres"))]
        Vec::new()
    } else {
        #[cfg(feature = "mysql")]
        {
            let Ok(mut c) = sqlx::MySqlConnection::connect(admin_url).await else {
                return;
            };
            sqlx::query_scalar::<_, String>(
                "SELECT CAST(schema_name AS CHAR) FROM information_schema.schemata \
                 WHERE LEFT(schema_name, 12) = 'rehome_test_'",
            )
            .fetch_all(&mut c)
            .await
            .unwrap_or_default()
        }
        #[cfg(not(feature = "mysql"))]
        Vec::new()
    };
    for name in names.into_iter().filter(|n| stale(n)) {
        let sql = if admin_url.starts_with("postgres") {
            format!("DROP SCHEMA IF EXISTS {name} CASCADE")
        } else {
            format!("DROP DATABASE IF EXISTS {name}")
        };
        let _ = admin_execute(admin_url, &sql).await;
    }
}

#[async_trait]
impl StoreFactory for Factory {
    async fn open(&self) -> Arc<dyn Store> {
        let db = self.database().await;
        self.handle(db).await
    }

    async fn reopen(&self, store: Arc<dyn Store>) -> Option<Arc<dyn Store>> {
        if matches!(self.kind, Kind::SqliteMemory) {
            return None;
        }
        store.close().await.expect("close");
        let db = self
            .open
            .lock()
            .expect("factory lock")
            .remove(&(Arc::as_ptr(&store) as *const () as usize))
            .and_then(|w| w.upgrade())
            .expect("a store this factory opened");
        drop(store);
        Some(self.handle(db).await)
    }
}

/// Runs `sql` on its own connection to the database at `url` (any dialect).
pub async fn raw_execute(url: &str, sql: &str) {
    let run = async {
        if url.starts_with("sqlite") {
            #[cfg(feature = "sqlite")]
            {
                use std::str::FromStr as _;
                let options =
                    sqlx::sqlite::SqliteConnectOptions::from_str(url)?.create_if_missing(true);
                let mut c = sqlx::SqliteConnection::connect_with(&options).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                    .execute(&mut c)
                    .await?;
                c.close().await?;
            }
        } else {
            admin_execute(url, sql).await?;
        }
        Ok::<(), sqlx::Error>(())
    };
    run.await.unwrap_or_else(|e| panic!("{sql} on {url}: {e}"));
}

/// The one integer `sql` returns, read on its own connection to the database at `url`.
pub async fn raw_int(url: &str, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    let run = async {
        #[allow(unused_mut, unused_assignments)]
        let mut v = 0i64;
        if url.starts_with("sqlite") {
            #[cfg(feature = "sqlite")]
            {
                let mut c = sqlx::SqliteConnection::connect(url).await?;
                v = sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await?;
            }
        } else if url.starts_with("postgres") {
            #[cfg(feature = "postgres")]
            {
                let mut c = sqlx::PgConnection::connect(url).await?;
                v = sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await?;
            }
        } else {
            #[cfg(feature = "mysql")]
            {
                let mut c = sqlx::MySqlConnection::connect(url).await?;
                v = sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut c).await?;
            }
        }
        Ok::<i64, sqlx::Error>(v)
    };
    run.await.unwrap_or_else(|e| panic!("query on {url}: {e}"))
}
