"""PointNet++ SSG in plain PyTorch (paper §4.2): point ops (:mod:`.ops`) and the
set abstraction / feature propagation modules and model (:mod:`.modules`)."""
from .modules import (FeaturePropagation, GlobalSetAbstraction, PointNet2Backbone, PointNet2SSG, PointwiseMLP,
                      SetAbstraction, SetAbstractionStack, image_to_points)
from .ops import ball_query, farthest_point_sample, gather_points, three_nn_interpolate

__all__ = [
    "farthest_point_sample",
    "ball_query",
    "gather_points",
    "three_nn_interpolate",
    "PointwiseMLP",
    "SetAbstraction",
    "GlobalSetAbstraction",
    "FeaturePropagation",
    "SetAbstractionStack",
    "PointNet2Backbone",
    "PointNet2SSG",
    "image_to_points",
]
