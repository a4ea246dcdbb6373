/* The board services the C firmware example uses (startup.c): semihosting
 * output and exit, instruction counting, stack/RAM/flash accounting. */
#ifndef BOARD_H
#define BOARD_H
#include <stdint.h>

void board_puts(const char *s);
__attribute__((noreturn)) void board_exit(int ok);
uint32_t board_ticks(void);
uint64_t board_insns(uint64_t ticks);
uint32_t board_stack_high_water(void);
uint32_t board_stack_size(void);
uint32_t board_static_ram(void);
uint32_t board_flash_used(void);
#endif
