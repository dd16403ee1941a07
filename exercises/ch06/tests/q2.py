from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=1, hidden=False)
def test_small_case(protonet_loss):
    import math
    import torch
    from mlbook.grading.checks import expect_close, expect_tensor
    support, support_y = (torch.tensor([[0.0, 0.0], [2.0, 0.0]]), torch.tensor([0, 1]))
    query, query_y = (torch.tensor([[1.0, 1.0], [2.0, 1.0]]), torch.tensor([0, 1]))
    loss, logits = protonet_loss(support, support_y, query, query_y, 2)
    expect_tensor('logits', logits, (2, 2))
    expect_close('logits = -squared distances', logits, [[-2.0, -2.0], [-5.0, -1.0]])
    expect_tensor('loss', loss, ())
    expect_close('loss (mean cross-entropy over the 2 queries)', loss, (math.log(2) + math.log(1 + math.exp(-4))) / 2)

@test_case(points=1, hidden=False)
def test_differentiable(protonet_loss):
    import torch
    from mlbook.grading.checks import expect
    support = torch.tensor([[0.0, 1.0], [1.0, 0.0], [0.5, 0.5]], requires_grad=True)
    query = torch.tensor([[0.2, 0.9], [0.8, 0.1]], requires_grad=True)
    loss, _ = protonet_loss(support, torch.tensor([0, 1, 1]), query, torch.tensor([0, 1]), 2)
    loss.backward()
    expect(support.grad is not None and support.grad.abs().sum() > 0, 'no gradient reaches the support embeddings')
    expect(query.grad is not None and query.grad.abs().sum() > 0, 'no gradient reaches the query embeddings')

