//! A scripted ZVT payment terminal on a loopback TCP port or the master side of a pseudo-terminal.
//!
//! It registers, authorises, reverses, closes the day and repeats the last receipt, speaking ZVT
//! (ACK per message, intermediate status "Insert card" / "Please watch PIN-pad" before the result,
//! serial frames with ACK/NAK). Results come from a queue ([`SimResult`], approve when empty);
//! approved amounts go into a ledger so a test can prove nothing was charged twice. Like a real
//! terminal it handles one transaction at a time: a command on another connection waits.

use super::zvt::{self, Apdu, Bmp, Link, Wire, bcd_decode, bcd_encode};
use crate::health::{DriverError, Result};
use serde::Serialize;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex as SyncMutex};
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

/// How the terminal answers the next authorisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimResult {
    Approve,
    /// Approves, but charges (and reports) this many minor units instead of the amount asked,
    /// as a misconfigured or tampered terminal would.
    ApproveOther(u64),
    /// Declined with this result code (e.g. 0x05 by the issuer, 0x78 card expired).
    Decline(u8),
    /// The customer pressed abort (result 0x6C).
    AbortByCustomer,
    /// Shows "Insert card" and waits for a card that does not come (the driver pays another
    /// way): when the ECR aborts, it answers aborted (result 0x6C) and charges nothing.
    WaitForCard,
    /// Acknowledges, shows "Insert card", then never answers; gives up without charging when the
    /// ECR aborts or hangs up.
    NeverAnswer,
    /// Approves and charges after this delay, whatever the ECR does meanwhile (already online
    /// with the host: an abort is acknowledged but ignored, a hang-up does not stop the charge).
    ApproveLate(Duration),
    /// Hangs up mid-payment without charging (TCP; on serial it behaves like `NeverAnswer`).
    DropConnection,
}

/// One approved payment in the terminal's ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Charge {
    pub receipt_no: u32,
    pub trace_no: u32,
    pub amount_minor: u64,
    /// ISO 4217 numeric.
    pub currency: u16,
    pub reversed: bool,
}

#[derive(Debug, Clone)]
struct LastTx {
    result: u8,
    amount: u64,
    trace: u32,
    receipt: u32,
    approved: bool,
}

#[derive(Debug)]
struct State {
    script: VecDeque<SimResult>,
    ledger: Vec<Charge>,
    batch_start: usize,
    received: Vec<Apdu>,
    naks: usize,
    next_trace: u32,
    next_receipt: u32,
    last: Option<LastTx>,
    garble_next: bool,
    totals: Vec<(u32, u64)>,
}

struct Shared {
    state: SyncMutex<State>,
    /// Held for one whole command: the terminal does one thing at a time.
    terminal: Mutex<()>,
}

impl Shared {
    fn st(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The simulator; dropping it stops it.
pub struct TerminalSim {
    shared: Arc<Shared>,
    task: JoinHandle<()>,
}

impl Drop for TerminalSim {
    fn drop(&mut self) {
        self.task.abort();
    }
}

const TID: [u8; 4] = [0x12, 0x34, 0x56, 0x78];
const ECR_ACK_TIMEOUT: Duration = Duration::from_secs(5);

/// Keeps the whole pseudo-terminal pair alive while the simulator reads its master side.
struct PtyIo(crate::serial::PtyPair);

impl AsyncRead for PtyIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0.master).poll_read(cx, buf)
    }
}

impl AsyncWrite for PtyIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0.master).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0.master).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0.master).poll_shutdown(cx)
    }
}

impl TerminalSim {
    fn shared() -> Arc<Shared> {
        Arc::new(Shared {
            state: SyncMutex::new(State {
                script: VecDeque::new(),
                ledger: Vec::new(),
                batch_start: 0,
                received: Vec::new(),
                naks: 0,
                next_trace: 1,
                next_receipt: 1,
                last: None,
                garble_next: false,
                totals: Vec::new(),
            }),
            terminal: Mutex::new(()),
        })
    }

    /// Starts a terminal on 127.0.0.1 at a free port; returns it and the address to connect to.
    pub async fn tcp() -> Result<(TerminalSim, SocketAddr)> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| DriverError::io(format!("simulated terminal cannot listen: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| DriverError::io(format!("simulated terminal has no address: {e}")))?;
        let shared = TerminalSim::shared();
        let s = shared.clone();
        let task = tokio::spawn(async move {
            let mut conns = tokio::task::JoinSet::new();
            while let Ok((sock, peer)) = listener.accept().await {
                tracing::debug!(%peer, "simulated terminal: ECR connected");
                let link = Link::new(Box::new(sock), Wire::Tcp, "PT");
                conns.spawn(serve(s.clone(), link));
            }
        });
        Ok((TerminalSim { shared, task }, addr))
    }

    /// Starts a terminal on a new pseudo-terminal; returns it and the path the driver opens.
    pub fn serial() -> Result<(TerminalSim, PathBuf)> {
        let pair = crate::serial::pty_pair()?;
        let path = pair.path.clone();
        let shared = TerminalSim::shared();
        let link = Link::new(Box::new(PtyIo(pair)), Wire::Serial, "PT");
        let task = tokio::spawn(serve(shared.clone(), link));
        Ok((TerminalSim { shared, task }, path))
    }

    /// Queues how the next authorisation ends (approve when the queue is empty).
    pub fn push(&self, result: SimResult) {
        self.shared.st().script.push_back(result);
    }

    /// Forgets the queued answers: the next authorisations are approved.
    pub fn clear_script(&self) {
        self.shared.st().script.clear();
    }

    /// Makes the next authorisation start with garbage: on TCP an APDU of unknown class (the ECR
    /// must answer 84 9A 00), on serial noise bytes and a frame with a bad CRC (the ECR must NAK).
    pub fn garble_next(&self) {
        self.shared.st().garble_next = true;
    }

    /// Charges not reversed.
    pub fn charges(&self) -> Vec<Charge> {
        self.ledger().into_iter().filter(|c| !c.reversed).collect()
    }

    /// Every approved payment, reversed or not.
    pub fn ledger(&self) -> Vec<Charge> {
        self.shared.st().ledger.clone()
    }

    /// Totals (count, amount) of each end of day so far.
    pub fn day_totals(&self) -> Vec<(u32, u64)> {
        self.shared.st().totals.clone()
    }

    /// Every APDU the terminal received from the ECR, acknowledgements included.
    pub fn received(&self) -> Vec<Apdu> {
        self.shared.st().received.clone()
    }

    /// How many received APDUs have this control field.
    pub fn count_received(&self, class: u8, instr: u8) -> usize {
        self.shared
            .st()
            .received
            .iter()
            .filter(|a| a.is(class, instr))
            .count()
    }

    /// How many serial frames the ECR rejected with NAK.
    pub fn naks_received(&self) -> usize {
        self.shared.st().naks
    }
}

/// Serves one connection until it closes.
async fn serve(shared: Arc<Shared>, mut link: Link) {
    loop {
        let cmd = match link.recv_forever().await {
            Ok(c) => c,
            Err(e) => {
                tracing::debug!(%e, "simulated terminal: connection ended");
                return;
            }
        };
        shared.st().received.push(cmd.clone());
        if matches!(cmd.class, 0x80 | 0x84) {
            continue;
        }
        let busy = shared.terminal.lock().await;
        let r = handle(&shared, &mut link, &cmd).await;
        drop(busy);
        shared.st().naks += std::mem::take(&mut link.naks);
        if let Err(e) = r {
            tracing::debug!(%e, "simulated terminal: hanging up");
            return;
        }
    }
}

/// Sends a PT message and waits for the ECR's ACK.
async fn tell(shared: &Shared, link: &mut Link, apdu: Apdu) -> Result<()> {
    link.send(&apdu).await?;
    let reply = link
        .recv(
            ECR_ACK_TIMEOUT,
            "simulated terminal waiting for the ECR's ACK",
        )
        .await?;
    if !reply.is(0x80, 0x00) {
        tracing::warn!(
            class = reply.class,
            instr = reply.instr,
            "simulated terminal: expected ACK from the ECR"
        );
    }
    shared.st().received.push(reply);
    Ok(())
}

fn bmp(tag: u8, value: Vec<u8>) -> Bmp {
    Bmp { tag, value }
}

fn bcd(v: u64, n: usize) -> Vec<u8> {
    bcd_encode(v, n).unwrap_or_else(|| vec![0x99; n])
}

fn status_info(bmps: &[Bmp]) -> Apdu {
    Apdu::new(0x04, 0x0F, zvt::encode_bmps(bmps).unwrap_or_default())
}

fn completion() -> Apdu {
    Apdu::new(
        0x06,
        0x0F,
        vec![0x19, 0x00, 0x29, TID[0], TID[1], TID[2], TID[3]],
    )
}

fn abort(code: u8) -> Apdu {
    Apdu::new(0x06, 0x1E, vec![code])
}

fn tx_status(t: &LastTx, currency: u16) -> Apdu {
    let now = chrono::Local::now();
    let time = now.format("%H%M%S").to_string().parse().unwrap_or(0);
    let date = now.format("%m%d").to_string().parse().unwrap_or(0);
    let mut b = vec![
        bmp(0x27, vec![t.result]),
        bmp(0x04, bcd(t.amount, 6)),
        bmp(0x0B, bcd(u64::from(t.trace), 3)),
        bmp(0x0C, bcd(time, 3)),
        bmp(0x0D, bcd(date, 2)),
        bmp(0x49, bcd(u64::from(currency), 2)),
        bmp(0x29, TID.to_vec()),
    ];
    if t.approved {
        b.push(bmp(0x87, bcd(u64::from(t.receipt), 2)));
        b.push(bmp(0x22, zvt::pan_encode("6799******1234")));
        b.push(bmp(0x8A, vec![0x05]));
        b.push(bmp(0x8B, b"girocard\0".to_vec()));
    }
    status_info(&b)
}

async fn handle(shared: &Shared, link: &mut Link, cmd: &Apdu) -> Result<()> {
    match (cmd.class, cmd.instr) {
        (0x06, 0x00) | (0x05, 0x01) => {
            link.send(&Apdu::ack()).await?;
            tell(shared, link, completion()).await
        }
        (0x06, 0x01) => authorise(shared, link, cmd).await,
        (0x06, 0x30) => reversal(shared, link, cmd).await,
        (0x06, 0x50) => end_of_day(shared, link).await,
        (0x06, 0x20) => {
            link.send(&Apdu::ack()).await?;
            let last = shared.st().last.clone();
            match last {
                Some(t) => {
                    tell(shared, link, tx_status(&t, 978)).await?;
                    tell(shared, link, completion()).await
                }
                None => tell(shared, link, abort(0x83)).await,
            }
        }
        (0x06, 0xB0) => link.send(&Apdu::ack()).await,
        (class, instr) => {
            tracing::warn!(
                class,
                instr,
                "simulated terminal: unknown command, answering 84 83 00"
            );
            link.send(&Apdu::nak(0x83)).await
        }
    }
}

fn book(shared: &Shared, amount: u64, currency: u16, approved: bool, result: u8) -> LastTx {
    let mut st = shared.st();
    let trace = st.next_trace;
    st.next_trace += 1;
    let receipt = if approved {
        st.next_receipt += 1;
        st.next_receipt - 1
    } else {
        0
    };
    if approved {
        st.ledger.push(Charge {
            receipt_no: receipt,
            trace_no: trace,
            amount_minor: amount,
            currency,
            reversed: false,
        });
    }
    let t = LastTx {
        result,
        amount,
        trace,
        receipt,
        approved,
    };
    st.last = Some(t.clone());
    t
}

async fn garbage(link: &mut Link, shared: &Shared) -> Result<()> {
    match link.wire() {
        Wire::Tcp => {
            link.send_raw(&[0xE7, 0x42, 0x02, 0xAA, 0xBB]).await?;
            let reply = link
                .recv(
                    ECR_ACK_TIMEOUT,
                    "simulated terminal waiting for the ECR's NAK",
                )
                .await?;
            shared.st().received.push(reply);
        }
        Wire::Serial => {
            let mut frame = zvt::frame_encode(&[0x04, 0xFF, 0x01, 0x0A]);
            if let Some(last) = frame.last_mut() {
                *last ^= 0x5A;
            }
            link.send_raw(&[0xAA, 0x55, 0x00]).await?;
            link.send_raw(&frame).await?;
            let acked = link.wait_frame_ack().await?;
            // Counted now, not when the transaction ends: the driver may finish (and a test
            // look) before this task has seen the ECR's last ACK.
            shared.st().naks += std::mem::take(&mut link.naks);
            tracing::info!(acked, "simulated terminal: sent a frame with a bad CRC");
        }
    }
    Ok(())
}

async fn authorise(shared: &Shared, link: &mut Link, cmd: &Apdu) -> Result<()> {
    link.send(&Apdu::ack()).await?;
    let p = zvt::parse_bmps(&cmd.data);
    let amount = p.get(0x04).and_then(bcd_decode);
    let currency = p.get(0x49).and_then(bcd_decode).unwrap_or(978) as u16;
    let Some(amount) = amount else {
        return tell(shared, link, abort(0x83)).await;
    };
    let (result, garble) = {
        let mut st = shared.st();
        let r = st.script.pop_front().unwrap_or(SimResult::Approve);
        (r, std::mem::take(&mut st.garble_next))
    };
    if garble {
        garbage(link, shared).await?;
    }
    tell(shared, link, Apdu::new(0x04, 0xFF, vec![0x0A])).await?;
    let result = match result {
        SimResult::DropConnection if link.wire() == Wire::Serial => SimResult::NeverAnswer,
        r => r,
    };
    match result {
        SimResult::Approve | SimResult::ApproveOther(_) => {
            let amount = match result {
                SimResult::ApproveOther(other) => other,
                _ => amount,
            };
            tell(shared, link, Apdu::new(0x04, 0xFF, vec![0x01])).await?;
            let t = book(shared, amount, currency, true, 0);
            tell(shared, link, tx_status(&t, currency)).await?;
            tell(shared, link, completion()).await
        }
        SimResult::Decline(code) => {
            let t = book(shared, amount, currency, false, code);
            tell(shared, link, tx_status(&t, currency)).await?;
            tell(shared, link, abort(code)).await
        }
        SimResult::AbortByCustomer => {
            book(shared, amount, currency, false, 0x6C);
            tell(shared, link, abort(0x6C)).await
        }
        SimResult::WaitForCard => loop {
            let m = link.recv_forever().await?;
            let stop = m.is(0x06, 0xB0);
            shared.st().received.push(m);
            if stop {
                link.send(&Apdu::ack()).await?;
                book(shared, amount, currency, false, 0x6C);
                tracing::info!("simulated terminal: ECR aborted while waiting for the card");
                return tell(shared, link, abort(0x6C)).await;
            }
        },
        SimResult::NeverAnswer => loop {
            let m = link.recv_forever().await?;
            let stop = m.is(0x06, 0xB0);
            shared.st().received.push(m);
            if stop {
                tracing::info!("simulated terminal: ECR aborted; giving up silently");
                return Ok(());
            }
        },
        SimResult::DropConnection => Err(DriverError::io("simulated hang-up mid-payment")),
        SimResult::ApproveLate(delay) => {
            let until = tokio::time::Instant::now() + delay;
            let mut connected = true;
            while connected {
                match tokio::time::timeout_at(until, link.recv_forever()).await {
                    Err(_) => break,
                    Ok(Ok(m)) => {
                        let abort = m.is(0x06, 0xB0);
                        shared.st().received.push(m);
                        if abort {
                            link.send(&Apdu::ack()).await?;
                        }
                    }
                    Ok(Err(_)) => connected = false,
                }
            }
            tokio::time::sleep_until(until).await;
            let t = book(shared, amount, currency, true, 0);
            tracing::info!(trace = t.trace, "simulated terminal: approved late");
            if !connected {
                return Err(DriverError::io("ECR hung up before the late approval"));
            }
            tell(shared, link, tx_status(&t, currency)).await?;
            tell(shared, link, completion()).await
        }
    }
}

async fn reversal(shared: &Shared, link: &mut Link, cmd: &Apdu) -> Result<()> {
    link.send(&Apdu::ack()).await?;
    let receipt = zvt::parse_bmps(cmd.data.get(3..).unwrap_or_default())
        .get(0x87)
        .and_then(bcd_decode)
        .map(|r| r as u32);
    let outcome = {
        let mut st = shared.st();
        match st.ledger.iter_mut().find(|c| Some(c.receipt_no) == receipt) {
            None => Err(0xB5),
            Some(c) if c.reversed => Err(0xB4),
            Some(c) => {
                c.reversed = true;
                Ok((c.amount_minor, c.currency))
            }
        }
    };
    match outcome {
        Err(code) => tell(shared, link, abort(code)).await,
        Ok((amount, currency)) => {
            let t = {
                let mut st = shared.st();
                let t = LastTx {
                    result: 0,
                    amount,
                    trace: st.next_trace,
                    receipt: st.next_receipt,
                    approved: false,
                };
                st.next_trace += 1;
                st.next_receipt += 1;
                st.last = Some(t.clone());
                t
            };
            let b = [
                bmp(0x27, vec![0]),
                bmp(0x04, bcd(amount, 6)),
                bmp(0x0B, bcd(u64::from(t.trace), 3)),
                bmp(0x87, bcd(u64::from(t.receipt), 2)),
                bmp(0x49, bcd(u64::from(currency), 2)),
            ];
            tell(shared, link, status_info(&b)).await?;
            tell(shared, link, completion()).await
        }
    }
}

async fn end_of_day(shared: &Shared, link: &mut Link) -> Result<()> {
    link.send(&Apdu::ack()).await?;
    let (count, total, from, to) = {
        let mut st = shared.st();
        let batch: Vec<Charge> = st.ledger[st.batch_start..]
            .iter()
            .filter(|c| !c.reversed)
            .cloned()
            .collect();
        st.batch_start = st.ledger.len();
        let count = batch.len() as u32;
        let total: u64 = batch.iter().map(|c| c.amount_minor).sum();
        st.totals.push((count, total));
        let from = batch.first().map_or(0, |c| c.receipt_no);
        let to = batch.last().map_or(0, |c| c.receipt_no);
        (count, total, from, to)
    };
    let mut individual = bcd(u64::from(from), 2);
    individual.extend(bcd(u64::from(to), 2));
    // Count per group is one byte: split a big day over several groups.
    let mut left = count;
    let mut amount_left = total;
    while left > 0 {
        let n = left.min(255);
        let amt = if n == left { amount_left } else { 0 };
        individual.push(n as u8);
        individual.extend(bcd(amt, 6));
        left -= n;
        amount_left -= amt;
    }
    let b = [
        bmp(0x27, vec![0]),
        bmp(0x04, bcd(total, 6)),
        bmp(0x60, individual),
    ];
    tell(shared, link, status_info(&b)).await?;
    tell(shared, link, completion()).await
}
