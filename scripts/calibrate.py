"""Calibration sweep of a teaching stand-in (issue #8): does it leave headroom between
the paper's rows and its controls?

Runs Table 1's rows of one data set at teaching scale -- the teaching presets (offline
ImageNet EfficientNet-Lite0) under I,O / I,O,mu,sigma / I,O,mu,sigma,W,b / whole, the same
frozen scopes with a random backbone (the control), and scratch -- for the given seeds and
generator options, into a results store, then prints mean, std and count per row. Usage:

    python scripts/calibrate.py --dataset modelnet40 --store runs/calibration --seeds 0 1 2 \
        --options '{"view": "partial", "noise": 0.01}' --tag v2
"""
from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from i2p.experiments import load_runs, preset, sweep

ROWS = [("io", "pre"), ("io_stats", "pre"), ("io_bn", "pre"), ("whole", "pre"), ("scratch", None),
        ("io", "random"), ("io_stats", "random"), ("io_bn", "random")]


def configs(dataset: str, seeds: list[int], options: dict, epochs: int | None, tag: str, lr: float | None = None,
            rows: list[str] | None = None, precision: str | None = None, extra: list[str] | None = None):
    out = []
    for scope, source in ROWS:
        if rows and f"{scope}/{source or 'none'}" not in rows:
            continue
        base = preset(f"teaching/t1.{scope}.{dataset}").config
        over = {"seeds": seeds, "data.options": options, "name": f"calib{tag}/{scope}/{source or 'none'}"}
        if source == "random":  # a control, not the paper's cell
            over.update({"model.source": "random", "cell": None})
        if epochs:
            over["recipe.epochs"] = epochs
        if lr:
            over["recipe.lr"] = lr
        if precision:
            over["recipe.precision"] = precision
        out.append(base.with_overrides(over).with_overrides(extra or []))
    return out


def table(store: str, tags: list[str]) -> str:
    """Markdown: one row per calibration row, one column per tag, mean ± std (seeds) in %."""
    df = load_runs(store=store)
    df = df[df["name"].fillna("").str.startswith("calib")]
    df = df.assign(tag=df["name"].str.split("/").str[0].str.removeprefix("calib"),
                   row=df["name"].str.split("/", n=1).str[1])
    g = df.groupby(["tag", "row"])["metric"]
    mean, std, n = g.mean() * 100, g.std() * 100, g.count()
    lines = ["| row | " + " | ".join(tags) + " |", "| --- |" + " --- |" * len(tags)]
    for scope, source in ROWS:
        r = f"{scope}/{source or 'none'}"
        cells = [("–" if (t, r) not in mean else f"{mean[(t, r)]:.1f}"
                  + (f" ± {std[(t, r)]:.1f} ({n[(t, r)]})" if n[(t, r)] > 1 else "")) for t in tags]
        lines.append(f"| {r} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dataset", default="modelnet40", choices=["modelnet40", "s3dis", "semantickitti"])
    p.add_argument("--store", default="runs/calibration")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--options", default="{}", help="the stand-in's generator options (JSON)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--lr", type=float, default=None)
    p.add_argument("--rows", nargs="*", default=None, help="only these rows, e.g. whole/pre scratch/none io/random")
    p.add_argument("--tag", default="")
    p.add_argument("--precision", default=None, choices=["auto", "fp32", "bf16", "fp16"],
                   help="recipe.precision of every run (default: the presets' auto)")
    p.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                   help="any other config override, e.g. recipe.eval_every=5 recipe.schedule=warmup_cosine")
    p.add_argument("--report", action="store_true", help="only print the markdown table of the tag's finished runs")
    p.add_argument("--export", default=None, help="copy the tag's records and configs (no checkpoints) to this folder")
    p.add_argument("--table", nargs="+", default=None, metavar="TAG", help="only print these tags side by side")
    a = p.parse_args()
    if a.table:
        print(table(a.store, a.table))
        return
    if not a.report:
        sweep(configs(a.dataset, a.seeds, json.loads(a.options), a.epochs, a.tag, a.lr, a.rows, a.precision, a.set),
              store=a.store)
    df = load_runs(store=a.store)
    df = df[df["name"].str.startswith(f"calib{a.tag}/")]
    stats = df.groupby("name")["metric"].agg(["mean", "std", "count"])
    print("| row | mean | std | seeds |\n| --- | --- | --- | --- |")
    for name, r in stats.iterrows():
        std = f"{100 * r['std']:.1f}" if r["count"] > 1 else "–"
        print(f"| {name.split('/', 1)[1]} | {100 * r['mean']:.1f} | {std} | {int(r['count'])} |")
    if a.export:
        for folder in df["folder"]:
            dest = Path(a.export) / Path(folder).name
            dest.mkdir(parents=True, exist_ok=True)
            for f in ("record.json", "config.yaml"):
                shutil.copy2(Path(folder) / f, dest / f)


if __name__ == "__main__":
    main()
