#!/usr/bin/env python3
"""Turns one side_by_side.sh run into the README's Markdown table of ratios.

Usage: tabulate.py OUT_DIR CRITERION_DIR [V3_CRITERION_DIR]

Reads OUT_DIR/reference-steps.jsonl, reference-grok.jsonl, egd-grok.jsonl
(and egd-v3-grok.jsonl with V3_CRITERION_DIR: the x86-64-v3 build's figures,
printed as extra columns), written by side_by_side.sh, and criterion's per-benchmark
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
    v3_crit = sys.argv[3] if len(sys.argv) > 3 else None
    ref_steps = jsonl(f"{out}/reference-steps.jsonl")
    ref_grok = jsonl(f"{out}/reference-grok.jsonl")
    egd_grok = jsonl(f"{out}/egd-grok.jsonl")
    v3_grok = jsonl(f"{out}/egd-v3-grok.jsonl")
    crit_ms = criterion_medians(crit)
    v3_ms = criterion_medians(v3_crit) if v3_crit else {}

    def ref(what, matrix=None):
        for r in ref_steps:
            if r["what"] == what and r.get("matrix") == matrix:
                return r["ms"]
        print(f"missing reference figure: {what} {matrix or ''}", file=sys.stderr)
        return None

    def egd(full_id, ms=crit_ms):
        if full_id not in ms:
            print(f"missing criterion figure: {full_id}", file=sys.stderr)
        return ms.get(full_id)

    def v3(full_id):
        return egd(full_id, v3_ms) if v3_crit else None

    # (label, reference, portable egd, x86-64-v3 egd)

    rows = [
        (
            "EGD direction, W1 gradient 254×512 (reference: SVD + `U diag(1/s) Uᵀ G`; egd: polar)",
            ref("egd_direction", "w1_grad"),
            egd("step/paper_p127/polar_w1/512"),
            v3("step/paper_p127/polar_w1/512"),
        ),
        (
            "SVD alone, W1 gradient (reference) / egd Jacobi polar, Gaussian 512×254",
            ref("svd", "w1_grad"),
            egd("polar/f32/egd_jacobi/512x254"),
            v3("polar/f32/egd_jacobi/512x254"),
        ),
        (
            "128×128 Gaussian: SVD (reference) / polar (egd)",
            ref("svd", "gaussian_128x128"),
            egd("polar/f32/egd_jacobi/128x128"),
            v3("polar/f32/egd_jacobi/128x128"),
        ),
        (
            "64×64 Gaussian: SVD (reference) / polar (egd)",
            ref("svd", "gaussian_64x64"),
            egd("polar/f32/egd_jacobi/64x64"),
            v3("polar/f32/egd_jacobi/64x64"),
        ),
        (
            "EGD training step, batch 512",
            ref("egd_step"),
            egd("step/paper_p127/egd_step/512"),
            v3("step/paper_p127/egd_step/512"),
        ),
        (
            "SGD training step, batch 512",
            ref("sgd_step"),
            egd("step/paper_p127/sgd_step/512"),
            v3("step/paper_p127/sgd_step/512"),
        ),
        (
            "EGD-RSVD r = 128 training step",
            ref("egd_rsvd128_step"),
            egd("step/paper_p127/egd_rsvd128_step/512"),
            v3("step/paper_p127/egd_rsvd128_step/512"),
        ),
        (
            "EGD-RSVD r = 64 training step",
            ref("egd_rsvd64_step"),
            egd("step/paper_p127/egd_rsvd64_step/512"),
            v3("step/paper_p127/egd_rsvd64_step/512"),
        ),
    ]
    v3h = " | egd, x86-64-v3 build | v3 / reference" if v3_crit else ""
    v3s = "|---:|---:" if v3_crit else ""
    print(f"| p = 127 add, f32, one core (`taskset -c 0`) | reference (JAX, LAPACK) | egd | egd / reference{v3h} |")
    print(f"|---|---:|---:|---:{v3s}|")
    for label, r, e, e3 in rows:
        extra = f" | {fmt_ms(e3)} | {ratio(e3, r)}" if v3_crit else ""
        print(f"| {label} | {fmt_ms(r)} | {fmt_ms(e)} | {ratio(e, r)}{extra} |")
    faer = [
        (
            n,
            egd(f"polar/f32/faer_svd_uvt/{n}"),
            egd(f"polar/f32/egd_jacobi/{n}"),
            v3(f"polar/f32/egd_jacobi/{n}"),
        )
        for n in ("512x254", "128x128", "64x64")
    ]
    print()
    v3h = " | egd, x86-64-v3 build | v3 / faer" if v3_crit else ""
    print(f"| f32, one core | faer 0.24 SVD + UVᵀ | egd Jacobi polar | egd / faer{v3h} |")
    print(f"|---|---:|---:|---:{v3s}|")
    for n, f, e, e3 in faer:
        extra = f" | {fmt_ms(e3)} | {ratio(e3, f)}" if v3_crit else ""
        print(f"| {n} | {fmt_ms(f)} | {fmt_ms(e)} | {ratio(e, f)}{extra} |")

    def walls(rows):
        w = [r["grok_wall_s"] for r in rows if r.get("grok_wall_s") is not None]
        return w, [r.get("grok_epoch") for r in rows]

    rw, re_ = walls(ref_grok)
    ew, ee = walls(egd_grok)
    vw, ve = walls(v3_grok)
    rm = statistics.median(rw) if rw else None
    em = statistics.median(ew) if ew else None
    vm = statistics.median(vw) if vw else None

    def secs(w, m):
        return f"{', '.join(f'{x:.1f}' for x in w)} ({m and f'{m:.1f}'})"

    print()
    v3h = " | egd, x86-64-v3 build | v3 / reference" if v3_crit else ""
    print(f"| wall time to grok (> 95 % test), p = 127 add, default threads | reference | egd | egd / reference (medians){v3h} |")
    print(f"|---|---:|---:|---:{v3s}|")
    extra = f" | {secs(vw, vm)} | {ratio(vm, rm)}" if v3_crit else ""
    print(f"| seconds per seed (median) | {secs(rw, rm)} | {secs(ew, em)} | {ratio(em, rm)}{extra} |")
    extra = f" | {', '.join(map(str, ve))} | " if v3_crit else ""
    print(f"| grok epoch per seed | {', '.join(map(str, re_))} | {', '.join(map(str, ee))} | {extra}|")

if __name__ == "__main__":
    main()
