"""Shared fixtures for the sparse-engine tests (kept deliberately small)."""
from __future__ import annotations

import pytest
import torch


@pytest.fixture(autouse=True)
def single_thread():
    """Every test runs torch with one thread: on a small shared CPU box, OpenMP threads
    spin on barriers and a resnet18 forward goes from 0.1 s to 10 s (and under
    pytest-xdist each worker already has a core)."""
    old = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(old)


@pytest.fixture
def gen() -> torch.Generator:
    """A seeded CPU generator, so every test draws the same random clouds every run."""
    return torch.Generator().manual_seed(0)


@pytest.fixture
def small_chunks(monkeypatch):
    """Force the CPU gather-GEMM-scatter loop to split every offset into tiny chunks."""
    from i2p.sparse import ops

    if hasattr(ops, "_chunk_rows"):
        monkeypatch.setattr(ops, "_chunk_rows", lambda *args, **kwargs: 3)
    elif hasattr(ops, "_CPU_CHUNK"):
        monkeypatch.setattr(ops, "_CPU_CHUNK", 3)
    else:
        pytest.skip("ops exposes no chunk-size knob (_chunk_rows / _CPU_CHUNK)")
    return 3


@pytest.fixture(params=["gather", "table", "grouped"])
def algorithm(request, monkeypatch):
    """Every conv algorithm (``ops.ALGORITHMS``) on every device: the GPU's "table"
    runs on the CPU too, so its numbers are checked where the suite runs."""
    from i2p.sparse import ops

    monkeypatch.setattr(ops, "CONV_ALGORITHM", {"cpu": request.param, "cuda": request.param})
    return request.param


def pytest_configure(config):
    """Under pytest-xdist every worker gets one torch thread: two workers x two OpenMP
    threads on a 2-core machine spin on barriers and run many times slower. The processes
    a test starts (notebook kernels, CLI and DDP runs) inherit one thread through the
    environment: the smoke study's kernels took 14 min beside the other worker with two
    threads each, against 6.7 min alone."""
    import os

    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
        os.environ.setdefault("OMP_NUM_THREADS", "1")


#: the longest test files (~3-3.5 min each on one worker, measured 2026-12-07), scheduled
#: first: ``--dist loadfile --no-loadscope-reorder`` (``make test``) hands out files in
#: collection order (xdist's default reorders them by test count, which put these few-test
#: files last), and one of these last alone on a worker made the suite ~2.5 min longer
LONG_FILES_FIRST = ("test_notebooks_late.py", "test_notebooks.py", "test_study_plan.py", "test_precision.py")


def pytest_collection_modifyitems(config, items):
    """Longest files first (a stable sort: the rest keep their order)."""
    def rank(item) -> int:
        name = item.path.name
        return LONG_FILES_FIRST.index(name) if name in LONG_FILES_FIRST else len(LONG_FILES_FIRST)

    items.sort(key=rank)
