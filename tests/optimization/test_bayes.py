"""Early-stopped gradient descent equals MAP under the implicit Gaussian prior (MAML as hierarchical Bayes)."""

from __future__ import annotations

import pytest
import torch

from mlbook.optimization.bayes import gradient_descent_quadratic, implicit_prior_precision, map_estimate


def random_problem(seed: int = 0, dim: int = 4):
    gen = torch.Generator().manual_seed(seed)
    a = torch.randn(dim, dim, generator=gen, dtype=torch.float64)
    hessian = a @ a.T + 0.5 * torch.eye(dim, dtype=torch.float64)
    optimum = torch.randn(dim, generator=gen, dtype=torch.float64)
    theta = torch.randn(dim, generator=gen, dtype=torch.float64)
    return hessian, optimum, theta


@pytest.mark.parametrize("steps", [1, 3, 20])
def test_gradient_descent_is_map_under_the_implicit_prior(steps):
    hessian, optimum, theta = random_problem()
    lr = 0.9 / float(torch.linalg.eigvalsh(hessian).max())
    descent = gradient_descent_quadratic(hessian, optimum, theta, lr, steps)
    precision = implicit_prior_precision(hessian, lr, steps)
    assert torch.allclose(descent, map_estimate(hessian, optimum, theta, precision), atol=1e-10)


def test_prior_loosens_with_more_steps():
    hessian, _, _ = random_problem(1)
    lr = 0.5 / float(torch.linalg.eigvalsh(hessian).max())
    few, many = (torch.linalg.eigvalsh(implicit_prior_precision(hessian, lr, k)) for k in (1, 10))
    assert torch.all(many < few)


def test_bad_inputs():
    hessian, optimum, theta = random_problem()
    with pytest.raises(ValueError, match="lr must be in"):
        implicit_prior_precision(hessian, 10.0, 1)
    with pytest.raises(ValueError, match="square matrix"):
        implicit_prior_precision(torch.zeros(2, 3), 0.1, 1)
    with pytest.raises(ValueError, match="positive definite"):
        implicit_prior_precision(-hessian, 0.01, 1)
    with pytest.raises(ValueError, match="steps must be an int >= 1"):
        implicit_prior_precision(hessian, 0.01, 0)


def test_a_non_symmetric_hessian_is_refused():
    hessian, _, _ = random_problem()
    hessian[0, 1] += 1.0
    with pytest.raises(ValueError, match="hessian must be symmetric"):
        implicit_prior_precision(hessian, 0.01, 1)


def test_a_nan_learning_rate_is_refused():
    hessian, optimum, theta = random_problem()
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        implicit_prior_precision(hessian, float("nan"), 1)
    with pytest.raises(ValueError, match="lr must be a finite number > 0"):
        gradient_descent_quadratic(hessian, optimum, theta, float("nan"), 1)


def test_column_vectors_that_would_broadcast_are_refused():
    hessian, optimum, theta = random_problem()
    with pytest.raises(ValueError, match="optimum must have 1 dimensions"):
        gradient_descent_quadratic(hessian, optimum.reshape(-1, 1), theta, 0.01, 2)
    with pytest.raises(ValueError, match="prior_mean must have 1 dimensions"):
        map_estimate(hessian, optimum, theta.reshape(-1, 1), torch.eye(4, dtype=torch.float64))
