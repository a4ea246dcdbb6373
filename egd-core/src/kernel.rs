//! The inner loops of the Jacobi SVD and the polar factor.
//!
//! Every loop here is written over fixed-size lane arrays so that the
//! compiler vectorizes it (SSE2 on a portable x86-64 build, NEON, or plain
//! scalar code on a Cortex-M) **without changing a bit**. A dot product keeps
//! [`W`]` = 16` partial sums in four groups of four: element `i` of a full
//! 16-chunk goes to partial sum `i mod 16`; the remaining whole 4-chunks go
//! to the first group, lane by lane; the last `< 4` elements go, in order, to
//! one scalar sum. The groups are added lane-wise (`(g₀+g₂)+(g₁+g₃)`), then
//! the four lanes as `(l₀+l₂)+(l₁+l₃)`, then the scalar sum. The order is
//! the same on every target, and nothing uses fused multiply-add.
//!
//! The two products, [`t_matmul`] (`Aᵀ·B`, each element an `axpy`-order sum)
//! and [`matmul_t`] (`A·Bᵀ`, each element a four-lane dot), are register
//! tiled; the polar factor is formed through them (two products per call)
//! and EGD-RSVD runs on them. [`reflect_rows`] applies the Householder
//! reflectors of the QR-preconditioned path.

use crate::scalar::Real;

/// Partial sums of a dot product (see the module docs for the order).
pub(crate) const W: usize = 16;

type Lanes<T> = [[T; 4]; 4];

/// `acc[g][l] += x[4g + l]·y[4g + l]` for one full chunk of [`W`].
#[inline(always)]
fn add_chunk<T: Real>(acc: &mut Lanes<T>, x: &[T], y: &[T]) {
    if let (Some(x), Some(y)) = (x.get(..W), y.get(..W)) {
        for g in 0..4 {
            for l in 0..4 {
                acc[g][l] += x[4 * g + l] * y[4 * g + l];
            }
        }
    }
}

/// The part after the full chunks (`< W` elements): whole 4-chunks into the
/// first group, then a scalar sum of the rest.
#[inline(always)]
fn add_rest<T: Real>(acc: &mut Lanes<T>, x: &[T], y: &[T]) -> T {
    let (cx, cy) = (x.chunks_exact(4), y.chunks_exact(4));
    let (tx, ty) = (cx.remainder(), cy.remainder());
    for (a, b) in cx.zip(cy) {
        for l in 0..4 {
            acc[0][l] += a[l] * b[l];
        }
    }
    let mut t = T::ZERO;
    for (a, b) in tx.iter().zip(ty) {
        t += *a * *b;
    }
    t
}

/// Combines the partial sums. Deliberately not inlined: with the reduction
/// out of sight, the vectorizer maps each group of four lanes to one SIMD
/// register instead of pairing lanes across groups.
#[inline(never)]
fn combine<T: Real>(acc: &Lanes<T>, t: T) -> T {
    let mut r = [T::ZERO; 4];
    for l in 0..4 {
        r[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
    }
    ((r[0] + r[2]) + (r[1] + r[3])) + t
}

/// `Σ aᵢbᵢ` over the common length, in the fixed order of the module docs.
#[inline]
pub(crate) fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let full = n - n % W;
    let mut acc = [[T::ZERO; 4]; 4];
    for (x, y) in a[..full].chunks_exact(W).zip(b[..full].chunks_exact(W)) {
        add_chunk(&mut acc, x, y);
    }
    let t = add_rest(&mut acc, &a[full..], &b[full..]);
    combine(&acc, t)
}

/// A pair of shears, the two halves of a scaled plane rotation:
/// `u ← u − α·v`, then `v ← v + β·u` (with the new `u`).
#[inline]
pub(crate) fn shear<T: Real>(u: &mut [T], v: &mut [T], alpha: T, beta: T) {
    for (a, b) in u.iter_mut().zip(v.iter_mut()) {
        let a1 = *a - alpha * *b;
        *a = a1;
        *b += beta * a1;
    }
}

/// [`shear`] fused with the next dot product: returns `dot(u_new, next)`
/// (`FIRST`) or `dot(v_new, next)` (`!FIRST`), bit-identical to calling
/// [`dot`] afterwards, in one pass over the rows (one load fewer per element:
/// the loop is bound by memory operations, not arithmetic).
#[inline]
pub(crate) fn shear_dot<T: Real, const FIRST: bool>(
    u: &mut [T],
    v: &mut [T],
    next: &[T],
    alpha: T,
    beta: T,
) -> T {
    let n = u.len().min(v.len()).min(next.len());
    let (u, v, next) = (&mut u[..n], &mut v[..n], &next[..n]);
    let full = n - n % W;
    let mut acc = [[T::ZERO; 4]; 4];
    let (hu, tu) = u.split_at_mut(full);
    let (hv, tv) = v.split_at_mut(full);
    let (hn, tn) = next.split_at(full);
    for ((cu, cv), cn) in hu
        .chunks_exact_mut(W)
        .zip(hv.chunks_exact_mut(W))
        .zip(hn.chunks_exact(W))
    {
        let mut out = [T::ZERO; W];
        for ((o, a), b) in out.iter_mut().zip(cu.iter_mut()).zip(cv.iter_mut()) {
            let a1 = *a - alpha * *b;
            let b1 = *b + beta * a1;
            *a = a1;
            *b = b1;
            *o = if FIRST { a1 } else { b1 };
        }
        add_chunk(&mut acc, &out, cn);
    }
    shear(tu, tv, alpha, beta);
    let t = add_rest(&mut acc, if FIRST { tu } else { tv }, tn);
    combine(&acc, t)
}

/// [`t_matmul`] with the register tile for `T`: 4×8 for `f32` (eight SSE2
/// accumulators; 4×4 on 32-bit Arm), 4×4 for `f64`. The tile changes no bit.
#[inline]
pub(crate) fn t_matmul_auto<T: Real>(
    a: &[T],
    sa: usize,
    b: &[T],
    sb: usize,
    n: usize,
    c: &mut [T],
    sc: usize,
    m: usize,
    nc: usize,
) {
    if T::BYTES == 4 && cfg!(target_arch = "arm") {
        // 32-bit Arm (Cortex-M4F: 32 single-precision registers): a 4×4
        // tile keeps the accumulators and the loaded row in registers.
        t_matmul::<T, 4, 4>(a, sa, b, sb, n, c, sc, m, nc);
    } else if T::BYTES == 4 {
        t_matmul::<T, 4, 8>(a, sa, b, sb, n, c, sc, m, nc);
    } else {
        t_matmul::<T, 4, 4>(a, sa, b, sb, n, c, sc, m, nc);
    }
}

/// `C = Aᵀ·B` on flat row-major storage: `c[r·sc + j] = Σᵢ a[i·sa + r]·b[i·sb + j]`
/// for `r < m`, `j < nc`, `i < n`. Each element is summed over `i` in
/// increasing order from zero, exactly as one `axpy` per `i` would, so the
/// register tiling (`MR` rows × `NR` columns) changes no bit.
pub(crate) fn t_matmul<T: Real, const MR: usize, const NR: usize>(
    a: &[T],
    sa: usize,
    b: &[T],
    sb: usize,
    n: usize,
    c: &mut [T],
    sc: usize,
    m: usize,
    nc: usize,
) {
    let mut r0 = 0;
    while r0 < m {
        let mr = MR.min(m - r0);
        let mut j0 = 0;
        while j0 < nc {
            let nr = NR.min(nc - j0);
            if mr == MR && nr == NR {
                let mut acc = [[T::ZERO; NR]; MR];
                for i in 0..n {
                    let (Some(ai), Some(bi)) = (
                        a.get(i * sa + r0..i * sa + r0 + MR),
                        b.get(i * sb + j0..i * sb + j0 + NR),
                    ) else {
                        continue;
                    };
                    for (row, &ar) in acc.iter_mut().zip(ai) {
                        for (x, &y) in row.iter_mut().zip(bi) {
                            *x += ar * y;
                        }
                    }
                }
                for (r, row) in acc.iter().enumerate() {
                    let at = (r0 + r) * sc + j0;
                    if let Some(dst) = c.get_mut(at..at + NR) {
                        dst.copy_from_slice(row);
                    }
                }
            } else {
                for r in r0..r0 + mr {
                    for j in j0..j0 + nr {
                        let mut x = T::ZERO;
                        for i in 0..n {
                            if let (Some(&ar), Some(&y)) = (a.get(i * sa + r), b.get(i * sb + j)) {
                                x += ar * y;
                            }
                        }
                        if let Some(d) = c.get_mut(r * sc + j) {
                            *d = x;
                        }
                    }
                }
            }
            j0 += NR;
        }
        r0 += MR;
    }
}

/// Four dot products against one shared vector `v`, four partial sums per
/// row (element `i` of the whole 4-chunks goes to lane `i mod 4`, the last
/// `< 4` elements to a scalar sum; combined as `(l₀+l₂)+(l₁+l₃)`, then the
/// scalar sum). Each chunk of `v` is loaded once for the four rows.
#[inline(always)]
fn dot4<T: Real>(rows: [&[T]; 4], v: &[T]) -> [T; 4] {
    let n = rows.iter().fold(v.len(), |n, r| n.min(r.len()));
    let [a, b, c, d] = rows.map(|r| &r[..n]);
    let v = &v[..n];
    let f = n - n % 4;
    let mut acc = [[T::ZERO; 4]; 4];
    for ((((vc, ra), rb), rc), rd) in v[..f]
        .chunks_exact(4)
        .zip(a[..f].chunks_exact(4))
        .zip(b[..f].chunks_exact(4))
        .zip(c[..f].chunks_exact(4))
        .zip(d[..f].chunks_exact(4))
    {
        for l in 0..4 {
            acc[0][l] += ra[l] * vc[l];
            acc[1][l] += rb[l] * vc[l];
            acc[2][l] += rc[l] * vc[l];
            acc[3][l] += rd[l] * vc[l];
        }
    }
    let mut t = [T::ZERO; 4];
    for ((((&x, &ya), &yb), &yc), &yd) in v[f..]
        .iter()
        .zip(&a[f..])
        .zip(&b[f..])
        .zip(&c[f..])
        .zip(&d[f..])
    {
        t[0] += ya * x;
        t[1] += yb * x;
        t[2] += yc * x;
        t[3] += yd * x;
    }
    combine4(&acc, &t)
}

/// One row's [`dot4`]: the same four lanes and the same combination order,
/// for the rows left over after the groups of four.
#[inline]
fn dot_lanes4<T: Real>(row: &[T], v: &[T]) -> T {
    let n = row.len().min(v.len());
    let (row, v) = (&row[..n], &v[..n]);
    let f = n - n % 4;
    let mut acc = [T::ZERO; 4];
    for (rc, vc) in row[..f].chunks_exact(4).zip(v[..f].chunks_exact(4)) {
        for l in 0..4 {
            acc[l] += rc[l] * vc[l];
        }
    }
    let mut t = T::ZERO;
    for (&y, &x) in row[f..].iter().zip(&v[f..]) {
        t += y * x;
    }
    ((acc[0] + acc[2]) + (acc[1] + acc[3])) + t
}

/// `C = A·Bᵀ` on flat row-major storage: `c[i·sc + j] = Σₜ a[i·sa + t]·b[j·sb + t]`
/// for `i < m`, `j < nc`, `t < n`. Every element is a [`dot_lanes4`] of its
/// two rows (four lanes, then `(l₀+l₂)+(l₁+l₃)`, then the scalar tail), so
/// the register tile (`MR` rows of `A` × `NR` rows of `B`) changes no bit.
pub(crate) fn matmul_t<T: Real, const MR: usize, const NR: usize>(
    a: &[T],
    sa: usize,
    b: &[T],
    sb: usize,
    n: usize,
    c: &mut [T],
    sc: usize,
    m: usize,
    nc: usize,
) {
    let f = n - n % 4;
    fn row<T>(s: &[T], st: usize, i: usize, n: usize) -> &[T] {
        s.get(i * st..i * st + n).unwrap_or(&[])
    }
    let mut i0 = 0;
    while i0 < m {
        let mr = MR.min(m - i0);
        let mut j0 = 0;
        while j0 < nc {
            let nr = NR.min(nc - j0);
            let ar: [&[T]; MR] = core::array::from_fn(|r| row(a, sa, i0 + r.min(mr - 1), n));
            let br: [&[T]; NR] = core::array::from_fn(|r| row(b, sb, j0 + r.min(nr - 1), n));
            if ar.iter().chain(&br).all(|r| r.len() == n) {
                let mut acc = [[[T::ZERO; 4]; NR]; MR];
                let mut t0 = 0;
                while t0 < f {
                    let av: [[T; 4]; MR] = core::array::from_fn(|r| lanes_at(ar[r], t0));
                    let bv: [[T; 4]; NR] = core::array::from_fn(|r| lanes_at(br[r], t0));
                    for (accr, x) in acc.iter_mut().zip(&av) {
                        for (accc, y) in accr.iter_mut().zip(&bv) {
                            for l in 0..4 {
                                accc[l] += x[l] * y[l];
                            }
                        }
                    }
                    t0 += 4;
                }
                for r in 0..mr {
                    for q in 0..nr {
                        let mut t = T::ZERO;
                        let (ta, tb) = (ar[r].get(f..), br[q].get(f..));
                        for (&x, &y) in ta.unwrap_or_default().iter().zip(tb.unwrap_or_default()) {
                            t += x * y;
                        }
                        let v = acc[r][q];
                        if let Some(d) = c.get_mut((i0 + r) * sc + j0 + q) {
                            *d = ((v[0] + v[2]) + (v[1] + v[3])) + t;
                        }
                    }
                }
            }
            j0 += NR;
        }
        i0 += MR;
    }
}

/// The four elements `s[t0..t0 + 4]` (zeros out of range: never, for
/// [`matmul_t`], which checks the row lengths; it keeps the loop free of
/// panic paths).
#[inline(always)]
fn lanes_at<T: Real>(s: &[T], t0: usize) -> [T; 4] {
    match s.get(t0..t0 + 4) {
        Some(&[a, b, c, d]) => [a, b, c, d],
        _ => [T::ZERO; 4],
    }
}

/// [`matmul_t`] with the register tile for `T`: 2×4 for `f32` (2×2 on 32-bit
/// Arm), 2×2 for `f64`. The tile changes no bit.
#[inline]
pub(crate) fn matmul_t_auto<T: Real>(
    a: &[T],
    sa: usize,
    b: &[T],
    sb: usize,
    n: usize,
    c: &mut [T],
    sc: usize,
    m: usize,
    nc: usize,
) {
    if T::BYTES == 4 && cfg!(target_arch = "arm") {
        // Four lanes per element: a 2×2 tile is 16 accumulators on 32-bit Arm.
        matmul_t::<T, 2, 2>(a, sa, b, sb, n, c, sc, m, nc);
    } else if T::BYTES == 4 {
        matmul_t::<T, 2, 4>(a, sa, b, sb, n, c, sc, m, nc);
    } else {
        matmul_t::<T, 2, 2>(a, sa, b, sb, n, c, sc, m, nc);
    }
}

/// Combines [`dot4`]'s partial sums; not inlined, for the reason given at
/// [`combine`].
#[inline(never)]
fn combine4<T: Real>(acc: &[[T; 4]; 4], t: &[T; 4]) -> [T; 4] {
    core::array::from_fn(|r| ((acc[r][0] + acc[r][2]) + (acc[r][1] + acc[r][3])) + t[r])
}

/// `rows[r] += k[r]·v` for four rows in one pass over `v`.
#[inline(always)]
fn axpy4<T: Real>(k: [T; 4], v: &[T], rows: [&mut [T]; 4]) {
    let n = rows.iter().fold(v.len(), |n, r| n.min(r.len()));
    let [a, b, c, d] = rows.map(|r| &mut r[..n]);
    for ((((&x, ya), yb), yc), yd) in v[..n]
        .iter()
        .zip(a.iter_mut())
        .zip(b.iter_mut())
        .zip(c.iter_mut())
        .zip(d.iter_mut())
    {
        *ya += k[0] * x;
        *yb += k[1] * x;
        *yc += k[2] * x;
        *yd += k[3] * x;
    }
}

/// Applies the Householder reflector `H = I − τ·v̂v̂ᵀ`, `v̂ = [1, v]`, from the
/// right to the segment `[from, to)` of every row of `rows` (whole rows of
/// length `stride`; the segment starts at the reflector's pivot column):
/// `w = s₀ + s[1..]·v`, `s₀ −= τw`, `s[1..] −= τw·v`, four rows per pass over
/// `v`. Every row's dot has the lane structure of [`dot4`], however the rows
/// are grouped.
pub(crate) fn reflect_rows<T: Real>(
    rows: &mut [T],
    stride: usize,
    from: usize,
    to: usize,
    v: &[T],
    tau: T,
) {
    let to = to.min(stride);
    let from = from.min(to);
    if stride == 0 || from == to {
        return;
    }
    let mut blocks = rows.chunks_exact_mut(4 * stride);
    for block in &mut blocks {
        let (a, rest) = block.split_at_mut(stride);
        let (b, rest) = rest.split_at_mut(stride);
        let (c, d) = rest.split_at_mut(stride);
        let [a, b, c, d] = [a, b, c, d].map(|r| &mut r[from..to]);
        let w = dot4([&a[1..], &b[1..], &c[1..], &d[1..]], v);
        let mut k = [T::ZERO; 4];
        for ((kr, s0), wr) in k
            .iter_mut()
            .zip([&mut a[0], &mut b[0], &mut c[0], &mut d[0]])
            .zip(w)
        {
            let tw = tau * (*s0 + wr);
            *s0 -= tw;
            *kr = -tw;
        }
        axpy4(k, v, [&mut a[1..], &mut b[1..], &mut c[1..], &mut d[1..]]);
    }
    for r in blocks.into_remainder().chunks_exact_mut(stride) {
        let s = &mut r[from..to];
        let w = dot_lanes4(&s[1..], v);
        let tw = tau * (s[0] + w);
        s[0] -= tw;
        for (y, &x) in s[1..].iter_mut().zip(v) {
            *y -= tw * x;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_a_plain_sum_on_integers() {
        let a: [f64; 300] = core::array::from_fn(|i| (i % 7) as f64 - 3.0);
        let b: [f64; 300] = core::array::from_fn(|i| (i % 5) as f64);
        for n in [0usize, 1, 3, 4, 5, 15, 16, 17, 20, 31, 32, 33, 254, 300] {
            let plain: f64 = a[..n].iter().zip(&b[..n]).map(|(x, y)| x * y).sum();
            assert_eq!(dot(&a[..n], &b[..n]), plain, "n = {n}");
        }
    }

    #[test]
    fn dot_order_is_the_documented_one() {
        // 1 + 2⁻²⁴ summed in different orders gives different f32 results;
        // this pins the documented tree for n = 23 (one chunk, one 4-chunk, 3 left).
        let x: [f32; 23] =
            core::array::from_fn(|i| if i % 3 == 0 { 1.0 } else { 1.0e-8 * i as f32 });
        let y = [1.0f32; 23];
        let mut acc = [[0.0f32; 4]; 4];
        for i in 0..16 {
            acc[i / 4][i % 4] += x[i];
        }
        for l in 0..4 {
            acc[0][l] += x[16 + l];
        }
        let t = (x[20] + x[21]) + x[22];
        let r: [f32; 4] =
            core::array::from_fn(|l| (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]));
        let want = ((r[0] + r[2]) + (r[1] + r[3])) + t;
        assert_eq!(dot(&x, &y).to_bits(), want.to_bits());
    }

    #[test]
    fn matmul_t_is_a_dot_lanes4_per_element() {
        let mk = |s: f32, len: usize| -> [f32; 7 * 37] {
            core::array::from_fn(|i| if i < len { (i as f32 * s).sin() } else { 0.0 })
        };
        let (a, b) = (mk(0.37, 7 * 37), mk(0.11, 7 * 37));
        for (m, nc, n) in [
            (1usize, 1usize, 1usize),
            (3, 5, 7),
            (7, 6, 37),
            (2, 4, 33),
            (5, 7, 0),
        ] {
            let (mut c, mut c22) = ([f32::NAN; 64], [f32::NAN; 64]);
            matmul_t::<f32, 2, 4>(&a, 37, &b, 37, n, &mut c, 8, m, nc);
            matmul_t::<f32, 2, 2>(&a, 37, &b, 37, n, &mut c22, 8, m, nc);
            for i in 0..m {
                for j in 0..nc {
                    let want = dot_lanes4(&a[i * 37..i * 37 + n], &b[j * 37..j * 37 + n]);
                    assert_eq!(c[i * 8 + j].to_bits(), want.to_bits(), "{m} {nc} {n}");
                    assert_eq!(c22[i * 8 + j].to_bits(), want.to_bits(), "{m} {nc} {n}");
                }
            }
        }
    }

    #[test]
    fn t_matmul_tile_changes_no_bit() {
        let a: [f32; 37 * 13] = core::array::from_fn(|i| (i as f32 * 0.37).sin());
        let b: [f32; 37 * 11] = core::array::from_fn(|i| (i as f32 * 0.11).cos());
        for (m, nc, n) in [
            (13usize, 11usize, 37usize),
            (5, 9, 20),
            (4, 8, 1),
            (1, 3, 0),
        ] {
            let (mut c48, mut c44) = ([f32::NAN; 13 * 11], [f32::NAN; 13 * 11]);
            t_matmul::<f32, 4, 8>(&a, 13, &b, 11, n, &mut c48, 11, m, nc);
            t_matmul::<f32, 4, 4>(&a, 13, &b, 11, n, &mut c44, 11, m, nc);
            for r in 0..m {
                for j in 0..nc {
                    let mut want = 0.0f32;
                    for i in 0..n {
                        want += a[i * 13 + r] * b[i * 11 + j];
                    }
                    let (x, y) = (c48[r * 11 + j], c44[r * 11 + j]);
                    assert_eq!(x.to_bits(), want.to_bits(), "{m} {nc} {n}");
                    assert_eq!(y.to_bits(), want.to_bits(), "{m} {nc} {n}");
                }
            }
        }
    }

    #[test]
    fn fused_shear_dot_is_bit_identical() {
        let mk = |s: f32| -> [f32; 254] { core::array::from_fn(|i| (i as f32 * s).sin()) };
        let next = mk(0.73);
        for n in [1usize, 3, 16, 17, 21, 40, 254] {
            let (mut p1, mut q1) = (mk(0.37), mk(0.11));
            shear(&mut p1[..n], &mut q1[..n], 0.3, 0.2);
            for first in [true, false] {
                let (mut p2, mut q2) = (mk(0.37), mk(0.11));
                let (a, b) = (&mut p2[..n], &mut q2[..n]);
                let got = if first {
                    shear_dot::<f32, true>(a, b, &next[..n], 0.3, 0.2)
                } else {
                    shear_dot::<f32, false>(a, b, &next[..n], 0.3, 0.2)
                };
                let want = dot(if first { &p1[..n] } else { &q1[..n] }, &next[..n]);
                assert_eq!(got.to_bits(), want.to_bits(), "n = {n}");
                assert_eq!((p1, q1), (p2, q2));
            }
        }
    }
}
