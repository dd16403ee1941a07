"""The trusted side's defences one by one, without a sandbox: what comes back from a submission is only data
(never an import, a pickle or a class of its choosing), malformed or late messages are errors not hangs,
texts are cleaned, results are validated, and the grader refuses to run without isolation unless told."""

from __future__ import annotations

import os
import threading
import time

import pytest
import torch

from mlbook.grading import grade, wire
from mlbook.grading.grade import GradingOptions, TestSuite, require_sandbox, validated
from mlbook.grading.host import Builder
from mlbook.grading.sandbox import SandboxUnavailable


def encode_decode(value):
    """``value`` sent the trusted way (Encoder) and rebuilt the sandbox way (Builder)."""
    encoder = wire.Encoder(trusted=True)
    tree = encoder.encode(value)
    blobs: list[bytes] = []
    entries = [wire.tensor_entry(tensor, blobs) for tensor in encoder.tensors]
    builder = Builder(entries, blobs, {})
    return builder.build(tree)


def test_tensors_round_trip_exactly_with_their_flags():
    x = torch.linspace(-1, 1, 6, dtype=torch.float64).view(2, 3).requires_grad_()
    x.grad = torch.ones(2, 3, dtype=torch.float64)
    back = encode_decode({"x": x, "same": x, "labels": torch.tensor([3, 1]), "n": (2, 1.5, None, "s")})
    assert torch.equal(back["x"].detach(), x.detach()) and back["x"].requires_grad
    assert torch.equal(back["x"].grad, x.grad)
    assert back["same"] is back["x"]  # aliasing survives
    assert back["labels"].dtype == torch.long and back["n"] == (2, 1.5, None, "s")


def test_modules_and_optimizers_are_rebuilt_around_the_sent_tensors():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2)).double()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.ones(1, 3, dtype=torch.float64)).sum().backward()
    optimizer.step()
    rebuilt_model, rebuilt_optimizer = encode_decode((model, optimizer))
    x = torch.linspace(0, 1, 9, dtype=torch.float64).view(3, 3)
    assert torch.equal(rebuilt_model(x), model(x))
    assert rebuilt_optimizer.param_groups[0]["params"][0] is rebuilt_model[0].weight
    state = rebuilt_optimizer.state[rebuilt_model[0].weight]
    assert torch.equal(state["exp_avg"], optimizer.state[model[0].weight]["exp_avg"])


def test_only_trusted_library_functions_cross():
    assert encode_decode(torch.nn.functional.mse_loss) is torch.nn.functional.mse_loss
    with pytest.raises(TypeError, match="cannot pass"):
        wire.Encoder(trusted=True).encode(lambda x: x)


@pytest.mark.parametrize(
    "tree",
    [
        {"$": "module", "cls": "torch.nn.Linear"},
        {"$": "function", "name": "os.system"},
        {"$": "dataclass", "cls": "subprocess.Popen", "fields": {}},
        {"$": "tensor", "ref": 7},
        {"$": "dict", "items": [[{"$": "list", "items": []}, 1]]},
        [1, 2],
    ],
)
def test_the_trusted_side_decodes_nothing_but_data(tree):
    with pytest.raises(wire.ProtocolError):
        wire.decode(tree, [])


def test_objects_come_back_as_attribute_bags():
    value = wire.decode({"$": "object", "type": "Episode", "attrs": {"n_way": 3, "__class__": 1, "x y": 2}}, [])
    assert isinstance(value, wire.RemoteObject) and value.n_way == 3 and value.type_name == "Episode"
    assert not hasattr(value, "x y")


@pytest.mark.parametrize(
    "entry",
    [
        {"dtype": "object", "shape": [1], "blob": 0},
        {"dtype": "float32", "shape": [3], "blob": 0},  # 4 bytes for 3 floats
        {"dtype": "float32", "shape": [-1], "blob": 0},
        {"dtype": "float32", "shape": [1], "blob": 5},
    ],
)
def test_malformed_tensors_are_rejected(entry):
    with pytest.raises(wire.ProtocolError):
        wire.tensor_from(entry, [b"\x00" * 4])


def test_reads_are_bounded_in_size_and_time():
    read_end, write_end = os.pipe()
    try:
        began = time.monotonic()
        with pytest.raises(wire.ProtocolError, match="in time"):
            wire.read_message(read_end, deadline=time.monotonic() + 0.2)
        assert time.monotonic() - began < 2
        os.write(write_end, wire.HEADER.pack(2**31, 0))
        with pytest.raises(wire.ProtocolError, match="too large"):
            wire.read_message(read_end, deadline=time.monotonic() + 1)
        writer = threading.Thread(target=wire.write_message, args=(write_end, {"a": 1}, [b"xyz"]))
        writer.start()
        assert wire.read_message(read_end, deadline=time.monotonic() + 5) == ({"a": 1}, [b"xyz"])
        writer.join()
    finally:
        os.close(read_end)
        os.close(write_end)


def test_texts_from_submissions_are_cleaned():
    text = wire.clean_text("bad \udcff\x00 end" + "x" * 5000)
    text.encode("utf-8")
    assert text.startswith("bad ") and "end" in text and "\udcff" not in text and "\x00" not in text
    assert len(text) == wire.TEXT_LIMIT


def test_exceptions_come_back_as_builtins_only():
    class Sneaky(ValueError):
        def __str__(self):
            raise RuntimeError("no")

    rebuilt = wire.rebuild_exception(wire.exception_info(Sneaky()))
    assert type(rebuilt) is ValueError and "Sneaky" in str(rebuilt)
    assert type(wire.rebuild_exception(wire.exception_info(SystemExit(3)))) is RuntimeError
    assert type(wire.rebuild_exception({"base": "SystemExit", "message": "x"})) is RuntimeError


def test_forged_results_are_replaced_by_zero(tmp_path):
    (tmp_path / "q1.py").write_text(
        "from otter.test_files import test_case\nOK_FORMAT = False\nname = 'q1'\npoints = None\n"
        "@test_case(points=1, hidden=False)\ndef test_a(f):\n    assert f()\n"
    )
    suite = TestSuite.from_directory(tmp_path)
    honest = {"question": "q1", "score": 1.0, "possible": 1.0, "cases": [], "error": None}
    assert validated("q1", honest, suite).score == 1.0
    for forged in ({**honest, "score": 3000.0}, {**honest, "score": -1.0}, {**honest, "question": "q2"}, "x", None):
        result = validated("q1", forged, suite)
        assert result.score == 0.0 and "invalid" in result.error


def test_without_a_sandbox_the_grader_refuses_unless_told(monkeypatch, capsys):
    from mlbook.grading.__main__ import main

    monkeypatch.setattr(grade, "_PROBED", ["no namespaces on this test machine"])
    with pytest.raises(SandboxUnavailable, match="--unsafe-no-sandbox"):
        require_sandbox(GradingOptions())
    require_sandbox(GradingOptions(isolate=False))  # the instructor's explicit choice
    monkeypatch.setattr("mlbook.grading.assign.build", lambda *a, **k: pytest.fail("must refuse before assigning"))
    assert main(["grade", "nowhere", "--set", "ch01"]) == 2
    assert "no namespaces on this test machine" in capsys.readouterr().err


def test_numpy_values_come_back_as_numpy():
    import numpy as np

    encoder = wire.Encoder(trusted=False)
    tree = encoder.encode((np.arange(6, dtype=np.float64).reshape(2, 3), np.float32(1.5), np.int64(3)))
    blobs: list[bytes] = []
    table = [wire.tensor_from(wire.tensor_entry(t, blobs), blobs) for t in encoder.tensors]
    array, single, integer = wire.decode(tree, table)
    assert isinstance(array, np.ndarray) and array.shape == (2, 3) and array[1, 2] == 5.0
    assert type(single) is np.float32 and single == 1.5 and type(integer) is np.int64 and integer == 3
    with pytest.raises(TypeError):
        wire.Encoder(trusted=True).encode(np.array([object()]))
