//! The shared multi-lot server: lots push their journals up and take orders down, on PostgreSQL
//! (server/openapi.yaml documents the routes). Stateless processes: run several behind a load
//! balancer on one database.

pub mod app;
pub mod auth;
pub mod config;
pub mod db;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod journal;
pub mod lots;
pub mod orders;
pub mod overview;
pub mod pgtest;
mod state;
pub mod tls;

use crate::config::Config;
use crate::state::AppState;
use std::future::Future;
use tokio::net::TcpListener;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error("cannot listen on {addr}: {source} (is another server already there?)")]
    Bind {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Tls(String),
    #[error("serving: {0}")]
    Serve(std::io::Error),
}

/// Connects to the database and applies the migrations it lacks.
pub async fn connect(config: &Config) -> Result<AppState, StartError> {
    let pool = db::pool(&config.database, config.pool_size)?;
    let applied = db::migrate(&pool).await?;
    for name in applied {
        eprintln!("gatehouse-server: applied migration {name}");
    }
    Ok(AppState {
        pool,
        admin_token_sha256: config.admin_token_sha256,
    })
}

/// Runs the server for `config` until `shutdown` completes.
pub async fn run(
    config: &Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), StartError> {
    let tls = match &config.tls {
        Some(t) => Some(tls::acceptor(&t.cert, &t.key).map_err(StartError::Tls)?),
        None => None,
    };
    let state = connect(config).await?;
    let listener = TcpListener::bind(config.listen)
        .await
        .map_err(|source| StartError::Bind {
            addr: config.listen,
            source,
        })?;
    eprintln!(
        "gatehouse-server: listening on {}://{}",
        if tls.is_some() { "https" } else { "http" },
        config.listen
    );
    app::serve(listener, app::router(state), tls, shutdown)
        .await
        .map_err(StartError::Serve)
}
