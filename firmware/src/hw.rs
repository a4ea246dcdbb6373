//! The board: CMSDK timer (instruction counting), stack, RAM and flash accounting,
//! exit, HardFault.

use core::ptr::{addr_of, read_volatile, write_volatile};
use cortex_m_semihosting::{debug, hprintln};

/// CMSDK APB TIMER0 of QEMU's mps2-an385/an386: a 32-bit down-counter at
/// 25 MHz of *virtual* time. Under `-icount shift=7` each guest instruction
/// advances virtual time by exactly 128 ns = 3.2 ticks.
const TIMER0: usize = 0x4000_0000;
const CTRL: *mut u32 = TIMER0 as *mut u32;
const VALUE: *mut u32 = (TIMER0 + 0x04) as *mut u32;
const RELOAD: *mut u32 = (TIMER0 + 0x08) as *mut u32;

/// Starts TIMER0 free-running from `u32::MAX` (it reloads on wrap).
pub fn timer_start() {
    // SAFETY: TIMER0's registers on this board; nothing else uses the timer.
    unsafe {
        write_volatile(CTRL, 0);
        write_volatile(RELOAD, u32::MAX);
        write_volatile(VALUE, u32::MAX);
        write_volatile(CTRL, 1);
    }
}

/// TIMER0 as an up-counting [`crate::train::Clock`].
pub struct Timer;

impl crate::train::Clock for Timer {
    #[inline(always)]
    fn ticks(&mut self) -> u32 {
        // SAFETY: a read of the timer's VALUE register.
        !unsafe { read_volatile(VALUE) }
    }
}

/// Ticks to instructions under `-icount shift=7` (exact: 16 ticks = 5 insns).
pub fn insns(ticks: u64) -> u64 {
    (ticks * 5 + 8) / 16
}

unsafe extern "C" {
    // From cortex-m-rt's link.x.
    static _stack_start: u32; // initial SP, top of RAM
    static _stack_end: u32; // lowest stack address, just above .bss/.uninit
    static __sdata: u32;
    static __edata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static __sidata: u32; // load address of .data in flash, after .text/.rodata
}

/// Bytes between the lowest stack address and the initial SP.
pub fn stack_size() -> usize {
    addr_of!(_stack_start) as usize - addr_of!(_stack_end) as usize
}

/// Peak stack use since reset: cortex-m-rt's `paint-stack` filled the stack
/// with `0xCCCC_CCCC` before `main`; count from the top to the lowest word
/// that was overwritten.
pub fn stack_high_water() -> usize {
    let lo = addr_of!(_stack_end) as usize;
    let hi = addr_of!(_stack_start) as usize;
    let mut p = lo;
    // SAFETY: reads of RAM words inside the stack region.
    while p < hi && unsafe { read_volatile(p as *const u32) } == 0xCCCC_CCCC {
        p += 4;
    }
    hi - p
}

/// `.data + .bss` in bytes (what `size` reports as data + bss).
pub fn static_ram() -> usize {
    (addr_of!(__edata) as usize - addr_of!(__sdata) as usize)
        + (addr_of!(__ebss) as usize - addr_of!(__sbss) as usize)
}

/// Flash image size in bytes: vector table, `.text`, `.rodata` and the
/// initial values of `.data` (flash starts at address 0 on this board).
pub fn flash_used() -> usize {
    addr_of!(__sidata) as usize + (addr_of!(__edata) as usize - addr_of!(__sdata) as usize)
}

/// Ends the QEMU run with status 0 (`ok`) or 1.
pub fn exit(ok: bool) -> ! {
    debug::exit(if ok {
        debug::EXIT_SUCCESS
    } else {
        debug::EXIT_FAILURE
    });
    loop {
        cortex_m::asm::nop();
    }
}

/// A HardFault ends the run with status 1 instead of hanging CI.
#[cortex_m_rt::exception]
unsafe fn HardFault(ef: &cortex_m_rt::ExceptionFrame) -> ! {
    hprintln!("FAIL: HardFault at pc={:#x}", ef.pc());
    exit(false)
}
