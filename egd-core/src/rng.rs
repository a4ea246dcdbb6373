//! Deterministic randomness: a tiny seeded generator, Gaussian sampling and
//! weight initialisers.
//!
//! Everything here takes the generator by `&mut R` with
//! `R: rand_core::Rng + ?Sized` (the `rand_core` 0.10 name of the core RNG
//! trait), so any `rand_core` generator works; [`SplitMix64`] is shipped so
//! that tests, benches and firmware have a reproducible one without another
//! crate.
//!
//! # Determinism
//!
//! Gaussian samples are computed in `f64` from `u64` draws (Marsaglia's polar
//! method, `ln` and `sqrt` from `libm`) and only then rounded to the target
//! scalar type. An `f32` and an `f64` network initialised from the same seed
//! therefore consume the same random stream and hold the same values up to
//! rounding, on every platform.
//!
//! ```
//! use egd_core::rng::{standard_normal, SplitMix64};
//! let mut a = SplitMix64::new(7);
//! let mut b = SplitMix64::new(7);
//! assert_eq!(standard_normal(&mut a).to_bits(), standard_normal(&mut b).to_bits());
//! ```

use crate::scalar::Real;
use rand_core::{Infallible, Rng, SeedableRng, TryRng};

/// `SplitMix64` (Steele, Lea & Flood 2014): a 64-bit counter passed through a
/// strong bit mixer. Small (8 bytes of state), fast, good enough for
/// initialisation and shuffling; **not** cryptographically secure.
///
/// The stream is `mix(seed + k·γ)` for `k = 1, 2, …` with the golden-ratio
/// increment `γ = 0x9E37_79B9_7F4A_7C15`, so [`SplitMix64::mix`] also serves
/// as a counter-based (random-access) hash.
///
/// ```
/// use egd_core::rng::SplitMix64;
/// use rand_core::Rng;
/// let mut rng = SplitMix64::new(0);
/// assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF); // reference value for seed 0
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// Golden-ratio increment of the counter.
    pub const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
    /// Size of the generator in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// A generator whose first output is `mix(seed + GAMMA)`.
    #[inline]
    #[must_use]
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The internal counter (store it to resume the stream with [`SplitMix64::new`]).
    #[inline]
    #[must_use]
    pub const fn state(&self) -> u64 {
        self.state
    }

    /// The `SplitMix64` finaliser: a bijective 64-bit mixer.
    #[inline]
    #[must_use]
    pub const fn mix(x: u64) -> u64 {
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Next output (same as `Rng::next_u64`, but `const`).
    #[inline]
    pub const fn next_word(&mut self) -> u64 {
        self.state = self.state.wrapping_add(Self::GAMMA);
        Self::mix(self.state)
    }
}

impl TryRng for SplitMix64 {
    type Error = Infallible;

    #[inline]
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        // The high half has the best-mixed bits.
        Ok((self.next_word() >> 32) as u32)
    }

    #[inline]
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        Ok(self.next_word())
    }

    #[inline]
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        rand_core::utils::fill_bytes_via_next_word(dst, || self.try_next_u64())
    }
}

impl SeedableRng for SplitMix64 {
    type Seed = [u8; 8];

    #[inline]
    fn from_seed(seed: [u8; 8]) -> Self {
        Self::new(u64::from_le_bytes(seed))
    }

    #[inline]
    fn seed_from_u64(state: u64) -> Self {
        Self::new(state)
    }
}

/// A uniform sample in `[0, 1)` with 53 random bits, from one `u64` draw.
#[inline]
pub fn uniform_f64<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    // 2^-53 · (53-bit integer): exact in f64.
    #[allow(clippy::cast_precision_loss)]
    let k = (rng.next_u64() >> 11) as f64;
    k * (1.0 / 9_007_199_254_740_992.0)
}

/// Rejections after which [`standard_normal`] gives up and returns `0.0`.
///
/// Each attempt is accepted with probability `π/4`, so a working generator
/// never gets there (probability `0.215^64 < 10^-42`); the cap only keeps a
/// broken generator (say, one returning a constant) from hanging the caller.
pub const MAX_REJECTIONS: u32 = 64;

/// One standard normal sample `N(0, 1)` in `f64`, by Marsaglia's polar method.
///
/// Draws pairs `(u, v)` uniform in `(-1, 1)²` (two `u64` each attempt) until
/// `0 < s = u² + v² < 1`, and returns `u · √(-2 ln s / s)`; the second value
/// of the pair is discarded, so every sample consumes a whole number of
/// attempts and the function is stateless. See [`MAX_REJECTIONS`].
///
/// ```
/// use egd_core::rng::{standard_normal, SplitMix64};
/// let mut rng = SplitMix64::new(1);
/// let n = 10_000;
/// let mean = (0..n).map(|_| standard_normal(&mut rng)).sum::<f64>() / n as f64;
/// assert!(mean.abs() < 0.05);
/// ```
pub fn standard_normal<R: Rng + ?Sized>(rng: &mut R) -> f64 {
    for _ in 0..MAX_REJECTIONS {
        let u = 2.0 * uniform_f64(rng) - 1.0;
        let v = 2.0 * uniform_f64(rng) - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            return u * (-2.0 * s.ln() / s).sqrt();
        }
    }
    0.0
}

/// Two independent standard normal samples from one accepted Marsaglia
/// attempt: `(u·f, v·f)` with `f = √(-2 ln s / s)` (the pair that
/// [`standard_normal`] draws and then halves). Same rejection cap, `(0, 0)`
/// past it.
///
/// ```
/// use egd_core::rng::{standard_normal, standard_normal_pair, SplitMix64};
/// let (z, _) = standard_normal_pair(&mut SplitMix64::new(4));
/// assert_eq!(z.to_bits(), standard_normal(&mut SplitMix64::new(4)).to_bits());
/// ```
pub fn standard_normal_pair<R: Rng + ?Sized>(rng: &mut R) -> (f64, f64) {
    for _ in 0..MAX_REJECTIONS {
        let u = 2.0 * uniform_f64(rng) - 1.0;
        let v = 2.0 * uniform_f64(rng) - 1.0;
        let s = u * u + v * v;
        if s > 0.0 && s < 1.0 {
            let f = (-2.0 * s.ln() / s).sqrt();
            return (u * f, v * f);
        }
    }
    (0.0, 0.0)
}

/// Fills `out` with independent `N(0, 1)` samples two at a time
/// ([`standard_normal_pair`]: elements `2i` and `2i + 1` come from one
/// attempt; an odd last element takes the first of a pair), computed in
/// `f64` and rounded to `T`. Half the logarithms of [`fill_normal`]; a
/// different stream.
pub fn fill_standard_normal_pairs<T: Real, R: Rng + ?Sized>(out: &mut [T], rng: &mut R) {
    for pair in out.chunks_mut(2) {
        let (a, b) = standard_normal_pair(rng);
        for (d, z) in pair.iter_mut().zip([a, b]) {
            *d = T::from_f64(z);
        }
    }
}

/// Fills `out` with independent `N(0, std²)` samples, computed in `f64` and
/// rounded to `T`.
///
/// ```
/// use egd_core::rng::{fill_normal, SplitMix64};
/// let mut a = [0.0f32; 4];
/// let mut b = [0.0f64; 4];
/// fill_normal(&mut a, 0.5, &mut SplitMix64::new(3));
/// fill_normal(&mut b, 0.5, &mut SplitMix64::new(3));
/// assert_eq!(a[2], b[2] as f32); // same stream, f32 is the rounded f64
/// ```
pub fn fill_normal<T: Real, R: Rng + ?Sized>(out: &mut [T], std: f64, rng: &mut R) {
    for x in out {
        *x = T::from_f64(std * standard_normal(rng));
    }
}

/// How to initialise a tensor. Fan-in and fan-out are those of the layer the
/// tensor belongs to (for a `Dense<T, IN, OUT>`: `IN` and `OUT`).
///
/// | variant | distribution |
/// |---|---|
/// | `Zeros` | all `0` (draws nothing from the generator) |
/// | `HeNormal` | `N(0, 2 / fan_in)` (Kaiming normal, `ReLU` gain) |
/// | `XavierNormal` | `N(0, 2 / (fan_in + fan_out))` (Glorot normal) |
/// | `Normal { std }` | `N(0, std²)` |
///
/// The paper's modular model is `HeNormal` for both weight matrices and
/// `Zeros` for the hidden bias; its parity model is `HeNormal` for `W1`, `b1`
/// (fan-in `n`) and `w2`.
///
/// ```
/// use egd_core::rng::Init;
/// assert_eq!(Init::HeNormal.std(8, 3), 0.5);
/// assert_eq!(Init::XavierNormal.std(5, 3), 0.5);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Init {
    /// All zeros.
    Zeros,
    /// He/Kaiming normal: standard deviation `√(2 / fan_in)`.
    HeNormal,
    /// Xavier/Glorot normal: standard deviation `√(2 / (fan_in + fan_out))`.
    XavierNormal,
    /// A fixed standard deviation.
    Normal {
        /// Standard deviation.
        std: f64,
    },
}

impl Init {
    /// Standard deviation of the distribution for the given fans (`0` for `Zeros`).
    #[must_use]
    pub fn std(self, fan_in: usize, fan_out: usize) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        match self {
            Self::Zeros => 0.0,
            Self::HeNormal => (2.0 / fan_in.max(1) as f64).sqrt(),
            Self::XavierNormal => (2.0 / (fan_in + fan_out).max(1) as f64).sqrt(),
            Self::Normal { std } => std,
        }
    }

    /// Fills `out` in order (row-major for matrices).
    pub fn fill<T: Real, R: Rng + ?Sized>(
        self,
        out: &mut [T],
        fan_in: usize,
        fan_out: usize,
        rng: &mut R,
    ) {
        match self {
            Self::Zeros => out.fill(T::ZERO),
            _ => fill_normal(out, self.std(fan_in, fan_out), rng),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn splitmix_reference_values() {
        // Reference outputs of SplitMix64 seeded with 1234567 (Vigna's splitmix64.c).
        let mut r = SplitMix64::new(1_234_567);
        assert_eq!(r.next_u64(), 6_457_827_717_110_365_317);
        assert_eq!(r.next_u64(), 3_203_168_211_198_807_973);
    }

    #[test]
    fn normal_moments() {
        let mut r = SplitMix64::new(42);
        let n = 20_000;
        let (mut s1, mut s2) = (0.0, 0.0);
        for _ in 0..n {
            let z = standard_normal(&mut r);
            s1 += z;
            s2 += z * z;
        }
        let mean = s1 / f64::from(n);
        let var = s2 / f64::from(n) - mean * mean;
        assert!(mean.abs() < 0.03, "{mean}");
        assert!((var - 1.0).abs() < 0.05, "{var}");
    }

    struct Constant;
    impl TryRng for Constant {
        type Error = Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Infallible> {
            Ok(0)
        }
        fn try_next_u64(&mut self) -> Result<u64, Infallible> {
            Ok(0)
        }
        fn try_fill_bytes(&mut self, d: &mut [u8]) -> Result<(), Infallible> {
            d.fill(0);
            Ok(())
        }
    }

    #[test]
    fn broken_generator_does_not_hang() {
        assert_eq!(standard_normal(&mut Constant), 0.0);
    }

    #[test]
    fn fill_bytes_matches_words() {
        let mut a = SplitMix64::new(9);
        let mut b = a.clone();
        let mut buf = [0u8; 12];
        a.fill_bytes(&mut buf);
        let w0 = b.next_u64().to_le_bytes();
        let w1 = b.next_u64().to_le_bytes();
        assert_eq!(&buf[..8], &w0);
        assert_eq!(&buf[8..], &w1[..4]);
    }
}
