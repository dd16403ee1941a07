"""See how each method combines two task gradients: set their angle and length ratio, watch the update move.

``combine_two_gradients`` computes every aggregator's direction for g_1 = (1, 0) and g_2 = r (cos a, sin a);
``gradient_view`` draws them; ``gradient_explorer`` wraps that in ipywidgets (imported only when the widget is
built). The update's inner product with g_t says whether a small step along it lowers task t's loss (> 0) or raises
it (< 0): the point of PCGrad, MGDA and CAGrad is to keep both positive when the gradients conflict.
"""

from __future__ import annotations

import base64
import io
import math

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from mlbook.multitask.aggregator import Aggregator, Mean
from mlbook.multitask.aligned_mtl import AlignedMTL
from mlbook.multitask.cagrad import CAGrad
from mlbook.multitask.mgda import MGDA
from mlbook.multitask.nash_mtl import NashMTL
from mlbook.multitask.pcgrad import PCGrad


def default_aggregators() -> dict[str, Aggregator]:
    return {
        "mean (equal weights)": Mean(),
        "PCGrad": PCGrad(seed=0),
        "MGDA": MGDA(),
        "CAGrad (c=0.4)": CAGrad(c=0.4),
        "Nash-MTL": NashMTL(),
        "Aligned-MTL": AlignedMTL(),
    }


def two_gradients(angle_degrees: float, ratio: float) -> torch.Tensor:
    """The Jacobian [[1, 0], r (cos a, sin a)] of two tasks with two parameters."""
    if not (isinstance(angle_degrees, (int, float)) and 0 <= angle_degrees <= 180):
        raise ValueError(f"angle_degrees must be a number in [0, 180], got {angle_degrees!r}")
    if not (isinstance(ratio, (int, float)) and 0 < ratio < math.inf):
        raise ValueError(f"ratio must be a positive finite number, got {ratio!r}")
    a = math.radians(angle_degrees)
    return torch.tensor([[1.0, 0.0], [ratio * math.cos(a), ratio * math.sin(a)]], dtype=torch.float64)


def combine_two_gradients(
    angle_degrees: float, ratio: float, aggregators: dict[str, Aggregator] | None = None
) -> dict[str, torch.Tensor | None]:
    """Each aggregator's update direction for the two gradients (``None`` where it has none, e.g. Nash-MTL when
    the gradients are exactly opposite)."""
    jacobian = two_gradients(angle_degrees, ratio)
    directions: dict[str, torch.Tensor | None] = {}
    for name, aggregator in (aggregators or default_aggregators()).items():
        try:
            directions[name] = aggregator(jacobian)
        except ValueError:
            directions[name] = None
    return directions


def gradient_view(angle_degrees: float, ratio: float, aggregators: dict[str, Aggregator] | None = None
                  ) -> tuple[Figure, str]:
    """Draw g_1, g_2 and every method's update; return ``(figure, text)`` where the text gives, per method, the
    update's inner products with g_1 and g_2 (the first-order change of each loss is minus these)."""
    jacobian = two_gradients(angle_degrees, ratio)
    directions = combine_two_gradients(angle_degrees, ratio, aggregators)
    cosine = float(jacobian[0] @ jacobian[1] / (jacobian[0].norm() * jacobian[1].norm()))
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    for t, colour in ((0, "black"), (1, "grey")):
        g = jacobian[t]
        ax.annotate("", xy=(float(g[0]), float(g[1])), xytext=(0, 0),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 2.5})
        ax.text(float(g[0]) * 1.05, float(g[1]) * 1.05, f"$g_{t + 1}$", fontsize=12)
    lines = [f"cos(g1, g2) = {cosine:+.2f}", "method: update d, <d, g1>, <d, g2> (> 0: that task's loss goes down)"]
    markers = "osD^vP"
    for k, (name, d) in enumerate(directions.items()):
        if d is None:
            lines.append(f"{name}: no update defined here")
            continue
        ax.plot([0, float(d[0])], [0, float(d[1])], lw=1.5, marker=markers[k % len(markers)], markevery=[1],
                label=name)
        lines.append(f"{name}: d = ({float(d[0]):+.2f}, {float(d[1]):+.2f}), <d, g1> = {float(d @ jacobian[0]):+.2f}, "
                     f"<d, g2> = {float(d @ jacobian[1]):+.2f}")
    extent = max(1.2, 1.15 * float(jacobian.abs().max()))
    ax.set(xlim=(-extent, extent), ylim=(-0.3 * extent, extent), aspect="equal",
           title=f"two task gradients at {angle_degrees:.0f}°, length ratio {ratio:.2g}")
    ax.axhline(0, color="0.85", lw=0.8)
    ax.axvline(0, color="0.85", lw=0.8)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    return fig, "\n".join(lines)


def _png_output(fig: Figure, dpi: int) -> dict:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": "<gradients>"},
        "metadata": {},
    }


def gradient_explorer(angle_degrees: float = 120.0, ratio: float = 3.0, dpi: int = 80):
    """Sliders for the angle between two task gradients and their length ratio; redraws ``gradient_view``.

    Returns an ``ipywidgets.VBox`` with ``controls`` (``angle``, ``ratio``) and ``output`` attributes."""
    from mlbook.widgets import _require_ipywidgets

    widgets = _require_ipywidgets()
    two_gradients(angle_degrees, ratio)  # validates the starting values
    style = {"description_width": "initial"}
    controls = {
        "angle": widgets.FloatSlider(value=angle_degrees, min=0, max=180, step=5, description="angle (degrees)",
                                     style=style),
        "ratio": widgets.FloatLogSlider(value=ratio, base=10, min=-1, max=1, step=0.05,
                                        description="|g2| / |g1|", style=style),
    }
    output = widgets.Output()

    def render(*_) -> None:
        fig, text = gradient_view(float(controls["angle"].value), float(controls["ratio"].value))
        output.outputs = ({"output_type": "stream", "name": "stdout", "text": text + "\n"}, _png_output(fig, dpi))

    for control in controls.values():
        control.observe(render, names="value")
    render()
    box = widgets.VBox([widgets.HBox(list(controls.values())), output])
    box.controls = controls
    box.output = output
    return box
