//! What the reader's model says per character slot (a probability for each character of its
//! alphabet), and the best text under the plate formats of the lot's country. The reader (ocr.rs)
//! makes them; matching a read to the plates inside (matching.rs) weighs them.

use crate::error::{AnprError, Result};
use crate::text::PlateFormat;
use std::sync::Arc;

/// Per slot, the probability of each character of the alphabet.
#[derive(Debug, Clone, PartialEq)]
pub struct SlotProbs {
    alphabet: Arc<[char]>,
    pad: char,
    rows: Vec<Vec<f32>>,
}

impl SlotProbs {
    /// Builds the rows; each row must have one probability per alphabet character.
    pub fn new(alphabet: Arc<[char]>, pad: char, rows: Vec<Vec<f32>>) -> Result<SlotProbs> {
        if let Some(r) = rows.iter().find(|r| r.len() != alphabet.len()) {
            return Err(AnprError::model(format!(
                "a slot has {} probabilities for an alphabet of {}",
                r.len(),
                alphabet.len()
            )));
        }
        Ok(SlotProbs {
            alphabet,
            pad,
            rows,
        })
    }

    /// A read as if a model had been `sure` of each character of `text` (and of the pads after
    /// it), sharing the rest evenly: for tests and for plates read by a person.
    pub fn from_text(
        text: &str,
        alphabet: Vec<char>,
        pad: char,
        slots: usize,
        sure: f32,
    ) -> SlotProbs {
        let n = alphabet.len();
        let rest = (1.0 - sure) / (n.saturating_sub(1).max(1)) as f32;
        let mut chars = text.chars();
        let rows = (0..slots)
            .map(|_| {
                let c = chars.next().unwrap_or(pad);
                alphabet
                    .iter()
                    .map(|a| if *a == c { sure } else { rest })
                    .collect()
            })
            .collect();
        SlotProbs {
            alphabet: alphabet.into(),
            pad,
            rows,
        }
    }

    pub fn slots(&self) -> usize {
        self.rows.len()
    }

    pub fn alphabet(&self) -> &[char] {
        &self.alphabet
    }

    pub fn pad(&self) -> char {
        self.pad
    }

    /// The same read with `c` given probability `p` in `slot`, the others scaled to make room:
    /// for tests that need a runner-up character.
    pub fn with_second_choice(mut self, slot: usize, c: char, p: f32) -> SlotProbs {
        if let (Some(row), Some(i)) = (
            self.rows.get_mut(slot),
            self.alphabet.iter().position(|a| *a == c),
        ) {
            let rest: f32 = row
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .map(|(_, v)| v)
                .sum();
            let scale = if rest > 0.0 { (1.0 - p) / rest } else { 0.0 };
            for (j, v) in row.iter_mut().enumerate() {
                *v = if j == i { p } else { *v * scale };
            }
        }
        self
    }

    /// The probability slot `slot` gives to `c` (0 for a character outside the alphabet).
    pub fn prob(&self, slot: usize, c: char) -> f32 {
        match (
            self.rows.get(slot),
            self.alphabet.iter().position(|a| *a == c),
        ) {
            (Some(row), Some(i)) => row[i],
            _ => 0.0,
        }
    }

    pub fn pad_prob(&self, slot: usize) -> f32 {
        self.prob(slot, self.pad)
    }

    /// The most likely character of each slot and its probability.
    pub fn best(&self) -> Vec<(char, f32)> {
        self.rows
            .iter()
            .map(|row| {
                let (i, p) =
                    row.iter().enumerate().fold(
                        (0, f32::MIN),
                        |b, (i, p)| if *p > b.1 { (i, *p) } else { b },
                    );
                (self.alphabet[i], p)
            })
            .collect()
    }
}

/// The most likely text that fits one of `formats` (the plate layouts of the lot's country), read
/// from the slots with each position limited to what its pattern allows, with the probability
/// of that text; None when no format is given or none can fit the slots.
pub fn decode_with_formats(read: &SlotProbs, formats: &[PlateFormat]) -> Option<(String, f32)> {
    let mut best: Option<(String, f32)> = None;
    for format in formats {
        let pattern: Vec<char> = format.pattern.chars().collect();
        if pattern.len() > read.slots() {
            continue;
        }
        let mut text = String::new();
        let mut p = 1.0f32;
        for slot in 0..read.slots() {
            let (c, q) = match pattern.get(slot) {
                Some(want) => read
                    .alphabet()
                    .iter()
                    .filter(|c| **c != read.pad() && PlateFormat::allows(*want, **c))
                    .map(|c| (*c, read.prob(slot, *c)))
                    .fold((' ', -1.0), |b, x| if x.1 > b.1 { x } else { b }),
                None => (read.pad(), read.pad_prob(slot)),
            };
            if q < 0.0 {
                // The alphabet has no character this position allows.
                p = -1.0;
                break;
            }
            if c != read.pad() {
                text.push(c);
            }
            p *= q;
        }
        if p >= 0.0 && best.as_ref().is_none_or(|(_, b)| p > *b) {
            best = Some((text, p));
        }
    }
    best
}

#[cfg(test)]
pub(crate) mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    const ALPHABET: &str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_";

    /// A read of `text` with `sure` probability on each character (10 slots, `_` for none).
    pub(crate) fn read_of(text: &str, sure: f32) -> SlotProbs {
        SlotProbs::from_text(text, ALPHABET.chars().collect(), '_', 10, sure)
    }

    #[test]
    fn a_country_format_turns_a_misread_letter_into_the_digit_its_place_needs() {
        // Mercosur ABC1D23: the reader took the 1 for an I and the 2 for a Z.
        let mut read = read_of("ABCID2Z", 0.6);
        // Give the right characters some probability, as a real model would.
        read = read
            .with_second_choice(3, '1', 0.3)
            .with_second_choice(6, '3', 0.3);
        let br = crate::text::formats_for("br");
        let (text, p) = decode_with_formats(&read, &br).unwrap();
        assert_eq!(text, "ABC1D23");
        assert!(p > 0.0);
        assert_eq!(decode_with_formats(&read, &[]), None);
    }
}
