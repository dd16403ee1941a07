"""Bad-input table for ``mlbook.metric`` (the four metric methods, their episode check, distances and encoders;
the recipes' rows live with the recipes): each row is a mistake a reader makes, and the error it must get."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mlbook.data import Episode
from mlbook.metric import (
    FullContextEmbedding,
    MatchingNetwork,
    MetricMethod,
    PrototypicalNetwork,
    RelationModule,
    RelationNetwork,
    SiameseNetwork,
    check_episode,
    class_means,
    cosine_similarity,
    default_encoder,
    euclidean,
    feature_map_encoder,
    l1_distance,
    pairwise_logits,
    squared_euclidean,
)
from tests.bad_input.fixtures import make_episode
from tests.bad_input.harness import BadInput, assert_clear

NAN, INF = float("nan"), float("inf")

# ---- small valid fixtures, built only when a row runs ------------------------------------------------------


def episode(**changes) -> Episode:
    """A valid 2-way 1-shot episode of 4x4 images with 2 queries per class; ``changes`` replace fields."""
    return make_episode(2, 2, 4, **changes)


def nan_images() -> torch.Tensor:
    images = torch.rand(4, 1, 4, 4)
    images[1, 0, 2, 2] = NAN
    return images


def protonet(**options) -> PrototypicalNetwork:
    return PrototypicalNetwork(nn.Flatten(), **options)


def matching(**options) -> MatchingNetwork:
    return MatchingNetwork(nn.Flatten(), **options)


def siamese(**options) -> SiameseNetwork:
    return SiameseNetwork(nn.Flatten(), **({"embedding_dim": 16} | options))


def relation(**options) -> RelationNetwork:
    return RelationNetwork(nn.Identity(), **({"channels": 1, "relation_hidden": 2} | options))


def rows_for_episode(entry: str, call) -> list[BadInput]:
    """The episode mistakes every metric method must refuse at its boundary (``call(episode)``)."""
    return [
        BadInput(entry, "query_y", "out of range", lambda: call(episode(query_y=torch.tensor([0, 0, 1, 5])))),
        BadInput(entry, "query_y", "negative", lambda: call(episode(query_y=torch.tensor([0, -1, 1, 1])))),
        BadInput(entry, "query_y", "float labels", lambda: call(episode(query_y=torch.tensor([0.0, 0.0, 1.0, 1.0])))),
        BadInput(entry, "support_y", "float labels", lambda: call(episode(support_y=torch.tensor([0.0, 1.0])))),
        BadInput(entry, "episode", "a tuple", lambda: call((torch.rand(2, 1, 4, 4), torch.tensor([0, 1])))),
    ]


# ---- the table -------------------------------------------------------------------------------------------

ROWS = [
    # check_episode: the boundary every metric method passes its episodes through
    BadInput("mlbook.metric.check_episode", "episode", "not an episode", lambda: check_episode("episode")),
    BadInput("mlbook.metric.check_episode", "episode", "None", lambda: check_episode(None)),
    BadInput("mlbook.metric.check_episode", "n_way", "regression episode", lambda: check_episode(episode(n_way=None))),
    BadInput(
        "mlbook.metric.check_episode",
        "support_y",
        "float labels",
        lambda: check_episode(episode(support_y=torch.tensor([0.0, 1.0]))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "support_y",
        "out of range",
        lambda: check_episode(episode(support_y=torch.tensor([0, 2]))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "support_y",
        "a class missing",
        lambda: check_episode(episode(support_y=torch.tensor([1, 1]))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "support_y",
        "labels of two dimensions",
        lambda: check_episode(episode(support_y=torch.tensor([[0], [1]]))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "query_y",
        "out of range",
        lambda: check_episode(episode(query_y=torch.tensor([0, 0, 1, 2]))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "query_y",
        "negative",
        lambda: check_episode(episode(query_y=torch.tensor([0, -1, 1, 1]))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "query_y",
        "float labels",
        lambda: check_episode(episode(query_y=torch.tensor([0.0, 0.5, 1.0, 1.0]))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "query_y",
        "bool labels",
        lambda: check_episode(episode(query_y=torch.tensor([False, False, True, True]))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "support_x",
        "images without a channel",
        lambda: check_episode(episode(support_x=torch.rand(2, 4, 4))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "query_x",
        "flattened images",
        lambda: check_episode(episode(query_x=torch.rand(4, 16))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "support_x",
        "uint8 images",
        lambda: check_episode(episode(support_x=torch.zeros(2, 1, 4, 4, dtype=torch.uint8))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "query_x",
        "a different image size",
        lambda: check_episode(episode(query_x=torch.rand(4, 1, 5, 5))),
    ),
    BadInput(
        "mlbook.metric.check_episode", "query_x", "NaN pixels", lambda: check_episode(episode(query_x=nan_images()))
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "query_x",
        "empty query set",
        lambda: check_episode(episode(query_x=torch.rand(0, 1, 4, 4), query_y=torch.zeros(0, dtype=torch.long))),
    ),
    BadInput(
        "mlbook.metric.check_episode",
        "query_x",
        "another device",
        lambda: check_episode(episode(query_x=torch.rand(4, 1, 4, 4, device="meta"))),
    ),
    # MetricMethod (the base class)
    BadInput("mlbook.metric.MetricMethod", "encoder", "a string", lambda: MetricMethod("conv4")),
    BadInput("mlbook.metric.MetricMethod", "encoder", "a class, not an instance", lambda: MetricMethod(nn.Flatten)),
    BadInput(
        "mlbook.metric.MetricMethod",
        "channels_last",
        "a string",
        lambda: MetricMethod(nn.Flatten(), channels_last="no"),
    ),
    BadInput(
        "mlbook.metric.MetricMethod",
        "mixed_precision",
        "None",
        lambda: MetricMethod(nn.Flatten(), mixed_precision=None),
    ),
    BadInput(
        "mlbook.metric.MetricMethod.embed_episode",
        "episode",
        "on another device than the method",
        lambda: MetricMethod(nn.Linear(16, 2)).embed_episode(episode().to("meta")),
    ),
    BadInput(
        "mlbook.metric.MetricMethod.embed_episode",
        "query_y",
        "out of range",
        lambda: MetricMethod(nn.Flatten()).embed_episode(episode(query_y=torch.tensor([0, 0, 1, 9]))),
    ),
    # PrototypicalNetwork
    BadInput("mlbook.metric.PrototypicalNetwork", "encoder", "a string", lambda: PrototypicalNetwork("conv4")),
    BadInput("mlbook.metric.PrototypicalNetwork", "distance", "misspelt", lambda: protonet(distance="euclidian")),
    BadInput("mlbook.metric.PrototypicalNetwork", "scale", "zero", lambda: protonet(distance="cosine", scale=0.0)),
    BadInput(
        "mlbook.metric.PrototypicalNetwork", "scale", "negative", lambda: protonet(distance="cosine", scale=-10.0)
    ),
    BadInput("mlbook.metric.PrototypicalNetwork", "scale", "NaN", lambda: protonet(distance="cosine", scale=NAN)),
    BadInput("mlbook.metric.PrototypicalNetwork", "scale", "inf", lambda: protonet(distance="cosine", scale=INF)),
    BadInput("mlbook.metric.PrototypicalNetwork", "scale", "a string", lambda: protonet(scale="10")),
    BadInput("mlbook.metric.PrototypicalNetwork", "scale", "None", lambda: protonet(scale=None)),
    BadInput("mlbook.metric.PrototypicalNetwork", "channels_last", "a string", lambda: protonet(channels_last="yes")),
    *rows_for_episode("mlbook.metric.PrototypicalNetwork.episode_loss", lambda ep: protonet().episode_loss(ep)),
    *rows_for_episode("mlbook.metric.PrototypicalNetwork.predict", lambda ep: protonet().predict(ep)),
    # MatchingNetwork and its full context embeddings
    BadInput("mlbook.metric.MatchingNetwork", "encoder", "a string", lambda: MatchingNetwork("conv4")),
    BadInput("mlbook.metric.MatchingNetwork", "scale", "zero", lambda: matching(scale=0.0)),
    BadInput("mlbook.metric.MatchingNetwork", "scale", "NaN", lambda: matching(scale=NAN)),
    BadInput("mlbook.metric.MatchingNetwork", "scale", "inf", lambda: matching(scale=INF)),
    BadInput("mlbook.metric.MatchingNetwork", "scale", "a string", lambda: matching(scale="10")),
    BadInput("mlbook.metric.MatchingNetwork", "fce_steps", "zero", lambda: matching(fce_steps=0)),
    BadInput(
        "mlbook.metric.MatchingNetwork",
        "fce_steps",
        "a float",
        lambda: matching(fce=True, embedding_dim=16, fce_steps=2.5),
    ),
    BadInput("mlbook.metric.MatchingNetwork", "embedding_dim", "zero", lambda: matching(fce=True, embedding_dim=0)),
    BadInput("mlbook.metric.MatchingNetwork", "embedding_dim", "missing with fce", lambda: matching(fce=True)),
    BadInput("mlbook.metric.MatchingNetwork", "fce", "a string", lambda: matching(fce="yes", embedding_dim=16)),
    BadInput("mlbook.metric.MatchingNetwork", "learn_scale", "a string", lambda: matching(learn_scale="no")),
    *rows_for_episode("mlbook.metric.MatchingNetwork.episode_loss", lambda ep: matching().episode_loss(ep)),
    BadInput(
        "mlbook.metric.MatchingNetwork.attention",
        "support_y",
        "a class missing",
        lambda: matching().attention(episode(support_y=torch.tensor([0, 0]))),
    ),
    BadInput("mlbook.metric.FullContextEmbedding", "dim", "zero", lambda: FullContextEmbedding(0)),
    BadInput("mlbook.metric.FullContextEmbedding", "dim", "a float", lambda: FullContextEmbedding(16.0)),
    BadInput("mlbook.metric.FullContextEmbedding", "steps", "negative", lambda: FullContextEmbedding(16, steps=-1)),
    BadInput(
        "mlbook.metric.FullContextEmbedding.context_support",
        "support",
        "wrong feature size",
        lambda: FullContextEmbedding(16).context_support(torch.rand(3, 8)),
    ),
    BadInput(
        "mlbook.metric.FullContextEmbedding.context_support",
        "support",
        "one embedding without a batch dimension",
        lambda: FullContextEmbedding(16).context_support(torch.rand(16)),
    ),
    BadInput(
        "mlbook.metric.FullContextEmbedding.context_query",
        "query",
        "wrong feature size",
        lambda: FullContextEmbedding(16).context_query(torch.rand(2, 8), torch.rand(3, 16)),
    ),
    BadInput(
        "mlbook.metric.FullContextEmbedding.context_query",
        "support_g",
        "wrong feature size",
        lambda: FullContextEmbedding(16).context_query(torch.rand(2, 16), torch.rand(3, 8)),
    ),
    # RelationNetwork and its relation module
    BadInput("mlbook.metric.RelationNetwork", "encoder", "a string", lambda: RelationNetwork("conv4")),
    BadInput("mlbook.metric.RelationNetwork", "loss", "misspelt", lambda: relation(loss="crossentropy")),
    BadInput("mlbook.metric.RelationNetwork", "channels", "zero", lambda: RelationNetwork(channels=0)),
    BadInput("mlbook.metric.RelationNetwork", "channels", "a float", lambda: RelationNetwork(channels=64.0)),
    BadInput("mlbook.metric.RelationNetwork", "relation_hidden", "zero", lambda: relation(relation_hidden=0)),
    BadInput("mlbook.metric.RelationNetwork", "norm", "misspelt", lambda: relation(norm="batchnorm")),
    *rows_for_episode("mlbook.metric.RelationNetwork.episode_loss", lambda ep: relation().episode_loss(ep)),
    BadInput(
        "mlbook.metric.RelationNetwork.predict",
        "query_x",
        "a different image size",
        lambda: relation().predict(episode(query_x=torch.rand(4, 1, 5, 5))),
    ),
    BadInput("mlbook.metric.RelationModule", "channels", "zero", lambda: RelationModule(channels=0)),
    BadInput("mlbook.metric.RelationModule", "hidden", "a string", lambda: RelationModule(hidden="8")),
    BadInput("mlbook.metric.RelationModule", "norm", "misspelt", lambda: RelationModule(norm="bn")),
    BadInput(
        "mlbook.metric.RelationModule.forward",
        "pairs",
        "channels not doubled",
        lambda: RelationModule(channels=4, hidden=2)(torch.rand(3, 4, 3, 3)),
    ),
    BadInput(
        "mlbook.metric.RelationModule.forward",
        "pairs",
        "flattened pairs",
        lambda: RelationModule(channels=4, hidden=2)(torch.rand(3, 8)),
    ),
    BadInput("mlbook.metric.feature_map_encoder", "blocks", "too many", lambda: feature_map_encoder(blocks=5)),
    BadInput("mlbook.metric.feature_map_encoder", "blocks", "zero", lambda: feature_map_encoder(blocks=0)),
    BadInput("mlbook.metric.feature_map_encoder", "hidden", "zero", lambda: feature_map_encoder(hidden=0)),
    BadInput("mlbook.metric.feature_map_encoder", "norm", "misspelt", lambda: feature_map_encoder(norm="bn")),
    BadInput("mlbook.metric.feature_map_encoder", "image_size", "too small", lambda: feature_map_encoder(image_size=4)),
    # SiameseNetwork
    BadInput("mlbook.metric.SiameseNetwork", "encoder", "a string", lambda: SiameseNetwork("conv4")),
    BadInput("mlbook.metric.SiameseNetwork", "embedding_dim", "zero", lambda: siamese(embedding_dim=0)),
    BadInput("mlbook.metric.SiameseNetwork", "embedding_dim", "missing", lambda: SiameseNetwork(nn.Flatten())),
    BadInput("mlbook.metric.SiameseNetwork", "embedding_dim", "a float", lambda: siamese(embedding_dim=16.0)),
    BadInput("mlbook.metric.SiameseNetwork", "projection", "zero", lambda: siamese(projection=0)),
    BadInput("mlbook.metric.SiameseNetwork", "projection", "a float", lambda: siamese(projection=2.5)),
    BadInput("mlbook.metric.SiameseNetwork", "projection", "a string", lambda: siamese(projection="8")),
    *rows_for_episode("mlbook.metric.SiameseNetwork.episode_loss", lambda ep: siamese().episode_loss(ep)),
    BadInput(
        "mlbook.metric.SiameseNetwork.predict",
        "support_y",
        "out of range",
        lambda: siamese().predict(episode(support_y=torch.tensor([0, 3]))),
    ),
    BadInput(
        "mlbook.metric.SiameseNetwork.pair_logits",
        "b",
        "wrong feature size",
        lambda: siamese().pair_logits(torch.rand(2, 16), torch.rand(3, 8)),
    ),
    BadInput(
        "mlbook.metric.SiameseNetwork.pair_logits",
        "a",
        "one embedding without a batch dimension",
        lambda: siamese().pair_logits(torch.rand(16), torch.rand(3, 16)),
    ),
    # the encoders
    BadInput("mlbook.metric.default_encoder", "hidden", "zero", lambda: default_encoder(hidden=0)),
    BadInput("mlbook.metric.default_encoder", "hidden", "a float", lambda: default_encoder(hidden=64.0)),
    BadInput("mlbook.metric.default_encoder", "norm", "misspelt", lambda: default_encoder(norm="batchnorm")),
    BadInput("mlbook.metric.default_encoder", "image_size", "too small", lambda: default_encoder(image_size=8)),
    BadInput("mlbook.metric.default_encoder", "in_channels", "zero", lambda: default_encoder(in_channels=0)),
    # distances and prototypes
    BadInput(
        "mlbook.metric.squared_euclidean",
        "b",
        "mismatched feature sizes",
        lambda: squared_euclidean(torch.rand(2, 3), torch.rand(4, 5)),
    ),
    BadInput(
        "mlbook.metric.squared_euclidean", "a", "a vector", lambda: squared_euclidean(torch.rand(3), torch.rand(4, 3))
    ),
    BadInput(
        "mlbook.metric.squared_euclidean", "a", "a list", lambda: squared_euclidean([[0.0, 1.0]], torch.rand(4, 2))
    ),
    BadInput(
        "mlbook.metric.squared_euclidean",
        "b",
        "integer tensor",
        lambda: squared_euclidean(torch.rand(2, 3), torch.ones(4, 3, dtype=torch.long)),
    ),
    BadInput(
        "mlbook.metric.euclidean",
        "a",
        "integer tensor",
        lambda: euclidean(torch.ones(2, 3, dtype=torch.long), torch.rand(4, 3)),
    ),
    BadInput("mlbook.metric.euclidean", "b", "None", lambda: euclidean(torch.rand(2, 3), None)),
    BadInput("mlbook.metric.euclidean", "b", "3-D batch", lambda: euclidean(torch.rand(2, 3), torch.rand(1, 4, 3))),
    BadInput(
        "mlbook.metric.cosine_similarity",
        "a",
        "integer tensor",
        lambda: cosine_similarity(torch.ones(2, 3, dtype=torch.long), torch.rand(4, 3)),
    ),
    BadInput(
        "mlbook.metric.cosine_similarity",
        "b",
        "mismatched feature sizes",
        lambda: cosine_similarity(torch.rand(2, 3), torch.rand(4, 2)),
    ),
    BadInput(
        "mlbook.metric.cosine_similarity",
        "eps",
        "negative",
        lambda: cosine_similarity(torch.rand(2, 3), torch.rand(4, 3), -1.0),
    ),
    BadInput(
        "mlbook.metric.cosine_similarity",
        "eps",
        "NaN",
        lambda: cosine_similarity(torch.rand(2, 3), torch.rand(4, 3), NAN),
    ),
    BadInput(
        "mlbook.metric.l1_distance",
        "b",
        "integer tensor",
        lambda: l1_distance(torch.rand(2, 3), torch.ones(4, 3, dtype=torch.long)),
    ),
    BadInput("mlbook.metric.l1_distance", "a", "a numpy-like list", lambda: l1_distance([1.0, 2.0], torch.rand(4, 2))),
    BadInput(
        "mlbook.metric.pairwise_logits",
        "distance",
        "misspelt",
        lambda: pairwise_logits(torch.rand(2, 3), torch.rand(4, 3), "euclidian"),
    ),
    BadInput(
        "mlbook.metric.pairwise_logits",
        "distance",
        "a function",
        lambda: pairwise_logits(torch.rand(2, 3), torch.rand(4, 3), squared_euclidean),
    ),
    BadInput(
        "mlbook.metric.pairwise_logits",
        "b",
        "mismatched feature sizes",
        lambda: pairwise_logits(torch.rand(2, 3), torch.rand(4, 2)),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "n_way",
        "zero",
        lambda: class_means(torch.rand(4, 3), torch.tensor([0, 0, 1, 1]), 0),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "n_way",
        "a float",
        lambda: class_means(torch.rand(4, 3), torch.tensor([0, 0, 1, 1]), 2.0),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "labels",
        "float labels",
        lambda: class_means(torch.rand(4, 3), torch.tensor([0.0, 0.0, 1.0, 1.0]), 2),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "labels",
        "negative",
        lambda: class_means(torch.rand(4, 3), torch.tensor([0, -1, 1, 1]), 2),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "labels",
        "out of range",
        lambda: class_means(torch.rand(4, 3), torch.tensor([0, 1, 1, 2]), 2),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "labels",
        "a class missing",
        lambda: class_means(torch.rand(4, 3), torch.tensor([0, 0, 2, 2]), 3),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "labels",
        "mismatched length",
        lambda: class_means(torch.rand(4, 3), torch.tensor([0, 1, 1]), 2),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "embeddings",
        "a vector",
        lambda: class_means(torch.rand(4), torch.tensor([0, 0, 1, 1]), 2),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "embeddings",
        "integer tensor",
        lambda: class_means(torch.ones(4, 3, dtype=torch.long), torch.tensor([0, 0, 1, 1]), 2),
    ),
    BadInput(
        "mlbook.metric.class_means",
        "embeddings",
        "a list",
        lambda: class_means([[0.0], [1.0]], torch.tensor([0, 1]), 2),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_gets_a_clear_error_naming_the_argument(row):
    assert_clear(row)
