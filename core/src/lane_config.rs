//! The devices at a lane and how the lane behaves, as written under `[lanes.devices]` and in
//! `[[lanes]]` of the lot config. The core only checks the addresses' shape; the lanes runtime
//! turns them into drivers.

use serde::Deserialize;
use std::path::PathBuf;

/// How one lane device is connected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeviceLink {
    /// A network device, `host:port`.
    Tcp(String),
    /// A serial line (RS-232, RS-485 adapter, USB-serial); the device's usual speed when absent.
    Serial { path: PathBuf, baud: Option<u32> },
    /// A USB device file: a printer's `/dev/usb/lp0`, a camera's `/dev/video0`.
    Usb(String),
    /// An IP camera's JPEG snapshot URL.
    Snapshot(String),
    /// An IP camera's MJPEG stream URL.
    Mjpeg(String),
    /// A USB HID scanner that types like a keyboard, `/dev/input/eventN`.
    Wedge(PathBuf),
}

/// The devices at one lane.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LaneDevices {
    /// Every device is a simulator speaking its real protocol (the demo lot).
    pub simulated: bool,
    /// The gate board (Modbus), which also carries the loops.
    pub gate: Option<DeviceLink>,
    /// The gate board's register map (JSON); the standard map when absent.
    pub gate_map: Option<PathBuf>,
    pub camera: Option<DeviceLink>,
    pub printer: Option<DeviceLink>,
    /// The QR and barcode ticket scanner.
    pub scanner: Option<DeviceLink>,
    /// The RFID card reader (RDM6300).
    pub card_reader: Option<DeviceLink>,
    /// The payment terminal (ZVT).
    pub terminal: Option<DeviceLink>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    tcp: Option<String>,
    serial: Option<PathBuf>,
    baud: Option<u32>,
    usb: Option<String>,
    snapshot: Option<String>,
    mjpeg: Option<String>,
    wedge: Option<PathBuf>,
    map: Option<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLaneDevices {
    #[serde(default)]
    simulated: bool,
    gate: Option<RawLink>,
    camera: Option<RawLink>,
    printer: Option<RawLink>,
    scanner: Option<RawLink>,
    card_reader: Option<RawLink>,
    terminal: Option<RawLink>,
}

/// Checks `[lanes.devices]`; `field` is its path (`lanes[0].devices`). Errors are (field, reason).
pub(crate) fn lane_devices(
    field: &str,
    raw: &RawLaneDevices,
) -> Result<LaneDevices, (String, String)> {
    let named = [
        ("gate", &raw.gate),
        ("camera", &raw.camera),
        ("printer", &raw.printer),
        ("scanner", &raw.scanner),
        ("card_reader", &raw.card_reader),
        ("terminal", &raw.terminal),
    ];
    if raw.simulated {
        if let Some((name, _)) = named.iter().find(|(_, l)| l.is_some()) {
            return Err((
                format!("{field}.{name}"),
                "a simulated lane takes no device addresses; remove it, or set simulated = false"
                    .into(),
            ));
        }
        return Ok(LaneDevices {
            simulated: true,
            ..LaneDevices::default()
        });
    }
    let Some(gate_raw) = &raw.gate else {
        return Err((
            format!("{field}.gate"),
            "a lane needs its gate board (it carries the loops and the barrier), for example \
             gate = { tcp = \"10.0.1.20:502\" }; or set simulated = true"
                .into(),
        ));
    };
    let link = |name: &str, raw: &Option<RawLink>, allowed: &[&str]| {
        raw.as_ref()
            .map(|r| link(&format!("{field}.{name}"), r, allowed, name == "gate"))
            .transpose()
    };
    Ok(LaneDevices {
        simulated: false,
        gate: link("gate", &raw.gate, &["tcp", "serial"])?,
        gate_map: gate_raw.map.clone(),
        camera: link("camera", &raw.camera, &["snapshot", "mjpeg", "usb"])?,
        printer: link("printer", &raw.printer, &["tcp", "serial", "usb"])?,
        scanner: link("scanner", &raw.scanner, &["serial", "wedge"])?,
        card_reader: link("card_reader", &raw.card_reader, &["serial"])?,
        terminal: link("terminal", &raw.terminal, &["tcp", "serial"])?,
    })
}

fn link(
    field: &str,
    r: &RawLink,
    allowed: &[&str],
    may_have_map: bool,
) -> Result<DeviceLink, (String, String)> {
    let err = |sub: &str, reason: String| (format!("{field}{sub}"), reason);
    let given: Vec<(&str, DeviceLink)> = [
        r.tcp.clone().map(|a| ("tcp", DeviceLink::Tcp(a))),
        r.serial
            .clone()
            .map(|path| ("serial", DeviceLink::Serial { path, baud: r.baud })),
        r.usb.clone().map(|p| ("usb", DeviceLink::Usb(p))),
        r.snapshot
            .clone()
            .map(|u| ("snapshot", DeviceLink::Snapshot(u))),
        r.mjpeg.clone().map(|u| ("mjpeg", DeviceLink::Mjpeg(u))),
        r.wedge.clone().map(|p| ("wedge", DeviceLink::Wedge(p))),
    ]
    .into_iter()
    .flatten()
    .collect();
    let ways = allowed.join(", ");
    let mut given = given.into_iter();
    let (key, found) = match (given.next(), given.next()) {
        (Some(one), None) => one,
        (None, _) => return Err(err("", format!("say how it is connected: one of {ways}"))),
        (Some((a, _)), Some((b, _))) => {
            return Err(err(
                "",
                format!("both {a} and {b} are given; a device has one connection ({ways})"),
            ));
        }
    };
    if !allowed.contains(&key) {
        return Err(err(
            &format!(".{key}"),
            format!("this device cannot be connected by {key}; use one of {ways}"),
        ));
    }
    if r.baud.is_some() && key != "serial" {
        return Err(err(".baud", "baud is for serial links only".into()));
    }
    if r.baud == Some(0) {
        return Err(err(
            ".baud",
            "baud must be a line speed such as 9600".into(),
        ));
    }
    if r.map.is_some() && !may_have_map {
        return Err(err(".map", "only the gate board has a register map".into()));
    }
    match &found {
        DeviceLink::Tcp(a) if !looks_like_host_port(a) => Err(err(
            ".tcp",
            format!("'{a}' is not host:port, for example 10.0.1.20:502"),
        )),
        DeviceLink::Snapshot(u) | DeviceLink::Mjpeg(u) if !u.starts_with("http://") => Err(err(
            &format!(".{key}"),
            format!("'{u}' is not an http:// URL"),
        )),
        DeviceLink::Usb(p) if p.trim().is_empty() => Err(err(
            ".usb",
            "name the device, for example /dev/usb/lp0".into(),
        )),
        _ => Ok(found),
    }
}

fn looks_like_host_port(a: &str) -> bool {
    match a.rsplit_once(':') {
        Some((host, port)) => !host.trim().is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<LaneDevices, (String, String)> {
        let raw: RawLaneDevices = toml::from_str(text).expect("toml");
        lane_devices("lanes[0].devices", &raw)
    }

    #[test]
    fn a_real_lane_names_each_device_link() {
        let d = parse(
            r#"
            gate = { tcp = "10.0.1.20:502", map = "boards/e1.json" }
            camera = { snapshot = "http://10.0.1.21/snap.jpg" }
            printer = { serial = "/dev/ttyS0", baud = 19200 }
            scanner = { wedge = "/dev/input/event3" }
            card_reader = { serial = "/dev/ttyUSB1" }
            "#,
        )
        .expect("valid");
        assert_eq!(d.gate, Some(DeviceLink::Tcp("10.0.1.20:502".into())));
        assert_eq!(d.gate_map, Some(PathBuf::from("boards/e1.json")));
        assert_eq!(
            d.printer,
            Some(DeviceLink::Serial {
                path: "/dev/ttyS0".into(),
                baud: Some(19200)
            })
        );
        assert_eq!(d.terminal, None);
        assert!(!d.simulated);
    }

    #[test]
    fn a_lane_without_a_gate_board_is_refused_and_told_how() {
        let (field, reason) = parse(r#"camera = { usb = "/dev/video0" }"#).unwrap_err();
        assert_eq!(field, "lanes[0].devices.gate");
        assert!(reason.contains("simulated = true"), "{reason}");
    }

    #[test]
    fn a_device_with_the_wrong_kind_of_link_is_refused() {
        let (field, reason) = parse(
            r#"
            gate = { tcp = "10.0.1.20:502" }
            terminal = { usb = "/dev/usb/lp0" }
            "#,
        )
        .unwrap_err();
        assert_eq!(field, "lanes[0].devices.terminal.usb");
        assert!(reason.contains("tcp, serial"), "{reason}");
    }

    #[test]
    fn two_links_for_one_device_are_refused() {
        let (field, reason) =
            parse(r#"gate = { tcp = "10.0.1.20:502", serial = "/dev/ttyUSB0" }"#).unwrap_err();
        assert_eq!(field, "lanes[0].devices.gate");
        assert!(reason.contains("both tcp and serial"), "{reason}");
    }

    #[test]
    fn a_tcp_address_without_a_port_is_refused() {
        let (field, reason) = parse(r#"gate = { tcp = "10.0.1.20" }"#).unwrap_err();
        assert_eq!(field, "lanes[0].devices.gate.tcp");
        assert!(reason.contains("host:port"), "{reason}");
    }

    #[test]
    fn a_simulated_lane_takes_no_addresses() {
        assert!(parse("simulated = true").expect("valid").simulated);
        let (field, _) = parse(
            r#"simulated = true
            gate = { tcp = "10.0.1.20:502" }"#,
        )
        .unwrap_err();
        assert_eq!(field, "lanes[0].devices.gate");
    }
}
