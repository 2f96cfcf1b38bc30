"""PointNet++ ops and modules (i2p.pointnet2).

The vectorised FPS and ball query must agree *exactly* with straightforward references
written here as plain Python loops over points (float64 clouds; both sides sum squared
distances as ``(dx*dx + dy*dy) + dz*dz``, so equality is exact, ties included).
Interpolation is checked against a brute-force sort. Modules: shapes, gradients to every
parameter, batch independence, grouping against a per-centre loop, the finetune split.
"""
from __future__ import annotations

import math

import pytest
import torch

from i2p.finetune import apply_scope
from i2p.pointnet2 import (FeaturePropagation, GlobalSetAbstraction, PointNet2SSG, SetAbstraction, ball_query,
                           farthest_point_sample, gather_points, image_to_points, three_nn_interpolate)
from i2p.pointnet2 import ops

DT = torch.float64
CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


# ======================================================================================
# references: plain loops over points, one cloud at a time
# ======================================================================================
def sqd(p, q) -> float:
    dx, dy, dz = p[0] - q[0], p[1] - q[1], p[2] - q[2]
    return (dx * dx + dy * dy) + dz * dz


def ref_fps(pts: list, m: int) -> list[int]:
    """Start at point 0; next = the point whose distance to the chosen set is largest,
    lowest index on ties."""
    chosen = [0]
    min_d = [math.inf] * len(pts)
    while len(chosen) < m:
        last = pts[chosen[-1]]
        for j, p in enumerate(pts):
            min_d[j] = min(min_d[j], sqd(p, last))
        best = 0
        for j in range(len(pts)):
            if min_d[j] > min_d[best]:
                best = j
        chosen.append(best)
    return chosen


def ref_ball_query(pts: list, centres: list, radius: float, k: int) -> list[list[int]]:
    """First k points (index order) with squared distance < radius**2, padded with the first;
    none found: the nearest point (lowest index on ties)."""
    out = []
    for c in centres:
        found = []
        for j, p in enumerate(pts):
            if sqd(p, c) < radius * radius and len(found) < k:
                found.append(j)
        if not found:
            nearest = 0
            for j, p in enumerate(pts):
                if sqd(p, c) < sqd(pts[nearest], c):
                    nearest = j
            found = [nearest]
        out.append(found + [found[0]] * (k - len(found)))
    return out


def ref_three_nn(unknown: list, known: list, feats: list) -> list[list[float]]:
    out = []
    for u in unknown:
        near = sorted(range(len(known)), key=lambda j: (sqd(u, known[j]), j))[:3]
        w = [1.0 / max(sqd(u, known[j]), 1e-10) for j in near]
        out.append([sum(wi * feats[j][c] for wi, j in zip(w, near)) / sum(w) for c in range(len(feats[0]))])
    return out


# ======================================================================================
# clouds
# ======================================================================================
def uniform(gen, b=3, n=60, scale=1.0):
    return torch.rand(b, n, 3, generator=gen, dtype=DT) * scale


def with_duplicates(gen, b=2, n=40):
    """Every point appears 2-3 times, in shuffled order."""
    base = uniform(gen, b, n // 3 + 1)
    rep = torch.cat([base, base, base], 1)[:, :n]
    return rep[:, torch.randperm(n, generator=gen)]


def pixel_grid(b=2, h=5, w=7):
    """Integer grid (images-as-points): many exactly equal distances, so ties decide."""
    return image_to_points(torch.zeros(b, 1, h, w, dtype=DT))[0]


CLOUDS = {
    "uniform": lambda g: uniform(g),
    "duplicates": lambda g: with_duplicates(g),
    "pixel_grid": lambda g: pixel_grid(),
    "tiny": lambda g: uniform(g, 2, 4),
}


@pytest.fixture(params=list(CLOUDS), ids=list(CLOUDS))
def cloud(request, gen):
    return CLOUDS[request.param](gen)


@pytest.fixture(params=[ops.BLOCK, 7], ids=["one_block", "chunked"])
def block(request, monkeypatch):
    """Run with the default block and with blocks so small every query is its own chunk."""
    monkeypatch.setattr(ops, "BLOCK", request.param)
    return request.param


# ======================================================================================
# farthest point sampling
# ======================================================================================
def test_fps_matches_reference(cloud):
    n = cloud.shape[1]
    for m in sorted({1, 2, max(1, n // 4), n}):
        got = farthest_point_sample(cloud, m)
        assert got.dtype == torch.long and got.shape == (cloud.shape[0], m)
        for b in range(cloud.shape[0]):
            assert got[b].tolist() == ref_fps(cloud[b].tolist(), m), (b, m)


def test_fps_past_the_distinct_points_repeats_point_0(gen):
    pts = with_duplicates(gen, 1, 30)  # 11 distinct points
    got = farthest_point_sample(pts, 30)[0]
    assert len({tuple(p) for p in pts[0, got[:11]].tolist()}) == 11  # first 11 cover all distinct points
    assert got[11:].tolist() == [0] * 19
    assert got.tolist() == ref_fps(pts[0].tolist(), 30)


def test_fps_is_per_cloud_and_spreads_out(gen):
    pts = uniform(gen, 4, 80)
    batched = farthest_point_sample(pts, 10)
    for b in range(4):
        assert torch.equal(batched[b], farthest_point_sample(pts[b:b + 1], 10)[0])
    # 10 FPS samples are farther apart than the first 10 points
    spread = lambda idx: torch.pdist(pts[0, idx]).min()  # noqa: E731
    assert spread(batched[0]) > spread(torch.arange(10))


# ======================================================================================
# ball query
# ======================================================================================
@pytest.mark.parametrize("radius,k", [(0.15, 4), (0.3, 8), (0.3, 80), (100.0, 5), (100.0, 80), (1e-9, 3)],
                         ids=["few", "some", "some_k_gt_n", "all_k_lt_n", "all_k_gt_n", "only_self"])
def test_ball_query_matches_reference(cloud, block, radius, k):
    radius = radius * float(cloud.max())  # the grid is in pixel units
    centres = gather_points(cloud, farthest_point_sample(cloud, max(1, cloud.shape[1] // 3)))
    got = ball_query(cloud, centres, radius, k)
    assert got.dtype == torch.long and got.shape == (*centres.shape[:2], k)
    for b in range(cloud.shape[0]):
        assert got[b].tolist() == ref_ball_query(cloud[b].tolist(), centres[b].tolist(), radius, k), b


def test_ball_query_centre_with_no_neighbours_takes_the_nearest(gen, block):
    pts = uniform(gen, 2, 30)
    centres = torch.tensor([[[5.0, 5.0, 5.0], [0.5, 0.5, 0.5]], [[-3.0, 0.0, 0.0], [0.2, 0.9, 0.1]]], dtype=DT)
    got = ball_query(pts, centres, 0.05, 4)
    for b in range(2):
        assert got[b].tolist() == ref_ball_query(pts[b].tolist(), centres[b].tolist(), 0.05, 4)
    nearest = ((pts[0] - centres[0, 0]) ** 2).sum(-1).argmin().item()
    assert got[0, 0].tolist() == [nearest] * 4


def test_ball_query_boundary_is_strict():
    pts = torch.tensor([[[0.0, 0, 0], [1.0, 0, 0], [0.5, 0, 0]]], dtype=DT)
    assert ball_query(pts, pts[:, :1], 1.0, 3)[0, 0].tolist() == [0, 2, 0]  # point 1 at exactly r: out


def test_ball_query_float32_chunked_equals_one_block(gen, monkeypatch):
    pts = uniform(gen, 2, 300).float()
    centres = pts[:, ::3]
    whole = ball_query(pts, centres, 0.2, 16)
    monkeypatch.setattr(ops, "BLOCK", 1000)  # 1 or 2 centres per chunk
    assert torch.equal(ball_query(pts, centres, 0.2, 16), whole)


# ======================================================================================
# gather and interpolation
# ======================================================================================
def test_gather_points_any_index_shape(gen):
    x = torch.randn(2, 10, 4, generator=gen, dtype=DT)
    idx = torch.randint(0, 10, (2, 3, 5), generator=gen)
    got = gather_points(x, idx)
    assert got.shape == (2, 3, 5, 4)
    for b in range(2):
        assert torch.equal(got[b], x[b][idx[b]])


def test_three_nn_matches_brute_force(gen, block):
    unknown, known = uniform(gen, 2, 25), uniform(gen, 2, 9)
    feats = torch.randn(2, 9, 3, generator=gen, dtype=DT)
    got = three_nn_interpolate(unknown, known, feats)
    for b in range(2):
        want = torch.tensor(ref_three_nn(unknown[b].tolist(), known[b].tolist(), feats[b].tolist()), dtype=DT)
        torch.testing.assert_close(got[b], want, rtol=1e-12, atol=1e-12)


def test_three_nn_on_known_points_and_with_few_known(gen):
    known = uniform(gen, 1, 6)
    feats = torch.randn(1, 6, 2, generator=gen, dtype=DT)
    torch.testing.assert_close(three_nn_interpolate(known, known, feats), feats, rtol=0, atol=1e-8)
    one = three_nn_interpolate(uniform(gen, 1, 5), known[:, :1], feats[:, :1])  # a single known point
    torch.testing.assert_close(one, feats[:, :1].expand(1, 5, 2), rtol=0, atol=1e-12)
    unknown = uniform(gen, 1, 4)
    two = three_nn_interpolate(unknown, known[:, :2], feats[:, :2])
    want = torch.tensor(ref_three_nn(unknown[0].tolist(), known[0, :2].tolist(), feats[0, :2].tolist()), dtype=DT)
    torch.testing.assert_close(two[0], want, rtol=1e-12, atol=1e-12)


def test_three_nn_gradient_reaches_known_feats(gen):
    feats = torch.randn(1, 5, 2, generator=gen, dtype=DT, requires_grad=True)
    three_nn_interpolate(uniform(gen, 1, 7), uniform(gen, 1, 5), feats).sum().backward()
    # each unknown point's weights sum to 1, so the total gradient is the point count
    assert feats.grad is not None and math.isclose(feats.grad.sum().item(), 7 * 2, rel_tol=1e-12)


# ======================================================================================
# modules
# ======================================================================================
def small_model(task, in_channels=3, radii=(0.3, 0.6), **kw):
    torch.manual_seed(0)
    return PointNet2SSG(task, 5, in_channels, radii, nsample=8, width=4, **kw).double()


@pytest.mark.parametrize("n", [64, 37, 3])
def test_model_output_shapes(gen, n):
    xyz = uniform(gen, 2, n)
    cls, seg = small_model("cls"), small_model("seg")
    assert cls(xyz, xyz).shape == (2, 5)
    assert seg(xyz, xyz).shape == (2, n, 5)


@pytest.mark.parametrize("task", ["cls", "seg"])
def test_gradients_reach_every_parameter(gen, task):
    model = small_model(task, in_channels=4).train()
    xyz, feats = uniform(gen, 3, 48), torch.randn(3, 48, 4, generator=gen, dtype=DT)
    out = model(xyz, feats)
    (out * torch.randn(out.shape, generator=gen, dtype=DT)).sum().backward()
    named = dict(model.named_parameters())
    assert {n for n, p in named.items() if p.grad is None or not p.grad.abs().sum() > 0} == set()
    assert any(n.startswith("input_layer.") for n in named) and any(n.startswith("backbone.") for n in named)


@pytest.mark.parametrize("task", ["cls", "seg"])
def test_batch_independence_in_eval(gen, task):
    model = small_model(task).eval()
    xyz = uniform(gen, 3, 40)
    feats = torch.randn(3, 40, 3, generator=gen, dtype=DT)
    with torch.no_grad():
        batched = model(xyz, feats)
        for b in range(3):
            alone = model(xyz[b:b + 1], feats[b:b + 1])
            torch.testing.assert_close(batched[b:b + 1], alone, rtol=1e-10, atol=1e-10)
        xyz2, feats2 = xyz.clone(), feats.clone()
        xyz2[1:] = uniform(gen, 2, 40)
        feats2[1:] = 0
        torch.testing.assert_close(model(xyz2, feats2)[0], batched[0], rtol=1e-10, atol=1e-10)


def test_set_abstraction_against_a_per_centre_loop(gen):
    torch.manual_seed(1)
    sa = SetAbstraction(0.25, 0.4, 6, [5, 7], in_channels=2).double().eval()
    xyz, feats = uniform(gen, 2, 30), torch.randn(2, 30, 2, generator=gen, dtype=DT)
    centres, out = sa(xyz, feats)
    assert centres.shape == (2, 8, 3) and out.shape == (2, 8, 7)
    for b in range(2):
        centre_ids = ref_fps(xyz[b].tolist(), 8)
        assert torch.equal(centres[b], xyz[b, centre_ids])
        groups = ref_ball_query(xyz[b].tolist(), centres[b].tolist(), 0.4, 6)
        for j, group in enumerate(groups):
            rows = torch.cat([(xyz[b, group] - centres[b, j]) / 0.4, feats[b, group]], 1)  # [k, 3 + C]
            per_point = sa.mlp(rows.T[None, :, :, None])[0, :, :, 0]  # [C', k]
            torch.testing.assert_close(out[b, j], per_point.max(1).values, rtol=1e-12, atol=1e-12)


def test_set_abstraction_normalized_offsets_are_scale_free(gen):
    """Coordinates x4 with radius x4 (pixels vs unit sphere): same features, same centres x4."""
    torch.manual_seed(2)
    sa = SetAbstraction(0.5, 0.3, 8, [6], in_channels=1).double().eval()
    xyz, feats = uniform(gen, 2, 24), torch.randn(2, 24, 1, generator=gen, dtype=DT)
    c1, f1 = sa(xyz, feats)
    sa.radius = 1.2
    c4, f4 = sa(xyz * 4, feats)
    torch.testing.assert_close(c4, c1 * 4, rtol=0, atol=0)
    torch.testing.assert_close(f4, f1, rtol=1e-12, atol=1e-12)
    sa.normalize_xyz = False
    assert not torch.allclose(sa(xyz * 4, feats)[1], f1)


def test_set_abstraction_on_coordinates_only(gen):
    sa = SetAbstraction(0.25, 0.5, 4, [8], in_channels=0).double()
    centres, out = sa(uniform(gen, 2, 16), None)
    assert centres.shape == (2, 4, 3) and out.shape == (2, 4, 8)


def test_global_set_abstraction_ignores_point_order(gen):
    gsa = GlobalSetAbstraction(2, [4, 6]).double().eval()
    xyz, feats = uniform(gen, 2, 20), torch.randn(2, 20, 2, generator=gen, dtype=DT)
    perm = torch.randperm(20, generator=gen)
    out = gsa(xyz, feats)
    assert out.shape == (2, 6)
    torch.testing.assert_close(gsa(xyz[:, perm], feats[:, perm]), out, rtol=1e-12, atol=1e-12)


def test_feature_propagation_concatenates_skip_then_interpolated(gen):
    fp = FeaturePropagation(2 + 3, [4]).double().eval()
    fine, coarse = uniform(gen, 1, 10), uniform(gen, 1, 4)
    skip, deep = torch.randn(1, 10, 2, generator=gen, dtype=DT), torch.randn(1, 4, 3, generator=gen, dtype=DT)
    want = fp.mlp(torch.cat([skip, three_nn_interpolate(fine, coarse, deep)], -1))
    torch.testing.assert_close(fp(fine, coarse, skip, deep), want, rtol=0, atol=0)
    with pytest.raises(ValueError, match="expects 5 channels .skip \\+ interpolated., got 3"):
        fp(fine, coarse, None, deep)


def test_model_split_for_finetune_scopes():
    """input_layer reads the task channels, backbone = the SA levels + the global SA (cls;
    seg has none), and the I,O,mu,sigma,W,b scope trains input/output layers and only the
    backbone's BN affine parameters (the global SA's BatchNorm1d included)."""
    model = small_model("cls", in_channels=6, radii=(0.2, 0.4, 0.8))
    assert model.input_layer[0].in_channels == 6
    assert [type(m).__name__ for m in model.backbone] == ["SetAbstraction"] * 3
    assert [sa.radius for sa in model.backbone] == [0.2, 0.4, 0.8]
    assert model.backbone.global_sa is not None and small_model("seg").backbone.global_sa is None
    apply_scope(model, "io_bn")
    owner = lambda name: model.get_submodule(name.rsplit(".", 1)[0])  # noqa: E731
    bn = (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)
    want = {n for n, _ in model.named_parameters() if not n.startswith("backbone.") or isinstance(owner(n), bn)}
    assert any(n.startswith("backbone.global_sa.") for n in want)
    assert {n for n, p in model.named_parameters() if p.requires_grad} == want
    assert any(n.startswith("backbone.") for n in want) and any(n.startswith("output_layer.") for n in want)


@pytest.mark.parametrize("entry", ["cls", "seg", "backbone", "set_abstraction"])
def test_forward_checks_the_coordinates_once(gen, monkeypatch, entry):
    """The value checks (finite coordinates, index range) read the data -- a device sync on
    CUDA -- so one forward runs them once, at its entry, not again in every op inside."""
    calls = {"isfinite": 0, "item": 0}

    def counting(name, fn):
        def wrapper(*args, **kwargs):
            calls[name] += 1
            return fn(*args, **kwargs)
        return wrapper

    model = small_model("seg" if entry == "seg" else "cls")
    forward = {"cls": model, "seg": model, "backbone": lambda x, f: model.backbone(x, model.input_layer(f)),
               "set_abstraction": lambda x, f: model.backbone[0](x, model.input_layer(f))}[entry]
    xyz = uniform(gen, 2, 64)
    monkeypatch.setattr(torch, "isfinite", counting("isfinite", torch.isfinite))
    monkeypatch.setattr(torch.Tensor, "item", counting("item", torch.Tensor.item))
    forward(xyz, xyz)
    assert calls == {"isfinite": 1, "item": 1}


def test_every_forward_entry_still_refuses_non_finite_coordinates(gen):
    model = small_model("cls")
    xyz = uniform(gen, 2, 16).index_fill(1, torch.tensor([5]), math.nan)
    feats = torch.zeros(2, 16, 4, dtype=DT)
    for call in (lambda: model(xyz, xyz[..., :3]), lambda: model.backbone(xyz, feats),
                 lambda: model.backbone.levels(xyz, feats), lambda: model.backbone[0](xyz, feats),
                 lambda: GlobalSetAbstraction(4, [4]).double()(xyz, feats),
                 lambda: FeaturePropagation(4, [4]).double()(xyz, uniform(gen, 2, 4), None, feats[:, :4])):
        with pytest.raises(ValueError, match=r"has 2 point\(s\) with non-finite coordinates"):
            call()


# ======================================================================================
# images as points
# ======================================================================================
def test_image_to_points_layout(gen):
    images = torch.rand(2, 3, 4, 5, generator=gen)
    xyz, feats = image_to_points(images)
    assert xyz.shape == (2, 20, 3) and feats.shape == (2, 20, 3) and xyz.dtype == images.dtype
    for b in range(2):
        for r in range(4):
            for c in range(5):
                assert xyz[b, r * 5 + c].tolist() == [c, r, 1]
                assert torch.equal(feats[b, r * 5 + c], images[b, :, r, c])


def test_images_as_points_through_the_model_at_pixel_radius(gen):
    xyz, feats = image_to_points(torch.rand(2, 3, 8, 8, generator=gen, dtype=DT))
    model = small_model("cls", radii=(3.0, 6.0))
    assert model(xyz, feats).shape == (2, 5)
    # radius 3 px: pixel (row 3, col 3)'s group starts in row 1 (row 0 is >= 3 px away), columns 1..5
    idx = ball_query(xyz, xyz[:, 27:28], 3.0, 8)[0, 0]
    assert [p[:2] for p in xyz[0, idx].tolist()] == [[1, 1], [2, 1], [3, 1], [4, 1], [5, 1], [1, 2], [2, 2], [3, 2]]


# ======================================================================================
# bad input
# ======================================================================================
@pytest.mark.parametrize("call,err,msg", [
    (lambda p: farthest_point_sample(p, 11), ValueError, r"cannot sample m=11 points from clouds of N=10"),
    (lambda p: farthest_point_sample(p, 0), ValueError, r"m \(points to sample\) must be an int >= 1, got 0"),
    (lambda p: farthest_point_sample(p[..., :2], 2), ValueError, r"xyz must have shape \[B, N, 3\].*\(2, 10, 2\)"),
    (lambda p: farthest_point_sample(p[:, :0], 1), ValueError, r"xyz is empty \(shape \(2, 0, 3\)\)"),
    (lambda p: farthest_point_sample(p.long(), 1), TypeError, r"xyz must be floating point, got torch.int64"),
    (lambda p: farthest_point_sample(p.index_fill(1, torch.tensor([3]), math.nan), 2), ValueError,
     r"xyz has 2 point\(s\) with non-finite coordinates"),
    (lambda p: ball_query(p, p[:, :2], 0.2, 0), ValueError, r"k \(points per group\) must be an int >= 1, got 0"),
    (lambda p: ball_query(p, p[:, :2], 0.0, 4), ValueError, r"radius must be a finite number > 0, got 0.0"),
    (lambda p: ball_query(p, p[:, :2], -1, 4), ValueError, r"radius must be a finite number > 0, got -1.0"),
    (lambda p: ball_query(p, p[:1, :2], 0.2, 4), ValueError, r"xyz has 2 clouds but centers has 1"),
    (lambda p: ball_query(p, p[:, :2, None], 0.2, 4), ValueError, r"centers must have shape \[B, N, 3\]"),
    (lambda p: ball_query(p, p[:, :2].float(), 0.2, 4), ValueError, r"xyz is torch.float64 on cpu but centers "
                                                                     r"is torch.float32"),
    (lambda p: ball_query(p, p[:, :2] * math.inf, 0.2, 4), ValueError, r"centers has 4 point\(s\) with non-finite"),
    (lambda p: gather_points(p, torch.full((2, 3), 10)), IndexError, r"idx must lie in \[0, 10\).*\[10, 10\]"),
    (lambda p: gather_points(p, torch.zeros(2, 3)), TypeError, r"idx must be an integer"),
    (lambda p: gather_points(p, torch.zeros(3, 3, dtype=torch.long)), ValueError, r"idx is \[3, ...\]"),
    (lambda p: three_nn_interpolate(p, p[:, :4], torch.zeros(2, 5, 1)), ValueError,
     r"known_feats must be \[B, m, C\] with \[B, m\] = \(2, 4\)"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_ops_bad_input_says_what_is_wrong(gen, call, err, msg):
    with pytest.raises(err, match=msg):
        call(uniform(gen, 2, 10))


def test_modules_bad_input_says_what_is_wrong(gen):
    xyz = uniform(gen, 2, 10)
    model = small_model("seg", in_channels=3)
    with pytest.raises(ValueError, match=r"PointNet2SSG expects 3 feature channels per point, got 6"):
        model(xyz, torch.cat([xyz, xyz], -1))
    with pytest.raises(ValueError, match=r"feats must be \[B, N, C\] with \[B, N\] = \(2, 10\) from xyz, got \(2, 9, 3\)"):
        model(xyz, xyz[:, :9])
    with pytest.raises(ValueError, match=r"SetAbstraction expects 2 feature channels per point, got feats=None"):
        SetAbstraction(0.5, 0.2, 4, [4], 2)(xyz, None)
    for kwargs, msg in [(dict(task="det"), "task must be 'cls' or 'seg', got 'det'"),
                        (dict(radii=()), "radii must give one ball-query radius per set abstraction level"),
                        (dict(radii=(0.2, -1.0)), r"radius must be a finite number > 0 \(coordinate units\), got -1.0"),
                        (dict(in_channels=0), "in_channels must be an int >= 1, got 0"),
                        (dict(ratio=1.5), r"ratio \(fraction of points kept\) must be in \(0, 1\], got 1.5"),
                        (dict(nsample=0), "nsample must be an int >= 1, got 0")]:
        args = dict(task="cls", num_classes=4, in_channels=3, radii=(0.2,)) | kwargs
        with pytest.raises(ValueError, match=msg):
            PointNet2SSG(**args)
    with pytest.raises(ValueError, match=r"mlp must be a non-empty list of positive ints, got \[\]"):
        SetAbstraction(mlp=[])
    with pytest.raises(ValueError, match=r"images must be a floating-point \[B, C, H, W\] tensor, got \(3, 4, 5\)"):
        image_to_points(torch.zeros(3, 4, 5))


# ======================================================================================
# CUDA (skipped without a device)
# ======================================================================================
@CUDA
@pytest.mark.cuda
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["f64", "f32"])
def test_cuda_ops_match_cpu(gen, dtype):
    pts = torch.cat([uniform(gen, 2, 500), with_duplicates(gen, 2, 500)], 0).to(dtype)
    feats = torch.randn(4, 500, 6, generator=gen, dtype=dtype)
    fps = farthest_point_sample(pts, 125)
    assert torch.equal(farthest_point_sample(pts.cuda(), 125).cpu(), fps)
    centres = gather_points(pts, fps)
    for radius, k in [(0.1, 16), (0.3, 32), (10.0, 8)]:
        assert torch.equal(ball_query(pts.cuda(), centres.cuda(), radius, k).cpu(), ball_query(pts, centres, radius, k))
    up = three_nn_interpolate(pts.cuda(), centres.cuda(), feats[:, :125].cuda()).cpu()
    torch.testing.assert_close(up, three_nn_interpolate(pts, centres, feats[:, :125]))


@CUDA
@pytest.mark.cuda
@pytest.mark.parametrize("task", ["cls", "seg"])
def test_cuda_model_matches_cpu(gen, task):
    model = small_model(task).eval()
    xyz, feats = uniform(gen, 2, 300), torch.randn(2, 300, 3, generator=gen, dtype=DT)
    with torch.no_grad():
        want = model(xyz, feats)
        got = model.cuda()(xyz.cuda(), feats.cuda()).cpu()
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)


def test_benchmark_runs_and_checks_identity():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "benchmarks/pointnet2_ops.py", "--points", "300", "--samples", "60",
                          "--batch", "2", "--repeat", "1", "--threads", "1"], cwd=root, capture_output=True, text=True,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "identical to the reference: fps yes, ball query yes" in out.stdout
    last = out.stdout.strip().splitlines()[-1].split()
    assert last[0] == "speedup" and all(float(kv.split("=")[1]) > 0 for kv in last[1:])
