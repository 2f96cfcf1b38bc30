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

    if not hasattr(ops, "_CPU_CHUNK"):
        pytest.skip("ops no longer exposes _CPU_CHUNK")
    monkeypatch.setattr(ops, "_CPU_CHUNK", 3)
    return 3
