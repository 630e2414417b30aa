//! Store benchmark for SQLite and PostgreSQL: rehome's `SqlStore` (through the `Store` trait)
//! against the same operations written directly in sqlx on the same tables and indexes.
//!
//! ```text
//! cargo bench -p rehome-sql --features sqlite,postgres --bench store              # 10k devices
//! cargo bench -p rehome-sql --features sqlite,postgres --bench store -- 1000000   # 1M
//! ```
//!
//! Sizes can also come from `REHOME_BENCH_DEVICES` (comma-separated). Other knobs:
//! - `REHOME_BENCH_BACKENDS`: `sqlite`, `postgres` or both (comma-separated, the default);
//! - `REHOME_BENCH_POSTGRES_URL`: the server (default `postgres://postgres@127.0.0.1:5432/test`);
//!   the benchmark works in a fresh schema `rehome_bench_<pid>` that it drops afterwards;
//! - `REHOME_BENCH_DIR`: where the SQLite file goes (a temporary directory by default).
//!
//! The collection is seeded through the store with 1000-device commits; on PostgreSQL,
//! `ANALYZE` runs after seeding (as autovacuum would, eventually) so the planner knows the
//! table's size. Then, for rehome and for the direct baseline in turn (three times,
//! alternating; the best run is reported, the machine being shared):
//! - create: single-device commits from 16 concurrent writers, durable (SQLite
//!   `synchronous=FULL` in WAL mode; PostgreSQL's defaults). Direct: one `INSERT` of the same
//!   row values (every typed and folded column, the `data` JSON) per device, autocommit;
//! - get: random existing devices by id, one caller. Direct: `SELECT data ... WHERE id = ?`,
//!   then the JSON decoded into a `Record`;
//! - list: the first page of 10 devices with `make = <one of 20>`, ordered by `type` then id,
//!   without and with the total count. Direct: the page `SELECT` (and a `SELECT COUNT(*)`),
//!   decoding each row's JSON.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Datelike;
use rehome_core::fold::fold;
use rehome_core::store::{ChangeSet, Record, RecordKey, Store};
use rehome_core::testing::bench::{MAKES, device, device_id, first_page, first_pages, mix, sizes};
use rehome_core::{Device, DeviceId};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Connection as _, Row as _};

const SEED_BATCH: u64 = 1000;
const WRITERS: u64 = 16;
/// Creates per measured run (split over the writers).
const CREATES: u64 = 1600;
/// Gets per measured run.
const GETS: u64 = 10_000;
/// Alternating runs of each side; the best is reported (the first doubles as a warm-up of
/// the pools' connections and statement caches).
const RUNS: usize = 3;

/// The devices table's columns, in the order [`row`] gives their values.
const COLUMNS: &str = "id, device_type, device_type_f, make, make_f, model, model_f, \
    serial_number, serial_number_f, mac_id, mac_id_f, imei, imei_f, status, year_of_manufacture, \
    operating_system, operating_system_f, physical_condition, physical_condition_f, donor_id, \
    start_location_id, end_location_id, date_received, notes, notes_f, created_at, updated_at, \
    mac_key, imei_key, received_by, created_by, version, data";
const COLUMN_COUNT: usize = 33;

/// One column value of a devices row.
enum Col {
    Bytes(Option<Vec<u8>>),
    Int(Option<i64>),
}

/// The devices row of `d`, written by hand from the schema (`schema/current/*.sql`): text as
/// UTF-8 bytes with a folded copy, dates as days from the common era, timestamps as
/// microseconds, `mac_key` and `imei_key` the MAC and IMEI or NULL, `data` the record's JSON.
fn row(d: &Device) -> Vec<Col> {
    let text = |s: &str| Col::Bytes(Some(s.as_bytes().to_vec()));
    let folded = |s: &str| Col::Bytes(Some(fold(s).into_bytes()));
    let data = serde_json::to_vec(&Record::Device(d.clone())).unwrap_or_default();
    vec![
        Col::Bytes(Some(d.device_id.0.as_bytes().to_vec())),
        text(&d.device_type),
        folded(&d.device_type),
        text(&d.make),
        folded(&d.make),
        text(&d.model),
        folded(&d.model),
        text(&d.serial_number),
        folded(&d.serial_number),
        text(&d.mac_id),
        folded(&d.mac_id),
        text(&d.imei),
        folded(&d.imei),
        text(d.status.as_str()),
        Col::Int(d.year_of_manufacture.map(i64::from)),
        text(&d.operating_system),
        folded(&d.operating_system),
        text(&d.physical_condition),
        folded(&d.physical_condition),
        Col::Int(d.donor.map(|v| v.0)),
        Col::Int(d.start_location.map(|v| v.0)),
        Col::Int(d.end_location.map(|v| v.0)),
        Col::Int(d.date_received.map(|v| i64::from(v.num_days_from_ce()))),
        text(&d.notes),
        folded(&d.notes),
        Col::Int(Some(d.created_at.timestamp_micros())),
        Col::Int(Some(d.updated_at.timestamp_micros())),
        Col::Bytes((!d.mac_id.is_empty()).then(|| d.mac_id.as_bytes().to_vec())),
        Col::Bytes((!d.imei.is_empty()).then(|| d.imei.as_bytes().to_vec())),
        Col::Int(d.received_by.map(|v| v.0)),
        Col::Int(d.created_by.map(|v| v.0)),
        Col::Int(Some(d.version as i64)),
        Col::Bytes(Some(data)),
    ]
}

/// Binds every column of `row` to `query` (the same code for both databases).
macro_rules! bind_row {
    ($query:expr, $row:expr) => {{
        let mut q = $query;
        for c in $row {
            q = match c {
                Col::Bytes(b) => q.bind(b),
                Col::Int(i) => q.bind(i),
            };
        }
        q
    }};
}

fn decode(data: &[u8]) -> Record {
    serde_json::from_slice(data).expect("a readable record")
}

/// The direct-sqlx side: its own pools on the database the store created.
enum Direct {
    Sqlite {
        /// One connection, as the store writes through one (writers queue for it).
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

impl Direct {
    async fn open(url: &str) -> Direct {
        if url.starts_with("sqlite") {
            let options: SqliteConnectOptions = url.parse().expect("a SQLite URL");
            let options = options
                .foreign_keys(true)
                .synchronous(SqliteSynchronous::Full)
                .busy_timeout(Duration::from_secs(10));
            let writer = SqlitePoolOptions::new()
                .max_connections(1)
                // As the store's pools: no ping before each use.
                .test_before_acquire(false)
                .connect_with(
                    options
                        .clone()
                        .journal_mode(SqliteJournalMode::Wal)
                        .pragma("cache_size", "-65536"),
                )
                .await
                .expect("direct SQLite writer");
            let reader = SqlitePoolOptions::new()
                .max_connections(10)
                .test_before_acquire(false)
                .connect_with(options)
                .await
                .expect("direct SQLite readers");
            Direct::Sqlite { writer, reader }
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(10)
                .test_before_acquire(false)
                .connect(url)
                .await
                .expect("direct PostgreSQL pool");
            Direct::Postgres(pool)
        }
    }

    async fn insert(&self, d: &Device) {
        let values = row(d);
        match self {
            Direct::Sqlite { writer, .. } => {
                static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let sql = SQL.get_or_init(|| {
                    let marks = vec!["?"; COLUMN_COUNT].join(", ");
                    format!("INSERT INTO devices ({COLUMNS}) VALUES ({marks})")
                });
                bind_row!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), values)
                    .execute(writer)
                    .await
                    .expect("direct insert");
            }
            Direct::Postgres(pool) => {
                static SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
                let sql = SQL.get_or_init(|| {
                    let marks: Vec<String> = (1..=COLUMN_COUNT).map(|i| format!("${i}")).collect();
                    format!(
                        "INSERT INTO devices ({COLUMNS}) VALUES ({})",
                        marks.join(", ")
                    )
                });
                bind_row!(sqlx::query(sqlx::AssertSqlSafe(sql.as_str())), values)
                    .execute(pool)
                    .await
                    .expect("direct insert");
            }
        }
    }

    async fn get(&self, id: DeviceId) -> Option<Record> {
        let id = id.0.as_bytes().to_vec();
        let data: Option<Vec<u8>> = match self {
            Direct::Sqlite { reader, .. } => {
                sqlx::query_scalar("SELECT data FROM devices WHERE id = ?")
                    .bind(id)
                    .fetch_optional(reader)
                    .await
            }
            Direct::Postgres(pool) => {
                sqlx::query_scalar("SELECT data FROM devices WHERE id = $1")
                    .bind(id)
                    .fetch_optional(pool)
                    .await
            }
        }
        .expect("direct get");
        data.map(|d| decode(&d))
    }

    /// The first page of 10 with `make`, ordered by type then id, and the count if asked.
    async fn first_page(&self, make: &str, count: bool) -> (Vec<Record>, Option<i64>) {
        let make = make.as_bytes().to_vec();
        let (rows, total): (Vec<Vec<u8>>, Option<i64>) = match self {
            Direct::Sqlite { reader, .. } => {
                let rows = sqlx::query(
                    "SELECT data FROM devices WHERE make = ? ORDER BY device_type, id LIMIT 10",
                )
                .bind(make.clone())
                .fetch_all(reader)
                .await
                .expect("direct page")
                .iter()
                .map(|r| r.get::<Vec<u8>, _>(0))
                .collect();
                let total = if count {
                    Some(
                        sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE make = ?")
                            .bind(make)
                            .fetch_one(reader)
                            .await
                            .expect("direct count"),
                    )
                } else {
                    None
                };
                (rows, total)
            }
            Direct::Postgres(pool) => {
                let rows = sqlx::query(
                    "SELECT data FROM devices WHERE make = $1 ORDER BY device_type, id LIMIT 10",
                )
                .bind(make.clone())
                .fetch_all(pool)
                .await
                .expect("direct page")
                .iter()
                .map(|r| r.get::<Vec<u8>, _>(0))
                .collect();
                let total = if count {
                    Some(
                        sqlx::query_scalar("SELECT COUNT(*) FROM devices WHERE make = $1")
                            .bind(make)
                            .fetch_one(pool)
                            .await
                            .expect("direct count"),
                    )
                } else {
                    None
                };
                (rows, total)
            }
        };
        (rows.iter().map(|d| decode(d)).collect(), total)
    }

    async fn close(&self) {
        match self {
            Direct::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Direct::Postgres(pool) => pool.close().await,
        }
    }
}

/// Which side runs an operation.
#[derive(Clone, Copy, PartialEq)]
enum Side {
    Rehome,
    Direct,
}

struct Bench {
    store: Arc<dyn Store>,
    direct: Arc<Direct>,
    size: u64,
    /// The next unused device number.
    next: std::sync::atomic::AtomicU64,
}

impl Bench {
    async fn seed(&self) -> Duration {
        let started = Instant::now();
        let mut n = 0;
        while n < self.size {
            let mut changes = ChangeSet::new();
            for i in n..(n + SEED_BATCH).min(self.size) {
                changes.insert(Record::Device(device(i)));
            }
            n = (n + SEED_BATCH).min(self.size);
            self.store.commit(changes).await.expect("seed commit");
            if self.size >= 100_000 && n % (self.size / 10).max(1) == 0 {
                eprintln!("  seeded {n} of {} in {:.1?}", self.size, started.elapsed());
            }
        }
        started.elapsed()
    }

    /// `CREATES` single-device creates from `WRITERS` concurrent writers; time per create.
    async fn create(&self, side: Side) -> Duration {
        let per_writer = CREATES / WRITERS;
        let first = self
            .next
            .fetch_add(CREATES, std::sync::atomic::Ordering::Relaxed);
        let started = Instant::now();
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let store = Arc::clone(&self.store);
                let direct = Arc::clone(&self.direct);
                tokio::spawn(async move {
                    for i in 0..per_writer {
                        let d = device(first + w * per_writer + i);
                        match side {
                            Side::Rehome => {
                                let mut changes = ChangeSet::new();
                                changes.insert(Record::Device(d));
                                store.commit(changes).await.expect("create commit");
                            }
                            Side::Direct => direct.insert(&d).await,
                        }
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.await.expect("writer");
        }
        started.elapsed() / (per_writer * WRITERS) as u32
    }

    /// `GETS` gets of random seeded devices, one caller; time per get.
    async fn get(&self, side: Side, salt: u64) -> Duration {
        let started = Instant::now();
        for i in 0..GETS {
            let id = device_id(mix((salt << 40) ^ i) % self.size);
            let found = match side {
                Side::Rehome => self
                    .store
                    .get(RecordKey::Device(id))
                    .await
                    .expect("get")
                    .is_some(),
                Side::Direct => self.direct.get(id).await.is_some(),
            };
            assert!(found, "seeded device {id} is there");
        }
        started.elapsed() / GETS as u32
    }

    /// The first page for every make, `rounds` times; (mean, slowest).
    async fn list(&self, side: Side, count: bool, rounds: usize) -> (Duration, Duration) {
        let (queries, elapsed, slowest) = first_pages(rounds, count, |make| async move {
            match side {
                Side::Rehome => {
                    let page = self
                        .store
                        .list(&first_page(make, count))
                        .await
                        .expect("list");
                    (page.items.len(), page.total.is_some())
                }
                Side::Direct => {
                    let (items, total) = self.direct.first_page(make, count).await;
                    (items.len(), total.is_some())
                }
            }
        })
        .await;
        (
            elapsed / u32::try_from(queries.max(1)).unwrap_or(u32::MAX),
            slowest,
        )
    }

    /// Both sides give the same answers: the direct side's rows read back through the store,
    /// the store's pages equal to the direct ones.
    async fn check(&self) {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let d = device(n);
        self.direct.insert(&d).await;
        let back = self
            .store
            .get(RecordKey::Device(d.device_id))
            .await
            .expect("get");
        assert_eq!(
            back,
            Some(Record::Device(d.clone())),
            "a direct insert reads back"
        );
        let mine = self.direct.get(d.device_id).await;
        assert_eq!(mine, Some(Record::Device(d)), "direct get");
        for make in MAKES {
            let page = self
                .store
                .list(&first_page(make, true))
                .await
                .expect("list");
            let (items, total) = self.direct.first_page(make, true).await;
            assert_eq!(page.items, items, "first page of {make}");
            assert_eq!(page.total.map(|t| t as i64), total, "count of {make}");
        }
    }
}

/// Runs `f` for rehome and direct alternately, `RUNS` times each; the best of each.
async fn best<F, Fut>(mut f: F) -> (Duration, Duration)
where
    F: FnMut(Side, usize) -> Fut,
    Fut: std::future::Future<Output = Duration>,
{
    let (mut rehome, mut direct) = (Duration::MAX, Duration::MAX);
    for run in 0..RUNS {
        rehome = rehome.min(f(Side::Rehome, run).await);
        direct = direct.min(f(Side::Direct, run).await);
    }
    (rehome, direct)
}

fn line(backend: &str, size: u64, what: &str, rehome: Duration, direct: Duration, note: &str) {
    let ratio = rehome.as_secs_f64() / direct.as_secs_f64().max(f64::MIN_POSITIVE);
    println!(
        "{backend:<8} {size:>9} {what:<30} {:>12.3?} {:>12.3?} {ratio:>6.2}x  {note}",
        rehome, direct
    );
}

async fn run(backend: &str, url: &str, size: u64) {
    let store = rehome_sql::open(url).await.expect("open the store");
    let store: Arc<dyn Store> = Arc::new(store);
    let direct = Arc::new(Direct::open(url).await);
    let bench = Bench {
        store,
        direct,
        size,
        next: std::sync::atomic::AtomicU64::new(size),
    };
    let seeding = bench.seed().await;
    eprintln!("{backend}: seeded {size} devices in {seeding:.1?} (1000 per commit)");
    if backend == "postgres"
        && let Direct::Postgres(pool) = &*bench.direct
    {
        // Autovacuum would analyze the new table eventually; a benchmark cannot wait for it.
        sqlx::query("ANALYZE devices")
            .execute(pool)
            .await
            .expect("ANALYZE");
    }
    bench.check().await;

    let (r, d) = best(|side, _| bench.create(side)).await;
    line(
        backend,
        size,
        "create device (1/commit)",
        r,
        d,
        "per create, 16 writers, durable",
    );
    let (r, d) = best(|side, run| bench.get(side, run as u64)).await;
    line(backend, size, "get device by id", r, d, "1 caller");
    for count in [false, true] {
        let rounds = if size > 100_000 { 3 } else { 25 };
        let slowest = std::sync::Mutex::new((Duration::ZERO, Duration::ZERO));
        let (r, d) = best(|side, _| {
            let bench = &bench;
            let slowest = &slowest;
            async move {
                let (mean, max) = bench.list(side, count, rounds).await;
                let mut s = slowest.lock().unwrap_or_else(|e| e.into_inner());
                if side == Side::Rehome {
                    s.0 = s.0.max(max);
                } else {
                    s.1 = s.1.max(max);
                }
                mean
            }
        })
        .await;
        let slowest = slowest.into_inner().unwrap_or_else(|e| e.into_inner());
        let what = if count {
            "first page make=X, with count"
        } else {
            "first page make=X, no count"
        };
        line(
            backend,
            size,
            what,
            r,
            d,
            &format!("slowest {:.1?} / {:.1?}", slowest.0, slowest.1),
        );
    }
    bench.direct.close().await;
    bench.store.close().await.expect("close");
}

async fn admin(url: &str, sql: &str) {
    let mut conn = sqlx::PgConnection::connect(url)
        .await
        .expect("connect to PostgreSQL");
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
        .execute(&mut conn)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    let _ = conn.close().await;
}

fn main() {
    let backends =
        std::env::var("REHOME_BENCH_BACKENDS").unwrap_or_else(|_| "sqlite,postgres".into());
    let pg_url = std::env::var("REHOME_BENCH_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let base = std::env::var_os("REHOME_BENCH_DIR").map(PathBuf::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    println!(
        "{:<8} {:>9} {:<30} {:>12} {:>12} {:>7}  note (best of {RUNS} alternating runs)",
        "backend", "devices", "operation", "rehome", "direct", "ratio"
    );
    for size in sizes() {
        for backend in backends.split(',').map(str::trim) {
            runtime.block_on(async {
                match backend {
                    "sqlite" => {
                        let dir = match &base {
                            Some(base) => tempfile::tempdir_in(base),
                            None => tempfile::tempdir(),
                        }
                        .expect("temporary directory");
                        let url = format!("sqlite://{}", dir.path().join("bench.db").display());
                        run("sqlite", &url, size).await;
                    }
                    "postgres" => {
                        let schema = format!("rehome_bench_{}", std::process::id());
                        admin(&pg_url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
                        admin(&pg_url, &format!("CREATE SCHEMA {schema}")).await;
                        let sep = if pg_url.contains('?') { '&' } else { '?' };
                        let url = format!("{pg_url}{sep}options[search_path]={schema}");
                        // Dropped even if the run panics (the panic is raised again after).
                        let outcome = tokio::spawn({
                            let url = url.clone();
                            async move { run("postgres", &url, size).await }
                        })
                        .await;
                        admin(&pg_url, &format!("DROP SCHEMA IF EXISTS {schema} CASCADE")).await;
                        if let Err(e) = outcome {
                            std::panic::resume_unwind(e.into_panic());
                        }
                    }
                    other => eprintln!("unknown backend {other:?} (sqlite, postgres)"),
                }
            });
        }
    }
}
