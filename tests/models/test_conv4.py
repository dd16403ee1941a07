import pytest
import torch
from torch.func import functional_call

from mlbook.models import MLP, NORMS, Conv4, conv_block, make_norm


@pytest.mark.parametrize("norm", NORMS)
def test_conv4_embeds_28px_images_into_64_dimensions(norm):
    model = Conv4(norm=norm)
    assert model.embedding_dim == 64
    assert model(torch.rand(6, 1, 28, 28)).shape == (6, 64)


def test_head_gives_logits_and_can_be_swapped():
    model = Conv4(out_features=5, hidden=32)
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 5)
    assert isinstance(model.head, torch.nn.Linear) and model.head.in_features == 32


def test_larger_inputs_keep_their_spatial_size_in_the_embedding():
    assert Conv4(image_size=84, in_channels=3).embedding_dim == 64 * 5 * 5


@pytest.mark.parametrize("norm", ["batch", "group", "none"])
def test_functional_call_equals_the_module(norm):
    torch.manual_seed(0)
    model = Conv4(out_features=5, norm=norm).train()
    x = torch.rand(4, 1, 28, 28)
    params = {k: v.detach().clone() for k, v in model.named_parameters()}
    buffers = {k: v.clone() for k, v in model.named_buffers()}
    expected = model(x)
    assert torch.allclose(functional_call(model, (params, buffers), (x,)), expected, atol=1e-6)


def test_gradients_reach_the_first_layer():
    model = Conv4(out_features=3)
    model(torch.rand(4, 1, 28, 28)).sum().backward()
    assert model.features[0][0].weight.grad.abs().sum() > 0


@pytest.mark.parametrize("kwargs, message", [
    ({"norm": "batchnorm"}, "norm must be one of"),
    ({"hidden": 0}, "hidden must be an int >= 1"),
    ({"image_size": 8}, "image_size must be >= 16"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Conv4(**kwargs)


def test_wrong_input_shape_is_explained():
    with pytest.raises(ValueError, match=r"x must be \[batch, 1, H, W\]"):
        Conv4()(torch.rand(2, 28, 28))


def test_mlp_shapes_and_errors():
    net = MLP(1, 1)
    assert net(torch.rand(10, 1)).shape == (10, 1)
    assert sum(p.numel() for p in net.parameters()) == (1 * 40 + 40) + (40 * 40 + 40) + (40 + 1)
    with pytest.raises(ValueError, match="x must have 1 features"):
        net(torch.rand(10, 2))
    with pytest.raises(ValueError, match="out_features must be an int"):
        MLP(1, 0)


def test_zero_out_features_is_refused_not_read_as_headless():
    with pytest.raises(ValueError, match="out_features must be an int >= 1"):
        Conv4(out_features=0)
    assert isinstance(Conv4(out_features=None).head, torch.nn.Identity)


def test_track_running_stats_must_be_a_boolean():
    with pytest.raises(TypeError, match="track_running_stats must be True or False"):
        Conv4(track_running_stats="no")
    with pytest.raises(TypeError, match="track_running_stats must be True or False"):
        make_norm("batch", 8, "no")


def test_blocks_refuse_zero_channels():
    with pytest.raises(ValueError, match="channels must be an int >= 1"):
        make_norm("batch", 0)
    with pytest.raises(ValueError, match="in_channels must be an int >= 1"):
        conv_block(0, 8, "batch")


def test_inputs_of_another_dtype_get_a_clear_error():
    with pytest.raises(TypeError, match="x must have the model's dtype torch.float32, got torch.float64"):
        Conv4(out_features=3)(torch.rand(2, 1, 28, 28, dtype=torch.float64))
    with pytest.raises(TypeError, match="x must have the model's dtype"):
        MLP(1, 1)(torch.arange(3).reshape(3, 1))


def test_mlp_hidden_must_be_a_sequence_of_widths():
    with pytest.raises(TypeError, match="hidden must be a sequence of layer widths"):
        MLP(1, 1, hidden=40)
    with pytest.raises(ValueError, match=r"hidden\[1\] must be an int >= 1"):
        MLP(1, 1, hidden=(40, 0))
