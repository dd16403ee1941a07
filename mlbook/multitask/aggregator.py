"""Gradient aggregators: turn the task Jacobian J [T, P] into one update direction [P].

Row t of J is the gradient of task loss L_t with respect to the P shared parameters (flattened). Every aggregator
in this package (sum, mean, PCGrad, MGDA, CAGrad, Nash-MTL, Aligned-MTL) returns a linear combination w^T J of the
rows whose coefficients w depend on J only through the Gram matrix G = J J^T [T, T]. So a subclass implements
``_compute_weights(gram)`` and the base class provides

- ``weights(gram) -> Tensor[T]``: validates G (square, finite, symmetric, positive semi-definite up to rounding),
  solves in float64 and returns the weights in G's dtype and device;
- ``aggregator(jacobian) -> Tensor[P]``: ``weights(J J^T) @ J``, the Gram computed in float64.

Because only G is needed, G may come from gradients with respect to anything that carries the same geometry, for
instance the shared representation z (MGDA-UB, Sener & Koltun 2018; see ``mlbook.multitask.jacobian``).

``Sum`` (w = 1) and ``Mean`` (w = 1/T) are "equal weighting": the plain gradient of sum_t L_t and of its average.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch


def check_jacobian(jacobian: torch.Tensor) -> None:
    """Raise a clear error unless ``jacobian`` is a finite [T, P] matrix with T >= 1 and P >= 1."""
    if not isinstance(jacobian, torch.Tensor):
        raise TypeError(f"jacobian must be a torch.Tensor [T, P], got {type(jacobian).__name__}")
    if jacobian.ndim != 2 or jacobian.shape[0] < 1 or jacobian.shape[1] < 1:
        raise ValueError(f"jacobian must be a [T, P] matrix with T >= 1 tasks and P >= 1, got {tuple(jacobian.shape)}")
    if not jacobian.is_floating_point():
        raise TypeError(f"jacobian must have a floating-point dtype, got {jacobian.dtype}")
    if not bool(torch.isfinite(jacobian).all()):
        raise ValueError("jacobian must be finite, got NaN or infinite entries")


def check_gram(gram: torch.Tensor) -> None:
    """Raise a clear error unless ``gram`` is a finite, symmetric, positive semi-definite [T, T] matrix.

    Symmetry and semi-definiteness are checked up to ``sqrt(eps)`` of the dtype relative to the largest
    diagonal entry, which admits the rounding of a Gram matrix computed in that dtype."""
    if not isinstance(gram, torch.Tensor):
        raise TypeError(f"gram must be a torch.Tensor [T, T], got {type(gram).__name__}")
    if gram.ndim != 2 or gram.shape[0] != gram.shape[1] or gram.shape[0] < 1:
        raise ValueError(f"gram must be a square [T, T] matrix with T >= 1, got {tuple(gram.shape)}")
    if not gram.is_floating_point():
        raise TypeError(f"gram must have a floating-point dtype, got {gram.dtype}")
    if not bool(torch.isfinite(gram).all()):
        raise ValueError("gram must be finite, got NaN or infinite entries")
    g = gram.detach().to(torch.float64)
    tol = torch.finfo(gram.dtype).eps ** 0.5 * float(g.diagonal().abs().max())
    asymmetry = float((g - g.T).abs().max())
    if asymmetry > tol:
        raise ValueError(f"gram must be symmetric, got max |G - G^T| = {asymmetry:.3g} (tolerance {tol:.3g})")
    smallest = float(torch.linalg.eigvalsh((g + g.T) / 2).min())
    if smallest < -tol:
        raise ValueError(
            f"gram must be positive semi-definite (a Gram matrix J J^T), got eigenvalue {smallest:.3g} "
            f"(tolerance {-tol:.3g})"
        )


class Aggregator(ABC):
    """Base class: ``weights(gram) -> [T]`` and ``aggregator(jacobian) -> weights(J J^T) @ J``.

    Subclasses implement ``_compute_weights(gram)``, which receives a validated, exactly symmetric float64 Gram
    matrix on the CPU and returns float64 weights [T]."""

    def weights(self, gram: torch.Tensor) -> torch.Tensor:
        """The T coefficients of the rows of J, from the Gram matrix G = J J^T alone (detached)."""
        check_gram(gram)
        g = gram.detach().to(device="cpu", dtype=torch.float64)
        w = self._compute_weights((g + g.T) / 2)
        return w.to(device=gram.device, dtype=gram.dtype)

    def __call__(self, jacobian: torch.Tensor) -> torch.Tensor:
        """The update direction [P]: the linear combination ``weights(J J^T) @ J`` of the rows of J."""
        check_jacobian(jacobian)
        j64 = jacobian.detach().to(torch.float64)
        w = self.weights(j64 @ j64.T)
        return w.to(jacobian.dtype) @ jacobian.detach()

    @abstractmethod
    def _compute_weights(self, gram: torch.Tensor) -> torch.Tensor: ...

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sum(Aggregator):
    """Equal weighting, summed: w = (1, ..., 1), the gradient of sum_t L_t."""

    def _compute_weights(self, gram: torch.Tensor) -> torch.Tensor:
        return torch.ones(gram.shape[0], dtype=gram.dtype)


class Mean(Aggregator):
    """Equal weighting, averaged: w = (1/T, ..., 1/T), the gradient of (1/T) sum_t L_t."""

    def _compute_weights(self, gram: torch.Tensor) -> torch.Tensor:
        return torch.full((gram.shape[0],), 1.0 / gram.shape[0], dtype=gram.dtype)
