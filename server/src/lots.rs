//! `POST /v1/lots` (admin): a new lot and its token, shown once.

use crate::auth::{Caller, new_token, token_sha256};
use crate::error::{ApiError, ApiResult};
use crate::extract;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewLot {
    pub id: String,
    pub name: String,
    /// IANA timezone of the lot's local days; UTC when left out.
    #[serde(default)]
    pub timezone: Option<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct CreatedLot {
    pub id: String,
    /// The lot's bearer token: shown only here, stored only as its sha256.
    pub token: String,
}

/// A lot id: 1 to 64 of a-z, 0-9, '-', '_', '.', starting with a letter or digit.
pub fn valid_lot_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
}

pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    req: Request,
) -> ApiResult<(StatusCode, Json<CreatedLot>)> {
    caller.require_admin()?;
    let new: NewLot = extract::json(req).await?;
    if !valid_lot_id(&new.id) {
        return Err(ApiError::invalid(format!(
            "id '{}' must be 1 to 64 of a-z, 0-9, '-', '_' or '.', starting with a letter or digit",
            new.id
        )));
    }
    let name = new.name.trim();
    if name.is_empty() {
        return Err(ApiError::invalid("name must not be empty"));
    }
    let timezone = new.timezone.as_deref().unwrap_or("UTC");
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        return Err(ApiError::invalid(format!(
            "timezone '{timezone}' is not an IANA timezone; write it like Europe/Berlin"
        )));
    }
    let token =
        new_token().map_err(|e| ApiError::unavailable("the system's random source failed", &e))?;
    let mut client = st.pool.get().await?;
    let tx = client.transaction().await?;
    let n = tx
        .execute(
            "INSERT INTO lots (lot_id, name, token_sha256, timezone) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (lot_id) DO NOTHING",
            &[&new.id, &name, &&token_sha256(&token)[..], &timezone],
        )
        .await?;
    if n == 0 {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            gatehouse_sync::proto::RefusalKind::Invalid,
            format!("lot '{}' already exists; choose another id", new.id),
        ));
    }
    tx.execute("INSERT INTO heads (lot_id) VALUES ($1)", &[&new.id])
        .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(CreatedLot { id: new.id, token })))
}

/// Whether the lot exists (for admin routes that name one).
pub async fn exists(client: &deadpool_postgres::Client, lot: &str) -> ApiResult<bool> {
    let stmt = client
        .prepare_cached("SELECT 1 FROM lots WHERE lot_id = $1")
        .await?;
    Ok(client.query_opt(&stmt, &[&lot]).await?.is_some())
}
