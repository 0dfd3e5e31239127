//! The lot's sync client: pushes the journal up from the server's acknowledged seq, in batches,
//! and applies the server's orders through the engine, each exactly once. The lot never waits for
//! it: a lot with no server, or a server that is down, keeps running, and the client catches up in
//! order when it comes back (backing off between tries).

use crate::proto::{Head, JournalBatch, Order, OrderBody, Refusal, RefusalKind, WireEvent};
use chrono::{DateTime, Utc};
use gatehouse_core::command as req;
use gatehouse_core::permits::{PermitKind, PermitRequest};
use gatehouse_core::reservations::ReservationRequest;
use gatehouse_core::tariffs::TariffRequest;
use gatehouse_core::watchlist::WatchAction;
use gatehouse_core::{Actor, Command, Engine, Lot, Plate};
use serde::Serialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Journal rows per batch.
pub const BATCH: usize = 500;

/// Why a sync step failed, with what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyncError {
    pub kind: SyncErrorKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncErrorKind {
    /// The client is set up wrong (URL, token, certificate): fix it, retrying will not help.
    Config,
    /// The server could not be reached or answered with an error; retrying later is safe.
    Unreachable,
    /// The server refused what the lot sent (a broken chain): a person must look.
    Refused,
    /// The lot's own database.
    Lot,
}

impl SyncError {
    fn new(kind: SyncErrorKind, message: impl Into<String>) -> SyncError {
        SyncError {
            kind,
            message: message.into(),
        }
    }
}

impl From<gatehouse_core::Error> for SyncError {
    fn from(e: gatehouse_core::Error) -> SyncError {
        SyncError::new(SyncErrorKind::Lot, format!("the lot: {}", e.message))
    }
}

/// Where the server is and how this lot proves who it is.
#[derive(Debug, Clone)]
pub struct SyncSettings {
    /// `https://host:port` (or `http://` on a trusted network).
    pub server: String,
    /// The lot's id on the server.
    pub lot: String,
    /// The lot's token (as the server's admin issued it).
    pub token: String,
    /// A PEM certificate to trust besides the system's (a private CA or a self-signed server).
    pub ca_cert: Option<PathBuf>,
}

/// What one round of sync did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SyncReport {
    /// The server's acknowledged seq before and after.
    pub acked_before: i64,
    pub acked: i64,
    pub events_pushed: usize,
    pub batches: usize,
    pub orders_accepted: usize,
    pub orders_refused: usize,
}

/// The lot's sync state, as the console and `gatehouse sync status` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyncStatus {
    pub server: String,
    pub connected: bool,
    /// Why not, when not.
    pub error: Option<String>,
    pub local_seq: i64,
    pub acked_seq: Option<i64>,
    /// Journal rows not yet acknowledged by the server.
    pub backlog: Option<i64>,
    pub last_order_applied: i64,
}

pub struct SyncClient {
    http: reqwest::Client,
    settings: SyncSettings,
}

impl SyncClient {
    pub fn new(settings: SyncSettings) -> Result<SyncClient, SyncError> {
        let base = settings.server.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) {
            return Err(SyncError::new(
                SyncErrorKind::Config,
                format!(
                    "sync server '{}' is not a URL; give https://host:port",
                    settings.server
                ),
            ));
        }
        if settings.token.trim().is_empty() {
            return Err(SyncError::new(
                SyncErrorKind::Config,
                "no sync token: give the lot's token (GATEHOUSE_SYNC_TOKEN or --token-file)",
            ));
        }
        let mut http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60));
        if let Some(path) = &settings.ca_cert {
            let pem = std::fs::read(path).map_err(|e| {
                SyncError::new(
                    SyncErrorKind::Config,
                    format!("cannot read the certificate {}: {e}", path.display()),
                )
            })?;
            let cert = reqwest::Certificate::from_pem(&pem).map_err(|e| {
                SyncError::new(
                    SyncErrorKind::Config,
                    format!("{} is not a PEM certificate: {e}", path.display()),
                )
            })?;
            http = http.add_root_certificate(cert);
        }
        let http = http.build().map_err(|e| {
            SyncError::new(SyncErrorKind::Config, format!("cannot set up HTTP: {e}"))
        })?;
        Ok(SyncClient {
            http,
            settings: SyncSettings {
                server: base.to_string(),
                ..settings
            },
        })
    }

    fn url(&self, rest: &str) -> String {
        format!(
            "{}/v1/lots/{}/{rest}",
            self.settings.server, self.settings.lot
        )
    }

    /// The server's acknowledged end of this lot's journal.
    pub async fn head(&self) -> Result<Head, SyncError> {
        let r = self
            .http
            .get(self.url("journal/head"))
            .bearer_auth(&self.settings.token)
            .send()
            .await
            .map_err(unreachable)?;
        answer(r).await
    }

    /// Pushes every journal row after the server's head, in batches; returns the new head.
    pub async fn push(&self, lot_path: &Path, report: &mut SyncReport) -> Result<Head, SyncError> {
        let mut head = self.head().await?;
        report.acked_before = head.seq;
        loop {
            let rows = Lot::open(lot_path)?.journal(head.seq + 1, BATCH)?;
            if rows.is_empty() {
                report.acked = head.seq;
                return Ok(head);
            }
            let batch = JournalBatch {
                events: rows.iter().map(WireEvent::from_record).collect(),
            };
            let body = gzip(&batch)?;
            let r = self
                .http
                .post(self.url("journal"))
                .bearer_auth(&self.settings.token)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::CONTENT_ENCODING, "gzip")
                .body(body)
                .send()
                .await
                .map_err(unreachable)?;
            let next: Head = answer(r).await?;
            if next.seq <= head.seq {
                return Err(SyncError::new(
                    SyncErrorKind::Refused,
                    format!(
                        "the server acknowledged seq {} after a batch from {}; it is not taking rows",
                        next.seq,
                        head.seq + 1
                    ),
                ));
            }
            report.events_pushed += (next.seq - head.seq) as usize;
            report.batches += 1;
            head = next;
        }
    }

    /// Applies the server's new orders through the engine, in order, each exactly once.
    pub async fn apply_orders(
        &self,
        engine: &Engine,
        lot_path: &Path,
        at: impl Fn() -> DateTime<Utc>,
        report: &mut SyncReport,
    ) -> Result<(), SyncError> {
        let actor = Actor::system("sync");
        loop {
            let after = {
                let lot = Lot::open(lot_path)?;
                gatehouse_core::orders::last_applied(lot.connection())?
            };
            let r = self
                .http
                .get(self.url(&format!("orders?after={after}")))
                .bearer_auth(&self.settings.token)
                .send()
                .await
                .map_err(unreachable)?;
            let orders: Vec<Order> = answer(r).await?;
            if orders.is_empty() {
                return Ok(());
            }
            for o in orders {
                let order = command_of(&o, lot_path)?;
                let apply = req::ApplyOrder {
                    seq: o.seq,
                    id: o.id.clone(),
                    order,
                };
                let d = engine.call(&actor, at(), apply).await?;
                if !d.replayed {
                    if d.status == "accepted" {
                        report.orders_accepted += 1;
                    } else {
                        report.orders_refused += 1;
                    }
                }
            }
        }
    }

    /// One round: push the journal, apply new orders, push their decisions.
    pub async fn sync_once(
        &self,
        engine: &Engine,
        lot_path: &Path,
        at: impl Fn() -> DateTime<Utc>,
    ) -> Result<SyncReport, SyncError> {
        let mut report = SyncReport::default();
        self.push(lot_path, &mut report).await?;
        self.apply_orders(engine, lot_path, at, &mut report).await?;
        let before = report.acked_before;
        self.push(lot_path, &mut report).await?;
        report.acked_before = before;
        Ok(report)
    }

    /// Syncs every `every` until `stop` resolves, backing off (up to a minute) while the server
    /// cannot be reached. Each round's result goes to `on_round`.
    pub async fn run(
        &self,
        engine: &Engine,
        lot_path: &Path,
        at: impl Fn() -> DateTime<Utc>,
        every: Duration,
        on_round: impl Fn(&Result<SyncReport, SyncError>),
        stop: impl std::future::Future<Output = ()>,
    ) {
        tokio::pin!(stop);
        let mut wait = every;
        loop {
            let round = self.sync_once(engine, lot_path, &at).await;
            wait = match &round {
                Ok(_) => every,
                Err(_) => (wait * 2).clamp(every, Duration::from_secs(60)),
            };
            on_round(&round);
            tokio::select! {
                _ = &mut stop => return,
                _ = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// The lot's sync state; asks the server for its head (not connected when it cannot).
    pub async fn status(&self, lot_path: &Path) -> Result<SyncStatus, SyncError> {
        let lot = Lot::open(lot_path)?;
        let local_seq = gatehouse_core::journal::Head::load(lot.connection())?.seq;
        let last_order_applied = gatehouse_core::orders::last_applied(lot.connection())?;
        let (connected, error, acked) = match self.head().await {
            Ok(h) => (true, None, Some(h.seq)),
            Err(e) => (false, Some(e.message), None),
        };
        Ok(SyncStatus {
            server: self.settings.server.clone(),
            connected,
            error,
            local_seq,
            acked_seq: acked,
            backlog: acked.map(|a| local_seq - a),
            last_order_applied,
        })
    }
}

/// The engine command for an order, or why the order cannot be one (it is then refused).
fn command_of(o: &Order, lot_path: &Path) -> Result<Result<Box<Command>, String>, SyncError> {
    let time = |what: &str, s: &str| {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| format!("the order's {what} '{s}' is not an RFC 3339 time"))
    };
    Ok(match &o.body {
        OrderBody::Reserve {
            plate,
            class,
            ev,
            accessible,
            start,
            end,
            holder,
        } => (|| {
            let plate = match plate {
                Some(p) => Some(Plate::parse(p).map_err(|e| e.message)?),
                None => None,
            };
            Ok(Box::new(Command::Reserve(ReservationRequest {
                plate,
                class: *class,
                ev: *ev,
                accessible: *accessible,
                spot: None,
                start: time("start", start)?,
                end: time("end", end)?,
                holder: holder.clone(),
            })))
        })(),
        OrderBody::CancelReservation { order } => {
            let lot = Lot::open(lot_path)?;
            match gatehouse_core::orders::reservation_of(lot.connection(), order)? {
                Some(code) => Ok(Box::new(Command::CancelReservation(
                    req::CancelReservation { code },
                ))),
                None => Err(format!(
                    "order {order} made no reservation at this lot, so there is nothing to cancel"
                )),
            }
        }
        OrderBody::IssuePermit {
            permit,
            holder,
            plates,
            card,
            valid_from,
            valid_to,
            levels,
            max_inside,
            passback,
        } => (|| {
            let plates = plates
                .iter()
                .map(|p| Plate::parse(p).map_err(|e| e.message))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Box::new(Command::IssuePermit(PermitRequest {
                kind: PermitKind::parse(permit).map_err(|e| e.message)?,
                holder: holder.clone(),
                plates,
                card: card.clone(),
                valid_from: time("valid_from", valid_from)?,
                valid_to: time("valid_to", valid_to)?,
                levels: levels.clone(),
                hours: None,
                max_inside: *max_inside,
                passback: *passback,
            })))
        })(),
        OrderBody::RevokePermit { order, reason } => {
            let lot = Lot::open(lot_path)?;
            match gatehouse_core::orders::permit_of(lot.connection(), order)? {
                Some(permit) => Ok(Box::new(Command::RevokePermit(req::RevokePermit {
                    permit,
                    reason: reason.clone(),
                }))),
                None => Err(format!(
                    "order {order} issued no permit at this lot, so there is nothing to revoke"
                )),
            }
        }
        OrderBody::PublishTariff {
            toml,
            effective_from,
            note,
        } => (|| {
            let effective_from = match effective_from {
                Some(t) => Some(time("effective_from", t)?),
                None => None,
            };
            Ok(Box::new(Command::PublishTariff(TariffRequest {
                toml: toml.clone(),
                effective_from,
                note: note.clone(),
            })))
        })(),
        OrderBody::Watch {
            plate,
            action,
            note,
        } => (|| {
            let action = match action {
                Some(a) => Some(WatchAction::parse(a).map_err(|e| e.message)?),
                None => None,
            };
            Ok(Box::new(Command::Watch(req::Watch {
                plate: Plate::parse(plate).map_err(|e| e.message)?,
                action,
                note: note.clone(),
            })))
        })(),
    })
}

fn gzip(batch: &JournalBatch) -> Result<Vec<u8>, SyncError> {
    let json = serde_json::to_vec(batch)
        .map_err(|e| SyncError::new(SyncErrorKind::Lot, format!("cannot encode a batch: {e}")))?;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(&json)
        .and_then(|_| enc.finish())
        .map_err(|e| SyncError::new(SyncErrorKind::Lot, format!("cannot compress a batch: {e}")))
}

fn unreachable(e: reqwest::Error) -> SyncError {
    SyncError::new(
        SyncErrorKind::Unreachable,
        format!("the sync server cannot be reached: {e}; the lot keeps running and retries"),
    )
}

/// The body of a good answer, or the server's refusal as an error.
async fn answer<T: serde::de::DeserializeOwned>(r: reqwest::Response) -> Result<T, SyncError> {
    let status = r.status();
    let bytes = r.bytes().await.map_err(unreachable)?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| {
            SyncError::new(
                SyncErrorKind::Unreachable,
                format!("the sync server answered something unreadable: {e}"),
            )
        });
    }
    let (kind, message) = match serde_json::from_slice::<Refusal>(&bytes) {
        Ok(r) => {
            let kind = match r.kind {
                RefusalKind::Unauthorized | RefusalKind::Forbidden | RefusalKind::NotFound => {
                    SyncErrorKind::Config
                }
                RefusalKind::Unavailable => SyncErrorKind::Unreachable,
                RefusalKind::Gap | RefusalKind::BrokenLink | RefusalKind::Invalid => {
                    SyncErrorKind::Refused
                }
            };
            (kind, r.message)
        }
        Err(_) => (
            SyncErrorKind::Unreachable,
            String::from_utf8_lossy(&bytes).chars().take(200).collect(),
        ),
    };
    Err(SyncError::new(
        kind,
        format!("the sync server refused ({status}): {message}"),
    ))
}
