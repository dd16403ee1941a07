"""Loss weightings: equal, fixed, uncertainty (Kendall et al. 2018) and dynamic weight average (Liu et al. 2019)."""

from __future__ import annotations

import math

import pytest
import torch

from mlbook.multitask.weighting import (
    DynamicWeightAverage,
    EqualWeighting,
    FixedWeighting,
    LossWeighting,
    UncertaintyWeighting,
)


def test_equal_weighting_is_the_plain_sum():
    losses = torch.tensor([0.5, 2.0, 3.0])
    method = EqualWeighting(3)
    assert method(losses).item() == 5.5
    assert torch.equal(method.weights(), torch.ones(3))


def test_fixed_weighting_is_the_weighted_sum():
    method = FixedWeighting([1.0, 0.1])
    assert method.n_tasks == 2
    assert method(torch.tensor([2.0, 10.0])).item() == pytest.approx(3.0)
    assert torch.allclose(method.weights(), torch.tensor([1.0, 0.1]))


@pytest.mark.parametrize("weights", [[1.0, 0.0], [1.0, -2.0], [1.0, math.nan], [math.inf], [], [[1.0]]])
def test_fixed_weighting_rejects_weights_that_are_not_positive_finite_and_1d(weights):
    with pytest.raises(ValueError, match="weights"):
        FixedWeighting(weights)


def test_fixed_weighting_checks_the_number_of_weights_against_n_tasks():
    assert FixedWeighting([1.0, 2.0], n_tasks=2).n_tasks == 2
    with pytest.raises(ValueError, match="weights must have one entry per task"):
        FixedWeighting([1.0, 2.0], n_tasks=3)


@pytest.mark.parametrize(("n_tasks", "error"), [(0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError)])
def test_weightings_reject_a_bad_number_of_tasks(n_tasks, error):
    for cls in (EqualWeighting, UncertaintyWeighting, DynamicWeightAverage):
        with pytest.raises(error, match="n_tasks"):
            cls(n_tasks)


@pytest.mark.parametrize(
    "losses, match",
    [
        (torch.ones(3), "length T=2"),
        (torch.ones(1, 2), "length T=2"),
        (torch.tensor(1.0), "length T=2"),
        (torch.tensor([1.0, math.nan]), "finite"),
        (torch.tensor([1.0, math.inf]), "finite"),
    ],
)
def test_weightings_reject_losses_that_are_not_a_finite_vector_of_length_t(losses, match):
    for method in (EqualWeighting(2), FixedWeighting([1.0, 2.0]), UncertaintyWeighting(2), DynamicWeightAverage(2)):
        with pytest.raises(ValueError, match=f"losses.*{match}"):
            method(losses)


def test_weightings_reject_losses_that_are_not_a_tensor():
    with pytest.raises(TypeError, match="losses"):
        EqualWeighting(2)([1.0, 2.0])


def test_base_weighting_needs_weights_and_has_no_op_hooks():
    method = LossWeighting(2)
    method.after_step(torch.ones(2))
    method.end_epoch(torch.ones(2))
    with pytest.raises(NotImplementedError):
        method(torch.ones(2))


def test_uncertainty_loss_follows_the_stated_conventions():
    method = UncertaintyWeighting(2, kinds=("regression", "classification"))
    s = torch.tensor([0.3, -0.7])
    with torch.no_grad():
        method.log_variances.copy_(s)
    losses = torch.tensor([2.0, 0.5])
    expected = 0.5 * math.exp(-0.3) * 2.0 + 0.5 * 0.3 + math.exp(0.7) * 0.5 + 0.5 * -0.7
    assert method(losses).item() == pytest.approx(expected, rel=1e-6)
    assert torch.allclose(method.weights(), torch.tensor([0.5 * math.exp(-0.3), math.exp(0.7)]))
    assert torch.allclose(method.sigmas(), torch.exp(s / 2))
    assert torch.allclose(method.sigmas() ** 2, torch.exp(s)), "s is log sigma^2"


def test_uncertainty_gradient_raises_sigma_of_the_task_with_the_larger_loss():
    method = UncertaintyWeighting(2)
    method(torch.tensor([0.5, 4.0])).backward()
    grad = method.log_variances.grad
    # d/ds [0.5 e^{-s} L + 0.5 s] at s = 0 is 0.5 (1 - L): descent lowers s for L < 1 and raises it for L > 1
    assert torch.allclose(grad, torch.tensor([0.25, -1.5]))
    assert grad[0] > 0 > grad[1]


@pytest.mark.parametrize("kind, stationary", [("regression", math.log), ("classification", lambda L: math.log(2 * L))])
def test_uncertainty_loss_is_stationary_and_minimal_at_the_stated_log_variance(kind, stationary):
    losses = torch.tensor([0.2, 1.0, 7.5], dtype=torch.float64)
    method = UncertaintyWeighting(3, kinds=kind).double()
    s_star = torch.tensor([stationary(float(L)) for L in losses], dtype=torch.float64)
    for shift, sign in ((0.0, 0), (0.1, 1), (-0.1, -1)):
        with torch.no_grad():
            method.log_variances.copy_(s_star + shift)
        method.log_variances.grad = None
        method(losses).backward()
        grad = method.log_variances.grad
        if sign == 0:
            assert torch.allclose(grad, torch.zeros(3, dtype=torch.float64), atol=1e-12)
        else:
            assert bool((torch.sign(grad) == sign).all()), "not a minimum: the gradient must point away from s*"


def test_uncertainty_learns_the_ratio_of_the_noise_levels_on_two_regressions():
    # two linear regressions y_t = x . beta_t + sigma_t * noise with sigma = 1 and 4: the learned sigma_t tracks
    # the residual scale, so the ratio of the learned sigmas is the ratio of the noises (4, up to sampling)
    n, d, noise = 2000, 4, torch.tensor([1.0, 4.0])
    x = torch.randn(n, d)
    beta = torch.randn(d, 2)
    y = x @ beta + torch.randn(n, 2) * noise
    model = torch.nn.Linear(d, 2)
    method = UncertaintyWeighting(2)
    optimizer = torch.optim.Adam([*model.parameters(), *method.parameters()], lr=0.1)
    for _ in range(300):
        optimizer.zero_grad()
        losses = ((model(x) - y) ** 2).mean(0)
        method(losses).backward()
        optimizer.step()
    residual_scale = losses.detach().sqrt()
    sigmas = method.sigmas()
    assert torch.allclose(sigmas, residual_scale, rtol=0.02), "sigma_t = sqrt(L_t) at the optimum"
    assert sigmas[1] / sigmas[0] == pytest.approx(4.0, rel=0.1)
    assert method.weights()[0] / method.weights()[1] == pytest.approx(16.0, rel=0.2), "weights are 1 / (2 sigma^2)"


def test_uncertainty_rejects_unknown_kinds():
    with pytest.raises(ValueError, match="kinds"):
        UncertaintyWeighting(2, kinds=("regression", "ranking"))
    with pytest.raises(ValueError, match="kinds"):
        UncertaintyWeighting(2, kinds=("regression",))


def test_dwa_weights_are_equal_for_the_first_two_epochs_then_softmax_of_the_loss_ratios():
    method = DynamicWeightAverage(2, temperature=2.0)
    assert torch.equal(method.weights(), torch.ones(2))
    method.end_epoch(torch.tensor([1.0, 2.0]))
    assert torch.equal(method.weights(), torch.ones(2))
    method.end_epoch(torch.tensor([0.5, 2.0]))
    # r = [0.5, 1.0]; w = 2 * softmax(r / 2) = 2 * [e^0.25, e^0.5] / (e^0.25 + e^0.5)
    assert torch.allclose(method.weights(), torch.tensor([0.875647, 1.124353]), atol=1e-6)
    losses = torch.tensor([3.0, 1.0])
    assert method(losses).item() == pytest.approx(0.875647 * 3.0 + 1.124353, rel=1e-6)
    method.end_epoch(torch.tensor([0.5, 1.0]))  # only the last two epochs count: r = [1.0, 0.5]
    assert torch.allclose(method.weights(), torch.tensor([1.124353, 0.875647]), atol=1e-6)


def test_dwa_temperature_flattens_the_weights():
    def weights(temperature):
        method = DynamicWeightAverage(3, temperature=temperature)
        method.end_epoch(torch.tensor([1.0, 1.0, 1.0]))
        method.end_epoch(torch.tensor([0.2, 0.6, 1.0]))
        return method.weights()

    sharp, flat = weights(0.1), weights(100.0)
    assert torch.allclose(sharp.sum(), torch.tensor(3.0)) and torch.allclose(flat.sum(), torch.tensor(3.0))
    assert sharp[2] > 2.9, "a low temperature gives almost all weight to the slowest task"
    assert torch.allclose(flat, torch.ones(3), atol=0.01)


def test_dwa_end_epoch_without_losses_averages_the_steps_it_saw():
    method, by_hand = DynamicWeightAverage(2), DynamicWeightAverage(2)
    for epoch in ([[1.0, 2.0], [3.0, 2.0]], [[1.0, 1.0], [1.0, 3.0]]):
        for step in epoch:
            method.after_step(torch.tensor(step))
        method.end_epoch()
        by_hand.end_epoch(torch.tensor(epoch).mean(0))
    assert torch.allclose(method.weights(), by_hand.weights())
    assert not torch.allclose(method.weights(), torch.ones(2))


def test_dwa_rejects_bad_arguments():
    with pytest.raises(ValueError, match="temperature"):
        DynamicWeightAverage(2, temperature=0.0)
    method = DynamicWeightAverage(2)
    with pytest.raises(ValueError, match="mean_losses"):
        method.end_epoch()
    with pytest.raises(ValueError, match="mean_losses must be positive"):
        method.end_epoch(torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match="mean_losses.*length T=2"):
        method.end_epoch(torch.ones(3))
