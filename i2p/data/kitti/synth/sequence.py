"""A SynthKITTI sequence: the car drives down one street, scanning it sweep by sweep."""
from __future__ import annotations

import numpy as np

from ..labels import map_labels
from .sensor import SENSOR_HEIGHT, scan
from .street import build_street

__all__ = ["synth_sweeps"]


def synth_sweeps(seq: int, opts: dict, seed: int = 0) -> list[dict]:
    """The sweeps of sequence ``seq`` (uncached; ``SPEC.make`` caches them).

    ``opts``: the generator options (``sweeps``, ``azimuths``, ``sweep_dt``, ``min_range``,
    ``max_range``). Each sweep is a sample ``{"points", "feats" (x, y, z, intensity),
    "label" (i2p train ids), "raw" (SemanticKITTI raw ids), "name": "seq_NN/XXXXXX"}`` in
    the sensor frame; the street is seeded by ``(seed, seq)``, each sweep's sensor noise
    by ``(seed, seq, sweep)``.
    """
    rng = np.random.default_rng([seed, seq, 7])
    n_sw, dt = int(opts["sweeps"]), float(opts["sweep_dt"])
    ego_v = rng.uniform(6.0, 13.0)
    step = ego_v * dt
    ego_x = (0.0, step * (n_sw - 1))
    margin = opts["max_range"] + 10
    world, ego_y = build_street(rng, ego_x[0] - margin, ego_x[1] + margin, ego_x, ego_v)
    out = []
    for i in range(n_sw):
        r = np.random.default_rng([seed, seq, 1000 + i])
        yaw = r.normal(0, 0.02)  # the car wobbles in its lane
        pos = np.array([ego_x[0] + i * step + r.normal(0, 0.2), ego_y + r.normal(0, 0.15), SENSOR_HEIGHT])
        pts, inten, raw = scan(world, i * dt, pos, yaw, int(opts["azimuths"]), opts["min_range"], opts["max_range"], r)
        out.append({"points": pts, "feats": np.concatenate([pts, inten[:, None]], 1), "label": map_labels(raw),
                    "raw": raw, "name": f"seq_{seq:02d}/{i:06d}"})
    return out
