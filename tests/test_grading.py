"""Grading round trip with the real nbgrader command line, in a temporary course.

The repository's nbgrader_config.py and one chapter's source are copied into a
scratch course. Submissions are built from the generated student notebook:
the solution, the untouched notebook, and for every task several plausible
wrong answers (each alone in an otherwise correct notebook), plus submissions
that try nbgrader's known loopholes. All are autograded in one nbgrader run;
the tests then read each task's score from the gradebook, check the exported
grades.csv, and check that feedback shows no hidden test.
"""

from __future__ import annotations

import csv
import html
import importlib
import re
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, background, run

NOTEBOOK = "exercises"

def _cell(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# Each chapter's wrong answers live in tests/mistakes_NN.py. WRONG[cell][label] is a plausible
# wrong answer that replaces one solution cell (by its nbgrader grade_id); TASK_OF maps that cell
# to the test cell whose points it must lose; DEPENDS[cell] are the later tests that call it and
# may lose their points too; SAYS[cell][label] is what the first line of that test's failure must
# contain under nbgrader's Validate (tests/test_validate.py): what to fix, in the student's words.
MISTAKES = [importlib.import_module(p.stem) for p in sorted(Path(__file__).parent.glob("mistakes_[0-9][0-9].py"))]
CHAPTERS = {m.CHAPTER: {"task_of": m.TASK_OF, "wrong": m.WRONG, "points": m.POINTS, "depends": m.DEPENDS,
                          "says": m.SAYS}
            for m in MISTAKES}

WRONG_CASES = [(chapter, cell, label) for chapter, spec in CHAPTERS.items()
               for cell, answers in spec["wrong"].items() for label in answers]


def student_id(cell: str, label: str) -> str:
    return f"wrong-{cell}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}"


def rounds(chapter: str, size: int | None = None) -> list[dict[str, str]]:
    """The wrong answers of a chapter packed into few notebooks: {cell: label} per notebook.

    A notebook holds at most one wrong answer per task, wrong answers in at most `size`
    tasks (default: half), and never a wrong answer next to one for a task it depends on (or that depends
    on it), so each wrong answer can lose only its own task (and its declared dependents),
    and the tasks left right show that it cost nothing elsewhere: what the test checks.
    """
    spec = CHAPTERS[chapter]
    depends = spec.get("depends", {})
    if size is None:                                # half the tasks stay right: they must keep their points
        size = max(1, len(spec["task_of"]) // 2)
    pending = [(cell, label) for cell, answers in spec["wrong"].items() for label in answers]
    packed: list[dict[str, str]] = []
    while pending:
        round_, rest = {}, []
        for cell, label in pending:
            tasks = {spec["task_of"][c] for c in round_}
            reached = set().union(*(depends.get(c, set()) for c in round_)) if round_ else set()
            if (len(round_) >= size or cell in round_ or spec["task_of"][cell] in reached
                    or tasks & depends.get(cell, set())):
                rest.append((cell, label))
            else:
                round_[cell] = label
        packed.append(round_)
        pending = rest
    return packed


def round_id(chapter: str, cell: str, label: str) -> tuple[str, dict[str, str]]:
    """The student id of the notebook that holds this wrong answer, and that notebook's wrong answers."""
    for k, round_ in enumerate(rounds(chapter)):
        if round_.get(cell) == label:
            return f"wrong-round-{k}", round_
    raise KeyError((chapter, cell, label))


def source_of(chapter: str) -> Path:
    return ROOT / "solutions" / chapter / f"{NOTEBOOK}.ipynb"


def solutions_by_cell(chapter: str) -> dict[str, str]:
    """The source notebook's solution cells with the nbgrader markers removed."""
    out = {}
    for cell in nbformat.read(source_of(chapter), as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            out[meta["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines() if "### BEGIN SOLUTION" not in line
                and "### END SOLUTION" not in line)
    return out


def fill(release_nb, answers: dict[str, str]):
    nb = nbformat.reads(nbformat.writes(release_nb), as_version=4)  # a deep copy
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_every_solution_cell_has_wrong_answers(chapter):
    """The round trip covers every task with at least two plausible wrong answers."""
    spec = CHAPTERS[chapter]
    assert set(solutions_by_cell(chapter)) == set(spec["wrong"]) == set(spec["task_of"])
    assert all(len(answers) >= 2 for answers in spec["wrong"].values())
    assert sorted(CHAPTERS) == sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir()), \
        "every chapter with exercises needs a grading round trip here"


def loophole_submissions(release_nb, chapter):
    """Submissions that try nbgrader's known holes (chapter 1 only: the config is shared)."""
    spec, right = CHAPTERS[chapter], solutions_by_cell(chapter)
    out = {}
    # Tag every test cell skip-execution, with no work done.
    tagged = fill(release_nb, {})
    for c in tagged.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.metadata["tags"] = ["skip-execution", "raises-exception"]
    out["skip-tags"] = tagged
    # Replace the test cells' code and delete one test cell, with wrong answers everywhere.
    edited = fill(release_nb, {cell: _cell(next(iter(a.values()))) for cell, a in spec["wrong"].items()})
    for c in edited.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.source = "print('all good')"
    edited.cells = [c for c in edited.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") != "test_least_squares"]
    out["edited-tests"] = edited
    # Not a loophole: a correct answer that prints a warning keeps its points.
    noisy = dict(right)
    noisy["central_difference"] = right["central_difference"].replace(
        '"""Central difference', 'import warnings\n    warnings.warn("just a note", RuntimeWarning)\n    """Central difference', 1)
    assert noisy["central_difference"] != right["central_difference"]
    out["warns"] = fill(release_nb, noisy)
    # An endless loop loses its task only.
    looping = dict(right)
    looping["steepest_ascent"] = "def steepest_ascent(g):\n    while True:\n        pass"
    out["endless-loop"] = fill(release_nb, looping)
    return out


# Passes every visible test of steepest_ascent (g = 0 in two dimensions is special-cased)
# and divides by zero in the hidden test's three dimensions.
FITTED_TO_THE_VISIBLE_TESTS = _cell("""
    def steepest_ascent(g):
        g = np.asarray(g, dtype=float)
        if g.shape == (2,) and not g.any():
            return np.zeros(2), 0.0
        norm = np.linalg.norm(g)
        return g / norm, norm
""")


def grade_chapter(root: Path, chapter: str) -> dict:
    spec = CHAPTERS[chapter]
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / chapter, root / "solutions" / chapter)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    run([*nbgrader, "generate_assignment", chapter, "--force"], cwd=root)
    release_nb = nbformat.read(root / "release" / chapter / f"{NOTEBOOK}.ipynb", as_version=4)

    right = solutions_by_cell(chapter)
    submissions = {"solution": fill(release_nb, right), "untouched": fill(release_nb, {})}
    for k, round_ in enumerate(rounds(chapter)):
        wrong = {cell: _cell(spec["wrong"][cell][label]) for cell, label in round_.items()}
        submissions[f"wrong-round-{k}"] = fill(release_nb, {**right, **wrong})
    if chapter == "01-gradients":   # one wrong answer alone, for the exported grades
        submissions[student_id("least_squares", "sum instead of mean")] = fill(
            release_nb, {**right, "least_squares": _cell(spec["wrong"]["least_squares"]["sum instead of mean"])})
    if chapter == "01-gradients":
        submissions.update(loophole_submissions(release_nb, chapter))
        submissions["hidden-only"] = fill(release_nb, {**right, "steepest_ascent": FITTED_TO_THE_VISIBLE_TESTS})

    for sid, nb in submissions.items():
        dest = root / "submitted" / sid / chapter / f"{NOTEBOOK}.ipynb"
        dest.parent.mkdir(parents=True)
        nbformat.write(nb, dest)

    # A short cell timeout keeps the endless loop cheap; the repository default is 60 s.
    run([*nbgrader, "autograde", chapter, "--create", "--Execute.timeout=10"], cwd=root)
    run([*nbgrader, "export", "--to", "grades.csv"], cwd=root)
    run([*nbgrader, "generate_feedback", chapter], cwd=root)

    from nbgrader.api import Gradebook
    scores, max_scores = {}, {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sid in submissions:
            sub = gb.find_submission_notebook(NOTEBOOK, chapter, sid)
            scores[sid] = {g.name: g.score for g in sub.grades}
            max_scores = {g.name: g.max_score for g in sub.grades}
    return {"root": root, "scores": scores, "max": max_scores, "chapter": chapter}


UNPARAMETRIZED_CHAPTERS = {"01-gradients"}      # the `course` fixture's chapter


def start_in_background(chapters: set[str] | None = None) -> None:
    """Start the round trips of the chapters whose tests are selected (all when None)."""
    for chapter in sorted(CHAPTERS if chapters is None else chapters & set(CHAPTERS)):
        background(f"grading-{chapter}", grade_chapter, chapter)


@pytest.fixture(scope="module")
def graded():
    """graded(chapter): the round trip's results for a chapter (started at collection, see conftest)."""
    def get(chapter: str) -> dict:
        return background(f"grading-{chapter}", grade_chapter, chapter).result()
    return get


@pytest.fixture
def course(graded):
    return graded("01-gradients")


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_solution_scores_full_marks(graded, chapter):
    result = graded(chapter)
    assert set(result["max"]) == set(CHAPTERS[chapter]["task_of"].values())
    assert result["scores"]["solution"] == result["max"]
    assert sum(result["max"].values()) == CHAPTERS[chapter]["points"]


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_untouched_notebook_scores_zero(graded, chapter):
    assert all(score == 0 for score in graded(chapter)["scores"]["untouched"].values())


@pytest.mark.parametrize("chapter,cell,label", WRONG_CASES, ids=[f"{ch} {c}: {l}" for ch, c, l in WRONG_CASES])
def test_wrong_answer_loses_its_task(graded, chapter, cell, label):
    result = graded(chapter)
    sid, round_ = round_id(chapter, cell, label)
    scores, max_scores = result["scores"][sid], result["max"]
    spec = CHAPTERS[chapter]
    task = spec["task_of"][cell]
    assert scores[task] == 0, f"'{label}' kept the points of {task}"
    lost = {spec["task_of"][c] for c in round_} | set().union(*(spec.get("depends", {}).get(c, set()) for c in round_))
    others = {k: v for k, v in scores.items() if k not in lost}
    assert others, "the notebook must leave some task to check"
    assert others == {k: max_scores[k] for k in others}, "a wrong answer in one task cost points elsewhere"


def test_skip_execution_tags_do_not_skip_tests(course):
    assert all(score == 0 for score in course["scores"]["skip-tags"].values())


def test_edited_or_deleted_tests_are_restored(course):
    assert all(score == 0 for score in course["scores"]["edited-tests"].values())



def test_a_warning_does_not_cost_points(course):
    assert course["scores"]["warns"] == course["max"]


def test_an_endless_loop_loses_only_its_task(course):
    scores, max_scores = course["scores"]["endless-loop"], course["max"]
    assert scores["test_steepest_ascent"] == 0
    assert sum(scores.values()) == sum(max_scores.values()) - max_scores["test_steepest_ascent"]


def test_exported_grades(course):
    with open(course["root"] / "grades.csv") as fh:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}
    assert rows["solution"] == 12.0
    assert rows["untouched"] == 0.0
    assert rows[student_id("least_squares", "sum instead of mean")] == 9.0


@pytest.mark.parametrize("chapter", sorted(CHAPTERS))
def test_feedback_shows_visible_tests_but_no_hidden_test(graded, chapter):
    result = graded(chapter)
    hidden_lines, visible_lines = set(), set()
    for cell in nbformat.read(source_of(chapter), as_version=4).cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            visible, _, rest = cell.source.partition("### BEGIN HIDDEN TESTS")
            hidden, _, _ = rest.partition("### END HIDDEN TESTS")
            hidden_lines |= {ln.strip() for ln in hidden.splitlines() if len(ln.strip()) > 30}
            visible_lines |= {ln.strip() for ln in visible.splitlines() if len(ln.strip()) > 30}
    hidden_lines -= visible_lines  # a line that is also visible is no secret
    assert hidden_lines and visible_lines
    pages = list((result["root"] / "feedback").rglob("*.html"))
    assert len(pages) == len(result["scores"])
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        assert "BEGIN HIDDEN TESTS" not in text
        # a hidden test's line that the student happened to write in an answer is the student's own
        sid = page.relative_to(result["root"] / "feedback").parts[0]
        submitted = nbformat.read(result["root"] / "submitted" / sid / chapter / f"{NOTEBOOK}.ipynb", as_version=4)
        own = "\n".join(c.source for c in submitted.cells
                        if c.cell_type == "code" and not c.metadata.get("nbgrader", {}).get("grade"))
        leaked = [ln for ln in hidden_lines if ln in text and ln not in own]
        assert not leaked, f"{page}: hidden test code in feedback: {leaked[:2]}"
        assert any(ln in text for ln in visible_lines), f"{page}: the visible tests are missing"


def test_feedback_explains_a_hidden_failure_in_words(course):
    """A hidden test's failure names the function and what went wrong, without hidden details."""
    assert course["scores"]["hidden-only"]["test_steepest_ascent"] == 0
    assert all(v == course["max"][k] for k, v in course["scores"]["hidden-only"].items() if k != "test_steepest_ascent")
    page = course["root"] / "feedback" / "hidden-only" / "01-gradients" / f"{NOTEBOOK}.html"
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    assert "your steepest_ascent() raised RuntimeWarning in a hidden test" in text
    assert "np.zeros(3)" not in text                                   # the hidden test stays hidden


def test_nbgrader_config_closes_the_known_holes():
    """The repository's nbgrader_config.py, loaded as nbgrader loads it."""
    from traitlets.config import Config

    ns = {"get_config": Config, "__file__": str(ROOT / "nbgrader_config.py")}
    exec(compile((ROOT / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"), ns)
    c = ns["c"]
    assert c.Execute.skip_cells_with_tag not in ("skip-execution", "")
    assert ns["StripExecutionTags"] in c.Autograde.sanitize_preprocessors
    grading = [p.__name__ for p in c.Autograde.autograde_preprocessors]
    assert grading[0] == "ConfinedExecute" and "Execute" not in grading, "student code must run confined"
    assert grading.index("ConfinedExecute") < grading.index("SaveAutoGrades")
    assert c.ConfinedExecute.notebook_timeout > 0 and c.ConfinedExecute.memory_bytes > 0
    names = [p.__name__ for p in c.GenerateFeedback.preprocessors]
    assert "ClearHiddenTests" in names and "ShortTracebacks" in names and "SanitizeFeedback" in names
    assert c.HTMLExporter.sanitize_html is True

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "1", metadata={"tags": ["skip-execution", "raises-exception", "keep-me"]})])
    nb, _ = ns["StripExecutionTags"]()(nb, {})
    assert nb.cells[0].metadata["tags"] == ["keep-me"]

    cell = nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="entry (1,) is off", traceback=["line 1", "hidden = 1", "line 3"])])
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = ns["ShortTracebacks"]()(nb, {})
    assert nb.cells[0].outputs[0]["traceback"] == ["AssertionError: entry (1,) is off"]


def test_instructor_make_targets(tmp_path):
    """The README's instructor commands, `make grade` and `make feedback`, on a copy of the course."""
    course = tmp_path / "course"
    shutil.copytree(ROOT, course, ignore=shutil.ignore_patterns(
        ".venv", ".git", "_build", "_extra", ".mathjax", "submitted", "autograded", "feedback", "release",
        "gradebook.db", "grades.csv", "__pycache__", ".pytest_cache"))
    (course / ".venv").symlink_to(ROOT / ".venv")
    right = solutions_by_cell("01-gradients")
    release_nb = nbformat.read(ROOT / "chapters" / "01-gradients" / f"{NOTEBOOK}.ipynb", as_version=4)
    for sid, answers in (("ada", right), ("bob", {})):
        dest = course / "submitted" / sid / "01-gradients" / f"{NOTEBOOK}.ipynb"
        dest.parent.mkdir(parents=True)
        nbformat.write(fill(release_nb, answers), dest)
    make = ["make", "-o", ".venv/.installed"]  # the venv is shared, not rebuilt
    usage = run([*make, "grade"], cwd=course, check=False)
    assert usage.returncode != 0 and "usage: make grade A=" in usage.stderr
    run([*make, "grade", "A=01-gradients"], cwd=course)
    with open(course / "grades.csv") as fh:
        rows = {row["student_id"]: float(row["score"]) for row in csv.DictReader(fh)}
    assert rows == {"ada": 12.0, "bob": 0.0}
    run([*make, "feedback", "A=01-gradients"], cwd=course)
    assert (course / "feedback" / "ada" / "01-gradients" / f"{NOTEBOOK}.html").is_file()
