//! Optimizers as a pipeline: gradient → + L2 → transform → base update.
//!
//! [`Optimizer::step`] runs, in this order:
//!
//! 1. **L2**: `g += wd · W` for every weight matrix (and bias, if the base
//!    optimizer's `decay_biases` is set) — the paper's
//!    `0.5 · wd · (‖W1‖² + ‖W2‖²)` term, which is part of the gradient
//!    *before* whitening.
//! 2. **Validate**: any NaN/∞ in the gradient of an active tensor →
//!    `Err(NonFinite)`. (With [`NoTransform`] this scan is left to step 4,
//!    which reads the same gradient.)
//! 3. **Transform** ([`Transform::apply`]): [`Egd`] (the polar direction of
//!    selected weight matrices), [`ColumnNorm`] (the paper's column-norm
//!    baseline), [`Grokfast`] (EMA gradient filter) or [`NoTransform`]. It
//!    computes the step's direction but does not yet change its own state.
//! 4. **Check** ([`Base::check`]): the base optimizer computes every value
//!    the update would write — new weights, new momentum or moments — without
//!    writing any, and returns `Err(NonFinite)` if one is NaN or infinite (a
//!    huge learning rate, a momentum near the float limit, a direction that
//!    overflowed).
//! 5. **Commit** ([`Transform::commit`], then [`Base::update`]): the
//!    transform writes its new state, the base optimizer recomputes the same
//!    values with the same operations — hence the same bits, all finite — and
//!    writes them.
//!
//! # Error contract
//!
//! On every `Err` — a bad configuration, a non-finite gradient, EGD's SVD not
//! converging, or an update that would not be finite — the weights and all
//! optimizer state (momentum, moments, step counter, Grokfast's EMA and
//! started flag, EGD's switch-off flag and [`Egd::last_info`]) are
//! bit-for-bit unchanged. A step that returns `Ok` has written only finite
//! values. Together with [`checkpoint::restore`](crate::checkpoint::restore),
//! which refuses non-finite or out-of-domain state, no sequence of calls puts a
//! NaN or an infinity into the weights. Not covered: EGD's warm-start rotation
//! ([`PolarConfig::warm_start`](crate::polar::PolarConfig::warm_start)) is
//! scratch, not state, and may have moved on a failed step.
//!
//! The gradient buffer is the caller's scratch: after `step` (`Ok` or `Err`)
//! it holds the transformed gradient or partial work, and the next
//! `batch_grad` overwrites it.
//!
//! The check costs one extra read-only pass over the weights, the direction
//! and the base optimizer's state (with [`NoTransform`] it replaces the
//! gradient scan of step 2); no copy of the weights is made. The `step` bench
//! (`cargo bench -p egd-bench --bench step`) and the firmware's instruction
//! counts measure it.
//!
//! Everything is generic over [`Params`], so one optimizer works for
//! [`Mlp2`](crate::nn::Mlp2), [`Mlp3`](crate::nn::Mlp3) and
//! [`Dense`](crate::nn::Dense). Optimizer state mirrors the parameters (a
//! momentum buffer is a network-shaped buffer); every type states its size as
//! a `BYTES` constant.
//!
//! ```
//! use egd_core::nn::{CrossEntropy, Mlp2, Mlp2Scratch, MultiHot};
//! use egd_core::optim::{AdamW, AdamWConfig, Grokfast, GrokfastConfig, Optimizer};
//! use egd_core::rng::SplitMix64;
//!
//! let mut net = Mlp2::<f32, 6, 16, 3>::zeros(true, false);
//! net.init_he(&mut SplitMix64::new(3));
//! let mut grad = net.zeros_like();
//! let mut s = Mlp2Scratch::new();
//! let mut opt = Optimizer::new(
//!     Grokfast::new(GrokfastConfig::default(), &net)?,
//!     AdamW::new(AdamWConfig::default().with_lr(1e-2), &net)?,
//! );
//! let batch = [(MultiHot(&[0, 3]), 0), (MultiHot(&[1, 5]), 1), (MultiHot(&[2, 4]), 2)];
//! let first = net.batch_grad(&CrossEntropy, batch, &mut grad, &mut s)?.loss;
//! for _ in 0..50 {
//!     net.batch_grad(&CrossEntropy, batch, &mut grad, &mut s)?;
//!     opt.step(&mut net, &mut grad)?;
//! }
//! assert!(net.evaluate(&CrossEntropy, batch, &mut s)?.loss < first);
//! # Ok::<(), egd_core::EgdError>(())
//! ```

mod adamw;
mod colnorm;
mod egd;
mod grokfast;
mod sgd;

pub use adamw::{AdamW, AdamWConfig};
pub use colnorm::{ColumnNorm, ColumnNormConfig};
pub use egd::{Egd, EgdConfig};
pub use grokfast::{Grokfast, GrokfastConfig};
pub use sgd::{Sgd, SgdConfig};

use crate::checkpoint::{Reader, State, Writer};
use crate::error::{CheckpointError, EgdError};
use crate::matrix::axpy;
use crate::nn::{Kind, Params};
use crate::polar::PolarInfo;
use crate::scalar::Real;

/// Most weight matrices a [`StepInfo`] reports on (layers `0..MAX_LAYERS`).
pub const MAX_LAYERS: usize = 8;

/// Which weight matrices (by layer index, 0 = first layer) a transform acts on.
///
/// ```
/// use egd_core::optim::Layers;
/// assert!(Layers::First.contains(0) && !Layers::First.contains(1));
/// assert!(Layers::Mask(0b101).contains(2) && !Layers::Mask(0b101).contains(1));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Layers {
    /// Only the first layer's weights (the paper's default for MLPs).
    First,
    /// Every weight matrix.
    All,
    /// Bit `l` selects layer `l`.
    Mask(u32),
}

impl Layers {
    /// Whether layer `layer` is selected.
    #[must_use]
    pub const fn contains(self, layer: usize) -> bool {
        match self {
            Self::First => layer == 0,
            Self::All => true,
            Self::Mask(m) => layer < 32 && (m >> layer) & 1 == 1,
        }
    }
}

/// What a step did, for reporting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct StepInfo {
    /// The transform ran (`false` for [`NoTransform`] and for EGD after its switch-off).
    pub transformed: bool,
    /// Per layer: the polar step's sweeps and rank, for layers EGD whitened.
    pub polar: [Option<PolarInfo>; MAX_LAYERS],
}

/// The direction a base optimizer steps along, tensor by tensor: the
/// transformed gradient, possibly not yet written out ([`Grokfast`] computes
/// it from the gradient and its EMA on the fly until the step commits).
pub trait Direction<T: Real> {
    /// Tensor `i` of the direction, element by element, in the same order as
    /// [`Params::tensor`] (empty when `i` is out of range).
    fn elements(&self, i: usize) -> impl Iterator<Item = T> + '_;
}

/// A direction already written out in a network-shaped buffer.
#[derive(Clone, Copy, Debug)]
pub struct Written<'a, N>(pub &'a N);

impl<T: Real, N: Params<T>> Direction<T> for Written<'_, N> {
    fn elements(&self, i: usize) -> impl Iterator<Item = T> + '_ {
        self.0.tensor(i).iter().copied()
    }
}

/// The last stage: turns a (transformed) gradient into a parameter update.
///
/// Two passes with one arithmetic: [`Base::check`] computes every value
/// [`Base::update`] would write and writes nothing; `update` then computes
/// the same values with the same operations and writes them. An
/// implementation must keep the two bit-identical (share one per-element
/// function), so a passed check proves the update finite.
pub trait Base<T: Real, N: Params<T>>: State<T> {
    /// The coupled L2 coefficient `wd` added to the gradient before any
    /// transform (`g += wd · W`), and whether biases get it too.
    fn l2(&self) -> (T, bool);

    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] naming the bad field.
    fn validate(&self) -> Result<(), EgdError>;

    /// Computes, without writing anything, every value a step along `dir`
    /// would write: new weights of every active tensor and new optimizer
    /// state.
    ///
    /// # Errors
    ///
    /// [`EgdError::NonFinite`] if any of them is NaN or infinite, and
    /// whenever `dir` itself holds a NaN or infinity on an active tensor
    /// (with [`NoTransform`] this is the only finiteness check the gradient
    /// gets). [`Sgd`] and [`AdamW`]
    /// get the latter for free: among the values they check is one affine in
    /// the direction (SGD's new weight, `AdamW`'s first moment) whose
    /// coefficient is nonzero or zero — and `0·∞` is NaN — so a non-finite
    /// direction never yields all-finite results.
    fn check(&self, params: &N, dir: &impl Direction<T>) -> Result<(), EgdError>;

    /// Applies the update. Called only after [`Base::check`] passed on the
    /// same weights and state, with `grad` holding the direction it checked.
    fn update(&mut self, params: &mut N, grad: &N);
}

/// A gradient transform between the L2 term and the base update.
///
/// A step calls [`Transform::apply`], then the base optimizer checks
/// [`Transform::direction`], then [`Transform::commit`] — so a transform with
/// state (Grokfast's EMA) changes it only once the whole step is known to
/// succeed.
pub trait Transform<T: Real, N: Params<T>>: State<T> {
    /// Checks the configuration.
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] naming the bad field.
    fn validate(&self) -> Result<(), EgdError> {
        Ok(())
    }

    /// `true` for a transform whose direction is the gradient itself,
    /// unchanged ([`NoTransform`]): the step then leaves the gradient's
    /// finiteness check to [`Base::check`], which reads it anyway, instead of
    /// scanning it once more before [`Transform::apply`]. A transform whose
    /// `apply` needs a finite gradient (EGD's SVD) must keep the default.
    const IDENTITY: bool = false;

    /// Starts the transform of `grad` (finite when called): a stateless
    /// transform writes its result into `grad`; a stateful one may leave
    /// `grad` as it is and compute the result in [`Transform::direction`].
    /// Changes none of its checkpointed state or [`Egd::last_info`] (scratch,
    /// such as EGD's SVD workspace, may change).
    ///
    /// # Errors
    ///
    /// Transform-specific (EGD: [`EgdError::NotConverged`]; Grokfast:
    /// [`EgdError::NonFinite`] if its EMA would overflow).
    fn apply(&mut self, grad: &mut N, info: &mut StepInfo) -> Result<(), EgdError>;

    /// The direction the base optimizer steps along, given `grad` as
    /// [`Transform::apply`] left it (default: `grad` itself).
    fn direction<'a>(&'a self, grad: &'a N) -> impl Direction<T> + 'a {
        Written(grad)
    }

    /// Writes the transform's new state and leaves the direction in `grad`.
    /// Called only once the base optimizer's check has passed; `info` is
    /// what [`Transform::apply`] reported. Default: nothing to write.
    fn commit(&mut self, grad: &mut N, info: &StepInfo) {
        let _ = (grad, info);
    }
}

/// The identity transform (plain base optimizer).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NoTransform;

impl<T: Real, N: Params<T>> Transform<T, N> for NoTransform {
    const IDENTITY: bool = true;
    fn apply(&mut self, _: &mut N, _: &mut StepInfo) -> Result<(), EgdError> {
        Ok(())
    }
}

impl<T: Real> State<T> for NoTransform {
    const KIND: u8 = 0;
    const SCALARS: usize = 0;
    const WORDS: usize = 0;
    fn write_state(&self, _: &mut Writer<'_>) {}
    fn read_state(&mut self, _: &mut Reader<'_>) {}
    fn check_state(_: &mut Reader<'_>) -> Result<(), CheckpointError> {
        Ok(())
    }
}

/// A transform followed by a base optimizer; see the [module docs](self).
///
/// # Memory
///
/// [`Optimizer::BYTES`] `= size_of::<X>() + size_of::<B>()` (plus padding).
#[derive(Clone, Debug, PartialEq)]
pub struct Optimizer<X, B> {
    /// The gradient transform.
    pub transform: X,
    /// The base optimizer.
    pub base: B,
}

impl<X, B> Optimizer<X, B> {
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// Pairs a transform with a base optimizer.
    pub const fn new(transform: X, base: B) -> Self {
        Self { transform, base }
    }

    /// One optimizer step: `grad` → `+ L2` → check finite → transform →
    /// check the update → commit.
    ///
    /// `grad` must hold the gradient of the loss without the L2 term (as
    /// [`Mlp2::batch_grad`](crate::nn::Mlp2::batch_grad) leaves it); it is
    /// consumed as scratch.
    ///
    /// # Errors
    ///
    /// * [`EgdError::InvalidParameter`] for a bad configuration,
    /// * [`EgdError::NonFinite`] if the gradient (after adding L2) holds NaN/∞,
    ///   or if any value the step would write (weights, momentum, moments,
    ///   Grokfast's EMA) would be NaN/∞,
    /// * [`EgdError::NotConverged`] from EGD's SVD.
    ///
    /// On every error, `params` and all optimizer state (momentum, moments,
    /// step counters, Grokfast's EMA and started flag, EGD's switch-off flag,
    /// step count and [`Egd::last_info`]) are bit-for-bit unchanged. `grad` is
    /// unspecified, `Ok` or `Err`: it is the step's scratch (after `Ok` it
    /// holds the direction the update used, after `Err` partial work, e.g. the
    /// gradient with L2 added or a half-whitened layer). EGD's SVD workspace
    /// is scratch too (with [`warm_start`](crate::polar::PolarConfig::warm_start)
    /// its kept rotation may have moved). On `Ok`, every value written is
    /// finite.
    pub fn step<T: Real, N: Params<T>>(
        &mut self,
        params: &mut N,
        grad: &mut N,
    ) -> Result<StepInfo, EgdError>
    where
        X: Transform<T, N>,
        B: Base<T, N>,
    {
        self.base.validate()?;
        self.transform.validate()?;
        add_l2_and_check(params, grad, self.base.l2(), !X::IDENTITY)?;
        let mut info = StepInfo::default();
        self.transform.apply(grad, &mut info)?;
        self.base.check(params, &self.transform.direction(grad))?;
        self.transform.commit(grad, &info);
        self.base.update(params, grad);
        Ok(info)
    }
}

/// Kind tag: transform in the high nibble, base in the low nibble.
impl<T: Real, X: State<T>, B: State<T>> State<T> for Optimizer<X, B> {
    const KIND: u8 = (X::KIND << 4) | (B::KIND & 0x0F);
    const SCALARS: usize = X::SCALARS + B::SCALARS;
    const WORDS: usize = X::WORDS + B::WORDS;
    fn write_state(&self, w: &mut Writer<'_>) {
        self.transform.write_state(w);
        self.base.write_state(w);
    }
    fn read_state(&mut self, r: &mut Reader<'_>) {
        self.transform.read_state(r);
        self.base.read_state(r);
    }
    fn check_state(r: &mut Reader<'_>) -> Result<(), CheckpointError> {
        X::check_state(r)?;
        B::check_state(r)
    }
}

/// Whether tensor `i` of `N` gets weight decay.
pub(crate) fn decays<T: Real, N: Params<T>>(i: usize, biases_too: bool) -> bool {
    match N::info(i) {
        Some(info) => info.kind == Kind::Weight || biases_too,
        None => false,
    }
}

/// Step 1 and 2 of the pipeline: `g += wd · W` on active tensors, then (if
/// `scan`) a finiteness check of every active gradient tensor.
fn add_l2_and_check<T: Real, N: Params<T>>(
    params: &N,
    grad: &mut N,
    (wd, biases): (T, bool),
    scan: bool,
) -> Result<(), EgdError> {
    for i in 0..N::TENSORS {
        if !params.is_active(i) {
            continue;
        }
        let g = grad.tensor_mut(i);
        if wd != T::ZERO && decays::<T, N>(i, biases) {
            axpy(wd, params.tensor(i), g);
        }
        if scan && !g.iter().all(|x| x.is_finite()) {
            return Err(EgdError::NonFinite);
        }
    }
    Ok(())
}

pub(crate) fn check(ok: bool, name: &'static str, expected: &'static str) -> Result<(), EgdError> {
    if ok {
        Ok(())
    } else {
        Err(EgdError::InvalidParameter { name, expected })
    }
}

/// `x^n` by binary exponentiation (deterministic, `O(log n)` multiplications).
pub(crate) fn powi<T: Real>(x: T, mut n: u64) -> T {
    let (mut base, mut acc) = (x, T::ONE);
    while n > 0 {
        if n & 1 == 1 {
            acc *= base;
        }
        base *= base;
        n >>= 1;
    }
    acc
}

/// Writes every tensor of `p`.
pub(crate) fn write_tensors<T: Real, N: Params<T>>(p: &N, w: &mut Writer<'_>) {
    for i in 0..N::TENSORS {
        w.scalars(p.tensor(i));
    }
}

/// Reads every tensor of `p`.
pub(crate) fn read_tensors<T: Real, N: Params<T>>(p: &mut N, r: &mut Reader<'_>) {
    for i in 0..N::TENSORS {
        r.scalars(p.tensor_mut(i));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powi_is_exact_for_small_powers() {
        assert_eq!(powi(0.5f64, 0), 1.0);
        assert_eq!(powi(0.5f64, 3), 0.125);
        assert_eq!(powi(3.0f32, 5), 243.0);
        assert_eq!(powi(0.9f64, u64::MAX), 0.0);
    }

    #[test]
    fn layer_masks() {
        assert!(Layers::All.contains(31) && Layers::All.contains(100));
        assert!(!Layers::Mask(u32::MAX).contains(32));
        assert!(Layers::Mask(0b10).contains(1) && !Layers::Mask(0b10).contains(0));
    }

    #[test]
    fn optimizer_kind_nibbles() {
        use crate::nn::{Empty, Mlp2};
        type N = Mlp2<f32, 2, 2, 2>;
        assert_eq!(
            <Optimizer<NoTransform, Sgd<f32, Empty>> as State<f32>>::KIND,
            0x01
        );
        assert_eq!(
            <Optimizer<Grokfast<f32, N>, Sgd<f32, N>> as State<f32>>::KIND,
            0x32
        );
        assert_eq!(
            <Optimizer<Egd<f32, 2, 2>, AdamW<f32, N>> as State<f32>>::KIND,
            0x13
        );
        assert_eq!(
            <Optimizer<ColumnNorm<f32>, AdamW<f32, N>> as State<f32>>::SCALARS,
            2 * 12
        );
    }
}
