"""The sandboxed side of grading: loads one submission's definitions and answers calls to its functions.

Runs inside the OS sandbox (:mod:`mlbook.grading.sandbox`) and talks to the trusted grader through two pipes
in the format of :mod:`mlbook.grading.wire`. It never sees a test: it receives ``call`` requests (a function
name, arguments as plain data, modules and optimizers rebuilt around the sent tensors), runs the function,
and answers with the result as plain data, what the call printed, and the new values of every argument the
call changed (tensors, gradients, optimizer state, generator states, train/eval flags). Results that carry an
autograd graph keep it here; a ``backward`` request returns vector-Jacobian products through it, so the
trusted side's ``loss.backward()`` reaches its own tensors. Everything the submission can do stays in here:
its answers are only data, checked by the trusted test code.
"""

from __future__ import annotations

import builtins
import dataclasses
import importlib
from collections import OrderedDict
from types import SimpleNamespace

import torch

from mlbook.grading import wire
from mlbook.grading.runner import OutputLimitExceeded, capped_output, time_limit

KEPT_GRAPHS = 64  # results with an autograd graph kept for backward requests (oldest dropped first)


def load_definitions(chunks: list[dict], timeout: float | None, output_limit: int | None) -> tuple[dict, list[str]]:
    """Execute the kept statements one by one in a fresh namespace; a failing one is noted and skipped."""
    env: dict = {"__name__": "__submission__", "__builtins__": builtins}
    errors = []
    for chunk in chunks:
        code = "\n" * (chunk["line"] - 1) + chunk["code"]
        try:
            with capped_output(output_limit), time_limit(timeout):
                exec(compile(code, f"<submission code cell {chunk['cell']}>", "exec"), env)  # noqa: S102 - grading runs submissions
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001
            first_line = chunk["code"].strip().splitlines()[0] if chunk["code"].strip() else ""
            errors.append(
                f"code cell {chunk['cell']}: `{first_line[:80]}` raised {type(error).__name__}: {str(error)[:300]}"
            )
    return env, errors


def import_path(name: str):
    """The object at a dotted path under the trusted prefixes (``torch.nn.modules.linear.Linear``)."""
    if not isinstance(name, str) or not name.startswith(wire.TRUSTED_PREFIXES):
        raise TypeError(f"not an allowed import path: {name!r}")
    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr)
        return obj
    raise TypeError(f"cannot import {name!r}")


class Builder:
    """Rebuilds the trusted side's arguments from a request: tensors (leaves, or parameters), modules,
    optimizers, generators, dataclasses, library functions and the submission's own functions."""

    def __init__(self, entries: list, blobs: list[bytes], env: dict) -> None:
        self.env = env
        self.tensors = []
        for entry in entries:
            tensor = wire.tensor_from(entry, blobs)
            if entry.get("parameter"):
                tensor = torch.nn.Parameter(tensor, requires_grad=bool(entry.get("requires_grad")))
            elif entry.get("requires_grad"):
                tensor.requires_grad_()
            if "grad" in entry:
                tensor.grad = wire.tensor_from(entry["grad"], blobs)
            self.tensors.append(tensor)
        self.modules: list[torch.nn.Module] = []
        self.optimizers: list[tuple[torch.optim.Optimizer, dict]] = []
        self.generators: list[torch.Generator] = []

    def build(self, tree):
        if tree is None or isinstance(tree, bool | int | float | str):
            return tree
        kind = tree["$"]
        if kind == "tensor":
            return self.tensors[tree["ref"]]
        if kind in ("tuple", "list"):
            items = [self.build(v) for v in tree["items"]]
            return tuple(items) if kind == "tuple" else items
        if kind == "dict":
            return {self.build(k): self.build(v) for k, v in tree["items"]}
        if kind == "ndarray":
            array = self.tensors[tree["ref"]].detach().numpy()
            return array[()] if tree.get("scalar") else array
        if kind == "dtype":
            return wire.DTYPES[tree["name"]]
        if kind == "device":
            return torch.device(tree["name"])
        if kind == "function":
            return import_path(tree["name"])
        if kind == "submission":
            return self.env[tree["name"]]
        if kind == "generator":
            generator = torch.Generator()
            generator.set_state(self.tensors[tree["state"]])
            self.generators.append(generator)
            return generator
        if kind == "dataclass":
            cls = import_path(tree["cls"])
            if not dataclasses.is_dataclass(cls):
                raise TypeError(f"{tree['cls']} is not a dataclass")
            return cls(**{k: self.build(v) for k, v in tree["fields"].items()})
        if kind == "module":
            return self.module(tree)
        if kind == "optimizer":
            return self.optimizer(tree)
        if kind == "object":
            return SimpleNamespace(**{k: self.build(v) for k, v in tree["attrs"].items()})
        raise TypeError(f"unknown kind {kind!r}")

    def module(self, tree) -> torch.nn.Module:
        cls = import_path(tree["cls"])
        if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module)):
            raise TypeError(f"{tree['cls']} is not a torch.nn.Module")
        module = cls.__new__(cls)
        torch.nn.Module.__init__(module)
        self.modules.append(module)
        for key, value in tree["attrs"].items():
            module.__dict__[key] = self.build(value)
        for key, ref in tree["params"].items():
            module._parameters[key] = None if ref is None else self.tensors[ref]
        for key, ref in tree["buffers"].items():
            module._buffers[key] = None if ref is None else self.tensors[ref]
        for key, child in tree["children"].items():
            module._modules[key] = None if child is None else self.build(child)
        module.training = bool(tree["training"])
        return module

    def optimizer(self, tree) -> torch.optim.Optimizer:
        cls = import_path(tree["cls"])
        if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
            raise TypeError(f"{tree['cls']} is not a torch.optim.Optimizer")
        groups = [
            {"params": [self.tensors[r] for r in g["params"]], **{k: self.build(v) for k, v in g["hyper"].items()}}
            for g in tree["groups"]
        ]
        optimizer = cls(groups)
        for ref, state in tree["state"]:
            optimizer.state[self.tensors[ref]] = self.build(state)
        self.optimizers.append((optimizer, {id(t): i for i, t in enumerate(self.tensors)}))
        return optimizer


class Host:
    """Serves requests on ``fd_in`` / ``fd_out`` for the namespace ``env``."""

    def __init__(self, env: dict, fd_in: int, fd_out: int, output_limit: int | None) -> None:
        self.env, self.fd_in, self.fd_out, self.output_limit = env, fd_in, fd_out, output_limit
        self.graphs: OrderedDict[int, tuple[list, list]] = OrderedDict()
        self.calls = 0

    def send(self, header: dict, blobs: list[bytes] | None = None) -> None:
        wire.write_message(self.fd_out, header, blobs or [])

    def serve(self) -> None:
        while True:
            request, blobs = wire.read_message(self.fd_in)
            op = request.get("op")
            if op == "call":
                self.send(*self.call(request, blobs))
            elif op == "backward":
                self.send(*self.backward(request, blobs))
            elif op == "exit":
                return

    def call(self, request: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        self.calls += 1
        call_id = self.calls
        builder = Builder(request["tensors"], blobs, self.env)
        if request.get("rng") is not None:
            torch.set_rng_state(builder.tensors[request["rng"]])
        before = [(t.detach().clone(), t.grad) for t in builder.tensors]
        reply: dict = {"call": call_id}
        printed = ""
        try:
            function = self.env.get(request["name"])
            if not callable(function):
                raise NameError(f"name {request['name']!r} is not defined")
            args = builder.build(request["args"])
            kwargs = builder.build(request["kwargs"])
            with capped_output(self.output_limit) as stream, torch.set_grad_enabled(bool(request.get("grad", True))):
                try:
                    value = function(*args, **kwargs)
                finally:
                    printed = stream.getvalue() if stream is not None else ""
        except OutputLimitExceeded:
            reply["flooded"] = True
        except BaseException as error:  # noqa: BLE001 - whatever the submission raises is its answer
            reply["raised"] = wire.exception_info(error)
        else:
            reply["value"] = value
        reply["printed"] = printed
        return self.encode_reply(reply, builder, before, call_id)

    def encode_reply(self, reply: dict, builder: Builder, before: list, call_id: int) -> tuple[dict, list[bytes]]:
        encoder = wire.Encoder(trusted=False)
        header = {k: v for k, v in reply.items() if k != "value"}
        try:
            if "value" in reply:
                header["value"] = encoder.encode(reply["value"])
            in_value = len(encoder.tensors)
            changed = []
            for i, (tensor, (data, grad)) in enumerate(zip(builder.tensors, before, strict=True)):
                same_data = (
                    tensor.shape == data.shape and tensor.dtype == data.dtype and torch.equal(tensor.detach(), data)
                )
                if not same_data or tensor.grad is not grad:
                    changed.append([i, encoder.tensor_ref(tensor)])
            header["changed"] = changed
            header["optimizers"] = [
                [[index[id(p)], encoder.encode(dict(s))] for p, s in optimizer.state.items() if id(p) in index]
                for optimizer, index in builder.optimizers
            ]
            header["generators"] = [encoder.tensor_ref(g.get_state()) for g in builder.generators]
            header["training"] = [[m.training for m in module.modules()] for module in builder.modules]
            blobs: list[bytes] = []
            header["tensors"] = [wire.tensor_entry(t, blobs) for t in encoder.tensors]
        except Exception as error:  # noqa: BLE001 - a result that cannot be sent is the submission's problem
            info = wire.exception_info(error)
            info["message"] = f"the function's result could not be sent back to the grader: {info['message']}"
            return {"call": call_id, "raised": info, "printed": reply.get("printed", ""), "tensors": []}, []
        inputs = [t for t in builder.tensors if t.requires_grad]
        header["grad_outputs"] = [i for i, t in enumerate(encoder.tensors[:in_value]) if t.requires_grad]
        if header["grad_outputs"] and inputs:
            self.graphs[call_id] = ([encoder.tensors[i] for i in header["grad_outputs"]], inputs)
            while len(self.graphs) > KEPT_GRAPHS:
                self.graphs.popitem(last=False)
        return header, blobs

    def backward(self, request: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        graph = self.graphs.get(request.get("call"))
        if graph is None:
            return {"raised": {"base": "RuntimeError", "type": "RuntimeError", "message": "graph no longer kept"}}, []
        outputs, inputs = graph
        grads_in = [None if e is None else wire.tensor_from(e, blobs) for e in request["grads"]]
        pairs = [(o, g) for o, g in zip(outputs, grads_in, strict=True) if g is not None]
        try:
            grads = torch.autograd.grad(
                [o for o, _ in pairs], inputs, [g for _, g in pairs], retain_graph=True, allow_unused=True
            )
            out_blobs: list[bytes] = []
            entries = [None if g is None else wire.tensor_entry(g, out_blobs, with_grad=False) for g in grads]
        except BaseException as error:  # noqa: BLE001
            return {"raised": wire.exception_info(error)}, []
        return {"grads": entries}, out_blobs


def run(fd_in: int, fd_out: int, chunks: list[dict], options: dict) -> None:
    """The sandbox's main: load the definitions, report them, then serve until told to exit."""
    import os
    import sys

    torch.set_num_threads(int(options.get("threads", 1)))
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    sys.stdin = open(os.devnull)  # noqa: SIM115
    sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
    env, errors = load_definitions(chunks, options.get("load_timeout"), options.get("output_limit"))
    names = sorted(k for k, v in env.items() if callable(v) and not k.startswith("_") and isinstance(k, str))
    wire.write_message(fd_out, {"event": "loaded", "errors": errors, "names": names}, [])
    Host(env, fd_in, fd_out, options.get("output_limit")).serve()
