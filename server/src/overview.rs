//! `GET /v1/overview?days=N` (admin): every lot at a glance, from the counts ingest keeps in the
//! same transaction as the rows (so it costs one row per lot and day, not a journal scan).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::Query;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Deserialize)]
pub struct Days {
    /// Revenue for this many local days, up to the day of the lot's last event (default 7).
    pub days: Option<i32>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Overview {
    pub lots: Vec<LotOverview>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct LotOverview {
    pub id: String,
    pub name: String,
    pub timezone: String,
    /// The server's head: every row up to here is held and verified.
    pub acked_seq: i64,
    /// `at` of the last row held (the lot's clock), RFC 3339.
    pub last_event_at: Option<String>,
    /// When the server last took new rows from the lot.
    pub last_received_at: Option<String>,
    /// vehicle_entered - vehicle_exited - entry_cancelled - stay_voided.
    pub inside: i64,
    /// alert_raised - alert_acknowledged.
    pub open_alerts: i64,
    /// payment_recorded amounts per local day (days with payments only), oldest first.
    pub revenue: Vec<DayRevenue>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct DayRevenue {
    pub day: NaiveDate,
    /// Exact decimal sum.
    pub amount: String,
    pub payments: i64,
}

fn rfc3339(t: Option<DateTime<Utc>>) -> Option<String> {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
}

pub async fn overview(
    State(st): State<AppState>,
    caller: Caller,
    Query(q): Query<Days>,
) -> ApiResult<Json<Overview>> {
    caller.require_admin()?;
    let days = q.days.unwrap_or(7);
    if !(1..=366).contains(&days) {
        return Err(ApiError::invalid(format!(
            "days {days} must be between 1 and 366"
        )));
    }
    let client = st.pool.get().await?;
    let stmt = client
        .prepare_cached(
            "SELECT l.lot_id, l.name, l.timezone, h.seq, h.last_at, h.last_received_at, \
             h.inside, h.open_alerts FROM lots l JOIN heads h USING (lot_id) ORDER BY l.lot_id",
        )
        .await?;
    let mut lots: Vec<LotOverview> = client
        .query(&stmt, &[])
        .await?
        .iter()
        .map(|r| LotOverview {
            id: r.get(0),
            name: r.get(1),
            timezone: r.get(2),
            acked_seq: r.get(3),
            last_event_at: rfc3339(r.get(4)),
            last_received_at: rfc3339(r.get(5)),
            inside: r.get(6),
            open_alerts: r.get(7),
            revenue: Vec::new(),
        })
        .collect();
    let stmt = client
        .prepare_cached(
            "SELECT d.lot_id, d.day, d.revenue::text, d.payments \
             FROM lot_days d JOIN heads h USING (lot_id) JOIN lots l USING (lot_id) \
             WHERE d.day > (h.last_at AT TIME ZONE l.timezone)::date - $1::int \
             ORDER BY d.lot_id, d.day",
        )
        .await?;
    for r in client.query(&stmt, &[&days]).await? {
        let lot: String = r.get(0);
        if let Some(l) = lots.iter_mut().find(|l| l.id == lot) {
            l.revenue.push(DayRevenue {
                day: r.get(1),
                amount: r.get(2),
                payments: r.get(3),
            });
        }
    }
    Ok(Json(Overview { lots }))
}
