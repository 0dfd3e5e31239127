//! Printing results: readable text, or one JSON object per result with --json.

use gatehouse_core::engine::Outcome;
use gatehouse_core::journal::{AuditReport, JournalRecord};
use gatehouse_core::lot::{BackupInfo, Occupancy, Revenue, SpotView, TicketCheck};
use gatehouse_core::reservations::ReservationView;
use gatehouse_core::{Error, ErrorKind, LotConfig, StayQuote};
use serde::Serialize;
use serde_json::{Value, json};
use std::path::Path;

pub struct Out {
    pub json: bool,
}

impl Out {
    pub fn print_json<T: Serialize>(&self, v: &T) {
        match serde_json::to_string(v) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("error: cannot encode the result as JSON: {e}"),
        }
    }

    pub fn error(&self, e: &Error) {
        if self.json {
            self.print_json(&json!({ "error": { "kind": e.kind, "message": e.message } }));
        } else {
            eprintln!("error ({}): {}", e.kind.as_str(), e.message);
        }
    }

    pub fn init(&self, db: &Path, cfg: &LotConfig) {
        if self.json {
            self.print_json(&json!({
                "db": db.display().to_string(), "lot": cfg.lot.id, "name": cfg.lot.name,
                "spots": cfg.spots.len(), "levels": cfg.levels.len(), "lanes": cfg.lanes.len(),
            }));
        } else {
            println!(
                "Created {} for {} ({}): {} spots on {} levels, {} lanes.",
                db.display(),
                cfg.lot.name,
                cfg.lot.id,
                cfg.spots.len(),
                cfg.levels.len(),
                cfg.lanes.len()
            );
        }
    }

    pub fn check(&self, path: &Path, cfg: &LotConfig) {
        if self.json {
            self.print_json(&json!({ "ok": true, "file": path.display().to_string(), "spots": cfg.spots.len() }));
        } else {
            println!(
                "{}: valid ({} spots, {} lanes, {} tariff bands).",
                path.display(),
                cfg.spots.len(),
                cfg.lanes.len(),
                cfg.tariff.bands.len()
            );
        }
    }

    pub fn outcome(&self, o: &Outcome) {
        if self.json {
            return self.print_json(o);
        }
        match o {
            Outcome::Entered(e) => {
                println!(
                    "Ticket {} · spot {} (level {}, zone {})",
                    e.ticket, e.spot, e.level, e.zone
                );
                println!(
                    "  plate {} · {} · lane {}",
                    e.plate.as_deref().unwrap_or("(none)"),
                    e.class,
                    e.lane
                );
                println!("  why: {}", e.reason);
                println!("  QR: {}", e.qr);
                for a in &e.alerts {
                    println!("  ALERT: {a}");
                }
            }
            Outcome::Exited(x) => println!(
                "Exit ticket {} through lane {} after {} min; fee {} {}, paid {} {}. Spot {} is free.",
                x.ticket,
                x.lane,
                x.minutes,
                x.fee,
                x.currency,
                x.paid,
                x.currency,
                x.spot.as_deref().unwrap_or("-")
            ),
            Outcome::Paid(p) => {
                let again = if p.replayed {
                    " (already recorded with this key: not charged again)"
                } else {
                    ""
                };
                println!(
                    "Paid {} {} by {} on ticket {}{again}",
                    p.amount,
                    p.currency,
                    p.method.as_str(),
                    p.ticket
                );
                if p.change != "0" && p.change != "0.00" {
                    println!("  change: {} {}", p.change, p.currency);
                }
                println!("  still owed: {} {}", p.due, p.currency);
                if let Some(g) = p.grace_until {
                    println!("  leave before {g} (exit grace)");
                }
                println!("  key: {}", p.key);
                for w in &p.warnings {
                    println!("  WARNING: {w}");
                }
            }
            Outcome::Refunded(r) => println!(
                "Refunded {} {} by {} on ticket {}; paid in all now {} {}",
                r.amount,
                r.currency,
                r.method.as_str(),
                r.ticket,
                r.paid,
                r.currency
            ),
            Outcome::LostTicket(l) => {
                if l.found {
                    println!(
                        "Lost ticket: stay found by plate, ticket {} (reprint it).",
                        l.ticket
                    );
                } else {
                    println!(
                        "Lost ticket: no stay found; flat fee on new ticket {}.",
                        l.ticket
                    );
                }
                self.quote(&l.quote);
            }
            Outcome::SpotOverridden(s) => println!(
                "Ticket {} moved from {} to {}.",
                s.ticket,
                s.from.as_deref().unwrap_or("(no spot)"),
                s.to
            ),
            Outcome::Reservation(r) => self.reservation(r),
            Outcome::Permit(p) => println!(
                "Permit {} ({}) for {}: plates {} · card {} · {} to {}{}",
                p.id,
                p.kind.as_str(),
                p.holder,
                if p.plates.is_empty() {
                    "-".to_string()
                } else {
                    p.plates.join(" ")
                },
                p.card.as_deref().unwrap_or("-"),
                p.valid_from,
                p.valid_to,
                p.hours
                    .as_deref()
                    .map(|h| format!(" · hours {h}"))
                    .unwrap_or_default()
            ),
            Outcome::Account(a) => {
                println!(
                    "Prepaid account {} ({}): balance {} {}",
                    a.id, a.holder, a.balance, a.currency
                );
                for w in &a.warnings {
                    println!("  WARNING: {w}");
                }
            }
            Outcome::Voucher(v) => println!(
                "Voucher {} from {}: {} · QR {}",
                v.id,
                v.merchant,
                match (v.free_minutes, v.percent_off) {
                    (Some(m), _) => format!("{m} minutes free"),
                    (_, Some(p)) => format!("{p}% off"),
                    _ => String::new(),
                },
                v.qr
            ),
            Outcome::LoggedIn(l) => println!(
                "Logged in as {} ({}) until {}",
                l.user,
                l.role.as_str(),
                l.expires_at
            ),
            Outcome::UserAdded(u) => {
                println!("User {} added as {}.", u.user, u.role.as_str());
                if let (Some(secret), Some(uri)) = (&u.totp_secret, &u.otpauth_uri) {
                    println!(
                        "  Admins log in with a second factor. Enter this secret in an authenticator app (shown once):"
                    );
                    println!("  {secret}");
                    println!("  {uri}");
                }
            }
            Outcome::Shift(s) => println!(
                "Shift {} of {}: float {} · expected cash {}{} {}",
                s.id,
                s.cashier,
                s.float,
                s.expected,
                s.over_short
                    .as_deref()
                    .map(|o| format!(
                        " · counted {} · over/short {o}",
                        s.counted.as_deref().unwrap_or("-")
                    ))
                    .unwrap_or_default(),
                s.currency
            ),
            Outcome::Order(d) => println!(
                "Server order {} ({}): {}{}{}",
                d.order_seq,
                d.order_id,
                d.status,
                d.reservation
                    .as_ref()
                    .map(|r| format!(", reservation {r}"))
                    .unwrap_or_default(),
                d.reason
                    .as_ref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            Outcome::Valet(v) => {
                println!("{}", v.message);
                println!(
                    "  tag {} · ticket {} · plate {} · {} · spot {} · fee {} {}, owed {} {}",
                    v.tag,
                    v.ticket,
                    v.plate.as_deref().unwrap_or("(none)"),
                    v.class,
                    v.spot.as_deref().unwrap_or("-"),
                    v.fee,
                    v.currency,
                    v.due,
                    v.currency
                );
            }
            Outcome::Recorded(r) => {
                println!("{}", r.message);
                for w in &r.warnings {
                    println!("  WARNING: {w}");
                }
            }
            Outcome::SpotService(s) => println!(
                "Spot {} is {}{}.",
                s.spot,
                if s.in_service {
                    "back in service"
                } else {
                    "out of service"
                },
                if s.occupied {
                    " (a vehicle is still on it)"
                } else {
                    ""
                }
            ),
        }
    }

    /// A value as JSON, or the text `describe` gives.
    pub fn value<T: Serialize>(&self, v: &T, describe: impl FnOnce() -> String) {
        if self.json {
            self.print_json(v);
        } else {
            println!("{}", describe());
        }
    }

    /// Rows of a list: JSON array, or one `key=value` line per row.
    pub fn rows<T: serde::Serialize>(&self, rows: &[T]) {
        if self.json {
            return self.print_json(&rows);
        }
        for r in rows.iter().filter_map(|r| serde_json::to_value(r).ok()) {
            if let Some(obj) = r.as_object() {
                let line: Vec<String> = obj
                    .iter()
                    .filter(|(_, v)| !v.is_null())
                    .map(|(k, v)| match v {
                        serde_json::Value::String(s) => format!("{k}={s}"),
                        v => format!("{k}={v}"),
                    })
                    .collect();
                println!("{}", line.join("  "));
            }
        }
        println!("({} rows)", rows.len());
    }

    pub fn reservation(&self, r: &ReservationView) {
        if self.json {
            return self.print_json(r);
        }
        println!(
            "Reservation {} · {} · {}{}{} · {}",
            r.code,
            r.status.replace('_', "-"),
            r.class,
            if r.ev { " EV" } else { "" },
            if r.accessible { " accessible" } else { "" },
            r.window
        );
        println!(
            "  plate {} · spot {} · estimate {} {}{}",
            r.plate.as_deref().unwrap_or("(code only)"),
            r.spot.as_deref().unwrap_or("any"),
            r.estimate,
            r.currency,
            if r.fee != "0" {
                format!(" · fee owed {} {}", r.fee, r.currency)
            } else {
                String::new()
            }
        );
    }

    pub fn quote(&self, q: &StayQuote) {
        if self.json {
            return self.print_json(q);
        }
        println!(
            "Ticket {} · plate {} · {} · entered {} · {} min",
            q.ticket,
            q.plate.as_deref().unwrap_or("(none)"),
            q.class,
            q.entry_local,
            q.minutes
        );
        for l in &q.lines {
            println!("  {:>9}  {}", l.amount.amount, l.label);
        }
        println!("  {:>9}  TOTAL {}", q.total.amount, q.currency);
    }

    pub fn occupancy(&self, o: &Occupancy) {
        if self.json {
            return self.print_json(o);
        }
        let t = &o.total;
        println!(
            "Occupancy at {}: {} of {} spots taken, {} free, {} out of service",
            o.at, t.occupied, t.capacity, t.free, t.out_of_service
        );
        for (title, map) in [
            ("level", &o.by_level),
            ("zone", &o.by_zone),
            ("size", &o.by_size),
        ] {
            println!("  by {title}:");
            for (k, c) in map {
                println!(
                    "    {k:<12} {:>4} taken {:>4} free {:>4} in service",
                    c.occupied, c.free, c.capacity
                );
            }
        }
        let v: Vec<String> = o
            .vehicles_by_class
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        println!(
            "  vehicles inside: {}",
            if v.is_empty() {
                "none".into()
            } else {
                v.join(", ")
            }
        );
        if o.without_spot > 0 {
            println!(
                "  {} vehicles inside without a known spot (lost tickets)",
                o.without_spot
            );
        }
    }

    pub fn spots(&self, spots: &[SpotView]) {
        if self.json {
            return self.print_json(&json!({ "spots": spots }));
        }
        for s in spots {
            let mut tags = vec![s.size.as_str().to_string()];
            if s.ev {
                tags.push("EV".into());
            }
            if s.accessible {
                tags.push("accessible".into());
            }
            let state = match (&s.ticket, s.in_service) {
                (_, false) => format!("OUT OF SERVICE ({})", s.note.as_deref().unwrap_or("")),
                (Some(t), _) => {
                    format!("occupied: ticket {t} {}", s.plate.as_deref().unwrap_or(""))
                }
                (None, true) => "free".into(),
            };
            println!(
                "{:<10} {:<3} {:<6} {:<26} {state}",
                s.id,
                s.level,
                s.zone,
                tags.join(" ")
            );
        }
    }

    pub fn ticket_check(&self, t: &TicketCheck) {
        if self.json {
            return self.print_json(t);
        }
        println!(
            "Valid ticket {} (plate {}, entered {}, spot {}).",
            t.ticket,
            t.plate.as_deref().unwrap_or("(none)"),
            t.entry_at,
            t.spot.as_deref().unwrap_or("-")
        );
    }

    pub fn qr(&self, ticket: &str, payload: &str, svg: Option<&Path>) -> Result<(), Error> {
        if self.json {
            self.print_json(&json!({ "ticket": ticket, "qr": payload, "svg": svg.map(|p| p.display().to_string()) }));
            return Ok(());
        }
        println!("{}", gatehouse_core::ticket::qr_text(payload)?);
        println!("Ticket {ticket} · {payload}");
        if let Some(p) = svg {
            println!("SVG written to {}", p.display());
        }
        Ok(())
    }

    pub fn audit(&self, r: &AuditReport) -> Result<(), Error> {
        match &r.first_broken {
            None => {
                if self.json {
                    self.print_json(r);
                } else {
                    println!("Journal verified: {} rows, head {}.", r.rows, r.head_hash);
                }
                Ok(())
            }
            Some(b) => Err(Error::new(
                ErrorKind::Journal,
                format!(
                    "journal broken at row {}: {} ({} rows before it verify); restore from a backup whose journal verifies",
                    b.seq, b.reason, r.rows
                ),
            )),
        }
    }

    /// Journal rows; `shown` is each payload with the personal data that is still known.
    pub fn journal(&self, rows: &[JournalRecord], shown: &[String]) {
        for (r, shown) in rows.iter().zip(shown) {
            if self.json {
                let mut v = json!(r);
                v["shown"] = serde_json::from_str(shown).unwrap_or(Value::Null);
                self.print_json(&v);
            } else {
                println!(
                    "{:>6} {} {}/{} {} {}",
                    r.seq, r.at, r.actor, r.role, r.kind, shown
                );
            }
        }
    }

    pub fn revenue(&self, r: &Revenue) {
        if self.json {
            return self.print_json(r);
        }
        println!(
            "Revenue {} {} ({} payments, {} refunds)",
            r.total, r.currency, r.payments, r.refunds
        );
        for (k, v) in &r.by_method {
            println!("  {k:<14} {v:>10}");
        }
        for (k, v) in &r.by_class {
            println!("  {k:<14} {v:>10}");
        }
    }

    pub fn backup(&self, what: &str, b: &BackupInfo) {
        if self.json {
            return self.print_json(b);
        }
        println!(
            "{what}: {} ({} bytes, {} journal rows verified)",
            b.path, b.bytes, b.journal_rows
        );
    }
}
