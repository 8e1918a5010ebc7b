"""nbgrader preprocessors: confined execution with verdicts from the checker, and safe feedback.

``ConfinedExecute`` replaces nbgrader's ``Execute`` in ``Autograde.autograde_preprocessors``
(see ``nbgrader_config.py``), so ``nbgrader autograde`` and ``make grade`` grade alike:

1. every code cell that is not a test cell runs in a confined kernel, in notebook
   order; its outputs are recorded (bounded, text and images only). No test input
   has reached the kernel yet, so nothing hidden can be in these outputs;
2. then every test cell runs in the checker (:mod:`gradeguard.checker`) with the
   source stored in the gradebook, never the submission's; its outputs are the
   checker's: what the test printed, and the error that failed it. nbgrader's
   ``SaveAutoGrades`` then scores test cells as usual (an error output means zero).

A report per submission (confinement, limits hit, per-test verdicts) is written as
JSON under ``report_dir`` for the class report (:mod:`gradeguard.cli`).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor
from traitlets import Bool, Float, Integer, Unicode

from . import sandbox
from .checker import Checker, defined_names
from .kernel import ConfinedKernel, KernelFailure, Settings


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def is_test(cell) -> bool:
    m = _meta(cell)
    return cell.cell_type == "code" and bool(m.get("grade")) and not m.get("solution")


class UnconfinedRefused(RuntimeError):
    pass


def resolve_mode(mode: str, allow_unconfined: bool) -> str:
    """The confinement to use: 'auto' picks the strongest; 'none' only when explicitly allowed."""
    chosen = sandbox.available_mode() if mode == "auto" else mode
    if chosen == "none" and not allow_unconfined:
        raise UnconfinedRefused(
            "student code cannot be confined on this machine (no root, no user namespaces): refusing to grade. "
            "Grade as root, enable unprivileged user namespaces, or pass --unconfined (student code then runs "
            "with your rights; verdicts are still reached outside its process).")
    return chosen


class ConfinedExecute(NbGraderPreprocessor):
    """Run the student's cells confined and the tests in the checker (replaces nbgrader's Execute)."""

    mode = Unicode("auto", help="'auto', 'root', 'userns' or 'none'").tag(config=True)
    allow_unconfined = Bool(False, help="grade without confinement when none is possible").tag(config=True)
    timeout = Float(60.0, help="seconds per student cell and per function call").tag(config=True)
    notebook_timeout = Float(300.0, help="wall-clock seconds per notebook").tag(config=True)
    max_output_bytes = Integer(1 << 20, help="student output kept per notebook").tag(config=True)
    memory_bytes = Integer(sandbox.Limits.memory_bytes, help="memory per kernel").tag(config=True)
    max_processes = Integer(sandbox.Limits.max_processes, help="processes and threads per kernel").tag(config=True)
    report_dir = Unicode("", help="folder for per-submission JSON reports").tag(config=True)

    def settings(self) -> Settings:
        limits = sandbox.Limits(memory_bytes=self.memory_bytes, max_processes=self.max_processes)
        return Settings(mode=resolve_mode(self.mode, self.allow_unconfined), limits=limits,
                        cell_timeout=self.timeout, notebook_timeout=self.notebook_timeout,
                        max_output_bytes=self.max_output_bytes)

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        trusted, tests, student_names = self._trusted(info)
        report = {"student": info["student"], "assignment": info["assignment"], "notebook": info["notebook"],
                  "events": [], "tests": {}}
        settings = self.settings()
        report["confinement"] = settings.mode
        # a cell is a test if it says so or if it carries a test's id: a test's source never enters the kernel
        test_cells = [c for c in nb.cells if c.cell_type == "code" and (is_test(c) or _meta(c).get("grade_id") in tests)]
        kernel_cells = [c for c in nb.cells if c.cell_type == "code" and c not in test_cells]
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        kernel = None
        try:
            with ConfinedKernel(settings) as kernel:
                for n, cell in enumerate(kernel_cells, start=1):   # phase 1: the student's cells
                    gid = _meta(cell).get("grade_id")
                    source = trusted[gid] if _meta(cell).get("locked") and gid in trusted else cell.source
                    cell.outputs = [nbformat.from_dict(o) for o in kernel.run_cell(source)]
                    cell.execution_count = n
                setup = [trusted[_meta(c)["grade_id"]] for c in kernel_cells
                         if _meta(c).get("locked") and _meta(c).get("grade_id") in trusted]
                checker = Checker(kernel, setup, student_names)
                for cell in test_cells:                             # phase 2: the tests, in the checker
                    gid = _meta(cell).get("grade_id")
                    if gid not in tests:
                        outputs = [_error("UnknownTest", f"test cell {gid!r} is not in the gradebook")]
                    else:
                        outputs = checker.run(tests[gid], gid)
                    cell.outputs = [nbformat.from_dict(o) for o in outputs]
                    report["tests"][gid] = next((f"{o['ename']}: {o['evalue']}"[:300] for o in outputs
                                                 if o["output_type"] == "error"), "passed")
        except KernelFailure as exc:
            report["events"].append(str(exc))
            for cell in test_cells:
                if not cell.outputs:
                    cell.outputs = [nbformat.from_dict(_error("KernelFailure", str(exc)))]
        except Exception as exc:  # noqa: BLE001  (whatever a kernel did, it ends this notebook only)
            report["events"].append(f"grading stopped: {type(exc).__name__}: {str(exc)[:200]}")
            for cell in test_cells:
                cell.outputs = [nbformat.from_dict(_error("GradingError", "this notebook could not be graded"))]
        if kernel is not None:   # after the kernel stopped: its cgroup's limit counters are in too
            for event in kernel.events + ([kernel.dead] if kernel.dead else []):
                if event not in report["events"]:
                    report["events"].append(event)
        self._write_report(report)
        return nb, resources

    def _trusted(self, info) -> tuple[dict[str, str], dict[str, str], set[str]]:
        """From the gradebook: locked cells' sources, test sources, and the names the tasks define."""
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            sources = {c.name: c.source for c in notebook.source_cells}
            tests = {c.name: sources[c.name] for c in notebook.grade_cells
                     if c.cell_type == "code" and c.name in sources}
            solution_ids = {c.name for c in notebook.solution_cells}
            tests = {k: v for k, v in tests.items() if k not in solution_ids}
            locked = {c.name: c.source for c in notebook.source_cells
                      if c.locked and c.cell_type == "code" and c.name not in tests}
            names = set().union(*(defined_names(sources[n]) for n in solution_ids if n in sources and
                                  n not in tests))
        return locked, tests, names

    def _write_report(self, report: dict) -> None:
        if not self.report_dir:
            return
        path = Path(self.report_dir) / report["assignment"] / f"{report['student']}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(report, indent=1))


def _error(ename: str, evalue: str) -> dict:
    return {"output_type": "error", "ename": ename, "evalue": evalue, "traceback": [f"{ename}: {evalue}"]}


class SanitizeFeedback(NbGraderPreprocessor):
    """In feedback: student markdown shown as text (no raw HTML or scripts), outputs reduced to text and images."""

    max_output_bytes = Integer(1 << 20).tag(config=True)
    max_source_chars = Integer(20_000, help="a student cell's code shown in feedback").tag(config=True)
    release_directory = Unicode("", help="the course's release folder: markdown found there is the "
                                         "instructor's and stays rendered").tag(config=True)

    def _instructor_markdown(self, resources) -> set[str]:
        info = resources.get("nbgrader", {}) if isinstance(resources, dict) else {}
        if not (self.release_directory and info.get("assignment") and info.get("notebook")):
            return set()
        path = Path(self.release_directory) / info["assignment"] / f"{info['notebook']}.ipynb"
        try:
            release = nbformat.read(path, as_version=4)
        except (OSError, ValueError):
            return set()
        return {c.source for c in release.cells if c.cell_type == "markdown"}

    def preprocess(self, nb, resources):
        budget = self.max_output_bytes
        instructor = self._instructor_markdown(resources)
        for cell in nb.cells:
            locked = bool(_meta(cell).get("locked")) or (cell.cell_type == "markdown" and cell.source in instructor)
            if cell.cell_type in ("markdown", "raw") and not locked:
                # the student's own text, shown as text: no HTML, no links, no images
                cell.cell_type = "markdown"
                cell.source = "```text\n" + cell.source.replace("`", "\u02cb") + "\n```"
                cell.pop("attachments", None)
            if cell.cell_type != "code":
                continue
            if not locked and len(cell.source) > self.max_source_chars:
                cell.source = cell.source[:self.max_source_chars] + f"\n# [cut: {len(cell.source)} characters]"
            kept = []
            for out in cell.get("outputs", []):
                if out.get("output_type") in ("display_data", "execute_result"):
                    out["data"] = {k: v for k, v in out.get("data", {}).items()
                                   if k in ("text/plain", "image/png", "image/jpeg")}
                    out["metadata"] = {}
                    if not out["data"]:
                        continue
                size = len(json.dumps(out))
                if size > budget:
                    kept.append(nbformat.v4.new_output("stream", name="stdout", text="[output cut]\n"))
                    budget = 0
                    break
                budget -= size
                kept.append(out)
            cell.outputs = kept
        return nb, resources


__all__ = ["ConfinedExecute", "SanitizeFeedback", "MissingEntry", "UnconfinedRefused", "resolve_mode"]
