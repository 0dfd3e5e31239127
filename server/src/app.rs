//! The router, its state and serving it (plain HTTP or TLS), with graceful shutdown.

use crate::error::{ApiError, ApiResult};
pub use crate::state::AppState;
use crate::{ingest, journal, lots, orders, overview, tls};
use axum::extract::{DefaultBodyLimit, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::future::Future;
use tokio::net::TcpListener;
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;

/// The largest request body, after gzip decompression.
pub const BODY_LIMIT: usize = 64 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/lots", post(lots::create))
        .route("/v1/overview", get(overview::overview))
        .route(
            "/v1/lots/{lot}/journal",
            post(ingest::push).get(journal::search),
        )
        .route("/v1/lots/{lot}/journal/head", get(ingest::head))
        .route(
            "/v1/lots/{lot}/orders",
            post(orders::create).get(orders::list),
        )
        .route("/v1/orders/{id}", get(orders::get))
        .route("/v1/permits", get(orders::permits))
        .route("/v1/tariffs", post(orders::publish_tariff))
        .fallback(no_route)
        .method_not_allowed_fallback(wrong_method)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(RequestDecompressionLayer::new())
        .layer(CompressionLayer::new())
        .with_state(state)
}

async fn healthz(State(st): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let client = st.pool.get().await?;
    client.query_one("SELECT 1", &[]).await?;
    Ok(Json(serde_json::json!({ "status": "ok" })))
}

async fn no_route() -> ApiError {
    ApiError::not_found("no such route; server/openapi.yaml lists them")
}

async fn wrong_method() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        gatehouse_sync::proto::RefusalKind::Invalid,
        "this route does not take that method; server/openapi.yaml lists the routes",
    )
}

/// Serves `app` on `listener` (over TLS when `tls` is given) until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    match tls {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(acceptor) => tls::serve(listener, app, acceptor, shutdown).await,
    }
}
