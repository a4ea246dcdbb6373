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

use config::{BATCH, EgdOptimizer, Net, P, TRAIN_FRACTION, Workspace};
use core::cell::RefCell;
use core::hint::black_box;
use cortex_m_rt::entry;
use cortex_m_semihosting::debug;
use critical_section::Mutex;
use egd_core::EgdError;
use egd_core::nn::{CrossEntropy, Mlp2Scratch, MultiHot};
use egd_core::optim::{Egd, Optimizer, Sgd, SgdConfig};
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
    ws: Workspace,
}

/// All-zero bytes, in `.bss`, as in the firmware.
static STATE: Mutex<RefCell<State>> = Mutex::new(RefCell::new(State {
    net: Net::zeros(false, false),
    grad: Net::zeros(false, false),
    scratch: Mlp2Scratch::new(),
    ws: Workspace::new(),
}));

/// One training step on minibatch `b` of epoch `e`, as the firmware runs it.
#[inline(never)]
fn step(
    net: &mut Net,
    grad: &mut Net,
    scratch: &mut Mlp2Scratch<f32, { config::HIDDEN }, P>,
    opt: &mut EgdOptimizer<'_>,
    task: &ModularTask,
    e: u64,
    b: usize,
) -> Result<(), Failure> {
    let epoch = task.epoch(e, BATCH, Remainder::Drop).map_err(|_| Failure)?;
    let batch = epoch.batch(b).ok_or(Failure)?;
    egd_core::nn::Params::fill_zero(grad);
    let scale = 1.0 / batch.len() as f32;
    for ex in batch {
        let x = ex.two_hot();
        net.accumulate(
            &MultiHot(&x),
            ex.label() as usize,
            &CrossEntropy,
            scale,
            grad,
            scratch,
        )?;
    }
    opt.step(net, grad)?;
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
        critical_section::with(|cs| {
            let mut guard = STATE.borrow(cs).try_borrow_mut().map_err(|_| Failure)?;
            let State {
                net,
                grad,
                scratch,
                ws,
            } = &mut *guard;
            net.reset(true, false);
            grad.reset(true, false);
            let mut opt = Optimizer::new(Egd::with_workspace(config::EGD_CONFIG, ws), sgd);
            step(
                net,
                grad,
                scratch,
                &mut opt,
                &task,
                black_box(0),
                black_box(0),
            )
        })
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
