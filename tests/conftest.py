"""Shared set-up: a deterministic, headless, single-threaded environment and the built book."""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
CHROMIUM = Path("/usr/bin/chromium")

os.environ.update({
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "MPLBACKEND": "Agg",
    "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    # kernels and helper programs (nbgrader runs `alembic`) come from this environment
    "JUPYTER_PATH": str(Path(sys.prefix) / "share" / "jupyter"),
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
})


def run(cmd, cwd=ROOT, timeout=900, check=True) -> subprocess.CompletedProcess:
    """Run a command, and on failure show its output in the assertion message."""
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f"{' '.join(map(str, cmd))} exited {result.returncode}\n"
                             f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}")
    return result


@pytest.fixture(scope="session")
def book() -> Path:
    """Build the book exactly as a reader would (`make book`) and return _build/html.

    Right after the build, the re-execution of its narrative pages (test_notebooks) starts in a
    thread of its own: it runs the pages' code again, single-threaded, while the browser tests
    and the rest of the suite go on (AFTER_BOOK holds its future)."""
    run(["make", "book"])
    html = ROOT / "_build" / "html"
    assert (html / "index.html").is_file()
    for key, fn in AFTER_BOOK_JOBS.items():
        if key not in AFTER_BOOK:
            scratch = tempfile.mkdtemp(prefix=f"after-book-{key}-")
            _SCRATCH.append(scratch)
            AFTER_BOOK[key] = _AFTER_BOOK_POOL.submit(fn, Path(scratch))
    return html


# Jobs that need the built book and run beside the tests (not queued behind the gradings).
AFTER_BOOK_JOBS: dict = {}
AFTER_BOOK: dict[str, Future] = {}
_AFTER_BOOK_POOL = ThreadPoolExecutor(max_workers=1)


# ------------------------------------------------------------------ the book in a real browser

@pytest.fixture(scope="module")
def server(book):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(book))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api", reason="Playwright for Python is not installed")
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: `make test` installs Debian's chromium when it can (apt-get as root)")
    with playwright.sync_playwright() as p:
        # Playwright hides scrollbars in headless mode; the layout tests need them drawn as a reader sees them.
        b = p.chromium.launch(executable_path=str(CHROMIUM), ignore_default_args=["--hide-scrollbars"], args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


# ------------------------------------------------------------------ long gradings, started early

# The grading round trips and the attack corpus spend most of their time in nbgrader
# subprocesses. They start in the background as soon as the tests are collected, so
# they run while the single-threaded tests use the other core; their tests wait for them.
BACKGROUND: dict[str, Future] = {}
_SCRATCH: list[str] = []
_POOL = ThreadPoolExecutor(max_workers=3)


def background(key: str, fn, *args) -> Future:
    """The future of fn(scratch_folder, *args), started once per session under `key`."""
    if key not in BACKGROUND:
        scratch = tempfile.mkdtemp(prefix=f"bg-{key}-")
        _SCRATCH.append(scratch)
        BACKGROUND[key] = _POOL.submit(fn, Path(scratch), *args)
    return BACKGROUND[key]


def chapters_of(items) -> set[str] | None:
    """The chapters that the selected tests of a module ask for (None: all of them).

    A test with no `chapter` parameter asks for the module's UNPARAMETRIZED_CHAPTERS, or for all.
    """
    chapters = set()
    for item in items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "chapter" in params:
            chapters.add(params["chapter"])
        else:
            default = getattr(item.module, "UNPARAMETRIZED_CHAPTERS", None)
            if default is None:
                return None
            chapters |= set(default)
    return chapters


@pytest.hookimpl(trylast=True)          # after -k and -m have deselected: start only what will be read
def pytest_collection_modifyitems(session, config, items):
    starts, selected = {}, {}
    for item in items:
        start = getattr(item.module, "start_in_background", None) if hasattr(item, "module") else None
        if start is not None:
            starts[item.module.__name__] = start
            selected.setdefault(item.module.__name__, []).append(item)
    for name in sorted(starts):            # the attack corpus first: it is one long run
        starts[name](chapters_of(selected[name]))
    # their tests run last, so that the other tests use the time they take
    items.sort(key=lambda item: getattr(item, "module", None) is not None and item.module.__name__ in starts)


def pytest_sessionfinish(session, exitstatus):
    _POOL.shutdown(wait=True)
    for scratch in _SCRATCH:
        shutil.rmtree(scratch, ignore_errors=True)
