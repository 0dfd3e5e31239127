#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The exit lane's state machine, path by path: how the stay is found, what the driver sees and
//! pays, when the barrier moves, and what is journaled.

use gatehouse_lanes::exit::{ExitConfig, ExitQuote};
use gatehouse_lanes::{
    Action, Credential, Device, Fallback, Input, LaneEvent, PaymentResult, PlateSeen, Redeem,
    Screen, Timer,
};
use std::time::Duration;

mod common;
use common::{Lane, drive_through, fallbacks, shows};

fn quote(owed: &str) -> ExitQuote {
    ExitQuote {
        stay: "S7".into(),
        ticket: "000007-3".into(),
        plate: Some("GH4821".into()),
        owed: owed.into(),
        currency: "EUR".into(),
        settled: owed == "0.00",
        lines: vec![format!("2 h 10 min: {owed}")],
    }
}

fn matched(text: &str) -> Option<PlateSeen> {
    Some(PlateSeen {
        plate: gatehouse_core::Plate::parse(text).unwrap(),
        confidence: 0.97,
    })
}

fn pass_within() -> std::time::Duration {
    ExitConfig::default().pass_within
}

/// A vehicle arrives and its plate is matched to a stay inside.
fn arrive_matched(l: &mut Lane) {
    let a = l.at(0, Input::ArmingLoop(true));
    assert!(matches!(a.last(), Some(Action::ReadPlate { .. })), "{a:?}");
    let a = l.at(120, Input::PlateRead(matched("GH4821")));
    assert!(
        a.contains(&Action::Quote(Credential::Plate(
            gatehouse_core::Plate::parse("GH4821").unwrap()
        ))),
        "{a:?}"
    );
}

#[test]
fn a_paid_stay_found_by_its_plate_leaves_without_stopping_and_the_pass_has_its_timings() {
    let mut l = Lane::exit(ExitConfig::default());
    arrive_matched(&mut l);
    let a = l.at(4, Input::Quoted(Ok(quote("0.00"))));
    assert_eq!(a, vec![Action::Exit { stay: "S7".into() }]);
    let a = l.at(3, Input::ExitRecorded(Ok(())));
    assert!(shows(&a).contains(&&Screen::Goodbye {
        plate: Some("GH4821".into())
    }));
    assert!(a.contains(&Action::OpenGate), "{a:?}");
    match drive_through(&mut l, pass_within()) {
        LaneEvent::Passed { stay, timing } => {
            assert_eq!(stay.as_deref(), Some("S7"));
            assert_eq!(timing.plate_read_ms, Some(120));
            assert_eq!(timing.decided_ms, Some(124));
            assert_eq!(timing.gate_command_ms, Some(127));
            assert_eq!(timing.paid_ms, None);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_unpaid_stay_shows_its_amount_and_lines_is_charged_here_then_leaves() {
    let mut l = Lane::exit(ExitConfig::default());
    arrive_matched(&mut l);
    let a = l.at(4, Input::Quoted(Ok(quote("4.50"))));
    assert_eq!(
        shows(&a),
        vec![&Screen::PayHere {
            amount: "4.50".into(),
            currency: "EUR".into(),
            lines: vec!["2 h 10 min: 4.50".into()],
        }]
    );
    assert!(a.contains(&Action::Charge {
        stay: "S7".into(),
        amount: "4.50".into()
    }));
    assert!(!a.contains(&Action::OpenGate));
    let a = l.at(6000, Input::Payment(PaymentResult::Paid));
    assert_eq!(a, vec![Action::Exit { stay: "S7".into() }]);
    let a = l.at(3, Input::ExitRecorded(Ok(())));
    assert!(a.contains(&Action::OpenGate));
    match drive_through(&mut l, pass_within()) {
        LaneEvent::Passed { timing, .. } => assert_eq!(timing.paid_ms, Some(6124)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_declined_card_keeps_the_barrier_down_until_a_retry_is_approved() {
    let mut l = Lane::exit(ExitConfig::default());
    arrive_matched(&mut l);
    l.at(4, Input::Quoted(Ok(quote("4.50"))));
    let a = l.at(
        5000,
        Input::Payment(PaymentResult::Declined("card declined".into())),
    );
    assert_eq!(
        shows(&a),
        vec![&Screen::Declined {
            reason: "card declined".into(),
            amount: "4.50".into(),
            currency: "EUR".into(),
            retry_seconds: 30,
        }]
    );
    assert!(!a.contains(&Action::OpenGate));
    let a = l.at(3000, Input::PayAgain);
    assert!(a.contains(&Action::Charge {
        stay: "S7".into(),
        amount: "4.50".into()
    }));
    let a = l.at(4000, Input::Payment(PaymentResult::Paid));
    assert_eq!(a, vec![Action::Exit { stay: "S7".into() }]);
}

#[test]
fn a_declined_driver_who_does_not_pay_again_in_time_gets_the_attendant_and_can_still_pay() {
    let mut l = Lane::exit(ExitConfig {
        retry_window: Duration::from_secs(20),
        ..ExitConfig::default()
    });
    arrive_matched(&mut l);
    l.at(4, Input::Quoted(Ok(quote("4.50"))));
    let a = l.at(
        5000,
        Input::Payment(PaymentResult::Declined("card expired".into())),
    );
    assert!(a.contains(&Action::StartTimer(
        Timer::RetryWindow,
        Duration::from_secs(20)
    )));
    assert!(matches!(
        shows(&a)[..],
        [Screen::Declined {
            retry_seconds: 20,
            ..
        }]
    ));
    let a = l.at(20_000, Input::Timer(Timer::RetryWindow));
    assert!(
        a.iter().any(|x| matches!(x, Action::CallAttendant(why) if why.contains("4.50") && why.contains("card expired"))),
        "{a:?}"
    );
    assert_eq!(
        shows(&a),
        vec![&Screen::Declined {
            reason: "card expired".into(),
            amount: "4.50".into(),
            currency: "EUR".into(),
            retry_seconds: 0,
        }]
    );
    // Paying again still works once the attendant is called; a second, stale timer is ignored.
    let a = l.at(2000, Input::PayAgain);
    assert!(a.contains(&Action::Charge {
        stay: "S7".into(),
        amount: "4.50".into()
    }));
    assert!(l.at(1, Input::Timer(Timer::RetryWindow)).is_empty());
    let a = l.at(3000, Input::Payment(PaymentResult::Paid));
    assert_eq!(a, vec![Action::Exit { stay: "S7".into() }]);
}

#[test]
fn a_terminal_approving_another_amount_keeps_the_barrier_down_and_calls_the_attendant() {
    let mut l = Lane::exit(ExitConfig::default());
    arrive_matched(&mut l);
    l.at(4, Input::Quoted(Ok(quote("4.50"))));
    let why = "the terminal approved 1.00 EUR instead of the 4.50 EUR asked (receipt 7)";
    let a = l.at(
        5000,
        Input::Payment(PaymentResult::AmountMismatch(why.into())),
    );
    assert!(a.contains(&Action::CallAttendant(why.into())), "{a:?}");
    assert_eq!(
        shows(&a),
        vec![&Screen::WaitForAttendant { reason: why.into() }]
    );
    assert!(!a.contains(&Action::OpenGate));
    assert!(!a.iter().any(|x| matches!(x, Action::Exit { .. })));
}

#[test]
fn no_plate_matched_asks_for_the_ticket_and_the_scan_finds_the_stay() {
    let mut l = Lane::exit(ExitConfig::default());
    l.at(0, Input::ArmingLoop(true));
    let a = l.at(1500, Input::PlateRead(None));
    assert_eq!(fallbacks(&a), vec![Fallback::TicketForNoPlate]);
    assert_eq!(shows(&a), vec![&Screen::ScanTicket]);
    let a = l.at(4000, Input::TicketScanned("QRPAYLOAD".into()));
    assert_eq!(
        a,
        vec![Action::Quote(Credential::Ticket("QRPAYLOAD".into()))]
    );
    let a = l.at(5, Input::Quoted(Ok(quote("0.00"))));
    assert_eq!(a, vec![Action::Exit { stay: "S7".into() }]);
}

#[test]
fn a_camera_offline_goes_straight_to_the_ticket_and_a_card_also_works() {
    let mut l = Lane::exit(ExitConfig::default());
    l.at(
        0,
        Input::Health {
            device: Device::Camera,
            ok: false,
            reason: "no frame for 5 s".into(),
        },
    );
    let a = l.at(10, Input::ArmingLoop(true));
    assert_eq!(fallbacks(&a), vec![Fallback::TicketForCameraOffline]);
    assert!(!a.iter().any(|a| matches!(a, Action::ReadPlate { .. })));
    assert_eq!(shows(&a).last(), Some(&&Screen::ScanTicket));
    let a = l.at(2000, Input::Card("0A00BC614E".into()));
    assert_eq!(
        a,
        vec![Action::Quote(Credential::Card("0A00BC614E".into()))]
    );
}

#[test]
fn terminal_down_shows_how_else_to_pay_and_a_ticket_paid_elsewhere_then_leaves() {
    let config = ExitConfig::default();
    let how = config.pay_elsewhere.clone();
    let mut l = Lane::exit(config);
    l.at(
        0,
        Input::Health {
            device: Device::Terminal,
            ok: false,
            reason: "terminal not answering".into(),
        },
    );
    arrive_matched(&mut l);
    let a = l.at(4, Input::Quoted(Ok(quote("4.50"))));
    assert_eq!(fallbacks(&a), vec![Fallback::OtherMethodForTerminalDown]);
    assert_eq!(
        shows(&a),
        vec![&Screen::Unpaid {
            amount: "4.50".into(),
            currency: "EUR".into(),
            how,
        }]
    );
    assert!(!a.iter().any(|a| matches!(
        a,
        Action::Charge { .. } | Action::OpenGate | Action::ExitOwing { .. }
    )));
    // Paid at the pay station; the ticket is scanned at the lane.
    let a = l.at(90_000, Input::TicketScanned("QRPAYLOAD".into()));
    assert_eq!(
        a,
        vec![Action::Quote(Credential::Ticket("QRPAYLOAD".into()))]
    );
    let a = l.at(5, Input::Quoted(Ok(quote("0.00"))));
    assert_eq!(a, vec![Action::Exit { stay: "S7".into() }]);
}

#[test]
fn terminal_failing_mid_payment_lets_the_vehicle_out_owing_when_the_lot_allows_pay_later() {
    let mut l = Lane::exit(ExitConfig {
        pay_later: true,
        ..ExitConfig::default()
    });
    arrive_matched(&mut l);
    l.at(4, Input::Quoted(Ok(quote("4.50"))));
    let a = l.at(
        30_000,
        Input::Payment(PaymentResult::TerminalDown("no answer in 30 s".into())),
    );
    assert_eq!(fallbacks(&a), vec![Fallback::PayLaterForTerminalDown]);
    let owing = a
        .iter()
        .find_map(|a| match a {
            Action::ExitOwing { stay, reason } => Some((stay.clone(), reason.clone())),
            _ => None,
        })
        .expect("the exit is recorded owing");
    assert_eq!(owing.0, "S7");
    assert!(
        owing.1.contains("4.50") && owing.1.contains("no answer"),
        "{}",
        owing.1
    );
    let a = l.at(3, Input::ExitRecorded(Ok(())));
    assert!(a.contains(&Action::OpenGate));
    assert!(l.lane.is_faulty(Device::Terminal));
}

#[test]
fn an_unknown_ticket_is_refused_with_the_reason_and_the_barrier_stays_down() {
    let mut l = Lane::exit(ExitConfig::default());
    l.at(0, Input::ArmingLoop(true));
    l.at(1500, Input::PlateRead(None));
    l.at(3000, Input::TicketScanned("FORGED".into()));
    let a = l.at(
        3,
        Input::Quoted(Err("this ticket was not issued by this lot".into())),
    );
    assert_eq!(
        shows(&a),
        vec![&Screen::Refused {
            reason: "this ticket was not issued by this lot".into()
        }]
    );
    assert!(!a.contains(&Action::OpenGate));
    let a = l.at(8000, Input::ArmingLoop(false));
    assert_eq!(shows(&a), vec![&Screen::Idle]);
    assert!(l.lane.is_idle());
}

#[test]
fn a_vehicle_backing_off_after_its_exit_was_recorded_is_journaled_and_the_attendant_told() {
    let mut l = Lane::exit(ExitConfig::default());
    arrive_matched(&mut l);
    l.at(4, Input::Quoted(Ok(quote("0.00"))));
    l.at(3, Input::ExitRecorded(Ok(())));
    l.at(900, Input::GateOpened);
    let a = l.at(2000, Input::ArmingLoop(false));
    assert!(a.contains(&Action::Journal(LaneEvent::Reversed {
        stay: Some("S7".into())
    })));
    assert!(a.contains(&Action::CloseGate));
    assert!(
        a.iter()
            .any(|a| matches!(a, Action::CallAttendant(w) if w.contains("still inside"))),
        "{a:?}"
    );
}

#[test]
fn free_exit_holds_the_barrier_open_and_lets_vehicles_through_without_transactions() {
    let mut l = Lane::exit(ExitConfig::default());
    let a = l.at(
        0,
        Input::SetFreeExit {
            on: true,
            reason: "fire alarm".into(),
        },
    );
    assert!(a.contains(&Action::Journal(LaneEvent::FreeExit {
        on: true,
        reason: "fire alarm".into()
    })));
    assert!(a.contains(&Action::OpenGate));
    assert_eq!(shows(&a), vec![&Screen::FreeExit]);
    l.at(900, Input::GateOpened);
    for _ in 0..3 {
        assert!(l.at(500, Input::ArmingLoop(true)).is_empty());
        assert!(l.at(500, Input::ArmingLoop(false)).is_empty());
    }
    let a = l.at(
        0,
        Input::SetFreeExit {
            on: false,
            reason: "all clear".into(),
        },
    );
    assert!(a.contains(&Action::CloseGate));
    let a = l.at(900, Input::GateClosed);
    assert_eq!(shows(&a), vec![&Screen::Idle]);
    // Back to normal: the next vehicle's plate is read.
    let a = l.at(100, Input::ArmingLoop(true));
    assert!(a.iter().any(|a| matches!(a, Action::ReadPlate { .. })));
}

#[test]
fn an_entry_lane_refuses_free_exit() {
    let mut l = Lane::entry(Default::default());
    let a = l.at(
        0,
        Input::SetFreeExit {
            on: true,
            reason: "fire alarm".into(),
        },
    );
    assert!(a.is_empty(), "{a:?}");
}

#[test]
fn a_voucher_scanned_while_the_card_is_awaited_stops_the_charge_and_a_voucher_covering_all_lets_the_car_out()
 {
    let mut l = Lane::exit(ExitConfig::default());
    arrive_matched(&mut l);
    let a = l.at(4, Input::Quoted(Ok(quote("4.50"))));
    assert!(
        a.iter().any(|x| matches!(x, Action::Charge { .. })),
        "{a:?}"
    );
    let a = l.at(900, Input::Redeem(Redeem::Voucher("VOUCHERCODE".into())));
    assert_eq!(a, vec![Action::CancelCharge]);
    // The terminal gives up without charging: now the voucher is taken.
    let a = l.at(
        200,
        Input::Payment(PaymentResult::Declined("the payment was cancelled".into())),
    );
    assert_eq!(
        a,
        vec![Action::Redeem {
            stay: "S7".into(),
            with: Redeem::Voucher("VOUCHERCODE".into())
        }]
    );
    let a = l.at(30, Input::Redeemed(Ok(quote("0.00"))));
    assert_eq!(a, vec![Action::Exit { stay: "S7".into() }]);
    let a = l.at(3, Input::ExitRecorded(Ok(())));
    assert!(a.contains(&Action::OpenGate), "{a:?}");
}

#[test]
fn a_card_approved_before_the_voucher_could_stop_it_wins_and_the_voucher_is_not_taken() {
    let mut l = Lane::exit(ExitConfig::default());
    arrive_matched(&mut l);
    l.at(4, Input::Quoted(Ok(quote("4.50"))));
    l.at(500, Input::Redeem(Redeem::Prepaid(3)));
    let a = l.at(100, Input::Payment(PaymentResult::Paid));
    assert_eq!(a, vec![Action::Exit { stay: "S7".into() }]);
    assert!(!a.iter().any(|x| matches!(x, Action::Redeem { .. })));
}

#[test]
fn a_voucher_for_part_of_the_stay_charges_the_rest_and_a_refused_one_shows_why_with_the_amount() {
    let mut l = Lane::exit(ExitConfig::default());
    arrive_matched(&mut l);
    l.at(4, Input::Quoted(Ok(quote("4.50"))));
    l.at(
        500,
        Input::Payment(PaymentResult::Declined("declined".into())),
    );
    // After a decline the driver scans a voucher: taken at once, nothing to stop.
    let a = l.at(2_000, Input::Redeem(Redeem::Voucher("V".into())));
    assert!(matches!(a.as_slice(), [Action::Redeem { .. }]), "{a:?}");
    let a = l.at(30, Input::Redeemed(Ok(quote("2.50"))));
    assert!(
        a.contains(&Action::Charge {
            stay: "S7".into(),
            amount: "2.50".into()
        }),
        "{a:?}"
    );
    // A second voucher is refused by the engine: the driver sees why and what is still owed.
    l.at(100, Input::Redeem(Redeem::Voucher("W".into())));
    let a = l.at(
        100,
        Input::Payment(PaymentResult::Declined("cancelled".into())),
    );
    assert!(matches!(a.as_slice(), [Action::Redeem { .. }]), "{a:?}");
    let a = l.at(
        30,
        Input::Redeemed(Err("ticket 000007-3 already has a voucher".into())),
    );
    assert_eq!(
        shows(&a),
        vec![&Screen::Declined {
            reason: "ticket 000007-3 already has a voucher".into(),
            amount: "2.50".into(),
            currency: "EUR".into(),
            retry_seconds: 30,
        }]
    );
    assert!(!a.contains(&Action::OpenGate));
}
