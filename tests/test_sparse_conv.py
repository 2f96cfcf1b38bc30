"""Sparse convolutions against dense torch references (float64, forward and gradients).

The dense reference scatters the sparse features into a zero grid with a differentiable
``index_add`` (inactive sites are zeros), runs ``torch.nn.functional.conv3d`` /
``conv_transpose3d`` with the weight laid out as documented in ``i2p.sparse.kmap``,
and reads the result back at the sparse output voxels only. Gradients of
``sum(out * probe)`` w.r.t. features, weight and bias must agree to 1e-10.

Offset convention (kmap docstring): a K-kernel reads the voxels ``p + d * stride_in``,
``d = i - p_low`` for ``i in 0..K-1``, with ``p_low = (K - 1) // 2`` for odd K (centred)
and ``0`` for even K (anchored). For a dense conv that is "pad ``p_low`` below".
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest
import torch
import torch.nn.functional as TF

from i2p.sparse import SparseCache, SparseTensor, get_kernel_map, kernel_offsets
from i2p.sparse import functional as F
from i2p.sparse import kmap as kmap_mod
from i2p.sparse import nn as snn
from i2p.sparse.ops import sparse_conv_apply

DT = torch.float64
EXACT = dict(rtol=0.0, atol=1e-10)
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


# ======================================================================================
# helpers: random clouds, dense reference, comparison
# ======================================================================================
def random_coords(gen, n=90, grid=8, batch=1, stride=1, isolated=2, shuffle=True, offset=0):
    """``[N, 4]`` unique voxels of ``batch`` clouds in ``[offset, offset + grid)^3`` (times
    ``stride``), each cloud with ``isolated`` lone voxels far (>= 6 cells) from the rest."""
    rows = []
    for b in range(batch):
        xyz = torch.randint(0, grid, (n, 3), generator=gen).unique(dim=0)
        lone = torch.tensor([[grid + 5 + 7 * i, (3 * i + b) % grid, (5 * i + 1) % grid] for i in range(isolated)])
        xyz = torch.cat([xyz, lone.reshape(-1, 3).long()]) + offset
        rows.append(torch.cat([torch.full((len(xyz), 1), b), xyz], dim=1))
    c = torch.cat(rows)
    c[:, 1:] *= stride
    if shuffle:  # the engine must not rely on sorted input rows
        c = c[torch.randperm(len(c), generator=gen)]
    return c


def p_low(k: int) -> int:
    return (k - 1) // 2 if k % 2 else 0


def to_dense(feats, coords, stride, batch, shape):
    """Differentiable scatter of sparse rows into a zero ``[B, C, X, Y, Z]`` grid."""
    g = torch.div(coords[:, 1:], stride, rounding_mode="floor")
    X, Y, Z = shape
    lin = ((coords[:, 0] * X + g[:, 0]) * Y + g[:, 1]) * Z + g[:, 2]
    flat = feats.new_zeros(batch * X * Y * Z, feats.shape[1]).index_add(0, lin, feats)
    return flat.view(batch, X, Y, Z, -1).permute(0, 4, 1, 2, 3)


def at_voxels(dense, coords, stride, shift=0):
    """Rows ``[N, C]`` of a dense grid at sparse voxels (grid index = coord / stride + shift)."""
    g = torch.div(coords[:, 1:], stride, rounding_mode="floor") + shift
    return dense[coords[:, 0], :, g[:, 0], g[:, 1], g[:, 2]]


def dense_weight(w, k, transposed=False, depthwise=False):
    """The documented layout: sparse ``[K^3, Cin, Cout]`` -> dense ``[Cout, Cin, K, K, K]``
    (``[Cin, Cout, ...]`` for conv_transpose3d, ``[C, 1, ...]`` for depthwise)."""
    if depthwise:
        return w.t().reshape(w.shape[1], 1, k, k, k)
    if transposed:
        return w.permute(1, 2, 0).reshape(w.shape[1], w.shape[2], k, k, k)
    return w.permute(2, 1, 0).reshape(w.shape[2], w.shape[1], k, k, k)


def dense_conv(feats, in_coords, in_stride, weight, k, stride, out_coords, out_stride, *,
               bias=None, transposed=False, depthwise=False):
    """Reference output rows at ``out_coords`` computed with torch's dense convolutions."""
    batch = int(torch.cat([in_coords[:, 0], out_coords[:, 0]]).max()) + 1
    shape = tuple((torch.div(in_coords[:, 1:], in_stride, rounding_mode="floor").max(0).values + 1).tolist())
    x = to_dense(feats, in_coords, in_stride, batch, shape)
    w = dense_weight(weight, k, transposed, depthwise)
    groups = x.shape[1] if depthwise else 1
    p = p_low(k)
    if transposed:
        # full (unpadded) transposed conv: y[s*m + i] += W[i] x[m]; the documented offset
        # d = i - p puts fine voxel j at full index j + p. Extra zeros at the far end.
        y = TF.pad(TF.conv_transpose3d(x, w, stride=stride, groups=groups), (0, k + stride) * 3)
        out = at_voxels(y, out_coords, out_stride, shift=p)
    else:
        # pad p below (odd k: the usual padding=(k-1)//2) and k above so that every
        # sparse output voxel floor(c/s)*s has a dense output cell
        y = TF.conv3d(TF.pad(x, (p, k) * 3), w, stride=stride, groups=groups)
        out = at_voxels(y, out_coords, out_stride)
    return out if bias is None else out + bias


def downsampled(coords, out_stride):
    """Independent rule for strided output voxels: {floor(c / s) * s}, as a set."""
    c = coords.clone()
    c[:, 1:] = torch.div(c[:, 1:], out_stride, rounding_mode="floor") * out_stride
    return {tuple(r) for r in c.tolist()}


def rows_at(coords, feats, query):
    """The rows of ``feats`` (one per voxel of ``coords``) at the voxels ``query``, to
    compare results whose row orders differ. Every query voxel must be present."""
    where = {tuple(c): i for i, c in enumerate(coords.tolist())}
    return feats[torch.tensor([where[tuple(c)] for c in query.tolist()], dtype=torch.long, device=feats.device)]


def coarse_over(fine_coords, fine_stride, s):
    """Coarse voxels (stride ``fine_stride * s``) of ``fine_coords`` and a cache that also
    holds the fine voxels, so a transposed conv can return to them."""
    fine = SparseTensor(torch.zeros(len(fine_coords), 0, dtype=DT, device=fine_coords.device), fine_coords, fine_stride)
    _, coarse, cstride = get_kernel_map(fine, 1, s)  # caches the coarse voxels
    return coarse, cstride, fine.cache


@dataclass(frozen=True)
class Case:
    k: int
    stride: int = 1
    transposed: bool = False
    depthwise: bool = False
    in_stride: int = 1  # stride of the input tensor (of the *fine* tensor for transposed)

    def __str__(self) -> str:
        kind = "up" if self.transposed else ("sub" if self.stride == 1 else "down")
        s = f"{'dw-' if self.depthwise else ''}{kind}-k{self.k}"
        s += f"s{self.stride}" if self.stride > 1 else ""
        return s + (f"-at{self.in_stride}" if self.in_stride > 1 else "")


CIN, COUT = 3, 4


def make_input(gen, case: Case, batch=1, device="cpu", **coord_kw):
    """Input tensor of a case; for transposed cases the coarse tensor (sharing the fine
    tensor's cache) plus the fine coordinates it must return to."""
    coords = random_coords(gen, batch=batch, stride=case.in_stride, **coord_kw).to(device)
    if not case.transposed:
        return SparseTensor(torch.randn(len(coords), CIN, generator=gen, dtype=DT).to(device), coords, case.in_stride), None
    coarse, cstride, cache = coarse_over(coords, case.in_stride, case.stride)
    feats = torch.randn(len(coarse), CIN, generator=gen, dtype=DT).to(device)
    return SparseTensor(feats, coarse, cstride, cache), coords


def make_weight(gen, case: Case, device="cpu"):
    shape = (case.k**3, CIN) if case.depthwise else (case.k**3, CIN, COUT)
    return torch.randn(*shape, generator=gen, dtype=DT).to(device)


def leaf(t):
    return None if t is None else t.detach().clone().requires_grad_(True)


def check_against_dense(gen, x, weight, case: Case, bias=None, fine_coords=None):
    """Sparse conv vs dense reference: output voxels, values and all gradients."""
    f, w, b = leaf(x.feats), leaf(weight), leaf(bias)
    y = F.conv3d(SparseTensor(f, x.coords, x.stride, x.cache), w, case.k, case.stride, b,
                 case.transposed, case.depthwise)
    # output voxels
    if case.transposed:
        assert y.stride == x.stride // case.stride
        assert torch.equal(y.coords, fine_coords)
    elif case.stride == 1:
        assert y.stride == x.stride and torch.equal(y.coords, x.coords)
    else:
        assert y.stride == x.stride * case.stride
        assert len({tuple(r) for r in y.coords.tolist()}) == y.num_voxels  # no duplicates
        assert {tuple(r) for r in y.coords.tolist()} == downsampled(x.coords, y.stride)
    assert y.cache is x.cache
    fd, wd, bd = leaf(x.feats), leaf(weight), leaf(bias)
    ref = dense_conv(fd, x.coords, x.stride, wd, case.k, case.stride, y.coords, y.stride,
                     bias=bd, transposed=case.transposed, depthwise=case.depthwise)
    assert ref.abs().sum() > 0  # the comparison is not vacuous
    torch.testing.assert_close(y.feats, ref, **EXACT)
    probe = torch.randn(ref.shape, generator=gen, dtype=DT).to(ref.device)
    (y.feats * probe).sum().backward()
    (ref * probe).sum().backward()
    torch.testing.assert_close(f.grad, fd.grad, **EXACT)
    torch.testing.assert_close(w.grad, wd.grad, **EXACT)
    assert w.grad.abs().sum() > 0 and f.grad.abs().sum() > 0
    if bias is not None:
        torch.testing.assert_close(b.grad, bd.grad, **EXACT)
    return y


# ======================================================================================
# dense equivalence: forward + gradients
# ======================================================================================
CASES = [
    # submanifold (output only at the input voxels)
    Case(1), Case(2), Case(3), Case(4), Case(5),
    Case(3, in_stride=2), Case(3, in_stride=4), Case(5, in_stride=2), Case(2, in_stride=4),
    # strided downsampling to floor(c/s)*s
    Case(3, 2), Case(2, 2), Case(1, 2), Case(4, 2), Case(3, 3), Case(2, 4), Case(5, 4),
    Case(3, 2, in_stride=2), Case(2, 2, in_stride=2), Case(3, 2, in_stride=4),
    # transposed: back to the cached finer voxels
    Case(2, 2, transposed=True), Case(3, 2, transposed=True), Case(1, 2, transposed=True),
    Case(4, 2, transposed=True), Case(2, 2, transposed=True, in_stride=2),
    Case(3, 2, transposed=True, in_stride=2),
    # depthwise (groups = C)
    Case(3, depthwise=True), Case(5, depthwise=True), Case(3, 2, depthwise=True),
    Case(2, 2, depthwise=True), Case(3, depthwise=True, in_stride=2),
    Case(2, 2, transposed=True, depthwise=True),
]


@pytest.mark.parametrize("batch", [1, 3])
@pytest.mark.parametrize("with_bias", [False, True], ids=["nobias", "bias"])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_conv_matches_dense(gen, case, with_bias, batch, algorithm):
    x, fine = make_input(gen, case, batch=batch)
    weight = make_weight(gen, case)
    cout = CIN if case.depthwise else COUT
    bias = torch.randn(cout, generator=gen, dtype=DT) if with_bias else None
    check_against_dense(gen, x, weight, case, bias, fine)


@pytest.mark.parametrize("case", [Case(6), Case(7), Case(6, 2), Case(7, 2), Case(5, 8), Case(7, 8), Case(5, 5),
                                  Case(6, 2, transposed=True), Case(5, 8, transposed=True),
                                  Case(7, 8, transposed=True)], ids=str)
def test_large_kernels_and_strides_at_the_index_margin(gen, case, algorithm):
    """Neighbours that leave the coordinate index's padded box (even K = 6 reads up to
    +5; a stride-8 output floor(c/8)*8 lies up to 7 cells below its inputs) must be
    absent, not aliased to other voxels. Clouds start at 7 = -1 (mod 8)."""
    x, fine = make_input(gen, case, batch=2, grid=7, n=150, isolated=0, offset=7)
    check_against_dense(gen, x, make_weight(gen, case), case, None, fine)


@pytest.mark.parametrize("case", [Case(3), Case(3, 2), Case(2, 2, transposed=True), Case(3, depthwise=True)], ids=str)
def test_table_conv_matches_dense_in_small_blocks(gen, monkeypatch, case):
    """The table algorithm with blocks of a few output rows (several GEMMs per conv)."""
    from i2p.sparse import ops

    monkeypatch.setattr(ops, "CONV_ALGORITHM", {"cpu": "table", "cuda": "table"})
    monkeypatch.setattr(ops, "_TABLE_BLOCK", 7 * case.k**3 * CIN)  # 7 rows per block
    assert len(ops._table_blocks(torch.zeros(50, case.k**3), CIN)) == 8
    x, fine = make_input(gen, case, batch=2, n=200)
    check_against_dense(gen, x, make_weight(gen, case), case, None, fine)


@pytest.mark.parametrize("case", [Case(3), Case(3, 2), Case(2, 2, transposed=True), Case(3, depthwise=True)], ids=str)
def test_grouped_conv_matches_dense_in_small_blocks(gen, monkeypatch, case):
    """The grouped algorithm with blocks of a few pair rows (several batched GEMMs per group)."""
    from i2p.sparse import ops

    monkeypatch.setattr(ops, "CONV_ALGORITHM", {"cpu": "grouped", "cuda": "grouped"})
    monkeypatch.setattr(ops, "_GROUP_BLOCK", 5 * CIN)  # 5 pair rows of one offset per block
    x, fine = make_input(gen, case, batch=2, n=200)
    kmap = get_kernel_map(x, case.k, case.stride, case.transposed)[0]
    groups = ops._offset_groups(kmap, False)
    assert groups and all(len(ops._group_blocks(g, CIN)) > 1 for g in groups if g.gather.shape[1] > 5 * g.gather.shape[0])
    check_against_dense(gen, x, make_weight(gen, case), case, None, fine)


@pytest.mark.parametrize("swap", [False, True], ids=["forward", "swapped"])
def test_offset_groups_hold_every_pair_once(gen, swap):
    """Each non-centre pair of a kernel map sits in exactly one group row; padding reads the
    zero row and adds to row 0; a group's smallest offset fills >= _GROUP_FILL of its rows' share."""
    from i2p.sparse import ops

    x, _ = make_input(gen, Case(3), batch=2, n=300)
    kmap = get_kernel_map(x, 3, 1, False)[0]
    src, dst = (kmap.out_idx, kmap.in_idx) if swap else (kmap.in_idx, kmap.out_idx)
    n_src = kmap.n_out if swap else kmap.n_in
    want = {(k, int(i), int(o)) for k in range(kmap.num_offsets) if k != kmap.identity
            for i, o in zip(src[k].tolist(), dst[k].tolist())}
    got = []
    for grp in ops._offset_groups(kmap, swap):
        counts = [src[k].numel() for k in grp.offsets.tolist()]
        assert min(counts) >= ops._GROUP_FILL * max(counts)
        assert max(counts) <= grp.gather.shape[1] <= 1.125 * max(counts)
        for j, k in enumerate(grp.offsets.tolist()):
            n = src[k].numel()
            got += [(k, int(i), int(o)) for i, o in zip(grp.gather[j, :n].tolist(), grp.scatter[j, :n].tolist())]
            assert (grp.gather[j, n:] == n_src).all() and (grp.scatter[j, n:] == 0).all()
    assert len(got) == len(want) and set(got) == want


def test_grouped_products_live_in_a_reused_workspace(gen, monkeypatch):
    """The grouped conv's product buffer is this thread's workspace: it holds every padded
    product of the largest conv so far, is reused (not grown) by smaller ones, and is freed."""
    from i2p.sparse import ops

    monkeypatch.setattr(ops, "CONV_ALGORITHM", {"cpu": "grouped"})
    ops.release_workspaces()
    assert ops.workspace_bytes(torch.bfloat16) == 0
    big, _ = make_input(gen, Case(3), batch=2, n=300)
    small, _ = make_input(gen, Case(3), batch=1, n=60)
    w = make_weight(gen, Case(3))
    sizes = []
    for x in (big, small):
        kmap = get_kernel_map(x, 3, 1, False)[0]
        with torch.autocast("cpu", dtype=torch.bfloat16):
            sparse_conv_apply(x.feats, w, kmap)
        rows = sum(grp.gather.numel() for grp in ops._offset_groups(kmap, False))
        sizes.append((rows * COUT * 2, ops.workspace_bytes(torch.bfloat16)))
    (need_big, held_big), (need_small, held_small) = sizes
    assert need_small < need_big == held_big == held_small
    assert ops.workspace_bytes(torch.float32) == 0  # one workspace per dtype
    ops.release_workspaces()
    assert ops.workspace_bytes(torch.bfloat16) == 0


def test_auto_algorithm_groups_offsets_for_16_bit_features_on_the_cpu(monkeypatch):
    from i2p.sparse import ops

    monkeypatch.setattr(ops, "CONV_ALGORITHM", {"cpu": "auto"})
    picks = {dt: ops._algorithm(torch.zeros(2, 2, dtype=dt)) for dt in (torch.float64, torch.float32, torch.bfloat16,
                                                                          torch.float16)}
    assert picks == {torch.float64: "gather", torch.float32: "gather", torch.bfloat16: "grouped",
                     torch.float16: "grouped"}


def test_unknown_conv_algorithm_is_refused(gen, monkeypatch):
    from i2p.sparse import ops

    monkeypatch.setattr(ops, "CONV_ALGORITHM", {"cpu": "winograd"})
    x, _ = make_input(gen, Case(3))
    with pytest.raises(ValueError, match="must be one of gather, grouped, table or 'auto'"):
        F.conv3d(x, make_weight(gen, Case(3)), 3)


@pytest.mark.parametrize("case", [Case(3), Case(3, 2), Case(2, 2, transposed=True), Case(3, depthwise=True)], ids=str)
def test_conv_matches_dense_in_small_chunks(gen, small_chunks, case):
    """The chunked CPU loop (several chunks per offset) gives the same numbers."""
    x, fine = make_input(gen, case, batch=2, n=200)
    check_against_dense(gen, x, make_weight(gen, case), case, None, fine)


@pytest.mark.parametrize("case", [Case(3), Case(5), Case(3, 2), Case(2, 2), Case(1, 2),
                                  Case(2, 2, transposed=True), Case(3, depthwise=True),
                                  Case(3, 2, depthwise=True)], ids=str)
def test_batched_clouds_do_not_interact(gen, case):
    """Result on a batch of 3 clouds == each cloud convolved alone (batch index 0)."""
    x, fine = make_input(gen, case, batch=3, grid=6, n=80)
    weight = make_weight(gen, case)
    y = F.conv3d(x, weight, case.k, case.stride, None, case.transposed, case.depthwise)
    to_b = torch.tensor([1, 0, 0, 0])  # (batch 0 coords) + b * to_b = the same voxels in cloud b
    for b in range(3):
        if case.transposed:
            coarse_b, cstride, cache = coarse_over(fine[fine[:, 0] == b] - b * to_b, x.stride // case.stride, case.stride)
            assert int((x.coords[:, 0] == b).sum()) == len(coarse_b)
            xb = SparseTensor(rows_at(x.coords, x.feats, coarse_b + b * to_b), coarse_b, cstride, cache)
        else:
            m = x.coords[:, 0] == b
            xb = SparseTensor(x.feats[m], x.coords[m] - b * to_b, x.stride)
        yb = F.conv3d(xb, weight, case.k, case.stride, None, case.transposed, case.depthwise)
        assert int((y.coords[:, 0] == b).sum()) == yb.num_voxels
        torch.testing.assert_close(rows_at(y.coords, y.feats, yb.coords + b * to_b), yb.feats, **EXACT)


@pytest.mark.parametrize("case", [Case(3), Case(5), Case(3, 2), Case(2, 2), Case(1, 2), Case(3, 3),
                                  Case(2, 2, transposed=True), Case(3, 2, transposed=True),
                                  Case(3, depthwise=True)], ids=str)
def test_translation_to_negative_coordinates(gen, case):
    """Shifting a cloud by -48 (a multiple of every stride used) shifts the output voxels
    by -48 and leaves the features unchanged (negative coords are legal)."""
    shift = torch.tensor([0, -48, -48, -48])
    x, fine = make_input(gen, case, batch=2)
    weight = make_weight(gen, case)
    y = F.conv3d(x, weight, case.k, case.stride, None, case.transposed, case.depthwise)
    if case.transposed:
        coarse, cstride, cache = coarse_over(fine + shift, x.stride // case.stride, case.stride)
        assert torch.equal(coarse, x.coords + shift)
        xneg = SparseTensor(x.feats, coarse, cstride, cache)
    else:
        xneg = SparseTensor(x.feats, x.coords + shift, x.stride)
    yneg = F.conv3d(xneg, weight, case.k, case.stride, None, case.transposed, case.depthwise)
    assert bool((yneg.coords[:, 1:] < 0).any())
    assert torch.equal(yneg.coords, y.coords + shift)
    torch.testing.assert_close(yneg.feats, y.feats, **EXACT)


def test_isolated_voxels_see_only_their_own_centre(gen):
    """Voxels with empty neighbourhoods: submanifold output is x @ W[centre] (+ bias);
    a stride-2 k=3 output reads the single input through the offset c - floor(c/2)*2."""
    coords = torch.tensor([[0, 0, 0, 0], [0, 9, 1, 17], [0, 21, 30, 5], [1, 0, 0, 0], [1, 11, 11, 11]])
    feats = torch.randn(len(coords), CIN, generator=gen, dtype=DT)
    bias = torch.randn(COUT, generator=gen, dtype=DT)
    for k in (1, 3, 5):
        w = torch.randn(k**3, CIN, COUT, generator=gen, dtype=DT)
        y = F.conv3d(SparseTensor(feats, coords), w, k, bias=bias)
        torch.testing.assert_close(y.feats, feats @ w[k**3 // 2] + bias, **EXACT)
    w = torch.randn(27, CIN, COUT, generator=gen, dtype=DT)
    y = F.conv3d(SparseTensor(feats, coords), w, 3, 2)
    parents = torch.cat([coords[:, :1], coords[:, 1:] // 2 * 2], 1)
    assert y.num_voxels == len(coords)  # one coarse voxel per lone voxel
    d = coords[:, 1:] - parents[:, 1:]  # in {0, 1}: offsets d of the centred 3-kernel
    k_idx = ((d[:, 0] + 1) * 3 + d[:, 1] + 1) * 3 + d[:, 2] + 1
    expect = torch.stack([feats[i] @ w[k_idx[i]] for i in range(len(feats))])
    torch.testing.assert_close(rows_at(y.coords, y.feats, parents), expect, **EXACT)


def test_down_up_chain_reuses_cache_and_matches_fresh_tensors(gen, monkeypatch):
    """down k3s2 -> down k2s2 -> up k2s2 -> up k3s2 on one cache vs the same layers on
    fresh tensors (new caches) and vs a masked dense chain; the ups reuse the downs' maps."""
    calls = []
    real = kmap_mod._downsample_map
    monkeypatch.setattr(kmap_mod, "_downsample_map", lambda *a: calls.append(a[1:]) or real(*a))
    c0 = random_coords(gen, batch=2, n=120)
    f0 = torch.randn(len(c0), 3, generator=gen, dtype=DT)
    layers = [  # (k, stride, transposed, cin, cout)
        (3, 2, False, 3, 4), (2, 2, False, 4, 5), (2, 2, True, 5, 4), (3, 2, True, 4, 2)]
    ws = [torch.randn(k**3, ci, co, generator=gen, dtype=DT) for k, _, _, ci, co in layers]

    # 1) one shared cache
    leaves = [leaf(f0)] + [leaf(w) for w in ws]
    x = SparseTensor(leaves[0], c0)
    outs = []
    for (k, s, t, _, _), w in zip(layers, leaves[1:]):
        x = F.conv3d(x, w, k, s, transposed=t)
        outs.append(x)
    assert len(calls) == 2  # only the two downsamplings built maps; the ups transposed them
    assert [o.stride for o in outs] == [2, 4, 2, 1]
    assert torch.equal(outs[2].coords, outs[0].coords) and torch.equal(outs[3].coords, c0)
    assert {tuple(r) for r in outs[0].coords.tolist()} == downsampled(c0, 2)
    assert {tuple(r) for r in outs[1].coords.tolist()} == downsampled(c0, 4)

    # 2) fresh tensors: every layer on a brand-new cache holding only what it needs, with
    #    the input rows shuffled (a user-built coarse tensor need not be in engine order)
    coords_at = {1: c0, 2: outs[0].coords, 4: outs[1].coords}
    feats = f0
    stride = 1
    for (k, s, t, _, _), w, o in zip(layers, ws, outs):
        cache = SparseCache()
        if t:
            cache.coords[stride // s] = coords_at[stride // s].clone()
        perm = torch.randperm(len(feats), generator=gen)
        xin = SparseTensor(feats[perm], coords_at[stride][perm], stride, cache)
        fresh = F.conv3d(xin, w, k, s, transposed=t)
        assert fresh.stride == o.stride and torch.equal(fresh.coords, o.coords)
        torch.testing.assert_close(fresh.feats, o.feats, **EXACT)
        feats, stride = fresh.feats, fresh.stride

    # 3) dense chain, masked to the sparse voxels after every layer; forward and grads
    dleaves = [leaf(f0)] + [leaf(w) for w in ws]
    h, stride = dleaves[0], 1
    for (k, s, t, _, _), w in zip(layers, dleaves[1:]):
        out_stride = stride // s if t else stride * s
        h = dense_conv(h, coords_at[stride], stride, w, k, s, coords_at[out_stride], out_stride, transposed=t)
        stride = out_stride
    torch.testing.assert_close(outs[-1].feats, h, **EXACT)
    probe = torch.randn(h.shape, generator=gen, dtype=DT)
    (outs[-1].feats * probe).sum().backward()
    (h * probe).sum().backward()
    for a, b in zip(leaves, dleaves):
        torch.testing.assert_close(a.grad, b.grad, **EXACT)


def test_mixed_downsampling_routes_share_coarse_voxels(gen):
    """Stride 4 reached directly (k4 s4) and via 2+2 (k2 s2 twice) in one forward: same
    coarse voxels, and the 2+2 route still matches its dense reference."""
    c0 = random_coords(gen, batch=2)
    x = SparseTensor(torch.randn(len(c0), CIN, generator=gen, dtype=DT), c0)
    w4 = torch.randn(64, CIN, COUT, generator=gen, dtype=DT)
    direct = F.conv3d(x, w4, 4, 4)
    torch.testing.assert_close(direct.feats, dense_conv(x.feats, c0, 1, w4, 4, 4, direct.coords, 4), **EXACT)
    mid = F.conv3d(x, torch.randn(8, CIN, CIN, generator=gen, dtype=DT), 2, 2)
    check_against_dense(gen, mid, make_weight(gen, Case(2, 2)), Case(2, 2, in_stride=2))


# ======================================================================================
# gradcheck through the autograd Function
# ======================================================================================
@pytest.mark.parametrize("case", [Case(1), Case(3), Case(2), Case(3, 2), Case(2, 2), Case(1, 2),
                                  Case(2, 2, transposed=True), Case(3, 2, transposed=True),
                                  Case(3, depthwise=True), Case(3, 2, depthwise=True)], ids=str)
@pytest.mark.parametrize("chunked", [False, True], ids=["whole", "chunked"])
def test_gradcheck_sparse_conv_apply(gen, request, case, chunked):
    if chunked:
        request.getfixturevalue("small_chunks")
    x, _ = make_input(gen, case, batch=2, grid=3, n=10, isolated=1)
    km, _, _ = get_kernel_map(x, case.k, case.stride, case.transposed)
    cout = 2
    f = torch.randn(x.num_voxels, 2, generator=gen, dtype=DT, requires_grad=True)
    shape = (case.k**3, 2) if case.depthwise else (case.k**3, 2, cout)
    w = torch.randn(*shape, generator=gen, dtype=DT, requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, b: sparse_conv_apply(a, b, km, case.depthwise), (f, w))


def test_sparse_conv_apply_only_needed_grads(gen):
    """Frozen weight (feature grads only) and frozen features (weight grads only)."""
    x, _ = make_input(gen, Case(3))
    km, _, _ = get_kernel_map(x, 3)
    w = torch.randn(27, CIN, COUT, generator=gen, dtype=DT)
    f = leaf(x.feats)
    sparse_conv_apply(f, w, km).sum().backward()
    w2 = leaf(w)
    sparse_conv_apply(x.feats, w2, km).sum().backward()
    fd, wd = leaf(x.feats), leaf(w)
    dense_conv(fd, x.coords, 1, wd, 3, 1, x.coords, 1).sum().backward()
    torch.testing.assert_close(f.grad, fd.grad, **EXACT)
    torch.testing.assert_close(w2.grad, wd.grad, **EXACT)


# ======================================================================================
# kernel maps
# ======================================================================================
@pytest.mark.parametrize("k", [1, 2, 3, 4, 5])
def test_kernel_offsets_documented_order(k):
    r = [i - (k - 1) // 2 for i in range(k)] if k % 2 else list(range(k))
    expect = torch.tensor(list(itertools.product(r, r, r)))  # k = (ix*K + iy)*K + iz
    assert torch.equal(kernel_offsets(k), expect)


def brute_force_pairs(in_coords, in_stride, out_coords, k):
    """{offset index: sorted (in row, out row) pairs} by a Python dictionary walk."""
    where = {tuple(c): i for i, c in enumerate(in_coords.tolist())}
    pairs = {}
    for j, d in enumerate(kernel_offsets(k).tolist()):
        found = []
        for o, (b, *p) in enumerate(out_coords.tolist()):
            i = where.get((b, *(p[a] + d[a] * in_stride for a in range(3))))
            if i is not None:
                found.append((i, o))
        pairs[j] = sorted(found)
    return pairs


def map_pairs(km):
    """{offset index: sorted (in row, out row) pairs} of a KernelMap (identity expanded)."""
    pairs = {}
    for j, (i, o) in enumerate(zip(km.in_idx, km.out_idx)):
        if j == km.identity:
            assert i.numel() == 0 and o.numel() == 0
            i = o = torch.arange(km.n_out)
        pairs[j] = sorted(zip(i.tolist(), o.tolist()))
    return pairs


@pytest.mark.parametrize("case", [Case(1), Case(2), Case(3), Case(5), Case(3, in_stride=2),
                                  Case(3, 2), Case(2, 2), Case(1, 2), Case(3, 2, in_stride=2),
                                  Case(2, 2, transposed=True), Case(3, 2, transposed=True)], ids=str)
def test_kernel_map_matches_brute_force(gen, case):
    x, fine = make_input(gen, case, batch=2, grid=6, n=60)
    km, out_coords, out_stride = get_kernel_map(x, case.k, case.stride, case.transposed)
    assert km.num_offsets == case.k**3 and km.n_in == x.num_voxels and km.n_out == len(out_coords)
    if case.transposed:
        # an upsampling pair (coarse m -> fine j) at offset d means j = m + d * fine_stride
        expect = brute_force_pairs(out_coords, out_stride, x.coords, case.k)
        expect = {j: sorted((o, i) for i, o in p) for j, p in expect.items()}
    else:
        expect = brute_force_pairs(x.coords, x.stride, out_coords, case.k)
    got = map_pairs(km)
    assert got == expect
    assert km.num_pairs == sum(len(p) for p in expect.values())


@pytest.mark.parametrize("case", [Case(1), Case(2), Case(3), Case(5), Case(3, in_stride=4), Case(3, 2),
                                  Case(1, 2), Case(4, 2), Case(3, 3), Case(5, 4), Case(3, 2, transposed=True),
                                  Case(1, 2, transposed=True)], ids=str)
def test_dense_table_and_sorted_keys_give_identical_maps(monkeypatch, case):
    def build():
        x, _ = make_input(torch.Generator().manual_seed(5), case, batch=2)
        km, out_coords, _ = get_kernel_map(x, case.k, case.stride, case.transposed)
        return km, out_coords, [h.dense for h in x.cache.hashes.values()]

    km_table, oc_table, dense_flags = build()
    monkeypatch.setattr(kmap_mod, "_MAX_DENSE_TABLE", 4)
    km_sorted, oc_sorted, sorted_flags = build()
    assert dense_flags and all(dense_flags)
    assert sorted_flags and not any(sorted_flags)
    assert torch.equal(oc_table, oc_sorted)
    assert (km_table.n_in, km_table.n_out, km_table.identity) == (km_sorted.n_in, km_sorted.n_out, km_sorted.identity)
    assert map_pairs(km_table) == map_pairs(km_sorted)


def test_far_apart_clusters_take_sorted_path_and_do_not_interact(gen):
    """A huge bounding box falls back to sorted keys; each cluster behaves as if alone."""
    near = random_coords(gen, n=60, grid=5, isolated=0, shuffle=False)
    far = near + torch.tensor([0, 100_000, -300_000, 700_000])
    both = torch.cat([near, far])
    feats = torch.randn(len(near), CIN, generator=gen, dtype=DT)
    w = torch.randn(27, CIN, COUT, generator=gen, dtype=DT)
    x = SparseTensor(feats.repeat(2, 1), both)  # the same cluster twice
    y = F.conv3d(x, w, 3)
    assert not x.cache.hashes[1].dense
    alone = F.conv3d(SparseTensor(feats, near), w, 3)
    assert alone.cache.hashes[1].dense
    torch.testing.assert_close(y.feats[: len(near)], alone.feats, **EXACT)
    torch.testing.assert_close(y.feats[len(near):], alone.feats, **EXACT)


def test_kernel_map_is_built_once_per_cache(gen, monkeypatch):
    calls = []
    real = kmap_mod._submanifold_map
    monkeypatch.setattr(kmap_mod, "_submanifold_map", lambda x, k: calls.append(k) or real(x, k))
    x, _ = make_input(gen, Case(3), batch=2)
    km1 = get_kernel_map(x, 3)[0]
    assert get_kernel_map(x, 3)[0] is km1
    net = torch.nn.Sequential(snn.Conv3d(CIN, 4, 3), snn.BatchNorm(4), snn.ReLU(), snn.Conv3d(4, 4, 3),
                              snn.Conv3d(4, 4, 5), snn.Conv3d(4, 4, 3)).double()
    y = net(x)
    assert y.cache is x.cache
    assert get_kernel_map(y, 3)[0] is km1  # same voxels + same cache -> same map object
    assert calls == [3, 5]  # one build per kernel size for the whole forward pass
    # a tensor on a new cache builds its own map
    x2 = SparseTensor(x.feats, x.coords)
    assert get_kernel_map(x2, 3)[0] is not km1
    assert calls == [3, 5, 3]


def test_transposed_map_reuses_downsampling_pairs(gen):
    x, _ = make_input(gen, Case(3), batch=2)
    down = F.conv3d(x, torch.randn(8, CIN, COUT, generator=gen, dtype=DT), 2, 2)
    km_down = get_kernel_map(x, 2, 2)[0]
    km_up, up_coords, up_stride = get_kernel_map(down, 2, 2, transposed=True)
    assert up_stride == 1 and torch.equal(up_coords, x.coords)
    assert (km_up.n_in, km_up.n_out) == (km_down.n_out, km_down.n_in)
    for a, b in zip(km_up.in_idx, km_down.out_idx):
        assert a is b
    for a, b in zip(km_up.out_idx, km_down.in_idx):
        assert a is b
    # kernel 2 stride 2: every fine voxel has exactly one parent -> one pair per fine voxel
    assert km_down.num_pairs == x.num_voxels
    assert sorted(torch.cat(km_down.in_idx).tolist()) == list(range(x.num_voxels))


# ======================================================================================
# pooling, cat, BatchNorm / ReLU, modules, dense()
# ======================================================================================
def test_global_avg_pool_per_sample(gen):
    x, _ = make_input(gen, Case(3), batch=3)
    pooled = F.global_avg_pool(x)
    expect = torch.stack([x.feats[x.coords[:, 0] == b].mean(0) for b in range(3)])
    torch.testing.assert_close(pooled, expect, **EXACT)
    torch.testing.assert_close(snn.GlobalAvgPool()(x), expect, **EXACT)
    # an explicit batch size with a trailing empty sample gives a zero row
    padded = F.global_avg_pool(x, batch_size=4)
    torch.testing.assert_close(padded[:3], expect, **EXACT)
    assert torch.equal(padded[3], torch.zeros(CIN, dtype=DT))


def test_cat_concatenates_features_on_same_voxels(gen):
    x, _ = make_input(gen, Case(3), batch=2)
    y = F.conv3d(x, torch.randn(27, CIN, COUT, generator=gen, dtype=DT), 3)
    z = F.cat(x, y)
    assert torch.equal(z.coords, x.coords) and z.stride == x.stride and z.cache is x.cache
    assert torch.equal(z.feats[:, :CIN], x.feats) and torch.equal(z.feats[:, CIN:], y.feats)
    assert z.num_channels == CIN + COUT


def test_batchnorm_and_activations_keep_voxels(gen):
    x, _ = make_input(gen, Case(3, in_stride=2), batch=2)
    bn = snn.BatchNorm(CIN).double()
    with torch.no_grad():
        bn.weight.copy_(torch.randn(CIN, generator=gen, dtype=DT))
        bn.bias.copy_(torch.randn(CIN, generator=gen, dtype=DT))
    y = bn(x)
    mean, var = x.feats.mean(0), x.feats.var(0, unbiased=False)
    expect = (x.feats - mean) / torch.sqrt(var + bn.eps) * bn.weight + bn.bias
    torch.testing.assert_close(y.feats, expect, **EXACT)
    for out in (y, snn.ReLU()(y), snn.ReLU6()(y), snn.Identity()(y)):
        assert torch.equal(out.coords, x.coords) and out.stride == x.stride and out.cache is x.cache
    assert torch.equal(snn.ReLU()(y).feats, y.feats.clamp(min=0))
    assert torch.equal(snn.ReLU6()(x.replace(6 * x.feats)).feats, (6 * x.feats).clamp(0, 6))
    bn.eval()  # running statistics path also keeps voxels
    assert torch.equal(bn(x).coords, x.coords)


@pytest.mark.parametrize("case", [Case(3), Case(3, 2), Case(2, 2, transposed=True), Case(3, depthwise=True)], ids=str)
def test_conv3d_module_matches_functional(gen, case):
    torch.manual_seed(0)
    x, _ = make_input(gen, case, batch=2)
    cout = CIN if case.depthwise else COUT
    m = snn.Conv3d(CIN, cout, case.k, case.stride, bias=True, transposed=case.transposed,
                   groups=CIN if case.depthwise else 1).double()
    assert m.weight.shape == make_weight(gen, case).shape
    y = m(x)
    ref = F.conv3d(x, m.weight, case.k, case.stride, m.bias, case.transposed, case.depthwise)
    assert torch.equal(y.coords, ref.coords)
    torch.testing.assert_close(y.feats, ref.feats, **EXACT)
    assert "kernel_size=" in repr(m)


def test_dense_view_places_features(gen):
    coords = torch.tensor([[0, 0, 2, 4], [1, 2, 0, 0], [0, 4, 4, 0]])
    feats = torch.randn(3, 2, generator=gen, dtype=DT)
    d = SparseTensor(feats, coords, stride=2).dense()
    assert d.shape == (2, 2, 3, 3, 3)
    assert torch.equal(d[0, :, 0, 1, 2], feats[0]) and torch.equal(d[1, :, 1, 0, 0], feats[1])
    assert torch.equal(d[0, :, 2, 2, 0], feats[2])
    assert int((d != 0).sum()) == 6


def test_sparse_tensor_accepts_int32_coords_and_reports_shape(gen):
    c = random_coords(gen, batch=2).int()
    x = SparseTensor(torch.randn(len(c), 2, dtype=DT), c)
    assert x.coords.dtype == torch.int64 and x.batch_size == 2 and x.num_channels == 2
    assert x.cache.coords[1] is x.coords
    moved = x.to("cpu")
    assert moved.cache is not x.cache and torch.equal(moved.coords, x.coords)


# ======================================================================================
# CUDA (skipped without a device)
# ======================================================================================
@CUDA
@pytest.mark.cuda
@pytest.mark.parametrize("case", [Case(1), Case(3), Case(5), Case(3, 2), Case(2, 2), Case(1, 2),
                                  Case(2, 2, transposed=True), Case(3, depthwise=True),
                                  Case(5, depthwise=True), Case(3, 2, depthwise=True),
                                  Case(3, in_stride=4)], ids=str)
@pytest.mark.parametrize("with_bias", [False, True], ids=["nobias", "bias"])
def test_cuda_conv_matches_dense_and_cpu(gen, case, with_bias, algorithm):
    x, fine = make_input(gen, case, batch=3, device="cuda")
    weight = make_weight(gen, case, device="cuda")
    cout = CIN if case.depthwise else COUT
    bias = torch.randn(cout, generator=gen, dtype=DT).cuda() if with_bias else None
    y = check_against_dense(gen, x, weight, case, bias, fine)
    assert y.feats.is_cuda and y.coords.is_cuda
    # same numbers as the CPU path
    if case.transposed:
        coarse, cstride, cache = coarse_over(fine.cpu(), x.stride // case.stride, case.stride)
        assert torch.equal(coarse, x.coords.cpu())
        x_cpu = SparseTensor(x.feats.cpu(), coarse, cstride, cache)
    else:
        x_cpu = x.to("cpu")
    y_cpu = F.conv3d(x_cpu, weight.cpu(), case.k, case.stride, None if bias is None else bias.cpu(),
                     case.transposed, case.depthwise)
    assert torch.equal(y_cpu.coords, y.coords.cpu())
    torch.testing.assert_close(y_cpu.feats, y.feats.cpu(), **EXACT)


@CUDA
@pytest.mark.cuda
def test_cuda_voxelize_and_pool_match_cpu(gen):
    from i2p.sparse import voxelize

    pts = torch.rand(500, 3, generator=gen, dtype=DT) * 4 - 2
    x_cpu, inv_cpu = voxelize(pts, 0.25)
    x_gpu, inv_gpu = voxelize(pts.cuda(), 0.25)
    assert torch.equal(x_gpu.coords.cpu(), x_cpu.coords) and torch.equal(inv_gpu.cpu(), inv_cpu)
    torch.testing.assert_close(x_gpu.feats.cpu(), x_cpu.feats, **EXACT)
    torch.testing.assert_close(F.global_avg_pool(x_gpu).cpu(), F.global_avg_pool(x_cpu), **EXACT)
