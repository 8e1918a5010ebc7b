"""Regenerate the student notebooks in chapters/ from the nbgrader sources in solutions/.

    python tools/release.py            # every chapter
    python tools/release.py 01-gradients

For each chapter this (0) puts the one source of the check helpers, tools/checks.py,
into the source notebook's set-up cell (between its BEGIN and END CHECK HELPERS lines),
(1) re-executes the source notebook in place, so the outputs
stored in it are the ones the tests compare against (nbval), and (2) runs the real
`nbgrader generate_assignment` into a scratch folder with a scratch gradebook and
copies the generated notebooks into chapters/<chapter>/. The generated files are
never edited by hand: tests/test_release.py fails when they drift from this output.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CHAPTERS = ROOT / "chapters"
CHECKS = ROOT / "tools" / "checks.py"
BEGIN, END = "# ---- BEGIN CHECK HELPERS", "# ---- END CHECK HELPERS ----"


def chapters() -> list[str]:
    return sorted(p.name for p in SOLUTIONS.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def check_helpers() -> str:
    """The check-helper block of tools/checks.py, its BEGIN and END lines included."""
    text = CHECKS.read_text()
    return text[text.index(BEGIN):text.index(END) + len(END)]


def helper_block(source: str) -> tuple[int, int] | None:
    """Where a cell's check-helper block starts and ends, or None."""
    if BEGIN not in source:
        return None
    start = source.index(BEGIN)
    return start, source.index(END, start) + len(END)


def inject_check_helpers(path: Path) -> bool:
    """Replace the check-helper block of the notebook's set-up cell by tools/checks.py's; True if it changed."""
    nb = nbformat.read(path, as_version=4)
    blocks = [(cell, helper_block(cell.source)) for cell in nb.cells if cell.cell_type == "code"]
    blocks = [(cell, span) for cell, span in blocks if span]
    if len(blocks) != 1:
        raise RuntimeError(f"{path}: expected one set-up cell with a '{BEGIN}' block, found {len(blocks)}")
    cell, (start, end) = blocks[0]
    new = cell.source[:start] + check_helpers() + cell.source[end:]
    if new == cell.source:
        return False
    cell.source = new
    nbformat.write(nb, path)
    return True


def execute_in_place(path: Path, timeout: int = 300) -> None:
    """Run a source notebook top to bottom and store its outputs (no timing metadata)."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = coalesce_streams(cell.outputs)
    nbformat.write(nb, path)


def coalesce_streams(outputs: list) -> list:
    """Merge consecutive outputs of the same stream: how prints are split depends on timing."""
    merged = []
    for out in outputs:
        if (merged and out.get("output_type") == "stream" and merged[-1].get("output_type") == "stream"
                and merged[-1].get("name") == out.get("name")):
            merged[-1]["text"] = merged[-1]["text"] + out["text"]
        else:
            merged.append(out)
    return merged


def venv_env() -> dict[str, str]:
    """The environment with this interpreter's bin/ first on PATH (nbgrader runs `alembic` from PATH)."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate(chapter: str, out_dir: Path) -> dict[str, Path]:
    """Run nbgrader generate_assignment for one chapter into out_dir; return {name: path}."""
    out_dir = Path(out_dir)
    db = out_dir / "gradebook.db"
    release = out_dir / "release"
    cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", chapter, "--force",
           f"--CourseDirectory.root={ROOT}",
           f"--CourseDirectory.release_directory={release}",
           f"--CourseDirectory.db_url=sqlite:///{db}",
           "--log-level=WARN"]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=venv_env())
    if result.returncode != 0:
        raise RuntimeError(f"nbgrader generate_assignment {chapter} failed:\n{result.stdout}\n{result.stderr}")
    return {p.name: p for p in sorted((release / chapter).glob("*.ipynb"))}


def release(chapter: str, execute: bool = True) -> list[Path]:
    for src in sorted((SOLUTIONS / chapter).glob("*.ipynb")):
        if inject_check_helpers(src):
            print(f"updated the check helpers in {src.relative_to(ROOT)}", flush=True)
    if execute:
        for src in sorted((SOLUTIONS / chapter).glob("*.ipynb")):
            print(f"executing {src.relative_to(ROOT)}", flush=True)
            execute_in_place(src)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, path in generate(chapter, Path(tmp)).items():
            dest = CHAPTERS / chapter / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            written.append(dest)
            print(f"wrote {dest.relative_to(ROOT)}", flush=True)
    return written


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("chapter", nargs="*", help="chapter folders under solutions/ (default: all)")
    parser.add_argument("--no-execute", action="store_true", help="do not re-execute the source notebooks")
    args = parser.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("MPLBACKEND", "Agg")
    for chapter in args.chapter or chapters():
        if not (SOLUTIONS / chapter).is_dir():
            print(f"error: no such chapter source: solutions/{chapter}", file=sys.stderr)
            return 2
        release(chapter, execute=not args.no_execute)
    return 0


if __name__ == "__main__":
    sys.exit(main())
