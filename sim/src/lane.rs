//! A lane of simulated devices for tests and the demo lot: each simulator speaks its device's
//! protocol (Modbus TCP for the gate board and loops, HTTP snapshots for the camera, ESC/POS over
//! TCP for the printer, serial lines on a pseudo-terminal for the ticket scanner, ZVT over TCP for
//! the payment terminal), and the lane's real drivers talk to them. A [`SimLane`] is also the
//! vehicle: it shows a plate to the camera, drives onto the loops and scans tickets.

use crate::scene::{PlateStyle, Renderer};
use gatehouse_drivers::camera::sim::CameraSim;
use gatehouse_drivers::camera::{Camera, SnapshotCamera, encode_jpeg};
use gatehouse_drivers::gate::sim::GateBoard;
use gatehouse_drivers::gate::{Gate, GateMap, ModbusGate, Transport};
use gatehouse_drivers::payment::sim::TerminalSim;
use gatehouse_drivers::payment::{PaymentTerminal, ZvtConfig, ZvtTerminal};
use gatehouse_drivers::printer::sim::PrinterSim;
use gatehouse_drivers::printer::{EscPosPrinter, PrinterConfig, TicketPrinter};
use gatehouse_drivers::readers::sim::ScannerSim;
use gatehouse_drivers::readers::{LineScannerConfig, Reader, ReaderDriver};
use gatehouse_lanes::runtime::LaneDevices;
use gatehouse_lanes::wiring::Simulators;
use std::sync::Arc;
use std::time::Duration;

/// The loop names of a simulated lane's gate board.
pub const ARMING_LOOP: &str = "arming";
pub const PASS_LOOP: &str = "passing";
/// How long the simulated barrier arm takes to move.
pub const ARM_TRAVEL: Duration = Duration::from_millis(300);

/// The gate board's map: the standard layout with the second loop beyond the barrier, and short
/// pulses and polls so a simulated car moves quickly.
pub fn gate_map() -> GateMap {
    let mut map = GateMap::standard();
    map.loops[1].name = PASS_LOOP.into();
    map.loops[0].name = ARMING_LOOP.into();
    GateMap {
        open_pulse_ms: 30,
        close_pulse_ms: 30,
        poll_interval_ms: 20,
        confirm_timeout_ms: 2000,
        response_timeout_ms: 300,
        ..map
    }
}

/// Starts a [`SimLane`] for each lane marked `simulated`, drawing what their cameras see with
/// one renderer (made when the first simulated lane starts).
#[derive(Default)]
pub struct SimulatedLanes {
    renderer: std::sync::OnceLock<Arc<Renderer>>,
}

impl SimulatedLanes {
    pub fn new() -> SimulatedLanes {
        SimulatedLanes::default()
    }

    pub fn with_renderer(renderer: Arc<Renderer>) -> SimulatedLanes {
        let sims = SimulatedLanes::default();
        let _ = sims.renderer.set(renderer);
        sims
    }

    fn renderer(&self) -> Result<Arc<Renderer>, String> {
        if let Some(r) = self.renderer.get() {
            return Ok(r.clone());
        }
        let made = Arc::new(
            Renderer::new()
                .map_err(|e| format!("cannot draw the simulated cameras' pictures: {e}"))?,
        );
        Ok(self.renderer.get_or_init(|| made).clone())
    }
}

impl Simulators for SimulatedLanes {
    type Lane = SimLane;
    async fn start_lane(&self, exit: bool) -> Result<(SimLane, LaneDevices), String> {
        let renderer = self.renderer()?;
        SimLane::start(exit, renderer).await
    }
}

/// A lane's simulated devices, and the vehicle at it.
pub struct SimLane {
    pub board: GateBoard,
    pub camera: CameraSim,
    pub printer: Option<PrinterSim>,
    pub scanner: ScannerSim,
    pub terminal: Option<TerminalSim>,
    renderer: Arc<Renderer>,
    /// The camera's picture with no vehicle, as the camera sends it.
    empty: Vec<u8>,
}

/// Frame size of the simulated lane cameras.
pub const FRAME: (u32, u32) = (1280, 720);

impl SimLane {
    /// Starts the simulators and the drivers that talk to them. An entry lane has a printer; an
    /// exit lane has a payment terminal.
    pub async fn start(
        exit: bool,
        renderer: Arc<Renderer>,
    ) -> Result<(SimLane, LaneDevices), String> {
        let e = |what: &str| {
            let what = what.to_string();
            move |err: gatehouse_drivers::DriverError| format!("{what}: {err}")
        };
        let map = gate_map();
        let board = GateBoard::new(map.clone(), ARM_TRAVEL).map_err(e("gate board simulator"))?;
        let address = board
            .serve_tcp()
            .await
            .map_err(e("gate board simulator"))?
            .to_string();
        let gate: Arc<dyn Gate> =
            Arc::new(ModbusGate::start(Transport::Tcp { address }, map).map_err(e("gate driver"))?);
        let (empty, _) = renderer.scene(FRAME.0, FRAME.1, &[], 1);
        let camera = CameraSim::start(std::slice::from_ref(&empty), 10)
            .await
            .map_err(e("camera simulator"))?;
        let cam: Arc<dyn Camera> = Arc::new(
            SnapshotCamera::new(&camera.snapshot_url())
                .map_err(e("camera driver"))?
                .with_timeout(Duration::from_secs(1)),
        );
        let scanner = ScannerSim::start().map_err(e("scanner simulator"))?;
        let reader: Arc<dyn Reader> = Arc::new(
            ReaderDriver::line_scanner(LineScannerConfig::new(scanner.path()))
                .map_err(e("scanner driver"))?,
        );
        let (printer, printer_driver) = if exit {
            (None, None)
        } else {
            let sim = PrinterSim::start_tcp()
                .await
                .map_err(e("printer simulator"))?;
            let mut cfg = PrinterConfig::new(sim.link());
            cfg.status_timeout = Duration::from_millis(500);
            cfg.connect_timeout = Duration::from_millis(500);
            let driver: Arc<dyn TicketPrinter> = Arc::new(EscPosPrinter::new(cfg));
            (Some(sim), Some(driver))
        };
        let (terminal, terminal_driver) = if exit {
            let (sim, addr) = TerminalSim::tcp()
                .await
                .map_err(e("payment terminal simulator"))?;
            let mut cfg = ZvtConfig::tcp(addr.to_string());
            cfg.transaction_timeout = Duration::from_secs(10);
            cfg.connect_timeout = Duration::from_secs(2);
            let driver: Arc<dyn PaymentTerminal> =
                Arc::new(ZvtTerminal::new(cfg).map_err(e("payment terminal driver"))?);
            (Some(sim), Some(driver))
        } else {
            (None, None)
        };
        let devices = LaneDevices {
            gate,
            arming_loop: ARMING_LOOP.into(),
            pass_loop: PASS_LOOP.into(),
            camera: Some(cam),
            printer: printer_driver,
            readers: vec![reader],
            terminal: terminal_driver,
        };
        let lane = SimLane {
            board,
            camera,
            printer,
            scanner,
            terminal,
            renderer,
            empty: encode_jpeg(&empty, 90).map_err(|e| e.to_string())?,
        };
        Ok((lane, devices))
    }

    /// The camera sees a car with this plate (a US-style plate, `width` pixels wide, in a
    /// 1280×720 street scene), or no car.
    ///
    /// Drawing and encoding the picture is heavy work: it is done off the async workers, so the
    /// other simulated devices keep answering meanwhile.
    pub async fn show_plate(&self, plate: Option<&str>, seed: u64) -> Result<(), String> {
        let jpeg = match plate {
            Some(text) => {
                let (renderer, text) = (self.renderer.clone(), text.to_string());
                tokio::task::spawn_blocking(move || {
                    let (frame, _) = renderer.scene(
                        FRAME.0,
                        FRAME.1,
                        &[(&text, PlateStyle::Us, 200, 0.0)],
                        seed,
                    );
                    encode_jpeg(&frame, 90)
                })
                .await
                .map_err(|e| format!("camera simulator: drawing the picture failed: {e}"))?
                .map_err(|e| format!("camera simulator: {e}"))?
            }
            None => self.empty.clone(),
        };
        self.camera
            .set_jpegs(vec![jpeg])
            .map_err(|e| format!("camera simulator: {e}"))
    }

    /// The vehicle drives onto the arming loop (or backs off it).
    pub fn arming(&self, on: bool) -> Result<(), String> {
        self.board
            .set_loop(ARMING_LOOP, on)
            .map_err(|e| format!("gate board simulator: {e}"))
    }

    /// The vehicle drives through the open barrier: onto the pass loop, off the arming loop,
    /// off the pass loop, `step` apart.
    pub async fn drive_through(&self, step: Duration) -> Result<(), String> {
        let set = |name: &str, on: bool| {
            self.board
                .set_loop(name, on)
                .map_err(|e| format!("gate board simulator: {e}"))
        };
        set(PASS_LOOP, true)?;
        tokio::time::sleep(step).await;
        set(ARMING_LOOP, false)?;
        tokio::time::sleep(step).await;
        set(PASS_LOOP, false)
    }

    /// The driver scans a ticket (its QR payload) at the lane's scanner.
    pub async fn scan(&mut self, text: &str) -> Result<(), String> {
        self.scanner
            .scan(text)
            .await
            .map_err(|e| format!("scanner simulator: {e}"))
    }
}
