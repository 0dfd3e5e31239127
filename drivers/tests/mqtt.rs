//! Occupancy sensors and count signs against a real mosquitto broker on a free loopback port.
#![cfg(feature = "mqtt")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use gatehouse_drivers::HealthState;
use gatehouse_drivers::mqtt::sim::{LotSim, Mosquitto};
use gatehouse_drivers::mqtt::{CountSign, MqttConfig, MqttConnection, SensorReading, TtsConfig};
use std::process::Command;
use std::time::Duration;
use tokio::sync::broadcast;

const LOT: &str = "north";

fn config(broker: &Mosquitto) -> MqttConfig {
    let mut c = MqttConfig::new("127.0.0.1", broker.port(), LOT);
    c.keep_alive = Duration::from_secs(2);
    c.reconnect_max = Duration::from_millis(500);
    c
}

async fn wait_health(conn: &MqttConnection, state: HealthState, within: Duration) -> String {
    let mut rx = conn.health_changes();
    let r = tokio::time::timeout(within, rx.wait_for(|h| h.state == state)).await;
    let h = conn.health();
    assert!(r.is_ok(), "health did not become {state:?}: {h:?}");
    h.reason
}

async fn next_reading(rx: &mut broadcast::Receiver<SensorReading>) -> SensorReading {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("no sensor reading within 5 s")
        .expect("reading channel closed")
}

/// The real command-line publisher, as an installer would use it to test a topic.
async fn mosquitto_pub(port: u16, topic: &str, payload: &[u8]) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), payload).unwrap();
    let (topic, path) = (topic.to_string(), file.path().to_path_buf());
    let out = tokio::task::spawn_blocking(move || {
        Command::new("mosquitto_pub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-q",
                "1",
                "-t",
                &topic,
                "-f",
            ])
            .arg(path)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "mosquitto_pub: {out:?}");
}

async fn mosquitto_sub_one(port: u16, topic: &str) -> String {
    let topic = topic.to_string();
    let out = tokio::task::spawn_blocking(move || {
        Command::new("mosquitto_sub")
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-t",
                &topic,
                "-C",
                "1",
                "-W",
                "5",
            ])
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(out.status.success(), "mosquitto_sub got nothing: {out:?}");
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readings_arrive_from_mosquitto_pub_and_from_the_lot_simulator() {
    let broker = Mosquitto::start().await.unwrap();
    let conn = MqttConnection::start(config(&broker)).unwrap();
    let mut readings = conn.readings();
    wait_health(&conn, HealthState::Ok, Duration::from_secs(5)).await;

    let payload = br#"{"occupied": true, "battery": 77, "at": "2025-06-01T07:30:00+02:00"}"#;
    mosquitto_pub(broker.port(), "gatehouse/north/sensors/A-01", payload).await;
    let r = next_reading(&mut readings).await;
    assert_eq!(r.spot, "A-01");
    assert!(r.occupied);
    assert_eq!(r.battery, Some(77));
    assert_eq!(r.at.to_rfc3339(), "2025-06-01T05:30:00+00:00");

    // No time in the payload: the reading is stamped on arrival.
    let before = Utc::now();
    mosquitto_pub(
        broker.port(),
        "gatehouse/north/sensors/A-02",
        br#"{"occupied":false}"#,
    )
    .await;
    let r = next_reading(&mut readings).await;
    assert_eq!(
        (r.spot.as_str(), r.occupied, r.battery),
        ("A-02", false, None)
    );
    assert!(r.at >= before && r.at <= Utc::now());

    // Another lot's sensors are not ours.
    mosquitto_pub(
        broker.port(),
        "gatehouse/south/sensors/A-03",
        br#"{"occupied":true}"#,
    )
    .await;

    let sim = LotSim::connect("127.0.0.1", broker.port(), LOT)
        .await
        .unwrap();
    let sent = SensorReading {
        spot: "B-14".into(),
        occupied: true,
        at: DateTime::parse_from_rfc3339("2025-06-01T08:00:00.250Z")
            .unwrap()
            .into(),
        battery: Some(3),
    };
    sim.reading(&sent).await.unwrap();
    assert_eq!(next_reading(&mut readings).await, sent);
    sim.sensor("B-15", false, None).await.unwrap();
    let r = next_reading(&mut readings).await;
    assert_eq!((r.spot.as_str(), r.occupied), ("B-15", false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn things_stack_uplinks_are_mapped_to_spots() {
    let broker = Mosquitto::start().await.unwrap();
    let mut c = config(&broker);
    let mut tts = TtsConfig::new("gatehouse-sensors", "ttn");
    tts.field = "presence".into();
    tts.devices
        .insert("eui-70b3d57ed005a1b2".into(), "C-12".into());
    c.tts = Some(tts);
    let conn = MqttConnection::start(c).unwrap();
    let mut readings = conn.readings();
    wait_health(&conn, HealthState::Ok, Duration::from_secs(5)).await;
    let sim = LotSim::connect("127.0.0.1", broker.port(), LOT)
        .await
        .unwrap();

    let at: DateTime<Utc> = DateTime::parse_from_rfc3339("2025-06-01T09:15:02.123456789Z")
        .unwrap()
        .into();
    // A device nobody mapped, and a payload formatter with another field name: both skipped.
    sim.tts_uplink(
        "gatehouse-sensors",
        "ttn",
        "eui-unknown",
        "presence",
        true,
        at,
    )
    .await
    .unwrap();
    sim.tts_uplink(
        "gatehouse-sensors",
        "ttn",
        "eui-70b3d57ed005a1b2",
        "occupied",
        true,
        at,
    )
    .await
    .unwrap();
    // Another application is not subscribed.
    sim.tts_uplink(
        "other-app",
        "ttn",
        "eui-70b3d57ed005a1b2",
        "presence",
        true,
        at,
    )
    .await
    .unwrap();
    sim.tts_uplink(
        "gatehouse-sensors",
        "ttn",
        "eui-70b3d57ed005a1b2",
        "presence",
        true,
        at,
    )
    .await
    .unwrap();
    let r = next_reading(&mut readings).await;
    assert_eq!(
        r,
        SensorReading {
            spot: "C-12".into(),
            occupied: true,
            at,
            battery: Some(91)
        }
    );

    // The same topic shape published by the real tool.
    let uplink = br#"{"end_device_ids":{"device_id":"eui-70b3d57ed005a1b2"},
        "received_at":"2025-06-01T09:20:00Z",
        "uplink_message":{"decoded_payload":{"presence":false}}}"#;
    mosquitto_pub(
        broker.port(),
        "v3/gatehouse-sensors@ttn/devices/eui-70b3d57ed005a1b2/up",
        uplink,
    )
    .await;
    let r = next_reading(&mut readings).await;
    assert_eq!(
        (r.spot.as_str(), r.occupied, r.battery),
        ("C-12", false, None)
    );
    assert_eq!(r.at.to_rfc3339(), "2025-06-01T09:20:00+00:00");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbled_oversized_and_wrong_typed_payloads_are_skipped() {
    let broker = Mosquitto::start().await.unwrap();
    let conn = MqttConnection::start(config(&broker)).unwrap();
    let mut readings = conn.readings();
    wait_health(&conn, HealthState::Ok, Duration::from_secs(5)).await;

    let topic = "gatehouse/north/sensors/D-01";
    let oversized = format!(r#"{{"occupied":true,"note":"{}"}}"#, "x".repeat(9 * 1024));
    let garbage: Vec<u8> = (0..600u32)
        .map(|i| (i.wrapping_mul(7919) >> 3) as u8)
        .collect();
    for bad in [
        &b"not json at all"[..],
        br#"{"occupied":"yes"}"#,
        br#"{"occupied":true,"battery":"full"}"#,
        br#"{"occupied":true,"at":"yesterday"}"#,
        br#"{"occupied":tr"#,
        oversized.as_bytes(),
        &garbage,
    ] {
        mosquitto_pub(broker.port(), topic, bad).await;
    }
    mosquitto_pub(broker.port(), topic, br#"{"occupied":false,"battery":64}"#).await;
    let r = next_reading(&mut readings).await;
    assert_eq!(
        (r.spot.as_str(), r.occupied, r.battery),
        ("D-01", false, Some(64))
    );
    assert_eq!(
        conn.health().state,
        HealthState::Ok,
        "bad payloads must not drop the broker"
    );
    assert!(
        readings.try_recv().is_err(),
        "nothing else should have come through"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn count_sign_value_is_retained_for_a_late_subscriber() {
    let broker = Mosquitto::start().await.unwrap();
    let conn = MqttConnection::start(config(&broker)).unwrap();
    wait_health(&conn, HealthState::Ok, Duration::from_secs(5)).await;
    let sign = conn.count_sign();
    let sim = LotSim::connect("127.0.0.1", broker.port(), LOT)
        .await
        .unwrap();

    sign.show("level-1", 42).await.unwrap();
    sign.show("level-2", 0).await.unwrap();
    assert!(
        sign.show("level/3", 1).await.is_err(),
        "a zone with '/' is a config error"
    );
    wait_until(|| sim.sign("level-2") == Some(0)).await;

    let line = mosquitto_sub_one(broker.port(), "gatehouse/north/signs/level-1").await;
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v, serde_json::json!({"free": 42, "full": false}));
    let line = mosquitto_sub_one(broker.port(), "gatehouse/north/signs/level-2").await;
    let v: serde_json::Value = serde_json::from_str(&line).unwrap();
    assert_eq!(v, serde_json::json!({"free": 0, "full": true}));
}

async fn wait_until(mut f: impl FnMut() -> bool) {
    for _ in 0..100 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("condition not met within 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_restart_goes_offline_then_recovers_and_delivers_the_sign_set_meanwhile() {
    let mut broker = Mosquitto::start().await.unwrap();
    let port = broker.port();
    let conn = MqttConnection::start(config(&broker)).unwrap();
    let mut readings = conn.readings();
    wait_health(&conn, HealthState::Ok, Duration::from_secs(5)).await;
    let sign = conn.count_sign();
    sign.show("P1", 10).await.unwrap();

    broker.stop();
    let reason = wait_health(&conn, HealthState::Offline, Duration::from_secs(5)).await;
    assert!(
        reason.contains(&port.to_string()),
        "reason names the broker: {reason}"
    );

    // Set while the broker is down: only the last one per zone may show up.
    sign.show("P1", 5).await.unwrap();
    sign.show("P1", 4).await.unwrap();
    sign.show("P2", 9).await.unwrap();
    assert_eq!(sign.last_shown("P1"), Some(4));

    broker.restart().await.unwrap();
    wait_health(&conn, HealthState::Ok, Duration::from_secs(10)).await;

    // The broker lost everything (no persistence): these came from the driver after reconnect.
    let sim = LotSim::connect("127.0.0.1", port, LOT).await.unwrap();
    wait_until(|| sim.sign("P1") == Some(4) && sim.sign("P2") == Some(9)).await;
    let line = mosquitto_sub_one(port, "gatehouse/north/signs/P1").await;
    assert_eq!(line, r#"{"free":4,"full":false}"#);

    // Subscribed again: readings flow.
    mosquitto_pub(
        port,
        "gatehouse/north/sensors/E-05",
        br#"{"occupied":true}"#,
    )
    .await;
    let r = next_reading(&mut readings).await;
    assert_eq!((r.spot.as_str(), r.occupied), ("E-05", true));
}
