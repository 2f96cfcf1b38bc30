"""Datasets, transforms and collation into sparse batches."""
from .collate import Batch, collate_clouds
from .primitives import PrimitiveShapes

__all__ = ["Batch", "collate_clouds", "PrimitiveShapes"]
