"""One procedural street, assembled theme by theme into a tagged :class:`~.world.World`."""
from __future__ import annotations

import numpy as np

from .agents import add_cross_queue, add_parked, add_sidewalk_people, add_traffic
from .furniture import add_sidewalk_furniture
from .layout import plan_street
from .lots import add_lots
from .road import add_road, add_side_ground
from .vegetation import add_avenue_trees, add_cross_street_trees
from .world import World

__all__ = ["build_street"]


def build_street(rng: np.random.Generator, xa: float, xb: float, ego_x: tuple[float, float],
                 ego_v: float) -> tuple[World, float]:
    """A street along +x over ``[xa, xb]`` (road surface at z = 0) for a drive over
    ``ego_x`` at ``ego_v`` m/s. Returns the world and the ego lane's y."""
    st = plan_street(rng, xa, xb, ego_x)
    w = World()
    add_road(w, rng, st)
    for s in (-1, 1):
        add_side_ground(w, rng, st, s)
        add_parked(w, rng, st, s)
        for u, v in st.segs(st.xlo - st.sidewalk_w, st.xhi + st.sidewalk_w):
            add_sidewalk_furniture(w, rng, st, s, u, v)
            add_avenue_trees(w, rng, st, s, u, v)
            add_sidewalk_people(w, rng, st, s, u, v)
        add_lots(w, rng, st, s)
        add_cross_street_trees(w, rng, st, s)
    add_traffic(w, rng, st, ego_x, ego_v)
    add_cross_queue(w, rng, st)
    return w, st.ego_lane
