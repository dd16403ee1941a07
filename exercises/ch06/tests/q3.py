from otter.test_files import test_case

OK_FORMAT = False

name = "q3"
points = None

@test_case(points=1, hidden=False)
def test_small_case(matching_attention):
    import math
    import torch
    from mlbook.grading.checks import expect_close, expect_tensor
    support = torch.tensor([[1.0, 0.0], [0.0, 3.0], [-2.0, 0.0]])
    query = torch.tensor([[2.0, 0.0]])
    attention = expect_tensor('attention (1 query, 3 supports)', matching_attention(support, query), (1, 3))
    weights = [math.e, 1.0, 1 / math.e]
    expect_close('attention = softmax of cosines [1, 0, -1]', attention, [[w / sum(weights) for w in weights]])

@test_case(points=1, hidden=False)
def test_rows_sum_to_one(matching_attention):
    import torch
    from mlbook.grading.checks import expect_close, expect_tensor
    support = torch.tensor([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0], [3.0, 0.0, 1.0], [1.0, 1.0, 1.0]])
    query = torch.tensor([[0.0, 0.0, 1.0], [2.0, -1.0, 0.5]])
    attention = expect_tensor('attention (2 queries, 4 supports)', matching_attention(support, query), (2, 4))
    expect_close('row sums of the attention', attention.sum(dim=1), [1.0, 1.0])

