"""Range-image views (i2p.viz.range_view): predict's per-pixel predictions are the ones the
points get back, the figure draws exactly the occupied pixels, the readout counts right."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from helpers_models import PixelNet, clouds  # noqa: E402
from i2p.range_image import RangeProjection, back_project, project_labels  # noqa: E402
from i2p.train import TrainConfig, evaluate  # noqa: E402
from i2p.viz.range_view import NO_LABEL, range_image_figure, range_readout  # noqa: E402
from i2p.viz.scenes import class_colors, predict  # noqa: E402

CLASSES = ["road", "car", "tree"]
CFG = TrainConfig(task="seg", device="cpu", precision="fp32", progress=False, num_classes=3)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _sweeps() -> list[dict]:
    """Two sweeps whose last 5 points sit behind their first 5 (same direction, 1.5x the
    range): at least 5 hidden points each; a few points without a label."""
    out = []
    for s in clouds("seg", 2):
        pts = torch.cat([s["points"], 1.5 * s["points"][:5]])
        label = torch.cat([s["label"], (s["label"][:5] + 1) % 3])
        label[5] = -100
        out.append({"points": pts, "feats": torch.cat([pts, s["feats"][:, 3:].repeat(2, 1)[:len(pts)]], 1),
                    "label": label})
    return out


def test_predict_gives_a_range_model_its_pixels_and_the_readout_counts_them():
    torch.manual_seed(0)
    model, data = PixelNet(), _sweeps()
    recs = predict(model, data, [0, 1], CFG)
    confusion = np.zeros((3, 3), dtype=int)
    for rec, s in zip(recs, data):
        rimg = rec["range_image"]
        assert rec["pixel_pred"].shape == rec["pixel_truth"].shape == (8, 32) and rimg.image.device.type == "cpu"
        assert np.array_equal(rec["pixel_truth"], project_labels(rimg, s["label"]).numpy())
        owned, (row, col) = rimg.owned.numpy(), rimg.pixel.numpy().T
        assert (~owned).sum() >= 5
        assert np.array_equal(rec["pred"][owned], rec["pixel_pred"][row, col][owned])  # owners: the image's label
        assert np.array_equal(rec["pred"], back_project(rimg, torch.as_tensor(rec["pixel_pred"]), s["points"]).numpy())
        r = range_readout(rec)
        lab = rec["truth"] != -100
        hidden = lab & ~owned
        assert r.points == lab.sum() and r.hidden == hidden.sum() and r.pixels == rimg.mask.sum() - (
            (rec["pixel_truth"] == -100) & rimg.mask.numpy()).sum()
        assert r.point_accuracy == pytest.approx((rec["pred"] == rec["truth"])[lab].mean())
        assert r.hidden_accuracy == pytest.approx((rec["pred"] == rec["truth"])[hidden].mean())
        plain = back_project(rimg, torch.as_tensor(rec["pixel_pred"]), s["points"], knn=False).numpy()
        assert r.hidden_lookup_accuracy == pytest.approx((plain == rec["truth"])[hidden].mean())
        np.add.at(confusion, (rec["truth"][lab], rec["pred"][lab]), 1)
    assert np.array_equal(confusion, evaluate(model, data, CFG)["confusion"].numpy())  # the metrics' predictions


def _image(height: int = 8, width: int = 32):
    s = _sweeps()[0]
    rimg = RangeProjection(height, width).project(s["points"], s["feats"][:, 3])
    truth = project_labels(rimg, s["label"]).numpy()
    pred = np.where(rimg.mask.numpy(), (np.maximum(truth, 0) + np.arange(width)[None] % 2) % 3, 7)  # 7: empty only
    return rimg, truth, pred


def test_range_figure_draws_the_occupied_pixels_and_leaves_empty_ones_blank():
    rimg, truth, pred = _image(64, 512)
    fig = range_image_figure(rimg, pred, truth, CLASSES)
    rng_ax, truth_ax, pred_ax = fig.axes[:3]
    occupied = rimg.mask.numpy()
    assert np.array_equal(np.ma.getmaskarray(rng_ax.images[0].get_array()), ~occupied)
    colors = [to_rgba(c) for c in class_colors(CLASSES)]
    for ax, lab in ((truth_ax, truth), (pred_ax, pred)):
        rgba = np.asarray(ax.images[0].get_array())
        assert (rgba[~occupied, 3] == 0).all() and (rgba[occupied, 3] == 1).all()
        r, c = np.argwhere(occupied & (lab >= 0))[0]
        assert tuple(rgba[r, c]) == colors[lab[r, c]]
    unlabelled = occupied & (truth == -100)
    assert unlabelled.any() and (truth_ax.images[0].get_array()[unlabelled] == to_rgba(NO_LABEL)).all()
    assert [t.get_text() for t in fig.legends[0].get_texts()][-1] == "no label"
    labelled = occupied & (truth != -100)
    assert f"pixel accuracy {(pred == truth)[labelled].mean():.1%}" in pred_ax.get_title(loc="left")
    assert "ground truth" in truth_ax.get_title(loc="left") and "range" in rng_ax.get_title(loc="left")
    w, h = fig.get_size_inches()
    assert w > 1.5 * h  # three stacked strips as wide as the 64 x 512 image


@pytest.mark.parametrize("change, error, match", [
    (lambda r, t, p: ("rimg", t, p), TypeError, "must be a RangeImage"),
    (lambda r, t, p: (r, t[:4], p), ValueError, r"truth_pixels must be integer labels \[8, 32\]"),
    (lambda r, t, p: (r, t, p.astype(float)), ValueError, "pred_pixels must be integer labels"),
    (lambda r, t, p: (r, t, np.where(r.mask.numpy(), 5, p)), ValueError, "predicted label 5 is outside the 3 classes"),
    (lambda r, t, p: (r, np.where(r.mask.numpy(), 3, t), p), ValueError, "ground-truth label 3"),
])
def test_range_figure_names_bad_input(change, error, match):
    rimg, truth, pred = change(*_image())
    with pytest.raises(error, match=match):
        range_image_figure(rimg, pred, truth, CLASSES)


def test_readout_wants_a_range_models_record():
    rec = {"truth": np.zeros(3, int), "pred": np.zeros(3, int), "ignore_index": -100}
    with pytest.raises(ValueError, match="not a range model's prediction: the record lacks range_image, pixel_truth"):
        range_readout(rec)
