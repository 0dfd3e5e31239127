//! From the lot config to running lanes: each `[[lanes]]` with `[lanes.devices]` becomes a
//! [`LaneSetup`] whose drivers talk to the addresses configured, or to simulators when the lane
//! is `simulated` (the demo lot).

use crate::entry::EntryConfig;
use crate::exit::ExitConfig;
use crate::runtime::{LaneDevices, LaneRole, LaneSetup};
use crate::sim::SimLane;
use gatehouse_anpr::scene::Renderer;
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
use std::path::PathBuf;
use std::sync::Arc;

/// A configured lane ready to start, with its simulators when it is simulated.
pub struct WiredLane {
    pub setup: LaneSetup,
    pub sim: Option<SimLane>,
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

/// Starts the drivers (or simulators) of every lane that has `[lanes.devices]`. Simulated lanes
/// need the renderer that draws what their cameras see.
pub async fn wire_lanes(
    config: &LotConfig,
    renderer: Option<Arc<Renderer>>,
) -> Result<Vec<WiredLane>, Error> {
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
            let renderer = renderer.clone().ok_or_else(|| {
                fail("simulated devices need the plate renderer, which is not available".into())
            })?;
            let (sim, devices) = SimLane::start(lane.kind == LaneKind::Exit, renderer)
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
