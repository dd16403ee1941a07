"""Calls model(x), so the loss ignores `params` (no functional_call)."""

import torch


def inner_loop(model, params, x, y, loss_fn, inner_lr, steps, create_graph=True):
    adapted = dict(params)
    for _ in range(steps):
        loss = loss_fn(model(x), y)
        grads = torch.autograd.grad(loss, list(model.parameters()), create_graph=create_graph)
        adapted = {n: p - inner_lr * g for (n, p), g in zip(adapted.items(), grads, strict=True)}
    return adapted
