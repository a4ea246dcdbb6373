//! EGD direction timings on the same matrices: egd's Jacobi polar, egd's
//! Newton–Schulz (×5), nalgebra's SVD + `U·Vᵀ` (allocating, as nalgebra does)
//! and faer's SVD + `U·Vᵀ` (one thread, workspace and outputs allocated once,
//! outside the timed loop), in f32 and f64, at 16², 32², 64², 128², 256×64
//! and the paper's 512×254 (W1 at p = 127). At 512×254 also EGD-RSVD
//! (`egd_rsvd_r128`, `egd_rsvd_r64`: rank-r randomized SVD, two power
//! iterations, the paper's clamp).
//!
//! Report layout: one group per float type (`polar/f32`, `polar/f64`), one
//! function per method (`egd_jacobi`, `egd_newton_schulz5`,
//! `nalgebra_svd_uvt`, `faer_svd_uvt`), the shape as the parameter, and a
//! logarithmic summary axis (the shapes span four orders of magnitude in
//! time). No throughput: the cost is cubic in the size, so "entries per
//! second" would not compare shapes. A new method is one more
//! `bench_function` in [`shape!`] with its own function name.
//!
//! `cargo bench -p egd-bench --bench svd`; ratios go in the README; the
//! HTML report is `target/criterion/report/index.html`.

use criterion::{
    AxisScale, BenchmarkId, Criterion, PlotConfiguration, criterion_group, criterion_main,
};
use egd_core::polar::{Method, PolarConfig, polar};
use egd_core::rsvd::{self, RsvdWorkspace};
use egd_core::svd::SvdWorkspace;
use egd_core::{Matrix, Real};
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::svd::{ComputeSvdVectors, SvdParams, svd_scratch};
use std::hint::black_box;
use std::time::Duration;

/// Deterministic Gaussian entries (`SplitMix64` + Box–Muller).
fn gaussian<T: Real, const R: usize, const C: usize>(seed: u64) -> Box<Matrix<T, R, C>> {
    let mut s = seed;
    let mut next = move || {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        ((z ^ (z >> 31)) >> 11) as f64 / (1u64 << 53) as f64
    };
    let mut m = Box::<Matrix<T, R, C>>::default();
    for x in m.as_mut_slice() {
        let (u1, u2) = (1.0 - next(), next());
        *x = T::from_f64((-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos());
    }
    m
}

/// nalgebra's SVD + `U·Vᵀ` on the same matrix (allocating, as nalgebra does).
fn nalgebra_polar<T: Real + nalgebra::RealField, const R: usize, const C: usize>(
    g: &Matrix<T, R, C>,
) -> nalgebra::DMatrix<T> {
    let m = nalgebra::DMatrix::from_row_slice(R, C, g.as_slice());
    let svd = m.svd(true, true);
    svd.u.expect("u requested") * svd.v_t.expect("v_t requested")
}

/// faer's thin SVD + `U·Vᵀ` on a preallocated workspace, single-threaded.
struct FaerPolar<T: faer::traits::RealField> {
    a: faer::Mat<T>,
    u: faer::Mat<T>,
    v: faer::Mat<T>,
    s: faer::diag::Diag<T>,
    out: faer::Mat<T>,
    buf: MemBuffer,
}

impl<T: faer::traits::RealField + Real> FaerPolar<T> {
    fn new<const R: usize, const C: usize>(g: &Matrix<T, R, C>) -> Self {
        let n = R.min(C);
        let params: faer::Spec<SvdParams, T> = Default::default();
        Self {
            a: faer::Mat::from_fn(R, C, |i, j| g[(i, j)]),
            u: faer::Mat::zeros(R, n),
            v: faer::Mat::zeros(C, n),
            s: faer::diag::Diag::zeros(n),
            out: faer::Mat::zeros(R, C),
            buf: MemBuffer::new(svd_scratch::<T>(
                R,
                C,
                ComputeSvdVectors::Thin,
                ComputeSvdVectors::Thin,
                faer::Par::Seq,
                params,
            )),
        }
    }

    fn run(&mut self) {
        let par = faer::Par::Seq;
        faer::linalg::svd::svd(
            black_box(self.a.as_ref()),
            self.s.as_mut(),
            Some(self.u.as_mut()),
            Some(self.v.as_mut()),
            par,
            MemStack::new(&mut self.buf),
            Default::default(),
        )
        .expect("faer svd");
        faer::linalg::matmul::matmul(
            self.out.as_mut(),
            faer::Accum::Replace,
            self.u.as_ref(),
            self.v.as_ref().transpose(),
            T::from_f64(1.0),
            par,
        );
        clear_upper_simd_state();
    }
}

/// `vzeroupper` after faer. faer's kernels (AVX-512 on this CPU) return
/// with the upper halves of the vector registers dirty, and legacy-SSE code
/// that runs next, such as a portable (SSE2) build of egd, then runs about
/// 4× slower on this AMD Zen 5 machine: measured here, egd's 64×64 f64 polar
/// 3.7 ms after a faer call vs 0.95 ms without. Clearing the state after each
/// faer call keeps every method's timing independent of the one before it.
#[allow(unsafe_code)]
fn clear_upper_simd_state() {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx") {
        // SAFETY: AVX is available, checked just above.
        unsafe { zero_upper() }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx")]
#[allow(unsafe_code)]
unsafe fn zero_upper() {
    std::arch::x86_64::_mm256_zeroupper();
}

macro_rules! shape {
    ($c:expr, $t:ty, $r:literal, $col:literal, $k:literal, $l:literal $(, rsvd $($rank:literal)+)?) => {{
        let name = concat!($r, "x", $col);
        let g = gaussian::<$t, $r, $col>(($r * 1000 + $col) as u64);
        let mut out = Box::<Matrix<$t, $r, $col>>::default();
        let mut ws = Box::<SvdWorkspace<$t, $k, $l>>::default();
        let mut group = $c.benchmark_group(concat!("polar/", stringify!($t)));
        group.plot_config(PlotConfiguration::default().summary_scale(AxisScale::Logarithmic));
        let big = $r * $col >= 128 * 128;
        group.sample_size(if big { 10 } else { 30 });
        group.warm_up_time(Duration::from_millis(if big { 500 } else { 300 }));
        group.measurement_time(Duration::from_secs(if big { 4 } else { 2 }));
        let jac = PolarConfig::default();
        group.bench_function(BenchmarkId::new("egd_jacobi", name), |b| {
            b.iter(|| polar(black_box(&*g), &mut out, &mut ws, &jac).unwrap())
        });
        let ns = PolarConfig::newton_schulz();
        group.bench_function(BenchmarkId::new("egd_newton_schulz5", name), |b| {
            b.iter(|| polar(black_box(&*g), &mut out, &mut ws, &ns).unwrap())
        });
        $(
            let mut rws = Box::<RsvdWorkspace<$t, $k, $l, 128>>::default();
            $(
                let cfg = PolarConfig::paper().with_method(Method::Rsvd { rank: $rank, power_iters: 2, seed: 0 });
                group.bench_function(BenchmarkId::new(concat!("egd_rsvd_r", $rank), name), |b| {
                    b.iter(|| rsvd::polar(black_box(&*g), &mut out, &mut rws, &cfg, 0).unwrap())
                });
            )+
        )?
        group.bench_function(BenchmarkId::new("nalgebra_svd_uvt", name), |b| {
            b.iter(|| nalgebra_polar(black_box(&*g)))
        });
        let mut fp = FaerPolar::new(&*g);
        group.bench_function(BenchmarkId::new("faer_svd_uvt", name), |b| {
            b.iter(|| fp.run())
        });
        group.finish();
    }};
}

fn svd_benches(c: &mut Criterion) {
    shape!(c, f64, 16, 16, 16, 16);
    shape!(c, f64, 32, 32, 32, 32);
    shape!(c, f64, 64, 64, 64, 64);
    shape!(c, f64, 128, 128, 128, 128);
    shape!(c, f64, 256, 64, 64, 256);
    shape!(c, f64, 512, 254, 254, 512, rsvd 128 64);
    shape!(c, f32, 16, 16, 16, 16);
    shape!(c, f32, 32, 32, 32, 32);
    shape!(c, f32, 64, 64, 64, 64);
    shape!(c, f32, 128, 128, 128, 128);
    shape!(c, f32, 256, 64, 64, 256);
    shape!(c, f32, 512, 254, 254, 512, rsvd 128 64);
}

criterion_group!(benches, svd_benches);

criterion_main!(benches);
