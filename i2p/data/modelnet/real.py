"""Real ModelNet40 on disk: the two official formats, read into y-up clouds, and checks.

* ``modelnet40_ply_hdf5_2048`` (the PointNet release the authors load): files
  ``ply_data_{train,test}<k>.h5`` with ``data`` [B, 2048, 3] (y-up, in the unit sphere)
  and ``label`` [B, 1]; read by :func:`load_h5` as they are.
* The original meshes ``ModelNet40/<class>/{train,test}/<class>_NNNN.off`` (z-up, with
  the well-known fused ``OFF<nv> <nf> <ne>`` header): parsed by :func:`read_off`, turned
  y-up by ``(x, y, z) -> (x, z, -y)`` and sampled like the h5 release by :func:`load_off`.
  The up axis then agrees with the h5 files; whether the horizontal axes (which way a
  shape faces) match the h5 release's as well cannot be verified offline.

:func:`read_real` picks the format found under a root, :func:`check_real` lists what is
wrong with a download.
"""
from __future__ import annotations

import re
import warnings
import zlib
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..mesh import Mesh, normalize_unit_sphere, sample_surface
from ..store import CloudDataset, cached_read, load_cloudset, save_cloudset
from .frame import z_up_to_y_up
from .labels import CLASSES, SPLITS

__all__ = ["FORMATS", "load_h5", "read_off", "load_off", "read_real", "check_real"]

#: what ``fmt`` of :func:`read_real` accepts
FORMATS: tuple[str, ...] = ("auto", "h5", "off")


def _check_split(split: str) -> None:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")


# ----------------------------------------------------------------------------- h5
_H5_RE = re.compile(r"^ply_data_(train|test)(\d+)\.h5$")
_H5_HINT = ("download modelnet40_ply_hdf5_2048.zip (the PointNet release) and extract it so that "
            "<root>/modelnet40_ply_hdf5_2048/ply_data_{train,test}<k>.h5 exist")


def _h5_dir(root: Path) -> Path | None:
    for cand in (root, root / "modelnet40_ply_hdf5_2048"):
        if cand.is_dir() and any(_H5_RE.match(p.name) for p in cand.iterdir()):
            return cand
    return None


def _h5_files(folder: Path, split: str) -> list[tuple[int, Path]]:
    out = []
    for p in folder.iterdir():
        m = _H5_RE.match(p.name)
        if m and m.group(1) == split:
            out.append((int(m.group(2)), p))
    return sorted(out)


def _h5_classes(folder: Path) -> list[str]:
    names = folder / "shape_names.txt"
    if names.is_file():
        got = [ln.strip() for ln in names.read_text().splitlines() if ln.strip()]
        if got:
            return got
    return list(CLASSES)


def _read_h5(path: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray]:
    import h5py

    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file; {_H5_HINT}")
    missing: list[str] = []
    try:
        with h5py.File(path, "r") as f:
            missing = [k for k in ("data", "label") if k not in f]
            keys = sorted(f.keys())
            if not missing:
                data = np.asarray(f["data"][...])
                label = np.asarray(f["label"][...])
    except (OSError, KeyError, RuntimeError, ValueError, TypeError) as e:
        raise ValueError(f"{path}: cannot read the HDF5 file ({e}); it is probably truncated or corrupt — "
                         f"delete it and {_H5_HINT}") from e
    if missing:
        raise ValueError(f"{path}: missing dataset(s) {missing} (has {keys}); this is not a "
                         f"modelnet40_ply_hdf5_2048 file — {_H5_HINT}")
    if data.ndim != 3 or data.shape[2] != 3 or data.shape[1] == 0:
        raise ValueError(f"{path}: 'data' has shape {data.shape}, expected [B, N, 3]; {_H5_HINT}")
    if label.ndim == 2 and label.shape[1] == 1:
        label = label[:, 0]
    if label.ndim != 1 or len(label) != len(data):
        raise ValueError(f"{path}: 'label' has shape {label.shape} for {len(data)} shapes, expected [B, 1]; {_H5_HINT}")
    if not np.issubdtype(label.dtype, np.integer):
        if not np.all(np.isfinite(label)) or not np.all(label == np.round(label)):
            raise ValueError(f"{path}: 'label' holds non-integer values; the file is corrupt — {_H5_HINT}")
        label = label.astype(np.int64)
    bad = np.flatnonzero((label < 0) | (label >= num_classes))
    if len(bad):
        raise ValueError(f"{path}: {len(bad)} label(s) outside 0..{num_classes - 1} (e.g. shape {bad[0]} has label "
                         f"{int(label[bad[0]])}); the file is corrupt or from another dataset — {_H5_HINT}")
    finite = np.isfinite(data).all(axis=(1, 2))
    if not finite.all():
        i = int(np.flatnonzero(~finite)[0])
        raise ValueError(f"{path}: shape {i} (and {int((~finite).sum()) - 1} more) has NaN/inf coordinates; "
                         f"the file is corrupt — {_H5_HINT}")
    return data.astype(np.float32, copy=False), label.astype(np.int64)


def load_h5(root: str | Path, split: str, transform: Callable | None = None) -> CloudDataset:
    """The official ``modelnet40_ply_hdf5_2048`` split (files ``ply_data_<split><k>.h5`` in order of k).

    ``root`` is the folder holding the h5 files or its parent. Class names come from
    ``shape_names.txt`` when present, else :data:`CLASSES`."""
    _check_split(split)
    root = Path(root)
    folder = _h5_dir(root)
    if folder is None:
        raise FileNotFoundError(f"no ply_data_*.h5 files under {root} or {root / 'modelnet40_ply_hdf5_2048'}; {_H5_HINT}")
    files = _h5_files(folder, split)
    if not files:
        raise FileNotFoundError(f"no ply_data_{split}*.h5 files in {folder}; {_H5_HINT}")
    classes = _h5_classes(folder)
    samples = []
    for _, path in files:
        data, label = _read_h5(path, len(classes))
        for i in range(len(data)):
            samples.append({"points": torch.from_numpy(np.ascontiguousarray(data[i])), "label": int(label[i]),
                            "name": f"{path.stem}_{i}"})
    return CloudDataset(samples, classes, transform)


# ----------------------------------------------------------------------------- OFF
_OFF_HINT = "re-download/re-extract ModelNet40.zip (https://modelnet.cs.princeton.edu)"
_OFF_HEAD = re.compile(r"^[A-Z]*OFF", re.IGNORECASE)


def _off_lines(text: str) -> list[str]:
    out = []
    for raw in text.splitlines():
        ln = raw.split("#", 1)[0].strip()
        if ln:
            out.append(ln)
    return out


def _off_header(lines: list[str], path: Path) -> tuple[int, int, int]:
    """(nv, nf, index of the first body line). Handles the fused ``OFF490 518 0`` header."""
    if not lines:
        raise ValueError(f"{path}: empty OFF file; {_OFF_HINT}")
    m = _OFF_HEAD.match(lines[0])
    if not m:
        raise ValueError(f"{path}: not an OFF file (first line {lines[0][:40]!r}); {_OFF_HINT}")
    rest = lines[0][m.end():].split()
    body = 1
    if not rest:
        if len(lines) < 2:
            raise ValueError(f"{path}: OFF header without vertex/face counts; {_OFF_HINT}")
        rest, body = lines[1].split(), 2
    try:
        nv, nf = int(rest[0]), int(rest[1])
    except (ValueError, IndexError):
        raise ValueError(f"{path}: malformed OFF counts line {' '.join(rest)[:40]!r}; {_OFF_HINT}") from None
    if nv < 0 or nf < 0:
        raise ValueError(f"{path}: negative vertex/face counts ({nv}, {nf}); {_OFF_HINT}")
    return nv, nf, body


def read_off(path: str | Path) -> Mesh:
    """Parse an OFF mesh: vertices ``[n, 3]`` float64, triangles ``[m, 3]`` int64.

    Robust to the ModelNet quirk of a header fused with the counts (``OFF490 518 0``),
    comments and blank lines, and extra per-vertex/face values (colours); polygons with
    more than three vertices are fan-triangulated."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("latin-1")
    except OSError as e:
        raise FileNotFoundError(f"{path}: cannot read ({e})") from e
    lines = _off_lines(text)
    nv, nf, b = _off_header(lines, path)
    body = lines[b:]
    if len(body) < nv + nf:
        raise ValueError(f"{path}: truncated OFF file: header promises {nv} vertices + {nf} faces, "
                         f"found {len(body)} data lines; {_OFF_HINT}")
    if nv == 0 or nf == 0:
        raise ValueError(f"{path}: empty mesh ({nv} vertices, {nf} faces); nothing to sample — {_OFF_HINT}")
    vl = body[:nv]
    try:
        flat = np.array(" ".join(vl).split(), dtype=np.float64)
        if flat.size == 3 * nv:
            v = flat.reshape(nv, 3)
        else:
            v = np.array([ln.split()[:3] for ln in vl], dtype=np.float64)
            if v.ndim != 2 or v.shape[1] != 3:
                raise ValueError
    except ValueError:
        raise ValueError(f"{path}: malformed vertex lines (need 3 numbers each); {_OFF_HINT}") from None
    if not np.isfinite(v).all():
        raise ValueError(f"{path}: NaN/inf vertex coordinates; the file is corrupt — {_OFF_HINT}")
    fl = body[nv:nv + nf]
    tris = None
    try:
        flat = np.array(" ".join(fl).split(), dtype=np.int64)
        if flat.size == 4 * nf and (flat[0::4] == 3).all():  # the common all-triangles case
            tris = flat.reshape(nf, 4)[:, 1:]
    except ValueError:
        pass
    if tris is None:
        out = []
        for k, ln in enumerate(fl):
            tok = ln.split()
            try:
                n = int(tok[0])
                idx = [int(t) for t in tok[1:1 + n]]
            except (ValueError, IndexError):
                raise ValueError(f"{path}: malformed face line {nv + k + 1} after the header: {ln[:40]!r}; {_OFF_HINT}") from None
            if len(idx) < n:
                raise ValueError(f"{path}: face line {nv + k + 1} lists {len(idx)} of {n} vertices (truncated or malformed file); "
                                 f"{_OFF_HINT}")
            for j in range(1, n - 1):  # fan triangulation; n < 3 (points/edges) adds nothing
                out.append((idx[0], idx[j], idx[j + 1]))
        tris = np.array(out, dtype=np.int64).reshape(-1, 3)
    if len(tris) == 0:
        raise ValueError(f"{path}: no polygon faces (only points/edges); nothing to sample — {_OFF_HINT}")
    if tris.min() < 0 or tris.max() >= nv:
        raise ValueError(f"{path}: face vertex index out of range 0..{nv - 1} (min {tris.min()}, max {tris.max()}); {_OFF_HINT}")
    return v, tris


def _off_dir(root: Path) -> Path | None:
    for cand in (root, root / "ModelNet40"):
        if cand.is_dir() and any((cand / c).is_dir() for c in CLASSES):
            return cand
    return None


def _off_classes(folder: Path, split: str) -> list[str]:
    found = sorted(p.name for p in folder.iterdir() if (p / split).is_dir())
    if set(found) != set(CLASSES):
        missing = [c for c in CLASSES if c not in found]
        warnings.warn(f"{folder}: {len(found)} class folders with a '{split}' split, not ModelNet40's 40 "
                      f"(missing: {missing[:8]}{'...' if len(missing) > 8 else ''}); labels index the sorted "
                      "folder names that exist", stacklevel=3)
    return found


def _sample_off(path: Path, rel: str, num_points: int, seed: int) -> np.ndarray:
    v, f = read_off(path)
    v = z_up_to_y_up(v)
    g = np.random.default_rng(np.random.SeedSequence([int(seed), zlib.crc32(rel.encode())]))
    pts = sample_surface(v, f, num_points, g, what=str(path))
    return normalize_unit_sphere(pts).astype(np.float32)


def load_off(root: str | Path, split: str, num_points: int = 2048, seed: int = 0,
             transform: Callable | None = None, progress: bool = True, cache: bool = False,
             cache_root: str | Path | None = None) -> CloudDataset:
    """Original ModelNet40 meshes ``<root>/[ModelNet40/]<class>/<split>/<class>_NNNN.off``,
    turned y-up (the frame of the h5 release), sampled area-weighted (``num_points`` per
    mesh, seeded per file) and normalised to the unit sphere. Labels index the sorted
    class folders (= :data:`CLASSES` for the full set). With ``cache=True`` the sampled split is stored under ``cache_root`` (default
    :func:`data_root`) and reused."""
    _check_split(split)
    root = Path(root)
    folder = _off_dir(root)
    if folder is None:
        raise FileNotFoundError(f"no ModelNet40 class folders under {root} or {root / 'ModelNet40'}; {_OFF_HINT} "
                                "so that <root>/ModelNet40/<class>/<split>/*.off exist")
    classes = _off_classes(folder, split)
    files = [(y, p) for y, c in enumerate(classes) for p in sorted((folder / c / split).iterdir())
             if p.suffix.lower() == ".off"]
    if not files:
        raise FileNotFoundError(f"{folder}: no .off files in any <class>/{split}/ folder; {_OFF_HINT}")

    def build_samples(bar_desc: str) -> list[dict]:
        from tqdm.auto import tqdm

        out = []
        for y, p in tqdm(files, desc=bar_desc, unit="mesh", disable=not progress):
            rel = f"{p.parent.parent.name}/{split}/{p.name}"
            out.append({"points": _sample_off(p, rel, num_points, seed), "label": y, "name": p.stem})
        return out

    if cache:
        params = {"root": str(folder.resolve()), "split": split, "points": int(num_points), "seed": int(seed),
                  "files": len(files), "classes": classes, "frame": "y-up"}

        def build(dst: Path) -> None:
            save_cloudset(dst / f"{split}.npz", build_samples(f"ModelNet40 OFF {split}"))

        samples = cached_read(f"modelnet40_off-{split}", params, build, lambda d: load_cloudset(d / f"{split}.npz"),
                              cache_root)
    else:
        samples = build_samples(f"ModelNet40 OFF {split}")
        for s in samples:
            s["points"] = torch.from_numpy(s["points"])
    return CloudDataset(samples, classes, transform)


def read_real(root: str | Path, split: str, transform: Callable | None = None, fmt: str = "auto",
              num_points: int = 2048, seed: int = 0) -> CloudDataset:
    """A split of real ModelNet40 under ``root``, y-up, whichever official format is there.

    ``fmt="auto"`` reads the h5 files when ``root`` (or ``root/modelnet40_ply_hdf5_2048``)
    holds them, else the OFF tree; ``"h5"`` / ``"off"`` insist on one. ``num_points`` and
    ``seed`` are for sampling the OFF meshes (the h5 clouds are read as they are)."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {', '.join(FORMATS)}, got {fmt!r}")
    root = Path(root)
    if fmt == "h5" or (fmt == "auto" and _h5_dir(root) is not None):
        return load_h5(root, split, transform)
    if fmt == "auto" and _off_dir(root) is None:
        raise FileNotFoundError(f"no ModelNet40 data under {root}: {_H5_HINT}, or {_OFF_HINT} so that "
                                "<root>/ModelNet40/<class>/<split>/*.off exist")
    return load_off(root, split, num_points, seed, transform)


# ----------------------------------------------------------------------------- validation
def _check_h5(folder: Path) -> list[str]:
    problems = []
    classes = _h5_classes(folder)
    if (folder / "shape_names.txt").is_file() and len(classes) != 40:
        problems.append(f"{folder / 'shape_names.txt'}: lists {len(classes)} class names, expected 40")
    for split in SPLITS:
        files = _h5_files(folder, split)
        if not files:
            problems.append(f"{folder}: missing ply_data_{split}*.h5 files; {_H5_HINT}")
            continue
        ks = [k for k, _ in files]
        gaps = sorted(set(range(max(ks) + 1)) - set(ks))
        if gaps:
            problems.append(f"{folder}: missing " + ", ".join(f"ply_data_{split}{k}.h5" for k in gaps)
                            + f" (found {[p.name for _, p in files]}); {_H5_HINT}")
        for _, path in files:
            try:
                _read_h5(path, len(classes))
            except (ValueError, OSError) as e:
                problems.append(str(e))
    return problems


def _check_off_file(path: Path, deep: bool) -> str | None:
    try:
        if deep:
            read_off(path)
        else:
            with open(path, "rb") as fh:
                head = fh.read(4096).decode("latin-1")
            lines = _off_lines(head)
            nv, nf, _ = _off_header(lines, path)
            if nv == 0 or nf == 0:
                return f"{path}: empty mesh ({nv} vertices, {nf} faces)"
    except (ValueError, FileNotFoundError, OSError) as e:
        return str(e)
    return None


def _check_off(folder: Path, deep: bool) -> list[str]:
    problems = []
    for c in CLASSES:
        if not (folder / c).is_dir():
            problems.append(f"{folder}: missing class folder {c}/; {_OFF_HINT}")
            continue
        for split in SPLITS:
            d = folder / c / split
            offs = sorted(p for p in d.iterdir() if p.suffix.lower() == ".off") if d.is_dir() else []
            if not offs:
                problems.append(f"{d}: {'missing' if not d.is_dir() else 'empty'} (no .off files); {_OFF_HINT}")
            for p in offs:
                msg = _check_off_file(p, deep)
                if msg:
                    problems.append(msg)
    return problems


def check_real(root: str | Path, deep: bool = False) -> list[str]:
    """Problems with a real ModelNet40 download (either layout), as readable lines; ``[]`` if OK.

    The h5 layout is read completely (keys, shapes, label range, NaN). For the OFF layout
    each file's header is checked; ``deep=True`` parses every mesh (slow: ~12k files)."""
    root = Path(root)
    if not root.is_dir():
        return [f"{root}: no such directory"]
    h5 = _h5_dir(root)
    off = _off_dir(root)
    if h5 is None and off is None:
        return [f"{root}: no ModelNet40 data found: expected modelnet40_ply_hdf5_2048/ply_data_{{train,test}}<k>.h5 "
                "or ModelNet40/<class>/{train,test}/*.off"]
    problems = []
    if h5 is not None:
        problems += _check_h5(h5)
    if off is not None:
        problems += _check_off(off, deep)
    return problems
