"""The one frame change of ModelNet40: z-up meshes into the y-up frame of the h5 release.

``modelnet40_ply_hdf5_2048`` (what the authors and most papers load) is y-up, while the
original ``.off`` meshes and the SynthModelNet recipes (written with the z-up mesh
toolkit) are z-up. Both are turned by the proper rotation of -90 degrees about x,
``(x, y, z) -> (x, z, -y)``, so every cloud i2p returns for ModelNet40 is y-up.
"""
from __future__ import annotations

import numpy as np

__all__ = ["z_up_to_y_up"]


def z_up_to_y_up(points: np.ndarray) -> np.ndarray:
    """``[..., 3]`` z-up coordinates as y-up ones: ``(x, y, z) -> (x, z, -y)`` (exact: a
    column swap and one sign, no rounding)."""
    p = np.asarray(points)
    return np.stack([p[..., 0], p[..., 2], -p[..., 1]], axis=-1)
