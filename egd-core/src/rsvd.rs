//! EGD-RSVD: the EGD direction from a rank-`r` randomized SVD, the paper's
//! cheaper variant ([`Method::Rsvd`]).
//!
//! # Algorithm
//!
//! Work on the oriented rows `X` (`k×l`, `k = min(R, C)`: `X = Gᵀ` for a
//! tall or square `G`, `X = G` for a wide one — for the paper's `W1`
//! gradient, `512×254`, `X` is the reference code's `254×512` gradient),
//! prescaled by the exact power of two that brings `max|X|` into `[0.5, 1)`.
//! With `r = min(rank, k)` and `q = power_iters`:
//!
//! 1. `Ω` (`l×r`): standard normal samples from a [`SplitMix64`] keyed by
//!    `(seed, stream)` ([`sketch_rng`]), drawn for `Ωᵀ` row by row in pairs
//!    ([`fill_standard_normal_pairs`]); `Q ← Ω`.
//! 2. `q ≥ 1` times: `Q ← qr(X Q)` (`k×r`), then `Q ← qr(Xᵀ Q)` (`l×r`) — a
//!    QR re-orthonormalisation after every product, no oversampling (the
//!    reference code's sequence). `span(X Q)` is then `span((XXᵀ)^q·XΩ)`,
//!    Halko–Martinsson–Tropp's power scheme with their `q` (their `q = 0`,
//!    `B = QᵀX`, has no counterpart here: `B = XΩ` would give the singular
//!    values of `XΩ`, not of `X`, so `q = 0` is rejected).
//! 3. `B = X Q` (`k×r`) and its thin SVD `B = Û Ŝ V̂ᵀ`, by the one-sided
//!    Jacobi iteration of [`crate::svd`] on the `r` rows of `Bᵀ` (the rows
//!    converge to `σᵢ ûᵢᵀ`; `V̂` is not needed).
//! 4. The direction `D = Û diag(wᵢ/σ̂ᵢ) Ûᵀ X`, written back in `G`'s
//!    orientation. The part of `X` outside `span(Û)` is dropped.
//!
//! Each QR is a Householder LQ of the rows (`Qᵀ`), made explicit in place
//! (LAPACK's `xGELQF` + `xORGLQ`, unblocked). Only `span(Q)` matters: any
//! orthonormal basis gives the same direction up to rounding.
//!
//! The weights `wᵢ` follow the [`Cutoff`](crate::polar::Cutoff), applied to `σ̂ᵢ` as the Jacobi
//! path applies it to `σᵢ`: `Clamp(ε)` gives `1/max(σ̂, ε)` (the reference
//! code's `Û diag(1/max(Ŝ, 1e-6)) Ûᵀ G`), `Relative(τ)` and `Auto`
//! (`τ = max(R, C)·eps`) keep `σ̂ᵢ > τ·σ̂₁` with weight `1/σ̂ᵢ` and drop the
//! rest. [`PolarInfo::rank`] counts the directions with full weight.
//!
//! # Cost
//!
//! `2q + 3` products of `k·l·r` multiply-adds (`X·Q` and `Xᵀ·Q` `q` times,
//! `B`, `ÛᵀX`, `Û·(ÛᵀX)`), `2q` LQs of `r` rows (`≈ 2r²(k + l)` for
//! factor and basis), and a Jacobi SVD of an `r×k` matrix. At the paper's
//! `512×254`, `q = 2`: 116 M multiply-adds in the products and about 50 M in
//! the LQs at `r = 128` (the products scale with `r`, the LQs with `r²`),
//! plus the Jacobi sweeps over 128 rows of 254 — against the Jacobi SVD of
//! all 254 rows for the exact direction. Measured times: the `svd` and `step`
//! benches (README, Perf).
//!
//! # Contract
//!
//! * `r ≥ min(R, C)` is the exact direction up to rounding (the sketch then
//!   spans the row space of `X`): the accuracy of [`crate::polar`]'s
//!   Jacobi path, `max(`[`tol::POLAR_F64`](crate::svd::tol::POLAR_F64)`,
//!   100·eps·κ)` in `f64` and `max(`[`tol::POLAR_F32`](crate::svd::tol::POLAR_F32)`,
//!   100·eps·κ)` in `f32` with [`Cutoff::Auto`](crate::polar::Cutoff::Auto), for `κ` below the cutoff. The
//!   same holds for any `G` of rank `≤ r`.
//! * Otherwise the direction is that of the rank-`r` approximation
//!   `Û Ûᵀ X`; its range error `‖(I − ÛÛᵀ)X‖` follows the randomized-SVD
//!   bounds of Halko, Martinsson & Tropp (2011, §10.4): it shrinks like
//!   `σ_{r'+1}·c^{1/(2q+1)}` for any `r' < r` (the tests check the
//!   expectation bound of their Corollary 10.10 with `p = r − r' = 4`).
//! * Deterministic: same `g`, configuration, seed and stream, same bits, on
//!   every target (no FMA contraction, fixed reduction orders, `libm`).
//! * `polar(Gᵀ) = polar(G)ᵀ` bit for bit (both work on the same `X`).
//!
//! **Errors** (nothing written: `out`, or `g` for [`polar_in_place`], is
//! untouched; the workspace's contents are unspecified):
//! [`EgdError::NonFinite`] for NaN/∞ in `g`; [`EgdError::InvalidParameter`]
//! for a method other than [`Method::Rsvd`], `rank` outside `1..=RM`,
//! `power_iters` outside `1..=`[`MAX_POWER_ITERS`], a bad cutoff or Jacobi tolerance;
//! [`EgdError::NotConverged`] when the small Jacobi SVD hits its sweep cap.
//! A zero `g` gives a zero direction.
//!
//! # Example
//!
//! ```
//! use egd_core::{Matrix, polar::{Cutoff, Method, PolarConfig}, rsvd::{self, RsvdWorkspace}};
//! // A rank-1 gradient: rank 1 already gives the exact direction u·vᵀ.
//! let g = Matrix::<f64, 3, 2>::from_rows([[3.0, 4.0], [0.0, 0.0], [0.0, 0.0]]);
//! let cfg = PolarConfig::default().with_method(Method::Rsvd { rank: 1, power_iters: 2, seed: 7 });
//! let mut ws = RsvdWorkspace::<f64, 2, 3, 1>::new();
//! let mut out = Matrix::zeros();
//! let info = rsvd::polar(&g, &mut out, &mut ws, &cfg, 0)?;
//! assert!((out[(0, 0)] - 0.6).abs() < 1e-15 && (out[(0, 1)] - 0.8).abs() < 1e-15);
//! assert_eq!(info.rank, 1);
//! # Ok::<(), egd_core::EgdError>(())
//! ```

use crate::error::EgdError;
use crate::kernel;
use crate::matrix::Matrix;
use crate::polar::cutoff::unit_rows_and_weights;
use crate::polar::lq::make_reflector;
use crate::polar::{Method, PolarConfig, PolarInfo, check_cutoff};
use crate::rng::{SplitMix64, fill_standard_normal_pairs};
use crate::scalar::Real;
use crate::svd::SvdWorkspace;
use crate::svd::factor::prepare;
use crate::svd::jacobi::jacobi_rows;
use crate::svd::workspace::{load_scaled, orient};

/// Largest accepted number of power iterations.
pub const MAX_POWER_ITERS: u8 = 16;

/// Caller-owned scratch for [`polar`]: an [`SvdWorkspace<T, K, L>`] plus the
/// `RM×L` sketch basis. Serves every `R×C` with `min(R, C) ≤ K`,
/// `max(R, C) ≤ L` and every rank `1..=RM` (so one workspace with `RM = 128`
/// serves `r = 64` and `r = 128`).
///
/// Size [`Self::BYTES`] `= SvdWorkspace::<T, K, L>::BYTES + RM·L·size_of::<T>()`;
/// at the paper's shape in `f32` (`K = 254, L = 512, RM = 128`) that is
/// 1 303 552 bytes, of which the sketch basis is 262 144.
///
/// ```
/// use egd_core::{rsvd::RsvdWorkspace, svd::SvdWorkspace};
/// type Ws = RsvdWorkspace<f32, 16, 16, 8>;
/// assert_eq!(Ws::BYTES, SvdWorkspace::<f32, 16, 16>::BYTES + 8 * 16 * 4);
/// ```
#[derive(Clone, Debug)]
pub struct RsvdWorkspace<T, const K: usize, const L: usize, const RM: usize> {
    pub(crate) svd: SvdWorkspace<T, K, L>,
    /// `Ωᵀ`, then `Qᵀ` (`r×l`), then `diag(w/σ̂)·ÛᵀX`.
    basis: [[T; L]; RM],
}

impl<T: Real, const K: usize, const L: usize, const RM: usize> RsvdWorkspace<T, K, L, RM> {
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// A zeroed workspace.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            svd: SvdWorkspace::new(),
            basis: [[T::ZERO; L]; RM],
        }
    }

    /// The Jacobi/Newton–Schulz workspace inside (for [`crate::polar`] calls
    /// that share this memory).
    pub fn svd_mut(&mut self) -> &mut SvdWorkspace<T, K, L> {
        &mut self.svd
    }
}

impl<T: Real, const K: usize, const L: usize, const RM: usize> Default
    for RsvdWorkspace<T, K, L, RM>
{
    fn default() -> Self {
        Self::new()
    }
}

/// The generator of the sketch for `(seed, stream)`:
/// `SplitMix64::new(mix(seed ^ mix(stream + γ)))` (`mix` the `SplitMix64`
/// finaliser, `γ` its increment). [`Egd`](crate::optim::Egd) uses
/// `stream = step · MAX_LAYERS + layer`, so every step and layer of a run
/// gets its own sketch and a resumed run draws the same ones.
///
/// ```
/// use egd_core::rsvd::sketch_rng;
/// assert_eq!(sketch_rng(1, 2), sketch_rng(1, 2));
/// assert_ne!(sketch_rng(1, 2), sketch_rng(1, 3));
/// ```
#[must_use]
pub const fn sketch_rng(seed: u64, stream: u64) -> SplitMix64 {
    SplitMix64::new(SplitMix64::mix(
        seed ^ SplitMix64::mix(stream.wrapping_add(SplitMix64::GAMMA)),
    ))
}

/// Writes the EGD-RSVD direction of `g` into `out`; `stream` selects the
/// sketch under the configuration's seed (see [`sketch_rng`]). Contract and
/// errors: the [module docs](self).
pub fn polar<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
    const RM: usize,
>(
    g: &Matrix<T, R, C>,
    out: &mut Matrix<T, R, C>,
    ws: &mut RsvdWorkspace<T, K, L, RM>,
    cfg: &PolarConfig<T>,
    stream: u64,
) -> Result<PolarInfo, EgdError> {
    match direction(g, ws, cfg, stream)? {
        None => {
            out.fill_zero();
            Ok(PolarInfo::default())
        }
        Some(info) => {
            write_oriented(ws.svd.rows(), out);
            Ok(info)
        }
    }
}

/// [`polar`] in place: replaces `g` by its direction (`g` is untouched on `Err`).
///
/// ```
/// use egd_core::{Matrix, polar::{Method, PolarConfig}, rsvd::{self, RsvdWorkspace}};
/// let cfg = PolarConfig::default().with_method(Method::Rsvd { rank: 2, power_iters: 2, seed: 1 });
/// let mut g = Matrix::<f32, 2, 2>::from_rows([[2.0, 0.0], [0.0, 0.5]]);
/// rsvd::polar_in_place(&mut g, &mut RsvdWorkspace::<f32, 2, 2, 2>::new(), &cfg, 0)?;
/// assert!((g[(0, 0)] - 1.0).abs() < 1e-6 && (g[(1, 1)] - 1.0).abs() < 1e-6);
/// # Ok::<(), egd_core::EgdError>(())
/// ```
pub fn polar_in_place<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
    const RM: usize,
>(
    g: &mut Matrix<T, R, C>,
    ws: &mut RsvdWorkspace<T, K, L, RM>,
    cfg: &PolarConfig<T>,
    stream: u64,
) -> Result<PolarInfo, EgdError> {
    match direction(g, ws, cfg, stream)? {
        None => Ok(PolarInfo::default()), // g is zero already
        Some(info) => {
            write_oriented(ws.svd.rows(), g);
            Ok(info)
        }
    }
}

/// A rank outside `1..=RM`.
const NO_RANK: EgdError = EgdError::InvalidParameter {
    name: "rank",
    expected: "1 ..= the workspace's rank bound RM",
};

/// The validated `(rank, power_iters, seed)` of an [`Method::Rsvd`] configuration.
fn params<T: Real, const RM: usize>(cfg: &PolarConfig<T>) -> Result<(usize, u8, u64), EgdError> {
    // Known at compile time: with no sketch basis (`RM = 0`, an `Egd` built for
    // Jacobi / Newton–Schulz only) everything after this is dead code, so the
    // firmware's link-time no-panic proof does not see it.
    if RM == 0 {
        return Err(NO_RANK);
    }
    let Method::Rsvd {
        rank,
        power_iters,
        seed,
    } = cfg.method
    else {
        return Err(EgdError::InvalidParameter {
            name: "method",
            expected: "Method::Rsvd",
        });
    };
    let rank = usize::from(rank);
    if rank == 0 || rank > RM {
        return Err(NO_RANK);
    }
    if power_iters == 0 || power_iters > MAX_POWER_ITERS {
        return Err(EgdError::InvalidParameter {
            name: "power_iters",
            expected: "1 ..= 16",
        });
    }
    check_cutoff(cfg.cutoff)?;
    Ok((rank, power_iters, seed))
}

/// Everything but the final write: leaves the direction `D` (`k×l`, `X`'s
/// orientation) in `ws.svd.x`. `None` for a zero `g`. Reads `g` only.
fn direction<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
    const RM: usize,
>(
    g: &Matrix<T, R, C>,
    ws: &mut RsvdWorkspace<T, K, L, RM>,
    cfg: &PolarConfig<T>,
    stream: u64,
) -> Result<Option<PolarInfo>, EgdError> {
    let (rank, q, seed) = params::<T, RM>(cfg)?;
    let o = orient::<R, C>();
    let (k, l) = (o.k, o.l);
    let r = rank.min(k);
    // The Jacobi iteration runs on the r rows of Bᵀ, of length k.
    let Some((amax, tol)) = prepare::<T, R, C, K, L>(g, &cfg.svd, k)? else {
        return Ok(None);
    };
    let RsvdWorkspace { svd: ws, basis } = ws;
    ws.reset_warm_start(); // aux is overwritten: no rotation kept for a warm start
    let ws = ws.buffers();
    let e = load_scaled(g, ws.x, amax);

    let mut rng = sketch_rng(seed, stream);
    let basis: &mut [[T; L]] = basis;
    for row in basis.iter_mut().take(r) {
        fill_standard_normal_pairs(&mut row[..l], &mut rng);
    }
    let info = {
        let x = ws.x.rows().as_flattened();
        for _ in 0..q {
            // Yᵀ = QᵀXᵀ (r×k) → orthonormal rows Q_kᵀ → Q_k (k×r) in j.
            let aux = ws.aux.rows_mut();
            kernel::matmul_t_auto(
                basis.as_flattened(),
                L,
                x,
                L,
                l,
                aux.as_flattened_mut(),
                K,
                r,
                k,
            );
            orthonormalize_rows(&mut aux[..r], k, ws.norms);
            transpose(&aux[..r], k, ws.j.rows_mut());
            // Zᵀ = Q_kᵀX (r×l) → orthonormal rows Q_lᵀ.
            let j = ws.j.rows().as_flattened();
            kernel::t_matmul_auto(j, K, x, L, k, basis.as_flattened_mut(), L, r, l);
            orthonormalize_rows(&mut basis[..r], l, ws.norms);
        }
        // Bᵀ = QᵀXᵀ (r×k); its Jacobi rows converge to σ̂ᵢûᵢᵀ.
        let aux = ws.aux.rows_mut();
        kernel::matmul_t_auto(
            basis.as_flattened(),
            L,
            x,
            L,
            l,
            aux.as_flattened_mut(),
            K,
            r,
            k,
        );
        // Only the rows are needed (step 4 uses Û, not V̂): no rotations
        // are accumulated.
        jacobi_rows(
            aux,
            None::<&mut [[T; K]]>,
            ws.norms,
            ws.scale,
            ws.inv_scale,
            r,
            k,
            tol,
            cfg.svd.max_sweeps,
        )?
    };
    // ûᵢ into aux (unit rows), Û (k×r) into j, weights into norms.
    let full = unit_rows_and_weights(
        &mut ws.aux.rows_mut()[..r],
        &mut ws.norms[..r],
        k,
        l,
        e,
        cfg.cutoff,
    );
    transpose(&ws.aux.rows()[..r], k, ws.j.rows_mut());
    // C = diag(w/σ̂)·ÛᵀX (r×l) into the basis rows.
    {
        let x = ws.x.rows().as_flattened();
        let j = ws.j.rows().as_flattened();
        kernel::t_matmul_auto(j, K, x, L, k, basis.as_flattened_mut(), L, r, l);
    }
    for (row, &f) in basis.iter_mut().zip(&ws.norms[..r]) {
        for v in &mut row[..l] {
            *v *= f;
        }
    }
    // D = Û·C (k×l) over X.
    let u = ws.aux.rows().as_flattened();
    kernel::t_matmul_auto(
        u,
        K,
        basis.as_flattened(),
        L,
        r,
        ws.x.rows_mut().as_flattened_mut(),
        L,
        k,
        l,
    );
    Ok(Some(PolarInfo {
        sweeps: info.sweeps,
        rotations: info.rotations,
        rank: full,
    }))
}

/// `dst[a][i] = src[i][a]` for `a < cols`.
fn transpose<T: Copy, const N: usize, const M: usize>(
    src: &[[T; N]],
    cols: usize,
    dst: &mut [[T; M]],
) {
    for (i, srow) in src.iter().enumerate() {
        for (drow, &v) in dst.iter_mut().zip(&srow[..cols.min(N)]) {
            if let Some(d) = drow.get_mut(i) {
                *d = v;
            }
        }
    }
}

/// Replaces the rows (the first `n` entries of each; `rows.len() ≤ n`) by
/// orthonormal rows spanning a space that contains theirs: a Householder LQ
/// `M = L·Qᵀ` (reflectors `Hᵢ` from the right, `τᵢ` in `tau`), then
/// `Qᵀ = [I 0]·H_{r−1}⋯H₀` formed in place, last reflector first (row `i`
/// is `eᵢHᵢ` once the rows below have met `Hᵢ`). Rank-deficient rows still
/// give orthonormal rows.
fn orthonormalize_rows<T: Real, const N: usize>(rows: &mut [[T; N]], n: usize, tau: &mut [T]) {
    let n = n.min(N);
    let r = rows.len().min(tau.len()).min(n);
    let (rows, tau) = (&mut rows[..r], &mut tau[..r]);
    for i in 0..r {
        let (head, tail) = rows.split_at_mut(i + 1);
        let xi = &mut head[i][i..n];
        let t = make_reflector(xi);
        tau[i] = t;
        if t != T::ZERO {
            kernel::reflect_rows(tail.as_flattened_mut(), N, i, n, &xi[1..], t);
        }
    }
    for i in (0..r).rev() {
        let (head, tail) = rows.split_at_mut(i + 1);
        let row = &mut head[i];
        let t = tau[i];
        if t != T::ZERO {
            kernel::reflect_rows(tail.as_flattened_mut(), N, i, n, &row[i + 1..n], t);
        }
        row[..i].fill(T::ZERO);
        row[i] = T::ONE - t;
        for v in &mut row[i + 1..n] {
            *v *= -t;
        }
    }
}

/// The `k×l` rows of `x` into `out` in `out`'s orientation.
fn write_oriented<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    x: &Matrix<T, K, L>,
    out: &mut Matrix<T, R, C>,
) {
    let x = x.rows();
    if orient::<R, C>().tall {
        for (r, orow) in out.rows_mut().iter_mut().enumerate() {
            for (d, xrow) in orow.iter_mut().zip(x) {
                *d = xrow[r];
            }
        }
    } else {
        for (orow, xrow) in out.rows_mut().iter_mut().zip(x) {
            orow.copy_from_slice(&xrow[..C]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_bytes() {
        // The paper's W1 (512×254, f32) with r ≤ 128.
        assert_eq!(RsvdWorkspace::<f32, 254, 512, 128>::BYTES, 1_303_552);
        assert_eq!(
            RsvdWorkspace::<f32, 254, 512, 128>::BYTES - SvdWorkspace::<f32, 254, 512>::BYTES,
            128 * 512 * 4
        );
        assert_eq!(
            RsvdWorkspace::<f64, 8, 8, 0>::BYTES,
            SvdWorkspace::<f64, 8, 8>::BYTES
        );
    }

    #[test]
    fn orthonormal_rows_even_when_rank_deficient() {
        let mut m = [[0.0f64; 7]; 3];
        for (i, row) in m.iter_mut().enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = if i == 2 {
                    0.0
                } else {
                    ((i * 7 + j) as f64 * 0.37).sin()
                };
            }
        }
        m[1] = m[0].map(|v| 2.0 * v); // rank 1
        let orig = m;
        let mut tau = [0.0; 3];
        orthonormalize_rows(&mut m, 7, &mut tau);
        for a in 0..3 {
            for b in 0..3 {
                let d = kernel::dot(&m[a], &m[b]);
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((d - want).abs() < 1e-14, "{a} {b} {d}");
            }
        }
        // The original first row lies in the span.
        let proj: f64 = (0..3).map(|a| kernel::dot(&m[a], &orig[0]).powi(2)).sum();
        assert!((proj - kernel::dot(&orig[0], &orig[0])).abs() < 1e-13);
    }

    #[test]
    fn bad_parameters_are_errors_and_leave_out_alone() {
        let g = Matrix::<f32, 4, 3>::from_fn(|i, j| (i + 2 * j) as f32);
        let mut ws = RsvdWorkspace::<f32, 3, 4, 2>::new();
        let mut out = Matrix::from_fn(|_, _| 7.0);
        let rsvd = |rank, power_iters| PolarConfig {
            method: Method::Rsvd {
                rank,
                power_iters,
                seed: 0,
            },
            ..PolarConfig::default()
        };
        for cfg in [
            rsvd(0, 2),
            rsvd(3, 2),
            rsvd(2, 17),
            rsvd(2, 0),
            PolarConfig::default(),
        ] {
            assert!(matches!(
                polar(&g, &mut out, &mut ws, &cfg, 0),
                Err(EgdError::InvalidParameter { .. })
            ));
        }
        let mut bad = g;
        bad[(1, 1)] = f32::NAN;
        assert_eq!(
            polar(&bad, &mut out, &mut ws, &rsvd(2, 2), 0),
            Err(EgdError::NonFinite)
        );
        assert_eq!(out, Matrix::from_fn(|_, _| 7.0));
        let zero = Matrix::<f32, 4, 3>::zeros();
        assert_eq!(
            polar(&zero, &mut out, &mut ws, &rsvd(2, 2), 0),
            Ok(PolarInfo::default())
        );
        assert_eq!(out, Matrix::zeros());
    }
}
