"""The trusted side of a sandboxed submission: proxies that call its functions across a process boundary.

The grader's test code runs in the trusted process and sees, in place of the submission's functions,
:class:`RemoteFunction` proxies. A call sends the arguments as plain data (:mod:`mlbook.grading.wire`) to the
sandboxed host (:mod:`mlbook.grading.host`), which runs the submission's function and sends back the result
and the new values of the arguments it changed (applied here, as an in-process call would have changed them).
Results that depend on arguments requiring gradients come back through :class:`RemoteGrad`, an autograd
function whose backward asks the sandbox for the vector-Jacobian product: ``loss.backward()`` in a test fills
the ``.grad`` of the test's own tensors. The checks, the scoring and the results never leave this process.

Sandboxes are forked by a *zygote*, a process forked before any test is loaded (so a sandbox's memory holds no
test), and restarted after a timeout or a crash. Each is killed, namespace and all, when it is done.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import sys
import tempfile
import time

import torch

from mlbook.grading import sandbox, wire
from mlbook.grading.runner import OutputLimitExceeded, TestTimeout

MAX_REPLY = 256 * 2**20  # bytes one answer of a submission may take (more is a broken protocol)


class SubmissionCrashed(RuntimeError):
    """The submission's process died, was stopped, or broke the protocol."""


# ---------------------------------------------------------------------------------------------------- zygote


def _zygote_loop(sock: socket.socket) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # keep 0-2 taken, so that received pipes never land there
        os.dup2(devnull, fd)
    sandbox._close_fds_except({0, 1, 2, sock.fileno()})
    children: set[int] = set()
    while True:
        for pid in list(children):
            try:
                if os.waitpid(pid, os.WNOHANG)[0]:
                    children.discard(pid)
            except ChildProcessError:
                children.discard(pid)
        if not select.select([sock], [], [], 0.2)[0]:
            continue
        data, fds, _, _ = socket.recv_fds(sock, 1 << 16, 3)
        if not data:
            break
        spec = json.loads(data)
        pid = os.fork()
        if pid == 0:
            sock.close()
            request_r, reply_w, control_r = fds

            def run(request_r=request_r, reply_w=reply_w):
                first, _ = wire.read_message(request_r)
                from mlbook.grading import host

                host.run(request_r, reply_w, first["chunks"], first["options"])

            sandbox.start(
                run,
                [request_r, reply_w],
                control_r,
                spec["root"],
                sandbox.Limits(**spec["limits"]),
                isolate=spec["isolate"],
            )
        for fd in fds:
            os.close(fd)
        children.add(pid)
        sock.sendall(str(pid).encode())
    for pid in children:  # the supervisors exit as soon as their control pipes close
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass


class Zygote:
    """A clean process (forked before any test is read) that forks sandbox supervisors on request."""

    def __init__(self) -> None:
        parent, child = socket.socketpair()
        self.pid = os.fork()
        if self.pid == 0:
            try:
                parent.close()
                signal.signal(signal.SIGALRM, signal.SIG_IGN)
                sandbox.die_with_parent()
                _zygote_loop(child)
            finally:
                os._exit(0)
        child.close()
        self.sock = parent

    def spawn(self, fds: list[int], spec: dict) -> int:
        socket.send_fds(self.sock, [json.dumps(spec).encode()], fds)
        return int(self.sock.recv(64))

    def close(self, timeout: float = 10.0) -> None:
        self.sock.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.waitpid(self.pid, os.WNOHANG)[0]:
                return
            time.sleep(0.02)
        os.kill(self.pid, signal.SIGKILL)
        os.waitpid(self.pid, 0)


# ---------------------------------------------------------------------------------------------------- one sandbox


class Sandbox:
    """One running sandbox: request and reply pipes, and the control pipe whose closing kills it."""

    def __init__(
        self, zygote: Zygote, chunks: list[dict], options: dict, workdir: str, isolate: bool, limits: sandbox.Limits
    ) -> None:
        request_r, self.request_w = os.pipe()
        self.reply_r, reply_w = os.pipe()
        control_r, self.control_w = os.pipe()
        self.root = tempfile.mkdtemp(prefix="root-", dir=workdir)
        spec = {"root": self.root, "isolate": isolate, "limits": vars(limits)}
        try:
            self.pid = zygote.spawn([request_r, reply_w, control_r], spec)
        finally:
            for fd in (request_r, reply_w, control_r):
                os.close(fd)
        self.alive = True
        wire.write_message(self.request_w, {"chunks": chunks, "options": options}, [])

    def request(self, header: dict, blobs: list[bytes], deadline: float | None = None) -> tuple[dict, list[bytes]]:
        wire.write_message(self.request_w, header, blobs)
        return wire.read_message(self.reply_r, deadline, max_bytes=MAX_REPLY)

    def close(self) -> None:
        if not self.alive:
            return
        self.alive = False
        for fd in (self.control_w, self.request_w, self.reply_r):
            try:
                os.close(fd)
            except OSError:
                pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _running(self.pid):  # the supervisor kills the namespace, exits
            time.sleep(0.01)
        try:
            os.rmdir(self.root)
        except OSError:
            pass


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[-1].split()[0] != "Z"
    except (OSError, IndexError):
        return False


# ---------------------------------------------------------------------------------------------------- autograd


class RemoteGrad(torch.autograd.Function):
    """Links a remote call's outputs to the trusted inputs that require gradients; backward asks the sandbox."""

    @staticmethod
    def forward(ctx, client, key, values, *inputs):
        ctx.client, ctx.key = client, key
        ctx.inputs = [(tuple(t.shape), t.dtype) for t in inputs]
        ctx.set_materialize_grads(False)
        return tuple(values)

    @staticmethod
    def backward(ctx, *grads):
        return (None, None, None, *ctx.client.backward(ctx.key, grads, ctx.inputs))


# ---------------------------------------------------------------------------------------------------- the client


class RemoteFunction:
    """Stands for the submission's function ``name``: calling it calls it in the sandbox."""

    def __init__(self, client: RemoteSubmission, name: str) -> None:
        self.client, self.__name__, self.__sandbox_name__ = client, name, name

    def __call__(self, *args, **kwargs):
        return self.client.call(self.__name__, args, kwargs)

    def __repr__(self) -> str:
        return f"<submission function {self.__name__}>"


class RemoteSubmission:
    """A submission loaded in a sandbox (restarted after a timeout or crash); ``namespace()`` has its proxies."""

    def __init__(
        self,
        chunks: list[dict],
        options: dict,
        workdir: str,
        *,
        isolate: bool = True,
        limits: sandbox.Limits | None = None,
        zygote: Zygote | None = None,
    ) -> None:
        self.chunks, self.options, self.workdir, self.isolate = chunks, options, workdir, isolate
        self.limits = limits or sandbox.Limits()
        self.zygote = zygote or Zygote()
        self.current: Sandbox | None = None
        self.generation = 0
        self.names: list[str] = []
        self.incidents: list[str] = []
        self.sent_rng: torch.Tensor | None = None

    # -- lifecycle

    def start(self) -> list[str]:
        """Start a sandbox and load the definitions; returns the loading errors. Raises SubmissionCrashed."""
        self.stop()
        self.generation += 1
        self.sent_rng = None
        self.current = Sandbox(self.zygote, self.chunks, self.options, self.workdir, self.isolate, self.limits)
        load = self.options.get("load_timeout")
        deadline = None if load is None else time.monotonic() + load + 30.0
        try:
            loaded, _ = wire.read_message(self.current.reply_r, deadline, max_bytes=2**24)
        except BaseException as error:
            self.stop()
            if isinstance(error, wire.ProtocolError):
                raise SubmissionCrashed(f"the submission did not load: {error}") from None
            raise
        names, errors = loaded.get("names"), loaded.get("errors")
        if loaded.get("event") != "loaded" or not isinstance(names, list) or not isinstance(errors, list):
            self.stop()
            raise SubmissionCrashed("the submission did not load: malformed answer")
        self.names = [wire.clean_text(n, 200) for n in names if isinstance(n, str) and n.isidentifier()]
        return [wire.clean_text(e, 500) for e in errors]

    def stop(self) -> None:
        current, self.current = self.current, None
        if current is not None:
            current.close()

    def close(self) -> None:
        self.stop()
        self.zygote.close()

    def namespace(self) -> dict:
        return {name: RemoteFunction(self, name) for name in self.names}

    def _failed(self, error: BaseException) -> BaseException:
        self.stop()
        if isinstance(error, TestTimeout):
            self.incidents.append(f"{error} (the submission's process was stopped)")
            return error
        if isinstance(error, wire.ProtocolError | OSError):
            message = f"the submission's process died or broke the grading protocol ({error})"
            self.incidents.append(message)
            return SubmissionCrashed(message)
        self.incidents.append(f"the grader stopped the submission's process ({type(error).__name__})")
        return error

    def _exchange(self, header: dict, blobs: list[bytes]) -> tuple[dict, list[bytes]]:
        if self.current is None:
            self.start()
        try:
            return self.current.request(header, blobs)
        except BaseException as error:  # noqa: BLE001 - a timeout, a crash: the sandbox is not reused
            raise self._failed(error) from None

    # -- calls

    def call(self, name: str, args: tuple, kwargs: dict):
        encoder = wire.Encoder(trusted=True)
        tree = {"args": encoder.encode(list(args)), "kwargs": encoder.encode(dict(kwargs))}
        internal = _generator_refs(tree)  # generator states: applied to the generators, not copied into tensors
        rng = torch.get_rng_state()
        rng_ref = None
        if self.sent_rng is None or not torch.equal(rng, self.sent_rng):
            rng_ref = encoder.tensor_ref(rng)
            internal.add(rng_ref)
        blobs: list[bytes] = []
        entries = [wire.tensor_entry(tensor, blobs) for tensor in encoder.tensors]
        header = {
            "op": "call",
            "name": name,
            **tree,
            "rng": rng_ref,
            "tensors": entries,
            "grad": torch.is_grad_enabled(),
        }
        generation = self.generation
        reply, reply_blobs = self._exchange(header, blobs)
        if rng_ref is not None:
            self.sent_rng = rng
        try:
            return self._answer(reply, reply_blobs, encoder, internal, generation)
        except wire.ProtocolError as error:
            raise self._failed(error) from None

    def _answer(self, reply: dict, blobs: list[bytes], encoder: wire.Encoder, internal: set[int], generation: int):
        entries = reply.get("tensors")
        if not isinstance(entries, list):
            raise wire.ProtocolError("malformed reply")
        table = [wire.tensor_from(e, blobs) for e in entries]
        grads = [wire.tensor_from(e["grad"], blobs) if isinstance(e, dict) and "grad" in e else None for e in entries]
        printed = reply.get("printed", "")
        if isinstance(printed, str) and printed:
            sys.stdout.write(printed)
        if reply.get("flooded"):
            raise OutputLimitExceeded("the submission printed more than the output limit")
        self._apply_changes(reply, table, grads, encoder, internal)
        if "raised" in reply:
            raise wire.rebuild_exception(reply["raised"])
        if "value" not in reply:
            raise wire.ProtocolError("reply without a value")
        outputs = reply.get("grad_outputs", [])
        if not isinstance(outputs, list) or not all(type(i) is int and 0 <= i < len(table) for i in outputs):
            raise wire.ProtocolError("malformed gradient outputs")
        outputs = [i for i in dict.fromkeys(outputs) if table[i].is_floating_point() or table[i].is_complex()]
        inputs = [t for i, t in enumerate(encoder.tensors) if i not in internal and t.requires_grad]
        if outputs and inputs and torch.is_grad_enabled():
            key = (generation, reply.get("call"))
            linked = RemoteGrad.apply(self, key, [table[i] for i in outputs], *inputs)
            for i, tensor in zip(outputs, linked, strict=True):
                table[i] = tensor
        elif outputs and torch.is_grad_enabled():
            for i in outputs:
                table[i].requires_grad_()
        return wire.decode(reply["value"], table)

    def _apply_changes(self, reply, table, grads, encoder: wire.Encoder, internal: set[int]) -> None:
        """What the call did to its arguments, done to the trusted side's objects (after validating it)."""
        changed = reply.get("changed", [])
        if not isinstance(changed, list):
            raise wire.ProtocolError("malformed changes")
        for item in changed:
            if not (isinstance(item, list) and len(item) == 2 and all(type(i) is int for i in item)):
                raise wire.ProtocolError("malformed change")
            index, ref = item
            if not (0 <= index < len(encoder.tensors) and 0 <= ref < len(table)) or index in internal:
                continue
            target, new, grad = encoder.tensors[index], table[ref], grads[ref]
            if new.shape == target.shape and new.dtype == target.dtype:
                with torch.no_grad():
                    target.copy_(new)
            if target.is_leaf and (grad is None or (grad.shape == target.shape and grad.dtype == target.dtype)):
                target.grad = grad
        states = reply.get("optimizers", [])
        if isinstance(states, list):
            for optimizer, state in zip(encoder.optimizers, states, strict=False):
                for item in state if isinstance(state, list) else []:
                    if isinstance(item, list) and len(item) == 2 and type(item[0]) is int:
                        if 0 <= item[0] < len(encoder.tensors) and item[0] not in internal:
                            value = wire.decode(item[1], table)
                            if isinstance(value, dict):
                                optimizer.state[encoder.tensors[item[0]]] = value
        states = reply.get("generators", [])
        for generator, ref in zip(encoder.generators, states if isinstance(states, list) else [], strict=False):
            if type(ref) is int and 0 <= ref < len(table):
                state = table[ref]
                if state.dtype == torch.uint8 and state.shape == generator.get_state().shape:
                    generator.set_state(state)
        flags = reply.get("training", [])
        for module, module_flags in zip(encoder.modules, flags if isinstance(flags, list) else [], strict=False):
            for m, flag in zip(module.modules(), module_flags if isinstance(module_flags, list) else [], strict=False):
                m.training = bool(flag)

    def backward(self, key, grads, inputs: list[tuple]) -> list:
        if key[0] != self.generation or self.current is None:
            raise SubmissionCrashed("the submission's process is gone, and the autograd graph of its result with it")
        blobs: list[bytes] = []
        entries = [None if g is None else wire.tensor_entry(g, blobs, with_grad=False) for g in grads]
        reply, reply_blobs = self._exchange({"op": "backward", "call": key[1], "grads": entries}, blobs)
        try:
            if "raised" in reply:
                raise wire.rebuild_exception(reply["raised"])
            got = reply.get("grads")
            if not isinstance(got, list) or len(got) != len(inputs):
                raise wire.ProtocolError("malformed gradients")
            result = []
            for entry, (shape, dtype) in zip(got, inputs, strict=True):
                grad = None if entry is None else wire.tensor_from(entry, reply_blobs)
                if grad is not None and tuple(grad.shape) != shape:
                    raise wire.ProtocolError("gradient of the wrong shape")
                result.append(None if grad is None else grad.to(dtype))
            return result
        except wire.ProtocolError as error:
            raise self._failed(error) from None


def _generator_refs(tree) -> set[int]:
    """The tensor references of generator states in an encoded tree (internal: applied to the generators)."""
    found: set[int] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("$") == "generator":
                found.add(node["state"])
            stack += list(node.values())
        elif isinstance(node, list):
            stack += node
    return found
