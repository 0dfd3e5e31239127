//! `GET /v1/lots/{lot}/journal?kind=&from=&limit=` (admin): search a lot's journal.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{Path, Query};
use crate::lots;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use gatehouse_sync::proto::WireEvent;
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub struct Search {
    /// Only rows of this kind.
    pub kind: Option<String>,
    /// From this seq on (default 1).
    pub from: Option<i64>,
    /// At most this many rows (default 100, at most 1000).
    pub limit: Option<i64>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Found {
    /// The rows exactly as the lot sent them, in seq order.
    pub events: Vec<WireEvent>,
    /// Pass as `from` for the next page; null when there is no more.
    pub next_from: Option<i64>,
}

pub const MAX_LIMIT: i64 = 1000;

pub async fn search(
    State(st): State<AppState>,
    caller: Caller,
    Path(lot): Path<String>,
    Query(q): Query<Search>,
) -> ApiResult<Json<Found>> {
    caller.require_admin()?;
    let limit = q.limit.unwrap_or(100);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(format!(
            "limit {limit} must be between 1 and {MAX_LIMIT}"
        )));
    }
    let from = q.from.unwrap_or(1);
    let client = st.pool.get().await?;
    if !lots::exists(&client, &lot).await? {
        return Err(ApiError::lot_not_found(&lot));
    }
    let cols = "SELECT seq, at, actor, role, kind, payload, hash FROM journal";
    let rows = match &q.kind {
        Some(kind) => {
            let stmt = client
                .prepare_cached(&format!(
                    "{cols} WHERE lot_id = $1 AND kind = $2 AND seq >= $3 ORDER BY seq LIMIT $4"
                ))
                .await?;
            client
                .query(&stmt, &[&lot, kind, &from, &(limit + 1)])
                .await?
        }
        None => {
            let stmt = client
                .prepare_cached(&format!(
                    "{cols} WHERE lot_id = $1 AND seq >= $2 ORDER BY seq LIMIT $3"
                ))
                .await?;
            client.query(&stmt, &[&lot, &from, &(limit + 1)]).await?
        }
    };
    let mut events: Vec<WireEvent> = rows.iter().map(wire_event).collect();
    let next_from = if events.len() as i64 > limit {
        events.pop().map(|e| e.seq)
    } else {
        None
    };
    Ok(Json(Found { events, next_from }))
}

/// A stored journal row as it travels, from a row of (seq, at, actor, role, kind, payload, hash).
pub fn wire_event(r: &tokio_postgres::Row) -> WireEvent {
    WireEvent {
        seq: r.get(0),
        at: r.get(1),
        actor: r.get(2),
        role: r.get(3),
        kind: r.get(4),
        payload: r.get(5),
        hash: hex::encode(r.get::<_, Vec<u8>>(6)),
    }
}
