"""Bad input to mlbook.results (the benchmark results' recorder and reader) and to the argument checks of
mlbook.validate themselves: each row is a mistake a reader makes, and the error it must get."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest
import torch
from torch import nn

from mlbook import validate
from mlbook.results import (
    REPO_ROOT,
    finish_provenance,
    imported_sources,
    load_benchmark_result,
    make_provenance,
    normalised_source,
    provenance_note,
    source_fingerprint,
    stale_sources,
)
from tests.bad_input.harness import BadInput, assert_clear

NAN, INF = float("nan"), float("inf")
SCRIPT = REPO_ROOT / "benchmarks" / "maml_common.py"
NOTE = {"command": "python benchmarks/x.py", "date": "2026-01-01 00:00 UTC", "commit": "0" * 40, "cpu": "CPU"}


def folder_with(name: str, text: str) -> Path:
    """A fresh temporary folder holding one file (removed when the interpreter exits)."""
    folder = Path(tempfile.mkdtemp(prefix="mlbook-bad-input-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    (folder / name).write_text(text)
    return folder


MISSING = "/nonexistent/mlbook-bad-input"

ROWS = [
    # ----------------------------------------------------------------------------------------- mlbook.results
    BadInput("mlbook.results.load_benchmark_result", "name", "a path", lambda: load_benchmark_result("../x.json")),
    BadInput(
        "mlbook.results.load_benchmark_result", "name", "no .json", lambda: load_benchmark_result("maml_sinusoid")
    ),
    BadInput("mlbook.results.load_benchmark_result", "name", "a Path", lambda: load_benchmark_result(Path("x.json"))),
    BadInput("mlbook.results.load_benchmark_result", "name", "None", lambda: load_benchmark_result(None)),
    BadInput(
        "mlbook.results.load_benchmark_result",
        "directory",
        "an int",
        lambda: load_benchmark_result("x.json", directory=3),
    ),
    BadInput(
        "mlbook.results.load_benchmark_result",
        "directory",
        "does not exist",
        lambda: load_benchmark_result("x.json", directory=MISSING),
    ),
    BadInput(
        "mlbook.results.load_benchmark_result",
        "name",
        "not JSON",
        lambda: load_benchmark_result("broken.json", directory=folder_with("broken.json", "{not json")),
    ),
    BadInput(
        "mlbook.results.load_benchmark_result",
        "name",
        "a JSON list, not a result",
        lambda: load_benchmark_result("list.json", directory=folder_with("list.json", "[1, 2]")),
    ),
    BadInput("mlbook.results.normalised_source", "source", "bytes", lambda: normalised_source(b"x = 1\n")),
    BadInput("mlbook.results.normalised_source", "source", "None", lambda: normalised_source(None)),
    BadInput("mlbook.results.normalised_source", "source", "a path", lambda: normalised_source(SCRIPT)),
    BadInput("mlbook.results.normalised_source", "source", "not Python", lambda: normalised_source("def f(:\n")),
    BadInput(
        "mlbook.results.source_fingerprint",
        "path",
        "missing",
        lambda: source_fingerprint(MISSING + ".py"),
        (FileNotFoundError,),
    ),
    BadInput("mlbook.results.source_fingerprint", "path", "None", lambda: source_fingerprint(None)),
    BadInput("mlbook.results.source_fingerprint", "path", "a folder", lambda: source_fingerprint(REPO_ROOT)),
    BadInput(
        "mlbook.results.source_fingerprint",
        "path",
        "not Python",
        lambda: source_fingerprint(folder_with("bad.py", "def f(:\n") / "bad.py"),
    ),
    BadInput("mlbook.results.imported_sources", "root", "does not exist", lambda: imported_sources(MISSING)),
    BadInput("mlbook.results.imported_sources", "root", "an int", lambda: imported_sources(3)),
    BadInput("mlbook.results.imported_sources", "script", "an int", lambda: imported_sources(REPO_ROOT, script=3)),
    BadInput("mlbook.results.make_provenance", "argv", "a string", lambda: make_provenance(SCRIPT, "--steps 3")),
    BadInput("mlbook.results.make_provenance", "argv", "numbers", lambda: make_provenance(SCRIPT, ["--steps", 3])),
    BadInput("mlbook.results.make_provenance", "script", "outside root", lambda: make_provenance("/tmp/x.py", [])),
    BadInput(
        "mlbook.results.make_provenance",
        "script",
        "missing",
        lambda: make_provenance(REPO_ROOT / "benchmarks" / "nope.py", []),
    ),
    BadInput(
        "mlbook.results.make_provenance", "root", "does not exist", lambda: make_provenance(SCRIPT, [], root=MISSING)
    ),
    BadInput("mlbook.results.finish_provenance", "provenance", "empty dict", lambda: finish_provenance({})),
    BadInput("mlbook.results.finish_provenance", "provenance", "None", lambda: finish_provenance(None)),
    BadInput(
        "mlbook.results.finish_provenance",
        "provenance",
        "finished twice",
        lambda: finish_provenance(finish_provenance(make_provenance(SCRIPT, []))),
    ),
    BadInput("mlbook.results.stale_sources", "result", "None", lambda: stale_sources(None)),
    BadInput("mlbook.results.stale_sources", "result", "no provenance", lambda: stale_sources({"rows": []})),
    BadInput("mlbook.results.stale_sources", "result", "a list", lambda: stale_sources([1, 2])),
    BadInput(
        "mlbook.results.stale_sources",
        "result",
        "sources a list",
        lambda: stale_sources({"provenance": {"sources": ["mlbook/utils.py"]}}),
    ),
    BadInput(
        "mlbook.results.stale_sources",
        "root",
        "does not exist",
        lambda: stale_sources({"provenance": {"sources": {"mlbook/utils.py": "0"}}}, root=MISSING),
    ),
    BadInput(
        "mlbook.results.stale_sources",
        "declared",
        "an int",
        lambda: stale_sources({"provenance": {"sources": {}}}, declared=3),
    ),
    BadInput(
        "mlbook.results.provenance_note", "result", "no provenance", lambda: provenance_note({"rows": []}, "x.json")
    ),
    BadInput("mlbook.results.provenance_note", "result", "None", lambda: provenance_note(None, "x.json")),
    BadInput(
        "mlbook.results.provenance_note",
        "result",
        "provenance without command",
        lambda: provenance_note({"provenance": {"date": "x"}}),
    ),
    BadInput(
        "mlbook.results.provenance_note",
        "name",
        "a path",
        lambda: provenance_note({"provenance": NOTE}, "benchmarks/results/x.json"),
    ),
    BadInput("mlbook.results.provenance_note", "name", "an int", lambda: provenance_note({"provenance": NOTE}, 3)),
    # ------------------------------------------------------------------------------- mlbook.validate itself
    BadInput("mlbook.validate.check_list_of", "rows", "a dict", lambda: validate.check_list_of("rows", {}, dict, "d")),
    BadInput("mlbook.validate.check_list_of", "rows", "empty", lambda: validate.check_list_of("rows", [], dict, "d")),
    BadInput("mlbook.validate.check_path", "root", "an int", lambda: validate.check_path("root", 3)),
    BadInput("mlbook.validate.check_folder", "root", "missing", lambda: validate.check_folder("root", "/no/such/dir")),
    BadInput("mlbook.validate.check_folder", "root", "None", lambda: validate.check_folder("root", None)),
    BadInput("mlbook.validate.check_optimizer", "optimizer", "the class",
             lambda: validate.check_optimizer("optimizer", torch.optim.Adam)),
    BadInput("mlbook.validate.check_optimizer", "optimizer", "a name",
             lambda: validate.check_optimizer("optimizer", "adam")),
    BadInput("mlbook.validate.check_bool", "fce", "truthy string", lambda: validate.check_bool("fce", "no")),
    BadInput("mlbook.validate.check_bool", "fce", "int", lambda: validate.check_bool("fce", 1)),
    BadInput("mlbook.validate.check_device", "device", "misspelt", lambda: validate.check_device("device", "cpu0")),
    BadInput("mlbook.validate.check_device", "device", "number", lambda: validate.check_device("device", 0.5)),
    BadInput("mlbook.validate.check_int", "n_way", "float", lambda: validate.check_int("n_way", 2.5)),
    BadInput("mlbook.validate.check_int", "n_way", "below minimum", lambda: validate.check_int("n_way", 0, minimum=1)),
    BadInput("mlbook.validate.check_int", "n_way", "above maximum", lambda: validate.check_int("n_way", 9, maximum=5)),
    BadInput("mlbook.validate.check_positive_int", "steps", "bool", lambda: validate.check_positive_int("steps", True)),
    BadInput("mlbook.validate.check_positive_int", "steps", "zero", lambda: validate.check_positive_int("steps", 0)),
    BadInput("mlbook.validate.check_number", "lr", "a string", lambda: validate.check_number("lr", "0.1")),
    BadInput("mlbook.validate.check_number", "lr", "NaN", lambda: validate.check_number("lr", NAN)),
    BadInput("mlbook.validate.check_number", "lr", "out of range", lambda: validate.check_number("lr", 2.0, high=1.0)),
    BadInput("mlbook.validate.check_positive", "lr", "NaN", lambda: validate.check_positive("lr", NAN)),
    BadInput("mlbook.validate.check_positive", "lr", "zero", lambda: validate.check_positive("lr", 0)),
    BadInput(
        "mlbook.validate.check_non_negative",
        "weight_decay",
        "negative",
        lambda: validate.check_non_negative("weight_decay", -1),
    ),
    BadInput(
        "mlbook.validate.check_non_negative",
        "weight_decay",
        "inf",
        lambda: validate.check_non_negative("weight_decay", INF),
    ),
    BadInput("mlbook.validate.check_probability", "p", "above one", lambda: validate.check_probability("p", 1.5)),
    BadInput("mlbook.validate.check_probability", "p", "None", lambda: validate.check_probability("p", None)),
    BadInput(
        "mlbook.validate.check_range", "amplitude", "reversed", lambda: validate.check_range("amplitude", (5.0, 0.1))
    ),
    BadInput("mlbook.validate.check_range", "amplitude", "a number", lambda: validate.check_range("amplitude", 5.0)),
    BadInput(
        "mlbook.validate.check_range", "amplitude", "NaN bound", lambda: validate.check_range("amplitude", (NAN, 1.0))
    ),
    BadInput("mlbook.validate.check_seed", "seed", "negative", lambda: validate.check_seed("seed", -1)),
    BadInput("mlbook.validate.check_seed", "seed", "too large", lambda: validate.check_seed("seed", 2**64)),
    BadInput(
        "mlbook.validate.check_choice",
        "norm",
        "misspelt",
        lambda: validate.check_choice("norm", "grop", ["group", "batch"]),
    ),
    BadInput(
        "mlbook.validate.check_choice", "norm", "a list", lambda: validate.check_choice("norm", ["group"], {"group": 1})
    ),
    BadInput("mlbook.validate.check_module", "model", "a string", lambda: validate.check_module("model", "conv4")),
    BadInput("mlbook.validate.check_module", "model", "the class", lambda: validate.check_module("model", nn.Linear)),
    BadInput(
        "mlbook.validate.check_callable", "loss_fn", "a string", lambda: validate.check_callable("loss_fn", "mse")
    ),
    BadInput("mlbook.validate.check_tensor", "images", "a list", lambda: validate.check_tensor("images", [1.0])),
    BadInput(
        "mlbook.validate.check_tensor", "images", "1-D", lambda: validate.check_tensor("images", torch.ones(3), ndim=4)
    ),
    BadInput(
        "mlbook.validate.check_tensor",
        "images",
        "integer",
        lambda: validate.check_tensor("images", torch.ones(3, dtype=torch.long), floating=True),
    ),
    BadInput(
        "mlbook.validate.check_tensor",
        "labels",
        "float",
        lambda: validate.check_tensor("labels", torch.ones(3), floating=False),
    ),
    BadInput(
        "mlbook.validate.check_tensor",
        "images",
        "empty",
        lambda: validate.check_tensor("images", torch.ones(0), non_empty=True),
    ),
    BadInput(
        "mlbook.validate.check_tensor",
        "images",
        "NaN",
        lambda: validate.check_tensor("images", torch.tensor([NAN]), finite=True),
    ),
    BadInput(
        "mlbook.validate.check_labels",
        "labels",
        "out of range",
        lambda: validate.check_labels("labels", torch.tensor([0, 5]), 5),
    ),
    BadInput(
        "mlbook.validate.check_labels",
        "labels",
        "negative",
        lambda: validate.check_labels("labels", torch.tensor([-1, 0])),
    ),
    BadInput(
        "mlbook.validate.check_labels",
        "labels",
        "fractional",
        lambda: validate.check_labels("labels", torch.tensor([0.5])),
    ),
    BadInput(
        "mlbook.validate.check_same_length",
        "labels",
        "mismatch",
        lambda: validate.check_same_length("x", [1, 2], "labels", [1]),
    ),
    BadInput("mlbook.validate.check_memory", "n_tasks", "too large", lambda: validate.check_memory("n_tasks", 2**80)),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_gets_a_clear_error_naming_the_argument(row):
    assert_clear(row)
