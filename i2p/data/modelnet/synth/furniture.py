"""Seating, beds and tables: the confusable furniture groups (chair/stool/sofa/bench, table/desk)."""
from __future__ import annotations

import math

import numpy as np

from ...mesh import Mesh, box, boxes, cyl, rot_y, sphere, torus, xform
from .parts import Rand, Recipe, fronts, legs4

__all__ = ["RECIPES"]


def _bed(R: Rand) -> list[Mesh]:
    L, W = R.u(1.9, 2.2), R.u(0.9, 1.9)
    leg = R.u(0.05, 0.15) if R.p(0.5) else 0.0
    hb, hm = R.u(0.2, 0.4), R.u(0.15, 0.3)
    P = [box((0, 0, leg + hb / 2), (L, W, hb)), box((0.02, 0, leg + hb + hm / 2), (L - 0.06, W - 0.04, hm))]
    if leg:
        P += legs4(L / 2 - 0.05, W / 2 - 0.05, 0, leg, 0.07)
    Hh = R.u(0.8, 1.3)
    P.append(box((-L / 2 - 0.03, 0, Hh / 2), (0.06, W + 0.04, Hh)))
    if R.p(0.45):
        Hf = R.u(0.4, 0.7)
        P.append(box((L / 2 + 0.03, 0, Hf / 2), (0.06, W + 0.04, Hf)))
    top = leg + hb + hm
    if R.p(0.8):
        n = 1 if W < 1.3 else 2
        for k in range(n):
            y = (k + 0.5) * W / n - W / 2
            P.append(sphere((-L / 2 + 0.3, y, top + 0.05), (0.17, 0.4 * W / n, 0.07), 8))
    if R.p(0.4):  # blanket hanging over the sides
        P.append(box((L * 0.15, 0, top - 0.1), (L * 0.68, W + 0.04, 0.22)))
    return P


def _bench(R: Rand) -> list[Mesh]:
    L, D, H, t = R.u(1.1, 2.0), R.u(0.3, 0.45), R.u(0.4, 0.5), R.u(0.04, 0.07)
    P: list[Mesh] = []
    if R.p(0.4):  # slatted seat
        k = R.i(3, 5)
        w = D / k
        P.append(boxes([(0, -D / 2 + (j + 0.5) * w, H - t / 2) for j in range(k)], (L, w * 0.8, t)))
    else:
        P.append(box((0, 0, H - t / 2), (L, D, t)))
    if R.p(0.5):
        P += legs4(L / 2 - 0.08, D / 2 - 0.05, 0, H - t, R.u(0.04, 0.07), round_=R.p(0.4))
        if R.p(0.4):
            P.append(box((0, 0, 0.12), (L - 0.16, 0.03, 0.04)))
    else:
        for sx in (-1, 1):
            P.append(box((sx * (L / 2 - R.u(0.05, 0.2)), 0, (H - t) / 2), (0.05, D * 0.9, H - t)))
    if R.p(0.35):  # backrest
        hb = R.u(0.3, 0.45)
        for sx in (-1, 1):
            P.append(box((sx * (L / 2 - 0.08), D / 2 - 0.02, H + hb / 2), (0.05, 0.04, hb)))
        for j in range(R.i(2, 3)):
            P.append(box((0, D / 2 - 0.02, H + hb * (0.35 + 0.3 * j)), (L - 0.1, 0.03, 0.08)))
    return P


def _chair(R: Rand) -> list[Mesh]:
    sw, sd = R.u(0.4, 0.55), R.u(0.4, 0.55)
    hs, t = R.u(0.4, 0.5), R.u(0.03, 0.07)
    P = [box((0, 0, hs - t / 2), (sd, sw, t))]
    lt = R.u(0.025, 0.045)
    if R.p(0.15):  # swivel base
        P.append(cyl((0, 0, 0.1), (0, 0, hs - t), 0.03, 10))
        for k in range(5):
            a = 2 * np.pi * k / 5
            P.append(box((0.15 * np.cos(a), 0.15 * np.sin(a), 0.07), (0.3, 0.04, 0.03), rz=a))
            P.append(sphere((0.29 * np.cos(a), 0.29 * np.sin(a), 0.03), (0.03, 0.03, 0.03), 6))
    else:
        P += legs4(sd / 2 - lt, sw / 2 - lt, 0, hs - t, lt * 2, round_=R.p(0.4), splay=R.pick([0.0, 0.0, 0.03]))
        if R.p(0.3):  # stretchers
            P.append(box((0, sw / 2 - lt, 0.15), (sd - 2 * lt, 0.02, 0.03)))
            P.append(box((0, -(sw / 2 - lt), 0.15), (sd - 2 * lt, 0.02, 0.03)))
    hb = R.u(0.35, 0.6)
    back: list[Mesh] = []
    xb = -sd / 2 + lt
    kind = R.pick(["panel", "slats", "rails"], [0.5, 0.3, 0.2])
    if kind == "panel":
        back.append(box((xb, 0, hs + hb / 2), (0.04, sw, hb)))
    else:
        for sy in (-1, 1):
            back.append(box((xb, sy * (sw / 2 - lt), hs + hb / 2), (lt * 1.5, lt * 1.5, hb)))
        back.append(box((xb, 0, hs + hb - 0.04), (0.03, sw, 0.08)))
        if kind == "slats":
            k = R.i(2, 5)
            ys = np.linspace(-sw / 2, sw / 2, k + 2)[1:-1]
            back.append(boxes([(xb, y, hs + (hb - 0.08) / 2) for y in ys], (0.02, 0.03, hb - 0.08)))
        else:
            back.append(box((xb, 0, hs + hb * 0.45), (0.03, sw, 0.06)))
    P += xform(back, rot_y(-R.u(0.0, 0.25)), about=(xb, 0, hs))
    if R.p(0.3):  # armrests
        ha = R.u(0.18, 0.25)
        for sy in (-1, 1):
            P.append(box((0, sy * sw / 2, hs + ha), (sd, 0.05, 0.03)))
            P.append(box((sd / 2 - 0.04, sy * sw / 2, hs + ha / 2), (0.03, 0.03, ha)))
    return P


def _sofa(R: Rand) -> list[Mesh]:
    L, D = R.u(1.6, 2.4), R.u(0.8, 1.0)
    leg = R.u(0.05, 0.15) if R.p(0.5) else 0.0
    hs = R.u(0.38, 0.45)
    hb = R.u(0.38, 0.55)
    bt = R.u(0.12, 0.22)
    P = [box((0, 0, leg + (hs - 0.12 - leg) / 2), (L, D, hs - 0.12 - leg)),
         box((0, D / 2 - bt / 2, leg + (hs + hb - leg) / 2), (L, bt, hs + hb - leg))]
    n = R.i(1, 3)
    arm = R.u(0.1, 0.2) if R.p(0.9) else 0.0
    cw = (L - 2 * arm) / n
    P.append(boxes([(-L / 2 + arm + (k + 0.5) * cw, -bt / 2, hs - 0.06) for k in range(n)], (cw * 0.97, D - bt, 0.12)))
    if arm:
        ha = hs + R.u(0.12, 0.25)
        for s in (-1, 1):
            P.append(box((s * (L / 2 - arm / 2), 0, leg + (ha - leg) / 2), (arm, D, ha - leg)))
    if leg:
        P += legs4(L / 2 - 0.08, D / 2 - 0.08, 0, leg, 0.05, round_=R.p(0.5))
    if R.p(0.3):  # back cushions
        P.append(boxes([(-L / 2 + arm + (k + 0.5) * cw, D / 2 - bt - 0.07, hs + hb * 0.4) for k in range(n)],
                       (cw * 0.95, 0.14, hb * 0.7)))
    if R.p(0.2):  # L-shaped sectional
        P.append(box((-(L / 2 - 0.4), -D / 2 - 0.35, leg + (hs - leg) / 2), (0.8, 0.7, hs - leg)))
    return P


def _stool(R: Rand) -> list[Mesh]:
    H = R.u(0.45, 0.8)
    t = R.u(0.03, 0.06)
    P: list[Mesh] = []
    if R.p(0.7):
        rs = R.u(0.15, 0.22)
        P.append(cyl((0, 0, H - t), (0, 0, H), rs, 24))
    else:
        rs = R.u(0.15, 0.2)
        P.append(box((0, 0, H - t / 2), (2 * rs, 2 * rs, t)))
    k = R.pick([3, 4, 4])
    splay = R.u(0.0, 0.1)
    lr = R.u(0.015, 0.025)
    for j in range(k):
        a = 2 * np.pi * j / k + np.pi / 4
        top = np.array([0.7 * rs * math.cos(a), 0.7 * rs * math.sin(a), H - t])
        bot = np.array([(0.7 * rs + splay) * math.cos(a), (0.7 * rs + splay) * math.sin(a), 0])
        P.append(cyl(bot, top, lr, 8))
    if H > 0.6 and R.p(0.6):  # footrest ring
        zf = H * 0.3
        rf = 0.7 * rs + splay * (1 - zf / (H - t))
        P.append(torus((0, 0, zf), rf, 0.012, res=(24, 6)))
    if R.p(0.12):  # low back (bar stool), confusable with a chair
        hb = R.u(0.12, 0.25)
        P.append(box((-rs * 0.9, 0, H + hb / 2), (0.03, rs * 1.4, hb)))
    return P


def _table(R: Rand) -> list[Mesh]:
    W = R.u(0.8, 2.0)
    D = W * R.u(0.45, 1.0)
    H = R.u(0.35, 0.5) if R.p(0.25) else R.u(0.68, 0.8)
    t = R.u(0.025, 0.06)
    round_top = R.p(0.3)
    if round_top:
        rr = R.u(0.4, 0.7)
        W = D = 2 * rr
        P = [cyl((0, 0, H - t), (0, 0, H), rr, 32)]
    else:
        P = [box((0, 0, H - t / 2), (W, D, t))]
    kind = R.pick(["legs", "pedestal", "trestle"], [0.55, 0.25, 0.2])
    if kind == "legs":
        f = 0.7 if round_top else 1.0
        inset = R.u(0.03, 0.12)
        lt = R.u(0.03, 0.07)
        x, y = f * W / 2 - inset, f * D / 2 - inset
        P += legs4(x, y, 0, H - t, lt, round_=R.p(0.4))
        if not round_top and R.p(0.5):  # apron
            P += [box((0, s * y, H - t - 0.05), (2 * x, 0.02, 0.1)) for s in (-1, 1)]
            P += [box((s * x, 0, H - t - 0.05), (0.02, 2 * y, 0.1)) for s in (-1, 1)]
        if R.p(0.2):  # lower shelf
            P.append(box((0, 0, R.u(0.1, 0.25)), (2 * x, 2 * y, 0.02)))
    elif kind == "pedestal":
        P.append(cyl((0, 0, 0.03), (0, 0, H - t), R.u(0.04, 0.1), 16))
        if R.p(0.5):
            P.append(cyl((0, 0, 0), (0, 0, 0.03), min(W, D) * R.u(0.25, 0.35), 24))
        else:
            for a in (0, np.pi / 2):
                P.append(box((0, 0, 0.03), (min(W, D) * 0.7, 0.06, 0.06), rz=a))
    else:
        for s in (-1, 1):
            P.append(box((s * (W / 2 - 0.15), 0, (H - t) / 2), (0.05, D * 0.8, H - t)))
        P.append(box((0, 0, 0.2), (W - 0.3, 0.04, 0.06)))
    return P


def _desk(R: Rand) -> list[Mesh]:
    W, D, H, t = R.u(1.1, 1.7), R.u(0.55, 0.8), R.u(0.72, 0.78), R.u(0.025, 0.045)
    P = [box((0, 0, H - t / 2), (W, D, t))]
    kind = R.pick(["ped1", "ped2", "legs"], [0.4, 0.3, 0.3])
    lt = R.u(0.04, 0.06)
    if kind in ("ped1", "ped2"):
        pw = R.u(0.35, 0.45)
        sides = [1, -1] if kind == "ped2" else [R.pick([1, -1])]
        for s in sides:
            cx = s * (W / 2 - pw / 2)
            P.append(box((cx, 0, (H - t) / 2), (pw, D * 0.95, H - t)))
            P += fronts(cx - pw / 2, cx + pw / 2, 0.05, H - t, -D * 0.475, R.i(2, 4), 1, R.pick(["knob", "bar"]))
        if kind == "ped1":
            o = -sides[0] * (W / 2 - 0.03)
            if R.p(0.5):
                P.append(box((o, 0, (H - t) / 2), (0.04, D * 0.95, H - t)))
            else:
                for sy in (-1, 1):
                    P.append(box((o, sy * (D / 2 - 0.04), (H - t) / 2), (lt, lt, H - t)))
    else:
        P += legs4(W / 2 - lt, D / 2 - lt, 0, H - t, lt, round_=R.p(0.3))
        dw = W * R.u(0.3, 0.5)
        P.append(box((0, 0, H - t - 0.06), (dw, D * 0.9, 0.12)))
        P += fronts(-dw / 2, dw / 2, H - t - 0.12, H - t, -D * 0.45, 1, R.i(1, 2), "bar")
    if R.p(0.7):  # modesty panel
        P.append(box((0, D / 2 - 0.03, H - t - 0.2), (W * 0.9, 0.02, 0.4)))
    if R.p(0.15):  # hutch
        hh = R.u(0.35, 0.6)
        P += [box((s * (W / 2 - 0.01), D / 2 - 0.15, H + hh / 2), (0.02, 0.3, hh)) for s in (-1, 1)]
        P += [box((0, D / 2 - 0.15, H + hh), (W, 0.3, 0.02)), box((0, D / 2 - 0.01, H + hh / 2), (W, 0.02, hh))]
    return P


#: class name -> recipe, for the classes of this theme
RECIPES: dict[str, Recipe] = {
    "bed": _bed, "bench": _bench, "chair": _chair, "sofa": _sofa, "stool": _stool, "table": _table,
    "desk": _desk,
}
