"""Meta-SGD (Li et al. 2017): MAML whose inner step size is a learned tensor α of the same shape as θ.

    φ_i = θ - α ⊙ ∇_θ L(θ; D_i^tr)

α is a meta-parameter like θ (initialised to ``inner_lr``), so every element learns its own step size and
direction (α may turn negative). One inner step is the paper's setting.
"""

from __future__ import annotations

from torch import nn

from mlbook.optimization.maml import MAML


class MetaSGD(MAML):
    """``MAML`` with ``inner_lr_mode="per_parameter"``: a learned step size for every parameter element."""

    def __init__(self, model: nn.Module, inner_lr: float = 0.4, inner_steps: int = 1, **kwargs) -> None:
        if "inner_lr_mode" in kwargs:
            raise ValueError("MetaSGD fixes inner_lr_mode='per_parameter'; use MAML for other modes")
        super().__init__(model, inner_lr, inner_steps, inner_lr_mode="per_parameter", **kwargs)
