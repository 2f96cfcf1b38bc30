"""SemanticKITTI's label tables (from the official ``semantic-kitti.yaml``) and split.

Raw ids are what ``.label`` files hold; the learning map folds them onto 19 train
classes (moving classes onto their static counterparts, lane-marking onto road) and
0 = ignore. i2p's train labels are ``learning id - 1`` (0..18) with ignore =
:data:`IGNORE_INDEX`, the trainer's ``ignore_index``; :func:`map_labels` does this.
"""
from __future__ import annotations

import numpy as np

__all__ = [
    "RAW_LABELS", "LEARNING_MAP", "LEARNING_MAP_INV", "COLOR_MAP", "CLASSES", "IGNORE_INDEX",
    "TRAIN_SEQUENCES", "VAL_SEQUENCE", "map_labels", "class_colors",
]

RAW_LABELS: dict[int, str] = {
    0: "unlabeled", 1: "outlier",
    10: "car", 11: "bicycle", 13: "bus", 15: "motorcycle", 16: "on-rails", 18: "truck",
    20: "other-vehicle", 30: "person", 31: "bicyclist", 32: "motorcyclist",
    40: "road", 44: "parking", 48: "sidewalk", 49: "other-ground",
    50: "building", 51: "fence", 52: "other-structure", 60: "lane-marking",
    70: "vegetation", 71: "trunk", 72: "terrain", 80: "pole", 81: "traffic-sign",
    99: "other-object",
    252: "moving-car", 253: "moving-bicyclist", 254: "moving-person", 255: "moving-motorcyclist",
    256: "moving-on-rails", 257: "moving-bus", 258: "moving-truck", 259: "moving-other-vehicle",
}

#: raw id -> learning id (0 = ignore, 1..19 = the train classes), as the official yaml.
LEARNING_MAP: dict[int, int] = {
    0: 0, 1: 0,
    10: 1, 11: 2, 13: 5, 15: 3, 16: 5, 18: 4, 20: 5, 30: 6, 31: 7, 32: 8,
    40: 9, 44: 10, 48: 11, 49: 12, 50: 13, 51: 14, 52: 0, 60: 9,
    70: 15, 71: 16, 72: 17, 80: 18, 81: 19, 99: 0,
    252: 1, 253: 7, 254: 6, 255: 8, 256: 5, 257: 5, 258: 4, 259: 5,
}

#: learning id -> raw id (0 -> unlabeled).
LEARNING_MAP_INV: dict[int, int] = {
    0: 0, 1: 10, 2: 11, 3: 15, 4: 18, 5: 20, 6: 30, 7: 31, 8: 32, 9: 40, 10: 44,
    11: 48, 12: 49, 13: 50, 14: 51, 15: 70, 16: 71, 17: 72, 18: 80, 19: 81,
}

#: raw id -> colour, **BGR** as in the official yaml.
COLOR_MAP: dict[int, tuple[int, int, int]] = {
    0: (0, 0, 0), 1: (0, 0, 255),
    10: (245, 150, 100), 11: (245, 230, 100), 13: (250, 80, 100), 15: (150, 60, 30),
    16: (255, 0, 0), 18: (180, 30, 80), 20: (255, 0, 0), 30: (30, 30, 255),
    31: (200, 40, 255), 32: (90, 30, 150), 40: (255, 0, 255), 44: (255, 150, 255),
    48: (75, 0, 75), 49: (75, 0, 175), 50: (0, 200, 255), 51: (50, 120, 255),
    52: (0, 150, 255), 60: (170, 255, 150), 70: (0, 175, 0), 71: (0, 60, 135),
    72: (80, 240, 150), 80: (150, 240, 255), 81: (0, 0, 255), 99: (255, 255, 50),
    252: (245, 150, 100), 253: (200, 40, 255), 254: (30, 30, 255), 255: (90, 30, 150),
    256: (255, 0, 0), 257: (250, 80, 100), 258: (180, 30, 80), 259: (255, 0, 0),
}

#: i2p class index 0..18 = learning id - 1.
CLASSES: tuple[str, ...] = tuple(RAW_LABELS[LEARNING_MAP_INV[i]] for i in range(1, 20))
IGNORE_INDEX = -100

#: the paper's split: train on sequences 00-10 except 08, evaluate on 08
TRAIN_SEQUENCES: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6, 7, 9, 10)
VAL_SEQUENCE = 8

_LUT_SIZE = 1 << 16  # raw ids are the lower 16 bits of a .label entry
_LUT = np.full(_LUT_SIZE, -1, dtype=np.int64)  # -1: not in the table
for _raw, _learn in LEARNING_MAP.items():
    _LUT[_raw] = _learn - 1 if _learn > 0 else IGNORE_INDEX


def map_labels(raw: np.ndarray) -> np.ndarray:
    """Raw SemanticKITTI ids -> i2p train labels (0..18, ignore = -100), int64.

    Raises ``ValueError`` naming the ids that are not in the official table, so a
    corrupt or foreign label file is not silently trained on.
    """
    raw = np.asarray(raw)
    if raw.size and not np.issubdtype(raw.dtype, np.integer):
        raise ValueError(f"raw labels must be integers, got dtype {raw.dtype}")
    r = raw.astype(np.int64, copy=False)
    bad = (r < 0) | (r >= _LUT_SIZE)
    out = np.full(r.shape, -1, dtype=np.int64)
    out[~bad] = _LUT[r[~bad]]
    bad |= out == -1
    if bad.any():
        ids = np.unique(r[bad])
        shown = ", ".join(str(int(i)) for i in ids[:20]) + (" ..." if len(ids) > 20 else "")
        raise ValueError(f"raw label ids not in the SemanticKITTI learning map: {shown}")
    return out


def class_colors() -> np.ndarray:
    """``[19, 3]`` RGB in [0, 1] for the train classes (SemanticKITTI's colours)."""
    return np.array([COLOR_MAP[LEARNING_MAP_INV[i + 1]][::-1] for i in range(19)], dtype=np.float32) / 255.0
