"""Optimization-based meta-learning (chapter 5): MAML and its family on ``torch.func``.

Every method is an ``mlbook.training.EpisodicMethod`` (train with ``mlbook.training.train``, evaluate with
``evaluate`` / ``evaluate_oneshot``) and the gradient-based ones share one low-level shape::

    learner = maml.clone()
    learner.adapt(task_loss(learner(support_x), support_y))
    task_loss(learner(query_x), query_y).backward()      # second-order meta-gradient into θ

* ``MAML`` (second order; MAML++ per-step learning rates and multi-step loss), ``FOMAML``,
  ``MetaSGD`` (learned per-parameter step sizes), ``ANIL`` (adapt the head only), ``Reptile``,
  ``R2D2`` (differentiable closed-form ridge-regression head), and ``PretrainedFineTune``, the
  pretrained-on-all-tasks baseline of the MAML paper.
* BatchNorm policy: ``transductive_batchnorm`` (per-task batch statistics, no running statistics).
* ``task_batched_forward``: the tasks of a meta-batch in one set of kernels (grouped convolutions);
  ``MAML(..., workers=k)``: the tasks of a meta-batch adapted in k threads (``parallel.meta_gradient``), which
  needs the thread-safe ``pure_forward`` (Conv4, MLP, Sequentials of standard layers).
* ``pure_forward`` computes a first conv + BatchNorm block on the raw input as one folded matrix product
  (``folded.py``: exact, and it removes the full-resolution normalisation from second-order MAML), and runs
  convolutions and BatchNorm with hand-written second derivatives (``conv_grad.py``, ``batchnorm_grad.py``;
  PyTorch's own operators inside task threads, ``pure.pytorch_derivatives``).
"""

from mlbook.optimization.anil import ANIL
from mlbook.optimization.batched import stack_parameters, task_batched_forward, unsupported_modules
from mlbook.optimization.batchnorm import transductive_batchnorm, uses_running_statistics
from mlbook.optimization.bayes import gradient_descent_quadratic, implicit_prior_precision, map_estimate
from mlbook.optimization.closed_form import R2D2, ridge_predict, ridge_solution
from mlbook.optimization.evaluation import evaluate_after_steps, load_benchmark_result
from mlbook.optimization.functional import buffers_of, functional_forward, gradient_step, parameters_of
from mlbook.optimization.learner import Learner
from mlbook.optimization.losses import per_task_losses, task_loss, task_metrics
from mlbook.optimization.maml import FOMAML, INNER_LR_MODES, MAML, stack_episodes
from mlbook.optimization.metasgd import MetaSGD
from mlbook.optimization.parallel import meta_gradient
from mlbook.optimization.pretrained import PretrainedFineTune
from mlbook.optimization.pure import pure_forward, pytorch_derivatives, supports_pure_forward
from mlbook.optimization.reptile import Reptile

__all__ = [
    "ANIL",
    "FOMAML",
    "INNER_LR_MODES",
    "MAML",
    "R2D2",
    "Learner",
    "MetaSGD",
    "PretrainedFineTune",
    "Reptile",
    "buffers_of",
    "evaluate_after_steps",
    "functional_forward",
    "gradient_descent_quadratic",
    "gradient_step",
    "implicit_prior_precision",
    "load_benchmark_result",
    "map_estimate",
    "meta_gradient",
    "parameters_of",
    "per_task_losses",
    "pure_forward",
    "pytorch_derivatives",
    "ridge_predict",
    "ridge_solution",
    "stack_episodes",
    "stack_parameters",
    "supports_pure_forward",
    "task_batched_forward",
    "task_loss",
    "task_metrics",
    "transductive_batchnorm",
    "unsupported_modules",
    "uses_running_statistics",
]
