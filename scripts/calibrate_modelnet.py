"""Calibration sweep of the SynthModelNet teaching study (issue #8): does the stand-in
leave headroom between the paper's rows and its controls?

Runs Table 1's ModelNet rows at teaching scale -- EfficientNet-Lite0 ImageNet under I,O /
I,O,mu,sigma / I,O,mu,sigma,W,b / whole, the same frozen scopes with a random backbone,
and scratch -- for the given seeds and generator options, into a results store, then
prints the table. Usage:

    python scripts/calibrate_modelnet.py --store runs/calibration --seeds 0 1 2 \
        --options '{"view": "partial", "noise": 0.01}'
"""
from __future__ import annotations

import argparse
import json

from i2p.experiments import load_runs, preset, sweep

ROWS = [("io", "pre"), ("io_stats", "pre"), ("io_bn", "pre"), ("whole", "pre"), ("scratch", None),
        ("io", "random"), ("io_stats", "random"), ("io_bn", "random")]


def configs(seeds: list[int], options: dict, epochs: int | None, tag: str):
    out = []
    for scope, source in ROWS:
        base = preset(f"teaching/t1.{scope}.modelnet40").config
        over = {"seeds": seeds, "data.options": options, "name": f"calib{tag}/{scope}/{source or 'none'}"}
        if source == "random":  # a control, not the paper's cell
            over.update({"model.source": "random", "cell": None})
        if epochs:
            over["recipe.epochs"] = epochs
        out.append(base.with_overrides(over))
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--store", default="runs/calibration")
    p.add_argument("--seeds", type=int, nargs="+", default=[0])
    p.add_argument("--options", default="{}", help="SynthModelNet generator options (JSON)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--tag", default="")
    a = p.parse_args()
    sweep(configs(a.seeds, json.loads(a.options), a.epochs, a.tag), store=a.store)
    df = load_runs(store=a.store)
    df = df[df["name"].str.startswith(f"calib{a.tag}/")]
    print(df.groupby("name")["metric"].agg(["mean", "std", "count"]).round(3).to_string())


if __name__ == "__main__":
    main()
