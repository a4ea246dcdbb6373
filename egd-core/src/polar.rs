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
//!   orthogonal to `eps` whatever `κ`.
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

use crate::error::EgdError;
use crate::kernel;
use crate::matrix::{Matrix, sum_sq};
use crate::scalar::Real;
pub use crate::svd::tol;
use crate::svd::{SvdConfig, SvdWorkspace, factor, keep_warm, load_scaled, orient, prepare};

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
    /// [`polar`] and [`polar_in_place`] answer it with
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

fn jacobi_polar<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &Matrix<T, R, C>,
    out: &mut Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    cfg: &PolarConfig<T>,
) -> Result<PolarInfo, EgdError> {
    match factor_for_polar(g, ws, cfg)? {
        None => {
            out.fill_zero();
            Ok(PolarInfo::default())
        }
        Some((info, qr)) => {
            write_polar(ws, out, qr, cfg);
            Ok(info)
        }
    }
}

fn jacobi_polar_inplace<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &mut Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    cfg: &PolarConfig<T>,
) -> Result<PolarInfo, EgdError> {
    // `g` is read completely into the workspace before it is written.
    match factor_for_polar(g, ws, cfg)? {
        None => Ok(PolarInfo::default()), // g is zero already
        Some((info, qr)) => {
            write_polar(ws, g, qr, cfg);
            Ok(info)
        }
    }
}

/// How the Jacobi path forms the direction.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    /// QR preconditioning: the iteration runs on `Lᵀ` (`k×k`), the direction
    /// is `polar(L)·Q` with `polar(L) = Ŵ·diag(w/σ)·Ŵᵀ·L` ([`assemble_qr`]).
    Qr,
    /// No preconditioning, the oriented rows `X` kept in `j` and `aux`: the
    /// direction is `X·V̂·diag(w/σ)·V̂ᵀ` ([`assemble_stashed`]).
    Stashed,
    /// The rotations are accumulated in `J` and the direction is
    /// `Jᵀ·diag(w/σ)·Y` ([`assemble`]): with a warm start (which keeps `J`)
    /// and where `X` does not fit in `j` and `aux` (`max(R, C) ≥ 2·min(R, C)`
    /// without preconditioning).
    Rotations,
}

impl Route {
    fn of<T, const R: usize, const C: usize, const K: usize>(cfg: &PolarConfig<T>) -> Self {
        let o = orient::<R, C>();
        if cfg.warm_start {
            Self::Rotations
        } else if cfg.precondition && o.k >= 2 && o.l >= 2 * o.k {
            Self::Qr
        } else if stash_fits::<K>(o.k, o.l) {
            Self::Stashed
        } else {
            Self::Rotations
        }
    }
}

/// Whether `k` rows of length `l` fit in `j` and `aux` (`K·K` scalars each,
/// whole rows in each).
fn stash_fits<const K: usize>(k: usize, l: usize) -> bool {
    l > 0 && 2 * (K * K / l) >= k
}

/// Everything up to the converged rows: validation, factorisation (by the
/// [`Route`]) and the cutoff weights. `None` for a zero `g`.
fn factor_for_polar<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    cfg: &PolarConfig<T>,
) -> Result<Option<(PolarInfo, Route)>, EgdError> {
    check_cutoff(cfg.cutoff)?;
    let o = orient::<R, C>();
    let route = Route::of::<T, R, C, K>(cfg);
    let factored = match route {
        Route::Qr => factor_qr(g, ws, &cfg.svd)?,
        Route::Stashed => factor_stashed(g, ws, &cfg.svd)?,
        Route::Rotations => factor(g, ws, &cfg.svd, cfg.warm_start)?,
    };
    let Some((e, svd_info)) = factored else {
        return Ok(None);
    };
    let rank = match route {
        Route::Qr => unit_rows_and_weights(
            &mut ws.aux.rows_mut()[..o.k],
            &mut ws.norms[..o.k],
            o.k,
            o.l,
            e,
            cfg.cutoff,
        ),
        Route::Stashed => unit_rows_and_weights(
            &mut ws.x.rows_mut()[..o.k],
            &mut ws.norms[..o.k],
            o.l,
            o.l,
            e,
            cfg.cutoff,
        ),
        Route::Rotations => scale_rows(
            &mut ws.x.rows_mut()[..o.k],
            &mut ws.norms[..o.k],
            o.l,
            o.l,
            e,
            cfg.cutoff,
        ),
    };
    Ok(Some((
        PolarInfo {
            sweeps: svd_info.sweeps,
            rotations: svd_info.rotations,
            rank,
        },
        route,
    )))
}

fn write_polar<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    ws: &mut SvdWorkspace<T, K, L>,
    out: &mut Matrix<T, R, C>,
    route: Route,
    cfg: &PolarConfig<T>,
) {
    match route {
        Route::Qr => assemble_qr(ws, out),
        Route::Stashed => assemble_stashed(ws, out),
        Route::Rotations => {
            assemble(ws, out);
            if cfg.warm_start {
                keep_warm(ws, orient::<R, C>().k);
            }
        }
    }
}

/// Rows of the oriented `X` kept in `j` (the rest go to `aux`), `l` per row.
fn stash_split<const K: usize>(k: usize, l: usize) -> usize {
    (K * K / l.max(1)).min(k)
}

/// Validates `g`, loads the oriented rows `X`, keeps a copy of them in `j`
/// and `aux` (the first [`stash_split`] rows in `j`, the rest in `aux`, each
/// part flat with row stride `l`) and runs the Jacobi iteration on `X`
/// without accumulating the rotations.
fn factor_stashed<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    cfg: &SvdConfig<T>,
) -> Result<Option<(i32, crate::svd::SvdInfo)>, EgdError> {
    let o = orient::<R, C>();
    let (k, l) = (o.k, o.l);
    let Some((amax, tol)) = prepare::<T, R, C, K, L>(g, cfg, l)? else {
        return Ok(None);
    };
    ws.warm_k = 0;
    let e = load_scaled(g, &mut ws.x, amax);
    let split = stash_split::<K>(k, l);
    let (head, tail) = ws.x.rows()[..k].split_at(split.min(k));
    for (dst, row) in
        ws.j.rows_mut()
            .as_flattened_mut()
            .chunks_exact_mut(l)
            .zip(head)
    {
        dst.copy_from_slice(&row[..l]);
    }
    for (dst, row) in ws
        .aux
        .rows_mut()
        .as_flattened_mut()
        .chunks_exact_mut(l)
        .zip(tail)
    {
        dst.copy_from_slice(&row[..l]);
    }
    let info = crate::svd::jacobi_rows(
        ws.x.rows_mut(),
        None::<&mut [[T; K]]>,
        &mut ws.norms,
        &mut ws.scale,
        &mut ws.inv_scale,
        k,
        l,
        tol,
        cfg.max_sweeps,
    )?;
    Ok(Some((e, info)))
}

/// The direction of the [`Route::Stashed`] path: `X·V̂·diag(w/σ)·V̂ᵀ` with
/// `V̂ᵀ` the unit rows the Jacobi iteration left in `x`, `w/σ` their factors
/// in `norms` and `X` stashed in `j` and `aux`. First `Zᵀ = diag(w/σ)·V̂ᵀ·Xᵀ`
/// (`k×k`, through `out`'s storage, then into `j`), then `Zᵀᵀ·V̂ᵀ` (wide `G`,
/// `out = polar(X)`) or `V̂·Zᵀ` (tall `G`, `out = polar(X)ᵀ`): the same
/// products summed in the same order, so `polar(Gᵀ) = polar(G)ᵀ` bit for bit.
fn assemble_stashed<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    ws: &mut SvdWorkspace<T, K, L>,
    out: &mut Matrix<T, R, C>,
) {
    let o = orient::<R, C>();
    let (k, l) = (o.k, o.l);
    let split = stash_split::<K>(k, l);
    let flat = out.as_mut_slice();
    {
        let v = ws.x.rows().as_flattened();
        // Columns [0, split) of Zᵀ from the rows in j, the rest from aux.
        kernel::matmul_t_auto(v, L, ws.j.rows().as_flattened(), l, l, flat, k, k, split);
        let rest = flat.get_mut(split..).unwrap_or_default();
        kernel::matmul_t_auto(
            v,
            L,
            ws.aux.rows().as_flattened(),
            l,
            l,
            rest,
            k,
            k,
            k - split,
        );
        for ((zrow, jrow), &f) in flat
            .chunks_exact(k)
            .zip(ws.j.rows_mut().iter_mut())
            .zip(&ws.norms[..k])
        {
            for (d, &z) in jrow[..k].iter_mut().zip(zrow) {
                *d = z * f;
            }
        }
    }
    let v = ws.x.rows().as_flattened();
    let z = ws.j.rows().as_flattened();
    if o.tall {
        // out[c][m] = Σᵢ v̂ᵢ[c]·Zᵀ[i][m]
        kernel::t_matmul_auto(v, L, z, K, k, flat, C, R, C);
    } else {
        // out[m][c] = Σᵢ Zᵀ[i][m]·v̂ᵢ[c]
        kernel::t_matmul_auto(z, K, v, L, k, flat, C, R, C);
    }
}

/// The factor that turns a converged row of scaled norm `s` (`σ = s·2^e`;
/// `smax` the largest such norm, `long = max(R, C)` for `Auto`) into its
/// weighted direction under `cutoff`, and whether that direction has full
/// weight: `1/s` above the relative threshold and `0` below it; for
/// `Clamp(ε)`, `1/max(s, ε·2^-e)` (the weight `σ/max(σ, ε)` on the unit row),
/// `0` when that maximum is zero. Shared by the Jacobi and EGD-RSVD paths,
/// so both apply the cutoff with the same bits.
pub(crate) fn cutoff_factor<T: Real>(
    s: T,
    smax: T,
    long: usize,
    e: i32,
    cutoff: Cutoff<T>,
) -> (T, bool) {
    match cutoff {
        Cutoff::Auto | Cutoff::Relative(_) => {
            let tau = match cutoff {
                Cutoff::Relative(t) => t,
                _ => T::from_usize(long) * T::EPSILON,
            };
            if s > tau * smax {
                (T::ONE / s, true)
            } else {
                (T::ZERO, false)
            }
        }
        Cutoff::Clamp(eps) => {
            let eps_scaled = eps.scalbn(-e);
            let d = s.max(eps_scaled);
            if d > T::ZERO {
                (T::ONE / d, s >= eps_scaled)
            } else {
                (T::ZERO, false)
            }
        }
    }
}

/// Scales each converged row `yᵢ = σᵢwᵢᵀ` (scaled units, `σ = ‖yᵢ‖·2^e`,
/// rows of length `len`) by its weight over `σᵢ`, so that the rows become
/// `weightᵢ·wᵢᵀ`. `long` is `max(R, C)` (for the `Auto` cutoff). Returns the
/// count of directions with full weight.
fn scale_rows<T: Real, const N: usize>(
    rows: &mut [[T; N]],
    sig: &mut [T],
    len: usize,
    long: usize,
    e: i32,
    cutoff: Cutoff<T>,
) -> u32 {
    let mut smax = T::ZERO;
    for (s, row) in sig.iter_mut().zip(rows.iter()) {
        *s = sum_sq(&row[..len]).sqrt();
        smax = smax.max(*s);
    }
    let mut rank = 0u32;
    for (s, row) in sig.iter().zip(rows.iter_mut()) {
        let (f, full) = cutoff_factor(*s, smax, long, e, cutoff);
        if full {
            rank += 1;
        }
        for v in &mut row[..len] {
            *v *= f;
        }
    }
    rank
}

/// Forms the direction from the scaled rows `Y = diag(w/σ)·J·X` and `J`:
/// tall (`X = Gᵀ`): `out = Yᵀ·J`; wide (`X = G`): `out = Jᵀ·Y`.
fn assemble<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    ws: &SvdWorkspace<T, K, L>,
    out: &mut Matrix<T, R, C>,
) {
    let o = orient::<R, C>();
    let k = o.k;
    let y = ws.x.rows().as_flattened();
    let j = ws.j.rows().as_flattened();
    if o.tall {
        // out[r][..k] = Σᵢ y[i][r]·j[i][..k]
        kernel::t_matmul_auto(y, L, j, K, k, out.as_mut_slice(), C, R, C);
    } else {
        // out[r][..l] = Σᵢ j[i][r]·y[i][..l]
        kernel::t_matmul_auto(j, K, y, L, k, out.as_mut_slice(), C, R, C);
    }
}

/// Normalises the converged rows `yᵢ = σᵢûᵢᵀ` (scaled units, length `len`)
/// to `ûᵢᵀ` and leaves each direction's factor `wᵢ/σᵢ` in `w` (the
/// [`cutoff_factor`], scaled units; `long = max(R, C)` for `Auto`). A zero
/// row gets factor 0. Returns the count of full-weight directions. Shared by
/// the QR path here and EGD-RSVD, which both form `Û·diag(w/σ)·Ûᵀ·X`.
pub(crate) fn unit_rows_and_weights<T: Real, const N: usize>(
    rows: &mut [[T; N]],
    w: &mut [T],
    len: usize,
    long: usize,
    e: i32,
    cutoff: Cutoff<T>,
) -> u32 {
    let len = len.min(N);
    let mut smax = T::ZERO;
    for (s, row) in w.iter_mut().zip(rows.iter()) {
        *s = sum_sq(&row[..len]).sqrt();
        smax = smax.max(*s);
    }
    let mut full = 0u32;
    for (s, row) in w.iter_mut().zip(rows.iter_mut()) {
        let sigma = *s;
        let (f, kept) = cutoff_factor(sigma, smax, long, e, cutoff);
        if sigma > T::ZERO && f.is_finite() {
            let inv = T::ONE / sigma;
            for v in &mut row[..len] {
                *v *= inv;
            }
            *s = f;
            full += u32::from(kept);
        } else {
            row[..len].fill(T::ZERO);
            *s = T::ZERO;
        }
    }
    full
}

/// Reflectors per panel of the blocked LQ in [`factor_qr`].
const LQ_PANEL: usize = 16;

/// Turns `x = [α, x₁…]` into a Householder reflector in place: returns `τ`
/// and leaves `β` in `x[0]` and `v` in `x[1..]`, so that
/// `(I − τ·v̂v̂ᵀ)·x = β·e₁` with `v̂ = [1, v]` (`τ = 0`: `x` is already `α·e₁`).
pub(crate) fn make_reflector<T: Real>(x: &mut [T]) -> T {
    let Some((alpha, rest)) = x.split_first_mut() else {
        return T::ZERO;
    };
    let xnorm2 = kernel::dot(rest, rest);
    if xnorm2 == T::ZERO {
        return T::ZERO;
    }
    let a = *alpha;
    let mu = (a * a + xnorm2).sqrt();
    let beta = if a >= T::ZERO { -mu } else { mu };
    let inv = T::ONE / (a - beta);
    for v in rest.iter_mut() {
        *v *= inv;
    }
    *alpha = beta;
    (beta - a) / beta
}

/// Validates `g`, loads it, factors the oriented rows `X = L·Q` by Householder
/// reflections (`Lᵀ`, upper triangular, into `ws.aux`; the reflectors stay in
/// `ws.x`: `τᵢ` at `x[i][i]`, `vᵢ[1..]` at `x[i][i+1..l]`) and runs the Jacobi
/// iteration on the rows of `Lᵀ`.
fn factor_qr<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    cfg: &SvdConfig<T>,
) -> Result<Option<(i32, crate::svd::SvdInfo)>, EgdError> {
    let o = orient::<R, C>();
    let (k, l) = (o.k, o.l);
    // The rotations act on rows of the k×k factor: tolerance √k·eps.
    let Some((amax, tol)) = prepare::<T, R, C, K, L>(g, cfg, k)? else {
        return Ok(None);
    };
    ws.warm_k = 0;
    let e = load_scaled(g, &mut ws.x, amax);
    let x = &mut ws.x.rows_mut()[..k];
    // Blocked by panels of LQ_PANEL rows: a panel's reflectors are made and
    // applied within the panel, then applied, in order, to the rows below a
    // few rows at a time (each row meets the same reflectors in the same
    // order as in the plain algorithm, with the rows and the panel in L1).
    //
    // Pivoting by panels: at the start of each panel the rows that are left
    // are ranked by the norm of their remaining part and the largest go to
    // the panel, largest first (Businger–Golub pivoting, refreshed once per
    // panel). `L` then has a decreasing diagonal, and the Jacobi iteration on
    // its columns needs about 13 % fewer rotations on EGD gradients. The
    // permutation is undone when the direction is assembled.
    for (i, p) in ws.perm.iter_mut().enumerate().take(k) {
        *p = i;
    }
    let mut i0 = 0;
    while i0 < k {
        let i1 = (i0 + LQ_PANEL).min(k);
        for (n, row) in ws.norms[i0..k].iter_mut().zip(&x[i0..]) {
            *n = kernel::dot(&row[i0..l], &row[i0..l]);
        }
        for i in i0..i1 {
            let (mut best, mut nbest) = (i, ws.norms.get(i).copied().unwrap_or(T::ZERO));
            for (r, &n) in ws.norms.iter().enumerate().take(k).skip(i + 1) {
                if n > nbest {
                    (best, nbest) = (r, n);
                }
            }
            let fits = |len: usize| i < len && best < len;
            if best != i && fits(x.len()) && fits(ws.norms.len()) && fits(ws.perm.len()) {
                x.swap(i, best);
                ws.norms.swap(i, best);
                ws.perm.swap(i, best);
            }
        }
        for i in i0..i1 {
            let (head, tail) = x.split_at_mut(i + 1);
            let xi = &mut head[i][i..l];
            let tau = make_reflector(xi);
            ws.norms[i] = tau;
            if tau != T::ZERO {
                let panel = tail.get_mut(..i1 - i - 1).unwrap_or_default();
                kernel::reflect_rows(panel.as_flattened_mut(), L, i, l, &xi[1..], tau);
            }
        }
        let (panel, rest) = x.split_at_mut(i1);
        for block in rest.chunks_mut(ASSEMBLY_ROWS) {
            for i in i0..i1 {
                let tau = ws.norms[i];
                if tau != T::ZERO {
                    kernel::reflect_rows(
                        block.as_flattened_mut(),
                        L,
                        i,
                        l,
                        &panel[i][i + 1..l],
                        tau,
                    );
                }
            }
        }
        i0 = i1;
    }
    // Lᵀ into aux (upper triangle, β on the diagonal): as Drmač and Veselić
    // advise, the iteration runs on the rows of Lᵀ (the columns of L), which
    // converges in fewer sweeps. τ replaces β in x. A copy of Lᵀ stays in j
    // for the assembly (the rotations are not accumulated).
    let aux = ws.aux.rows_mut();
    for (i, xrow) in x.iter_mut().enumerate() {
        aux[i][..i].fill(T::ZERO);
        for (c, &v) in xrow[..=i].iter().enumerate() {
            aux[c][i] = v;
        }
        xrow[i] = ws.norms[i];
    }
    for (jrow, arow) in ws.j.rows_mut().iter_mut().zip(aux.iter()).take(k) {
        jrow[..k].copy_from_slice(&arow[..k]);
    }
    let info = crate::svd::jacobi_rows(
        ws.aux.rows_mut(),
        None::<&mut [[T; K]]>,
        &mut ws.norms,
        &mut ws.scale,
        &mut ws.inv_scale,
        k,
        k,
        tol,
        cfg.max_sweeps,
    )?;
    Ok(Some((e, info)))
}

/// Rows of `B` per pass over the reflectors in [`assemble_qr`].
const ASSEMBLY_ROWS: usize = 8;

/// The QR path's direction in the wide layout `k×l`: `B = [M 0]` with
/// `M = Ŵ·diag(w/σ)·Ŵᵀ·L = polar(L)` (`Ŵᵀ` the unit rows `ûᵢᵀ` the Jacobi
/// iteration left in `aux`, `w/σ` their factors in `norms`, `Lᵀ` in `j`):
/// first `Zᵀ = diag(w/σ)·Ŵᵀ·L` (`k×k`, through `out`'s storage), then
/// `M = Ŵ·Zᵀ` (into `j`); then `B ← B·P_{k−1}⋯P₀` (the reflectors, four rows of `B` per pass over each
/// reflector). Wide `G`: `out = B`, built in place. Tall `G`: `B` is built in
/// `out`'s storage viewed as `k` rows of length `l`, moved to the workspace
/// and transposed into `out`, so both orientations of `G` run the same
/// arithmetic and `polar(Gᵀ) = polar(G)ᵀ` bit for bit.
fn assemble_qr<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    ws: &mut SvdWorkspace<T, K, L>,
    out: &mut Matrix<T, R, C>,
) {
    let o = orient::<R, C>();
    let (k, l) = (o.k, o.l);
    let flat = out.as_mut_slice();
    // Zᵀ into the first k columns of B (row stride l), then M into j, then M
    // into the first k columns of B, zeros after.
    {
        let w = ws.aux.rows().as_flattened();
        kernel::matmul_t_auto(w, K, ws.j.rows().as_flattened(), K, k, flat, l, k, k);
        for (row, &f) in flat.chunks_exact_mut(l).zip(&ws.norms[..k]) {
            for v in &mut row[..k] {
                *v *= f;
            }
        }
        let m = ws.j.rows_mut().as_flattened_mut();
        kernel::t_matmul_auto(w, K, flat, l, k, m, K, k, k);
        for (row, mrow) in flat.chunks_exact_mut(l).zip(ws.j.rows()).take(k) {
            row[..k].copy_from_slice(&mrow[..k]);
            row[k..].fill(T::ZERO);
        }
    }
    // The reflectors, last first (τᵢ at x[i][i], vᵢ at x[i][i+1..l]), to a
    // few rows of B at a time: the rows stay in L1 while the reflectors
    // stream past once per block.
    let x = &ws.x.rows()[..k];
    let b = flat.get_mut(..k * l).unwrap_or_default();
    for block in b.chunks_mut(ASSEMBLY_ROWS * l) {
        for i in (0..k).rev() {
            let tau = x[i][i];
            if tau != T::ZERO {
                kernel::reflect_rows(block, l, i, l, &x[i][i + 1..l], tau);
            }
        }
    }
    // B's row i belongs to row perm[i] of polar(X) (the LQ's pivoting): B →
    // the workspace, then back in place, transposed for a tall G.
    let xs = ws.x.rows_mut();
    for (xrow, brow) in xs.iter_mut().zip(flat.chunks_exact(l)).take(k) {
        xrow[..l].copy_from_slice(brow);
    }
    let (x, perm) = (&ws.x.rows()[..k], &ws.perm[..k]);
    if o.tall {
        for (r, orow) in out.rows_mut().iter_mut().enumerate() {
            for (xrow, &dst) in x.iter().zip(perm) {
                if let Some(d) = orow.get_mut(dst) {
                    *d = xrow[r];
                }
            }
        }
    } else {
        let rows = out.rows_mut();
        for (xrow, &dst) in x.iter().zip(perm) {
            if let Some(orow) = rows.get_mut(dst) {
                orow.copy_from_slice(&xrow[..C]);
            }
        }
    }
}

/// Muon's quintic coefficients.
pub const NS_COEFFS: (f64, f64, f64) = (3.4445, -4.7750, 2.0315);

fn newton_schulz<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &Matrix<T, R, C>,
    out: &mut Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    steps: u8,
) -> Result<PolarInfo, EgdError> {
    if !ns_load(g, ws)? {
        out.fill_zero();
        return Ok(PolarInfo::default());
    }
    Ok(ns_iterate::<T, R, C, K, L>(ws, out, steps))
}

fn newton_schulz_inplace<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
>(
    g: &mut Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    steps: u8,
) -> Result<PolarInfo, EgdError> {
    if !ns_load(g, ws)? {
        return Ok(PolarInfo::default());
    }
    Ok(ns_iterate::<T, R, C, K, L>(ws, g, steps))
}

/// Loads `G/‖G‖_F` (oriented) into the workspace; `false` for a zero `G`.
fn ns_load<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
) -> Result<bool, EgdError> {
    const {
        assert!(
            (if R < C { R } else { C }) <= K && (if R > C { R } else { C }) <= L,
            "workspace too small: need min(R, C) <= K and max(R, C) <= L"
        )
    };
    if !g.is_finite() {
        return Err(EgdError::NonFinite);
    }
    let amax = g.max_abs();
    if amax == T::ZERO {
        return Ok(false);
    }
    // Exact power-of-two prescaling, then the norm of the oriented rows in
    // row order, so that both orientations of `G` give the same bits.
    load_scaled(g, &mut ws.x, amax);
    let o = orient::<R, C>();
    let mut sq = T::ZERO;
    for row in &ws.x.rows()[..o.k] {
        sq += sum_sq(&row[..o.l]);
    }
    let inv = T::ONE / sq.sqrt();
    for row in &mut ws.x.rows_mut()[..o.k] {
        for v in &mut row[..o.l] {
            *v *= inv;
        }
    }
    Ok(true)
}

/// Runs the quintic iteration, ping-ponging between the workspace rows and
/// `out`'s storage viewed as `k` rows of length `l`, then writes the oriented
/// result into `out`. Cannot fail: `‖X‖_F = 1` keeps every value bounded.
fn ns_iterate<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    ws: &mut SvdWorkspace<T, K, L>,
    out: &mut Matrix<T, R, C>,
    steps: u8,
) -> PolarInfo {
    let o = orient::<R, C>();
    let (k, l) = (o.k, o.l);
    let (a, b, c) = (
        T::from_f64(NS_COEFFS.0),
        T::from_f64(NS_COEFFS.1),
        T::from_f64(NS_COEFFS.2),
    );
    let mut in_ws = true; // where the current iterate lives
    for _ in 0..steps {
        let (src, ss, dst, ds): (&[T], usize, &mut [T], usize) = if in_ws {
            (ws.x.rows().as_flattened(), L, out.as_mut_slice(), l)
        } else {
            (out.as_slice(), l, ws.x.rows_mut().as_flattened_mut(), L)
        };
        let row = |i: usize| src.get(i * ss..i * ss + l).unwrap_or(&[]);
        // A = X Xᵀ (symmetric), into aux.
        let am = ws.aux.rows_mut();
        for i in 0..k {
            for jj in 0..=i {
                let v = kernel::dot(row(i), row(jj));
                am[i][jj] = v;
                am[jj][i] = v;
            }
        }
        // B = bA + cA² into j (A² = AᵀA: exactly symmetric, like A).
        let am = ws.aux.rows().as_flattened();
        let bm = ws.j.rows_mut().as_flattened_mut();
        kernel::t_matmul_auto(am, K, am, K, k, bm, K, k, k);
        for (brow, arow) in bm.chunks_exact_mut(K).zip(am.chunks_exact(K)).take(k) {
            for (d, &v) in brow[..k].iter_mut().zip(&arow[..k]) {
                *d = b * v + c * *d;
            }
        }
        // X' = aX + BX (BX = BᵀX, B symmetric).
        let bm = ws.j.rows().as_flattened();
        kernel::t_matmul_auto(bm, K, src, ss, k, dst, ds, k, l);
        for i in 0..k {
            if let (Some(d), Some(x)) =
                (dst.get_mut(i * ds..i * ds + l), src.get(i * ss..i * ss + l))
            {
                for (d, &v) in d.iter_mut().zip(x) {
                    *d += a * v;
                }
            }
        }
        in_ws = !in_ws;
    }
    // Bring the result into `out` in its own layout.
    if !in_ws {
        if !o.tall {
            return PolarInfo {
                rank: k as u32,
                ..PolarInfo::default()
            }; // same layout already
        }
        // Move the k×l iterate from `out` into the workspace, then transpose.
        let flat = out.as_slice();
        for (i, xrow) in ws.x.rows_mut()[..k].iter_mut().enumerate() {
            xrow[..l].copy_from_slice(&flat[i * l..(i + 1) * l]);
        }
    }
    let x = ws.x.rows();
    if o.tall {
        for (r, orow) in out.rows_mut().iter_mut().enumerate() {
            for (i, d) in orow.iter_mut().enumerate() {
                *d = x[i][r];
            }
        }
    } else {
        for (orow, xrow) in out.rows_mut().iter_mut().zip(x) {
            orow.copy_from_slice(&xrow[..C]);
        }
    }
    PolarInfo {
        rank: k as u32,
        ..PolarInfo::default()
    }
}
