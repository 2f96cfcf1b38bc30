"""SynthKITTI, the embedded stand-in for SemanticKITTI.

Procedural streets (:mod:`.layout` plans one; :mod:`.road`, :mod:`.structures`,
:mod:`.vegetation`, :mod:`.furniture`, :mod:`.agents` and :mod:`.lots` fill it; built from
:mod:`i2p.data.mesh` primitives via :mod:`.shapes`) are tagged with raw SemanticKITTI ids
in a :class:`~.world.World` (:mod:`.street` assembles it) and scanned by a simulated
HDL-64E (:mod:`.sensor`) while the car drives down the street (:mod:`.sequence`).
"""
from .sensor import BEAM_ELEVATIONS_DEG, SENSOR_HEIGHT
from .sequence import synth_sweeps

__all__ = ["synth_sweeps", "SENSOR_HEIGHT", "BEAM_ELEVATIONS_DEG"]
