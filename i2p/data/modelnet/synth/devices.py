"""Electronics, lamps and instruments: keyboard, laptop, monitor, radio, xbox, lamp, guitar, piano."""
from __future__ import annotations

import math

import numpy as np

from ...mesh import Mesh, box, boxes, cyl, extrude, frustum, lathe, rot_x, rot_y, sphere, tube, xform
from .parts import Rand, Recipe, legs4

__all__ = ["RECIPES"]


def _keyboard(R: Rand) -> list[Mesh]:
    W, D, T = R.u(0.4, 0.48), R.u(0.13, 0.18), R.u(0.015, 0.03)
    numpad = R.p(0.35)
    if numpad:
        W *= 1.2
    P = [box((0, 0, T / 2), (W, D, T))]
    rows, cols = R.i(5, 6), R.i(13, 16)
    kw = (W * (0.78 if numpad else 0.95)) / cols
    kd = D * 0.9 / rows
    x0 = -W / 2 + W * 0.025
    cs = []
    for i in range(rows):
        for j in range(cols):
            if i == 0 and 3 <= j < cols - 4:
                continue
            cs.append((x0 + (j + 0.5) * kw, -D * 0.45 + (i + 0.5) * kd, T + 0.005))
    cs.append((x0 + cols * kw / 2, -D * 0.45 + kd / 2, T + 0.005))  # space bar
    ss = [(kw * 0.85, kd * 0.85, 0.01)] * (len(cs) - 1) + [((cols - 7) * kw, kd * 0.85, 0.01)]
    if numpad:
        for i in range(rows - 1):
            for j in range(4):
                cs.append((W / 2 - W * 0.2 + (j + 0.5) * kw, -D * 0.45 + (i + 0.5) * kd, T + 0.005))
                ss.append((kw * 0.85, kd * 0.85, 0.01))
    P.append(boxes(cs, ss))
    return xform(P, rot_x(R.u(0.0, 0.12)))


def _laptop(R: Rand) -> list[Mesh]:
    W = R.u(0.3, 0.38)
    D = W * R.u(0.65, 0.75)
    t = R.u(0.015, 0.025)
    P = [box((0, 0, t / 2), (W, D, t))]
    if R.p(0.5):
        P.append(box((0, -D * 0.1, t + 0.002), (W * 0.9, D * 0.45, 0.004)))
        P.append(box((0, -D * 0.38, t + 0.001), (W * 0.3, D * 0.18, 0.002)))
    ts, Ds = 0.008, D * 0.95
    screen = [box((0, 0, Ds / 2), (W, ts, Ds))]
    ang = R.u(0.0, 0.6)  # open beyond vertical
    P += xform(screen, rot_x(-ang), t=(0, D / 2 - ts / 2, t))
    return P


def _monitor(R: Rand) -> list[Mesh]:
    W = R.u(0.45, 0.7)
    H = W * R.u(0.55, 0.68)
    T = R.u(0.02, 0.05)
    zb = R.u(0.08, 0.2)
    P = [box((0, 0, zb + H / 2), (W, T, H))]
    crt = R.p(0.15)
    if crt:
        P.append(frustum((W * 0.9, H * 0.9), (W * 0.45, H * 0.45), 0, W * 0.6))
        P = [P[0]] + xform([P[1]], rot_x(-np.pi / 2), t=(0, T / 2, zb + H / 2))
    bw = W * R.u(0.3, 0.5)
    bd = R.u(0.15, 0.25)
    if R.p(0.5):
        P.append(box((0, 0.04, 0.01), (bw, bd, 0.02)))
    else:
        P.append(cyl((0, 0.04, 0), (0, 0.04, 0.02), bd * 0.6, 20))
    P.append(box((0, T / 2 + 0.03, (zb + H * 0.4) / 2), (0.05, 0.025, zb + H * 0.4)))
    return P


def _radio(R: Rand) -> list[Mesh]:
    W, D, H = R.u(0.25, 0.45), R.u(0.08, 0.16), R.u(0.14, 0.26)
    P = [box((0, 0, H / 2), (W, D, H))]
    ns = R.pick([1, 2])
    rs = min(H * 0.35, W / (2 * ns) * 0.8)
    for k in range(ns):
        x = -W / 2 + W * (k + 0.5) / ns if ns == 2 else -W * 0.2
        P.append(cyl((x, -D / 2 - 0.008, H * 0.45), (x, -D / 2, H * 0.45), rs, 20))
    if ns == 1:
        P.append(box((W * 0.22, -D / 2 - 0.004, H * 0.6), (W * 0.35, 0.008, H * 0.25)))
        P.append(cyl((W * 0.3, -D / 2 - 0.02, H * 0.25), (W * 0.3, -D / 2, H * 0.25), H * 0.07, 12))
    if R.p(0.6):  # antenna
        a = R.u(0.1, 0.6)
        base = np.array([W * 0.4, 0, H])
        P.append(cyl(base, base + [math.sin(a) * W * 0.9, 0, math.cos(a) * W * 0.9], 0.004, 6))
    if R.p(0.5):  # carrying handle
        s = np.linspace(0, np.pi, 10)
        P.append(tube(np.column_stack([W * 0.35 * np.cos(s), np.zeros(10), H + H * 0.35 * np.sin(s)]), 0.01, 6))
    return P


def _xbox(R: Rand) -> list[Mesh]:
    W, D, T = R.u(0.26, 0.34), R.u(0.22, 0.3), R.u(0.07, 0.09)
    gen = R.pick(["flat", "tower"], [0.6, 0.4])
    P = [box((0, 0, T / 2), (W, D, T))]
    if R.p(0.6):  # curved side panel / bevel
        P.append(box((0, 0, T + 0.004), (W * 0.92, D * 0.92, 0.008)))
    P.append(box((-W * 0.15, -D / 2 - 0.002, T * 0.6), (W * 0.45, 0.004, 0.008)))  # disc slot
    P.append(cyl((W * 0.35, -D / 2 - 0.004, T * 0.5), (W * 0.35, -D / 2, T * 0.5), T * 0.22, 16))  # power ring
    if R.p(0.6):  # vents
        P.append(boxes([(W / 2 + 0.002, y, T / 2) for y in np.linspace(-D * 0.35, D * 0.35, 8)], (0.004, 0.01, T * 0.6)))
    if gen == "tower":  # stood on its side on a small foot
        P = xform(P, rot_y(np.pi / 2), t=(-T / 2, 0, W / 2 + 0.02), about=(0, 0, 0))
        P.append(box((0, 0, 0.01), (T * 1.6, D * 0.5, 0.02)))
    return P


def _lamp(R: Rand) -> list[Mesh]:
    floor = R.p(0.4)
    Hp = R.u(1.2, 1.7) if floor else R.u(0.25, 0.5)
    rb = R.u(0.1, 0.16) if floor else R.u(0.06, 0.12)
    P: list[Mesh] = []
    if R.p(0.7):
        P.append(cyl((0, 0, 0), (0, 0, 0.03), rb, 20))
    else:
        P.append(box((0, 0, 0.015), (2 * rb, 2 * rb, 0.03)))
    if R.p(0.75):  # straight pole with a shade
        P.append(cyl((0, 0, 0.03), (0, 0, Hp), R.u(0.01, 0.02), 10))
        sb = R.u(0.12, 0.25) if floor else R.u(0.08, 0.16)
        st = sb * R.u(0.5, 0.95)
        sh = sb * R.u(0.8, 1.4)
        z0 = Hp - sh * 0.6
        P.append(lathe([sb, st, st * 0.97, sb * 0.97], [z0, z0 + sh, z0 + sh, z0], 24))
        if R.p(0.5):
            P.append(sphere((0, 0, z0 + sh * 0.3), (0.03, 0.03, 0.04), 8))
    else:  # desk lamp: two-segment arm and a cone pointing down
        a1 = R.u(0.1, 0.5)
        l1, l2 = Hp * R.u(0.9, 1.2), Hp * R.u(0.7, 1.0)
        j1 = np.array([l1 * math.sin(a1), 0, 0.03 + l1 * math.cos(a1)])
        a2 = R.u(0.9, 1.6)
        j2 = j1 + [l2 * math.sin(a2), 0, l2 * math.cos(a2)]
        P += [cyl((0, 0, 0.03), j1, 0.012, 8), cyl(j1, j2, 0.012, 8), sphere(j1, (0.02, 0.02, 0.02), 6)]
        rs = R.u(0.06, 0.1)
        P.append(lathe([0.02, rs, rs * 0.95, 0.015], [0, -rs * 1.2, -rs * 1.2, 0], 20))
        P = P[:-1] + xform([P[-1]], rot_y(R.u(0.3, 0.8)), t=j2)
    return P


def _guitar(R: Rand) -> list[Mesh]:
    electric = R.p(0.3)
    r1 = R.u(0.17, 0.22) * (0.85 if electric else 1.0)
    r2 = r1 * R.u(0.68, 0.85)
    bt = R.u(0.04, 0.05) if electric else R.u(0.08, 0.12)
    z1 = r1
    z2 = z1 + r1 * R.u(0.85, 1.05)
    P = [cyl((0, -bt / 2, z1), (0, bt / 2, z1), r1, 28), cyl((0, -bt / 2, z2), (0, bt / 2, z2), r2, 28),
         box((0, 0, (z1 + z2) / 2), (r2 * 1.3, bt, z2 - z1))]
    if electric and R.p(0.7):  # horn
        P.append(cyl((r2 * 0.5, -bt / 2, z2 + r2 * 0.5), (r2 * 0.5, bt / 2, z2 + r2 * 0.5), r2 * 0.45, 16))
    nl = R.u(0.42, 0.55)
    zn = z2 + r2 * 0.7
    P.append(box((0, -bt / 2 - 0.005, zn + nl / 2), (0.05, 0.025, nl)))
    head = [box((0, 0, 0.09), (0.075, 0.018, 0.18))]
    P += xform(head, rot_x(R.u(0.1, 0.3)), t=(0, -bt / 2 - 0.005, zn + nl))
    if not electric and R.p(0.7):  # bridge
        P.append(box((0, -bt / 2 - 0.005, z1 - r1 * 0.3), (r1 * 0.8, 0.012, 0.03)))
    return P


def _piano(R: Rand) -> list[Mesh]:
    P: list[Mesh] = []
    if R.p(0.6):  # upright
        W, D, H = R.u(1.4, 1.6), R.u(0.5, 0.65), R.u(1.05, 1.3)
        zk = R.u(0.68, 0.74)
        P += [box((0, D / 2 - 0.15, H / 2), (W, 0.3, H)),
              box((0, -0.08, zk - 0.04), (W, D - 0.3, 0.08)),
              box((0, -0.02, zk + 0.05), (W * 0.92, D - 0.42, 0.02))]  # keys
        for s in (-1, 1):
            P.append(box((s * (W / 2 - 0.03), -0.05, zk / 2), (0.06, 0.06, zk)))
            P.append(box((s * (W / 2 - 0.03), -0.05, zk + 0.06), (0.06, D - 0.3, 0.12)))
        P.append(box((0, D / 2 - 0.15, H + 0.01), (W + 0.04, 0.34, 0.02)))
    else:  # grand
        W, L = R.u(1.4, 1.6), R.u(1.5, 2.7)
        zb, hb = R.u(0.6, 0.7), R.u(0.25, 0.35)
        poly = [(-W / 2, 0), (W / 2, 0), (W / 2, L * 0.35), (W * 0.2, L), (-W / 2 + 0.1, L), (-W / 2, L * 0.9)]
        P.append(extrude(poly, zb, zb + hb))
        P.append(box((0, -0.15, zb + 0.1), (W, 0.3, 0.12)))
        P.append(box((0, -0.2, zb + 0.17), (W * 0.9, 0.18, 0.02)))
        for x, y in [(-W / 2 + 0.1, 0.1), (W / 2 - 0.1, 0.1), (0.0, L * 0.8)]:
            P.append(cyl((x, y, 0), (x, y, zb), 0.05, 10))
        if R.p(0.6):  # propped lid
            lid = [extrude(poly, 0, 0.02)]
            P += xform(lid, rot_y(R.u(0.3, 0.6)), t=(0, 0, zb + hb), about=(-W / 2, 0, 0))
        P = xform(P, t=(0, -L / 2, 0))
    if R.p(0.35):  # bench
        P += legs4(0.3, 0.15, 0, 0.45, 0.05)
        P.append(box((0, 0, 0.47), (0.7, 0.35, 0.05)))
        P = P[:-5] + xform(P[-5:], t=(0, -1.0, 0))
    return P


#: class name -> recipe, for the classes of this theme
RECIPES: dict[str, Recipe] = {
    "keyboard": _keyboard, "laptop": _laptop, "monitor": _monitor, "radio": _radio, "xbox": _xbox,
    "lamp": _lamp, "guitar": _guitar, "piano": _piano,
}
