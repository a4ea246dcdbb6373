//! The one-sided Jacobi iteration on rows: row-cyclic sweeps with de Rijk
//! pivoting, LAPACK's fast scaled rotations, Rutishauser's threshold in the
//! first sweeps, the overflow-free angle formula and the sweep cap. It knows
//! nothing of the workspace: callers hand it the rows and scratch slices.

use super::config::SvdInfo;
use crate::error::EgdError;
use crate::kernel;
use crate::scalar::Real;

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

/// The row norm at or below which the iteration treats a row as zero (`‖x‖²
/// ≤ MIN_POSITIVE/eps`): it neither rotates such a row nor makes it
/// orthogonal to the others, so its direction carries no information.
pub(crate) fn zero_row_norm<T: Real>() -> T {
    (T::MIN_POSITIVE / T::EPSILON).sqrt()
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
    let small = zero_row_norm::<T>();
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
