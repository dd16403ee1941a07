"""Uses one mean squared error over all outputs for every task instead of one per task."""

import torch


def fit_uncertainty_weights(x, ys, steps, seed):
    num_tasks = ys.shape[1]
    model = HardSharingRegressor(x.shape[1], 4, num_tasks, torch.Generator().manual_seed(seed))  # noqa: F821 (given)
    log_vars = torch.zeros(num_tasks, requires_grad=True)
    optimizer = torch.optim.Adam([*model.parameters(), log_vars], lr=0.1)
    for _ in range(steps):
        mse = ((model(x) - ys) ** 2).mean()
        loss = uncertainty_weighted_loss(mse.expand(num_tasks), log_vars)  # noqa: F821 (the reference's, in scope)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return torch.exp(0.5 * log_vars.detach())
