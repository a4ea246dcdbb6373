//! [`check_params`]: the run-time invariant check of a [`Params`] impl, and
//! [`ParamsDefect`], what it reports. Meant for a user's tests: optimizers
//! and checkpoints trust these invariants and do not re-check them per step.

use core::fmt;

use super::params::{Kind, Params, TensorInfo, WeightVisitor};
use crate::error::EgdError;
use crate::matrix::Matrix;
use crate::scalar::Real;

/// The first broken invariant [`check_params`] found (tensor indices are
/// those of [`Params::info`]); its `Display` says what is wrong in words.
///
/// ```
/// use egd_core::nn::ParamsDefect;
/// let d = ParamsDefect::VisitLayer { tensor: 2, expected: 1, actual: 0 };
/// assert_eq!(d.to_string(), "weight tensor 2 (layer 1) was visited as layer 0");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ParamsDefect {
    /// `info(tensor)` is `None` although `tensor < TENSORS`.
    MissingInfo {
        /// The tensor index.
        tensor: usize,
    },
    /// `info(TENSORS)`, `tensor(TENSORS)`, `tensor_mut(TENSORS)` or
    /// `is_active(TENSORS)` describes a tensor past the end (they must give
    /// `None`, an empty slice and `false`).
    PastEnd,
    /// A tensor's name is empty.
    EmptyName {
        /// The tensor index.
        tensor: usize,
    },
    /// Two tensors share a name.
    DuplicateName {
        /// The later tensor.
        tensor: usize,
        /// The earlier tensor with the same name.
        first: usize,
    },
    /// A bias is not a column vector (`cols != 1`).
    BiasNotVector {
        /// The tensor index.
        tensor: usize,
    },
    /// Layer indices go down from one tensor to the next, two weight
    /// matrices share a layer, or a bias is not in the layer of the weight
    /// matrix before it (tensors come layer by layer, each layer one weight
    /// matrix followed by its biases, if any).
    LayerOrder {
        /// The first tensor out of order.
        tensor: usize,
    },
    /// `LEN` is not the sum of the tensor lengths in `info`.
    Len {
        /// `Params::LEN`.
        declared: usize,
        /// `Σ info(i).len()`.
        actual: usize,
    },
    /// `BYTES` is not `size_of::<Self>()`.
    Bytes {
        /// `Params::BYTES`.
        declared: usize,
        /// `size_of::<Self>()`.
        actual: usize,
    },
    /// `tensor(i)` or `tensor_mut(i)` does not have `info(i).len()` scalars.
    TensorLen {
        /// The tensor index.
        tensor: usize,
        /// `info(tensor).len()`.
        expected: usize,
        /// The slice's length.
        actual: usize,
        /// Whether `tensor_mut` (rather than `tensor`) gave it.
        mutable: bool,
    },
    /// A switched-off tensor (`is_active(i) == false`) holds a non-zero
    /// scalar in the network passed in.
    InactiveNotZero {
        /// The tensor index.
        tensor: usize,
    },
    /// `zeros_like` gave a non-zero scalar in this tensor, or a different
    /// `is_active` switch than the original.
    ZerosLike {
        /// The tensor index.
        tensor: usize,
    },
    /// A value written through `tensor_mut(tensor)` did not read back
    /// through `tensor(tensor)` after every tensor was written: two tensors
    /// share storage, or `tensor` and `tensor_mut` disagree.
    SharedStorage {
        /// The tensor index.
        tensor: usize,
    },
    /// `visit_weights_mut` visited more matrices than there are weight
    /// tensors.
    ExtraVisit {
        /// The layer index it passed.
        layer: usize,
    },
    /// `visit_weights_mut` never visited this weight tensor (visits must come
    /// in tensor order, one per weight tensor).
    MissedWeight {
        /// The tensor index.
        tensor: usize,
    },
    /// The visit for this weight tensor passed another layer index than
    /// `info(tensor).layer`.
    VisitLayer {
        /// The tensor index.
        tensor: usize,
        /// `info(tensor).layer`.
        expected: usize,
        /// The layer index passed to the visitor.
        actual: usize,
    },
    /// The visit for this weight tensor passed a matrix of another shape
    /// than `info(tensor)`'s `rows × cols`.
    VisitShape {
        /// The tensor index.
        tensor: usize,
        /// Rows of the visited matrix.
        rows: usize,
        /// Columns of the visited matrix.
        cols: usize,
    },
    /// The matrix visited for this weight tensor is not its storage: it did
    /// not hold the tensor's values, or a write through it did not reach
    /// `tensor(tensor)`.
    VisitStorage {
        /// The tensor index.
        tensor: usize,
    },
    /// `visit_weights_mut` returned an error the visitor never raised.
    VisitError(EgdError),
}

impl fmt::Display for ParamsDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::MissingInfo { tensor } => write!(f, "info({tensor}) is None below TENSORS"),
            Self::PastEnd => {
                f.write_str("index TENSORS gives a tensor (expected None / empty / inactive)")
            }
            Self::EmptyName { tensor } => write!(f, "tensor {tensor} has an empty name"),
            Self::DuplicateName { tensor, first } => {
                write!(f, "tensor {tensor} has the name of tensor {first}")
            }
            Self::BiasNotVector { tensor } => write!(f, "bias tensor {tensor} has cols != 1"),
            Self::LayerOrder { tensor } => write!(
                f,
                "tensor {tensor}: layer indices must not decrease, one weight matrix per layer"
            ),
            Self::Len { declared, actual } => {
                write!(
                    f,
                    "LEN is {declared}, the tensors in info hold {actual} scalars"
                )
            }
            Self::Bytes { declared, actual } => {
                write!(f, "BYTES is {declared}, size_of::<Self>() is {actual}")
            }
            Self::TensorLen {
                tensor,
                expected,
                actual,
                mutable,
            } => write!(
                f,
                "{}({tensor}) has {actual} scalars, info says {expected}",
                if mutable { "tensor_mut" } else { "tensor" }
            ),
            Self::InactiveNotZero { tensor } => {
                write!(f, "switched-off tensor {tensor} is not zero")
            }
            Self::ZerosLike { tensor } => write!(
                f,
                "zeros_like: tensor {tensor} is not zero or its switch differs"
            ),
            Self::SharedStorage { tensor } => write!(
                f,
                "tensor {tensor} shares storage with another tensor, or tensor/tensor_mut disagree"
            ),
            Self::ExtraVisit { layer } => {
                write!(
                    f,
                    "visit_weights_mut visited an extra matrix (layer {layer})"
                )
            }
            Self::MissedWeight { tensor } => {
                write!(f, "visit_weights_mut did not visit weight tensor {tensor}")
            }
            Self::VisitLayer {
                tensor,
                expected,
                actual,
            } => write!(
                f,
                "weight tensor {tensor} (layer {expected}) was visited as layer {actual}"
            ),
            Self::VisitShape { tensor, rows, cols } => write!(
                f,
                "weight tensor {tensor} was visited as a {rows} x {cols} matrix"
            ),
            Self::VisitStorage { tensor } => write!(
                f,
                "the matrix visited for weight tensor {tensor} is not that tensor's storage"
            ),
            Self::VisitError(e) => write!(f, "visit_weights_mut failed: {e}"),
        }
    }
}

impl core::error::Error for ParamsDefect {}

/// Checks that a [`Params`] impl is consistent, on `net` and on a
/// [`zeros_like`](Params::zeros_like) copy of it. Call it in the tests of a
/// network type (its result does not depend on the weights' values, only on
/// the bias switches).
///
/// Checked, in this order (the first failure is returned):
///
/// 1. `info(i)` is `Some` for `i < TENSORS` and `None` for `i = TENSORS`;
///    names are non-empty and unique; a bias has one column; layer indices
///    never decrease from tensor to tensor, each weight matrix has a layer
///    of its own and a bias is in the layer of the weight matrix before it; `LEN = Σ info(i).len()`; `BYTES = size_of::<N>()`.
/// 2. On `net`: `tensor(i)` has `info(i).len()` scalars; index `TENSORS`
///    gives an empty slice and `is_active == false`;
///    switched-off tensors hold zeros.
/// 3. On a `zeros_like` copy: `tensor_mut(i)` has `info(i).len()` scalars
///    (`TENSORS` gives an empty one); the copy is all zero with `net`'s
///    switches.
/// 4. On the zeroed copy: after writing `i + 1` into every scalar of
///    tensor `i` through `tensor_mut` (all tensors first), `tensor(i)`
///    reads back `i + 1` everywhere (no two tensors share storage).
/// 5. `visit_weights_mut` visits each weight tensor exactly once, in tensor
///    order, with `info`'s layer index and `rows × cols` shape, and passes
///    the tensor's own storage: the matrix holds the tensor's values, and a
///    value written into it reads back through `tensor`.
///
/// It needs room for one more `N` (the zeroed copy) on the stack.
///
/// ```
/// use egd_core::nn::{Mlp2, check_params};
/// check_params(&Mlp2::<f32, 6, 8, 3>::zeros(true, false))?;
/// # Ok::<(), egd_core::nn::ParamsDefect>(())
/// ```
///
/// # Errors
///
/// The first [`ParamsDefect`] found. `net` is never written.
pub fn check_params<T: Real, N: Params<T>>(net: &N) -> Result<(), ParamsDefect> {
    check_info::<T, N>()?;
    check_instance(net)?;
    let mut probe = net.zeros_like();
    for i in 0..N::TENSORS {
        check_len::<T, N>(i, probe.tensor_mut(i).len(), true)?;
    }
    if !probe.tensor_mut(N::TENSORS).is_empty() {
        return Err(ParamsDefect::PastEnd);
    }
    for i in 0..N::TENSORS {
        let all_zero = probe.tensor(i).iter().all(|&x| x == T::ZERO);
        if !all_zero || probe.is_active(i) != net.is_active(i) {
            return Err(ParamsDefect::ZerosLike { tensor: i });
        }
    }
    for i in 0..N::TENSORS {
        probe.tensor_mut(i).fill(marker(i));
    }
    for i in 0..N::TENSORS {
        if !probe.tensor(i).iter().all(|&x| x == marker(i)) {
            return Err(ParamsDefect::SharedStorage { tensor: i });
        }
    }
    check_visits::<T, N>(&mut probe)
}

/// Step 1 of [`check_params`]: the static description alone.
fn check_info<T: Real, N: Params<T>>() -> Result<(), ParamsDefect> {
    let mut len = 0usize;
    let mut prev: Option<TensorInfo> = None;
    let mut last_weight_layer: Option<usize> = None;
    for i in 0..N::TENSORS {
        let info = N::info(i).ok_or(ParamsDefect::MissingInfo { tensor: i })?;
        if info.name.is_empty() {
            return Err(ParamsDefect::EmptyName { tensor: i });
        }
        if let Some(first) = (0..i).find(|&j| N::info(j).is_some_and(|t| t.name == info.name)) {
            return Err(ParamsDefect::DuplicateName { tensor: i, first });
        }
        if info.kind == Kind::Bias && info.cols != 1 {
            return Err(ParamsDefect::BiasNotVector { tensor: i });
        }
        let decreasing = prev.is_some_and(|p| info.layer < p.layer);
        let misplaced = match info.kind {
            Kind::Weight => last_weight_layer == Some(info.layer),
            Kind::Bias => last_weight_layer != Some(info.layer),
        };
        if decreasing || misplaced {
            return Err(ParamsDefect::LayerOrder { tensor: i });
        }
        if info.kind == Kind::Weight {
            last_weight_layer = Some(info.layer);
        }
        len = len.saturating_add(info.len());
        prev = Some(info);
    }
    if N::info(N::TENSORS).is_some() {
        return Err(ParamsDefect::PastEnd);
    }
    if len != N::LEN {
        return Err(ParamsDefect::Len {
            declared: N::LEN,
            actual: len,
        });
    }
    if N::BYTES != size_of::<N>() {
        return Err(ParamsDefect::Bytes {
            declared: N::BYTES,
            actual: size_of::<N>(),
        });
    }
    Ok(())
}

/// Step 2 of [`check_params`]: slices and switches of `net` itself.
fn check_instance<T: Real, N: Params<T>>(net: &N) -> Result<(), ParamsDefect> {
    for i in 0..N::TENSORS {
        check_len::<T, N>(i, net.tensor(i).len(), false)?;
        if !net.is_active(i) && net.tensor(i).iter().any(|&x| x != T::ZERO) {
            return Err(ParamsDefect::InactiveNotZero { tensor: i });
        }
    }
    if !net.tensor(N::TENSORS).is_empty() || net.is_active(N::TENSORS) {
        return Err(ParamsDefect::PastEnd);
    }
    Ok(())
}

/// Whether a slice for tensor `i` has `info(i).len()` scalars.
fn check_len<T: Real, N: Params<T>>(
    i: usize,
    actual: usize,
    mutable: bool,
) -> Result<(), ParamsDefect> {
    let expected = N::info(i).map_or(0, |t| t.len());
    if actual == expected {
        Ok(())
    } else {
        Err(ParamsDefect::TensorLen {
            tensor: i,
            expected,
            actual,
            mutable,
        })
    }
}

/// The value [`check_params`] writes into tensor `i` (exact in `f32` for
/// fewer than 2²⁴ tensors).
fn marker<T: Real>(i: usize) -> T {
    T::from_usize(i.saturating_add(1))
}

/// Step 5 of [`check_params`], on the marked copy.
fn check_visits<T: Real, N: Params<T>>(probe: &mut N) -> Result<(), ParamsDefect> {
    let mut v = VisitCheck::<T, N> {
        next: 0,
        defect: None,
        _net: core::marker::PhantomData,
    };
    let walked = probe.visit_weights_mut(&mut v);
    if let Some(d) = v.defect {
        return Err(d);
    }
    if let Err(e) = walked {
        return Err(ParamsDefect::VisitError(e));
    }
    if let Some(tensor) = next_weight::<T, N>(v.next) {
        return Err(ParamsDefect::MissedWeight { tensor });
    }
    for i in 0..N::TENSORS {
        let weight = N::info(i).is_some_and(|t| t.kind == Kind::Weight);
        let want = if weight { -marker::<T>(i) } else { marker(i) };
        if !probe.tensor(i).iter().all(|&x| x == want) {
            return Err(if weight {
                ParamsDefect::VisitStorage { tensor: i }
            } else {
                ParamsDefect::SharedStorage { tensor: i }
            });
        }
    }
    Ok(())
}

/// The first weight tensor at index `from` or later.
fn next_weight<T: Real, N: Params<T>>(from: usize) -> Option<usize> {
    (from..N::TENSORS).find(|&i| N::info(i).is_some_and(|t| t.kind == Kind::Weight))
}

/// Checks each visit against the next weight tensor, and negates the
/// visited matrix's values so [`check_visits`] can see where the writes
/// landed.
struct VisitCheck<T, N> {
    /// Where the search for the next weight tensor starts.
    next: usize,
    defect: Option<ParamsDefect>,
    _net: core::marker::PhantomData<fn() -> (T, N)>,
}

/// What the visitor returns to stop the walk at a defect (reported through
/// `defect`, never to the user).
const STOP: EgdError = EgdError::InvalidParameter {
    name: "check_params",
    expected: "a consistent Params impl",
};

impl<T: Real, N: Params<T>> WeightVisitor<T> for VisitCheck<T, N> {
    fn visit<const R: usize, const C: usize>(
        &mut self,
        layer: usize,
        w: &mut Matrix<T, R, C>,
    ) -> Result<(), EgdError> {
        let defect = match next_weight::<T, N>(self.next) {
            None => Some(ParamsDefect::ExtraVisit { layer }),
            Some(tensor) => {
                self.next = tensor + 1;
                let info = N::info(tensor).unwrap_or(TensorInfo {
                    name: "",
                    kind: Kind::Weight,
                    layer,
                    rows: R,
                    cols: C,
                });
                if info.layer != layer {
                    Some(ParamsDefect::VisitLayer {
                        tensor,
                        expected: info.layer,
                        actual: layer,
                    })
                } else if (info.rows, info.cols) != (R, C) {
                    Some(ParamsDefect::VisitShape {
                        tensor,
                        rows: R,
                        cols: C,
                    })
                } else if !w.as_slice().iter().all(|&x| x == marker(tensor)) {
                    Some(ParamsDefect::VisitStorage { tensor })
                } else {
                    for x in w.as_mut_slice() {
                        *x = -*x;
                    }
                    None
                }
            }
        };
        match defect {
            Some(d) => {
                self.defect = Some(d);
                Err(STOP)
            }
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nn::{Dense, Empty, Mlp2, Mlp3};

    #[test]
    fn shipped_networks_pass_for_every_bias_switch() {
        for (a, b) in [(false, false), (false, true), (true, false), (true, true)] {
            assert_eq!(check_params(&Mlp2::<f32, 6, 8, 3>::zeros(a, b)), Ok(()));
            assert_eq!(check_params(&Mlp3::<f64, 4, 5, 3, 2>::zeros(a, b)), Ok(()));
            assert_eq!(check_params(&Dense::<f32, 3, 2>::zeros(a)), Ok(()));
        }
        assert_eq!(check_params::<f32, _>(&Empty), Ok(()));
    }

    #[test]
    fn a_switched_off_bias_must_hold_zeros() {
        let mut net = Mlp2::<f64, 2, 3, 2>::zeros(false, true);
        net.l1.b[1] = 0.5;
        assert_eq!(
            check_params(&net),
            Err(ParamsDefect::InactiveNotZero { tensor: 1 })
        );
    }

    /// Three layers `3 → 4 → 4 → 4` (the last two the same shape, so a
    /// mixed-up field still type-checks), written by hand with bug number
    /// `BUG` (0: none).
    struct Buggy<const BUG: u8> {
        a: Dense<f64, 3, 4>,
        b: Dense<f64, 4, 4>,
        c: Dense<f64, 4, 4>,
    }

    impl<const BUG: u8> Buggy<BUG> {
        fn new() -> Self {
            Self {
                a: Dense::zeros(true),
                b: Dense::zeros(false),
                c: Dense::zeros(true),
            }
        }
    }

    impl<const BUG: u8> Params<f64> for Buggy<BUG> {
        const TENSORS: usize = 6;
        const LEN: usize = 16 + 20 + 20 + if BUG == 1 { 1 } else { 0 };
        const BYTES: usize = size_of::<Self>() + if BUG == 2 { 8 } else { 0 };

        fn info(i: usize) -> Option<TensorInfo> {
            let t = |name, kind, layer, rows, cols| {
                Some(TensorInfo {
                    name,
                    kind,
                    layer,
                    rows,
                    cols,
                })
            };
            match i {
                0 => t("a.weight", Kind::Weight, 0, 4, 3),
                1 if BUG == 3 => t("a.weight", Kind::Bias, 0, 4, 1),
                1 => t("a.bias", Kind::Bias, 0, 4, 1),
                2 if BUG == 4 => t("b.weight", Kind::Weight, 0, 4, 4),
                2 => t("b.weight", Kind::Weight, 1, 4, 4),
                3 if BUG == 15 => t("b.bias", Kind::Bias, 1, 2, 2),
                3 => t("b.bias", Kind::Bias, 1, 4, 1),
                4 => t("c.weight", Kind::Weight, 2, 4, 4),
                5 => t("c.bias", Kind::Bias, 2, 4, 1),
                6 if BUG == 12 => t("extra", Kind::Bias, 2, 1, 1),
                _ => None,
            }
        }
        fn is_active(&self, i: usize) -> bool {
            match i {
                0 | 2 | 4 => true,
                1 => self.a.bias,
                3 => self.b.bias,
                5 => self.c.bias,
                _ => false,
            }
        }
        fn tensor(&self, i: usize) -> &[f64] {
            match i {
                0 => self.a.w.as_slice(),
                1 => &self.a.b,
                2 => self.b.w.as_slice(),
                3 if BUG == 5 => self.b.w.as_slice(),
                3 => &self.b.b,
                4 => self.c.w.as_slice(),
                5 => &self.c.b,
                _ => &[],
            }
        }
        fn tensor_mut(&mut self, i: usize) -> &mut [f64] {
            match i {
                0 => self.a.w.as_mut_slice(),
                1 => &mut self.a.b,
                2 => self.b.w.as_mut_slice(),
                3 if BUG == 6 => &mut self.a.b,
                3 => &mut self.b.b,
                4 => self.c.w.as_mut_slice(),
                5 => &mut self.c.b,
                _ => &mut [],
            }
        }
        fn zeros_like(&self) -> Self {
            Self {
                a: Dense::zeros(self.a.bias),
                b: Dense::zeros(self.b.bias || BUG == 11),
                c: Dense::zeros(self.c.bias),
            }
        }
        fn visit_weights_mut<V: WeightVisitor<f64>>(&mut self, v: &mut V) -> Result<(), EgdError> {
            match BUG {
                7 => {
                    v.visit(1, &mut self.b.w)?;
                    v.visit(0, &mut self.a.w)?;
                    v.visit(2, &mut self.c.w)
                }
                8 => {
                    v.visit(0, &mut self.a.w)?;
                    v.visit(1, &mut self.b.w)?;
                    v.visit(2, &mut self.b.w)
                }
                9 => {
                    v.visit(0, &mut self.a.w)?;
                    v.visit(1, &mut self.b.w)
                }
                10 => {
                    v.visit(0, &mut self.a.w)?;
                    v.visit(1, &mut self.b.w)?;
                    v.visit(2, &mut self.c.w)?;
                    v.visit(3, &mut self.c.w)
                }
                13 => {
                    v.visit(0, &mut self.a.w)?;
                    v.visit(1, &mut self.b.w)?;
                    let mut copy = self.c.w.clone();
                    v.visit(2, &mut copy)
                }
                14 => {
                    v.visit(0, &mut self.a.w)?;
                    v.visit(1, &mut self.b.w)?;
                    Err(EgdError::NonFinite)
                }
                16 => {
                    v.visit(0, &mut self.a.w)?;
                    v.visit(1, &mut self.b.w)?;
                    v.visit(2, &mut self.a.w)
                }
                _ => {
                    v.visit(0, &mut self.a.w)?;
                    v.visit(1, &mut self.b.w)?;
                    v.visit(2, &mut self.c.w)
                }
            }
        }
    }

    fn check<const BUG: u8>() -> Result<(), ParamsDefect> {
        check_params(&Buggy::<BUG>::new())
    }

    #[test]
    fn a_correct_hand_written_impl_passes() {
        assert_eq!(check::<0>(), Ok(()));
    }

    #[test]
    fn every_deliberate_bug_is_caught_and_named() {
        use ParamsDefect as D;
        let len = D::Len {
            declared: 57,
            actual: 56,
        };
        let bytes = D::Bytes {
            declared: size_of::<Buggy<2>>() + 8,
            actual: size_of::<Buggy<2>>(),
        };
        let tensor_len = D::TensorLen {
            tensor: 3,
            expected: 4,
            actual: 16,
            mutable: false,
        };
        let visit_layer = D::VisitLayer {
            tensor: 0,
            expected: 0,
            actual: 1,
        };
        let cases = [
            (check::<1>(), len),
            (check::<2>(), bytes),
            (
                check::<3>(),
                D::DuplicateName {
                    tensor: 1,
                    first: 0,
                },
            ),
            (check::<4>(), D::LayerOrder { tensor: 2 }),
            (check::<5>(), tensor_len),
            (check::<6>(), D::SharedStorage { tensor: 1 }),
            (check::<7>(), visit_layer),
            (check::<8>(), D::VisitStorage { tensor: 4 }),
            (check::<9>(), D::MissedWeight { tensor: 4 }),
            (check::<10>(), D::ExtraVisit { layer: 3 }),
            (check::<11>(), D::ZerosLike { tensor: 3 }),
            (check::<12>(), D::PastEnd),
            (check::<13>(), D::VisitStorage { tensor: 4 }),
            (check::<14>(), D::VisitError(EgdError::NonFinite)),
            (check::<15>(), D::BiasNotVector { tensor: 3 }),
        ];
        for (i, (got, want)) in cases.into_iter().enumerate() {
            assert_eq!(got, Err(want), "case {i}");
        }
    }

    #[test]
    fn a_visit_of_another_layers_matrix_of_a_different_shape_is_caught() {
        assert_eq!(
            check::<16>(),
            Err(ParamsDefect::VisitShape {
                tensor: 4,
                rows: 4,
                cols: 3
            })
        );
    }
}
