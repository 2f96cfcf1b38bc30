"""Furniture: tables (desks against walls, conference / coffee / pantry tables in the
middle with their chairs), chairs, sofas and bookcases filled with books."""
from __future__ import annotations

import colorsys
import math

from ..labels import BOOKCASE, CHAIR, SOFA, TABLE
from .clutter import clutter_on
from .materials import (
    CARPET, LAMINATE_COLORS, METAL_COLORS, PLAIN, SOFA_COLORS, WOOD, WOOD_COLORS, jitter_color, material, pick,
)
from .room import Frame, Room, aabb_of


def table(room: Room, frame: Frame, a: float, b: float, z: float, color, legs: str = "legs") -> tuple[int, float]:
    """Table of a x b, top at height ``z``, centred at the frame; returns (obj, top z)."""
    s, obj = room.scene, room.scene.new_obj()
    pat = WOOD if color in WOOD_COLORS else PLAIN
    tm = material(TABLE, jitter_color(room.rng, color, 0.02), pat, 0.1, tex=0.05)
    lm = material(TABLE, pick(room.rng, METAL_COLORS), tex=0.03)
    s.box(frame(0, 0, z - 0.015), (a / 2, b / 2, 0.015), frame.yaw, tm, obj)
    lh = (z - 0.03) / 2
    if legs == "panel":
        for sg in (-1, 1):
            s.box(frame(sg * (a / 2 - 0.03), 0, lh), (0.015, b / 2 - 0.04, lh), frame.yaw, tm, obj,
                  faces=("-x", "+x", "-y", "+y"))
        s.box(frame(0, -b / 2 + 0.08, z - 0.2), (a / 2 - 0.05, 0.01, 0.16), frame.yaw, tm, obj, faces=("-y", "+y", "-z"))
    else:
        for sx in (-1, 1):
            for sy in (-1, 1):
                s.box(frame(sx * (a / 2 - 0.06), sy * (b / 2 - 0.06), lh), (0.022, 0.022, lh), frame.yaw, lm, obj,
                      faces=("-x", "+x", "-y", "+y"))
    return obj, z


def chair(room: Room, x: float, y: float, yaw: float, color=None, check: bool = True,
          style: str | None = None) -> bool:
    """Chair with its seat at (x, y), the sitter facing local -y; ``style`` 'office' or 'legs'."""
    rng, s = room.rng, room.scene
    bb = aabb_of((x, y), (0.3, 0.3), yaw)
    if check and not room.floor_free(bb, ignore=("table",), pad=0.0):
        return False
    room.floor.append((bb, "chair"))
    f = Frame([x, y, 0], yaw)
    obj = s.new_obj()
    cm = material(CHAIR, jitter_color(rng, color or room.chair_color, 0.02), CARPET, tex=0.05, noise=0.025)
    mm = material(CHAIR, pick(rng, METAL_COLORS), tex=0.03)
    sz = rng.uniform(0.44, 0.5)
    s.box(f(0, 0, sz), (0.23, 0.23, 0.035), yaw, cm, obj)
    s.box(f(0, 0.23, sz + 0.3), (0.22, 0.03, 0.24), yaw + rng.normal(0, 0.02), cm, obj)
    style = style or ("office" if rng.uniform() < 0.7 else "legs")
    if style == "office":
        s.cylinder(f(0, 0, 0.08), 0.025, sz - 0.115, mm, obj, top=False)
        for a in (0.0, math.pi / 2):
            s.box(f(0, 0, 0.05), (0.3, 0.025, 0.025), yaw + a + 0.3, mm, obj)
        if rng.uniform() < 0.6:
            for sg in (-1, 1):
                s.box(f(sg * 0.25, 0.0, sz + 0.2), (0.025, 0.15, 0.015), yaw, mm, obj)
                s.box(f(sg * 0.25, 0.05, sz + 0.1), (0.012, 0.012, 0.09), yaw, mm, obj, faces=("-x", "+x", "-y", "+y"))
    else:
        for sx in (-1, 1):
            for sy in (-1, 1):
                s.box(f(sx * 0.2, sy * 0.2, (sz - 0.035) / 2), (0.015, 0.015, (sz - 0.035) / 2), yaw, mm, obj,
                      faces=("-x", "+x", "-y", "+y"))
    return True


def desk(room: Room, force: bool = False) -> bool:
    """A desk against a wall with a monitor, keyboard and things on it, and a chair."""
    rng = room.rng
    a, b = rng.uniform(1.2, 1.7), rng.uniform(0.65, 0.8)
    slot = room.wall_slot(a, "low", depth=b + 0.02, force=force, tag="table")
    if slot is None:
        return False
    w, t = slot
    f = room.wall_frame(w, t, 0.01 + b / 2)
    color = pick(rng, WOOD_COLORS + LAMINATE_COLORS)
    _, z = table(room, f, a, b, rng.uniform(0.72, 0.76), color, legs="panel" if rng.uniform() < 0.5 else "legs")
    clutter_on(room, f, a, b, z, int(rng.integers(2, 6)), desk=True)
    for _ in range(3):  # chair in front of the desk, facing it
        ch = f(rng.uniform(-0.3, 0.3), b / 2 + rng.uniform(0.05, 0.4), 0)
        if chair(room, ch[0], ch[1], f.yaw + rng.normal(0, 0.35)):
            break
    return True


def center_table(room: Room, kind: str = "conference", force: bool = False) -> bool:
    """A table in the middle of the room: 'conference' (ringed by chairs), 'coffee' (low,
    no chairs) or 'pantry'; shrinks until it fits."""
    rng = room.rng
    along_x = room.W >= room.L
    long_, short = (room.W, room.L) if along_x else (room.L, room.W)
    if kind == "conference":
        a = rng.uniform(min(1.6, long_ - 2.0), max(min(1.6, long_ - 2.0), min(4.0, long_ - 2.0)))
        b = rng.uniform(0.9, min(1.4, max(0.9, short - 2.2)))
        z, ring = rng.uniform(0.72, 0.76), 0.7
    else:
        a, b = rng.uniform(0.8, 1.4), rng.uniform(0.6, 0.9)
        z, ring = (rng.uniform(0.4, 0.48), 0.3) if kind == "coffee" else (rng.uniform(0.72, 0.76), 0.7)
    a, b = max(a, 0.6), max(b, 0.5)
    yaw = 0.0 if along_x else math.pi / 2
    for shrink in (1.0, 0.8, 0.65, 0.5):  # smaller tables until one fits
        a, b = max(a * shrink, 0.6), max(b * (1 + shrink) / 2, 0.5)
        cx, cy = room.W / 2, room.L / 2  # prefer the middle of the room
        c = room.free_spot((a / 2 + ring, b / 2 + ring), yaw, tries=15, tag="table", margin=0.0,
                           region=(cx - 0.6, cy - 0.6, cx + 0.6, cy + 0.6))
        c = c or room.free_spot((a / 2 + ring, b / 2 + ring), yaw, tries=25, tag="table", margin=0.0)
        if c is not None:
            break
    if c is None:
        if not force:
            return False
        a, b, c = 0.8, 0.6, (room.W / 2, room.L / 2)
    else:
        room.floor.pop()  # keep the table itself, not its ring of chairs, as occupied
    room.floor.append((aabb_of(c, (a / 2, b / 2), yaw), "table"))
    f = Frame([c[0], c[1], 0], yaw)
    color = pick(rng, WOOD_COLORS + LAMINATE_COLORS)
    _, zt = table(room, f, a, b, z, color)
    clutter_on(room, f, a, b, zt, int(rng.integers(1, 3 + int(a))))
    if kind == "coffee":
        return True
    style = "office" if rng.uniform() < 0.6 else "legs"
    n_side = max(1, int(a // 0.7))
    for sy in (-1, 1):
        for k in range(n_side):
            if rng.uniform() < 0.15:
                continue
            x = -a / 2 + (k + 0.5) * a / n_side + rng.normal(0, 0.05)
            p = f(x, sy * (b / 2 + rng.uniform(0.05, 0.35)), 0)
            chair(room, p[0], p[1], yaw + (0 if sy > 0 else math.pi) + rng.normal(0, 0.25), room.chair_color,
                  style=style)
    for sx in (-1, 1):
        if kind == "conference" and rng.uniform() < 0.5:
            p = f(sx * (a / 2 + rng.uniform(0.1, 0.35)), 0, 0)
            chair(room, p[0], p[1], yaw + sx * math.pi / 2 + rng.normal(0, 0.2), room.chair_color, style=style)
    return True


def loose_chair(room: Room, force: bool = False) -> bool:
    """A chair standing somewhere on the floor at a random angle."""
    c = room.free_spot((0.3, 0.3), 0.0, tries=20, tag="chair", ignore=("table",))
    if c is None and not force:
        return False
    if c is None:
        c = (room.rng.uniform(0.4, room.W - 0.4), room.rng.uniform(0.4, room.L - 0.4))
    else:
        room.floor.pop()
    return chair(room, c[0], c[1], room.rng.uniform(0, 2 * math.pi), check=False)


def sofa(room: Room, force: bool = False) -> bool:
    """A sofa (or armchair) against a wall, or free-standing when forced, maybe with a cushion."""
    rng, s = room.rng, room.scene
    sw, sd = rng.uniform(1.4, 2.2) if rng.uniform() < 0.8 else rng.uniform(0.8, 1.0), rng.uniform(0.8, 0.92)
    slot = room.wall_slot(sw, "low", depth=sd + 0.05, force=force, tag="sofa")
    if slot is None:
        c = room.free_spot((sw / 2, sd / 2), 0.0, tag="sofa") if force else None
        if c is None:
            return False
        f = Frame([c[0], c[1], 0], float(rng.choice([0, math.pi])))
    else:
        w, t = slot
        f = room.wall_frame(w, t, 0.03 + sd / 2)
    obj = s.new_obj()
    m = material(SOFA, jitter_color(rng, pick(rng, SOFA_COLORS), 0.03), CARPET, tex=0.08, noise=0.025)
    sh = rng.uniform(0.38, 0.45)
    s.box(f(0, 0.05, sh / 2), (sw / 2 - 0.15, sd / 2 - 0.05, sh / 2), f.yaw, m, obj, faces=("-x", "+x", "+y", "+z"))
    s.box(f(0, -sd / 2 + 0.1, (sh + 0.4) / 2), (sw / 2, 0.1, (sh + 0.4) / 2), f.yaw, m, obj,
          faces=("-x", "+x", "-y", "+y", "+z"))
    for sg in (-1, 1):
        s.box(f(sg * (sw / 2 - 0.075), 0.0, (sh + 0.18) / 2), (0.075, sd / 2, (sh + 0.18) / 2), f.yaw, m, obj,
              faces=("-x", "+x", "-y", "+y", "+z"))
    s.carve(f(0, 0, 0.2), (sw / 2, sd / 2, 0.2), f.yaw, obj)
    if rng.uniform() < 0.5:  # cushions
        s.box(f(rng.uniform(-sw / 3, sw / 3), -sd / 2 + 0.27, sh + 0.18), (0.2, 0.06, 0.18), f.yaw + rng.normal(0, 0.2),
              material(SOFA, jitter_color(rng, pick(rng, SOFA_COLORS), 0.05), tex=0.05), obj)
    return True


def bookcase(room: Room, force: bool = False, wide: bool = False) -> bool:
    """A bookcase against a wall, its shelves filled with books (gaps now and then)."""
    rng, s, H = room.rng, room.scene, room.H
    bw = rng.uniform(1.2, 2.0) if wide else rng.uniform(0.8, 1.2)
    bd = rng.uniform(0.3, 0.42)
    bh = rng.uniform(1.5, min(2.2, H - 0.3))
    slot = room.wall_slot(bw, "both", depth=bd + 0.01, force=force, tag="bookcase")
    if slot is None:
        return False
    w, t = slot
    f = room.wall_frame(w, t, 0.005 + bd / 2)
    obj = s.new_obj()
    col = pick(rng, WOOD_COLORS + METAL_COLORS)
    m = material(BOOKCASE, jitter_color(rng, col, 0.02), WOOD if col in WOOD_COLORS else PLAIN, 0.1, tex=0.05)
    th = 0.02
    s.carve(f(0, 0, bh / 2), (bw / 2, bd / 2, bh / 2), f.yaw, obj)  # wall behind, floor below
    for sg in (-1, 1):
        s.box(f(sg * (bw / 2 - th / 2), 0, (bh - th) / 2), (th / 2, bd / 2, (bh - th) / 2), f.yaw, m, obj,
              faces=("-x", "+x", "+y"))
    s.box(f(0, 0, bh - th / 2), (bw / 2, bd / 2, th / 2), f.yaw, m, obj, faces=("+z", "-z", "+y", "-x", "+x"))
    s.box(f(0, 0, 0.05), (bw / 2 - th, bd / 2, 0.05), f.yaw, m, obj, faces=("+y", "+z"))
    s.rect(f(0, -bd / 2 + 0.004, bh / 2), f.ex * (bw / 2 - th), [0, 0, bh / 2], m, obj)
    inner = bw - 2 * th
    n_sh = max(2, int((bh - 0.12) // 0.34))
    sp = (bh - 0.1 - th) / n_sh
    for k in range(n_sh):
        z0 = 0.1 + k * sp
        if k > 0:
            s.box(f(0, 0.005, z0 - th / 2), (inner / 2, bd / 2 - 0.005, th / 2), f.yaw, m, obj, faces=("+z", "-z", "+y"))
        x = -inner / 2 + 0.01
        while x < inner / 2 - 0.03:
            if rng.uniform() < 0.12:  # gap or a stack of boxes/files
                x += rng.uniform(0.05, 0.2)
                continue
            bwid = rng.uniform(0.02, 0.06)
            if x + bwid > inner / 2 - 0.005:
                break
            bht = min(rng.uniform(0.6, 0.9) * sp, sp - th - 0.02)
            bdp = rng.uniform(0.6, 0.92) * (bd - 0.01)
            col = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.2, 0.85), rng.uniform(0.25, 0.9))
            s.box(f(x + bwid / 2, -bd / 2 + 0.005 + bdp / 2, z0 + bht / 2), (bwid / 2, bdp / 2, bht / 2), f.yaw,
                  material(BOOKCASE, col, tex=0.04), obj, faces=("+y", "+z", "-x", "+x"))
            x += bwid + 0.002
    return True
