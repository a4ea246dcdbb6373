//! Grokfast-EMA (Lee et al. 2024): amplify the slow component of the gradient.

use super::{StepInfo, Transform, check, read_tensors, write_tensors};
use crate::checkpoint::{Reader, State, Writer};
use crate::error::EgdError;
use crate::nn::Params;
use crate::scalar::Real;

/// [`Grokfast`] hyperparameters; defaults `α = 0.98`, `λ = 2` (the paper's).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GrokfastConfig<T> {
    /// EMA decay `α ∈ [0, 1]`.
    pub alpha: T,
    /// Amplification `λ` (finite).
    pub lambda: T,
}

impl<T: Real> Default for GrokfastConfig<T> {
    fn default() -> Self {
        Self {
            alpha: T::from_f64(0.98),
            lambda: T::TWO,
        }
    }
}

/// The Grokfast-EMA filter as a gradient transform, on every active tensor:
///
/// ```text
/// μ ← g                      (first step: μ starts AT the first gradient)
/// μ ← α μ + (1 − α) g        (later steps)
/// g ← g + λ μ
/// ```
///
/// Compose it with [`Sgd`](super::Sgd) or [`AdamW`](super::AdamW) through
/// [`Optimizer`](super::Optimizer). It sees the gradient after the coupled L2
/// term (use `AdamW`'s decoupled decay to keep decay out of the filter).
///
/// # Memory
///
/// [`Grokfast::BYTES`] ≈ one network-sized buffer (`μ`).
#[derive(Clone, Debug, PartialEq)]
pub struct Grokfast<T, N> {
    /// Hyperparameters.
    pub cfg: GrokfastConfig<T>,
    mu: N,
    started: bool,
}

impl<T: Real, N: Params<T>> Grokfast<T, N> {
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// A filter with an EMA buffer shaped like `net` (set at the first step).
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] for a bad config.
    pub fn new(cfg: GrokfastConfig<T>, net: &N) -> Result<Self, EgdError> {
        let f = Self {
            cfg,
            mu: net.zeros_like(),
            started: false,
        };
        Transform::<T, N>::validate(&f)?;
        Ok(f)
    }

    /// The EMA `μ` (all zeros before the first step).
    pub fn ema(&self) -> &N {
        &self.mu
    }

    /// Whether `μ` has been set by a first step.
    #[must_use]
    pub fn started(&self) -> bool {
        self.started
    }
}

impl<T: Real, N: Params<T>> Transform<T, N> for Grokfast<T, N> {
    fn validate(&self) -> Result<(), EgdError> {
        let a = self.cfg.alpha;
        check(
            a.is_finite() && a >= T::ZERO && a <= T::ONE,
            "alpha",
            "in [0, 1]",
        )?;
        check(self.cfg.lambda.is_finite(), "lambda", "finite")
    }

    fn apply(&mut self, grad: &mut N, info: &mut StepInfo) -> Result<(), EgdError> {
        let GrokfastConfig { alpha, lambda } = self.cfg;
        let beta = T::ONE - alpha;
        for i in 0..N::TENSORS {
            let g = grad.tensor_mut(i);
            let mu = self.mu.tensor_mut(i);
            for (g, mu) in g.iter_mut().zip(mu) {
                *mu = if self.started {
                    alpha * *mu + beta * *g
                } else {
                    *g
                };
                *g += lambda * *mu;
            }
        }
        self.started = true;
        info.transformed = true;
        Ok(())
    }
}

/// Transform kind `3`; state: `μ` and the started flag.
impl<T: Real, N: Params<T>> State<T> for Grokfast<T, N> {
    const KIND: u8 = 3;
    const SCALARS: usize = N::LEN;
    const WORDS: usize = 1;
    fn write_state(&self, w: &mut Writer<'_>) {
        write_tensors(&self.mu, w);
        w.word(u64::from(self.started));
    }
    fn read_state(&mut self, r: &mut Reader<'_>) {
        read_tensors(&mut self.mu, r);
        self.started = r.word() != 0;
    }
}
