"""The same contract for every registered data set: names, splits, classes, channels,
options, transforms, the stand-in's samples, the gallery, and check/load of real data
written in the official format (``tests/fixtures_<pkg>.py``)."""
from __future__ import annotations

import importlib

import matplotlib
import numpy as np
import pytest
import torch

from i2p.data import registry
from i2p.data.collate import collate_clouds
from i2p.data.registry import SPLITS, DatasetSpec

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

#: the smallest generator options per data set (fast), applied over the teaching profile
TINY = {
    "modelnet40": {"classes": ["chair", "cup"], "train": 2, "test": 2},
    "s3dis": {"rooms_per_area": 1, "room_size": [3.0, 3.5], "points": [3000, 5000]},
    "semantickitti": {"sequences": [0, 8], "sweeps": 1, "val_sweeps": 1, "azimuths": 96},
}
SPECS = registry.all_specs()


def test_every_package_is_registered_once():
    assert [s.name for s in SPECS] == ["modelnet40", "s3dis", "semantickitti"]
    assert set(TINY) == {s.name for s in SPECS}
    for alias, name in {"modelnet": "modelnet40", "ModelNet40": "modelnet40", "kitti": "semantickitti",
                        "SemanticKITTI": "semantickitti", "S3DIS": "s3dis"}.items():
        assert registry.get(alias).name == name


def test_unknown_name_lists_every_name_and_alias():
    with pytest.raises(ValueError, match=r"unknown data set 'scannet'; valid: modelnet40 \(modelnet\), s3dis, "
                                         r"semantickitti \(kitti\)"):
        registry.get("scannet")


@pytest.fixture(scope="module", params=SPECS, ids=lambda s: s.name)
def made(request, tmp_path_factory):
    spec: DatasetSpec = request.param
    root = tmp_path_factory.mktemp(spec.name)
    spec.make(options=TINY[spec.name], root=root, progress=False)
    return spec, root


def test_description_is_complete(made):
    spec, _ = made
    assert spec.task in ("cls", "seg") and spec.title and spec.stand_in
    assert set(spec.splits) <= set(SPLITS) and spec.eval_split in spec.splits and "train" in spec.splits
    assert spec.channels[:3] == ("x", "y", "z") and spec.in_channels == len(spec.channels)
    assert spec.up_axis in ("x", "y", "z") and set(spec.axes) == {"x", "y", "z"}
    assert "up" in spec.axes[spec.up_axis].lower()
    assert len(set(spec.classes)) == spec.num_classes >= 2
    keys = {frozenset(p) for p in spec.profiles.values()}
    assert {"teaching", "full"} <= set(spec.profiles) and len(keys) == 1  # one set of options for all profiles


def test_split_option_and_profile_errors_name_the_valid_ones(made):
    spec, root = made
    missing = next(s for s in SPLITS if s not in spec.splits)
    with pytest.raises(ValueError, match=f"has no split '{missing}'; it has {', '.join(spec.splits)}"):
        spec.load(missing, root=root)
    with pytest.raises(ValueError, match="unknown .* option.*valid options: "):
        spec.load("train", options={"colour": 1}, root=root)
    with pytest.raises(ValueError, match="choose one of teaching, full"):
        spec.make("huge", root=root)
    with pytest.raises(ValueError, match="transform must be"):
        spec.load("train", options=TINY[spec.name], root=root, transform="augment")


def test_samples_follow_the_spec_and_collate(made):
    spec, root = made
    for split in spec.splits:
        ds = spec.load(split, options=TINY[spec.name], root=root, transform=None, progress=False)
        assert len(ds) >= 1 and set(ds.classes) <= set(spec.classes)
        s = ds[0]
        n = s["points"].shape[0]
        assert s["points"].shape == (n, 3) and torch.isfinite(torch.as_tensor(s["points"])).all()
        feats = s.get("feats")
        assert (spec.in_channels == 3 and feats is None) or feats.shape == (n, spec.in_channels)
        label = torch.as_tensor(s["label"])
        if spec.task == "cls":
            assert label.dim() == 0 and 0 <= int(label) < len(ds.classes)
        else:
            assert label.shape == (n,) and ((label >= 0) & (label < spec.num_classes) | (label == spec.ignore_index)).all()
        batch = collate_clouds([ds[0], ds[len(ds) - 1]], voxel_size=0.1)
        assert batch.x.num_channels == spec.in_channels


def test_up_axis_is_up(made):
    """Scenes are wider than they are tall along the declared up axis (ModelNet's y-up
    frame is tested in test_data_modelnet: every shape stands on y = 0)."""
    spec, root = made
    if spec.task != "seg":
        pytest.skip("single objects: see test_data_modelnet")
    s = spec.load("train", options=TINY[spec.name], root=root, transform=None, progress=False)[0]
    p = np.asarray(s["points"])
    up = "xyz".index(spec.up_axis)
    assert np.ptp(p[:, up]) < min(np.ptp(p[:, i]) for i in range(3) if i != up)


def test_default_transforms_by_split(made):
    spec, root = made
    train = spec.load("train", options=TINY[spec.name], root=root, progress=False)
    evals = spec.load(spec.eval_split, options=TINY[spec.name], root=root, progress=False)
    assert train.transform is not None  # every data set has the paper's training augmentation
    assert (evals.transform is None) == (spec.eval_transform() is None and spec.feature_scale is None)
    torch.manual_seed(0)
    s = train[0]
    scale = torch.tensor(spec.feature_scale or (1.0,) * spec.in_channels)
    assert s["points"].shape[1] == 3 and (s.get("feats") is None or torch.equal(s["feats"][:, :3], s["points"] * scale[:3]))
    # without augmentation, training data goes through what evaluation applies
    plain = spec.load("train", options=TINY[spec.name], root=root, transform="eval", progress=False)
    raw = spec.load("train", options=TINY[spec.name], root=root, transform=None, progress=False)
    expected = raw[0] if spec.eval_transform() is None else spec.eval_transform()(dict(raw[0]))
    assert torch.equal(plain[0]["points"], expected["points"])
    if expected.get("feats") is not None:
        assert torch.allclose(plain[0]["feats"], expected["feats"] * scale)


def test_damaged_cache_is_said_and_regenerated(made, tmp_path):
    spec, _ = made
    folder = spec.make(options=TINY[spec.name], root=tmp_path, progress=False)
    victim = folder / spec.split_files("train", spec.resolve_options("teaching", TINY[spec.name]))[0]
    data = victim.read_bytes()
    victim.write_bytes(data[: len(data) // 2])  # truncated in place
    with pytest.warns(UserWarning, match="damaged"):
        ds = spec.load("train", options=TINY[spec.name], root=tmp_path, transform=None, progress=False)
    assert len(ds) >= 1 and victim.stat().st_size == len(data)


def test_gallery_renders(made):
    spec, root = made
    fig = spec.gallery(root=root, dataset=spec.load("train", options=TINY[spec.name], root=root, transform=None,
                                                   progress=False))
    assert len(fig.axes) >= 2
    plt.close(fig)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_real_fixture_checks_clean_and_loads_every_split(spec, tmp_path):
    pkg = spec.__class__.__module__.split(".")[2]
    root = importlib.import_module(f"fixtures_{pkg}").write_real(tmp_path)
    assert spec.check(root) == [] and spec.check(root, deep=True) == []
    for split in spec.splits:
        ds = spec.load_real(root, split, transform=None)
        assert len(ds) >= 1
        s = ds[0]
        assert s["points"].shape[1] == 3 and (spec.in_channels == 3 or s["feats"].shape[1] == spec.in_channels)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        spec.load_real(tmp_path / "nowhere", spec.eval_split)
    assert spec.check(tmp_path / "nowhere") == [f"{tmp_path / 'nowhere'} does not exist"]


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_copy_axis_meaning_is_spelled_out(spec):
    up = spec.describe_copy_axis("up")
    assert "top-down" in up and f"copy along {spec.up_axis}" in up
    side = next(a for a in "xyz" if a != spec.up_axis)
    assert "side" in spec.describe_copy_axis(side)
    authors = spec.describe_copy_axis("authors")
    assert "authors' layout: copy along y" in authors
    assert ("top-down" in authors) == (spec.up_axis == "y")  # the authors' default is top-down only on y-up data
    with pytest.raises(ValueError, match="unknown axis 'w'"):
        spec.describe_copy_axis("w")
