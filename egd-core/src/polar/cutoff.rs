//! The cutoff rule: from each converged row of the Jacobi iteration (its norm
//! is `σ` in scaled units) to the weight of its direction under a [`Cutoff`].
//! Shared by the Jacobi path and EGD-RSVD, so both apply it with the same bits.

use super::config::Cutoff;
use crate::matrix::sum_sq;
use crate::scalar::Real;
use crate::svd::jacobi::zero_row_norm;

/// The factor that turns a converged row of scaled norm `s` (`σ = s·2^e`;
/// `smax` the largest such norm, `long = max(R, C)`) into its weighted
/// direction under `cutoff`, and whether that direction has full weight:
/// `1/s` above the relative threshold and `0` below it; for `Clamp(ε)`,
/// `1/max(s, ε·2^-e, long·eps·smax)` (the weight `σ/max(σ, ε, long·eps·σ₁)`
/// on the unit row), `0` when that maximum is zero.
///
/// The clamp's floor `long·eps·σ₁` is the level of rounding in every
/// computed `σ` (the `Auto` cutoff's threshold): a direction below it is
/// numerically null, and a product `X·v̂` that forms its left factor is
/// rounding of about that size, not `σ`. Without the floor, the formed
/// routes would multiply that rounding by `1/ε`, which is of order one or
/// more when `σ₁ ≫ ε/eps` (a rank-deficient gradient of large norm).
/// Shared by the Jacobi and EGD-RSVD paths, so both apply the cutoff with
/// the same bits.
fn cutoff_factor<T: Real>(s: T, smax: T, long: usize, e: i32, cutoff: Cutoff<T>) -> (T, bool) {
    let noise = T::from_usize(long) * T::EPSILON * smax;
    match cutoff {
        Cutoff::Auto | Cutoff::Relative(_) => {
            let threshold = match cutoff {
                Cutoff::Relative(t) => t * smax,
                _ => noise,
            };
            if s > threshold {
                (T::ONE / s, true)
            } else {
                (T::ZERO, false)
            }
        }
        Cutoff::Clamp(eps) => {
            let floor = eps.scalbn(-e).max(noise);
            let d = s.max(floor);
            if d > T::ZERO {
                (T::ONE / d, s >= floor)
            } else {
                (T::ZERO, false)
            }
        }
    }
}

/// Scales each converged row `yᵢ = σᵢwᵢᵀ` (scaled units, `σ = ‖yᵢ‖·2^e`,
/// rows of length `len`) by its weight over `σᵢ`, so that the rows become
/// `weightᵢ·wᵢᵀ`. `long` is `max(R, C)` (for the `Auto` cutoff). Returns the
/// count of directions with full weight.
pub(super) fn scale_rows<T: Real, const N: usize>(
    rows: &mut [[T; N]],
    sig: &mut [T],
    len: usize,
    long: usize,
    e: i32,
    cutoff: Cutoff<T>,
) -> u32 {
    let mut smax = T::ZERO;
    for (s, row) in sig.iter_mut().zip(rows.iter()) {
        *s = sum_sq(&row[..len]).sqrt();
        smax = smax.max(*s);
    }
    let mut rank = 0u32;
    for (s, row) in sig.iter().zip(rows.iter_mut()) {
        let (f, full) = cutoff_factor(*s, smax, long, e, cutoff);
        if full {
            rank += 1;
        }
        for v in &mut row[..len] {
            *v *= f;
        }
    }
    rank
}

/// Normalises the converged rows `yᵢ = σᵢûᵢᵀ` (scaled units, length `len`)
/// to `ûᵢᵀ` and leaves each direction's factor `wᵢ/σᵢ` in `w` (the
/// [`cutoff_factor`], scaled units; `long = max(R, C)`). A row the Jacobi
/// iteration treated as zero (norm at most [`zero_row_norm`]) becomes zero
/// with factor 0: the iteration did not make it orthogonal to the others,
/// so `X·v̂` of its direction could be as large as `σ₁`. Returns the count of
/// full-weight directions. Shared by the QR and stashed routes and
/// EGD-RSVD, which all form the direction from products with `X`.
pub(crate) fn unit_rows_and_weights<T: Real, const N: usize>(
    rows: &mut [[T; N]],
    w: &mut [T],
    len: usize,
    long: usize,
    e: i32,
    cutoff: Cutoff<T>,
) -> u32 {
    let len = len.min(N);
    let mut smax = T::ZERO;
    for (s, row) in w.iter_mut().zip(rows.iter()) {
        *s = sum_sq(&row[..len]).sqrt();
        smax = smax.max(*s);
    }
    let mut full = 0u32;
    for (s, row) in w.iter_mut().zip(rows.iter_mut()) {
        let sigma = *s;
        let (f, kept) = cutoff_factor(sigma, smax, long, e, cutoff);
        if sigma > zero_row_norm::<T>() && f.is_finite() {
            let inv = T::ONE / sigma;
            for v in &mut row[..len] {
                *v *= inv;
            }
            *s = f;
            full += u32::from(kept);
        } else {
            row[..len].fill(T::ZERO);
            *s = T::ZERO;
        }
    }
    full
}
