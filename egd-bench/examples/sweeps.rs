//! Jacobi sweeps per EGD step over a real training run, cold start vs warm
//! start, side by side on the same task, seed and data order (the paper's
//! p = 97 addition: two-hot input, hidden 512, SGD lr 0.7, batch 512, wd 1e-4,
//! EGD on W1 with `Clamp(1e-6)`).
//!
//! `cargo run --release -p egd-bench --example sweeps -- [EPOCHS]`

use egd_core::nn::{CrossEntropy, Mlp2, Mlp2BlockScratch, MultiHot};
use egd_core::optim::{Egd, EgdConfig, Optimizer, Sgd, SgdConfig};
use egd_core::rng::SplitMix64;
use egd_core::rsvd::RsvdWorkspace;
use egd_tasks::{Dataset, ModularTask, Op, Remainder};
use std::time::Instant;

const P: usize = 97;
type Net = Mlp2<f32, { 2 * P }, 512, P>;

fn run(warm: bool, epochs: u64) -> Vec<(u64, f64, f64, f32)> {
    let task = ModularTask::new(P as u32, Op::Add, 0.5, 0).expect("valid");
    let mut net = Box::<Net>::default();
    net.reset(true, false);
    net.init_he(&mut SplitMix64::new(0));
    let mut grad = Box::<Net>::default();
    let mut s = Box::<Mlp2BlockScratch<f32, 512, P, 8>>::default();
    let mut cfg = EgdConfig::paper();
    cfg.polar.warm_start = warm;
    let sgd = Sgd::new(SgdConfig::new(0.7).with_weight_decay(1e-4)).expect("valid");
    let mut ws = Box::<RsvdWorkspace<f32, { 2 * P }, 512, 0>>::default();
    let mut opt = Optimizer::new(Egd::with_workspace(cfg, &mut ws), sgd);
    let mut rows = Vec::new();
    for e in 0..epochs {
        let epoch = task.epoch(e, 512, Remainder::Drop).expect("valid");
        let (mut sweeps, mut steps) = (0u64, 0u64);
        let t0 = Instant::now();
        for b in epoch.batches() {
            let batch = b
                .iter()
                .map(|x| (MultiHot(x.two_hot()), x.label() as usize));
            net.batch_grad_blocked(&CrossEntropy, batch, &mut grad, &mut s)
                .expect("finite");
            let info = opt.step(&mut *net, &mut *grad).expect("converges");
            sweeps += u64::from(info.polar[0].map_or(0, |p| p.sweeps));
            steps += 1;
        }
        let ms = t0.elapsed().as_secs_f64() * 1e3 / steps as f64;
        let test = task
            .test_examples()
            .map(|x| (MultiHot(x.two_hot()), x.label() as usize));
        let acc = net
            .evaluate_blocked(&CrossEntropy, test, &mut s)
            .expect("finite")
            .accuracy();
        rows.push((e + 1, sweeps as f64 / steps as f64, ms, acc));
    }
    rows
}

fn main() {
    let epochs: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(40);
    let (cold, warm) = std::thread::scope(|sc| {
        let b = |w| sc.spawn(move || run(w, epochs));
        let (c, w) = (b(false), b(true));
        (c.join().unwrap(), w.join().unwrap())
    });
    println!(
        "| epoch | sweeps/step cold | sweeps/step warm | ms/step cold | ms/step warm | test acc cold | test acc warm |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for (c, w) in cold.iter().zip(&warm) {
        if c.0 <= 5 || c.0 % 10 == 0 || c.0 == epochs {
            println!(
                "| {} | {:.2} | {:.2} | {:.1} | {:.1} | {:.3} | {:.3} |",
                c.0, c.1, w.1, c.2, w.2, c.3, w.3
            );
        }
    }
    let mean = |v: &[(u64, f64, f64, f32)], i: usize| {
        v.iter()
            .map(|r| if i == 1 { r.1 } else { r.2 })
            .sum::<f64>()
            / v.len() as f64
    };
    println!(
        "\nmean over {epochs} epochs: sweeps/step cold {:.2}, warm {:.2}; ms/step cold {:.1}, warm {:.1} (both runs share the 2 cores)",
        mean(&cold, 1),
        mean(&warm, 1),
        mean(&cold, 2),
        mean(&warm, 2)
    );
}
