"""What a range-image model sees and says: the sweep as its 2D network reads it.

A projection-based model (paper §4.2) segments a range image (64 beams by one column per
azimuth step: 64 x 2048 for the real HDL-64E, 64 x 384 for SynthKITTI teaching), and every
point of the sweep takes a label back from it (:mod:`i2p.range_image`). Each pixel shows
only its closest point; the points hidden behind it are not in the image at all and get
their label from RangeNet++'s kNN vote among neighbouring pixels. Two views of that step:

- :func:`range_image_figure`: range | ground truth | prediction, pixel by pixel (class
  colours as in every 3D view, :func:`~i2p.viz.scenes.class_colors`; empty pixels blank).
- :func:`range_readout`: the numbers of one sweep -- pixel accuracy in the image, point
  accuracy after back-projection, and how the hidden points fared with the kNN vote
  against simply taking their pixel's label.

Both read a record of :func:`~i2p.viz.scenes.predict` for a range model (its
``range_image``, ``pixel_truth`` and ``pixel_pred``).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgba_array
from matplotlib.patches import Patch

from ..range_image import RangeImage
from .scenes import _check_ids, _numpy, class_colors

__all__ = ["range_image_figure", "RangeReadout", "range_readout", "NO_LABEL"]

#: a pixel whose point has no label (black: no class colour of tab10 / tab20 is near it)
NO_LABEL = "#000000"

#: keys of a :func:`~i2p.viz.scenes.predict` record that only range models have
_RANGE_KEYS = ("range_image", "pixel_truth", "pixel_pred")


def _pixel_labels(rimg: RangeImage, labels, what: str) -> np.ndarray:
    lab = _numpy(labels)
    hw = tuple(rimg.mask.shape)
    if lab.shape != hw or not np.issubdtype(lab.dtype, np.integer):
        raise ValueError(f"{what} must be integer labels [{hw[0]}, {hw[1]}] for this range image, "
                         f"got {lab.dtype} {lab.shape}")
    return lab.astype(np.int64)


def _rgba(labels: np.ndarray, occupied: np.ndarray, colors: np.ndarray, ignore_index: int) -> np.ndarray:
    """``[H, W, 4]``: class colours, :data:`NO_LABEL` for occupied unlabelled pixels, transparent where empty."""
    out = np.zeros((*labels.shape, 4))
    known = occupied & (labels != ignore_index)
    out[known] = colors[labels[known]]
    out[occupied & ~known] = to_rgba_array(NO_LABEL)[0]
    return out


def range_image_figure(rimg: RangeImage, pred_pixels, truth_pixels, classes: Sequence[str], *,
                       ignore_index: int = -100, title: str | None = None, width: float = 11.0) -> plt.Figure:
    """Three stacked panels of one sweep's range image: the range channel, the ground-truth
    pixel labels (black: a point without a label) and the predicted pixel labels, titled
    with the pixel accuracy over labelled pixels; empty pixels (no point) stay blank in
    every panel. ``pred_pixels`` / ``truth_pixels``: integer ``[H, W]`` (``truth`` may hold
    ``ignore_index``); ``width`` in inches (the height follows the image's aspect)."""
    if not isinstance(rimg, RangeImage):
        raise TypeError(f"rimg must be a RangeImage (RangeProjection.project), got {type(rimg).__name__}")
    if not len(classes):
        raise ValueError("classes is empty")
    occupied = _numpy(rimg.mask).astype(bool)
    pred = _pixel_labels(rimg, pred_pixels, "pred_pixels")
    truth = _pixel_labels(rimg, truth_pixels, "truth_pixels")
    _check_ids(truth[occupied], len(classes), "ground-truth", ignore_index)
    _check_ids(pred[occupied], len(classes), "predicted")  # empty pixels' predictions are never used
    colors = to_rgba_array(class_colors(classes))
    labelled = occupied & (truth != ignore_index)
    acc = (pred == truth)[labelled].mean() if labelled.any() else math.nan
    h, w = occupied.shape
    fig, axes = plt.subplots(3, 1, figsize=(width, 3 * width * h / w + 1.8), layout="constrained")
    rng = np.ma.masked_array(_numpy(rimg.image[0]), mask=~occupied)
    im = axes[0].imshow(rng, cmap=plt.get_cmap("viridis").with_extremes(bad=(0, 0, 0, 0)), interpolation="nearest")
    fig.colorbar(im, cax=axes[0].inset_axes((1.01, 0, 0.012, 1)), label="m")
    axes[1].imshow(_rgba(truth, occupied, colors, ignore_index), interpolation="nearest")
    axes[2].imshow(_rgba(pred, occupied, colors, ignore_index), interpolation="nearest")
    subtitles = (f"range (m) · {int(occupied.sum())} of {h * w} pixels hold a point, blank: none",
                 f"ground truth · {int(labelled.sum())} labelled pixels, black: no label",
                 f"prediction · pixel accuracy {acc:.1%}" if labelled.any() else "prediction · no labelled pixels")
    for ax, sub in zip(axes, subtitles):
        ax.set_title(sub, fontsize=9, loc="left")
        ax.set_ylabel("row")
    axes[2].set_xlabel("column (azimuth)")
    present = np.unique(np.concatenate([truth[labelled], pred[occupied]]))
    handles = [Patch(color=colors[k], label=classes[k]) for k in present]
    if (occupied & ~labelled).any():
        handles.append(Patch(color=NO_LABEL, label="no label"))
    fig.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 10), fontsize=8, frameon=False)
    if title:
        fig.suptitle(title)
    return fig


@dataclass(frozen=True)
class RangeReadout:
    """One sweep through a range model, counted over labelled items: ``pixel_accuracy``
    over its ``pixels`` (the image the 2D network segments), ``point_accuracy`` over its
    ``points`` (after back-projection, what the mIoU counts); ``hidden``: labelled points
    hidden behind a closer point in their pixel, right with the kNN vote
    (``hidden_accuracy``) or had they taken their pixel's label (``hidden_lookup_accuracy``);
    NaN where there is nothing to count."""

    pixel_accuracy: float
    pixels: int
    point_accuracy: float
    points: int
    hidden: int
    hidden_accuracy: float
    hidden_lookup_accuracy: float


def _accuracy(right: np.ndarray) -> float:
    return float(right.mean()) if right.size else math.nan


def range_readout(sample: Mapping) -> RangeReadout:
    """The :class:`RangeReadout` of one :func:`~i2p.viz.scenes.predict` record of a range model."""
    missing = [k for k in _RANGE_KEYS if k not in sample]
    if missing:
        raise ValueError(f"not a range model's prediction: the record lacks {', '.join(missing)} "
                         "(predict() adds them for models with input_kind 'range')")
    rimg, ignore = sample["range_image"], sample["ignore_index"]
    pix_truth = _pixel_labels(rimg, sample["pixel_truth"], "pixel_truth")
    pix_pred = _pixel_labels(rimg, sample["pixel_pred"], "pixel_pred")
    truth, pred = _numpy(sample["truth"]), _numpy(sample["pred"])
    if truth.shape != pred.shape or truth.shape != (rimg.pixel.shape[0],):
        raise ValueError(f"truth {truth.shape} and pred {pred.shape} must hold one label per point of the "
                         f"range image ({rimg.pixel.shape[0]})")
    labelled_px = _numpy(rimg.mask).astype(bool) & (pix_truth != ignore)
    row, col = _numpy(rimg.pixel).T
    lab, hidden = truth != ignore, ~_numpy(rimg.owned)
    h = lab & hidden
    return RangeReadout(_accuracy((pix_pred == pix_truth)[labelled_px]), int(labelled_px.sum()),
                        _accuracy((pred == truth)[lab]), int(lab.sum()), int(h.sum()),
                        _accuracy((pred == truth)[h]), _accuracy((pix_pred[row, col] == truth)[h]))
