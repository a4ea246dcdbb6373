//! Two- and three-layer `ReLU` perceptrons with per-sample gradient accumulation.

use super::dense::{Dense, Input, relu, relu_backward};
use super::loss::Loss;
use super::params::{Kind, Params, TensorInfo, WeightVisitor};
use crate::error::EgdError;
use crate::matrix::{axpy, dot};
use crate::rng::Init;
use crate::scalar::Real;
use rand_core::Rng;

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
/// [`Mlp2::evaluate_blocked`]: a transposed copy of `W2`, its gradient in the
/// same layout, and the activations of `B` samples at a time.
///
/// With `W2ᵀ` stored by hidden unit, the output layer only touches the rows
/// of active (`ReLU > 0`) hidden units, for the forward pass, the backward
/// pass and the weight gradient alike: about half the work of the dense
/// per-sample path, in contiguous `axpy`/`dot` kernels, and each row of `W2ᵀ`
/// is read once per block of `B` samples. The result is deterministic but
/// not bit-identical to [`Mlp2::batch_grad`] (sums run in another order);
/// they agree to rounding. `B = 8` suits desktop CPUs; on a microcontroller
/// the two extra `HIDDEN × OUT` matrices usually do not fit, so use
/// [`Mlp2Scratch`] there.
///
/// # Memory
///
/// [`Mlp2BlockScratch::BYTES`] `= (2·HIDDEN·OUT + B·(2·HIDDEN + 2·OUT))·size_of::<T>()`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Mlp2BlockScratch<T, const HIDDEN: usize, const OUT: usize, const B: usize> {
    hidden: [[T; HIDDEN]; B],
    out: [[T; OUT]; B],
    d_out: [[T; OUT]; B],
    d_hidden: [[T; HIDDEN]; B],
    w2t: [[T; OUT]; HIDDEN],
    g2t: [[T; OUT]; HIDDEN],
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
        Self {
            hidden: [[T::ZERO; HIDDEN]; B],
            out: [[T::ZERO; OUT]; B],
            d_out: [[T::ZERO; OUT]; B],
            d_hidden: [[T::ZERO; HIDDEN]; B],
            w2t: [[T::ZERO; OUT]; HIDDEN],
            g2t: [[T::ZERO; OUT]; HIDDEN],
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

    /// Layer 1 and `ReLU` for one sample into `h`, then nothing else.
    fn hidden_into<X: Input<T, IN> + ?Sized>(
        &self,
        x: &X,
        h: &mut [T; HIDDEN],
    ) -> Result<(), EgdError> {
        self.l1.forward(x, h)?;
        relu(h);
        Ok(())
    }

    /// `W2ᵀ` into the scratch (once per call of a fast path).
    fn load_w2t<const B: usize>(&self, s: &mut Mlp2BlockScratch<T, HIDDEN, OUT, B>) {
        for (o, row) in self.l2.w.rows().iter().enumerate() {
            for (t, &v) in s.w2t.iter_mut().zip(row) {
                t[o] = v;
            }
        }
    }

    /// Output layer for the first `n` samples of a block, from `W2ᵀ`: each
    /// active hidden unit adds its row, read once per block.
    fn out_block<const B: usize>(&self, s: &mut Mlp2BlockScratch<T, HIDDEN, OUT, B>, n: usize) {
        for os in &mut s.out[..n] {
            if self.l2.bias {
                os.copy_from_slice(&self.l2.b);
            } else {
                os.fill(T::ZERO);
            }
        }
        for (jj, row) in s.w2t.iter().enumerate() {
            for (hs, os) in s.hidden[..n].iter().zip(s.out.iter_mut()) {
                let a = hs[jj];
                if a > T::ZERO {
                    axpy(a, row, os);
                }
            }
        }
    }

    /// [`Self::batch_grad`] on the fast path (see [`Mlp2BlockScratch`]):
    /// same mean gradient up to rounding, deterministic, about twice as fast
    /// for wide hidden layers.
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
    /// As [`Self::batch_grad`].
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
        let mut iter = batch.into_iter();
        let total = iter.len();
        if total == 0 {
            return Err(EMPTY_BATCH);
        }
        grad.fill_zero();
        grad.set_biases_like(self);
        self.load_w2t(s);
        for row in &mut s.g2t {
            row.fill(T::ZERO);
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
            let mut n = 0;
            while n < B {
                let Some((x, t)) = iter.next() else { break };
                self.hidden_into(&x, &mut s.hidden[n])?;
                items[n] = Some((x, t));
                n += 1;
            }
            if n == 0 {
                break;
            }
            self.out_block(s, n);
            for ((item, os), ds) in items[..n].iter().zip(&s.out).zip(s.d_out.iter_mut()) {
                if let Some((_, t)) = item {
                    sum += loss.loss_grad(os, *t, scale, ds)?;
                    stats.correct += usize::from(loss.correct(os, *t));
                    stats.samples += 1;
                }
            }
            if self.l2.bias {
                for ds in &s.d_out[..n] {
                    for (gb, &d) in grad.l2.b.iter_mut().zip(ds) {
                        *gb += d;
                    }
                }
            }
            // Active hidden units only: d_hidden = (W2ᵀ δ) ⊙ [h > 0] and
            // dW2ᵀ += h δᵀ, one pass over the rows of W2ᵀ per block.
            for dh in &mut s.d_hidden[..n] {
                dh.fill(T::ZERO);
            }
            for (jj, (row, grow)) in s.w2t.iter().zip(s.g2t.iter_mut()).enumerate() {
                for ((hs, ds), dh) in s.hidden[..n]
                    .iter()
                    .zip(&s.d_out)
                    .zip(s.d_hidden.iter_mut())
                {
                    let a = hs[jj];
                    if a > T::ZERO {
                        dh[jj] = dot(row, ds);
                        axpy(a, ds, grow);
                    }
                }
            }
            for (item, dh) in items[..n].iter_mut().zip(&s.d_hidden) {
                if let Some((x, _)) = item.take() {
                    self.l1.accumulate_grad(&x, dh, &mut grad.l1);
                }
            }
        }
        for (o, grow) in grad.l2.w.rows_mut().iter_mut().enumerate() {
            for (g, t) in grow.iter_mut().zip(&s.g2t) {
                *g = t[o];
            }
        }
        stats.loss = sum / T::from_usize(stats.samples.max(1));
        if stats.loss.is_finite() {
            Ok(stats)
        } else {
            Err(EgdError::NonFinite)
        }
    }

    /// [`Self::evaluate`] on the fast path (see [`Mlp2BlockScratch`]).
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
        let mut iter = data.into_iter();
        let mut sum = T::ZERO;
        let mut stats = BatchStats {
            loss: T::ZERO,
            correct: 0,
            samples: 0,
        };
        let mut targets: [Option<L::Target>; B] = [None; B];
        loop {
            let mut n = 0;
            while n < B {
                let Some((x, t)) = iter.next() else { break };
                self.hidden_into(&x, &mut s.hidden[n])?;
                targets[n] = Some(t);
                n += 1;
            }
            if n == 0 {
                break;
            }
            self.out_block(s, n);
            for (t, os) in targets[..n].iter().zip(&s.out) {
                if let Some(t) = *t {
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
