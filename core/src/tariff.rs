//! The reference tariff engine (docs/design.md, "Reference tariff semantics").
//!
//! A stay `[entry, exit)` is cut at band boundaries and at local midnight into segments. Free
//! minutes: a stay no longer than them costs nothing, a longer one is charged from entry. The first
//! segment of a band that has a first period pays the first-period price for that period, then
//! every started increment; every other segment pays every started increment. Counting restarts at
//! every cut. Each local calendar day's charges are capped at the daily maximum. Class, event-day
//! and occupancy factors multiply every price and cap. Each line is rounded half-up to the minor
//! unit; the total is the sum of the lines.

use crate::domain::VehicleClass;
use crate::money::{Currency, Money};
use chrono::{DateTime, Datelike, Duration, LocalResult, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::Serialize;

pub const MINUTES_PER_DAY: u32 = 1440;

/// A priced period of time: the first period (optional) and the increment.
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    pub name: String,
    /// Weekdays on which the band starts, Monday first.
    pub days: [bool; 7],
    /// Local start, minutes after midnight.
    pub start: u32,
    /// Local end, minutes after midnight (1..=1440). `end <= start` means the band runs past
    /// midnight into the next day.
    pub end: u32,
    pub first_period: Option<(u32, Decimal)>,
    pub increment_minutes: u32,
    pub increment_price: Decimal,
}

impl Band {
    fn crosses_midnight(&self) -> bool {
        self.end <= self.start
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct EventDay {
    pub date: NaiveDate,
    pub name: String,
    pub factor: Decimal,
}

/// From this occupancy (percent of in-service spots taken at entry) on, prices are multiplied.
#[derive(Debug, Clone, PartialEq)]
pub struct OccupancyStep {
    pub from_percent: u32,
    pub factor: Decimal,
}

/// A piece of a local day that belongs to one band: `[start, end)` in minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Piece {
    start: u32,
    end: u32,
    band: usize,
}

#[derive(Debug, Clone)]
pub struct Tariff {
    pub currency: Currency,
    pub timezone: Tz,
    pub free_minutes: u32,
    pub minimum_charge: Decimal,
    pub daily_max: Option<Decimal>,
    pub lost_ticket_fee: Decimal,
    pub exit_grace_minutes: u32,
    pub class_factors: [Decimal; 5],
    pub bands: Vec<Band>,
    pub event_days: Vec<EventDay>,
    pub occupancy_steps: Vec<OccupancyStep>,
    /// Per weekday (Monday first), the day cut into band pieces. Built by `Tariff::new`.
    pieces: [Vec<Piece>; 7],
}

/// Where the week is not covered by exactly one band.
#[derive(Debug, Clone, PartialEq)]
pub struct CoverageError {
    pub band: Option<usize>,
    pub message: String,
}

const DAY_NAMES: [&str; 7] = [
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
];

fn hhmm(m: u32) -> String {
    format!("{:02}:{:02}", m / 60, m % 60)
}

impl Tariff {
    /// Builds a tariff whose bands cover every minute of the week exactly once.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        currency: Currency,
        timezone: Tz,
        free_minutes: u32,
        minimum_charge: Decimal,
        daily_max: Option<Decimal>,
        lost_ticket_fee: Decimal,
        exit_grace_minutes: u32,
        class_factors: [Decimal; 5],
        bands: Vec<Band>,
        event_days: Vec<EventDay>,
        mut occupancy_steps: Vec<OccupancyStep>,
    ) -> Result<Tariff, CoverageError> {
        let pieces = Self::cut_week(&bands)?;
        occupancy_steps.sort_by_key(|s| s.from_percent);
        Ok(Tariff {
            currency,
            timezone,
            free_minutes,
            minimum_charge,
            daily_max,
            lost_ticket_fee,
            exit_grace_minutes,
            class_factors,
            bands,
            event_days,
            occupancy_steps,
            pieces,
        })
    }

    fn cut_week(bands: &[Band]) -> Result<[Vec<Piece>; 7], CoverageError> {
        let mut pieces: [Vec<Piece>; 7] = Default::default();
        for (i, b) in bands.iter().enumerate() {
            for d in 0..7 {
                if !b.days[d] {
                    continue;
                }
                if b.crosses_midnight() {
                    pieces[d].push(Piece {
                        start: b.start,
                        end: MINUTES_PER_DAY,
                        band: i,
                    });
                    if b.end > 0 {
                        pieces[(d + 1) % 7].push(Piece {
                            start: 0,
                            end: b.end,
                            band: i,
                        });
                    }
                } else {
                    pieces[d].push(Piece {
                        start: b.start,
                        end: b.end,
                        band: i,
                    });
                }
            }
        }
        for (d, day) in pieces.iter_mut().enumerate() {
            day.sort_by_key(|p| p.start);
            let mut at = 0;
            for p in day.iter() {
                if p.start > at {
                    return Err(CoverageError {
                        band: None,
                        message: format!(
                            "{} {}–{} is covered by no band; every minute of the week needs exactly one band",
                            DAY_NAMES[d],
                            hhmm(at),
                            hhmm(p.start)
                        ),
                    });
                }
                if p.start < at {
                    return Err(CoverageError {
                        band: Some(p.band),
                        message: format!(
                            "band '{}' overlaps another band on {} at {}; every minute of the week needs exactly one band",
                            bands[p.band].name,
                            DAY_NAMES[d],
                            hhmm(p.start)
                        ),
                    });
                }
                at = p.end;
            }
            if at < MINUTES_PER_DAY {
                return Err(CoverageError {
                    band: None,
                    message: format!(
                        "{} {}–24:00 is covered by no band; every minute of the week needs exactly one band",
                        DAY_NAMES[d],
                        hhmm(at)
                    ),
                });
            }
        }
        Ok(pieces)
    }

    pub fn class_factor(&self, class: VehicleClass) -> Decimal {
        self.class_factors[class.index()]
    }

    /// The occupancy factor for a lot that is `percent` full at entry (1 when no step applies).
    pub fn occupancy_factor(&self, percent: u32) -> Decimal {
        self.occupancy_steps
            .iter()
            .rev()
            .find(|s| percent >= s.from_percent)
            .map_or(Decimal::ONE, |s| s.factor)
    }

    fn event_day(&self, date: NaiveDate) -> Option<&EventDay> {
        self.event_days.iter().find(|e| e.date == date)
    }

    /// The UTC instant of a local date and minute of day. In a DST gap it is the end of the gap;
    /// in a repeated hour, the earlier instant.
    fn instant(&self, date: NaiveDate, minute: u32) -> DateTime<Utc> {
        let (date, minute) = if minute >= MINUTES_PER_DAY {
            (date.succ_opt().unwrap_or(date), minute - MINUTES_PER_DAY)
        } else {
            (date, minute)
        };
        let mut local = date.and_time(NaiveTime::MIN) + Duration::minutes(i64::from(minute));
        // A DST gap is at most a few hours; step through it to the first local time that exists.
        for _ in 0..(24 * 60) {
            match self.timezone.from_local_datetime(&local) {
                LocalResult::Single(t) => return t.with_timezone(&Utc),
                LocalResult::Ambiguous(early, _) => return early.with_timezone(&Utc),
                LocalResult::None => local += Duration::minutes(1),
            }
        }
        Utc.from_utc_datetime(&local)
    }

    /// The fee for a stay `[entry, exit)` of a vehicle class, with its lines.
    pub fn quote(
        &self,
        entry: DateTime<Utc>,
        exit: DateTime<Utc>,
        class: VehicleClass,
        occupancy_factor: Decimal,
    ) -> TariffQuote {
        let cur = self.currency;
        let mut lines = Vec::new();
        if exit <= entry || exit - entry <= Duration::minutes(i64::from(self.free_minutes)) {
            lines.push(QuoteLine {
                kind: LineKind::FreeMinutes,
                label: format!("stay within the {} free minutes", self.free_minutes),
                date: None,
                from: Some(entry),
                to: Some(exit.max(entry)),
                amount: Money::zero(cur),
            });
            return TariffQuote::from_lines(cur, lines);
        }
        let class_factor = self.class_factor(class);
        let tz = self.timezone;
        let first_date = entry.with_timezone(&tz).date_naive();
        let last_date = exit.with_timezone(&tz).date_naive();
        let mut band_seen = vec![false; self.bands.len()];
        let mut date = first_date;
        while date <= last_date {
            let event = self.event_day(date);
            let day_factor =
                class_factor * occupancy_factor * event.map_or(Decimal::ONE, |e| e.factor);
            let day_start = lines.len();
            let wd = date.weekday().num_days_from_monday() as usize;
            for piece in &self.pieces[wd] {
                let from = self.instant(date, piece.start).max(entry);
                let to = self.instant(date, piece.end).min(exit);
                if from >= to {
                    continue;
                }
                let band = &self.bands[piece.band];
                let ms = (to - from).num_milliseconds();
                let started = |minutes: u32, ms: i64| -> i64 {
                    let unit = i64::from(minutes.max(1)) * 60_000;
                    (ms.max(0) + unit - 1) / unit
                };
                let (base, label) = match band.first_period {
                    Some((fp_minutes, fp_price)) if !band_seen[piece.band] => {
                        let rest = ms - i64::from(fp_minutes) * 60_000;
                        let n = started(band.increment_minutes, rest);
                        (
                            fp_price + band.increment_price * Decimal::from(n),
                            format!(
                                "{} first {} min {} + {} × {} min at {}",
                                band.name,
                                fp_minutes,
                                fp_price,
                                n,
                                band.increment_minutes,
                                band.increment_price
                            ),
                        )
                    }
                    _ => {
                        let n = started(band.increment_minutes, ms);
                        (
                            band.increment_price * Decimal::from(n),
                            format!(
                                "{} {} × {} min at {}",
                                band.name, n, band.increment_minutes, band.increment_price
                            ),
                        )
                    }
                };
                band_seen[piece.band] = true;
                let local_from = from.with_timezone(&tz).format("%H:%M");
                let local_to = to.with_timezone(&tz).format("%H:%M");
                let factor_note = if day_factor == Decimal::ONE {
                    String::new()
                } else {
                    format!(" × {}", day_factor.normalize())
                };
                lines.push(QuoteLine {
                    kind: LineKind::Band,
                    label: format!("{date} {local_from}–{local_to} {label}{factor_note}"),
                    date: Some(date),
                    from: Some(from),
                    to: Some(to),
                    amount: Money {
                        amount: cur.round(base * day_factor),
                        currency: cur,
                    },
                });
            }
            if let Some(max) = self.daily_max {
                let cap = cur.round(max * day_factor);
                let day_total: Decimal = lines[day_start..].iter().map(|l| l.amount.amount).sum();
                if day_total > cap {
                    lines.push(QuoteLine {
                        kind: LineKind::DailyMaximum,
                        label: format!("{date} capped at the daily maximum {cap}"),
                        date: Some(date),
                        from: None,
                        to: None,
                        amount: Money {
                            amount: cap - day_total,
                            currency: cur,
                        },
                    });
                }
            }
            if let Some(e) = event
                && e.factor != Decimal::ONE
                && lines.len() > day_start
            {
                lines[day_start]
                    .label
                    .push_str(&format!(" (event day: {})", e.name));
            }
            match date.succ_opt() {
                Some(d) => date = d,
                None => break,
            }
        }
        let subtotal: Decimal = lines.iter().map(|l| l.amount.amount).sum();
        let minimum = cur.round(self.minimum_charge * class_factor);
        if subtotal > Decimal::ZERO && subtotal < minimum {
            lines.push(QuoteLine {
                kind: LineKind::MinimumCharge,
                label: format!("minimum charge {minimum}"),
                date: None,
                from: None,
                to: None,
                amount: Money {
                    amount: minimum - subtotal,
                    currency: cur,
                },
            });
        }
        TariffQuote::from_lines(cur, lines)
    }

    /// The flat fee for a lost ticket whose stay cannot be found.
    pub fn lost_ticket_quote(&self) -> TariffQuote {
        TariffQuote::from_lines(
            self.currency,
            vec![QuoteLine {
                kind: LineKind::LostTicket,
                label: "lost ticket, flat fee".to_string(),
                date: None,
                from: None,
                to: None,
                amount: Money {
                    amount: self.currency.round(self.lost_ticket_fee),
                    currency: self.currency,
                },
            }],
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    FreeMinutes,
    Band,
    DailyMaximum,
    MinimumCharge,
    LostTicket,
    Paid,
    ExitGrace,
    /// A permit covers the stay (until the permit's end).
    Permit,
    /// A merchant voucher: free minutes or a percentage off.
    Voucher,
    /// Valet parking's fee (the valet tariff, not the parking tariff).
    Valet,
    /// Staying past a reservation's end.
    Overstay,
}

impl LineKind {
    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::FreeMinutes => "free_minutes",
            LineKind::Band => "band",
            LineKind::DailyMaximum => "daily_maximum",
            LineKind::MinimumCharge => "minimum_charge",
            LineKind::LostTicket => "lost_ticket",
            LineKind::Paid => "paid",
            LineKind::ExitGrace => "exit_grace",
            LineKind::Permit => "permit",
            LineKind::Voucher => "voucher",
            LineKind::Overstay => "overstay",
            LineKind::Valet => "valet",
        }
    }
}

/// One line of a quote. The lines of a quote add up to its total.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QuoteLine {
    pub kind: LineKind,
    pub label: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<DateTime<Utc>>,
    #[serde(serialize_with = "ser_amount")]
    pub amount: Money,
}

fn ser_amount<S: serde::Serializer>(m: &Money, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&m.amount)
}

/// A tariff's fee for a stay: the lines and their sum.
#[derive(Debug, Clone, PartialEq)]
pub struct TariffQuote {
    pub total: Money,
    pub lines: Vec<QuoteLine>,
}

impl TariffQuote {
    pub(crate) fn from_lines(currency: Currency, lines: Vec<QuoteLine>) -> Self {
        let sum: Decimal = lines.iter().map(|l| l.amount.amount).sum();
        TariffQuote {
            total: Money {
                amount: currency.round(sum),
                currency,
            },
            lines,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::LotConfig;
    use chrono::NaiveDateTime;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn demo() -> Tariff {
        LotConfig::demo().unwrap().tariff
    }

    /// A Berlin local time, e.g. "2026-11-18 09:00".
    fn at(s: &str) -> DateTime<Utc> {
        let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap();
        chrono_tz::Europe::Berlin
            .from_local_datetime(&naive)
            .earliest()
            .unwrap()
            .with_timezone(&Utc)
    }

    fn fee(t: &Tariff, from: &str, to: &str, class: VehicleClass) -> String {
        let q = t.quote(at(from), at(to), class, Decimal::ONE);
        let sum: Decimal = q.lines.iter().map(|l| l.amount.amount).sum();
        assert_eq!(
            sum, q.total.amount,
            "lines add up to the total: {:#?}",
            q.lines
        );
        q.total.amount.to_string()
    }

    const STD: VehicleClass = VehicleClass::Standard;

    #[test]
    fn design_worked_examples() {
        let t = demo();
        let d = "2026-11-18"; // a Wednesday
        let f = |a: &str, b: &str| fee(&t, &format!("{d} {a}"), &format!("{d} {b}"), STD);
        assert_eq!(f("09:00", "09:08"), "0.00");
        assert_eq!(f("09:00", "09:45"), "3.00");
        assert_eq!(f("09:00", "10:01"), "4.50");
        assert_eq!(f("09:00", "11:30"), "7.50");
        assert_eq!(f("18:30", "21:10"), "6.50");
        assert_eq!(f("08:00", "19:00"), "20.00");
        assert_eq!(
            fee(
                &t,
                &format!("{d} 09:00"),
                &format!("{d} 11:30"),
                VehicleClass::Motorcycle
            ),
            "3.75"
        );
    }

    #[test]
    fn free_minutes_edge_is_inclusive() {
        let t = demo();
        assert_eq!(fee(&t, "2026-11-18 09:00", "2026-11-18 09:10", STD), "0.00");
        let q = t.quote(
            at("2026-11-18 09:00"),
            at("2026-11-18 09:10") + Duration::seconds(1),
            STD,
            Decimal::ONE,
        );
        assert_eq!(
            q.total.amount,
            dec!(3.00),
            "a longer stay is charged from entry"
        );
    }

    #[test]
    fn band_edges() {
        let t = demo();
        // Entirely in the night band: 19:59 is day, 20:00 is night.
        assert_eq!(fee(&t, "2026-11-18 20:00", "2026-11-18 21:00", STD), "1.00");
        assert_eq!(fee(&t, "2026-11-18 20:00", "2026-11-18 21:01", STD), "2.00");
        // One day minute and one night hour: the first period is paid for the minute.
        assert_eq!(fee(&t, "2026-11-18 19:45", "2026-11-18 20:30", STD), "4.00");
        // Morning: night until 07:00, then the first day segment with its first period.
        assert_eq!(fee(&t, "2026-11-18 06:30", "2026-11-18 07:30", STD), "4.00");
    }

    #[test]
    fn stay_across_midnight_cuts_the_night_band() {
        let t = demo();
        // 22:00–02:00: two night segments, 2 h each side of midnight, 4.00 in all.
        assert_eq!(fee(&t, "2026-11-18 22:00", "2026-11-19 02:00", STD), "4.00");
        // 23:30–00:30: counting restarts at midnight, so each half pays a started hour.
        assert_eq!(fee(&t, "2026-11-18 23:30", "2026-11-19 00:30", STD), "2.00");
    }

    #[test]
    fn several_days_are_capped_per_local_day() {
        let t = demo();
        // Wed 08:00 → Fri 10:00.
        // Wed: day 08:00–20:00 = 3.00 + 22 × 1.50 = 36.00 → 20.00 cap; night 20:00–24:00 = 4.00,
        //      so the day's 40.00 is capped to 20.00.
        // Thu: night 00–07 = 7.00, day 07–20 = 26 × 1.50 = 39.00 (first period was Wed), night
        //      20–24 = 4.00 → 50.00 capped to 20.00.
        // Fri: night 00–07 = 7.00, day 07–10 = 6 × 1.50 = 9.00 → 16.00.
        assert_eq!(
            fee(&t, "2026-11-18 08:00", "2026-11-20 10:00", STD),
            "56.00"
        );
    }

    #[test]
    fn spring_forward_day_has_23_hours() {
        let t = demo();
        // 2026-03-29: Berlin jumps from 02:00 to 03:00. Night 00:00–07:00 local is 6 real hours.
        assert_eq!(fee(&t, "2026-03-29 00:00", "2026-03-29 07:00", STD), "6.00");
        // 01:30 → 03:30 local is one real hour.
        assert_eq!(fee(&t, "2026-03-29 01:30", "2026-03-29 03:30", STD), "1.00");
    }

    #[test]
    fn fall_back_day_has_25_hours() {
        let t = demo();
        // 2026-10-25: Berlin repeats 02:00–03:00. Night 00:00–07:00 local is 8 real hours.
        assert_eq!(fee(&t, "2026-10-25 00:00", "2026-10-25 07:00", STD), "8.00");
        // A whole 25-hour day is still one day, capped once: 20.00.
        assert_eq!(
            fee(&t, "2026-10-25 00:00", "2026-10-26 00:00", STD),
            "20.00"
        );
    }

    #[test]
    fn class_factor_multiplies_caps_too() {
        let t = demo();
        assert_eq!(
            fee(
                &t,
                "2026-11-18 08:00",
                "2026-11-18 19:00",
                VehicleClass::Bus
            ),
            "60.00"
        );
        assert_eq!(
            fee(
                &t,
                "2026-11-18 09:00",
                "2026-11-18 10:01",
                VehicleClass::Large
            ),
            "6.75"
        );
    }

    #[test]
    fn event_day_and_occupancy_factors_multiply() {
        let mut t = demo();
        t.event_days.push(EventDay {
            date: NaiveDate::from_ymd_opt(2026, 11, 18).unwrap(),
            name: "Christmas market opening".into(),
            factor: dec!(2),
        });
        assert_eq!(fee(&t, "2026-11-18 09:00", "2026-11-18 09:45", STD), "6.00");
        assert_eq!(fee(&t, "2026-11-19 09:00", "2026-11-19 09:45", STD), "3.00");
        let q = t.quote(
            at("2026-11-19 09:00"),
            at("2026-11-19 09:45"),
            STD,
            dec!(1.2),
        );
        assert_eq!(q.total.amount, dec!(3.60));
    }

    #[test]
    fn minimum_charge_tops_up_small_fees() {
        let mut t = demo();
        t.minimum_charge = dec!(5.00);
        assert_eq!(fee(&t, "2026-11-18 20:00", "2026-11-18 21:00", STD), "5.00");
        assert_eq!(fee(&t, "2026-11-18 09:00", "2026-11-18 09:05", STD), "0.00");
    }

    #[test]
    fn weekday_bands_follow_local_days() {
        let cfg = LotConfig::from_toml_str(
            "weekend.toml",
            &crate::config::tests::demo_with_tariff(
                r#"
[[tariff.bands]]
name = "weekday"
days = ["mon", "tue", "wed", "thu", "fri"]
start = "00:00"
end = "24:00"
increment_minutes = 60
increment_price = "2.00"
[[tariff.bands]]
name = "weekend"
days = ["sat", "sun"]
start = "00:00"
end = "24:00"
increment_minutes = 60
increment_price = "1.00"
"#,
            ),
        )
        .unwrap();
        let t = cfg.tariff;
        // Friday 22:00 → Saturday 02:00: two weekday hours, two weekend hours.
        assert_eq!(fee(&t, "2026-11-20 22:00", "2026-11-21 02:00", STD), "6.00");
    }

    #[test]
    fn uncovered_week_is_refused() {
        let band = Band {
            name: "day".into(),
            days: [true; 7],
            start: 7 * 60,
            end: 20 * 60,
            first_period: None,
            increment_minutes: 60,
            increment_price: dec!(1),
        };
        let err = Tariff::cut_week(&[band]).unwrap_err();
        assert!(
            err.message
                .contains("Monday 00:00–07:00 is covered by no band"),
            "{}",
            err.message
        );
    }

    fn arb_stay() -> impl Strategy<Value = (DateTime<Utc>, i64, i64, usize)> {
        // Entries over two years (both DST changes), stays up to 5 days, an extension.
        (
            0i64..(2 * 365 * 24 * 60),
            0i64..(5 * 24 * 60),
            0i64..(3 * 24 * 60),
            0usize..5,
        )
            .prop_map(|(start, len, ext, class)| {
                let base = at("2025-01-01 00:00");
                (base + Duration::minutes(start), len, ext, class)
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn fee_never_falls_as_a_stay_grows((entry, len, ext, class) in arb_stay()) {
            let t = demo();
            let class = VehicleClass::ALL[class];
            let short = t.quote(entry, entry + Duration::minutes(len), class, Decimal::ONE);
            let long = t.quote(entry, entry + Duration::minutes(len + ext), class, Decimal::ONE);
            prop_assert!(long.total.amount >= short.total.amount,
                "{} then {}", short.total.amount, long.total.amount);
        }

        #[test]
        fn fee_never_exceeds_daily_max_times_days_touched((entry, len, _ext, class) in arb_stay()) {
            let t = demo();
            let class = VehicleClass::ALL[class];
            let exit = entry + Duration::minutes(len);
            let q = t.quote(entry, exit, class, Decimal::ONE);
            // Each local day touched may cost at most its own cap: the daily maximum times the
            // class factor and that day's event surge (the demo has a New Year's Eve surge).
            let tz = t.timezone;
            let mut day = entry.with_timezone(&tz).date_naive();
            let mut cap = Decimal::ZERO;
            while day <= exit.with_timezone(&tz).date_naive() {
                let surge = t.event_day(day).map_or(Decimal::ONE, |e| e.factor);
                cap += t.daily_max.unwrap() * t.class_factor(class) * surge;
                day = day.succ_opt().unwrap();
            }
            prop_assert!(q.total.amount <= cap, "{} > {}", q.total.amount, cap);
        }

        #[test]
        fn lines_sum_to_the_total((entry, len, _ext, class) in arb_stay(), surge in 0u32..3) {
            let mut t = demo();
            t.minimum_charge = dec!(2.10);
            let day = entry.with_timezone(&t.timezone).date_naive();
            t.event_days.push(EventDay { date: day, name: "event".into(), factor: Decimal::new(100 + i64::from(surge) * 33, 2) });
            let q = t.quote(entry, entry + Duration::minutes(len), VehicleClass::ALL[class], dec!(1.15));
            let sum: Decimal = q.lines.iter().map(|l| l.amount.amount).sum();
            prop_assert_eq!(sum, q.total.amount);
            prop_assert!(q.lines.iter().all(|l| l.amount.amount.scale() <= 2));
        }
    }
}
