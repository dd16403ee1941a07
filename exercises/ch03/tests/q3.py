from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=1, hidden=False)
def test_orthogonal_equal_norms(mgda_two_tasks):
    import torch
    from mlbook.grading.checks import expect_close, expect_tensor
    gamma, direction = mgda_two_tasks(torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0]))
    expect_close('gamma for orthogonal gradients of equal norm', gamma, 0.5)
    expect_tensor('direction', direction, (2,), torch.float32)
    expect_close('direction', direction, [0.5, 0.5])

