"""`gradeguard grade ASSIGNMENT`: grade a class so that every submission ends with a status.

    gradeguard grade 01-gradients [--course DIR] [--unconfined]

1. checks that student code can be confined here (or stops, unless --unconfined);
2. registers the assignment (`nbgrader generate_assignment`);
3. reads every submitted/<student>/<assignment>/ defensively (:mod:`gradeguard.intake`)
   and stages a rebuilt notebook per readable submission (never the extra files);
4. autogrades the staged notebooks with nbgrader (confined: see nbgrader_config.py);
5. writes grades.csv, always, even when a step failed: one row per student with
   score, max_score, status (graded, flagged, missing, unreadable, rejected, error)
   and the reason, plus the notes of the intake.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nbformat

from . import intake
from .execute import UnconfinedRefused, resolve_mode

NOTEBOOK = "exercises"
FIELDS = ["assignment", "student_id", "score", "max_score", "status", "reason", "notes"]


def _nbgrader(course: Path, *args: str, timeout: float, log: Path) -> int:
    """Run nbgrader with its output streamed to `log` (never held in memory); its exit status."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as fh:
        try:
            return subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, stdout=fh,
                                  stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                  timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            fh.write(f"\ntimed out after {timeout:.0f} s\n".encode())
            return 124


def _tail(log: Path, n: int = 3000) -> str:
    with open(log, "rb") as fh:
        fh.seek(max(0, log.stat().st_size - n))
        return fh.read().decode(errors="replace")


def _max_score(course: Path, assignment: str) -> float:
    from nbgrader.api import Gradebook
    try:
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            return float(gb.find_assignment(assignment).max_score)
    except Exception:  # noqa: BLE001  (no gradebook yet: the row still gets written)
        return 0.0


def _scores(course: Path, assignment: str, students: list[str]) -> dict[str, float]:
    from nbgrader.api import Gradebook, MissingEntry
    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for sid in students:
            try:
                out[sid] = float(gb.find_submission(assignment, sid).score)
            except MissingEntry:
                pass
    return out


def write_grades(path: Path, rows: list[dict]) -> None:
    tmp = path.with_suffix(".csv.tmp")
    with open(tmp, "w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for row in sorted(rows, key=lambda r: r["student_id"]):
            writer.writerow({k: row.get(k, "") for k in FIELDS})
    os.replace(tmp, path)


def grade(course: Path, assignment: str, unconfined: bool = False, mode: str = "auto",
          log=print) -> list[dict]:
    """Grade every submission of `assignment`; returns (and writes to grades.csv) one row per student."""
    course = course.resolve()
    grades = course / "grades.csv"
    work = course / ".gradeguard" / assignment
    submitted = course / "submitted"
    students = sorted(p for p in submitted.iterdir()) if submitted.is_dir() else []
    rows: dict[str, dict] = {}

    def finish(reason_for_rest: str = "") -> list[dict]:
        max_score = _max_score(course, assignment)
        for p in students:
            rows.setdefault(p.name, {"status": "error", "reason": reason_for_rest or "not graded"})
        out = []
        for sid, row in rows.items():
            row.setdefault("score", 0.0)
            row.pop("flags", None)
            out.append({"assignment": assignment, "student_id": sid, "max_score": max_score, **row})
        write_grades(grades, out)
        return out

    grades.unlink(missing_ok=True)
    try:
        chosen = resolve_mode(mode, unconfined)
    except UnconfinedRefused as exc:
        finish(f"not graded: {exc}")
        raise
    log(f"confinement: {chosen}")
    shutil.rmtree(work, ignore_errors=True)
    log_file = work / "generate.log"
    if _nbgrader(course, "generate_assignment", assignment, "--force", "--log-level=WARN", timeout=600,
                 log=log_file) != 0:
        finish("not graded: nbgrader generate_assignment failed")
        raise RuntimeError(f"nbgrader generate_assignment {assignment} failed:\n{_tail(log_file)}")
    release = nbformat.read(course / "release" / assignment / f"{NOTEBOOK}.ipynb", as_version=4)
    try:
        _grade_all(course, assignment, chosen, release, students, rows, work, log)
    finally:
        out = finish("not graded: the run stopped early")
    return out


def _grade_all(course, assignment, chosen, release, students, rows, work, log) -> None:
    """Intake, staging and nbgrader's autograde; fills `rows` (student id -> row of grades.csv)."""
    staged = work / "submitted"
    staged.mkdir(parents=True)
    ok = []
    for student_dir in students:
        sub = intake.take(student_dir, assignment, NOTEBOOK, release)
        row = {"status": sub.status, "reason": sub.reason, "notes": "; ".join(sub.notes), "flags": sub.flags}
        rows[sub.student] = row
        if sub.status != "ok":
            continue
        dest = staged / sub.student / assignment
        dest.mkdir(parents=True)
        nbformat.write(sub.notebook, dest / f"{NOTEBOOK}.ipynb")
        if sub.timestamp:
            (dest / "timestamp.txt").write_text(sub.timestamp)
        ok.append(sub.student)
    log(f"{len(students)} submissions: {len(ok)} readable")

    reports = course / ".gradeguard" / "reports" / assignment
    shutil.rmtree(reports, ignore_errors=True)
    if ok:
        started = time.monotonic()
        _nbgrader(course, "autograde", assignment, "--create", "--force",
                  f"--CourseDirectory.submitted_directory={staged}", f"--ConfinedExecute.mode={chosen}",
                  *(["--ConfinedExecute.allow_unconfined=True"] if chosen == "none" else []),
                  timeout=60 + 400 * len(ok), log=work / "autograde.log")
        log(f"autograded in {time.monotonic() - started:.1f} s (log: {work / 'autograde.log'})")
    scores = _scores(course, assignment, ok) if ok else {}
    for sid in ok:
        row = rows[sid]
        report_file = reports / f"{sid}.json"
        if sid not in scores or not report_file.is_file():
            row.update(status="error", reason=f"nbgrader could not grade this notebook (see {work / 'autograde.log'})")
            continue
        report = json.loads(report_file.read_text())
        reasons = row.pop("flags") + report.get("events", [])
        row.update(score=scores[sid], status="flagged" if reasons else "graded", reason="; ".join(reasons))
    for row in rows.values():
        flagged = row.pop("flags", [])
        if flagged and row["status"] not in ("graded", "flagged"):
            row["reason"] = "; ".join([row["reason"], *flagged]).strip("; ")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="gradeguard", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("grade", help="grade every submission of an assignment, write grades.csv")
    g.add_argument("assignment")
    g.add_argument("--course", type=Path, default=Path.cwd(), help="the course root (default: here)")
    g.add_argument("--unconfined", action="store_true",
                   help="grade even where student code cannot be confined (unsafe: it runs with your rights)")
    g.add_argument("--mode", choices=["auto", "root", "userns", "none"], default="auto", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not (args.course / "solutions" / args.assignment).is_dir():
        print(f"error: no assignment solutions/{args.assignment}", file=sys.stderr)
        return 2
    try:
        rows = grade(args.course, args.assignment, unconfined=args.unconfined, mode=args.mode)
    except (UnconfinedRefused, RuntimeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        print(f"grades.csv lists every student as not graded.", file=sys.stderr)
        return 2
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
        if row["status"] != "graded":
            print(f"  {row['student_id']}: {row['status']}: {row['reason']}")
    print("grades.csv: " + ", ".join(f"{n} {status}" for status, n in sorted(counts.items())))
    return 0


if __name__ == "__main__":
    sys.exit(main())
