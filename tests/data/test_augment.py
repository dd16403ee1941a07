"""Random affine distortions (Koch et al.) and the augmenting sampler wrapper."""

import math

import pytest
import torch

from mlbook.data import EpisodeSampler, LabelledImages
from mlbook.data.augment import AugmentedSampler, RandomAffine, apply_affine, random_affine
from mlbook.training import EpisodicMethod, classification_loss, train


def strokes(n=6, size=28, seed=0) -> torch.Tensor:
    """Random thick 'characters': a few bars of ink on a blank page, away from the borders."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 1, size, size)
    for i in range(n):
        r, c = torch.randint(8, size - 8, (2,), generator=g).tolist()
        images[i, 0, r - 4 : r + 4, c - 1 : c + 2] = 1.0
        images[i, 0, r - 1 : r + 2, c - 4 : c + 4] = 1.0
    return images


def test_identity_when_every_component_is_off():
    images = strokes()
    out = random_affine(images, torch.Generator().manual_seed(0), RandomAffine(p=0.0))
    assert torch.allclose(out, images, atol=1e-5)
    eye = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]).expand(6, 2, 3)
    assert torch.allclose(RandomAffine(p=0.0).matrices(6), eye)


def test_seeded_reproducible_and_per_image():
    images = strokes(8)
    a = random_affine(images, torch.Generator().manual_seed(1))
    b = random_affine(images, torch.Generator().manual_seed(1))
    c = random_affine(images, torch.Generator().manual_seed(2))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    same = strokes(1).expand(16, 1, 28, 28)
    out = random_affine(same, torch.Generator().manual_seed(3), RandomAffine(p=1.0))
    assert len({tuple(x.flatten().round(decimals=3).tolist()) for x in out}) == 16  # each image its own map


def test_parameters_stay_in_their_ranges():
    g = torch.Generator().manual_seed(0)
    rot = RandomAffine(rotation=10, shear=0, scale=(1, 1), translate=0, p=1.0).matrices(500, g)
    linear = rot[:, :, :2].double()
    eye = torch.eye(2, dtype=torch.float64).expand(500, 2, 2)
    assert torch.allclose(linear @ linear.transpose(1, 2), eye, atol=1e-6)
    angles = torch.atan2(linear[:, 1, 0], linear[:, 0, 0]).abs()
    assert angles.max() <= math.radians(10) + 1e-6 and angles.max() > math.radians(8)
    shift = RandomAffine(rotation=0, shear=0, scale=(1, 1), translate=0.1, p=1.0).matrices(500, g)[:, :, 2]
    assert shift.abs().max() <= 0.2 + 1e-6 and shift.abs().max() > 0.18  # 10% of the side = 0.2 in [-1, 1]
    scale = RandomAffine(rotation=0, shear=0, scale=(0.8, 1.2), translate=0, p=1.0).matrices(500, g)
    diag = torch.stack([scale[:, 0, 0], scale[:, 1, 1]])
    assert diag.min() >= 0.8 - 1e-6 and diag.max() <= 1.2 + 1e-6
    half = RandomAffine(p=0.5).matrices(2000, g)
    untouched = (half - torch.tensor([[1.0, 0, 0], [0, 1.0, 0]])).abs().amax(dim=(1, 2)) < 1e-7
    assert 0.02 < untouched.float().mean() < 0.1  # all four components off: 1/16 of the time


def test_pure_translation_moves_ink():
    images = torch.zeros(1, 1, 28, 28)
    images[0, 0, 10:14, 10:14] = 1.0
    # affine_grid maps output -> input: sampling at x + 2/28*2 moves the ink 2 pixels left
    moved = apply_affine(images, torch.tensor([[[1.0, 0.0, 4.0 / 28], [0.0, 1.0, 0.0]]]))
    assert torch.allclose(moved[0, 0, 10:14, 8:12], torch.ones(4, 4), atol=1e-5)
    assert moved.sum().item() == pytest.approx(16.0, abs=1e-4)


def test_distortion_keeps_most_ink_and_range():
    images = strokes(32)
    out = random_affine(images, torch.Generator().manual_seed(0))
    assert out.min() >= 0 and out.max() <= 1 + 1e-6
    ratio = out.sum(dim=(1, 2, 3)) / images.sum(dim=(1, 2, 3))
    assert ((ratio > 0.6) & (ratio < 1.6)).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="p must lie"):
        RandomAffine(p=1.5)
    with pytest.raises(ValueError, match="scale"):
        RandomAffine(scale=(1.2, 0.8))
    with pytest.raises(ValueError, match=">= 0"):
        RandomAffine(rotation=-1)
    with pytest.raises(ValueError, match="C, H, W"):
        random_affine(torch.zeros(3, 28, 28))
    with pytest.raises(ValueError, match="matrices must have shape"):
        apply_affine(torch.zeros(3, 1, 28, 28), torch.zeros(2, 2, 3))
    with pytest.raises(ValueError, match="sampler"):
        AugmentedSampler(object())


def tiny_dataset() -> LabelledImages:
    images = strokes(40, seed=5)
    return LabelledImages(images, torch.arange(10).repeat_interleave(4), [f"c{i}" for i in range(10)])


def test_augmented_sampler_keeps_labels_and_is_reproducible():
    plain = EpisodeSampler(tiny_dataset(), 5, 1, 2, seed=3)
    aug_a = AugmentedSampler(EpisodeSampler(tiny_dataset(), 5, 1, 2, seed=3))
    aug_b = AugmentedSampler(EpisodeSampler(tiny_dataset(), 5, 1, 2, seed=3))
    assert aug_a.n_way == 5 and aug_a.k_shot == 1 and aug_a.q_query == 2
    ep_plain, ep_a, ep_b = plain.sample(), aug_a.sample(), aug_b.sample()
    assert torch.equal(ep_plain.classes, ep_a.classes)
    assert torch.equal(ep_plain.support_y, ep_a.support_y) and torch.equal(ep_plain.query_y, ep_a.query_y)
    assert torch.equal(ep_a.support_x, ep_b.support_x) and torch.equal(ep_a.query_x, ep_b.query_x)
    assert not torch.equal(ep_a.query_x, ep_plain.query_x)
    first = aug_a.sample_batch(3)
    aug_a.reset()
    again = [aug_a.sample() for _ in range(4)][1:]
    assert all(torch.equal(x.query_x, y.query_x) for x, y in zip(first, again, strict=True))


class _Prototypes(EpisodicMethod):
    """A two-parameter model just to drive the training loop."""

    def __init__(self):
        super().__init__()
        self.proj = torch.nn.Linear(28 * 28, 4)

    def predict(self, episode):
        s, q = self.proj(episode.support_x.flatten(1)), self.proj(episode.query_x.flatten(1))
        return -torch.cdist(q, s)

    def episode_loss(self, episode):
        return classification_loss(self.predict(episode), episode.query_y)


def test_training_resumes_bit_for_bit_through_the_wrapper(tmp_path):
    def run(steps, resume):
        torch.manual_seed(0)
        method = _Prototypes()
        sampler = AugmentedSampler(EpisodeSampler(tiny_dataset(), 5, 1, 2, seed=0))
        train(method, sampler, steps=steps, checkpoint=tmp_path / "c.pt", resume=resume, progress=False, device="cpu")
        return method

    straight = run(6, resume=False)
    (tmp_path / "c.pt").unlink()
    run(3, resume=False)
    resumed = run(6, resume=True)
    for a, b in zip(straight.parameters(), resumed.parameters(), strict=True):
        assert torch.equal(a, b)
