from otter.test_files import test_case

OK_FORMAT = False

name = "q2"
points = None

@test_case(points=1, hidden=False)
def test_small_matrix(nearest_support):
    import torch
    from mlbook.grading.checks import expect_equal, expect_tensor
    distances = torch.tensor([[4.0, 3.0, 0.5, 9.0], [0.1, 2.0, 3.0, 4.0], [5.0, 6.0, 7.0, 1.0]])
    predicted = expect_tensor('nearest_support(3 x 4 distances)', nearest_support(distances), (3,), torch.long)
    expect_equal('nearest support of each query', predicted, torch.tensor([2, 0, 3]))

@test_case(points=1, hidden=False)
def test_ties_and_shapes(nearest_support):
    import torch
    from mlbook.grading.checks import expect_equal, expect_tensor
    expect_equal('ties go to the smallest index', nearest_support(torch.tensor([[1.0, 1.0, 2.0]])), torch.tensor([0]))
    tall = torch.tensor([[3.0], [1.0]])
    expect_tensor('nearest_support of a 2 x 1 matrix', nearest_support(tall), (2,), torch.long)

