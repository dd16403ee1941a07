"""Wrong normalisation: sums the task losses instead of averaging."""

import torch
from torch.func import functional_call


def maml_meta_loss(model, tasks, loss_fn, inner_lr, steps):
    theta = dict(model.named_parameters())
    losses = []
    for sx, sy, qx, qy in tasks:
        adapted = inner_loop(model, theta, sx, sy, loss_fn, inner_lr, steps, create_graph=True)  # noqa: F821 (the reference's, in scope)
        losses.append(loss_fn(functional_call(model, adapted, (qx,)), qy))
    return torch.stack(losses).sum()
