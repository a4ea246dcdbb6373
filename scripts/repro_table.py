#!/usr/bin/env python3
"""Prints the README's reproduction table from the JSON lines that
scripts/reproduce.sh leaves in runs/repro/ (or the directory given as the
first argument); standard library only."""
import json
import pathlib
import statistics
import sys

OUT = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).resolve().parent.parent / "runs" / "repro"
ROWS = [
    ("(a + b) mod 127", "EGD", 62, "egd-add-127.json", "egd"),
    ("(a · b) mod 127", "EGD", 65, "egd-mul-127.json", "egd"),
    ("(a + b) mod 97", "EGD", 116, "egd-add-97.json", "egd"),
    ("(a · b) mod 97", "EGD", 107, "egd-mul-97.json", "egd"),
    ("(a + b) mod 127", "column norm", 133, "colnorm-add-127.json", "colnorm"),
    ("(a + b) mod 127", "SGD (vanilla)", 3293, "sgd-add-127.json", "sgd"),
    ("(a + b) mod 97", "SGD (vanilla)", 5392, "compare-add-97.json", "sgd"),
    ("parity n = 100, k = 3", "SGD", 1784, "parity-3.json", "sgd"),
    ("parity n = 100, k = 3", "EGD", 115, "parity-3.json", "egd"),
]


def runs(name, optimizer):
    path = OUT / name
    if not path.exists() or path.stat().st_size == 0:
        return None
    data = json.loads(path.read_text())
    data = data if isinstance(data, list) else [data]
    return [r for r in data if r["optimizer"] == optimizer]


print("| task | optimizer | paper | measured: median (min–max), grokked | Δ vs paper |")
print("|---|---|---:|---|---:|")
for task, label, paper, name, opt in ROWS:
    rs = runs(name, opt)
    if not rs:
        print(f"| {task} | {label} | {paper} | (not run) | |")
        continue
    cap = rs[0]["epochs_cap"]
    epochs = [r["grok_epoch"] if r["grok_epoch"] is not None else float("inf") for r in rs]
    grokked = sum(e != float("inf") for e in epochs)
    med = statistics.median_low(epochs)
    fmt = lambda e: f"> {cap}" if e == float("inf") else str(e)
    if len(rs) == 1:
        cell = f"**{fmt(epochs[0])}** (seed {rs[0]['seed']})"
    else:
        cell = f"**{fmt(med)}** ({fmt(min(epochs))}–{fmt(max(epochs))}), {grokked}/{len(rs)} grokked"
    delta = "" if med == float("inf") or grokked < len(rs) / 2 else f"{(med - paper) / paper:+.0%}"
    print(f"| {task} | {label} | {paper} | {cell} | {delta} |")
