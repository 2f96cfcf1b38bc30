"""Shared fixtures for the sparse-engine tests (kept deliberately small)."""
from __future__ import annotations

import pytest
import torch


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


def pytest_configure(config):
    """Under pytest-xdist every worker gets one torch thread: two workers x two OpenMP
    threads on a 2-core machine spin on barriers and run many times slower."""
    import os

    if os.environ.get("PYTEST_XDIST_WORKER"):
        torch.set_num_threads(1)
