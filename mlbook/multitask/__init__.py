"""Multi-task learning (chapter 3): sharing architectures, loss weightings, gradient aggregators, one training loop.

* Architectures (``forward(x)`` returns one output per task; ``shared_parameters()`` / ``task_parameters()``):
  ``HardSharing``, ``CrossStitchNetwork``, ``HierarchicalSharing``, ``SharedPrivate``.
* Loss weightings (``method(losses)`` is the scalar to backpropagate): ``EqualWeighting``, ``FixedWeighting``,
  ``UncertaintyWeighting``, ``DynamicWeightAverage``, ``GradNorm``.
* Gradient aggregators (combine the per-task gradients J [T, P] into one direction, through the Gram matrix J Jᵀ):
  ``Sum``, ``Mean``, ``PCGrad``, ``MGDA``, ``CAGrad``, ``NashMTL``, ``AlignedMTL``; ``OnRepresentation(aggregator)``
  computes the weights from gradients w.r.t. the shared representation (MGDA-UB).
* ``train_multitask`` / ``evaluate_multitask``, ``lookahead_affinity`` (Fifty et al. 2021), the toys with known
  answers (``kendall_toy``, ``cagrad_toy_losses``).
"""

from mlbook.multitask.affinity import lookahead_affinity
from mlbook.multitask.aggregator import Aggregator, Mean, Sum
from mlbook.multitask.aligned_mtl import AlignedMTL
from mlbook.multitask.cagrad import CAGrad
from mlbook.multitask.cross_stitch import CrossStitchNetwork, CrossStitchUnit
from mlbook.multitask.gradnorm import GradNorm
from mlbook.multitask.hard_sharing import HardSharing
from mlbook.multitask.hierarchical import HierarchicalSharing
from mlbook.multitask.jacobian import aggregated_backward, representation_gram, task_jacobian
from mlbook.multitask.losses import MISSING, task_losses
from mlbook.multitask.mgda import MGDA
from mlbook.multitask.min_norm import min_norm_weights
from mlbook.multitask.nash_mtl import NashMTL
from mlbook.multitask.pcgrad import PCGrad
from mlbook.multitask.shared_private import SharedPrivate, difference_loss
from mlbook.multitask.toys import (
    CAGRAD_TOY_STARTS,
    NoisyRegression,
    cagrad_toy_losses,
    cagrad_toy_pareto_set,
    kendall_toy,
)
from mlbook.multitask.train import MultiTaskHistory, OnRepresentation, evaluate_multitask, train_multitask
from mlbook.multitask.weighting import (
    DynamicWeightAverage,
    EqualWeighting,
    FixedWeighting,
    LossWeighting,
    UncertaintyWeighting,
)

__all__ = [
    "CAGRAD_TOY_STARTS",
    "MGDA",
    "MISSING",
    "Aggregator",
    "AlignedMTL",
    "CAGrad",
    "CrossStitchNetwork",
    "CrossStitchUnit",
    "DynamicWeightAverage",
    "EqualWeighting",
    "FixedWeighting",
    "GradNorm",
    "HardSharing",
    "HierarchicalSharing",
    "LossWeighting",
    "Mean",
    "MultiTaskHistory",
    "NashMTL",
    "NoisyRegression",
    "OnRepresentation",
    "PCGrad",
    "SharedPrivate",
    "Sum",
    "UncertaintyWeighting",
    "aggregated_backward",
    "cagrad_toy_losses",
    "cagrad_toy_pareto_set",
    "difference_loss",
    "evaluate_multitask",
    "kendall_toy",
    "lookahead_affinity",
    "min_norm_weights",
    "representation_gram",
    "task_jacobian",
    "task_losses",
    "train_multitask",
]
