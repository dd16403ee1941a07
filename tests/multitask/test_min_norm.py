import itertools

import numpy as np
import pytest
import torch
from scipy.optimize import minimize

from mlbook.multitask.min_norm import min_norm_weights


def _random_jacobian(n_tasks: int, n_params: int, seed: int, conflict: bool = True) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    jacobian = torch.randn(n_tasks, n_params, generator=g, dtype=torch.float64)
    if conflict:  # make the first two tasks pull in nearly opposite directions
        jacobian[1] = -0.8 * jacobian[0] + 0.3 * jacobian[1]
    return jacobian


def _slsqp_min_norm(gram: torch.Tensor) -> np.ndarray:
    """An independent solver: SLSQP on the simplex."""
    a = gram.numpy()
    n = a.shape[0]
    result = minimize(
        lambda w: (w @ a @ w, 2 * a @ w),
        np.full(n, 1.0 / n),
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0}],
        options={"ftol": 1e-16, "maxiter": 1000},
    )
    return result.x


def test_one_task_gets_weight_one():
    assert torch.equal(min_norm_weights(torch.tensor([[4.0]])), torch.tensor([1.0]))


@pytest.mark.parametrize("n_tasks", [2, 3, 4])
def test_orthogonal_equal_norm_gradients_get_equal_weights(n_tasks):
    jacobian = 3.0 * torch.eye(n_tasks, dtype=torch.float64)
    weights = min_norm_weights(jacobian @ jacobian.T)
    assert torch.allclose(weights, torch.full((n_tasks,), 1.0 / n_tasks, dtype=torch.float64), atol=1e-12)


def test_gradient_inside_the_others_halfspace_with_smaller_norm_gets_all_the_weight():
    # g1 . g2 = 2 >= ||g1||^2 = 1: the min-norm point of the hull is g1 itself
    jacobian = torch.tensor([[1.0, 0.0], [2.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(min_norm_weights(jacobian @ jacobian.T), torch.tensor([1.0, 0.0], dtype=torch.float64))
    assert torch.allclose(min_norm_weights(jacobian.flip(0) @ jacobian.flip(0).T), torch.tensor([0.0, 1.0]).double())
    three = torch.tensor([[1.0, 0.0], [2.0, 1.0], [2.0, -1.0]], dtype=torch.float64)  # the Frank-Wolfe path
    assert torch.allclose(min_norm_weights(three @ three.T), torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))


def test_tooling_facts_example_gives_the_min_norm_point():
    jacobian = torch.tensor([[-4.0, 1.0, 1.0], [6.0, 1.0, 1.0]])
    weights = min_norm_weights(jacobian @ jacobian.T)
    assert torch.allclose(weights, torch.tensor([0.6, 0.4]), atol=1e-6)
    assert torch.allclose(weights @ jacobian, torch.tensor([0.0, 1.0, 1.0]), atol=1e-5)


def test_two_tasks_closed_form_by_hand():
    # g1 = (2, 0), g2 = (0, 1): gamma = (g2 - g1) . g2 / ||g1 - g2||^2 = 1 / 5
    jacobian = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(min_norm_weights(jacobian @ jacobian.T), torch.tensor([0.2, 0.8], dtype=torch.float64))


def test_identical_gradients_split_evenly():
    jacobian = torch.tensor([[1.0, 2.0], [1.0, 2.0]], dtype=torch.float64)
    assert torch.allclose(min_norm_weights(jacobian @ jacobian.T), torch.tensor([0.5, 0.5], dtype=torch.float64))


@pytest.mark.parametrize(("n_tasks", "n_params", "seed"), [(2, 5, 0), (3, 10, 1), (5, 20, 2), (8, 30, 3), (6, 3, 4)])
def test_matches_an_independent_slsqp_solver(n_tasks, n_params, seed):
    jacobian = _random_jacobian(n_tasks, n_params, seed)
    gram = jacobian @ jacobian.T
    weights = min_norm_weights(gram)
    reference = torch.from_numpy(_slsqp_min_norm(gram))
    # the min-norm point J^T w is unique even when w is not (T > P in the last case)
    ours, theirs = weights @ jacobian, reference @ jacobian
    assert float(weights @ gram @ weights) <= float(reference @ gram @ reference) + 1e-12
    assert torch.allclose(ours, theirs, atol=1e-5 * float(jacobian.norm()))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_three_tasks_match_an_exhaustive_grid(seed):
    jacobian = _random_jacobian(3, 6, seed)
    gram = jacobian @ jacobian.T
    steps = 400
    grid = torch.tensor(
        [(i / steps, j / steps, (steps - i - j) / steps) for i in range(steps + 1) for j in range(steps + 1 - i)],
        dtype=torch.float64,
    )
    values = ((grid @ gram) * grid).sum(dim=1)
    weights = min_norm_weights(gram)
    value = float(weights @ gram @ weights)
    assert value <= float(values.min()) + 1e-12
    assert value >= float(values.min()) - 1e-3 * float(gram.diagonal().max())  # the grid is fine enough to be close
    assert (weights - grid[values.argmin()]).abs().max() < 0.05


@pytest.mark.parametrize(
    ("n_tasks", "n_params", "seed"), [(3, 10, 0), (5, 50, 1), (10, 100, 2), (7, 4, 3), (20, 30, 4)]
)
def test_kkt_conditions_hold(n_tasks, n_params, seed):
    jacobian = _random_jacobian(n_tasks, n_params, seed)
    gram = jacobian @ jacobian.T
    weights = min_norm_weights(gram)
    assert bool((weights >= 0).all()) and abs(float(weights.sum()) - 1.0) < 1e-12
    gw = gram @ weights  # (G w)_t = g_t . d with d = J^T w
    value = float(weights @ gw)
    scale = float(gram.diagonal().max())
    assert bool((gw >= value - 1e-9 * scale).all())  # no vertex improves: g_t . d >= ||d||^2
    assert torch.allclose(gw[weights > 1e-12], torch.full_like(gw[weights > 1e-12], value), atol=1e-9 * scale)


def test_weights_do_not_depend_on_the_scale_of_the_gradients():
    jacobian = _random_jacobian(4, 12, 5)
    gram = jacobian @ jacobian.T
    assert torch.allclose(min_norm_weights(gram), min_norm_weights(1e4 * gram), atol=1e-9)
    assert torch.allclose(min_norm_weights(gram), min_norm_weights(1e-4 * gram), atol=1e-9)


def test_zero_gradients_give_a_point_of_the_simplex():
    for n_tasks in (2, 4):
        weights = min_norm_weights(torch.zeros(n_tasks, n_tasks))
        assert bool((weights >= 0).all()) and abs(float(weights.sum()) - 1.0) < 1e-6


def test_keeps_dtype_and_permutes_with_the_tasks():
    jacobian = _random_jacobian(4, 9, 6).float()
    gram = jacobian @ jacobian.T
    weights = min_norm_weights(gram)
    assert weights.dtype == torch.float32
    for perm in itertools.islice(itertools.permutations(range(4)), 5):
        perm = list(perm)
        assert torch.allclose(min_norm_weights(gram[perm][:, perm]), weights[perm], atol=1e-5)


def test_bad_inputs_name_the_argument():
    with pytest.raises(ValueError, match="gram must be a square"):
        min_norm_weights(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="gram must be a square"):
        min_norm_weights(torch.zeros(2, 2, 2))
    with pytest.raises(ValueError, match="gram must be symmetric"):
        min_norm_weights(torch.tensor([[1.0, 0.5], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="gram must be positive semi-definite"):
        min_norm_weights(torch.tensor([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="gram must be finite"):
        min_norm_weights(torch.tensor([[float("nan"), 0.0], [0.0, 1.0]]))
    with pytest.raises(TypeError, match="gram must be a torch.Tensor"):
        min_norm_weights([[1.0]])
    with pytest.raises(ValueError, match="max_iter"):
        min_norm_weights(torch.eye(3), max_iter=0)
    with pytest.raises(ValueError, match="tol"):
        min_norm_weights(torch.eye(3), tol=-1.0)


def test_an_infinite_tolerance_is_refused_instead_of_returning_the_uniform_start():
    gram = torch.tensor([[4.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    with pytest.raises(ValueError, match="tol must be a finite number >= 0"):
        min_norm_weights(gram, tol=float("inf"))
