"""PointNet++'s point operations in plain PyTorch (CPU and CUDA, no custom kernels).

Sampling (farthest point sampling), grouping (ball query), gathering and feature
interpolation (three nearest neighbours), batched over ``B`` clouds of ``N`` points each
(``[B, N, 3]`` coordinates, channels-last ``[B, N, C]`` features). Everything is
vectorised over the batch and the points; only FPS loops, over its ``m`` samples,
because each sample depends on the previous ones.

Squared distances are always computed as ``(dx*dx + dy*dy) + dz*dz`` in the coordinates'
dtype, so results are reproducible against a plain loop and across devices. Pairwise
distance blocks are bounded by :data:`BLOCK` elements: ball query and interpolation
process their query points in chunks, so e.g. a 16k x 4k distance matrix never exists
at once.

Indices (outputs of FPS and ball query) carry no gradient; :func:`gather_points` and
:func:`three_nn_interpolate` are differentiable in the features.

Every op checks its arguments' types and shapes (free) and, by default, their values:
finite coordinates, indices in range. The value checks read the data -- a device sync on
CUDA -- so ``check=False`` skips them for a caller that already has: the PointNet++
modules check the coordinates once at a forward's entry, and the indices they gather by
come from FPS / ball query / the nearest-neighbour search, in range by construction.
"""
from __future__ import annotations

import torch

__all__ = ["farthest_point_sample", "ball_query", "gather_points", "three_nn_interpolate", "BLOCK"]

#: the most elements one ``[B, queries, N]`` distance block may hold (ball query and
#: interpolation chunk their queries to stay under it). 1M float32 = 4 MiB per buffer:
#: on a CPU, ball query over 16k x 4k pairs ran faster with 256k-1M-element blocks
#: (cache-resident passes) than with 4M: ~250 ms vs 350-950 ms (1 thread, loaded 2-core box)
BLOCK = 1 << 20

#: squared distances below this count as this in the inverse-distance weights, so a query
#: that coincides with a known point takes (almost exactly) that point's features
_EPS = 1e-10


def _check_cloud(name: str, xyz: torch.Tensor, check: bool = True) -> None:
    """Raise a clear error for coordinates the ops cannot take: ``[B, N, 3]``, floating,
    not empty, and (``check``: the one test that reads the values) finite."""
    if not isinstance(xyz, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(xyz).__name__}")
    if xyz.dim() != 3 or xyz.shape[-1] != 3:
        raise ValueError(f"{name} must have shape [B, N, 3] (batch, points, xyz), got {tuple(xyz.shape)}")
    if not xyz.is_floating_point():
        raise TypeError(f"{name} must be floating point, got {xyz.dtype}")
    if xyz.shape[0] == 0 or xyz.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {tuple(xyz.shape)}): every cloud needs at least one point")
    if not check:
        return
    bad = (~torch.isfinite(xyz)).any(-1).sum().item()
    if bad:
        raise ValueError(f"{name} has {bad} point(s) with non-finite coordinates (NaN or inf)")


def _check_pair(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Two clouds that are queried against each other: same batch size, device and dtype."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(f"{name_a} has {a.shape[0]} clouds but {name_b} has {b.shape[0]}")
    if a.device != b.device or a.dtype != b.dtype:
        raise ValueError(f"{name_a} is {a.dtype} on {a.device} but {name_b} is {b.dtype} on {b.device}")


def _split(xyz: torch.Tensor, dim: int | None = None) -> tuple[torch.Tensor, ...]:
    """The x, y, z columns of ``[B, N, 3]`` as contiguous ``[B, N]`` tensors (fast to
    stream), each with a size-1 axis inserted at ``dim`` if given (for broadcasting)."""
    cols = (xyz[..., i].contiguous() for i in range(3))
    return tuple(cols if dim is None else (c.unsqueeze(dim) for c in cols))


def _sq_dist(a: tuple[torch.Tensor, ...], b: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Squared distances between points given as x, y, z columns that broadcast against
    each other (``[B, q, 1]`` vs ``[B, 1, N]`` -> ``[B, q, N]``), summed in a fixed order
    (see the module docstring). In-place arithmetic: call without autograd."""
    d = a[0] - b[0]
    d.mul_(d)
    for i in (1, 2):
        e = a[i] - b[i]
        d.add_(e.mul_(e))
    return d


def _query_chunk(batch: int, n: int) -> int:
    """Queries per chunk so that a ``[batch, chunk, n]`` block stays under :data:`BLOCK`."""
    return max(1, BLOCK // (batch * n))


@torch.no_grad()
def farthest_point_sample(xyz: torch.Tensor, m: int, *, check: bool = True) -> torch.Tensor:
    """``[B, m]`` indices of ``m`` points per cloud spread as evenly as FPS can: each new
    sample is the point farthest from all samples so far, which covers the shape far
    better than random sampling at the same count (PointNet++'s sampling layer).

    Deterministic: every cloud starts at its point 0; a tie for the farthest point goes
    to the lowest index (``torch.argmax`` returns the first maximum). When ``m`` exceeds
    the number of distinct points, the remaining samples repeat point 0 (every distance is
    then 0 and the lowest index wins). ``check=False``: ``xyz`` is known finite (module docstring).
    """
    _check_cloud("xyz", xyz, check)
    b, n, _ = xyz.shape
    if not isinstance(m, int) or m < 1:
        raise ValueError(f"m (points to sample) must be an int >= 1, got {m!r}")
    if m > n:
        raise ValueError(f"cannot sample m={m} points from clouds of N={n} points (m must be <= N)")
    cols = _split(xyz)
    far = torch.zeros(b, 1, dtype=torch.long, device=xyz.device)
    min_d = torch.full((b, n), float("inf"), dtype=xyz.dtype, device=xyz.device)
    chosen = [far]
    for _ in range(m - 1):
        d = _sq_dist(tuple(c.gather(1, far) for c in cols), cols)
        torch.minimum(min_d, d, out=min_d)
        far = min_d.argmax(-1, keepdim=True)
        chosen.append(far)
    return torch.cat(chosen, 1)


@torch.no_grad()
def ball_query(xyz: torch.Tensor, centers: torch.Tensor, radius: float, k: int, *,
               check: bool = True) -> torch.Tensor:
    """``[B, m, k]`` indices into ``xyz`` of each centre's neighbourhood: the first ``k``
    points (in index order) with squared distance ``< radius**2`` (PointNet++'s grouping,
    which fixes the group size so groups batch into one tensor).

    Fewer than ``k`` found: the group is padded with its first found index (PointNet++'s
    convention; max-pooling ignores the repeats). None found (possible only for a centre
    that is not one of the points): the group is the nearest point, repeated (lowest index
    on ties). ``radius`` is in the coordinates' units. ``check=False``: both clouds are known
    finite (module docstring).
    """
    _check_cloud("xyz", xyz, check)
    _check_cloud("centers", centers, check)
    _check_pair("xyz", xyz, "centers", centers)
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k (points per group) must be an int >= 1, got {k!r}")
    radius = float(radius)
    if not radius > 0 or radius == float("inf"):
        raise ValueError(f"radius must be a finite number > 0, got {radius}")
    b, n, _ = xyz.shape
    m = centers.shape[1]
    r2 = radius * radius
    out = torch.empty(b, m, k, dtype=torch.long, device=xyz.device)
    slots = torch.arange(k, device=xyz.device)
    cols, centre_cols = _split(xyz, 1), _split(centers)
    step = _query_chunk(b, n)
    for s in range(0, m, step):
        d2 = _sq_dist(tuple(c[:, s:s + step, None] for c in centre_cols), cols).view(-1, n)  # [groups, n]
        inside = d2 < r2
        count = inside.sum(-1)
        # (group, point) pairs inside; nonzero lists them in row-major order (documented),
        # so each group's points come in index order and their rank is their slot
        group, point = inside.nonzero(as_tuple=True)
        rank = torch.arange(len(group), device=xyz.device) - (count.cumsum(0) - count)[group]
        keep = rank < k
        idx = torch.zeros(len(count), k, dtype=torch.long, device=xyz.device)
        idx[group[keep], rank[keep]] = point[keep]
        lead = idx[:, :1]
        empty = count == 0
        if empty.any():
            lead = torch.where(empty.unsqueeze(1), d2.argmin(-1, keepdim=True), lead)
        out[:, s:s + step] = torch.where(slots < count.unsqueeze(1), idx, lead).view(b, -1, k)
    return out


def gather_points(x: torch.Tensor, idx: torch.Tensor, *, check: bool = True) -> torch.Tensor:
    """``x[b, idx[b, ...]]``: ``[B, ..., C]`` rows of ``x [B, N, C]`` picked per cloud by
    integer indices of any shape ``[B, ...]`` (sampled centres ``[B, m]``, groups
    ``[B, m, k]``). Differentiable in ``x``. Indices are range-checked on every device,
    because on CUDA an out-of-range gather is a device assert that kills the process;
    ``check=False`` only for indices in range by construction (an op's output)."""
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ValueError(f"x must be a [B, N, C] tensor, got {tuple(x.shape) if isinstance(x, torch.Tensor) else x!r}")
    if not isinstance(idx, torch.Tensor) or idx.dtype not in (torch.long, torch.int32) or idx.dim() < 1:
        raise TypeError(f"idx must be an integer (int64/int32) tensor [B, ...], got {getattr(idx, 'dtype', type(idx))}")
    if idx.shape[0] != x.shape[0] or idx.device != x.device:
        raise ValueError(f"idx is [{idx.shape[0]}, ...] on {idx.device} but x is [{x.shape[0]}, N, C] on {x.device}")
    b, n, c = x.shape
    flat = idx.reshape(b, -1).long()
    if check and flat.numel() and (flat.min().item() < 0 or flat.max().item() >= n):
        raise IndexError(f"idx must lie in [0, {n}) for clouds of N={n} points, got range "
                         f"[{flat.min().item()}, {flat.max().item()}]")
    out = torch.gather(x, 1, flat.unsqueeze(-1).expand(-1, -1, c))
    return out.reshape(*idx.shape, c)


def three_nn_interpolate(unknown: torch.Tensor, known: torch.Tensor, known_feats: torch.Tensor, *,
                         check: bool = True) -> torch.Tensor:
    """``[B, n, C]`` features at the ``unknown [B, n, 3]`` points, interpolated from the 3
    nearest ``known [B, m, 3]`` points (PointNet++ feature propagation: upsampling coarse
    features back to the finer level, without learned weights).

    Weights are inverse squared distances (the paper's ``p = 2``), normalised to sum to 1;
    a squared distance below 1e-10 counts as 1e-10, so a query on a known point takes
    (almost exactly) its features. With fewer than 3 known points, all of them are used.
    Differentiable in ``known_feats``; the weights carry no gradient to the coordinates.
    ``check=False``: both clouds are known finite (module docstring).
    """
    _check_cloud("unknown", unknown, check)
    _check_cloud("known", known, check)
    _check_pair("unknown", unknown, "known", known)
    if not isinstance(known_feats, torch.Tensor) or known_feats.dim() != 3 or known_feats.shape[:2] != known.shape[:2]:
        shape = tuple(known_feats.shape) if isinstance(known_feats, torch.Tensor) else type(known_feats).__name__
        raise ValueError(f"known_feats must be [B, m, C] with [B, m] = {tuple(known.shape[:2])} from known, got {shape}")
    b, n, _ = unknown.shape
    m = known.shape[1]
    kn = min(3, m)
    idx = torch.empty(b, n, kn, dtype=torch.long, device=unknown.device)
    weight = torch.empty(b, n, kn, dtype=unknown.dtype, device=unknown.device)
    step = _query_chunk(b, m)
    with torch.no_grad():
        cols, known_cols = _split(unknown), _split(known, 1)
        for s in range(0, n, step):
            d2, nn_idx = _sq_dist(tuple(c[:, s:s + step, None] for c in cols), known_cols).topk(kn, dim=-1, largest=False)
            w = 1.0 / d2.clamp_min(_EPS)
            weight[:, s:s + step] = w / w.sum(-1, keepdim=True)
            idx[:, s:s + step] = nn_idx
    return (gather_points(known_feats, idx, check=False) * weight.unsqueeze(-1).to(known_feats.dtype)).sum(2)
