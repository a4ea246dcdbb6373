//! Sparse parity: `y = ∏_{j ∈ S} x_j` for `x ∈ {−1, +1}^n` and a secret set
//! `S` of `k` coordinates.

use crate::dataset::Dataset;
use crate::error::{TaskError, check_range, wide};
use crate::mix;
use crate::perm::Permutation;

/// How the `k` secret coordinates of a [`SparseParity`] task are chosen.
///
/// ```
/// use egd_tasks::{Secret, SparseParity};
/// let first = SparseParity::new(100, 3, 10, 10, 0)?;
/// assert_eq!(first.secret(), Secret::FirstK);
/// assert_eq!(first.secret_index(2), Some(2));
/// let random = SparseParity::with_secret(100, 3, 10, 10, Secret::Random, 0)?;
/// assert!(random.secret_index(2).unwrap() < 100);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Secret {
    /// Coordinates `0..k`, as the reference code does (the default).
    #[default]
    FirstK,
    /// `k` distinct coordinates drawn from the seed (the first `k` values of
    /// a seeded permutation of `0..n`). The network cannot tell the
    /// difference, but a bug that favours low input indices can.
    Random,
}

/// Sparse parity `(n, k)` with `train_len` training and `test_len` test
/// examples, each generated on demand from `(seed, index)`.
///
/// Input bit `j` of example `i` is bit `j mod 64` of word `⌊j/64⌋`, where
/// word `w` is output `w` of a `SplitMix64`-style stream keyed by output `i`
/// of a `SplitMix64` stream keyed by `(seed, split)`. The input is
/// `x_j = 1 − 2·bit_j ∈ {−1, +1}` and the label is the product of the secret
/// coordinates, `±1`. Training and test examples come from different
/// streams; like the reference code's independent draws, the two sets may
/// share an input vector when `2^n` is small.
///
/// # Cost
///
/// An example costs one `SplitMix64` step; its label costs `⌈k/64⌉` more
/// ([`Secret::FirstK`]) or `k` more plus `k` permutation evaluations
/// ([`Secret::Random`]); [`ParityExample::write_input`] costs `⌈n/64⌉`
/// `SplitMix64` steps.
///
/// # Memory
///
/// 56 bytes on every target; a [`ParityExample`] is 16 bytes (12 on i686).
///
/// # Limits
///
/// `1 <= k <= n <= 4096` ([`SparseParity::MAX_N`], a choice: raise it when
/// a larger input makes sense for a small network); `1 <= train_len,
/// test_len <= u32::MAX`.
///
/// ```
/// use egd_tasks::{Dataset, SparseParity};
/// let task = SparseParity::new(50, 4, 2000, 10_000, 0)?;
/// let ex = task.train_example(0).unwrap();
/// let mut x = [0.0f32; 50];
/// ex.write_input(&mut x)?;
/// assert!(x.iter().all(|&v| v == 1.0 || v == -1.0));
/// assert_eq!(f32::from(ex.label()), x[0] * x[1] * x[2] * x[3]);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SparseParity {
    seed: u64,
    train_key: u64,
    test_key: u64,
    secret_perm: Permutation,
    n_train: u32,
    n_test: u32,
    n: u16,
    k: u16,
    secret: Secret,
}

impl SparseParity {
    /// Largest input dimension `n`.
    pub const MAX_N: usize = 4096;

    /// Sparse parity over the first `k` of `n` coordinates ([`Secret::FirstK`],
    /// as the reference code).
    ///
    /// # Errors
    ///
    /// [`TaskError::OutOfRange`] naming `n` (`1..=4096`), `k` (`1..=n`),
    /// `train_len` or `test_len` (`1..=u32::MAX`), checked in that order.
    ///
    /// ```
    /// use egd_tasks::SparseParity;
    /// let e = SparseParity::new(50, 51, 2000, 10_000, 0).unwrap_err();
    /// assert_eq!(e.to_string(), "invalid `k` = 51: expected 1..=50");
    /// let e = SparseParity::new(50, 4, 0, 10_000, 0).unwrap_err();
    /// assert_eq!(e.to_string(), "invalid `train_len` = 0: expected 1..=4294967295");
    /// ```
    #[inline]
    pub fn new(
        n: usize,
        k: usize,
        train_len: usize,
        test_len: usize,
        seed: u64,
    ) -> Result<Self, TaskError> {
        Self::with_secret(n, k, train_len, test_len, Secret::FirstK, seed)
    }

    /// Sparse parity with the secret coordinates chosen by `secret`.
    ///
    /// # Errors
    ///
    /// As [`SparseParity::new`].
    ///
    /// ```
    /// use egd_tasks::{Dataset, Secret, SparseParity};
    /// let task = SparseParity::with_secret(64, 2, 100, 100, Secret::Random, 9)?;
    /// let ex = task.test_example(5).unwrap();
    /// let (s0, s1) = (task.secret_index(0).unwrap(), task.secret_index(1).unwrap());
    /// assert_eq!(ex.label(), ex.input(s0).unwrap() * ex.input(s1).unwrap());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    pub fn with_secret(
        n: usize,
        k: usize,
        train_len: usize,
        test_len: usize,
        secret: Secret,
        seed: u64,
    ) -> Result<Self, TaskError> {
        check_range("n", wide(n), 1, wide(Self::MAX_N))?;
        check_range("k", wide(k), 1, wide(n))?;
        check_range("train_len", wide(train_len), 1, u64::from(u32::MAX))?;
        check_range("test_len", wide(test_len), 1, u64::from(u32::MAX))?;
        Ok(Self {
            seed,
            train_key: mix::key(seed, mix::TAG_TRAIN),
            test_key: mix::key(seed, mix::TAG_TEST),
            secret_perm: Permutation::from_key(n as u32, mix::key(seed, mix::TAG_SECRET)),
            n_train: train_len as u32,
            n_test: test_len as u32,
            n: n as u16,
            k: k as u16,
            secret,
        })
    }

    /// The input dimension `n`.
    ///
    /// ```
    /// assert_eq!(egd_tasks::SparseParity::new(400, 2, 1, 1, 0)?.n(), 400);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn n(&self) -> usize {
        self.n as usize
    }

    /// The number of secret coordinates `k`.
    ///
    /// ```
    /// assert_eq!(egd_tasks::SparseParity::new(400, 2, 1, 1, 0)?.k(), 2);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn k(&self) -> usize {
        self.k as usize
    }

    /// How the secret coordinates were chosen.
    ///
    /// ```
    /// use egd_tasks::{Secret, SparseParity};
    /// assert_eq!(SparseParity::new(10, 2, 1, 1, 0)?.secret(), Secret::FirstK);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn secret(&self) -> Secret {
        self.secret
    }

    /// Length of the input vector, `n`.
    ///
    /// ```
    /// assert_eq!(egd_tasks::SparseParity::new(100, 3, 1, 1, 0)?.input_len(), 100);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn input_len(&self) -> usize {
        self.n as usize
    }

    /// The `t`-th secret coordinate (`t` in `0..k`), or `None` if `t >= k`.
    /// Distinct for distinct `t`; ascending for [`Secret::FirstK`].
    ///
    /// ```
    /// use egd_tasks::SparseParity;
    /// let task = SparseParity::new(100, 3, 1, 1, 0)?;
    /// assert_eq!(task.secret_indices().collect::<Vec<_>>(), [0, 1, 2]);
    /// assert_eq!(task.secret_index(3), None);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn secret_index(&self, t: usize) -> Option<usize> {
        let t = u16::try_from(t).ok().filter(|&t| t < self.k)?;
        Some(match self.secret {
            Secret::FirstK => usize::from(t),
            Secret::Random => self.secret_perm.apply_u32(u32::from(t)) as usize,
        })
    }

    /// The `k` secret coordinates, in the order of
    /// [`secret_index`](SparseParity::secret_index).
    ///
    /// ```
    /// use egd_tasks::{Secret, SparseParity};
    /// let task = SparseParity::with_secret(100, 5, 1, 1, Secret::Random, 3)?;
    /// assert_eq!(task.secret_indices().count(), 5);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    pub fn secret_indices(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.k()).filter_map(|t| self.secret_index(t))
    }

    #[inline]
    fn make(&self, key: u64, i: u32) -> ParityExample {
        let row = mix::splitmix(key, u64::from(i));
        let mut parity = 0u32;
        match self.secret {
            Secret::FirstK => {
                let k = u32::from(self.k);
                for w in 0..k / 64 {
                    parity ^= mix::nested(row, u64::from(w)).count_ones();
                }
                let rem = k % 64;
                if rem > 0 {
                    let word = mix::nested(row, u64::from(k / 64));
                    parity ^= (word & ((1u64 << rem) - 1)).count_ones();
                }
            }
            Secret::Random => {
                for t in 0..u32::from(self.k) {
                    let j = self.secret_perm.apply_u32(t);
                    parity ^= (mix::nested(row, u64::from(j / 64)) >> (j % 64)) as u32;
                }
            }
        }
        ParityExample {
            row,
            n: self.n,
            label: if parity & 1 == 0 { 1 } else { -1 },
        }
    }
}

impl Dataset for SparseParity {
    type Example = ParityExample;

    #[inline]
    fn seed(&self) -> u64 {
        self.seed
    }

    #[inline]
    fn train_len(&self) -> usize {
        self.n_train as usize
    }

    #[inline]
    fn test_len(&self) -> usize {
        self.n_test as usize
    }

    #[inline]
    fn train_example(&self, i: usize) -> Option<ParityExample> {
        let i = u32::try_from(i).ok().filter(|&i| i < self.n_train)?;
        Some(self.make(self.train_key, i))
    }

    #[inline]
    fn test_example(&self, i: usize) -> Option<ParityExample> {
        let i = u32::try_from(i).ok().filter(|&i| i < self.n_test)?;
        Some(self.make(self.test_key, i))
    }
}

/// One example of a [`SparseParity`] task: a handle that generates the
/// input on demand, and the label.
///
/// 16 bytes: the example's stream key, `n` and the label. The input is not
/// stored; [`write_input`](ParityExample::write_input) regenerates it.
///
/// ```
/// use egd_tasks::{Dataset, SparseParity};
/// let task = SparseParity::new(3, 3, 10, 10, 0)?;
/// let ex = task.train_example(0).unwrap();
/// let mut x = [0i8; 3];
/// ex.write_input(&mut x)?;
/// assert_eq!(ex.label(), x[0] * x[1] * x[2]);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ParityExample {
    row: u64,
    n: u16,
    label: i8,
}

impl ParityExample {
    /// The label, `+1` or `−1`: the product of the secret coordinates.
    ///
    /// ```
    /// use egd_tasks::{Dataset, SparseParity};
    /// let ex = SparseParity::new(10, 2, 10, 10, 0)?.train_example(0).unwrap();
    /// assert!(ex.label() == 1 || ex.label() == -1);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn label(&self) -> i8 {
        self.label
    }

    /// Length of the input, `n`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, SparseParity};
    /// let ex = SparseParity::new(10, 2, 10, 10, 0)?.train_example(0).unwrap();
    /// assert_eq!(ex.input_len(), 10);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn input_len(&self) -> usize {
        self.n as usize
    }

    /// Input coordinate `j`, `+1` or `−1`, or `None` if `j >= n`. Costs one
    /// `SplitMix64` step.
    ///
    /// ```
    /// use egd_tasks::{Dataset, SparseParity};
    /// let ex = SparseParity::new(10, 2, 10, 10, 0)?.train_example(0).unwrap();
    /// assert_eq!(ex.label(), ex.input(0).unwrap() * ex.input(1).unwrap());
    /// assert_eq!(ex.input(10), None);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub fn input(&self, j: usize) -> Option<i8> {
        let j = u16::try_from(j).ok().filter(|&j| j < self.n)?;
        let word = mix::nested(self.row, u64::from(j / 64));
        Some(1 - 2 * ((word >> (j % 64)) & 1) as i8)
    }

    /// Writes the input `x ∈ {−1, +1}^n` into `out`, for any element type
    /// built from `i8` (`f32`, `f64`, `i8`, …). Costs `⌈n/64⌉` `SplitMix64`
    /// steps.
    ///
    /// # Errors
    ///
    /// [`TaskError::BufferLength`] if `out.len() != n`; `out` is then left
    /// untouched.
    ///
    /// ```
    /// use egd_tasks::{Dataset, SparseParity};
    /// let ex = SparseParity::new(100, 3, 10, 10, 0)?.train_example(0).unwrap();
    /// let mut x = [0.0f64; 100];
    /// ex.write_input(&mut x)?;
    /// assert_eq!(x[99], f64::from(ex.input(99).unwrap()));
    /// assert!(ex.write_input(&mut [0.0f64; 99]).is_err());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    pub fn write_input<T: From<i8>>(&self, out: &mut [T]) -> Result<(), TaskError> {
        if out.len() != self.input_len() {
            return Err(TaskError::BufferLength {
                expected: self.input_len(),
                got: out.len(),
            });
        }
        for (w, chunk) in (0u64..).zip(out.chunks_mut(64)) {
            let word = mix::nested(self.row, w);
            for (b, x) in chunk.iter_mut().enumerate() {
                *x = T::from(1 - 2 * ((word >> b) & 1) as i8);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec;
    use std::vec::Vec;

    #[test]
    fn labels_are_products_of_secret_inputs() {
        for secret in [Secret::FirstK, Secret::Random] {
            for (n, k) in [
                (1, 1),
                (50, 4),
                (64, 64),
                (65, 65),
                (130, 70),
                (400, 2),
                (4096, 4096),
            ] {
                let task = SparseParity::with_secret(n, k, 20, 20, secret, 7).unwrap();
                let mut x = vec![0i8; n];
                for ex in task.train_examples().chain(task.test_examples()) {
                    ex.write_input(&mut x).unwrap();
                    let prod: i8 = task.secret_indices().map(|j| x[j]).product();
                    assert_eq!(ex.label(), prod, "n {n} k {k} {secret:?}");
                    assert_eq!(ex.input(n - 1), Some(x[n - 1]));
                }
            }
        }
    }

    #[test]
    fn random_secret_is_distinct_and_in_range() {
        let task = SparseParity::with_secret(100, 100, 1, 1, Secret::Random, 1).unwrap();
        let mut seen = [false; 100];
        for j in task.secret_indices() {
            assert!(!seen[j]);
            seen[j] = true;
        }
        assert!(seen.iter().all(|&s| s));
        let task = SparseParity::with_secret(400, 3, 1, 1, Secret::Random, 1).unwrap();
        assert_ne!(task.secret_indices().collect::<Vec<_>>(), [0, 1, 2]);
    }

    #[test]
    fn train_and_test_streams_differ() {
        let task = SparseParity::new(64, 2, 10, 10, 0).unwrap();
        for i in 0..10 {
            assert_ne!(task.train_example(i), task.test_example(i));
        }
        assert_eq!(task.train_example(10), None);
        assert_eq!(task.test_example(usize::MAX), None);
    }

    #[test]
    fn documented_sizes() {
        assert_eq!(size_of::<SparseParity>(), 56);
        #[cfg(target_pointer_width = "64")]
        assert_eq!(size_of::<ParityExample>(), 16);
    }
}
