//! Ticket/QR scanners and RFID badge readers. Every reader turns what it reads into a [`Scan`]
//! and publishes it; the lane decides what a scan means.
//!
//! Drivers: a serial line scanner ([`line`]), an RDM6300-style serial RFID reader ([`rdm6300`])
//! and a USB keyboard-wedge reader read through evdev ([`wedge`]). Each runs a background task
//! that reads the port, logs and skips garbled input, and reopens the port with backoff after a
//! cable pull (health offline with the reason, ok again once the port is back).

pub mod line;
pub mod rdm6300;
pub mod sim;
pub mod wedge;

pub use line::{LineError, LineSplitter};
pub use rdm6300::{CardId, FrameError, Rdm6300Decoder};
pub use wedge::{KeyTranslator, WedgeError};

use crate::health::{DriverError, Health, HealthState, HealthWatch, Result, within};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::{broadcast, watch};
use tokio::task::JoinHandle;

/// What kind of reader produced a scan.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanSource {
    /// A ticket QR code or barcode.
    QrOrBarcode,
    /// An RFID badge (text: see [`CardId`]) or a badge typed by a wedge reader.
    Badge,
}

/// One read: the text as the reader delivered it (trimmed), and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Scan {
    pub source: ScanSource,
    /// The code as read; for an RDM6300 badge the 10 hex digits of [`CardId::hex`].
    pub text: String,
    /// When the driver received it.
    pub at: DateTime<Utc>,
}

/// A running reader.
pub trait Reader: Send + Sync {
    /// Scans from now on.
    fn scans(&self) -> broadcast::Receiver<Scan>;
    /// The reader's health (offline with the reason while its port is missing).
    fn health(&self) -> watch::Receiver<Health>;
}

/// First wait before reopening a lost port; doubles up to [`REOPEN_MAX`].
pub const REOPEN_FIRST: Duration = Duration::from_millis(200);
/// Longest wait between attempts to reopen a lost port.
pub const REOPEN_MAX: Duration = Duration::from_secs(5);
/// With no input for this long, the driver checks that the device node still exists.
pub const IDLE_CHECK: Duration = Duration::from_secs(2);

/// A serial QR/barcode scanner that sends one line per scan.
#[derive(Debug, Clone)]
pub struct LineScannerConfig {
    pub path: PathBuf,
    pub baud: u32,
    /// Longest line in bytes; longer lines are skipped.
    pub max_line: usize,
    pub source: ScanSource,
}

impl LineScannerConfig {
    /// 9600 baud, 512-byte lines, QR/barcode scans.
    pub fn new(path: impl Into<PathBuf>) -> LineScannerConfig {
        LineScannerConfig {
            path: path.into(),
            baud: 9600,
            max_line: line::DEFAULT_MAX_LINE,
            source: ScanSource::QrOrBarcode,
        }
    }
}

/// An RDM6300-style RFID reader.
#[derive(Debug, Clone)]
pub struct Rdm6300Config {
    pub path: PathBuf,
    pub baud: u32,
    /// The same card again within this time is one scan.
    pub repeat_window: Duration,
}

impl Rdm6300Config {
    /// 9600 baud, repeats within 1 s suppressed.
    pub fn new(path: impl Into<PathBuf>) -> Rdm6300Config {
        Rdm6300Config {
            path: path.into(),
            baud: rdm6300::BAUD,
            repeat_window: rdm6300::DEFAULT_REPEAT_WINDOW,
        }
    }
}

/// A USB keyboard-wedge reader.
#[derive(Debug, Clone)]
pub struct WedgeConfig {
    /// `/dev/input/eventN`, or better the stable `/dev/input/by-id/...-event-kbd` link.
    pub path: PathBuf,
    pub source: ScanSource,
    /// Longest scan in characters.
    pub max_len: usize,
    /// Take the device exclusively so its keystrokes do not reach the console (default true).
    pub grab: bool,
}

impl WedgeConfig {
    /// Badge scans of up to 512 characters, device grabbed.
    pub fn new(path: impl Into<PathBuf>) -> WedgeConfig {
        WedgeConfig {
            path: path.into(),
            source: ScanSource::Badge,
            max_len: line::DEFAULT_MAX_LINE,
            grab: true,
        }
    }
}

/// A running reader driver: a background task reading the device. Dropping it stops the task and
/// closes the port.
pub struct ReaderDriver {
    scans: broadcast::Sender<Scan>,
    health: HealthWatch,
    task: JoinHandle<()>,
}

impl Drop for ReaderDriver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Reader for ReaderDriver {
    fn scans(&self) -> broadcast::Receiver<Scan> {
        self.scans.subscribe()
    }
    fn health(&self) -> watch::Receiver<Health> {
        self.health.subscribe()
    }
}

/// Where a driver sends its scans.
#[derive(Clone)]
struct Out {
    scans: broadcast::Sender<Scan>,
    health: HealthWatch,
    source: ScanSource,
    path: PathBuf,
}

impl Out {
    fn publish(&self, text: String) {
        tracing::info!(port = %self.path.display(), %text, "scan");
        // No subscriber yet is not an error: nobody is waiting for this scan.
        let _ = self.scans.send(Scan {
            source: self.source,
            text,
            at: Utc::now(),
        });
    }
}

impl ReaderDriver {
    fn spawn<F, Fut>(path: &Path, source: ScanSource, run: F) -> ReaderDriver
    where
        F: FnOnce(Out) -> Fut,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let scans = broadcast::channel(64).0;
        let health = HealthWatch::new(format!("reader at {} not opened yet", path.display()));
        let out = Out {
            scans: scans.clone(),
            health: health.clone(),
            source,
            path: path.to_path_buf(),
        };
        ReaderDriver {
            scans,
            health,
            task: tokio::spawn(run(out)),
        }
    }

    /// Starts a serial line scanner. Must be called inside a Tokio runtime.
    pub fn line_scanner(config: LineScannerConfig) -> Result<ReaderDriver> {
        check_serial(&config.path, config.baud)?;
        if config.max_line == 0 {
            return Err(DriverError::config(
                "scanner max_line is 0; set it to the longest code expected (e.g. 512)",
            ));
        }
        let decoder = LineDecoder(LineSplitter::new(config.max_line));
        Ok(ReaderDriver::spawn(&config.path, config.source, |out| {
            run_serial(out, config.baud, decoder)
        }))
    }

    /// Starts an RDM6300-style RFID reader. Must be called inside a Tokio runtime.
    pub fn rdm6300(config: Rdm6300Config) -> Result<ReaderDriver> {
        check_serial(&config.path, config.baud)?;
        let decoder = Rdm6300Decoder::new(config.repeat_window);
        Ok(ReaderDriver::spawn(
            &config.path,
            ScanSource::Badge,
            |out| run_serial(out, config.baud, decoder),
        ))
    }

    /// Starts a keyboard-wedge reader on an evdev input device. Must be called inside a Tokio
    /// runtime.
    pub fn keyboard_wedge(config: WedgeConfig) -> Result<ReaderDriver> {
        if config.path.as_os_str().is_empty() {
            return Err(DriverError::config(
                "keyboard-wedge reader has no device path; set it to /dev/input/by-id/...-event-kbd",
            ));
        }
        let path = config.path.clone();
        Ok(ReaderDriver::spawn(&path, config.source, |out| {
            run_wedge(out, config)
        }))
    }
}

fn check_serial(path: &Path, baud: u32) -> Result<()> {
    if path.as_os_str().is_empty() {
        return Err(DriverError::config(
            "reader has no serial port; set it to e.g. /dev/serial/by-id/...",
        ));
    }
    if baud == 0 {
        return Err(DriverError::config(
            "reader baud rate is 0; set the reader's baud rate (9600 for RDM6300)",
        ));
    }
    Ok(())
}

/// A byte-stream decoder that logs what it skips and returns the scans' texts.
trait Decode: Send + 'static {
    fn decode(&mut self, bytes: &[u8], port: &Path) -> Vec<String>;
    fn reset(&mut self);
}

struct LineDecoder(LineSplitter);

impl Decode for LineDecoder {
    fn decode(&mut self, bytes: &[u8], port: &Path) -> Vec<String> {
        self.0
            .push(bytes)
            .into_iter()
            .filter_map(|r| {
                r.map_err(
                    |e| tracing::warn!(port = %port.display(), error = %e, "scanner line skipped"),
                )
                .ok()
            })
            .collect()
    }
    fn reset(&mut self) {
        self.0.reset();
    }
}

impl Decode for Rdm6300Decoder {
    fn decode(&mut self, bytes: &[u8], port: &Path) -> Vec<String> {
        self.push(bytes)
            .into_iter()
            .filter_map(|r| match r {
                Ok(card) => Some(card.hex()),
                Err(e) => {
                    tracing::warn!(port = %port.display(), error = %e, "RFID frame skipped");
                    None
                }
            })
            .collect()
    }
    fn reset(&mut self) {
        Rdm6300Decoder::reset(self);
    }
}

/// Sleeps for the current backoff, then doubles it.
async fn back_off(backoff: &mut Duration) {
    tokio::time::sleep(*backoff).await;
    *backoff = (*backoff * 2).min(REOPEN_MAX);
}

async fn run_serial(out: Out, baud: u32, mut decoder: impl Decode) {
    let mut backoff = REOPEN_FIRST;
    loop {
        let mut port = match crate::serial::open(&out.path, baud) {
            Ok(port) => port,
            Err(e) => {
                out.health
                    .set(HealthState::Offline, format!("{e}; retrying"));
                back_off(&mut backoff).await;
                continue;
            }
        };
        out.health.ok();
        backoff = REOPEN_FIRST;
        decoder.reset();
        let mut buf = [0u8; 256];
        let reason = loop {
            let read = within(IDLE_CHECK, "reader idle", async {
                port.read(&mut buf)
                    .await
                    .map_err(|e| DriverError::io(e.to_string()))
            })
            .await;
            match read {
                Ok(0) => break format!("reader port {} closed; reopening", out.path.display()),
                Ok(n) => {
                    for text in decoder.decode(&buf[..n], &out.path) {
                        out.publish(text);
                    }
                }
                Err(e) if e.kind == crate::ErrorKind::Timeout => {
                    if let Some(reason) = missing(&out.path) {
                        break reason;
                    }
                }
                Err(e) => {
                    break format!(
                        "lost reader port {}: {}; check the cable, reopening",
                        out.path.display(),
                        e.message
                    );
                }
            }
        };
        drop(port);
        out.health.set(HealthState::Offline, reason);
        back_off(&mut backoff).await;
    }
}

/// The reason to go offline if the device node has disappeared (USB cable pulled).
fn missing(path: &Path) -> Option<String> {
    (!path.exists()).then(|| {
        format!(
            "reader device {} disappeared (cable pulled?); waiting for it to come back",
            path.display()
        )
    })
}

/// Opens and (optionally) grabs an evdev device, non-blocking for the async reactor.
fn open_wedge(config: &WedgeConfig) -> Result<tokio::io::unix::AsyncFd<evdev::Device>> {
    let path = config.path.display();
    let mut device = evdev::Device::open(&config.path).map_err(|e| {
        DriverError::io(format!(
            "cannot open keyboard-wedge reader {path}: {e}; check the device path and that this user may read /dev/input (group input)"
        ))
    })?;
    if config.grab {
        device.grab().map_err(|e| {
            DriverError::device(format!(
                "cannot take keyboard-wedge reader {path} exclusively: {e}; another program holds it"
            ))
        })?;
    }
    // `AsyncFd::new` is deprecated because a caller could close the fd behind the reactor's back;
    // here the `Device` owns its fd and lives inside the `AsyncFd` until both are dropped, and
    // `AsyncFd::register` would need `unsafe`, which this workspace forbids.
    #[allow(deprecated)]
    let register = tokio::io::unix::AsyncFd::new;
    device
        .set_nonblocking(true)
        .and_then(|()| register(device))
        .map_err(|e| DriverError::io(format!("cannot watch keyboard-wedge reader {path}: {e}")))
}

async fn run_wedge(out: Out, config: WedgeConfig) {
    let mut translator = KeyTranslator::new(config.max_len);
    let mut backoff = REOPEN_FIRST;
    loop {
        let mut device = match open_wedge(&config) {
            Ok(device) => device,
            Err(e) => {
                out.health
                    .set(HealthState::Offline, format!("{e}; retrying"));
                back_off(&mut backoff).await;
                continue;
            }
        };
        out.health.ok();
        backoff = REOPEN_FIRST;
        translator.reset();
        let reason = loop {
            let mut guard = match tokio::time::timeout(IDLE_CHECK, device.readable_mut()).await {
                Ok(Ok(guard)) => guard,
                Ok(Err(e)) => {
                    break format!("lost keyboard-wedge reader {}: {e}", out.path.display());
                }
                Err(_) => match missing(&out.path) {
                    Some(reason) => break reason,
                    None => continue,
                },
            };
            let events = match guard.try_io(|d| {
                d.get_mut()
                    .fetch_events()
                    .map(|events| events.collect::<Vec<_>>())
            }) {
                Ok(Ok(events)) => events,
                Ok(Err(e)) => {
                    break format!(
                        "lost keyboard-wedge reader {}: {e}; check the cable, reopening",
                        out.path.display()
                    );
                }
                Err(_would_block) => continue,
            };
            for event in events {
                if let evdev::EventSummary::Key(_, key, value) = event.destructure() {
                    match translator.key(key, value) {
                        Some(Ok(text)) => out.publish(text),
                        Some(Err(e)) => {
                            tracing::warn!(port = %out.path.display(), error = %e, "wedge scan skipped")
                        }
                        None => {}
                    }
                }
            }
        };
        drop(device);
        out.health.set(HealthState::Offline, reason);
        back_off(&mut backoff).await;
    }
}
