"""SemanticKITTI tables, the official-format reader and the SynthKITTI generator."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from i2p.data import kitti as K
from i2p.data.collate import collate_clouds

TINY = {"sequences": [0, 8], "sweeps": 1, "azimuths": 256}
ROAD, CAR = K.CLASSES.index("road"), K.CLASSES.index("car")


# ------------------------------------------------------------------ tables

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


def test_map_labels_rejects_unknown_ids():
    with pytest.raises(ValueError, match=r"7, 300"):
        K.map_labels(np.array([10, 7, 40, 300, 7]))
    with pytest.raises(ValueError, match="-3"):
        K.map_labels(np.array([-3]))
    with pytest.raises(ValueError, match="70000"):
        K.map_labels(np.array([70000]))


# ------------------------------------------------------------------ SynthKITTI

@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("kitti")
    K.make_synthetic("tiny", root, seed=0, progress=False, params=TINY)
    return root


def test_determinism_per_seed():
    p = K._profile_params("tiny", 0, {"sequences": [3], "sweeps": 2, "azimuths": 128})
    a, b = K.synth_sweeps(3, p, seed=0), K.synth_sweeps(3, p, seed=0)
    c = K.synth_sweeps(3, p, seed=1)
    assert len(a) == 2
    for x, y in zip(a, b):
        for k in ("points", "feats", "label", "raw"):
            np.testing.assert_array_equal(x[k], y[k])
    assert not all(len(x["points"]) == len(z["points"]) and np.array_equal(x["points"], z["points"]) for x, z in zip(a, c))
    # the car drives on: the second sweep is not the first
    assert len(a[0]["points"]) != len(a[1]["points"]) or not np.array_equal(a[0]["points"], a[1]["points"])


def test_stored_sweeps_match_generator(tiny_root):
    ds = K.load_synthetic("val", "tiny", tiny_root, params=TINY, progress=False)
    fresh = K.synth_sweeps(8, K._profile_params("tiny", 0, TINY), seed=0)
    assert len(ds) == 1 and ds[0]["name"] == "seq_08/000000"
    np.testing.assert_array_equal(ds[0]["points"].numpy(), fresh[0]["points"])
    np.testing.assert_array_equal(ds[0]["label"].numpy(), fresh[0]["label"])


def test_sample_format_and_rings(tiny_root):
    ds = K.load_synthetic("train", "tiny", tiny_root, params=TINY, progress=False)
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


def test_half_written_cache_is_regenerated(tmp_path):
    params = {"sequences": [8], "sweeps": 1, "azimuths": 128}
    folder = K.make_synthetic("tiny", tmp_path, progress=False, params=params)
    good = (folder / "seq_08.npz").read_bytes()
    (folder / "DONE").unlink()  # as if the build had been interrupted
    (folder / "seq_08.npz").write_bytes(good[: len(good) // 3])
    again = K.make_synthetic("tiny", tmp_path, progress=False, params=params)
    assert again == folder and (again / "DONE").is_file()
    assert (again / "seq_08.npz").read_bytes() == good
    assert len(K.load_synthetic("val", "tiny", tmp_path, params=params)[0]["points"]) > 1000
    with pytest.raises(ValueError, match="no train sequences"):
        K.load_synthetic("train", "tiny", tmp_path, params=params)


def test_transform_and_collate(tiny_root):
    torch.manual_seed(0)
    ds = K.load_synthetic("train", "tiny", tiny_root, transform=K.train_transform(), params=TINY, progress=False)
    s = ds[0]
    assert torch.equal(s["feats"][:, :3], s["points"])
    assert not torch.equal(s["points"], ds.samples[0]["points"])
    b = collate_clouds([s], voxel_size=0.05)
    assert b.x.feats.shape[1] == 4 and b.labels.shape == (len(s["points"]),)
    assert (b.labels == K.IGNORE_INDEX).sum() == (s["label"] == K.IGNORE_INDEX).sum()


def test_gallery(tiny_root):
    import matplotlib

    matplotlib.use("Agg")
    fig = K.gallery(sweeps=1, profile="tiny", root=tiny_root, params=TINY)
    assert len(fig.axes) == 4
    import matplotlib.pyplot as plt

    plt.close(fig)


# ------------------------------------------------------------------ real format

def _write_scan(root: Path, seq: str, stem: str, n: int, rng, sem=None, inst=None) -> tuple[Path, Path, np.ndarray, np.ndarray]:
    vel, lab = root / "sequences" / seq / "velodyne", root / "sequences" / seq / "labels"
    vel.mkdir(parents=True, exist_ok=True)
    lab.mkdir(parents=True, exist_ok=True)
    scan = rng.normal(0, 10, (n, 4)).astype(np.float32)
    scan[:, 3] = rng.random(n)
    if sem is None:
        sem = rng.choice(list(K.LEARNING_MAP), n).astype(np.uint32)
    inst = rng.integers(0, 500, n).astype(np.uint32) if inst is None else inst
    b, lp = vel / f"{stem}.bin", lab / f"{stem}.label"
    scan.tofile(b)
    ((inst << 16) | sem).astype(np.uint32).tofile(lp)
    return b, lp, scan, sem


@pytest.fixture
def real_root(tmp_path):
    rng = np.random.default_rng(0)
    files = [_write_scan(tmp_path, "00", f"{i:06d}", 100 + 7 * i, rng) for i in range(3)]
    files.append(_write_scan(tmp_path, "08", "000000", 50, rng))
    return tmp_path, files


def test_real_format_roundtrip(real_root):
    root, files = real_root
    b, lp, scan, sem = files[1]
    np.testing.assert_array_equal(K.read_scan(b), scan)
    np.testing.assert_array_equal(K.read_labels(lp, len(scan)), sem.astype(np.int64))  # instance bits stripped
    ds = K.load_real(root, [0])
    assert len(ds) == 3 and ds.classes == list(K.CLASSES)
    s = ds[1]
    assert s["name"] == "seq_00/000001"
    np.testing.assert_array_equal(s["feats"].numpy(), scan)
    np.testing.assert_array_equal(s["points"].numpy(), scan[:, :3])
    np.testing.assert_array_equal(s["label"].numpy(), K.map_labels(sem))
    assert len(K.load_real(root / "sequences", ["08"])) == 1  # root may be the sequences folder
    assert len(K.load_real(root, [0, 8], max_scans=2)) == 3
    assert len(ds.subset([0, 2])) == 2
    collate_clouds([ds[0], ds[2]], 0.5)


def test_real_truncated_bin_names_the_file(real_root):
    root, files = real_root
    b = files[0][0]
    b.write_bytes(b.read_bytes()[:-6])
    with pytest.raises(ValueError, match=r"000000\.bin.*multiple of 16"):
        K.read_scan(b)
    with pytest.raises(ValueError, match=r"000000\.bin"):
        K.load_real(root, [0])


def test_real_label_length_mismatch_names_both_files(real_root):
    root, files = real_root
    b, lp, scan, _ = files[2]
    lp.write_bytes(lp.read_bytes()[:-8])
    n = len(scan)
    with pytest.raises(ValueError, match=rf"000002\.label has {n - 2} labels but .*000002\.bin has {n} points"):
        K.load_real(root, [0])
    with pytest.raises(ValueError, match=rf"000002\.label has {n - 2} labels but .*000002\.bin has {n} points"):
        K.read_labels(lp, n, b)


def test_real_bad_contents(real_root):
    root, files = real_root
    rng = np.random.default_rng(1)
    sem = np.full(20, 40, np.uint32)
    sem[3] = 77
    _write_scan(root, "01", "000000", 20, rng, sem=sem)
    with pytest.raises(ValueError, match=r"000000\.label.*77"):
        K.load_real(root, [1])[0]
    b, _, scan, _ = files[0]
    scan[5, 1] = np.nan
    scan.tofile(b)
    with pytest.raises(ValueError, match=r"000000\.bin: 1 points have NaN"):
        K.load_real(root, [0])[0]


def test_check_real(real_root, tmp_path_factory):
    root, files = real_root
    assert K.check_real(root, [0, 8]) == []
    assert K.check_real(root, [0, 8], deep=True) == []
    missing = K.check_real(root)  # 00-10 expected
    assert sum("folder" in m and "missing" in m for m in missing) == 9
    assert K.check_real(tmp_path_factory.mktemp("empty"))[0].endswith("(expected <root>/sequences/NN/velodyne, labels)")
    files[0][1].unlink()  # a scan without labels
    b2 = files[1][0]
    b2.write_bytes(b2.read_bytes()[:-4])  # truncated scan
    lp3 = files[2][1]
    lp3.write_bytes(lp3.read_bytes() + b"\0" * 8)  # two labels too many
    (root / "sequences" / "08" / "velodyne").rename(root / "sequences" / "08" / "velo")
    probs = "\n".join(K.check_real(root, [0, 8]))
    assert "3 scans but 2 label files" in probs
    assert "000000.bin has no label file" in probs
    assert "000001.bin: truncated" in probs
    assert f"000002.label has {len(files[2][2]) + 2} labels" in probs
    assert "sequence 08" in probs and "velodyne missing" in probs
