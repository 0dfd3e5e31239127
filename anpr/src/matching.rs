//! Closed-set matching: which of a known set of plates (the vehicles inside, permit holders,
//! reservations) a read most likely is, or that none is close enough.
//!
//! A read keeps, for every output slot, the probability of each character. A candidate is scored
//! by aligning its characters to the slots (dynamic programming, so a character the reader missed
//! or a logo it read as an extra character costs a fixed penalty instead of shifting every
//! character after it) and summing the negative log-probabilities of its characters, where a
//! character also earns part of the probability of its typical OCR confusions (O/0/D/Q, 1/I/L,
//! 8/B, 5/S, 2/Z, …). The best candidate wins when its cost is low enough and clearly lower than
//! the runner-up's.

use crate::slots::SlotProbs;

/// Characters an OCR typically mistakes for each other.
const CONFUSIONS: &[&str] = &[
    "O0DQU", "1IL7T", "8B", "5S", "2Z", "6G", "4A", "CG", "MN", "VY", "KX", "EF", "PR", "HN",
];

/// How much of a confusable character's probability counts for a candidate's character.
const CONFUSION_WEIGHT: f32 = 0.5;
/// The cost (in nats) of a slot the candidate does not explain, or a candidate character no slot
/// read.
const GAP_COST: f32 = 4.0;
/// Probabilities are floored here so one zero cannot make a cost infinite.
const FLOOR: f32 = 1e-4;

/// The thresholds of a match.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MatchRules {
    /// Highest total cost (nats) a match may have.
    pub max_cost: f32,
    /// How much higher the runner-up's cost must be.
    pub min_margin: f32,
}

impl Default for MatchRules {
    fn default() -> Self {
        MatchRules {
            max_cost: 9.0,
            min_margin: 2.5,
        }
    }
}

/// The result of matching a read against a known set.
#[derive(Debug, Clone, PartialEq)]
pub enum PlateMatch {
    /// `candidate` (an index into the candidates given) matched.
    Found {
        candidate: usize,
        plate: String,
        cost: f32,
        /// Cost of the runner-up minus this one's (infinite when there was only one candidate).
        margin: f32,
    },
    /// Two or more candidates are too close to tell apart.
    Ambiguous { candidates: Vec<String>, cost: f32 },
    /// No candidate is close enough.
    None { best_cost: Option<f32> },
}

/// Picks the best of `candidates` (plate texts, normalised or not) for a read.
pub fn match_plate(read: &SlotProbs, candidates: &[&str], rules: MatchRules) -> PlateMatch {
    let mut scored: Vec<(usize, f32)> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (i, candidate_cost(read, &crate::text::normalise(c))))
        .collect();
    scored.sort_by(|a, b| a.1.total_cmp(&b.1));
    let Some(&(best, cost)) = scored.first() else {
        return PlateMatch::None { best_cost: None };
    };
    if cost > rules.max_cost {
        return PlateMatch::None {
            best_cost: Some(cost),
        };
    }
    let margin = scored.get(1).map_or(f32::INFINITY, |r| r.1 - cost);
    if margin < rules.min_margin {
        let close = scored
            .iter()
            .take_while(|(_, c)| *c - cost < rules.min_margin)
            .map(|(i, _)| candidates[*i].to_string())
            .collect();
        return PlateMatch::Ambiguous {
            candidates: close,
            cost,
        };
    }
    PlateMatch::Found {
        candidate: best,
        plate: candidates[best].to_string(),
        cost,
        margin,
    }
}

/// The probability a slot gives to `c`, with part of its confusions' probability added.
fn char_prob(read: &SlotProbs, slot: usize, c: char) -> f32 {
    let own = read.prob(slot, c);
    let confused: f32 = CONFUSIONS
        .iter()
        .filter(|group| group.contains(c))
        .flat_map(|group| group.chars())
        .filter(|d| *d != c)
        .map(|d| read.prob(slot, d))
        .sum();
    (own + CONFUSION_WEIGHT * confused).clamp(FLOOR, 1.0)
}

/// The cheapest alignment of `plate`'s characters to the read's slots: slots hold the plate's
/// characters in order, the rest pads; a skipped slot or a skipped character costs GAP_COST.
pub fn candidate_cost(read: &SlotProbs, plate: &str) -> f32 {
    let chars: Vec<char> = plate.chars().collect();
    let slots = read.slots();
    let (n, m) = (chars.len(), slots);
    // cost[i][j]: the first i characters explained by the first j slots.
    let mut cost = vec![vec![f32::INFINITY; m + 1]; n + 1];
    cost[0][0] = 0.0;
    for i in 0..=n {
        for j in 0..=m {
            let here = cost[i][j];
            if !here.is_finite() {
                continue;
            }
            if i < n && j < m {
                let c = here - char_prob(read, j, chars[i]).ln();
                if c < cost[i + 1][j + 1] {
                    cost[i + 1][j + 1] = c;
                }
            }
            if i < n {
                // The reader missed this character.
                let c = here + GAP_COST;
                if c < cost[i + 1][j] {
                    cost[i + 1][j] = c;
                }
            }
            if j < m {
                // This slot is a pad once the plate is done, else something the plate lacks.
                let c = if i == n {
                    here - read.pad_prob(j).max(FLOOR).ln()
                } else {
                    here + GAP_COST
                };
                if c < cost[i][j + 1] {
                    cost[i][j + 1] = c;
                }
            }
        }
    }
    cost[n][m]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use proptest::prelude::*;

    use crate::slots::tests::read_of;

    #[test]
    fn an_exact_read_finds_its_plate() {
        let read = read_of("ABC1234", 0.95);
        let m = match_plate(
            &read,
            &["XYZ987", "ABC1234", "ABC1235"],
            MatchRules::default(),
        );
        assert!(matches!(m, PlateMatch::Found { candidate: 1, .. }), "{m:?}");
    }

    #[test]
    fn typical_confusions_still_match_the_right_car() {
        // The reader saw O for 0, 8 for B and I for 1.
        let read = read_of("OB8I234", 0.9);
        let m = match_plate(
            &read,
            &["0BB1234", "KLM5678", "PQR1111"],
            MatchRules::default(),
        );
        assert!(matches!(m, PlateMatch::Found { candidate: 0, .. }), "{m:?}");
    }

    #[test]
    fn a_missed_character_costs_one_gap_not_the_whole_plate() {
        // The reader dropped the first character: every other one is shifted by a slot.
        let read = read_of("BC1234", 0.95);
        let m = match_plate(&read, &["ABC1234", "XYZ9876"], MatchRules::default());
        assert!(matches!(m, PlateMatch::Found { candidate: 0, .. }), "{m:?}");
    }

    #[test]
    fn a_stranger_matches_nobody() {
        let read = read_of("QWE5678", 0.95);
        let m = match_plate(&read, &["ABC1234", "XYZ9876"], MatchRules::default());
        assert!(matches!(m, PlateMatch::None { .. }), "{m:?}");
        assert_eq!(
            match_plate(&read, &[], MatchRules::default()),
            PlateMatch::None { best_cost: None }
        );
    }

    #[test]
    fn two_plates_one_confusion_apart_are_ambiguous() {
        // 8 and B are a typical confusion: a read of 8 cannot tell these two apart.
        let read = read_of("ABC8234", 0.6);
        let m = match_plate(&read, &["ABC8234", "ABCB234"], MatchRules::default());
        assert!(matches!(m, PlateMatch::Ambiguous { .. }), "{m:?}");
    }

    proptest! {
        #[test]
        fn the_true_plate_costs_least_when_read_exactly(
            plate in "[A-Z0-9]{2,8}",
            others in proptest::collection::vec("[A-Z0-9]{2,8}", 0..20),
        ) {
            let read = read_of(&plate, 0.97);
            let own = candidate_cost(&read, &plate);
            for o in &others {
                prop_assert!(candidate_cost(&read, o) >= own - 1e-4);
            }
            prop_assert!(own.is_finite());
        }
    }
}
