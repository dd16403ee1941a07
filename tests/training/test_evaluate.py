import numpy as np
import pytest
import torch

from mlbook.data import EpisodeSampler
from mlbook.training import EvalResult, evaluate, evaluate_oneshot
from mlbook.training.evaluate import episode_metric


def test_evaluation_uses_the_same_episodes_every_time(minimal_split1, method_factory):
    _, meta_test = minimal_split1
    method, sampler = method_factory(), EpisodeSampler(meta_test, 5, 1, 3, seed=5)
    first = evaluate(method, sampler, 20, progress=False)
    sampler.sample()  # whatever happened to the sampler before, evaluate starts from its seed
    second = evaluate(method, sampler, 20, progress=False)
    assert np.array_equal(first.values, second.values)


def test_evaluation_leaves_the_train_mode_and_parameters_alone(minimal_split1, method_factory):
    _, meta_test = minimal_split1
    method = method_factory().train()
    before = {k: v.clone() for k, v in method.state_dict().items()}
    evaluate(method, EpisodeSampler(meta_test, 5, 1, 3), 5, progress=False)
    assert method.training
    for key, value in method.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_ci_is_the_normal_interval_of_the_mean():
    result = EvalResult("accuracy", np.array([0.5, 0.7, 0.6, 0.8]))
    assert result.mean == pytest.approx(0.65)
    assert result.ci95 == pytest.approx(1.959964 * np.std([0.5, 0.7, 0.6, 0.8], ddof=1) / 2, rel=1e-6)
    assert str(result) == "65.0% ± 12.7% (4 episodes)"


def test_metric_is_accuracy_for_classification_and_mse_for_regression(indexed_dataset):
    episode = EpisodeSampler(indexed_dataset, 2, 1, 2).sample()
    scores = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.0, 1.0]])  # labels are [0, 0, 1, 1]
    assert episode_metric(scores, episode) == ("accuracy", 0.75)


def test_oneshot_benchmark_of_an_untrained_method_is_scored(method_factory, oneshot_runs):
    result = evaluate_oneshot(method_factory(), oneshot_runs)
    assert len(result.run_error_percent) == 20 and 0 <= result.error_percent < 95
