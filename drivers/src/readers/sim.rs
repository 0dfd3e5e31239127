//! Simulated readers on the master side of a pseudo-terminal: the driver opens [`ScannerSim::path`]
//! or [`Rdm6300Sim::path`] exactly like a real serial port. Used by tests, the demo lot and
//! `gatehouse simulate`.

use super::rdm6300::CardId;
use crate::health::{DriverError, Result, within};
use crate::serial::{PtyPair, pty_pair};
use std::path::Path;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

const WRITE_LIMIT: Duration = Duration::from_secs(2);

async fn write(pty: &mut PtyPair, bytes: &[u8], what: &str) -> Result<()> {
    let io = |e: std::io::Error| DriverError::io(format!("{what}: {e}"));
    within(WRITE_LIMIT, what, async {
        pty.master.write_all(bytes).await.map_err(io)?;
        pty.master.flush().await.map_err(io)
    })
    .await
}

/// How the simulated scanner ends each scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnd {
    Cr,
    Lf,
    CrLf,
}

impl LineEnd {
    fn bytes(self) -> &'static [u8] {
        match self {
            LineEnd::Cr => b"\r",
            LineEnd::Lf => b"\n",
            LineEnd::CrLf => b"\r\n",
        }
    }
}

/// A serial QR/barcode scanner: one line per scan.
pub struct ScannerSim {
    pty: PtyPair,
    line_end: LineEnd,
    scans_sent: usize,
}

impl ScannerSim {
    /// Starts a scanner on a new pseudo-terminal (scans end with CR LF).
    pub fn start() -> Result<ScannerSim> {
        Ok(ScannerSim {
            pty: pty_pair()?,
            line_end: LineEnd::CrLf,
            scans_sent: 0,
        })
    }

    /// The port a driver opens.
    pub fn path(&self) -> &Path {
        &self.pty.path
    }

    /// Changes the line end sent after each scan.
    pub fn set_line_end(&mut self, line_end: LineEnd) {
        self.line_end = line_end;
    }

    /// Scans a code: sends `text` and the line end.
    pub async fn scan(&mut self, text: &str) -> Result<()> {
        let mut line = text.as_bytes().to_vec();
        line.extend_from_slice(self.line_end.bytes());
        write(&mut self.pty, &line, "scanner simulator: sending a scan").await?;
        self.scans_sent += 1;
        Ok(())
    }

    /// Sends raw bytes (garbage, cut-off lines) to inject faults.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        write(&mut self.pty, bytes, "scanner simulator: sending raw bytes").await
    }

    /// Scans sent so far with [`ScannerSim::scan`].
    pub fn scans_sent(&self) -> usize {
        self.scans_sent
    }
}

/// An RDM6300-style RFID reader: sends a card's frame repeatedly while it is in the field.
pub struct Rdm6300Sim {
    pty: PtyPair,
    repeats: usize,
    interval: Duration,
    frames_sent: usize,
}

impl Rdm6300Sim {
    /// Starts a reader on a new pseudo-terminal; a presented card is sent 3 times, 50 ms apart.
    pub fn start() -> Result<Rdm6300Sim> {
        Ok(Rdm6300Sim {
            pty: pty_pair()?,
            repeats: 3,
            interval: Duration::from_millis(50),
            frames_sent: 0,
        })
    }

    /// The port a driver opens (9600 baud).
    pub fn path(&self) -> &Path {
        &self.pty.path
    }

    /// How long a presented card stays in the field: `repeats` frames, `interval` apart.
    pub fn set_dwell(&mut self, repeats: usize, interval: Duration) {
        self.repeats = repeats.max(1);
        self.interval = interval;
    }

    /// Holds a card in front of the reader: sends its frame `repeats` times.
    pub async fn present_card(&mut self, card: CardId) -> Result<()> {
        for i in 0..self.repeats {
            if i > 0 {
                tokio::time::sleep(self.interval).await;
            }
            write(
                &mut self.pty,
                &card.frame(),
                "RFID simulator: sending a frame",
            )
            .await?;
            self.frames_sent += 1;
        }
        Ok(())
    }

    /// Sends raw bytes (garbage, bad checksums, cut-off frames) to inject faults.
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        write(&mut self.pty, bytes, "RFID simulator: sending raw bytes").await
    }

    /// Valid frames sent so far.
    pub fn frames_sent(&self) -> usize {
        self.frames_sent
    }
}
