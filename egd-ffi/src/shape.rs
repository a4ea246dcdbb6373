//! The shapes this build of the library trains, fixed at build time.
//!
//! [`egd_ffi_shape!`] turns the four numbers a C user declares (see
//! `build.rs`) into the const generics of `egd-core`: the network type, its
//! scratch, the EGD workspace sides `K`/`L` and the optimizer type. The
//! invocation itself is generated into `$OUT_DIR/shape.rs` and included below.

use egd_core::nn::{Mlp2, Mlp2Scratch};
use egd_core::optim::{Egd, Optimizer, Sgd};

/// Instantiates the const generics for one `(in, hidden, out, active)` shape.
macro_rules! egd_ffi_shape {
    (in = $in:literal, hidden = $h:literal, out = $o:literal, active = $a:literal) => {
        /// Input width (dense inputs have this many floats, sparse indices are `< IN`).
        pub const IN: usize = $in;
        /// Hidden `ReLU` units.
        pub const HIDDEN: usize = $h;
        /// Classes (outputs, labels are `< OUT`).
        pub const OUT: usize = $o;
        /// Active indices per sparse (multi-hot) sample.
        pub const ACTIVE: usize = $a;
    };
}

include!(concat!(env!("OUT_DIR"), "/shape.rs"));

const fn min(a: usize, b: usize) -> usize {
    if a < b { a } else { b }
}
const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// SVD workspace short side: `≥ min(R, C)` of `W1: HIDDEN × IN` and `W2: OUT × HIDDEN`.
pub const K: usize = max(min(HIDDEN, IN), min(OUT, HIDDEN));
/// SVD workspace long side: `≥ max(R, C)` of both weight matrices.
pub const L: usize = max(max(HIDDEN, IN), max(OUT, HIDDEN));

/// The model: `IN → HIDDEN (ReLU, with bias) → OUT` (no output bias), f32.
pub type Net = Mlp2<f32, IN, HIDDEN, OUT>;
/// Activation scratch of [`Net`].
pub type Scratch = Mlp2Scratch<f32, HIDDEN, OUT>;
/// EGD (exact Jacobi polar factor) on top of plain SGD. The SGD baseline is
/// the same type with EGD acting on no layer, so both share one checkpoint
/// format and one size.
pub type Opt = Optimizer<Egd<f32, K, L>, Sgd<f32>>;

/// Upper bound on the trainer's size in bytes, the formula the C header's
/// `EGD_TRAINER_BYTES(in, hidden, out)` spells out: two networks (weights and
/// gradient), the activation scratch, the SVD workspace (`K·L + 2K² + 3K`
/// floats and `K + 1` machine words, counted as 8 bytes) and 1 KiB for
/// configuration and bookkeeping. Checked against `size_of` at compile time.
#[must_use]
pub const fn trainer_bytes_bound(input: usize, hidden: usize, out: usize) -> usize {
    let k = max(min(hidden, input), min(out, hidden));
    let l = max(max(hidden, input), max(out, hidden));
    let params = hidden * input + hidden + out * hidden + out;
    4 * (2 * params + 2 * (hidden + out) + k * l + 2 * k * k + 3 * k) + 8 * (k + 1) + 1024
}
