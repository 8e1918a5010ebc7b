"""The confinement itself, tested directly on a confined kernel (gradeguard.kernel / gradeguard.sandbox).

Each test runs student-like code in a real confined kernel and checks what it could
not do: read the course, reach the network, exceed its memory or process limits,
outlive its notebook, run past the wall-clock cap, write outside its work folder.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest

from conftest import ROOT

from gradeguard import sandbox
from gradeguard.kernel import CallTimeout, ConfinedKernel, KernelFailure, Settings

MODE = sandbox.available_mode()
pytestmark = pytest.mark.skipif(MODE == "none", reason="no confinement possible on this machine")


def text(outputs) -> str:
    return "".join(o.get("text", "") + o.get("evalue", "") + str(o.get("data", {}).get("text/plain", ""))
                   for o in outputs)


@pytest.fixture(scope="module")
def kernel():
    with ConfinedKernel(Settings(mode=MODE, cell_timeout=20)) as k:
        yield k


def test_runs_as_an_unprivileged_user_in_its_own_folder(kernel):
    out = text(kernel.run_cell("import os\nprint(os.getuid(), os.getcwd(), sorted(os.listdir('.')))"))
    uid, cwd = out.split()[:2]
    if MODE == "root":
        assert int(uid) == sandbox.NOBODY
    assert cwd == str(kernel.work)


def test_cannot_see_the_course_or_home(kernel):
    secrets = [ROOT / "solutions" / "01-gradients" / "exercises.ipynb", ROOT / "nbgrader_config.py",
               ROOT / "README.md", Path.home() / ".bashrc", ROOT / "src" / "gradeguard" / "checker.py"]
    for path in secrets:
        out = text(kernel.run_cell(f"import os\nprint(os.path.exists({str(path)!r}))"))
        assert out.strip() == "False", f"{path} is visible in the kernel"
    out = text(kernel.run_cell("print(sorted(os.listdir('/')))"))
    assert "work" in out or str(ROOT).split("/")[1] in out     # the mount points exist ...
    out = text(kernel.run_cell(f"print(sorted(os.listdir({str(ROOT)!r})))"))
    assert out.strip() in ("['.venv']", "[]"), f"the course root shows {out}"  # ... but only the venv


def test_cannot_write_outside_its_folder(kernel):
    for target in [ROOT / ".venv" / "pwned.py", ROOT / ".venv" / "lib", Path("/etc/pwned"), Path("/usr/pwned")]:
        out = text(kernel.run_cell(f"try:\n    open({str(target)!r}, 'w').write('x')\n    print('WROTE')\n"
                                   "except OSError as e:\n    print(type(e).__name__)"))
        assert "WROTE" not in out, f"the kernel wrote {target}"
    assert not (ROOT / ".venv" / "pwned.py").exists()
    out = text(kernel.run_cell("open('mine.txt', 'w').write('ok'); print(open('mine.txt').read())"))
    assert out.strip() == "ok"


def test_no_network(kernel):
    out = text(kernel.run_cell(
        "import socket\n"
        "for host in ('127.0.0.1', '::1'):\n"
        "    try:\n"
        "        socket.create_connection((host, 8000), timeout=3)\n"
        "        print('CONNECTED')\n"
        "    except OSError as e:\n"
        "        print(e.errno)\n"
        "try:\n"
        "    socket.getaddrinfo('pypi.org', 443)\n"
        "    print('RESOLVED')\n"
        "except OSError as e:\n"
        "    print('dns', type(e).__name__)"))
    assert "CONNECTED" not in out and "RESOLVED" not in out
    assert "101" in out or "99" in out    # ENETUNREACH / EADDRNOTAVAIL: no interface at all


def test_cannot_see_or_signal_the_grader(kernel):
    out = text(kernel.run_cell("import os\nprint(sorted(int(p) for p in os.listdir('/proc') if p.isdigit()))"))
    pids = eval(out.strip())  # noqa: S307  (a list of ints printed by the kernel in this test)
    assert os.getpid() not in pids or max(pids) < 100, "the grader's process is visible"
    assert len(pids) <= 3, f"the kernel sees other processes: {pids}"


def test_calls_return_data_and_write_back_arguments(kernel):
    kernel.run_cell("def grow(x, d):\n    x[0] = 7.0\n    d['k'] = 1\n    return x.sum(), (1, 'a')")
    x, d = np.zeros(3), {}
    reply = kernel.call("grow", (x, d), {})
    assert reply["value"] == (7.0, (1, "a")) or reply["value"][0] == 7.0
    assert reply["changed"]["0"][0] == 7.0 and reply["changed"]["1"] == {"k": 1}


def test_process_limit():
    with ConfinedKernel(Settings(mode=MODE, cell_timeout=30)) as k:
        out = text(k.run_cell(
            "import os, time\nn = 0\ntry:\n    for _ in range(200):\n        if os.fork() == 0:\n"
            "            time.sleep(30); os._exit(0)\n        n += 1\nexcept OSError as e:\n    print('stopped', n)"))
    assert "stopped" in out, out
    assert int(out.split()[-1]) < 40


def test_memory_limit():
    settings = Settings(mode=MODE, cell_timeout=30, limits=sandbox.Limits(memory_bytes=512 << 20))
    with ConfinedKernel(settings) as k:
        out = k.run_cell("import numpy as np\nx = np.ones(2 << 30, dtype=np.uint8)\nprint('GOT IT')")
        assert "GOT IT" not in text(out)
        with pytest.raises(KernelFailure):
            k.run_cell("print(1)") if k.dead else k.call("print", (1,), {})
    assert any("memory" in e or "died" in e for e in k.events + [k.dead]), k.events


def _sleepers() -> list[str]:
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        except OSError:
            continue
        if cmd in (b"sleep\x004242\x00", b"sleep\x004243\x00", b"sleep\x004244\x00") and state != "Z":
            found.append(pid)
    return found


def test_nothing_outlives_the_notebook():
    with ConfinedKernel(Settings(mode=MODE, cell_timeout=20)) as k:
        out = text(k.run_cell(
            "import subprocess, os\n"
            "p = subprocess.Popen(['sleep', '4242'], start_new_session=True)\n"
            "if os.fork() == 0:\n    os.setsid()\n    os.execvp('sleep', ['sleep', '4243'])\n"
            "import time; time.sleep(0.5)\n"
            "print('spawned', p.pid)"))
        assert "spawned" in out
        assert len(_sleepers()) == 2, "the test's detached processes did not start"
    deadline = time.monotonic() + 5
    while _sleepers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _sleepers(), "processes outlived their notebook"


def test_kernels_die_with_the_grader(tmp_path):
    """A grader that is killed (no clean-up at all) takes its kernels and their processes with it."""
    import subprocess
    import sys
    script = tmp_path / "grader.py"
    script.write_text(
        "import os, sys, time\n"
        "from gradeguard.kernel import ConfinedKernel, Settings\n"
        f"k = ConfinedKernel(Settings(mode={MODE!r})).__enter__()\n"
        "k.run_cell(\"import subprocess; subprocess.Popen(['sleep', '4244'], start_new_session=True)\")\n"
        "time.sleep(0.5)\n"
        "print('started', flush=True)\n"
        "os._exit(0)\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert "started" in out.stdout, out.stderr[-2000:]
    deadline = time.monotonic() + 10
    while _sleepers() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _sleepers(), "a kernel outlived the grader that started it"


def test_wall_clock_cap_and_cell_timeout():
    with ConfinedKernel(Settings(mode=MODE, cell_timeout=2, notebook_timeout=6)) as k:
        started = time.monotonic()
        first = k.run_cell("import time\ntime.sleep(30)")
        assert first[-1]["ename"] == "CellTimeoutError"
        assert text(k.run_cell("print('still here')")).strip() == "still here"
        with pytest.raises((KernelFailure, CallTimeout)):
            for _ in range(5):
                k.run_cell("time.sleep(1.9)")
                k.call("len", ((1, 2),), {})
        assert time.monotonic() - started < 15
        assert "time limit" in k.dead


def test_output_is_capped():
    with ConfinedKernel(Settings(mode=MODE, cell_timeout=30, max_output_bytes=100_000)) as k:
        out = k.run_cell("for _ in range(2000):\n    print('x' * 10_000)")
        out += k.run_cell("print('more')")
        html = k.run_cell("from IPython.display import HTML, display\ndisplay(HTML('<script>alert(1)</script>'))")
    assert sum(len(o.get("text", "")) for o in out) < 120_000
    assert any("output cut" in o.get("text", "") for o in out)
    assert all("text/html" not in o.get("data", {}) for o in html)


def test_refuses_to_run_unconfined_unless_asked(monkeypatch):
    from gradeguard import execute
    monkeypatch.setattr(sandbox, "available_mode", lambda: "none")
    with pytest.raises(execute.UnconfinedRefused):
        execute.resolve_mode("auto", allow_unconfined=False)
    assert execute.resolve_mode("auto", allow_unconfined=True) == "none"


@pytest.mark.skipif(MODE != "root", reason="needs root to compare with user namespaces")
def test_user_namespace_mode_also_hides_the_course():
    """What an instructor without root gets: the same namespaces and file system, rlimits instead of cgroups."""
    if not sandbox._probe(["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--", "true"]):
        pytest.skip("user namespaces are not available here")
    with ConfinedKernel(Settings(mode="userns", cell_timeout=20)) as k:
        out = text(k.run_cell(f"import os\nprint(os.path.exists({str(ROOT / 'solutions')!r}))\n"
                              "import socket\ntry:\n    socket.create_connection(('127.0.0.1', 22), timeout=2)\n"
                              "except OSError as e:\n    print(e.errno)\n"
                              f"try:\n    open({str(ROOT / '.venv' / 'x')!r}, 'w')\nexcept OSError as e:\n"
                              "    print('ro', e.errno)"))
    assert out.split()[0] == "False" and "101" in out and "ro" in out, out


@pytest.mark.skipif(MODE != "root", reason="needs root to compare with user namespaces")
def test_the_rlimit_fallback_leaves_room_for_torch_but_not_for_a_hog():
    """Without a cgroup the address space is the limit: chapter 8's `import torch` maps ~1.3 GB
    (0.34 GB resident), which memory_bytes alone (1 GiB) would refuse; a 3 GiB array is still refused."""
    pytest.importorskip("torch")
    if not sandbox._probe(["unshare", "--user", "--map-root-user", "--mount", "--net", "--pid", "--fork", "--", "true"]):
        pytest.skip("user namespaces are not available here")
    assert sandbox.Limits().address_space_bytes == (1 << 30) + (1536 << 20)
    with ConfinedKernel(Settings(mode="userns", cell_timeout=60)) as k:
        out = text(k.run_cell("import torch\nprint('torch', torch.ones(3, dtype=torch.float64).sum().item())"))
        assert "torch 3.0" in out, out
        out = text(k.run_cell("import numpy as np\nx = np.ones(3 << 30, dtype=np.uint8)\nprint('GOT IT')"))
        assert "GOT IT" not in out
