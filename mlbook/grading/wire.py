"""The data format between the trusted grader and a sandboxed submission: plain data only, nothing that runs.

A message is a JSON header plus raw binary blobs (tensor bytes), framed with lengths and read under a deadline
and a size cap (:func:`read_message`), so a submission that writes garbage, too much or nothing at all cannot
hang or crash the reader. Values are encoded as tagged JSON trees (:class:`Encoder`): numbers, strings, ``None``,
tuples, lists and dicts of them, tensors (dtype from an allow-list, shape, bytes; numpy's ``.npy`` idea without
pickles), and in the trusted-to-sandbox direction only: modules (classes under ``torch.nn``/``mlbook`` rebuilt
around the sent tensors), optimizers, generators and library functions named by their import path.

What comes back from the sandbox is decoded by :func:`decode` into tensors, Python scalars and containers and
:class:`RemoteObject` (an attribute bag standing in for whatever object the submission returned): no class is
imported and no code runs on the trusted side. Exceptions come back as their nearest built-in type and message.
"""

from __future__ import annotations

import builtins
import json
import os
import select
import struct
import time
from types import SimpleNamespace

import torch

DTYPES = {
    str(d).removeprefix("torch."): d
    for d in (
        torch.float16,
        torch.bfloat16,
        torch.float32,
        torch.float64,
        torch.complex64,
        torch.complex128,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.bool,
    )
}
TRUSTED_PREFIXES = ("torch.", "mlbook.", "math.")  # where functions and classes sent to the sandbox may come from
HEADER = struct.Struct("!II")  # JSON length, number of blobs
BLOB = struct.Struct("!Q")
MAX_JSON = 32 * 2**20
MAX_BLOBS = 1_000_000
MAX_DEPTH = 64
TEXT_LIMIT = 2000


class ProtocolError(RuntimeError):
    """The other side sent something that is not a well-formed message (or nothing in time)."""


class RemoteObject(SimpleNamespace):
    """An object returned by a submission, as plain attributes (``type_name`` says what it was)."""

    def __init__(self, type_name: str, **attrs) -> None:
        super().__init__(**attrs)
        object.__setattr__(self, "type_name", type_name)

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if k != "type_name")
        return f"{self.type_name}({fields})"


def clean_text(text, limit: int = TEXT_LIMIT) -> str:
    """Any text from a submission, safe for JSON/CSV: a str, valid UTF-8 (lone surrogates replaced), capped."""
    text = text if isinstance(text, str) else repr(text)
    text = text[: limit * 2].encode("utf-8", "replace").decode("utf-8", "replace")
    text = "".join(ch if ch.isprintable() or ch in "\n\t" else "\ufffd" for ch in text)
    return text[:limit]


# ---------------------------------------------------------------------------------------------------- framing


def write_message(fd: int, header: dict, blobs: list[bytes]) -> None:
    data = json.dumps(header).encode("utf-8")
    parts = [HEADER.pack(len(data), len(blobs)), data]
    for blob in blobs:
        parts += [BLOB.pack(len(blob)), blob]
    payload = memoryview(b"".join(parts))
    while payload:
        written = os.write(fd, payload)
        payload = payload[written:]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes:
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([fd], [], [], wait)[0]:
                raise ProtocolError("no answer in time")
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            raise ProtocolError("the other side closed the channel")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_message(fd: int, deadline: float | None = None, max_bytes: int = 2**30) -> tuple[dict, list[bytes]]:
    """One message from ``fd``; :class:`ProtocolError` when it is malformed, too large or late."""
    json_size, count = HEADER.unpack(_read_exact(fd, HEADER.size, deadline))
    if json_size > min(MAX_JSON, max_bytes) or count > MAX_BLOBS:
        raise ProtocolError(f"message too large ({json_size} bytes of header, {count} blobs)")
    try:
        header = json.loads(_read_exact(fd, json_size, deadline).decode("utf-8"))
    except (ValueError, RecursionError) as error:
        raise ProtocolError(f"malformed message header: {type(error).__name__}") from None
    if not isinstance(header, dict):
        raise ProtocolError("malformed message header: not an object")
    blobs, total = [], json_size
    for _ in range(count):
        (size,) = BLOB.unpack(_read_exact(fd, BLOB.size, deadline))
        total += size
        if total > max_bytes:
            raise ProtocolError(f"message larger than {max_bytes} bytes")
        blobs.append(_read_exact(fd, size, deadline))
    return header, blobs


# ---------------------------------------------------------------------------------------------------- encoding


def qualified_name(obj) -> str:
    return f"{getattr(obj, '__module__', None)}.{getattr(obj, '__qualname__', None)}"


class Encoder:
    """Turns values into a JSON tree plus a table of tensors (``self.tensors``, each tensor once, so that
    aliasing survives: a parameter in a module and in a dict is one tensor on the other side too)."""

    def __init__(self, *, trusted: bool) -> None:
        self.trusted = trusted  # the trusted side may also send modules, optimizers, generators, functions
        self.tensors: list[torch.Tensor] = []
        self.index: dict[int, int] = {}
        self.modules: list[torch.nn.Module] = []
        self.optimizers: list[torch.optim.Optimizer] = []
        self.generators: list[torch.Generator] = []

    def tensor_ref(self, tensor: torch.Tensor) -> int:
        if id(tensor) not in self.index:
            self.index[id(tensor)] = len(self.tensors)
            self.tensors.append(tensor)
        return self.index[id(tensor)]

    def encode(self, value, depth: int = 0):
        if depth > MAX_DEPTH:
            raise TypeError("value nested too deeply to send")
        if value is None or isinstance(value, bool | int | float | str):
            return value
        if isinstance(value, torch.Tensor):
            return {"$": "tensor", "ref": self.tensor_ref(value)}
        if isinstance(value, torch.dtype):
            return {"$": "dtype", "name": str(value).removeprefix("torch.")}
        if isinstance(value, torch.device):
            return {"$": "device", "name": str(value)}
        if isinstance(value, tuple | list):
            return {
                "$": type(value).__name__ if type(value) in (tuple, list) else "tuple",
                "items": [self.encode(v, depth + 1) for v in value],
            }
        if isinstance(value, dict):
            return {
                "$": "dict",
                "items": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()],
            }
        if isinstance(value, RemoteObject):
            return self._object(type(value).__name__, vars(value), depth)
        if type(value).__module__ == "numpy" and hasattr(value, "dtype") and value.dtype.kind in "biufc":
            return {
                "$": "ndarray",
                "ref": self.tensor_ref(torch.from_numpy(value.__array__().copy())),
                "scalar": type(value).__name__ != "ndarray",
            }
        if self.trusted:
            return self._trusted_only(value, depth)
        return self._object(type(value).__name__, getattr(value, "__dict__", {}), depth)

    def _object(self, type_name: str, attrs: dict, depth: int):
        fields = {}
        for key, item in list(attrs.items())[:256]:
            if isinstance(key, str) and not key.startswith("__"):
                try:
                    fields[key] = self.encode(item, depth + 1)
                except TypeError:
                    fields[key] = repr(type(item).__name__)
        return {"$": "object", "type": str(type_name), "attrs": fields}

    def _trusted_only(self, value, depth: int):
        import dataclasses

        if isinstance(value, torch.nn.Module):
            return self._module(value, depth)
        if isinstance(value, torch.optim.Optimizer):
            return self._optimizer(value, depth)
        if isinstance(value, torch.Generator):
            self.generators.append(value)
            return {"$": "generator", "state": self.tensor_ref(value.get_state())}
        name = qualified_name(value)
        if dataclasses.is_dataclass(value) and not isinstance(value, type) and name.startswith(TRUSTED_PREFIXES):
            fields = {f.name: self.encode(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
            return {"$": "dataclass", "cls": qualified_name(type(value)), "fields": fields}
        if callable(value) and getattr(value, "__sandbox_name__", None):
            return {"$": "submission", "name": value.__sandbox_name__}
        if callable(value) and name.startswith(TRUSTED_PREFIXES) and "<" not in name:
            return {"$": "function", "name": name}
        raise TypeError(f"cannot pass a {type(value).__name__} ({name}) to a sandboxed submission")

    def _module(self, module: torch.nn.Module, depth: int):
        cls = qualified_name(type(module))
        if not cls.startswith(TRUSTED_PREFIXES):
            raise TypeError(f"cannot pass a module of class {cls} to a sandboxed submission")
        self.modules.append(module)
        internal = set(vars(torch.nn.Module()))
        attrs = {}
        for key, item in vars(module).items():
            if key in internal or key.startswith("__"):
                continue
            attrs[key] = self.encode(item, depth + 1)
        return {
            "$": "module",
            "cls": cls,
            "training": module.training,
            "attrs": attrs,
            "params": {k: None if p is None else self.tensor_ref(p) for k, p in module._parameters.items()},
            "buffers": {k: None if b is None else self.tensor_ref(b) for k, b in module._buffers.items()},
            "children": {k: None if m is None else self.encode(m, depth + 1) for k, m in module._modules.items()},
        }

    def _optimizer(self, optimizer: torch.optim.Optimizer, depth: int):
        cls = qualified_name(type(optimizer))
        if not cls.startswith("torch.optim."):
            raise TypeError(f"cannot pass an optimizer of class {cls} to a sandboxed submission")
        self.optimizers.append(optimizer)
        groups = [
            {
                "params": [self.tensor_ref(p) for p in group["params"]],
                "hyper": {k: self.encode(v, depth + 1) for k, v in group.items() if k != "params"},
            }
            for group in optimizer.param_groups
        ]
        return {"$": "optimizer", "cls": cls, "groups": groups, "state": self.optimizer_state(optimizer, depth)}

    def optimizer_state(self, optimizer: torch.optim.Optimizer, depth: int = 0) -> list:
        return [[self.tensor_ref(p), self.encode(dict(s), depth + 1)] for p, s in optimizer.state.items()]


def tensor_entry(tensor: torch.Tensor, blobs: list[bytes], *, with_grad: bool = True) -> dict:
    """A tensor's table entry (its bytes appended to ``blobs``): dtype, shape, requires_grad, whether it is an
    ``nn.Parameter``, and its ``.grad``."""
    data = tensor.detach().cpu().contiguous()
    dtype = str(data.dtype).removeprefix("torch.")
    if dtype not in DTYPES:
        raise TypeError(f"cannot send a tensor of dtype {data.dtype}")
    blobs.append(data.view(-1).view(torch.uint8).numpy().tobytes() if data.numel() else b"")
    entry = {"dtype": dtype, "shape": list(data.shape), "blob": len(blobs) - 1, "requires_grad": tensor.requires_grad,
             "parameter": isinstance(tensor, torch.nn.Parameter)}
    grad = tensor.grad if with_grad and tensor.is_leaf else None
    if grad is not None:
        entry["grad"] = tensor_entry(grad, blobs, with_grad=False)
    return entry


def tensor_from(entry, blobs: list[bytes], max_elements: int = 2**31) -> torch.Tensor:
    """The tensor an entry describes (validated: dtype allowed, shape and byte count consistent)."""
    if not isinstance(entry, dict) or entry.get("dtype") not in DTYPES:
        raise ProtocolError("malformed tensor")
    shape, blob = entry.get("shape"), entry.get("blob")
    if not isinstance(shape, list) or len(shape) > 32 or not all(type(s) is int and s >= 0 for s in shape):
        raise ProtocolError("malformed tensor shape")
    if type(blob) is not int or not 0 <= blob < len(blobs):
        raise ProtocolError("malformed tensor data")
    dtype = DTYPES[entry["dtype"]]
    numel = 1
    for s in shape:
        numel *= s
    if numel > max_elements or len(blobs[blob]) != numel * torch.empty((), dtype=dtype).element_size():
        raise ProtocolError("tensor data does not match its shape")
    if numel == 0:
        return torch.empty(shape, dtype=dtype)
    return torch.frombuffer(bytearray(blobs[blob]), dtype=dtype).reshape(shape).clone()


def decode(tree, tensors: list[torch.Tensor], depth: int = 0):
    """A value sent by the sandbox: only tensors (from ``tensors``, the message's table), Python scalars,
    strings, containers and :class:`RemoteObject`. Anything else is a :class:`ProtocolError`."""
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if tree is None or isinstance(tree, bool | int | float | str):
        return tree
    if not isinstance(tree, dict):
        raise ProtocolError("malformed value")
    kind = tree.get("$")
    if kind == "tensor":
        ref = tree.get("ref")
        if type(ref) is not int or not 0 <= ref < len(tensors):
            raise ProtocolError("malformed tensor reference")
        return tensors[ref]
    if kind in ("tuple", "list", "dict"):
        items = tree.get("items")
        if not isinstance(items, list):
            raise ProtocolError("malformed container")
        if kind == "dict":
            if not all(isinstance(i, list) and len(i) == 2 for i in items):
                raise ProtocolError("malformed dict")
            try:
                return {decode(k, tensors, depth + 1): decode(v, tensors, depth + 1) for k, v in items}
            except TypeError:
                raise ProtocolError("unhashable dict key") from None
        values = [decode(v, tensors, depth + 1) for v in items]
        return tuple(values) if kind == "tuple" else values
    if kind == "ndarray":
        array = decode({"$": "tensor", "ref": tree.get("ref")}, tensors, depth + 1).detach().numpy()
        return array[()] if tree.get("scalar") else array
    if kind == "dtype" and tree.get("name") in DTYPES:
        return DTYPES[tree["name"]]
    if kind == "device" and tree.get("name") == "cpu":
        return torch.device("cpu")
    if kind == "object" and isinstance(tree.get("attrs"), dict):
        attrs = {
            clean_text(k, 100): decode(v, tensors, depth + 1)
            for k, v in tree["attrs"].items()
            if isinstance(k, str) and k.isidentifier() and k != "type_name"
        }
        return RemoteObject(clean_text(tree.get("type"), 100), **attrs)
    raise ProtocolError(f"unexpected value of kind {clean_text(kind, 40)!r}")


SAFE_EXCEPTIONS = {
    name: getattr(builtins, name)
    for name in (
        "ValueError",
        "TypeError",
        "RuntimeError",
        "IndexError",
        "KeyError",
        "AssertionError",
        "AttributeError",
        "NotImplementedError",
        "ZeroDivisionError",
        "ArithmeticError",
        "OverflowError",
        "NameError",
        "LookupError",
        "MemoryError",
        "RecursionError",
        "ImportError",
        "ModuleNotFoundError",
        "OSError",
        "UnboundLocalError",
    )
}


def exception_info(error: BaseException) -> dict:
    """What the sandbox reports about an exception: its nearest allowed built-in type and its message."""
    for cls in type(error).__mro__:
        if cls.__name__ in SAFE_EXCEPTIONS and cls.__module__ == "builtins":
            base = cls.__name__
            break
    else:
        base = "RuntimeError"
    try:
        message = str(error)
    except Exception:  # noqa: BLE001 - a hostile __str__
        message = "<unprintable>"
    return {"base": base, "type": type(error).__name__, "message": message[:TEXT_LIMIT]}


def rebuild_exception(info) -> BaseException:
    """The trusted side's exception for an ``exception_info`` dict (a built-in class, a cleaned message)."""
    if not isinstance(info, dict):
        return RuntimeError("the submission raised an exception")
    cls = SAFE_EXCEPTIONS.get(info.get("base")) or RuntimeError
    message = clean_text(info.get("message", ""))
    type_name = clean_text(info.get("type", ""), 100)
    if type_name and type_name != cls.__name__:
        message = f"{message} (raised as {type_name})"
    return cls(message)
