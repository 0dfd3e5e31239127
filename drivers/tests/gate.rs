//! The barrier driver against the simulated I/O board, over a real PTY (RTU) and loopback TCP.
#![allow(clippy::unwrap_used, clippy::expect_used)]
#![cfg(feature = "gate")]

mod gate_common;

use gate_common::{expect_event_within, loop_event, wait_health};
use gatehouse_drivers::gate::sim::{Arm, BoardWrite, GateBoard};
use gatehouse_drivers::gate::{
    CountDisplay, CountDisplayMap, CountSign, Gate, GateEvent, GateMap, InputMap, Inputs, LoopMap,
    ModbusGate, Position, Transport,
};
use gatehouse_drivers::{ErrorKind, HealthState};
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::broadcast;

const TRAVEL: Duration = Duration::from_millis(150);

fn map(inverted: bool) -> GateMap {
    GateMap {
        unit_id: 7,
        open_coil: 0,
        open_pulse_ms: 30,
        close_coil: Some(1),
        close_pulse_ms: 30,
        open_limit: InputMap {
            address: 10,
            inverted,
        },
        closed_limit: InputMap {
            address: 11,
            inverted,
        },
        loops: vec![
            LoopMap {
                name: "arming".into(),
                address: 12,
                inverted: false,
            },
            LoopMap {
                name: "safety".into(),
                address: 13,
                inverted,
            },
        ],
        poll_interval_ms: 20,
        confirm_timeout_ms: 1500,
        response_timeout_ms: 300,
    }
}

#[derive(Clone, Copy)]
enum Via {
    Rtu,
    Tcp,
}

async fn serve(board: &GateBoard, via: Via) -> Transport {
    match via {
        Via::Rtu => Transport::Rtu {
            path: board.serve_rtu().await.unwrap(),
            baud: 19200,
        },
        Via::Tcp => Transport::Tcp {
            address: board.serve_tcp().await.unwrap().to_string(),
        },
    }
}

async fn lane(map: GateMap, via: Via) -> (GateBoard, ModbusGate) {
    let board = GateBoard::new(map.clone(), TRAVEL).unwrap();
    let gate = ModbusGate::start(serve(&board, via).await, map).unwrap();
    wait_health(&mut gate.health(), HealthState::Ok, 5).await;
    (board, gate)
}

async fn expect_event(rx: &mut broadcast::Receiver<GateEvent>, want: GateEvent) {
    expect_event_within(rx, want, 3).await
}

async fn open_and_close_are_confirmed(via: Via) {
    let (board, gate) = lane(map(false), via).await;
    let mut events = gate.events();
    assert_eq!(gate.state().position, Position::Closed);

    gate.open().await.unwrap();
    assert_eq!(board.arm(), Arm::Open);
    assert_eq!(gate.state().position, Position::Open);
    expect_event(&mut events, GateEvent::Opened).await;

    gate.close().await.unwrap();
    assert_eq!(board.arm(), Arm::Closed);
    expect_event(&mut events, GateEvent::Closed).await;

    // Each command was a pulse: coil on, then off again.
    let coils: Vec<_> = board
        .writes()
        .into_iter()
        .filter(|w| matches!(w, BoardWrite::Coil { .. }))
        .collect();
    assert_eq!(
        coils,
        vec![
            BoardWrite::Coil {
                address: 0,
                on: true
            },
            BoardWrite::Coil {
                address: 0,
                on: false
            },
            BoardWrite::Coil {
                address: 1,
                on: true
            },
            BoardWrite::Coil {
                address: 1,
                on: false
            },
        ]
    );
    assert_eq!(gate.health().borrow().state, HealthState::Ok);
}

#[tokio::test]
async fn open_and_close_are_confirmed_over_rtu_on_a_pty() {
    open_and_close_are_confirmed(Via::Rtu).await;
}

#[tokio::test]
async fn open_and_close_are_confirmed_over_tcp() {
    open_and_close_are_confirmed(Via::Tcp).await;
}

#[tokio::test]
async fn loop_occupied_and_cleared_events_arrive() {
    let (board, gate) = lane(map(false), Via::Rtu).await;
    let mut events = gate.events();
    board.set_loop("arming", true).unwrap();
    expect_event(&mut events, loop_event("arming", true)).await;
    assert_eq!(gate.state().loops.get("arming"), Some(&true));
    assert_eq!(gate.state().loops.get("safety"), Some(&false));
    board.set_loop("arming", false).unwrap();
    expect_event(&mut events, loop_event("arming", false)).await;
    assert_eq!(gate.state().loops.get("arming"), Some(&false));
    assert!(board.set_loop("no such loop", true).is_err());
}

#[tokio::test]
async fn inverted_fail_safe_inputs_read_as_their_logical_state() {
    let m = map(true);
    let (board, gate) = lane(m.clone(), Via::Tcp).await;
    let mut events = gate.events();
    // Arm down: the inverted closed limit is low on the wire, yet the gate reads closed.
    assert!(!board.input(m.closed_limit.address));
    assert!(board.input(m.open_limit.address));
    assert_eq!(gate.state().position, Position::Closed);
    // A clear inverted loop is high on the wire; occupied pulls it low.
    assert!(board.input(13));
    assert_eq!(gate.state().loops.get("safety"), Some(&false));
    board.set_loop("safety", true).unwrap();
    assert!(!board.input(13));
    expect_event(&mut events, loop_event("safety", true)).await;
    gate.open().await.unwrap();
    assert_eq!(gate.state().position, Position::Open);
}

#[tokio::test]
async fn a_stuck_arm_is_a_device_error_and_health_is_not_ok() {
    let (board, gate) = lane(map(false), Via::Rtu).await;
    let mut events = gate.events();
    let mut health = gate.health();
    board.set_stuck(true);
    let err = gate.open().await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Device);
    assert!(
        err.message
            .contains("gate did not confirm open within 1500 ms"),
        "{}",
        err.message
    );
    assert_ne!(health.borrow().state, HealthState::Ok);
    assert_eq!(gate.state().position, Position::Between);
    expect_event(
        &mut events,
        GateEvent::Fault {
            reason: err.message.clone(),
        },
    )
    .await;
    // Polling on does not hide the fault while the arm hangs half way.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(health.borrow().state, HealthState::Degraded);
    // Freed, the arm reaches its limit and the gate is healthy again.
    board.set_stuck(false);
    wait_health(&mut health, HealthState::Ok, 3).await;
    assert_eq!(gate.state().position, Position::Open);
}

async fn board_stops_answering_then_recovers(via: Via) {
    let (board, gate) = lane(map(false), via).await;
    let mut health = gate.health();
    let mut events = gate.events();
    board.set_answering(false);
    let offline = wait_health(&mut health, HealthState::Offline, 3).await;
    assert!(offline.reason.contains("board at"), "{}", offline.reason);
    assert!(matches!(
        gate.open().await.unwrap_err().kind,
        ErrorKind::Timeout | ErrorKind::Io
    ));
    expect_event(
        &mut events,
        GateEvent::Fault {
            reason: offline.reason.clone(),
        },
    )
    .await;
    // A loop changing while the cable is out is reported once the board is back.
    board.set_loop("arming", true).unwrap();
    board.set_answering(true);
    wait_health(&mut health, HealthState::Ok, 5).await;
    expect_event(&mut events, loop_event("arming", true)).await;
    board.set_loop("arming", false).unwrap();
    expect_event(&mut events, loop_event("arming", false)).await;
    // The open was sent while the board was deaf, so the arm stayed down; it opens now.
    gate.open().await.unwrap();
    assert_eq!(board.arm(), Arm::Open);
}

#[tokio::test]
async fn rtu_board_stops_answering_goes_offline_and_recovers_by_itself() {
    board_stops_answering_then_recovers(Via::Rtu).await;
}

#[tokio::test]
async fn tcp_board_stops_answering_goes_offline_and_recovers_by_itself() {
    board_stops_answering_then_recovers(Via::Tcp).await;
}

#[tokio::test]
async fn rtu_requests_for_another_unit_are_not_answered() {
    let board = GateBoard::new(map(false), TRAVEL).unwrap();
    let path = board.serve_rtu().await.unwrap();
    let mut other = map(false);
    other.unit_id = 8;
    let gate = ModbusGate::start(Transport::Rtu { path, baud: 9600 }, other).unwrap();
    let mut health = gate.health();
    let waited = tokio::time::timeout(
        Duration::from_secs(5),
        health.wait_for(|h| h.state != HealthState::Offline || h.reason.contains("unit 8")),
    )
    .await;
    assert!(waited.is_ok(), "no health change within 5 s");
    let h = gate.health().borrow().clone();
    assert_eq!(h.state, HealthState::Offline, "{h:?}");
    assert!(h.reason.contains("unit 8"), "{}", h.reason);
    assert_eq!(gate.state().position, Position::Unknown);
}

async fn count_display_shows_what_the_sign_holds(via: Via) {
    let board = GateBoard::new(map(false), TRAVEL).unwrap();
    let transport = serve(&board, via).await;
    let zones = BTreeMap::from([("level 1".to_string(), 100), ("level 2".to_string(), 101)]);
    let display = CountDisplay::new(
        transport,
        CountDisplayMap {
            unit_id: 7,
            zones,
            response_timeout_ms: 300,
        },
    )
    .unwrap();
    display.show("level 1", 42).await.unwrap();
    display.show("level 2", 7).await.unwrap();
    assert_eq!(board.holding_register(100), 42);
    assert_eq!(board.holding_register(101), 7);
    assert_eq!(display.health().borrow().state, HealthState::Ok);
    display.show("level 1", 41).await.unwrap();
    assert_eq!(board.holding_register(100), 41);
    display.show("level 2", 100_000).await.unwrap();
    assert_eq!(board.holding_register(101), u16::MAX);
    let err = display.show("roof", 3).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert!(err.message.contains("roof"));

    board.set_answering(false);
    let err = display.show("level 1", 40).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert_eq!(display.health().borrow().state, HealthState::Offline);
    // Like a pulled cable, the write never reached the sign.
    assert_eq!(board.holding_register(100), 41);
    board.set_answering(true);
    display.show("level 1", 39).await.unwrap();
    assert_eq!(board.holding_register(100), 39);
    assert_eq!(display.health().borrow().state, HealthState::Ok);
}

#[tokio::test]
async fn count_display_over_rtu() {
    count_display_shows_what_the_sign_holds(Via::Rtu).await;
}

#[tokio::test]
async fn count_display_over_tcp() {
    count_display_shows_what_the_sign_holds(Via::Tcp).await;
}

fn config_error_naming(json: &str, field: &str) {
    let err = GateMap::from_json(json).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config, "{err}");
    assert!(
        err.message.contains(field),
        "{field} not in {:?}",
        err.message
    );
}

#[test]
fn a_bad_gate_map_is_a_config_error_naming_the_field() {
    let good = r#"{"unit_id": 1, "open_coil": 0, "close_coil": 1,
        "open_limit": {"address": 0}, "closed_limit": {"address": 1},
        "loops": [{"name": "arming", "address": 2}, {"name": "exit", "address": 3, "inverted": true}]}"#;
    let m = GateMap::from_json(good).unwrap();
    assert_eq!(m.open_pulse_ms, 300);
    assert!(m.loops[1].inverted);

    config_error_naming(
        &good.replace(r#""unit_id": 1"#, r#""unit_id": 0"#),
        "unit_id",
    );
    config_error_naming(
        &good.replace(r#""close_coil": 1"#, r#""close_coil": 0"#),
        "close_coil",
    );
    config_error_naming(
        &good.replace(r#""address": 3"#, r#""address": 1"#),
        "loops[1].address",
    );
    config_error_naming(&good.replace(r#""exit""#, r#""arming""#), "loops[1].name");
    config_error_naming(&good.replace(r#""exit""#, r#""""#), "loops[1].name");
    config_error_naming(
        &good.replace(r#""address": 3"#, r#""address": 5000"#),
        "loops",
    );
    config_error_naming(
        &good.replace(r#""unit_id": 1"#, r#""unit_id": 1, "open_pulse_ms": 0"#),
        "open_pulse_ms",
    );
    config_error_naming(
        &good.replace(
            r#""unit_id": 1"#,
            r#""unit_id": 1, "confirm_timeout_ms": 200"#,
        ),
        "confirm_timeout_ms",
    );
    config_error_naming(
        &good.replace(r#""unit_id": 1"#, r#""unit_id": 1, "poll_interval_ms": 0"#),
        "poll_interval_ms",
    );
    config_error_naming(
        &good.replace(r#""closed_limit": {"address": 1},"#, ""),
        "closed_limit",
    );
    config_error_naming(
        &good.replace("\"open_coil\"", "\"open_coill\""),
        "open_coill",
    );

    let bad_baud = ModbusGate::start(
        Transport::Rtu {
            path: "/dev/ttyUSB0".into(),
            baud: 0,
        },
        m.clone(),
    );
    assert!(
        matches!(bad_baud, Err(e) if e.kind == ErrorKind::Config && e.message.contains("baud"))
    );
    let bad_addr = ModbusGate::start(
        Transport::Tcp {
            address: "gateboard".into(),
        },
        m,
    );
    assert!(
        matches!(bad_addr, Err(e) if e.kind == ErrorKind::Config && e.message.contains("address"))
    );
}

fn any_map() -> impl Strategy<Value = GateMap> {
    let input =
        || (0u16..40, any::<bool>()).prop_map(|(address, inverted)| InputMap { address, inverted });
    let loops =
        prop::collection::vec(("[a-z ]{0,5}", 0u16..40, any::<bool>()), 0..5).prop_map(|v| {
            v.into_iter()
                .map(|(name, address, inverted)| LoopMap {
                    name,
                    address,
                    inverted,
                })
                .collect()
        });
    (
        (
            any::<u8>(),
            0u16..4,
            0u64..6000,
            prop::option::of(0u16..4),
            0u64..6000,
        ),
        (input(), input(), loops),
        (0u64..6000, 0u64..130_000, 0u64..11_000),
    )
        .prop_map(
            |(
                (unit_id, open_coil, open_pulse_ms, close_coil, close_pulse_ms),
                (open_limit, closed_limit, loops),
                (poll_interval_ms, confirm_timeout_ms, response_timeout_ms),
            )| GateMap {
                unit_id,
                open_coil,
                open_pulse_ms,
                close_coil,
                close_pulse_ms,
                open_limit,
                closed_limit,
                loops,
                poll_interval_ms,
                confirm_timeout_ms,
                response_timeout_ms,
            },
        )
}

/// Valid maps: distinct addresses anywhere in a 2000-input window, distinct loop names.
fn valid_map() -> impl Strategy<Value = GateMap> {
    (
        any_map(),
        1u8..=247,
        0u16..60_000,
        prop::collection::btree_set(0u16..2000, 2..7),
        prop::collection::vec(any::<bool>(), 7),
    )
        .prop_map(|(mut m, unit, base, addresses, inverted)| {
            let a: Vec<u16> = addresses.into_iter().map(|a| a + base).collect();
            m.unit_id = unit;
            m.open_pulse_ms = 300;
            m.close_coil = m.close_coil.map(|_| 9);
            m.close_pulse_ms = 300;
            m.poll_interval_ms = 50;
            m.confirm_timeout_ms = 5000;
            m.response_timeout_ms = 500;
            m.open_limit = InputMap {
                address: a[0],
                inverted: inverted[0],
            };
            m.closed_limit = InputMap {
                address: a[1],
                inverted: inverted[1],
            };
            m.loops = a[2..]
                .iter()
                .enumerate()
                .map(|(i, &address)| LoopMap {
                    name: format!("loop {i}"),
                    address,
                    inverted: inverted[2 + i],
                })
                .collect();
            m
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    #[test]
    fn validation_and_decoding_never_panic(m in any_map(), first in any::<u16>(), bits in prop::collection::vec(any::<bool>(), 0..64)) {
        let valid = m.validate();
        if let Err(e) = &valid {
            prop_assert_eq!(e.kind, ErrorKind::Config);
        }
        let (span_first, count) = m.input_span();
        if valid.is_ok() {
            prop_assert!(count >= 2);
        }
        match m.decode_inputs(first, &bits) {
            Ok(i) => prop_assert_eq!(i.loops.len(), m.loops.iter().map(|l| &l.name).collect::<std::collections::BTreeSet<_>>().len()),
            Err(e) => prop_assert_eq!(e.kind, ErrorKind::Protocol),
        }
        let _ = m.decode_inputs(span_first, &bits);
    }

    #[test]
    fn from_json_never_panics(text in "\\PC{0,200}") {
        if let Err(e) = GateMap::from_json(&text) {
            prop_assert_eq!(e.kind, ErrorKind::Config);
        }
    }

    #[test]
    fn raw_levels_decode_back_to_the_logical_inputs(m in valid_map(), levels in prop::collection::vec(any::<bool>(), 7)) {
        prop_assert!(m.validate().is_ok(), "{:?}", m.validate());
        let (first, count) = m.input_span();
        let mut bits = vec![false; usize::from(count)];
        let mut want = Inputs { open_limit: levels[0], closed_limit: levels[1], loops: BTreeMap::new() };
        let mut put = |address: u16, active: bool, inverted: bool| {
            bits[usize::from(address - first)] = GateMap::raw_level(active, inverted);
        };
        put(m.open_limit.address, levels[0], m.open_limit.inverted);
        put(m.closed_limit.address, levels[1], m.closed_limit.inverted);
        for (i, l) in m.loops.iter().enumerate() {
            put(l.address, levels[2 + i], l.inverted);
            want.loops.insert(l.name.clone(), levels[2 + i]);
        }
        prop_assert_eq!(m.decode_inputs(first, &bits).unwrap(), want);
        // A reply one bit short of the last input is refused, not misread.
        prop_assert!(m.decode_inputs(first, &bits[..bits.len() - 1]).is_err());
    }

    #[test]
    fn position_follows_the_limits(open in any::<bool>(), closed in any::<bool>()) {
        let p = Position::from_limits(open, closed);
        prop_assert_eq!(p == Position::Open, open && !closed);
        prop_assert_eq!(p == Position::Closed, closed && !open);
    }
}
