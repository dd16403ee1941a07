"""Where each aggregator leads on the two-objective toy (``cagrad_toy_losses``): the paths of the CAGrad figure.

At every step the 2 x 2 Jacobian of (L_1, L_2) at θ is combined by the aggregator into one direction, which Adam
follows. Liu et al. 2021 ran 100,000 Adam steps with learning rate 0.001 per path; ``toy_path`` takes fewer, larger
steps (a CPU-sized variant of their protocol), which is enough to see where each method goes.
"""

from __future__ import annotations

import math

import torch

from mlbook.multitask.aggregator import Aggregator
from mlbook.multitask.toys import cagrad_toy_losses
from mlbook.utils import check_positive_int


def toy_jacobian(theta: torch.Tensor) -> torch.Tensor:
    """The 2 x 2 Jacobian of (L_1, L_2) at θ (one backward pass per loss)."""
    theta = theta.clone().requires_grad_(True)
    losses = cagrad_toy_losses(theta)
    rows = [torch.autograd.grad(losses[t], theta, retain_graph=t == 0)[0] for t in range(2)]
    return torch.stack(rows)


def toy_path(aggregator: Aggregator, start, steps: int = 500, lr: float = 0.05) -> torch.Tensor:
    """The [n, 2] path of θ from ``start`` following ``aggregator``'s direction with Adam(``lr``): n = steps + 1,
    or fewer when the aggregator has no direction to give (it raises ``ValueError``, e.g. Nash-MTL where no
    bargaining solution exists); the path then ends where it stopped."""
    if not isinstance(aggregator, Aggregator):
        raise TypeError(f"aggregator must be an mlbook.multitask Aggregator, got {type(aggregator).__name__}")
    check_positive_int("steps", steps)
    if not (isinstance(lr, (int, float)) and 0 < lr < math.inf):
        raise ValueError(f"lr must be a positive finite number, got {lr!r}")
    theta = torch.tensor(start, dtype=torch.float64).clone().reshape(2).requires_grad_(True)
    optimizer = torch.optim.Adam([theta], lr=lr)
    path = [theta.detach().clone()]
    for _ in range(steps):
        jacobian = toy_jacobian(theta.detach())
        try:
            theta.grad = aggregator(jacobian)
        except ValueError:
            break
        optimizer.step()
        path.append(theta.detach().clone())
    return torch.stack(path)
