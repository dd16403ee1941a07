import pytest
import torch
from torch import nn

from mlbook.multitask.aggregator import Mean, Sum
from mlbook.multitask.jacobian import aggregated_backward, representation_gram, task_jacobian
from mlbook.multitask.mgda import MGDA
from mlbook.multitask.min_norm import min_norm_weights
from mlbook.multitask.pcgrad import PCGrad


class HardSharing(nn.Module):
    """A Linear trunk and one Linear head per task (the toy of these tests)."""

    def __init__(self, n_tasks: int = 3, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.trunk = nn.Linear(4, 6, dtype=torch.float64)
        self.heads = nn.ModuleList(nn.Linear(6, 1, dtype=torch.float64) for _ in range(n_tasks))

    def representation(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.trunk(x))

    def heads_forward(self, z: torch.Tensor) -> list[torch.Tensor]:
        return [head(z).squeeze(-1) for head in self.heads]

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.trunk.parameters())

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [list(head.parameters()) for head in self.heads]


def _losses(model: HardSharing, seed: int = 1) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(16, 4, generator=g, dtype=torch.float64)
    targets = torch.randn(16, len(model.heads), generator=g, dtype=torch.float64)
    z = model.representation(x)
    outputs = model.heads_forward(z)
    losses = torch.stack([((out - targets[:, t]) ** 2).mean() for t, out in enumerate(outputs)])
    return losses, z


def _flat_grad(output: torch.Tensor, params: list[torch.Tensor]) -> torch.Tensor:
    grads = torch.autograd.grad(output, params, retain_graph=True, allow_unused=True)
    return torch.cat(
        [(torch.zeros_like(p) if g is None else g).reshape(-1) for g, p in zip(grads, params, strict=True)]
    )


def _grads(params: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([p.grad.reshape(-1) for p in params])


def test_task_jacobian_rows_are_the_task_gradients():
    model = HardSharing()
    losses, _ = _losses(model)
    params = model.shared_parameters() + list(model.heads[0].parameters())
    expected = torch.stack([_flat_grad(losses[t], params) for t in range(3)])
    jacobian = task_jacobian(losses, params)
    assert jacobian.shape == (3, 6 * 4 + 6 + 6 + 1)
    assert torch.allclose(jacobian, expected)
    assert torch.equal(jacobian[1:, -7:], torch.zeros(2, 7, dtype=torch.float64))  # head 0 is only task 0's


def test_task_jacobian_frees_the_graph_unless_asked_to_keep_it():
    model = HardSharing()
    losses, _ = _losses(model)
    task_jacobian(losses, model.shared_parameters(), retain_graph=True)
    task_jacobian(losses, model.shared_parameters())  # the graph was kept for this second call
    with pytest.raises(RuntimeError, match="second time"):
        task_jacobian(losses, model.shared_parameters())


def test_representation_gram_is_the_gram_of_the_gradients_wrt_z():
    model = HardSharing()
    losses, z = _losses(model)
    rows = torch.stack([_flat_grad(losses[t], [z]) for t in range(3)])
    assert torch.allclose(representation_gram(losses, z), rows @ rows.T)


@pytest.mark.parametrize("aggregator", [Sum(), Mean(), MGDA()], ids=repr)
def test_shared_params_get_the_aggregate_and_heads_their_own_gradient(aggregator):
    model = HardSharing()
    losses, _ = _losses(model)
    jacobian = task_jacobian(losses, model.shared_parameters(), retain_graph=True)
    own = [_flat_grad(losses[t], params) for t, params in enumerate(model.task_parameters())]
    weights = aggregated_backward(losses, model.shared_parameters(), model.task_parameters(), aggregator)
    assert torch.allclose(_grads(model.shared_parameters()), aggregator(jacobian), atol=1e-12)
    for params, expected in zip(model.task_parameters(), own, strict=True):
        assert torch.allclose(_grads(params), expected, atol=1e-12)
    assert torch.allclose(weights, aggregator.weights(jacobian @ jacobian.T), atol=1e-12)


def test_pcgrad_step_uses_the_aggregators_own_random_stream():
    model = HardSharing()
    losses, _ = _losses(model)
    jacobian = task_jacobian(losses, model.shared_parameters(), retain_graph=True)
    aggregated_backward(losses, model.shared_parameters(), model.task_parameters(), PCGrad(seed=4))
    assert torch.allclose(_grads(model.shared_parameters()), PCGrad(seed=4)(jacobian), atol=1e-12)


def test_gradients_accumulate_like_backward():
    model = HardSharing()
    losses, _ = _losses(model)
    jacobian = task_jacobian(losses, model.shared_parameters(), retain_graph=True)
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    aggregated_backward(losses, model.shared_parameters(), model.task_parameters(), Mean())
    assert torch.allclose(_grads(model.shared_parameters()), 1.0 + jacobian.mean(dim=0), atol=1e-12)


def test_representation_shortcut_uses_min_norm_weights_of_the_gradients_wrt_z():
    model = HardSharing()
    losses, z = _losses(model)
    rows = torch.stack([_flat_grad(losses[t], [z]) for t in range(3)])  # dL_t/dz by hand
    expected = min_norm_weights(rows @ rows.T)
    jacobian = task_jacobian(losses, model.shared_parameters(), retain_graph=True)
    own = [_flat_grad(losses[t], params) for t, params in enumerate(model.task_parameters())]
    weights = aggregated_backward(losses, model.shared_parameters(), model.task_parameters(), MGDA(), representation=z)
    assert torch.allclose(weights, expected, atol=1e-10)
    assert not torch.allclose(weights, MGDA().weights(jacobian @ jacobian.T), atol=1e-3)  # a different Gram
    # sum_t w_t L_t was backpropagated through everything
    assert torch.allclose(_grads(model.shared_parameters()), weights @ jacobian, atol=1e-10)
    for t, params in enumerate(model.task_parameters()):
        assert torch.allclose(_grads(params), weights[t] * own[t], atol=1e-10)


def test_bad_inputs_name_the_argument():
    model = HardSharing()
    losses, z = _losses(model)
    shared, heads = model.shared_parameters(), model.task_parameters()
    with pytest.raises(ValueError, match="losses must be a 1-D tensor"):
        aggregated_backward(losses.sum(), shared, heads, Mean())
    with pytest.raises(ValueError, match="losses must require grad"):
        task_jacobian(losses.detach(), shared)
    with pytest.raises(ValueError, match="task_params must hold one list per task"):
        aggregated_backward(losses, shared, heads[:2], Mean())
    with pytest.raises(ValueError, match="shared_params must be a non-empty"):
        aggregated_backward(losses, [], heads, Mean())
    with pytest.raises(TypeError, match="aggregator must be"):
        aggregated_backward(losses, shared, heads, lambda j: j.sum(0))
    with pytest.raises(ValueError, match="z must be a tensor in the graph"):
        representation_gram(losses, z.detach())


# ------------------------------------------------------------------------------------------------- bad input


def test_a_bare_parameter_tensor_is_refused_instead_of_giving_a_zero_jacobian():
    model = HardSharing()
    losses, _ = _losses(model)
    with pytest.raises(TypeError, match="params must be a list of tensors"):
        task_jacobian(losses, model.trunk.weight)  # list(weight) would be its rows, which no loss depends on


def test_non_finite_losses_are_refused_instead_of_giving_a_nan_jacobian():
    model = HardSharing()
    losses, _ = _losses(model)
    with pytest.raises(ValueError, match="losses must be finite"):
        task_jacobian(losses * torch.tensor([1.0, float("nan"), 1.0], dtype=torch.float64), model.shared_parameters())


def test_task_params_from_a_generator_is_a_clear_type_error():
    model = HardSharing()
    losses, _ = _losses(model)
    with pytest.raises(TypeError, match="task_params must be a list with one list of parameters per task"):
        aggregated_backward(losses, model.shared_parameters(), model.parameters(), MGDA())
