"""Omniglot as a multi-task problem: several labels per image, or one task per alphabet.

Shared inputs (``omniglot_multitask``): every image carries one label per task, among
``alphabet`` (which alphabet, ``len(groups)`` classes), ``character`` (the dataset's class, i.e. a global
character index), ``character_in_alphabet`` (the character's rank inside its alphabet, as many classes as the
largest alphabet has characters) and ``rotation`` (``k`` in ``0..3``: the image is turned by ``k`` quarter turns
counter-clockwise, ``torch.rot90(image, k, dims=(-2, -1))``; predicting it is the self-supervised task of
Gidaris et al. 2018, "Unsupervised representation learning by predicting image rotations"). The tasks share
every input, so they differ only in what they ask about it: coarse (alphabet), fine (character), geometric
(rotation).

Separate inputs (``per_alphabet_tasks``): each alphabet is its own character-classification task, the
"Omniglot as 50 tasks" setting of Meyerson & Miikkulainen 2018 ("Beyond shared hierarchies") and Liang et al.
2018. Every example belongs to exactly one task.

Drawers: each Omniglot character was drawn by 20 people; the PNG of drawer ``d`` ends in ``_{d:02d}.png``.
``load_omniglot`` reads the PNGs in sorted order, so inside every class the examples come in drawer order and
an example's drawer is its 1-based position within its class (``drawer_ids``). That holds for data as loaded
(and after ``select_groups``/``drop_groups``/``subset_classes``, which keep the order), not for a subset that
dropped some examples of a class. ``split_by_drawer`` holds out whole drawers: every character appears in both
parts, written by different hands.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from mlbook.data.dataset import LabelledImages
from mlbook.data.multidigits import MultiTaskImages
from mlbook.validate import check_seed

TASKS = ("alphabet", "character", "character_in_alphabet", "rotation")
QUARTER_TURNS = 4


def drawer_ids(images: LabelledImages) -> torch.Tensor:
    """``[N]`` long: the 1-based drawer of every example (its position within its class, in dataset order)."""
    _check_labelled(images)
    drawers = torch.empty(len(images), dtype=torch.long)
    for members in images.indices_by_class:
        drawers[members] = torch.arange(1, len(members) + 1)
    return drawers


def omniglot_multitask(
    images: LabelledImages,
    tasks: Sequence[str] = ("alphabet", "character", "rotation"),
    seed: int = 0,
    all_rotations: bool = False,
) -> MultiTaskImages:
    """The examples of ``images`` with one label per entry of ``tasks`` (see the module docstring).

    With ``"rotation"`` among the tasks every image is turned by a seeded, uniformly drawn number of quarter
    turns (``all_rotations=True`` instead keeps all four turns of every image: four times as many examples);
    without it images stay upright and ``seed`` is unused. ``info`` holds ``"source_index"`` (position in
    ``images``), ``"drawer"`` (1-based) and ``"quarter_turns"``.
    """
    _check_labelled(images)
    _check_tasks(tasks)
    check_seed("seed", seed)
    if not isinstance(all_rotations, bool):
        raise TypeError(f"all_rotations must be a bool, got {all_rotations!r}")
    if all_rotations and "rotation" not in tasks:
        raise ValueError("all_rotations=True needs 'rotation' among tasks")
    source, turns = _rotation_plan(len(images), "rotation" in tasks, seed, all_rotations)
    rotated = _rotate(images.images[source], turns)
    by_class = _labels_per_class(images)
    columns = {task: table[images.labels[source]] for task, table in by_class.items()} | {"rotation": turns}
    counts = {
        "alphabet": len(images.groups),
        "character": images.num_classes,
        "character_in_alphabet": int(by_class["character_in_alphabet"].max()) + 1,
        "rotation": QUARTER_TURNS,
    }
    return MultiTaskImages(
        images=rotated,
        labels=torch.stack([columns[task] for task in tasks], dim=1),
        task_names=tuple(tasks),
        num_classes=tuple(counts[task] for task in tasks),
        info={"source_index": source, "drawer": drawer_ids(images)[source], "quarter_turns": turns},
    )


def per_alphabet_tasks(images: LabelledImages) -> dict[str, LabelledImages]:
    """One character-classification task per alphabet: ``{alphabet: its characters, relabelled 0..n-1}``."""
    _check_labelled(images)
    return {group: images.select_groups([group]) for group in images.groups}


def split_by_drawer(
    data: MultiTaskImages | LabelledImages, n_test_drawers: int = 5, seed: int = 0
) -> tuple[MultiTaskImages | LabelledImages, MultiTaskImages | LabelledImages]:
    """``(train, test)``: the examples of ``n_test_drawers`` seeded-randomly chosen drawers form ``test``.

    The same drawers are held out for every character, so both parts contain every character. Works on
    ``omniglot_multitask`` output (drawers from ``info["drawer"]``) and on ``LabelledImages`` (``drawer_ids``).
    """
    drawers = _drawers_of(data)
    available = drawers.unique()
    check_seed("seed", seed)
    is_int = isinstance(n_test_drawers, int) and not isinstance(n_test_drawers, bool)
    if not is_int or not 1 <= n_test_drawers < len(available):
        raise ValueError(
            f"n_test_drawers must be an int in [1, {len(available) - 1}] (there are {len(available)} drawers), "
            f"got {n_test_drawers!r}"
        )
    generator = torch.Generator().manual_seed(seed)
    held_out = available[torch.randperm(len(available), generator=generator)[:n_test_drawers]]
    in_test = torch.isin(drawers, held_out)
    return _select(data, ~in_test), _select(data, in_test)


def _check_labelled(images: LabelledImages) -> None:
    if not isinstance(images, LabelledImages):
        raise TypeError(f"images must be a LabelledImages (e.g. from load_omniglot), got {type(images).__name__}")


def _check_tasks(tasks: Sequence[str]) -> None:
    if isinstance(tasks, str) or not tasks:
        raise ValueError(f"tasks must be a non-empty sequence of names among {list(TASKS)}, got {tasks!r}")
    unknown = [task for task in tasks if task not in TASKS]
    if unknown:
        raise ValueError(f"tasks must be among {list(TASKS)}, unknown: {unknown}")
    if len(set(tasks)) != len(tasks):
        raise ValueError(f"tasks must not repeat, got {list(tasks)}")


def _rotation_plan(n: int, rotate: bool, seed: int, all_rotations: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """``(source, turns)``: which original example each output example shows, and how many quarter turns."""
    if not rotate:
        return torch.arange(n), torch.zeros(n, dtype=torch.long)
    if all_rotations:
        return torch.arange(n).repeat(QUARTER_TURNS), torch.arange(QUARTER_TURNS).repeat_interleave(n)
    generator = torch.Generator().manual_seed(seed)
    return torch.arange(n), torch.randint(0, QUARTER_TURNS, (n,), generator=generator)


def _rotate(images: torch.Tensor, turns: torch.Tensor) -> torch.Tensor:
    rotated = images.clone()
    for k in range(1, QUARTER_TURNS):
        chosen = turns == k
        rotated[chosen] = torch.rot90(images[chosen], k, dims=(-2, -1))
    return rotated


def _labels_per_class(images: LabelledImages) -> dict[str, torch.Tensor]:
    """For every task but rotation, a ``[num_classes]`` table: class -> that task's label."""
    groups = images.groups
    alphabet = torch.tensor([groups.index(g) for g in images.class_groups], dtype=torch.long)
    rank = torch.empty(images.num_classes, dtype=torch.long)
    for group in groups:
        members = torch.tensor(images.classes_in_group(group))
        rank[members] = torch.arange(len(members))
    return {"alphabet": alphabet, "character": torch.arange(images.num_classes), "character_in_alphabet": rank}


def _drawers_of(data: MultiTaskImages | LabelledImages) -> torch.Tensor:
    if isinstance(data, LabelledImages):
        return drawer_ids(data)
    if isinstance(data, MultiTaskImages) and "drawer" in data.info:
        return data.info["drawer"]
    raise TypeError(
        "data must be a LabelledImages or a MultiTaskImages with info['drawer'] (from omniglot_multitask), "
        f"got {type(data).__name__}"
    )


def _select(data: MultiTaskImages | LabelledImages, keep: torch.Tensor) -> MultiTaskImages | LabelledImages:
    if isinstance(data, MultiTaskImages):
        return data.subset(keep)
    return LabelledImages(data.images[keep], data.labels[keep], data.class_names, data.class_groups)
