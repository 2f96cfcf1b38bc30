"""Sparse conv micro-benchmark on a fixed indoor-room-like scene (~100k surface voxels).

Cases:
  (a) 64 -> 64 submanifold 3^3 conv
  (b) 128 -> 128 strided 3^3 stride-2 downsampling conv (same scene, 128 channels)

For each case: kernel-map build, forward given the cached map, forward+backward, and the
effective GFLOP/s over the real pairs (2 * pairs * Cin * Cout / forward time), compared with
a dense GEMM of the same total size ([pairs, Cin] x [Cin, Cout] into a preallocated output)
and with a naive ``index_add_`` loop over the same kernel-map lists.

With ``--precision bf16`` (or ``fp16`` on CUDA) the 64 -> 64 submanifold conv also runs
under autocast in that precision, with the sums across kernel offsets in the low precision
and in float32 (``i2p.sparse.ops.LOW_PRECISION_ACCUMULATE``): relative error of the output
and both gradients against float64, and forward / forward+backward times against float32.

Run:  PYTHONPATH=. python benchmarks/sparse_conv.py [--threads N] [--repeats R] [--voxels V] [--device cpu|cuda]
                                                   [--precision bf16|fp16]

The last line is ``fraction_of_gemm=<x>``: effective GFLOP/s of the 64->64 submanifold
forward divided by the GEMM GFLOP/s of the same size.
"""
from __future__ import annotations

import argparse
import math
import sys
import time

import torch

from common import add_device_args, bench, open_device
from i2p.sparse import SparseTensor, get_kernel_map, voxelize
from i2p.sparse import ops as i2p_ops
from i2p.sparse.ops import sparse_conv_apply

SEED = 1234
DENSITY = 12.0  # surface samples per unit^2 (voxel size 1): dense enough to leave no holes
BASE_VOXELS = 100_000  # the scene at scale 1 has roughly this many voxels


# --------------------------------------------------------------------------------------
# scene
# --------------------------------------------------------------------------------------
def _rect(g: torch.Generator, o, u, v) -> torch.Tensor:
    """Points sampled uniformly on the parallelogram o + a*u + b*v, a, b in [0, 1]."""
    o, u, v = (torch.tensor(t, dtype=torch.float64) for t in (o, u, v))
    area = torch.linalg.cross(u, v).norm().item()
    n = max(1, int(area * DENSITY))
    ab = torch.rand(n, 2, generator=g, dtype=torch.float64)
    return o + ab[:, :1] * u + ab[:, 1:] * v


def _rotz(p: torch.Tensor, yaw: float, centre) -> torch.Tensor:
    c, s = math.cos(yaw), math.sin(yaw)
    rot = torch.tensor([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    centre = torch.tensor(centre, dtype=torch.float64)
    return (p - centre) @ rot.T + centre


def _box(g, x0, y0, z0, sx, sy, sz, yaw) -> torch.Tensor:
    """Five faces (no bottom) of a box resting at z0, rotated by ``yaw`` about its centre."""
    X, Y, Z = (sx, 0, 0), (0, sy, 0), (0, 0, sz)
    faces = [
        _rect(g, (x0, y0, z0 + sz), X, Y),  # top
        _rect(g, (x0, y0, z0), X, Z),
        _rect(g, (x0, y0 + sy, z0), X, Z),
        _rect(g, (x0, y0, z0), Y, Z),
        _rect(g, (x0 + sx, y0, z0), Y, Z),
    ]
    return _rotz(torch.cat(faces), yaw, (x0 + sx / 2, y0 + sy / 2, z0))


def _sphere(g, c, r) -> torch.Tensor:
    n = max(1, int(4 * math.pi * r * r * DENSITY))
    d = torch.randn(n, 3, generator=g, dtype=torch.float64)
    return torch.tensor(c, dtype=torch.float64) + r * d / d.norm(dim=1, keepdim=True)


def _cylinder(g, cx, cy, z0, r, h) -> torch.Tensor:
    """Vertical cylinder side + top cap."""
    n_side = max(1, int(2 * math.pi * r * h * DENSITY))
    u = torch.rand(n_side, 2, generator=g, dtype=torch.float64)
    th = 2 * math.pi * u[:, 0]
    side = torch.stack([cx + r * torch.cos(th), cy + r * torch.sin(th), z0 + h * u[:, 1]], 1)
    n_cap = max(1, int(math.pi * r * r * DENSITY))
    u = torch.rand(n_cap, 2, generator=g, dtype=torch.float64)
    rr, th = r * u[:, 0].sqrt(), 2 * math.pi * u[:, 1]
    cap = torch.stack([cx + rr * torch.cos(th), cy + rr * torch.sin(th), torch.full_like(rr, z0 + h)], 1)
    return torch.cat([side, cap])


def build_scene(scale: float, seed: int = SEED) -> torch.Tensor:
    """Surface points of a room (floor + 4 walls) furnished with boxes, spheres, cylinders.

    ``scale`` stretches the room's footprint and multiplies the number of objects by
    ``scale**2`` (object sizes and the room height stay fixed), so the voxel count grows
    like ``scale**2`` and the local geometry (pairs per voxel) stays about the same.
    """
    g = torch.Generator().manual_seed(seed)
    L, W, H = max(170.0 * scale, 50.0), max(136.0 * scale, 50.0), 40.0

    def uni(a, b):
        return a + (b - a) * torch.rand((), generator=g, dtype=torch.float64).item()

    parts = [
        _rect(g, (0, 0, 0), (L, 0, 0), (0, W, 0)),  # floor
        _rect(g, (0, 0, 0), (L, 0, 0), (0, 0, H)),
        _rect(g, (0, W, 0), (L, 0, 0), (0, 0, H)),
        _rect(g, (0, 0, 0), (0, W, 0), (0, 0, H)),
        _rect(g, (L, 0, 0), (0, W, 0), (0, 0, H)),
    ]
    n_obj = max(1, round(44 * scale * scale))
    for _ in range(n_obj):  # furniture: cabinets, tables, beds ... (half of them axis-aligned)
        sx, sy, sz = uni(6, 22), uni(6, 22), uni(4, 18)
        x0, y0 = uni(2, L - sx - 2), uni(2, W - sy - 2)
        yaw = 0.0 if torch.rand((), generator=g).item() < 0.5 else uni(0, math.pi)
        parts.append(_box(g, x0, y0, 0.0, sx, sy, sz, yaw))
    for _ in range(max(1, round(18 * scale * scale))):  # balls, lamps
        r = uni(3, 8)
        parts.append(_sphere(g, (uni(r, L - r), uni(r, W - r), uni(r, H - r)), r))
    for _ in range(max(1, round(20 * scale * scale))):  # pillars, bins, chair legs
        r, h = uni(1.5, 5), min(uni(6, 30), H)
        parts.append(_cylinder(g, uni(r + 1, L - r - 1), uni(r + 1, W - r - 1), 0.0, r, h))
    return torch.cat(parts).float()


def make_scene(target: int) -> torch.Tensor:
    """``[N, 4]`` voxel coordinates (batch, x, y, z) of the scene scaled to ~``target`` voxels."""
    scale = math.sqrt(target / BASE_VOXELS)
    x, _ = voxelize(build_scene(scale), 1.0)
    return x.coords


# --------------------------------------------------------------------------------------
# timing
# --------------------------------------------------------------------------------------
def gflops(flop: float, ms: float) -> float:
    return flop / (ms * 1e-3) / 1e9


def naive_lists(kmap) -> tuple[list, list]:
    """The kernel map's per-offset lists with the implicit identity offset materialised."""
    ins, outs = list(kmap.in_idx), list(kmap.out_idx)
    if kmap.identity is not None:
        ar = torch.arange(kmap.n_out, device=ins[0].device)
        ins[kmap.identity], outs[kmap.identity] = ar, ar
    return ins, outs


def naive_conv(feats, weight, ins, outs, n_out):
    out = feats.new_zeros(n_out, weight.shape[-1])
    for k in range(len(ins)):
        out.index_add_(0, outs[k], feats[ins[k]] @ weight[k])
    return out


def run_case(name, coords, c_in, c_out, stride, args, device, gen, check_grad: bool) -> dict:
    cuda = device.type == "cuda"
    feats = torch.randn(coords.shape[0], c_in, generator=gen).to(device)
    weight = (torch.randn(27, c_in, c_out, generator=gen) / math.sqrt(27 * c_in)).to(device)

    kmap, out_coords, _ = get_kernel_map(SparseTensor(feats, coords), 3, stride)
    pairs = kmap.num_pairs
    flop = 2.0 * pairs * c_in * c_out

    # correctness vs the naive loop over the same lists
    ins, outs = naive_lists(kmap)
    ref = naive_conv(feats, weight, ins, outs, kmap.n_out)
    ours = sparse_conv_apply(feats, weight, kmap)
    scale = max(1.0, ref.abs().max().item())
    err = (ours - ref).abs().max().item()
    ok = err <= 1e-4 * scale
    errs = [f"fwd {err:.2e}"]
    probe = torch.randn(kmap.n_out, c_out, generator=gen).to(device)
    if check_grad:
        fa, wa = feats.clone().requires_grad_(), weight.clone().requires_grad_()
        (sparse_conv_apply(fa, wa, kmap) * probe).sum().backward()
        fb, wb = feats.clone().requires_grad_(), weight.clone().requires_grad_()
        (naive_conv(fb, wb, ins, outs, kmap.n_out) * probe).sum().backward()
        for tag, a, b in (("grad_x", fa.grad, fb.grad), ("grad_w", wa.grad, wb.grad)):
            e = (a - b).abs().max().item()
            ok = ok and e <= 1e-4 * max(1.0, b.abs().max().item())
            errs.append(f"{tag} {e:.2e}")
        del fa, wa, fb, wb
    del ref, ours

    fg = feats.clone().requires_grad_()
    wg = weight.clone().requires_grad_()

    def fwd_bwd():
        fg.grad = wg.grad = None
        (sparse_conv_apply(fg, wg, kmap) * probe).sum().backward()

    # dense GEMM of the same total size, into a preallocated output
    ga = torch.randn(pairs, c_in, generator=gen).to(device)
    gb = torch.randn(c_in, c_out, generator=gen).to(device)
    gc = torch.empty(pairs, c_out, device=device)

    def no_grad(fn):
        def run():
            with torch.no_grad():
                fn()
        return run

    t = bench(
        {
            # kernel-map build on a fresh tensor (empty cache) every time
            "kmap": lambda: get_kernel_map(SparseTensor(feats, coords), 3, stride),
            "fwd": no_grad(lambda: sparse_conv_apply(feats, weight, kmap)),
            "fwd_bwd": fwd_bwd,
            "naive": no_grad(lambda: naive_conv(feats, weight, ins, outs, kmap.n_out)),
            "gemm": lambda: torch.mm(ga, gb, out=gc),
        },
        args.repeats,
        device,
    )
    del fg, wg, ga, gb, gc
    if cuda:
        torch.cuda.empty_cache()
    (t_kmap, t_kmap_min), (t_fwd, t_fwd_min), (t_fb, _) = t["kmap"], t["fwd"], t["fwd_bwd"]
    (t_naive, _), (t_gemm, t_gemm_min) = t["naive"], t["gemm"]

    eff, gemm, naive = gflops(flop, t_fwd), gflops(flop, t_gemm), gflops(flop, t_naive)
    print(f"[{name}] {c_in}->{c_out} k3 stride {stride}: in {kmap.n_in} -> out {kmap.n_out} voxels, "
          f"pairs {pairs} ({pairs / kmap.n_out:.2f}/out voxel), {flop / 1e9:.2f} GFLOP")
    print(f"  correctness vs naive: {'OK' if ok else 'FAIL'} (max abs diff {', '.join(errs)}; ref scale {scale:.2f})")
    print(f"  kernel map      {t_kmap:9.2f} ms  (min {t_kmap_min:.2f})")
    print(f"  forward         {t_fwd:9.2f} ms  (min {t_fwd_min:.2f})  {eff:7.1f} GFLOP/s")
    print(f"  forward+backward{t_fb:9.2f} ms  ({t_fb / t_fwd:.2f}x forward, {gflops(3 * flop, t_fb):.1f} GFLOP/s over 3x flops)")
    print(f"  naive index_add {t_naive:9.2f} ms  {naive:7.1f} GFLOP/s  fraction_of_gemm {naive / gemm:.3f}  "
          f"speedup ours/naive {t_naive / t_fwd:.2f}x")
    print(f"  dense GEMM      {t_gemm:9.2f} ms  {gemm:7.1f} GFLOP/s  ([{pairs},{c_in}] x [{c_in},{c_out}])")
    print(f"  ours / GEMM     {eff / gemm:.3f}  (from min times: {t_gemm_min / t_fwd_min:.3f})")
    return dict(ok=ok, kmap=t_kmap, fwd=t_fwd, eff=eff, gemm=gemm)


def run_precision(coords, args, device, gen, dtype: torch.dtype) -> None:
    """float32 vs ``dtype`` (two accumulation modes) on the 64 -> 64 submanifold conv."""
    feats = torch.randn(coords.shape[0], 64, generator=gen).to(device)
    weight = (torch.randn(27, 64, 64, generator=gen) / math.sqrt(27 * 64)).to(device)
    kmap = get_kernel_map(SparseTensor(feats, coords), 3, 1)[0]
    probe = torch.randn(kmap.n_out, 64, generator=gen).to(device)
    wide = torch.float32 if device.type == "cuda" else torch.float64  # the reference precision

    def conv(mode: str | None, grad: bool):
        """mode None: float32; "reference": float64 (float32 on CUDA); "low"/"float32": autocast."""
        f, w = feats.clone(), weight.clone()
        if mode == "reference":
            f, w = f.to(wide), w.to(wide)
        f.requires_grad_(grad), w.requires_grad_(grad)
        with torch.autocast(device.type, dtype=dtype, enabled=mode in ("low", "float32")):
            out = sparse_conv_apply(f, w, kmap, accumulate=mode if mode in ("low", "float32") else None)
        if grad:
            (out.to(f.dtype) * probe.to(f.dtype)).sum().backward()
            return out, f.grad, w.grad
        return out

    ref = conv("reference", True)

    def rel(a: torch.Tensor, b: torch.Tensor) -> float:
        return ((a.to(b.dtype) - b).norm() / b.norm()).item()

    modes = {"fp32": None, f"{_NAMES[dtype]}, sums low": "low", f"{_NAMES[dtype]}, sums float32": "float32"}
    timed = {}
    for label, mode in modes.items():
        def fwd(m=mode):
            with torch.no_grad():
                conv(m, False)
        timed[f"{label} fwd"] = fwd
        timed[f"{label} fwd+bwd"] = lambda m=mode: conv(m, True)
    t = bench(timed, args.repeats, device)
    print(f"[precision] 64->64 submanifold conv under autocast({_NAMES[dtype]}): relative error vs {wide}, "
          "median times (speed-up over fp32)")
    base_f, base_fb = t["fp32 fwd"][0], t["fp32 fwd+bwd"][0]
    for label, mode in modes.items():
        errs = [rel(a, b) for a, b in zip(conv(mode, True), ref)]
        f, fb = t[f"{label} fwd"][0], t[f"{label} fwd+bwd"][0]
        print(f"  {label:20s} out {errs[0]:.1e}  grad_x {errs[1]:.1e}  grad_w {errs[2]:.1e}   "
              f"fwd {f:8.2f} ms ({base_f / f:.2f}x)  fwd+bwd {fb:8.2f} ms ({base_fb / fb:.2f}x)")
    print(f"  default accumulation: {i2p_ops.LOW_PRECISION_ACCUMULATE!r} (i2p.sparse.ops.LOW_PRECISION_ACCUMULATE)")


_NAMES = {torch.bfloat16: "bf16", torch.float16: "fp16"}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_args(p)
    p.add_argument("--repeats", type=int, default=7, help="timed repeats per measurement (median reported)")
    p.add_argument("--voxels", type=int, default=BASE_VOXELS, help="target voxel count of the scene")
    p.add_argument("--precision", choices=["bf16", "fp16"], default=None,
                   help="also measure the conv under autocast in this precision")
    args = p.parse_args()
    device = open_device(args)
    if device is None:
        return 2
    if args.precision == "fp16" and args.device != "cuda":
        print("--precision fp16 needs --device cuda (the CPU has no fast float16 GEMM)", file=sys.stderr)
        return 2
    print(f"torch {torch.__version__}, device {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else "")
          + f", threads {torch.get_num_threads()}, repeats {args.repeats}")

    t0 = time.perf_counter()
    coords = make_scene(args.voxels)
    t_scene = time.perf_counter() - t0
    coords = coords.to(device)
    sub_pairs = get_kernel_map(SparseTensor(torch.zeros(coords.shape[0], 1, device=device), coords), 3)[0].num_pairs
    print(f"scene: {coords.shape[0]} voxels, {sub_pairs} pairs for a 3^3 submanifold kernel "
          f"({sub_pairs / coords.shape[0]:.2f} per voxel), built in {t_scene:.2f} s")

    gen = torch.Generator().manual_seed(SEED + 1)
    a = run_case("a", coords, 64, 64, 1, args, device, gen, check_grad=True)
    b = run_case("b", coords, 128, 128, 2, args, device, gen, check_grad=False)
    if args.precision:
        run_precision(coords, args, device, gen, {"bf16": torch.bfloat16, "fp16": torch.float16}[args.precision])
    if not (a["ok"] and b["ok"]):
        print("CORRECTNESS FAILURE: sparse_conv_apply differs from the naive loop", file=sys.stderr)
        return 1
    print(f"kmap_vs_forward={a['kmap'] / a['fwd']:.3f}")
    print(f"fraction_of_gemm={a['eff'] / a['gemm']:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
