//! The journal: append-only, a monotonic sequence, the acting user and a hash chain.

use crate::domain::Actor;
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::store::{self, ts};
use chrono::{DateTime, Utc};
use rusqlite::Connection;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::HashMap;

pub const GENESIS: [u8; 32] = [0; 32];

/// One journal row as stored and broadcast.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalRecord {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub role: String,
    pub kind: String,
    /// The event as canonical JSON text (exactly the hashed bytes).
    pub payload: String,
    #[serde(serialize_with = "ser_hex")]
    pub hash: [u8; 32],
}

fn ser_hex<S: serde::Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&hex::encode(h))
}

/// The hash of a row: sha256(previous hash || canonical bytes).
pub fn link_hash(
    prev: &[u8; 32],
    seq: i64,
    at: &str,
    actor: &str,
    role: &str,
    kind: &str,
    payload: &str,
) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(format!("{seq}\n{at}\n{actor}\n{role}\n{kind}\n").as_bytes());
    h.update(payload.as_bytes());
    h.finalize().into()
}

/// The writer's view of the journal's end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub seq: i64,
    pub hash: [u8; 32],
}

impl Head {
    pub fn load(conn: &Connection) -> Result<Head> {
        let row: Option<(i64, Vec<u8>)> = rusqlite::OptionalExtension::optional(conn.query_row(
            "SELECT seq, hash FROM journal ORDER BY seq DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        ))?;
        Ok(match row {
            None => Head {
                seq: 0,
                hash: GENESIS,
            },
            Some((seq, h)) => Head {
                seq,
                hash: h.try_into().map_err(|_| {
                    Error::new(
                        ErrorKind::Journal,
                        format!("journal row {seq} has a malformed hash"),
                    )
                })?,
            },
        })
    }

    /// Appends one event after this head and advances it.
    pub fn append(
        &mut self,
        conn: &Connection,
        at: DateTime<Utc>,
        actor: &Actor,
        event: &Event,
    ) -> Result<JournalRecord> {
        let payload = serde_json::to_string(event)
            .map_err(|e| Error::storage(format!("cannot encode a journal event: {e}")))?;
        self.append_payload(conn, at, actor, event.kind(), payload)
    }

    /// Appends one event already encoded (for example sealed by `personal::seal`).
    pub fn append_payload(
        &mut self,
        conn: &Connection,
        at: DateTime<Utc>,
        actor: &Actor,
        kind: &str,
        payload: String,
    ) -> Result<JournalRecord> {
        let seq = self.seq + 1;
        let at = ts(at);
        let role = actor.role.as_str();
        let hash = link_hash(&self.hash, seq, &at, &actor.name, role, kind, &payload);
        conn.prepare_cached(
            "INSERT INTO journal (seq, at, actor, role, kind, payload, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        )?
        .execute(rusqlite::params![seq, at, actor.name, role, kind, payload, &hash[..]])?;
        self.seq = seq;
        self.hash = hash;
        Ok(JournalRecord {
            seq,
            at,
            actor: actor.name.clone(),
            role: role.to_string(),
            kind: kind.to_string(),
            payload,
            hash,
        })
    }

    /// Records the head in meta, so that a deleted last row is noticed too.
    pub fn store(&self, conn: &Connection) -> Result<()> {
        store::set_meta(
            conn,
            "journal_head",
            &format!("{}:{}", self.seq, hex::encode(self.hash)),
        )
    }
}

/// The first broken link of a journal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrokenLink {
    pub seq: i64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditReport {
    pub ok: bool,
    pub rows: i64,
    pub head_hash: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken: Option<BrokenLink>,
}

/// Walks the whole journal and names the first broken link: an edited row (its hash no longer
/// matches), a deleted row (a gap in the sequence), or a deleted tail (the recorded head is
/// missing).
pub fn verify(conn: &Connection) -> Result<AuditReport> {
    let mut stmt =
        conn.prepare("SELECT seq, at, actor, role, kind, payload, hash FROM journal ORDER BY seq")?;
    let mut rows = stmt.query([])?;
    let mut prev = GENESIS;
    let mut expected = 1i64;
    let mut count = 0i64;
    let broken = |seq: i64, reason: String, rows: i64, prev: &[u8; 32]| AuditReport {
        ok: false,
        rows,
        head_hash: hex::encode(prev),
        first_broken: Some(BrokenLink { seq, reason }),
    };
    // Payments and refunds as the journal tells them: payment id → (seq, kind, stay, amount).
    let mut money: HashMap<i64, (i64, &'static str, i64, String)> = HashMap::new();
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        let at: String = r.get(1)?;
        let actor: String = r.get(2)?;
        let role: String = r.get(3)?;
        let kind: String = r.get(4)?;
        let payload: String = r.get(5)?;
        let hash: Vec<u8> = r.get(6)?;
        if seq != expected {
            let reason = if seq > expected {
                format!("rows {expected}..{} are missing (deleted)", seq - 1)
            } else {
                format!("sequence goes back to {seq} after {}", expected - 1)
            };
            return Ok(broken(expected, reason, count, &prev));
        }
        let want = link_hash(&prev, seq, &at, &actor, &role, &kind, &payload);
        if hash[..] != want[..] {
            return Ok(broken(
                seq,
                format!("row {seq} ({kind} at {at}) does not match its hash: it was edited"),
                count,
                &prev,
            ));
        }
        if let Some(kind) = match kind.as_str() {
            "payment_recorded" => Some("payment"),
            "payment_refunded" => Some("refund"),
            _ => None,
        } {
            let v: serde_json::Value = serde_json::from_str(&payload).unwrap_or_default();
            if let (Some(id), Some(stay), Some(amount)) = (
                v["payment"].as_i64(),
                v["stay"].as_i64(),
                v["amount"].as_str(),
            ) {
                money.insert(id, (seq, kind, stay, amount.to_string()));
            }
        }
        prev = want;
        expected += 1;
        count += 1;
    }
    drop(rows);
    drop(stmt);
    let head = store::meta(conn, "journal_head")?;
    if head.is_none() && count > 0 {
        return Ok(broken(
            count,
            "the recorded journal head is missing from meta: it was deleted, so deleted rows at the end cannot be ruled out".into(),
            count,
            &prev,
        ));
    }
    if let Some(b) = check_payments(conn, &money)? {
        return Ok(AuditReport {
            ok: false,
            rows: count,
            head_hash: hex::encode(prev),
            first_broken: Some(b),
        });
    }
    if let Some(head) = head {
        let recorded = format!("{}:{}", count, hex::encode(prev));
        if head != recorded {
            let seq = head
                .split(':')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(count + 1);
            return Ok(broken(
                count + 1,
                format!(
                    "the journal ends at row {count} but row {seq} was recorded as its last: rows {}..{seq} were deleted (or the head was edited)",
                    count + 1
                ),
                count,
                &prev,
            ));
        }
    }
    Ok(AuditReport {
        ok: true,
        rows: count,
        head_hash: hex::encode(prev),
        first_broken: None,
    })
}

/// Every payments row must be the one the journal recorded, and every recorded one must be there.
fn check_payments(
    conn: &Connection,
    journal: &HashMap<i64, (i64, &'static str, i64, String)>,
) -> Result<Option<BrokenLink>> {
    let mut stmt = conn.prepare("SELECT id, kind, stay_id, amount FROM payments ORDER BY id")?;
    let mut rows = stmt.query([])?;
    let mut seen = 0usize;
    while let Some(r) = rows.next()? {
        let (id, kind, stay, amount): (i64, String, i64, String) =
            (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
        match journal.get(&id) {
            None => {
                return Ok(Some(BrokenLink {
                    seq: 0,
                    reason: format!(
                        "payments row {id} ({kind} {amount}) has no journal event: it was inserted outside the engine"
                    ),
                }));
            }
            Some((seq, jkind, jstay, jamount)) => {
                if *jkind != kind || *jstay != stay || *jamount != amount {
                    return Ok(Some(BrokenLink {
                        seq: *seq,
                        reason: format!(
                            "payments row {id} says {kind} {amount} for stay {stay} but journal row {seq} recorded {jkind} {jamount} for stay {jstay}: the payments table was edited"
                        ),
                    }));
                }
                seen += 1;
            }
        }
    }
    if seen != journal.len() {
        let missing = journal
            .iter()
            .filter(|(id, _)| {
                conn.query_row("SELECT 1 FROM payments WHERE id = ?1", [**id], |_| Ok(()))
                    .is_err()
            })
            .map(|(id, (seq, ..))| (*seq, *id))
            .min();
        if let Some((seq, id)) = missing {
            return Ok(Some(BrokenLink {
                seq,
                reason: format!(
                    "payment {id} recorded in journal row {seq} is missing from the payments table: it was deleted"
                ),
            }));
        }
    }
    Ok(None)
}

/// A journal payload in a line, as the console's feed shows it: its fields as `key value`, without the JSON punctuation, cut at
/// 240 characters (the lot's first record carries its whole configuration).
pub fn summary_line(payload: &str) -> String {
    const MOST: usize = 240;
    let line = fields(payload);
    if line.chars().count() <= MOST {
        return line;
    }
    let mut cut: String = line.chars().take(MOST).collect();
    cut.push('…');
    cut
}

fn fields(payload: &str) -> String {
    match serde_json::from_str::<serde_json::Value>(payload) {
        Ok(serde_json::Value::Object(m)) => m
            .iter()
            .filter(|(k, v)| *k != "kind" && !v.is_null())
            .map(|(k, v)| match v {
                serde_json::Value::String(s) => format!("{k} {s}"),
                other => format!("{k} {other}"),
            })
            .collect::<Vec<_>>()
            .join(" · "),
        _ => payload.to_string(),
    }
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    #[test]
    fn a_journal_payload_reads_as_a_line_of_fields() {
        let line =
            summary_line(r#"{"kind":"entered","plate":"ABC1234","spot":"P1-A-001","lane":null}"#);
        assert_eq!(line, "plate ABC1234 · spot P1-A-001");
    }

    #[test]
    fn a_huge_payload_is_cut_to_a_line() {
        let config = "x".repeat(20_000);
        let line = summary_line(&format!(
            r#"{{"kind":"lot_initialized","config":"{config}"}}"#
        ));
        assert_eq!(line.chars().count(), 241);
        assert!(line.ends_with('…'));
    }
}
