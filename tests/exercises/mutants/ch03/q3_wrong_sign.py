"""Gets the sign of the numerator wrong ((g1 - g2) . g2 instead of (g2 - g1) . g2)."""

import torch


def mgda_two_tasks(g1, g2):
    difference = g1 - g2
    squared = difference @ difference
    gamma = torch.tensor(0.5, dtype=g1.dtype) if squared == 0 else ((g2 @ (g1 - g2)) / squared).clamp(0.0, 1.0)
    return gamma, gamma * g1 + (1 - gamma) * g2
