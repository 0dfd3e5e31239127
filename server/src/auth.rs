//! Bearer tokens: random 32 bytes as hex, stored only as their sha256, compared in constant time.
//! The admin token may do everything; a lot's token only its own lot's sync routes.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Who is calling, from its bearer token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    Lot(String),
}

impl Caller {
    /// Admin routes: only the admin token.
    pub fn require_admin(&self) -> ApiResult<()> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Lot(own) => Err(ApiError::forbidden(format!(
                "this route needs the admin token; the token of lot '{own}' may only sync that lot"
            ))),
        }
    }

    /// A lot's sync routes: that lot's own token, or the admin's.
    pub fn require_lot(&self, lot: &str) -> ApiResult<()> {
        match self {
            Caller::Admin => Ok(()),
            Caller::Lot(own) if own == lot => Ok(()),
            Caller::Lot(own) => Err(ApiError::forbidden(format!(
                "the token of lot '{own}' may not act on lot '{lot}'; use lot '{lot}'s own token"
            ))),
        }
    }
}

/// A new random token (32 bytes, 64 hex digits).
pub fn new_token() -> Result<String, getrandom::Error> {
    let mut b = [0u8; 32];
    getrandom::fill(&mut b)?;
    Ok(hex::encode(b))
}

pub fn token_sha256(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Caller> {
        let Some(value) = parts.headers.get(AUTHORIZATION) else {
            return Err(ApiError::unauthorized(
                "no token: send the header `Authorization: Bearer <token>`",
            ));
        };
        let token = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                ApiError::unauthorized(
                    "the Authorization header must be `Bearer <token>` with the token in hex",
                )
            })?;
        let digest = token_sha256(token);
        if bool::from(digest.ct_eq(&state.admin_token_sha256)) {
            return Ok(Caller::Admin);
        }
        let client = state.pool.get().await?;
        let stmt = client
            .prepare_cached("SELECT lot_id, token_sha256 FROM lots WHERE token_sha256 = $1")
            .await?;
        let row = client.query_opt(&stmt, &[&&digest[..]]).await?;
        match row {
            Some(row) => {
                let stored: Vec<u8> = row.get(1);
                if bool::from(stored.as_slice().ct_eq(&digest[..])) {
                    Ok(Caller::Lot(row.get(0)))
                } else {
                    Err(unknown_token())
                }
            }
            None => Err(unknown_token()),
        }
    }
}

fn unknown_token() -> ApiError {
    ApiError::unauthorized(
        "unknown token: it is neither the admin's nor a lot's (a lot's token is shown once, when \
         the lot is created)",
    )
}
