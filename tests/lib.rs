//! Shared support for the cross-crate tests in `tests/`: a seeded generator,
//! matrices with known singular values (the test oracles), and `f64`
//! measurements of accuracy. Written plainly, in `f64`, on purpose.

use egd_core::Matrix;

/// `SplitMix64`: tiny, seeded, reproducible.
#[derive(Clone, Debug)]
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// Next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// A matrix of independent standard normals, boxed (filled in place on the
/// heap: at 512×512 it is 2 MB, the size of a test thread's stack).
pub fn gaussian<const R: usize, const C: usize>(rng: &mut SplitMix64) -> Box<Matrix<f64, R, C>> {
    let mut m = Box::<Matrix<f64, R, C>>::default();
    for x in m.as_mut_slice() {
        *x = rng.normal();
    }
    m
}

/// A random orthogonal `N×N` matrix (Gram–Schmidt, twice, on a Gaussian), boxed.
pub fn orthogonal<const N: usize>(rng: &mut SplitMix64) -> Box<Matrix<f64, N, N>> {
    // Orthonormalise rows, then return the matrix (rows orthonormal ⇒ orthogonal).
    let mut q = gaussian::<N, N>(rng);
    for i in 0..N {
        for _ in 0..2 {
            for j in 0..i {
                let d: f64 = (0..N).map(|t| q[(i, t)] * q[(j, t)]).sum();
                for t in 0..N {
                    q[(i, t)] -= d * q[(j, t)];
                }
            }
        }
        let n: f64 = (0..N).map(|t| q[(i, t)] * q[(i, t)]).sum::<f64>().sqrt();
        for t in 0..N {
            q[(i, t)] /= n;
        }
    }
    q
}

/// `A = Q₁[:, :N]·diag(s)·Q₂[:, :N]ᵀ` with random orthogonal `Q₁`, `Q₂`, and
/// its polar factor `Q₁[:, :N]·Q₂[:, :N]ᵀ` restricted to `s > 0`, both boxed.
#[allow(clippy::type_complexity)]
pub fn with_singular_values<const R: usize, const C: usize, const N: usize>(
    rng: &mut SplitMix64,
    s: &[f64; N],
) -> (Box<Matrix<f64, R, C>>, Box<Matrix<f64, R, C>>) {
    assert!(N <= R && N <= C);
    let q1 = orthogonal::<R>(rng);
    let q2 = orthogonal::<C>(rng);
    let mut a = Box::<Matrix<f64, R, C>>::default();
    let mut p = Box::<Matrix<f64, R, C>>::default();
    for r in 0..R {
        for c in 0..C {
            let (mut va, mut vp) = (0.0, 0.0);
            for i in 0..N {
                let t = q1[(r, i)] * q2[(c, i)];
                va += t * s[i];
                if s[i] > 0.0 {
                    vp += t;
                }
            }
            a[(r, c)] = va;
            p[(r, c)] = vp;
        }
    }
    (a, p)
}

/// Element-wise conversion to `f32`.
pub fn to_f32<const R: usize, const C: usize>(a: &Matrix<f64, R, C>) -> Matrix<f32, R, C> {
    Matrix::from_fn(|i, j| a[(i, j)] as f32)
}

/// Element-wise conversion to `f64`.
pub fn to_f64<T: egd_core::Real, const R: usize, const C: usize>(
    a: &Matrix<T, R, C>,
) -> Matrix<f64, R, C> {
    Matrix::from_fn(|i, j| a[(i, j)].to_f64())
}

/// Transpose (allocating nothing, returns by value).
pub fn transpose<T: egd_core::Real, const R: usize, const C: usize>(
    a: &Matrix<T, R, C>,
) -> Matrix<T, C, R> {
    let mut t = Matrix::zeros();
    a.transpose_into(&mut t);
    t
}

/// `‖A − B‖_F / ‖B‖_F` in `f64` (`‖A‖_F` when `B = 0`).
pub fn rel_err<const R: usize, const C: usize>(
    a: &Matrix<f64, R, C>,
    b: &Matrix<f64, R, C>,
) -> f64 {
    let mut d = 0.0;
    let mut n = 0.0;
    for (x, y) in a.as_slice().iter().zip(b.as_slice()) {
        d += (x - y) * (x - y);
        n += y * y;
    }
    if n == 0.0 { d.sqrt() } else { (d / n).sqrt() }
}

/// `max|A − U·diag(s)·Vᵀ|`.
pub fn recon_err<const R: usize, const C: usize, const N: usize>(
    a: &Matrix<f64, R, C>,
    u: &Matrix<f64, R, N>,
    s: &[f64; N],
    v: &Matrix<f64, C, N>,
) -> f64 {
    let mut worst: f64 = 0.0;
    for r in 0..R {
        for c in 0..C {
            let x: f64 = (0..N).map(|i| u[(r, i)] * s[i] * v[(c, i)]).sum();
            worst = worst.max((a[(r, c)] - x).abs());
        }
    }
    worst
}

/// `‖MᵀM − I‖_F` for the columns of `M` (only columns whose norm is > 0.5 are
/// counted when `nonzero_only`, for factors with zero columns at σ = 0).
pub fn orth_err<const R: usize, const N: usize>(m: &Matrix<f64, R, N>, nonzero_only: bool) -> f64 {
    let col_norm = |i: usize| (0..R).map(|r| m[(r, i)] * m[(r, i)]).sum::<f64>();
    let mut e = 0.0;
    for i in 0..N {
        for j in 0..N {
            if nonzero_only && (col_norm(i) < 0.25 || col_norm(j) < 0.25) {
                continue;
            }
            let d: f64 = (0..R).map(|r| m[(r, i)] * m[(r, j)]).sum();
            let t = if i == j { d - 1.0 } else { d };
            e += t * t;
        }
    }
    e.sqrt()
}

/// Relative asymmetry of `QᵀA` (zero for the exact polar factor `Q` of `A`,
/// because `A = Q·H` with `H` symmetric): `‖QᵀA − AᵀQ‖_F / ‖A‖_F`.
pub fn polar_asymmetry<const R: usize, const C: usize>(
    q: &Matrix<f64, R, C>,
    a: &Matrix<f64, R, C>,
) -> f64 {
    let mut e = 0.0;
    for i in 0..C {
        for j in 0..C {
            let x: f64 = (0..R)
                .map(|r| q[(r, i)] * a[(r, j)] - a[(r, i)] * q[(r, j)])
                .sum();
            e += x * x;
        }
    }
    let n: f64 = a.as_slice().iter().map(|x| x * x).sum::<f64>().sqrt();
    e.sqrt() / n
}
