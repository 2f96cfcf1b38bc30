"""One experiment = one plain config: everything the paper varies, by name.

A config has three sections and a few top-level keys (YAML, all optional but ``model``'s
names; defaults are the paper's ModelNet recipe on the teaching stand-in)::

    name: my-run                 # a label (not part of the run's identity)
    cell: t1.io.modelnet40       # the paper's table cell it reproduces (i2p.experiments.paper)
    seeds: [0, 1, 2]             # one run per seed
    device: auto                 # auto (CUDA when present) | cpu | cuda | cuda:1
    data:    {dataset, profile, root, options, seed, fraction, k_shot, subset_seed, augment}
    model:   {model, source, scope, transform, copy_axis, learnable, t_init, head}
    recipe:  {optimizer, lr, momentum, nesterov, weight_decay, schedule, warmup_iters,
              batch_size, epochs, minutes, voxel_size, seg_loss, eval_every, precision}

Unknown keys and bad values are refused by :meth:`ExperimentConfig.validate` before any
compute, naming the valid choices; ``key=value`` overrides (``recipe.lr=0.05``,
``model.scope=io_stats``, ``seeds=[0,1]``) are parsed as YAML values.
"""
from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import yaml

__all__ = ["DataSection", "ModelSection", "RecipeSection", "ExperimentConfig", "ConfigError", "parse_overrides"]


class ConfigError(ValueError):
    """A config that cannot run: says which key is wrong and what is valid."""


@dataclass
class DataSection:
    """Which data, and which part of its training split.

    ``profile``: a stand-in profile (``teaching``, ``full``) or ``real`` (the real data set
    at ``root``, in its official format). ``seed``: which stand-in instance is generated
    (part of the data, not of the run). ``fraction`` / ``k_shot``: train on a seeded
    subset (§4.3); ``subset_seed``: ``"run"`` draws a new subset per run seed, the paper's
    repeated trials, or a fixed int. ``augment``: the paper's training augmentation."""

    dataset: str = "modelnet40"
    profile: str = "teaching"
    root: str | None = None
    options: dict = field(default_factory=dict)
    seed: int = 0
    fraction: float | None = None
    k_shot: int | None = None
    subset_seed: int | str = "run"
    augment: bool = True


@dataclass
class ModelSection:
    """The model and its transfer, as :func:`i2p.finetune.prepare_model` takes them."""

    model: str = "resnet18"
    source: str | None = None
    scope: str = "io_bn"
    transform: str = "default"
    copy_axis: str = "up"
    learnable: str | None = None
    t_init: str = "default"
    head: str = "default"


@dataclass
class RecipeSection:
    """Optimiser and schedule (:class:`i2p.train.TrainConfig`); ``minutes``: a time budget
    on top of ``epochs`` (stops after the epoch that spends it; such a run's length depends
    on the machine); ``eval_every``: evaluate every N epochs for the curves (0: at the end);
    ``precision``: auto | fp32 | bf16 | fp16 (:mod:`i2p.precision`; a run's identity holds
    the precision ``auto`` resolves to on its device)."""

    optimizer: str = "sgd"
    lr: float = 0.1
    momentum: float = 0.9
    nesterov: bool = False
    weight_decay: float = 1e-4
    schedule: str = "cosine"
    warmup_iters: int = 0
    batch_size: int = 32
    epochs: int = 300
    minutes: float | None = None
    voxel_size: float = 0.05
    seg_loss: str = "point"
    eval_every: int = 0
    precision: str = "auto"


_SECTIONS = {"data": DataSection, "model": ModelSection, "recipe": RecipeSection}
#: top-level keys that label a run but do not change what it computes
_LABELS = ("name", "cell", "seeds", "device")


@dataclass
class ExperimentConfig:
    name: str | None = None
    cell: str | None = None
    seeds: list[int] = field(default_factory=lambda: [0])
    device: str = "auto"
    data: DataSection = field(default_factory=DataSection)
    model: ModelSection = field(default_factory=ModelSection)
    recipe: RecipeSection = field(default_factory=RecipeSection)

    # ------------------------------------------------------------------ building
    @classmethod
    def from_dict(cls, d: dict) -> "ExperimentConfig":
        """Strict: every key must be known (the error lists the valid ones)."""
        if not isinstance(d, dict):
            raise ConfigError(f"a config is a mapping of keys, got {type(d).__name__}")
        top = {f.name for f in fields(cls)}
        _unknown(d, top, "config")
        kw: dict[str, Any] = {}
        for k, v in d.items():
            if k in _SECTIONS:
                if not isinstance(v, dict):
                    raise ConfigError(f"'{k}' must be a mapping of keys ({', '.join(_names(_SECTIONS[k]))}), got {v!r}")
                _unknown(v, set(_names(_SECTIONS[k])), k)
                kw[k] = _SECTIONS[k](**copy.deepcopy(v))
            else:
                kw[k] = v
        return cls(**kw)

    @classmethod
    def load(cls, path: str | Path) -> "ExperimentConfig":
        path = Path(path)
        try:
            d = yaml.safe_load(path.read_text())
        except OSError as e:
            raise ConfigError(f"cannot read config {path}: {e.strerror}") from None
        except yaml.YAMLError as e:
            raise ConfigError(f"{path} is not valid YAML: {e}") from None
        return cls.from_dict(d or {})

    def to_dict(self) -> dict:
        return asdict(self)

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    def with_overrides(self, overrides: list[str] | dict) -> "ExperimentConfig":
        """A copy with ``key=value`` overrides (dotted keys, YAML values) applied;
        ``data.options.NAME=value`` sets one generator option and keeps the others (the
        option names are checked by :meth:`validate`)."""
        d = self.to_dict()
        items = parse_overrides(overrides) if isinstance(overrides, list) else overrides
        for key, value in items.items():
            *path, last = key.split(".")
            if path == ["data", "options"]:
                d["data"]["options"] = {**(d["data"]["options"] or {}), last: value}
                continue
            node = d
            for p in path:
                if p not in _SECTIONS or not isinstance(node.get(p), dict):
                    raise ConfigError(f"unknown config key {key!r}: sections are {', '.join(_SECTIONS)}")
                node = node[p]
            if last not in node:
                where = path[0] if path else "config"
                raise ConfigError(f"unknown {where} key {last!r} in override {key!r}; valid: {', '.join(node)}")
            node[last] = value
        return ExperimentConfig.from_dict(d)

    def for_seed(self, seed: int) -> "ExperimentConfig":
        return dataclasses.replace(self, seeds=[int(seed)])

    # ------------------------------------------------------------------ identity
    def resolved_data(self) -> dict | None:
        """The stand-in's generator options as resolved from the profile, and the generator
        version: what the data of this config is, even after a profile changes (None for
        real data)."""
        from ..data.registry import get as get_dataset

        if self.data.profile == "real":
            return None
        spec = get_dataset(self.data.dataset)
        return {"options": spec.resolve_options(self.data.profile, self.data.options),
                "generator_version": spec.generator_version}

    def identity(self, seed: int) -> dict:
        """What decides a run's result: everything but the labels, the resolved data (so a
        changed profile never returns runs of its old data), the content of i2p-trained 2D
        weights (retrained under the same name), the data set's input feature scaling, plus
        the seed."""
        from ..data.registry import get as get_dataset
        from ..weights import weights_fingerprint

        d = {k: v for k, v in self.to_dict().items() if k not in _LABELS}
        d["data_resolved"] = self.resolved_data()
        feature_scale = get_dataset(self.data.dataset).feature_scale
        if feature_scale is not None:  # data sets without one keep the keys they had
            d["feature_scale"] = list(feature_scale)
        fingerprint = weights_fingerprint(self.model.source) if self.model.source else None
        if fingerprint is not None:  # i2p-trained 2D weights: what was loaded, not only its name
            d["source_sha1"] = fingerprint
        precision = self.resolved_precision().name
        if precision == "fp32":  # float32 runs keep the keys they had before precision was a key
            del d["recipe"]["precision"]
        else:
            d["recipe"]["precision"] = precision
        d["seed"] = int(seed)
        return d

    def resolved_precision(self):
        """The :class:`i2p.precision.Precision` this config runs in on its device."""
        from ..precision import resolve_precision
        from ..train import pick_device

        try:
            return resolve_precision(self.recipe.precision, pick_device(self.device))
        except ValueError as e:
            raise ConfigError(f"recipe.precision: {e}") from None

    def run_key(self, seed: int) -> str:
        return hashlib.sha1(json.dumps(self.identity(seed), sort_keys=True).encode()).hexdigest()[:12]

    def config_key(self) -> str:
        """What the seeds of one experiment share (its runs differ only by seed)."""
        d = self.identity(0)
        del d["seed"]
        return hashlib.sha1(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]

    # ------------------------------------------------------------------ validation
    def validate(self, check_data: bool = True, check_weights: bool = True) -> "ExperimentConfig":
        """Refuse what cannot run, before any compute: unknown names (listing the valid
        ones), values out of range, inconsistent scope/source, a registered 2D source that
        is not on this machine (``check_weights``: the message says how to get it) and
        real-data roots that fail the data set's check (``check_data``). Returns self."""
        from ..data.registry import get as get_dataset
        from ..finetune import COPY_AXIS_CHOICES, RANDOM_SCOPES, RANDOM_SOURCE, FinetuneScope, parse_scope
        from ..inflate import TRANSFORM_NAMES
        from ..models import family_of
        from ..models.layers import HEADS
        from ..train import MAX_SEED, OPTIMIZERS, SCHEDULES, SEG_LOSSES, TrainConfig, is_seed
        from ..weights import SOURCES, WeightsUnavailable, find_weights, how_to_get, weights_problem

        try:
            spec = get_dataset(self.data.dataset)
            family = family_of(self.model.model)
            scope = parse_scope(self.model.scope)
        except ValueError as e:
            raise ConfigError(str(e)) from None
        _check(isinstance(self.seeds, list) and self.seeds and all(is_seed(s) for s in self.seeds),
               f"seeds must be a non-empty list of ints in [0, {MAX_SEED}], got {self.seeds!r}")
        _check(len(set(self.seeds)) == len(self.seeds), f"seeds repeat: {self.seeds}")
        _check(isinstance(self.device, str) and (self.device in ("auto", "cpu") or self.device.startswith("cuda")),
               f"device must be auto, cpu or cuda[:N], got {self.device!r}")
        d, m, r = self.data, self.model, self.recipe
        profiles = [*spec.profiles, "real"]
        _check(d.profile in profiles, f"data.profile must be one of {', '.join(profiles)}, got {d.profile!r}")
        if d.profile == "real":
            _check(isinstance(d.root, str) and d.root, f"data.profile real needs data.root: the {spec.title} folder")
            _check(not d.options, "data.options are stand-in generator options; they do not apply to real data")
        else:
            _check(d.root is None, f"data.root is for profile real; the {spec.stand_in} profile {d.profile!r} is generated")
            try:
                spec.resolve_options(d.profile, d.options)
            except (ValueError, TypeError) as e:
                raise ConfigError(f"data.options: {e}") from None
        _check(is_seed(d.seed), f"data.seed must be an int in [0, {MAX_SEED}], got {d.seed!r}")
        _check(d.fraction is None or d.k_shot is None, "data.fraction and data.k_shot exclude each other")
        _check(d.fraction is None or (isinstance(d.fraction, (int, float)) and 0 < d.fraction <= 1),
               f"data.fraction must be in (0, 1], got {d.fraction!r}")
        _check(d.k_shot is None or (_is_int(d.k_shot) and d.k_shot >= 1), f"data.k_shot must be an int >= 1, got {d.k_shot!r}")
        _check(d.k_shot is None or spec.task == "cls", "data.k_shot needs a classification data set")
        _check(d.subset_seed == "run" or is_seed(d.subset_seed),
               f"data.subset_seed must be 'run' or an int in [0, {MAX_SEED}], got {d.subset_seed!r}")
        _check(isinstance(d.augment, bool), f"data.augment must be true or false, got {d.augment!r}")

        scratch = scope is FinetuneScope.SCRATCH
        _check(not (scratch and m.source), f"model.scope scratch takes no 2D source, got model.source={m.source!r}")
        _check(scratch or m.source, f"model.scope {scope.value} finetunes 2D weights: set model.source (see i2p info)")
        if m.source == RANDOM_SOURCE:
            _check(scope in RANDOM_SCOPES, f"model.source random (the random-backbone control) goes with scope "
                   f"{', '.join(s.value for s in RANDOM_SCOPES)}, not {scope.value}")
        elif m.source and m.source in SOURCES:
            reads = family.source_arch(m.model)
            _check(SOURCES[m.source].arch == reads,
                   f"model.source {m.source!r} holds a {SOURCES[m.source].arch}, model.model is {m.model}"
                   + (f" (which reads {reads} weights)" if reads != m.model else ""))
        elif m.source:
            _check(Path(m.source).is_file(), f"model.source {m.source!r} is neither a registered 2D source "
                   f"({', '.join(SOURCES)}) nor a checkpoint file")
        _check(m.transform in TRANSFORM_NAMES, f"model.transform must be one of {', '.join(TRANSFORM_NAMES)}, got {m.transform!r}")
        _check(m.copy_axis in COPY_AXIS_CHOICES, f"model.copy_axis must be one of {', '.join(COPY_AXIS_CHOICES)}, got {m.copy_axis!r}")
        _check(m.learnable in (None, "shared", "nonshared"), f"model.learnable must be null, shared or nonshared, got {m.learnable!r}")
        _check(m.t_init in ("default", "random"), f"model.t_init must be default or random, got {m.t_init!r}")
        _check(m.head in HEADS, f"model.head must be one of {', '.join(HEADS)}, got {m.head!r}")
        learn_t = scope is FinetuneScope.LEARN_T
        _check(learn_t or (m.learnable is None and m.t_init == "default"),
               f"model.learnable / model.t_init belong to scope learn_t, not {scope.value}")

        _check(r.optimizer in OPTIMIZERS, f"recipe.optimizer must be one of {', '.join(OPTIMIZERS)}, got {r.optimizer!r}")
        _check(r.schedule in SCHEDULES, f"recipe.schedule must be one of {', '.join(SCHEDULES)}, got {r.schedule!r}")
        _check(r.seg_loss in SEG_LOSSES, f"recipe.seg_loss must be one of {', '.join(SEG_LOSSES)}, got {r.seg_loss!r}")
        _check(r.minutes is None or (isinstance(r.minutes, (int, float)) and math.isfinite(r.minutes) and r.minutes > 0),
               f"recipe.minutes must be a positive number or null, got {r.minutes!r}")
        _check(_is_int(r.eval_every) and r.eval_every >= 0, f"recipe.eval_every must be an int >= 0, got {r.eval_every!r}")
        try:  # the trainer's own checks (lr, epochs, batch size, voxel size ...)
            TrainConfig(**self.train_kwargs(spec, seed=self.seeds[0]))
        except ValueError as e:
            raise ConfigError(f"recipe: {e}") from None
        self.resolved_precision()  # fp16 on a CPU, bf16 on a GPU without it
        if check_weights and m.source in SOURCES:
            try:
                path = find_weights(m.source)
            except WeightsUnavailable as e:
                raise ConfigError(f"model.source: {e}") from None
            problem = weights_problem(path)
            _check(not problem, f"model.source {m.source}: {path} is {problem}; delete it, then {how_to_get(m.source)}")
        if check_data and d.profile == "real":
            problems = spec.check(d.root)
            _check(not problems, f"data.root {d.root} fails `i2p data check --dataset {spec.name}`: "
                   + "; ".join(problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else ""))
        return self

    def train_kwargs(self, spec, seed: int) -> dict:
        """Keyword arguments of :class:`i2p.train.TrainConfig` for this config and seed."""
        r = self.recipe
        return dict(task=spec.task, epochs=r.epochs, batch_size=r.batch_size, lr=r.lr, momentum=r.momentum,
                    nesterov=r.nesterov, weight_decay=r.weight_decay, schedule=r.schedule,
                    warmup_iters=r.warmup_iters, seg_loss=r.seg_loss, voxel_size=r.voxel_size, seed=int(seed),
                    device=self.device, ignore_index=spec.ignore_index, max_minutes=r.minutes,
                    optimizer=r.optimizer, eval_every=max(r.eval_every, 1), precision=r.precision)



def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["recipe.lr=0.05", "seeds=[0,1]"]`` -> ``{"recipe.lr": 0.05, "seeds": [0, 1]}``."""
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} is not key=value (e.g. recipe.lr=0.05)")
        try:
            out[key.strip()] = yaml.safe_load(value) if value.strip() else None
        except yaml.YAMLError:
            raise ConfigError(f"override {item!r}: {value!r} is not a YAML value") from None
    return out


def _names(cls) -> list[str]:
    return [f.name for f in fields(cls)]


def _unknown(d: dict, valid: set[str], where: str) -> None:
    bad = sorted(set(d) - valid)
    if bad:
        raise ConfigError(f"unknown {where} key(s) {bad}; valid: {', '.join(sorted(valid))}")


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _check(ok, message: str) -> None:
    if not ok:
        raise ConfigError(message)
