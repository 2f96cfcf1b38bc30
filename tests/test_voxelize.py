"""Voxelization: points -> voxels (mean feature per voxel) and the inverse map back.

The reference is a plain Python dictionary walk: voxel key = (cloud index,
floor(x / s), floor(y / s), floor(z / s)), feature = mean of the point features.
"""
from __future__ import annotations

import math

import pytest
import torch

from i2p.sparse import SparseTensor, voxelize
from i2p.sparse.functional import point_features

DT = torch.float64
EXACT = dict(rtol=0.0, atol=1e-12)


def reference_voxelize(clouds, voxel_size):
    """{(b, i, j, k): mean feature row} and the key of every point, in input order."""
    groups, keys = {}, []
    for b, (pts, f) in enumerate(clouds):
        f = pts if f is None else f
        for p, row in zip(pts.tolist(), f.tolist()):
            key = (b, *(math.floor(c / voxel_size) for c in p))
            groups.setdefault(key, []).append(row)
            keys.append(key)
    means = {k: [sum(col) / len(rows) for col in zip(*rows)] for k, rows in groups.items()}
    return means, keys


def check_against_reference(clouds, voxel_size, x: SparseTensor, p2v: torch.Tensor):
    means, keys = reference_voxelize(clouds, voxel_size)
    coords = [tuple(r) for r in x.coords.tolist()]
    assert x.coords.dtype == torch.int64 and x.stride == 1
    assert len(set(coords)) == len(coords)  # one row per voxel
    assert set(coords) == set(means)  # exactly the occupied voxels, no empty ones
    expect = torch.tensor([means[c] for c in coords], dtype=x.feats.dtype)
    torch.testing.assert_close(x.feats, expect, **EXACT)
    assert p2v.dtype == torch.int64 and p2v.shape == (len(keys),)
    assert [coords[i] for i in p2v.tolist()] == keys  # every point -> the voxel holding it


def cloud(gen, n, scale=2.0, shift=0.0, channels=None):
    pts = (torch.rand(n, 3, generator=gen, dtype=DT) * 2 - 1) * scale + shift
    feats = None if channels is None else torch.randn(n, channels, generator=gen, dtype=DT)
    return pts, feats


@pytest.mark.parametrize("voxel_size", [0.25, 0.3, 1.0, 1])
@pytest.mark.parametrize("channels", [None, 5], ids=["xyz", "feats5"])
def test_single_cloud_matches_reference(gen, voxel_size, channels):
    pts, feats = cloud(gen, 400, channels=channels)
    x, p2v = voxelize(pts, voxel_size, feats=feats)
    check_against_reference([(pts, feats)], voxel_size, x, p2v)
    assert x.num_channels == (3 if channels is None else channels)
    assert x.batch_size == 1 and bool((x.coords[:, 0] == 0).all())


@pytest.mark.parametrize("channels", [None, 2], ids=["xyz", "feats2"])
def test_batch_of_clouds_matches_reference(gen, channels):
    clouds = [cloud(gen, n, shift=s, channels=channels) for n, s in [(200, 0.0), (1, 5.0), (300, -3.0)]]
    x, p2v = voxelize(clouds, 0.5)
    check_against_reference(clouds, 0.5, x, p2v)
    assert x.batch_size == 3
    # each cloud's voxels are exactly its single-cloud voxelization
    start = 0
    for b, (pts, f) in enumerate(clouds):
        xb, p2vb = voxelize(pts, 0.5, feats=f)
        mine = x.coords[:, 0] == b
        rows = {tuple(r[1:]): i for i, r in enumerate(x.coords.tolist()) if r[0] == b}
        assert set(rows) == {tuple(r[1:]) for r in xb.coords.tolist()}
        order = torch.tensor([rows[tuple(r[1:])] for r in xb.coords.tolist()])
        torch.testing.assert_close(x.feats[order], xb.feats, **EXACT)
        assert int(mine.sum()) == xb.num_voxels
        # point_to_voxel is concatenated over the clouds in order
        seg = p2v[start : start + len(pts)]
        assert torch.equal(x.coords[seg][:, 1:], xb.coords[p2vb][:, 1:])
        assert bool((x.coords[seg][:, 0] == b).all())
        start += len(pts)


def test_two_points_in_one_voxel_are_averaged():
    pts = torch.tensor([[0.1, 0.1, 0.1], [0.4, 0.2, 0.3], [0.6, 0.0, 0.0]], dtype=DT)
    feats = torch.tensor([[1.0, 10.0], [3.0, 20.0], [7.0, -1.0]], dtype=DT)
    x, p2v = voxelize(pts, 0.5, feats=feats)
    assert x.num_voxels == 2
    assert p2v[0] == p2v[1] != p2v[2]
    assert x.coords[p2v[0]].tolist() == [0, 0, 0, 0] and x.coords[p2v[2]].tolist() == [0, 1, 0, 0]
    torch.testing.assert_close(x.feats[p2v[0]], torch.tensor([2.0, 15.0], dtype=DT), **EXACT)
    torch.testing.assert_close(x.feats[p2v[2]], torch.tensor([7.0, -1.0], dtype=DT), **EXACT)


def test_features_default_to_xyz():
    pts = torch.tensor([[0.25, 0.5, 0.75], [0.75, 0.25, 0.25], [2.5, 2.5, 2.5]], dtype=DT)
    x, p2v = voxelize(pts, 1.0)
    torch.testing.assert_close(x.feats[p2v[0]], torch.tensor([0.5, 0.375, 0.5], dtype=DT), **EXACT)
    torch.testing.assert_close(x.feats[p2v[2]], pts[2], **EXACT)
    # the list form with feats=None means the same
    x2, p2v2 = voxelize([(pts, None)], 1.0)
    assert torch.equal(x2.coords, x.coords) and torch.equal(x2.feats, x.feats) and torch.equal(p2v2, p2v)


def test_negative_coordinates_floor_not_truncate():
    pts = torch.tensor([[-0.1, -1.0, -1.01], [0.1, 1.0, 0.99], [-2.5, 0.0, -0.0]], dtype=DT)
    x, p2v = voxelize(pts, 1.0)
    assert x.coords[p2v].tolist() == [[0, -1, -1, -2], [0, 0, 1, 0], [0, -3, 0, 0]]
    check_against_reference([(pts, None)], 1.0, x, p2v)


def test_point_to_voxel_inverse_map_roundtrip(gen):
    pts, feats = cloud(gen, 300, channels=3)
    x, p2v = voxelize(pts, 0.4, feats=feats)
    per_point = point_features(x, p2v)
    assert per_point.shape == (300, 3)
    # averaging the per-point rows of a voxel gives back that voxel's feature
    back = torch.zeros_like(x.feats).index_add_(0, p2v, feats)
    back /= torch.bincount(p2v, minlength=x.num_voxels)[:, None]
    torch.testing.assert_close(back, x.feats, **EXACT)
    torch.testing.assert_close(per_point, x.feats[p2v], **EXACT)
    # every voxel is hit by at least one point (no empty voxels)
    assert torch.equal(torch.unique(p2v), torch.arange(x.num_voxels))
    expect_grid = torch.floor(pts / 0.4).long()
    assert torch.equal(x.coords[p2v][:, 1:], expect_grid)


def test_deterministic_and_independent_of_point_order(gen):
    pts, feats = cloud(gen, 500, channels=4)
    a, pa = voxelize(pts, 0.3, feats=feats)
    b, pb = voxelize(pts.clone(), 0.3, feats=feats.clone())
    assert torch.equal(a.coords, b.coords) and torch.equal(a.feats, b.feats) and torch.equal(pa, pb)
    perm = torch.randperm(len(pts), generator=gen)
    c, pc = voxelize(pts[perm], 0.3, feats=feats[perm])
    assert torch.equal(c.coords, a.coords)  # voxel rows do not depend on point order
    torch.testing.assert_close(c.feats, a.feats, **EXACT)
    assert torch.equal(pc, pa[perm])


def test_dtypes_of_features(gen):
    pts32 = torch.rand(50, 3, generator=gen) * 4
    x, _ = voxelize(pts32, 0.5)
    assert x.feats.dtype == torch.float32
    ints = torch.randint(0, 5, (50, 2), generator=gen)
    xi, p2v = voxelize(pts32, 0.5, feats=ints)
    assert xi.feats.dtype == torch.get_default_dtype()
    expect = torch.zeros(xi.num_voxels, 2).index_add_(0, p2v, ints.float())
    expect /= torch.bincount(p2v)[:, None]
    torch.testing.assert_close(xi.feats, expect)


def test_voxelized_tensor_is_ready_for_convs(gen):
    """The voxelizer's output has unique coords that the conv engine accepts."""
    from i2p.sparse import functional as F

    pts, _ = cloud(gen, 300)
    x, _ = voxelize([(pts, None), (pts * 0.5, None)], 0.25)
    y = F.conv3d(x, torch.randn(27, 3, 2, generator=gen, dtype=DT), 3, 2)
    assert y.stride == 2 and y.num_voxels <= x.num_voxels
    assert F.global_avg_pool(y).shape == (2, 2)
