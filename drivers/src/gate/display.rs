//! Count signs: the free-space number per zone.

use super::link::{Link, Transport};
use super::map::{check_range, check_unit_id};
use crate::CountSign;
use crate::health::{DriverError, Health, HealthState, HealthWatch, Result};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::watch;
use tokio_modbus::Request;

/// Which holding register shows which zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CountDisplayMap {
    pub unit_id: u8,
    /// Zone name → holding register address.
    pub zones: BTreeMap<String, u16>,
    #[serde(default = "default_response_ms")]
    pub response_timeout_ms: u64,
}

fn default_response_ms() -> u64 {
    500
}

impl CountDisplayMap {
    pub fn validate(&self) -> Result<()> {
        check_unit_id("unit_id", self.unit_id)
            .map_err(|e| DriverError::config(e.message.replace("gate map", "count display map")))?;
        check_range("response_timeout_ms", self.response_timeout_ms, 20, 10_000)
            .map_err(|e| DriverError::config(e.message.replace("gate map", "count display map")))?;
        if self.zones.is_empty() {
            return Err(DriverError::config(
                "count display map: zones: empty; map each zone to its holding register",
            ));
        }
        if let Some(name) = self.zones.keys().find(|z| z.trim().is_empty()) {
            return Err(DriverError::config(format!(
                "count display map: zones: {name:?} is not a zone name"
            )));
        }
        Ok(())
    }
}

/// A count display on Modbus (RTU or TCP): one holding register per zone.
pub struct CountDisplay {
    map: CountDisplayMap,
    link: Link,
    health: HealthWatch,
}

impl CountDisplay {
    /// Validates the settings; the connection is opened on the first `show`.
    pub fn new(transport: Transport, map: CountDisplayMap) -> Result<CountDisplay> {
        transport.validate()?;
        map.validate()?;
        let health = HealthWatch::new(format!("count display at {transport}: nothing shown yet"));
        let link = Link::new(
            transport,
            map.unit_id,
            Duration::from_millis(map.response_timeout_ms),
        );
        Ok(CountDisplay { map, link, health })
    }

    pub fn health(&self) -> watch::Receiver<Health> {
        self.health.subscribe()
    }
}

#[async_trait]
impl CountSign for CountDisplay {
    async fn show(&self, zone: &str, free: u32) -> Result<()> {
        let Some(&register) = self.map.zones.get(zone) else {
            return Err(DriverError::config(format!(
                "count display at {}: no register for zone {zone:?}; add it to the display's zones",
                self.link.transport()
            )));
        };
        let value = u16::try_from(free).unwrap_or_else(|_| {
            tracing::warn!(
                zone,
                free,
                "count above what the display can show; showing 65535"
            );
            u16::MAX
        });
        let result = self
            .link
            .call(
                &format!("write register {register} ({zone})"),
                Request::WriteSingleRegister(register, value),
            )
            .await;
        match &result {
            Ok(_) => self.health.ok(),
            Err(e) => self.health.set(HealthState::Offline, &e.message),
        }
        result.map(|_| ())
    }
}
