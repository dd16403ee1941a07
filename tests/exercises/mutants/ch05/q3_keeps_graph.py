"""Forgets no_grad/detach: the update stays attached to the autograd graph."""

import torch


def reptile_update(theta, adapted, epsilon):
    return {n: v + epsilon * (torch.stack([phi[n] for phi in adapted]).mean(0) - v) for n, v in theta.items()}
