"""Traffic and people: vehicle and person recipes, parked cars, moving traffic, pedestrians.

Raw ids follow SemanticKITTI: a moving object gets the ``moving-*`` id (252..259) and a
velocity, a parked one the static id; both map to the same train class.
"""
from __future__ import annotations

import numpy as np

from ...mesh import cyl
from .layout import Street
from .shapes import blob, span, wheel
from .world import GLASS, METAL, RUBBER, WOOD, Part, World

__all__ = ["car", "truck", "bus", "person", "bicycle", "motorcycle", "cyclist",
           "add_parked", "add_sidewalk_people", "add_traffic", "add_cross_queue"]


def car(rng: np.random.Generator, raw: int) -> list[Part]:
    """Sedan, hatchback or van: body, glass cabin, roof, four wheels; length <= 4.9 m."""
    L, W = rng.uniform(3.8, 4.9), rng.uniform(1.68, 1.92)
    kind = rng.choice(["sedan", "hatch", "van"], p=[0.55, 0.3, 0.15])
    z0, zb = 0.28, rng.uniform(0.9, 1.05)
    zt = zb + (rng.uniform(0.75, 0.95) if kind == "van" else rng.uniform(0.4, 0.55))
    paint = float(rng.choice([0.08, 0.15, 0.3, 0.5, 0.7], p=[0.25, 0.2, 0.2, 0.2, 0.15]))
    cab0, cab1 = {"sedan": (-0.3, 0.2), "hatch": (-0.45, 0.15), "van": (-0.48, 0.3)}[kind]
    parts = [
        (span(-L / 2, L / 2, -W / 2, W / 2, z0, zb), raw, METAL, paint),
        (span(cab0 * L, cab1 * L, -0.45 * W, 0.45 * W, zb, zt - 0.04), raw, GLASS, None),
        (span(cab0 * L + 0.08, cab1 * L - 0.08, -0.44 * W, 0.44 * W, zt - 0.05, zt), raw, METAL, paint),
    ]
    for sx in (-0.32 * L, 0.32 * L):
        for sy in (-W / 2 + 0.12, W / 2 - 0.12):
            parts.append((wheel(0.32, 0.22, sx, 0.32, sy), raw, RUBBER, None))
    return parts


def truck(rng: np.random.Generator, raw: int) -> tuple[list[Part], float]:
    """Box truck (cab in front at +x); returns the parts and the overall length."""
    Lc, W = rng.uniform(6.0, 9.0), 2.5
    cab = rng.uniform(1.9, 2.4)
    H = rng.uniform(3.2, 3.9)
    paint = float(rng.uniform(0.3, 0.8))
    parts = [
        (span(Lc / 2 - 0.1, Lc / 2 + cab, -W / 2 + 0.05, W / 2 - 0.05, 0.5, 2.2), raw, METAL, paint),
        (span(Lc / 2 + 0.2, Lc / 2 + cab + 0.02, -W / 2 + 0.1, W / 2 - 0.1, 2.2, 2.95), raw, GLASS, None),
        (span(-Lc / 2, Lc / 2 - 0.2, -W / 2, W / 2, 0.9, H), raw, METAL, paint),
        (span(-Lc / 2, Lc / 2 + cab - 0.2, -0.6, 0.6, 0.45, 0.9), raw, METAL, 0.2),
    ]
    for sx in (-Lc / 2 + 1.0, -Lc / 2 + 2.2, Lc / 2 + cab - 0.8):
        for sy in (-W / 2 + 0.2, W / 2 - 0.2):
            parts.append((wheel(0.48, 0.35, sx, 0.48, sy), raw, RUBBER, None))
    return parts, Lc + cab


def bus(rng: np.random.Generator, raw: int) -> tuple[list[Part], float]:
    """City bus with a band of windows; returns the parts and the length."""
    L, W, H = rng.uniform(11.0, 13.0), 2.55, rng.uniform(3.0, 3.3)
    paint = float(rng.uniform(0.4, 0.8))
    parts = [
        (span(-L / 2, L / 2, -W / 2, W / 2, 0.35, 1.15), raw, METAL, paint),
        (span(-L / 2 + 0.1, L / 2 - 0.1, -W / 2 + 0.02, W / 2 - 0.02, 1.15, 2.4), raw, GLASS, None),
        (span(-L / 2, L / 2, -W / 2, W / 2, 2.4, H), raw, METAL, paint),
    ]
    for sx in (-L / 2 + 2.5, L / 2 - 2.5):
        for sy in (-W / 2 + 0.2, W / 2 - 0.2):
            parts.append((wheel(0.5, 0.3, sx, 0.5, sy), raw, RUBBER, None))
    return parts, L


def person(rng: np.random.Generator, raw: int, seated_hip: float | None = None) -> list[Part]:
    """A standing person, or one seated with the hip at ``seated_hip`` (riders), facing +x."""
    h = rng.uniform(1.55, 1.92)
    cloth = float(rng.uniform(0.1, 0.6))
    s = h / 1.75
    parts = []
    if seated_hip is not None:
        zh = seated_hip
        parts += [(span(0.0, 0.45, -0.17, -0.05, zh - 0.55, zh), raw, WOOD, cloth),
                  (span(0.0, 0.45, 0.05, 0.17, zh - 0.55, zh), raw, WOOD, cloth)]
        torso_x, arm_x = 0.12, 0.27
    else:
        zh = 0.9 * s
        for sy in (-0.1, 0.1):
            parts.append((cyl((0, sy, 0.0), (0, sy, zh), 0.075 * s, 8), raw, WOOD, cloth))
        torso_x = arm_x = 0.0
    parts.append((cyl((torso_x, 0, zh), (torso_x, 0, zh + 0.6 * s), 0.17 * s, 8), raw, WOOD, cloth))
    for sy in (-0.23 * s, 0.23 * s):
        parts.append((cyl((arm_x, sy, zh + 0.05), (arm_x, sy, zh + 0.55 * s), 0.05 * s, 6), raw, WOOD, cloth))
    head = blob(rng, (torso_x, 0, zh + 0.6 * s + 0.13 * s), (0.11 * s, 0.1 * s, 0.13 * s), 0.02)
    parts.append((head, raw, WOOD, 0.25))
    return parts


def bicycle(raw: int, paint: float = 0.4, r: float = 0.34) -> list[Part]:
    """Two thin wheels, frame, seat post, fork and handlebar."""
    parts = [(wheel(r, 0.04, -0.52, r, res=12), raw, RUBBER, 0.12), (wheel(r, 0.04, 0.52, r, res=12), raw, RUBBER, 0.12)]
    parts += [
        (span(-0.52, 0.45, -0.02, 0.02, r + 0.05, r + 0.1), raw, METAL, paint),
        (span(-0.15, -0.08, -0.02, 0.02, r, 0.95), raw, METAL, paint),
        (span(0.42, 0.5, -0.02, 0.02, r, 1.05), raw, METAL, paint),
        (span(0.4, 0.52, -0.28, 0.28, 1.0, 1.05), raw, METAL, paint),
        (span(-0.25, 0.0, -0.07, 0.07, 0.93, 0.98), raw, METAL, 0.1),
    ]
    return parts


def motorcycle(raw: int, paint: float = 0.4) -> list[Part]:
    """Two wheels, body, seat and handlebar."""
    parts = [(wheel(0.31, 0.12, -0.7, 0.31, res=12), raw, RUBBER, None),
             (wheel(0.31, 0.12, 0.7, 0.31, res=12), raw, RUBBER, None)]
    parts += [(span(-0.6, 0.55, -0.2, 0.2, 0.35, 0.85), raw, METAL, paint),
              (span(-0.75, 0.0, -0.16, 0.16, 0.85, 0.95), raw, METAL, 0.1),
              (span(0.55, 0.65, -0.35, 0.35, 0.9, 1.05), raw, METAL, paint)]
    return parts


def cyclist(rng: np.random.Generator, raw: int, motor: bool = False) -> list[Part]:
    """A rider on a bicycle (``motor``: motorcycle); rider and vehicle share the raw id, as in SemanticKITTI."""
    paint = float(rng.uniform(0.2, 0.7))
    parts = motorcycle(raw, paint) if motor else bicycle(raw, paint)
    return parts + person(rng, raw, seated_hip=0.95)


def add_parked(w: World, rng: np.random.Generator, st: Street, s: int) -> None:
    """Cars (mostly), trucks, vans and motorcycles parked in side ``s``'s parking band, with gaps."""
    P = st.park[s]
    if P <= 0:
        return
    for u, v in st.segs(st.xlo - 8, st.xhi + 8):
        x = u + rng.uniform(0.5, 4)
        while x < v - 5:
            r = rng.random()
            if r < 0.65:
                parts, L = car(rng, 10), 4.8
            elif r < 0.72:
                parts, L = truck(rng, 18)
            elif r < 0.735:
                parts, L = bus(rng, 20)  # a parked coach: other-vehicle
            elif r < 0.8:
                parts, L = motorcycle(15, float(rng.uniform(0.2, 0.7))), 2.0
            else:
                parts, L = None, rng.uniform(3, 8)  # an empty bay
            if parts is not None:
                y = s * (st.half_width + P / 2 + rng.normal(0, 0.1))
                yaw = rng.normal(0, 0.03) + (0 if rng.random() < 0.5 else np.pi)
                w.add_object(parts, x + L / 2, y, yaw)
            x += L + rng.uniform(0.6, 2.0)


def add_sidewalk_people(w: World, rng: np.random.Generator, st: Street, s: int, u: float, v: float) -> None:
    """Pedestrians (60 % walking along the street) and parked bicycles/motorcycles on the sidewalk piece [u, v]."""
    yc, ys, hc = st.curb(s), st.lot_line(s), st.curb_h
    n_ped = rng.poisson((v - u) / {"urban": 12, "residential": 30, "rural": 80}[st.style])
    for _ in range(n_ped):
        moving = rng.random() < 0.6
        vx = (rng.uniform(0.8, 1.6) * (1 if rng.random() < 0.5 else -1)) if moving else 0.0
        yaw = 0.0 if vx >= 0 else np.pi
        w.add_object(person(rng, 254 if moving else 30), rng.uniform(u, v), s * rng.uniform(yc + 0.6, ys - 0.4),
                     yaw, hc, (vx, 0.0))
    for _ in range(rng.poisson((v - u) / 40)):
        if rng.random() < 0.8:
            parts = bicycle(11, float(rng.uniform(0.2, 0.7)))
        else:
            parts = motorcycle(15, float(rng.uniform(0.2, 0.7)))
        x, y = rng.uniform(u, v), s * rng.uniform(yc + 0.5, ys - 0.4)
        yaw = rng.uniform(-0.3, 0.3) + (np.pi / 2 if rng.random() < 0.3 else 0)
        w.add_object(parts, x, y, yaw, hc)


def add_traffic(w: World, rng: np.random.Generator, st: Street, ego_x: tuple[float, float], ego_v: float) -> None:
    """Vehicles in every lane (70 % moving), keeping the ego lane clear around the drive and
    the crossing clear; now and then a cyclist at a lane's right edge."""
    for yl in st.lanes:
        direction = 1 if yl < 0 else -1
        in_ego = abs(yl - st.ego_lane) < 0.1
        x = st.xa + rng.uniform(0, 15)
        while x < st.xb:
            gap = rng.uniform(8, 40)
            if in_ego and ego_x[0] - 14 < x < ego_x[1] + 12:
                x = ego_x[1] + 12 + rng.uniform(0, 10)
                continue
            if st.cross and st.xlo - 6 < x < st.xhi + 6:
                x = st.xhi + 6
                continue
            moving = rng.random() < 0.7
            vel = (ego_v if in_ego else rng.uniform(6, 15)) * direction if moving else 0.0
            r = rng.random()
            if r < 0.8:
                parts, L = car(rng, 252 if moving else 10), 4.8
            elif r < 0.9:
                parts, L = truck(rng, 258 if moving else 18)
            elif r < 0.95:
                parts, L = bus(rng, 257 if moving else 13)
            else:
                parts, L = cyclist(rng, 255 if moving else 32, motor=True), 2.0
            yaw = 0.0 if direction > 0 else np.pi
            w.add_object(parts, x + L / 2, yl + rng.normal(0, 0.15), yaw + rng.normal(0, 0.01), 0.0, (vel, 0.0))
            x += L + gap
        if rng.random() < 0.5:
            xcy = rng.uniform(st.xa, st.xb)
            if not (in_ego and ego_x[0] - 10 < xcy < ego_x[1] + 10):
                mv = rng.random() < 0.8
                w.add_object(cyclist(rng, 253 if mv else 31), xcy, yl - direction * (st.lane_w / 2 - 0.7),
                             0.0 if direction > 0 else np.pi, 0.0, (direction * rng.uniform(3, 6) if mv else 0.0, 0.0))


def add_cross_queue(w: World, rng: np.random.Generator, st: Street) -> None:
    """Up to two cars on each side waiting on the cross street to enter."""
    if not st.cross:
        return
    for s in (-1, 1):
        yq = st.curb(s) + rng.uniform(3, 6)
        for k in range(int(rng.integers(0, 3))):
            w.add_object(car(rng, 10), st.xc - s * st.cross_half / 2, s * (yq + k * 6.0 + 2.4), -s * np.pi / 2)
