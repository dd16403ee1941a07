"""Picks the farthest support image (argmax) instead of the nearest."""


def nearest_support(distances):
    return distances.argmax(dim=1)
