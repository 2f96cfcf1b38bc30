"""The benchmark scripts keep working: they run, print their figures and last lines, and
their accounting (FLOPs, time categories, peak memory) is right on small inputs. Speed
itself is not asserted here (see README: ratios are measured, not unit-tested)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from helpers_models import make_batch
from i2p.precision import resolve_precision
from i2p.sparse import nn as spnn
from i2p.sparse.kmap import get_kernel_map
from i2p.train import TrainConfig

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))
import train_step  # noqa: E402


def test_sparse_conv_benchmark_measures_both_accumulations():
    out = subprocess.run([sys.executable, "benchmarks/sparse_conv.py", "--voxels", "3000", "--repeats", "1",
                          "--threads", "1", "--precision", "bf16"], cwd=ROOT, capture_output=True, text=True,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert any("bf16, sums low" in ln for ln in lines) and any("bf16, sums float32" in ln for ln in lines)
    assert lines[-1].startswith("fraction_of_gemm=") and float(lines[-1].split("=")[1]) > 0


def _bench(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, text=True,
                          env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}, timeout=300)


@pytest.mark.parametrize("algorithm", ["table", "grouped"])
def test_sparse_conv_benchmark_runs_another_algorithm_on_request(algorithm):
    out = _bench("benchmarks/sparse_conv.py", "--voxels", "2000", "--repeats", "1", "--threads", "1",
                 "--algorithm", algorithm)
    assert out.returncode == 0, out.stderr
    assert f"sparse conv algorithm on cpu: {algorithm}" in out.stdout and "correctness vs naive: OK" in out.stdout


def test_spconv_comparison_says_what_is_missing():
    """spconv is optional: without it the comparison stops with one line saying how to get it."""
    import importlib.util

    if importlib.util.find_spec("spconv") is not None:
        pytest.skip("spconv is installed here")
    out = _bench("benchmarks/spconv_compare.py", "--device", "cpu")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "spconv is not installed" in out.stderr and len(out.stderr.strip().splitlines()) == 1


class OneConv(nn.Module):
    """A one-conv classifier: its FLOPs can be counted by hand."""

    def __init__(self, c_in: int, c_out: int, classes: int) -> None:
        super().__init__()
        self.conv = spnn.Conv3d(c_in, c_out, 3)
        self.head = nn.Linear(c_out, classes)

    def forward(self, x):
        return self.head(spnn.GlobalAvgPool()(self.conv(x)))


def tiny_case() -> train_step.Case:
    batch = make_batch(n=4, num_points=300)
    model = OneConv(batch.x.num_channels, 8, int(batch.labels.max()) + 1)
    cfg = TrainConfig(task="cls", progress=False, device="cpu")
    opt = torch.optim.SGD(model.parameters(), lr=1e-3)
    return train_step.Case("tiny", model, batch, cfg, opt, train_step._conv_flops(model, batch), 0.1)


def test_conv_flops_count_every_pair_three_times():
    case = tiny_case()
    pairs = get_kernel_map(case.batch.x, 3)[0].num_pairs
    assert case.flops == 3 * 2 * pairs * case.batch.x.num_channels * 8


def test_step_breakdown_and_peak_memory():
    case = tiny_case()
    precisions = [resolve_precision("fp32", "cpu"), resolve_precision("bf16", "cpu")]
    times = train_step.time_steps(case, precisions, repeats=1, warmup=1, device=torch.device("cpu"))
    assert set(times) == {"fp32", "bf16"} and all(t > 0 for t in times.values())
    for p in precisions:
        shares, peak = train_step.breakdown(case, p, torch.device("cpu"))
        assert set(shares) == set(train_step.CATEGORIES)
        assert sum(shares.values()) == pytest.approx(1.0)
        assert shares["kernel maps"] > 0 and shares["conv GEMMs"] > 0  # fresh maps every step
        assert peak > 0
