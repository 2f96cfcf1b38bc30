"""SemanticKITTI in its official on-disk format: readers, a lazy data set, and a check.

``<root>/sequences/NN/velodyne/XXXXXX.bin``: float32 (x, y, z, intensity) per point;
``<root>/sequences/NN/labels/XXXXXX.label``: uint32 per point, semantic id in the lower
16 bits, instance id in the upper 16. ``root`` may also be the ``sequences`` folder
itself or a folder holding ``dataset/sequences`` (as the zip unpacks).
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
import torch

from ..store import CloudDataset
from .labels import CLASSES, map_labels

__all__ = ["read_scan", "read_labels", "RealKittiDataset", "load_sequences", "check_sequences"]


def read_scan(bin_path: str | Path) -> np.ndarray:
    """``[N, 4]`` float32 (x, y, z, intensity) from a KITTI ``.bin``."""
    bin_path = Path(bin_path)
    size = bin_path.stat().st_size
    if size % 16:
        raise ValueError(f"{bin_path}: {size} bytes is not a multiple of 16 (4 float32 per point); "
                         "the file is truncated or not a KITTI scan")
    scan = np.fromfile(bin_path, dtype=np.float32).reshape(-1, 4)
    if not np.isfinite(scan[:, :3]).all():
        n = int((~np.isfinite(scan[:, :3])).any(1).sum())
        raise ValueError(f"{bin_path}: {n} points have NaN/inf coordinates")
    return scan


def read_labels(label_path: str | Path, num_points: int | None = None, bin_path: str | Path | None = None) -> np.ndarray:
    """Raw semantic ids (lower 16 bits of the uint32 ``.label``), int64; with
    ``num_points``, a length that does not match the scan (``bin_path``) is an error."""
    label_path = Path(label_path)
    size = label_path.stat().st_size
    if size % 4:
        raise ValueError(f"{label_path}: {size} bytes is not a multiple of 4 (uint32 per point); the file is truncated")
    if num_points is not None and size // 4 != num_points:
        scan = f" {bin_path}" if bin_path is not None else " the scan"
        raise ValueError(f"{label_path} has {size // 4} labels but{scan} has {num_points} points")
    return (np.fromfile(label_path, dtype=np.uint32) & 0xFFFF).astype(np.int64)


def _resolve_root(root: Path) -> Path:
    """The folder holding ``sequences/``, given it, ``sequences/`` itself or its parent's parent."""
    if (root / "sequences").is_dir():
        return root
    if root.name == "sequences":
        return root.parent
    if (root / "dataset" / "sequences").is_dir():
        return root / "dataset"
    return root


def _seq_dir(root: Path, seq: int) -> Path:
    return root / "sequences" / f"{int(seq):02d}"


class RealKittiDataset(CloudDataset):
    """SemanticKITTI scans read lazily from disk; samples like SynthKITTI's
    (``points`` [N, 3], ``feats`` [N, 4] x, y, z, intensity, ``label`` [N] i2p train ids)."""

    def __init__(self, scans: Sequence[tuple[Path, Path, str]], transform: Callable | None = None) -> None:
        super().__init__([], CLASSES, transform)
        self.scans = list(scans)

    def __len__(self) -> int:
        return len(self.scans)

    def __getitem__(self, i: int) -> dict:
        bin_path, label_path, name = self.scans[i]
        scan = read_scan(bin_path)
        raw = read_labels(label_path, len(scan), bin_path)
        try:
            label = map_labels(raw)
        except ValueError as e:
            raise ValueError(f"{label_path}: {e}") from None
        s = {"points": torch.from_numpy(np.ascontiguousarray(scan[:, :3])), "feats": torch.from_numpy(scan),
             "label": torch.from_numpy(label), "name": name}
        return self.transform(s) if self.transform else s

    def labels(self) -> list[int]:
        raise TypeError("SemanticKITTI is a segmentation set: labels are per point")

    def subset(self, indices: Sequence[int]) -> "RealKittiDataset":
        return RealKittiDataset([self.scans[i] for i in indices], self.transform)


def load_sequences(root: Path, sequences: Iterable[int], transform: Callable | None = None,
                   max_scans: int | None = None) -> RealKittiDataset:
    """The scans of ``sequences`` under ``root``.

    File sizes are checked up front (truncated ``.bin``, ``.label`` missing or of another
    length), so a bad download fails here rather than mid-epoch; contents (NaN
    coordinates, unknown raw ids) when a scan is read. ``max_scans`` keeps an evenly
    spaced subset per sequence.
    """
    root = _resolve_root(root)
    scans = []
    for seq in sequences:
        d = _seq_dir(root, seq)
        vel, lab = d / "velodyne", d / "labels"
        if not vel.is_dir():
            raise FileNotFoundError(f"{vel} not found (expected <root>/sequences/NN/velodyne/*.bin)")
        if not lab.is_dir():
            raise FileNotFoundError(f"{lab} not found: SemanticKITTI labels exist for sequences 00-10 only")
        bins = sorted(vel.glob("*.bin"))
        if not bins:
            raise FileNotFoundError(f"no .bin scans in {vel}")
        if max_scans is not None and len(bins) > max_scans:
            bins = [bins[int(k)] for k in np.linspace(0, len(bins) - 1, max_scans).round()]
        for b in bins:
            lp = lab / (b.stem + ".label")
            if not lp.is_file():
                raise FileNotFoundError(f"{lp} missing for scan {b}")
            problem = _size_problem(b, lp)
            if problem:
                raise ValueError(problem)
            scans.append((b, lp, f"seq_{d.name}/{b.stem}"))
    return RealKittiDataset(scans, transform)


#: what to do about a bad scan / label file (the official downloads they come from)
SCANS_FIX = "extract it again from data_odometry_velodyne.zip (KITTI odometry)"
LABELS_FIX = "extract it again from data_odometry_labels.zip (SemanticKITTI, sequences 00-10)"
DOWNLOAD_FIX = ("extract data_odometry_velodyne.zip (KITTI odometry) and data_odometry_labels.zip (SemanticKITTI) "
                "into <root>")


def _size_problem(b: Path, lp: Path) -> str | None:
    """What the file sizes of a scan and its labels say is wrong (None: consistent)."""
    bs, ls = b.stat().st_size, lp.stat().st_size
    if bs % 16:
        return f"{b}: truncated ({bs} bytes, not a multiple of 16 = 4 float32 per point); {SCANS_FIX}"
    if ls % 4:
        return f"{lp}: truncated ({ls} bytes, not a multiple of 4 = uint32 per point); {LABELS_FIX}"
    if ls // 4 != bs // 16:
        return f"{lp} has {ls // 4} labels but {b} has {bs // 16} points; {LABELS_FIX}"
    return None


def check_sequences(root: Path, sequences: Iterable[int], deep: bool = False) -> list[str]:
    """Problems with the ``sequences`` of a SemanticKITTI copy (empty list = looks fine).

    Checks the ``sequences`` folder, each sequence's ``velodyne``/``labels`` folders, scans
    without a label file and label files without a scan, truncated files and label/scan
    length mismatches (from file sizes). ``deep`` also reads every file for NaN
    coordinates and raw ids outside the learning map. Every problem names its file and
    what to do.
    """
    root = _resolve_root(root)
    if not (root / "sequences").is_dir():
        return [f"{root / 'sequences'} does not exist (expected <root>/sequences/NN/velodyne, labels); {DOWNLOAD_FIX}"]
    problems: list[str] = []
    for seq in sequences:
        d = _seq_dir(root, seq)
        if not d.is_dir():
            problems.append(f"sequence {d.name}: folder {d} missing; {DOWNLOAD_FIX}")
            continue
        vel, lab = d / "velodyne", d / "labels"
        if not vel.is_dir():
            problems.append(f"sequence {d.name}: {vel} missing; {SCANS_FIX}")
            continue
        bins = {p.stem: p for p in vel.glob("*.bin")}
        if not bins:
            problems.append(f"sequence {d.name}: no .bin scans in {vel}; {SCANS_FIX}")
        if not lab.is_dir():
            problems.append(f"sequence {d.name}: {lab} missing; {LABELS_FIX}")
            continue
        labels = {p.stem: p for p in lab.glob("*.label")}
        if len(bins) != len(labels):
            problems.append(f"sequence {d.name}: {len(bins)} scans but {len(labels)} label files")
        for stem in sorted(set(bins) - set(labels))[:10]:
            problems.append(f"sequence {d.name}: scan {bins[stem]} has no label file {lab / (stem + '.label')}; "
                            f"{LABELS_FIX}")
        for stem in sorted(set(labels) - set(bins))[:10]:
            problems.append(f"sequence {d.name}: label file {labels[stem]} has no scan {vel / (stem + '.bin')}; "
                            f"{SCANS_FIX}")
        for stem in sorted(set(bins) & set(labels)):
            b, lp = bins[stem], labels[stem]
            problem = _size_problem(b, lp)
            if problem:
                problems.append(problem)
            elif deep:
                problems += _content_problems(b, lp)
    return problems


def _content_problems(b: Path, lp: Path) -> list[str]:
    """What reading a scan and its labels shows (NaN coordinates, raw ids outside the learning map)."""
    problems = []
    try:
        read_scan(b)
    except ValueError as e:
        problems.append(f"{e}; {SCANS_FIX}")
    try:
        map_labels(read_labels(lp))
    except ValueError as e:
        problems.append(f"{lp}: {e} (a damaged file or not a SemanticKITTI .label); {LABELS_FIX}")
    return problems
