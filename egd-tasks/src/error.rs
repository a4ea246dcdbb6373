//! The crate's one error type.

use core::fmt;

/// Everything that can go wrong when a task is built or read.
///
/// Small and `Copy`, so firmware can return and log it without an allocator.
/// Every message names the offending parameter and the allowed range. Random
/// access by index returns `Option` instead (`None` when out of range), so
/// this type only describes bad parameters and bad buffers.
///
/// ```
/// use egd_tasks::{ModularTask, Op, TaskError};
/// let e = ModularTask::new(1, Op::Add, 0.5, 0).unwrap_err();
/// assert_eq!(e.to_string(), "invalid `p` = 1: expected 2..=65535");
/// assert_eq!(e.parameter(), Some("p"));
/// assert!(matches!(e, TaskError::OutOfRange { name: "p", value: 1, .. }));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TaskError {
    /// An integer parameter lies outside `min..=max`.
    OutOfRange {
        /// The parameter's name, as in the constructor's signature.
        name: &'static str,
        /// The value that was passed.
        value: u64,
        /// Smallest allowed value.
        min: u64,
        /// Largest allowed value.
        max: u64,
    },
    /// A parameter is invalid for a reason other than an integer range
    /// (a fraction outside (0, 1), a modulus that is not prime, …).
    InvalidParameter {
        /// The parameter's name, as in the constructor's signature.
        name: &'static str,
        /// The value that was passed.
        value: ParamValue,
        /// What is allowed, in words.
        expected: &'static str,
    },
    /// `train_fraction` leaves the training set or the test set empty:
    /// `⌊train_fraction·total⌋` must lie in `1..=total − 1`.
    EmptySplit {
        /// Number of examples in the task (`N`).
        total: u64,
        /// Training examples the fraction gives (`⌊train_fraction·N⌋`).
        train: u64,
    },
    /// A caller's input buffer does not have the task's input length.
    BufferLength {
        /// The input length the task needs.
        expected: usize,
        /// The buffer length that was passed.
        got: usize,
    },
}

impl TaskError {
    /// The name of the parameter this error is about (`"buffer"` for
    /// [`TaskError::BufferLength`]).
    ///
    /// ```
    /// use egd_tasks::{ModularTask, Op};
    /// let e = ModularTask::new(97, Op::Add, f64::NAN, 0).unwrap_err();
    /// assert_eq!(e.parameter(), Some("train_fraction"));
    /// ```
    #[inline]
    #[must_use]
    pub const fn parameter(&self) -> Option<&'static str> {
        match *self {
            Self::OutOfRange { name, .. } | Self::InvalidParameter { name, .. } => Some(name),
            Self::EmptySplit { .. } => Some("train_fraction"),
            Self::BufferLength { .. } => Some("buffer"),
        }
    }
}

impl fmt::Display for TaskError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::OutOfRange {
                name,
                value,
                min,
                max,
            } => write!(f, "invalid `{name}` = {value}: expected {min}..={max}"),
            Self::InvalidParameter {
                name,
                value,
                expected,
            } => write!(f, "invalid `{name}` = {value}: expected {expected}"),
            Self::EmptySplit { total, train } => write!(
                f,
                "invalid `train_fraction`: it gives {train} of {total} examples to the training \
                 set; expected 1..={} so that neither split is empty",
                total.saturating_sub(1)
            ),
            Self::BufferLength { expected, got } => {
                write!(f, "invalid `buffer` length {got}: expected {expected}")
            }
        }
    }
}

impl core::error::Error for TaskError {}

/// The value of a rejected parameter, as carried by
/// [`TaskError::InvalidParameter`].
///
/// Floats compare by bit pattern, so equality is reflexive (a `NaN` equals
/// itself) and the type is `Eq`.
///
/// ```
/// use egd_tasks::ParamValue;
/// assert_eq!(ParamValue::Float(f64::NAN), ParamValue::Float(f64::NAN));
/// assert_eq!(ParamValue::Int(10).to_string(), "10");
/// assert_eq!(ParamValue::Float(1.5).to_string(), "1.5");
/// ```
#[derive(Debug, Clone, Copy)]
pub enum ParamValue {
    /// An integer parameter.
    Int(u64),
    /// A floating-point parameter.
    Float(f64),
}

impl PartialEq for ParamValue {
    fn eq(&self, other: &Self) -> bool {
        match (*self, *other) {
            (Self::Int(a), Self::Int(b)) => a == b,
            (Self::Float(a), Self::Float(b)) => a.to_bits() == b.to_bits(),
            _ => false,
        }
    }
}

impl Eq for ParamValue {}

impl fmt::Display for ParamValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Int(v) => write!(f, "{v}"),
            Self::Float(v) => write!(f, "{v}"),
        }
    }
}

/// Checks `min <= value <= max` for an integer parameter.
pub(crate) fn check_range(
    name: &'static str,
    value: u64,
    min: u64,
    max: u64,
) -> Result<(), TaskError> {
    if value < min || value > max {
        Err(TaskError::OutOfRange {
            name,
            value,
            min,
            max,
        })
    } else {
        Ok(())
    }
}

/// Converts a `usize` to `u64` (lossless on every target Rust supports).
#[inline]
pub(crate) const fn wide(v: usize) -> u64 {
    v as u64
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::string::ToString;

    #[test]
    fn messages_name_parameter_and_range() {
        let e = TaskError::OutOfRange {
            name: "k",
            value: 0,
            min: 1,
            max: 50,
        };
        assert_eq!(e.to_string(), "invalid `k` = 0: expected 1..=50");
        let e = TaskError::InvalidParameter {
            name: "p",
            value: ParamValue::Int(10),
            expected: "a prime",
        };
        assert_eq!(e.to_string(), "invalid `p` = 10: expected a prime");
        let e = TaskError::EmptySplit { total: 4, train: 0 };
        assert!(e.to_string().contains("expected 1..=3"));
        let e = TaskError::BufferLength {
            expected: 10,
            got: 9,
        };
        assert_eq!(e.to_string(), "invalid `buffer` length 9: expected 10");
        assert_eq!(e.parameter(), Some("buffer"));
    }

    #[test]
    fn error_is_small() {
        assert!(size_of::<TaskError>() <= 56);
    }
}
