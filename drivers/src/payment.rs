//! Payment terminals: the lane asks for an amount, the terminal (PT) talks to the card and the
//! acquirer, and the driver reports approved / declined / aborted / timed out.
//!
//! [`PaymentTerminal`] is the device class; [`ZvtTerminal`] speaks ZVT (the German ECR↔PT
//! protocol) over TCP (port 20007) or serial; [`sim::TerminalSim`] is a scripted ZVT terminal.
//!
//! # Idempotency: a retry never charges twice
//! Every request carries the caller's `reference`. The driver keeps reference → outcome
//! ([`PaymentMemory`], in memory; the lane persists it with [`ZvtTerminal::memory`] and hands it
//! back with [`ZvtTerminal::restore_memory`] after a restart, together with its own record of the
//! reference):
//! - a retry of an approved reference returns the recorded approval; no new authorisation;
//! - a declined or aborted reference may be tried again (nothing was charged);
//! - when the terminal does not finish (timeout, connection lost mid-payment) the driver first
//!   sends Abort (06 B0) and listens briefly: an abort or result settles it. Otherwise the
//!   reference is held as *unknown* and the caller gets [`PaymentOutcome::TimedOut`] with
//!   [`TimeoutResolution::CheckedOnRetry`]. A retry with the same reference first asks the terminal
//!   for its last transaction (Repeat Receipt 06 20, which answers with the last transaction's
//!   status information). If that is an approval of this amount with a trace number the driver
//!   has not seen before, it is this payment, approved late: it is recorded and returned and
//!   nothing new is charged. Otherwise nothing was charged and a new authorisation starts. If the
//!   terminal cannot answer, the retry fails and still charges nothing.

pub mod sim;
pub mod zvt;

use crate::health::{DriverError, ErrorKind, Health, HealthState, HealthWatch, Result};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Mutex as SyncMutex;
use std::time::Duration;
use tokio::sync::{Mutex, watch};
use zvt::{Apdu, Link, ParsedBmps, Wire, bcd_decode, bcd_encode};

/// An amount to charge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentRequest {
    /// In minor units (cents).
    pub amount_minor: u64,
    /// ISO 4217 alphabetic code, e.g. "EUR".
    pub currency: String,
    /// The caller's unique reference for this payment; a retry must reuse it.
    pub reference: String,
}

/// How a payment ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum PaymentOutcome {
    Approved {
        reference: String,
        receipt_no: u32,
        trace_no: u32,
        /// Card brand and masked PAN, if the terminal told.
        card: Option<String>,
        amount_minor: u64,
    },
    Declined {
        reason: String,
        code: u8,
    },
    AbortedByCustomer,
    /// The terminal did not finish (in time, or the connection was lost mid-payment).
    TimedOut {
        resolution: TimeoutResolution,
    },
}

/// What the driver did about a payment whose terminal did not finish.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeoutResolution {
    /// The terminal confirmed the payment was stopped: nothing was charged; a retry charges anew.
    NotCharged,
    /// Unknown: a retry with the same reference first asks the terminal for its last transaction
    /// and returns that approval if there was one, so it never charges twice.
    CheckedOnRetry,
}

/// How a reversal ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ReversalOutcome {
    Reversed {
        reference: String,
        receipt_no: u32,
        trace_no: u32,
        amount_minor: u64,
    },
    Refused {
        reason: String,
        code: u8,
    },
    /// The payment had never been charged (found out after a timeout); nothing to reverse.
    NotCharged,
}

/// The terminal's totals at end of day (the batch it just submitted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    pub total_minor: u64,
    pub count: u32,
    pub receipt_from: Option<u32>,
    pub receipt_to: Option<u32>,
}

/// A payment terminal, whatever its protocol. Held boxed by the lanes runtime.
#[async_trait]
pub trait PaymentTerminal: Send + Sync {
    /// Charges `request.amount_minor`; idempotent on `request.reference`.
    async fn authorise(&self, request: &PaymentRequest) -> Result<PaymentOutcome>;
    /// Stops the payment with this reference if the terminal is still waiting for the card (the
    /// driver pays another way). Its `authorise` then answers: not charged, or approved when the
    /// card was quicker. A cancel for a payment not started yet stops it before it starts.
    async fn cancel(&self, reference: &str);
    /// Reverses the approved payment with this reference; idempotent.
    async fn reverse(&self, reference: &str) -> Result<ReversalOutcome>;
    /// Closes the day's batch and returns its totals.
    async fn end_of_day(&self) -> Result<DayTotals>;
    /// Current health (ok / degraded / offline with the reason).
    fn health(&self) -> Health;
}

/// An approved payment as the driver records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub reference: String,
    pub receipt_no: u32,
    pub trace_no: u32,
    pub card: Option<String>,
    pub amount_minor: u64,
}

impl Approval {
    fn outcome(&self) -> PaymentOutcome {
        PaymentOutcome::Approved {
            reference: self.reference.clone(),
            receipt_no: self.receipt_no,
            trace_no: self.trace_no,
            card: self.card.clone(),
            amount_minor: self.amount_minor,
        }
    }
}

/// What the driver remembers about one reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Recorded {
    Approved(Approval),
    Reversed {
        approval: Approval,
        trace_no: u32,
    },
    /// Sent to the terminal; whether it was charged is not known yet.
    Unknown {
        amount_minor: u64,
    },
}

/// The driver's idempotency memory: reference → outcome, and every trace number seen (so an old
/// transaction is never mistaken for a late approval).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMemory {
    pub references: BTreeMap<String, Recorded>,
    pub known_traces: BTreeSet<u32>,
}

/// ISO 4217 alphabetic and numeric codes of the currencies a European lot meets.
const CURRENCY_CODES: [(&str, u16); 10] = [
    ("EUR", 978),
    ("CHF", 756),
    ("GBP", 826),
    ("USD", 840),
    ("DKK", 208),
    ("SEK", 752),
    ("NOK", 578),
    ("PLN", 985),
    ("CZK", 203),
    ("HUF", 348),
];

/// ISO 4217 numeric code for the alphabetic codes a European lot meets.
pub fn currency_numeric(alpha: &str) -> Option<u16> {
    let alpha = alpha.to_ascii_uppercase();
    CURRENCY_CODES
        .iter()
        .find(|(a, _)| *a == alpha)
        .map(|(_, n)| *n)
}

/// The alphabetic ISO 4217 code of a numeric one a terminal reports (978 → EUR).
pub fn currency_alpha(numeric: u16) -> Option<&'static str> {
    CURRENCY_CODES
        .iter()
        .find(|(_, n)| *n == numeric)
        .map(|(a, _)| *a)
}

/// The meaning of a ZVT result code (BMP 27, Abort 06 1E).
pub fn result_text(code: u8) -> &'static str {
    match code {
        0x00 => "no error",
        0x01..=0x63 => "declined by the card issuer or acquirer",
        0x64 => "card not readable",
        0x65 => "card data not present",
        0x66 => "processing error",
        0x6A => "turnover file full",
        0x6B => "function deactivated (terminal not registered)",
        0x6C => "aborted by the customer or timeout",
        0x6E => "card in blocked list",
        0x6F => "wrong currency",
        0x71 => "credit not sufficient",
        0x72 => "chip error",
        0x73 => "card data incorrect",
        0x77 => "end-of-day batch not possible",
        0x78 => "card expired",
        0x79 => "card not yet valid",
        0x7A => "card unknown",
        0x83 => "function not possible",
        0x9A => "ZVT protocol error",
        0x9B => "communication fault with the host",
        0x9C => "please wait",
        0xA0 => "receiver not ready",
        0xA1 => "remote station does not respond",
        0xA3 => "no connection to the host",
        0xB4 => "already reversed",
        0xB5 => "reversal not possible",
        0xC3 => "maximum amount exceeded",
        0xC5 => "payment method not supported",
        0xC6 => "currency not applicable",
        0xC8 => "amount too small",
        0xEC => "PIN processing not possible",
        0xFF => "system error",
        _ => "refused by the terminal",
    }
}

/// The meaning of an intermediate status code (04 FF), as the terminal shows it.
pub fn intermediate_text(code: u8) -> &'static str {
    match code {
        0x00 => "Waiting for amount confirmation",
        0x01 | 0x02 => "Please watch PIN-pad",
        0x03 => "Not accepted",
        0x04 => "Waiting for response from host",
        0x05 => "Sending auto-reversal",
        0x07 => "Card not admitted",
        0x09 => "Expired card",
        0x0A => "Insert card",
        0x0B => "Please remove card",
        0x0C => "Card not readable",
        0x0D => "Processing error",
        0x0E | 0x17 => "Please wait",
        0x15 => "Incorrect PIN",
        0x1D => "Declined",
        _ => "Terminal busy",
    }
}

/// How the driver reaches the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ZvtTransport {
    /// `host:port`; the port defaults to 20007.
    Tcp {
        addr: String,
    },
    Serial {
        path: PathBuf,
        baud: u32,
    },
}

/// Driver settings.
#[derive(Debug, Clone)]
pub struct ZvtConfig {
    pub transport: ZvtTransport,
    /// The terminal's 6-digit password (sent as 3 bytes BCD).
    pub password: u32,
    /// Registration currency, ISO 4217 alphabetic.
    pub currency: String,
    /// Registration config byte; default 0x08 (the PT sends intermediate status information).
    pub config_byte: u8,
    pub connect_timeout: Duration,
    /// For the terminal's ACK of a command, and for short exchanges (registration, repeat receipt).
    pub ack_timeout: Duration,
    /// For a whole payment, reversal or end of day (card, PIN, host).
    pub transaction_timeout: Duration,
    /// How long to listen for the terminal's answer after sending Abort on a timeout.
    pub abort_wait: Duration,
    /// Serial only: how long to wait for the ACK/NAK of a frame.
    pub frame_ack_timeout: Duration,
}

impl ZvtConfig {
    fn with(transport: ZvtTransport) -> ZvtConfig {
        ZvtConfig {
            transport,
            password: 0,
            currency: "EUR".into(),
            config_byte: 0x08,
            connect_timeout: Duration::from_secs(5),
            ack_timeout: Duration::from_secs(5),
            transaction_timeout: Duration::from_secs(120),
            abort_wait: Duration::from_secs(10),
            frame_ack_timeout: Duration::from_secs(1),
        }
    }
    /// A terminal on the network; `addr` is `host[:port]`, port 20007 if omitted.
    pub fn tcp(addr: impl Into<String>) -> ZvtConfig {
        let mut addr = addr.into();
        if !addr.contains(':') {
            addr.push_str(":20007");
        }
        ZvtConfig::with(ZvtTransport::Tcp { addr })
    }
    /// A terminal on a serial port (9600 baud is the ZVT default).
    pub fn serial(path: impl Into<PathBuf>, baud: u32) -> ZvtConfig {
        ZvtConfig::with(ZvtTransport::Serial {
            path: path.into(),
            baud,
        })
    }
}

/// Status information (04 0F) the driver uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatusInfo {
    pub result: Option<u8>,
    pub amount_minor: Option<u64>,
    pub trace_no: Option<u32>,
    pub receipt_no: Option<u32>,
    pub card: Option<String>,
    /// BMP 60 (individual totals), at end of day.
    pub totals: Option<IndividualTotals>,
}

/// BMP 60: the batch's receipt range and (count, amount) per card group.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndividualTotals {
    pub receipt_from: u32,
    pub receipt_to: u32,
    pub groups: Vec<(u8, u64)>,
}

impl StatusInfo {
    /// Reads the BMPs of a status information; unreadable parts are logged and left out.
    pub fn parse(data: &[u8]) -> StatusInfo {
        let p: ParsedBmps = zvt::parse_bmps(data);
        if let Some(why) = &p.error {
            tracing::warn!(%why, "ZVT status information: rest skipped");
        }
        let num = |tag| p.get(tag).and_then(bcd_decode);
        let name = p.get(0x8B).map(|v| {
            String::from_utf8_lossy(v)
                .trim_end_matches('\0')
                .to_string()
        });
        let pan = p.get(0x22).map(zvt::pan_decode);
        let card = match (name, pan) {
            (Some(n), Some(p)) => Some(format!("{n} {p}")),
            (n, p) => n.or(p),
        };
        let totals = p.get(0x60).and_then(|v| {
            let from = bcd_decode(v.get(0..2)?)? as u32;
            let to = bcd_decode(v.get(2..4)?)? as u32;
            let groups = v[4..]
                .chunks_exact(7)
                .filter_map(|g| Some((g[0], bcd_decode(&g[1..])?)))
                .collect();
            Some(IndividualTotals {
                receipt_from: from,
                receipt_to: to,
                groups,
            })
        });
        StatusInfo {
            result: p.get(0x27).and_then(|v| v.first().copied()),
            amount_minor: num(0x04),
            trace_no: num(0x0B).map(|v| v as u32),
            receipt_no: num(0x87).map(|v| v as u32),
            card,
            totals,
        }
    }
}

/// How the terminal ended a command.
enum Finish {
    Completed(Option<StatusInfo>),
    Aborted { code: u8 },
}

/// Why a command did not finish: before the terminal accepted it (nothing happened) or after.
enum Failure {
    NotStarted(DriverError),
    Lost(DriverError),
}

/// The ZVT driver.
pub struct ZvtTerminal {
    config: ZvtConfig,
    link: Mutex<Option<Link>>,
    memory: SyncMutex<PaymentMemory>,
    health: HealthWatch,
    prompt: watch::Sender<String>,
    /// The reference the lane asked to stop, and the signal to the payment waiting on it.
    cancelled: SyncMutex<Option<String>>,
    cancel_signal: tokio::sync::Notify,
}

impl ZvtTerminal {
    /// Creates the driver; it connects and registers on the first request.
    pub fn new(config: ZvtConfig) -> Result<ZvtTerminal> {
        if currency_numeric(&config.currency).is_none() {
            return Err(DriverError::config(format!(
                "unknown currency {:?}; use an ISO 4217 code such as EUR",
                config.currency
            )));
        }
        if config.password > 999_999 {
            return Err(DriverError::config(
                "the ZVT password has 6 digits; check the terminal's settings",
            ));
        }
        Ok(ZvtTerminal {
            config,
            link: Mutex::new(None),
            memory: SyncMutex::new(PaymentMemory::default()),
            health: HealthWatch::new("not connected yet"),
            prompt: watch::channel(String::new()).0,
            cancelled: SyncMutex::new(None),
            cancel_signal: tokio::sync::Notify::new(),
        })
    }

    pub fn health_watch(&self) -> &HealthWatch {
        &self.health
    }

    /// What the terminal is showing the customer ("Insert card", "Please watch PIN-pad").
    pub fn subscribe_prompts(&self) -> watch::Receiver<String> {
        self.prompt.subscribe()
    }

    /// A copy of the idempotency memory, for the lane to persist.
    pub fn memory(&self) -> PaymentMemory {
        self.mem().clone()
    }

    /// Restores a persisted memory (after a restart), merged over the current one.
    pub fn restore_memory(&self, saved: PaymentMemory) {
        let mut m = self.mem();
        m.references.extend(saved.references);
        m.known_traces.extend(saved.known_traces);
    }

    fn mem(&self) -> std::sync::MutexGuard<'_, PaymentMemory> {
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn password(&self) -> Vec<u8> {
        bcd_encode(u64::from(self.config.password), 3).unwrap_or_default()
    }

    /// Connects and registers if there is no live connection.
    async fn ensure<'a>(&self, slot: &'a mut Option<Link>) -> Result<&'a mut Link> {
        if slot.as_mut().is_some_and(|l| !l.is_alive()) {
            tracing::info!("ZVT: the terminal closed the connection; reconnecting");
            *slot = None;
        }
        if slot.is_none() {
            match self.connect().await {
                Ok(link) => *slot = Some(link),
                Err(e) => {
                    self.health.set(HealthState::Offline, e.message.clone());
                    return Err(e);
                }
            }
        }
        slot.as_mut()
            .ok_or_else(|| DriverError::io("ZVT: no connection to the terminal"))
    }

    async fn connect(&self) -> Result<Link> {
        let c = &self.config;
        let mut link = match &c.transport {
            ZvtTransport::Tcp { addr } => {
                let s = crate::health::within(
                    c.connect_timeout,
                    &format!("connecting to the payment terminal at {addr}"),
                    async {
                        tokio::net::TcpStream::connect(addr).await.map_err(|e| {
                            DriverError::io(format!(
                                "cannot connect to the payment terminal at {addr}: {e}; check that it is on and its ECR interface is set to TCP"
                            ))
                        })
                    },
                )
                .await?;
                let _ = s.set_nodelay(true);
                Link::new(Box::new(s), Wire::Tcp, "ECR")
            }
            ZvtTransport::Serial { path, baud } => {
                let port = crate::serial::open(path, *baud)?;
                Link::new(Box::new(port), Wire::Serial, "ECR")
            }
        };
        link.frame_ack_timeout = c.frame_ack_timeout;
        let cc = currency_numeric(&c.currency).unwrap_or(978);
        let mut data = self.password();
        data.push(c.config_byte);
        data.extend(bcd_encode(u64::from(cc), 2).unwrap_or_default());
        let reg = Apdu::new(0x06, 0x00, data);
        match self
            .run(&mut link, &reg, c.ack_timeout, "registration")
            .await
        {
            Ok(Finish::Completed(_)) => {
                tracing::info!("ZVT: registered at the payment terminal");
                self.health.ok();
                Ok(link)
            }
            Ok(Finish::Aborted { code }) => Err(DriverError::device(format!(
                "the payment terminal refused registration: {code:02X} {}; check the password",
                result_text(code)
            ))),
            Err(Failure::NotStarted(e) | Failure::Lost(e)) => Err(e),
        }
    }

    /// Sends `cmd`, waits for its ACK, then follows the terminal until completion or abort,
    /// acknowledging each of its messages.
    async fn run(
        &self,
        link: &mut Link,
        cmd: &Apdu,
        limit: Duration,
        what: &str,
    ) -> std::result::Result<Finish, Failure> {
        link.send(cmd).await.map_err(Failure::NotStarted)?;
        let first = link
            .recv(
                self.config.ack_timeout,
                &format!("payment terminal ACK of {what}"),
            )
            .await
            .map_err(Failure::NotStarted)?;
        let pending = if first.is(0x80, 0x00) {
            None
        } else if first.class == 0x84 {
            return Err(Failure::NotStarted(DriverError::device(format!(
                "the payment terminal refused {what}: {:02X} {}",
                first.instr,
                result_text(first.instr)
            ))));
        } else {
            tracing::warn!(
                class = first.class,
                instr = first.instr,
                "ZVT: expected ACK, the terminal went on directly"
            );
            Some(first)
        };
        self.follow(link, limit, what, pending)
            .await
            .map_err(Failure::Lost)
    }

    async fn follow(
        &self,
        link: &mut Link,
        limit: Duration,
        what: &str,
        mut pending: Option<Apdu>,
    ) -> Result<Finish> {
        let deadline = tokio::time::Instant::now() + limit;
        let mut status = None;
        loop {
            let msg = match pending.take() {
                Some(m) => m,
                None => {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    link.recv(left, &format!("payment terminal finishing {what}"))
                        .await?
                }
            };
            match (msg.class, msg.instr) {
                (0x04, 0xFF) => {
                    link.send(&Apdu::ack()).await?;
                    let code = msg.data.first().copied().unwrap_or(0xFF);
                    let text = intermediate_text(code);
                    tracing::info!(code, text, "payment terminal");
                    self.prompt.send_replace(text.to_string());
                }
                (0x04, 0x0F) => {
                    link.send(&Apdu::ack()).await?;
                    status = Some(StatusInfo::parse(&msg.data));
                }
                (0x06, 0x0F) => {
                    link.send(&Apdu::ack()).await?;
                    self.prompt.send_replace(String::new());
                    return Ok(Finish::Completed(status));
                }
                (0x06, 0x1E) => {
                    link.send(&Apdu::ack()).await?;
                    self.prompt.send_replace(String::new());
                    let code = msg
                        .data
                        .first()
                        .copied()
                        .or(status.and_then(|s| s.result))
                        .unwrap_or(0xFF);
                    return Ok(Finish::Aborted { code });
                }
                (0x06, 0xD1 | 0xD3) => link.send(&Apdu::ack()).await?,
                (0x80, _) => tracing::debug!("ZVT: ACK from the terminal"),
                (0x84, code) => {
                    tracing::warn!(code, "ZVT: negative acknowledgement from the terminal")
                }
                (class, instr) => {
                    tracing::warn!(
                        class,
                        instr,
                        "ZVT: unexpected message from the terminal, answering 84 83 00"
                    );
                    link.send(&Apdu::nak(0x83)).await?;
                }
            }
        }
    }

    /// After a lost payment: asks the terminal for its last transaction. `Some` if it is this
    /// payment, approved; `None` if nothing was charged.
    async fn resolve(
        &self,
        link: &mut Link,
        reference: &str,
        amount: u64,
    ) -> Result<Option<Approval>> {
        tracing::info!(
            reference,
            "ZVT: asking the terminal for its last transaction before charging again"
        );
        let cmd = Apdu::new(0x06, 0x20, self.password());
        let unknown = |e: DriverError| {
            DriverError::new(
                e.kind,
                format!(
                    "whether payment {reference} was charged is still unknown ({e}); not charging again until the terminal answers; retry later with the same reference"
                ),
            )
        };
        let finish = match self
            .run(link, &cmd, self.config.ack_timeout, "repeat receipt")
            .await
        {
            Ok(f) => f,
            Err(Failure::NotStarted(e) | Failure::Lost(e)) => return Err(unknown(e)),
        };
        let mut mem = self.mem();
        let found = match finish {
            Finish::Completed(Some(st)) => {
                let ours = st.result == Some(0)
                    && st.amount_minor == Some(amount)
                    && st.trace_no.is_some_and(|t| !mem.known_traces.contains(&t));
                if let Some(t) = st.trace_no {
                    mem.known_traces.insert(t);
                }
                ours.then(|| Approval {
                    reference: reference.to_string(),
                    receipt_no: st.receipt_no.unwrap_or(0),
                    trace_no: st.trace_no.unwrap_or(0),
                    card: st.card,
                    amount_minor: amount,
                })
            }
            Finish::Completed(None) | Finish::Aborted { .. } => None,
        };
        match &found {
            Some(a) => {
                tracing::warn!(
                    reference,
                    trace_no = a.trace_no,
                    "ZVT: the lost payment was approved late; returning that approval"
                );
                mem.references
                    .insert(reference.to_string(), Recorded::Approved(a.clone()));
            }
            None => {
                tracing::info!(reference, "ZVT: the lost payment was not charged");
                mem.references.remove(reference);
            }
        }
        Ok(found)
    }

    fn record(&self, reference: &str, r: Option<Recorded>) {
        let mut m = self.mem();
        match r {
            Some(Recorded::Approved(a)) => {
                m.known_traces.insert(a.trace_no);
                m.references
                    .insert(reference.to_string(), Recorded::Approved(a));
            }
            Some(r) => {
                m.references.insert(reference.to_string(), r);
            }
            None => {
                m.references.remove(reference);
            }
        }
    }

    fn lost(&self, slot: &mut Option<Link>, reference: &str, why: &DriverError) -> PaymentOutcome {
        tracing::warn!(reference, %why, "ZVT: payment outcome unknown; it will be checked before charging again");
        *slot = None;
        self.health.set(
            HealthState::Degraded,
            format!("the terminal did not finish payment {reference}: {why}"),
        );
        PaymentOutcome::TimedOut {
            resolution: TimeoutResolution::CheckedOnRetry,
        }
    }

    fn outcome_of(&self, reference: &str, amount: u64, finish: Finish) -> Option<PaymentOutcome> {
        let declined = |code: u8| {
            if code == 0x6C {
                PaymentOutcome::AbortedByCustomer
            } else {
                PaymentOutcome::Declined {
                    reason: result_text(code).to_string(),
                    code,
                }
            }
        };
        let out = match finish {
            Finish::Completed(Some(st)) => match st.result {
                Some(0) => {
                    let a = Approval {
                        reference: reference.to_string(),
                        receipt_no: st.receipt_no.unwrap_or(0),
                        trace_no: st.trace_no.unwrap_or(0),
                        card: st.card,
                        amount_minor: st.amount_minor.unwrap_or(amount),
                    };
                    let o = a.outcome();
                    self.record(reference, Some(Recorded::Approved(a)));
                    return Some(o);
                }
                Some(code) => declined(code),
                None => return None,
            },
            Finish::Completed(None) => return None,
            Finish::Aborted { code } => declined(code),
        };
        self.record(reference, None);
        Some(out)
    }

    fn is_cancelled(&self, reference: &str) -> bool {
        self.cancelled
            .lock()
            .is_ok_and(|c| c.as_deref() == Some(reference))
    }

    fn validate(&self, request: &PaymentRequest) -> Result<u16> {
        if request.reference.is_empty() {
            return Err(DriverError::config("a payment needs a reference"));
        }
        if request.amount_minor == 0 || request.amount_minor > 999_999_999_999 {
            return Err(DriverError::config(format!(
                "cannot charge {} minor units: ZVT amounts are 1 to 999999999999",
                request.amount_minor
            )));
        }
        currency_numeric(&request.currency).ok_or_else(|| {
            DriverError::config(format!(
                "unknown currency {:?}; use an ISO 4217 code such as EUR",
                request.currency
            ))
        })
    }
}

#[async_trait]
impl PaymentTerminal for ZvtTerminal {
    async fn authorise(&self, request: &PaymentRequest) -> Result<PaymentOutcome> {
        let cc = self.validate(request)?;
        let reference = request.reference.as_str();
        let amount = request.amount_minor;
        let mut slot = self.link.lock().await;
        let known = self.mem().references.get(reference).cloned();
        match known {
            Some(Recorded::Approved(a)) if a.amount_minor == amount => {
                tracing::info!(
                    reference,
                    "ZVT: retry of an approved payment; returning the recorded approval"
                );
                return Ok(a.outcome());
            }
            Some(Recorded::Approved(a)) => {
                return Err(DriverError::config(format!(
                    "payment {reference} was already approved for {} minor units; use a new reference for a different amount",
                    a.amount_minor
                )));
            }
            Some(Recorded::Reversed { .. }) => {
                return Err(DriverError::config(format!(
                    "payment {reference} was approved and reversed; use a new reference"
                )));
            }
            Some(Recorded::Unknown { amount_minor }) => {
                let link = self.ensure(&mut slot).await?;
                if let Some(a) = self.resolve(link, reference, amount_minor).await? {
                    return Ok(a.outcome());
                }
            }
            None => {}
        }
        let link = self.ensure(&mut slot).await?;
        // Listening for a cancel from here on, so one sent meanwhile is not missed.
        let stop = self.cancel_signal.notified();
        tokio::pin!(stop);
        stop.as_mut().enable();
        if self.is_cancelled(reference) {
            tracing::info!(reference, "ZVT: the payment was stopped before it started");
            return Ok(PaymentOutcome::AbortedByCustomer);
        }
        self.record(
            reference,
            Some(Recorded::Unknown {
                amount_minor: amount,
            }),
        );
        let data = zvt::encode_bmps(&[
            zvt::Bmp {
                tag: 0x04,
                value: bcd_encode(amount, 6).unwrap_or_default(),
            },
            zvt::Bmp {
                tag: 0x49,
                value: bcd_encode(u64::from(cc), 2).unwrap_or_default(),
            },
        ])?;
        let cmd = Apdu::new(0x06, 0x01, data);
        let finish = tokio::select! {
            f = self.run(link, &cmd, self.config.transaction_timeout, "authorisation") => f,
            _ = &mut stop => {
                Err(Failure::Lost(DriverError::timeout("the lane stopped the payment")))
            }
        };
        match finish {
            Ok(f) => {
                self.health.ok();
                Ok(match self.outcome_of(reference, amount, f) {
                    Some(o) => o,
                    None => self.lost(
                        &mut slot,
                        reference,
                        &DriverError::protocol("completion without a result code"),
                    ),
                })
            }
            Err(Failure::NotStarted(e)) => {
                self.record(reference, None);
                if e.kind != ErrorKind::Device {
                    *slot = None;
                    self.health.set(HealthState::Offline, e.message.clone());
                }
                Err(e)
            }
            Err(Failure::Lost(e)) if e.kind == ErrorKind::Timeout => {
                tracing::warn!(
                    reference,
                    "ZVT: {}; sending Abort (06 B0)",
                    if self.is_cancelled(reference) {
                        "the lane stopped the payment"
                    } else {
                        "payment took too long"
                    }
                );
                let _ = link.send(&Apdu::new(0x06, 0xB0, Vec::new())).await;
                let after = self
                    .follow(link, self.config.abort_wait, "abort", None)
                    .await;
                match after.map(|f| self.outcome_of(reference, amount, f)) {
                    Ok(Some(
                        PaymentOutcome::Declined { .. } | PaymentOutcome::AbortedByCustomer,
                    )) => {
                        link.discard_input();
                        Ok(PaymentOutcome::TimedOut {
                            resolution: TimeoutResolution::NotCharged,
                        })
                    }
                    Ok(Some(approved)) => Ok(approved),
                    Ok(None) => Ok(self.lost(&mut slot, reference, &e)),
                    Err(_) => Ok(self.lost(&mut slot, reference, &e)),
                }
            }
            Err(Failure::Lost(e)) => Ok(self.lost(&mut slot, reference, &e)),
        }
    }

    async fn cancel(&self, reference: &str) {
        if let Ok(mut c) = self.cancelled.lock() {
            *c = Some(reference.to_string());
        }
        self.cancel_signal.notify_waiters();
    }

    async fn reverse(&self, reference: &str) -> Result<ReversalOutcome> {
        let mut slot = self.link.lock().await;
        let known = self.mem().references.get(reference).cloned();
        let approval = match known {
            None => {
                return Err(DriverError::device(format!(
                    "no payment with reference {reference} is recorded; nothing to reverse"
                )));
            }
            Some(Recorded::Reversed { approval, trace_no }) => {
                return Ok(ReversalOutcome::Reversed {
                    reference: reference.to_string(),
                    receipt_no: approval.receipt_no,
                    trace_no,
                    amount_minor: approval.amount_minor,
                });
            }
            Some(Recorded::Unknown { amount_minor }) => {
                let link = self.ensure(&mut slot).await?;
                match self.resolve(link, reference, amount_minor).await? {
                    Some(a) => a,
                    None => return Ok(ReversalOutcome::NotCharged),
                }
            }
            Some(Recorded::Approved(a)) => a,
        };
        let link = self.ensure(&mut slot).await?;
        let mut data = self.password();
        data.extend(zvt::encode_bmps(&[zvt::Bmp {
            tag: 0x87,
            value: bcd_encode(u64::from(approval.receipt_no), 2).unwrap_or_default(),
        }])?);
        let cmd = Apdu::new(0x06, 0x30, data);
        let reversed = |trace_no: u32| {
            self.record(
                reference,
                Some(Recorded::Reversed {
                    approval: approval.clone(),
                    trace_no,
                }),
            );
            self.mem().known_traces.insert(trace_no);
            ReversalOutcome::Reversed {
                reference: reference.to_string(),
                receipt_no: approval.receipt_no,
                trace_no,
                amount_minor: approval.amount_minor,
            }
        };
        let refused = |code: u8| {
            if code == 0xB4 {
                reversed(0)
            } else {
                ReversalOutcome::Refused {
                    reason: result_text(code).to_string(),
                    code,
                }
            }
        };
        match self
            .run(link, &cmd, self.config.transaction_timeout, "reversal")
            .await
        {
            Ok(Finish::Completed(Some(StatusInfo {
                result: Some(0),
                trace_no,
                ..
            }))) => Ok(reversed(trace_no.unwrap_or(0))),
            Ok(Finish::Completed(Some(StatusInfo {
                result: Some(code), ..
            })))
            | Ok(Finish::Aborted { code }) => Ok(refused(code)),
            Ok(Finish::Completed(_)) => Err(DriverError::protocol(format!(
                "the terminal completed the reversal of {reference} without a result; call reverse again (a second reversal is answered 'already reversed')"
            ))),
            Err(Failure::NotStarted(e)) => {
                if e.kind != ErrorKind::Device {
                    *slot = None;
                }
                Err(e)
            }
            Err(Failure::Lost(e)) => {
                *slot = None;
                Err(DriverError::new(
                    e.kind,
                    format!(
                        "reversal of {reference} did not finish ({e}); call reverse again (a second reversal is answered 'already reversed')"
                    ),
                ))
            }
        }
    }

    async fn end_of_day(&self) -> Result<DayTotals> {
        let mut slot = self.link.lock().await;
        let link = self.ensure(&mut slot).await?;
        let cmd = Apdu::new(0x06, 0x50, self.password());
        match self
            .run(link, &cmd, self.config.transaction_timeout, "end of day")
            .await
        {
            Ok(Finish::Completed(st)) => {
                let st = st.unwrap_or_default();
                if let Some(code) = st.result.filter(|c| *c != 0) {
                    return Err(DriverError::device(format!(
                        "end of day failed: {code:02X} {}",
                        result_text(code)
                    )));
                }
                let IndividualTotals {
                    receipt_from: from,
                    receipt_to: to,
                    groups,
                } = st.totals.unwrap_or_default();
                Ok(DayTotals {
                    total_minor: st
                        .amount_minor
                        .unwrap_or_else(|| groups.iter().map(|g| g.1).sum()),
                    count: groups.iter().map(|g| u32::from(g.0)).sum(),
                    receipt_from: (from != 0 || to != 0).then_some(from),
                    receipt_to: (from != 0 || to != 0).then_some(to),
                })
            }
            Ok(Finish::Aborted { code }) => Err(DriverError::device(format!(
                "the terminal refused end of day: {code:02X} {}",
                result_text(code)
            ))),
            Err(Failure::NotStarted(e) | Failure::Lost(e)) => {
                if e.kind != ErrorKind::Device {
                    *slot = None;
                }
                Err(e)
            }
        }
    }

    fn health(&self) -> Health {
        self.health.current()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_terminal_s_numeric_currency_reads_back_as_its_code() {
        for (alpha, numeric) in CURRENCY_CODES {
            assert_eq!(currency_numeric(alpha), Some(numeric));
            assert_eq!(currency_alpha(numeric), Some(alpha));
        }
        assert_eq!(currency_numeric("eur"), Some(978));
        assert_eq!(currency_alpha(392), None);
    }
}
