//! Errors as the API answers them: a status and a [`Refusal`] body, always JSON.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use gatehouse_sync::proto::{Refusal, RefusalKind};

/// An error answered to the client: every error body is a [`Refusal`].
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub refusal: Refusal,
}

impl ApiError {
    pub fn new(status: StatusCode, kind: RefusalKind, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            refusal: Refusal {
                kind,
                message: message.into(),
                expected_seq: None,
            },
        }
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, RefusalKind::Invalid, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, RefusalKind::NotFound, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, RefusalKind::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, RefusalKind::Forbidden, message)
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, RefusalKind::Invalid, message)
    }

    /// A 409 about the chain, with the seq the server expects next.
    pub fn chain(kind: RefusalKind, message: impl Into<String>, expected_seq: i64) -> ApiError {
        let mut e = ApiError::new(StatusCode::CONFLICT, kind, message);
        e.refusal.expected_seq = Some(expected_seq);
        e
    }

    /// The database failed: logged here with its cause, answered as 503 `unavailable`.
    pub fn unavailable(context: &str, cause: &dyn std::fmt::Display) -> ApiError {
        eprintln!("gatehouse-server: {context}: {cause}");
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            RefusalKind::Unavailable,
            format!("the server's database is unavailable ({context}); retrying later is safe"),
        )
    }

    pub fn lot_not_found(lot: &str) -> ApiError {
        ApiError::not_found(format!(
            "there is no lot '{lot}'; an admin creates it with POST /v1/lots"
        ))
    }
}

impl From<tokio_postgres::Error> for ApiError {
    fn from(e: tokio_postgres::Error) -> ApiError {
        ApiError::unavailable("query failed", &e)
    }
}

impl From<deadpool_postgres::PoolError> for ApiError {
    fn from(e: deadpool_postgres::PoolError) -> ApiError {
        ApiError::unavailable("no database connection", &e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(self.refusal)).into_response()
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
