"""S3DIS indoor segmentation (paper §4 "Datasets", Appendix 6.1): the real data set's
reader and the embedded stand-in SynthS3DIS, behind :data:`SPEC`.

One sample per room: ``points`` [N, 3] (metres, z up), ``feats`` [N, 6] = xyz + rgb in
[0, 1] (the paper's ``in_channels=6``), ``label`` [N] ids of :data:`CLASSES`, ``name``
``Area_<k>/<room>``. Splits: ``train`` = areas 1, 2, 3, 4, 6; ``test`` = area 5.

- :mod:`.labels`: the 13 classes, label colours, areas of each split
- :mod:`.synth`: the SynthS3DIS generator (rooms of analytic surfaces sampled like a scan)
- :mod:`.real`: the official ``Stanford3dDataset_v1.2_Aligned_Version`` text format, its
  parse cache, and the check of a copy
- :mod:`.gallery`: the gallery figure
- :mod:`.spec`: :class:`S3DISSpec`
"""
from .labels import AREAS, CLASS_ID, CLASSES, LABEL_COLORS, SPLIT_AREAS, TEST_AREA
from .real import REAL_DIRNAME, read_annotation, read_areas, read_room
from .spec import S3DISSpec
from .synth import generate_room

SPEC = S3DISSpec()
check = SPEC.check

__all__ = [
    "SPEC", "S3DISSpec", "CLASSES", "CLASS_ID", "LABEL_COLORS", "AREAS", "TEST_AREA", "SPLIT_AREAS",
    "REAL_DIRNAME", "read_annotation", "read_room", "read_areas", "check", "generate_room",
]
