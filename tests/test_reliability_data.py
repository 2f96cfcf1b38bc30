"""Issue #12, data and files: concurrent cache builders, temps of dead processes, damaged
caches, deep checks of real data, one-line CLI errors (see docs/reliability.md)."""
from __future__ import annotations

import errno
import hashlib
import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from fixtures_kitti import write_real as write_kitti, write_scan
from fixtures_s3dis import write_real as write_s3dis
from i2p.cli import main
from i2p.data.kitti import SPEC as KITTI
from i2p.data.modelnet import CLASSES as MODELNET_CLASSES
from i2p.data.store import cached_build, cached_read, load_cloudset, save_cloudset
from i2p.files import file_lock, remove_stale_temps, savefig_atomic, write_atomic
from i2p.train import save_atomic


# ------------------------------------------------------------------ helpers

def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha1(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _temps(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if ".tmp" in p.name)


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


@pytest.fixture
def live_pid():
    """The pid of another process that runs for the whole test."""
    p = subprocess.Popen(["sleep", "60"])
    yield p.pid
    p.kill()
    p.wait()


def _samples() -> list[dict]:
    g = torch.Generator().manual_seed(0)
    return [{"points": torch.randn(n, 3, generator=g), "label": i, "name": f"s{i}"} for i, n in enumerate((40, 30))]


# ------------------------------------------------------------------ 1. concurrent builders

def _slow_build(folder: Path) -> None:
    """Writes a few files slowly, and logs each build outside the cache (O_APPEND: one line per write)."""
    with open(folder.parent / "builds.log", "a") as log:
        log.write(f"{os.getpid()}\n")
    for i in range(4):
        time.sleep(0.01)
        (folder / f"part{i}.bin").write_bytes(bytes([i]) * 5000)


def _builder(tasks, results, barrier) -> None:
    """One builder process: per task, all start together, build (or wait), then re-read
    the returned folder a little later (it must not have changed under us)."""
    for root in iter(tasks.get, None):
        barrier.wait()
        try:
            folder = cached_build("race", {"n": 4}, _slow_build, root)
            first = _digest(folder)
            time.sleep(0.03)  # other builders may still be finishing
            results.put(("ok", first, _digest(folder)))
        except Exception as e:  # reported to the test, which fails with it
            results.put(("error", repr(e), None))


def test_concurrent_builders_build_once_and_never_disturb_a_returned_folder(tmp_path):
    """6 processes ask for the same cache at once, 20 rounds: a fresh cache, then one
    truncated in place (rebuilt once while the others wait)."""
    ctx = mp.get_context("fork")  # the workers inherit the imports: starting is milliseconds
    tasks, results, barrier = ctx.Queue(), ctx.Queue(), ctx.Barrier(6)
    workers = [ctx.Process(target=_builder, args=(tasks, results, barrier)) for _ in range(6)]
    for w in workers:
        w.start()
    try:
        for rnd in range(20):
            root = tmp_path / f"round{rnd}"
            for phase in ("fresh", "damaged"):
                if phase == "damaged":
                    part = next(root.glob("race-*")) / "part0.bin"
                    part.write_bytes(b"x")
                for _ in workers:
                    tasks.put(root)
                got = [results.get(timeout=60) for _ in workers]
                errors = [g[1] for g in got if g[0] == "error"]
                assert not errors, f"round {rnd} ({phase}): {errors}"
                assert all(first == again for _, first, again in got), f"round {rnd}: a returned folder changed"
                contents = {tuple(sorted(first.items())) for _, first, _ in got}
                assert len(contents) == 1, f"round {rnd}: callers got different folders"
                content = dict(next(iter(contents)))
                assert {"DONE", "MANIFEST.json", "params.json", "part0.bin", "part3.bin"} <= set(content)
                builds = (root / "builds.log").read_text().split()
                assert len(builds) == (1 if phase == "fresh" else 2), f"round {rnd} ({phase}): {len(builds)} builds"
                assert sorted(p.name for p in root.iterdir()) == ["builds.log", next(root.glob("race-*")).name]
    finally:
        for _ in workers:
            tasks.put(None)
        for w in workers:
            w.join(10)


def _hold(path: str, ready) -> None:
    with file_lock(path):
        ready.set()
        time.sleep(60)


def test_a_lock_holder_killed_by_sigkill_blocks_nobody(tmp_path, capfd):
    lock = tmp_path / ".x.lock"
    ctx = mp.get_context("fork")
    ready = ctx.Event()
    holder = ctx.Process(target=_hold, args=(str(lock), ready))
    holder.start()
    assert ready.wait(10)
    killer = threading.Timer(0.2, lambda: os.kill(holder.pid, signal.SIGKILL))
    killer.start()
    t0 = time.monotonic()
    with file_lock(lock, waiting="waiting for x"):  # waits until the kernel drops the dead holder's lock
        assert lock.exists()
    holder.join()
    assert time.monotonic() - t0 < 5 and not lock.exists()  # the lock file is gone with its last holder
    assert capfd.readouterr().err.count("[i2p] waiting for x\n") == 1


# ------------------------------------------------------------------ 2. temps of dead processes

def test_cache_temps_of_dead_processes_go_on_the_next_call_even_when_the_cache_is_complete(tmp_path, dead_pid):
    """A killed `data make` whose rerun started while it was still exiting: the rerun kept its
    temp (alive then); once it is dead, the next call of that cache removes it."""
    folder = cached_build("demo", {"a": 1}, lambda f: (f / "x.txt").write_text("x"), tmp_path)
    sleeper = subprocess.Popen(["sleep", "60"])
    exiting = tmp_path / f".{folder.name}.tmp{sleeper.pid}"
    dead = tmp_path / f".{folder.name}.tmp{dead_pid}"
    aside = tmp_path / f".{folder.name}.tmp{dead_pid}.old"  # a damaged folder moved aside, then killed
    for d in (exiting, dead, aside):
        d.mkdir()
        (d / "half.npz").write_bytes(b"half")
    try:
        assert cached_build("demo", {"a": 1}, None, tmp_path) == folder  # complete: no build
        assert exiting.exists() and not dead.exists() and not aside.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert cached_build("demo", {"a": 1}, None, tmp_path) == folder
    assert not exiting.exists() and (folder / "x.txt").read_text() == "x"


@pytest.mark.parametrize("writer", ["write_atomic", "save_atomic", "save_cloudset", "savefig_atomic"])
def test_every_writer_removes_dead_temps_of_its_target_and_keeps_live_ones(tmp_path, dead_pid, live_pid, writer):
    """Killed saves leave ``.<name>.tmp<pid>[.ext]`` next to the target (a 300 MB
    ``.last.pt.tmp<pid>``): the next write of that target removes those of dead pids only."""
    name, ext, write = {
        "write_atomic": ("record.json", "", lambda p: write_atomic(p, "{}")),
        "save_atomic": ("last.pt", "", lambda p: save_atomic({"epoch": 1}, p)),
        "save_cloudset": ("train.npz", ".npz", lambda p: save_cloudset(p, _samples())),
        "savefig_atomic": ("fig.png", ".png", None),
    }[writer]
    if writer == "savefig_atomic":
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=(1, 1))
        write = lambda p: savefig_atomic(fig, p, dpi=20)  # noqa: E731
    target = tmp_path / name
    dead = tmp_path / f".{name}.tmp{dead_pid}{ext}"
    live = tmp_path / f".{name}.tmp{live_pid}{ext}"
    other = tmp_path / f".other{name}.tmp{dead_pid}"  # another target's temp: not ours to judge here
    for p in (dead, live, other):
        p.write_bytes(b"half a file")
    write(target)
    assert target.is_file() and not dead.exists() and live.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([name, live.name, other.name])


def test_a_complete_cache_is_used_without_writing(tmp_path, monkeypatch):
    """A shared, read-only data folder still serves its complete caches (the tests run as
    root, so the folder cannot be made read-only here: writing is made to fail instead)."""
    folder = cached_build("demo", {"a": 1}, lambda f: (f / "x.txt").write_text("x"), tmp_path)

    def no_writes(*args, **kwargs):
        raise AssertionError("tried to write")

    monkeypatch.setattr("i2p.data.store.check_writable", no_writes)
    monkeypatch.setattr("i2p.data.store.file_lock", no_writes)
    assert cached_build("demo", {"a": 1}, None, tmp_path, content=True) == folder


def test_a_full_disk_during_a_build_is_one_line_and_leaves_no_temp(tmp_path):
    def build(folder):
        (folder / "half.npz").write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device", str(folder / "big.npz"))

    with pytest.raises(ValueError, match=r"cannot build the cache .*demo-\w+: No space left on device \(.*big\.npz\); "
                       r"free space or choose another folder \(--out, root= or \$I2P_DATA\)$"):
        cached_build("demo", {"a": 1}, build, tmp_path)
    assert not list(tmp_path.iterdir())


def test_a_failed_figure_save_keeps_the_old_figure_and_no_temp(tmp_path):
    class Broken:
        def savefig(self, path, **kw):
            Path(path).write_bytes(b"half a png")
            raise OSError(28, "No space left on device")

    target = tmp_path / "fig.png"
    target.write_bytes(b"old figure")
    with pytest.raises(OSError):
        savefig_atomic(Broken(), target)
    assert target.read_bytes() == b"old figure" and [p.name for p in tmp_path.iterdir()] == ["fig.png"]


def test_remove_stale_temps_reads_only_its_own_pattern(tmp_path, dead_pid):
    for n in (f".a.txt.tmp{dead_pid}", f".a.txt.tmpx{dead_pid}", f"a.txt.tmp{dead_pid}", f".a.txt.tmp{dead_pid}.png",
              f".b.txt.tmp{dead_pid}", ".a.txt.tmp"):
        (tmp_path / n).write_text("")
    gone = remove_stale_temps(tmp_path / "a.txt")
    assert sorted(p.name for p in gone) == [f".a.txt.tmp{dead_pid}", f".a.txt.tmp{dead_pid}.png"]
    assert remove_stale_temps(tmp_path / "nowhere" / "a.txt") == []  # no folder: nothing to do, no error


# ------------------------------------------------------------------ 3. damaged caches

TINY_KITTI = {"sequences": [0, 8], "sweeps": 1, "val_sweeps": 1, "azimuths": 64}


@pytest.fixture
def tiny_kitti(monkeypatch, tmp_path):
    """A SynthKITTI profile that generates in about a second, and ``i2p data make`` of it."""
    monkeypatch.setitem(KITTI.profiles, "tiny", dict(KITTI.profiles["teaching"], **TINY_KITTI))

    def make(*extra: str) -> Path:
        assert main(["data", "make", "kitti", "--profile", "tiny", "--out", str(tmp_path), "--no-progress", *extra]) == 0
        return next(tmp_path.glob("synth_semantickitti-tiny-*"))

    return make


def test_data_make_rebuilds_a_truncated_deleted_or_garbled_cache(tiny_kitti, capsys):
    folder = tiny_kitti()
    seq = folder / "seq_00.npz"
    good = seq.read_bytes()
    for damage in ("truncate", "delete", "garble"):
        if damage == "truncate":
            seq.write_bytes(good[: len(good) // 2])
        elif damage == "delete":  # what the error message advises
            seq.unlink()
        else:  # same size, other bytes: only the content check (SHA-1) sees it
            seq.write_bytes(bytes(len(good)))
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                tiny_kitti()  # sizes are fine: no rebuild without --verify...
            with pytest.raises(ValueError, match=f"^{re.escape(str(seq))} is corrupt or truncated .*; delete it"):
                load_cloudset(seq)
        with pytest.warns(UserWarning, match=f"cache {re.escape(str(folder))} is damaged .*seq_00.npz.*building it again"):
            assert tiny_kitti(*(["--verify"] if damage == "garble" else [])) == folder
        assert seq.read_bytes() == good, damage  # the generator is deterministic: same bytes again
        assert len(KITTI.load("train", "tiny", root=folder.parent, transform=None, progress=False)) == 1
    assert _temps(folder.parent) == []


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty", "not-a-zip", "zip-version"])
def test_a_corrupt_cloud_set_is_one_line_naming_the_file_and_what_to_do(tmp_path, damage):
    path = tmp_path / "a.npz"
    save_cloudset(path, _samples())
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) - 300]
    elif damage == "garbage":
        data[200:260] = bytes(range(60))
    elif damage == "empty":
        data = b""
    elif damage == "not-a-zip":
        data = b"<html>404 not found</html>"
    else:  # a damaged local header: numpy's zipfile raised NotImplementedError("zip file version")
        data[4:6] = (1600).to_bytes(2, "little")
        cd = data.rfind(b"PK\x01\x02")
        data[cd + 6 : cd + 8] = (1600).to_bytes(2, "little")
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError) as e:
        load_cloudset(path)
    msg = str(e.value)
    assert msg.startswith(f"{path} ") and "\n" not in msg
    assert "delete it (a cached data set is then built again on next use, or by `i2p data make" in msg


@pytest.mark.parametrize("manifest", ["[1, 2]", '{"x.txt": 3}', '{"x.txt": {"size": "3"}}', "{not json", ""])
def test_a_damaged_manifest_means_rebuild_not_a_traceback(tmp_path, manifest):
    calls = []

    def build(folder):
        calls.append(1)
        (folder / "x.txt").write_text("abc")

    folder = cached_build("demo", {"a": 1}, build, tmp_path)
    (folder / "MANIFEST.json").write_text(manifest)
    with pytest.warns(UserWarning, match="has no readable MANIFEST.json .*building it again"):
        assert cached_build("demo", {"a": 1}, build, tmp_path) == folder
    assert len(calls) == 2 and (folder / "x.txt").read_text() == "abc"


def test_inconsistent_arrays_are_refused_not_sliced_wrong(tmp_path):
    path = tmp_path / "a.npz"
    np.savez(path, points=np.zeros((10, 3), np.float32), offsets=np.array([0, 6, 4, 10]), label=np.arange(3),
             name=np.array(["a", "b", "c"]))
    with pytest.raises(ValueError, match="offsets, names, labels and features do not fit the 10 points"):
        load_cloudset(path)


def test_readers_failing_on_one_damaged_folder_rebuild_it_once(tmp_path):
    """Two readers read the same damaged folder; the first rebuilds it, the second must
    use that build, not throw it away (it could be in use by the first)."""
    calls = []

    def build(folder):
        calls.append(1)
        save_cloudset(folder / "a.npz", _samples())

    folder = cached_build("demo", {"a": 1}, build, tmp_path)
    good = (folder / "a.npz").read_bytes()
    (folder / "a.npz").write_bytes(bytes(len(good)))  # same size: found only by reading

    def second_reader(f: Path):
        stale = (f / "a.npz").read_bytes()  # this reader has read the damaged file...
        if stale != good:
            with pytest.warns(UserWarning, match="cannot be read"):  # ...meanwhile the first rebuilds it
                first = cached_read("demo", {"a": 1}, build, lambda g: load_cloudset(g / "a.npz"), tmp_path)
            assert len(first) == 2 and len(calls) == 2
            raise ValueError("damaged")  # ...and then fails on what it read
        return load_cloudset(f / "a.npz")

    with pytest.warns(UserWarning, match="cannot be read"):
        back = cached_read("demo", {"a": 1}, build, second_reader, tmp_path)
    assert len(back) == 2 and len(calls) == 2  # one rebuild, not two


# ------------------------------------------------------------------ 4. deep checks of real data

def _check(capsys, root: Path, dataset: str, *extra: str) -> tuple[int, str, str]:
    rc = main(["data", "check", str(root), "--dataset", dataset, *extra])
    out, err = capsys.readouterr()
    return rc, out, err


def test_kitti_check_reads_every_label_file_by_default(tmp_path, capsys):
    root = write_kitti(tmp_path)
    assert _check(capsys, root, "kitti")[0] == 0
    sem = np.full(25, 40, np.uint32)
    sem[[3, 7]] = [77, 300]
    write_scan(root, 4, "000000", 25, np.random.default_rng(2), sem=sem)  # raw ids not in the learning map
    rc, out, err = _check(capsys, root, "kitti")
    assert rc == 1 and "reading every file" in err
    assert ("04/labels/000000.label: raw label ids not in the SemanticKITTI learning map: 77, 300 (a damaged file "
            "or not a SemanticKITTI .label); extract it again from data_odometry_labels.zip") in out
    assert out.strip().endswith("1 problem(s); every file read")
    rc, out, _ = _check(capsys, root, "kitti", "--quick")  # the quick check cannot see contents, and says so
    assert rc == 0 and out.strip().endswith("OK; structure and file sizes only (--quick)")
    label = root / "sequences" / "09" / "labels" / "000000.label"
    label.unlink()  # a scan whose label file is missing
    for extra in ((), ("--quick",), ("--deep",)):
        rc, out, _ = _check(capsys, root, "kitti", *extra)
        assert rc == 1 and f"has no label file {label}; extract it again from data_odometry_labels.zip" in out


def test_kitti_check_names_count_mismatch_and_truncation_with_the_fix(tmp_path, capsys):
    root = write_kitti(tmp_path)
    b, lp, _, _ = write_scan(root, 2, "000000", 30, np.random.default_rng(1))
    lp.write_bytes(lp.read_bytes()[:-8])  # two labels short
    b2 = root / "sequences" / "03" / "velodyne" / "000000.bin"
    b2.write_bytes(b2.read_bytes()[:-5])
    rc, out, _ = _check(capsys, root, "kitti")
    assert rc == 1
    assert f"{lp} has 28 labels but {b} has 30 points; extract it again from data_odometry_labels.zip" in out
    assert f"{b2}: truncated" in out and "extract it again from data_odometry_velodyne.zip" in out


def test_modelnet_off_check_parses_every_mesh_by_default(tmp_path, capsys):
    tetra = "OFF\n4 4 0\n0 0 0\n1 0 0\n0 1 0\n0 0 1\n3 0 1 2\n3 0 1 3\n3 0 2 3\n3 1 2 3\n"
    for c in MODELNET_CLASSES:
        for split in ("train", "test"):
            d = tmp_path / "ModelNet40" / c / split
            d.mkdir(parents=True)
            (d / f"{c}_0001.off").write_text(tetra)
    assert _check(capsys, tmp_path, "modelnet")[0] == 0
    bad = tmp_path / "ModelNet40" / "bowl" / "train" / "bowl_0001.off"
    bad.write_text(tetra[:40])  # truncated after the header
    rc, out, _ = _check(capsys, tmp_path, "modelnet")
    assert rc == 1 and str(bad) in out
    assert _check(capsys, tmp_path, "modelnet", "--quick")[0] == 0  # headers only


def test_s3dis_check_parses_every_annotation_by_default(tmp_path, capsys):
    root = write_s3dis(tmp_path)
    assert _check(capsys, root, "s3dis")[0] == 0
    bad = root / "Area_1" / "office_1" / "Annotations" / "table_1.txt"
    bad.write_text("1 2 3 4 5 6\n1 2 3 nan 5 6\n")
    rc, out, _ = _check(capsys, root, "s3dis")
    assert rc == 1 and str(bad) in out
    assert _check(capsys, root, "s3dis", "--quick")[0] == 0


# ------------------------------------------------------------------ 5. one-line CLI errors

@pytest.mark.parametrize("argv, message", [
    (["data", "make", "kitti", "--out", "{file}"], "data folder {file} is a file, not a folder; choose a writable one (--out"),
    (["data", "make", "kitti", "--out", "{file}/sub"], "data folder {file}/sub cannot be written (Not a directory); choose a writable"),
    (["data", "make", "kitti", "--out", "/proc/i2p-readonly"], "data folder /proc/i2p-readonly cannot be written ("),
    (["data", "make", "kitti", "--profile", "huge"], "unknown SynthKITTI profile 'huge'; choose one of teaching, full"),
    (["data", "make", "kitti", "modelnet", "--profile", "huge"], "unknown SynthKITTI profile 'huge'"),
    (["data", "make", "mnist"], "unknown data set 'mnist'; valid: modelnet40 (modelnet), s3dis, semantickitti (kitti)"),
    (["data", "gallery", "--dpi", "0"], "--dpi must be between 1 and 600 (dots per inch; default 110), got 0"),
    (["data", "gallery", "--dpi", "-5"], "--dpi must be between 1 and 600"),
    (["data", "gallery", "--dpi", "100000"], "--dpi must be between 1 and 600"),
    (["data", "gallery", "kitti", "--profile", "huge"], "unknown SynthKITTI profile 'huge'"),
    (["data", "gallery", "mnist"], "unknown data set 'mnist'; valid:"),
    (["data", "gallery", "kitti", "--out-dir", "{file}"], "gallery folder {file} is a file, not a folder; choose another --out-dir"),
    (["data", "check", "{tmp}", "--dataset", "mnist"], "unknown data set 'mnist'; valid:"),
    (["data", "check", "{tmp}/nowhere", "--dataset", "kitti"], "{tmp}/nowhere does not exist; pass the folder holding"),
    (["data", "check", "{file}", "--dataset", "s3dis"], "{file} is a file, not a folder; pass the folder holding the S3DIS"),
])
def test_data_user_errors_are_one_line_exit_2(tmp_path, capsys, argv, message):
    (tmp_path / "afile").write_text("")
    fill = {"file": str(tmp_path / "afile"), "tmp": str(tmp_path)}
    assert main([a.format(**fill) for a in argv]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("[i2p] error: ") and message.format(**fill) in err
    assert out == "" and "Traceback" not in err
    assert not list(tmp_path.glob("synth_*"))  # checked before any work


@pytest.mark.parametrize("argv", [["data", "make", "kitti", "--seed", "-1"], ["quickstart", "--seed", "-1"],
                                  ["pretrain2d", "--dataset", "shapes2d", "--seed", str(2**32)]])
def test_seeds_numpy_would_refuse_are_usage_errors(tmp_path, capsys, argv, monkeypatch):
    """A negative or too large seed used to pass argparse and fail in numpy once work had begun."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as e:
        main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert f"argument --seed: must be an int in [0, 2147483647], got '{argv[-1]}'" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("argv", [["data", "make", "kitti", "--bogus"], ["data", "check", "x", "--dataset", "kitti", "--deep",
                                                                          "--quick"], ["data", "gallery", "--dpi", "abc"]])
def test_unknown_or_malformed_options_are_errors_not_fallbacks(capsys, argv):
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2 and "error:" in capsys.readouterr().err
