import pytest
import torch

from mlbook.training import load_checkpoint, save_checkpoint


def test_a_checkpoint_round_trips(tmp_path):
    save_checkpoint(tmp_path / "c.pt", step=3, weights=torch.arange(4.0))
    state = load_checkpoint(tmp_path / "c.pt")
    assert state["step"] == 3 and torch.equal(state["weights"], torch.arange(4.0))


def test_a_failed_save_leaves_no_part_file_and_the_old_checkpoint_intact(tmp_path, monkeypatch):
    save_checkpoint(tmp_path / "c.pt", step=1)

    def disk_full(*args, **kwargs):
        raise OSError("No space left on device")

    monkeypatch.setattr(torch, "save", disk_full)
    with pytest.raises(OSError, match="No space left"):
        save_checkpoint(tmp_path / "c.pt", step=2)
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.pt"]
    assert load_checkpoint(tmp_path / "c.pt")["step"] == 1


def test_an_unpicklable_state_leaves_no_part_file(tmp_path):
    with pytest.raises(Exception):  # noqa: B017, PT011 - whatever pickle raises, it is re-raised
        save_checkpoint(tmp_path / "c.pt", step=1, callback=lambda: None)
    assert list(tmp_path.iterdir()) == []


def test_a_truncated_checkpoint_is_reported_with_its_path(tmp_path):
    path = tmp_path / "c.pt"
    save_checkpoint(path, step=1, weights=torch.zeros(1000))
    path.write_bytes(path.read_bytes()[:500])
    with pytest.raises(ValueError, match="corrupt or not a checkpoint") as error:
        load_checkpoint(path)
    assert str(path) in str(error.value) and "delete it" in str(error.value)


def test_a_file_that_holds_something_else_is_not_a_checkpoint(tmp_path):
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    with pytest.raises(ValueError, match="not a checkpoint"):
        load_checkpoint(tmp_path / "tensor.pt")


def test_a_missing_checkpoint_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="missing.pt"):
        load_checkpoint(tmp_path / "missing.pt")


def test_saving_nothing_is_refused(tmp_path):
    with pytest.raises(ValueError, match="state is empty"):
        save_checkpoint(tmp_path / "c.pt")
