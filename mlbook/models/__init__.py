"""Backbones shared by every chapter."""

from mlbook.models.conv4 import NORMS, Conv4, conv_block, make_norm
from mlbook.models.mlp import MLP

__all__ = ["MLP", "NORMS", "Conv4", "conv_block", "make_norm"]
