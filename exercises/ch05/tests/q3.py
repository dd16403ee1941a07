from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=1, hidden=False)
def test_small_case(reptile_update):
    import torch
    from mlbook.grading.checks import expect_close, expect_tensor
    theta = {'w': torch.tensor([0.0, 2.0])}
    adapted = [{'w': torch.tensor([1.0, 2.0])}, {'w': torch.tensor([3.0, 0.0])}]
    new = reptile_update(theta, adapted, 0.5)
    expect_tensor('new w', new['w'], (2,))
    expect_close('theta + 0.5 * (mean(phi) - theta)', new['w'], [1.0, 1.5])

@test_case(points=1, hidden=False)
def test_extremes_and_inputs_unchanged(reptile_update):
    import torch
    from mlbook.grading.checks import expect, expect_close
    theta = {'w': torch.tensor([[1.0, -1.0]]), 'b': torch.tensor([0.5])}
    adapted = [{'w': torch.tensor([[2.0, 0.0]]), 'b': torch.tensor([1.5])}]
    expect_close('epsilon = 0 keeps theta', reptile_update(theta, adapted, 0.0)['w'], [[1.0, -1.0]])
    expect_close('epsilon = 1 jumps to phi', reptile_update(theta, adapted, 1.0)['b'], [1.5])
    expect(torch.equal(theta['w'], torch.tensor([[1.0, -1.0]])) and float(theta['b']) == 0.5, 'theta was modified')

