"""Divides by the squared norm of the running g_i instead of that of g_j (not a projection)."""

import torch


def pcgrad(grads, order=None):
    num_tasks = grads.shape[0]
    if order is None:
        order = [list(range(num_tasks))] * num_tasks
    projected = []
    for i in range(num_tasks):
        running = grads[i].clone()
        for j in order[i]:
            if j == i:
                continue
            dot = running @ grads[j]
            if dot < 0:
                running = running - dot / (running @ running) * grads[j]
        projected.append(running)
    projected = torch.stack(projected)
    return projected.sum(dim=0), projected
