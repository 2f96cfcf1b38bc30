"""Vessels and potted plants, mostly surfaces of revolution: bottle, bowl, cup, vase, flower pot, plant."""
from __future__ import annotations

import math

import numpy as np

from ...mesh import Mesh, align_z, catmull, cyl, lathe, sphere, tube, xform
from .parts import Rand, Recipe

__all__ = ["RECIPES"]


def _bottle(R: Rand) -> list[Mesh]:
    H = R.u(0.2, 0.35)
    rb = H * R.u(0.12, 0.2)
    rn = rb * R.u(0.25, 0.45)
    hb = H * R.u(0.4, 0.65)
    hs = H * R.u(0.08, 0.22)
    lip = H * 0.03
    ctrl = [(rb * 0.9, 0), (rb, hb * 0.15), (rb, hb), ((rb + rn) * 0.55, hb + hs * 0.6), (rn, hb + hs),
            (rn, H - lip * 2), (rn * 1.25, H - lip), (rn * 1.1, H)]
    c = catmull(ctrl, 5)
    r = np.concatenate([[0], np.clip(c[:, 0], 0, None), [0]])
    z = np.concatenate([[0], c[:, 1], [H]])
    square = R.p(0.2)
    P = [lathe(r, z, 4 if square else 24, math.pi / 4 if square else 0.0)]
    if R.p(0.5):  # cap
        hc = H * R.u(0.04, 0.08)
        P.append(cyl((0, 0, H - lip), (0, 0, H + hc), rn * 1.3, 16))
    return P


def _bowl(R: Rand) -> list[Mesh]:
    Rr = R.u(0.1, 0.15)
    h = Rr * R.u(0.35, 0.7)
    th = Rr * R.u(0.03, 0.07)
    t = np.linspace(0.0, np.pi / 2, 10)
    ro, zo = Rr * np.sin(t), h * (1 - np.cos(t))
    ri, zi = (Rr - th) * np.sin(t)[::-1], (th + (h - th) * (1 - np.cos(t)))[::-1]
    r, z = np.concatenate([ro, ri]), np.concatenate([zo, zi])
    if R.p(0.3):  # flared lip
        r = np.concatenate([ro, [Rr * 1.1, Rr * 1.1 - th], ri])
        z = np.concatenate([zo, [h + th, h + th], zi])
    P = [lathe(r, z, 28)]
    if R.p(0.6):  # foot ring
        fr = Rr * R.u(0.3, 0.5)
        fh = h * R.u(0.1, 0.2)
        P.append(lathe([fr * 0.9, fr, fr, fr - th, fr - th], [0, 0, fh, fh, 0], 24))
        P = xform(P[:1], t=(0, 0, fh * 0.9)) + P[1:]
    return P


def _cup(R: Rand) -> list[Mesh]:
    H = R.u(0.08, 0.14)
    Rt = H * R.u(0.32, 0.6)
    Rb = Rt * R.u(0.7, 1.0)
    t = Rt * 0.08
    r = [0, Rb, (Rb + Rt) / 2 * R.u(1.0, 1.06), Rt, Rt - t, Rb - t, 0]
    z = [0, 0, H / 2, H, H, t, t]
    P = [lathe(r, z, 28)]
    if R.p(0.75):  # handle
        zc = H * R.u(0.45, 0.55)
        hz = H * R.u(0.25, 0.35)
        hx = H * R.u(0.2, 0.35)
        s = np.linspace(0, np.pi, 12)
        zz = zc + hz * np.cos(s)
        xx = Rb + (Rt - Rb) * zz / H - t + hx * np.sin(s)
        P.append(tube(np.column_stack([xx, np.zeros_like(xx), zz]), t * R.u(0.7, 1.2), 8))
    if R.p(0.15):  # saucer
        P.append(lathe([0, Rt * 1.6, Rt * 1.6, 0], [-0.006, -0.003, 0.0, 0.0], 28))
    return P


def _vase(R: Rand) -> list[Mesh]:
    H = R.u(0.25, 0.6)
    Rm = H * R.u(0.16, 0.35)
    rb = Rm * R.u(0.45, 0.8)
    zmax = R.u(0.2, 0.6)
    zn = R.u(max(zmax + 0.15, 0.65), 0.88)
    rneck = Rm * R.u(0.3, 0.7)
    rlip = rneck * R.u(1.0, 1.8)
    ctrl = [(rb, 0), (Rm * 0.9, zmax * H * 0.5), (Rm, zmax * H), ((Rm + rneck) / 2, (zmax + zn) / 2 * H),
            (rneck, zn * H), (rlip, H)]
    c = catmull(ctrl, 6)
    t = max(0.006, Rm * 0.04)
    inner = np.column_stack([np.clip(c[::-1, 0] - t, 0, None), c[::-1, 1]])
    inner = inner[inner[:, 1] >= zn * H - 1e-9]
    r = np.concatenate([[0], np.clip(c[:, 0], 0, None), inner[:, 0], [0]])
    z = np.concatenate([[0], c[:, 1], inner[:, 1], [inner[-1, 1]]])
    square = R.p(0.12)
    P = [lathe(r, z, 4 if square else 28, math.pi / 4 if square else 0.0)]
    if R.p(0.25):  # foot
        P = xform(P, t=(0, 0, H * 0.05))
        P.append(lathe([0, rb * 0.9, rb * 0.7, 0], [0, 0, H * 0.05, H * 0.05], 24))
    if R.p(0.2):  # handles (amphora)
        for s in (-1, 1):
            a = np.linspace(0, np.pi, 10)
            z0, z1 = zn * H, (zmax + zn) / 2 * H
            zz = (z0 + z1) / 2 + (z0 - z1) / 2 * np.cos(a)
            xx = s * (np.interp(zz, c[:, 1], c[:, 0]) - t + Rm * 0.35 * np.sin(a))
            P.append(tube(np.column_stack([xx, np.zeros(10), zz]), t * 1.5, 6))
    return P


def _pot(R: Rand, Rt: float, Hp: float) -> list[Mesh]:
    """A tapered pot (a shell of revolution, optionally with a rolled lip) with a soil disc."""
    Rb = Rt * R.u(0.6, 0.85)
    t = Rt * 0.07
    if R.p(0.5):  # up the outside, round the lip, down the inside
        r = [0, Rb, Rt * 0.98, Rt * 1.08, Rt * 1.08, Rt - t, Rb - t, 0]
        z = [0, 0, Hp * 0.88, Hp * 0.88, Hp, Hp, t, t]
    else:
        r = [0, Rb, Rt, Rt - t, Rb - t, 0]
        z = [0, 0, Hp, Hp, t, t]
    square = R.p(0.2)
    P = [lathe(r, z, 4 if square else 24, math.pi / 4 if square else 0.0)]
    P.append(lathe([0, Rt - t * 1.5, 0], [Hp * 0.85, Hp * 0.85, Hp * 0.85], 16))  # soil disc
    return P


def _foliage(R: Rand, zb: float, height: float, spread: float, n: int, leaf: float) -> list[Mesh]:
    P: list[Mesh] = []
    cs, rs, rots = [], [], []
    for _ in range(n):
        a = R.u(0, 2 * np.pi)
        rad = spread * math.sqrt(R.u(0.05, 1.0))
        top = np.array([rad * math.cos(a), rad * math.sin(a), zb + height * R.u(0.45, 1.0)])
        base = np.array([rad * 0.15 * math.cos(a), rad * 0.15 * math.sin(a), zb])
        P.append(cyl(base, top, leaf * 0.06, 6))
        for _ in range(R.i(1, 3)):
            d = np.array([math.cos(a + R.u(-1, 1)), math.sin(a + R.u(-1, 1)), R.u(-0.2, 1.0)])
            ll = leaf * R.u(0.6, 1.2)
            cs.append(top + d / np.linalg.norm(d) * ll * 0.5)
            rs.append((ll * R.u(0.2, 0.35), ll * 0.04, ll * 0.5))
            rots.append(align_z(d))
    for c, r, rot in zip(cs, rs, rots):
        P.append(sphere(c, r, 6, rot))
    return P


def _flower_pot(R: Rand) -> list[Mesh]:
    Rt = R.u(0.12, 0.22)
    Hp = Rt * R.u(1.4, 2.4)
    P = _pot(R, Rt, Hp)
    if R.p(0.7):  # a small plant: lower than the pot is tall
        P += _foliage(R, Hp * 0.85, Hp * R.u(0.3, 0.9), Rt * 0.7, R.i(2, 5), Rt * R.u(0.4, 0.7))
    return P


def _plant(R: Rand) -> list[Mesh]:
    Rt = R.u(0.1, 0.2)
    Hp = Rt * R.u(1.0, 1.8)
    P = _pot(R, Rt, Hp)
    if R.p(0.3):  # palm: trunk with a crown of long leaves
        th = Hp * R.u(2.0, 4.0)
        P.append(cyl((0, 0, Hp * 0.85), (0, 0, Hp + th), Rt * 0.12, 8))
        for k in range(R.i(6, 10)):
            a = 2 * np.pi * k / 10 + R.u(-0.2, 0.2)
            d = np.array([math.cos(a), math.sin(a), R.u(-0.4, 0.3)])
            ll = th * R.u(0.4, 0.6)
            top = np.array([0, 0, Hp + th])
            P.append(sphere(top + d / np.linalg.norm(d) * ll / 2, (ll * 0.12, ll * 0.02, ll / 2), 6, align_z(d)))
    else:
        hgt = Hp * R.u(1.5, 3.5)
        P += _foliage(R, Hp * 0.85, hgt, Rt * R.u(0.8, 1.8), R.i(8, 16), Rt * R.u(0.6, 1.1) + hgt * 0.15)
    return P


#: class name -> recipe, for the classes of this theme
RECIPES: dict[str, Recipe] = {
    "bottle": _bottle, "bowl": _bowl, "cup": _cup, "vase": _vase, "flower_pot": _flower_pot, "plant": _plant,
}
