"""Shared set-up: a deterministic, headless, single-threaded environment and the built book."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent

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
    """Build the book exactly as a reader would (`make book`) and return _build/html."""
    run(["make", "book"])
    html = ROOT / "_build" / "html"
    assert (html / "index.html").is_file()
    return html
