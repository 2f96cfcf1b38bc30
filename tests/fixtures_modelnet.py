"""A tiny but valid copy of real ModelNet40 in its official h5 layout, for tests."""
from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np

from i2p.data.modelnet import CLASSES

#: (split, file index) -> class names of the shapes in that file
LAYOUT = {("train", 0): ["airplane", "chair", "cup"], ("train", 1): ["chair"], ("test", 0): ["cup", "airplane"]}


def write_real(root: Path) -> Path:
    """Write ``root/modelnet40_ply_hdf5_2048/`` like the PointNet release (``ply_data_<split><k>.h5``
    with ``data`` [B, 2048, 3] float32 in the unit sphere, ``label`` [B, 1] uint8 and
    ``normal``; ``shape_names.txt``; ``<split>_files.txt``) and return that folder."""
    folder = Path(root) / "modelnet40_ply_hdf5_2048"
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for (split, k), names in LAYOUT.items():
        data = rng.normal(size=(len(names), 2048, 3))
        data /= np.linalg.norm(data, axis=2, keepdims=True).max(axis=1, keepdims=True)
        with h5py.File(folder / f"ply_data_{split}{k}.h5", "w") as f:
            f.create_dataset("data", data=data.astype(np.float32))
            f.create_dataset("label", data=np.array([[CLASSES.index(c)] for c in names], dtype=np.uint8))
            f.create_dataset("normal", data=np.zeros_like(data, dtype=np.float32))
    (folder / "shape_names.txt").write_text("\n".join(CLASSES) + "\n")
    for split in ("train", "test"):
        files = sorted(f"data/modelnet40_ply_hdf5_2048/ply_data_{s}{k}.h5" for s, k in LAYOUT if s == split)
        (folder / f"{split}_files.txt").write_text("\n".join(files) + "\n")
    return folder
