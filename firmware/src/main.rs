//! Trains a modular-arithmetic MLP with EGD on a Cortex-M4F (or, without an
//! FPU, a Cortex-M3) under QEMU, then SGD from the same weights for as many
//! steps, and reports what it cost: see `README.md`.
//!
//! Every buffer is static or on the stack; nothing allocates. The big state
//! (network, gradient, activations, SVD workspace) is one plain `static`,
//! built by `const fn`s into all-zero bytes, so it sits in `.bss` and costs no
//! flash; it is reached through a `critical_section::Mutex<RefCell<…>>`,
//! without a line of `unsafe`. Exit status 0 means EGD grokked (test
//! accuracy above 0.95) within the epoch budget; a miss, an error, a panic or
//! a HardFault exits non-zero.
#![no_std]
#![no_main]

mod config;
mod hw;
mod train;

use config::{
    BATCH, BIASES, EPOCHS, EVAL_EVERY, HIDDEN, INIT_SEED, LR, Net, P, PART, TASK_SEED,
    TRAIN_FRACTION, WEIGHT_DECAY, Workspace,
};
use core::cell::RefCell;
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use critical_section::Mutex;
use egd_core::nn::Mlp2Scratch;
use egd_core::optim::{Egd, NoTransform, Optimizer, Sgd};
use egd_core::rng::SplitMix64;
use egd_tasks::{Dataset, ModularTask, Op};
use heapless::HistoryBuf;
use panic_semihosting as _; // a panic prints its message and exits QEMU with status 1
use train::{Cost, Eval, Schedule, TrainError};

/// Everything big that lives for the whole run: counted by `size` as static
/// RAM. Its initial value is all-zero bytes (biases off, zero weights, zero
/// scratch and workspace), so the linker puts it in `.bss`, which the reset
/// handler zeroes: nothing of it is stored in flash.
struct State {
    net: Net,
    grad: Net,
    scratch: Mlp2Scratch<f32, HIDDEN, P>,
    ws: Workspace,
}

impl State {
    const fn new() -> Self {
        Self {
            net: Net::zeros(false, false),
            grad: Net::zeros(false, false),
            scratch: Mlp2Scratch::new(),
            ws: Workspace::new(),
        }
    }
}

/// The firmware takes no interrupts: the critical section that guards the
/// state costs nothing and only proves, to the compiler, that `main` is its
/// one user.
static STATE: Mutex<RefCell<State>> = Mutex::new(RefCell::new(State::new()));

fn sgd() -> Result<Sgd<f32>, TrainError> {
    Ok(Sgd::new(config::SGD_CONFIG)?)
}

fn print_eval(tag: &str, e: &Eval) {
    hprintln!(
        "{} epoch={} step={} loss={:.4} train_acc={:.4} test_acc={:.4}",
        tag,
        e.epoch,
        e.steps,
        e.loss,
        e.train_acc,
        e.test_acc
    );
}

/// Instructions per step (rounded), from timer ticks under `-icount shift=7`.
fn per_step(ticks: u64, steps: u32) -> u64 {
    hw::insns(ticks) / u64::from(steps.max(1))
}

/// The whole experiment on the static state `s`; `Ok(true)` if EGD grokked
/// (feature `smoke`: if the short run completed).
fn run(s: &mut State) -> Result<bool, TrainError> {
    let task = ModularTask::new(P as u32, Op::Add, TRAIN_FRACTION, TASK_SEED)?;
    let (hidden_bias, out_bias) = BIASES;
    s.net.reset(hidden_bias, out_bias);
    s.grad.reset(hidden_bias, out_bias);
    let mut egd_opt: config::EgdOptimizer<'_> =
        Optimizer::new(Egd::with_workspace(config::EGD_CONFIG, &mut s.ws), sgd()?);
    hprintln!(
        "egd-firmware config={} part={} target={} task=add p={} hidden={} train={} test={} batch={} lr={} wd={} budget_epochs={}",
        config::CONFIG,
        PART.name,
        env!("FW_TARGET"),
        P,
        HIDDEN,
        task.train_len(),
        task.test_len(),
        BATCH,
        LR,
        WEIGHT_DECAY,
        EPOCHS
    );

    // --- EGD (both layers whitened, plain SGD base), until it groks stably ---
    s.net.init_he(&mut SplitMix64::new(INIT_SEED));
    let init_fp = train::fingerprint(&s.net);
    let mut egd_cost = Cost::default();
    let sched = Schedule {
        batch: BATCH,
        epochs: EPOCHS,
        eval_every: EVAL_EVERY,
        stop_when_stable: true,
    };
    let egd = train::train(
        &mut s.net,
        &mut s.grad,
        &mut s.scratch,
        &mut egd_opt,
        &task,
        &sched,
        &mut hw::Timer,
        &mut egd_cost,
        &mut HistoryBuf::<f32, { config::STABLE_EVALS }>::new(),
        |e| print_eval("egd", e),
    )?;

    // --- SGD from the same initial weights, for the same number of steps ---
    s.net.init_he(&mut SplitMix64::new(INIT_SEED));
    let same_init = train::fingerprint(&s.net) == init_fp;
    let mut sgd_opt = Optimizer::new(NoTransform, sgd()?);
    let mut sgd_cost = Cost::default();
    let sgd_sched = Schedule {
        epochs: egd.last.epoch,
        stop_when_stable: false,
        ..sched
    };
    let sgd = train::train(
        &mut s.net,
        &mut s.grad,
        &mut s.scratch,
        &mut sgd_opt,
        &task,
        &sgd_sched,
        &mut hw::Timer,
        &mut sgd_cost,
        &mut HistoryBuf::<f32, { config::STABLE_EVALS }>::new(),
        |e| print_eval("sgd", e),
    )?;

    // --- cost ----------------------------------------------------------------
    let grad_per_step = per_step(egd_cost.grad_ticks, egd_cost.steps);
    let egd_opt_per_step = per_step(egd_cost.opt_ticks, egd_cost.steps);
    let sgd_grad_per_step = per_step(sgd_cost.grad_ticks, sgd_cost.steps);
    let sgd_opt_per_step = per_step(sgd_cost.opt_ticks, sgd_cost.steps);
    let egd_step = grad_per_step + egd_opt_per_step;
    let sgd_step = sgd_grad_per_step + sgd_opt_per_step;
    // The transform is the only difference between the two optimizer steps
    // (same SGD update on the same shapes): that difference is the polar/SVD.
    let polar = egd_opt_per_step.saturating_sub(sgd_opt_per_step);
    let svd_share = polar as f32 / egd_step.max(1) as f32;
    let sweeps = egd_cost.sweeps as f32 / egd_cost.polar_steps.max(1) as f32;
    // Wall time on the part, *assuming* one instruction per cycle (QEMU
    // counts instructions, not cycles): EGD's whole run (training and the
    // per-epoch evaluations) and one EGD step.
    let egd_insns = hw::insns(egd_cost.grad_ticks + egd_cost.opt_ticks + egd_cost.eval_ticks);
    let hz = u64::from(PART.clock_mhz) * 1_000_000;
    let egd_wall_s = egd_insns as f32 / hz as f32;
    let egd_step_ms = egd_step as f32 * 1e3 / hz as f32;
    let flash = hw::flash_used();
    let stack = hw::stack_high_water();
    let stack_limit = hw::stack_size();
    let static_ram = hw::static_ram();

    let grokked = egd.grok_epoch.is_some() && egd.stable;
    let stack_ok = stack + 256 <= stack_limit;
    if !same_init {
        hprintln!("FAIL: SGD did not start from the EGD run's initial weights");
    }
    if !stack_ok {
        hprintln!(
            "FAIL: stack high-water {} B within 256 B of the {} B stack",
            stack,
            stack_limit
        );
    }
    // The smoke budget (3 epochs) only shows that training runs and what it costs.
    let smoke = cfg!(feature = "smoke");
    if !grokked && !smoke {
        hprintln!(
            "FAIL: EGD did not grok (test accuracy > {} for {} evaluations in a row) within {} epochs",
            train::GROK_ACC,
            config::STABLE_EVALS,
            EPOCHS
        );
    }
    hprintln!(
        "RESULT config={} part={} clock_mhz={} target={} mode={} task=add p={} hidden={} train={} test={} batch={} lr={} wd={} budget_epochs={} \
stable_evals={} egd_grok_epoch={} egd_stable={} egd_steps={} egd_test_acc={:.4} sgd_test_acc_at_same_steps={:.4} sgd_train_acc_at_same_steps={:.4} \
insn_per_egd_step={} insn_per_sgd_step={} insn_grad_per_step={} insn_polar_per_step={} svd_share={:.3} sweeps_per_polar={:.2} \
stack_bytes={} stack_limit_bytes={} static_ram_bytes={} ram_budget_bytes={} flash_bytes={} flash_budget_bytes={} \
est_egd_step_ms={:.1} est_egd_run_s={:.1} init_fingerprint={:08x}",
        config::CONFIG,
        PART.name,
        PART.clock_mhz,
        env!("FW_TARGET"),
        if smoke { "smoke" } else { "full" },
        P,
        HIDDEN,
        task.train_len(),
        task.test_len(),
        BATCH,
        LR,
        WEIGHT_DECAY,
        EPOCHS,
        config::STABLE_EVALS,
        config::Maybe(egd.grok_epoch),
        u8::from(egd.stable),
        egd_cost.steps,
        egd.last.test_acc,
        sgd.last.test_acc,
        sgd.last.train_acc,
        egd_step,
        sgd_step,
        grad_per_step,
        polar,
        svd_share,
        sweeps,
        stack,
        stack_limit,
        static_ram,
        PART.ram_bytes,
        flash,
        PART.flash_bytes,
        egd_step_ms,
        egd_wall_s,
        init_fp
    );
    Ok((grokked || smoke) && same_init && stack_ok)
}

#[entry]
fn main() -> ! {
    hw::timer_start();
    let ok = critical_section::with(|cs| match STATE.borrow(cs).try_borrow_mut() {
        Ok(mut s) => match run(&mut s) {
            Ok(ok) => ok,
            Err(e) => {
                hprintln!("FAIL: {:?}", e);
                false
            }
        },
        Err(_) => {
            hprintln!("FAIL: the static state is already in use");
            false
        }
    });
    hw::exit(ok)
}
