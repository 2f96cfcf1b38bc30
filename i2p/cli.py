"""Command line: ``i2p study``, ``i2p quickstart``, ``i2p info``, ``i2p data ...``, ``i2p train | eval |
runs | presets``, ``i2p pretrain2d``, ``i2p figures``."""
from __future__ import annotations

import argparse
import sys

from .data.cli import add_data_commands, seed_arg
from .experiments.cli import add_experiment_commands
from .finetune import FinetuneScope
from .inflate import TRANSFORM_NAMES
from .pretrain2d import ARCHS_2D, RECIPES_2D

__all__ = ["main"]


def _info(_: argparse.Namespace) -> int:
    import torch

    from .sparse.backend import backend_name
    from .weights import list_sources, weights_dirs

    print(f"torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}, threads: {torch.get_num_threads()}")
    print(f"sparse backend: {backend_name()}")
    rows = list_sources()
    print(f"2D weights ({sum(r.available for r in rows)}/{len(rows)} on this machine; "
          f"folders searched: {', '.join(str(d) for d in weights_dirs())}):")
    w = max(len(r.name) for r in rows)
    print(f"  {'name':{w}s}  {'arch':18s}  {'here':4s}  path, or how to get it (bad: here but unreadable)")
    for r in rows:
        here = "bad" if r.problem else "yes" if r.available else "no"
        print(f"  {r.name:{w}s}  {r.architecture:18s}  {here:4s}  {r.where}")
        print(f"  {'':{w}s}  {r.provenance}")
    return 0


def _quickstart(a: argparse.Namespace) -> int:
    from .quickstart import run_quickstart

    s = run_quickstart(a.minutes, a.scope, a.minutes_2d, a.out, a.device, a.seed, progress=not a.no_progress)
    if s["test_top1"] <= s["chance"]:
        print("[i2p] quickstart model did not beat chance", file=sys.stderr)
        return 1
    return 0


def _pretrain2d(a: argparse.Namespace) -> int:
    from .pretrain2d import pretrain_and_save

    kw = dict(size=a.size, epochs=a.epochs, minutes=a.minutes, seed=a.seed, device=a.device, lr=a.lr,
              recipe=a.recipe, batch_size=a.batch_size)
    if a.dataset == "fractaldb":
        kw.update(categories=a.categories, instances=a.instances)
    if a.dataset == "imagefolder":
        kw["root"] = a.root
    path, acc = pretrain_and_save(a.dataset, a.arch, a.out, progress=not a.no_progress, name=a.name, **kw)
    print(f"[i2p] {a.arch} on {a.dataset}: held-out top-1 {acc:.3f}; checkpoint {path}")
    return 0


def _figures(a: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only, no window
    from .figures import filters_figure, first_layer_figure, transforms_figure
    from .files import check_writable, savefig_atomic

    if a.dpi < 1:
        raise ValueError(f"--dpi must be >= 1, got {a.dpi}")
    out = check_writable(a.out_dir, "figure folder")
    figs = (("inflated_filters", filters_figure(transform=a.transform)),
            ("first_layer_filters", first_layer_figure(transform=a.transform)),
            ("filter_transforms", transforms_figure()))
    for name, fig in figs:
        savefig_atomic(fig, out / f"{name}.png", dpi=a.dpi, bbox_inches="tight")
        print(f"[i2p] wrote {out / f'{name}.png'}")
    return 0


def _study(a: argparse.Namespace) -> int:
    from pathlib import Path

    from .study import project_root, run_study

    results = run_study(a.profile, only=a.only, out=a.out, device=a.device, precision=a.precision,
                        timeout_min=a.timeout, force=a.force, progress=not a.no_progress, dry_run=a.dry_run)
    bad = [r for r in results if r.status in ("failed", "timeout")]
    if a.dry_run:
        for r in results:
            print(f"[i2p] {r.notebook}: {r.status}{': ' + r.error if r.error else ''}")
    out = Path(a.out) if a.out else project_root() / "study" / a.profile
    print(f"[i2p] study ({a.profile}): {len(results) - len(bad)} of {len(results)} notebooks ran to the end; "
          f"report: {out}/index.html")
    return 1 if bad else 0


class _Parser(argparse.ArgumentParser):
    """argparse whose usage errors (unknown options, bad values) are one line, like every
    other user error; sub-commands inherit it."""

    def error(self, message: str):  # type: ignore[override]
        print(f"[i2p] error: {self.prog}: {message} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def main(argv: list[str] | None = None) -> int:
    p = _Parser(prog="i2p", description="Image2Point study kit")

    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("quickstart", help="inflate an ImageNet 2D ConvNet and finetune it on SynthModelNet")
    q.add_argument("--minutes", type=float, default=2.0, help="3D finetuning budget")
    q.add_argument("--minutes-2d", type=float, default=2.0, help="2D fallback pretraining budget (first run only; cached)")
    q.add_argument("--scope", default="io_bn", choices=[s.value for s in FinetuneScope],
                   help="; ".join(f"{s.value}: {s.label}" for s in FinetuneScope))
    q.add_argument("--out", default="runs/quickstart")
    q.add_argument("--device", default="auto")
    q.add_argument("--seed", type=seed_arg, default=777)
    q.add_argument("--no-progress", action="store_true")
    q.set_defaults(func=_quickstart)
    sub.add_parser("info", help="torch, sparse backend and which 2D weights are on this machine").set_defaults(func=_info)
    add_data_commands(sub)
    add_experiment_commands(sub)
    wl = sub.add_parser("weights", help="2D weight sources").add_subparsers(dest="weights_cmd", required=True)
    wl.add_parser("list", help="every registered 2D source, whether it is here, and how to get it").set_defaults(func=_info)
    t = sub.add_parser("pretrain2d", help="pretrain a 2D ResNet, or PointNet++ on images-as-points (--arch "
                       "pointnet2_ssg), with i2p's trainer (FractalDB, Shapes2D, ImageFolder)")
    t.add_argument("--dataset", required=True, choices=["fractaldb", "shapes2d", "imagefolder"])
    t.add_argument("--arch", default="resnet18", choices=ARCHS_2D)
    t.add_argument("--root", default=None, help="imagefolder: folder of class folders (e.g. tiny-imagenet-200/train)")
    t.add_argument("--categories", type=int, default=100, help="fractaldb: number of categories (paper: 1000 or 10000)")
    t.add_argument("--instances", type=int, default=100, help="fractaldb: images per category (paper: 1000)")
    t.add_argument("--size", type=int, default=32, help="image side in pixels")
    t.add_argument("--recipe", default=None, choices=sorted(RECIPES_2D),
                   help="default: teaching-points for pointnet2_ssg, teaching for the ResNets. "
                   "teaching: SGD 0.02, cosine, 10 epochs (minutes on a CPU); teaching-points: Adam 1e-3, batch 32, "
                   "cosine, 10 epochs (PointNet++ on images-as-points, minutes on a CPU); paper: the paper's Tiny-ImageNet "
                   "recipe (PyTorch ImageNet example: SGD 0.1, x0.1 every 30 epochs, 90 epochs, batch 256, "
                   "random-resized crop + flip); paper-points: the paper's PointNet++ images-as-points recipe "
                   "(SGD 0.1, x0.1 every 30 epochs, 90 epochs, batch 64)")
    t.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    t.add_argument("--batch-size", type=int, default=None, help="default: the recipe's")
    t.add_argument("--minutes", type=float, default=None, help="stop after this budget")
    t.add_argument("--lr", type=float, default=None, help="default: the recipe's")
    t.add_argument("--seed", type=seed_arg, default=0)
    t.add_argument("--device", default="cpu")
    t.add_argument("--name", default=None, help="checkpoint label (default: the dataset), e.g. tinyimagenet")
    t.add_argument("--out", default=None, help="checkpoint path (default: the weights cache)")
    t.add_argument("--no-progress", action="store_true")
    t.set_defaults(func=_pretrain2d)
    f = sub.add_parser("figures", help="export inflation figures (2D filters vs 3D slices, T matrices) to figures/")
    f.add_argument("--out-dir", default="figures")
    f.add_argument("--transform", default="default", choices=TRANSFORM_NAMES)
    f.add_argument("--dpi", type=int, default=90)
    f.set_defaults(func=_figures)
    from .study.profiles import PROFILES

    s = sub.add_parser("study", help="run every notebook headless and write the offline HTML report",
                       description="Executes notebooks/NN_*.ipynb with papermill (one process and one timeout per "
                       "notebook), saves the executed notebooks and an HTML report under study/<profile>/, figures "
                       "under figures/<notebook>/. Finished runs and notebooks are reused: an interrupted study "
                       "resumes. Profiles: " + "; ".join(f"{p.name}: {p.blurb}" for p in PROFILES.values()))
    s.add_argument("--profile", default="quick", choices=list(PROFILES))
    s.add_argument("--only", nargs="+", default=None, metavar="NB", help="notebooks by number or name, e.g. 01 03")
    s.add_argument("--out", default=None, help="folder of the executed notebooks and report (default study/<profile>)")
    s.add_argument("--device", default="auto", help="auto | cpu | cuda[:N]")
    s.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"])
    s.add_argument("--timeout", type=float, default=None, help="minutes per notebook (default: the profile's)")
    s.add_argument("--force", action="store_true", help="execute notebooks that already finished with these settings")
    s.add_argument("--dry-run", action="store_true", help="validate and list every notebook's runs, compute nothing "
                   "(e.g. --profile paper: are the real data and 2D weights in place?)")
    s.add_argument("--no-progress", action="store_true")
    s.set_defaults(func=_study)
    p.add_argument("--debug", action="store_true", help="show the Python traceback of a user error (i2p --debug "
                   "train ...); errors that are bugs always show it")
    a, extra = p.parse_known_args(argv)
    if extra:  # key=value overrides may follow options (i2p train PRESET --dry-run seeds=[0])
        if getattr(a, "overrides", None) is None or any("=" not in x or x.startswith("-") for x in extra):
            p.error(f"unrecognized arguments: {' '.join(extra)}")
        a.overrides += extra
    try:
        return a.func(a)
    except (ValueError, TypeError, OSError, KeyboardInterrupt) as e:  # user errors: one line, exit 2, no traceback
        if a.debug:
            raise
        print(f"[i2p] {'interrupted' if isinstance(e, KeyboardInterrupt) else f'error: {e}'}", file=sys.stderr)
        return 130 if isinstance(e, KeyboardInterrupt) else 2
    # any other exception is a bug in i2p: it propagates with its traceback (exit 1)


if __name__ == "__main__":
    sys.exit(main())
