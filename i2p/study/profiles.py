"""How big a study is: one profile for every notebook.

- ``quick`` (the default, the README's first command): the whole study in about half an
  hour on 2 CPU cores -- the core rows of each table, one seed, short recipes.
- ``teaching``: every teaching cell with the teaching presets as calibrated (3 seeds;
  hours on 2 cores).
- ``paper``: the paper-scale presets (real data under ``$I2P_REAL_DATA``, the paper's
  recipes and 2D sources, a GPU).
- ``smoke``: tiny data, one epoch: checks that every notebook runs (CI).

A profile only changes sizes (seeds, epochs, data size, which rows); the experiments
themselves come from the presets (:mod:`i2p.experiments.presets`), so a quick run and a
teaching run of the same cell differ exactly in what the profile says.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..data.modelnet.spec import QUICK_OPTIONS as _TEN  # the ten classes from before calibration v7

__all__ = ["Profile", "PROFILES", "get_profile"]


@dataclass(frozen=True)
class Profile:
    """``scale``: which presets (``teaching`` | ``paper``); ``seeds``: None keeps the
    preset's seeds; ``overrides``: config overrides (``recipe.epochs`` ...) per data set
    and per model name (a model's apply after its data set's);
    ``full``: run every row of a table, else the core rows each notebook names;
    ``timeout_min``: per notebook, for the headless study."""

    name: str
    scale: str
    seeds: tuple[int, ...] | None
    overrides: dict[str, dict] = field(default_factory=dict)
    full: bool = False
    timeout_min: float = 30.0
    blurb: str = ""


PROFILES: dict[str, Profile] = {p.name: p for p in (
    Profile("smoke", "teaching", (0,), {
        "modelnet40": {"recipe.epochs": 1, "data.options": {**_TEN, "train": 4, "test": 1, "points": 512}},
        "s3dis": {"recipe.epochs": 1, "data.options": {"rooms_per_area": 1, "points": [3000, 4000]}},
        "semantickitti": {"recipe.epochs": 1, "data.options": {"sweeps": 1, "val_sweeps": 1, "azimuths": 128}},
    }, timeout_min=15, blurb="tiny data, one epoch, one seed: checks that every notebook runs"),
    Profile("quick", "teaching", (0,), {
        "modelnet40": {"recipe.epochs": 8, "data.options": _TEN},
        "s3dis": {"recipe.epochs": 6},
        # 4 epochs of 2 sweeps per training sequence (40 steps; the teaching data until `ks8`):
        # the teaching profile's 8 would make every epoch 4x as long
        "semantickitti": {"recipe.epochs": 4, "data.options": {"sweeps": 2}},
        # notebook 02's models, sized apart: a PointNet++ step costs ~10x a Lite0 classifier's
        # on a CPU and a range U-Net step ~3 s; at 2 epochs on the full quick data, 02 alone
        # took 20 min with other jobs running (16 shapes per class: 10 steps per epoch)
        "pointnet2_ssg": {"recipe.epochs": 2, "data.options": {**_TEN, "train": 16}},
        "range_lite0": {"recipe.epochs": 2},
    }, timeout_min=20,
        blurb="the core rows, one seed, short recipes: ~30 min on 2 CPU cores with fast bfloat16, ~50 in float32"),
    Profile("teaching", "teaching", None, full=True, timeout_min=24 * 60,
            blurb="every teaching cell, the calibrated teaching recipes, 3 seeds: hours on 2 CPU cores"),
    Profile("paper", "paper", None, full=True, timeout_min=14 * 24 * 60,
            blurb="real data, the paper's recipes and 2D sources: a GPU box"),
)}


def get_profile(name: str | Profile) -> Profile:
    if isinstance(name, Profile):
        return name
    try:
        return PROFILES[name]
    except KeyError:
        raise ValueError(f"unknown study profile {name!r}; choose one of {', '.join(PROFILES)}") from None
