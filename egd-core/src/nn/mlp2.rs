//! [`Mlp2`], the two-layer `ReLU` perceptron: its activation scratch, the
//! per-sample forward/backward pass (the path firmware uses), the shared
//! batch loop, and its [`Params`] view. The desktop block path lives in
//! [`blocked`].

use super::batch::{BatchStats, EMPTY_BATCH, batch_methods};
use super::dense::{Dense, Input, relu, relu_backward};
use super::loss::Loss;
use super::params::Params;
use crate::error::EgdError;
use crate::rng::Init;
use crate::scalar::Real;
use rand_core::Rng;

mod blocked;
mod kernels;

pub use blocked::Mlp2BlockScratch;

/// Activation scratch for [`Mlp2`]: `O(HIDDEN + OUT)` scalars, owned by the
/// caller and reused across samples.
#[derive(Clone, Debug, PartialEq)]
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
#[derive(Debug, PartialEq)]
pub struct Mlp2<T, const IN: usize, const HIDDEN: usize, const OUT: usize> {
    /// First layer, `HIDDEN × IN`.
    pub l1: Dense<T, IN, HIDDEN>,
    /// Output layer, `OUT × HIDDEN`.
    pub l2: Dense<T, HIDDEN, OUT>,
}

/// Not `Copy` (the paper's model is 783 KB): copies are explicit, and
/// [`Clone::clone_from`] copies in place, without a temporary.
impl<T: Clone, const IN: usize, const HIDDEN: usize, const OUT: usize> Clone
    for Mlp2<T, IN, HIDDEN, OUT>
{
    fn clone(&self) -> Self {
        Self {
            l1: self.l1.clone(),
            l2: self.l2.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.l1.clone_from(&source.l1);
        self.l2.clone_from(&source.l2);
    }
}

/// All zeros, biases switched off: every byte is zero, so a `static` lands
/// in `.bss`, and `Box::<Mlp2<…>>::default()` writes the zeros straight into
/// the allocation. Switch biases on in place with [`Mlp2::reset`].
impl<T: Real, const IN: usize, const HIDDEN: usize, const OUT: usize> Default
    for Mlp2<T, IN, HIDDEN, OUT>
{
    fn default() -> Self {
        Self::zeros(false, false)
    }
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

    /// In place, what [`Mlp2::zeros`] builds by value: every scalar zero and
    /// the biases switched as given. For networks that live in a `static` or
    /// a `Box` (`Box::<Mlp2<…>>::default()`, then `reset`), so that a
    /// network-sized value is never built on the stack.
    ///
    /// ```
    /// use egd_core::nn::{Mlp2, Params};
    /// let mut net = Box::<Mlp2<f32, 254, 512, 127>>::default(); // 783 KB, on the heap
    /// net.reset(true, false);
    /// assert!(net.is_active(1) && !net.is_active(3));
    /// ```
    pub fn reset(&mut self, hidden_bias: bool, out_bias: bool) {
        self.fill_zero();
        self.l1.bias = hidden_bias;
        self.l2.bias = out_bias;
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
    /// [`EgdError::InvalidParameter`] for an invalid sparse input, found
    /// before anything is written: `scratch` is untouched on error.
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
    /// As [`Loss::loss_grad`] and [`Input::validate`]. On error `grad` is
    /// untouched (it is written only after the loss succeeded); `scratch`
    /// is untouched for an invalid input and unspecified otherwise.
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
}

crate::dense_params!(
    /// Tensors: `0 l1.weight`, `1 l1.bias`, `2 l2.weight`, `3 l2.bias`.
    impl[T: Real, const IN: usize, const HIDDEN: usize, const OUT: usize] Params<T> for Mlp2<T, IN, HIDDEN, OUT> { l1, l2 }
);
