"""The MAML family refuses episodes and settings that used to give a plausible-looking wrong result."""

from __future__ import annotations

import pytest
import torch

from mlbook.models import MLP, Conv4
from mlbook.optimization import ANIL, FOMAML, MAML, MetaSGD, PretrainedFineTune, Reptile, stack_episodes
from tests.optimization.conftest import image_episode, tiny_conv


def headless_conv() -> Conv4:
    torch.manual_seed(0)
    return Conv4(hidden=4, norm="batch", image_size=16, depth=3).double()


@pytest.mark.parametrize("method", [MAML, FOMAML, MetaSGD, Reptile, PretrainedFineTune])
def test_a_model_without_a_head_is_refused_instead_of_scoring_with_embeddings(method):
    with pytest.raises(ValueError, match="out_features must equal n_way"):
        method(headless_conv()).predict(image_episode(0))


@pytest.mark.parametrize("method", [MAML, ANIL, MetaSGD, Reptile, PretrainedFineTune])
def test_more_outputs_than_ways_are_refused(method):
    model = tiny_conv(n_way=5)
    with pytest.raises(ValueError, match="gives 5 outputs per example but the episode has n_way=3"):
        if method is Reptile:
            method(model).adapt_to(image_episode(0))
        else:
            method(model).episode_loss(image_episode(0))


def test_batched_maml_checks_the_outputs_too():
    with pytest.raises(ValueError, match="n_way=3"):
        MAML(tiny_conv(n_way=5), batched=True).batch_loss([image_episode(0), image_episode(1)])
    with pytest.raises(ValueError, match="n_way=3"):
        MAML(tiny_conv(n_way=5)).predict_batch([image_episode(0), image_episode(1)])


def test_support_and_query_images_of_different_sizes_are_refused():
    episode = image_episode(0)
    episode.query_x = torch.rand(6, 1, 20, 20, dtype=torch.float64)
    with pytest.raises(ValueError, match="episode.query_x must hold examples of the shape"):
        MAML(tiny_conv()).episode_loss(episode)


def test_labels_out_of_range_get_our_error_not_torchs():
    episode = image_episode(0)
    episode.support_y = torch.tensor([0, 0, 1, 1, 2, 7])
    with pytest.raises(ValueError, match=r"episode.support_y must be class indices < 3"):
        MAML(tiny_conv()).episode_loss(episode)


def test_a_regression_model_with_too_many_outputs_is_refused(sine_episodes):
    torch.manual_seed(0)
    with pytest.raises(ValueError, match="out_features must give one output per target value"):
        MAML(MLP(1, 2, hidden=(8,)).double()).episode_loss(sine_episodes[0])


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_non_finite_inner_learning_rates_are_refused(value):
    with pytest.raises(ValueError, match="inner_lr must be a finite number > 0"):
        MAML(tiny_conv(), inner_lr=value)
    with pytest.raises(ValueError, match="inner_lr must be a finite number > 0"):
        PretrainedFineTune(tiny_conv(), inner_lr=value)


@pytest.mark.parametrize("flag", ["first_order", "multi_step_loss", "batched", "shared_head"])
def test_switches_must_be_booleans_not_strings(flag):
    with pytest.raises(TypeError, match=f"{flag} must be True or False"):
        MAML(tiny_conv(), **{flag: "no"})


def test_episodes_of_different_n_way_are_not_stacked():
    with pytest.raises(ValueError, match="episodes must have one n_way"):
        stack_episodes([image_episode(0, n_way=2, k_shot=3, q_query=3), image_episode(1, n_way=3, k_shot=2)])


def test_clone_refuses_a_zero_way_head():
    with pytest.raises(ValueError, match="n_way must be an int >= 1"):
        MAML(tiny_conv()).clone(n_way=0)


def test_anil_refuses_a_model_without_head_parameters():
    with pytest.raises(ValueError, match="ANIL needs a model whose head has parameters"):
        ANIL(headless_conv())


def test_valid_episodes_give_the_same_loss_as_before_the_checks():
    """The checks only read the inputs: the loss equals the one of an unchecked inner loop by hand."""
    maml = MAML(tiny_conv(), inner_lr=0.1)
    episode = image_episode(0)
    loss, _ = maml.episode_loss(episode)
    learner = maml.clone()
    learner.adapt(torch.nn.functional.cross_entropy(learner(episode.support_x), episode.support_y))
    expected = torch.nn.functional.cross_entropy(learner(episode.query_x), episode.query_y)
    assert torch.equal(loss, expected)
