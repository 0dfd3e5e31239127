//! USB keyboard-wedge readers (badge readers and scanners that type what they read, then Enter).
//! The driver reads the reader's own input device (evdev) and grabs it, so the keystrokes never
//! reach the console or a focused window. Key codes are translated with a US keyboard layout,
//! which is what these readers emulate by default.

use evdev::KeyCode;
use std::fmt;

/// Why a typed scan was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WedgeError {
    /// More than `max` characters before Enter.
    Oversized { max: usize },
    /// A key that is not a character, Enter or a modifier (evdev key code).
    UnmappedKey(u16),
}

impl fmt::Display for WedgeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WedgeError::Oversized { max } => write!(
                f,
                "more than {max} characters before Enter; check that the reader sends Enter after each read"
            ),
            WedgeError::UnmappedKey(code) => write!(
                f,
                "key code {code} is not a character; check the reader's keyboard layout and suffix settings (US layout, Enter suffix)"
            ),
        }
    }
}

/// (key, character without shift, character with shift), US layout.
const KEYMAP: &[(KeyCode, char, char)] = &[
    (KeyCode::KEY_A, 'a', 'A'),
    (KeyCode::KEY_B, 'b', 'B'),
    (KeyCode::KEY_C, 'c', 'C'),
    (KeyCode::KEY_D, 'd', 'D'),
    (KeyCode::KEY_E, 'e', 'E'),
    (KeyCode::KEY_F, 'f', 'F'),
    (KeyCode::KEY_G, 'g', 'G'),
    (KeyCode::KEY_H, 'h', 'H'),
    (KeyCode::KEY_I, 'i', 'I'),
    (KeyCode::KEY_J, 'j', 'J'),
    (KeyCode::KEY_K, 'k', 'K'),
    (KeyCode::KEY_L, 'l', 'L'),
    (KeyCode::KEY_M, 'm', 'M'),
    (KeyCode::KEY_N, 'n', 'N'),
    (KeyCode::KEY_O, 'o', 'O'),
    (KeyCode::KEY_P, 'p', 'P'),
    (KeyCode::KEY_Q, 'q', 'Q'),
    (KeyCode::KEY_R, 'r', 'R'),
    (KeyCode::KEY_S, 's', 'S'),
    (KeyCode::KEY_T, 't', 'T'),
    (KeyCode::KEY_U, 'u', 'U'),
    (KeyCode::KEY_V, 'v', 'V'),
    (KeyCode::KEY_W, 'w', 'W'),
    (KeyCode::KEY_X, 'x', 'X'),
    (KeyCode::KEY_Y, 'y', 'Y'),
    (KeyCode::KEY_Z, 'z', 'Z'),
    (KeyCode::KEY_1, '1', '!'),
    (KeyCode::KEY_2, '2', '@'),
    (KeyCode::KEY_3, '3', '#'),
    (KeyCode::KEY_4, '4', '$'),
    (KeyCode::KEY_5, '5', '%'),
    (KeyCode::KEY_6, '6', '^'),
    (KeyCode::KEY_7, '7', '&'),
    (KeyCode::KEY_8, '8', '*'),
    (KeyCode::KEY_9, '9', '('),
    (KeyCode::KEY_0, '0', ')'),
    (KeyCode::KEY_MINUS, '-', '_'),
    (KeyCode::KEY_EQUAL, '=', '+'),
    (KeyCode::KEY_LEFTBRACE, '[', '{'),
    (KeyCode::KEY_RIGHTBRACE, ']', '}'),
    (KeyCode::KEY_SEMICOLON, ';', ':'),
    (KeyCode::KEY_APOSTROPHE, '\'', '"'),
    (KeyCode::KEY_GRAVE, '`', '~'),
    (KeyCode::KEY_BACKSLASH, '\\', '|'),
    (KeyCode::KEY_COMMA, ',', '<'),
    (KeyCode::KEY_DOT, '.', '>'),
    (KeyCode::KEY_SLASH, '/', '?'),
    (KeyCode::KEY_SPACE, ' ', ' '),
    // Keypad, as typed with Num Lock on (shift does not change these).
    (KeyCode::KEY_KP0, '0', '0'),
    (KeyCode::KEY_KP1, '1', '1'),
    (KeyCode::KEY_KP2, '2', '2'),
    (KeyCode::KEY_KP3, '3', '3'),
    (KeyCode::KEY_KP4, '4', '4'),
    (KeyCode::KEY_KP5, '5', '5'),
    (KeyCode::KEY_KP6, '6', '6'),
    (KeyCode::KEY_KP7, '7', '7'),
    (KeyCode::KEY_KP8, '8', '8'),
    (KeyCode::KEY_KP9, '9', '9'),
    (KeyCode::KEY_KPDOT, '.', '.'),
    (KeyCode::KEY_KPMINUS, '-', '-'),
    (KeyCode::KEY_KPPLUS, '+', '+'),
    (KeyCode::KEY_KPASTERISK, '*', '*'),
    (KeyCode::KEY_KPSLASH, '/', '/'),
];

/// Modifiers that do not change the characters (ignored).
const IGNORED: &[KeyCode] = &[
    KeyCode::KEY_LEFTCTRL,
    KeyCode::KEY_RIGHTCTRL,
    KeyCode::KEY_LEFTALT,
    KeyCode::KEY_RIGHTALT,
    KeyCode::KEY_LEFTMETA,
    KeyCode::KEY_RIGHTMETA,
    KeyCode::KEY_NUMLOCK,
];

/// The character a key types (US layout), given whether shift is effectively held.
pub fn char_for(key: KeyCode, shift: bool) -> Option<char> {
    KEYMAP
        .iter()
        .find(|(k, _, _)| *k == key)
        .map(|&(_, plain, shifted)| if shift { shifted } else { plain })
}

/// The key events (code, value: 1 press / 0 release) a wedge reader sends to type `text` followed
/// by Enter, or `None` if a character cannot be typed on a US layout.
pub fn keystrokes_for(text: &str) -> Option<Vec<(KeyCode, i32)>> {
    let mut events = Vec::new();
    for c in text.chars() {
        let (key, shift) = KEYMAP.iter().find_map(|&(k, plain, shifted)| {
            if c == plain {
                Some((k, false))
            } else if c == shifted {
                Some((k, true))
            } else {
                None
            }
        })?;
        if shift {
            events.push((KeyCode::KEY_LEFTSHIFT, 1));
        }
        events.push((key, 1));
        events.push((key, 0));
        if shift {
            events.push((KeyCode::KEY_LEFTSHIFT, 0));
        }
    }
    events.push((KeyCode::KEY_ENTER, 1));
    events.push((KeyCode::KEY_ENTER, 0));
    Some(events)
}

/// Turns key events into scans: tracks both shift keys and Caps Lock, collects characters, and
/// finishes a scan at Enter (main or keypad). Autorepeat events are ignored (a reader never holds
/// a key). A scan with an unmapped key or more than `max` characters is reported as an error at
/// its Enter, so a garbled read is skipped as a whole rather than passed on with a hole.
#[derive(Debug, Clone)]
pub struct KeyTranslator {
    max: usize,
    text: String,
    left_shift: bool,
    right_shift: bool,
    caps_lock: bool,
    error: Option<WedgeError>,
}

impl KeyTranslator {
    /// A translator accepting scans of up to `max` characters.
    pub fn new(max: usize) -> KeyTranslator {
        KeyTranslator {
            max: max.max(1),
            text: String::new(),
            left_shift: false,
            right_shift: false,
            caps_lock: false,
            error: None,
        }
    }

    /// Feeds one key event (`value`: 1 press, 0 release, 2 autorepeat). Returns the finished scan
    /// (trimmed; `None` for an empty one) when this event is Enter.
    pub fn key(&mut self, key: KeyCode, value: i32) -> Option<Result<String, WedgeError>> {
        let pressed = value == 1;
        match key {
            KeyCode::KEY_LEFTSHIFT => self.left_shift = value != 0,
            KeyCode::KEY_RIGHTSHIFT => self.right_shift = value != 0,
            KeyCode::KEY_CAPSLOCK if pressed => self.caps_lock = !self.caps_lock,
            KeyCode::KEY_ENTER | KeyCode::KEY_KPENTER if pressed => return self.finish(),
            _ if !pressed || IGNORED.contains(&key) || key == KeyCode::KEY_CAPSLOCK => {}
            _ => self.type_key(key),
        }
        None
    }

    /// Forgets a partly typed scan and the modifier state (after the device was lost).
    pub fn reset(&mut self) {
        let max = self.max;
        *self = KeyTranslator::new(max);
    }

    fn type_key(&mut self, key: KeyCode) {
        if self.error.is_some() {
            return;
        }
        let shift = self.left_shift || self.right_shift;
        let Some(c) = char_for(key, shift) else {
            self.error = Some(WedgeError::UnmappedKey(key.code()));
            self.text.clear();
            return;
        };
        let c = if self.caps_lock && c.is_ascii_alphabetic() {
            if c.is_ascii_uppercase() {
                c.to_ascii_lowercase()
            } else {
                c.to_ascii_uppercase()
            }
        } else {
            c
        };
        if self.text.len() >= self.max {
            self.error = Some(WedgeError::Oversized { max: self.max });
            self.text.clear();
            return;
        }
        self.text.push(c);
    }

    fn finish(&mut self) -> Option<Result<String, WedgeError>> {
        let text = std::mem::take(&mut self.text);
        if let Some(e) = self.error.take() {
            return Some(Err(e));
        }
        let text = text.trim();
        (!text.is_empty()).then(|| Ok(text.to_string()))
    }
}
