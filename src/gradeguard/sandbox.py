"""Run a command confined, with what Linux gives: namespaces, cgroups, rlimits, an unprivileged user.

    python -m gradeguard.sandbox run --work DIR --root-mount DIR [limits] -- CMD ...

The command (a kernel) then runs

- in new mount, network, pid, ipc and uts namespaces: no network at all (not even
  loopback), no process of the host visible, and a file system built for it alone:
  the system's read-only directories, the Python installation and the virtual
  environment (read-only), a private ``/tmp``, a minimal ``/dev``, and its work
  folder ``DIR`` (the only place it can write). The course, HOME, other
  submissions, the gradebook and the configuration are not there at all;
- as an unprivileged user (``nobody``) with no capabilities and ``no_new_privs``;
- in a cgroup with a memory and a process limit (cgroup v1 or v2), or, where no
  cgroup can be made, under rlimits (address space, processes);
- with rlimits on file size, open files and core dumps.

When the command exits, or the launcher is killed, every process in its pid
namespace dies with it (``unshare --kill-child``); :func:`kill_cgroup` then
clears the cgroup as a second line.

Modes: ``root`` (the grader is root: all of the above), ``userns`` (no root: a user
namespace maps the grader to root inside, so mounts and namespaces still work, but
the kernel keeps the grader's uid outside and limits fall back to rlimits), and
``none`` when neither works; :func:`available_mode` says which this machine has.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

NOBODY = 65534
CGROUP_PARENT = "gradeguard"


@dataclasses.dataclass(frozen=True)
class Limits:
    """Resource limits of one confined kernel (bytes and counts)."""

    memory_bytes: int = 1 << 30       # resident memory (cgroup); see address_space_bytes for the fallback
    max_processes: int = 32           # tasks: processes and threads
    file_bytes: int = 64 << 20        # largest file it may write
    tmp_bytes: int = 64 << 20         # size of its private /tmp
    open_files: int = 256
    uid: int = NOBODY

    #: Without a cgroup the only memory limit is the address space (RLIMIT_AS), which counts every
    #: mapping, not resident memory: `import torch` maps about 1.3 GB with 0.34 GB resident. The
    #: fallback therefore allows memory_bytes plus this much address space for libraries' mappings.
    MAPPINGS_BYTES = 1536 << 20

    @property
    def address_space_bytes(self) -> int:
        """The RLIMIT_AS of the rlimit fallback (no cgroup): memory_bytes + MAPPINGS_BYTES."""
        return self.memory_bytes + self.MAPPINGS_BYTES

    def args(self) -> list[str]:
        return [f"--memory={self.memory_bytes}", f"--pids={self.max_processes}", f"--fsize={self.file_bytes}",
                f"--tmp={self.tmp_bytes}", f"--nofile={self.open_files}", f"--uid={self.uid}"]


# ---------------------------------------------------------------------------------------------- modes

def _probe(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.lru_cache(maxsize=None)
def available_mode() -> str:
    """'root', 'userns' or 'none': the strongest confinement this process can set up."""
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        return "none"
    base = ["unshare", "--mount", "--net", "--pid", "--fork", "--", "true"]
    if os.geteuid() == 0 and _probe(base):
        return "root"
    if _probe(["unshare", "--user", "--map-root-user", *base[1:]]):
        return "userns"
    return "none"


# ---------------------------------------------------------------------------------------------- cgroups

def _cgroup_mounts() -> dict[str, Path]:
    """Mount points of the cgroup v1 'pids' and 'memory' controllers, or of cgroup v2 ('unified')."""
    found: dict[str, Path] = {}
    with open("/proc/self/mounts") as fh:
        for line in fh:
            _, where, fstype, options = line.split()[:4]
            if fstype == "cgroup":
                for ctrl in ("pids", "memory", "cpu"):
                    if ctrl in options.split(","):
                        found[ctrl] = Path(where)
            elif fstype == "cgroup2":
                found.setdefault("unified", Path(where))
    return found


def cgroup_paths(name: str) -> list[Path]:
    """The cgroup folders a kernel named `name` is (or would be) placed in."""
    mounts = _cgroup_mounts()
    if "pids" in mounts and "memory" in mounts:
        extra = [mounts["cpu"] / CGROUP_PARENT / name] if "cpu" in mounts else []
        return [mounts["pids"] / CGROUP_PARENT / name, mounts["memory"] / CGROUP_PARENT / name, *extra]
    if "unified" in mounts:
        return [mounts["unified"] / CGROUP_PARENT / name]
    return []


def _write(path: Path, value: str) -> None:
    with open(path, "w") as fh:
        fh.write(value)


def join_cgroup(name: str, limits: Limits) -> list[Path]:
    """Create the cgroup(s) for `name` with the limits and move this process in; [] if impossible."""
    paths = cgroup_paths(name)
    try:
        for path in paths:
            if path.parent.name == CGROUP_PARENT and len(paths) == 1:  # v2: delegate the controllers
                for parent in (path.parent.parent, path.parent):
                    parent.mkdir(exist_ok=True)
                    _write(parent / "cgroup.subtree_control", "+pids +memory")
                    try:
                        _write(parent / "cgroup.subtree_control", "+cpu")
                    except OSError:
                        pass
            path.mkdir(parents=True, exist_ok=True)
        limited = set()
        for path in paths:
            if (path / "pids.max").exists():
                _write(path / "pids.max", str(limits.max_processes))
                limited.add("pids")
            if (path / "memory.limit_in_bytes").exists():      # v1
                _write(path / "memory.limit_in_bytes", str(limits.memory_bytes))
                try:
                    _write(path / "memory.memsw.limit_in_bytes", str(limits.memory_bytes))
                except OSError:
                    pass
                limited.add("memory")
            elif (path / "memory.max").exists():               # v2
                _write(path / "memory.max", str(limits.memory_bytes))
                _write(path / "memory.swap.max", "0")
                limited.add("memory")
        for path in paths:   # one core at most, where the cpu controller is there (best effort)
            try:
                if (path / "cpu.cfs_quota_us").exists():
                    _write(path / "cpu.cfs_period_us", "100000")
                    _write(path / "cpu.cfs_quota_us", "100000")
                elif (path / "cpu.max").exists():
                    _write(path / "cpu.max", "100000 100000")
            except OSError:
                pass
        if limited != {"pids", "memory"}:
            raise OSError(f"cgroups without both controllers: {paths}")
        for path in paths:
            _write(path / "cgroup.procs", str(os.getpid()))
    except OSError:
        for path in paths:
            try:
                path.rmdir()
            except OSError:
                pass
        return []
    return paths


def cgroup_events(name: str) -> dict[str, int]:
    """How often the kernel named `name` hit its limits: {'memory': n, 'pids': n}."""
    hits = {"memory": 0, "pids": 0}
    for path in cgroup_paths(name):
        for fname, key, field in (("memory.oom_control", "memory", "oom_kill"), ("memory.events", "memory", "oom_kill"),
                                  ("pids.events", "pids", "max")):
            try:
                text = (path / fname).read_text()
            except OSError:
                continue
            if field is None:
                hits[key] += int(text.strip() or 0)
            else:
                for line in text.splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[0] == field:
                        hits[key] += int(parts[1])
    return hits


def _procs(path: Path) -> list[int]:
    try:
        return [int(p) for p in (path / "cgroup.procs").read_text().split()]
    except OSError:
        return []


def cgroup_process_count(name: str) -> int:
    """How many processes are in the cgroup of `name` now (a kernel alone has 3: unshare, init, kernel)."""
    return max((len(_procs(path)) for path in cgroup_paths(name)), default=0)


def kill_cgroup(name: str, grace: float = 2.0, timeout: float = 5.0) -> int:
    """Clear the cgroup(s) of `name` and remove them; returns how many processes outlived the kernel.

    The kernel's own processes are already dying when this is called (the pid namespace
    goes with its init), so they get `grace` seconds to go; whatever is left is SIGKILLed.
    """
    survivors = 0
    for path in cgroup_paths(name):
        if not path.exists():
            continue
        end = time.monotonic() + grace
        while _procs(path) and time.monotonic() < end:
            time.sleep(0.02)
        left = _procs(path)
        survivors = max(survivors, len(left))
        end = time.monotonic() + timeout
        while left and time.monotonic() < end:
            for pid in left:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            time.sleep(0.02)
            left = _procs(path)
        try:
            path.rmdir()
        except OSError:
            pass
    return survivors


# ---------------------------------------------------------------------------------------------- the file system

# Read-only directories the kernel needs: the system, Python and the virtual environment.
SYSTEM_DIRS = ["/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc"]
DEVICES = ["null", "zero", "full", "random", "urandom"]


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True)


def _mkdirs(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True, mode=0o755)


def build_root(newroot: Path, work: Path, readonly: list[str], tmp_bytes: int) -> None:
    """Assemble the kernel's file system at `newroot` (inside a private mount namespace)."""
    _mount("--make-rprivate", "/")
    _mount("-t", "tmpfs", "-o", "size=4m,mode=0755", "tmpfs", str(newroot))
    # /tmp first: what is bound below may live under /tmp (a clone, a venv, the work folder)
    _mkdirs(newroot / "tmp")
    _mount("-t", "tmpfs", "-o", f"size={tmp_bytes},mode=1777,nosuid,nodev", "tmpfs", str(newroot / "tmp"))
    for source in readonly:
        src = Path(source)
        if not src.exists() and not src.is_symlink():
            continue
        dest = newroot / src.relative_to("/")
        if dest.exists() or dest.is_symlink():
            continue                                   # already inside an earlier bind (e.g. the venv in /usr)
        if src.is_symlink() and src.parent == Path("/"):
            os.symlink(os.readlink(src), dest)         # /bin -> usr/bin on merged-/usr systems
            continue
        _mkdirs(dest)
        _mount("--rbind", str(src), str(dest))
        _mount("-o", "remount,bind,ro,nosuid,nodev", str(dest))
    dest = newroot / work.relative_to("/")
    _mkdirs(dest)
    _mount("--bind", str(work), str(dest))
    _mount("-o", "remount,bind,nosuid,nodev", str(dest))
    dev = newroot / "dev"
    _mkdirs(dev)
    _mount("-t", "tmpfs", "-o", "size=1m,mode=0755,nosuid", "tmpfs", str(dev))
    for name in DEVICES:
        (dev / name).touch()
        _mount("--bind", f"/dev/{name}", str(dev / name))
    _mkdirs(dev / "shm")
    _mount("-t", "tmpfs", "-o", f"size={tmp_bytes},mode=1777,nosuid,nodev", "tmpfs", str(dev / "shm"))
    _mkdirs(newroot / "proc")
    _mount("-t", "proc", "-o", "nosuid,nodev,noexec", "proc", str(newroot / "proc"))
    _mount("-o", "remount,ro,bind", str(newroot))     # nothing new at the top level


# ---------------------------------------------------------------------------------------------- stages

def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m gradeguard.sandbox")
    p.add_argument("stage", choices=["run", "inner"])
    p.add_argument("--work", required=True, type=Path, help="the only writable folder (kernel's cwd)")
    p.add_argument("--root-mount", required=True, type=Path, help="an empty folder to build the kernel's / on")
    p.add_argument("--mode", choices=["root", "userns"], default="root")
    p.add_argument("--cgroup", default="", help="name of the kernel's cgroup (root mode)")
    p.add_argument("--readonly", action="append", default=[], help="extra read-only folders (repeatable)")
    p.add_argument("--memory", type=int, default=Limits.memory_bytes)
    p.add_argument("--pids", type=int, default=Limits.max_processes)
    p.add_argument("--fsize", type=int, default=Limits.file_bytes)
    p.add_argument("--tmp", type=int, default=Limits.tmp_bytes)
    p.add_argument("--nofile", type=int, default=Limits.open_files)
    p.add_argument("--uid", type=int, default=NOBODY)
    p.add_argument("--cgroup-joined", action="store_true", help=argparse.SUPPRESS)
    return p


def _limits(ns) -> Limits:
    return Limits(ns.memory, ns.pids, ns.fsize, ns.tmp, ns.nofile, ns.uid)


def _die_with_parent() -> None:
    """Have the kernel's launcher killed when the grader dies (PR_SET_PDEATHSIG survives exec)."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL, 0, 0, 0)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def outer(ns) -> None:
    """Join the cgroup, then re-run this module as the init of fresh namespaces."""
    _die_with_parent()
    joined = bool(ns.mode == "root" and ns.cgroup and join_cgroup(ns.cgroup, _limits(ns)))
    flags = ["--mount", "--net", "--pid", "--ipc", "--uts", "--fork", "--kill-child"]
    if ns.mode == "userns":
        flags = ["--user", "--map-root-user", *flags]
    inner_cmd = command(ns.work, ns.root_mount, ns.cmd, ns.mode, _limits(ns), readonly=ns.readonly, stage="inner")
    if joined:
        inner_cmd.insert(inner_cmd.index("--"), "--cgroup-joined")
    os.execvp("unshare", ["unshare", *flags, "--", *inner_cmd])


def inner(ns) -> None:
    """pid 1 of the new namespaces: build the file system, start the command, reap until it ends."""
    cmd = ns.cmd
    readonly = [*SYSTEM_DIRS, sys.base_prefix, sys.prefix, *ns.readonly]
    build_root(ns.root_mount, ns.work, readonly, ns.tmp)
    child = os.fork()
    if child == 0:
        try:
            os.chroot(ns.root_mount)
            os.chdir(ns.work)
            os.setsid()
            limits = [(resource.RLIMIT_FSIZE, ns.fsize), (resource.RLIMIT_NOFILE, ns.nofile),
                      (resource.RLIMIT_CORE, 0)]
            if not ns.cgroup_joined:       # no cgroup: the process count and address space by rlimits
                address_space = Limits(memory_bytes=ns.memory).address_space_bytes
                limits += [(resource.RLIMIT_NPROC, ns.pids), (resource.RLIMIT_AS, address_space)]
            for which, value in limits:
                resource.setrlimit(which, (value, value))
            drop = ["setpriv", "--no-new-privs", "--inh-caps=-all", "--bounding-set=-all"]
            if ns.mode == "root":
                drop += [f"--reuid={ns.uid}", f"--regid={ns.uid}", "--clear-groups"]
            os.execvp(drop[0], [*drop, "--", *cmd])
        except BaseException as exc:  # noqa: BLE001  (report why the kernel could not start, then exit)
            print(f"gradeguard.sandbox: could not start {cmd[:1]}: {exc}", file=sys.stderr, flush=True)
            os._exit(127)
    status = 0
    while True:
        try:
            pid, st = os.wait()
        except ChildProcessError:
            break
        if pid == child:
            status = os.waitstatus_to_exitcode(st)
            break
    sys.exit(status if status >= 0 else 128 - status)


def command(work: Path, root_mount: Path, cmd: list[str], mode: str, limits: Limits, cgroup: str = "",
            readonly: list[str] | None = None, stage: str = "run") -> list[str]:
    """The argv that runs `cmd` confined (what a kernel spec's argv is wrapped in)."""
    extra = [f"--readonly={path}" for path in (readonly or [])]
    return [sys.executable, "-m", "gradeguard.sandbox", stage, f"--work={work}", f"--root-mount={root_mount}",
            f"--mode={mode}", *([f"--cgroup={cgroup}"] if cgroup else []), *extra, *limits.args(), "--", *cmd]


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    split = argv.index("--") if "--" in argv else len(argv)
    ns = _parser().parse_args(argv[:split])
    ns.cmd = argv[split + 1:]
    if not ns.cmd:
        _parser().error("no command after --")
    if ns.stage == "run":
        outer(ns)
    else:
        inner(ns)


if __name__ == "__main__":
    main()
