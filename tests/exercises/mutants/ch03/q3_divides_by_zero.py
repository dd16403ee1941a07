"""No guard for g1 = g2: 0 / 0 gives a NaN gamma and direction."""


def mgda_two_tasks(g1, g2):
    difference = g1 - g2
    gamma = ((g2 @ (g2 - g1)) / (difference @ difference)).clamp(0.0, 1.0)
    return gamma, gamma * g1 + (1 - gamma) * g2
