"""The building: floor, ceiling with light panels, walls, doors and windows set into
openings, boards on walls, columns and beams.

Each builder takes the :class:`~.room.Room`, places its item where it fits and returns
whether it did; ``force=True`` places it even in a crowded room (used when an area must
still gain a class).
"""
from __future__ import annotations

import math
from typing import Iterable

import numpy as np

from ..labels import BEAM, BOARD, CEILING, CLUTTER, COLUMN, DOOR, FLOOR, WALL, WINDOW
from .materials import (
    CARPET, CARPET_COLORS, CEILING_COLORS, DOOR_COLORS, EMISSIVE, FRAME_COLORS, GRID, MARKS, METAL_COLORS,
    PLAIN, SKIRTING, STRIPES, TILE_COLORS, WOOD, WOOD_COLORS, jitter_color, material, pick,
)
from .room import Room, aabb_of


def shell(room: Room) -> None:
    """Ceiling, floor (carpet, tiles or wood), four walls and the ceiling lights."""
    s, rng, W, L, H = room.scene, room.rng, room.W, room.L, room.H
    ceil = jitter_color(rng, pick(rng, CEILING_COLORS), 0.02)
    s.rect([W / 2, L / 2, H], [W / 2, 0, 0], [0, L / 2, 0],
           material(CEILING, ceil, GRID, 0.6, 0.02, tex=0.04), s.new_obj())
    style = rng.choice(3, p=[0.5, 0.35, 0.15])
    if style == 0:
        fm = material(FLOOR, pick(rng, CARPET_COLORS), CARPET, tex=0.10, noise=0.03)
    elif style == 1:
        fm = material(FLOOR, pick(rng, TILE_COLORS), GRID, float(rng.choice([0.3, 0.45, 0.6])), 0.012, tex=0.06)
    else:
        fm = material(FLOOR, pick(rng, WOOD_COLORS), WOOD, 0.12, tex=0.08)
    s.rect([W / 2, L / 2, 0], [W / 2, 0, 0], [0, L / 2, 0], fm, s.new_obj())
    wm = material(WALL, room.wall_color, SKIRTING, 0.09, tex=0.05)
    for w in range(4):
        n = room.wall_len(w)
        f = room.wall_frame(w, n / 2)
        s.rect(f(0, 0, H / 2), f.ex * n / 2, [0, 0, H / 2], wm, s.new_obj())
    # light panels in a grid; they are also the light sources for shading
    nx, ny = max(1, round(W / 2.4)), max(1, round(L / 2.4))
    yaw = 0.0 if W > L else math.pi / 2
    for i in range(nx):
        for j in range(ny):
            c = np.array([(i + 0.5) * W / nx, (j + 0.5) * L / ny, H - 0.004])
            s.box(c, (0.6, 0.3, 0.004), yaw, material(CEILING, (0.97, 0.97, 0.95), EMISSIVE, noise=0.02),
                  s.new_obj(), faces=("-z",))
            s.lights.append(c - [0, 0, 0.3])


def door(room: Room, walls: Iterable[int] | None = None, force: bool = False) -> bool:
    """A single or double door, recessed in an opening, with jambs, casing and handles."""
    rng, s = room.rng, room.scene
    double = rng.uniform() < 0.15
    dw = rng.uniform(1.5, 1.8) if double else rng.uniform(0.85, 1.0)
    dh = min(rng.uniform(2.0, 2.2), room.H - 0.35)
    slot = room.wall_slot(dw + 0.2, "both", depth=0.85, walls=walls, force=force, tag="door")
    if slot is None:
        return False
    w, t = slot
    f = room.wall_frame(w, t)
    obj = s.new_obj()
    col = jitter_color(rng, pick(rng, DOOR_COLORS), 0.03)
    pm = material(DOOR, col, WOOD if col in WOOD_COLORS else PLAIN, 0.08, tex=0.06)
    trim = material(DOOR, jitter_color(rng, pick(rng, FRAME_COLORS + [col]), 0.02), tex=0.03)
    rec = 0.05
    s.carve(f(0, 0, dh / 2), (dw / 2, 0.08, dh / 2), f.yaw, obj)  # opening in the wall
    s.rect(f(0, -rec, dh / 2), f.ex * dw / 2, [0, 0, dh / 2], pm, obj)  # panel, recessed
    if double:
        s.box(f(0, -rec + 0.005, dh / 2), (0.01, 0.006, dh / 2), f.yaw, trim, obj, faces=("+y",), carve=False)
    for sgn in (-1, 1):  # jambs and casing
        s.rect(f(sgn * dw / 2, -rec / 2, dh / 2), f.ey * rec / 2, [0, 0, dh / 2], trim, obj)
        s.box(f(sgn * (dw / 2 + 0.035), 0.009, dh / 2 + 0.035), (0.035, 0.009, dh / 2 + 0.035), f.yaw, trim, obj,
              faces=("-x", "+x", "+y", "+z"))
        if double or sgn == 1:  # handle(s)
            hx = sgn * 0.08 if double else sgn * (dw / 2 - 0.08)
            s.box(f(hx, -rec + 0.04, 1.02), (0.07, 0.03, 0.012), f.yaw,
                  material(DOOR, pick(rng, METAL_COLORS), tex=0.02), obj, carve=False)
    s.rect(f(0, -rec / 2, dh), f.ex * dw / 2, f.ey * rec / 2, trim, obj)
    s.box(f(0, 0.009, dh + 0.035), (dw / 2, 0.009, 0.035), f.yaw, trim, obj, faces=("+y", "+z", "-z"))
    return True


def window(room: Room, walls: Iterable[int] | None = None, force: bool = False) -> bool:
    """A recessed window (glass or blinds) with frame, mullions and sill; sometimes a
    radiator (clutter) below it."""
    rng, s, H = room.rng, room.scene, room.H
    sill = rng.uniform(0.75, 1.0)
    wh = min(rng.uniform(1.2, 1.8), H - 0.4 - sill)
    walls = list(walls) if walls is not None else [0, 1, 2, 3]
    maxw = min(2.2, max(room.wall_len(w) for w in walls) - 0.6)
    ww = rng.uniform(min(0.9, maxw), maxw)
    slot = room.wall_slot(ww + 0.1, "high", walls=walls, force=force, edge=0.25)
    if slot is None:
        return False
    w, t = slot
    f = room.wall_frame(w, t)
    obj = s.new_obj()
    frame_col = jitter_color(rng, pick(rng, FRAME_COLORS), 0.02)
    fm = material(WINDOW, frame_col, tex=0.03)
    R = rng.uniform(0.1, 0.2)  # recess depth
    zc = sill + wh / 2
    s.carve(f(0, 0, zc), (ww / 2, 0.08, wh / 2), f.yaw, obj)
    if rng.uniform() < 0.35:  # blinds
        s.rect(f(0, -R + 0.04, zc), f.ex * ww / 2, [0, 0, wh / 2],
               material(WINDOW, jitter_color(rng, (0.85, 0.84, 0.80), 0.03), STRIPES, 0.05, 0.008, tex=0.03), obj)
    else:  # glass: bright, sparse, noisy returns
        s.rect(f(0, -R, zc), f.ex * ww / 2, [0, 0, wh / 2],
               material(WINDOW, (0.80, 0.86, 0.92), tex=0.25, noise=0.06, density=0.35), obj)
    for sgn in (-1, 1):
        s.rect(f(sgn * ww / 2, -R / 2, zc), f.ey * R / 2, [0, 0, wh / 2], fm, obj)
        s.rect(f(0, -R / 2, zc + sgn * wh / 2), f.ex * ww / 2, f.ey * R / 2, fm, obj)
        s.box(f(sgn * (ww / 2 - 0.025), -R + 0.03, zc), (0.025, 0.03, wh / 2), f.yaw, fm, obj,
              faces=("-x", "+x", "+y"), carve=False)
    for k in range(1, int(ww // 0.8) + 1):  # mullions
        x = -ww / 2 + k * ww / (int(ww // 0.8) + 1)
        s.box(f(x, -R + 0.03, zc), (0.025, 0.03, wh / 2), f.yaw, fm, obj, faces=("-x", "+x", "+y"), carve=False)
    s.box(f(0, 0.03, sill - 0.015), (ww / 2 + 0.05, 0.05, 0.015), f.yaw, fm, obj, faces=("+y", "+z", "-z", "-x", "+x"))
    if rng.uniform() < 0.35 and sill > 0.7:  # radiator under the window (clutter)
        rw = min(ww * 0.8, 1.4)
        g = room.wall_frame(w, t)
        s.box(g(0, 0.07, sill / 2), (rw / 2, 0.05, min(0.28, sill / 2 - 0.12)), g.yaw,
              material(CLUTTER, jitter_color(rng, (0.88, 0.88, 0.86), 0.02), STRIPES, 0.06, 0.015, tex=0.03),
              s.new_obj(), faces=("-x", "+x", "+y", "+z", "-z"))
    return True


def board(room: Room, force: bool = False) -> bool:
    """A whiteboard (with marks and a tray), blackboard or pinboard in a metal frame."""
    rng, s = room.rng, room.scene
    bw = rng.uniform(1.2, min(2.6, max(room.W, room.L) - 0.8))
    bh = rng.uniform(0.9, 1.2)
    z0 = rng.uniform(0.85, 1.0)
    slot = room.wall_slot(bw + 0.1, "high", force=force)
    if slot is None:
        return False
    w, t = slot
    f = room.wall_frame(w, t)
    obj = s.new_obj()
    kind = rng.choice(3, p=[0.7, 0.15, 0.15])
    face = [material(BOARD, (0.95, 0.95, 0.93), MARKS, tex=0.03, noise=0.015),
            material(BOARD, jitter_color(rng, (0.16, 0.30, 0.24), 0.02), tex=0.08),
            material(BOARD, jitter_color(rng, (0.72, 0.56, 0.38), 0.03), CARPET, tex=0.1)][kind]
    zc = z0 + bh / 2
    s.box(f(0, 0.012, zc), (bw / 2, 0.012, bh / 2), f.yaw, face, obj, faces=("+y",))
    fm = material(BOARD, pick(rng, METAL_COLORS), tex=0.02)
    for sgn in (-1, 1):
        s.box(f(sgn * (bw / 2 + 0.012), 0.016, zc), (0.015, 0.016, bh / 2 + 0.03), f.yaw, fm, obj,
              faces=("-x", "+x", "+y"))
        s.box(f(0, 0.016, zc + sgn * (bh / 2 + 0.015)), (bw / 2, 0.016, 0.015), f.yaw, fm, obj,
              faces=("+z", "-z", "+y"))
    if kind == 0:  # marker tray
        s.box(f(0, 0.05, z0 - 0.02), (bw / 2 * 0.8, 0.05, 0.012), f.yaw, fm, obj, faces=("+z", "-z", "+y"))
    return True


def column(room: Room, force: bool = False) -> bool:
    """A column: free-standing in big rooms, else in a corner or against a wall."""
    rng, s, H = room.rng, room.scene, room.H
    cw, cd = rng.uniform(0.35, 0.7), rng.uniform(0.25, 0.55)
    col = jitter_color(rng, room.wall_color, 0.03)
    m = material(COLUMN, col, SKIRTING, 0.09, tex=0.05)
    if min(room.W, room.L) > 6.5 and rng.uniform() < 0.4:  # free-standing
        c = room.free_spot((cw / 2, cw / 2), 0.0, margin=0.8, tag="column")
        if c is not None:
            s.box([c[0], c[1], H / 2], (cw / 2, cw / 2, H / 2), 0.0, m, s.new_obj(), faces=("-x", "+x", "-y", "+y"))
            return True
    corner = rng.uniform() < 0.4
    for attempt in range(2):
        if corner:
            w = int(rng.integers(4))
            t = cw / 2 if rng.uniform() < 0.5 else room.wall_len(w) - cw / 2
            if any(t - cw / 2 < b and a < t + cw / 2 for a, b, _ in room.occ[w]):
                corner = False
                continue
            f = room.wall_frame(w, t, cd / 2)
            bb = aabb_of(f.o, (cw / 2, cd / 2), f.yaw)
            if not room.floor_free(bb, pad=0.02) and not (force and attempt == 1):
                corner = False
                continue
            room.occ[w].append((t - cw / 2, t + cw / 2, "both"))
            room.floor.append((bb, "column"))
            faces = ("+y", "+x") if t < 1 else ("+y", "-x")
        else:
            slot = room.wall_slot(cw, "both", depth=cd, edge=0.4, force=force, tag="column")
            if slot is None:
                return False
            w, t = slot
            faces = ("-x", "+x", "+y")
        f = room.wall_frame(w, t, cd / 2)
        s.box(f(0, 0, H / 2), (cw / 2, cd / 2, H / 2), f.yaw, m, s.new_obj(), faces=faces)
        return True
    return False


def beams(room: Room, n: int | None = None) -> bool:
    """``n`` ceiling beams spanning the short side (default: one per 3 m of the long side)."""
    rng, s, W, L, H = room.rng, room.scene, room.W, room.L, room.H
    along_x = W < L
    span, run = (W, L) if along_x else (L, W)
    n = n if n is not None else max(1, int(run // 3.0))
    col = jitter_color(rng, (0.86, 0.86, 0.84), 0.03)
    bw, bd = rng.uniform(0.25, 0.45), rng.uniform(0.25, 0.42)
    for k in range(n):
        p = (k + 0.5) * run / n + rng.uniform(-0.2, 0.2)
        c = [span / 2, p, H - bd / 2] if along_x else [p, span / 2, H - bd / 2]
        s.box(c, (span / 2, bw / 2, bd / 2), 0.0 if along_x else math.pi / 2,
              material(BEAM, col, tex=0.05), s.new_obj(), faces=("-y", "+y", "-z"))
    return True
