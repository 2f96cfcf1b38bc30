"""S3DIS through its DatasetSpec: the SynthS3DIS generator and the real-format reader (tiny fixtures)."""
from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures_s3dis import write_real

from i2p.data import registry, transforms
from i2p.data.s3dis import AREAS, CLASSES, REAL_DIRNAME, SPEC, SPLIT_AREAS, TEST_AREA, generate_room, real
from i2p.data.s3dis.labels import BOARD, CEILING, CHAIR, CLUTTER, DOOR, FLOOR, TABLE, WALL
from i2p.data.s3dis.synth.materials import material
from i2p.data.s3dis.synth.render import render
from i2p.data.s3dis.synth.scene import Scene
from i2p.data.store import load_cloudset

# 6 areas x 1-2 small rooms of a few thousand points: generates in about a second
TINY = {"rooms_per_area": [2, 1, 1, 1, 2, 1], "room_size": [4.0, 5.0], "points": [3000, 5000],
        "points_per_m2": 200.0, "scanners": [1, 1]}


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("synth")
    SPEC.make(options=TINY, root=root, progress=False)
    return root


def tiny(split: str, root: Path, **kw):
    kw.setdefault("transform", None)
    kw.setdefault("options", TINY)
    return SPEC.load(split, root=root, progress=False, **kw)


def test_spec_describes_s3dis():
    assert registry.get("s3dis") is SPEC and registry.get("S3DIS") is SPEC
    assert CLASSES[0] == "ceiling" and CLASSES[8] == "chair" and CLASSES[12] == "clutter"
    assert SPEC.num_classes == 13 and SPEC.in_channels == 6 and SPEC.task == "seg" and SPEC.up_axis == "z"
    assert AREAS == (1, 2, 3, 4, 5, 6) and TEST_AREA == 5 and SPEC.eval_split == "test"
    assert set(SPEC.splits) == set(SPLIT_AREAS) == {"train", "test"}
    keys = {tuple(sorted(p)) for p in SPEC.profiles.values()}
    assert len(keys) == 1 and "room_types" in next(iter(keys))


def test_samples_have_the_documented_layout(tiny_root):
    samples = tiny("train", tiny_root).samples + tiny("test", tiny_root).samples
    assert len(samples) == sum(TINY["rooms_per_area"])
    for s in samples:
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
    folder = SPEC.make(options=TINY, root=tiny_root, progress=False)
    for area in AREAS:
        labels = torch.cat([s["label"] for s in load_cloudset(folder / f"area_{area}.npz")])
        assert set(labels.unique().tolist()) == set(range(13)), f"area {area}"


def test_area_split(tiny_root):
    train, test = tiny("train", tiny_root), tiny("test", tiny_root)
    assert {s["name"].split("/")[0] for s in train.samples} == {"Area_1", "Area_2", "Area_3", "Area_4", "Area_6"}
    assert {s["name"].split("/")[0] for s in test.samples} == {"Area_5"}
    assert len(train) + len(test) == sum(TINY["rooms_per_area"]) and train.classes == list(CLASSES)
    with pytest.raises(ValueError, match="has no split 'val'; it has train, test"):
        tiny("val", tiny_root)
    with pytest.raises(ValueError, match="has no split 'all'"):
        tiny("all", tiny_root)


def test_deterministic_per_seed(tiny_root, tmp_path):
    a = tiny("test", tiny_root)
    b = tiny("test", tmp_path)  # regenerated
    assert [s["name"] for s in a.samples] == [s["name"] for s in b.samples]
    for x, y in zip(a.samples, b.samples):
        assert torch.equal(x["feats"], y["feats"]) and torch.equal(x["label"], y["label"])
    c = tiny("test", tmp_path, seed=1)
    assert any(x["points"].shape != y["points"].shape or not torch.equal(x["points"], y["points"])
               for x, y in zip(a.samples, c.samples))


def test_default_transforms(tiny_root):
    assert [type(t) for t in SPEC.train_transform().transforms] == \
        [type(t) for t in transforms.s3dis_train_transform().transforms]
    assert [type(t) for t in SPEC.eval_transform().transforms] == \
        [type(t) for t in transforms.s3dis_eval_transform().transforms]
    raw = tiny("test", tiny_root).samples[0]
    for split in ("train", "test"):
        s = SPEC.load(split, options=TINY, root=tiny_root, progress=False)[0]  # transform="default"
        assert s["points"][:, 2].min().abs() < 1e-5  # NormalizeCoords: floor at z = 0
        assert s["feats"][:, 3:].min() >= 0 and s["feats"][:, 3:].max() <= 1
        assert torch.equal(s["feats"][:, :3], s["points"])  # xyz features follow the geometry
    s = SPEC.load("test", options=TINY, root=tiny_root, progress=False)[0]
    assert torch.equal(s["feats"][:, 3:], raw["feats"][:, 3:])  # evaluation leaves colours alone


def test_damaged_cache_is_detected_and_regenerated(tmp_path):
    folder = SPEC.make(options=TINY, root=tmp_path, progress=False)
    ref = load_cloudset(folder / "area_5.npz")
    data = (folder / "area_5.npz").read_bytes()
    # 1) interrupted build: folder without DONE marker and a truncated file
    (folder / "DONE").unlink()
    (folder / "area_5.npz").write_bytes(data[: len(data) // 3])
    again = SPEC.make(options=TINY, root=tmp_path, progress=False)
    assert again == folder and (folder / "DONE").is_file()
    assert torch.equal(load_cloudset(folder / "area_5.npz")[0]["feats"], ref[0]["feats"])
    # 2) a file truncated in place inside a finished folder: warned about, generated again
    with open(folder / "area_5.npz", "r+b") as f:
        f.truncate(len(data) // 2)
    with pytest.warns(UserWarning, match="damaged"):
        ds = tiny("test", tmp_path)
    assert torch.equal(ds.samples[0]["feats"], ref[0]["feats"])


def test_bad_profiles_options_and_splits_name_the_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="profile 'huge'; choose one of teaching, full"):
        SPEC.make("huge", root=tmp_path, progress=False)
    with pytest.raises(ValueError, match=r"\['roomz'\]; valid options: .*rooms_per_area"):
        SPEC.make(options={"roomz": 3}, root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="rooms_per_area"):
        SPEC.make(options={**TINY, "rooms_per_area": [1, 2]}, root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="room_types .*office"):
        SPEC.make(options={**TINY, "room_types": ["office", "kitchen"]}, root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="points must be a range"):
        SPEC.make(options={**TINY, "points": [5000, 3000]}, root=tmp_path, progress=False)
    with pytest.raises(ValueError, match="it has train, test"):
        SPEC.load_real(tmp_path, "val")
    assert not list(tmp_path.iterdir())  # nothing generated


def test_room_types_option_limits_the_rooms(tmp_path):
    ds = tiny("train", tmp_path, options={**TINY, "room_types": ["storage"]})
    assert all(s["name"].split("/")[1].startswith("storage_") for s in ds.samples)


@pytest.mark.parametrize("kind", ["office", "hallway", "storage"])
def test_room_geometry_stays_in_the_room(kind):
    rng = np.random.default_rng(3)
    size = (2.2, 6.0) if kind == "hallway" else (4.5, 5.0)
    r = generate_room(rng, kind, size, 2.9, 4000, 1)
    p = r["points"]
    assert p[:, 2].min() > -0.03 and p[:, 2].max() < 2.93
    # windows and doors are recessed at most 0.2 m behind the wall plane
    assert p[:, 0].min() > -0.25 and p[:, 0].max() < size[0] + 0.25
    assert p[:, 1].min() > -0.25 and p[:, 1].max() < size[1] + 0.25
    lab = r["label"]
    floor, ceil = p[lab == FLOOR], p[lab == CEILING]
    assert np.abs(floor[:, 2]).max() < 0.03 and np.abs(ceil[:, 2] - 2.9).max() < 0.03
    assert {FLOOR, CEILING, WALL, DOOR, CLUTTER} <= set(np.unique(lab).tolist())


def test_scan_carves_hidden_surfaces_and_thins_with_distance():
    """A 10 x 2 m floor and wall, a door opening in the wall, a box on the floor, one scanner."""
    s = Scene()
    s.rect([5, 1, 0], [5, 0, 0], [0, 1, 0], material(FLOOR, (0.5, 0.5, 0.5)), s.new_obj())
    s.rect([5, 0, 1.5], [5, 0, 0], [0, 0, 1.5], material(WALL, (0.8, 0.8, 0.8)), s.new_obj())
    door = s.new_obj()
    s.carve([8, 0, 1], [0.5, 0.05, 1], 0.0, door)
    s.rect([8, -0.05, 1], [0.5, 0, 0], [0, 0, 1], material(DOOR, (0.4, 0.3, 0.2)), door)
    s.box([2, 1, 0.5], (0.4, 0.4, 0.5), 0.0, material(CLUTTER, (0.2, 0.2, 0.2)), s.new_obj(),
          faces=("-x", "+x", "-y", "+y", "+z"))
    s.lights.append(np.array([5.0, 1.0, 3.0]))
    pts, rgb, lab = render(s, np.random.default_rng(0), 20000, np.array([[0.5, 1.0, 1.5]]))
    assert len(pts) == 20000 and rgb.min() >= 0 and rgb.max() <= 1
    floor, wall = pts[lab == FLOOR], pts[lab == WALL]
    under_box = (np.abs(floor[:, 0] - 2) < 0.37) & (np.abs(floor[:, 1] - 1) < 0.37)
    assert under_box.sum() == 0 and (lab == CLUTTER).sum() > 100
    in_opening = (np.abs(wall[:, 0] - 8) < 0.47) & (wall[:, 2] < 1.97)
    assert in_opening.sum() == 0 and (lab == DOOR).sum() > 20
    near, far = (floor[:, 0] < 1.5).sum(), (floor[:, 0] > 8.5).sum()  # equal areas
    assert near > 4 * far > 0
    # the lights shade: floor right under the light is brighter than far from it
    fr = rgb[lab == FLOOR].mean(1)
    assert fr[np.abs(floor[:, 0] - 5) < 1].mean() > fr[floor[:, 0] > 9].mean()


def test_gallery_of_the_stand_in(tmp_path):
    """The teaching profile (a few seconds to generate), rooms picked round-robin over the areas."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    fig = SPEC.gallery(root=tmp_path, samples=2)
    assert len(fig.axes) == 8
    assert [ax.get_title().split("/")[0] for ax in fig.axes[::4]] == ["Area_1", "Area_2"]
    plt.close(fig)


# ------------------------------------------------------------------------------------------
# real S3DIS format
# ------------------------------------------------------------------------------------------

def test_fixture_is_a_valid_copy(tmp_path):
    path = write_real(tmp_path)
    assert SPEC.check(path) == [] and SPEC.check(path, deep=True) == [] and SPEC.check(tmp_path) == []
    for split in SPEC.splits:
        ds = SPEC.load_real(path, split, cache_root=tmp_path / "cache", progress=False)
        areas = {int(s["name"].split("/")[0][5:]) for s in ds.samples}
        assert areas == set(SPLIT_AREAS[split]) and ds.classes == list(CLASSES)


@pytest.fixture
def real_root(tmp_path) -> Path:
    """The fixture copy plus the real quirks: ``stairs_1.txt`` (a class outside the 13), an
    empty file, and stray \\x10 characters inside lines of Area_5/hallway_6/ceiling_1."""
    base = write_real(tmp_path / "s3dis")
    ann = base / "Area_1/office_1/Annotations"
    (ann / "clutter_1.txt").rename(ann / "stairs_1.txt")
    hall = base / "Area_5/hallway_6/Annotations"
    (hall / "clutter_1.txt").write_text("")
    f = hall / "ceiling_1.txt"
    lines = f.read_text().splitlines()
    lines[17] = lines[17].replace(" ", " \x10", 1)  # '1.234 \x105.678 ...'
    lines[18] = lines[18][:-1] + "\x10" + lines[18][-1]  # '... 23\x100'
    head, _, last = lines[19].rpartition(" ")
    lines[19] = head + "\x10" + last  # the character replaces a separator: 5 columns
    f.write_text("\n".join(lines) + "\n")
    return tmp_path / "s3dis"


def test_real_rooms_read_back_with_labels_and_colours(real_root, tmp_path):
    kw = dict(transform=None, cache_root=tmp_path / "cache", progress=False)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        train = SPEC.load_real(real_root, "train", **kw)
        test = SPEC.load_real(real_root, "test", **kw)
    msgs = " | ".join(str(x.message) for x in w)
    assert "clutter_1.txt: empty annotation file" in msgs and "repaired stray characters" in msgs
    names = [s["name"] for s in train.samples]
    assert names == ["Area_1/conferenceRoom_1", "Area_1/office_1", "Area_2/storage_1", "Area_3/lounge_1",
                     "Area_4/office_3", "Area_6/copyRoom_1"]
    assert [s["name"] for s in test.samples] == ["Area_5/hallway_6"]
    conf, office = train.samples[:2]
    hall = test.samples[0]
    assert office["points"].shape == (30 + 25 + 10 + 12 + 7, 3) and office["feats"].shape[1] == 6
    counts = torch.bincount(office["label"], minlength=13)
    assert counts[CEILING] == 30 and counts[FLOOR] == 25 and counts[CHAIR] == 22
    assert counts[CLUTTER] == 7  # stairs_1.txt -> clutter
    chairs = office["feats"][office["label"] == CHAIR, 3:]
    assert torch.allclose(chairs[:10], torch.tensor([20, 30, 200]) / 255.0)
    assert torch.equal(office["feats"][:, :3], office["points"])
    assert (torch.bincount(conf["label"], minlength=13)[[WALL, TABLE, BOARD]] == torch.tensor([20, 15, 5])).all()
    assert hall["points"].shape[0] == 49 and torch.isfinite(hall["points"]).all()  # quirky lines kept
    base = real_root / REAL_DIRNAME
    raw = np.loadtxt(base / "Area_5/hallway_6/Annotations/door_1.txt")
    np.testing.assert_allclose(hall["points"][hall["label"] == DOOR].numpy(), raw[:, :3], atol=1e-5)
    ceil = hall["feats"][hall["label"] == CEILING]
    assert torch.allclose(ceil[:, 3:], torch.tensor([230.0, 230, 230]) / 255)  # repaired colours intact
    # raw values come back exactly (to float32 precision)
    raw = np.loadtxt(base / "Area_1/office_1/Annotations/floor_1.txt")
    got = office["feats"][office["label"] == FLOOR].numpy()
    np.testing.assert_allclose(got[:, :3], raw[:, :3], atol=1e-5)
    np.testing.assert_allclose(got[:, 3:] * 255, raw[:, 3:], atol=1e-3)
    # the default transform is the split's: evaluation normalises the coordinates
    t = SPEC.load_real(real_root, "test", cache_root=tmp_path / "cache", progress=False)[0]
    assert t["points"][:, 2].min().abs() < 1e-5 and torch.equal(t["feats"][:, 3:], hall["feats"][:, 3:])


def test_real_rooms_are_cached_and_invalidated(real_root, tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    kw = dict(transform=None, cache_root=cache, progress=False)
    a = real.read_areas(real_root / REAL_DIRNAME, [1], cache_root=cache, progress=False)
    assert len(list(cache.glob("s3dis_real-Area_1-*/room_*.npz"))) == 2

    def boom(*args, **kwargs):
        raise AssertionError("parsed again although cached")

    monkeypatch.setattr(real, "read_room", boom)
    b = real.read_areas(real_root, [1], cache_root=cache, progress=False)
    assert torch.equal(a.samples[1]["feats"], b.samples[1]["feats"])
    monkeypatch.undo()
    f = real_root / REAL_DIRNAME / "Area_1/office_1/Annotations/chair_1.txt"
    f.write_text(f.read_text() + "1.0 2.0 3.0 4 5 6\n")  # an edited file invalidates the cache
    c = SPEC.load_real(real_root, "train", **kw)
    assert c.samples[1]["points"].shape[0] == a.samples[1]["points"].shape[0] + 1
    # a parse-cache file truncated in place is warned about and parsed again (the newest
    # cache: the one made before the edit is still there)
    room = max(cache.glob("s3dis_real-Area_1-*/room_0001.npz"), key=lambda p: p.stat().st_mtime_ns)
    size = room.stat().st_size
    with open(room, "r+b") as g:
        g.truncate(size // 2)
    with pytest.warns(UserWarning, match="s3dis_real-Area_1.* is damaged .*building it again"):
        d = SPEC.load_real(real_root, "train", **kw)
    assert torch.equal(d.samples[1]["feats"], c.samples[1]["feats"])


def test_check_reports_problems(real_root):
    base = real_root / REAL_DIRNAME
    shutil.rmtree(base / "Area_3")
    shutil.rmtree(base / "Area_1/conferenceRoom_1/Annotations")
    (base / "Area_2/storage_1/storage_1.txt").unlink()
    (base / "Area_1/office_1/Annotations/table_1.txt").write_text("1 2 3 4 5 6\n1 2 three 4 5 6\n")
    quick = SPEC.check(real_root)  # folder structure only
    lines = SPEC.check(real_root, deep=True)
    report = "\n".join(lines)
    for found in (quick, lines):
        text = "\n".join(found)
        assert "Area_3: missing area" in text and "Area_2: missing area" not in text
        assert "conferenceRoom_1: no Annotations folder" in text
        assert "storage_1: missing storage_1.txt" in text
        assert "'stairs' is not one of the 13 classes" in text
    assert not any("stray" in x or "empty file" in x or "cannot parse" in x for x in quick)
    assert "table_1.txt:2: cannot parse line" in report
    assert "hallway_6/Annotations/ceiling_1.txt:18: stray" in report
    assert "hallway_6/Annotations/ceiling_1.txt:19: stray" in report
    assert "hallway_6/Annotations/ceiling_1.txt:20: stray" in report
    assert "clutter_1.txt: empty file" in report
    assert len([x for x in lines if "Area_5" in x]) == 4  # 3 repaired lines + the empty file
    assert not any("hallway_6: room has no points" in x for x in lines)
    assert SPEC.check(real_root / "nowhere")[0].endswith("does not exist")
    assert SPEC.check(base / "Area_1/office_1/office_1.txt")[0].endswith("folder not found")


@pytest.mark.filterwarnings("ignore:.*(empty annotation file|repaired stray)")
def test_real_bad_input_raises_naming_the_file(real_root, tmp_path):
    base = real_root / REAL_DIRNAME
    kw = dict(cache_root=tmp_path / "c", progress=False)
    # unrepairable line
    f = base / "Area_1/office_1/Annotations/floor_1.txt"
    good = f.read_text()
    f.write_text(good + "1.0 2.0 3.0 4 5\n")
    with pytest.raises(ValueError, match=r"floor_1\.txt:26: cannot parse"):
        SPEC.load_real(real_root, "train", **kw)
    # NaN coordinate
    f.write_text(good.replace(good.splitlines()[3], "nan 1.0 2.0 3 4 5", 1))
    with pytest.raises(ValueError, match=r"floor_1\.txt:4: non-finite"):
        SPEC.load_real(real_root, "train", **kw)
    # colour out of range
    f.write_text(good.replace(good.splitlines()[5], "1.0 1.0 2.0 3 400 5", 1))
    with pytest.raises(ValueError, match=r"floor_1\.txt:6: colour outside 0-255"):
        SPEC.load_real(real_root, "train", **kw)
    f.write_text(good)
    # a room whose files are all empty
    for g in (base / "Area_5/hallway_6/Annotations").glob("*.txt"):
        g.write_text("")
    with pytest.raises(ValueError, match="hallway_6: room has no points"):
        SPEC.load_real(real_root, "test", **kw)
    # a room without Annotations
    shutil.rmtree(base / "Area_1/conferenceRoom_1/Annotations")
    with pytest.raises(ValueError, match="conferenceRoom_1: no Annotations"):
        SPEC.load_real(real_root, "train", **kw)
    shutil.rmtree(base / "Area_5")
    with pytest.raises(FileNotFoundError, match="Area_5"):
        SPEC.load_real(real_root, "test", **kw)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        SPEC.load_real(tmp_path / "nowhere", "test", **kw)
    with pytest.raises(ValueError, match="areas are"):
        real.read_areas(real_root, [7], **kw)


def test_gallery_draws_rooms_and_legend(real_root, tmp_path):
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.use("Agg")
    ds = SPEC.load_real(real_root, "train", transform=None, cache_root=tmp_path / "c", progress=False)
    fig = SPEC.gallery(dataset=ds, samples=2)
    assert len(fig.axes) == 8
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert texts[0] == "0 ceiling" and texts[-1] == "12 clutter"
    top_rgb = fig.axes[0].collections[0]
    assert len(top_rgb.get_offsets()) == 15 + 20 + 5  # conferenceRoom_1, no ceiling there
    plt.close(fig)
