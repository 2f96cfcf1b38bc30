"""``i2p data make|check|gallery``: generate the embedded data sets, validate real ones,
and export a gallery figure."""
from __future__ import annotations

import argparse
import importlib
from pathlib import Path

__all__ = ["add_data_commands"]

DATASETS = {"modelnet": "i2p.data.modelnet", "s3dis": "i2p.data.s3dis", "kitti": "i2p.data.kitti"}


def _module(name: str):
    return importlib.import_module(DATASETS[name])


def _make(a: argparse.Namespace) -> int:
    for name in a.datasets:
        path = _module(name).make_synthetic(profile=a.profile, root=a.out, seed=a.seed, progress=not a.no_progress)
        print(f"[i2p] {name} ({a.profile}): {path}")
    return 0


def _check(a: argparse.Namespace) -> int:
    root = Path(a.root)
    if not root.exists():
        print(f"[i2p] {root} does not exist")
        return 2
    problems = _module(a.dataset).check_real(root)
    for p in problems:
        print(f"[i2p] problem: {p}")
    print(f"[i2p] {a.dataset} at {root}: " + ("OK" if not problems else f"{len(problems)} problem(s)"))
    return 1 if problems else 0


def _gallery(a: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    unknown = set(a.datasets) - set(DATASETS)
    if unknown:
        print(f"[i2p] unknown dataset(s) {sorted(unknown)}; choose from {sorted(DATASETS)}")
        return 2
    for name in a.datasets or sorted(DATASETS):
        fig = _module(name).gallery(profile=a.profile, root=a.root)
        path = out / f"gallery_{name}.png"
        fig.savefig(path, dpi=a.dpi, bbox_inches="tight")
        print(f"[i2p] wrote {path}")
    return 0


def add_data_commands(sub: argparse._SubParsersAction) -> None:
    data = sub.add_parser("data", help="embedded data sets and real-data checks").add_subparsers(dest="data_cmd", required=True)
    m = data.add_parser("make", help="generate embedded stand-ins (cached; written atomically)")
    m.add_argument("datasets", nargs="+", choices=sorted(DATASETS))
    m.add_argument("--profile", default="teaching", help="teaching (default) or full")
    m.add_argument("--out", default=None, help="data root (default $I2P_DATA or ~/.cache/i2p/data)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--no-progress", action="store_true")
    m.set_defaults(func=_make)
    c = data.add_parser("check", help="validate a real data set directory")
    c.add_argument("root")
    c.add_argument("--dataset", required=True, choices=sorted(DATASETS))
    c.set_defaults(func=_check)
    g = data.add_parser("gallery", help="export a gallery figure of samples to figures/")
    g.add_argument("datasets", nargs="*", help=f"any of {sorted(DATASETS)} (default: all)")
    g.add_argument("--profile", default="teaching")
    g.add_argument("--root", default=None)
    g.add_argument("--out-dir", default="figures")
    g.add_argument("--dpi", type=int, default=110)
    g.set_defaults(func=_gallery)
