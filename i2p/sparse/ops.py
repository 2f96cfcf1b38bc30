"""The one compute kernel behind every sparse conv: gather -> GEMM -> scatter-add.

For each kernel offset, the input rows of its pairs are gathered, multiplied by that
offset's weight and added into their output rows. On the CPU the pairs are processed
in chunks that fit in cache (gather, GEMM and scatter touch the same small buffers),
which is what lifts this above a naive ``index_add_`` loop; the submanifold centre
offset is a plain GEMM. Backward recomputes the gathers instead of saving them, so
training memory stays at features + kernel map.

Depthwise convs (``groups == channels``) use the same loop with an elementwise
product in place of the GEMM.
"""
from __future__ import annotations

import torch

from .kmap import KernelMap

__all__ = ["sparse_conv_apply"]


def _chunks(kmap_in: torch.Tensor, kmap_out: torch.Tensor, chunk: int):
    n = kmap_in.numel()
    if n <= chunk:
        yield kmap_in, kmap_out
        return
    for s in range(0, n, chunk):
        yield kmap_in[s : s + chunk], kmap_out[s : s + chunk]


def _chunk_rows(t: torch.Tensor, channels: int) -> int:
    """Rows per step: ~2 MiB of features per buffer on the CPU, everything at once on GPUs."""
    if t.device.type != "cpu":
        return 1 << 62
    return max(512, min(16384, (1 << 19) // max(channels, 1)))


def _forward(
    x: torch.Tensor, weight: torch.Tensor, ins: list, outs: list, n_out: int, identity: int | None, depthwise: bool
) -> torch.Tensor:
    """``out[o] += x[i] @ W[k]`` over all pairs.

    Within one offset every output row occurs at most once (true for submanifold,
    strided and transposed maps alike), so the scatter is a gather of the current
    output rows, an in-place multiply-accumulate, and a non-accumulating copy back:
    parallel, deterministic, and cheaper than ``index_add_`` on the CPU.
    """
    c_out = weight.shape[-1]
    if identity is not None:
        out = x * weight[identity] if depthwise else x @ weight[identity]
    else:
        out = x.new_zeros(n_out, c_out)
    chunk = _chunk_rows(x, max(x.shape[1], c_out))
    biggest = min(chunk, max((i.numel() for i in ins), default=0))
    gbuf = x.new_empty(biggest, x.shape[1])
    abuf = x.new_empty(biggest, c_out)
    for k, (i_k, o_k) in enumerate(zip(ins, outs)):
        if k == identity or i_k.numel() == 0:
            continue
        for i_c, o_c in _chunks(i_k, o_k, chunk):
            m = i_c.numel()
            g = torch.index_select(x, 0, i_c, out=gbuf[:m])
            _accumulate_rows(out, o_c, g, weight[k], depthwise, abuf[:m])
    return out


def _accumulate_rows(out: torch.Tensor, rows: torch.Tensor, a: torch.Tensor, w: torch.Tensor,
                     depthwise: bool, buf: torch.Tensor) -> None:
    """``out[rows] += a @ w`` (or ``a * w``) for distinct ``rows``: gather, accumulate, copy back."""
    acc = torch.index_select(out, 0, rows, out=buf)
    if depthwise:
        acc.addcmul_(a, w)
    else:
        acc.addmm_(a, w)
    out.index_copy_(0, rows, acc)


class _SparseConvFn(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, kmap: KernelMap, depthwise: bool):  # type: ignore[override]
        ctx.kmap, ctx.depthwise = kmap, depthwise
        ctx.save_for_backward(x, weight)
        return _forward(x, weight, kmap.in_idx, kmap.out_idx, kmap.n_out, kmap.identity, depthwise)

    @staticmethod
    def backward(ctx, grad_out):  # type: ignore[override]
        x, weight = ctx.saved_tensors
        kmap, depthwise = ctx.kmap, ctx.depthwise
        grad_out = grad_out.contiguous()
        need_x, need_w = ctx.needs_input_grad[0], ctx.needs_input_grad[1]
        grad_x = grad_w = None
        if need_x and not need_w:  # the transposed map with transposed weights
            w_t = weight if depthwise else weight.transpose(1, 2)
            return _forward(grad_out, w_t, kmap.out_idx, kmap.in_idx, kmap.n_in, kmap.identity, depthwise), None, None, None
        # one pass over the pairs: each gathered chunk of grad_out serves both gradients
        grad_w = torch.zeros_like(weight)
        if need_x:
            if kmap.identity is not None:
                w_c = weight[kmap.identity]
                grad_x = grad_out * w_c if depthwise else grad_out @ w_c.t()
            else:
                grad_x = x.new_zeros(kmap.n_in, x.shape[1])
        chunk = _chunk_rows(x, max(x.shape[1], grad_out.shape[1]))
        biggest = min(chunk, max((i.numel() for i in kmap.in_idx), default=0))
        xbuf, gbuf = x.new_empty(biggest, x.shape[1]), x.new_empty(biggest, grad_out.shape[1])
        abuf = x.new_empty(biggest, x.shape[1]) if need_x else None
        for k, (i_k, o_k) in enumerate(zip(kmap.in_idx, kmap.out_idx)):
            if k == kmap.identity:
                grad_w[k] = (x * grad_out).sum(0) if depthwise else x.t() @ grad_out
                continue
            for i_c, o_c in _chunks(i_k, o_k, chunk):
                m = i_c.numel()
                xg = torch.index_select(x, 0, i_c, out=xbuf[:m])
                gg = torch.index_select(grad_out, 0, o_c, out=gbuf[:m])
                if depthwise:
                    grad_w[k] += (xg * gg).sum(0)
                else:
                    grad_w[k].addmm_(xg.t(), gg)
                if need_x:  # input rows are unique within an offset, as outputs are
                    _accumulate_rows(grad_x, i_c, gg, weight[k] if depthwise else weight[k].t(), depthwise, abuf[:m])
        return grad_x, grad_w, None, None


def sparse_conv_apply(x: torch.Tensor, weight: torch.Tensor, kmap: KernelMap, depthwise: bool = False) -> torch.Tensor:
    """Output features ``[kmap.n_out, C_out]`` of a sparse conv over ``kmap``.

    ``weight`` is ``[K, C_in, C_out]`` (or ``[K, C]`` when ``depthwise``) with ``K`` the
    number of kernel offsets in the kernel map's order.
    """
    if weight.shape[0] != kmap.num_offsets:
        raise ValueError(
            f"weight has {weight.shape[0]} kernel offsets but the kernel map has {kmap.num_offsets}"
        )
    if x.shape[0] != kmap.n_in:
        raise ValueError(f"features have {x.shape[0]} rows but the kernel map expects {kmap.n_in}")
    if x.dtype != weight.dtype:
        raise TypeError(f"features are {x.dtype} but the weight is {weight.dtype}")
    return _SparseConvFn.apply(x.contiguous(), weight, kmap, depthwise)
