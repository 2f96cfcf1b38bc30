"""The optional torchsparse backend: off unless importable on CUDA, identical results when on."""
import importlib.util

import pytest
import torch

from i2p.sparse import SparseTensor, backend, get_kernel_map
from i2p.sparse import kmap as kmap_mod


@pytest.fixture
def fresh_backend(monkeypatch):
    backend._load.cache_clear()
    yield monkeypatch
    backend._load.cache_clear()


@pytest.fixture
def fake_torchsparse(fresh_backend):
    """A stand-in ``torchsparse.nn.functional`` so the dispatch logic is testable here."""
    import sys
    import types

    def sphashquery(queries, references):
        return torch.full_like(queries, 7)

    mods = {n: types.ModuleType(n) for n in ("torchsparse", "torchsparse.nn", "torchsparse.nn.functional")}
    mods["torchsparse.nn.functional"].sphashquery = sphashquery
    for name, mod in mods.items():
        fresh_backend.setitem(sys.modules, name, mod)
    return sphashquery


def test_torchsparse_used_on_cuda_only(fake_torchsparse):
    assert backend.torchsparse_query(torch.device("cuda")) is fake_torchsparse
    assert backend.torchsparse_query(torch.device("cpu")) is None
    assert backend.backend_name().endswith("on CUDA")


def test_forced_plain_backend(fake_torchsparse, fresh_backend):
    fresh_backend.setenv("I2P_SPARSE_BACKEND", "torch")
    assert backend.torchsparse_query(torch.device("cuda")) is None
    assert backend.backend_name().startswith("torch (plain")


def test_absent_torchsparse_means_plain(fresh_backend):
    import sys

    fresh_backend.setitem(sys.modules, "torchsparse", None)  # import fails
    assert backend.torchsparse_query(torch.device("cuda")) is None


@pytest.mark.skipif(
    importlib.util.find_spec("torchsparse") is None or not torch.cuda.is_available(),
    reason="needs torchsparse and a CUDA device",
)
def test_torchsparse_lookups_match_plain(fresh_backend):
    g = torch.Generator().manual_seed(0)
    coords = torch.unique(torch.randint(0, 40, (3000, 4), generator=g), dim=0)
    coords[:, 0] %= 2
    coords = torch.unique(coords, dim=0).cuda()
    fresh_backend.setattr(kmap_mod, "_MAX_DENSE_TABLE", 1)  # force the hashed path
    maps = {}
    for mode in ("torch", "auto"):
        fresh_backend.setenv("I2P_SPARSE_BACKEND", mode)
        backend._load.cache_clear()
        x = SparseTensor(torch.zeros(len(coords), 1, device="cuda"), coords)
        maps[mode] = get_kernel_map(x, 3)[0]
    assert backend.backend_name().endswith("on CUDA")
    for a, b in zip(maps["torch"].in_idx, maps["auto"].in_idx):
        assert torch.equal(a, b)
