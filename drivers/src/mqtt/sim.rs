//! A lot's MQTT field devices for tests and the demo: a real mosquitto broker on a free loopback
//! port, and [`LotSim`], which publishes sensor readings (as a sensor gateway or as The Things
//! Stack would) and records what the count signs were told to show.

use super::{SensorReading, sensor_payload, unique_client_id};
use crate::health::{DriverError, Result};
use chrono::{DateTime, Utc};
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A mosquitto broker on `127.0.0.1:port`, anonymous, no persistence. Killed when dropped.
pub struct Mosquitto {
    port: u16,
    config: PathBuf,
    child: Option<Child>,
}

impl Mosquitto {
    /// Starts mosquitto on a free loopback port and waits until it accepts connections.
    pub async fn start() -> Result<Mosquitto> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| DriverError::io(format!("cannot find a free loopback port: {e}")))?
            .port();
        Mosquitto::start_on(port).await
    }

    /// Starts mosquitto on `port` (the same port again after [`Mosquitto::stop`]).
    pub async fn start_on(port: u16) -> Result<Mosquitto> {
        let config = std::env::temp_dir().join(format!(
            "gatehouse-mosquitto-{}-{port}.conf",
            std::process::id()
        ));
        std::fs::write(
            &config,
            format!(
                "listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\nlog_dest stderr\n"
            ),
        )
        .map_err(|e| DriverError::io(format!("cannot write {}: {e}", config.display())))?;
        let mut m = Mosquitto {
            port,
            config,
            child: None,
        };
        m.restart().await?;
        Ok(m)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the broker (like a power cut: no goodbye to the clients).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the broker again on the same port; waits until it accepts connections.
    pub async fn restart(&mut self) -> Result<()> {
        self.stop();
        let bin = ["/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap_or_else(|| PathBuf::from("mosquitto"));
        let child = Command::new(&bin)
            .arg("-c")
            .arg(&self.config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| {
                DriverError::io(format!(
                    "cannot start {}: {e}; install mosquitto",
                    bin.display()
                ))
            })?;
        self.child = Some(child);
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return Ok(());
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                return Err(DriverError::io(format!(
                    "mosquitto on port {} exited at start ({status}); is the port taken?",
                    self.port
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(DriverError::timeout(format!(
            "mosquitto did not listen on port {} within 5 s",
            self.port
        )))
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_file(&self.config);
    }
}

/// The sensors and signs of one lot, on a broker.
pub struct LotSim {
    client: AsyncClient,
    lot: String,
    signs: Arc<Mutex<BTreeMap<String, Vec<u8>>>>,
    task: tokio::task::JoinHandle<()>,
}

impl LotSim {
    /// Connects to the broker (waits for it to accept us) and listens to the lot's signs.
    pub async fn connect(host: &str, port: u16, lot: &str) -> Result<LotSim> {
        let mut options = MqttOptions::new(unique_client_id("gatehouse-lotsim"), host, port);
        options.set_keep_alive(Duration::from_secs(5));
        let (client, mut eventloop) = AsyncClient::new(options, 256);
        let signs = Arc::new(Mutex::new(BTreeMap::new()));
        let (ready_tx, ready) = tokio::sync::oneshot::channel();
        let prefix = format!("gatehouse/{lot}/signs/");
        let filter = format!("{prefix}+");
        let (c, s) = (client.clone(), signs.clone());
        let task = tokio::spawn(async move {
            let mut ready_tx = Some(ready_tx);
            loop {
                match eventloop.poll().await {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = c.try_subscribe(&filter, QoS::AtLeastOnce);
                    }
                    Ok(Event::Incoming(Packet::SubAck(_))) => {
                        if let Some(tx) = ready_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if let Some(zone) = p.topic.strip_prefix(&prefix) {
                            s.lock()
                                .unwrap_or_else(|p| p.into_inner())
                                .insert(zone.to_string(), p.payload.to_vec());
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(error = %e, "lot simulator lost the broker; retrying");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        let sim = LotSim {
            client,
            lot: lot.to_string(),
            signs,
            task,
        };
        crate::health::within(Duration::from_secs(5), "lot simulator connecting", async {
            ready
                .await
                .map_err(|_| DriverError::io("lot simulator stopped"))
        })
        .await?;
        Ok(sim)
    }

    /// A sensor gateway reports a spot (`gatehouse/{lot}/sensors/{spot}`).
    pub async fn sensor(&self, spot: &str, occupied: bool, battery: Option<u8>) -> Result<()> {
        let topic = format!("gatehouse/{}/sensors/{spot}", self.lot);
        self.raw(&topic, sensor_payload(occupied, battery, Some(Utc::now())))
            .await
    }

    /// Publishes a reading exactly as a driver would read it back.
    pub async fn reading(&self, r: &SensorReading) -> Result<()> {
        let topic = format!("gatehouse/{}/sensors/{}", self.lot, r.spot);
        self.raw(&topic, sensor_payload(r.occupied, r.battery, Some(r.at)))
            .await
    }

    /// The Things Stack forwards an uplink of `device_id` whose decoded payload has
    /// `{field: occupied, "battery": 91}`.
    pub async fn tts_uplink(
        &self,
        app: &str,
        tenant: &str,
        device_id: &str,
        field: &str,
        occupied: bool,
        received_at: DateTime<Utc>,
    ) -> Result<()> {
        let body = serde_json::json!({
            "end_device_ids": {
                "device_id": device_id,
                "application_ids": { "application_id": app },
                "dev_eui": "70B3D57ED0000001"
            },
            "received_at": received_at.to_rfc3339(),
            "uplink_message": {
                "f_port": 1,
                "frm_payload": "AQ==",
                "decoded_payload": { field: occupied, "battery": 91 },
                "rx_metadata": [{ "gateway_ids": { "gateway_id": "gw-1" }, "rssi": -97 }]
            }
        });
        let topic = format!("v3/{app}@{tenant}/devices/{device_id}/up");
        self.raw(&topic, body.to_string().into_bytes()).await
    }

    /// Publishes any payload on any topic (for garbled input).
    pub async fn raw(&self, topic: &str, payload: Vec<u8>) -> Result<()> {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .map_err(|e| DriverError::io(format!("lot simulator cannot publish: {e}")))
    }

    /// What the sign for `zone` was last told: the raw payload.
    pub fn sign_payload(&self, zone: &str) -> Option<Vec<u8>> {
        self.signs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(zone)
            .cloned()
    }

    /// The free count the sign for `zone` shows, if it got a readable one.
    pub fn sign(&self, zone: &str) -> Option<u32> {
        super::parse_sign_payload(&self.sign_payload(zone)?).ok()
    }
}

impl Drop for LotSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}
