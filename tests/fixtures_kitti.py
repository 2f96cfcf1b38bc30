"""A tiny but valid copy of the real SemanticKITTI in its official on-disk format."""
from __future__ import annotations

import pathlib

import numpy as np

#: raw ids the fixture's labels draw from: static and moving classes, lane-marking, unlabeled
RAW_IDS = (0, 10, 40, 44, 48, 50, 60, 70, 72, 80, 252, 254)


def write_scan(root: pathlib.Path, seq: int, stem: str, n: int, rng: np.random.Generator,
               sem: np.ndarray | None = None) -> tuple[pathlib.Path, pathlib.Path, np.ndarray, np.ndarray]:
    """One scan: ``sequences/NN/velodyne/<stem>.bin`` (float32 x, y, z, intensity) and
    ``labels/<stem>.label`` (uint32: instance id << 16 | semantic id). Returns the two
    paths, the scan ``[n, 4]`` and the semantic ids written."""
    d = pathlib.Path(root) / "sequences" / f"{seq:02d}"
    (d / "velodyne").mkdir(parents=True, exist_ok=True)
    (d / "labels").mkdir(parents=True, exist_ok=True)
    scan = np.concatenate([rng.normal(0, 10, (n, 3)), rng.random((n, 1))], 1).astype(np.float32)
    sem = rng.choice(RAW_IDS, n).astype(np.uint32) if sem is None else np.asarray(sem, np.uint32)
    inst = rng.integers(0, 500, n).astype(np.uint32)
    b, lp = d / "velodyne" / f"{stem}.bin", d / "labels" / f"{stem}.label"
    scan.tofile(b)
    ((inst << 16) | sem).astype(np.uint32).tofile(lp)
    return b, lp, scan, sem


def write_real(root: pathlib.Path) -> pathlib.Path:
    """Write ``root/semantickitti/sequences/00..10`` (three scans in 00, two in 08, one
    elsewhere; 20-60 points each) and return ``root/semantickitti``, the folder holding
    ``sequences``."""
    rng = np.random.default_rng(0)
    base = pathlib.Path(root) / "semantickitti"
    for seq in range(11):
        for i in range({0: 3, 8: 2}.get(seq, 1)):
            write_scan(base, seq, f"{i:06d}", 20 + 10 * i + seq, rng)
    return base
