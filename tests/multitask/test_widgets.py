"""mlbook.multitask.widgets: each method's direction for two gradients, the view, and the explorer."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import pytest
import torch

from mlbook.multitask import MGDA, Mean, PCGrad
from mlbook.multitask.widgets import combine_two_gradients, gradient_view, two_gradients


def test_two_gradients_have_the_asked_angle_and_ratio():
    jacobian = two_gradients(120, 3.0)
    cosine = jacobian[0] @ jacobian[1] / (jacobian[0].norm() * jacobian[1].norm())
    assert float(cosine) == pytest.approx(math.cos(math.radians(120)))
    assert float(jacobian[1].norm() / jacobian[0].norm()) == pytest.approx(3.0)


def test_in_conflict_the_mean_raises_the_short_tasks_loss_and_mgda_pcgrad_do_not():
    jacobian = two_gradients(150, 4.0)
    directions = combine_two_gradients(150, 4.0, {"mean": Mean(), "mgda": MGDA(), "pcgrad": PCGrad(seed=0)})
    assert float(directions["mean"] @ jacobian[0]) < 0
    for name in ("mgda", "pcgrad"):
        assert float(directions[name] @ jacobian[0]) >= -1e-12 and float(directions[name] @ jacobian[1]) >= -1e-12


def test_without_conflict_pcgrad_is_the_plain_sum():
    directions = combine_two_gradients(60, 2.0, {"pcgrad": PCGrad(seed=0)})
    torch.testing.assert_close(directions["pcgrad"], two_gradients(60, 2.0).sum(0))


def test_gradient_view_draws_and_reports_every_method():
    fig, text = gradient_view(120, 3.0)
    assert "cos(g1, g2) = -0.50" in text and "MGDA" in text and "PCGrad" in text
    plt.close(fig)


@pytest.mark.parametrize(("angle", "ratio", "message"), [(200, 1.0, "angle_degrees"), (90, 0.0, "ratio")])
def test_bad_gradients_are_rejected(angle, ratio, message):
    with pytest.raises(ValueError, match=message):
        two_gradients(angle, ratio)


def test_explorer_redraws_when_a_slider_moves():
    pytest.importorskip("ipywidgets")
    from mlbook.multitask.widgets import gradient_explorer

    widget = gradient_explorer(90, 1.0, dpi=30)
    before = widget.output.outputs[0]["text"]
    widget.controls["angle"].value = 150
    assert widget.output.outputs[0]["text"] != before and "cos(g1, g2) = -0.87" in widget.output.outputs[0]["text"]
    assert plt.get_fignums() == []
