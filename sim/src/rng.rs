//! The one random generator of the simulations: the demo lot's traffic, the scripted day,
//! synthetic plate scenes and the benchmarks. A seed gives the same run everywhere.

/// SplitMix64: small, fast, and the same on every machine.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A whole number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// A number in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + (self.next_u64() % (hi - lo) as u64) as i64
    }

    /// A number in `[0, 1)`, with 53 bits.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// A number in `[lo, hi)`.
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// One of `items`, each as likely as its weight.
    pub fn pick<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = (self.next_u64() % u64::from(total.max(1))) as u32;
        for (item, w) in items {
            if r < *w {
                return item;
            }
            r -= w;
        }
        &items[items.len() - 1].0
    }

    /// Roughly normal around `mean`, within `mean ± 1.5 spread` (the sum of three uniforms).
    pub fn around(&mut self, mean: f64, spread: f64) -> f64 {
        mean + spread * (self.unit() + self.unit() + self.unit() - 1.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_seed_gives_the_same_numbers_and_another_seed_others() {
        let take = |seed| {
            let mut r = Rng::new(seed);
            (0..4).map(|_| r.next_u64()).collect::<Vec<_>>()
        };
        assert_eq!(take(7), take(7));
        assert_ne!(take(7), take(8));
        // SplitMix64's published first output for seed 0.
        assert_eq!(take(0)[0], 0xE220_A839_7B1D_CDAF);
    }

    #[test]
    fn picks_follow_their_weights_and_ranges_stay_inside() {
        let mut r = Rng::new(1);
        let mut counts = [0u32; 3];
        for _ in 0..30_000 {
            counts[*r.pick(&[(0usize, 1), (1, 2), (2, 0)])] += 1;
            let x = r.between(2.0, 3.0);
            assert!((2.0..3.0).contains(&x));
            assert!((5..9).contains(&r.range(5, 9)));
        }
        assert_eq!(counts[2], 0);
        let share = f64::from(counts[1]) / 30_000.0;
        assert!((0.64..0.69).contains(&share), "{share}");
    }
}
