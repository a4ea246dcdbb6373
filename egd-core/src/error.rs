//! The crate's one error type.

use core::fmt;

/// Everything that can go wrong in `egd-core` on data (shapes are checked at
/// compile time, so they never show up here).
///
/// Small and `Copy`, so it can be returned from firmware hot loops and stored
/// in logs without an allocator.
///
/// What an `Err` leaves behind (the [crate docs](crate#error-contract) have
/// the full list): weights and optimizer state are always bit-for-bit
/// unchanged; the outputs of functions that check before writing (`polar`,
/// `svd`, `checkpoint::save`, `accumulate`, …) are untouched; buffers that
/// are work in progress — the gradient of `batch_grad`, the `grad` argument
/// of `Optimizer::step`, activation scratch, SVD workspaces — are
/// unspecified and must be overwritten before they are read.
///
/// ```
/// use egd_core::EgdError;
/// let e = EgdError::NotConverged { sweeps: 30 };
/// assert_eq!(e.to_string(), "Jacobi SVD did not converge within 30 sweeps");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EgdError {
    /// An input (gradient, loss, matrix) held NaN or an infinity, or an
    /// optimizer step would have written one (the update overflowed).
    NonFinite,
    /// The Jacobi SVD hit its sweep cap without converging.
    NotConverged {
        /// Sweeps performed (the cap).
        sweeps: u16,
    },
    /// A runtime parameter was outside its allowed range.
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The allowed range, in words.
        expected: &'static str,
    },
    /// A caller-provided buffer is too small.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
        /// Bytes provided.
        got: usize,
    },
    /// A checkpoint could not be restored.
    Checkpoint(CheckpointError),
}

/// Why a checkpoint could not be restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// The buffer does not start with the checkpoint magic bytes.
    BadMagic,
    /// The checkpoint format version is not supported by this build.
    UnsupportedVersion(u16),
    /// The checkpoint was written for a different model or optimizer shape.
    ShapeMismatch,
    /// The buffer ends before the checkpoint does.
    Truncated,
    /// The checksum does not match: the bytes were corrupted.
    Corrupted,
    /// The checksum matches, but a stored value lies outside its domain (a
    /// NaN weight, a negative second moment, a flag that is neither 0 nor 1,
    /// state that contradicts its step counter…): the bytes are as written,
    /// by a faulty or hostile writer.
    InvalidValue {
        /// What the value is (for example `"AdamW second moment"`).
        field: &'static str,
        /// Its domain, in words (for example `"finite and >= 0"`).
        expected: &'static str,
        /// Byte offset of the value in the checkpoint.
        offset: usize,
    },
}

impl fmt::Display for EgdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::NonFinite => f.write_str("input contains NaN or infinity"),
            Self::NotConverged { sweeps } => {
                write!(f, "Jacobi SVD did not converge within {sweeps} sweeps")
            }
            Self::InvalidParameter { name, expected } => {
                write!(f, "invalid parameter `{name}`: expected {expected}")
            }
            Self::BufferTooSmall { needed, got } => {
                write!(f, "buffer too small: need {needed} bytes, got {got}")
            }
            Self::Checkpoint(e) => write!(f, "checkpoint rejected: {e}"),
        }
    }
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::BadMagic => f.write_str("not an egd checkpoint (bad magic)"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported format version {v}"),
            Self::ShapeMismatch => f.write_str("written for a different shape"),
            Self::Truncated => f.write_str("buffer truncated"),
            Self::Corrupted => f.write_str("checksum mismatch (corrupted)"),
            Self::InvalidValue {
                field,
                expected,
                offset,
            } => write!(f, "{field} at byte {offset} is not {expected}"),
        }
    }
}

impl core::error::Error for EgdError {}
impl core::error::Error for CheckpointError {}

impl From<CheckpointError> for EgdError {
    fn from(e: CheckpointError) -> Self {
        Self::Checkpoint(e)
    }
}
