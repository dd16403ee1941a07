import zipfile

import pytest
import torch

from mlbook.data.multidigits import MultiTaskImages
from mlbook.data.omniglot import decode_png
from mlbook.data.omniglot_tasks import drawer_ids, omniglot_multitask, per_alphabet_tasks, split_by_drawer
from mlbook.data.sources import OMNIGLOT_FILES, fetch


def test_every_image_gets_alphabet_character_and_rotation_labels(omniglot_small1):
    data = omniglot_multitask(omniglot_small1, seed=0)
    assert data.task_names == ("alphabet", "character", "rotation") and data.num_classes == (5, 136, 4)
    assert data.images.shape == omniglot_small1.images.shape and data.labels.shape == (2720, 3)
    source = data.info["source_index"]
    assert torch.equal(source, torch.arange(2720))
    assert torch.equal(data.labels[:, 1], omniglot_small1.labels)
    alphabets = [omniglot_small1.groups[a] for a in data.labels[:, 0].tolist()]
    assert alphabets == [omniglot_small1.class_groups[c] for c in omniglot_small1.labels.tolist()]
    assert torch.equal(data.labels[:, 2], data.info["quarter_turns"])


def test_images_are_turned_by_their_rotation_label(omniglot_small1):
    data = omniglot_multitask(omniglot_small1, tasks=("rotation",), seed=1)
    turns = data.labels[:, 0]
    assert torch.bincount(turns, minlength=4).min() > 600  # about 680 of each
    for i in [0, 1, 2, 3, 500, 2719]:
        original = omniglot_small1.images[i]
        assert torch.equal(data.images[i], torch.rot90(original, int(turns[i]), dims=(1, 2)))
        assert not turns[i] or not torch.equal(data.images[i], original)
    upright = omniglot_multitask(omniglot_small1, tasks=("alphabet",))
    assert torch.equal(upright.images, omniglot_small1.images)


def test_rotations_are_seeded(omniglot_small1):
    first = omniglot_multitask(omniglot_small1, seed=2).labels[:, 2]
    assert torch.equal(first, omniglot_multitask(omniglot_small1, seed=2).labels[:, 2])
    assert not torch.equal(first, omniglot_multitask(omniglot_small1, seed=3).labels[:, 2])


def test_all_rotations_keeps_four_turns_of_every_image(omniglot_small1):
    data = omniglot_multitask(omniglot_small1, tasks=("character", "rotation"), all_rotations=True)
    assert len(data) == 4 * 2720
    for k in range(4):
        chosen = data.labels[:, 1] == k
        assert torch.equal(data.info["source_index"][chosen], torch.arange(2720))
        assert torch.equal(data.images[chosen], torch.rot90(omniglot_small1.images, k, dims=(2, 3)))


def test_character_in_alphabet_ranks_characters_inside_their_alphabet(omniglot_small1):
    data = omniglot_multitask(omniglot_small1, tasks=("alphabet", "character_in_alphabet"))
    largest = max(len(omniglot_small1.classes_in_group(g)) for g in omniglot_small1.groups)
    assert data.num_classes == (5, largest)
    for alphabet, group in enumerate(omniglot_small1.groups):
        members = omniglot_small1.classes_in_group(group)
        in_alphabet = data.labels[:, 0] == alphabet
        ranks = data.labels[in_alphabet, 1]
        assert torch.equal(ranks, torch.tensor([members.index(c) for c in omniglot_small1.labels[in_alphabet]]))
        assert set(ranks.tolist()) == set(range(len(members)))


def test_drawer_is_the_png_suffix(omniglot_small1):
    drawers = drawer_ids(omniglot_small1)
    assert torch.equal(torch.bincount(drawers), torch.tensor([0] + [136] * 20))
    with zipfile.ZipFile(fetch(OMNIGLOT_FILES["background_small1"])) as zf:
        names = sorted(n for n in zf.namelist() if n.endswith(".png"))
        for path in [names[0], names[7], names[1234], names[-1]]:
            _, alphabet, character, file = path.split("/")
            drawer = int(file.removesuffix(".png").split("_")[1])
            cls = omniglot_small1.class_names.index(f"{alphabet}/{character}")
            (index,) = torch.nonzero((omniglot_small1.labels == cls) & (drawers == drawer)).flatten().tolist()
            expected = torch.from_numpy(decode_png(zf.read(path), 28)).float() / 255.0
            assert torch.equal(omniglot_small1.images[index, 0], expected)


def test_drawer_split_holds_out_whole_drawers_and_keeps_every_character(omniglot_small1):
    data = omniglot_multitask(omniglot_small1, seed=0)
    train, test = split_by_drawer(data, n_test_drawers=5, seed=0)
    assert len(train) == 15 * 136 and len(test) == 5 * 136
    train_drawers, test_drawers = set(train.info["drawer"].tolist()), set(test.info["drawer"].tolist())
    assert not train_drawers & test_drawers and len(test_drawers) == 5
    assert set(train.labels[:, 1].tolist()) == set(test.labels[:, 1].tolist()) == set(range(136))
    assert torch.bincount(test.labels[:, 1]).tolist() == [5] * 136
    again = split_by_drawer(data, n_test_drawers=5, seed=0)[1]
    other = split_by_drawer(data, n_test_drawers=5, seed=1)[1]
    assert torch.equal(again.images, test.images)
    assert set(other.info["drawer"].tolist()) != test_drawers


def test_drawer_split_of_labelled_images_matches_the_multitask_one(omniglot_small1):
    train, test = split_by_drawer(omniglot_small1, n_test_drawers=4, seed=7)
    multi_train, multi_test = split_by_drawer(omniglot_multitask(omniglot_small1, ("character",)), 4, seed=7)
    assert torch.equal(test.images, multi_test.images) and torch.equal(test.labels, multi_test.labels[:, 0])
    assert len(train) == 16 * 136 and train.class_names == omniglot_small1.class_names


def test_per_alphabet_tasks_are_the_alphabets_relabelled(omniglot_small1):
    tasks = per_alphabet_tasks(omniglot_small1)
    assert list(tasks) == omniglot_small1.groups
    assert sum(len(t) for t in tasks.values()) == len(omniglot_small1)
    greek = tasks["Greek"]
    assert greek.groups == ["Greek"] and greek.num_classes == 24
    assert torch.equal(greek.labels.unique(), torch.arange(24))
    first = omniglot_small1.classes_in_group("Greek")[0]
    assert torch.equal(greek.images[greek.indices_by_class[0]], omniglot_small1.images[omniglot_small1.labels == first])


@pytest.mark.parametrize("kwargs, error, message", [
    ({"tasks": ("alphabet", "colour")}, ValueError, r"tasks must be among .*unknown: \['colour'\]"),
    ({"tasks": ("rotation", "rotation")}, ValueError, "tasks must not repeat"),
    ({"tasks": ()}, ValueError, "tasks must be a non-empty sequence"),
    ({"tasks": "rotation"}, ValueError, "tasks must be a non-empty sequence"),
    ({"seed": -1}, ValueError, "seed must be an int >= 0"),
    ({"all_rotations": 1}, TypeError, "all_rotations must be a bool"),
    ({"tasks": ("alphabet",), "all_rotations": True}, ValueError, "all_rotations=True needs 'rotation'"),
])
def test_bad_multitask_arguments_are_named(omniglot_small1, kwargs, error, message):
    with pytest.raises(error, match=message):
        omniglot_multitask(omniglot_small1, **kwargs)


def test_bad_split_arguments_are_named(omniglot_small1):
    for bad in (0, 20, 2.0):
        with pytest.raises(ValueError, match=r"n_test_drawers must be an int in \[1, 19\]"):
            split_by_drawer(omniglot_small1, n_test_drawers=bad)
    no_drawers = MultiTaskImages(torch.zeros(2, 1, 2, 2), torch.zeros(2, 1, dtype=torch.long), ("a",), (1,))
    with pytest.raises(TypeError, match=r"info\['drawer'\]"):
        split_by_drawer(no_drawers)
    with pytest.raises(TypeError, match="images must be a LabelledImages"):
        omniglot_multitask(torch.zeros(3, 1, 28, 28))
