"""``i2p data list|make|check|gallery``, driven by the data set registry: every data set
is addressed by its name or an alias (``modelnet40``/``modelnet``, ``s3dis``,
``semantickitti``/``kitti``)."""
from __future__ import annotations

import argparse
from pathlib import Path

from . import registry

__all__ = ["add_data_commands"]


def _dataset(name: str) -> registry.DatasetSpec:
    try:
        return registry.get(name)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _list(_: argparse.Namespace) -> int:
    for s in registry.all_specs():
        aka = f" (also {', '.join(s.aliases)})" if s.aliases else ""
        print(f"{s.name}{aka}: {s.title}, {s.task}, {s.num_classes} classes, input {'+'.join(s.channels)}, "
              f"{s.up_axis} up; stand-in {s.stand_in} (profiles {', '.join(s.profiles)})")
        for split, what in s.splits.items():
            print(f"  {split:5s} {what}{'  <- the paper evaluates here' if split == s.eval_split else ''}")
    return 0


def _make(a: argparse.Namespace) -> int:
    for spec in a.datasets:
        path = spec.make(a.profile, seed=a.seed, root=a.out, progress=not a.no_progress)
        print(f"[i2p] {spec.name} ({spec.stand_in}, {a.profile}): {path}")
    return 0


def _check(a: argparse.Namespace) -> int:
    root = Path(a.root)
    if not root.exists():
        print(f"[i2p] {root} does not exist")
        return 2
    problems = a.dataset.check(root, deep=a.deep)
    for p in problems:
        print(f"[i2p] problem: {p}")
    depth = "deep check (every file read)" if a.deep else "structure and sizes (add --deep to read every file)"
    print(f"[i2p] {a.dataset.title} at {root}: " + ("OK" if not problems else f"{len(problems)} problem(s)") + f"; {depth}")
    return 1 if problems else 0


def _gallery(a: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    out = Path(a.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for spec in a.datasets or registry.all_specs():
        fig = spec.gallery(a.profile, root=a.root)
        path = out / f"gallery_{spec.name}.png"
        fig.savefig(path, dpi=a.dpi, bbox_inches="tight")
        print(f"[i2p] wrote {path}")
    return 0


def add_data_commands(sub: argparse._SubParsersAction) -> None:
    names = ", ".join(registry.names(with_aliases=True))
    data = sub.add_parser("data", help="embedded data sets and real-data checks").add_subparsers(dest="data_cmd", required=True)
    data.add_parser("list", help="every registered data set: task, classes, channels, up axis, splits").set_defaults(func=_list)
    m = data.add_parser("make", help="generate embedded stand-ins (cached; written atomically)")
    m.add_argument("datasets", nargs="+", type=_dataset, metavar="DATASET", help=names)
    m.add_argument("--profile", default="teaching", help="teaching (default) or full")
    m.add_argument("--out", default=None, help="data root (default $I2P_DATA or ~/.cache/i2p/data)")
    m.add_argument("--seed", type=int, default=0)
    m.add_argument("--no-progress", action="store_true")
    m.set_defaults(func=_make)
    c = data.add_parser("check", help="validate a real data set directory")
    c.add_argument("root")
    c.add_argument("--dataset", required=True, type=_dataset, help=names)
    c.add_argument("--deep", action="store_true", help="read every file (labels, values), not only structure and sizes")
    c.set_defaults(func=_check)
    g = data.add_parser("gallery", help="export a gallery figure of samples to figures/")
    g.add_argument("datasets", nargs="*", type=_dataset, metavar="DATASET", help=f"any of {names} (default: all)")
    g.add_argument("--profile", default="teaching")
    g.add_argument("--root", default=None)
    g.add_argument("--out-dir", default="figures")
    g.add_argument("--dpi", type=int, default=110)
    g.set_defaults(func=_gallery)
