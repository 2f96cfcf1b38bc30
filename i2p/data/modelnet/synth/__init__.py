"""SynthModelNet, the embedded stand-in for ModelNet40: one recipe per class, by theme.

:mod:`.shapes` holds the recipe table, the per-shape random stream and the y-up mesh and
cloud of a shape; :mod:`.parts` the helpers the recipes share; :mod:`.furniture`,
:mod:`.storage`, :mod:`.containers`, :mod:`.devices`, :mod:`.fixtures` and
:mod:`.outdoor` the recipes themselves.
"""
from .shapes import RECIPES, synth_mesh, synth_shape, write_sets

__all__ = ["RECIPES", "synth_mesh", "synth_shape", "write_sets"]
