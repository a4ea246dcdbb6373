//! [`dense_params!`](crate::dense_params): the [`Params`] impl of a network
//! whose parameters are a list of [`Dense`] layers, written once here instead
//! of by hand per network (`Mlp2`, `Mlp3` and user-defined networks use it),
//! plus the small generic functions its expansion calls.

use super::dense::Dense;
use super::params::{Params, TensorInfo};
use crate::scalar::Real;

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

            fn info(i: usize) -> ::core::option::Option<$crate::nn::TensorInfo> {
                $crate::dense_params!(@info $t, i, [0], $($field),+)
            }
            fn is_active(&self, i: usize) -> bool {
                let net = self;
                $crate::dense_params!(@is_active $t, net, i, [0], $($field),+)
            }
            fn tensor(&self, i: usize) -> &[$t] {
                let net = self;
                $crate::dense_params!(@tensor $t, net, i, [0], $($field),+)
            }
            fn tensor_mut(&mut self, i: usize) -> &mut [$t] {
                let net = self;
                $crate::dense_params!(@tensor_mut $t, net, i, [0], $($field),+)
            }
            fn zeros_like(&self) -> Self {
                Self { $($field: $crate::nn::Dense::zeros(self.$field.bias)),+ }
            }
            fn visit_weights_mut<V: $crate::nn::WeightVisitor<$t>>(
                &mut self,
                v: &mut V,
            ) -> ::core::result::Result<(), $crate::EgdError> {
                let net = self;
                $crate::dense_params!(@visit net, v, [0], $($field),+)
            }
        }
    };

    // One `if` per layer, the layer index counted up in the brackets.
    (@info $t:ty, $i:ident, [$k:expr], $field:ident $(, $rest:ident)*) => {{
        if $i / 2 == $k {
            return $crate::nn::__dense_params::info::<Self, $t, _, _>(
                |net| &net.$field,
                $k,
                $i % 2,
                concat!(stringify!($field), ".weight"),
                concat!(stringify!($field), ".bias"),
            );
        }
        $crate::dense_params!(@info $t, $i, [$k + 1], $($rest),*)
    }};
    (@info $t:ty, $i:ident, [$k:expr], ) => { ::core::option::Option::None };

    (@is_active $t:ty, $net:ident, $i:ident, [$k:expr], $field:ident $(, $rest:ident)*) => {{
        if $i / 2 == $k {
            return $crate::nn::Params::<$t>::is_active(&$net.$field, $i % 2);
        }
        $crate::dense_params!(@is_active $t, $net, $i, [$k + 1], $($rest),*)
    }};
    (@is_active $t:ty, $net:ident, $i:ident, [$k:expr], ) => { false };

    (@tensor $t:ty, $net:ident, $i:ident, [$k:expr], $field:ident $(, $rest:ident)*) => {{
        if $i / 2 == $k {
            return $crate::nn::Params::<$t>::tensor(&$net.$field, $i % 2);
        }
        $crate::dense_params!(@tensor $t, $net, $i, [$k + 1], $($rest),*)
    }};
    (@tensor $t:ty, $net:ident, $i:ident, [$k:expr], ) => { &[] };

    (@tensor_mut $t:ty, $net:ident, $i:ident, [$k:expr], $field:ident $(, $rest:ident)*) => {{
        if $i / 2 == $k {
            return $crate::nn::Params::<$t>::tensor_mut(&mut $net.$field, $i % 2);
        }
        $crate::dense_params!(@tensor_mut $t, $net, $i, [$k + 1], $($rest),*)
    }};
    (@tensor_mut $t:ty, $net:ident, $i:ident, [$k:expr], ) => { &mut [] };

    (@visit $net:ident, $v:ident, [$k:expr], $field:ident $(, $rest:ident)*) => {{
        $v.visit($k, &mut $net.$field.w)?;
        $crate::dense_params!(@visit $net, $v, [$k + 1], $($rest),*)
    }};
    (@visit $net:ident, $v:ident, [$k:expr], ) => { ::core::result::Result::Ok(()) };
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

/// Tensor `part` (`0` weight, `1` bias) of layer `layer` (the layer a field
/// projection points at), under the given names.
#[doc(hidden)]
#[must_use]
pub fn info<S, T: Real, const IN: usize, const OUT: usize>(
    field: fn(&S) -> &Dense<T, IN, OUT>,
    layer: usize,
    part: usize,
    weight: &'static str,
    bias: &'static str,
) -> Option<TensorInfo> {
    let _ = field;
    let name = if part == 0 { weight } else { bias };
    <Dense<T, IN, OUT> as Params<T>>::info(part).map(|t| TensorInfo { name, layer, ..t })
}
