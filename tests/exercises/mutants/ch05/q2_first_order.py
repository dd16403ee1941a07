"""Forgets create_graph in the meta-objective: first-order MAML, not the true meta-gradient."""

import torch
from torch.func import functional_call


def maml_meta_loss(model, tasks, loss_fn, inner_lr, steps):
    theta = dict(model.named_parameters())
    losses = []
    for sx, sy, qx, qy in tasks:
        adapted = inner_loop(model, theta, sx, sy, loss_fn, inner_lr, steps, create_graph=False)  # noqa: F821 (the reference's, in scope)
        losses.append(loss_fn(functional_call(model, adapted, (qx,)), qy))
    return torch.stack(losses).mean()
