from otter.test_files import test_case

OK_FORMAT = False

name = "q5"
points = None

@test_case(points=1, hidden=False)
def test_one_step(protonet_train_step, protonet_loss):
    import torch
    from mlbook.data import Episode
    from mlbook.grading.checks import expect, expect_close
    torch.manual_seed(0)
    encoder = torch.nn.Linear(4, 3)
    x = torch.tensor([[1.0, 0, 0, 0], [0.9, 0.1, 0, 0], [0, 0, 1.0, 0], [0, 0.1, 0.9, 0]])
    q = torch.tensor([[0.8, 0.2, 0, 0], [0, 0.2, 0.8, 0.1]])
    episode = Episode(x, torch.tensor([0, 0, 1, 1]), q, torch.tensor([0, 1]), n_way=2, k_shot=2)
    with torch.no_grad():
        expected, _ = protonet_loss(encoder(x), episode.support_y, encoder(q), episode.query_y, 2)
    before = [p.detach().clone() for p in encoder.parameters()]
    optimizer = torch.optim.SGD(encoder.parameters(), lr=0.1)
    loss = protonet_train_step(encoder, episode, optimizer)
    expect(isinstance(loss, float), f'protonet_train_step must return a Python float, got {type(loss).__name__}')
    expect_close('returned loss (before the update)', loss, float(expected), atol=1e-05)
    expect(any((not torch.equal(b, p) for b, p in zip(before, encoder.parameters(), strict=True))), 'the encoder did not change')

@test_case(points=1, hidden=False)
def test_loss_goes_down(protonet_train_step):
    import torch
    from mlbook.data import Episode
    from mlbook.grading.checks import expect
    torch.manual_seed(0)
    encoder = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 4))
    x = torch.eye(6)
    episode = Episode(x[:3], torch.tensor([0, 1, 2]), x[3:], torch.tensor([0, 1, 2]), n_way=3, k_shot=1)
    optimizer = torch.optim.SGD(encoder.parameters(), lr=0.3)
    losses = [protonet_train_step(encoder, episode, optimizer) for _ in range(30)]
    expect(losses[-1] < 0.5 * losses[0], f'30 SGD steps on one episode should at least halve its loss: {losses[0]:.3f} -> {losses[-1]:.3f}')

