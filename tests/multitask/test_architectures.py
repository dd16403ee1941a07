"""Multi-task architectures: the contract (one output per task; shared/task parameters partition the model and
match what each loss reaches by autograd) and each architecture's own defining property."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mlbook.multitask.cross_stitch import CrossStitchNetwork, CrossStitchUnit
from mlbook.multitask.hard_sharing import HardSharing
from mlbook.multitask.hierarchical import HierarchicalSharing
from mlbook.multitask.shared_private import SharedPrivate, difference_loss

OUTS = [1, 3, 2]  # T = 3 tasks with different output sizes


def vector_batch() -> torch.Tensor:
    return torch.randn(6, 8)


def image_batch() -> torch.Tensor:
    return torch.randn(6, 1, 16, 16)


BUILDERS = {
    "hard_mlp": (lambda: HardSharing.mlp(8, [16, 12], OUTS, seed=1), vector_batch),
    "hard_conv": (lambda: HardSharing.conv(OUTS, hidden=8, depth=2, seed=1), image_batch),
    "cross_stitch_mlp": (lambda: CrossStitchNetwork.mlp(8, [16, 12], OUTS, seed=1), vector_batch),
    "cross_stitch_conv": (lambda: CrossStitchNetwork.conv(OUTS, hidden=8, depth=2, seed=1), image_batch),
    # task 0 at layer 1, task 2 at layer 2, task 1 at the top: layer 3 belongs to task 1 alone
    "hierarchical_mlp": (lambda: HierarchicalSharing.mlp(8, [16, 12, 10], OUTS, [1, 3, 2], seed=1), vector_batch),
    "shared_private_mlp": (lambda: SharedPrivate.mlp(8, [16], [6], OUTS, seed=1), vector_batch),
}


@pytest.fixture(params=list(BUILDERS))
def model_and_input(request):
    build, make_input = BUILDERS[request.param]
    return build(), make_input()


def test_forward_returns_one_output_per_task_with_its_size(model_and_input):
    model, x = model_and_input
    outputs = model(x)
    assert isinstance(outputs, list)
    assert [tuple(o.shape) for o in outputs] == [(len(x), out) for out in OUTS]


def test_shared_and_task_parameters_partition_the_model_parameters(model_and_input):
    model, _ = model_and_input
    groups = [model.shared_parameters(), *model.task_parameters()]
    assert len(groups) == 1 + len(OUTS)
    listed = [id(p) for group in groups for p in group]
    assert len(listed) == len(set(listed)), "a parameter is listed twice"
    assert set(listed) == {id(p) for p in model.parameters()}, "a parameter is missing"
    assert all(model.task_parameters()), "every task has parameters of its own"


def reached_by(model: nn.Module, output: torch.Tensor) -> set[int]:
    """ids of the parameters that get a nonzero gradient from ``output``."""
    params = list(model.parameters())
    grads = torch.autograd.grad(output.pow(2).sum(), params, retain_graph=True, allow_unused=True)
    return {id(p) for p, g in zip(params, grads, strict=True) if g is not None and bool(g.abs().sum() > 0)}


def test_each_loss_reaches_its_own_and_the_shared_parameters_only(model_and_input):
    model, x = model_and_input
    outputs = model(x)
    reached = [reached_by(model, output) for output in outputs]
    task_ids = [{id(p) for p in group} for group in model.task_parameters()]
    for t in range(len(OUTS)):
        for s in range(len(OUTS)):
            if s != t:
                assert not reached[t] & task_ids[s], f"task {t}'s loss reaches task {s}'s parameters"
        assert task_ids[t] <= reached[t], f"task {t}'s loss misses some of its own parameters"
    for p in model.shared_parameters():
        assert sum(id(p) in r for r in reached) >= 2, "a 'shared' parameter is reached by fewer than two tasks"


def test_hard_sharing_forward_is_heads_on_the_representation():
    model, x = BUILDERS["hard_mlp"][0](), vector_batch()
    z = model.representation(x)
    assert z.shape == (len(x), 12)
    for direct, via_z in zip(model(x), model.heads_forward(z), strict=True):
        assert torch.equal(direct, via_z)


def test_hard_sharing_conv_representation_has_the_stated_size():
    model = HardSharing.conv([2], seed=0)  # defaults: hidden 32, depth 3 on 16x16 -> 32 * 2 * 2
    assert model.representation(image_batch()).shape == (6, 128)


def test_seed_fixes_the_initial_weights_and_leaves_the_global_generator_alone():
    state = torch.get_rng_state()
    a, b = HardSharing.mlp(4, [8], [1, 1], seed=3), HardSharing.mlp(4, [8], [1, 1], seed=3)
    assert torch.equal(torch.get_rng_state(), state)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters(), strict=True))
    c = HardSharing.mlp(4, [8], [1, 1], seed=4)
    assert not torch.equal(a.trunk[0][0].weight, c.trunk[0][0].weight)


def test_hard_sharing_rejects_bad_modules():
    trunk = nn.Linear(4, 4)
    with pytest.raises(TypeError, match="heads"):
        HardSharing(trunk, nn.Linear(4, 1))
    with pytest.raises(TypeError, match="heads"):
        HardSharing(trunk, [])
    with pytest.raises(TypeError, match="trunk"):
        HardSharing("trunk", [nn.Linear(4, 1)])
    with pytest.raises(ValueError, match="same module"):
        HardSharing(trunk, [trunk])
    head = nn.Linear(4, 1)
    with pytest.raises(ValueError, match="same module"):
        HardSharing(trunk, [head, head])
    with pytest.raises(ValueError, match="out_features_per_task"):
        HardSharing.mlp(4, [8], [])
    with pytest.raises(ValueError, match="hidden"):
        HardSharing.mlp(4, [], [1])


def test_cross_stitch_units_start_near_the_identity_with_rows_summing_to_one():
    unit = CrossStitchUnit(3)
    expected = torch.tensor([[0.9, 0.05, 0.05], [0.05, 0.9, 0.05], [0.05, 0.05, 0.9]])
    assert torch.allclose(unit.alpha, expected)
    assert torch.allclose(CrossStitchUnit(2, alpha_same=0.8).alpha, torch.tensor([[0.8, 0.2], [0.2, 0.8]]))
    a, b = torch.randn(5, 4), torch.randn(5, 4)
    mixed = CrossStitchUnit(2)([a, b])
    assert torch.allclose(mixed[0], 0.9 * a + 0.1 * b) and torch.allclose(mixed[1], 0.1 * a + 0.9 * b)


def test_cross_stitch_with_identity_units_is_independent_single_task_networks():
    model, x = CrossStitchNetwork.mlp(8, [16, 12], OUTS, seed=1), vector_batch()
    with torch.no_grad():
        for alpha in model.stitch_parameters():
            alpha.copy_(torch.eye(len(OUTS)))
    outputs = model(x)
    for t, output in enumerate(outputs):
        single_task = nn.Sequential(*model.columns[t], model.heads[t])
        assert torch.equal(output, single_task(x))
        reached = reached_by(model, output)
        for s in range(len(OUTS)):
            column = {id(p) for p in model.columns[s].parameters()}
            assert (column <= reached) if s == t else not (column & reached)


def test_cross_stitch_at_its_initialisation_mixes_the_columns():
    model, x = CrossStitchNetwork.mlp(8, [16, 12], OUTS, seed=1), vector_batch()
    single_task = nn.Sequential(*model.columns[0], model.heads[0])
    assert not torch.allclose(model(x)[0], single_task(x))


def test_cross_stitch_rejects_bad_columns():
    block = [nn.Linear(4, 4)]
    with pytest.raises(ValueError, match="at least two columns"):
        CrossStitchNetwork([block], [nn.Linear(4, 1)])
    with pytest.raises(ValueError, match="same number of blocks"):
        CrossStitchNetwork([[nn.Linear(4, 4)], [nn.Linear(4, 4), nn.Linear(4, 4)]], [nn.Linear(4, 1)] * 2)
    with pytest.raises(ValueError, match="heads"):
        CrossStitchNetwork([[nn.Linear(4, 4)], [nn.Linear(4, 4)]], [nn.Linear(4, 1)])
    with pytest.raises(ValueError, match="alpha_same"):
        CrossStitchUnit(2, alpha_same=1.5)
    model = CrossStitchNetwork([[nn.Linear(4, 4)], [nn.Linear(4, 5)]], [nn.Linear(4, 1), nn.Linear(5, 1)])
    with pytest.raises(ValueError, match="same shape"):
        model(torch.randn(2, 4))


def test_hierarchical_low_level_output_does_not_depend_on_the_layers_above_it():
    model, x = BUILDERS["hierarchical_mlp"][0](), vector_batch()
    before = model(x)
    with torch.no_grad():
        for layer in model.layers[1:]:
            for p in layer.parameters():
                p.add_(torch.randn_like(p))
    after = model(x)
    assert torch.equal(before[0], after[0]), "the task supervised at layer 1 moved with layers 2 and 3"
    assert not torch.allclose(before[1], after[1]) and not torch.allclose(before[2], after[2])


def test_hierarchical_parameters_follow_the_supervision_depths():
    model = BUILDERS["hierarchical_mlp"][0]()  # depths [1, 3, 2]
    layer_ids = [{id(p) for p in layer.parameters()} for layer in model.layers]
    assert {id(p) for p in model.shared_parameters()} == layer_ids[0] | layer_ids[1]
    assert layer_ids[2] <= {id(p) for p in model.task_parameters()[1]}
    assert model.tasks_reaching(2) == [1, 2]


def test_hierarchical_rejects_bad_depths():
    with pytest.raises(ValueError, match="supervision_depths"):
        HierarchicalSharing.mlp(4, [8, 8], [1, 1], [1, 3])
    with pytest.raises(ValueError, match="deepest task must read the top layer"):
        HierarchicalSharing.mlp(4, [8, 8], [1, 1], [1, 1])
    with pytest.raises(ValueError, match="one depth per task"):
        HierarchicalSharing.mlp(4, [8, 8], [1, 1], [2])


def test_difference_loss_is_the_squared_frobenius_norm_of_s_transpose_p():
    shared = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    private = [torch.tensor([[3.0], [1.0]]), torch.tensor([[0.0], [0.0]])]
    # S^T P_1 = [[3], [2]] -> 9 + 4; S^T P_2 = 0
    assert difference_loss(shared, private).item() == 13.0
    orthogonal = torch.tensor([[1.0, 1.0], [1.0, -1.0]])
    assert difference_loss(orthogonal[:, :1], [orthogonal[:, 1:]]).item() == 0.0
    with pytest.raises(ValueError, match=r"private\[0\]"):
        difference_loss(shared, [torch.zeros(3, 1)])


def test_shared_private_penalty_matches_its_features_and_reaches_both_encoders():
    model, x = BUILDERS["shared_private_mlp"][0](), vector_batch()
    shared, private = model.features(x)
    outputs, penalty = model.forward_with_penalty(x)
    assert torch.equal(penalty, difference_loss(shared, private))
    assert torch.equal(model.difference_penalty(x), penalty)
    for a, b in zip(outputs, model(x), strict=True):
        assert torch.equal(a, b)
    reached = reached_by(model, penalty)
    assert {id(p) for p in model.shared_parameters()} <= reached
    for t in range(len(OUTS)):
        assert {id(p) for p in model.private[t].parameters()} <= reached


# ------------------------------------------------------------------------------------------------- bad input


def test_a_cross_stitch_unit_refuses_one_tensor_instead_of_mixing_its_batch_rows():
    with pytest.raises(TypeError, match="activations must be a list with one tensor per task"):
        CrossStitchUnit(2)(torch.randn(2, 4))  # len 2 = T: its two examples would have been stitched together


def test_difference_loss_refuses_integer_features():
    features = torch.ones(4, 2, dtype=torch.long)
    with pytest.raises(TypeError, match="shared must be a floating-point tensor"):
        difference_loss(features, [features])


@pytest.mark.parametrize(
    ("argument", "args"), [("shared_hidden", (4, 8, [8], [1, 1])), ("private_hidden", (4, [8], [], [1]))]
)
def test_shared_private_mlp_names_which_hidden_sizes_are_wrong(argument, args):
    with pytest.raises(ValueError, match=f"{argument} must be a non-empty sequence"):
        SharedPrivate.mlp(*args)


def test_conv_builders_name_an_image_size_that_is_not_an_int():
    for build in (HardSharing.conv, CrossStitchNetwork.conv):
        with pytest.raises(TypeError, match="image_size must be an int"):
            build([2, 2], image_size="16")
