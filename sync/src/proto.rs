//! The sync protocol between a lot and the shared server: JSON over HTTP(S), bodies gzip-compressed
//! (`Content-Encoding: gzip`), every lot endpoint authorised by that lot's bearer token.
//!
//! Up: `POST /v1/lots/{lot}/journal` with a [`JournalBatch`], the lot's journal rows in sequence
//! order. The server inserts them idempotently under (lot, seq): a row it already holds must be
//! identical (a retried or duplicated batch changes nothing); a new row must follow the last one
//! it holds (seq + 1, and its hash links to the previous row's). It answers with its [`Head`],
//! the acknowledged end, or refuses with a [`Refusal`] that says where the chain broke. The lot
//! resumes from `GET /v1/lots/{lot}/journal/head`.
//!
//! Down: `GET /v1/lots/{lot}/orders?after=N` lists the [`Order`]s created on the server for that
//! lot after order seq N. The lot applies each exactly once through its engine and journals the
//! result as an `order_applied` event, which travels up with the rest of its journal: that is how
//! the server learns the lot's decision ([`OrderResult`]).

use serde::{Deserialize, Serialize};

/// One journal row as it travels: exactly the lot's stored row (the hash covers it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireEvent {
    pub seq: i64,
    /// RFC 3339 UTC, as stored by the lot.
    pub at: String,
    pub actor: String,
    pub role: String,
    pub kind: String,
    /// The event as canonical JSON text (exactly the hashed bytes).
    pub payload: String,
    /// sha256(previous row's hash || row), hex.
    pub hash: String,
}

impl WireEvent {
    pub fn from_record(r: &gatehouse_core::journal::JournalRecord) -> WireEvent {
        WireEvent {
            seq: r.seq,
            at: r.at.clone(),
            actor: r.actor.clone(),
            role: r.role.clone(),
            kind: r.kind.clone(),
            payload: r.payload.clone(),
            hash: hex::encode(r.hash),
        }
    }

    /// Whether this row's hash links it to `prev` (the previous row's hash, all zeros before the
    /// first row).
    pub fn links_to(&self, prev: &[u8; 32]) -> bool {
        let h = gatehouse_core::journal::link_hash(
            prev,
            self.seq,
            &self.at,
            &self.actor,
            &self.role,
            &self.kind,
            &self.payload,
        );
        hex::encode(h) == self.hash
    }

    /// The row's hash as bytes, or None when it is not 64 hex digits.
    pub fn hash_bytes(&self) -> Option<[u8; 32]> {
        hex::decode(&self.hash).ok()?.try_into().ok()
    }
}

/// A batch of journal rows, in sequence order, consecutive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JournalBatch {
    pub events: Vec<WireEvent>,
}

/// The server's acknowledged end of a lot's journal: every row up to `seq` is held and verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    /// 0 before the first row.
    pub seq: i64,
    /// Hex; all zeros before the first row.
    pub hash: String,
}

/// Why the server refused a request: a kind a program can act on and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub kind: RefusalKind,
    pub message: String,
    /// For `gap` and `broken_link`: the seq the server expects next.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_seq: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// The batch starts after the server's head: rows are missing in between.
    Gap,
    /// A row's hash does not link to the row before it, or differs from the row the server holds.
    BrokenLink,
    /// No token, or a token that is not this lot's.
    Unauthorized,
    /// The token is valid but not allowed here (a lot's token on another lot or an admin route).
    Forbidden,
    NotFound,
    /// The request is malformed or a field is invalid; the message says which.
    Invalid,
    /// Something on the server failed (its database); retrying later is safe.
    Unavailable,
}

/// An order created on the server for one lot, applied by the lot exactly once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    /// Per lot, from 1, with no gaps.
    pub seq: i64,
    /// Unique across lots (for people and links).
    pub id: String,
    pub created_at: String,
    pub body: OrderBody,
}

/// What the server asks a lot to do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum OrderBody {
    /// Book a spot (an online reservation). The lot decides: it may refuse (no capacity).
    Reserve {
        plate: Option<String>,
        /// motorcycle | compact | standard | large | bus
        class: gatehouse_core::VehicleClass,
        #[serde(default)]
        ev: bool,
        #[serde(default)]
        accessible: bool,
        /// RFC 3339.
        start: String,
        end: String,
        holder: Option<String>,
    },
    /// Cancel the reservation an earlier order made (by that order's id).
    CancelReservation { order: String },
    /// Issue a permit (a season ticket, staff or VIP pass) for the lot.
    IssuePermit {
        /// monthly | yearly | staff | vip
        permit: String,
        holder: String,
        plates: Vec<String>,
        #[serde(default)]
        card: Option<String>,
        /// RFC 3339.
        valid_from: String,
        valid_to: String,
        /// Level ids it may park on; empty: every level.
        #[serde(default)]
        levels: Vec<String>,
        /// Vehicles of the permit inside at once.
        #[serde(default = "one")]
        max_inside: u32,
        /// Refuse an entry while `max_inside` of its vehicles are inside.
        #[serde(default)]
        passback: bool,
    },
    /// Revoke the permit an earlier order issued (by that order's id).
    RevokePermit { order: String, reason: String },
    /// Publish a tariff: a `[tariff]` table as in the lot config, in force from `effective_from`
    /// (RFC 3339; absent: at once). Stays pay the tariff in force when they entered.
    PublishTariff {
        toml: String,
        #[serde(default)]
        effective_from: Option<String>,
        #[serde(default)]
        note: String,
    },
    /// Put a plate on the watchlist (`refuse`: the gate stays shut; `alert`: admit and alert) or,
    /// with no action, take it off.
    Watch {
        plate: String,
        #[serde(default)]
        action: Option<String>,
        #[serde(default)]
        note: String,
    },
}

fn one() -> u32 {
    1
}

/// The lot's decision on an order, journaled by the lot as the `order_applied` event's payload
/// (with the order's `seq` and `id`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderResult {
    pub order_seq: i64,
    pub order_id: String,
    /// accepted | refused
    pub status: String,
    /// Why it was refused, in the lot's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// For an accepted reservation: its code at the lot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservation: Option<String>,
    /// For an accepted permit: its id at the lot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permit: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain() -> Vec<WireEvent> {
        let mut prev = [0u8; 32];
        (1..=3)
            .map(|seq| {
                let at = format!("2026-11-18T08:0{seq}:00Z");
                let payload = format!("{{\"kind\":\"test\",\"n\":{seq}}}");
                let h = gatehouse_core::journal::link_hash(
                    &prev, seq, &at, "lane-E1", "system", "test", &payload,
                );
                prev = h;
                WireEvent {
                    seq,
                    at,
                    actor: "lane-E1".into(),
                    role: "system".into(),
                    kind: "test".into(),
                    payload,
                    hash: hex::encode(h),
                }
            })
            .collect()
    }

    #[test]
    fn each_row_links_to_the_one_before_and_a_changed_payload_breaks_the_link() {
        let rows = chain();
        assert!(rows[0].links_to(&[0; 32]));
        let h0 = rows[0].hash_bytes();
        assert!(h0.is_some_and(|h| rows[1].links_to(&h)));
        let mut forged = rows[1].clone();
        forged.payload = forged.payload.replace('2', "9");
        assert!(h0.is_some_and(|h| !forged.links_to(&h)));
        // Skipping a row breaks the chain too.
        assert!(h0.is_some_and(|h| !rows[2].links_to(&h)));
    }

    #[test]
    fn an_order_reads_back_as_written() {
        let text = r#"{"seq":1,"id":"o-1","created_at":"2026-11-18T08:00:00Z",
            "body":{"kind":"reserve","plate":"GH4821","class":"standard","start":"2026-11-18T10:00:00Z",
            "end":"2026-11-18T12:00:00Z","holder":"web"}}"#;
        let o: Order = serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(o.body, OrderBody::Reserve { ev: false, .. }));
        let back: Order = serde_json::from_str(&serde_json::to_string(&o).unwrap_or_default())
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(back, o);
    }
}
