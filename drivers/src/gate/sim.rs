//! A simulated barrier I/O board: a real Modbus server (RTU on a pseudo-terminal, TCP on
//! loopback) wired like a [`GateMap`]. A rising edge on the open coil lifts the arm, which
//! reaches the open limit after the travel time; the close coil lowers it. Without a close coil
//! the arm closes by itself when a loop clears while it is open. Inputs show raw wire levels, so
//! inverted (fail-safe) inputs read low when active. Holding registers stand in for a count sign.

use super::map::GateMap;
use crate::health::{DriverError, Result};
use std::collections::BTreeMap;
use std::future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_modbus::server::Service;
use tokio_modbus::{ExceptionCode, Request, Response, SlaveRequest};

/// Where the simulated arm is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arm {
    Closed,
    Opening,
    Open,
    Closing,
}

/// A write the board received, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BoardWrite {
    Coil { address: u16, on: bool },
    Register { address: u16, value: u16 },
}

struct Board {
    arm: Arm,
    moved_at: Instant,
    coils: BTreeMap<u16, bool>,
    loops: BTreeMap<String, bool>,
    inputs: BTreeMap<u16, bool>,
    registers: BTreeMap<u16, u16>,
    writes: Vec<BoardWrite>,
}

struct Inner {
    map: GateMap,
    travel: Duration,
    answering: AtomicBool,
    stuck: AtomicBool,
    board: Mutex<Board>,
}

/// The simulated board. Start it with [`GateBoard::serve_rtu`] and/or [`GateBoard::serve_tcp`];
/// dropping it stops the servers.
pub struct GateBoard {
    inner: Arc<Inner>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for GateBoard {
    fn drop(&mut self) {
        for t in lock(&self.tasks).drain(..) {
            t.abort();
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl GateBoard {
    /// A board wired like `map`, arm closed, loops clear; `travel` is the arm's travel time.
    pub fn new(map: GateMap, travel: Duration) -> Result<GateBoard> {
        map.validate()?;
        let board = Board {
            arm: Arm::Closed,
            moved_at: Instant::now(),
            coils: BTreeMap::new(),
            loops: map.loops.iter().map(|l| (l.name.clone(), false)).collect(),
            inputs: BTreeMap::new(),
            registers: BTreeMap::new(),
            writes: Vec::new(),
        };
        Ok(GateBoard {
            inner: Arc::new(Inner {
                map,
                travel,
                answering: AtomicBool::new(true),
                stuck: AtomicBool::new(false),
                board: Mutex::new(board),
            }),
            tasks: Mutex::new(Vec::new()),
        })
    }

    /// Serves Modbus RTU on a new pseudo-terminal; returns the path a driver opens.
    pub async fn serve_rtu(&self) -> Result<PathBuf> {
        let pair = crate::serial::pty_pair()?;
        let path = pair.path.clone();
        let service = BoardService {
            inner: self.inner.clone(),
            rtu: true,
        };
        let task = tokio::spawn(async move {
            let pair = pair; // keeps the slave side open while serving
            let server = tokio_modbus::server::rtu::Server::new(pair.master);
            if let Err(e) = server.serve_forever(service).await {
                tracing::warn!(error = %e, "simulated gate board: RTU server stopped");
            }
        });
        lock(&self.tasks).push(task);
        Ok(path)
    }

    /// Serves Modbus TCP on 127.0.0.1 at a free port; returns the bound address.
    pub async fn serve_tcp(&self) -> Result<SocketAddr> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| DriverError::io(format!("simulated gate board: cannot bind: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| DriverError::io(format!("simulated gate board: {e}")))?;
        let inner = self.inner.clone();
        let task = tokio::spawn(async move {
            let server = tokio_modbus::server::tcp::Server::new(listener);
            let new_service = move |_peer| {
                Ok(Some(BoardService {
                    inner: inner.clone(),
                    rtu: false,
                }))
            };
            let on_connected = |stream, peer| {
                let accepted =
                    tokio_modbus::server::tcp::accept_tcp_connection(stream, peer, &new_service);
                async move { accepted }
            };
            let on_error = |e| tracing::warn!(error = %e, "simulated gate board: TCP connection");
            if let Err(e) = server.serve(&on_connected, on_error).await {
                tracing::warn!(error = %e, "simulated gate board: TCP server stopped");
            }
        });
        lock(&self.tasks).push(task);
        Ok(addr)
    }

    /// Occupies or clears the named loop.
    pub fn set_loop(&self, name: &str, occupied: bool) -> Result<()> {
        let mut b = lock(&self.inner.board);
        self.inner.settle(&mut b);
        let Some(slot) = b.loops.get_mut(name) else {
            return Err(DriverError::config(format!(
                "simulated gate board: no loop named {name:?}"
            )));
        };
        let was = std::mem::replace(slot, occupied);
        if was && !occupied && self.inner.map.close_coil.is_none() && b.arm == Arm::Open {
            self.inner.start(&mut b, Arm::Closed);
        }
        Ok(())
    }

    /// Sets the raw level of an input no loop or limit uses.
    pub fn set_input(&self, address: u16, level: bool) {
        lock(&self.inner.board).inputs.insert(address, level);
    }

    /// `false` stops all replies, like a pulled cable; `true` answers again.
    pub fn set_answering(&self, answering: bool) {
        self.inner.answering.store(answering, Ordering::SeqCst);
    }

    /// A stuck arm leaves its limit but never reaches the other one.
    pub fn set_stuck(&self, stuck: bool) {
        self.inner.stuck.store(stuck, Ordering::SeqCst);
    }

    pub fn arm(&self) -> Arm {
        let mut b = lock(&self.inner.board);
        self.inner.settle(&mut b);
        b.arm
    }

    /// The raw level of a discrete input, as a driver reads it.
    pub fn input(&self, address: u16) -> bool {
        let mut b = lock(&self.inner.board);
        self.inner.settle(&mut b);
        self.inner.raw_input(&b, address)
    }

    /// A holding register, e.g. the free count a display shows.
    pub fn holding_register(&self, address: u16) -> u16 {
        lock(&self.inner.board)
            .registers
            .get(&address)
            .copied()
            .unwrap_or(0)
    }

    /// Every write the board received, in order.
    pub fn writes(&self) -> Vec<BoardWrite> {
        lock(&self.inner.board).writes.clone()
    }
}

impl Inner {
    fn start(&self, b: &mut Board, target: Arm) {
        let moving = if target == Arm::Open {
            Arm::Opening
        } else {
            Arm::Closing
        };
        if b.arm != target && b.arm != moving {
            b.arm = moving;
            b.moved_at = Instant::now();
        }
    }

    fn settle(&self, b: &mut Board) {
        if self.stuck.load(Ordering::SeqCst) || b.moved_at.elapsed() < self.travel {
            return;
        }
        b.arm = match b.arm {
            Arm::Opening => Arm::Open,
            Arm::Closing => Arm::Closed,
            other => other,
        };
    }

    fn raw_input(&self, b: &Board, address: u16) -> bool {
        let m = &self.map;
        if address == m.open_limit.address {
            return GateMap::raw_level(b.arm == Arm::Open, m.open_limit.inverted);
        }
        if address == m.closed_limit.address {
            return GateMap::raw_level(b.arm == Arm::Closed, m.closed_limit.inverted);
        }
        if let Some(l) = m.loops.iter().find(|l| l.address == address) {
            let occupied = b.loops.get(&l.name).copied().unwrap_or(false);
            return GateMap::raw_level(occupied, l.inverted);
        }
        b.inputs.get(&address).copied().unwrap_or(false)
    }

    fn write_coil(&self, b: &mut Board, address: u16, on: bool) {
        b.writes.push(BoardWrite::Coil { address, on });
        let was = b.coils.insert(address, on).unwrap_or(false);
        if on && !was {
            if address == self.map.open_coil {
                self.start(b, Arm::Open);
            } else if Some(address) == self.map.close_coil {
                self.start(b, Arm::Closed);
            }
        }
    }

    fn handle(&self, req: Request<'_>) -> std::result::Result<Response, ExceptionCode> {
        let mut b = lock(&self.board);
        self.settle(&mut b);
        let span = |addr: u16, qty: u16, max: u16| {
            if qty == 0 || qty > max || u32::from(addr) + u32::from(qty) > 0x1_0000 {
                Err(ExceptionCode::IllegalDataValue)
            } else {
                let first = u32::from(addr);
                Ok((first..first + u32::from(qty)).map(|a| a as u16))
            }
        };
        match req {
            Request::ReadDiscreteInputs(addr, qty) => {
                let r = span(addr, qty, 2000)?;
                Ok(Response::ReadDiscreteInputs(
                    r.map(|a| self.raw_input(&b, a)).collect(),
                ))
            }
            Request::ReadCoils(addr, qty) => {
                let r = span(addr, qty, 2000)?;
                Ok(Response::ReadCoils(
                    r.map(|a| b.coils.get(&a).copied().unwrap_or(false))
                        .collect(),
                ))
            }
            Request::WriteSingleCoil(addr, on) => {
                self.write_coil(&mut b, addr, on);
                Ok(Response::WriteSingleCoil(addr, on))
            }
            Request::WriteMultipleCoils(addr, coils) => {
                let r = span(addr, coils.len().try_into().unwrap_or(u16::MAX), 1968)?;
                for (a, on) in r.zip(coils.iter()) {
                    self.write_coil(&mut b, a, *on);
                }
                Ok(Response::WriteMultipleCoils(addr, coils.len() as u16))
            }
            Request::ReadHoldingRegisters(addr, qty) => {
                let r = span(addr, qty, 125)?;
                Ok(Response::ReadHoldingRegisters(
                    r.map(|a| b.registers.get(&a).copied().unwrap_or(0))
                        .collect(),
                ))
            }
            Request::WriteSingleRegister(address, value) => {
                b.writes.push(BoardWrite::Register { address, value });
                b.registers.insert(address, value);
                Ok(Response::WriteSingleRegister(address, value))
            }
            Request::WriteMultipleRegisters(addr, words) => {
                let r = span(addr, words.len().try_into().unwrap_or(u16::MAX), 123)?;
                for (address, value) in r.zip(words.iter().copied()) {
                    b.writes.push(BoardWrite::Register { address, value });
                    b.registers.insert(address, value);
                }
                Ok(Response::WriteMultipleRegisters(addr, words.len() as u16))
            }
            _ => Err(ExceptionCode::IllegalFunction),
        }
    }
}

struct BoardService {
    inner: Arc<Inner>,
    rtu: bool,
}

impl Service for BoardService {
    type Request = SlaveRequest<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = future::Ready<std::result::Result<Option<Response>, ExceptionCode>>;

    fn call(&self, req: Self::Request) -> Self::Future {
        let unit = self.inner.map.unit_id;
        let broadcast = req.slave == 0;
        // On a shared RS-485 bus other units' requests are not ours; TCP gateways often send 0xFF.
        let ours = req.slave == unit || broadcast || (!self.rtu && req.slave == 0xFF);
        if !ours || !self.inner.answering.load(Ordering::SeqCst) {
            return future::ready(Ok(None));
        }
        let result = self.inner.handle(req.request);
        if broadcast && self.rtu {
            return future::ready(Ok(None));
        }
        future::ready(result.map(Some))
    }
}
