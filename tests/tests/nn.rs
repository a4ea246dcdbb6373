//! Networks: finite-difference gradient checks for every layer kind and loss,
//! sparse/dense equivalence, batch means, bad inputs, initialisers.

use egd_core::nn::{
    CrossEntropy, Dense, Input, Kind, Loss, Mlp2, Mlp2BlockScratch, Mlp2Scratch, Mlp3, Mlp3Scratch,
    Mse, MultiHot, Params, argmax, sign_matches,
};
use egd_core::rng::{Init, SplitMix64, fill_normal, standard_normal};
use egd_core::{EgdError, Matrix, Real};
use proptest::prelude::*;

/// Finite-difference tolerance on the relative error, as the issue asks.
const FD_REL_TOL: f64 = 1e-6;
const FD_STEP: f64 = 1e-6;

/// Central differences of `loss(params)` against the analytic gradient `grad`,
/// on every scalar of every active tensor.
fn fd_check<N: Params<f64> + Clone>(net: &N, grad: &N, mut loss: impl FnMut(&N) -> f64) {
    let mut worst = 0.0f64;
    for i in 0..N::TENSORS {
        let info = N::info(i).unwrap();
        if !net.is_active(i) {
            assert!(
                grad.tensor(i).iter().all(|&g| g == 0.0),
                "{}: inactive tensor got a gradient",
                info.name
            );
            continue;
        }
        for k in 0..info.len() {
            let mut plus = net.clone();
            plus.tensor_mut(i)[k] += FD_STEP;
            let mut minus = net.clone();
            minus.tensor_mut(i)[k] -= FD_STEP;
            let fd = (loss(&plus) - loss(&minus)) / (2.0 * FD_STEP);
            let an = grad.tensor(i)[k];
            // Relative error, with a floor so that exact zeros compare absolutely.
            let rel = (fd - an).abs() / fd.abs().max(an.abs()).max(1e-2);
            worst = worst.max(rel);
            assert!(
                rel <= FD_REL_TOL,
                "{}[{k}]: fd {fd:e} vs analytic {an:e} (rel {rel:e})",
                info.name
            );
        }
    }
    assert!(worst.is_finite());
}

fn he_mlp2<const I: usize, const H: usize, const O: usize>(
    seed: u64,
    b1: bool,
    b2: bool,
) -> Mlp2<f64, I, H, O> {
    *he_net(seed, b1, b2)
}

fn he_mlp3<const I: usize, const A: usize, const B: usize, const O: usize>(
    seed: u64,
    hb: bool,
    ob: bool,
) -> Mlp3<f64, I, A, B, O> {
    let mut net = Mlp3::zeros(hb, ob);
    let mut rng = SplitMix64::new(seed);
    net.l1
        .init(Init::HeNormal, Init::Normal { std: 0.3 }, &mut rng);
    net.l2
        .init(Init::HeNormal, Init::Normal { std: 0.3 }, &mut rng);
    net.l3
        .init(Init::HeNormal, Init::Normal { std: 0.3 }, &mut rng);
    net
}

fn dense_inputs<const I: usize, const N: usize>(seed: u64) -> [[f64; I]; N] {
    let mut rng = SplitMix64::new(seed);
    core::array::from_fn(|_| {
        let mut x = [0.0; I];
        fill_normal(&mut x, 1.0, &mut rng);
        x
    })
}

#[test]
fn fd_mlp2_dense_ce_with_biases() {
    let net = he_mlp2::<6, 7, 4>(1, true, true);
    let xs = dense_inputs::<6, 5>(2);
    let data = || xs.iter().zip([0usize, 3, 1, 2, 3]);
    let mut g = net.zeros_like();
    let mut s = Mlp2Scratch::new();
    net.batch_grad(&CrossEntropy, data(), &mut g, &mut s)
        .unwrap();
    fd_check(&net, &g, |n| {
        n.evaluate(&CrossEntropy, data(), &mut Mlp2Scratch::new())
            .unwrap()
            .loss
    });
}

#[test]
fn fd_mlp2_sparse_ce_paper_shape_no_output_bias() {
    // The paper's modular model in miniature: p = 5, two-hot, no output bias.
    let net = he_mlp2::<10, 8, 5>(3, true, false);
    let idx = [[0usize, 5], [1, 7], [4, 9], [2, 6], [3, 8], [0, 9]];
    let data = || idx.iter().map(|x| (MultiHot(x), (x[0] + x[1] - 5) % 5));
    let mut g = net.zeros_like();
    let mut s = Mlp2Scratch::new();
    net.batch_grad(&CrossEntropy, data(), &mut g, &mut s)
        .unwrap();
    fd_check(&net, &g, |n| {
        n.evaluate(&CrossEntropy, data(), &mut Mlp2Scratch::new())
            .unwrap()
            .loss
    });
}

#[test]
fn fd_mlp2_dense_mse_parity_shape() {
    // The parity model in miniature: ±1 inputs, scalar output, both biases.
    let net = he_mlp2::<5, 6, 1>(4, true, true);
    let mut rng = SplitMix64::new(5);
    let xs: [[f64; 5]; 6] = core::array::from_fn(|_| {
        core::array::from_fn(|_| {
            if standard_normal(&mut rng) > 0.0 {
                1.0
            } else {
                -1.0
            }
        })
    });
    let data = || xs.iter().map(|x| (x, [x[0] * x[1]]));
    let mut g = net.zeros_like();
    let mut s = Mlp2Scratch::new();
    net.batch_grad(&Mse, data(), &mut g, &mut s).unwrap();
    fd_check(&net, &g, |n| {
        n.evaluate(&Mse, data(), &mut Mlp2Scratch::new())
            .unwrap()
            .loss
    });
}

#[test]
fn fd_mlp2_no_biases_mse_vector_target() {
    let net = he_mlp2::<4, 5, 3>(6, false, false);
    let xs = dense_inputs::<4, 4>(7);
    let ts = dense_inputs::<3, 4>(8);
    let data = || xs.iter().zip(ts);
    let mut g = net.zeros_like();
    let mut s = Mlp2Scratch::new();
    net.batch_grad(&Mse, data(), &mut g, &mut s).unwrap();
    fd_check(&net, &g, |n| {
        n.evaluate(&Mse, data(), &mut Mlp2Scratch::new())
            .unwrap()
            .loss
    });
}

#[test]
fn fd_mlp3_dense_ce_with_biases() {
    let net = he_mlp3::<5, 6, 4, 3>(9, true, true);
    let xs = dense_inputs::<5, 4>(10);
    let data = || xs.iter().zip([2usize, 0, 1, 2]);
    let mut g = net.zeros_like();
    let mut s = Mlp3Scratch::new();
    net.batch_grad(&CrossEntropy, data(), &mut g, &mut s)
        .unwrap();
    fd_check(&net, &g, |n| {
        n.evaluate(&CrossEntropy, data(), &mut Mlp3Scratch::new())
            .unwrap()
            .loss
    });
}

#[test]
fn fd_mlp3_sparse_mse_no_biases() {
    let net = he_mlp3::<8, 6, 5, 1>(11, false, false);
    let idx = [[0usize, 4, 7], [1, 2, 6], [3, 5, 5]];
    let data = || {
        idx.iter()
            .zip([1.0, -1.0, 1.0])
            .map(|(x, t)| (MultiHot(x), [t]))
    };
    let mut g = net.zeros_like();
    let mut s = Mlp3Scratch::new();
    net.batch_grad(&Mse, data(), &mut g, &mut s).unwrap();
    fd_check(&net, &g, |n| {
        n.evaluate(&Mse, data(), &mut Mlp3Scratch::new())
            .unwrap()
            .loss
    });
}

#[test]
fn fd_mlp3_sparse_ce_output_bias_only() {
    let mut net = he_mlp3::<8, 6, 5, 4>(12, false, true);
    net.l2.bias = true; // mixed switches: l1 off, l2 on, l3 on
    net.l2.b = [0.1, -0.2, 0.3, 0.05, -0.1];
    let idx = [[0usize, 4], [1, 6], [3, 7], [2, 5]];
    let data = || {
        idx.iter()
            .zip([0usize, 1, 2, 3])
            .map(|(x, t)| (MultiHot(x), t))
    };
    let mut g = net.zeros_like();
    let mut s = Mlp3Scratch::new();
    net.batch_grad(&CrossEntropy, data(), &mut g, &mut s)
        .unwrap();
    fd_check(&net, &g, |n| {
        n.evaluate(&CrossEntropy, data(), &mut Mlp3Scratch::new())
            .unwrap()
            .loss
    });
}

#[test]
fn two_hot_equals_dense_one_hot_bit_for_bit() {
    let net = {
        let mut n = Mlp2::<f32, 10, 16, 5>::zeros(true, true);
        let mut rng = SplitMix64::new(13);
        n.l1.init(Init::HeNormal, Init::Normal { std: 0.1 }, &mut rng);
        n.l2.init(Init::HeNormal, Init::Normal { std: 0.1 }, &mut rng);
        n
    };
    let idx = [[0usize, 5], [4, 9], [2, 7]];
    let labels = [0usize, 3, 4];
    let dense: [[f32; 10]; 3] = core::array::from_fn(|k| {
        let mut x = [0.0; 10];
        x[idx[k][0]] = 1.0;
        x[idx[k][1]] = 1.0;
        x
    });
    let (mut gs, mut gd) = (net.zeros_like(), net.zeros_like());
    let mut s = Mlp2Scratch::new();
    let a = net
        .batch_grad(
            &CrossEntropy,
            idx.iter().map(MultiHot).zip(labels),
            &mut gs,
            &mut s,
        )
        .unwrap();
    let b = net
        .batch_grad(&CrossEntropy, dense.iter().zip(labels), &mut gd, &mut s)
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(gs, gd);
}

#[test]
fn sparse_gradient_touches_only_active_columns() {
    let net = he_mlp2::<10, 6, 3>(14, true, false);
    let mut g = net.zeros_like();
    let mut s = Mlp2Scratch::new();
    net.batch_grad(&CrossEntropy, [(MultiHot(&[2, 7]), 1)], &mut g, &mut s)
        .unwrap();
    for row in g.l1.w.rows() {
        for (j, &v) in row.iter().enumerate() {
            if j != 2 && j != 7 {
                assert_eq!(v, 0.0);
            }
        }
    }
    assert!(g.l1.w.rows().iter().any(|r| r[2] != 0.0));
}

#[test]
fn batch_gradient_is_the_mean() {
    let net = he_mlp2::<6, 5, 3>(15, true, true);
    let x = dense_inputs::<6, 1>(16)[0];
    let (mut g1, mut g2) = (net.zeros_like(), net.zeros_like());
    let mut s = Mlp2Scratch::new();
    let one = net
        .batch_grad(&CrossEntropy, [(&x, 2)], &mut g1, &mut s)
        .unwrap();
    let two = net
        .batch_grad(&CrossEntropy, [(&x, 2), (&x, 2)], &mut g2, &mut s)
        .unwrap();
    // Halving is exact in binary floating point, so two halves are the whole.
    assert_eq!(g1, g2);
    assert_eq!(one.loss, two.loss);
    assert_eq!(two.samples, 2);
}

#[test]
fn batch_grad_zeroes_stale_gradient() {
    let net = he_mlp2::<6, 5, 3>(17, true, true);
    let x = dense_inputs::<6, 1>(18)[0];
    let mut fresh = net.zeros_like();
    let mut stale = net.zeros_like();
    stale.l1.w.fill(7.0);
    stale.l2.b = [1.0; 3];
    let mut s = Mlp2Scratch::new();
    net.batch_grad(&CrossEntropy, [(&x, 1)], &mut fresh, &mut s)
        .unwrap();
    net.batch_grad(&CrossEntropy, [(&x, 1)], &mut stale, &mut s)
        .unwrap();
    assert_eq!(fresh, stale);
}

#[test]
fn bad_inputs_are_errors_not_panics() {
    let net = he_mlp2::<10, 6, 3>(19, true, false);
    let before = net.clone();
    let mut g = net.zeros_like();
    let mut s = Mlp2Scratch::new();
    let bad_index = net.batch_grad(&CrossEntropy, [(MultiHot(&[2, 10]), 1)], &mut g, &mut s);
    assert!(matches!(
        bad_index,
        Err(EgdError::InvalidParameter {
            name: "sparse input index",
            ..
        })
    ));
    let bad_label = net.batch_grad(&CrossEntropy, [(MultiHot(&[2, 9]), 3)], &mut g, &mut s);
    assert!(matches!(
        bad_label,
        Err(EgdError::InvalidParameter { name: "label", .. })
    ));
    let empty: [(MultiHot<[usize; 2]>, usize); 0] = [];
    assert!(matches!(
        net.batch_grad(&CrossEntropy, empty, &mut g, &mut s),
        Err(EgdError::InvalidParameter { name: "batch", .. })
    ));
    assert!(net.forward(&MultiHot(&[usize::MAX]), &mut s).is_err());
    assert_eq!(net, before);

    // Accumulate leaves the gradient untouched when the sample is rejected.
    let mut g = net.zeros_like();
    g.l1.w.fill(1.5);
    let snapshot = g.clone();
    assert!(
        net.accumulate(&MultiHot(&[0, 1]), 9, &CrossEntropy, 1.0, &mut g, &mut s)
            .is_err()
    );
    assert_eq!(g, snapshot);
}

#[test]
fn non_finite_outputs_are_errors() {
    let mut net = he_mlp2::<4, 5, 3>(20, true, true);
    net.l2.b[1] = f64::NAN;
    let mut g = net.zeros_like();
    let mut s = Mlp2Scratch::new();
    let x = [1.0, 0.0, -1.0, 0.5];
    assert_eq!(
        net.batch_grad(&CrossEntropy, [(&x, 0)], &mut g, &mut s),
        Err(EgdError::NonFinite)
    );
    assert_eq!(
        net.batch_grad(&Mse, [(&x, [0.0; 3])], &mut g, &mut s),
        Err(EgdError::NonFinite)
    );
    assert_eq!(
        Loss::<f64, 1>::loss(&Mse, &[0.0], [f64::INFINITY]),
        Err(EgdError::NonFinite)
    );
}

#[test]
fn cross_entropy_is_stable_for_huge_logits() {
    let y = [1.0e4f32, -1.0e4, 1.0e4 - 2.0];
    let mut g = [0.0; 3];
    let l = CrossEntropy.loss_grad(&y, 2, 1.0, &mut g).unwrap();
    assert!(
        (l - (2.0 + (1.0f32 + (-2.0f32).exp()).ln())).abs() < 1e-5,
        "{l}"
    );
    assert!(g.iter().all(|v| v.is_finite()));
    assert!(g.iter().sum::<f32>().abs() < 1e-6);
    let l0 = CrossEntropy
        .loss_grad(&[-1.0e30f32, 0.0], 0, 1.0, &mut [0.0; 2])
        .unwrap();
    assert_eq!(l0, 1.0e30);
}

#[test]
fn accuracy_helpers() {
    assert_eq!(argmax(&[0.0f32, 2.0, 2.0, 1.0]), Some(1));
    assert_eq!(argmax::<f64>(&[]), None);
    assert_eq!(argmax(&[f64::NAN, f64::NAN]), None);
    assert_eq!(argmax(&[f64::NAN, -1.0]), Some(1));
    assert_eq!(argmax(&[f64::NEG_INFINITY, f64::NEG_INFINITY]), Some(0));
    assert!(
        sign_matches(1e-30f64, 1.0) && !sign_matches(-0.0f64, -1.0) && !sign_matches(f64::NAN, 1.0)
    );
    assert!(Loss::<f32, 3>::correct(&CrossEntropy, &[0.1, 0.3, 0.2], 1));
    assert!(!Loss::<f32, 2>::correct(&Mse, &[0.5, -0.5], [1.0, 1.0]));
}

#[test]
fn params_layout() {
    type N = Mlp3<f32, 7, 6, 5, 4>;
    assert_eq!(<N as Params<f32>>::TENSORS, 6);
    assert_eq!(<N as Params<f32>>::LEN, N::PARAMS);
    let net = N::zeros(true, false);
    let mut total = 0;
    for i in 0..6 {
        let info = N::info(i).unwrap();
        assert_eq!(net.tensor(i).len(), info.len());
        assert_eq!(
            info.kind,
            if i % 2 == 0 { Kind::Weight } else { Kind::Bias }
        );
        assert_eq!(info.layer, i / 2);
        total += info.len();
    }
    assert_eq!(total, N::PARAMS);
    assert!(N::info(6).is_none() && net.tensor(6).is_empty());
    assert!(net.is_active(3) && !net.is_active(5) && !net.is_active(9));
    assert_eq!(<Dense<f32, 3, 2> as Params<f32>>::LEN, 8);
    let mut d = Dense::<f64, 3, 2>::zeros(true);
    d.w.fill(2.0);
    assert_eq!(d.weight_sum_sq(), 24.0);
    assert!(d.is_finite());
    d.b[0] = f64::NAN;
    assert!(!d.is_finite());
}

#[test]
fn he_init_matches_paper_variances_and_f32_f64_share_the_stream() {
    let mut n64 = Mlp2::<f64, 254, 64, 127>::zeros(true, false);
    let mut n32 = Mlp2::<f32, 254, 64, 127>::zeros(true, false);
    n64.init_he(&mut SplitMix64::new(21));
    n32.init_he(&mut SplitMix64::new(21));
    for (a, b) in n64.l1.w.as_slice().iter().zip(n32.l1.w.as_slice()) {
        assert_eq!(*a as f32, *b);
    }
    let var = |xs: &[f64]| xs.iter().map(|x| x * x).sum::<f64>() / xs.len() as f64;
    let v1 = var(n64.l1.w.as_slice());
    let v2 = var(n64.l2.w.as_slice());
    assert!((v1 / (2.0 / 254.0) - 1.0).abs() < 0.05, "{v1}");
    assert!((v2 / (2.0 / 64.0) - 1.0).abs() < 0.05, "{v2}");
    assert!(n64.l1.b.iter().all(|&b| b == 0.0) && n64.l2.b.iter().all(|&b| b == 0.0));
    // Xavier: N(0, 2/(fan_in + fan_out)).
    let mut d = Dense::<f64, 300, 100>::zeros(false);
    d.init(Init::XavierNormal, Init::Zeros, &mut SplitMix64::new(22));
    assert!((var(d.w.as_slice()) / (2.0 / 400.0) - 1.0).abs() < 0.05);
    d.init(Init::Zeros, Init::Zeros, &mut SplitMix64::new(22));
    assert_eq!(d.w.max_abs(), 0.0);
}

#[test]
fn paper_size_forward_backward() {
    // p = 127 at full size, on the default test-thread stack: the network and
    // its gradient are boxed (zeroed in place, biases switched on in place).
    let mut net = Box::<Mlp2<f32, 254, 512, 127>>::default();
    net.reset(true, false);
    net.init_he(&mut SplitMix64::new(23));
    let mut g = Box::<Mlp2<f32, 254, 512, 127>>::default();
    let mut s = Mlp2Scratch::new();
    let idx: Vec<[usize; 2]> = (0..64).map(|i| [i % 127, 127 + (i * 7) % 127]).collect();
    let st = net
        .batch_grad(
            &CrossEntropy,
            idx.iter().map(|x| (MultiHot(x), (x[0] + x[1] - 127) % 127)),
            &mut g,
            &mut s,
        )
        .unwrap();
    // He init at this width: loss near ln(127) ≈ 4.84, never NaN.
    assert!(
        st.loss.is_finite() && st.loss > 3.0 && st.loss < 8.0,
        "{}",
        st.loss
    );
    assert!(g.is_finite() && g.is_active(1) && !g.is_active(3));
}

fn two_hot() -> impl Strategy<Value = [usize; 2]> {
    (0usize..7, 7usize..14).prop_map(|(a, b)| [a, b])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Softmax-CE gradients sum to zero, the loss is positive and matches `loss`.
    #[test]
    fn ce_gradient_sums_to_zero(y in prop::array::uniform6(-30.0f64..30.0), t in 0usize..6) {
        let mut g = [0.0; 6];
        let l = CrossEntropy.loss_grad(&y, t, 1.0, &mut g).unwrap();
        prop_assert!(l >= 0.0);
        prop_assert!(g.iter().sum::<f64>().abs() < 1e-12);
        prop_assert_eq!(l, CrossEntropy.loss(&y, t).unwrap());
        prop_assert!(g[t] <= 0.0);
    }

    /// Sparse two-hot forward equals the dense one-hot forward bit for bit.
    #[test]
    fn sparse_forward_equals_dense(x in two_hot(), seed in any::<u64>()) {
        let mut w = Dense::<f32, 14, 9>::zeros(true);
        w.init(Init::HeNormal, Init::Normal { std: 1.0 }, &mut SplitMix64::new(seed));
        let mut dense = [0.0f32; 14];
        dense[x[0]] = 1.0;
        dense[x[1]] = 1.0;
        let (mut a, mut b) = ([0.0; 9], [0.0; 9]);
        w.forward(&MultiHot(&x), &mut a).unwrap();
        w.forward(&dense, &mut b).unwrap();
        prop_assert_eq!(a, b);
        prop_assert!(Input::<f32, 14>::validate(&MultiHot(&x)).is_ok());
    }
}

#[test]
fn trains_on_egd_tasks_modular_examples() {
    use egd_core::optim::{Egd, EgdConfig, Optimizer, Sgd, SgdConfig};
    use egd_tasks::{Dataset, ModularTask, Op};
    const Q: usize = 7;
    let task = ModularTask::new(Q as u32, Op::Add, 0.5, 1).unwrap();
    let train = || {
        task.train_examples()
            .map(|ex| (MultiHot(ex.two_hot()), ex.label() as usize))
    };
    let mut net = Mlp2::<f32, { 2 * Q }, 64, Q>::zeros(true, false);
    net.init_he(&mut SplitMix64::new(30));
    let mut grad = net.zeros_like();
    let mut s = Mlp2Scratch::new();
    let mut opt = Optimizer::new(
        Egd::<f32, 14, 64>::new(EgdConfig::paper()),
        Sgd::new(SgdConfig::paper().with_lr(0.3)).unwrap(),
    );
    for _ in 0..150 {
        net.batch_grad(&CrossEntropy, train(), &mut grad, &mut s)
            .unwrap();
        opt.step(&mut net, &mut grad).unwrap();
    }
    let st = net.evaluate(&CrossEntropy, train(), &mut s).unwrap();
    assert_eq!(st.samples, task.train_len());
    assert_eq!(st.correct, st.samples, "train accuracy {}", st.accuracy());
}

fn max_diff<N: Params<f64>>(a: &N, b: &N) -> f64 {
    (0..N::TENSORS)
        .flat_map(|i| {
            a.tensor(i)
                .iter()
                .zip(b.tensor(i))
                .map(|(x, y)| (x - y).abs())
                .collect::<Vec<_>>()
        })
        .fold(0.0, f64::max)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// The fast path (transposed W2, active hidden units only, blocks of B)
    /// gives the per-sample gradient and evaluation up to rounding, for any
    /// block size, batch length, biases and loss.
    #[test]
    fn blocked_batch_grad_matches_per_sample(seed in 0u64..1000, len in 1usize..40, hb in any::<bool>(), ob in any::<bool>()) {
        let mut net = Mlp2::<f64, 10, 24, 5>::zeros(hb, ob);
        net.init_he(&mut SplitMix64::new(seed));
        if ob {
            for (i, b) in net.l2.b.iter_mut().enumerate() { *b = 0.1 * i as f64; }
        }
        let mut rng = SplitMix64::new(seed ^ 0xABCD);
        let idx: Vec<[usize; 2]> = (0..len).map(|_| [(rng.next_word() % 5) as usize, 5 + (rng.next_word() % 5) as usize]).collect();
        let data = || idx.iter().enumerate().map(|(i, x)| (MultiHot(x), i % 5));
        let mut g0 = net.zeros_like();
        let r0 = net.batch_grad(&CrossEntropy, data(), &mut g0, &mut Mlp2Scratch::new()).unwrap();
        let e0 = net.evaluate(&CrossEntropy, data(), &mut Mlp2Scratch::new()).unwrap();
        macro_rules! check_b {
            ($b:literal) => {{
                let mut g = net.zeros_like();
                let mut s = boxed_block_scratch::<f64, 24, 5, $b>();
                let r = net.batch_grad_blocked(&CrossEntropy, data(), &mut g, &mut s).unwrap();
                prop_assert!((r.loss - r0.loss).abs() <= 1e-14 && r.samples == r0.samples && r.correct == r0.correct);
                prop_assert!(max_diff(&g, &g0) <= 1e-15, "{}", max_diff(&g, &g0));
                let e = net.evaluate_blocked(&CrossEntropy, data(), &mut s).unwrap();
                prop_assert!((e.loss - e0.loss).abs() <= 1e-14 && e.correct == e0.correct);
                // Deterministic: a second call gives the same bits.
                let mut g2 = net.zeros_like();
                prop_assert_eq!(net.batch_grad_blocked(&CrossEntropy, data(), &mut g2, &mut s).unwrap(), r);
                prop_assert_eq!(&g2, &g);
            }};
        }
        check_b!(1);
        check_b!(3);
        check_b!(8);
        // Dense inputs and MSE (the parity model's loss).
        let dense: Vec<[f64; 10]> = (0..len).map(|_| core::array::from_fn(|_| if rng.next_word() & 1 == 0 { 1.0 } else { -1.0 })).collect();
        let dd = || dense.iter().map(|x| (x, [1.0f64, -1.0, 0.5, 0.0, 2.0]));
        let mut gm = net.zeros_like();
        let rm = net.batch_grad(&Mse, dd(), &mut gm, &mut Mlp2Scratch::new()).unwrap();
        let mut gb = net.zeros_like();
        let rb = net.batch_grad_blocked(&Mse, dd(), &mut gb, &mut boxed_block_scratch::<f64, 24, 5, 4>()).unwrap();
        prop_assert!((rm.loss - rb.loss).abs() <= 1e-14 * rm.loss.max(1.0));
        prop_assert!(max_diff(&gm, &gb) <= 1e-14);
    }
}

// ---------------------------------------------------------------------------
// The blocked fast path (`Mlp2::batch_grad_blocked` / `evaluate_blocked`)
// against the per-sample path, across scalar types, input kinds, losses,
// biases and block sizes.

/// Relative rounding budget of the fast path against the per-sample path:
/// the two sum logits (over `HIDDEN` terms) and back-propagated gradients
/// (over `OUT` terms) in different orders, so differences scale with
/// `(HIDDEN + OUT)·ε` relative to the size of each tensor.
fn blocked_rtol<T: Real>(hidden: usize, out: usize) -> f64 {
    4.0 * (hidden + out) as f64 * T::EPSILON.to_f64()
}

/// Every active tensor of `a` and `b` agrees elementwise within
/// `rtol · max|tensor of a|` (plus a tiny floor for all-zero tensors).
fn assert_grads_close<T: Real, N: Params<T>>(a: &N, b: &N, rtol: f64, what: &str) {
    for i in 0..N::TENSORS {
        let info = N::info(i).unwrap();
        let (ta, tb) = (a.tensor(i), b.tensor(i));
        let scale = ta.iter().map(|v| v.to_f64().abs()).fold(0.0, f64::max);
        let tol = rtol * scale + 1e-30;
        let worst = ta
            .iter()
            .zip(tb)
            .map(|(x, y)| (x.to_f64() - y.to_f64()).abs())
            .fold(0.0, f64::max);
        assert!(
            worst <= tol,
            "{what}: {}: max |Δ| {worst:e} > {tol:e} (scale {scale:e})",
            info.name
        );
    }
}

/// Bit patterns of every tensor, for same-bits checks.
fn bits<T: Real, N: Params<T>>(n: &N) -> Vec<u64> {
    (0..N::TENSORS)
        .flat_map(|i| {
            n.tensor(i)
                .iter()
                .map(|v| v.to_bits_u64())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn he_net<T: Real, const I: usize, const H: usize, const O: usize>(
    seed: u64,
    b1: bool,
    b2: bool,
) -> Box<Mlp2<T, I, H, O>> {
    let mut net = Box::new(Mlp2::<T, I, H, O>::zeros(b1, b2));
    let mut rng = SplitMix64::new(seed);
    // Nonzero biases, so that their gradients are exercised away from 0.
    net.l1
        .init(Init::HeNormal, Init::Normal { std: 0.3 }, &mut rng);
    net.l2
        .init(Init::HeNormal, Init::Normal { std: 0.3 }, &mut rng);
    net
}

/// `net.zeros_like()` on the heap, built in a frame of its own: inlined into
/// [`check_blocked`]'s expansion, every such temporary took its own stack
/// slot (780 KB each at p = 127), which overflowed the default test-thread
/// stack in release builds.
#[inline(never)]
fn boxed_zeros_like<T: Real, const I: usize, const H: usize, const O: usize>(
    net: &Mlp2<T, I, H, O>,
) -> Box<Mlp2<T, I, H, O>> {
    Box::new(net.zeros_like())
}

/// A fresh [`Mlp2BlockScratch`] on the heap, built in a frame of its own
/// (see [`boxed_zeros_like`]).
#[inline(never)]
fn boxed_block_scratch<T: Real, const H: usize, const O: usize, const B: usize>()
-> Box<Mlp2BlockScratch<T, H, O, B>> {
    Box::new(Mlp2BlockScratch::new())
}

/// Runs both paths on `data` and checks agreement of the gradient, the batch
/// statistics and the evaluation, then checks that the fast path gives the
/// same bits for every block size and when run twice on a dirty scratch.
macro_rules! check_blocked {
    ($t:ty, $i:literal, $h:literal, $o:literal, $net:expr, $loss:expr, $data:expr, $what:expr) => {{
        let net: &Mlp2<$t, $i, $h, $o> = $net;
        let loss = $loss;
        let data = $data;
        let what: &str = $what;
        let rtol = blocked_rtol::<$t>($h, $o);
        let mut g0 = boxed_zeros_like(net);
        let r0 = net
            .batch_grad(&loss, data(), &mut g0, &mut Mlp2Scratch::new())
            .unwrap();
        let e0 = net
            .evaluate(&loss, data(), &mut Mlp2Scratch::new())
            .unwrap();
        let mut g8 = boxed_zeros_like(net);
        let mut s8 = boxed_block_scratch::<$t, $h, $o, 8>();
        let r8 = net
            .batch_grad_blocked(&loss, data(), &mut g8, &mut s8)
            .unwrap();
        assert_grads_close(&*g0, &*g8, rtol, what);
        assert_eq!((r8.samples, r8.correct), (r0.samples, r0.correct), "{what}");
        let dl = (r8.loss.to_f64() - r0.loss.to_f64()).abs();
        assert!(
            dl <= rtol * r0.loss.to_f64().abs().max(1.0),
            "{what}: loss {dl:e}"
        );
        // A fresh scratch (nothing left over from a gradient pass).
        let e8 = net
            .evaluate_blocked(&loss, data(), &mut boxed_block_scratch::<$t, $h, $o, 8>())
            .unwrap();
        assert_eq!((e8.samples, e8.correct), (e0.samples, e0.correct), "{what}");
        let de = (e8.loss.to_f64() - e0.loss.to_f64()).abs();
        assert!(
            de <= rtol * e0.loss.to_f64().abs().max(1.0),
            "{what}: eval loss {de:e}"
        );
        // Fixed orders: the same bits for any block size and scratch state.
        let want = bits(&*g8);
        macro_rules! same_bits {
            ($b:literal) => {{
                let mut g = boxed_zeros_like(net);
                let mut s = boxed_block_scratch::<$t, $h, $o, $b>();
                for _ in 0..2 {
                    let r = net
                        .batch_grad_blocked(&loss, data(), &mut g, &mut s)
                        .unwrap();
                    assert_eq!(r, r8, "{what}: B = {}", $b);
                    assert!(bits(&*g) == want, "{what}: B = {}: other bits", $b);
                }
                let e = net.evaluate_blocked(&loss, data(), &mut s).unwrap();
                assert_eq!(e, e8, "{what}: B = {}", $b);
            }};
        }
        same_bits!(1);
        same_bits!(3);
        same_bits!(8);
        same_bits!(40);
    }};
}

fn two_hot_batch(p: usize, len: usize, seed: u64) -> Vec<([usize; 2], usize)> {
    let mut rng = SplitMix64::new(seed);
    (0..len)
        .map(|_| {
            let a = (rng.next_word() % p as u64) as usize;
            let b = (rng.next_word() % p as u64) as usize;
            ([a, p + b], (a + b) % p)
        })
        .collect()
}

fn pm_one_inputs<T: Real, const I: usize>(len: usize, seed: u64) -> Vec<[T; I]> {
    let mut rng = SplitMix64::new(seed);
    (0..len)
        .map(|_| {
            core::array::from_fn(|_| {
                if rng.next_word() & 1 == 0 {
                    T::ONE
                } else {
                    -T::ONE
                }
            })
        })
        .collect()
}

#[test]
fn blocked_matches_per_sample_two_hot_cross_entropy() {
    // The p = 23 microcontroller model and a shape with OUT not a multiple
    // of any tile width; batches that are not multiples of the block.
    for (b1, b2) in [(true, false), (true, true), (false, false), (false, true)] {
        let what = format!("p=23 f32 biases ({b1}, {b2})");
        let d = two_hot_batch(23, 61, 1);
        let net = he_net::<f32, 46, 64, 23>(2, b1, b2);
        check_blocked!(
            f32,
            46,
            64,
            23,
            &net,
            CrossEntropy,
            || d.iter().map(|(x, y)| (MultiHot(x), *y)),
            &what
        );
        let net = he_net::<f64, 46, 64, 23>(2, b1, b2);
        check_blocked!(
            f64,
            46,
            64,
            23,
            &net,
            CrossEntropy,
            || d.iter().map(|(x, y)| (MultiHot(x), *y)),
            &what.replace("f32", "f64")
        );
        let d = two_hot_batch(97, 45, 3);
        let net = he_net::<f32, 194, 72, 97>(4, b1, b2);
        check_blocked!(
            f32,
            194,
            72,
            97,
            &net,
            CrossEntropy,
            || d.iter().map(|(x, y)| (MultiHot(*x), *y)),
            &format!("p=97 f32 ({b1}, {b2})")
        );
        let net = he_net::<f64, 194, 72, 97>(4, b1, b2);
        check_blocked!(
            f64,
            194,
            72,
            97,
            &net,
            CrossEntropy,
            || d.iter().map(|(x, y)| (MultiHot(*x), *y)),
            &format!("p=97 f64 ({b1}, {b2})")
        );
    }
}

#[test]
fn blocked_matches_per_sample_dense_mse() {
    // The parity model (±1 inputs, one output) and a vector target.
    for (b1, b2) in [(true, true), (false, false), (true, false)] {
        let xs = pm_one_inputs::<f32, 40>(37, 5);
        let net = he_net::<f32, 40, 30, 1>(6, b1, b2);
        let data = || xs.iter().map(|x| (x, [x[0] * x[1]]));
        check_blocked!(
            f32,
            40,
            30,
            1,
            &net,
            Mse,
            data,
            &format!("parity f32 ({b1}, {b2})")
        );
        let xs = pm_one_inputs::<f64, 40>(37, 5);
        let net = he_net::<f64, 40, 30, 1>(6, b1, b2);
        let data = || xs.iter().map(|x| (*x, [x[0] * x[1]]));
        check_blocked!(
            f64,
            40,
            30,
            1,
            &net,
            Mse,
            data,
            &format!("parity f64 ({b1}, {b2})")
        );
        let ts = pm_one_inputs::<f64, 57>(19, 7);
        let xs = pm_one_inputs::<f64, 12>(19, 8);
        let net = he_net::<f64, 12, 50, 57>(9, b1, b2);
        let data = || xs.iter().zip(ts.iter().copied());
        check_blocked!(
            f64,
            12,
            50,
            57,
            &net,
            Mse,
            data,
            &format!("vector MSE f64 ({b1}, {b2})")
        );
    }
}

#[test]
fn blocked_matches_per_sample_wide_sparse_inputs() {
    // IN > 2·OUT: sparse inputs use W1 as it is (no transposed copy).
    let mut rng = SplitMix64::new(10);
    let idx: Vec<[usize; 3]> = (0..29)
        .map(|_| core::array::from_fn(|_| (rng.next_word() % 30) as usize))
        .collect();
    let net = he_net::<f64, 30, 16, 3>(11, true, true);
    let data = || idx.iter().enumerate().map(|(i, x)| (MultiHot(x), i % 3));
    check_blocked!(f64, 30, 16, 3, &net, CrossEntropy, data, "IN > 2·OUT");
    let net = he_net::<f32, 30, 16, 3>(11, false, true);
    check_blocked!(f32, 30, 16, 3, &net, CrossEntropy, data, "IN > 2·OUT f32");
}

/// An input that is sparse or dense per sample (a custom `Input`).
#[derive(Clone, Copy)]
enum Mixed {
    Sparse([usize; 2]),
    Dense([f64; 10]),
}

impl Input<f64, 10> for Mixed {
    fn validate(&self) -> Result<(), EgdError> {
        match self {
            Self::Sparse(i) => Input::<f64, 10>::validate(&MultiHot(i)),
            Self::Dense(x) => x.validate(),
        }
    }
    fn matvec<const OUT: usize>(&self, w: &Matrix<f64, OUT, 10>, out: &mut [f64; OUT]) {
        match self {
            Self::Sparse(i) => MultiHot(i).matvec(w, out),
            Self::Dense(x) => x.matvec(w, out),
        }
    }
    fn outer_acc<const OUT: usize>(&self, delta: &[f64; OUT], gw: &mut Matrix<f64, OUT, 10>) {
        match self {
            Self::Sparse(i) => MultiHot(i).outer_acc(delta, gw),
            Self::Dense(x) => x.outer_acc(delta, gw),
        }
    }
    fn sparse_indices(&self) -> Option<&[usize]> {
        match self {
            Self::Sparse(i) => Some(i),
            Self::Dense(_) => None,
        }
    }
}

#[test]
fn blocked_handles_dense_samples_after_sparse_ones() {
    // The first sample picks the transposed layer-1 layout; a dense sample in
    // a later block (and one in the first) switches back mid-batch.
    let mut rng = SplitMix64::new(12);
    let xs: Vec<Mixed> = (0..27)
        .map(|i| {
            if i == 5 || i == 19 {
                Mixed::Dense(core::array::from_fn(|_| standard_normal(&mut rng)))
            } else {
                Mixed::Sparse([
                    (rng.next_word() % 5) as usize,
                    5 + (rng.next_word() % 5) as usize,
                ])
            }
        })
        .collect();
    let net = he_net::<f64, 10, 24, 5>(13, true, false);
    let data = || xs.iter().enumerate().map(|(i, x)| (*x, i % 5));
    check_blocked!(f64, 10, 24, 5, &net, CrossEntropy, data, "mixed inputs");
}

#[test]
fn blocked_matches_per_sample_paper_size() {
    // p = 127 at full size (hidden 512), f32, on the default test-thread
    // stack (every network-sized buffer is boxed).
    let d = two_hot_batch(127, 83, 14);
    let net = he_net::<f32, 254, 512, 127>(15, true, false);
    check_blocked!(
        f32,
        254,
        512,
        127,
        &net,
        CrossEntropy,
        || d.iter().map(|(x, y)| (MultiHot(x), *y)),
        "p=127"
    );
}

#[test]
fn evaluate_blocked_uses_the_current_weights_regression() {
    // `evaluate_blocked` used to read `W2ᵀ` left in the scratch by the last
    // `batch_grad_blocked`, i.e. the output layer from before the last step.
    let d = two_hot_batch(5, 20, 16);
    let data = || d.iter().map(|(x, y)| (MultiHot(x), *y));
    let mut net = he_net::<f64, 10, 24, 5>(17, true, false);
    let mut g = net.zeros_like();
    let mut s = boxed_block_scratch::<f64, 24, 5, 8>();
    net.batch_grad_blocked(&CrossEntropy, data(), &mut g, &mut s)
        .unwrap();
    net.l2.w.axpy(-0.5, &g.l2.w);
    let want = net
        .evaluate(&CrossEntropy, data(), &mut Mlp2Scratch::new())
        .unwrap();
    let got = net.evaluate_blocked(&CrossEntropy, data(), &mut s).unwrap();
    assert!(
        (got.loss - want.loss).abs() < 1e-13,
        "{} vs {}",
        got.loss,
        want.loss
    );
    assert_eq!(got.correct, want.correct);
}

#[test]
fn blocked_errors_are_errors_not_panics() {
    let net = he_net::<f32, 10, 24, 5>(18, true, false);
    let mut g = net.zeros_like();
    let mut s = boxed_block_scratch::<f32, 24, 5, 4>();
    let empty: [(MultiHot<[usize; 2]>, usize); 0] = [];
    assert!(
        net.batch_grad_blocked(&CrossEntropy, empty, &mut g, &mut s)
            .is_err()
    );
    let e = net.evaluate_blocked(&CrossEntropy, empty, &mut s).unwrap();
    assert_eq!((e.samples, e.correct), (0, 0));
    for bad in [[0usize, 10], [11, 3]] {
        let batch = [(MultiHot([0, 5]), 0), (MultiHot(bad), 1)];
        assert!(
            net.batch_grad_blocked(&CrossEntropy, batch, &mut g, &mut s)
                .is_err()
        );
        assert!(net.evaluate_blocked(&CrossEntropy, batch, &mut s).is_err());
    }
    let batch = [(MultiHot([0, 5]), 5)];
    assert!(
        net.batch_grad_blocked(&CrossEntropy, batch, &mut g, &mut s)
            .is_err()
    );
    assert!(net.evaluate_blocked(&CrossEntropy, batch, &mut s).is_err());
    // A NaN weight (outside the contract: optimizers never write one) is an
    // error if it reaches a logit and harmless otherwise, never a panic (an
    // inactive hidden unit's `W2` column is never read by the fast path).
    let mut nan = net.clone();
    for row in nan.l2.w.rows_mut() {
        row[0] = f32::NAN;
    }
    let batch = [(MultiHot([0, 5]), 0), (MultiHot([1, 6]), 1)];
    let r = nan.batch_grad_blocked(&CrossEntropy, batch, &mut g, &mut s);
    assert!(r.is_err() || g.is_finite());
    // After errors the scratch still gives the right answer.
    let d = two_hot_batch(5, 9, 19);
    let data = || d.iter().map(|(x, y)| (MultiHot(x), *y));
    let r = net
        .batch_grad_blocked(&CrossEntropy, data(), &mut g, &mut s)
        .unwrap();
    let mut g0 = net.zeros_like();
    let r0 = net
        .batch_grad(&CrossEntropy, data(), &mut g0, &mut Mlp2Scratch::new())
        .unwrap();
    assert_eq!(r.correct, r0.correct);
    assert_grads_close(&g0, &g, blocked_rtol::<f32>(24, 5), "after errors");
}
