from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=1, hidden=False)
def test_linear_regression_steps(inner_loop):
    import torch
    from mlbook.grading.checks import expect, expect_close, expect_tensor
    model = torch.nn.Linear(2, 1)
    params = {'weight': torch.tensor([[1.0, -1.0]], requires_grad=True), 'bias': torch.tensor([0.5], requires_grad=True)}
    x, y = (torch.tensor([[1.0, 2.0], [0.0, 1.0], [2.0, 0.0]]), torch.tensor([[1.0], [0.0], [2.0]]))
    mse = torch.nn.functional.mse_loss
    zero = inner_loop(model, params, x, y, mse, 0.1, 0)
    expect(set(zero) == {'weight', 'bias'}, f'the result must have the keys of params, got {sorted(zero)}')
    expect_close('weight after 0 steps', zero['weight'], [[1.0, -1.0]])
    one = inner_loop(model, params, x, y, mse, 0.1, 1)
    expect_tensor('weight after 1 step', one['weight'], (1, 2))
    expect_close('weight after 1 step', one['weight'], [[31 / 30, -23 / 30]])
    expect_close('bias after 1 step', one['bias'], [0.6])
    two = inner_loop(model, params, x, y, mse, 0.1, 2)
    expect_close('weight after 2 steps', two['weight'], [[1.0044444, -0.6355555]], atol=1e-05)
    expect_close('bias after 2 steps', two['bias'], [0.6266667], atol=1e-05)

@test_case(points=1, hidden=False)
def test_no_side_effects(inner_loop):
    import torch
    from mlbook.grading.checks import expect
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    own = [p.detach().clone() for p in model.parameters()]
    params = {name: torch.zeros_like(p).requires_grad_() for name, p in model.named_parameters()}
    x, y = (torch.ones(4, 3), torch.tensor([0, 1, 1, 1]))
    adapted = inner_loop(model, params, x, y, torch.nn.functional.cross_entropy, 0.5, 2)
    expect(all((p.abs().sum() == 0 for p in params.values())), 'inner_loop modified `params` in place')
    expect(all((torch.equal(a, p) for a, p in zip(own, model.parameters(), strict=True))), "inner_loop changed the model's own parameters")
    expect(any((a.abs().sum() > 0 for a in adapted.values())), 'the adapted parameters did not move: use `params` through functional_call')

