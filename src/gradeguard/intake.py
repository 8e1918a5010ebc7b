"""What a student handed in, turned into a notebook nbgrader can grade, or into a clear status.

A submission folder is untrusted: it may hold a symbolic link, a renamed, empty,
binary or huge file, broken or forged nbgrader metadata, pasted copies of test
cells. :func:`take` reads it without following links and rebuilds the notebook on
the instructor's release skeleton: every test and set-up cell comes from the
instructor (with the instructor's metadata), every answer cell keeps only the
student's source, the student's own extra cells stay as plain cells, and cells the
student deleted are put back. Extra files are never copied. :func:`flags` lists what
an instructor should look at (code that reaches for the grading machinery).
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import re
import stat
from pathlib import Path

import nbformat

from .checker import defined_names

MAX_NOTEBOOK_BYTES = 16 << 20
MAX_CELLS = 2000
STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")


@dataclasses.dataclass
class Submission:
    student: str
    status: str                      # 'ok', 'missing', 'unreadable' or 'rejected'
    reason: str = ""
    notebook: nbformat.NotebookNode | None = None
    notes: list[str] = dataclasses.field(default_factory=list)
    flags: list[str] = dataclasses.field(default_factory=list)
    timestamp: str | None = None


def _meta(cell) -> dict:
    m = cell.get("metadata", {}).get("nbgrader") if isinstance(cell.get("metadata"), dict) else None
    return m if isinstance(m, dict) else {}


def _text(source) -> str:
    if isinstance(source, list):
        return "".join(s for s in source if isinstance(s, str))
    return source if isinstance(source, str) else ""


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read a notebook defensively: raise ValueError with a reason a student can act on."""
    info = os.lstat(path)
    if stat.S_ISLNK(info.st_mode):
        raise PermissionError("the notebook is a symbolic link")
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("the notebook is not a regular file")
    if info.st_size == 0:
        raise ValueError("the file is empty")
    if info.st_size > MAX_NOTEBOOK_BYTES:
        raise ValueError(f"the file is {info.st_size >> 20} MB, over the {MAX_NOTEBOOK_BYTES >> 20} MB limit")
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as fh:
        raw = fh.read(MAX_NOTEBOOK_BYTES + 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("the file is not text (a binary file?)") from None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"the file is not a notebook (not valid JSON: {str(exc)[:80]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise ValueError("the file is not a notebook (no list of cells)")
    if len(data["cells"]) > MAX_CELLS:
        raise ValueError(f"the notebook has {len(data['cells'])} cells, over the limit of {MAX_CELLS}")
    cells = []
    for cell in data["cells"]:
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            continue
        meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbg = meta.get("nbgrader") if isinstance(meta.get("nbgrader"), dict) else {}
        # only the nbgrader fields intake looks at, as plain values: nothing deep or odd goes further
        nbg = {k: v for k, v in nbg.items() if k in ("grade_id", "grade", "solution", "locked")
               and isinstance(v, (str, bool))}
        cells.append({"cell_type": cell["cell_type"], "source": _text(cell.get("source", "")),
                      "metadata": {"nbgrader": nbg} if nbg else {}})
    return nbformat.from_dict({"cells": cells})


def rebuild(submitted: nbformat.NotebookNode, release: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """The submission on the release skeleton (see the module docstring); returns it and notes."""
    master = {_meta(c)["grade_id"]: c for c in release.cells if isinstance(_meta(c).get("grade_id"), str)}
    order = list(master)
    notes, seen, out = [], set(), []
    placed: dict[str, int] = {}
    for cell in submitted.cells:
        gid = _meta(cell).get("grade_id")
        if isinstance(gid, str) and gid in master and gid not in seen and \
                master[gid].cell_type == cell.cell_type:
            seen.add(gid)
            new = copy.deepcopy(master[gid])
            if _meta(master[gid]).get("solution"):
                new.source = _text(cell.get("source"))
            placed[gid] = len(out)
            out.append(new)
            continue
        if gid is not None:
            notes.append(f"a cell claiming to be {str(gid)[:40]!r} was kept as an ordinary cell")
        maker = {"code": nbformat.v4.new_code_cell, "markdown": nbformat.v4.new_markdown_cell,
                 "raw": nbformat.v4.new_raw_cell}[cell.cell_type]
        out.append(maker(_text(cell.get("source"))))
    for i, gid in enumerate(order):              # cells the student deleted come back where they belong
        if gid in seen:
            continue
        before = [placed[g] for g in order[:i] if g in placed]
        at = before[-1] + 1 if before else 0
        for g in placed:
            if placed[g] >= at:
                placed[g] += 1
        out.insert(at, copy.deepcopy(master[gid]))
        placed[gid] = at
        notes.append(f"cell {gid!r} was missing and was restored")
    nb = copy.deepcopy(release)
    nb.cells = out
    for cell in nb.cells:
        cell.metadata.pop("tags", None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb, notes


# What to flag for an instructor's look: (pattern, reason). The design does not depend on
# these for correctness (verdicts never come from the kernel); they point at intent.
FLAGS = [
    (r"get_ipython|input_transformers|ast_transformers|set_custom_exc|events\.register|register_magic",
     "reaches into IPython (hooks, transformers, magics)"),
    (r"sys\.(settrace|setprofile|excepthook|modules|meta_path|path_hooks)|__builtins__|import\s+builtins|"
     r"from\s+builtins|importlib|__import__|\bgc\.|\binspect\.|globals\(\)", "reaches into the interpreter"),
    (r"\bopen\(|pathlib|shutil|\bos\.(listdir|scandir|walk|remove|unlink|rename|replace|chmod|symlink|makedirs|"
     r"mkdir|open|path)|glob\.|io\.open|sqlite3|np\.(load|save|fromfile|genfromtxt|loadtxt)", "uses files"),
    (r"subprocess|os\.(system|popen|fork|exec|spawn|kill|killpg|setsid)|multiprocessing|\bsignal\.|\bpty\b|"
     r"threading|ctypes", "starts processes or threads, or sends signals"),
    (r"\bsocket\b|urllib|http\.client|requests|asyncio\.open_connection", "uses the network"),
    (r"descentlab", "imports descentlab (the course's reference implementation)"),
    (r"(?m)^\s*[%!]", "uses IPython magics or shell commands"),
    (r"\b(exec|eval|compile)\(", "runs code built from strings"),
    (r"(?m)^\s*(np|numpy|builtins|sys|math|warnings|IPython|scipy)\.[\w.]+\s*=[^=]|setattr\(",
     "changes a library function"),
]


def flags(notebook: nbformat.NotebookNode, helper_names: set[str]) -> list[str]:
    """Reasons to review this submission by hand (student-written code only)."""
    found: list[str] = []
    for cell in notebook.cells:
        m = _meta(cell)
        if cell.cell_type != "code" or m.get("locked") or (m.get("grade") and not m.get("solution")):
            continue
        for pattern, reason in FLAGS:
            if reason not in found and re.search(pattern, cell.source):
                found.append(reason)
        rebound = sorted(defined_names(cell.source) & helper_names)
        if rebound:
            reason = f"redefines the course's helpers ({', '.join(rebound)})"
            if reason not in found:
                found.append(reason)
    return found


def take(student_dir: Path, assignment: str, notebook: str, release: nbformat.NotebookNode) -> Submission:
    """Read one student's folder submitted/<student>/<assignment>/ (see the module docstring).

    Never raises for anything in the folder: whatever goes wrong is this student's status.
    """
    try:
        return _take(student_dir, assignment, notebook, release)
    except (Exception, RecursionError, MemoryError) as exc:  # noqa: BLE001
        return Submission(student_dir.name, "unreadable", f"the submission could not be read ({type(exc).__name__})")


def _take(student_dir: Path, assignment: str, notebook: str, release: nbformat.NotebookNode) -> Submission:
    student = student_dir.name
    sub = Submission(student, "ok")
    if student_dir.is_symlink():
        sub.status, sub.reason = "rejected", "the student's folder is a symbolic link"
        return sub
    if not STUDENT_ID.match(student):
        sub.status, sub.reason = "rejected", "the folder name is not a valid student id"
        return sub
    folder = student_dir / assignment
    if folder.is_symlink():
        sub.status, sub.reason = "rejected", "the assignment folder is a symbolic link"
        return sub
    if not folder.is_dir():
        sub.status, sub.reason = "missing", f"no folder {assignment}/"
        return sub
    stamp = folder / "timestamp.txt"
    if stamp.is_file() and not stamp.is_symlink() and stamp.stat().st_size < 200:
        text = stamp.read_text(errors="replace").strip()
        if re.fullmatch(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(\.\d+)?( ?(UTC|Z|[+-]\d\d:?\d\d))?", text):
            sub.timestamp = text
        else:
            sub.notes.append("timestamp.txt ignored (not a date and time)")
    wanted = f"{notebook}.ipynb"
    entries = sorted(os.scandir(folder), key=lambda e: e.name)
    links = [e.name for e in entries if e.is_symlink()]
    if wanted in links:
        sub.status, sub.reason = "rejected", f"{wanted} is a symbolic link"
        return sub
    if links:
        sub.notes.append(f"symbolic links ignored: {', '.join(links[:5])}")
        sub.flags.append("submitted symbolic links")
    notebooks = [e for e in entries if e.name.endswith(".ipynb") and e.is_file(follow_symlinks=False)]
    chosen = next((e for e in notebooks if e.name == wanted), None)
    if chosen is None and notebooks:
        ids = {_meta(c).get("grade_id") for c in release.cells} - {None}

        def matching(entry) -> int:
            try:
                return len(ids & {_meta(c).get("grade_id") for c in read_notebook(Path(entry.path)).cells})
            except (Exception, RecursionError, MemoryError):  # noqa: BLE001  (unreadable: least likely)
                return -1
        chosen = max(notebooks, key=matching)
        sub.notes.append(f"graded {chosen.name} (no {wanted} was handed in)")
    if chosen is None:
        sub.status, sub.reason = "missing", f"no notebook in {assignment}/"
        return sub
    others = [e.name for e in entries if e.name not in (chosen.name, "timestamp.txt") and not e.is_symlink()]
    if others:
        sub.notes.append(f"other files not used: {', '.join(others[:5])}{' ...' if len(others) > 5 else ''}")
    try:
        submitted = read_notebook(Path(chosen.path))
    except PermissionError as exc:
        sub.status, sub.reason = "rejected", str(exc)
        return sub
    except (ValueError, OSError) as exc:
        sub.status, sub.reason = "unreadable", f"{chosen.name}: {exc}"
        return sub
    sub.notebook, notes = rebuild(submitted, release)
    sub.notes += notes
    helpers = set().union(*(defined_names(c.source) for c in release.cells
                            if c.cell_type == "code" and _meta(c).get("locked") and not _meta(c).get("grade")))
    sub.flags += flags(sub.notebook, helpers)
    return sub
