//! Optimizers: update formulas, EGD, the NaN contract (weights and state
//! bit-for-bit unchanged), determinism, checkpoints and bit-identical resume.

use egd_core::checkpoint::{self, State};
use egd_core::nn::{CrossEntropy, Empty, Mlp2, Mlp2Scratch, Mlp3, Mlp3Scratch, MultiHot, Params};
use egd_core::optim::{
    AdamW, AdamWConfig, Base, ColumnNorm, ColumnNormConfig, Egd, EgdConfig, Grokfast,
    GrokfastConfig, Layers, NoTransform, Optimizer, Sgd, SgdConfig, Transform,
};
use egd_core::polar::{Method, PolarConfig, polar_in_place};
use egd_core::rng::{SplitMix64, fill_normal};
use egd_core::svd::{SvdConfig, SvdWorkspace};
use egd_core::{CheckpointError, EgdError, Matrix};

const P: usize = 5;
type Net = Mlp2<f32, { 2 * P }, 16, P>;
type Net64 = Mlp2<f64, { 2 * P }, 16, P>;
/// Workspace for W1 (16×10) and W2 (5×16).
type EgdP = Egd<f32, 10, 16>;

fn pairs() -> [[usize; 2]; P * P] {
    core::array::from_fn(|i| [i / P, P + i % P])
}

fn label(x: &[usize; 2]) -> usize {
    (x[0] + x[1] - P) % P
}

fn net(seed: u64) -> Net {
    let mut n = Net::zeros(true, false);
    n.init_he(&mut SplitMix64::new(seed));
    n
}

/// The mean CE gradient of minibatch `step` (8 pairs chosen by the step index).
fn grad_at(net: &Net, step: usize) -> Net {
    let all = pairs();
    let batch: Vec<[usize; 2]> = (0..8)
        .map(|j| all[(step * 8 + j * 3) % all.len()])
        .collect();
    let mut g = net.zeros_like();
    net.batch_grad(
        &CrossEntropy,
        batch.iter().map(|x| (MultiHot(x), label(x))),
        &mut g,
        &mut Mlp2Scratch::new(),
    )
    .unwrap();
    g
}

/// Every parameter and state bit, via a checkpoint.
fn snapshot<N: Params<f32>, O: State<f32>>(net: &N, opt: &O) -> Vec<u8> {
    let mut buf = vec![0u8; checkpoint::bytes::<f32, N, O>()];
    checkpoint::save(net, opt, &mut buf).unwrap();
    buf
}

fn train<X, B>(net: &mut Net, opt: &mut Optimizer<X, B>, steps: std::ops::Range<usize>)
where
    X: Transform<f32, Net>,
    B: Base<f32, Net>,
{
    for k in steps {
        let mut g = grad_at(net, k);
        opt.step(net, &mut g).unwrap();
    }
}

fn sgd(lr: f32) -> Sgd<f32> {
    Sgd::new(SgdConfig::default().with_lr(lr)).unwrap()
}

fn synthetic(seed: u64) -> Net64 {
    let mut g = Net64::zeros(true, false);
    let mut rng = SplitMix64::new(seed);
    for i in 0..4 {
        if g.is_active(i) {
            fill_normal(g.tensor_mut(i), 1.0, &mut rng);
        }
    }
    g
}

fn net64(seed: u64) -> Net64 {
    let mut n = Net64::zeros(true, false);
    n.init_he(&mut SplitMix64::new(seed));
    n.l1.b = [0.25; 16];
    n
}

#[test]
fn sgd_l2_on_weights_only_by_default() {
    let (lr, wd) = (0.1, 0.01);
    let p0 = net64(1);
    let g0 = synthetic(2);
    let mut p = p0.clone();
    let mut g = g0.clone();
    let mut opt = Optimizer::new(
        NoTransform,
        Sgd::new(SgdConfig::default().with_lr(lr).with_weight_decay(wd)).unwrap(),
    );
    opt.step(&mut p, &mut g).unwrap();
    for i in 0..4 {
        let weight = i % 2 == 0;
        for ((&a, &b), &gg) in p.tensor(i).iter().zip(p0.tensor(i)).zip(g0.tensor(i)) {
            let expect = if weight {
                b - lr * (gg + wd * b)
            } else {
                b - lr * gg
            };
            assert_eq!(a, expect, "tensor {i}");
        }
    }
    // Disabled output bias: untouched.
    assert_eq!(p.l2.b, [0.0; P]);
}

#[test]
fn sgd_decoupled_decay_and_bias_decay() {
    let (lr, dwd) = (0.1, 0.05);
    let p0 = net64(3);
    let g0 = synthetic(4);
    let (mut p, mut g) = (p0.clone(), g0.clone());
    let cfg = SgdConfig::default()
        .with_lr(lr)
        .with_decoupled_weight_decay(dwd)
        .with_decay_biases(true);
    Optimizer::new(NoTransform, Sgd::new(cfg).unwrap())
        .step(&mut p, &mut g)
        .unwrap();
    for i in [0, 1, 2] {
        for ((&a, &b), &gg) in p.tensor(i).iter().zip(p0.tensor(i)).zip(g0.tensor(i)) {
            let shrunk = b - lr * dwd * b;
            assert_eq!(a, shrunk - lr * gg);
        }
    }
}

#[test]
fn sgd_momentum_and_nesterov() {
    for nesterov in [false, true] {
        let (lr, mu) = (0.1, 0.9);
        let p0 = net64(5);
        let (g1, g2) = (synthetic(6), synthetic(7));
        let cfg = SgdConfig::default()
            .with_lr(lr)
            .with_momentum(mu)
            .with_nesterov(nesterov);
        let mut opt = Optimizer::new(NoTransform, Sgd::with_momentum(cfg, &p0).unwrap());
        let mut p = p0.clone();
        opt.step(&mut p, &mut g1.clone()).unwrap();
        opt.step(&mut p, &mut g2.clone()).unwrap();
        for k in 0..p.l1.w.as_slice().len() {
            let (a, b) = (g1.l1.w.as_slice()[k], g2.l1.w.as_slice()[k]);
            let v1 = a;
            let d1 = if nesterov { a + mu * v1 } else { v1 };
            let v2 = mu * v1 + b;
            let d2 = if nesterov { b + mu * v2 } else { v2 };
            let expect = (p0.l1.w.as_slice()[k] - lr * d1) - lr * d2;
            assert_eq!(p.l1.w.as_slice()[k], expect);
            assert_eq!(opt.base.velocity().l1.w.as_slice()[k], v2);
        }
    }
}

#[test]
fn adamw_first_step_is_signed_lr() {
    let cfg = AdamWConfig::default().with_lr(0.01).with_weight_decay(0.1);
    let p0 = net64(8);
    let g0 = synthetic(9);
    let mut p = p0.clone();
    let mut opt = Optimizer::new(NoTransform, AdamW::new(cfg, &p0).unwrap());
    opt.step(&mut p, &mut g0.clone()).unwrap();
    assert_eq!(opt.base.steps(), 1);
    for i in 0..3 {
        let decay = if i % 2 == 0 {
            1.0 - cfg.lr * cfg.weight_decay
        } else {
            1.0
        };
        for ((&a, &b), &g) in p.tensor(i).iter().zip(p0.tensor(i)).zip(g0.tensor(i)) {
            let expect = b * decay - cfg.lr * g / (g.abs() + cfg.eps);
            assert!((a - expect).abs() < 1e-12, "{a} vs {expect}");
        }
    }
}

#[test]
fn zero_gradient_gives_zero_update() {
    let p0 = net(10);
    let z = p0.zeros_like();
    let mut p = p0.clone();
    let mut adam = Optimizer::new(
        NoTransform,
        AdamW::new(AdamWConfig::default().with_weight_decay(0.0), &p0).unwrap(),
    );
    for _ in 0..3 {
        adam.step(&mut p, &mut z.clone()).unwrap();
    }
    assert_eq!(p, p0);
    let mut egd = Optimizer::new(
        EgdP::new(EgdConfig::default().with_layers(Layers::All)),
        sgd(0.5),
    );
    let info = egd.step(&mut p, &mut z.clone()).unwrap();
    assert_eq!(p, p0);
    assert_eq!(info.polar[0].unwrap().rank, 0);
    let mut egd_paper = Optimizer::new(EgdP::new(EgdConfig::paper()), sgd(0.5));
    egd_paper.step(&mut p, &mut z.clone()).unwrap();
    assert_eq!(p, p0);
}

#[test]
fn grokfast_ema_starts_at_first_gradient() {
    let (alpha, lambda) = (0.9, 2.0);
    let p0 = net64(11);
    let (g1, g2) = (synthetic(12), synthetic(13));
    let mut opt = Optimizer::new(
        Grokfast::new(
            GrokfastConfig::default()
                .with_alpha(alpha)
                .with_lambda(lambda),
            &p0,
        )
        .unwrap(),
        Sgd::<f64>::new(SgdConfig::default().with_lr(1.0)).unwrap(),
    );
    assert!(!opt.transform.started());
    let mut p = p0.clone();
    opt.step(&mut p, &mut g1.clone()).unwrap();
    assert_eq!(opt.transform.ema().l1.w, g1.l1.w);
    opt.step(&mut p, &mut g2.clone()).unwrap();
    for i in 0..3 {
        for k in 0..p.tensor(i).len() {
            let (a, b) = (g1.tensor(i)[k], g2.tensor(i)[k]);
            let mu = alpha * a + (1.0 - alpha) * b;
            let expect = (p0.tensor(i)[k] - (a + lambda * a)) - (b + lambda * mu);
            assert!((p.tensor(i)[k] - expect).abs() < 1e-12);
            assert!((opt.transform.ema().tensor(i)[k] - mu).abs() < 1e-15);
        }
    }
}

#[test]
fn column_norm_normalises_first_layer_rows() {
    let p0 = net64(14);
    let g0 = synthetic(15);
    let mut p = p0.clone();
    let mut opt = Optimizer::new(
        ColumnNorm::new(ColumnNormConfig::default()),
        Sgd::<f64>::new(SgdConfig::default().with_lr(0.5)).unwrap(),
    );
    opt.step(&mut p, &mut g0.clone()).unwrap();
    for (r, (a, b)) in p.l1.w.rows().iter().zip(p0.l1.w.rows()).enumerate() {
        let n: f64 = a
            .iter()
            .zip(b)
            .map(|(x, y)| (x - y) * (x - y))
            .sum::<f64>()
            .sqrt();
        assert!((n - 0.5).abs() < 1e-12, "row {r}: {n}");
    }
    // W2 and b1 take the plain gradient.
    for ((&a, &b), &g) in
        p.l2.w
            .as_slice()
            .iter()
            .zip(p0.l2.w.as_slice())
            .zip(g0.l2.w.as_slice())
    {
        assert_eq!(a, b - 0.5 * g);
    }
}

#[test]
fn egd_whitens_first_layer_after_l2_and_leaves_the_rest() {
    let (lr, wd) = (0.3f32, 1e-2f32);
    let p0 = net(16);
    let g0 = grad_at(&p0, 0);
    let mut p = p0.clone();
    let cfg = EgdConfig::default().with_polar(PolarConfig::paper());
    let mut opt = Optimizer::new(
        EgdP::new(cfg),
        Sgd::new(SgdConfig::default().with_lr(lr).with_weight_decay(wd)).unwrap(),
    );
    let info = opt.step(&mut p, &mut g0.clone()).unwrap();
    assert!(info.transformed && info.polar[0].is_some() && info.polar[1].is_none());
    assert_eq!(opt.transform.last_info()[0], info.polar[0]);
    // The oracle: polar of (∇CE + wd·W1), with the same workspace type.
    let mut expect = g0.l1.w;
    expect.axpy(wd, &p0.l1.w);
    polar_in_place(
        &mut expect,
        &mut SvdWorkspace::<f32, 10, 16>::new(),
        &PolarConfig::paper(),
    )
    .unwrap();
    for ((&a, &b), &d) in
        p.l1.w
            .as_slice()
            .iter()
            .zip(p0.l1.w.as_slice())
            .zip(expect.as_slice())
    {
        assert_eq!(a, b - lr * d);
    }
    // Every singular value of the W1 step is lr: (ΔW)ᵀ(ΔW) = lr²·I (full column rank here).
    let d = Matrix::<f64, 16, 10>::from_fn(|i, j| {
        f64::from(p0.l1.w[(i, j)] - p.l1.w[(i, j)]) / f64::from(lr)
    });
    let mut dtd = Matrix::<f64, 10, 10>::zeros();
    d.t_matmul(&d.clone(), &mut dtd);
    for i in 0..10 {
        for j in 0..10 {
            let e = if i == j { 1.0 } else { 0.0 };
            assert!((dtd[(i, j)] - e).abs() < 1e-4, "({i},{j}) {}", dtd[(i, j)]);
        }
    }
    // W2 and b1: plain gradient plus L2 on W2 only.
    for ((&a, &b), &g) in
        p.l2.w
            .as_slice()
            .iter()
            .zip(p0.l2.w.as_slice())
            .zip(g0.l2.w.as_slice())
    {
        assert_eq!(a, b - lr * (g + wd * b));
    }
    for ((&a, &b), &g) in p.l1.b.iter().zip(&p0.l1.b).zip(&g0.l1.b) {
        assert_eq!(a, b - lr * g);
    }
}

#[test]
fn egd_layer_policies_on_mlp3() {
    type N3 = Mlp3<f32, 8, 12, 6, 3>;
    let mut net = N3::zeros(true, true);
    net.init_he(&mut SplitMix64::new(17));
    let xs: Vec<[usize; 2]> = (0..6).map(|i| [i % 4, 4 + i % 3]).collect();
    for (layers, expect) in [
        (Layers::First, [true, false, false]),
        (Layers::All, [true, true, true]),
        (Layers::Mask(0b110), [false, true, true]),
    ] {
        let mut p = net.clone();
        let mut g = p.zeros_like();
        p.batch_grad(
            &CrossEntropy,
            xs.iter().map(|x| (MultiHot(x), x[0] % 3)),
            &mut g,
            &mut Mlp3Scratch::new(),
        )
        .unwrap();
        // K ≥ 8 and L ≥ 12 cover all three matrices (12×8, 6×12, 3×6).
        let mut opt = Optimizer::new(
            Egd::<f32, 8, 12>::new(EgdConfig::default().with_layers(layers)),
            sgd(0.1),
        );
        let info = opt.step(&mut p, &mut g).unwrap();
        for (l, &e) in expect.iter().enumerate() {
            assert_eq!(info.polar[l].is_some(), e, "{layers:?} layer {l}");
        }
    }
}

#[test]
fn egd_newton_schulz_trains() {
    let mut p = net(18);
    let mut opt = Optimizer::new(
        EgdP::new(EgdConfig::default().with_polar(PolarConfig::newton_schulz())),
        sgd(0.2),
    );
    let all = pairs();
    let data = || all.iter().map(|x| (MultiHot(x), label(x)));
    let mut s = Mlp2Scratch::new();
    let start = p.evaluate(&CrossEntropy, data(), &mut s).unwrap().loss;
    let mut g = p.zeros_like();
    for _ in 0..100 {
        p.batch_grad(&CrossEntropy, data(), &mut g, &mut s).unwrap();
        let info = opt.step(&mut p, &mut g).unwrap();
        assert_eq!(info.polar[0].unwrap().sweeps, 0);
    }
    let end = p.evaluate(&CrossEntropy, data(), &mut s).unwrap();
    assert!(end.loss < start * 0.5, "{start} -> {}", end.loss);
}

#[test]
fn egd_switch_off_falls_back_to_the_base_optimizer() {
    let p0 = net(19);
    let mut egd = Optimizer::new(
        EgdP::new(EgdConfig::default().with_switch_off_above(Some(0.95))),
        sgd(0.1),
    );
    assert!(!egd.transform.observe_accuracy(0.95)); // strictly above
    assert!(egd.transform.observe_accuracy(0.96));
    assert!(egd.transform.observe_accuracy(0.1)); // latched
    let mut plain = Optimizer::new(NoTransform, sgd(0.1));
    let (mut a, mut b) = (p0.clone(), p0.clone());
    let info = egd.step(&mut a, &mut grad_at(&p0, 0)).unwrap();
    plain.step(&mut b, &mut grad_at(&p0, 0)).unwrap();
    assert!(!info.transformed && info.polar[0].is_none());
    assert_eq!(a, b);
    // The flag survives a checkpoint.
    let buf = snapshot(&a, &egd);
    let mut fresh = Optimizer::new(
        EgdP::new(EgdConfig::default().with_switch_off_above(Some(0.95))),
        sgd(0.1),
    );
    checkpoint::restore(&buf, &mut b, &mut fresh).unwrap();
    assert!(fresh.transform.is_switched_off());
    // Off by default.
    let mut never = EgdP::new(EgdConfig::default());
    assert!(!never.observe_accuracy(1.0));
}

/// Steps 3 clean batches, then checks that NaN/Inf anywhere in the gradient
/// (including W2 only, which EGD does not whiten) is rejected with weights
/// and state bit-for-bit unchanged.
fn nan_contract<X, B>(mut opt: Optimizer<X, B>)
where
    X: Transform<f32, Net> + State<f32>,
    B: Base<f32, Net> + State<f32>,
{
    let mut p = net(20);
    train(&mut p, &mut opt, 0..3);
    let before = snapshot(&p, &opt);
    let poisons: [fn(&mut Net); 4] = [
        |g| g.l2.w[(1, 3)] = f32::NAN,
        |g| g.l1.b[0] = f32::INFINITY,
        |g| g.l1.w[(15, 9)] = f32::NEG_INFINITY,
        |g| g.l2.w.fill(f32::NAN),
    ];
    for poison in poisons {
        let mut g = grad_at(&p, 3);
        poison(&mut g);
        assert_eq!(opt.step(&mut p, &mut g), Err(EgdError::NonFinite));
        assert_eq!(snapshot(&p, &opt), before);
    }
    // Still usable afterwards.
    train(&mut p, &mut opt, 3..4);
    assert_ne!(snapshot(&p, &opt), before);
}

fn sgd_mom(p: &Net, nesterov: bool) -> Sgd<f32, Net> {
    let cfg = SgdConfig::default()
        .with_lr(0.1)
        .with_momentum(0.9)
        .with_nesterov(nesterov)
        .with_weight_decay(1e-3)
        .with_decoupled_weight_decay(1e-3);
    Sgd::with_momentum(cfg, p).unwrap()
}

fn adamw(p: &Net) -> AdamW<f32, Net> {
    AdamW::new(AdamWConfig::default().with_lr(1e-2).with_l2(1e-4), p).unwrap()
}

#[test]
fn non_finite_gradient_leaves_everything_unchanged_for_every_optimizer() {
    let t = net(20);
    nan_contract(Optimizer::new(
        NoTransform,
        Sgd::new(SgdConfig::paper().with_weight_decay(1e-4)).unwrap(),
    ));
    nan_contract(Optimizer::new(NoTransform, sgd_mom(&t, false)));
    nan_contract(Optimizer::new(NoTransform, sgd_mom(&t, true)));
    nan_contract(Optimizer::new(NoTransform, adamw(&t)));
    nan_contract(Optimizer::new(
        Grokfast::new(GrokfastConfig::default(), &t).unwrap(),
        sgd(0.05),
    ));
    nan_contract(Optimizer::new(
        Grokfast::new(GrokfastConfig::default(), &t).unwrap(),
        adamw(&t),
    ));
    nan_contract(Optimizer::new(ColumnNorm::default(), sgd_mom(&t, false)));
    nan_contract(Optimizer::new(
        EgdP::new(EgdConfig::paper()),
        Sgd::new(SgdConfig::paper()).unwrap(),
    ));
    nan_contract(Optimizer::new(
        EgdP::new(EgdConfig::default().with_layers(Layers::All)),
        adamw(&t),
    ));
}

#[test]
fn svd_failure_leaves_everything_unchanged() {
    let mut p = net(21);
    let cfg = EgdConfig::default()
        .with_polar(PolarConfig::default().with_svd(SvdConfig::default().with_max_sweeps(1)))
        .with_layers(Layers::All);
    let mut opt = Optimizer::new(EgdP::new(cfg), sgd_mom(&p, false));
    let before = snapshot(&p, &opt);
    let r = {
        let mut g = grad_at(&p, 0);
        opt.step(&mut p, &mut g)
    };
    assert!(
        matches!(r, Err(EgdError::NotConverged { sweeps: 1 })),
        "{r:?}"
    );
    assert_eq!(snapshot(&p, &opt), before);
    assert_eq!(opt.transform.last_info(), &[None; 8]);
}

/// Steps 3 clean batches, then sets a valid but hostile configuration
/// (`poison`) whose next update would overflow: the step with the gradient
/// scaled by `scale` returns `Err(NonFinite)` with weights and state
/// bit-for-bit unchanged. With the configuration back (`heal`), the same step
/// gives the same bits as a twin that never saw the hostile one.
fn overflow_contract<X, B>(
    mut opt: Optimizer<X, B>,
    poison: impl Fn(&mut Optimizer<X, B>),
    heal: impl Fn(&mut Optimizer<X, B>),
    scale: f32,
) -> Optimizer<X, B>
where
    X: Transform<f32, Net> + State<f32> + Clone,
    B: Base<f32, Net> + State<f32> + Clone,
{
    let mut p = net(30);
    train(&mut p, &mut opt, 0..3);
    let before = snapshot(&p, &opt);
    let (mut twin_p, mut twin) = (p.clone(), opt.clone());
    let scaled = |net: &Net| {
        let mut g = grad_at(net, 3);
        for i in 0..4 {
            g.tensor_mut(i).iter_mut().for_each(|x| *x *= scale);
        }
        g
    };
    poison(&mut opt);
    let mut g = scaled(&p);
    assert_eq!(opt.step(&mut p, &mut g), Err(EgdError::NonFinite));
    assert_eq!(snapshot(&p, &opt), before);
    heal(&mut opt);
    let mut g = scaled(&p);
    let mut g2 = scaled(&twin_p);
    assert_eq!(opt.step(&mut p, &mut g), twin.step(&mut twin_p, &mut g2));
    assert_eq!(snapshot(&p, &opt), snapshot(&twin_p, &twin));
    opt
}

#[test]
fn huge_learning_rates_and_weight_decays_are_refused_and_change_nothing() {
    let t = net(30);
    let max = f32::MAX;
    // SGD: lr at the float limit times gradient entries above 1.
    overflow_contract(
        Optimizer::new(NoTransform, sgd(0.05)),
        |o| o.base.cfg.lr = max,
        |o| o.base.cfg.lr = 0.05,
        1e3,
    );
    // SGD: lr · decoupled decay overflows by itself.
    overflow_contract(
        Optimizer::new(NoTransform, sgd(0.05)),
        |o| {
            o.base.cfg.lr = 10.0;
            o.base.cfg.decoupled_weight_decay = max;
        },
        |o| {
            o.base.cfg.lr = 0.05;
            o.base.cfg.decoupled_weight_decay = 0.0;
        },
        1.0,
    );
    // SGD: coupled L2 at the float limit, then a step of 10 along it.
    overflow_contract(
        Optimizer::new(NoTransform, sgd(0.05)),
        |o| {
            o.base.cfg.lr = 10.0;
            o.base.cfg.weight_decay = max;
        },
        |o| {
            o.base.cfg.lr = 0.05;
            o.base.cfg.weight_decay = 0.0;
        },
        1.0,
    );
    // Momentum and Nesterov.
    for nesterov in [false, true] {
        overflow_contract(
            Optimizer::new(NoTransform, sgd_mom(&t, nesterov)),
            |o| o.base.cfg.lr = max,
            |o| o.base.cfg.lr = 0.1,
            1e3,
        );
    }
    // AdamW: lr / (1 − β1ᵗ) overflows; decoupled decay; coupled L2 (v' overflows).
    let adam = || Optimizer::new(NoTransform, adamw(&t));
    overflow_contract(
        adam(),
        |o| o.base.cfg.lr = max,
        |o| o.base.cfg.lr = 1e-2,
        1.0,
    );
    overflow_contract(
        adam(),
        |o| {
            o.base.cfg.lr = 10.0;
            o.base.cfg.weight_decay = max;
        },
        |o| {
            o.base.cfg.lr = 1e-2;
            o.base.cfg.weight_decay = 0.01;
        },
        1.0,
    );
    let healed = overflow_contract(
        adam(),
        |o| o.base.cfg.l2 = max,
        |o| o.base.cfg.l2 = 1e-4,
        1.0,
    );
    assert_eq!(healed.base.steps(), 4);
    // Grokfast: λ at the float limit overflows the filtered gradient; on
    // the first step the started flag must stay unset.
    let mut p = net(31);
    let mut opt = Optimizer::new(
        Grokfast::new(GrokfastConfig::default().with_lambda(max), &p).unwrap(),
        sgd(0.05),
    );
    let before = snapshot(&p, &opt);
    let mut g = grad_at(&p, 0);
    g.l1.w[(0, 0)] = 10.0;
    assert_eq!(opt.step(&mut p, &mut g), Err(EgdError::NonFinite));
    assert_eq!(snapshot(&p, &opt), before);
    assert!(!opt.transform.started());
    overflow_contract(
        Optimizer::new(
            Grokfast::new(GrokfastConfig::default(), &t).unwrap(),
            adamw(&t),
        ),
        |o| o.transform.cfg.lambda = max,
        |o| o.transform.cfg.lambda = 2.0,
        1e3,
    );
    // The filtered gradient is finite but the base update behind it is not:
    // the EMA must not move either (it is written only after the base's check).
    overflow_contract(
        Optimizer::new(
            Grokfast::new(GrokfastConfig::default(), &t).unwrap(),
            sgd(0.05),
        ),
        |o| o.base.cfg.lr = max,
        |o| o.base.cfg.lr = 0.05,
        1e3,
    );
    let mut p = net(31);
    let mut opt = Optimizer::new(
        Grokfast::new(GrokfastConfig::default(), &p).unwrap(),
        sgd(max),
    );
    let before = snapshot(&p, &opt);
    let mut g = grad_at(&p, 0);
    g.l1.w[(0, 0)] = 10.0;
    assert_eq!(opt.step(&mut p, &mut g), Err(EgdError::NonFinite));
    assert_eq!(snapshot(&p, &opt), before);
    assert!(!opt.transform.started());
    // EGD on every layer bounds the direction, but lr · decoupled decay
    // still overflows; its last polar report stays that of the last good step.
    let egd = overflow_contract(
        Optimizer::new(
            EgdP::new(EgdConfig::default().with_layers(Layers::All)),
            sgd(0.05),
        ),
        |o| {
            o.base.cfg.lr = 1e20;
            o.base.cfg.decoupled_weight_decay = 1e20;
        },
        |o| {
            o.base.cfg.lr = 0.05;
            o.base.cfg.decoupled_weight_decay = 0.0;
        },
        1.0,
    );
    assert!(egd.transform.last_info()[0].is_some());
    // Column norm on the first layer: the unnormalised W2 gradient overflows.
    overflow_contract(
        Optimizer::new(ColumnNorm::default(), sgd(0.05)),
        |o| o.base.cfg.lr = max,
        |o| o.base.cfg.lr = 0.05,
        1e3,
    );
}

/// Without a transform the gradient's finiteness is checked through the
/// values the update would write; a zero learning rate must not hide it
/// (`0 · ∞` is NaN).
#[test]
fn zero_learning_rate_still_refuses_a_non_finite_gradient() {
    fn refuses<B: Base<f32, Net> + State<f32>>(mut opt: Optimizer<NoTransform, B>) {
        let mut p = net(33);
        train(&mut p, &mut opt, 0..2);
        let before = snapshot(&p, &opt);
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut g = grad_at(&p, 2);
            g.l1.w[(3, 4)] = bad;
            assert_eq!(opt.step(&mut p, &mut g), Err(EgdError::NonFinite));
            assert_eq!(snapshot(&p, &opt), before);
        }
    }
    let t = net(33);
    let zero_lr = SgdConfig::default().with_lr(0.0);
    refuses(Optimizer::new(NoTransform, Sgd::new(zero_lr).unwrap()));
    let mom = zero_lr.with_momentum(0.5);
    refuses(Optimizer::new(
        NoTransform,
        Sgd::with_momentum(mom, &t).unwrap(),
    ));
    let adam = AdamWConfig::default().with_lr(0.0);
    refuses(Optimizer::new(NoTransform, AdamW::new(adam, &t).unwrap()));
}

#[test]
fn egd_last_info_is_untouched_by_a_failed_step() {
    let mut p = net(32);
    let mut opt = Optimizer::new(EgdP::new(EgdConfig::default()), sgd(0.05));
    train(&mut p, &mut opt, 0..2);
    let last = *opt.transform.last_info();
    assert!(last[0].is_some());
    opt.base.cfg.lr = f32::MAX;
    // A zero W1 gradient has polar rank 0 (the last good step's is not), and
    // W2 is not whitened: lr · 1e3 overflows there.
    let mut g = grad_at(&p, 2);
    g.l1.w = Matrix::zeros();
    g.l2.w[(0, 0)] = 1e3;
    assert_ne!(last[0].map(|i| i.rank), Some(0));
    assert_eq!(opt.step(&mut p, &mut g), Err(EgdError::NonFinite));
    assert_eq!(opt.transform.last_info(), &last);
}

#[test]
fn invalid_configuration_is_an_error_and_changes_nothing() {
    let mut p = net(22);
    let mut opt = Optimizer::new(NoTransform, sgd_mom(&p, false));
    train(&mut p, &mut opt, 0..2);
    let before = snapshot(&p, &opt);
    opt.base.cfg.lr = -1.0;
    assert!(matches!(
        {
            let mut g = grad_at(&p, 2);
            opt.step(&mut p, &mut g)
        },
        Err(EgdError::InvalidParameter { name: "lr", .. })
    ));
    opt.base.cfg.lr = f32::NAN;
    assert!(
        {
            let mut g = grad_at(&p, 2);
            opt.step(&mut p, &mut g)
        }
        .is_err()
    );
    assert_eq!(snapshot(&p, &opt), before);

    let mom = SgdConfig::<f32>::default().with_momentum(0.9);
    assert!(Sgd::new(mom).is_err());
    assert!(Sgd::new(SgdConfig::<f32>::default().with_nesterov(true)).is_err());
    assert!(Sgd::with_momentum(mom.with_momentum(1.0), &p).is_err());
    assert!(AdamW::new(AdamWConfig::default().with_beta1(1.0), &p).is_err());
    assert!(AdamW::new(AdamWConfig::default().with_eps(0.0), &p).is_err());
    assert!(
        Grokfast::new(
            GrokfastConfig::default().with_alpha(1.5).with_lambda(2.0),
            &p
        )
        .is_err()
    );
    let mut cn = Optimizer::new(
        ColumnNorm::new(ColumnNormConfig::default().with_min_norm(0.0)),
        sgd(0.1),
    );
    assert!(
        {
            let mut g = grad_at(&p, 0);
            cn.step(&mut p, &mut g)
        }
        .is_err()
    );
    let mut egd = Optimizer::new(
        EgdP::new(EgdConfig::default().with_polar(
            PolarConfig::default().with_cutoff(egd_core::polar::Cutoff::Relative(-1.0)),
        )),
        sgd(0.1),
    );
    let before = snapshot(&p, &egd);
    assert!(matches!(
        {
            let mut g = grad_at(&p, 0);
            egd.step(&mut p, &mut g)
        },
        Err(EgdError::InvalidParameter { .. })
    ));
    assert_eq!(snapshot(&p, &egd), before);
}

#[test]
fn disabled_bias_stays_exactly_zero() {
    let mut p = net(23);
    let cfg = AdamWConfig::default()
        .with_lr(1e-2)
        .with_weight_decay(0.1)
        .with_l2(1e-3)
        .with_decay_biases(true);
    let mut opt = Optimizer::new(
        Grokfast::new(GrokfastConfig::default(), &p).unwrap(),
        AdamW::new(cfg, &p).unwrap(),
    );
    train(&mut p, &mut opt, 0..10);
    assert_eq!(p.l2.b, [0.0; P]);
    assert!(p.l1.b.iter().any(|&b| b != 0.0));
}

#[test]
fn same_seed_same_bits() {
    fn run() -> Vec<u8> {
        let mut p = net(24);
        let mut opt = Optimizer::new(
            EgdP::new(EgdConfig::paper()),
            Sgd::new(SgdConfig::paper()).unwrap(),
        );
        train(&mut p, &mut opt, 0..25);
        let mut q = net(25);
        let mut opt2 = Optimizer::new(
            Grokfast::new(GrokfastConfig::default(), &q).unwrap(),
            adamw(&q),
        );
        train(&mut q, &mut opt2, 0..25);
        let mut out = snapshot(&p, &opt);
        out.extend(snapshot(&q, &opt2));
        out
    }
    assert_eq!(run(), run());
}

/// k steps, checkpoint, m more steps — versus restore into fresh objects and
/// m steps: bit-identical.
fn resume_is_bit_identical<X, B>(make: impl Fn(&Net) -> Optimizer<X, B>)
where
    X: Transform<f32, Net> + State<f32>,
    B: Base<f32, Net> + State<f32>,
{
    let mut p = net(26);
    let mut opt = make(&p);
    train(&mut p, &mut opt, 0..6);
    let buf = snapshot(&p, &opt);
    train(&mut p, &mut opt, 6..12);

    let mut q = Net::zeros(true, false);
    let mut opt2 = make(&q);
    checkpoint::restore(&buf, &mut q, &mut opt2).unwrap();
    train(&mut q, &mut opt2, 6..12);
    assert_eq!(snapshot(&p, &opt), snapshot(&q, &opt2));
    assert_eq!(p, q);
}

#[test]
fn resume_from_checkpoint_is_bit_identical() {
    resume_is_bit_identical(|_| Optimizer::new(NoTransform, Sgd::new(SgdConfig::paper()).unwrap()));
    resume_is_bit_identical(|p| Optimizer::new(NoTransform, sgd_mom(p, true)));
    resume_is_bit_identical(|p| Optimizer::new(NoTransform, adamw(p)));
    resume_is_bit_identical(|p| {
        Optimizer::new(
            Grokfast::new(GrokfastConfig::default(), p).unwrap(),
            adamw(p),
        )
    });
    resume_is_bit_identical(|p| {
        Optimizer::new(
            Grokfast::new(GrokfastConfig::default(), p).unwrap(),
            sgd_mom(p, false),
        )
    });
    resume_is_bit_identical(|_| {
        Optimizer::new(
            EgdP::new(EgdConfig::paper()),
            Sgd::new(SgdConfig::paper()).unwrap(),
        )
    });
    resume_is_bit_identical(|p| Optimizer::new(EgdP::new(EgdConfig::default()), sgd_mom(p, false)));
    resume_is_bit_identical(|p| {
        Optimizer::new(
            EgdP::new(EgdConfig::default().with_layers(Layers::All)),
            adamw(p),
        )
    });
    resume_is_bit_identical(|p| Optimizer::new(ColumnNorm::default(), sgd_mom(p, false)));
    // EGD-RSVD: the sketch stream follows the checkpointed step counter.
    resume_is_bit_identical(|p| {
        let polar = PolarConfig::paper().with_method(Method::Rsvd {
            rank: 4,
            power_iters: 2,
            seed: 3,
        });
        Optimizer::new(
            Egd::<f32, 10, 16, 4>::new(
                EgdConfig::default()
                    .with_polar(polar)
                    .with_layers(Layers::All),
            ),
            sgd_mom(p, false),
        )
    });
}

#[test]
fn bad_checkpoints_are_rejected_and_change_nothing() {
    type O = Optimizer<Grokfast<f32, Net>, AdamW<f32, Net>>;
    let mut p = net(27);
    let mut opt: O = Optimizer::new(
        Grokfast::new(GrokfastConfig::default(), &p).unwrap(),
        adamw(&p),
    );
    train(&mut p, &mut opt, 0..3);
    let good = snapshot(&p, &opt);
    assert_eq!(good.len(), checkpoint::bytes::<f32, Net, O>());

    let mut q = net(28);
    let mut opt2: O = Optimizer::new(
        Grokfast::new(GrokfastConfig::default(), &q).unwrap(),
        adamw(&q),
    );
    let target = snapshot(&q, &opt2);
    let ck = |e| Err(EgdError::Checkpoint(e));

    let cases: Vec<(Vec<u8>, Result<(), EgdError>)> = vec![
        (
            good[..good.len() - 1].to_vec(),
            ck(CheckpointError::Truncated),
        ),
        (good[..40].to_vec(), ck(CheckpointError::Truncated)),
        (Vec::new(), ck(CheckpointError::Truncated)),
        (
            {
                let mut b = good.clone();
                b[0] = b'X';
                b
            },
            ck(CheckpointError::BadMagic),
        ),
        (
            {
                let mut b = good.clone();
                b[8] = 2;
                b
            },
            ck(CheckpointError::UnsupportedVersion(2)),
        ),
        (
            {
                let mut b = good.clone();
                b[1000] ^= 0x10;
                b
            },
            ck(CheckpointError::Corrupted),
        ),
        (
            {
                let mut b = good.clone();
                b[11] ^= 1;
                b
            },
            ck(CheckpointError::Corrupted),
        ),
        (
            {
                let mut b = good.clone();
                let n = b.len();
                b[n - 1] ^= 0x80;
                b
            },
            ck(CheckpointError::Corrupted),
        ),
    ];
    for (buf, want) in cases {
        assert_eq!(checkpoint::restore(&buf, &mut q, &mut opt2), want);
        assert_eq!(snapshot(&q, &opt2), target);
    }

    // A longer buffer is fine (the stated length counts).
    let mut long = good.clone();
    long.extend([0xAA; 10]);
    assert_eq!(checkpoint::validate::<f32, Net, O>(&long, &q), Ok(()));

    // Shape mismatches: another optimizer, another bias switch, another scalar type.
    let mut other_opt = Optimizer::new(NoTransform, adamw(&q));
    assert_eq!(
        checkpoint::restore(&good, &mut q, &mut other_opt),
        ck(CheckpointError::ShapeMismatch)
    );
    let mut q_bias = Net::zeros(true, true);
    let mut opt_bias: O = Optimizer::new(
        Grokfast::new(GrokfastConfig::default(), &q_bias).unwrap(),
        adamw(&q_bias),
    );
    assert_eq!(
        checkpoint::restore(&good, &mut q_bias, &mut opt_bias),
        ck(CheckpointError::ShapeMismatch)
    );
    assert_eq!(q_bias, Net::zeros(true, true));
    let mut q64 = Net64::zeros(true, false);
    assert_eq!(
        checkpoint::restore(&good, &mut q64, &mut ()),
        ck(CheckpointError::ShapeMismatch)
    );
    let mut other_shape = Mlp2::<f32, 10, 15, 5>::zeros(true, false);
    assert_eq!(
        checkpoint::restore(&good, &mut other_shape, &mut ()),
        ck(CheckpointError::ShapeMismatch)
    );
    assert_eq!(snapshot(&q, &opt2), target);

    // Saving into a short buffer.
    let mut small = vec![0u8; good.len() - 1];
    assert_eq!(
        checkpoint::save(&p, &opt, &mut small),
        Err(EgdError::BufferTooSmall {
            needed: good.len(),
            got: good.len() - 1
        })
    );
    assert!(small.iter().all(|&b| b == 0));

    // And the good one restores.
    checkpoint::restore(&good, &mut q, &mut opt2).unwrap();
    assert_eq!(q, p);
    assert_eq!(opt2.base.steps(), 3);
    assert!(opt2.transform.started());
}

#[test]
fn network_only_checkpoint() {
    let p = net(29);
    let mut buf = [0u8; checkpoint::bytes::<f32, Net, ()>()];
    assert_eq!(checkpoint::save(&p, &(), &mut buf), Ok(buf.len()));
    let mut q = Net::zeros(true, false);
    checkpoint::restore(&buf, &mut q, &mut ()).unwrap();
    assert_eq!(p, q);
    assert_eq!(Sgd::<f32, Empty>::BYTES, size_of::<SgdConfig<f32>>());
}
