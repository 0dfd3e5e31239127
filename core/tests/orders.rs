#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Orders from the shared server: each applied exactly once, in order, and the lot's decision
//! journaled (accepted with the reservation, or refused with the reason).

mod common;
use common::{TestLot, berlin};
use gatehouse_core::command as req;
use gatehouse_core::config::DEMO_TOML;
use gatehouse_core::orders::OrderDecision;
use gatehouse_core::reservations::ReservationRequest;
use gatehouse_core::{Actor, Command, ErrorKind, Lot, Outcome, Plate, VehicleClass};

fn reserve(plate: &str, from: &str, to: &str) -> Box<Command> {
    Box::new(Command::Reserve(ReservationRequest {
        plate: Some(Plate::parse(plate).unwrap()),
        class: VehicleClass::Standard,
        ev: false,
        accessible: false,
        spot: None,
        start: berlin(from),
        end: berlin(to),
        holder: Some("web".into()),
    }))
}

fn order(seq: i64, id: &str, order: Box<Command>) -> Command {
    Command::ApplyOrder(req::ApplyOrder {
        seq,
        id: id.into(),
        order: Ok(order),
    })
}

/// Applies server order `seq` as the sync client does, and returns the lot's decision.
fn decide(lot: &TestLot, seq: i64, id: &str, cmd: Command) -> OrderDecision {
    let at = berlin("2026-11-18 08:00");
    match lot
        .engine
        .execute(&Actor::system("sync"), at, order(seq, id, Box::new(cmd)))
        .unwrap()
    {
        Outcome::Order(d) => d,
        other => panic!("{other:?}"),
    }
}

fn journal_kinds(lot: &TestLot) -> Vec<(String, serde_json::Value)> {
    Lot::open(&lot.path)
        .unwrap()
        .journal(1, 10_000)
        .unwrap()
        .into_iter()
        .map(|r| (r.kind, serde_json::from_str(&r.payload).unwrap()))
        .collect()
}

#[test]
fn an_order_is_applied_once_and_its_decision_journaled() {
    let lot = TestLot::from_toml(DEMO_TOML);
    let sync = Actor::system("sync");
    let at = berlin("2026-11-18 08:00");
    let o = reserve("GH4821", "2026-11-18 10:00", "2026-11-18 12:00");
    let first = lot
        .engine
        .execute(&sync, at, order(1, "o-1", o.clone()))
        .unwrap();
    let Outcome::Order(d) = first else {
        panic!("{first:?}")
    };
    assert_eq!(d.status, "accepted");
    let code = d.reservation.clone().expect("a reservation code");
    let rows = journal_kinds(&lot).len();

    // Delivered again (a retry after a lost answer): the same decision, nothing new.
    let again = lot.engine.execute(&sync, at, order(1, "o-1", o)).unwrap();
    let Outcome::Order(again) = again else {
        panic!("{again:?}")
    };
    assert!(again.replayed);
    assert_eq!(again.reservation.as_deref(), Some(code.as_str()));
    assert_eq!(journal_kinds(&lot).len(), rows);

    let applied: Vec<_> = journal_kinds(&lot)
        .into_iter()
        .filter(|(k, _)| k == "order_applied")
        .collect();
    assert_eq!(applied.len(), 1);
    assert_eq!(applied[0].1["order_id"], "o-1");
    assert_eq!(applied[0].1["reservation"], code.as_str());
    let reserved = journal_kinds(&lot)
        .iter()
        .filter(|(k, _)| k == "reservation_booked")
        .count();
    assert_eq!(reserved, 1);

    // Cancelled by a later order.
    let d = lot
        .engine
        .execute(
            &sync,
            at,
            order(
                2,
                "o-2",
                Box::new(Command::CancelReservation(req::CancelReservation { code })),
            ),
        )
        .unwrap();
    assert!(
        matches!(d, Outcome::Order(ref d) if d.status == "accepted"),
        "{d:?}"
    );
}

#[test]
fn an_order_the_lot_cannot_honour_is_refused_with_the_reason_and_the_next_one_still_applies() {
    let lot = TestLot::from_toml(DEMO_TOML);
    let sync = Actor::system("sync");
    let at = berlin("2026-11-18 08:00");
    // A window that ended before it was booked.
    let past = reserve("GH4821", "2026-11-18 06:00", "2026-11-18 07:00");
    let d = lot
        .engine
        .execute(&sync, at, order(1, "o-1", past))
        .unwrap();
    let Outcome::Order(d) = d else {
        panic!("{d:?}")
    };
    assert_eq!(d.status, "refused");
    assert!(
        d.reason.as_deref().unwrap_or("").contains("future"),
        "{d:?}"
    );
    let kinds: Vec<String> = journal_kinds(&lot).into_iter().map(|(k, _)| k).collect();
    assert!(
        !kinds.contains(&"reservation_booked".to_string()),
        "{kinds:?}"
    );
    assert_eq!(kinds.last().map(String::as_str), Some("order_applied"));

    // Out of order: refused as a conflict, nothing applied.
    let later = reserve("XJ2905", "2026-11-18 10:00", "2026-11-18 11:00");
    let e = lot
        .engine
        .execute(&sync, at, order(3, "o-3", later.clone()))
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Conflict);
    assert!(e.message.contains("before order 2"), "{}", e.message);
    let d = lot
        .engine
        .execute(&sync, at, order(2, "o-2", later))
        .unwrap();
    assert!(
        matches!(d, Outcome::Order(ref d) if d.status == "accepted"),
        "{d:?}"
    );
}

#[test]
fn a_server_order_may_only_book_or_cancel() {
    let lot = TestLot::from_toml(DEMO_TOML);
    let at = berlin("2026-11-18 08:00");
    let e = lot
        .engine
        .execute(
            &Actor::system("sync"),
            at,
            order(
                1,
                "o-1",
                Box::new(Command::entry(None, VehicleClass::Standard)),
            ),
        )
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::InvalidInput, "{e:?}");

    // An order the lot could not read is refused with the reason, and the stream goes on.
    let d = lot
        .engine
        .execute(
            &Actor::system("sync"),
            at,
            Command::ApplyOrder(req::ApplyOrder {
                seq: 1,
                id: "o-1".into(),
                order: Err("plate '#' is not a plate".into()),
            }),
        )
        .unwrap();
    assert!(
        matches!(d, Outcome::Order(ref d) if d.status == "refused" && d.reason.as_deref() == Some("plate '#' is not a plate")),
        "{d:?}"
    );
}

#[test]
fn server_orders_issue_and_revoke_permits_publish_tariffs_and_watch_plates_with_the_servers_authority()
 {
    use gatehouse_core::permits::{PermitKind, PermitRequest};
    use gatehouse_core::tariffs::TariffRequest;
    use gatehouse_core::watchlist::WatchAction;
    let lot = TestLot::from_toml(DEMO_TOML);
    // The sync actor is a system actor: on its own it may not issue permits or tariffs.
    let at = berlin("2026-11-18 08:00");
    let permit = Command::IssuePermit(PermitRequest {
        kind: PermitKind::Monthly,
        holder: "Online customer".into(),
        plates: vec![Plate::parse("GH4821").unwrap()],
        card: None,
        valid_from: berlin("2026-11-18 00:00"),
        valid_to: berlin("2026-12-18 00:00"),
        levels: vec![],
        hours: None,
        max_inside: 1,
        passback: true,
    });
    let e = lot
        .engine
        .execute(&Actor::system("sync"), at, permit.clone())
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Forbidden);
    let d = decide(&lot, 1, "o-1", permit);
    assert_eq!(d.status, "accepted", "{d:?}");
    let id = d.permit.expect("the permit's id");
    let issued = journal_kinds(&lot);
    assert!(
        issued.iter().any(|(k, _)| k == "permit_issued"),
        "{issued:?}"
    );
    assert_eq!(issued.last().unwrap().1["permit"], id);

    // Revoked by a later order.
    let revoke = Command::RevokePermit(req::RevokePermit {
        permit: id,
        reason: "cancelled online".into(),
    });
    let d = decide(&lot, 2, "o-2", revoke);
    assert_eq!(d.status, "accepted", "{d:?}");
    assert!(
        journal_kinds(&lot)
            .iter()
            .any(|(k, _)| k == "permit_revoked")
    );

    // A tariff from the server: a good one is published, a broken one refused with the reason.
    let tariff = |toml: String, from| {
        Command::PublishTariff(TariffRequest {
            toml,
            effective_from: from,
            note: "winter prices".into(),
        })
    };
    let good = DEMO_TOML[DEMO_TOML.find("[tariff]").unwrap()..].replace("\"3.00\"", "\"3.50\"");
    let d = decide(
        &lot,
        3,
        "o-3",
        tariff(good, Some(berlin("2026-11-19 00:00"))),
    );
    assert_eq!(d.status, "accepted", "{d:?}");
    let broken = "[tariff]\nfree_minutes = \"ten\"\n".to_string();
    let d = decide(&lot, 4, "o-4", tariff(broken, None));
    assert_eq!(d.status, "refused");
    assert!(
        d.reason.as_deref().unwrap_or("").contains("free_minutes"),
        "{d:?}"
    );

    // The watchlist: a plate refused at the gate from now on.
    let watch = Command::Watch(req::Watch {
        plate: Plate::parse("XJ2905").unwrap(),
        action: Some(WatchAction::Refuse),
        note: "stolen".into(),
    });
    let d = decide(&lot, 5, "o-5", watch);
    assert_eq!(d.status, "accepted", "{d:?}");
    let e = lot
        .engine
        .execute(
            &Actor::system("lane"),
            at,
            Command::entry(
                Some(Plate::parse("XJ2905").unwrap()),
                VehicleClass::Standard,
            ),
        )
        .unwrap_err();
    assert!(
        e.message.contains("XJ2905") || e.message.contains("watch"),
        "{e:?}"
    );
}
