"""Room programs (what an office, a hallway, a storage room... holds) and areas of rooms.

An area is a row of rooms laid side by side along x, like the real data's "Aligned
Version"; the last room of an area adds whatever class the others lack, so every area
holds all 13 classes even in tiny profiles.
"""
from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np

from ..labels import AREAS, BEAM, BOARD, BOOKCASE, CHAIR, CLASSES, CLUTTER, COLUMN, DOOR, SOFA, TABLE, WINDOW
from .clutter import floor_clutter, poster
from .furniture import bookcase, center_table, desk, loose_chair, sofa
from .render import render
from .room import Room
from .structure import beams, board, column, door, shell, window

ROOM_TYPES: tuple[str, ...] = ("office", "conferenceRoom", "hallway", "storage", "lounge", "pantry", "copyRoom")
ROOM_WEIGHTS: tuple[float, ...] = (0.40, 0.17, 0.14, 0.08, 0.09, 0.06, 0.06)


def _adder(room: Room, cls: int) -> Callable[[], bool]:
    """How to add one item of class ``cls`` to a room that lacks it."""
    return {
        BEAM: lambda: beams(room), COLUMN: lambda: column(room, force=True),
        WINDOW: lambda: window(room, force=True), DOOR: lambda: door(room, force=True),
        TABLE: lambda: desk(room) or center_table(room, "pantry", force=True),
        CHAIR: lambda: loose_chair(room, force=True),
        SOFA: lambda: sofa(room, force=True), BOOKCASE: lambda: bookcase(room, force=True),
        BOARD: lambda: board(room, force=True),
        CLUTTER: lambda: floor_clutter(room) or poster(room) or floor_clutter(room, force=True),
    }.get(cls, lambda: True)


def _hallway(room: Room) -> None:
    rng, p = room.rng, room.rng.uniform
    long_walls = [1, 3] if room.L > room.W else [0, 2]
    for _ in range(int(max(room.W, room.L) // 3.0) + int(rng.integers(0, 2))):
        door(room, walls=long_walls)
    if p() < 0.5:
        door(room, walls=[0, 2] if room.L > room.W else [1, 3])
    if p() < 0.5:
        beams(room)
    for _ in range(int(rng.integers(0, 3)) if p() < 0.4 else 0):
        column(room)
    if p() < 0.3:
        board(room)
    for _ in range(int(rng.integers(0, 3))):
        poster(room)
    for _ in range(int(rng.integers(1, 3))):
        floor_clutter(room)
    if p() < 0.1:
        sofa(room)
    if p() < 0.1:
        bookcase(room)


def _furnish(room: Room) -> None:
    """The furniture of a non-hallway room, by its kind."""
    rng, p, kind = room.rng, room.rng.uniform, room.kind
    if kind == "office":
        for _ in range(int(np.clip(round(room.W * room.L / 9 + rng.normal(0, 0.5)), 1, 6))):
            desk(room)
        for _ in range(int(rng.integers(0, 3))):
            bookcase(room)
        if p() < 0.5:
            board(room)
        if p() < 0.2:
            sofa(room)
    elif kind == "conferenceRoom":
        board(room)
        center_table(room, "conference")
        if p() < 0.4:
            board(room)
        if p() < 0.3:
            bookcase(room)
    elif kind == "storage":
        for _ in range(int(rng.integers(2, 5))):
            bookcase(room, wide=True)
        for _ in range(int(rng.integers(3, 8))):
            floor_clutter(room)
        if p() < 0.3:
            desk(room)
    elif kind == "lounge":
        for _ in range(int(rng.integers(1, 4))):
            sofa(room)
        center_table(room, "coffee")
        for _ in range(int(rng.integers(0, 3))):
            loose_chair(room)
        if p() < 0.4:
            bookcase(room)
        if p() < 0.2:
            board(room)
    elif kind == "pantry":
        center_table(room, "pantry")
        for _ in range(int(rng.integers(2, 5))):
            floor_clutter(room)
    elif kind == "copyRoom":
        for _ in range(int(rng.integers(2, 4))):
            floor_clutter(room)
        if p() < 0.6:
            desk(room)
        if p() < 0.4:
            bookcase(room)
        if p() < 0.3:
            board(room)


def room_program(room: Room) -> None:
    """Doors, windows, columns, beams, furniture and clutter typical of the room's kind."""
    if room.kind == "hallway":
        _hallway(room)
        return
    rng, p, kind = room.rng, room.rng.uniform, room.kind
    extra_doors = int(p() < {"conferenceRoom": 0.5, "lounge": 0.4, "pantry": 0.3}.get(kind, 0.2))
    for _ in range(extra_doors):  # generate_room() already placed one
        door(room)
    if kind in ("office", "conferenceRoom", "lounge") and p() < 0.75 or kind in ("pantry", "copyRoom") and p() < 0.4:
        w = int(rng.integers(4))
        for _ in range(1 + int(room.wall_len(w) // 2.6)):
            window(room, walls=[w])
    if p() < 0.3:
        column(room)
    if p() < 0.25:
        beams(room)
    _furnish(room)
    for _ in range(int(rng.integers(1, 4))):
        floor_clutter(room)
    for _ in range(int(rng.integers(0, 3))):
        poster(room)


def generate_room(rng: np.random.Generator, kind: str, size: Sequence[float], height: float, n_points: int,
                  n_scanners: int, require: Iterable[int] = ()) -> dict:
    """One synthetic room (room frame: x in [0, W], y in [0, L], floor at z = 0).

    ``require``: class ids the room must contain (added if the room type lacks them).
    Returns ``{"points", "rgb", "label"}`` as numpy arrays.
    """
    if kind not in ROOM_TYPES:
        raise ValueError(f"unknown room type {kind!r}; choose one of {', '.join(ROOM_TYPES)}")
    W, L = size
    room = Room(rng, kind, float(W), float(L), float(height))
    shell(room)
    door(room, force=True)
    for cls in sorted(set(require)):
        if cls not in room.scene.labels():
            _adder(room, cls)()
    room_program(room)
    for cls in sorted(set(require) | {CLUTTER}):
        if cls not in room.scene.labels():
            _adder(room, cls)()
    scanners = []
    for _ in range(n_scanners):
        c = room.free_spot((0.15, 0.15), 0.0, tries=30, tag="scanner")
        c = c or (rng.uniform(0.5, W - 0.5), rng.uniform(0.5, L - 0.5))
        scanners.append([c[0], c[1], rng.uniform(1.3, 1.7)])
    pts, rgb, lab = render(room.scene, rng, n_points, np.array(scanners))
    return {"points": pts, "rgb": rgb, "label": lab}


def rooms_per_area(opts: dict) -> list[int]:
    """The number of rooms of each area (``rooms_per_area``: one int, or one per area)."""
    r = opts["rooms_per_area"]
    return [int(r)] * len(AREAS) if np.isscalar(r) else [int(v) for v in r]


def _room_dims(rng: np.random.Generator, kind: str, opts: dict) -> tuple[float, float]:
    lo, hi = opts["room_size"]
    if kind == "hallway":
        a, b = rng.uniform(1.8, 2.6), rng.uniform(lo * 1.2, hi * 1.6)
    else:
        scale = {"storage": 0.8, "pantry": 0.8, "copyRoom": 0.75, "conferenceRoom": 1.1}.get(kind, 1.0)
        a, b = rng.uniform(lo, hi) * scale, rng.uniform(lo, hi) * scale
        a, b = max(a, 3.0), max(b, 3.0)
    return (a, b) if rng.uniform() < 0.5 else (b, a)


def generate_area(area: int, opts: dict, seed: int, version: int, on_room: Callable[[str, int], None] | None = None
                  ) -> list[dict]:
    """The rooms of one area as samples (``points``, ``feats`` = xyz + rgb, ``label``,
    ``name`` = ``Area_<k>/<kind>_<i>``); ``on_room(name, n_points)`` after each room."""
    n_rooms = rooms_per_area(opts)[AREAS.index(area)]
    types = tuple(opts["room_types"])
    weights = np.array([ROOM_WEIGHTS[ROOM_TYPES.index(t)] for t in types])
    arng = np.random.default_rng([seed, area, 7919, version])
    kinds = [types[i] for i in arng.choice(len(types), n_rooms, p=weights / weights.sum())]
    counters: dict[str, int] = {}
    present: set[int] = set()
    samples, x_off = [], 0.0
    for i, kind in enumerate(kinds):
        rng = np.random.default_rng([seed, area, i, version])
        W, L = _room_dims(rng, kind, opts)
        H = rng.uniform(*opts["height"])
        lo, hi = opts["points"]
        n_pts = int(np.clip(opts["points_per_m2"] * W * L, lo, hi))
        n_sc = int(np.clip(round(W * L / 20), opts["scanners"][0], opts["scanners"][1]))
        require = set(range(len(CLASSES))) - present if i == n_rooms - 1 else set()
        room = generate_room(rng, kind, (W, L), H, n_pts, n_sc, require)
        present |= set(np.unique(room["label"]).tolist())
        counters[kind] = counters.get(kind, 0) + 1
        xyz = room["points"] + np.array([x_off, 0.0, 0.0])  # rooms side by side in the area
        x_off += W + 0.3
        name = f"Area_{area}/{kind}_{counters[kind]}"
        samples.append({
            "points": xyz.astype(np.float32),
            "feats": np.concatenate([xyz, room["rgb"]], 1).astype(np.float32),
            "label": room["label"].astype(np.int64),
            "name": name,
        })
        if on_room is not None:
            on_room(name, len(xyz))
    return samples
