//! Running a car park day to day, against a real SQLite file: reservations, permits, prepaid
//! accounts, vouchers, the watchlist, alerts, users and roles, shifts, privacy and reports.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{TestLot, berlin};
use gatehouse_core::command as req;

use chrono::{DateTime, Duration, Utc};
use gatehouse_core::auth::{Secret, decode_totp_secret, totp_code};
use gatehouse_core::entry::Entered;
use gatehouse_core::permits::{Hours, PermitKind, PermitRequest};
use gatehouse_core::reservations::{ReservationRequest, ReservationView, availability};
use gatehouse_core::tariffs::TariffRequest;
use gatehouse_core::vouchers::VoucherRequest;
use gatehouse_core::watchlist::WatchAction;
use gatehouse_core::{
    Actor, Command, Engine, EngineOptions, Error, ErrorKind, Lot, Outcome, PaymentMethod, Plate,
    Role, StayRef, VehicleClass,
};
use rust_decimal::Decimal;

/// A small lot: four regular spots (three standard, one large), one EV spot, one accessible
/// spot, on two levels; the demo tariff.
fn small_toml() -> String {
    let tariff = &gatehouse_core::config::DEMO_TOML
        [gatehouse_core::config::DEMO_TOML.find("[tariff]").unwrap()..];
    format!(
        r#"
[lot]
id = "small"
name = "Small Test Car Park"
timezone = "Europe/Berlin"
currency = "EUR"

[[levels]]
id = "P0"
name = "Ground"

[[levels]]
id = "P1"
name = "Upper"

[[lanes]]
id = "E1"
kind = "entry"
level = "P0"
x = 0
y = 0

[[lanes]]
id = "X1"
kind = "exit"
level = "P0"
x = 1
y = 0

[[spots]]
level = "P0"
zone = "A"
count = 2
size = "standard"
x = 5
y = 0
dx = 3

[[spots]]
level = "P1"
zone = "B"
count = 1
size = "standard"
x = 5
y = 0

[[spots]]
level = "P0"
zone = "L"
count = 1
size = "large"
x = 20
y = 0

[[spots]]
level = "P0"
zone = "E"
count = 1
size = "standard"
ev = true
x = 30
y = 0

[[spots]]
level = "P0"
zone = "H"
count = 1
size = "standard"
accessible = true
x = 2
y = 2

{tariff}"#
    )
}

fn small() -> TestLot {
    TestLot::from_toml(&small_toml())
}

fn staff(name: &str, role: Role) -> Actor {
    Actor::new(name, role).unwrap()
}

impl TestLot {
    /// A prepaid account opened by a supervisor; its id.
    fn open_account(&self, at: &str, holder: &str) -> i64 {
        match self
            .run(
                at,
                Command::OpenAccount(req::OpenAccount {
                    holder: holder.into(),
                    expires_at: None,
                }),
            )
            .unwrap()
        {
            Outcome::Account(a) => a.id,
            o => panic!("{o:?}"),
        }
    }
    /// A cash top-up of `account` by `who`.
    fn top_up(
        &self,
        who: &Actor,
        at: &str,
        account: i64,
        amount: Decimal,
    ) -> Result<Outcome, Error> {
        self.as_(
            who,
            at,
            Command::TopUpAccount(req::TopUpAccount {
                account,
                method: PaymentMethod::Cash,
                amount,
            }),
        )
    }
    fn as_(&self, who: &Actor, at: &str, cmd: Command) -> Result<Outcome, Error> {
        self.engine.execute(who, berlin(at), cmd)
    }
    fn run(&self, at: &str, cmd: Command) -> Result<Outcome, Error> {
        self.as_(&staff("sam", Role::Supervisor), at, cmd)
    }
    fn lane(&self, at: &str, cmd: Command) -> Result<Outcome, Error> {
        self.as_(&Actor::system("lane"), at, cmd)
    }
    fn enter(&self, at: &str, plate: &str) -> Result<Entered, Error> {
        self.lane(
            at,
            Command::entry(Some(Plate::parse(plate).unwrap()), VehicleClass::Standard),
        )
        .map(|o| match o {
            Outcome::Entered(e) => e,
            o => panic!("{o:?}"),
        })
    }
    fn book(
        &self,
        at: &str,
        plate: Option<&str>,
        start: &str,
        end: &str,
    ) -> Result<ReservationView, Error> {
        self.run(
            at,
            Command::Reserve(ReservationRequest {
                plate: plate.map(|p| Plate::parse(p).unwrap()),
                class: VehicleClass::Standard,
                ev: false,
                accessible: false,
                spot: None,
                start: berlin(start),
                end: berlin(end),
                holder: Some("test".into()),
            }),
        )
        .map(|o| match o {
            Outcome::Reservation(r) => r,
            o => panic!("{o:?}"),
        })
    }
    fn reader(&self) -> Lot {
        Lot::open(&self.path).unwrap()
    }
    fn quote(&self, at: &str, ticket: &str) -> gatehouse_core::StayQuote {
        self.reader()
            .quote(&StayRef::Ticket(ticket.into()), berlin(at))
            .unwrap()
    }
    fn reservation(&self, code: &str) -> ReservationView {
        let lot = self.reader();
        gatehouse_core::reservations::find(lot.connection(), lot.context(), code).unwrap()
    }
    fn kinds(&self) -> Vec<String> {
        self.reader()
            .journal(1, 10_000)
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect()
    }
    /// Pays what is owed by card at the lane, then leaves.
    fn exit_paid(&self, at: &str, e: &Entered) -> Result<Outcome, Error> {
        let due = self.quote(at, &e.ticket).total.amount;
        if !due.is_zero() {
            self.lane(
                at,
                Command::Pay(req::Pay {
                    stay: StayRef::Ticket(e.qr.clone()),
                    method: PaymentMethod::Card,
                    amount: due,
                    key: None,
                }),
            )?;
        }
        self.lane(
            at,
            Command::Exit(req::Exit {
                stay: StayRef::Ticket(e.qr.clone()),
                lane: None,
            }),
        )
    }
}

/// A standard car without a plate read, entering on a reservation's confirmation code.
fn by_code(code: &str) -> Command {
    let mut c = Command::entry(None, VehicleClass::Standard);
    if let Command::Entry(req::Entry { reservation, .. }) = &mut c {
        *reservation = Some(code.to_string());
    }
    c
}

/// A standard car without a plate read, entering on an RFID permit card.
fn by_card(card: &str) -> Command {
    let mut c = Command::entry(None, VehicleClass::Standard);
    if let Command::Entry(req::Entry { card: c2, .. }) = &mut c {
        *c2 = Some(card.to_string());
    }
    c
}

// ---- reservations ------------------------------------------------------------------------------

#[test]
fn walk_ins_cannot_take_capacity_promised_to_a_reservation() {
    let lot = small();
    // Four regular spots; two are booked for tomorrow morning.
    lot.book(
        "2026-11-18 08:00",
        Some("R-ES 1"),
        "2026-11-19 10:00",
        "2026-11-19 12:00",
    )
    .unwrap();
    lot.book(
        "2026-11-18 08:00",
        Some("R-ES 2"),
        "2026-11-19 10:00",
        "2026-11-19 12:00",
    )
    .unwrap();
    lot.enter("2026-11-18 09:00", "W-AA 1").unwrap();
    lot.enter("2026-11-18 09:01", "W-AA 2").unwrap();
    let err = lot.enter("2026-11-18 09:02", "W-AA 3").unwrap_err();
    assert_eq!(err.kind, ErrorKind::Full);
    assert!(
        err.message.contains("held for reservations"),
        "{}",
        err.message
    );
}

#[test]
fn a_full_window_refuses_the_next_booking_and_availability_says_so() {
    let lot = small();
    for i in 0..4 {
        lot.book(
            "2026-11-18 08:00",
            None,
            "2026-11-20 09:00",
            "2026-11-20 17:00",
        )
        .unwrap_or_else(|e| panic!("booking {i}: {e:?}"));
    }
    let err = lot
        .book(
            "2026-11-18 08:00",
            None,
            "2026-11-20 16:00",
            "2026-11-20 18:00",
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Full);
    let r = lot.reader();
    let policy = &r.context().config.policies.reservations;
    let full = availability(
        r.connection(),
        policy,
        VehicleClass::Standard,
        false,
        false,
        berlin("2026-11-20 12:00"),
        berlin("2026-11-20 13:00"),
    )
    .unwrap();
    assert_eq!((full.spots, full.booked_peak, full.available), (4, 4, 0));
    // After the window (and its hold), the capacity is there again.
    lot.book(
        "2026-11-18 08:00",
        None,
        "2026-11-20 17:15",
        "2026-11-20 19:00",
    )
    .unwrap();
    // The large spot fits only large vehicles' bookings once the standard ones are gone.
    let large = availability(
        r.connection(),
        policy,
        VehicleClass::Large,
        false,
        false,
        berlin("2026-11-20 12:00"),
        berlin("2026-11-20 13:00"),
    )
    .unwrap();
    assert_eq!(large.available, 0, "{large:?}");
}

#[test]
fn arrival_by_plate_takes_the_reserved_capacity_and_overstay_pays_a_penalty() {
    let lot = small();
    let r = lot
        .book(
            "2026-11-18 07:00",
            Some("B-RS 100"),
            "2026-11-18 10:00",
            "2026-11-18 12:00",
        )
        .unwrap();
    assert_eq!(r.estimate, "6.00");
    let e = lot.enter("2026-11-18 09:50", "B-RS 100").unwrap();
    assert_eq!(e.reservation.as_deref(), Some(r.code.as_str()));
    assert_eq!(lot.reservation(&r.code).status, "arrived");
    // Leaving 40 minutes after the end: two started half hours of penalty on top of the tariff.
    let q = lot.quote("2026-11-18 12:40", &e.ticket);
    let overstay: Vec<_> = q
        .lines
        .iter()
        .filter(|l| l.kind == gatehouse_core::tariff::LineKind::Overstay)
        .collect();
    assert_eq!(overstay.len(), 1);
    assert_eq!(overstay[0].amount.amount, Decimal::from(10));
    lot.exit_paid("2026-11-18 12:40", &e).unwrap();
    let open = gatehouse_core::alerts::list_alerts(lot.reader().connection(), false).unwrap();
    assert!(open.iter().any(|a| a.kind == "overstay"), "{open:?}");
    assert!(lot.kinds().contains(&"reservation_arrived".to_string()));
}

#[test]
fn arrival_by_confirmation_code_and_too_early_is_refused_with_the_time() {
    let lot = small();
    let r = lot
        .book(
            "2026-11-18 07:00",
            None,
            "2026-11-18 10:00",
            "2026-11-18 12:00",
        )
        .unwrap();
    let with_code = |at: &str| lot.lane(at, by_code(&r.code.to_lowercase()));
    let early = with_code("2026-11-18 09:00").unwrap_err();
    assert_eq!(early.kind, ErrorKind::Conflict);
    assert!(early.message.contains("09:45"), "{}", early.message);
    assert!(matches!(
        with_code("2026-11-18 09:46"),
        Ok(Outcome::Entered(_))
    ));
}

#[test]
fn no_show_after_the_grace_owes_a_fee_and_releases_the_capacity() {
    let lot = small();
    for i in 0..4 {
        lot.book(
            "2026-11-18 07:00",
            Some(&format!("N-OS {i}")),
            "2026-11-18 10:00",
            "2026-11-18 12:00",
        )
        .unwrap();
    }
    // Held: a walk-in at 10:10 finds the regular capacity promised.
    assert_eq!(
        lot.enter("2026-11-18 10:10", "W-AL 1").unwrap_err().kind,
        ErrorKind::Full
    );
    // After 10:15 nobody came: no-shows, 20% of the 6.00 estimate each, capacity released.
    let e = lot.enter("2026-11-18 10:16", "W-AL 1").unwrap();
    assert!(!e.spot.is_empty());
    let lot_r = lot.reader();
    let list = gatehouse_core::reservations::list(
        lot_r.connection(),
        lot_r.context(),
        berlin("2026-11-18 00:00"),
        berlin("2026-11-19 00:00"),
    )
    .unwrap();
    assert!(
        list.iter()
            .all(|r| r.status == "no_show" && r.fee == "1.20"),
        "{list:?}"
    );
    let journal = lot.reader().journal(1, 1000).unwrap();
    let no_show = journal
        .iter()
        .find(|r| r.kind == "reservation_no_show")
        .unwrap();
    assert_eq!(no_show.actor, "engine");
}

#[test]
fn cancel_is_free_until_an_hour_before_then_costs_the_no_show_fee() {
    let lot = small();
    let a = lot
        .book(
            "2026-11-18 07:00",
            None,
            "2026-11-18 12:00",
            "2026-11-18 14:00",
        )
        .unwrap();
    let b = lot
        .book(
            "2026-11-18 07:00",
            None,
            "2026-11-18 12:00",
            "2026-11-18 14:00",
        )
        .unwrap();
    let cancel = |at: &str, code: &str| match lot
        .run(
            at,
            Command::CancelReservation(req::CancelReservation { code: code.into() }),
        )
        .unwrap()
    {
        Outcome::Reservation(r) => r,
        o => panic!("{o:?}"),
    };
    assert_eq!(cancel("2026-11-18 11:00", &a.code).fee, "0");
    assert_eq!(cancel("2026-11-18 11:01", &b.code).fee, "1.20");
    let again = lot
        .run(
            "2026-11-18 11:02",
            Command::CancelReservation(req::CancelReservation {
                code: a.code.clone(),
            }),
        )
        .unwrap_err();
    assert!(again.message.contains("cancelled"), "{}", again.message);
}

#[test]
fn changing_a_reservation_keeps_its_own_capacity() {
    let lot = small();
    let mut codes = Vec::new();
    for _ in 0..4 {
        codes.push(
            lot.book(
                "2026-11-18 07:00",
                None,
                "2026-11-19 10:00",
                "2026-11-19 12:00",
            )
            .unwrap()
            .code,
        );
    }
    // Moving one within the full window works (it does not compete with itself)...
    let moved = lot
        .run(
            "2026-11-18 08:00",
            Command::ChangeReservation(req::ChangeReservation {
                code: codes[0].clone(),
                start: berlin("2026-11-19 10:30"),
                end: berlin("2026-11-19 12:30"),
            }),
        )
        .unwrap();
    assert!(matches!(moved, Outcome::Reservation(ref r) if r.window.contains("10:30")));
    // ...but a new one there does not fit.
    assert_eq!(
        lot.book(
            "2026-11-18 08:00",
            None,
            "2026-11-19 11:00",
            "2026-11-19 11:30"
        )
        .unwrap_err()
        .kind,
        ErrorKind::Full
    );
}

#[test]
fn concurrent_bookings_never_double_book() {
    let lot = small();
    // 8 threads × 5 attempts at the same window on a lot with 4 regular spots (2 engines on
    // one file: bookings from two processes too).
    let second = Engine::open(&lot.path, EngineOptions::default()).unwrap();
    let accepted = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|s| {
        for t in 0..8 {
            let engine = if t % 2 == 0 { &lot.engine } else { &second };
            let accepted = &accepted;
            s.spawn(move || {
                for i in 0..5 {
                    let r = engine.execute(
                        &Actor::new(&format!("web-{t}"), Role::System).unwrap(),
                        berlin("2026-11-18 07:00"),
                        Command::Reserve(ReservationRequest {
                            plate: Some(Plate::parse(&format!("C-ON {t}{i}")).unwrap()),
                            class: VehicleClass::Standard,
                            ev: false,
                            accessible: false,
                            spot: None,
                            start: berlin("2026-11-21 09:00") + Duration::minutes(i64::from(i) * 7),
                            end: berlin("2026-11-21 15:00"),
                            holder: None,
                        }),
                    );
                    match r {
                        Ok(_) => {
                            accepted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        Err(e) => assert_eq!(e.kind, ErrorKind::Full, "{e:?}"),
                    }
                }
            });
        }
    });
    assert_eq!(accepted.into_inner(), 4);
    let r = lot.reader();
    let booked: i64 = r
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM reservations WHERE status = 'booked'",
            [],
            |x| x.get(0),
        )
        .unwrap();
    assert_eq!(booked, 4);
}

// ---- permits, accounts, vouchers, watchlist ------------------------------------------------------

fn permit(plates: &[&str], card: Option<&str>) -> PermitRequest {
    PermitRequest {
        kind: PermitKind::Monthly,
        holder: "Ada Lovelace".into(),
        plates: plates.iter().map(|p| Plate::parse(p).unwrap()).collect(),
        card: card.map(String::from),
        valid_from: berlin("2026-11-01 00:00"),
        valid_to: berlin("2026-12-01 00:00"),
        levels: vec![],
        hours: None,
        max_inside: 1,
        passback: true,
    }
}

#[test]
fn a_permit_holder_enters_and_leaves_without_paying() {
    let lot = small();
    lot.run(
        "2026-11-18 07:00",
        Command::IssuePermit(permit(&["P-ER 1"], Some("04A1B2C3"))),
    )
    .unwrap();
    let e = lot.enter("2026-11-18 08:00", "P-ER 1").unwrap();
    assert!(e.permit.is_some(), "{e:?}");
    assert_eq!(
        lot.quote("2026-11-18 18:00", &e.ticket).total.amount,
        Decimal::ZERO
    );
    assert!(matches!(
        lot.exit_paid("2026-11-18 18:00", &e),
        Ok(Outcome::Exited(_))
    ));
    // By card: the same permit, one vehicle inside at once.
    let card = |at: &str| lot.lane(at, by_card("04A1B2C3"));
    assert!(matches!(card("2026-11-19 08:00"), Ok(Outcome::Entered(_))));
    let second = card("2026-11-19 08:05").unwrap_err();
    assert_eq!(second.kind, ErrorKind::Passback);
    assert!(second.message.contains("1 of its 1"), "{}", second.message);
}

#[test]
fn a_permit_outside_its_hours_or_levels_is_honoured_only_where_it_applies() {
    let lot = small();
    let mut p = permit(&["P-ER 2"], None);
    p.hours = Some(Hours::parse("07:00-19:00").unwrap());
    p.levels = vec!["P1".into()];
    lot.run("2026-11-18 07:00", Command::IssuePermit(p))
        .unwrap();
    let e = lot.enter("2026-11-18 08:00", "P-ER 2").unwrap();
    assert_eq!(e.level, "P1", "the permit parks on its level: {e:?}");
    lot.exit_paid("2026-11-18 09:00", &e).unwrap();
    let night = lot.enter("2026-11-18 21:00", "P-ER 2").unwrap();
    assert!(night.permit.is_none());
    assert!(
        night.alerts.iter().any(|a| a.contains("07:00-19:00")),
        "{night:?}"
    );
    assert!(lot.quote("2026-11-18 23:00", &night.ticket).total.amount > Decimal::ZERO);
    lot.exit_paid("2026-11-18 23:00", &night).unwrap();
    // After its end, the permit no longer admits.
    let after = lot.enter("2026-12-02 08:00", "P-ER 2").unwrap();
    assert!(after.permit.is_none());
    assert!(
        after.alerts.iter().any(|a| a.contains("expired")),
        "{after:?}"
    );
}

#[test]
fn prepaid_accounts_top_up_pay_and_warn_when_low() {
    let lot = small();
    let cashier = staff("carla", Role::Cashier);
    let refused = lot
        .as_(
            &cashier,
            "2026-11-18 07:00",
            Command::OpenAccount(req::OpenAccount {
                holder: "Bob".into(),
                expires_at: None,
            }),
        )
        .unwrap_err();
    assert_eq!(
        refused.kind,
        ErrorKind::Forbidden,
        "only supervisors open accounts"
    );
    let account = lot.open_account("2026-11-18 07:00", "Bob");
    let top_up =
        |amount: i64| lot.top_up(&cashier, "2026-11-18 07:05", account, Decimal::from(amount));
    assert!(top_up(20).unwrap_err().message.contains("no open shift"));
    lot.as_(
        &cashier,
        "2026-11-18 07:04",
        Command::OpenShift(req::OpenShift {
            float: Decimal::from(50),
        }),
    )
    .unwrap();
    top_up(12).unwrap();
    let e = lot.enter("2026-11-18 08:00", "A-CC 1").unwrap();
    let pay = |at: &str| {
        lot.lane(
            at,
            Command::PayFromAccount(req::PayFromAccount {
                stay: StayRef::Ticket(e.qr.clone()),
                account,
            }),
        )
    };
    match pay("2026-11-18 10:00").unwrap() {
        Outcome::Paid(p) => {
            assert_eq!(p.amount, "6.00");
            assert!(
                p.warnings.iter().any(|w| w.contains("low balance")),
                "{p:?}"
            );
        }
        o => panic!("{o:?}"),
    }
    lot.lane(
        "2026-11-18 10:05",
        Command::Exit(req::Exit {
            stay: StayRef::Ticket(e.qr.clone()),
            lane: None,
        }),
    )
    .unwrap();
    // 6.00 left; a long stay owes more than that: refused, nothing debited.
    let e2 = lot.enter("2026-11-18 10:30", "A-CC 1").unwrap();
    let long = lot.lane(
        "2026-11-18 20:00",
        Command::PayFromAccount(req::PayFromAccount {
            stay: StayRef::Ticket(e2.qr),
            account,
        }),
    );
    assert!(long.unwrap_err().message.contains("holds 6.00"));
}

#[test]
fn vouchers_are_signed_single_use_and_reduce_the_fee() {
    let lot = small();
    let issue = |req: VoucherRequest| match lot
        .run("2026-11-18 07:00", Command::IssueVoucher(req))
        .unwrap()
    {
        Outcome::Voucher(v) => v,
        o => panic!("{o:?}"),
    };
    let hour = issue(VoucherRequest {
        merchant: "Bakery".into(),
        free_minutes: Some(60),
        percent_off: None,
        valid_to: None,
    });
    let half = issue(VoucherRequest {
        merchant: "Cinema".into(),
        free_minutes: None,
        percent_off: Some(50),
        valid_to: None,
    });
    let e = lot.enter("2026-11-18 09:00", "V-OU 1").unwrap();
    let apply = |stay: &str, v: &str| {
        lot.lane(
            "2026-11-18 10:30",
            Command::ApplyVoucher(req::ApplyVoucher {
                stay: StayRef::Ticket(stay.into()),
                voucher: v.into(),
            }),
        )
    };
    // 90 minutes cost 4.50; the first hour free leaves 30 minutes: 3.00 (first period).
    apply(&e.qr, &hour.qr).unwrap();
    assert_eq!(
        lot.quote("2026-11-18 10:30", &e.ticket)
            .total
            .amount
            .to_string(),
        "3.00"
    );
    assert_eq!(
        apply(&e.qr, &half.qr).unwrap_err().kind,
        ErrorKind::Conflict
    );
    let e2 = lot.enter("2026-11-18 09:00", "V-OU 2").unwrap();
    assert_eq!(
        apply(&e2.qr, &hour.qr).unwrap_err().kind,
        ErrorKind::TicketUsed
    );
    // A ticket's QR is not a voucher; an altered voucher is refused.
    assert_eq!(
        apply(&e2.qr, &e.qr).unwrap_err().kind,
        ErrorKind::TicketForged
    );
    let mut altered = half.qr.clone();
    altered.replace_range(10..11, if &half.qr[10..11] == "A" { "B" } else { "A" });
    assert_eq!(
        apply(&e2.qr, &altered).unwrap_err().kind,
        ErrorKind::TicketForged
    );
    apply(&e2.qr, &half.qr).unwrap();
    assert_eq!(
        lot.quote("2026-11-18 10:30", &e2.ticket)
            .total
            .amount
            .to_string(),
        "2.25"
    );
}

#[test]
fn the_watchlist_refuses_or_alerts_and_the_alert_is_acknowledged_by_name() {
    let lot = small();
    let watch = |p: &str, a| {
        Command::Watch(req::Watch {
            plate: Plate::parse(p).unwrap(),
            action: Some(a),
            note: "police request 1234".into(),
        })
    };
    lot.run("2026-11-18 07:00", watch("S-TOP 1", WatchAction::Refuse))
        .unwrap();
    lot.run("2026-11-18 07:00", watch("L-OOK 1", WatchAction::Alert))
        .unwrap();
    let refused = lot.enter("2026-11-18 08:00", "STOP1").unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    assert_eq!(
        lot.reader()
            .occupancy(berlin("2026-11-18 08:01"))
            .unwrap()
            .total
            .occupied,
        0
    );
    let admitted = lot.enter("2026-11-18 08:00", "L-OOK 1").unwrap();
    assert_eq!(admitted.alerts.len(), 1);
    let open = gatehouse_core::alerts::list_alerts(lot.reader().connection(), false).unwrap();
    assert_eq!(open.len(), 2);
    let id = open[0].id;
    let att = staff("anna", Role::Attendant);
    lot.as_(
        &att,
        "2026-11-18 08:05",
        Command::AckAlert(req::AckAlert {
            alert: id,
            note: "seen, called police".into(),
        }),
    )
    .unwrap();
    let again = lot.as_(
        &att,
        "2026-11-18 08:06",
        Command::AckAlert(req::AckAlert {
            alert: id,
            note: String::new(),
        }),
    );
    assert_eq!(again.unwrap_err().kind, ErrorKind::Conflict);
    let all = gatehouse_core::alerts::list_alerts(lot.reader().connection(), true).unwrap();
    let acked = all.iter().find(|a| a.id == id).unwrap();
    assert_eq!(acked.acked_by.as_deref(), Some("anna"));
    assert_eq!(
        gatehouse_core::alerts::list_alerts(lot.reader().connection(), false)
            .unwrap()
            .len(),
        1
    );
}

// ---- users, roles, shifts ------------------------------------------------------------------------

fn login(
    lot: &TestLot,
    at: &str,
    user: &str,
    pw: &str,
    totp: Option<String>,
) -> Result<Actor, Error> {
    match lot.lane(
        at,
        Command::Login(req::Login {
            user: user.into(),
            password: Secret(pw.into()),
            totp: totp.map(Secret),
        }),
    )? {
        Outcome::LoggedIn(l) => {
            let mut a = Actor::new(&l.user, l.role).unwrap();
            a.session = Some(l.token);
            Ok(a)
        }
        o => panic!("{o:?}"),
    }
}

#[test]
fn once_users_exist_every_command_needs_a_login_and_the_role_table_decides() {
    let lot = small();
    let boot = staff("installer", Role::Admin);
    let admin = match lot
        .as_(
            &boot,
            "2026-11-18 07:00",
            Command::AddUser(req::AddUser {
                name: "root".into(),
                role: Role::Admin,
                password: Secret("a long admin password".into()),
            }),
        )
        .unwrap()
    {
        Outcome::UserAdded(u) => u,
        o => panic!("{o:?}"),
    };
    let secret = admin
        .totp_secret
        .clone()
        .expect("admins get a second factor");
    // Now a claimed role without a session is refused.
    let err = lot
        .as_(
            &boot,
            "2026-11-18 07:01",
            Command::AddUser(req::AddUser {
                name: "x".into(),
                role: Role::Cashier,
                password: Secret("another long one".into()),
            }),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);
    assert!(err.message.contains("log in"), "{}", err.message);
    // The admin needs the code.
    let at = "2026-11-18 07:02";
    assert!(login(&lot, at, "root", "a long admin password", None).is_err());
    let code = format!(
        "{:06}",
        totp_code(
            &decode_totp_secret(&secret).unwrap(),
            berlin(at).timestamp()
        )
    );
    let root = login(&lot, at, "root", "a long admin password", Some(code)).unwrap();
    lot.as_(
        &root,
        at,
        Command::AddUser(req::AddUser {
            name: "carla".into(),
            role: Role::Cashier,
            password: Secret("cashier password".into()),
        }),
    )
    .unwrap();
    let carla = login(&lot, at, "carla", "cashier password", None).unwrap();
    // The permission table: a cashier may not refund or add users, whatever she claims.
    let e = lot.enter("2026-11-18 08:00", "U-SR 1").unwrap();
    let refund = Command::Refund(req::Refund {
        stay: StayRef::Ticket(e.ticket.clone()),
        method: PaymentMethod::Card,
        amount: Decimal::ONE,
        reason: "x".into(),
        key: None,
    });
    assert_eq!(
        lot.as_(&carla, "2026-11-18 08:10", refund.clone())
            .unwrap_err()
            .kind,
        ErrorKind::Forbidden
    );
    let mut claimed = carla.clone();
    claimed.role = Role::Supervisor;
    let err = lot.as_(&claimed, "2026-11-18 08:10", refund).unwrap_err();
    assert!(err.message.contains("session belongs"), "{}", err.message);
    // Who acted is in the journal.
    lot.as_(
        &carla,
        "2026-11-18 08:11",
        Command::OpenShift(req::OpenShift {
            float: Decimal::from(100),
        }),
    )
    .unwrap();
    let last = lot.reader().journal(1, 1000).unwrap().pop().unwrap();
    assert_eq!(
        (last.kind.as_str(), last.actor.as_str(), last.role.as_str()),
        ("shift_opened", "carla", "cashier")
    );
    // Disabled: the session ends.
    lot.as_(
        &root,
        "2026-11-18 08:12",
        Command::SetUserEnabled(req::SetUserEnabled {
            name: "carla".into(),
            enabled: false,
        }),
    )
    .unwrap();
    assert_eq!(
        lot.as_(
            &carla,
            "2026-11-18 08:13",
            Command::CloseShift(req::CloseShift {
                counted: Decimal::from(100)
            })
        )
        .unwrap_err()
        .kind,
        ErrorKind::Forbidden
    );
}

#[test]
fn failed_logins_lock_the_user_out_and_are_journaled() {
    let lot = small();
    lot.as_(
        &staff("installer", Role::Admin),
        "2026-11-18 07:00",
        Command::AddUser(req::AddUser {
            name: "dave".into(),
            role: Role::Attendant,
            password: Secret("right password".into()),
        }),
    )
    .unwrap();
    for i in 0..5 {
        let e = login(
            &lot,
            "2026-11-18 07:01",
            "dave",
            &format!("wrong {i}"),
            None,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden);
    }
    let locked = login(&lot, "2026-11-18 07:02", "dave", "right password", None).unwrap_err();
    assert!(locked.message.contains("locked"), "{}", locked.message);
    assert!(login(&lot, "2026-11-18 07:17", "dave", "right password", None).is_ok());
    let kinds = lot.kinds();
    assert_eq!(kinds.iter().filter(|k| *k == "login_failed").count(), 5);
    assert_eq!(kinds.iter().filter(|k| *k == "user_locked").count(), 1);
    // No password or hash in the journal.
    let text: String = lot
        .reader()
        .journal(1, 1000)
        .unwrap()
        .iter()
        .map(|r| r.payload.clone())
        .collect();
    assert!(!text.contains("right password") && !text.contains("argon2"));
}

#[test]
fn a_shift_accrues_cash_and_the_z_report_shows_short() {
    let lot = small();
    let booth = staff("booth-1", Role::Cashier);
    let sup = staff("sam", Role::Supervisor);
    lot.as_(
        &booth,
        "2026-11-18 07:00",
        Command::OpenShift(req::OpenShift {
            float: Decimal::from(100),
        }),
    )
    .unwrap();
    lot.as_(
        &sup,
        "2026-11-18 07:00",
        Command::OpenShift(req::OpenShift {
            float: Decimal::from(20),
        }),
    )
    .unwrap();
    let e = lot.enter("2026-11-18 08:00", "Z-RP 1").unwrap();
    let cash = |who: &Actor, amount: i64| {
        lot.as_(
            who,
            "2026-11-18 10:00",
            Command::Pay(req::Pay {
                stay: StayRef::Ticket(e.ticket.clone()),
                method: PaymentMethod::Cash,
                amount: Decimal::from(amount),
                key: None,
            }),
        )
    };
    cash(&booth, 10).unwrap(); // 6.00 owed: 4.00 change
    lot.as_(
        &sup,
        "2026-11-18 10:02",
        Command::Refund(req::Refund {
            stay: StayRef::Ticket(e.ticket.clone()),
            method: PaymentMethod::Cash,
            amount: Decimal::from(1),
            reason: "goodwill".into(),
            key: None,
        }),
    )
    .unwrap();
    let closed = match lot
        .as_(
            &booth,
            "2026-11-18 15:00",
            Command::CloseShift(req::CloseShift {
                counted: Decimal::new(10500, 2),
            }),
        )
        .unwrap()
    {
        Outcome::Shift(s) => s,
        o => panic!("{o:?}"),
    };
    assert_eq!(
        (closed.expected.as_str(), closed.over_short.as_deref()),
        ("106.00", Some("-1.00"))
    );
    let r = lot.reader();
    let z = gatehouse_core::shifts::z_report(r.connection(), r.context(), closed.id).unwrap();
    let text = z.receipt_text();
    assert!(text.lines().all(|l| l.chars().count() <= 42), "{text}");
    assert!(text.contains("SHORT") && text.contains("-1.00"), "{text}");
    // The supervisor's refund came out of the supervisor's drawer.
    let sup_shift =
        gatehouse_core::shifts::shift_view(r.connection(), r.context(), closed.id + 1).unwrap();
    assert_eq!(sup_shift.expected, "19.00");
}

// ---- privacy and reports -------------------------------------------------------------------------

#[test]
fn retention_and_erasure_replace_plates_and_the_chain_still_verifies() {
    let lot = small();
    let old = lot.enter("2026-11-18 08:00", "O-LD 1").unwrap();
    lot.exit_paid("2026-11-18 09:00", &old).unwrap();
    let recent = lot.enter("2026-11-18 10:00", "N-EW 1").unwrap();
    lot.exit_paid("2026-11-18 11:00", &recent).unwrap();
    let admin = staff("root", Role::Admin);
    lot.as_(
        &admin,
        "2026-11-18 12:00",
        Command::PseudonymisePlates(req::PseudonymisePlates {
            before: berlin("2026-11-18 10:00"),
        }),
    )
    .unwrap();
    let plate_of = |stay: i64| -> String {
        lot.reader()
            .connection()
            .query_row("SELECT plate FROM stays WHERE id = ?1", [stay], |r| {
                r.get(0)
            })
            .unwrap()
    };
    assert!(plate_of(old.stay).starts_with('#'));
    assert_eq!(plate_of(recent.stay), "NEW1");
    assert_eq!(
        lot.as_(
            &staff("sam", Role::Supervisor),
            "2026-11-18 12:01",
            Command::ErasePlate(req::ErasePlate {
                plate: Plate::parse("NEW1").unwrap()
            })
        )
        .unwrap_err()
        .kind,
        ErrorKind::Forbidden
    );
    lot.as_(
        &admin,
        "2026-11-18 12:01",
        Command::ErasePlate(req::ErasePlate {
            plate: Plate::parse("NEW1").unwrap(),
        }),
    )
    .unwrap();
    assert!(plate_of(recent.stay).starts_with('#'));
    // The same plate hashes the same way: repeat visits still count.
    assert_eq!(
        plate_of(recent.stay),
        lot.reader().context().plate_hash("NEW1")
    );
    assert!(lot.reader().audit().unwrap().ok);
}

// ---- tariff versions -----------------------------------------------------------------------

/// A flat all-day tariff: 4.00 per started hour, no free minutes.
const HOURLY_TARIFF: &str = r#"
[tariff]
lost_ticket_fee = "40.00"

[[tariff.bands]]
name = "all day"
days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
start = "00:00"
end = "24:00"
increment_minutes = 60
increment_price = "4.00"
"#;

fn publish(from: Option<&str>) -> Command {
    Command::PublishTariff(TariffRequest {
        toml: HOURLY_TARIFF.into(),
        effective_from: from.map(berlin),
        note: "winter prices".into(),
    })
}

#[test]
fn a_published_tariff_prices_stays_that_enter_from_its_start_and_not_cars_already_inside() {
    let lot = small();
    let admin = staff("root", Role::Admin);
    let before = lot.enter("2026-11-18 08:00", "B-EF 1").unwrap();
    // Only an admin may change prices, and never in the past.
    let refused = lot
        .run("2026-11-18 09:00", publish(Some("2026-11-18 10:00")))
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    let past = lot
        .as_(
            &admin,
            "2026-11-18 09:00",
            publish(Some("2026-11-18 08:30")),
        )
        .unwrap_err();
    assert_eq!(past.kind, ErrorKind::InvalidInput);
    assert!(past.message.contains("past"), "{}", past.message);
    lot.as_(
        &admin,
        "2026-11-18 09:00",
        publish(Some("2026-11-18 10:00")),
    )
    .unwrap();
    let after = lot.enter("2026-11-18 10:30", "A-FT 1").unwrap();

    let reader = lot.reader();
    let old = &reader.context().config.tariff;
    let new = reader
        .context()
        .config
        .parse_tariff("test", HOURLY_TARIFF)
        .unwrap();
    let class = VehicleClass::Standard;
    let before_due = lot.quote("2026-11-18 12:10", &before.ticket).total.amount;
    let after_due = lot.quote("2026-11-18 12:10", &after.ticket).total.amount;
    let at = berlin("2026-11-18 12:10");
    let by = |t: &gatehouse_core::tariff::Tariff, entry: &str| {
        t.quote(berlin(entry), at, class, Decimal::ONE).total.amount
    };
    assert_eq!(before_due, by(old, "2026-11-18 08:00"));
    assert_eq!(after_due, by(&new, "2026-11-18 10:30"));
    // 10:30 to 12:10 is two started hours at 4.00; the config's day tariff would say otherwise.
    assert_eq!(after_due, Decimal::new(800, 2));
    assert_ne!(after_due, by(old, "2026-11-18 10:30"));

    // A restarted engine still prices by the published version.
    let TestLot {
        _dir, path, engine, ..
    } = lot;
    drop(engine);
    let engine = Engine::open(&path, EngineOptions::default()).unwrap();
    let again = engine
        .execute(
            &Actor::system("lane"),
            berlin("2026-11-18 13:00"),
            Command::entry(Some(Plate::parse("R-ST 1").unwrap()), class),
        )
        .unwrap();
    let Outcome::Entered(again) = again else {
        panic!("{again:?}")
    };
    let q = Lot::open(&path)
        .unwrap()
        .quote(&StayRef::Ticket(again.ticket), berlin("2026-11-18 13:30"))
        .unwrap();
    assert_eq!(q.total.amount, Decimal::new(400, 2));
    let versions = gatehouse_core::tariffs::list(Lot::open(&path).unwrap().connection()).unwrap();
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].published_by, "root");
}

#[test]
fn a_bad_tariff_is_refused_with_its_field_and_changes_nothing() {
    let lot = small();
    let admin = staff("root", Role::Admin);
    let bad = HOURLY_TARIFF.replace("increment_price = \"4.00\"", "increment_price = \"4.005\"");
    let e = lot
        .as_(
            &admin,
            "2026-11-18 09:00",
            Command::PublishTariff(TariffRequest {
                toml: bad,
                effective_from: None,
                note: String::new(),
            }),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Config);
    assert!(
        e.message.contains("tariff.bands[0].increment_price"),
        "{}",
        e.message
    );
    let versions = gatehouse_core::tariffs::list(lot.reader().connection()).unwrap();
    assert!(versions.is_empty());
    assert!(!lot.kinds().contains(&"tariff_published".to_string()));
}

/// The journal as stored, and as `gatehouse journal` shows it (personal data still known).
fn journal_text(lot: &TestLot) -> (String, String) {
    let reader = lot.reader();
    let rows = reader.journal(1, 10_000).unwrap();
    let stored: String = rows.iter().map(|r| r.payload.clone() + "\n").collect();
    let shown: String = rows
        .iter()
        .map(|r| reader.reveal(r).unwrap() + "\n")
        .collect();
    (stored, shown)
}

#[test]
fn erasure_reaches_plates_and_names_in_the_journal_and_the_chain_still_verifies() {
    let lot = small();
    lot.run(
        "2026-11-18 07:00",
        Command::IssuePermit(permit(&["P-ER 1"], None)),
    )
    .unwrap();
    lot.run(
        "2026-11-18 07:00",
        Command::Watch(req::Watch {
            plate: Plate::parse("W-AT 1").unwrap(),
            action: Some(WatchAction::Alert),
            note: "ask W-AT 1 to call the office".into(),
        }),
    )
    .unwrap();
    let p = lot.enter("2026-11-18 08:00", "P-ER 1").unwrap();
    lot.exit_paid("2026-11-18 09:00", &p).unwrap();
    let w = lot.enter("2026-11-18 08:00", "W-AT 1").unwrap();
    assert_eq!(w.alerts.len(), 1);
    lot.exit_paid("2026-11-18 09:00", &w).unwrap();

    // Stored: tokens only. Shown: the clear values, in the entry, the alert's message and the
    // permit's holder.
    let (stored, shown) = journal_text(&lot);
    for clear in ["PER1", "WAT1", "Ada Lovelace"] {
        assert!(
            !stored.contains(clear),
            "{clear} stored in clear:\n{stored}"
        );
        assert!(shown.contains(clear), "{clear} not shown:\n{shown}");
    }
    // The attendant's note named the plate as they wrote it; that is sealed too.
    assert!(!stored.contains("W-AT 1"), "{stored}");
    let per1 = lot.reader().context().plate_hash("PER1");
    assert!(stored.contains(&per1));

    lot.as_(
        &staff("root", Role::Admin),
        "2026-11-18 12:00",
        Command::ErasePlate(req::ErasePlate {
            plate: Plate::parse("PER1").unwrap(),
        }),
    )
    .unwrap();
    let (_, shown) = journal_text(&lot);
    assert!(
        !shown.contains("PER1") && !shown.contains("Ada Lovelace"),
        "{shown}"
    );
    assert!(shown.contains(&per1));
    // Other people's data is untouched.
    assert!(shown.contains("WAT1"));
    let audit = lot.reader().audit().unwrap();
    assert!(audit.ok, "{audit:?}");
}

#[test]
fn retention_forgets_old_plates_in_the_journal_but_keeps_recent_ones() {
    let lot = small();
    let old = lot.enter("2026-11-18 08:00", "O-LD 1").unwrap();
    lot.exit_paid("2026-11-18 09:00", &old).unwrap();
    let recent = lot.enter("2026-11-18 10:00", "N-EW 1").unwrap();
    lot.exit_paid("2026-11-18 11:00", &recent).unwrap();
    lot.as_(
        &staff("root", Role::Admin),
        "2026-11-18 12:00",
        Command::PseudonymisePlates(req::PseudonymisePlates {
            before: berlin("2026-11-18 10:00"),
        }),
    )
    .unwrap();
    let (_, shown) = journal_text(&lot);
    assert!(!shown.contains("OLD1"), "{shown}");
    assert!(shown.contains("NEW1"));
    // The old plate coming back is known again from its new rows on, never for its old ones.
    lot.enter("2026-11-19 08:00", "O-LD 1").unwrap();
    let (_, shown) = journal_text(&lot);
    let entries: Vec<&str> = shown
        .lines()
        .filter(|l| l.contains("vehicle_entered"))
        .collect();
    assert_eq!(entries.len(), 3);
    assert!(!entries[0].contains("OLD1"), "{}", entries[0]);
    assert!(entries[2].contains("OLD1"), "{}", entries[2]);
    assert!(lot.reader().audit().unwrap().ok);
}

#[test]
fn a_day_report_counts_revenue_occupancy_and_reservations() {
    let lot = small();
    let a = lot.enter("2026-11-18 08:00", "R-EP 1").unwrap();
    let b = lot.enter("2026-11-18 09:00", "R-EP 2").unwrap();
    lot.exit_paid("2026-11-18 10:00", &a).unwrap(); // 2 h: 6.00
    lot.exit_paid("2026-11-18 10:00", &b).unwrap(); // 1 h: 3.00
    lot.book(
        "2026-11-18 07:00",
        None,
        "2026-11-18 12:00",
        "2026-11-18 13:00",
    )
    .unwrap();
    lot.enter("2026-11-18 13:00", "R-EP 3").unwrap(); // after the no-show
    let r = lot.reader();
    let (from, to) = gatehouse_core::reports::period_bounds(
        r.context(),
        "day",
        chrono::NaiveDate::from_ymd_opt(2026, 11, 18).unwrap(),
    )
    .unwrap();
    let rep =
        gatehouse_core::reports::report(r.connection(), r.context(), "day", from, to).unwrap();
    assert_eq!(rep.revenue_total, "9.00");
    assert_eq!(rep.occupancy_peak, 2);
    assert_eq!((rep.entries, rep.exits), (3, 2));
    assert_eq!(rep.average_stay_minutes, 90.0);
    assert_eq!(rep.reservations.get("no_show"), Some(&1));
    assert_eq!(rep.no_show_rate, 1.0);
    assert_eq!(rep.by_hour.len(), 24);
    assert_eq!(rep.by_hour[9].peak, 2, "{:?}", rep.by_hour[9]);
    let card: Vec<_> = rep
        .revenue_by_method
        .iter()
        .map(|m| (m.key.as_str(), m.amount.as_str()))
        .collect();
    assert_eq!(card, vec![("card", "9.00")]);
    let band: Decimal = rep
        .charges_by_line
        .iter()
        .map(|l| l.amount.parse::<Decimal>().unwrap())
        .sum();
    assert_eq!(band.to_string(), "9.00");
}

// ---- the no-double-booking invariant, by property ------------------------------------------------

mod invariant {
    use super::*;
    use gatehouse_core::reservations::pool_counts;
    use proptest::prelude::*;

    #[derive(Debug, Clone)]
    enum Op {
        Book {
            in_min: i64,
            len_min: i64,
            large: bool,
        },
        Cancel(usize),
        WalkIn,
        Leave(usize),
        Arrive(usize),
        Wait(i64),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            (20i64..480, 30i64..300, any::<bool>()).prop_map(|(in_min, len_min, large)| {
                Op::Book {
                    in_min,
                    len_min,
                    large,
                }
            }),
            (0usize..50).prop_map(Op::Cancel),
            Just(Op::WalkIn),
            Just(Op::WalkIn),
            (0usize..50).prop_map(Op::Leave),
            (0usize..50).prop_map(Op::Arrive),
            (1i64..240).prop_map(Op::Wait),
            (1i64..120).prop_map(Op::Wait),
        ]
    }

    /// From `now` on: for each pool and size threshold, the vehicles inside (a reserved one
    /// until its reservation ends, a walk-in for ever) plus the reservations holding capacity
    /// never exceed the spots, at now and at every future hold start.
    fn check(lot: &TestLot, now: DateTime<Utc>) -> Result<(), String> {
        let r = lot.reader();
        let counts = pool_counts(r.connection()).unwrap();
        let hold = Duration::minutes(15);
        let mut stmt = r
            .connection()
            .prepare("SELECT class, ev, accessible, start_at, end_at FROM reservations WHERE status = 'booked'")
            .unwrap();
        let rows: Vec<(usize, usize, DateTime<Utc>, DateTime<Utc>)> = stmt
            .query_map([], |x| {
                Ok((
                    x.get::<_, String>(0)?,
                    x.get(1)?,
                    x.get(2)?,
                    x.get::<_, String>(3)?,
                    x.get::<_, String>(4)?,
                ))
            })
            .unwrap()
            .map(|x| {
                let (c, ev, acc, start, end) = x.unwrap();
                (
                    gatehouse_core::allocation::Pool::of(ev, acc).index(),
                    VehicleClass::parse(&c).unwrap().index(),
                    start.parse::<DateTime<Utc>>().unwrap() - hold,
                    end.parse().unwrap(),
                )
            })
            .collect();
        let mut stmt = r
            .connection()
            .prepare("SELECT sp.size, sp.ev, sp.accessible, st.reserved_until FROM stays st JOIN spots sp ON sp.id = st.spot_id WHERE st.exit_at IS NULL")
            .unwrap();
        let inside: Vec<(usize, usize, Option<DateTime<Utc>>)> = stmt
            .query_map([], |x| {
                Ok((
                    x.get::<_, String>(0)?,
                    x.get(1)?,
                    x.get(2)?,
                    x.get::<_, Option<String>>(3)?,
                ))
            })
            .unwrap()
            .map(|x| {
                let (size, ev, acc, until) = x.unwrap();
                (
                    gatehouse_core::allocation::Pool::of(ev, acc).index(),
                    VehicleClass::parse(&size).unwrap().index(),
                    until.map(|u| u.parse().unwrap()),
                )
            })
            .collect();
        let mut instants = vec![now];
        instants.extend(rows.iter().map(|r| r.2).filter(|t| *t > now));
        for t in instants {
            for (pool, sizes) in counts.iter().enumerate() {
                for s in 0..5 {
                    let cap: u32 = sizes[s..].iter().map(|c| c.0).sum();
                    let occ = inside
                        .iter()
                        .filter(|(p, size, until)| {
                            *p == pool && *size >= s && until.is_none_or(|u| u > t)
                        })
                        .count() as u32;
                    let held = rows
                        .iter()
                        .filter(|(p, size, from, end)| {
                            *p == pool && *size >= s && *from <= t && t < *end
                        })
                        .count() as u32;
                    if occ + held > cap {
                        return Err(format!(
                            "pool {pool} size>={s} at {t} (now {now}): {occ} inside + {held} held > {cap} spots"
                        ));
                    }
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]
        #[test]
        fn reservations_plus_vehicles_inside_never_exceed_capacity(ops in proptest::collection::vec(op(), 1..60)) {
            let lot = small();
            let mut now = berlin("2026-11-18 08:00");
            let mut codes: Vec<String> = Vec::new();
            // Stays inside: (qr, reservation end if it came with one).
            let mut inside: Vec<(String, Option<DateTime<Utc>>)> = Vec::new();
            let mut n = 0;
            for op in ops {
                n += 1;
                let sys = Actor::system("lane");
                match op {
                    Op::Book { in_min, len_min, large } => {
                        let start = now + Duration::minutes(in_min);
                        let r = lot.engine.execute(&sys, now, Command::Reserve(ReservationRequest {
                            plate: None,
                            class: if large { VehicleClass::Large } else { VehicleClass::Standard },
                            ev: false, accessible: false, spot: None,
                            start, end: start + Duration::minutes(len_min), holder: None,
                        }));
                        match r {
                            Ok(Outcome::Reservation(v)) => codes.push(v.code),
                            Ok(o) => panic!("{o:?}"),
                            Err(e) => prop_assert_eq!(e.kind, ErrorKind::Full),
                        }
                    }
                    Op::Cancel(i) if !codes.is_empty() => {
                        let code = codes[i % codes.len()].clone();
                        let _ = lot.engine.execute(&sys, now, Command::CancelReservation(req::CancelReservation { code }));
                    }
                    Op::WalkIn => {
                        let plate = Plate::parse(&format!("W-K {n}")).unwrap();
                        match lot.engine.execute(&sys, now, Command::entry(Some(plate), VehicleClass::Standard)) {
                            Ok(Outcome::Entered(e)) => inside.push((e.qr, None)),
                            Ok(o) => panic!("{o:?}"),
                            Err(e) => prop_assert_eq!(e.kind, ErrorKind::Full),
                        }
                    }
                    Op::Leave(i) if !inside.is_empty() => {
                        let (qr, _) = inside.remove(i % inside.len());
                        let stay = StayRef::Ticket(qr);
                        lot.engine.execute(&staff("sam", Role::Supervisor), now, Command::VoidStay(req::VoidStay { stay, reason: "test leaves".into() })).unwrap();
                    }
                    Op::Arrive(i) if !codes.is_empty() => {
                        let code = codes[i % codes.len()].clone();
                        let r = lot.engine.execute(&sys, now, by_code(&code));
                        if let Ok(Outcome::Entered(e)) = r {
                            let end = lot.reservation(&code).end;
                            inside.push((e.qr, Some(end)));
                        }
                    }
                    Op::Wait(m) => {
                        let to = now + Duration::minutes(m);
                        // Reserved vehicles leave by their reservation's end (an overstay is the
                        // driver's fault, penalised and alerted, not a booking the lot made).
                        inside.sort_by_key(|(_, end)| *end);
                        while let Some(pos) = inside.iter().position(|(_, end)| end.is_some_and(|e| e <= to)) {
                            let (qr, end) = inside.remove(pos);
                            let at = (end.unwrap() - Duration::minutes(1)).max(now);
                            lot.engine.execute(&staff("sam", Role::Supervisor), at, Command::VoidStay(req::VoidStay { stay: StayRef::Ticket(qr), reason: "left in time".into() })).unwrap();
                            now = at;
                            prop_assert!(check(&lot, now).is_ok(), "{}", check(&lot, now).unwrap_err());
                        }
                        now = to;
                        // Let the engine see the time (no-shows), with a harmless read-only command.
                        let _ = lot.engine.execute(&sys, now, Command::CancelReservation(req::CancelReservation { code: "none".into() }));
                    }
                    _ => {}
                }
                prop_assert!(check(&lot, now).is_ok(), "{}", check(&lot, now).unwrap_err());
            }
        }
    }
}

/// Regression (issue 26): a top-up of the largest decimal on an account holding 1.00 overflowed
/// `balance + amount` and panicked the single writer, so every later command, lanes included,
/// answered "the lot engine has stopped". It is now refused, nothing changes, the lot carries
/// on; two such cash top-ups in one shift no longer overflow the shift's sums either.
#[test]
fn a_top_up_that_overflows_the_balance_is_refused_and_the_lot_keeps_running() {
    // A lot whose top-up limit is the largest decimal, so the overflow itself is what refuses.
    let lot = TestLot::from_toml(&format!(
        "{}\n[limits]\nmax_top_up = \"{}\"\n",
        small_toml(),
        Decimal::MAX
    ));
    let cashier = staff("carla", Role::Cashier);
    lot.as_(
        &cashier,
        "2026-11-18 07:00",
        Command::OpenShift(req::OpenShift {
            float: Decimal::from(50),
        }),
    )
    .unwrap();
    let open = |holder: &str| lot.open_account("2026-11-18 07:01", holder);
    let top_up =
        |account: i64, amount: Decimal| lot.top_up(&cashier, "2026-11-18 07:02", account, amount);
    let bob = open("Bob");
    top_up(bob, Decimal::ONE).unwrap();
    let e = top_up(bob, Decimal::MAX).unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e:?}");
    assert!(e.message.contains("largest balance"), "{}", e.message);
    // The lot still runs: a car enters, and Bob's balance is what it was.
    lot.enter("2026-11-18 07:03", "A-CC 2").unwrap();
    let balance = lot
        .reader()
        .connection()
        .query_row("SELECT balance FROM accounts WHERE id = ?1", [bob], |r| {
            r.get::<_, String>(0)
        })
        .unwrap();
    assert_eq!(balance.parse::<Decimal>().unwrap(), Decimal::ONE);

    // Two top-ups of the largest amount, each fine alone, overflow the shift's cash sums:
    // closing the shift is refused with a reason, and the lot still runs.
    let (ann, cid) = (open("Ann"), open("Cid"));
    top_up(ann, Decimal::MAX).unwrap();
    top_up(cid, Decimal::MAX).unwrap();
    let e = lot
        .as_(
            &cashier,
            "2026-11-18 07:10",
            Command::CloseShift(req::CloseShift {
                counted: Decimal::from(50),
            }),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict, "{e:?}");
    assert!(e.message.contains("largest amount"), "{}", e.message);
    lot.enter("2026-11-18 07:11", "A-CC 3").unwrap();
}

/// Regression (issue 26): nothing bounded one payment or top-up, so a typed 79228162514264337593543950335
/// was recorded as cash. The lot's `[limits]` now refuse a payment, refund, float or top-up above
/// them, saying which limit and where it is set, and nothing is recorded.
#[test]
fn a_payment_or_top_up_above_the_lots_limit_is_refused_and_nothing_is_recorded() {
    let lot = small();
    let cashier = staff("carla", Role::Cashier);
    let float = |amount: i64| {
        lot.as_(
            &cashier,
            "2026-11-18 07:00",
            Command::OpenShift(req::OpenShift {
                float: Decimal::from(amount),
            }),
        )
    };
    let e = float(5001).unwrap_err();
    assert!(e.message.contains("max_payment"), "{}", e.message);
    float(100).unwrap();
    let e = lot.enter("2026-11-18 07:01", "A-LM 1").unwrap();
    let pay = |amount: Decimal| {
        lot.as_(
            &cashier,
            "2026-11-18 09:00",
            Command::Pay(req::Pay {
                stay: StayRef::Ticket(e.qr.clone()),
                method: PaymentMethod::Cash,
                amount,
                key: None,
            }),
        )
    };
    let refused = pay(Decimal::new(500_001, 2)).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::InvalidInput);
    assert!(
        refused
            .message
            .contains("5000.01 EUR is more than this lot takes as one payment")
            && refused.message.contains("[limits] max_payment"),
        "{}",
        refused.message
    );
    let account = lot.open_account("2026-11-18 09:01", "Bob");
    let top_up =
        |amount: i64| lot.top_up(&cashier, "2026-11-18 09:02", account, Decimal::from(amount));
    let refused = top_up(1001).unwrap_err();
    assert!(
        refused.message.contains("max_top_up"),
        "{}",
        refused.message
    );
    let count = |sql: &str| {
        lot.reader()
            .connection()
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .unwrap()
    };
    assert_eq!(count("SELECT COUNT(*) FROM payments"), 0);
    assert_eq!(count("SELECT COUNT(*) FROM account_moves"), 0);
    // Within the limits, both go through.
    pay(Decimal::from(10)).unwrap();
    top_up(1000).unwrap();
    assert_eq!(count("SELECT COUNT(*) FROM payments"), 1);
    assert_eq!(count("SELECT COUNT(*) FROM account_moves"), 1);
}
