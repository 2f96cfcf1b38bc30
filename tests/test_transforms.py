"""Augmentations (Appendix 6.1) and the seeded training subsets (§4.3)."""
import math

import pytest
import torch

from i2p.data import transforms as T
from i2p.data.subsets import fraction_subset, k_shot_subset


def _sample(n=200, rgb=True):
    g = torch.Generator().manual_seed(0)
    p = torch.rand(n, 3, generator=g) * 4 - 2
    s = {"points": p, "label": 0}
    if rgb:
        s["feats"] = torch.cat([p, torch.rand(n, 3, generator=g)], 1)
    return s


def test_modelnet_recipe_ranges():
    torch.manual_seed(0)
    base = _sample(rgb=False)
    for _ in range(20):
        out = T.modelnet_train_transform()(dict(base))
        d = out["points"] - base["points"]
        # scale 0.9..1.1 per axis, shift <= 0.2, jitter <= 0.05
        assert d.abs().max() <= 2 * 0.1 + 0.2 + 0.05 + 1e-6


def test_jitter_is_clipped_and_scale_per_axis():
    torch.manual_seed(0)
    s = T.Jitter(scale=10.0, clip=0.05, p=1)(_sample(rgb=False))
    base = _sample(rgb=False)["points"]
    assert (s["points"] - base).abs().max() <= 0.05 + 1e-6
    s = T.RandomScale(0.5, 2.0, p=1)(_sample(rgb=False))
    ratio = s["points"] / base
    assert torch.allclose(ratio, ratio[0].expand_as(ratio), atol=1e-5)  # one factor per axis
    assert not torch.allclose(ratio[0, 0], ratio[0, 1])


def test_rotation_about_z_keeps_height_and_radius():
    torch.manual_seed(1)
    s = T.RandomRotateZ(math.pi)(_sample(rgb=False))
    base = _sample(rgb=False)["points"]
    assert torch.allclose(s["points"][:, 2], base[:, 2])
    assert torch.allclose(s["points"][:, :2].norm(dim=1), base[:, :2].norm(dim=1), atol=1e-5)


def test_flip_and_colour_transforms():
    torch.manual_seed(0)
    seen = set()
    for _ in range(30):
        out = T.RandomFlipXY()(_sample())
        seen.add(tuple((torch.sign(out["points"][0]) == torch.sign(_sample()["points"][0])).tolist()))
    assert len(seen) == 4  # all four x/y flip combinations occur, z never flips
    for t in (T.ColorJitter(p=1), T.ColorTranslate(p=1), T.ColorAutoContrast(p=1)):
        out = t(_sample())
        assert out["feats"][:, 3:].min() >= 0 and out["feats"][:, 3:].max() <= 1
        assert torch.equal(out["feats"][:, :3], _sample()["feats"][:, :3])


def test_compose_keeps_xyz_features_in_sync():
    torch.manual_seed(0)
    out = T.s3dis_train_transform()(_sample())
    assert torch.equal(out["feats"][:, :3], out["points"])
    assert out["points"][:, 2].min().abs() < 1e-6  # floor at z = 0 after NormalizeCoords


def _room(n=4000, size=(12.0, 5.0, 3.0), offset=30.0, seed=1):
    """A room (12 m x 5 m x 3 m) laid out at x = 30 m in its area, xyz + rgb, labels."""
    g = torch.Generator().manual_seed(seed)
    p = torch.rand(n, 3, generator=g) * torch.tensor(size) + torch.tensor([offset, 2.0, 0.2])
    return {"points": p, "feats": torch.cat([p, torch.rand(n, 3, generator=g)], 1),
            "label": torch.randint(0, 13, (n,), generator=g), "name": "Area_1/hallway_1"}


def test_s3dis_train_and_eval_features_lie_in_the_same_range():
    torch.manual_seed(0)
    train = T.s3dis_train_transform()(_room())
    test = T.s3dis_eval_transform()(_room(seed=2))
    for out in (train, test):
        assert torch.equal(out["feats"][:, :3], out["points"])
        lo, hi = out["points"].min(0).values, out["points"].max(0).values
        assert lo[2].abs() < 1e-5 and hi[:2].abs().max() <= 4.0 and lo[:2].abs().max() <= 4.0  # centred, clipped
    raw = _room()["feats"][:, :3]
    assert raw[:, 0].min() > 29  # untransformed: in area coordinates, far from both


def test_s3dis_clip_drops_points_outside_the_cube_instead_of_clamping():
    room = _room()
    out = T.ClipToCube(4.0)(room)
    d = room["points"] - (room["points"].min(0).values + room["points"].max(0).values) / 2
    keep = ((d >= -4) & (d < 4)).all(1)
    assert 0 < keep.sum() < len(keep) and len(out["points"]) == int(keep.sum())
    for k in ("points", "feats", "label"):
        assert torch.equal(out[k], room[k][keep])  # every per-point field cut the same way
    assert out["name"] == room["name"]
    small = _room(size=(3.0, 3.5, 2.8))  # smaller than the cube: kept whole, like the authors' clip_bound rule
    assert T.ClipToCube(4.0)(small) is small


def test_s3dis_colour_recipe_matches_the_authors():
    torch.manual_seed(0)
    s = _room()
    jit = T.ColorJitter(p=1)(dict(s))["feats"][:, 3:] - s["feats"][:, 3:]
    inner = (s["feats"][:, 3:] > 0.05) & (s["feats"][:, 3:] < 0.95)  # away from the [0, 1] clip
    assert jit[inner].std().item() == pytest.approx(0.005, rel=0.1)
    rgb = s["feats"][:, 3:] * 0.5 + 0.2
    out = T.ColorAutoContrast(p=1)({**s, "feats": torch.cat([s["points"], rgb], 1)})["feats"][:, 3:]
    stretched = (rgb - rgb.min(0).values) / (rgb.max(0).values - rgb.min(0).values)
    assert torch.allclose(out, 0.5 * rgb + 0.5 * stretched, atol=1e-6)  # blend factor 0.5, every time


def test_same_seed_same_augmentation():
    outs = []
    for _ in range(2):
        torch.manual_seed(5)
        outs.append(T.kitti_train_transform()(_sample())["points"])
    assert torch.equal(*outs)


def test_fraction_subset():
    a = fraction_subset(1000, 0.05, seed=1)
    assert len(a) == 50 and a == sorted(set(a)) and a == fraction_subset(1000, 0.05, seed=1)
    assert a != fraction_subset(1000, 0.05, seed=2)
    assert len(fraction_subset(10, 0.01, seed=0)) == 1
    with pytest.raises(ValueError):
        fraction_subset(10, 0.0, seed=0)


def test_k_shot_subset():
    labels = [i % 4 for i in range(40)] + [4]  # class 4 has a single sample
    idx = k_shot_subset(labels, 3, seed=0)
    counts = torch.bincount(torch.tensor([labels[i] for i in idx]))
    assert counts.tolist() == [3, 3, 3, 3, 1]
    assert idx == k_shot_subset(labels, 3, seed=0) != k_shot_subset(labels, 3, seed=1)
    with pytest.raises(ValueError):
        k_shot_subset(labels, 0, seed=0)
