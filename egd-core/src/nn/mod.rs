//! Small networks: dense layers, `ReLU` perceptrons, sparse inputs, losses,
//! and the [`Params`] view of a network that optimizers and checkpoints use.
//!
//! * [`Dense<T, IN, OUT>`](Dense): `y = W x + b`, `W: OUT × IN` row-major
//!   (row `o` is output unit `o`'s fan-in), optional bias.
//! * [`Mlp2`] (`IN → HIDDEN → OUT`) and [`Mlp3`] (`IN → H1 → H2 → OUT`), `ReLU`
//!   between layers, every size a const generic.
//! * Inputs: dense `[T; IN]` or sparse [`MultiHot`] (a list of active
//!   indices, value 1). A two-hot input reads and updates two columns of `W1`.
//! * Losses: [`CrossEntropy`] (stable log-sum-exp) and [`Mse`]; accuracy by
//!   [`argmax`] (lowest index wins ties) or [`sign_matches`] (±1 targets).
//! * Gradients: per-sample accumulation into a buffer of the network's own
//!   type ([`Mlp2::batch_grad`] gives the gradient of the **mean** loss); the
//!   only other memory is a caller-owned activation scratch of
//!   `O(HIDDEN + OUT)` scalars ([`Mlp2Scratch`]).
//! * [`Params`]: a uniform view of any network's tensors (name, kind, shape)
//!   that optimizers and checkpoints use, so they work for every network type.
//!   Your own network of [`Dense`] layers gets it from one line of
//!   [`dense_params!`](crate::dense_params) (`Mlp2` and `Mlp3` do the same);
//!   [`check_params`] checks any impl, hand-written or not, in your tests.
//!   `cargo run -p egd-core --example custom_network --release` trains a
//!   user-defined residual network with EGD this way.
//!
//! # Errors
//!
//! Nothing here writes the weights (`&self`), so an `Err` never touches
//! them. What an `Err` leaves in the *output* buffers differs by function
//! and is stated on each: [`Dense::forward`], the networks' `forward` and
//! [`Loss::loss_grad`] check before writing (untouched); `accumulate` leaves
//! the gradient untouched and its scratch unspecified; `batch_grad` and
//! [`Mlp2::batch_grad_blocked`] leave the gradient and scratch unspecified
//! (untouched only for an empty batch), so the gradient must not be used
//! after an `Err` — [`Optimizer::step`](crate::optim::Optimizer::step) on it
//! would train on a partial sum.
//!
//! # Example: learn `(a + b) mod 5` from two-hot inputs
//!
//! ```
//! use egd_core::nn::{CrossEntropy, Mlp2, Mlp2Scratch, MultiHot};
//! use egd_core::optim::{NoTransform, Optimizer, Sgd, SgdConfig};
//! use egd_core::rng::SplitMix64;
//!
//! const P: usize = 5;
//! let mut net = Mlp2::<f64, { 2 * P }, 32, P>::zeros(true, false);
//! net.init_he(&mut SplitMix64::new(7));
//! let mut grad = net.zeros_like();
//! let mut scratch = Mlp2Scratch::new();
//! let mut opt = Optimizer::new(NoTransform, Sgd::new(SgdConfig::new(0.5))?);
//!
//! let idx: [[usize; 2]; P * P] = core::array::from_fn(|i| [i / P, P + i % P]);
//! let data = || idx.iter().map(|x| (MultiHot(x), (x[0] + x[1] - P) % P));
//! for _ in 0..300 {
//!     net.batch_grad(&CrossEntropy, data(), &mut grad, &mut scratch)?;
//!     opt.step(&mut net, &mut grad)?;
//! }
//! let stats = net.evaluate(&CrossEntropy, data(), &mut scratch)?;
//! assert_eq!(stats.correct, P * P);
//! # Ok::<(), egd_core::EgdError>(())
//! ```
//!
//! # Memory
//!
//! Every type states its size as an associated `BYTES` constant
//! (`size_of::<Self>()`, padding included). For the paper's modular model
//! (`Mlp2<f32, 254, 512, 127>`, hidden bias, no output bias) and a small
//! `p = 23` model (`Mlp2<f32, 46, 64, 23>`):
//!
//! | item | p = 127 (IN 254, HIDDEN 512, OUT 127) | p = 23 (IN 46, HIDDEN 64, OUT 23) |
//! |---|---|---|
//! | network ([`Mlp2::BYTES`]) | 782 852 | 18 020 |
//! | gradient (same type) | 782 852 | 18 020 |
//! | activation scratch ([`Mlp2Scratch::BYTES`]) | 5 112 | 696 |
//! | desktop fast-path scratch ([`Mlp2BlockScratch::BYTES`], `B = 8`) | 1 117 152 | 34 528 |
//! | SGD, no momentum ([`Sgd`](crate::optim::Sgd)`<f32, Empty>`: config only) | 20 | 20 |
//! | SGD with momentum ([`Sgd`](crate::optim::Sgd)`<f32, Net>`) | 782 872 | 18 040 |
//! | EGD workspace ([`SvdWorkspace`](crate::svd::SvdWorkspace)`<f32, K, L>`) | 1 041 408 (`K = 254, L = 512`) | 29 632 (`K = 46, L = 64`) |
//! | EGD transform ([`Egd::BYTES`](crate::optim::Egd::BYTES), workspace included) | 1 041 608 | 29 832 |
//! | EGD-RSVD transform, ranks ≤ 128 (`Egd<f32, K, L, 128>`) | 1 303 752 | 62 600 |
//!
//! A paper-size EGD + SGD training step therefore needs about
//! 2 · 782 852 + 5 112 + 1 041 608 ≈ 2.6 MB (network, gradient,
//! scratch, EGD) — too much for most microcontrollers, while the `p = 23`
//! model fits in 2 · 18 020 + 696 + 29 832 = 66 568 bytes.
//!
//! Sizes are for a 64-bit host; the SVD workspace holds `K + 1` `usize`s, so
//! it (and [`Egd`](crate::optim::Egd)) is `4·(K + 1)` bytes smaller on 32-bit
//! targets.
//!
//! A unit test checks these numbers against the constants.

mod batch;
mod check_params;
mod dense;
mod dense_params;
mod loss;
mod mlp2;
mod mlp3;
mod params;

pub use batch::BatchStats;
pub use check_params::{ParamsDefect, check_params};
pub use dense::{Dense, Input, MultiHot, relu, relu_backward};
pub use loss::{CrossEntropy, Loss, Mse, argmax, sign_matches};
pub use mlp2::{Mlp2, Mlp2BlockScratch, Mlp2Scratch};
pub use mlp3::{Mlp3, Mlp3Scratch};
pub use params::{Empty, Kind, Params, TensorInfo, WeightVisitor};

/// What [`dense_params!`](crate::dense_params) expands to calls; not an API.
#[doc(hidden)]
pub mod __dense_params {
    pub use super::dense_params::{bias_info, len, position, weight_info};
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::optim::{Egd, Sgd};
    use crate::svd::SvdWorkspace;

    type Net127 = Mlp2<f32, 254, 512, 127>;
    type Net23 = Mlp2<f32, 46, 64, 23>;

    /// The numbers in the module docs' memory table (64-bit hosts; see the note there).
    #[test]
    #[cfg(target_pointer_width = "64")]
    fn documented_memory_table() {
        assert_eq!(Net127::BYTES, 782_852);
        assert_eq!(Mlp2Scratch::<f32, 512, 127>::BYTES, 5_112);
        assert_eq!(Mlp2BlockScratch::<f32, 512, 127, 8>::BYTES, 1_117_152);
        assert_eq!(Mlp2BlockScratch::<f32, 64, 23, 8>::BYTES, 34_528);
        assert_eq!(Sgd::<f32, Empty>::BYTES, 20);
        assert_eq!(Sgd::<f32, Net127>::BYTES, 782_872);
        assert_eq!(SvdWorkspace::<f32, 254, 512>::BYTES, 1_041_408);
        assert_eq!(Egd::<f32, 254, 512>::BYTES, 1_041_608);
        assert_eq!(Net23::BYTES, 18_020);
        assert_eq!(Mlp2Scratch::<f32, 64, 23>::BYTES, 696);
        assert_eq!(Sgd::<f32, Net23>::BYTES, 18_040);
        assert_eq!(SvdWorkspace::<f32, 46, 64>::BYTES, 29_632);
        assert_eq!(Egd::<f32, 46, 64>::BYTES, 29_832);
        assert_eq!(Egd::<f32, 254, 512, 128>::BYTES, 1_303_752);
        assert_eq!(Egd::<f32, 46, 64, 128>::BYTES, 62_600);
    }
}
