//! The barrier driver against a public Modbus slave: pymodbus (pinned in tests/requirements.txt,
//! installed into a venv by `./dev setup`) plays the gate board in tests/pymodbus_board.py, over
//! Modbus TCP on loopback and over Modbus RTU on a socat pseudo-terminal pair. This is what an
//! installer can do before the board arrives, and it checks the driver against a Modbus stack
//! that is not ours.
//!
//! The venv's interpreter is `GATEHOUSE_PYTHON` (./dev sets it), by default
//! `~/.cache/gatehouse/venv/bin/python`. Without pymodbus these tests fail and say to run
//! `./dev setup`; they never skip.
#![cfg(feature = "gate")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod gate_common;

use gate_common::{expect_event_within, loop_event, wait_health};
use gatehouse_drivers::gate::{
    Gate, GateEvent, GateMap, InputMap, LoopMap, ModbusGate, Position, Transport,
};
use gatehouse_drivers::{ErrorKind, HealthState};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::{broadcast, mpsc};

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pymodbus_board.py");
const REQUIREMENTS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/requirements.txt");
const WAIT: Duration = Duration::from_secs(20);

/// The venv's Python, as ./dev makes it.
fn python() -> PathBuf {
    if let Some(p) = std::env::var_os("GATEHOUSE_PYTHON") {
        return PathBuf::from(p);
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache")))
        .unwrap_or_else(|| PathBuf::from(".cache"));
    cache.join("gatehouse/venv/bin/python")
}

/// The versions pinned in requirements.txt, e.g. ("pymodbus", "3.11.4").
fn pins() -> Vec<(String, String)> {
    std::fs::read_to_string(REQUIREMENTS)
        .unwrap()
        .lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (name, version) = l.split_once("==").expect("requirements pin with ==");
            (name.trim().to_string(), version.trim().to_string())
        })
        .collect()
}

/// Fails (never skips) when the venv or its pinned packages are missing.
fn check_python() -> PathBuf {
    let python = python();
    let probe = Command::new(&python)
        .args([
            "-c",
            "import pymodbus, serial; print('pymodbus', pymodbus.__version__); print('pyserial', serial.__version__)",
        ])
        .output();
    let out = match probe {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).into_owned(),
        Ok(out) => panic!(
            "pymodbus is not installed for {} ({}); run ./dev setup to make the device tests' Python venv",
            python.display(),
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .trim()
        ),
        Err(e) => panic!(
            "no Python at {} ({e}); run ./dev setup to make the device tests' Python venv, or set GATEHOUSE_PYTHON",
            python.display()
        ),
    };
    for (name, version) in pins() {
        let want = format!("{name} {version}");
        assert!(
            out.lines().any(|l| l.trim() == want),
            "{} has {:?}, not {want} as tests/requirements.txt pins; run ./dev setup",
            python.display(),
            out.trim()
        );
    }
    python
}

/// The lane's wiring; the board reads the same map.
fn map() -> GateMap {
    GateMap {
        unit_id: 7,
        open_coil: 0,
        open_pulse_ms: 40,
        close_coil: Some(1),
        close_pulse_ms: 40,
        open_limit: InputMap {
            address: 10,
            inverted: false,
        },
        closed_limit: InputMap {
            address: 11,
            inverted: false,
        },
        loops: vec![
            LoopMap {
                name: "arming".into(),
                address: 12,
                inverted: false,
            },
            // Fail-safe wiring: the board's input is high while the loop is clear.
            LoopMap {
                name: "safety".into(),
                address: 13,
                inverted: true,
            },
        ],
        poll_interval_ms: 20,
        confirm_timeout_ms: 3000,
        response_timeout_ms: 500,
    }
}

/// A socat-made pseudo-terminal pair standing in for the RS-485 line; killed on drop.
struct Line {
    child: Child,
    driver_side: PathBuf,
    board_side: PathBuf,
    _dir: tempfile::TempDir,
}

impl Drop for Line {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn socat_line() -> Line {
    let dir = tempfile::tempdir().unwrap();
    let driver_side = dir.path().join("gate");
    let board_side = dir.path().join("board");
    let child = Command::new("socat")
        .arg(format!("pty,raw,echo=0,link={}", driver_side.display()))
        .arg(format!("pty,raw,echo=0,link={}", board_side.display()))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat is installed by ./dev setup (apt-get install socat)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(driver_side.exists() && board_side.exists()) {
        assert!(Instant::now() < deadline, "socat made no pty pair");
        std::thread::sleep(Duration::from_millis(20));
    }
    Line {
        child,
        driver_side,
        board_side,
        _dir: dir,
    }
}

#[derive(Clone)]
enum Serve {
    /// Modbus TCP on 127.0.0.1 at this port (0: any free one).
    Tcp(u16),
    /// Modbus RTU on this end of the line.
    Rtu(PathBuf),
}

/// The pymodbus board process; killed on drop.
struct Board {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: mpsc::UnboundedReceiver<Value>,
    /// Every line the board printed so far, in order.
    seen: Vec<Value>,
    stderr: Arc<Mutex<String>>,
    serving: Value,
    _map_dir: tempfile::TempDir,
}

impl Drop for Board {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Board {
    async fn start(serve: &Serve) -> Board {
        let python = check_python();
        let map_dir = tempfile::tempdir().unwrap();
        let map_file = map_dir.path().join("gate.json");
        std::fs::write(&map_file, serde_json::to_string(&map()).unwrap()).unwrap();
        let mut cmd = Command::new(&python);
        cmd.arg(SCRIPT)
            .arg("--map")
            .arg(&map_file)
            .args(["--travel-ms", "150"]);
        match serve {
            Serve::Tcp(port) => cmd.args(["--tcp", &port.to_string()]),
            Serve::Rtu(path) => cmd.arg("--rtu").arg(path).args(["--baud", "19200"]),
        };
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}; run ./dev setup", python.display()));
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|e| json!({ "not_json": line, "error": e.to_string() }));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        let stderr = Arc::new(Mutex::new(String::new()));
        let mut err_pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                sink.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
        let mut board = Board {
            stdin: child.stdin.take(),
            child,
            lines,
            seen: Vec::new(),
            stderr,
            serving: Value::Null,
            _map_dir: map_dir,
        };
        board.serving = board
            .wait_for("its serving line", |v| v.get("serving").is_some())
            .await;
        let pinned = pins()
            .into_iter()
            .find(|(name, _)| name == "pymodbus")
            .map(|(_, v)| v);
        assert_eq!(
            board.serving["pymodbus"].as_str(),
            pinned.as_deref(),
            "{}",
            board.serving
        );
        board
    }

    /// The board's Modbus TCP address.
    fn address(&self) -> String {
        self.serving["address"].as_str().unwrap().to_string()
    }

    fn port(&self) -> u16 {
        self.address().rsplit_once(':').unwrap().1.parse().unwrap()
    }

    /// Waits for the next line (after those already seen) that matches.
    async fn wait_for(&mut self, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.lines.recv()).await {
                Ok(Some(v)) => {
                    self.seen.push(v.clone());
                    if pred(&v) {
                        return v;
                    }
                }
                Ok(None) => panic!(
                    "the pymodbus board ended before printing {what}; its stderr: {}",
                    self.stderr.lock().unwrap()
                ),
                Err(_) => panic!(
                    "the pymodbus board printed no {what} within {WAIT:?}; seen {:?}; stderr: {}",
                    self.seen,
                    self.stderr.lock().unwrap()
                ),
            }
        }
    }

    async fn arm(&mut self, position: &str) {
        self.wait_for(&format!("arm {position}"), |v| v["arm"] == position)
            .await;
    }

    /// Types a command on the board's stdin and waits for its acknowledgement.
    async fn command(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let ack = self
            .wait_for(&format!("the answer to {line:?}"), |v| v["command"] == line)
            .await;
        assert_eq!(ack["done"], true, "{ack}");
    }

    /// The coil writes the board received so far, as (coil, on).
    fn coil_writes(&self) -> Vec<(u64, bool)> {
        self.seen
            .iter()
            .filter_map(|v| Some((v["coil"].as_u64()?, v["on"].as_bool()?)))
            .collect()
    }

    /// Pulls the plug: the process is killed, mid-conversation if need be.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

/// A board and a driver, the driver's health ok.
struct Lane {
    board: Board,
    gate: ModbusGate,
    serve: Serve,
    _line: Option<Line>,
}

#[derive(Clone, Copy, Debug)]
enum Via {
    Tcp,
    Rtu,
}

async fn lane(via: Via) -> Lane {
    let (serve, transport, line) = match via {
        Via::Tcp => (Serve::Tcp(0), None, None),
        Via::Rtu => {
            let line = socat_line();
            let transport = Transport::Rtu {
                path: line.driver_side.clone(),
                baud: 19200,
            };
            (
                Serve::Rtu(line.board_side.clone()),
                Some(transport),
                Some(line),
            )
        }
    };
    let board = Board::start(&serve).await;
    // A TCP board restarts on the port it had, like a board at its fixed address.
    let (serve, transport) = match transport {
        Some(t) => (serve, t),
        None => (
            Serve::Tcp(board.port()),
            Transport::Tcp {
                address: board.address(),
            },
        ),
    };
    let gate = ModbusGate::start(transport, map()).unwrap();
    wait_health(&mut gate.health(), HealthState::Ok, 10).await;
    Lane {
        board,
        gate,
        serve,
        _line: line,
    }
}

async fn expect_event(rx: &mut broadcast::Receiver<GateEvent>, want: GateEvent) {
    expect_event_within(rx, want, 5).await
}

async fn open_and_close_are_confirmed_by_the_limit_switches(via: Via) {
    let mut lane = lane(via).await;
    let gate = &lane.gate;
    let mut events = gate.events();
    assert_eq!(gate.state().position, Position::Closed);

    gate.open().await.unwrap();
    assert_eq!(gate.state().position, Position::Open);
    expect_event(&mut events, GateEvent::Opened).await;
    lane.board.arm("opening").await;
    lane.board.arm("open").await;

    gate.close().await.unwrap();
    assert_eq!(gate.state().position, Position::Closed);
    expect_event(&mut events, GateEvent::Closed).await;
    lane.board.arm("closing").await;
    lane.board.arm("closed").await;

    // Each command was a pulse the board saw: coil on, then off again.
    assert_eq!(
        lane.board.coil_writes(),
        vec![(0, true), (0, false), (1, true), (1, false)]
    );
    assert_eq!(gate.health().borrow().state, HealthState::Ok);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_and_close_are_confirmed_by_the_pymodbus_board_over_tcp() {
    open_and_close_are_confirmed_by_the_limit_switches(Via::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn open_and_close_are_confirmed_by_the_pymodbus_board_over_rtu() {
    open_and_close_are_confirmed_by_the_limit_switches(Via::Rtu).await;
}

async fn loops_become_occupied_and_clear(via: Via) {
    let mut lane = lane(via).await;
    let mut events = lane.gate.events();
    assert_eq!(lane.gate.state().loops.get("arming"), Some(&false));
    // The fail-safe loop's input is high on the wire while clear, and reads clear.
    assert_eq!(lane.gate.state().loops.get("safety"), Some(&false));

    lane.board.command("loop arming on").await;
    expect_event(&mut events, loop_event("arming", true)).await;
    assert_eq!(lane.gate.state().loops.get("arming"), Some(&true));
    lane.board.command("loop safety on").await;
    expect_event(&mut events, loop_event("safety", true)).await;
    lane.board.command("loop arming off").await;
    expect_event(&mut events, loop_event("arming", false)).await;
    lane.board.command("loop safety off").await;
    expect_event(&mut events, loop_event("safety", false)).await;
    let loops = lane.gate.state().loops;
    assert_eq!(loops.get("arming"), Some(&false));
    assert_eq!(loops.get("safety"), Some(&false));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_on_the_pymodbus_board_arrive_as_events_over_tcp() {
    loops_become_occupied_and_clear(Via::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loops_on_the_pymodbus_board_arrive_as_events_over_rtu() {
    loops_become_occupied_and_clear(Via::Rtu).await;
}

async fn a_killed_board_is_a_fault_and_a_restarted_one_is_used_again(via: Via) {
    let Lane {
        board,
        gate,
        serve,
        _line,
    } = lane(via).await;
    let mut health = gate.health();
    let mut events = gate.events();
    board.kill();

    let offline = wait_health(&mut health, HealthState::Offline, 10).await;
    assert!(offline.reason.contains("board at"), "{}", offline.reason);
    assert!(
        offline.reason.contains("check power and cable"),
        "{}",
        offline.reason
    );
    expect_event(
        &mut events,
        GateEvent::Fault {
            reason: offline.reason.clone(),
        },
    )
    .await;
    let started = Instant::now();
    let err = gate.open().await.unwrap_err();
    assert!(
        matches!(err.kind, ErrorKind::Io | ErrorKind::Timeout),
        "{err:?}"
    );
    assert!(err.message.contains("board at"), "{}", err.message);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "the failed open took {:?}",
        started.elapsed()
    );
    assert_eq!(gate.health().borrow().state, HealthState::Offline);

    // The board comes back (same port, same line): the driver finds it by itself.
    let mut board = Board::start(&serve).await;
    wait_health(&mut health, HealthState::Ok, 10).await;
    assert_eq!(gate.state().position, Position::Closed);
    board.command("loop arming on").await;
    expect_event(&mut events, loop_event("arming", true)).await;
    gate.open().await.unwrap();
    board.arm("open").await;
    assert_eq!(gate.state().position, Position::Open);
    // Nothing of the open tried while the board was off reached the new board: one pulse.
    assert_eq!(board.coil_writes(), vec![(0, true), (0, false)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_pymodbus_board_over_tcp_takes_the_gate_offline_and_a_restart_recovers() {
    a_killed_board_is_a_fault_and_a_restarted_one_is_used_again(Via::Tcp).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_killed_pymodbus_board_over_rtu_takes_the_gate_offline_and_a_restart_recovers() {
    a_killed_board_is_a_fault_and_a_restarted_one_is_used_again(Via::Rtu).await;
}
