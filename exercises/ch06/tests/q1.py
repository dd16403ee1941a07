from otter.test_files import test_case

OK_FORMAT = False

name = "q1"
points = None

@test_case(points=1, hidden=False)
def test_small_case(prototypes):
    import torch
    from mlbook.grading.checks import expect_close, expect_tensor
    embeddings = torch.tensor([[1.0, 0.0], [3.0, 0.0], [0.0, 2.0], [0.0, 4.0], [5.0, 5.0]])
    labels = torch.tensor([0, 0, 1, 1, 2])
    result = expect_tensor('prototypes (3 classes, 2-d)', prototypes(embeddings, labels, 3), (3, 2), torch.float32)
    expect_close('prototypes', result, [[2.0, 0.0], [0.0, 3.0], [5.0, 5.0]])

@test_case(points=1, hidden=False)
def test_unsorted_labels(prototypes):
    import torch
    from mlbook.grading.checks import expect_close
    embeddings = torch.tensor([[0.0, 4.0], [2.0, 0.0], [0.0, 2.0], [4.0, 0.0]])
    labels = torch.tensor([1, 0, 1, 0])
    expect_close('prototypes of an unsorted support set', prototypes(embeddings, labels, 2), [[3.0, 0.0], [0.0, 3.0]])

