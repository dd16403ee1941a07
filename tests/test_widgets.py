"""mlbook.widgets: the episode explorer builds, redraws when a control changes and explains impossible choices."""

import base64
import sys

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

pytest.importorskip("ipywidgets")

from mlbook.training import EpisodicMethod  # noqa: E402
from mlbook.widgets import ALL_GROUPS, ONE_GROUP, episode_explorer, episode_view  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _kinds(widget) -> list[str]:
    return [o["output_type"] if o["output_type"] != "stream" else o["name"] for o in widget.output.outputs]


def _text(widget) -> str:
    return "".join(o.get("text", "") for o in widget.output.outputs)


def _png(widget) -> bytes:
    (image,) = [o for o in widget.output.outputs if o["output_type"] == "display_data"]
    return base64.b64decode(image["data"]["image/png"])


def test_explorer_builds_with_controls_and_a_first_episode(indexed_dataset):
    widget = episode_explorer(indexed_dataset, n_way=3, k_shot=2, q_query=2, seed=4, dpi=40)
    assert set(widget.controls) == {"n_way", "k_shot", "group", "seed"}
    assert widget.controls["n_way"].value == 3 and widget.controls["k_shot"].value == 2
    assert list(widget.controls["group"].options) == [ALL_GROUPS, ONE_GROUP, "alpha", "beta", "gamma"]
    assert _kinds(widget) == ["stdout", "display_data"]
    assert _text(widget).startswith("3-way 2-shot episode (seed 4)")
    assert _png(widget).startswith(b"\x89PNG")
    assert widget.output in widget.children
    assert plt.get_fignums() == []  # the figure went into the widget, not into the notebook


def test_changing_a_slider_redraws_the_episode(indexed_dataset):
    widget = episode_explorer(indexed_dataset, n_way=3, k_shot=1, q_query=2, dpi=40)
    before = _png(widget)
    widget.controls["n_way"].value = 5
    assert _text(widget).startswith("5-way 1-shot")
    assert _png(widget) != before
    widget.controls["seed"].value = 7
    assert "(seed 7)" in _text(widget)


def test_group_dropdown_pins_the_alphabet(indexed_dataset):
    widget = episode_explorer(indexed_dataset, n_way=2, q_query=2, dpi=40)
    widget.controls["group"].value = "gamma"
    assert "from gamma" in _text(widget)
    widget.controls["group"].value = ONE_GROUP
    widget.controls["n_way"].value = 5  # only alpha has 5 classes
    assert "from alpha" in _text(widget)


def test_impossible_n_way_shows_the_sampler_message_instead_of_crashing(indexed_dataset):
    widget = episode_explorer(indexed_dataset, n_way=2, q_query=2, max_way=20, dpi=40)
    widget.controls["group"].value = "beta"  # 4 classes
    widget.controls["n_way"].value = 6
    assert _kinds(widget) == ["stderr"]
    assert "n_way=6 is larger than the 4 classes available: choose n_way in [2, 4]" in _text(widget)
    widget.controls["n_way"].value = 4  # a possible choice draws again
    assert _kinds(widget) == ["stdout", "display_data"]


def test_too_many_shots_show_the_sampler_message(indexed_dataset):
    widget = episode_explorer(indexed_dataset, n_way=2, k_shot=1, q_query=5, max_shot=10)
    widget.controls["k_shot"].value = 6  # 6 + 5 > the 10 examples per class
    assert "k_shot + q_query = 6 + 5 = 11" in _text(widget)


def test_predictions_are_scored_and_framed(indexed_dataset):
    def always_first_class(episode):
        return torch.zeros(episode.query_y.shape[0], dtype=torch.long)

    fig, summary = episode_view(indexed_dataset, 4, 1, 2, predict=always_first_class, predictor_name="guess 0")
    assert "guess 0: 2/8 query images right (25%)" in summary
    assert "2/8 predicted correctly" in fig.axes[1].get_title()


def test_episodic_methods_predict_in_eval_mode(indexed_dataset):
    class Oracle(EpisodicMethod):
        def predict(self, episode):
            assert not self.training
            return torch.nn.functional.one_hot(episode.query_y, episode.n_way).float()

    widget = episode_explorer(indexed_dataset, n_way=3, q_query=2, predict=Oracle(), predictor_name="oracle", dpi=40)
    assert "oracle: 6/6 query images right (100%)" in _text(widget)


def test_bad_arguments_and_missing_ipywidgets_give_clear_errors(indexed_dataset, monkeypatch):
    with pytest.raises(ValueError, match=r"n_way must be an int in \[2, 4\]"):
        episode_explorer(indexed_dataset, n_way=5, max_way=4)
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import fails as if it were not installed
    with pytest.raises(ImportError, match=r"pip install 'mlbook\[widgets\]'"):
        episode_explorer(indexed_dataset)


def test_widgets_refuse_a_string_predictor_a_float_n_way_and_a_negative_seed(indexed_dataset):
    with pytest.raises(TypeError, match="predict must be callable"):
        episode_view(indexed_dataset, 2, 1, predict="protonet")
    with pytest.raises(TypeError, match="predictor_name must be a str"):
        episode_view(indexed_dataset, 2, 1, predict=lambda ep: ep.query_y, predictor_name=None)
    with pytest.raises(TypeError, match="n_way must be an int"):
        episode_explorer(indexed_dataset, n_way=2.5)
    with pytest.raises(ValueError, match="seed must be an int >= 0"):
        episode_explorer(indexed_dataset, n_way=2, seed=-3)
    with pytest.raises(TypeError, match="dataset must be a LabelledImages"):
        episode_explorer([torch.zeros(4, 4)], n_way=2)
