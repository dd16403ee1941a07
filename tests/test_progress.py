"""Progress bars (``mlbook.progress``): a text bar on Colab and in a terminal, nothing in the pages the book build
executes (no stderr junk, no widget)."""

from __future__ import annotations

import inspect
import io
import sys
import types

import pytest
import torch
from tqdm import std

from mlbook.data import SinusoidTasks
from mlbook.metric.recipes import train_from_recipe
from mlbook.models import MLP
from mlbook.multitask import train_multitask
from mlbook.optimization import evaluate_after_steps
from mlbook.progress import progress_bar, show_progress
from mlbook.training import evaluate, train
from mlbook.training.method import EpisodicMethod


class Regressor(EpisodicMethod):
    def __init__(self):
        super().__init__()
        self.net = MLP(1, 1, hidden=(8,))

    def predict(self, episode):
        return self.net(episode.query_x)

    def episode_loss(self, episode):
        loss = torch.nn.functional.mse_loss(self.predict(episode), episode.query_y)
        return loss, {"mse": float(loss.detach())}


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def nobody_watching(monkeypatch):
    """Not on Colab, no MLBOOK_PROGRESS, stderr not a terminal (pytest's capture): the book build's situation."""
    monkeypatch.delenv("MLBOOK_PROGRESS", raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)


def test_every_long_loop_decides_by_default():
    for function in (train, evaluate, train_multitask, train_from_recipe, evaluate_after_steps):
        assert inspect.signature(function).parameters["progress"].default is None, function.__name__


def test_an_explicit_choice_wins_over_everything(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setenv("MLBOOK_PROGRESS", "1")
    assert show_progress(False) is False
    monkeypatch.setenv("MLBOOK_PROGRESS", "0")
    assert show_progress(True) is True


def test_the_environment_variable_decides_the_default(nobody_watching, monkeypatch):
    monkeypatch.setenv("MLBOOK_PROGRESS", "1")
    assert show_progress() is True
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    monkeypatch.setenv("MLBOOK_PROGRESS", "0")
    assert show_progress() is False


def test_bad_settings_are_refused(nobody_watching, monkeypatch):
    with pytest.raises(TypeError, match="progress must be True or False"):
        show_progress("yes")
    with pytest.raises(TypeError, match="progress"):
        evaluate(Regressor(), SinusoidTasks(seed=0), 2, device="cpu", progress="no")
    monkeypatch.setenv("MLBOOK_PROGRESS", "yes")
    with pytest.raises(ValueError, match="MLBOOK_PROGRESS must be 0 or 1"):
        show_progress()


def test_nothing_is_written_where_nobody_watches(nobody_watching, capsys):
    method = Regressor()
    train(method, SinusoidTasks(seed=0), steps=3, meta_batch=2, device="cpu")
    evaluate(method, SinusoidTasks(seed=1), 3, device="cpu")
    assert capsys.readouterr().err == ""


def test_colab_gets_a_text_bar(nobody_watching, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    train(Regressor(), SinusoidTasks(seed=0), steps=3, meta_batch=2, device="cpu")
    err = capsys.readouterr().err
    assert "meta-train" in err and "3/3" in err and "mse=" in err


def test_a_terminal_gets_a_text_bar(nobody_watching, monkeypatch):
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    evaluate(Regressor(), SinusoidTasks(seed=1), 3, device="cpu")
    assert "evaluate" in terminal.getvalue()


def test_the_bar_is_text_never_a_widget():
    bar = progress_bar(range(2), progress=False, desc="x")
    assert type(bar) is std.tqdm  # tqdm.auto would be tqdm.notebook's widget inside Jupyter


def test_an_executed_notebook_has_no_progress_output(nobody_watching, tmp_path):
    """As the book build executes a chapter (nbclient, a fresh kernel): the loops' default writes nothing."""
    nbclient = pytest.importorskip("nbclient")
    import nbformat

    code = (
        "import torch\n"
        "from mlbook.data import SinusoidTasks\n"
        "from mlbook.models import MLP\n"
        "from mlbook.training import evaluate, train\n"
        "from mlbook.training.method import EpisodicMethod\n"
        + inspect.getsource(Regressor)
        + "method = Regressor()\n"
        "train(method, SinusoidTasks(seed=0), steps=3, meta_batch=2, device='cpu')\n"
        "print(evaluate(method, SinusoidTasks(seed=1), 3, device='cpu').metric)\n"
    )
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    resources = {"metadata": {"path": str(tmp_path)}}
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3", resources=resources).execute()
    outputs = notebook.cells[0].outputs
    assert [(o.output_type, o.get("name"), o.get("text")) for o in outputs] == [("stream", "stdout", "mse\n")]
