"""The plan of one procedural street: cross-section, style and an optional crossing.

The street runs along +x with the road surface at z = 0; side ``s = -1`` is the right
(y < 0, traffic towards +x), ``s = +1`` the left. Across, from the centre outwards:
lanes, an optional parking band, the curb, the sidewalk, then lots up to ``ymax``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Street", "plan_street"]


@dataclass
class Street:
    style: str  # "urban", "residential" or "rural": sets building heights, lot mix, crowds
    xa: float  # the street is built over x in [xa, xb] (sensor range plus a margin)
    xb: float
    n_lanes: int
    lane_w: float
    half_width: float  # road centre to its edge
    park: dict[int, float]  # side -> parking band width (0: none)
    sidewalk_w: float
    curb_h: float  # sidewalks and lots sit this high above the road
    cross: bool  # a cross street at x = xc, half width cross_half
    xc: float
    cross_half: float
    lanes: list[float]  # lane centres (y)
    ego_lane: float
    ymax: float = 90.0  # lots reach this far from the centre line

    @property
    def xlo(self) -> float:
        return self.xc - self.cross_half

    @property
    def xhi(self) -> float:
        return self.xc + self.cross_half

    def curb(self, s: int) -> float:
        """|y| of the curb on side ``s`` (the road plus its parking band)."""
        return self.half_width + self.park[s]

    def lot_line(self, s: int) -> float:
        """|y| where the sidewalk ends and the lots begin."""
        return self.curb(s) + self.sidewalk_w

    @staticmethod
    def band(s: int, y0: float, y1: float) -> tuple[float, float]:
        """World y-range on side ``s`` of the distances ``|y|`` in ``[y0, y1]``."""
        return (y0, y1) if s > 0 else (-y1, -y0)

    def segs(self, gap_lo: float, gap_hi: float) -> list[tuple[float, float]]:
        """Pieces of ``[xa, xb]`` left when ``[gap_lo, gap_hi]`` (the crossing) is cut out."""
        out = []
        if gap_lo > self.xa:
            out.append((self.xa, min(self.xb, gap_lo)))
        if gap_hi < self.xb:
            out.append((max(self.xa, gap_hi), self.xb))
        return [(u, v) for u, v in out if v - u > 0.5]


def plan_street(rng: np.random.Generator, xa: float, xb: float, ego_x: tuple[float, float]) -> Street:
    """Draw a street's plan; the crossing, if any, lies ahead of (or behind) the drive ``ego_x``."""
    style = str(rng.choice(["urban", "residential", "rural"], p=[0.4, 0.4, 0.2]))
    n_lanes = int(rng.choice([2, 2, 4])) if style != "rural" else 2
    lane_w = rng.uniform(3.1, 3.6)
    half = n_lanes * lane_w / 2
    p_park = {"urban": 0.8, "residential": 0.6, "rural": 0.1}[style]
    park = {s: (2.3 if rng.random() < p_park else 0.0) for s in (-1, 1)}
    sidewalk_w = rng.uniform(1.8, 4.0) if style != "rural" else rng.uniform(1.2, 2.0)
    curb_h = rng.uniform(0.1, 0.18)
    cross = rng.random() < (0.7 if style == "urban" else 0.45)
    xc = rng.uniform(ego_x[0] + 15, ego_x[1] + 45) * (1 if rng.random() < 0.7 else -1) if cross else 1e9
    cross_half = rng.uniform(3.2, 6.0)
    lanes = [-half + lane_w * (k + 0.5) for k in range(n_lanes)]  # y < 0: +x traffic, y > 0: -x
    ego_lane = lanes[int(rng.integers(0, n_lanes // 2))]
    return Street(style, xa, xb, n_lanes, lane_w, half, park, sidewalk_w, curb_h, cross, xc, cross_half,
                  lanes, ego_lane)
