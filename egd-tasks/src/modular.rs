//! Modular arithmetic: `a ∘ b mod p`, the grokking task of Power et al. and
//! of the EGD paper's MLP tables.

use crate::dataset::{Dataset, Split};
use crate::error::{ParamValue, TaskError, check_range, wide};
use crate::mix;
use crate::perm::Permutation;
use core::num::NonZeroU32;

/// The binary operation of a [`ModularTask`].
///
/// ```
/// use egd_tasks::Op;
/// assert_eq!(Op::Sub.apply(2, 5, 7), Some(4));     // 2 − 5 ≡ 4 (mod 7)
/// assert_eq!(Op::Div.apply(3, 2, 7), Some(5));     // 5 · 2 ≡ 3 (mod 7)
/// assert_eq!(Op::Div.apply(3, 0, 7), None);        // no inverse of 0
/// assert_eq!(Op::Mul.name(), "mul");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Op {
    /// `(a + b) mod p`, all `p²` pairs.
    Add,
    /// `(a − b) mod p`, all `p²` pairs.
    Sub,
    /// `(a · b) mod p`, all `p²` pairs, zeros included (as the paper's MLP
    /// task); any `p ≥ 2`.
    Mul,
    /// `(a · b⁻¹) mod p`: needs a prime `p`; pairs with `b = 0` are excluded,
    /// leaving `p (p − 1)`.
    Div,
}

impl Op {
    /// The four operations, in declaration order.
    ///
    /// ```
    /// assert_eq!(egd_tasks::Op::ALL.len(), 4);
    /// ```
    pub const ALL: [Self; 4] = [Self::Add, Self::Sub, Self::Mul, Self::Div];

    /// A short lower-case name: `"add"`, `"sub"`, `"mul"` or `"div"`.
    ///
    /// ```
    /// assert_eq!(egd_tasks::Op::Div.name(), "div");
    /// ```
    #[inline]
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Add => "add",
            Self::Sub => "sub",
            Self::Mul => "mul",
            Self::Div => "div",
        }
    }

    /// The operator as an ASCII character: `+`, `-`, `*` or `/`.
    ///
    /// ```
    /// assert_eq!(egd_tasks::Op::Mul.symbol(), '*');
    /// ```
    #[inline]
    #[must_use]
    pub const fn symbol(self) -> char {
        match self {
            Self::Add => '+',
            Self::Sub => '-',
            Self::Mul => '*',
            Self::Div => '/',
        }
    }

    /// Whether the operation needs a prime modulus (only [`Op::Div`]).
    ///
    /// ```
    /// assert!(egd_tasks::Op::Div.needs_prime());
    /// assert!(!egd_tasks::Op::Mul.needs_prime());
    /// ```
    #[inline]
    #[must_use]
    pub const fn needs_prime(self) -> bool {
        matches!(self, Self::Div)
    }

    /// `a ∘ b mod p` computed directly, or `None` if the pair is not part of
    /// the task: `p` outside `2..=65535`, `a` or `b` not below `p`, or, for
    /// division, `b = 0` or no inverse of `b` (`p` not prime).
    ///
    /// ```
    /// use egd_tasks::Op;
    /// assert_eq!(Op::Add.apply(100, 30, 127), Some(3));
    /// assert_eq!(Op::Mul.apply(0, 30, 127), Some(0));
    /// assert_eq!(Op::Add.apply(127, 0, 127), None);
    /// ```
    #[inline]
    #[must_use]
    pub fn apply(self, a: u32, b: u32, p: u32) -> Option<u32> {
        if !(2..=ModularTask::MAX_P).contains(&p) || a >= p || b >= p {
            return None;
        }
        // Dividing by a `NonZeroU32` has no division-by-zero panic path.
        let p = NonZeroU32::new(p)?;
        // (p − 1)² < 2³², so products of residues never overflow `u32`.
        Some(match self {
            Self::Add => (a + b) % p,
            Self::Sub => (a + p.get() - b) % p,
            Self::Mul => a * b % p,
            Self::Div => a * inverse_mod(b, p)? % p,
        })
    }
}

/// `b⁻¹ mod p` by the extended Euclidean algorithm, if `gcd(b, p) = 1` and
/// `b ≠ 0`.
///
/// Unsigned throughout: the Bézout coefficients are kept reduced mod `p`, so
/// no step can overflow or divide by zero (no panic path).
fn inverse_mod(b: u32, p: NonZeroU32) -> Option<u32> {
    let m = u64::from(p.get());
    let (mut r0, mut r1) = (p.get(), b % p);
    // Invariant: t_i · b ≡ r_i (mod p), with t_i in 0..p.
    let (mut t0, mut t1) = (0u64, 1u64 % m);
    while let Some(d) = NonZeroU32::new(r1) {
        let q = r0 / d;
        (r0, r1) = (r1, r0 % d);
        // t0 − q·t1 mod p, without going negative: q·t1 mod p < p ≤ m.
        let qt = u64::from(q) * t1 % m;
        (t0, t1) = (t1, (t0 + m - qt) % m);
    }
    if r0 != 1 {
        return None;
    }
    u32::try_from(t0).ok()
}

/// Whether `n ≤ 65535` is prime (trial division by odd `d < 256`; the bound
/// on `d` also keeps the divisor provably non-zero).
const fn is_prime(n: u32) -> bool {
    if n < 2 || n > ModularTask::MAX_P {
        return false;
    }
    if n % 2 == 0 {
        return n == 2;
    }
    let mut d = 3;
    while d < 256 && d * d <= n {
        if n % d == 0 {
            return false;
        }
        d += 2;
    }
    true
}

/// `a ∘ b mod p` as a seed-defined data set with an exact train/test split.
///
/// The task holds every pair `(a, b) ∈ 0..p × 0..p` (for division, `b ≠ 0`),
/// `N` pairs in all. A seeded [`Permutation`] of `0..N` orders them; the
/// first `train_len` are the training set, the rest the test set. Nothing is
/// stored: example `i` is computed on demand from `(seed, i)`.
///
/// # Cost
///
/// [`train_example`](Dataset::train_example) and
/// [`test_example`](Dataset::test_example) cost one permutation evaluation
/// (6 Feistel rounds of a 32-bit hash, times a cycle-walk that averages at
/// most `D/N < 4` and is `16384/16129 ≈ 1.016` at p = 127), one `u32`
/// division and remainder, and one modular addition or multiplication.
///
/// # Memory
///
/// 32 bytes, on every target.
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op};
/// let task = ModularTask::new(127, Op::Add, 0.5, 0)?;
/// assert_eq!((task.total_len(), task.train_len(), task.test_len()), (16_129, 8064, 8065));
/// let ex = task.train_example(0).unwrap();
/// assert_eq!(ex.label(), (ex.a() + ex.b()) % 127);
/// let mut x = [0.0f32; 254];
/// ex.write_input(&mut x)?;
/// assert_eq!(x.iter().sum::<f32>(), 2.0);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModularTask {
    seed: u64,
    perm: Permutation,
    n_train: u32,
    p: u16,
    op: Op,
}

impl ModularTask {
    /// Largest modulus: 65 535 (so `N ≤ p² < 2³²`).
    pub const MAX_P: u32 = 65_535;

    /// The task `a ∘ b mod p` with `⌊train_fraction · N⌋` training examples.
    ///
    /// The product is taken in `f64` and truncated, as the reference code's
    /// `int(frac * N)` does: p = 127, fraction 0.5 gives 8064 of 16 129.
    ///
    /// # Errors
    ///
    /// * [`TaskError::OutOfRange`] naming `p` unless `2 <= p <= 65535`;
    /// * [`TaskError::InvalidParameter`] naming `p` if `op` is [`Op::Div`]
    ///   and `p` is not prime;
    /// * [`TaskError::InvalidParameter`] naming `train_fraction` unless it
    ///   lies in the open interval (0, 1) (NaN included);
    /// * [`TaskError::EmptySplit`] if the train or test set would be empty.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, TaskError};
    /// let task = ModularTask::new(97, Op::Div, 0.3, 1)?;
    /// assert_eq!(task.total_len(), 97 * 96);
    /// assert_eq!(task.train_len(), 2793);
    /// let e = ModularTask::new(96, Op::Div, 0.3, 1).unwrap_err();
    /// assert_eq!(e.to_string(), "invalid `p` = 96: expected a prime (division needs b⁻¹ mod p)");
    /// assert!(matches!(ModularTask::new(2, Op::Add, 0.1, 0), Err(TaskError::EmptySplit { .. })));
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    pub fn new(p: u32, op: Op, train_fraction: f64, seed: u64) -> Result<Self, TaskError> {
        let total = Self::check_p(p, op)?;
        if !(train_fraction > 0.0 && train_fraction < 1.0) {
            return Err(TaskError::InvalidParameter {
                name: "train_fraction",
                value: ParamValue::Float(train_fraction),
                expected: "a number in the open interval (0, 1)",
            });
        }
        // In (0, 1) times a count below 2^32: finite and non-negative, so the
        // saturating cast is a plain floor.
        let train = (train_fraction * f64::from(total)) as u64;
        if train == 0 || train >= u64::from(total) {
            return Err(TaskError::EmptySplit {
                total: u64::from(total),
                train,
            });
        }
        Ok(Self::build(p, op, train as u32, total, seed))
    }

    /// The task `a ∘ b mod p` with exactly `train_len` training examples.
    ///
    /// # Errors
    ///
    /// As [`ModularTask::new`] for `p`, and [`TaskError::OutOfRange`] naming
    /// `train_len` unless `1 <= train_len <= N − 1`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op};
    /// let task = ModularTask::with_train_len(11, Op::Sub, 100, 5)?;
    /// assert_eq!((task.train_len(), task.test_len()), (100, 21));
    /// let e = ModularTask::with_train_len(11, Op::Sub, 121, 5).unwrap_err();
    /// assert_eq!(e.to_string(), "invalid `train_len` = 121: expected 1..=120");
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    pub fn with_train_len(p: u32, op: Op, train_len: usize, seed: u64) -> Result<Self, TaskError> {
        let total = Self::check_p(p, op)?;
        check_range("train_len", wide(train_len), 1, u64::from(total) - 1)?;
        Ok(Self::build(p, op, train_len as u32, total, seed))
    }

    /// Validates `p` for `op` and returns `N`.
    fn check_p(p: u32, op: Op) -> Result<u32, TaskError> {
        check_range("p", u64::from(p), 2, u64::from(Self::MAX_P))?;
        if op.needs_prime() && !is_prime(p) {
            return Err(TaskError::InvalidParameter {
                name: "p",
                value: ParamValue::Int(u64::from(p)),
                expected: "a prime (division needs b⁻¹ mod p)",
            });
        }
        // p ≤ 65535, so p² ≤ 4 294 836 225 < 2³².
        Ok(match op {
            Op::Div => p * (p - 1),
            Op::Add | Op::Sub | Op::Mul => p * p,
        })
    }

    fn build(p: u32, op: Op, n_train: u32, total: u32, seed: u64) -> Self {
        Self {
            seed,
            perm: Permutation::from_key(total, mix::key(seed, mix::TAG_SPLIT)),
            n_train,
            p: p as u16,
            op,
        }
    }

    /// The modulus `p`.
    ///
    /// ```
    /// assert_eq!(egd_tasks::ModularTask::new(97, egd_tasks::Op::Add, 0.5, 0)?.p(), 97);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn p(&self) -> u32 {
        self.p as u32
    }

    /// The operation.
    ///
    /// ```
    /// use egd_tasks::{ModularTask, Op};
    /// assert_eq!(ModularTask::new(97, Op::Mul, 0.5, 0)?.op(), Op::Mul);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn op(&self) -> Op {
        self.op
    }

    /// Number of pairs `N` in the task: `p²`, or `p (p − 1)` for division.
    ///
    /// ```
    /// use egd_tasks::{ModularTask, Op};
    /// assert_eq!(ModularTask::new(5, Op::Div, 0.5, 0)?.total_len(), 20);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn total_len(&self) -> usize {
        self.perm.len()
    }

    /// Length of the dense input, `2p` (two concatenated one-hot blocks).
    ///
    /// ```
    /// use egd_tasks::{ModularTask, Op};
    /// assert_eq!(ModularTask::new(127, Op::Add, 0.5, 0)?.input_len(), 254);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn input_len(&self) -> usize {
        2 * self.p as usize
    }

    /// Number of classes, `p` (labels are `0..p`).
    ///
    /// ```
    /// use egd_tasks::{ModularTask, Op};
    /// assert_eq!(ModularTask::new(127, Op::Add, 0.5, 0)?.num_classes(), 127);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn num_classes(&self) -> usize {
        self.p as usize
    }

    /// Where the pair `(a, b)` landed: its split and index there, or `None`
    /// if the pair is not part of the task (`a` or `b` not below `p`, or
    /// `b = 0` for division). Costs one inverse permutation evaluation (and a
    /// modular inverse for division).
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op, Split};
    /// let task = ModularTask::new(13, Op::Div, 0.5, 0)?;
    /// let ex = task.test_example(7).unwrap();
    /// assert_eq!(task.locate(ex.a(), ex.b()), Some((Split::Test, 7)));
    /// assert_eq!(task.locate(1, 0), None);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[must_use]
    pub fn locate(&self, a: u32, b: u32) -> Option<(Split, usize)> {
        let p = self.p();
        if a >= p || b >= p {
            return None;
        }
        let m = match self.op {
            Op::Add | Op::Sub | Op::Mul => a * p + b,
            Op::Div => {
                let c = Op::Div.apply(a, b, p)?;
                c * (p - 1) + (b - 1)
            }
        };
        let pos = self.perm.invert_u32(m);
        Some(if pos < self.n_train {
            (Split::Train, pos as usize)
        } else {
            (Split::Test, (pos - self.n_train) as usize)
        })
    }

    /// The example at split position `pos` (`0..N`); `None` only if the
    /// task were corrupt (`p < 2`), which the constructors rule out.
    #[inline]
    fn at(&self, pos: u32) -> Option<ModExample> {
        let m = self.perm.apply_u32(pos);
        // Non-zero divisors: the divisions below have no panic path.
        let p = NonZeroU32::new(self.p())?;
        let p_minus_1 = NonZeroU32::new(self.p() - 1)?;
        // All values are residues below p ≤ 65535, so products fit `u32`.
        let (a, b, label) = match self.op {
            Op::Add => {
                let (a, b) = (m / p, m % p);
                let s = a + b;
                (a, b, if s >= p.get() { s - p.get() } else { s })
            }
            Op::Sub => {
                let (a, b) = (m / p, m % p);
                (a, b, if a >= b { a - b } else { a + p.get() - b })
            }
            Op::Mul => {
                let (a, b) = (m / p, m % p);
                (a, b, a * b % p)
            }
            // Enumerate (label c, divisor b) and derive a = c·b: the map
            // c ↦ c·b is a bijection for prime p, so every (a, b ≠ 0) occurs
            // once, and no modular inverse is needed per example.
            Op::Div => {
                let (c, b) = (m / p_minus_1, m % p_minus_1 + 1);
                (c * b % p, b, c)
            }
        };
        Some(ModExample {
            a: a as u16,
            b: b as u16,
            label: label as u16,
            p: self.p,
        })
    }
}

impl Dataset for ModularTask {
    type Example = ModExample;

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
        self.perm.len() - self.n_train as usize
    }

    #[inline]
    fn train_example(&self, i: usize) -> Option<ModExample> {
        let i = u32::try_from(i).ok().filter(|&i| i < self.n_train)?;
        self.at(i)
    }

    #[inline]
    fn test_example(&self, i: usize) -> Option<ModExample> {
        let i = u32::try_from(i)
            .ok()
            .filter(|&i| i < self.perm.len() as u32 - self.n_train)?;
        self.at(self.n_train + i)
    }
}

/// One example of a [`ModularTask`]: the operands, the label and `p`.
///
/// 8 bytes. The paper's encoding is two-hot: input `a` and input `p + b` of
/// `2p` are 1, the rest 0. Use [`two_hot`](ModExample::two_hot) as a sparse
/// input (the first layer's output is then the sum of two weight rows) or
/// [`write_input`](ModExample::write_input) for a dense vector.
///
/// ```
/// use egd_tasks::{Dataset, ModularTask, Op};
/// let task = ModularTask::new(7, Op::Sub, 0.5, 0)?;
/// let ex = task.test_example(0).unwrap();
/// assert_eq!(ex.label(), (ex.a() + 7 - ex.b()) % 7);
/// assert_eq!(ex.two_hot(), [ex.a() as usize, 7 + ex.b() as usize]);
/// # Ok::<(), egd_tasks::TaskError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ModExample {
    a: u16,
    b: u16,
    label: u16,
    p: u16,
}

impl ModExample {
    /// The left operand, in `0..p`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op};
    /// let ex = ModularTask::new(7, Op::Add, 0.5, 0)?.train_example(0).unwrap();
    /// assert!(ex.a() < 7);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn a(&self) -> u32 {
        self.a as u32
    }

    /// The right operand, in `0..p` (`1..p` for division).
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op};
    /// let ex = ModularTask::new(7, Op::Div, 0.5, 0)?.train_example(0).unwrap();
    /// assert!((1..7).contains(&ex.b()));
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn b(&self) -> u32 {
        self.b as u32
    }

    /// The label `a ∘ b mod p`, a class in `0..p`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op};
    /// let ex = ModularTask::new(7, Op::Div, 0.5, 0)?.train_example(3).unwrap();
    /// assert_eq!(ex.label() * ex.b() % 7, ex.a());
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn label(&self) -> u32 {
        self.label as u32
    }

    /// The modulus.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op};
    /// let ex = ModularTask::new(7, Op::Add, 0.5, 0)?.train_example(0).unwrap();
    /// assert_eq!(ex.p(), 7);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn p(&self) -> u32 {
        self.p as u32
    }

    /// Length of the dense input, `2p`.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op};
    /// let ex = ModularTask::new(7, Op::Add, 0.5, 0)?.train_example(0).unwrap();
    /// assert_eq!(ex.input_len(), 14);
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn input_len(&self) -> usize {
        2 * self.p as usize
    }

    /// The indices of the two active inputs, `[a, p + b]`, ascending.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op};
    /// let ex = ModularTask::new(97, Op::Mul, 0.5, 0)?.train_example(0).unwrap();
    /// let [i, j] = ex.two_hot();
    /// assert!(i < 97 && (97..194).contains(&j));
    /// # Ok::<(), egd_tasks::TaskError>(())
    /// ```
    #[inline]
    #[must_use]
    pub const fn two_hot(&self) -> [usize; 2] {
        [self.a as usize, self.p as usize + self.b as usize]
    }

    /// Writes the dense two-hot input into `out`: 1 at `a` and at `p + b`,
    /// 0 elsewhere. Works for any element type built from `i8` (`f32`,
    /// `f64`, `i8`, `i16`, `i32`, …).
    ///
    /// # Errors
    ///
    /// [`TaskError::BufferLength`] if `out.len() != 2p`; `out` is then left
    /// untouched.
    ///
    /// ```
    /// use egd_tasks::{Dataset, ModularTask, Op};
    /// let ex = ModularTask::new(5, Op::Add, 0.5, 0)?.train_example(0).unwrap();
    /// let mut x = [0.0f64; 10];
    /// ex.write_input(&mut x)?;
    /// assert_eq!(x[ex.a() as usize], 1.0);
    /// assert_eq!(x[5 + ex.b() as usize], 1.0);
    /// assert!(ex.write_input(&mut [0.0f64; 9]).is_err());
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
        for x in out.iter_mut() {
            *x = T::from(0);
        }
        for i in self.two_hot() {
            if let Some(x) = out.get_mut(i) {
                *x = T::from(1);
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
    fn primes() {
        let small: Vec<u32> = (0..50).filter(|&n| is_prime(n)).collect();
        assert_eq!(
            small,
            [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47]
        );
        assert!(is_prime(65_521)); // largest prime below 2^16
        assert!(!is_prime(65_535));
        assert!(!is_prime(65_025)); // 255²
        assert!(!is_prime(63_001)); // 251²
    }

    #[test]
    fn inverses() {
        let nz = |p| NonZeroU32::new(p).unwrap();
        for p in [2u32, 3, 7, 97, 65_521] {
            for b in (1..p.min(500)).chain(p.saturating_sub(500).max(1)..p) {
                let inv = inverse_mod(b, nz(p)).unwrap();
                assert!(inv < p);
                assert_eq!(u64::from(inv) * u64::from(b) % u64::from(p), 1);
            }
        }
        assert_eq!(inverse_mod(0, nz(7)), None);
        assert_eq!(inverse_mod(2, nz(8)), None);
        assert_eq!(inverse_mod(3, nz(8)), Some(3));
    }

    #[test]
    fn every_pair_once_with_right_label() {
        for op in Op::ALL {
            for p in [2u32, 3, 5, 11] {
                let task = ModularTask::new(p, op, 0.5, u64::from(p)).unwrap();
                let mut seen = vec![false; (p * p) as usize];
                for ex in task.train_examples().chain(task.test_examples()) {
                    let idx = (ex.a() * p + ex.b()) as usize;
                    assert!(!seen[idx]);
                    seen[idx] = true;
                    assert_eq!(Some(ex.label()), op.apply(ex.a(), ex.b(), p));
                }
                let count = seen.iter().filter(|&&s| s).count();
                assert_eq!(count, task.total_len());
            }
        }
    }

    #[test]
    fn largest_p_works() {
        for op in Op::ALL {
            let p = if op == Op::Div { 65_521 } else { 65_535 };
            let task = ModularTask::new(p, op, 0.5, 1).unwrap();
            let last = task.test_example(task.test_len() - 1).unwrap();
            assert_eq!(Some(last.label()), op.apply(last.a(), last.b(), p));
            assert_eq!(
                task.locate(last.a(), last.b()),
                Some((Split::Test, task.test_len() - 1))
            );
            assert_eq!(last.two_hot()[1], (p + last.b()) as usize);
        }
    }

    #[test]
    fn split_sizes_follow_int_frac_times_n() {
        let t = ModularTask::new(127, Op::Add, 0.5, 0).unwrap();
        assert_eq!(t.train_len(), 8064);
        let t = ModularTask::new(97, Op::Mul, 0.5, 0).unwrap();
        assert_eq!(t.train_len(), 4704);
        let t = ModularTask::new(79, Op::Add, 0.5, 0).unwrap();
        assert_eq!(t.train_len(), 3120);
    }

    #[test]
    fn documented_sizes() {
        assert_eq!(size_of::<ModularTask>(), 32);
        assert_eq!(size_of::<ModExample>(), 8);
    }
}
