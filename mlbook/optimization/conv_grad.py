"""A 2-d convolution whose *second* derivative calls the convolution kernels directly (for second-order MAML).

Second-order MAML differentiates the backward pass of every convolution of every inner step. The backward pass
maps the output gradient g to

    dx = conv_transpose(g, w),   dw = corr(x, g),   db = Σ g

which is bilinear, so its derivatives, given cotangents a, b, c of (dx, dw, db), are convolutions again:

    ∂/∂g = conv(a, w) + conv(x, b) + c,   ∂/∂w = corr(a, g),   ∂/∂x = conv_transpose(g, b)

PyTorch's generic double backward computes corr(a, g) as a convolution over the *transposed* tensors (images
as channels, channels as images, a 14x14 "kernel" for Conv4's second layer), which oneDNN runs slowly, and
conv_transpose(g, b) through a slow path; here both are the weight-gradient and input-gradient kernels of the
convolution backward (``aten.convolution_backward`` with an output mask), the ones the first backward uses.
Values and derivatives equal PyTorch's (tested to 1e-10 in float64, third derivatives included: the formulas
are ordinary differentiable operators, so autograd can differentiate them again when asked). Forward + backward +
second derivative of Conv4's second layer on a 5-image support set (64 channels, 14x14, channels-last, one
thread): about 3.6 ms with PyTorch's convolution, 2.5 ms with this one (``benchmarks/maml_throughput.py`` prints
the table for layers 2-4).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def conv2d(
    x: torch.Tensor,
    weight: torch.Tensor,
    bias: torch.Tensor | None = None,
    stride=1,
    padding=0,
    dilation=1,
    groups: int = 1,
) -> torch.Tensor:
    """``F.conv2d`` (numeric ``padding`` only) with the same values and derivatives and a faster second
    derivative."""
    if isinstance(padding, str):
        raise ValueError(f"padding must be an int or a pair of ints here, got {padding!r}")
    stride, padding, dilation = (_pair(v) for v in (stride, padding, dilation))
    if not torch.is_grad_enabled():  # nothing to differentiate: no Python autograd function needed
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups)
    return _Conv.apply(x, weight, bias, stride, padding, dilation, groups)


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


class _Conv(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation, groups):
        ctx.save_for_backward(x, weight)
        ctx.geometry = (stride, padding, dilation, groups)
        ctx.has_bias = bias is not None
        return F.conv2d(x, weight, bias, stride, padding, dilation, groups)

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: this backward will be differentiated
            dx, dweight, dbias = _ConvBackward.apply(g, x, weight, ctx.geometry, ctx.has_bias)
        else:  # a plain first derivative (first-order methods, the outer backward): the kernels directly
            dx, dweight, dbias = _backward_kernels(g, x, weight, ctx.geometry, [True, True, ctx.has_bias])
        return dx, dweight, dbias, None, None, None, None


def _backward_kernels(g, x, weight, geometry, mask):
    stride, padding, dilation, groups = geometry
    bias_sizes = [weight.shape[0]] if mask[2] else None
    return torch.ops.aten.convolution_backward(
        g, x, weight, bias_sizes, list(stride), list(padding), list(dilation), False, [0, 0], groups, mask
    )


class _ConvBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, g, x, weight, geometry, has_bias):
        ctx.save_for_backward(g, x, weight)
        ctx.geometry, ctx.has_bias = geometry, has_bias
        return _backward_kernels(g, x, weight, geometry, [True, True, has_bias])

    @staticmethod
    def backward(ctx, a, b, c):  # cotangents of dx, dw, db (None where unused)
        g, x, weight = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geometry
        grad_g = grad_x = grad_weight = None
        if ctx.needs_input_grad[0]:
            grad_g = 0
            if a is not None:
                grad_g = F.conv2d(a, weight, None, stride, padding, dilation, groups)
            if b is not None:
                grad_g = grad_g + F.conv2d(x, b, None, stride, padding, dilation, groups)
            if c is not None:
                grad_g = grad_g + c.view(1, -1, 1, 1)
            if not isinstance(grad_g, torch.Tensor):
                grad_g = None
        if ctx.needs_input_grad[2] and a is not None:
            grad_weight = _backward_kernels(g, a, weight, ctx.geometry, [False, True, False])[1]
        if ctx.needs_input_grad[1] and b is not None:
            grad_x = _backward_kernels(g, x, b, ctx.geometry, [True, False, False])[0]
        return grad_g, grad_x, grad_weight, None, None
