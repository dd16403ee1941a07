"""Shapes, invariances, gradient flow and bad-input errors of the four metric methods."""

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlbook.data import Episode
from mlbook.metric import (
    FullContextEmbedding,
    MatchingNetwork,
    PrototypicalNetwork,
    RelationModule,
    RelationNetwork,
    SiameseNetwork,
    build_method,
    check_episode,
)
from mlbook.models import Conv4
from mlbook.training import predict

NAMES = ["protonet", "protonet_cosine", "matching", "matching_fce", "relation", "siamese"]


def small(name: str) -> nn.Module:
    torch.manual_seed(0)
    return build_method(name, hidden=8)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_way,k_shot", [(3, 1), (4, 3)])
def test_predict_shape_and_loss(name, n_way, k_shot, make_episode):
    method = small(name)
    ep = make_episode(n_way, k_shot, q_query=2)
    scores = predict(method, ep)
    assert scores.shape == (n_way * 2, n_way)
    assert torch.isfinite(scores).all()
    loss, metrics = method.episode_loss(ep)
    assert loss.ndim == 0 and torch.isfinite(loss)
    assert 0.0 <= metrics["accuracy"] <= 1.0


# FCE reads the support set in order with an LSTM: it is deliberately NOT invariant to support order.
@pytest.mark.parametrize("name", ["protonet", "protonet_cosine", "matching", "relation", "siamese"])
@pytest.mark.parametrize("training_mode", [False, True])
def test_support_order_changes_nothing(name, training_mode, make_episode):
    method = small(name)
    method.train(training_mode)  # BatchNorm batch statistics are order invariant too
    ep = make_episode(4, 3, q_query=2, seed=1)
    perm = torch.randperm(ep.support_y.numel(), generator=torch.Generator().manual_seed(3))
    shuffled = Episode(ep.support_x[perm], ep.support_y[perm], ep.query_x, ep.query_y, ep.n_way, ep.k_shot)
    with torch.no_grad():
        a, b = method.predict(ep), method.predict(shuffled)
    assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()


@pytest.mark.parametrize("name", NAMES)
def test_query_order_permutes_rows(name, make_episode):
    method = small(name).eval()
    ep = make_episode(3, 2, q_query=3, seed=2)
    perm = torch.randperm(ep.query_y.numel(), generator=torch.Generator().manual_seed(4))
    shuffled = Episode(ep.support_x, ep.support_y, ep.query_x[perm], ep.query_y[perm], ep.n_way, ep.k_shot)
    with torch.no_grad():
        assert torch.allclose(method.predict(ep)[perm], method.predict(shuffled), atol=1e-5)


def test_fce_depends_on_support_order(make_episode):
    method = small("matching_fce").eval()
    ep = make_episode(4, 1, q_query=2, seed=1)
    perm = torch.tensor([2, 0, 3, 1])
    shuffled = Episode(ep.support_x[perm], ep.support_y[perm], ep.query_x, ep.query_y, ep.n_way, ep.k_shot)
    with torch.no_grad():
        assert not torch.allclose(method.predict(ep), method.predict(shuffled), atol=1e-6)


def flat_episode() -> Episode:
    """2-d 'images' [1, 1, 2] so nn.Flatten() is the embedding and every number can be checked by hand."""
    support = torch.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 4.0], [0.0, 2.0]]).view(4, 1, 1, 2)
    query = torch.tensor([[1.0, 1.0], [0.0, 3.0]]).view(2, 1, 1, 2)
    return Episode(support, torch.tensor([0, 0, 1, 1]), query, torch.tensor([0, 1]), n_way=2, k_shot=2)


def test_protonet_logits_are_minus_squared_distances_to_class_means():
    method = PrototypicalNetwork(nn.Flatten())
    ep = flat_episode()
    logits, protos, _ = method(ep)
    # class means (1, 0) and (0, 3); query (1, 1): distances 1 and 5; query (0, 3): 10 and 0
    assert torch.equal(protos, torch.tensor([[1.0, 0.0], [0.0, 3.0]]))
    assert torch.equal(logits, -torch.tensor([[1.0, 5.0], [10.0, 0.0]]))
    loss, metrics = method.episode_loss(ep)
    first = torch.log_softmax(-torch.tensor([1.0, 5.0]), 0)[0]
    second = torch.log_softmax(-torch.tensor([10.0, 0.0]), 0)[1]
    expected = -(first + second)
    assert torch.allclose(loss, expected / 2)
    assert metrics["accuracy"] == 1.0


def test_protonet_cosine_uses_scaled_cosine_to_means():
    method = PrototypicalNetwork(nn.Flatten(), distance="cosine", scale=2.0)
    logits, _, _ = method(flat_episode())
    # cos((1,1),(1,0)) = 1/sqrt2, cos((1,1),(0,3)) = 1/sqrt2, cos((0,3),(1,0)) = 0, cos((0,3),(0,3)) = 1
    r = 2**-0.5
    assert torch.allclose(logits, 2.0 * torch.tensor([[r, r], [0.0, 1.0]]), atol=1e-6)


def test_matching_attention_sums_to_one_and_class_probabilities(make_episode):
    method = MatchingNetwork(nn.Flatten(), scale=1.0)
    ep = flat_episode()
    attention = method.attention(ep)
    assert attention.shape == (2, 4)
    assert torch.allclose(attention.sum(dim=1), torch.ones(2))
    assert (attention > 0).all()
    log_p, _ = method(ep)
    assert torch.allclose(log_p.exp(), torch.stack([attention[:, :2].sum(1), attention[:, 2:].sum(1)], 1))
    assert torch.allclose(log_p.exp().sum(1), torch.ones(2))
    fce = small("matching_fce")
    assert torch.allclose(fce.attention(make_episode()).sum(dim=1), torch.ones(6), atol=1e-6)


def test_one_shot_matching_equals_cosine_protonet(make_episode):
    torch.manual_seed(0)
    encoder = Conv4(hidden=8)
    matching = MatchingNetwork(encoder, scale=7.0).eval()
    proto = PrototypicalNetwork(encoder, distance="cosine", scale=7.0).eval()
    ep = make_episode(5, 1, q_query=2)
    with torch.no_grad():
        assert torch.allclose(matching.predict(ep), torch.log_softmax(proto.predict(ep), dim=1), atol=1e-5)


def test_relation_scores_in_unit_interval(make_episode):
    scores = predict(small("relation"), make_episode(5, 2))
    assert ((scores > 0) & (scores < 1)).all()


def test_siamese_pair_logits_symmetric_and_loss_balanced(make_episode):
    method = small("siamese").eval()
    a = torch.randn(5, method.verify.in_features)
    logits = method.pair_logits(a, a)
    assert torch.allclose(logits, logits.T)
    ep = make_episode(3, 1, q_query=3)
    _, metrics = method.episode_loss(ep)
    assert set(metrics) == {"accuracy", "pair_accuracy"}


def _biases_before_batchnorm(model: nn.Module) -> set[str]:
    """Conv biases that feed straight into a BatchNorm, which subtracts the batch mean and with it any
    per-channel constant: their gradient is exactly zero in exact arithmetic."""
    names = set()
    for prefix, module in model.named_modules():
        if isinstance(module, nn.Sequential):
            children = list(module.named_children())
            for (name, layer), (_, following) in zip(children, children[1:], strict=False):
                if isinstance(layer, nn.Conv2d) and isinstance(following, nn.BatchNorm2d) and layer.bias is not None:
                    names.add(f"{prefix}.{name}.bias" if prefix else f"{name}.bias")
    return names


# Shifts the loss is invariant to wherever the ReLU after them is on for every input (or off): a constant added
# to every relation logit cancels in the softmax, a constant added to every embedding cancels in a difference of
# embeddings. Their gradient is exactly zero for some initialisations and episodes, so only reachability is checked.
DATA_DEPENDENT_ZEROS = {
    "protonet": {"encoder.features.3.1.bias"},
    "siamese": {"encoder.features.3.1.bias"},
    "relation": {"relation.body.4.bias", "relation.head.0.bias"},
}
# The relation module's last bias adds one constant to all of a query's logits: with the default cross-entropy
# loss its gradient is always exactly zero (it can only learn with loss="mse").
ALWAYS_ZERO = {"relation": {"relation.head.2.bias"}}


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_every_trainable_parameter(name, make_episode):
    """Every trainable parameter is reached by the loss's gradient, and it is clearly non-zero (float32 rounding
    is ~1e-7 of the largest gradient) except where it is zero in exact arithmetic: those are asserted to be zero
    up to rounding (observed at most ~3e-5 of the largest gradient in float32, over 100 seeds)."""
    method = small(name).train()
    loss, _ = method.episode_loss(make_episode(3, 2, q_query=2))
    loss.backward()
    trainable = {pname: param for pname, param in method.named_parameters() if param.requires_grad}
    for pname, param in trainable.items():
        assert param.grad is not None, pname
        assert torch.isfinite(param.grad).all(), pname
    largest = max(float(p.grad.abs().max()) for p in trainable.values())
    zero = _biases_before_batchnorm(method) | ALWAYS_ZERO.get(name, set())
    unchecked = DATA_DEPENDENT_ZEROS.get(name, set())
    assert zero and (zero | unchecked) <= trainable.keys()
    for pname, param in trainable.items():
        size = float(param.grad.abs().max())
        if pname in zero:
            assert size <= 1e-3 * largest, pname
        elif pname not in unchecked:
            assert size > 1e-6 * largest, pname


def test_relation_output_bias_learns_only_with_squared_error(make_episode):
    """Why ALWAYS_ZERO holds: under a softmax the shared output bias cancels; the paper's squared error on
    sigmoid scores does not cancel it."""
    episode = make_episode(3, 2, q_query=2)
    sizes = {}
    for loss in ("cross_entropy", "mse"):
        torch.manual_seed(0)
        method = build_method("relation", hidden=8, loss=loss).train()
        method.episode_loss(episode)[0].backward()
        largest = max(float(p.grad.abs().max()) for p in method.parameters())
        sizes[loss] = float(method.relation.head[2].bias.grad.abs().max()) / largest
    assert sizes["cross_entropy"] < 1e-5 and sizes["mse"] > 1e-3


def test_squared_euclidean_protonet_does_not_train_a_scale():
    assert not PrototypicalNetwork(nn.Flatten()).log_scale.requires_grad
    assert PrototypicalNetwork(nn.Flatten(), distance="cosine").log_scale.requires_grad


@pytest.mark.parametrize("name", NAMES)
def test_bad_episodes_raise_clear_errors(name, make_episode):
    method = small(name)
    ep = make_episode(3, 1, q_query=1)
    regression = Episode(ep.support_x, ep.support_y.float(), ep.query_x, ep.query_y.float(), None, 1)
    with pytest.raises(ValueError, match="n_way"):
        method.episode_loss(regression)
    missing = Episode(ep.support_x, torch.tensor([0, 0, 2]), ep.query_x, ep.query_y, 3, 1)
    with pytest.raises(ValueError, match="classes \\[1\\] have no support example"):
        method.predict(missing)
    out_of_range = Episode(ep.support_x, torch.tensor([0, 1, 3]), ep.query_x, ep.query_y, 3, 1)
    with pytest.raises(ValueError, match="support_y must be class indices < 3"):
        method.predict(out_of_range)
    wrong_size = Episode(ep.support_x, ep.support_y, ep.query_x[:, :, :20, :20], ep.query_y, 3, 1)
    with pytest.raises(ValueError, match="one shape"):
        method.predict(wrong_size)
    flat = Episode(ep.support_x.flatten(1), ep.support_y, ep.query_x.flatten(1), ep.query_y, 3, 1)
    with pytest.raises(ValueError, match="C, H, W"):
        method.predict(flat)


@pytest.mark.parametrize("name", NAMES)
def test_every_method_refuses_query_labels_out_of_range_or_fractional(name, make_episode):
    method = small(name)
    ep = make_episode(3, 1, q_query=1)
    for query_y, error, message in (
        (torch.tensor([0, 1, 3]), ValueError, "query_y must be class indices < 3"),
        (torch.tensor([0, -1, 2]), ValueError, "query_y must be class indices >= 0"),
        (torch.tensor([0.0, 1.0, 2.0]), TypeError, "query_y must be an integer tensor"),
    ):
        with pytest.raises(error, match=message):
            method.episode_loss(Episode(ep.support_x, ep.support_y, ep.query_x, query_y, 3, 1))


def test_siamese_episode_loss_refuses_query_labels_it_used_to_score(make_episode):
    ep = make_episode(3, 1, q_query=1)
    method = SiameseNetwork(Conv4(hidden=8))
    for query_y in (torch.tensor([0, 1, 7]), torch.tensor([0.0, 1.0, 2.0])):
        with pytest.raises((TypeError, ValueError), match="query_y"):
            method.episode_loss(Episode(ep.support_x, ep.support_y, ep.query_x, query_y, 3, 1))


def test_check_episode_refuses_integer_nan_and_misplaced_images(make_episode):
    ep = make_episode(2, 1, q_query=1, size=4)
    with pytest.raises(TypeError, match="support_x must be a floating-point tensor"):
        check_episode(Episode((ep.support_x * 255).to(torch.uint8), ep.support_y, ep.query_x, ep.query_y, 2, 1))
    nan = ep.query_x.clone()
    nan[0, 0, 0, 0] = float("nan")
    with pytest.raises(ValueError, match="query_x must contain finite numbers only"):
        check_episode(Episode(ep.support_x, ep.support_y, nan, ep.query_y, 2, 1))
    with pytest.raises(ValueError, match="one device"):
        check_episode(Episode(ep.support_x, ep.support_y, ep.query_x.to("meta"), ep.query_y, 2, 1))
    with pytest.raises(TypeError, match="episode must be an Episode"):
        check_episode((ep.support_x, ep.support_y))


def test_a_method_refuses_an_episode_on_another_device(make_episode):
    with pytest.raises(ValueError, match="episode is on meta but the method's parameters are on cpu"):
        PrototypicalNetwork(nn.Linear(16, 2)).predict(make_episode(2, 1, q_query=1, size=4).to("meta"))


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_protonet_and_matching_refuse_a_scale_that_is_not_a_finite_positive_number(scale):
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        PrototypicalNetwork(nn.Flatten(), distance="cosine", scale=scale)
    with pytest.raises(ValueError, match="scale must be a finite number > 0"):
        MatchingNetwork(nn.Flatten(), scale=scale)


def test_constructors_refuse_a_string_encoder_and_string_switches():
    with pytest.raises(TypeError, match="encoder must be a torch.nn.Module"):
        PrototypicalNetwork("conv4")
    with pytest.raises(TypeError, match="channels_last must be True or False"):
        PrototypicalNetwork(nn.Flatten(), channels_last="no")
    with pytest.raises(TypeError, match="fce must be True or False"):
        MatchingNetwork(nn.Flatten(), fce="yes", embedding_dim=4)
    with pytest.raises(ValueError, match="fce_steps must be an int >= 1"):
        MatchingNetwork(nn.Flatten(), fce_steps=0)


def test_size_arguments_are_named_as_the_reader_wrote_them():
    with pytest.raises(ValueError, match="relation_hidden must be an int >= 1"):
        RelationNetwork(relation_hidden=0)
    with pytest.raises(ValueError, match="^channels must be an int >= 1"):
        RelationNetwork(channels=0)
    with pytest.raises(ValueError, match="embedding_dim must be an int >= 1"):
        MatchingNetwork(nn.Flatten(), fce=True, embedding_dim=0)
    with pytest.raises(ValueError, match="embedding_dim must be an int >= 1"):
        SiameseNetwork(nn.Flatten(), embedding_dim=0)
    with pytest.raises(TypeError, match="projection must be an int"):
        SiameseNetwork(nn.Flatten(), embedding_dim=4, projection=2.5)


def test_shape_mistakes_inside_the_methods_get_named():
    fce = FullContextEmbedding(16)
    with pytest.raises(ValueError, match="support must have 2 dimensions"):
        fce.context_support(torch.rand(16))
    with pytest.raises(ValueError, match=r"support_g must be \[rows, 16\]"):
        fce.context_query(torch.rand(2, 16), torch.rand(3, 8))
    with pytest.raises(ValueError, match=r"pairs must be \[P, 8, s, s\]"):
        RelationModule(channels=4, hidden=2)(torch.rand(3, 4, 3, 3))
    with pytest.raises(ValueError, match=r"b must be \[rows, 4\] embeddings"):
        SiameseNetwork(nn.Flatten(), embedding_dim=4).pair_logits(torch.rand(2, 4), torch.rand(3, 8))


def test_bad_constructor_arguments(make_episode):
    with pytest.raises(ValueError, match="distance must be one of"):
        PrototypicalNetwork(distance="manhattan")
    with pytest.raises(ValueError, match="embedding_dim"):
        MatchingNetwork(nn.Flatten(), fce=True)
    with pytest.raises(ValueError, match="embedding_dim"):
        SiameseNetwork(nn.Flatten())
    with pytest.raises(ValueError, match="loss must be one of"):
        RelationNetwork(loss="hinge")
    with pytest.raises(ValueError, match="method must be one of"):
        build_method("maml")
    with pytest.raises(ValueError, match="feature maps|C, s, s"):
        RelationNetwork(nn.Flatten()).predict(make_episode())


def test_channels_last_changes_only_layout(make_episode):
    torch.manual_seed(0)
    a = PrototypicalNetwork(Conv4(hidden=8)).eval()
    b = PrototypicalNetwork(Conv4(hidden=8), channels_last=True).eval()
    b.load_state_dict(a.state_dict())
    ep = make_episode(3, 2)
    with torch.no_grad():
        assert torch.allclose(a.predict(ep), b.predict(ep), atol=1e-4)


def test_embed_images_and_pca(make_episode):
    from mlbook.metric.inspect import embed_images, pca_2d

    method = small("protonet").train()
    images = make_episode(3, 2).support_x
    emb = embed_images(method, images, batch_size=4)
    assert emb.shape == (6, 8) and method.training  # mode restored
    with torch.no_grad():
        assert torch.allclose(emb, method.eval().embed(images), atol=1e-5)
    points = torch.tensor([[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [4.0, 0.0, 1e-3]])
    low, extra = pca_2d(points, torch.tensor([[1.0, 0.0, 0.0]]))
    assert low.shape == (3, 2) and extra.shape == (1, 2)
    assert torch.allclose(low[:, 0].abs(), torch.tensor([2.0, 0.0, 2.0]), atol=1e-3)  # the spread is along axis 0
    assert torch.allclose(extra[0, 0].abs(), torch.tensor(1.0), atol=1e-3)
    with pytest.raises(ValueError, match="points"):
        pca_2d(torch.zeros(1, 3))


def test_with_batch_statistics_uses_the_episode_statistics(make_episode):
    from mlbook.metric import with_batch_statistics

    method = small("protonet")
    ep = make_episode(3, 2)
    method.train()
    with torch.no_grad():
        train_mode = method.predict(ep)  # batch statistics (and updates the running ones)
        method.eval()
        running = method.predict(ep)
        batch = with_batch_statistics(method).eval().predict(ep)
    assert torch.allclose(batch, train_mode, atol=1e-5)
    assert not torch.allclose(running, train_mode, atol=1e-3)
    assert any(m.running_mean is not None for m in method.modules() if isinstance(m, nn.BatchNorm2d))  # untouched


@pytest.mark.parametrize("name", ["protonet", "relation"])
def test_mixed_precision_is_close_and_float32(name, make_episode):
    torch.manual_seed(0)
    full = build_method(name, hidden=16).train()
    mixed = build_method(name, hidden=16, mixed_precision=True).train()
    mixed.load_state_dict(full.state_dict())
    ep = make_episode(5, 1)
    # Batch statistics (train mode): with the untrained running statistics of eval mode the embeddings are tiny
    # and all scores nearly tied, so comparing them (or their argmax) would compare rounding noise. Predicted
    # classes are not compared: for near-tied scores bfloat16 (8-bit mantissa) may flip them.
    with torch.no_grad():
        a, b = full.predict(ep), mixed.predict(ep)
    assert b.dtype == torch.float32
    # bfloat16 rounds to ~0.4%; through the network the error stays below ~3% of the largest score (12 seeds)
    assert torch.allclose(a, b, rtol=0.05, atol=0.05 * a.abs().max().item())
    loss, _ = mixed.train().episode_loss(ep)
    loss.backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in mixed.parameters() if p.requires_grad)


def test_fast_bfloat16_answers_a_bool():
    from mlbook.metric import fast_bfloat16

    assert isinstance(fast_bfloat16("cpu"), bool)
    assert fast_bfloat16("meta") is False


@pytest.mark.parametrize("loss", ["mse", "cross_entropy"])
def test_relation_losses_by_hand(loss, make_episode):
    method = build_method("relation", hidden=8, loss=loss)
    ep = make_episode(3, 1, q_query=2)
    method.eval()  # fixed BatchNorm statistics, so both computations see the same network
    value, _ = method.episode_loss(ep)
    with torch.no_grad():
        logits = method.relation_logits(ep)
    if loss == "mse":
        expected = ((torch.sigmoid(logits) - F.one_hot(ep.query_y, 3).float()) ** 2).mean()
    else:
        expected = F.cross_entropy(logits, ep.query_y)
    assert torch.allclose(value, expected, atol=1e-6)


def test_recipes_compose_and_validate():
    from mlbook.metric import RECIPE, recipe_for

    proto = recipe_for("protonet")
    assert proto["n_way"] == RECIPE["n_way"] and isinstance(proto["mixed_precision"], bool)
    siamese = recipe_for("siamese")
    assert (siamese["n_way"], siamese["q_query"]) == (20, 5)  # Siamese needs same-class pairs
    assert recipe_for("protonet", hidden=8)["hidden"] == 8
    with pytest.raises(ValueError, match="unknown recipe keys"):
        recipe_for("protonet", ways=5)
    with pytest.raises(ValueError, match="method must be one of"):
        recipe_for("maml")
