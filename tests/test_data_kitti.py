"""SemanticKITTI: label tables, the official-format reader and check, and the SynthKITTI generator."""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import torch

from fixtures_kitti import write_real, write_scan
from i2p.data import kitti as K
from i2p.data.collate import collate_clouds
from i2p.data.registry import get as get_dataset
from i2p.data.kitti import SPEC
from i2p.data.transforms import Compose, ScaleFeatures

TINY = {"sequences": [0, 8], "sweeps": 1, "val_sweeps": 2, "azimuths": 256}
ROAD, CAR = K.CLASSES.index("road"), K.CLASSES.index("car")


# ------------------------------------------------------------------ tables and spec

def test_learning_map_spot_checks():
    raw = np.array([10, 252, 60, 40, 0, 1, 52, 99, 13, 258, 81, 254])
    want = [0, 0, 8, 8, -100, -100, -100, -100, 4, 3, 18, 5]
    assert K.map_labels(raw).tolist() == want
    assert K.map_labels(raw).dtype == np.int64
    assert len(K.CLASSES) == 19 and K.CLASSES[0] == "car" and K.CLASSES[-1] == "traffic-sign"
    assert K.CLASSES[8] == "road" and K.CLASSES[14] == "vegetation"
    assert set(K.LEARNING_MAP) == set(K.RAW_LABELS) == set(K.COLOR_MAP)
    for learn, raw_id in K.LEARNING_MAP_INV.items():
        assert K.LEARNING_MAP[raw_id] == learn
    # every moving-* class folds onto a static class with the same train id
    assert all(K.LEARNING_MAP[r] > 0 for r in range(252, 260))
    assert K.class_colors().shape == (19, 3)


def test_map_labels_rejects_unknown_ids():
    with pytest.raises(ValueError, match=r"7, 300"):
        K.map_labels(np.array([10, 7, 40, 300, 7]))
    with pytest.raises(ValueError, match="-3"):
        K.map_labels(np.array([-3]))
    with pytest.raises(ValueError, match="70000"):
        K.map_labels(np.array([70000]))


def test_spec_description():
    assert SPEC.name == "semantickitti" and "kitti" in SPEC.aliases
    assert SPEC.task == "seg" and SPEC.classes == K.CLASSES and SPEC.num_classes == 19
    assert SPEC.in_channels == 4 and SPEC.channels[3] == "intensity"
    assert SPEC.ignore_index == K.IGNORE_INDEX == -100
    assert set(SPEC.splits) == {"train", "val"} and SPEC.eval_split == "val"
    assert SPEC.up_axis == "z" and set(SPEC.axes) == {"x", "y", "z"}
    assert all(p.keys() == SPEC.profiles["teaching"].keys() for p in SPEC.profiles.values())
    assert isinstance(SPEC.train_transform(), Compose) and SPEC.eval_transform() is None


def test_bad_options_profiles_and_splits_name_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match=r"unknown SynthKITTI option.*'beams'.*valid options: azimuths, max_range"):
        SPEC.make(options={"beams": 32}, root=tmp_path)
    with pytest.raises(ValueError, match=r"unknown SynthKITTI profile 'tiny'; choose one of teaching, full"):
        SPEC.load("train", "tiny", root=tmp_path)
    with pytest.raises(ValueError, match=r"no split 'test'; it has train, val"):
        SPEC.load("test", options=TINY, root=tmp_path)
    with pytest.raises(ValueError, match=r"no split 'test'; it has train, val"):
        SPEC.load_real(tmp_path, "test")
    for bad, match in [({"sequences": [11]}, r"ids from 0..10.*got \[11\]"), ({"sequences": [3, 3]}, "distinct"),
                       ({"sequences": []}, "non-empty"), ({"sweeps": 0}, "sweeps must be an integer >= 1"),
                       ({"val_sweeps": 0}, "val_sweeps must be an integer >= 1"),
                       ({"azimuths": 2.5}, "azimuths"), ({"sweep_dt": 0}, "sweep_dt"),
                       ({"min_range": 90.0}, "min_range < max_range")]:
        with pytest.raises(ValueError, match=match):
            SPEC.resolve_options("teaching", bad)
    assert not any(tmp_path.iterdir())  # nothing was generated


# ------------------------------------------------------------------ SynthKITTI

@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kitti")
    SPEC.make(options=TINY, root=root, progress=False)
    return root


def test_determinism_per_seed():
    opts = SPEC.resolve_options("teaching", {"sequences": [3], "sweeps": 2, "azimuths": 128})
    a, b = K.synth_sweeps(3, opts, seed=0), K.synth_sweeps(3, opts, seed=0)
    c = K.synth_sweeps(3, opts, seed=1)
    assert len(a) == 2 and [s["name"] for s in a] == ["seq_03/000000", "seq_03/000001"]
    for x, y in zip(a, b):
        for k in ("points", "feats", "label", "raw"):
            np.testing.assert_array_equal(x[k], y[k])
        np.testing.assert_array_equal(x["label"], K.map_labels(x["raw"]))
    assert not all(len(x["points"]) == len(z["points"]) and np.array_equal(x["points"], z["points"]) for x, z in zip(a, c))
    # the car drives on: the second sweep is not the first
    assert len(a[0]["points"]) != len(a[1]["points"]) or not np.array_equal(a[0]["points"], a[1]["points"])


def test_stored_sweeps_match_generator(tiny_root):
    ds = SPEC.load("val", options=TINY, root=tiny_root, progress=False)
    # the validation sequence has its own sweep count (val_sweeps), training sequences "sweeps"
    fresh = K.synth_sweeps(8, {**SPEC.resolve_options("teaching", TINY), "sweeps": 2}, seed=0)
    assert [s["name"] for s in ds] == ["seq_08/000000", "seq_08/000001"]
    for stored, made in zip(ds, fresh):
        np.testing.assert_array_equal(stored["points"].numpy(), made["points"])
        np.testing.assert_array_equal(stored["label"].numpy(), made["label"])
        assert "raw" not in stored
    assert len(SPEC.load("train", options=TINY, root=tiny_root, progress=False)) == 1


def test_sample_format_and_rings(tiny_root):
    ds = SPEC.load("train", options=TINY, root=tiny_root, transform=None, progress=False)
    assert ds.classes == list(K.CLASSES) and len(ds) == 1
    s = ds[0]
    p, f, y = s["points"], s["feats"], s["label"]
    assert s["name"] == "seq_00/000000"
    assert p.dtype == f.dtype == torch.float32 and y.dtype == torch.int64
    assert p.shape[1] == 3 and f.shape == (len(p), 4) and y.shape == (len(p),)
    assert 5_000 < len(p) <= 64 * 256
    assert torch.equal(f[:, :3], p)
    assert 0 <= float(f[:, 3].min()) and float(f[:, 3].max()) <= 1 and float(f[:, 3].std()) > 0.02
    assert bool(((y >= 0) & (y < 19) | (y == K.IGNORE_INDEX)).all())
    present = set(y.tolist())
    assert {ROAD, CAR} <= present and len(present - {K.IGNORE_INDEX}) >= 8
    # ring structure: elevation angles sit on the 64 beam angles
    pn = p.double().numpy()
    el = np.degrees(np.arctan2(pn[:, 2], np.hypot(pn[:, 0], pn[:, 1])))
    dist = np.abs(el[:, None] - K.BEAM_ELEVATIONS_DEG[None]).min(1)
    assert dist.max() < 0.01
    rings = np.unique(np.abs(el[:, None] - K.BEAM_ELEVATIONS_DEG[None]).argmin(1))
    assert 40 <= len(rings) <= 64
    assert el.max() <= 2.0 + 1e-3 and el.min() >= -24.9 - 1e-3
    # sensor frame: the road lies 1.73 m below the sensor, ranges within 80 m
    assert abs(float(np.median(pn[y.numpy() == ROAD, 2])) + K.SENSOR_HEIGHT) < 0.05
    assert np.linalg.norm(pn, axis=1).max() < 80.5


def test_damaged_cache_is_detected_and_regenerated(tmp_path):
    options = {"sequences": [8], "sweeps": 1, "val_sweeps": 1, "azimuths": 128}
    folder = SPEC.make(options=options, root=tmp_path, progress=False)
    good = (folder / "seq_08.npz").read_bytes()
    with open(folder / "seq_08.npz", "r+b") as fh:  # truncated in place, DONE marker intact
        fh.truncate(len(good) // 2)
    with pytest.warns(UserWarning, match="damaged"):
        ds = SPEC.load("val", options=options, root=tmp_path, progress=False)
    assert len(ds[0]["points"]) > 1000
    assert (folder / "seq_08.npz").read_bytes() == good


def test_half_written_cache_is_regenerated(tmp_path):
    options = {"sequences": [8], "sweeps": 1, "val_sweeps": 1, "azimuths": 128}
    folder = SPEC.make(options=options, root=tmp_path, progress=False)
    good = (folder / "seq_08.npz").read_bytes()
    (folder / "DONE").unlink()  # as if the build had been interrupted
    (folder / "seq_08.npz").write_bytes(good[: len(good) // 3])
    again = SPEC.make(options=options, root=tmp_path, progress=False)
    assert again == folder and (again / "DONE").is_file()
    assert (again / "seq_08.npz").read_bytes() == good
    assert len(SPEC.load("val", options=options, root=tmp_path)[0]["points"]) > 1000
    with pytest.raises(ValueError, match="no 'train' data"):
        SPEC.load("train", options=options, root=tmp_path)


def test_default_transform_and_collate(tiny_root):
    torch.manual_seed(0)
    ds = SPEC.load("train", options=TINY, root=tiny_root, progress=False)  # default: the train augmentation
    s = ds[0]
    scale = torch.tensor(SPEC.feature_scale)
    assert torch.equal(s["feats"][:, :3], s["points"] * scale[:3])  # coordinates in the spec's input units
    assert torch.allclose(s["feats"][:, 3], ds.samples[0]["feats"][:, 3] * scale[3])
    assert not torch.equal(s["points"], ds.samples[0]["points"])
    b = collate_clouds([s], voxel_size=0.05)
    assert b.x.feats.shape[1] == 4 and b.labels.shape == (len(s["points"]),)
    assert (b.labels == K.IGNORE_INDEX).sum() == (s["label"] == K.IGNORE_INDEX).sum()
    val = SPEC.load("val", options=TINY, root=tiny_root, progress=False)  # default: raw sweeps, scaled features
    assert val[0]["points"] is val.samples[0]["points"]
    assert torch.allclose(val[0]["feats"], val.samples[0]["feats"] * scale)


def test_gallery(tiny_root, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds = SPEC.load("train", options=TINY, root=tiny_root, transform=None, progress=False)
    fig = SPEC.gallery(dataset=ds, samples=1)
    assert len(fig.axes) == 4
    plt.close(fig)
    fig = SPEC.gallery(dataset=SPEC.load_real(write_real(tmp_path), "val"), samples=2)  # real data draws too
    assert len(fig.axes) == 8
    plt.close(fig)


# ------------------------------------------------------------------ real format

@pytest.fixture
def real_root(tmp_path) -> Path:
    return write_real(tmp_path)


def _scan(root: Path, seq: int, stem: str) -> tuple[Path, Path]:
    d = root / "sequences" / f"{seq:02d}"
    return d / "velodyne" / f"{stem}.bin", d / "labels" / f"{stem}.label"


def test_fixture_is_a_valid_copy(real_root):
    assert SPEC.check(real_root) == [] and SPEC.check(real_root, deep=True) == []
    train, val = SPEC.load_real(real_root, "train", transform=None), SPEC.load_real(real_root, "val")
    assert len(train) == 12 and len(val) == 2 and val.classes == list(K.CLASSES)
    assert [s["name"] for s in val] == ["seq_08/000000", "seq_08/000001"]
    assert len({int(c) for s in train for c in s["label"] if c >= 0}) >= 2
    default = SPEC.load_real(real_root, "train").transform  # the train augmentation, then the feature scaling
    assert isinstance(default, ScaleFeatures) and isinstance(default.inner, Compose)


def test_real_format_roundtrip(real_root):
    b, lp, scan, sem = write_scan(real_root, 0, "000003", 57, np.random.default_rng(5))
    np.testing.assert_array_equal(K.read_scan(b), scan)
    np.testing.assert_array_equal(K.read_labels(lp, len(scan)), sem.astype(np.int64))  # instance bits stripped
    ds = SPEC.load_real(real_root, "train", transform=None)
    s = ds[3]
    assert s["name"] == "seq_00/000003"
    np.testing.assert_array_equal(s["feats"].numpy(), scan)
    np.testing.assert_array_equal(s["points"].numpy(), scan[:, :3])
    np.testing.assert_array_equal(s["label"].numpy(), K.map_labels(sem))
    assert len(SPEC.load_real(real_root / "sequences", "val")) == 2  # root may be the sequences folder
    os.rename(real_root, real_root.parent / "dataset")
    assert len(SPEC.load_real(real_root.parent, "val")) == 2  # or the folder holding dataset/sequences
    train = SPEC.load_real(real_root.parent, "train", max_scans=2)  # evenly spaced subset per sequence
    assert len(train) == 11 and [s["name"] for s in train][:2] == ["seq_00/000000", "seq_00/000003"]
    assert len(train.subset([0, 2])) == 2
    with pytest.raises(TypeError, match="per point"):
        train.labels()
    collate_clouds([train[0], train[2]], 0.5)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        SPEC.load_real(real_root.parent / "nowhere", "val")


def test_real_truncated_bin_names_the_file(real_root):
    b, _ = _scan(real_root, 0, "000000")
    b.write_bytes(b.read_bytes()[:-6])
    with pytest.raises(ValueError, match=r"000000\.bin.*multiple of 16"):
        K.read_scan(b)
    with pytest.raises(ValueError, match=r"000000\.bin"):
        SPEC.load_real(real_root, "train")


def test_real_label_length_mismatch_names_both_files(real_root):
    b, lp = _scan(real_root, 0, "000002")
    lp.write_bytes(lp.read_bytes()[:-8])
    n = b.stat().st_size // 16
    msg = rf"000002\.label has {n - 2} labels but .*000002\.bin has {n} points"
    with pytest.raises(ValueError, match=msg):
        SPEC.load_real(real_root, "train")
    with pytest.raises(ValueError, match=msg):
        K.read_labels(lp, n, b)


def test_real_missing_folders_and_labels(real_root):
    b, lp = _scan(real_root, 8, "000001")
    lp.unlink()
    with pytest.raises(FileNotFoundError, match=r"000001\.label missing for scan"):
        SPEC.load_real(real_root, "val")
    (real_root / "sequences" / "08" / "labels").rename(real_root / "sequences" / "08" / "lab")
    with pytest.raises(FileNotFoundError, match="labels exist for sequences 00-10 only"):
        SPEC.load_real(real_root, "val")
    (real_root / "sequences" / "03" / "velodyne").rename(real_root / "sequences" / "03" / "velo")
    with pytest.raises(FileNotFoundError, match=r"03.velodyne not found"):
        SPEC.load_real(real_root, "train")


def test_real_bad_contents(real_root):
    sem = np.full(20, 40, np.uint32)
    sem[3] = 77
    write_scan(real_root, 1, "000000", 20, np.random.default_rng(1), sem=sem)
    ds = SPEC.load_real(real_root, "train", transform=None)
    with pytest.raises(ValueError, match=r"01.labels.000000\.label.*77"):
        ds[3]
    b, _ = _scan(real_root, 0, "000000")
    scan = K.read_scan(b)
    scan[5, 1] = np.nan
    scan.tofile(b)
    with pytest.raises(ValueError, match=r"000000\.bin: 1 points have NaN"):
        ds[0]


def test_check_real(real_root, tmp_path_factory):
    assert "(expected <root>/sequences/NN/velodyne, labels); extract data_odometry_velodyne.zip" in SPEC.check(
        tmp_path_factory.mktemp("empty"))[0]
    assert SPEC.check(real_root / "nowhere") == [f"{real_root / 'nowhere'} does not exist"]
    import shutil

    shutil.rmtree(real_root / "sequences" / "05")
    _scan(real_root, 0, "000000")[1].unlink()  # a scan without labels
    b1, _ = _scan(real_root, 0, "000001")
    b1.write_bytes(b1.read_bytes()[:-4])  # truncated scan
    b2, lp2 = _scan(real_root, 0, "000002")
    lp2.write_bytes(lp2.read_bytes() + b"\0" * 8)  # two labels too many
    (real_root / "sequences" / "08" / "velodyne").rename(real_root / "sequences" / "08" / "velo")
    probs = "\n".join(SPEC.check(real_root))
    assert "sequence 05: folder" in probs and "missing" in probs
    assert "3 scans but 2 label files" in probs
    assert "000000.bin has no label file" in probs
    assert "000001.bin: truncated" in probs
    assert f"000002.label has {b2.stat().st_size // 16 + 2} labels" in probs
    assert "sequence 08" in probs and "velodyne missing" in probs


def test_deep_check_reads_contents(real_root):
    assert SPEC.check(real_root, deep=True) == []
    sem = np.full(25, 40, np.uint32)
    sem[[2, 9]] = [77, 300]
    write_scan(real_root, 4, "000000", 25, np.random.default_rng(2), sem=sem)  # ids not in the learning map
    b, _ = _scan(real_root, 6, "000000")
    scan = K.read_scan(b)
    scan[0, 2] = np.inf
    scan.tofile(b)
    _scan(real_root, 9, "000000")[1].unlink()  # a scan whose .label is missing
    assert SPEC.check(real_root) != []  # the missing label shows without deep too
    probs = SPEC.check(real_root, deep=True)
    text = "\n".join(probs)
    assert "04/labels/000000.label: raw label ids not in the SemanticKITTI learning map: 77, 300" in text
    assert "06/velodyne/000000.bin: 1 points have NaN/inf" in text
    assert "sequence 09: scan" in text and "000000.bin has no label file" in text
    assert len(SPEC.check(real_root)) == len(probs) - 2  # contents are only read when deep


def test_range_projection_fits_the_sensor(tiny_root):
    """One image column per azimuth step of the stand-in's sensor: as many points own a
    pixel as at twice the width, without the empty columns between azimuths that a wider
    image has; the real HDL-64E as RangeNet++ projects it."""
    from i2p.range_image import HDL64E_PROJECTION, SYNTH_FOV_DEG, RangeProjection

    s = SPEC.load("val", options=TINY, root=tiny_root, transform=None, progress=False)[0]
    fitted = SPEC.range_projection(SPEC.resolve_options("teaching", TINY))
    images = [p.project(s["points"], s["feats"][:, 3]).mask for p in (fitted, RangeProjection(width=2 * fitted.width))]
    owners = [int(m.sum()) for m in images]
    holes = [int((~m[:, 1:-1] & m[:, :-2] & m[:, 2:]).sum()) for m in images]  # empty between two filled
    assert fitted.width == TINY["azimuths"] and owners[0] == owners[1] and holes[0] < 0.1 * holes[1]

    opts = SPEC.resolve_options("teaching", {})
    p = SPEC.range_projection(opts)
    assert (p.height, p.width, p.fov_up_deg, p.fov_down_deg) == (64, opts["azimuths"], *SYNTH_FOV_DEG)
    assert SPEC.range_projection(None) == HDL64E_PROJECTION
    with pytest.raises(ValueError, match="no LiDAR sweeps"):
        get_dataset("s3dis").range_projection(None)
