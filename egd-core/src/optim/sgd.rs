//! Stochastic gradient descent with momentum, Nesterov and weight decay.

use super::{Base, Direction, check, decays, read_tensors, write_tensors};
use crate::checkpoint::{Reader, State, Writer};
use crate::error::{CheckpointError, EgdError};
use crate::nn::{Empty, Params};
use crate::scalar::Real;

/// [`Sgd`] hyperparameters.
///
/// * `weight_decay` is **L2 in the loss** (the paper's form): the pipeline adds
///   `weight_decay · W` to the gradient *before* any transform (so EGD
///   whitens it too).
/// * `decoupled_weight_decay` shrinks the weights directly,
///   `W ← W − lr · dwd · W`, after the transform and independent of it.
/// * `decay_biases`: whether either decay applies to biases. Default `false`,
///   matching the paper's loss `0.5 · wd · (‖W1‖² + ‖W2‖²)` (weights only).
///
/// Build it with the `const` builders (the struct is `#[non_exhaustive]`:
/// new settings may come, off by default):
///
/// ```
/// use egd_core::optim::SgdConfig;
/// let c = SgdConfig::<f32>::paper();
/// assert_eq!((c.lr, c.weight_decay, c.momentum), (0.7, 1e-4, 0.0));
/// const FIRMWARE: SgdConfig<f32> = SgdConfig::new(0.3).with_weight_decay(1e-4);
/// assert_eq!(FIRMWARE, SgdConfig::paper().with_lr(0.3));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SgdConfig<T> {
    /// Learning rate (finite, `≥ 0`).
    pub lr: T,
    /// Heavy-ball momentum `μ ∈ [0, 1)`; nonzero needs a momentum buffer
    /// ([`Sgd::with_momentum`]).
    pub momentum: T,
    /// Nesterov momentum (needs `momentum > 0`).
    pub nesterov: bool,
    /// Coupled L2 coefficient (finite, `≥ 0`).
    pub weight_decay: T,
    /// Decoupled weight-decay coefficient (finite, `≥ 0`).
    pub decoupled_weight_decay: T,
    /// Apply weight decay to biases too (default `false`).
    pub decay_biases: bool,
}

impl<T: Real> Default for SgdConfig<T> {
    /// `lr = 0.01`, everything else off.
    fn default() -> Self {
        Self::new(T::from_f64(0.01))
    }
}

impl<T: Real> SgdConfig<T> {
    /// Plain SGD at learning rate `lr`: no momentum, no weight decay.
    #[must_use]
    pub const fn new(lr: T) -> Self {
        Self {
            lr,
            momentum: T::ZERO,
            nesterov: false,
            weight_decay: T::ZERO,
            decoupled_weight_decay: T::ZERO,
            decay_biases: false,
        }
    }

    /// Sets [`lr`](Self::lr).
    #[must_use]
    pub const fn with_lr(mut self, lr: T) -> Self {
        self.lr = lr;
        self
    }

    /// Sets [`momentum`](Self::momentum) (nonzero needs [`Sgd::with_momentum`]).
    #[must_use]
    pub const fn with_momentum(mut self, momentum: T) -> Self {
        self.momentum = momentum;
        self
    }

    /// Sets [`nesterov`](Self::nesterov).
    #[must_use]
    pub const fn with_nesterov(mut self, nesterov: bool) -> Self {
        self.nesterov = nesterov;
        self
    }

    /// Sets the coupled L2 coefficient [`weight_decay`](Self::weight_decay).
    #[must_use]
    pub const fn with_weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets [`decoupled_weight_decay`](Self::decoupled_weight_decay).
    #[must_use]
    pub const fn with_decoupled_weight_decay(mut self, decoupled_weight_decay: T) -> Self {
        self.decoupled_weight_decay = decoupled_weight_decay;
        self
    }

    /// Sets [`decay_biases`](Self::decay_biases).
    #[must_use]
    pub const fn with_decay_biases(mut self, decay_biases: bool) -> Self {
        self.decay_biases = decay_biases;
        self
    }

    /// The paper's modular-arithmetic setting: `lr = 0.7`, L2 `1e-4` on the
    /// weights, no momentum.
    #[must_use]
    pub fn paper() -> Self {
        Self {
            lr: T::from_f64(0.7),
            weight_decay: T::from_f64(1e-4),
            ..Self::default()
        }
    }

    fn validate(&self) -> Result<(), EgdError> {
        let nonneg = |x: T| x.is_finite() && x >= T::ZERO;
        check(nonneg(self.lr), "lr", "finite and >= 0")?;
        check(
            nonneg(self.momentum) && self.momentum < T::ONE,
            "momentum",
            "in [0, 1)",
        )?;
        check(
            !self.nesterov || self.momentum > T::ZERO,
            "nesterov",
            "momentum > 0",
        )?;
        check(nonneg(self.weight_decay), "weight_decay", "finite and >= 0")?;
        check(
            nonneg(self.decoupled_weight_decay),
            "decoupled_weight_decay",
            "finite and >= 0",
        )
    }
}

/// SGD. `V` is the momentum buffer: [`Empty`] (no momentum, no state — the
/// paper's optimizer) or the network type itself.
///
/// Per active tensor, with `g` the gradient after L2 and the transform:
///
/// ```text
/// W ← W − lr·dwd·W                     (decoupled decay, if set)
/// v ← μ v + g                          (momentum buffer)
/// d ← g + μ v  (Nesterov)  |  v  |  g  (no momentum)
/// W ← W − lr·d
/// ```
///
/// (`PyTorch`'s SGD with zero dampening; its first step `v = g` is the same as
/// `v = μ·0 + g`.)
///
/// # Memory
///
/// [`Sgd::BYTES`]: the config plus `V` (0 bytes of state without momentum, one
/// network-sized buffer with).
///
/// ```
/// use egd_core::nn::{Empty, Mlp2};
/// use egd_core::optim::{Sgd, SgdConfig};
/// type Net = Mlp2<f32, 4, 8, 2>;
/// assert!(Sgd::<f32, Empty>::BYTES < 32);
/// assert!(Sgd::<f32, Net>::BYTES >= Net::BYTES);
/// let with_mom = SgdConfig::<f32>::default().with_momentum(0.9);
/// assert!(Sgd::new(with_mom).is_err()); // momentum needs a buffer
/// assert!(Sgd::with_momentum(with_mom, &Net::zeros(true, true)).is_ok());
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Sgd<T, V = Empty> {
    /// Hyperparameters (checked on every step).
    pub cfg: SgdConfig<T>,
    velocity: V,
}

impl<T: Real> Sgd<T, Empty> {
    /// SGD without momentum (no state).
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] for a bad config, including a nonzero
    /// momentum (use [`Sgd::with_momentum`]).
    pub fn new(cfg: SgdConfig<T>) -> Result<Self, EgdError> {
        cfg.validate()?;
        check(
            cfg.momentum == T::ZERO,
            "momentum",
            "0 without a momentum buffer (use Sgd::with_momentum)",
        )?;
        Ok(Self::const_new(cfg))
    }

    /// SGD without momentum, as a `const fn` (for `static`/`const` items):
    /// the config is checked by every [`Optimizer::step`](super::Optimizer::step),
    /// not here, so a bad one (a nonzero momentum included) makes the first
    /// step return [`EgdError::InvalidParameter`] with nothing changed.
    ///
    /// ```
    /// use egd_core::optim::{NoTransform, Optimizer, Sgd, SgdConfig};
    /// static OPT: Optimizer<NoTransform, Sgd<f32>> =
    ///     Optimizer::new(NoTransform, Sgd::const_new(SgdConfig::new(0.3)));
    /// assert_eq!(OPT.base.cfg.lr, 0.3);
    /// ```
    #[must_use]
    pub const fn const_new(cfg: SgdConfig<T>) -> Self {
        Self {
            cfg,
            velocity: Empty,
        }
    }
}

impl<T: Real, N: Params<T>> Sgd<T, N> {
    /// SGD with a momentum buffer shaped like `net` (zeroed).
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] for a bad config.
    pub fn with_momentum(cfg: SgdConfig<T>, net: &N) -> Result<Self, EgdError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            velocity: net.zeros_like(),
        })
    }

    /// SGD with the momentum buffer `velocity`, as a `const fn` (for
    /// `static`/`const` items, e.g. `Sgd::const_with_momentum(cfg,
    /// Net::zeros(true, false))`). `velocity` is the initial momentum: pass
    /// zeros for a fresh run. The config is checked by every step, not here.
    #[must_use]
    pub const fn const_with_momentum(cfg: SgdConfig<T>, velocity: N) -> Self {
        Self { cfg, velocity }
    }

    /// Restarts in place: zeroes the momentum buffer (no copy of it is made).
    pub fn reset(&mut self) {
        self.velocity.fill_zero();
    }

    /// The momentum buffer.
    pub fn velocity(&self) -> &N {
        &self.velocity
    }
}

impl<T: Real, V> Sgd<T, V> {
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();
}

impl<T: Real, N: Params<T>, V: Params<T>> Base<T, N> for Sgd<T, V> {
    fn l2(&self) -> (T, bool) {
        (self.cfg.weight_decay, self.cfg.decay_biases)
    }

    fn validate(&self) -> Result<(), EgdError> {
        self.cfg.validate()?;
        check(
            V::TENSORS != 0 || self.cfg.momentum == T::ZERO,
            "momentum",
            "0 without a momentum buffer",
        )
    }

    fn check(&self, params: &N, dir: &impl Direction<T>) -> Result<(), EgdError> {
        Self::shape_check::<N>();
        let c = &self.cfg;
        let shrink = c.lr * c.decoupled_weight_decay;
        for i in 0..N::TENSORS {
            if !params.is_active(i) {
                continue;
            }
            let decay = shrink != T::ZERO && decays::<T, N>(i, c.decay_biases);
            let p = params.tensor(i).iter();
            let mut finite = true;
            if V::TENSORS == 0 {
                for (&p, g) in p.zip(dir.elements(i)) {
                    let (p, _) = next(c, shrink, decay, false, p, T::ZERO, g);
                    finite &= p.is_finite();
                }
            } else {
                let v = self.velocity.tensor(i);
                for ((&p, g), &v) in p.zip(dir.elements(i)).zip(v) {
                    let (p, v) = next(c, shrink, decay, true, p, v, g);
                    finite &= p.is_finite() & v.is_finite();
                }
            }
            if !finite {
                return Err(EgdError::NonFinite);
            }
        }
        Ok(())
    }

    fn update(&mut self, params: &mut N, grad: &N) {
        Self::shape_check::<N>();
        let c = &self.cfg;
        let shrink = c.lr * c.decoupled_weight_decay;
        for i in 0..N::TENSORS {
            if !params.is_active(i) {
                continue;
            }
            let decay = shrink != T::ZERO && decays::<T, N>(i, c.decay_biases);
            let p = params.tensor_mut(i);
            let g = grad.tensor(i);
            if V::TENSORS == 0 {
                for (p, &g) in p.iter_mut().zip(g) {
                    (*p, _) = next(c, shrink, decay, false, *p, T::ZERO, g);
                }
            } else {
                let v = self.velocity.tensor_mut(i);
                for ((p, &g), v) in p.iter_mut().zip(g).zip(v) {
                    (*p, *v) = next(c, shrink, decay, true, *p, *v, g);
                }
            }
        }
    }
}

impl<T: Real, V: Params<T>> Sgd<T, V> {
    fn shape_check<N: Params<T>>() {
        const {
            assert!(
                V::TENSORS == 0 || (V::TENSORS == N::TENSORS && V::LEN == N::LEN),
                "momentum buffer shape"
            );
        }
    }
}

/// One element of the update, `(w, v, g) → (w', v')` — the single arithmetic
/// that [`Base::check`] and [`Base::update`] share, so they agree bit for bit.
///
/// A non-finite `g` always gives a non-finite result, so checking the results
/// checks the direction too: `w'` takes `lr·g` (or `lr·d`, `d` containing
/// `g`), and `lr·∞` is `∞` for `lr > 0` and NaN for `lr = 0`; `v' = μv + g`.
#[inline(always)]
fn next<T: Real>(
    c: &SgdConfig<T>,
    shrink: T,
    decay: bool,
    momentum: bool,
    p: T,
    v: T,
    g: T,
) -> (T, T) {
    let p = if decay { p - shrink * p } else { p };
    if momentum {
        let v = c.momentum * v + g;
        let d = if c.nesterov { g + c.momentum * v } else { v };
        (p - c.lr * d, v)
    } else {
        (p - c.lr * g, v)
    }
}

/// Kind `1` (no momentum) or `2` (momentum); state: the momentum buffer, every
/// value finite.
impl<T: Real, V: Params<T>> State<T> for Sgd<T, V> {
    const KIND: u8 = if V::TENSORS == 0 { 1 } else { 2 };
    const SCALARS: usize = V::LEN;
    const WORDS: usize = 0;
    fn write_state(&self, w: &mut Writer<'_>) {
        write_tensors(&self.velocity, w);
    }
    fn read_state(&mut self, r: &mut Reader<'_>) {
        read_tensors(&mut self.velocity, r);
    }
    fn check_state(r: &mut Reader<'_>) -> Result<(), CheckpointError> {
        r.check_scalars(V::LEN, "SGD momentum", "finite", T::is_finite)
    }
}
