"""Experiments as data: the paper's tables (:mod:`.paper`), one config per run
(:mod:`.config`), a preset per table cell (:mod:`.presets`), a results store with
run / sweep / load_runs (:mod:`.runs`) and paper-vs-run tables (:mod:`.compare`)."""
from .compare import compare
from .config import ConfigError, ExperimentConfig
from .paper import PaperCell, paper_cell, paper_cells
from .presets import Preset, preset, presets
from .runs import Record, evaluate_run, load_runs, run, summarize, sweep

__all__ = ["ExperimentConfig", "ConfigError", "PaperCell", "paper_cell", "paper_cells", "Preset", "preset", "presets",
           "Record", "run", "sweep", "load_runs", "evaluate_run", "summarize", "compare"]
