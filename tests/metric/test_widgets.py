import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mlbook.data import LabelledImages  # noqa: E402
from mlbook.metric import build_method  # noqa: E402
from mlbook.metric.widgets import comparison_scores, query_explorer, query_view  # noqa: E402


@pytest.fixture(scope="module")
def methods():
    torch.manual_seed(0)
    names = ["protonet", "protonet_cosine", "matching", "relation", "siamese"]
    return {name: build_method(name, hidden=8) for name in names}


def test_comparison_scores_shapes_and_meaning(methods, make_episode):
    ep = make_episode(4, 2, q_query=2)
    for name, method in methods.items():
        scores, label, smaller = comparison_scores(method, ep)
        assert scores.shape == (8, 4), name
        assert isinstance(label, str)
        predicted = scores.argmin(1) if smaller else scores.argmax(1)
        with torch.no_grad():
            assert torch.equal(predicted, method.eval().predict(ep).argmax(1)), name
    attention_mass, _, _ = comparison_scores(methods["matching"], ep)
    assert torch.allclose(attention_mass.sum(1), torch.ones(8), atol=1e-5)
    with pytest.raises(TypeError):
        comparison_scores(torch.nn.Linear(2, 2), ep)


def test_query_view_and_explorer(methods, make_episode):
    fig = query_view(make_episode(5, 2, q_query=1), 3, methods)
    assert len(fig.axes) == 2 + len(methods)
    plt.close(fig)
    with pytest.raises(ValueError, match="index"):
        query_view(make_episode(5, 1, q_query=1), 5, methods)
    data = LabelledImages(torch.rand(60, 1, 28, 28), torch.arange(10).repeat_interleave(6), [str(i) for i in range(10)])
    box = query_explorer(data, {"p": methods["protonet"]}, q_query=2, max_shot=3)
    assert box.output.outputs[0]["output_type"] == "display_data"
    box.controls["k_shot"].value = 3
    box.controls["query"].value = 7
    assert "image/png" in box.output.outputs[0]["data"]
