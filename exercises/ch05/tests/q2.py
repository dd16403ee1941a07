from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=1, hidden=False)
def test_one_weight_one_step(maml_meta_loss):
    import torch
    from mlbook.grading.checks import expect, expect_close, expect_tensor
    model = torch.nn.Linear(1, 1, bias=False).double()
    with torch.no_grad():
        model.weight.fill_(0.5)
    support = (torch.tensor([[1.0], [2.0]], dtype=torch.float64), torch.tensor([[2.0], [4.0]], dtype=torch.float64))
    query = (torch.tensor([[3.0]], dtype=torch.float64), torch.tensor([[6.0]], dtype=torch.float64))
    loss = maml_meta_loss(model, [(*support, *query)], torch.nn.functional.mse_loss, 0.1, 1)
    expect_tensor('meta-loss', loss, ())
    expect_close('meta-loss (query loss after one step: w = 0.5 -> 1.25)', loss, 5.0625)
    loss.backward()
    expect(model.weight.grad is not None, 'no gradient reached model.weight: adapt from dict(model.named_parameters())')
    got = float(model.weight.grad)
    hint = ' (-13.5 is the first-order value: keep the graph of the inner gradient)' if abs(got + 13.5) < 1e-06 else ''
    expect(abs(got + 6.75) < 1e-08, f'meta-gradient d loss / d w: expected -6.75, got {got:.6g}{hint}')

@test_case(points=1, hidden=False)
def test_zero_steps_is_plain_query_loss(maml_meta_loss):
    import torch
    from mlbook.grading.checks import expect_close
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 3)
    tasks = [(torch.ones(2, 2), torch.tensor([0, 1]), torch.eye(2), torch.tensor([k, 2])) for k in range(2)]
    loss = maml_meta_loss(model, tasks, torch.nn.functional.cross_entropy, 0.5, 0)
    with torch.no_grad():
        expected = sum((torch.nn.functional.cross_entropy(model(t[2]), t[3]) for t in tasks)) / 2
    expect_close('meta-loss with 0 inner steps (mean query loss over 2 tasks)', loss, float(expected), atol=1e-06)

