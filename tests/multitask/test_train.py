"""mlbook.multitask.train / losses / affinity: the one multi-task loop, the task losses, look-ahead affinity."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from mlbook.multitask import (
    MGDA,
    MISSING,
    DynamicWeightAverage,
    EqualWeighting,
    GradNorm,
    HardSharing,
    OnRepresentation,
    PCGrad,
    Sum,
    UncertaintyWeighting,
    evaluate_multitask,
    lookahead_affinity,
    task_losses,
    train_multitask,
)
from mlbook.multitask.train import _batches, training_step


def toy_data(n: int = 96, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Two 3-class tasks on 6-d inputs, each decided by the sign pattern of its own pair of coordinates."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 6, generator=g)
    a = (x[:, 0] > 0).long() + (x[:, 1] > 0).long()
    b = (x[:, 2] > 0).long() + (x[:, 0] > 0).long()
    return x, torch.stack([a, b], dim=1)


def model(seed: int = 0) -> HardSharing:
    return HardSharing.mlp(6, [16], [3, 3], seed=seed)


# ------------------------------------------------------------------------------------------------ task losses


def test_task_losses_are_each_tasks_cross_entropy():
    x, y = toy_data()
    outputs = model()(x)
    losses = task_losses(outputs, y)
    expected = torch.stack([F.cross_entropy(outputs[t], y[:, t]) for t in range(2)])
    torch.testing.assert_close(losses, expected)


def test_missing_labels_are_left_out_of_their_task_only():
    x, y = toy_data()
    outputs = model()(x)
    partial = y.clone()
    partial[10:, 0] = MISSING
    losses = task_losses(outputs, partial)
    torch.testing.assert_close(losses[0], F.cross_entropy(outputs[0][:10], y[:10, 0]))
    torch.testing.assert_close(losses[1], F.cross_entropy(outputs[1], y[:, 1]))


def test_a_batch_without_labels_for_a_task_contributes_zero_and_keeps_the_graph():
    x, y = toy_data(8)
    net = model()
    partial = y.clone()
    partial[:, 0] = MISSING
    losses = task_losses(net(x), partial)
    assert losses[0].item() == 0.0 and torch.isfinite(losses).all()
    losses.sum().backward()
    assert torch.count_nonzero(net.heads[0].weight.grad) == 0
    assert torch.count_nonzero(net.heads[1].weight.grad) > 0


def test_real_valued_targets_use_mean_squared_error():
    outputs = [torch.tensor([[1.0], [2.0]]), torch.tensor([[0.0], [0.0]])]
    targets = torch.tensor([[0.0, 1.0], [0.0, 3.0]])
    torch.testing.assert_close(task_losses(outputs, targets), torch.tensor([2.5, 5.0]))


@pytest.mark.parametrize(
    ("outputs", "targets", "loss_fns", "message"),
    [
        ("not a list", torch.zeros(2, 1), None, "outputs"),
        ([torch.zeros(2, 3)], torch.zeros(2, 2, dtype=torch.long), None, "targets"),
        ([torch.zeros(2, 3)], torch.zeros(2), None, "targets"),
        ([torch.zeros(2, 3)], torch.zeros(2, 1, dtype=torch.long), [None], "loss_fns"),
    ],
)
def test_task_losses_reject_bad_input_naming_the_argument(outputs, targets, loss_fns, message):
    with pytest.raises((TypeError, ValueError), match=message):
        task_losses(outputs, targets, loss_fns)


# ---------------------------------------------------------------------------------------------------- affinity


def test_lookahead_affinity_equals_a_step_taken_by_hand():
    x, y = toy_data()
    net = model()
    lr = 0.5
    affinity = lookahead_affinity(net, x, y, lr=lr)
    before = task_losses(net(x), y).detach()
    for i in range(2):
        stepped = copy.deepcopy(net)
        loss_i = task_losses(stepped(x), y)[i]
        grads = torch.autograd.grad(loss_i, stepped.shared_parameters())
        with torch.no_grad():
            for p, g in zip(stepped.shared_parameters(), grads, strict=True):
                p -= lr * g
            after = task_losses(stepped(x), y)
        torch.testing.assert_close(affinity[i], 1 - after / before, rtol=1e-5, atol=1e-6)
    assert affinity[0, 0] > 0 and affinity[1, 1] > 0  # a small step on a task's own loss lowers it


def test_identical_tasks_have_symmetric_full_affinity():
    x, y = toy_data()
    twin = torch.stack([y[:, 0], y[:, 0]], dim=1)
    net = model()
    with torch.no_grad():
        net.heads[1].load_state_dict(net.heads[0].state_dict())
    affinity = lookahead_affinity(net, x, twin, lr=0.1)
    torch.testing.assert_close(affinity, torch.full_like(affinity, affinity[0, 0].item()))


def test_lookahead_affinity_rejects_a_bad_step_size():
    x, y = toy_data()
    with pytest.raises(ValueError, match="lr"):
        lookahead_affinity(model(), x, y, lr=0.0)


# ------------------------------------------------------------------------------------------------ training loop


def test_batches_visit_every_example_once_per_epoch():
    batches = _batches(10, 3, torch.Generator().manual_seed(0))
    epoch = [next(batches) for _ in range(3)]
    seen = torch.cat([index for index, _ in epoch])
    assert len(set(seen.tolist())) == 9  # 3 full batches of 3 out of 10; the remainder waits for the next epoch
    assert [last for _, last in epoch] == [False, False, True]


def test_sum_aggregator_takes_the_same_step_as_the_plain_sum_of_losses():
    """Sum's direction is J^T 1 = the gradient of the summed loss, on the shared and the task parameters alike."""
    x, y = toy_data()
    results = []
    for method in (EqualWeighting(2), Sum(), OnRepresentation(Sum())):
        net = model()
        optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
        training_step(net, method, x, y, optimizer)
        results.append(torch.cat([p.detach().flatten() for p in net.parameters()]))
    torch.testing.assert_close(results[1], results[0], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(results[2], results[0], rtol=1e-5, atol=1e-6)


def test_mgda_step_moves_shared_parameters_along_the_min_norm_direction():
    x, y = toy_data()
    net = model()
    optimizer = torch.optim.SGD(net.parameters(), lr=1.0)
    losses = task_losses(net(x), y)
    rows = [torch.cat([g.flatten() for g in torch.autograd.grad(loss, net.shared_parameters(), retain_graph=True)])
            for loss in losses]
    g1, g2 = rows
    gamma = torch.clamp((g2 - g1) @ g2 / (g1 - g2).square().sum(), 0, 1)  # Sener & Koltun's two-task closed form
    expected = gamma * g1 + (1 - gamma) * g2
    before = torch.cat([p.detach().flatten() for p in net.shared_parameters()])
    training_step(net, MGDA(), x, y, optimizer)
    after = torch.cat([p.detach().flatten() for p in net.shared_parameters()])
    torch.testing.assert_close(before - after, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize(
    "make_method",
    [
        lambda: EqualWeighting(2),
        lambda: UncertaintyWeighting(2, "classification"),
        lambda: DynamicWeightAverage(2),
        lambda: GradNorm(2),
        lambda: PCGrad(seed=0),
        lambda: MGDA(),
        lambda: OnRepresentation(MGDA()),
    ],
)
def test_every_kind_of_method_trains_and_is_reproducible(make_method):
    x, y = toy_data(192)
    runs = []
    for _ in range(2):
        net = model()
        history = train_multitask(net, make_method(), x, y, steps=60, batch_size=32, lr=1e-2, seed=3, progress=False)
        runs.append((history.losses, evaluate_multitask(net, x, y)))
    assert runs[0] == runs[1]
    losses = torch.tensor(runs[0][0])
    assert (losses[-10:].mean(0) < 0.8 * losses[:10].mean(0)).all()  # both tasks learn
    assert torch.isfinite(losses).all()


def test_gradnorm_weights_get_only_their_own_loss_and_stay_normalised():
    x, y = toy_data()
    net, method = model(), GradNorm(2)
    history = train_multitask(net, method, x, y, steps=20, batch_size=32, lr=1e-2, progress=False)
    assert abs(sum(history.weights[-1]) - 2.0) < 1e-5
    assert method.task_weights.grad is not None


def test_dynamic_weight_average_sees_epoch_ends():
    x, y = toy_data(64)
    method = DynamicWeightAverage(2)
    history = train_multitask(model(), method, x, y, steps=12, batch_size=16, lr=1e-2, progress=False)
    assert history.weights[0] == [1.0, 1.0]
    assert history.weights[-1] != [1.0, 1.0]  # after two epochs the loss ratios set the weights


def test_history_records_evaluations_and_affinities():
    x, y = toy_data()
    history = train_multitask(model(), EqualWeighting(2), x, y, steps=6, batch_size=32, eval_inputs=x,
                              eval_targets=y, eval_every=3, affinity_every=2, progress=False)
    assert sorted(history.evals) == [3, 6] and len(history.evals[3]) == 2
    assert sorted(history.affinities) == [2, 4, 6]
    assert history.mean_affinity().shape == (2, 2)
    assert history.seconds_per_step > 0



def test_affinity_looks_ahead_with_the_training_learning_rate_by_default():
    x, y = toy_data()

    def affinities(**kwargs):
        history = train_multitask(model(), EqualWeighting(2), x, y, steps=6, batch_size=32, lr=1e-2,
                                  affinity_every=2, progress=False, **kwargs)
        return torch.stack([history.affinities[k] for k in sorted(history.affinities)])

    default, explicit, large = affinities(), affinities(affinity_lr=1e-2), affinities(affinity_lr=1000.0)
    torch.testing.assert_close(default, explicit, rtol=0, atol=0)
    assert (default.diagonal(dim1=1, dim2=2) > 0).all()  # a training-sized step lowers each task's own loss
    assert (large.diagonal(dim1=1, dim2=2) < 0).any()  # a huge one overshoots: the degenerate regime

def test_evaluate_multitask_is_accuracy_over_labelled_examples():
    x, y = toy_data()
    net = model()
    with torch.no_grad():
        predictions = [out.argmax(-1) for out in net(x)]
    partial = y.clone()
    partial[:5, 1] = MISSING
    scores = evaluate_multitask(net, x, partial)
    assert scores[0] == pytest.approx((predictions[0] == y[:, 0]).float().mean().item())
    assert scores[1] == pytest.approx((predictions[1][5:] == y[5:, 1]).float().mean().item())


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"method": "sum"}, TypeError, "method"),
        ({"model": torch.nn.Linear(6, 3)}, TypeError, "shared_parameters"),
        ({"steps": 0}, ValueError, "steps"),
        ({"batch_size": -1}, ValueError, "batch_size"),
        ({"lr": float("nan")}, ValueError, "lr"),
        ({"eval_every": 2}, ValueError, "eval_inputs"),
        ({"targets": torch.zeros(5, 2, dtype=torch.long)}, ValueError, "inputs and targets must have the same length"),
    ],
)
def test_train_multitask_rejects_bad_input_naming_the_argument(kwargs, error, message):
    x, y = toy_data()
    arguments = {"model": model(), "method": EqualWeighting(2), "inputs": x, "targets": y, "steps": 2,
                 "progress": False}
    arguments.update(kwargs)
    with pytest.raises(error, match=message):
        train_multitask(**arguments)


# ------------------------------------------------------------------------------------------------- bad input


def test_a_bool_learning_rate_is_refused_not_taken_as_one():
    x, y = toy_data()
    with pytest.raises(TypeError, match="lr must be a number"):
        train_multitask(model(), EqualWeighting(2), x, y, steps=1, lr=True, progress=False)
    with pytest.raises(TypeError, match="lr must be a number"):
        lookahead_affinity(model(), x, y, lr=True)


def test_a_weighting_for_another_number_of_tasks_is_named_before_training():
    x, y = toy_data()
    with pytest.raises(ValueError, match="n_tasks=3, but the model has 2 tasks"):
        train_multitask(model(), EqualWeighting(3), x, y, steps=1, progress=False)


def test_non_finite_inputs_are_refused_before_training():
    x, y = toy_data()
    x[3, 0] = float("nan")
    with pytest.raises(ValueError, match="inputs must contain finite numbers only"):
        train_multitask(model(), PCGrad(), x, y, steps=1, progress=False)


def test_a_bad_affinity_lr_is_refused_before_training_not_at_the_first_affinity():
    x, y = toy_data()
    net = model()
    before = copy.deepcopy(net.state_dict())
    with pytest.raises(ValueError, match="affinity_lr"):
        train_multitask(net, EqualWeighting(2), x, y, steps=4, affinity_every=4, affinity_lr=-1.0, progress=False)
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items()), "no step may be taken"


def test_labels_out_of_range_are_named_in_task_losses():
    x, y = toy_data()
    bad = y.clone()
    bad[0, 1] = 3  # the second head has 3 classes: 0, 1, 2
    with pytest.raises(ValueError, match=r"targets\[:, 1\] must be class labels in \[0, 3\)"):
        task_losses(model()(x), bad)
    bad[0, 1] = -2  # only MISSING = -1 may be negative
    with pytest.raises(ValueError, match=r"targets\[:, 1\] must be class labels"):
        task_losses(model()(x), bad)


def test_fractional_labels_for_a_classifier_are_named_in_task_losses():
    x, y = toy_data()
    with pytest.raises(ValueError, match=r"targets\[:, 0\] holds real numbers .* class labels must be an integer"):
        task_losses(model()(x), y.float() + 0.5)


def test_evaluation_refuses_labels_out_of_range_instead_of_scoring_them_wrong():
    x, y = toy_data()
    bad = y.clone()
    bad[:, 0] = 7  # never predicted: the accuracy would silently be 0
    with pytest.raises(ValueError, match=r"targets\[:, 0\] must be class labels in \[0, 3\)"):
        evaluate_multitask(model(), x, bad)


def test_evaluation_refuses_a_target_column_per_task_too_many():
    x, y = toy_data()
    with pytest.raises(ValueError, match="targets must have one column per task"):
        evaluate_multitask(model(), x, torch.cat([y, y[:, :1]], dim=1))  # a third column was silently ignored


def test_evaluation_names_mismatched_lengths_and_a_zero_batch_size():
    x, y = toy_data()
    with pytest.raises(ValueError, match="inputs and targets must have the same length"):
        evaluate_multitask(model(), x, y[:10])
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_multitask(model(), x, y, batch_size=0)
