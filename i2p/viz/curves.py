"""Figures of a notebook's rows: this run beside the paper per row, training curves over
scopes and seeds, and a metric against a variable (data fraction, model size)."""
from __future__ import annotations

import statistics
from typing import Sequence

import matplotlib.pyplot as plt

__all__ = ["curves_frame", "training_curves_figure", "paper_vs_run_figure", "metric_vs_figure"]


def curves_frame(rows: Sequence):
    """Long table of every row's per-epoch curves: row, seed, epoch, train_loss, train_acc."""
    import pandas as pd

    recs = [{"row": r.label, "seed": rec.seed, **c} for r in rows for rec in r.records for c in rec.curves]
    if not recs:
        raise ValueError("no curves: the rows have no finished runs")
    return pd.DataFrame(recs)


def training_curves_figure(rows: Sequence, title: str = "") -> plt.Figure:
    """Training loss and accuracy per epoch, one line per row (band: spread over seeds)."""
    import seaborn as sns

    df = curves_frame(rows)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    sns.lineplot(df, x="epoch", y="train_loss", hue="row", errorbar="sd", ax=axes[0])
    axes[0].set_yscale("log")
    if "train_acc" in df:
        sns.lineplot(df, x="epoch", y="train_acc", hue="row", errorbar="sd", ax=axes[1], legend=False)
    axes[0].legend(fontsize=7)
    fig.suptitle(title or "Training curves (band: ± std over seeds)", fontsize=10)
    fig.tight_layout()
    return fig


def paper_vs_run_figure(rows: Sequence, metric: str = "top-1 %", title: str = "") -> plt.Figure:
    """One bar per row: this run's mean (error bar: std over seeds, dots: each seed) and
    the paper's value as a marker where the row has a paper cell."""
    rows = [r for r in rows if r.records]
    if not rows:
        raise ValueError("no finished rows to draw")
    fig, ax = plt.subplots(figsize=(max(5, 0.9 * len(rows) + 2), 3.6))
    xs = range(len(rows))
    means = [r.mean for r in rows]
    stds = [(statistics.stdev(r.values) if len(r.values) > 1 else 0) for r in rows]
    colors = ["#bbbbbb" if r.cell is None else "#4c72b0" for r in rows]
    ax.bar(xs, means, yerr=stds, color=colors, capsize=3, label="this run (grey: control)")
    for x, r in zip(xs, rows):
        ax.scatter([x] * len(r.values), r.values, color="k", s=8, zorder=3)
    px = [x for x, r in zip(xs, rows) if r.cell is not None]
    ax.scatter(px, [r.cell.value for r in rows if r.cell is not None], marker="D", color="#dd8452", zorder=4,
               label="paper")
    ax.set_xticks(list(xs), [r.label for r in rows], rotation=30, ha="right", fontsize=8)
    ax.set_ylabel(metric)
    ax.legend(fontsize=8)
    ax.set_title(title or "This run beside the paper", fontsize=10)
    fig.tight_layout()
    return fig


def metric_vs_figure(series: dict[str, Sequence[tuple[float, Sequence[float]]]], xlabel: str,
                     paper: dict[str, Sequence[tuple[float, float]]] | None = None, ylabel: str = "top-1 %",
                     logx: bool = False, title: str = "") -> plt.Figure:
    """A metric against a variable: ``series`` maps a label to ``(x, per-seed values)``
    points (line: mean, band: min-max over seeds); ``paper`` adds the paper's ``(x, value)``
    as dashed lines."""
    if not series:
        raise ValueError("nothing to draw")
    fig, ax = plt.subplots(figsize=(6, 3.6))
    for label, pts in series.items():
        pts = sorted(pts)
        xs = [p[0] for p in pts]
        line, = ax.plot(xs, [statistics.fmean(p[1]) for p in pts], marker="o", label=f"{label} (this run)")
        ax.fill_between(xs, [min(p[1]) for p in pts], [max(p[1]) for p in pts], color=line.get_color(), alpha=0.2)
        if paper and label in paper:
            pp = sorted(paper[label])
            ax.plot([p[0] for p in pp], [p[1] for p in pp], ls="--", color=line.get_color(), label=f"{label} (paper)")
    if logx:
        ax.set_xscale("log")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    ax.set_title(title, fontsize=10)
    fig.tight_layout()
    return fig
