"""One notebook's experiments: rows of a paper table, run through the experiment layer.

A notebook builds a :class:`Study` from its parameters (profile, device, precision,
seeds), asks for rows by paper cell (``study.row("I,O", "t1.io.modelnet40")``) and for
their controls (``control=True``: the same scope on a random, frozen backbone whose
BatchNorm statistics are re-estimated), runs them (finished runs come back from the
store, so reopening a notebook is instant) and gets the paper-vs-run table back. All
sizes come from the profile (:mod:`.profiles`); the experiments from the presets.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from ..experiments import ExperimentConfig, Preset, Record, preset, run, sweep
from ..pretrain2d import ON_DEMAND
from ..experiments.paper import PaperCell
from ..viz.export import FigureSink
from .profiles import Profile, get_profile
from .reading import difference, fmt, mean_std, rank_agreement

__all__ = ["Study", "Row", "project_root", "DryRun", "DRY_RUN_ENV"]

#: minutes of i2p's own 2D pretraining per profile (cached; ``i2p pretrain2d`` for more)
PRETRAIN_MINUTES = {"smoke": 0.1, "quick": 1.0, "teaching": 8.0, "paper": 60.0}


#: set (to anything but "" / "0") to plan a study: ``Study.run`` validates and lists every
#: run, then stops the notebook with :class:`DryRun` (``i2p study --dry-run``)
DRY_RUN_ENV = "I2P_STUDY_DRY_RUN"


class DryRun(Exception):
    """Raised by ``Study.run`` in a dry run, after the plan is printed."""


def project_root(start: str | Path | None = None) -> Path:
    """The i2p checkout around ``start`` (the folder holding ``notebooks/`` and
    ``pyproject.toml``), so a notebook opened from ``notebooks/`` and the headless study
    share ``runs/`` and ``figures/``; the current folder outside a checkout."""
    here = Path(start or os.getcwd()).resolve()
    for p in (here, *here.parents):
        if (p / "pyproject.toml").is_file() and (p / "notebooks").is_dir():
            return p
    return here


@dataclass
class Row:
    """One row of a notebook's table: a label, its config, the paper cell it stands for
    (None for a control) and, once run, its records."""

    label: str
    config: ExperimentConfig
    cell: PaperCell | None
    note: str = ""
    control_of: str | None = None
    records: list[Record] = field(default_factory=list)

    @property
    def values(self) -> list[float]:
        """The paper's metric per seed, in percent."""
        return [100 * r.metric for r in self.records]

    @property
    def mean(self) -> float:
        return mean_std(self.values)[0]


class Study:
    """The experiments of one notebook at one profile (see the module docstring)."""

    def __init__(self, notebook: str, profile: str | Profile = "quick", *, store: str | Path | None = None,
                 figures: str | Path | None = None, device: str = "auto", precision: str = "auto",
                 seeds: Sequence[int] | None = None, real_data: str | None = None, progress: bool = True,
                 title: str = "", question: str = "") -> None:
        self.profile = get_profile(profile)
        root = project_root()
        self.store = Path(store) if store else root / "runs"
        self.figures = FigureSink(notebook, figures or root / "figures")
        self.device, self.precision, self.progress = device, precision, progress
        self.seeds = list(seeds) if seeds is not None else (list(self.profile.seeds) if self.profile.seeds else None)
        if real_data:
            os.environ["I2P_REAL_DATA"] = str(real_data)
        self.rows: list[Row] = []
        self._ensured: set[str] = set()
        self.figures.meta(profile=self.profile.name, device=device, precision=precision, title=title or notebook,
                          question=question)

    @property
    def full(self) -> bool:
        """Whether this profile runs every row (teaching, paper) or the core ones."""
        return self.profile.full

    # ------------------------------------------------------------------ configs
    def config(self, cell_id: str, **changes: Any) -> ExperimentConfig:
        """The preset of ``cell_id`` at this profile's scale, sized by the profile, on this
        study's device/precision/seeds; ``changes``: more overrides (``{"model.scope": ...}``
        with dots written as ``__``: ``model__scope="io"``)."""
        return self._preset_config(cell_id, changes)[1]

    def _preset_config(self, cell_id: str, changes: dict) -> tuple[Preset, ExperimentConfig]:
        p = preset(f"{self.profile.scale}/{cell_id}")
        over = dict(self.profile.overrides.get(p.config.data.dataset, {}))
        over.update(self.profile.overrides.get(p.config.model.model, {}))  # a model's own sizes win
        over.update({"device": self.device, "recipe.precision": self.precision})
        if self.seeds is not None:
            over["seeds"] = list(self.seeds)
        over.update({k.replace("__", "."): v for k, v in changes.items()})
        return p, p.config.with_overrides(over)

    def _add(self, row: Row) -> Row:
        if any(r.label == row.label for r in self.rows):
            raise ValueError(f"a row is already labelled {row.label!r}: labels name rows in tables and readings")
        self.rows.append(row)
        return row

    def row(self, label: str, cell_id: str, *, control: bool = False, note: str = "", **changes: Any) -> Row:
        """Add the row of ``cell_id`` (and, with ``control``, its random-backbone control
        right after it); returns the row."""
        p, cfg = self._preset_config(cell_id, changes)
        r = self._add(Row(label, cfg, p.cell, note or p.note))
        if control:
            self.control(r)
        return r

    def extra(self, label: str, cell_id: str, note: str, **changes: Any) -> Row:
        """A row that is not a cell of the paper (no paper value), built from the preset
        of ``cell_id`` with ``changes`` (e.g. k-shot instead of a fraction)."""
        return self._add(Row(label, self.config(cell_id, **changes), None, note))

    def control(self, of: Row, label: str | None = None) -> Row:
        """The random-backbone control of a row: the same config with a random, frozen
        backbone (``model.source: random``; its BatchNorm statistics are re-estimated
        where the scope moves them)."""
        cfg = of.config.with_overrides({"model.source": "random"})
        return self._add(Row(label or f"{of.label} · random backbone", cfg, None, "control: random frozen backbone",
                             control_of=of.label))

    def ensure_source(self, name: str) -> None:
        """Train one of i2p's own 2D sources (:data:`i2p.pretrain2d.ON_DEMAND`) if it is not
        on this machine yet, or was trained with a shorter time budget than this profile's
        (:func:`i2p.pretrain2d.pretrain_source`); other sources must be here."""
        from ..pretrain2d import pretrain_source
        from ..weights import find_weights

        if name in self._ensured:
            return
        if name in ON_DEMAND:
            pretrain_source(name, PRETRAIN_MINUTES.get(self.profile.name, 8.0), progress=self.progress)
        else:
            find_weights(name)
        self._ensured.add(name)

    # ------------------------------------------------------------------ running
    def run(self, rows: Sequence[Row] | None = None) -> list[Row]:
        """Run (or fetch from the store) every row not run yet; returns the rows."""
        rows = list(self.rows if rows is None else rows)
        if os.environ.get(DRY_RUN_ENV, "") not in ("", "0"):
            self._plan(rows)
        for r in rows:
            if r.config.model.source in ON_DEMAND:
                self.ensure_source(r.config.model.source)
        todo = [r for r in rows if not r.records]
        if self.progress:  # one bar over every (row, seed)
            it = iter(sweep([r.config for r in todo], store=self.store, progress=True))
            for r in todo:
                r.records = [next(it) for _ in r.config.seeds]
            return rows
        for r in todo:  # headless: a line per row for the log (a notebook bar would be a widget)
            r.config.validate()
        for i, r in enumerate(todo, 1):
            r.records = run(r.config, store=self.store, progress=False)
            print(f"[i2p] row {i}/{len(todo)} {r.label}: {fmt(r.values)}", flush=True)
        return rows

    def _plan(self, rows: Sequence[Row]) -> None:
        """Validate every row (2D weights that i2p trains itself may be missing: they are
        pretrained on the real run), print one line per row -- every problem, not only the
        first -- and stop the notebook."""
        from ..experiments import ConfigError
        from ..experiments.runs import find_run

        n_new, problems = 0, []
        for r in rows:
            try:
                r.config.validate(check_weights=r.config.model.source not in ON_DEMAND)
            except ConfigError as e:
                problems.append(f"{r.label}: {e}")
                print(f"[i2p] plan: {r.label}: CANNOT RUN: {e}", flush=True)
                continue
            keys = [r.config.run_key(s) for s in r.config.seeds]
            done = sum(1 for k in keys if (f := find_run(self.store, k)) is not None and (f / "record.json").is_file())
            n_new += len(keys) - done
            print(f"[i2p] plan: {r.label} ({r.cell.id if r.cell else 'control/extra'}): {len(keys)} seed(s), "
                  f"{done} finished", flush=True)
        if problems:
            raise DryRun(f"{len(problems)} of {len(rows)} rows cannot run; first: {problems[0]}")
        raise DryRun(f"dry run of {self.figures.notebook}: {len(rows)} rows, {n_new} runs to compute")

    def steps(self, row: Row) -> int | None:
        """Optimiser steps the row's first run took (None for records without their
        training-set size): small data subsets take few steps at a fixed epoch budget."""
        rec = row.records[0] if row.records else None
        n = rec.timings.get("train_samples") if rec else None
        if n is None:
            return None
        b = row.config.recipe.batch_size
        return rec.timings["epochs"] * (n // b if n > b else 1)  # the trainer drops a last short batch

    def get(self, label: str) -> Row:
        for r in self.rows:
            if r.label == label:
                return r
        raise KeyError(f"no row {label!r}; rows: {', '.join(r.label for r in self.rows)}")

    # ------------------------------------------------------------------ models and data of a row
    def trained_model(self, row: Row, seed_index: int = 0):
        """The trained model of one seed of a run row (from its checkpoint)."""
        from ..experiments.runs import load_run_model

        if not row.records:
            raise ValueError(f"row {row.label!r} has not run yet: call study.run() first")
        return load_run_model(row.records[seed_index].folder)[0]

    def initial_model(self, row: Row):
        """The row's model before training: 2D weights inflated, scope applied."""
        from ..experiments.runs import initial_model

        return initial_model(row.config)[0]

    def test_set(self, row: Row):
        """The evaluation split of the row's data."""
        from ..data.registry import get as get_dataset
        from ..experiments.runs import load_split

        return load_split(row.config, get_dataset(row.config.data.dataset).eval_split)

    def train_config(self, row: Row):
        """The trainer config of the row's first seed (device, voxel size, precision)."""
        from ..experiments.runs import train_config

        return train_config(row.config)

    # ------------------------------------------------------------------ tables and readings
    def table(self, rows: Sequence[Row] | None = None, name: str = "table", caption: str = ""):
        """The paper's numbers beside this run's, one line per row (percent), and recorded
        for the study report."""
        import pandas as pd

        lines = []
        for r in (self.rows if rows is None else rows):
            c = r.cell
            paper_stab = (f"{c.stab_mean:.1f} ± {c.stab_std:.1f}" if c is not None and c.stab_mean is not None
                          and c.stab_std is not None else "")
            lines.append({"row": r.label, "paper": c.value if c is not None else None, "paper mean ± std": paper_stab,
                          "this run": fmt(r.values) if r.records else "not run",
                          "model": r.config.model.model, "2D source": r.config.model.source or "-",
                          "cell": c.id if c is not None else (f"control of {r.control_of}" if r.control_of else "not in the paper")})
        df = pd.DataFrame(lines)
        self.figures.table(name, df, caption=caption)
        return df

    def compare(self, a: str, b: str) -> str:
        """A sentence: how row ``a`` compares with row ``b`` on this run's seeds."""
        ra, rb = self.get(a), self.get(b)
        return difference(ra.values, rb.values, (a, b)).text

    def ordering(self, rows: Sequence[Row] | None = None) -> str:
        """A sentence: how many row pairs this run orders as the paper does."""
        rows = [r for r in (self.rows if rows is None else rows) if r.cell is not None and r.records]
        same, total = rank_agreement([r.cell.value for r in rows], [r.mean for r in rows])
        if total == 0:
            return "Too few rows with paper values to compare the ordering."
        return f"This run orders {same} of {total} row pairs as the paper does."

    def reading(self, *sentences: str) -> str:
        """Record the reading for the report and return it as one paragraph."""
        self.figures.reading(*sentences)
        return " ".join(sentences)
