/* Host test of the C API (egd.h): trains (a + b) mod 23 through the sparse
 * and the dense entry points, checks that both give the same weights, that a
 * checkpoint round trip continues bit-identically, and that every bad input
 * returns its status with the trainer unchanged. Exit status 0 = all passed.
 *
 *   gcc -std=c11 -Wall -Wextra -Werror -O2 -Iinclude tests/c/host_test.c \
 *       target/release/libegd_ffi.a -lm -o target/host_test && target/host_test
 */
#include "egd.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define P 23
#define N (P * P)

/* The layouts src/trainer.rs asserts on the Rust side. */
_Static_assert(sizeof(egd_config) == 40, "egd_config layout");
_Static_assert(offsetof(egd_config, lr) == 16, "egd_config layout");
_Static_assert(offsetof(egd_config, seed) == 24, "egd_config layout");
_Static_assert(offsetof(egd_config, egd) == 32, "egd_config layout");
_Static_assert(sizeof(egd_stats) == 16, "egd_stats layout");

static int failures;
#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                  \
            failures++;                                                      \
        }                                                                    \
    } while (0)
#define EXPECT(call, want)                                                     \
    do {                                                                       \
        egd_status s_ = (call);                                                \
        if (s_ != (want)) {                                                    \
            fprintf(stderr, "%s:%d: %s returned %d (%s), expected %d (%s)\n",  \
                    __FILE__, __LINE__, #call, (int)s_, egd_status_str(s_),    \
                    (int)(want), egd_status_str(want));                        \
            failures++;                                                        \
        }                                                                      \
    } while (0)

/* Static, aligned trainer memory: the compile-time bound from egd.h. */
static _Alignas(EGD_TRAINER_ALIGN) uint8_t mem_a[EGD_TRAINER_BYTES(EGD_IN, EGD_HIDDEN, EGD_OUT)];
static _Alignas(EGD_TRAINER_ALIGN) uint8_t mem_b[EGD_TRAINER_BYTES(EGD_IN, EGD_HIDDEN, EGD_OUT)];
static _Alignas(EGD_TRAINER_ALIGN) uint8_t mem_c[EGD_TRAINER_BYTES(EGD_IN, EGD_HIDDEN, EGD_OUT)] ;

/* All P*P pairs as sparse index pairs, as dense two-hot rows, and labels. */
static uint32_t idx[N * EGD_ACTIVE];
static float dense[N * EGD_IN];
static uint32_t labels[N];

static void make_data(void) {
    for (uint32_t a = 0; a < P; a++)
        for (uint32_t b = 0; b < P; b++) {
            uint32_t i = a * P + b;
            idx[2 * i] = a;
            idx[2 * i + 1] = P + b;
            dense[i * EGD_IN + a] = 1.0f;
            dense[i * EGD_IN + P + b] = 1.0f;
            labels[i] = (a + b) % P;
        }
}

static egd_config config(uint32_t egd) {
    egd_config c = {EGD_IN, EGD_HIDDEN, EGD_OUT, EGD_ACTIVE, 0.3f, 1e-4f, 7, egd};
    return c;
}

static void test_sizes(void) {
    CHECK(egd_trainer_size() <= sizeof mem_a);
    CHECK(egd_trainer_size() + 2048 > sizeof mem_a); /* the bound is tight */
    CHECK(egd_trainer_align() <= EGD_TRAINER_ALIGN);
    CHECK(egd_checkpoint_size() > 4 * (size_t)(EGD_HIDDEN * EGD_IN));
}

static void test_init_errors(void) {
    egd_config c = config(1);
    egd_trainer *t = (egd_trainer *)0x1;
    memset(mem_c, 0xA5, sizeof mem_c);
    EXPECT(egd_trainer_init(NULL, sizeof mem_c, &c, &t), EGD_ERR_NULL_POINTER);
    EXPECT(egd_trainer_init(mem_c, sizeof mem_c, NULL, &t), EGD_ERR_NULL_POINTER);
    EXPECT(egd_trainer_init(mem_c + 1, sizeof mem_c - 1, &c, &t), EGD_ERR_BAD_ALIGNMENT);
    EXPECT(egd_trainer_init(mem_c, egd_trainer_size() - 1, &c, &t), EGD_ERR_BUFFER_TOO_SMALL);
    c.out = EGD_OUT + 1;
    EXPECT(egd_trainer_init(mem_c, sizeof mem_c, &c, &t), EGD_ERR_SHAPE_MISMATCH);
    c = config(1);
    c.lr = -1.0f;
    EXPECT(egd_trainer_init(mem_c, sizeof mem_c, &c, &t), EGD_ERR_INVALID_PARAMETER);
    c = config(1);
    c.lr = NAN;
    EXPECT(egd_trainer_init(mem_c, sizeof mem_c, &c, &t), EGD_ERR_INVALID_PARAMETER);
    c = config(2);
    EXPECT(egd_trainer_init(mem_c, sizeof mem_c, &c, &t), EGD_ERR_INVALID_PARAMETER);
    /* nothing was written: not the memory, not the handle */
    CHECK(t == (egd_trainer *)0x1);
    for (size_t i = 0; i < sizeof mem_c; i++)
        if (mem_c[i] != 0xA5) {
            CHECK(!"init wrote memory on error");
            break;
        }
    /* memory that was never initialised is refused */
    EXPECT(egd_train_step_sparse(mem_c, idx, labels, 4, NULL), EGD_ERR_NOT_INITIALIZED);
    EXPECT(egd_train_step_sparse(NULL, idx, labels, 4, NULL), EGD_ERR_NULL_POINTER);
    CHECK(egd_trainer_steps(mem_c) == 0);
}

/* Trains `steps` full-batch steps; sparse or dense inputs. */
static void train(egd_trainer *t, int steps, int use_dense, egd_stats *last) {
    for (int s = 0; s < steps; s++) {
        egd_status st = use_dense ? egd_train_step_dense(t, dense, labels, N, last)
                                  : egd_train_step_sparse(t, idx, labels, N, last);
        EXPECT(st, EGD_OK);
    }
}

static void test_training_and_bad_inputs(void) {
    egd_trainer *ta = NULL, *tb = NULL;
    egd_config c = config(1);
    EXPECT(egd_trainer_init(mem_a, sizeof mem_a, &c, &ta), EGD_OK);
    EXPECT(egd_trainer_init(mem_b, sizeof mem_b, &c, &tb), EGD_OK);
    CHECK(ta == mem_a && tb == mem_b);

    egd_stats sa, sb, e0, e1;
    EXPECT(egd_evaluate_sparse(ta, idx, labels, N, &e0), EGD_OK);
    train(ta, 30, 0, &sa);
    train(tb, 30, 1, &sb);
    CHECK(egd_trainer_steps(ta) == 30);
    /* a dense two-hot row is the same input as its index pair */
    {
        static uint8_t ka[65536], kb[65536];
        EXPECT(egd_checkpoint_save(ta, ka, sizeof ka, NULL), EGD_OK);
        EXPECT(egd_checkpoint_save(tb, kb, sizeof kb, NULL), EGD_OK);
        CHECK(memcmp(ka, kb, egd_checkpoint_size()) == 0); /* same weights, bit for bit */
    }
    CHECK(sa.sweeps > 0 && sa.samples == N);
    EXPECT(egd_evaluate_dense(ta, dense, labels, N, &e1), EGD_OK);
    printf("EGD, 30 full-batch steps: loss %.4f -> %.4f, accuracy %u/%u -> %u/%u\n",
           (double)e0.loss, (double)e1.loss, e0.correct, e0.samples, e1.correct, e1.samples);
    CHECK(e1.loss < e0.loss && e1.correct > e0.correct);

    /* bad inputs: status returned, trainer bit-for-bit unchanged */
    static _Alignas(8) uint8_t before[EGD_TRAINER_BYTES(EGD_IN, EGD_HIDDEN, EGD_OUT)];
    memcpy(before, mem_a, egd_trainer_size());
    float bad_x[2 * EGD_IN];
    memcpy(bad_x, dense, sizeof bad_x);
    bad_x[EGD_IN + 3] = NAN;
    EXPECT(egd_train_step_dense(ta, bad_x, labels, 2, NULL), EGD_ERR_NON_FINITE);
    bad_x[EGD_IN + 3] = INFINITY;
    EXPECT(egd_train_step_dense(ta, bad_x, labels, 2, NULL), EGD_ERR_NON_FINITE);
    EXPECT(egd_evaluate_dense(ta, bad_x, labels, 2, NULL), EGD_ERR_NON_FINITE);
    uint32_t bad_idx[4] = {0, EGD_IN, 1, 2};
    EXPECT(egd_train_step_sparse(ta, bad_idx, labels, 2, NULL), EGD_ERR_INVALID_PARAMETER);
    uint32_t bad_labels[2] = {0, EGD_OUT};
    EXPECT(egd_train_step_sparse(ta, idx, bad_labels, 2, NULL), EGD_ERR_INVALID_PARAMETER);
    EXPECT(egd_train_step_sparse(ta, idx, labels, 0, NULL), EGD_ERR_INVALID_PARAMETER);
    EXPECT(egd_train_step_sparse(ta, NULL, labels, 2, NULL), EGD_ERR_NULL_POINTER);
    EXPECT(egd_train_step_dense(ta, dense, NULL, 2, NULL), EGD_ERR_NULL_POINTER);
    EXPECT(egd_train_step_sparse((uint8_t *)ta + 4, idx, labels, 2, NULL), EGD_ERR_BAD_ALIGNMENT);
    CHECK(memcmp(before, mem_a, egd_trainer_size()) == 0);
    CHECK(egd_trainer_steps(ta) == 30);

    /* checkpoint: save, train on, restore, train on again: same bits */
    static uint8_t ck[65536], ck2[65536];
    size_t n = 0;
    CHECK(egd_checkpoint_size() <= sizeof ck);
    EXPECT(egd_checkpoint_save(ta, ck, egd_checkpoint_size() - 1, &n), EGD_ERR_BUFFER_TOO_SMALL);
    CHECK(n == 0);
    EXPECT(egd_checkpoint_save(ta, NULL, sizeof ck, &n), EGD_ERR_NULL_POINTER);
    EXPECT(egd_checkpoint_save(ta, ck, sizeof ck, &n), EGD_OK);
    CHECK(n == egd_checkpoint_size());
    train(ta, 5, 0, &sa);
    EXPECT(egd_checkpoint_save(ta, ck2, sizeof ck2, NULL), EGD_OK);
    memcpy(before, mem_a, egd_trainer_size());
    /* corrupt, truncated, foreign and SGD-trainer checkpoints are refused, nothing changes */
    ck[n / 2] ^= 1;
    EXPECT(egd_checkpoint_restore(ta, ck, n), EGD_ERR_CHECKPOINT_CORRUPTED);
    ck[n / 2] ^= 1;
    EXPECT(egd_checkpoint_restore(ta, ck, n - 1), EGD_ERR_CHECKPOINT_TRUNCATED);
    ck[0] ^= 0xFF;
    EXPECT(egd_checkpoint_restore(ta, ck, n), EGD_ERR_CHECKPOINT_BAD_MAGIC);
    ck[0] ^= 0xFF;
    EXPECT(egd_checkpoint_restore(ta, NULL, n), EGD_ERR_NULL_POINTER);
    CHECK(memcmp(before, mem_a, egd_trainer_size()) == 0);
    EXPECT(egd_checkpoint_restore(ta, ck, n), EGD_OK);
    train(ta, 5, 0, &sa);
    static uint8_t ck3[65536];
    EXPECT(egd_checkpoint_save(ta, ck3, sizeof ck3, NULL), EGD_OK);
    CHECK(memcmp(ck2, ck3, n) == 0); /* resumed run = uninterrupted run */
}

static void test_sgd_baseline(void) {
    egd_trainer *t = NULL;
    egd_config c = config(0);
    EXPECT(egd_trainer_init(mem_c, sizeof mem_c, &c, &t), EGD_OK);
    egd_stats s;
    train(t, 3, 0, &s);
    CHECK(s.sweeps == 0);
    CHECK(egd_trainer_steps(t) == 3);
}

int main(void) {
    make_data();
    test_sizes();
    test_init_errors();
    test_training_and_bad_inputs();
    test_sgd_baseline();
    printf("trainer %zu B (bound %u B), checkpoint %zu B\n", egd_trainer_size(),
           (unsigned)EGD_TRAINER_BYTES(EGD_IN, EGD_HIDDEN, EGD_OUT), egd_checkpoint_size());
    if (failures) {
        fprintf(stderr, "host_test: %d check(s) failed\n", failures);
        return 1;
    }
    printf("host_test: all checks passed\n");
    return 0;
}
