"""The one compute kernel behind every sparse conv: gather -> GEMM -> scatter-add.

For each kernel offset, the input rows of its pairs are gathered, multiplied by that
offset's weight and added into their output rows. On the CPU the pairs are processed
in chunks that fit in cache (gather, GEMM and scatter touch the same small buffers),
which is what lifts this above a naive ``index_add_`` loop; the submanifold centre
offset is a plain GEMM. Backward recomputes the gathers instead of saving them, so
training memory stays at features + kernel map.

Depthwise convs (``groups == channels``) use the same loop with an elementwise
product in place of the GEMM.

Low precision on the CPU (bfloat16/float16 under autocast): oneDNN compiles a GEMM
kernel for every new shape (~0.5 ms each), and pair counts differ per offset and per
batch, so unpadded chunks would compile thousands of kernels per training step. There,
chunks have a fixed row count and a last, short chunk is padded up to one of
:data:`_BUCKETS` sizes, so a conv only ever meets a few GEMM shapes.

Low precision on a CPU with AMX/AVX512-BF16 makes the GEMMs so fast that this loop's many
small ops dominate at teaching sizes (a few thousand pairs per offset). There the conv
runs ``"grouped"`` (:data:`CONV_ALGORITHM` ``"auto"``): offsets with similar pair counts
form a group, whose pairs are gathered side by side (padded to a bucket size, padding
reading an appended zero row) and multiplied in one batched GEMM, and all the conv's
products are added to their output rows by one ``index_add_`` -- a few large ops per conv
instead of four per offset. The sums within an offset happen inside the GEMM (float32
accumulators); that ``index_add_`` sums each output row's terms in float32 too (the CPU
kernel does so for 16-bit floats) and rounds once. So grouped convs are as accurate as
float32 sums across offsets (relative error 3.3e-3 on the benchmark conv; the loop's
bfloat16 sums 4.9e-3) and batch-invariant in effect: the groups, and with them the order of
the float32 sums, depend on the whole batch, but not the 16-bit result (tested bit for bit;
adding one group after another in bfloat16 changed 14 % of one sample's outputs when other
clouds joined its batch). Float32 keeps the chunked loop:
grouped was no clear gain there (0.87-1.08x the loop's step time).

On GPUs that loop is bound by kernel launches (four small kernels per offset), so there
the conv runs as one GEMM per block of output rows instead (:data:`CONV_ALGORITHM`
``"table"``): a neighbour table ``[outputs, K]`` (cached on the kernel map) gathers each
output's K input rows side by side, ``[outputs, K * C_in] @ [K * C_in, C_out]`` sums the
offsets inside the GEMM (in float32 on GPUs, whatever the input dtype), and absent
neighbours read a zero row. It computes the absent pairs too (27 per output instead of
~12 on a surface), which a GPU affords and a 2-core CPU does not.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Iterator

import torch

from .kmap import KernelMap

__all__ = ["sparse_conv_apply", "compute_dtypes", "LOW_PRECISION_ACCUMULATE", "CONV_ALGORITHM", "ALGORITHMS",
           "workspace_bytes", "release_workspaces"]

#: the conv algorithms (see the module docstring)
ALGORITHMS = ("gather", "grouped", "table")
#: The conv's algorithm per device type: one of :data:`ALGORITHMS`, or ``"auto"``: ``"grouped"``
#: for bfloat16/float16 features, ``"gather"`` for float32/float64 (measured on a 2-core CPU
#: with AVX512-BF16 and AMX: README, "Mixed precision"). Device types not listed use ``"table"``
#: when not ``"cpu"``. Measured with ``benchmarks/sparse_conv.py`` and ``benchmarks/train_step.py``.
CONV_ALGORITHM = {"cpu": "auto", "cuda": "table"}
#: the most elements a gathered ``[rows, K * C]`` block of the table algorithm may hold
_TABLE_BLOCK = 1 << 27

#: a short chunk is padded to the next multiple of ``chunk // _BUCKETS`` rows (fixed shapes only)
_BUCKETS = 16


def _fixed_shapes(t: torch.Tensor) -> bool:
    """Whether GEMMs on ``t`` should keep to a few shapes (see the module docstring)."""
    return t.device.type == "cpu" and t.dtype in (torch.bfloat16, torch.float16)


def _padded(m: int, chunk: int, pad: bool) -> int:
    """Rows a chunk of ``m`` pairs occupies: ``m``, or with ``pad`` the next bucket size."""
    return min(chunk, m + (-m % max(chunk // _BUCKETS, 1))) if pad else m


def _chunks(ins: torch.Tensor, outs: torch.Tensor, chunk: int, pad: bool) -> Iterator[tuple[torch.Tensor, torch.Tensor, int]]:
    """``(in rows, out rows, m)`` per chunk of pairs; with ``pad`` a short chunk's rows are
    padded (repeating its last pair) up to a bucket size and ``m`` says how many are real."""
    n = ins.numel()
    for s in range(0, n, chunk):
        i_c, o_c = ins[s : s + chunk], outs[s : s + chunk]
        m = i_c.numel()
        extra = _padded(m, chunk, pad) - m
        if extra:
            i_c = torch.cat([i_c, i_c[-1:].expand(extra)])
            o_c = torch.cat([o_c, o_c[-1:].expand(extra)])
        yield i_c, o_c, m


def _pair_chunks(kmap: KernelMap, swap: bool, chunk: int, pad: bool) -> list[list[tuple[torch.Tensor, torch.Tensor, int]]]:
    """Per offset, the chunks of :func:`_chunks` (``swap``: seen from the output side), cached
    on the kernel map: every conv on it, forward and backward, reuses them."""
    key = (swap, chunk, pad)
    if key not in kmap.chunks:
        ins, outs = (kmap.out_idx, kmap.in_idx) if swap else (kmap.in_idx, kmap.out_idx)
        kmap.chunks[key] = [[] if k == kmap.identity else list(_chunks(i_k, o_k, chunk, pad))
                            for k, (i_k, o_k) in enumerate(zip(ins, outs))]
    return kmap.chunks[key]


def _chunk_rows(t: torch.Tensor, channels: int) -> int:
    """Rows per step: ~2 MiB of features per buffer on the CPU (a multiple of 512, so
    buckets divide it; twice the rows in 16-bit types), everything at once on GPUs."""
    if t.device.type != "cpu":
        return 1 << 62
    return max(512, min(32768, (1 << 21) // (max(channels, 1) * t.element_size())) // 512 * 512)


def _dense(x: torch.Tensor, w: torch.Tensor, depthwise: bool) -> torch.Tensor:
    """``x @ w`` (or ``x * w``) for every row: the centre offset of a submanifold conv. With
    fixed shapes the rows go in chunks, the last one padded, so ``n`` never names a new GEMM."""
    if depthwise or not _fixed_shapes(x):
        return x * w if depthwise else x @ w
    n = x.shape[0]
    chunk = _chunk_rows(x, max(x.shape[1], w.shape[1]))
    out = x.new_empty(n, w.shape[1])
    for s in range(0, n - n % chunk, chunk):
        torch.mm(x[s : s + chunk], w, out=out[s : s + chunk])
    if n % chunk:
        s, m = n - n % chunk, n % chunk
        tail = x.new_zeros(_padded(m, chunk, True), x.shape[1])
        tail[:m] = x[s:]
        out[s:] = (tail @ w)[:m]
    return out


def _dense_t(x: torch.Tensor, g: torch.Tensor, out: torch.Tensor) -> None:
    """``out += x.t() @ g`` (the centre offset's weight gradient), reduced in fixed-size chunks
    (the tail zero-padded) when shapes must stay fixed; ``out`` may be wider than ``x``."""
    if not _fixed_shapes(x):
        out += x.t() @ g
        return
    n = x.shape[0]
    chunk = _chunk_rows(x, max(x.shape[1], g.shape[1]))
    for s in range(0, n, chunk):
        xs, gs = x[s : s + chunk], g[s : s + chunk]
        extra = _padded(xs.shape[0], chunk, True) - xs.shape[0]
        if extra:
            xs = torch.cat([xs, xs.new_zeros(extra, xs.shape[1])])
            gs = torch.cat([gs, gs.new_zeros(extra, gs.shape[1])])
        out += xs.t() @ gs


def _initial_sums(x: torch.Tensor, w_centre: torch.Tensor | None, rows: int, cols: int, depthwise: bool,
                  acc_dtype: torch.dtype) -> torch.Tensor:
    """A conv's output rows before the other offsets add in: the centre offset's dense
    product (``w_centre``, submanifold maps) or zeros, in ``acc_dtype``."""
    if w_centre is None:
        return x.new_zeros(rows, cols, dtype=acc_dtype)
    return _dense(x, w_centre, depthwise).to(acc_dtype)


def _centre_weight(weight: torch.Tensor, kmap: KernelMap, depthwise: bool, transpose: bool) -> torch.Tensor | None:
    """The centre offset's weight (transposed for input gradients), None without a centre."""
    if kmap.identity is None:
        return None
    w_c = weight[kmap.identity]
    return w_c.t() if transpose and not depthwise else w_c


def _algorithm(x: torch.Tensor) -> str:
    """The conv algorithm for ``x``: :data:`CONV_ALGORITHM` of its device; ``"auto"`` is
    ``"grouped"`` for 16-bit floats and ``"gather"`` otherwise."""
    algo = CONV_ALGORITHM.get(x.device.type, "auto" if x.device.type == "cpu" else "table")
    if algo == "auto":
        return "grouped" if x.dtype in (torch.bfloat16, torch.float16) else "gather"
    if algo not in ALGORITHMS:
        raise ValueError(f"CONV_ALGORITHM[{x.device.type!r}] must be one of {', '.join(ALGORITHMS)} or 'auto', "
                         f"got {algo!r}")
    return algo


def _neighbour_table(kmap: KernelMap, swap: bool) -> torch.Tensor:
    """``[outputs, K]``: the input row of each (output row, offset) pair, ``inputs`` (the
    index of an appended zero row) where the pair is absent; ``swap`` for the map seen from
    its output side. Built with one scatter and cached on the kernel map."""
    key = ("table", swap)
    if key not in kmap.chunks:
        ins, outs = (kmap.out_idx, kmap.in_idx) if swap else (kmap.in_idx, kmap.out_idx)
        n_in, n_out = (kmap.n_out, kmap.n_in) if swap else (kmap.n_in, kmap.n_out)
        k_all = kmap.num_offsets
        device = ins[0].device
        table = torch.full((n_out, k_all), n_in, dtype=torch.long, device=device)
        if kmap.identity is not None:
            table[:, kmap.identity] = torch.arange(n_out, device=device)
        flat_out = [o * k_all + k for k, o in enumerate(outs) if k != kmap.identity]
        flat_in = [i for k, i in enumerate(ins) if k != kmap.identity]
        if flat_out:
            table.view(-1)[torch.cat(flat_out)] = torch.cat(flat_in)
        kmap.chunks[key] = table
    return kmap.chunks[key]


def _table_blocks(table: torch.Tensor, width: int) -> list[tuple[int, int]]:
    """Row ranges whose gathered ``[rows, K * width]`` block stays within :data:`_TABLE_BLOCK`."""
    rows = max(1, _TABLE_BLOCK // max(1, table.shape[1] * width))
    return [(s, min(s + rows, table.shape[0])) for s in range(0, table.shape[0], rows)]


def _with_zero_row(x: torch.Tensor) -> torch.Tensor:
    """``x`` and a zero row after it: what the table's absent pairs (index ``len(x)``) read."""
    return torch.cat([x, x.new_zeros(1, x.shape[1])])


def _forward_table(x: torch.Tensor, weight: torch.Tensor, kmap: KernelMap, swap: bool, depthwise: bool) -> torch.Tensor:
    """:func:`_forward` as one GEMM per block of output rows over the neighbour table."""
    table = _neighbour_table(kmap, swap)
    c_out = weight.shape[-1]
    out = x.new_empty(table.shape[0], c_out)
    x_pad = _with_zero_row(x)
    w_flat = weight if depthwise else weight.reshape(-1, c_out)
    for s, e in _table_blocks(table, x.shape[1]):
        g = x_pad[table[s:e]]  # [rows, K, C]: each output's K neighbour rows
        if depthwise:
            out[s:e] = torch.einsum("nkc,kc->nc", g, w_flat)
        else:
            torch.mm(g.reshape(e - s, -1), w_flat, out=out[s:e])
    return out


def _weight_grad_table(x: torch.Tensor, grad_out: torch.Tensor, kmap: KernelMap, depthwise: bool,
                       wide: torch.dtype, shape: torch.Size) -> torch.Tensor:
    """``dW[k] = sum over pairs of x[i]^T grad_out[o]``: one GEMM per block of output rows,
    the blocks summed in ``wide``."""
    table = _neighbour_table(kmap, False)
    x_pad = _with_zero_row(x)
    grad_w = torch.zeros(shape, dtype=wide, device=x.device)
    for s, e in _table_blocks(table, x.shape[1]):
        g = x_pad[table[s:e]]  # [rows, K, C]: each output's K neighbour rows
        if depthwise:
            grad_w += torch.einsum("nkc,nc->kc", g, grad_out[s:e]).to(wide)
        else:
            grad_w += (g.reshape(e - s, -1).t() @ grad_out[s:e]).to(wide).view(shape)
    return grad_w


# --- the grouped algorithm: offsets with similar pair counts share one batched GEMM ---------

#: an offset joins a group while its pair count is at least this share of the group's largest
_GROUP_FILL = 0.75
#: the most elements a gathered ``[offsets, rows, C]`` block of the grouped algorithm may hold
_GROUP_BLOCK = 1 << 23


@dataclass(frozen=True)
class _OffsetGroup:
    """Offsets of one batched GEMM: ``gather`` ``[g, rows]`` reads the source rows (padding
    reads an appended zero row), ``scatter`` ``[g, rows]`` the destination rows (padding adds
    a zero product to row 0)."""

    offsets: torch.Tensor
    gather: torch.Tensor
    scatter: torch.Tensor


def _bucket(m: int) -> int:
    """``m`` rounded up to one of eight sizes per octave: few GEMM shapes, <= 12.5 % padding."""
    q = 1 << max(0, m.bit_length() - 4)
    return m + (-m % q)


def _offset_groups(kmap: KernelMap, swap: bool) -> list[_OffsetGroup]:
    """The non-centre offsets, largest first, in groups whose pair counts differ by at most
    :data:`_GROUP_FILL`, each padded to a bucket size; cached on the kernel map."""
    key = ("groups", swap)
    if key not in kmap.chunks:
        src, dst = (kmap.out_idx, kmap.in_idx) if swap else (kmap.in_idx, kmap.out_idx)
        n_src = kmap.n_out if swap else kmap.n_in
        order = sorted((k for k in range(kmap.num_offsets) if k != kmap.identity and src[k].numel()),
                       key=lambda k: -src[k].numel())
        groups, members = [], []
        for k in order + [None]:
            if members and (k is None or src[k].numel() < _GROUP_FILL * src[members[0]].numel()):
                rows = _bucket(src[members[0]].numel())
                gather = src[members[0]].new_full((len(members), rows), n_src)
                scatter = src[members[0]].new_zeros((len(members), rows))
                for j, m in enumerate(members):
                    gather[j, : src[m].numel()] = src[m]
                    scatter[j, : dst[m].numel()] = dst[m]
                groups.append(_OffsetGroup(torch.tensor(members, device=gather.device), gather, scatter))
                members = []
            if k is not None:
                members.append(k)
        kmap.chunks[key] = groups
    return kmap.chunks[key]


def _group_blocks(group: _OffsetGroup, width: int) -> list[tuple[int, int]]:
    """Row ranges whose gathered ``[g, rows, width]`` block stays within :data:`_GROUP_BLOCK`."""
    g, n = group.gather.shape
    rows = max(1, _GROUP_BLOCK // max(1, g * width))
    return [(s, min(s + rows, n)) for s in range(0, n, rows)]


def _gather_rows(x: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """``x[index]`` for a 2-D ``index``, through ``index_select`` (whole-row copies, several
    times faster on the CPU than advanced indexing)."""
    return torch.index_select(x, 0, index.reshape(-1)).view(*index.shape, x.shape[1])


def _group_product(a: torch.Tensor, w: torch.Tensor, depthwise: bool, out: torch.Tensor) -> None:
    """``out[j] = a[j] @ w[j]`` for each offset ``j`` of a group (``a[j] * w[j]`` when depthwise)."""
    if depthwise:
        torch.mul(a, w[:, None, :], out=out)
    else:
        torch.bmm(a, w, out=out)


def _blocks(kmap: KernelMap, swap: bool, width: int) -> tuple[list[tuple[_OffsetGroup, int, int]], torch.Tensor | None]:
    """Every group's row blocks (:func:`_group_blocks`) in order, and the destination rows
    of their products laid out block after block (cached on the kernel map)."""
    key = ("blocks", swap, width)
    if key not in kmap.chunks:
        blocks = [(grp, s, e) for grp in _offset_groups(kmap, swap) for s, e in _group_blocks(grp, width)]
        dst = torch.cat([grp.scatter[:, s:e].reshape(-1) for grp, s, e in blocks]) if blocks else None
        kmap.chunks[key] = blocks, dst
    return kmap.chunks[key]


_workspaces = threading.local()


def _workspace(rows: int, cols: int, like: torch.Tensor) -> torch.Tensor:
    """A ``[rows, cols]`` scratch tensor for values that live within one call. On the CPU
    one per dtype and thread is kept and reused: glibc hands out every fresh block above
    32 MB as new pages, and faulting them in took longer than the batched GEMMs that fill
    them (a 98.6k-voxel conv: 47 vs 17 ms of ``bmm``). It keeps the largest size asked for."""
    if like.device.type != "cpu":
        return like.new_empty(rows, cols)
    cached = getattr(_workspaces, "buffers", None)
    if cached is None:
        cached = _workspaces.buffers = {}
    buf = cached.get(like.dtype)
    if buf is None or buf.numel() < rows * cols:
        buf = cached[like.dtype] = like.new_empty(rows * cols)
    return buf[: rows * cols].view(rows, cols)


def workspace_bytes(dtype: torch.dtype) -> int:
    """Bytes of ``dtype`` this thread's CPU conv workspace holds: memory a training step uses
    without allocating it (``benchmarks/train_step.py`` adds it to a step's peak)."""
    buf = getattr(_workspaces, "buffers", {}).get(dtype)
    return 0 if buf is None else buf.numel() * buf.element_size()


def release_workspaces() -> None:
    """Free this thread's CPU conv workspaces; the next grouped conv allocates afresh."""
    _workspaces.buffers = {}


def _product_buffer(blocks: list[tuple[_OffsetGroup, int, int]], like: torch.Tensor,
                    cols: int) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """One buffer for all products, and a contiguous ``[g, rows, cols]`` view of it per block."""
    buf = _workspace(sum(len(grp.offsets) * (e - s) for grp, s, e in blocks), cols, like)
    views, start = [], 0
    for grp, s, e in blocks:
        views.append(buf[start:start + len(grp.offsets) * (e - s)].view(len(grp.offsets), e - s, cols))
        start += len(grp.offsets) * (e - s)
    return buf, views


def _with_group_weights(blocks: list[tuple[_OffsetGroup, int, int]],
                        weight: torch.Tensor) -> Iterator[tuple[_OffsetGroup, int, int, torch.Tensor]]:
    """The blocks with their group's ``[g, ...]`` weights (selected once per group)."""
    last, w_g = None, weight
    for grp, s, e in blocks:
        if grp is not last:
            last, w_g = grp, weight.index_select(0, grp.offsets)
        yield grp, s, e, w_g


def _add_products(out: torch.Tensor, buf: torch.Tensor, dst: torch.Tensor | None) -> None:
    """``out[dst] += buf`` in one ``index_add_``: on the CPU it sums each row's terms (its
    start value included) in float32 for 16-bit floats and rounds once, so the order of the
    terms -- which depends on the batch through the offset groups -- does not show in the
    16-bit result (``tests/test_precision.py::test_bf16_conv_is_batch_invariant``)."""
    if dst is not None:
        out.index_add_(0, dst, buf.to(out.dtype))


def _forward_grouped(x: torch.Tensor, weight: torch.Tensor, kmap: KernelMap, swap: bool, depthwise: bool,
                     acc_dtype: torch.dtype) -> torch.Tensor:
    """:func:`_forward` with one batched GEMM per group of offsets (per block of its rows)."""
    c_out = weight.shape[-1]
    out = _initial_sums(x, _centre_weight(weight, kmap, depthwise, False), kmap.n_in if swap else kmap.n_out, c_out,
                        depthwise, acc_dtype)
    x_pad = _with_zero_row(x)
    blocks, dst = _blocks(kmap, swap, x.shape[1])
    buf, products = _product_buffer(blocks, x, c_out)
    for (grp, s, e, w_g), prod in zip(_with_group_weights(blocks, weight), products):
        _group_product(_gather_rows(x_pad, grp.gather[:, s:e]), w_g, depthwise, prod)
    _add_products(out, buf, dst)
    return out.to(x.dtype)


def _backward_grouped(x: torch.Tensor, weight: torch.Tensor, grad_out: torch.Tensor, kmap: KernelMap, depthwise: bool,
                      need_x: bool, acc_dtype: torch.dtype, wide: torch.dtype) -> tuple[torch.Tensor | None, torch.Tensor]:
    """Both gradients from one gather of ``grad_out`` per block: ``dX = dY[out] @ W^T``
    added to the input rows, ``dW[k] = X[in]^T @ dY[out]`` (padding pairs read a zero
    row of ``dY``, so they add nothing to either)."""
    identity = kmap.identity
    grad_w = torch.empty(weight.shape, dtype=wide, device=x.device)
    for k in range(kmap.num_offsets):
        if k != identity and not kmap.in_idx[k].numel():
            grad_w[k].zero_()  # an offset without pairs
    if identity is not None and depthwise:
        grad_w[identity] = (x * grad_out).sum(0, dtype=wide)
    elif identity is not None:
        grad_w[identity].zero_()
        _dense_t(x, grad_out, grad_w[identity])
    g_pad = _with_zero_row(grad_out)
    blocks, dst = _blocks(kmap, True, max(x.shape[1], grad_out.shape[1]))
    buf, products = _product_buffer(blocks, x, x.shape[1]) if need_x else (None, [None] * len(blocks))
    for (grp, s, e, w_g), prod in zip(_with_group_weights(blocks, weight), products):
        gg, xg = _gather_rows(g_pad, grp.gather[:, s:e]), _gather_rows(x, grp.scatter[:, s:e])
        # CPU reductions of 16-bit floats accumulate in float32 and round once, like the GEMM
        gw = ((xg * gg).sum(1) if depthwise else torch.bmm(xg.transpose(1, 2), gg)).to(wide)
        if s == 0:
            grad_w.index_copy_(0, grp.offsets, gw)
        else:
            grad_w.index_add_(0, grp.offsets, gw)
        if need_x:
            _group_product(gg, w_g if depthwise else w_g.transpose(1, 2), depthwise, prod)
    if not need_x:
        return None, grad_w
    grad_x = _initial_sums(grad_out, _centre_weight(weight, kmap, depthwise, True), kmap.n_in, x.shape[1],
                           depthwise, acc_dtype)
    _add_products(grad_x, buf, dst)
    return grad_x, grad_w


def _forward(x: torch.Tensor, weight: torch.Tensor, kmap: KernelMap, swap: bool, depthwise: bool,
             acc_dtype: torch.dtype) -> torch.Tensor:
    """``out[o] += x[i] @ W[k]`` over all pairs; products in ``x.dtype``, sums in ``acc_dtype``.

    Within one offset every output row occurs at most once (true for submanifold,
    strided and transposed maps alike), so the scatter is a gather of the current
    output rows, an in-place multiply-accumulate, and a non-accumulating copy back:
    parallel, deterministic, and cheaper than ``index_add_`` on the CPU. ``swap`` runs the
    map from its output side (the input gradient of a conv is that conv on the swapped map).
    """
    algo = _algorithm(x)
    if algo == "table":
        return _forward_table(x, weight, kmap, swap, depthwise)
    if algo == "grouped":
        return _forward_grouped(x, weight, kmap, swap, depthwise, acc_dtype)
    c_out = weight.shape[-1]
    n_out = kmap.n_in if swap else kmap.n_out
    out = _initial_sums(x, _centre_weight(weight, kmap, depthwise, False), n_out, c_out, depthwise, acc_dtype)
    chunk, pad = _chunk_rows(x, max(x.shape[1], c_out)), _fixed_shapes(x) and not depthwise
    chunks = _pair_chunks(kmap, swap, chunk, pad)
    biggest = max((c[0].numel() for per_k in chunks for c in per_k), default=0)
    gbuf = x.new_empty(biggest, x.shape[1])
    abuf = x.new_empty(biggest, c_out, dtype=acc_dtype)
    pbuf = x.new_empty(biggest, c_out) if acc_dtype != x.dtype else None
    for w_k, per_k in zip(weight.unbind(0), chunks):
        for i_c, o_c, m in per_k:
            rows = i_c.numel()
            g = torch.index_select(x, 0, i_c, out=gbuf[:rows])
            _accumulate_rows(out, o_c, m, g, w_k, depthwise, abuf[:rows], None if pbuf is None else pbuf[:rows])
    return out.to(x.dtype)


def _accumulate_rows(out: torch.Tensor, rows: torch.Tensor, m: int, a: torch.Tensor, w: torch.Tensor,
                     depthwise: bool, buf: torch.Tensor, prod: torch.Tensor | None) -> None:
    """``out[rows] += a @ w`` (or ``a * w``) for distinct ``rows``: gather, accumulate, copy
    back the first ``m`` rows (the rest is bucket padding).

    ``prod`` (a buffer in the inputs' dtype) is given when ``out`` is wider than the inputs:
    the product is formed there and added to the wider rows.
    """
    acc = torch.index_select(out, 0, rows, out=buf)
    if prod is None:
        if depthwise:
            acc.addcmul_(a, w)
        else:
            acc.addmm_(a, w)
    else:
        if depthwise:
            torch.mul(a, w, out=prod)
        else:
            torch.mm(a, w, out=prod)
        acc.add_(prod)
    _copy_rows(out, rows[:m], acc[:m])


def _copy_rows(out: torch.Tensor, rows: torch.Tensor, src: torch.Tensor) -> None:
    """``out[rows] = src``. On the CPU ``index_copy_`` moves one element at a time (unlike
    ``index_select``, which copies whole rows), so rows are copied as the widest elements
    that tile them: 16-byte elements make the copy 2-3x faster for bfloat16 (a bit-exact move)."""
    if out.device.type == "cpu":
        row_bytes = out.shape[1] * out.element_size()
        for wide in (torch.complex128, torch.float64):
            if row_bytes % wide.itemsize == 0 and all(
                t.is_contiguous() and t.data_ptr() % wide.itemsize == 0 for t in (out, src)
            ):
                out, src = out.view(wide), src.view(wide)
                break
    out.index_copy_(0, rows, src)


class _SparseConvFn(torch.autograd.Function):
    """Casts to the compute ``dtype`` inside, so the saved tensors are the low-precision
    copies and the weight gradient returns in the master weight's dtype (float32), summed
    over all pairs in float32 rather than rounded after every chunk."""

    @staticmethod
    def forward(ctx, x, weight, kmap: KernelMap, depthwise: bool, dtype: torch.dtype, acc_dtype: torch.dtype):  # type: ignore[override]
        xc, wc = x.to(dtype), weight.to(dtype)
        ctx.kmap, ctx.depthwise, ctx.acc_dtype = kmap, depthwise, acc_dtype
        ctx.in_dtype, ctx.w_dtype = x.dtype, weight.dtype
        ctx.save_for_backward(xc, wc)
        return _forward(xc, wc, kmap, False, depthwise, acc_dtype)

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        kmap, depthwise, acc_dtype = ctx.kmap, ctx.depthwise, ctx.acc_dtype
        grad_out = grad_out.to(x.dtype).contiguous()
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_x = grad_w = None
        if need_x and not need_w:  # the transposed map with transposed weights
            w_t = weight if depthwise else weight.transpose(1, 2)
            grad_x = _forward(grad_out, w_t, kmap, True, depthwise, acc_dtype)
            return grad_x.to(ctx.in_dtype), None, None, None, None, None
        wide = ctx.w_dtype if ctx.w_dtype.itemsize > x.dtype.itemsize else x.dtype
        algo = _algorithm(x)
        if algo == "table":
            if need_x:
                w_t = weight if depthwise else weight.transpose(1, 2)
                grad_x = _forward_table(grad_out, w_t, kmap, True, depthwise).to(ctx.in_dtype)
            grad_w = _weight_grad_table(x, grad_out, kmap, depthwise, wide, weight.shape)
            return grad_x, grad_w.to(ctx.w_dtype), None, None, None, None
        if algo == "grouped":
            grad_x, grad_w = _backward_grouped(x, weight, grad_out, kmap, depthwise, need_x, acc_dtype, wide)
            return None if grad_x is None else grad_x.to(ctx.in_dtype), grad_w.to(ctx.w_dtype), None, None, None, None
        # one pass over the pairs: each gathered chunk of grad_out serves both gradients
        grad_w = torch.empty_like(weight, dtype=wide)
        filled = [False] * kmap.num_offsets  # an offset's first chunk writes, later ones add

        def add_grad_w(k: int, value: torch.Tensor) -> None:
            if filled[k]:
                grad_w[k] += value
            else:
                grad_w[k].copy_(value)
                filled[k] = True

        if need_x:
            grad_x = _initial_sums(grad_out, _centre_weight(weight, kmap, depthwise, True), kmap.n_in, x.shape[1],
                                   depthwise, acc_dtype)
        chunk = _chunk_rows(x, max(x.shape[1], grad_out.shape[1]))
        chunks = _pair_chunks(kmap, False, chunk, _fixed_shapes(x) and not depthwise)
        biggest = max((c[0].numel() for per_k in chunks for c in per_k), default=0)
        xbuf, gbuf = x.new_empty(biggest, x.shape[1]), x.new_empty(biggest, grad_out.shape[1])
        abuf = x.new_empty(biggest, x.shape[1], dtype=acc_dtype) if need_x else None
        pbuf = x.new_empty(biggest, x.shape[1]) if need_x and acc_dtype != x.dtype else None
        wbuf = torch.empty_like(weight[0]) if wide != x.dtype else None
        if kmap.identity is not None:
            if depthwise:
                add_grad_w(kmap.identity, (x * grad_out).sum(0, dtype=wide))
            else:
                grad_w[kmap.identity].zero_()
                _dense_t(x, grad_out, grad_w[kmap.identity])
        w_back = (weight if depthwise else weight.transpose(1, 2)).unbind(0)
        for k, per_k in enumerate(chunks):
            for i_c, o_c, m in per_k:
                rows = i_c.numel()
                xg = torch.index_select(x, 0, i_c, out=xbuf[:rows])
                gg = torch.index_select(grad_out, 0, o_c, out=gbuf[:rows])
                if m < rows:
                    gg[m:] = 0  # bucket padding must not add to the weight gradient
                if depthwise:
                    add_grad_w(k, (xg * gg).sum(0, dtype=wide))
                elif wbuf is None and filled[k]:
                    grad_w[k].addmm_(xg.t(), gg)
                elif wbuf is None:
                    torch.mm(xg.t(), gg, out=grad_w[k])
                    filled[k] = True
                else:
                    add_grad_w(k, torch.mm(xg.t(), gg, out=wbuf))
                if need_x:  # input rows are unique within an offset, as outputs are
                    _accumulate_rows(grad_x, i_c, m, gg, w_back[k], depthwise, abuf[:rows],
                                     None if pbuf is None else pbuf[:rows])
        for k in range(kmap.num_offsets):
            if not filled[k] and k != kmap.identity:
                grad_w[k].zero_()  # an offset without pairs
        if grad_x is not None:
            grad_x = grad_x.to(ctx.in_dtype)
        return grad_x, grad_w.to(ctx.w_dtype), None, None, None, None


#: Where a low-precision conv sums its kernel offsets: ``"low"`` (the multiply-accumulate
#: runs in bfloat16/float16, rounding the running sum after every offset) or ``"float32"``
#: (products in the low precision, added into float32 rows). Measured on the 98k-voxel
#: 64->64 benchmark conv (2 CPU threads, AVX512-BF16): relative error against float64 4.9e-3
#: (low) vs 3.3e-3 (float32) -- the output is rounded to bfloat16 either way -- for 1.9x the
#: forward and 1.6x the forward+backward time. The small gain does not pay, so ``"low"`` is
#: the default; ``python benchmarks/sparse_conv.py --precision bf16`` re-measures. (These
#: are the loop's figures: the grouped algorithm sums across offsets in float32 either way,
#: see the module docstring, and ``"float32"`` only adds casts there.) Weight gradients are
#: always summed in the master weights' dtype (float32).
LOW_PRECISION_ACCUMULATE = "low"


def compute_dtypes(x: torch.Tensor, accumulate: str | None = None) -> tuple[torch.dtype, torch.dtype]:
    """(products, sums) dtypes of a conv on ``x``: the autocast dtype when autocast is on for
    ``x``'s device and ``x`` is floating point, else ``x.dtype`` for both."""
    kind = x.device.type
    if not (x.is_floating_point() and torch.is_autocast_enabled(kind)):
        return x.dtype, x.dtype
    low = torch.get_autocast_dtype(kind)
    mode = LOW_PRECISION_ACCUMULATE if accumulate is None else accumulate
    if mode not in ("float32", "low"):
        raise ValueError(f"accumulate must be 'float32' or 'low', got {mode!r}")
    return low, (torch.float32 if mode == "float32" else low)


def sparse_conv_apply(x: torch.Tensor, weight: torch.Tensor, kmap: KernelMap, depthwise: bool = False,
                      accumulate: str | None = None) -> torch.Tensor:
    """Output features ``[kmap.n_out, C_out]`` of a sparse conv over ``kmap``.

    ``weight`` is ``[K, C_in, C_out]`` (or ``[K, C]`` when ``depthwise``) with ``K`` the
    number of kernel offsets in the kernel map's order. Under ``torch.autocast`` the conv
    computes in the autocast dtype (output in that dtype; gradients in the inputs'
    dtypes), with sums across offsets as :data:`LOW_PRECISION_ACCUMULATE` or ``accumulate`` say.
    """
    if weight.shape[0] != kmap.num_offsets:
        raise ValueError(
            f"weight has {weight.shape[0]} kernel offsets but the kernel map has {kmap.num_offsets}"
        )
    if x.shape[0] != kmap.n_in:
        raise ValueError(f"features have {x.shape[0]} rows but the kernel map expects {kmap.n_in}")
    if x.dtype != weight.dtype and not torch.is_autocast_enabled(x.device.type):
        raise TypeError(f"features are {x.dtype} but the weight is {weight.dtype} (mixed dtypes need torch.autocast)")
    dtype, acc_dtype = compute_dtypes(x, accumulate)
    return _SparseConvFn.apply(x.contiguous(), weight, kmap, depthwise, dtype, acc_dtype)
