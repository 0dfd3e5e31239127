#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Entry and exit lanes end to end: the lane runtime drives the real drivers, which talk to
//! simulators over Modbus TCP, HTTP, ESC/POS over TCP, a serial pseudo-terminal and ZVT; plates
//! are rendered into 1280×720 street scenes and read by the real anpr pipeline; the engine
//! writes a real SQLite file, and each test checks the journal afterwards.

use gatehouse_core::command as req;
use gatehouse_core::{Actor, Command, PaymentMethod, Role, StayRef, VehicleClass};
use gatehouse_drivers::gate::sim::Arm;
use gatehouse_drivers::payment::sim::SimResult;
use gatehouse_e2e::{TestLot, eventually, expect_notice};
use gatehouse_lanes::entry::EntryConfig;
use gatehouse_lanes::exit::ExitConfig;
use gatehouse_lanes::runtime::{LaneNotice, LaneRole};
use gatehouse_lanes::{Device, LaneEvent, Needs, Screen};
use gatehouse_sim::lane::SimLane;
use std::time::Duration;
use tokio::sync::broadcast;

const STEP: Duration = Duration::from_millis(150);

fn entry() -> LaneRole {
    LaneRole::Entry(EntryConfig {
        confident: 0.5,
        ..EntryConfig::default()
    })
}

fn exit() -> LaneRole {
    LaneRole::Exit(ExitConfig::default())
}

/// Waits up to `secs` for the lane to show a screen `want` accepts, and returns it.
async fn expect_screen(
    notes: &mut broadcast::Receiver<LaneNotice>,
    secs: u64,
    what: &str,
    want: fn(&Screen) -> bool,
) -> Screen {
    let n = expect_notice(
        notes,
        secs,
        what,
        |n| matches!(n, LaneNotice::Screen(s) if want(s)),
    )
    .await;
    match n {
        LaneNotice::Screen(s) => s,
        other => panic!("{other:?}"),
    }
}

fn passed(n: &LaneNotice) -> bool {
    matches!(n, LaneNotice::Event(LaneEvent::Passed { .. }))
}

/// The barrier is open: the vehicle drives through, and the barrier closes behind it.
async fn through(sim: &SimLane) {
    eventually(5, "the barrier opens", || sim.board.arm() == Arm::Open).await;
    sim.drive_through(STEP).await.unwrap();
    eventually(5, "the barrier closes", || sim.board.arm() == Arm::Closed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_car_read_at_entry_gets_a_printed_ticket_then_is_matched_at_the_exit_and_pays_at_the_terminal()
 {
    let lot = TestLot::demo();
    let (ent, e1) = lot.lane("E1", entry()).await;
    let mut notes = e1.notices();
    ent.show_plate(Some("GH4821"), 1).await.unwrap();
    ent.arming(true).unwrap();
    let shown = expect_screen(&mut notes, 20, "the take-ticket screen", |s| {
        matches!(s, Screen::TakeTicket { .. })
    })
    .await;
    let Screen::TakeTicket { spot, .. } = shown else {
        unreachable!()
    };
    through(&ent).await;
    let timing = match expect_notice(&mut notes, 5, "the pass", passed).await {
        LaneNotice::Event(LaneEvent::Passed { timing, .. }) => timing,
        _ => unreachable!(),
    };
    for (step, ms) in [
        ("plate read", timing.plate_read_ms),
        ("decided", timing.decided_ms),
        ("ticket printed", timing.ticket_printed_ms),
        ("gate command", timing.gate_command_ms),
        ("gate open", timing.gate_open_ms),
        ("passed", timing.passed_ms),
    ] {
        assert!(ms.is_some(), "{step} has no time: {timing:?}");
    }
    // The ticket came out of the printer with the stay's signed QR code and its spot.
    let tickets = ent.printer.as_ref().unwrap().tickets();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    let qr = tickets[0].qr_payloads[0].clone();
    assert!(
        tickets[0].text_lines.iter().any(|l| l.contains(&spot)),
        "{tickets:?}"
    );
    let check = lot.reader().verify_ticket(&qr).unwrap();
    assert_eq!(check.plate.as_deref(), Some("GH4821"));

    // Two hours later at the exit: the plate is matched against the vehicles inside, the stay
    // owes, and the driver pays by card at the lane's terminal.
    lot.later(120);
    let (ext, x1) = lot.lane("X1", exit()).await;
    let mut notes = x1.notices();
    ext.show_plate(Some("GH4821"), 5).await.unwrap();
    ext.arming(true).unwrap();
    let pay = expect_screen(&mut notes, 20, "the pay-here screen", |s| {
        matches!(s, Screen::PayHere { .. })
    })
    .await;
    let Screen::PayHere { amount, .. } = pay else {
        unreachable!()
    };
    expect_screen(&mut notes, 15, "the goodbye screen", |s| {
        matches!(s, Screen::Goodbye { .. })
    })
    .await;
    through(&ext).await;
    expect_notice(&mut notes, 5, "the pass", passed).await;

    let charges = ext.terminal.as_ref().unwrap().charges();
    assert_eq!(charges.len(), 1);
    assert_eq!(
        charges[0].amount_minor.to_string(),
        amount.replace('.', ""),
        "the terminal charged what the screen showed"
    );
    let journal = lot.journal();
    let kinds: Vec<&str> = journal.iter().map(|(k, _)| k.as_str()).collect();
    for k in ["vehicle_entered", "payment_recorded", "vehicle_exited"] {
        assert!(kinds.contains(&k), "{k} missing: {kinds:?}");
    }
    let exited = &journal
        .iter()
        .find(|(k, _)| k == "vehicle_exited")
        .unwrap()
        .1;
    assert_eq!(exited["lane"], "X1");
    assert_eq!(exited["paid"], amount);
    for lane in ["E1", "X1"] {
        assert!(
            lot.reported(lane, "passed"),
            "{lane}: {:?}",
            lot.lane_reports(lane)
        );
    }
    assert!(lot.reader().plates_inside().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_plate_means_press_for_ticket_and_an_empty_printer_means_ticketless_by_plate() {
    let lot = TestLot::demo();
    let (ent, e1) = lot.lane("E1", entry()).await;
    let mut notes = e1.notices();
    // No plate in view: the driver presses for a ticket.
    ent.arming(true).unwrap();
    expect_screen(&mut notes, 20, "press for ticket", |s| {
        *s == Screen::PressForTicket
    })
    .await;
    // The driver chooses a spot with a charger on the ticket button.
    e1.press_ticket_button_for(Needs {
        ev: true,
        ..Needs::class(VehicleClass::Standard)
    });
    let shown = expect_screen(&mut notes, 10, "take ticket", |s| {
        matches!(s, Screen::TakeTicket { .. })
    })
    .await;
    let Screen::TakeTicket { spot, .. } = shown else {
        unreachable!()
    };
    let demo = gatehouse_core::LotConfig::demo().unwrap();
    let given = demo.spots.iter().find(|s| s.id == spot).unwrap();
    assert!(given.ev, "spot {spot} has no charger");
    through(&ent).await;
    lot.expect_report("E1", "fallback_ticket_for_no_plate")
        .await;

    // Out of paper: a confidently read plate goes in without a ticket.
    ent.printer.as_ref().unwrap().set_paper_out(true);
    ent.show_plate(Some("GH4821"), 1).await.unwrap();
    ent.arming(true).unwrap();
    expect_screen(
        &mut notes,
        20,
        "the ticketless screen",
        |s| matches!(s, Screen::Proceed { plate, .. } if plate == "GH4821"),
    )
    .await;
    through(&ent).await;
    lot.expect_report("E1", "fallback_ticketless_for_printer_fault")
        .await;
    assert_eq!(ent.printer.as_ref().unwrap().tickets().len(), 1);
    let mut inside = lot.reader().plates_inside().unwrap();
    inside.sort();
    assert_eq!(inside, vec!["GH4821".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_car_that_reverses_off_the_loop_is_cancelled_and_a_tailgater_raises_an_alert() {
    let lot = TestLot::demo();
    let (ent, e1) = lot.lane("E1", entry()).await;
    let mut notes = e1.notices();
    ent.show_plate(Some("GH4821"), 1).await.unwrap();
    ent.arming(true).unwrap();
    eventually(20, "the barrier opens", || ent.board.arm() == Arm::Open).await;
    // It backs off instead of driving through.
    ent.arming(false).unwrap();
    expect_notice(&mut notes, 5, "the reversal", |n| {
        matches!(n, LaneNotice::Event(LaneEvent::Reversed { stay: Some(_) }))
    })
    .await;
    eventually(5, "the barrier closes", || ent.board.arm() == Arm::Closed).await;
    eventually(5, "the entry is cancelled", || {
        lot.journal().iter().any(|(k, _)| k == "entry_cancelled")
    })
    .await;
    assert!(lot.reader().plates_inside().unwrap().is_empty());

    // Admitted again; while it is on the pass loop a second car comes onto the arming loop.
    ent.arming(true).unwrap();
    eventually(20, "the barrier opens", || ent.board.arm() == Arm::Open).await;
    ent.board.set_loop("passing", true).unwrap();
    tokio::time::sleep(STEP).await;
    ent.arming(false).unwrap();
    tokio::time::sleep(STEP).await;
    ent.arming(true).unwrap();
    expect_notice(&mut notes, 5, "the tailgate", |n| {
        matches!(n, LaneNotice::Event(LaneEvent::Tailgate))
    })
    .await;
    eventually(5, "an alert for the attendant", || {
        lot.open_alerts()
            .iter()
            .any(|a| a.message.contains("second vehicle"))
    })
    .await;
    lot.expect_report("E1", "tailgate").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn camera_offline_goes_to_the_ticket_and_an_unreachable_gate_calls_the_attendant() {
    let lot = TestLot::demo();
    let (mut ent, e1) = lot.lane("E1", entry()).await;
    let mut notes = e1.notices();
    let mut health = e1.notices();
    // The camera works at first (the lane asks it once at start), then stops answering.
    expect_notice(&mut health, 10, "the camera seen working", |n| {
        matches!(
            n,
            LaneNotice::Device {
                device: Device::Camera,
                ok: true,
                ..
            }
        )
    })
    .await;
    ent.camera.shut_down().await;
    // The camera's health is noticed on the next look (a failed frame).
    ent.arming(true).unwrap();
    expect_screen(&mut notes, 20, "press for ticket", |s| {
        *s == Screen::PressForTicket
    })
    .await;
    e1.press_ticket_button();
    through(&ent).await;
    // The next vehicle comes once the lane knows the camera is down.
    expect_notice(&mut health, 10, "the camera reported offline", |n| {
        matches!(
            n,
            LaneNotice::Device {
                device: Device::Camera,
                ok: false,
                ..
            }
        )
    })
    .await;
    ent.arming(true).unwrap();
    expect_screen(&mut notes, 10, "press for ticket", |s| {
        *s == Screen::PressForTicket
    })
    .await;
    eventually(5, "the camera fallback is journaled", || {
        lot.reported("E1", "fallback_ticket_for_camera_offline")
    })
    .await;
    // The gate board stops answering before the driver presses.
    ent.board.set_answering(false);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    e1.press_ticket_button();
    expect_screen(&mut notes, 15, "wait for the attendant", |s| {
        matches!(s, Screen::WaitForAttendant { .. })
    })
    .await;
    eventually(5, "the gate fault is journaled with an alert", || {
        lot.reported("E1", "fallback_attendant_for_gate_fault")
            && lot
                .open_alerts()
                .iter()
                .any(|a| a.message.contains("barrier"))
    })
    .await;
    assert_eq!(ent.board.arm(), Arm::Closed);
}

/// Regression (issue 26): the lane recorded the quote whatever amount the terminal approved.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_approving_another_amount_is_recorded_as_approved_and_the_attendant_is_called() {
    let lot = TestLot::demo();
    lot.inside("GH4821").await;
    lot.later(120);
    let (ext, x1) = lot.lane("X1", exit()).await;
    let mut notes = x1.notices();
    ext.terminal
        .as_ref()
        .unwrap()
        .push(SimResult::ApproveOther(100));
    ext.show_plate(Some("GH4821"), 5).await.unwrap();
    ext.arming(true).unwrap();
    let s = expect_screen(&mut notes, 20, "the attendant screen", |s| {
        matches!(s, Screen::WaitForAttendant { .. })
    })
    .await;
    let Screen::WaitForAttendant { reason } = s else {
        unreachable!()
    };
    assert!(reason.contains("approved 1.00 EUR instead of"), "{reason}");
    assert_eq!(ext.board.arm(), Arm::Closed);
    eventually(5, "an alert for the attendant", || {
        lot.open_alerts()
            .iter()
            .any(|a| a.message.contains("approved 1.00 EUR"))
    })
    .await;
    // What was recorded is what the terminal took, and the stay still owes the rest.
    let paid: String = lot
        .reader()
        .connection()
        .query_row(
            "SELECT amount FROM payments WHERE kind = 'payment'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(paid, "1.00");
    let q = lot
        .reader()
        .quote(
            &StayRef::Plate(gatehouse_core::Plate::parse("GH4821").unwrap()),
            lot.now(),
        )
        .unwrap();
    assert!(!q.total.is_zero(), "{q:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_the_exit_a_declined_card_is_retried_a_dead_terminal_means_paying_at_the_booth() {
    let lot = TestLot::demo();
    let attendant = Actor::new("booth-1", Role::Attendant).unwrap();
    lot.inside("GH4821").await;
    let second = lot.inside("XJ2905").await;
    lot.later(90);
    let (mut ext, x1) = lot.lane("X1", exit()).await;
    let mut notes = x1.notices();
    // Declined, then approved on the second try.
    ext.terminal
        .as_ref()
        .unwrap()
        .push(SimResult::Decline(0x05));
    ext.show_plate(Some("GH4821"), 5).await.unwrap();
    ext.arming(true).unwrap();
    expect_screen(&mut notes, 20, "the declined screen", |s| {
        matches!(s, Screen::Declined { .. })
    })
    .await;
    assert_eq!(ext.board.arm(), Arm::Closed);
    x1.pay_again();
    expect_screen(&mut notes, 15, "goodbye", |s| {
        matches!(s, Screen::Goodbye { .. })
    })
    .await;
    through(&ext).await;

    // The terminal goes dark: the screen says how else to pay; paid at the booth, the ticket
    // scanned at the lane lets the car out.
    ext.terminal = None; // the simulator stops listening
    ext.show_plate(Some("XJ2905"), 6).await.unwrap();
    ext.arming(true).unwrap();
    expect_screen(&mut notes, 30, "the unpaid screen", |s| {
        matches!(s, Screen::Unpaid { .. })
    })
    .await;
    lot.expect_report("X1", "fallback_other_method_for_terminal_down")
        .await;
    let q = lot
        .reader()
        .quote(
            &StayRef::Plate(gatehouse_core::Plate::parse("XJ2905").unwrap()),
            lot.now(),
        )
        .unwrap();
    lot.run(
        &attendant,
        Command::OpenShift(req::OpenShift { float: 50.into() }),
    )
    .await;
    lot.run(
        &attendant,
        Command::Pay(req::Pay {
            stay: StayRef::Ticket(q.ticket.clone()),
            method: PaymentMethod::Cash,
            amount: q.total.amount,
            key: None,
        }),
    )
    .await;
    ext.scan(&second.qr).await.unwrap();
    expect_screen(&mut notes, 15, "goodbye", |s| {
        matches!(s, Screen::Goodbye { .. })
    })
    .await;
    through(&ext).await;
    assert!(lot.reader().plates_inside().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pay_later_lets_a_car_out_owing_and_free_exit_holds_the_barrier_open() {
    let lot = TestLot::demo();
    lot.inside("GH4821").await;
    lot.later(90);
    let (mut ext, x1) = lot
        .lane(
            "X1",
            LaneRole::Exit(ExitConfig {
                pay_later: true,
                ..ExitConfig::default()
            }),
        )
        .await;
    let mut notes = x1.notices();
    ext.terminal = None;
    ext.show_plate(Some("GH4821"), 5).await.unwrap();
    ext.arming(true).unwrap();
    expect_screen(&mut notes, 30, "goodbye", |s| {
        matches!(s, Screen::Goodbye { .. })
    })
    .await;
    through(&ext).await;
    let journal = lot.journal();
    let owed = &journal
        .iter()
        .find(|(k, _)| k == "exit_uncollected")
        .expect("logged")
        .1;
    assert_ne!(owed["owed"], "0.00");
    lot.expect_report("X1", "fallback_pay_later_for_terminal_down")
        .await;

    // Free exit: only someone allowed to open the gate may; the barrier stays up for everyone.
    let driver = Actor::new("kiosk", Role::Auditor).unwrap();
    assert!(x1.set_free_exit(&driver, true, "fire alarm").await.is_err());
    let attendant = Actor::new("booth-1", Role::Attendant).unwrap();
    x1.set_free_exit(&attendant, true, "fire alarm")
        .await
        .unwrap();
    eventually(5, "the barrier opens", || ext.board.arm() == Arm::Open).await;
    ext.arming(true).unwrap();
    tokio::time::sleep(STEP).await;
    ext.drive_through(STEP).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ext.board.arm(), Arm::Open);
    x1.set_free_exit(&attendant, false, "all clear")
        .await
        .unwrap();
    eventually(5, "the barrier closes", || ext.board.arm() == Arm::Closed).await;
    eventually(5, "free exit journaled", || {
        lot.reported("X1", "free_exit_on") && lot.reported("X1", "free_exit_off")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lane_configured_by_address_in_the_lot_file_runs_on_those_devices() {
    use gatehouse_core::LotConfig;
    use gatehouse_drivers::camera::sim::CameraSim;
    use gatehouse_drivers::gate::GateMap;
    use gatehouse_drivers::gate::sim::GateBoard;
    use gatehouse_drivers::printer::sim::PrinterSim;
    use gatehouse_lanes::runtime::start_lane;
    use gatehouse_lanes::wiring::wire_lanes;
    use gatehouse_sim::scene::PlateStyle;

    // The devices, each on its own address: a gate board with the standard register map, an
    // HTTP camera that sees a car, and a network ticket printer.
    let map = GateMap::standard();
    let board = GateBoard::new(map.clone(), Duration::from_millis(300)).unwrap();
    let gate_addr = board.serve_tcp().await.unwrap();
    let (scene, _) =
        gatehouse_e2e::renderer().scene(1280, 720, &[("KLM4821", PlateStyle::Us, 220, 0.0)], 4);
    let camera = CameraSim::start(&[scene], 10).await.unwrap();
    let printer = PrinterSim::start_tcp().await.unwrap();
    let printer_addr = printer.tcp_addr().unwrap();

    // E1 names them in the lot file; the other lanes have no devices and are not run.
    let text = gatehouse_core::config::DEMO_TOML
        .replacen(
            "[lanes.devices]\nsimulated = true",
            &format!(
                "[lanes.devices]\ngate = {{ tcp = \"{gate_addr}\" }}\ncamera = {{ snapshot = \"{}\" }}\nprinter = {{ tcp = \"{printer_addr}\" }}",
                camera.snapshot_url()
            ),
            1,
        )
        .replace("[lanes.devices]\nsimulated = true", "");
    let config = LotConfig::from_toml_str("lot.toml", &text).unwrap();
    let wired = wire_lanes(&config, &gatehouse_lanes::wiring::NoSimulators)
        .await
        .unwrap();
    assert_eq!(wired.len(), 1, "only E1 has devices");
    assert!(wired[0].sim.is_none());

    let lot = TestLot::demo();
    let e1 = start_lane(
        wired.into_iter().next().unwrap().setup,
        lot.services.clone(),
    )
    .unwrap();
    let mut notes = e1.notices();
    let (arming, passing) = (map.loops[0].name.clone(), map.loops[1].name.clone());
    board.set_loop(&arming, true).unwrap();
    expect_screen(&mut notes, 20, "the take-ticket screen", |s| {
        matches!(s, Screen::TakeTicket { .. })
    })
    .await;
    eventually(5, "the barrier opens", || board.arm() == Arm::Open).await;
    board.set_loop(&passing, true).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    board.set_loop(&arming, false).unwrap();
    tokio::time::sleep(Duration::from_millis(400)).await;
    board.set_loop(&passing, false).unwrap();
    expect_notice(&mut notes, 10, "the pass", passed).await;

    // The configured printer printed the ticket for the plate the configured camera saw.
    eventually(5, "the ticket comes out of the printer", || {
        !printer.tickets().is_empty()
    })
    .await;
    let tickets = printer.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    let check = lot
        .reader()
        .verify_ticket(&tickets[0].qr_payloads[0])
        .unwrap();
    assert_eq!(check.plate.as_deref(), Some("KLM4821"));
    eventually(5, "the pass is journaled", || lot.reported("E1", "passed")).await;
}

/// The subscriber a count sign is: the retained count on the lot's sign topic, read with the
/// real mosquitto_sub client.
async fn sign_shows(port: u16) -> serde_json::Value {
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .args(["-t", "gatehouse/demo/signs/lot", "-C", "1", "-W", "5"])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "mosquitto_sub got nothing: {out:?}");
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_lot_says_full_on_the_mqtt_sign_and_the_screen_and_prints_no_ticket() {
    use gatehouse_core::LotConfig;
    use gatehouse_drivers::CountSign;
    use gatehouse_drivers::mqtt::sim::Mosquitto;
    use gatehouse_drivers::mqtt::{MqttConfig, MqttConnection};
    use std::sync::Arc;

    // The demo lot cut down to one standard spot, and a count sign on a real mosquitto broker.
    let text = gatehouse_core::config::DEMO_TOML;
    let (cut, end) = (
        text.find("# ---- P0, ground floor").unwrap(),
        text.find("# ---- Day-to-day rules").unwrap(),
    );
    let one_spot = "[[spots]]\nlevel = \"P0\"\nzone = \"A\"\ncount = 1\nsize = \"standard\"\nx = 10\ny = 2\n\n";
    let text = format!("{}{one_spot}{}", &text[..cut], &text[end..]);
    let cfg = LotConfig::from_toml_str("one-spot.toml", &text).unwrap();
    let broker = Mosquitto::start().await.unwrap();
    let mqtt = MqttConnection::start(MqttConfig::new("127.0.0.1", broker.port(), "demo")).unwrap();
    let sign: Arc<dyn CountSign> = Arc::new(mqtt.count_sign());
    let lot = TestLot::with(cfg, vec![sign]);

    // The first car takes the only spot: the sign says 0 free, FULL.
    let (ent, e1) = lot.lane("E1", entry()).await;
    let mut notes = e1.notices();
    ent.show_plate(Some("GH4821"), 1).await.unwrap();
    ent.arming(true).unwrap();
    expect_screen(&mut notes, 20, "the take-ticket screen", |s| {
        matches!(s, Screen::TakeTicket { .. })
    })
    .await;
    through(&ent).await;
    expect_notice(&mut notes, 5, "the pass", passed).await;
    let mut shown = serde_json::Value::Null;
    for _ in 0..50 {
        shown = sign_shows(broker.port()).await;
        if shown["free"] == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown, serde_json::json!({"free": 0, "full": true}));

    // The next car: the screen says FULL, no ticket is printed and the barrier stays down.
    ent.show_plate(Some("KX7302"), 2).await.unwrap();
    ent.arming(true).unwrap();
    expect_screen(&mut notes, 20, "the full screen", |s| {
        matches!(s, Screen::Full)
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(ent.printer.as_ref().unwrap().tickets().len(), 1);
    assert_eq!(ent.board.arm(), Arm::Closed);
    assert_eq!(lot.reader().plates_inside().unwrap(), ["GH4821"]);
}
