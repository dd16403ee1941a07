"""ANIL, "almost no inner loop" (Raghu et al. 2020): adapt only the head, meta-learn everything.

Raghu et al. found that MAML's inner loop barely changes the body of the network: the features are
reused, only the head rapidly learns. ANIL makes that the algorithm: the inner loop updates the ``head.*``
parameters only, the body is θ for every task. Because the body does not change during adaptation, the
support and query features are computed once per task and the inner loop runs on a linear layer -- far
cheaper than MAML, and still a true second-order meta-gradient (through the head's inner steps into the
body's features).

The model must have ``features`` and ``head`` sub-modules with ``forward = head(features(x))``
(``mlbook.models.Conv4`` and ``MLP`` do).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from mlbook.optimization.batched import stack_parameters, unchecked_batched_forward
from mlbook.optimization.functional import parameters_of, unchecked_forward
from mlbook.optimization.learner import Learner
from mlbook.optimization.maml import MAML, expand_shared_head


def _head_forward(head: nn.Module, params, features: torch.Tensor) -> torch.Tensor:
    return unchecked_forward(head, {name[len("head.") :]: p for name, p in params.items()}, features)


def _head_batched_forward(head: nn.Module, params, features: torch.Tensor) -> torch.Tensor:
    return unchecked_batched_forward(head, {name[len("head.") :]: p for name, p in params.items()}, features)


class ANIL(MAML):
    """``MAML`` restricted to the head, with the body's features computed once per task."""

    def __init__(self, model: nn.Module, inner_lr: float = 0.4, inner_steps: int = 1, **kwargs) -> None:
        if "adapt" in kwargs:
            raise ValueError("ANIL always adapts the head only; use MAML(adapt=...) for other choices")
        for part in ("features", "head"):
            if not isinstance(getattr(model, part, None), nn.Module):
                raise TypeError(f"ANIL needs a model with a `{part}` sub-module (forward = head(features(x)))")
        if not any(True for _ in model.head.parameters()):
            raise ValueError(
                f"ANIL needs a model whose head has parameters to adapt, got model.head = {model.head!r} "
                "(a Conv4 needs out_features, e.g. Conv4(out_features=5))"
            )
        super().__init__(model, inner_lr, inner_steps, adapt="head", **kwargs)

    def _prepare(self, support_x, query_x, n_way, *, second_order: bool, batched: bool, detach: bool = False):
        params = parameters_of(self.model)
        if detach:
            params = {n: p.detach() for n, p in params.items()}
        head = {n: p.requires_grad_(True) if detach else p for n, p in params.items() if n in self.adaptable}
        if self.shared_head:
            head = expand_shared_head(head, n_way) if not batched else head
        body = {n[len("features.") :]: p for n, p in params.items() if n.startswith("features.")}
        with torch.set_grad_enabled(torch.is_grad_enabled() and not detach):
            if batched:
                tasks = support_x.shape[0]
                body = stack_parameters(body, tasks)
                features_s = unchecked_batched_forward(self.model.features, body, support_x)
                features_q = unchecked_batched_forward(self.model.features, body, query_x)
            else:
                features_s = unchecked_forward(self.model.features, body, support_x)
                features_q = unchecked_forward(self.model.features, body, query_x)
        if batched:
            head = stack_parameters(head, support_x.shape[0])
            if self.shared_head:
                head = expand_shared_head(head, n_way)
            forward = partial(_head_batched_forward, self.model.head)
        else:
            forward = partial(_head_forward, self.model.head)
        learner = Learner(forward, head, self.adaptable, self.step_sizes, second_order=second_order)
        return learner, features_s, features_q
