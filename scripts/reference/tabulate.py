#!/usr/bin/env python3
"""Turns one side_by_side.sh run into the README's Markdown table of ratios.

Usage: tabulate.py OUT_DIR CRITERION_DIR

Reads OUT_DIR/reference-steps.jsonl, reference-grok.jsonl, egd-grok.jsonl
(written by side_by_side.sh) and criterion's per-benchmark
`new/estimates.json` under CRITERION_DIR (median point estimate, in ns),
matched by the benchmark's full id in `new/benchmark.json`. A missing figure
is printed as "–" and named on stderr rather than guessed.
"""

import json
import pathlib
import statistics
import sys


def jsonl(path):
    p = pathlib.Path(path)
    if not p.exists():
        return []
    return [json.loads(line) for line in p.read_text().splitlines() if line.strip()]


def criterion_medians(root):
    """full id → median in ms, over every benchmark criterion has on disk."""
    out = {}
    for bench in pathlib.Path(root).glob("**/new/benchmark.json"):
        meta = json.loads(bench.read_text())
        est = json.loads((bench.parent / "estimates.json").read_text())
        out[meta["full_id"]] = est["median"]["point_estimate"] / 1e6
    return out


def fmt_ms(x):
    if x is None:
        return "–"
    return f"{x:.2f} ms" if x >= 1 else f"{x * 1e3:.0f} µs"


def ratio(a, b):
    return "–" if a is None or b is None else f"**{a / b:.2f}×**"


def main():
    out, crit = sys.argv[1], sys.argv[2]
    ref_steps = jsonl(f"{out}/reference-steps.jsonl")
    ref_grok = jsonl(f"{out}/reference-grok.jsonl")
    egd_grok = jsonl(f"{out}/egd-grok.jsonl")
    crit_ms = criterion_medians(crit)

    def ref(what, matrix=None):
        for r in ref_steps:
            if r["what"] == what and r.get("matrix") == matrix:
                return r["ms"]
        print(f"missing reference figure: {what} {matrix or ''}", file=sys.stderr)
        return None

    def egd(full_id):
        if full_id not in crit_ms:
            print(f"missing criterion figure: {full_id}", file=sys.stderr)
        return crit_ms.get(full_id)

    rows = [
        (
            "EGD direction, W1 gradient 254×512 (reference: SVD + `U diag(1/s) Uᵀ G`; egd: polar)",
            ref("egd_direction", "w1_grad"),
            egd("step/paper_p127/polar_w1/512"),
        ),
        (
            "SVD alone, W1 gradient (reference) / egd Jacobi polar, Gaussian 512×254",
            ref("svd", "w1_grad"),
            egd("polar/f32/egd_jacobi/512x254"),
        ),
        (
            "128×128 Gaussian: SVD (reference) / polar (egd)",
            ref("svd", "gaussian_128x128"),
            egd("polar/f32/egd_jacobi/128x128"),
        ),
        (
            "64×64 Gaussian: SVD (reference) / polar (egd)",
            ref("svd", "gaussian_64x64"),
            egd("polar/f32/egd_jacobi/64x64"),
        ),
        ("EGD training step, batch 512", ref("egd_step"), egd("step/paper_p127/egd_step/512")),
        ("SGD training step, batch 512", ref("sgd_step"), egd("step/paper_p127/sgd_step/512")),
        (
            "EGD-RSVD r = 128 training step",
            ref("egd_rsvd128_step"),
            egd("step/paper_p127/egd_rsvd128_step/512"),
        ),
        (
            "EGD-RSVD r = 64 training step",
            ref("egd_rsvd64_step"),
            egd("step/paper_p127/egd_rsvd64_step/512"),
        ),
    ]
    print("| p = 127 add, f32, one core (`taskset -c 0`) | reference (JAX, LAPACK) | egd | egd / reference |")
    print("|---|---:|---:|---:|")
    for label, r, e in rows:
        print(f"| {label} | {fmt_ms(r)} | {fmt_ms(e)} | {ratio(e, r)} |")
    faer = [
        (n, egd(f"polar/f32/faer_svd_uvt/{n}"), egd(f"polar/f32/egd_jacobi/{n}"))
        for n in ("512x254", "128x128", "64x64")
    ]
    print()
    print("| f32, one core | faer 0.24 SVD + UVᵀ | egd Jacobi polar | egd / faer |")
    print("|---|---:|---:|---:|")
    for n, f, e in faer:
        print(f"| {n} | {fmt_ms(f)} | {fmt_ms(e)} | {ratio(e, f)} |")

    def walls(rows):
        w = [r["grok_wall_s"] for r in rows if r.get("grok_wall_s") is not None]
        return w, [r.get("grok_epoch") for r in rows]

    rw, re_ = walls(ref_grok)
    ew, ee = walls(egd_grok)
    print()
    print("| wall time to grok (> 95 % test), p = 127 add, default threads | reference | egd | egd / reference (medians) |")
    print("|---|---:|---:|---:|")
    rm = statistics.median(rw) if rw else None
    em = statistics.median(ew) if ew else None
    print(
        f"| seconds per seed (median) | {', '.join(f'{x:.1f}' for x in rw)} ({rm and f'{rm:.1f}'}) "
        f"| {', '.join(f'{x:.1f}' for x in ew)} ({em and f'{em:.1f}'}) | {ratio(em, rm)} |"
    )
    print(f"| grok epoch per seed | {', '.join(map(str, re_))} | {', '.join(map(str, ee))} | |")


if __name__ == "__main__":
    main()
