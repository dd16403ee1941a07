"""Wrong normalisation: sums the task directions instead of averaging."""

import torch


def reptile_update(theta, adapted, epsilon):
    with torch.no_grad():
        return {n: v + epsilon * sum(phi[n] - v for phi in adapted) for n, v in theta.items()}
