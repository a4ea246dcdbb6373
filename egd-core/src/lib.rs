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
//!   (NaN, infinity, no convergence) come back as `Err` and leave the caller's
//!   buffers untouched.
//! * Scratch memory is an explicit workspace type owned by the caller; every
//!   such type states its size in bytes as an associated `BYTES` constant.
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
