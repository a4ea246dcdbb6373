//! Seeded pseudo-random permutations of `0..len` in 16 bytes.
//!
//! A [`Permutation`] is a balanced Feistel network over the smallest
//! power-of-4 domain `D = 4^h ≥ len` (two halves of `h` bits, `h ≥ 1`),
//! restricted to `0..len` by cycle-walking: apply the network until the value
//! falls inside `0..len`. The result is a bijection of `0..len` that needs no
//! table, so a microcontroller can walk a shuffled data set of any size.

use crate::error::{TaskError, check_range, wide};
use crate::mix;

// Lengths and indices are `usize` in the API and `u32` inside; a 16-bit
// `usize` could not index a p = 127 split.
const _: () = assert!(
    usize::BITS >= 32,
    "egd-tasks needs a usize of at least 32 bits"
);

/// Feistel rounds per network evaluation.
pub const ROUNDS: u32 = 6;

/// A seeded pseudo-random permutation of `0..len`, evaluated on demand.
///
/// # Cost
///
/// One network evaluation is [`ROUNDS`] = 6 rounds of a 32-bit hash (two
/// 32-bit multiplies each). Cycle-walking needs at most `D/len < 4`
/// evaluations per index *averaged over all indices* (the walks of all `len`
/// indices together visit each point of the domain at most once); a single
/// index may need more, at most `D − len + 1`. The inverse costs the same.
///
/// # Memory
///
/// 16 bytes (`size_of::<Permutation>()`), on every target: a 64-bit key (as
/// two `u32`), the length as `u32` and the half width.
///
/// ```
/// use egd_tasks::Permutation;
/// let perm = Permutation::new(10, 42)?;
/// let mut seen = [false; 10];
/// for i in 0..10 {
///     let j = perm.apply(i).unwrap();
///     assert!(!seen[j]);
///     seen[j] = true;
///     assert_eq!(perm.invert(j), Some(i));
/// }
/// assert_eq!(perm.apply(10), None);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Permutation {
    /// Round keys: even rounds use `keys[0]`, odd rounds `keys[1]` (two
    /// `u32`, not a `u64`, so the type is 4-aligned and 16 bytes everywhere).
    keys: [u32; 2],
    len: u32,
    half_bits: u8,
}

impl Permutation {
    /// Longest permutation: `u32::MAX` elements.
    pub const MAX_LEN: usize = u32::MAX as usize;

    /// A permutation of `0..len` determined by `seed`.
    ///
    /// # Errors
    ///
    /// [`TaskError::OutOfRange`] naming `len` unless `1 <= len <= MAX_LEN`.
    ///
    /// ```
    /// use egd_tasks::Permutation;
    /// let perm = Permutation::new(5, 7)?;
    /// assert_eq!(perm.len(), 5);
    /// assert!(Permutation::new(0, 7).is_err());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    pub fn new(len: usize, seed: u64) -> Result<Self, TaskError> {
        check_range("len", wide(len), 1, u64::from(u32::MAX))?;
        Ok(Self::from_key(len as u32, mix::key(seed, mix::TAG_PERM)))
    }

    /// A permutation of `0..len` with a ready-made key (crate use: the
    /// callers have validated `len`).
    #[inline]
    pub(crate) const fn from_key(len: u32, key: u64) -> Self {
        // Smallest h >= 1 with 4^h >= len, i.e. 2h >= ceil(log2(len)).
        let bits = if len <= 1 {
            0
        } else {
            32 - (len - 1).leading_zeros()
        };
        let h = if bits <= 2 { 1 } else { bits.div_ceil(2) };
        Self {
            keys: [key as u32, (key >> 32) as u32],
            len,
            half_bits: h as u8,
        }
    }

    /// Number of elements permuted.
    ///
    /// ```
    /// assert_eq!(egd_tasks::Permutation::new(3, 0)?.len(), 3);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len as usize
    }

    /// Always `false`: a permutation has at least one element.
    ///
    /// ```
    /// assert!(!egd_tasks::Permutation::new(1, 0)?.is_empty());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Size of the Feistel domain `D`, the smallest power of 4 that is at
    /// least `max(len, 4)`. The mean cycle-walking cost is at most `D / len`
    /// network evaluations per index.
    ///
    /// ```
    /// let perm = egd_tasks::Permutation::new(127 * 127, 0)?;
    /// assert_eq!(perm.domain(), 16_384); // 4^7: 1.016 evaluations per index
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn domain(&self) -> u64 {
        1u64 << (2 * self.half_bits as u32)
    }

    /// The image of `i`, or `None` if `i >= len`.
    ///
    /// ```
    /// let perm = egd_tasks::Permutation::new(4, 1)?;
    /// assert!(perm.apply(3).unwrap() < 4);
    /// assert_eq!(perm.apply(4), None);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn apply(&self, i: usize) -> Option<usize> {
        let i = u32::try_from(i).ok().filter(|&i| i < self.len)?;
        Some(self.apply_u32(i) as usize)
    }

    /// The preimage of `j` (so `invert(apply(i)) == i`), or `None` if
    /// `j >= len`.
    ///
    /// ```
    /// let perm = egd_tasks::Permutation::new(1000, 9)?;
    /// let j = perm.apply(123).unwrap();
    /// assert_eq!(perm.invert(j), Some(123));
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn invert(&self, j: usize) -> Option<usize> {
        let j = u32::try_from(j).ok().filter(|&j| j < self.len)?;
        Some(self.invert_u32(j) as usize)
    }

    /// `apply` for an index already known to be in range.
    #[inline]
    pub(crate) fn apply_u32(&self, i: u32) -> u32 {
        let mut x = i;
        loop {
            x = self.encrypt(x);
            // Terminates: `i < len` lies on the cycle of `x`.
            if x < self.len {
                return x;
            }
        }
    }

    /// `invert` for an index already known to be in range.
    #[inline]
    pub(crate) fn invert_u32(&self, j: u32) -> u32 {
        let mut x = j;
        loop {
            x = self.decrypt(x);
            if x < self.len {
                return x;
            }
        }
    }

    #[inline]
    fn mask(&self) -> u32 {
        (1u32 << self.half_bits) - 1
    }

    #[inline]
    fn round(&self, r: u32, x: u32) -> u32 {
        // Even rounds key with the low 32 bits, odd rounds with the high 32
        // bits, each offset by a round constant.
        let k = self.keys[(r & 1) as usize].wrapping_add(0x9E37_79B9u32.wrapping_mul(r + 1));
        mix::hash32(x ^ k) & self.mask()
    }

    #[inline]
    fn encrypt(&self, x: u32) -> u32 {
        let h = u32::from(self.half_bits);
        let (mut l, mut r) = (x >> h, x & self.mask());
        for round in 0..ROUNDS {
            (l, r) = (r, l ^ self.round(round, r));
        }
        (l << h) | r
    }

    #[inline]
    fn decrypt(&self, y: u32) -> u32 {
        let h = u32::from(self.half_bits);
        let (mut l, mut r) = (y >> h, y & self.mask());
        for round in (0..ROUNDS).rev() {
            (l, r) = (r ^ self.round(round, l), l);
        }
        (l << h) | r
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;

    fn check_bijection(len: u32, key: u64) {
        let perm = Permutation::from_key(len, key);
        assert!(perm.domain() >= u64::from(len));
        assert!(perm.domain() < 4 * u64::from(len.max(4)));
        let mut seen = vec![false; len as usize];
        for i in 0..len {
            let j = perm.apply_u32(i);
            assert!(j < len);
            assert!(!seen[j as usize], "len {len}: {j} hit twice");
            seen[j as usize] = true;
            assert_eq!(perm.invert_u32(j), i);
        }
    }

    #[test]
    fn bijective_for_many_lengths() {
        for len in 1..=300 {
            check_bijection(len, u64::from(len) * 77);
        }
        for len in [1023, 1024, 1025, 4095, 4097, 16_129, 16_384, 16_385, 65_536] {
            check_bijection(len, 5);
        }
    }

    #[test]
    fn feistel_is_invertible_on_the_whole_domain() {
        let perm = Permutation::from_key(u32::MAX, 0xDEAD_BEEF);
        assert_eq!(perm.half_bits, 16);
        for x in [0u32, 1, 65_535, 65_536, 0x1234_5678, u32::MAX] {
            assert_eq!(perm.decrypt(perm.encrypt(x)), x);
        }
        // The largest permutation works at both ends.
        let j = perm.apply_u32(u32::MAX - 1);
        assert_eq!(perm.invert_u32(j), u32::MAX - 1);
    }

    #[test]
    fn domain_is_smallest_power_of_four() {
        assert_eq!(Permutation::from_key(1, 0).domain(), 4);
        assert_eq!(Permutation::from_key(4, 0).domain(), 4);
        assert_eq!(Permutation::from_key(5, 0).domain(), 16);
        assert_eq!(Permutation::from_key(16, 0).domain(), 16);
        assert_eq!(Permutation::from_key(17, 0).domain(), 64);
        assert_eq!(Permutation::from_key(u32::MAX, 0).domain(), 1 << 32);
    }

    #[test]
    fn mean_walk_is_domain_over_len() {
        // Count network evaluations over all indices: at most D, and at
        // least len.
        let perm = Permutation::from_key(8064, 3);
        let mut evals = 0u64;
        for i in 0..8064 {
            let mut x = i;
            loop {
                x = perm.encrypt(x);
                evals += 1;
                if x < 8064 {
                    break;
                }
            }
        }
        assert!(evals <= perm.domain() && evals >= 8064, "{evals}");
    }

    #[test]
    fn documented_size() {
        assert_eq!(size_of::<Permutation>(), 16);
    }

    #[test]
    fn different_seeds_differ() {
        let a = Permutation::new(1000, 1).unwrap();
        let b = Permutation::new(1000, 2).unwrap();
        assert!((0..1000).any(|i| a.apply(i) != b.apply(i)));
    }
}
