"""Adapts from detached copies of the parameters: no meta-gradient reaches the model."""

import torch
from torch.func import functional_call


def maml_meta_loss(model, tasks, loss_fn, inner_lr, steps):
    theta = {n: p.detach().clone().requires_grad_() for n, p in model.named_parameters()}
    losses = []
    for sx, sy, qx, qy in tasks:
        adapted = inner_loop(model, theta, sx, sy, loss_fn, inner_lr, steps, create_graph=True)  # noqa: F821 (the reference's, in scope)
        losses.append(loss_fn(functional_call(model, adapted, (qx,)), qy))
    return torch.stack(losses).mean()
