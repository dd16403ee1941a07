"""Sign error: moves theta away from the adapted parameters."""

import torch


def reptile_update(theta, adapted, epsilon):
    with torch.no_grad():
        return {n: v - epsilon * (torch.stack([phi[n] for phi in adapted]).mean(0) - v) for n, v in theta.items()}
