"""BatchNorm statistics before and after finetuning on point clouds (paper §4.1: why
re-estimating μ,σ alone moves accuracy so much). "Before" is the inflated model as it
leaves 2D pretraining, "after" the trained run; one row per BN layer, in depth order."""
from __future__ import annotations

import math

import matplotlib.pyplot as plt
from torch import nn

__all__ = ["bn_layers", "bn_shift", "bn_shift_figure"]


def bn_layers(model: nn.Module) -> dict[str, nn.modules.batchnorm._BatchNorm]:
    """The model's BatchNorm layers that hold running statistics, in module order."""
    return {n: m for n, m in model.named_modules()
            if isinstance(m, nn.modules.batchnorm._BatchNorm) and m.running_mean is not None}


def bn_shift(before: nn.Module, after: nn.Module):
    """Per BN layer present in both models: how far the running mean moved (RMS over
    channels, in units of the old running std), the mean log2 ratio of the running
    variances, and how much the affine W,b moved (relative) -- 0 where the scope froze them."""
    import pandas as pd

    a, b = bn_layers(before), bn_layers(after)
    common = [n for n in a if n in b]
    if not common:
        raise ValueError("the two models share no BatchNorm layer: compare a run with its own initial model")
    rows = []
    for depth, name in enumerate(common):
        m0, m1 = a[name], b[name]
        if m0.running_mean.shape != m1.running_mean.shape:
            raise ValueError(f"BN layer {name}: {tuple(m0.running_mean.shape)} vs {tuple(m1.running_mean.shape)}")
        std0 = (m0.running_var.float() + m0.eps).sqrt()
        dmean = ((m1.running_mean.float() - m0.running_mean.float()) / std0).pow(2).mean().sqrt()
        lvar = ((m1.running_var.float() + m1.eps) / (m0.running_var.float() + m0.eps)).log2().mean()
        affine = math.nan
        if m0.affine and m1.affine:
            w0 = (m0.weight.detach().float().norm() + m0.bias.detach().float().norm())
            dw = (m1.weight.detach().float() - m0.weight.detach().float()).norm() + \
                 (m1.bias.detach().float() - m0.bias.detach().float()).norm()
            affine = float(dw / w0.clamp_min(1e-12))
        rows.append({"layer": name, "depth": depth, "channels": m0.num_features, "mean_shift_std": float(dmean),
                     "log2_var_ratio": float(lvar), "affine_change": affine})
    return pd.DataFrame(rows)


def bn_shift_figure(shifts: dict[str, "object"], title: str = "") -> plt.Figure:
    """Mean shift and variance ratio per layer depth, one line per label (scope or data
    set): ``shifts`` maps a label to a :func:`bn_shift` frame."""
    import pandas as pd
    import seaborn as sns

    if not shifts:
        raise ValueError("no BN shifts to draw")
    df = pd.concat([d.assign(run=label) for label, d in shifts.items()], ignore_index=True)
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.4))
    sns.lineplot(df, x="depth", y="mean_shift_std", hue="run", marker="o", ax=axes[0])
    axes[0].set_ylabel("running mean shift (old std units, RMS)")
    sns.lineplot(df, x="depth", y="log2_var_ratio", hue="run", marker="o", ax=axes[1], legend=False)
    axes[1].axhline(0, color="grey", lw=0.8)
    axes[1].set_ylabel("log2(var after / var before)")
    for ax in axes:
        ax.set_xlabel("BN layer (input → output)")
    fig.suptitle(title or "BatchNorm statistics after finetuning on point clouds vs. after 2D pretraining", fontsize=10)
    fig.tight_layout()
    return fig
