//! The connection pool and the migrations (server/migrations/*.sql, applied in order, recorded
//! with their sha256 in schema_migrations; only ever added, never edited).

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use sha2::{Digest, Sha256};

/// Every migration, in order. Add new files at the end; never edit an applied one.
pub const MIGRATIONS: &[(&str, &str)] =
    &[("0001_init", include_str!("../migrations/0001_init.sql"))];

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database URL: {0}")]
    Url(tokio_postgres::Error),
    #[error("cannot make the connection pool: {0}")]
    Pool(String),
    #[error("cannot connect to the database: {0}")]
    Connect(deadpool_postgres::PoolError),
    #[error("migration {name}: {source}")]
    Migration {
        name: String,
        source: tokio_postgres::Error,
    },
    #[error(
        "migration {0} was changed after it was applied to this database (its sha256 differs); \
         migrations are only ever added: restore the file and add a new migration instead"
    )]
    Edited(String),
    #[error("database: {0}")]
    Query(#[from] tokio_postgres::Error),
}

pub fn pool(url: &str, size: usize) -> Result<Pool, DbError> {
    let pg: tokio_postgres::Config = url.parse().map_err(DbError::Url)?;
    let mgr = Manager::from_config(
        pg,
        tokio_postgres::NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(mgr)
        .max_size(size)
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// Applies the migrations this database lacks, in order, each in its own transaction, under an
/// advisory lock so that several servers starting at once apply each file once. Returns the
/// names it applied.
pub async fn migrate(pool: &Pool) -> Result<Vec<String>, DbError> {
    let mut client = pool.get().await.map_err(DbError::Connect)?;
    // Session-level lock: held across the per-file transactions, released below.
    client
        .batch_execute(
            "SELECT pg_advisory_lock(7405201);
             CREATE TABLE IF NOT EXISTS schema_migrations (
                 name text PRIMARY KEY,
                 sha256 text NOT NULL,
                 applied_at timestamptz NOT NULL DEFAULT now())",
        )
        .await?;
    let result = apply(&mut client).await;
    let unlock = client
        .batch_execute("SELECT pg_advisory_unlock(7405201)")
        .await;
    let applied = result?;
    unlock?;
    Ok(applied)
}

async fn apply(client: &mut deadpool_postgres::Client) -> Result<Vec<String>, DbError> {
    let done: Vec<(String, String)> = client
        .query("SELECT name, sha256 FROM schema_migrations", &[])
        .await?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let mut applied = Vec::new();
    for (name, sql) in MIGRATIONS {
        let sha = hex::encode(Sha256::digest(sql.as_bytes()));
        if let Some((_, stored)) = done.iter().find(|(n, _)| n == name) {
            if *stored != sha {
                return Err(DbError::Edited((*name).to_string()));
            }
            continue;
        }
        let tx = client.transaction().await?;
        tx.batch_execute(sql)
            .await
            .map_err(|source| DbError::Migration {
                name: (*name).to_string(),
                source,
            })?;
        tx.execute(
            "INSERT INTO schema_migrations (name, sha256) VALUES ($1, $2)",
            &[name, &sha],
        )
        .await?;
        tx.commit().await?;
        applied.push((*name).to_string());
    }
    Ok(applied)
}
