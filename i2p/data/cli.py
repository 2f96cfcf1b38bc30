"""``i2p data list|make|check|gallery``, driven by the data set registry: every data set
is addressed by its name or an alias (``modelnet40``/``modelnet``, ``s3dis``,
``semantickitti``/``kitti``). Bad values are ``ValueError`` / ``FileNotFoundError``, which
:func:`i2p.cli.main` prints as one ``[i2p] error: ...`` line (exit 2), checked before any work."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..files import check_writable, savefig_atomic
from . import registry

__all__ = ["add_data_commands", "seed_arg"]


def seed_arg(text: str) -> int:
    """``--seed`` (an argparse type): a seed every generator takes, else a usage error before any work."""
    from ..train import MAX_SEED, is_seed

    try:
        seed = int(text)
    except ValueError:
        seed = None
    if not is_seed(seed):
        raise argparse.ArgumentTypeError(f"must be an int in [0, {MAX_SEED}], got {text!r}")
    return seed


def _specs(names: list[str]) -> list[registry.DatasetSpec]:
    """The specs of data set names (or aliases); an unknown one is a one-line error naming the valid ones."""
    return [registry.get(n) for n in names]


def _list(_: argparse.Namespace) -> int:
    for s in registry.all_specs():
        aka = f" (also {', '.join(s.aliases)})" if s.aliases else ""
        print(f"{s.name}{aka}: {s.title}, {s.task}, {s.num_classes} classes, input {'+'.join(s.channels)}, "
              f"{s.up_axis} up; stand-in {s.stand_in} (profiles {', '.join(s.profiles)})")
        for split, what in s.splits.items():
            print(f"  {split:5s} {what}{'  <- the paper evaluates here' if split == s.eval_split else ''}")
    return 0


def _make(a: argparse.Namespace) -> int:
    specs = _specs(a.datasets)
    for spec in specs:  # every value checked before anything is generated
        spec.resolve_options(a.profile)
    for spec in specs:
        path = spec.make(a.profile, seed=a.seed, root=a.out, progress=not a.no_progress, verify=a.verify)
        print(f"[i2p] {spec.name} ({spec.stand_in}, {a.profile}): {path}")
    return 0


def _check(a: argparse.Namespace) -> int:
    spec = registry.get(a.dataset)
    root = Path(a.root)
    if not root.is_dir():
        raise FileNotFoundError(f"{root} {'is a file, not a folder' if root.exists() else 'does not exist'}; "
                                f"pass the folder holding the {spec.title} download")
    if not a.quick:
        print(f"[i2p] reading every file under {root} (minutes on the full data set; --quick checks the structure "
              "and file sizes only)", file=sys.stderr, flush=True)
    problems = spec.check(root, deep=not a.quick)
    for p in problems:
        print(f"[i2p] problem: {p}")
    depth = "structure and file sizes only (--quick)" if a.quick else "every file read"
    print(f"[i2p] {spec.title} at {root}: " + ("OK" if not problems else f"{len(problems)} problem(s)") + f"; {depth}")
    return 1 if problems else 0


#: a 20 x 15 inch gallery at 600 dpi is already 12000 x 9000 pixels
MAX_DPI = 600


def _gallery(a: argparse.Namespace) -> int:
    specs = _specs(a.datasets) if a.datasets else registry.all_specs()
    if not 0 < a.dpi <= MAX_DPI:
        raise ValueError(f"--dpi must be between 1 and {MAX_DPI} (dots per inch; default 110), got {a.dpi}")
    for spec in specs:
        spec.resolve_options(a.profile)
    out = check_writable(a.out_dir, "gallery folder", "choose another --out-dir (created if missing)")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    for spec in specs:
        fig = spec.gallery(a.profile, root=a.root)
        path = savefig_atomic(fig, out / f"gallery_{spec.name}.png", dpi=a.dpi, bbox_inches="tight")
        plt.close(fig)
        print(f"[i2p] wrote {path}")
    return 0


def add_data_commands(sub: argparse._SubParsersAction) -> None:
    names = ", ".join(registry.names(with_aliases=True))
    data = sub.add_parser("data", help="embedded data sets and real-data checks").add_subparsers(dest="data_cmd", required=True)
    data.add_parser("list", help="every registered data set: task, classes, channels, up axis, splits").set_defaults(func=_list)
    m = data.add_parser("make", help="generate embedded stand-ins (cached; written atomically)")
    m.add_argument("datasets", nargs="+", metavar="DATASET", help=names)
    m.add_argument("--profile", default="teaching", help="teaching (default) or full")
    m.add_argument("--out", default=None, help="data root (default $I2P_DATA or ~/.cache/i2p/data)")
    m.add_argument("--seed", type=seed_arg, default=0)
    m.add_argument("--verify", action="store_true", help="also compare every cached file's SHA-1 with the manifest "
                   "(reads every byte; file sizes are always compared) and generate a damaged cache again")
    m.add_argument("--no-progress", action="store_true")
    m.set_defaults(func=_make)
    c = data.add_parser("check", help="validate a real data set directory")
    c.add_argument("root")
    c.add_argument("--dataset", required=True, help=names)
    depth = c.add_mutually_exclusive_group()
    depth.add_argument("--deep", action="store_true", help="read every file: labels (ids, counts), values (NaN, "
                       "ranges), meshes (the default; minutes on a full data set)")
    depth.add_argument("--quick", action="store_true", help="only the structure and file sizes (seconds)")
    c.set_defaults(func=_check)
    g = data.add_parser("gallery", help="export a gallery figure of samples to figures/")
    g.add_argument("datasets", nargs="*", metavar="DATASET", help=f"any of {names} (default: all)")
    g.add_argument("--profile", default="teaching")
    g.add_argument("--root", default=None)
    g.add_argument("--out-dir", default="figures")
    g.add_argument("--dpi", type=int, default=110)
    g.set_defaults(func=_gallery)
