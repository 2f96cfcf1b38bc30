"""Prediction views (i2p.viz.scenes): predictions match the trainer's metrics, scenes
mark exactly the misclassified points, the explorer updates in place, summaries."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from i2p.data.store import CloudDataset  # noqa: E402
from i2p.models import create_model  # noqa: E402
from i2p.train import TrainConfig, evaluate  # noqa: E402
from i2p.viz import scenes  # noqa: E402

CLASSES = ["floor", "wall", "chair"]
CFG = dict(voxel_size=0.1, device="cpu", precision="fp32", progress=False)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _clouds(task: str, n: int = 2, points: int = 80) -> CloudDataset:
    g = torch.Generator().manual_seed(3)
    samples = []
    for i in range(n):
        pts = torch.rand(points, 3, generator=g) * 2 - 1
        label = i % len(CLASSES) if task == "cls" else torch.randint(0, len(CLASSES), (points,), generator=g)
        if task == "seg":
            label[:5] = -100  # unlabelled points stay unlabelled in the truth
        samples.append({"points": pts, "label": label, "name": f"s{i}"})
    return CloudDataset(samples, CLASSES)


def _confusion(preds: list[dict]) -> np.ndarray:
    conf = np.zeros((len(CLASSES), len(CLASSES)), dtype=int)
    for p in preds:
        t, q = np.atleast_1d(p["truth"]), np.atleast_1d(p["pred"])
        keep = t != -100
        np.add.at(conf, (t[keep], q[keep]), 1)
    return conf


@pytest.mark.parametrize("task", ["cls", "seg"])
def test_predict_matches_evaluate_and_restores_the_model(task):
    torch.manual_seed(0)
    model = (create_model("linear_net", len(CLASSES)) if task == "cls"
             else create_model("resnet18", len(CLASSES), "seg", stem_width=8)).train()
    data, cfg = _clouds(task), TrainConfig(task=task, **CFG)
    preds = scenes.predict(model, data, [0, 1], cfg)
    assert model.training, "predict restores train mode"
    assert [p["index"] for p in preds] == [0, 1] and [p["name"] for p in preds] == ["s0", "s1"]
    for p, s in zip(preds, data.samples):
        assert p["points"].shape == (80, 3) and np.allclose(p["points"], s["points"].numpy())
        if task == "cls":
            assert p["truth"] == s["label"] and p["probs"].shape == (3,)
            assert p["probs"].sum() == pytest.approx(1, abs=1e-5) and p["pred"] == int(p["probs"].argmax())
        else:
            assert np.array_equal(p["truth"], s["label"].numpy()) and p["pred"].shape == (80,)
    # the same predictions the trainer's metrics count
    assert np.array_equal(_confusion(preds), evaluate(model, data, cfg)["confusion"].numpy())


def test_predict_rejects_a_task_mismatch_and_bad_indices():
    model, data = create_model("linear_net", 3), _clouds("seg", n=1)
    with pytest.raises(ValueError, match="per-point labels"):
        scenes.predict(model, data, [0], TrainConfig(task="cls", **CFG))
    with pytest.raises(ValueError, match=r"outside the data set \(1 samples\)"):
        scenes.predict(model, data, [0, 4], TrainConfig(task="seg", **CFG))


# -- scenes -----------------------------------------------------------------------------------

P = 10
POINTS = np.stack([np.arange(P, dtype=float), np.zeros(P), np.arange(P) % 3.0], 1)  # x identifies a point
TRUTH = np.array([0, 0, 0, 1, 1, 1, 2, 2, -100, 0])
PRED = np.array([0, 1, 0, 1, 2, 1, 2, 0, 1, 0])
WRONG_X = {1.0, 4.0, 7.0}  # point 8 is unlabelled: never an error


def _trace(fig, name, panel):
    scene = "scene" if panel == 0 else f"scene{panel + 1}"
    (t,) = [t for t in fig.data if t.name == name and t.scene == scene]
    return t


def test_seg_scene_traces_colours_and_errors():
    fig = scenes.prediction_scene(POINTS, TRUTH, PRED, CLASSES, title="run A")
    assert len(fig.data) == 2 * len(CLASSES) + 3
    colors = scenes.class_colors(CLASSES)
    assert len(set(colors)) == 3
    for k, c in enumerate(CLASSES):
        assert _trace(fig, c, 0).marker.color == _trace(fig, c, 1).marker.color == colors[k]
        assert set(_trace(fig, c, 0).x) == {float(i) for i in np.flatnonzero(TRUTH == k)}
        assert set(_trace(fig, c, 1).x) == {float(i) for i in np.flatnonzero(PRED == k)}
    assert set(_trace(fig, "misclassified", 2).x) == WRONG_X
    assert set(_trace(fig, "correct", 2).x) == {0.0, 2.0, 3.0, 5.0, 6.0, 9.0}
    assert set(_trace(fig, "unlabelled", 0).x) == {8.0}
    assert [t.name for t in fig.data if t.showlegend] == [*CLASSES, "unlabelled", "correct", "misclassified"]
    assert fig.layout.title.text == "run A — accuracy 66.7% (3 of 9 labelled points wrong)"
    assert all(fig.layout[s].aspectmode == "data" for s in ("scene", "scene2", "scene3"))


def test_highlight_limits_errors_to_the_class_and_reports_its_iou():
    fig = scenes.prediction_scene(POINTS, TRUTH, PRED, CLASSES, highlight="chair")
    assert set(_trace(fig, "misclassified", 2).x) == {4.0, 7.0}  # truth or prediction chair
    assert set(_trace(fig, "correct", 2).x) == {6.0}
    assert _trace(fig, "chair", 0).marker.opacity == 1 and _trace(fig, "floor", 0).marker.opacity < 0.2
    assert "chair: IoU 33.3%" in fig.layout.title.text  # tp 1, union 3


def test_subsampling_is_deterministic_and_accuracy_uses_every_point():
    n = 500
    pts = np.random.default_rng(1).normal(size=(n, 3))
    pts[:, 0] = np.arange(n)
    truth = np.zeros(n, dtype=int)
    pred = (np.arange(n) % 4 == 0).astype(int)
    a, b = (scenes.prediction_scene(pts, truth, pred, CLASSES, max_points=50) for _ in range(2))
    shown = sum(len(t.x) for t in a.data if t.scene == "scene2")
    assert shown == 50 and all(np.array_equal(s.x, t.x) for s, t in zip(a.data, b.data))
    assert max(x for t in a.data if t.scene == "scene2" for x in t.x) > n / 2, "spread over the cloud, not its head"
    assert "accuracy 75.0%" in a.layout.title.text and "showing 50 of 500 points" in a.layout.title.text


def test_cls_scene_colours_by_height_and_titles_truth_and_prediction():
    fig = scenes.prediction_scene(POINTS, 1, 2, CLASSES, probs=[0.05, 0.02, 0.93], up_axis="x")
    assert len(fig.data) == 1 and np.array_equal(fig.data[0].marker.color, POINTS[:, 0])
    assert fig.layout.title.text == "truth wall · predicted chair (p=0.93)"
    assert fig.layout.scene.camera.up.x == 1 and fig.layout.scene.camera.up.z == 0


def test_matplotlib_scene_marks_the_same_errors():
    fig = scenes.prediction_scene_matplotlib(POINTS, TRUTH, PRED, CLASSES)
    errors = fig.axes[2]
    red = [c for c in errors.collections if matplotlib.colors.to_hex(c.get_facecolor()[0]) == scenes.WRONG]
    assert len(red) == 1 and set(np.asarray(red[0]._offsets3d[0])) == WRONG_X
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [*CLASSES, "unlabelled", "correct", "misclassified"]
    assert "accuracy 66.7%" in fig._suptitle.get_text()
    cls = scenes.prediction_scene_matplotlib(POINTS, 0, 0, CLASSES, probs=[0.9, 0.05, 0.05])
    assert cls._suptitle.get_text() == "truth floor · predicted floor (p=0.90)"


@pytest.mark.parametrize("args, match", [
    ((POINTS, TRUTH[:-1], PRED), "9 ground-truth labels for 10 points"),
    ((POINTS, TRUTH, PRED[:-2]), "8 predicted labels for 10 points"),
    ((POINTS, np.where(TRUTH == 2, 3, TRUTH), PRED), "ground-truth label 3 is outside the 3 classes"),
    ((POINTS, TRUTH, np.where(PRED == 2, -1, PRED)), "predicted label -1 is outside the 3 classes"),
    ((POINTS, 5, 0), "ground-truth label 5 is outside"),
    ((np.zeros((0, 3)), np.zeros(0, int), np.zeros(0, int)), "empty cloud"),
    ((POINTS[:, :2], TRUTH, PRED), r"points must be \[P, 3\]"),
    ((POINTS, TRUTH, 1), "both be one label"),
])
def test_bad_input_is_named(args, match):
    for draw in (scenes.prediction_scene, scenes.prediction_scene_matplotlib):
        with pytest.raises(ValueError, match=match):
            draw(*args, CLASSES)
    with pytest.raises(ValueError, match="unknown class 'sofa'"):
        scenes.prediction_scene(POINTS, TRUTH, PRED, CLASSES, highlight="sofa")


# -- explorer ---------------------------------------------------------------------------------

def _seg_samples(shift: int) -> list[dict]:
    return [{"index": i, "name": f"room{i}", "task": "seg", "points": POINTS + i, "truth": TRUTH,
             "pred": np.roll(PRED, shift + i), "ignore_index": -100} for i in range(2)]


def test_explorer_updates_the_figure_widget_in_place():
    ex = scenes.prediction_explorer({"scratch": _seg_samples(0), "io_bn": _seg_samples(3)}, CLASSES)
    fw = ex.figure
    assert ex.children[-1] is fw and len(fw.data) == 2 * len(CLASSES) + 3
    before = np.array(fw.data[0].x)
    ex.sample.value = 1
    assert not np.array_equal(fw.data[0].x, before) and len(fw.data) == 2 * len(CLASSES) + 3
    title = fw.layout.title.text
    ex.run.value = "io_bn"
    assert ex.sample.value == 1, "switching the run keeps the sample"
    assert fw.layout.title.text != title and fw.layout.title.text.startswith("io_bn")
    wrong = set(fw.data[-1].x)
    ex.cls.value = 2
    assert fw.data[0].marker.opacity < 0.2 and set(fw.data[-1].x) < wrong


def test_explorer_class_filter_lists_matching_cls_samples():
    samples = [{"index": i, "name": f"m{i}", "task": "cls", "points": POINTS, "truth": t, "pred": p,
                "probs": np.eye(3)[p]} for i, (t, p) in enumerate([(0, 0), (1, 2), (2, 2)])]
    ex = scenes.prediction_explorer({"run": samples}, CLASSES)
    assert len(ex.sample.options) == 3
    ex.cls.value = 2
    assert [v for _, v in ex.sample.options] == [1, 2]
    assert ex.figure.layout.title.text.endswith("truth wall · predicted chair (p=1.00)")
    ex.cls.value = 1
    ex.cls.value = 0
    assert [v for _, v in ex.sample.options] == [0] and "floor" in ex.figure.layout.title.text
    lone = scenes.prediction_explorer({"run": samples[:1]}, CLASSES)
    lone.cls.value = 2
    assert lone.sample.value is None and "no sample of run has truth or prediction chair" in lone.status.value
    assert lone.figure.layout.title.text == "run — truth floor · predicted floor (p=1.00)"
    with pytest.raises(ValueError, match="mix tasks"):
        scenes.prediction_explorer({"a": samples, "b": _seg_samples(0)}, CLASSES)
    with pytest.raises(ValueError, match="run: truth label 7 is outside"):
        scenes.prediction_explorer({"run": [{**samples[0], "truth": 7}]}, CLASSES)


# -- summaries ---------------------------------------------------------------------------------

def test_confusion_rows_normalise_to_one_and_absent_rows_are_blank():
    conf = [[5, 3, 2], [0, 0, 0], [1, 1, 8]]
    norm = scenes.normalize_confusion(conf)
    assert np.allclose(norm[[0, 2]].sum(1), 1) and np.isnan(norm[1]).all()
    assert norm[0, 1] == pytest.approx(0.3)
    fig = scenes.confusion_figure(torch.tensor(conf), CLASSES)
    ax = fig.axes[0]
    shown = np.ma.filled(ax.collections[0].get_array(), np.nan).reshape(3, 3)
    assert np.allclose(np.nansum(shown, 1), [1, 0, 1])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["floor", "wall (absent)", "chair"]
    assert ax.get_ylabel() == "ground truth" and ax.get_xlabel() == "prediction"
    with pytest.raises(ValueError, match="3x3 but there are 2 classes"):
        scenes.confusion_figure(conf, CLASSES[:2])


def test_class_iou_bars_leave_gaps_for_absent_classes():
    ious = {"scratch": [0.5, None, 0.25], "io_bn": [0.75, 0.5, float("nan")]}
    fig = scenes.class_iou_figure(ious, CLASSES)
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    assert sum(t.get_text() == "n/a" for t in ax.texts) == 2
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["scratch (mIoU 37.5)", "io_bn (mIoU 62.5)"]
    assert any("absent" in t.get_text() for t in fig.texts)
    table = scenes.class_iou_table(ious, CLASSES)
    assert table.loc["mIoU"].tolist() == [37.5, 62.5] and np.isnan(table.loc["wall", "scratch"])
    with pytest.raises(ValueError, match="2 IoU values for 3 classes"):
        scenes.class_iou_figure({"x": [0.1, 0.2]}, CLASSES)
