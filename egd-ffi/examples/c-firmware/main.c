/* C firmware example: trains (a + b) mod 23 with libegd_ffi.a on an emulated
 * Cortex-M4F (QEMU mps2-an386), EGD until it groks, then SGD from the same
 * initial weights for as many steps, and prints the firmware's RESULT line.
 *
 * Everything a C user writes to train their own data is in `train()`
 * below: a config, egd_trainer_init into a static buffer, and
 * egd_train_step_sparse / egd_evaluate_sparse on batches of indices and
 * labels. The rest is the experiment (data, split, shuffles) and reporting.
 * The split and shuffles are this file's own (a SplitMix64 Fisher-Yates),
 * not egd-tasks': the run is comparable to the Rust firmware's, not
 * bit-identical to it. */
#include "board.h"
#include "egd.h"

#include <stddef.h>
#include <stdint.h>

#define P 23
#define PAIRS (P * P)
#define N_TRAIN ((PAIRS * 95) / 100) /* 502 train, 27 test, as the Rust firmware */
#define N_TEST (PAIRS - N_TRAIN)
#define BATCH 64
#define EPOCHS 150
#define STABLE_EVALS 3
#define GROK_ACC 0.95f
#define LR 0.3f
#define WD 1e-4f
#define SEED 1u
#define CLOCK_MHZ 84u /* STM32F401RC, the small configuration's part */

/* The trainer: static, aligned, sized by egd.h's compile-time bound. */
static _Alignas(EGD_TRAINER_ALIGN) uint8_t trainer_mem[EGD_TRAINER_BYTES(EGD_IN, EGD_HIDDEN, EGD_OUT)];

/* Pair ids 0 .. PAIRS-1 (a = id / P, b = id % P): train ids first, then test. */
static uint16_t order[PAIRS];
/* One batch, in the API's layout. */
static uint32_t batch_idx[BATCH * EGD_ACTIVE];
static uint32_t batch_lab[BATCH];

static uint64_t rng_state;
static uint64_t splitmix64(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static void shuffle(uint16_t *v, uint32_t n) {
    for (uint32_t i = n - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(splitmix64() % (i + 1));
        uint16_t t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* Fills the batch buffers with pairs ids[0 .. n). */
static void fill(const uint16_t *ids, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        uint32_t a = ids[i] / P, b = ids[i] % P;
        batch_idx[2 * i] = a;         /* one-hot a in inputs 0 .. P-1 */
        batch_idx[2 * i + 1] = P + b; /* one-hot b in inputs P .. 2P-1 */
        batch_lab[i] = (a + b) % P;
    }
}

/* Accuracy over ids[0 .. n), in batches. */
static egd_status accuracy(egd_trainer *t, const uint16_t *ids, uint32_t n, float *acc) {
    uint32_t correct = 0;
    for (uint32_t i = 0; i < n; i += BATCH) {
        uint32_t k = n - i < BATCH ? n - i : BATCH;
        egd_stats s;
        fill(ids + i, k);
        egd_status st = egd_evaluate_sparse(t, batch_idx, batch_lab, k, &s);
        if (st != EGD_OK) return st;
        correct += s.correct;
    }
    *acc = (float)correct / (float)n;
    return EGD_OK;
}

/* ---- printing without printf ---- */
static char line[1024];
static size_t len;
static void put(const char *s) {
    while (*s && len < sizeof line - 1) line[len++] = *s++;
    line[len] = 0;
}
static void put_u(uint64_t v) {
    char b[24];
    int i = 23;
    b[i] = 0;
    do b[--i] = (char)('0' + v % 10); while ((v /= 10) && i > 0);
    put(b + i);
}
static void put_f(float x, int decimals) { /* x >= 0 */
    uint64_t scale = 1;
    for (int i = 0; i < decimals; i++) scale *= 10;
    uint64_t v = (uint64_t)(x * (float)scale + 0.5f);
    put_u(v / scale);
    if (decimals) {
        put(".");
        uint64_t frac = v % scale;
        for (uint64_t s = scale / 10; s > 0; s /= 10) {
            char d[2] = {(char)('0' + (frac / s) % 10), 0};
            put(d);
        }
    }
}
static void kv_u(const char *k, uint64_t v) { put(" "); put(k); put("="); put_u(v); }
static void kv_f(const char *k, float v, int d) { put(" "); put(k); put("="); put_f(v, d); }
static void flush(void) { put("\n"); board_puts(line); len = 0; line[0] = 0; }

/* ---- the experiment ---- */
typedef struct run {
    uint32_t steps, grok_epoch, stable, epochs;
    float train_acc, test_acc;
    uint64_t step_ticks, eval_ticks, sweeps;
} run;

/* Trains with EGD (egd = 1) or SGD (0) from seed SEED: until stable grokking,
 * or for exactly `epochs` epochs if epochs > 0. Returns an egd_status. */
static egd_status train(uint32_t egd, uint32_t epochs, run *r) {
    egd_config cfg = {EGD_IN, EGD_HIDDEN, EGD_OUT, EGD_ACTIVE, LR, WD, SEED, egd};
    egd_trainer *t;
    egd_status st = egd_trainer_init(trainer_mem, sizeof trainer_mem, &cfg, &t);
    if (st != EGD_OK) return st;
    rng_state = 1000 + SEED; /* the same epoch shuffles for EGD and SGD */
    float window[STABLE_EVALS] = {0};
    uint32_t budget = epochs ? epochs : EPOCHS;
    for (uint32_t e = 1; e <= budget; e++) {
        shuffle(order, N_TRAIN);
        for (uint32_t b = 0; b + BATCH <= N_TRAIN; b += BATCH) { /* remainder dropped */
            egd_stats s;
            fill(order + b, BATCH);
            uint32_t t0 = board_ticks();
            st = egd_train_step_sparse(t, batch_idx, batch_lab, BATCH, &s);
            r->step_ticks += board_ticks() - t0;
            if (st != EGD_OK) return st;
            r->steps++;
            r->sweeps += s.sweeps;
        }
        uint32_t t1 = board_ticks();
        if ((st = accuracy(t, order, N_TRAIN, &r->train_acc)) != EGD_OK) return st;
        if ((st = accuracy(t, order + N_TRAIN, N_TEST, &r->test_acc)) != EGD_OK) return st;
        r->eval_ticks += board_ticks() - t1;
        put(egd ? "egd" : "sgd");
        kv_u("epoch", e);
        kv_u("step", r->steps);
        kv_f("train_acc", r->train_acc, 4);
        kv_f("test_acc", r->test_acc, 4);
        flush();
        r->epochs = e;
        if (r->test_acc > GROK_ACC && !r->grok_epoch) r->grok_epoch = e;
        window[e % STABLE_EVALS] = r->test_acc;
        r->stable = e >= STABLE_EVALS;
        for (int i = 0; i < STABLE_EVALS; i++) r->stable &= window[i] > GROK_ACC;
        if (!epochs && r->stable) break;
    }
    return EGD_OK;
}

int main(void) {
    for (uint32_t i = 0; i < PAIRS; i++) order[i] = (uint16_t)i;
    rng_state = SEED;
    shuffle(order, PAIRS); /* the split: first N_TRAIN ids train, the rest test */

    put("egd-c-firmware config=small part=STM32F401RC target=thumbv7em-none-eabihf task=add");
    kv_u("p", P); kv_u("hidden", EGD_HIDDEN); kv_u("train", N_TRAIN); kv_u("test", N_TEST);
    kv_u("batch", BATCH); kv_u("trainer_bytes", egd_trainer_size());
    kv_u("checkpoint_bytes", egd_checkpoint_size());
    flush();

    run egd = {0}, sgd = {0};
    egd_status st = train(1, 0, &egd);
    if (st == EGD_OK) st = train(0, egd.epochs, &sgd);
    if (st != EGD_OK) {
        put("FAIL: ");
        put(egd_status_str(st));
        flush();
        return 1;
    }
    uint64_t egd_step = board_insns(egd.step_ticks) / (egd.steps ? egd.steps : 1);
    uint64_t sgd_step = board_insns(sgd.step_ticks) / (sgd.steps ? sgd.steps : 1);
    uint64_t polar = egd_step > sgd_step ? egd_step - sgd_step : 0;
    uint32_t stack = board_stack_high_water();
    int ok = egd.grok_epoch && egd.stable && stack + 256 <= board_stack_size();

    put("RESULT config=small part=STM32F401RC");
    kv_u("clock_mhz", CLOCK_MHZ);
    put(" target=thumbv7em-none-eabihf mode=full task=add");
    kv_u("p", P); kv_u("hidden", EGD_HIDDEN); kv_u("train", N_TRAIN); kv_u("test", N_TEST);
    kv_u("batch", BATCH);
    kv_f("lr", LR, 1);
    put(" wd=0.0001");
    kv_u("budget_epochs", EPOCHS);
    kv_u("stable_evals", STABLE_EVALS);
    if (egd.grok_epoch) kv_u("egd_grok_epoch", egd.grok_epoch); else put(" egd_grok_epoch=none");
    kv_u("egd_stable", egd.stable);
    kv_u("egd_steps", egd.steps);
    kv_f("egd_test_acc", egd.test_acc, 4);
    kv_f("sgd_test_acc_at_same_steps", sgd.test_acc, 4);
    kv_f("sgd_train_acc_at_same_steps", sgd.train_acc, 4);
    kv_u("insn_per_egd_step", egd_step);
    kv_u("insn_per_sgd_step", sgd_step);
    put(" insn_grad_per_step=na"); /* the C API times whole steps only */
    kv_u("insn_polar_per_step", polar);
    kv_f("svd_share", (float)polar / (float)(egd_step ? egd_step : 1), 3);
    kv_f("sweeps_per_polar", (float)egd.sweeps / (float)(2 * (egd.steps ? egd.steps : 1)), 2);
    kv_u("stack_bytes", stack);
    kv_u("stack_limit_bytes", board_stack_size());
    kv_u("static_ram_bytes", board_static_ram());
    kv_u("ram_budget_bytes", 64 * 1024);
    kv_u("flash_bytes", board_flash_used());
    kv_u("flash_budget_bytes", 256 * 1024);
    kv_f("est_egd_step_ms", (float)egd_step / (float)(CLOCK_MHZ * 1000u), 1);
    kv_f("est_egd_run_s", (float)board_insns(egd.step_ticks + egd.eval_ticks) / (float)(CLOCK_MHZ * 1000000u), 1);
    flush();
    if (!ok) {
        put("FAIL: EGD did not grok stably within the budget, or the stack is nearly full");
        flush();
    }
    return ok ? 0 : 1;
}
