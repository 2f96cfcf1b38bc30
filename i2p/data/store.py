"""On-disk cloud sets: one ``.npz`` per split, written atomically, validated on read.

A cloud set is a list of samples ``{"points": [N, 3] float32, "feats": [N, C] float32
(optional), "label": int or [N] int64, "name": str (optional)}``. They are stored
concatenated with offsets, so a split loads with one read. Generated data is cached
under :func:`data_root` in a folder named by the generator's parameters; a folder is
only used once its ``DONE`` marker exists, so an interrupted generation is redone.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import struct
import uuid
import zipfile
from pathlib import Path
import warnings
from typing import Callable, Sequence, TypeVar

import numpy as np
import torch
from torch.utils.data import Dataset

from ..files import atomic_target, check_writable, file_lock, process_alive, remove_stale_temps, temp_path

__all__ = ["data_root", "save_cloudset", "load_cloudset", "cached_build", "cached_read", "verify_folder", "process_alive", "CloudDataset"]

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
    with atomic_target(path, ".npz") as tmp:  # np.savez appends .npz to any other name
        np.savez(tmp, **arrays)


#: what to do about a bad cloud-set file (they are caches: deleting one makes i2p build it again)
_REGENERATE = ("delete it (a cached data set is then built again on next use, or by `i2p data make DATASET "
               "--verify`) or, for a file you made, write it again with save_cloudset")


def load_cloudset(path: str | Path) -> list[dict]:
    """Read a cloud set written by :func:`save_cloudset`; clear errors for bad files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cloud set not found: {path}")
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, NotImplementedError, KeyError, struct.error) as e:
        # (a damaged zip header can claim a zip version or compression numpy cannot read)
        why = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise ValueError(f"{path} is corrupt or truncated ({why}); {_REGENERATE}") from e
    missing = {"points", "offsets", "name"} - arrays.keys()
    if missing or not {"label", "point_label"} & arrays.keys():
        raise ValueError(f"{path} is not an i2p cloud set (missing {sorted(missing) or 'labels'}); {_REGENERATE}")
    if not _consistent(arrays):
        raise ValueError(f"{path}: offsets, names, labels and features do not fit the {len(arrays['points'])} points; "
                         f"{_REGENERATE}")
    off = arrays["offsets"]
    out = []
    for i in range(len(off) - 1):
        a, b = int(off[i]), int(off[i + 1])
        s = {"points": torch.from_numpy(arrays["points"][a:b]), "name": str(arrays["name"][i])}
        if "feats" in arrays:
            s["feats"] = torch.from_numpy(arrays["feats"][a:b])
        s["label"] = int(arrays["label"][i]) if "label" in arrays else torch.from_numpy(arrays["point_label"][a:b])
        out.append(s)
    return out


def _consistent(arrays: dict[str, np.ndarray]) -> bool:
    """Whether a cloud set's arrays agree with each other (sample slicing would go wrong otherwise)."""
    off, n = arrays["offsets"], len(arrays["points"])
    samples = len(off) - 1
    labels_ok = (len(arrays["label"]) == samples if "label" in arrays else len(arrays["point_label"]) == n)
    return (arrays["points"].ndim == 2 and arrays["points"].shape[1] == 3 and off.ndim == 1 and samples >= 1
            and off[0] == 0 and off[-1] == n and bool((np.diff(off) >= 0).all()) and len(arrays["name"]) == samples
            and labels_ok and ("feats" not in arrays or len(arrays["feats"]) == n))


def cached_build(
    name: str,
    params: dict,
    build: Callable[[Path], None],
    root: str | Path | None = None,
    *,
    content: bool = False,
) -> Path:
    """Folder holding the output of ``build(folder)`` for these ``params``; builds it once.

    ``build`` writes into a temporary folder that is renamed into place when complete;
    a half-built folder from an interrupted run is discarded, and the temps of dead
    processes are removed on every call. The folder's files are listed with their sizes
    and SHA-1 in ``MANIFEST.json``; an existing folder whose files no longer have the sizes
    written (truncated or replaced in place, or deleted) or, with ``content``, the SHA-1
    (reads every byte) is said in a warning and built again. Processes asking for the
    same folder at once (a notebook kernel and a CLI run) take turns on a lock file next
    to it: one builds, the others wait and get its folder; a complete, intact folder is
    never removed, so a folder returned to one caller is not emptied under it.
    """
    return _build_locked(name, params, build, root, content, discard=None)


def _build_locked(name: str, params: dict, build: Callable[[Path], None], root: str | Path | None,
                  content: bool, discard: str | None) -> Path:
    """:func:`cached_build`; ``discard``: the ``DONE`` token of a build a reader found
    unreadable, built again unless another process already replaced it."""
    root = Path(root) if root is not None else data_root()
    key = hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]
    final = root / f"{name}-{key}"
    remove_stale_temps(final)  # left by runs that were killed, even when the folder is complete
    if not _problems(final, content, discard):
        return final
    check_writable(root, "data folder", "choose a writable one (--out, root= or $I2P_DATA; created if missing)")
    with file_lock(root / f".{final.name}.lock", waiting=f"waiting for another process building {final}"):
        problems = _problems(final, content, discard)  # a process we waited for may have built it
        if not problems:
            return final
        if final.exists() and _done_token(final) != discard:  # (a reader that failed has said it)
            warnings.warn(f"cache {final} is damaged ({'; '.join(problems[:3])}); building it again", stacklevel=3)
        tmp = temp_path(final)
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        aside = temp_path(final, ".old")
        try:
            try:
                build(tmp)
            except OSError as e:
                if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):  # the disk, not the code
                    raise ValueError(f"cannot build the cache {final}: {e.strerror} ({e.filename or root}); "
                                     "free space or choose another folder (--out, root= or $I2P_DATA)") from None
                raise
            _write_manifest(tmp)
            (tmp / "params.json").write_text(json.dumps(params, indent=2, sort_keys=True))
            (tmp / "DONE").write_text(f"{uuid.uuid4().hex}\n")  # a token: which build a reader saw
            if final.exists():  # the damaged folder: moved aside in one step, then deleted
                os.replace(final, aside)
            os.replace(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
            shutil.rmtree(aside, ignore_errors=True)
    return final


def _problems(final: Path, content: bool, discard: str | None) -> list[str]:
    """What makes ``final`` unusable (empty: use it)."""
    if discard is not None and _done_token(final) == discard:
        return [f"{final} could not be read"]
    return verify_folder(final, content=content)


def _done_token(folder: Path) -> str | None:
    try:
        return (folder / "DONE").read_text()
    except OSError:
        return None


T = TypeVar("T")


def cached_read(name: str, params: dict, build: Callable[[Path], None], read: Callable[[Path], T],
                root: str | Path | None = None) -> T:
    """``read(folder)`` of :func:`cached_build`'s folder; when reading fails on a damaged
    file (same size, bad content), says so, builds the folder again and reads once more.
    Readers that fail at once on the same folder build it again only once."""
    discard = None
    for attempt in range(2):
        folder = _build_locked(name, params, build, root, False, discard)
        token = _done_token(folder)
        try:
            return read(folder)
        except (ValueError, FileNotFoundError) as e:
            if attempt:
                raise
            warnings.warn(f"cache {folder} cannot be read ({e}); building it again", stacklevel=2)
            discard = token
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
        if not all(isinstance(w, dict) and isinstance(w.get("size"), int) and isinstance(w.get("sha1"), str)
                   for w in entries.values()):
            raise ValueError("entries are not {size, sha1}")
    except (OSError, ValueError, AttributeError):
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
