//! The settings and the report of the EGD direction: [`Cutoff`], [`Method`],
//! [`PolarConfig`] with its `const` builders, [`PolarInfo`], and the check of
//! a cutoff that every path (Jacobi, EGD-RSVD) runs before it writes anything.

use crate::error::EgdError;
use crate::scalar::Real;
use crate::svd::SvdConfig;

/// How small singular values are treated.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Cutoff<T> {
    /// `Relative(max(R, C)·eps)`: the default, an exact partial isometry on
    /// the numerically nonzero part of `G`.
    Auto,
    /// Singular values `≤ τ·σ_max` are treated as zero (Moore–Penrose):
    /// the result is `Σ_{σᵢ > τσ₁} uᵢvᵢᵀ`.
    Relative(T),
    /// The reference code's `U·diag(1/max(s, ε))·Uᵀ·G`: directions with
    /// `σ ≥ ε` get weight 1, smaller ones `σ/ε` (a soft, absolute cutoff).
    /// `Clamp(1e-6)` reproduces the paper's tables.
    ///
    /// The clamp never goes below the rounding level `max(R, C)·eps·σ₁`
    /// (the `Auto` threshold, numpy's `matrix_rank` default): the weight is
    /// `σ/max(σ, ε, max(R, C)·eps·σ₁)`. A singular value below that level is
    /// rounding, not data, and the paths that form the direction from
    /// products with `G` would otherwise amplify that rounding by `1/ε` (on
    /// a rank-deficient gradient of large norm, into weights far above 1).
    /// The floor only matters when `σ₁ > ε / (max(R, C)·eps)`, e.g. `σ₁ >
    /// 0.08` for a 100×100 f32 gradient under `Clamp(1e-6)`.
    Clamp(T),
}

/// Which algorithm computes the direction (`#[non_exhaustive]`: match it
/// with a wildcard arm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Method {
    /// Exact, by the one-sided Jacobi SVD.
    Jacobi,
    /// Approximate, by `steps` quintic Newton–Schulz iterations (Muon uses 5).
    NewtonSchulz {
        /// Iterations.
        steps: u8,
    },
    /// Approximate, by a rank-`rank` randomized SVD with `power_iters` power
    /// iterations and a Gaussian sketch drawn from `seed` (EGD-RSVD, the
    /// paper's randomized variant; see [`crate::rsvd`]). Needs the larger
    /// [`RsvdWorkspace`](crate::rsvd::RsvdWorkspace) and a stream number, so
    /// it runs through [`rsvd::polar`](crate::rsvd::polar) (and [`Egd`](crate::optim::Egd));
    /// [`polar`](super::polar) and [`polar_in_place`](super::polar_in_place) answer it with
    /// [`EgdError::InvalidParameter`].
    Rsvd {
        /// Sketch width `r` (`1..=` the workspace's bound; `r ≥ min(R, C)` is exact).
        rank: u16,
        /// Power iterations `q` (`1..=`[`MAX_POWER_ITERS`](crate::rsvd::MAX_POWER_ITERS); the paper: 2).
        power_iters: u8,
        /// Seed of the sketches (the run's seed).
        seed: u64,
    },
}

/// Settings of the EGD direction.
///
/// ```
/// use egd_core::polar::{Cutoff, Method, PolarConfig};
/// let paper = PolarConfig::<f32>::paper();
/// assert_eq!(paper.cutoff, Cutoff::Clamp(1e-6));
/// assert_eq!(PolarConfig::<f32>::default().method, Method::Jacobi);
/// // `#[non_exhaustive]`: build it from DEFAULT with the const builders.
/// const WARM: PolarConfig<f32> = PolarConfig::DEFAULT.with_warm_start(true);
/// assert!(WARM.warm_start && WARM.precondition);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct PolarConfig<T> {
    /// Algorithm.
    pub method: Method,
    /// Treatment of small singular values (Jacobi only).
    pub cutoff: Cutoff<T>,
    /// Jacobi settings.
    pub svd: SvdConfig<T>,
    /// Start the Jacobi iteration from the rotation of the previous call on
    /// the same workspace (same short side `min(R, C)`), re-orthogonalised.
    /// This saves sweeps when successive matrices share their singular
    /// vectors (slowly drifting matrices); on minibatch gradients it does not
    /// (a p = 97 run needed 8.4 sweeps per step warm vs 8.1 cold, and warm
    /// start skips the QR preconditioning). The result meets the same
    /// accuracy contract (any orthogonal start does). Give each matrix its
    /// own workspace to benefit; off by default.
    pub warm_start: bool,
    /// QR preconditioning: when the long side is at least twice the short
    /// one (`l ≥ 2k`), first factor the oriented rows `ΠX = L·Q` (Householder
    /// LQ, backward stable, blocked by panels of 16 rows, with the rows
    /// ranked by their remaining norm at each panel start), run the Jacobi
    /// iteration on the columns of the `k×k` factor `L` (Drmač–Veselić), and
    /// apply `Q` and `Πᵀ` to the result. Same accuracy contract, about half
    /// the work on tall gradients such as the paper's `512×254`. On by default.
    pub precondition: bool,
}

impl<T: Real> Default for PolarConfig<T> {
    fn default() -> Self {
        Self::DEFAULT
    }
}

impl<T: Real> PolarConfig<T> {
    /// Jacobi, [`Cutoff::Auto`], default SVD settings, QR preconditioning,
    /// no warm start: the default as a constant (for `static`/`const` items).
    pub const DEFAULT: Self = Self {
        method: Method::Jacobi,
        cutoff: Cutoff::Auto,
        svd: SvdConfig::DEFAULT,
        warm_start: false,
        precondition: true,
    };

    /// Sets [`method`](Self::method).
    #[must_use]
    pub const fn with_method(mut self, method: Method) -> Self {
        self.method = method;
        self
    }

    /// Sets [`cutoff`](Self::cutoff).
    #[must_use]
    pub const fn with_cutoff(mut self, cutoff: Cutoff<T>) -> Self {
        self.cutoff = cutoff;
        self
    }

    /// Sets [`svd`](Self::svd).
    #[must_use]
    pub const fn with_svd(mut self, svd: SvdConfig<T>) -> Self {
        self.svd = svd;
        self
    }

    /// Sets [`warm_start`](Self::warm_start).
    #[must_use]
    pub const fn with_warm_start(mut self, warm_start: bool) -> Self {
        self.warm_start = warm_start;
        self
    }

    /// Sets [`precondition`](Self::precondition).
    #[must_use]
    pub const fn with_precondition(mut self, precondition: bool) -> Self {
        self.precondition = precondition;
        self
    }

    /// The reference code's setting: Jacobi with `Clamp(1e-6)`.
    #[must_use]
    pub fn paper() -> Self {
        Self {
            cutoff: Cutoff::Clamp(T::from_f64(1e-6)),
            ..Self::default()
        }
    }

    /// Muon's approximate direction: 5 quintic Newton–Schulz steps.
    #[must_use]
    pub fn newton_schulz() -> Self {
        Self {
            method: Method::NewtonSchulz { steps: 5 },
            ..Self::default()
        }
    }
}

/// What a polar computation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct PolarInfo {
    /// Jacobi sweeps (0 for Newton–Schulz and for a zero gradient).
    pub sweeps: u16,
    /// Plane rotations the Jacobi iteration applied (0 for Newton–Schulz).
    pub rotations: u32,
    /// Directions with weight 1 (Jacobi: singular values above the cutoff;
    /// `Clamp`: `σ ≥ ε`); `min(R, C)` for Newton–Schulz on nonzero input.
    pub rank: u32,
}

/// Refuses a `Relative` or `Clamp` cutoff that is negative, NaN or infinite.
pub(crate) fn check_cutoff<T: Real>(c: Cutoff<T>) -> Result<(), EgdError> {
    match c {
        Cutoff::Auto => Ok(()),
        Cutoff::Relative(t) | Cutoff::Clamp(t) if t >= T::ZERO && t.is_finite() => Ok(()),
        _ => Err(EgdError::InvalidParameter {
            name: "cutoff",
            expected: "a finite value >= 0",
        }),
    }
}
