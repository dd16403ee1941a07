from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=1, hidden=False)
def test_two_dimensional_case(pcgrad):
    import torch
    from mlbook.grading.checks import expect_close, expect_tensor
    grads = torch.tensor([[2.0, 0.0], [-1.0, 1.0]])
    update, projected = pcgrad(grads)
    expect_tensor('projected (2 tasks, P = 2)', projected, (2, 2), torch.float32)
    expect_close('g_1 projected onto the normal plane of g_2', projected[0], [1.0, 1.0])
    expect_close('g_2 projected onto the normal plane of g_1', projected[1], [0.0, 1.0])
    expect_tensor('update', update, (2,), torch.float32)
    expect_close('update (the sum of the projected gradients)', update, [1.0, 2.0])

