//! Reading the lot: quotes, ticket checks, occupancy, spots, the audit, backup and restore.
//! Reads use their own connection; only the engine writes.

use crate::allocation::SpotState;
use crate::domain::VehicleClass;
use crate::error::{Error, ErrorKind, Result};
use crate::journal::{self, AuditReport, JournalRecord};
use crate::stays::{LotContext, StayQuote, StayRef, find_inside, quote_stay, stay_of_ticket};
use crate::store::{self, ts};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::str::FromStr;
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

    /// The plates of the vehicles inside: the closed set an exit camera's read is matched against.
    pub fn plates_inside(&self) -> Result<Vec<String>> {
        crate::stays::plates_inside(&self.conn)
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

/// Money taken in a period, by method and by vehicle class (refunds subtracted).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Revenue {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
    pub currency: String,
    #[serde(with = "rust_decimal::serde::str")]
    pub total: Decimal,
    pub payments: usize,
    pub refunds: usize,
    pub by_method: BTreeMap<String, String>,
    pub by_class: BTreeMap<String, String>,
}

impl Lot {
    /// Revenue of payments recorded in `[from, to)`.
    pub fn revenue(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<Revenue> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT p.kind, p.method, p.amount, s.class FROM payments p JOIN stays s ON s.id = p.stay_id WHERE p.at >= ?1 AND p.at < ?2",
        )?;
        let mut by_method: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut by_class: BTreeMap<String, Decimal> = BTreeMap::new();
        let mut r = Revenue {
            from: Some(from),
            to: Some(to),
            currency: self.ctx.config.lot.currency.to_string(),
            ..Revenue::default()
        };
        for row in stmt.query_map(params![ts(from), ts(to)], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
            ))
        })? {
            let (kind, method, amount, class) = row?;
            let mut amount = Decimal::from_str(&amount).map_err(|_| {
                Error::storage(format!("the database holds a malformed amount '{amount}'"))
            })?;
            if kind == "refund" {
                amount = -amount;
                r.refunds += 1;
            } else {
                r.payments += 1;
            }
            r.total += amount;
            *by_method.entry(method).or_default() += amount;
            *by_class.entry(class).or_default() += amount;
        }
        r.by_method = by_method
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect();
        r.by_class = by_class
            .into_iter()
            .map(|(k, v)| (k, v.to_string()))
            .collect();
        Ok(r)
    }

    /// Journal rows from `from_seq` on, at most `limit`.
    pub fn journal(&self, from_seq: i64, limit: usize) -> Result<Vec<JournalRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, at, actor, role, kind, payload, hash FROM journal WHERE seq >= ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![from_seq, limit as i64], |r| {
            let hash: Vec<u8> = r.get(6)?;
            let mut h = [0u8; 32];
            if hash.len() == 32 {
                h.copy_from_slice(&hash);
            }
            Ok(JournalRecord {
                seq: r.get(0)?,
                at: r.get(1)?,
                actor: r.get(2)?,
                role: r.get(3)?,
                kind: r.get(4)?,
                payload: r.get(5)?,
                hash: h,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
    }

    /// A journal row's payload with the plates and names that are still known in clear; erased
    /// or expired ones stay tokens.
    pub fn reveal(&self, row: &JournalRecord) -> Result<String> {
        crate::personal::reveal(&self.conn, row.seq, &row.payload)
    }
}

/// How far restore moves the ticket serials on: more tickets than a lot issues between backups.
pub const RESTORE_SERIAL_GAP: i64 = 100_000;

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
            "{} exists; add --replace to overwrite it with the backup (stop every gatehouse using it first)",
            to.display()
        )));
    }
    // Restore into a new file next to the target, finish and check it there, then move it into
    // place: a failure half-way leaves the target as it was.
    let mut staging = to.as_os_str().to_owned();
    staging.push(".restoring");
    let staging = std::path::PathBuf::from(staging);
    remove_db_files(&staging);
    let result = (|| -> Result<()> {
        let mut target = Connection::open(&staging)?;
        target
            .restore(
                rusqlite::MAIN_DB,
                from,
                None::<fn(rusqlite::backup::Progress)>,
            )
            .map_err(|e| Error::storage(format!("restore from {} failed: {e}", from.display())))?;
        let mode: String = target.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Error::storage(format!(
                "{} cannot use write-ahead logging",
                to.display()
            )));
        }
        // Tickets printed after the backup was taken carry serials the restored lot has not
        // seen: move the serial sequence past them, so such a ticket is "not known" (a lost
        // ticket) and never matches another driver's new stay.
        target.execute_batch("BEGIN IMMEDIATE")?;
        target.execute("DELETE FROM sqlite_sequence WHERE name = 'stays'", [])?;
        target.execute(
            "INSERT INTO sqlite_sequence (name, seq) SELECT 'stays', coalesce(max(id), 0) + ?1 FROM stays",
            params![RESTORE_SERIAL_GAP],
        )?;
        target.execute_batch("COMMIT")?;
        target.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        drop(target);
        let check = store::open(&staging, false)?;
        if !journal::verify(&check)?.ok {
            return Err(Error::new(
                ErrorKind::Journal,
                "the restored copy does not verify",
            ));
        }
        Ok(())
    })();
    if let Err(e) = result {
        remove_db_files(&staging);
        return Err(e);
    }
    // The old database's WAL must not be replayed onto the restored file.
    for suffix in ["-wal", "-shm"] {
        let mut p = to.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(p));
    }
    std::fs::rename(&staging, to).map_err(|e| {
        Error::storage(format!(
            "cannot move the restored database into {}: {e}",
            to.display()
        ))
    })?;
    remove_db_files(&staging);
    Ok(BackupInfo {
        path: to.display().to_string(),
        bytes: std::fs::metadata(to).map(|m| m.len()).unwrap_or(0),
        journal_rows: report.rows,
    })
}

fn remove_db_files(path: &Path) {
    for suffix in ["", "-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(std::path::PathBuf::from(p));
    }
}
