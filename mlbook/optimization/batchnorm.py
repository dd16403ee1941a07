"""The book's BatchNorm policy for gradient-based meta-learning: transductive, per task, no running statistics.

BatchNorm is a trap in the inner loop for three reasons:

1. **Train/eval mismatch.** Running averages collected during meta-training mix the statistics of support
   sets (5 images), query sets (75 images) and of every adaptation step; at test time ``eval()`` would
   normalise with those averages, which describe none of the batches the adapted network actually sees.
2. **Leakage between tasks.** Pushing all tasks of a meta-batch through the network as one batch normalises
   every task with statistics of the others: a task's prediction then depends on which other tasks happen
   to share its meta-batch.
3. **Running statistics are state.** Updating them during the inner loop mutates the meta-model as a side
   effect of adapting to a task.

Policy (that of the MAML reference implementation): every forward pass normalises with the statistics of
the batch it is given, in training *and* in evaluation, and that batch always belongs to exactly one task
(its support set during adaptation, its query set afterwards). No running statistics exist, so nothing is
mutated and nothing leaks. The price is transduction: a query prediction depends on the other queries of
the same task (as in the MAML paper's evaluation). The learned affine scale and shift stay meta-parameters
(and may be adapted).
"""

from __future__ import annotations

from torch import nn
from torch.nn.modules.batchnorm import _BatchNorm

from mlbook.validate import check_module


def transductive_batchnorm(module: nn.Module) -> nn.Module:
    """Switch every BatchNorm layer of ``module`` (in place) to batch statistics only, and drop its running
    statistics. Returns ``module``. Models without BatchNorm are returned unchanged."""
    check_module("module", module)
    for layer in module.modules():
        if isinstance(layer, _BatchNorm):
            layer.track_running_stats = False
            layer.running_mean = None
            layer.running_var = None
            layer.num_batches_tracked = None
    return module


def uses_running_statistics(module: nn.Module) -> list[str]:
    """Names of BatchNorm layers that still keep running statistics (empty under the transductive policy)."""
    check_module("module", module)
    return [
        name
        for name, layer in module.named_modules()
        if isinstance(layer, _BatchNorm) and (layer.track_running_stats or layer.running_mean is not None)
    ]
