"""ModelNet40's class list and splits, in the official order (labels index them)."""
from __future__ import annotations

__all__ = ["CLASSES", "SPLITS"]

#: the 40 classes in the official (alphabetical) order of ``shape_names.txt``
CLASSES: tuple[str, ...] = (
    "airplane", "bathtub", "bed", "bench", "bookshelf", "bottle", "bowl", "car", "chair", "cone",
    "cup", "curtain", "desk", "door", "dresser", "flower_pot", "glass_box", "guitar", "keyboard",
    "lamp", "laptop", "mantel", "monitor", "night_stand", "person", "piano", "plant", "radio",
    "range_hood", "sink", "sofa", "stairs", "stool", "table", "tent", "toilet", "tv_stand", "vase",
    "wardrobe", "xbox",
)

#: the splits of the official releases (h5 files and OFF folders alike)
SPLITS: tuple[str, ...] = ("train", "test")
