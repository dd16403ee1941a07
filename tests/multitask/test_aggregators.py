"""The aggregators against hand-checked cases, their defining conditions, independent solvers and torchjd 0.18.

torchjd's CAGrad and NashMTL need cvxpy (not installed), so they are not compared here; see the module docstrings."""

import numpy as np
import pytest
import torch
import torchjd.aggregation as tjd
from scipy.optimize import root

from mlbook.multitask.aggregator import Aggregator, Mean, Sum
from mlbook.multitask.aligned_mtl import AlignedMTL, balance_matrix
from mlbook.multitask.cagrad import CAGrad
from mlbook.multitask.mgda import MGDA
from mlbook.multitask.min_norm import min_norm_weights
from mlbook.multitask.nash_mtl import NashMTL
from mlbook.multitask.pcgrad import PCGrad

# seeded random Jacobians for the comparisons with torchjd: (T, P, seed), the first two tasks conflicting
CASES = [(2, 10, 0), (2, 1000, 1), (3, 10, 2), (3, 100, 3), (5, 50, 4), (5, 1000, 5)]


def _jacobian(n_tasks: int, n_params: int, seed: int, conflict: bool = True) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    jacobian = torch.randn(n_tasks, n_params, generator=g, dtype=torch.float64)
    if conflict:
        jacobian[1] = -0.8 * jacobian[0] + 0.3 * jacobian[1]
        assert float(jacobian[0] @ jacobian[1]) < 0
    return jacobian


def _assert_close(ours: torch.Tensor, theirs: torch.Tensor, rtol: float = 1e-6) -> None:
    assert ours.shape == theirs.shape
    assert float((ours - theirs).norm()) <= rtol * max(float(theirs.norm()), 1e-12), (ours, theirs)


# ---------------------------------------------------------------- the interface, Sum and Mean


def test_sum_and_mean_are_equal_weighting():
    jacobian = _jacobian(3, 7, 0)
    gram = jacobian @ jacobian.T
    assert torch.equal(Sum().weights(gram), torch.ones(3, dtype=torch.float64))
    assert torch.allclose(Mean().weights(gram), torch.full((3,), 1 / 3, dtype=torch.float64))
    assert torch.allclose(Sum()(jacobian), jacobian.sum(dim=0))
    assert torch.allclose(Mean()(jacobian), jacobian.mean(dim=0))


# constructors, so that every test gets fresh aggregators (PCGrad's random stream is state)
ALL = {
    "Sum": Sum,
    "Mean": Mean,
    "MGDA": MGDA,
    "MGDA-l2": lambda: MGDA("l2"),
    "PCGrad": lambda: PCGrad(seed=0),
    "CAGrad": lambda: CAGrad(0.5),
    "NashMTL": NashMTL,
    "AlignedMTL": AlignedMTL,
}


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_call_is_weights_of_the_gram_times_the_jacobian(make):
    jacobian = _jacobian(4, 20, 1)
    weights = make().weights(jacobian @ jacobian.T)  # a fresh PCGrad draws the same orders
    assert weights.shape == (4,)
    _assert_close(make()(jacobian), weights @ jacobian, rtol=1e-12)


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_keeps_the_dtype_of_the_input(make):
    aggregator = make()
    jacobian = _jacobian(3, 8, 2).float()
    assert aggregator(jacobian).dtype == torch.float32
    assert aggregator.weights(jacobian @ jacobian.T).dtype == torch.float32


@pytest.mark.parametrize("make", ALL.values(), ids=ALL.keys())
def test_bad_input_raises_a_clear_error(make):
    aggregator = make()
    with pytest.raises(ValueError, match="jacobian must be a \\[T, P\\] matrix"):
        aggregator(torch.zeros(5))
    with pytest.raises(ValueError, match="jacobian must be a \\[T, P\\] matrix"):
        aggregator(torch.zeros(0, 5))
    with pytest.raises(ValueError, match="jacobian must be finite"):
        aggregator(torch.tensor([[1.0, float("inf")]]))
    with pytest.raises(TypeError, match="jacobian must have a floating-point dtype"):
        aggregator(torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(ValueError, match="gram must be a square"):
        aggregator.weights(torch.eye(3)[:2])
    with pytest.raises(ValueError, match="gram must be symmetric"):
        aggregator.weights(torch.tensor([[2.0, 1.0], [0.0, 2.0]]))
    with pytest.raises(ValueError, match="gram must be positive semi-definite"):
        aggregator.weights(torch.tensor([[1.0, 0.0], [0.0, -1.0]]))


def test_the_base_class_is_abstract():
    with pytest.raises(TypeError):
        Aggregator()


# ---------------------------------------------------------------- MGDA


def test_mgda_tooling_facts_example():
    jacobian = torch.tensor([[-4.0, 1.0, 1.0], [6.0, 1.0, 1.0]])
    assert torch.allclose(MGDA()(jacobian), torch.tensor([0.0, 1.0, 1.0]), atol=1e-5)
    assert torch.allclose(tjd.MGDA()(jacobian), torch.tensor([0.0, 1.0, 1.0]), atol=1e-5)


@pytest.mark.parametrize(("n_tasks", "n_params", "seed"), CASES + [(3, 10, 12), (5, 100, 14)])
def test_mgda_matches_torchjd(n_tasks, n_params, seed):
    # Gaussian rows (conflicting pairs included) whose min-norm point has every weight > 0: there torchjd's plain
    # Frank-Wolfe converges linearly, so 1000 iterations reach its fixed point
    jacobian = _jacobian(n_tasks, n_params, seed, conflict=False)
    assert bool((jacobian @ jacobian.T < 0).any()) or n_tasks == 2
    reference = tjd.MGDA(epsilon=1e-12, max_iters=1000)(jacobian)
    _assert_close(MGDA()(jacobian), reference)
    gram = jacobian @ jacobian.T
    assert torch.allclose(MGDA().weights(gram), min_norm_weights(gram), rtol=0, atol=1e-12)


@pytest.mark.parametrize(("n_tasks", "n_params", "seed"), CASES)
def test_mgda_is_never_longer_than_torchjds_on_strong_conflicts(n_tasks, n_params, seed):
    # when the min-norm point lies on a face of the hull (a weight is 0), plain Frank-Wolfe converges at rate 1/k:
    # torchjd's default (100 iterations) is then up to ~25% off; ours is exact, so its norm is never larger
    jacobian = _jacobian(n_tasks, n_params, seed)
    assert float(MGDA()(jacobian).norm()) <= float(tjd.MGDA()(jacobian).norm()) + 1e-12


def test_mgda_direction_decreases_every_task():
    jacobian = _jacobian(5, 30, 3)
    direction = MGDA()(jacobian)
    assert bool((jacobian @ direction >= direction.dot(direction) - 1e-9).all())


def test_mgda_l2_normalisation_ignores_the_gradient_norms():
    jacobian = _jacobian(3, 12, 4)
    rescaled = jacobian * torch.tensor([[10.0], [0.1], [3.0]], dtype=torch.float64)
    unit = jacobian / jacobian.norm(dim=1, keepdim=True)
    expected = min_norm_weights(unit @ unit.T)
    assert torch.allclose(MGDA("l2").weights(jacobian @ jacobian.T), expected, atol=1e-10)
    assert torch.allclose(MGDA("l2").weights(rescaled @ rescaled.T), expected, atol=1e-10)
    assert not torch.allclose(MGDA().weights(rescaled @ rescaled.T), expected, atol=1e-3)
    with pytest.raises(ValueError, match="normalization must be one of"):
        MGDA("loss")


# ---------------------------------------------------------------- PCGrad


def test_pcgrad_two_conflicting_vectors_by_hand():
    # g1 = (1, 0), g2 = (-1, 1), g1 . g2 = -1:
    # g1^PC = g1 - (-1 / 2) g2 = (0.5, 0.5);  g2^PC = g2 - (-1 / 1) g1 = (0, 1);  sum = (0.5, 1.5)
    jacobian = torch.tensor([[1.0, 0.0], [-1.0, 1.0]], dtype=torch.float64)
    assert torch.allclose(PCGrad().weights(jacobian @ jacobian.T), torch.tensor([2.0, 1.5], dtype=torch.float64))
    assert torch.allclose(PCGrad()(jacobian), torch.tensor([0.5, 1.5], dtype=torch.float64))


def test_pcgrad_removes_exactly_the_conflicting_component():
    g1, g2 = _jacobian(2, 40, 5)
    g1_pc = g1 - (g1 @ g2) / (g2 @ g2) * g2
    g2_pc = g2 - (g1 @ g2) / (g1 @ g1) * g1
    assert abs(float(g1_pc @ g2)) < 1e-10 and abs(float(g2_pc @ g1)) < 1e-10  # each now orthogonal to the other
    _assert_close(PCGrad()(torch.stack([g1, g2])), g1_pc + g2_pc, rtol=1e-12)


def test_pcgrad_changes_nothing_without_conflict():
    jacobian = _jacobian(4, 10, 6, conflict=False).abs()  # non-negative rows: every inner product >= 0
    assert torch.allclose(PCGrad()(jacobian), jacobian.sum(dim=0))


def test_pcgrad_projects_against_the_original_gradients():
    # g1 conflicts with g2 and g3; after removing its g2 component it still conflicts with g3, and the projection
    # uses g3 itself, not g3's projected version
    jacobian = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [-1.0, -1.0, 1.0]], dtype=torch.float64)
    gram = jacobian @ jacobian.T
    c = PCGrad._projected_coefficients(gram, 0, torch.tensor([1, 2]))
    g = jacobian[0] - (jacobian[0] @ jacobian[1]) / 2.0 * jacobian[1]  # (0.5, 0.5, 0)
    g = g - (g @ jacobian[2]) / 3.0 * jacobian[2]  # g . g3 = -1 < 0
    assert torch.allclose(c @ jacobian, g)


def test_pcgrad_orders_are_random_per_call_and_reproducible_with_the_seed():
    jacobian = torch.tensor([[1.0, 0.0, 0.0], [-1.0, 1.0, 0.0], [-1.0, -1.0, 1.0]], dtype=torch.float64)
    first, second = PCGrad(seed=3), PCGrad(seed=3)
    results = [first(jacobian) for _ in range(20)]
    assert all(torch.equal(r, second(jacobian)) for r in results)
    assert len({tuple(r.tolist()) for r in results}) > 1  # the order matters here, and it changes between calls


@pytest.mark.parametrize(("n_tasks", "n_params", "seed"), CASES)
def test_pcgrad_matches_torchjd_with_the_same_seed(n_tasks, n_params, seed):
    jacobian = _jacobian(n_tasks, n_params, seed)
    ours = PCGrad(seed=seed)
    torch.manual_seed(seed)  # torchjd draws its orders from the global generator
    for _ in range(3):  # successive calls too: both draw T permutations per call from the same stream
        _assert_close(ours(jacobian), tjd.PCGrad()(jacobian))


# ---------------------------------------------------------------- CAGrad


def _dual_value(w: torch.Tensor, jacobian: torch.Tensor, c: float) -> torch.Tensor:
    """F(w) = g_w . g0 + c ||g0|| ||g_w||, from the vectors themselves (rows of w are points of the simplex)."""
    g0 = jacobian.mean(dim=0)
    gw = w @ jacobian
    return gw @ g0 + c * g0.norm() * gw.norm(dim=-1)


def _simplex_grid(n_tasks: int, steps: int) -> torch.Tensor:
    if n_tasks == 2:
        t = torch.linspace(0, 1, steps + 1, dtype=torch.float64)
        return torch.stack([t, 1 - t], dim=1)
    points = [(i, j, steps - i - j) for i in range(steps + 1) for j in range(steps + 1 - i)]
    return torch.tensor(points, dtype=torch.float64) / steps


@pytest.mark.parametrize("n_tasks", [1, 2, 3, 5])
def test_cagrad_with_c_zero_is_the_mean_gradient(n_tasks):
    jacobian = _jacobian(n_tasks, 20, 7, conflict=n_tasks > 1)
    _assert_close(CAGrad(c=0.0)(jacobian), jacobian.mean(dim=0), rtol=1e-12)
    _assert_close(CAGrad(c=0.0, rescale=False)(jacobian), jacobian.mean(dim=0), rtol=1e-12)


def test_cagrad_rescales_by_one_plus_c_squared():
    jacobian = _jacobian(3, 20, 8)
    _assert_close(CAGrad(c=0.5)(jacobian), CAGrad(c=0.5, rescale=False)(jacobian) / 1.25, rtol=1e-12)


@pytest.mark.parametrize(("n_tasks", "seed", "c"), [(2, 0, 0.4), (2, 1, 0.9), (3, 2, 0.4), (3, 3, 0.8), (3, 4, 0.2)])
def test_cagrad_is_optimal_against_a_brute_force_grid(n_tasks, seed, c):
    jacobian = _jacobian(n_tasks, 15, seed)
    g0 = jacobian.mean(dim=0)
    d = CAGrad(c=c, rescale=False)(jacobian)
    # d lies on the ball around g0 ...
    assert abs(float((d - g0).norm()) - c * float(g0.norm())) < 1e-9 * float(g0.norm())
    # ... and its worst improvement reaches the smallest dual value on a fine grid (weak duality: no feasible d can
    # do better than any dual value, so d is optimal up to the grid's resolution)
    grid_min = float(_dual_value(_simplex_grid(n_tasks, 2000 if n_tasks == 2 else 300), jacobian, c).min())
    worst = float((jacobian @ d).min())
    assert worst <= grid_min + 1e-9 * float(jacobian.norm()) ** 2
    assert worst >= grid_min - 1e-4 * float(jacobian.norm()) ** 2


@pytest.mark.parametrize(("n_tasks", "n_params", "seed"), [(3, 10, 0), (5, 50, 1), (5, 1000, 2), (8, 40, 3)])
def test_cagrad_satisfies_the_optimality_condition(n_tasks, n_params, seed):
    jacobian = _jacobian(n_tasks, n_params, seed)
    c = 0.5
    gram = jacobian @ jacobian.T
    g0 = jacobian.mean(dim=0)
    mean = torch.full((n_tasks,), 1.0 / n_tasks, dtype=torch.float64)
    lam_w = CAGrad(c=c, rescale=False).weights(gram) - mean  # = c ||g0|| / ||g_w|| * w
    w = lam_w / lam_w.sum()
    d = (mean + lam_w) @ jacobian
    improvements = jacobian @ d  # the gradient of the dual F at w is J d
    worst = float(improvements.min())
    scale = float(jacobian.norm()) ** 2
    assert bool((w >= -1e-9).all())
    assert torch.allclose(improvements[w > 1e-6], torch.full_like(improvements[w > 1e-6], worst), atol=1e-6 * scale)
    assert abs(worst - float(_dual_value(w, jacobian, c))) < 1e-6 * scale  # strong duality
    assert worst > float((jacobian @ g0).min())  # better for the worst task than the mean gradient


# ---------------------------------------------------------------- Nash-MTL


@pytest.mark.parametrize(("n_tasks", "n_params", "seed"), CASES + [(8, 100, 6)])
def test_nash_mtl_solves_its_defining_equation(n_tasks, n_params, seed):
    jacobian = _jacobian(n_tasks, n_params, seed)
    gram = jacobian @ jacobian.T
    alpha = NashMTL().weights(gram)
    assert bool((alpha > 0).all())
    assert torch.allclose(gram @ alpha, 1.0 / alpha, rtol=1e-6, atol=0)
    # every task improves: g_t . d = 1 / alpha_t > 0, and ||d||^2 = T
    d = alpha @ jacobian
    assert torch.allclose(jacobian @ d, 1.0 / alpha, rtol=1e-6)
    assert abs(float(d @ d) - n_tasks) < 1e-6 * n_tasks


def test_nash_mtl_matches_an_independent_root_finder():
    jacobian = _jacobian(4, 30, 9)
    gram = (jacobian @ jacobian.T).numpy()
    solution = root(lambda u: np.exp(u) * (gram @ np.exp(u)) - 1.0, np.zeros(4), tol=1e-14)
    assert solution.success
    expected = torch.from_numpy(np.exp(solution.x))
    assert torch.allclose(NashMTL().weights(jacobian @ jacobian.T), expected, rtol=1e-7)


@pytest.mark.parametrize("s", [1e-3, 7.0, 1e4])
def test_nash_mtl_weights_scale_inversely_with_the_gradients(s):
    jacobian = _jacobian(3, 25, 10)
    alpha = NashMTL().weights(jacobian @ jacobian.T)
    scaled = NashMTL().weights((s * jacobian) @ (s * jacobian).T)
    assert torch.allclose(scaled, alpha / s, rtol=1e-8)


def test_nash_mtl_without_a_solution_raises():
    with pytest.raises(ValueError, match="zero gradient"):
        NashMTL().weights(torch.tensor([[1.0, 0.0], [0.0, 0.0]]))
    opposite = torch.tensor([[1.0, 2.0], [-1.0, -2.0]], dtype=torch.float64)  # g1 + g2 = 0
    with pytest.raises(ValueError, match="did not converge"):
        NashMTL(max_iter=50).weights(opposite @ opposite.T)


# ---------------------------------------------------------------- Aligned-MTL


@pytest.mark.parametrize("scale_mode", ["min", "median", "rmse"])
@pytest.mark.parametrize(("n_tasks", "n_params", "seed"), CASES + [(5, 3, 7)])  # the last one is rank-deficient
def test_aligned_mtl_matches_torchjd(n_tasks, n_params, seed, scale_mode):
    jacobian = _jacobian(n_tasks, n_params, seed)
    _assert_close(AlignedMTL(scale_mode)(jacobian), tjd.AlignedMTL(scale_mode=scale_mode)(jacobian))


def test_aligned_gradients_are_orthogonal_with_the_smallest_eigenvalue_as_squared_norm():
    jacobian = _jacobian(4, 30, 11)
    gram = jacobian @ jacobian.T
    b = balance_matrix(gram)
    aligned = b @ jacobian
    smallest = torch.linalg.eigvalsh(gram).min()
    assert torch.allclose(aligned @ aligned.T, smallest * torch.eye(4, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(AlignedMTL().weights(gram), b.mean(dim=1), atol=1e-12)


def test_aligned_mtl_on_orthogonal_gradients_equalises_their_norms():
    jacobian = torch.diag(torch.tensor([1.0, 2.0, 4.0], dtype=torch.float64))
    # each gradient is rescaled to the smallest norm, 1, then averaged
    assert torch.allclose(AlignedMTL()(jacobian), torch.full((3,), 1 / 3, dtype=torch.float64))
    with pytest.raises(ValueError, match="scale_mode must be one of"):
        AlignedMTL("max")


# ------------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("make", [lambda: MGDA(tol=float("inf")), lambda: NashMTL(tol=float("inf"))])
def test_an_infinite_tolerance_is_refused_instead_of_stopping_at_the_start(make):
    with pytest.raises(ValueError, match="tol must be a finite number"):
        make()


@pytest.mark.parametrize("c", ["0.4", None])
def test_cagrad_names_a_radius_that_is_not_a_number(c):
    with pytest.raises(TypeError, match="c must be a number"):
        CAGrad(c=c)
