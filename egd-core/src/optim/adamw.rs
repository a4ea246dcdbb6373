//! `AdamW` (Loshchilov & Hutter): Adam with decoupled weight decay.

use super::{Base, Direction, check, decays, powi, read_tensors, write_tensors};
use crate::checkpoint::{Reader, State, Writer};
use crate::error::{CheckpointError, EgdError};
use crate::nn::Params;
use crate::scalar::Real;

/// [`AdamW`] hyperparameters. `weight_decay` is decoupled (`W ← W(1 − lr·wd)`);
/// `l2` is an optional coupled L2 term added to the gradient before any
/// transform (default 0). `decay_biases` applies both to biases (default
/// `false`: weights only, the paper's convention).
///
/// `#[non_exhaustive]`: build it from [`Default`] or, in `const` items, from
/// `AdamWConfig::<f32>::DEFAULT` (or `f64`) with the `const` builders.
///
/// ```
/// use egd_core::optim::AdamWConfig;
/// const C: AdamWConfig<f32> = AdamWConfig::<f32>::DEFAULT.with_lr(1e-2).with_weight_decay(0.1);
/// assert_eq!(C, AdamWConfig::default().with_lr(1e-2).with_weight_decay(0.1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct AdamWConfig<T> {
    /// Learning rate (finite, `≥ 0`).
    pub lr: T,
    /// First-moment decay `β1 ∈ [0, 1)`.
    pub beta1: T,
    /// Second-moment decay `β2 ∈ [0, 1)`.
    pub beta2: T,
    /// Denominator guard `ε > 0`.
    pub eps: T,
    /// Decoupled weight decay (finite, `≥ 0`).
    pub weight_decay: T,
    /// Coupled L2 coefficient (finite, `≥ 0`).
    pub l2: T,
    /// Apply weight decay to biases too.
    pub decay_biases: bool,
}

impl<T: Real> Default for AdamWConfig<T> {
    /// `PyTorch`'s defaults: `lr = 1e-3`, `β = (0.9, 0.999)`, `ε = 1e-8`, `wd = 0.01`.
    fn default() -> Self {
        Self {
            lr: T::from_f64(1e-3),
            beta1: T::from_f64(0.9),
            beta2: T::from_f64(0.999),
            eps: T::from_f64(1e-8),
            weight_decay: T::from_f64(0.01),
            l2: T::ZERO,
            decay_biases: false,
        }
    }
}

macro_rules! adamw_default_const {
    ($t:ty) => {
        #[allow(trivial_numeric_casts)] // `f64 as f64` in the f64 instance
        impl AdamWConfig<$t> {
            /// [`Default`] as a constant (the same bits), for `const`/`static` items.
            pub const DEFAULT: Self = Self {
                lr: 1e-3_f64 as $t,
                beta1: 0.9_f64 as $t,
                beta2: 0.999_f64 as $t,
                eps: 1e-8_f64 as $t,
                weight_decay: 0.01_f64 as $t,
                l2: 0.0,
                decay_biases: false,
            };
        }
    };
}
adamw_default_const!(f32);
adamw_default_const!(f64);

impl<T: Real> AdamWConfig<T> {
    /// Sets [`lr`](Self::lr).
    #[must_use]
    pub const fn with_lr(mut self, lr: T) -> Self {
        self.lr = lr;
        self
    }

    /// Sets the first-moment decay [`beta1`](Self::beta1).
    #[must_use]
    pub const fn with_beta1(mut self, beta1: T) -> Self {
        self.beta1 = beta1;
        self
    }

    /// Sets the second-moment decay [`beta2`](Self::beta2).
    #[must_use]
    pub const fn with_beta2(mut self, beta2: T) -> Self {
        self.beta2 = beta2;
        self
    }

    /// Sets [`eps`](Self::eps).
    #[must_use]
    pub const fn with_eps(mut self, eps: T) -> Self {
        self.eps = eps;
        self
    }

    /// Sets the decoupled [`weight_decay`](Self::weight_decay).
    #[must_use]
    pub const fn with_weight_decay(mut self, weight_decay: T) -> Self {
        self.weight_decay = weight_decay;
        self
    }

    /// Sets the coupled L2 coefficient [`l2`](Self::l2).
    #[must_use]
    pub const fn with_l2(mut self, l2: T) -> Self {
        self.l2 = l2;
        self
    }

    /// Sets [`decay_biases`](Self::decay_biases).
    #[must_use]
    pub const fn with_decay_biases(mut self, decay_biases: bool) -> Self {
        self.decay_biases = decay_biases;
        self
    }

    fn validate(&self) -> Result<(), EgdError> {
        let nonneg = |x: T| x.is_finite() && x >= T::ZERO;
        check(nonneg(self.lr), "lr", "finite and >= 0")?;
        check(
            nonneg(self.beta1) && self.beta1 < T::ONE,
            "beta1",
            "in [0, 1)",
        )?;
        check(
            nonneg(self.beta2) && self.beta2 < T::ONE,
            "beta2",
            "in [0, 1)",
        )?;
        check(
            self.eps.is_finite() && self.eps > T::ZERO,
            "eps",
            "finite and > 0",
        )?;
        check(nonneg(self.weight_decay), "weight_decay", "finite and >= 0")?;
        check(nonneg(self.l2), "l2", "finite and >= 0")
    }
}

/// `AdamW` with bias correction. Per active element, at step `t` (from 1):
///
/// ```text
/// W ← W − lr·wd·W
/// m ← β1 m + (1−β1) g,     v ← β2 v + (1−β2) g²
/// W ← W − (lr / (1−β1ᵗ)) · m / (√v / √(1−β2ᵗ) + ε)
/// ```
///
/// A zero gradient gives a zero step (`m = v = 0`, `0 / ε`).
///
/// # Memory
///
/// [`AdamW::BYTES`] ≈ two network-sized buffers (`m`, `v`) plus the config and
/// the step counter.
///
/// ```
/// use egd_core::nn::Mlp2;
/// use egd_core::optim::{AdamW, AdamWConfig};
/// type Net = Mlp2<f32, 4, 8, 2>;
/// let opt = AdamW::new(AdamWConfig::default(), &Net::zeros(true, true))?;
/// assert_eq!(opt.steps(), 0);
/// assert!(AdamW::<f32, Net>::BYTES >= 2 * Net::BYTES);
/// # Ok::<(), egd_core::EgdError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct AdamW<T, N> {
    /// Hyperparameters (checked on every step).
    pub cfg: AdamWConfig<T>,
    m: N,
    v: N,
    t: u64,
}

impl<T: Real, N: Params<T>> AdamW<T, N> {
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// `AdamW` with zeroed moments shaped like `net`.
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] for a bad config.
    pub fn new(cfg: AdamWConfig<T>, net: &N) -> Result<Self, EgdError> {
        cfg.validate()?;
        Ok(Self {
            cfg,
            m: net.zeros_like(),
            v: net.zeros_like(),
            t: 0,
        })
    }

    /// `AdamW` with the moment buffers `m` and `v`, as a `const fn` (for
    /// `static`/`const` items, e.g. `AdamW::const_new(cfg, Net::zeros(true,
    /// false), Net::zeros(true, false))`): pass zeros for a fresh run (the
    /// step counter starts at 0). The config is checked by every step, not here.
    #[must_use]
    pub const fn const_new(cfg: AdamWConfig<T>, m: N, v: N) -> Self {
        Self { cfg, m, v, t: 0 }
    }

    /// Restarts in place: zeroes both moments and the step counter (no copy
    /// of the buffers is made).
    pub fn reset(&mut self) {
        self.m.fill_zero();
        self.v.fill_zero();
        self.t = 0;
    }

    /// Steps taken so far.
    #[must_use]
    pub fn steps(&self) -> u64 {
        self.t
    }

    /// First-moment estimate `m`.
    pub fn first_moment(&self) -> &N {
        &self.m
    }

    /// Second-moment estimate `v`.
    pub fn second_moment(&self) -> &N {
        &self.v
    }
}

impl<T: Real, N: Params<T>> Base<T, N> for AdamW<T, N> {
    fn l2(&self) -> (T, bool) {
        (self.cfg.l2, self.cfg.decay_biases)
    }

    fn validate(&self) -> Result<(), EgdError> {
        self.cfg.validate()
    }

    fn check(&self, params: &N, dir: &impl Direction<T>) -> Result<(), EgdError> {
        let k = Coefficients::at(&self.cfg, self.t.saturating_add(1));
        for i in 0..N::TENSORS {
            if !params.is_active(i) {
                continue;
            }
            let decay = k.shrink != T::ZERO && decays::<T, N>(i, self.cfg.decay_biases);
            let p = params.tensor(i).iter();
            let (m, v) = (self.m.tensor(i), self.v.tensor(i));
            let mut finite = true;
            for (((&p, g), &m), &v) in p.zip(dir.elements(i)).zip(m).zip(v) {
                let (p, m, v) = k.next(decay, p, m, v, g);
                finite &= p.is_finite() & m.is_finite() & v.is_finite();
            }
            if !finite {
                return Err(EgdError::NonFinite);
            }
        }
        Ok(())
    }

    fn update(&mut self, params: &mut N, grad: &N) {
        self.t = self.t.saturating_add(1);
        let k = Coefficients::at(&self.cfg, self.t);
        for i in 0..N::TENSORS {
            if !params.is_active(i) {
                continue;
            }
            let decay = k.shrink != T::ZERO && decays::<T, N>(i, self.cfg.decay_biases);
            let p = params.tensor_mut(i);
            let g = grad.tensor(i);
            let m = self.m.tensor_mut(i);
            let v = self.v.tensor_mut(i);
            for (((p, &g), m), v) in p.iter_mut().zip(g).zip(m).zip(v) {
                (*p, *m, *v) = k.next(decay, *p, *m, *v, g);
            }
        }
    }
}

/// The per-step scalars of the update at step `t` (from 1).
struct Coefficients<T> {
    beta1: T,
    beta2: T,
    a1: T,
    a2: T,
    eps: T,
    sqrt_bc2: T,
    step: T,
    shrink: T,
}

impl<T: Real> Coefficients<T> {
    fn at(c: &AdamWConfig<T>, t: u64) -> Self {
        let bc1 = T::ONE - powi(c.beta1, t);
        Self {
            beta1: c.beta1,
            beta2: c.beta2,
            a1: T::ONE - c.beta1,
            a2: T::ONE - c.beta2,
            eps: c.eps,
            sqrt_bc2: (T::ONE - powi(c.beta2, t)).sqrt(),
            step: c.lr / bc1,
            shrink: c.lr * c.weight_decay,
        }
    }

    /// One element, `(w, m, v, g) → (w', m', v')` — the single arithmetic
    /// that [`Base::check`] and [`Base::update`] share, so they agree bit for
    /// bit. A non-finite `g` always gives a non-finite `m'` (`1 − β1 > 0`),
    /// so checking the results checks the direction too.
    #[inline(always)]
    fn next(&self, decay: bool, p: T, m: T, v: T, g: T) -> (T, T, T) {
        let p = if decay { p - self.shrink * p } else { p };
        let m = self.beta1 * m + self.a1 * g;
        let v = self.beta2 * v + self.a2 * g * g;
        let denom = v.sqrt() / self.sqrt_bc2 + self.eps;
        (p - self.step * (m / denom), m, v)
    }
}

/// Kind `3`; state: `m` (finite), `v` (finite and `>= 0`) and the step
/// counter `t` (`m` and `v` all zero while `t = 0`).
impl<T: Real, N: Params<T>> State<T> for AdamW<T, N> {
    const KIND: u8 = 3;
    const SCALARS: usize = 2 * N::LEN;
    const WORDS: usize = 1;
    fn write_state(&self, w: &mut Writer<'_>) {
        write_tensors(&self.m, w);
        write_tensors(&self.v, w);
        w.word(self.t);
    }
    fn read_state(&mut self, r: &mut Reader<'_>) {
        read_tensors(&mut self.m, r);
        read_tensors(&mut self.v, r);
        self.t = r.word();
    }
    fn check_state(r: &mut Reader<'_>) -> Result<(), CheckpointError> {
        let mut moments = r.clone();
        r.check_scalars(N::LEN, "AdamW first moment", "finite", T::is_finite)?;
        r.check_scalars(N::LEN, "AdamW second moment", "finite and >= 0", |v: T| {
            v.is_finite() && v >= T::ZERO
        })?;
        if r.word() == 0 {
            moments.check_scalars(
                2 * N::LEN,
                "AdamW moment at step 0",
                "0 (no step taken yet)",
                |x: T| x == T::ZERO,
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::AdamWConfig;

    #[test]
    fn const_default_is_default_bit_for_bit() {
        assert_eq!(AdamWConfig::<f32>::DEFAULT, AdamWConfig::default());
        assert_eq!(AdamWConfig::<f64>::DEFAULT, AdamWConfig::default());
        let bits =
            |c: AdamWConfig<f32>| [c.lr, c.beta1, c.beta2, c.eps, c.weight_decay].map(f32::to_bits);
        assert_eq!(
            bits(AdamWConfig::<f32>::DEFAULT),
            bits(AdamWConfig::default())
        );
    }
}
