//! A small, fast PRNG for random picks (HRANDFIELD, SRANDMEMBER, SPOP,
//! ZRANDMEMBER). Pure; each caller owns its generator.

/// A small, fast PRNG (splitmix64) for random picks. Seeded per call from
/// ahash's per-process random state, so two calls (or shards) never share a
/// sequence; not for anything security-related.
pub struct Rng(u64);

impl Rng {
    /// A fresh generator with an unpredictable seed.
    pub fn new() -> Rng {
        Rng(ahash::RandomState::new().hash_one(0x6a09_e667_f3bc_c908u64))
    }

    pub fn from_seed(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-shift.
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }
}

impl Default for Rng {
    fn default() -> Rng {
        Rng::new()
    }
}

impl Rng {
    /// `count` distinct indexes below `n` (`count` < `n`), in random order:
    /// a partial shuffle when most are wanted, else drawing until `count`
    /// distinct ones (at most a third are taken, so each draw succeeds with
    /// p ≥ 2/3); Redis's two strategies for a random sample without repeats.
    pub fn distinct_below(&mut self, n: usize, count: usize) -> Vec<usize> {
        if count.saturating_mul(3) > n {
            let mut all: Vec<usize> = (0..n).collect();
            for i in 0..count.min(n) {
                let j = i + self.below(n - i);
                all.swap(i, j);
            }
            all.truncate(count);
            all
        } else {
            let mut seen = std::collections::HashSet::with_capacity(count);
            let mut out = Vec::with_capacity(count);
            while out.len() < count {
                let i = self.below(n);
                if seen.insert(i) {
                    out.push(i);
                }
            }
            out
        }
    }
}
