//! Ticket printers speaking ESC/POS over TCP port 9100, a serial port or a USB printer device
//! file (`/dev/usb/lp0`). Before each job the driver asks the printer for its status
//! (DLE EOT 1–4) and refuses to print on an empty roll, an open cover or an offline printer;
//! after the job it asks again, so a roll that ran out mid-ticket is reported.

pub mod escpos;
pub mod sim;

pub use escpos::{Decoded, decode, decode_status, decode_tickets};

use crate::health::{DriverError, ErrorKind, Health, HealthState, HealthWatch, Result, within};
use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Mutex, watch};

/// What goes on an entry ticket. Empty `title`, `qr_payload` or `footer` are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TicketLayout {
    /// The car park's name, printed centred in bold double size.
    pub lot_name: String,
    /// E.g. "Entry ticket".
    pub title: String,
    /// Printed as `label: value`, e.g. ("Entry", "2024-05-01 08:12"), ("Ticket", "000123").
    pub lines: Vec<(String, String)>,
    /// The data of the QR code (model 2, error correction M), at most 2331 bytes.
    pub qr_payload: String,
    /// Centred below the QR; may hold several lines.
    pub footer: String,
}

/// The printer's state from its answers to DLE EOT 1–4.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrinterStatus {
    /// Not offline (DLE EOT 1 bit 3).
    pub online: bool,
    /// DLE EOT 2 bit 2.
    pub cover_open: bool,
    /// Roll end sensor (DLE EOT 4 bits 5–6) or printing stopped at paper end (DLE EOT 2 bit 5).
    pub paper_out: bool,
    /// Roll near-end sensor (DLE EOT 4 bits 2–3).
    pub paper_near_end: bool,
    /// An error the printer reports (autocutter, unrecoverable, head too hot).
    pub error: Option<String>,
}

impl PrinterStatus {
    /// Why the printer cannot print now, in words for the attendant.
    pub fn problem(&self) -> Option<String> {
        if self.paper_out {
            Some("printer is out of paper — change the roll".into())
        } else if self.cover_open {
            Some("printer cover is open — close the cover".into())
        } else if let Some(e) = &self.error {
            Some(e.clone())
        } else if !self.online {
            Some("printer is offline — check it for a paper jam or an error light".into())
        } else {
            None
        }
    }

    /// What needs attention soon while printing still works.
    pub fn warning(&self) -> Option<String> {
        self.paper_near_end
            .then(|| "paper near end — change the roll soon".to_string())
    }
}

/// How the printer is connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterLink {
    /// A network printer, `host:port` (usually port 9100).
    Tcp { addr: String },
    /// An RS-232 or USB-serial printer.
    Serial { path: PathBuf, baud: u32 },
    /// A USB printer class device file such as `/dev/usb/lp0`, read and written as a file.
    DeviceFile { path: PathBuf },
}

impl std::fmt::Display for PrinterLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrinterLink::Tcp { addr } => write!(f, "tcp {addr}"),
            PrinterLink::Serial { path, baud } => write!(f, "serial {} {baud}", path.display()),
            PrinterLink::DeviceFile { path } => write!(f, "device {}", path.display()),
        }
    }
}

/// Driver settings.
#[derive(Debug, Clone)]
pub struct PrinterConfig {
    pub link: PrinterLink,
    /// Limit for connecting or opening the port.
    pub connect_timeout: Duration,
    /// Limit for each DLE EOT answer; a printer that does not answer is offline.
    pub status_timeout: Duration,
    /// Limit for sending a job.
    pub write_timeout: Duration,
}

impl PrinterConfig {
    /// Defaults: 3 s to connect, 1 s per status answer, 10 s to send a job.
    pub fn new(link: PrinterLink) -> PrinterConfig {
        PrinterConfig {
            link,
            connect_timeout: Duration::from_secs(3),
            status_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(10),
        }
    }
}

/// A ticket printer as the lanes use it.
#[async_trait]
pub trait TicketPrinter: Send + Sync {
    /// Prints a ticket; refuses (a `Device` error) when the printer cannot print, and reports
    /// a problem that appeared while printing. Returns the status after printing.
    async fn print_ticket(&self, layout: &TicketLayout) -> Result<PrinterStatus>;
    /// Prints preformatted text (a receipt, a Z-report) and cuts.
    async fn print_text(&self, text: &str) -> Result<PrinterStatus>;
    /// Asks the printer for its status without printing.
    async fn status(&self) -> Result<PrinterStatus>;
    /// The printer's health: ok, degraded (paper near end) or offline (with the reason).
    fn health(&self) -> watch::Receiver<Health>;
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// The ESC/POS driver. Connects on the first job and again on the next job after a loss.
pub struct EscPosPrinter {
    config: PrinterConfig,
    conn: Mutex<Option<Box<dyn Io>>>,
    health: HealthWatch,
}

impl EscPosPrinter {
    /// A driver that connects on its first job or status request.
    pub fn new(config: PrinterConfig) -> EscPosPrinter {
        EscPosPrinter {
            config,
            conn: Mutex::new(None),
            health: HealthWatch::new("printer not contacted yet"),
        }
    }

    /// Connects, with two retries after 200 and 400 ms (a printer that is just waking up).
    async fn connect(&self) -> Result<Box<dyn Io>> {
        let mut backoff = Duration::from_millis(200);
        let mut attempt = 1;
        loop {
            match within(
                self.config.connect_timeout,
                &format!("connecting to the printer ({})", self.config.link),
                self.open(),
            )
            .await
            {
                Ok(io) => return Ok(io),
                Err(e) if attempt >= 3 || e.kind == ErrorKind::Config => return Err(e),
                Err(e) => {
                    tracing::debug!(error = %e, attempt, "printer connect failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                    attempt += 1;
                }
            }
        }
    }

    async fn open(&self) -> Result<Box<dyn Io>> {
        match &self.config.link {
            PrinterLink::Tcp { addr } => {
                let s = tokio::net::TcpStream::connect(addr.as_str())
                    .await
                    .map_err(|e| {
                        DriverError::io(format!(
                            "cannot connect to the printer at {addr}: {e}; check that it is on and its network cable is plugged in"
                        ))
                    })?;
                let _ = s.set_nodelay(true);
                Ok(Box::new(s))
            }
            PrinterLink::Serial { path, baud } => Ok(Box::new(crate::serial::open(path, *baud)?)),
            PrinterLink::DeviceFile { path } => open_device_file(path),
        }
    }

    /// Sends DLE EOT 1–4 and decodes the four answers.
    async fn query(&self, io: &mut Box<dyn Io>) -> Result<PrinterStatus> {
        drain(io).await?;
        let mut replies = [0u8; 4];
        for (n, reply) in (1u8..=4).zip(replies.iter_mut()) {
            let what = format!("printer ({}) status request DLE EOT {n}", self.config.link);
            *reply = within(self.config.status_timeout, &what, async {
                io.write_all(&escpos::status_request(n))
                    .await
                    .map_err(|e| lost(&self.config.link, e))?;
                io.flush().await.map_err(|e| lost(&self.config.link, e))?;
                let mut b = [0u8; 1];
                match io.read(&mut b).await {
                    Ok(0) => Err(DriverError::io(format!(
                        "the printer ({}) closed the connection",
                        self.config.link
                    ))),
                    Ok(_) => Ok(b[0]),
                    Err(e) => Err(lost(&self.config.link, e)),
                }
            })
            .await
            .map_err(|e| match e.kind {
                ErrorKind::Timeout => DriverError::timeout(format!(
                    "{}; the printer is offline — check that it is switched on and connected",
                    e.message
                )),
                _ => e,
            })?;
        }
        escpos::decode_status(replies).inspect_err(|e| tracing::warn!(error = %e, "bad status"))
    }

    /// Connects if needed and asks for the status; a stale connection is replaced once.
    async fn checked(&self, conn: &mut Option<Box<dyn Io>>) -> Result<PrinterStatus> {
        let reused = conn.is_some();
        let r = self.query_on(conn).await;
        match r {
            Err(e) if reused && e.kind == ErrorKind::Io => {
                tracing::info!(error = %e, "printer connection lost; reconnecting");
                self.query_on(conn).await
            }
            r => r,
        }
    }

    async fn query_on(&self, conn: &mut Option<Box<dyn Io>>) -> Result<PrinterStatus> {
        let mut io = match conn.take() {
            Some(io) => io,
            None => self.connect().await?,
        };
        let status = self.query(&mut io).await?;
        *conn = Some(io);
        Ok(status)
    }

    /// Marks the printer offline and passes the error on.
    fn fail<T>(&self, e: DriverError) -> Result<T> {
        self.health.set(HealthState::Offline, e.message.clone());
        Err(e)
    }

    fn report(&self, s: &PrinterStatus) {
        match (s.problem(), s.warning()) {
            (Some(p), _) => self.health.set(HealthState::Offline, p),
            (None, Some(w)) => self.health.set(HealthState::Degraded, w),
            (None, None) => self.health.ok(),
        }
    }

    async fn job(&self, bytes: &[u8]) -> Result<PrinterStatus> {
        let mut conn = self.conn.lock().await;
        let before = match self.checked(&mut conn).await {
            Ok(s) => s,
            Err(e) => return self.fail(e),
        };
        self.report(&before);
        if let Some(p) = before.problem() {
            return Err(DriverError::device(p));
        }
        let Some(io) = conn.as_mut() else {
            return self.fail(DriverError::io("printer connection lost before printing"));
        };
        let link = &self.config.link;
        let sent = within(
            self.config.write_timeout,
            "sending the job to the printer",
            async {
                io.write_all(bytes).await.map_err(|e| lost(link, e))?;
                io.flush().await.map_err(|e| lost(link, e))
            },
        )
        .await;
        if let Err(e) = sent {
            *conn = None;
            return self.fail(e);
        }
        let after = match self.query(io).await {
            Ok(s) => s,
            Err(e) => {
                *conn = None;
                return self.fail(DriverError::new(
                    e.kind,
                    format!("the job was sent but the printer did not confirm it: {e}"),
                ));
            }
        };
        self.report(&after);
        match after.problem() {
            Some(p) => Err(DriverError::device(format!(
                "{p}; it happened while printing, so the ticket may be incomplete — print it again"
            ))),
            None => Ok(after),
        }
    }
}

#[async_trait]
impl TicketPrinter for EscPosPrinter {
    async fn print_ticket(&self, layout: &TicketLayout) -> Result<PrinterStatus> {
        let bytes = escpos::encode_ticket(layout)?;
        self.job(&bytes).await
    }

    async fn print_text(&self, text: &str) -> Result<PrinterStatus> {
        self.job(&escpos::encode_text(text)).await
    }

    async fn status(&self) -> Result<PrinterStatus> {
        let mut conn = self.conn.lock().await;
        match self.checked(&mut conn).await {
            Ok(s) => {
                self.report(&s);
                Ok(s)
            }
            Err(e) => self.fail(e),
        }
    }

    fn health(&self) -> watch::Receiver<Health> {
        self.health.subscribe()
    }
}

fn lost(link: &PrinterLink, e: std::io::Error) -> DriverError {
    DriverError::io(format!(
        "lost the connection to the printer ({link}): {e}; check its cable and power"
    ))
}

/// Reads and drops bytes already waiting (a late answer), so the next answer is the right one.
async fn drain(io: &mut Box<dyn Io>) -> Result<()> {
    let mut buf = [0u8; 256];
    for _ in 0..64 {
        match tokio::time::timeout(Duration::ZERO, io.read(&mut buf)).await {
            Ok(Ok(0)) => return Err(DriverError::io("the printer closed the connection")),
            Ok(Ok(n)) => tracing::warn!(bytes = n, "dropping unexpected bytes from the printer"),
            Ok(Err(e)) => return Err(DriverError::io(format!("printer connection failed: {e}"))),
            Err(_) => return Ok(()),
        }
    }
    Ok(())
}

/// Opens a USB printer device file for reading and writing, non-blocking, as one descriptor
/// shared by a reader and a writer (the kernel's usblp allows one open at a time).
#[cfg(unix)]
fn open_device_file(path: &std::path::Path) -> Result<Box<dyn Io>> {
    use tokio::net::unix::pipe;
    let err = |e: std::io::Error| {
        DriverError::io(format!(
            "cannot open the printer device {}: {e}; check that the printer is plugged in and this user may write to the device",
            path.display()
        ))
    };
    let tx = pipe::OpenOptions::new()
        .read_write(true)
        .unchecked(true)
        .open_sender(path)
        .map_err(err)?;
    let fd = tx.into_nonblocking_fd().map_err(err)?;
    let rx = pipe::Receiver::from_owned_fd_unchecked(fd.try_clone().map_err(err)?).map_err(err)?;
    let tx = pipe::Sender::from_owned_fd_unchecked(fd).map_err(err)?;
    Ok(Box::new(tokio::io::join(rx, tx)))
}

#[cfg(not(unix))]
fn open_device_file(path: &std::path::Path) -> Result<Box<dyn Io>> {
    Err(DriverError::config(format!(
        "printer device files ({}) are supported on Linux only; use tcp or serial",
        path.display()
    )))
}
