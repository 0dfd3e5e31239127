//! Reports over a period: occupancy (time-weighted average and peak, per hour, level, zone and
//! class), revenue (per day, method, vehicle class and tariff line), peak hours, stays and
//! turnover, reservations and no-shows, permit usage. Computed from the lot database.

use crate::error::{Error, Result};
use crate::stays::LotContext;
use crate::store::{parse_ts, ts};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc};
use rusqlite::Connection;
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::BTreeMap;
use std::str::FromStr;

/// Time-weighted average and peak vehicles for one group (an hour, a level, a zone, a class).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OccupancyRow {
    pub key: String,
    /// Spots in the group (0 for hours and classes).
    pub spots: usize,
    /// Average vehicles present, weighted by time.
    pub average: f64,
    pub peak: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MoneyRow {
    pub key: String,
    pub count: u64,
    pub amount: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub lot: String,
    pub name: String,
    pub period: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub from_local: String,
    pub to_local: String,
    pub currency: String,
    pub spots: usize,
    pub occupancy_average: f64,
    pub occupancy_peak: u32,
    pub occupancy_peak_at: Option<DateTime<Utc>>,
    /// One row per hour of the period, keyed by local time `YYYY-MM-DD HH:00`.
    pub by_hour: Vec<OccupancyRow>,
    pub by_level: Vec<OccupancyRow>,
    pub by_zone: Vec<OccupancyRow>,
    pub by_class: Vec<OccupancyRow>,
    /// Average occupancy by local weekday (Mon..Sun) and hour (0..23).
    pub peak_hours: Vec<Vec<f64>>,
    pub revenue_total: String,
    pub refunds_total: String,
    pub revenue_by_day: Vec<MoneyRow>,
    pub revenue_by_method: Vec<MoneyRow>,
    pub revenue_by_class: Vec<MoneyRow>,
    /// What exited stays were charged, by tariff line kind.
    pub charges_by_line: Vec<MoneyRow>,
    pub entries: u64,
    pub exits: u64,
    pub average_stay_minutes: f64,
    /// Entries per spot per day.
    pub turnover: f64,
    pub lost_tickets: u64,
    pub voided: u64,
    pub reservations: BTreeMap<String, u64>,
    pub no_show_rate: f64,
    pub no_show_fees: String,
    pub permit_stays: u64,
    pub permits_used: u64,
    pub permits_active: u64,
}

fn dec(s: &str) -> Result<Decimal> {
    Decimal::from_str(s)
        .map_err(|_| Error::storage(format!("the database holds a malformed amount '{s}'")))
}

/// Sweeps intervals clipped to `[from, to)`: time-weighted average and peak of the count.
struct Sweep {
    events: Vec<(i64, i32)>,
}

impl Sweep {
    fn new() -> Sweep {
        Sweep { events: Vec::new() }
    }
    fn add(&mut self, a: i64, b: i64) {
        if b > a {
            self.events.push((a, 1));
            self.events.push((b, -1));
        }
    }
    /// (average over `span` ms, peak, when the peak was first reached)
    fn finish(mut self, start: i64, span: i64) -> (f64, u32, Option<i64>) {
        self.events.sort_unstable();
        let (mut cur, mut peak, mut peak_at, mut area, mut last) = (0i64, 0i64, None, 0i128, start);
        for (t, d) in self.events {
            area += i128::from(cur) * i128::from(t - last);
            last = t;
            cur += i64::from(d);
            if cur > peak {
                peak = cur;
                peak_at = Some(t);
            }
        }
        let avg = if span > 0 {
            area as f64 / span as f64
        } else {
            0.0
        };
        (avg, peak.max(0) as u32, peak_at)
    }
}

fn rows(groups: BTreeMap<String, (usize, Sweep)>, start: i64, span: i64) -> Vec<OccupancyRow> {
    groups
        .into_iter()
        .map(|(key, (spots, sweep))| {
            let (average, peak, _) = sweep.finish(start, span);
            OccupancyRow {
                key,
                spots,
                average: (average * 100.0).round() / 100.0,
                peak,
            }
        })
        .collect()
}

/// The report for `[from, to)`; `period` names it ("day", "week", "month" or "custom").
pub fn report(
    conn: &Connection,
    ctx: &LotContext,
    period: &str,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Report> {
    if to <= from {
        return Err(Error::invalid("the report's end must be after its start"));
    }
    if to - from > Duration::days(400) {
        return Err(Error::invalid("a report covers at most 400 days"));
    }
    let cfg = &ctx.config;
    let tz = cfg.lot.timezone;
    let (f, t) = (from.timestamp_millis(), to.timestamp_millis());
    let span = t - f;
    // ---- occupancy from stay_spots --------------------------------------------------------
    let hours = ((span + 3_599_999) / 3_600_000) as usize;
    let mut hour_sweeps: Vec<Sweep> = (0..hours).map(|_| Sweep::new()).collect();
    let mut all = Sweep::new();
    let mut levels: BTreeMap<String, (usize, Sweep)> = BTreeMap::new();
    let mut zones: BTreeMap<String, (usize, Sweep)> = BTreeMap::new();
    let mut classes: BTreeMap<String, (usize, Sweep)> = BTreeMap::new();
    for s in &cfg.spots {
        levels.entry(s.level.clone()).or_insert((0, Sweep::new())).0 += 1;
        zones
            .entry(format!("{}/{}", s.level, s.zone))
            .or_insert((0, Sweep::new()))
            .0 += 1;
    }
    let spot_place: std::collections::HashMap<&str, (&str, &str)> = cfg
        .spots
        .iter()
        .map(|s| (s.id.as_str(), (s.level.as_str(), s.zone.as_str())))
        .collect();
    let mut stmt = conn.prepare(
        "SELECT ss.spot_id, ss.from_at, ss.to_at, st.class FROM stay_spots ss JOIN stays st ON st.id = ss.stay_id WHERE ss.from_at < ?1 AND (ss.to_at IS NULL OR ss.to_at > ?2)",
    )?;
    let mut q = stmt.query([ts(to), ts(from)])?;
    while let Some(r) = q.next()? {
        let spot: String = r.get(0)?;
        let a = parse_ts(&r.get::<_, String>(1)?)?.timestamp_millis().max(f);
        let b = match r.get::<_, Option<String>>(2)? {
            Some(x) => parse_ts(&x)?.timestamp_millis().min(t),
            None => t,
        };
        if b <= a {
            continue;
        }
        let class: String = r.get(3)?;
        all.add(a, b);
        if let Some((level, zone)) = spot_place.get(spot.as_str()) {
            if let Some(l) = levels.get_mut(*level) {
                l.1.add(a, b);
            }
            if let Some(z) = zones.get_mut(&format!("{level}/{zone}")) {
                z.1.add(a, b);
            }
        }
        classes
            .entry(class)
            .or_insert((0, Sweep::new()))
            .1
            .add(a, b);
        let (first, last) = (
            ((a - f) / 3_600_000) as usize,
            ((b - 1 - f) / 3_600_000) as usize,
        );
        for (h, sweep) in hour_sweeps
            .iter_mut()
            .enumerate()
            .take(last.min(hours.saturating_sub(1)) + 1)
            .skip(first)
        {
            let hs = f + h as i64 * 3_600_000;
            sweep.add(a.max(hs), b.min(hs + 3_600_000));
        }
    }
    drop(q);
    drop(stmt);
    let (occupancy_average, occupancy_peak, peak_at) = all.finish(f, span);
    let mut by_hour = Vec::with_capacity(hours);
    let mut heat_sum = vec![vec![0.0f64; 24]; 7];
    let mut heat_n = vec![vec![0u32; 24]; 7];
    for (h, sweep) in hour_sweeps.into_iter().enumerate() {
        let hs = f + h as i64 * 3_600_000;
        let len = (t - hs).min(3_600_000);
        let (avg, peak, _) = sweep.finish(hs, len);
        let local = DateTime::<Utc>::from_timestamp_millis(hs)
            .unwrap_or(from)
            .with_timezone(&tz);
        let (wd, hr) = (
            local.weekday().num_days_from_monday() as usize,
            local.hour() as usize,
        );
        heat_sum[wd][hr] += avg;
        heat_n[wd][hr] += 1;
        by_hour.push(OccupancyRow {
            key: local.format("%Y-%m-%d %H:00").to_string(),
            spots: 0,
            average: (avg * 100.0).round() / 100.0,
            peak,
        });
    }
    let peak_hours = heat_sum
        .iter()
        .zip(&heat_n)
        .map(|(s, n)| {
            s.iter()
                .zip(n)
                .map(|(s, n)| {
                    if *n == 0 {
                        f64::NAN
                    } else {
                        ((s / f64::from(*n)) * 10.0).round() / 10.0
                    }
                })
                .collect()
        })
        .collect();
    // ---- revenue from payments ------------------------------------------------------------
    let mut total = Decimal::ZERO;
    let mut refunds = Decimal::ZERO;
    let mut by_day: BTreeMap<NaiveDate, (u64, Decimal)> = BTreeMap::new();
    let mut by_method: BTreeMap<String, (u64, Decimal)> = BTreeMap::new();
    let mut by_class: BTreeMap<String, (u64, Decimal)> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT p.kind, p.method, p.amount, p.at, st.class FROM payments p JOIN stays st ON st.id = p.stay_id WHERE p.at >= ?1 AND p.at < ?2",
    )?;
    let mut q = stmt.query([ts(from), ts(to)])?;
    while let Some(r) = q.next()? {
        let kind: String = r.get(0)?;
        let method: String = r.get(1)?;
        let amount = dec(&r.get::<_, String>(2)?)?;
        let at = parse_ts(&r.get::<_, String>(3)?)?;
        let class: String = r.get(4)?;
        let signed = if kind == "refund" {
            refunds += amount;
            -amount
        } else {
            amount
        };
        total += signed;
        let day = at.with_timezone(&tz).date_naive();
        for (map, key) in [(&mut by_method, method), (&mut by_class, class)] {
            let e = map.entry(key).or_insert((0, Decimal::ZERO));
            e.0 += 1;
            e.1 += signed;
        }
        let e = by_day.entry(day).or_insert((0, Decimal::ZERO));
        e.0 += 1;
        e.1 += signed;
    }
    drop(q);
    drop(stmt);
    let money_rows = |m: BTreeMap<String, (u64, Decimal)>| -> Vec<MoneyRow> {
        m.into_iter()
            .map(|(key, (count, a))| MoneyRow {
                key,
                count,
                amount: ctx.money(a).amount.to_string(),
            })
            .collect()
    };
    let revenue_by_day = money_rows(
        by_day
            .into_iter()
            .map(|(d, v)| (d.format("%Y-%m-%d %a").to_string(), v))
            .collect(),
    );
    let mut lines: BTreeMap<String, (u64, Decimal)> = BTreeMap::new();
    let mut stmt = conn.prepare(
        "SELECT l.kind, l.amount FROM stay_lines l JOIN stays st ON st.id = l.stay_id WHERE st.exit_at >= ?1 AND st.exit_at < ?2",
    )?;
    let mut q = stmt.query([ts(from), ts(to)])?;
    while let Some(r) = q.next()? {
        let e = lines.entry(r.get(0)?).or_insert((0, Decimal::ZERO));
        e.0 += 1;
        e.1 += dec(&r.get::<_, String>(1)?)?;
    }
    drop(q);
    drop(stmt);
    // ---- stays ----------------------------------------------------------------------------
    let one =
        |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [ts(from), ts(to)], |r| r.get(0))?) };
    let entries = one("SELECT COUNT(*) FROM stays WHERE entry_at >= ?1 AND entry_at < ?2")?;
    let lost =
        one("SELECT COUNT(*) FROM stays WHERE lost = 1 AND entry_at >= ?1 AND entry_at < ?2")?;
    let voided =
        one("SELECT COUNT(*) FROM stays WHERE voided = 1 AND exit_at >= ?1 AND exit_at < ?2")?;
    let (exits, minutes): (i64, f64) = conn.query_row(
        "SELECT COUNT(*), COALESCE(AVG((julianday(exit_at) - julianday(entry_at)) * 1440.0), 0) FROM stays WHERE voided = 0 AND exit_at >= ?1 AND exit_at < ?2",
        [ts(from), ts(to)],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    let days = span as f64 / 86_400_000.0;
    let turnover = if cfg.spots.is_empty() {
        0.0
    } else {
        entries as f64 / cfg.spots.len() as f64 / days
    };
    // ---- reservations and permits ---------------------------------------------------------
    let mut reservations = BTreeMap::new();
    let mut no_show_fees = Decimal::ZERO;
    let mut stmt = conn
        .prepare("SELECT status, fee FROM reservations WHERE start_at >= ?1 AND start_at < ?2")?;
    let mut q = stmt.query([ts(from), ts(to)])?;
    while let Some(r) = q.next()? {
        let status: String = r.get(0)?;
        if status == "no_show" {
            no_show_fees += dec(&r.get::<_, String>(1)?)?;
        }
        *reservations.entry(status).or_insert(0u64) += 1;
    }
    drop(q);
    drop(stmt);
    let arrived = reservations.get("arrived").copied().unwrap_or(0);
    let no_show = reservations.get("no_show").copied().unwrap_or(0);
    let no_show_rate = if arrived + no_show == 0 {
        0.0
    } else {
        no_show as f64 / (arrived + no_show) as f64
    };
    let permit_stays = one(
        "SELECT COUNT(*) FROM stays WHERE permit_id IS NOT NULL AND entry_at >= ?1 AND entry_at < ?2",
    )?;
    let permits_used = one(
        "SELECT COUNT(DISTINCT permit_id) FROM stays WHERE permit_id IS NOT NULL AND entry_at >= ?1 AND entry_at < ?2",
    )?;
    let permits_active = conn.query_row(
        "SELECT COUNT(*) FROM permits WHERE revoked_at IS NULL AND valid_from < ?1 AND valid_to > ?2",
        [ts(to), ts(from)],
        |r| r.get::<_, i64>(0),
    )?;
    Ok(Report {
        lot: cfg.lot.id.clone(),
        name: cfg.lot.name.clone(),
        period: period.to_string(),
        from,
        to,
        from_local: ctx.local(from),
        to_local: ctx.local(to),
        currency: cfg.lot.currency.to_string(),
        spots: cfg.spots.len(),
        occupancy_average: (occupancy_average * 100.0).round() / 100.0,
        occupancy_peak,
        occupancy_peak_at: peak_at.and_then(DateTime::<Utc>::from_timestamp_millis),
        by_hour,
        by_level: rows(levels, f, span),
        by_zone: rows(zones, f, span),
        by_class: rows(classes, f, span),
        peak_hours,
        revenue_total: ctx.money(total).amount.to_string(),
        refunds_total: ctx.money(refunds).amount.to_string(),
        revenue_by_day,
        revenue_by_method: money_rows(by_method),
        revenue_by_class: money_rows(by_class),
        charges_by_line: money_rows(lines),
        entries: entries as u64,
        exits: exits as u64,
        average_stay_minutes: (minutes * 10.0).round() / 10.0,
        turnover: (turnover * 100.0).round() / 100.0,
        lost_tickets: lost as u64,
        voided: voided as u64,
        reservations,
        no_show_rate: (no_show_rate * 1000.0).round() / 1000.0,
        no_show_fees: ctx.money(no_show_fees).amount.to_string(),
        permit_stays: permit_stays as u64,
        permits_used: permits_used as u64,
        permits_active: permits_active as u64,
    })
}

/// The period starting at local midnight of `day`: "day", "week" (7 days) or "month" (to the
/// same day next month), in UTC.
pub fn period_bounds(
    ctx: &LotContext,
    period: &str,
    day: NaiveDate,
) -> Result<(DateTime<Utc>, DateTime<Utc>)> {
    let tz = ctx.config.lot.timezone;
    let end_day = match period {
        "day" => day + Duration::days(1),
        "week" => day + Duration::days(7),
        "month" => day
            .checked_add_months(chrono::Months::new(1))
            .ok_or_else(|| Error::invalid("that month is out of range"))?,
        _ => {
            return Err(Error::invalid(format!(
                "'{period}' is not a period: use day, week or month"
            )));
        }
    };
    let midnight = |d: NaiveDate| -> Result<DateTime<Utc>> {
        d.and_hms_opt(0, 0, 0)
            .and_then(|n| n.and_local_timezone(tz).earliest())
            .map(|t| t.with_timezone(&Utc))
            .ok_or_else(|| Error::invalid(format!("{d} has no local midnight")))
    };
    Ok((midnight(day)?, midnight(end_day)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sweep_weights_by_time_and_finds_the_peak() {
        let mut s = Sweep::new();
        s.add(0, 100); // one vehicle the whole span
        s.add(50, 100); // a second for the second half
        let (avg, peak, at) = s.finish(0, 100);
        assert!((avg - 1.5).abs() < 1e-9, "{avg}");
        assert_eq!(peak, 2);
        assert_eq!(at, Some(50));
    }
}
