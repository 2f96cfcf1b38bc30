"""S3DIS behind the shared :class:`~i2p.data.registry.DatasetSpec` interface."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

import numpy as np

from .. import transforms
from ..registry import DatasetSpec
from ..store import CloudDataset, cached_read, save_cloudset
from . import gallery as _gallery
from . import real
from .labels import AREAS, CLASSES, SPLIT_AREAS
from .synth import ROOM_TYPES, generate_area, rooms_per_area

if TYPE_CHECKING:
    from matplotlib.figure import Figure


class S3DISSpec(DatasetSpec):
    """Stanford Large-Scale 3D Indoor Spaces: 6 areas of office rooms scanned with rgb,
    13 classes, one sample per room; the paper trains on areas 1-4, 6 and tests on 5.

    Samples: ``points`` [N, 3] (metres, z up), ``feats`` [N, 6] = xyz + rgb in [0, 1],
    ``label`` [N] class ids, ``name`` ``Area_<k>/<room>``."""

    name = "s3dis"
    aliases = ()
    title = "S3DIS"
    stand_in = "SynthS3DIS"
    task = "seg"
    classes = CLASSES
    ignore_index = -100  # S3DIS labels every point
    channels = ("x", "y", "z", "r", "g", "b")
    up_axis = "z"
    axes = {"x": "horizontal, along the aligned walls (rooms laid side by side)",
            "y": "horizontal, across the rooms", "z": "up"}
    splits = {"train": "areas 1, 2, 3, 4, 6", "test": "area 5 (held out)"}
    eval_split = "test"
    profiles = {
        # 10 training rooms of 20-40k points (a U-Net trains on them in minutes on 2 CPU cores)
        # and 8 test rooms in area 5: 2 test rooms left the mIoU to a few rooms' luck
        # (calibration s3dis-v2, README)
        "teaching": {
            "rooms_per_area": [2, 2, 2, 2, 8, 2], "room_size": [4.0, 6.0], "height": [2.7, 3.2],
            "points": [20000, 40000], "points_per_m2": 1300.0, "scanners": [1, 2], "room_types": ROOM_TYPES,
        },
        # 60 rooms, bigger and denser (a few minutes to generate on 2 cores).
        "full": {
            "rooms_per_area": 10, "room_size": [4.0, 10.0], "height": [2.8, 3.6],
            "points": [60000, 250000], "points_per_m2": 3000.0, "scanners": [2, 4], "room_types": ROOM_TYPES,
        },
    }
    generator_version = 2

    # ------------------------------------------------------------------ stand-in
    def validate_options(self, opts: dict) -> None:
        r = opts["rooms_per_area"]
        if (not np.isscalar(r) and len(r) != len(AREAS)) or min(rooms_per_area(opts)) < 1:
            raise ValueError(f"rooms_per_area must be a positive int or {len(AREAS)} positive ints (one per area), "
                             f"got {r}")
        for key, lo in (("room_size", 1.0), ("height", 2.2), ("points", 1), ("scanners", 1)):
            v = opts[key]
            if np.isscalar(v) or len(v) != 2 or not lo <= v[0] <= v[1]:
                raise ValueError(f"{key} must be a range [lo, hi] with {lo} <= lo <= hi, got {v}")
        if not opts["points_per_m2"] > 0:
            raise ValueError(f"points_per_m2 must be positive, got {opts['points_per_m2']}")
        types = opts["room_types"]
        if isinstance(types, str) or not types or set(types) - set(ROOM_TYPES):
            raise ValueError(f"room_types must be a non-empty list of {', '.join(ROOM_TYPES)}; got {types!r}")

    def generate(self, folder: Path, opts: dict, seed: int, progress: bool) -> None:
        from tqdm.auto import tqdm

        with tqdm(total=sum(rooms_per_area(opts)), desc=self.stand_in, unit="room", disable=not progress) as pbar:
            def on_room(name: str, n_points: int) -> None:
                pbar.update(1)
                pbar.set_postfix_str(f"{name} {n_points} pts")

            for area in AREAS:
                save_cloudset(folder / f"area_{area}.npz",
                              generate_area(area, opts, seed, self.generator_version, on_room))

    def split_files(self, split: str, opts: dict) -> list[str]:
        return [f"area_{a}.npz" for a in SPLIT_AREAS[split]]

    # ------------------------------------------------------------------ real data
    def read_real(self, root: Path, split: str, transform: Callable | None, cache_root: str | Path | None = None,
                  progress: bool = True) -> CloudDataset:
        """The rooms of the split's areas (see :func:`~.real.read_areas`)."""
        return real.read_areas(root, SPLIT_AREAS[split], transform, cache_root=cache_root, progress=progress)

    def check_real(self, root: Path, deep: bool) -> list[str]:
        return real.check(root, parse=deep)

    # ------------------------------------------------------------------ transforms and gallery
    def train_transform(self) -> Callable:
        return transforms.s3dis_train_transform()

    def eval_transform(self) -> Callable:
        return transforms.s3dis_eval_transform()

    def gallery(self, profile: str = "teaching", *, root: str | Path | None = None, seed: int = 0,
                dataset: Sequence[dict] | None = None, samples: int | None = None) -> Figure:
        """Top-down and perspective views of ``samples`` rooms (default 3): the first of
        ``dataset``, or of the stand-in's ``profile`` round-robin over the areas."""
        n = 3 if samples is None else samples
        if dataset is None:
            name, params, _, build = self._cache(profile, None, seed, progress=False)
            rooms = cached_read(name, params, build, lambda folder: _gallery.synth_rooms(folder, n), root)
        else:
            rooms = [dataset[i] for i in range(min(n, len(dataset)))]
        return _gallery.draw_rooms(rooms)
