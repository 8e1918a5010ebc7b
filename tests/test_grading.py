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
import re
import shutil
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, run

CHAPTER = "01-gradients"
NOTEBOOK = "exercises"
SOURCE = ROOT / "solutions" / CHAPTER / f"{NOTEBOOK}.ipynb"

# Each plausible wrong answer replaces one solution cell (by its nbgrader grade_id);
# TASK_OF maps that cell to the test cell whose points it must lose.
TASK_OF = {
    "central_difference": "test_central_difference",
    "numerical_gradient": "test_numerical_gradient",
    "directional_derivative": "test_directional_derivative",
    "steepest_ascent": "test_steepest_ascent",
    "least_squares": "test_least_squares",
}


def _cell(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


WRONG = {
    "central_difference": {
        "forward difference": """
            def central_difference(phi, s, eps=1e-6):
                return (phi(s + eps) - phi(s)) / eps
        """,
        "divides by eps instead of 2 eps": """
            def central_difference(phi, s, eps=1e-6):
                return (phi(s + eps) - phi(s - eps)) / eps
        """,
        "ignores the eps argument": """
            def central_difference(phi, s, eps=1e-6):
                h = 1e-2
                return (phi(s + h) - phi(s - h)) / (2 * h)
        """,
    },
    "numerical_gradient": {
        "perturbs every coordinate at once": """
            def numerical_gradient(f, x, eps=1e-6):
                x = np.array(x, dtype=float)
                slope = (f(x + eps) - f(x - eps)) / (2 * eps)
                return np.full_like(x, slope)
        """,
        "leaves the input modified": """
            def numerical_gradient(f, x, eps=1e-6):
                g = np.zeros(x.shape)
                for i in np.ndindex(x.shape):
                    x[i] += eps
                    f_plus = f(x)
                    x[i] -= 2 * eps
                    f_minus = f(x)
                    g[i] = (f_plus - f_minus) / (2 * eps)
                return g
        """,
        "keeps integer inputs as integers": """
            def numerical_gradient(f, x, eps=1e-6):
                x = x.copy()
                g = np.zeros_like(x)
                for i in np.ndindex(x.shape):
                    saved = x[i]
                    x[i] = saved + eps
                    f_plus = f(x)
                    x[i] = saved - eps
                    f_minus = f(x)
                    x[i] = saved
                    g[i] = (f_plus - f_minus) / (2 * eps)
                return g
        """,
        "loops over the first axis only": """
            def numerical_gradient(f, x, eps=1e-6):
                x = np.array(x, dtype=float)
                g = np.zeros_like(x)
                for i in range(len(x)):
                    saved = x[i].copy()
                    x[i] = saved + eps
                    f_plus = f(x)
                    x[i] = saved - eps
                    f_minus = f(x)
                    x[i] = saved
                    g[i] = (f_plus - f_minus) / (2 * eps)
                return g
        """,
    },
    "directional_derivative": {
        "normalises v": """
            def directional_derivative(f, x, v, eps=1e-6):
                v = np.asarray(v, dtype=float)
                v = v / np.linalg.norm(v)
                return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)
        """,
        "forward difference": """
            def directional_derivative(f, x, v, eps=1e-6):
                return (f(x + eps * v) - f(x)) / eps
        """,
    },
    "steepest_ascent": {
        "descent instead of ascent": """
            def steepest_ascent(g):
                norm = np.linalg.norm(g)
                if norm == 0:
                    return np.zeros_like(g), 0.0
                return -g / norm, norm
        """,
        "not normalised": """
            def steepest_ascent(g):
                return g, np.linalg.norm(g)
        """,
        "divides by zero at a stationary point": """
            def steepest_ascent(g):
                norm = np.linalg.norm(g)
                return g / norm, norm
        """,
    },
    "least_squares": {
        "sum instead of mean": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * len(y))

            def least_squares_grad(w, X, y):
                return X.T @ (X @ w - y)
        """,
        "missing transpose": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * len(y))

            def least_squares_grad(w, X, y):
                return X @ (X @ w - y) / len(y)
        """,
        "sign flipped": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / (2 * len(y))

            def least_squares_grad(w, X, y):
                return X.T @ (y - X @ w) / len(y)
        """,
        "loss without the 1/2": """
            def least_squares_loss(w, X, y):
                r = X @ w - y
                return float(r @ r) / len(y)

            def least_squares_grad(w, X, y):
                return X.T @ (X @ w - y) / len(y)
        """,
    },
}

WRONG_CASES = [(cell, label) for cell, answers in WRONG.items() for label in answers]


def student_id(cell: str, label: str) -> str:
    return f"wrong-{cell}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-')}"


def solutions_by_cell() -> dict[str, str]:
    """The source notebook's solution cells with the nbgrader markers removed."""
    out = {}
    for cell in nbformat.read(SOURCE, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            out[meta["grade_id"]] = "\n".join(
                line for line in cell.source.splitlines() if "### BEGIN SOLUTION" not in line
                and "### END SOLUTION" not in line)
    return out


def fill(release_nb, answers: dict[str, str]):
    nb = nbformat.from_dict(release_nb)
    nb = nbformat.reads(nbformat.writes(nb), as_version=4)  # deep copy
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    return nb


def test_every_solution_cell_has_wrong_answers():
    """The round trip covers every task with at least two plausible wrong answers."""
    assert set(solutions_by_cell()) == set(WRONG) == set(TASK_OF)
    assert all(len(answers) >= 2 for answers in WRONG.values())


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / CHAPTER, root / "solutions" / CHAPTER)
    nbgrader = [sys.executable, "-m", "nbgrader"]
    run([*nbgrader, "generate_assignment", CHAPTER, "--force"], cwd=root)
    release_nb = nbformat.read(root / "release" / CHAPTER / f"{NOTEBOOK}.ipynb", as_version=4)

    right = solutions_by_cell()
    submissions = {"solution": fill(release_nb, right), "untouched": fill(release_nb, {})}
    for cell, label in WRONG_CASES:
        submissions[student_id(cell, label)] = fill(release_nb, {**right, cell: _cell(WRONG[cell][label])})

    # Loophole 1: tag every test cell skip-execution, with no work done.
    tagged = fill(release_nb, {})
    for c in tagged.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.metadata["tags"] = ["skip-execution", "raises-exception"]
    submissions["skip-tags"] = tagged
    # Loophole 2: replace the test cells' code and delete one test cell, with wrong answers.
    wrong_everywhere = {cell: _cell(next(iter(answers.values()))) for cell, answers in WRONG.items()}
    edited = fill(release_nb, wrong_everywhere)
    for c in edited.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.source = "print('all good')"
    edited.cells = [c for c in edited.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") != "test_least_squares"]
    submissions["edited-tests"] = edited
    # Not a loophole: a correct answer that prints a warning keeps its points.
    noisy = dict(right)
    noisy["central_difference"] = right["central_difference"].replace(
        '"""Central difference', 'import warnings\n    warnings.warn("just a note", RuntimeWarning)\n    """Central difference', 1)
    assert noisy["central_difference"] != right["central_difference"]
    submissions["warns"] = fill(release_nb, noisy)
    # An endless loop loses its task only.
    looping = dict(right)
    looping["steepest_ascent"] = "def steepest_ascent(g):\n    while True:\n        pass"
    submissions["endless-loop"] = fill(release_nb, looping)

    for sid, nb in submissions.items():
        dest = root / "submitted" / sid / CHAPTER / f"{NOTEBOOK}.ipynb"
        dest.parent.mkdir(parents=True)
        nbformat.write(nb, dest)

    # A short cell timeout keeps the endless loop cheap; the repository default is 60 s.
    run([*nbgrader, "autograde", CHAPTER, "--create", "--Execute.timeout=10"], cwd=root)
    run([*nbgrader, "export", "--to", "grades.csv"], cwd=root)
    run([*nbgrader, "generate_feedback", CHAPTER], cwd=root)

    from nbgrader.api import Gradebook
    scores, max_scores = {}, {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for sid in submissions:
            sub = gb.find_submission_notebook(NOTEBOOK, CHAPTER, sid)
            scores[sid] = {g.name: g.score for g in sub.grades}
            max_scores = {g.name: g.max_score for g in sub.grades}
    return {"root": root, "scores": scores, "max": max_scores}


def test_solution_scores_full_marks(course):
    scores, max_scores = course["scores"]["solution"], course["max"]
    assert set(max_scores) == set(TASK_OF.values())
    assert scores == max_scores
    assert sum(max_scores.values()) == 12


def test_untouched_notebook_scores_zero(course):
    assert all(score == 0 for score in course["scores"]["untouched"].values())


@pytest.mark.parametrize("cell,label", WRONG_CASES, ids=[f"{c}: {l}" for c, l in WRONG_CASES])
def test_wrong_answer_loses_its_task(course, cell, label):
    scores, max_scores = course["scores"][student_id(cell, label)], course["max"]
    task = TASK_OF[cell]
    assert scores[task] == 0, f"'{label}' kept the points of {task}"
    others = {k: v for k, v in scores.items() if k != task}
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


def test_feedback_shows_visible_tests_but_no_hidden_test(course):
    source_cells = nbformat.read(SOURCE, as_version=4).cells
    hidden_lines, visible_lines = set(), set()
    for cell in source_cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            visible, _, rest = cell.source.partition("### BEGIN HIDDEN TESTS")
            hidden, _, _ = rest.partition("### END HIDDEN TESTS")
            hidden_lines |= {ln.strip() for ln in hidden.splitlines() if len(ln.strip()) > 30}
            visible_lines |= {ln.strip() for ln in visible.splitlines() if len(ln.strip()) > 30}
    assert hidden_lines and visible_lines
    pages = list((course["root"] / "feedback").rglob("*.html"))
    assert len(pages) == len(course["scores"])
    import html
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        assert "BEGIN HIDDEN TESTS" not in text
        leaked = [ln for ln in hidden_lines if ln in text]
        assert not leaked, f"{page}: hidden test code in feedback: {leaked[:2]}"
    # a student who failed a hidden test still sees which check failed, in words
    page = next(p for p in pages if "divides-by-zero" in str(p))
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    assert "stationary point" in text
    assert any(ln in text for ln in visible_lines)


def test_nbgrader_config_closes_the_known_holes():
    """The repository's nbgrader_config.py, loaded as nbgrader loads it."""
    from traitlets.config import Config

    ns = {"get_config": Config, "__file__": str(ROOT / "nbgrader_config.py")}
    exec(compile((ROOT / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"), ns)
    c = ns["c"]
    assert c.Execute.skip_cells_with_tag not in ("skip-execution", "")
    assert ns["StripExecutionTags"] in c.Autograde.sanitize_preprocessors
    assert c.IgnorePattern.enabled and c.IgnorePattern.pattern
    names = [p.__name__ for p in c.GenerateFeedback.preprocessors]
    assert "ClearHiddenTests" in names and "ShortTracebacks" in names

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "1", metadata={"tags": ["skip-execution", "raises-exception", "keep-me"]})])
    nb, _ = ns["StripExecutionTags"]()(nb, {})
    assert nb.cells[0].metadata["tags"] == ["keep-me"]

    cell = nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output(
        "error", ename="AssertionError", evalue="entry (1,) is off", traceback=["line 1", "hidden = 1", "line 3"])])
    nb = nbformat.v4.new_notebook(cells=[cell])
    nb, _ = ns["ShortTracebacks"]()(nb, {})
    assert nb.cells[0].outputs[0]["traceback"] == ["AssertionError: entry (1,) is off"]
