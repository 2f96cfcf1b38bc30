"""On-disk cloud sets: one ``.npz`` per split, written atomically, validated on read.

A cloud set is a list of samples ``{"points": [N, 3] float32, "feats": [N, C] float32
(optional), "label": int or [N] int64, "name": str (optional)}``. They are stored
concatenated with offsets, so a split loads with one read. Generated data is cached
under :func:`data_root` in a folder named by the generator's parameters; a folder is
only used once its ``DONE`` marker exists, so an interrupted generation is redone.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import zipfile
from pathlib import Path
import warnings
from typing import Callable, Sequence, TypeVar

import numpy as np
import torch
from torch.utils.data import Dataset

__all__ = ["data_root", "save_cloudset", "load_cloudset", "cached_build", "cached_read", "verify_folder", "CloudDataset"]

MANIFEST = "MANIFEST.json"


def data_root() -> Path:
    """``$I2P_DATA`` or ``~/.cache/i2p/data``."""
    return Path(os.environ.get("I2P_DATA", Path.home() / ".cache" / "i2p" / "data"))


def save_cloudset(path: str | Path, samples: Sequence[dict]) -> None:
    """Write samples to ``path`` (``.npz``) atomically."""
    path = Path(path)
    if not samples:
        raise ValueError(f"refusing to write an empty cloud set to {path}")
    pts = [np.asarray(s["points"], dtype=np.float32) for s in samples]
    arrays = {
        "points": np.concatenate(pts),
        "offsets": np.cumsum([0] + [len(p) for p in pts]).astype(np.int64),
    }
    if samples[0].get("feats") is not None:
        arrays["feats"] = np.concatenate([np.asarray(s["feats"], dtype=np.float32) for s in samples])
    labels = [np.asarray(s["label"]) for s in samples]
    if labels[0].ndim == 0:
        arrays["label"] = np.array([int(v) for v in labels], dtype=np.int64)
    else:
        arrays["point_label"] = np.concatenate(labels).astype(np.int64)
    arrays["name"] = np.array([str(s.get("name", i)) for i, s in enumerate(samples)])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}.npz")
    try:
        np.savez(tmp, **arrays)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_cloudset(path: str | Path) -> list[dict]:
    """Read a cloud set written by :func:`save_cloudset`; clear errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cloud set not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as e:
        raise ValueError(f"{path} is corrupt or truncated ({e}); delete it and generate it again") from e
    missing = {"points", "offsets", "name"} - arrays.keys()
    if missing or not {"label", "point_label"} & arrays.keys():
        raise ValueError(f"{path} is not an i2p cloud set (missing {sorted(missing) or 'labels'}); regenerate it")
    off = arrays["offsets"]
    if off[-1] != len(arrays["points"]):
        raise ValueError(f"{path}: offsets do not match the number of points; regenerate it")
    out = []
    for i in range(len(off) - 1):
        a, b = int(off[i]), int(off[i + 1])
        s = {"points": torch.from_numpy(arrays["points"][a:b]), "name": str(arrays["name"][i])}
        if "feats" in arrays:
            s["feats"] = torch.from_numpy(arrays["feats"][a:b])
        s["label"] = int(arrays["label"][i]) if "label" in arrays else torch.from_numpy(arrays["point_label"][a:b])
        out.append(s)
    return out


def cached_build(
    name: str,
    params: dict,
    build: Callable[[Path], None],
    root: str | Path | None = None,
) -> Path:
    """Folder holding the output of ``build(folder)`` for these ``params``; builds it once.

    ``build`` writes into a temporary folder that is renamed into place when complete;
    a half-built folder from an interrupted run is discarded. The folder's files are
    listed with their sizes and SHA-1 in ``MANIFEST.json``; an existing folder whose files
    no longer have the sizes written (truncated or replaced in place, or deleted) is said
    in a warning and built again.
    """
    root = Path(root) if root is not None else data_root()
    key = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    final = root / f"{name}-{key}"
    if (final / "DONE").is_file():
        problems = verify_folder(final, content=False)
        if not problems:
            return final
        warnings.warn(f"cache {final} is damaged ({'; '.join(problems[:3])}); building it again", stacklevel=2)
        shutil.rmtree(final, ignore_errors=True)
    for stale in root.glob(f".{name}-{key}.tmp*"):  # left by runs that crashed
        pid = stale.name.rsplit(".tmp", 1)[-1]
        if pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(stale, ignore_errors=True)
    tmp = root / f".{name}-{key}.tmp{os.getpid()}"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        build(tmp)
        _write_manifest(tmp)
        (tmp / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True))
        (tmp / "DONE").write_text("ok\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return final


T = TypeVar("T")


def cached_read(name: str, params: dict, build: Callable[[Path], None], read: Callable[[Path], T],
                root: str | Path | None = None) -> T:
    """``read(folder)`` of :func:`cached_build`'s folder; when reading fails on a damaged
    file (same size, bad content), says so, builds the folder again and reads once more."""
    for attempt in range(2):
        folder = cached_build(name, params, build, root)
        try:
            return read(folder)
        except (ValueError, FileNotFoundError) as e:
            if attempt:
                raise
            warnings.warn(f"cache {folder} cannot be read ({e}); building it again", stacklevel=2)
            shutil.rmtree(folder, ignore_errors=True)
    raise AssertionError("unreachable")


def _sha1(path: Path) -> str:
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _write_manifest(folder: Path) -> None:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    entries = {str(p.relative_to(folder)): {"size": p.stat().st_size, "sha1": _sha1(p)} for p in files}
    (folder / MANIFEST).write_text(json.dumps(entries, indent=1, sort_keys=True))


def verify_folder(folder: str | Path, content: bool = True) -> list[str]:
    """What is wrong with a cache folder made by :func:`cached_build` (empty: intact).

    Compares every file listed in its manifest by size and, with ``content``, SHA-1 (a
    read of every byte: slow on big caches); a folder without a manifest (made by an
    older i2p) is reported too, so callers rebuild it."""
    folder = Path(folder)
    if not (folder / "DONE").is_file():
        return [f"{folder} is incomplete (no DONE marker)"]
    try:
        entries = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return [f"{folder} has no readable {MANIFEST} (made by an older i2p, or damaged)"]
    problems = []
    for name, want in entries.items():
        p = folder / name
        if not p.is_file():
            problems.append(f"{p} is missing")
        elif p.stat().st_size != want["size"]:
            problems.append(f"{p} has {p.stat().st_size} bytes, {want['size']} were written (truncated or replaced)")
        elif content and _sha1(p) != want["sha1"]:
            problems.append(f"{p} does not have the content that was written (corrupted)")
    return problems


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (temp files of dead ones may be removed)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class CloudDataset(Dataset):
    """Samples in memory plus an optional transform ``sample -> sample`` (augmentation)."""

    def __init__(self, samples: Sequence[dict], classes: Sequence[str], transform: Callable | None = None) -> None:
        self.samples, self.classes, self.transform = list(samples), list(classes), transform

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, i: int) -> dict:
        s = self.samples[i]
        return self.transform(dict(s)) if self.transform else s

    def labels(self) -> list[int]:
        """Per-sample class ids (classification sets)."""
        return [int(s["label"]) for s in self.samples]

    def subset(self, indices: Sequence[int]) -> "CloudDataset":
        return CloudDataset([self.samples[i] for i in indices], self.classes, self.transform)
