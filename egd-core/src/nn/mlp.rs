//! Two- and three-layer `ReLU` perceptrons with per-sample gradient accumulation.

use super::dense::{Dense, Input, relu, relu_backward};
use super::loss::Loss;
use super::params::{Kind, Params, TensorInfo, WeightVisitor};
use crate::error::EgdError;
use crate::rng::Init;
use crate::scalar::Real;
use rand_core::Rng;

mod fast;
use fast::{
    DOT_LANES, RowCombination, RowUpdate, active_masks, add_into, dots, for_each_tile, transpose,
};

/// Loss and accuracy over a batch or a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchStats<T> {
    /// Mean loss per sample (without any weight-decay term).
    pub loss: T,
    /// Samples predicted correctly (see [`Loss::correct`]).
    pub correct: usize,
    /// Samples seen.
    pub samples: usize,
}

impl<T: Real> BatchStats<T> {
    /// `correct / samples` (0 for no samples).
    #[must_use]
    pub fn accuracy(&self) -> T {
        if self.samples == 0 {
            T::ZERO
        } else {
            T::from_usize(self.correct) / T::from_usize(self.samples)
        }
    }
}

const EMPTY_BATCH: EgdError = EgdError::InvalidParameter {
    name: "batch",
    expected: "at least one sample",
};

/// Activation scratch for [`Mlp2`]: `O(HIDDEN + OUT)` scalars, owned by the
/// caller and reused across samples.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mlp2Scratch<T, const HIDDEN: usize, const OUT: usize> {
    /// Hidden activations `ReLU(W1 x + b1)` of the last sample.
    pub hidden: [T; HIDDEN],
    /// Outputs (logits) of the last sample.
    pub out: [T; OUT],
    /// `∂loss/∂out` (scaled by the batch weight).
    pub d_out: [T; OUT],
    /// `∂loss/∂(hidden pre-activation)`.
    pub d_hidden: [T; HIDDEN],
}

impl<T: Real, const HIDDEN: usize, const OUT: usize> Mlp2Scratch<T, HIDDEN, OUT> {
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// Zeroed scratch.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            hidden: [T::ZERO; HIDDEN],
            out: [T::ZERO; OUT],
            d_out: [T::ZERO; OUT],
            d_hidden: [T::ZERO; HIDDEN],
        }
    }
}

impl<T: Real, const HIDDEN: usize, const OUT: usize> Default for Mlp2Scratch<T, HIDDEN, OUT> {
    fn default() -> Self {
        Self::new()
    }
}

/// Scratch for the fast paths [`Mlp2::batch_grad_blocked`] and
/// [`Mlp2::evaluate_blocked`]: transposed copies of the weights, the
/// transposed output-layer gradient, and the activations of `B` samples at a
/// time.
///
/// With `W2ᵀ` stored by hidden unit, the output layer only touches the rows
/// of active (`ReLU > 0`) hidden units, for the forward pass, the backward
/// pass and the weight gradient alike (about half the work of the dense
/// per-sample path for a freshly initialised network), in register-blocked
/// kernels over column tiles of up to 48 outputs; `W2ᵀ` is walked in blocks
/// of rows that stay in the L1 cache while all `B` samples use them, and
/// each gradient row of `W2ᵀ` is updated once per block of samples. A sparse
/// ([`MultiHot`](super::MultiHot), see [`Input::sparse_indices`]) input reads
/// its rows of `W1ᵀ` and adds to its rows of the transposed `W1` gradient
/// (two contiguous rows instead of two strided columns for a two-hot input)
/// when `IN ≤ 2·OUT`, as in the modular models; larger sparse inputs and
/// dense inputs use `W1` as it is. `B = 8` suits desktop CPUs (16 is a few
/// per cent faster); on a microcontroller the extra `HIDDEN × OUT` matrices
/// usually do not fit, so use [`Mlp2Scratch`] there.
///
/// # Accumulation order
///
/// The results are deterministic: the same bits on every target (fixed
/// orders, no target-specific code) and for every block size `B`. They are
/// not bit-identical to [`Mlp2::batch_grad`], which sums in other orders, but
/// agree with it to rounding. With `A(s)` the active hidden units of sample
/// `s` (`h_j > 0`) in ascending order:
///
/// * hidden activations: as in [`Mlp2::forward`] (the input's own order,
///   then the bias);
/// * logits: `y_o = (Σ_{j ∈ A(s)} h_j·W2[o][j]) + b2[o]`, one running sum over
///   `j` ascending, the bias added last;
/// * back-propagated gradient: for `j ∈ A(s)`, `∂h_j = Σ_o W2[o][j]·δ_o` with
///   eight partial sums (lane `l` takes `o ≡ l (mod 8)`, ascending),
///   combined as `((s₀ + s₄) + (s₂ + s₆)) + ((s₁ + s₅) + (s₃ + s₇))`; `0` for
///   inactive units;
/// * every gradient element (`W1`, `b1`, `W2`, `b2`): one running sum from
///   `0` over the batch's samples in order, of the same per-sample terms as
///   [`Mlp2::accumulate`] (terms of inactive units, which are `0`, are
///   skipped; so given the same `δ` and `∂h`, the sums are those of
///   [`Mlp2::batch_grad`] bit for bit).
///
/// # Memory
///
/// [`Mlp2BlockScratch::BYTES`] `= (4·HIDDEN·OUT + 8·HIDDEN + B·(2·HIDDEN + 2·OUT))·size_of::<T>() + 4·(HIDDEN + B·(HIDDEN + 33))`
/// plus alignment padding: 1 117 152 bytes for the paper's
/// `Mlp2BlockScratch<f32, 512, 127, 8>` (see the [module docs](super)).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mlp2BlockScratch<T, const HIDDEN: usize, const OUT: usize, const B: usize> {
    hidden: [[T; HIDDEN]; B],
    active: [[u32; HIDDEN]; B],
    /// Per sample, where each block of `W2ᵀ` rows starts in `active`.
    segments: [[u32; MAX_SEGMENTS + 1]; B],
    out: [[T; OUT]; B],
    d_out: [[T; OUT]; B],
    d_hidden: [[T; HIDDEN]; B],
    lanes: [[T; DOT_LANES]; HIDDEN],
    masks: [u32; HIDDEN],
    w2t: [[T; OUT]; HIDDEN],
    g2t: [[T; OUT]; HIDDEN],
    /// `IN ≤ 2·OUT` rows of `HIDDEN`: `W1ᵀ` (evaluation) or the transposed
    /// `W1` gradient (training), for sparse inputs.
    x_t: [[[T; HIDDEN]; OUT]; 2],
}

impl<T: Real, const HIDDEN: usize, const OUT: usize, const B: usize>
    Mlp2BlockScratch<T, HIDDEN, OUT, B>
{
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// Zeroed scratch.
    #[must_use]
    pub const fn new() -> Self {
        const { assert!(B > 0, "block size must be positive") };
        const {
            assert!(
                HIDDEN as u64 <= u32::MAX as u64,
                "hidden width must fit in u32"
            )
        };
        Self {
            hidden: [[T::ZERO; HIDDEN]; B],
            active: [[0; HIDDEN]; B],
            segments: [[0; MAX_SEGMENTS + 1]; B],
            out: [[T::ZERO; OUT]; B],
            d_out: [[T::ZERO; OUT]; B],
            d_hidden: [[T::ZERO; HIDDEN]; B],
            lanes: [[T::ZERO; DOT_LANES]; HIDDEN],
            masks: [0; HIDDEN],
            w2t: [[T::ZERO; OUT]; HIDDEN],
            g2t: [[T::ZERO; OUT]; HIDDEN],
            x_t: [[[T::ZERO; HIDDEN]; OUT]; 2],
        }
    }
}

impl<T: Real, const HIDDEN: usize, const OUT: usize, const B: usize> Default
    for Mlp2BlockScratch<T, HIDDEN, OUT, B>
{
    fn default() -> Self {
        Self::new()
    }
}

/// Where the fast path keeps layer 1, decided by the first sample.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layer1 {
    /// `W1` and its gradient as they are.
    Plain,
    /// `W1ᵀ` and the transposed gradient, one contiguous row per input index.
    Transposed,
}

/// Row `i` (of `n` elements) of a flat row-major buffer.
#[inline(always)]
fn flat_row<T>(flat: &[T], i: usize, n: usize) -> Option<&[T]> {
    flat.get(i.checked_mul(n)?..)?.get(..n)
}

/// Most blocks of `W2ᵀ` rows the kernels walk (see [`w2t_block_rows`]).
const MAX_SEGMENTS: usize = 32;

/// Rows of `W2ᵀ` (`OUT` scalars each) per block: about 32 KiB, or more when
/// `HIDDEN` needs more than [`MAX_SEGMENTS`] such blocks. The kernels walk
/// `W2ᵀ` block by block, each block used by all samples of a block of
/// samples while it is in the L1 cache (only the loop order: no sum
/// changes).
const fn w2t_block_rows<T: Real, const HIDDEN: usize, const OUT: usize>() -> usize {
    let row = if OUT == 0 { 1 } else { OUT * T::BYTES };
    let r = (32 << 10) / row;
    let min = HIDDEN.div_ceil(MAX_SEGMENTS);
    if r > min {
        r
    } else if min > 0 {
        min
    } else {
        1
    }
}

/// Packs the indices of the positive entries of `h` (ascending) into `idx`
/// (branch-free) and records in `segments[b]` where the units of block `b`
/// (`step` units each) start; the entries after the last block hold the
/// count.
#[inline(always)]
fn compact<T: Real, const N: usize>(
    h: &[T; N],
    step: usize,
    idx: &mut [u32; N],
    segments: &mut [u32; MAX_SEGMENTS + 1],
) {
    let mut c = 0;
    let mut seg = segments.iter_mut();
    // (The slices go first in the zips, so the counters never step past
    // `HIDDEN`.)
    for (hb, j0) in h.chunks(step).zip((0u32..).step_by(step)) {
        if let Some(sg) = seg.next() {
            *sg = c as u32;
        }
        for (&v, j) in hb.iter().zip(j0..) {
            if let Some(i) = idx.get_mut(c) {
                *i = j;
            }
            c += usize::from(v > T::ZERO);
        }
    }
    for sg in seg {
        *sg = c as u32;
    }
}

/// Positions `lo..hi` in a sample's active list of the units of block `b`.
#[inline(always)]
fn segment(segments: &[u32; MAX_SEGMENTS + 1], b: usize) -> (usize, usize) {
    match (segments.get(b), segments.get(b + 1)) {
        (Some(&lo), Some(&hi)) => (lo as usize, hi as usize),
        _ => (0, 0),
    }
}

/// A two-layer perceptron `out = W2 · ReLU(W1 x + b1) + b2`, `IN → HIDDEN → OUT`.
///
/// The paper's modular-arithmetic model is `Mlp2::<f32, {2 * p}, 512, p>` with
/// a hidden bias and **no** output bias, fed [`MultiHot`](super::MultiHot)
/// two-hot inputs, initialised by [`Mlp2::init_he`].
///
/// A gradient is a buffer of the same type ([`Mlp2::zeros_like`]); it mirrors
/// the parameters tensor for tensor.
///
/// # Memory
///
/// [`Mlp2::BYTES`] `= size_of::<Self>()` ≈
/// `(HIDDEN·IN + HIDDEN + OUT·HIDDEN + OUT)·size_of::<T>()`; see the table in
/// the [module docs](super).
///
/// ```
/// use egd_core::nn::{CrossEntropy, Mlp2, Mlp2Scratch, MultiHot};
/// use egd_core::rng::SplitMix64;
/// let mut net = Mlp2::<f32, 6, 8, 3>::zeros(true, false);
/// net.init_he(&mut SplitMix64::new(1));
/// let mut grad = net.zeros_like();
/// let mut s = Mlp2Scratch::new();
/// let batch = [(MultiHot(&[0, 3]), 0), (MultiHot(&[1, 4]), 2)];
/// let stats = net.batch_grad(&CrossEntropy, batch, &mut grad, &mut s)?;
/// assert!(stats.loss > 0.0 && stats.samples == 2);
/// # Ok::<(), egd_core::EgdError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mlp2<T, const IN: usize, const HIDDEN: usize, const OUT: usize> {
    /// First layer, `HIDDEN × IN`.
    pub l1: Dense<T, IN, HIDDEN>,
    /// Output layer, `OUT × HIDDEN`.
    pub l2: Dense<T, HIDDEN, OUT>,
}

/// A three-layer perceptron `IN → H1 → H2 → OUT` with `ReLU` after both hidden
/// layers. Same conventions as [`Mlp2`].
///
/// ```
/// use egd_core::nn::{Mlp3, Mlp3Scratch, Mse};
/// use egd_core::rng::SplitMix64;
/// let mut net = Mlp3::<f64, 4, 5, 3, 1>::zeros(true, true);
/// net.init_he(&mut SplitMix64::new(2));
/// let mut grad = net.zeros_like();
/// let mut s = Mlp3Scratch::new();
/// let x = [1.0, -1.0, 1.0, 1.0];
/// let stats = net.batch_grad(&Mse, [(x, [1.0])], &mut grad, &mut s)?;
/// assert_eq!(stats.samples, 1);
/// # Ok::<(), egd_core::EgdError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mlp3<T, const IN: usize, const H1: usize, const H2: usize, const OUT: usize> {
    /// First layer, `H1 × IN`.
    pub l1: Dense<T, IN, H1>,
    /// Second layer, `H2 × H1`.
    pub l2: Dense<T, H1, H2>,
    /// Output layer, `OUT × H2`.
    pub l3: Dense<T, H2, OUT>,
}

/// Activation scratch for [`Mlp3`]: `O(H1 + H2 + OUT)` scalars.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mlp3Scratch<T, const H1: usize, const H2: usize, const OUT: usize> {
    /// First hidden activations.
    pub h1: [T; H1],
    /// Second hidden activations.
    pub h2: [T; H2],
    /// Outputs of the last sample.
    pub out: [T; OUT],
    /// `∂loss/∂out`.
    pub d_out: [T; OUT],
    /// `∂loss/∂(second pre-activation)`.
    pub d_h2: [T; H2],
    /// `∂loss/∂(first pre-activation)`.
    pub d_h1: [T; H1],
}

impl<T: Real, const H1: usize, const H2: usize, const OUT: usize> Mlp3Scratch<T, H1, H2, OUT> {
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// Zeroed scratch.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            h1: [T::ZERO; H1],
            h2: [T::ZERO; H2],
            out: [T::ZERO; OUT],
            d_out: [T::ZERO; OUT],
            d_h2: [T::ZERO; H2],
            d_h1: [T::ZERO; H1],
        }
    }
}

impl<T: Real, const H1: usize, const H2: usize, const OUT: usize> Default
    for Mlp3Scratch<T, H1, H2, OUT>
{
    fn default() -> Self {
        Self::new()
    }
}

/// The shared batch loop: zero the gradient once, accumulate each sample with
/// weight `1/n`, return mean loss and accuracy.
macro_rules! batch_methods {
    ($scratch:ty) => {
        /// Mean minibatch gradient: zeroes `grad` (once) and accumulates every
        /// sample with weight `1/n`, `n` the batch length. The result is the
        /// gradient of the **mean** loss (the paper's mean cross-entropy); no
        /// weight-decay term is added here (optimizers add it).
        ///
        /// # Errors
        ///
        /// [`EgdError::InvalidParameter`] for an empty batch, a bad sparse
        /// index or label; [`EgdError::NonFinite`] if the loss is NaN/∞. The
        /// weights are never touched; `grad` holds a partial sum on error.
        pub fn batch_grad<X, L, I>(
            &self,
            loss: &L,
            batch: I,
            grad: &mut Self,
            scratch: &mut $scratch,
        ) -> Result<BatchStats<T>, EgdError>
        where
            X: Input<T, IN>,
            L: Loss<T, OUT>,
            I: IntoIterator<Item = (X, L::Target)>,
            I::IntoIter: ExactSizeIterator,
        {
            let iter = batch.into_iter();
            let n = iter.len();
            if n == 0 {
                return Err(EMPTY_BATCH);
            }
            grad.fill_zero();
            grad.set_biases_like(self);
            let scale = T::ONE / T::from_usize(n);
            let mut sum = T::ZERO;
            let mut stats = BatchStats {
                loss: T::ZERO,
                correct: 0,
                samples: 0,
            };
            for (x, t) in iter {
                sum += self.accumulate(&x, t, loss, scale, grad, scratch)?;
                stats.correct += usize::from(loss.correct(&scratch.out, t));
                stats.samples += 1;
            }
            stats.loss = sum / T::from_usize(stats.samples.max(1));
            if stats.loss.is_finite() {
                Ok(stats)
            } else {
                Err(EgdError::NonFinite)
            }
        }

        /// Mean loss and accuracy over `data` (no gradient).
        ///
        /// # Errors
        ///
        /// As [`Self::batch_grad`] (an empty data set gives zero samples, `Ok`).
        pub fn evaluate<X, L, I>(
            &self,
            loss: &L,
            data: I,
            scratch: &mut $scratch,
        ) -> Result<BatchStats<T>, EgdError>
        where
            X: Input<T, IN>,
            L: Loss<T, OUT>,
            I: IntoIterator<Item = (X, L::Target)>,
        {
            let mut sum = T::ZERO;
            let mut stats = BatchStats {
                loss: T::ZERO,
                correct: 0,
                samples: 0,
            };
            for (x, t) in data {
                let y = self.forward(&x, scratch)?;
                sum += loss.loss(y, t)?;
                stats.correct += usize::from(loss.correct(y, t));
                stats.samples += 1;
            }
            stats.loss = sum / T::from_usize(stats.samples.max(1));
            if stats.loss.is_finite() {
                Ok(stats)
            } else {
                Err(EgdError::NonFinite)
            }
        }
    };
}

impl<T: Real, const IN: usize, const HIDDEN: usize, const OUT: usize> Mlp2<T, IN, HIDDEN, OUT> {
    /// Size in bytes (`size_of::<Self>()`); a gradient buffer is the same size.
    pub const BYTES: usize = size_of::<Self>();
    /// Number of scalars (disabled biases included).
    pub const PARAMS: usize = HIDDEN * IN + HIDDEN + OUT * HIDDEN + OUT;

    /// All-zero parameters; `hidden_bias` / `out_bias` switch the biases on.
    #[must_use]
    pub const fn zeros(hidden_bias: bool, out_bias: bool) -> Self {
        Self {
            l1: Dense::zeros(hidden_bias),
            l2: Dense::zeros(out_bias),
        }
    }

    /// A zeroed buffer of the same shape and bias switches (for gradients and
    /// optimizer state).
    #[must_use]
    pub const fn zeros_like(&self) -> Self {
        Self::zeros(self.l1.bias, self.l2.bias)
    }

    fn set_biases_like(&mut self, other: &Self) {
        self.l1.bias = other.l1.bias;
        self.l2.bias = other.l2.bias;
    }

    /// The paper's initialisation: `W1 ~ N(0, 2/IN)`, `W2 ~ N(0, 2/HIDDEN)`
    /// (He normal), biases zero. Draws `W1` then `W2`, row-major.
    pub fn init_he<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.l1.init(Init::HeNormal, Init::Zeros, rng);
        self.l2.init(Init::HeNormal, Init::Zeros, rng);
    }

    /// Forward pass; returns the outputs (held in `scratch`).
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] for an invalid sparse input.
    pub fn forward<'s, X: Input<T, IN> + ?Sized>(
        &self,
        x: &X,
        scratch: &'s mut Mlp2Scratch<T, HIDDEN, OUT>,
    ) -> Result<&'s [T; OUT], EgdError> {
        self.l1.forward(x, &mut scratch.hidden)?;
        relu(&mut scratch.hidden);
        self.l2.forward_unchecked(&scratch.hidden, &mut scratch.out);
        Ok(&scratch.out)
    }

    /// One sample: forward, loss, and `grad += scale · ∇loss` (sparse inputs
    /// touch only their columns of `grad.l1.w`). Returns the sample's loss.
    ///
    /// # Errors
    ///
    /// As [`Loss::loss_grad`] and [`Input::validate`]; `grad` is untouched on error.
    pub fn accumulate<X: Input<T, IN> + ?Sized, L: Loss<T, OUT>>(
        &self,
        x: &X,
        target: L::Target,
        loss: &L,
        scale: T,
        grad: &mut Self,
        s: &mut Mlp2Scratch<T, HIDDEN, OUT>,
    ) -> Result<T, EgdError> {
        self.forward(x, s)?;
        let l = loss.loss_grad(&s.out, target, scale, &mut s.d_out)?;
        self.l2.accumulate_grad(&s.hidden, &s.d_out, &mut grad.l2);
        self.l2.backprop(&s.d_out, &mut s.d_hidden);
        relu_backward(&s.hidden, &mut s.d_hidden);
        self.l1.accumulate_grad(x, &s.d_hidden, &mut grad.l1);
        Ok(l)
    }

    batch_methods!(Mlp2Scratch<T, HIDDEN, OUT>);

    /// Whether sparse inputs may use the transposed layer 1: `W1ᵀ` fits in
    /// [`Mlp2BlockScratch`] (`IN ≤ 2·OUT`).
    const SPARSE_T: bool = IN.div_ceil(2) <= OUT;

    /// Layer 1 and `ReLU` for one sample into `h`, from `W1ᵀ` (flat, `IN`
    /// rows of `HIDDEN`) for a sparse input when given: the same sums in the
    /// same order as [`Dense::forward`].
    fn hidden_into<X: Input<T, IN> + ?Sized>(
        &self,
        x: &X,
        w1t: Option<&[T]>,
        h: &mut [T; HIDDEN],
    ) -> Result<(), EgdError> {
        x.validate()?;
        match (x.sparse_indices(), w1t) {
            (Some(idx), Some(w1t)) => {
                h.fill(T::ZERO);
                for &i in idx {
                    if let Some(row) = flat_row(w1t, i, HIDDEN) {
                        add_into(h, row);
                    }
                }
            }
            _ => x.matvec(&self.l1.w, h),
        }
        if self.l1.bias {
            for (v, &b) in h.iter_mut().zip(&self.l1.b) {
                let z = *v + b;
                *v = if z > T::ZERO { z } else { T::ZERO };
            }
        } else {
            relu(h);
        }
        Ok(())
    }

    /// The layer-1 layout for a data set whose first sample is `first`.
    fn layer1_mode<X: Input<T, IN>, Y>(first: Option<&(X, Y)>) -> Layer1 {
        match first {
            Some((x, _)) if Self::SPARSE_T && x.sparse_indices().is_some() => Layer1::Transposed,
            _ => Layer1::Plain,
        }
    }

    /// Reads up to `B` samples: their hidden activations into `hidden`
    /// (from `W1ᵀ` for sparse inputs when `w1t` is given), the samples into
    /// `items`. Returns how many were read.
    fn read_block<X: Input<T, IN>, Y, const B: usize>(
        &self,
        iter: &mut impl Iterator<Item = (X, Y)>,
        w1t: Option<&[T]>,
        hidden: &mut [[T; HIDDEN]; B],
        items: &mut [Option<(X, Y)>; B],
    ) -> Result<usize, EgdError> {
        let mut n = 0;
        for (h, item) in hidden.iter_mut().zip(items.iter_mut()) {
            let Some((x, y)) = iter.next() else { break };
            self.hidden_into(&x, w1t, h)?;
            *item = Some((x, y));
            n += 1;
        }
        Ok(n)
    }

    /// Active-unit lists and logits of the first `n` samples of a block
    /// (activations already in `s.hidden`).
    fn logits_block<const B: usize>(&self, s: &mut Mlp2BlockScratch<T, HIDDEN, OUT, B>, n: usize) {
        let step = w2t_block_rows::<T, HIDDEN, OUT>();
        for ((h, idx), sg) in s
            .hidden
            .iter()
            .zip(s.active.iter_mut())
            .zip(s.segments.iter_mut())
            .take(n)
        {
            compact(h, step, idx, sg);
        }
        for b in 0..HIDDEN.div_ceil(step) {
            for (((h, idx), sg), out) in s
                .hidden
                .iter()
                .zip(&s.active)
                .zip(&s.segments)
                .zip(s.out.iter_mut())
                .take(n)
            {
                let (lo, hi) = segment(sg, b);
                for_each_tile::<T, OUT, _>(&mut RowCombination {
                    rows: &s.w2t,
                    idx: idx.get(lo..hi).unwrap_or(&[]),
                    h,
                    out,
                    add: b > 0,
                });
            }
        }
        if self.l2.bias {
            for out in s.out.iter_mut().take(n) {
                add_into(out, &self.l2.b);
            }
        }
    }

    /// `dW2ᵀ[j] += Σ_s h_s[j] δ_s` over the first `n` samples of a block
    /// with `h_s[j] > 0`, 32 samples at a time.
    fn output_grad_block<const B: usize>(s: &mut Mlp2BlockScratch<T, HIDDEN, OUT, B>, n: usize) {
        for s0 in (0..n).step_by(32) {
            let (Some(hidden), Some(d)) = (s.hidden.get(s0..n), s.d_out.get(s0..n)) else {
                break;
            };
            active_masks(hidden, &mut s.masks);
            for ((j, row), &mask) in s.g2t.iter_mut().enumerate().zip(&s.masks) {
                if mask != 0 {
                    for_each_tile::<T, OUT, _>(&mut RowUpdate {
                        row,
                        j,
                        mask,
                        hidden,
                        d,
                    });
                }
            }
        }
    }

    /// `∂h = (W2ᵀ δ) ⊙ [h > 0]` for the first `n` samples of a block, block
    /// of `W2ᵀ` rows by block.
    fn backprop_block<const B: usize>(s: &mut Mlp2BlockScratch<T, HIDDEN, OUT, B>, n: usize) {
        for dh in s.d_hidden.iter_mut().take(n) {
            dh.fill(T::ZERO);
        }
        let step = w2t_block_rows::<T, HIDDEN, OUT>();
        for b in 0..HIDDEN.div_ceil(step) {
            for (((dh, idx), sg), ds) in s
                .d_hidden
                .iter_mut()
                .zip(&s.active)
                .zip(&s.segments)
                .zip(&s.d_out)
                .take(n)
            {
                let (lo, hi) = segment(sg, b);
                dots(&s.w2t, idx.get(lo..hi).unwrap_or(&[]), ds, &mut s.lanes, dh);
            }
        }
    }

    /// [`Self::batch_grad`] on the fast path (see [`Mlp2BlockScratch`] for
    /// the accumulation order): the same mean gradient up to rounding,
    /// deterministic, several times faster for wide hidden layers.
    ///
    /// ```
    /// use egd_core::nn::{CrossEntropy, Mlp2, Mlp2BlockScratch, Mlp2Scratch, MultiHot};
    /// use egd_core::rng::SplitMix64;
    /// let mut net = Mlp2::<f64, 6, 8, 3>::zeros(true, false);
    /// net.init_he(&mut SplitMix64::new(1));
    /// let (mut g1, mut g2) = (net.zeros_like(), net.zeros_like());
    /// let batch = [(MultiHot(&[0, 3]), 0), (MultiHot(&[1, 4]), 2), (MultiHot(&[2, 5]), 1)];
    /// let a = net.batch_grad(&CrossEntropy, batch, &mut g1, &mut Mlp2Scratch::new())?;
    /// let mut s = Mlp2BlockScratch::<f64, 8, 3, 2>::new();
    /// let b = net.batch_grad_blocked(&CrossEntropy, batch, &mut g2, &mut s)?;
    /// assert!((a.loss - b.loss).abs() < 1e-15 && a.correct == b.correct);
    /// let d = g1.l2.w.as_slice().iter().zip(g2.l2.w.as_slice()).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max);
    /// assert!(d < 1e-15);
    /// # Ok::<(), egd_core::EgdError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Self::batch_grad`]. The weights are never touched, but `grad`
    /// holds unspecified values on error (it doubles as the `W1ᵀ` buffer).
    pub fn batch_grad_blocked<X, L, I, const B: usize>(
        &self,
        loss: &L,
        batch: I,
        grad: &mut Self,
        s: &mut Mlp2BlockScratch<T, HIDDEN, OUT, B>,
    ) -> Result<BatchStats<T>, EgdError>
    where
        X: Input<T, IN>,
        L: Loss<T, OUT>,
        I: IntoIterator<Item = (X, L::Target)>,
        I::IntoIter: ExactSizeIterator,
    {
        let mut iter = batch.into_iter().peekable();
        let total = iter.len();
        if total == 0 {
            return Err(EMPTY_BATCH);
        }
        grad.set_biases_like(self);
        grad.l1.b.fill(T::ZERO);
        grad.l2.b.fill(T::ZERO);
        transpose(self.l2.w.rows(), s.w2t.as_flattened_mut());
        for row in &mut s.g2t {
            row.fill(T::ZERO);
        }
        // Transposed layer 1: `W1ᵀ` lives in `grad.l1.w` (flat, IN rows of
        // HIDDEN) and the transposed gradient in `s.x_t` until the end.
        let mut mode = Self::layer1_mode(iter.peek());
        if mode == Layer1::Transposed {
            transpose(self.l1.w.rows(), grad.l1.w.as_mut_slice());
            for row in s.x_t.as_flattened_mut().iter_mut().take(IN) {
                row.fill(T::ZERO);
            }
        } else {
            grad.l1.w.fill_zero();
        }
        let scale = T::ONE / T::from_usize(total);
        let mut sum = T::ZERO;
        let mut stats = BatchStats {
            loss: T::ZERO,
            correct: 0,
            samples: 0,
        };
        let mut items: [Option<(X, L::Target)>; B] = core::array::from_fn(|_| None);
        loop {
            let w1t = (mode == Layer1::Transposed).then_some(grad.l1.w.as_slice());
            let n = self.read_block(&mut iter, w1t, &mut s.hidden, &mut items)?;
            if n == 0 {
                break;
            }
            self.logits_block(s, n);
            for ((item, os), ds) in items.iter().zip(&s.out).zip(s.d_out.iter_mut()) {
                if let Some((_, t)) = item {
                    sum += loss.loss_grad(os, *t, scale, ds)?;
                    stats.correct += usize::from(loss.correct(os, *t));
                    stats.samples += 1;
                }
            }
            if self.l2.bias {
                for ds in s.d_out.iter().take(n) {
                    add_into(&mut grad.l2.b, ds);
                }
            }
            Self::output_grad_block(s, n);
            Self::backprop_block(s, n);
            for (dh, item) in s.d_hidden.iter().zip(items.iter_mut()) {
                let Some((x, _)) = item.take() else { continue };
                if self.l1.bias {
                    add_into(&mut grad.l1.b, dh);
                }
                if mode == Layer1::Transposed {
                    if let Some(idx) = x.sparse_indices() {
                        let rows = s.x_t.as_flattened_mut();
                        for &i in idx {
                            if let Some(row) = rows.get_mut(i) {
                                add_into(row, dh);
                            }
                        }
                        continue;
                    }
                    // A dense sample after sparse ones: back to the plain
                    // layout for the rest of the batch.
                    transpose(
                        s.x_t.as_flattened().get(..IN).unwrap_or(&[]),
                        grad.l1.w.as_mut_slice(),
                    );
                    mode = Layer1::Plain;
                }
                x.outer_acc(dh, &mut grad.l1.w);
            }
        }
        transpose(&s.g2t, grad.l2.w.as_mut_slice());
        if mode == Layer1::Transposed {
            transpose(
                s.x_t.as_flattened().get(..IN).unwrap_or(&[]),
                grad.l1.w.as_mut_slice(),
            );
        }
        stats.loss = sum / T::from_usize(stats.samples.max(1));
        if stats.loss.is_finite() {
            Ok(stats)
        } else {
            Err(EgdError::NonFinite)
        }
    }

    /// [`Self::evaluate`] on the fast path (see [`Mlp2BlockScratch`]): the
    /// forward pass and the loss only, the same statistics up to rounding.
    ///
    /// ```
    /// use egd_core::nn::{CrossEntropy, Mlp2, Mlp2BlockScratch, Mlp2Scratch, MultiHot};
    /// use egd_core::rng::SplitMix64;
    /// let mut net = Mlp2::<f32, 6, 8, 3>::zeros(true, false);
    /// net.init_he(&mut SplitMix64::new(3));
    /// let data = [(MultiHot([0, 3]), 0), (MultiHot([1, 4]), 2), (MultiHot([2, 5]), 1)];
    /// let a = net.evaluate(&CrossEntropy, data, &mut Mlp2Scratch::new())?;
    /// let mut s = Mlp2BlockScratch::<f32, 8, 3, 2>::new();
    /// let b = net.evaluate_blocked(&CrossEntropy, data, &mut s)?;
    /// assert!((a.loss - b.loss).abs() < 1e-6 && a.correct == b.correct && b.samples == 3);
    /// # Ok::<(), egd_core::EgdError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Self::evaluate`].
    pub fn evaluate_blocked<X, L, I, const B: usize>(
        &self,
        loss: &L,
        data: I,
        s: &mut Mlp2BlockScratch<T, HIDDEN, OUT, B>,
    ) -> Result<BatchStats<T>, EgdError>
    where
        X: Input<T, IN>,
        L: Loss<T, OUT>,
        I: IntoIterator<Item = (X, L::Target)>,
    {
        let mut iter = data.into_iter().peekable();
        transpose(self.l2.w.rows(), s.w2t.as_flattened_mut());
        let mode = Self::layer1_mode(iter.peek());
        if mode == Layer1::Transposed {
            transpose(
                self.l1.w.rows(),
                s.x_t.as_flattened_mut().as_flattened_mut(),
            );
        }
        let mut sum = T::ZERO;
        let mut stats = BatchStats {
            loss: T::ZERO,
            correct: 0,
            samples: 0,
        };
        let mut items: [Option<(X, L::Target)>; B] = core::array::from_fn(|_| None);
        loop {
            let w1t = (mode == Layer1::Transposed).then_some(s.x_t.as_flattened().as_flattened());
            let n = self.read_block(&mut iter, w1t, &mut s.hidden, &mut items)?;
            if n == 0 {
                break;
            }
            self.logits_block(s, n);
            for (item, os) in items.iter_mut().zip(&s.out) {
                if let Some((_, t)) = item.take() {
                    sum += loss.loss(os, t)?;
                    stats.correct += usize::from(loss.correct(os, t));
                    stats.samples += 1;
                }
            }
        }
        stats.loss = sum / T::from_usize(stats.samples.max(1));
        if stats.loss.is_finite() {
            Ok(stats)
        } else {
            Err(EgdError::NonFinite)
        }
    }
}

impl<T: Real, const IN: usize, const H1: usize, const H2: usize, const OUT: usize>
    Mlp3<T, IN, H1, H2, OUT>
{
    /// Size in bytes (`size_of::<Self>()`); a gradient buffer is the same size.
    pub const BYTES: usize = size_of::<Self>();
    /// Number of scalars (disabled biases included).
    pub const PARAMS: usize = H1 * IN + H1 + H2 * H1 + H2 + OUT * H2 + OUT;

    /// All-zero parameters; `hidden_bias` switches both hidden biases.
    #[must_use]
    pub const fn zeros(hidden_bias: bool, out_bias: bool) -> Self {
        Self {
            l1: Dense::zeros(hidden_bias),
            l2: Dense::zeros(hidden_bias),
            l3: Dense::zeros(out_bias),
        }
    }

    /// A zeroed buffer of the same shape and bias switches.
    #[must_use]
    pub const fn zeros_like(&self) -> Self {
        Self {
            l1: Dense::zeros(self.l1.bias),
            l2: Dense::zeros(self.l2.bias),
            l3: Dense::zeros(self.l3.bias),
        }
    }

    fn set_biases_like(&mut self, other: &Self) {
        self.l1.bias = other.l1.bias;
        self.l2.bias = other.l2.bias;
        self.l3.bias = other.l3.bias;
    }

    /// He-normal weights (fan-in of each layer), zero biases; layer by layer.
    pub fn init_he<R: Rng + ?Sized>(&mut self, rng: &mut R) {
        self.l1.init(Init::HeNormal, Init::Zeros, rng);
        self.l2.init(Init::HeNormal, Init::Zeros, rng);
        self.l3.init(Init::HeNormal, Init::Zeros, rng);
    }

    /// Forward pass; returns the outputs (held in `scratch`).
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] for an invalid sparse input.
    pub fn forward<'s, X: Input<T, IN> + ?Sized>(
        &self,
        x: &X,
        scratch: &'s mut Mlp3Scratch<T, H1, H2, OUT>,
    ) -> Result<&'s [T; OUT], EgdError> {
        self.l1.forward(x, &mut scratch.h1)?;
        relu(&mut scratch.h1);
        self.l2.forward_unchecked(&scratch.h1, &mut scratch.h2);
        relu(&mut scratch.h2);
        self.l3.forward_unchecked(&scratch.h2, &mut scratch.out);
        Ok(&scratch.out)
    }

    /// One sample: forward, loss, and `grad += scale · ∇loss`. Returns the loss.
    ///
    /// # Errors
    ///
    /// As [`Loss::loss_grad`] and [`Input::validate`]; `grad` is untouched on error.
    pub fn accumulate<X: Input<T, IN> + ?Sized, L: Loss<T, OUT>>(
        &self,
        x: &X,
        target: L::Target,
        loss: &L,
        scale: T,
        grad: &mut Self,
        s: &mut Mlp3Scratch<T, H1, H2, OUT>,
    ) -> Result<T, EgdError> {
        self.forward(x, s)?;
        let l = loss.loss_grad(&s.out, target, scale, &mut s.d_out)?;
        self.l3.accumulate_grad(&s.h2, &s.d_out, &mut grad.l3);
        self.l3.backprop(&s.d_out, &mut s.d_h2);
        relu_backward(&s.h2, &mut s.d_h2);
        self.l2.accumulate_grad(&s.h1, &s.d_h2, &mut grad.l2);
        self.l2.backprop(&s.d_h2, &mut s.d_h1);
        relu_backward(&s.h1, &mut s.d_h1);
        self.l1.accumulate_grad(x, &s.d_h1, &mut grad.l1);
        Ok(l)
    }

    batch_methods!(Mlp3Scratch<T, H1, H2, OUT>);
}

const fn weight(name: &'static str, layer: usize, rows: usize, cols: usize) -> Option<TensorInfo> {
    Some(TensorInfo {
        name,
        kind: Kind::Weight,
        layer,
        rows,
        cols,
    })
}

const fn bias(name: &'static str, layer: usize, rows: usize) -> Option<TensorInfo> {
    Some(TensorInfo {
        name,
        kind: Kind::Bias,
        layer,
        rows,
        cols: 1,
    })
}

/// Tensors: `0 l1.weight`, `1 l1.bias`, `2 l2.weight`, `3 l2.bias`.
impl<T: Real, const IN: usize, const HIDDEN: usize, const OUT: usize> Params<T>
    for Mlp2<T, IN, HIDDEN, OUT>
{
    const TENSORS: usize = 4;
    const LEN: usize = Self::PARAMS;
    const BYTES: usize = size_of::<Self>();

    fn info(i: usize) -> Option<TensorInfo> {
        match i {
            0 => weight("l1.weight", 0, HIDDEN, IN),
            1 => bias("l1.bias", 0, HIDDEN),
            2 => weight("l2.weight", 1, OUT, HIDDEN),
            3 => bias("l2.bias", 1, OUT),
            _ => None,
        }
    }
    fn is_active(&self, i: usize) -> bool {
        match i {
            0 | 2 => true,
            1 => self.l1.bias,
            3 => self.l2.bias,
            _ => false,
        }
    }
    fn tensor(&self, i: usize) -> &[T] {
        match i {
            0 => self.l1.w.as_slice(),
            1 => &self.l1.b,
            2 => self.l2.w.as_slice(),
            3 => &self.l2.b,
            _ => &[],
        }
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        match i {
            0 => self.l1.w.as_mut_slice(),
            1 => &mut self.l1.b,
            2 => self.l2.w.as_mut_slice(),
            3 => &mut self.l2.b,
            _ => &mut [],
        }
    }
    fn zeros_like(&self) -> Self {
        Self::zeros(self.l1.bias, self.l2.bias)
    }
    fn visit_weights_mut<V: WeightVisitor<T>>(&mut self, v: &mut V) -> Result<(), EgdError> {
        v.visit(0, &mut self.l1.w)?;
        v.visit(1, &mut self.l2.w)
    }
}

/// Tensors: `0 l1.weight`, `1 l1.bias`, `2 l2.weight`, `3 l2.bias`, `4 l3.weight`, `5 l3.bias`.
impl<T: Real, const IN: usize, const H1: usize, const H2: usize, const OUT: usize> Params<T>
    for Mlp3<T, IN, H1, H2, OUT>
{
    const TENSORS: usize = 6;
    const LEN: usize = Self::PARAMS;
    const BYTES: usize = size_of::<Self>();

    fn info(i: usize) -> Option<TensorInfo> {
        match i {
            0 => weight("l1.weight", 0, H1, IN),
            1 => bias("l1.bias", 0, H1),
            2 => weight("l2.weight", 1, H2, H1),
            3 => bias("l2.bias", 1, H2),
            4 => weight("l3.weight", 2, OUT, H2),
            5 => bias("l3.bias", 2, OUT),
            _ => None,
        }
    }
    fn is_active(&self, i: usize) -> bool {
        match i {
            0 | 2 | 4 => true,
            1 => self.l1.bias,
            3 => self.l2.bias,
            5 => self.l3.bias,
            _ => false,
        }
    }
    fn tensor(&self, i: usize) -> &[T] {
        match i {
            0 => self.l1.w.as_slice(),
            1 => &self.l1.b,
            2 => self.l2.w.as_slice(),
            3 => &self.l2.b,
            4 => self.l3.w.as_slice(),
            5 => &self.l3.b,
            _ => &[],
        }
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        match i {
            0 => self.l1.w.as_mut_slice(),
            1 => &mut self.l1.b,
            2 => self.l2.w.as_mut_slice(),
            3 => &mut self.l2.b,
            4 => self.l3.w.as_mut_slice(),
            5 => &mut self.l3.b,
            _ => &mut [],
        }
    }
    fn zeros_like(&self) -> Self {
        Self {
            l1: Dense::zeros(self.l1.bias),
            l2: Dense::zeros(self.l2.bias),
            l3: Dense::zeros(self.l3.bias),
        }
    }
    fn visit_weights_mut<V: WeightVisitor<T>>(&mut self, v: &mut V) -> Result<(), EgdError> {
        v.visit(0, &mut self.l1.w)?;
        v.visit(1, &mut self.l2.w)?;
        v.visit(2, &mut self.l3.w)
    }
}
