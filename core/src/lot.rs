//! Reading the lot: quotes, ticket checks, occupancy, spots, the audit, backup and restore.
//! Reads use their own connection; only the engine writes.

use crate::allocation::SpotState;
use crate::domain::VehicleClass;
use crate::error::{Error, ErrorKind, Result};
use crate::journal::{self, AuditReport};
use crate::stays::{LotContext, StayQuote, StayRef, find_inside, quote_stay, stay_of_ticket};
use crate::store::{self, ts};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

pub struct Lot {
    conn: Connection,
    ctx: Arc<LotContext>,
}

/// A ticket that verified.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketCheck {
    pub valid: bool,
    pub ticket: String,
    pub stay: i64,
    pub plate: Option<String>,
    pub entry_at: DateTime<Utc>,
    pub spot: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Count {
    pub capacity: usize,
    pub occupied: usize,
    pub free: usize,
    pub out_of_service: usize,
}

impl Count {
    fn add(&mut self, state: SpotState) {
        match state {
            SpotState::Free => {
                self.capacity += 1;
                self.free += 1;
            }
            SpotState::Occupied => {
                self.capacity += 1;
                self.occupied += 1;
            }
            SpotState::OutOfService => self.out_of_service += 1,
        }
    }
}

/// Occupancy at a moment, by level, zone and spot size, and vehicles inside by class.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occupancy {
    pub at: DateTime<Utc>,
    pub total: Count,
    pub by_level: BTreeMap<String, Count>,
    pub by_zone: BTreeMap<String, Count>,
    pub by_size: BTreeMap<String, Count>,
    pub vehicles_by_class: BTreeMap<String, usize>,
    /// Vehicles inside without a known spot (lost tickets charged the flat fee).
    pub without_spot: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SpotView {
    pub id: String,
    pub level: String,
    pub zone: String,
    pub size: VehicleClass,
    pub ev: bool,
    pub accessible: bool,
    pub in_service: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ticket: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plate: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BackupInfo {
    pub path: String,
    pub bytes: u64,
    pub journal_rows: i64,
}

impl Lot {
    pub fn open(path: &Path) -> Result<Lot> {
        let conn = store::open(path, false)?;
        let ctx = Arc::new(LotContext::load(&conn, &path.display().to_string())?);
        Ok(Lot { conn, ctx })
    }

    pub fn context(&self) -> &Arc<LotContext> {
        &self.ctx
    }

    pub fn connection(&self) -> &Connection {
        &self.conn
    }

    /// What a stay inside owes at `at`.
    pub fn quote(&self, r: &StayRef, at: DateTime<Utc>) -> Result<StayQuote> {
        let stay = find_inside(&self.conn, &self.ctx, r)?;
        Ok(quote_stay(&self.ctx, &stay, at))
    }

    /// Verifies a scanned QR payload: refuses forged, altered, other-lot and used tickets.
    pub fn verify_ticket(&self, payload: &str) -> Result<TicketCheck> {
        let t = payload.trim();
        if t.contains('-') {
            return Err(Error::invalid(
                "that is a ticket number, not a QR payload; verify the code scanned from the ticket",
            ));
        }
        let stay = stay_of_ticket(&self.conn, &self.ctx.signer, t)?;
        let stay = find_inside(&self.conn, &self.ctx, &StayRef::Ticket(stay.ticket()))?;
        Ok(TicketCheck {
            valid: true,
            ticket: stay.ticket(),
            stay: stay.id,
            plate: stay.plate,
            entry_at: stay.entry_at,
            spot: stay.spot,
        })
    }

    /// Occupancy at any moment (now, or a past time): which spots were held then.
    /// Spots out of service are counted as they are now.
    pub fn occupancy(&self, at: DateTime<Utc>) -> Result<Occupancy> {
        let at_s = ts(at);
        let mut held = HashSet::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT spot_id FROM stay_spots WHERE from_at <= ?1 AND (to_at IS NULL OR to_at > ?1)",
        )?;
        for s in stmt.query_map([&at_s], |r| r.get::<_, String>(0))? {
            held.insert(s?);
        }
        let mut vehicles_by_class = BTreeMap::new();
        let mut without_spot = 0;
        let mut stmt = self.conn.prepare_cached(
            "SELECT class, spot_id IS NULL FROM stays WHERE entry_at <= ?1 AND (exit_at IS NULL OR exit_at > ?1)",
        )?;
        for row in stmt.query_map([&at_s], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, bool>(1)?))
        })? {
            let (class, no_spot) = row?;
            *vehicles_by_class.entry(class).or_insert(0) += 1;
            if no_spot {
                without_spot += 1;
            }
        }
        let out = self.out_of_service()?;
        let mut o = Occupancy {
            at,
            total: Count::default(),
            by_level: BTreeMap::new(),
            by_zone: BTreeMap::new(),
            by_size: BTreeMap::new(),
            vehicles_by_class,
            without_spot,
        };
        for s in &self.ctx.config.spots {
            let state = if out.contains_key(&s.id) {
                SpotState::OutOfService
            } else if held.contains(&s.id) {
                SpotState::Occupied
            } else {
                SpotState::Free
            };
            o.total.add(state);
            o.by_level.entry(s.level.clone()).or_default().add(state);
            o.by_zone
                .entry(format!("{}/{}", s.level, s.zone))
                .or_default()
                .add(state);
            o.by_size
                .entry(s.size.as_str().to_string())
                .or_default()
                .add(state);
        }
        Ok(o)
    }

    fn out_of_service(&self) -> Result<HashMap<String, Option<String>>> {
        let mut out = HashMap::new();
        let mut stmt = self
            .conn
            .prepare_cached("SELECT id, service_note FROM spots WHERE in_service = 0")?;
        for r in stmt.query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
        })? {
            let (id, note) = r?;
            out.insert(id, note);
        }
        Ok(out)
    }

    /// Every spot with its state now.
    pub fn spots(&self) -> Result<Vec<SpotView>> {
        let out = self.out_of_service()?;
        let mut inside = HashMap::new();
        let mut stmt = self.conn.prepare_cached(
            "SELECT spot_id, id, plate FROM stays WHERE exit_at IS NULL AND spot_id IS NOT NULL",
        )?;
        for r in stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, Option<String>>(2)?,
            ))
        })? {
            let (spot, stay, plate) = r?;
            inside.insert(spot, (crate::ticket::ticket_number(stay as u32), plate));
        }
        Ok(self
            .ctx
            .config
            .spots
            .iter()
            .map(|s| {
                let occupant = inside.get(&s.id);
                SpotView {
                    id: s.id.clone(),
                    level: s.level.clone(),
                    zone: s.zone.clone(),
                    size: s.size,
                    ev: s.ev,
                    accessible: s.accessible,
                    in_service: !out.contains_key(&s.id),
                    note: out.get(&s.id).cloned().flatten(),
                    ticket: occupant.map(|o| o.0.clone()),
                    plate: occupant.and_then(|o| o.1.clone()),
                }
            })
            .collect())
    }

    /// Walks the journal's hash chain.
    pub fn audit(&self) -> Result<AuditReport> {
        journal::verify(&self.conn)
    }

    /// An online, consistent copy of the lot database (other processes may keep writing).
    pub fn backup(&self, to: &Path) -> Result<BackupInfo> {
        if to.exists() {
            return Err(Error::conflict(format!(
                "{} already exists; back up to a new file",
                to.display()
            )));
        }
        let target = to
            .to_str()
            .ok_or_else(|| Error::invalid("the backup path must be valid UTF-8"))?;
        self.conn
            .execute("VACUUM INTO ?1", params![target])
            .map_err(|e| Error::storage(format!("backup to {} failed: {e}", to.display())))?;
        let copy = store::open(to, false)?;
        let report = journal::verify(&copy)?;
        if !report.ok {
            return Err(Error::new(
                ErrorKind::Journal,
                "the backup's journal does not verify; keep the original",
            ));
        }
        Ok(BackupInfo {
            path: to.display().to_string(),
            bytes: std::fs::metadata(to).map(|m| m.len()).unwrap_or(0),
            journal_rows: report.rows,
        })
    }
}

/// Restores a lot database from a backup: the backup must be a lot database whose journal
/// verifies. An existing target is replaced only with `replace`.
pub fn restore(from: &Path, to: &Path, replace: bool) -> Result<BackupInfo> {
    let source = store::open(from, false)?;
    LotContext::load(&source, &from.display().to_string())?;
    let report = journal::verify(&source)?;
    if !report.ok {
        let b = report.first_broken.map(|b| b.reason).unwrap_or_default();
        return Err(Error::new(
            ErrorKind::Journal,
            format!(
                "{} is not a sound backup: its journal is broken ({b}); nothing was restored",
                from.display()
            ),
        ));
    }
    if to.exists() && !replace {
        return Err(Error::conflict(format!(
            "{} exists; add --replace to overwrite it with the backup",
            to.display()
        )));
    }
    let mut target = Connection::open(to)?;
    target.busy_timeout(std::time::Duration::from_secs(10))?;
    target
        .restore(
            rusqlite::MAIN_DB,
            from,
            None::<fn(rusqlite::backup::Progress)>,
        )
        .map_err(|e| Error::storage(format!("restore into {} failed: {e}", to.display())))?;
    let mode: String = target.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    debug_assert!(mode.eq_ignore_ascii_case("wal"));
    drop(target);
    Ok(BackupInfo {
        path: to.display().to_string(),
        bytes: std::fs::metadata(to).map(|m| m.len()).unwrap_or(0),
        journal_rows: report.rows,
    })
}
