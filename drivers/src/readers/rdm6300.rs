//! RDM6300-style 125 kHz (EM4100) RFID readers: 9600 baud, 8N1, and one 14-byte frame per read:
//!
//! `0x02` STX, 10 ASCII hex digits of data (1 version/customer byte + 4-byte card id), 2 ASCII hex
//! digits of checksum (XOR of the 5 data bytes), `0x03` ETX. The reader repeats the frame while the
//! card stays in the field.

use crate::health::{DriverError, Result};
use serde::Serialize;
use std::fmt;
use std::time::{Duration, Instant};

/// Start of a frame.
pub const STX: u8 = 0x02;
/// End of a frame.
pub const ETX: u8 = 0x03;
/// The reader's fixed baud rate.
pub const BAUD: u32 = 9600;
/// Bytes in one frame, STX and ETX included.
pub const FRAME_LEN: usize = 14;
/// Repeats of the same card closer together than this are one scan, by default.
pub const DEFAULT_REPEAT_WINDOW: Duration = Duration::from_secs(1);

const PAYLOAD_LEN: usize = 12;

/// A card as the reader reports it: the version (customer) byte and the 4-byte id.
///
/// Its text form (used as [`crate::readers::Scan::text`]) is the 10 uppercase hex digits of the
/// frame, version byte first, e.g. `0A0012F3C4`. Many cards are printed with [`CardId::decimal`]
/// (`0001242052`) or [`CardId::wiegand26`] (`018,62404`) instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct CardId {
    /// Version (customer) byte, the first two hex digits.
    pub version: u8,
    /// The 4-byte card id.
    pub id: u32,
}

impl CardId {
    /// A card from its version byte and id.
    pub fn new(version: u8, id: u32) -> CardId {
        CardId { version, id }
    }

    /// Parses the 10-hex-digit form (case-insensitive).
    pub fn from_hex(text: &str) -> Result<CardId> {
        let bad = || {
            DriverError::config(format!(
                "card id {text:?} is not 10 hex digits (version byte + 4-byte id, e.g. 0A0012F3C4)"
            ))
        };
        let bytes = text.as_bytes();
        if bytes.len() != 10 {
            return Err(bad());
        }
        let mut data = [0u8; 5];
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            data[i] = hex_byte(pair[0], pair[1]).ok_or_else(bad)?;
        }
        Ok(CardId::from_bytes(data))
    }

    fn from_bytes(b: [u8; 5]) -> CardId {
        CardId::new(b[0], u32::from_be_bytes([b[1], b[2], b[3], b[4]]))
    }

    fn bytes(&self) -> [u8; 5] {
        let id = self.id.to_be_bytes();
        [self.version, id[0], id[1], id[2], id[3]]
    }

    /// The 10 uppercase hex digits, version byte first.
    pub fn hex(&self) -> String {
        format!("{:02X}{:08X}", self.version, self.id)
    }

    /// The 4-byte id in decimal, 10 digits with leading zeros, as printed on most EM4100 cards.
    pub fn decimal(&self) -> String {
        format!("{:010}", self.id)
    }

    /// The Wiegand-26 form printed on some cards: facility code (3rd byte) and card number
    /// (low 16 bits), e.g. `018,62404`.
    pub fn wiegand26(&self) -> String {
        format!("{:03},{:05}", (self.id >> 16) & 0xff, self.id & 0xffff)
    }

    /// XOR of the 5 data bytes.
    pub fn checksum(&self) -> u8 {
        self.bytes().iter().fold(0, |acc, b| acc ^ b)
    }

    /// The frame the reader sends for this card.
    pub fn frame(&self) -> [u8; FRAME_LEN] {
        let text = format!("{}{:02X}", self.hex(), self.checksum());
        let mut frame = [0u8; FRAME_LEN];
        frame[0] = STX;
        frame[1..13].copy_from_slice(text.as_bytes());
        frame[13] = ETX;
        frame
    }
}

impl fmt::Display for CardId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hex())
    }
}

/// Why bytes from the reader were skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    /// Bytes outside any frame (line noise, wrong baud rate, another device on the line).
    Garbage { bytes: usize },
    /// A new STX arrived before the frame's ETX.
    Truncated { len: usize },
    /// The frame had `len` bytes between STX and ETX instead of 12 (or no ETX in time).
    WrongLength { len: usize },
    /// The frame's data or checksum is not ASCII hex.
    NotHex,
    /// The checksum does not match the data (a bad read at the edge of the field).
    BadChecksum { computed: u8, received: u8 },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Garbage { bytes } => write!(
                f,
                "{bytes} bytes outside a frame; check the baud rate ({BAUD}) and the wiring"
            ),
            FrameError::Truncated { len } => {
                write!(f, "frame cut off after {len} bytes by a new frame start")
            }
            FrameError::WrongLength { len } => write!(
                f,
                "frame has {len} bytes between STX and ETX instead of {PAYLOAD_LEN}; is this an RDM6300-compatible reader?"
            ),
            FrameError::NotHex => f.write_str("frame data is not ASCII hex"),
            FrameError::BadChecksum { computed, received } => write!(
                f,
                "frame checksum {received:02X} does not match the data ({computed:02X}); bad read, the card will be read again"
            ),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    InFrame,
}

/// Streaming frame decoder: feed it bytes as they arrive, in chunks of any size. It resynchronises
/// on the next STX after garbage, and suppresses the repeats sent while a card stays in the field:
/// the same card again within `repeat_window` of its previous frame is not reported again (the
/// window slides, so a card held for a minute is one scan).
#[derive(Debug, Clone)]
pub struct Rdm6300Decoder {
    state: State,
    buf: Vec<u8>,
    garbage: usize,
    repeat_window: Duration,
    last: Option<(CardId, Instant)>,
}

impl Default for Rdm6300Decoder {
    fn default() -> Self {
        Rdm6300Decoder::new(DEFAULT_REPEAT_WINDOW)
    }
}

impl Rdm6300Decoder {
    /// A decoder suppressing repeats within `repeat_window` (`Duration::ZERO` reports every frame).
    pub fn new(repeat_window: Duration) -> Rdm6300Decoder {
        Rdm6300Decoder {
            state: State::Idle,
            buf: Vec::with_capacity(PAYLOAD_LEN),
            garbage: 0,
            repeat_window,
            last: None,
        }
    }

    /// Feeds bytes received now.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<std::result::Result<CardId, FrameError>> {
        self.push_at(bytes, Instant::now())
    }

    /// Feeds bytes received at `now` (for deterministic tests of the repeat window).
    pub fn push_at(
        &mut self,
        bytes: &[u8],
        now: Instant,
    ) -> Vec<std::result::Result<CardId, FrameError>> {
        let mut out = Vec::new();
        for &b in bytes {
            match (self.state, b) {
                (State::Idle, STX) => {
                    self.flush_garbage(&mut out);
                    self.start();
                }
                (State::Idle, _) => self.garbage += 1,
                (State::InFrame, STX) => {
                    out.push(Err(FrameError::Truncated {
                        len: self.buf.len(),
                    }));
                    self.start();
                }
                (State::InFrame, ETX) => {
                    self.state = State::Idle;
                    match decode_payload(&self.buf) {
                        Ok(card) => {
                            if !self.is_repeat(card, now) {
                                out.push(Ok(card));
                            }
                            self.last = Some((card, now));
                        }
                        Err(e) => out.push(Err(e)),
                    }
                }
                (State::InFrame, _) if self.buf.len() >= PAYLOAD_LEN => {
                    out.push(Err(FrameError::WrongLength {
                        len: self.buf.len() + 1,
                    }));
                    self.state = State::Idle;
                }
                (State::InFrame, _) => self.buf.push(b),
            }
        }
        self.flush_garbage(&mut out);
        out
    }

    /// Forgets a partly received frame (after the port was lost).
    pub fn reset(&mut self) {
        self.state = State::Idle;
        self.buf.clear();
        self.garbage = 0;
    }

    fn start(&mut self) {
        self.state = State::InFrame;
        self.buf.clear();
    }

    fn flush_garbage(&mut self, out: &mut Vec<std::result::Result<CardId, FrameError>>) {
        if self.garbage > 0 {
            out.push(Err(FrameError::Garbage {
                bytes: std::mem::take(&mut self.garbage),
            }));
        }
    }

    fn is_repeat(&self, card: CardId, now: Instant) -> bool {
        matches!(self.last, Some((last, at)) if last == card && now.saturating_duration_since(at) < self.repeat_window)
    }
}

fn hex_digit(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'F' => Some(c - b'A' + 10),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_byte(hi: u8, lo: u8) -> Option<u8> {
    Some(hex_digit(hi)? << 4 | hex_digit(lo)?)
}

fn decode_payload(payload: &[u8]) -> std::result::Result<CardId, FrameError> {
    if payload.len() != PAYLOAD_LEN {
        return Err(FrameError::WrongLength { len: payload.len() });
    }
    let mut bytes = [0u8; 6];
    for (i, pair) in payload.chunks_exact(2).enumerate() {
        bytes[i] = hex_byte(pair[0], pair[1]).ok_or(FrameError::NotHex)?;
    }
    let card = CardId::from_bytes([bytes[0], bytes[1], bytes[2], bytes[3], bytes[4]]);
    let computed = card.checksum();
    if computed != bytes[5] {
        return Err(FrameError::BadChecksum {
            computed,
            received: bytes[5],
        });
    }
    Ok(card)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_known_frame_decodes_and_prints_in_all_three_forms() {
        // Data 0A 00 12 F3 C4, checksum 0A^00^12^F3^C4 = 2F.
        let frame = b"\x020A0012F3C42F\x03";
        let card = CardId::new(0x0A, 0x0012_F3C4);
        assert_eq!(&card.frame(), frame);
        assert_eq!(Rdm6300Decoder::default().push(frame), vec![Ok(card)]);
        assert_eq!(card.to_string(), "0A0012F3C4");
        assert_eq!(card.decimal(), "0001242052");
        assert_eq!(card.wiegand26(), "018,62404");
        assert_eq!(CardId::from_hex("0a0012f3c4").unwrap(), card);
        assert!(CardId::from_hex("0A0012F3C").is_err());
    }

    #[test]
    fn repeats_within_the_window_are_one_scan_and_the_window_slides() {
        let card = CardId::new(1, 42).frame();
        let mut d = Rdm6300Decoder::new(Duration::from_secs(1));
        let t0 = Instant::now();
        assert_eq!(d.push_at(&card, t0).len(), 1);
        for i in 1..10 {
            assert!(
                d.push_at(&card, t0 + Duration::from_millis(500 * i))
                    .is_empty()
            );
        }
        assert_eq!(d.push_at(&card, t0 + Duration::from_secs(7)).len(), 1);
    }

    #[test]
    fn bad_checksum_wrong_length_and_truncation_are_reported() {
        let mut d = Rdm6300Decoder::new(Duration::ZERO);
        assert_eq!(
            d.push(b"\x020A0012F3C42E\x03"),
            vec![Err(FrameError::BadChecksum {
                computed: 0x2F,
                received: 0x2E
            })]
        );
        assert_eq!(
            d.push(b"\x020A00\x03"),
            vec![Err(FrameError::WrongLength { len: 4 })]
        );
        assert_eq!(
            d.push(b"\x020A0\x020A0012F3C42F\x03"),
            vec![
                Err(FrameError::Truncated { len: 3 }),
                Ok(CardId::new(0x0A, 0x0012_F3C4))
            ]
        );
        assert_eq!(
            d.push(b"\x020A0012F3C42FF\x03"),
            vec![
                Err(FrameError::WrongLength { len: 13 }),
                Err(FrameError::Garbage { bytes: 1 })
            ]
        );
    }
}
