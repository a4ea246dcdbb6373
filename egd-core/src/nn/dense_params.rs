//! [`dense_params!`](crate::dense_params): the [`Params`] impl of a network
//! whose parameters are a list of [`Dense`] layers, written once here instead
//! of by hand per network (`Mlp2`, `Mlp3` and user-defined networks use it),
//! plus the small generic functions its expansion calls.

use super::dense::Dense;
use super::params::{Kind, TensorInfo};

/// Implements [`Params`](crate::nn::Params) for a struct whose fields are
/// exactly a list of [`Dense`](crate::nn::Dense) layers, in layer order.
///
/// ```text
/// dense_params!(impl Params<f32> for MyNet { l1, l2, head });
/// dense_params!(impl[T: Real, const H: usize] Params<T> for MyNet<T, H> { l1, l2, head });
/// ```
///
/// The second form takes the impl's generic parameters in brackets (what
/// would follow `impl` in angle brackets). Field `k` of the list is layer
/// `k`; it contributes two tensors, numbered `2k` (`"<field>.weight"`, a
/// [`Kind::Weight`](crate::nn::Kind::Weight) of `OUT × IN`) and `2k + 1`
/// (`"<field>.bias"`, a [`Kind::Bias`](crate::nn::Kind::Bias) of `OUT`,
/// active when the layer's `bias` switch is on). `LEN`, `BYTES`, `info`,
/// `is_active`, `tensor`, `tensor_mut`, `zeros_like` and
/// `visit_weights_mut` all follow from that list, so they cannot disagree
/// with each other; [`check_params`](crate::nn::check_params) verifies the
/// result at run time.
///
/// The compiler checks the rest: a field of another type, or a scalar type
/// other than the one in `Params<…>`, does not type-check, and `zeros_like`
/// builds `Self { field: Dense::zeros(..), … }`, so a field left out of the
/// list (or a struct with fields that are not layers) is a "missing field"
/// error. A network with other tensors (an embedding table, a normalisation
/// gain) implements [`Params`](crate::nn::Params) by hand and should call
/// [`check_params`](crate::nn::check_params) in its tests.
///
/// ```
/// use egd_core::dense_params;
/// use egd_core::nn::{Dense, Kind, Params, check_params};
/// use egd_core::scalar::Real;
///
/// /// `IN → H → H → 2`, with a residual connection around the middle layer.
/// struct Residual<T, const IN: usize, const H: usize> {
///     embed: Dense<T, IN, H>,
///     mix: Dense<T, H, H>,
///     head: Dense<T, H, 2>,
/// }
/// dense_params!(impl[T: Real, const IN: usize, const H: usize] Params<T> for Residual<T, IN, H> { embed, mix, head });
///
/// type Net = Residual<f32, 3, 4>;
/// let net = Net { embed: Dense::zeros(true), mix: Dense::zeros(true), head: Dense::zeros(false) };
/// assert_eq!((Net::TENSORS, Net::LEN), (6, (4 * 3 + 4) + (4 * 4 + 4) + (2 * 4 + 2)));
/// let info = Net::info(4).unwrap();
/// assert_eq!((info.name, info.kind, info.layer, info.rows, info.cols), ("head.weight", Kind::Weight, 2, 2, 4));
/// assert!(!net.is_active(5)); // the head has no bias
/// check_params(&net).unwrap();
/// ```
#[macro_export]
macro_rules! dense_params {
    (
        $(#[$attr:meta])*
        impl Params<$t:ty> for $ty:ty { $($field:ident),+ $(,)? }
    ) => {
        $crate::dense_params!($(#[$attr])* impl[] Params<$t> for $ty { $($field),+ });
    };
    (
        $(#[$attr:meta])*
        impl[$($generics:tt)*] Params<$t:ty> for $ty:ty { $($field:ident),+ $(,)? }
    ) => {
        $(#[$attr])*
        impl<$($generics)*> $crate::nn::Params<$t> for $ty {
            const TENSORS: usize = 2 * [$(stringify!($field)),+].len();
            const LEN: usize =
                0 $(+ $crate::nn::__dense_params::len::<Self, $t, _, _>(|net| &net.$field))+;
            const BYTES: usize = ::core::mem::size_of::<Self>();

            // `match` arms guarded by the layer index (a constant), so the
            // impls compile to the same switch as hand-written literal arms
            // (same code size and speed as the impls this macro replaced).
            fn info(i: usize) -> ::core::option::Option<$crate::nn::TensorInfo> {
                const FIELDS: &[&str] = &[$(stringify!($field)),+];
                match i {
                    $(
                        j if j == 2 * $crate::dense_params!(@layer FIELDS $field) => {
                            ::core::option::Option::Some(const {
                                $crate::nn::__dense_params::weight_info::<Self, $t, _, _>(
                                    |net| &net.$field,
                                    concat!(stringify!($field), ".weight"),
                                    $crate::dense_params!(@layer FIELDS $field),
                                )
                            })
                        }
                        j if j == 2 * $crate::dense_params!(@layer FIELDS $field) + 1 => {
                            ::core::option::Option::Some(const {
                                $crate::nn::__dense_params::bias_info::<Self, $t, _, _>(
                                    |net| &net.$field,
                                    concat!(stringify!($field), ".bias"),
                                    $crate::dense_params!(@layer FIELDS $field),
                                )
                            })
                        }
                    )+
                    _ => ::core::option::Option::None,
                }
            }
            fn is_active(&self, i: usize) -> bool {
                const FIELDS: &[&str] = &[$(stringify!($field)),+];
                match i {
                    $(
                        j if j == 2 * $crate::dense_params!(@layer FIELDS $field) => true,
                        j if j == 2 * $crate::dense_params!(@layer FIELDS $field) + 1 => self.$field.bias,
                    )+
                    _ => false,
                }
            }
            fn tensor(&self, i: usize) -> &[$t] {
                const FIELDS: &[&str] = &[$(stringify!($field)),+];
                match i {
                    $(
                        j if j == 2 * $crate::dense_params!(@layer FIELDS $field) => self.$field.w.as_slice(),
                        j if j == 2 * $crate::dense_params!(@layer FIELDS $field) + 1 => &self.$field.b,
                    )+
                    _ => &[],
                }
            }
            fn tensor_mut(&mut self, i: usize) -> &mut [$t] {
                const FIELDS: &[&str] = &[$(stringify!($field)),+];
                match i {
                    $(
                        j if j == 2 * $crate::dense_params!(@layer FIELDS $field) => self.$field.w.as_mut_slice(),
                        j if j == 2 * $crate::dense_params!(@layer FIELDS $field) + 1 => &mut self.$field.b,
                    )+
                    _ => &mut [],
                }
            }
            fn zeros_like(&self) -> Self {
                Self { $($field: $crate::nn::Dense::zeros(self.$field.bias)),+ }
            }
            fn visit_weights_mut<V: $crate::nn::WeightVisitor<$t>>(
                &mut self,
                v: &mut V,
            ) -> ::core::result::Result<(), $crate::EgdError> {
                const FIELDS: &[&str] = &[$(stringify!($field)),+];
                $(v.visit($crate::dense_params!(@layer FIELDS $field), &mut self.$field.w)?;)+
                ::core::result::Result::Ok(())
            }
        }
    };

    // The layer index of `field`: its position in the list, a constant.
    (@layer $fields:ident $field:ident) => {
        const { $crate::nn::__dense_params::position($fields, stringify!($field)) }
    };
}

/// Scalars of the layer a field projection points at: `OUT·IN + OUT`.
///
/// `field` is never called: its type names the layer's shape, so the
/// macro's `LEN` needs no field types spelled out.
#[doc(hidden)]
#[must_use]
pub const fn len<S, T, const IN: usize, const OUT: usize>(
    field: fn(&S) -> &Dense<T, IN, OUT>,
) -> usize {
    let _ = field;
    OUT * IN + OUT
}

/// The weight matrix of the layer a field projection points at, as layer
/// `layer` named `name`.
#[doc(hidden)]
#[must_use]
pub const fn weight_info<S, T, const IN: usize, const OUT: usize>(
    field: fn(&S) -> &Dense<T, IN, OUT>,
    name: &'static str,
    layer: usize,
) -> TensorInfo {
    let _ = field;
    TensorInfo {
        name,
        kind: Kind::Weight,
        layer,
        rows: OUT,
        cols: IN,
    }
}

/// The bias of the layer a field projection points at, as layer `layer`
/// named `name`.
#[doc(hidden)]
#[must_use]
pub const fn bias_info<S, T, const IN: usize, const OUT: usize>(
    field: fn(&S) -> &Dense<T, IN, OUT>,
    name: &'static str,
    layer: usize,
) -> TensorInfo {
    let _ = field;
    TensorInfo {
        name,
        kind: Kind::Bias,
        layer,
        rows: OUT,
        cols: 1,
    }
}

/// Where `field` is in `fields` (its layer index); `fields.len()` if absent.
#[doc(hidden)]
#[must_use]
pub const fn position(fields: &[&str], field: &str) -> usize {
    let mut k = 0;
    while k < fields.len() {
        let (a, b) = (fields[k].as_bytes(), field.as_bytes());
        if a.len() == b.len() {
            let mut j = 0;
            while j < a.len() && a[j] == b[j] {
                j += 1;
            }
            if j == a.len() {
                return k;
            }
        }
        k += 1;
    }
    k
}
