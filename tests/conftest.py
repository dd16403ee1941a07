"""Shared fixtures. Tests read Omniglot from $MLBOOK_DATA (CI sets it to shared/data/omniglot); when unset and
../shared sits beside the repository, that mirror is used. No test touches the network.

Every test starts from the same global random state (torch, numpy and ``random`` seeded with
``$MLBOOK_TEST_SEED``, default 0), whatever ran before it on its worker, and must leave torch's global settings
as it found them. A test must pass for every seed: ``MLBOOK_TEST_SEED=3 make unit`` checks that its assertions
hold for the mathematics and not for one lucky draw. ``make test`` runs the unit tests in a shuffled order
(pytest-randomly, off unless ``-p randomly`` is given) to keep checking that no test depends on another; the
seed of the order is printed at the end, and ``--randomly-seed=N`` replays it."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
_MIRROR = REPO.parent / "shared" / "data" / "omniglot"
if not os.environ.get("MLBOOK_DATA") and _MIRROR.exists():
    os.environ["MLBOOK_DATA"] = str(_MIRROR)

torch.set_num_threads(1)  # tests run two at a time on two cores

TEST_SEED = int(os.environ.get("MLBOOK_TEST_SEED", "0"))


def _global_state() -> dict:
    return {
        "default dtype": torch.get_default_dtype(),
        "grad mode": torch.is_grad_enabled(),
        "inference mode": torch.is_inference_mode_enabled(),
        "anomaly detection": torch.is_anomaly_enabled(),
        "deterministic algorithms": torch.are_deterministic_algorithms_enabled(),
        "intra-op threads": torch.get_num_threads(),
        # the project's own variables (libraries set others of theirs when first imported)
        "MLBOOK_* environment": {k: v for k, v in os.environ.items() if k.startswith("MLBOOK_")},
        "working directory": os.getcwd(),
    }


@pytest.fixture(autouse=True)
def _seeded_and_isolated():
    """Seed torch, numpy and ``random`` before each test, so its randomness is its own. Afterwards, fail a test
    that left torch's global settings, the ``MLBOOK_*`` environment variables or the working directory changed
    (restoring torch's settings, so the next test is unaffected): use ``monkeypatch`` and ``tmp_path``."""
    random.seed(TEST_SEED)
    np.random.seed(TEST_SEED)
    torch.manual_seed(TEST_SEED)
    before = _global_state()
    yield
    leaked = {k: v for k, v in _global_state().items() if v != before[k]}
    if leaked:
        torch.set_default_dtype(before["default dtype"])
        torch.set_grad_enabled(before["grad mode"])
        torch.autograd.set_detect_anomaly(before["anomaly detection"])
        torch.use_deterministic_algorithms(before["deterministic algorithms"])
        torch.set_num_threads(before["intra-op threads"])
        pytest.fail(f"the test changed global state and left it changed: {sorted(leaked)}")


def pytest_terminal_summary(terminalreporter, config):
    if config.pluginmanager.hasplugin("randomly"):
        seed = config.getoption("randomly_seed")
        terminalreporter.write_line(f"tests ran in a shuffled order; replay it with -p randomly --randomly-seed={seed}")


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
