//! The paper's column-norm baseline.

use super::{Layers, StepInfo, Transform, check};
use crate::checkpoint::{Reader, State, Writer};
use crate::error::{CheckpointError, EgdError};
use crate::matrix::sum_sq;
use crate::nn::{Kind, Params};
use crate::scalar::Real;

/// [`ColumnNorm`] settings: defaults first layer, `min_norm = 0.01` (the paper's).
///
/// `#[non_exhaustive]`: build it with [`ColumnNormConfig::new`] (a `const fn`)
/// or from [`Default`] and [`ColumnNormConfig::with_layers`].
///
/// ```
/// use egd_core::optim::{ColumnNormConfig, Layers};
/// const C: ColumnNormConfig<f32> = ColumnNormConfig::new(Layers::All, 0.01);
/// assert_eq!(C, ColumnNormConfig::default().with_layers(Layers::All));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct ColumnNormConfig<T> {
    /// Which weight matrices to normalise.
    pub layers: Layers,
    /// Floor of the divisor (finite, `> 0`).
    pub min_norm: T,
}

impl<T: Real> Default for ColumnNormConfig<T> {
    fn default() -> Self {
        Self::new(Layers::First, T::from_f64(0.01))
    }
}

impl<T: Real> ColumnNormConfig<T> {
    /// Normalise the weight matrices of `layers`, divisor floor `min_norm`.
    #[must_use]
    pub const fn new(layers: Layers, min_norm: T) -> Self {
        Self { layers, min_norm }
    }

    /// Sets [`layers`](Self::layers).
    #[must_use]
    pub const fn with_layers(mut self, layers: Layers) -> Self {
        self.layers = layers;
        self
    }

    /// Sets [`min_norm`](Self::min_norm).
    #[must_use]
    pub const fn with_min_norm(mut self, min_norm: T) -> Self {
        self.min_norm = min_norm;
        self
    }
}

/// Divides each hidden unit's fan-in gradient by `max(‖·‖₂, min_norm)`.
///
/// The paper (with `x W1`, `W1: IN × HIDDEN`) normalises the *columns* of
/// `W1`'s gradient; in this crate's `OUT × IN` layout a unit's fan-in is a
/// **row**, so rows are normalised. Stateless.
///
/// ```
/// use egd_core::nn::{Dense, Params};
/// use egd_core::optim::{ColumnNorm, StepInfo, Transform};
/// let mut g = Dense::<f64, 2, 2>::zeros(false);
/// g.w = egd_core::Matrix::from_rows([[3.0, 4.0], [0.001, 0.0]]);
/// ColumnNorm::default().apply(&mut g, &mut StepInfo::default())?;
/// assert_eq!(g.w.row(0), &[0.6, 0.8]);
/// assert_eq!(g.w.row(1), &[0.1, 0.0]); // below the floor: divided by 0.01
/// # Ok::<(), egd_core::EgdError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ColumnNorm<T> {
    /// Settings.
    pub cfg: ColumnNormConfig<T>,
}

impl<T: Real> Default for ColumnNorm<T> {
    fn default() -> Self {
        Self {
            cfg: ColumnNormConfig::default(),
        }
    }
}

impl<T: Real> ColumnNorm<T> {
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// A column-norm transform.
    #[must_use]
    pub const fn new(cfg: ColumnNormConfig<T>) -> Self {
        Self { cfg }
    }
}

impl<T: Real, N: Params<T>> Transform<T, N> for ColumnNorm<T> {
    fn validate(&self) -> Result<(), EgdError> {
        let m = self.cfg.min_norm;
        check(m.is_finite() && m > T::ZERO, "min_norm", "finite and > 0")
    }

    fn apply(&mut self, grad: &mut N, info: &mut StepInfo) -> Result<(), EgdError> {
        for i in 0..N::TENSORS {
            let Some(ti) = N::info(i) else { continue };
            if ti.kind != Kind::Weight || !self.cfg.layers.contains(ti.layer) || ti.cols == 0 {
                continue;
            }
            for row in grad.tensor_mut(i).chunks_exact_mut(ti.cols) {
                let d = sum_sq(row).sqrt().max(self.cfg.min_norm);
                for x in row {
                    *x /= d;
                }
            }
        }
        info.transformed = true;
        Ok(())
    }
}

/// Transform kind `2`; no state.
impl<T: Real> State<T> for ColumnNorm<T> {
    const KIND: u8 = 2;
    const SCALARS: usize = 0;
    const WORDS: usize = 0;
    fn write_state(&self, _: &mut Writer<'_>) {}
    fn read_state(&mut self, _: &mut Reader<'_>) {}
    fn check_state(_: &mut Reader<'_>) -> Result<(), CheckpointError> {
        Ok(())
    }
}
