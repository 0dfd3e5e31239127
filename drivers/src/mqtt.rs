//! Occupancy sensors and count signs over MQTT.
//!
//! One [`MqttConnection`] per broker: it subscribes to the lot's sensor topics (and, if configured,
//! to The Things Stack v3 uplinks), turns payloads into [`SensorReading`]s on a broadcast channel,
//! and hands out [`MqttCountSign`]s that publish the free-space count per zone.
//!
//! Topics (`{lot}`, `{spot}`, `{zone}` are single topic levels):
//! - `gatehouse/{lot}/sensors/{spot}`: `{"occupied": bool, "battery": 0..=100 (optional),
//!   "at": RFC 3339 (optional)}`, sent by a sensor gateway.
//! - `v3/{app}@{tenant}/devices/{device_id}/up`: a The Things Stack uplink; the device is mapped
//!   to a spot and `uplink_message.decoded_payload.{field}` (default `occupied`) is the presence.
//! - `gatehouse/{lot}/signs/{zone}`: `{"free": n, "full": bool}`, retained, QoS 1.
//!
//! The event loop runs in a task: keep-alive pings, reconnect with backoff after the broker goes
//! away, re-subscribe on every connect (clean sessions), and the last count per zone re-published
//! after a reconnect, so a sign shows what was set while the broker was down.

use crate::health::{DriverError, Health, HealthState, HealthWatch, Result};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, SubscribeReasonCode};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::sync::{broadcast, watch};

pub mod sim;

/// Payloads larger than this are not sensor readings; they are logged and skipped.
pub const MAX_PAYLOAD: usize = 8 * 1024;

/// One sensor's report: is the spot taken, when, and how full its battery is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SensorReading {
    pub spot: String,
    pub occupied: bool,
    /// When the sensor saw it (the payload's time), or when it was received.
    pub at: DateTime<Utc>,
    /// Battery charge in percent, if the sensor reports it.
    pub battery: Option<u8>,
}

pub use crate::CountSign;

/// The Things Stack v3 uplinks: which application to listen to and which device is which spot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TtsConfig {
    pub app: String,
    pub tenant: String,
    /// The boolean in `decoded_payload` that says the spot is taken (default `occupied`).
    pub field: String,
    /// Device id (`end_device_ids.device_id`) to spot.
    pub devices: HashMap<String, String>,
}

impl TtsConfig {
    pub fn new(app: impl Into<String>, tenant: impl Into<String>) -> TtsConfig {
        TtsConfig {
            app: app.into(),
            tenant: tenant.into(),
            field: "occupied".into(),
            devices: HashMap::new(),
        }
    }
    /// The topic filter for this application's uplinks.
    pub fn topic_filter(&self) -> String {
        format!("v3/{}@{}/devices/+/up", self.app, self.tenant)
    }
}

/// Where the broker is and what to listen to.
#[derive(Debug, Clone)]
pub struct MqttConfig {
    pub host: String,
    pub port: u16,
    /// Must be unique on the broker: a second client with the same id pushes the first one off.
    pub client_id: String,
    /// User name and password, if the broker wants them.
    pub credentials: Option<(String, String)>,
    pub lot: String,
    /// At least one second.
    pub keep_alive: Duration,
    /// The longest wait between reconnect attempts (the wait doubles from 200 ms up to this).
    pub reconnect_max: Duration,
    pub tts: Option<TtsConfig>,
}

impl MqttConfig {
    /// Defaults: a client id made from the lot and process id, 10 s keep-alive, reconnect at
    /// most every 10 s, no credentials, no The Things Stack uplinks.
    pub fn new(host: impl Into<String>, port: u16, lot: impl Into<String>) -> MqttConfig {
        let lot = lot.into();
        MqttConfig {
            host: host.into(),
            port,
            client_id: unique_client_id(&format!("gatehouse-{lot}")),
            credentials: None,
            lot,
            keep_alive: Duration::from_secs(10),
            reconnect_max: Duration::from_secs(10),
            tts: None,
        }
    }
}

pub(crate) fn unique_client_id(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}-{}-{n}", std::process::id())
}

/// A single MQTT topic level (lot, spot, zone): not empty, no `/`, `+` or `#`.
fn check_level(what: &str, s: &str) -> Result<()> {
    if s.is_empty() || s.contains(['/', '+', '#', '\0']) {
        return Err(DriverError::config(format!(
            "{what} {s:?} cannot be used in an MQTT topic; use a name without '/', '+', '#'"
        )));
    }
    Ok(())
}

/// Makes the payload a sensor gateway sends on `gatehouse/{lot}/sensors/{spot}`.
pub fn sensor_payload(occupied: bool, battery: Option<u8>, at: Option<DateTime<Utc>>) -> Vec<u8> {
    let mut m = serde_json::Map::new();
    m.insert("occupied".into(), Value::Bool(occupied));
    if let Some(b) = battery {
        m.insert("battery".into(), Value::from(b));
    }
    if let Some(at) = at {
        m.insert("at".into(), Value::String(at.to_rfc3339()));
    }
    Value::Object(m).to_string().into_bytes()
}

/// Reads a `gatehouse/{lot}/sensors/{spot}` payload; `now` is used when it carries no time.
pub fn parse_sensor_payload(
    spot: &str,
    payload: &[u8],
    now: DateTime<Utc>,
) -> Result<SensorReading> {
    let v = json_object(payload)?;
    let occupied = v
        .get("occupied")
        .and_then(Value::as_bool)
        .ok_or_else(|| DriverError::protocol("sensor payload has no boolean \"occupied\""))?;
    let battery = match v.get("battery") {
        None | Some(Value::Null) => None,
        Some(b) => Some(percent(b).ok_or_else(|| {
            DriverError::protocol(format!("sensor battery {b} is not a percentage 0..100"))
        })?),
    };
    let at = match v.get("at") {
        None | Some(Value::Null) => now,
        Some(Value::String(s)) => parse_time(s)?,
        Some(other) => {
            return Err(DriverError::protocol(format!(
                "sensor time {other} is not an RFC 3339 string"
            )));
        }
    };
    Ok(SensorReading {
        spot: spot.to_string(),
        occupied,
        at,
        battery,
    })
}

/// Reads a The Things Stack v3 uplink and maps its device to a spot.
pub fn parse_tts_uplink(
    tts: &TtsConfig,
    payload: &[u8],
    now: DateTime<Utc>,
) -> Result<SensorReading> {
    let v = json_object(payload)?;
    let device = v
        .pointer("/end_device_ids/device_id")
        .and_then(Value::as_str)
        .ok_or_else(|| DriverError::protocol("uplink has no end_device_ids.device_id"))?;
    let spot = tts.devices.get(device).ok_or_else(|| {
        DriverError::config(format!(
            "uplink from device {device:?}, which is not in the device map; add it with its spot"
        ))
    })?;
    let decoded = v
        .pointer("/uplink_message/decoded_payload")
        .and_then(Value::as_object)
        .ok_or_else(|| {
            DriverError::protocol(format!(
                "uplink from {device:?} has no uplink_message.decoded_payload; check the payload formatter"
            ))
        })?;
    let occupied = match decoded.get(&tts.field) {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) if n.as_u64() == Some(0) => false,
        Some(Value::Number(n)) if n.as_u64() == Some(1) => true,
        other => {
            return Err(DriverError::protocol(format!(
                "uplink from {device:?}: decoded_payload.{} is {}, not a boolean",
                tts.field,
                other.map_or("missing".to_string(), Value::to_string)
            )));
        }
    };
    let at = match v.get("received_at").and_then(Value::as_str) {
        Some(s) => parse_time(s)?,
        None => now,
    };
    Ok(SensorReading {
        spot: spot.clone(),
        occupied,
        at,
        battery: decoded.get("battery").and_then(percent),
    })
}

/// Makes the payload for a count sign: `{"free": n, "full": bool}`.
pub fn sign_payload(free: u32) -> Vec<u8> {
    serde_json::json!({ "free": free, "full": free == 0 })
        .to_string()
        .into_bytes()
}

/// Reads a count sign payload back: the number of free spaces.
pub fn parse_sign_payload(payload: &[u8]) -> Result<u32> {
    let v = json_object(payload)?;
    v.get("free")
        .and_then(Value::as_u64)
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| DriverError::protocol("sign payload has no count \"free\""))
}

fn json_object(payload: &[u8]) -> Result<Value> {
    if payload.len() > MAX_PAYLOAD {
        return Err(DriverError::protocol(format!(
            "payload of {} bytes is larger than {MAX_PAYLOAD}",
            payload.len()
        )));
    }
    match serde_json::from_slice(payload) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(DriverError::protocol("payload is JSON but not an object")),
        Err(e) => Err(DriverError::protocol(format!("payload is not JSON: {e}"))),
    }
}

fn percent(v: &Value) -> Option<u8> {
    let f = v.as_f64()?;
    (0.0..=100.0).contains(&f).then(|| f.round() as u8)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| DriverError::protocol(format!("time {s:?} is not RFC 3339: {e}")))
}

/// What the event loop and the sign handles share: are we connected, and the last count per zone.
#[derive(Debug, Default)]
struct Signs {
    online: bool,
    last: BTreeMap<String, u32>,
}

fn lock(signs: &Mutex<Signs>) -> MutexGuard<'_, Signs> {
    signs.lock().unwrap_or_else(|p| p.into_inner())
}

/// A connection to the lot's MQTT broker: sensor readings in, count signs out.
pub struct MqttConnection {
    client: AsyncClient,
    health: HealthWatch,
    readings: broadcast::Sender<SensorReading>,
    signs: Arc<Mutex<Signs>>,
    lot: String,
    task: tokio::task::JoinHandle<()>,
}

impl MqttConnection {
    /// Starts the connection in the background (call inside a tokio runtime); health is offline
    /// until the broker has accepted it, degraded while subscribing, ok once readings can arrive.
    pub fn start(config: MqttConfig) -> Result<MqttConnection> {
        check_level("lot", &config.lot)?;
        if let Some(tts) = &config.tts {
            check_level("The Things Stack application", &tts.app)?;
            check_level("The Things Stack tenant", &tts.tenant)?;
        }
        if config.keep_alive < Duration::from_secs(1) {
            return Err(DriverError::config(
                "MQTT keep-alive must be at least one second",
            ));
        }
        if config.client_id.is_empty() || config.client_id.starts_with(char::is_whitespace) {
            return Err(DriverError::config("MQTT client id must not be empty"));
        }
        let mut options = MqttOptions::new(&config.client_id, &config.host, config.port);
        options.set_keep_alive(config.keep_alive);
        options.set_clean_session(true);
        // Accept big packets at the protocol level so one rogue sensor cannot cut the connection;
        // readings above MAX_PAYLOAD are skipped one by one.
        options.set_max_packet_size(1024 * 1024, 64 * 1024);
        if let Some((user, pass)) = &config.credentials {
            options.set_credentials(user, pass);
        }
        let (client, eventloop) = AsyncClient::new(options, 256);
        let health = HealthWatch::new(format!(
            "connecting to MQTT broker {}:{}",
            config.host, config.port
        ));
        let (readings, _) = broadcast::channel(256);
        let signs = Arc::new(Mutex::new(Signs::default()));
        let lot = config.lot.clone();
        let task = tokio::spawn(run(
            eventloop,
            Loop {
                client: client.clone(),
                health: health.clone(),
                readings: readings.clone(),
                signs: signs.clone(),
                config,
            },
        ));
        Ok(MqttConnection {
            client,
            health,
            readings,
            signs,
            lot,
            task,
        })
    }

    /// Sensor readings from now on.
    pub fn readings(&self) -> broadcast::Receiver<SensorReading> {
        self.readings.subscribe()
    }

    pub fn health(&self) -> Health {
        self.health.current()
    }

    /// Health changes (ok when the broker accepted us, offline with the reason otherwise).
    pub fn health_changes(&self) -> watch::Receiver<Health> {
        self.health.subscribe()
    }

    /// A handle that publishes this lot's count signs.
    pub fn count_sign(&self) -> MqttCountSign {
        MqttCountSign {
            client: self.client.clone(),
            signs: self.signs.clone(),
            lot: self.lot.clone(),
        }
    }
}

impl Drop for MqttConnection {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Count signs listening on `gatehouse/{lot}/signs/{zone}`.
#[derive(Clone)]
pub struct MqttCountSign {
    client: AsyncClient,
    signs: Arc<Mutex<Signs>>,
    lot: String,
}

impl MqttCountSign {
    /// The count last given for `zone`.
    pub fn last_shown(&self, zone: &str) -> Option<u32> {
        lock(&self.signs).last.get(zone).copied()
    }
}

#[async_trait]
impl CountSign for MqttCountSign {
    /// Publishes the count retained with QoS 1. While the broker is down the count is kept and
    /// published when it is back (the last count per zone wins); this still returns Ok.
    async fn show(&self, zone: &str, free: u32) -> Result<()> {
        check_level("zone", zone)?;
        let mut signs = lock(&self.signs);
        signs.last.insert(zone.to_string(), free);
        if !signs.online {
            tracing::info!(
                zone,
                free,
                "MQTT broker offline; sign count kept for reconnect"
            );
            return Ok(());
        }
        self.client
            .try_publish(
                sign_topic(&self.lot, zone),
                QoS::AtLeastOnce,
                true,
                sign_payload(free),
            )
            .map_err(|e| {
                DriverError::io(format!(
                    "cannot queue count for sign {zone}: {e}; it is sent after the next reconnect"
                ))
            })
    }
}

fn sign_topic(lot: &str, zone: &str) -> String {
    format!("gatehouse/{lot}/signs/{zone}")
}

struct Loop {
    client: AsyncClient,
    health: HealthWatch,
    readings: broadcast::Sender<SensorReading>,
    signs: Arc<Mutex<Signs>>,
    config: MqttConfig,
}

const FIRST_RETRY: Duration = Duration::from_millis(200);

async fn run(mut eventloop: EventLoop, l: Loop) {
    let sensors = format!("gatehouse/{}/sensors/+", l.config.lot);
    let broker = format!("{}:{}", l.config.host, l.config.port);
    let mut backoff = FIRST_RETRY;
    let mut awaiting_subacks = 0usize;
    loop {
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                backoff = FIRST_RETRY;
                // Clean session: the broker forgot our subscriptions, so ask again every time.
                let mut topics = vec![sensors.clone()];
                topics.extend(l.config.tts.as_ref().map(TtsConfig::topic_filter));
                awaiting_subacks = topics.len();
                for t in topics {
                    if let Err(e) = l.client.try_subscribe(&t, QoS::AtLeastOnce) {
                        tracing::warn!(topic = %t, error = %e, "cannot queue MQTT subscription");
                    }
                }
                let mut signs = lock(&l.signs);
                signs.online = true;
                // Queued after anything left from the lost session, so the last count wins.
                for (zone, free) in &signs.last {
                    let topic = sign_topic(&l.config.lot, zone);
                    if let Err(e) =
                        l.client
                            .try_publish(topic, QoS::AtLeastOnce, true, sign_payload(*free))
                    {
                        tracing::warn!(zone, error = %e, "cannot queue sign count after reconnect");
                    }
                }
                drop(signs);
                l.health.set(
                    HealthState::Degraded,
                    format!("connected to MQTT broker {broker}, subscribing"),
                );
            }
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                if ack.return_codes.contains(&SubscribeReasonCode::Failure) {
                    awaiting_subacks = usize::MAX;
                    l.health.set(
                        HealthState::Degraded,
                        format!(
                            "MQTT broker {broker} refused a subscription; check its ACL for the sensor topics"
                        ),
                    );
                } else if awaiting_subacks != usize::MAX {
                    awaiting_subacks = awaiting_subacks.saturating_sub(1);
                    if awaiting_subacks == 0 {
                        // Connected and listening: readings can arrive.
                        l.health.ok();
                    }
                }
            }
            Ok(Event::Incoming(Packet::Publish(p))) => l.handle(&p.topic, &p.payload),
            Ok(_) => {}
            Err(e) => {
                lock(&l.signs).online = false;
                l.health.set(
                    HealthState::Offline,
                    format!("MQTT broker {broker} not reachable: {e}; reconnecting"),
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(l.config.reconnect_max.max(FIRST_RETRY));
            }
        }
    }
}

impl Loop {
    fn handle(&self, topic: &str, payload: &[u8]) {
        match route(&self.config, topic, payload, Utc::now()) {
            Some(Ok(reading)) => {
                tracing::debug!(?reading, "sensor reading");
                // No receiver is fine: nobody is watching yet.
                let _ = self.readings.send(reading);
            }
            Some(Err(e)) => {
                tracing::warn!(topic, bytes = payload.len(), error = %e, "sensor message skipped");
            }
            None => tracing::debug!(topic, "message on a topic we do not read"),
        }
    }
}

/// Turns a message into a reading: `None` if the topic is not a sensor topic of this lot.
fn route(
    config: &MqttConfig,
    topic: &str,
    payload: &[u8],
    now: DateTime<Utc>,
) -> Option<Result<SensorReading>> {
    let prefix = format!("gatehouse/{}/sensors/", config.lot);
    if let Some(spot) = topic.strip_prefix(&prefix) {
        if spot.is_empty() || spot.contains('/') {
            return None;
        }
        return Some(parse_sensor_payload(spot, payload, now));
    }
    let tts = config.tts.as_ref()?;
    let prefix = format!("v3/{}@{}/devices/", tts.app, tts.tenant);
    let device = topic.strip_prefix(&prefix)?.strip_suffix("/up")?;
    if device.contains('/') {
        return None;
    }
    Some(parse_tts_uplink(tts, payload, now))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use proptest::prelude::*;

    fn config() -> MqttConfig {
        let mut c = MqttConfig::new("127.0.0.1", 1, "north");
        let mut tts = TtsConfig::new("lot-sensors", "ttn");
        tts.devices.insert("eui-01".into(), "A-01".into());
        c.tts = Some(tts);
        c
    }

    #[test]
    fn sensor_payload_round_trips() {
        let at = DateTime::parse_from_rfc3339("2025-03-01T08:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let p = sensor_payload(true, Some(87), Some(at));
        let r = parse_sensor_payload("B-7", &p, Utc::now()).unwrap();
        assert_eq!(
            r,
            SensorReading {
                spot: "B-7".into(),
                occupied: true,
                at,
                battery: Some(87)
            }
        );
        assert_eq!(parse_sign_payload(&sign_payload(12)).unwrap(), 12);
    }

    #[test]
    fn wrong_types_are_protocol_errors() {
        let now = Utc::now();
        for bad in [
            &br#"{"occupied":"yes"}"#[..],
            br#"{"occupied":true,"battery":"full"}"#,
            br#"{"occupied":true,"battery":140}"#,
            br#"{"occupied":true,"at":12}"#,
            br#"[true]"#,
            b"\xff\x00",
        ] {
            let e = parse_sensor_payload("A", bad, now).unwrap_err();
            assert_eq!(e.kind, crate::ErrorKind::Protocol, "{bad:?}");
        }
    }

    #[test]
    fn routes_only_this_lots_topics() {
        let c = config();
        let now = Utc::now();
        let p = sensor_payload(false, None, None);
        assert!(route(&c, "gatehouse/north/sensors/A-1", &p, now).is_some());
        assert!(route(&c, "gatehouse/south/sensors/A-1", &p, now).is_none());
        assert!(route(&c, "gatehouse/north/sensors/A/1", &p, now).is_none());
        let up = br#"{"end_device_ids":{"device_id":"eui-01"},"uplink_message":{"decoded_payload":{"occupied":1}}}"#;
        let r = route(&c, "v3/lot-sensors@ttn/devices/eui-01/up", up, now)
            .unwrap()
            .unwrap();
        assert_eq!((r.spot.as_str(), r.occupied, r.at), ("A-01", true, now));
    }

    proptest! {
        #[test]
        fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let c = config();
            let now = Utc::now();
            let _ = parse_sensor_payload("A", &bytes, now);
            let _ = parse_tts_uplink(c.tts.as_ref().unwrap(), &bytes, now);
            let _ = parse_sign_payload(&bytes);
            let _ = route(&c, "gatehouse/north/sensors/A", &bytes, now);
        }

        #[test]
        fn json_shaped_garbage_never_panics(
            occ in prop_oneof![Just("true".to_string()), Just("1".to_string()), "[a-z0-9\"{}]{0,8}"],
            battery in "[-0-9.e\"a-z]{0,8}",
            at in "[-0-9TZ:+. a-z]{0,32}",
        ) {
            let s = format!(r#"{{"occupied":{occ},"battery":{battery},"at":"{at}"}}"#);
            let _ = parse_sensor_payload("A", s.as_bytes(), Utc::now());
            let up = format!(r#"{{"end_device_ids":{{"device_id":"eui-01"}},"received_at":"{at}","uplink_message":{{"decoded_payload":{{"occupied":{occ},"battery":{battery}}}}}}}"#);
            let _ = parse_tts_uplink(config().tts.as_ref().unwrap(), up.as_bytes(), Utc::now());
        }
    }
}
