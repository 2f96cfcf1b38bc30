"""Running experiments into a results store, and reading the store back.

Each run (one config, one seed) owns a folder ``<store>/<label>-<key>``, where ``key``
hashes everything that decides its result (:meth:`ExperimentConfig.run_key`): asking for
a finished run returns its record without training, asking for an unfinished one resumes
it from its last checkpoint (bit-identically: data order, augmentation and model state
are all restored). A folder holds ``config.yaml`` (this run's config), ``ckpt/last.pt``,
TensorBoard event files under ``tb/`` and, once finished, ``record.json``: the resolved
config, seed, model setup, per-epoch curves, final metrics (top-1, mIoU, per-class IoU,
confusion matrix), timings and the environment (package versions, git SHA, device). Every
file is written atomically: a crash leaves a resumable run, never a half-written record.

Only rank 0 writes under ``torchrun``; to spread a sweep over several GPUs or machines,
give each process group its own part of the list (e.g. ``configs[rank::n]``) and one
shared store: runs are keyed by content, so parts never collide.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

import torch

from ..files import check_writable, file_lock, write_atomic
from .config import ConfigError, ExperimentConfig, parse_overrides

__all__ = ["Record", "run", "sweep", "load_runs", "find_run", "evaluate_run", "load_run_model", "initial_model", "load_split", "train_config", "summarize", "DEFAULT_STORE", "RECORD"]

DEFAULT_STORE = "runs"
RECORD = "record.json"


@dataclass
class Record:
    """A finished run, as stored in ``record.json``."""

    key: str
    folder: str
    name: str | None
    cell: str | None
    seed: int
    config: dict
    setup: dict
    metrics: dict
    curves: list[dict]
    timings: dict
    env: dict
    classes: list[str] = field(default_factory=list)
    data: dict | None = None  # the stand-in's resolved generator options and version (None: real data)

    @property
    def metric(self) -> float:
        """The paper's metric for this run's task: top-1 (cls) or mIoU (seg), in [0, 1]."""
        return self.metrics["top1"] if self.setup.get("task") == "cls" else self.metrics["miou"]

    @classmethod
    def load(cls, folder: str | Path) -> "Record":
        path = Path(folder) / RECORD
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError) as e:
            raise ValueError(f"{path} is not a readable i2p run record ({e}); delete the run folder to run it again") from None

    def save(self) -> None:
        write_atomic(Path(self.folder) / RECORD, json.dumps(asdict(self), indent=1, allow_nan=False))


def _label(config: ExperimentConfig) -> str:
    raw = config.cell or config.name or f"{config.data.dataset}-{config.model.model}-{config.model.scope}"
    return re.sub(r"[^A-Za-z0-9_.]+", "-", raw).strip("-")[:60] or "run"


def find_run(store: str | Path, key: str) -> Path | None:
    """The folder of the run with this key in ``store``, if any."""
    hits = sorted(Path(store).glob(f"*-{key}"))
    return hits[0] if hits else None


def _git_sha() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True,
                             text=True, timeout=5)
        return out.stdout.strip() or None if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def _env(device: torch.device) -> dict:
    import numpy

    from .. import __version__

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else platform.processor() or platform.machine()
    return {"i2p": __version__, "torch": torch.__version__, "numpy": numpy.__version__, "python": platform.python_version(),
            "git_sha": _git_sha(), "device": str(device), "device_name": name, "threads": torch.get_num_threads()}


def _datasets(config: ExperimentConfig, spec, seed: int, progress: bool):
    """The (possibly subsetted) training set and the evaluation split."""
    from ..data.subsets import fraction_subset, k_shot_subset

    d = config.data
    transform = "default" if d.augment else "eval"  # without augmentation: as the model is evaluated
    if d.profile == "real":
        train = spec.load_real(d.root, "train", transform=transform)
    else:
        train = spec.load("train", d.profile, transform=transform, options=d.options, seed=d.seed, progress=progress)
    test = load_split(config, spec.eval_split, progress)
    subset_seed = seed if d.subset_seed == "run" else d.subset_seed
    if d.fraction is not None:
        train = train.subset(fraction_subset(len(train), d.fraction, subset_seed))
    elif d.k_shot is not None:
        train = train.subset(k_shot_subset(train.labels(), d.k_shot, subset_seed))
    return train, test


class _Board:
    """TensorBoard scalars of a run's epochs (a resumed run purges the steps it redoes)."""

    def __init__(self, folder: Path, start: int) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(folder / "tb"), purge_step=start + 1 if start else None)

    def __call__(self, record: dict) -> None:
        for k, v in record.items():
            if k != "epoch" and isinstance(v, (int, float)):
                self.writer.add_scalar(k, v, record["epoch"])
        self.writer.flush()

    def close(self) -> None:
        self.writer.close()


def load_split(config: ExperimentConfig, split: str, progress: bool = False):
    """One split of ``config``'s data (the stand-in profile or the real files), with the
    data set's default transform (for an evaluation split: the eval transform)."""
    from ..data.registry import get as get_dataset

    d = config.data
    spec = get_dataset(d.dataset)
    spec.check_split(split)
    if d.profile == "real":
        return spec.load_real(d.root, split)
    return spec.load(split, d.profile, options=d.options, seed=d.seed, progress=progress)


def train_config(config: ExperimentConfig, seed: int | None = None, progress: bool = False,
                 num_classes: int | None = None, **train_kw):
    """The :class:`i2p.train.TrainConfig` of one run of ``config`` (first seed by default)."""
    from ..data.registry import get as get_dataset
    from ..train import TrainConfig

    spec = get_dataset(config.data.dataset)
    seed = config.seeds[0] if seed is None else seed
    num_classes = len(_classes(config, spec)) if num_classes is None else num_classes
    return TrainConfig(**config.train_kwargs(spec, seed), num_classes=num_classes, progress=progress, **train_kw)


def _model_and_recipe(config: ExperimentConfig, spec, seed: int, num_classes: int, progress: bool, **train_kw):
    """The prepared model and the trainer config of one run of ``config``."""
    from ..finetune import prepare_model

    m = config.model
    model = prepare_model(spec, m.model, m.source, m.scope, transform=m.transform, copy_axis=m.copy_axis,
                          learnable=m.learnable, t_init=m.t_init, head=m.head, num_classes=num_classes)
    if getattr(model, "input_kind", None) == "range":  # range images that fit the data's sensor
        resolved = config.resolved_data()
        model.projection = spec.range_projection(None if resolved is None else resolved["options"])
    return model, train_config(config, seed, progress, num_classes, **train_kw)


def _classes(config: ExperimentConfig, spec) -> list[str]:
    """The class names a run's labels index (a stand-in profile may use a subset)."""
    if config.data.profile == "real":
        return list(spec.classes)
    return list(spec.dataset_classes(spec.resolve_options(config.data.profile, config.data.options)))


def _run_one(config: ExperimentConfig, seed: int, store: Path, progress: bool, restart: bool = False) -> Record:
    key = config.run_key(seed)
    folder = find_run(store, key)
    if folder is not None and (folder / RECORD).is_file():
        return Record.load(folder)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only rank 0 writes (and locks)
        return _train_run(config, seed, store, key, folder, progress, restart, writer=False)
    # one process per run at a time: a second one (another sweep, a second notebook) waits,
    # then returns the finished record instead of training into the same folder
    with file_lock(store / f".{key}.lock", waiting=f"another process is running {_label(config)} seed {seed}; "
                                                    "waiting for it to finish"):
        folder = find_run(store, key)
        if folder is not None and (folder / RECORD).is_file():
            return Record.load(folder)
        return _train_run(config, seed, store, key, folder, progress, restart, writer=True)


def _train_run(config: ExperimentConfig, seed: int, store: Path, key: str, folder: Path | None, progress: bool,
               restart: bool, writer: bool) -> Record:
    from ..data.registry import get as get_dataset
    from ..train import evaluate, fit, pick_device, read_checkpoint, seed_everything
    from ..weights import weights_fingerprint

    folder = folder or store / f"{_label(config)}-{key}"
    if writer:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / "config.yaml", config.for_seed(seed).to_yaml())
    spec = get_dataset(config.data.dataset)
    t0 = time.monotonic()
    train, test = _datasets(config, spec, seed, progress)
    seed_everything(seed)  # the model's random parts (heads, scratch weights, random T) follow the seed
    model, tcfg = _model_and_recipe(config, spec, seed, len(train.classes), progress,
                                    checkpoint_dir=str(folder / "ckpt"), resume=not restart)
    ckpt = folder / "ckpt" / "last.pt"
    sha = weights_fingerprint(config.model.source) if config.model.source else None
    source_sha1 = {"source_sha1": sha} if sha else {}  # which i2p-trained 2D weights this run loaded
    start = read_checkpoint(ckpt, mmap=True)["epoch"] if ckpt.is_file() and not restart else 0
    board = _Board(folder, start) if writer else None
    t_data = time.monotonic()
    try:
        history = fit(model, train, tcfg, val_set=test if config.recipe.eval_every else None, on_epoch=board)
    finally:
        if board is not None:
            board.close()
    t_train = time.monotonic()
    result = evaluate(model, test, tcfg)
    t_eval = time.monotonic()
    metrics = _json_clean(result)
    record = Record(
        key=key, folder=str(folder), name=config.name, cell=config.cell, seed=int(seed), config=config.for_seed(seed).to_dict(),
        setup={**model.setup.as_dict(), **source_sha1}, metrics=metrics, curves=_json_clean(history.epochs),
        timings={"data_s": t_data - t0, "train_s": history.seconds, "eval_s": t_eval - t_train,
                 "session_train_s": t_train - t_data, "epochs": len(history.epochs), "resumed_from_epoch": start,
                 "train_samples": len(train)},
        env={**_env(pick_device(config.device)), "precision": history.precision},
        classes=list(train.classes), data=config.resolved_data(),
    )
    if writer:
        record.save()
    return record


def _json_clean(obj):
    """Tensors as lists and NaN (e.g. the IoU of a class absent from the data) as None,
    so records are strict JSON."""
    if isinstance(obj, torch.Tensor):
        obj = obj.tolist()
    if isinstance(obj, dict):
        return {k: _json_clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_clean(v) for v in obj]
    return None if isinstance(obj, float) and obj != obj else obj


def _store(store: str | Path) -> Path:
    return check_writable(store, "results store", "choose another with --store", ConfigError)


def run(config: ExperimentConfig, *, store: str | Path = DEFAULT_STORE, progress: bool = True,
        restart: bool = False) -> list[Record]:
    """Run ``config`` once per seed (validated first, before any compute); finished runs
    come back from the store, unfinished ones resume (``restart``: start them over from
    epoch 0, e.g. past a damaged checkpoint). One record per seed."""
    config.validate()
    root = _store(store)
    return [_run_one(config, seed, root, progress, restart) for seed in config.seeds]


def sweep(configs: Sequence[ExperimentConfig], *, store: str | Path = DEFAULT_STORE, progress: bool = True) -> list[Record]:
    """Run a list of configs in order (all validated first), skipping finished runs and
    resuming the interrupted one, with one progress bar over every (config, seed)."""
    from tqdm.auto import tqdm

    for c in configs:
        c.validate()
    root = _store(store)
    jobs = [(c, s) for c in configs for s in c.seeds]
    out = []
    with tqdm(total=len(jobs), desc="sweep", unit="run", disable=not progress) as bar:
        for c, s in jobs:
            bar.set_postfix_str(f"{_label(c)} seed {s}")
            out.append(_run_one(c, s, root, progress=False))
            bar.update(1)
    return out


def _config_key(r: Record) -> str:
    """The experiment a record belongs to (its config without the seed, and the data it
    actually ran on: a record from before a profile changed stays apart)."""
    d = ExperimentConfig.from_dict(r.config).identity(0)
    del d["seed"]
    d["data_resolved"] = r.data
    d.pop("source_sha1", None)
    if r.setup.get("source_sha1"):  # the 2D weights it actually loaded, not today's file
        d["source_sha1"] = r.setup["source_sha1"]
    return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


def run_row(r: Record) -> dict[str, Any]:
    """One row of :func:`load_runs`: what the run was and what it scored."""
    c = r.config
    row = {"key": r.key, "config_key": _config_key(r), "name": r.name,
           "cell": r.cell, "seed": r.seed, "task": r.setup.get("task"),
           "dataset": c["data"]["dataset"], "profile": c["data"]["profile"],
           "options": json.dumps(c["data"]["options"], sort_keys=True) if c["data"]["options"] else "",
           "fraction": c["data"]["fraction"],
           "model": c["model"]["model"], "source": c["model"]["source"], "scope": c["model"]["scope"],
           "transform": c["model"]["transform"], "axis": r.setup.get("axis"), "head": c["model"]["head"],
           "learnable": c["model"]["learnable"], "epochs": r.timings.get("epochs"),
           "train_min": round(r.timings.get("train_s", 0) / 60, 2), "device": r.env.get("device_name"),
           "precision": (r.env.get("precision") or {}).get("name", "fp32")}  # records before precision: fp32
    row.update({k: r.metrics.get(k) for k in ("top1", "mean_acc", "miou")})
    row["metric"] = r.metric
    row["folder"] = r.folder
    return row


def load_runs(where: dict | Callable[[Record], bool] | None = None, store: str | Path = DEFAULT_STORE):
    """Every finished run of the store as a pandas DataFrame (one row per run). ``where``:
    ``{"column": value, ...}`` (value may be a list of allowed values) or a predicate on
    the :class:`Record`."""
    import pandas as pd

    records = [Record.load(p.parent) for p in sorted(Path(store).glob(f"*/{RECORD}"))]
    if callable(where):
        records = [r for r in records if where(r)]
    df = pd.DataFrame([run_row(r) for r in records], columns=list(_row_columns()))
    if isinstance(where, dict):
        for col, want in where.items():
            if col not in df.columns:
                raise ValueError(f"unknown run column {col!r}; columns: {', '.join(df.columns)}")
            df = df[df[col].isin(want if isinstance(want, (list, tuple, set)) else [want])]
    return df.reset_index(drop=True)


def _row_columns() -> Iterable[str]:
    return ("key", "config_key", "name", "cell", "seed", "task", "dataset", "profile", "options", "fraction", "model",
            "source", "scope",
            "transform", "axis", "head", "learnable", "epochs", "train_min", "device", "precision", "top1", "mean_acc",
            "miou", "metric", "folder")


def summarize(records: Sequence[Record]) -> dict:
    """Mean ± std (sample std, as the paper's Appendix 6.5) of the paper's metric over
    ``records`` (the seeds of one config), in percent."""
    import statistics

    vals = [100 * r.metric for r in records]
    return {"mean": statistics.fmean(vals) if vals else float("nan"),
            "std": statistics.stdev(vals) if len(vals) > 1 else float("nan"), "n": len(vals)}


def _resolve_target(target: str | Path, store: str | Path) -> tuple[Path, Path | None]:
    """(checkpoint, run folder or None) for a run folder, a run key or a checkpoint file."""
    p = Path(target)
    if p.is_dir():
        return p / "ckpt" / "last.pt", p
    if p.is_file():
        folder = p.parent.parent if p.parent.name == "ckpt" and (p.parent.parent / "config.yaml").is_file() else None
        return p, folder
    folder = find_run(store, str(target))
    if folder is None:
        raise FileNotFoundError(f"{target} is neither a run folder, a checkpoint file nor a run key in {store}")
    return folder / "ckpt" / "last.pt", folder


def load_run_model(target: str | Path, *, config: str | Path | None = None, store: str | Path = DEFAULT_STORE,
                   progress: bool = False):
    """(model with the run's last weights, its config, the data set spec, the trainer
    config) of a run folder, a run key, or a checkpoint file (then ``config`` names the
    experiment config it was trained with, unless it lies in a run folder)."""
    from ..data.registry import get as get_dataset

    ckpt, folder = _resolve_target(target, store)
    if config is None and folder is None:
        raise ConfigError(f"{ckpt} is not inside a run folder: give the config it was trained with (--config)")
    cfg = ExperimentConfig.load(config if config is not None else folder / "config.yaml").validate(check_weights=False)
    spec = get_dataset(cfg.data.dataset)
    if folder is not None and (folder / RECORD).is_file():
        cfg = _with_recorded_data(cfg, spec, Record.load(folder))
    if not ckpt.is_file():
        raise FileNotFoundError(f"{ckpt} not found: the run has not finished an epoch yet")
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=False)
    except Exception as e:  # truncated or not a torch file
        raise ValueError(f"cannot read checkpoint {ckpt} ({type(e).__name__}: {e}); it is damaged") from None
    trained_task = (state.get("config") or {}).get("task")
    if trained_task not in (None, spec.task):
        raise ValueError(f"{ckpt} was trained for a {trained_task} task; {spec.name} is {spec.task}")
    model, tcfg = initial_model(cfg, progress=progress)
    m = cfg.model
    try:
        model.load_state_dict(state["model"])
    except (RuntimeError, KeyError) as e:
        raise ValueError(f"{ckpt} does not hold a {m.model} ({m.scope}, head {m.head}) for {spec.name}: "
                         f"{str(e).splitlines()[0]}") from None
    return model, cfg, spec, tcfg


def _with_recorded_data(cfg: ExperimentConfig, spec, record: Record) -> ExperimentConfig:
    """``cfg`` with the generator options its run recorded: a stand-in profile changed since
    (more test sweeps, another sensor) must not change the data, or a range model's
    projection, a finished run is evaluated on."""
    if cfg.data.profile == "real" or not record.data:
        return cfg
    if record.data["generator_version"] != spec.generator_version:
        warnings.warn(f"{record.folder} was made by {cfg.data.dataset} stand-in generator version "
                      f"{record.data['generator_version']}, this i2p has another: its data differ from the run's")
    return cfg.with_overrides({"data.options": record.data["options"]})


def initial_model(config: ExperimentConfig, seed: int | None = None, progress: bool = False):
    """(model, trainer config) of a run of ``config`` as it starts: 2D weights inflated,
    scope applied, nothing trained yet -- the "before" of a before/after comparison."""
    from ..data.registry import get as get_dataset
    from ..train import seed_everything

    spec = get_dataset(config.data.dataset)
    seed = config.seeds[0] if seed is None else seed
    seed_everything(seed)
    return _model_and_recipe(config, spec, seed, len(_classes(config, spec)), progress)


def evaluate_run(target: str | Path, *, config: str | Path | None = None, split: str | None = None,
                 data: list[str] | dict | None = None, store: str | Path = DEFAULT_STORE,
                 progress: bool = True) -> dict:
    """Metrics of a run's last checkpoint on ``split`` (default: the paper's evaluation
    split). ``target``: a run folder, a run key, or a checkpoint file (then ``config``
    names the experiment config it was trained with, unless it lies in a run folder).

    ``data``: ``data.*`` overrides to evaluate on other data than the run's own, e.g.
    ``["data.options.val_sweeps=48"]`` (a larger stand-in test set) or ``["data.profile=real",
    "data.root=/data/S3DIS"]``; the class list must stay the one the model was trained on.
    The result also says the ``task`` and names the ``classes`` that ``iou`` and
    ``confusion`` index."""
    from ..train import evaluate

    model, cfg, spec, tcfg = load_run_model(target, config=config, store=store, progress=progress)
    if data:
        cfg = _eval_data(cfg, spec, data)
    metrics = evaluate(model, load_split(cfg, split or spec.eval_split, progress), tcfg)
    return _json_clean({**metrics, "task": spec.task, "classes": _classes(cfg, spec)})


def _eval_data(cfg: ExperimentConfig, spec, data: list[str] | dict) -> ExperimentConfig:
    """``cfg`` with ``data.*`` overrides, checked: only the data changes, not its classes."""
    items = parse_overrides(data) if isinstance(data, list) else dict(data)
    other = sorted(k for k in items if not k.startswith("data."))
    if other:
        raise ConfigError(f"evaluation overrides change the data only (data.*), not {', '.join(other)}: "
                          "the model is the run's")
    if items.get("data.profile") == "real":  # the stand-in's generator options do not apply
        items.setdefault("data.options", {})
    new = cfg.with_overrides(items).validate(check_weights=False)
    trained, now = _classes(cfg, spec), _classes(new, spec)
    if now != trained:
        raise ConfigError(f"the run was trained on {len(trained)} classes ({', '.join(trained[:5])}"
                          f"{' ...' if len(trained) > 5 else ''}); these data overrides give {len(now)}: "
                          "evaluate on data with the same classes")
    return new
