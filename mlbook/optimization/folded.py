"""The first block of a convnet with its batch statistics folded into the convolution: exact and cheaper.

Conv4's first block is ``conv3x3 -> BatchNorm (batch statistics) -> ReLU -> max-pool`` on the raw image. It
works at full resolution (64 channels x 28 x 28 per image), so in second-order MAML its normalisation, the
normalisation's backward and that backward's backward are a large share of the whole meta-gradient's cost.
They are not needed:

* The convolution's output for channel c at any position is ``w_c · p + b_c`` for the input patch p there.
  Its batch mean is therefore ``w_c · m + b_c`` and its (biased) batch variance ``w_c^T S w_c``, where m and
  S are the mean and covariance of the input patches: *data only*, and tiny when the input has few channels
  (9 x 9 for a grey 3x3 convolution). The input needs no gradient, so m and S are constants.
* Normalising then only rescales and shifts each channel, which folds into the convolution:
  ``w'_c = s_c w_c`` and ``b'_c = beta_c - s_c w_c · m`` with ``s_c = gamma_c / sqrt(w_c^T S w_c + eps)``.
  The convolution's own bias cancels (as it does inside BatchNorm; its gradient is exactly 0).
* The folded convolution is one matrix product of the patches with the folded weights, and its result is
  laid out channels-last, where PyTorch's max-pooling kernel is several times faster than on the default
  layout. Pooling picks the same elements in either layout, so the pooled values are gathered by those
  indices (``gather``; its backward is a scatter and its double backward a gather again, both cheap), and
  ReLU is applied after pooling (they commute; see ``pure._relu_then_max_pool``).
* The output stays channels-last (``[N, C, H, W]`` with NHWC memory). The following layers then run
  channels-last too, which on the book's CPU is faster for them as well: oneDNN convolutions skip their
  layout reorders and pooling uses the fast kernel (an interleaved A/B timing while developing this: 7–19%
  faster second-order meta-gradients; float32 results differ from the default layout's only by rounding,
  ~1e-4 on meta-gradients of size ~1).

Values and first and second derivatives equal the unfolded computation's (tested in float64); the book's
meta-gradient benchmark measures what it saves. Used by ``pure_forward`` wherever a Conv2d (groups 1, few
input channels) followed by a transductive BatchNorm2d is applied to an input that needs no gradient: in
practice, the network's first block.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

MAX_PATCH_SIZE = 32  # in_channels x kernel area; the patch covariance is this squared (9 x 9 for Omniglot)


def can_fold(conv: nn.Module, norm: nn.Module | None, x: torch.Tensor) -> bool:
    """Whether ``conv`` then ``norm`` applied to ``x`` can be computed by ``folded_block``."""
    return (
        type(conv) is nn.Conv2d
        and type(norm) is nn.BatchNorm2d
        and norm.running_mean is None
        and conv.groups == 1
        and conv.padding_mode == "zeros"
        and not isinstance(conv.padding, str)
        and conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1] <= MAX_PATCH_SIZE
        and not x.requires_grad
    )


def patch_statistics(x: torch.Tensor, conv: nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The input patches the convolution sees (``[C_in*k*k, N*L]``, images outer, positions inner), their mean
    and their (biased) covariance over all images and positions, zero padding included."""
    patches = F.unfold(x, conv.kernel_size, conv.dilation, conv.padding, conv.stride)  # N, C_in*k*k, L
    patches = patches.transpose(0, 1).reshape(patches.shape[1], -1)
    if patches.shape[1] == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
    mean = patches.mean(dim=1)
    centred = patches - mean[:, None]
    return patches, mean, centred @ centred.T / patches.shape[1]


def folded_weights(weight, bias, gamma, beta, eps: float, mean, covariance) -> tuple[torch.Tensor, torch.Tensor]:
    """Weights ``[C_out, C_in*k*k]`` and bias ``[C_out]`` of the single affine map equal to conv then
    BatchNorm with batch statistics, for inputs whose patches have ``mean`` and ``covariance``."""
    flat = weight.reshape(weight.shape[0], -1)
    variance = ((flat @ covariance) * flat).sum(dim=1)
    scale = torch.rsqrt(variance + eps)
    if gamma is not None:
        scale = scale * gamma
    shift = -scale * (flat @ mean)
    if beta is not None:
        shift = shift + beta
    if bias is not None:
        shift = shift + 0.0 * bias  # cancels in the normalisation; kept in the graph with its exact gradient, 0
    return flat * scale[:, None], shift


def output_size(x: torch.Tensor, conv: nn.Conv2d) -> tuple[int, int]:
    return tuple(
        (x.shape[2 + d] + 2 * conv.padding[d] - conv.dilation[d] * (conv.kernel_size[d] - 1) - 1) // conv.stride[d] + 1
        for d in range(2)
    )


def folded_block(
    x: torch.Tensor,
    conv: nn.Conv2d,
    weight: torch.Tensor,
    bias: torch.Tensor | None,
    norm: nn.BatchNorm2d,
    gamma: torch.Tensor | None,
    beta: torch.Tensor | None,
    pool: nn.MaxPool2d | None = None,
) -> torch.Tensor:
    """``batch_norm(conv2d(x))`` with batch statistics, or with ``pool`` given ``max_pool(relu(...))``, as one
    matrix product (plus a gather for the pooling), returned in channels-last memory. ``weight``/``bias`` are
    the convolution's parameters and ``gamma``/``beta`` the norm's, as tensors (the caller's functional
    parameters)."""
    patches, mean, covariance = patch_statistics(x, conv)
    folded, shift = folded_weights(weight, bias, gamma, beta, norm.eps, mean, covariance)
    n, (height, width) = x.shape[0], output_size(x, conv)
    # folded.T made contiguous: autograd then computes the weight gradient as patches @ grad, two row-major
    # operands (6x faster on CPU than the transposed product it would pick for a transposed view)
    out = torch.addmm(shift, patches.T, folded.T.contiguous()).view(n, height * width, -1)  # channels-last memory
    feature_map = out.view(n, height, width, -1).permute(0, 3, 1, 2)
    if pool is None:
        return feature_map
    with torch.no_grad():
        _, index = F.max_pool2d(feature_map, pool.kernel_size, pool.stride, pool.padding, pool.dilation,
                                pool.ceil_mode, return_indices=True)  # per image and channel: h * width + w
    pooled_height, pooled_width = index.shape[2:]
    pooled = out.gather(1, index.permute(0, 2, 3, 1).reshape(n, pooled_height * pooled_width, -1))
    return pooled.view(n, pooled_height, pooled_width, -1).permute(0, 3, 1, 2).relu()
