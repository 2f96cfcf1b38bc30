"""Range images (i2p.range_image) and the range-image segmentation network (i2p.models.range_net)."""
from __future__ import annotations

import functools
import math
import os
import pathlib
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

from helpers_models import assert_range_model_learns
from i2p.data.kitti.labels import IGNORE_INDEX
from i2p.range_image import (
    SYNTH_FOV_DEG, RangeBatch, RangeProjection, back_project, collate_range, project_labels,
)


def _direction(proj: RangeProjection, row: float, col: float) -> np.ndarray:
    """Unit vector through the centre of pixel (row, col): the projection's inverse."""
    up, fov = math.radians(proj.fov_up_deg), math.radians(proj.fov_up_deg - proj.fov_down_deg)
    pitch = up - (row + 0.5) / proj.height * fov
    yaw = math.pi * (1 - 2 * (col + 0.5) / proj.width)
    return np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), math.sin(pitch)])


def _random_cloud(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    pts = torch.randn(n, 3, generator=g) * torch.tensor([15.0, 15.0, 1.0])
    return pts, torch.rand(n, generator=g)


# ------------------------------------------------------------------------------ geometry


def test_default_fov_is_the_synth_sensor():
    from i2p.data.kitti.synth.sensor import BEAM_ELEVATIONS_DEG

    assert SYNTH_FOV_DEG == (float(BEAM_ELEVATIONS_DEG.max()), float(BEAM_ELEVATIONS_DEG.min()))
    p = RangeProjection()
    assert (p.height, p.width, p.fov_up_deg, p.fov_down_deg) == (64, 512, *SYNTH_FOV_DEG)


def test_geometry_rows_cols_and_channels():
    p = RangeProjection(64, 512)
    pts = torch.tensor([
        [10.0, 0.0, 0.0],  # straight ahead, 0 deg elevation
        [0.0, 5.0, 0.0],  # 90 deg left
        [0.0, -5.0, 0.0],  # 90 deg right
        [-3.0, 0.0, 0.0],  # straight behind
        [10.0, 0.0, 10.0 * math.tan(math.radians(30))],  # above the field of view
        [10.0, 0.0, -10.0 * math.tan(math.radians(60))],  # below it
    ])
    rimg = p.project(pts, torch.tensor([0.1, 0.2, 0.3, 0.4, 0.5, 0.6]))
    ahead_row = math.floor(2.0 / 26.9 * 64)  # (fov_up - 0) / fov * H
    assert rimg.pixel.tolist() == [[ahead_row, 256], [ahead_row, 128], [ahead_row, 384], [ahead_row, 0],
                                   [0, 256], [63, 256]]
    r, c = ahead_row, 256
    assert rimg.owner[r, c] == 0 and rimg.mask.sum() == 6
    assert torch.allclose(rimg.image[:, r, c], torch.tensor([10.0, 10.0, 0.0, 0.0, 0.1]))
    # every filled pixel: range = norm of its owner, x y z intensity = the owner's
    pts, inten = _random_cloud(3000)
    rimg = RangeProjection(16, 64).project(pts, inten)
    own = rimg.owner[rimg.mask]
    assert torch.allclose(rimg.image[0][rimg.mask], pts[own].norm(dim=1))
    assert torch.equal(rimg.image[1:4][:, rimg.mask], pts[own].T)
    assert torch.equal(rimg.image[4][rimg.mask], inten[own])
    assert (rimg.image[:, ~rimg.mask] == 0).all() and (rimg.owner[~rimg.mask] == -1).all()


def test_every_beam_lands_in_its_row_band():
    """Points along a beam at elevation e land in row floor((up - e) / fov * H)."""
    p = RangeProjection(64, 512)
    elev = np.array([1.9, 0.0, -5.0, -12.3, -24.8])
    yaw = np.linspace(-3, 3, 7)
    E, A = np.meshgrid(np.radians(elev), yaw, indexing="ij")
    pts = 20 * np.stack([np.cos(E) * np.cos(A), np.cos(E) * np.sin(A), np.sin(E)], -1).reshape(-1, 3)
    rimg = p.project(pts, np.zeros(len(pts)))
    expected = np.floor((2.0 - elev) / 26.9 * 64).astype(int).repeat(len(yaw))
    assert rimg.pixel[:, 0].tolist() == expected.tolist()


def test_owner_is_the_closest_point_with_deterministic_ties():
    p = RangeProjection(8, 32)
    d = _direction(p, 3, 10)
    pts = np.stack([10 * d, 5 * d, 5 * d, 7 * d])  # far, near, near (tie), middle
    rimg = p.project(pts, np.array([0.1, 0.2, 0.3, 0.4]))
    assert rimg.pixel.tolist() == [[3, 10]] * 4
    assert rimg.owner[3, 10] == 1  # closest; the tie goes to the lower index
    assert rimg.owned.tolist() == [False, True, False, False]
    assert rimg.image[0, 3, 10] == pytest.approx(5.0) and rimg.image[4, 3, 10] == pytest.approx(0.2)
    # a crowded random cloud: each pixel shows the nearest of its points (brute force on a small one)
    pts, inten = _random_cloud(400, seed=1)
    rimg = RangeProjection(4, 8).project(pts, inten)
    r = pts.norm(dim=1)
    for pix in {tuple(x) for x in rimg.pixel.tolist()}:
        members = [i for i, x in enumerate(rimg.pixel.tolist()) if tuple(x) == pix]
        assert rimg.owner[pix].item() == min(members, key=lambda i: (r[i].item(), i))
    # the same cloud in another order: the same points own pixels
    perm = torch.randperm(400, generator=torch.Generator().manual_seed(2))
    again = RangeProjection(4, 8).project(pts[perm], inten[perm])
    assert torch.equal(perm[again.owned].sort().values, rimg.owned.nonzero().squeeze(1))


# ------------------------------------------------------------------------------ labels and back-projection


def test_project_labels_takes_the_owners_label():
    p = RangeProjection(8, 32)
    d = _direction(p, 2, 5)
    pts = np.stack([10 * d, 4 * d, 20 * _direction(p, 6, 30)])
    rimg = p.project(pts, np.zeros(3))
    lab = project_labels(rimg, torch.tensor([3, 8, 1]))
    assert lab.dtype == torch.long and lab[2, 5] == 8 and lab[6, 30] == 1
    assert (lab == IGNORE_INDEX).sum() == 8 * 32 - 2
    assert (project_labels(rimg, np.array([3, 8, 1]), ignore_index=255) == 255).sum() == 8 * 32 - 2


@pytest.mark.parametrize("knn", [False, True])
def test_round_trip(knn):
    """Every point gets a prediction; owners get exactly their pixel's prediction."""
    pts, inten = _random_cloud(4000, seed=3)
    p = RangeProjection(16, 64)
    rimg = p.project(pts, inten)
    owned = rimg.owned
    assert 0 < owned.sum() < len(pts)  # some points hidden, or the test proves nothing
    g = torch.Generator().manual_seed(4)
    label_map = torch.randint(0, 19, (16, 64), generator=g)
    out = back_project(rimg, label_map, pts, knn=knn)
    assert out.shape == (4000,) and out.dtype == torch.long
    assert ((out >= 0) & (out < 19)).all()
    row, col = rimg.pixel[:, 0], rimg.pixel[:, 1]
    assert torch.equal(out[owned], label_map[row, col][owned])
    logits = torch.randn(19, 16, 64, generator=g)
    out = back_project(rimg, logits, pts.numpy(), knn=knn)
    assert torch.equal(out[owned], logits.argmax(0)[row, col][owned])
    # the points' own labels, through the image and back: exact for the owners
    truth = torch.randint(0, 19, (4000,), generator=g)
    back = back_project(rimg, project_labels(rimg, truth), pts, knn=knn)
    assert torch.equal(back[owned], truth[owned])
    if not knn:
        assert torch.equal(out, logits.argmax(0)[row, col])


def _occlusion_scene(hidden_range: float) -> tuple[RangeProjection, np.ndarray, torch.Tensor]:
    """A wall (class 2) at 20 m filling a 5x5 patch, a pole (class 7) at 5 m in front of
    its centre pixel, and a hidden wall point behind the pole (last index, class 2)."""
    p = RangeProjection(16, 64)
    wall = [20 * _direction(p, r, c) for r in range(6, 11) for c in range(30, 35)]
    pts = np.stack(wall + [5 * _direction(p, 8, 32), hidden_range * _direction(p, 8, 32)])
    labels = torch.tensor([2] * len(wall) + [7, 2])
    return p, pts, labels


def test_knn_relabels_a_hidden_point_like_its_neighbours():
    p, pts, labels = _occlusion_scene(20.2)
    rimg = p.project(pts, np.zeros(len(pts)))
    hidden = len(pts) - 1
    assert rimg.owner[8, 32] == hidden - 1 and not rimg.owned[hidden]
    label_map = project_labels(rimg, labels)
    assert back_project(rimg, label_map, pts, knn=False)[hidden] == 7  # the occluder's label
    out = back_project(rimg, label_map, pts)
    assert out[hidden] == 2 and torch.equal(out[:-1], labels[:-1])
    # the pole's centre pixel is far in range: it does not vote even with k = window^2
    assert back_project(rimg, label_map, pts, k=25, window=5)[hidden] == 2
    # no neighbour within the cutoff: the point keeps its pixel's label
    assert back_project(rimg, label_map, pts, cutoff=0.1)[hidden] == 7
    p, pts, labels = _occlusion_scene(45.0)
    rimg = p.project(pts, np.zeros(len(pts)))
    assert back_project(rimg, project_labels(rimg, labels), pts)[-1] == 7


def test_knn_majority_and_nearest_voter_tie_break():
    p = RangeProjection(8, 32)
    # hidden point at 10.0 behind an occluder at 3 m; neighbours left (class 5, 10.1 m) and right (class 4, 10.3 m)
    pts = np.stack([3 * _direction(p, 4, 10), 10.0 * _direction(p, 4, 10),
                    10.1 * _direction(p, 4, 9), 10.3 * _direction(p, 4, 11)])
    rimg = p.project(pts, np.zeros(4))
    label_map = project_labels(rimg, torch.tensor([0, 0, 5, 4]))
    assert back_project(rimg, label_map, pts, window=3)[1] == 5  # 1 vote each: the nearer (5), not the lower id
    more = np.concatenate([pts, 10.2 * np.stack([_direction(p, 3, 11), _direction(p, 5, 11)])])
    rimg = p.project(more, np.zeros(6))
    label_map = project_labels(rimg, torch.tensor([0, 0, 5, 4, 4, 4]))
    assert back_project(rimg, label_map, more, window=3)[1] == 4  # 3 votes beat the nearest's 1
    assert back_project(rimg, label_map, more, window=3, k=1)[1] == 5  # only the nearest votes


def test_knn_neighbourhood_wraps_around_the_azimuth():
    p = RangeProjection(8, 32)
    pts = np.stack([3 * _direction(p, 4, 0), 10 * _direction(p, 4, 0), 10.1 * _direction(p, 4, 31)])
    rimg = p.project(pts, np.zeros(3))
    assert rimg.pixel[:, 1].tolist() == [0, 0, 31]
    assert back_project(rimg, project_labels(rimg, torch.tensor([1, 0, 6])), pts, window=3)[1] == 6


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    pts, inten = _random_cloud(5000, seed=7)
    p = RangeProjection(16, 64)
    cpu, gpu = p.project(pts, inten), p.project(pts.cuda(), inten.cuda())
    assert gpu.image.is_cuda and gpu.owner.is_cuda
    assert torch.allclose(cpu.image, gpu.image.cpu())
    assert all(torch.equal(getattr(cpu, a), getattr(gpu, a).cpu()) for a in ("mask", "pixel", "owner"))
    label_map = torch.randint(0, 19, (16, 64), generator=torch.Generator().manual_seed(8))
    out = back_project(gpu, label_map.cuda(), pts.cuda())
    assert out.is_cuda and torch.equal(out.cpu(), back_project(cpu, label_map, pts))


# ------------------------------------------------------------------------------ collate


def _sweep(n: int, seed: int) -> dict:
    pts, inten = _random_cloud(n, seed)
    label = torch.randint(0, 19, (n,), generator=torch.Generator().manual_seed(seed))
    return {"points": pts, "feats": torch.cat([pts, inten[:, None]], 1), "label": label}


def test_collate_range_batches_and_pickles():
    p = RangeProjection(16, 64)
    samples = [_sweep(900, 5), _sweep(1300, 6)]
    collate = pickle.loads(pickle.dumps(functools.partial(collate_range, projection=p)))
    batch = collate(samples)
    assert isinstance(batch, RangeBatch)
    assert batch.images.shape == (2, 5, 16, 64) and batch.masks.shape == (2, 16, 64)
    assert batch.labels.shape == (2, 16, 64) and batch.labels.dtype == torch.long
    for i, s in enumerate(samples):
        rimg = p.project(s["points"], s["feats"][:, 3])
        assert torch.equal(batch.images[i], rimg.image) and torch.equal(batch.masks[i], rimg.mask)
        assert torch.equal(batch.labels[i], project_labels(rimg, s["label"]))
        assert torch.equal(batch.projections[i].owner, rimg.owner)
        assert torch.equal(batch.points[i], s["points"]) and torch.equal(batch.point_labels[i], s["label"])
    labels = back_project(batch.projections[1], batch.labels[1], batch.points[1])
    assert torch.equal(labels[batch.projections[1].owned], samples[1]["label"][batch.projections[1].owned])


# ------------------------------------------------------------------------------ bad input


def test_bad_input_errors():
    p = RangeProjection(8, 32)
    with pytest.raises(ValueError, match="empty"):
        p.project(torch.zeros(0, 3), torch.zeros(0))
    with pytest.raises(ValueError, match=r"NaN/inf coordinates, e.g. index 1"):
        p.project(torch.tensor([[1.0, 0, 0], [float("nan"), 0, 0]]), torch.zeros(2))
    with pytest.raises(ValueError, match=r"points must be \[N, 3\].*\(5, 4\)"):
        p.project(torch.ones(5, 4), torch.zeros(5))
    with pytest.raises(ValueError, match=r"intensity must be \[N\] = \[5\]"):
        p.project(torch.ones(5, 3), torch.zeros(4))
    with pytest.raises(ValueError, match="intensity holds NaN"):
        p.project(torch.ones(2, 3), torch.tensor([0.0, float("inf")]))
    for kwargs, msg in [({"height": 0}, "height must be an integer >= 1"), ({"width": 2.5}, "width must be"),
                        ({"fov_up_deg": -30.0}, "fov_up_deg must be above fov_down_deg"),
                        ({"fov_down_deg": float("nan")}, "finite angles")]:
        with pytest.raises(ValueError, match=msg):
            RangeProjection(**kwargs)
    pts, inten = _random_cloud(50)
    rimg = p.project(pts, inten)
    with pytest.raises(ValueError, match="labels: 49 given for a range image of 50 points"):
        project_labels(rimg, torch.zeros(49, dtype=torch.long))
    with pytest.raises(ValueError, match="integer class ids"):
        project_labels(rimg, torch.zeros(50))
    with pytest.raises(ValueError, match="points: 49 given"):
        back_project(rimg, torch.zeros(8, 32, dtype=torch.long), pts[:49])
    with pytest.raises(ValueError, match=r"float logits \[K, 8, 32\] or integer labels \[8, 32\]"):
        back_project(rimg, torch.zeros(3, 8, 30), pts)
    with pytest.raises(ValueError, match=r"float logits"):
        back_project(rimg, torch.zeros(8, 32), pts)  # float [H, W]: neither logits nor labels
    for kwargs, msg in [({"window": 4}, "window must be an odd integer"), ({"k": 0}, "k must be"),
                        ({"cutoff": 0.0}, "cutoff")]:
        with pytest.raises(ValueError, match=msg):
            back_project(rimg, torch.zeros(8, 32, dtype=torch.long), pts, **kwargs)
    s = _sweep(30, 1)
    with pytest.raises(ValueError, match=r"sample 1: needs feats \[N, 4\]"):
        collate_range([s, {"points": s["points"], "label": s["label"]}], p)
    with pytest.raises(ValueError, match="sample 0: labels: 29 given"):
        collate_range([{**s, "label": s["label"][:29]}], p)
    with pytest.raises(ValueError, match="empty batch"):
        collate_range([], p)


# ------------------------------------------------------------------------------ a SynthKITTI sweep


def test_synthkitti_sweep_projection():
    pytest.importorskip("open3d")
    from i2p.data.registry import get

    ds = get("semantickitti").load("val", "teaching", options={"sequences": [8], "sweeps": 1, "val_sweeps": 1,
                                                               "azimuths": 256}, transform=None, progress=False)
    s = ds[0]
    batch = collate_range([s], RangeProjection())
    rimg, truth = batch.projections[0], s["label"]
    owned = rimg.owned
    frac = owned.float().mean().item()
    print(f"SynthKITTI sweep: {len(truth)} points, {frac:.1%} own a pixel, {rimg.mask.float().mean():.1%} pixels filled")
    assert frac > 0.5
    assert rimg.mask.sum() == owned.sum()
    # the true labels through the image and back: exact for owners; kNN no worse than the lookup on hidden points
    plain = back_project(rimg, batch.labels[0], s["points"], knn=False)
    knn = back_project(rimg, batch.labels[0], s["points"])
    assert torch.equal(knn[owned], truth[owned])
    hidden = ~owned
    assert (knn[hidden] == truth[hidden]).float().mean() >= (plain[hidden] == truth[hidden]).float().mean()


# ------------------------------------------------------------------------------ RangeSegNet


def test_range_segnet_shapes_strides_and_gradients():
    from i2p.finetune import apply_scope
    from i2p.models.range_net import RangeSegNet

    torch.manual_seed(0)
    model = RangeSegNet(19)
    assert model.load_report is None
    assert model.backbone.strides[-1] == (4, 32) and model.taps == [4, 2, 1, 0]
    x = torch.randn(2, 5, 16, 128, requires_grad=True)
    assert_range_model_learns(model, x, (2, 19, 16, 128))
    assert model(torch.randn(1, 5, 10, 70)).shape == (1, 19, 10, 70)  # padded and cropped back
    with pytest.raises(ValueError, match=r"\[B, C, H, W\]"):
        model(torch.randn(5, 16, 128))
    apply_scope(model, "io_stats")
    assert not any(p.requires_grad for p in model.backbone.parameters())
    assert all(p.requires_grad for p in model.input_layer.parameters())


def test_range_segnet_pretrained_backbone_is_the_checkpoint(tmp_path):
    from i2p.models import load_weights
    from i2p.models.range_net import RangeSegNet
    from i2p.weights import WeightsUnavailable, find_weights

    try:
        sd = load_weights("efficientnet_lite0.imagenet1k")
    except WeightsUnavailable as e:
        pytest.skip(f"EfficientNet-Lite0 checkpoint not here: {str(e).splitlines()[0]}")
    blocks = {k: v for k, v in sd.items() if k.startswith("blocks.")}
    for pretrained in (True, find_weights("efficientnet_lite0.imagenet1k")):  # registered name; efficientnet_pytorch file
        model = RangeSegNet(19, pretrained=pretrained)
        mine = model.backbone.state_dict()
        assert mine.keys() == blocks.keys()
        assert all(torch.equal(mine[k], v) for k, v in blocks.items())
        assert str(model.load_report).startswith(f"loaded {len(blocks)} backbone tensors as they are")
    assert model.backbone.blocks[3][0].conv_dw.stride == (1, 2)  # the strides changed, not the weights
    with pytest.raises(ValueError, match="pretrained must be"):
        RangeSegNet(19, pretrained=1)


def test_benchmark_script_runs():
    root = pathlib.Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "benchmarks/range_projection.py", "--random", "3000", "--widths", "64",
                          "--repeats", "1", "--threads", "1"], cwd=root, capture_output=True, text=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": str(root), "OMP_NUM_THREADS": "1"})
    assert out.returncode == 0, out.stderr
    assert "random cloud (3000 points)" in out.stdout and "64x64:" in out.stdout and "back_knn" in out.stdout
