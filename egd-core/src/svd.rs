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

use crate::error::EgdError;
use crate::kernel;
use crate::matrix::{Matrix, dot, sum_sq};
use crate::scalar::Real;

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

/// Caller-owned scratch for [`svd`] and the [`polar`](crate::polar) functions.
///
/// Serves every matrix with `min(R, C) ≤ K` and `max(R, C) ≤ L`; size
/// [`Self::BYTES`]. Place it in a `static`, on the stack or in an arena.
///
/// ```
/// use egd_core::svd::SvdWorkspace;
/// assert_eq!(SvdWorkspace::<f32, 16, 16>::BYTES, 3400);
/// ```
#[derive(Clone, Debug)]
pub struct SvdWorkspace<T, const K: usize, const L: usize> {
    pub(crate) x: Matrix<T, K, L>,
    pub(crate) j: Matrix<T, K, K>,
    pub(crate) aux: Matrix<T, K, K>,
    pub(crate) norms: [T; K],
    /// Per-row scales of the fast scaled rotations and their inverses.
    pub(crate) scale: [T; K],
    pub(crate) inv_scale: [T; K],
    /// The row permutation of the pivoted LQ (QR path of the polar factor).
    pub(crate) perm: [usize; K],
    /// Row count `k` of the rotation kept in `aux` for a warm start (0: none).
    pub(crate) warm_k: usize,
}

impl<T: Real, const K: usize, const L: usize> SvdWorkspace<T, K, L> {
    /// Size in bytes: `(K·L + 2·K² + 3·K)·size_of::<T>()` plus `K + 1` `usize`s.
    pub const BYTES: usize = size_of::<Self>();

    /// Forgets the rotation kept for a warm start (see
    /// [`PolarConfig::warm_start`](crate::polar::PolarConfig::warm_start)).
    pub fn reset_warm_start(&mut self) {
        self.warm_k = 0;
    }

    /// A zeroed workspace: every byte is zero, so a `static` of it lands in
    /// `.bss` (the Jacobi iteration sets its scales to one before each use).
    #[must_use]
    pub const fn new() -> Self {
        const { assert!(K <= L, "workspace: K (the short side) must not exceed L") };
        Self {
            x: Matrix::zeros(),
            j: Matrix::zeros(),
            aux: Matrix::zeros(),
            norms: [T::ZERO; K],
            scale: [T::ZERO; K],
            inv_scale: [T::ZERO; K],
            perm: [0; K],
            warm_k: 0,
        }
    }
}

impl<T: Real, const K: usize, const L: usize> Default for SvdWorkspace<T, K, L> {
    fn default() -> Self {
        Self::new()
    }
}

/// Shape facts of one call: `k` rows of length `l` after orientation.
#[derive(Clone, Copy)]
pub(crate) struct Oriented {
    pub k: usize,
    pub l: usize,
    pub tall: bool,
}

pub(crate) const fn orient<const R: usize, const C: usize>() -> Oriented {
    if R >= C {
        Oriented {
            k: C,
            l: R,
            tall: true,
        }
    } else {
        Oriented {
            k: R,
            l: C,
            tall: false,
        }
    }
}

/// Copies `a` (transposed if tall) into the first `k×l` block of `x`, scaled
/// by the exact power of two `2^-e` that brings `max|a|` into `[0.5, 1)`.
/// Returns `e`. `a` must be finite and nonzero.
pub(crate) fn load_scaled<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
>(
    a: &Matrix<T, R, C>,
    x: &mut Matrix<T, K, L>,
    amax: T,
) -> i32 {
    let e = amax.exponent();
    // Two factors so that each is representable even for subnormal maxima.
    let f1 = T::ONE.scalbn(-(e / 2));
    let f2 = T::ONE.scalbn(-(e - e / 2));
    let o = orient::<R, C>();
    if o.tall {
        for (r, arow) in a.rows().iter().enumerate() {
            for (i, &v) in arow.iter().enumerate() {
                x.rows_mut()[i][r] = v * f1 * f2;
            }
        }
    } else {
        for (xrow, arow) in x.rows_mut().iter_mut().zip(a.rows()) {
            for (d, &v) in xrow.iter_mut().zip(arow) {
                *d = v * f1 * f2;
            }
        }
    }
    e
}

/// A pivot row `p`, its partner `q > p` (both mutable) and the next
/// partner `q + 1` if there is one.
type PivotRows<'a, T, const N: usize> = (&'a mut [T; N], &'a mut [T; N], Option<&'a [T; N]>);

/// Rows `p < q` of `m`, both mutable, and row `q + 1` if there is one;
/// `None` out of range (never, for the callers here: it keeps the code free
/// of panic paths).
#[inline]
fn pivot_rows<T, const N: usize>(
    m: &mut [[T; N]],
    p: usize,
    q: usize,
) -> Option<PivotRows<'_, T, N>> {
    let (lo, hi) = m.split_at_mut_checked(q)?;
    let (xq, rest) = hi.split_first_mut()?;
    Some((lo.get_mut(p)?, xq, rest.first()))
}

/// Scales outside `[1/64, 64]` are folded into their rows at the start of a
/// sweep, so the stored rows stay within a few bits of the true ones.
const SCALE_BAND: f64 = 64.0;

/// Sweeps run with a threshold: a pair is rotated only if its relative
/// cosine is at least the mean of the pairs tested so far in the sweep
/// (Rutishauser's threshold strategy: in the first sweeps of a cold start
/// nearly every pair is far from orthogonal, and the small rotations are the
/// ones that barely reduce the off-diagonal mass). Convergence is only ever
/// declared by a later sweep without threshold.
const THRESHOLD_SWEEPS: u16 = 2;

/// Per-row state of the iteration: norms (not squared), the scales of the
/// fast rotations and their inverses.
struct RowState<'a, T> {
    norm: &'a mut [T],
    scale: &'a mut [T],
    inv: &'a mut [T],
}

/// One planned rotation of rows `p, q`: true squared norms `a`, `b`, true
/// dot `g` and `t = tan θ`.
#[derive(Clone, Copy)]
struct Plan<T> {
    p: usize,
    q: usize,
    a: T,
    b: T,
    g: T,
    t: T,
}

/// Runs Jacobi sweeps on the first `k` rows (length `l`) of `x`. With
/// `Some(j)` the rotations are accumulated into the first `k` rows (length
/// `k`) of `j`, which must hold an orthogonal start (usually the identity);
/// with `None` only the rows of `x` are rotated (half the work per rotation
/// when `l = k`; the rows of `x` come out bit for bit the same either way,
/// `J` never feeds back into them). `tol` is the relative
/// orthogonality tolerance. `norm`, `scale` and `inv` are scratch of length
/// `k`.
///
/// **Order.** Row-cyclic: pivot `p = 0, 1, …` against `q = p+1, …, k−1`,
/// with de Rijk's pivoting (the largest remaining row moves to position `p`
/// first).
///
/// **Rotations.** LAPACK's *fast scaled rotations* (`xGSVJ0`): the true row
/// `i` is `scale[i]·x[i]` (and `scale[i]·j[i]`), and a rotation of rows
/// `p, q` is two shears `x_p ← x_p − α x_q`, `x_q ← x_q + β x_p` with the
/// cosine moved into the scales (the larger scale shrinks by `c`, the
/// smaller grows by `1/c`): two multiplications per element instead of four.
/// The dot product of the pivot with its next partner is computed in the
/// same pass. The scales are folded back before returning, so on `Ok` the
/// rows of `x` and `j` are the true ones.
///
/// **Angle.** `t = sign·2|g| / (|b−a| + √((b−a)² + 4g²))` (Rutishauser's
/// `t = sign(ζ)/(|ζ| + √(1+ζ²))`, `ζ = (b−a)/2g`, multiplied through by
/// `2|g|`: no overflow for large `ζ`, one division fewer); norms are cached
/// unsquared, so a pair that needs no rotation costs no square root.
pub(crate) fn jacobi_rows<T: Real, const N: usize, const K: usize>(
    x: &mut [[T; N]],
    j: Option<&mut [[T; K]]>,
    norm: &mut [T],
    scale: &mut [T],
    inv: &mut [T],
    k: usize,
    l: usize,
    tol: T,
    max_sweeps: u16,
) -> Result<SvdInfo, EgdError> {
    // Clamp the sizes to the buffers so every index below is provably in
    // bounds (no panic path; the callers pass consistent sizes).
    let k = k
        .min(x.len())
        .min(j.as_ref().map_or(usize::MAX, |j| j.len()))
        .min(norm.len())
        .min(scale.len())
        .min(inv.len())
        .min(K);
    let l = l.min(N);
    let x = &mut x[..k];
    // Without accumulation `j` is empty and every step below skips it.
    let j: &mut [[T; K]] = match j {
        Some(j) => j.get_mut(..k).unwrap_or_default(),
        None => &mut [],
    };
    let mut st = RowState {
        norm: &mut norm[..k],
        scale: &mut scale[..k],
        inv: &mut inv[..k],
    };
    // Rows with ‖x‖² ≤ MIN_POSITIVE/eps are treated as zero.
    let small = (T::MIN_POSITIVE / T::EPSILON).sqrt();
    let root_eps = T::EPSILON.sqrt();
    let tiny = T::MIN_POSITIVE / T::EPSILON;
    let (lo_band, hi_band) = (T::from_f64(1.0 / SCALE_BAND), T::from_f64(SCALE_BAND));
    st.scale.fill(T::ONE);
    st.inv.fill(T::ONE);
    let mut rotations = 0u32;
    for sweep in 1..=max_sweeps {
        let rows = x.iter_mut().zip(st.scale.iter_mut()).zip(st.inv.iter_mut());
        for (i, (((xr, d), iv), n)) in rows.zip(st.norm.iter_mut()).enumerate() {
            if *d < lo_band || *d > hi_band {
                fold(&mut xr[..l], j.get_mut(i).map(|r| &mut r[..k]), *d);
                *d = T::ONE;
                *iv = T::ONE;
            }
            *n = kernel::dot(&xr[..l], &xr[..l]).sqrt() * *d;
        }
        let mut rotated = false;
        let threshold = sweep <= THRESHOLD_SWEEPS;
        let (mut cos_sum, mut cos_count) = (T::ZERO, T::ZERO);
        for p in 0..k.saturating_sub(1) {
            // de Rijk: bring the largest remaining row to the pivot position.
            let mut imax = p;
            let mut nmax = st.norm[p];
            for (i, &n) in st.norm.iter().enumerate().skip(p + 1) {
                if n > nmax {
                    imax = i;
                    nmax = n;
                }
            }
            if imax != p {
                swap_rows(x, p, imax);
                swap_rows(j, p, imax);
                swap_rows(st.norm, p, imax);
                swap_rows(st.scale, p, imax);
                swap_rows(st.inv, p, imax);
            }
            if nmax <= small {
                break; // every remaining row is numerically zero
            }
            // dot(x_p, x_q) of the current q, when the previous rotation
            // computed it on the way (scaled units).
            let mut known: Option<T> = None;
            for q in p + 1..k {
                let (rp, rq) = (st.norm[p], st.norm[q]);
                let raw = known.take();
                if rq <= small {
                    continue;
                }
                let g = match raw {
                    Some(g) => g,
                    None => kernel::dot(&x[p][..l], &x[q][..l]),
                } * st.scale[p]
                    * st.scale[q];
                let ab = rp * rq;
                if g.abs() <= tol * ab {
                    continue;
                }
                if threshold {
                    let cos = g.abs() / ab;
                    cos_sum += cos;
                    cos_count += T::ONE;
                    if cos * cos_count < cos_sum {
                        rotated = true; // not converged: this pair was skipped
                        continue;
                    }
                }
                let (a, b) = (rp * rp, rq * rq);
                let t = tangent(a, b, g, tiny);
                let plan = Plan { p, q, a, b, g, t };
                known = rotate_pair(x, j, &mut st, &plan, l, k, root_eps);
                rotations = rotations.saturating_add(1);
                rotated = true;
            }
        }
        if !rotated {
            for (i, (&d, xr)) in st.scale.iter().zip(x.iter_mut()).enumerate() {
                fold(&mut xr[..l], j.get_mut(i).map(|r| &mut r[..k]), d);
            }
            return Ok(SvdInfo {
                sweeps: sweep,
                rotations,
            });
        }
    }
    Err(EgdError::NotConverged { sweeps: max_sweeps })
}

/// `t = tan θ` of the rotation that makes rows with squared norms `a`, `b`
/// and dot `g ≠ 0` orthogonal (the smaller of the two solutions):
/// `t = sign(ζ)·2|g| / (|b−a| + √((b−a)² + 4g²))`, `ζ = (b−a)/2g`. When the
/// squares would underflow (rows far below `1`), the `ζ` form is used.
#[inline(always)]
fn tangent<T: Real>(a: T, b: T, g: T, tiny: T) -> T {
    let (diff, num) = (b - a, g.abs() + g.abs());
    let sign = diff.signum() * g.signum();
    let s2 = diff * diff + num * num;
    if s2 > tiny {
        sign * num / (diff.abs() + s2.sqrt())
    } else {
        let zeta = diff / (g + g);
        let big_theta = T::ONE / T::EPSILON.sqrt();
        if zeta.abs() > big_theta {
            T::HALF / zeta
        } else {
            zeta.signum() / (zeta.abs() + (T::ONE + zeta * zeta).sqrt())
        }
    }
}

/// Applies one planned rotation (rows of `x` and `j`, scales, cached norms)
/// and returns `dot(x_p, x_next)` of the rotated pivot, if a next row exists.
#[inline(always)]
fn rotate_pair<T: Real, const N: usize, const K: usize>(
    x: &mut [[T; N]],
    j: &mut [[T; K]],
    st: &mut RowState<'_, T>,
    r: &Plan<T>,
    l: usize,
    k: usize,
    root_eps: T,
) -> Option<T> {
    let (Some(&dp), Some(&dq), Some(&ip), Some(&iq)) = (
        st.scale.get(r.p),
        st.scale.get(r.q),
        st.inv.get(r.p),
        st.inv.get(r.q),
    ) else {
        return None;
    };
    let (xp, xq, next) = pivot_rows(x, r.p, r.q)?;
    let (xp, xq) = (&mut xp[..l], &mut xq[..l]);
    let next = next.map(|n| &n[..l]);
    // No rows of `J` when the rotations are not accumulated.
    let jrows = if j.is_empty() {
        None
    } else {
        let (jp, jq, _) = pivot_rows(j, r.p, r.q)?;
        Some((&mut jp[..k], &mut jq[..k]))
    };
    // w = 1/c = √(1+t²); c² = 1/(1+t²) by a division, off the square root:
    // β needs it first.
    let t = r.t;
    let w = (T::ONE + t * t).sqrt();
    let c2 = T::ONE / (T::ONE + t * t);
    let c = w * c2;
    // The shear pair, its order, and (scale, inverse) of p and q after it.
    let (p_first, alpha, beta, (sp, ip2), (sq, iq2)) = if dp >= dq {
        // x_p ← x_p − t(d_q/d_p)·x_q, d_p ← c·d_p;
        // x_q ← x_q + t·c²(d_p/d_q)·x_p, d_q ← d_q/c.
        let (alpha, beta) = (t * dq * ip, t * c2 * dp * iq);
        (true, alpha, beta, (dp * c, ip * w), (dq * w, iq * c))
    } else {
        // x_q ← x_q + t(d_p/d_q)·x_p, d_q ← c·d_q;
        // x_p ← x_p − t·c²(d_q/d_p)·x_q, d_p ← d_p/c.
        let (alpha, beta) = (-(t * dp * iq), -(t * c2 * dq * ip));
        (false, alpha, beta, (dp * w, ip * c), (dq * c, iq * w))
    };
    let known = if p_first {
        shear_rows::<T, true>(xp, xq, jrows, next, alpha, beta)
    } else {
        shear_rows::<T, false>(xq, xp, jrows.map(|(p, q)| (q, p)), next, alpha, beta)
    };
    let na = r.a - t * r.g;
    let nb = r.b + t * r.g;
    let np = if na <= r.a * root_eps {
        kernel::dot(xp, xp).sqrt() * sp
    } else {
        na.sqrt()
    };
    let nq = if nb <= r.b * root_eps {
        kernel::dot(xq, xq).sqrt() * sq
    } else {
        nb.sqrt()
    };
    for (i, n, s, v) in [(r.p, np, sp, ip2), (r.q, nq, sq, iq2)] {
        if let (Some(a), Some(b), Some(c)) =
            (st.norm.get_mut(i), st.scale.get_mut(i), st.inv.get_mut(i))
        {
            *a = n;
            *b = s;
            *c = v;
        }
    }
    known
}

/// The shear pair on rows `u, v` of `x` (`u` first) and on the same rows of
/// `J` (if accumulated); returns the dot of the pivot (`u` if `PIVOT_FIRST`, else `v`) with
/// `next`, computed on the way.
#[inline(always)]
fn shear_rows<T: Real, const PIVOT_FIRST: bool>(
    u: &mut [T],
    v: &mut [T],
    jrows: Option<(&mut [T], &mut [T])>,
    next: Option<&[T]>,
    alpha: T,
    beta: T,
) -> Option<T> {
    let known = match next {
        Some(nx) => Some(kernel::shear_dot::<T, PIVOT_FIRST>(u, v, nx, alpha, beta)),
        None => {
            kernel::shear(u, v, alpha, beta);
            None
        }
    };
    if let Some((ju, jv)) = jrows {
        kernel::shear(ju, jv, alpha, beta);
    }
    known
}

/// Swaps `s[a]` and `s[b]` when both exist (the callers' indices always do:
/// the check keeps the sweep free of panic paths, and skips the empty `J` of
/// an iteration that does not accumulate it).
#[inline(always)]
fn swap_rows<T>(s: &mut [T], a: usize, b: usize) {
    if a < s.len() && b < s.len() {
        s.swap(a, b);
    }
}

/// `x ← d·x`, `j ← d·j` (nothing for `d = 1`).
#[inline]
fn fold<T: Real>(x: &mut [T], j: Option<&mut [T]>, d: T) {
    if d != T::ONE {
        for v in x.iter_mut().chain(j.into_iter().flatten()) {
            *v *= d;
        }
    }
}

/// The first `k` rows (length `k`) of `j` become the identity.
pub(crate) fn set_identity<T: Real, const K: usize>(j: &mut [[T; K]], k: usize) {
    for (i, row) in j.iter_mut().take(k).enumerate() {
        let row = &mut row[..k.min(K)];
        row.fill(T::ZERO);
        if let Some(d) = row.get_mut(i) {
            *d = T::ONE;
        }
    }
}

/// Default rotation tolerance `√l·eps`.
pub(crate) fn default_tol<T: Real>(l: usize) -> T {
    T::from_usize(l).sqrt() * T::EPSILON
}

/// The checks every entry point shares, before anything is written: the
/// workspace fits (at compile time), `a` is finite, the tolerance (default
/// `√row_len·eps`) is a positive finite number. `Ok(None)` for an all-zero
/// `a`, else `max|a|` and the tolerance.
pub(crate) fn prepare<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    a: &Matrix<T, R, C>,
    cfg: &SvdConfig<T>,
    row_len: usize,
) -> Result<Option<(T, T)>, EgdError> {
    const {
        assert!(
            (if R < C { R } else { C }) <= K && (if R > C { R } else { C }) <= L,
            "workspace too small: need min(R, C) <= K and max(R, C) <= L"
        )
    };
    if !a.is_finite() {
        return Err(EgdError::NonFinite);
    }
    let amax = a.max_abs();
    if amax == T::ZERO {
        return Ok(None);
    }
    let tol = cfg.tol.unwrap_or_else(|| default_tol(row_len));
    if tol.is_nan() || tol <= T::ZERO || !tol.is_finite() {
        return Err(EgdError::InvalidParameter {
            name: "tol",
            expected: "a finite value > 0",
        });
    }
    Ok(Some((amax, tol)))
}

/// Validates `a`, loads it into the workspace and runs the Jacobi iteration.
/// Returns `Ok(None)` for an all-zero input, else the scale exponent.
///
/// With `warm`, and a rotation of the right size kept in `ws.aux` by an
/// earlier call, the iteration starts from that rotation `J₀`: the rows are
/// pre-rotated (`X ← J₀·X`) and `J ← J₀`. Any orthogonal start gives the same
/// decomposition to the accuracy contract; a good one saves sweeps.
pub(crate) fn factor<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    a: &Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    cfg: &SvdConfig<T>,
    warm: bool,
) -> Result<Option<(i32, SvdInfo)>, EgdError> {
    let Some((amax, tol)) = prepare::<T, R, C, K, L>(a, cfg, orient::<R, C>().l)? else {
        return Ok(None);
    };
    let o = orient::<R, C>();
    let e = if warm && ws.warm_k == o.k {
        let e = load_rotated(a, ws, amax);
        let k = o.k;
        for (jrow, arow) in ws.j.rows_mut()[..k].iter_mut().zip(ws.aux.rows()) {
            jrow[..k].copy_from_slice(&arow[..k]);
        }
        e
    } else {
        let e = load_scaled(a, &mut ws.x, amax);
        set_identity(ws.j.rows_mut(), o.k);
        e
    };
    ws.warm_k = 0; // the kept rotation is consumed (or stale) from here on
    let info = jacobi_rows(
        ws.x.rows_mut(),
        Some(ws.j.rows_mut()),
        &mut ws.norms,
        &mut ws.scale,
        &mut ws.inv_scale,
        o.k,
        o.l,
        tol,
        cfg.max_sweeps,
    )?;
    Ok(Some((e, info)))
}

/// `x = J₀·X·2^-e` with `J₀ = aux` (`k×k`), `X` the oriented `a`.
fn load_rotated<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    a: &Matrix<T, R, C>,
    ws: &mut SvdWorkspace<T, K, L>,
    amax: T,
) -> i32 {
    let e = amax.exponent();
    let (f1, f2) = (T::ONE.scalbn(-(e / 2)), T::ONE.scalbn(-(e - e / 2)));
    let o = orient::<R, C>();
    let (k, l) = (o.k, o.l);
    let x = &mut ws.x.rows_mut()[..k];
    let j0 = &ws.aux.rows()[..k];
    if o.tall {
        // X = Aᵀ: x[i][r] = Σₘ J₀[i][m]·A[r][m] = J₀[i]·A[r].
        for (xrow, jrow) in x.iter_mut().zip(j0) {
            for (d, arow) in xrow[..l].iter_mut().zip(a.rows()) {
                *d = dot(&jrow[..k], arow) * f1 * f2;
            }
        }
    } else {
        // X = A: x[i] = Σₘ J₀[i][m]·A[m].
        for (xrow, jrow) in x.iter_mut().zip(j0) {
            let xrow = &mut xrow[..l];
            xrow.fill(T::ZERO);
            for (&c, arow) in jrow[..k].iter().zip(a.rows()) {
                if c != T::ZERO {
                    crate::matrix::axpy(c, arow, xrow);
                }
            }
            for v in xrow.iter_mut() {
                *v = *v * f1 * f2;
            }
        }
    }
    e
}

/// Keeps the converged rotation `J` (in `ws.j`) for the next warm start,
/// re-orthogonalised by one Newton–Schulz step `J ← 1.5J − 0.5(JJᵀ)J` so that
/// rounding does not accumulate across calls. Uses `ws.x` as scratch.
pub(crate) fn keep_warm<T: Real, const K: usize, const L: usize>(
    ws: &mut SvdWorkspace<T, K, L>,
    k: usize,
) {
    let j = &ws.j.rows()[..k];
    let s = &mut ws.x.rows_mut()[..k];
    for i in 0..k {
        for m in 0..=i {
            let v = dot(&j[i][..k], &j[m][..k]);
            s[i][m] = v;
            s[m][i] = v;
        }
    }
    let three_halves = T::ONE + T::HALF;
    for (arow, (jrow, srow)) in ws.aux.rows_mut()[..k]
        .iter_mut()
        .zip(j.iter().zip(s.iter()))
    {
        let arow = &mut arow[..k];
        for (d, &v) in arow.iter_mut().zip(&jrow[..k]) {
            *d = three_halves * v;
        }
        for (&c, jm) in srow[..k].iter().zip(j) {
            crate::matrix::axpy(-T::HALF * c, &jm[..k], arow);
        }
    }
    ws.warm_k = k;
}

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
    let x = ws.x.rows_mut();
    let j = ws.j.rows_mut();
    let norms = &mut ws.norms;
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
