//! Losses and accuracy helpers.

use crate::error::EgdError;
use crate::scalar::Real;

/// A per-sample loss on a network output of length `OUT`.
pub trait Loss<T: Real, const OUT: usize> {
    /// What a sample is labelled with (a class index, a target vector).
    type Target: Copy;

    /// The loss of output `y` for `target`, and `grad = scale · ∂loss/∂y`.
    ///
    /// # Errors
    ///
    /// [`EgdError::NonFinite`] if `y` holds NaN/∞; [`EgdError::InvalidParameter`]
    /// for a bad target. `grad` is untouched on error.
    fn loss_grad(
        &self,
        y: &[T; OUT],
        target: Self::Target,
        scale: T,
        grad: &mut [T; OUT],
    ) -> Result<T, EgdError>;

    /// The loss only.
    ///
    /// # Errors
    ///
    /// As [`Loss::loss_grad`].
    fn loss(&self, y: &[T; OUT], target: Self::Target) -> Result<T, EgdError>;

    /// Whether output `y` counts as a correct prediction of `target`.
    fn correct(&self, y: &[T; OUT], target: Self::Target) -> bool;
}

/// Softmax cross-entropy on logits, with a class index as the target.
///
/// `loss = logsumexp(y) − y[t]`, computed stably as
/// `ln Σ exp(yᵢ − max y) − (y[t] − max y)`; `∂loss/∂yᵢ = softmax(y)ᵢ − [i = t]`.
/// Accuracy uses [`argmax`] (ties go to the lowest index).
///
/// ```
/// use egd_core::nn::{CrossEntropy, Loss};
/// let y = [0.0f64, 0.0];
/// let mut g = [0.0; 2];
/// let l = CrossEntropy.loss_grad(&y, 1, 1.0, &mut g)?;
/// assert!((l - 2f64.ln()).abs() < 1e-15);
/// assert_eq!(g, [0.5, -0.5]);
/// assert!(CrossEntropy.loss(&y, 2).is_err()); // label out of range
/// # Ok::<(), egd_core::EgdError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CrossEntropy;

const BAD_LABEL: EgdError = EgdError::InvalidParameter {
    name: "label",
    expected: "a class index below the output size OUT",
};

fn check_finite<T: Real>(y: &[T]) -> Result<(), EgdError> {
    if y.iter().all(|v| v.is_finite()) {
        Ok(())
    } else {
        Err(EgdError::NonFinite)
    }
}

fn max_of<T: Real>(y: &[T]) -> T {
    let mut m = y.first().copied().unwrap_or(T::ZERO);
    for &v in y {
        if v > m {
            m = v;
        }
    }
    m
}

impl<T: Real, const OUT: usize> Loss<T, OUT> for CrossEntropy {
    type Target = usize;

    fn loss_grad(
        &self,
        y: &[T; OUT],
        target: usize,
        scale: T,
        grad: &mut [T; OUT],
    ) -> Result<T, EgdError> {
        let yt = *y.get(target).ok_or(BAD_LABEL)?;
        check_finite(y)?;
        let m = max_of(y);
        let mut s = T::ZERO;
        for (g, &v) in grad.iter_mut().zip(y) {
            let e = (v - m).exp();
            *g = e;
            s += e;
        }
        // s >= 1 (the max term is exp(0)), so the division is safe.
        let inv = T::ONE / s;
        for (i, g) in grad.iter_mut().enumerate() {
            let p = *g * inv;
            *g = if i == target {
                (p - T::ONE) * scale
            } else {
                p * scale
            };
        }
        Ok(s.ln() - (yt - m))
    }

    fn loss(&self, y: &[T; OUT], target: usize) -> Result<T, EgdError> {
        let yt = *y.get(target).ok_or(BAD_LABEL)?;
        check_finite(y)?;
        let m = max_of(y);
        let mut s = T::ZERO;
        for &v in y {
            s += (v - m).exp();
        }
        Ok(s.ln() - (yt - m))
    }

    fn correct(&self, y: &[T; OUT], target: usize) -> bool {
        argmax(y) == Some(target)
    }
}

/// Mean squared error against a target vector: `loss = (1/OUT) Σ (yᵢ − tᵢ)²`
/// (for the parity model, `OUT = 1` and `t = [±1]`: `(f(x) − y)²`).
///
/// Accuracy uses [`sign_matches`] on every output (±1 targets).
///
/// ```
/// use egd_core::nn::{Loss, Mse};
/// let mut g = [0.0f32];
/// let l = Mse.loss_grad(&[0.5], [1.0], 1.0, &mut g)?;
/// assert_eq!((l, g), (0.25, [-1.0]));
/// assert!(Mse.correct(&[0.5f32], [1.0]));
/// # Ok::<(), egd_core::EgdError>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mse;

impl<T: Real, const OUT: usize> Loss<T, OUT> for Mse {
    type Target = [T; OUT];

    fn loss_grad(
        &self,
        y: &[T; OUT],
        target: [T; OUT],
        scale: T,
        grad: &mut [T; OUT],
    ) -> Result<T, EgdError> {
        check_finite(y)?;
        check_finite(&target)?;
        let inv = T::ONE / T::from_usize(OUT);
        let mut l = T::ZERO;
        for ((g, &v), &t) in grad.iter_mut().zip(y).zip(&target) {
            let r = v - t;
            l += r * r;
            *g = T::TWO * inv * r * scale;
        }
        Ok(l * inv)
    }

    fn loss(&self, y: &[T; OUT], target: [T; OUT]) -> Result<T, EgdError> {
        check_finite(y)?;
        check_finite(&target)?;
        let mut l = T::ZERO;
        for (&v, &t) in y.iter().zip(&target) {
            let r = v - t;
            l += r * r;
        }
        Ok(l / T::from_usize(OUT))
    }

    fn correct(&self, y: &[T; OUT], target: [T; OUT]) -> bool {
        y.iter().zip(&target).all(|(&v, &t)| sign_matches(v, t))
    }
}

/// Index of the largest element; ties go to the **lowest** index; NaN
/// elements never win. `None` for an empty slice or an all-NaN slice.
///
/// ```
/// assert_eq!(egd_core::nn::argmax(&[1.0f32, 3.0, 3.0, f32::NAN]), Some(1));
/// ```
#[must_use]
pub fn argmax<T: Real>(y: &[T]) -> Option<usize> {
    let mut best: Option<(usize, T)> = None;
    for (i, &v) in y.iter().enumerate() {
        if v.partial_cmp(&v).is_none() {
            continue; // NaN
        }
        match best {
            Some((_, b)) if v <= b => {}
            _ => best = Some((i, v)),
        }
    }
    best.map(|(i, _)| i)
}

/// `true` when `output` and `target` are both strictly positive or both
/// strictly negative (an output of exactly 0, or NaN, is never correct).
///
/// ```
/// use egd_core::nn::sign_matches;
/// assert!(sign_matches(0.3f32, 1.0) && sign_matches(-2.0f32, -1.0));
/// assert!(!sign_matches(0.0f32, 1.0));
/// ```
#[must_use]
pub fn sign_matches<T: Real>(output: T, target: T) -> bool {
    (output > T::ZERO && target > T::ZERO) || (output < T::ZERO && target < T::ZERO)
}
