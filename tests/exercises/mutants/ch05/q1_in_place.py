"""Updates the given parameters in place instead of building new tensors."""

import torch
from torch.func import functional_call


def inner_loop(model, params, x, y, loss_fn, inner_lr, steps, create_graph=True):
    for _ in range(steps):
        loss = loss_fn(functional_call(model, params, (x,)), y)
        grads = torch.autograd.grad(loss, list(params.values()))
        with torch.no_grad():
            for p, g in zip(params.values(), grads, strict=True):
                p -= inner_lr * g
    return dict(params)
