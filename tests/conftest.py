"""Shared fixtures. Tests read Omniglot from $MLBOOK_DATA (CI sets it to shared/data/omniglot); when unset and
../shared sits beside the repository, that mirror is used. No test touches the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
_MIRROR = REPO.parent / "shared" / "data" / "omniglot"
if not os.environ.get("MLBOOK_DATA") and _MIRROR.exists():
    os.environ["MLBOOK_DATA"] = str(_MIRROR)

torch.set_num_threads(1)  # tests run two at a time on two cores


@pytest.fixture(scope="session")
def omniglot_small1():
    from mlbook.data import load_omniglot

    return load_omniglot("background_small1")


@pytest.fixture(scope="session")
def minimal_split1():
    from mlbook.data import minimal_splits

    return minimal_splits(train=1)


@pytest.fixture(scope="session")
def oneshot_runs():
    from mlbook.data import load_oneshot_runs

    return load_oneshot_runs()


@pytest.fixture
def indexed_dataset():
    """A synthetic dataset whose every image is filled with its own index, so tests can recover which
    examples a sampler picked. 3 groups of 6, 4 and 2 classes, 10 examples each."""
    from mlbook.data import LabelledImages

    sizes = {"alpha": 6, "beta": 4, "gamma": 2}
    names, groups = [], []
    for group, count in sizes.items():
        names += [f"{group}/c{i}" for i in range(count)]
        groups += [group] * count
    labels = torch.arange(len(names)).repeat_interleave(10)
    images = torch.arange(len(labels), dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, 4, 4).clone()
    return LabelledImages(images, labels, names, groups)


def example_ids(images: torch.Tensor) -> list[int]:
    return images[:, 0, 0, 0].long().tolist()
