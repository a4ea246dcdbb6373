//! Kernels of the desktop fast path ([`Mlp2::batch_grad_blocked`] and
//! [`Mlp2::evaluate_blocked`]).
//!
//! Each kernel is written with fixed-size lane arrays (`[T; W]` accumulators)
//! that stay in registers, so LLVM's vectorizers turn the loops into SIMD code
//! on any target without changing a bit: every output element is one sum in a
//! fixed order that depends only on the data, never on the target or on the
//! tile width (see [`Mlp2BlockScratch`] for the orders).
//!
//! Rows of a matrix are split into column tiles of `W` elements by
//! [`for_each_tile`]; a tile that would run past the end of the row is moved
//! back to end at the row's end (it overlaps its predecessor), so every tile
//! is full width and no scalar tail loop is needed.
//!
//! [`Mlp2::batch_grad_blocked`]: super::Mlp2::batch_grad_blocked
//! [`Mlp2::evaluate_blocked`]: super::Mlp2::evaluate_blocked
//! [`Mlp2BlockScratch`]: super::Mlp2BlockScratch

use crate::scalar::Real;

/// Partial sums per dot product in [`dots`] (fixed: part of the bit-for-bit
/// contract).
pub(super) const DOT_LANES: usize = 8;

/// The `W` elements of `row` from `at` on, if they exist.
#[inline(always)]
fn chunk<T, const W: usize>(row: &[T], at: usize) -> Option<&[T; W]> {
    row.get(at..)?.first_chunk()
}

/// Mutable [`chunk`].
#[inline(always)]
fn chunk_mut<T, const W: usize>(row: &mut [T], at: usize) -> Option<&mut [T; W]> {
    row.get_mut(at..)?.first_chunk_mut()
}

/// `dst[l] = src[l]` for `l ≥ done`: the store of a tile whose first `done`
/// columns belong to the previous tile (a select, so it vectorizes).
#[inline(always)]
fn store_from<T: Copy, const W: usize>(dst: &mut [T; W], src: &[T; W], done: usize) {
    for (l, (d, &s)) in dst.iter_mut().zip(src).enumerate() {
        *d = if l < done { *d } else { s };
    }
}

/// Work on one column tile `[start, start + W)` of a row.
pub(super) trait TileOp {
    /// Processes the tile; columns `start..from` (`start ≤ from`) were
    /// already processed by the previous tile (they overlap), so the kernel
    /// must store only `from..start + W`.
    fn tile<const W: usize>(&mut self, start: usize, from: usize);
}

/// Calls `op` on column tiles that cover `0..N` exactly once (up to overlap,
/// see [`TileOp::tile`]). Tiles hold at most 12 SSE registers of
/// accumulators (48 `f32` or 24 `f64`): `N` itself when it is that small;
/// otherwise tiles of 48 (`f32`) with a last tile of 32 or 48 moved back to
/// end at `N` when that wastes fewer than 16 columns, else tiles of 32 with
/// the last one widened to 40 or 48, or moved back, to end at `N`.
#[inline(always)]
pub(super) fn for_each_tile<T: Real, const N: usize, Op: TileOp>(op: &mut Op) {
    if T::BYTES <= 4 {
        plan::<N, 32, 40, 48, Op>(op);
    } else {
        plan::<N, 16, 20, 24, Op>(op);
    }
}

/// The tiling of [`for_each_tile`] for base width `W`, `W5 = 5W/4` and
/// `W6 = 3W/2`.
#[inline(always)]
fn plan<const N: usize, const W: usize, const W5: usize, const W6: usize, Op: TileOp>(op: &mut Op) {
    if N <= W6 {
        if N > 0 {
            op.tile::<N>(0, 0);
        }
        return;
    }
    let (q6, r6) = (N / W6, N % W6);
    if r6 == 0 || r6 > W / 2 {
        for t in 0..q6 {
            op.tile::<W6>(t * W6, t * W6);
        }
        let from = q6 * W6;
        if r6 > W {
            op.tile::<W6>(N - W6, from);
        } else if r6 > 0 {
            op.tile::<W>(N - W, from);
        }
        return;
    }
    let (q, r) = (N / W, N % W);
    let full = if r > W / 2 { q } else { q - 1 };
    for t in 0..full {
        op.tile::<W>(t * W, t * W);
    }
    let from = full * W;
    if r == 0 || r > W / 2 {
        op.tile::<W>(N - W, from);
    } else if r <= W / 4 {
        op.tile::<W5>(N - W5, from);
    } else {
        op.tile::<W6>(N - W6, from);
    }
}

/// `out = Σ_{j ∈ idx} h[j] · rows[j]` (or `out +=` when `add`) for one
/// sample: the output layer from the active hidden units (`rows` = `W2ᵀ`).
/// Each `out[o]` is one running sum from `0` (or from its value) over `idx`
/// in order.
pub(super) struct RowCombination<'a, T, const N: usize, const H: usize> {
    pub(super) rows: &'a [[T; N]],
    pub(super) idx: &'a [u32],
    pub(super) h: &'a [T; H],
    pub(super) out: &'a mut [T; N],
    pub(super) add: bool,
}

impl<T: Real, const N: usize, const H: usize> TileOp for RowCombination<'_, T, N, H> {
    #[inline(always)]
    fn tile<const W: usize>(&mut self, start: usize, from: usize) {
        let Some(o) = chunk_mut::<T, W>(self.out, start) else {
            return;
        };
        let mut acc = if self.add { *o } else { [T::ZERO; W] };
        for &j in self.idx {
            let j = j as usize;
            if let (Some(&a), Some(x)) = (
                self.h.get(j),
                self.rows.get(j).and_then(|r| chunk::<T, W>(r, start)),
            ) {
                for l in 0..W {
                    acc[l] += a * x[l];
                }
            }
        }
        store_from(o, &acc, from.saturating_sub(start));
    }
}

/// `row += Σ_{s ∈ mask} hidden[s][j] · d[s]` (bit `s` of `mask` stands for
/// row `s` of `hidden` and `d`): hidden unit `j`'s row of the transposed
/// output-layer gradient, over the samples of a block where the unit is
/// active. Each element is one running sum, samples in ascending order.
pub(super) struct RowUpdate<'a, T, const N: usize, const H: usize> {
    pub(super) row: &'a mut [T; N],
    pub(super) j: usize,
    pub(super) mask: u32,
    pub(super) hidden: &'a [[T; H]],
    pub(super) d: &'a [[T; N]],
}

impl<T: Real, const N: usize, const H: usize> TileOp for RowUpdate<'_, T, N, H> {
    #[inline(always)]
    fn tile<const W: usize>(&mut self, start: usize, from: usize) {
        let Some(g) = chunk_mut::<T, W>(self.row, start) else {
            return;
        };
        let mut acc = *g;
        let mut m = self.mask;
        while m != 0 {
            let s = m.trailing_zeros() as usize;
            m &= m - 1;
            let a = self.hidden.get(s).and_then(|h| h.get(self.j));
            let x = self.d.get(s).and_then(|r| chunk::<T, W>(r, start));
            if let (Some(&a), Some(x)) = (a, x) {
                for l in 0..W {
                    acc[l] += a * x[l];
                }
            }
        }
        store_from(g, &acc, from.saturating_sub(start));
    }
}

/// `masks[j]` bit `k` set when `hidden[k][j] > 0` (for up to 32 rows of
/// `hidden`).
#[inline(always)]
pub(super) fn active_masks<T: Real, const H: usize>(hidden: &[[T; H]], masks: &mut [u32; H]) {
    masks.fill(0);
    for (k, h) in hidden.iter().take(32).enumerate() {
        let bit = 1u32 << k;
        for (m, &v) in masks.iter_mut().zip(h) {
            *m |= if v > T::ZERO { bit } else { 0 };
        }
    }
}

/// `out[j] = rows[j] · d` for every `j` in `idx` (other entries untouched):
/// the back-propagated output gradient at the active hidden units
/// (`rows` = `W2ᵀ`). `lanes` (at least `idx.len()` long) holds the partial
/// sums in between.
///
/// Each dot product uses [`DOT_LANES`] partial sums, lane `l` summing the
/// products at `o ≡ l (mod 8)` in ascending `o`, combined as
/// `((s₀ + s₄) + (s₂ + s₆)) + ((s₁ + s₅) + (s₃ + s₇))`. Rows are processed
/// several at a time (sharing the loads of `d`), which does not change the
/// result. The partial sums go through memory before they are combined: that
/// keeps LLVM's SLP vectorizer from building vectors across rows (it then
/// vectorizes each row's lanes with contiguous loads).
#[inline(never)]
pub(super) fn dots<T: Real, const N: usize>(
    rows: &[[T; N]],
    idx: &[u32],
    d: &[T; N],
    lanes: &mut [[T; DOT_LANES]],
    out: &mut [T],
) {
    if T::BYTES <= 4 {
        dots_by::<T, N, 4>(rows, idx, d, lanes);
    } else {
        dots_by::<T, N, 2>(rows, idx, d, lanes);
    }
    for (&j, a) in idx.iter().zip(lanes.iter()) {
        if let Some(o) = out.get_mut(j as usize) {
            let v: [T; 4] = core::array::from_fn(|l| a[l] + a[l + 4]);
            *o = (v[0] + v[2]) + (v[1] + v[3]);
        }
    }
}

#[inline(always)]
fn dots_by<T: Real, const N: usize, const R: usize>(
    rows: &[[T; N]],
    idx: &[u32],
    d: &[T; N],
    lanes: &mut [[T; DOT_LANES]],
) {
    let split = idx.len() / R * R;
    let (Some((head, tail)), Some((lanes, tail_lanes))) = (
        idx.split_at_checked(split),
        lanes.split_at_mut_checked(split),
    ) else {
        return;
    };
    for (g, lg) in head.chunks_exact(R).zip(lanes.chunks_exact_mut(R)) {
        if let Some(rs) = gather_rows::<T, N, R>(rows, g) {
            for (l, a) in lg.iter_mut().zip(dot_lanes(rs, d)) {
                *l = a;
            }
        }
    }
    for (&j, l) in tail.iter().zip(tail_lanes) {
        if let Some(r) = rows.get(j as usize) {
            let [a] = dot_lanes([r], d);
            *l = a;
        }
    }
}

#[inline(always)]
fn gather_rows<'a, T, const N: usize, const R: usize>(
    rows: &'a [[T; N]],
    idx: &[u32],
) -> Option<[&'a [T; N]; R]> {
    let mut rs = [rows.first()?; R];
    for (r, &j) in rs.iter_mut().zip(idx) {
        *r = rows.get(j as usize)?;
    }
    Some(rs)
}

/// The [`DOT_LANES`] partial sums of `row · d` for each of `R` rows.
#[inline(always)]
fn dot_lanes<T: Real, const N: usize, const R: usize>(
    rows: [&[T; N]; R],
    d: &[T; N],
) -> [[T; DOT_LANES]; R] {
    const L: usize = DOT_LANES;
    let mut acc = [[T::ZERO; L]; R];
    for c in 0..N / L {
        let o = c * L;
        for (a, row) in acc.iter_mut().zip(&rows) {
            for l in 0..L {
                a[l] += row[o + l] * d[o + l];
            }
        }
    }
    // The last `N mod 8` products, padded with zeros to a full lane vector
    // (adding `+0` leaves a partial sum unchanged: it is never `-0`).
    let o = N / L * L;
    let pad = |v: &[T; N]| -> [T; L] {
        core::array::from_fn(|l| if l < N % L { v[o + l] } else { T::ZERO })
    };
    let dt = pad(d);
    for (a, row) in acc.iter_mut().zip(&rows) {
        let x = pad(row);
        for l in 0..L {
            a[l] += x[l] * dt[l];
        }
    }
    acc
}

/// `dst = srcᵀ`: `src` has `src.len()` rows of `C`, `dst` is `C` rows of
/// `src.len()` elements, row-major (extra elements of `dst` are untouched).
/// Works on blocks of 16 source rows, so every destination row is written in
/// whole cache lines. (LLVM keeps this scalar; a 4 × 4 register-transpose
/// version compiled to stack round trips and was slower.)
pub(super) fn transpose<T: Copy, const C: usize>(src: &[[T; C]], dst: &mut [T]) {
    const BLK: usize = 16;
    let r = src.len();
    if r == 0 {
        return;
    }
    for (b, blk) in src.chunks(BLK).enumerate() {
        let i0 = b * BLK;
        for (j, drow) in dst.chunks_exact_mut(r).take(C).enumerate() {
            if let Some(d) = drow.get_mut(i0..i0 + blk.len()) {
                for (x, s) in d.iter_mut().zip(blk) {
                    if let Some(&v) = s.get(j) {
                        *x = v;
                    }
                }
            }
        }
    }
}

/// `y += x`, element by element.
#[inline(always)]
pub(super) fn add_into<T: Real>(y: &mut [T], x: &[T]) {
    for (y, &x) in y.iter_mut().zip(x) {
        *y += x;
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::vec::Vec;

    struct Record(Vec<(usize, usize, usize)>);
    impl TileOp for Record {
        fn tile<const W: usize>(&mut self, start: usize, from: usize) {
            self.0.push((W, start, from));
        }
    }

    fn plan_of<const N: usize>(f32: bool) -> Vec<(usize, usize, usize)> {
        let mut r = Record(Vec::new());
        if f32 {
            for_each_tile::<f32, N, _>(&mut r);
        } else {
            for_each_tile::<f64, N, _>(&mut r);
        }
        r.0
    }

    /// Tiles cover `0..N` in order, each new column exactly once.
    fn check_cover(n: usize, tiles: &[(usize, usize, usize)]) {
        let mut next = 0;
        for &(w, start, from) in tiles {
            assert!(
                start <= from && from == next && start + w > from,
                "{tiles:?}"
            );
            next = start + w;
        }
        assert_eq!(next, n, "{tiles:?}");
    }

    #[test]
    fn tile_plans_cover_rows() {
        assert_eq!(
            plan_of::<127>(true),
            [(48, 0, 0), (48, 48, 48), (32, 95, 96)]
        );
        assert_eq!(
            plan_of::<127>(false),
            [
                (16, 0, 0),
                (16, 16, 16),
                (16, 32, 32),
                (16, 48, 48),
                (16, 64, 64),
                (16, 80, 80),
                (16, 96, 96),
                (16, 111, 112)
            ]
        );
        assert_eq!(
            plan_of::<97>(true),
            [(32, 0, 0), (32, 32, 32), (40, 57, 64)]
        );
        assert_eq!(plan_of::<23>(true), [(23, 0, 0)]);
        assert!(plan_of::<0>(true).is_empty());
        macro_rules! cover {
            ($($n:literal)*) => {$(
                check_cover($n, &plan_of::<$n>(true));
                check_cover($n, &plan_of::<$n>(false));
            )*};
        }
        cover!(1 5 16 24 25 31 32 33 40 41 48 49 56 57 63 64 65 72 73 80 81 96 97 127 128 200 512);
    }

    #[test]
    fn transpose_is_exact() {
        let src: [[u32; 5]; 37] =
            core::array::from_fn(|i| core::array::from_fn(|j| (i * 5 + j) as u32));
        let mut dst = [0u32; 5 * 37];
        transpose(&src, &mut dst);
        for (j, row) in dst.chunks_exact(37).enumerate() {
            for (i, &v) in row.iter().enumerate() {
                assert_eq!(v, src[i][j]);
            }
        }
    }
}
