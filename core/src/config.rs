//! The lot configuration: a TOML file, validated on load. An invalid config is refused with the
//! file, the field and the reason, before anything is written.

use crate::domain::{AntiPassback, VehicleClass, check_id};
use crate::error::{Error, ErrorKind, Result};
pub use crate::lane_config::{DeviceLink, LaneDevices};
use crate::lane_config::{RawLaneDevices, lane_devices};
use crate::money::Currency;
use crate::tariff::{Band, EventDay, OccupancyStep, Tariff};
use chrono::NaiveDate;
use chrono_tz::Tz;
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer};
use std::collections::HashSet;
use std::path::Path;
use std::str::FromStr;

/// The embedded default: the demo lot.
pub const DEMO_TOML: &str = include_str!("../../examples/lots/demo.toml");

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize, ts_rs::TS)]
#[serde(rename_all = "snake_case")]
pub enum LaneKind {
    Entry,
    Exit,
}

#[derive(Debug, Clone)]
pub struct LotSettings {
    pub id: String,
    pub name: String,
    pub timezone: Tz,
    pub currency: Currency,
    pub anti_passback: AntiPassback,
    pub ev_spots_for_others: bool,
}

#[derive(Debug, Clone)]
pub struct Level {
    pub id: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct Lane {
    pub id: String,
    pub kind: LaneKind,
    pub level: String,
    /// The lane's devices; a lane without them is not run by the lanes runtime (its entries and
    /// exits come from the console or the CLI).
    pub devices: Option<LaneDevices>,
    /// Entry lanes: admit a confidently read plate without printing a ticket.
    pub ticketless: bool,
    /// Exit lanes: when the payment terminal is down, let the driver leave owing (logged as
    /// unable to collect) instead of sending them to pay elsewhere.
    pub pay_later: bool,
    /// Entry lanes: the plate reader's confidence (the probability that the whole plate is
    /// right, 0 to 1) at which a plate counts as read; below it the driver takes a ticket.
    pub plate_confidence: f32,
    /// Entry lanes: the class a vehicle here is taken to be unless its driver chooses on the
    /// ticket button (a motorcycle lane says "motorcycle"). Default: standard.
    pub class: VehicleClass,
}

/// One parking spot as configured.
#[derive(Debug, Clone)]
pub struct SpotDef {
    pub id: String,
    pub level: String,
    pub zone: String,
    pub size: VehicleClass,
    pub ev: bool,
    pub accessible: bool,
    /// Driving distance to each lane, in decimetres, in the order of `LotConfig::lanes`.
    pub distance_dm: Vec<u32>,
}

/// A validated lot configuration.
#[derive(Debug, Clone)]
pub struct LotConfig {
    pub lot: LotSettings,
    pub levels: Vec<Level>,
    pub lanes: Vec<Lane>,
    pub spots: Vec<SpotDef>,
    pub tariff: Tariff,
    pub policies: Policies,
    /// The TOML text this was loaded from; stored in the lot database.
    pub source: String,
}

// ---- the file as written -------------------------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    lot: RawLot,
    levels: Vec<RawLevel>,
    lanes: Vec<RawLane>,
    spots: Vec<RawSpotRow>,
    tariff: RawTariff,
    #[serde(default)]
    reservations: RawReservations,
    #[serde(default)]
    accounts: RawAccounts,
    #[serde(default)]
    users: RawUsers,
    #[serde(default)]
    privacy: RawPrivacy,
    #[serde(default)]
    limits: RawLimits,
    valet: Option<RawValet>,
}

/// `[valet]`: valet parking at the booth, and its tariff.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawValet {
    #[serde(deserialize_with = "de_amount")]
    first_day: Decimal,
    #[serde(deserialize_with = "de_amount")]
    extra_day: Decimal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawReservations {
    enabled: bool,
    max_days_ahead: u32,
    max_hours: u32,
    hold_before_minutes: u32,
    grace_minutes: u32,
    no_show_percent: u32,
    free_cancel_minutes: u32,
    #[serde(deserialize_with = "de_amount")]
    overstay_penalty: Decimal,
    overstay_block_minutes: u32,
    allow_spot_choice: bool,
}

impl Default for RawReservations {
    fn default() -> Self {
        RawReservations {
            enabled: true,
            max_days_ahead: 30,
            max_hours: 7 * 24,
            hold_before_minutes: 15,
            grace_minutes: 15,
            no_show_percent: 20,
            free_cancel_minutes: 60,
            overstay_penalty: Decimal::from(5),
            overstay_block_minutes: 30,
            allow_spot_choice: true,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawAccounts {
    #[serde(deserialize_with = "de_amount")]
    low_balance: Decimal,
    expiry_warning_days: u32,
}

impl Default for RawAccounts {
    fn default() -> Self {
        RawAccounts {
            low_balance: Decimal::from(10),
            expiry_warning_days: 14,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawUsers {
    lockout_after: u32,
    lockout_minutes: u32,
    session_hours: u32,
}

impl Default for RawUsers {
    fn default() -> Self {
        RawUsers {
            lockout_after: 5,
            lockout_minutes: 15,
            session_hours: 12,
        }
    }
}

/// `[limits]`: the most the lot takes in one go, so a slip of the finger (or a script) cannot
/// record a fortune.
#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawLimits {
    /// One payment, refund or shift float.
    #[serde(deserialize_with = "de_amount")]
    max_payment: Decimal,
    /// One top-up of a prepaid account.
    #[serde(deserialize_with = "de_amount")]
    max_top_up: Decimal,
}

impl Default for RawLimits {
    fn default() -> Self {
        RawLimits {
            max_payment: Decimal::from(5000),
            max_top_up: Decimal::from(1000),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawPrivacy {
    plate_retention_days: u32,
}

impl Default for RawPrivacy {
    fn default() -> Self {
        RawPrivacy {
            plate_retention_days: 90,
        }
    }
}

/// Reservation rules (`[reservations]`).
#[derive(Debug, Clone)]
pub struct ReservationPolicy {
    pub enabled: bool,
    pub max_days_ahead: u32,
    pub max_hours: u32,
    pub hold_before_minutes: u32,
    pub grace_minutes: u32,
    pub no_show_percent: u32,
    pub free_cancel_minutes: u32,
    pub overstay_penalty: Decimal,
    pub overstay_block_minutes: u32,
    pub allow_spot_choice: bool,
}

/// Day-to-day rules outside the tariff.
#[derive(Debug, Clone)]
pub struct Policies {
    pub reservations: ReservationPolicy,
    /// Warn when a prepaid account's balance falls below this.
    pub low_balance: Decimal,
    pub expiry_warning_days: u32,
    /// Failed logins before a user is locked out, and for how long.
    pub lockout_after: u32,
    pub lockout_minutes: u32,
    pub session_hours: u32,
    /// Plates of finished stays are replaced by a keyed hash after this many days.
    pub plate_retention_days: u32,
    /// The most one payment, refund or shift float may be (`[limits] max_payment`).
    pub max_payment: Decimal,
    /// The most one prepaid top-up may be (`[limits] max_top_up`).
    pub max_top_up: Decimal,
    /// Valet parking's tariff; None when the lot offers no valet parking.
    pub valet: Option<crate::valet::ValetTariff>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLot {
    id: String,
    name: String,
    timezone: String,
    currency: String,
    #[serde(default = "default_passback")]
    anti_passback: AntiPassback,
    #[serde(default)]
    ev_spots_for_others: bool,
    #[serde(default = "default_level_change")]
    level_change_m: f64,
}

fn default_passback() -> AntiPassback {
    AntiPassback::Hard
}
fn default_level_change() -> f64 {
    40.0
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLevel {
    id: String,
    name: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLane {
    id: String,
    kind: LaneKind,
    level: String,
    x: f64,
    y: f64,
    devices: Option<RawLaneDevices>,
    #[serde(default)]
    ticketless: bool,
    #[serde(default)]
    pay_later: bool,
    #[serde(default = "default_plate_confidence")]
    plate_confidence: f32,
    class: Option<VehicleClass>,
}

fn default_plate_confidence() -> f32 {
    0.8
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSpotRow {
    level: String,
    zone: String,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default = "one")]
    first: u32,
    count: u32,
    size: VehicleClass,
    #[serde(default)]
    ev: bool,
    #[serde(default)]
    accessible: bool,
    x: f64,
    y: f64,
    #[serde(default)]
    dx: f64,
    #[serde(default)]
    dy: f64,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTariff {
    #[serde(default)]
    free_minutes: u32,
    #[serde(default, deserialize_with = "de_amount")]
    minimum_charge: Decimal,
    #[serde(default, deserialize_with = "de_opt_amount")]
    daily_max: Option<Decimal>,
    #[serde(deserialize_with = "de_amount")]
    lost_ticket_fee: Decimal,
    #[serde(default)]
    exit_grace_minutes: u32,
    #[serde(default)]
    class_factors: RawFactors,
    bands: Vec<RawBand>,
    #[serde(default)]
    event_days: Vec<RawEventDay>,
    #[serde(default)]
    occupancy_factors: Vec<RawOccupancyStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFactors {
    #[serde(default = "unit", deserialize_with = "de_amount")]
    motorcycle: Decimal,
    #[serde(default = "unit", deserialize_with = "de_amount")]
    compact: Decimal,
    #[serde(default = "unit", deserialize_with = "de_amount")]
    standard: Decimal,
    #[serde(default = "unit", deserialize_with = "de_amount")]
    large: Decimal,
    #[serde(default = "unit", deserialize_with = "de_amount")]
    bus: Decimal,
}

impl Default for RawFactors {
    fn default() -> Self {
        RawFactors {
            motorcycle: Decimal::ONE,
            compact: Decimal::ONE,
            standard: Decimal::ONE,
            large: Decimal::ONE,
            bus: Decimal::ONE,
        }
    }
}

fn unit() -> Decimal {
    Decimal::ONE
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBand {
    name: String,
    days: Vec<String>,
    start: String,
    end: String,
    #[serde(default)]
    first_period_minutes: Option<u32>,
    #[serde(default, deserialize_with = "de_opt_amount")]
    first_period_price: Option<Decimal>,
    increment_minutes: u32,
    #[serde(deserialize_with = "de_amount")]
    increment_price: Decimal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEventDay {
    date: String,
    name: String,
    #[serde(deserialize_with = "de_amount")]
    factor: Decimal,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOccupancyStep {
    from_percent: u32,
    #[serde(deserialize_with = "de_amount")]
    factor: Decimal,
}

/// Amounts may be written "3.00" (preferred: exact), 3 or 3.0.
#[derive(Deserialize)]
#[serde(untagged)]
enum AmountRepr {
    Text(String),
    Int(i64),
    Float(f64),
}

fn amount_from(r: AmountRepr) -> std::result::Result<Decimal, String> {
    let text = match r {
        AmountRepr::Text(s) => s,
        AmountRepr::Int(i) => i.to_string(),
        AmountRepr::Float(f) => f.to_string(),
    };
    let d = Decimal::from_str(text.trim())
        .map_err(|_| format!("'{text}' is not a decimal amount; write it like \"3.00\""))?;
    if d.is_sign_negative() && !d.is_zero() {
        return Err(format!(
            "{text} is negative; amounts and factors are never below zero"
        ));
    }
    Ok(d)
}

fn de_amount<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Decimal, D::Error> {
    amount_from(AmountRepr::deserialize(d)?).map_err(serde::de::Error::custom)
}

fn de_opt_amount<'de, D: Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Decimal>, D::Error> {
    amount_from(AmountRepr::deserialize(d)?)
        .map(Some)
        .map_err(serde::de::Error::custom)
}

// ---- validation ----------------------------------------------------------------------------

struct Checker<'a> {
    file: &'a str,
}

impl Checker<'_> {
    /// Reads TOML into `T`, naming the field and line of the first problem.
    fn deserialize<T: serde::de::DeserializeOwned>(&self, text: &str) -> Result<T> {
        let de = toml::Deserializer::new(text);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let msg = inner.message().to_string();
            let at = inner
                .span()
                .map(|s| {
                    let line = text[..s.start.min(text.len())].matches('\n').count() + 1;
                    format!(" (line {line})")
                })
                .unwrap_or_default();
            if path == "." || path.is_empty() {
                self.err("(file)", format!("{msg}{at}"))
            } else {
                self.err(&path, format!("{msg}{at}"))
            }
        })
    }
    fn err(&self, field: &str, reason: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorKind::Config,
            format!("{}: {field}: {reason}", self.file),
        )
    }
    fn id(&self, field: &str, what: &str, id: &str) -> Result<()> {
        check_id(what, id).map_err(|e| self.err(field, e.message))
    }
    fn money(&self, field: &str, v: Decimal, cur: Currency) -> Result<Decimal> {
        if v.normalize().scale() > cur.minor_units() {
            return Err(self.err(field, format!("{v} has more decimals than {cur} allows")));
        }
        Ok(v)
    }
    fn policies(&self, raw: &RawConfig, cur: Currency) -> Result<Policies> {
        let r = &raw.reservations;
        let range = |field: &str, v: u32, lo: u32, hi: u32| {
            if v < lo || v > hi {
                Err(self.err(field, format!("{v} is out of range: use {lo} to {hi}")))
            } else {
                Ok(v)
            }
        };
        range("reservations.max_days_ahead", r.max_days_ahead, 1, 366)?;
        range("reservations.max_hours", r.max_hours, 1, 31 * 24)?;
        range(
            "reservations.hold_before_minutes",
            r.hold_before_minutes,
            0,
            240,
        )?;
        range("reservations.grace_minutes", r.grace_minutes, 0, 240)?;
        range("reservations.no_show_percent", r.no_show_percent, 0, 100)?;
        range(
            "reservations.free_cancel_minutes",
            r.free_cancel_minutes,
            0,
            7 * 24 * 60,
        )?;
        range(
            "reservations.overstay_block_minutes",
            r.overstay_block_minutes,
            1,
            24 * 60,
        )?;
        let penalty = self.money("reservations.overstay_penalty", r.overstay_penalty, cur)?;
        if penalty < Decimal::ZERO {
            return Err(self.err("reservations.overstay_penalty", "must not be negative"));
        }
        let low = self.money("accounts.low_balance", raw.accounts.low_balance, cur)?;
        range(
            "accounts.expiry_warning_days",
            raw.accounts.expiry_warning_days,
            0,
            366,
        )?;
        let u = &raw.users;
        range("users.lockout_after", u.lockout_after, 1, 100)?;
        range("users.lockout_minutes", u.lockout_minutes, 1, 24 * 60)?;
        range("users.session_hours", u.session_hours, 1, 24 * 7)?;
        range(
            "privacy.plate_retention_days",
            raw.privacy.plate_retention_days,
            1,
            3650,
        )?;
        let limit = |field: &str, v: Decimal| -> Result<Decimal> {
            let v = self.money(field, v, cur)?;
            if v <= Decimal::ZERO {
                return Err(self.err(field, format!("{v} must be above zero")));
            }
            Ok(v)
        };
        let max_payment = limit("limits.max_payment", raw.limits.max_payment)?;
        let max_top_up = limit("limits.max_top_up", raw.limits.max_top_up)?;
        Ok(Policies {
            reservations: ReservationPolicy {
                enabled: r.enabled,
                max_days_ahead: r.max_days_ahead,
                max_hours: r.max_hours,
                hold_before_minutes: r.hold_before_minutes,
                grace_minutes: r.grace_minutes,
                no_show_percent: r.no_show_percent,
                free_cancel_minutes: r.free_cancel_minutes,
                overstay_penalty: penalty,
                overstay_block_minutes: r.overstay_block_minutes,
                allow_spot_choice: r.allow_spot_choice,
            },
            low_balance: low,
            expiry_warning_days: raw.accounts.expiry_warning_days,
            lockout_after: u.lockout_after,
            lockout_minutes: u.lockout_minutes,
            session_hours: u.session_hours,
            plate_retention_days: raw.privacy.plate_retention_days,
            max_payment,
            max_top_up,
            valet: match &raw.valet {
                None => None,
                Some(v) => {
                    let first_day = self.money("valet.first_day", v.first_day, cur)?;
                    let extra_day = self.money("valet.extra_day", v.extra_day, cur)?;
                    if first_day <= Decimal::ZERO {
                        return Err(self.err(
                            "valet.first_day",
                            "must be above zero (leave [valet] out if the lot has no valet parking)",
                        ));
                    }
                    if extra_day < Decimal::ZERO {
                        return Err(self.err("valet.extra_day", "must not be negative"));
                    }
                    Some(crate::valet::ValetTariff {
                        first_day,
                        extra_day,
                    })
                }
            },
        })
    }

    fn factor(&self, field: &str, v: Decimal) -> Result<Decimal> {
        if v <= Decimal::ZERO || v > Decimal::from(100) {
            return Err(self.err(field, format!("factor {v} must be above 0 and at most 100")));
        }
        Ok(v)
    }
    fn minute_of_day(&self, field: &str, s: &str, allow_24: bool) -> Result<u32> {
        let bad = || {
            self.err(
                field,
                format!("'{s}' is not a time of day; write HH:MM, for example 07:00"),
            )
        };
        let (h, m) = s.trim().split_once(':').ok_or_else(bad)?;
        let h: u32 = h.parse().map_err(|_| bad())?;
        let m: u32 = m.parse().map_err(|_| bad())?;
        if m >= 60 || h > 24 || (h == 24 && (m != 0 || !allow_24)) {
            return Err(bad());
        }
        Ok(h * 60 + m)
    }
}

fn weekday_index(s: &str) -> Option<usize> {
    let s = s.trim().to_ascii_lowercase();
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .position(|d| s.starts_with(d))
}

impl LotConfig {
    /// The embedded demo lot.
    pub fn demo() -> Result<LotConfig> {
        Self::from_toml_str("examples/lots/demo.toml (embedded)", DEMO_TOML)
    }

    /// Loads and validates a config file.
    pub fn load(path: &Path) -> Result<LotConfig> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("{}: cannot read the lot config: {e}", path.display()),
            )
        })?;
        Self::from_toml_str(&path.display().to_string(), &text)
    }

    /// Parses and validates config text; `file` names it in errors.
    pub fn from_toml_str(file: &str, text: &str) -> Result<LotConfig> {
        let c = Checker { file };
        let raw: RawConfig = c.deserialize(text)?;
        Self::validate(&c, raw, text)
    }

    /// A tariff published after the lot was set up: a `[tariff]` table written as in the lot
    /// config, checked against this lot's currency and timezone. Errors name `file` and the field.
    pub fn parse_tariff(&self, file: &str, text: &str) -> Result<Tariff> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct TariffFile {
            tariff: RawTariff,
        }
        let c = Checker { file };
        let raw: TariffFile = c.deserialize(text)?;
        Self::validate_tariff(&c, &raw.tariff, self.lot.currency, self.lot.timezone)
    }

    fn validate(c: &Checker, raw: RawConfig, text: &str) -> Result<LotConfig> {
        let l = &raw.lot;
        c.id("lot.id", "lot id", &l.id)?;
        if l.name.trim().is_empty() {
            return Err(c.err(
                "lot.name",
                "the lot needs a name that drivers and staff see",
            ));
        }
        let timezone: Tz = l.timezone.parse().map_err(|_| {
            c.err(
                "lot.timezone",
                format!(
                    "'{}' is not an IANA timezone; write it like Europe/Berlin",
                    l.timezone
                ),
            )
        })?;
        let currency =
            Currency::parse(&l.currency).map_err(|e| c.err("lot.currency", e.message))?;
        if !(l.level_change_m.is_finite() && l.level_change_m >= 0.0) {
            return Err(c.err(
                "lot.level_change_m",
                "must be a distance in metres, 0 or more",
            ));
        }

        if raw.levels.is_empty() {
            return Err(c.err("levels", "the lot needs at least one [[levels]] entry"));
        }
        let mut level_ids = Vec::new();
        let mut levels = Vec::new();
        for (i, lv) in raw.levels.iter().enumerate() {
            c.id(&format!("levels[{i}].id"), "level id", &lv.id)?;
            if level_ids.contains(&lv.id) {
                return Err(c.err(
                    &format!("levels[{i}].id"),
                    format!("level '{}' is listed twice", lv.id),
                ));
            }
            level_ids.push(lv.id.clone());
            levels.push(Level {
                id: lv.id.clone(),
                name: lv.name.clone(),
            });
        }
        let level_index = |field: &str, id: &str| -> Result<usize> {
            level_ids.iter().position(|x| x == id).ok_or_else(|| {
                c.err(
                    field,
                    format!(
                        "level '{id}' is not among [[levels]] ({})",
                        level_ids.join(", ")
                    ),
                )
            })
        };

        let mut lanes = Vec::new();
        let mut lane_pos = Vec::new();
        for (i, ln) in raw.lanes.iter().enumerate() {
            c.id(&format!("lanes[{i}].id"), "lane id", &ln.id)?;
            if lanes.iter().any(|x: &Lane| x.id == ln.id) {
                return Err(c.err(
                    &format!("lanes[{i}].id"),
                    format!("lane '{}' is listed twice", ln.id),
                ));
            }
            let li = level_index(&format!("lanes[{i}].level"), &ln.level)?;
            if !(ln.x.is_finite() && ln.y.is_finite()) {
                return Err(c.err(
                    &format!("lanes[{i}].x"),
                    "position must be a finite number of metres",
                ));
            }
            lane_pos.push((li, ln.x, ln.y));
            let devices = ln
                .devices
                .as_ref()
                .map(|d| lane_devices(&format!("lanes[{i}].devices"), d))
                .transpose()
                .map_err(|(field, reason)| c.err(&field, reason))?;
            if ln.ticketless && ln.kind == LaneKind::Exit {
                return Err(c.err(
                    &format!("lanes[{i}].ticketless"),
                    "ticketless is for entry lanes (an exit lane finds the stay by plate anyway)",
                ));
            }
            if ln.pay_later && ln.kind == LaneKind::Entry {
                return Err(c.err(
                    &format!("lanes[{i}].pay_later"),
                    "pay_later is for exit lanes, where the payment terminal is",
                ));
            }
            if ln.class.is_some() && ln.kind == LaneKind::Exit {
                return Err(c.err(
                    &format!("lanes[{i}].class"),
                    "class is for entry lanes, where the spot is chosen",
                ));
            }
            if !(ln.plate_confidence > 0.0 && ln.plate_confidence <= 1.0) {
                return Err(c.err(
                    &format!("lanes[{i}].plate_confidence"),
                    format!(
                        "{} is not a probability; give a number above 0 and up to 1, such as 0.8",
                        ln.plate_confidence
                    ),
                ));
            }
            lanes.push(Lane {
                id: ln.id.clone(),
                kind: ln.kind,
                level: ln.level.clone(),
                devices,
                ticketless: ln.ticketless,
                pay_later: ln.pay_later,
                plate_confidence: ln.plate_confidence,
                class: ln.class.unwrap_or(VehicleClass::Standard),
            });
        }
        for kind in [LaneKind::Entry, LaneKind::Exit] {
            if !lanes.iter().any(|x| x.kind == kind) {
                return Err(c.err(
                    "lanes",
                    format!(
                        "the lot needs at least one {} lane",
                        if kind == LaneKind::Entry {
                            "entry"
                        } else {
                            "exit"
                        }
                    ),
                ));
            }
        }

        let mut spots = Vec::new();
        let mut spot_ids = HashSet::new();
        for (i, row) in raw.spots.iter().enumerate() {
            let f = |name: &str| format!("spots[{i}].{name}");
            let li = level_index(&f("level"), &row.level)?;
            c.id(&f("zone"), "zone", &row.zone)?;
            if row.count == 0 || row.count > 10_000 {
                return Err(c.err(&f("count"), "a row has 1 to 10000 spots"));
            }
            if row.accessible && row.size == VehicleClass::Motorcycle {
                return Err(c.err(
                    &f("accessible"),
                    "an accessible spot must be compact or larger",
                ));
            }
            for v in [row.x, row.y, row.dx, row.dy] {
                if !v.is_finite() {
                    return Err(c.err(&f("x"), "positions must be finite numbers of metres"));
                }
            }
            let prefix = row
                .prefix
                .clone()
                .unwrap_or_else(|| format!("{}-{}", row.level, row.zone));
            for k in 0..row.count {
                let id = format!("{prefix}-{:03}", row.first + k);
                c.id(&f("prefix"), "spot id", &id)?;
                if !spot_ids.insert(id.clone()) {
                    return Err(c.err(&f("prefix"), format!("spot '{id}' would exist twice; give this row another prefix or first number")));
                }
                let x = row.x + row.dx * f64::from(k);
                let y = row.y + row.dy * f64::from(k);
                let distance_dm = lane_pos
                    .iter()
                    .map(|&(lli, lx, ly)| {
                        let levels = li.abs_diff(lli) as f64;
                        let m = (x - lx).abs() + (y - ly).abs() + levels * l.level_change_m;
                        (m * 10.0).round().clamp(0.0, f64::from(u32::MAX)) as u32
                    })
                    .collect();
                spots.push(SpotDef {
                    id,
                    level: row.level.clone(),
                    zone: row.zone.clone(),
                    size: row.size,
                    ev: row.ev,
                    accessible: row.accessible,
                    distance_dm,
                });
            }
        }
        if spots.is_empty() {
            return Err(c.err("spots", "the lot needs at least one [[spots]] row"));
        }

        let tariff = Self::validate_tariff(c, &raw.tariff, currency, timezone)?;
        let policies = c.policies(&raw, currency)?;
        Ok(LotConfig {
            lot: LotSettings {
                id: l.id.clone(),
                name: l.name.trim().to_string(),
                timezone,
                currency,
                anti_passback: l.anti_passback,
                ev_spots_for_others: l.ev_spots_for_others,
            },
            levels,
            lanes,
            spots,
            tariff,
            policies,
            source: text.to_string(),
        })
    }

    fn validate_tariff(c: &Checker, t: &RawTariff, cur: Currency, tz: Tz) -> Result<Tariff> {
        let minimum = c.money("tariff.minimum_charge", t.minimum_charge, cur)?;
        let daily_max = t
            .daily_max
            .map(|m| c.money("tariff.daily_max", m, cur))
            .transpose()?;
        if let Some(max) = daily_max
            && minimum > max
        {
            return Err(c.err(
                "tariff.minimum_charge",
                format!("{minimum} is above the daily maximum {max}"),
            ));
        }
        let lost = c.money("tariff.lost_ticket_fee", t.lost_ticket_fee, cur)?;
        if t.free_minutes > 24 * 60 {
            return Err(c.err("tariff.free_minutes", "at most 1440 (one day)"));
        }
        if t.exit_grace_minutes > 24 * 60 {
            return Err(c.err("tariff.exit_grace_minutes", "at most 1440 (one day)"));
        }
        let cf = &t.class_factors;
        let class_factors = [
            c.factor("tariff.class_factors.motorcycle", cf.motorcycle)?,
            c.factor("tariff.class_factors.compact", cf.compact)?,
            c.factor("tariff.class_factors.standard", cf.standard)?,
            c.factor("tariff.class_factors.large", cf.large)?,
            c.factor("tariff.class_factors.bus", cf.bus)?,
        ];
        if t.bands.is_empty() {
            return Err(c.err(
                "tariff.bands",
                "the tariff needs at least one [[tariff.bands]] entry",
            ));
        }
        let mut bands = Vec::new();
        for (i, b) in t.bands.iter().enumerate() {
            let f = |name: &str| format!("tariff.bands[{i}].{name}");
            if b.name.trim().is_empty() {
                return Err(c.err(
                    &f("name"),
                    "a band needs a name (it is printed on receipts)",
                ));
            }
            if bands.iter().any(|x: &Band| x.name == b.name) {
                return Err(c.err(&f("name"), format!("band '{}' is listed twice", b.name)));
            }
            let mut days = [false; 7];
            if b.days.is_empty() {
                return Err(c.err(
                    &f("days"),
                    "list the weekdays the band starts on, e.g. [\"mon\", \"tue\"]",
                ));
            }
            for d in &b.days {
                let k = weekday_index(d).ok_or_else(|| {
                    c.err(
                        &f("days"),
                        format!("'{d}' is not a weekday; use mon, tue, wed, thu, fri, sat, sun"),
                    )
                })?;
                days[k] = true;
            }
            let start = c.minute_of_day(&f("start"), &b.start, false)?;
            let end = c.minute_of_day(&f("end"), &b.end, true)?;
            if start == end {
                return Err(c.err(&f("end"), "a band cannot start and end at the same time; use 00:00 to 24:00 for a whole day"));
            }
            if b.increment_minutes == 0 || b.increment_minutes > 1440 {
                return Err(c.err(&f("increment_minutes"), "an increment is 1 to 1440 minutes"));
            }
            let first_period = match (b.first_period_minutes, b.first_period_price) {
                (None, None) => None,
                (Some(m), Some(p)) if (1..=1440).contains(&m) => {
                    Some((m, c.money(&f("first_period_price"), p, cur)?))
                }
                (Some(_), Some(_)) => {
                    return Err(c.err(
                        &f("first_period_minutes"),
                        "a first period is 1 to 1440 minutes",
                    ));
                }
                _ => {
                    return Err(c.err(
                        &f("first_period_minutes"),
                        "give both first_period_minutes and first_period_price, or neither",
                    ));
                }
            };
            bands.push(Band {
                name: b.name.trim().to_string(),
                days,
                start,
                end: if end == 0 { 1440 } else { end },
                first_period,
                increment_minutes: b.increment_minutes,
                increment_price: c.money(&f("increment_price"), b.increment_price, cur)?,
            });
        }
        let mut event_days = Vec::new();
        for (i, e) in t.event_days.iter().enumerate() {
            let f = |name: &str| format!("tariff.event_days[{i}].{name}");
            let date = NaiveDate::parse_from_str(e.date.trim(), "%Y-%m-%d").map_err(|_| {
                c.err(
                    &f("date"),
                    format!("'{}' is not a date; write YYYY-MM-DD", e.date),
                )
            })?;
            if event_days.iter().any(|x: &EventDay| x.date == date) {
                return Err(c.err(&f("date"), format!("{date} is listed twice")));
            }
            event_days.push(EventDay {
                date,
                name: e.name.clone(),
                factor: c.factor(&f("factor"), e.factor)?,
            });
        }
        let mut steps = Vec::new();
        for (i, s) in t.occupancy_factors.iter().enumerate() {
            let f = |name: &str| format!("tariff.occupancy_factors[{i}].{name}");
            if s.from_percent == 0 || s.from_percent > 100 {
                return Err(c.err(&f("from_percent"), "a percentage from 1 to 100"));
            }
            steps.push(OccupancyStep {
                from_percent: s.from_percent,
                factor: c.factor(&f("factor"), s.factor)?,
            });
        }
        Tariff::new(
            cur,
            tz,
            t.free_minutes,
            minimum,
            daily_max,
            lost,
            t.exit_grace_minutes,
            class_factors,
            bands,
            event_days,
            steps,
        )
        .map_err(|e| {
            let field = e
                .band
                .map_or("tariff.bands".to_string(), |i| format!("tariff.bands[{i}]"));
            c.err(&field, e.message)
        })
    }

    pub fn lane_index(&self, id: &str) -> Option<usize> {
        self.lanes.iter().position(|l| l.id == id)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The demo config with its bands replaced (the bands are the last thing in demo.toml).
    pub(crate) fn demo_with_tariff(bands: &str) -> String {
        let cut = DEMO_TOML.find("[[tariff.bands]]").unwrap();
        format!("{}{}", &DEMO_TOML[..cut], bands)
    }

    fn err_of(text: &str) -> String {
        LotConfig::from_toml_str("lot.toml", text)
            .unwrap_err()
            .message
    }

    #[test]
    fn demo_lot_is_a_three_level_car_park_of_about_300_spots() {
        let c = LotConfig::demo().unwrap();
        assert_eq!(c.levels.len(), 3);
        assert!(
            (280..=320).contains(&c.spots.len()),
            "{} spots",
            c.spots.len()
        );
        for size in VehicleClass::ALL {
            assert!(c.spots.iter().any(|s| s.size == size), "no {size} spot");
        }
        assert!(c.spots.iter().any(|s| s.ev));
        assert!(c.spots.iter().any(|s| s.accessible));
        assert_eq!(
            c.lanes.iter().filter(|l| l.kind == LaneKind::Entry).count(),
            2
        );
        assert_eq!(
            c.lanes.iter().filter(|l| l.kind == LaneKind::Exit).count(),
            2
        );
        assert_eq!(c.lot.currency.code(), "EUR");
        assert_eq!(c.lot.timezone, chrono_tz::Europe::Berlin);
    }

    #[test]
    fn bad_timezone_names_file_field_and_reason() {
        let text = DEMO_TOML.replace("Europe/Berlin", "Europe/Atlantis");
        let e = err_of(&text);
        assert!(
            e.starts_with("lot.toml: lot.timezone: 'Europe/Atlantis' is not an IANA timezone"),
            "{e}"
        );
    }

    #[test]
    fn unknown_field_is_named_with_its_path() {
        let text = DEMO_TOML.replace("free_minutes = 10", "free_minutes = 10\nfree_minuets = 5");
        let e = err_of(&text);
        assert!(e.contains("tariff") && e.contains("free_minuets"), "{e}");
    }

    #[test]
    fn wrong_type_is_named_with_its_path() {
        let text = DEMO_TOML.replacen("count = ", "count = \"many\" #", 1);
        let e = err_of(&text);
        assert!(e.starts_with("lot.toml: spots[0].count:"), "{e}");
    }

    #[test]
    fn gap_in_the_bands_is_refused() {
        let text = DEMO_TOML.replace("start = \"07:00\"", "start = \"08:00\"");
        let e = err_of(&text);
        assert!(
            e.contains("tariff.bands") && e.contains("07:00–08:00 is covered by no band"),
            "{e}"
        );
    }

    #[test]
    fn price_with_too_many_decimals_is_refused() {
        let text = DEMO_TOML.replace(
            "first_period_price = \"3.00\"",
            "first_period_price = \"3.001\"",
        );
        let e = err_of(&text);
        assert!(
            e.contains("tariff.bands[0].first_period_price") && e.contains("more decimals"),
            "{e}"
        );
    }

    #[test]
    fn lane_on_an_unknown_level_is_refused() {
        let text = DEMO_TOML.replacen("level = \"P0\"", "level = \"P9\"", 1);
        let e = err_of(&text);
        assert!(
            e.contains("lanes[0].level: level 'P9' is not among [[levels]]"),
            "{e}"
        );
    }
    #[test]
    fn demo_lanes_run_on_simulated_devices_and_e2_is_ticketless() {
        let c = LotConfig::demo().expect("demo");
        assert!(
            c.lanes
                .iter()
                .all(|l| l.devices.as_ref().is_some_and(|d| d.simulated))
        );
        let ticketless: Vec<&str> = c
            .lanes
            .iter()
            .filter(|l| l.ticketless)
            .map(|l| l.id.as_str())
            .collect();
        assert_eq!(ticketless, ["E2"]);
    }

    #[test]
    fn a_lane_device_error_names_the_file_and_the_lane_field() {
        let text = DEMO_TOML.replacen("simulated = true", "gate = { tcp = \"10.0.1.20\" }", 1);
        let e = err_of(&text);
        assert!(
            e.starts_with("lot.toml: lanes[0].devices.gate.tcp: '10.0.1.20' is not host:port"),
            "{e}"
        );
    }

    #[test]
    fn a_motorcycle_entry_lane_takes_its_class_and_an_exit_lane_may_not_have_one() {
        let text = DEMO_TOML.replace(
            "y = 80\nticketless = true\n",
            "y = 80\nticketless = true\nclass = \"motorcycle\"\n",
        );
        let c = LotConfig::from_toml_str("lot.toml", &text).unwrap();
        let classes: Vec<(&str, VehicleClass)> =
            c.lanes.iter().map(|l| (l.id.as_str(), l.class)).collect();
        assert_eq!(classes[0], ("E1", VehicleClass::Standard));
        assert_eq!(classes[1], ("E2", VehicleClass::Motorcycle));
        let text = DEMO_TOML.replace("x = 6\ny = 0\n", "x = 6\ny = 0\nclass = \"large\"\n");
        let e = LotConfig::from_toml_str("lot.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("lot.toml: lanes[2].class:"), "{e}");
        let text = DEMO_TOML.replace("y = 80\nticketless = true\n", "y = 80\nclass = \"lorry\"\n");
        let e = LotConfig::from_toml_str("lot.toml", &text)
            .unwrap_err()
            .to_string();
        assert!(e.contains("lanes") && e.contains("lorry"), "{e}");
    }

    #[test]
    fn the_lots_limits_default_to_5000_a_payment_and_1000_a_top_up_and_a_zero_limit_is_named() {
        let c = LotConfig::from_toml_str("lot.toml", DEMO_TOML).unwrap();
        assert_eq!(c.policies.max_payment, Decimal::from(5000));
        assert_eq!(c.policies.max_top_up, Decimal::from(1000));
        let c = LotConfig::from_toml_str(
            "lot.toml",
            &format!("{DEMO_TOML}\n[limits]\nmax_top_up = \"250.00\"\n"),
        )
        .unwrap();
        assert_eq!(c.policies.max_top_up, Decimal::new(25000, 2));
        assert_eq!(c.policies.max_payment, Decimal::from(5000));
        let e = LotConfig::from_toml_str(
            "lot.toml",
            &format!("{DEMO_TOML}\n[limits]\nmax_payment = \"0\"\n"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("lot.toml: limits.max_payment:"), "{e}");
        assert!(e.contains("above zero"), "{e}");
    }

    #[test]
    fn ticketless_on_an_exit_lane_is_refused() {
        let text = DEMO_TOML.replace("x = 6\ny = 0\n", "x = 6\ny = 0\nticketless = true\n");
        let e = err_of(&text);
        assert!(e.starts_with("lot.toml: lanes[2].ticketless:"), "{e}");
    }
}
