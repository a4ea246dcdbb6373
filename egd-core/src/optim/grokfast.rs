//! Grokfast-EMA (Lee et al. 2024): amplify the slow component of the gradient.

use super::{Direction, StepInfo, Transform, check, read_tensors, write_tensors};
use crate::checkpoint::{Reader, State, Writer};
use crate::error::{CheckpointError, EgdError};
use crate::nn::Params;
use crate::scalar::Real;

/// [`Grokfast`] hyperparameters; defaults `α = 0.98`, `λ = 2` (the paper's).
///
/// `#[non_exhaustive]`: build it with [`GrokfastConfig::new`] (a `const fn`)
/// or from [`Default`].
///
/// ```
/// use egd_core::optim::GrokfastConfig;
/// const C: GrokfastConfig<f32> = GrokfastConfig::new(0.98, 2.0);
/// assert_eq!(C, GrokfastConfig::default());
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct GrokfastConfig<T> {
    /// EMA decay `α ∈ [0, 1]`.
    pub alpha: T,
    /// Amplification `λ` (finite).
    pub lambda: T,
}

impl<T: Real> Default for GrokfastConfig<T> {
    fn default() -> Self {
        Self::new(T::from_f64(0.98), T::TWO)
    }
}

impl<T: Real> GrokfastConfig<T> {
    /// EMA decay `alpha` and amplification `lambda`.
    #[must_use]
    pub const fn new(alpha: T, lambda: T) -> Self {
        Self { alpha, lambda }
    }

    /// Sets [`alpha`](Self::alpha).
    #[must_use]
    pub const fn with_alpha(mut self, alpha: T) -> Self {
        self.alpha = alpha;
        self
    }

    /// Sets [`lambda`](Self::lambda).
    #[must_use]
    pub const fn with_lambda(mut self, lambda: T) -> Self {
        self.lambda = lambda;
        self
    }
}

/// The Grokfast-EMA filter as a gradient transform, on every active tensor
/// (a disabled bias is skipped; its `μ` stays zero):
///
/// ```text
/// μ ← g                      (first step: μ starts AT the first gradient)
/// μ ← α μ + (1 − α) g        (later steps)
/// g ← g + λ μ
/// ```
///
/// In a step, [`Transform::apply`] checks that the new `μ` is finite and
/// writes nothing; the base optimizer checks its update along the filtered
/// gradient, computed on the fly; only then does [`Transform::commit`] write
/// `μ` and the filtered gradient. A failed step leaves `μ` and the started
/// flag as they were.
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

    /// A filter with the EMA buffer `mu`, as a `const fn` (for
    /// `static`/`const` items, e.g. `Grokfast::const_new(cfg, Net::zeros(true,
    /// false))`). `mu` must be zeros (it is set at the first step) and carry
    /// the network's bias switches: a disabled bias of `mu` is skipped. The
    /// config is checked by every step, not here.
    #[must_use]
    pub const fn const_new(cfg: GrokfastConfig<T>, mu: N) -> Self {
        Self {
            cfg,
            mu,
            started: false,
        }
    }

    /// Restarts in place: zeroes `μ` and clears the started flag (no copy of
    /// the buffer is made).
    pub fn reset(&mut self) {
        self.mu.fill_zero();
        self.started = false;
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
        for i in 0..N::TENSORS {
            if !self.mu.is_active(i) {
                continue;
            }
            let mut finite = true;
            for (&g, &mu) in grad.tensor(i).iter().zip(self.mu.tensor(i)) {
                let (mu, g) = self.next(g, mu);
                finite &= mu.is_finite() & g.is_finite();
            }
            if !finite {
                return Err(EgdError::NonFinite);
            }
        }
        info.transformed = true;
        Ok(())
    }

    fn direction<'a>(&'a self, grad: &'a N) -> impl Direction<T> + 'a {
        Filtered { f: self, grad }
    }

    fn commit(&mut self, grad: &mut N, _: &StepInfo) {
        for i in 0..N::TENSORS {
            if !self.mu.is_active(i) {
                continue;
            }
            let (cfg, started) = (self.cfg, self.started);
            for (g, mu) in grad.tensor_mut(i).iter_mut().zip(self.mu.tensor_mut(i)) {
                (*mu, *g) = next(cfg, started, *g, *mu);
            }
        }
        self.started = true;
    }
}

impl<T: Real, N: Params<T>> Grokfast<T, N> {
    #[inline(always)]
    fn next(&self, g: T, mu: T) -> (T, T) {
        next(self.cfg, self.started, g, mu)
    }
}

/// One element, `(g, μ) → (μ', g')` — the single arithmetic that the check,
/// the filtered direction and the commit share, so they agree bit for bit.
#[inline(always)]
fn next<T: Real>(cfg: GrokfastConfig<T>, started: bool, g: T, mu: T) -> (T, T) {
    let mu = if started {
        cfg.alpha * mu + (T::ONE - cfg.alpha) * g
    } else {
        g
    };
    (mu, g + cfg.lambda * mu)
}

/// The filtered gradient before it is written out.
struct Filtered<'a, T, N> {
    f: &'a Grokfast<T, N>,
    grad: &'a N,
}

impl<T: Real, N: Params<T>> Direction<T> for Filtered<'_, T, N> {
    fn elements(&self, i: usize) -> impl Iterator<Item = T> + '_ {
        let active = self.f.mu.is_active(i);
        self.grad
            .tensor(i)
            .iter()
            .zip(self.f.mu.tensor(i))
            .map(move |(&g, &mu)| if active { self.f.next(g, mu).1 } else { g })
    }
}

/// Transform kind `3`; state: `μ` (finite) and the started flag (`0` or `1`;
/// `μ` all zero while `0`).
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
    fn check_state(r: &mut Reader<'_>) -> Result<(), CheckpointError> {
        let mut ema = r.clone();
        r.check_scalars(N::LEN, "Grokfast EMA", "finite", T::is_finite)?;
        if !r.check_flag("Grokfast started flag")? {
            ema.check_scalars(N::LEN, "Grokfast EMA before the first step", "0", |x: T| {
                x == T::ZERO
            })?;
        }
        Ok(())
    }
}
