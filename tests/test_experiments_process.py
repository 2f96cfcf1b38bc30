"""The results store across processes: a run killed with SIGKILL mid-epoch resumes to the
uninterrupted result, and a 2-rank torchrun run reports the same metrics as one process."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from i2p.data import registry
from i2p.experiments import ExperimentConfig
from i2p.experiments.runs import evaluate_run

OPTIONS = {"classes": ["chair", "cup", "table", "lamp"], "train": 10, "test": 4}


def _config(tmp_path: Path, **recipe) -> Path:
    cfg = ExperimentConfig.from_dict({
        "name": "proc", "device": "cpu", "data": {"dataset": "modelnet40", "options": OPTIONS},
        "model": {"model": "efficientnet_lite0", "source": "efficientnet_lite0.imagenet1k", "scope": "io_bn"},
        "recipe": {"epochs": 4, "batch_size": 4, "lr": 0.05, "eval_every": 1, **recipe}, "seeds": [3]})
    path = tmp_path / "config.yaml"
    path.write_text(cfg.to_yaml())
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    """Subprocesses share one data cache (generated here, before any kill) and one thread."""
    monkeypatch.setenv("I2P_DATA", str(tmp_path / "data"))
    registry.get("modelnet40").make(options=OPTIONS, progress=False)
    return {**os.environ, "OMP_NUM_THREADS": "1", "I2P_DATA": str(tmp_path / "data")}


def _train(config: Path, store: Path, env: dict, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "i2p", "train", str(config), "--store", str(store), "--no-progress"]
    return subprocess.Popen(cmd, env=env, text=True, **{"stdout": subprocess.PIPE, "stderr": subprocess.PIPE, **kw})


def _record(store: Path) -> dict:
    (path,) = store.glob("*/record.json")
    rec = json.loads(path.read_text())
    return {k: rec[k] for k in ("metrics", "curves", "seed", "key")}


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_ends_like_an_uninterrupted_run(tmp_path, env):
    config = _config(tmp_path)
    whole = _train(config, tmp_path / "whole", env)
    killed = _train(config, tmp_path / "killed", env)
    deadline = time.monotonic() + 240
    while not list((tmp_path / "killed").glob("*/ckpt/last.pt")):  # epoch 1 is done ...
        assert killed.poll() is None and time.monotonic() < deadline, killed.communicate()
        time.sleep(0.05)
    time.sleep(0.6)  # ... and epoch 2 under way
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    (ckpt,) = (tmp_path / "killed").glob("*/ckpt/last.pt")
    assert killed.returncode == -signal.SIGKILL and not list((tmp_path / "killed").glob("*/record.json"))
    done = torch.load(ckpt, weights_only=False)["epoch"]
    assert 1 <= done < 4, f"the kill landed after epoch {done}"
    resumed = _train(config, tmp_path / "killed", env)
    out, err = resumed.communicate(timeout=300)
    assert resumed.returncode == 0, err[-2000:]
    assert whole.wait(timeout=300) == 0, whole.communicate()[1][-2000:]
    a, b = _record(tmp_path / "whole"), _record(tmp_path / "killed")
    assert a == b  # same key, same curves epoch by epoch, same final metrics
    rec = json.loads(next((tmp_path / "killed").glob("*/record.json")).read_text())
    assert rec["timings"]["resumed_from_epoch"] == done


@pytest.mark.slow
def test_two_processes_on_one_run_train_it_once(tmp_path, env):
    """Two processes asking for one run: one trains it, the other waits for it and returns
    its record -- one folder, trained once. Deterministic: the test holds the run's lock
    until both processes have said they are waiting, then lets them race."""
    from i2p.files import file_lock

    config = _config(tmp_path, epochs=2)
    store = tmp_path / "store"
    store.mkdir()
    key = ExperimentConfig.load(config).run_key(3)
    logs = [tmp_path / "a.err", tmp_path / "b.err"]
    errs = [open(log, "w") for log in logs]
    with file_lock(store / f".{key}.lock"):
        procs = [_train(config, store, env, stdout=subprocess.DEVNULL, stderr=err) for err in errs]
        deadline = time.monotonic() + 240
        while not all("another process is running" in log.read_text() for log in logs):
            assert all(p.poll() is None for p in procs) and time.monotonic() < deadline, [log.read_text() for log in logs]
            time.sleep(0.1)
        assert not list(store.glob("*/config.yaml"))  # nobody started while the lock was held
    for p, log, err in zip(procs, logs, errs):
        assert p.wait(timeout=300) == 0, log.read_text()[-2000:]
        err.close()
    (folder,) = [p for p in store.iterdir() if p.is_dir()]
    rec = json.loads((folder / "record.json").read_text())
    assert rec["timings"]["resumed_from_epoch"] == 0 and len(rec["curves"]) == 2  # trained once, from the start
    assert not list(store.glob(".*.lock"))  # the lock file goes with its last holder


@pytest.mark.slow
def test_two_torchrun_ranks_report_the_metrics_of_one_process(tmp_path, env):
    """In the default precision (bf16 on a CPU with fast bf16): each sample's numbers must
    not depend on its batchmates (test_precision.py::test_bf16_conv_is_batch_invariant)."""
    config = _config(tmp_path, epochs=1)
    script = Path(__file__).parent / "scripts" / "ddp_run.py"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29519", str(script),
           str(config), str(tmp_path / "store")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    records = list((tmp_path / "store").glob("*/record.json"))
    assert len(records) == 1  # only rank 0 writes
    m0, m1 = (torch.load(tmp_path / "store" / f"metrics_rank{r}.pt") for r in (0, 1))
    assert m0 == m1  # every rank holds the aggregated metrics
    single = evaluate_run(records[0].parent, progress=False)  # one process, the same checkpoint
    for k in ("top1", "mean_acc", "confusion"):
        assert single[k] == m0[k], k
    assert single["loss"] == pytest.approx(m0["loss"], rel=1e-6)
    assert sum(map(sum, m0["confusion"])) == OPTIONS["test"] * len(OPTIONS["classes"])
