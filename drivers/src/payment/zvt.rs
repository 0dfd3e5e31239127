//! ZVT (ECR ↔ PT, "ZVT-Protokoll" 13.x) codec: APDUs, bitmaps (BMPs), BCD, the serial transport
//! frame (DLE STX … DLE ETX CRC, with ACK/NAK per frame) and a [`Link`] that carries APDUs over TCP
//! (as they are) or serial (framed). Shared by the driver and the simulator; sans-IO parts are pure
//! functions so they can be property-tested.

use crate::health::{DriverError, Result};
use futures_util::FutureExt;
use std::collections::VecDeque;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Control-field classes this codec accepts; anything else is garbage.
pub const KNOWN_CLASSES: [u8; 6] = [0x04, 0x05, 0x06, 0x08, 0x80, 0x84];

/// An application protocol data unit: control field (class, instruction) and data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Apdu {
    pub class: u8,
    pub instr: u8,
    pub data: Vec<u8>,
}

/// What [`Apdu::decode`] found at the start of a buffer.
#[derive(Debug, PartialEq, Eq)]
pub enum Decoded {
    /// A whole APDU and how many bytes it used.
    Complete(Apdu, usize),
    /// More bytes are needed.
    Incomplete,
    /// Not an APDU (unknown class); the buffer cannot be trusted.
    Garbled(String),
}

impl Apdu {
    pub fn new(class: u8, instr: u8, data: Vec<u8>) -> Apdu {
        Apdu { class, instr, data }
    }
    /// Positive acknowledgement `80 00 00`.
    pub fn ack() -> Apdu {
        Apdu::new(0x80, 0x00, Vec::new())
    }
    /// Negative acknowledgement `84 <code> 00`.
    pub fn nak(code: u8) -> Apdu {
        Apdu::new(0x84, code, Vec::new())
    }
    pub fn is(&self, class: u8, instr: u8) -> bool {
        self.class == class && self.instr == instr
    }
    /// `CLASS INSTR LEN DATA`; LEN is one byte below 255, else `FF lo hi`. Data longer than 65535
    /// bytes is a protocol error.
    pub fn encode(&self) -> Result<Vec<u8>> {
        let n = self.data.len();
        let mut out = Vec::with_capacity(n + 5);
        out.extend([self.class, self.instr]);
        if n < 0xFF {
            out.push(n as u8);
        } else if n <= 0xFFFF {
            out.push(0xFF);
            out.extend((n as u16).to_le_bytes());
        } else {
            return Err(DriverError::protocol(format!(
                "ZVT APDU data of {n} bytes is longer than 65535"
            )));
        }
        out.extend_from_slice(&self.data);
        Ok(out)
    }
    /// Decodes the APDU at the start of `buf`.
    pub fn decode(buf: &[u8]) -> Decoded {
        let Some(&class) = buf.first() else {
            return Decoded::Incomplete;
        };
        if !KNOWN_CLASSES.contains(&class) {
            return Decoded::Garbled(format!("unknown APDU class {class:02X}"));
        }
        if buf.len() < 3 {
            return Decoded::Incomplete;
        }
        let (len, head) = if buf[2] == 0xFF {
            if buf.len() < 5 {
                return Decoded::Incomplete;
            }
            (u16::from_le_bytes([buf[3], buf[4]]) as usize, 5)
        } else {
            (buf[2] as usize, 3)
        };
        if buf.len() < head + len {
            return Decoded::Incomplete;
        }
        let apdu = Apdu::new(class, buf[1], buf[head..head + len].to_vec());
        Decoded::Complete(apdu, head + len)
    }
    /// Decodes exactly one APDU filling `buf` (a serial frame's payload).
    pub fn decode_exact(buf: &[u8]) -> std::result::Result<Apdu, String> {
        match Apdu::decode(buf) {
            Decoded::Complete(a, used) if used == buf.len() => Ok(a),
            Decoded::Complete(_, used) => Err(format!(
                "APDU length says {used} bytes but the frame holds {}",
                buf.len()
            )),
            Decoded::Incomplete => Err(format!("truncated APDU ({} bytes)", buf.len())),
            Decoded::Garbled(why) => Err(why),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// BCD

/// Packs `value` into `bytes` bytes of BCD, most significant digit first; `None` if it does not fit.
pub fn bcd_encode(mut value: u64, bytes: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; bytes];
    for b in out.iter_mut().rev() {
        let lo = (value % 10) as u8;
        value /= 10;
        let hi = (value % 10) as u8;
        value /= 10;
        *b = (hi << 4) | lo;
    }
    (value == 0).then_some(out)
}

/// Reads packed BCD; `None` on a nibble above 9 or more than 19 digits.
pub fn bcd_decode(bytes: &[u8]) -> Option<u64> {
    if bytes.len() > 9 {
        return None;
    }
    let mut v: u64 = 0;
    for b in bytes {
        let (hi, lo) = (b >> 4, b & 0x0F);
        if hi > 9 || lo > 9 {
            return None;
        }
        v = v * 100 + u64::from(hi) * 10 + u64::from(lo);
    }
    Some(v)
}

// ---------------------------------------------------------------------------------------------
// Bitmaps

/// One bitmap field: its tag and value (without the LL/LLL/TLV length prefix).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bmp {
    pub tag: u8,
    pub value: Vec<u8>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BmpFormat {
    Fixed(usize),
    /// Length as two bytes `F0+tens F0+ones`.
    Ll,
    /// Length as three bytes `F0+hundreds F0+tens F0+ones`.
    Lll,
    /// BMP 06: a TLV container with a BER length.
    Tlv,
}

/// The length format of each BMP this codec knows (ZVT 13, chapter 9).
pub fn bmp_format(tag: u8) -> Option<BmpFormat> {
    use BmpFormat::*;
    Some(match tag {
        0x01 | 0x02 | 0x03 | 0x05 | 0x19 | 0x27 | 0x8A | 0x8C | 0xA0 | 0xD0 | 0xD2 | 0xD3
        | 0xE0 | 0xE9 | 0xEA | 0xEC => Fixed(1),
        0x0D | 0x0E | 0x17 | 0x3A | 0x49 | 0x87 => Fixed(2),
        0x0B | 0x0C | 0x37 | 0x3D | 0x88 => Fixed(3),
        0x29 => Fixed(4),
        0xBA => Fixed(5),
        0x04 => Fixed(6),
        0x3B | 0xEB => Fixed(8),
        0x2A => Fixed(15),
        0x22 | 0x23 | 0x2D | 0x8B | 0xA7 | 0xD1 | 0xE1..=0xE8 => Ll,
        0x24 | 0x2E | 0x3C | 0x60 | 0x9A | 0xAF => Lll,
        0x06 => Tlv,
        _ => return None,
    })
}

/// Encodes BMPs; fails when a value does not fit its tag's format.
pub fn encode_bmps(bmps: &[Bmp]) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    for b in bmps {
        let n = b.value.len();
        let bad = || {
            DriverError::protocol(format!(
                "BMP {:02X}: a value of {n} bytes does not fit its format",
                b.tag
            ))
        };
        out.push(b.tag);
        match bmp_format(b.tag).ok_or_else(bad)? {
            BmpFormat::Fixed(k) if k == n => {}
            BmpFormat::Fixed(_) => return Err(bad()),
            BmpFormat::Ll if n <= 99 => out.extend([0xF0 | (n / 10) as u8, 0xF0 | (n % 10) as u8]),
            BmpFormat::Lll if n <= 999 => out.extend([
                0xF0 | (n / 100) as u8,
                0xF0 | (n / 10 % 10) as u8,
                0xF0 | (n % 10) as u8,
            ]),
            BmpFormat::Ll | BmpFormat::Lll => return Err(bad()),
            BmpFormat::Tlv if n < 0x80 => out.push(n as u8),
            BmpFormat::Tlv if n <= 0xFF => out.extend([0x81, n as u8]),
            BmpFormat::Tlv if n <= 0xFFFF => out.extend([0x82, (n >> 8) as u8, n as u8]),
            BmpFormat::Tlv => return Err(bad()),
        }
        out.extend_from_slice(&b.value);
    }
    Ok(out)
}

/// BMPs parsed from APDU data, and why parsing stopped early if it did (an unknown tag or a
/// truncated field makes the rest unreadable, because lengths depend on the tag).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ParsedBmps {
    pub bmps: Vec<Bmp>,
    pub error: Option<String>,
}

impl ParsedBmps {
    pub fn get(&self, tag: u8) -> Option<&[u8]> {
        self.bmps
            .iter()
            .find(|b| b.tag == tag)
            .map(|b| b.value.as_slice())
    }
}

fn var_len(digits: &[u8]) -> Option<usize> {
    digits.iter().try_fold(0usize, |acc, d| {
        (d & 0xF0 == 0xF0 && d & 0x0F <= 9).then(|| acc * 10 + usize::from(d & 0x0F))
    })
}

/// Parses a sequence of BMPs; never panics.
pub fn parse_bmps(mut data: &[u8]) -> ParsedBmps {
    let mut out = ParsedBmps::default();
    while let Some((&tag, rest)) = data.split_first() {
        let Some(fmt) = bmp_format(tag) else {
            out.error = Some(format!("unknown BMP {tag:02X}"));
            return out;
        };
        let (len, rest) = match fmt {
            BmpFormat::Fixed(k) => (Some(k), rest),
            BmpFormat::Ll | BmpFormat::Lll => {
                let k = if fmt == BmpFormat::Ll { 2 } else { 3 };
                match rest.get(..k) {
                    Some(d) => (var_len(d), &rest[k..]),
                    None => (None, rest),
                }
            }
            BmpFormat::Tlv => match rest {
                [n, r @ ..] if *n < 0x80 => (Some(usize::from(*n)), r),
                [0x81, n, r @ ..] => (Some(usize::from(*n)), r),
                [0x82, h, l, r @ ..] => (Some(usize::from(*h) << 8 | usize::from(*l)), r),
                _ => (None, rest),
            },
        };
        match len.and_then(|n| rest.get(..n).map(|v| (n, v))) {
            Some((n, v)) => {
                out.bmps.push(Bmp {
                    tag,
                    value: v.to_vec(),
                });
                data = &rest[n..];
            }
            None => {
                out.error = Some(format!("BMP {tag:02X} is truncated or has a bad length"));
                return out;
            }
        }
    }
    out
}

/// Packs a PAN for BMP 22: digits as BCD, masked digits (`*`) as nibble E, padded with F.
pub fn pan_encode(pan: &str) -> Vec<u8> {
    let nib: Vec<u8> = pan
        .chars()
        .filter_map(|c| match c {
            '0'..='9' => Some(c as u8 - b'0'),
            '*' => Some(0xE),
            _ => None,
        })
        .collect();
    nib.chunks(2)
        .map(|c| (c[0] << 4) | c.get(1).copied().unwrap_or(0xF))
        .collect()
}

/// Unpacks BMP 22: BCD digits, E as `*`, F as padding.
pub fn pan_decode(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| [b >> 4, b & 0x0F])
        .filter_map(|n| match n {
            0..=9 => Some(char::from(b'0' + n)),
            0xE => Some('*'),
            _ => None,
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Serial transport frame

pub const STX: u8 = 0x02;
pub const ETX: u8 = 0x03;
pub const DLE: u8 = 0x10;
/// Frame-level positive acknowledgement on the serial line.
pub const ACK: u8 = 0x06;
/// Frame-level negative acknowledgement on the serial line.
pub const NAK: u8 = 0x15;
const MAX_PAYLOAD: usize = 5 + 0xFFFF;

/// CRC-CCITT as ZVT uses it (polynomial 0x1021 reflected, initial 0, i.e. CRC-16/KERMIT), over
/// the APDU and the ETX; sent low byte first.
pub fn crc_ccitt(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        crc ^= u16::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0x8408
            } else {
                crc >> 1
            };
        }
    }
    crc
}

/// `DLE STX payload(DLE doubled) DLE ETX CRC-lo CRC-hi`.
pub fn frame_encode(payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    out.extend([DLE, STX]);
    for &b in payload {
        out.push(b);
        if b == DLE {
            out.push(DLE);
        }
    }
    out.extend([DLE, ETX]);
    let mut crc_in = payload.to_vec();
    crc_in.push(ETX);
    out.extend(crc_ccitt(&crc_in).to_le_bytes());
    out
}

/// What the serial line carried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameEvent {
    /// A frame with a good CRC (the receiver answers ACK).
    Frame(Vec<u8>),
    /// A broken frame: bad CRC, bad DLE sequence, oversized (the receiver answers NAK).
    Bad(String),
    /// The peer acknowledged our frame.
    Ack,
    /// The peer rejected our frame.
    Nak,
    /// Bytes outside any frame that mean nothing, skipped.
    Noise(usize),
}

#[derive(Debug, Default)]
enum FrameState {
    #[default]
    Idle,
    IdleDle,
    In,
    InDle,
    Crc(Vec<u8>),
}

/// Incremental decoder for the serial line; keeps state across [`FrameDecoder::feed`] calls.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    state: FrameState,
    payload: Vec<u8>,
    noise: usize,
}

impl FrameDecoder {
    pub fn new() -> FrameDecoder {
        FrameDecoder::default()
    }

    fn flush_noise(&mut self, out: &mut Vec<FrameEvent>) {
        if self.noise > 0 {
            out.push(FrameEvent::Noise(std::mem::take(&mut self.noise)));
        }
    }

    /// Feeds bytes; returns every event they complete. Never panics.
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<FrameEvent> {
        let mut out = Vec::new();
        for &b in bytes {
            let state = std::mem::take(&mut self.state);
            self.state = match state {
                FrameState::Idle => match b {
                    ACK | NAK => {
                        self.flush_noise(&mut out);
                        out.push(if b == ACK {
                            FrameEvent::Ack
                        } else {
                            FrameEvent::Nak
                        });
                        FrameState::Idle
                    }
                    DLE => FrameState::IdleDle,
                    _ => {
                        self.noise += 1;
                        FrameState::Idle
                    }
                },
                FrameState::IdleDle => match b {
                    STX => {
                        self.flush_noise(&mut out);
                        self.payload.clear();
                        FrameState::In
                    }
                    DLE => {
                        self.noise += 1;
                        FrameState::IdleDle
                    }
                    _ => {
                        self.noise += 2;
                        FrameState::Idle
                    }
                },
                FrameState::In if b == DLE => FrameState::InDle,
                FrameState::In | FrameState::InDle if self.payload.len() >= MAX_PAYLOAD => {
                    out.push(FrameEvent::Bad(format!(
                        "frame longer than {MAX_PAYLOAD} bytes"
                    )));
                    self.payload.clear();
                    FrameState::Idle
                }
                FrameState::In => {
                    self.payload.push(b);
                    FrameState::In
                }
                FrameState::InDle => match b {
                    DLE => {
                        self.payload.push(DLE);
                        FrameState::In
                    }
                    ETX => FrameState::Crc(Vec::with_capacity(2)),
                    STX => {
                        out.push(FrameEvent::Bad(
                            "a new frame started before the previous one ended".into(),
                        ));
                        self.payload.clear();
                        FrameState::In
                    }
                    other => {
                        out.push(FrameEvent::Bad(format!(
                            "DLE followed by {other:02X} inside a frame"
                        )));
                        self.payload.clear();
                        FrameState::Idle
                    }
                },
                FrameState::Crc(mut crc) => {
                    crc.push(b);
                    if crc.len() < 2 {
                        FrameState::Crc(crc)
                    } else {
                        let got = u16::from_le_bytes([crc[0], crc[1]]);
                        let mut data = std::mem::take(&mut self.payload);
                        data.push(ETX);
                        let want = crc_ccitt(&data);
                        data.pop();
                        out.push(if got == want {
                            FrameEvent::Frame(data)
                        } else {
                            FrameEvent::Bad(format!("bad CRC {got:04X}, expected {want:04X}"))
                        });
                        FrameState::Idle
                    }
                }
            };
        }
        if matches!(self.state, FrameState::Idle) {
            self.flush_noise(&mut out);
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// Link

/// How APDUs travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// TCP/IP: APDUs as they are.
    Tcp,
    /// RS-232: each APDU in a DLE STX … DLE ETX CRC frame, acknowledged with ACK/NAK.
    Serial,
}

/// A byte stream a link runs over (TCP socket, serial port, PTY master).
pub trait ByteStream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> ByteStream for T {}

/// One side of a ZVT connection: sends and receives whole APDUs with timeouts. Garbled input is
/// logged and answered per protocol (NAK 0x15 on a bad serial frame, `84 9A 00` for an APDU that
/// is not ZVT), never a panic.
pub struct Link {
    io: Box<dyn ByteStream>,
    wire: Wire,
    buf: Vec<u8>,
    frames: FrameDecoder,
    pending: VecDeque<Vec<u8>>,
    /// How long to wait for the serial ACK/NAK of a frame.
    pub frame_ack_timeout: Duration,
    /// Who is speaking, for logs ("ECR" or "PT").
    pub side: &'static str,
    /// Serial NAKs received from the peer (frames it rejected).
    pub naks: usize,
}

/// Serial frames are sent at most this many times before giving up.
pub const FRAME_TRIES: usize = 3;

impl Link {
    pub fn new(io: Box<dyn ByteStream>, wire: Wire, side: &'static str) -> Link {
        Link {
            io,
            wire,
            buf: Vec::new(),
            frames: FrameDecoder::new(),
            pending: VecDeque::new(),
            frame_ack_timeout: Duration::from_secs(1),
            side,
            naks: 0,
        }
    }

    pub fn wire(&self) -> Wire {
        self.wire
    }

    /// Writes raw bytes (the simulator uses this to send garbage).
    pub async fn send_raw(&mut self, bytes: &[u8]) -> Result<()> {
        self.io
            .write_all(bytes)
            .await
            .map_err(|e| DriverError::io(format!("ZVT {}: write failed: {e}", self.side)))?;
        self.io
            .flush()
            .await
            .map_err(|e| DriverError::io(format!("ZVT {}: write failed: {e}", self.side)))
    }

    async fn read_more(&mut self) -> Result<Vec<u8>> {
        let mut tmp = [0u8; 1024];
        match self.io.read(&mut tmp).await {
            Ok(0) => Err(DriverError::io(format!(
                "ZVT {}: the peer closed the connection",
                self.side
            ))),
            Ok(n) => Ok(tmp[..n].to_vec()),
            Err(e) => Err(DriverError::io(format!(
                "ZVT {}: read failed: {e}",
                self.side
            ))),
        }
    }

    /// True if the peer has not closed the connection (checked without waiting). Bytes that were
    /// already waiting are kept.
    pub fn is_alive(&mut self) -> bool {
        if self.wire == Wire::Serial {
            // A serial line has no connection to lose; a dead terminal shows as silence.
            return true;
        }
        let mut tmp = [0u8; 1024];
        match self.io.read(&mut tmp).now_or_never() {
            None => true,
            Some(Ok(0)) | Some(Err(_)) => false,
            Some(Ok(n)) => {
                self.buf.extend_from_slice(&tmp[..n]);
                true
            }
        }
    }

    /// Drops anything buffered (after a timeout, so a late message is not taken as an answer to
    /// the next command).
    pub fn discard_input(&mut self) {
        if !self.buf.is_empty() || !self.pending.is_empty() {
            tracing::warn!(
                side = self.side,
                bytes = self.buf.len(),
                frames = self.pending.len(),
                "ZVT: discarding unread input"
            );
        }
        self.buf.clear();
        self.pending.clear();
        self.frames = FrameDecoder::new();
    }

    /// Sends one APDU; on serial waits for the frame ACK, resending on NAK or silence.
    pub async fn send(&mut self, apdu: &Apdu) -> Result<()> {
        let bytes = apdu.encode()?;
        tracing::debug!(
            side = self.side,
            class = apdu.class,
            instr = apdu.instr,
            len = apdu.data.len(),
            "ZVT send"
        );
        match self.wire {
            Wire::Tcp => self.send_raw(&bytes).await,
            Wire::Serial => {
                let frame = frame_encode(&bytes);
                for attempt in 1..=FRAME_TRIES {
                    self.send_raw(&frame).await?;
                    match self.wait_frame_ack().await? {
                        true => return Ok(()),
                        false => tracing::warn!(
                            side = self.side,
                            attempt,
                            "ZVT serial: frame not acknowledged, sending again"
                        ),
                    }
                }
                Err(DriverError::io(format!(
                    "ZVT {}: the peer did not acknowledge a frame {FRAME_TRIES} times; check the serial cable and baud rate",
                    self.side
                )))
            }
        }
    }

    /// Serial: waits for ACK (true) or NAK/silence (false) of the frame just sent. Frames that
    /// arrive meanwhile are acknowledged and kept for [`Link::recv`].
    pub async fn wait_frame_ack(&mut self) -> Result<bool> {
        let deadline = tokio::time::Instant::now() + self.frame_ack_timeout;
        loop {
            let chunk = match tokio::time::timeout_at(deadline, self.read_more()).await {
                Err(_) => return Ok(false),
                Ok(r) => r?,
            };
            let mut result = None;
            for ev in self.frames.feed(&chunk) {
                match ev {
                    FrameEvent::Ack => result = result.or(Some(true)),
                    FrameEvent::Nak => {
                        self.naks += 1;
                        result = result.or(Some(false));
                    }
                    other => self.on_serial_event(other).await?,
                }
            }
            if let Some(r) = result {
                return Ok(r);
            }
        }
    }

    async fn on_serial_event(&mut self, ev: FrameEvent) -> Result<()> {
        match ev {
            FrameEvent::Frame(p) => {
                self.send_raw(&[ACK]).await?;
                self.pending.push_back(p);
            }
            FrameEvent::Bad(why) => {
                tracing::warn!(side = self.side, %why, "ZVT serial: bad frame, answering NAK");
                self.send_raw(&[NAK]).await?;
            }
            FrameEvent::Noise(n) => {
                tracing::warn!(
                    side = self.side,
                    bytes = n,
                    "ZVT serial: skipped bytes outside a frame"
                )
            }
            FrameEvent::Nak => {
                self.naks += 1;
                tracing::debug!(side = self.side, "ZVT serial: stray NAK ignored")
            }
            FrameEvent::Ack => {
                tracing::debug!(side = self.side, "ZVT serial: stray ACK/NAK ignored")
            }
        }
        Ok(())
    }

    /// Receives the next valid APDU within `limit`; `what` names the wait in the timeout error.
    pub async fn recv(&mut self, limit: Duration, what: &str) -> Result<Apdu> {
        crate::health::within(limit, what, self.recv_forever()).await
    }

    /// Receives the next valid APDU, however long it takes (the simulator's idle wait).
    pub async fn recv_forever(&mut self) -> Result<Apdu> {
        loop {
            match self.wire {
                Wire::Tcp => match Apdu::decode(&self.buf) {
                    Decoded::Complete(a, used) => {
                        self.buf.drain(..used);
                        return Ok(a);
                    }
                    Decoded::Garbled(why) => {
                        tracing::warn!(side = self.side, %why, bytes = self.buf.len(), "ZVT: garbled input skipped, answering 84 9A 00");
                        self.buf.clear();
                        self.send(&Apdu::nak(0x9A)).await?;
                        continue;
                    }
                    Decoded::Incomplete => {}
                },
                Wire::Serial => {
                    if let Some(p) = self.pending.pop_front() {
                        match Apdu::decode_exact(&p) {
                            Ok(a) => return Ok(a),
                            Err(why) => {
                                tracing::warn!(side = self.side, %why, "ZVT: frame holds no valid APDU, answering 84 9A 00");
                                self.send(&Apdu::nak(0x9A)).await?;
                            }
                        }
                        continue;
                    }
                }
            }
            let chunk = self.read_more().await.inspect_err(|_| {
                if !self.buf.is_empty() {
                    tracing::warn!(
                        side = self.side,
                        bytes = self.buf.len(),
                        "ZVT: connection ended inside a truncated APDU"
                    );
                }
            })?;
            match self.wire {
                Wire::Tcp => self.buf.extend_from_slice(&chunk),
                Wire::Serial => {
                    for ev in self.frames.feed(&chunk) {
                        self.on_serial_event(ev).await?;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn crc_matches_the_kermit_check_value() {
        assert_eq!(crc_ccitt(b"123456789"), 0x2189);
    }

    #[test]
    fn registration_encodes_like_the_spec_example() {
        let a = Apdu::new(0x06, 0x00, vec![0x12, 0x34, 0x56, 0x08, 0x09, 0x78]);
        assert_eq!(
            a.encode().unwrap(),
            [0x06, 0x00, 0x06, 0x12, 0x34, 0x56, 0x08, 0x09, 0x78]
        );
    }

    #[test]
    fn long_length_is_ff_then_little_endian() {
        let a = Apdu::new(0x06, 0xD3, vec![0; 300]);
        let e = a.encode().unwrap();
        assert_eq!(&e[..5], &[0x06, 0xD3, 0xFF, 0x2C, 0x01]);
        assert_eq!(Apdu::decode(&e), Decoded::Complete(a, 305));
    }

    #[test]
    fn amount_bmp_is_six_bytes_bcd() {
        assert_eq!(
            bcd_encode(1250, 6).unwrap(),
            [0x00, 0x00, 0x00, 0x00, 0x12, 0x50]
        );
        assert_eq!(bcd_encode(1_000_000_000_000, 6), None);
        assert_eq!(bcd_decode(&[0x1A]), None);
    }

    #[test]
    fn masked_pan_round_trips() {
        assert_eq!(pan_decode(&pan_encode("6799******1234")), "6799******1234");
        assert_eq!(pan_decode(&pan_encode("123")), "123");
    }
}
