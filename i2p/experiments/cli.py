"""``i2p train | eval | runs | presets``: experiments from the shell, the same way the
notebooks run them (:mod:`i2p.experiments.runs`)."""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from ..finetune import FinetuneScope
from .runs import DEFAULT_STORE

__all__ = ["add_experiment_commands"]

_TRAIN_HELP = """\
Run an experiment: a YAML config file or a preset (`i2p presets`), with key=value
overrides (dotted keys, YAML values), e.g.

  i2p train teaching/t1.io.modelnet40 seeds=[0] recipe.epochs=5
  i2p train my.yaml model.scope=io_stats data.fraction=0.05

Finished runs come back from the store, unfinished ones resume. Scopes (model.scope):
""" + "\n".join(f"  {s.value:9s} {s.label}" for s in FinetuneScope) + """

model.source: a 2D source (`i2p info`), a checkpoint path, or random (a random, frozen
backbone: the control of io / io_stats / io_bn). model.copy_axis: up (the data set's up
axis: a top-down view), x, y, z, or authors (the authors' layout, for paper scale). model.learnable (learn_t only): shared or
nonshared; model.t_init: default or random. recipe.precision: auto (bfloat16 where the
device runs it fast, else float32; the run records which and why), fp32, bf16, or fp16 (CUDA).
"""

_PRESETS_HELP = """\
Presets are the paper's table cells at two scales, named <scale>/<cell>:

  paper/<cell>     the real data set ($I2P_REAL_DATA/<official folder>, or data.root=...),
                   the paper's 2D source and recipe (Appendix 6.1), its trials (3 seeds;
                   Table 3: 20/15/10 subset draws), the authors' copy axis
  teaching/<cell>  the embedded stand-in (teaching profile), an offline 2D source
                   (EfficientNet-Lite0/1/2 stand in for ResNet-18/50/152; the note says
                   what stands in for what), minutes per run on 2 CPU cores

Cells are t<table>.<row>.<column>, e.g. t1.io.modelnet40, t3.pretrained.5pct, t7.io_stats.nst.
"""


def _config(target: str, overrides: list[str]):
    from .config import ExperimentConfig
    from .presets import preset

    if Path(target).is_file() or target.endswith((".yaml", ".yml")):
        cfg = ExperimentConfig.load(target)
        note = ""
    else:
        p = preset(target)
        cfg, note = p.config, p.note
    resolved = cfg.with_overrides(overrides)
    if resolved.model.source != cfg.model.source:  # the note speaks of the preset's source only
        note = ""
    return resolved, note


def _train(a: argparse.Namespace) -> int:
    from .runs import run, summarize

    cfg, note = _config(a.target, a.overrides)
    if note:
        print(f"[i2p] teaching scale: {note}")
    if a.dry_run:
        cfg.validate()
        print(cfg.to_yaml(), end="")
        return 0
    records = run(cfg, store=a.store, progress=not a.no_progress, restart=a.restart)
    for r in records:
        print(f"[i2p] seed {r.seed}: {'top-1' if r.setup['task'] == 'cls' else 'mIoU'} {100 * r.metric:.2f} "
              f"({r.timings['epochs']} epochs) -> {r.folder}")
    s = summarize(records)
    if s["n"] > 1:
        print(f"[i2p] {s['n']} seeds: {s['mean']:.2f} ± {s['std']:.2f}")
    return 0


def _eval(a: argparse.Namespace) -> int:
    from .runs import evaluate_run

    m = evaluate_run(a.target, config=a.config, split=a.split, data=a.overrides, store=a.store,
                     progress=not a.no_progress)
    out = {k: m[k] for k in ("loss", "top1", "mean_acc", "miou")}
    if m["task"] == "seg":  # per class: which classes carry (or sink) the mIoU
        out["iou"] = dict(zip(m["classes"], m["iou"]))
    print(json.dumps(out, indent=1))
    return 0


def _runs(a: argparse.Namespace) -> int:
    import pandas as pd

    from .compare import compare
    from .config import parse_overrides
    from .runs import load_runs

    df = load_runs(parse_overrides(a.where) or None, store=a.store)
    if df.empty:
        print(f"[i2p] no finished runs in {a.store}")
        return 0
    with pd.option_context("display.width", 200, "display.max_columns", 30, "display.max_rows", 500):
        if a.compare:
            table = compare(df, table=a.table)
            cols = ["cell", "row", "column", "scale", "paper", "paper_mean", "paper_std", "run_mean", "run_std", "n",
                    "model", "source", "config_key"]
            print(table[cols].to_string(index=False) if not table.empty else "[i2p] no run belongs to a paper cell")
        else:
            cols = ["cell", "name", "seed", "dataset", "model", "source", "scope", "epochs", "metric", "key"]
            print(df[cols].to_string(index=False))
    return 0


def _presets(a: argparse.Namespace) -> int:
    from .paper import PAPER_TABLES
    from .presets import presets

    rows = presets(a.table, a.scale)
    for t in sorted({p.cell.table for p in rows}):
        print(f"Table {t}: {PAPER_TABLES[t]}")
        for p in (p for p in rows if p.cell.table == t):
            c = p.config
            print(f"  {p.name:40s} {c.model.model:18s} {c.model.source or '-':30s} {c.model.scope:8s} "
                  f"paper {p.cell.value:6.2f}")
            if a.notes and p.note:
                print(f"  {'':40s} {p.note}")
    return 0


def add_experiment_commands(sub: argparse._SubParsersAction) -> None:
    raw = argparse.RawDescriptionHelpFormatter
    t = sub.add_parser("train", help="run an experiment config or preset", description=_TRAIN_HELP, formatter_class=raw)
    t.add_argument("target", help="a YAML config or a preset name (i2p presets)")
    t.add_argument("overrides", nargs="*", metavar="key=value")
    t.add_argument("--store", default=DEFAULT_STORE, help="results store folder (default: runs)")
    t.add_argument("--dry-run", action="store_true", help="validate and print the resolved config, run nothing")
    t.add_argument("--restart", action="store_true", help="start unfinished runs over from epoch 0 instead of "
                   "resuming their checkpoint (finished runs are kept)")
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(func=_train)
    e = sub.add_parser("eval", help="evaluate a run's (or a checkpoint's) model")
    e.add_argument("target", help="a run folder, a run key, or a checkpoint file")
    e.add_argument("overrides", nargs="*", metavar="data.key=value",
                   help="evaluate on other data, e.g. data.options.val_sweeps=48 (same classes)")
    e.add_argument("--config", default=None, help="the experiment config of a checkpoint outside a run folder")
    e.add_argument("--split", default=None, help="default: the split the paper evaluates on")
    e.add_argument("--store", default=DEFAULT_STORE)
    e.add_argument("--no-progress", action="store_true")
    e.set_defaults(func=_eval)
    r = sub.add_parser("runs", help="list finished runs; --compare: paper vs run per cell")
    r.add_argument("where", nargs="*", metavar="column=value", help="filter, e.g. dataset=modelnet40 scope=io")
    r.add_argument("--compare", action="store_true", help="the paper's numbers beside the runs' mean ± std")
    r.add_argument("--table", type=int, default=None)
    r.add_argument("--store", default=DEFAULT_STORE)
    r.set_defaults(func=_runs)
    p = sub.add_parser("presets", help="the paper's cells as presets", description=_PRESETS_HELP, formatter_class=raw)
    p.add_argument("--table", type=int, default=None, choices=range(1, 8))
    p.add_argument("--scale", default=None, choices=["teaching", "paper"])
    p.add_argument("--notes", action="store_true", help="say which offline source stands in for the paper's")
    p.set_defaults(func=_presets)
