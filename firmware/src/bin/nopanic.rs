//! Link-time proof that one EGD training step (minibatch gradient + EGD/SGD
//! optimizer step) has no reachable panic path on this target. The panic
//! handler calls a symbol that exists nowhere, so the binary links only if
//! the optimiser removed every call to it:
//!
//! ```text
//! cargo build --release --features nopanic --bin nopanic
//! ```
//!
//! A link error naming `egd_training_step_can_panic` means a panic site
//! survived (`cargo objdump`/`nm` on the object shows which). Running the
//! binary is not needed, but it is harmless (it exits 0).
#![no_std]
#![no_main]

#[path = "../config.rs"]
#[allow(dead_code)]
mod config;

use config::{BATCH, EgdOptimizer, Net, P, TRAIN_FRACTION};
use core::hint::black_box;
use core::mem::MaybeUninit;
use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use egd_core::EgdError;
use egd_core::nn::{CrossEntropy, Mlp2Scratch, MultiHot};
use egd_core::optim::{Sgd, SgdConfig};
use egd_tasks::{Dataset, ModularTask, Op, Remainder};

#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    unsafe extern "C" {
        fn egd_training_step_can_panic() -> !;
    }
    // SAFETY: never defined; reaching this line is a link error by design.
    unsafe { egd_training_step_can_panic() }
}

struct State {
    net: Net,
    grad: Net,
    scratch: Mlp2Scratch<f32, { config::HIDDEN }, P>,
    opt: EgdOptimizer,
}

static mut STATE: MaybeUninit<State> = MaybeUninit::uninit();

/// One training step on minibatch `b` of epoch `e`, as the firmware runs it.
#[inline(never)]
fn step(s: &mut State, task: &ModularTask, e: u64, b: usize) -> Result<(), Failure> {
    let epoch = task.epoch(e, BATCH, Remainder::Drop).map_err(|_| Failure)?;
    let batch = epoch.batch(b).ok_or(Failure)?;
    egd_core::nn::Params::fill_zero(&mut s.grad);
    let scale = 1.0 / batch.len() as f32;
    for ex in batch {
        let x = ex.two_hot();
        s.net.accumulate(
            &MultiHot(&x),
            ex.label() as usize,
            &CrossEntropy,
            scale,
            &mut s.grad,
            &mut s.scratch,
        )?;
    }
    s.opt.step(&mut s.net, &mut s.grad)?;
    Ok(())
}

struct Failure;

impl From<EgdError> for Failure {
    fn from(_: EgdError) -> Self {
        Self
    }
}

#[entry]
fn main() -> ! {
    let ok = (|| -> Result<(), Failure> {
        let task = ModularTask::new(P as u32, Op::Add, TRAIN_FRACTION, black_box(1))
            .map_err(|_| Failure)?;
        let sgd = Sgd::new(SgdConfig::default().with_lr(black_box(0.5)))?;
        // SAFETY: the only reference to STATE; fields written before use.
        let s: &mut State = unsafe {
            let p = (&raw mut STATE).cast::<State>();
            (&raw mut (*p).net).write(config::NET_ZEROS);
            (&raw mut (*p).grad).write(config::NET_ZEROS);
            (&raw mut (*p).scratch).write(Mlp2Scratch::new());
            (&raw mut (*p).opt.transform).write(config::EGD);
            (&raw mut (*p).opt.base).write(sgd);
            &mut *p
        };
        step(s, &task, black_box(0), black_box(0))
    })()
    .is_ok();
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::nop();
    }
}
