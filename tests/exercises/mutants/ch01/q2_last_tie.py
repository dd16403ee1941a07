"""Breaks ties towards the largest index."""


def nearest_support(distances):
    return distances.shape[1] - 1 - distances.flip(1).argmin(dim=1)
