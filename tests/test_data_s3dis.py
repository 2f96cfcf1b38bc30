"""S3DIS: the procedural SynthS3DIS generator and the real-format loader (tiny fixtures)."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from i2p.data import s3dis as S
from i2p.data.store import load_cloudset

# 6 areas x 1-2 small rooms of a few thousand points: generates in a second or two
TINY = {"rooms_per_area": [2, 1, 1, 1, 2, 1], "room_size": [4.0, 5.0], "points": [3000, 5000],
        "points_per_m2": 200.0, "scanners": [1, 1]}


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    S.make_synthetic("tiny", root=root, seed=0, progress=False, overrides=TINY)
    return root


def tiny(split: str, root: Path, **kw):
    return S.load_synthetic(split, "tiny", root=root, progress=False, overrides=TINY, **kw)


def test_class_table_is_the_standard_one():
    assert S.CLASSES[0] == "ceiling" and S.CLASSES[8] == "chair" and S.CLASSES[12] == "clutter"
    assert len(S.CLASSES) == 13 and S.AREAS == (1, 2, 3, 4, 5, 6) and S.TEST_AREA == 5


def test_samples_have_the_documented_layout(tiny_root):
    ds = tiny("all", tiny_root)
    assert len(ds) == sum(TINY["rooms_per_area"]) and ds.classes == list(S.CLASSES)
    for s in ds.samples:
        n = s["points"].shape[0]
        assert 3000 <= n <= 5000 + 13 * 20  # + a few points kept per present class
        assert s["points"].dtype == torch.float32 and s["points"].shape == (n, 3)
        assert s["feats"].dtype == torch.float32 and s["feats"].shape == (n, 6)
        assert torch.equal(s["feats"][:, :3], s["points"])
        rgb = s["feats"][:, 3:]
        assert rgb.min() >= 0 and rgb.max() <= 1 and rgb.std() > 0.05
        assert s["label"].dtype == torch.int64 and s["label"].shape == (n,)
        assert s["label"].min() >= 0 and s["label"].max() < 13
        assert s["name"].startswith("Area_") and "/" in s["name"]
        assert torch.isfinite(s["points"]).all()


def test_every_area_contains_all_13_classes(tiny_root):
    """Guaranteed by construction (the last room of an area adds what is missing),
    also for areas of a single room."""
    for area in S.AREAS:
        folder = S.make_synthetic("tiny", root=tiny_root, progress=False, overrides=TINY)
        labels = torch.cat([s["label"] for s in load_cloudset(folder / f"area_{area}.npz")])
        assert set(labels.unique().tolist()) == set(range(13)), f"area {area}"


def test_area_split(tiny_root):
    train, test = tiny("train", tiny_root), tiny("test", tiny_root)
    assert {s["name"].split("/")[0] for s in train.samples} == {"Area_1", "Area_2", "Area_3", "Area_4", "Area_6"}
    assert {s["name"].split("/")[0] for s in test.samples} == {"Area_5"}
    assert len(train) + len(test) == sum(TINY["rooms_per_area"])
    other = tiny("train", tiny_root, test_area=2)
    assert "Area_2" not in {s["name"].split("/")[0] for s in other.samples}
    with pytest.raises(ValueError, match="split"):
        tiny("val", tiny_root)
    with pytest.raises(ValueError, match="test_area"):
        tiny("train", tiny_root, test_area=7)


def test_deterministic_per_seed(tiny_root, tmp_path):
    a = tiny("test", tiny_root)
    b = S.load_synthetic("test", "tiny", root=tmp_path, progress=False, overrides=TINY)  # regenerated
    assert [s["name"] for s in a.samples] == [s["name"] for s in b.samples]
    for x, y in zip(a.samples, b.samples):
        assert torch.equal(x["feats"], y["feats"]) and torch.equal(x["label"], y["label"])
    c = S.load_synthetic("test", "tiny", root=tmp_path, seed=1, progress=False, overrides=TINY)
    assert any(x["points"].shape != y["points"].shape or not torch.equal(x["points"], y["points"])
               for x, y in zip(a.samples, c.samples))


def test_transform_is_applied(tiny_root):
    from i2p.data.transforms import s3dis_train_transform

    ds = tiny("test", tiny_root, transform=s3dis_train_transform())
    s = ds[0]
    assert s["points"][:, 2].min().abs() < 1e-5  # NormalizeCoords: floor at z = 0
    assert s["feats"][:, 3:].min() >= 0 and s["feats"][:, 3:].max() <= 1
    assert torch.equal(s["feats"][:, :3], s["points"])  # xyz features follow the geometry


def test_half_written_cache_is_regenerated(tmp_path):
    folder = S.make_synthetic("tiny", root=tmp_path, progress=False, overrides=TINY)
    ref = load_cloudset(folder / "area_5.npz")
    # 1) interrupted build: folder without DONE marker and a truncated file
    (folder / "DONE").unlink()
    data = (folder / "area_5.npz").read_bytes()
    (folder / "area_5.npz").write_bytes(data[: len(data) // 3])
    again = S.make_synthetic("tiny", root=tmp_path, progress=False, overrides=TINY)
    assert again == folder and (folder / "DONE").is_file()
    assert torch.equal(load_cloudset(folder / "area_5.npz")[0]["feats"], ref[0]["feats"])
    # 2) corrupt file inside a finished folder: load_synthetic rebuilds it
    (folder / "area_5.npz").write_bytes(data[: len(data) // 3])
    with pytest.warns(UserWarning, match="generating it again"):
        ds = S.load_synthetic("test", "tiny", root=tmp_path, progress=False, overrides=TINY)
    assert torch.equal(ds.samples[0]["feats"], ref[0]["feats"])


def test_bad_profile_arguments(tmp_path):
    with pytest.raises(ValueError, match="profile"):
        S.make_synthetic("huge", root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="unknown"):
        S.make_synthetic("tiny", root=tmp_path, progress=False, overrides={"roomz": 3})
    with pytest.raises(ValueError, match="rooms_per_area"):
        S.make_synthetic("tiny", root=tmp_path, progress=False, overrides={**TINY, "rooms_per_area": [1, 2]})


@pytest.mark.parametrize("kind", ["office", "hallway", "storage"])
def test_room_geometry_stays_in_the_room(kind):
    rng = np.random.default_rng(3)
    size = (2.2, 6.0) if kind == "hallway" else (4.5, 5.0)
    r = S.generate_room(rng, kind, size, 2.9, 4000, 1)
    p = r["points"]
    assert p[:, 2].min() > -0.03 and p[:, 2].max() < 2.93
    # windows and doors are recessed at most 0.2 m behind the wall plane
    assert p[:, 0].min() > -0.25 and p[:, 0].max() < size[0] + 0.25
    assert p[:, 1].min() > -0.25 and p[:, 1].max() < size[1] + 0.25
    lab = r["label"]
    floor, ceil = p[lab == S.FLOOR], p[lab == S.CEILING]
    assert np.abs(floor[:, 2]).max() < 0.03 and np.abs(ceil[:, 2] - 2.9).max() < 0.03
    assert {S.FLOOR, S.CEILING, S.WALL, S.DOOR, S.CLUTTER} <= set(np.unique(lab).tolist())


def test_scan_carves_hidden_surfaces_and_thins_with_distance():
    """A 10 x 2 m floor and wall, a door opening in the wall, a box on the floor, one scanner."""
    s = S._Scene()
    s.rect([5, 1, 0], [5, 0, 0], [0, 1, 0], S._mat(S.FLOOR, (0.5, 0.5, 0.5)), s.new_obj())
    s.rect([5, 0, 1.5], [5, 0, 0], [0, 0, 1.5], S._mat(S.WALL, (0.8, 0.8, 0.8)), s.new_obj())
    door = s.new_obj()
    s.carve([8, 0, 1], [0.5, 0.05, 1], 0.0, door)
    s.rect([8, -0.05, 1], [0.5, 0, 0], [0, 0, 1], S._mat(S.DOOR, (0.4, 0.3, 0.2)), door)
    s.box([2, 1, 0.5], (0.4, 0.4, 0.5), 0.0, S._mat(S.CLUTTER, (0.2, 0.2, 0.2)), s.new_obj(),
          faces=("-x", "+x", "-y", "+y", "+z"))
    s.lights.append(np.array([5.0, 1.0, 3.0]))
    pts, rgb, lab = S._render(s, np.random.default_rng(0), 20000, np.array([[0.5, 1.0, 1.5]]))
    assert len(pts) == 20000 and rgb.min() >= 0 and rgb.max() <= 1
    floor, wall = pts[lab == S.FLOOR], pts[lab == S.WALL]
    under_box = (np.abs(floor[:, 0] - 2) < 0.37) & (np.abs(floor[:, 1] - 1) < 0.37)
    assert under_box.sum() == 0 and (lab == S.CLUTTER).sum() > 100
    in_opening = (np.abs(wall[:, 0] - 8) < 0.47) & (wall[:, 2] < 1.97)
    assert in_opening.sum() == 0 and (lab == S.DOOR).sum() > 20
    near, far = (floor[:, 0] < 1.5).sum(), (floor[:, 0] > 8.5).sum()  # equal areas
    assert near > 4 * far > 0
    # the lights shade: floor right under the light is brighter than far from it
    fr = rgb[lab == S.FLOOR].mean(1)
    assert fr[np.abs(floor[:, 0] - 5) < 1].mean() > fr[floor[:, 0] > 9].mean()


# ------------------------------------------------------------------------------------------
# real S3DIS format
# ------------------------------------------------------------------------------------------

def _write(path: Path, rows) -> None:
    """``x y z r g b`` lines like the real files (3 decimals, integer colours)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{x:.3f} {y:.3f} {z:.3f} {int(r)} {int(g)} {int(b)}\n" for x, y, z, r, g, b in rows))


def _rows(rng, n, rgb):
    xyz = rng.uniform(0, 5, (n, 3))
    return np.concatenate([np.round(xyz, 3), np.tile(rgb, (n, 1))], 1)


@pytest.fixture
def real_root(tmp_path) -> Path:
    """Area_1 (office_1, conferenceRoom_1) and Area_5 (hallway_6 with a stray \\x10 and an
    empty file) in the exact Stanford3dDataset_v1.2_Aligned_Version layout."""
    rng = np.random.default_rng(0)
    base = tmp_path / "s3dis" / S.REAL_DIRNAME
    spec = {
        ("Area_1", "office_1"): {"ceiling_1": (30, [250, 250, 240]), "floor_1": (25, [90, 90, 100]),
                                 "chair_1": (10, [20, 30, 200]), "chair_2": (12, [20, 30, 201]),
                                 "stairs_1": (7, [120, 110, 100])},
        ("Area_1", "conferenceRoom_1"): {"wall_1": (20, [200, 190, 180]), "table_1": (15, [160, 120, 80]),
                                         "board_1": (5, [255, 255, 255])},
        ("Area_5", "hallway_6"): {"ceiling_1": (40, [230, 230, 230]), "door_1": (9, [100, 60, 30]),
                                  "clutter_1": (0, [0, 0, 0])},
    }
    for (area, room), files in spec.items():
        allrows = []
        for name, (n, rgb) in files.items():
            rows = _rows(rng, n, rgb)
            _write(base / area / room / "Annotations" / f"{name}.txt", rows)
            allrows.append(rows)
        _write(base / area / room / f"{room}.txt", np.concatenate(allrows))
    # the real quirk: a stray non-numeric character inside a line of hallway_6/ceiling_1
    f = base / "Area_5" / "hallway_6" / "Annotations" / "ceiling_1.txt"
    lines = f.read_text().splitlines()
    lines[17] = lines[17].replace(" ", " \x10", 1)  # '1.234 \x105.678 ...'
    lines[18] = lines[18][:-1] + "\x10" + lines[18][-1]  # '... 23\x100'
    head, _, last = lines[19].rpartition(" ")
    lines[19] = head + "\x10" + last  # the character replaces a separator: 5 columns
    f.write_text("\n".join(lines) + "\n")
    return tmp_path / "s3dis"


def test_real_rooms_read_back_with_labels_and_colours(real_root, tmp_path):
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ds = S.load_real(real_root, [1, 5], cache_root=tmp_path / "cache", progress=False)
    msgs = " | ".join(str(x.message) for x in w)
    assert "clutter_1.txt: empty annotation file" in msgs and "repaired stray characters" in msgs
    names = [s["name"] for s in ds.samples]
    assert names == ["Area_1/conferenceRoom_1", "Area_1/office_1", "Area_5/hallway_6"]
    conf, office, hall = ds.samples
    assert office["points"].shape == (30 + 25 + 10 + 12 + 7, 3) and office["feats"].shape[1] == 6
    counts = torch.bincount(office["label"], minlength=13)
    assert counts[S.CEILING] == 30 and counts[S.FLOOR] == 25 and counts[S.CHAIR] == 22
    assert counts[S.CLUTTER] == 7  # stairs_1.txt -> clutter
    chairs = office["feats"][office["label"] == S.CHAIR, 3:]
    assert torch.allclose(chairs[:10], torch.tensor([20, 30, 200]) / 255.0)
    assert torch.equal(office["feats"][:, :3], office["points"])
    assert (torch.bincount(conf["label"], minlength=13)[[S.WALL, S.TABLE, S.BOARD]] == torch.tensor([20, 15, 5])).all()
    assert hall["points"].shape[0] == 49 and torch.isfinite(hall["points"]).all()  # quirky lines kept
    raw = np.loadtxt(real_root / S.REAL_DIRNAME / "Area_5/hallway_6/Annotations/door_1.txt")
    np.testing.assert_allclose(hall["points"][hall["label"] == S.DOOR].numpy(), raw[:, :3], atol=1e-5)
    ceil = hall["feats"][hall["label"] == S.CEILING]
    assert torch.allclose(ceil[:, 3:], torch.tensor([230.0, 230, 230]) / 255)  # repaired colours intact
    # raw values come back exactly (to float32 precision)
    raw = np.loadtxt(real_root / S.REAL_DIRNAME / "Area_1/office_1/Annotations/floor_1.txt")
    got = office["feats"][office["label"] == S.FLOOR].numpy()
    np.testing.assert_allclose(got[:, :3], raw[:, :3], atol=1e-5)
    np.testing.assert_allclose(got[:, 3:] * 255, raw[:, 3:], atol=1e-3)


def test_real_rooms_are_cached_and_invalidated(real_root, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    a = S.load_real(real_root / S.REAL_DIRNAME, 1, cache_root=cache, progress=False)
    assert len(list(cache.glob("s3dis_real-Area_1-*/room_*.npz"))) == 2

    def boom(*args, **kw):
        raise AssertionError("parsed again although cached")

    monkeypatch.setattr(S, "_read_room", boom)
    b = S.load_real(real_root, 1, cache_root=cache, progress=False)
    assert torch.equal(a.samples[1]["feats"], b.samples[1]["feats"])
    monkeypatch.undo()
    f = real_root / S.REAL_DIRNAME / "Area_1/office_1/Annotations/chair_1.txt"
    f.write_text(f.read_text() + "1.0 2.0 3.0 4 5 6\n")  # an edited file invalidates the cache
    c = S.load_real(real_root, 1, cache_root=cache, progress=False)
    assert c.samples[1]["points"].shape[0] == a.samples[1]["points"].shape[0] + 1


def test_check_real_reports_problems(real_root):
    base = real_root / S.REAL_DIRNAME
    shutil.rmtree(base / "Area_1/conferenceRoom_1/Annotations")
    (base / "Area_1/office_1/Annotations/table_1.txt").write_text("1 2 3 4 5 6\n1 2 three 4 5 6\n")
    lines = S.check_real(real_root)
    report = "\n".join(lines)
    for missing in (2, 3, 4, 6):
        assert f"Area_{missing}: missing area" in report
    assert "conferenceRoom_1: no Annotations folder" in report
    assert "table_1.txt:2: cannot parse line" in report
    assert "hallway_6/Annotations/ceiling_1.txt:18: stray" in report
    assert "hallway_6/Annotations/ceiling_1.txt:19: stray" in report
    assert "hallway_6/Annotations/ceiling_1.txt:20: stray" in report
    assert "clutter_1.txt: empty file" in report
    assert "'stairs' is not one of the 13 classes" in report
    assert len([x for x in lines if "Area_5" in x]) == 4  # 3 repaired lines + the empty file
    assert not any("hallway_6: room has no points" in x for x in lines)
    assert S.check_real(real_root / "nowhere")[0].endswith("folder not found")


def test_real_bad_input_raises_naming_the_file(real_root, tmp_path):
    base = real_root / S.REAL_DIRNAME
    kw = dict(cache_root=tmp_path / "c", progress=False)
    # unrepairable line
    f = base / "Area_1/office_1/Annotations/floor_1.txt"
    good = f.read_text()
    f.write_text(good + "1.0 2.0 3.0 4 5\n")
    with pytest.raises(ValueError, match=r"floor_1\.txt:26: cannot parse"):
        S.load_real(real_root, 1, **kw)
    # NaN coordinate
    f.write_text(good.replace(good.splitlines()[3], "nan 1.0 2.0 3 4 5", 1))
    with pytest.raises(ValueError, match=r"floor_1\.txt:4: non-finite"):
        S.load_real(real_root, 1, **kw)
    f.write_text(good)
    # a room whose files are all empty
    for g in (base / "Area_5/hallway_6/Annotations").glob("*.txt"):
        g.write_text("")
    with pytest.raises(ValueError, match="hallway_6: room has no points"):
        S.load_real(real_root, 5, **kw)
    # a room without Annotations
    shutil.rmtree(base / "Area_1/conferenceRoom_1/Annotations")
    with pytest.raises(ValueError, match="conferenceRoom_1: no Annotations"):
        S.load_real(real_root, [1], **kw)
    with pytest.raises(FileNotFoundError, match="Area_3"):
        S.load_real(real_root, 3, **kw)


def test_gallery_draws_rooms_and_legend(real_root, tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    ds = S.load_real(real_root, 1, cache_root=tmp_path / "c", progress=False)
    fig = S.gallery(rooms=2, dataset=ds)
    assert len(fig.axes) == 8
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[0] == "0 ceiling" and texts[-1] == "12 clutter"
    top_rgb = fig.axes[0].collections[0]
    assert len(top_rgb.get_offsets()) == 15 + 20 + 5  # conferenceRoom_1, no ceiling there
    import matplotlib.pyplot as plt

    plt.close(fig)
