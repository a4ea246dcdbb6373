/* Minimal Cortex-M4F start-up for the C firmware example under QEMU
 * (mps2-an386): vector table, reset (copy .data, zero .bss, paint the stack,
 * enable the FPU), a HardFault that ends the run with status 1, ARM
 * semihosting output and exit, and the board's CMSDK timer for instruction
 * counting (-icount shift=7: 16 ticks = 5 instructions). */
#include "board.h"

#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _stack_bottom, _stack_top;
int main(void);

#define PAINT 0xCCCCCCCCu

static uint32_t semihost(uint32_t op, const void *arg) {
    register uint32_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void board_puts(const char *s) { semihost(0x04, s); } /* SYS_WRITE0 */

void board_exit(int ok) {
    /* SYS_EXIT: ADP_Stopped_ApplicationExit -> status 0, RunTimeErrorUnknown -> 1 */
    semihost(0x18, (const void *)(uintptr_t)(ok ? 0x20026u : 0x20023u));
    for (;;) {
    }
}

#define TIMER0_CTRL (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)

static void timer_start(void) {
    TIMER0_CTRL = 0;
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1;
}

uint32_t board_ticks(void) { return ~TIMER0_VALUE; }

uint64_t board_insns(uint64_t ticks) { return (ticks * 5 + 8) / 16; }

uint32_t board_stack_high_water(void) {
    const uint32_t *p = &_stack_bottom;
    while (p < &_stack_top && *p == PAINT) p++;
    return (uint32_t)((uintptr_t)&_stack_top - (uintptr_t)p);
}

uint32_t board_stack_size(void) {
    return (uint32_t)((uintptr_t)&_stack_top - (uintptr_t)&_stack_bottom);
}

uint32_t board_static_ram(void) {
    return (uint32_t)(((uintptr_t)&_edata - (uintptr_t)&_sdata) +
                      ((uintptr_t)&_ebss - (uintptr_t)&_sbss));
}

uint32_t board_flash_used(void) {
    return (uint32_t)((uintptr_t)&_sidata + ((uintptr_t)&_edata - (uintptr_t)&_sdata));
}

__attribute__((noreturn, naked)) void reset_handler(void) {
    __asm__ volatile(
        /* paint the stack below the current SP (the reset SP is _stack_top) */
        "ldr r0, =_stack_bottom\n"
        "mov r1, sp\n"
        "ldr r2, =0xCCCCCCCC\n"
        "1: cmp r0, r1\n"
        "bhs 2f\n"
        "str r2, [r0], #4\n"
        "b 1b\n"
        "2: b reset_c\n");
}

__attribute__((noreturn, used)) void reset_c(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    /* CPACR: full access to CP10/CP11 (the FPU), before any float code */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n isb" ::: "memory");
    timer_start();
    board_exit(main() == 0);
}

static void hard_fault(void) {
    board_puts("FAIL: HardFault\n");
    board_exit(0);
}

static void default_handler(void) {
    board_puts("FAIL: unexpected exception\n");
    board_exit(0);
}

__attribute__((section(".vectors"), used)) static void (*const vectors[16])(void) = {
    (void (*)(void))(&_stack_top), reset_handler, default_handler, hard_fault,
    default_handler, default_handler, default_handler, 0, 0, 0, 0,
    default_handler, default_handler, 0, default_handler, default_handler,
};
