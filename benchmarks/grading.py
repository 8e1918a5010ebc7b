"""Seconds per notebook: the hardened grader against plain, unconfined `nbgrader autograde`.

    .venv/bin/python benchmarks/grading.py [--students 30]

One class of chapter-1 notebooks (a third correct, a third with one plausible wrong
answer, a third untouched) is graded twice in this process's run, in two scratch
courses: with the project's grading (`gradeguard grade`: intake, confined kernels,
the checker, grades.csv) and with nbgrader's own pipeline (`nbgrader autograde`,
its default Execute, no confinement). It prints seconds per notebook for each and
their ratio, and checks that both give the same total score per student.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from mistakes_01 import WRONG as WRONG_1  # noqa: E402
from test_grading import _cell, fill, solutions_by_cell  # noqa: E402

CHAPTER = "01-gradients"
PLAIN_CONFIG = """c = get_config()
c.CourseDirectory.source_directory = "solutions"
c.Execute.timeout = 60
"""


def nbgrader(course: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, check=True, capture_output=True)


def make_course(where: Path, config: str, students: dict) -> Path:
    where.mkdir()
    (where / "nbgrader_config.py").write_text(config)
    shutil.copytree(ROOT / "solutions" / CHAPTER, where / "solutions" / CHAPTER)
    nbgrader(where, "generate_assignment", CHAPTER, "--force")
    release = nbformat.read(where / "release" / CHAPTER / "exercises.ipynb", as_version=4)
    for sid, answers in students.items():
        dest = where / "submitted" / sid / CHAPTER / "exercises.ipynb"
        dest.parent.mkdir(parents=True)
        nbformat.write(fill(release, answers), dest)
    return where


def totals(course: Path, students) -> dict[str, float]:
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {sid: gb.find_submission(CHAPTER, sid).score for sid in students}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=30)
    n = parser.parse_args().students
    right = solutions_by_cell(CHAPTER)
    wrong = [(cell, code) for cell, answers in WRONG_1.items() for code in answers.values()]
    students = {}
    for i in range(n):
        if i % 3 == 0:
            students[f"s{i:03d}-correct"] = right
        elif i % 3 == 1:
            cell, code = wrong[i % len(wrong)]
            students[f"s{i:03d}-wrong"] = {**right, cell: _cell(code)}
        else:
            students[f"s{i:03d}-blank"] = {}
    with tempfile.TemporaryDirectory() as tmp:
        plain = make_course(Path(tmp) / "plain", PLAIN_CONFIG, students)
        hard = make_course(Path(tmp) / "hardened", (ROOT / "nbgrader_config.py").read_text(), students)
        start = time.perf_counter()
        nbgrader(plain, "autograde", CHAPTER, "--create")
        t_plain = time.perf_counter() - start
        start = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "gradeguard"), "grade", CHAPTER, "--course", str(hard)],
                       check=True, capture_output=True)
        t_hard = time.perf_counter() - start
        same = totals(plain, students) == totals(hard, students)
    print(f"{n} notebooks of chapter 1 ({n // 3 + (n % 3 > 0)} correct, the rest partly wrong or blank)")
    print(f"plain nbgrader autograde (unconfined): {t_plain / n:6.2f} s per notebook")
    print(f"gradeguard grade (confined, checker):  {t_hard / n:6.2f} s per notebook")
    print(f"ratio hardened / plain: {t_hard / t_plain:.2f}   same scores: {same}")
    if not same:
        sys.exit("the two graders disagree")


if __name__ == "__main__":
    main()
