"""Where 2D checkpoints come from, offline first.

Minimal registry of the torchvision ImageNet-1K ResNets used by the paper. A file is
found in ``$I2P_WEIGHTS_DIR``, ``~/.cache/i2p/weights`` or torch's hub cache; nothing is
downloaded at run time. A missing file raises :class:`WeightsUnavailable` whose message
says exactly where to get it and where to put it.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = ["WeightsUnavailable", "TORCHVISION_IMAGENET", "weights_dirs", "find_weights", "load_weights"]


class WeightsUnavailable(FileNotFoundError):
    """A named 2D checkpoint is not on this machine (and will not be downloaded)."""


@dataclass(frozen=True)
class Source:
    arch: str
    filename: str
    url: str
    provenance: str


def _tv(arch: str, filename: str) -> Source:
    return Source(arch, filename, f"https://download.pytorch.org/models/{filename}", "torchvision ImageNet-1K (IMAGENET1K_V1)")


TORCHVISION_IMAGENET: dict[str, Source] = {
    "resnet18.imagenet1k": _tv("resnet18", "resnet18-f37072fd.pth"),
    "resnet34.imagenet1k": _tv("resnet34", "resnet34-b627a593.pth"),
    "resnet50.imagenet1k": _tv("resnet50", "resnet50-0676ba61.pth"),
    "resnet101.imagenet1k": _tv("resnet101", "resnet101-63fe2227.pth"),
    "resnet152.imagenet1k": _tv("resnet152", "resnet152-394f9c45.pth"),
}


def weights_dirs() -> list[Path]:
    """Folders searched for checkpoint files, in order."""
    dirs = [Path(p) for p in os.environ.get("I2P_WEIGHTS_DIR", "").split(os.pathsep) if p]
    dirs.append(Path.home() / ".cache" / "i2p" / "weights")
    dirs.append(Path(torch.hub.get_dir()) / "checkpoints")
    return dirs


def find_weights(name: str) -> Path:
    """Path of a named checkpoint on this machine, or :class:`WeightsUnavailable`."""
    if name not in TORCHVISION_IMAGENET:
        raise KeyError(f"unknown weights {name!r}; known: {sorted(TORCHVISION_IMAGENET)}")
    src = TORCHVISION_IMAGENET[name]
    for d in weights_dirs():
        if (d / src.filename).is_file():
            return d / src.filename
    raise WeightsUnavailable(
        f"{name} ({src.provenance}) is not on this machine and i2p does not download at run time.\n"
        f"  On a machine with internet: curl -L -o {src.filename} {src.url}\n"
        f"  then copy it to {weights_dirs()[-2]}/ (or a folder named by $I2P_WEIGHTS_DIR)."
    )


def load_weights(name: str) -> dict[str, torch.Tensor]:
    """State dict of a named checkpoint (torchvision layout)."""
    from .models.pretrained import read_state_dict

    return read_state_dict(find_weights(name))
