"""Coordinate hashing, strided coordinate sets and kernel maps.

A *kernel map* lists, for every kernel offset, the pairs (input row, output row) that
the offset connects. Convolutions only ever consume kernel maps, so every conv variant
(submanifold, strided, transposed, depthwise) shares one compute path.

Offsets are enumerated explicitly: offset ``k`` of a ``K x K x K`` kernel is
``(dx, dy, dz)`` with ``k = (ix * K + iy) * K + iz`` and ``d = i - (K - 1) // 2`` for odd
``K`` (centered) or ``d = i`` for even ``K`` (a ``K``-cube anchored at the output voxel).
This is the layout of a dense ``conv3d`` weight ``[Cout, Cin, Kx, Ky, Kz]`` with
dims (D, H, W) = (x, y, z), which is what the tests compare against.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .backend import torchsparse_query
from .tensor import SparseTensor

__all__ = ["CoordIndex", "KernelMap", "kernel_offsets", "unique_grid", "downsample_coords", "get_kernel_map"]

_MARGIN = 4  # grid cells of slack around an index: offsets up to |d| = 3 (K = 7) stay inside
_MAX_DENSE_TABLE = 1 << 25  # int32 entries (128 MiB); larger grids use sorted keys instead


def kernel_offsets(kernel_size: int, device: torch.device | str = "cpu") -> torch.Tensor:
    """``[K**3, 3]`` integer offsets in the documented order (see module docstring)."""
    r = torch.arange(kernel_size, device=device)
    if kernel_size % 2 == 1:
        r = r - (kernel_size - 1) // 2
    grid = torch.meshgrid(r, r, r, indexing="ij")
    return torch.stack(grid, dim=-1).reshape(-1, 3)


class CoordIndex:
    """Maps voxel coordinates of one coordinate set to row numbers.

    Uses a dense lookup table over the (padded) bounding box when it is small enough
    (pure gathers, fastest) and falls back to sorted keys + binary search otherwise
    (large outdoor scans).
    """

    def __init__(self, coords: torch.Tensor, stride: int) -> None:
        self.stride = stride
        grid = _to_grid(coords, stride)
        n = grid.shape[0]
        if n == 0:
            raise ValueError("cannot index an empty coordinate set (no voxels)")
        self.lo = grid[:, 1:].min(0).values - _MARGIN
        ext_xyz = grid[:, 1:].max(0).values - self.lo + 1 + _MARGIN
        batches = int(grid[:, 0].max().item()) + 1
        self.ext = torch.cat([torch.tensor([batches], device=grid.device), ext_xyz])
        ex = self.ext.tolist()
        _check_key_range(ex)
        self.key_strides = torch.tensor(
            [ex[1] * ex[2] * ex[3], ex[2] * ex[3], ex[3], 1], device=grid.device
        )
        keys = self.pack(grid)
        total = ex[0] * ex[1] * ex[2] * ex[3]
        self.dense = total <= max(_MAX_DENSE_TABLE // 8, 16 * n) and total <= _MAX_DENSE_TABLE
        if self.dense:
            self.table = torch.full((total,), -1, dtype=torch.int32, device=grid.device)
            rows = torch.arange(n, dtype=torch.int32, device=grid.device)
            self.table[keys] = rows
            duplicated = bool((self.table[keys] != rows).any())
        else:
            self.keys = keys
            self.sorted_keys, self.perm = torch.sort(keys)
            duplicated = bool((self.sorted_keys[1:] == self.sorted_keys[:-1]).any())
        if duplicated:
            raise ValueError(
                "SparseTensor has duplicate voxel coordinates; build it with i2p.sparse.voxelize "
                "(which merges points per voxel) or deduplicate the coords"
            )

    def pack(self, grid: torch.Tensor) -> torch.Tensor:
        """int64 key of ``[M, 4]`` grid coordinates (batch, x, y, z in index units)."""
        shifted = torch.cat([grid[:, :1], grid[:, 1:] - self.lo], dim=1)
        return _keys(shifted, self.key_strides)

    def offset_key(self, d: torch.Tensor) -> int:
        """Key increment of a grid offset ``(dx, dy, dz)``."""
        return int((d * self.key_strides[1:]).sum().item())

    def lookup(self, keys: torch.Tensor) -> torch.Tensor:
        """Row numbers for keys (``-1`` where absent). Keys must come from :meth:`pack`
        of coordinates within the index's margin."""
        if self.dense:
            return self.table[keys].long()
        gpu_query = torchsparse_query(keys.device)
        if gpu_query is not None:
            return gpu_query(keys, self.keys).long()
        pos = torch.searchsorted(self.sorted_keys, keys).clamp_(max=self.sorted_keys.numel() - 1)
        hit = self.sorted_keys[pos] == keys
        return torch.where(hit, self.perm[pos], torch.full_like(pos, -1))


@dataclass
class KernelMap:
    """Per-offset (input row, output row) pairs of one convolution geometry.

    ``identity`` is the offset whose pairs are ``(i, i)`` for every row (the centre of a
    submanifold conv); it is stored implicitly so the conv can use a plain GEMM there.
    """

    in_idx: list[torch.Tensor]
    out_idx: list[torch.Tensor]
    n_in: int
    n_out: int
    identity: int | None = None
    #: the conv's chunked (and padded) pair lists, built once per map (see ``ops``)
    chunks: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def num_offsets(self) -> int:
        return len(self.in_idx)

    @property
    def num_pairs(self) -> int:
        extra = self.n_out if self.identity is not None else 0
        return sum(int(i.numel()) for i in self.in_idx) + extra

    def transposed(self) -> "KernelMap":
        """The same pairs seen from the other side (for transposed convolutions)."""
        return KernelMap(self.out_idx, self.in_idx, self.n_out, self.n_in, self.identity)


def _index(x: SparseTensor, stride: int) -> CoordIndex:
    idx = x.cache.hashes.get(stride)
    if idx is None:
        idx = CoordIndex(x.cache.coords[stride], stride)
        x.cache.hashes[stride] = idx
    return idx


def _check_key_range(ext: list[int]) -> None:
    """Packed int64 keys need batches x cells per axis below 2**62."""
    total = ext[0] * ext[1] * ext[2] * ext[3]
    if total >= 1 << 62:
        raise ValueError(
            f"coordinate range too large to index ({ext[1]} x {ext[2]} x {ext[3]} cells, {ext[0]} clouds): "
            "check the units of the points or use a larger voxel size"
        )


def _keys(grid: torch.Tensor, strides: torch.Tensor) -> torch.Tensor:
    """``grid @ strides`` for int64 rows: CUDA has no integer matmul, so multiply and sum."""
    return (grid * strides).sum(1)


def unique_grid(grid: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Distinct rows of ``[M, 4]`` integer coordinates (sorted) and each row's position."""
    lo = grid.min(0).values
    g = grid - lo
    ext = g.max(0).values + 1
    _check_key_range(ext.tolist())
    ks = torch.stack([ext[1] * ext[2] * ext[3], ext[2] * ext[3], ext[3], torch.ones_like(ext[3])])
    uniq, inverse = torch.unique(_keys(g, ks), sorted=True, return_inverse=True)
    out = torch.empty(uniq.numel(), 4, dtype=torch.long, device=grid.device)
    rem = uniq
    for j in range(4):
        out[:, j] = torch.div(rem, ks[j], rounding_mode="floor")
        rem = rem - out[:, j] * ks[j]
    return out + lo, inverse


def downsample_coords(coords: torch.Tensor, out_stride: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Coarse voxels covering ``coords``: ``floor(c / s) * s`` per point, deduplicated.

    Returns ``(coarse_coords, parent)`` where ``parent[i]`` is the coarse row of input row
    ``i``. This is MinkowskiEngine's rule for strided outputs; it guarantees that every
    fine voxel has exactly one parent, so a kernel-2 stride-2 transposed conv returns to
    exactly the cached finer coordinates.
    """
    coarse, parent = unique_grid(_to_grid(coords, out_stride))
    coarse[:, 1:] *= out_stride
    return coarse, parent


def _to_grid(coords: torch.Tensor, stride: int) -> torch.Tensor:
    """Coordinates in units of ``stride`` (floor), batch column unchanged."""
    return torch.cat([coords[:, :1], torch.div(coords[:, 1:], stride, rounding_mode="floor")], dim=1)


def _strided_out_coords(x: SparseTensor, stride: int) -> torch.Tensor:
    out_stride = x.stride * stride
    if out_stride not in x.cache.coords:
        x.cache.coords[out_stride], parent = downsample_coords(x.coords, out_stride)
        x.cache.kmaps[("parent", x.stride, out_stride)] = parent
    return x.cache.coords[out_stride]


def _query_map(
    index: CoordIndex, out_grid: torch.Tensor, offsets: torch.Tensor, n_in: int
) -> KernelMap:
    """Pairs by looking every output voxel's neighbours up in the input index."""
    base = index.pack(out_grid)
    # Keys are only unique inside the index's padded box. Neighbours can leave it when
    # offsets exceed the margin (even K = 6: d up to 5) or strided outputs floor(c/s)*s
    # sit far below the inputs (e.g. K = 5, s = 8); such keys would alias other voxels
    # (or index past the table), so those queries are masked to "absent".
    hi = index.lo + index.ext[1:]
    inside_all = offsets.shape[0] == 0 or bool(
        ((out_grid[:, 1:].min(0).values + offsets.min(0).values) >= index.lo).all()
        and ((out_grid[:, 1:].max(0).values + offsets.max(0).values) < hi).all()
    )
    ins, outs = [], []
    for d in offsets:
        keys = base + index.offset_key(d)
        if inside_all:
            rows = index.lookup(keys)
        else:
            nb = out_grid[:, 1:] + d
            inside = ((nb >= index.lo) & (nb < hi)).all(1)
            rows = torch.full_like(keys, -1)
            rows[inside] = index.lookup(keys[inside])
        hit = rows >= 0
        outs.append(hit.nonzero().squeeze(1))
        ins.append(rows[hit])
    return KernelMap(ins, outs, n_in, out_grid.shape[0])


def _submanifold_map(x: SparseTensor, kernel_size: int) -> KernelMap:
    """Stride-1 map; uses the symmetry pairs(-d) = swap(pairs(d)) to halve the lookups."""
    index = _index(x, x.stride)
    offsets = kernel_offsets(kernel_size, x.device)
    n = x.num_voxels
    if kernel_size % 2 == 0:
        grid = _to_grid(x.coords, x.stride)
        return _query_map(index, grid, offsets, n)
    kv = offsets.shape[0]
    centre = kv // 2
    grid = _to_grid(x.coords, x.stride)
    half = _query_map(index, grid, offsets[:centre], n)
    empty = torch.empty(0, dtype=torch.long, device=x.device)
    ins = half.in_idx + [empty] + [half.out_idx[centre - 1 - j] for j in range(centre)]
    outs = half.out_idx + [empty] + [half.in_idx[centre - 1 - j] for j in range(centre)]
    return KernelMap(ins, outs, n, n, identity=centre)


def _downsample_map(x: SparseTensor, kernel_size: int, stride: int) -> KernelMap:
    out_coords = _strided_out_coords(x, stride)
    out_stride = x.stride * stride
    parent = x.cache.kmaps.get(("parent", x.stride, out_stride))
    if kernel_size == stride and kernel_size % 2 == 0 and parent is not None:
        # every input voxel has exactly one parent: read the pairs off the parent map
        # (even kernels only: their offsets 0..K-1 are anchored like the parent cell;
        # odd kernels are centred, d = -(K-1)//2..(K-1)//2, and take the lookup path).
        # Without a cached parent map (coarse voxels made elsewhere, possibly in another
        # row order) the lookup path below gives the same pairs.
        rel = torch.div(x.coords[:, 1:] - out_coords[parent, 1:], x.stride, rounding_mode="floor")
        k = (rel[:, 0] * kernel_size + rel[:, 1]) * kernel_size + rel[:, 2]
        order = torch.argsort(k, stable=True)
        counts = torch.bincount(k, minlength=kernel_size**3).tolist()
        ins = list(torch.split(order, counts))
        outs = list(torch.split(parent[order], counts))
        return KernelMap(ins, outs, x.num_voxels, out_coords.shape[0])
    index = _index(x, x.stride)
    grid = _to_grid(out_coords, x.stride)
    return _query_map(index, grid, kernel_offsets(kernel_size, x.device), x.num_voxels)


#: the profiler range every kernel-map build runs in (``benchmarks/train_step.py`` reads it)
KERNEL_MAP_RANGE = "i2p.kernel_map"


def _built(build, *args) -> KernelMap:
    with torch.profiler.record_function(KERNEL_MAP_RANGE):
        return build(*args)


def get_kernel_map(
    x: SparseTensor, kernel_size: int, stride: int = 1, transposed: bool = False
) -> tuple[KernelMap, torch.Tensor, int]:
    """Kernel map, output coordinates and output stride of a conv applied to ``x``.

    Cached on ``x.cache``. A transposed conv with stride ``s`` returns to the cached
    coordinates of stride ``x.stride // s`` and reuses (transposes) the map of the
    downsampling that produced ``x``'s stride from there.
    """
    if kernel_size < 1 or kernel_size > 2 * _MARGIN - 1:
        raise ValueError(f"kernel_size must be in 1..{2 * _MARGIN - 1}, got {kernel_size}")
    if transposed:
        if stride == 1:
            raise ValueError("a transposed conv needs stride > 1 (use a normal conv for stride 1)")
        if x.stride % stride:
            raise ValueError(f"cannot upsample a stride-{x.stride} tensor by {stride}")
        fine = x.stride // stride
        if fine not in x.cache.coords:
            raise ValueError(
                f"no cached coordinates at stride {fine}: a transposed conv can only return "
                "to a resolution this tensor was downsampled from"
            )
        key = ("down", fine, kernel_size, stride)
        if key not in x.cache.kmaps:
            fine_x = SparseTensor(x.feats.new_zeros(len(x.cache.coords[fine]), 0), x.cache.coords[fine], fine, x.cache)
            x.cache.kmaps[key] = _built(_downsample_map, fine_x, kernel_size, stride)
        return x.cache.kmaps[key].transposed(), x.cache.coords[fine], fine
    if stride == 1:
        key = ("sub", x.stride, kernel_size)
        if key not in x.cache.kmaps:
            x.cache.kmaps[key] = _built(_submanifold_map, x, kernel_size)
        return x.cache.kmaps[key], x.coords, x.stride
    key = ("down", x.stride, kernel_size, stride)
    if key not in x.cache.kmaps:
        x.cache.kmaps[key] = _built(_downsample_map, x, kernel_size, stride)
    return x.cache.kmaps[key], x.cache.coords[x.stride * stride], x.stride * stride
