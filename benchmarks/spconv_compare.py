"""i2p's sparse conv against spconv 2.x, side by side in one run, same coordinates and weights.

The scene is ``sparse_conv.py``'s furnished room (~100k voxels). For each precision
(float32, and float16 on CUDA) and channel width, a 3^3 submanifold conv runs in i2p
and in spconv (``SubMConv3d``) with the same voxels and the same weights (i2p's
``[27, C_in, C_out]`` laid out as spconv's ``[C_out, 3, 3, 3, C_in]``). Both are checked
against torch's dense ``conv3d`` on the voxel grid (float32, TF32 off), then timed
interleaved: the kernel map built and the forward pass (a fresh tensor each time), the
forward pass with the map cached, and forward + backward with the map cached.

spconv is optional and not a dependency of i2p: on a GPU machine without internet,
carry ``spconv-cu12x`` / ``cumm-cu12x`` wheels (see the README's CUDA section). spconv's
CPU wheel cannot backpropagate, so on ``--device cpu`` only the forward passes are compared.

Run:  PYTHONPATH=. python benchmarks/spconv_compare.py [--device cuda|cpu] [--voxels V]
                                                      [--channels 64 128] [--repeats R]

Its last line is ``i2p_vs_spconv_fwd_bwd=<x>`` (``_fwd`` on the CPU): spconv's time over
i2p's for the first channel width in float32, cached maps (> 1: i2p is faster).
"""
from __future__ import annotations

import argparse
import importlib.util
import math
import sys

import torch
import torch.nn.functional as TF

from common import add_device_args, bench, open_device
from sparse_conv import BASE_VOXELS, make_scene
from i2p.sparse import SparseTensor, get_kernel_map
from i2p.sparse.ops import sparse_conv_apply

SEED = 4321


def dense_reference(feats: torch.Tensor, coords: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """torch's dense 3^3 conv (padding 1) at the voxels: the ground truth both engines must meet."""
    c_in, c_out = weight.shape[1:]
    g = coords[:, 1:] - coords[:, 1:].min(0).values
    batch = int(coords[:, 0].max()) + 1
    shape = (g.max(0).values + 1).tolist()
    grid = feats.new_zeros(batch, *shape, c_in)
    grid[coords[:, 0], g[:, 0], g[:, 1], g[:, 2]] = feats
    dense_w = weight.permute(2, 1, 0).reshape(c_out, c_in, 3, 3, 3)
    y = TF.conv3d(grid.permute(0, 4, 1, 2, 3), dense_w, padding=1)
    return y[coords[:, 0], :, g[:, 0], g[:, 1], g[:, 2]]


def spconv_weight(weight: torch.Tensor, layout: tuple[int, ...]) -> torch.Tensor:
    """i2p's ``[27, C_in, C_out]`` in the layout of spconv's parameter (KRSC or RSCK)."""
    c_in, c_out = weight.shape[1:]
    krsc = weight.permute(2, 1, 0).reshape(c_out, c_in, 3, 3, 3).permute(0, 2, 3, 4, 1)
    if tuple(krsc.shape) == layout:
        return krsc.contiguous()
    rsck = krsc.permute(1, 2, 3, 4, 0)
    if tuple(rsck.shape) == layout:
        return rsck.contiguous()
    raise RuntimeError(f"spconv weight of shape {layout} is neither KRSC nor RSCK; update this script")


class SpconvSide:
    """One spconv ``SubMConv3d`` over the scene, and a tensor whose index pairs are cached."""

    def __init__(self, spconv, coords: torch.Tensor, weight: torch.Tensor, dtype: torch.dtype):
        self.sp = spconv
        self.indices = torch.cat([coords[:, :1], coords[:, 1:] - coords[:, 1:].min(0).values], 1).int().contiguous()
        self.shape = (self.indices[:, 1:].max(0).values + 1).tolist()
        self.batch = int(coords[:, 0].max()) + 1
        c_in, c_out = weight.shape[1:]
        self.conv = spconv.SubMConv3d(c_in, c_out, 3, bias=False, indice_key="subm").to(coords.device)
        with torch.no_grad():
            self.conv.weight.copy_(spconv_weight(weight, tuple(self.conv.weight.shape)))
        self.conv.to(dtype)
        self.cached = None

    def tensor(self, feats: torch.Tensor, cache: bool):
        x = self.sp.SparseConvTensor(feats, self.indices, self.shape, self.batch)
        if cache:
            if self.cached is None:  # one pass builds the index pairs under the conv's indice_key
                with torch.no_grad():
                    self.cached = self.conv(self.sp.SparseConvTensor(feats, self.indices, self.shape, self.batch)).indice_dict
            x.indice_dict = dict(self.cached)
        return x

    def __call__(self, feats: torch.Tensor, cache: bool = True) -> torch.Tensor:
        return self.conv(self.tensor(feats, cache)).features


def compare(spconv, coords: torch.Tensor, c: int, dtype: torch.dtype, device: torch.device, repeats: int,
            backward: bool) -> dict:
    gen = torch.Generator().manual_seed(SEED + c)
    feats32 = torch.randn(coords.shape[0], c, generator=gen).to(device)
    weight32 = (torch.randn(27, c, c, generator=gen) / math.sqrt(27 * c)).to(device)
    probe = torch.randn(coords.shape[0], c, generator=gen).to(device).to(dtype)
    feats, weight = feats32.to(dtype), weight32.to(dtype)
    kmap = get_kernel_map(SparseTensor(feats, coords), 3)[0]
    side = SpconvSide(spconv, coords, weight32, dtype)

    def ours(f: torch.Tensor, w: torch.Tensor, fresh: bool = False) -> torch.Tensor:
        km = get_kernel_map(SparseTensor(f, coords), 3)[0] if fresh else kmap
        return sparse_conv_apply(f, w, km)

    ref = dense_reference(feats32, coords, weight32)

    tol = (1e-3 if dtype == torch.float32 else 2e-2) * ref.abs().max().item()

    def rel(a: torch.Tensor) -> str:
        """Relative error, and how many voxels are off by more than ``tol``."""
        e = a.float() - ref
        return f"{(e.norm() / ref.norm()).item():.1e} ({int((e.abs().amax(1) > tol).sum())} voxels off)"

    with torch.no_grad():
        err = {"i2p": rel(ours(feats, weight)), "spconv": rel(side(feats))}
        diff = ((ours(feats, weight).float() - side(feats).float()).norm() / ref.norm()).item()

    fg, wg = feats.clone().requires_grad_(), weight.clone().requires_grad_()
    sg = feats.clone().requires_grad_()

    def ours_fb():
        fg.grad = wg.grad = None
        (ours(fg, wg) * probe).sum().backward()

    def spconv_fb():
        sg.grad = side.conv.weight.grad = None
        (side(sg) * probe).sum().backward()

    fns = {
        "i2p map+fwd": _no_grad(lambda: ours(feats, weight, fresh=True)),
        "spconv map+fwd": _no_grad(lambda: side(feats, cache=False)),
        "i2p fwd": _no_grad(lambda: ours(feats, weight)),
        "spconv fwd": _no_grad(lambda: side(feats)),
    }
    if backward:
        fns["i2p fwd+bwd"], fns["spconv fwd+bwd"] = ours_fb, spconv_fb
        ours_fb(), spconv_fb()
        gw_sp = spconv_weight_grad_as_ours(side.conv.weight.grad.float(), c)
        grad_diff = (((fg.grad.float() - sg.grad.float()).norm() / fg.grad.float().norm()).item(),
                     ((wg.grad.float() - gw_sp).norm() / wg.grad.float().norm()).item())
    else:
        grad_diff = None
    t = bench(fns, repeats, device, warmup=2)
    return dict(err=err, diff=diff, grad_diff=grad_diff, t={k: v[0] for k, v in t.items()}, pairs=kmap.num_pairs)


def _no_grad(fn):
    def run():
        with torch.no_grad():
            fn()
    return run


def spconv_weight_grad_as_ours(g: torch.Tensor, c: int) -> torch.Tensor:
    """spconv's weight gradient (KRSC or RSCK) back in i2p's ``[27, C_in, C_out]``."""
    if g.shape[0] == c and g.shape[-1] == c and g.shape[1] == 3:  # KRSC [C_out, 3, 3, 3, C_in]
        dense = g.permute(0, 4, 1, 2, 3)
    else:  # RSCK [3, 3, 3, C_in, C_out]
        dense = g.permute(4, 3, 0, 1, 2)
    return dense.reshape(c, c, 27).permute(2, 1, 0)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_device_args(p)
    p.set_defaults(device="cuda")
    p.add_argument("--voxels", type=int, default=BASE_VOXELS, help="target voxel count of the scene")
    p.add_argument("--channels", type=int, nargs="+", default=[64, 128], help="C_in = C_out of the conv")
    p.add_argument("--repeats", type=int, default=20, help="timed repeats per measurement (median reported)")
    args = p.parse_args()
    if importlib.util.find_spec("spconv") is None:
        print("spconv is not installed: pip install spconv-cu121 (CUDA 12.x) or spconv (CPU, forward only)",
              file=sys.stderr)
        return 2
    device = open_device(args)
    if device is None:
        return 2
    import spconv
    import spconv.pytorch as sp

    torch.backends.cudnn.allow_tf32 = False  # the dense reference and the float32 GEMMs in full float32
    torch.backends.cuda.matmul.allow_tf32 = False
    cuda = device.type == "cuda"
    name = torch.cuda.get_device_name(device) if cuda else "cpu"
    print(f"torch {torch.__version__}, spconv {getattr(spconv, '__version__', '?')}, device {name}, "
          f"threads {torch.get_num_threads()}, repeats {args.repeats}")
    coords = make_scene(args.voxels).to(device)
    print(f"scene: {coords.shape[0]} voxels")
    dtypes = [torch.float32] + ([torch.float16] if cuda else [])
    headline = None
    for dtype in dtypes:
        for c in args.channels:
            r = compare(sp, coords, c, dtype, device, args.repeats, backward=cuda)
            tag = f"{c}->{c} {str(dtype).removeprefix('torch.')}"
            print(f"\n[{tag}] {r['pairs']} pairs; relative error vs dense conv3d: i2p {r['err']['i2p']}, "
                  f"spconv {r['err']['spconv']}; i2p vs spconv output {r['diff']:.1e}"
                  + (f", grad_x {r['grad_diff'][0]:.1e}, grad_w {r['grad_diff'][1]:.1e}" if r["grad_diff"] else ""))
            for what in ("map+fwd", "fwd", "fwd+bwd"):
                if f"i2p {what}" in r["t"]:
                    ti, ts = r["t"][f"i2p {what}"], r["t"][f"spconv {what}"]
                    print(f"  {what:8s} i2p {ti:8.2f} ms   spconv {ts:8.2f} ms   spconv/i2p {ts / ti:5.2f}")
            if headline is None:
                key = "fwd+bwd" if cuda else "fwd"
                headline = (key, r["t"][f"spconv {key}"] / r["t"][f"i2p {key}"])
    print(f"i2p_vs_spconv_{headline[0].replace('+', '_')}={headline[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
