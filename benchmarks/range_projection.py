"""Range-image projection and back-projection time (i2p.range_image).

On one SynthKITTI sweep (teaching density: 640 azimuths x 64 beams, sequence 08; built
once into the data cache, needs open3d) or, with ``--random N`` or when the sweep cannot
be built, on N random points spread over the sensor's field of view (default 120k,
KITTI's density). Times, interleaved: ``project`` (points -> RangeImage), ``back_knn``
(per-pixel logits -> a label per point with RangeNet++'s kNN clean-up, argmax included)
and ``back_plain`` (the plain pixel lookup), at each ``--widths``.

Run:  PYTHONPATH=. python benchmarks/range_projection.py [--random N] [--widths 512 2048]
                                                         [--repeats R] [--threads T] [--device cpu|cuda]
"""
from __future__ import annotations

import argparse
import math
import sys

import torch

from common import add_device_args, bench, open_device
from i2p.range_image import RangeProjection, back_project


def synth_sweep() -> tuple[str, torch.Tensor, torch.Tensor]:
    from i2p.data.registry import get

    ds = get("semantickitti").load("val", "teaching", options={"sequences": [8], "val_sweeps": 1},
                                   transform=None, progress=False)
    s = ds[0]
    return "SynthKITTI teaching sweep (seq 08)", s["points"], s["feats"][:, 3]


def random_cloud(n: int, proj: RangeProjection) -> tuple[str, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    pitch = torch.deg2rad(proj.fov_down_deg + (proj.fov_up_deg - proj.fov_down_deg) * torch.rand(n, generator=g))
    yaw = (2 * torch.rand(n, generator=g) - 1) * math.pi
    r = 2.5 + 77.5 * torch.rand(n, generator=g)
    pts = torch.stack([r * pitch.cos() * yaw.cos(), r * pitch.cos() * yaw.sin(), r * pitch.sin()], 1)
    return f"random cloud ({n} points)", pts, torch.rand(n, generator=g)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--random", type=int, default=None, metavar="N", help="time N random points instead of a sweep")
    p.add_argument("--widths", type=int, nargs="+", default=[512, 2048])
    p.add_argument("--repeats", type=int, default=5)
    add_device_args(p, sparse_conv=False)
    args = p.parse_args()
    device = open_device(args)
    if device is None:
        return 1
    if args.random is None:
        try:
            what, pts, inten = synth_sweep()
        except ImportError as e:  # open3d missing: the sweep cannot be built
            print(f"no SynthKITTI sweep ({e}); timing a random cloud instead")
            what, pts, inten = random_cloud(120_000, RangeProjection())
    else:
        what, pts, inten = random_cloud(args.random, RangeProjection())
    pts, inten = pts.to(device), inten.to(device)
    print(f"{what}: {len(pts)} points, device {device}, {torch.get_num_threads()} torch threads")
    for width in args.widths:
        proj = RangeProjection(width=width)
        rimg = proj.project(pts, inten)
        logits = torch.randn(19, proj.height, width, generator=torch.Generator().manual_seed(0)).to(device)
        times = bench({
            "project": lambda: proj.project(pts, inten),
            "back_knn": lambda: back_project(rimg, logits, pts),
            "back_plain": lambda: back_project(rimg, logits, pts, knn=False),
        }, args.repeats, device)
        hidden = int((~rimg.owned).sum())
        print(f"{proj.height}x{width}: {1 - hidden / len(pts):.1%} of points own a pixel ({hidden} hidden), "
              + ", ".join(f"{name} {med:.1f} ms (min {lo:.1f})" for name, (med, lo) in times.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
