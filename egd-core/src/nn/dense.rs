//! Fully connected layers and the input kinds they accept.

use super::params::{Kind, Params, TensorInfo, WeightVisitor};
use crate::error::EgdError;
use crate::matrix::{Matrix, axpy, dot};
use crate::rng::Init;
use crate::scalar::Real;
use rand_core::Rng;

/// An input vector of length `IN` that a first layer can consume.
///
/// Two kinds ship: dense `[T; IN]` and sparse [`MultiHot`]. A layer never
/// materialises a sparse input: forward reads, and backward updates, only the
/// weight columns of the active indices.
pub trait Input<T: Real, const IN: usize> {
    /// Checks the input (sparse indices `< IN`).
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] for an out-of-range index.
    fn validate(&self) -> Result<(), EgdError>;

    /// `out = W · x` (no bias). Call [`Input::validate`] first: invalid
    /// entries are skipped, not reported.
    fn matvec<const OUT: usize>(&self, w: &Matrix<T, OUT, IN>, out: &mut [T; OUT]);

    /// `gw += δ · xᵀ` (the weight gradient of `W · x`). Rows with `δ = 0` are
    /// skipped.
    fn outer_acc<const OUT: usize>(&self, delta: &[T; OUT], gw: &mut Matrix<T, OUT, IN>);

    /// The active indices of a multi-hot input (each contributes `1`, in list
    /// order), or `None` for a dense input (the default).
    ///
    /// Fast paths use it to read and update only the active columns of a
    /// weight matrix from a transposed copy
    /// ([`Mlp2::batch_grad_blocked`](super::Mlp2::batch_grad_blocked)); an
    /// implementation that returns `Some(idx)` must behave exactly like the
    /// multi-hot input [`MultiHot(idx)`](MultiHot) in the other methods.
    ///
    /// ```
    /// use egd_core::nn::{Input, MultiHot};
    /// assert_eq!(Input::<f32, 4>::sparse_indices(&MultiHot([0, 3])), Some(&[0, 3][..]));
    /// assert_eq!(Input::<f32, 2>::sparse_indices(&[1.0f32, 0.0]), None);
    /// ```
    #[inline]
    #[must_use]
    fn sparse_indices(&self) -> Option<&[usize]> {
        None
    }
}

impl<T: Real, const IN: usize> Input<T, IN> for [T; IN] {
    #[inline]
    fn validate(&self) -> Result<(), EgdError> {
        Ok(())
    }

    #[inline]
    fn matvec<const OUT: usize>(&self, w: &Matrix<T, OUT, IN>, out: &mut [T; OUT]) {
        for (o, row) in out.iter_mut().zip(w.rows()) {
            *o = dot(row, self);
        }
    }

    #[inline]
    fn outer_acc<const OUT: usize>(&self, delta: &[T; OUT], gw: &mut Matrix<T, OUT, IN>) {
        for (&d, row) in delta.iter().zip(gw.rows_mut()) {
            if d != T::ZERO {
                axpy(d, self, row);
            }
        }
    }
}

impl<T: Real, const IN: usize, X: Input<T, IN> + ?Sized> Input<T, IN> for &X {
    #[inline]
    fn validate(&self) -> Result<(), EgdError> {
        (**self).validate()
    }
    #[inline]
    fn matvec<const OUT: usize>(&self, w: &Matrix<T, OUT, IN>, out: &mut [T; OUT]) {
        (**self).matvec(w, out);
    }
    #[inline]
    fn outer_acc<const OUT: usize>(&self, delta: &[T; OUT], gw: &mut Matrix<T, OUT, IN>) {
        (**self).outer_acc(delta, gw);
    }
    #[inline]
    fn sparse_indices(&self) -> Option<&[usize]> {
        (**self).sparse_indices()
    }
}

/// A sparse multi-hot input: `x[i] = 1` for each listed index, `0` elsewhere
/// (an index listed twice contributes `2`).
///
/// The index list `S` is anything that derefs to `[usize]`: a borrowed slice
/// (`MultiHot(&[a, p + b])`) or an owned array (`MultiHot([a, p + b])`, handy
/// when the indices come from a function such as `egd_tasks`' `two_hot()`).
/// A layer reads and updates only these columns of its weight matrix, in
/// list order (so results are deterministic).
///
/// ```
/// use egd_core::nn::{Input, MultiHot};
/// use egd_core::Matrix;
/// let w = Matrix::<f32, 2, 4>::from_rows([[1.0, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 8.0]]);
/// let mut out = [0.0; 2];
/// let x = MultiHot([0, 3]);
/// Input::<f32, 4>::validate(&x)?;
/// x.matvec(&w, &mut out);
/// assert_eq!(out, [5.0, 13.0]);
/// assert!(Input::<f32, 4>::validate(&MultiHot(&[4])).is_err());
/// # Ok::<(), egd_core::EgdError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultiHot<S>(pub S);

impl<T: Real, const IN: usize, S: AsRef<[usize]>> Input<T, IN> for MultiHot<S> {
    #[inline]
    fn validate(&self) -> Result<(), EgdError> {
        if self.0.as_ref().iter().all(|&i| i < IN) {
            Ok(())
        } else {
            Err(EgdError::InvalidParameter {
                name: "sparse input index",
                expected: "every index below the input size IN",
            })
        }
    }

    #[inline]
    fn matvec<const OUT: usize>(&self, w: &Matrix<T, OUT, IN>, out: &mut [T; OUT]) {
        let idx = self.0.as_ref();
        for (o, row) in out.iter_mut().zip(w.rows()) {
            let mut acc = T::ZERO;
            for &i in idx {
                if let Some(&x) = row.get(i) {
                    acc += x;
                }
            }
            *o = acc;
        }
    }

    #[inline]
    fn outer_acc<const OUT: usize>(&self, delta: &[T; OUT], gw: &mut Matrix<T, OUT, IN>) {
        let idx = self.0.as_ref();
        for (&d, row) in delta.iter().zip(gw.rows_mut()) {
            if d != T::ZERO {
                for &i in idx {
                    if let Some(x) = row.get_mut(i) {
                        *x += d;
                    }
                }
            }
        }
    }

    #[inline]
    fn sparse_indices(&self) -> Option<&[usize]> {
        Some(self.0.as_ref())
    }
}

/// A fully connected layer `y = W x + b` with `W: OUT × IN` (row-major, so
/// row `o` is output unit `o`'s fan-in) and an optional bias.
///
/// A disabled bias (`bias == false`) is still stored (`OUT` scalars), stays
/// zero, and is skipped by optimizers and gradients.
///
/// # Memory
///
/// [`Dense::BYTES`] `= size_of::<Self>()` ≈ `(OUT·IN + OUT)·size_of::<T>()`.
///
/// ```
/// use egd_core::nn::Dense;
/// let mut l = Dense::<f64, 3, 2>::zeros(true);
/// l.w.row_mut(0).copy_from_slice(&[1.0, 2.0, 3.0]);
/// l.b = [0.5, -1.0];
/// let mut y = [0.0; 2];
/// l.forward(&[1.0, 1.0, 1.0], &mut y)?;
/// assert_eq!(y, [6.5, -1.0]);
/// # Ok::<(), egd_core::EgdError>(())
/// ```
#[derive(Debug, PartialEq)]
pub struct Dense<T, const IN: usize, const OUT: usize> {
    /// Weights, `OUT × IN`.
    pub w: Matrix<T, OUT, IN>,
    /// Bias (kept at zero when `bias` is `false`).
    pub b: [T; OUT],
    /// Whether the bias is used and trained.
    pub bias: bool,
}

/// Not `Copy` (a layer can be hundreds of kilobytes): copies are explicit,
/// and [`Clone::clone_from`] copies in place, without a temporary.
impl<T: Clone, const IN: usize, const OUT: usize> Clone for Dense<T, IN, OUT> {
    fn clone(&self) -> Self {
        Self {
            w: self.w.clone(),
            b: self.b.clone(),
            bias: self.bias,
        }
    }

    fn clone_from(&mut self, source: &Self) {
        self.w.clone_from(&source.w);
        self.b.clone_from_slice(&source.b);
        self.bias = source.bias;
    }
}

/// All zeros, bias switched off: every byte is zero (a `static` lands in `.bss`).
impl<T: Real, const IN: usize, const OUT: usize> Default for Dense<T, IN, OUT> {
    fn default() -> Self {
        Self::zeros(false)
    }
}

impl<T: Real, const IN: usize, const OUT: usize> Dense<T, IN, OUT> {
    /// Size in bytes.
    pub const BYTES: usize = size_of::<Self>();

    /// All-zero weights and bias.
    #[inline]
    #[must_use]
    pub const fn zeros(bias: bool) -> Self {
        Self {
            w: Matrix::zeros(),
            b: [T::ZERO; OUT],
            bias,
        }
    }

    /// Initialises the weights with `w_init` and the bias with `b_init` (fans
    /// `IN`, `OUT`), drawing weights first (row-major), then the bias. A
    /// disabled bias is set to zero and draws nothing.
    pub fn init<R: Rng + ?Sized>(&mut self, w_init: Init, b_init: Init, rng: &mut R) {
        w_init.fill(self.w.as_mut_slice(), IN, OUT, rng);
        if self.bias {
            b_init.fill(&mut self.b, IN, OUT, rng);
        } else {
            self.b = [T::ZERO; OUT];
        }
    }

    /// `out = W x + b`.
    ///
    /// # Errors
    ///
    /// [`EgdError::InvalidParameter`] for an invalid sparse input (nothing is written).
    #[inline]
    pub fn forward<X: Input<T, IN> + ?Sized>(
        &self,
        x: &X,
        out: &mut [T; OUT],
    ) -> Result<(), EgdError> {
        x.validate()?;
        self.forward_unchecked(x, out);
        Ok(())
    }

    #[inline]
    pub(crate) fn forward_unchecked<X: Input<T, IN> + ?Sized>(&self, x: &X, out: &mut [T; OUT]) {
        x.matvec(&self.w, out);
        if self.bias {
            for (o, &b) in out.iter_mut().zip(&self.b) {
                *o += b;
            }
        }
    }

    /// Accumulates this layer's parameter gradient for one sample into `g`:
    /// `g.w += δ xᵀ`, `g.b += δ` (if the bias is enabled).
    #[inline]
    pub fn accumulate_grad<X: Input<T, IN> + ?Sized>(&self, x: &X, delta: &[T; OUT], g: &mut Self) {
        x.outer_acc(delta, &mut g.w);
        if self.bias {
            for (gb, &d) in g.b.iter_mut().zip(delta) {
                *gb += d;
            }
        }
    }

    /// `d_in = Wᵀ δ` (the gradient with respect to this layer's input), as a
    /// sum of contiguous row `axpy`s in row order.
    #[inline]
    pub fn backprop(&self, delta: &[T; OUT], d_in: &mut [T; IN]) {
        d_in.fill(T::ZERO);
        for (&d, row) in delta.iter().zip(self.w.rows()) {
            if d != T::ZERO {
                axpy(d, row, d_in);
            }
        }
    }
}

/// A single layer is itself a (linear) model: tensors `w`, `b`.
impl<T: Real, const IN: usize, const OUT: usize> Params<T> for Dense<T, IN, OUT> {
    const TENSORS: usize = 2;
    const LEN: usize = OUT * IN + OUT;
    const BYTES: usize = size_of::<Self>();

    fn info(i: usize) -> Option<TensorInfo> {
        match i {
            0 => Some(TensorInfo {
                name: "weight",
                kind: Kind::Weight,
                layer: 0,
                rows: OUT,
                cols: IN,
            }),
            1 => Some(TensorInfo {
                name: "bias",
                kind: Kind::Bias,
                layer: 0,
                rows: OUT,
                cols: 1,
            }),
            _ => None,
        }
    }
    fn is_active(&self, i: usize) -> bool {
        i == 0 || (i == 1 && self.bias)
    }
    fn tensor(&self, i: usize) -> &[T] {
        match i {
            0 => self.w.as_slice(),
            1 => &self.b,
            _ => &[],
        }
    }
    fn tensor_mut(&mut self, i: usize) -> &mut [T] {
        match i {
            0 => self.w.as_mut_slice(),
            1 => &mut self.b,
            _ => &mut [],
        }
    }
    fn zeros_like(&self) -> Self {
        Self::zeros(self.bias)
    }
    fn visit_weights_mut<V: WeightVisitor<T>>(&mut self, v: &mut V) -> Result<(), EgdError> {
        v.visit(0, &mut self.w)
    }
}

/// `x ← max(x, 0)` elementwise (NaN becomes 0; the losses reject non-finite
/// outputs, and optimizers never write non-finite weights).
#[inline]
pub fn relu<T: Real>(x: &mut [T]) {
    for v in x {
        *v = if *v > T::ZERO { *v } else { T::ZERO };
    }
}

/// `δ ← δ ⊙ [h > 0]`: the `ReLU` derivative (0 at 0), given the post-activation `h`.
#[inline]
pub fn relu_backward<T: Real>(h: &[T], delta: &mut [T]) {
    for (d, &hv) in delta.iter_mut().zip(h) {
        if hv <= T::ZERO {
            *d = T::ZERO;
        }
    }
}
