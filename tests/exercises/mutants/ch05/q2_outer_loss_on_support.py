"""Scores the adapted parameters on the support set again (never the query set)."""

import torch
from torch.func import functional_call


def maml_meta_loss(model, tasks, loss_fn, inner_lr, steps):
    theta = dict(model.named_parameters())
    losses = []
    for sx, sy, _qx, _qy in tasks:
        adapted = inner_loop(model, theta, sx, sy, loss_fn, inner_lr, steps, create_graph=True)  # noqa: F821 (the reference's, in scope)
        losses.append(loss_fn(functional_call(model, adapted, (sx,)), sy))
    return torch.stack(losses).mean()
