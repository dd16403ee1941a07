import math

import pytest
import torch

from mlbook.data import SinusoidTask, SinusoidTasks


def test_tasks_follow_the_maml_paper_ranges():
    tasks = SinusoidTasks(seed=0)
    drawn = [tasks.sample_task() for _ in range(500)]
    amplitudes = torch.tensor([t.amplitude for t in drawn])
    phases = torch.tensor([t.phase for t in drawn])
    assert 0.1 <= amplitudes.min() and amplitudes.max() <= 5.0 and amplitudes.std() > 1.0
    assert 0.0 <= phases.min() and phases.max() <= math.pi
    x = tasks.sample_inputs(1000)
    assert x.shape == (1000, 1) and -5 <= x.min() and x.max() <= 5


def test_episode_targets_are_the_task_sinusoid():
    episode = SinusoidTasks(k_shot=5, q_query=7, seed=1).sample()
    assert episode.support_x.shape == (5, 1) and episode.query_y.shape == (7, 1) and episode.n_way is None
    task = episode.task
    assert torch.allclose(episode.support_y, task.amplitude * torch.sin(episode.support_x - task.phase))


def test_seeded_and_resettable():
    a, b = SinusoidTasks(seed=3), SinusoidTasks(seed=3)
    first = a.sample_batch(4)
    assert all(torch.equal(x.query_y, y.query_y) for x, y in zip(first, b.sample_batch(4), strict=True))
    a.reset()
    assert torch.equal(a.sample().support_x, first[0].support_x)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="amplitude must be a"):
        SinusoidTasks(amplitude=(5.0, 0.1))
    with pytest.raises(ValueError, match="k_shot must be an int >= 1"):
        SinusoidTasks(k_shot=0)


@pytest.mark.parametrize("kwargs, message", [
    ({"phase": (1.0, 1.0)}, r"phase must be a pair \(low, high\) with low < high"),
    ({"amplitude": (0.1, math.inf)}, r"amplitude\[1\] must be a finite number"),
    ({"x_range": (math.nan, 5.0)}, r"x_range\[0\] must be a finite number"),
    ({"x_range": "ab"}, r"x_range must be a pair \(low, high\)"),
])
def test_ranges_must_be_finite_pairs_with_low_below_high(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        SinusoidTasks(**kwargs)


def test_a_negative_seed_and_a_terabyte_episode_are_refused():
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        SinusoidTasks(seed=-1)
    with pytest.raises(ValueError, match="k_shot is too large"):
        SinusoidTasks(k_shot=10**13)


def test_a_task_needs_finite_numbers_and_a_tensor_input():
    with pytest.raises(ValueError, match="amplitude must be a finite number"):
        SinusoidTask(math.nan, 0.0)
    with pytest.raises(TypeError, match="phase must be a number"):
        SinusoidTask(1.0, "0")
    with pytest.raises(TypeError, match="task must be callable"):
        SinusoidTasks().sample_episode(task="sin")


@pytest.mark.parametrize("half", [0, 1])
def test_half_interval_episode_draws_support_from_one_half_and_queries_both(half):
    tasks = SinusoidTasks(x_range=(-5.0, 5.0), seed=3)
    episode = tasks.sample_half_interval_episode(half, k_shot=7, q_query=40)
    seen = (lambda x: x < 0) if half == 0 else (lambda x: x >= 0)
    assert episode.support_x.shape == (7, 1) and episode.query_x.shape == (80, 1)
    assert seen(episode.support_x).all()
    assert seen(episode.query_x[:40]).all() and not seen(episode.query_x[40:]).any()
    torch.testing.assert_close(episode.support_y, episode.task(episode.support_x))
    torch.testing.assert_close(episode.query_y, episode.task(episode.query_x))


def test_half_interval_episode_splits_any_range_at_its_middle_and_refuses_a_third_half():
    episode = SinusoidTasks(x_range=(2.0, 6.0), seed=0).sample_half_interval_episode(1, k_shot=50, q_query=50)
    assert (episode.support_x >= 4.0).all() and (episode.support_x <= 6.0).all()
    assert ((episode.query_x[50:] >= 2.0) & (episode.query_x[50:] < 4.0)).all()
    with pytest.raises(ValueError, match="half"):
        SinusoidTasks().sample_half_interval_episode(2)
