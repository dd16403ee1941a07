"""Training-mode BatchNorm whose *second* derivative is written out by hand (for second-order MAML).

Second-order MAML differentiates every inner-loop gradient once more, so each BatchNorm layer's backward pass
is itself differentiated. PyTorch's generic double backward of BatchNorm spends about 33 reductions and as many
products per call on the full activation tensor. Written out for batch statistics, it needs about a dozen
(forward + backward + second derivative, one thread, on Conv4's activations for a 5-image support set: about
2.8x faster than PyTorch's BatchNorm at 64x14x14, 1.5x at 7x7, about the same at 3x3; ``benchmarks/maml_throughput.py``
prints the table). Python autograd functions need the GIL in the backward pass, so task threads use PyTorch's
BatchNorm instead (``pure.pytorch_derivatives``).

Per channel, over the M = N·H·W values of a batch (μ, σ² the batch mean and biased variance):

    r = (σ² + ε)^(-1/2),   x̂ = (x − μ) r,   y = γ x̂ + β                                   (forward)
    dβ = Σ g,   dγ = Σ g x̂,   dx = γ r (g − ḡ − x̂ m_g),   ḡ = dβ / M,  m_g = dγ / M       (backward, g = ∂L/∂y)

The backward is a function of (g, x, γ). Given cotangents a, b, c of (dx, dγ, dβ), with k = γ r,
ā = mean(a), m_a = mean(a x̂), u = b − k m_a and B = Σ a g − M ā ḡ − M m_a m_g:

    ∂/∂g = k a + u x̂ + (c − k ā)
    ∂/∂γ = r B
    ∂/∂x = r (G − mean(G) − x̂ mean(G x̂)) − (r² γ B / M) x̂,   G = u g − k m_g a

(the last line is the BatchNorm backward of G = ∂/∂x̂, plus the direct dependence of r on x through σ²;
mean(G) and mean(G x̂) are per-channel scalars built from ḡ, m_g, ā, m_a, so they cost no pass over the data).
The derivation is checked against PyTorch's own second derivative, by finite differences and through a whole
MAML meta-gradient (``tests/optimization/test_batchnorm_grad.py``).

If the second backward itself builds a graph (``create_graph=True``: a third derivative may follow), the same
formulas run on batch statistics recomputed from x, so autograd sees how everything depends on x. PyTorch's
fused BatchNorm gets third derivatives wrong in training mode (pytorch/pytorch#186256: its double backward
treats the saved batch statistics as constants); this one matches finite differences (tested).
"""

from __future__ import annotations

import torch


def batch_norm_train(
    x: torch.Tensor, weight: torch.Tensor | None, bias: torch.Tensor | None, eps: float = 1e-5
) -> torch.Tensor:
    """``F.batch_norm(x, None, None, weight, bias, training=True, eps=eps)`` (batch statistics over every
    dimension but 1, no running statistics), with the same values and first derivatives and a cheaper second
    derivative."""
    if x.dim() < 2:
        raise ValueError(f"x must have a batch and a channel dimension, got shape {tuple(x.shape)}")
    if x.numel() // x.shape[1] < 2:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
    if weight is None:
        weight = x.new_ones(x.shape[1])
    if not torch.is_grad_enabled():  # nothing to differentiate: no Python autograd function needed
        return torch.nn.functional.batch_norm(x, None, None, weight, bias, True, 0.0, eps)
    if bias is None:
        bias = x.new_zeros(x.shape[1])
    return _BatchNorm.apply(x, weight, bias, eps)


def _per_channel(v: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    return v.view(1, -1, *([1] * (x.dim() - 2)))


def _dims(x: torch.Tensor) -> list[int]:
    return [0, *range(2, x.dim())]


def _first_derivative(g, x, weight, mean, invstd, eps):
    return torch.ops.aten.native_batch_norm_backward(g, x, weight, None, None, mean, invstd, True, eps, [True] * 3)


class _BatchNorm(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, weight, bias, eps):
        y, mean, invstd = torch.native_batch_norm(x, weight, bias, None, None, True, 0.0, eps)
        ctx.save_for_backward(x, weight, mean, invstd)
        ctx.eps = eps
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight, mean, invstd = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph: this backward will be differentiated
            dx, dweight, dbias = _BatchNormBackward.apply(g, x, weight, mean, invstd, ctx.eps)
        else:  # a plain first derivative (first-order methods, the outer backward): the kernel directly
            dx, dweight, dbias = _first_derivative(g, x, weight, mean, invstd, ctx.eps)
        return dx, dweight, dbias, None


class _BatchNormBackward(torch.autograd.Function):
    @staticmethod
    def forward(ctx, g, x, weight, mean, invstd, eps):
        dx, dweight, dbias = _first_derivative(g, x, weight, mean, invstd, eps)
        ctx.save_for_backward(g, x, weight, mean, invstd, dweight, dbias)
        ctx.eps = eps
        return dx, dweight, dbias

    @staticmethod
    def backward(ctx, a, b, c):  # cotangents of dx, dγ, dβ (autograd passes zeros for unused outputs)
        g, x, weight, mean, invstd, dweight, dbias = ctx.saved_tensors
        if torch.is_grad_enabled():  # create_graph=True: the result itself will be differentiated
            return _differentiable_second_derivative(g, x, weight, ctx.eps, a, b, c)
        return _second_derivative(g, x, weight, mean, invstd, dweight, dbias, a, b, c)


def _coefficients(weight, invstd, g_mean, g_xhat_mean, a_mean, a_xhat_mean, a_g_sum, b, c, m):
    """Per-channel coefficients of the second derivative (the formulas of the module docstring):
    ∂/∂g = c0 + x̂ c1 + a c2,  ∂/∂x = c3 + g c4 + a c5 + x̂ c6,  ∂/∂γ = c7."""
    k = weight * invstd
    u = b - k * a_xhat_mean
    bracket = a_g_sum - m * (a_mean * g_mean + a_xhat_mean * g_xhat_mean)
    G_mean = u * g_mean - k * g_xhat_mean * a_mean  # mean of G = ∂/∂x̂ = u g − k m_g a
    G_xhat_mean = (u - k * a_xhat_mean) * g_xhat_mean  # mean of G x̂
    return (
        c - k * a_mean, u, k,
        -invstd * G_mean, invstd * u, -invstd * k * g_xhat_mean,
        -invstd * G_xhat_mean - invstd * invstd * weight * bracket / m,
        invstd * bracket,
    )


def _second_derivative(g, x, weight, mean, invstd, dweight, dbias, a, b, c):
    """Gradients for (g, x, γ, μ, 1/σ, ε): three per-channel sums and five fused passes over the data. Plain
    torch operators, so autograd records them when a graph is being built."""
    dims, m = _dims(x), x.numel() // x.shape[1]
    x_hat = torch.addcmul(_per_channel(-mean * invstd, x), x, _per_channel(invstd, x))
    sums = a.sum(dims), (a * x_hat).sum(dims), (a * g).sum(dims)
    *columns, grad_weight = _coefficients(weight, invstd, dbias / m, dweight / m, sums[0] / m, sums[1] / m,
                                          sums[2], b, c, m)
    c0, c1, c2, c3, c4, c5, c6 = (_per_channel(v, x) for v in columns)
    grad_g = torch.addcmul(c0, x_hat, c1).addcmul_(a, c2)
    grad_x = torch.addcmul(c3, g, c4).addcmul_(a, c5).addcmul_(x_hat, c6)
    return grad_g, grad_x, grad_weight, None, None, None


def _differentiable_second_derivative(g, x, weight, eps, a, b, c):
    """The same, with the batch statistics recomputed from x, so that autograd records how the result depends
    on g, x and γ through them too (only needed for a third derivative; slower)."""
    dims = _dims(x)
    mean, var = x.mean(dims), x.var(dims, correction=0)
    invstd = (var + eps).rsqrt()
    x_hat = (x - _per_channel(mean, x)) * _per_channel(invstd, x)
    dweight, dbias = (g * x_hat).sum(dims), g.sum(dims)
    return _second_derivative(g, x, weight, mean, invstd, dweight, dbias, a, b, c)
