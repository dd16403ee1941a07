"""Functional parameters: a misspelt or misshapen parameter is refused instead of being ignored or broadcast."""

from __future__ import annotations

import pytest
import torch

from mlbook.optimization import (
    Learner,
    functional_forward,
    gradient_step,
    pure_forward,
    stack_parameters,
    supports_pure_forward,
    task_batched_forward,
    unsupported_modules,
)
from tests.optimization.conftest import tiny_mlp


def misspelt(model) -> dict[str, torch.Tensor]:
    return {"head.wieght": torch.zeros_like(model.head.weight)}


def test_functional_forward_refuses_a_misspelt_name_and_suggests_the_real_one():
    model = tiny_mlp()
    with pytest.raises(ValueError, match=r"'head.wieght' \(did you mean 'head.weight'\?\)"):
        functional_forward(model, misspelt(model), torch.zeros(3, 1, dtype=torch.float64))


def test_a_misspelt_name_is_refused_by_the_other_forwards_too():
    model = tiny_mlp()
    with pytest.raises(ValueError, match="did you mean 'head.weight'"):
        pure_forward(model, misspelt(model), torch.zeros(3, 1, dtype=torch.float64))
    stacked = {"head.wieght": torch.zeros(2, *model.head.weight.shape, dtype=torch.float64)}
    with pytest.raises(ValueError, match="did you mean 'head.weight'"):
        task_batched_forward(model, stacked, torch.zeros(2, 3, 1, dtype=torch.float64))


def test_functional_forward_with_valid_names_equals_the_module():
    model = tiny_mlp()
    x = torch.linspace(-1, 1, 5, dtype=torch.float64).reshape(5, 1)
    assert torch.equal(functional_forward(model, dict(model.named_parameters()), x), model(x))


def test_gradient_step_refuses_a_gradient_that_would_broadcast():
    with pytest.raises(ValueError, match=r"grads\['w'\] must have the parameter's shape \(3,\)"):
        gradient_step({"w": torch.ones(3)}, {"w": torch.ones(1)}, {"w": 0.1})


def test_gradient_step_refuses_a_nan_step_size():
    with pytest.raises(ValueError, match=r"step_sizes\['w'\] must be a finite number"):
        gradient_step({"w": torch.ones(3)}, {"w": torch.ones(3)}, {"w": float("nan")})


def test_stack_parameters_refuses_zero_tasks():
    with pytest.raises(ValueError, match="tasks must be an int >= 1"):
        stack_parameters({"w": torch.ones(3)}, 0)


def test_module_checks_refuse_what_is_not_a_module():
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        supports_pure_forward("conv4")
    with pytest.raises(TypeError, match="module must be a torch.nn.Module"):
        unsupported_modules("conv4")


def test_learner_refuses_a_string_where_a_list_of_names_or_a_function_is_expected():
    params = {"w": torch.ones(1, requires_grad=True)}
    with pytest.raises(TypeError, match="adaptable must be a list of parameter names"):
        Learner(lambda p, x: x * p["w"], params, "w", lambda step: {"w": 0.1})
    with pytest.raises(TypeError, match="step_sizes must be callable"):
        Learner(lambda p, x: x * p["w"], params, ["w"], 0.1)
    with pytest.raises(TypeError, match=r"params\['w'\] must be a torch.Tensor"):
        Learner(lambda p, x: x * p["w"], {"w": 1.0}, ["w"], lambda step: {"w": 0.1})
