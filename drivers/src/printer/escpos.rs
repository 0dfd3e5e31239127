//! ESC/POS, written here rather than taken from a crate: the encoder for tickets and receipts,
//! a decoder that reads a byte stream back (for the simulator and tests), and the decoder of the
//! DLE EOT status bytes.

use super::{PrinterStatus, TicketLayout};
use crate::health::{DriverError, Result};

const ESC: u8 = 0x1B;
const GS: u8 = 0x1D;
const DLE: u8 = 0x10;
const FS: u8 = 0x1C;
const EOT: u8 = 0x04;
const LF: u8 = 0x0A;

/// QR module size in dots (GS ( k function 167); 6 dots gives a code of about 2–3 cm on 80 mm.
pub const QR_MODULE_SIZE: u8 = 6;
/// The most bytes a model 2 QR code holds at error correction level M (version 40).
pub const QR_MAX_BYTES: usize = 2331;

/// The real-time status request `DLE EOT n` (1 printer, 2 offline cause, 3 error cause, 4 paper).
pub fn status_request(n: u8) -> [u8; 3] {
    [DLE, EOT, n]
}

/// Encodes a ticket: the lot name centred in bold double size, the title in bold, one
/// `label: value` line per entry, the QR code (model 2, level M), the footer, a feed and a cut.
/// An empty title, QR payload or footer is left out.
pub fn encode_ticket(layout: &TicketLayout) -> Result<Vec<u8>> {
    let qr = layout.qr_payload.as_bytes();
    if qr.len() > QR_MAX_BYTES {
        return Err(DriverError::config(format!(
            "the ticket's QR payload is {} bytes; a QR code at level M holds at most {QR_MAX_BYTES} — shorten the payload",
            qr.len()
        )));
    }
    let mut out = begin();
    out.extend_from_slice(&[ESC, b'a', 1, ESC, b'E', 1, GS, b'!', 0x11]);
    line(&mut out, &layout.lot_name);
    out.extend_from_slice(&[GS, b'!', 0]);
    if !layout.title.is_empty() {
        line(&mut out, &layout.title);
    }
    out.extend_from_slice(&[ESC, b'E', 0, ESC, b'a', 0, ESC, b'd', 1]);
    for (label, value) in &layout.lines {
        line(&mut out, &format!("{label}: {value}"));
    }
    if !qr.is_empty() {
        out.extend_from_slice(&[ESC, b'd', 1, ESC, b'a', 1]);
        qr_code(&mut out, qr);
    }
    if !layout.footer.is_empty() {
        out.extend_from_slice(&[ESC, b'a', 1]);
        for l in layout.footer.lines() {
            line(&mut out, l);
        }
    }
    out.extend_from_slice(&[ESC, b'a', 0]);
    finish(&mut out);
    Ok(out)
}

/// Encodes plain text (a receipt, a Z-report) line by line, left aligned, then feeds and cuts.
/// The caller lays out the columns (42 for font A on 80 mm paper).
pub fn encode_text(text: &str) -> Vec<u8> {
    let mut out = begin();
    for l in text.lines() {
        line(&mut out, l);
    }
    finish(&mut out);
    out
}

fn begin() -> Vec<u8> {
    // ESC @ initialise; ESC t 0 selects code page PC437.
    vec![ESC, b'@', ESC, b't', 0]
}

fn finish(out: &mut Vec<u8>) {
    // Feed past the cutter, then GS V 66 0: feed to the cutting position and cut partially.
    out.extend_from_slice(&[ESC, b'd', 4, GS, b'V', 66, 0]);
}

fn line(out: &mut Vec<u8>, text: &str) {
    out.extend(to_cp437(text));
    out.push(LF);
}

/// GS ( k, model 2: select the model (fn 65), module size (fn 67), error correction M (fn 69),
/// store the data (fn 80, length in pL pH), print it (fn 81).
fn qr_code(out: &mut Vec<u8>, data: &[u8]) {
    out.extend_from_slice(&[GS, b'(', b'k', 4, 0, 49, 65, 50, 0]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 67, QR_MODULE_SIZE]);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 69, 49]);
    let len = data.len() + 3;
    out.extend_from_slice(&[
        GS,
        b'(',
        b'k',
        (len & 0xFF) as u8,
        (len >> 8) as u8,
        49,
        80,
        48,
    ]);
    out.extend_from_slice(data);
    out.extend_from_slice(&[GS, b'(', b'k', 3, 0, 49, 81, 48]);
}

/// The upper half of code page 437 (bytes 0x80–0xFF).
const CP437_HIGH: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', '¢', '£', '¥', '₧', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '⌐', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', '╡', '╢', '╖', '╕', '╣', '║', '╗', '╝', '╜', '╛', '┐', //
    '└', '┴', '┬', '├', '─', '┼', '╞', '╟', '╚', '╔', '╩', '╦', '╠', '═', '╬', '╧', //
    '╨', '╤', '╥', '╙', '╘', '╒', '╓', '╫', '╪', '┘', '┌', '█', '▄', '▌', '▐', '▀', //
    'α', 'ß', 'Γ', 'π', 'Σ', 'σ', 'µ', 'τ', 'Φ', 'Θ', 'Ω', 'δ', '∞', 'φ', 'ε', '∩', //
    '≡', '±', '≥', '≤', '⌠', '⌡', '÷', '≈', '°', '∙', '·', '√', 'ⁿ', '²', '■', '\u{a0}',
];

/// Maps text to code page 437: ASCII as is, accented letters and symbols the page has, a few
/// look-alikes (€ → EUR, curly quotes, dashes), and `?` for anything else. Control characters
/// (newlines included) become spaces, so one field stays one line.
pub fn to_cp437(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for c in text.chars() {
        match c {
            ' '..='~' => out.push(c as u8),
            c if c.is_control() => out.push(b' '),
            '€' => out.extend_from_slice(b"EUR"),
            '‘' | '’' | '‚' | '′' => out.push(b'\''),
            '“' | '”' | '„' | '″' => out.push(b'"'),
            '–' | '—' | '‐' | '−' => out.push(b'-'),
            '…' => out.extend_from_slice(b"..."),
            'β' => out.push(0xE1),
            'μ' => out.push(0xE6),
            c => match CP437_HIGH.iter().position(|&h| h == c) {
                Some(i) => out.push(0x80 + i as u8),
                None => out.push(b'?'),
            },
        }
    }
    out
}

/// What a printer would have put on paper, read back from an ESC/POS byte stream.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decoded {
    /// Printed lines, in order (a line ends at LF, a print-and-feed, a cut or the stream's end).
    pub text_lines: Vec<String>,
    /// The data of each QR code printed (GS ( k fn 81 after fn 80), as text.
    pub qr_payloads: Vec<String>,
    /// Number of cuts (GS V, ESC i, ESC m).
    pub cuts: usize,
    /// Runs of text printed emphasised (ESC E 1 or ESC ! with bit 3).
    pub bold: Vec<String>,
    /// Runs of text printed double width or height (GS ! or ESC ! bits 4–5).
    pub double: Vec<String>,
    /// Bytes skipped because they were not a command the decoder knows.
    pub skipped: usize,
}

impl Decoded {
    /// The value of a `label: value` line, if one was printed.
    pub fn value_of(&self, label: &str) -> Option<&str> {
        self.text_lines
            .iter()
            .find_map(|l| l.strip_prefix(label)?.strip_prefix(": "))
    }

    fn append(&mut self, other: Decoded) {
        self.text_lines.extend(other.text_lines);
        self.qr_payloads.extend(other.qr_payloads);
        self.cuts += other.cuts;
        self.bold.extend(other.bold);
        self.double.extend(other.double);
        self.skipped += other.skipped;
    }
}

/// Decodes a whole ESC/POS stream into one [`Decoded`]. Unknown commands are skipped by their
/// known lengths, garbage byte by byte; a truncated command ends the decoding. Never panics.
pub fn decode(bytes: &[u8]) -> Decoded {
    let w = walk(bytes);
    let mut all = Decoded::default();
    for t in w.tickets {
        all.append(t);
    }
    all.append(w.tail);
    all
}

/// Decodes a stream into tickets, one per cut; text after the last cut is not a ticket yet.
pub fn decode_tickets(bytes: &[u8]) -> Vec<Decoded> {
    walk(bytes).tickets
}

/// Tickets ended by a cut, and how many bytes they took (the rest is an unfinished job).
pub(crate) fn split_tickets(bytes: &[u8]) -> (Vec<Decoded>, usize) {
    let w = walk(bytes);
    (w.tickets, w.consumed)
}

struct Walk {
    tickets: Vec<Decoded>,
    consumed: usize,
    tail: Decoded,
}

#[derive(Default)]
struct Walker {
    cur: Decoded,
    line: String,
    line_open: bool,
    bold: bool,
    double: bool,
    bold_run: String,
    double_run: String,
    qr_store: Vec<u8>,
}

impl Walker {
    fn put(&mut self, c: char) {
        self.line.push(c);
        self.line_open = true;
        if self.bold {
            self.bold_run.push(c);
        }
        if self.double {
            self.double_run.push(c);
        }
    }

    fn close_runs(&mut self) {
        if !self.bold_run.is_empty() {
            self.cur.bold.push(std::mem::take(&mut self.bold_run));
        }
        if !self.double_run.is_empty() {
            self.cur.double.push(std::mem::take(&mut self.double_run));
        }
    }

    fn end_line(&mut self) {
        self.close_runs();
        self.cur.text_lines.push(std::mem::take(&mut self.line));
        self.line_open = false;
    }

    /// Print-and-feed commands print a pending line but add no empty lines.
    fn flush_line(&mut self) {
        if self.line_open {
            self.end_line();
        }
    }

    fn style(&mut self, bold: bool, double: bool) {
        if bold != self.bold || double != self.double {
            self.close_runs();
        }
        self.bold = bold;
        self.double = double;
    }
}

fn byte_at(b: &[u8], i: usize) -> Option<usize> {
    b.get(i).map(|&x| usize::from(x))
}

fn walk(b: &[u8]) -> Walk {
    let mut w = Walker::default();
    let mut tickets = Vec::new();
    let mut consumed = 0;
    let mut i = 0;
    while i < b.len() {
        let step = match b[i] {
            LF => {
                w.end_line();
                Some(1)
            }
            0x0C => {
                w.flush_line();
                Some(1)
            }
            0x09 => {
                w.put(' ');
                Some(1)
            }
            ESC => esc(b, i, &mut w),
            GS => match gs(b, i, &mut w) {
                Some((n, cut)) => {
                    if cut {
                        w.flush_line();
                        w.close_runs();
                        w.cur.cuts += 1;
                        tickets.push(std::mem::take(&mut w.cur));
                        consumed = i.saturating_add(n).min(b.len());
                    }
                    Some(n)
                }
                None => None,
            },
            DLE => Some(dle(b, i)),
            FS => fs(b, i),
            0x0D | 0x7F => Some(1),
            0x00..=0x1F => {
                w.cur.skipped += 1;
                Some(1)
            }
            c @ 0x20..=0x7E => {
                w.put(char::from(c));
                Some(1)
            }
            c => {
                w.put(CP437_HIGH[usize::from(c - 0x80)]);
                Some(1)
            }
        };
        let cut_by_esc = matches!(b.get(i..i + 2), Some([ESC, b'i' | b'm']));
        match step {
            Some(n) => {
                i = i.saturating_add(n.max(1));
                if cut_by_esc {
                    w.flush_line();
                    w.close_runs();
                    w.cur.cuts += 1;
                    tickets.push(std::mem::take(&mut w.cur));
                    consumed = i.min(b.len());
                }
            }
            None => {
                tracing::warn!(
                    offset = i,
                    "ESC/POS stream ends inside a command; ignoring the rest"
                );
                break;
            }
        }
    }
    w.flush_line();
    w.close_runs();
    Walk {
        tickets,
        consumed,
        tail: w.cur,
    }
}

/// Length of a command whose body length is given by the little-endian bytes at `at`.
fn with_len(b: &[u8], i: usize, at: usize, width: usize) -> Option<usize> {
    let mut len = 0usize;
    for k in 0..width {
        len |= byte_at(b, i + at + k)? << (8 * k);
    }
    let total = (at + width).saturating_add(len);
    (i.saturating_add(total) <= b.len()).then_some(total)
}

fn need(b: &[u8], i: usize, n: usize) -> Option<usize> {
    (i.saturating_add(n) <= b.len()).then_some(n)
}

fn esc(b: &[u8], i: usize, w: &mut Walker) -> Option<usize> {
    let cmd = *b.get(i + 1)?;
    match cmd {
        b'@' => {
            w.flush_line();
            w.style(false, false);
            Some(2)
        }
        b'!' => {
            let n = *b.get(i + 2)?;
            w.style(n & 0x08 != 0, n & 0x30 != 0);
            Some(3)
        }
        b'E' => {
            let n = *b.get(i + 2)?;
            w.style(n & 1 != 0, w.double);
            Some(3)
        }
        b'd' | b'J' => {
            need(b, i, 3)?;
            w.flush_line();
            Some(3)
        }
        b'2' | b'<' | b'L' | b'S' | b'i' | b'm' | 0x0C => Some(2),
        b'-' | b'3' | b' ' | b'%' | b'=' | b'?' | b'G' | b'M' | b'R' | b'T' | b'U' | b'V'
        | b'a' | b'r' | b't' | b'{' | b'e' => need(b, i, 3),
        b'$' | b'\\' | b'c' => need(b, i, 4),
        b'p' => need(b, i, 5),
        b'W' => need(b, i, 10),
        b'*' => {
            let m = *b.get(i + 2)?;
            let dots = byte_at(b, i + 3)? | byte_at(b, i + 4)? << 8;
            let per = if m >= 32 { 3 } else { 1 };
            need(b, i, 5usize.saturating_add(dots.saturating_mul(per)))
        }
        b'&' => {
            // ESC & y c1 c2 [x d1 … d(y×x)] for each character c1..=c2.
            let y = byte_at(b, i + 2)?;
            let (c1, c2) = (byte_at(b, i + 3)?, byte_at(b, i + 4)?);
            let mut n = 5usize;
            for _ in c1..=c2 {
                let x = byte_at(b, i.saturating_add(n))?;
                n = n.saturating_add(1).saturating_add(x.saturating_mul(y));
            }
            need(b, i, n)
        }
        b'(' => with_len(b, i, 3, 2),
        _ => {
            w.cur.skipped += 2;
            tracing::warn!(command = cmd, "unknown ESC command; skipping it");
            Some(2)
        }
    }
}

/// Returns the command's length and whether it cut the paper.
fn gs(b: &[u8], i: usize, w: &mut Walker) -> Option<(usize, bool)> {
    let cmd = *b.get(i + 1)?;
    let plain = |n: usize| need(b, i, n).map(|n| (n, false));
    match cmd {
        b'!' => {
            let n = *b.get(i + 2)?;
            w.style(w.bold, n & 0x77 != 0);
            Some((3, false))
        }
        b'V' => match *b.get(i + 2)? {
            0 | 1 | 48 | 49 => Some((3, true)),
            65 | 66 | 97 | 98 | 103 | 104 => need(b, i, 4).map(|n| (n, true)),
            _ => {
                w.cur.skipped += 3;
                Some((3, false))
            }
        },
        b'(' => {
            let n = with_len(b, i, 3, 2)?;
            if b.get(i + 2) == Some(&b'k') {
                qr(&b[i + 5..i + n], w);
            }
            Some((n, false))
        }
        b'k' => match *b.get(i + 2)? {
            0..=6 => {
                let end = b.get(i + 3..)?.iter().position(|&x| x == 0)?;
                Some((4 + end, false))
            }
            65..=79 => plain(4usize.saturating_add(byte_at(b, i + 3)?)),
            _ => plain(3),
        },
        b'v' => {
            let x = byte_at(b, i + 4)? | byte_at(b, i + 5)? << 8;
            let y = byte_at(b, i + 6)? | byte_at(b, i + 7)? << 8;
            plain(8usize.saturating_add(x.saturating_mul(y)))
        }
        b'8' => with_len(b, i, 3, 4).map(|n| (n, false)),
        b'*' => {
            let (x, y) = (byte_at(b, i + 2)?, byte_at(b, i + 3)?);
            plain(4 + x * y * 8)
        }
        b'/' | b'B' | b'H' | b'f' | b'h' | b'w' | b'a' | b'r' | b'I' | b'b' | b'|' | b'T' => {
            plain(3)
        }
        b'L' | b'W' | b'P' | b'$' | b'\\' => plain(4),
        b'^' => plain(5),
        b':' => plain(2),
        _ => {
            w.cur.skipped += 2;
            tracing::warn!(command = cmd, "unknown GS command; skipping it");
            Some((2, false))
        }
    }
}

/// The body of a GS ( k command: cn 49 is QR; fn 80 stores data, fn 81 prints it.
fn qr(body: &[u8], w: &mut Walker) {
    match body {
        [49, 80, 48, data @ ..] => w.qr_store = data.to_vec(),
        [49, 81, 48, ..] => {
            w.flush_line();
            let data = std::mem::take(&mut w.qr_store);
            w.cur
                .qr_payloads
                .push(String::from_utf8_lossy(&data).into_owned());
        }
        _ => {}
    }
}

fn dle(b: &[u8], i: usize) -> usize {
    match (b.get(i + 1), b.get(i + 2)) {
        (Some(&EOT) | Some(&0x05), _) => 3,
        (Some(&0x14), Some(&8)) => 10,
        (Some(&0x14), Some(&7)) => 4,
        (Some(&0x14), _) => 5,
        _ => 1,
    }
}

fn fs(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i + 1)? {
        b'p' | b'S' => need(b, i, 4),
        b'!' | b'C' | b'-' | b'W' => need(b, i, 3),
        b'(' => with_len(b, i, 3, 2),
        _ => Some(2),
    }
}

/// Decodes the four answers to DLE EOT 1, 2, 3 and 4. Each must have its fixed bits (bit 1 and
/// bit 4 set, bits 0 and 7 clear); anything else is not a status byte and is a protocol error.
pub fn decode_status(replies: [u8; 4]) -> Result<PrinterStatus> {
    for (k, &b) in replies.iter().enumerate() {
        if b & 0x93 != 0x12 {
            return Err(DriverError::protocol(format!(
                "the answer to status request DLE EOT {} was 0x{b:02x}, which is not an ESC/POS status byte; check the port's baud rate and that the device is an ESC/POS printer",
                k + 1
            )));
        }
    }
    let [printer, offline, error, paper] = replies;
    let cause = if error & 0x08 != 0 {
        Some("autocutter error — clear the paper jam at the cutter and close the cover")
    } else if error & 0x20 != 0 {
        Some("unrecoverable printer error — switch the printer off and on")
    } else if error & 0x40 != 0 {
        Some("print head too hot — the printer resumes when it has cooled down")
    } else if offline & 0x40 != 0 {
        Some("printer error — check the printer's error light")
    } else {
        None
    };
    Ok(PrinterStatus {
        online: printer & 0x08 == 0,
        cover_open: offline & 0x04 != 0,
        paper_out: offline & 0x20 != 0 || paper & 0x60 == 0x60,
        paper_near_end: paper & 0x0C == 0x0C,
        error: cause.map(str::to_string),
    })
}
