"""The student notebooks in chapters/ are exactly what nbgrader generates from solutions/."""

import re
import sys
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT

sys.path.insert(0, str(ROOT / "tools"))
import release  # noqa: E402

SOURCES = sorted((ROOT / "solutions").glob("*/*.ipynb"))
SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def code_cells(path):
    return [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def student_path(source: Path) -> Path:
    return ROOT / "chapters" / source.parent.name / source.name


def test_there_are_sources():
    assert SOURCES, "no exercise sources under solutions/"


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_student_notebook_equals_fresh_nbgrader_output(source, tmp_path):
    generated = release.generate(source.parent.name, tmp_path)
    assert source.name in generated
    committed = student_path(source)
    assert committed.is_file(), f"{committed.relative_to(ROOT)} is missing: run `make release`"
    fresh = nbformat.read(generated[source.name], as_version=4)
    stored = nbformat.read(committed, as_version=4)
    assert stored == fresh, (f"{committed.relative_to(ROOT)} differs from what nbgrader generates from "
                             f"{source.relative_to(ROOT)}: run `make release` (never edit it by hand)")


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_student_notebook_holds_no_solution_or_hidden_test(source):
    text = student_path(source).read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    student_code = "\n".join(c.source for c in code_cells(student_path(source)))
    public = {ln.strip() for c in code_cells(source) for ln in
              SOLUTION_REGION.sub("", HIDDEN_REGION.sub("", c.source)).splitlines()}
    for cell in code_cells(source):
        for region in SOLUTION_REGION.findall(cell.source) + HIDDEN_REGION.findall(cell.source):
            for line in region.splitlines():
                if len(line.strip()) > 25 and line.strip() not in public:
                    assert line.strip() not in student_code, f"leaked into the student notebook: {line.strip()}"
    stubs = student_code.count("raise NotImplementedError()")
    regions = sum(len(SOLUTION_REGION.findall(c.source)) for c in code_cells(source))
    assert stubs == regions > 0


@pytest.mark.parametrize("source", SOURCES, ids=lambda p: p.parent.name)
def test_exercise_design(source):
    """At least 4 graded tasks with points, each with hidden tests; tests never use descentlab."""
    cells = code_cells(source)
    graded = [c for c in cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert len(graded) >= 4
    for cell in graded:
        meta = cell.metadata["nbgrader"]
        assert meta["points"] > 0 and meta["locked"], meta["grade_id"]
        assert HIDDEN_REGION.search(cell.source), f"{meta['grade_id']} has no hidden tests"
        # The last line must not be an expression: nbgrader would read a number there as partial credit.
        assert cell.source.rstrip().splitlines()[-1].startswith("print("), meta["grade_id"]
    for cell in cells:
        assert "descentlab" not in cell.source, "exercise notebooks must not import descentlab (it holds the answers)"
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in cells if "nbgrader" in c.metadata]
    assert len(ids) == len(set(ids)), "duplicate nbgrader grade ids"
