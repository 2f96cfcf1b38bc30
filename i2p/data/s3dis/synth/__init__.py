"""SynthS3DIS, the procedural stand-in for S3DIS: rooms built from analytic surfaces and
sampled like a laser scan. Deterministic per seed.

- :mod:`.scene`: the surfaces (rects, cylinders, disks, ellipsoids), sampling, carving
- :mod:`.render`: scanner simulation and shading (texture, ceiling lights, noise)
- :mod:`.materials`: materials and colour palettes
- :mod:`.room`: a room's size and occupancy (where things still fit)
- :mod:`.structure`: shell, doors, windows, boards, columns, beams
- :mod:`.furniture`: tables, chairs, sofas, bookcases
- :mod:`.clutter`: things on tables, on the floor and on walls
- :mod:`.rooms`: room programs by kind, and areas of rooms
"""
from .rooms import ROOM_TYPES, generate_area, generate_room, rooms_per_area

__all__ = ["ROOM_TYPES", "generate_area", "generate_room", "rooms_per_area"]
