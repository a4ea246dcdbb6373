#![doc = include_str!("../README.md")]
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
