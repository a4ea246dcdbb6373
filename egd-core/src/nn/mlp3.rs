//! [`Mlp3`], the three-layer `ReLU` perceptron: its activation scratch, the
//! per-sample forward/backward pass, the shared batch loop, and its
//! [`Params`] view.

use super::batch::{BatchStats, EMPTY_BATCH, batch_methods};
use super::dense::{Dense, Input, relu, relu_backward};
use super::loss::Loss;
use super::params::Params;
use crate::error::EgdError;
use crate::rng::Init;
use crate::scalar::Real;
use rand_core::Rng;

/// A three-layer perceptron `IN → H1 → H2 → OUT` with `ReLU` after both hidden
/// layers. Same conventions as [`Mlp2`](super::Mlp2).
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
#[derive(Debug, PartialEq)]
pub struct Mlp3<T, const IN: usize, const H1: usize, const H2: usize, const OUT: usize> {
    /// First layer, `H1 × IN`.
    pub l1: Dense<T, IN, H1>,
    /// Second layer, `H2 × H1`.
    pub l2: Dense<T, H1, H2>,
    /// Output layer, `OUT × H2`.
    pub l3: Dense<T, H2, OUT>,
}

/// Not `Copy`: copies are explicit, and [`Clone::clone_from`] copies in
/// place, without a temporary.
impl<T: Clone, const IN: usize, const H1: usize, const H2: usize, const OUT: usize> Clone
    for Mlp3<T, IN, H1, H2, OUT>
{
    fn clone(&self) -> Self {
        Self {
            l1: self.l1.clone(),
            l2: self.l2.clone(),
            l3: self.l3.clone(),
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.l1.clone_from(&source.l1);
        self.l2.clone_from(&source.l2);
        self.l3.clone_from(&source.l3);
    }
}

/// All zeros, biases switched off: every byte is zero (a `static` lands in
/// `.bss`).
impl<T: Real, const IN: usize, const H1: usize, const H2: usize, const OUT: usize> Default
    for Mlp3<T, IN, H1, H2, OUT>
{
    fn default() -> Self {
        Self::zeros(false, false)
    }
}

/// Activation scratch for [`Mlp3`]: `O(H1 + H2 + OUT)` scalars.
#[derive(Clone, Debug, PartialEq)]
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
    /// [`EgdError::InvalidParameter`] for an invalid sparse input, found
    /// before anything is written: `scratch` is untouched on error.
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

crate::dense_params!(
    /// Tensors: `0 l1.weight`, `1 l1.bias`, `2 l2.weight`, `3 l2.bias`, `4 l3.weight`, `5 l3.bias`.
    impl[T: Real, const IN: usize, const H1: usize, const H2: usize, const OUT: usize] Params<T> for Mlp3<T, IN, H1, H2, OUT> { l1, l2, l3 }
);
