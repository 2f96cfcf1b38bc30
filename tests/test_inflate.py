"""Tests for i2p.inflate: filter transformations T (paper §3, §4.8, App. 6.1)."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from i2p.inflate import (
    TRANSFORM_NAMES,
    FilterTransform,
    attach_filter_transform,
    filter_transform,
    inflate_conv_weight,
    transform_of,
)
from i2p.sparse import SparseTensor, voxelize
from i2p.sparse.nn import Conv3d

# The documented axis formulas: 3D tap (x, y, z) copies 2D tap (u, v).
SOURCE_UV = {
    "default": lambda k, x, y, z: (x, y),
    "T1": lambda k, x, y, z: (y, z),
    "T2": lambda k, x, y, z: (x, z),
    "T3": lambda k, x, y, z: (y, k - 1 - x),
}
# For the projection check: copy axis as a dense NCDHW dim (2=x, 3=y, 4=z) and the 2D
# filter the input slice is convolved with.
COPY_AXIS = {"default": 4, "T1": 2, "T2": 3, "T3": 4}
PLANE_FILTER = {
    "default": lambda w: w,
    "T1": lambda w: w,
    "T2": lambda w: w,
    "T3": lambda w: torch.rot90(w, 1, (-2, -1)),
}


def dense3d(w3: torch.Tensor) -> torch.Tensor:
    """i2p [K^3, Cin, Cout] -> dense conv3d weight [Cout, Cin, K, K, K] (dims x, y, z)."""
    kv, cin, cout = w3.shape
    k = round(kv ** (1 / 3))
    return w3.permute(2, 1, 0).reshape(cout, cin, k, k, k)


def test_names_constant():
    assert set(TRANSFORM_NAMES) == set(SOURCE_UV)


# -- T itself -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
@pytest.mark.parametrize("k2d,k3d,shape", [(1, None, (1, 1)), (3, None, (9, 27)), (5, 5, (25, 125)), (1, 2, (1, 8))])
def test_shape(name, k2d, k3d, shape):
    assert tuple(filter_transform(name, k2d, k3d).shape) == shape


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
@pytest.mark.parametrize("k", [2, 3, 5])
def test_copy_structure(name, k):
    t = filter_transform(name, k)
    assert set(t.unique().tolist()) == {0.0, 1.0}
    assert torch.equal(t.sum(0), torch.ones(k**3))  # each 3D tap copies exactly one 2D tap
    assert torch.equal(t.sum(1), torch.full((k * k,), float(k)))  # each 2D tap copied K times


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
@pytest.mark.parametrize("k", [3, 5])
def test_axis_formula_by_loops(name, k):
    g = torch.Generator().manual_seed(k)
    m, n = 4, 3
    w2 = torch.randn(m, n, k, k, generator=g)
    w3 = inflate_conv_weight(w2, name)
    assert w3.shape == (k**3, n, m)
    for x in range(k):
        for y in range(k):
            for z in range(k):
                u, v = SOURCE_UV[name](k, x, y, z)
                # i2p layout: offset (x*K + y)*K + z, [Cin, Cout]
                assert torch.equal(w3[(x * k + y) * k + z], w2[:, :, u, v].t()), (x, y, z)


@pytest.mark.parametrize("k", [3, 5])
def test_default_is_copy_along_z(k):
    w2 = torch.randn(5, 2, k, k)
    expected = w2.unsqueeze(-1).expand(5, 2, k, k, k)
    assert torch.equal(dense3d(inflate_conv_weight(w2)), expected)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_t3_is_rotated_default(k):
    w2 = torch.randn(3, 2, k, k)
    t3 = inflate_conv_weight(w2, "T3")
    assert not torch.equal(t3, inflate_conv_weight(w2, "default"))
    assert not torch.equal(filter_transform("T3", k), filter_transform("default", k))
    # documented direction: R[i, j] = W[j, K-1-i] == torch.rot90(W, 1, (-2, -1))
    assert torch.equal(t3, inflate_conv_weight(torch.rot90(w2, 1, (-2, -1)), "default"))
    assert not torch.equal(t3, inflate_conv_weight(torch.rot90(w2, -1, (-2, -1)), "default"))


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
def test_named_transforms_distinct(name):
    others = [o for o in TRANSFORM_NAMES if o != name]
    t = filter_transform(name, 3)
    assert all(not torch.equal(t, filter_transform(o, 3)) for o in others)


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
@pytest.mark.parametrize("k2d,k3d,copies", [(3, 3, 3), (5, 5, 5), (1, 2, 8), (1, 1, 1)])
def test_rescale(name, k2d, k3d, copies):
    plain = filter_transform(name, k2d, k3d)
    scaled = filter_transform(name, k2d, k3d, rescale=True)
    torch.testing.assert_close(scaled, plain / copies)
    # a constant filter applied to a constant input keeps its 2D response
    assert torch.allclose(scaled.sum(1), torch.ones(k2d * k2d))


def test_rescale_default_off():
    assert torch.equal(filter_transform("default", 3), filter_transform("default", 3, rescale=False))
    w2 = torch.randn(2, 2, 3, 3, dtype=torch.float64)
    torch.testing.assert_close(inflate_conv_weight(w2, rescale=True), inflate_conv_weight(w2) / 3)


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
def test_pointwise_geometry(name):
    assert torch.equal(filter_transform(name, 1), torch.ones(1, 1))
    assert torch.equal(filter_transform(name, 1, 2), torch.ones(1, 8))
    w2 = torch.randn(6, 4, 1, 1)
    assert torch.equal(inflate_conv_weight(w2, name), w2[:, :, 0, 0].t().unsqueeze(0))
    w3 = inflate_conv_weight(w2, name, k3d=2)
    assert w3.shape == (8, 4, 6)
    for k in range(8):
        assert torch.equal(w3[k], w2[:, :, 0, 0].t())


def test_one_to_two_is_cell_sum_shortcut():
    """Kernel-2 stride-2 sparse conv with the 1->2 weight == 1x1 conv of the per-cell sum."""
    g = torch.Generator().manual_seed(0)
    pts = torch.rand(300, 3, generator=g) * 2.0
    x, _ = voxelize(pts, 0.25, feats=torch.randn(300, 4, generator=g))
    w2 = torch.randn(5, 4, 1, 1, generator=g)
    conv = Conv3d(4, 5, kernel_size=2, stride=2)
    with torch.no_grad():
        conv.weight.copy_(inflate_conv_weight(w2, k3d=2))
    y = conv(x)
    cell = torch.cat([x.coords[:, :1], torch.div(x.coords[:, 1:], 2, rounding_mode="floor") * 2], 1)
    expected = []
    for c in y.coords:
        member = (cell == c).all(1)
        assert member.any()
        expected.append(x.feats[member].sum(0) @ w2[:, :, 0, 0].t())
    torch.testing.assert_close(y.feats, torch.stack(expected))


# -- depthwise --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
def test_depthwise(name):
    c, k = 6, 3
    w2 = torch.randn(c, 1, k, k)
    w3 = inflate_conv_weight(w2, name, depthwise=True)
    assert w3.shape == (k**3, c)
    dense = inflate_conv_weight(w2, name)  # same numbers as a Cin=1 dense conv
    assert torch.equal(w3, dense[:, 0, :])
    for x in range(k):
        for y in range(k):
            for z in range(k):
                u, v = SOURCE_UV[name](k, x, y, z)
                assert torch.equal(w3[(x * k + y) * k + z], w2[:, 0, u, v])


# -- semantics: the projection hypothesis (paper §5 / Fig. 4) ---------------------------------


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
@pytest.mark.parametrize("k", [3, 5])
def test_projection_identity(name, k):
    """Input constant along the copy axis: 3D conv == K x 2D conv of the 2D slice.

    The copy axis gets no padding so every output sums all K copies; the identity is exact.
    """
    g = torch.Generator().manual_seed(10 + k)
    b, cin, cout, p, depth = 2, 3, 4, k // 2, k + 2
    w2 = torch.randn(cout, cin, k, k, generator=g, dtype=torch.float64)
    s = torch.randn(b, cin, 7, 6, generator=g, dtype=torch.float64)  # slice over the plane axes
    axis = COPY_AXIS[name]
    vol = s.unsqueeze(axis)
    shape = list(vol.shape)
    shape[axis] = depth
    vol = vol.expand(shape)
    pad = [p, p, p]
    pad[axis - 2] = 0
    out3 = F.conv3d(vol, dense3d(inflate_conv_weight(w2, name)), padding=tuple(pad))
    out2 = F.conv2d(s, PLANE_FILTER[name](w2), padding=p)
    assert out3.shape[axis] == depth - k + 1
    for i in range(out3.shape[axis]):
        torch.testing.assert_close(out3.select(axis, i), k * out2, rtol=1e-12, atol=1e-12)


def test_projection_fails_on_wrong_axis():
    """Sanity: the default T does not project along x (the identity is axis-specific)."""
    w2 = torch.randn(2, 2, 3, 3, dtype=torch.float64)
    s = torch.randn(1, 2, 6, 6, dtype=torch.float64)
    vol = s.unsqueeze(2).expand(1, 2, 5, 6, 6)
    out3 = F.conv3d(vol, dense3d(inflate_conv_weight(w2)), padding=(0, 1, 1))
    assert not torch.allclose(out3[:, :, 0], 3 * F.conv2d(s, w2, padding=1))


def test_sparse_engine_matches_dense_layout():
    """The inflated weight means the same thing in i2p's sparse conv and a dense conv3d."""
    g = torch.Generator().manual_seed(3)
    n = 4
    feats = torch.randn(n**3, 3, generator=g, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(*[torch.arange(n)] * 3, indexing="ij"), -1).reshape(-1, 3)
    coords = torch.cat([torch.zeros(n**3, 1, dtype=torch.long), grid], 1)
    w2 = torch.randn(2, 3, 3, 3, generator=g, dtype=torch.float64)
    for name in TRANSFORM_NAMES:
        conv = Conv3d(3, 2, kernel_size=3).double()
        with torch.no_grad():
            conv.weight.copy_(inflate_conv_weight(w2, name))
        y = conv(SparseTensor(feats, coords))
        vol = feats.t().reshape(1, 3, n, n, n)
        ref = F.conv3d(vol, dense3d(inflate_conv_weight(w2, name)), padding=1)
        torch.testing.assert_close(y.feats, ref.reshape(2, -1).t())


# -- explicit T and validation ------------------------------------------------------------------


def test_explicit_t():
    w2 = torch.randn(3, 2, 3, 3)
    t = torch.randn(9, 27)
    w3 = inflate_conv_weight(w2, t)
    torch.testing.assert_close(dense3d(w3).reshape(3, 2, 27), w2.reshape(3, 2, 9) @ t)
    assert torch.equal(inflate_conv_weight(w2, filter_transform("T2", 3)), inflate_conv_weight(w2, "T2"))


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda: filter_transform("T4", 3), "valid names: default, T1, T2, T3"),
        (lambda: filter_transform("", 3), "valid names"),
        (lambda: filter_transform("default", 3, 5), "valid names"),
        (lambda: filter_transform("default", 1, 3), "valid names"),
        (lambda: filter_transform("default", 0), "positive"),
        (lambda: inflate_conv_weight(torch.randn(2, 2, 3)), "4D"),
        (lambda: inflate_conv_weight(torch.randn(2, 2, 3, 5)), "square"),
        (lambda: inflate_conv_weight(torch.randn(2, 2, 3, 3), torch.randn(4, 27)), r"K\*\*2 = 9"),
        (lambda: inflate_conv_weight(torch.randn(2, 2, 3, 3), torch.randn(9, 26)), "cube"),
        (lambda: inflate_conv_weight(torch.randn(2, 2, 3, 3), torch.randn(9, 27), k3d=2), "k3d"),
        (lambda: inflate_conv_weight(torch.randn(2, 2, 3, 3), torch.randn(9, 27), rescale=True), "rescale"),
        (lambda: inflate_conv_weight(torch.randn(4, 2, 3, 3), depthwise=True), r"\[C, 1, K, K\]"),
        (lambda: FilterTransform(3, init="bogus"), "random"),
        (lambda: FilterTransform(3)(torch.randn(2, 2, 5, 5)), "3x3"),
    ],
)
def test_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_names_case_insensitive():
    assert torch.equal(filter_transform("t1", 3), filter_transform("T1", 3))
    assert torch.equal(filter_transform("DEFAULT", 3), filter_transform("default", 3))


# -- learnable T -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", TRANSFORM_NAMES)
@pytest.mark.parametrize("depthwise", [False, True])
def test_filter_transform_module_init(name, depthwise):
    ft = FilterTransform(3, init=name, depthwise=depthwise)
    assert isinstance(ft.T, nn.Parameter) and ft.T.shape == (9, 27)
    w2 = torch.randn(4, 1 if depthwise else 3, 3, 3)
    torch.testing.assert_close(ft(w2), inflate_conv_weight(w2, name, depthwise=depthwise))


def test_filter_transform_pointwise_module():
    ft = FilterTransform(1, 2)
    assert torch.equal(ft.T.detach(), torch.ones(1, 8))
    w2 = torch.randn(4, 3, 1, 1)
    torch.testing.assert_close(ft(w2), inflate_conv_weight(w2, k3d=2))


def test_random_init_scale_and_seed():
    a = FilterTransform(3, init="random", seed=1)
    b = FilterTransform(3, init="random", generator=torch.Generator().manual_seed(1))
    c = FilterTransform(3, init="random", seed=2)
    assert torch.equal(a.T, b.T) and not torch.equal(a.T, c.T)
    big = FilterTransform(5, init="random", seed=0).T.detach()
    assert abs(big.std().item() - 1 / 5) < 0.02 and abs(big.mean().item()) < 0.02
    # 3D taps have about the per-tap scale of the 2D filter (= that of the default copy)
    w2 = torch.randn(64, 64, 3, 3, generator=torch.Generator().manual_seed(0))
    ratio = (a(w2).std() / w2.std()).item()
    assert 0.7 < ratio < 1.3


def test_forward_differentiable():
    ft = FilterTransform(3)
    w2 = torch.randn(2, 3, 3, 3, requires_grad=True)
    ft(w2).square().sum().backward()
    assert ft.T.grad is not None and ft.T.grad.abs().sum() > 0
    assert w2.grad is not None and w2.grad.abs().sum() > 0


def _cloud(cin: int, seed: int = 0) -> SparseTensor:
    g = torch.Generator().manual_seed(seed)
    x, _ = voxelize(torch.rand(200, 3, generator=g), 0.1, feats=torch.randn(200, cin, generator=g))
    return x


@pytest.mark.parametrize("depthwise", [False, True])
def test_attach_trains_only_t(depthwise):
    cin, cout = 4, (4 if depthwise else 5)
    conv = Conv3d(cin, cout, kernel_size=3, groups=cin if depthwise else 1)
    w2 = torch.randn(cout, 1 if depthwise else cin, 3, 3)
    ft = FilterTransform(3, depthwise=depthwise)
    assert transform_of(conv) is None
    attach_filter_transform(conv, w2, ft)
    assert transform_of(conv) is ft
    torch.testing.assert_close(conv.weight, inflate_conv_weight(w2, ft.T.detach(), depthwise=depthwise))
    original = conv.parametrizations.weight.original
    assert not original.requires_grad and torch.equal(original, w2)

    t0, o0 = ft.T.detach().clone(), original.detach().clone()
    opt = torch.optim.SGD(conv.parameters(), lr=0.1)
    out = conv(_cloud(cin))
    out.feats.square().mean().backward()
    assert original.grad is None
    assert ft.T.grad is not None and ft.T.grad.abs().sum() > 0
    opt.step()
    assert not torch.equal(ft.T.detach(), t0)
    assert torch.equal(original, o0)
    # the conv now uses the updated T
    torch.testing.assert_close(conv.weight, inflate_conv_weight(w2, ft.T.detach(), depthwise=depthwise))


def test_attach_forward_matches_fixed_weight():
    conv_p = Conv3d(3, 4, kernel_size=3)
    conv_f = Conv3d(3, 4, kernel_size=3)
    w2 = torch.randn(4, 3, 3, 3)
    attach_filter_transform(conv_p, w2, FilterTransform(3, init="T2"))
    with torch.no_grad():
        conv_f.weight.copy_(inflate_conv_weight(w2, "T2"))
    x = _cloud(3)
    torch.testing.assert_close(conv_p(x).feats, conv_f(x).feats)


def test_attach_copies_w2d():
    conv = Conv3d(3, 4, kernel_size=3)
    w2 = torch.randn(4, 3, 3, 3)
    attach_filter_transform(conv, w2, FilterTransform(3))
    before = conv.weight.detach().clone()
    w2.zero_()
    assert torch.equal(conv.weight, before)


@pytest.mark.parametrize("shared", [True, False])
def test_shared_vs_nonshared(shared):
    convs = [Conv3d(4, 4, kernel_size=3) for _ in range(3)]
    model = nn.Sequential(*convs)
    one = FilterTransform(3)
    transforms = [one] * 3 if shared else [FilterTransform(3) for _ in range(3)]
    for conv, ft in zip(convs, transforms):
        attach_filter_transform(conv, torch.randn(4, 4, 3, 3), ft)
    ts = [p for p in model.parameters() if p.shape == (9, 27)]
    assert len(ts) == (1 if shared else 3)
    assert sum(p.requires_grad for p in model.parameters()) == len(ts)  # 2D originals frozen
    if shared:
        x = _cloud(4)
        model(x).feats.sum().backward()
        with torch.no_grad():
            one.T.add_(1.0)  # one change moves every conv's weight
        for conv in convs:
            w2 = conv.parametrizations.weight.original
            torch.testing.assert_close(conv.weight, inflate_conv_weight(w2, one.T.detach()))


def test_pointwise_shortcut_attach():
    conv = Conv3d(4, 6, kernel_size=2, stride=2)
    w2 = torch.randn(6, 4, 1, 1)
    ft = FilterTransform(1, 2)
    attach_filter_transform(conv, w2, ft)
    assert conv.weight.shape == (8, 4, 6)
    conv(_cloud(4)).feats.sum().backward()
    assert ft.T.grad is not None and ft.T.grad.shape == (1, 8)


@pytest.mark.parametrize(
    "conv_kw,w2_shape,ft_kw,exc,match",
    [
        (dict(in_channels=3, out_channels=4, kernel_size=5), (4, 3, 3, 3), dict(k2d=3), ValueError, "kernel_size=5"),
        (dict(in_channels=3, out_channels=4, kernel_size=3), (4, 3, 5, 5), dict(k2d=3), ValueError, "5x5"),
        (dict(in_channels=3, out_channels=4, kernel_size=3), (3, 4, 3, 3), dict(k2d=3), ValueError, "does not fit"),
        (dict(in_channels=4, out_channels=4, kernel_size=3, groups=4), (4, 1, 3, 3), dict(k2d=3), ValueError, "depthwise"),
        (dict(in_channels=4, out_channels=4, kernel_size=3), (4, 4, 3, 3), dict(k2d=3, depthwise=True), ValueError, "depthwise"),
        (dict(in_channels=4, out_channels=4, kernel_size=3, groups=4), (4, 2, 3, 3), dict(k2d=3, depthwise=True), ValueError, r"\[C, 1, K, K\]"),
        (dict(in_channels=3, out_channels=4, kernel_size=3), (4, 3, 3), dict(k2d=3), ValueError, "4D"),
    ],
)
def test_attach_errors(conv_kw, w2_shape, ft_kw, exc, match):
    conv = Conv3d(**conv_kw)
    with pytest.raises(exc, match=match):
        attach_filter_transform(conv, torch.randn(*w2_shape), FilterTransform(**ft_kw))
    assert transform_of(conv) is None


def test_attach_errors_misc():
    with pytest.raises(TypeError, match="i2p.sparse.nn.Conv3d"):
        attach_filter_transform(nn.Linear(2, 2), torch.randn(2, 2, 3, 3), FilterTransform(3))
    conv = Conv3d(3, 4, kernel_size=3)
    attach_filter_transform(conv, torch.randn(4, 3, 3, 3), FilterTransform(3))
    with pytest.raises(ValueError, match="already parametrized"):
        attach_filter_transform(conv, torch.randn(4, 3, 3, 3), FilterTransform(3))
    with pytest.raises(ValueError, match="move the transform"):
        attach_filter_transform(Conv3d(3, 4, 3), torch.randn(4, 3, 3, 3), FilterTransform(3).double())


# -- copy axis ------------------------------------------------------------------------------------


def _authors_z_axis_weights(w2d: torch.Tensor) -> torch.Tensor:
    """The authors' ``z-axis`` inflation rebuilt from its description: torchsparse 1.x
    weights ``[27, C_in, C_out]`` whose block ``u`` (offsets ``9u .. 9u+8``) holds row ``u``
    of the 2D filter (columns ``v``) repeated 3 times: offset ``u*9 + r*3 + v``."""
    cout, cin = w2d.shape[:2]
    rows = w2d.permute(2, 3, 1, 0)  # [u, v, C_in, C_out]
    return torch.cat([rows[u].repeat(3, 1, 1) for u in range(3)])  # [27, C_in, C_out]


def test_authors_axis_reproduces_their_kernel_layout_on_a_known_filter():
    w2d = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)  # W2d[u, v] = 3u + v + 1
    theirs = _authors_z_axis_weights(w2d)
    mine = inflate_conv_weight(w2d, "default", axis="authors")
    for x in range(3):
        for y in range(3):
            for z in range(3):  # torchsparse 1.x offset z*9 + y*3 + x  vs  i2p's (x*3 + y)*3 + z
                assert mine[(x * 3 + y) * 3 + z, 0, 0] == theirs[z * 9 + y * 3 + x, 0, 0]
    dense = mine[:, 0, 0].reshape(3, 3, 3)  # [x, y, z]
    assert torch.equal(dense[:, 0, :], dense[:, 2, :])  # constant along data y
    assert torch.equal(dense[:, 1, :].T, w2d[0, 0])  # rows along z, columns along x
    w = torch.randn(4, 2, 3, 3, generator=torch.Generator().manual_seed(0))
    ours = inflate_conv_weight(w, "default", axis="authors")
    order = [z * 9 + y * 3 + x for x in range(3) for y in range(3) for z in range(3)]
    assert torch.equal(ours, _authors_z_axis_weights(w)[order])


@pytest.mark.parametrize("axis", ["x", "y", "z"])
def test_default_copies_along_the_named_axis(axis):
    w2d = torch.randn(1, 1, 3, 3, generator=torch.Generator().manual_seed(1))
    dense = inflate_conv_weight(w2d, "default", axis=axis)[:, 0, 0].reshape(3, 3, 3)
    a = "xyz".index(axis)
    for i in range(3):
        assert torch.equal(dense.select(a, i), w2d[0, 0])  # every slice along the axis is the 2D filter


def test_named_transforms_are_relative_to_the_copy_axis():
    for name, along in (("T1", "x"), ("T2", "y")):  # axis z: T1 copies along x, T2 along y (as before)
        assert torch.equal(filter_transform(name, 3, axis="z"), filter_transform("default", 3, axis=along))
    assert torch.equal(filter_transform("T1", 3, axis="y"), filter_transform("default", 3, axis="x"))
    assert torch.equal(filter_transform("T2", 3, axis="y"), filter_transform("default", 3, axis="z"))
    w2d = torch.randn(1, 1, 3, 3, generator=torch.Generator().manual_seed(2))
    t3 = inflate_conv_weight(w2d, "T3", axis="y")[:, 0, 0].reshape(3, 3, 3)
    assert torch.equal(t3[:, 1, :], torch.rot90(w2d[0, 0], 1, (-2, -1)))  # rotated in the x-z plane


def test_copy_axis_errors():
    with pytest.raises(ValueError, match="unknown copy axis 'up'"):
        filter_transform("default", 3, axis="up")  # "up" needs a data set: resolved by prepare_model
    with pytest.raises(ValueError, match="fixes the whole kernel layout"):
        filter_transform("T1", 3, axis="authors")
    with pytest.raises(ValueError, match="axis apply only to named transforms"):
        inflate_conv_weight(torch.randn(1, 1, 3, 3), torch.eye(9).repeat(1, 3), axis="y")
