"""Ignores the given order and always visits the tasks as 0, 1, ..., T-1."""

import torch


def pcgrad(grads, order=None):
    num_tasks = grads.shape[0]
    projected = []
    for i in range(num_tasks):
        running = grads[i].clone()
        for j in range(num_tasks):
            if j == i:
                continue
            dot = running @ grads[j]
            if dot < 0:
                running = running - dot / (grads[j] @ grads[j]) * grads[j]
        projected.append(running)
    projected = torch.stack(projected)
    return projected.sum(dim=0), projected
