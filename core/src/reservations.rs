//! Reservations: capacity booked ahead for a vehicle class, held from shortly before the start
//! to a grace after it.
//!
//! Capacity is counted per pool (regular, EV, accessible; `allocation::Pool`) and per size
//! threshold: a vehicle fits spots of its size or larger, so by Hall's theorem the bookings and
//! vehicles can all be placed exactly when, for every size `s`, the bookings that need a spot of
//! size ≥ `s` at the busiest instant, plus the occupied spots of size ≥ `s`, are at most the
//! spots of size ≥ `s`. Every booking checks this over its window, counting the vehicles inside
//! now (they may still be there); every walk-in checks it against the busiest future instant of
//! the book, so a walk-in never takes capacity a booking was promised. Together: at every
//! instant, reservations plus vehicles inside never exceed capacity.

use crate::allocation::{Pool, PoolCounts};
use crate::command as req;
use crate::config::ReservationPolicy;
use crate::domain::{Plate, VehicleClass};
use crate::engine::{Job, Outcome};
use crate::error::{Error, ErrorKind, Result};
use crate::events::Event;
use crate::store::{parse_ts, ts};
use crate::tx::{Applied, Effect, Handle, Tx, recorded};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use rust_decimal::Decimal;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};

/// A booking as the engine receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReservationRequest {
    pub plate: Option<Plate>,
    pub class: VehicleClass,
    pub ev: bool,
    pub accessible: bool,
    /// A chosen spot (when the lot allows it): given at arrival when free.
    pub spot: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub holder: Option<String>,
}

/// A reservation as shown to staff and drivers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReservationView {
    pub id: i64,
    pub code: String,
    pub status: String,
    pub plate: Option<String>,
    pub class: VehicleClass,
    pub ev: bool,
    pub accessible: bool,
    pub spot: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The window in the lot's local time, for people.
    pub window: String,
    /// What the stay is estimated to cost at the tariff.
    pub estimate: String,
    /// A no-show or late-cancellation fee owed.
    pub fee: String,
    pub currency: String,
    pub stay: Option<i64>,
}

/// One booked reservation in the book: the capacity it holds from `from` (start less the hold)
/// to `to` (its end).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Booking {
    pub id: i64,
    pub pool: Pool,
    pub size: VehicleClass,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// When it becomes a no-show: start plus grace.
    pub due: DateTime<Utc>,
}

/// Peak demand `[pool][size threshold]`: bookings needing a spot of that size or larger at the
/// busiest instant.
pub type Peaks = [[u32; 5]; 3];

/// The most bookings needing a spot of size ≥ s in each pool at any instant of `[from, to)`.
pub fn peaks<'a>(
    bookings: impl Iterator<Item = &'a Booking>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Peaks {
    // (time, delta, pool, size); ends sort before starts at the same instant (half-open).
    let mut events: Vec<(DateTime<Utc>, i32, usize, usize)> = Vec::new();
    for b in bookings {
        if b.from < to && b.to > from {
            events.push((b.from.max(from), 1, b.pool.index(), b.size.index()));
            if b.to < to {
                events.push((b.to, -1, b.pool.index(), b.size.index()));
            }
        }
    }
    events.sort_unstable_by_key(|e| (e.0, e.1));
    let mut cur = [[0i64; 5]; 3];
    let mut peak = [[0u32; 5]; 3];
    for (_, d, p, size) in events {
        cur[p][size] += i64::from(d);
        if d > 0 {
            let mut sum = 0;
            for s in (0..=4).rev() {
                sum += cur[p][s];
                if s <= size {
                    peak[p][s] = peak[p][s].max(sum.max(0) as u32);
                }
            }
        }
    }
    peak
}

/// Free spots of size ≥ s per pool: in service less occupied.
fn free_ge(counts: &PoolCounts) -> [[i64; 5]; 3] {
    let mut out = [[0i64; 5]; 3];
    for p in 0..3 {
        let mut sum = 0;
        for s in (0..5).rev() {
            sum += i64::from(counts[p][s].0) - i64::from(counts[p][s].1);
            out[p][s] = sum;
        }
    }
    out
}

/// How many more vehicles of `class` the pool can take (or book) given these peaks.
pub fn room(counts: &PoolCounts, peaks: &Peaks, pool: Pool, class: VehicleClass) -> i64 {
    let free = free_ge(counts);
    (0..=class.index())
        .map(|s| free[pool.index()][s] - i64::from(peaks[pool.index()][s]))
        .min()
        .unwrap_or(0)
        .max(0)
}

/// Spots of the pool that fit `class` (in service, occupied).
fn fitting(counts: &PoolCounts, pool: Pool, class: VehicleClass) -> (i64, i64) {
    counts[pool.index()][class.index()..]
        .iter()
        .fold((0, 0), |(s, o), (n, occ)| {
            (s + i64::from(*n), o + i64::from(*occ))
        })
}

/// Which spot categories a walk-in may take now.
pub struct WalkInRule {
    free: [[i64; 5]; 3],
    peaks: Peaks,
}

impl WalkInRule {
    /// Whether taking one free spot of this pool and size keeps every booking placeable.
    pub fn allows(&self, pool: Pool, size: VehicleClass) -> bool {
        let p = pool.index();
        (0..=size.index()).all(|s| self.free[p][s] - i64::from(self.peaks[p][s]) >= 1)
    }
}

/// The booked reservations, in memory, rebuilt from the database at start.
#[derive(Debug, Default)]
pub struct ReservationBook {
    bookings: HashMap<i64, Booking>,
    due: BTreeSet<(DateTime<Utc>, i64)>,
    version: u64,
    /// Peaks over [computed_at, ∞), valid until a booking ends or the book changes.
    cache: Option<(u64, DateTime<Utc>, DateTime<Utc>, Peaks)>,
}

impl ReservationBook {
    pub fn load(conn: &Connection, policy: &ReservationPolicy) -> Result<ReservationBook> {
        let mut book = ReservationBook::default();
        let mut stmt = conn.prepare(
            "SELECT id, class, ev, accessible, start_at, end_at FROM reservations WHERE status = 'booked'",
        )?;
        for b in bookings(&mut stmt, [], policy)? {
            book.insert(b);
        }
        Ok(book)
    }

    pub fn insert(&mut self, b: Booking) {
        if let Some(old) = self.bookings.insert(b.id, b) {
            self.due.remove(&(old.due, old.id));
        }
        self.due.insert((b.due, b.id));
        self.version += 1;
    }

    pub fn remove(&mut self, id: i64) {
        if let Some(old) = self.bookings.remove(&id) {
            self.due.remove(&(old.due, old.id));
            self.version += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.bookings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bookings.is_empty()
    }

    /// Whether a booking turned into a no-show by `at`.
    pub fn due(&self, at: DateTime<Utc>) -> bool {
        self.due.first().is_some_and(|(t, _)| *t < at)
    }

    fn overdue(&self, at: DateTime<Utc>) -> Vec<i64> {
        self.due
            .iter()
            .take_while(|(t, _)| *t < at)
            .map(|(_, id)| *id)
            .collect()
    }

    /// Peaks over `[from, to)`, leaving one booking out (when it is being changed).
    pub fn peaks_between(&self, from: DateTime<Utc>, to: DateTime<Utc>, except: i64) -> Peaks {
        peaks(self.bookings.values().filter(|b| b.id != except), from, to)
    }

    /// Peaks from `at` on, cached while no booking ends and the book is unchanged.
    fn future_peaks(&mut self, at: DateTime<Utc>) -> Peaks {
        if let Some((v, computed, until, p)) = self.cache
            && v == self.version
            && at >= computed
            && at < until
        {
            return p;
        }
        let far = at + Duration::days(3660);
        let p = peaks(self.bookings.values(), at, far);
        let until = self
            .bookings
            .values()
            .map(|b| b.to)
            .filter(|t| *t > at)
            .min()
            .unwrap_or(far);
        self.cache = Some((self.version, at, until, p));
        p
    }
}

/// Reads `id, class, ev, accessible, start_at, end_at` rows as bookings.
fn bookings(
    stmt: &mut rusqlite::Statement<'_>,
    params: impl rusqlite::Params,
    policy: &ReservationPolicy,
) -> Result<Vec<Booking>> {
    let rows = stmt.query_map(params, |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (id, class, ev, acc, start, end) = row?;
        let class = VehicleClass::parse(&class)
            .map_err(|_| Error::storage(format!("reservation {id} has class '{class}'")))?;
        out.push(booking(
            policy,
            id,
            class,
            ev,
            acc,
            parse_ts(&start)?,
            parse_ts(&end)?,
        ));
    }
    Ok(out)
}

fn booking(
    policy: &ReservationPolicy,
    id: i64,
    class: VehicleClass,
    ev: bool,
    accessible: bool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Booking {
    Booking {
        id,
        pool: Pool::of(ev, accessible),
        size: class,
        from: start - Duration::minutes(i64::from(policy.hold_before_minutes)),
        to: end,
        due: start + Duration::minutes(i64::from(policy.grace_minutes)),
    }
}

/// A reservation row as the engine needs it.
#[derive(Debug, Clone)]
pub(crate) struct ReservationRow {
    pub id: i64,
    pub code: String,
    pub status: String,
    pub plate: Option<String>,
    pub class: VehicleClass,
    pub ev: bool,
    pub accessible: bool,
    pub spot: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub fee: Decimal,
    pub stay: Option<i64>,
}

const COLUMNS: &str =
    "id, code, status, plate, class, ev, accessible, spot_id, start_at, end_at, fee, stay_id";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Result<ReservationRow>> {
    let class: String = r.get(4)?;
    let start: String = r.get(8)?;
    let end: String = r.get(9)?;
    let fee: String = r.get(10)?;
    let (id, code, status, plate, ev, accessible, spot, stay) = (
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(11)?,
    );
    Ok((|| {
        Ok(ReservationRow {
            id,
            code,
            status,
            plate,
            class: VehicleClass::parse(&class)?,
            ev,
            accessible,
            spot,
            start: parse_ts(&start)?,
            end: parse_ts(&end)?,
            fee: fee
                .parse()
                .map_err(|_| Error::storage(format!("reservation {id} has fee '{fee}'")))?,
            stay,
        })
    })())
}

pub(crate) fn by_code(conn: &Connection, code: &str) -> Result<ReservationRow> {
    let code = normalise_code(code);
    conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM reservations WHERE code = ?1"
    ))?
    .query_row([&code], row)
    .optional()?
    .transpose()?
    .ok_or_else(|| {
        Error::not_found(format!(
            "there is no reservation {code}; check the confirmation code"
        ))
    })
}

/// Every reservation starting in `[from, to)`, for lists and reports.
pub fn list(
    conn: &Connection,
    ctx: &crate::stays::LotContext,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<ReservationView>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM reservations WHERE start_at >= ?1 AND start_at < ?2 ORDER BY start_at, id"
    ))?;
    let rows = stmt.query_map([ts(from), ts(to)], row)?;
    let mut out = Vec::new();
    for r in rows {
        out.push(view(ctx, &r??));
    }
    Ok(out)
}

pub fn find(
    conn: &Connection,
    ctx: &crate::stays::LotContext,
    code: &str,
) -> Result<ReservationView> {
    Ok(view(ctx, &by_code(conn, code)?))
}

fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

fn view(ctx: &crate::stays::LotContext, r: &ReservationRow) -> ReservationView {
    let est = ctx
        .tariffs
        .at(r.start)
        .quote(r.start, r.end, r.class, Decimal::ONE)
        .total
        .amount;
    ReservationView {
        id: r.id,
        code: r.code.clone(),
        status: r.status.clone(),
        plate: r.plate.clone(),
        class: r.class,
        ev: r.ev,
        accessible: r.accessible,
        spot: r.spot.clone(),
        start: r.start,
        end: r.end,
        window: format!("{} to {}", ctx.local(r.start), ctx.local(r.end)),
        estimate: est.to_string(),
        fee: r.fee.to_string(),
        currency: ctx.config.lot.currency.to_string(),
        stay: r.stay,
    }
}

/// Availability of a class for a window, as a read-only query.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Availability {
    pub class: VehicleClass,
    pub pool: Pool,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Spots of the pool that fit the class and are in service.
    pub spots: i64,
    /// Of those, occupied now.
    pub occupied: i64,
    /// Bookings needing those spots at the busiest instant of the window.
    pub booked_peak: u32,
    /// How many more such vehicles can book this window.
    pub available: i64,
}

/// Spots per pool and size as the database says: in service (or occupied), occupied.
pub fn pool_counts(conn: &Connection) -> Result<PoolCounts> {
    let mut out = [[(0u32, 0u32); 5]; 3];
    let mut stmt = conn.prepare_cached(
        "SELECT s.size, s.ev, s.accessible, s.in_service, o.id IS NOT NULL FROM spots s LEFT JOIN stays o ON o.spot_id = s.id AND o.exit_at IS NULL",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, bool>(1)?,
            r.get::<_, bool>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, bool>(4)?,
        ))
    })?;
    for r in rows {
        let (size, ev, acc, in_service, occupied) = r?;
        let size = VehicleClass::parse(&size)?;
        let cell = &mut out[Pool::of(ev, acc).index()][size.index()];
        if in_service || occupied {
            cell.0 += 1;
        }
        if occupied {
            cell.1 += 1;
        }
    }
    Ok(out)
}

/// What can still be booked for `class` in `[start, end)`.
pub fn availability(
    conn: &Connection,
    policy: &ReservationPolicy,
    class: VehicleClass,
    ev: bool,
    accessible: bool,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Result<Availability> {
    if end <= start {
        return Err(Error::invalid("the window's end must be after its start"));
    }
    let counts = pool_counts(conn)?;
    let from = start - Duration::minutes(i64::from(policy.hold_before_minutes));
    // A booking lasts at most `max_hours`: that bounds the index range from below.
    let mut stmt = conn.prepare_cached(
        "SELECT id, class, ev, accessible, start_at, end_at FROM reservations WHERE status = 'booked' AND start_at < ?1 AND start_at > ?3 AND end_at > ?2",
    )?;
    let hold_end = end + Duration::minutes(i64::from(policy.hold_before_minutes));
    let earliest = from - Duration::hours(i64::from(policy.max_hours));
    let bookings = bookings(&mut stmt, [ts(hold_end), ts(from), ts(earliest)], policy)?;
    let pool = Pool::of(ev, accessible);
    let p = peaks(bookings.iter(), from, end);
    let (spots, occupied) = fitting(&counts, pool, class);
    Ok(Availability {
        class,
        pool,
        start,
        end,
        spots,
        occupied,
        booked_peak: p[pool.index()][class.index()],
        available: room(&counts, &p, pool, class),
    })
}

fn new_code() -> Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let b = crate::engine::random_bytes::<8>()?;
    let c: String = b
        .iter()
        .map(|x| ALPHABET[*x as usize % ALPHABET.len()] as char)
        .collect();
    Ok(format!("R{}-{}", &c[..3], &c[3..7]))
}

impl Tx<'_> {
    fn policy(&self) -> &ReservationPolicy {
        &self.ctx.config.policies.reservations
    }

    fn check_window(
        &self,
        at: DateTime<Utc>,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<()> {
        let p = self.policy();
        if !p.enabled {
            return Err(Error::invalid(
                "this lot takes no reservations ([reservations] enabled = false)",
            ));
        }
        if start <= at {
            return Err(Error::invalid(format!(
                "the start {} is not in the future (now {})",
                self.ctx.local(start),
                self.ctx.local(at)
            )));
        }
        if start > at + Duration::days(i64::from(p.max_days_ahead)) {
            return Err(Error::invalid(format!(
                "reservations open {} days ahead; {} is too far",
                p.max_days_ahead,
                self.ctx.local(start)
            )));
        }
        if end <= start {
            return Err(Error::invalid("the end must be after the start"));
        }
        if end - start > Duration::hours(i64::from(p.max_hours)) {
            return Err(Error::invalid(format!(
                "a reservation lasts at most {} hours",
                p.max_hours
            )));
        }
        Ok(())
    }

    fn check_capacity(
        &self,
        pool: Pool,
        class: VehicleClass,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        except: i64,
    ) -> Result<()> {
        let from = start - Duration::minutes(i64::from(self.policy().hold_before_minutes));
        let peaks = self.book.peaks_between(from, end, except);
        let counts = self.alloc.pool_counts();
        if room(&counts, &peaks, pool, class) < 1 {
            let (spots, occupied) = fitting(&counts, pool, class);
            return Err(Error::new(
                ErrorKind::Full,
                format!(
                    "no {} capacity for a {class} vehicle from {} to {}: {spots} spots fit, {occupied} are occupied now and {} are booked at the busiest moment; try another time",
                    pool.as_str(),
                    self.ctx.local(start),
                    self.ctx.local(end),
                    peaks[pool.index()][class.index()]
                ),
            ));
        }
        Ok(())
    }

    pub(crate) fn reserve(&mut self, job: &Job, req: &ReservationRequest) -> Result<Applied> {
        let at = job.at;
        self.check_window(at, req.start, req.end)?;
        let pool = Pool::of(req.ev, req.accessible);
        if let Some(spot) = &req.spot {
            if !self.policy().allow_spot_choice {
                return Err(Error::invalid(
                    "this lot does not let drivers choose a spot; book without --spot",
                ));
            }
            let i = self.spot_named(spot)?;
            if !self.alloc.fits(i, req.class, req.accessible) || self.alloc.pool_of(i) != pool {
                return Err(Error::invalid(format!(
                    "spot {spot} is not a {} spot that fits a {} vehicle",
                    pool.as_str(),
                    req.class
                )));
            }
        }
        self.check_capacity(pool, req.class, req.start, req.end, -1)?;
        let mut code = new_code()?;
        while by_code(self.conn, &code).is_ok() {
            code = new_code()?;
        }
        self.conn
            .prepare_cached(
                "INSERT INTO reservations (code, plate, class, ev, accessible, spot_id, start_at, end_at, status, holder, created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'booked', ?9, ?10, ?11)",
            )?
            .execute(params![
                code,
                req.plate.as_ref().map(Plate::as_str),
                req.class.as_str(),
                req.ev,
                req.accessible,
                req.spot,
                ts(req.start),
                ts(req.end),
                req.holder,
                ts(at),
                job.actor.name
            ])?;
        let id = self.conn.last_insert_rowid();
        let b = booking(
            self.policy(),
            id,
            req.class,
            req.ev,
            req.accessible,
            req.start,
            req.end,
        );
        let r = by_code(self.conn, &code)?;
        Ok(Applied::new(
            Outcome::Reservation(view(self.ctx, &r)),
            vec![Event::ReservationBooked {
                reservation: id,
                code,
                plate: req.plate.as_ref().map(|p| p.to_string()),
                class: req.class,
                ev: req.ev,
                accessible: req.accessible,
                spot: req.spot.clone(),
                start: ts(req.start),
                end: ts(req.end),
            }],
            vec![Effect::Book(b)],
        ))
    }

    fn booked(&self, code: &str) -> Result<ReservationRow> {
        let r = by_code(self.conn, code)?;
        if r.status != "booked" {
            return Err(Error::conflict(format!(
                "reservation {} is {}, no longer booked",
                r.code,
                r.status.replace('_', "-")
            )));
        }
        Ok(r)
    }

    pub(crate) fn change_reservation(
        &mut self,
        at: DateTime<Utc>,
        code: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<Applied> {
        let r = self.booked(code)?;
        let hold = r.start - Duration::minutes(i64::from(self.policy().hold_before_minutes));
        if at >= hold {
            return Err(Error::conflict(format!(
                "reservation {} is already holding its spot (since {}); it can only be cancelled now",
                r.code,
                self.ctx.local(hold)
            )));
        }
        self.check_window(at, start, end)?;
        self.check_capacity(Pool::of(r.ev, r.accessible), r.class, start, end, r.id)?;
        self.conn
            .prepare_cached("UPDATE reservations SET start_at = ?2, end_at = ?3 WHERE id = ?1")?
            .execute(params![r.id, ts(start), ts(end)])?;
        let b = booking(self.policy(), r.id, r.class, r.ev, r.accessible, start, end);
        let after = by_code(self.conn, &r.code)?;
        Ok(Applied::new(
            Outcome::Reservation(view(self.ctx, &after)),
            vec![Event::ReservationChanged {
                reservation: r.id,
                code: r.code,
                start: ts(start),
                end: ts(end),
            }],
            vec![Effect::Book(b)],
        ))
    }

    /// The no-show fee: a share of the estimated stay.
    fn no_show_fee(&self, r: &ReservationRow) -> Decimal {
        let est = self
            .ctx
            .tariffs
            .at(r.start)
            .quote(r.start, r.end, r.class, Decimal::ONE)
            .total
            .amount;
        self.ctx
            .money(est * Decimal::from(self.policy().no_show_percent) / Decimal::from(100))
            .amount
    }

    pub(crate) fn cancel_reservation(&mut self, at: DateTime<Utc>, code: &str) -> Result<Applied> {
        let r = self.booked(code)?;
        let free_until = r.start - Duration::minutes(i64::from(self.policy().free_cancel_minutes));
        let fee = if at <= free_until {
            Decimal::ZERO
        } else {
            self.no_show_fee(&r)
        };
        self.conn
            .prepare_cached("UPDATE reservations SET status = 'cancelled', fee = ?2 WHERE id = ?1")?
            .execute(params![r.id, fee.to_string()])?;
        let after = by_code(self.conn, &r.code)?;
        Ok(Applied::new(
            Outcome::Reservation(view(self.ctx, &after)),
            vec![Event::ReservationCancelled {
                reservation: r.id,
                code: r.code,
                fee: fee.to_string(),
            }],
            vec![Effect::Unbook(r.id)],
        ))
    }

    /// Bookings past their grace become no-shows: the fee is owed and the capacity released.
    pub(crate) fn no_shows(&mut self, at: DateTime<Utc>) -> Result<Applied> {
        let mut events = Vec::new();
        let mut effects = Vec::new();
        for id in self.book.overdue(at) {
            let Some(r) = self
                .conn
                .prepare_cached(&format!("SELECT {COLUMNS} FROM reservations WHERE id = ?1"))?
                .query_row([id], row)
                .optional()?
                .transpose()?
            else {
                effects.push(Effect::Unbook(id));
                continue;
            };
            let fee = self.no_show_fee(&r);
            self.conn
                .prepare_cached(
                    "UPDATE reservations SET status = 'no_show', fee = ?2 WHERE id = ?1 AND status = 'booked'",
                )?
                .execute(params![r.id, fee.to_string()])?;
            events.push(Event::ReservationNoShow {
                reservation: r.id,
                code: r.code,
                fee: fee.to_string(),
            });
            effects.push(Effect::Unbook(r.id));
        }
        let n = events.len();
        Ok(Applied::new(
            recorded(
                "no-shows",
                None,
                format!("{n} reservations became no-shows"),
            ),
            events,
            effects,
        ))
    }

    /// The reservation a vehicle at the entry fulfils: by code, or by plate within its hold.
    pub(crate) fn reservation_at_entry(
        &self,
        at: DateTime<Utc>,
        plate: Option<&Plate>,
        code: Option<&str>,
    ) -> Result<Option<ReservationRow>> {
        let hold = Duration::minutes(i64::from(self.policy().hold_before_minutes));
        let grace = Duration::minutes(i64::from(self.policy().grace_minutes));
        if let Some(code) = code {
            let r = self.booked(code)?;
            if at < r.start - hold {
                return Err(Error::conflict(format!(
                    "reservation {} holds a spot from {}; come back then, or enter without the code and pay as usual",
                    r.code,
                    self.ctx.local(r.start - hold)
                )));
            }
            return Ok(Some(r));
        }
        let Some(p) = plate else {
            return Ok(None);
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM reservations WHERE plate = ?1 AND status = 'booked' ORDER BY start_at"
        ))?;
        let rows = stmt.query_map([p.as_str()], row)?;
        for r in rows {
            let r = r??;
            if r.start - hold <= at && at <= r.start + grace {
                return Ok(Some(r));
            }
        }
        Ok(None)
    }

    /// A spot for a reserved vehicle: its chosen spot when free, else the pool's best.
    pub(crate) fn allocate_reserved(
        &self,
        r: &ReservationRow,
        lane: usize,
    ) -> Result<(usize, String)> {
        if let Some(id) = &r.spot
            && let Some(i) = self.alloc.spot_index(id)
            && self.alloc.state(i) == crate::allocation::SpotState::Free
        {
            return Ok((i, format!("reservation {}: the chosen spot {id}", r.code)));
        }
        let pool = Pool::of(r.ev, r.accessible);
        match self.alloc.allocate_in_pool(r.class, pool, lane) {
            Some(a) => Ok((
                a.spot,
                format!(
                    "reservation {}{}: {}",
                    r.code,
                    r.spot
                        .as_ref()
                        .map(|s| format!(" (chosen spot {s} is taken)"))
                        .unwrap_or_default(),
                    a.reason
                ),
            )),
            None => Err(Error::new(
                ErrorKind::Full,
                format!(
                    "reservation {}: no {} spot is free (a vehicle may have overstayed); call the attendant",
                    r.code,
                    pool.as_str()
                ),
            )),
        }
    }

    /// What a walk-in may take now without breaking a booking.
    pub(crate) fn walk_in_rule(&mut self, at: DateTime<Utc>) -> WalkInRule {
        let peaks = if self.book.is_empty() {
            [[0; 5]; 3]
        } else {
            self.book.future_peaks(at)
        };
        WalkInRule {
            free: free_ge(&self.alloc.pool_counts()),
            peaks,
        }
    }
}

impl Handle for crate::reservations::ReservationRequest {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        tx.reserve(job, self)
    }
}

impl Handle for req::ChangeReservation {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::ChangeReservation { code, start, end } = self;
        tx.change_reservation(at, code, *start, *end)
    }
}

impl Handle for req::CancelReservation {
    fn handle(&self, tx: &mut Tx<'_>, job: &Job) -> Result<Applied> {
        let at = job.at;
        let req::CancelReservation { code } = self;
        tx.cancel_reservation(at, code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() + Duration::hours(h)
    }

    fn b(id: i64, size: VehicleClass, from: i64, to: i64) -> Booking {
        Booking {
            id,
            pool: Pool::Regular,
            size,
            from: t(from),
            to: t(to),
            due: t(from),
        }
    }

    #[test]
    fn peaks_count_overlaps_and_nest_sizes() {
        use VehicleClass::*;
        let bs = [
            b(1, Compact, 0, 4),
            b(2, Large, 2, 6),
            b(3, Standard, 4, 8), // starts when 1 ends: half-open, no overlap with 1
        ];
        let p = peaks(bs.iter(), t(0), t(10));
        let r = Pool::Regular.index();
        assert_eq!(p[r][Motorcycle.index()], 2);
        assert_eq!(p[r][Compact.index()], 2);
        assert_eq!(p[r][Standard.index()], 2); // 2 and 3 overlap in [4, 6)
        assert_eq!(p[r][Large.index()], 1);
        assert_eq!(p[r][Bus.index()], 0);
        // A window that sees only the tail.
        let p = peaks(bs.iter(), t(6), t(10));
        assert_eq!(p[r][Motorcycle.index()], 1);
    }

    #[test]
    fn room_is_the_tightest_threshold() {
        use VehicleClass::*;
        let mut counts = [[(0u32, 0u32); 5]; 3];
        counts[0][Standard.index()] = (3, 1);
        counts[0][Large.index()] = (1, 0);
        let bs = [b(1, Large, 0, 2)];
        let p = peaks(bs.iter(), t(0), t(1));
        // Large: 1 free large spot, 1 large booking → none left.
        assert_eq!(room(&counts, &p, Pool::Regular, Large), 0);
        // Standard: 3 free standard-or-larger, 1 booked → 2.
        assert_eq!(room(&counts, &p, Pool::Regular, Standard), 2);
        assert_eq!(room(&counts, &p, Pool::Ev, Compact), 0);
    }
}
