//! MySQL 8 and MariaDB: one pool, every session in READ COMMITTED and strict mode.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::mysql::{MySqlConnectOptions, MySqlPool, MySqlPoolOptions};
use sqlx::{MySql, MySqlConnection};

use crate::driver::{
    Arg, Conn, DbResult, Done, Driver, PoolSize, Sql, Tx, Ty, impl_conn, read_settings,
};
use crate::schema::Dialect;

impl_conn!(
    MySql,
    MySqlConnection,
    MySqlTx,
    MySqlPooled,
    |r: sqlx::mysql::MySqlQueryResult| {
        Done {
            rows: r.rows_affected(),
            last_insert_id: r.last_insert_id(),
        }
    }
);

pub(crate) struct MySqlDriver {
    pool: MySqlPool,
}

pub(crate) async fn connect(url: &str, size: PoolSize) -> DbResult<MySqlDriver> {
    let options = MySqlConnectOptions::from_str(url)?;
    let pool = MySqlPoolOptions::new()
        .max_connections(size.max_connections.max(1))
        .acquire_timeout(size.acquire_timeout)
        .test_before_acquire(false)
        .after_connect(|conn, _| {
            Box::pin(async move {
                // READ COMMITTED: a statement sees what committed before it (REPEATABLE READ's
                // snapshot would hide a competing commit from the checks that explain a
                // conflict), and InnoDB keeps no gap locks. Strict mode: a value too long for
                // its column is an error, never silently cut.
                sqlx::raw_sql(
                    "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED; \
                     SET SESSION sql_mode = CONCAT(@@sql_mode, ',STRICT_ALL_TABLES')",
                )
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .connect_with(options)
        .await?;
    Ok(MySqlDriver { pool })
}

#[async_trait]
impl Driver for MySqlDriver {
    fn dialect(&self) -> Dialect {
        Dialect::MySql
    }

    async fn reader(&self) -> DbResult<Box<dyn Conn + '_>> {
        Ok(Box::new(MySqlPooled(self.pool.acquire().await?)))
    }

    async fn begin(&self) -> DbResult<Box<dyn Tx + '_>> {
        Ok(Box::new(MySqlTx(self.pool.begin().await?)))
    }

    async fn write_one(&self, q: Sql, cols: &[Ty]) -> DbResult<(Done, Vec<Vec<Arg>>)> {
        let mut conn = MySqlPooled(self.pool.acquire().await?);
        if cols.is_empty() {
            Ok((conn.execute(q).await?, Vec::new()))
        } else {
            Ok((Done::default(), conn.fetch(q, cols).await?))
        }
    }

    async fn settings(&self) -> DbResult<Vec<(String, String)>> {
        let mut conn = MySqlPooled(self.pool.acquire().await?);
        let mut out = read_settings(
            &mut conn,
            Dialect::MySql,
            &[
                (
                    "innodb_flush_log_at_trx_commit",
                    "SELECT CAST(@@innodb_flush_log_at_trx_commit AS BINARY)",
                ),
                ("sync_binlog", "SELECT CAST(@@sync_binlog AS BINARY)"),
                ("sql_mode", "SELECT CAST(@@SESSION.sql_mode AS BINARY)"),
            ],
        )
        .await?;
        // MySQL 8 knows only `transaction_isolation`, MariaDB 10 only `tx_isolation`.
        let isolation = match read_settings(
            &mut conn,
            Dialect::MySql,
            &[(
                "transaction_isolation",
                "SELECT CAST(@@SESSION.transaction_isolation AS BINARY)",
            )],
        )
        .await
        {
            Ok(v) => v,
            Err(_) => {
                read_settings(
                    &mut conn,
                    Dialect::MySql,
                    &[(
                        "transaction_isolation",
                        "SELECT CAST(@@SESSION.tx_isolation AS BINARY)",
                    )],
                )
                .await?
            }
        };
        out.extend(isolation);
        Ok(out)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
