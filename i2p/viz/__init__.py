"""The notebooks' figures: export (:mod:`.export`), learned filter transformations
(:mod:`.transforms`), BatchNorm statistic shifts (:mod:`.bn`), rows and curves
(:mod:`.curves`), 3D predictions (:mod:`.scenes`) and range images (:mod:`.range_view`). Each function returns a figure;
:class:`FigureSink` saves it where the study report finds it."""
from .export import FigureSink, find_chromium

__all__ = ["FigureSink", "find_chromium"]
