"""Vehicles, people and outdoor things: airplane, car, person, tent, (traffic) cone."""
from __future__ import annotations

import math

import numpy as np

from ...mesh import Mesh, box, cone, cyl, extrude, lathe, sphere, xform
from .parts import Rand, Recipe

__all__ = ["RECIPES"]


def _airplane(R: Rand) -> list[Mesh]:
    L = R.u(3.0, 5.0)
    rad = L * R.u(0.045, 0.07)
    xn, xt = L * 0.32, -L * 0.42
    P = [cyl((xt, 0, 0), (xn, 0, 0), rad, 16),
         cone((xn, 0, 0), (xn + L * R.u(0.08, 0.16), 0, -rad * 0.2), rad, 16),
         cone((xt, 0, 0), (xt - L * R.u(0.12, 0.2), 0, rad * 0.55), rad, 16)]
    span = L * R.u(0.8, 1.2) / 2
    chord = L * R.u(0.12, 0.2)
    sweep = span * R.u(0.0, 0.6)
    taper = R.u(0.3, 0.7)
    zw = R.pick([-0.55, 0.0, 0.6]) * rad
    xle = L * R.u(0.02, 0.15)
    th = chord * 0.08
    for s in (-1, 1):
        poly = [(xle, 0), (xle - chord, 0), (xle - sweep - chord * taper, s * span), (xle - sweep, s * span)]
        P.append(extrude(poly, zw - th / 2, zw + th / 2))
    if R.p(0.7):  # engines under the wings
        re_ = rad * R.u(0.35, 0.5)
        ys = [0.35] if R.p(0.7) else [0.3, 0.62]
        for s in (-1, 1):
            for f in ys:
                y = s * span * f
                x0 = xle - sweep * f
                P.append(cyl((x0 - chord * 0.5, y, zw - re_ * 1.3), (x0 + chord * 0.5, y, zw - re_ * 1.3), re_, 12))
    # tail
    fin_h = rad * R.u(1.8, 3.0)
    ct = chord * R.u(0.6, 0.9)
    xf = xt - L * 0.05
    fin = [(xf + ct * 0.3, 0), (xf - ct * 0.8, 0), (xf - ct * 1.1, fin_h + rad), (xf - ct * 0.5, fin_h + rad)]
    P.append(extrude([(x, z + rad * 0.3) for x, z in fin], -th / 2, th / 2, axis="y"))
    t_tail = R.p(0.25)
    zt = rad * 0.3 + fin_h + rad if t_tail else rad * 0.3
    xs = xf - ct * (0.9 if t_tail else 0.2)
    span_t = span * R.u(0.3, 0.42)
    for s in (-1, 1):
        poly = [(xs + ct * 0.3, 0), (xs - ct * 0.6, 0), (xs - ct * 0.9, s * span_t), (xs - ct * 0.3, s * span_t)]
        P.append(extrude(poly, zt - th / 2, zt + th / 2))
    return P


def _car(R: Rand) -> list[Mesh]:
    L = R.u(3.8, 4.8)
    W = L * R.u(0.38, 0.45)
    rw = R.u(0.3, 0.38)
    c = rw * R.u(0.5, 0.8)
    hb = R.u(0.45, 0.6)
    body = [(-L / 2, c), (L / 2, c), (L / 2, c + hb * 0.75), (L / 2 - L * 0.1, c + hb),
            (-L / 2 + L * 0.04, c + hb), (-L / 2, c + hb * 0.85)]
    P = [extrude(body, -W / 2, W / 2, axis="y")]
    kind = R.pick(["sedan", "suv", "van", "pickup"], [0.5, 0.25, 0.12, 0.13])
    hc = R.u(0.4, 0.5) if kind == "sedan" else R.u(0.55, 0.75)
    if kind == "van":
        x0, x1 = -L / 2 + 0.05, L / 2 - L * 0.18
    elif kind == "pickup":
        x0, x1 = -L * 0.05, L / 2 - L * 0.25
    else:
        x0 = -L / 2 + L * R.u(0.1, 0.2)
        x1 = x0 + L * R.u(0.42, 0.55)
    back = 0.05 * L if kind in ("van", "pickup", "suv") else L * R.u(0.08, 0.15)
    cab = [(x0, c + hb), (x1, c + hb), (x1 - L * R.u(0.08, 0.14), c + hb + hc), (x0 + back, c + hb + hc)]
    P.append(extrude(cab, -W * 0.42, W * 0.42, axis="y"))
    if kind == "pickup":  # bed walls
        for s in (-1, 1):
            P.append(box(((x0 - L / 2) / 2, s * (W / 2 - 0.03), c + hb + 0.12), (x0 + L / 2, 0.06, 0.24)))
    xs = (-L * R.u(0.28, 0.35), L * R.u(0.28, 0.35))
    for x in xs:
        for sy in (-1, 1):
            y = sy * (W / 2 - 0.05)
            P.append(cyl((x, y - 0.11, rw), (x, y + 0.11, rw), rw, 16))
    return P


def _person(R: Rand) -> list[Mesh]:
    H = R.u(1.6, 1.9)
    hr = 0.065 * H
    P = [sphere((0, 0, H - hr), (hr * 0.9, hr * 0.85, hr), 10),
         cyl((0, 0, 0.8 * H), (0, 0, H - 1.8 * hr), 0.025 * H, 8)]
    sw = R.u(0.1, 0.13) * H
    P.append(sphere((0, 0, 0.665 * H), (0.06 * H, sw, 0.16 * H), 12))  # torso
    hip = 0.5 * H
    stride = R.u(-0.12, 0.12) * H
    for s in (-1, 1):
        y = s * 0.055 * H
        foot = np.array([s * stride / 2, y + s * R.u(0, 0.04) * H, 0.03 * H])
        knee = np.array([foot[0] / 2 + R.u(0, 0.04) * H, y, 0.27 * H])
        P += [cyl((0, y, hip + 0.03 * H), knee, 0.045 * H, 10), cyl(knee, foot, 0.037 * H, 10),
              box((foot[0] + 0.04 * H, foot[1], 0.015 * H), (0.14 * H, 0.055 * H, 0.03 * H))]
        sh = np.array([0, s * (sw + 0.01 * H), 0.8 * H])
        raise_ = R.p(0.2)
        a = R.u(2.2, 2.9) if raise_ else R.u(0.05, 0.6)
        d = np.array([R.u(-0.3, 0.3), s * math.sin(a), -math.cos(a)])
        d /= np.linalg.norm(d)
        el = sh + d * 0.17 * H
        bend = np.array([R.u(0, 0.6), 0, 0])
        d2 = d + bend
        d2 /= np.linalg.norm(d2)
        hand = el + d2 * 0.16 * H
        P += [cyl(sh, el, 0.03 * H, 8), cyl(el, hand, 0.025 * H, 8), sphere(hand, (0.03 * H,) * 3, 6),
              sphere(sh, (0.035 * H,) * 3, 6)]
    return P


def _tent(R: Rand) -> list[Mesh]:
    kind = R.pick(["ridge", "dome", "pyramid"], [0.4, 0.35, 0.25])
    P: list[Mesh] = []
    if kind == "ridge":
        L, W, H = R.u(1.8, 3.0), R.u(1.2, 2.2), R.u(0.9, 1.6)
        P.append(extrude([(-W / 2, 0), (W / 2, 0), (0, H)], -L / 2, L / 2, axis="x"))
        if R.p(0.5):  # poles at the ends
            for s in (-1, 1):
                P.append(cyl((s * (L / 2 + 0.05), 0, 0), (s * (L / 2 + 0.05), 0, H + 0.15), 0.015, 6))
    elif kind == "dome":
        Rr, H = R.u(0.9, 1.6), R.u(0.9, 1.4)
        t = np.linspace(0, np.pi / 2, 10)
        P.append(lathe(np.concatenate([[0], np.cos(t)]), np.concatenate([[0], np.sin(t)]), 24,
                       scale_xy=(Rr * R.u(1.0, 1.3), Rr)))
        P = xform(P, np.diag([1.0, 1.0, H]))
        if R.p(0.5):  # vestibule
            P.append(cone((Rr * 0.7, 0, 0), (Rr * 1.3, 0, 0), H * 0.5, 12))
    else:
        B, H = R.u(1.5, 2.5), R.u(1.2, 2.2)
        k = R.pick([4, 6])
        P.append(cone((0, 0, 0), (0, 0, H), B / 2, k))
        P.append(cyl((0, 0, 0), (0, 0, H + 0.2), 0.02, 6))
    return P


def _cone(R: Rand) -> list[Mesh]:
    H = R.u(0.5, 1.0)
    r = H * R.u(0.2, 0.45)
    P: list[Mesh] = []
    z0 = 0.0
    if R.p(0.3):  # traffic-cone base plate
        b = r * R.u(1.05, 1.25)
        z0 = H * 0.04
        P.append(box((0, 0, z0 / 2), (2 * b, 2 * b, z0)))
    if R.p(0.3):  # truncated
        rt = r * R.u(0.1, 0.25)
        P.append(lathe([0, r, rt, 0], [z0, z0, z0 + H, z0 + H], 24))
    else:
        P.append(cone((0, 0, z0), (0, 0, z0 + H), r, 24))
    return P


#: class name -> recipe, for the classes of this theme
RECIPES: dict[str, Recipe] = {
    "airplane": _airplane, "car": _car, "person": _person, "tent": _tent, "cone": _cone,
}
