//! What does the data cost? Times one shuffled training epoch and one pass
//! over the test set for the paper's tasks, and prints the RAM the iteration
//! state takes.
//!
//! Run: `cargo run -p egd-tasks --release --example epoch_cost [repeats]`
//! (default 31 repeats; the median is reported).

use egd_tasks::{
    Batch, Batches, Dataset, Epoch, EpochExamples, Examples, ModularTask, Op, Remainder,
    SparseParity,
};
use std::hint::black_box;
use std::mem::size_of;
use std::time::{Duration, Instant};

/// Median wall time of `repeats` runs of `f(r)` (r = repeat number).
fn median(repeats: u64, mut f: impl FnMut(u64) -> u64) -> Duration {
    let mut times: Vec<Duration> = (0..repeats)
        .map(|r| {
            let t = Instant::now();
            black_box(f(r));
            t.elapsed()
        })
        .collect();
    times.sort();
    times[times.len() / 2]
}

fn report(what: &str, examples: usize, t: Duration) {
    println!(
        "{what:<58} {:>9.1} µs  ({:>5.1} ns/example, {examples} examples)",
        t.as_secs_f64() * 1e6,
        t.as_secs_f64() * 1e9 / examples as f64
    );
}

fn main() -> Result<(), egd_tasks::TaskError> {
    let repeats: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(31)
        .max(1);
    println!("median of {repeats} repeats\n");

    // --- p = 127 modular addition, the paper's split and schedule.
    let task = ModularTask::new(127, Op::Add, 0.5, 0)?;
    let n_train = task.train_len();
    let t = median(repeats, |r| {
        let mut acc = 0u64;
        for batch in task.epoch(r, 512, Remainder::Keep).unwrap().batches() {
            for ex in batch {
                let [i, j] = ex.two_hot();
                acc = acc.wrapping_add((i ^ j) as u64 + u64::from(ex.label()));
            }
        }
        acc
    });
    report(
        "p=127 add: shuffled epoch, all train, two-hot + label",
        n_train,
        t,
    );

    let t = median(repeats, |r| {
        let mut acc = 0u64;
        for batch in task.epoch(r, 512, Remainder::Drop).unwrap().batches() {
            for ex in batch {
                let [i, j] = ex.two_hot();
                acc = acc.wrapping_add((i ^ j) as u64 + u64::from(ex.label()));
            }
        }
        acc
    });
    report("p=127 add: shuffled epoch, 15 x 512 (paper)", 15 * 512, t);

    let mut x = [0.0f32; 254];
    let t = median(repeats, |r| {
        let mut acc = 0u64;
        for ex in task.epoch(r, 512, Remainder::Keep).unwrap().examples() {
            ex.write_input(&mut x).unwrap();
            acc = acc.wrapping_add(u64::from(black_box(&x)[0] as u8) + u64::from(ex.label()));
        }
        acc
    });
    report(
        "p=127 add: shuffled epoch, dense f32[254] + label",
        n_train,
        t,
    );

    let t = median(repeats, |_| {
        let mut acc = 0u64;
        for ex in task.test_examples() {
            let [i, j] = ex.two_hot();
            acc = acc.wrapping_add((i ^ j) as u64 + u64::from(ex.label()));
        }
        acc
    });
    report(
        "p=127 add: whole test set, two-hot + label",
        task.test_len(),
        t,
    );

    let div = ModularTask::new(127, Op::Div, 0.5, 0)?;
    let t = median(repeats, |r| {
        let mut acc = 0u64;
        for ex in div.epoch(r, 512, Remainder::Keep).unwrap().examples() {
            let [i, j] = ex.two_hot();
            acc = acc.wrapping_add((i ^ j) as u64 + u64::from(ex.label()));
        }
        acc
    });
    report(
        "p=127 div: shuffled epoch, all train, two-hot + label",
        div.train_len(),
        t,
    );

    // --- Sparse parity (400, 2), the paper's largest input.
    let parity = SparseParity::new(400, 2, 2000, 10_000, 0)?;
    let mut x = [0.0f32; 400];
    let t = median(repeats, |r| {
        let mut acc = 0u64;
        for ex in parity.epoch(r, 32, Remainder::Keep).unwrap().examples() {
            ex.write_input(&mut x).unwrap();
            acc = acc.wrapping_add(u64::from(black_box(&x)[399] > 0.0) + ex.label() as u64);
        }
        acc
    });
    report(
        "parity (400, 2): shuffled epoch, dense f32[400] + label",
        2000,
        t,
    );

    let t = median(repeats, |_| {
        let mut acc = 0u64;
        for ex in parity.test_examples() {
            ex.write_input(&mut x).unwrap();
            acc = acc.wrapping_add(u64::from(black_box(&x)[399] > 0.0) + ex.label() as u64);
        }
        acc
    });
    report(
        "parity (400, 2): whole test set, dense f32[400] + label",
        10_000,
        t,
    );

    // --- RAM of the iteration state.
    type T = ModularTask;
    println!("\nRAM (bytes, this target):");
    println!("  ModularTask            {:>3}", size_of::<T>());
    println!("  SparseParity           {:>3}", size_of::<SparseParity>());
    println!("  Epoch                  {:>3}", size_of::<Epoch<'_, T>>());
    println!(
        "  Batches                {:>3}",
        size_of::<Batches<'_, T>>()
    );
    println!("  Batch                  {:>3}", size_of::<Batch<'_, T>>());
    println!(
        "  EpochExamples          {:>3}",
        size_of::<EpochExamples<'_, T>>()
    );
    println!(
        "  Examples (test split)  {:>3}",
        size_of::<Examples<'_, T>>()
    );
    println!(
        "  training loop state (task + Batches + EpochExamples): {} bytes, for any p",
        size_of::<T>() + size_of::<Batches<'_, T>>() + size_of::<EpochExamples<'_, T>>()
    );
    Ok(())
}
