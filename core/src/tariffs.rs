//! Tariff versions: a tariff published after set-up takes effect at a set time. A stay pays the
//! tariff in force when it entered, so a price change never reprices a car already inside.

use crate::config::LotConfig;
use crate::engine::Job;
use crate::error::{Error, Result};
use crate::events::Event;
use crate::store::{parse_ts, ts};
use crate::tariff::Tariff;
use crate::tx::{Applied, Handle, Tx, recorded};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, params};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

/// A tariff to publish: a `[tariff]` table as in the lot config, and when it takes effect.
#[derive(Debug, Clone, PartialEq)]
pub struct TariffRequest {
    pub toml: String,
    /// None: at once.
    pub effective_from: Option<DateTime<Utc>>,
    pub note: String,
}

/// A published tariff version as listed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TariffVersionView {
    pub version: i64,
    pub effective_from: DateTime<Utc>,
    pub sha256: String,
    pub note: String,
    pub published_by: String,
    pub published_at: DateTime<Utc>,
    pub toml: String,
}

/// A published version in force from its start: (effective from, version id, tariff).
type InForce = (DateTime<Utc>, i64, Arc<Tariff>);

/// The tariffs in force over time: the lot config's, then each published version from its
/// start. Shared by the writer and the engine handle, so a publication is seen by both.
#[derive(Debug)]
pub struct TariffVersions {
    base: Arc<Tariff>,
    /// Ordered by start, then version id.
    published: RwLock<Vec<InForce>>,
}

impl TariffVersions {
    /// The lot config's tariff and the versions published in this database.
    pub(crate) fn load(conn: &Connection, config: &LotConfig, db_name: &str) -> Result<Self> {
        let versions = TariffVersions {
            base: Arc::new(config.tariff.clone()),
            published: RwLock::new(vec![]),
        };
        // A database opened read-only before its first writer migrated it has no versions yet.
        let has_table: bool = conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tariff_versions')",
            [],
            |r| r.get(0),
        )?;
        if !has_table {
            return Ok(versions);
        }
        let mut stmt =
            conn.prepare("SELECT id, effective_from, toml FROM tariff_versions ORDER BY id")?;
        let rows: Vec<(i64, String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?;
        for (id, from, text) in rows {
            let tariff =
                config.parse_tariff(&format!("{db_name} (stored tariff version {id})"), &text)?;
            versions.add(parse_ts(&from)?, id, tariff);
        }
        Ok(versions)
    }

    /// Puts a committed publication in force (the writer calls this after the commit).
    pub(crate) fn add(&self, from: DateTime<Utc>, id: i64, tariff: Tariff) {
        let mut p = self.published.write().unwrap_or_else(|e| e.into_inner());
        p.push((from, id, Arc::new(tariff)));
        p.sort_by_key(|(from, id, _)| (*from, *id));
    }

    /// The tariff in force at `t`: the latest version started at or before it (the later
    /// publication on a tie), else the lot config's.
    pub fn at(&self, t: DateTime<Utc>) -> Arc<Tariff> {
        let p = self.published.read().unwrap_or_else(|e| e.into_inner());
        p.iter()
            .rev()
            .find(|(from, ..)| *from <= t)
            .map_or_else(|| self.base.clone(), |(.., tariff)| tariff.clone())
    }
}

impl Tx<'_> {
    pub(crate) fn publish_tariff(&mut self, job: &Job, req: &TariffRequest) -> Result<Applied> {
        let from = req.effective_from.unwrap_or(job.at);
        if from < job.at {
            return Err(Error::invalid(format!(
                "a tariff cannot take effect in the past ({}); give a time from now on",
                self.ctx.local(from)
            )));
        }
        let tariff = self
            .ctx
            .config
            .parse_tariff("the published tariff", &req.toml)?;
        let sha = hex::encode(Sha256::digest(req.toml.as_bytes()));
        self.conn
            .prepare_cached(
                "INSERT INTO tariff_versions (effective_from, toml, sha256, note, published_by, published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                ts(from),
                req.toml,
                sha,
                req.note.trim(),
                job.actor.name,
                ts(job.at)
            ])?;
        let id = self.conn.last_insert_rowid();
        let bands = tariff.bands.len();
        // Takes effect in the shared context after the commit (see Effect::Tariff).
        Ok(Applied::new(
            recorded(
                "tariff published",
                Some(id),
                format!(
                    "tariff version {id} ({bands} bands) takes effect {}; stays that entered before keep their tariff",
                    self.ctx.local(from)
                ),
            ),
            vec![Event::TariffPublished {
                version: id,
                effective_from: ts(from),
                sha256: sha,
                toml: req.toml.clone(),
                note: req.note.trim().to_string(),
            }],
            vec![crate::tx::Effect::Tariff(from, id, Box::new(tariff))],
        ))
    }
}

/// Every published version, newest first.
pub fn list(conn: &Connection) -> Result<Vec<TariffVersionView>> {
    let mut stmt = conn.prepare(
        "SELECT id, effective_from, sha256, note, published_by, published_at, toml FROM tariff_versions ORDER BY id DESC",
    )?;
    let rows: Vec<(i64, String, String, String, String, String, String)> = stmt
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(version, from, sha256, note, by, at, toml)| {
            Ok(TariffVersionView {
                version,
                effective_from: parse_ts(&from)?,
                sha256,
                note,
                published_by: by,
                published_at: parse_ts(&at)?,
                toml,
            })
        })
        .collect()
}

impl Handle for crate::tariffs::TariffRequest {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        tx.publish_tariff(job, self)
    }
}
