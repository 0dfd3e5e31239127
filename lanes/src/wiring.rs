//! From the lot config to running lanes: each `[[lanes]]` with `[lanes.devices]` becomes a
//! [`LaneSetup`] whose drivers talk to the addresses configured, or to simulators when the lane
//! is `simulated` (the demo lot). The simulators come from outside (gatehouse-sim's
//! `SimulatedLanes`), so that no simulation is built into this crate.

use crate::entry::EntryConfig;
use crate::exit::ExitConfig;
use crate::runtime::{LaneDevices, LaneRole, LaneSetup};
use gatehouse_core::config::{DeviceLink, Lane, LaneKind};
use gatehouse_core::{Error, ErrorKind, LotConfig};
use gatehouse_drivers::DriverError;
use gatehouse_drivers::camera::{
    Camera, MjpegCamera, MjpegConfig, SnapshotCamera, UsbCamera, UsbConfig,
};
use gatehouse_drivers::gate::{Gate, GateMap, ModbusGate, Transport};
use gatehouse_drivers::payment::{PaymentTerminal, ZvtConfig, ZvtTerminal};
use gatehouse_drivers::printer::{EscPosPrinter, PrinterConfig, PrinterLink, TicketPrinter};
use gatehouse_drivers::readers::{
    LineScannerConfig, Rdm6300Config, Reader, ReaderDriver, WedgeConfig,
};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

/// A configured lane ready to start, with its simulators when it is simulated.
pub struct WiredLane<S> {
    pub setup: LaneSetup,
    pub sim: Option<S>,
}

/// Starts the simulated devices of a lane marked `simulated`.
pub trait Simulators {
    /// What keeps a simulated lane's devices running (and lets a demo drive its vehicles).
    type Lane: Send + Sync + 'static;
    /// The simulators of one lane (`exit`: an exit lane, with a payment terminal) and the
    /// drivers that talk to them.
    fn start_lane(
        &self,
        exit: bool,
    ) -> impl Future<Output = Result<(Self::Lane, LaneDevices), String>> + Send;
}

/// For programs that run real devices only: a lane marked `simulated` is refused.
pub struct NoSimulators;

impl Simulators for NoSimulators {
    type Lane = ();
    async fn start_lane(&self, _exit: bool) -> Result<((), LaneDevices), String> {
        Err("this program drives real devices only; simulated lanes run in the demo (gatehouse demo, or the desktop app)".into())
    }
}

/// How the lane behaves, from its config.
pub fn lane_role(lane: &Lane, has_terminal: bool) -> LaneRole {
    match lane.kind {
        LaneKind::Entry => LaneRole::Entry(EntryConfig {
            ticketless: lane.ticketless,
            confident: lane.plate_confidence,
            class: lane.class,
            ..EntryConfig::default()
        }),
        LaneKind::Exit => LaneRole::Exit(ExitConfig {
            pay_here: has_terminal,
            pay_later: lane.pay_later,
            ..ExitConfig::default()
        }),
    }
}

/// Starts the drivers (or, for simulated lanes, `sims`' simulators) of every lane that has
/// `[lanes.devices]`.
pub async fn wire_lanes<S: Simulators>(
    config: &LotConfig,
    sims: &S,
) -> Result<Vec<WiredLane<S::Lane>>, Error> {
    let mut wired = Vec::new();
    for lane in &config.lanes {
        let Some(devices) = &lane.devices else {
            continue;
        };
        let fail = |e: String| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "lane {}: {e}; check [lanes.devices] in the lot config",
                    lane.id
                ),
            )
        };
        let (devices, sim) = if devices.simulated {
            let (sim, devices) = sims
                .start_lane(lane.kind == LaneKind::Exit)
                .await
                .map_err(fail)?;
            (devices, Some(sim))
        } else {
            (
                real_devices(devices, config.lot.currency.code()).map_err(fail)?,
                None,
            )
        };
        let role = lane_role(lane, devices.terminal.is_some());
        wired.push(WiredLane {
            setup: LaneSetup {
                id: lane.id.clone(),
                role,
                devices,
            },
            sim,
        });
    }
    Ok(wired)
}

fn named(what: &'static str) -> impl Fn(DriverError) -> String {
    move |e| format!("{what}: {e}")
}

/// The drivers for a lane's configured devices.
fn real_devices(
    cfg: &gatehouse_core::config::LaneDevices,
    currency: &str,
) -> Result<LaneDevices, String> {
    let map = match &cfg.gate_map {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("gate map {}: {e}", path.display()))?;
            GateMap::from_json(&text).map_err(named("gate map"))?
        }
        None => GateMap::standard(),
    };
    let transport = match &cfg.gate {
        Some(DeviceLink::Tcp(address)) => Transport::Tcp {
            address: address.clone(),
        },
        Some(DeviceLink::Serial { path, baud }) => Transport::Rtu {
            path: path.clone(),
            baud: baud.unwrap_or(9600),
        },
        _ => return Err("the gate board must be connected by tcp or serial".into()),
    };
    let (arming_loop, pass_loop) = match map.loops.as_slice() {
        [arming, pass, ..] => (arming.name.clone(), pass.name.clone()),
        _ => {
            return Err(
                "the gate map needs two loops: the arming loop first, then the pass loop".into(),
            );
        }
    };
    let gate: Arc<dyn Gate> = Arc::new(ModbusGate::start(transport, map).map_err(named("gate"))?);
    let camera: Option<Arc<dyn Camera>> = match &cfg.camera {
        None => None,
        Some(DeviceLink::Snapshot(url)) => {
            Some(Arc::new(SnapshotCamera::new(url).map_err(named("camera"))?))
        }
        Some(DeviceLink::Mjpeg(url)) => Some(Arc::new(
            MjpegCamera::start(url, MjpegConfig::default()).map_err(named("camera"))?,
        )),
        Some(DeviceLink::Usb(device)) => Some(Arc::new(
            UsbCamera::start(UsbConfig::new(device.clone())).map_err(named("camera"))?,
        )),
        Some(_) => return Err("the camera must be snapshot, mjpeg or usb".into()),
    };
    let printer: Option<Arc<dyn TicketPrinter>> = match &cfg.printer {
        None => None,
        Some(link) => {
            let link = match link {
                DeviceLink::Tcp(addr) => PrinterLink::Tcp { addr: addr.clone() },
                DeviceLink::Serial { path, baud } => PrinterLink::Serial {
                    path: path.clone(),
                    baud: baud.unwrap_or(19200),
                },
                DeviceLink::Usb(path) => PrinterLink::DeviceFile {
                    path: PathBuf::from(path),
                },
                _ => return Err("the printer must be tcp, serial or usb".into()),
            };
            Some(Arc::new(EscPosPrinter::new(PrinterConfig::new(link))))
        }
    };
    let mut readers: Vec<Arc<dyn Reader>> = Vec::new();
    match &cfg.scanner {
        None => {}
        Some(DeviceLink::Serial { path, baud }) => {
            let mut c = LineScannerConfig::new(path.clone());
            c.baud = baud.unwrap_or(c.baud);
            readers.push(Arc::new(
                ReaderDriver::line_scanner(c).map_err(named("scanner"))?,
            ));
        }
        Some(DeviceLink::Wedge(path)) => readers.push(Arc::new(
            ReaderDriver::keyboard_wedge(WedgeConfig::new(path.clone()))
                .map_err(named("scanner"))?,
        )),
        Some(_) => return Err("the scanner must be serial or wedge".into()),
    }
    match &cfg.card_reader {
        None => {}
        Some(DeviceLink::Serial { path, baud }) => {
            let mut c = Rdm6300Config::new(path.clone());
            c.baud = baud.unwrap_or(c.baud);
            readers.push(Arc::new(
                ReaderDriver::rdm6300(c).map_err(named("card reader"))?,
            ));
        }
        Some(_) => return Err("the card reader must be serial".into()),
    }
    let terminal: Option<Arc<dyn PaymentTerminal>> = match &cfg.terminal {
        None => None,
        Some(link) => {
            let mut c = match link {
                DeviceLink::Tcp(addr) => ZvtConfig::tcp(addr.clone()),
                DeviceLink::Serial { path, baud } => {
                    ZvtConfig::serial(path.clone(), baud.unwrap_or(9600))
                }
                _ => return Err("the payment terminal must be tcp or serial".into()),
            };
            c.currency = currency.to_string();
            Some(Arc::new(
                ZvtTerminal::new(c).map_err(named("payment terminal"))?,
            ))
        }
    };
    Ok(LaneDevices {
        gate,
        arming_loop,
        pass_loop,
        camera,
        printer,
        readers,
        terminal,
    })
}
