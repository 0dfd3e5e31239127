//! Orders: the admin creates them for a lot (`POST /v1/lots/{lot}/orders`), the lot lists them
//! (`GET /v1/lots/{lot}/orders?after=N`), applies each once and journals an `order_applied` row
//! whose ingest decides the order; the admin reads the outcome (`GET /v1/orders/{id}`).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{self, Path, Query};
use crate::lots;
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use chrono::{DateTime, SecondsFormat, Utc};
use gatehouse_sync::proto::{Order, OrderBody};
use serde::{Deserialize, Serialize};

/// At most this many orders per `GET .../orders`.
pub const PAGE: i64 = 500;

#[derive(Debug, Serialize, Deserialize)]
pub struct Created {
    pub id: String,
    pub seq: i64,
    pub status: String,
}

/// An order as the admin sees it: what was asked and what the lot decided.
#[derive(Debug, Serialize, Deserialize)]
pub struct OrderView {
    pub id: String,
    pub lot: String,
    pub seq: i64,
    pub created_at: String,
    pub body: OrderBody,
    /// pending | accepted | refused
    pub status: String,
    pub reason: Option<String>,
    /// For an accepted reservation: its code at the lot.
    pub reservation: Option<String>,
    /// The lot's journal seq of the `order_applied` row that decided it.
    pub decided_seq: Option<i64>,
}

fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_time(field: &str, v: &str) -> ApiResult<DateTime<chrono::FixedOffset>> {
    DateTime::parse_from_rfc3339(v)
        .map_err(|e| ApiError::invalid(format!("{field} '{v}' is not an RFC 3339 time: {e}")))
}

fn check_body(body: &OrderBody) -> ApiResult<()> {
    match body {
        OrderBody::IssuePermit {
            permit,
            holder,
            plates,
            card,
            valid_from,
            valid_to,
            max_inside,
            ..
        } => {
            // The kinds of permit are the lot's (core's PermitKind), not a second list here.
            gatehouse_core::permits::PermitKind::parse(permit)
                .map_err(|e| ApiError::invalid(format!("permit: {}", e.message)))?;
            if holder.trim().is_empty() {
                return Err(ApiError::invalid("holder must not be empty"));
            }
            if plates.is_empty() && card.is_none() {
                return Err(ApiError::invalid(
                    "a permit needs at least one plate or a card",
                ));
            }
            if *max_inside == 0 {
                return Err(ApiError::invalid("max_inside must be at least 1"));
            }
            let (s, e) = (
                parse_time("valid_from", valid_from)?,
                parse_time("valid_to", valid_to)?,
            );
            if e <= s {
                return Err(ApiError::invalid(format!(
                    "valid_to {valid_to} must be after valid_from {valid_from}"
                )));
            }
        }
        OrderBody::PublishTariff {
            toml,
            effective_from,
            ..
        } => {
            if toml.trim().is_empty() {
                return Err(ApiError::invalid(
                    "toml must hold a [tariff] table as in the lot config",
                ));
            }
            if let Some(t) = effective_from {
                parse_time("effective_from", t)?;
            }
        }
        OrderBody::Watch { plate, .. } if plate.trim().is_empty() => {
            return Err(ApiError::invalid("plate must not be empty"));
        }
        _ => {}
    }
    if let OrderBody::Reserve {
        start, end, plate, ..
    } = body
    {
        let (s, e) = (parse_time("start", start)?, parse_time("end", end)?);
        if e <= s {
            return Err(ApiError::invalid(format!(
                "end {end} must be after start {start}"
            )));
        }
        if plate.as_deref().is_some_and(|p| p.trim().is_empty()) {
            return Err(ApiError::invalid(
                "plate must not be empty; leave it out when unknown",
            ));
        }
    }
    Ok(())
}

pub async fn create(
    State(st): State<AppState>,
    caller: Caller,
    Path(lot): Path<String>,
    req: Request,
) -> ApiResult<(StatusCode, Json<Created>)> {
    caller.require_admin()?;
    let body: OrderBody = extract::json(req).await?;
    check_body(&body)?;
    let mut client = st.pool.get().await?;
    if !lots::exists(&client, &lot).await? {
        return Err(ApiError::lot_not_found(&lot));
    }
    let earlier = match &body {
        OrderBody::CancelReservation { order } => Some((order, "reserve", "cancel", "cancelled")),
        OrderBody::RevokePermit { order, .. } => Some((order, "issue_permit", "revoke", "revoked")),
        _ => None,
    };
    if let Some((order, kind, verb, done)) = earlier {
        let stmt = client
            .prepare_cached("SELECT body->>'kind' FROM orders WHERE lot_id = $1 AND id = $2")
            .await?;
        match client.query_opt(&stmt, &[&lot, order]).await? {
            Some(r) if r.get::<_, Option<String>>(0).as_deref() == Some(kind) => {}
            Some(_) => {
                return Err(ApiError::invalid(format!(
                    "order {order} is not a {kind} order; only a {kind} order can be {done}"
                )));
            }
            None => {
                return Err(ApiError::not_found(format!(
                    "lot '{lot}' has no order {order} to {verb}"
                )));
            }
        }
    }
    Ok((
        StatusCode::CREATED,
        Json(insert(&mut client, &lot, &body).await?),
    ))
}

/// Stores a new order for `lot` with the next order seq.
async fn insert(
    client: &mut deadpool_postgres::Client,
    lot: &str,
    body: &OrderBody,
) -> ApiResult<Created> {
    let mut id = [0u8; 16];
    getrandom::fill(&mut id)
        .map_err(|e| ApiError::unavailable("the system's random source failed", &e))?;
    let id = format!("ord_{}", hex::encode(id));
    let json = serde_json::to_value(body)
        .map_err(|e| ApiError::invalid(format!("the order cannot be stored: {e}")))?;
    let tx = client.transaction().await?;
    // The counter row stays locked until commit: orders of a lot commit in seq order, no gaps.
    let seq: i64 = tx
        .query_one(
            "INSERT INTO order_counters (lot_id, last_seq) VALUES ($1, 1) \
             ON CONFLICT (lot_id) DO UPDATE SET last_seq = order_counters.last_seq + 1 \
             RETURNING last_seq",
            &[&lot],
        )
        .await?
        .get(0);
    tx.execute(
        "INSERT INTO orders (lot_id, seq, id, body) VALUES ($1, $2, $3, $4)",
        &[&lot, &seq, &id, &json],
    )
    .await?;
    tx.commit().await?;
    Ok(Created {
        id,
        seq,
        status: "pending".into(),
    })
}

/// A tariff published to several lots at once.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffPublication {
    pub toml: String,
    #[serde(default)]
    pub effective_from: Option<String>,
    #[serde(default)]
    pub note: String,
    /// The lots to publish to; absent: every lot.
    #[serde(default)]
    pub lots: Option<Vec<String>>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Published {
    pub lot: String,
    #[serde(flatten)]
    pub order: Created,
}

/// `POST /v1/tariffs`: one publish_tariff order for each lot named (or every lot). Each lot
/// checks the tariff itself and accepts or refuses it, as with any order.
pub async fn publish_tariff(
    State(st): State<AppState>,
    caller: Caller,
    req: Request,
) -> ApiResult<(StatusCode, Json<Vec<Published>>)> {
    caller.require_admin()?;
    let p: TariffPublication = extract::json(req).await?;
    let body = OrderBody::PublishTariff {
        toml: p.toml,
        effective_from: p.effective_from,
        note: p.note,
    };
    check_body(&body)?;
    let mut client = st.pool.get().await?;
    let lots: Vec<String> = match p.lots {
        Some(ids) => {
            for id in &ids {
                if !lots::exists(&client, id).await? {
                    return Err(ApiError::lot_not_found(id));
                }
            }
            ids
        }
        None => client
            .query("SELECT lot_id FROM lots ORDER BY lot_id", &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect(),
    };
    let mut out = Vec::with_capacity(lots.len());
    for lot in lots {
        let order = insert(&mut client, &lot, &body).await?;
        out.push(Published { lot, order });
    }
    Ok((StatusCode::CREATED, Json(out)))
}

#[derive(Debug, Deserialize)]
pub struct PermitFilter {
    pub lot: Option<String>,
}

/// `GET /v1/permits`: permits issued through the server across lots (or one `lot`), each with
/// the lot's decision.
pub async fn permits(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<PermitFilter>,
) -> ApiResult<Json<Vec<OrderView>>> {
    caller.require_admin()?;
    let client = st.pool.get().await?;
    let stmt = client
        .prepare_cached(
            "SELECT lot_id, seq, created_at, body, status, reason, reservation, decided_seq, id \
             FROM orders WHERE body->>'kind' = 'issue_permit' AND ($1::text IS NULL OR lot_id = $1) \
             ORDER BY lot_id, seq",
        )
        .await?;
    let rows = client.query(&stmt, &[&q.lot]).await?;
    let views = rows
        .iter()
        .map(|r| view_of(r, r.get(8)))
        .collect::<ApiResult<Vec<_>>>()?;
    Ok(Json(views))
}

#[derive(Debug, Deserialize)]
pub struct After {
    pub after: Option<i64>,
}

fn body_of(v: serde_json::Value, id: &str) -> ApiResult<OrderBody> {
    serde_json::from_value(v)
        .map_err(|e| ApiError::unavailable("orders", &format!("order {id}: stored body: {e}")))
}

pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    Path(lot): Path<String>,
    Query(q): Query<After>,
) -> ApiResult<Json<Vec<Order>>> {
    caller.require_lot(&lot)?;
    let client = st.pool.get().await?;
    if !lots::exists(&client, &lot).await? {
        return Err(ApiError::lot_not_found(&lot));
    }
    let stmt = client
        .prepare_cached(
            "SELECT seq, id, created_at, body FROM orders WHERE lot_id = $1 AND seq > $2 \
             ORDER BY seq LIMIT $3",
        )
        .await?;
    let rows = client
        .query(&stmt, &[&lot, &q.after.unwrap_or(0), &PAGE])
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let id: String = r.get(1);
        out.push(Order {
            seq: r.get(0),
            created_at: rfc3339(r.get(2)),
            body: body_of(r.get(3), &id)?,
            id,
        });
    }
    Ok(Json(out))
}

pub async fn get(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<OrderView>> {
    caller.require_admin()?;
    let client = st.pool.get().await?;
    let stmt = client
        .prepare_cached(
            "SELECT lot_id, seq, created_at, body, status, reason, reservation, decided_seq \
             FROM orders WHERE id = $1",
        )
        .await?;
    let r = client
        .query_opt(&stmt, &[&id])
        .await?
        .ok_or_else(|| ApiError::not_found(format!("there is no order {id}")))?;
    Ok(Json(view_of(&r, id)?))
}

/// An order view from a row of (lot_id, seq, created_at, body, status, reason, reservation,
/// decided_seq).
fn view_of(r: &tokio_postgres::Row, id: String) -> ApiResult<OrderView> {
    Ok(OrderView {
        lot: r.get(0),
        seq: r.get(1),
        created_at: rfc3339(r.get(2)),
        body: body_of(r.get(3), &id)?,
        status: r.get(4),
        reason: r.get(5),
        reservation: r.get(6),
        decided_seq: r.get(7),
        id,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn permit(kind: &str) -> OrderBody {
        OrderBody::IssuePermit {
            permit: kind.into(),
            holder: "Ada".into(),
            plates: vec!["B-AB 123".into()],
            card: None,
            valid_from: "2026-12-01T00:00:00Z".into(),
            valid_to: "2027-01-01T00:00:00Z".into(),
            levels: vec![],
            max_inside: 1,
            passback: false,
        }
    }

    /// The server takes the permit kinds the lot knows, and names them when one is not.
    #[test]
    fn a_permit_order_of_a_kind_the_lot_does_not_sell_is_refused_naming_the_kinds() {
        assert!(check_body(&permit("monthly")).is_ok());
        assert!(check_body(&permit("VIP")).is_ok());
        let e = check_body(&permit("gold")).unwrap_err();
        assert!(
            e.refusal.message.contains("'gold'"),
            "{}",
            e.refusal.message
        );
        assert!(
            e.refusal.message.contains("monthly, yearly, staff or vip"),
            "{}",
            e.refusal.message
        );
    }
}
