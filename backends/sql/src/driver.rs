//! The few things the store needs from a database, over each sqlx driver: statements with
//! integer and byte parameters, rows of integers and bytes, transactions, and errors sorted by
//! what the store does about them.
//!
//! Everything above this module is dialect-independent apart from SQL text; binding and
//! decoding only ever deal with `i64` and bytes, so one macro implements them for every driver.

use async_trait::async_trait;
use rehome_core::store::StoreError;

use crate::schema::Dialect;

/// A statement parameter, or a column value read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Arg {
    /// An integer (or NULL of an integer column).
    Int(Option<i64>),
    /// Bytes (or NULL of a bytes column).
    Bytes(Option<Vec<u8>>),
}

impl Arg {
    pub(crate) fn int(v: i64) -> Arg {
        Arg::Int(Some(v))
    }

    pub(crate) fn bytes(v: impl Into<Vec<u8>>) -> Arg {
        Arg::Bytes(Some(v.into()))
    }

    pub(crate) fn as_int(&self) -> Option<i64> {
        match self {
            Arg::Int(v) => *v,
            Arg::Bytes(_) => None,
        }
    }

    pub(crate) fn into_bytes(self) -> Option<Vec<u8>> {
        match self {
            Arg::Bytes(v) => v,
            Arg::Int(_) => None,
        }
    }
}

/// How to decode a result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ty {
    Int,
    Bytes,
}

/// A statement being built: SQL text with the dialect's placeholders, and its parameters.
#[derive(Debug, Clone)]
pub(crate) struct Sql {
    pub text: String,
    pub args: Vec<Arg>,
    dialect: Dialect,
}

impl Sql {
    pub(crate) fn new(dialect: Dialect) -> Sql {
        Sql {
            text: String::with_capacity(128),
            args: Vec::new(),
            dialect,
        }
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, s: &str) -> &mut Sql {
        self.text.push_str(s);
        self
    }

    /// Appends a placeholder bound to `arg`.
    pub(crate) fn arg(&mut self, arg: Arg) -> &mut Sql {
        self.args.push(arg);
        match self.dialect {
            Dialect::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.args.len().to_string());
            }
            Dialect::Sqlite | Dialect::MySql => self.text.push('?'),
        }
        self
    }
}

/// Pool settings every driver takes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolSize {
    pub max_connections: u32,
    pub acquire_timeout: std::time::Duration,
}

/// What a statement did.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Done {
    pub rows: u64,
    /// MySQL's `LAST_INSERT_ID()` after the statement (0 elsewhere).
    pub last_insert_id: u64,
}

/// What the store does about a database error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ErrorClass {
    /// A unique or primary key was violated.
    Unique,
    /// A foreign key was violated.
    ForeignKey,
    /// The transaction was rolled back to break a deadlock or a serialisation failure, or a
    /// lock could not be had in time: trying again may succeed.
    Retry,
    /// A value does not fit its column or index.
    TooLong,
    /// The table does not exist (a database without the schema).
    NoTable,
    /// Anything else.
    Other,
}

/// A database error.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub(crate) struct DbError(#[from] pub sqlx::Error);

impl DbError {
    pub(crate) fn class(&self) -> ErrorClass {
        let Some(db) = self.0.as_database_error() else {
            return ErrorClass::Other;
        };
        match db.kind() {
            sqlx::error::ErrorKind::UniqueViolation => return ErrorClass::Unique,
            sqlx::error::ErrorKind::ForeignKeyViolation => return ErrorClass::ForeignKey,
            _ => {}
        }
        // MySQL's SQLSTATEs are too coarse for some errors: use its error numbers there.
        #[cfg(feature = "mysql")]
        if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
            match my.number() {
                1213 | 1205 => return ErrorClass::Retry,
                1406 | 1071 => return ErrorClass::TooLong,
                1146 => return ErrorClass::NoTable,
                _ => {}
            }
        }
        let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
        let message = db.message();
        match code.as_str() {
            // PostgreSQL SQLSTATEs: deadlock, serialisation failure, lock timeout.
            "40P01" | "40001" | "55P03" => ErrorClass::Retry,
            // SQLite: busy, locked (after the busy timeout).
            "5" | "6" | "261" | "517" => ErrorClass::Retry,
            // Too long: string truncation (both), PostgreSQL's index row size.
            "22001" | "54000" => ErrorClass::TooLong,
            "42P01" | "42S02" => ErrorClass::NoTable,
            _ if message.starts_with("no such table") => ErrorClass::NoTable,
            _ => ErrorClass::Other,
        }
    }

    pub(crate) fn into_store(self) -> StoreError {
        if self.unavailable() {
            StoreError::unavailable(self.0)
        } else {
            StoreError::backend(self.0)
        }
    }

    /// Whether the database cannot take the call now for a reason outside rehome that may
    /// pass: a full disk, a read-only database, an unreachable or overloaded server.
    pub(crate) fn unavailable(&self) -> bool {
        match &self.0 {
            sqlx::Error::Io(e) => return StoreError::is_unavailable_io(e.kind()),
            sqlx::Error::PoolTimedOut | sqlx::Error::Tls(_) => return true,
            _ => {}
        }
        let Some(db) = self.0.as_database_error() else {
            return false;
        };
        #[cfg(feature = "mysql")]
        if let Some(my) = db.try_downcast_ref::<sqlx::mysql::MySqlDatabaseError>() {
            // Disk full, table full, read-only server or transaction, too many connections,
            // server shutting down, write error.
            return matches!(
                my.number(),
                1021 | 1114 | 1290 | 1792 | 1040 | 1053 | 1026 | 3
            );
        }
        let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
        #[cfg(feature = "postgres")]
        if db
            .try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
            .is_some()
        {
            // Class 53: insufficient resources (disk full, out of memory, too many
            // connections); class 08: connection exceptions; 57P01-57P03: shutting down or
            // not accepting connections yet; 25006: read-only transaction (a standby).
            return code.starts_with("53")
                || code.starts_with("08")
                || matches!(code.as_str(), "57P01" | "57P02" | "57P03" | "25006");
        }
        // SQLite reports extended result codes; the primary code is the low byte:
        // SQLITE_READONLY (8), SQLITE_IOERR (10), SQLITE_FULL (13), SQLITE_CANTOPEN (14).
        code.parse::<i64>()
            .is_ok_and(|c| matches!(c & 0xff, 8 | 10 | 13 | 14))
    }
}

impl From<DbError> for StoreError {
    fn from(e: DbError) -> StoreError {
        e.into_store()
    }
}

pub(crate) type DbResult<T> = Result<T, DbError>;

/// A connection (or a transaction) that runs statements.
#[async_trait]
pub(crate) trait Conn: Send {
    /// Runs a statement that returns no rows.
    async fn execute(&mut self, q: Sql) -> DbResult<Done>;

    /// Runs a query and decodes every row's columns as `cols` says.
    async fn fetch(&mut self, q: Sql, cols: &[Ty]) -> DbResult<Vec<Vec<Arg>>>;

    /// Runs several statements without parameters, in one round trip where the dialect
    /// allows it.
    async fn script(&mut self, sql: &str) -> DbResult<()>;
}

/// A write transaction; dropping it rolls back.
#[async_trait]
pub(crate) trait Tx: Conn {
    async fn commit(self: Box<Self>) -> DbResult<()>;

    /// Rolls back now, rather than leaving a rollback queued on the pooled connection.
    async fn rollback(self: Box<Self>) -> DbResult<()>;
}

/// One database: where connections and transactions come from.
#[async_trait]
pub(crate) trait Driver: Send + Sync {
    fn dialect(&self) -> Dialect;

    /// A connection for reads.
    async fn reader(&self) -> DbResult<Box<dyn Conn + '_>>;

    /// A write transaction. SQLite's takes the write lock at once (`BEGIN IMMEDIATE`), so a
    /// transaction never has to upgrade a read lock and fail with "busy".
    async fn begin(&self) -> DbResult<Box<dyn Tx + '_>>;

    /// Runs a statement outside any transaction, on the writer (id counters).
    async fn write_one(&self, q: Sql, cols: &[Ty]) -> DbResult<(Done, Vec<Vec<Arg>>)>;

    /// The durability and isolation settings in force, as the database reports them (read on
    /// the connection that writes).
    async fn settings(&self) -> DbResult<Vec<(String, String)>>;

    async fn close(&self);
}

/// Runs `name -> query` pairs whose one column is text as bytes.
pub(crate) async fn read_settings(
    conn: &mut dyn Conn,
    d: crate::schema::Dialect,
    queries: &[(&str, &str)],
) -> DbResult<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (name, sql) in queries {
        let mut q = Sql::new(d);
        q.push(sql);
        let rows = conn.fetch(q, &[Ty::Bytes]).await?;
        let value = rows
            .into_iter()
            .next()
            .and_then(|r| r.into_iter().next())
            .and_then(Arg::into_bytes)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        out.push(((*name).to_owned(), value));
    }
    Ok(out)
}

/// Implements [`Conn`] and [`Tx`] for one sqlx driver.
macro_rules! impl_conn {
    ($db:ty, $conn:ty, $tx:ident, $pooled:ident, $done:expr) => {
        fn bind_all<'q>(
            q: &'q crate::driver::Sql,
        ) -> sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments> {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(q.text.as_str()));
            for a in &q.args {
                query = match a {
                    crate::driver::Arg::Int(v) => query.bind(*v),
                    crate::driver::Arg::Bytes(v) => query.bind(v.as_deref()),
                };
            }
            query
        }

        fn decode_rows(
            rows: Vec<<$db as sqlx::Database>::Row>,
            cols: &[crate::driver::Ty],
        ) -> crate::driver::DbResult<Vec<Vec<crate::driver::Arg>>> {
            use sqlx::Row as _;
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                let mut values = Vec::with_capacity(cols.len());
                for (i, ty) in cols.iter().enumerate() {
                    values.push(match ty {
                        crate::driver::Ty::Int => {
                            crate::driver::Arg::Int(row.try_get::<Option<i64>, _>(i)?)
                        }
                        crate::driver::Ty::Bytes => {
                            crate::driver::Arg::Bytes(row.try_get::<Option<Vec<u8>>, _>(i)?)
                        }
                    });
                }
                out.push(values);
            }
            Ok(out)
        }

        async fn run_script(conn: &mut $conn, sql: &str) -> crate::driver::DbResult<()> {
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()))
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        async fn run_execute(
            conn: &mut $conn,
            q: crate::driver::Sql,
        ) -> crate::driver::DbResult<crate::driver::Done> {
            let result = bind_all(&q).execute(&mut *conn).await?;
            Ok(($done)(result))
        }

        async fn run_fetch(
            conn: &mut $conn,
            q: crate::driver::Sql,
            cols: &[crate::driver::Ty],
        ) -> crate::driver::DbResult<Vec<Vec<crate::driver::Arg>>> {
            let rows = bind_all(&q).fetch_all(&mut *conn).await?;
            decode_rows(rows, cols)
        }

        /// A write transaction.
        struct $tx(sqlx::Transaction<'static, $db>);

        #[async_trait::async_trait]
        impl crate::driver::Conn for $tx {
            async fn execute(
                &mut self,
                q: crate::driver::Sql,
            ) -> crate::driver::DbResult<crate::driver::Done> {
                run_execute(&mut self.0, q).await
            }

            async fn fetch(
                &mut self,
                q: crate::driver::Sql,
                cols: &[crate::driver::Ty],
            ) -> crate::driver::DbResult<Vec<Vec<crate::driver::Arg>>> {
                run_fetch(&mut self.0, q, cols).await
            }

            async fn script(&mut self, sql: &str) -> crate::driver::DbResult<()> {
                run_script(&mut self.0, sql).await
            }
        }

        #[async_trait::async_trait]
        impl crate::driver::Tx for $tx {
            async fn commit(self: Box<Self>) -> crate::driver::DbResult<()> {
                self.0.commit().await?;
                Ok(())
            }

            async fn rollback(self: Box<Self>) -> crate::driver::DbResult<()> {
                self.0.rollback().await?;
                Ok(())
            }
        }

        /// A pooled connection for reads.
        struct $pooled(sqlx::pool::PoolConnection<$db>);

        #[async_trait::async_trait]
        impl crate::driver::Conn for $pooled {
            async fn execute(
                &mut self,
                q: crate::driver::Sql,
            ) -> crate::driver::DbResult<crate::driver::Done> {
                run_execute(&mut self.0, q).await
            }

            async fn fetch(
                &mut self,
                q: crate::driver::Sql,
                cols: &[crate::driver::Ty],
            ) -> crate::driver::DbResult<Vec<Vec<crate::driver::Arg>>> {
                run_fetch(&mut self.0, q, cols).await
            }

            async fn script(&mut self, sql: &str) -> crate::driver::DbResult<()> {
                run_script(&mut self.0, sql).await
            }
        }
    };
}

pub(crate) use impl_conn;
