"""SynthModelNet, the embedded stand-in for ModelNet40: one recipe per class, by theme.

:mod:`.shapes` holds the recipe table, the per-shape random stream and the y-up mesh and
cloud of a shape; :mod:`.parts` the helpers the recipes share; :mod:`.furniture`,
:mod:`.storage`, :mod:`.containers`, :mod:`.devices`, :mod:`.fixtures` and
:mod:`.outdoor` the recipes themselves. A recipe draws from its shape's own stream
(:class:`.parts.Rand`) and returns the parts of a z-up mesh (the mesh toolkit's frame)
standing on z = 0; :func:`synth_mesh` stretches, turns and sets it into ModelNet40's y-up
frame; :mod:`.sensor` turns the mesh into its cloud (whole surface by default, or one
depth-sensor view, with noise and occluders: the options that make the set harder).
"""
from .sensor import VIEWS, Capture
from .shapes import RECIPES, synth_capture, synth_mesh, synth_shape, write_sets

__all__ = ["RECIPES", "VIEWS", "Capture", "synth_capture", "synth_mesh", "synth_shape", "write_sets"]
