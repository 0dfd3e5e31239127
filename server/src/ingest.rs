//! A lot pushes its journal: `POST /v1/lots/{lot}/journal` and `GET /v1/lots/{lot}/journal/head`.
//!
//! One transaction per batch with the lot's head row locked (SELECT … FOR UPDATE), so concurrent
//! pushes of one lot serialise. Rows the server holds must come back identical (a retry changes
//! nothing); new rows must continue the chain from the head. New rows go in with one multi-row
//! INSERT (unnest of arrays), and the head, the lot's running counts, its revenue per local day
//! and the orders its `order_applied` rows decide move in the same transaction.

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{self, Path};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use chrono::{DateTime, NaiveDate, Utc};
use gatehouse_sync::proto::{Head, JournalBatch, OrderResult, RefusalKind, WireEvent};
use rust_decimal::Decimal;
use std::collections::BTreeMap;
use std::str::FromStr;

/// The largest batch the server takes at once.
pub const MAX_BATCH: usize = 10_000;

pub async fn head(
    State(st): State<AppState>,
    caller: Caller,
    Path(lot): Path<String>,
) -> ApiResult<Json<Head>> {
    caller.require_lot(&lot)?;
    let client = st.pool.get().await?;
    let stmt = client
        .prepare_cached("SELECT seq, hash FROM heads WHERE lot_id = $1")
        .await?;
    let row = client
        .query_opt(&stmt, &[&lot])
        .await?
        .ok_or_else(|| ApiError::lot_not_found(&lot))?;
    let hash: Vec<u8> = row.get(1);
    Ok(Json(Head {
        seq: row.get(0),
        hash: hex::encode(hash),
    }))
}

/// A row that passed the checks that need no database.
struct Checked<'a> {
    ev: &'a WireEvent,
    hash: [u8; 32],
    at: DateTime<Utc>,
    effect: Effect,
}

enum Effect {
    None,
    Inside(i64),
    Alerts(i64),
    Payment(Decimal),
    Order(OrderResult),
}

fn check(events: &[WireEvent]) -> ApiResult<Vec<Checked<'_>>> {
    if events.len() > MAX_BATCH {
        return Err(ApiError::invalid(format!(
            "a batch holds at most {MAX_BATCH} rows, this one {}; send it in parts",
            events.len()
        )));
    }
    let first = events.first().map_or(1, |e| e.seq);
    let mut out = Vec::with_capacity(events.len());
    for (i, ev) in events.iter().enumerate() {
        let seq = ev.seq;
        if seq < 1 {
            return Err(ApiError::invalid(format!(
                "row {i} has seq {seq}; a journal's rows are numbered from 1"
            )));
        }
        if seq != first + i as i64 {
            return Err(ApiError::invalid(format!(
                "the rows must be consecutive: row {i} has seq {seq}, expected {}",
                first + i as i64
            )));
        }
        let hash = ev
            .hash_bytes()
            .ok_or_else(|| ApiError::invalid(format!("row {seq}: hash must be 64 hex digits")))?;
        let at = DateTime::parse_from_rfc3339(&ev.at)
            .map_err(|e| {
                ApiError::invalid(format!(
                    "row {seq}: at '{}' is not an RFC 3339 time: {e}",
                    ev.at
                ))
            })?
            .with_timezone(&Utc);
        let effect = effect(ev)?;
        out.push(Checked {
            ev,
            hash,
            at,
            effect,
        });
    }
    Ok(out)
}

/// What a row changes besides the journal, read from its kind and payload (which must be JSON).
fn effect(ev: &WireEvent) -> ApiResult<Effect> {
    let seq = ev.seq;
    let bad = |what: String| ApiError::invalid(format!("row {seq} ({}): {what}", ev.kind));
    Ok(match ev.kind.as_str() {
        "vehicle_entered" | "valet_keys_taken" => Effect::Inside(1),
        "vehicle_exited" | "entry_cancelled" | "stay_voided" | "valet_car_returned" => {
            Effect::Inside(-1)
        }
        "alert_raised" => Effect::Alerts(1),
        "alert_acknowledged" => Effect::Alerts(-1),
        "payment_recorded" => {
            #[derive(serde::Deserialize)]
            struct P {
                amount: String,
            }
            let p: P = serde_json::from_str(&ev.payload)
                .map_err(|e| bad(format!("payload has no amount: {e}")))?;
            let amount = Decimal::from_str(&p.amount)
                .map_err(|_| bad(format!("amount '{}' is not a decimal", p.amount)))?;
            Effect::Payment(amount)
        }
        "order_applied" => {
            let r: OrderResult = serde_json::from_str(&ev.payload)
                .map_err(|e| bad(format!("payload is not an order result: {e}")))?;
            if r.status != "accepted" && r.status != "refused" {
                return Err(bad(format!(
                    "status '{}' must be accepted or refused",
                    r.status
                )));
            }
            Effect::Order(r)
        }
        _ => {
            serde_json::from_str::<serde::de::IgnoredAny>(&ev.payload)
                .map_err(|e| bad(format!("payload is not JSON: {e}")))?;
            Effect::None
        }
    })
}

pub async fn push(
    State(st): State<AppState>,
    caller: Caller,
    Path(lot): Path<String>,
    req: Request,
) -> ApiResult<Json<Head>> {
    caller.require_lot(&lot)?;
    let batch: JournalBatch = extract::json(req).await?;
    let rows = check(&batch.events)?;
    let head = ingest(&st, &lot, &rows).await?;
    Ok(Json(head))
}

async fn ingest(st: &AppState, lot: &str, rows: &[Checked<'_>]) -> ApiResult<Head> {
    let mut client = st.pool.get().await?;
    let tx = client.transaction().await?;
    let stmt = tx
        .prepare_cached("SELECT seq, hash FROM heads WHERE lot_id = $1 FOR UPDATE")
        .await?;
    let row = tx
        .query_opt(&stmt, &[&lot])
        .await?
        .ok_or_else(|| ApiError::lot_not_found(lot))?;
    let head_seq: i64 = row.get(0);
    let head_hash: [u8; 32] = row.get::<_, Vec<u8>>(1).try_into().map_err(|_| {
        ApiError::unavailable("heads", &format!("lot {lot}: stored hash is not 32 bytes"))
    })?;
    let expected = head_seq + 1;
    let Some(first) = rows.first() else {
        return Ok(Head {
            seq: head_seq,
            hash: hex::encode(head_hash),
        });
    };
    if first.ev.seq > expected {
        return Err(ApiError::chain(
            RefusalKind::Gap,
            format!(
                "the batch starts at seq {} but the server holds lot '{lot}' up to {head_seq}: \
                 send from seq {expected} (GET .../journal/head)",
                first.ev.seq
            ),
            expected,
        ));
    }
    // Rows the server already holds must be identical.
    let split = rows.partition_point(|r| r.ev.seq <= head_seq);
    let (old, new) = rows.split_at(split);
    if let (Some(lo), Some(hi)) = (old.first(), old.last()) {
        let stmt = tx
            .prepare_cached(
                "SELECT seq, at, actor, role, kind, payload, hash FROM journal \
                 WHERE lot_id = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
            )
            .await?;
        let stored = tx.query(&stmt, &[&lot, &lo.ev.seq, &hi.ev.seq]).await?;
        for r in old {
            let held = stored
                .iter()
                .find(|s| s.get::<_, i64>(0) == r.ev.seq)
                .map(crate::journal::wire_event);
            if held.as_ref() != Some(r.ev) {
                return Err(ApiError::chain(
                    RefusalKind::BrokenLink,
                    format!(
                        "row {} differs from the row {} the server holds for lot '{lot}' \
                         (hash {}, held {}): the lot's journal was changed after it was sent",
                        r.ev.seq,
                        r.ev.seq,
                        r.ev.hash,
                        held.map_or_else(|| "nothing".to_string(), |h| h.hash)
                    ),
                    expected,
                ));
            }
        }
    }
    // New rows continue the chain from the head.
    let mut prev = head_hash;
    for r in new {
        if !r.ev.links_to(&prev) {
            return Err(ApiError::chain(
                RefusalKind::BrokenLink,
                format!(
                    "row {} does not link to the row before it (its hash is not \
                     sha256(previous hash || row)): the row was changed or is not the next \
                     one; the server holds lot '{lot}' up to {head_seq}",
                    r.ev.seq
                ),
                expected,
            ));
        }
        prev = r.hash;
    }
    let Some(last) = new.last() else {
        tx.commit().await?;
        return Ok(Head {
            seq: head_seq,
            hash: hex::encode(head_hash),
        });
    };
    insert_rows(&tx, lot, new).await?;
    let mut inside = 0i64;
    let mut alerts = 0i64;
    let mut payments = Vec::new();
    for r in new {
        match &r.effect {
            Effect::None => {}
            Effect::Inside(d) => inside += d,
            Effect::Alerts(d) => alerts += d,
            Effect::Payment(amount) => payments.push((r.at, *amount)),
            Effect::Order(result) => decide_order(&tx, lot, r.ev.seq, result).await?,
        }
    }
    if !payments.is_empty() {
        add_revenue(&tx, lot, &payments).await?;
    }
    let stmt = tx
        .prepare_cached(
            "UPDATE heads SET seq = $2, hash = $3, last_at = $4, last_received_at = now(), \
             inside = inside + $5, open_alerts = open_alerts + $6 WHERE lot_id = $1",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &lot,
            &last.ev.seq,
            &&last.hash[..],
            &last.at,
            &inside,
            &alerts,
        ],
    )
    .await?;
    tx.commit().await?;
    Ok(Head {
        seq: last.ev.seq,
        hash: last.ev.hash.clone(),
    })
}

async fn insert_rows(
    tx: &deadpool_postgres::Transaction<'_>,
    lot: &str,
    rows: &[Checked<'_>],
) -> ApiResult<()> {
    let seqs: Vec<i64> = rows.iter().map(|r| r.ev.seq).collect();
    let ats: Vec<&str> = rows.iter().map(|r| r.ev.at.as_str()).collect();
    let at_utc: Vec<DateTime<Utc>> = rows.iter().map(|r| r.at).collect();
    let actors: Vec<&str> = rows.iter().map(|r| r.ev.actor.as_str()).collect();
    let roles: Vec<&str> = rows.iter().map(|r| r.ev.role.as_str()).collect();
    let kinds: Vec<&str> = rows.iter().map(|r| r.ev.kind.as_str()).collect();
    let payloads: Vec<&str> = rows.iter().map(|r| r.ev.payload.as_str()).collect();
    let hashes: Vec<&[u8]> = rows.iter().map(|r| &r.hash[..]).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO journal (lot_id, seq, at, at_utc, actor, role, kind, payload, hash) \
             SELECT $1, * FROM unnest($2::int8[], $3::text[], $4::timestamptz[], $5::text[], \
             $6::text[], $7::text[], $8::text[], $9::bytea[]) \
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let n = tx
        .execute(
            &stmt,
            &[
                &lot, &seqs, &ats, &at_utc, &actors, &roles, &kinds, &payloads, &hashes,
            ],
        )
        .await?;
    if n != rows.len() as u64 {
        // The head said these seqs were new, yet some are stored: the tables disagree.
        return Err(ApiError::unavailable(
            "journal insert",
            &format!(
                "lot {lot}: {} of {} rows after the head were already stored",
                rows.len() as u64 - n,
                rows.len()
            ),
        ));
    }
    Ok(())
}

/// An `order_applied` row decides that lot's pending order (the first decision stands).
async fn decide_order(
    tx: &deadpool_postgres::Transaction<'_>,
    lot: &str,
    seq: i64,
    r: &OrderResult,
) -> ApiResult<()> {
    let stmt = tx
        .prepare_cached(
            "UPDATE orders SET status = $3, reason = $4, reservation = $5, decided_seq = $6 \
             WHERE lot_id = $1 AND id = $2 AND status = 'pending'",
        )
        .await?;
    tx.execute(
        &stmt,
        &[
            &lot,
            &r.order_id,
            &r.status,
            &r.reason,
            &r.reservation,
            &seq,
        ],
    )
    .await?;
    Ok(())
}

/// Adds payments to the lot's revenue per local day (in the lot's timezone).
async fn add_revenue(
    tx: &deadpool_postgres::Transaction<'_>,
    lot: &str,
    payments: &[(DateTime<Utc>, Decimal)],
) -> ApiResult<()> {
    let stmt = tx
        .prepare_cached("SELECT timezone FROM lots WHERE lot_id = $1")
        .await?;
    let tz_name: String = tx.query_one(&stmt, &[&lot]).await?.get(0);
    let tz: chrono_tz::Tz = tz_name.parse().unwrap_or(chrono_tz::UTC);
    let mut days: BTreeMap<NaiveDate, (Decimal, i64)> = BTreeMap::new();
    for (at, amount) in payments {
        let d = days
            .entry(at.with_timezone(&tz).date_naive())
            .or_insert((Decimal::ZERO, 0));
        d.0 += *amount;
        d.1 += 1;
    }
    let dates: Vec<NaiveDate> = days.keys().copied().collect();
    let sums: Vec<String> = days.values().map(|(s, _)| s.to_string()).collect();
    let counts: Vec<i64> = days.values().map(|(_, n)| *n).collect();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO lot_days (lot_id, day, revenue, payments) \
             SELECT $1, d, r::numeric, n FROM unnest($2::date[], $3::text[], $4::int8[]) AS u(d, r, n) \
             ON CONFLICT (lot_id, day) DO UPDATE SET revenue = lot_days.revenue + EXCLUDED.revenue, \
             payments = lot_days.payments + EXCLUDED.payments",
        )
        .await?;
    tx.execute(&stmt, &[&lot, &dates, &sums, &counts]).await?;
    Ok(())
}
