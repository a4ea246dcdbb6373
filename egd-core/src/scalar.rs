//! The `Real` façade: the only place where float math happens.
//!
//! Every transcendental function and square root goes through [`libm`], so the
//! same inputs give the same bits on every target (x86-64, Cortex-M with or
//! without an FPU). Rust never contracts `a * b + c` into a fused multiply-add
//! on its own, and nothing in this crate asks it to.

use core::fmt::{Debug, Display};
use core::ops::{Add, AddAssign, Div, DivAssign, Mul, MulAssign, Neg, Sub, SubAssign};

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// A floating-point scalar: implemented for `f32` and `f64` only (sealed).
///
/// ```
/// use egd_core::Real;
/// fn hypot<T: Real>(a: T, b: T) -> T { (a * a + b * b).sqrt() }
/// assert_eq!(hypot(3.0f32, 4.0), 5.0);
/// assert_eq!(hypot(3.0f64, 4.0), 5.0);
/// ```
pub trait Real:
    sealed::Sealed
    + Copy
    + Default
    + PartialEq
    + PartialOrd
    + Debug
    + Display
    + Send
    + Sync
    + 'static
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Div<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// 2.
    const TWO: Self;
    /// 1/2.
    const HALF: Self;
    /// Machine epsilon (distance from 1 to the next larger number).
    const EPSILON: Self;
    /// Smallest positive normal number.
    const MIN_POSITIVE: Self;
    /// Largest finite number.
    const MAX: Self;
    /// Number of mantissa bits (24 for `f32`, 53 for `f64`).
    const MANTISSA_DIGITS: u32;
    /// Size in bytes.
    const BYTES: usize;
    /// Square root (`libm`).
    fn sqrt(self) -> Self;
    /// Absolute value.
    fn abs(self) -> Self;
    /// `e^self` (`libm`).
    fn exp(self) -> Self;
    /// Natural logarithm (`libm`).
    fn ln(self) -> Self;
    /// `self * 2^n`, exact unless it overflows or underflows (`libm::scalbn`).
    fn scalbn(self, n: i32) -> Self;
    /// Binary exponent `e` with `self = f * 2^e`, `f ∈ [0.5, 1)`, for finite nonzero input.
    fn exponent(self) -> i32;
    /// `true` when neither NaN nor infinite.
    fn is_finite(self) -> bool;
    /// `true` for NaN.
    fn is_nan(self) -> bool;
    /// Larger of two values (NaN-ignoring, like `f64::max`).
    #[inline]
    fn max(self, other: Self) -> Self {
        if self >= other || other.is_nan() {
            self
        } else {
            other
        }
    }
    /// Smaller of two values (NaN-ignoring, like `f64::min`).
    #[inline]
    fn min(self, other: Self) -> Self {
        if self <= other || other.is_nan() {
            self
        } else {
            other
        }
    }
    /// `+1` for positive (and `+0`), `-1` for negative (and `-0`).
    fn signum(self) -> Self;
    /// Conversion from `f64` (rounds to nearest for `f32`).
    fn from_f64(x: f64) -> Self;
    /// Widening conversion to `f64`.
    fn to_f64(self) -> f64;
    /// Conversion from a count (rounds to nearest).
    fn from_usize(n: usize) -> Self;
    /// Little-endian bytes, written into the first `BYTES` bytes of `out`.
    fn write_le(self, out: &mut [u8]);
    /// Reads a value from the first `BYTES` bytes of `bytes` (little-endian).
    fn read_le(bytes: &[u8]) -> Self;
    /// Raw bit pattern widened to 64 bits (for checksums and bit-identity checks).
    fn to_bits_u64(self) -> u64;
}

macro_rules! impl_real {
    ($t:ty, $bits:ty, $sqrt:path, $fabs:path, $exp:path, $log:path, $scalbn:path, $frexp:path) => {
        impl Real for $t {
            const ZERO: Self = 0.0;
            const ONE: Self = 1.0;
            const TWO: Self = 2.0;
            const HALF: Self = 0.5;
            const EPSILON: Self = <$t>::EPSILON;
            const MIN_POSITIVE: Self = <$t>::MIN_POSITIVE;
            const MAX: Self = <$t>::MAX;
            const MANTISSA_DIGITS: u32 = <$t>::MANTISSA_DIGITS;
            const BYTES: usize = core::mem::size_of::<$t>();
            #[inline]
            fn sqrt(self) -> Self {
                $sqrt(self)
            }
            #[inline]
            fn abs(self) -> Self {
                $fabs(self)
            }
            #[inline]
            fn exp(self) -> Self {
                $exp(self)
            }
            #[inline]
            fn ln(self) -> Self {
                $log(self)
            }
            #[inline]
            fn scalbn(self, n: i32) -> Self {
                $scalbn(self, n)
            }
            #[inline]
            fn exponent(self) -> i32 {
                $frexp(self).1
            }
            #[inline]
            fn is_finite(self) -> bool {
                <$t>::is_finite(self)
            }
            #[inline]
            fn is_nan(self) -> bool {
                <$t>::is_nan(self)
            }
            #[inline]
            fn signum(self) -> Self {
                if self.is_sign_negative() { -1.0 } else { 1.0 }
            }
            #[inline]
            #[allow(clippy::cast_possible_truncation, trivial_numeric_casts)]
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            #[inline]
            #[allow(trivial_numeric_casts)]
            fn to_f64(self) -> f64 {
                self as f64
            }
            #[inline]
            #[allow(clippy::cast_precision_loss)]
            fn from_usize(n: usize) -> Self {
                n as $t
            }
            #[inline]
            fn write_le(self, out: &mut [u8]) {
                let b = self.to_le_bytes();
                for (o, v) in out.iter_mut().zip(b) {
                    *o = v;
                }
            }
            #[inline]
            fn read_le(bytes: &[u8]) -> Self {
                let mut b = [0u8; core::mem::size_of::<$t>()];
                for (o, v) in b.iter_mut().zip(bytes) {
                    *o = *v;
                }
                <$t>::from_le_bytes(b)
            }
            #[inline]
            #[allow(trivial_numeric_casts)]
            fn to_bits_u64(self) -> u64 {
                self.to_bits() as u64
            }
        }
    };
}

impl_real!(
    f32,
    u32,
    libm::sqrtf,
    libm::fabsf,
    libm::expf,
    libm::logf,
    libm::scalbnf,
    libm::frexpf
);
impl_real!(
    f64,
    u64,
    libm::sqrt,
    libm::fabs,
    libm::exp,
    libm::log,
    libm::scalbn,
    libm::frexp
);

#[cfg(test)]
mod tests {
    use super::Real;

    #[test]
    fn exponent_matches_frexp_convention() {
        assert_eq!(1.0f64.exponent(), 1);
        assert_eq!(0.75f32.exponent(), 0);
        assert_eq!(0.5f64.scalbn(3), 4.0);
    }

    #[test]
    fn le_roundtrip() {
        let mut b = [0u8; 8];
        (-1.25f64).write_le(&mut b);
        assert_eq!(f64::read_le(&b), -1.25);
        1.5f32.write_le(&mut b);
        assert_eq!(f32::read_le(&b), 1.5);
    }
}
