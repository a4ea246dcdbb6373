//! # egd-core
//!
//! Egalitarian Gradient Descent (EGD, Pasand & Dohmatob, ICLR 2026) for small
//! networks, in `#![no_std]` Rust without an allocator.
//!
//! EGD replaces a weight matrix's gradient `G = U S Vᵀ` by its polar factor
//! `G̃ = U Vᵀ`: every principal direction of the gradient moves at the same
//! speed, which removes or shortens the grokking plateau.
//!
//! | module | holds |
//! |---|---|
//! | [`scalar`] | the sealed [`Real`] trait (`f32`, `f64`); all float math goes to `libm` |
//! | [`matrix`] | [`Matrix<T, R, C>`](Matrix), row-major `[[T; C]; R]`, products into caller buffers |
//! | [`svd`] | one-sided Jacobi SVD with an accuracy contract and a sweep cap |
//! | [`polar`] | the EGD direction `U Vᵀ` (Jacobi, exact; Newton–Schulz, approximate) |
//! | [`rsvd`] | EGD-RSVD: the direction from a seeded rank-`r` randomized SVD |
//! | [`nn`] | dense layers, two- and three-layer `ReLU` MLPs, sparse multi-hot inputs, losses, per-sample gradients |
//! | [`optim`] | SGD, `AdamW`, Grokfast-EMA, column norm and EGD as a gradient transform, one pipeline |
//! | [`checkpoint`] | parameters and optimizer state to and from a byte buffer, validated |
//! | [`rng`] | a seeded `SplitMix64`, Gaussian sampling and initialisers |
//! | [`error`] | [`EgdError`], small and `Copy` |
//!
//! ## Conventions
//!
//! * `Matrix<T, R, C>` has `R` rows and `C` columns, stored row-major.
//! * Shapes are const generics and checked at compile time; data problems
//!   (NaN, infinity, no convergence, bad parameters, short buffers) come
//!   back as `Err` (see [the error contract](#error-contract)).
//! * Scratch memory is an explicit workspace type owned by the caller; every
//!   such type states its size in bytes as an associated `BYTES` constant.
//! * Placement is the caller's: every network, scratch, workspace and
//!   optimizer type is built by a `const fn`, so it can be a `static`; a fresh
//!   network, scratch or workspace is all-zero bytes (biases off), so such a
//!   `static` costs no flash (`.bss`). None of them is `Copy` (the paper's
//!   model is 783 KB): copies are explicit `clone`s, `clone_from` copies in
//!   place, `Box::<Mlp2<…>>::default()` zeroes straight into the heap, and
//!   in-place initialisers (`Mlp2::reset`, `AdamW::reset`, …) re-initialise
//!   without building a value on the stack.
//!
//! ## Error contract
//!
//! What an `Err` leaves behind, by what was passed in:
//!
//! * **Weights and optimizer state** (the network passed as `&mut` to
//!   [`Optimizer::step`](optim::Optimizer::step), momentum, moments, step
//!   counters, Grokfast's EMA, EGD's switch-off flag and step count) are
//!   bit-for-bit unchanged by every `Err`, and by
//!   [`checkpoint::restore`] refusing a checkpoint.
//! * **Output buffers of functions that check before they write** are
//!   untouched: [`polar::polar`] and [`polar::polar_in_place`] (`out` / `g`),
//!   [`svd::svd`] (`u`, `s`, `v`), [`rsvd::polar`], [`checkpoint::save`]
//!   (the byte buffer), [`Loss::loss_grad`](nn::Loss::loss_grad), the
//!   per-sample `accumulate` (the gradient).
//! * **Buffers that are work in progress** are unspecified after an `Err`:
//!   the gradient of `batch_grad` / `batch_grad_blocked` (a partial sum; it is
//!   untouched only for an empty batch), the `grad` argument of
//!   [`Optimizer::step`](optim::Optimizer::step) (it is the step's scratch,
//!   `Ok` or `Err`), every activation scratch, and every SVD/RSVD workspace
//!   (including EGD's warm-start rotation). Overwrite them before reading:
//!   the next `batch_grad` does.
//!
//! Each function's `# Errors` section names its errors and, where it differs
//! from the above, what it leaves.
//!
//! ## Numerical behaviour
//!
//! * `f32` is the embedded workhorse, `f64` the research and oracle type.
//! * Deterministic: reductions use a fixed number of partial sums combined in a
//!   fixed order, transcendental functions come from `libm`, and nothing depends
//!   on the target's SIMD width. Same inputs, same bits, on every platform.
//! * NaN/Inf in an input gives [`EgdError::NonFinite`]; a zero gradient gives a
//!   zero EGD direction.
//! * No NaN/Inf reaches the weights: an optimizer step checks every value it
//!   would write before writing ([`optim`]), and a checkpoint restores only
//!   finite, in-domain values ([`checkpoint`]).
#![no_std]
#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod error;
mod kernel;
pub mod matrix;
pub mod nn;
pub mod optim;
pub mod polar;
pub mod rng;
pub mod rsvd;
pub mod scalar;
pub mod svd;

pub use error::{CheckpointError, EgdError};
pub use matrix::Matrix;
pub use scalar::Real;
