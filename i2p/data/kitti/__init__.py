"""SemanticKITTI (outdoor LiDAR segmentation) and SynthKITTI, its embedded stand-in.

Paper §4 / Appendix 6.1: 64-beam sweeps with x, y, z and intensity, 19 classes, trained
on sequences 00-10 except 08, evaluated on 08. Use it through :data:`SPEC`
(``SPEC.load("train")``, ``SPEC.load_real(root, "val")``, ``SPEC.check(root)``...).

* :mod:`.labels`: raw ids, the official learning map (moving classes folded onto static
  ones, 0 = ignore), colours, class names, :func:`map_labels`, the split's sequences.
* :mod:`.synth`: the SynthKITTI generator (procedural streets ray-cast by a simulated
  HDL-64E); :func:`synth_sweeps` gives one sequence uncached.
* :mod:`.real`: readers for ``sequences/NN/velodyne/*.bin`` and ``labels/*.label``, the
  lazy :class:`RealKittiDataset`, and the check of a download.
* :mod:`.gallery`: the gallery figure. :mod:`.spec`: :class:`KittiSpec`.
"""
from .labels import (CLASSES, COLOR_MAP, IGNORE_INDEX, LEARNING_MAP, LEARNING_MAP_INV, RAW_LABELS,
                     TRAIN_SEQUENCES, VAL_SEQUENCE, class_colors, map_labels)
from .real import RealKittiDataset, read_labels, read_scan
from .spec import KittiSpec
from .synth import BEAM_ELEVATIONS_DEG, SENSOR_HEIGHT, synth_sweeps

SPEC = KittiSpec()

__all__ = [
    "SPEC", "KittiSpec", "RAW_LABELS", "LEARNING_MAP", "LEARNING_MAP_INV", "COLOR_MAP", "CLASSES", "IGNORE_INDEX",
    "TRAIN_SEQUENCES", "VAL_SEQUENCE", "SENSOR_HEIGHT", "BEAM_ELEVATIONS_DEG", "map_labels", "class_colors",
    "synth_sweeps", "read_scan", "read_labels", "RealKittiDataset",
]
