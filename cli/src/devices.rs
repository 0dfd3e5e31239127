//! `gatehouse device …` and `gatehouse simulate …`: commissioning lane hardware from the command
//! line. Thin on purpose: every protocol lives in gatehouse-drivers; this file parses arguments,
//! calls a driver or a simulator, and prints what happens.

use crate::output::Out;
use clap::{Args, Subcommand};
use gatehouse_core::{Currency, Error, ErrorKind, Money};
use gatehouse_drivers::camera::{
    Camera, MjpegCamera, MjpegConfig, SnapshotCamera, UsbCamera, UsbConfig, encode_jpeg,
};
use gatehouse_drivers::gate::sim::{Arm, BoardWrite, GateBoard};
use gatehouse_drivers::gate::{Gate, GateMap, ModbusGate, Transport};
use gatehouse_drivers::mqtt::sim::{LotSim, Mosquitto};
use gatehouse_drivers::mqtt::{MqttConfig, MqttConnection};
use gatehouse_drivers::payment::sim::{SimResult, TerminalSim};
use gatehouse_drivers::payment::{PaymentRequest, PaymentTerminal, ZvtConfig, ZvtTerminal};
use gatehouse_drivers::printer::sim::{PrinterSim, SimEndpoint};
use gatehouse_drivers::printer::{
    EscPosPrinter, PrinterConfig, PrinterLink, PrinterStatus, TicketLayout, TicketPrinter,
};
use gatehouse_drivers::readers::sim::{Rdm6300Sim, ScannerSim};
use gatehouse_drivers::readers::{
    CardId, LineScannerConfig, Rdm6300Config, Reader, ReaderDriver, WedgeConfig,
};
use gatehouse_drivers::{
    CountSign, DriverError, ErrorKind as DriverErrorKind, Health, HealthState,
};
use serde_json::{Value, json};
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

// ---------------------------------------------------------------------------------------------
// Arguments

#[derive(Subcommand)]
pub enum DeviceCmd {
    /// A barrier on a Modbus I/O board: open, close, or watch its loops and arm.
    Gate(GateArgs),
    /// Print a test ticket and report the printer's status.
    PrintTest(PrintTestArgs),
    /// Ask a ticket printer for its status without printing.
    PrinterStatus(PrinterLinkArgs),
    /// Print scans and badges as a reader delivers them.
    Scan(ScanArgs),
    /// A test payment on a ZVT terminal.
    Pay(PayArgs),
    /// Close the terminal's day (end-of-day batch) and print its totals.
    PayEndOfDay(TerminalLinkArgs),
    /// Grab one frame from an IP or USB camera and write it as JPEG.
    Camera(CameraArgs),
    /// Sensors and count signs on the lot's MQTT broker.
    Mqtt(MqttArgs),
}

#[derive(Args)]
#[group(id = "gate_link", required = true, multiple = false)]
pub struct GateLink {
    /// Modbus RTU over this serial port (RS-485 adapter), e.g. /dev/ttyUSB0.
    #[arg(long, value_name = "PATH")]
    rtu: Option<PathBuf>,
    /// Modbus TCP board at HOST:PORT, e.g. 192.168.1.20:502.
    #[arg(long, value_name = "HOST:PORT")]
    tcp: Option<String>,
}

#[derive(Args)]
pub struct GateArgs {
    #[command(flatten)]
    link: GateLink,
    /// Baud rate for --rtu.
    #[arg(long, default_value_t = 9600, requires = "rtu")]
    baud: u32,
    /// The board's I/O map as JSON (default: unit 1, coils 0 open / 1 close, inputs 0 open
    /// limit / 1 closed limit / 2 loop "arming" / 3 loop "safety").
    #[arg(long, value_name = "FILE.json")]
    map: Option<PathBuf>,
    #[command(subcommand)]
    action: GateAction,
}

#[derive(Subcommand)]
enum GateAction {
    /// Open the barrier and wait for the open limit.
    Open,
    /// Close the barrier and wait for the closed limit.
    Close,
    /// Print loop, arm and fault events and health changes as they happen.
    Watch {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
}

#[derive(Args)]
#[group(id = "printer_link", required = true, multiple = false)]
pub struct PrinterLinkGroup {
    /// A network printer at HOST:PORT (usually port 9100).
    #[arg(long, value_name = "HOST:PORT")]
    tcp: Option<String>,
    /// A serial printer on this port.
    #[arg(long, value_name = "PATH")]
    serial: Option<PathBuf>,
    /// A USB printer device file such as /dev/usb/lp0.
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
}

#[derive(Args)]
pub struct PrinterLinkArgs {
    #[command(flatten)]
    link: PrinterLinkGroup,
    /// Baud rate for --serial.
    #[arg(long, default_value_t = 19200, requires = "serial")]
    baud: u32,
}

#[derive(Args)]
pub struct PrintTestArgs {
    #[command(flatten)]
    printer: PrinterLinkArgs,
    /// The name printed at the top of the ticket.
    #[arg(long, default_value = "Gatehouse")]
    lot_name: String,
}

#[derive(Args)]
#[group(id = "reader_link", required = true, multiple = false)]
pub struct ReaderLink {
    /// A serial scanner (one line per scan) or, with --rfid, an RDM6300 RFID reader.
    #[arg(long, value_name = "PATH")]
    serial: Option<PathBuf>,
    /// A USB keyboard-wedge reader, e.g. /dev/input/event3 or /dev/input/by-id/…-event-kbd.
    #[arg(long, value_name = "/dev/input/eventN")]
    wedge: Option<PathBuf>,
}

#[derive(Args)]
pub struct ScanArgs {
    #[command(flatten)]
    link: ReaderLink,
    /// Baud rate for --serial (RDM6300 readers use 9600).
    #[arg(long, default_value_t = 9600, requires = "serial")]
    baud: u32,
    /// The serial reader is an RDM6300 RFID reader (prints 10-hex-digit card ids).
    #[arg(long, requires = "serial")]
    rfid: bool,
    /// Stop after this many scans.
    #[arg(long)]
    count: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, default_value_t = 30)]
    seconds: u64,
}

#[derive(Args)]
#[group(id = "terminal_link", required = true, multiple = false)]
pub struct TerminalLinkGroup {
    /// A network terminal at HOST[:PORT] (port 20007 if left out).
    #[arg(long, value_name = "HOST:PORT")]
    tcp: Option<String>,
    /// A terminal on a serial port.
    #[arg(long, value_name = "PATH")]
    serial: Option<PathBuf>,
}

#[derive(Args)]
pub struct TerminalLinkArgs {
    #[command(flatten)]
    link: TerminalLinkGroup,
    /// Baud rate for --serial.
    #[arg(long, default_value_t = 9600, requires = "serial")]
    baud: u32,
    /// Registration currency (ISO 4217).
    #[arg(long, default_value = "EUR")]
    currency: String,
    /// How long the customer may take (card, PIN, host), in seconds.
    #[arg(long, default_value_t = 120)]
    timeout: u64,
}

#[derive(Args)]
pub struct PayArgs {
    #[command(flatten)]
    terminal: TerminalLinkArgs,
    /// The amount, e.g. 1.00.
    #[arg(long)]
    amount: String,
    /// The payment's reference (default gatehouse-test-<unix time>); reuse it to retry.
    #[arg(long)]
    reference: Option<String>,
}

#[derive(Args)]
#[group(id = "camera_link", required = true, multiple = false)]
pub struct CameraLink {
    /// The camera's JPEG snapshot URL, e.g. http://user:pass@10.0.0.7/snapshot.jpg.
    #[arg(long, value_name = "URL")]
    snapshot: Option<String>,
    /// The camera's MJPEG stream URL.
    #[arg(long, value_name = "URL")]
    mjpeg: Option<String>,
    /// A USB camera (V4L2): /dev/video0, its number, or a /dev/v4l/by-id/… link.
    #[arg(long, value_name = "DEVICE")]
    usb: Option<String>,
}

#[derive(Args)]
pub struct CameraArgs {
    #[command(flatten)]
    link: CameraLink,
    /// Where to write the frame.
    #[arg(long, value_name = "FILE.jpg")]
    out: PathBuf,
}

#[derive(Args)]
pub struct MqttArgs {
    #[arg(long, default_value = "127.0.0.1")]
    host: String,
    #[arg(long, default_value_t = 1883)]
    port: u16,
    /// The lot id in the topics (gatehouse/LOT/...).
    #[arg(long)]
    lot: String,
    #[command(subcommand)]
    action: MqttAction,
}

#[derive(Subcommand)]
enum MqttAction {
    /// Print sensor readings and health changes.
    Watch {
        #[arg(long, default_value_t = 10)]
        seconds: u64,
    },
    /// Publish a zone's free count (retained) and wait until the broker delivers it.
    Sign {
        #[arg(long)]
        zone: String,
        #[arg(long)]
        free: u32,
    },
}

#[derive(Subcommand)]
pub enum SimCmd {
    /// A barrier I/O board (Modbus TCP or RTU). Stdin: `loop NAME on|off`, `stuck on|off`,
    /// `answering on|off`.
    Gate {
        /// Serve Modbus TCP on loopback (the default).
        #[arg(long, conflicts_with = "rtu")]
        tcp: bool,
        /// Serve Modbus RTU on a new pseudo-terminal.
        #[arg(long)]
        rtu: bool,
        #[arg(long, value_name = "FILE.json")]
        map: Option<PathBuf>,
        /// How long the arm takes to move.
        #[arg(long, default_value_t = 800)]
        travel_ms: u64,
        #[command(flatten)]
        run: SimRun,
    },
    /// An ESC/POS ticket printer. Stdin: `paper out|in`, `near-end on|off`, `cover open|closed`.
    Printer {
        /// Listen on loopback TCP (the default).
        #[arg(long, conflicts_with = "pty")]
        tcp: bool,
        /// Serve on a new pseudo-terminal.
        #[arg(long)]
        pty: bool,
        #[command(flatten)]
        run: SimRun,
    },
    /// A serial QR/barcode scanner on a pseudo-terminal: each stdin line is sent as a scan.
    Scanner {
        #[command(flatten)]
        run: SimRun,
    },
    /// An RDM6300 RFID reader on a pseudo-terminal: each stdin line is a card id (10 hex digits).
    Rfid {
        #[command(flatten)]
        run: SimRun,
    },
    /// A ZVT payment terminal. Stdin: `approve`, `decline CODE` (hex, e.g. 05), `abort`, `never`.
    Terminal {
        /// Listen on loopback TCP (the default).
        #[arg(long, conflicts_with = "pty")]
        tcp: bool,
        /// Serve on a new pseudo-terminal.
        #[arg(long)]
        pty: bool,
        #[command(flatten)]
        run: SimRun,
    },
    /// An IP camera on loopback HTTP (snapshot and MJPEG stream of a moving box).
    Camera {
        #[arg(long, default_value_t = 5)]
        fps: u32,
        #[command(flatten)]
        run: SimRun,
    },
    /// A mosquitto MQTT broker on a free loopback port. Stdin: `sensor SPOT on|off`.
    Broker {
        /// The lot id for `sensor` lines.
        #[arg(long, default_value = "demo")]
        lot: String,
        #[command(flatten)]
        run: SimRun,
    },
}

#[derive(Args)]
pub struct SimRun {
    /// Stop after this many seconds (default: run until Ctrl-C).
    #[arg(long)]
    seconds: Option<u64>,
}

// ---------------------------------------------------------------------------------------------
// Shared helpers

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!("cannot start the runtime: {e}"),
            )
        })
}

/// A driver's error as the CLI reports it: settings mistakes are `config`, the rest `unavailable`.
fn drv(e: DriverError) -> Error {
    use gatehouse_drivers::ErrorKind as K;
    let kind = match e.kind {
        K::Config => ErrorKind::Config,
        K::Io | K::Timeout | K::Protocol | K::Device => ErrorKind::Unavailable,
    };
    Error::new(kind, e.message)
}

fn health_json(h: &Health) -> Value {
    json!({ "health": { "state": h.state, "reason": h.reason, "since": h.since } })
}

fn health_text(h: &Health) -> String {
    let state = match h.state {
        HealthState::Ok => "ok",
        HealthState::Degraded => "DEGRADED",
        HealthState::Offline => "OFFLINE",
    };
    if h.reason == "ok" {
        format!("health: {state}")
    } else {
        format!("health: {state} ({})", h.reason)
    }
}

fn print_health(out: &Out, h: &Health) {
    out.value(&health_json(h), || health_text(h));
}

/// Waits for Ctrl-C (or SIGTERM); never returns if signals cannot be watched.
async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn gate_map(path: Option<&PathBuf>) -> Result<GateMap, Error> {
    let Some(path) = path else {
        return Ok(GateMap::standard());
    };
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::invalid(format!(
            "--map: cannot read {}: {e}; give the board's I/O map as a JSON file",
            path.display()
        ))
    })?;
    GateMap::from_json(&text)
        .map_err(|e| Error::new(ErrorKind::Config, format!("--map {}: {e}", path.display())))
}

/// "2.50" in EUR → 250 minor units (in JPY, "250" → 250).
fn amount_minor(text: &str, currency: &str) -> Result<u64, Error> {
    let currency = Currency::parse(currency)?;
    let bad = || {
        Error::invalid(format!(
            "--amount {text:?} is not an amount; write it like 1.00 (at most {} decimals for {currency}, more than zero)",
            currency.minor_units()
        ))
    };
    let money = Money::parse(text, currency).map_err(|_| bad())?;
    match money.to_minor() {
        Ok(minor) if minor > 0 => Ok(minor),
        _ => Err(bad()),
    }
}

/// Minor units as the terminal reports them, in words ("2.50 EUR"); the code as given when it is
/// not a currency.
fn minor_text(minor: u64, currency: &str) -> String {
    match Currency::parse(currency) {
        Ok(c) => Money::from_minor(minor, c).to_string(),
        Err(_) => format!("{minor} minor units of {currency}"),
    }
}

fn unix_now() -> i64 {
    chrono::Utc::now().timestamp()
}

// ---------------------------------------------------------------------------------------------
// gatehouse device …

pub fn device(cmd: &DeviceCmd, out: &Out) -> Result<(), Error> {
    runtime()?.block_on(async {
        match cmd {
            DeviceCmd::Gate(a) => gate(a, out).await,
            DeviceCmd::PrintTest(a) => print_test(a, out).await,
            DeviceCmd::PrinterStatus(a) => printer_status(a, out).await,
            DeviceCmd::Scan(a) => scan(a, out).await,
            DeviceCmd::Pay(a) => pay(a, out).await,
            DeviceCmd::PayEndOfDay(a) => pay_end_of_day(a, out).await,
            DeviceCmd::Camera(a) => camera(a, out).await,
            DeviceCmd::Mqtt(a) => mqtt(a, out).await,
        }
    })
}

async fn gate(a: &GateArgs, out: &Out) -> Result<(), Error> {
    let transport = match (&a.link.rtu, &a.link.tcp) {
        (Some(path), _) => Transport::Rtu {
            path: path.clone(),
            baud: a.baud,
        },
        (None, Some(address)) => Transport::Tcp {
            address: address.clone(),
        },
        (None, None) => {
            return Err(Error::invalid(
                "name the board with --rtu PATH or --tcp HOST:PORT",
            ));
        }
    };
    let map = gate_map(a.map.as_ref())?;
    let g = ModbusGate::start(transport.clone(), map).map_err(drv)?;
    let word = match &a.action {
        GateAction::Open => "open",
        GateAction::Close => "close",
        GateAction::Watch { seconds } => return gate_watch(&g, *seconds, out).await,
    };
    let r = if word == "open" {
        g.open().await
    } else {
        g.close().await
    };
    r.map_err(drv)?;
    let state = g.state();
    out.value(
        &json!({ "device": "gate", "action": word, "confirmed": true, "position": state.position, "loops": state.loops }),
        || format!("Gate at {transport}: {word} confirmed by the limit switch."),
    );
    Ok(())
}

async fn gate_watch(g: &ModbusGate, seconds: u64, out: &Out) -> Result<(), Error> {
    let mut health = g.health();
    print_health(out, &health.borrow_and_update());
    let deadline = Instant::now() + Duration::from_secs(seconds);
    follow(
        &mut g.events(),
        &mut health,
        deadline,
        None,
        "events",
        out,
        |e| out.value(&e, || format!("{e:?}")),
    )
    .await;
    Ok(())
}

/// Prints each item a device reports and each change of its health, until the deadline, Ctrl-C,
/// `limit` items, or the device's stream ends. Returns how many items came.
async fn follow<T: Clone>(
    items: &mut tokio::sync::broadcast::Receiver<T>,
    health: &mut tokio::sync::watch::Receiver<Health>,
    deadline: Instant,
    limit: Option<u64>,
    what: &str,
    out: &Out,
    mut show: impl FnMut(T),
) -> u64 {
    let mut seen = 0u64;
    while limit.is_none_or(|n| seen < n) {
        tokio::select! {
            _ = tokio::time::sleep_until(deadline) => break,
            _ = interrupted() => break,
            item = items.recv() => match item {
                Ok(item) => {
                    seen += 1;
                    show(item);
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                    eprintln!("({n} {what} skipped: too many at once)");
                }
                Err(_) => break,
            },
            c = health.changed() => {
                if c.is_err() {
                    break;
                }
                print_health(out, &health.borrow_and_update());
            }
        }
    }
    seen
}

fn printer(a: &PrinterLinkArgs) -> Result<EscPosPrinter, Error> {
    let link = match (&a.link.tcp, &a.link.serial, &a.link.file) {
        (Some(addr), _, _) => PrinterLink::Tcp { addr: addr.clone() },
        (_, Some(path), _) => PrinterLink::Serial {
            path: path.clone(),
            baud: a.baud,
        },
        (_, _, Some(path)) => PrinterLink::DeviceFile { path: path.clone() },
        _ => {
            return Err(Error::invalid(
                "name the printer with --tcp HOST:PORT, --serial PATH or --file PATH",
            ));
        }
    };
    Ok(EscPosPrinter::new(PrinterConfig::new(link)))
}

fn status_json(s: &PrinterStatus) -> Value {
    json!({
        "online": s.online, "cover_open": s.cover_open, "paper_out": s.paper_out,
        "paper_near_end": s.paper_near_end, "error": s.error,
        "problem": s.problem(), "warning": s.warning(),
    })
}

fn status_text(s: &PrinterStatus) -> String {
    match (s.problem(), s.warning()) {
        (Some(p), _) => format!("Printer status: {p}"),
        (None, Some(w)) => format!("Printer status: ready, but {w}"),
        (None, None) => "Printer status: ready (online, paper in, cover closed).".into(),
    }
}

async fn print_test(a: &PrintTestArgs, out: &Out) -> Result<(), Error> {
    let p = printer(&a.printer)?;
    let qr = format!("GATEHOUSE-TEST-{}", unix_now());
    let layout = TicketLayout {
        lot_name: a.lot_name.clone(),
        title: "Test ticket".into(),
        lines: vec![
            (
                "Time".into(),
                chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string(),
            ),
            ("Spot".into(), "TEST".into()),
        ],
        qr_payload: qr.clone(),
        footer: "Printer test - not valid for parking".into(),
    };
    let status = p.print_ticket(&layout).await.map_err(drv)?;
    out.value(
        &json!({ "device": "printer", "printed": true, "qr": qr, "status": status_json(&status) }),
        || format!("Test ticket printed (QR {qr}).\n{}", status_text(&status)),
    );
    Ok(())
}

async fn printer_status(a: &PrinterLinkArgs, out: &Out) -> Result<(), Error> {
    let status = printer(a)?.status().await.map_err(drv)?;
    out.value(
        &json!({ "device": "printer", "status": status_json(&status) }),
        || status_text(&status),
    );
    Ok(())
}

async fn scan(a: &ScanArgs, out: &Out) -> Result<(), Error> {
    let reader = match (&a.link.serial, &a.link.wedge) {
        (Some(path), _) if a.rfid => {
            let mut c = Rdm6300Config::new(path);
            c.baud = a.baud;
            ReaderDriver::rdm6300(c)
        }
        (Some(path), _) => {
            let mut c = LineScannerConfig::new(path);
            c.baud = a.baud;
            ReaderDriver::line_scanner(c)
        }
        (None, Some(path)) => ReaderDriver::keyboard_wedge(WedgeConfig::new(path)),
        (None, None) => {
            return Err(Error::invalid(
                "name the reader with --serial PATH or --wedge /dev/input/eventN",
            ));
        }
    }
    .map_err(drv)?;
    let deadline = Instant::now() + Duration::from_secs(a.seconds);
    let seen = follow(
        &mut reader.scans(),
        &mut reader.health(),
        deadline,
        a.count,
        "scans",
        out,
        |s| {
            out.value(&json!({ "scan": s }), || {
                format!("{} {:?}: {}", s.at.format("%H:%M:%S%.3f"), s.source, s.text)
            })
        },
    )
    .await;
    if !out.json {
        println!("{seen} scans.");
    }
    Ok(())
}

fn terminal(a: &TerminalLinkArgs) -> Result<ZvtTerminal, Error> {
    let mut c = match (&a.link.tcp, &a.link.serial) {
        (Some(addr), _) => ZvtConfig::tcp(addr.clone()),
        (None, Some(path)) => ZvtConfig::serial(path.clone(), a.baud),
        (None, None) => {
            return Err(Error::invalid(
                "name the terminal with --tcp HOST:PORT or --serial PATH",
            ));
        }
    };
    c.currency = a.currency.to_ascii_uppercase();
    c.transaction_timeout = Duration::from_secs(a.timeout.max(1));
    ZvtTerminal::new(c).map_err(drv)
}

/// Shows what the terminal asks the customer, in text mode, while `f` runs.
async fn with_prompts<T>(t: &ZvtTerminal, out: &Out, f: impl std::future::Future<Output = T>) -> T {
    let mut prompts: watch::Receiver<String> = t.subscribe_prompts();
    tokio::pin!(f);
    loop {
        tokio::select! {
            r = &mut f => return r,
            c = prompts.changed(), if !out.json => {
                if c.is_err() {
                    return f.await;
                }
                let p = prompts.borrow_and_update().clone();
                if !p.is_empty() {
                    println!("terminal: {p}");
                }
            }
        }
    }
}

async fn pay(a: &PayArgs, out: &Out) -> Result<(), Error> {
    let amount = amount_minor(&a.amount, &a.terminal.currency)?;
    let t = terminal(&a.terminal)?;
    let request = PaymentRequest {
        amount_minor: amount,
        currency: a.terminal.currency.to_ascii_uppercase(),
        reference: a
            .reference
            .clone()
            .unwrap_or_else(|| format!("gatehouse-test-{}", unix_now())),
    };
    let outcome = with_prompts(&t, out, t.authorise(&request))
        .await
        .map_err(drv)?;
    use gatehouse_drivers::payment::PaymentOutcome as P;
    out.value(&outcome, || match &outcome {
        P::Approved {
            reference,
            receipt_no,
            trace_no,
            card,
            amount_minor,
        } => format!(
            "APPROVED {} · receipt {receipt_no} · trace {trace_no} · card {} · reference {reference}",
            minor_text(*amount_minor, &request.currency),
            card.as_deref().unwrap_or("-")
        ),
        P::Declined { reason, code } => format!("DECLINED: {reason} (code {code:#04x})"),
        P::AbortedByCustomer => "ABORTED by the customer.".into(),
        P::TimedOut { resolution } => format!(
            "TIMED OUT: the terminal did not finish ({resolution:?}); retry with --reference {} to be sure nothing is charged twice",
            request.reference
        ),
    });
    Ok(())
}

async fn pay_end_of_day(a: &TerminalLinkArgs, out: &Out) -> Result<(), Error> {
    let t = terminal(a)?;
    let totals = with_prompts(&t, out, t.end_of_day()).await.map_err(drv)?;
    out.value(&totals, || {
        format!(
            "End of day: {} payments, total {}{}",
            totals.count,
            minor_text(totals.total_minor, &a.currency),
            match (totals.receipt_from, totals.receipt_to) {
                (Some(f), Some(t)) => format!(", receipts {f}..{t}"),
                _ => String::new(),
            }
        )
    });
    Ok(())
}

async fn camera(a: &CameraArgs, out: &Out) -> Result<(), Error> {
    let mut mode = None;
    let frame = match (&a.link.snapshot, &a.link.mjpeg, &a.link.usb) {
        (Some(url), _, _) => SnapshotCamera::new(url).map_err(drv)?.frame().await,
        (None, Some(url), _) => {
            let cam = MjpegCamera::start(url, MjpegConfig::default()).map_err(drv)?;
            // The stream needs a moment to connect: try for up to 10 s.
            first_frame(&cam, |_| true).await
        }
        (None, None, Some(device)) => {
            let cam = UsbCamera::start(UsbConfig::new(device.as_str())).map_err(drv)?;
            // A camera that opened may take a moment for its first picture (exposure); one that
            // cannot be opened says why at once.
            let frame = first_frame(&cam, |e| e.kind == DriverErrorKind::Timeout).await;
            mode = cam.mode();
            frame
        }
        (None, None, None) => {
            return Err(Error::invalid(
                "name the camera with --snapshot URL, --mjpeg URL or --usb DEVICE",
            ));
        }
    }
    .map_err(drv)?;
    let jpeg = encode_jpeg(&frame.image, 90).map_err(drv)?;
    std::fs::write(&a.out, &jpeg)
        .map_err(|e| Error::invalid(format!("--out: cannot write {}: {e}", a.out.display())))?;
    let mut value = json!({ "device": "camera", "width": frame.width, "height": frame.height, "at": frame.at, "out": a.out.display().to_string(), "bytes": jpeg.len() });
    if let Some(m) = &mode {
        value["mode"] = json!(m);
    }
    out.value(&value, || {
        format!(
            "Frame {}x{} taken {} written to {} ({} bytes){}.",
            frame.width,
            frame.height,
            frame.at,
            a.out.display(),
            jpeg.len(),
            mode.as_deref()
                .map(|m| format!("; camera mode {m}"))
                .unwrap_or_default()
        )
    });
    Ok(())
}

/// The first frame a streaming camera delivers, trying for up to 10 s while `retry` says an
/// error may pass.
async fn first_frame(
    cam: &dyn Camera,
    retry: impl Fn(&DriverError) -> bool,
) -> Result<gatehouse_drivers::camera::Frame, DriverError> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match cam.frame().await {
            Ok(f) => return Ok(f),
            Err(e) if Instant::now() >= deadline || !retry(&e) => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn mqtt(a: &MqttArgs, out: &Out) -> Result<(), Error> {
    let conn = MqttConnection::start(MqttConfig::new(&a.host, a.port, &a.lot)).map_err(drv)?;
    let mut health = conn.health_changes();
    match &a.action {
        MqttAction::Watch { seconds } => {
            print_health(out, &health.borrow_and_update());
            let deadline = Instant::now() + Duration::from_secs(*seconds);
            follow(
                &mut conn.readings(),
                &mut health,
                deadline,
                None,
                "readings",
                out,
                |r| {
                    out.value(&json!({ "reading": r }), || {
                        format!(
                            "{} spot {} {}{}",
                            r.at.format("%H:%M:%S"),
                            r.spot,
                            if r.occupied { "occupied" } else { "free" },
                            r.battery
                                .map(|b| format!(" (battery {b}%)"))
                                .unwrap_or_default()
                        )
                    })
                },
            )
            .await;
            Ok(())
        }
        MqttAction::Sign { zone, free } => {
            let broker = format!("{}:{}", a.host, a.port);
            let connected = tokio::time::timeout(
                Duration::from_secs(5),
                health.wait_for(|h| h.state == HealthState::Ok),
            )
            .await;
            if !matches!(connected, Ok(Ok(_))) {
                let h = conn.health();
                return Err(Error::new(
                    ErrorKind::Unavailable,
                    format!(
                        "MQTT broker {broker} did not accept us within 5 s: {}",
                        h.reason
                    ),
                ));
            }
            conn.count_sign().show(zone, *free).await.map_err(drv)?;
            // The driver only queues the publish; a second client reads the retained count back
            // to prove the broker has it (what every sign gets when it subscribes).
            let reader = LotSim::connect(&a.host, a.port, &a.lot)
                .await
                .map_err(drv)?;
            let deadline = Instant::now() + Duration::from_secs(5);
            while reader.sign(zone) != Some(*free) {
                if Instant::now() >= deadline {
                    return Err(Error::new(
                        ErrorKind::Unavailable,
                        format!(
                            "the count for zone {zone} was sent but the broker {broker} did not deliver it within 5 s ({}); check the broker's ACL for gatehouse/{}/signs/#",
                            conn.health().reason,
                            a.lot
                        ),
                    ));
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            out.value(
                &json!({ "device": "mqtt", "zone": zone, "free": free, "retained": true, "delivered": true, "topic": format!("gatehouse/{}/signs/{zone}", a.lot) }),
                || format!("Sign {zone} on {broker}: {free} free, retained and delivered."),
            );
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// gatehouse simulate …

/// The simulators' main loop: stdin lines, a poll tick, and the end (Ctrl-C or --seconds).
struct SimLoop {
    lines: mpsc::UnboundedReceiver<String>,
    stdin_open: bool,
    deadline: Option<Instant>,
    tick: tokio::time::Interval,
}

enum Step {
    Line(String),
    Tick,
    Stop,
}

impl SimLoop {
    fn new(run: &SimRun) -> SimLoop {
        let (tx, lines) = mpsc::unbounded_channel();
        // A plain thread: a blocking read of stdin must not hold up the runtime's shutdown.
        std::thread::spawn(move || {
            use std::io::BufRead;
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                let line = line.trim().to_string();
                if !line.is_empty() && tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut tick = tokio::time::interval(Duration::from_millis(25));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        SimLoop {
            lines,
            stdin_open: true,
            deadline: run.seconds.map(|s| Instant::now() + Duration::from_secs(s)),
            tick,
        }
    }

    async fn next(&mut self) -> Step {
        let deadline = self.deadline;
        tokio::select! {
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => Step::Stop,
            _ = interrupted() => Step::Stop,
            l = self.lines.recv(), if self.stdin_open => match l {
                Some(l) => Step::Line(l),
                None => {
                    self.stdin_open = false;
                    Step::Tick
                }
            },
            _ = self.tick.tick() => Step::Tick,
        }
    }
}

fn sim_started(out: &Out, v: Value) {
    out.value(&v, || {
        let mut parts = Vec::new();
        if let Some(o) = v.as_object() {
            for (k, v) in o {
                match v {
                    Value::String(s) if k == "simulator" => {
                        parts.insert(0, format!("{s} simulator"))
                    }
                    Value::String(s) => parts.push(format!("{k} {s}")),
                    v => parts.push(format!("{k} {v}")),
                }
            }
        }
        format!("{} (Ctrl-C to stop)", parts.join(" · "))
    });
}

/// Acknowledges a stdin command, or says why it was not understood.
fn sim_answer(out: &Out, line: &str, r: Result<String, String>) {
    match r {
        Ok(done) => out.value(&json!({ "command": line, "done": done }), || {
            format!("> {line}: {done}")
        }),
        Err(e) => out.value(&json!({ "command": line, "error": e }), || {
            format!("> {line}: {e}")
        }),
    }
}

fn on_off(word: Option<&str>, on: &str, off: &str) -> Result<bool, String> {
    match word {
        Some(w) if w == on => Ok(true),
        Some(w) if w == off => Ok(false),
        _ => Err(format!("say {on} or {off}")),
    }
}

pub fn simulate(cmd: &SimCmd, out: &Out) -> Result<(), Error> {
    runtime()?.block_on(async {
        match cmd {
            SimCmd::Gate {
                tcp: _,
                rtu,
                map,
                travel_ms,
                run,
            } => sim_gate(*rtu, map.as_ref(), *travel_ms, run, out).await,
            SimCmd::Printer { tcp: _, pty, run } => sim_printer(*pty, run, out).await,
            SimCmd::Scanner { run } => sim_scanner(run, out).await,
            SimCmd::Rfid { run } => sim_rfid(run, out).await,
            SimCmd::Terminal { tcp: _, pty, run } => sim_terminal(*pty, run, out).await,
            SimCmd::Camera { fps, run } => sim_camera(*fps, run, out).await,
            SimCmd::Broker { lot, run } => sim_broker(lot, run, out).await,
        }
    })
}

fn arm_word(a: Arm) -> &'static str {
    match a {
        Arm::Closed => "closed",
        Arm::Opening => "opening",
        Arm::Open => "open",
        Arm::Closing => "closing",
    }
}

async fn sim_gate(
    rtu: bool,
    map: Option<&PathBuf>,
    travel_ms: u64,
    run: &SimRun,
    out: &Out,
) -> Result<(), Error> {
    let map = gate_map(map)?;
    let unit = map.unit_id;
    let board = GateBoard::new(map, Duration::from_millis(travel_ms)).map_err(drv)?;
    let mut sl = SimLoop::new(run);
    if rtu {
        let path = board.serve_rtu().await.map_err(drv)?;
        sim_started(
            out,
            json!({ "simulator": "gate", "pty": path.display().to_string(), "unit": unit }),
        );
    } else {
        let addr = board.serve_tcp().await.map_err(drv)?;
        sim_started(
            out,
            json!({ "simulator": "gate", "tcp": addr.to_string(), "unit": unit }),
        );
    }
    let mut written = 0usize;
    let mut arm = board.arm();
    loop {
        match sl.next().await {
            Step::Stop => return Ok(()),
            Step::Line(line) => {
                let w: Vec<&str> = line.split_whitespace().collect();
                let r = match w.as_slice() {
                    ["loop", name, state] => on_off(Some(state), "on", "off").and_then(|on| {
                        board
                            .set_loop(name, on)
                            .map(|()| {
                                format!("loop {name} {}", if on { "occupied" } else { "clear" })
                            })
                            .map_err(|e| e.message)
                    }),
                    ["stuck", state] => on_off(Some(state), "on", "off").map(|on| {
                        board.set_stuck(on);
                        format!("arm {}", if on { "stuck" } else { "free" })
                    }),
                    ["answering", state] => on_off(Some(state), "on", "off").map(|on| {
                        board.set_answering(on);
                        format!("board {}", if on { "answering" } else { "silent" })
                    }),
                    _ => Err("commands: loop NAME on|off, stuck on|off, answering on|off".into()),
                };
                sim_answer(out, &line, r);
            }
            Step::Tick => {
                let writes = board.writes();
                for w in writes.iter().skip(written) {
                    match *w {
                        BoardWrite::Coil { address, on } => out.value(
                            &json!({ "write": "coil", "address": address, "on": on }),
                            || format!("coil {address} {}", if on { "on" } else { "off" }),
                        ),
                        BoardWrite::Register { address, value } => out.value(
                            &json!({ "write": "register", "address": address, "value": value }),
                            || format!("register {address} = {value}"),
                        ),
                    }
                }
                written = writes.len();
                let now = board.arm();
                if now != arm {
                    arm = now;
                    out.value(&json!({ "arm": arm_word(arm) }), || {
                        format!("arm {}", arm_word(arm))
                    });
                }
            }
        }
    }
}

async fn sim_printer(pty: bool, run: &SimRun, out: &Out) -> Result<(), Error> {
    let sim = if pty {
        PrinterSim::start_pty().await
    } else {
        PrinterSim::start_tcp().await
    }
    .map_err(drv)?;
    let mut sl = SimLoop::new(run);
    match sim.endpoint() {
        SimEndpoint::Tcp(a) => {
            sim_started(out, json!({ "simulator": "printer", "tcp": a.to_string() }))
        }
        SimEndpoint::Pty(p) => sim_started(
            out,
            json!({ "simulator": "printer", "pty": p.display().to_string() }),
        ),
    }
    let mut printed = 0usize;
    loop {
        match sl.next().await {
            Step::Stop => return Ok(()),
            Step::Line(line) => {
                let w: Vec<&str> = line.split_whitespace().collect();
                let r = match w.as_slice() {
                    ["paper", s] => on_off(Some(s), "out", "in").map(|o| {
                        sim.set_paper_out(o);
                        format!("paper {}", if o { "out" } else { "in (new roll)" })
                    }),
                    ["near-end", s] => on_off(Some(s), "on", "off").map(|o| {
                        sim.set_paper_near_end(o);
                        format!("near-end sensor {}", if o { "on" } else { "off" })
                    }),
                    ["cover", s] => on_off(Some(s), "open", "closed").map(|o| {
                        sim.set_cover_open(o);
                        format!("cover {}", if o { "open" } else { "closed" })
                    }),
                    ["answering", s] => on_off(Some(s), "on", "off").map(|o| {
                        sim.set_answering(o);
                        format!("status answers {}", if o { "on" } else { "off" })
                    }),
                    _ => Err(
                        "commands: paper out|in, near-end on|off, cover open|closed, answering on|off"
                            .into(),
                    ),
                };
                sim_answer(out, &line, r);
            }
            Step::Tick => {
                let tickets = sim.tickets();
                for (i, t) in tickets.iter().enumerate().skip(printed) {
                    out.value(
                        &json!({ "ticket": i + 1, "text_lines": t.text_lines, "qr_payloads": t.qr_payloads, "cuts": t.cuts }),
                        || {
                            format!(
                                "ticket {}: {} || QR {}",
                                i + 1,
                                t.text_lines.join(" | "),
                                t.qr_payloads.join(", ")
                            )
                        },
                    );
                }
                printed = tickets.len();
            }
        }
    }
}

async fn sim_scanner(run: &SimRun, out: &Out) -> Result<(), Error> {
    let mut sim = ScannerSim::start().map_err(drv)?;
    let mut sl = SimLoop::new(run);
    sim_started(
        out,
        json!({ "simulator": "scanner", "pty": sim.path().display().to_string() }),
    );
    loop {
        match sl.next().await {
            Step::Stop => return Ok(()),
            Step::Line(line) => match sim.scan(&line).await {
                Ok(()) => out.value(&json!({ "sent": "scan", "text": line }), || {
                    format!("scanned {line}")
                }),
                Err(e) => sim_answer(out, &line, Err(e.message)),
            },
            Step::Tick => {}
        }
    }
}

async fn sim_rfid(run: &SimRun, out: &Out) -> Result<(), Error> {
    let mut sim = Rdm6300Sim::start().map_err(drv)?;
    let mut sl = SimLoop::new(run);
    sim_started(
        out,
        json!({ "simulator": "rfid", "pty": sim.path().display().to_string() }),
    );
    loop {
        match sl.next().await {
            Step::Stop => return Ok(()),
            Step::Line(line) => {
                let sent = match CardId::from_hex(&line) {
                    Ok(card) => sim.present_card(card).await.map(|()| card),
                    Err(e) => Err(e),
                };
                match sent {
                    Ok(card) => out.value(&json!({ "sent": "card", "id": card.hex() }), || {
                        format!("card {} presented", card.hex())
                    }),
                    Err(e) => sim_answer(out, &line, Err(e.message)),
                }
            }
            Step::Tick => {}
        }
    }
}

async fn sim_terminal(pty: bool, run: &SimRun, out: &Out) -> Result<(), Error> {
    let sim = if pty {
        let (sim, path) = TerminalSim::serial().map_err(drv)?;
        sim_started(
            out,
            json!({ "simulator": "terminal", "pty": path.display().to_string() }),
        );
        sim
    } else {
        let (sim, addr) = TerminalSim::tcp().await.map_err(drv)?;
        sim_started(
            out,
            json!({ "simulator": "terminal", "tcp": addr.to_string() }),
        );
        sim
    };
    let mut sl = SimLoop::new(run);
    let (mut charges, mut days) = (0usize, 0usize);
    loop {
        match sl.next().await {
            Step::Stop => return Ok(()),
            Step::Line(line) => {
                let w: Vec<&str> = line.split_whitespace().collect();
                let r = match w.as_slice() {
                    ["approve"] => Ok(SimResult::Approve),
                    ["abort"] => Ok(SimResult::AbortByCustomer),
                    ["never"] => Ok(SimResult::NeverAnswer),
                    ["decline", code] => u8::from_str_radix(code.trim_start_matches("0x"), 16)
                        .map(SimResult::Decline)
                        .map_err(|_| {
                            format!(
                                "{code} is not a ZVT result code; give it in hex, e.g. decline 05"
                            )
                        }),
                    _ => Err("commands: approve, decline CODE (hex), abort, never".into()),
                };
                let r = r.map(|result| {
                    let said = match &result {
                        SimResult::Decline(c) => format!(
                            "next payment declined with code {c:02x} ({})",
                            gatehouse_drivers::payment::result_text(*c)
                        ),
                        SimResult::AbortByCustomer => "next payment aborted by the customer".into(),
                        SimResult::NeverAnswer => "next payment never answered".into(),
                        _ => "next payment approved".into(),
                    };
                    sim.push(result);
                    said
                });
                sim_answer(out, &line, r);
            }
            Step::Tick => {
                let ledger = sim.ledger();
                for c in ledger.iter().skip(charges) {
                    out.value(&json!({ "charge": c }), || {
                        format!(
                            "charged {} · receipt {} · trace {}",
                            match gatehouse_drivers::payment::currency_alpha(c.currency) {
                                Some(alpha) => minor_text(c.amount_minor, alpha),
                                None => format!(
                                    "{} minor units of currency {}",
                                    c.amount_minor, c.currency
                                ),
                            },
                            c.receipt_no,
                            c.trace_no
                        )
                    });
                }
                charges = ledger.len();
                let totals = sim.day_totals();
                for (count, total) in totals.iter().skip(days) {
                    out.value(
                        &json!({ "end_of_day": { "count": count, "total_minor": total } }),
                        || format!("end of day: {count} payments, {total} minor units"),
                    );
                }
                days = totals.len();
            }
        }
    }
}

/// A grey picture with a white box at step `i` of its way across.
fn camera_frames() -> Vec<image::RgbImage> {
    const W: u32 = 320;
    const H: u32 = 240;
    const BOX: u32 = 40;
    (0..16u32)
        .map(|i| {
            let x0 = i * (W - BOX) / 15;
            let y0 = (H - BOX) / 2;
            image::RgbImage::from_fn(W, H, |x, y| {
                if (x0..x0 + BOX).contains(&x) && (y0..y0 + BOX).contains(&y) {
                    image::Rgb([255, 255, 255])
                } else {
                    image::Rgb([128, 128, 128])
                }
            })
        })
        .collect()
}

async fn sim_camera(fps: u32, run: &SimRun, out: &Out) -> Result<(), Error> {
    let sim = gatehouse_drivers::camera::sim::CameraSim::start(&camera_frames(), fps)
        .await
        .map_err(drv)?;
    let mut sl = SimLoop::new(run);
    sim_started(
        out,
        json!({ "simulator": "camera", "snapshot": sim.snapshot_url(), "stream": sim.stream_url(), "fps": fps.max(1) }),
    );
    let mut seen = 0usize;
    loop {
        match sl.next().await {
            Step::Stop => return Ok(()),
            Step::Line(line) => sim_answer(out, &line, Err("the camera takes no commands".into())),
            Step::Tick => {
                let requests = sim.requests();
                for r in requests.iter().skip(seen) {
                    out.value(&json!({ "request": r }), || format!("request: {r}"));
                }
                seen = requests.len();
            }
        }
    }
}

async fn sim_broker(lot: &str, run: &SimRun, out: &Out) -> Result<(), Error> {
    let broker = Mosquitto::start().await.map_err(drv)?;
    let mut sl = SimLoop::new(run);
    sim_started(
        out,
        json!({ "simulator": "broker", "host": "127.0.0.1", "port": broker.port(), "lot": lot }),
    );
    let mut sensors: Option<LotSim> = None;
    loop {
        match sl.next().await {
            Step::Stop => return Ok(()),
            Step::Line(line) => {
                let w: Vec<&str> = line.split_whitespace().collect();
                let r = match w.as_slice() {
                    ["sensor", spot, state] => match on_off(Some(state), "on", "off") {
                        Err(e) => Err(e),
                        Ok(occupied) => {
                            if sensors.is_none() {
                                sensors =
                                    LotSim::connect("127.0.0.1", broker.port(), lot).await.ok();
                            }
                            match &sensors {
                                None => Err("cannot connect to the broker".to_string()),
                                Some(s) => s
                                    .sensor(spot, occupied, None)
                                    .await
                                    .map(|()| {
                                        format!(
                                            "published gatehouse/{lot}/sensors/{spot} occupied={occupied}"
                                        )
                                    })
                                    .map_err(|e| e.message),
                            }
                        }
                    },
                    _ => Err("commands: sensor SPOT on|off".into()),
                };
                sim_answer(out, &line, r);
            }
            Step::Tick => {}
        }
    }
}
