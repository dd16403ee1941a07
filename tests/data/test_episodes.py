import pytest
import torch

from mlbook.data import Episode, EpisodeSampler
from tests.conftest import example_ids


def test_episode_shapes_and_labels(indexed_dataset):
    episode = EpisodeSampler(indexed_dataset, n_way=5, k_shot=2, q_query=3, seed=1).sample()
    assert episode.support_x.shape == (10, 1, 4, 4) and episode.query_x.shape == (15, 1, 4, 4)
    assert episode.support_y.tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]
    assert episode.query_y.tolist() == sum(([c] * 3 for c in range(5)), [])
    assert (episode.n_way, episode.k_shot, episode.q_query) == (5, 2, 3)


def test_every_example_belongs_to_its_labelled_class_and_support_query_are_disjoint(indexed_dataset):
    sampler = EpisodeSampler(indexed_dataset, n_way=4, k_shot=3, q_query=5, seed=7)
    for episode in sampler.take(20):
        assert len(set(episode.classes.tolist())) == 4
        support, query = example_ids(episode.support_x), example_ids(episode.query_x)
        assert not set(support) & set(query)
        assert len(set(support + query)) == len(support) + len(query)
        for ids, labels in ((support, episode.support_y), (query, episode.query_y)):
            true_classes = indexed_dataset.labels[ids]
            assert torch.equal(true_classes, episode.classes[labels])


def test_within_group_draws_every_class_from_one_alphabet(indexed_dataset):
    sampler = EpisodeSampler(indexed_dataset, n_way=3, k_shot=1, q_query=1, within_group=True, seed=3)
    seen = set()
    for episode in sampler.take(30):
        groups = {indexed_dataset.class_groups[c] for c in episode.classes.tolist()}
        assert len(groups) == 1
        seen |= groups
    assert seen == {"alpha", "beta"}  # gamma has only 2 classes: never eligible for 3-way


def test_a_group_can_be_pinned(indexed_dataset):
    episode = EpisodeSampler(indexed_dataset, n_way=4, k_shot=1, q_query=1, within_group=True).sample(group="beta")
    assert {indexed_dataset.class_groups[c] for c in episode.classes.tolist()} == {"beta"}
    with pytest.raises(ValueError, match="group 'gamma' has 2 classes, fewer than n_way=4"):
        EpisodeSampler(indexed_dataset, n_way=4, k_shot=1, q_query=1).sample(group="gamma")


def test_same_seed_same_episodes_and_reset_replays(indexed_dataset):
    a = EpisodeSampler(indexed_dataset, 5, 1, 2, seed=11)
    b = EpisodeSampler(indexed_dataset, 5, 1, 2, seed=11)
    first = [example_ids(e.query_x) for e in a.take(5)]
    assert first == [example_ids(e.query_x) for e in b.take(5)]
    a.reset()
    assert first == [example_ids(e.query_x) for e in a.take(5)]
    other = EpisodeSampler(indexed_dataset, 5, 1, 2, seed=12)
    assert first != [example_ids(e.query_x) for e in other.take(5)]


def test_classes_are_drawn_roughly_uniformly(indexed_dataset):
    counts = torch.zeros(indexed_dataset.num_classes)
    for episode in EpisodeSampler(indexed_dataset, 3, 1, 1, seed=0).take(600):
        counts[episode.classes] += 1
    expected = 600 * 3 / indexed_dataset.num_classes
    assert (counts - expected).abs().max() < 0.3 * expected


@pytest.mark.parametrize("kwargs, message", [
    ({"n_way": 13, "k_shot": 1}, r"n_way=13 is larger than the 12 classes available: choose n_way in \[2, 12\]"),
    ({"n_way": 1, "k_shot": 1}, r"n_way must be an int >= 2"),
    ({"n_way": 5, "k_shot": 0}, r"k_shot must be an int >= 1"),
    ({"n_way": 5, "k_shot": 1, "q_query": 0}, r"q_query must be an int >= 1"),
    ({"n_way": 5, "k_shot": 6, "q_query": 5}, r"k_shot \+ q_query = 6 \+ 5 = 11 .* only 10"),
    ({"n_way": 7, "k_shot": 1, "within_group": True}, r"the largest, alpha, has 6: choose n_way in \[2, 6\]"),
])
def test_impossible_requests_name_the_argument_and_the_allowed_range(indexed_dataset, kwargs, message):
    kwargs.setdefault("q_query", 1)
    with pytest.raises(ValueError, match=message):
        EpisodeSampler(indexed_dataset, **kwargs)


def test_twenty_way_from_a_fourteen_character_alphabet_is_refused(omniglot_small1):
    small = omniglot_small1.subset_classes(omniglot_small1.classes_in_group("Latin")[:14])
    with pytest.raises(ValueError, match=r"n_way=20 within one group .* Latin, has 14"):
        EpisodeSampler(small, n_way=20, k_shot=1, q_query=1, within_group=True)


def test_real_twenty_way_within_alphabet_episode(omniglot_small1):
    sampler = EpisodeSampler(omniglot_small1, n_way=20, k_shot=1, q_query=1, within_group=True, seed=0)
    episode = sampler.sample()
    assert episode.support_x.shape == (20, 1, 28, 28)
    assert len({omniglot_small1.class_groups[c] for c in episode.classes.tolist()}) == 1


def test_sampler_refuses_a_negative_seed_as_seed_everything_does(indexed_dataset):
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        EpisodeSampler(indexed_dataset, n_way=2, k_shot=1, seed=-1)


def test_sampler_refuses_a_non_bool_within_group_and_a_non_dataset(indexed_dataset):
    with pytest.raises(TypeError, match="within_group must be a bool"):
        EpisodeSampler(indexed_dataset, n_way=2, k_shot=1, within_group="yes")
    with pytest.raises(TypeError, match="dataset must be a LabelledImages"):
        EpisodeSampler(indexed_dataset.images, n_way=2, k_shot=1)


def test_fractional_sizes_are_type_errors(indexed_dataset):
    with pytest.raises(TypeError, match="n_way must be an int"):
        EpisodeSampler(indexed_dataset, n_way=2.5, k_shot=1)


def test_take_checks_its_count_when_called_not_when_first_iterated(indexed_dataset):
    sampler = EpisodeSampler(indexed_dataset, n_way=2, k_shot=1, q_query=1, seed=0)
    with pytest.raises(ValueError, match="count must be an int >= 1"):
        sampler.take(0)
    taken = [e.classes.tolist() for e in sampler.take(3)]
    sampler.reset()
    assert taken == [sampler.sample().classes.tolist() for _ in range(3)]


def test_episode_refuses_targets_of_another_length_and_bad_sizes():
    x = torch.zeros(2, 1, 4, 4)
    with pytest.raises(ValueError, match="support_y must have one target per row of support_x"):
        Episode(x, torch.tensor([0]), x, torch.tensor([0, 1]), n_way=2, k_shot=1)
    with pytest.raises(ValueError, match="query_y must have one target per row of query_x"):
        Episode(x, torch.tensor([0, 1]), x, torch.tensor([0, 1, 1]), n_way=2, k_shot=1)
    with pytest.raises(TypeError, match="support_x must be a torch.Tensor"):
        Episode([[0.0], [1.0]], torch.tensor([0, 1]), x, torch.tensor([0, 1]), n_way=2, k_shot=1)
    with pytest.raises(ValueError, match="k_shot must be an int >= 1"):
        Episode(x, torch.tensor([0, 1]), x, torch.tensor([0, 1]), n_way=2, k_shot=0)
    with pytest.raises(TypeError, match="n_way must be an int"):
        Episode(x, torch.tensor([0, 1]), x, torch.tensor([0, 1]), n_way="2", k_shot=1)
