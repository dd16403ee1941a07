from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=1, hidden=False)
def test_two_runs(oneshot_error):
    import torch
    from mlbook.grading.checks import expect, expect_close, expect_tensor
    predictions = torch.tensor([[0, 1, 2], [2, 1, 0]])
    answers = torch.tensor([[0, 1, 1], [2, 1, 0]])
    error, per_run = oneshot_error(predictions, answers)
    expect(isinstance(error, float), f'the overall error must be a Python float, got {type(error).__name__}')
    expect_close('overall error (1 wrong of 6 trials), in percent', error, 100 / 6)
    expect_tensor('per-run errors', per_run, (2,))
    expect_close('per-run errors in percent', per_run, [100 / 3, 0.0])

@test_case(points=1, hidden=False)
def test_shape_mismatch(oneshot_error):
    import torch
    from mlbook.grading.checks import expect_raises
    predictions, answers = (torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 2, dtype=torch.long))
    expect_raises(ValueError, lambda: oneshot_error(predictions, answers), 'shapes [2, 3] and [3, 2]', 'shape')

