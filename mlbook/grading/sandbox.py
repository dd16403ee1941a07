"""An OS sandbox for one submission: Linux namespaces, a chroot of read-only binds, an unprivileged uid, rlimits.

The trusted grader never runs a submission's code in its own process. It starts the submission in a process
set up like a container (the idea of bubblewrap, with the syscalls it uses, so nothing needs installing):

- new PID, mount, network, IPC and UTS namespaces: the submission sees only its own processes (and all of
  them die with the namespace's first process), no network but an unconfigured loopback;
- a fresh tmpfs as its root holding read-only binds of the system libraries, the Python environment and the
  ``mlbook`` package, and one writable ``/tmp`` of its own: no tests, sources, other submissions or scores;
- a uid of its own (``UID_BASE`` + the supervisor's pid, unique among live sandboxes), no groups, no
  capabilities, ``no_new_privs``: it cannot signal or ptrace the grader or another submission;
- rlimits: CPU seconds, address space, processes, file size, open files, no core dumps.

A small supervisor (the sandbox's parent, outside the namespaces) kills the sandbox's first process (so the
whole namespace) as soon as the trusted side closes its control pipe or dies. Needs Linux and root (CI and
grading containers run as root); :func:`probe` says whether it works here. Reference: the namespace and
mount recipe of bubblewrap (https://github.com/containers/bubblewrap) and ``unshare(1)``.
"""

from __future__ import annotations

import ctypes
import os
import resource
import select
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = (
    0x20000,
    0x4000000,
    0x8000000,
    0x20000000,
    0x40000000,
)
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = (
    1,
    2,
    4,
    8,
    32,
    4096,
    16384,
    1 << 18,
)
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38
UID_BASE = 1_000_000
SYSTEM_DIRS = ("/usr", "/lib", "/lib64", "/bin", "/sbin", "/etc")
DEVICES = ("/dev/null", "/dev/zero", "/dev/urandom", "/dev/random")
KEPT_ENVIRONMENT = ("PATH", "LANG", "LC_ALL", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "PYTHONHASHSEED")


@dataclass(frozen=True)
class Limits:
    """Per-sandbox resource limits (each process of the sandbox; memory is address space, in bytes)."""

    cpu_seconds: int = 900
    memory_bytes: int = 6 * 2**30
    processes: int = 64
    file_bytes: int = 64 * 2**20
    open_files: int = 256
    tmp_bytes: int = 256 * 2**20

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if type(value) is not int or value <= 0:
                raise ValueError(f"Limits({name}=...) must be a positive integer, got {value!r}")


class SandboxUnavailable(RuntimeError):
    """The OS sandbox cannot be set up on this machine."""


_libc = None


def _call(name: str, *args) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    if getattr(_libc, name)(*args) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{name}{args!r}: {os.strerror(errno)}")


def die_with_parent() -> None:
    """Have the kernel SIGKILL this process when its parent dies (Linux; elsewhere nothing is done)."""
    if sys.platform.startswith("linux"):
        _call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda s: None if s is None else s.encode()  # noqa: E731
    _call("mount", encode(source), encode(target), encode(fstype), ctypes.c_ulong(flags), encode(data))


def readonly_paths() -> list[str]:
    """What a submission may read: system directories, the Python installation and environment, ``mlbook``."""
    wanted = [*SYSTEM_DIRS, sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix]
    wanted += [p for p in sys.path if p and Path(p).is_dir() and "site-packages" in p]
    wanted.append(str(Path(__file__).resolve().parents[1]))  # the mlbook package
    paths: list[str] = []
    for path in sorted({os.path.realpath(p) if not os.path.islink(p) else p for p in wanted if os.path.exists(p)}):
        if not any(path == kept or path.startswith(kept.rstrip("/") + "/") for kept in paths):
            paths.append(path)
    return paths


def _build_root(root: str, tmp_bytes: int) -> None:
    """In a fresh mount namespace: a tmpfs at ``root`` with read-only binds, devices, /proc and /tmp."""
    _mount("none", "/", None, MS_REC | MS_PRIVATE)
    _mount("tmpfs", root, "tmpfs", MS_NOSUID | MS_NODEV, f"size={tmp_bytes},mode=755")
    for path in readonly_paths():
        target = root + path
        if os.path.islink(path):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(os.readlink(path), target)
            continue
        os.makedirs(target, exist_ok=True)
        _mount(path, target, None, MS_BIND | MS_REC)
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
    os.makedirs(root + "/dev", exist_ok=True)
    for device in DEVICES:
        if os.path.exists(device):
            Path(root + device).touch()
            _mount(device, root + device, None, MS_BIND)
    os.makedirs(root + "/proc", exist_ok=True)
    _mount("proc", root + "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    os.makedirs(root + "/tmp", exist_ok=True)
    os.chmod(root + "/tmp", 0o1777)


def _set_limits(limits: Limits) -> None:
    for which, value in (
        (resource.RLIMIT_CPU, limits.cpu_seconds),
        (resource.RLIMIT_AS, limits.memory_bytes),
        (resource.RLIMIT_NPROC, limits.processes),
        (resource.RLIMIT_FSIZE, limits.file_bytes),
        (resource.RLIMIT_NOFILE, limits.open_files),
        (resource.RLIMIT_CORE, 0),
    ):
        resource.setrlimit(which, (value, value))


def _drop_privileges(uid: int) -> None:
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if os.getuid() == 0 or os.geteuid() == 0:  # pragma: no cover - setresuid raised already
        raise SandboxUnavailable("could not drop root privileges")


def _close_fds_except(keep: set[int]) -> None:
    listing = "/proc/self/fd" if os.path.isdir("/proc/self/fd") else "/dev/fd"  # Linux, else BSD and macOS
    for fd in sorted(int(name) for name in os.listdir(listing)):
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def enter(root: str, limits: Limits, uid: int) -> None:
    """Called by the sandbox's first process (already in its new PID namespace): the rest of the namespaces,
    the root, the limits, the uid. Raises if any step fails (the caller must then exit, not run anything)."""
    _call("unshare", CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
    _build_root(root, limits.tmp_bytes)
    os.chroot(root)
    os.chdir("/tmp")
    _set_limits(limits)
    _drop_privileges(uid)
    kept = {k: v for k, v in os.environ.items() if k in KEPT_ENVIRONMENT}
    os.environ.clear()  # nothing of the grader's environment (tokens, paths) reaches the submission
    os.environ.update({**kept, "HOME": "/tmp", "TMPDIR": "/tmp", "MPLBACKEND": "Agg", "MPLCONFIGDIR": "/tmp"})


def _die_with_supervisor(alive_r: int) -> None:
    """Be killed with the supervisor even if it is killed itself (the namespace's processes die with this one).
    Set after the uid change, which clears it; the pipe check covers a supervisor that died before."""
    die_with_parent()
    if select.select([alive_r], [], [], 0)[0]:
        os._exit(70)
    os.close(alive_r)


def start(run, keep_fds: list[int], control_fd: int, root: str, limits: Limits, *, isolate: bool) -> None:
    """The supervisor (never returns): start the sandbox's first process, which calls ``enter`` (when
    ``isolate``) and then ``run()``; kill it when ``control_fd`` reaches end of file (the trusted side is done
    or died) or exit when it exits."""
    os.setsid()
    die_with_parent()
    uid = UID_BASE + os.getpid()
    if isolate:
        _call("unshare", CLONE_NEWPID)
    alive_r, alive_w = os.pipe()  # end of file on alive_r: the supervisor is gone
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            _close_fds_except({*keep_fds, alive_r})
            if isolate:
                enter(root, limits, uid)
            else:
                os.setpgid(0, 0)
                _set_limits(limits)
            _die_with_supervisor(alive_r)
            run()
            code = 0
        finally:
            os._exit(code)
    os.close(alive_r)
    code = 1
    try:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                code = os.waitstatus_to_exitcode(status)
                break
            ready = select.select([control_fd], [], [], 0.2)[0]
            if ready and not os.read(control_fd, 4096):
                break
    finally:
        for target in [pid] if isolate else [-pid, pid]:  # the namespace's init: everything inside dies with it
            try:
                os.kill(target, signal.SIGKILL)
            except OSError:
                pass
        try:
            os.waitpid(pid, 0)
        except ChildProcessError:
            pass
        os._exit(code if code >= 0 else 128 - code)


PROBE = """
import importlib.util, os, sys, tempfile
spec = importlib.util.spec_from_file_location("mlbook_sandbox_probe", sys.argv[1])
sandbox = sys.modules[spec.name] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(sandbox)
root = tempfile.mkdtemp(prefix="mlbook-probe-")
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    def run():
        assert os.getuid() >= sandbox.UID_BASE and os.getpid() == 1 and not os.path.exists(root)
        open("/tmp/ok", "w").close()
    sandbox.start(run, [], r, root, sandbox.Limits(), isolate=True)
os.close(r)
_, status = os.waitpid(pid, 0)
os.rmdir(root)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def probe() -> str | None:
    """``None`` when the sandbox works on this machine, else why not (checked in a throwaway process)."""
    if not sys.platform.startswith("linux"):
        return f"the sandbox needs Linux namespaces; this is {sys.platform}"
    if os.geteuid() != 0:
        return "the sandbox needs root (to create namespaces, mount its root and switch to an unprivileged uid)"
    try:
        done = subprocess.run([sys.executable, "-c", PROBE, __file__], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"the sandbox probe failed: {error}"
    if done.returncode != 0:
        tail = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
        return f"setting up the sandbox failed here: {tail[0]}"
    return None
