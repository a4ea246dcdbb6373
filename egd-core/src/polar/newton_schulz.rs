//! Muon's quintic Newton–Schulz iteration `X ← aX + (bA + cA²)X`, `A = XXᵀ`,
//! from `G/‖G‖_F`: the approximate direction of [`Method::NewtonSchulz`](super::Method::NewtonSchulz).

use super::config::PolarInfo;
use crate::error::EgdError;
use crate::kernel;
use crate::matrix::{Matrix, sum_sq};
use crate::scalar::Real;
use crate::svd::SvdWorkspace;
use crate::svd::workspace::{load_scaled, orient};

/// Muon's quintic coefficients.
pub const NS_COEFFS: (f64, f64, f64) = (3.4445, -4.7750, 2.0315);

pub(super) fn newton_schulz<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
>(
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

pub(super) fn newton_schulz_inplace<
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
    let ws = ws.buffers();
    load_scaled(g, ws.x, amax);
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
    let ws = ws.buffers();
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
