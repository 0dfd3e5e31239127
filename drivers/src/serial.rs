//! Serial ports (RS-232, RS-485 adapters, USB CDC) and pseudo-terminal pairs for simulators.

use crate::health::{DriverError, Result};
use std::path::{Path, PathBuf};
use tokio_serial::{SerialPortBuilderExt, SerialStream};

/// Opens a serial port at a baud rate, 8N1, no flow control.
pub fn open(path: &Path, baud: u32) -> Result<SerialStream> {
    tokio_serial::new(path.to_string_lossy(), baud)
        .data_bits(tokio_serial::DataBits::Eight)
        .parity(tokio_serial::Parity::None)
        .stop_bits(tokio_serial::StopBits::One)
        .flow_control(tokio_serial::FlowControl::None)
        .open_native_async()
        .map_err(|e| {
            DriverError::io(format!(
                "cannot open serial port {} at {baud} baud: {e}; check the device path and that no other program holds it",
                path.display()
            ))
        })
}

/// A pseudo-terminal pair: the simulator keeps the master side; a driver opens `path`, the slave
/// side, exactly as it would open a real serial port.
pub struct PtyPair {
    pub master: SerialStream,
    /// Keeps the slave side open, so the master does not see a hang-up before the driver opens it.
    _slave: SerialStream,
    pub path: PathBuf,
}

/// Opens a new pseudo-terminal pair.
pub fn pty_pair() -> Result<PtyPair> {
    let (master, slave) = SerialStream::pair()
        .map_err(|e| DriverError::io(format!("cannot open a pseudo-terminal pair: {e}")))?;
    let path = slave_path(&slave)?;
    Ok(PtyPair {
        master,
        _slave: slave,
        path,
    })
}

#[cfg(unix)]
fn slave_path(slave: &SerialStream) -> Result<PathBuf> {
    use std::os::fd::AsRawFd;
    let fd = slave.as_raw_fd();
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .map_err(|e| DriverError::io(format!("cannot find the pseudo-terminal's path: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn a_driver_opens_the_pty_path_like_a_serial_port_and_talks_to_the_simulator() {
        let mut pair = pty_pair().unwrap();
        let mut port = open(&pair.path, 9600).unwrap();
        port.write_all(b"hello\n").await.unwrap();
        let mut buf = [0u8; 6];
        pair.master.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"hello\n");
        pair.master.write_all(b"back").await.unwrap();
        let mut buf = [0u8; 4];
        port.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"back");
    }
}
