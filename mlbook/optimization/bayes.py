"""MAML as hierarchical Bayes (Grant et al. 2018): early-stopped gradient descent is MAP with a Gaussian prior.

For a quadratic task loss L(φ) = ½ (φ - φ*)^T H (φ - φ*) (linear regression, or any loss near its minimum),
S steps of gradient descent with step α from θ give

    φ^(S) = θ + (I - (I - αH)^S) (φ* - θ),

and the MAP estimate under the prior N(θ, Λ^{-1}) is φ_MAP = θ + (H + Λ)^{-1} H (φ* - θ). The two agree when,
in the eigenbasis of H (eigenvalues λ_j),

    Λ_j = λ_j (1 - αλ_j)^S / (1 - (1 - αλ_j)^S).

So the inner loop imposes an implicit Gaussian prior centred on the meta-parameters θ: few steps or a small
α mean a tight prior (stay near θ); directions of low curvature (small λ_j) are the most constrained.
MAML's outer loop learns the prior's mean θ: empirical Bayes in a hierarchical model.
"""

from __future__ import annotations

import torch

from mlbook.validate import check_positive, check_positive_int, check_tensor


def _check_hessian(hessian: torch.Tensor, symmetric: bool = False) -> None:
    check_tensor("hessian", hessian, floating=True, finite=True)
    if hessian.ndim != 2 or hessian.shape[0] != hessian.shape[1]:
        raise ValueError(f"hessian must be a square matrix, got shape {tuple(hessian.shape)}")
    if symmetric:  # eigh reads one triangle only: a non-symmetric matrix would be silently symmetrised
        scale = float(hessian.abs().max()) if hessian.numel() else 0.0
        if not torch.allclose(hessian, hessian.T, rtol=1e-5, atol=1e-6 * scale):
            raise ValueError("hessian must be symmetric (a Hessian is); got one with hessian != hessian.T")


def _check_vector(name: str, value, hessian: torch.Tensor) -> None:
    """A point ``[d]`` of the space ``hessian`` (``[d, d]``) acts on: a column ``[d, 1]`` would broadcast."""
    check_tensor(name, value, ndim=1, floating=True, finite=True)
    if value.shape[0] != hessian.shape[0]:
        raise ValueError(f"{name} must have {hessian.shape[0]} entries (the hessian's size), got {value.shape[0]}")


def gradient_descent_quadratic(
    hessian: torch.Tensor, optimum: torch.Tensor, start: torch.Tensor, lr: float, steps: int
) -> torch.Tensor:
    """``steps`` gradient steps of size ``lr`` on ½ (φ - optimum)^T H (φ - optimum) from ``start``."""
    _check_hessian(hessian)
    _check_vector("optimum", optimum, hessian)
    _check_vector("start", start, hessian)
    check_positive("lr", lr)
    check_positive_int("steps", steps, minimum=0)
    phi = start.clone()
    for _ in range(steps):
        phi = phi - lr * hessian @ (phi - optimum)
    return phi


def implicit_prior_precision(hessian: torch.Tensor, lr: float, steps: int) -> torch.Tensor:
    """The precision Λ of the Gaussian prior N(θ, Λ^{-1}) whose MAP estimate equals ``steps`` steps of GD.

    ``hessian`` must be symmetric positive definite with ``lr * λ_max < 1`` (a stable, monotone descent)."""
    _check_hessian(hessian, symmetric=True)
    check_positive("lr", lr)
    check_positive_int("steps", steps)
    eigenvalues, basis = torch.linalg.eigh(hessian)
    if eigenvalues.min() <= 0:
        raise ValueError("hessian must be positive definite for the implicit prior to exist")
    if lr <= 0 or lr * eigenvalues.max() >= 1:
        raise ValueError(f"lr must be in (0, 1/λ_max) = (0, {1 / float(eigenvalues.max()):.4g}), got {lr}")
    shrink = (1 - lr * eigenvalues) ** steps
    precision = eigenvalues * shrink / (1 - shrink)
    return basis @ torch.diag(precision) @ basis.T


def map_estimate(hessian: torch.Tensor, optimum: torch.Tensor, prior_mean: torch.Tensor, precision: torch.Tensor):
    """argmin ½ (φ - optimum)^T H (φ - optimum) + ½ (φ - prior_mean)^T Λ (φ - prior_mean)."""
    _check_hessian(hessian)
    _check_vector("optimum", optimum, hessian)
    _check_vector("prior_mean", prior_mean, hessian)
    check_tensor("precision", precision, floating=True, finite=True)
    if precision.shape != hessian.shape:
        raise ValueError(
            f"precision must have the hessian's shape {tuple(hessian.shape)}, got {tuple(precision.shape)}"
        )
    return torch.linalg.solve(hessian + precision, hessian @ optimum + precision @ prior_mean)
