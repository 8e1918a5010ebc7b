"""One confined IPython kernel: start it, run a student's cells, call a student's function, stop it.

The kernel is launched through :mod:`gradeguard.sandbox` and talks to the grader over
``ipc`` sockets in its work folder (it has no network). Everything it sends back is
bounded: cell outputs by a byte budget per notebook (and only safe MIME types are
kept: text, PNG, JPEG), call replies by :data:`gradeguard.wire.MAX_REPLY_BYTES`, and
time by a timeout per cell or call and a wall-clock deadline per notebook.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import cloudpickle
import zmq
from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpec

from . import sandbox, wire

AGENT = (Path(__file__).with_name("agent.py")).read_text()
SAFE_MIME = ("text/plain", "image/png", "image/jpeg")
KERNEL_PROCESSES = 3   # unshare, the namespace's init, the kernel


class KernelFailure(RuntimeError):
    """The kernel cannot answer any more (it died, or the notebook's time is up)."""


class CallTimeout(TimeoutError):
    pass


@dataclasses.dataclass
class Settings:
    """How a submission's kernel is confined and bounded (see the instructor guide's security model)."""

    mode: str = "root"                  # 'root', 'userns' or 'none' (unconfined: only when asked for)
    limits: sandbox.Limits = dataclasses.field(default_factory=sandbox.Limits)
    cell_timeout: float = 60.0          # seconds per student cell and per function call
    notebook_timeout: float = 300.0     # wall-clock seconds for the whole notebook
    max_output_bytes: int = 1 << 20     # student outputs kept per notebook
    startup_timeout: float = 60.0


def kernel_env(work: Path) -> dict[str, str]:
    """A small, fixed environment: nothing of the grader's (tokens, paths) reaches the student's code."""
    env = {
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), "/usr/local/bin", "/usr/bin", "/bin"]),
        "HOME": str(work), "IPYTHONDIR": str(work / ".ipython"), "MPLCONFIGDIR": str(work / ".matplotlib"),
        "JUPYTER_CONFIG_DIR": str(work / ".jupyter"), "JUPYTER_DATA_DIR": str(work / ".jupyter-data"),
        "JUPYTER_RUNTIME_DIR": str(work / ".jupyter-runtime"),
        "MPLBACKEND": "Agg", "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
        "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1", "LANG": "C.UTF-8",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1", "SCIKIT_LEARN_DATA": str(work / ".sklearn"),
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):   # machine facts some OpenBLAS builds need
        if key in os.environ:
            env[key] = os.environ[key]
    return env


class _Manager(KernelManager):
    """A KernelManager whose command is ours (the sandbox around ipykernel) and which interrupts by message."""

    argv: list[str] = []

    @property
    def kernel_spec(self):
        return KernelSpec(argv=self.argv, display_name="confined", language="python", interrupt_mode="message")

    def format_kernel_cmd(self, extra_arguments=None):
        return [a.replace("{connection_file}", self.connection_file) for a in self.argv]


class ConfinedKernel:
    """A kernel for one notebook; use as a context manager."""

    def __init__(self, settings: Settings, name: str | None = None):
        self.settings = settings
        self.name = name or f"k{uuid.uuid4().hex[:12]}"
        self.deadline = time.monotonic() + settings.notebook_timeout
        self.output_bytes = 0
        self.truncated = False
        self.events: list[str] = []          # what happened that an instructor should know
        self.dead = ""
        self._agent = False

    # ------------------------------------------------------------------ life cycle
    def __enter__(self) -> "ConfinedKernel":
        s = self.settings
        self.base = Path(tempfile.mkdtemp(prefix="gradeguard-"))
        self.work = self.base / "work"
        root_mount = self.base / "root"
        self.work.mkdir()
        root_mount.mkdir()
        self._mounted = False
        uid = s.limits.uid if s.mode == "root" else os.getuid()
        if s.mode == "root":   # a size-limited work folder that only the kernel's user can write
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={s.limits.tmp_bytes},mode=0700,uid={uid},gid={uid}",
                            "tmpfs", str(self.work)], check=True, capture_output=True)
            self._mounted = True
        kernel = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                  "--HistoryManager.hist_file=:memory:", "--IPKernelApp.parent_handle=0"]
        km = _Manager(transport="ipc", ip=str(self.work / "ipc"), connection_file=str(self.work / "kernel.json"))
        km.argv = kernel if s.mode == "none" else sandbox.command(
            self.work, root_mount, kernel, s.mode, s.limits, cgroup=self.name if s.mode == "root" else "")
        km.write_connection_file()
        if s.mode == "root":
            os.chown(km.connection_file, uid, uid)
        # The kernel's own stdout and stderr (not its cell outputs) go to a file it cannot grow past
        # its file-size limit, never into the grader's pipes.
        self._log = open(self.base / "kernel.log", "wb")
        km.start_kernel(env=kernel_env(self.work), cwd=str(self.work), stdout=self._log, stderr=self._log,
                        stdin=subprocess.DEVNULL)
        self.km = km
        # Every socket to the kernel: no message over 16 MB (the connection is dropped), at most
        # 64 queued, so a kernel cannot flood the grader's memory.
        km.context.setsockopt(zmq.MAXMSGSIZE, wire.MAX_REPLY_BYTES * 2)
        km.context.setsockopt(zmq.RCVHWM, 64)
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=s.startup_timeout)
        except RuntimeError as exc:
            log = (self.base / "kernel.log").read_bytes()[-2000:].decode(errors="replace")
            self.__exit__(None, None, None)
            raise KernelFailure(f"the confined kernel did not start: {exc}\n{log}") from None
        self.kc = kc
        self.deadline = time.monotonic() + s.notebook_timeout   # the clock starts when the kernel is ready
        return self

    def __exit__(self, *exc) -> None:
        if self.settings.mode == "root" and not self.dead:
            extra = sandbox.cgroup_process_count(self.name) - KERNEL_PROCESSES
            if extra > 0:
                self.events.append(f"left {extra} process{'es' if extra > 1 else ''} running; killed with the kernel")
        kc = getattr(self, "kc", None)
        if kc is not None:
            kc.stop_channels()
        km = getattr(self, "km", None)
        if km is not None:
            try:
                km.shutdown_kernel(now=True)
            except Exception:  # noqa: BLE001  (a dead kernel is fine here)
                pass
        if self.settings.mode == "root":
            hits = sandbox.cgroup_events(self.name)
            if hits["memory"]:
                self.events.append(f"hit the memory limit ({self.settings.limits.memory_bytes >> 20} MiB)")
            if hits["pids"]:
                self.events.append(f"hit the process limit ({self.settings.limits.max_processes})")
            if sandbox.kill_cgroup(self.name):
                self.events.append("processes survived the kernel; they were killed")
        if getattr(self, "_log", None) is not None:
            self._log.close()
        if getattr(self, "_mounted", False):
            subprocess.run(["umount", "-l", str(self.work)], capture_output=True)
        shutil.rmtree(self.base, ignore_errors=True)

    # ------------------------------------------------------------------ messages
    def _remaining(self, timeout: float) -> float:
        return min(timeout, self.deadline - time.monotonic())

    def _messages(self, msg_id: str, timeout: float):
        """Yield the iopub messages of one request until the kernel is idle; raise on timeout or death."""
        end = time.monotonic() + self._remaining(timeout)
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise CallTimeout()
            try:
                msg = self.kc.get_iopub_msg(timeout=min(left, 1.0))
            except queue.Empty:
                if not self.km.is_alive():
                    raise KernelFailure("the kernel died") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                return
            yield msg

    def _after_timeout(self, what: str) -> None:
        """Interrupt a request that ran too long; a kernel that does not come back is declared dead."""
        if time.monotonic() >= self.deadline:
            self.kill(f"the notebook ran past its time limit ({self.settings.notebook_timeout:.0f} s)")
            return
        self.km.interrupt_kernel()
        msg_id = self.kc.execute("pass", store_history=False)
        try:
            for _ in self._messages(msg_id, 10.0):
                pass
        except (CallTimeout, KernelFailure):
            self.kill(f"{what} did not stop when interrupted")

    def kill(self, why: str) -> None:
        self.dead = self.dead or why
        self.events.append(why)
        try:
            self.km.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001
            pass

    def _check_alive(self) -> None:
        if self.dead:
            raise KernelFailure(self.dead)
        if time.monotonic() >= self.deadline:
            self.kill(f"the notebook ran past its time limit ({self.settings.notebook_timeout:.0f} s)")
            raise KernelFailure(self.dead)

    # ------------------------------------------------------------------ student cells
    def _keep(self, output: dict) -> dict | None:
        """Apply the output budget and the MIME allow-list to one output; None drops it."""
        if self.truncated:
            return None
        if output["output_type"] in ("display_data", "execute_result"):
            output["data"] = {k: v for k, v in output.get("data", {}).items() if k in SAFE_MIME}
            output["metadata"] = {}
            if not output["data"]:
                return None
        size = len(str(output))
        if self.output_bytes + size > self.settings.max_output_bytes:
            self.truncated = True
            self.events.append(f"printed more than {self.settings.max_output_bytes} bytes; the rest was dropped")
            return {"output_type": "stream", "name": "stdout",
                    "text": f"\n[output cut: more than {self.settings.max_output_bytes} bytes in this notebook]\n"}
        self.output_bytes += size
        return output

    def run_cell(self, source: str) -> list[dict]:
        """Execute one student cell; return its outputs (as nbformat dicts), bounded and filtered."""
        self._check_alive()
        msg_id = self.kc.execute(source, store_history=True, allow_stdin=False, stop_on_error=False)
        outputs: list[dict] = []
        try:
            for msg in self._messages(msg_id, self.settings.cell_timeout):
                kind, content = msg["msg_type"], msg["content"]
                if kind == "clear_output":
                    outputs.clear()
                    continue
                if kind == "stream":
                    out = {"output_type": "stream", "name": content.get("name", "stdout"),
                           "text": str(content.get("text", ""))}
                elif kind in ("display_data", "execute_result"):
                    out = {"output_type": kind, "data": dict(content.get("data", {})), "metadata": {}}
                    if kind == "execute_result":
                        out["execution_count"] = content.get("execution_count")
                elif kind == "error":
                    out = {"output_type": "error", "ename": str(content.get("ename", "Error"))[:200],
                           "evalue": str(content.get("evalue", ""))[:2000],
                           "traceback": [str(t)[:2000] for t in content.get("traceback", [])[:50]]}
                else:
                    continue
                kept = self._keep(out)
                if kept is None:
                    continue
                if (kept["output_type"] == "stream" and outputs and outputs[-1]["output_type"] == "stream"
                        and outputs[-1]["name"] == kept["name"]):
                    outputs[-1]["text"] += kept["text"]
                else:
                    outputs.append(kept)
        except CallTimeout:
            self._after_timeout("a cell")
            outputs.append({"output_type": "error", "ename": "CellTimeoutError",
                            "evalue": f"the cell ran longer than {self.settings.cell_timeout:.0f} s",
                            "traceback": []})
        except KernelFailure as exc:
            self.dead = self.dead or str(exc)
            outputs.append({"output_type": "error", "ename": "KernelDied", "evalue": self.dead, "traceback": []})
        return outputs

    # ------------------------------------------------------------------ function calls
    def call(self, name: str, args: tuple, kwargs: dict) -> dict:
        """Run the student's `name(*args, **kwargs)` in the kernel; return the decoded reply (see wire)."""
        self._check_alive()
        if not self._agent:
            self._quiet(AGENT)
            self._agent = True
        payload = base64.b64encode(cloudpickle.dumps((name, args, kwargs))).decode("ascii")
        msg_id = self.kc.execute(f"__gradeguard_call__({payload!r})", store_history=False, allow_stdin=False,
                                 stop_on_error=False)
        reply = None
        try:
            for msg in self._messages(msg_id, self.settings.cell_timeout):
                if reply is None and msg["msg_type"] == "display_data":
                    data = msg["content"].get("data", {})
                    if wire.MIME in data:
                        reply = data[wire.MIME]
        except CallTimeout:
            self._after_timeout(f"{name}()")
            raise
        except KernelFailure as exc:
            self.dead = self.dead or str(exc)
            raise KernelFailure(self.dead) from None
        if reply is None:
            raise wire.NotData("no answer (the call was intercepted or the function could not be reached)")
        return wire.parse_reply(reply)

    def _quiet(self, source: str) -> None:
        msg_id = self.kc.execute(source, store_history=False, allow_stdin=False, stop_on_error=False)
        try:
            for _ in self._messages(msg_id, self.settings.cell_timeout):
                pass
        except CallTimeout:
            self._after_timeout("the grader's set-up")
