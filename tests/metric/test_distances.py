import pytest
import torch

from mlbook.metric.distances import (
    class_means,
    cosine_similarity,
    euclidean,
    l1_distance,
    pairwise_logits,
    squared_euclidean,
)


def test_squared_euclidean_by_hand():
    a = torch.tensor([[0.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[3.0, 4.0], [1.0, 0.0], [1.0, 1.0]])
    expected = torch.tensor([[25.0, 1.0, 2.0], [13.0, 1.0, 0.0]])
    assert torch.equal(squared_euclidean(a, b), expected)
    assert torch.allclose(euclidean(a, b), expected.sqrt(), atol=1e-5)
    assert torch.equal(l1_distance(a, b), torch.tensor([[7.0, 1.0, 2.0], [5.0, 1.0, 0.0]]))


def test_cosine_similarity_by_hand_and_scale_invariant():
    a = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
    b = torch.tensor([[0.0, 2.0], [3.0, 0.0]])
    expected = torch.tensor([[0.0, 1.0], [2**-0.5, 2**-0.5]])
    assert torch.allclose(cosine_similarity(a, b), expected, atol=1e-6)
    assert torch.allclose(cosine_similarity(5 * a, 0.1 * b), expected, atol=1e-6)


def test_pairwise_logits_sign():
    a, b = torch.randn(4, 3), torch.randn(5, 3)
    assert torch.equal(pairwise_logits(a, b, "squared_euclidean"), -squared_euclidean(a, b))
    assert torch.equal(pairwise_logits(a, b, "cosine"), cosine_similarity(a, b))
    with pytest.raises(ValueError, match="distance must be one of"):
        pairwise_logits(a, b, "manhattan")


def test_class_means_any_order_and_unequal_shots():
    emb = torch.tensor([[1.0, 0.0], [0.0, 2.0], [3.0, 0.0], [0.0, 4.0], [0.0, 0.0]])
    labels = torch.tensor([0, 1, 0, 1, 1])
    expected = torch.tensor([[2.0, 0.0], [0.0, 2.0]])
    assert torch.allclose(class_means(emb, labels, 2), expected)
    perm = torch.tensor([4, 2, 0, 3, 1])
    assert torch.allclose(class_means(emb[perm], labels[perm], 2), expected)


def test_bad_inputs():
    with pytest.raises(ValueError, match="same number of features"):
        squared_euclidean(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match=r"a must be a \[rows, features\] matrix"):
        cosine_similarity(torch.zeros(2, 3, 1), torch.zeros(2, 3))
    with pytest.raises(ValueError, match="cover every class"):
        class_means(torch.zeros(3, 2), torch.tensor([0, 0, 2]), 3)
    with pytest.raises(ValueError, match="labels"):
        class_means(torch.zeros(3, 2), torch.tensor([0, 1]), 2)


def test_distances_refuse_integer_tensors_instead_of_computing_in_integers():
    with pytest.raises(TypeError, match="b must be a floating-point tensor"):
        squared_euclidean(torch.rand(2, 3), torch.ones(4, 3, dtype=torch.long))
    with pytest.raises(TypeError, match="a must be a floating-point tensor"):
        l1_distance(torch.ones(2, 3, dtype=torch.long), torch.rand(4, 3))


def test_cosine_similarity_refuses_a_non_positive_or_nan_eps():
    for eps in (-1.0, 0.0, float("nan")):
        with pytest.raises(ValueError, match="eps must be a finite number > 0"):
            cosine_similarity(torch.rand(2, 3), torch.rand(4, 3), eps)


def test_class_means_refuses_wrong_labels_and_integer_embeddings():
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        class_means(torch.rand(4, 3), torch.tensor([0.0, 0.0, 1.0, 1.0]), 2)
    with pytest.raises(ValueError, match="labels must be class indices >= 0"):
        class_means(torch.rand(4, 3), torch.tensor([0, -1, 1, 1]), 2)
    with pytest.raises(TypeError, match="embeddings must be a floating-point tensor"):
        class_means(torch.ones(4, 3, dtype=torch.long), torch.tensor([0, 0, 1, 1]), 2)
