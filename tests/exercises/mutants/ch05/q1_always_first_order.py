"""Forgets create_graph: the inner gradients are always constants (first order)."""

import torch
from torch.func import functional_call


def inner_loop(model, params, x, y, loss_fn, inner_lr, steps, create_graph=True):
    adapted = dict(params)
    for _ in range(steps):
        loss = loss_fn(functional_call(model, adapted, (x,)), y)
        grads = torch.autograd.grad(loss, list(adapted.values()))
        adapted = {n: p - inner_lr * g for (n, p), g in zip(adapted.items(), grads, strict=True)}
    return adapted
