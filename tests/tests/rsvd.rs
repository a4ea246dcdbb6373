//! EGD-RSVD (`egd_core::rsvd`): exact when the sketch covers the rank,
//! range error within the Halko–Martinsson–Tropp bound on decaying spectra,
//! deterministic bits, transposition symmetry and the error contract.

use egd_core::polar::{Cutoff, Method, PolarConfig, polar};
use egd_core::rsvd::{self, RsvdWorkspace};
use egd_core::svd::{SvdConfig, SvdWorkspace, svd, tol};
use egd_core::{EgdError, Matrix, Real};
use egd_tests::*;
use proptest::prelude::*;

fn rsvd_cfg<T: Real>(rank: u16, power_iters: u8, seed: u64, cutoff: Cutoff<T>) -> PolarConfig<T> {
    PolarConfig::default()
        .with_method(Method::Rsvd {
            rank,
            power_iters,
            seed,
        })
        .with_cutoff(cutoff)
}

/// The RSVD direction of `g` (as `f64`).
fn rsvd_dir<
    T: Real,
    const R: usize,
    const C: usize,
    const K: usize,
    const L: usize,
    const RM: usize,
>(
    g: &Matrix<T, R, C>,
    cfg: &PolarConfig<T>,
    stream: u64,
) -> Box<Matrix<f64, R, C>> {
    let mut ws = Box::<RsvdWorkspace<T, K, L, RM>>::default();
    let mut out = Box::<Matrix<T, R, C>>::default();
    rsvd::polar(g, &mut out, &mut ws, cfg, stream).expect("rsvd converges");
    let mut d = Box::<Matrix<f64, R, C>>::default();
    for (d, x) in d.as_mut_slice().iter_mut().zip(out.as_slice()) {
        *d = x.to_f64();
    }
    d
}

/// The exact (Jacobi) direction of `g` with the `Auto` cutoff (as `f64`).
fn jacobi_dir<T: Real, const R: usize, const C: usize, const K: usize, const L: usize>(
    g: &Matrix<T, R, C>,
) -> Matrix<f64, R, C> {
    let mut ws = Box::new(SvdWorkspace::<T, K, L>::new());
    let mut out = Box::new(Matrix::zeros());
    polar(g, &mut out, &mut ws, &PolarConfig::default()).expect("jacobi converges");
    to_f64(&out)
}

/// The polar contract's tolerance, `max(floor, 100·eps·κ)`.
fn polar_tol<T: Real>(kappa: f64) -> f64 {
    let floor = if T::BYTES == 4 {
        tol::POLAR_F32
    } else {
        tol::POLAR_F64
    };
    floor.max(100.0 * T::EPSILON.to_f64() * kappa)
}

/// Singular values `σ₁ = 1 … σ_ρ = 1/κ` (geometric), zero after `rank`.
fn spectrum<const N: usize>(rank: usize, kappa: f64) -> [f64; N] {
    core::array::from_fn(|i| {
        if i >= rank {
            0.0
        } else if rank == 1 {
            1.0
        } else {
            kappa.powf(-(i as f64) / (rank - 1) as f64)
        }
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// `r ≥ min(R, C)`: the exact direction, to the polar contract's
    /// tolerance, in f64 and f32, tall and wide, for any power iteration count.
    #[test]
    fn full_rank_sketch_is_exact(seed in any::<u64>(), extra in 0u16..5, q in 1u8..4, lk in 0.0f64..3.0) {
        let kappa = 10f64.powf(lk);
        let mut rng = SplitMix64(seed);
        let (a, p) = with_singular_values::<12, 7, 7>(&mut rng, &spectrum::<7>(7, kappa));
        let rank = 7 + extra;
        let d = rsvd_dir::<f64, 12, 7, 7, 12, 12>(&a, &rsvd_cfg(rank, q, seed, Cutoff::Auto), 3);
        prop_assert!(rel_err(&d, &p) <= polar_tol::<f64>(kappa), "f64 {}", rel_err(&d, &p));
        let at = transpose(&a);
        let dt = rsvd_dir::<f64, 7, 12, 7, 12, 12>(&at, &rsvd_cfg(rank, q, seed, Cutoff::Auto), 3);
        prop_assert_eq!(transpose(&dt), *d); // polar(Gᵀ) = polar(G)ᵀ, bit for bit
        let a32 = to_f32(&a);
        let d32 = rsvd_dir::<f32, 12, 7, 7, 12, 12>(&a32, &rsvd_cfg(rank, q, seed, Cutoff::Auto), 3);
        prop_assert!(rel_err(&d32, &p) <= polar_tol::<f32>(kappa), "f32 {}", rel_err(&d32, &p));
    }

    /// Rank `ρ ≤ r < min(R, C)`: the sketch captures the whole range, so the
    /// direction is the exact partial isometry, as the Jacobi path gives it.
    #[test]
    fn low_rank_input_is_exact(seed in any::<u64>(), rho in 1usize..=8, q in 1u8..3, lk in 0.0f64..2.0) {
        let kappa = 10f64.powf(lk);
        let mut rng = SplitMix64(seed);
        let (a, p) = with_singular_values::<40, 24, 24>(&mut rng, &spectrum::<24>(rho, kappa));
        let d = rsvd_dir::<f64, 40, 24, 24, 40, 8>(&a, &rsvd_cfg(8, q, seed, Cutoff::Auto), 0);
        let j = jacobi_dir::<f64, 40, 24, 24, 40>(&a);
        prop_assert!(rel_err(&d, &p) <= polar_tol::<f64>(kappa), "vs oracle {}", rel_err(&d, &p));
        prop_assert!(rel_err(&d, &j) <= 2.0 * polar_tol::<f64>(kappa), "vs jacobi {}", rel_err(&d, &j));
        let a32 = to_f32(&a);
        let d32 = rsvd_dir::<f32, 40, 24, 24, 40, 8>(&a32, &rsvd_cfg(8, q, seed, Cutoff::Auto), 0);
        prop_assert!(rel_err(&d32, &p) <= polar_tol::<f32>(kappa), "f32 {}", rel_err(&d32, &p));
    }
}

/// `‖A‖₂` by the crate's f64 Jacobi SVD.
fn spectral_norm<const R: usize, const C: usize, const N: usize>(a: &Matrix<f64, R, C>) -> f64 {
    let mut ws = Box::new(SvdWorkspace::<f64, N, R>::new());
    let (mut u, mut v) = (
        Box::new(Matrix::<f64, R, N>::zeros()),
        Box::new(Matrix::<f64, C, N>::zeros()),
    );
    let mut s = [0.0; N];
    svd(a, &mut ws, &SvdConfig::default(), &mut u, &mut s, &mut v).unwrap();
    s[0]
}

/// Halko, Martinsson & Tropp (2011), Corollary 10.10: for a sketch of
/// `r = r' + p` columns (`p ≥ 2`) and `q` power iterations,
/// `E‖(I − P)A‖₂ ≤ [1 + √(r'/(p−1)) + e·√r/p·√(min(m,n) − r')]^{1/(2q+1)}·σ_{r'+1}`,
/// minimised over `r'`.
fn hmt_bound(sigma: &[f64], r: usize, q: u8, short: usize) -> f64 {
    (0..r.saturating_sub(1))
        .map(|rp| {
            let p = (r - rp) as f64;
            let c = 1.0
                + (rp as f64 / (p - 1.0)).sqrt()
                + core::f64::consts::E * (r as f64).sqrt() / p * ((short - rp) as f64).sqrt();
            c.powf(1.0 / f64::from(2 * q + 1)) * sigma[rp]
        })
        .fold(f64::INFINITY, f64::min)
}

/// Decaying spectrum (`σⱼ = 0.8^j`, 96×40, `r = 16`): the direction lives
/// on the range of `Û`, and `‖(I − ÛÛᵀ)A‖₂` stays within the expectation
/// bound above (each of 8 fixed seeds, no slack factor), for `q = 1, 2, 3`;
/// more power iterations never leave a larger error than the bound allows.
#[test]
fn decaying_spectrum_error_is_bounded_by_the_tail() {
    const R: usize = 96;
    const C: usize = 40;
    let sigma: [f64; C] = core::array::from_fn(|i| 0.8f64.powi(i as i32));
    let r = 16usize;
    for seed in 0..8u64 {
        let mut rng = SplitMix64(100 + seed);
        let (a, _) = with_singular_values::<R, C, C>(&mut rng, &sigma);
        for q in 1..4u8 {
            // Clamp at 0: every direction of Û gets weight 1/σ̂ (no cutoff), so
            // span(D) = span(Û): the left singular vectors of D with σ > 0.
            let d =
                rsvd_dir::<f64, R, C, C, R, 16>(&a, &rsvd_cfg(16, q, seed, Cutoff::Clamp(0.0)), 0);
            // D = Û·M for a tall D (96×40, rank r): Û from D's SVD.
            let mut ws = Box::new(SvdWorkspace::<f64, C, R>::new());
            let (mut u, mut v) = (
                Box::new(Matrix::<f64, R, C>::zeros()),
                Box::new(Matrix::<f64, C, C>::zeros()),
            );
            let mut s = [0.0; C];
            svd(&d, &mut ws, &SvdConfig::default(), &mut u, &mut s, &mut v).unwrap();
            assert!(
                s[r - 1] > 1e-8 && s[r] < 1e-10 * s[0],
                "rank of D is r: {s:?}"
            );
            // E = (I − ÛÛᵀ)·A.
            let mut e = a.clone();
            for c in 0..C {
                let proj: [f64; 16] =
                    core::array::from_fn(|i| (0..R).map(|t| u[(t, i)] * a[(t, c)]).sum());
                for t in 0..R {
                    e[(t, c)] -= (0..r).map(|i| u[(t, i)] * proj[i]).sum::<f64>();
                }
            }
            let err = spectral_norm::<R, C, C>(&e);
            let bound = hmt_bound(&sigma, r, q, C);
            assert!(err >= sigma[r] * (1.0 - 1e-9), "never below σ_(r+1): {err}");
            assert!(err <= bound, "seed {seed} q {q}: {err} > {bound}");
            println!(
                "seed {seed} q {q}: ‖(I−ÛÛᵀ)A‖₂ = {err:.4} (σ_r+1 = {:.4}, bound {bound:.4})",
                sigma[r]
            );
        }
    }
}

/// Same matrix, seed and stream: the same bits; another stream or seed: another
/// sketch (and, for `r < min(R, C)` on a full-rank matrix, other bits).
#[test]
fn deterministic_per_seed_and_stream() {
    let mut rng = SplitMix64(5);
    let a = to_f32(&gaussian::<64, 30>(&mut rng));
    let cfg = rsvd_cfg(8, 2, 42, Cutoff::Clamp(1e-6));
    let bits =
        |m: &Matrix<f64, 64, 30>| m.as_slice().iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    let one = rsvd_dir::<f32, 64, 30, 30, 64, 8>(&a, &cfg, 9);
    let two = rsvd_dir::<f32, 64, 30, 30, 64, 8>(&a, &cfg, 9);
    assert_eq!(bits(&one), bits(&two));
    // A workspace that served a bigger rank first gives the same bits.
    let mut ws = Box::new(RsvdWorkspace::<f32, 30, 64, 16>::new());
    let mut out = Matrix::zeros();
    rsvd::polar(
        &a,
        &mut out,
        &mut ws,
        &rsvd_cfg(16, 2, 1, Cutoff::Clamp(1e-6)),
        0,
    )
    .unwrap();
    rsvd::polar(&a, &mut out, &mut ws, &cfg, 9).unwrap();
    assert_eq!(bits(&to_f64(&out)), bits(&one));
    // In place = out of place.
    let mut g = a.clone();
    rsvd::polar_in_place(&mut g, &mut ws, &cfg, 9).unwrap();
    assert_eq!(bits(&to_f64(&g)), bits(&one));
    let other_stream = rsvd_dir::<f32, 64, 30, 30, 64, 8>(&a, &cfg, 10);
    let other_seed =
        rsvd_dir::<f32, 64, 30, 30, 64, 8>(&a, &rsvd_cfg(8, 2, 43, Cutoff::Clamp(1e-6)), 9);
    assert_ne!(bits(&other_stream), bits(&one));
    assert_ne!(bits(&other_seed), bits(&one));
}

/// Errors leave the output (or the in-place gradient) untouched.
#[test]
fn errors_leave_buffers_untouched() {
    let mut rng = SplitMix64(8);
    let a = gaussian::<20, 12>(&mut rng);
    let mut ws = Box::new(RsvdWorkspace::<f64, 12, 20, 8>::new());
    let sentinel = Matrix::<f64, 20, 12>::from_fn(|i, j| (i * 100 + j) as f64);
    // Sweep cap: one sweep cannot orthogonalise 8 Gaussian rows.
    let capped = rsvd_cfg(8, 2, 0, Cutoff::Auto).with_svd(SvdConfig::default().with_max_sweeps(1));
    let mut out = sentinel.clone();
    assert_eq!(
        rsvd::polar(&a, &mut out, &mut ws, &capped, 0),
        Err(EgdError::NotConverged { sweeps: 1 })
    );
    assert_eq!(out, sentinel);
    let mut g = a.clone();
    assert!(rsvd::polar_in_place(&mut g, &mut ws, &capped, 0).is_err());
    assert_eq!(g, a);
    for cfg in [
        rsvd_cfg(9, 2, 0, Cutoff::Auto),  // rank above the workspace's bound
        rsvd_cfg(0, 2, 0, Cutoff::Auto),  // rank 0
        rsvd_cfg(8, 17, 0, Cutoff::Auto), // too many power iterations
        rsvd_cfg(8, 0, 0, Cutoff::Auto),  // q = 0
        rsvd_cfg(8, 2, 0, Cutoff::Clamp(-1.0)),
        rsvd_cfg(8, 2, 0, Cutoff::Relative(f64::NAN)),
    ] {
        assert!(matches!(
            rsvd::polar(&a, &mut out, &mut ws, &cfg, 0),
            Err(EgdError::InvalidParameter { .. })
        ));
        assert_eq!(out, sentinel);
    }
    let mut inf = a.clone();
    inf[(3, 4)] = f64::INFINITY;
    assert_eq!(
        rsvd::polar(&inf, &mut out, &mut ws, &rsvd_cfg(8, 2, 0, Cutoff::Auto), 0),
        Err(EgdError::NonFinite)
    );
    assert_eq!(out, sentinel);
    // The SvdWorkspace-only entry points refuse Rsvd instead of guessing.
    let mut sws = Box::new(SvdWorkspace::<f64, 12, 20>::new());
    assert!(matches!(
        polar(&a, &mut out, &mut sws, &rsvd_cfg(8, 2, 0, Cutoff::Auto)),
        Err(EgdError::InvalidParameter { name: "method", .. })
    ));
    assert_eq!(out, sentinel);
}

/// A paper-shaped gradient (512×254, f32, r = 128 and 64) of rank 60: both
/// ranks cover it, so with `Auto` the direction is the exact one (contract
/// tolerance); with the reference code's `Clamp(1e-6)` it is close to
/// Jacobi's clamp (both give the f32 noise directions weight `σ/1e-6`; RSVD
/// has only `r − 60` of them, Jacobi 194).
#[test]
fn paper_shape() {
    let mut rng = SplitMix64(77);
    // On the default test-thread stack: every paper-size matrix is boxed.
    let (a, p) = with_singular_values::<512, 254, 60>(&mut rng, &spectrum::<60>(60, 100.0));
    let mut a32 = Box::<Matrix<f32, 512, 254>>::default();
    for (y, x) in a32.as_mut_slice().iter_mut().zip(a.as_slice()) {
        *y = *x as f32;
    }
    for rank in [64u16, 128] {
        let d =
            rsvd_dir::<f32, 512, 254, 254, 512, 128>(&a32, &rsvd_cfg(rank, 2, 3, Cutoff::Auto), 0);
        let err = rel_err(&d, &p);
        println!("rank {rank}: Auto vs exact {err:.2e}");
        assert!(err <= polar_tol::<f32>(100.0), "rank {rank}: {err}");
        let d = rsvd_dir::<f32, 512, 254, 254, 512, 128>(
            &a32,
            &rsvd_cfg(rank, 2, 3, Cutoff::Clamp(1e-6)),
            0,
        );
        assert!(d.as_slice().iter().all(|x| x.is_finite()));
        println!("rank {rank}: Clamp(1e-6) vs exact {:.2e}", rel_err(&d, &p));
    }
}
