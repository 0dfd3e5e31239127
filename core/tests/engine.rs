//! The engine against a real SQLite file: what an attendant, a driver and an auditor would notice.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{TestLot, berlin};
use gatehouse_core::command as req;

use gatehouse_core::entry::Entered;
use gatehouse_core::lot::restore;
use gatehouse_core::payments::Paid;
use gatehouse_core::{
    Actor, Command, Engine, EngineOptions, ErrorKind, Lot, LotConfig, Outcome, PaymentMethod,
    Plate, Role, StayRef, VehicleClass,
};
use rust_decimal::Decimal;
use std::path::PathBuf;
use std::str::FromStr;

fn attendant() -> Actor {
    Actor::new("booth-1", Role::Attendant).unwrap()
}
fn supervisor() -> Actor {
    Actor::new("sam", Role::Supervisor).unwrap()
}

fn lot_with(edit: impl Fn(String) -> String) -> TestLot {
    TestLot::from_toml(&edit(gatehouse_core::config::DEMO_TOML.to_string()))
}

fn demo_lot() -> TestLot {
    lot_with(|t| t)
}

impl TestLot {
    /// booth-1 opens a shift: a person takes cash only on an open shift.
    fn on_shift(self) -> TestLot {
        self.run(
            "2026-11-18 06:00",
            Command::OpenShift(req::OpenShift {
                float: Decimal::from(100),
            }),
        )
        .unwrap();
        self
    }
    fn run(&self, at: &str, cmd: Command) -> gatehouse_core::Result<Outcome> {
        self.engine.execute(&attendant(), berlin(at), cmd)
    }
    fn enter(&self, at: &str, plate: &str, class: VehicleClass) -> Entered {
        match self.run(at, entry(plate, class)).unwrap() {
            Outcome::Entered(e) => e,
            o => panic!("{o:?}"),
        }
    }
    fn pay(
        &self,
        at: &str,
        ticket: &str,
        method: PaymentMethod,
        amount: &str,
        key: Option<&str>,
    ) -> gatehouse_core::Result<Paid> {
        self.run(
            at,
            Command::Pay(req::Pay {
                stay: StayRef::Ticket(ticket.into()),
                method,
                amount: Decimal::from_str(amount).unwrap(),
                key: key.map(String::from),
            }),
        )
        .map(|o| match o {
            Outcome::Paid(p) => p,
            o => panic!("{o:?}"),
        })
    }
    fn exit(&self, at: &str, ticket: &str) -> gatehouse_core::Result<Outcome> {
        self.run(
            at,
            Command::Exit(req::Exit {
                stay: StayRef::Ticket(ticket.into()),
                lane: None,
            }),
        )
    }
    fn reader(&self) -> Lot {
        Lot::open(&self.path).unwrap()
    }
    fn journal_rows(&self) -> i64 {
        self.reader().audit().unwrap().rows
    }
    fn due(&self, at: &str, ticket: &str) -> String {
        self.reader()
            .quote(&StayRef::Ticket(ticket.into()), berlin(at))
            .unwrap()
            .total
            .amount
            .to_string()
    }
}

fn entry(plate: &str, class: VehicleClass) -> Command {
    Command::entry(Some(Plate::parse(plate).unwrap()), class)
}

#[test]
fn entry_pay_exit_with_the_reference_tariff() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    assert_eq!(e.plate.as_deref(), Some("BAB123"));
    assert!(!e.reason.is_empty());
    assert_eq!(lot.due("2026-11-18 10:01", &e.ticket), "4.50");
    let q = lot
        .reader()
        .quote(
            &StayRef::Plate(Plate::parse("bab123").unwrap()),
            berlin("2026-11-18 11:30"),
        )
        .unwrap();
    assert_eq!(q.total.amount.to_string(), "7.50");
    let sum: Decimal = q.lines.iter().map(|l| l.amount.amount).sum();
    assert_eq!(sum, q.total.amount);

    let err = lot.exit("2026-11-18 11:30", &e.ticket).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unpaid);
    assert!(err.message.contains("7.50 EUR"), "{}", err.message);

    let p = lot
        .pay(
            "2026-11-18 11:30",
            &e.ticket,
            PaymentMethod::Card,
            "7.50",
            None,
        )
        .unwrap();
    assert_eq!(p.due, "0.00");
    match lot.exit("2026-11-18 11:40", &e.ticket).unwrap() {
        Outcome::Exited(x) => {
            assert_eq!(x.fee, "7.50");
            assert_eq!(x.spot.as_deref(), Some(e.spot.as_str()));
        }
        o => panic!("{o:?}"),
    }
    // The spot is free again: the next standard car at the same lane gets it.
    let again = lot.enter("2026-11-18 12:00", "M-XY 1", VehicleClass::Standard);
    assert_eq!(again.spot, e.spot);
}

#[test]
fn refused_command_changes_nothing() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let rows = lot.journal_rows();
    assert_eq!(
        lot.exit("2026-11-18 10:00", &e.ticket).unwrap_err().kind,
        ErrorKind::Unpaid
    );
    // The unpaid exit attempt is an alert for the attendant, and nothing else changed.
    assert_eq!(lot.journal_rows(), rows + 1);
    let rows = lot.journal_rows();
    assert_eq!(
        lot.pay(
            "2026-11-18 10:00",
            &e.ticket,
            PaymentMethod::Card,
            "99.00",
            None
        )
        .unwrap_err()
        .kind,
        ErrorKind::Conflict
    );
    assert_eq!(lot.journal_rows(), rows);
    assert_eq!(lot.due("2026-11-18 10:00", &e.ticket), "3.00");
}

#[test]
fn exit_grace_then_the_remainder_of_the_whole_stay() {
    let lot = demo_lot().on_shift();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let p = lot
        .pay(
            "2026-11-18 09:55",
            &e.ticket,
            PaymentMethod::Cash,
            "10.00",
            None,
        )
        .unwrap();
    assert_eq!((p.amount.as_str(), p.change.as_str()), ("3.00", "7.00"));
    assert!(p.grace_until.is_some());
    // 10:10 is within 15 minutes of payment: nothing owed although the fee has grown to 4.50.
    assert_eq!(lot.due("2026-11-18 10:10", &e.ticket), "0.00");
    // 10:11 is past the grace: the whole stay (09:00–10:11 = 4.50) minus the 3.00 paid.
    assert_eq!(lot.due("2026-11-18 10:11", &e.ticket), "1.50");
    assert_eq!(
        lot.exit("2026-11-18 10:11", &e.ticket).unwrap_err().kind,
        ErrorKind::Unpaid
    );
    lot.pay(
        "2026-11-18 10:12",
        &e.ticket,
        PaymentMethod::Card,
        "1.50",
        None,
    )
    .unwrap();
    assert!(matches!(
        lot.exit("2026-11-18 10:30", &e.ticket),
        Ok(Outcome::Exited(_))
    ));
}

#[test]
fn exit_fee_of_a_free_stay_reads_0_00_not_0() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let Outcome::Exited(x) = lot.exit("2026-11-18 09:08", &e.ticket).unwrap() else {
        panic!()
    };
    assert_eq!((x.fee.as_str(), x.paid.as_str()), ("0.00", "0.00"));
}

#[test]
fn free_minutes_exit_without_paying() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    assert!(matches!(
        lot.exit("2026-11-18 09:08", &e.ticket),
        Ok(Outcome::Exited(_))
    ));
}

#[test]
fn payment_retry_with_the_same_key_never_charges_twice() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let first = lot
        .pay(
            "2026-11-18 09:30",
            &e.ticket,
            PaymentMethod::Card,
            "1.00",
            Some("term-7-0001"),
        )
        .unwrap();
    let retry = lot
        .pay(
            "2026-11-18 09:31",
            &e.ticket,
            PaymentMethod::Card,
            "1.00",
            Some("term-7-0001"),
        )
        .unwrap();
    assert!(retry.replayed && !first.replayed);
    assert_eq!(retry.payment, first.payment);
    assert_eq!(
        lot.due("2026-11-18 09:31", &e.ticket),
        "2.00",
        "partial payment of 1.00 counted once"
    );
    let other = lot.pay(
        "2026-11-18 09:32",
        &e.ticket,
        PaymentMethod::Card,
        "2.00",
        Some("term-7-0001"),
    );
    assert_eq!(other.unwrap_err().kind, ErrorKind::Conflict);
}

#[test]
fn refunds_are_for_supervisors_only() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    lot.pay(
        "2026-11-18 09:30",
        &e.ticket,
        PaymentMethod::Card,
        "3.00",
        None,
    )
    .unwrap();
    let refund = |actor: &Actor, amount: &str| {
        lot.engine.execute(
            actor,
            berlin("2026-11-18 09:35"),
            Command::Refund(req::Refund {
                stay: StayRef::Ticket(e.ticket.clone()),
                method: PaymentMethod::Card,
                amount: Decimal::from_str(amount).unwrap(),
                reason: "barrier hit the car".into(),
                key: None,
            }),
        )
    };
    assert_eq!(
        refund(&attendant(), "3.00").unwrap_err().kind,
        ErrorKind::Forbidden
    );
    assert_eq!(
        refund(&supervisor(), "3.01").unwrap_err().kind,
        ErrorKind::Conflict
    );
    assert!(matches!(
        refund(&supervisor(), "3.00"),
        Ok(Outcome::Refunded(_))
    ));
    assert_eq!(lot.due("2026-11-18 09:40", &e.ticket), "3.00");
}

#[test]
fn hard_anti_passback_refuses_a_plate_already_inside() {
    let lot = demo_lot();
    lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let rows = lot.journal_rows();
    let err = lot
        .run("2026-11-18 09:05", entry("BAB-123", VehicleClass::Standard))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Passback);
    assert!(err.message.contains("already inside"), "{}", err.message);
    // Refused: no second stay, only the alert for the attendant.
    assert_eq!(lot.journal_rows(), rows + 1);
    let open = gatehouse_core::alerts::list_alerts(lot.reader().connection(), false).unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].kind, "passback");
}

#[test]
fn soft_anti_passback_admits_and_raises_an_alert() {
    let lot = lot_with(|t| t.replace("anti_passback = \"hard\"", "anti_passback = \"soft\""));
    lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let mut feed = lot.engine.subscribe();
    let second = lot.enter("2026-11-18 09:05", "B-AB 123", VehicleClass::Standard);
    assert_eq!(second.alerts.len(), 1);
    let kinds: Vec<String> = std::iter::from_fn(|| feed.try_recv().ok())
        .map(|r| r.kind.clone())
        .collect();
    assert_eq!(kinds, vec!["vehicle_entered", "alert_raised"]);
}

#[test]
fn presented_ticket_that_is_inside_or_used_is_refused() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let mut cmd = entry("M-XY 9", VehicleClass::Standard);
    if let Command::Entry(req::Entry {
        presented_ticket, ..
    }) = &mut cmd
    {
        *presented_ticket = Some(e.qr.clone());
    }
    assert_eq!(
        lot.run("2026-11-18 09:01", cmd.clone()).unwrap_err().kind,
        ErrorKind::Passback
    );
    lot.exit("2026-11-18 09:05", &e.ticket).unwrap();
    assert_eq!(
        lot.run("2026-11-18 09:06", cmd).unwrap_err().kind,
        ErrorKind::TicketUsed
    );
}

#[test]
fn class_full_then_lot_full_are_refused_with_the_reason() {
    let lot = demo_lot();
    for i in 0..4 {
        lot.enter("2026-11-18 09:00", &format!("BUS {i}"), VehicleClass::Bus);
    }
    let err = lot
        .run("2026-11-18 09:01", entry("BUS 9", VehicleClass::Bus))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Full);
    assert!(
        err.message.contains("full for a bus vehicle"),
        "{}",
        err.message
    );
    // Fill the rest: motorcycles take every spot they may use; then the lot is full for all.
    let mut n = 0;
    while lot
        .run(
            "2026-11-18 09:02",
            entry(&format!("MC {n}"), VehicleClass::Motorcycle),
        )
        .is_ok()
    {
        n += 1;
    }
    let err = lot
        .run("2026-11-18 09:03", entry("LATE 1", VehicleClass::Compact))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Full);
    let occ = lot.reader().occupancy(berlin("2026-11-18 09:04")).unwrap();
    // Motorcycles never take EV or accessible spots: only those are left.
    let reserved = LotConfig::demo()
        .unwrap()
        .spots
        .iter()
        .filter(|s| s.ev || s.accessible)
        .count();
    assert_eq!(occ.total.free, reserved);
    assert_eq!(occ.total.occupied, 4 + n);
}

#[test]
fn ev_and_accessible_vehicles_get_their_spots() {
    let lot = demo_lot();
    let mut cmd = entry("E-EV 1", VehicleClass::Standard);
    if let Command::Entry(req::Entry { ev, .. }) = &mut cmd {
        *ev = true;
    }
    let Outcome::Entered(e) = lot.run("2026-11-18 09:00", cmd).unwrap() else {
        panic!()
    };
    let spots = lot.reader().spots().unwrap();
    let s = spots.iter().find(|s| s.id == e.spot).unwrap();
    assert!(s.ev && !s.accessible, "{e:?}");
    assert_eq!(s.plate.as_deref(), Some("EEV1"));
}

/// A standard car's driver reports a lost ticket at 11:30.
fn lost(lot: &TestLot, plate: &str) -> gatehouse_core::exit::LostTicketOutcome {
    let cmd = Command::LostTicket(req::LostTicket {
        plate: Some(Plate::parse(plate).unwrap()),
        class: VehicleClass::Standard,
    });
    match lot.run("2026-11-18 11:30", cmd).unwrap() {
        Outcome::LostTicket(l) => l,
        o => panic!("{o:?}"),
    }
}

#[test]
fn lost_ticket_finds_the_stay_by_plate_or_charges_the_flat_fee() {
    let lot = demo_lot().on_shift();
    lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let f = lost(&lot, "BAB123");
    assert!(f.found);
    assert_eq!(f.quote.total.amount.to_string(), "7.50");
    let l = lost(&lot, "UNKNOWN1");
    assert!(!l.found);
    assert_eq!(l.quote.total.amount.to_string(), "25.00");
    assert_eq!(
        lot.exit("2026-11-18 11:35", &l.ticket).unwrap_err().kind,
        ErrorKind::Unpaid
    );
    lot.pay(
        "2026-11-18 11:35",
        &l.ticket,
        PaymentMethod::Cash,
        "30",
        None,
    )
    .unwrap();
    assert!(lot.exit("2026-11-18 11:36", &l.ticket).is_ok());
}

#[test]
fn forged_altered_and_replayed_tickets_are_refused() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let reader = lot.reader();
    assert_eq!(reader.verify_ticket(&e.qr).unwrap().ticket, e.ticket);
    let mut altered: Vec<char> = e.qr.chars().collect();
    altered[8] = if altered[8] == 'A' { 'B' } else { 'A' };
    let altered: String = altered.into_iter().collect();
    assert_eq!(
        reader.verify_ticket(&altered).unwrap_err().kind,
        ErrorKind::TicketForged
    );
    let forger = gatehouse_core::ticket::TicketSigner::new("demo", b"guessed secret");
    assert_eq!(
        reader.verify_ticket(&forger.payload(1)).unwrap_err().kind,
        ErrorKind::TicketForged
    );
    let foreign = gatehouse_core::ticket::TicketSigner::new("airport", b"whatever");
    assert_eq!(
        reader.verify_ticket(&foreign.payload(1)).unwrap_err().kind,
        ErrorKind::TicketForeign
    );
    // Exit by the QR payload, then replaying the same ticket is refused.
    assert!(lot.exit("2026-11-18 09:05", &e.qr).is_ok());
    assert_eq!(
        reader.verify_ticket(&e.qr).unwrap_err().kind,
        ErrorKind::TicketUsed
    );
    assert_eq!(
        lot.exit("2026-11-18 09:06", &e.qr).unwrap_err().kind,
        ErrorKind::TicketUsed
    );
    assert_eq!(
        lot.exit("2026-11-18 09:06", &altered).unwrap_err().kind,
        ErrorKind::TicketForged
    );
}

#[test]
fn audit_verify_names_an_edited_row() {
    let lot = demo_lot();
    for i in 0..5 {
        lot.enter(
            "2026-11-18 09:00",
            &format!("B-AB {i}"),
            VehicleClass::Standard,
        );
    }
    drop(lot.engine);
    assert!(Lot::open(&lot.path).unwrap().audit().unwrap().ok);
    let conn = rusqlite::Connection::open(&lot.path).unwrap();
    conn.execute_batch("DROP TRIGGER journal_is_append_only_update")
        .unwrap();
    conn.execute(
        "UPDATE journal SET payload = replace(payload, '\"class\":\"standard\"', '\"class\":\"motorcycle\"') WHERE seq = 4",
        [],
    )
    .unwrap();
    assert_eq!(conn.changes(), 1);
    let report = Lot::open(&lot.path).unwrap().audit().unwrap();
    assert!(!report.ok);
    let broken = report.first_broken.unwrap();
    assert_eq!(broken.seq, 4);
    assert!(broken.reason.contains("edited"), "{}", broken.reason);
}

#[test]
fn audit_verify_names_a_deleted_row_and_a_deleted_tail() {
    let lot = demo_lot();
    for i in 0..5 {
        lot.enter(
            "2026-11-18 09:00",
            &format!("B-AB {i}"),
            VehicleClass::Standard,
        );
    }
    drop(lot.engine);
    let conn = rusqlite::Connection::open(&lot.path).unwrap();
    conn.execute_batch("DROP TRIGGER journal_is_append_only_delete")
        .unwrap();
    conn.execute("DELETE FROM journal WHERE seq = 6", [])
        .unwrap();
    let report = Lot::open(&lot.path).unwrap().audit().unwrap();
    assert_eq!(
        report.first_broken.unwrap().seq,
        6,
        "the deleted last row is named"
    );
    conn.execute("DELETE FROM journal WHERE seq = 3", [])
        .unwrap();
    let broken = Lot::open(&lot.path)
        .unwrap()
        .audit()
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(broken.seq, 3);
    assert!(broken.reason.contains("missing"), "{}", broken.reason);
}

#[test]
fn restart_rebuilds_the_free_spot_indexes_from_the_database() {
    let lot = demo_lot();
    let a = lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    let TestLot { _dir, path, engine } = lot;
    drop(engine);
    let engine = Engine::open(&path, EngineOptions::default()).unwrap();
    let lot = TestLot { _dir, path, engine };
    let b = lot.enter("2026-11-18 09:01", "B-AB 2", VehicleClass::Standard);
    assert_ne!(
        a.spot, b.spot,
        "a spot held before the restart is not handed out again"
    );
}

#[test]
fn two_engines_on_one_file_never_hand_out_the_same_spot() {
    let lot = demo_lot();
    let other = Engine::open(&lot.path, EngineOptions::default()).unwrap();
    let a = lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    let Outcome::Entered(b) = other
        .execute(
            &attendant(),
            berlin("2026-11-18 09:01"),
            entry("B-AB 2", VehicleClass::Standard),
        )
        .unwrap()
    else {
        panic!()
    };
    assert_ne!(a.spot, b.spot);
    assert!(lot.reader().audit().unwrap().ok);
}

#[test]
fn supervisor_overrides_a_spot_and_takes_spots_out_of_service() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    let moved = lot.engine.execute(
        &attendant(),
        berlin("2026-11-18 09:10"),
        Command::OverrideSpot(req::OverrideSpot {
            stay: StayRef::Ticket(e.ticket.clone()),
            spot: "P2-F-001".into(),
            reason: "wedding party".into(),
        }),
    );
    assert_eq!(moved.unwrap_err().kind, ErrorKind::Forbidden);
    lot.engine
        .execute(
            &supervisor(),
            berlin("2026-11-18 09:10"),
            Command::OverrideSpot(req::OverrideSpot {
                stay: StayRef::Ticket(e.ticket.clone()),
                spot: "P2-F-001".into(),
                reason: "wedding party".into(),
            }),
        )
        .unwrap();
    // The first spot is free again and the occupancy an hour ago still shows the first spot.
    let before = lot.reader().occupancy(berlin("2026-11-18 09:05")).unwrap();
    let after = lot.reader().occupancy(berlin("2026-11-18 09:15")).unwrap();
    assert_eq!(before.by_level["P0"].occupied, 1);
    assert_eq!(after.by_level["P2"].occupied, 1);
    assert_eq!(after.by_level["P0"].occupied, 0);
    // Out of service: the nearest spot is skipped until it is back.
    let nearest = lot
        .enter("2026-11-18 09:20", "B-AB 2", VehicleClass::Standard)
        .spot;
    lot.exit("2026-11-18 09:21", "B-AB 2").unwrap_err(); // a plate is not a ticket number
    lot.run(
        "2026-11-18 09:21",
        Command::Exit(req::Exit {
            stay: StayRef::Plate(Plate::parse("BAB2").unwrap()),
            lane: None,
        }),
    )
    .unwrap();
    let service = |on: bool| {
        Command::SetSpotService(req::SetSpotService {
            spot: nearest.clone(),
            in_service: on,
            reason: "oil spill".into(),
        })
    };
    lot.engine
        .execute(&supervisor(), berlin("2026-11-18 09:22"), service(false))
        .unwrap();
    let next = lot.enter("2026-11-18 09:23", "B-AB 3", VehicleClass::Standard);
    assert_ne!(next.spot, nearest);
    assert_eq!(
        lot.reader()
            .occupancy(berlin("2026-11-18 09:23"))
            .unwrap()
            .total
            .out_of_service,
        1
    );
    lot.engine
        .execute(&supervisor(), berlin("2026-11-18 09:24"), service(true))
        .unwrap();
    assert_eq!(
        lot.enter("2026-11-18 09:25", "B-AB 4", VehicleClass::Standard)
            .spot,
        nearest
    );
}

#[test]
fn concurrent_entries_never_share_a_spot() {
    let lot = demo_lot();
    let spots = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for t in 0..8 {
            let lot = &lot;
            let spots = &spots;
            s.spawn(move || {
                for i in 0..20 {
                    let e = lot.enter(
                        "2026-11-18 09:00",
                        &format!("T{t}X{i}"),
                        VehicleClass::Standard,
                    );
                    spots.lock().unwrap().push(e.spot);
                }
            });
        }
    });
    let mut spots = spots.into_inner().unwrap();
    let n = spots.len();
    spots.sort();
    spots.dedup();
    assert_eq!(spots.len(), n);
    assert!(lot.reader().audit().unwrap().ok);
}

#[test]
fn backup_and_restore_round_trip() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    let backup = lot.path.with_file_name("backup.db");
    let info = lot.reader().backup(&backup).unwrap();
    assert_eq!(info.journal_rows, 2);
    lot.enter("2026-11-18 09:05", "B-AB 2", VehicleClass::Standard);
    let restored = lot.path.with_file_name("restored.db");
    restore(&backup, &restored, false).unwrap();
    let r = Lot::open(&restored).unwrap();
    assert!(r.audit().unwrap().ok);
    assert_eq!(
        r.quote(
            &StayRef::Ticket(e.ticket.clone()),
            berlin("2026-11-18 10:01")
        )
        .unwrap()
        .total
        .amount
        .to_string(),
        "4.50"
    );
    assert_eq!(
        r.quote(
            &StayRef::Plate(Plate::parse("BAB2").unwrap()),
            berlin("2026-11-18 10:01")
        )
        .unwrap_err()
        .kind,
        ErrorKind::NotFound
    );
    assert_eq!(
        restore(&backup, &restored, false).unwrap_err().kind,
        ErrorKind::Conflict
    );
}

#[test]
fn invalid_config_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let cfg_path = dir.path().join("bad.toml");
    std::fs::write(
        &cfg_path,
        gatehouse_core::config::DEMO_TOML.replace("currency = \"EUR\"", "currency = \"EURO\""),
    )
    .unwrap();
    let err = LotConfig::load(&cfg_path).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(
        err.message.contains("bad.toml: lot.currency:"),
        "{}",
        err.message
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        1,
        "only the config file is there"
    );
}

#[test]
fn auditor_cannot_change_the_lot() {
    let lot = demo_lot();
    let auditor = Actor::new("alex", Role::Auditor).unwrap();
    let err = lot
        .engine
        .execute(
            &auditor,
            berlin("2026-11-18 09:00"),
            entry("B-AB 1", VehicleClass::Standard),
        )
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);
}

#[test]
fn journal_records_the_acting_user_and_is_broadcast_after_commit() {
    let lot = demo_lot();
    let mut feed = lot.engine.subscribe();
    let e = lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    let rec = feed.try_recv().unwrap();
    assert_eq!(
        (rec.kind.as_str(), rec.actor.as_str(), rec.role.as_str()),
        ("vehicle_entered", "booth-1", "attendant")
    );
    assert!(rec.payload.contains(&e.ticket));
}

/// Restores `backup` next to the lot and admits a new car there.
fn restore_and_enter(lot: &TestLot, backup: &std::path::Path) -> (PathBuf, Entered) {
    let restored = lot.path.with_file_name("restored.db");
    restore(backup, &restored, false).unwrap();
    let engine = Engine::open(&restored, EngineOptions::default()).unwrap();
    match engine
        .execute(
            &attendant(),
            berlin("2026-11-18 10:00"),
            entry("M-XY 3", VehicleClass::Standard),
        )
        .unwrap()
    {
        Outcome::Entered(e) => (restored, e),
        o => panic!("{o:?}"),
    }
}

#[test]
fn ticket_printed_after_the_backup_never_matches_a_stay_after_restore() {
    let lot = demo_lot();
    lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    let backup = lot.path.with_file_name("backup.db");
    lot.reader().backup(&backup).unwrap();
    // Printed after the backup: lost with the disk.
    let late = lot.enter("2026-11-18 09:05", "B-AB 2", VehicleClass::Standard);
    let (restored, next) = restore_and_enter(&lot, &backup);
    assert_ne!(next.ticket, late.ticket);
    let err = Lot::open(&restored)
        .unwrap()
        .verify_ticket(&late.qr)
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::NotFound, "{}", err.message);
}

#[tokio::test]
async fn submit_from_an_async_task_and_follow_the_live_feed() {
    let lot = demo_lot();
    let mut feed = lot.engine.subscribe();
    let outcome = lot
        .engine
        .submit(
            &attendant(),
            berlin("2026-11-18 09:00"),
            entry("B-AB 1", VehicleClass::Standard),
        )
        .await
        .unwrap();
    let Outcome::Entered(e) = outcome else {
        panic!()
    };
    let rec = feed.recv().await.unwrap();
    assert_eq!(rec.kind, "vehicle_entered");
    assert!(rec.payload.contains(&e.ticket));
}

#[test]
fn restore_of_a_backup_taken_before_any_stay_still_moves_ticket_serials_on() {
    let lot = demo_lot();
    let backup = lot.path.with_file_name("empty-backup.db");
    lot.reader().backup(&backup).unwrap();
    let late = lot.enter("2026-11-18 09:05", "B-AB 2", VehicleClass::Standard);
    let (_, next) = restore_and_enter(&lot, &backup);
    assert!(
        next.stay > gatehouse_core::lot::RESTORE_SERIAL_GAP,
        "{}",
        next.ticket
    );
    assert_ne!(next.ticket, late.ticket);
}

#[test]
fn audit_verify_finds_an_edited_payment() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    lot.pay(
        "2026-11-18 10:00",
        &e.ticket,
        PaymentMethod::Card,
        "3.00",
        None,
    )
    .unwrap();
    drop(lot.engine);
    let conn = rusqlite::Connection::open(&lot.path).unwrap();
    assert!(
        conn.execute("UPDATE payments SET amount = '1.00'", [])
            .is_err(),
        "payments are append-only"
    );
    conn.execute_batch(
        "DROP TRIGGER payments_are_append_only_update; UPDATE payments SET amount = '1.00';",
    )
    .unwrap();
    let broken = Lot::open(&lot.path)
        .unwrap()
        .audit()
        .unwrap()
        .first_broken
        .unwrap();
    assert_eq!(broken.seq, 3, "the payment's journal row");
    assert!(
        broken.reason.contains("payments table was edited"),
        "{}",
        broken.reason
    );
    conn.execute_batch("DROP TRIGGER payments_are_append_only_delete; DELETE FROM payments;")
        .unwrap();
    let broken = Lot::open(&lot.path)
        .unwrap()
        .audit()
        .unwrap()
        .first_broken
        .unwrap();
    assert!(
        broken.reason.contains("missing from the payments table"),
        "{}",
        broken.reason
    );
}

#[test]
fn audit_verify_finds_a_deleted_journal_head() {
    let lot = demo_lot();
    lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    drop(lot.engine);
    let conn = rusqlite::Connection::open(&lot.path).unwrap();
    conn.execute("DELETE FROM meta WHERE key = 'journal_head'", [])
        .unwrap();
    let report = Lot::open(&lot.path).unwrap().audit().unwrap();
    assert!(!report.ok);
    assert!(
        report
            .first_broken
            .unwrap()
            .reason
            .contains("head is missing")
    );
}

#[test]
fn a_lane_must_scan_the_signed_qr_not_a_typed_number() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    let lane = Actor::system("lane-X1");
    let exit = |t: &str| {
        Command::Exit(req::Exit {
            stay: StayRef::Ticket(t.into()),
            lane: None,
        })
    };
    let err = lot
        .engine
        .execute(&lane, berlin("2026-11-18 09:05"), exit(&e.ticket))
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Forbidden);
    assert!(
        lot.engine
            .execute(&lane, berlin("2026-11-18 09:05"), exit(&e.qr))
            .is_ok()
    );
}

#[test]
fn anti_passback_off_admits_a_presented_ticket_without_an_alert() {
    let lot = lot_with(|t| t.replace("anti_passback = \"hard\"", "anti_passback = \"off\""));
    let e = lot.enter("2026-11-18 09:00", "B-AB 1", VehicleClass::Standard);
    let mut cmd = entry("B-AB 1", VehicleClass::Standard);
    if let Command::Entry(req::Entry {
        presented_ticket, ..
    }) = &mut cmd
    {
        *presented_ticket = Some(e.qr.clone());
    }
    let Outcome::Entered(again) = lot.run("2026-11-18 09:01", cmd).unwrap() else {
        panic!()
    };
    assert!(again.alerts.is_empty());
}

fn lane_actor() -> Actor {
    Actor::system("lane-entry-1")
}

fn journal_kinds(lot: &TestLot) -> Vec<(String, serde_json::Value)> {
    lot.reader()
        .journal(1, 10_000)
        .unwrap()
        .into_iter()
        .map(|r| (r.kind, serde_json::from_str(&r.payload).unwrap()))
        .collect()
}

#[test]
fn a_lane_cancels_the_entry_of_a_vehicle_that_backed_off_and_its_spot_is_free_again() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let cancel = |at: &str, lane: &str| {
        lot.engine.execute(
            &lane_actor(),
            berlin(at),
            Command::CancelEntry(req::CancelEntry {
                stay: StayRef::Ticket(e.ticket.clone()),
                lane: lane.into(),
                reason: "reversed off the loop".into(),
            }),
        )
    };
    // Too late for a lane: a supervisor voids it instead.
    let err = cancel("2026-11-18 09:11", &e.lane).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Conflict);
    assert!(
        err.message.contains("supervisor can void"),
        "{}",
        err.message
    );
    cancel("2026-11-18 09:01", &e.lane).unwrap();
    // Gone: its ticket no longer opens an exit, and the spot goes to the next car.
    assert_eq!(
        lot.reader()
            .quote(
                &StayRef::Ticket(e.ticket.clone()),
                berlin("2026-11-18 09:02")
            )
            .unwrap_err()
            .kind,
        ErrorKind::TicketUsed
    );
    let next = lot.enter("2026-11-18 09:02", "M-XY 1", VehicleClass::Standard);
    assert_eq!(next.spot, e.spot);
    let (_, payload) = journal_kinds(&lot)
        .into_iter()
        .find(|(k, _)| k == "entry_cancelled")
        .expect("journaled");
    assert_eq!(payload["ticket"], e.ticket);
    assert_eq!(payload["lane"], e.lane);
}

#[test]
fn an_exit_owing_is_recorded_with_what_was_not_collected_and_an_alert() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let owing = |reason: &str| {
        lot.engine.execute(
            &Actor::system("lane-exit-1"),
            berlin("2026-11-18 10:01"),
            Command::ExitOwing(req::ExitOwing {
                stay: StayRef::Ticket(e.ticket.clone()),
                lane: None,
                reason: reason.into(),
            }),
        )
    };
    assert_eq!(owing(" ").unwrap_err().kind, ErrorKind::InvalidInput);
    match owing("payment terminal down").unwrap() {
        Outcome::Exited(x) => {
            assert_eq!(x.fee, "4.50");
            assert_eq!(x.paid, "0.00");
        }
        o => panic!("{o:?}"),
    }
    let (_, payload) = journal_kinds(&lot)
        .into_iter()
        .find(|(k, _)| k == "exit_uncollected")
        .expect("journaled");
    assert_eq!(payload["owed"], "4.50");
    let open = gatehouse_core::alerts::list_alerts(lot.reader().connection(), false).unwrap();
    assert_eq!(open[0].kind, "uncollected");
    assert!(open[0].message.contains("4.50"), "{:?}", open[0]);
}

#[test]
fn a_lane_report_is_journaled_with_its_timings_and_alerts_only_when_asked() {
    let lot = demo_lot();
    let report = |what: &str, alert: bool| gatehouse_core::LaneReport {
        lane: "E1".into(),
        what: what.into(),
        reason: "a second vehicle followed through the open barrier".into(),
        stay: None,
        plate: None,
        timing: [("gate_command_ms".to_string(), 180u64)].into(),
        alert,
    };
    let run = |r| {
        lot.engine.execute(
            &lane_actor(),
            berlin("2026-11-18 09:00"),
            Command::LaneReport(r),
        )
    };
    run(report("passed", false)).unwrap();
    assert!(
        gatehouse_core::alerts::list_alerts(lot.reader().connection(), false)
            .unwrap()
            .is_empty()
    );
    run(report("tailgate", true)).unwrap();
    let open = gatehouse_core::alerts::list_alerts(lot.reader().connection(), false).unwrap();
    assert_eq!(open[0].kind, "lane_tailgate");
    let reports: Vec<_> = journal_kinds(&lot)
        .into_iter()
        .filter(|(k, _)| k == "lane_reported")
        .collect();
    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].1["timing"]["gate_command_ms"], 180);
    // A lane that does not exist, or a kind that is not a word, is refused.
    let mut bad = report("passed", false);
    bad.lane = "Z9".into();
    assert_eq!(run(bad).unwrap_err().kind, ErrorKind::NotFound);
    assert_eq!(
        run(report("Passed; DROP", false)).unwrap_err().kind,
        ErrorKind::InvalidInput
    );
}

/// The writer notices another process's commits (SQLite's data_version) and rebuilds before its
/// next group: a car another engine admitted holds its spot here too, and the journal chain
/// stays whole.
#[test]
fn an_engine_sees_what_another_process_wrote_before_its_next_command() {
    let lot = demo_lot();
    let other = Engine::open(&lot.path, EngineOptions::default()).unwrap();
    let first = lot.enter("2026-11-18 08:00", "B-AB 101", VehicleClass::Standard);
    let theirs = match other
        .execute(
            &attendant(),
            berlin("2026-11-18 08:01"),
            entry("B-AB 102", VehicleClass::Standard),
        )
        .unwrap()
    {
        Outcome::Entered(e) => e,
        o => panic!("{o:?}"),
    };
    drop(other);
    // The other engine's stay is inside for this one: its plate cannot enter again (hard
    // anti-passback in the demo lot) ...
    let again = lot.run(
        "2026-11-18 08:02",
        entry("B-AB 102", VehicleClass::Standard),
    );
    assert!(again.is_err(), "{again:?}");
    // ... and this engine's next car gets neither spot taken already.
    let next = lot.enter("2026-11-18 08:03", "B-AB 103", VehicleClass::Standard);
    assert_ne!(next.spot, first.spot);
    assert_ne!(next.spot, theirs.spot);
    let audit = Lot::open(&lot.path).unwrap().audit().unwrap();
    assert!(audit.ok, "{audit:?}");
}

/// Closing a lane and holding an exit open are the engine's to allow and journal: an attendant
/// may, with a reason; a cashier and a lane's own terminal may not; free exit is for exit lanes.
#[test]
fn closing_a_lane_or_holding_an_exit_open_is_allowed_and_journaled_by_the_engine() {
    let lot = demo_lot();
    let at = berlin("2026-11-18 09:00");
    let close = |reason: &str| {
        Command::SetLaneOpen(req::SetLaneOpen {
            lane: "E1".into(),
            open: false,
            reason: reason.into(),
        })
    };
    for who in [
        Actor::new("cas", Role::Cashier).unwrap(),
        Actor::system("lane-E1"),
    ] {
        let e = lot
            .engine
            .execute(&who, at, close("broken loop"))
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Forbidden, "{who:?}: {e:?}");
    }
    let e = lot
        .engine
        .execute(&attendant(), at, close("  "))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e:?}");
    let e = lot
        .engine
        .execute(
            &attendant(),
            at,
            Command::SetFreeExit(req::SetFreeExit {
                lane: "E1".into(),
                on: true,
                reason: "fire alarm".into(),
            }),
        )
        .unwrap_err();
    assert!(e.message.contains("entry lane"), "{e:?}");

    lot.engine
        .execute(&attendant(), at, close("broken loop"))
        .unwrap();
    lot.engine
        .execute(
            &attendant(),
            at,
            Command::SetFreeExit(req::SetFreeExit {
                lane: "X1".into(),
                on: true,
                reason: "fire alarm".into(),
            }),
        )
        .unwrap();
    let rows = Lot::open(&lot.path).unwrap().journal(0, 100).unwrap();
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    assert!(kinds.contains(&"lane_closed"), "{kinds:?}");
    assert!(kinds.contains(&"free_exit_changed"), "{kinds:?}");
    let closed = rows.iter().find(|r| r.kind == "lane_closed").unwrap();
    assert_eq!(closed.actor, "booth-1");
    assert!(closed.payload.contains("broken loop"), "{}", closed.payload);
}

/// The entry ticket's words come from the lot: its number, the entry time in the lot's zone, the
/// spot with its level, the plate, and the signed QR that scans back to the stay.
#[test]
fn an_entry_ticket_says_number_local_time_spot_plate_and_carries_its_qr() {
    let lot = demo_lot();
    let e = lot.enter("2026-11-18 09:00", "B-AB 123", VehicleClass::Standard);
    let text = e.ticket_text(lot.engine.context());
    let line = |label: &str| {
        text.lines
            .iter()
            .find(|(l, _)| l == label)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {label} line in {text:?}"))
    };
    assert_eq!(line("Ticket"), e.ticket);
    assert!(line("Entry").starts_with("2026-11-18 09:00"), "{text:?}");
    assert_eq!(line("Spot"), format!("{} (level {})", e.spot, e.level));
    assert_eq!(line("Plate"), "BAB123");
    assert_eq!(text.qr_payload, e.qr);
    let scanned = Lot::open(&lot.path)
        .unwrap()
        .verify_ticket(&text.qr_payload)
        .unwrap();
    assert!(format!("{scanned:?}").contains(&e.ticket), "{scanned:?}");
}
