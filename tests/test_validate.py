"""What a student reads under nbgrader's Validate: the first line of every failure says what to fix.

`nbgrader validate` (and JupyterLab's Validate button, which runs the same code) prints each
line of a failing cell's error cut to 87 characters. For every usual mistake of every chapter
(tests/mistakes_NN.py), the student notebook is filled with that wrong answer and validated as a
student would, with no course configuration; the failure of the task's test must then carry the
mistake's SAYS phrase on its first line, nothing of the message may be cut off, and a task that
fails because it calls a wrong earlier function must name that function.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, background, run
from test_grading import CHAPTERS, NOTEBOOK, _cell, fill, rounds, solutions_by_cell

EXCEPTION_LINE = re.compile(r"^    ([A-Za-z_][\w.]*(?:Error|Exception|Warning)): (.*)$")


def validator():
    from nbgrader.validator import Validator
    return Validator()


def failures(output: str, tests: dict[str, str]) -> dict[str, list[str]]:
    """{test grade_id: the lines of its error message as printed} from validate's output."""
    indent = validator()._indent
    shown = {gid: indent(source) for gid, source in tests.items()}
    out = {}
    for block in output.split("=" * 90):
        if "The following cell failed:" not in block or "The error was:" not in block:
            continue
        source, error = block.split("The error was:", 1)
        gid = next((g for g, text in shown.items() if text in source), None)
        lines = error.strip("\n").splitlines()
        starts = [i for i, line in enumerate(lines) if EXCEPTION_LINE.match(line)]
        if gid is not None and starts:
            out[gid] = [ln for ln in lines[starts[-1]:] if ln.strip()]
    return out


def validate_chapter(scratch: Path, chapter: str) -> list[dict]:
    """Validate one notebook per round of wrong answers; each round's failures by test.

    One `nbgrader validate` command takes every round's notebook, in order, as a student
    validating several notebooks would; its report on each starts "VALIDATION FAILED".
    """
    release_nb = nbformat.read(ROOT / "chapters" / chapter / f"{NOTEBOOK}.ipynb", as_version=4)
    tests = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release_nb.cells
             if c.metadata.get("nbgrader", {}).get("grade")}
    spec, right = CHAPTERS[chapter], solutions_by_cell(chapter)
    rounds_ = rounds(chapter, size=len(spec["task_of"]))
    paths = []
    for k, round_ in enumerate(rounds_):
        folder = scratch / f"round-{k}"
        folder.mkdir()
        wrong = {cell: _cell(spec["wrong"][cell][label]) for cell, label in round_.items()}
        nbformat.write(fill(release_nb, {**right, **wrong}), folder / f"{NOTEBOOK}.ipynb")
        paths.append(folder / f"{NOTEBOOK}.ipynb")
    out = run([sys.executable, "-m", "nbgrader", "validate", *paths], cwd=scratch, timeout=900).stdout
    reports = [FAILED + part for part in out.split(FAILED)[1:]]
    assert len(reports) == len(rounds_), f"expected {len(rounds_)} failed validations:\n{out[-3000:]}"
    return [{"round": round_, "output": report, "failures": failures(report, tests)}
            for round_, report in zip(rounds_, reports)]


FAILED = "VALIDATION FAILED ON "


UNPARAMETRIZED_CHAPTERS: set[str] = set()       # the unparametrized test reads no validation


def start_in_background(chapters: set[str] | None = None) -> None:
    """Start the validations of the chapters whose tests are selected (all when None)."""
    for chapter in sorted(CHAPTERS if chapters is None else chapters & set(CHAPTERS)):
        background(f"validate-{chapter}", validate_chapter, chapter)


CASES = [(chapter, cell, label) for chapter, spec in CHAPTERS.items()
         for cell, answers in spec["wrong"].items() for label in answers]


def test_every_mistake_has_words():
    """Each wrong answer names what its test must say, in a phrase short enough for a first line."""
    for chapter, cell, label in CASES:
        phrase = CHAPTERS[chapter]["says"].get(cell, {}).get(label)
        assert phrase, f"{chapter} {cell}: {label!r} has no SAYS phrase"
        assert len(phrase) <= 60, f"{chapter} {cell}: {label!r}: the phrase {phrase!r} is too long for a first line"


@pytest.mark.grading
@pytest.mark.parametrize("chapter,cell,label", CASES, ids=[f"{ch} {c}: {lab}" for ch, c, lab in CASES])
def test_validate_says_what_to_fix(chapter, cell, label):
    results = background(f"validate-{chapter}", validate_chapter, chapter).result()
    result = next(r for r in results if r["round"].get(cell) == label)
    spec = CHAPTERS[chapter]
    task = spec["task_of"][cell]
    lines = result["failures"].get(task)
    assert lines, f"Validate did not report a failure of {task}:\n{result['output'][-3000:]}"
    first = lines[0]
    phrase = spec["says"][cell].get(label)
    assert phrase, f"{chapter} {cell}: {label!r} has no SAYS phrase in tests/mistakes_{chapter[:2]}.py"
    assert phrase.lower() in first.lower(), f"{task}'s first line does not say {phrase!r}:\n" + "\n".join(lines)
    cut = [ln for ln in lines if ln.endswith("...")]
    assert not cut, f"Validate cut {task}'s message:\n" + "\n".join(lines)


DEPENDENT = [(chapter, cell, test) for chapter, spec in CHAPTERS.items()
             for cell, tests in spec["depends"].items() for test in sorted(tests)]


@pytest.mark.grading
@pytest.mark.parametrize("chapter,cell,test", DEPENDENT, ids=[f"{ch} {c} -> {t}" for ch, c, t in DEPENDENT])
def test_a_task_failing_because_of_an_earlier_one_says_so(chapter, cell, test):
    """When a wrong earlier function makes a later task fail, the later failure names it first."""
    results = background(f"validate-{chapter}", validate_chapter, chapter).result()
    seen = 0
    for result in results:
        if cell in result["round"] and test in result["failures"]:
            seen += 1
            first = result["failures"][test][0]
            assert f"Fix {cell}" in first, (f"{test} failed with {cell} wrong ({result['round'][cell]!r}) "
                                            f"without naming it:\n" + "\n".join(result["failures"][test]))
    assert seen, f"no wrong {cell} made {test} fail: the dependency is not exercised"
