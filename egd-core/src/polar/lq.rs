//! The QR preconditioner of the Jacobi path: a blocked, pivoted Householder
//! LQ of the oriented rows `ΠX = L·Q` (the Jacobi iteration then runs on the
//! columns of the `k×k` factor `L`), and the assembly of the direction
//! `polar(L)·Q·Π` from the converged rows and the kept reflectors.

use crate::error::EgdError;
use crate::kernel;
use crate::matrix::Matrix;
use crate::scalar::Real;
use crate::svd::factor::prepare;
use crate::svd::jacobi::jacobi_rows;
use crate::svd::workspace::{load_scaled, orient};
use crate::svd::{SvdConfig, SvdWorkspace};

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
pub(super) fn factor_qr<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
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
    ws.reset_warm_start(); // aux is overwritten
    let ws = ws.buffers();
    let e = load_scaled(g, ws.x, amax);
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
    let info = jacobi_rows(
        ws.aux.rows_mut(),
        None::<&mut [[T; K]]>,
        ws.norms,
        ws.scale,
        ws.inv_scale,
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
pub(super) fn assemble_qr<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
>(
    ws: &mut SvdWorkspace<T, K, L>,
    out: &mut Matrix<T, R, C>,
) {
    let ws = ws.buffers();
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
