//! PostgreSQL: one pool.

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{PgConnection, Postgres};

use crate::driver::{
    Arg, Conn, DbResult, Done, Driver, PoolSize, Sql, Tx, Ty, impl_conn, read_settings,
};
use crate::schema::Dialect;

impl_conn!(
    Postgres,
    PgConnection,
    PgTx,
    PgPooled,
    |r: sqlx::postgres::PgQueryResult| {
        Done {
            rows: r.rows_affected(),
            last_insert_id: 0,
        }
    }
);

pub(crate) struct PgDriver {
    pool: PgPool,
}

pub(crate) async fn connect(url: &str, size: PoolSize) -> DbResult<PgDriver> {
    let options = PgConnectOptions::from_str(url)?;
    let pool = PgPoolOptions::new()
        .max_connections(size.max_connections.max(1))
        .acquire_timeout(size.acquire_timeout)
        // A ping before every use would double the round trips; a dead connection fails its
        // statement instead, and the pool replaces it.
        .test_before_acquire(false)
        .connect_with(options)
        .await?;
    Ok(PgDriver { pool })
}

#[async_trait]
impl Driver for PgDriver {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn reader(&self) -> DbResult<Box<dyn Conn + '_>> {
        Ok(Box::new(PgPooled(self.pool.acquire().await?)))
    }

    async fn begin(&self) -> DbResult<Box<dyn Tx + '_>> {
        Ok(Box::new(PgTx(self.pool.begin().await?)))
    }

    async fn write_one(&self, q: Sql, cols: &[Ty]) -> DbResult<(Done, Vec<Vec<Arg>>)> {
        let mut conn = PgPooled(self.pool.acquire().await?);
        if cols.is_empty() {
            Ok((conn.execute(q).await?, Vec::new()))
        } else {
            Ok((Done::default(), conn.fetch(q, cols).await?))
        }
    }

    async fn settings(&self) -> DbResult<Vec<(String, String)>> {
        let mut conn = PgPooled(self.pool.acquire().await?);
        let mut out = Vec::new();
        for name in [
            "synchronous_commit",
            "fsync",
            "transaction_isolation",
            "search_path",
        ] {
            let sql = format!("SELECT convert_to(current_setting('{name}'), 'UTF8')");
            out.extend(read_settings(&mut conn, Dialect::Postgres, &[(name, &sql)]).await?);
        }
        Ok(out)
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}
