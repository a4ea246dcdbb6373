//! The exact direction by the Jacobi SVD: the choice of [`Route`] (QR
//! preconditioning, stashed rows, accumulated rotations), the factorisation
//! up to the converged rows, and the assembly of `U Vᵀ` for the stashed and
//! the rotations routes (the QR route's assembly lives in [`super::lq`]).

use super::config::{PolarConfig, PolarInfo, check_cutoff};
use super::cutoff::{scale_rows, unit_rows_and_weights};
use super::lq::{assemble_qr, factor_qr};
use crate::error::EgdError;
use crate::kernel;
use crate::matrix::Matrix;
use crate::scalar::Real;
use crate::svd::factor::{factor, prepare};
use crate::svd::jacobi::jacobi_rows;
use crate::svd::workspace::{keep_warm, load_scaled, orient};
use crate::svd::{SvdConfig, SvdWorkspace};

pub(super) fn jacobi_polar<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
>(
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

pub(super) fn jacobi_polar_inplace<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
>(
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
    let ws = ws.buffers();
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
    ws.reset_warm_start(); // aux is overwritten
    let ws = ws.buffers();
    let e = load_scaled(g, ws.x, amax);
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
    let info = jacobi_rows(
        ws.x.rows_mut(),
        None::<&mut [[T; K]]>,
        ws.norms,
        ws.scale,
        ws.inv_scale,
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
    let ws = ws.buffers();
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

/// Forms the direction from the scaled rows `Y = diag(w/σ)·J·X` and `J`:
/// tall (`X = Gᵀ`): `out = Yᵀ·J`; wide (`X = G`): `out = Jᵀ·Y`.
fn assemble<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    ws: &mut SvdWorkspace<T, K, L>,
    out: &mut Matrix<T, R, C>,
) {
    let ws = ws.buffers();
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
