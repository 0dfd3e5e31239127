//! Text for the PDF built-in fonts: WinAnsi encoding, text widths, wrapping and truncation.
//!
//! The built-in fonts (Helvetica, Helvetica-Bold) need no font file but only know the 218
//! characters of WinAnsi (Windows-1252). Everything drawn is therefore encoded first: characters
//! WinAnsi has map to their byte, a few others to a close spelling ("→" becomes "->", "ő"
//! becomes "o"), and the rest to "?". Nothing is dropped silently and nothing panics.

use crate::metrics::{HELVETICA, HELVETICA_BOLD};

/// Which of the two built-in faces a piece of text uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Face {
    Regular,
    Bold,
}

/// WinAnsi's characters in 0x80..=0x9F, where it differs from Latin-1.
const CP1252_HIGH: [(char, u8); 27] = [
    ('€', 0x80),
    ('‚', 0x82),
    ('ƒ', 0x83),
    ('„', 0x84),
    ('…', 0x85),
    ('†', 0x86),
    ('‡', 0x87),
    ('ˆ', 0x88),
    ('‰', 0x89),
    ('Š', 0x8A),
    ('‹', 0x8B),
    ('Œ', 0x8C),
    ('Ž', 0x8E),
    ('\u{2018}', 0x91),
    ('\u{2019}', 0x92),
    ('\u{201C}', 0x93),
    ('\u{201D}', 0x94),
    ('•', 0x95),
    ('–', 0x96),
    ('—', 0x97),
    ('˜', 0x98),
    ('™', 0x99),
    ('š', 0x9A),
    ('›', 0x9B),
    ('œ', 0x9C),
    ('ž', 0x9E),
    ('Ÿ', 0x9F),
];

/// Close spellings for common characters WinAnsi lacks.
const SUBSTITUTES: [(char, &str); 24] = [
    ('\u{2212}', "-"), // minus sign
    ('\u{2010}', "-"), // hyphen
    ('\u{2011}', "-"), // non-breaking hyphen
    ('\u{2012}', "-"), // figure dash
    ('\u{2015}', "—"), // horizontal bar
    ('\u{2032}', "'"), // prime
    ('\u{2033}', "\""),
    ('\u{2044}', "/"), // fraction slash
    ('\u{2192}', "->"),
    ('\u{2190}', "<-"),
    ('\u{2194}', "<->"),
    ('\u{21D2}', "=>"),
    ('\u{2264}', "<="),
    ('\u{2265}', ">="),
    ('\u{2260}', "!="),
    ('\u{2248}', "~"),
    ('\u{2027}', "·"),
    ('\u{00AD}', ""),   // soft hyphen: invisible unless a line breaks there
    ('\u{200B}', ""),   // zero-width space
    ('\u{200C}', ""),   // zero-width non-joiner
    ('\u{200D}', ""),   // zero-width joiner
    ('\u{2060}', ""),   // word joiner
    ('\u{FEFF}', ""),   // byte order mark
    ('\u{2116}', "No"), // numero sign
];

/// Base letters of Latin Extended-A (U+0100..=U+017F), so "ő", "ł" or "č" keep their letter.
const LATIN_EXTENDED_A: &[u8; 128] = b"AaAaAaCcCcCcCcDdDdEeEeEeEeEeGgGgGgGgHhHhIiIiIiIiIiIiJjKkkLlLlLlLlLlNnNnNnnNnOoOoOoOoRrRrRrSsSsSsSsTtTtTtUuUuUuUuUuUuWwYyYZzZzZzs";

/// Encodes text as WinAnsi bytes for the built-in fonts. Control characters (tabs, line
/// breaks) become spaces; characters WinAnsi lacks become a close spelling or `?`.
pub(crate) fn encode(text: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for ch in text.chars() {
        push_char(&mut out, ch);
    }
    out
}

fn push_char(out: &mut Vec<u8>, ch: char) {
    let code = u32::from(ch);
    // Printable ASCII and the Latin-1 upper half are WinAnsi as they are.
    if let Ok(byte) = u8::try_from(code)
        && ((0x20..=0x7E).contains(&byte) || byte >= 0xA0)
        && byte != 0xAD
    {
        out.push(byte);
        return;
    }
    if ch.is_whitespace() || ch.is_control() {
        // Tabs, line breaks and the Unicode spaces.
        out.push(b' ');
        return;
    }
    if let Some(&(_, byte)) = CP1252_HIGH.iter().find(|(c, _)| *c == ch) {
        out.push(byte);
        return;
    }
    if let Some(&(_, spelling)) = SUBSTITUTES.iter().find(|(c, _)| *c == ch) {
        for sub in spelling.chars() {
            push_char(out, sub);
        }
        return;
    }
    if let Some(index) = code.checked_sub(0x100)
        && let Some(&base) = usize::try_from(index)
            .ok()
            .and_then(|i| LATIN_EXTENDED_A.get(i))
    {
        out.push(base);
        return;
    }
    out.push(b'?');
}

fn widths(face: Face) -> &'static [u16; 256] {
    match face {
        Face::Regular => &HELVETICA,
        Face::Bold => &HELVETICA_BOLD,
    }
}

/// The width, in points, of encoded text set in `face` at `size` points.
pub(crate) fn width(bytes: &[u8], face: Face, size: f32) -> f32 {
    let table = widths(face);
    let units: u32 = bytes
        .iter()
        .map(|&b| u32::from(table[usize::from(b)]))
        .sum();
    // Exact: widths are integers far below f32's 2^24 mantissa for any sane text.
    units as f32 * size / 1000.0
}

/// Breaks encoded text into lines no wider than `max_width` points, at spaces where it can and
/// inside a word only when the word alone is too wide. Always returns at least one line.
pub(crate) fn wrap(bytes: &[u8], face: Face, size: f32, max_width: f32) -> Vec<Vec<u8>> {
    let space = width(b" ", face, size);
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_width = 0.0;
    for word in bytes.split(|&b| b == b' ').filter(|w| !w.is_empty()) {
        let word_width = width(word, face, size);
        if !line.is_empty() && line_width + space + word_width <= max_width {
            line.push(b' ');
            line.extend_from_slice(word);
            line_width += space + word_width;
            continue;
        }
        if !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if word_width <= max_width {
            line = word.to_vec();
            line_width = word_width;
            continue;
        }
        // A word wider than the line: break it between characters.
        line_width = 0.0;
        for &b in word {
            let w = width(&[b], face, size);
            if !line.is_empty() && line_width + w > max_width {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            line.push(b);
            line_width += w;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Shortens encoded text to fit `max_width` points, ending it with "…" when anything was cut.
pub(crate) fn truncate(bytes: &[u8], face: Face, size: f32, max_width: f32) -> Vec<u8> {
    if width(bytes, face, size) <= max_width {
        return bytes.to_vec();
    }
    const ELLIPSIS: u8 = 0x85;
    let budget = max_width - width(&[ELLIPSIS], face, size);
    let mut out = Vec::new();
    let mut used = 0.0;
    for &b in bytes {
        let w = width(&[b], face, size);
        if used + w > budget {
            break;
        }
        out.push(b);
        used += w;
    }
    while out.last() == Some(&b' ') {
        out.pop();
    }
    out.push(ELLIPSIS);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_passes_through_unchanged() {
        assert_eq!(
            encode("Total (net) 12.50 \\ 100%"),
            b"Total (net) 12.50 \\ 100%"
        );
    }

    #[test]
    fn winansi_characters_map_to_their_bytes() {
        assert_eq!(encode("€"), vec![0x80]);
        assert_eq!(encode("ä ß Ü"), vec![0xE4, b' ', 0xDF, b' ', 0xDC]);
        assert_eq!(encode("—–…"), vec![0x97, 0x96, 0x85]);
        assert_eq!(encode("\u{201E}x\u{201C}"), vec![0x84, b'x', 0x93]);
        assert_eq!(
            encode("Œuvre ™"),
            vec![0x8C, b'u', b'v', b'r', b'e', b' ', 0x99]
        );
    }

    #[test]
    fn other_characters_are_spelled_close_or_replaced() {
        assert_eq!(encode("a → b ≤ c − d"), b"a -> b <= c - d");
        assert_eq!(encode("Łódź"), vec![b'L', 0xF3, b'd', b'z']);
        assert_eq!(encode("Ελλάδα"), b"??????");
        assert_eq!(encode("🚗 P"), b"? P");
        assert_eq!(encode("soft\u{00AD}hyphen\u{200B}"), b"softhyphen");
    }

    #[test]
    fn controls_and_unicode_spaces_become_spaces() {
        assert_eq!(encode("a\tb\nc\r\u{0}d\u{2009}e\u{A0}"), b"a b c  d e\xA0");
    }

    #[test]
    fn every_encoded_byte_has_a_width() {
        // All of WinAnsi and then some: no byte that encode produces may be a zero-width hole.
        let sample: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        let bytes = encode(&sample);
        for face in [Face::Regular, Face::Bold] {
            for &b in &bytes {
                assert!(widths(face)[usize::from(b)] > 0, "byte {b:#x} has no width");
            }
        }
    }

    #[test]
    fn widths_follow_helvetica_metrics() {
        // "Hi" in Helvetica: H = 722, i = 222 thousandths of the size.
        assert!((width(b"Hi", Face::Regular, 10.0) - 9.44).abs() < 1e-4);
        assert!(width(b"Hi", Face::Bold, 10.0) > width(b"Hi", Face::Regular, 10.0));
        assert_eq!(width(b"", Face::Regular, 10.0), 0.0);
    }

    #[test]
    fn wrap_breaks_at_spaces_and_keeps_every_word() {
        let text = encode("the quick brown fox jumps over the lazy dog");
        let lines = wrap(&text, Face::Regular, 10.0, 60.0);
        assert!(lines.len() > 1);
        for line in &lines {
            assert!(width(line, Face::Regular, 10.0) <= 60.0);
        }
        assert_eq!(lines.join(&b' '), text);
    }

    #[test]
    fn wrap_splits_a_word_too_long_for_the_line() {
        let lines = wrap(b"WWWWWWWWWWWWWWWW", Face::Bold, 10.0, 30.0);
        assert!(lines.len() >= 5);
        assert_eq!(lines.concat(), b"WWWWWWWWWWWWWWWW");
        // Even a line narrower than one character makes progress instead of looping.
        assert_eq!(wrap(b"abc", Face::Regular, 10.0, 0.0).len(), 3);
        assert_eq!(
            wrap(b"", Face::Regular, 10.0, 100.0),
            vec![Vec::<u8>::new()]
        );
    }

    #[test]
    fn truncate_adds_an_ellipsis_only_when_needed() {
        assert_eq!(truncate(b"short", Face::Regular, 8.0, 100.0), b"short");
        let cut = truncate(b"a rather long label", Face::Regular, 8.0, 40.0);
        assert_eq!(cut.last(), Some(&0x85));
        assert!(width(&cut, Face::Regular, 8.0) <= 40.0);
    }
}
