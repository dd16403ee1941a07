"""``Learner``: a task's copy φ of the meta-model, which can be called and adapted without touching θ.

The whole optimisation-based family shares this shape::

    learner = maml.clone()                     # φ_0 = θ (the same tensors: gradients flow back to θ)
    for _ in range(steps):
        learner.adapt(loss_fn(learner(support_x), support_y))   # φ_{s+1} = φ_s - α_s ⊙ ∇ L(φ_s)
    query_loss = loss_fn(learner(query_x), query_y)               # differentiable w.r.t. θ (and α)

``adapt`` never modifies a tensor in place: it builds new tensors, so the meta-parameters θ keep their
values and the graph from θ to φ is kept for the second-order meta-gradient.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import torch

from mlbook.optimization.checks import check_tensor_dict
from mlbook.optimization.functional import Params, unchecked_step
from mlbook.validate import check_bool, check_callable

Forward = Callable[[Mapping[str, torch.Tensor], torch.Tensor], torch.Tensor]
StepSizes = Callable[[int], Mapping[str, torch.Tensor | float]]


class Learner:
    """Task-specific parameters φ plus the function that evaluates the network at them.

    * ``forward(params, x)``: the network as a pure function (``functional_forward`` of a module, or the
      task-batched forward where every tensor has a leading task dimension);
    * ``params``: every parameter the forward needs (θ for the ones that are not adapted);
    * ``adaptable``: the names that ``adapt`` updates (all of them for MAML, the head for ANIL, ...);
    * ``step_sizes(step)``: name -> step size (float, scalar tensor or per-element tensor) for inner step
      ``step``; learned step sizes (Meta-SGD, MAML++) are tensors that receive meta-gradients;
    * ``second_order`` (a bool): keep the graph of the inner gradients (``create_graph=True``) so the meta-gradient
      contains the Hessian term; ``False`` treats the inner gradients as constants (first-order MAML).
    """

    def __init__(
        self,
        forward: Forward,
        params: Mapping[str, torch.Tensor],
        adaptable: Sequence[str],
        step_sizes: StepSizes,
        *,
        second_order: bool = True,
    ) -> None:
        check_callable("forward", forward)
        check_tensor_dict("params", params)
        if isinstance(adaptable, str) or not isinstance(adaptable, Sequence):
            raise TypeError(f"adaptable must be a list of parameter names, got {adaptable!r}")
        check_callable("step_sizes", step_sizes)
        check_bool("second_order", second_order)
        missing = [name for name in adaptable if name not in params]
        if missing:
            raise ValueError(f"adaptable names {missing} are not among the parameters {list(params)}")
        if not adaptable:
            raise ValueError("adaptable must name at least one parameter")
        self._forward = forward
        self.params: Params = dict(params)
        self.adaptable = tuple(adaptable)
        self.step_sizes = step_sizes
        self.second_order = second_order
        self.steps_taken = 0

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return self._forward(self.params, x)

    def clone(self) -> Learner:
        """An independent learner starting from the current φ (adapting it leaves this one unchanged)."""
        other = Learner(self._forward, self.params, self.adaptable, self.step_sizes, second_order=self.second_order)
        other.steps_taken = self.steps_taken
        return other

    def gradients(self, loss: torch.Tensor) -> dict[str, torch.Tensor]:
        """∇_φ loss for the adaptable parameters (graph kept when ``second_order``)."""
        if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
            shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
            raise ValueError(f"adapt needs a scalar loss tensor, got {shape}")
        if not loss.requires_grad:
            raise ValueError(
                "the loss does not depend on the learner's parameters: compute it from learner(x), "
                "with autograd enabled"
            )
        tensors = [self.params[name] for name in self.adaptable]
        with torch.enable_grad():
            grads = torch.autograd.grad(loss, tensors, create_graph=self.second_order, allow_unused=True)
        out = {}
        for name, tensor, grad in zip(self.adaptable, tensors, grads, strict=True):
            grad = torch.zeros_like(tensor) if grad is None else grad
            out[name] = grad if self.second_order else grad.detach()
        return out

    def adapt(self, loss: torch.Tensor) -> Learner:
        """One inner gradient step on ``loss`` (computed from this learner's outputs). Returns ``self``."""
        grads = self.gradients(loss)
        self.params = unchecked_step(self.params, grads, self.step_sizes(self.steps_taken))
        self.steps_taken += 1
        return self
