from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=1, hidden=False)
def test_loss_small_case(uncertainty_weighted_loss):
    import math
    import torch
    from mlbook.grading.checks import expect_close, expect_tensor
    loss = uncertainty_weighted_loss(torch.tensor([2.0, 8.0]), torch.tensor([0.0, math.log(4.0)]))
    expect_tensor('loss', loss, ())
    expect_close('loss for L = (2, 8), sigma^2 = (1, 4): 1 + 1 + log(2)', loss, 2.0 + math.log(2.0))
    expect_close('loss for L = (1, 3, 5), s = 0', uncertainty_weighted_loss(torch.tensor([1.0, 3.0, 5.0]), torch.zeros(3)), 4.5)

@test_case(points=1, hidden=False)
def test_fit_shape_and_start(fit_uncertainty_weights):
    import torch
    from mlbook.grading.checks import expect, expect_close, expect_tensor
    x = torch.linspace(-1, 1, 40).view(10, 4)
    ys = 0.1 * torch.stack([x.sum(dim=1), x[:, 0] - x[:, 3], 2 * x[:, 1]], dim=1)
    sigmas = expect_tensor('sigma_hat (3 tasks)', fit_uncertainty_weights(x, ys, 0, seed=0), (3,))
    expect_close('sigma_hat after 0 steps (s starts at 0)', sigmas, [1.0, 1.0, 1.0])
    sigmas = fit_uncertainty_weights(x, ys, 5, seed=0)
    expect(not sigmas.requires_grad, 'return sigma_hat without an autograd graph (detach it)')
    expect(bool((sigmas < 1.0).all()), f'these targets are exact: 5 steps should shrink every sigma_hat, got {sigmas.tolist()}')

