"""SynthModelNet generator, real ModelNet40 loaders (h5 and OFF) and their checks."""
from __future__ import annotations

import os
from pathlib import Path

import h5py
import numpy as np
import pytest
import torch

from i2p.data import modelnet as M

TINY = {"name": "tiny", "classes": ["chair", "cup", "table"], "train": 3, "test": 2, "points": 2048}


def _cloud(ds):
    return np.stack([np.asarray(s["points"]) for s in ds.samples])


# ----------------------------------------------------------------------------- class list / profiles
def test_classes_and_profiles():
    assert len(M.CLASSES) == 40 and len(set(M.CLASSES)) == 40
    assert M.CLASSES[:3] == ("airplane", "bathtub", "bed") and M.CLASSES[-2:] == ("wardrobe", "xbox")
    assert list(M.CLASSES) == sorted(M.CLASSES)  # the official order is alphabetical
    t = M.PROFILES["teaching"]
    assert len(t["classes"]) == 10 and set(t["classes"]) <= set(M.CLASSES)
    assert t["classes"] == [c for c in M.CLASSES if c in t["classes"]]  # official order kept
    assert {"table", "desk", "chair", "stool", "cup", "vase", "bottle"} <= set(t["classes"])
    assert M.PROFILES["full"]["classes"] == list(M.CLASSES)
    assert (t["train"], t["test"]) == (40, 10) and (M.PROFILES["full"]["train"], M.PROFILES["full"]["test"]) == (80, 20)


@pytest.mark.parametrize("cls", M.CLASSES)
def test_every_recipe_samples_a_normalised_cloud(cls):
    p = M.synth_shape(cls, seed=0, split="train", index=1)
    assert p.shape == (2048, 3) and p.dtype == np.float32 and np.isfinite(p).all()
    assert np.linalg.norm(p, axis=1).max() == pytest.approx(1.0, abs=1e-5)
    assert np.abs(p.mean(0)).max() < 1e-5
    v, f = M.synth_mesh(cls, index=1)
    assert len(f) >= 12 and f.max() < len(v) and v[:, 2].min() == 0  # stands on z = 0
    # instances vary in proportions (normalised bounding-box extents), and with the seed
    ext = [np.ptp(M.synth_mesh(cls, index=i, max_rot_deg=0)[0], axis=0) for i in range(4)]
    ext = np.stack([e / e.max() for e in ext])
    assert ext.std(0).max() > 0.01
    v1, _ = M.synth_mesh(cls, seed=1, index=1)
    assert v1.shape != v.shape or not np.allclose(v1, v)


def test_small_random_rotation_about_z():
    angles = []
    for i in range(12):  # the same instance with and without its rotation: recover the angle
        v0, v = M.synth_mesh("bed", index=i, max_rot_deg=0)[0], M.synth_mesh("bed", index=i)[0]
        rot, *_ = np.linalg.lstsq(v0[:, :2] - v0[:, :2].mean(0), v[:, :2] - v[:, :2].mean(0), rcond=None)
        assert np.allclose(rot.T @ rot, np.eye(2), atol=1e-6) and np.allclose(v[:, 2], v0[:, 2])
        angles.append(np.degrees(np.arctan2(rot[0, 1], rot[0, 0])))
    angles = np.array(angles)
    assert np.abs(angles).max() <= 15 and angles.std() > 3  # rotated about z, but only a little


# ----------------------------------------------------------------------------- generated sets
def test_synthetic_deterministic_and_seed_dependent(tmp_path):
    a = M.load_synthetic("train", TINY, root=tmp_path / "a", seed=0, progress=False)
    b = M.load_synthetic("train", TINY, root=tmp_path / "b", seed=0, progress=False)
    c = M.load_synthetic("train", TINY, root=tmp_path / "a", seed=1, progress=False)
    assert np.array_equal(_cloud(a), _cloud(b))
    assert a.labels() == b.labels()
    assert not np.allclose(_cloud(a), _cloud(c))
    # a shape does not depend on which other classes are generated
    solo = M.load_synthetic("train", {**TINY, "name": "solo", "classes": ["cup"]}, root=tmp_path / "a", progress=False)
    assert np.array_equal(_cloud(solo), _cloud(a)[np.array(a.labels()) == 1])


def test_synthetic_content(tmp_path):
    folder = M.make_synthetic(TINY, root=tmp_path, progress=False)
    assert folder.parent == tmp_path and folder.name.startswith("synth_modelnet-tiny-")
    assert (folder / "DONE").is_file() and (folder / "train.npz").is_file() and (folder / "test.npz").is_file()
    for split, n in (("train", 3), ("test", 2)):
        ds = M.load_synthetic(split, TINY, root=tmp_path, progress=False)
        assert ds.classes == TINY["classes"] and len(ds) == 3 * n
        assert sorted(set(ds.labels())) == [0, 1, 2] and all(ds.labels().count(y) == n for y in range(3))
        pts = _cloud(ds)
        assert pts.shape == (3 * n, 2048, 3) and ds[0]["points"].dtype == torch.float32
        assert np.allclose(np.linalg.norm(pts, axis=2).max(1), 1.0, atol=1e-5)
        assert [s["name"] for s in ds.samples][:n] == [f"chair_{i}" for i in range(n)]
    train, test = (_cloud(M.load_synthetic(s, TINY, root=tmp_path, progress=False)) for s in ("train", "test"))
    assert not np.allclose(train[0], test[0])  # the splits are different shapes


def test_synthetic_works_with_transform_and_collate(tmp_path):
    from i2p.data.collate import collate_clouds
    from i2p.data.transforms import modelnet_train_transform

    torch.manual_seed(0)
    ds = M.load_synthetic("train", TINY, root=tmp_path, transform=modelnet_train_transform(), progress=False)
    s = ds[0]
    assert not torch.equal(s["points"], ds.samples[0]["points"])  # augmented copy, stored sample untouched
    batch = collate_clouds([ds[0], ds[4]], voxel_size=0.05)
    assert batch.labels.tolist() == [ds.samples[0]["label"], ds.samples[4]["label"]]


def test_half_written_cache_is_regenerated(tmp_path):
    folder = M.make_synthetic(TINY, root=tmp_path, progress=False)
    ref = _cloud(M.load_synthetic("test", TINY, root=tmp_path, progress=False))
    (folder / "DONE").unlink()  # as if the build died before finishing
    (folder / "test.npz").write_bytes(b"garbage")
    stale = tmp_path / f".{folder.name}.tmp99999"  # a dead run's temp folder is ignored
    stale.mkdir()
    again = M.make_synthetic(TINY, root=tmp_path, progress=False)
    assert again == folder and (folder / "DONE").is_file()
    assert np.array_equal(_cloud(M.load_synthetic("test", TINY, root=tmp_path, progress=False)), ref)


def test_corrupt_cache_raises_clear_error(tmp_path):
    folder = M.make_synthetic(TINY, root=tmp_path, progress=False)
    data = (folder / "train.npz").read_bytes()
    (folder / "train.npz").write_bytes(data[: len(data) // 3])
    with pytest.raises(ValueError) as e:
        M.load_synthetic("train", TINY, root=tmp_path, progress=False)
    msg = str(e.value)
    assert "train.npz" in msg and "corrupt" in msg and str(folder) in msg and "make_synthetic" in msg


@pytest.mark.parametrize("bad", ["nope", {"classes": ["chair", "sofa_bed"], "train": 1, "test": 1},
                                 {"classes": ["chair"], "train": 0, "test": 1}, {"classes": [], "train": 1, "test": 1}])
def test_bad_profile_rejected(tmp_path, bad):
    with pytest.raises(ValueError):
        M.make_synthetic(bad, root=tmp_path, progress=False)


def test_teaching_profile_separable_but_not_trivially(tmp_path):
    """Nearest-centroid on 6 global descriptors (sorted covariance eigenvalues, bounding-box
    extents): far above chance (0.10), below perfect. Seen: 0.79 (1-NN: 0.81;
    on the full profile 0.52 and 0.755, chance 0.025)."""
    def desc(p):
        p = np.asarray(p, dtype=np.float64)
        return np.concatenate([np.sort(np.linalg.eigvalsh(np.cov(p.T)))[::-1], np.ptp(p, axis=0)])

    tr = M.load_synthetic("train", "teaching", root=tmp_path, progress=False)
    te = M.load_synthetic("test", "teaching", root=tmp_path, progress=False)
    assert len(tr) == 400 and len(te) == 100
    xtr = np.stack([desc(s["points"]) for s in tr.samples])
    xte = np.stack([desc(s["points"]) for s in te.samples])
    mu, sd = xtr.mean(0), xtr.std(0) + 1e-9
    xtr, xte = (xtr - mu) / sd, (xte - mu) / sd
    ytr, yte = np.array(tr.labels()), np.array(te.labels())
    cent = np.stack([xtr[ytr == c].mean(0) for c in range(10)])
    acc = float((((xte[:, None] - cent[None]) ** 2).sum(-1).argmin(1) == yte).mean())
    assert 0.4 < acc < 0.98, acc


def test_gallery(tmp_path):
    fig = M.gallery(samples_per_class=2, profile=TINY, root=tmp_path)
    axes = fig.get_axes()
    assert len(axes) == 6 and all(ax.name == "3d" for ax in axes)
    assert [ax.get_title().split()[0] for ax in axes][::2] == TINY["classes"]
    fig.savefig(tmp_path / "g.png")
    assert (tmp_path / "g.png").stat().st_size > 10_000


# ----------------------------------------------------------------------------- real data: h5
def _write_h5(path: Path, data, label, extra: dict | None = None, label_key="label", data_key="data"):
    with h5py.File(path, "w") as f:  # the PointNet release layout
        f.create_dataset(data_key, data=np.asarray(data, dtype=np.float32))
        f.create_dataset(label_key, data=np.asarray(label, dtype=np.uint8).reshape(-1, 1))
        f.create_dataset("normal", data=np.zeros_like(np.asarray(data, dtype=np.float32)))
        for k, v in (extra or {}).items():
            f.create_dataset(k, data=v)


@pytest.fixture
def h5_root(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "modelnet40_ply_hdf5_2048"
    d.mkdir()
    content = {}
    for split, sizes in (("train", (3, 2)), ("test", (2, 2))):
        for k, b in enumerate(sizes):
            data = rng.uniform(-1, 1, (b, 2048, 3)).astype(np.float32)
            label = rng.integers(0, 40, b)
            _write_h5(d / f"ply_data_{split}{k}.h5", data, label)
            content[(split, k)] = (data, label)
    (d / "shape_names.txt").write_text("\n".join(M.CLASSES) + "\n")
    (d / "train_files.txt").write_text("data/modelnet40_ply_hdf5_2048/ply_data_train0.h5\n")
    return tmp_path, content


def test_load_h5_reads_official_layout(h5_root):
    root, content = h5_root
    for split, n_files in (("train", 2), ("test", 2)):
        for r in (root, root / "modelnet40_ply_hdf5_2048"):  # parent or the folder itself
            ds = M.load_h5(r, split)
            want = np.concatenate([content[(split, k)][0] for k in range(n_files)])
            labels = np.concatenate([content[(split, k)][1] for k in range(n_files)])
            assert np.array_equal(_cloud(ds), want)
            assert ds.labels() == labels.tolist() and ds.classes == list(M.CLASSES)
            assert ds[0]["points"].dtype == torch.float32
    assert M.check_real(root) == []


def test_load_h5_orders_files_numerically_and_reads_shape_names(tmp_path):
    for k in (10, 2):  # lexicographic order would put 10 first
        _write_h5(tmp_path / f"ply_data_train{k}.h5", np.full((1, 4, 3), k, np.float32), [k % 3])
    (tmp_path / "shape_names.txt").write_text("a\nb\nc\n")
    ds = M.load_h5(tmp_path, "train")
    assert [float(s["points"][0, 0]) for s in ds.samples] == [2.0, 10.0]
    assert ds.classes == ["a", "b", "c"] and ds.labels() == [2, 1]


def test_h5_truncated_file_raises_naming_it(h5_root):
    root, _ = h5_root
    f = root / "modelnet40_ply_hdf5_2048" / "ply_data_train1.h5"
    raw = f.read_bytes()
    f.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(ValueError, match=r"ply_data_train1\.h5.*(truncated|corrupt)"):
        M.load_h5(root, "train")
    problems = M.check_real(root)
    assert len(problems) == 1 and "ply_data_train1.h5" in problems[0]
    M.load_h5(root, "test")  # the other split is unaffected


def test_h5_bad_labels_and_nan(tmp_path):
    _write_h5(tmp_path / "ply_data_train0.h5", np.zeros((2, 8, 3)), [3, 40])
    with pytest.raises(ValueError, match=r"ply_data_train0\.h5.*outside 0\.\.39"):
        M.load_h5(tmp_path, "train")
    data = np.zeros((2, 8, 3), np.float32)
    data[1, 3, 2] = np.nan
    _write_h5(tmp_path / "ply_data_test0.h5", data, [3, 4])
    with pytest.raises(ValueError, match=r"ply_data_test0\.h5.*NaN"):
        M.load_h5(tmp_path, "test")


def test_h5_missing_files_raise(tmp_path):
    with pytest.raises(FileNotFoundError, match="modelnet40_ply_hdf5_2048"):
        M.load_h5(tmp_path, "train")
    _write_h5(tmp_path / "ply_data_train0.h5", np.zeros((1, 8, 3)), [0])
    with pytest.raises(FileNotFoundError, match="ply_data_test"):
        M.load_h5(tmp_path, "test")


def test_check_real_reports_h5_problems(h5_root):
    root, _ = h5_root
    d = root / "modelnet40_ply_hdf5_2048"
    (d / "ply_data_test1.h5").unlink()
    (d / "ply_data_test0.h5").unlink()
    _write_h5(d / "ply_data_train0.h5", np.zeros((2, 8, 3)), [1, 2], data_key="points")
    _write_h5(d / "ply_data_train1.h5", np.zeros((2, 8, 3)), [1, 45])
    _write_h5(d / "ply_data_train3.h5", np.zeros((2, 8, 3)), [1, 2])
    problems = "\n".join(M.check_real(root))
    assert "ply_data_test" in problems and "missing" in problems  # no test files
    assert "ply_data_train0.h5" in problems and "'data'" in problems  # wrong key
    assert "ply_data_train1.h5" in problems and "outside 0..39" in problems  # label out of range
    assert "ply_data_train2.h5" in problems  # gap in the numbering
    assert len(M.check_real(root)) == 4
    assert M.check_real(root / "nowhere") and "no ModelNet40 data" in M.check_real(root.parent)[0]


# ----------------------------------------------------------------------------- real data: OFF
CUBE_FUSED_QUADS = """OFF8 6 0
-1 -1 -1
1 -1 -1
1 1 -1
-1 1 -1
-1 -1 1
1 -1 1
1 1 1
-1 1 1
4 0 3 2 1
4 4 5 6 7
4 0 1 5 4
4 1 2 6 5
4 2 3 7 6
4 3 0 4 7
"""

PYRAMID_STANDARD = """OFF
# a square pyramid, comments and blank lines

5 5 0
0 0 0
2 0 0
2 2 0

0 2 0
1 1 3
4 0 1 2 3 255 0 0
3 0 1 4
3 1 2 4
3 2 3 4
3 3 0 4
"""


def test_read_off_fused_header_quads_and_comments(tmp_path):
    (tmp_path / "cube.off").write_text(CUBE_FUSED_QUADS)
    (tmp_path / "pyr.off").write_text(PYRAMID_STANDARD)
    v, f = M.read_off(tmp_path / "cube.off")
    assert v.shape == (8, 3) and f.shape == (12, 3)  # six quads fan-triangulated
    v, f = M.read_off(tmp_path / "pyr.off")
    assert v.shape == (5, 3) and f.shape == (6, 3)
    assert f[:2].tolist() == [[0, 1, 2], [0, 2, 3]]  # the colour after the quad is ignored


def test_sampled_points_lie_on_mesh_surface(tmp_path):
    (tmp_path / "cube.off").write_text(CUBE_FUSED_QUADS)
    v, f = M.read_off(tmp_path / "cube.off")
    p = M.sample_surface(v, f, 4000, np.random.default_rng(0))
    assert np.allclose(np.abs(p).max(1), 1.0)  # on a face of the cube
    assert np.all(np.abs(p) <= 1 + 1e-12)
    faces_hit = {(ax, s) for ax in range(3) for s in (-1, 1) if np.any(np.isclose(p[:, ax], s))}
    assert len(faces_hit) == 6
    counts = [np.isclose(p[:, ax], s).sum() for ax, s in faces_hit]  # uniform by area: ~4000/6 each
    assert min(counts) > 500 and max(counts) < 850
    q = M.sample_surface(v, f, 4000, np.random.default_rng(0))
    assert np.array_equal(p, q)
    # unequal triangles: the pyramid's base (2 triangles, area 4) vs 4 sides (area sqrt(10) each)
    (tmp_path / "pyr.off").write_text(PYRAMID_STANDARD)
    v, f = M.read_off(tmp_path / "pyr.off")
    p = M.sample_surface(v, f, 4000, np.random.default_rng(1))
    base = np.isclose(p[:, 2], 0).mean()
    assert base == pytest.approx(4 / (4 + 4 * np.sqrt(10)), abs=0.03)  # by area, not by triangle (1/3)
    n = np.array([0, -3, 1]) / np.sqrt(10)  # the side face through vertices 0, 1, 4
    side = p[np.isclose(p @ n, 0)]
    assert len(side) > 600 and np.all(side[:, 2] <= 3 * (1 - np.abs(side[:, 0] - 1)) + 1e-9)  # inside the triangle


def _off_tree(root: Path, classes=M.CLASSES):
    for i, c in enumerate(classes):
        for split in ("train", "test"):
            d = root / "ModelNet40" / c / split
            d.mkdir(parents=True)
            text = CUBE_FUSED_QUADS if i % 2 == 0 else PYRAMID_STANDARD
            (d / f"{c}_{1 if split == 'train' else 2:04d}.off").write_text(text)
    return root


def test_load_off_full_tree(tmp_path):
    root = _off_tree(tmp_path)
    assert M.check_real(root) == [] and M.check_real(root, full=True) == []
    ds = M.load_off(root, "train", num_points=512, progress=False)
    assert len(ds) == 40 and ds.classes == list(M.CLASSES) and ds.labels() == list(range(40))
    p = np.asarray(ds[0]["points"])  # airplane = the cube, normalised
    assert p.shape == (512, 3) and np.linalg.norm(p, axis=1).max() == pytest.approx(1.0, abs=1e-5)
    lo, hi = p.min(0), p.max(0)  # every point lies on one face of the (shifted, scaled) cube
    on_face = np.isclose(p, lo, atol=1e-5) | np.isclose(p, hi, atol=1e-5)
    assert on_face.any(1).all()
    again = M.load_off(root / "ModelNet40", "train", num_points=512, progress=False)
    assert np.array_equal(_cloud(ds), _cloud(again))
    other = M.load_off(root, "train", num_points=512, seed=1, progress=False)
    assert not np.allclose(_cloud(ds), _cloud(other))
    cached = M.load_off(root, "train", num_points=512, progress=False, cache=True, cache_root=tmp_path / "c")
    assert np.array_equal(_cloud(cached), _cloud(ds)) and list((tmp_path / "c").iterdir())
    os.rename(root / "ModelNet40", root / "extracted")  # class folders directly under any root
    assert np.array_equal(_cloud(M.load_off(root / "extracted", "train", num_points=512, progress=False)), _cloud(ds))


def test_off_bad_files(tmp_path):
    root = _off_tree(tmp_path, ["airplane", "bathtub"])
    d = root / "ModelNet40" / "airplane" / "train"
    (d / "airplane_0003.off").write_text(CUBE_FUSED_QUADS[: len(CUBE_FUSED_QUADS) // 2])  # truncated
    with pytest.warns(UserWarning, match="not ModelNet40's 40"), \
            pytest.raises(ValueError, match=r"airplane_0003\.off.*truncated"):
        M.load_off(root, "train", progress=False)
    (d / "airplane_0003.off").write_text(CUBE_FUSED_QUADS.replace("1 1 1\n", "1 nan 1\n"))
    with pytest.raises(ValueError, match=r"airplane_0003\.off.*NaN"):
        M.read_off(d / "airplane_0003.off")
    (d / "airplane_0003.off").write_text("OFF\n0 0 0\n")
    with pytest.raises(ValueError, match=r"airplane_0003\.off.*empty mesh"):
        M.read_off(d / "airplane_0003.off")
    (d / "airplane_0003.off").write_text("OFF\n3 1 0\n0 0 0\n1 0 0\n0 1 0\n3 0 1 7\n")
    with pytest.raises(ValueError, match="out of range"):
        M.read_off(d / "airplane_0003.off")


def test_check_real_reports_off_problems(tmp_path):
    root = _off_tree(tmp_path)
    base = root / "ModelNet40"
    for p in (base / "cup" / "test").iterdir():
        p.unlink()  # empty class folder
    (base / "bed" / "train" / "bed_0001.off").write_text("PLY\n1 2 3\n")  # not an OFF file
    (base / "bowl" / "train" / "bowl_0001.off").write_text(CUBE_FUSED_QUADS[:120])  # truncated
    os.rename(base / "xbox", tmp_path / "xbox_elsewhere")
    quick = M.check_real(root)
    text = "\n".join(quick)
    assert "cup/test" in text and "empty" in text
    assert "bed_0001.off" in text and "not an OFF file" in text
    assert "missing class folder xbox" in text
    assert "bowl_0001.off" not in text  # the quick check reads headers only...
    full = "\n".join(M.check_real(root, full=True))
    assert "bowl_0001.off" in full and "truncated" in full  # ...the full one parses every mesh
