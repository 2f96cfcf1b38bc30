"""Cabinets and shelving: bookshelf, dresser, night stand, TV stand, wardrobe, glass box."""
from __future__ import annotations

import numpy as np

from ...mesh import Mesh, box, boxes, xform
from .parts import Rand, Recipe, cabinet, fronts, legs4

__all__ = ["RECIPES"]


def _bookshelf(R: Rand) -> list[Mesh]:
    W, D, H, t = R.u(0.6, 1.4), R.u(0.25, 0.4), R.u(1.0, 2.2), R.u(0.02, 0.04)
    P = [box((-(W / 2 - t / 2), 0, H / 2), (t, D, H)), box((W / 2 - t / 2, 0, H / 2), (t, D, H)),
         box((0, 0, t / 2), (W - 2 * t, D, t)), box((0, 0, H - t / 2), (W - 2 * t, D, t))]
    if R.p(0.6):
        P.append(box((0, D / 2 - t / 4, H / 2), (W, t / 2, H)))
    n = R.i(3, 6)
    zs = np.linspace(t, H - t, n + 1)
    P.append(boxes([(0, 0, z) for z in zs[1:-1]], (W - 2 * t, D, t)))
    if R.p(0.6):  # books
        cs, ss = [], []
        for z0, z1 in zip(zs[:-1], zs[1:]):
            if not R.p(0.7):
                continue
            x = -W / 2 + t + R.u(0, 0.2) * W
            stop = W / 2 - t - R.u(0, 0.3) * W
            while True:
                bw = R.u(0.02, 0.05)
                if x + bw > stop:
                    break
                bh = R.u(0.55, 0.9) * (z1 - z0 - t)
                cs.append((x + bw / 2, 0, z0 + t / 2 + bh / 2))
                ss.append((bw * 0.95, D * 0.75, bh))
                x += bw
        if cs:
            P.append(boxes(cs, ss))
    return P


def _dresser(R: Rand) -> list[Mesh]:
    W, D, H = R.u(1.0, 1.7), R.u(0.42, 0.55), R.u(0.75, 1.1)
    leg = R.u(0.06, 0.12) if R.p(0.5) else 0.0
    P = cabinet(R, W, D, H, leg, R.pick([0.0, 0.04]))
    rows = R.i(3, 5)
    cols = R.pick([1, 2, 2, 3])
    z0 = leg + 0.04
    P += fronts(-W / 2 + 0.02, W / 2 - 0.02, z0, H - 0.03, -D / 2, rows, cols, R.pick(["knob", "bar"]))
    if R.p(0.2):  # mirror
        mh = R.u(0.6, 0.9)
        P.append(box((0, D / 2 - 0.03, H + mh / 2), (W * 0.7, 0.03, mh)))
    return P


def _night_stand(R: Rand) -> list[Mesh]:
    W, D, H = R.u(0.4, 0.6), R.u(0.35, 0.5), R.u(0.45, 0.7)
    leg = R.u(0.06, 0.2) if R.p(0.5) else 0.0
    P: list[Mesh] = []
    if R.p(0.4):  # drawer(s) above an open cubby
        zc = leg + (H - leg) * R.u(0.45, 0.6)
        t = 0.02
        P += [box((0, 0, leg + t / 2), (W, D, t)), box((-(W / 2 - t / 2), 0, (leg + H) / 2), (t, D, H - leg)),
              box((W / 2 - t / 2, 0, (leg + H) / 2), (t, D, H - leg)), box((0, D / 2 - t / 2, (leg + zc) / 2), (W, t, zc - leg)),
              box((0, 0, zc + (H - zc) / 2), (W, D, H - zc))]
        if leg:
            P += legs4(W / 2 - 0.03, D / 2 - 0.03, 0, leg, 0.04)
        P += fronts(-W / 2 + 0.02, W / 2 - 0.02, zc + 0.02, H - 0.02, -D / 2, R.i(1, 2), 1)
    else:
        P += cabinet(R, W, D, H, leg, R.pick([0.0, 0.03]))
        P += fronts(-W / 2 + 0.02, W / 2 - 0.02, leg + 0.03, H - 0.02, -D / 2, R.i(1, 3), 1, R.pick(["knob", "bar"]))
    return P


def _tv_stand(R: Rand) -> list[Mesh]:
    W, D, H = R.u(1.2, 2.0), R.u(0.35, 0.5), R.u(0.35, 0.6)
    leg = R.u(0.05, 0.12) if R.p(0.4) else 0.0
    t = 0.025
    P = [box((0, 0, H - t / 2), (W, D, t)), box((0, 0, leg + t / 2), (W, D, t)),
         box((-(W / 2 - t / 2), 0, (leg + H) / 2), (t, D, H - leg)), box((W / 2 - t / 2, 0, (leg + H) / 2), (t, D, H - leg))]
    if R.p(0.6):
        P.append(box((0, D / 2 - 0.005, (leg + H) / 2), (W, 0.01, H - leg)))
    k = R.i(1, 3)
    xs = np.linspace(-W / 2, W / 2, k + 2)[1:-1]
    P += [box((x, 0, (leg + H) / 2), (t, D, H - leg)) for x in xs]
    if R.p(0.5):  # middle shelf
        P.append(box((0, 0, (leg + H) / 2), (W, D, t)))
    edges = np.concatenate([[-W / 2], xs, [W / 2]])
    for x0, x1 in zip(edges[:-1], edges[1:]):
        if R.p(0.35):  # doors on this compartment
            P += fronts(x0 + t / 2, x1 - t / 2, leg + t, H - t, -D / 2, 1, R.i(1, 2), "vbar")
    if leg:
        P += legs4(W / 2 - 0.05, D / 2 - 0.05, 0, leg, 0.04, round_=True)
    if R.p(0.12):  # a TV on it
        tw = W * R.u(0.5, 0.7)
        P.append(box((0, 0.05, H + 0.05 + tw * 0.3), (tw, 0.04, tw * 0.58)))
        P.append(box((0, 0.05, H + 0.025), (tw * 0.3, 0.2, 0.05)))
    return P


def _wardrobe(R: Rand) -> list[Mesh]:
    W, D, H = R.u(0.8, 1.6), R.u(0.5, 0.65), R.u(1.7, 2.2)
    plinth = R.u(0.05, 0.12) if R.p(0.6) else 0.0
    P = cabinet(R, W, D, H, 0.0)
    if plinth:
        P = xform(P, np.diag([1.0, 1.0, (H - plinth) / H]), t=(0, 0, plinth))
        P.append(box((0, 0.01, plinth / 2), (W * 0.96, D * 0.96, plinth)))
    doors = R.pick([2, 2, 3])
    zd = plinth + 0.02
    if R.p(0.3):  # drawers at the bottom
        hd = R.u(0.2, 0.4)
        P += fronts(-W / 2 + 0.02, W / 2 - 0.02, zd, zd + hd, -D / 2, R.i(1, 2), 2, "bar")
        zd += hd
    P += fronts(-W / 2 + 0.02, W / 2 - 0.02, zd, H - 0.03, -D / 2, 1, doors, "vbar")
    if R.p(0.5):  # cornice
        P.append(box((0, -0.02, H + 0.04), (W + 0.08, D + 0.06, 0.08)))
    return P


def _glass_box(R: Rand) -> list[Mesh]:
    W, D, H = R.u(0.5, 1.2), R.u(0.4, 0.8), R.u(0.4, 1.0)
    zb = R.u(0.3, 0.8) if R.p(0.5) else 0.0
    t = 0.008
    P = [box((0, 0, zb + t / 2), (W, D, t)), box((0, 0, zb + H - t / 2), (W, D, t)),
         box((-(W / 2), 0, zb + H / 2), (t, D, H)), box((W / 2, 0, zb + H / 2), (t, D, H)),
         box((0, -D / 2, zb + H / 2), (W, t, H)), box((0, D / 2, zb + H / 2), (W, t, H))]
    if R.p(0.5):  # metal edges
        e = 0.025
        cs, ss = [], []
        for sx in (-1, 1):
            for sy in (-1, 1):
                cs.append((sx * W / 2, sy * D / 2, zb + H / 2))
                ss.append((e, e, H))
            for z in (zb, zb + H):
                cs.append((sx * W / 2, 0, z))
                ss.append((e, D, e))
        for sy in (-1, 1):
            for z in (zb, zb + H):
                cs.append((0, sy * D / 2, z))
                ss.append((W, e, e))
        P.append(boxes(cs, ss))
    if zb:
        if R.p(0.5):
            P.append(box((0, 0, zb / 2), (W * 0.95, D * 0.95, zb)))
        else:
            P += legs4(W / 2 - 0.04, D / 2 - 0.04, 0, zb, 0.04)
    if R.p(0.3):  # a shelf inside
        P.append(box((0, 0, zb + H / 2), (W, D, t)))
    return P


#: class name -> recipe, for the classes of this theme
RECIPES: dict[str, Recipe] = {
    "bookshelf": _bookshelf, "dresser": _dresser, "night_stand": _night_stand, "tv_stand": _tv_stand,
    "wardrobe": _wardrobe, "glass_box": _glass_box,
}
