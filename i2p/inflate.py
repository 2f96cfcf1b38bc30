"""Filter transformations: turning pretrained 2D conv filters into sparse 3D filters.

Image2Point (paper §3, Fig. 2) writes every 2D -> 3D conversion as one linear map of
a filter's spatial slice: with the 2D filter flattened to ``[M, N, K**2]`` and the 3D
filter to ``[M, N, K**3]``,

    W3d_flat = W2d_flat @ T,        T: [K**2, K**3].

Handcrafted ``T`` (the default inflation and the paper's T1/T2/T3, §4.8 Fig. 3) are 0/1
copy matrices; a learnable ``T`` (Appendix 6.1 "Detail of Section 4.8", listing 2) is a
free parameter trained while the 2D filters stay frozen, either one ``T`` shared by
all convs ("ST") or one per conv ("NST").

Index conventions (fixed here by explicit axes, never by an engine's offset order):

- 2D filter ``[M, N, K, K]`` has axes ``(u, v)`` = (row, column); flat index ``u*K + v``.
- 3D filter axes are the kernel axes ``(x, y, z)``; i2p's sparse layout is
  ``[K**3, C_in, C_out]`` with flat offset ``(x*K + y)*K + z`` (see
  :mod:`i2p.sparse.kmap`), so ``W.permute(2, 1, 0).reshape(C_out, C_in, K, K, K)`` is
  the equivalent dense ``conv3d`` weight with dims (D, H, W) = (x, y, z).
"""
from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils import parametrize

from .sparse.nn import Conv3d

__all__ = [
    "TRANSFORM_NAMES",
    "COPY_AXES",
    "filter_transform",
    "inflate_conv_weight",
    "FilterTransform",
    "attach_filter_transform",
    "transform_of",
]

#: Names accepted by :func:`filter_transform` (case-insensitive).
TRANSFORM_NAMES: tuple[str, ...] = ("default", "T1", "T2", "T3")
_CANON = {n.lower(): n for n in TRANSFORM_NAMES}
#: Copy axes accepted by :func:`filter_transform`: a kernel axis, or ``"authors"``, the
#: exact layout of the authors' code (see :func:`filter_transform`). Callers that know the
#: data set also accept ``"up"`` and resolve it with ``DatasetSpec.resolve_axis``.
COPY_AXES: tuple[str, ...] = ("x", "y", "z", "authors")
_XYZ = ("x", "y", "z")


def _canonical_name(name: str) -> str:
    if not isinstance(name, str) or name.lower() not in _CANON:
        raise ValueError(f"unknown filter transformation {name!r}; valid names: {', '.join(TRANSFORM_NAMES)}")
    return _CANON[name.lower()]


def _check_axis(axis: str, name: str) -> str:
    if axis not in COPY_AXES:
        raise ValueError(f"unknown copy axis {axis!r}; valid: {', '.join(COPY_AXES)} (or 'up' where the data set is known)")
    if axis == "authors" and name != "default":
        raise ValueError(f"the 'authors' copy axis fixes the whole kernel layout; {name} is defined relative to "
                         "a copy axis x, y or z (use transform 'default' with 'authors')")
    return axis


def _source_uv(name: str, axis: str, k: int, tap: dict[str, int]) -> tuple[int, int]:
    """2D tap ``(u, v)`` that 3D tap ``tap = {"x": .., "y": .., "z": ..}`` copies."""
    if axis == "authors":  # their default ("z-axis"): rows along z, columns along x, copied along y
        return tap["z"], tap["x"]
    others = [a for a in _XYZ if a != axis]  # the image plane, in ascending axis order
    if name == "T1":
        return _source_uv("default", others[0], k, tap)
    if name == "T2":
        return _source_uv("default", others[1], k, tap)
    p, q = others
    if name == "T3":  # rotated 90 degrees in its plane (torch.rot90(w, 1, (-2, -1))), then copied
        return tap[q], k - 1 - tap[p]
    return tap[p], tap[q]


def filter_transform(
    name: str,
    k2d: int,
    k3d: int | None = None,
    rescale: bool = False,
    *,
    axis: str = "z",
    dtype: torch.dtype | None = None,
) -> torch.Tensor:
    """The ``[k2d**2, k3d**3]`` matrix ``T`` of a handcrafted 2D -> 3D filter transformation.

    ``T[u*K + v, (x*K + y)*K + z] = 1`` exactly when 3D tap ``(x, y, z)`` copies 2D tap
    ``(u, v)``; every column holds one 1 (each 3D tap copies one 2D tap), every row ``K``
    ones (each 2D tap is copied ``K`` times). Kernel axes are the data axes: tap ``x``
    reads the voxel at ``x + (tap - K//2)`` (dense ``conv3d`` convention).

    ``axis`` is the copy axis ``a``; the image plane is the other two axes ``p < q`` (in
    x, y, z order). For ``K = k2d = k3d``:

    - ``"default"``: ``W3d[..a..] = W2d[u=tap_p, v=tap_q]`` -- the 2D filter lies in the
      p-q plane and is copied ``K`` times along ``a`` (I3D inflation, paper Fig. 2/3).
      With ``axis="z"``: ``W3d[x, y, z] = W2d[x, y]``.
    - ``"T1"`` / ``"T2"``: the default copy along the first / second of the other two axes
      (``axis="z"``: T1 copies along x with ``W2d[y, z]``, T2 along y with ``W2d[x, z]``).
    - ``"T3"``: the 2D filter first rotated by 90 degrees in its plane, ``R[i, j] =
      W2d[j, K-1-i]`` (``torch.rot90(W2d, k=1, dims=(-2, -1))``), then copied along ``a``.

    The paper's Fig. 3 gives T1-T3 only as pictures; these choices are ours.

    ``axis="authors"`` (``"default"`` only) is the layout of the authors' code for their
    default (``trans_type='z-axis'``): it fills torchsparse 1.x weights whose offset ``k =
    z*9 + y*3 + x`` with ``W2d[u, v]`` at ``k = u*9 + r*3 + v`` (r = copy), i.e.
    ``W3d[x, y, z] = W2d[u=z, v=x]`` -- constant along data **y**, rows along z. On
    ModelNet40 (y-up files) that is a top-down copy, on S3DIS / SemanticKITTI (z-up) a
    side-on one; ``DatasetSpec.describe_copy_axis`` says what each axis means per data set.

    Special geometry (independent of ``name`` and ``axis``):

    - ``k2d = 1, k3d = 1``: ``T = [[1]]`` (pointwise convs stay pointwise).
    - ``k2d = 1, k3d = 2``: ``T = ones(1, 8)``. A ResNet stride-2 1x1 shortcut becomes a
      kernel-2 stride-2 sparse conv whose 8 offsets all hold the 1x1 weight (as in the
      authors' code). Reason: a sparse stride-2 conv with kernel 1 reads only the fine
      voxel at each coarse cell's corner (``floor(c/2)*2``), which is empty for most
      cells of a sparse cloud, so the shortcut would mostly output zeros; kernel 2
      sums all (up to 8) occupied fine voxels of the cell instead.

    ``rescale=True`` divides by the number of copies (``K``, or 8 for 1 -> 2) so a
    constant input gives the 2D response, as I3D does; the paper copies without
    rescaling, hence the default ``False``. Other ``k2d != k3d`` raise ``ValueError``.
    """
    name = _canonical_name(name)
    axis = _check_axis(axis, name)
    if not isinstance(k2d, int) or k2d < 1:
        raise ValueError(f"k2d must be a positive int, got {k2d!r}")
    k3d = k2d if k3d is None else k3d
    dtype = dtype if dtype is not None else torch.get_default_dtype()
    if k2d == 1 and k3d == 2:
        t = torch.ones(1, 8, dtype=dtype)
        return t / 8 if rescale else t
    if k3d != k2d:
        raise ValueError(
            f"filter transformation {name!r} maps a {k2d}x{k2d} kernel only to {k2d}x{k2d}x{k2d}"
            f" (or 1x1 to 2x2x2), got k3d={k3d}; valid names: {', '.join(TRANSFORM_NAMES)}"
        )
    k = k2d
    t = torch.zeros(k * k, k**3, dtype=dtype)
    for x in range(k):
        for y in range(k):
            for z in range(k):
                u, v = _source_uv(name, axis, k, {"x": x, "y": y, "z": z})
                t[u * k + v, (x * k + y) * k + z] = 1.0
    return t / k if rescale else t


def _check_w2d(w2d: torch.Tensor, depthwise: bool) -> int:
    """Validate a 2D conv weight ``[M, N, K, K]``; return ``K``."""
    if not isinstance(w2d, torch.Tensor) or w2d.dim() != 4:
        shape = tuple(w2d.shape) if isinstance(w2d, torch.Tensor) else type(w2d).__name__
        raise ValueError(f"2D conv weight must be a 4D tensor [C_out, C_in, K, K], got {shape}")
    if w2d.shape[2] != w2d.shape[3]:
        raise ValueError(f"2D conv kernel must be square, got {w2d.shape[2]}x{w2d.shape[3]}")
    if depthwise and w2d.shape[1] != 1:
        raise ValueError(f"depthwise 2D weight must have shape [C, 1, K, K], got {tuple(w2d.shape)}")
    return int(w2d.shape[2])


def _cube_root(n: int) -> int | None:
    r = round(n ** (1.0 / 3.0))
    for c in (r - 1, r, r + 1):
        if c >= 1 and c**3 == n:
            return c
    return None


def _check_t(t: torch.Tensor, k2d: int) -> int:
    """Validate ``T`` against a ``k2d`` kernel; return ``k3d``."""
    if t.dim() != 2 or t.shape[0] != k2d * k2d:
        raise ValueError(f"T must have shape [K**2 = {k2d * k2d}, K3**3] for a {k2d}x{k2d} kernel, got {tuple(t.shape)}")
    k3d = _cube_root(int(t.shape[1]))
    if k3d is None:
        raise ValueError(f"T has {t.shape[1]} columns, which is not a cube K3**3")
    return k3d


def _apply_t(w2d: torch.Tensor, t: torch.Tensor, depthwise: bool) -> torch.Tensor:
    """``W2d_flat @ T`` in i2p's sparse layout (differentiable in both)."""
    m, n, k, _ = w2d.shape
    w3 = w2d.reshape(m, n, k * k) @ t  # [M, N, K3**3]
    if depthwise:
        return w3[:, 0, :].t().contiguous()  # [K3**3, C]
    return w3.permute(2, 1, 0).contiguous()  # [K3**3, C_in, C_out]


def inflate_conv_weight(
    w2d: torch.Tensor,
    transform: str | torch.Tensor = "default",
    k3d: int | None = None,
    rescale: bool = False,
    depthwise: bool = False,
    axis: str = "z",
) -> torch.Tensor:
    """3D sparse weight from a 2D conv weight ``[M, N, K, K]`` via ``T``.

    ``transform`` is a name of :func:`filter_transform` (copied along ``axis``) or an
    explicit ``[K**2, K3**3]`` matrix. Returns ``[K3**3, N, M]`` (i2p :class:`~i2p.sparse.nn.Conv3d` layout), or
    ``[K3**3, C]`` when ``depthwise`` (2D weight ``[C, 1, K, K]``).
    """
    k = _check_w2d(w2d, depthwise)
    if isinstance(transform, str):
        t = filter_transform(transform, k, k3d, rescale, axis=axis, dtype=w2d.dtype if w2d.is_floating_point() else None)
    elif isinstance(transform, torch.Tensor):
        if rescale or axis != "z":
            raise ValueError("rescale and axis apply only to named transforms; an explicit T is used as given")
        t = transform
        got = _check_t(t, k)
        if k3d is not None and k3d != got:
            raise ValueError(f"T has {t.shape[1]} = {got}**3 columns but k3d={k3d} was requested")
    else:
        raise TypeError(f"transform must be a name or a tensor, got {type(transform).__name__}")
    return _apply_t(w2d, t.to(device=w2d.device, dtype=w2d.dtype), depthwise)


class FilterTransform(nn.Module):
    """A learnable ``T`` (``[k2d**2, k3d**3]``): ``forward(w2d)`` is the 3D i2p weight.

    Meant as a weight parametrization whose original is the frozen pretrained 2D weight
    (see :func:`attach_filter_transform`); the same instance on many convs shares ``T``.

    ``init``: a :func:`filter_transform` name (``"default"`` -- the paper's best
    initialisation -- copied along ``axis``) or ``"random"``: i.i.d. ``N(0, 1/k2d**2)``. With that variance each 3D
    tap, a sum of ``k2d**2`` 2D taps times independent ``T`` entries, has the variance
    of one 2D tap -- the same per-tap scale as the default copy. (The paper does not
    say which random init it used.) ``generator`` or ``seed`` make it reproducible.

    ``depthwise`` fixes the output layout (``[K3**3, C]`` instead of
    ``[K3**3, C_in, C_out]``); it cannot be inferred from a ``[C, 1, K, K]`` weight,
    which is also the shape of a dense conv with one input channel. ``rescale`` applies
    to named inits only.
    """

    def __init__(
        self,
        k2d: int,
        k3d: int | None = None,
        init: str = "default",
        depthwise: bool = False,
        rescale: bool = False,
        generator: torch.Generator | None = None,
        seed: int | None = None,
        axis: str = "z",
    ) -> None:
        super().__init__()
        k3d = k2d if k3d is None else k3d
        if isinstance(init, str) and init.lower() == "random":
            if generator is None and seed is not None:
                generator = torch.Generator().manual_seed(seed)
            if not isinstance(k2d, int) or k2d < 1 or not isinstance(k3d, int) or k3d < 1:
                raise ValueError(f"kernel sizes must be positive ints, got k2d={k2d!r}, k3d={k3d!r}")
            t = torch.randn(k2d * k2d, k3d**3, generator=generator) / k2d
        else:
            try:
                t = filter_transform(init, k2d, k3d, rescale, axis=axis)
            except ValueError as e:
                raise ValueError(f"{e} (or 'random' for a FilterTransform init)") from None
        self.k2d, self.k3d, self.depthwise, self.init, self.axis = k2d, k3d, depthwise, init, axis
        self.T = nn.Parameter(t)

    def forward(self, w2d: torch.Tensor) -> torch.Tensor:
        k = _check_w2d(w2d, self.depthwise)
        if k != self.k2d:
            raise ValueError(f"FilterTransform for {self.k2d}x{self.k2d} kernels got a {k}x{k} 2D weight")
        with torch.autocast(w2d.device.type, enabled=False):  # inflate in float32; the conv casts after
            return _apply_t(w2d, self.T, self.depthwise)

    def extra_repr(self) -> str:
        s = f"k2d={self.k2d}, k3d={self.k3d}, init={self.init!r}, axis={self.axis!r}"
        return s + (", depthwise=True" if self.depthwise else "")


def attach_filter_transform(conv: Conv3d, w2d: torch.Tensor, transform: FilterTransform) -> None:
    """Make ``conv.weight`` the computed ``inflate(w2d, transform.T)``.

    Registers ``transform`` as a parametrization of ``conv.weight`` whose stored original
    (``conv.parametrizations.weight.original``) is a frozen copy of ``w2d``, so an
    optimizer over the model trains ``T`` and not the 2D filter (the paper's setting;
    set ``original.requires_grad_(True)`` to also finetune the 2D filter). Pass one
    instance to many convs for a shared ``T`` ("ST"), one per conv for "NST"; shared
    instances appear once in ``model.parameters()``.
    """
    if not isinstance(conv, Conv3d):
        raise TypeError(f"attach_filter_transform needs an i2p.sparse.nn.Conv3d, got {type(conv).__name__}")
    if not isinstance(transform, FilterTransform):
        raise TypeError(f"transform must be a FilterTransform, got {type(transform).__name__}")
    if parametrize.is_parametrized(conv, "weight"):
        raise ValueError("conv.weight is already parametrized; remove it first "
                         "(torch.nn.utils.parametrize.remove_parametrizations)")
    if conv.depthwise != transform.depthwise:
        raise ValueError(f"conv depthwise={conv.depthwise} but FilterTransform depthwise={transform.depthwise}")
    k = _check_w2d(w2d, conv.depthwise)
    if k != transform.k2d:
        raise ValueError(f"2D weight is {k}x{k} but the FilterTransform expects {transform.k2d}x{transform.k2d}")
    if conv.kernel_size != transform.k3d:
        raise ValueError(f"conv kernel_size={conv.kernel_size} but the FilterTransform produces k3d={transform.k3d}")
    want = (conv.in_channels, 1) if conv.depthwise else (conv.out_channels, conv.in_channels)
    if tuple(w2d.shape[:2]) != want:
        raise ValueError(
            f"2D weight {tuple(w2d.shape)} does not fit {conv!r}: expected [{want[0]}, {want[1]}, K, K]"
        )
    ref = conv.weight
    if transform.T.device != ref.device or transform.T.dtype != ref.dtype:
        raise ValueError(
            f"FilterTransform T is {transform.T.dtype} on {transform.T.device} but the conv weight is "
            f"{ref.dtype} on {ref.device}; move the transform first"
        )
    del conv.weight  # the original of the parametrization is the 2D weight, not the 3D init
    conv.weight = nn.Parameter(w2d.detach().to(ref.device, ref.dtype).clone(), requires_grad=False)
    parametrize.register_parametrization(conv, "weight", transform, unsafe=True)


def transform_of(conv: nn.Module) -> FilterTransform | None:
    """The :class:`FilterTransform` parametrizing ``conv.weight``, or ``None``."""
    if not parametrize.is_parametrized(conv, "weight"):
        return None
    for p in conv.parametrizations.weight:
        if isinstance(p, FilterTransform):
            return p
    return None
