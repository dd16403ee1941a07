import numpy as np
import pytest
import torch

from mlbook.data import EpisodeSampler, SinusoidTasks
from mlbook.training import EvalResult, classification_loss, evaluate, evaluate_oneshot
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


# ---- shapes that used to broadcast into a plausible number ------------------------------------------------------


@pytest.mark.parametrize("outputs, message", [
    (torch.tensor([[1.0, 0.0]]), r"outputs must be \(4, 2\) scores"),  # one row broadcast over 4 queries
    (torch.zeros(4, 5), r"outputs must be \(4, 2\) scores"),  # scores for 5 classes in a 2-way episode
    (torch.zeros(4, 2, 1), "outputs must have 1 or 2 dimensions"),
    (torch.tensor([0, 1, 7, 1]), "outputs must be class indices < 2"),
    (torch.tensor([0.0, 0.5, 1.0, 1.0]), "outputs must be an integer tensor"),
])
def test_metric_refuses_outputs_that_do_not_match_the_episode(indexed_dataset, outputs, message):
    episode = EpisodeSampler(indexed_dataset, 2, 1, 2).sample()
    with pytest.raises((TypeError, ValueError), match=message):
        episode_metric(outputs, episode)


def test_regression_metric_refuses_transposed_predictions():
    episode = SinusoidTasks(k_shot=2, q_query=5, seed=0).sample()
    assert episode_metric(torch.zeros(5, 1), episode)[0] == "mse"
    with pytest.raises(ValueError, match="outputs must hold one prediction per query target"):
        episode_metric(torch.zeros(1, 5), episode)


def test_classification_loss_refuses_float_labels_instead_of_reading_them_as_soft_targets():
    logits = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="labels must have 1 dimensions"):
        classification_loss(logits, torch.eye(2))
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        classification_loss(logits, torch.tensor([0.0, 1.0]))
    loss, metrics = classification_loss(logits, torch.tensor([0, 1]))
    assert metrics["accuracy"] == 1.0 and float(loss) < 0.2


def test_an_empty_or_2d_evaluation_result_is_refused():
    with pytest.raises(ValueError, match="values must be a non-empty 1-D array"):
        EvalResult("accuracy", np.array([]))
    with pytest.raises(ValueError, match="values must be a non-empty 1-D array"):
        EvalResult("accuracy", np.zeros((2, 3)))


def test_evaluate_refuses_a_misspelt_device(indexed_dataset, method_factory):
    with pytest.raises(ValueError, match="device must be a device name"):
        evaluate(method_factory(), EpisodeSampler(indexed_dataset, 2, 1, 1), 2, device="gpu", progress=False)



def test_non_finite_scores_are_refused_instead_of_read_as_class_0(indexed_dataset):
    episode = EpisodeSampler(indexed_dataset, 2, 1, 2).sample()
    scores = torch.full((4, 2), float("nan"))  # argmax of NaN scores is 0: a plausible 50% accuracy
    with pytest.raises(FloatingPointError, match="outputs hold NaN or inf"):
        episode_metric(scores, episode)


def test_an_evaluation_with_non_finite_predictions_stops_instead_of_averaging_nan(method_factory):
    class Diverged(type(method_factory())):
        def predict(self, episode):
            return torch.full_like(episode.query_y, float("inf"))

    with pytest.raises(FloatingPointError, match="outputs hold NaN or inf"):
        evaluate(Diverged(), SinusoidTasks(k_shot=5, seed=0), 3, progress=False, device="cpu")
