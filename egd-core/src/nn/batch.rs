//! The batch loop every per-sample network shares: [`BatchStats`], and the
//! `batch_grad` / `evaluate` methods that [`Mlp2`](super::Mlp2) and
//! [`Mlp3`](super::Mlp3) get from one macro over their `forward` and
//! `accumulate`.

use crate::error::EgdError;
use crate::scalar::Real;

/// Loss and accuracy over a batch or a data set.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BatchStats<T> {
    /// Mean loss per sample (without any weight-decay term).
    pub loss: T,
    /// Samples predicted correctly (see [`Loss::correct`](super::Loss::correct)).
    pub correct: usize,
    /// Samples seen.
    pub samples: usize,
}

impl<T: Real> BatchStats<T> {
    /// `correct / samples` (0 for no samples).
    #[must_use]
    pub fn accuracy(&self) -> T {
        if self.samples == 0 {
            T::ZERO
        } else {
            T::from_usize(self.correct) / T::from_usize(self.samples)
        }
    }
}

pub(super) const EMPTY_BATCH: EgdError = EgdError::InvalidParameter {
    name: "batch",
    expected: "at least one sample",
};

/// The shared batch loop: zero the gradient once, accumulate each sample with
/// weight `1/n`, return mean loss and accuracy.
macro_rules! batch_methods {
    ($scratch:ty) => {
        /// Mean minibatch gradient: zeroes `grad` (once) and accumulates every
        /// sample with weight `1/n`, `n` the batch length. The result is the
        /// gradient of the **mean** loss (the paper's mean cross-entropy); no
        /// weight-decay term is added here (optimizers add it).
        ///
        /// # Errors
        ///
        /// [`EgdError::InvalidParameter`] for an empty batch, a bad sparse
        /// index or label; [`EgdError::NonFinite`] if the loss is NaN/∞. The
        /// weights are never touched; `grad` holds a partial sum on error.
        pub fn batch_grad<X, L, I>(
            &self,
            loss: &L,
            batch: I,
            grad: &mut Self,
            scratch: &mut $scratch,
        ) -> Result<BatchStats<T>, EgdError>
        where
            X: Input<T, IN>,
            L: Loss<T, OUT>,
            I: IntoIterator<Item = (X, L::Target)>,
            I::IntoIter: ExactSizeIterator,
        {
            let iter = batch.into_iter();
            let n = iter.len();
            if n == 0 {
                return Err(EMPTY_BATCH);
            }
            grad.fill_zero();
            grad.set_biases_like(self);
            let scale = T::ONE / T::from_usize(n);
            let mut sum = T::ZERO;
            let mut stats = BatchStats {
                loss: T::ZERO,
                correct: 0,
                samples: 0,
            };
            for (x, t) in iter {
                sum += self.accumulate(&x, t, loss, scale, grad, scratch)?;
                stats.correct += usize::from(loss.correct(&scratch.out, t));
                stats.samples += 1;
            }
            stats.loss = sum / T::from_usize(stats.samples.max(1));
            if stats.loss.is_finite() {
                Ok(stats)
            } else {
                Err(EgdError::NonFinite)
            }
        }

        /// Mean loss and accuracy over `data` (no gradient).
        ///
        /// # Errors
        ///
        /// As [`Self::batch_grad`] (an empty data set gives zero samples, `Ok`).
        pub fn evaluate<X, L, I>(
            &self,
            loss: &L,
            data: I,
            scratch: &mut $scratch,
        ) -> Result<BatchStats<T>, EgdError>
        where
            X: Input<T, IN>,
            L: Loss<T, OUT>,
            I: IntoIterator<Item = (X, L::Target)>,
        {
            let mut sum = T::ZERO;
            let mut stats = BatchStats {
                loss: T::ZERO,
                correct: 0,
                samples: 0,
            };
            for (x, t) in data {
                let y = self.forward(&x, scratch)?;
                sum += loss.loss(y, t)?;
                stats.correct += usize::from(loss.correct(y, t));
                stats.samples += 1;
            }
            stats.loss = sum / T::from_usize(stats.samples.max(1));
            if stats.loss.is_finite() {
                Ok(stats)
            } else {
                Err(EgdError::NonFinite)
            }
        }
    };
}

pub(super) use batch_methods;
