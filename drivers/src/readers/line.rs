//! Serial line scanners (ticket QR codes, barcodes): the scanner sends one scan per line, ended by
//! CR, LF or CR LF.

use std::fmt;

/// Longest line accepted by default, in bytes before trimming.
pub const DEFAULT_MAX_LINE: usize = 512;

/// Why a line from a scanner was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineError {
    /// Longer than `max` bytes; everything up to the next line end was dropped.
    Oversized { len: usize, max: usize },
    /// Not UTF-8 (wrong scanner code page, or line noise).
    NotUtf8,
    /// Contains control characters inside the text (line noise, or a scanner prefix/suffix
    /// setting such as STX/ETX or GS1 group separators).
    ControlCharacters,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineError::Oversized { len, max } => write!(
                f,
                "line of {len} bytes is longer than the {max} bytes allowed; check that the scanner ends each scan with CR or LF"
            ),
            LineError::NotUtf8 => f.write_str(
                "line is not UTF-8; check the scanner's baud rate and its character set setting",
            ),
            LineError::ControlCharacters => f.write_str(
                "line contains control characters; check the scanner's prefix/suffix settings",
            ),
        }
    }
}

/// Splits a byte stream into scans: one per line, trimmed, blank lines ignored. Memory stays
/// bounded by `max`: an oversized line is dropped up to the next line end (resynchronisation).
#[derive(Debug, Clone)]
pub struct LineSplitter {
    max: usize,
    buf: Vec<u8>,
    /// Bytes of the current line dropped so far because it is oversized (0 = not oversized).
    dropped: usize,
    after_cr: bool,
}

impl Default for LineSplitter {
    fn default() -> Self {
        LineSplitter::new(DEFAULT_MAX_LINE)
    }
}

impl LineSplitter {
    /// A splitter accepting lines of up to `max` bytes (at least 1).
    pub fn new(max: usize) -> LineSplitter {
        let max = max.max(1);
        LineSplitter {
            max,
            buf: Vec::with_capacity(max.min(1024)),
            dropped: 0,
            after_cr: false,
        }
    }

    /// Feeds bytes as they arrive; returns each line completed by them, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Result<String, LineError>> {
        let mut out = Vec::new();
        for &b in bytes {
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                b'\n' if after_cr => {}
                b'\r' | b'\n' => out.extend(self.finish()),
                _ if self.dropped > 0 => self.dropped += 1,
                _ if self.buf.len() >= self.max => {
                    self.dropped = self.buf.len() + 1;
                    self.buf.clear();
                }
                _ => self.buf.push(b),
            }
        }
        out
    }

    /// Forgets a partly received line (after the port was lost).
    pub fn reset(&mut self) {
        self.buf.clear();
        self.dropped = 0;
        self.after_cr = false;
    }

    fn finish(&mut self) -> Option<Result<String, LineError>> {
        if self.dropped > 0 {
            let len = std::mem::take(&mut self.dropped);
            return Some(Err(LineError::Oversized { len, max: self.max }));
        }
        let bytes = std::mem::take(&mut self.buf);
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => return Some(Err(LineError::NotUtf8)),
        };
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if text.chars().any(char::is_control) {
            return Some(Err(LineError::ControlCharacters));
        }
        Some(Ok(text.to_string()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cr_lf_and_crlf_each_end_one_line_and_blank_lines_are_ignored() {
        let mut s = LineSplitter::new(16);
        let out = s.push(b" A1 \rB2\nC3\r\n\r\n\nD");
        assert_eq!(out, vec![Ok("A1".into()), Ok("B2".into()), Ok("C3".into())]);
        assert_eq!(s.push(b"4\r"), vec![Ok("D4".into())]);
    }

    #[test]
    fn an_oversized_line_is_reported_once_and_the_next_line_arrives() {
        let mut s = LineSplitter::new(4);
        let mut out = s.push(b"1234");
        out.extend(s.push(b"56789\nOK\n"));
        assert_eq!(
            out,
            vec![
                Err(LineError::Oversized { len: 9, max: 4 }),
                Ok("OK".into())
            ]
        );
    }
}
