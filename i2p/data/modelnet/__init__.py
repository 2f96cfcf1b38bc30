"""ModelNet40 (shape classification, 40 classes) and its embedded stand-in SynthModelNet.

Everything is y-up, the frame of ``modelnet40_ply_hdf5_2048`` (the release the authors
load). Use it through ``SPEC`` (``i2p.data.registry.get("modelnet40")``)::

    SPEC.load("train")                                   # SynthModelNet, teaching profile
    SPEC.load("test", options={"classes": ["chair", "cup"], "train": 3, "test": 2})
    SPEC.load("train", options={"view": "partial", "noise": 0.01, "occlusion": 0.3})  # scan-like, harder
    SPEC.load_real("/data/modelnet40_ply_hdf5_2048", "test")   # or the ModelNet40/ OFF tree
    SPEC.check("/data/modelnet40_ply_hdf5_2048")

Where each job lives: :mod:`.labels` (class list, splits), :mod:`.spec` (the
``DatasetSpec``: profiles, options, transforms), :mod:`.synth` (the generator: one recipe
per class, by theme), :mod:`.frame` (the z-up -> y-up turn shared by the generator and the
OFF reader), :mod:`.real` (h5 and OFF readers, checks of a download), :mod:`.gallery`.
"""
from .labels import CLASSES, SPLITS
from .real import load_h5, load_off, read_off
from .spec import ModelNet40Spec
from .synth import synth_capture, synth_mesh, synth_shape

__all__ = ["SPEC", "ModelNet40Spec", "CLASSES", "SPLITS", "synth_mesh", "synth_shape", "synth_capture", "read_off",
           "load_h5", "load_off"]

SPEC = ModelNet40Spec()
