"""Task Jacobians by autograd, and the training step of an aggregator.

- ``task_jacobian(losses, params)``: J [T, P], row t = dL_t/d(params) flattened (one backward pass per task).
- ``representation_gram(losses, z)``: G [T, T] of the gradients dL_t/dz with respect to the shared representation z
  (a batch of features, flattened whole). MGDA-UB (Sener & Koltun 2018) uses it instead of the Gram of the
  parameter gradients: it costs one backward pass through the heads only. By the chain rule
  dL_t/dtheta = Z^T dL_t/dz with Z = dz/dtheta, so the two Grams agree when Z Z^T = I; in general
  ||sum_t w_t dL_t/dtheta|| <= ||Z|| ||sum_t w_t dL_t/dz|| (their Theorem 1): MGDA on z minimises an upper bound.
- ``aggregated_backward(losses, shared_params, task_params, aggregator, representation=None)``: the training step.
  Without ``representation``, the shared parameters receive aggregator(J) and each task's parameters the gradient
  of sum_t L_t (which is the gradient of its own loss, since only that loss reaches them; torchjd's
  ``mtl_backward`` does the same). With ``representation=z``, the weights w come from the Gram of dL_t/dz and
  sum_t w_t L_t (w detached) is backpropagated through everything, so task t's parameters receive w_t dL_t.
  It returns the weights used.

Convention: gradients are ADDED to ``.grad`` (``None`` counts as zero), as ``loss.backward()`` does; call
``optimizer.zero_grad()`` first. The graph is freed afterwards unless ``retain_graph=True``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mlbook.multitask.aggregator import Aggregator


def _check_losses(losses: torch.Tensor) -> None:
    if not isinstance(losses, torch.Tensor) or losses.ndim != 1 or losses.numel() < 1:
        shape = tuple(losses.shape) if isinstance(losses, torch.Tensor) else type(losses).__name__
        raise ValueError(f"losses must be a 1-D tensor [T] of task losses with T >= 1, got {shape}")
    if not losses.requires_grad:
        raise ValueError("losses must require grad (be computed from the parameters)")
    if not bool(torch.isfinite(losses.detach()).all()):
        raise ValueError(
            f"losses must be finite, got {losses.detach().tolist()} (if training diverged, lower the learning rate)"
        )


def _check_params(name: str, params: Sequence[torch.Tensor]) -> list[torch.Tensor]:
    if isinstance(params, torch.Tensor):  # list(tensor) would give its rows, which no loss depends on
        raise TypeError(f"{name} must be a list of tensors, got a single tensor (wrap it in a list)")
    params = list(params)
    if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
        raise ValueError(f"{name} must be a non-empty sequence of tensors that require grad")
    return params


def _gradient(output: torch.Tensor, inputs: list[torch.Tensor], retain_graph: bool) -> list[torch.Tensor]:
    """d output / d inputs, with zeros for inputs the output does not reach."""
    grads = torch.autograd.grad(output, inputs, retain_graph=retain_graph, allow_unused=True)
    return [torch.zeros_like(x) if g is None else g for g, x in zip(grads, inputs, strict=True)]


def task_jacobian(losses: torch.Tensor, params: Sequence[torch.Tensor], retain_graph: bool = False) -> torch.Tensor:
    """J [T, P]: row t is the gradient of ``losses[t]`` w.r.t. ``params``, flattened and concatenated in order.

    The graph is kept between rows and freed after the last one unless ``retain_graph``."""
    _check_losses(losses)
    params = _check_params("params", params)
    n_tasks = losses.shape[0]
    rows = []
    for t in range(n_tasks):
        grads = _gradient(losses[t], params, retain_graph=retain_graph or t < n_tasks - 1)
        rows.append(torch.cat([g.reshape(-1) for g in grads]))
    return torch.stack(rows)


def representation_gram(losses: torch.Tensor, z: torch.Tensor, retain_graph: bool = False) -> torch.Tensor:
    """G [T, T] with G_ij = (dL_i/dz) . (dL_j/dz), z the shared representation (any shape, flattened whole)."""
    if not isinstance(z, torch.Tensor) or not z.requires_grad:
        raise ValueError("z must be a tensor in the graph of the losses (the shared representation)")
    rows = task_jacobian(losses, [z], retain_graph=retain_graph)
    return rows @ rows.T


def aggregated_backward(
    losses: torch.Tensor,
    shared_params: Sequence[torch.Tensor],
    task_params: Sequence[Sequence[torch.Tensor]],
    aggregator: Aggregator,
    representation: torch.Tensor | None = None,
    retain_graph: bool = False,
) -> torch.Tensor:
    """Backward pass of one multi-task step with an aggregator; returns the task weights used [T] (detached)."""
    _check_losses(losses)
    shared = _check_params("shared_params", shared_params)
    if not isinstance(aggregator, Aggregator):
        raise TypeError(f"aggregator must be an mlbook.multitask Aggregator, got {type(aggregator).__name__}")
    if not isinstance(task_params, (list, tuple)):
        raise TypeError(
            f"task_params must be a list with one list of parameters per task (model.task_parameters()), "
            f"got {type(task_params).__name__}"
        )
    if len(task_params) != losses.shape[0]:
        raise ValueError(f"task_params must hold one list per task ({losses.shape[0]}), got {len(task_params)}")
    own = [p for params in task_params for p in params]
    if representation is not None:
        weights = aggregator.weights(representation_gram(losses, representation, retain_graph=True))
        weights = weights.detach().to(losses.dtype)
        (weights @ losses).backward(retain_graph=retain_graph)
        return weights
    if own:
        _accumulate(own, _gradient(losses.sum(), _check_params("task_params", own), retain_graph=True))
    jacobian = task_jacobian(losses, shared, retain_graph=retain_graph)
    j64 = jacobian.to(torch.float64)
    weights = aggregator.weights(j64 @ j64.T)
    direction = weights.to(jacobian.dtype) @ jacobian  # = aggregator(jacobian)
    _accumulate(shared, list(direction.split([p.numel() for p in shared])))
    return weights.to(losses.dtype).detach()


def _accumulate(params: list[torch.Tensor], grads: list[torch.Tensor]) -> None:
    """p.grad += g (reshaped), the way backward() accumulates."""
    for p, g in zip(params, grads, strict=True):
        g = g.reshape(p.shape).to(p.dtype)
        p.grad = g.clone() if p.grad is None else p.grad + g
