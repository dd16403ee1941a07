"""Bad-input table for ``mlbook.models`` (the Conv4 and MLP backbones and their building blocks): each row is a
mistake a reader makes, and the error it must get."""

from __future__ import annotations

import pytest
import torch

from mlbook.models import MLP, Conv4, conv_block, make_norm
from tests.bad_input.harness import BadInput, assert_clear


def conv() -> Conv4:
    torch.manual_seed(0)
    return Conv4(out_features=3, hidden=4, image_size=16, depth=3)


def mlp() -> MLP:
    torch.manual_seed(0)
    return MLP(1, 1, hidden=(8,))


ROWS = [
    # ---- Conv4
    BadInput("mlbook.models.Conv4", "out_features", "zero", lambda: Conv4(out_features=0)),
    BadInput("mlbook.models.Conv4", "out_features", "negative", lambda: Conv4(out_features=-5)),
    BadInput("mlbook.models.Conv4", "out_features", "float", lambda: Conv4(out_features=5.0)),
    BadInput("mlbook.models.Conv4", "out_features", "string", lambda: Conv4(out_features="5")),
    BadInput("mlbook.models.Conv4", "in_channels", "zero", lambda: Conv4(in_channels=0)),
    BadInput("mlbook.models.Conv4", "in_channels", "string", lambda: Conv4(in_channels="1")),
    BadInput("mlbook.models.Conv4", "hidden", "zero", lambda: Conv4(hidden=0)),
    BadInput("mlbook.models.Conv4", "hidden", "float", lambda: Conv4(hidden=64.0)),
    BadInput("mlbook.models.Conv4", "norm", "misspelt", lambda: Conv4(norm="batchnorm")),
    BadInput("mlbook.models.Conv4", "norm", "None", lambda: Conv4(norm=None)),
    BadInput("mlbook.models.Conv4", "image_size", "too small", lambda: Conv4(image_size=8)),
    BadInput("mlbook.models.Conv4", "image_size", "string", lambda: Conv4(image_size="28")),
    BadInput("mlbook.models.Conv4", "image_size", "negative", lambda: Conv4(image_size=-28, depth=1)),
    BadInput("mlbook.models.Conv4", "depth", "zero", lambda: Conv4(depth=0)),
    BadInput("mlbook.models.Conv4", "track_running_stats", "string", lambda: Conv4(track_running_stats="no")),
    BadInput("mlbook.models.Conv4.forward", "x", "3-D images", lambda: conv()(torch.rand(2, 16, 16))),
    BadInput("mlbook.models.Conv4.forward", "x", "wrong channels", lambda: conv()(torch.rand(2, 3, 16, 16))),
    BadInput("mlbook.models.Conv4.forward", "x", "a list", lambda: conv()([[0.0] * 16] * 16)),
    BadInput("mlbook.models.Conv4.forward", "x", "float64 images", lambda: conv()(torch.rand(2, 1, 16, 16).double())),
    BadInput(
        "mlbook.models.Conv4.forward", "x", "uint8 images",
        lambda: conv()(torch.randint(0, 255, (2, 1, 16, 16), dtype=torch.uint8)),
    ),
    BadInput("mlbook.models.Conv4.check_input", "x", "None", lambda: conv().check_input(None)),
    # ---- MLP
    BadInput("mlbook.models.MLP", "in_features", "zero", lambda: MLP(0, 1)),
    BadInput("mlbook.models.MLP", "out_features", "zero", lambda: MLP(1, 0)),
    BadInput("mlbook.models.MLP", "out_features", "float", lambda: MLP(1, 1.0)),
    BadInput("mlbook.models.MLP", "hidden", "an int, not a sequence", lambda: MLP(1, 1, hidden=40)),
    BadInput("mlbook.models.MLP", "hidden", "a zero width", lambda: MLP(1, 1, hidden=(40, 0))),
    BadInput("mlbook.models.MLP", "hidden", "a float width", lambda: MLP(1, 1, hidden=(40.0, 40))),
    BadInput("mlbook.models.MLP", "hidden", "a string", lambda: MLP(1, 1, hidden="40")),
    BadInput("mlbook.models.MLP.forward", "x", "wrong features", lambda: mlp()(torch.rand(5, 2))),
    BadInput("mlbook.models.MLP.forward", "x", "a list", lambda: mlp()([[0.0], [1.0]])),
    BadInput("mlbook.models.MLP.forward", "x", "float64 inputs", lambda: mlp()(torch.rand(5, 1).double())),
    BadInput("mlbook.models.MLP.forward", "x", "integer inputs", lambda: mlp()(torch.arange(5).reshape(5, 1))),
    # ---- building blocks
    BadInput("mlbook.models.make_norm", "norm", "misspelt", lambda: make_norm("bn", 8)),
    BadInput("mlbook.models.make_norm", "channels", "zero", lambda: make_norm("batch", 0)),
    BadInput("mlbook.models.make_norm", "channels", "zero with group norm", lambda: make_norm("group", 0)),
    BadInput("mlbook.models.make_norm", "channels", "string", lambda: make_norm("batch", "64")),
    BadInput("mlbook.models.make_norm", "track_running_stats", "string", lambda: make_norm("batch", 8, "no")),
    BadInput("mlbook.models.conv_block", "in_channels", "zero", lambda: conv_block(0, 8, "batch")),
    BadInput("mlbook.models.conv_block", "out_channels", "negative", lambda: conv_block(1, -8, "batch")),
    BadInput("mlbook.models.conv_block", "out_channels", "float", lambda: conv_block(1, 8.0, "batch")),
    BadInput("mlbook.models.conv_block", "norm", "misspelt", lambda: conv_block(1, 8, "batchnorm")),
    BadInput("mlbook.models.conv_block", "track_running_stats", "string", lambda: conv_block(1, 8, "batch", "no")),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_gets_a_clear_error_naming_the_argument(row):
    assert_clear(row)
