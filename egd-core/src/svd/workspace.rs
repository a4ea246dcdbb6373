//! [`SvdWorkspace`], the caller-owned scratch of the SVD, the polar factor
//! and EGD-RSVD, and the operations on its layout that they share: the
//! orientation of a call (`k` rows of length `l`), loading the oriented,
//! power-of-two-scaled input (plain or pre-rotated by a kept `J₀`), the
//! identity start of `J`, and keeping a converged rotation for a warm start.
//!
//! The fields are private to this file. Code elsewhere (the SVD, the polar
//! paths, EGD-RSVD) borrows them all at once through [`Buffers`], a named
//! view whose docs give each buffer's role per algorithm, and reaches the
//! warm-start state only through [`SvdWorkspace::take_warm_rotation`] and
//! [`keep_warm`].

use crate::matrix::{Matrix, dot};
use crate::scalar::Real;

/// Caller-owned scratch for [`svd`](super::svd) and the [`polar`](crate::polar) functions.
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
    x: Matrix<T, K, L>,
    j: Matrix<T, K, K>,
    aux: Matrix<T, K, K>,
    norms: [T; K],
    /// Per-row scales of the fast scaled rotations and their inverses.
    scale: [T; K],
    inv_scale: [T; K],
    /// The row permutation of the pivoted LQ (QR path of the polar factor).
    perm: [usize; K],
    /// Row count `k` of the rotation kept in `aux` for a warm start (0: none).
    warm_k: usize,
}

/// Every buffer of an [`SvdWorkspace`], borrowed at once (so that a caller
/// can pass rows of one and scratch of another to the same call). Roles:
///
/// * `x` (`K×L`): the oriented, scaled rows `X` (`k` rows of length `l`) the
///   iteration works on; on return their converged rows. The QR path keeps
///   its Householder reflectors here; Newton–Schulz ping-pongs its iterate
///   between `x` and the output; EGD-RSVD keeps `X` here.
/// * `j` (`K×K`): the accumulated rotation `J`; or, without accumulation,
///   a kept copy of what the iteration started from (`Lᵀ` of the QR path,
///   the first rows of the stashed `X`), Newton–Schulz's `bA + cA²`.
/// * `aux` (`K×K`): the rotation kept for a warm start, the rows of `Lᵀ` the
///   QR path iterates on, the rest of the stashed `X`, Newton–Schulz's `A`,
///   EGD-RSVD's small factor.
/// * `norms`, `scale`, `inv_scale` (`K`): the iteration's per-row scratch;
///   afterwards the polar paths keep each direction's factor `w/σ` in `norms`
///   (the LQ keeps its `τᵢ` there).
/// * `perm` (`K`): the LQ's row permutation.
///
/// The warm-start state is not part of the view: a caller that overwrites
/// `aux` calls [`SvdWorkspace::reset_warm_start`] or
/// [`SvdWorkspace::take_warm_rotation`] first.
pub(crate) struct Buffers<'a, T, const K: usize, const L: usize> {
    pub x: &'a mut Matrix<T, K, L>,
    pub j: &'a mut Matrix<T, K, K>,
    pub aux: &'a mut Matrix<T, K, K>,
    pub norms: &'a mut [T; K],
    pub scale: &'a mut [T; K],
    pub inv_scale: &'a mut [T; K],
    pub perm: &'a mut [usize; K],
}

impl<T: Real, const K: usize, const L: usize> SvdWorkspace<T, K, L> {
    /// Size in bytes: `(K·L + 2·K² + 3·K)·size_of::<T>()` plus `K + 1` `usize`s.
    pub const BYTES: usize = size_of::<Self>();

    /// Forgets the rotation kept for a warm start (see
    /// [`PolarConfig::warm_start`](crate::polar::PolarConfig::warm_start)).
    pub fn reset_warm_start(&mut self) {
        self.warm_k = 0;
    }

    /// The row count of the rotation kept in `aux` for a warm start (0:
    /// none), forgotten from here on: whatever runs next overwrites it.
    pub(crate) fn take_warm_rotation(&mut self) -> usize {
        core::mem::take(&mut self.warm_k)
    }

    /// All buffers at once (see [`Buffers`] for their roles).
    pub(crate) fn buffers(&mut self) -> Buffers<'_, T, K, L> {
        Buffers {
            x: &mut self.x,
            j: &mut self.j,
            aux: &mut self.aux,
            norms: &mut self.norms,
            scale: &mut self.scale,
            inv_scale: &mut self.inv_scale,
            perm: &mut self.perm,
        }
    }

    /// The rows `x` (the converged rows after an iteration), read-only.
    pub(crate) fn rows(&self) -> &Matrix<T, K, L> {
        &self.x
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

/// The first `k` rows (length `k`) of `j` become the identity.
pub(super) fn set_identity<T: Real, const K: usize>(j: &mut [[T; K]], k: usize) {
    for (i, row) in j.iter_mut().take(k).enumerate() {
        let row = &mut row[..k.min(K)];
        row.fill(T::ZERO);
        if let Some(d) = row.get_mut(i) {
            *d = T::ONE;
        }
    }
}

/// `x = J₀·X·2^-e` with `J₀ = aux` (`k×k`), `X` the oriented `a`.
pub(super) fn load_rotated<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
>(
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
