import pytest
import torch

from mlbook.data import OneShotRun, load_oneshot_runs, nearest_by_distance, score_oneshot


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
