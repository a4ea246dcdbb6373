//! Status codes of the C API: `EGD_OK` (0) or a negative code that mirrors
//! one [`EgdError`] variant (or one C-boundary problem such as a null
//! pointer). The numbers are part of the ABI and are repeated in `egd.h`.

use egd_core::{CheckpointError, EgdError};

/// A C status code (`egd_status` in `egd.h`).
pub type Status = i32;

/// Success.
pub const OK: Status = 0;
/// A required pointer was null.
pub const NULL_POINTER: Status = -1;
/// A caller buffer is smaller than needed (`EgdError::BufferTooSmall`).
pub const BUFFER_TOO_SMALL: Status = -2;
/// A caller buffer is not aligned to `egd_trainer_align()`.
pub const BAD_ALIGNMENT: Status = -3;
/// The trainer memory does not hold an initialised trainer of this build.
pub const NOT_INITIALIZED: Status = -4;
/// The shapes a C program declared differ from the library's build.
pub const SHAPE_MISMATCH: Status = -5;
/// An input, gradient or loss held NaN or an infinity (`EgdError::NonFinite`).
pub const NON_FINITE: Status = -6;
/// A parameter was out of range: learning rate, weight decay, empty batch,
/// label `≥ OUT`, sparse index `≥ IN` (`EgdError::InvalidParameter`).
pub const INVALID_PARAMETER: Status = -7;
/// The Jacobi SVD hit its sweep cap (`EgdError::NotConverged`).
pub const NOT_CONVERGED: Status = -8;
/// Checkpoint: the buffer does not start with the magic bytes.
pub const CHECKPOINT_BAD_MAGIC: Status = -9;
/// Checkpoint: written by an unsupported format version.
pub const CHECKPOINT_UNSUPPORTED_VERSION: Status = -10;
/// Checkpoint: written for another model or optimizer shape.
pub const CHECKPOINT_SHAPE_MISMATCH: Status = -11;
/// Checkpoint: the buffer ends before the checkpoint does.
pub const CHECKPOINT_TRUNCATED: Status = -12;
/// Checkpoint: the checksum does not match.
pub const CHECKPOINT_CORRUPTED: Status = -13;
/// Checkpoint: rejected for a reason this build of the C API does not name
/// (a newer `egd-core` check).
pub const CHECKPOINT_INVALID: Status = -14;
/// An `egd-core` error this build of the C API does not name.
pub const OTHER: Status = -15;

/// The status code of `e`.
#[must_use]
pub const fn of(e: EgdError) -> Status {
    match e {
        EgdError::NonFinite => NON_FINITE,
        EgdError::NotConverged { .. } => NOT_CONVERGED,
        EgdError::InvalidParameter { .. } => INVALID_PARAMETER,
        EgdError::BufferTooSmall { .. } => BUFFER_TOO_SMALL,
        EgdError::Checkpoint(c) => match c {
            CheckpointError::BadMagic => CHECKPOINT_BAD_MAGIC,
            CheckpointError::UnsupportedVersion(_) => CHECKPOINT_UNSUPPORTED_VERSION,
            CheckpointError::ShapeMismatch => CHECKPOINT_SHAPE_MISMATCH,
            CheckpointError::Truncated => CHECKPOINT_TRUNCATED,
            CheckpointError::Corrupted => CHECKPOINT_CORRUPTED,
            _ => CHECKPOINT_INVALID,
        },
        _ => OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_its_own_code() {
        let errs = [
            EgdError::NonFinite,
            EgdError::NotConverged { sweeps: 3 },
            EgdError::InvalidParameter {
                name: "lr",
                expected: "> 0",
            },
            EgdError::BufferTooSmall { needed: 2, got: 1 },
            EgdError::Checkpoint(CheckpointError::BadMagic),
            EgdError::Checkpoint(CheckpointError::UnsupportedVersion(9)),
            EgdError::Checkpoint(CheckpointError::ShapeMismatch),
            EgdError::Checkpoint(CheckpointError::Truncated),
            EgdError::Checkpoint(CheckpointError::Corrupted),
        ];
        let codes = errs.map(of);
        for (i, a) in codes.iter().enumerate() {
            assert!(*a < 0);
            for b in &codes[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
