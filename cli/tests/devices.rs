//! `gatehouse device …` against `gatehouse simulate …`, both as real processes. Every wait has a
//! timeout, and simulators are killed when a test ends, so a broken build cannot hang CI.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// A running `gatehouse --json simulate …`; killed when dropped.
struct Sim {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::Receiver<String>,
    /// The simulator's first line: where it is.
    whereabouts: Value,
}

impl Sim {
    fn start(args: &[&str]) -> Sim {
        let mut child = common::gatehouse()
            .arg("--json")
            .arg("simulate")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut sim = Sim {
            child,
            stdin,
            lines,
            whereabouts: Value::Null,
        };
        sim.whereabouts = sim.next();
        assert_eq!(sim.whereabouts["simulator"], args[0], "{}", sim.whereabouts);
        sim
    }

    /// The simulator's next JSON line.
    fn next(&self) -> Value {
        let line = self
            .lines
            .recv_timeout(WAIT)
            .expect("the simulator printed nothing in time");
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
    }

    fn tcp(&self) -> String {
        self.whereabouts["tcp"].as_str().unwrap().to_string()
    }

    /// Writes a stdin command and waits for the simulator to acknowledge it.
    fn command(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let ack = self.next();
        assert_eq!(ack["command"], line, "{ack}");
        assert!(ack.get("done").is_some(), "{ack}");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `gatehouse --json ARGS` with a time limit; returns success and the last JSON line.
fn run_json(args: &[&str]) -> (bool, Value) {
    let mut child = common::gatehouse()
        .arg("--json")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if started.elapsed() > WAIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("gatehouse {args:?} did not finish within {WAIT:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let last = stdout
        .lines()
        .last()
        .unwrap_or_else(|| panic!("no output from {args:?}; stderr: {stderr}"));
    (status.success(), serde_json::from_str(last).unwrap())
}

#[test]
fn print_test_reaches_the_simulated_printer_and_paper_out_is_reported() {
    let mut sim = Sim::start(&["printer", "--tcp"]);
    let addr = sim.tcp();
    let (ok, v) = run_json(&["device", "print-test", "--tcp", &addr]);
    assert!(ok, "{v}");
    assert_eq!(v["printed"], true, "{v}");
    let qr = v["qr"].as_str().unwrap();
    assert!(qr.starts_with("GATEHOUSE-TEST-"), "{v}");

    let ticket = sim.next();
    let payloads = ticket["qr_payloads"].as_array().unwrap();
    assert_eq!(payloads.len(), 1, "{ticket}");
    assert!(
        payloads[0].as_str().unwrap().starts_with("GATEHOUSE-TEST"),
        "{ticket}"
    );
    assert_eq!(payloads[0], qr);
    let text = ticket["text_lines"].to_string();
    assert!(
        text.contains("Test ticket") && text.contains("Spot: TEST"),
        "{ticket}"
    );

    sim.command("paper out");
    let (ok, v) = run_json(&["device", "print-test", "--tcp", &addr]);
    assert!(!ok, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("paper"), "{v}");

    let (ok, v) = run_json(&["device", "printer-status", "--tcp", &addr]);
    assert!(ok, "{v}");
    assert_eq!(v["status"]["paper_out"], true, "{v}");
}

#[test]
fn gate_opens_and_closes_against_the_simulated_board() {
    let sim = Sim::start(&["gate", "--tcp", "--travel-ms", "200"]);
    let addr = sim.tcp();
    let (ok, v) = run_json(&["device", "gate", "--tcp", &addr, "open"]);
    assert!(ok, "{v}");
    assert_eq!(v["confirmed"], true, "{v}");
    assert_eq!(v["position"], "open", "{v}");

    // The simulator saw the open coil pulsed and the arm move.
    let mut seen = Vec::new();
    while !seen.contains(&"open".to_string()) {
        let line = sim.next();
        if let Some(arm) = line["arm"].as_str() {
            seen.push(arm.to_string());
        }
    }

    // With the default map written to a file, as an installer would.
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("gate.json");
    std::fs::write(
        &map,
        r#"{"unit_id":1,"open_coil":0,"close_coil":1,"open_limit":{"address":0},
            "closed_limit":{"address":1},
            "loops":[{"name":"arming","address":2},{"name":"safety","address":3}]}"#,
    )
    .unwrap();
    let (ok, v) = run_json(&[
        "device",
        "gate",
        "--tcp",
        &addr,
        "--map",
        map.to_str().unwrap(),
        "close",
    ]);
    assert!(ok, "{v}");
    assert_eq!(v["confirmed"], true, "{v}");
    assert_eq!(v["position"], "closed", "{v}");
}

#[test]
fn gate_refuses_a_bad_map_naming_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let map = dir.path().join("gate.json");
    std::fs::write(
        &map,
        r#"{"unit_id":0,"open_coil":0,"open_limit":{"address":0},"closed_limit":{"address":1}}"#,
    )
    .unwrap();
    let (ok, v) = run_json(&[
        "device",
        "gate",
        "--tcp",
        "127.0.0.1:1",
        "--map",
        map.to_str().unwrap(),
        "open",
    ]);
    assert!(!ok);
    assert_eq!(v["error"]["kind"], "config", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("unit_id"),
        "{v}"
    );
}

#[test]
fn a_test_payment_is_approved_and_charged_once() {
    let sim = Sim::start(&["terminal", "--tcp"]);
    let addr = sim.tcp();
    let (ok, v) = run_json(&["device", "pay", "--tcp", &addr, "--amount", "2.50"]);
    assert!(ok, "{v}");
    assert_eq!(v["outcome"], "approved", "{v}");
    assert_eq!(v["amount_minor"], 250, "{v}");

    let charge = sim.next();
    assert_eq!(charge["charge"]["amount_minor"], 250, "{charge}");
    // Exactly one charge: nothing more within a moment.
    assert!(
        sim.lines.recv_timeout(Duration::from_millis(500)).is_err(),
        "a second line from the terminal simulator"
    );
}

#[test]
fn a_bad_amount_is_refused_before_any_io() {
    let (ok, v) = run_json(&["device", "pay", "--tcp", "127.0.0.1:1", "--amount", "2.505"]);
    assert!(!ok);
    assert_eq!(v["error"]["kind"], "invalid_input", "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("--amount"),
        "{v}"
    );
}

#[test]
fn a_frame_from_the_simulated_cameras_stream_is_written_as_jpeg() {
    let sim = Sim::start(&["camera"]);
    let stream = sim.whereabouts["stream"].as_str().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("lane.jpg");
    let (ok, v) = run_json(&[
        "device",
        "camera",
        "--mjpeg",
        &stream,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{v}");
    assert_eq!(
        (v["width"].as_u64(), v["height"].as_u64()),
        (Some(320), Some(240))
    );
    let jpeg = std::fs::read(&out).unwrap();
    assert_eq!(v["bytes"].as_u64(), Some(jpeg.len() as u64), "{v}");
    assert_eq!(&jpeg[..2], &[0xFF, 0xD8], "not a JPEG");
}

/// A /dev/videoN this machine does not have.
fn absent_video_device() -> String {
    (7..64)
        .map(|n| format!("/dev/video{n}"))
        .find(|p| !std::path::Path::new(p).exists())
        .unwrap()
}

#[test]
fn a_missing_usb_camera_is_unavailable_naming_the_device() {
    let device = absent_video_device();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("frame.jpg");
    let started = Instant::now();
    let (ok, v) = run_json(&[
        "device",
        "camera",
        "--usb",
        &device,
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert_eq!(v["error"]["kind"], "unavailable", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains(&device), "{v}");
    assert!(message.contains("plugged in"), "{v}");
    // Said at once, not after the 10 s a slow first picture is given.
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(!out.exists());
}

#[test]
fn a_file_named_as_usb_camera_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_camera = dir.path().join("video0");
    std::fs::write(&not_a_camera, b"x").unwrap();
    let out = dir.path().join("frame.jpg");
    let (ok, v) = run_json(&[
        "device",
        "camera",
        "--usb",
        not_a_camera.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert_eq!(v["error"]["kind"], "config", "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains(not_a_camera.to_str().unwrap()), "{v}");
    assert!(message.contains("/dev/videoN"), "{v}");
}
