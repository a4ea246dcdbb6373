/*
 * egd.h — train a small neural network with EGD (Egalitarian Gradient
 * Descent) from C, without malloc.
 *
 * libegd_ffi.a trains a two-layer perceptron
 *
 *     input (EGD_IN) -> hidden (EGD_HIDDEN, ReLU, bias) -> EGD_OUT classes
 *
 * with mean cross-entropy, L2 weight decay and either EGD (the gradient of
 * each weight matrix replaced by its polar factor U V^T, exact Jacobi SVD)
 * or plain SGD. The shapes are fixed when the library is built:
 *
 *     cd egd-ffi
 *     EGD_FFI_IN=46 EGD_FFI_HIDDEN=48 EGD_FFI_OUT=23 EGD_FFI_ACTIVE=2 \
 *         cargo build --release [--target thumbv7em-none-eabihf]
 *
 * and your program states the same numbers (define EGD_IN, EGD_HIDDEN,
 * EGD_OUT, EGD_ACTIVE before including this header, or use the defaults
 * below); egd_trainer_init refuses a mismatch with EGD_ERR_SHAPE_MISMATCH.
 *
 * Memory: everything lives in buffers you provide. The trainer needs
 * egd_trainer_size() bytes aligned to egd_trainer_align();
 * EGD_TRAINER_BYTES(in, hidden, out) is a compile-time upper bound for a
 * static buffer (the library asserts it at build time), EGD_TRAINER_ALIGN
 * an alignment that always suffices. Nothing allocates, nothing blocks,
 * nothing is kept after a call returns, and no call can panic (the library
 * links only if no panic path survives the optimiser).
 *
 * Errors: every function that can fail returns an egd_status, EGD_OK (0) or
 * a negative code. On any error the trainer's weights and optimizer state
 * are exactly as before the call, and no output is written.
 *
 * Threads: a trainer may be used by one thread at a time; different
 * trainers are independent. Buffers passed to one call must not overlap
 * each other or the trainer memory.
 *
 * Determinism: the same seed, data order and shapes give the same bits run
 * to run and after a checkpoint restore (host test); egd-core fixes its
 * operation order so that targets agree too (the Rust firmware checks
 * Cortex-M3 against Cortex-M4F; this library is not cross-checked itself).
 */
#ifndef EGD_H
#define EGD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Shapes this program expects; must match the library build. */
#ifndef EGD_IN
#define EGD_IN 46 /* input width (dense floats per sample; sparse index bound) */
#endif
#ifndef EGD_HIDDEN
#define EGD_HIDDEN 48 /* hidden ReLU units */
#endif
#ifndef EGD_OUT
#define EGD_OUT 23 /* classes; labels are 0 .. EGD_OUT-1 */
#endif
#ifndef EGD_ACTIVE
#define EGD_ACTIVE 2 /* active (value 1) indices per sparse sample */
#endif

/* Upper bound on egd_trainer_size() in bytes, usable for a static buffer:
 * two copies of the network (weights, gradient), activation scratch, the
 * SVD workspace (K*L + 2*K*K + 3*K floats and K + 1 machine words, with
 * K = max(min(H, IN), min(OUT, H)), L = max(H, IN, OUT)) and 1 KiB of
 * bookkeeping. */
#define EGD_MIN_(a, b) ((a) < (b) ? (a) : (b))
#define EGD_MAX_(a, b) ((a) > (b) ? (a) : (b))
#define EGD_K_(in, h, out) EGD_MAX_(EGD_MIN_(h, in), EGD_MIN_(out, h))
#define EGD_L_(in, h, out) EGD_MAX_(EGD_MAX_(h, in), EGD_MAX_(out, h))
#define EGD_TRAINER_BYTES(in, h, out)                                          \
    (4u * (2u * ((h) * (in) + (h) + (out) * (h) + (out)) + 2u * ((h) + (out)) + \
           EGD_K_(in, h, out) * EGD_L_(in, h, out) +                           \
           2u * EGD_K_(in, h, out) * EGD_K_(in, h, out) +                      \
           3u * EGD_K_(in, h, out)) +                                          \
     8u * (EGD_K_(in, h, out) + 1u) + 1024u)
/* An alignment that always suffices for trainer memory. */
#define EGD_TRAINER_ALIGN 8

/* Status codes: 0 is success, every error is negative. They mirror
 * egd-core's EgdError (and its CheckpointError) plus C-boundary checks. */
typedef int32_t egd_status;
#define EGD_OK 0
#define EGD_ERR_NULL_POINTER (-1)         /* a required pointer was NULL */
#define EGD_ERR_BUFFER_TOO_SMALL (-2)     /* trainer or checkpoint buffer too small */
#define EGD_ERR_BAD_ALIGNMENT (-3)        /* trainer memory (or an array) misaligned */
#define EGD_ERR_NOT_INITIALIZED (-4)      /* handle is not an initialised trainer */
#define EGD_ERR_SHAPE_MISMATCH (-5)       /* egd_config shapes differ from the build */
#define EGD_ERR_NON_FINITE (-6)           /* NaN/Inf in a dense input, loss or gradient */
#define EGD_ERR_INVALID_PARAMETER (-7)    /* lr <= 0, weight decay < 0, n == 0,
                                             label >= EGD_OUT, index >= EGD_IN */
#define EGD_ERR_NOT_CONVERGED (-8)        /* Jacobi SVD hit its sweep cap */
#define EGD_ERR_CHECKPOINT_BAD_MAGIC (-9) /* not an egd checkpoint */
#define EGD_ERR_CHECKPOINT_UNSUPPORTED_VERSION (-10)
#define EGD_ERR_CHECKPOINT_SHAPE_MISMATCH (-11) /* written for another model */
#define EGD_ERR_CHECKPOINT_TRUNCATED (-12)      /* buffer shorter than the checkpoint */
#define EGD_ERR_CHECKPOINT_CORRUPTED (-13)      /* checksum mismatch */
#define EGD_ERR_CHECKPOINT_INVALID (-14)        /* rejected for another reason */
#define EGD_ERR_OTHER (-15)                     /* an error this header does not name */

/* Opaque trainer: your memory, after egd_trainer_init. */
typedef void egd_trainer;

/* Settings for egd_trainer_init. */
typedef struct egd_config {
    uint32_t in;          /* = EGD_IN */
    uint32_t hidden;      /* = EGD_HIDDEN */
    uint32_t out;         /* = EGD_OUT */
    uint32_t active;      /* = EGD_ACTIVE */
    float lr;             /* learning rate, > 0 */
    float weight_decay;   /* L2 coefficient, >= 0 (added to the gradient before EGD) */
    uint64_t seed;        /* He initialisation seed: same seed, same weights */
    uint32_t egd;         /* 1: EGD on both weight matrices; 0: plain SGD */
} egd_config;

/* What a step or an evaluation reports. */
typedef struct egd_stats {
    float loss;       /* mean cross-entropy over the samples (before the update) */
    uint32_t correct; /* samples whose largest output is their label */
    uint32_t samples; /* samples seen */
    uint32_t sweeps;  /* Jacobi sweeps of this step's polar factors (0: SGD, evaluate) */
} egd_stats;

/* Exact trainer size and alignment for this build. */
size_t egd_trainer_size(void);
size_t egd_trainer_align(void);
/* Exact checkpoint size for this build. */
size_t egd_checkpoint_size(void);

/* Initialise a trainer in mem[0 .. mem_len) and He-initialise its weights
 * from cfg->seed. On success *out (if out != NULL) is the handle (== mem).
 * Errors: NULL_POINTER (mem, cfg), BAD_ALIGNMENT, BUFFER_TOO_SMALL,
 * SHAPE_MISMATCH, INVALID_PARAMETER (lr, weight_decay, egd > 1); mem is
 * not written on error. */
egd_status egd_trainer_init(void *mem, size_t mem_len, const egd_config *cfg,
                            egd_trainer **out);

/* One training step on n samples. Sparse: indices[n * EGD_ACTIVE], sample i
 * is indices[i*EGD_ACTIVE .. i*EGD_ACTIVE + EGD_ACTIVE - 1], each < EGD_IN,
 * meaning "these inputs are 1, the rest 0". Dense: x[n * EGD_IN] floats,
 * row-major. labels[n] < EGD_OUT. stats may be NULL.
 * Errors: NULL_POINTER, NOT_INITIALIZED, INVALID_PARAMETER (n == 0, a
 * label or index out of range), NON_FINITE (NaN/Inf input, loss or
 * gradient), NOT_CONVERGED; weights and optimizer state unchanged. */
egd_status egd_train_step_sparse(egd_trainer *t, const uint32_t *indices,
                                 const uint32_t *labels, size_t n, egd_stats *stats);
egd_status egd_train_step_dense(egd_trainer *t, const float *x,
                                const uint32_t *labels, size_t n, egd_stats *stats);

/* Loss and accuracy of the current weights on n samples (same layouts);
 * changes nothing but the trainer's activation scratch. */
egd_status egd_evaluate_sparse(egd_trainer *t, const uint32_t *indices,
                               const uint32_t *labels, size_t n, egd_stats *stats);
egd_status egd_evaluate_dense(egd_trainer *t, const float *x,
                              const uint32_t *labels, size_t n, egd_stats *stats);

/* Write a checkpoint (weights and optimizer state, egd_checkpoint_size()
 * bytes, with a checksum) to buf[0 .. len); *written (if not NULL) gets
 * the byte count. Errors: NULL_POINTER, NOT_INITIALIZED, BUFFER_TOO_SMALL
 * (nothing written). */
egd_status egd_checkpoint_save(egd_trainer *t, uint8_t *buf, size_t len,
                               size_t *written);

/* Restore weights and optimizer state from buf[0 .. len), validated whole
 * first. Errors: NULL_POINTER, NOT_INITIALIZED, CHECKPOINT_* ; the trainer
 * is unchanged on error. A restored trainer continues bit-identically. */
egd_status egd_checkpoint_restore(egd_trainer *t, const uint8_t *buf, size_t len);

/* Successful training steps since init (0 for NULL or an invalid handle). */
uint64_t egd_trainer_steps(egd_trainer *t);

/* Static English name of a status code, e.g. "checkpoint: corrupted". */
const char *egd_status_str(egd_status s);

#ifdef __cplusplus
}
#endif

#endif /* EGD_H */
