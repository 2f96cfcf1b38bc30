"""A tiny but valid copy of the real S3DIS in its official on-disk format."""
from __future__ import annotations

import pathlib

import numpy as np

from i2p.data.s3dis import REAL_DIRNAME

#: (area, room) -> annotation file stem -> (points, rgb 0-255); every area has a room
ROOMS: dict[tuple[str, str], dict[str, tuple[int, list[int]]]] = {
    ("Area_1", "office_1"): {"ceiling_1": (30, [250, 250, 240]), "floor_1": (25, [90, 90, 100]),
                             "chair_1": (10, [20, 30, 200]), "chair_2": (12, [20, 30, 201]),
                             "clutter_1": (7, [120, 110, 100])},
    ("Area_1", "conferenceRoom_1"): {"wall_1": (20, [200, 190, 180]), "table_1": (15, [160, 120, 80]),
                                     "board_1": (5, [255, 255, 255])},
    ("Area_2", "storage_1"): {"floor_1": (8, [80, 80, 80]), "bookcase_1": (6, [120, 80, 40])},
    ("Area_3", "lounge_1"): {"floor_1": (8, [80, 80, 80]), "sofa_1": (6, [150, 40, 30])},
    ("Area_4", "office_3"): {"wall_1": (8, [210, 210, 200]), "window_1": (4, [200, 220, 235]),
                             "beam_1": (3, [220, 220, 215])},
    ("Area_5", "hallway_6"): {"ceiling_1": (40, [230, 230, 230]), "door_1": (9, [100, 60, 30])},
    ("Area_6", "copyRoom_1"): {"floor_1": (8, [80, 80, 80]), "column_1": (5, [200, 200, 190])},
}


def write_lines(path: pathlib.Path, rows: np.ndarray) -> None:
    """``x y z r g b`` lines like the real files (3 decimals, integer colours)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{x:.3f} {y:.3f} {z:.3f} {int(r)} {int(g)} {int(b)}\n" for x, y, z, r, g, b in rows))


def write_real(root: pathlib.Path) -> pathlib.Path:
    """Write ``root/Stanford3dDataset_v1.2_Aligned_Version`` (areas 1-6, 7 rooms, 10 of
    the 13 classes, a few points per file) and return that folder."""
    rng = np.random.default_rng(0)
    base = pathlib.Path(root) / REAL_DIRNAME
    for (area, room), files in ROOMS.items():
        room_rows = []
        for stem, (n, rgb) in files.items():
            rows = np.concatenate([np.round(rng.uniform(0, 5, (n, 3)), 3), np.tile(rgb, (n, 1))], 1)
            write_lines(base / area / room / "Annotations" / f"{stem}.txt", rows)
            room_rows.append(rows)
        write_lines(base / area / room / f"{room}.txt", np.concatenate(room_rows))
    return base
