//! The entry checks every factorisation shares ([`prepare`]: workspace fits,
//! finite input, valid tolerance) and [`factor`]: validate, load into the
//! workspace (cold or from a kept rotation) and run the Jacobi iteration with
//! accumulated rotations, the common first half of [`svd`](super::svd) and the
//! polar factor's rotations route.

use super::config::{SvdConfig, SvdInfo};
use super::jacobi::jacobi_rows;
use super::workspace::{SvdWorkspace, load_rotated, load_scaled, orient, set_identity};
use crate::error::EgdError;
use crate::matrix::Matrix;
use crate::scalar::Real;

/// Default rotation tolerance `√l·eps`.
fn default_tol<T: Real>(l: usize) -> T {
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
    let kept = ws.take_warm_rotation(); // consumed (or stale) from here on
    let e = if warm && kept == o.k {
        let e = load_rotated(a, ws, amax);
        let ws = ws.buffers();
        let k = o.k;
        for (jrow, arow) in ws.j.rows_mut()[..k].iter_mut().zip(ws.aux.rows()) {
            jrow[..k].copy_from_slice(&arow[..k]);
        }
        e
    } else {
        let ws = ws.buffers();
        let e = load_scaled(a, ws.x, amax);
        set_identity(ws.j.rows_mut(), o.k);
        e
    };
    let ws = ws.buffers();
    let info = jacobi_rows(
        ws.x.rows_mut(),
        Some(ws.j.rows_mut()),
        ws.norms,
        ws.scale,
        ws.inv_scale,
        o.k,
        o.l,
        tol,
        cfg.max_sweeps,
    )?;
    Ok(Some((e, info)))
}
