"""What a trained model sees and gets wrong: per-sample predictions, 3D scenes of ground
truth next to prediction (plotly for notebooks, matplotlib for PNG/SVG without a
browser), an interactive explorer, and per-class summaries (confusion matrix, IoU).

Metrics in a run record say *how much* a model gets wrong; these views say *where*:
which parts of a room or which shapes, so a scope or a copy axis can be judged by eye.
Every class keeps one colour in every view (:func:`class_colors`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
import torch
from matplotlib.colors import to_hex
from matplotlib.lines import Line2D
from plotly.subplots import make_subplots
from torch import nn
from torch.utils.data import Dataset

from ..inputs import model_input
from ..precision import autocast, resolve_precision
from ..train import TrainConfig, pick_device

__all__ = ["predict", "class_colors", "prediction_scene", "prediction_scene_matplotlib", "prediction_explorer",
           "PredictionExplorer", "normalize_confusion", "confusion_figure", "class_iou_figure", "class_iou_table"]

AXES = ("x", "y", "z")
WRONG, CORRECT, UNLABELLED = "#e8000b", "#cfcfcf", "#9a9a9a"
#: opacity of the classes that are not highlighted (they stay as context)
DIM = 0.06


# ---------------------------------------------------------------------- predictions
@torch.no_grad()
def predict(model: nn.Module, dataset: Dataset, indices: Sequence[int], cfg: TrainConfig) -> list[dict]:
    """Predictions of ``model`` on ``dataset[i]`` for each of ``indices``, one sample at a
    time, exactly as :func:`i2p.train.evaluate` computes them (eval mode, ``cfg``'s device
    and precision, the model's input kind -- voxels, points or range images, see
    :mod:`i2p.inputs` -- and its logits and predictions per point), so the views match
    the metrics.

    Each dict: ``index``, ``name``, ``task``, ``points`` (numpy ``[P, 3]``, after the data
    set's transform: what the model saw), ``truth`` and ``pred`` (ints for cls, ``[P]``
    arrays for seg), ``probs`` (``[K]`` class probabilities, cls) or ``ignore_index`` (seg).
    A range model's records add what its 2D network saw and said (:mod:`.range_view`):
    ``range_image`` (the sweep's :class:`~i2p.range_image.RangeImage`, on the CPU),
    ``pixel_truth`` and ``pixel_pred`` (``[H, W]`` arrays; ``pred`` is their back-projection).
    The model's train mode and device are restored afterwards."""
    device = pick_device(cfg.device)
    precision = resolve_precision(cfg.precision, device)
    indices = [int(i) for i in indices]
    bad = [i for i in indices if not 0 <= i < len(dataset)]
    if bad:
        raise ValueError(f"sample indices {bad} are outside the data set ({len(dataset)} samples)")
    was_training = model.training
    home = next(model.parameters(), torch.empty(0, device=device)).device
    model.to(device).eval()
    inputs = model_input(model)
    out = []
    try:
        for i in indices:
            sample = dataset[i]
            if (torch.as_tensor(sample["label"]).dim() == 0) != (cfg.task == "cls"):
                raise ValueError(f"cfg.task is {cfg.task!r} but sample {i} has "
                                 f"{'one label' if cfg.task == 'seg' else 'per-point labels'}")
            batch = inputs.collate_fn(cfg, train=False)([sample]).to(device)
            with autocast(precision):
                res = inputs.step(model, batch, cfg, evaluation=True)
            logits, labels, pred = res.logits.float().cpu(), res.target.cpu(), res.pred.cpu()
            rec = {"index": i, "name": str(sample.get("name", i)), "task": cfg.task,
                   "points": _numpy(sample["points"])[:, :3].astype(np.float32)}
            if cfg.task == "cls":
                rec.update(truth=int(labels[0]), pred=int(pred[0]), probs=logits[0].softmax(0).numpy())
            else:
                rec.update(truth=labels.numpy(), pred=pred.numpy(), ignore_index=cfg.ignore_index)
            if res.pixel_pred is not None:
                rec.update(range_image=batch.projections[0].to("cpu"), pixel_truth=batch.labels[0].cpu().numpy(),
                           pixel_pred=res.pixel_pred[0].cpu().numpy())
            out.append(rec)
    finally:
        model.train(was_training)
        model.to(home)
    return out


# ---------------------------------------------------------------------- validation, colours
def class_colors(classes: Sequence[str]) -> list[str]:
    """One hex colour per class, the same in every view (tab10/tab20, husl beyond 20)."""
    n = len(classes)
    if n <= 20:
        cmap = plt.get_cmap("tab10" if n <= 10 else "tab20")
        return [to_hex(cmap(k)) for k in range(n)]
    import seaborn as sns

    return [to_hex(c) for c in sns.color_palette("husl", n)]


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


@dataclass
class _View:
    """A validated sample, ready to draw: ``keep`` = the deterministic subsample shown."""

    points: np.ndarray
    truth: np.ndarray | int
    pred: np.ndarray | int
    probs: np.ndarray | None
    keep: np.ndarray
    ignore_index: int

    @property
    def task(self) -> str:
        return "cls" if isinstance(self.truth, int) else "seg"


def _check_ids(values: np.ndarray, k: int, what: str, ignore_index: int | None = None) -> None:
    bad = (values < 0) | (values >= k)
    if ignore_index is not None:
        bad &= values != ignore_index
    if bad.any():
        raise ValueError(f"{what} label {int(values[bad][0])} is outside the {k} classes (ids 0..{k - 1}"
                         f"{f', or {ignore_index} for unlabelled' if ignore_index is not None else ''})")


def _view(points, truth, pred, classes: Sequence[str], probs, ignore_index: int, max_points: int,
          up_axis: str) -> _View:
    """Check one sample (clear errors before any drawing) and choose the points shown."""
    if up_axis not in AXES:
        raise ValueError(f"up_axis must be one of {', '.join(AXES)}, got {up_axis!r}")
    pts = _numpy(points).astype(np.float64)
    if pts.ndim != 2 or pts.shape[1] != 3:
        raise ValueError(f"points must be [P, 3], got shape {tuple(pts.shape)}")
    if len(pts) == 0:
        raise ValueError("empty cloud: the sample has no points to draw")
    if not len(classes):
        raise ValueError("classes is empty")
    if not isinstance(max_points, int) or max_points < 1:
        raise ValueError(f"max_points must be an int >= 1, got {max_points!r}")
    k, truth, pred = len(classes), _numpy(truth), _numpy(pred)
    if truth.ndim != pred.ndim or truth.ndim > 1:
        raise ValueError("truth and pred must both be one label (classification) or both be [P] per-point labels")
    if truth.ndim == 0:
        _check_ids(truth.reshape(1), k, "ground-truth")
        _check_ids(pred.reshape(1), k, "predicted")
        if probs is not None and _numpy(probs).shape != (k,):
            raise ValueError(f"probs must hold one probability per class ({k}), got shape {_numpy(probs).shape}")
        truth, pred, probs = int(truth), int(pred), None if probs is None else _numpy(probs).astype(float)
    else:
        for name, lab in (("ground-truth", truth), ("predicted", pred)):
            if len(lab) != len(pts):
                raise ValueError(f"{len(lab)} {name} labels for {len(pts)} points")
        _check_ids(truth, k, "ground-truth", ignore_index)
        _check_ids(pred, k, "predicted")
        truth, pred = truth.astype(np.int64), pred.astype(np.int64)
    n = len(pts)
    keep = np.arange(n) if n <= max_points else np.sort(np.random.default_rng(0).choice(n, max_points, replace=False))
    return _View(pts, truth, pred, probs, keep, ignore_index)


def _class_index(highlight: int | str | None, classes: Sequence[str]) -> int | None:
    if highlight is None or highlight == "all":
        return None
    if isinstance(highlight, str):
        if highlight not in classes:
            raise ValueError(f"unknown class {highlight!r} to highlight; classes: {', '.join(classes)}")
        return list(classes).index(highlight)
    if not 0 <= int(highlight) < len(classes):
        raise ValueError(f"class id {highlight} to highlight is outside the {len(classes)} classes")
    return int(highlight)


# ---------------------------------------------------------------------- what to draw
@dataclass
class _Layer:
    """One group of points in one panel: a trace (plotly) or a scatter call (matplotlib)."""

    panel: int
    name: str
    idx: np.ndarray
    color: str
    size: float
    opacity: float
    legend: bool


PANELS = ("ground truth", "prediction", "errors")


def _seg_layers(v: _View, classes: Sequence[str], hl: int | None) -> list[_Layer]:
    """Always the same layers (2K + 3): a figure widget can then be updated in place.

    Panel 0: truth per class + unlabelled; panel 1: prediction per class; panel 2: correct
    (grey) and misclassified (red, larger) labelled points, limited to the highlighted class."""
    t, p, colors = v.truth[v.keep], v.pred[v.keep], class_colors(classes)
    lab = t != v.ignore_index
    layers = []
    for panel, lbl in ((0, t), (1, p)):
        for k, name in enumerate(classes):
            present = bool((t == k).any() or (p == k).any())
            op = 1.0 if hl is None or hl == k else DIM
            layers.append(_Layer(panel, name, v.keep[lbl == k], colors[k], 2, op, panel == 0 and present))
        if panel == 0:
            layers.append(_Layer(0, "unlabelled", v.keep[~lab], UNLABELLED, 1.5, 0.4, bool((~lab).any())))
    focus = lab if hl is None else lab & ((t == hl) | (p == hl))
    layers.append(_Layer(2, "correct", v.keep[focus & (t == p)], CORRECT, 2, 0.6, True))
    layers.append(_Layer(2, "misclassified", v.keep[focus & (t != p)], WRONG, 4, 1.0, True))
    return layers


def _seg_title(v: _View, classes: Sequence[str], hl: int | None, title: str | None) -> str:
    lab = v.truth != v.ignore_index  # accuracy over every labelled point, not only those drawn
    wrong = int((v.truth != v.pred)[lab].sum())
    text = (f"accuracy {1 - wrong / lab.sum():.1%} ({wrong} of {int(lab.sum())} labelled points wrong)" if lab.any()
            else "no labelled points")
    if hl is not None:
        t, p = v.truth[lab] == hl, v.pred[lab] == hl
        union = int((t | p).sum())
        text += f" · {classes[hl]}: IoU {int((t & p).sum()) / union:.1%}" if union else f" · no {classes[hl]} here"
    if len(v.keep) < len(v.points):
        text += f" · showing {len(v.keep)} of {len(v.points)} points"
    return f"{title} — {text}" if title else text


def _cls_title(v: _View, classes: Sequence[str], title: str | None) -> str:
    p = f" (p={v.probs[v.pred]:.2f})" if v.probs is not None else ""
    text = f"truth {classes[v.truth]} · predicted {classes[v.pred]}{p}"
    return f"{title} — {text}" if title else text


# ---------------------------------------------------------------------- plotly
def prediction_scene(points, truth, pred, classes: Sequence[str], *, probs=None, title: str | None = None,
                     max_points: int = 20000, highlight: int | str | None = None, ignore_index: int = -100,
                     up_axis: str = "z") -> go.Figure:
    """Ground truth | prediction | errors (segmentation: 2K + 3 traces, one colour and one
    legend entry per class, misclassified points red and larger), or for classification
    one panel coloured by height titled "truth X · predicted Y (p=…)".

    ``highlight``: a class (name or id) to focus on: the others fade, the errors panel
    shows only its points, the title adds its IoU. Accuracy is over all points; at most
    ``max_points`` (a fixed random subset) are drawn. ``up_axis`` is drawn up."""
    v = _view(points, truth, pred, classes, probs, ignore_index, max_points, up_axis)
    up = {a: int(a == up_axis) for a in AXES}
    scene = dict(aspectmode="data", camera=dict(up=up), xaxis_title="x", yaxis_title="y", zaxis_title="z")
    x, y, z = v.points.T
    if v.task == "cls":
        h = v.points[v.keep, AXES.index(up_axis)]
        fig = go.Figure(go.Scatter3d(x=x[v.keep], y=y[v.keep], z=z[v.keep], mode="markers", name="cloud",
                                     marker=dict(size=2, color=h, colorscale="Viridis",
                                                 colorbar=dict(title=f"height ({up_axis})"))))
        text, color = _cls_title(v, classes, title), "#222" if v.truth == v.pred else WRONG
    else:
        hl = _class_index(highlight, classes)
        fig = make_subplots(rows=1, cols=3, specs=[[{"type": "scene"}] * 3], subplot_titles=PANELS,
                            horizontal_spacing=0.01)
        for L in _seg_layers(v, classes, hl):
            fig.add_trace(go.Scatter3d(x=x[L.idx], y=y[L.idx], z=z[L.idx], mode="markers", name=L.name,
                                       legendgroup=L.name, showlegend=L.legend,
                                       marker=dict(size=L.size, color=L.color, opacity=L.opacity)), 1, L.panel + 1)
        text, color = _seg_title(v, classes, hl, title), "#222"
    fig.update_scenes(**scene)
    fig.update_layout(title=dict(text=text, x=0.5, font=dict(color=color)), margin=dict(l=0, r=0, t=70, b=0),
                      height=480, legend=dict(itemsizing="constant"), uirevision="keep")
    return fig


# ---------------------------------------------------------------------- matplotlib
def prediction_scene_matplotlib(points, truth, pred, classes: Sequence[str], *, probs=None, title: str | None = None,
                                max_points: int = 20000, highlight: int | str | None = None,
                                ignore_index: int = -100, up_axis: str = "z") -> plt.Figure:
    """:func:`prediction_scene` drawn with matplotlib (PNG/SVG export without Chromium):
    the same panels, colours, error marking and title; ``up_axis`` becomes the plot's z."""
    v = _view(points, truth, pred, classes, probs, ignore_index, max_points, up_axis)
    order = [a for a in AXES if a != up_axis] + [up_axis]  # matplotlib's 3D axes always have z up
    pts = v.points[:, [AXES.index(a) for a in order]]
    span = np.maximum(np.ptp(pts, axis=0), 1e-6)

    def panel(ax, name: str) -> None:
        ax.set_box_aspect(span)  # equal scale on every axis, as plotly's aspectmode="data"
        ax.set(xlabel=order[0], ylabel=order[1], zlabel=order[2])
        ax.set_title(name, fontsize=10)

    if v.task == "cls":
        fig = plt.figure(figsize=(6, 5.5))
        ax = fig.add_subplot(projection="3d")
        sc = ax.scatter(*pts[v.keep].T, c=pts[v.keep, 2], cmap="viridis", s=3, depthshade=False)
        fig.colorbar(sc, ax=ax, shrink=0.6, label=f"height ({up_axis})")
        panel(ax, "")
        fig.suptitle(_cls_title(v, classes, title), color="#222" if v.truth == v.pred else WRONG)
        return fig
    hl = _class_index(highlight, classes)
    fig, axes = plt.subplots(1, 3, figsize=(16, 5.5), subplot_kw={"projection": "3d"})
    for ax, name in zip(axes, PANELS):
        panel(ax, name)
    handles = []
    for L in _seg_layers(v, classes, hl):
        if len(L.idx):
            axes[L.panel].scatter(*pts[L.idx].T, c=L.color, s=1.5 * L.size ** 2, alpha=L.opacity, depthshade=False,
                                  linewidths=0)
        if L.legend:
            handles.append(Line2D([], [], ls="", marker="o", color=L.color, label=L.name))
    fig.legend(handles=handles, loc="center right", fontsize=8, frameon=False)
    fig.suptitle(_seg_title(v, classes, hl, title))
    fig.subplots_adjust(left=0, right=0.9, wspace=0.02)
    return fig


# ---------------------------------------------------------------------- explorer
class PredictionExplorer(widgets.VBox):
    """Dropdowns (run, sample, class) above a plotly ``FigureWidget`` updated in place.

    Only the widget tree is built (no ``show``): the notebook displays it. Switching the
    run keeps the sample, so runs compare on the same cloud. Class (segmentation): fade
    the others and list only its errors; (classification): list only the samples whose
    truth or prediction is that class."""

    def __init__(self, samples_by_run: Mapping[str, Sequence[dict]], classes: Sequence[str], *,
                 max_points: int = 20000, up_axis: str = "z") -> None:
        if not samples_by_run or not all(len(s) for s in samples_by_run.values()):
            raise ValueError("samples_by_run needs at least one run, each with at least one sample (from predict)")
        tasks = {s["task"] for ss in samples_by_run.values() for s in ss}
        if len(tasks) != 1:
            raise ValueError(f"the runs mix tasks {sorted(tasks)}: explore classification and segmentation apart")
        for run, samples in samples_by_run.items():  # a bad label fails here, not inside a dropdown callback
            for s in samples:
                ignore = s.get("ignore_index")
                _check_ids(np.atleast_1d(_numpy(s["truth"])), len(classes), f"{run}: truth", ignore)
                _check_ids(np.atleast_1d(_numpy(s["pred"])), len(classes), f"{run}: prediction")
        self.samples_by_run, self.classes, self.task = dict(samples_by_run), list(classes), tasks.pop()
        self._kw = dict(max_points=max_points, up_axis=up_axis)
        self.run = widgets.Dropdown(options=list(self.samples_by_run), description="run")
        self.cls = widgets.Dropdown(options=[("all", -1)] + [(c, k) for k, c in enumerate(self.classes)],
                                    description="class")
        self.sample = widgets.Dropdown(options=self._sample_options(), description="sample")
        self.status = widgets.HTML()
        self.figure = go.FigureWidget(self._scene())
        self._busy = False
        self.run.observe(self._refresh_samples, "value")
        self.cls.observe(self._refresh_samples, "value")
        self.sample.observe(self._redraw, "value")
        super().__init__([widgets.HBox([self.run, self.sample, self.cls]), self.status, self.figure])

    def _sample_options(self) -> list[tuple[str, int]]:
        opts, hl = [], self.cls.value
        for pos, s in enumerate(self.samples_by_run[self.run.value]):
            if self.task == "cls":
                if hl >= 0 and hl not in (s["truth"], s["pred"]):
                    continue
                tag = f"{self.classes[s['truth']]} → {self.classes[s['pred']]}"
            else:
                lab = s["truth"] != s.get("ignore_index", -100)
                tag = f"acc {(s['truth'] == s['pred'])[lab].mean():.0%}" if lab.any() else "unlabelled"
            opts.append((f"{s['index']}: {s['name']} ({tag})", pos))
        return opts

    def _scene(self) -> go.Figure:
        s = self.samples_by_run[self.run.value][self.sample.value]
        hl = self.cls.value if self.cls.value >= 0 and self.task == "seg" else None
        return prediction_scene(s["points"], s["truth"], s["pred"], self.classes, probs=s.get("probs"),
                                title=self.run.value, highlight=hl, ignore_index=s.get("ignore_index", -100),
                                **self._kw)

    def _refresh_samples(self, _=None) -> None:
        keep, self._busy = self.sample.value, True
        opts = self._sample_options()
        self.sample.options = opts
        values = [o[1] for o in opts]
        self.sample.value = keep if keep in values else (values[0] if values else None)
        self._busy = False
        self._redraw()

    def _redraw(self, _=None) -> None:
        if self._busy:
            return
        if self.sample.value is None:
            self.status.value = f"no sample of {self.run.value} has truth or prediction {self.classes[self.cls.value]}"
            return
        self.status.value = ""
        new = self._scene()
        with self.figure.batch_update():
            for old, trace in zip(self.figure.data, new.data):
                old.update({k: v for k, v in trace.to_plotly_json().items() if k != "type"})
            self.figure.layout.title = new.layout.title


def prediction_explorer(samples_by_run: Mapping[str, Sequence[dict]], classes: Sequence[str], *,
                        max_points: int = 20000, up_axis: str = "z") -> PredictionExplorer:
    """:class:`PredictionExplorer` over :func:`predict` outputs by run; a cell's last value shows it."""
    return PredictionExplorer(samples_by_run, classes, max_points=max_points, up_axis=up_axis)


# ---------------------------------------------------------------------- per-class summaries
def normalize_confusion(confusion) -> np.ndarray:
    """Rows (ground truth) divided by their sums: the recall of each class along the
    diagonal; a class absent from the ground truth gets a NaN row (nothing to divide)."""
    c = _numpy(confusion).astype(float)
    if c.ndim != 2 or c.shape[0] != c.shape[1]:
        raise ValueError(f"a confusion matrix is square [K, K], got shape {c.shape}")
    if (c < 0).any():
        raise ValueError("a confusion matrix holds counts: it has negative entries")
    rows = c.sum(1, keepdims=True)
    return np.divide(c, rows, out=np.full_like(c, np.nan), where=rows > 0)


def confusion_figure(confusion, classes: Sequence[str], normalize: bool = True, title: str | None = None) -> plt.Figure:
    """Heatmap of a confusion matrix (rows ground truth, columns prediction; e.g. a run
    record's ``metrics["confusion"]``), per-row fractions with ``normalize``; classes with
    no ground truth are marked "(absent)"."""
    import seaborn as sns

    counts = _numpy(confusion)
    mat = normalize_confusion(counts) if normalize else counts.astype(float)
    k = len(classes)
    if mat.shape != (k, k):
        raise ValueError(f"confusion is {mat.shape[0]}x{mat.shape[1]} but there are {k} classes")
    rows = [c if n else f"{c} (absent)" for c, n in zip(classes, counts.sum(1))]
    fig, ax = plt.subplots(figsize=(3 + 0.6 * k, 2.2 + 0.5 * k))
    sns.heatmap(mat, ax=ax, xticklabels=list(classes), yticklabels=rows, cmap="Blues", square=True,
                annot=k <= 15, fmt=".2f" if normalize else ".0f", annot_kws={"fontsize": 7},
                vmin=0, vmax=1 if normalize else None, cbar_kws={"label": "fraction of row" if normalize else "count"})
    ax.set(xlabel="prediction", ylabel="ground truth")
    ax.tick_params(axis="x", labelrotation=45)
    ax.tick_params(axis="y", labelrotation=0)
    ax.set_title(title or f"confusion ({'rows normalised' if normalize else 'counts'})")
    fig.tight_layout()
    return fig


def _iou_matrix(iou_by_run: Mapping[str, Sequence[float | None]], classes: Sequence[str]) -> np.ndarray:
    if not iou_by_run:
        raise ValueError("iou_by_run is empty")
    out = []
    for run, vals in iou_by_run.items():
        if len(vals) != len(classes):
            raise ValueError(f"run {run!r} has {len(vals)} IoU values for {len(classes)} classes")
        row = np.array([np.nan if v is None else float(v) for v in vals])
        if ((row < 0) | (row > 1)).any():
            raise ValueError(f"run {run!r}: IoU values lie in [0, 1] (as record.metrics['iou']), got {vals}")
        out.append(row)
    return np.array(out)


def class_iou_table(iou_by_run: Mapping[str, Sequence[float | None]], classes: Sequence[str]):
    """Per-class IoU in % (rows classes + ``mIoU``, columns runs; NaN: class absent, left
    out of the mean as :func:`i2p.metrics.summarize_confusion` does)."""
    import pandas as pd

    m = 100 * _iou_matrix(iou_by_run, classes)
    df = pd.DataFrame(m.T, index=list(classes), columns=list(iou_by_run))
    df.loc["mIoU"] = df.mean()  # skips NaN
    return df


def class_iou_figure(iou_by_run: Mapping[str, Sequence[float | None]], classes: Sequence[str],
                     title: str | None = None) -> plt.Figure:
    """Grouped bars: IoU per class, one bar per run (legend with each run's mIoU). A
    class absent from a run's ground truth and predictions has no IoU: a gap marked
    "n/a", explained under the axes."""
    m = 100 * _iou_matrix(iou_by_run, classes)
    runs, k = list(iou_by_run), len(classes)
    width = 0.8 / len(runs)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.45 * k * max(len(runs), 2) / 2 + 2), 4))
    colors = plt.get_cmap("tab10")
    for r, (run, row) in enumerate(zip(runs, m)):
        x = np.arange(k) - 0.4 + width * (r + 0.5)
        ok = ~np.isnan(row)
        miou = f"{np.nanmean(row):.1f}" if ok.any() else "n/a"
        ax.bar(x[ok], row[ok], width, color=colors(r % 10), label=f"{run} (mIoU {miou})")
        for xi in x[~ok]:
            ax.text(xi, 1, "n/a", rotation=90, ha="center", va="bottom", fontsize=7, color="#777")
    ax.set_xticks(np.arange(k), list(classes), rotation=45, ha="right")
    ax.set(ylim=(0, 100), ylabel="IoU (%)", title=title or "per-class IoU")
    ax.legend(fontsize=8, frameon=False)
    if np.isnan(m).any():
        fig.text(0.01, 0.01, "n/a: class absent from that run's ground truth and predictions (no IoU; not in mIoU)",
                 fontsize=7, color="#555")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig
