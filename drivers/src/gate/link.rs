//! The Modbus connection to a board, over RTU (serial) or TCP, opened on first use and dropped
//! after any transport or protocol failure so the next request reconnects.

use crate::health::{DriverError, Result, within};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::Mutex;
use tokio_modbus::client::{Client, Context};
use tokio_modbus::{Request, Response, Slave};

/// How the driver reaches the board.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Transport {
    /// Modbus RTU over a serial port (an RS-485 adapter), 8N1.
    Rtu { path: PathBuf, baud: u32 },
    /// Modbus TCP, `host:port` (port 502 on most boards).
    Tcp { address: String },
}

impl fmt::Display for Transport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Transport::Rtu { path, baud } => write!(f, "{} at {baud} baud", path.display()),
            Transport::Tcp { address } => write!(f, "tcp {address}"),
        }
    }
}

impl Transport {
    /// Checks the settings before any I/O.
    pub fn validate(&self) -> Result<()> {
        match self {
            Transport::Rtu { path, baud } => {
                if path.as_os_str().is_empty() {
                    return Err(DriverError::config(
                        "transport: path is empty; set the serial port, e.g. /dev/ttyUSB0",
                    ));
                }
                if !(300..=1_000_000).contains(baud) {
                    return Err(DriverError::config(format!(
                        "transport: baud {baud} is not a serial speed; use the board's setting, e.g. 9600 or 19200"
                    )));
                }
            }
            Transport::Tcp { address } => {
                let ok = address
                    .rsplit_once(':')
                    .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok());
                if !ok {
                    return Err(DriverError::config(format!(
                        "transport: address {address:?} is not host:port, e.g. 192.168.1.20:502"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// One board connection shared by a driver's poll task and its commands.
pub(crate) struct Link {
    transport: Transport,
    unit: u8,
    timeout: Duration,
    ctx: Mutex<Option<Context>>,
}

impl Link {
    pub(crate) fn new(transport: Transport, unit: u8, timeout: Duration) -> Link {
        Link {
            transport,
            unit,
            timeout,
            ctx: Mutex::new(None),
        }
    }

    pub(crate) fn transport(&self) -> &Transport {
        &self.transport
    }

    async fn connect(&self) -> Result<Context> {
        let slave = Slave(self.unit);
        match &self.transport {
            Transport::Rtu { path, baud } => {
                use tokio_serial::SerialPort;
                let port = crate::serial::open(path, *baud)?;
                // Stale bytes from before a reconnect would be taken for the next answer.
                if let Err(e) = port.clear(tokio_serial::ClearBuffer::All) {
                    tracing::warn!(error = %e, "cannot flush the serial port");
                }
                Ok(tokio_modbus::client::rtu::attach_slave(port, slave))
            }
            Transport::Tcp { address } => {
                let stream = within(self.timeout, "connect", async {
                    tokio::net::TcpStream::connect(address.as_str())
                        .await
                        .map_err(|e| DriverError::io(format!("cannot connect: {e}")))
                })
                .await?;
                if let Err(e) = stream.set_nodelay(true) {
                    tracing::warn!(error = %e, "cannot set TCP_NODELAY");
                }
                Ok(tokio_modbus::client::tcp::attach_slave(stream, slave))
            }
        }
    }

    /// Sends one request and returns the board's answer. A Modbus exception is a `Device` error
    /// (the link stays up); anything else drops the link so the next call reconnects.
    pub(crate) async fn call(&self, what: &str, req: Request<'static>) -> Result<Response> {
        let mut guard = self.ctx.lock().await;
        let result = async {
            if guard.is_none() {
                *guard = Some(self.connect().await?);
            }
            let Some(ctx) = guard.as_mut() else {
                return Err(DriverError::io("not connected"));
            };
            within(self.timeout, what, async {
                match ctx.call(req).await {
                    Ok(Ok(rsp)) => Ok(Ok(rsp)),
                    Ok(Err(exception)) => Ok(Err(exception)),
                    Err(tokio_modbus::Error::Transport(e)) => {
                        Err(DriverError::io(format!("{what}: {e}")))
                    }
                    Err(tokio_modbus::Error::Protocol(e)) => Err(DriverError::protocol(format!(
                        "{what}: unexpected answer: {e}"
                    ))),
                }
            })
            .await
        }
        .await;
        match result {
            Ok(Ok(rsp)) => Ok(rsp),
            Ok(Err(exception)) => Err(DriverError::device(format!(
                "board at {} refused {what}: {exception}; check the addresses in the map",
                self.transport
            ))),
            Err(e) => {
                *guard = None;
                Err(DriverError::new(
                    e.kind,
                    format!(
                        "board at {} (unit {}): {}; check power and cable",
                        self.transport, self.unit, e.message
                    ),
                ))
            }
        }
    }
}
