//! Generic access to a network's tensors, shared by optimizers and checkpoints.

use crate::error::EgdError;
use crate::matrix::Matrix;
use crate::scalar::Real;

/// Whether a tensor is a weight matrix or a bias vector.
///
/// Optimizers use it for the paper's convention that weight decay applies to
/// weight matrices only, and EGD/column-norm apply to weight matrices only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A weight matrix (`OUT × IN`, row-major).
    Weight,
    /// A bias vector.
    Bias,
}

/// Static description of one tensor of a [`Params`] type.
///
/// ```
/// use egd_core::nn::{Kind, Mlp2, Params};
/// let w2 = <Mlp2<f32, 4, 8, 3> as Params<f32>>::info(2).unwrap();
/// assert_eq!((w2.name, w2.kind, w2.layer, w2.rows, w2.cols), ("l2.weight", Kind::Weight, 1, 3, 8));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TensorInfo {
    /// Name (`"l1.weight"`, `"l1.bias"`, …), for reports.
    pub name: &'static str,
    /// Weight or bias.
    pub kind: Kind,
    /// Layer index, 0-based (`0` is the first layer, fed by the input).
    pub layer: usize,
    /// Rows (`OUT` for a weight matrix or a bias).
    pub rows: usize,
    /// Columns (`IN` for a weight matrix, `1` for a bias).
    pub cols: usize,
}

impl TensorInfo {
    /// Number of scalars (`rows · cols`).
    #[inline]
    #[must_use]
    pub const fn len(&self) -> usize {
        self.rows * self.cols
    }

    /// `true` when the tensor holds no scalars.
    #[inline]
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Receives each weight matrix of a [`Params`] type with its static shape, so
/// shape-generic code (the EGD polar step) can run on it.
pub trait WeightVisitor<T: Real> {
    /// Called once per weight matrix, in layer order.
    ///
    /// # Errors
    ///
    /// Whatever the visitor reports; the walk stops at the first error
    /// (see [`Params::visit_weights_mut`]).
    fn visit<const R: usize, const C: usize>(
        &mut self,
        layer: usize,
        w: &mut Matrix<T, R, C>,
    ) -> Result<(), EgdError>;
}

/// A fixed set of named tensors: network parameters, gradients (a gradient is
/// a buffer of the network's own type) and per-parameter optimizer state.
///
/// Tensors are numbered `0..TENSORS` in a fixed order (layer by layer, weight
/// before bias); out-of-range indices give `None` / an empty slice / `false`,
/// never a panic.
///
/// # Implementing it for your own network
///
/// A network whose parameters are [`Dense`](super::Dense) layers gets the
/// whole impl from one line of [`dense_params!`](crate::dense_params) (as
/// [`Mlp2`](super::Mlp2) and [`Mlp3`](super::Mlp3) do):
///
/// ```
/// use egd_core::dense_params;
/// use egd_core::nn::{Dense, check_params};
///
/// struct TwoTower { left: Dense<f32, 4, 8>, right: Dense<f32, 4, 8>, head: Dense<f32, 8, 2> }
/// dense_params!(impl Params<f32> for TwoTower { left, right, head });
///
/// // In the network's tests:
/// let net = TwoTower { left: Dense::zeros(true), right: Dense::zeros(true), head: Dense::zeros(false) };
/// check_params(&net).unwrap();
/// ```
///
/// Any other network implements the trait by hand; optimizers and
/// checkpoints rely on these rules without re-checking them, and
/// [`check_params`](super::check_params) tests all of them:
///
/// * `info(i)` is `Some` exactly for `i < TENSORS`, names are unique, a bias
///   has one column, layer indices never decrease, each weight matrix has a
///   layer of its own and a bias is in the layer of the weight matrix before
///   it; `LEN` is the sum of the tensor lengths and `BYTES`
///   is `size_of::<Self>()`;
/// * `tensor(i)` and `tensor_mut(i)` are the same `info(i).len()` scalars,
///   disjoint from every other tensor's;
/// * a switched-off tensor holds zeros; `zeros_like` keeps the switches;
/// * `visit_weights_mut` visits every `Kind::Weight` tensor once, in tensor
///   order, passing `info`'s layer index and the tensor's own storage as a
///   `rows × cols` matrix.
pub trait Params<T: Real> {
    /// Number of tensors.
    const TENSORS: usize;
    /// Total number of scalars over all tensors (including disabled biases).
    const LEN: usize;
    /// Size of the type in bytes (`size_of::<Self>()`, padding included).
    const BYTES: usize;

    /// Static description of tensor `i`, `None` when `i >= TENSORS`.
    fn info(i: usize) -> Option<TensorInfo>;

    /// `false` for a tensor that is present but switched off (a disabled
    /// bias): it stays zero and optimizers skip it. `false` when
    /// `i >= TENSORS`.
    fn is_active(&self, i: usize) -> bool;

    /// Tensor `i` as a flat row-major slice (empty when `i >= TENSORS`).
    fn tensor(&self, i: usize) -> &[T];

    /// Tensor `i` as a flat mutable slice (empty when `i >= TENSORS`).
    fn tensor_mut(&mut self, i: usize) -> &mut [T];

    /// A zeroed buffer of the same shape and bias switches (a gradient or an
    /// optimizer-state buffer).
    #[must_use]
    fn zeros_like(&self) -> Self
    where
        Self: Sized;

    /// Calls `v` on every weight matrix, in layer order, with its static shape.
    ///
    /// # Errors
    ///
    /// The first error `v` returns. The walk stops there: the matrices
    /// visited before keep what `v` did to them, the rest are untouched.
    fn visit_weights_mut<V: WeightVisitor<T>>(&mut self, v: &mut V) -> Result<(), EgdError>;

    /// Sets every scalar to zero.
    fn fill_zero(&mut self) {
        for i in 0..Self::TENSORS {
            self.tensor_mut(i).fill(T::ZERO);
        }
    }

    /// `true` when every scalar is finite.
    fn is_finite(&self) -> bool {
        (0..Self::TENSORS).all(|i| self.tensor(i).iter().all(|x| x.is_finite()))
    }

    /// Copies every tensor of `other` into `self` (bias switches are not copied).
    fn copy_params_from(&mut self, other: &Self) {
        for i in 0..Self::TENSORS {
            self.tensor_mut(i).copy_from_slice(other.tensor(i));
        }
    }

    /// `Σ ‖W‖²` over the weight matrices (for the L2 term of the loss).
    fn weight_sum_sq(&self) -> T {
        let mut s = T::ZERO;
        for i in 0..Self::TENSORS {
            if matches!(
                Self::info(i),
                Some(TensorInfo {
                    kind: Kind::Weight,
                    ..
                })
            ) {
                s += crate::matrix::sum_sq(self.tensor(i));
            }
        }
        s
    }
}

/// The empty parameter set: a zero-sized stand-in for optimizer state that is
/// not kept (for example [`Sgd`](crate::optim::Sgd) without momentum).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Empty;

impl<T: Real> Params<T> for Empty {
    const TENSORS: usize = 0;
    const LEN: usize = 0;
    const BYTES: usize = 0;

    #[inline]
    fn info(_: usize) -> Option<TensorInfo> {
        None
    }
    #[inline]
    fn is_active(&self, _: usize) -> bool {
        false
    }
    #[inline]
    fn zeros_like(&self) -> Self {
        Self
    }
    #[inline]
    fn tensor(&self, _: usize) -> &[T] {
        &[]
    }
    #[inline]
    fn tensor_mut(&mut self, _: usize) -> &mut [T] {
        &mut []
    }
    #[inline]
    fn visit_weights_mut<V: WeightVisitor<T>>(&mut self, _: &mut V) -> Result<(), EgdError> {
        Ok(())
    }
}
