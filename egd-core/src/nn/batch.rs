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
        /// index or label; [`EgdError::NonFinite`] if a sample's output or
        /// the mean loss is NaN/∞.
        ///
        /// On `Err` the weights (`self`) are untouched, and for an empty
        /// batch so are `grad` and `scratch`. Otherwise `grad` and `scratch`
        /// are unspecified: `grad` has been zeroed, given `self`'s bias
        /// switches and holds the sum over the samples before the failing
        /// one (all of them for a non-finite mean), which is not a gradient
        /// of anything useful; the next `batch_grad` overwrites it.
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
        /// As [`Self::batch_grad`], except that an empty data set gives zero
        /// samples and `Ok`. On `Err` only `scratch` has been written
        /// (unspecified); the weights are untouched.
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

/// The "untouched on `Err`" promises of the batch loop and the per-sample
/// steps it is built from (the "unspecified" cases promise nothing to test).
#[cfg(test)]
mod tests {
    use crate::EgdError;
    use crate::nn::{
        CrossEntropy, Mlp2, Mlp2BlockScratch, Mlp2Scratch, Mlp3, Mlp3Scratch, Mse, MultiHot,
    };
    use crate::rng::SplitMix64;

    /// A gradient and scratch full of recognisable non-zero values.
    fn marked_mlp2() -> (Mlp2<f64, 6, 8, 3>, Mlp2Scratch<f64, 8, 3>) {
        let mut grad = Mlp2::zeros(true, true);
        grad.init_he(&mut SplitMix64::new(5));
        let mut s = Mlp2Scratch::new();
        s.hidden.fill(1.5);
        s.out.fill(-2.5);
        s.d_out.fill(3.5);
        s.d_hidden.fill(-4.5);
        (grad, s)
    }

    #[test]
    fn an_empty_batch_touches_nothing() {
        let mut net = Mlp2::<f64, 6, 8, 3>::zeros(true, false);
        net.init_he(&mut SplitMix64::new(1));
        let (mut grad, mut s) = marked_mlp2();
        let (g0, s0) = (grad.clone(), s.clone());
        let empty: [(MultiHot<[usize; 2]>, usize); 0] = [];
        assert!(
            net.batch_grad(&CrossEntropy, empty, &mut grad, &mut s)
                .is_err()
        );
        assert_eq!((&grad, &s), (&g0, &s0));
        let mut b = Mlp2BlockScratch::<f64, 8, 3, 2>::new();
        let b0 = b.clone();
        assert!(
            net.batch_grad_blocked(&CrossEntropy, empty, &mut grad, &mut b)
                .is_err()
        );
        assert_eq!((grad, b), (g0, b0));
    }

    #[test]
    fn a_bad_input_leaves_scratch_and_gradient_untouched() {
        let mut net = Mlp2::<f64, 6, 8, 3>::zeros(true, false);
        net.init_he(&mut SplitMix64::new(2));
        let (mut grad, mut s) = marked_mlp2();
        let (g0, s0) = (grad.clone(), s.clone());
        let bad = MultiHot([0, 6]);
        assert!(matches!(
            net.forward(&bad, &mut s),
            Err(EgdError::InvalidParameter { .. })
        ));
        assert_eq!(s, s0);
        assert!(
            net.accumulate(&bad, 0, &CrossEntropy, 1.0, &mut grad, &mut s)
                .is_err()
        );
        assert_eq!((&grad, &s), (&g0, &s0));
        // A bad label fails in the loss: the gradient is still untouched.
        assert!(
            net.accumulate(&MultiHot([0, 3]), 3, &CrossEntropy, 1.0, &mut grad, &mut s)
                .is_err()
        );
        assert_eq!(grad, g0);
    }

    #[test]
    fn mlp3_accumulate_leaves_the_gradient_untouched_on_a_non_finite_target() {
        let mut net = Mlp3::<f64, 4, 5, 3, 1>::zeros(true, true);
        net.init_he(&mut SplitMix64::new(3));
        let mut grad = net.zeros_like();
        grad.init_he(&mut SplitMix64::new(4));
        let g0 = grad.clone();
        let mut s = Mlp3Scratch::new();
        let x = [1.0, -1.0, 1.0, 1.0];
        assert_eq!(
            net.accumulate(&x, [f64::NAN], &Mse, 1.0, &mut grad, &mut s),
            Err(EgdError::NonFinite)
        );
        assert_eq!(grad, g0);
    }
}
