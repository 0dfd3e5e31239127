#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The entry lane's state machine, path by path: what the driver sees, what is printed, when the
//! barrier moves, and what is journaled.

use gatehouse_core::VehicleClass;
use gatehouse_lanes::entry::{
    Action, Admission, EntryConfig, EntryRequest, Input, PlateSeen, Refusal, Screen, Timer,
};
use gatehouse_lanes::{Device, Fallback, LaneEvent, Needs};
use std::time::Duration;

mod common;
use common::{Lane, fallbacks, shows};

fn admission() -> Admission {
    Admission {
        stay: "S1".into(),
        ticket: "000001-8".into(),
        spot: "P1-014".into(),
        level: "P1".into(),
        way: "ramp up, then left".into(),
    }
}

fn plate(text: &str, confidence: f32) -> Option<PlateSeen> {
    Some(PlateSeen {
        plate: gatehouse_core::Plate::parse(text).unwrap(),
        confidence,
    })
}

/// A vehicle arrives, its plate is read, it is admitted and its ticket printed: the gate opens.
fn ticket_printed(l: &mut Lane) {
    l.at(0, Input::ArmingLoop(true));
    l.at(150, Input::PlateRead(plate("GH4821", 0.95)));
    l.at(3, Input::Decision(Ok(admission())));
    let a = l.at(300, Input::Printed(Ok(())));
    assert!(a.contains(&Action::OpenGate), "{a:?}");
}

fn drive_through(l: &mut Lane) -> LaneEvent {
    common::drive_through(l, EntryConfig::default().pass_within)
}

#[test]
fn a_read_plate_gets_a_printed_ticket_the_spot_on_screen_and_the_gate_with_step_timings() {
    let mut l = Lane::entry(EntryConfig::default());
    let a = l.at(0, Input::ArmingLoop(true));
    assert_eq!(
        a,
        vec![
            Action::Show(Screen::Welcome { plate: None }),
            Action::ReadPlate {
                budget: Duration::from_millis(1500)
            },
        ]
    );
    let a = l.at(180, Input::PlateRead(plate("GH4821", 0.97)));
    assert!(a.contains(&Action::Decide(EntryRequest {
        plate: plate("GH4821", 0.97),
        needs: Needs::class(VehicleClass::Standard),
        card: None,
        ticketless: false,
    })));
    let a = l.at(4, Input::Decision(Ok(admission())));
    assert_eq!(
        a,
        vec![Action::Print {
            stay: "S1".into(),
            ticket: "000001-8".into()
        }]
    );
    let a = l.at(600, Input::Printed(Ok(())));
    assert_eq!(
        shows(&a),
        vec![&Screen::TakeTicket {
            spot: "P1-014".into(),
            level: "P1".into(),
            way: "ramp up, then left".into()
        }]
    );
    assert!(a.contains(&Action::OpenGate));
    match drive_through(&mut l) {
        LaneEvent::Passed { stay, timing } => {
            assert_eq!(stay.as_deref(), Some("S1"));
            assert_eq!(timing.plate_read_ms, Some(180));
            assert_eq!(timing.decided_ms, Some(184));
            assert_eq!(timing.ticket_printed_ms, Some(784));
            assert_eq!(timing.gate_command_ms, Some(784));
            assert_eq!(timing.gate_open_ms, Some(1684));
            assert_eq!(timing.passed_ms, Some(4384));
        }
        other => panic!("{other:?}"),
    }
    let _ = l.t0;
}

#[test]
fn a_confident_read_enters_ticketless_where_the_lot_allows_it() {
    let mut l = Lane::entry(EntryConfig {
        ticketless: true,
        ..EntryConfig::default()
    });
    l.at(0, Input::ArmingLoop(true));
    let a = l.at(150, Input::PlateRead(plate("GH4821", 0.95)));
    assert!(
        matches!(
            &a[..],
            [
                ..,
                Action::Decide(EntryRequest {
                    ticketless: true,
                    ..
                })
            ]
        ),
        "{a:?}"
    );
    let a = l.at(3, Input::Decision(Ok(admission())));
    assert!(
        !a.iter().any(|a| matches!(a, Action::Print { .. })),
        "no ticket: {a:?}"
    );
    assert!(matches!(shows(&a)[..], [Screen::Proceed { .. }]));
    assert!(a.contains(&Action::OpenGate));
    drive_through(&mut l);

    // A doubtful read still gets a ticket, through the button.
    l.at(5000, Input::ArmingLoop(true));
    let a = l.at(150, Input::PlateRead(plate("GH4B21", 0.41)));
    assert_eq!(fallbacks(&a), vec![Fallback::TicketForNoPlate]);
    assert!(shows(&a).contains(&&Screen::PressForTicket));
    let a = l.at(2000, Input::TicketButton(None));
    assert!(
        matches!(
            &a[..],
            [Action::Decide(EntryRequest {
                ticketless: false,
                ..
            })]
        ),
        "{a:?}"
    );
}

#[test]
fn no_plate_read_means_press_for_ticket_and_it_is_journaled() {
    let mut l = Lane::entry(EntryConfig::default());
    l.at(0, Input::ArmingLoop(true));
    let a = l.at(1500, Input::PlateRead(None));
    assert_eq!(fallbacks(&a), vec![Fallback::TicketForNoPlate]);
    assert_eq!(shows(&a), vec![&Screen::PressForTicket]);
    assert!(
        !a.iter().any(|a| matches!(a, Action::Decide(_))),
        "waits for the driver"
    );
    let a = l.at(3000, Input::TicketButton(None));
    assert_eq!(
        a,
        vec![Action::Decide(EntryRequest {
            plate: None,
            needs: Needs::class(VehicleClass::Standard),
            card: None,
            ticketless: false
        })]
    );
    // A second press while deciding does nothing.
    assert!(l.at(100, Input::TicketButton(None)).is_empty());
}

#[test]
fn the_driver_chooses_a_charger_on_the_ticket_button_and_a_motorcycle_lane_asks_for_a_bike_spot() {
    let mut l = Lane::entry(EntryConfig::default());
    l.at(0, Input::ArmingLoop(true));
    l.at(1500, Input::PlateRead(None));
    let ev = Needs {
        ev: true,
        ..Needs::class(VehicleClass::Standard)
    };
    let a = l.at(2000, Input::TicketButton(Some(ev)));
    assert!(
        matches!(&a[..], [Action::Decide(EntryRequest { needs, .. })] if *needs == ev),
        "{a:?}"
    );

    // Chosen on the welcome screen while the plate is read: the read plate gets a charger.
    let mut l = Lane::entry(EntryConfig::default());
    l.at(0, Input::ArmingLoop(true));
    assert!(l.at(20, Input::TicketButton(Some(ev))).is_empty());
    let a = l.at(150, Input::PlateRead(plate("GH4821", 0.95)));
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Decide(EntryRequest { needs, .. }) if *needs == ev)),
        "{a:?}"
    );

    // At a motorcycle lane a read plate and the plain button both ask for a motorcycle spot.
    let bikes = EntryConfig {
        class: VehicleClass::Motorcycle,
        ..EntryConfig::default()
    };
    let mut l = Lane::entry(bikes.clone());
    l.at(0, Input::ArmingLoop(true));
    let a = l.at(150, Input::PlateRead(plate("GH4821", 0.95)));
    let bike = Needs::class(VehicleClass::Motorcycle);
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::Decide(EntryRequest { needs, .. }) if *needs == bike)),
        "{a:?}"
    );
    let mut l = Lane::entry(bikes);
    l.at(0, Input::ArmingLoop(true));
    l.at(1500, Input::PlateRead(None));
    let a = l.at(2000, Input::TicketButton(None));
    assert!(
        matches!(&a[..], [Action::Decide(EntryRequest { needs, .. })] if *needs == bike),
        "{a:?}"
    );
}

#[test]
fn a_permit_card_is_its_own_credential() {
    let mut l = Lane::entry(EntryConfig::default());
    l.at(0, Input::ArmingLoop(true));
    let a = l.at(400, Input::Card("0A0012F3C4".into()));
    assert_eq!(
        a,
        vec![Action::Decide(EntryRequest {
            plate: None,
            needs: Needs::class(VehicleClass::Standard),
            card: Some("0A0012F3C4".into()),
            ticketless: true
        })]
    );
    let a = l.at(5, Input::Decision(Ok(admission())));
    assert!(a.contains(&Action::OpenGate) && !a.iter().any(|a| matches!(a, Action::Print { .. })));
}

#[test]
fn with_the_camera_offline_the_lane_goes_straight_to_the_ticket() {
    let mut l = Lane::entry(EntryConfig::default());
    l.at(
        0,
        Input::Health {
            device: Device::Camera,
            ok: false,
            reason: "no frame for 10 s".into(),
        },
    );
    let a = l.at(10, Input::ArmingLoop(true));
    assert!(
        !a.iter().any(|a| matches!(a, Action::ReadPlate { .. })),
        "{a:?}"
    );
    assert_eq!(fallbacks(&a), vec![Fallback::TicketForCameraOffline]);
    assert!(shows(&a).contains(&&Screen::PressForTicket));
}

#[test]
fn a_full_lot_issues_nothing_and_says_full() {
    let mut l = Lane::entry(EntryConfig::default());
    l.at(0, Input::ArmingLoop(true));
    l.at(150, Input::PlateRead(plate("GH4821", 0.95)));
    let a = l.at(3, Input::Decision(Err(Refusal::Full)));
    assert_eq!(a, vec![Action::Show(Screen::Full)]);
    let a = l.at(20_000, Input::ArmingLoop(false));
    assert_eq!(shows(&a), vec![&Screen::Idle]);
    assert!(!a.iter().any(|a| matches!(
        a,
        Action::OpenGate | Action::Print { .. } | Action::CancelStay { .. }
    )));
    assert!(l.lane.is_idle());
}

#[test]
fn printer_out_of_paper_lets_a_read_plate_in_ticketless_and_calls_the_attendant_otherwise() {
    // Out of paper as the ticket prints, with the plate read: in by plate.
    let mut l = Lane::entry(EntryConfig::default());
    l.at(0, Input::ArmingLoop(true));
    l.at(150, Input::PlateRead(plate("GH4821", 0.95)));
    l.at(3, Input::Decision(Ok(admission())));
    let a = l.at(300, Input::Printed(Err("paper out".into())));
    assert_eq!(fallbacks(&a), vec![Fallback::TicketlessForPrinterFault]);
    assert!(a.contains(&Action::OpenGate));

    // Known to be out of paper before the car came, plate read: ticketless from the start.
    let mut l = Lane::entry(EntryConfig::default());
    l.at(
        0,
        Input::Health {
            device: Device::Printer,
            ok: false,
            reason: "paper out".into(),
        },
    );
    l.at(10, Input::ArmingLoop(true));
    let a = l.at(150, Input::PlateRead(plate("GH4821", 0.95)));
    assert_eq!(fallbacks(&a), vec![Fallback::TicketlessForPrinterFault]);
    assert!(matches!(
        &a[..],
        [
            ..,
            Action::Decide(EntryRequest {
                ticketless: true,
                ..
            })
        ]
    ));

    // Out of paper and no plate: the attendant, who opens by hand with a reason.
    let mut l = Lane::entry(EntryConfig::default());
    l.at(0, Input::ArmingLoop(true));
    l.at(1500, Input::PlateRead(None));
    l.at(2000, Input::TicketButton(None));
    l.at(3, Input::Decision(Ok(admission())));
    let a = l.at(300, Input::Printed(Err("paper out".into())));
    assert_eq!(fallbacks(&a), vec![Fallback::AttendantForPrinterFault]);
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::CallAttendant(m) if m.contains("000001-8")))
    );
    assert!(!a.contains(&Action::OpenGate));
    let a = l.at(
        30_000,
        Input::OpenGate {
            reason: "ticket handed over by hand".into(),
        },
    );
    assert!(a.contains(&Action::OpenGate));
    assert!(a.contains(&Action::Journal(LaneEvent::ManualOpen {
        reason: "ticket handed over by hand".into()
    })));
    drive_through(&mut l);
}

#[test]
fn a_gate_that_does_not_confirm_calls_the_attendant_and_the_lane_stays_faulty() {
    let mut l = Lane::entry(EntryConfig::default());
    ticket_printed(&mut l);
    let a = l.at(4000, Input::Timer(Timer::GateConfirm));
    assert_eq!(fallbacks(&a), vec![Fallback::AttendantForGateFault]);
    assert!(a.iter().any(|a| matches!(a, Action::CallAttendant(_))));
    assert!(l.lane.is_faulty(Device::Gate));
}

#[test]
fn a_car_reversing_off_the_loop_cancels_its_admission_cleanly() {
    let mut l = Lane::entry(EntryConfig::default());
    ticket_printed(&mut l);
    l.at(900, Input::GateOpened);
    let a = l.at(3000, Input::ArmingLoop(false));
    assert!(a.contains(&Action::CancelStay {
        stay: "S1".into(),
        reason: "the vehicle reversed off the loop before passing the barrier".into()
    }));
    assert!(a.contains(&Action::Journal(LaneEvent::Reversed {
        stay: Some("S1".into())
    })));
    assert!(a.contains(&Action::CloseGate));
    let a = l.at(900, Input::GateClosed);
    assert_eq!(shows(&a), vec![&Screen::Idle]);

    // Leaving while the engine decides: the admission is undone when it arrives.
    l.at(1000, Input::ArmingLoop(true));
    l.at(150, Input::PlateRead(plate("GH4821", 0.95)));
    l.at(1, Input::ArmingLoop(false));
    let a = l.at(3, Input::Decision(Ok(admission())));
    assert!(
        a.iter().any(|a| matches!(a, Action::CancelStay { .. })),
        "{a:?}"
    );
    assert!(
        !a.iter()
            .any(|a| matches!(a, Action::Print { .. } | Action::OpenGate))
    );
    assert!(l.lane.is_idle());
}

#[test]
fn a_second_car_following_through_the_open_barrier_raises_a_tailgate_alert() {
    let mut l = Lane::entry(EntryConfig::default());
    ticket_printed(&mut l);
    l.at(900, Input::GateOpened);
    l.at(1000, Input::PassLoop(true));
    l.at(500, Input::ArmingLoop(false));
    let a = l.at(400, Input::ArmingLoop(true));
    assert!(a.contains(&Action::Journal(LaneEvent::Tailgate)), "{a:?}");
    assert!(a.iter().any(|a| matches!(a, Action::CallAttendant(_))));
    // The first car clears the pass loop: the gate closes; the second car then gets its turn.
    let a = l.at(500, Input::PassLoop(false));
    assert!(a.contains(&Action::CloseGate));
    let a = l.at(900, Input::GateClosed);
    assert!(
        a.iter().any(|a| matches!(a, Action::ReadPlate { .. })),
        "{a:?}"
    );
}

#[test]
fn a_closed_lane_admits_nobody_until_reopened() {
    let mut l = Lane::entry(EntryConfig::default());
    let a = l.at(
        0,
        Input::SetLaneOpen {
            open: false,
            reason: "resurfacing".into(),
        },
    );
    assert!(a.contains(&Action::Show(Screen::LaneClosed)));
    assert!(a.contains(&Action::Journal(LaneEvent::LaneState {
        open: false,
        reason: "resurfacing".into()
    })));
    let a = l.at(10, Input::ArmingLoop(true));
    assert_eq!(a, vec![Action::Show(Screen::LaneClosed)]);
    l.at(10, Input::ArmingLoop(false));
    l.at(
        10,
        Input::SetLaneOpen {
            open: true,
            reason: "done".into(),
        },
    );
    let a = l.at(10, Input::ArmingLoop(true));
    assert!(a.iter().any(|a| matches!(a, Action::ReadPlate { .. })));
}

#[test]
fn a_car_on_the_pass_loop_before_the_open_limit_confirms_is_not_taken_for_a_reversal() {
    let mut l = Lane::entry(EntryConfig::default());
    ticket_printed(&mut l);
    // The board reports the loops before the open limit in the same poll.
    assert!(l.at(400, Input::PassLoop(true)).is_empty());
    let a = l.at(200, Input::ArmingLoop(false));
    assert!(
        !a.iter()
            .any(|a| matches!(a, Action::CancelStay { .. } | Action::CloseGate)),
        "{a:?}"
    );
    let a = l.at(100, Input::GateOpened);
    assert!(!a.contains(&Action::CloseGate));
    let a = l.at(600, Input::PassLoop(false));
    assert!(
        a.iter().any(|a| matches!(
            a,
            Action::Journal(LaneEvent::Passed { stay: Some(s), .. }) if s == "S1"
        )),
        "{a:?}"
    );
    assert!(a.contains(&Action::CloseGate));
}
