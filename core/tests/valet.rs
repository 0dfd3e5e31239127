//! Valet parking through the engine, against a real SQLite file: the keys on a tag, the car parked,
//! asked for, paid at the booth like any stay, and handed back.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::{TestLot, berlin};
use gatehouse_core::command as req;
use gatehouse_core::valet::{ValetDropOff, ValetPark, ValetRequest, ValetReturn};
use gatehouse_core::{Actor, ErrorKind, Lot, PaymentMethod, Plate, Role, StayRef, VehicleClass};
use rust_decimal::Decimal;

fn demo() -> TestLot {
    TestLot::from_toml(gatehouse_core::config::DEMO_TOML)
}

fn ann() -> Actor {
    Actor::new("ann", Role::Attendant).unwrap()
}

/// Two free regular standard spots of the demo lot.
fn standard_spots(lot: &TestLot) -> (String, String) {
    let mut ids = lot
        .engine
        .context()
        .config
        .spots
        .iter()
        .filter(|s| s.size == VehicleClass::Standard && !s.ev && !s.accessible)
        .map(|s| s.id.clone());
    (ids.next().unwrap(), ids.next().unwrap())
}

fn drop_off(tag: &str, plate: &str) -> ValetDropOff {
    ValetDropOff {
        plate: Some(Plate::parse(plate).unwrap()),
        class: VehicleClass::Standard,
        tag: tag.into(),
    }
}

fn journal_kinds(lot: &TestLot) -> Vec<String> {
    let l = Lot::open(&lot.path).unwrap();
    let mut stmt = l
        .connection()
        .prepare("SELECT kind FROM journal WHERE kind LIKE 'valet_%' ORDER BY seq")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_valet_car_is_parked_asked_for_paid_at_the_booth_and_handed_back() {
    let lot = demo();
    let e = &lot.engine;
    let (spot, _) = standard_spots(&lot);

    let v = e
        .run(
            &ann(),
            berlin("2026-11-18 09:00"),
            drop_off(" v-17 ", "VAL 1"),
        )
        .unwrap();
    assert_eq!(v.tag, "V-17");
    assert_eq!(v.spot, None);
    assert_eq!((v.fee.as_str(), v.due.as_str()), ("25.00", "25.00"));

    let parked = e
        .run(
            &ann(),
            berlin("2026-11-18 09:05"),
            ValetPark {
                tag: "V-17".into(),
                spot: spot.clone(),
            },
        )
        .unwrap();
    assert_eq!(parked.spot.as_deref(), Some(spot.as_str()));
    let occupied = Lot::open(&lot.path)
        .unwrap()
        .spots()
        .unwrap()
        .into_iter()
        .find(|s| s.id == spot)
        .unwrap();
    assert_eq!(occupied.ticket.as_deref(), Some(v.ticket.as_str()));

    // Asked for 25 hours later: the first day and one started day more.
    let asked = e
        .run(
            &ann(),
            berlin("2026-11-19 10:00"),
            ValetRequest { tag: "v-17".into() },
        )
        .unwrap();
    assert_eq!((asked.fee.as_str(), asked.due.as_str()), ("45.00", "45.00"));
    assert!(asked.message.contains(&spot), "{}", asked.message);

    // A valet car does not leave through an exit lane: the booth hands it back.
    let by_lane = e
        .run(
            &Actor::system("lane-X1"),
            berlin("2026-11-19 10:01"),
            req::Exit {
                stay: StayRef::Ticket(v.qr.clone()),
                lane: None,
            },
        )
        .unwrap_err();
    assert_eq!(by_lane.kind, ErrorKind::Conflict);
    assert!(by_lane.message.contains("valet"), "{}", by_lane.message);

    // Not handed back before it is paid.
    let unpaid = e
        .run(
            &ann(),
            berlin("2026-11-19 10:05"),
            ValetReturn { tag: "V-17".into() },
        )
        .unwrap_err();
    assert_eq!(unpaid.kind, ErrorKind::Unpaid);
    assert!(unpaid.message.contains("45.00"), "{}", unpaid.message);

    // The booth takes the valet fee like any stay's, by the ticket's QR, in ann's shift.
    e.run(
        &ann(),
        berlin("2026-11-19 10:06"),
        req::OpenShift {
            float: Decimal::from(100),
        },
    )
    .unwrap();
    let paid = e
        .run(
            &ann(),
            berlin("2026-11-19 10:06"),
            req::Pay {
                stay: StayRef::Ticket(v.qr.clone()),
                method: PaymentMethod::Cash,
                amount: Decimal::from(50),
                key: None,
            },
        )
        .unwrap();
    assert_eq!(
        (paid.amount.as_str(), paid.change.as_str()),
        ("45.00", "5.00")
    );

    let back = e
        .run(
            &ann(),
            berlin("2026-11-19 10:10"),
            ValetReturn { tag: "V-17".into() },
        )
        .unwrap();
    assert_eq!(back.returned_at, Some(berlin("2026-11-19 10:10")));
    assert_eq!(back.due, "0.00");

    // The spot and the tag are free again.
    let next = e
        .run(
            &ann(),
            berlin("2026-11-19 11:00"),
            drop_off("V-17", "VAL 2"),
        )
        .unwrap();
    e.run(
        &ann(),
        berlin("2026-11-19 11:05"),
        ValetPark {
            tag: "V-17".into(),
            spot: spot.clone(),
        },
    )
    .unwrap();
    assert_ne!(next.stay, v.stay);
    assert_eq!(
        journal_kinds(&lot),
        [
            "valet_keys_taken",
            "valet_parked",
            "valet_car_requested",
            "valet_car_returned",
            "valet_keys_taken",
            "valet_parked"
        ]
    );
    let audit =
        gatehouse_core::journal::verify(Lot::open(&lot.path).unwrap().connection()).unwrap();
    assert!(audit.ok);
}

#[test]
fn a_tag_holds_one_car_s_keys_and_a_spot_one_car() {
    let lot = demo();
    let e = &lot.engine;
    let (spot, _) = standard_spots(&lot);
    e.run(&ann(), berlin("2026-11-18 09:00"), drop_off("5", "VAL 1"))
        .unwrap();
    let twice = e
        .run(&ann(), berlin("2026-11-18 09:01"), drop_off("5", "VAL 2"))
        .unwrap_err();
    assert_eq!(twice.kind, ErrorKind::Conflict);
    assert!(twice.message.contains("tag 5"), "{}", twice.message);

    e.run(&ann(), berlin("2026-11-18 09:02"), drop_off("6", "VAL 2"))
        .unwrap();
    let park = |tag: &str| ValetPark {
        tag: tag.into(),
        spot: spot.clone(),
    };
    e.run(&ann(), berlin("2026-11-18 09:03"), park("5"))
        .unwrap();
    let taken = e
        .run(&ann(), berlin("2026-11-18 09:04"), park("6"))
        .unwrap_err();
    assert_eq!(taken.kind, ErrorKind::Conflict);
    assert!(taken.message.contains("occupied"), "{}", taken.message);

    let unknown = e
        .run(
            &ann(),
            berlin("2026-11-18 09:05"),
            ValetRequest { tag: "99".into() },
        )
        .unwrap_err();
    assert_eq!(unknown.kind, ErrorKind::NotFound);
    // A car is handed back only once the driver has asked for it (which fixes the fee).
    let early = e
        .run(
            &ann(),
            berlin("2026-11-18 09:06"),
            ValetReturn { tag: "5".into() },
        )
        .unwrap_err();
    assert_eq!(early.kind, ErrorKind::Conflict);
}

#[test]
fn a_cashier_takes_no_keys_and_a_lot_without_valet_parking_says_so() {
    let lot = demo();
    let cashier = Actor::new("carl", Role::Cashier).unwrap();
    let refused = lot
        .engine
        .run(&cashier, berlin("2026-11-18 09:00"), drop_off("1", "VAL 1"))
        .unwrap_err();
    assert_eq!(refused.kind, ErrorKind::Forbidden);
    assert!(journal_kinds(&lot).is_empty());

    // Every valet step is refused to a cashier and to a lane (system), whatever the tag: the
    // engine checks the permission before it looks for the keys.
    lot.engine
        .run(&ann(), berlin("2026-11-18 09:00"), drop_off("1", "VAL 1"))
        .unwrap();
    let lane = Actor::system("lane-X1");
    for who in [&cashier, &lane] {
        let steps: [gatehouse_core::Command; 4] = [
            drop_off("2", "VAL 2").into(),
            ValetPark {
                tag: "1".into(),
                spot: standard_spots(&lot).0,
            }
            .into(),
            ValetRequest { tag: "1".into() }.into(),
            ValetReturn { tag: "1".into() }.into(),
        ];
        for step in steps {
            let e = lot
                .engine
                .execute(who, berlin("2026-11-18 09:05"), step)
                .unwrap_err();
            assert_eq!(e.kind, ErrorKind::Forbidden, "{}: {}", who.name, e.message);
        }
    }
    assert_eq!(journal_kinds(&lot), ["valet_keys_taken"]);

    // The demo lot without its [valet] section.
    let toml = gatehouse_core::config::DEMO_TOML;
    let start = toml.find("[valet]").unwrap();
    let end = start + toml[start..].find("\n\n").unwrap();
    let no_valet = TestLot::from_toml(&format!("{}{}", &toml[..start], &toml[end..]));
    let none = no_valet
        .engine
        .run(&ann(), berlin("2026-11-18 09:00"), drop_off("1", "VAL 1"))
        .unwrap_err();
    assert_eq!(none.kind, ErrorKind::Conflict);
    assert!(none.message.contains("[valet]"), "{}", none.message);
}
