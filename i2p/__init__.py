"""i2p: Image2Point study kit — pretrained 2D ConvNets inflated to sparse 3D ConvNets."""
__version__ = "0.1.0"
