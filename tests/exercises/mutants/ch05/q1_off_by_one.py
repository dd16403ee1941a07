"""Off by one: takes steps - 1 inner steps."""

import torch
from torch.func import functional_call


def inner_loop(model, params, x, y, loss_fn, inner_lr, steps, create_graph=True):
    adapted = dict(params)
    for _ in range(steps - 1):
        loss = loss_fn(functional_call(model, adapted, (x,)), y)
        grads = torch.autograd.grad(loss, list(adapted.values()), create_graph=create_graph)
        adapted = {n: p - inner_lr * g for (n, p), g in zip(adapted.items(), grads, strict=True)}
    return adapted
