"""Built-in parts of rooms: bathtub, sink, toilet, range hood, door, curtain, stairs, mantel."""
from __future__ import annotations

import math

import numpy as np

from ...mesh import Mesh, box, boxes, cyl, frustum, lathe, rot_y, sheet, sphere, torus, tube, xform
from .parts import Rand, Recipe, fronts, legs4

__all__ = ["RECIPES"]


def _bathtub(R: Rand) -> list[Mesh]:
    L, W, H, t = R.u(1.5, 2.0), R.u(0.7, 0.95), R.u(0.45, 0.62), R.u(0.04, 0.08)
    zf = R.u(0.08, 0.15) if R.p(0.3) else 0.0
    P: list[Mesh] = []
    if R.p(0.4):  # oval tub: a shell of revolution stretched to L x W
        r0 = 1.0
        rb = R.u(0.75, 0.9)
        tr = t / (W / 2)
        prof_r = [0, rb, r0, r0 + 0.04, r0 - tr, rb - tr, 0]
        prof_z = [zf, zf, zf + H, zf + H, zf + H, zf + t, zf + t]
        P.append(lathe(prof_r, prof_z, 28, scale_xy=(L / 2, W / 2)))
    else:
        P += [box((0, 0, zf + t / 2), (L, W, t)),
              box((-(L / 2 - t / 2), 0, zf + H / 2), (t, W, H)), box((L / 2 - t / 2, 0, zf + H / 2), (t, W, H)),
              box((0, -(W / 2 - t / 2), zf + H / 2), (L - 2 * t, t, H)), box((0, W / 2 - t / 2, zf + H / 2), (L - 2 * t, t, H))]
        if R.p(0.5):  # rim
            P.append(box((0, 0, zf + H), (L + 0.06, W + 0.06, 0.03)))
    if zf > 0:
        for sx in (-1, 1):
            for sy in (-1, 1):
                P.append(sphere((sx * L * 0.38, sy * W * 0.3, zf / 2), (0.06, 0.06, zf / 2 + 0.01), 6))
    if R.p(0.35):  # faucet at one end
        P.append(tube([(-L / 2 + 0.05, 0, zf + H), (-L / 2 + 0.05, 0, zf + H + 0.15), (-L / 2 + 0.2, 0, zf + H + 0.12)], 0.02, 8))
    return P


def _sink(R: Rand) -> list[Mesh]:
    W, D = R.u(0.5, 0.9), R.u(0.4, 0.55)
    H = R.u(0.8, 0.9)
    t = 0.03
    bw, bd = W * R.u(0.55, 0.75), D * R.u(0.55, 0.75)
    bh = R.u(0.12, 0.2)
    P: list[Mesh] = []
    # counter with a hole: four slabs around the basin
    P += [box((0, -(bd / 2 + (D - bd) / 4), H - t / 2), (W, (D - bd) / 2, t)),
          box((0, bd / 2 + (D - bd) / 4, H - t / 2), (W, (D - bd) / 2, t)),
          box((-(bw / 2 + (W - bw) / 4), 0, H - t / 2), ((W - bw) / 2, bd, t)),
          box((bw / 2 + (W - bw) / 4, 0, H - t / 2), ((W - bw) / 2, bd, t))]
    if R.p(0.5):  # oval basin
        tt = np.linspace(0, np.pi / 2, 8)
        P.append(lathe(np.sin(tt), H - bh * np.cos(tt), 24, scale_xy=(bw / 2, bd / 2)))
    else:
        P.append(frustum((bw * 0.9, bd * 0.9), (bw, bd), H - bh, H, caps=False))
        P.append(box((0, 0, H - bh), (bw * 0.9, bd * 0.9, 0.005)))
    fy = D / 2 - 0.05
    sp = R.u(0.12, 0.22)
    P.append(tube([(0, fy, H), (0, fy, H + 0.2), (0, fy - 0.05, H + 0.25), (0, fy - sp, H + 0.2)], 0.015, 8))
    for s in (-1, 1):
        if R.p(0.7):
            P.append(cyl((s * 0.1, fy, H), (s * 0.1, fy, H + 0.06), 0.02, 8))
    base = R.pick(["pedestal", "cabinet", "legs", "wall"], [0.35, 0.35, 0.15, 0.15])
    if base == "pedestal":
        P.append(lathe([0.12, 0.07, 0.06, 0.1], [0, 0.1, H - bh - 0.05, H - bh], 16))
    elif base == "cabinet":
        P.append(box((0, 0, (H - t) / 2), (W * 0.98, D * 0.95, H - t)))
        P += fronts(-W * 0.48, W * 0.48, 0.05, H - t - 0.02, -D * 0.475, 1, R.i(1, 2), "vbar")
    elif base == "legs":
        P += legs4(W / 2 - 0.05, D / 2 - 0.05, 0, H - t, 0.04, round_=True)
    return P


def _toilet(R: Rand) -> list[Mesh]:
    hb = R.u(0.38, 0.45)
    bl, bw = R.u(0.22, 0.28), R.u(0.17, 0.2)  # bowl semi-axes (x forward, y)
    t = np.linspace(0, np.pi / 2, 8)
    bowl_depth = R.u(0.18, 0.25)
    P = [lathe(np.concatenate([np.sin(t), np.sin(t)[::-1] * 0.88]),
               np.concatenate([hb - bowl_depth * np.cos(t), (hb - 0.02 - (bowl_depth - 0.02) * np.cos(t))[::-1]]),
               24, scale_xy=(bl, bw))]
    P.append(lathe([0.12, 0.1, bw * 0.8, bw * 0.9], [0, 0.05, hb - bowl_depth * 0.7, hb - bowl_depth * 0.6], 16,
                   scale_xy=(1.2, 1.0)))  # pedestal
    P.append(xform([torus((0, 0, 0), 1.0, 0.12, res=(24, 6))], np.diag([bl * 0.9, bw * 0.9, bw * 0.9]), t=(0, 0, hb + 0.02))[0])
    tank = R.p(0.85)
    if tank:
        th, tw = R.u(0.3, 0.45), R.u(0.4, 0.5)
        P.append(box((-bl - 0.08, 0, hb + th / 2 - 0.05), (0.18, tw, th)))
        P.append(box((-bl - 0.08, 0, hb + th - 0.04), (0.2, tw + 0.02, 0.03)))
    if R.p(0.5):  # lid up
        lid = [xform([lathe([0, 1, 1, 0], [0, 0, 0.02, 0.02], 20, scale_xy=(bl * 0.95, bw * 0.95))], rot_y(-np.pi / 2 + 0.15))[0]]
        P += xform(lid, t=(-bl * 0.95 + 0.02, 0, hb + bl * 0.95 + 0.03))
    else:
        P.append(lathe([0, 1, 1, 0], [0, 0, 0.02, 0.02], 20, scale_xy=(bl * 0.95, bw * 0.95)))
        P[-1] = xform([P[-1]], t=(0, 0, hb + 0.04))[0]
    return xform(P, t=(bl, 0, 0))


def _range_hood(R: Rand) -> list[Mesh]:
    W, D = R.u(0.6, 0.9), R.u(0.45, 0.55)
    hb, hs = R.u(0.04, 0.1), R.u(0.12, 0.3)
    cw, cd = W * R.u(0.25, 0.4), D * R.u(0.4, 0.6)
    ch = R.u(0.4, 0.8)
    oy = D / 2 - cd / 2 if R.p(0.5) else 0.0  # chimney against the wall or centred
    P = [box((0, 0, hb / 2), (W, D, hb)), frustum((W, D), (cw, cd), hb, hb + hs, top_offset=(0, oy)),
         box((0, oy, hb + hs + ch / 2), (cw, cd, ch))]
    if R.p(0.4):  # controls
        P.append(boxes([(x, -D / 2 - 0.005, hb / 2) for x in np.linspace(-W * 0.3, W * 0.3, 4)], (0.03, 0.01, 0.02)))
    return P


def _door(R: Rand) -> list[Mesh]:
    W, H, T = R.u(0.75, 1.0), R.u(1.9, 2.2), R.u(0.035, 0.05)
    P = [box((0, 0, H / 2), (W, T, H))]
    if R.p(0.6):  # frame
        f = R.u(0.05, 0.09)
        P += [box((-(W / 2 + f / 2), 0, (H + f) / 2), (f, T * 2.2, H + f)),
              box((W / 2 + f / 2, 0, (H + f) / 2), (f, T * 2.2, H + f)),
              box((0, 0, H + f / 2), (W + 2 * f, T * 2.2, f))]
    if R.p(0.5):  # raised panels
        rows = R.i(2, 3)
        cols = R.i(1, 2)
        P += fronts(-W / 2 + 0.08, W / 2 - 0.08, 0.1, H - 0.1, -T / 2, rows, cols, knob="none", gap=0.08)
    side = R.pick([-1, 1])
    zk = R.u(0.95, 1.05)
    for y in (-T / 2 - 0.03, T / 2 + 0.03):
        if R.p(0.5):
            P.append(sphere((side * (W / 2 - 0.08), y, zk), (0.03, 0.03, 0.03), 8))
        else:
            P.append(box((side * (W / 2 - 0.14), y, zk), (0.13, 0.02, 0.02)))
    return P


def _curtain(R: Rand) -> list[Mesh]:
    W, H = R.u(1.5, 3.0), R.u(1.8, 2.6)
    a, lam = R.u(0.03, 0.08), R.u(0.15, 0.35)
    phi = R.u(0, 2 * np.pi)
    panels = [(-W / 2, W / 2)]
    if R.p(0.5):
        g = R.u(0.05, 0.4) * W
        panels = [(-W / 2, -g / 2), (g / 2, W / 2)]
    P: list[Mesh] = []
    for x0, x1 in panels:
        x, zz = np.meshgrid(np.linspace(x0, x1, 48), np.linspace(0, H, 10), indexing="ij")
        y = a * np.sin(2 * np.pi * x / lam + phi) * (1 + 0.5 * (1 - zz / H))
        P.append(sheet(x, y, zz))
    P.append(cyl((-W * 0.55, 0, H + 0.04), (W * 0.55, 0, H + 0.04), 0.015, 10))
    if R.p(0.5):
        for s in (-1, 1):
            P.append(sphere((s * W * 0.56, 0, H + 0.04), (0.035, 0.035, 0.035), 6))
    if R.p(0.25):  # valance
        P.append(box((0, -0.02, H - 0.1), (W * 1.05, 0.03, 0.25)))
    return P


def _stairs(R: Rand) -> list[Mesh]:
    n = R.i(4, 12)
    rise, run, W = R.u(0.15, 0.2), R.u(0.25, 0.32), R.u(0.8, 1.5)
    P: list[Mesh] = []
    if R.p(0.6):  # solid steps
        P.append(boxes([(k * run + run / 2, 0, (k + 1) * rise / 2) for k in range(n)], [(run, W, (k + 1) * rise) for k in range(n)]))
    else:  # treads on stringers
        P.append(boxes([(k * run + run / 2, 0, (k + 1) * rise - 0.02) for k in range(n)], (run * 1.05, W, 0.04)))
        for s in (-1, 1):
            a = math.atan2(rise, run)
            ls = math.hypot(n * run, n * rise)
            P += xform([box((ls / 2, s * W / 2, 0), (ls, 0.05, 0.2))], rot_y(-a))
    if R.p(0.5):  # railing
        hr = R.u(0.8, 1.0)
        sides = [1, -1] if R.p(0.5) else [1]
        for s in sides:
            ks = range(0, n, max(1, n // 4))
            for k in ks:
                P.append(cyl((k * run + run / 2, s * W / 2, (k + 1) * rise), (k * run + run / 2, s * W / 2, (k + 1) * rise + hr), 0.02, 8))
            P.append(cyl((run / 2, s * W / 2, rise + hr), ((n - 0.5) * run, s * W / 2, n * rise + hr), 0.025, 8))
    return P


def _mantel(R: Rand) -> list[Mesh]:
    W, H, D = R.u(1.2, 2.0), R.u(1.0, 1.4), R.u(0.2, 0.4)
    ow = W * R.u(0.45, 0.65)
    oh = H * R.u(0.55, 0.75)
    pw = (W - ow) / 2
    P = [box((-(ow / 2 + pw / 2), 0, oh / 2), (pw, D, oh)), box((ow / 2 + pw / 2, 0, oh / 2), (pw, D, oh)),
         box((0, 0, oh + (H - oh) / 2), (W, D, H - oh))]
    P.append(box((0, 0, H + 0.025), (W * R.u(1.05, 1.15), D * 1.3, 0.05)))
    if R.p(0.6):  # fire-box back wall
        P.append(box((0, D / 2 - 0.02, oh / 2), (ow, 0.04, oh)))
    if R.p(0.5):  # hearth
        P.append(box((0, -D * 0.4, 0.025), (W * 1.05, D * 1.6, 0.05)))
    if R.p(0.4):  # things on the shelf
        for _ in range(R.i(1, 3)):
            x = R.u(-W * 0.4, W * 0.4)
            if R.p(0.5):
                P.append(box((x, 0, H + 0.05 + 0.08), (0.08, 0.08, 0.16)))
            else:
                P.append(sphere((x, 0, H + 0.05 + 0.07), (0.06, 0.06, 0.07), 8))
    return P


#: class name -> recipe, for the classes of this theme
RECIPES: dict[str, Recipe] = {
    "bathtub": _bathtub, "sink": _sink, "toilet": _toilet, "range_hood": _range_hood, "door": _door,
    "curtain": _curtain, "stairs": _stairs, "mantel": _mantel,
}
