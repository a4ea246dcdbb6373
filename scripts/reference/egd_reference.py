#!/usr/bin/env python3
"""The paper's reference protocol in JAX, written for side-by-side timing with egd.

This is our own implementation of the protocol the EGD paper's reference code
follows (Pasand & Dohmatob, ICLR 2026; see the README's "Reproduction" section):
modular arithmetic `(a op b) mod p` on all p² pairs, one seeded permutation,
the first ⌊0.5 p²⌋ pairs train and the rest test; two-hot input of length 2p;
`logits = ReLU(x W1 + b1) W2`, hidden 512, no output bias; He init; mean
softmax cross-entropy + 0.5 · wd · (‖W1‖² + ‖W2‖²), wd = 1e-4; plain SGD,
lr 0.7, batch 512, ⌊N_train / 512⌋ batches per epoch, reshuffled every epoch.
EGD replaces W1's gradient G (2p × 512) by `U diag(1/max(s, 1e-6)) Uᵀ G` with
`U, s = svd(G)` (jnp.linalg.svd, LAPACK); EGD-RSVD takes U and s from a rank-r
randomized SVD (Gaussian sketch, q power iterations with a QR after every
product, no oversampling). The whole training and test sets are evaluated
after every epoch; "grokked" is the first epoch with test accuracy > 0.95.

Modes (each prints one JSON object per line on stdout):

  steps  median milliseconds of one jitted training step per optimizer, and of
         jnp.linalg.svd / the whole EGD direction at the paper's gradient shape
         and at 128² and 64² (compile excluded, `block_until_ready` after each)
  grok   one training run; wall seconds from the start of the process's work
         (data, init and compilation included) to the evaluation of the grok
         epoch, as a user of the script experiences it
  parity one run of the paper's sparse-parity protocol (`--k 2|3|4`, its own
         settings below), epochs to > 95 % test accuracy: for checking a
         parity cell of the reproduction table against egd's

Sparse parity (the paper's reference settings): x uniform in {-1, +1}^n, y the
product of the first k bits; 2000 train and 10000 test examples; f(x) =
ReLU(x W1 + b1) · w2 (scalar), W1 and b1 ~ N(0, 2/n), w2 ~ N(0, 2/width); MSE
on ±1 labels + 0.5 · wd · (‖W1‖² + ‖w2‖²); SGD, batch 32, 62 batches per epoch;
accuracy sign(f(x)) = y; EGD on W1 (n × width) with the same direction as above.

Thread count is whatever JAX/XLA picks; pin with `taskset -c 0` for one core.
"""

import argparse
import json
import os
import statistics
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np

HIDDEN = 512
LR = 0.7
WD = 1e-4
BATCH = 512
EPS = 1e-6
TRAIN_FRACTION = 0.5
GROK = 0.95


def make_data(p, op, seed):
    a, b = np.meshgrid(np.arange(p), np.arange(p), indexing="ij")
    a, b = a.ravel(), b.ravel()
    y = (a + b) % p if op == "add" else (a * b) % p
    x = np.zeros((p * p, 2 * p), dtype=np.float32)
    x[np.arange(p * p), a] = 1.0
    x[np.arange(p * p), p + b] = 1.0
    perm = np.random.default_rng(seed).permutation(p * p)
    n_train = int(TRAIN_FRACTION * p * p)
    tr, te = perm[:n_train], perm[n_train:]
    return (jnp.asarray(x[tr]), jnp.asarray(y[tr]), jnp.asarray(x[te]), jnp.asarray(y[te]))


def init_params(key, p):
    k1, k2 = jax.random.split(key)
    w1 = jax.random.normal(k1, (2 * p, HIDDEN), jnp.float32) * jnp.sqrt(2.0 / (2 * p))
    b1 = jnp.zeros((HIDDEN,), jnp.float32)
    w2 = jax.random.normal(k2, (HIDDEN, p), jnp.float32) * jnp.sqrt(2.0 / HIDDEN)
    return (w1, b1, w2)


def logits_of(params, x):
    w1, b1, w2 = params
    return jax.nn.relu(x @ w1 + b1) @ w2


def loss_of(params, x, y):
    w1, _, w2 = params
    logp = jax.nn.log_softmax(logits_of(params, x))
    ce = -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))
    return ce + 0.5 * WD * (jnp.sum(w1 * w1) + jnp.sum(w2 * w2))


def egd_direction(g):
    """`U diag(1/max(s, eps)) Uᵀ G` from LAPACK's thin SVD."""
    u, s, _ = jnp.linalg.svd(g, full_matrices=False)
    return (u / jnp.maximum(s, EPS)) @ (u.T @ g)


def rsvd_direction(g, key, rank, power_iters):
    """The same direction from a rank-`rank` randomized SVD of `g` (m × n)."""
    omega = jax.random.normal(key, (g.shape[1], rank), g.dtype)
    q = omega
    for _ in range(power_iters):
        q, _ = jnp.linalg.qr(g @ q)
        q, _ = jnp.linalg.qr(g.T @ q)
    u, s, _ = jnp.linalg.svd(g @ q, full_matrices=False)
    return (u / jnp.maximum(s, EPS)) @ (u.T @ g)


def make_step(optimizer, rank, power_iters):
    def step(params, x, y, key):
        grads = jax.grad(loss_of)(params, x, y)
        g1, gb1, g2 = grads
        if optimizer == "egd":
            g1 = egd_direction(g1)
        elif optimizer == "egd-rsvd":
            g1 = rsvd_direction(g1, key, rank, power_iters)
        w1, b1, w2 = params
        return (w1 - LR * g1, b1 - LR * gb1, w2 - LR * g2)

    return jax.jit(step)


@jax.jit
def accuracy(params, x, y):
    return jnp.mean(jnp.argmax(logits_of(params, x), axis=1) == y)


def median_ms(fn, args, reps):
    jax.block_until_ready(fn(*args))  # compile and warm up
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def mode_steps(args):
    p = args.p
    x_tr, y_tr, _, _ = make_data(p, args.op, args.seed)
    params = init_params(jax.random.PRNGKey(args.seed), p)
    x, y = x_tr[:BATCH], y_tr[:BATCH]
    key = jax.random.PRNGKey(args.seed + 1)
    for name, opt, rank in (
        ("sgd_step", "sgd", 0),
        ("egd_step", "egd", 0),
        ("egd_rsvd128_step", "egd-rsvd", 128),
        ("egd_rsvd64_step", "egd-rsvd", 64),
    ):
        step = make_step(opt, rank, args.power_iters)
        ms = median_ms(step, (params, x, y, key), args.reps)
        print(json.dumps({"what": name, "p": p, "batch": BATCH, "ms": ms}), flush=True)

    g = jax.grad(loss_of)(params, x, y)[0]  # the paper's W1 gradient, 2p × 512
    svd = jax.jit(lambda m: jnp.linalg.svd(m, full_matrices=False))
    direction = jax.jit(egd_direction)
    rng = np.random.default_rng(args.seed)
    shapes = [("w1_grad", g)] + [
        (f"gaussian_{n}x{n}", jnp.asarray(rng.standard_normal((n, n)), jnp.float32))
        for n in (128, 64)
    ]
    for label, m in shapes:
        rows, cols = m.shape
        for what, fn in (("svd", svd), ("egd_direction", direction)):
            ms = median_ms(fn, (m,), args.reps)
            print(
                json.dumps({"what": what, "matrix": label, "shape": [rows, cols], "ms": ms}),
                flush=True,
            )


def mode_grok(args):
    t_start = time.perf_counter()
    p = args.p
    x_tr, y_tr, x_te, y_te = make_data(p, args.op, args.seed)
    params = init_params(jax.random.PRNGKey(args.seed), p)
    step = make_step(args.optimizer, args.rank, args.power_iters)
    n_batches = x_tr.shape[0] // BATCH
    shuffle = np.random.default_rng(args.seed + 12345)
    base_key = jax.random.PRNGKey(args.seed + 1)
    train_s = 0.0
    grok_epoch, grok_wall = None, None
    for epoch in range(1, args.epochs + 1):
        order = shuffle.permutation(x_tr.shape[0])
        t0 = time.perf_counter()
        for i in range(n_batches):
            idx = order[i * BATCH : (i + 1) * BATCH]
            key = jax.random.fold_in(base_key, (epoch - 1) * n_batches + i)
            params = step(params, x_tr[idx], y_tr[idx], key)
        jax.block_until_ready(params)
        train_s += time.perf_counter() - t0
        train_acc = float(accuracy(params, x_tr, y_tr))
        test_acc = float(accuracy(params, x_te, y_te))
        if not args.quiet:
            print(f"epoch {epoch}: train {train_acc:.4f} test {test_acc:.4f}", file=sys.stderr)
        if test_acc > GROK:
            grok_epoch, grok_wall = epoch, time.perf_counter() - t_start
            break
    print(
        json.dumps(
            {
                "what": "grok",
                "optimizer": args.optimizer,
                "rank": args.rank if args.optimizer == "egd-rsvd" else None,
                "p": p,
                "op": args.op,
                "seed": args.seed,
                "grok_epoch": grok_epoch,
                "grok_wall_s": grok_wall,
                "train_s": train_s,
                "ms_per_step": 1e3 * train_s / max(1, epoch * n_batches),
                "cores": len(os.sched_getaffinity(0)),
                "jax": jax.__version__,
            }
        ),
        flush=True,
    )


# k -> (n, width, lr, wd, epoch cap)
PARITY = {
    2: (400, 50, 0.01, 1e-3, 10100),
    3: (100, 100, 0.0416239, 1e-2, 2000),
    4: (50, 100, 0.0230841, 1e-2, 6000),
}


def mode_parity(args):
    n, width, lr, wd, cap = PARITY[args.k]
    rng = np.random.default_rng(args.seed)
    x = rng.choice(np.array([-1.0, 1.0], dtype=np.float32), size=(12000, n))
    y = np.prod(x[:, : args.k], axis=1)
    x_tr, y_tr = jnp.asarray(x[:2000]), jnp.asarray(y[:2000])
    x_te, y_te = jnp.asarray(x[2000:]), jnp.asarray(y[2000:])
    k1, k2, k3 = jax.random.split(jax.random.PRNGKey(args.seed), 3)
    params = (
        jax.random.normal(k1, (n, width), jnp.float32) * jnp.sqrt(2.0 / n),
        jax.random.normal(k2, (width,), jnp.float32) * jnp.sqrt(2.0 / n),
        jax.random.normal(k3, (width,), jnp.float32) * jnp.sqrt(2.0 / width),
    )

    def out(params, x):
        w1, b1, w2 = params
        return jax.nn.relu(x @ w1 + b1) @ w2

    def loss(params, x, y):
        w1, _, w2 = params
        return jnp.mean((out(params, x) - y) ** 2) + 0.5 * wd * (jnp.sum(w1 * w1) + jnp.sum(w2 * w2))

    @jax.jit
    def step(params, x, y):
        g1, gb1, g2 = jax.grad(loss)(params, x, y)
        if args.optimizer == "egd":
            g1 = egd_direction(g1)
        w1, b1, w2 = params
        return (w1 - lr * g1, b1 - lr * gb1, w2 - lr * g2)

    @jax.jit
    def acc(params, x, y):
        return jnp.mean(jnp.sign(out(params, x)) == y)

    shuffle = np.random.default_rng(args.seed + 12345)
    grok_epoch, fit_epoch = None, None
    epochs = min(args.epochs, cap) if args.epochs else cap
    for epoch in range(1, epochs + 1):
        order = shuffle.permutation(2000)
        for i in range(2000 // 32):
            idx = order[i * 32 : (i + 1) * 32]
            params = step(params, x_tr[idx], y_tr[idx])
        train_acc, test_acc = float(acc(params, x_tr, y_tr)), float(acc(params, x_te, y_te))
        if not args.quiet:
            print(f"epoch {epoch}: train {train_acc:.4f} test {test_acc:.4f}", file=sys.stderr)
        if fit_epoch is None and train_acc >= 0.99:
            fit_epoch = epoch
        if test_acc > GROK:
            grok_epoch = epoch
            break
    print(
        json.dumps(
            {
                "what": "parity",
                "k": args.k,
                "optimizer": args.optimizer,
                "seed": args.seed,
                "fit_epoch": fit_epoch,
                "grok_epoch": grok_epoch,
                "epochs_run": epoch,
                "final_train_acc": train_acc,
                "final_test_acc": test_acc,
                "jax": jax.__version__,
            }
        ),
        flush=True,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("mode", choices=["steps", "grok", "parity"])
    ap.add_argument("--p", type=int, default=127)
    ap.add_argument("--op", choices=["add", "mul"], default="add")
    ap.add_argument("--optimizer", choices=["sgd", "egd", "egd-rsvd"], default="egd")
    ap.add_argument("--rank", type=int, default=128)
    ap.add_argument("--power-iters", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=400)
    ap.add_argument("--reps", type=int, default=30)
    ap.add_argument("--k", type=int, choices=[2, 3, 4], default=3)
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args()
    if args.mode == "parity" and args.optimizer == "egd-rsvd":
        ap.error("parity: --optimizer sgd or egd")
    {"steps": mode_steps, "grok": mode_grok, "parity": mode_parity}[args.mode](args)


if __name__ == "__main__":
    main()
