//! The settings and the report of the Jacobi SVD: the sweep cap
//! [`DEFAULT_MAX_SWEEPS`], the accuracy contract's tolerances ([`tol`]),
//! [`SvdConfig`] with its `const` builders, and [`SvdInfo`].

/// The LAPACK default sweep cap (`NSWEEP = 30`).
pub const DEFAULT_MAX_SWEEPS: u16 = 30;

/// Tolerances of the accuracy contract; tests use these same constants.
pub mod tol {
    /// `f64`: `max|A − UΣVᵀ| / σ₁`.
    pub const RECON_F64: f64 = 1e-13;
    /// `f32`: `max|A − UΣVᵀ| / σ₁`.
    pub const RECON_F32: f64 = 2e-5;
    /// `f64`: `‖VᵀV − I‖_F` for full-rank inputs up to 128 columns.
    pub const ORTH_F64: f64 = 1e-11;
    /// `f32`: `‖VᵀV − I‖_F` for full-rank inputs up to 128 columns.
    pub const ORTH_F32: f64 = 1e-3;
    /// `f64`: relative error of each singular value of a column-graded matrix.
    pub const GRADED_F64: f64 = 1e-12;
    /// `f64`: polar factor, relative Frobenius error is at most
    /// `max(POLAR_F64, 100·eps·κ)`.
    pub const POLAR_F64: f64 = 1e-12;
    /// `f32`: polar factor, relative Frobenius error is at most
    /// `max(POLAR_F32, 100·eps·κ)`.
    pub const POLAR_F32: f64 = 1e-4;
}

/// Settings of the Jacobi iteration.
///
/// `#[non_exhaustive]`: build it from [`SvdConfig::DEFAULT`] with the
/// `const` builders.
///
/// ```
/// let cfg = egd_core::svd::SvdConfig::<f32>::DEFAULT.with_tol(Some(f32::EPSILON));
/// assert_eq!(cfg.max_sweeps, 30);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
#[non_exhaustive]
pub struct SvdConfig<T> {
    /// Relative orthogonality tolerance of the rotation test; `None` means
    /// `√l·eps` (LAPACK's default when vectors are wanted). `Some(eps)` gives
    /// about 6× more orthogonal `U` at the same sweep count.
    pub tol: Option<T>,
    /// Sweep cap; reaching it without convergence is an error.
    pub max_sweeps: u16,
}

impl<T> SvdConfig<T> {
    /// The default settings as a constant (for `static`/`const` items in
    /// firmware): `√l·eps` tolerance, [`DEFAULT_MAX_SWEEPS`].
    pub const DEFAULT: Self = Self {
        tol: None,
        max_sweeps: DEFAULT_MAX_SWEEPS,
    };
}

impl<T: Copy> SvdConfig<T> {
    /// Sets [`tol`](Self::tol).
    #[must_use]
    pub const fn with_tol(mut self, tol: Option<T>) -> Self {
        self.tol = tol;
        self
    }

    /// Sets [`max_sweeps`](Self::max_sweeps).
    #[must_use]
    pub const fn with_max_sweeps(mut self, max_sweeps: u16) -> Self {
        self.max_sweeps = max_sweeps;
        self
    }
}

impl<T> Default for SvdConfig<T> {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What an SVD or polar computation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct SvdInfo {
    /// Sweeps performed, including the final one that found nothing to rotate.
    pub sweeps: u16,
    /// Plane rotations applied.
    pub rotations: u32,
}
