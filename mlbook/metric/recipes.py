"""Building the chapter's methods by name, the meta-training sampler they share, and a learning-rate schedule.

Everything here is plumbing around the shared loop (``mlbook.training.train``): no method samples, logs or
evaluates on its own.
"""

from __future__ import annotations

import math

import torch

from mlbook.data.augment import AugmentedSampler, RandomAffine
from mlbook.data.dataset import LabelledImages
from mlbook.data.episodes import EpisodeSampler
from mlbook.metric.base import MetricMethod, default_encoder, fast_bfloat16
from mlbook.metric.matching import MatchingNetwork
from mlbook.metric.protonet import PrototypicalNetwork
from mlbook.metric.relation import RelationNetwork, feature_map_encoder
from mlbook.metric.siamese import SiameseNetwork
from mlbook.training import train
from mlbook.validate import (
    check_bool,
    check_choice,
    check_int,
    check_optimizer,
    check_positive,
    check_positive_int,
    check_seed,
)

METHOD_NAMES = ("protonet", "protonet_cosine", "matching", "matching_fce", "relation", "siamese")

#: Display names for tables and plots.
DISPLAY_NAMES = {
    "protonet": "Prototypical Networks",
    "protonet_cosine": "Prototypical Networks (cosine)",
    "matching": "Matching Networks",
    "matching_fce": "Matching Networks (FCE)",
    "relation": "Relation Networks",
    "siamese": "Siamese Networks",
}


def build_method(
    method: str,
    *,
    hidden: int = 64,
    norm: str = "batch",
    image_size: int = 28,
    channels_last: bool = False,
    mixed_precision: bool = False,
    **options,
) -> MetricMethod:
    """A fresh metric method on a Conv4 embedding of width ``hidden``; ``options`` go to its constructor."""
    check_choice("method", method, METHOD_NAMES)
    common = {"channels_last": channels_last, "mixed_precision": mixed_precision, **options}
    if method == "relation":
        encoder = feature_map_encoder(hidden=hidden, norm=norm, image_size=image_size)
        return RelationNetwork(encoder, channels=hidden, norm=norm, **common)
    encoder = default_encoder(hidden=hidden, norm=norm, image_size=image_size)
    if method == "protonet":
        return PrototypicalNetwork(encoder, **common)
    if method == "protonet_cosine":
        return PrototypicalNetwork(encoder, distance="cosine", **common)
    if method in ("matching", "matching_fce"):
        return MatchingNetwork(encoder, fce=method == "matching_fce", **common)
    return SiameseNetwork(encoder, **common)


def training_sampler(
    meta_train: LabelledImages,
    n_way: int = 20,
    k_shot: int = 1,
    q_query: int = 5,
    *,
    rotations: bool = True,
    distortion: RandomAffine | None | bool = None,
    within_group: bool = False,
    seed: int = 0,
):
    """The meta-training episode stream: optionally rotations as new classes (x4 classes) and random affine
    distortions of every image (``distortion=True`` means Koch et al.'s ``RandomAffine()``)."""
    _check_meta_train(meta_train)
    check_bool("rotations", rotations)
    if not isinstance(distortion, RandomAffine | bool | None):
        raise TypeError(f"distortion must be a RandomAffine, True, False or None, got {distortion!r}")
    dataset = meta_train.with_rotations() if rotations else meta_train
    sampler = EpisodeSampler(dataset, n_way, k_shot, q_query, within_group=within_group, seed=seed)
    if distortion is True:
        distortion = RandomAffine()
    if distortion:
        return AugmentedSampler(sampler, distortion)
    return sampler


def cosine_schedule(optimizer: torch.optim.Optimizer, steps: int, warmup: int = 0):
    """Decay every learning rate of ``optimizer`` along a half cosine to 0 over ``steps`` optimiser steps
    (after a linear ``warmup``). The schedule advances by itself after each ``optimizer.step()`` (a post
    hook), so the shared training loop needs no change. Returns the ``LambdaLR`` scheduler: pass it to ``train`` as
    ``scheduler=`` so a checkpoint saves it and a resumed run continues the schedule. ``warmup`` must be shorter
    than ``steps`` (else the rate would never decay)."""
    check_optimizer("optimizer", optimizer)
    check_positive_int("steps", steps)
    check_positive_int("warmup", warmup, minimum=0)
    if warmup >= steps:
        raise ValueError(f"warmup must be fewer steps than steps={steps} (the whole schedule), got {warmup}")

    def factor(step: int) -> float:
        if step < warmup:
            return (step + 1) / warmup
        progress = min(step - warmup, steps - warmup) / max(1, steps - warmup)
        return 0.5 * (1.0 + math.cos(math.pi * progress))

    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    optimizer.register_step_post_hook(lambda *_: scheduler.step())
    return scheduler


#: The chapter's meta-training recipe (the notebook and ``benchmarks/metric_*.py`` use it): 60-way 1-shot
#: episodes with one query per class, rotations as new classes, no affine distortions, Adam with a cosine
#: decay from 3e-3, a 64-channel Conv4. ``mixed_precision=None`` means "where bfloat16 is fast" (``fast_bfloat16``).
#: Chosen with a few 2-minute ProtoNet probes scored on minimal split 1's held-out alphabets (a record of them is
#: in ``benchmarks/history/metric_recipe_probes.json``): under a 2-minute CPU budget, affine distortions did not
#: pay (they slow each step and make the task harder), and a higher peak learning rate helped a little.
RECIPE = {
    "n_way": 60,
    "k_shot": 1,
    "q_query": 1,
    "rotations": True,
    "distortion": False,
    "within_group": False,
    "hidden": 64,
    "lr": 3e-3,
    "schedule": "cosine",
    "mixed_precision": None,
}
#: Per-method changes. A Siamese network learns from same-class pairs, of which 1-query episodes have few.
METHOD_RECIPES: dict[str, dict] = {"siamese": {"n_way": 20, "q_query": 5}}


def recipe_for(method: str, **changes) -> dict:
    """The recipe of ``method``: ``RECIPE``, then ``METHOD_RECIPES[method]``, then ``changes``."""
    check_choice("method", method, METHOD_NAMES)
    recipe = {**RECIPE, **METHOD_RECIPES.get(method, {}), **changes}
    unknown = sorted(set(recipe) - set(RECIPE) - {"options"})
    if unknown:
        raise ValueError(f"unknown recipe keys {unknown}; known: {sorted(RECIPE)} and 'options'")
    if recipe["mixed_precision"] is None:
        recipe["mixed_precision"] = fast_bfloat16()
    return _check_recipe(recipe)


def sampler_from_recipe(meta_train: LabelledImages, recipe: dict, seed: int = 0):
    """The meta-training episode stream of ``recipe`` (see ``training_sampler``)."""
    _check_recipe(recipe)
    distortion = recipe["distortion"]
    if isinstance(distortion, dict):
        distortion = RandomAffine(**distortion)
    return training_sampler(
        meta_train,
        recipe["n_way"],
        recipe["k_shot"],
        recipe["q_query"],
        rotations=recipe["rotations"],
        distortion=distortion,
        within_group=recipe["within_group"],
        seed=seed,
    )


def method_from_recipe(method: str, recipe: dict) -> MetricMethod:
    """A fresh ``method`` built as ``recipe`` says (width, mixed precision, options)."""
    _check_recipe(recipe)
    return build_method(
        method,
        hidden=recipe["hidden"],
        channels_last=True,
        mixed_precision=recipe["mixed_precision"],
        **recipe.get("options", {}),
    )


def train_from_recipe(
    method: str,
    meta_train: LabelledImages,
    steps: int,
    recipe: dict | None = None,
    *,
    seed: int = 0,
    progress: bool | None = None,
    checkpoint=None,
    checkpoint_every: int = 0,
    resume: bool = False,
):
    """Build ``method`` and meta-train it for ``steps`` steps with the shared loop -> ``(method, history)``.

    ``checkpoint``, ``checkpoint_every`` and ``resume`` go to ``train``: an interrupted run resumed with the same
    arguments ends bit for bit where the uninterrupted one does (the cosine schedule is checkpointed too)."""
    check_choice("method", method, METHOD_NAMES)
    _check_meta_train(meta_train)
    check_positive_int("steps", steps)
    check_seed("seed", seed)
    recipe = recipe if recipe is not None else recipe_for(method)
    _check_recipe(recipe)
    torch.manual_seed(seed)
    model = method_from_recipe(method, recipe)
    optimizer = torch.optim.Adam(model.parameters(), lr=recipe["lr"])
    scheduler = cosine_schedule(optimizer, steps) if recipe["schedule"] == "cosine" else None
    history = train(
        model,
        sampler_from_recipe(meta_train, recipe, seed),
        steps=steps,
        optimizer=optimizer,
        seed=seed,
        progress=progress,
        scheduler=scheduler,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        resume=resume,
    )
    return model, history


# ---------------------------------------------------------------------------------------------- argument checks


def _check_meta_train(meta_train) -> None:
    if not isinstance(meta_train, LabelledImages):
        raise TypeError(
            f"meta_train must be a LabelledImages (e.g. from minimal_splits), got {type(meta_train).__name__}"
        )



def _check_recipe(recipe) -> dict:
    """A complete recipe (every key of ``RECIPE``, optionally ``options``) whose values make sense."""
    if not isinstance(recipe, dict):
        raise TypeError(f"recipe must be a dict such as recipe_for('protonet'), got {type(recipe).__name__}")
    missing = sorted(set(RECIPE) - set(recipe))
    if missing:
        raise ValueError(f"recipe lacks the keys {missing}: build it with recipe_for(method, **changes)")
    check_int("recipe['n_way']", recipe["n_way"], minimum=2)
    for key in ("k_shot", "q_query", "hidden"):
        check_positive_int(f"recipe['{key}']", recipe[key])
    check_positive("recipe['lr']", recipe["lr"])
    check_choice("recipe['schedule']", recipe["schedule"], ("cosine", "constant"))
    for key in ("rotations", "within_group"):
        check_bool(f"recipe['{key}']", recipe[key])
    if not isinstance(recipe["distortion"], bool | dict | RandomAffine | None):
        raise TypeError(f"recipe['distortion'] must be a bool, a dict of RandomAffine arguments or a RandomAffine, "
                        f"got {recipe['distortion']!r}")
    if recipe["mixed_precision"] is not None:
        check_bool("recipe['mixed_precision']", recipe["mixed_precision"])
    if not isinstance(recipe.get("options", {}), dict):
        raise TypeError(f"recipe['options'] must be a dict of constructor arguments, got {recipe['options']!r}")
    return recipe
