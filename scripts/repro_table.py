#!/usr/bin/env python3
"""Prints the README's reproduction tables from the JSON files that
scripts/reproduce.sh leaves in runs/repro/ (or the directory given as the
first argument): epochs to > 95 % test accuracy per cell against the paper
(cells not run yet are listed after the table; --all prints them as rows),
and with --times the median time per training step per method and task (the
runs' own ms_per_step: only meaningful when they ran on a quiet machine).
Standard library only."""
import json
import pathlib
import statistics
import sys

FLAGS = {a for a in sys.argv[1:] if a.startswith("--")}
ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
OUT = pathlib.Path(ARGS[0]) if ARGS else pathlib.Path(__file__).resolve().parent.parent / "runs" / "repro"

# The paper's epochs to > 95 % test (Tables 1-4); None: not in the paper.
PAPER = {
    ("add", 79): {"sgd": 10099, "egd": 222, "rsvd128": 224, "rsvd64": 397, "colnorm": 863},
    ("add", 97): {"sgd": 5392, "egd": 116, "rsvd128": 139, "rsvd64": 237, "colnorm": 328},
    ("add", 127): {"sgd": 3293, "egd": 62, "rsvd128": 76, "rsvd64": 146, "colnorm": 133},
    ("mul", 79): {"sgd": 10116, "egd": 221, "rsvd128": 233, "rsvd64": 371, "colnorm": 814},
    ("mul", 97): {"sgd": 5715, "egd": 107, "rsvd128": 126, "rsvd64": 233, "colnorm": 328},
    ("mul", 127): {"sgd": 3261, "egd": 65, "rsvd128": 74, "rsvd64": 142, "colnorm": 142},
    ("parity", 2): {"sgd": 7873, "egd": 109},
    ("parity", 3): {"sgd": 1784, "egd": 115},
    ("parity", 4): {"sgd": 5273, "egd": 254},
}
# (key, label, list-name pattern, optimizer in the results)
METHODS = [
    ("sgd", "SGD (vanilla)", "sgd-{t}", "sgd"),
    ("egd", "EGD", "egd-{t}", "egd"),
    ("rsvd128", "EGD-RSVD r = 128", "rsvd128-{t}", "egd-rsvd"),
    ("rsvd64", "EGD-RSVD r = 64", "rsvd64-{t}", "egd-rsvd"),
    ("colnorm", "column norm", "colnorm-{t}", "colnorm"),
    ("ns5", "Newton–Schulz ×5 (ours)", "ns5-{t}", "egd-ns"),
    ("grokfast", "Grokfast-EMA (ours)", "grokfast-{t}", "grokfast"),
]
PARITY_LISTS = {"sgd": "parity{k}-sgd", "egd": "parity{k}-egd", "ns5": "parity{k}-egd", "grokfast": "parity{k}-grokfast"}
OP = {"add": "+", "mul": "·"}


def runs(name, optimizer):
    path = OUT / f"{name}.json"
    if not path.exists() or path.stat().st_size == 0:
        return None
    data = json.loads(path.read_text())
    data = data if isinstance(data, list) else [data]
    return [r for r in data if r["optimizer"] == optimizer] or None


def cells():
    for (kind, p), paper in PAPER.items():
        if kind == "parity":
            task = f"parity n = {({2: 400, 3: 100, 4: 50})[p]}, k = {p}"
            for key, label, _, opt in METHODS:
                if key in PARITY_LISTS:
                    yield task, (kind, p), key, label, paper.get(key), runs(PARITY_LISTS[key].format(k=p), opt)
        else:
            task = f"(a {OP[kind]} b) mod {p}"
            for key, label, pattern, opt in METHODS:
                yield task, (kind, p), key, label, paper.get(key), runs(pattern.format(t=f"{kind}-{p}"), opt)


def grok_cell(rs, paper):
    cap = rs[0]["epochs_cap"]
    epochs = [r["grok_epoch"] if r["grok_epoch"] is not None else float("inf") for r in rs]
    grokked = sum(e != float("inf") for e in epochs)
    med = statistics.median_low(epochs)
    fmt = lambda e: f"> {cap}" if e == float("inf") else str(e)
    if len(rs) == 1:
        cell = f"**{fmt(epochs[0])}** (seed {rs[0]['seed']}), {grokked}/1 grokked"
    else:
        cell = f"**{fmt(med)}** ({fmt(min(epochs))}–{fmt(max(epochs))}), {grokked}/{len(rs)} grokked"
    delta = ""
    if paper is not None and med != float("inf") and grokked * 2 > len(rs):
        d = (med - paper) / paper
        delta = f"{d:+.0%}" + (" ⚠" if abs(d) > 0.25 else "")
    return cell, delta


step_ms = {}
missing = []
print("| task | method | paper | measured: median (min–max), grokked | Δ vs paper |")
print("|---|---|---:|---|---:|")
for task, tkey, key, label, paper, rs in cells():
    pap = "–" if paper is None else str(paper)
    if not rs:
        missing.append(f"{task}: {label}")
        if "--all" in FLAGS:
            print(f"| {task} | {label} | {pap} | (not run) | |")
        continue
    cell, delta = grok_cell(rs, paper)
    print(f"| {task} | {label} | {pap} | {cell} | {delta} |")
    ms = [r["ms_per_step"] for r in rs if r.get("ms_per_step") is not None]
    if ms:
        col = f"k = {tkey[1]}" if tkey[0] == "parity" else f"p = {tkey[1]}"
        step_ms.setdefault(key, {}).setdefault(col, []).extend(ms)

if missing and "--all" not in FLAGS:
    print()
    print(f"Not run yet ({len(missing)} cells): " + "; ".join(missing) + ".")
if "--times" not in FLAGS:
    sys.exit(0)
cols = ["p = 79", "p = 97", "p = 127", "k = 2", "k = 3", "k = 4"]
print()
print("| method | " + " | ".join(f"ms/step, {c}" for c in cols) + " |")
print("|---|" + "---:|" * len(cols))
for key, label, _, _ in METHODS:
    if key not in step_ms:
        continue
    row = [f"{statistics.median(step_ms[key][c]):.2f}" if c in step_ms[key] else "–" for c in cols]
    print(f"| {label} | " + " | ".join(row) + " |")
