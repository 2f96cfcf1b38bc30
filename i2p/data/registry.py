"""One interface for every data set: a :class:`DatasetSpec` per data set, registered by name.

A data set lives in its own package ``i2p/data/<name>/`` (labels, the generator of its
embedded stand-in, the official-format readers and checks) whose ``__init__`` exposes
``SPEC``, an instance of a :class:`DatasetSpec` subclass. :data:`PACKAGES` below is the
one place a package is registered. Everything else (CLI, experiments, notebooks)
addresses data sets through :func:`get`, by name or alias::

    spec = get("modelnet40")            # or "modelnet", "ModelNet40"
    train = spec.load("train")          # embedded stand-in, teaching profile, default train transform
    test = spec.load(spec.eval_split)   # the split the paper evaluates on
    real = spec.load_real("/data/modelnet40_ply_hdf5_2048", "test")

The spec owns the parts that are the same for every data set: one split vocabulary
(``train`` / ``val`` / ``test``), one keyword for generator options (``options=``), one
behaviour for a damaged cache (detected by :func:`~i2p.data.store.cached_build` or a
failed read; said in a warning; regenerated once), default transforms by split.
"""
from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable, ClassVar, Sequence

from .store import CloudDataset, cached_build, cached_read, load_cloudset
from .transforms import ScaleFeatures

__all__ = ["SPLITS", "AXES", "DatasetSpec", "PACKAGES", "get", "names", "all_specs"]

#: the split vocabulary every data set uses (a data set has a subset of these)
SPLITS: tuple[str, ...] = ("train", "val", "test")
AXES: tuple[str, ...] = ("x", "y", "z")
_DEFAULT = "default"


class DatasetSpec:
    """What the study needs to know about one data set, and how to get its samples.

    Subclasses set the class attributes and implement the hooks marked *hook*; the
    public methods (:meth:`make`, :meth:`load`, :meth:`load_real`, :meth:`check`,
    :meth:`gallery`, transforms) are the same for every data set. Samples are dicts
    ``{"points": [N, 3] float32, "feats": [N, C] float32 (optional; columns = channels,
    the first three are xyz), "label": int (cls) or [N] int64 (seg), "name": str}``.
    """

    #: canonical registry name (the real data set's name, lower case)
    name: ClassVar[str]
    #: other names accepted by :func:`get`
    aliases: ClassVar[tuple[str, ...]] = ()
    #: the real data set and the embedded stand-in i2p generates for it
    title: ClassVar[str]
    stand_in: ClassVar[str]
    task: ClassVar[str]  # "cls" or "seg"
    classes: ClassVar[tuple[str, ...]]
    #: label value that is not scored (segmentation); classification sets have none
    ignore_index: ClassVar[int] = -100
    #: per-point input features in order, e.g. ("x", "y", "z", "r", "g", "b")
    channels: ClassVar[tuple[str, ...]]
    #: the data axis pointing up, in the frame the samples are returned in
    up_axis: ClassVar[str]
    #: what each axis is physically, e.g. {"x": "forward (driving direction)", ...}
    axes: ClassVar[dict[str, str]]
    #: split name -> what it holds (same meaning for the stand-in and the real data)
    splits: ClassVar[dict[str, str]]
    #: the split the paper reports its numbers on
    eval_split: ClassVar[str]
    #: generator profiles: name -> generator options (every profile has the same keys)
    profiles: ClassVar[dict[str, dict[str, Any]]]
    #: bump when the generator changes: part of the cache key, so old caches are not reused
    generator_version: ClassVar[int]
    #: per-channel factors the default transforms apply last (None: features as stored),
    #: so channels of very different spread (metres next to reflectances) enter the input
    #: layer at comparable scales. The input layer is linear and trained in every scope, so
    #: this changes how fast training gets going, not what a model can represent; it is
    #: part of a run's identity.
    feature_scale: ClassVar[tuple[float, ...] | None] = None

    # ------------------------------------------------------------------ description
    @property
    def in_channels(self) -> int:
        return len(self.channels)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __repr__(self) -> str:
        return f"<DatasetSpec {self.name}: {self.title} ({self.task}), stand-in {self.stand_in}>"

    def describe_copy_axis(self, axis: str) -> str:
        """What copying a 2D filter along data axis ``axis`` (or ``"up"``, or the authors'
        layout ``"authors"``: along y, rows along z) means physically on this data set."""
        if axis == "authors":
            how, axis, plane = "the authors' layout: copy along y", "y", "z-x (rows along z, columns along x)"
        else:
            axis = self.resolve_axis(axis)
            how, plane = f"copy along {axis}", "-".join(a for a in AXES if a != axis)
        if axis == self.up_axis:
            view = ("from above: every 3D tap column sums over height, so the filter acts on the top-down "
                    "(bird's-eye) projection")
        else:
            view = f"from the side, looking along {axis}: the filter acts on an elevation (side-view) projection"
        return f"{self.title}: {how} ({self.axes[axis]}); the 2D filter lies in the {plane} plane and sees the scene {view}"

    def resolve_axis(self, axis: str) -> str:
        """``"x"``, ``"y"``, ``"z"`` as given; ``"up"`` -> this data set's up axis."""
        if axis == "up":
            return self.up_axis
        if axis not in AXES:
            raise ValueError(f"unknown axis {axis!r}; choose one of {', '.join(AXES)} or 'up'")
        return axis

    # ------------------------------------------------------------------ splits and options
    def check_split(self, split: str) -> str:
        if split not in self.splits:
            raise ValueError(
                f"{self.name} has no split {split!r}; it has {', '.join(self.splits)} "
                f"(the paper evaluates on {self.eval_split!r})"
            )
        return split

    def resolve_options(self, profile: str = "teaching", options: dict | None = None) -> dict:
        """The generator options of ``profile`` with ``options`` laid over them.

        Unknown profiles and option keys are errors that list the valid ones."""
        if profile not in self.profiles:
            raise ValueError(f"unknown {self.stand_in} profile {profile!r}; choose one of {', '.join(self.profiles)}")
        if options is not None and not isinstance(options, dict):
            raise TypeError(f"options must be a dict of generator options, got {type(options).__name__}")
        opts = dict(self.profiles[profile])
        unknown = sorted(set(options or {}) - set(opts))
        if unknown:
            raise ValueError(f"unknown {self.stand_in} option(s) {unknown}; valid options: {', '.join(sorted(opts))}")
        opts.update(options or {})
        self.validate_options(opts)
        return opts

    # ------------------------------------------------------------------ embedded stand-in
    def _cache(self, profile: str, options: dict | None, seed: int, progress: bool):
        """(cache name, cache key parameters, resolved options, builder) of a stand-in."""
        opts = self.resolve_options(profile, options)
        params = {"generator": self.stand_in, "version": self.generator_version, "profile": profile,
                  "seed": int(seed), **opts}

        def build(folder: Path) -> None:
            self.generate(folder, opts, int(seed), progress)

        return f"synth_{self.name}-{profile}", params, opts, build

    def make(self, profile: str = "teaching", *, options: dict | None = None, seed: int = 0,
             root: str | Path | None = None, progress: bool = True, verify: bool = False) -> Path:
        """Generate (once) the stand-in for ``profile`` and return its cache folder; a
        cache found damaged (file sizes against its manifest; with ``verify`` also every
        file's SHA-1, which reads every byte) is said in a warning and generated again."""
        name, params, _, build = self._cache(profile, options, seed, progress)
        return cached_build(name, params, build, root, content=verify)

    def load(self, split: str, profile: str = "teaching", *, options: dict | None = None, seed: int = 0,
             root: str | Path | None = None, transform: Callable | str | None = _DEFAULT,
             progress: bool = True) -> CloudDataset:
        """A split of the embedded stand-in (generated on first use).

        ``transform="default"``: :meth:`train_transform` for ``train``, :meth:`eval_transform`
        otherwise, then :attr:`feature_scale`; ``"eval"``: :meth:`eval_transform` for every
        split (training without augmentation), then :attr:`feature_scale`; ``None``: raw
        samples; or any callable ``sample -> sample``."""
        self.check_split(split)
        name, params, opts, build = self._cache(profile, options, seed, progress)
        files = self.split_files(split, opts)
        if not files:
            raise ValueError(f"{self.stand_in} profile {profile!r} has no {split!r} data with these options")
        samples = cached_read(name, params, build, lambda folder: [s for f in files for s in load_cloudset(folder / f)],
                              root)
        return CloudDataset(samples, self.dataset_classes(opts), self._transform(split, transform))

    def dataset_classes(self, opts: dict) -> Sequence[str]:
        """Class names the labels of a generated set index (a profile may use a subset)."""
        return self.classes

    # ------------------------------------------------------------------ real data
    def load_real(self, root: str | Path, split: str, *, transform: Callable | str | None = _DEFAULT,
                  **kwargs: Any):
        """A split of the real data set at ``root``, in its official format."""
        self.check_split(split)
        root = Path(root)
        if not root.exists():
            raise FileNotFoundError(f"{self.title} root {root} does not exist")
        return self.read_real(root, split, self._transform(split, transform), **kwargs)

    def check(self, root: str | Path, deep: bool = False) -> list[str]:
        """Problems with a real copy at ``root`` (empty list: fine). ``deep`` also reads
        every file's contents (slow on the full data set)."""
        root = Path(root)
        if not root.exists():
            return [f"{root} does not exist"]
        return self.check_real(root, deep)

    # ------------------------------------------------------------------ transforms
    def train_transform(self) -> Callable | None:
        """Training augmentation of the paper's recipe for this data set."""
        return None

    def eval_transform(self) -> Callable | None:
        """What evaluation applies (the deterministic part of the train transform)."""
        return None

    def _transform(self, split: str, transform: Callable | str | None) -> Callable | None:
        if isinstance(transform, str):
            if transform not in (_DEFAULT, "eval"):
                raise ValueError(f"transform must be 'default', 'eval', None or a callable, got {transform!r}")
            base = self.train_transform() if split == "train" and transform == _DEFAULT else self.eval_transform()
            return base if self.feature_scale is None else ScaleFeatures(base, self.feature_scale)
        if transform is not None and not callable(transform):
            raise TypeError(f"transform must be callable, got {type(transform).__name__}")
        return transform

    # ------------------------------------------------------------------ hooks
    def validate_options(self, opts: dict) -> None:
        """*hook*: raise ``ValueError`` for option values that make no sense (may
        normalise values in place, e.g. ints to floats, so equal options share a cache)."""

    def generate(self, folder: Path, opts: dict, seed: int, progress: bool) -> None:
        """*hook*: write the stand-in's cloud sets into ``folder``."""
        raise NotImplementedError

    def split_files(self, split: str, opts: dict) -> list[str]:
        """*hook*: cache files (relative to the folder) holding ``split``."""
        raise NotImplementedError

    def read_real(self, root: Path, split: str, transform: Callable | None, **kwargs: Any):
        """*hook*: the real data set's ``split``."""
        raise NotImplementedError

    def check_real(self, root: Path, deep: bool) -> list[str]:
        """*hook*: problems with a real copy."""
        raise NotImplementedError

    def range_projection(self, options: dict | None):
        """*hook* (LiDAR data sets): the :class:`~i2p.range_image.RangeProjection` that fits
        this data's sensor -- the stand-in's with resolved generator ``options``, the real
        sensor's with ``None`` -- for the range-image models (paper §4.2)."""
        raise ValueError(f"{self.title} has no LiDAR sweeps to project into range images")

    def gallery(self, profile: str = "teaching", *, root: str | Path | None = None, seed: int = 0,
                dataset: Sequence[dict] | None = None, samples: int | None = None):
        """*hook*: a matplotlib figure of a few samples (of ``dataset`` if given, e.g. real
        data, else of the stand-in's ``profile``), drawn with the up axis up."""
        raise NotImplementedError


#: the data set packages, in display order: registering a data set = one line here
PACKAGES: tuple[str, ...] = ("modelnet", "s3dis", "kitti")
_SPECS: dict[str, DatasetSpec] = {}


def all_specs() -> list[DatasetSpec]:
    """Every registered spec (imports the packages on first use)."""
    if not _SPECS:
        for pkg in PACKAGES:
            spec = importlib.import_module(f"{__package__}.{pkg}").SPEC
            for n in (spec.name, *spec.aliases):
                if n.lower() in _SPECS:
                    raise RuntimeError(f"data set name {n!r} is registered twice")
                _SPECS[n.lower()] = spec
    return list(dict.fromkeys(_SPECS.values()))


def names(with_aliases: bool = False) -> list[str]:
    specs = all_specs()
    return [n for s in specs for n in ((s.name, *s.aliases) if with_aliases else (s.name,))]


def get(name: str | DatasetSpec) -> DatasetSpec:
    """The spec registered under ``name`` or one of its aliases (case-insensitive)."""
    if isinstance(name, DatasetSpec):
        return name
    all_specs()
    if not isinstance(name, str) or name.lower() not in _SPECS:
        valid = ", ".join(f"{s.name} ({'/'.join(s.aliases)})" if s.aliases else s.name for s in all_specs())
        raise ValueError(f"unknown data set {name!r}; valid: {valid}")
    return _SPECS[name.lower()]
