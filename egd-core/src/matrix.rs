//! Fixed-size, row-major matrices and the few kernels everything else uses.
//!
//! `Matrix<T, R, C>` stores `[[T; C]; R]`: `R` rows of `C` contiguous elements.
//! Products write into caller-owned outputs, so the cost of every operation is
//! visible and nothing allocates. Shapes are const generics: a product of
//! mismatched shapes does not compile.
//!
//! ```compile_fail
//! use egd_core::Matrix;
//! let a = Matrix::<f32, 2, 3>::zeros();
//! let b = Matrix::<f32, 2, 3>::zeros();
//! let mut out = Matrix::<f32, 2, 3>::zeros();
//! a.matmul(&b, &mut out); // (2×3)·(2×3): inner dimensions differ
//! ```
//!
//! # Determinism
//!
//! Reductions ([`dot`], [`Matrix::matmul_t`], [`Matrix::frobenius_norm`]) use
//! eight partial sums combined in a fixed order, on every target, so the
//! compiler may vectorize them without changing a bit.

use crate::scalar::Real;
use core::ops::{Index, IndexMut};

/// Number of independent partial sums in reductions (fixed: part of the
/// bit-for-bit contract).
pub const LANES: usize = 8;

/// Dot product of two equally long slices (the shorter length is used), with
/// [`LANES`] partial sums combined in a fixed order.
///
/// ```
/// assert_eq!(egd_core::matrix::dot(&[1.0f32, 2.0, 3.0], &[4.0, 5.0, 6.0]), 32.0);
/// ```
#[inline]
#[must_use]
pub fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [T::ZERO; LANES];
    let ac = a.chunks_exact(LANES);
    let bc = b.chunks_exact(LANES);
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    for (l, (x, y)) in ar.iter().zip(br).enumerate() {
        acc[l] += *x * *y;
    }
    combine(&acc)
}

/// Sum of squares of a slice, with the same fixed order as [`dot`].
#[inline]
#[must_use]
pub fn sum_sq<T: Real>(a: &[T]) -> T {
    dot(a, a)
}

#[inline]
fn combine<T: Real>(acc: &[T; LANES]) -> T {
    ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))
}

/// `y += alpha * x`, element by element (the shorter length is used).
///
/// ```
/// let mut y = [1.0f64, 1.0];
/// egd_core::matrix::axpy(2.0, &[1.0, 2.0], &mut y);
/// assert_eq!(y, [3.0, 5.0]);
/// ```
#[inline]
pub fn axpy<T: Real>(alpha: T, x: &[T], y: &mut [T]) {
    for (yi, xi) in y.iter_mut().zip(x) {
        *yi += alpha * *xi;
    }
}

/// A dense `R × C` matrix, row-major.
///
/// ```
/// use egd_core::Matrix;
/// let a = Matrix::<f64, 2, 3>::from_rows([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]);
/// let mut at = Matrix::<f64, 3, 2>::zeros();
/// a.transpose_into(&mut at);
/// let mut aat = Matrix::<f64, 2, 2>::zeros();
/// a.matmul(&at, &mut aat);
/// assert_eq!(aat[(0, 1)], 32.0);
/// assert_eq!(aat.row(1), &[32.0, 77.0]);
/// ```
#[derive(Debug, PartialEq)]
pub struct Matrix<T, const R: usize, const C: usize> {
    data: [[T; C]; R],
}

/// Not `Copy`: a matrix can be hundreds of kilobytes, so copies are explicit.
/// [`Clone::clone_from`] copies in place, without a temporary.
impl<T: Clone, const R: usize, const C: usize> Clone for Matrix<T, R, C> {
    #[inline]
    fn clone(&self) -> Self {
        Self {
            data: self.data.clone(),
        }
    }

    #[inline]
    fn clone_from(&mut self, source: &Self) {
        self.data
            .as_flattened_mut()
            .clone_from_slice(source.data.as_flattened());
    }
}

impl<T: Real, const R: usize, const C: usize> Default for Matrix<T, R, C> {
    fn default() -> Self {
        Self::zeros()
    }
}

impl<T: Real, const R: usize, const C: usize> Matrix<T, R, C> {
    /// Number of rows.
    pub const ROWS: usize = R;
    /// Number of columns.
    pub const COLS: usize = C;
    /// Size of the matrix in bytes (`R·C·size_of::<T>()`).
    pub const BYTES: usize = R * C * T::BYTES;

    /// All zeros.
    #[inline]
    #[must_use]
    pub const fn zeros() -> Self {
        const { assert!(R > 0 && C > 0, "matrix dimensions must be positive") };
        Self {
            data: [[T::ZERO; C]; R],
        }
    }

    /// Ones on the diagonal, zeros elsewhere (rectangular shapes allowed).
    ///
    /// ```
    /// let i = egd_core::Matrix::<f32, 2, 3>::identity();
    /// assert_eq!(i.row(1), &[0.0, 1.0, 0.0]);
    /// ```
    #[must_use]
    pub fn identity() -> Self {
        let mut m = Self::zeros();
        for i in 0..R.min(C) {
            m.data[i][i] = T::ONE;
        }
        m
    }

    /// From an array of rows.
    #[inline]
    #[must_use]
    pub const fn from_rows(rows: [[T; C]; R]) -> Self {
        const { assert!(R > 0 && C > 0, "matrix dimensions must be positive") };
        Self { data: rows }
    }

    /// Element `(i, j)` is `f(i, j)`.
    ///
    /// ```
    /// let m = egd_core::Matrix::<f64, 2, 2>::from_fn(|i, j| (10 * i + j) as f64);
    /// assert_eq!(m[(1, 0)], 10.0);
    /// ```
    #[must_use]
    pub fn from_fn(mut f: impl FnMut(usize, usize) -> T) -> Self {
        let mut m = Self::zeros();
        for (i, row) in m.data.iter_mut().enumerate() {
            for (j, x) in row.iter_mut().enumerate() {
                *x = f(i, j);
            }
        }
        m
    }

    /// Element `(i, j)`, or `None` out of bounds.
    #[inline]
    #[must_use]
    pub fn get(&self, i: usize, j: usize) -> Option<T> {
        self.data.get(i).and_then(|r| r.get(j)).copied()
    }

    /// Row `i` (panics if `i >= R`, like slice indexing).
    #[inline]
    #[must_use]
    pub fn row(&self, i: usize) -> &[T; C] {
        &self.data[i]
    }

    /// Row `i`, mutable.
    #[inline]
    pub fn row_mut(&mut self, i: usize) -> &mut [T; C] {
        &mut self.data[i]
    }

    /// All rows.
    #[inline]
    #[must_use]
    pub const fn rows(&self) -> &[[T; C]; R] {
        &self.data
    }

    /// All rows, mutable.
    #[inline]
    pub fn rows_mut(&mut self) -> &mut [[T; C]; R] {
        &mut self.data
    }

    /// The elements as one row-major slice of length `R·C`.
    #[inline]
    #[must_use]
    pub fn as_slice(&self) -> &[T] {
        self.data.as_flattened()
    }

    /// The elements as one mutable row-major slice of length `R·C`.
    #[inline]
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        self.data.as_flattened_mut()
    }

    /// Sets every element to zero.
    #[inline]
    pub fn fill_zero(&mut self) {
        self.fill(T::ZERO);
    }

    /// Sets every element to `v`.
    #[inline]
    pub fn fill(&mut self, v: T) {
        for x in self.as_mut_slice() {
            *x = v;
        }
    }

    /// Copies `other` into `self` without going through the stack.
    #[inline]
    pub fn copy_from(&mut self, other: &Self) {
        self.as_mut_slice().copy_from_slice(other.as_slice());
    }

    /// Writes `selfᵀ` into `out`.
    pub fn transpose_into(&self, out: &mut Matrix<T, C, R>) {
        for (i, row) in self.data.iter().enumerate() {
            for (j, &x) in row.iter().enumerate() {
                out.data[j][i] = x;
            }
        }
    }

    /// `out = self · b` for `self: R×K`, `b: K×C2`.
    ///
    /// Row-oriented (`out[i] = Σₖ self[i][k]·b[k]`), so every inner loop is a
    /// contiguous `axpy`; zero entries of `self` are skipped (cheap for `ReLU`
    /// activations and sparse inputs, and exact).
    pub fn matmul<const C2: usize>(&self, b: &Matrix<T, C, C2>, out: &mut Matrix<T, R, C2>) {
        for (orow, arow) in out.data.iter_mut().zip(&self.data) {
            *orow = [T::ZERO; C2];
            for (&a, brow) in arow.iter().zip(&b.data) {
                if a != T::ZERO {
                    axpy(a, brow, orow);
                }
            }
        }
    }

    /// `out = self · bᵀ` for `self: R×C`, `b: R2×C` (dot products of rows).
    pub fn matmul_t<const R2: usize>(&self, b: &Matrix<T, R2, C>, out: &mut Matrix<T, R, R2>) {
        for (orow, arow) in out.data.iter_mut().zip(&self.data) {
            for (o, brow) in orow.iter_mut().zip(&b.data) {
                *o = dot(arow, brow);
            }
        }
    }

    /// `out = selfᵀ · b` for `self: R×C`, `b: R×C2` (sum of outer products
    /// of rows, each a contiguous `axpy`).
    pub fn t_matmul<const C2: usize>(&self, b: &Matrix<T, R, C2>, out: &mut Matrix<T, C, C2>) {
        out.fill_zero();
        for (arow, brow) in self.data.iter().zip(&b.data) {
            for (orow, &a) in out.data.iter_mut().zip(arow) {
                if a != T::ZERO {
                    axpy(a, brow, orow);
                }
            }
        }
    }

    /// `self += alpha · x`.
    #[inline]
    pub fn axpy(&mut self, alpha: T, x: &Self) {
        axpy(alpha, x.as_slice(), self.as_mut_slice());
    }

    /// `self *= alpha`.
    #[inline]
    pub fn scale(&mut self, alpha: T) {
        for x in self.as_mut_slice() {
            *x *= alpha;
        }
    }

    /// Frobenius norm `√(Σ aᵢⱼ²)`, computed with power-of-two scaling so it
    /// neither overflows nor underflows for finite input.
    ///
    /// ```
    /// let m = egd_core::Matrix::<f32, 1, 2>::from_rows([[3.0e30, 4.0e30]]);
    /// assert_eq!(m.frobenius_norm(), 5.0e30);
    /// ```
    #[must_use]
    pub fn frobenius_norm(&self) -> T {
        let m = self.max_abs();
        if m == T::ZERO || !m.is_finite() {
            return m;
        }
        let e = m.exponent();
        let mut acc = [T::ZERO; LANES];
        for (l, &x) in self.as_slice().iter().enumerate() {
            let y = x.scalbn(-e);
            acc[l % LANES] += y * y;
        }
        combine(&acc).sqrt().scalbn(e)
    }

    /// Largest absolute value (`NaN` if any element is `NaN`).
    #[must_use]
    pub fn max_abs(&self) -> T {
        let mut m = T::ZERO;
        for &x in self.as_slice() {
            let a = x.abs();
            if a.is_nan() {
                return a;
            }
            if a > m {
                m = a;
            }
        }
        m
    }

    /// `true` when every element is finite.
    #[must_use]
    pub fn is_finite(&self) -> bool {
        self.as_slice().iter().all(|x| x.is_finite())
    }
}

impl<T, const R: usize, const C: usize> Index<(usize, usize)> for Matrix<T, R, C> {
    type Output = T;
    #[inline]
    fn index(&self, (i, j): (usize, usize)) -> &T {
        &self.data[i][j]
    }
}

impl<T, const R: usize, const C: usize> IndexMut<(usize, usize)> for Matrix<T, R, C> {
    #[inline]
    fn index_mut(&mut self, (i, j): (usize, usize)) -> &mut T {
        &mut self.data[i][j]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_agree() {
        let a = Matrix::<f64, 3, 4>::from_fn(|i, j| (i * 4 + j) as f64 - 5.0);
        let b = Matrix::<f64, 4, 2>::from_fn(|i, j| (i + 2 * j) as f64 * 0.5);
        let mut ab = Matrix::<f64, 3, 2>::zeros();
        a.matmul(&b, &mut ab);
        let mut bt = Matrix::<f64, 2, 4>::zeros();
        b.transpose_into(&mut bt);
        let mut ab2 = Matrix::<f64, 3, 2>::zeros();
        a.matmul_t(&bt, &mut ab2);
        let mut at = Matrix::<f64, 4, 3>::zeros();
        a.transpose_into(&mut at);
        let mut ab3 = Matrix::<f64, 3, 2>::zeros();
        at.t_matmul(&b, &mut ab3);
        assert_eq!(ab, ab2);
        assert_eq!(ab, ab3);
        assert_eq!(
            ab[(0, 0)],
            -5.0 * 0.0 + -4.0 * 0.5 + -3.0 * 1.0 + -2.0 * 1.5
        );
    }

    #[test]
    fn dot_handles_tails() {
        let a: [f64; 11] = core::array::from_fn(|i| i as f64);
        assert_eq!(dot(&a, &a), 385.0);
    }

    #[test]
    fn norm_and_max_abs() {
        let m = Matrix::<f64, 2, 2>::from_rows([[3.0, 0.0], [0.0, -4.0]]);
        assert_eq!(m.frobenius_norm(), 5.0);
        assert_eq!(m.max_abs(), 4.0);
        assert_eq!(Matrix::<f32, 2, 2>::zeros().frobenius_norm(), 0.0);
    }
}
