import math

import pytest
import torch

from mlbook.data import OneShotResult, OneShotRun, load_oneshot_runs, nearest_by_distance, score_oneshot


def _toy_runs() -> list[OneShotRun]:
    """Two hand-made 3-way runs whose answers are known."""
    support = torch.zeros(3, 1, 2, 2)
    return [
        OneShotRun("a", support, support.clone(), torch.tensor([2, 0, 1])),
        OneShotRun("b", support, support.clone(), torch.tensor([0, 1, 2])),
    ]


def test_a_perfect_classifier_scores_zero_error():
    runs = _toy_runs()
    answers = iter([run.answers for run in runs])
    result = score_oneshot(lambda s, q: next(answers), runs)
    assert result.error_percent == 0.0 and result.run_error_percent == [0.0, 0.0]


def test_error_is_counted_over_all_trials_by_hand():
    # run a: predicts [2, 0, 0] vs [2, 0, 1] -> 1 wrong of 3; run b: [1, 1, 1] vs [0, 1, 2] -> 2 wrong of 3
    predictions = iter([torch.tensor([2, 0, 0]), torch.tensor([1, 1, 1])])
    result = score_oneshot(lambda s, q: next(predictions), _toy_runs())
    assert result.error_percent == pytest.approx(100 * 3 / 6)
    assert result.run_error_percent == pytest.approx([100 / 3, 200 / 3])
    assert result.accuracy == pytest.approx(50.0)
    assert result.predictions.tolist() == [[2, 0, 0], [1, 1, 1]]


def test_nearest_by_distance_picks_the_smallest_distance():
    distances = torch.tensor([[3.0, 1.0, 2.0], [0.5, 4.0, 0.7]])
    classify = nearest_by_distance(lambda query, support: distances)
    assert classify(torch.zeros(3), torch.zeros(2)).tolist() == [1, 0]


@pytest.mark.parametrize("bad, message", [
    (torch.tensor([0, 1]), "must return"),
    (torch.tensor([0, 1, 3]), r"indices in \[0, 2\]"),
])
def test_malformed_predictions_are_rejected(bad, message):
    with pytest.raises(ValueError, match=message):
        score_oneshot(lambda s, q: bad, _toy_runs())


def test_the_twenty_real_runs_parse_with_answers_from_class_labels(oneshot_runs):
    assert [run.name for run in oneshot_runs] == [f"run{i:02d}" for i in range(1, 21)]
    for run in oneshot_runs:
        assert run.support.shape == run.query.shape == (20, 1, 28, 28)
        assert sorted(run.answers.tolist()) == list(range(20))  # each character is tested exactly once
    # run01/class_labels.txt starts "test/item01.png training/class08.png", "item02 -> class09", "item03 -> class02"
    assert oneshot_runs[0].answers[:3].tolist() == [7, 8, 1]


def test_a_constant_guess_is_wrong_nineteen_times_in_twenty(oneshot_runs):
    result = score_oneshot(lambda s, q: torch.zeros(20, dtype=torch.long), oneshot_runs)
    assert result.error_percent == pytest.approx(95.0)


def test_runs_can_be_loaded_at_original_size():
    runs = load_oneshot_runs(image_size=None)
    assert runs[3].query.shape == (20, 1, 105, 105)


def test_every_published_error_has_a_citation_a_bib_entry_and_a_protocol():
    from pathlib import Path

    from mlbook.data import PUBLISHED_ERRORS
    from mlbook.data.oneshot import CITATIONS

    bib = (Path(__file__).resolve().parents[2] / "book" / "references.bib").read_text()
    for row in PUBLISHED_ERRORS:
        assert row["source"] in CITATIONS and "{" + row["source"] + "," in bib, row
        assert row["protocol"].strip(), row
        if "per_split" in row:  # the headline number is the mean of the two minimal splits
            assert abs(row["error_percent"] - sum(row["per_split"]) / 2) < 1e-9, row


def test_fractional_predictions_are_refused_not_truncated():
    with pytest.raises(ValueError, match="classify must return whole-number support indices"):
        score_oneshot(lambda support, query: torch.tensor([1.9, 0.0, 1.0]), _toy_runs())


def test_whole_number_float_predictions_score_as_before():
    result = score_oneshot(lambda support, query: torch.tensor([2.0, 0.0, 1.0]), _toy_runs()[:1])
    assert result.error_percent == 0.0


def test_predictions_of_another_shape_are_refused_not_flattened():
    two_rows = lambda support, query: torch.tensor([[2, 0, 1], [2, 0, 1]])  # noqa: E731 - 6 numbers for 3 queries
    with pytest.raises(ValueError, match=r"classify must return \(3,\) support indices"):
        score_oneshot(two_rows, _toy_runs()[:1])
    kept_dimension = lambda support, query: torch.tensor([[2], [0], [1]])  # noqa: E731 - argmax(keepdim=True)
    assert score_oneshot(kept_dimension, _toy_runs()[:1]).error_percent == 0.0


def test_boolean_predictions_and_non_callables_are_refused():
    with pytest.raises(TypeError, match="classify must return integer support indices"):
        score_oneshot(lambda support, query: torch.tensor([True, False, True]), _toy_runs())
    with pytest.raises(TypeError, match="classify must be callable"):
        score_oneshot("nearest", _toy_runs())
    with pytest.raises(TypeError, match="distance must be callable"):
        nearest_by_distance("euclidean")


def test_runs_must_be_a_list_of_one_shot_runs():
    with pytest.raises(ValueError, match="runs must be a non-empty list"):
        score_oneshot(lambda support, query: torch.arange(3), _toy_runs()[0])
    with pytest.raises(TypeError, match=r"runs\[0\] must be a OneShotRun"):
        score_oneshot(lambda support, query: torch.arange(3), [torch.zeros(3, 1, 2, 2)])


def test_a_run_and_a_result_refuse_inconsistent_contents():
    support = torch.zeros(3, 1, 2, 2)
    with pytest.raises(ValueError, match="answers must hold one index in"):
        OneShotRun("a", support, support, torch.tensor([0, 1, 3]))
    with pytest.raises(TypeError, match="answers must be an integer tensor"):
        OneShotRun("a", support, support, torch.tensor([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match="support must have 4 dimensions"):
        OneShotRun("a", support[:, 0], support, torch.tensor([0, 1, 2]))
    answers = torch.tensor([[0, 1, 2]])
    with pytest.raises(ValueError, match="error_percent must be a finite number"):
        OneShotResult(math.nan, [0.0], answers, answers)
    with pytest.raises(ValueError, match="predictions must have the shape of answers"):
        OneShotResult(0.0, [0.0], answers[:, :2], answers)
