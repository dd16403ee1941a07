import math

import numpy as np
import pytest
import torch

from mlbook.multitask.toys import (
    CAGRAD_TOY_STARTS,
    HIDDEN,
    NoisyRegression,
    cagrad_toy_losses,
    cagrad_toy_pareto_set,
    kendall_toy,
)

# ---- Kendall et al.'s noisy regression tasks -------------------------------------------------------------------


def least_squares_residual_std(inputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    design = torch.cat([inputs, torch.ones(len(inputs), 1)], dim=1).double()
    solution = torch.linalg.lstsq(design, targets.double()).solution
    return (targets.double() - design @ solution).std(dim=0)


def test_kendall_toy_shapes_and_true_noise_scales():
    toy = kendall_toy(100, sigmas=(1.0, 4.0, 0.5), in_features=3)
    assert toy.x.shape == (100, 3) and toy.y.shape == (100, 3) and toy.mean.shape == (100, 3)
    assert toy.features.shape == (100, HIDDEN) and toy.readout.shape == (HIDDEN, 3)
    assert toy.projection.shape == (3, HIDDEN)
    assert torch.equal(toy.sigmas, torch.tensor([1.0, 4.0, 0.5]))
    assert torch.allclose(toy.mean, toy.features @ toy.readout)


def test_bayes_optimal_residual_std_equals_the_noise_scales():
    toy = kendall_toy(20000, sigmas=(1.0, 4.0), seed=1)
    assert torch.allclose((toy.y - toy.mean).std(dim=0), toy.sigmas, rtol=0.03)
    # ordinary least squares on the shared features reaches the same noise floor and no lower
    assert torch.allclose(least_squares_residual_std(toy.features, toy.y).float(), toy.sigmas, rtol=0.03)


def test_tasks_have_unit_variance_different_functions_and_independent_noise():
    toy = kendall_toy(20000, seed=2)
    assert torch.allclose(toy.mean.std(dim=0), torch.ones(2), atol=0.05)
    assert torch.corrcoef(toy.mean.T)[0, 1].abs() < 0.9  # two different readouts of the same features
    noise = (toy.y - toy.mean) / toy.sigmas
    assert torch.corrcoef(noise.T)[0, 1].abs() < 0.05


def test_the_tasks_are_non_linear_in_the_input():
    toy = kendall_toy(20000, sigmas=(1.0, 4.0), seed=3)
    assert least_squares_residual_std(toy.x, toy.y)[0] > 1.05 * toy.sigmas[0]  # a linear fit misses f_1's bends


def test_seed_draws_samples_and_function_seed_draws_the_tasks():
    train, test = kendall_toy(5000, seed=0), kendall_toy(5000, seed=1)
    assert not torch.equal(train.x, test.x)
    assert torch.equal(train.projection, test.projection) and torch.equal(train.readout, test.readout)
    assert torch.allclose(test.features, torch.tanh(test.x @ train.projection))
    other_tasks = kendall_toy(5000, seed=0, function_seed=1)
    assert torch.equal(other_tasks.x, train.x) and not torch.equal(other_tasks.readout, train.readout)
    assert torch.equal(kendall_toy(50, seed=4).y, kendall_toy(50, seed=4).y)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n": 0}, "n must be an int >= 1"),
        ({"n": 10, "sigmas": (1.0, 0.0)}, "sigmas must be a non-empty sequence of positive numbers"),
        ({"n": 10, "sigmas": ()}, "sigmas must be a non-empty sequence"),
        ({"n": 10, "sigmas": ((1.0, 2.0),)}, "sigmas must be a non-empty sequence"),
        ({"n": 10, "sigmas": ("a", "b")}, "sigmas must be a sequence of positive numbers"),
        ({"n": 10, "seed": -1}, "seed must be an int >= 0"),
        ({"n": 10, "in_features": 0}, "in_features must be an int >= 1"),
        ({"n": 10, "function_seed": -2}, "function_seed must be an int >= 0"),
    ],
)
def test_kendall_toy_names_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        kendall_toy(**kwargs)


def test_kendall_toy_refuses_a_fractional_seed_as_a_type_error():
    with pytest.raises(TypeError, match="function_seed must be an int"):
        kendall_toy(10, function_seed=1.5)


# ---- the CAGrad toy ----------------------------------------------------------------------------------------------


def reference_losses(x1: float, x2: float) -> tuple[float, float]:
    """The losses of Liu et al. 2021's toy, one point at a time, written from the authors' formula."""
    up, down = max(math.tanh(x2 / 2), 0.0), max(math.tanh(-x2 / 2), 0.0)
    valley1 = math.log(max(abs(0.5 * (-x1 - 7) - math.tanh(-x2)), 5e-6)) + 6
    valley2 = math.log(max(abs(0.5 * (-x1 + 3) + math.tanh(-x2) + 2), 5e-6)) + 6
    bowl1 = ((-x1 + 7) ** 2 + 0.1 * (-x2 - 8) ** 2) / 10 - 20
    bowl2 = ((-x1 - 7) ** 2 + 0.1 * (-x2 - 8) ** 2) / 10 - 20
    return up * valley1 + down * bowl1, up * valley2 + down * bowl2


def gradients(theta: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    theta = theta.detach().clone().requires_grad_(True)
    losses = cagrad_toy_losses(theta)
    first = torch.autograd.grad(losses[..., 0].sum(), theta, retain_graph=True)[0]
    second = torch.autograd.grad(losses[..., 1].sum(), theta)[0]
    return first, second


def test_losses_match_the_papers_formula_at_any_batch_shape():
    generator = torch.Generator().manual_seed(0)
    theta = torch.rand(4, 3, 2, generator=generator, dtype=torch.float64) * 20 - 10
    losses = cagrad_toy_losses(theta)
    assert losses.shape == (4, 3, 2) and losses.dtype == torch.float64
    expected = torch.tensor([reference_losses(*point) for point in theta.reshape(-1, 2).tolist()], dtype=torch.float64)
    assert torch.allclose(losses.reshape(-1, 2), expected, rtol=1e-12, atol=1e-12)
    starts = cagrad_toy_losses(CAGRAD_TOY_STARTS)
    assert starts.shape == (3, 2)
    expected = torch.tensor([reference_losses(*point) for point in CAGRAD_TOY_STARTS.tolist()], dtype=torch.float64)
    assert torch.allclose(starts.double(), expected, rtol=1e-5)  # float32 in, float32 out


def test_losses_are_differentiable():
    points = torch.tensor([[-8.5, 7.5], [-8.5, -5.0], [9.0, 9.0], [1.0, -8.0]], dtype=torch.float64)
    assert torch.autograd.gradcheck(cagrad_toy_losses, (points.requires_grad_(True),))


def test_pareto_set_runs_between_the_two_single_task_minima():
    pareto = cagrad_toy_pareto_set(201)
    assert pareto.shape == (201, 2) and pareto.dtype == torch.float64
    assert torch.allclose(pareto[:, 0], torch.linspace(-7, 7, 201, dtype=torch.float64))
    losses = cagrad_toy_losses(pareto)
    assert torch.all(losses[1:, 0] < losses[:-1, 0]) and torch.all(losses[1:, 1] > losses[:-1, 1])
    grid = torch.stack(torch.meshgrid(*[torch.linspace(-10, 10, 801, dtype=torch.float64)] * 2, indexing="ij"), -1)
    grid_losses = cagrad_toy_losses(grid).reshape(-1, 2)
    assert torch.allclose(losses[-1, 0], grid_losses[:, 0].min(), atol=1e-4)  # L_1's minimum at (7, -8.43)
    assert torch.allclose(losses[0, 1], grid_losses[:, 1].min(), atol=1e-4)  # L_2's minimum at (-7, -8.43)
    assert torch.allclose(pareto[100], torch.tensor([0.0, -8.3552], dtype=torch.float64), atol=1e-4)  # the paper's star


def test_gradients_are_anti_parallel_on_the_pareto_set_only():
    pareto = cagrad_toy_pareto_set(101)[1:-1]  # at the two ends one gradient vanishes
    first, second = gradients(pareto)
    cosine = torch.nn.functional.cosine_similarity(first, second, dim=-1)
    assert torch.allclose(cosine, -torch.ones_like(cosine), atol=1e-12, rtol=0)
    generator = torch.Generator().manual_seed(1)
    others = torch.rand(5000, 2, generator=generator, dtype=torch.float64) * 20 - 10
    curve = torch.from_numpy(np.interp(others[:, 0].numpy(), pareto[:, 0].numpy(), pareto[:, 1].numpy()))
    off_curve = (others[:, 0].abs() > 7.05) | ((others[:, 1] - curve).abs() > 0.05)
    first, second = gradients(others[off_curve])
    cosine = torch.nn.functional.cosine_similarity(first, second, dim=-1)
    assert (cosine > -1 + 1e-7).all()
    shifted = pareto + torch.tensor([0.0, 0.05], dtype=torch.float64)  # just above the curve
    cosine = torch.nn.functional.cosine_similarity(*gradients(shifted), dim=-1)
    assert (cosine > -1 + 1e-7).all()


def test_every_pareto_point_minimises_its_weighted_sum_over_a_dense_grid():
    pareto = cagrad_toy_pareto_set(21)
    weights = torch.linspace(0, 1, 21, dtype=torch.float64)
    axis = torch.linspace(-10, 10, 401, dtype=torch.float64)
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1).reshape(-1, 2)
    near = pareto[:, None, :] + 1e-3 * torch.tensor([[1.0, 0], [-1, 0], [0, 1], [0, -1]], dtype=torch.float64)
    mix = torch.stack([weights, 1 - weights], dim=1)
    at_pareto = (cagrad_toy_losses(pareto) * mix).sum(-1)
    assert torch.all(at_pareto[:, None] <= (cagrad_toy_losses(near) * mix[:, None]).sum(-1))
    on_grid = cagrad_toy_losses(grid) @ mix.T  # [grid points, weights]
    assert torch.all(at_pareto <= on_grid.min(dim=0).values + 1e-12)


def test_no_grid_point_beats_the_pareto_front():
    pareto_losses = cagrad_toy_losses(cagrad_toy_pareto_set(4001))
    axis = torch.linspace(-10, 10, 601, dtype=torch.float64)
    grid_losses = cagrad_toy_losses(torch.stack(torch.meshgrid(axis, axis, indexing="ij"), -1)).reshape(-1, 2)
    # along the front L_1 falls as L_2 rises: the least L_2 reachable with L_1 <= a is the front's L_2 at a,
    # read off by linear interpolation (whose chords sit up to ~1e-4 above the convex front near its ends)
    l1, l2 = pareto_losses[:, 0].flip(0).numpy(), pareto_losses[:, 1].flip(0).numpy()
    best_l2 = torch.from_numpy(np.interp(grid_losses[:, 0].numpy(), l1, l2))
    assert grid_losses[:, 0].min() >= l1[0] - 1e-9
    assert torch.all(grid_losses[:, 1] >= best_l2 - 1e-3)


def test_cagrad_toy_names_bad_arguments():
    for bad in (torch.zeros(3), torch.zeros(2, 3), torch.zeros(4, 2, dtype=torch.long), [0.0, 1.0], torch.tensor(1.0)):
        with pytest.raises(ValueError, match=r"theta must be a floating-point tensor of shape \[\.\.\., 2\]"):
            cagrad_toy_losses(bad)
    for bad in (1, 0):
        with pytest.raises(ValueError, match="n_points must be an int >= 2"):
            cagrad_toy_pareto_set(bad)
    with pytest.raises(TypeError, match="n_points must be an int"):
        cagrad_toy_pareto_set(2.0)


def test_noisy_regression_refuses_fields_that_are_not_tensors_or_do_not_line_up():
    data = kendall_toy(8)
    fields = {name: getattr(data, name) for name in data.__dataclass_fields__}
    with pytest.raises(TypeError, match="x must be a torch.Tensor"):
        NoisyRegression(**{**fields, "x": data.x.tolist()})
    with pytest.raises(ValueError, match="x and y must have the same length"):
        NoisyRegression(**{**fields, "y": data.y[:5]})
    with pytest.raises(ValueError, match="sigmas must have 1 dimensions"):
        NoisyRegression(**{**fields, "sigmas": data.sigmas.expand(2, 2)})
