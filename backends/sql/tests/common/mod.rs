//! Store factories for the tests: SQLite files in temporary directories, in-memory SQLite, and
//! a fresh PostgreSQL schema or MySQL database per store on the servers that
//! `REHOME_TEST_POSTGRES_URL` / `REHOME_TEST_MYSQL_URL` name.
#![allow(dead_code)] // each test file uses some of these

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use async_trait::async_trait;
use rehome_core::ids::IdKind;
use rehome_core::query::{Collection, ListQuery, Page};
use rehome_core::store::{ChangeSet, Record, RecordKey, Reference, Store, StoreResult, UniqueKey};
use rehome_core::testing::StoreFactory;
use rehome_sql::SqlStore;
use rehome_sql::testing::{ScratchDatabase, admin_execute, server_url};
use sqlx::Connection as _;

/// What a store's database needs when the last handle on it goes: dropping a server-side
/// database or schema, or a temporary directory.
pub enum Cleanup {
    /// Nothing (in-memory databases vanish with their connection).
    None,
    /// A directory holding SQLite files.
    Dir(tempfile::TempDir),
    /// A scratch schema or database on a test server (dropped with it).
    Scratch(ScratchDatabase),
}

/// The database behind one or more handles (a store and its reopened successors).
pub struct Database {
    pub url: String,
    /// Removes the file or drops the scratch database when the last handle goes.
    _cleanup: Cleanup,
}

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
        server_url("REHOME_TEST_POSTGRES_URL")
            .map(|admin_url| Factory::with(Kind::Postgres { admin_url }))
    }

    /// `None` (after saying so) when `REHOME_TEST_MYSQL_URL` is not set.
    pub fn mysql() -> Option<Factory> {
        server_url("REHOME_TEST_MYSQL_URL")
            .map(|admin_url| Factory::with(Kind::MySql { admin_url }))
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
            Kind::Postgres { admin_url } | Kind::MySql { admin_url } => {
                let db = ScratchDatabase::create(admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("a scratch database on {admin_url}: {e}"));
                (db.url().to_owned(), Cleanup::Scratch(db))
            }
        };
        Arc::new(Database {
            url,
            _cleanup: cleanup,
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
