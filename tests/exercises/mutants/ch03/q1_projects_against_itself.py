"""Forgets to skip j == i: a running gradient that came to conflict with its own original is projected too."""

import torch


def pcgrad(grads, order=None):
    num_tasks = grads.shape[0]
    if order is None:
        order = [list(range(num_tasks))] * num_tasks
    projected = []
    for i in range(num_tasks):
        running = grads[i].clone()
        for j in order[i]:
            dot = running @ grads[j]
            if dot < 0:
                running = running - dot / (grads[j] @ grads[j]) * grads[j]
        projected.append(running)
    projected = torch.stack(projected)
    return projected.sum(dim=0), projected
