"""PointNet++ sampling and grouping: the vectorised i2p ops against a straightforward
reference, on one ModelNet-sized-or-larger cloud batch.

The reference is what one would write first: numpy, one cloud at a time, and for every
FPS sample / every ball-query centre one pass over the points (FPS: update the distances
to the chosen set, take the farthest; ball query: the points within the radius, first k,
padded). The vectorised ops process all clouds at once (FPS still loops over its
samples), and ball query all centres of a distance block (``i2p.pointnet2.ops.BLOCK``) at
once. Both give the same indices (checked every run), so the ratio is
the price of the loops alone. Timings are interleaved (``common.bench``), median of
``--repeat`` runs after one warm-up.

Run:  PYTHONPATH=. python benchmarks/pointnet2_ops.py [--points 16384] [--samples 4096] [--k 32]
                                                      [--radius 0.2] [--batch 1] [--device cpu|cuda] [--repeat 3]

The reference always runs on the CPU; with ``--device cuda`` the ratio is GPU ops vs CPU
reference. The last line is ``speedup fps=<x> ball_query=<y>``.
"""
from __future__ import annotations

import argparse
import sys

import numpy as np
import torch

from common import add_device_args, bench, open_device
from i2p.pointnet2 import ball_query, farthest_point_sample, gather_points


def reference_fps(xyz: np.ndarray, m: int) -> np.ndarray:
    """``[B, m]``: per cloud, per sample, one numpy pass over the points (start at point 0,
    lowest index on ties, distances summed as ``(dx*dx + dy*dy) + dz*dz`` like the ops)."""
    out = np.zeros((len(xyz), m), dtype=np.int64)
    for b, pts in enumerate(xyz):
        min_d = np.full(len(pts), np.inf, dtype=pts.dtype)
        far = 0
        for i in range(m):
            out[b, i] = far
            d = pts - pts[far]
            min_d = np.minimum(min_d, (d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]) + d[:, 2] * d[:, 2])
            far = int(np.argmax(min_d))
    return out


def reference_ball_query(xyz: np.ndarray, centres: np.ndarray, radius: float, k: int) -> np.ndarray:
    """``[B, m, k]``: per cloud, per centre, one numpy pass over the points (first ``k``
    within ``radius``, padded with the first; none: the nearest point)."""
    out = np.zeros((*centres.shape[:2], k), dtype=np.int64)
    r2 = np.float32(radius * radius) if xyz.dtype == np.float32 else radius * radius
    for b, pts in enumerate(xyz):
        for j, c in enumerate(centres[b]):
            d = pts - c
            d2 = (d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]) + d[:, 2] * d[:, 2]
            found = np.flatnonzero(d2 < r2)[:k]
            if not len(found):
                found = np.array([np.argmin(d2)])
            out[b, j, :len(found)] = found
            out[b, j, len(found):] = found[0]
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--points", type=int, default=16384, help="points per cloud")
    p.add_argument("--samples", type=int, default=4096, help="FPS samples = ball-query centres per cloud")
    p.add_argument("--k", type=int, default=32, help="points per ball-query group")
    p.add_argument("--radius", type=float, default=0.2, help="ball-query radius (cloud uniform in [-1, 1]^3)")
    p.add_argument("--batch", type=int, default=1, help="clouds per batch")
    p.add_argument("--repeat", type=int, default=3, help="timed runs per function (after one warm-up)")
    add_device_args(p, sparse_conv=False)
    args = p.parse_args()
    device = open_device(args)
    if device is None:
        return 2

    gen = torch.Generator().manual_seed(0)
    xyz_cpu = torch.rand(args.batch, args.points, 3, generator=gen) * 2 - 1
    xyz = xyz_cpu.to(device)
    centres = gather_points(xyz, farthest_point_sample(xyz, args.samples))
    xyz_np, centres_np = xyz_cpu.numpy(), centres.cpu().numpy()
    print(f"{args.batch} x {args.points} points (float32, uniform in [-1, 1]^3), {args.samples} samples, "
          f"k={args.k}, radius={args.radius}; ops on {args.device} ({torch.get_num_threads()} threads), "
          f"reference numpy on cpu")

    same_fps = np.array_equal(farthest_point_sample(xyz, args.samples).cpu().numpy(),
                              reference_fps(xyz_np, args.samples))
    bq = ball_query(xyz, centres, args.radius, args.k).cpu().numpy()
    same_bq = np.array_equal(bq, reference_ball_query(xyz_np, centres_np, args.radius, args.k))
    print(f"identical to the reference: fps {'yes' if same_fps else 'NO'}, ball query {'yes' if same_bq else 'NO'}")

    t = bench({
        "fps ops": lambda: farthest_point_sample(xyz, args.samples),
        "fps reference": lambda: reference_fps(xyz_np, args.samples),
        "ball query ops": lambda: ball_query(xyz, centres, args.radius, args.k),
        "ball query reference": lambda: reference_ball_query(xyz_np, centres_np, args.radius, args.k),
    }, args.repeat, device)
    for name, (med, lo) in t.items():
        print(f"{name:>22}: {med:10.1f} ms median, {lo:10.1f} ms min")
    speed = {op: t[f"{op} reference"][0] / t[f"{op} ops"][0] for op in ("fps", "ball query")}
    print(f"speedup fps={speed['fps']:.2f} ball_query={speed['ball query']:.2f}")
    return 0 if same_fps and same_bq else 1


if __name__ == "__main__":
    sys.exit(main())
