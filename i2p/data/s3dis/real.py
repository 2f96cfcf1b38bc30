"""The real S3DIS in its official text format (``Stanford3dDataset_v1.2_Aligned_Version``),
its parse cache, and the check of a copy.

A room is ``Area_N/<room>/Annotations/<class>_<k>.txt``, one ``x y z r g b`` line per
point (rgb 0-255); the labels come from the file names. Parsing the text takes minutes,
so parsed rooms are cached as cloud sets, one folder per area, keyed by the files' paths,
sizes and modification times (an edited file is parsed again).
"""
from __future__ import annotations

import hashlib
import json
import re
import warnings
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from ..store import CloudDataset, cached_read, load_cloudset, save_cloudset
from .labels import AREAS, CLASS_ID, CLASSES, CLUTTER

__all__ = ["REAL_DIRNAME", "read_annotation", "read_room", "read_areas", "check"]

REAL_DIRNAME = "Stanford3dDataset_v1.2_Aligned_Version"
REAL_CACHE_VERSION = 1
_NOT_NUMERIC = re.compile(r"[^0-9eE+\-.\s]")


def _real_dir(root: Path) -> Path:
    """``root`` itself or its ``Stanford3dDataset_v1.2_Aligned_Version`` subfolder."""
    return root / REAL_DIRNAME if (root / REAL_DIRNAME).is_dir() else root


def _natural_key(s: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", s)]


def _class_of(path: Path) -> tuple[int, str]:
    """Class id from an annotation file name ``<class>_<k>.txt``; unknown names (the real
    data has ``stairs``) become clutter, as the common S3DIS pipelines do."""
    stem = path.stem
    name = stem.rsplit("_", 1)[0] if "_" in stem and stem.rsplit("_", 1)[1].isdigit() else stem
    return CLASS_ID.get(name, CLUTTER), name


def _parse_lines(path: Path, strict: bool) -> tuple[np.ndarray, list[int], list[str]]:
    """Tolerant parse of ``x y z r g b`` lines. Returns (values [n, 6], line numbers of
    repaired lines, problems). A line with stray characters (the real Area_5/hallway_6 has
    one) is repaired by deleting them, or failing that by reading them as separators."""
    text = path.read_bytes().decode("latin-1")
    rows, lines, repaired, problems = [], [], [], []
    for no, line in enumerate(text.splitlines(), 1):
        tok = line.split()
        if not tok:
            continue
        vals = None
        if len(tok) == 6:
            try:
                vals = [float(t) for t in tok]
            except ValueError:
                pass
        if vals is None:
            for cand in (_NOT_NUMERIC.sub("", line), _NOT_NUMERIC.sub(" ", line)):
                tok2 = cand.split()
                if len(tok2) == 6:
                    try:
                        vals = [float(t) for t in tok2]
                        repaired.append(no)
                        break
                    except ValueError:
                        pass
        if vals is None:
            msg = f"{path}:{no}: cannot parse line {line[:80]!r} (expected 'x y z r g b')"
            if strict:
                raise ValueError(msg)
            problems.append(msg)
            continue
        rows.append(vals)
        lines.append(no)
    arr = np.array(rows, dtype=np.float64).reshape(-1, 6)
    problems += _value_problems(path, arr, np.array(lines), strict)
    return arr, repaired, problems


def _value_problems(path: Path, arr: np.ndarray, lines: np.ndarray | None, strict: bool) -> list[str]:
    """NaN/inf values and colours outside 0-255, with the first offending line."""
    out = []
    bad = ~np.isfinite(arr).all(1)
    rgb = arr[:, 3:6]
    bad_rgb = ~bad & ((rgb < 0) | (rgb > 255)).any(1)
    for mask, what in ((bad, "non-finite value (NaN/inf)"), (bad_rgb, "colour outside 0-255")):
        if mask.any():
            i = int(np.flatnonzero(mask)[0])
            no = int(lines[i]) if lines is not None else i + 1
            msg = f"{path}:{no}: {what} in {int(mask.sum())} line(s), first: {arr[i].tolist()}"
            if strict:
                raise ValueError(msg)
            out.append(msg)
    return out


def read_annotation(path: str | Path, strict: bool = True) -> tuple[np.ndarray, list[int], list[str]]:
    """``[n, 6]`` float64 ``x y z r g b`` of one annotation file, the numbers of lines whose
    stray characters were repaired, and the problems found (``strict``: raise
    ``ValueError`` naming file and line instead). Fast path: ``np.loadtxt``."""
    path = Path(path)
    if path.stat().st_size == 0:
        return np.zeros((0, 6)), [], []
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            arr = np.loadtxt(path, dtype=np.float64, ndmin=2, comments=None)
        if arr.size == 0:
            return np.zeros((0, 6)), [], []
        if arr.shape[1] != 6:
            raise ValueError("columns")
    except ValueError:
        return _parse_lines(path, strict)
    if _value_problems(path, arr, None, strict=False):  # exact line numbers from the slow path
        return _parse_lines(path, strict)
    return arr, [], []


def read_room(room_dir: str | Path, area: int) -> dict:
    """One room as a sample: its annotation files concatenated, labels from their names
    (class names outside the 13, i.e. ``stairs``, read as clutter), rgb scaled to [0, 1].
    Repaired lines and empty files are warned about; unusable input raises ``ValueError``."""
    room_dir = Path(room_dir)
    ann = room_dir / "Annotations"
    if not ann.is_dir():
        raise ValueError(f"{room_dir}: no Annotations folder (run check() for a full report)")
    parts, labels = [], []
    for f in sorted(ann.glob("*.txt"), key=lambda p: _natural_key(p.name)):
        arr, repaired, _ = read_annotation(f, strict=True)
        if repaired:
            warnings.warn(f"{f}: repaired stray characters on line(s) {repaired[:5]}")
        if len(arr) == 0:
            warnings.warn(f"{f}: empty annotation file, skipped")
            continue
        parts.append(arr)
        labels.append(np.full(len(arr), _class_of(f)[0], np.int64))
    if not parts:
        raise ValueError(f"{room_dir}: room has no points (no non-empty Annotations/*.txt)")
    arr = np.concatenate(parts)
    xyz = arr[:, :3].astype(np.float32)
    return {
        "points": xyz,
        "feats": np.concatenate([xyz, (arr[:, 3:6] / 255.0).astype(np.float32)], 1),
        "label": np.concatenate(labels),
        "name": f"Area_{area}/{room_dir.name}",
    }


def _room_dirs(area_dir: Path) -> list[Path]:
    return sorted((p for p in area_dir.iterdir() if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: _natural_key(p.name))


def _fingerprint(area_dir: Path) -> str:
    h = hashlib.sha1()
    for room in _room_dirs(area_dir):
        ann = room / "Annotations"
        files = sorted(ann.glob("*.txt")) if ann.is_dir() else []
        for f in files:
            st = f.stat()
            h.update(f"{f.relative_to(area_dir)}|{st.st_size}|{st.st_mtime_ns}\n".encode())
        if not files:
            h.update(f"{room.name}|no-annotations\n".encode())
    return h.hexdigest()


def _area_samples(area_dir: Path, area: int, cache_root: str | Path | None, progress: bool) -> list[dict]:
    """The parsed rooms of one area, from the parse cache (parsed on first use; a damaged
    cache is warned about and parsed again)."""
    rooms = _room_dirs(area_dir)
    params = {"version": REAL_CACHE_VERSION, "area_dir": str(area_dir.resolve()), "files": _fingerprint(area_dir)}

    def build(folder: Path) -> None:
        from tqdm.auto import tqdm

        for i, room in enumerate(tqdm(rooms, desc=f"S3DIS Area_{area}", unit="room", disable=not progress)):
            save_cloudset(folder / f"room_{i:04d}.npz", [read_room(room, area)])
        (folder / "rooms.json").write_text(json.dumps([r.name for r in rooms]))

    return cached_read(f"s3dis_real-Area_{area}", params, build, _cached_rooms, cache_root)


def _cached_rooms(folder: Path) -> list[dict]:
    return [s for f in sorted(folder.glob("room_*.npz")) for s in load_cloudset(f)]


def read_areas(root: str | Path, areas: Iterable[int], transform: Callable | None = None,
               cache_root: str | Path | None = None, progress: bool = True) -> CloudDataset:
    """Rooms of real S3DIS ``areas`` from ``root`` (the ``Stanford3dDataset_v1.2_Aligned_Version``
    folder or its parent), one sample per room (see :func:`read_room`), in natural order.

    Parsed rooms are cached under ``cache_root`` (default :func:`~i2p.data.store.data_root`).
    Raises ``FileNotFoundError`` for a missing area and ``ValueError`` naming the file
    (and line) for a line that cannot be repaired, NaN/inf values, colours outside 0-255,
    a room without an Annotations folder and a room with no points."""
    base = _real_dir(Path(root))
    samples = []
    for area in areas:
        if area not in AREAS:
            raise ValueError(f"S3DIS areas are {AREAS}, got {area}")
        area_dir = base / f"Area_{area}"
        if not area_dir.is_dir():
            raise FileNotFoundError(f"{area_dir} not found (root should hold {REAL_DIRNAME} or Area_1..Area_6)")
        samples += _area_samples(area_dir, area, cache_root, progress)
    return CloudDataset(samples, CLASSES, transform)


def check(root: str | Path, parse: bool = True) -> list[str]:
    """Problems found in a real S3DIS copy (empty list = fine): missing areas, rooms
    without an Annotations folder or without ``<room>.txt``, annotation class names outside
    the 13 (read as clutter), rooms with no points; with ``parse`` also empty annotation
    files, lines that cannot be parsed or were repaired (file and line number), NaN
    values and colours out of range. ``parse=False`` only looks at the folder structure."""
    base = _real_dir(Path(root))
    if not base.is_dir():
        return [f"{base}: folder not found"]
    out, rooms = [], []
    for a in AREAS:
        area_dir = base / f"Area_{a}"
        if not area_dir.is_dir():
            out.append(f"{area_dir}: missing area")
            continue
        found = _room_dirs(area_dir)
        if not found:
            out.append(f"{area_dir}: no rooms")
        rooms += found
    for room in rooms:
        if not (room / f"{room.name}.txt").is_file():
            others = sorted(p.name for p in room.glob("*.txt"))
            seen = f"; found {', '.join(others)}" if others else ""
            out.append(f"{room}: missing {room.name}.txt{seen} (not needed for loading)")
        ann = room / "Annotations"
        if not ann.is_dir():
            out.append(f"{room}: no Annotations folder")
            continue
        n_points = 0
        for f in sorted(ann.glob("*.txt"), key=lambda p: _natural_key(p.name)):
            name = _class_of(f)[1]
            if name not in CLASS_ID:
                out.append(f"{f}: class {name!r} is not one of the 13 classes; read as clutter")
            if not parse:
                n_points += f.stat().st_size > 0
                continue
            arr, repaired, problems = read_annotation(f, strict=False)
            if f.stat().st_size == 0 or (len(arr) == 0 and not problems):
                out.append(f"{f}: empty file (skipped)")
            out += [f"{f}:{no}: stray non-numeric characters (repaired when loading)" for no in repaired]
            out += problems
            n_points += len(arr)
        if n_points == 0:
            out.append(f"{room}: room has no points")
    return out
