"""Clutter (class 12): small things on desks and tables, things on the floor (bins,
boxes, plants, printers, cabinets) and posters on walls."""
from __future__ import annotations

import colorsys
import math

from ..labels import CLUTTER
from .materials import CARPET, METAL_COLORS, PATCHES, STRIPES, jitter_color, material, pick
from .room import Frame, Room, overlap

# half footprints (m) of the things on a table top
_TOP_ITEMS = {"monitor": (0.28, 0.1), "keyboard": (0.22, 0.08), "papers": (0.15, 0.11), "cup": (0.05, 0.05),
              "bottle": (0.04, 0.04), "books": (0.12, 0.09), "laptop": (0.17, 0.12), "phone": (0.1, 0.1),
              "box": (0.15, 0.12)}
_FLOOR_ITEMS = {"bin": (0.16, 0.16), "boxes": (0.3, 0.25), "plant": (0.25, 0.25), "printer": (0.3, 0.25),
                "cabinet": (0.23, 0.3)}
_SIDES_AND_TOP = ("+z", "-x", "+x", "-y", "+y")


def clutter_on(room: Room, frame: Frame, a: float, b: float, z: float, n: int, desk: bool = False) -> None:
    """Up to ``n`` small objects on a surface of a x b at height z (in the frame's
    coordinates); a desk gets a monitor and a keyboard first."""
    rng, s = room.rng, room.scene
    placed = []
    items = ["papers", "cup", "bottle", "books", "laptop", "phone", "box"]
    if desk:
        items = ["monitor", "keyboard"] + items
    for i in range(n):
        it = items[i] if desk and i < 2 else pick(rng, items)
        dims = _TOP_ITEMS[it]
        for _ in range(10):
            if it == "monitor":
                x, y = rng.uniform(-a / 2 + 0.35, a / 2 - 0.35) if a > 0.8 else 0.0, -b / 2 + 0.2
            elif it == "keyboard":
                x, y = rng.uniform(-0.15, 0.15), 0.0
            else:
                x, y = rng.uniform(-a / 2 + dims[0], a / 2 - dims[0]), rng.uniform(-b / 2 + dims[1], b / 2 - dims[1])
            bb = (x - dims[0], y - dims[1], x + dims[0], y + dims[1])
            if all(not overlap(bb, p, 0.02) for p in placed):
                placed.append(bb)
                break
        else:
            continue
        obj, c = s.new_obj(), frame(x, y, z)
        yaw = frame.yaw + (rng.normal(0, 0.25) if it not in ("monitor", "keyboard") else rng.normal(0, 0.05))
        dark = material(CLUTTER, jitter_color(rng, (0.1, 0.1, 0.11), 0.02), tex=0.03)
        if it == "monitor":
            s.box(c + [0, 0, 0.01], (0.1, 0.08, 0.01), yaw, dark, obj, faces=_SIDES_AND_TOP)
            s.box(c + [0, 0, 0.12], (0.025, 0.015, 0.11), yaw, dark, obj, faces=("-x", "+x", "-y", "+y"))
            sw, sh = rng.uniform(0.22, 0.3), rng.uniform(0.16, 0.2)
            s.box(c + [0, 0, 0.2 + sh], (sw, 0.02, sh), yaw, dark, obj)
        elif it == "keyboard":
            keys = material(CLUTTER, pick(rng, [(0.12, 0.12, 0.13), (0.85, 0.85, 0.83)]))
            s.box(c + [0, 0, 0.012], (0.22, 0.07, 0.012), yaw, keys, obj, faces=_SIDES_AND_TOP)
        elif it == "papers":
            s.box(c + [0, 0, 0.006], (0.15, 0.105, 0.006), yaw, material(CLUTTER, (0.95, 0.95, 0.93), noise=0.015), obj,
                  faces=_SIDES_AND_TOP)
        elif it in ("cup", "bottle"):
            r, h = (0.04, 0.1) if it == "cup" else (0.035, rng.uniform(0.2, 0.3))
            col = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.3, 0.9), rng.uniform(0.4, 0.95))
            s.cylinder(c, r, h, material(CLUTTER, col), obj)
        elif it == "books":
            zz = 0.0
            for _ in range(int(rng.integers(1, 4))):
                th = rng.uniform(0.02, 0.05)
                col = colorsys.hsv_to_rgb(rng.uniform(), rng.uniform(0.3, 0.9), rng.uniform(0.3, 0.9))
                s.box(c + [0, 0, zz + th / 2], (0.12, 0.09, th / 2), yaw + rng.normal(0, 0.2), material(CLUTTER, col),
                      obj, faces=_SIDES_AND_TOP)
                zz += th
        elif it == "laptop":
            m = material(CLUTTER, pick(rng, METAL_COLORS))
            s.box(c + [0, 0, 0.01], (0.17, 0.12, 0.01), yaw, m, obj, faces=_SIDES_AND_TOP)
            g = Frame(c, yaw)
            s.box(g(0, -0.13, 0.13), (0.17, 0.008, 0.12), yaw, m, obj)
        elif it == "phone":
            s.box(c + [0, 0, 0.04], (0.1, 0.1, 0.04), yaw, dark, obj, faces=_SIDES_AND_TOP)
        else:
            s.box(c + [0, 0, 0.08], (0.15, 0.12, 0.08), yaw,
                  material(CLUTTER, jitter_color(rng, (0.65, 0.50, 0.32), 0.05)), obj, faces=_SIDES_AND_TOP)


def floor_clutter(room: Room, force: bool = False) -> bool:
    """A bin, a stack of boxes, a potted plant, a printer or a cabinet, against a wall if
    there is room, else anywhere on the floor."""
    rng, s = room.rng, room.scene
    it = pick(rng, ["bin", "bin", "boxes", "boxes", "plant", "printer", "cabinet"])
    size = _FLOOR_ITEMS[it]
    slot = room.wall_slot(2 * size[0], "low", depth=2 * size[1] + 0.02, tag="clutter", tries=20)
    if slot is not None:
        w, t = slot
        f = room.wall_frame(w, t, 0.01 + size[1])
    else:
        c = room.free_spot(size, 0.0, tag="clutter", tries=20)
        if c is None and not force:
            return False
        if c is None:
            c = (rng.uniform(0.4, room.W - 0.4), rng.uniform(0.4, room.L - 0.4))
        f = Frame([c[0], c[1], 0], rng.uniform(0, 2 * math.pi))
    obj = s.new_obj()
    c = f(0, 0, 0)
    if it == "bin":
        bin_color = pick(rng, [(0.25, 0.25, 0.28), (0.2, 0.35, 0.6), (0.3, 0.5, 0.3)])
        s.cylinder(c, 0.15, rng.uniform(0.3, 0.4), material(CLUTTER, bin_color), obj)
    elif it == "boxes":
        z = 0.0
        for _ in range(int(rng.integers(1, 4))):
            hx, hy, hz = rng.uniform(0.15, 0.3), rng.uniform(0.15, 0.25), rng.uniform(0.1, 0.22)
            s.box(c + [0, 0, z + hz], (hx, hy, hz), f.yaw + rng.normal(0, 0.15),
                  material(CLUTTER, jitter_color(rng, (0.66, 0.50, 0.32), 0.05), tex=0.08), obj,
                  faces=("-x", "+x", "-y", "+y", "+z"))
            z += 2 * hz
    elif it == "plant":
        h = rng.uniform(0.25, 0.4)
        s.cylinder(c, 0.15, h, material(CLUTTER, jitter_color(rng, (0.60, 0.33, 0.20), 0.05)), obj)
        r = rng.uniform(0.25, 0.4)
        s.ellipsoid(c + [0, 0, h + r * 1.2], (r, r, r * 1.4),
                    material(CLUTTER, jitter_color(rng, (0.20, 0.42, 0.16), 0.04), CARPET, tex=0.2, noise=0.04), obj)
    elif it == "printer":
        h = rng.uniform(0.35, 1.0)
        s.box(c + [0, 0, h / 2], (0.3, 0.25, h / 2), f.yaw, material(CLUTTER, jitter_color(rng, (0.78, 0.78, 0.75), 0.03)),
              obj, faces=("-x", "+x", "-y", "+y", "+z"))
    else:
        h = rng.uniform(0.6, 1.3)
        s.box(c + [0, 0, h / 2], (0.23, 0.3, h / 2), f.yaw, material(CLUTTER, pick(rng, METAL_COLORS), STRIPES, 0.33, 0.01),
              obj, faces=("-x", "+x", "-y", "+y", "+z"))
    return True


def poster(room: Room) -> bool:
    """A poster (colourful patches) on a wall at eye height."""
    rng, s = room.rng, room.scene
    pw, ph = rng.uniform(0.4, 1.0), rng.uniform(0.5, 1.0)
    slot = room.wall_slot(pw, "high")
    if slot is None:
        return False
    w, t = slot
    f = room.wall_frame(w, t)
    s.box(f(0, 0.006, rng.uniform(1.3, 1.7)), (pw / 2, 0.006, ph / 2), f.yaw,
          material(CLUTTER, jitter_color(rng, (0.8, 0.8, 0.8), 0.1), PATCHES, rng.uniform(0.08, 0.25), tex=0.05),
          s.new_obj(), faces=("+y", "-x", "+x", "+z", "-z"))
    return True
