//! A simulated ESC/POS printer on a loopback TCP port (like port 9100) or on the master side of
//! a pseudo-terminal. It records every byte, answers DLE EOT 1–4 from its state, and "prints"
//! what it receives: tickets are the decoded stream split at each cut. Bytes that arrive while
//! the paper is out or the cover is open are recorded in `raw()` but not printed.

use super::PrinterLink;
use super::escpos::{self, Decoded};
use crate::health::{DriverError, Result};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio::task::JoinHandle;

#[derive(Default)]
struct State {
    raw: Vec<u8>,
    /// Bytes of the job being printed (since the last cut).
    pending: Vec<u8>,
    /// Up to two bytes of a DLE EOT request split across reads.
    realtime: Vec<u8>,
    tickets: Vec<Decoded>,
    paper_out: bool,
    paper_near_end: bool,
    cover_open: bool,
    silent: bool,
    /// Tickets left on the roll, when the roll is to run out.
    paper_left: Option<usize>,
    connections: usize,
    status_requests: usize,
}

impl State {
    fn can_print(&self) -> bool {
        !self.paper_out && !self.cover_open
    }

    /// Takes received bytes; returns the status answers to send back.
    fn receive(&mut self, bytes: &[u8]) -> Vec<u8> {
        let mut answers = Vec::new();
        self.raw.extend_from_slice(bytes);
        for &b in bytes {
            match (self.realtime.as_slice(), b) {
                ([], 0x10) | ([0x10], 0x04) => self.realtime.push(b),
                ([0x10, 0x04], 1..=4) => {
                    self.realtime.clear();
                    self.status_requests += 1;
                    if !self.silent {
                        answers.push(self.answer(b));
                    }
                }
                _ => {
                    let held = std::mem::take(&mut self.realtime);
                    for h in held {
                        self.print(h);
                    }
                    if b == 0x10 {
                        self.realtime.push(b);
                    } else {
                        self.print(b);
                    }
                }
            }
        }
        self.cut_tickets();
        answers
    }

    fn print(&mut self, b: u8) {
        if self.paper_left == Some(0) && self.can_print() {
            tracing::info!("simulated printer: the paper roll ran out");
            self.paper_out = true;
        }
        if self.can_print() {
            self.pending.push(b);
        }
    }

    fn cut_tickets(&mut self) {
        let (tickets, used) = escpos::split_tickets(&self.pending);
        for t in tickets {
            if self.paper_left == Some(0) {
                self.paper_out = true;
                self.pending.clear();
                return;
            }
            if let Some(left) = self.paper_left.as_mut() {
                *left -= 1;
            }
            self.tickets.push(t);
        }
        self.pending.drain(..used.min(self.pending.len()));
        if !self.can_print() {
            self.pending.clear();
        }
    }

    /// The status byte for DLE EOT n: fixed bits 0x12 plus the state's bits.
    fn answer(&self, n: u8) -> u8 {
        let bit = |on: bool, mask: u8| if on { mask } else { 0 };
        0x12 | match n {
            1 => bit(!self.can_print(), 0x08),
            2 => bit(self.cover_open, 0x04) | bit(self.paper_out, 0x20),
            4 => bit(self.paper_near_end, 0x0C) | bit(self.paper_out, 0x60),
            _ => 0,
        }
    }
}

/// Where the simulator listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimEndpoint {
    /// A loopback socket, as a network printer's port 9100.
    Tcp(SocketAddr),
    /// The slave side of a pseudo-terminal.
    Pty(PathBuf),
}

/// A running simulated printer; stops when dropped.
pub struct PrinterSim {
    state: Arc<Mutex<State>>,
    endpoint: SimEndpoint,
    kick: watch::Sender<u64>,
    task: JoinHandle<()>,
}

impl Drop for PrinterSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl PrinterSim {
    /// Starts a network printer on 127.0.0.1 and a free port; accepts one connection after another.
    pub async fn start_tcp() -> Result<PrinterSim> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| DriverError::io(format!("simulated printer cannot listen: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| DriverError::io(format!("simulated printer has no address: {e}")))?;
        let state = Arc::new(Mutex::new(State::default()));
        let (kick, _) = watch::channel(0u64);
        let (st, k) = (state.clone(), kick.clone());
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                tracing::debug!(%peer, "simulated printer: connection");
                lock(&st).connections += 1;
                let (st, kicked) = (st.clone(), k.subscribe());
                tokio::spawn(async move { serve(&mut sock, &st, kicked).await });
            }
        });
        Ok(PrinterSim {
            state,
            endpoint: SimEndpoint::Tcp(addr),
            kick,
            task,
        })
    }

    /// Starts a serial or USB printer on a new pseudo-terminal; the driver opens `pty_path()`.
    pub async fn start_pty() -> Result<PrinterSim> {
        let mut pair = crate::serial::pty_pair()?;
        let path = pair.path.clone();
        let state = Arc::new(Mutex::new(State::default()));
        lock(&state).connections = 1;
        let (kick, _) = watch::channel(0u64);
        let (st, k) = (state.clone(), kick.clone());
        let task = tokio::spawn(async move {
            loop {
                serve(&mut pair.master, &st, k.subscribe()).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        Ok(PrinterSim {
            state,
            endpoint: SimEndpoint::Pty(path),
            kick,
            task,
        })
    }

    /// The bound address or the PTY path.
    pub fn endpoint(&self) -> &SimEndpoint {
        &self.endpoint
    }

    /// The loopback address of a TCP simulator.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        match self.endpoint {
            SimEndpoint::Tcp(a) => Some(a),
            SimEndpoint::Pty(_) => None,
        }
    }

    /// The path a driver opens for a PTY simulator.
    pub fn pty_path(&self) -> Option<&Path> {
        match &self.endpoint {
            SimEndpoint::Pty(p) => Some(p),
            SimEndpoint::Tcp(_) => None,
        }
    }

    /// How a driver reaches this simulator (a PTY as a 19200 baud serial port).
    pub fn link(&self) -> PrinterLink {
        match &self.endpoint {
            SimEndpoint::Tcp(a) => PrinterLink::Tcp {
                addr: a.to_string(),
            },
            SimEndpoint::Pty(p) => PrinterLink::Serial {
                path: p.clone(),
                baud: 19200,
            },
        }
    }

    /// Empties (true) or replaces (false) the paper roll. A new roll does not run out.
    pub fn set_paper_out(&self, out: bool) {
        let mut s = lock(&self.state);
        s.paper_out = out;
        if !out {
            s.paper_left = None;
        }
    }

    /// Sets the paper roll near-end sensor.
    pub fn set_paper_near_end(&self, near_end: bool) {
        lock(&self.state).paper_near_end = near_end;
    }

    /// Opens or closes the cover; with it open nothing prints.
    pub fn set_cover_open(&self, open: bool) {
        lock(&self.state).cover_open = open;
    }

    /// false: the printer stops answering status requests (as if offline or hung).
    pub fn set_answering(&self, answering: bool) {
        lock(&self.state).silent = !answering;
    }

    /// The roll runs out after `tickets` more tickets: the next job finds no paper.
    pub fn set_paper_runs_out_after(&self, tickets: Option<usize>) {
        lock(&self.state).paper_left = tickets;
    }

    /// Closes the current network connections (a cable pull); the listener stays up.
    pub fn disconnect(&self) {
        self.kick.send_modify(|g| *g += 1);
    }

    /// The tickets printed so far, each ending with a cut.
    pub fn tickets(&self) -> Vec<Decoded> {
        lock(&self.state).tickets.clone()
    }

    /// Every byte received, status requests included.
    pub fn raw(&self) -> Vec<u8> {
        lock(&self.state).raw.clone()
    }

    /// Connections accepted so far (always 1 for a PTY).
    pub fn connections(&self) -> usize {
        lock(&self.state).connections
    }

    /// DLE EOT requests received so far, answered or not.
    pub fn status_requests(&self) -> usize {
        lock(&self.state).status_requests
    }
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|e| e.into_inner())
}

async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut S,
    state: &Mutex<State>,
    mut kicked: watch::Receiver<u64>,
) {
    let mut buf = [0u8; 4096];
    loop {
        tokio::select! {
            r = io.read(&mut buf) => match r {
                Ok(0) => return,
                Ok(n) => {
                    let answers = lock(state).receive(&buf[..n]);
                    if !answers.is_empty() && io.write_all(&answers).await.is_err() {
                        return;
                    }
                }
                Err(e) => {
                    tracing::debug!(error = %e, "simulated printer: read failed");
                    return;
                }
            },
            _ = kicked.changed() => return,
        }
    }
}
