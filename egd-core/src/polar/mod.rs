//! The EGD direction: the polar factor `G̃ = (G Gᵀ)^(-1/2) G = U Vᵀ`.
//!
//! For a gradient `G = U S Vᵀ` the egalitarian direction keeps the singular
//! vectors and sets every singular value to one, so that all principal
//! directions of the gradient move at the same speed.
//!
//! * [`Method::Jacobi`] is exact: it runs the [Jacobi SVD](crate::svd) and
//!   forms `Σᵢ wᵢ uᵢ vᵢᵀ` with the weights of the chosen [`Cutoff`]. The
//!   iteration does not accumulate its rotations (half the work of each one
//!   at `l = k`): the direction is formed from the converged unit rows and a
//!   kept copy of the matrix they came from, `Ŵ·diag(w/σ)·Ŵᵀ·L` for the `k×k`
//!   factor `L` of the QR path (the reference code's
//!   `U·diag(1/max(s, ε))·Uᵀ·G`), `X·V̂·diag(w/σ)·V̂ᵀ` for the oriented rows
//!   `X` otherwise, each through two register-tiled products. With a warm
//!   start, and without preconditioning when `max(R, C) ≥ 2·min(R, C)` (the
//!   copy of `X` would not fit in the workspace), the rotations are
//!   accumulated in `J` and the direction is `Jᵀ·diag(w/σ)·Y` as before.
//!   Both meet the accuracy contract below; the formed products lose
//!   orthogonality in proportion to `eps·κ` (`κ` of the kept part), as the
//!   reference code's formula does, where the accumulated `J` stays
//!   orthogonal to `eps` whatever `κ`. A formed left factor of a
//!   numerically-null direction is rounding of about `eps·σ₁`, which is why
//!   [`Cutoff::Clamp`] never clamps below `max(R, C)·eps·σ₁`.
//! * [`Method::NewtonSchulz`] is Muon's quintic iteration
//!   `X ← aX + (bA + cA²)X`, `A = XXᵀ`, `(a, b, c) = (3.4445, −4.7750, 2.0315)`
//!   from `G/‖G‖_F`. It is **approximate by design**: its singular values land
//!   roughly in `[0.7, 1.2]`, not at 1, and it amplifies numerically-null
//!   directions; it ignores the cutoff.
//! * [`Method::Rsvd`] is the paper's EGD-RSVD, the direction of a rank-`r`
//!   randomized SVD; it needs a sketch basis and a stream number and runs
//!   through [`crate::rsvd::polar`] (the functions here refuse it).
//!
//! `polar(Gᵀ) = polar(G)ᵀ` holds bit for bit for non-square `G`: both
//! orientations work on the same oriented rows (`Gᵀ` for tall `G`, `G` for
//! wide) with the same arithmetic, for Newton–Schulz and for Jacobi with or
//! without QR preconditioning. (A square `G` is always processed as `Gᵀ`.)
//!
//! # Accuracy
//!
//! With [`Cutoff::Auto`] on an input of condition number `κ` below the
//! cutoff, the relative Frobenius error against the exact polar factor is at
//! most `max(`[`tol::POLAR_F64`]`, 100·eps·κ)` in `f64` and
//! `max(`[`tol::POLAR_F32`]`, 100·eps·κ)` in `f32`; every kept singular value
//! of the result is 1 to the same tolerance.
//!
//! # Example
//!
//! ```
//! use egd_core::{Matrix, polar::{polar, PolarConfig}, svd::SvdWorkspace};
//! // G = diag(3, 1e-3): the egalitarian direction is the identity.
//! let g = Matrix::<f64, 2, 2>::from_rows([[3.0, 0.0], [0.0, 1e-3]]);
//! let mut out = Matrix::zeros();
//! let mut ws = SvdWorkspace::<f64, 2, 2>::new();
//! let info = polar(&g, &mut out, &mut ws, &PolarConfig::default())?;
//! assert_eq!(out, Matrix::identity());
//! assert_eq!(info.rank, 2);
//! # Ok::<(), egd_core::EgdError>(())
//! ```

mod config;
pub(crate) mod cutoff;
mod jacobi;
pub(crate) mod lq;
mod newton_schulz;

pub use crate::svd::tol;
pub(crate) use config::check_cutoff;
pub use config::{Cutoff, Method, PolarConfig, PolarInfo};
pub use newton_schulz::NS_COEFFS;

use crate::error::EgdError;
use crate::matrix::Matrix;
use crate::scalar::Real;
use crate::svd::SvdWorkspace;
use jacobi::{jacobi_polar, jacobi_polar_inplace};
use newton_schulz::{newton_schulz, newton_schulz_inplace};

/// Writes the EGD direction of `g` into `out`.
///
/// A zero `g` gives a zero `out`. On `Err` ([`EgdError::NonFinite`] for NaN or
/// infinity anywhere in `g`, [`EgdError::NotConverged`] when the sweep cap is
/// hit, [`EgdError::InvalidParameter`] for a cutoff or tolerance that is not a
/// positive finite number, or for [`Method::Rsvd`]) `out` is untouched.
///
/// ```
/// use egd_core::{Matrix, polar::{polar, PolarConfig}, svd::SvdWorkspace};
/// let g = Matrix::<f32, 3, 2>::from_rows([[2.0, 0.0], [0.0, 0.0], [0.0, 0.0]]);
/// let (mut out, mut ws) = (Matrix::zeros(), SvdWorkspace::<f32, 2, 3>::new());
/// polar(&g, &mut out, &mut ws, &PolarConfig::default())?;
/// assert_eq!(out.row(0), &[1.0, 0.0]); // rank 1: the null direction stays 0
/// # Ok::<(), egd_core::EgdError>(())
/// ```
pub fn polar<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &Matrix<T, R, C>,
    out: &mut Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    cfg: &PolarConfig<T>,
) -> Result<PolarInfo, EgdError> {
    match cfg.method {
        Method::Jacobi => jacobi_polar(g, out, ws, cfg),
        Method::NewtonSchulz { steps } => newton_schulz(g, out, ws, steps),
        Method::Rsvd { .. } => Err(NEEDS_RSVD_WORKSPACE),
    }
}

/// Replaces `g` by its EGD direction; on `Err`, `g` is untouched.
///
/// Same contract as [`polar`], without a second `R×C` buffer.
///
/// ```
/// use egd_core::{Matrix, polar::{polar_in_place, PolarConfig}, svd::SvdWorkspace};
/// let mut g = Matrix::<f64, 1, 2>::from_rows([[3.0, 4.0]]);
/// polar_in_place(&mut g, &mut SvdWorkspace::<f64, 1, 2>::new(), &PolarConfig::default())?;
/// assert!((g[(0, 0)] - 0.6).abs() < 1e-15 && (g[(0, 1)] - 0.8).abs() < 1e-15);
/// # Ok::<(), egd_core::EgdError>(())
/// ```
pub fn polar_in_place<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &mut Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    cfg: &PolarConfig<T>,
) -> Result<PolarInfo, EgdError> {
    // Both algorithms read `g` completely into the workspace before they
    // write their first output element, so the input may alias the output.
    match cfg.method {
        Method::Jacobi => jacobi_polar_inplace(g, ws, cfg),
        Method::NewtonSchulz { steps } => newton_schulz_inplace(g, ws, steps),
        Method::Rsvd { .. } => Err(NEEDS_RSVD_WORKSPACE),
    }
}

/// [`Method::Rsvd`] given to a function that has only an [`SvdWorkspace`].
const NEEDS_RSVD_WORKSPACE: EgdError = EgdError::InvalidParameter {
    name: "method",
    expected: "Jacobi or NewtonSchulz here (Rsvd runs through rsvd::polar)",
};
