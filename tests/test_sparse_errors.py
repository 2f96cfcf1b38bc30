"""Bad input must fail loudly with the right exception type and a message that says why."""
from __future__ import annotations

import pytest
import torch

from i2p.sparse import SparseTensor, check_points, get_kernel_map, voxelize
from i2p.sparse import functional as F
from i2p.sparse import nn as snn
from i2p.sparse.ops import sparse_conv_apply

DT = torch.float64
NAN, INF = float("nan"), float("inf")


def pts(n=4):
    return torch.arange(3 * n, dtype=DT).reshape(n, 3) / 7


def small_tensor(channels=3, stride=1):
    coords = torch.tensor([[0, 0, 0, 0], [0, 1, 0, 0], [0, 1, 1, 0], [1, 2, 2, 2]]) * torch.tensor([1, stride, stride, stride])
    return SparseTensor(torch.randn(4, channels, dtype=DT), coords, stride)


def with_nan(row, col, value=NAN):
    p = pts()
    p[row, col] = value
    return p


# --------------------------------------------------------------------------------------
# voxelize / check_points
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "args, kwargs, exc, phrase",
    [
        ((torch.empty(0, 3, dtype=DT), 0.5), {}, ValueError, "empty (0 points)"),
        ((with_nan(2, 1), 0.5), {}, ValueError, "NaN/inf"),
        ((with_nan(0, 2, INF), 0.5), {}, ValueError, "NaN/inf"),
        ((with_nan(3, 0, -INF), 0.5), {}, ValueError, "first at row 3"),
        ((pts()[:, :2], 0.5), {}, ValueError, "shape [N, 3]"),
        ((pts().reshape(-1), 0.5), {}, ValueError, "shape [N, 3]"),
        ((torch.zeros(4, 3, dtype=torch.int64), 0.5), {}, TypeError, "floating point"),
        ((pts().tolist(), 0.5), {}, TypeError, "expected a (points, feats) pair"),
        (([(pts().tolist(), None)], 0.5), {}, TypeError, "points must be a torch.Tensor"),
        ((pts(), 0.5), {"feats": torch.zeros(3, 2)}, ValueError, "feats must have shape [N, C] with N = 4"),
        ((pts(), 0.5), {"feats": torch.zeros(4)}, ValueError, "feats must have shape"),
        ((pts(), 0.5), {"feats": torch.full((4, 2), NAN)}, ValueError, "features contain NaN/inf"),
        ((pts(), 0.0), {}, ValueError, "voxel_size must be positive"),
        ((pts(), -0.1), {}, ValueError, "voxel_size must be positive"),
        ((pts(), NAN), {}, ValueError, "voxel_size must be positive"),
        ((pts(), INF), {}, ValueError, "voxel_size must be positive"),
        (([], 0.5), {}, ValueError, "empty batch"),
        (([(pts(), None), (pts(), torch.zeros(4, 5))], 0.5), {}, ValueError, "same feature width"),
        (([(pts(), None), (torch.empty(0, 3, dtype=DT), None)], 0.5), {}, ValueError, "cloud 1 is empty"),
        (([(pts(), None), (with_nan(1, 1), None)], 0.5), {}, ValueError, "cloud 1: 1 of 4 points"),
    ],
    ids=["empty", "nan", "inf", "neg-inf-row", "n-by-2", "flat", "int-points", "list-points", "list-in-pair",
         "feats-rows", "feats-1d", "feats-nan", "vs-zero", "vs-negative", "vs-nan", "vs-inf",
         "empty-batch", "feat-width", "empty-cloud-in-batch", "nan-cloud-in-batch"],
)
def test_voxelize_rejects_bad_input(args, kwargs, exc, phrase):
    with pytest.raises(exc) as info:
        voxelize(*args, **kwargs)
    assert phrase in str(info.value)


def test_check_points_names_the_cloud():
    with pytest.raises(ValueError, match="train sample 7 is empty"):
        check_points(torch.empty(0, 3), name="train sample 7")
    check_points(pts(), torch.zeros(4, 2))  # fine input passes silently


# --------------------------------------------------------------------------------------
# SparseTensor construction
# --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "feats, coords, exc, phrase",
    [
        (torch.zeros(4, 2), torch.zeros(4, 3, dtype=torch.long), ValueError, "coords must have shape [N, 4]"),
        (torch.zeros(4, 2), torch.zeros(4, dtype=torch.long), ValueError, "coords must have shape [N, 4]"),
        (torch.zeros(4, 2), torch.zeros(4, 4), TypeError, "coords must be an integer tensor"),
        (torch.zeros(4, 2), torch.zeros(4, 4, dtype=torch.bool), TypeError, "integer tensor"),
        (torch.zeros(3, 2), torch.zeros(4, 4, dtype=torch.long), ValueError, "N = 4 rows like coords"),
        (torch.zeros(4), torch.zeros(4, 4, dtype=torch.long), ValueError, "feats must have shape [N, C]"),
        (torch.zeros(4, 2, dtype=torch.long), torch.zeros(4, 4, dtype=torch.long), TypeError, "floating point"),
    ],
    ids=["coords-n3", "coords-1d", "coords-float", "coords-bool", "feats-rows", "feats-1d", "feats-int"],
)
def test_sparse_tensor_rejects_bad_input(feats, coords, exc, phrase):
    with pytest.raises(exc) as info:
        SparseTensor(feats, coords)
    assert phrase in str(info.value)


def test_duplicate_voxels_are_rejected_by_the_kernel_map():
    coords = torch.tensor([[0, 1, 2, 3], [0, 0, 0, 0], [0, 1, 2, 3]])
    x = SparseTensor(torch.zeros(3, 2, dtype=DT), coords)
    with pytest.raises(ValueError, match="duplicate voxel coordinates"):
        F.conv3d(x, torch.zeros(27, 2, 2, dtype=DT), 3)


def test_dense_view_needs_non_negative_coords():
    x = SparseTensor(torch.zeros(1, 1), torch.tensor([[0, -1, 0, 0]]))
    with pytest.raises(ValueError, match="non-negative coordinates"):
        x.dense()


# --------------------------------------------------------------------------------------
# convolutions
# --------------------------------------------------------------------------------------
def test_conv_module_rejects_wrong_channel_count():
    conv = snn.Conv3d(4, 8, 3).double()
    with pytest.raises(ValueError, match="expects 4 input channels, got 3"):
        conv(small_tensor(channels=3))


@pytest.mark.parametrize(
    "weight_shape, depthwise, kernel_size",
    [((27, 4, 5), False, 3), ((27, 3), False, 3), ((8, 3, 5), False, 3), ((27, 1), True, 3),
     ((27, 3, 3), True, 3), ((27, 4), True, 3)],
    ids=["cin", "2d-dense", "offsets", "dw-broadcast", "dw-3d", "dw-channels"],
)
def test_functional_conv_rejects_weight_that_does_not_fit(weight_shape, depthwise, kernel_size):
    """Includes a [27, 1] depthwise weight, which would otherwise broadcast silently."""
    with pytest.raises(ValueError, match="does not fit a tensor with 3 channels"):
        F.conv3d(small_tensor(3), torch.zeros(weight_shape, dtype=DT), kernel_size, depthwise=depthwise)


def test_conv_on_empty_tensor():
    x = SparseTensor(torch.zeros(0, 3, dtype=DT), torch.zeros(0, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="no voxels"):
        F.conv3d(x, torch.zeros(27, 3, 3, dtype=DT), 3)


def test_transposed_conv_needs_cached_finer_coords():
    x = small_tensor(stride=2)  # created at stride 2: nothing finer was ever cached
    with pytest.raises(ValueError, match="no cached coordinates at stride 1"):
        F.conv3d(x, torch.zeros(8, 3, 3, dtype=DT), 2, 2, transposed=True)
    with pytest.raises(ValueError, match="no cached coordinates at stride 1"):
        snn.Conv3d(3, 3, 2, 2, transposed=True).double()(x)


@pytest.mark.parametrize(
    "kwargs, phrase",
    [
        (dict(kernel_size=3, stride=1, transposed=True), "needs stride > 1"),
        (dict(kernel_size=2, stride=4, transposed=True), "cannot upsample a stride-2 tensor by 4"),
        (dict(kernel_size=0), "kernel_size must be in 1..7"),
        (dict(kernel_size=8), "kernel_size must be in 1..7"),
    ],
    ids=["up-stride1", "up-too-far", "k0", "k8"],
)
def test_kernel_map_rejects_bad_geometry(kwargs, phrase):
    with pytest.raises(ValueError) as info:
        get_kernel_map(small_tensor(stride=2), **kwargs)
    assert phrase in str(info.value)


def test_sparse_conv_apply_checks_its_inputs():
    x = small_tensor(3)
    kmap, _, _ = get_kernel_map(x, 3)
    with pytest.raises(ValueError, match="weight has 8 kernel offsets but the kernel map has 27"):
        sparse_conv_apply(x.feats, torch.zeros(8, 3, 2, dtype=DT), kmap)
    with pytest.raises(ValueError, match="features have 3 rows but the kernel map expects 4"):
        sparse_conv_apply(x.feats[:3], torch.zeros(27, 3, 2, dtype=DT), kmap)
    with pytest.raises(TypeError, match="float64 but the weight is torch.float32"):
        sparse_conv_apply(x.feats, torch.zeros(27, 3, 2), kmap)


def test_invalid_groups_and_cat():
    with pytest.raises(ValueError, match="groups must be 1 or equal to in_channels"):
        snn.Conv3d(4, 8, 3, groups=4)
    with pytest.raises(ValueError, match="groups must be 1 or equal to in_channels"):
        snn.Conv3d(4, 4, 3, groups=2)
    x = small_tensor(3)
    down = F.conv3d(x, torch.zeros(8, 3, 3, dtype=DT), 2, 2)
    with pytest.raises(ValueError, match="cat needs tensors on the same voxels"):
        F.cat(x, down)


def test_coordinate_range_too_large_is_reported():
    from i2p.sparse import voxelize

    pts = torch.tensor([[0.0, 0.0, 0.0], [1e10, 1e10, 1e10]], dtype=torch.float64)  # fits per axis, not packed
    with pytest.raises(ValueError, match="coordinate range too large"):
        voxelize(pts, 0.05)


def test_shared_cache_with_other_voxels_is_rejected():
    from i2p.sparse import SparseTensor

    a = SparseTensor(torch.zeros(3, 1), torch.tensor([[0, 0, 0, 0], [0, 1, 0, 0], [0, 2, 0, 0]]))
    with pytest.raises(ValueError, match="shared cache already holds"):
        SparseTensor(torch.zeros(2, 1), torch.tensor([[0, 0, 0, 0], [0, 5, 0, 0]]), 1, a.cache)


def test_coordinates_beyond_int64_keys_are_reported():
    from i2p.sparse import voxelize

    with pytest.raises(ValueError, match="too large for voxel size"):
        voxelize(torch.tensor([[0.0, 0.0, 0.0], [1e20, 0.0, 0.0]]), 0.05)
