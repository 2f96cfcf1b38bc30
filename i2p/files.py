"""Writing files so that a crash never leaves half of one, and so that what crashed writers
leave behind goes away.

Every writer writes a temp file named :func:`temp_path` (``.<name>.tmp<pid>``) next to the
target and renames it over (atomic on POSIX). A process killed mid-write leaves its temp
behind; :func:`remove_stale_temps` removes those of dead processes (never a live one's),
and every writer calls it, so the next write of the same target cleans up. Used by the
results store, figures, the study's report and markers, the data caches
(:func:`i2p.data.store.cached_build`) and torch checkpoints
(:func:`i2p.train.save_atomic`). :func:`file_lock` serialises processes that build the
same thing (a notebook kernel and a CLI run).
"""
from __future__ import annotations

import fcntl
import glob
import os
import re
import shutil
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

__all__ = ["atomic_target", "write_atomic", "savefig_atomic", "temp_path", "remove_stale_temps", "process_alive", "file_lock",
           "check_writable"]


def temp_path(path: str | Path, suffix: str = "") -> Path:
    """The temp file (or folder) this process writes ``path`` through: ``.<name>.tmp<pid><suffix>``
    next to it (``suffix`` for writers that insist on an extension, e.g. ``np.savez``)."""
    path = Path(path)
    return path.with_name(f".{path.name}.tmp{os.getpid()}{suffix}")


def process_alive(pid: int) -> bool:
    """Whether a process with this pid exists (temp files of dead ones may be removed)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(path: str | Path) -> list[Path]:
    """Remove the temps of ``path`` (see :func:`temp_path`; files or folders) left by processes
    that no longer run, so a killed writer's temp (a 300 MB checkpoint, a half-built cache)
    does not stay forever; a live process's temp is kept. Returns what was removed."""
    path = Path(path)
    pattern = re.compile(re.escape(f".{path.name}.tmp") + r"(\d+)(\..*)?")
    removed = []
    try:
        candidates = list(path.parent.glob(f".{glob.escape(path.name)}.tmp*"))
    except OSError:  # the folder is gone or unreadable: nothing of ours to clean
        return removed
    for p in candidates:
        m = pattern.fullmatch(p.name)
        if m is None or process_alive(int(m.group(1))):
            continue
        try:
            if p.is_dir() and not p.is_symlink():
                shutil.rmtree(p)
            else:
                p.unlink(missing_ok=True)
        except OSError:  # e.g. a read-only shared folder: not ours to clean, and no reason to fail
            continue
        removed.append(p)
    return removed


def check_writable(folder: str | Path, what: str, fix: str = "choose another folder or fix its permissions",
                   error: type[Exception] = ValueError) -> Path:
    """``folder``, created if missing and proven writable by writing a probe file, before any
    compute (a read-only or full folder would otherwise surface only after the first
    epoch); else one line naming ``what`` and the folder, what is wrong and ``fix``."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise error(f"{what} {folder} is a file, not a folder; {fix}")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".write-test{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise error(f"{what} {folder} cannot be written ({e.strerror or e}); {fix}") from None
    return folder


@contextmanager
def atomic_target(path: str | Path, suffix: str = "") -> Iterator[Path]:
    """The temp path to write ``path`` through; renamed over ``path`` when the ``with``
    block ends without an error, removed in any case (and a dead process's temps of the
    same target go first). ``suffix``: for writers that pick a format from the extension."""
    path = Path(path)
    remove_stale_temps(path)
    tmp = temp_path(path, suffix)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_atomic(path: str | Path, data: str | bytes) -> Path:
    """Write ``data`` (text as UTF-8) to ``path`` atomically; returns the path."""
    with atomic_target(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def savefig_atomic(fig: Any, path: str | Path, **kwargs: Any) -> Path:
    """``fig.savefig(path, **kwargs)`` (matplotlib) atomically; returns the path."""
    with atomic_target(path, Path(path).suffix) as tmp:  # savefig picks the format from the extension
        fig.savefig(tmp, **kwargs)
    return Path(path)


@contextmanager
def file_lock(path: str | Path, waiting: str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on the file ``path`` for the ``with`` block; the file exists
    only while someone holds or waits for it.

    The kernel drops the lock when the holder exits, even by ``kill -9``, so a crashed
    holder never blocks anyone. The holder deletes the file on leaving; a waiter that got
    the lock on a deleted file locks the new one instead, so two processes never both hold
    "the" lock. ``waiting``: a line said on stderr when another process holds the lock,
    so a wait is not mistaken for a hang."""
    path = Path(path)
    said = False
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if waiting and not said:
                    print(f"[i2p] {waiting}", file=sys.stderr, flush=True)
                    said = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            held = os.fstat(fd)
            now = os.stat(path)
            if (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino):
                break
        except FileNotFoundError:  # deleted by the holder we waited for: lock the next file
            pass
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    try:
        yield
    finally:
        path.unlink(missing_ok=True)  # before the lock is released: waiters then retry on a new file
        os.close(fd)
