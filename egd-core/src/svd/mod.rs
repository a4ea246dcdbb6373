//! One-sided (Hestenes) Jacobi SVD.
//!
//! The matrix is first oriented so that the work happens on contiguous rows:
//! a tall `A` (`R ≥ C`) is processed as `X = Aᵀ`, a wide one as `X = A`; `X`
//! has `k = min(R, C)` rows of length `l = max(R, C)`. Plane rotations `J` are
//! applied to pairs of rows of `X` until all rows are mutually orthogonal:
//! `J X = Σ Wᵀ` with orthonormal rows in `Wᵀ`. Then `A = U Σ Vᵀ` follows from
//! `J` and the final rows. (The polar factor does not need `J`: the
//! iteration can skip accumulating it, see [`crate::polar`].)
//!
//! Safeguards (after LAPACK's `xGESVJ`; the repository's `docs/svd-notes.md`
//! records why each is there):
//!
//! 1. exact power-of-two prescaling to `max|aᵢⱼ| ∈ [0.5, 1)`;
//! 2. cached row norms, updated by the rotation formulas `α' = α − tγ`,
//!    `β' = β + tγ` (on the squares), recomputed when the update cancels and
//!    refreshed once per sweep;
//! 3. de Rijk pivoting: the largest remaining row moves to the pivot position
//!    before each pivot row is processed;
//! 4. rotation test `|x_p·x_q| > tol·‖x_p‖‖x_q‖`, default `tol = √l·eps`;
//! 5. an angle formula without overflow, `t = 2|γ|·sign / (|β−α| +
//!    √((β−α)² + 4γ²))` (the `ζ = (β−α)/2γ` form with LAPACK's guard
//!    `t = 1/(2ζ)` for `|ζ| > 1/√eps` where the squares would underflow), and
//!    a zero-row test `‖x‖² ≤ MIN_POSITIVE/eps` (such rows are left alone);
//! 6. a sweep cap (default [`DEFAULT_MAX_SWEEPS`]); hitting it returns
//!    [`EgdError::NotConverged`] and leaves the outputs untouched.
//!
//! Speed: the rotations are LAPACK's fast scaled rotations (two shears per
//! element pair, the cosine kept in per-row scales), the pivot's next dot
//! product is computed in the same pass as its rotation, and the first two
//! sweeps rotate only pairs at least as far from orthogonal as the running
//! mean (Rutishauser's threshold; convergence is declared only by a later,
//! full sweep). Every inner loop has a fixed summation order, so the result
//! is the same bit for bit on every target.
//!
//! # Accuracy
//!
//! After convergence, for inputs whose entries are finite:
//!
//! | quantity | `f64` | `f32` |
//! |---|---|---|
//! | `max|A − U Σ Vᵀ| / σ₁` | ≤ [`tol::RECON_F64`] | ≤ [`tol::RECON_F32`] |
//! | `‖VᵀV − I‖_F` (full rank, n ≤ 128) | ≤ [`tol::ORTH_F64`] | ≤ [`tol::ORTH_F32`] |
//! | σ of a column-graded `B·diag(1…1e-12)`, relative | ≤ [`tol::GRADED_F64`] | — |
//!
//! Singular values come out sorted descending and `≥ 0`. Columns of the
//! factor computed from the final rows (`U` for tall inputs, `V` for wide
//! ones) are zero where the row was numerically zero (`σ = 0`); the other
//! factor, built from `J`, is always orthogonal.
//!
//! # Memory
//!
//! [`SvdWorkspace<T, K, L>`] holds `K·L + 2·K² + 3·K` scalars and `K + 1` `usize`s
//! ([`SvdWorkspace::BYTES`]); one workspace serves every matrix with
//! `min(R, C) ≤ K` and `max(R, C) ≤ L` (checked at compile time).
//!
//! | shape (K×L) | `f32` bytes | `f64` bytes (64-bit host) |
//! |---|---:|---:|
//! | 8×8 | 936 | 1 800 |
//! | 16×16 | 3 400 | 6 664 |
//! | 64×64 | 50 440 | 100 360 |
//! | 128×128 | 199 176 | 397 320 |
//! | 64×256 | 99 592 | 198 664 |
//! | 254×512 | 1 041 408 | 2 080 776 |
//!
//! # Example
//!
//! ```
//! use egd_core::{Matrix, svd::{svd, SvdConfig, SvdWorkspace}};
//! let a = Matrix::<f64, 3, 2>::from_rows([[3.0, 0.0], [0.0, -4.0], [0.0, 0.0]]);
//! let mut ws = SvdWorkspace::<f64, 2, 3>::new();
//! let (mut u, mut s, mut v) = (Matrix::<f64, 3, 2>::zeros(), [0.0; 2], Matrix::<f64, 2, 2>::zeros());
//! let info = svd(&a, &mut ws, &SvdConfig::default(), &mut u, &mut s, &mut v)?;
//! assert_eq!(s, [4.0, 3.0]);
//! assert!(info.sweeps <= 2);
//! # Ok::<(), egd_core::EgdError>(())
//! ```

mod config;
pub(crate) mod factor;
pub(crate) mod jacobi;
pub(crate) mod workspace;

pub use config::{DEFAULT_MAX_SWEEPS, SvdConfig, SvdInfo, tol};
pub use workspace::SvdWorkspace;

use crate::error::EgdError;
use crate::matrix::{Matrix, sum_sq};
use crate::scalar::Real;
use factor::factor;
use workspace::orient;

/// Thin SVD `A = U·diag(s)·Vᵀ` with `U: R×N`, `V: C×N`, `N = min(R, C)`.
///
/// Singular values are sorted descending and `≥ 0`. On any `Err` the
/// outputs are untouched: [`EgdError::NonFinite`] for NaN/Inf input,
/// [`EgdError::NotConverged`] when the sweep cap is hit,
/// [`EgdError::InvalidParameter`] for a tolerance that is not a positive
/// finite number. See the [module docs](self) for the accuracy contract.
///
/// ```
/// use egd_core::{Matrix, svd::{svd, SvdConfig, SvdWorkspace}};
/// let a = Matrix::<f32, 2, 3>::from_rows([[1.0, 1.0, 0.0], [1.0, 1.0, 0.0]]);
/// let mut ws = SvdWorkspace::<f32, 2, 3>::new();
/// let (mut u, mut s, mut v) = (Matrix::<f32, 2, 2>::zeros(), [0.0; 2], Matrix::<f32, 3, 2>::zeros());
/// svd(&a, &mut ws, &SvdConfig::default(), &mut u, &mut s, &mut v)?;
/// assert!((s[0] - 2.0).abs() < 1e-6 && s[1] == 0.0);
/// # Ok::<(), egd_core::EgdError>(())
/// ```
pub fn svd<
    T: Real,
    const R: usize,
    const C: usize,
    const N: usize,
    const K: usize,
    const L: usize,
>(
    a: &Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    cfg: &SvdConfig<T>,
    u: &mut Matrix<T, R, N>,
    s: &mut [T; N],
    v: &mut Matrix<T, C, N>,
) -> Result<SvdInfo, EgdError> {
    const { assert!(N == if R < C { R } else { C }, "N must be min(R, C)") };
    let Some((e, info)) = factor(a, ws, cfg, false)? else {
        u.fill_zero();
        v.fill_zero();
        *s = [T::ZERO; N];
        return Ok(SvdInfo::default());
    };
    let o = orient::<R, C>();
    let (k, l) = (o.k, o.l);
    let ws = ws.buffers();
    let x = ws.x.rows_mut();
    let j = ws.j.rows_mut();
    let norms = ws.norms;
    for (n, row) in norms[..k].iter_mut().zip(x.iter()) {
        *n = sum_sq(&row[..l]).sqrt();
    }
    // Selection sort, descending: k swaps of rows at most.
    for p in 0..k {
        let mut imax = p;
        for i in p + 1..k {
            if norms[i] > norms[imax] {
                imax = i;
            }
        }
        if imax != p {
            x.swap(p, imax);
            j.swap(p, imax);
            norms.swap(p, imax);
        }
    }
    // Factor from the final rows: row i / σᵢ; from J: column i of Jᵀ.
    let (rows_out, j_out): (&mut [[T; N]], &mut [[T; N]]) = if o.tall {
        (u.rows_mut(), v.rows_mut())
    } else {
        (v.rows_mut(), u.rows_mut())
    };
    for i in 0..k {
        let sig = norms[i];
        let inv = if sig > T::ZERO { T::ONE / sig } else { T::ZERO };
        for (r, out) in rows_out.iter_mut().enumerate() {
            out[i] = x[i][r] * inv;
        }
        for (c, out) in j_out.iter_mut().enumerate() {
            out[i] = j[i][c];
        }
        s[i] = sig.scalbn(e);
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_bytes_table() {
        assert_eq!(SvdWorkspace::<f32, 8, 8>::BYTES, 936);
        assert_eq!(SvdWorkspace::<f64, 8, 8>::BYTES, 1800);
        assert_eq!(SvdWorkspace::<f32, 16, 16>::BYTES, 3400);
        assert_eq!(SvdWorkspace::<f64, 16, 16>::BYTES, 6664);
        assert_eq!(SvdWorkspace::<f32, 64, 64>::BYTES, 50440);
        assert_eq!(SvdWorkspace::<f64, 64, 64>::BYTES, 100_360);
        assert_eq!(SvdWorkspace::<f32, 128, 128>::BYTES, 199_176);
        assert_eq!(SvdWorkspace::<f64, 128, 128>::BYTES, 397_320);
        assert_eq!(SvdWorkspace::<f32, 64, 256>::BYTES, 99592);
        assert_eq!(SvdWorkspace::<f64, 64, 256>::BYTES, 198_664);
        assert_eq!(SvdWorkspace::<f32, 254, 512>::BYTES, 1_041_408);
        assert_eq!(SvdWorkspace::<f64, 254, 512>::BYTES, 2_080_776);
    }

    #[test]
    fn diagonal_is_exact() {
        let a =
            Matrix::<f64, 3, 3>::from_rows([[0.0, 0.0, 2.0], [0.0, -5.0, 0.0], [1.0, 0.0, 0.0]]);
        let mut ws = SvdWorkspace::<f64, 3, 3>::new();
        let (mut u, mut s, mut v) = (Matrix::zeros(), [0.0; 3], Matrix::zeros());
        let info = svd(&a, &mut ws, &SvdConfig::default(), &mut u, &mut s, &mut v).unwrap();
        assert_eq!(s, [5.0, 2.0, 1.0]);
        assert_eq!(info.rotations, 0);
    }

    #[test]
    fn nan_leaves_outputs() {
        let mut a = Matrix::<f32, 2, 2>::identity();
        a[(1, 0)] = f32::NAN;
        let mut ws = SvdWorkspace::<f32, 2, 2>::new();
        let (mut u, mut s, mut v) = (Matrix::identity(), [7.0; 2], Matrix::identity());
        let r = svd(&a, &mut ws, &SvdConfig::default(), &mut u, &mut s, &mut v);
        assert_eq!(r, Err(EgdError::NonFinite));
        assert_eq!(s, [7.0; 2]);
        assert_eq!(u, Matrix::identity());
    }

    #[test]
    fn sweep_cap_is_an_error() {
        let a = Matrix::<f64, 4, 4>::from_fn(|i, j| 1.0 / (i + j + 1) as f64);
        let mut ws = SvdWorkspace::<f64, 4, 4>::new();
        let (mut u, mut s, mut v) = (Matrix::zeros(), [9.0; 4], Matrix::zeros());
        let cfg = SvdConfig {
            tol: None,
            max_sweeps: 1,
        };
        let r = svd(&a, &mut ws, &cfg, &mut u, &mut s, &mut v);
        assert_eq!(r, Err(EgdError::NotConverged { sweeps: 1 }));
        assert_eq!(s, [9.0; 4]);
    }
}
