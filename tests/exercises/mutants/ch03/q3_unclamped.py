"""Does not clamp gamma to [0, 1]: leaves the convex hull."""

import torch


def mgda_two_tasks(g1, g2):
    difference = g1 - g2
    squared = difference @ difference
    gamma = torch.tensor(0.5, dtype=g1.dtype) if squared == 0 else (g2 @ (g2 - g1)) / squared
    return gamma, gamma * g1 + (1 - gamma) * g2
