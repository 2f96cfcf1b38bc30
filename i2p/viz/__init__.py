"""The notebooks' figures: export (:mod:`.export`), learned filter transformations
(:mod:`.transforms`), BatchNorm statistic shifts (:mod:`.bn`), rows and curves
(:mod:`.curves`) and 3D predictions (:mod:`.scenes`). Each function returns a figure;
:class:`FigureSink` saves it where the study report finds it."""
from .export import FigureSink, find_chromium

__all__ = ["FigureSink", "find_chromium"]
