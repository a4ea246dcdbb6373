//! The desktop block path of [`Mlp2`]: [`Mlp2BlockScratch`] and
//! [`Mlp2::batch_grad_blocked`] / [`Mlp2::evaluate_blocked`], which push `B`
//! samples at a time through transposed weight copies (the kernels are in
//! [`kernels`](super::kernels)).

use super::Mlp2;
use super::kernels::{
    DOT_LANES, RowCombination, RowUpdate, active_masks, add_into, dots, for_each_tile, transpose,
};
use crate::error::EgdError;
use crate::nn::batch::{BatchStats, EMPTY_BATCH};
use crate::nn::dense::{Input, relu};
use crate::nn::loss::Loss;
use crate::scalar::Real;

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
/// ([`MultiHot`](crate::nn::MultiHot), see [`Input::sparse_indices`]) input reads
/// its rows of `W1ᵀ` and adds to its rows of the transposed `W1` gradient
/// (two contiguous rows instead of two strided columns for a two-hot input)
/// when `IN ≤ 2·OUT`, as in the modular models; larger sparse inputs and
/// dense inputs use `W1` as it is. `B = 8` suits desktop CPUs (16 is a few
/// per cent faster); on a microcontroller the extra `HIDDEN × OUT` matrices
/// usually do not fit, so use [`Mlp2Scratch`](crate::nn::Mlp2Scratch) there.
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
/// `Mlp2BlockScratch<f32, 512, 127, 8>` (see the [module docs](crate::nn)).
#[derive(Clone, Debug, PartialEq)]
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

impl<T: Real, const IN: usize, const HIDDEN: usize, const OUT: usize> Mlp2<T, IN, HIDDEN, OUT> {
    /// Whether sparse inputs may use the transposed layer 1: `W1ᵀ` fits in
    /// [`Mlp2BlockScratch`] (`IN ≤ 2·OUT`).
    const SPARSE_T: bool = IN.div_ceil(2) <= OUT;

    /// Layer 1 and `ReLU` for one sample into `h`, from `W1ᵀ` (flat, `IN`
    /// rows of `HIDDEN`) for a sparse input when given: the same sums in the
    /// same order as [`Dense::forward`](crate::nn::Dense::forward).
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
    /// As [`Self::batch_grad`]. On `Err` the weights (`self`) are untouched,
    /// and for an empty batch so are `grad` and `s`. Otherwise `grad` and
    /// `s` are unspecified: `grad` doubles as the `W1ᵀ` buffer, so it may
    /// hold transposed weights rather than a partial sum.
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
    /// As [`Self::evaluate`]: on `Err` only `s` has been written
    /// (unspecified); the weights are untouched.
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
