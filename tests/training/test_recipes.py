"""The chapter-6 recipe helpers (``mlbook/metric/recipes.py``) with the shared loop: schedules, resumption and the
recipe values a reader can get wrong. (Here rather than in tests/metric because they are about training.)"""

import pytest
import torch

import mlbook.metric.recipes as recipes
from mlbook.data import LabelledImages
from mlbook.metric import cosine_schedule, recipe_for, train_from_recipe, training_sampler


@pytest.fixture
def tiny_images():
    """8 classes of 4 random 28x28 images: enough for 4-way 1-shot 1-query episodes of a 8-wide Conv4."""
    g = torch.Generator().manual_seed(0)
    names = [f"a/c{i}" for i in range(8)]
    return LabelledImages(torch.rand(32, 1, 28, 28, generator=g), torch.arange(8).repeat_interleave(4), names)


def small_recipe():
    return recipe_for("protonet", n_way=4, q_query=1, hidden=8, rotations=False, mixed_precision=False)


def test_cosine_schedule_warms_up_linearly_then_decays_along_a_half_cosine():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    cosine_schedule(optimizer, steps=4, warmup=2)
    rates = []
    for _ in range(4):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
    assert rates == pytest.approx([0.5, 1.0, 1.0, 0.5])  # reaches 0 after the last step


@pytest.mark.parametrize("warmup", [5, 10])
def test_cosine_schedule_refuses_a_warmup_that_leaves_nothing_to_decay(warmup):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match="warmup must be fewer steps than steps=5"):
        cosine_schedule(optimizer, steps=5, warmup=warmup)


class Interrupted(Exception):
    pass


def interrupt_after(monkeypatch, batches: int):
    """Make ``train_from_recipe``'s episode stream fail after ``batches`` batches, like a killed run."""
    build = recipes.sampler_from_recipe

    class Stops:
        def __init__(self, sampler):
            self.sampler, self.left = sampler, batches

        @property
        def generator(self):
            return self.sampler.generator

        def sample_batch(self, meta_batch):
            if self.left == 0:
                raise Interrupted
            self.left -= 1
            return self.sampler.sample_batch(meta_batch)

    monkeypatch.setattr(recipes, "sampler_from_recipe", lambda *args, **kwargs: Stops(build(*args, **kwargs)))


def test_an_interrupted_recipe_run_resumes_bit_for_bit_with_its_cosine_schedule(tiny_images, tmp_path, monkeypatch):
    straight, h_straight = train_from_recipe("protonet", tiny_images, 6, small_recipe())
    path = tmp_path / "run.pt"
    interrupt_after(monkeypatch, 3)
    with pytest.raises(Interrupted):
        train_from_recipe("protonet", tiny_images, 6, small_recipe(), checkpoint=path, checkpoint_every=3)
    monkeypatch.undo()
    resumed, h_resumed = train_from_recipe("protonet", tiny_images, 6, small_recipe(), checkpoint=path, resume=True)
    assert h_resumed["loss"] == h_straight["loss"]
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("changes, error, message", [
    ({"lr": float("nan")}, ValueError, r"recipe\['lr'\] must be a finite number > 0"),
    ({"q_query": 0}, ValueError, r"recipe\['q_query'\] must be an int >= 1"),
    ({"schedule": "cosin"}, ValueError, r"recipe\['schedule'\] must be one of"),
    ({"rotations": "no"}, TypeError, r"recipe\['rotations'\] must be True or False"),
])
def test_recipe_values_that_used_to_be_taken_silently_are_refused(changes, error, message):
    with pytest.raises(error, match=message):
        recipe_for("protonet", **changes)


def test_training_sampler_refuses_a_string_for_a_flag(tiny_images):
    with pytest.raises(TypeError, match="rotations must be True or False"):
        training_sampler(tiny_images, 4, 1, 1, rotations="no")
    with pytest.raises(TypeError, match="distortion must be"):
        training_sampler(tiny_images, 4, 1, 1, distortion="affine")
