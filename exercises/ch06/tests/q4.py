from otter.test_files import test_case

OK_FORMAT = False

name = "q4"
points = None

@test_case(points=1, hidden=False)
def test_small_case(matching_predict):
    import torch
    from mlbook.grading.checks import expect_close, expect_tensor
    attention = torch.tensor([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]])
    probabilities = matching_predict(attention, torch.tensor([1, 0, 1]), 3)
    expect_tensor('class probabilities (2 queries, 3 classes)', probabilities, (2, 3))
    expect_close('class probabilities', probabilities, [[0.3, 0.7, 0.0], [0.1, 0.9, 0.0]])

