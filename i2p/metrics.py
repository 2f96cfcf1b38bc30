"""Top-1 accuracy and mIoU from a confusion matrix."""
from __future__ import annotations

import torch

__all__ = ["confusion_matrix", "summarize_confusion"]


def confusion_matrix(pred: torch.Tensor, target: torch.Tensor, num_classes: int, ignore_index: int = -100) -> torch.Tensor:
    """``[K, K]`` counts, rows = ground truth, columns = prediction."""
    keep = target != ignore_index
    pred, target = pred[keep], target[keep]
    if target.numel() and (target.min() < 0 or target.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes}) or equal ignore_index {ignore_index}")
    return torch.bincount(target * num_classes + pred, minlength=num_classes**2).reshape(num_classes, num_classes)


def summarize_confusion(conf: torch.Tensor) -> dict:
    """``top1`` (overall accuracy), ``mean_acc`` and ``miou`` over classes present in
    ground truth or predictions (SemanticKITTI/S3DIS convention), plus per-class IoU."""
    conf = conf.double()
    tp = conf.diag()
    gt, pr = conf.sum(1), conf.sum(0)
    union = gt + pr - tp
    present = union > 0
    iou = torch.where(present, tp / union.clamp_min(1), torch.full_like(tp, float("nan")))
    acc = torch.where(gt > 0, tp / gt.clamp_min(1), torch.full_like(tp, float("nan")))
    return {
        "top1": float(tp.sum() / conf.sum().clamp_min(1)),
        "mean_acc": float(acc[gt > 0].mean()) if (gt > 0).any() else float("nan"),
        "miou": float(iou[present].mean()) if present.any() else float("nan"),
        "iou": iou.tolist(),
        "confusion": conf.long(),
    }
