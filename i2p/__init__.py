"""i2p: Image2Point study kit — pretrained 2D ConvNets inflated to sparse 3D ConvNets."""
import os as _os

__version__ = "0.1.0"

# bfloat16 GEMMs on the CPU go through oneDNN, which compiles a kernel per shape and keeps
# 1024 of them by default. Sparse convs meet a few hundred shapes per model (see
# i2p.sparse.ops), so a notebook that trains several models in one process would evict
# and recompile kernels every step. oneDNN reads this when it first compiles a kernel.
_os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "4096")
