//! Splitting an MJPEG stream (`multipart/x-mixed-replace`) into JPEGs: by the boundary from the
//! Content-Type header (and each part's Content-Length when present), or, when the boundary is
//! missing or wrong, by walking the JPEG markers from SOI (FF D8) to EOI (FF D9).

/// How a JPEG candidate at the start of a buffer looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JpegScan {
    /// A whole JPEG of this many bytes.
    Complete(usize),
    /// Looks right so far; more bytes are needed.
    Incomplete,
    /// Not a JPEG (or cut off by the next one): skip this many bytes and look again.
    Broken(usize),
}

/// Walks the JPEG segments of `buf` (which should start with SOI) up to EOI. Marker lengths are
/// followed and entropy-coded data is scanned with byte stuffing in mind, so an EXIF thumbnail's
/// own FF D9 does not end the picture early, and an SOI where a segment should be means the
/// picture before it was cut off.
pub fn scan_jpeg(buf: &[u8]) -> JpegScan {
    if buf.len() < 2 {
        return JpegScan::Incomplete;
    }
    if buf[0] != 0xFF || buf[1] != 0xD8 {
        return JpegScan::Broken(1);
    }
    let mut i = 2;
    loop {
        let Some(&b) = buf.get(i) else {
            return JpegScan::Incomplete;
        };
        if b != 0xFF {
            return JpegScan::Broken(1);
        }
        let ff = i;
        while buf.get(i) == Some(&0xFF) {
            i += 1;
        }
        let Some(&marker) = buf.get(i) else {
            return JpegScan::Incomplete;
        };
        i += 1;
        match marker {
            0xD9 => return JpegScan::Complete(i),
            0xD8 => return JpegScan::Broken(i - 2),
            0x00 => return JpegScan::Broken(1),
            0x01 | 0xD0..=0xD7 => {}
            _ => {
                let (Some(&hi), Some(&lo)) = (buf.get(i), buf.get(i + 1)) else {
                    return JpegScan::Incomplete;
                };
                let len = usize::from(u16::from_be_bytes([hi, lo]));
                if len < 2 {
                    return JpegScan::Broken(1);
                }
                i += len;
                if i > buf.len() {
                    return JpegScan::Incomplete;
                }
                if marker == 0xDA {
                    // Entropy-coded data runs to the next marker that is not a stuffed 00,
                    // a restart marker or a fill byte.
                    loop {
                        let Some(p) = buf[i..].iter().position(|&c| c == 0xFF) else {
                            return JpegScan::Incomplete;
                        };
                        let j = i + p;
                        let Some(&next) = buf.get(j + 1) else {
                            return JpegScan::Incomplete;
                        };
                        match next {
                            0x00 | 0xD0..=0xD7 => i = j + 2,
                            0xFF => i = j + 1,
                            _ => {
                                i = j;
                                break;
                            }
                        }
                    }
                }
            }
        }
        debug_assert!(i > ff);
    }
}

/// True if `bytes` is one whole JPEG (trailing CR/LF/space allowed), not cut off.
pub fn is_complete_jpeg(bytes: &[u8]) -> bool {
    match scan_jpeg(bytes) {
        JpegScan::Complete(n) => bytes[n..].iter().all(|c| c.is_ascii_whitespace()),
        _ => false,
    }
}

/// The boundary named in a `multipart/x-mixed-replace; boundary=...` Content-Type.
pub fn boundary_from_content_type(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=')?;
        if !k.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let v = v.trim().trim_matches('"');
        // Some cameras put the leading dashes in the header too; the delimiter adds its own.
        let v = v.strip_prefix("--").unwrap_or(v);
        (!v.is_empty()).then(|| v.to_string())
    })
}

/// Splits a byte stream into JPEGs. Feed it whatever the socket gives with [`push`].
///
/// [`push`]: MjpegSplitter::push
#[derive(Debug)]
pub struct MjpegSplitter {
    delimiter: Option<Vec<u8>>,
    buf: Vec<u8>,
    by_markers: bool,
    /// The last marker scan needed more bytes; do not scan again before a new EOI arrives.
    waiting_for_eoi: bool,
    limit: usize,
}

/// The largest part or picture kept by default.
pub const MAX_FRAME: usize = 8 * 1024 * 1024;

impl MjpegSplitter {
    /// `boundary` as read from the Content-Type (without the leading `--`); `None` to go by the
    /// JPEG markers from the start.
    pub fn new(boundary: Option<&str>) -> MjpegSplitter {
        MjpegSplitter::with_limit(boundary, MAX_FRAME)
    }

    /// As [`MjpegSplitter::new`], dropping any part or picture larger than `limit` bytes.
    pub fn with_limit(boundary: Option<&str>, limit: usize) -> MjpegSplitter {
        let delimiter = boundary.map(|b| format!("--{b}").into_bytes());
        MjpegSplitter {
            by_markers: delimiter.is_none(),
            delimiter,
            buf: Vec::new(),
            waiting_for_eoi: false,
            limit: limit.max(1024),
        }
    }

    /// True once the stream is being split by JPEG markers (no or wrong boundary).
    pub fn by_markers(&self) -> bool {
        self.by_markers
    }

    /// Adds bytes from the stream; returns the parts (JPEG candidates) completed by them.
    /// The parts are not checked: run [`is_complete_jpeg`] or a decoder on them.
    pub fn push(&mut self, data: &[u8]) -> Vec<Vec<u8>> {
        let eoi_arrived = {
            let prev = self.buf.last().copied();
            prev == Some(0xFF) && data.first() == Some(&0xD9)
                || data.windows(2).any(|w| w == [0xFF, 0xD9])
        };
        self.buf.extend_from_slice(data);
        let mut out = Vec::new();
        if !self.by_markers {
            self.split_by_boundary(eoi_arrived, &mut out);
        }
        if self.by_markers {
            if self.waiting_for_eoi && !eoi_arrived {
                self.enforce_limit();
                return out;
            }
            self.split_by_markers(&mut out);
        }
        self.enforce_limit();
        out
    }

    fn enforce_limit(&mut self) {
        if self.buf.len() > self.limit {
            tracing::warn!(
                bytes = self.buf.len(),
                limit = self.limit,
                "MJPEG stream: no complete picture within the size limit; dropping the buffer"
            );
            self.buf.clear();
            self.waiting_for_eoi = false;
        }
    }

    fn split_by_boundary(&mut self, eoi_arrived: bool, out: &mut Vec<Vec<u8>>) {
        let Some(delim) = self.delimiter.clone() else {
            return;
        };
        loop {
            let Some(p) = find(&self.buf, &delim, 0) else {
                // No delimiter at all but a whole JPEG in the buffer: the boundary is wrong.
                if eoi_arrived && self.holds_a_whole_jpeg() {
                    tracing::warn!(
                        boundary = %String::from_utf8_lossy(&delim[2..]),
                        "MJPEG stream: boundary from the header not found; splitting by JPEG markers"
                    );
                    self.by_markers = true;
                }
                return;
            };
            let after = p + delim.len();
            if self.buf[after..].starts_with(b"--") {
                // The closing delimiter.
                self.buf.drain(..after + 2);
                continue;
            }
            let Some(h) = find(&self.buf, b"\r\n\r\n", after) else {
                if self.buf.len() - after > 16 * 1024 {
                    tracing::warn!("MJPEG part headers longer than 16 KiB; skipped");
                    self.buf.drain(..after);
                    continue;
                }
                return;
            };
            let headers = String::from_utf8_lossy(&self.buf[after..h]).into_owned();
            let start = h + 4;
            let length = headers.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.trim()
                    .eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            });
            let end = match length {
                Some(n) if n > self.limit => {
                    tracing::warn!(bytes = n, "MJPEG part larger than the limit; skipped");
                    self.buf.drain(..start);
                    continue;
                }
                Some(n) if self.buf.len() >= start + n => start + n,
                Some(_) => return,
                None => match find(&self.buf, &delim, start) {
                    Some(q) => q,
                    None => return,
                },
            };
            let mut body = self.buf[start..end].to_vec();
            while body.last().is_some_and(|c| *c == b'\n' || *c == b'\r') {
                body.pop();
            }
            self.buf.drain(..end);
            out.push(body);
        }
    }

    fn holds_a_whole_jpeg(&self) -> bool {
        let mut from = 0;
        while let Some(s) = find(&self.buf, &[0xFF, 0xD8, 0xFF], from) {
            match scan_jpeg(&self.buf[s..]) {
                JpegScan::Complete(_) => return true,
                JpegScan::Incomplete => return false,
                JpegScan::Broken(n) => from = s + n.max(1),
            }
        }
        false
    }

    fn split_by_markers(&mut self, out: &mut Vec<Vec<u8>>) {
        loop {
            let Some(s) = find(&self.buf, &[0xFF, 0xD8, 0xFF], 0) else {
                // Keep a possible start of SOI at the end.
                let keep = self.buf.len().min(2);
                self.buf.drain(..self.buf.len() - keep);
                self.waiting_for_eoi = false;
                return;
            };
            self.buf.drain(..s);
            match scan_jpeg(&self.buf) {
                JpegScan::Complete(n) => {
                    out.push(self.buf.drain(..n).collect());
                }
                JpegScan::Incomplete => {
                    self.waiting_for_eoi = true;
                    return;
                }
                JpegScan::Broken(n) => {
                    if n > 1 {
                        tracing::warn!(bytes = n, "MJPEG stream: cut-off picture skipped");
                    }
                    self.buf.drain(..n.max(1));
                }
            }
        }
    }
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let p = hay[i..=hay.len() - needle.len()]
            .iter()
            .position(|&c| c == first)?;
        if hay[i + p..].starts_with(needle) {
            return Some(i + p);
        }
        i += p + 1;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn boundary_is_read_from_the_content_type() {
        let b = boundary_from_content_type;
        assert_eq!(
            b("multipart/x-mixed-replace; boundary=frame").as_deref(),
            Some("frame")
        );
        assert_eq!(
            b("multipart/x-mixed-replace;boundary=\"--myb\"").as_deref(),
            Some("myb")
        );
        assert_eq!(b("multipart/x-mixed-replace"), None);
        assert_eq!(b("image/jpeg; boundary="), None);
    }

    #[test]
    fn find_handles_edges() {
        assert_eq!(find(b"abcabd", b"abd", 0), Some(3));
        assert_eq!(find(b"ab", b"abc", 0), None);
        assert_eq!(find(b"xxab", b"ab", 3), None);
        assert_eq!(find(b"", b"", 0), None);
    }

    #[test]
    fn a_cut_off_picture_before_a_whole_one_is_skipped() {
        // SOI, an APP0 segment, SOS header, entropy data, EOI.
        let jpeg: &[u8] = &[
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 1, 2, 0xFF, 0xDA, 0x00, 0x02, 9, 0xFF, 0x00, 7,
            0xFF, 0xD0, 8, 0xFF, 0xD9,
        ];
        assert_eq!(scan_jpeg(jpeg), JpegScan::Complete(jpeg.len()));
        let mut stream = jpeg[..14].to_vec();
        stream.extend_from_slice(jpeg);
        let mut s = MjpegSplitter::new(None);
        assert_eq!(s.push(&stream), vec![jpeg.to_vec()]);
    }
}
