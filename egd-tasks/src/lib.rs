#![doc = include_str!("../README.md")]
#![no_std]
#![forbid(unsafe_code)]

pub mod dataset;
pub mod error;
mod mix;
pub mod modular;
pub mod parity;
pub mod perm;
pub mod preset;

pub use dataset::{Batch, Batches, Dataset, Epoch, EpochExamples, Examples, Remainder, Split};
pub use error::{ParamValue, TaskError};
pub use modular::{ModExample, ModularTask, Op};
pub use parity::{ParityExample, Secret, SparseParity};
pub use perm::Permutation;
pub use preset::{
    BaseOptimizer, InitScheme, LossKind, ModularSpec, Origin, PaperEpochs, ParitySpec, Preset,
    TaskSpec,
};
