"""The 13 standard S3DIS classes, their label colours, and the areas behind each split."""
from __future__ import annotations

import numpy as np

__all__ = [
    "CLASSES", "CLASS_ID", "LABEL_COLORS", "AREAS", "TEST_AREA", "SPLIT_AREAS",
    "CEILING", "FLOOR", "WALL", "BEAM", "COLUMN", "WINDOW", "DOOR",
    "TABLE", "CHAIR", "SOFA", "BOOKCASE", "BOARD", "CLUTTER",
]

CLASSES: tuple[str, ...] = (
    "ceiling", "floor", "wall", "beam", "column", "window", "door",
    "table", "chair", "sofa", "bookcase", "board", "clutter",
)
CLASS_ID: dict[str, int] = {c: i for i, c in enumerate(CLASSES)}
CEILING, FLOOR, WALL, BEAM, COLUMN, WINDOW, DOOR, TABLE, CHAIR, SOFA, BOOKCASE, BOARD, CLUTTER = range(13)

#: label colours of the gallery (close to the usual S3DIS visualisation palette)
LABEL_COLORS = np.array([
    [0.00, 0.78, 0.78], [0.78, 0.78, 0.39], [0.86, 0.55, 0.20], [1.00, 0.85, 0.00],
    [0.60, 0.40, 0.80], [0.10, 0.60, 1.00], [0.55, 0.27, 0.07], [0.85, 0.10, 0.10],
    [0.10, 0.70, 0.20], [1.00, 0.40, 0.70], [0.05, 0.25, 0.55], [0.45, 0.45, 0.45],
    [0.20, 0.20, 0.20],
])

AREAS: tuple[int, ...] = (1, 2, 3, 4, 5, 6)
#: the paper trains on every other area and evaluates on area 5
TEST_AREA = 5
SPLIT_AREAS: dict[str, tuple[int, ...]] = {
    "train": tuple(a for a in AREAS if a != TEST_AREA),
    "test": (TEST_AREA,),
}
