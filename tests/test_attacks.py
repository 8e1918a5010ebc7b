"""A class of attackers, graded with the real command line (`gradeguard grade`, then `nbgrader generate_feedback`).

Every submission in ATTACKS starts from the untouched student notebook of chapter 1
(honest score 0) and adds code that tries to win points without the work, read a
secret, change a classmate's grade or the course, or stop the class. Honest students
are graded first and last (`aaa-honest`, `zzz-honest`) and must keep full marks.
Secrets are planted in a hidden test, in a solution, in a classmate's notebook and in
HOME; none may reach any feedback page. The course files, HOME and the virtual
environment must be unchanged afterwards.
"""

from __future__ import annotations

import csv
import hashlib
import html
import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import nbformat
import pytest

from conftest import ROOT, background, run
from test_grading import fill, solutions_by_cell

from gradeguard import sandbox

pytestmark = [pytest.mark.grading,
              pytest.mark.skipif(sandbox.available_mode() == "none", reason="no confinement possible here")]

CHAPTER, NOTEBOOK, FULL = "01-gradients", "exercises", 12.0
SECRET = {k: f"GG-{k.upper()}-{uuid.uuid4().hex[:10]}" for k in ("hidden", "solution", "classmate", "home")}

# Chapter 1's test config is shortened so the slow attackers cost seconds, not minutes.
CONFIG = """
c.ConfinedExecute.timeout = 4
c.ConfinedExecute.notebook_timeout = 15
c.ConfinedExecute.max_output_bytes = 200_000
c.ConfinedExecute.memory_bytes = 768 << 20
"""


def code(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def attacks(course: Path, home: Path) -> dict[str, dict]:
    """name -> {"cells": extra code cells (after the set-up), "answers": answer cells, "expect": score}."""
    sub = course / "submitted"
    return {
        "rebind-helper": {"cells": [code("""
            def check_close(*args, **kwargs):
                pass
            def _diagnose(*args):
                return ""
            """)], "answers": {"central_difference": "def central_difference(phi, s, eps=1e-6):\n    return 0.0"},
            "flag": "redefines the course's helpers"},
        "patch-numpy": {"cells": [code("""
            import numpy as np
            np.allclose = lambda *a, **k: True
            np.all = lambda *a, **k: True
            np.abs = lambda x: 0 * x
            np.array_equal = lambda *a, **k: True
            np.isfinite = lambda x: True
            """)], "flag": "changes a library function"},
        "input-transformer": {"cells": [code("""
            ip = get_ipython()
            ip.input_transformers_post.append(lambda lines: ["pass\\n"])
            ip.input_transformers_cleanup.append(lambda lines: ["pass\\n"])
            """)], "flag": "reaches into IPython"},
        "custom-exception-handler": {"cells": [code("""
            get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)
            """)], "answers": {"steepest_ascent": "def steepest_ascent(g):\n    raise RuntimeError('swallowed?')"},
            "flag": "reaches into IPython"},
        "read-solutions": {"cells": [code(f"""
            import json, glob
            found = []
            for path in [{str(course / 'solutions' / CHAPTER / 'exercises.ipynb')!r},
                         "../../../solutions/{CHAPTER}/exercises.ipynb", "/proc/1/cwd/solutions/{CHAPTER}/exercises.ipynb",
                         *glob.glob("/**/solutions/**/*.ipynb", recursive=True)]:
                try:
                    nb = json.load(open(path))
                except OSError:
                    continue
                found.append(path)
                for cell in nb["cells"]:
                    if cell["metadata"].get("nbgrader", {{}}).get("solution"):
                        exec("".join(cell["source"]))
            print("found", found)
            """)], "flag": "uses files"},
        "sql-gradebook": {"cells": [code(f"""
            import sqlite3
            for db in [{str(course / 'gradebook.db')!r}, "../../../gradebook.db"]:
                try:
                    con = sqlite3.connect(db)
                    con.execute("UPDATE grade SET auto_score = 12")
                    con.execute("UPDATE source_cell SET source = 'pass'")
                    con.commit()
                    print("edited", db)
                except Exception as e:
                    print("no", db, e)
            """)], "flag": "uses files"},
        "detached-grades-editor": {"cells": [code(f"""
            import os, time
            if os.fork() == 0:
                os.setsid()
                for _ in range(120):
                    try:
                        open({str(course / 'grades.csv')!r}, "w").write("student_id,score\\nattacker,1000\\n")
                    except OSError:
                        pass
                    time.sleep(0.25)
                os._exit(0)
            """)], "flag": "starts processes", "event": "killed with the kernel"},
        "overwrite-classmate": {"cells": [code(f"""
            import os
            for target in [{str(sub / 'aaa-honest' / CHAPTER / 'exercises.ipynb')!r},
                           {str(sub / 'zzz-honest' / CHAPTER / 'numpy.py')!r},
                           "../zzz-honest/{CHAPTER}/numpy.py", "/tmp/numpy.py", "numpy.py"]:
                try:
                    open(target, "w").write("raise SystemExit('hurt a classmate')\\n")
                    print("wrote", target)
                except OSError as e:
                    print("no", target)
            """)], "files": {"numpy.py": "raise SystemExit('a planted numpy')\n", "helper.py": "x = 1\n"},
            "flag": "uses files"},
        "ipython-startup": {"cells": [code(f"""
            import os
            for folder in [os.path.expanduser("~/.ipython/profile_default/startup"),
                           {str(home / '.ipython' / 'profile_default' / 'startup')!r}]:
                try:
                    os.makedirs(folder, exist_ok=True)
                    open(os.path.join(folder, "00-zero.py"), "w").write("raise SystemExit()\\n")
                    print("planted", folder)
                except OSError:
                    print("no", folder)
            """)], "flag": "uses files"},
        "append-config": {"cells": [code(f"""
            for target in [{str(course / 'nbgrader_config.py')!r}, {str(course / 'solutions' / CHAPTER / 'exercises.ipynb')!r},
                           {str(ROOT / '.venv' / 'lib' / 'evil.pth')!r}, {str(course / 'release' / 'x.txt')!r}]:
                try:
                    open(target, "a").write("\\nimport os; os.system('touch /tmp/pwned')\\n")
                    print("appended", target)
                except OSError:
                    print("no", target)
            """)], "flag": "uses files"},
        "leak-files": {"cells": [code(f"""
            import glob
            for path in [{str(home / 'secret.txt')!r}, {str(course / 'solutions' / CHAPTER / 'exercises.ipynb')!r},
                         {str(sub / 'aaa-honest' / CHAPTER / 'exercises.ipynb')!r}, {str(course / 'gradebook.db')!r},
                         *glob.glob("/**/*.ipynb", recursive=True)[:50]]:
                try:
                    print(open(path, errors="replace").read()[:100000])
                except OSError as e:
                    print("no", path)
            """)], "flag": "uses files"},
        "leak-history": {"answers": {"central_difference": code("""
            SEEN = []
            def central_difference(phi, s, eps=1e-6):
                consts = getattr(getattr(phi, "__code__", None), "co_consts", None)
                SEEN.append((s, eps, consts))
                print("inputs:", s, eps, consts)
                return (phi(s + eps) - phi(s - eps)) / (2 * eps)
            """)}, "tail": [code("""
            print(SEEN)
            print(In, Out)
            print(get_ipython().history_manager.input_hist_raw)
            """)], "expect": 2.0, "flag": "reaches into IPython"},
        "leak-hidden-inputs": {"answers": {"directional_derivative": code("""
            def directional_derivative(f, x, v, eps=1e-6):
                if len(x) == 4:      # only the hidden tests use 4-D points
                    c = f.__code__
                    g = {k: np.round(val, 4).tolist() for k, val in f.__globals__.items()
                         if k in c.co_names and isinstance(val, np.ndarray)}
                    raise ValueError(f"LEAK names={c.co_names} consts={c.co_consts} globals={g} x={x} v={v}")
                x, v = np.asarray(x, dtype=float), np.asarray(v, dtype=float)
                return (f(x + eps * v) - f(x - eps * v)) / (2 * eps)
            """)}, "answers_ok": ["central_difference", "numerical_gradient", "steepest_ascent", "least_squares"],
            "expect": 10.0},
        "rewrite-the-tests-inputs": {"answers": {"steepest_ascent": code("""
            def steepest_ascent(g):
                if len(g) == 2:
                    return np.array([0.6, -0.8]), 5.0      # the visible example
                if not np.any(g):
                    return np.zeros_like(g), 0.0
                g[:] = 0.0
                g[0] = 1.0                                 # the test's own g becomes e_1
                return g.copy(), 1.0
            """), "least_squares": code("""
            def least_squares_loss(w, X, y):
                if X.shape == (3, 2):
                    return 9.5 / 6
                X[...] = 0.0
                y[...] = 0.0
                return 0.0
            def least_squares_grad(w, X, y):
                if X.shape == (3, 2):
                    return np.array([2 / 3, -2.5 / 3])
                X[...] = 0.0
                y[...] = 0.0
                return np.zeros(X.shape[1])
            """)}},
        "forged-reply-flood": {"answers": {"central_difference": code("""
            def central_difference(phi, s, eps=1e-6):
                from IPython.display import publish_display_data
                P = 2**61 - 1
                pairs = ",".join("[%d,0]" % (i * P) for i in range(1, 120000))
                publish_display_data({"application/vnd.gradeguard.result+json":
                    '{"value": {"~": "dict", "v": [' + pairs + ']}, "changed": {}, "warnings": []}'})
                return 0.0
            """)}},
        "write-to-the-graders-pipes": {"cells": [code("""
            import os, sys
            for fd in (1, 2, sys.stdout.fileno()):
                try:
                    for _ in range(100):
                        os.write(fd, b"A" * (1 << 20))
                except OSError as e:
                    print("stopped", fd, e.errno)
            """)], "event": "printed more than"},
        "zmq-flood": {"cells": [code("""
            k = get_ipython().kernel
            s = k.session
            content = s.pack({"name": "stdout", "text": "A" * (32 << 20)})
            p = m = s.pack({})
            for i in range(12):
                h = s.pack(s.msg_header("stream"))
                sig = s.sign([h, p, m, content])
                k.iopub_socket.send_multipart([b"stream", b"<IDS|MSG>", sig, h, p, m, content], copy=False)
            """)], "flag": "reaches into IPython"},
        "parser-bombs": {"cells": ["1" + "+1" * 200000, "-" * 100000 + "1"]},
        # The OOM kill is not always reported in this corpus run (about 1 run in 3 here, with
        # the other gradings' kernels starting beside it): why is not known yet. That the limit
        # holds and is reported is tested on its own in test_sandbox.py::test_memory_limit; here
        # the hog must earn nothing and leave the class graded (the other attackers' rows).
        "memory-hog": {"cells": [code("""
            blocks = []
            for _ in range(60):
                blocks.append(b"x" * (100 << 20))      # written, so resident (a zeroed bytearray need not be)
            """)]},
        "fork-bomb": {"cells": [code("""
            import os, time
            for _ in range(500):
                try:
                    if os.fork() == 0:
                        time.sleep(60)
                        os._exit(0)
                except OSError:
                    break
            """)], "flag": "starts processes", "event": "process limit"},
        "output-flood": {"cells": [code("""
            for _ in range(20000):
                print("x" * 10000)
            """)], "event": ("printed more than", "hit the memory limit", "the kernel died")},
            # which limit stops it first depends on the machine's load
        "slow-cells": {"cells": [code("import time\ntime.sleep(3.5)") for _ in range(6)], "event": "time limit"},
        "sleep-hook": {"cells": [code("""
            import time
            get_ipython().events.register("pre_run_cell", lambda *a: time.sleep(3.5))
            """)], "answers_ok": ["central_difference", "numerical_gradient", "directional_derivative",
                                  "steepest_ascent", "least_squares"], "event": "time limit"},
        "kill-the-grader": {"cells": [code("""
            import os, signal
            for pid in (os.getppid(), 1, -1):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            """)], "flag": "starts processes"},
        "lying-objects": {"cells": [code("""
            import numpy as np
            class Always(np.ndarray):
                def __eq__(self, other):
                    return True
                def __sub__(self, other):
                    return np.zeros(1).view(Always)
            class Yes(float):
                def __eq__(self, other):
                    return True
            """)], "answers": {
                "central_difference": "def central_difference(phi, s, eps=1e-6):\n    return Yes(0.0)",
                "numerical_gradient": "def numerical_gradient(f, x, eps=1e-6):\n    return np.zeros(np.shape(x)).view(Always)",
                "steepest_ascent": "def steepest_ascent(g):\n    return (x for x in [1, 2])"}},
        "import-descentlab": {"answers": {"central_difference": code("""
            from descentlab.grad import central_difference as cd
            def central_difference(phi, s, eps=1e-6):
                return cd(phi, s, eps)
            """)}, "flag": "imports descentlab"},
        "markup": {"markdown": ["<script>alert('gg')</script><img src=x onerror=alert(1)> **bold** "
                                "[open the hint](javascript:alert(document.cookie))"],
                   "cells": [code("""
            from IPython.display import HTML, Javascript, display
            display(HTML("<script>alert('out')</script>"))
            display(Javascript("alert('js')"))
            """)]},
        "exit-kernel": {"cells": [code("import os\nos._exit(3)")]},
    }


def _tree_hash(path: Path) -> str:
    digest = hashlib.sha256()
    for p in sorted(path.rglob("*")) if path.is_dir() else [path]:
        if p.is_file() and not p.is_symlink():
            digest.update(str(p.relative_to(path.parent)).encode() + b"\0" + p.read_bytes())
    return digest.hexdigest()


def _plant(course: Path) -> None:
    """Secret lines in a hidden test and in a solution of the scratch course's source notebook."""
    path = course / "solutions" / CHAPTER / f"{NOTEBOOK}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "test_central_difference":
            cell.source = cell.source.replace("### END HIDDEN TESTS",
                                              f"# {SECRET['hidden']}\n"
                                              "check_close('the slope of the identity', central_difference(lambda s: s, 0.0), 1.0)\n"
                                              "### END HIDDEN TESTS")
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "central_difference":
            cell.source = cell.source.replace("### END SOLUTION", f"    # {SECRET['solution']}\n    ### END SOLUTION")
    nbformat.write(nb, path)


def start_in_background(chapters=None) -> None:
    if sandbox.available_mode() != "none":
        background("attacks", grade_class)


@pytest.fixture(scope="module")
def graded():
    return background("attacks", grade_class).result()


def grade_class(scratch: Path) -> dict:
    """Build the class (honest students, attackers, malformed files), grade it, make its feedback."""
    course, home = scratch / "attacked", scratch / "home"
    course.mkdir()
    home.mkdir()
    (home / "secret.txt").write_text(SECRET["home"])
    shutil.copy(ROOT / "nbgrader_config.py", course / "nbgrader_config.py")
    with open(course / "nbgrader_config.py", "a") as fh:
        fh.write(CONFIG)
    shutil.copytree(ROOT / "solutions" / CHAPTER, course / "solutions" / CHAPTER)
    _plant(course)
    run([sys.executable, "-m", "nbgrader", "generate_assignment", CHAPTER, "--force"], cwd=course)
    release = nbformat.read(course / "release" / CHAPTER / f"{NOTEBOOK}.ipynb", as_version=4)
    right = solutions_by_cell(CHAPTER)
    right["central_difference"] = right["central_difference"].replace(f"    # {SECRET['solution']}\n", "")
    plan = attacks(course, home)

    def write(sid: str, nb, files=None) -> Path:
        folder = course / "submitted" / sid / CHAPTER
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{NOTEBOOK}.ipynb")
        for name, content in (files or {}).items():
            (folder / name).write_text(content)
        return folder

    honest = fill(release, right)
    honest.cells.append(nbformat.v4.new_markdown_cell(f"My notes: {SECRET['classmate']}"))
    for sid in ("aaa-honest", "zzz-honest"):
        write(sid, honest)
    for name, spec in plan.items():
        nb = fill(release, {**{k: right[k] for k in spec.get("answers_ok", [])}, **spec.get("answers", {})})
        at = 2      # after the set-up cell
        for source in spec.get("cells", []):
            nb.cells.insert(at, nbformat.v4.new_code_cell(source))
            at += 1
        for source in spec.get("markdown", []):
            nb.cells.insert(1, nbformat.v4.new_markdown_cell(source))
        nb.cells += [nbformat.v4.new_code_cell(source) for source in spec.get("tail", [])]
        write(name, nb, spec.get("files"))

    # Malformed and tampered submissions, each next to honest work.
    pasted = fill(release, right)
    test_cell = next(c for c in pasted.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_least_squares")
    copy = nbformat.from_dict(json.loads(json.dumps(test_cell)))
    copy["id"] = "pasted-copy"
    pasted.cells.append(copy)
    write("honest-pasted-test-cell", pasted)
    schema = fill(release, right)
    schema.cells[3].metadata["nbgrader"]["schema_version"] = 99
    write("honest-unknown-schema", schema)
    stripped = fill(release, {})
    setup = next(c for c in stripped.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "setup")
    setup.metadata.pop("nbgrader")
    setup.source += "\n\ndef check_close(*args, **kwargs):\n    return None\n"
    write("stripped-setup-metadata", stripped)
    tagged = fill(release, {})
    for cell in tagged.cells:
        cell.metadata["tags"] = ["skip-execution", "raises-exception"]
    write("skip-tags", tagged)
    renamed = write("honest-renamed", honest)
    (renamed / f"{NOTEBOOK}.ipynb").rename(renamed / "exercises (1).ipynb")
    for sid, content in (("empty-file", b""), ("binary-file", os.urandom(4096)), ("not-json", b"{ cells: ")):
        folder = course / "submitted" / sid / CHAPTER
        folder.mkdir(parents=True)
        (folder / f"{NOTEBOOK}.ipynb").write_bytes(content)
    folder = course / "submitted" / "symlink-to-classmate" / CHAPTER
    folder.mkdir(parents=True)
    (folder / f"{NOTEBOOK}.ipynb").symlink_to(course / "submitted" / "aaa-honest" / CHAPTER / f"{NOTEBOOK}.ipynb")
    (course / "submitted" / "no-notebook" / CHAPTER).mkdir(parents=True)

    watched = {"solutions": course / "solutions", "release": course / "release", "config": course / "nbgrader_config.py",
               "home": home, "aaa": course / "submitted" / "aaa-honest", "zzz": course / "submitted" / "zzz-honest"}
    before = {k: _tree_hash(p) for k, p in watched.items()}
    started = time.time()
    env = {**os.environ, "HOME": str(home)}
    result = _run_env([sys.executable, "-m", "gradeguard.cli", "grade", CHAPTER, "--course", str(course)], course, env)
    seconds = time.time() - started
    grades_text = (course / "grades.csv").read_text()
    time.sleep(1.0)   # a detached writer, had it survived, would have rewritten grades.csv by now
    feedback = _run_env([sys.executable, "-m", "nbgrader", "generate_feedback", CHAPTER], course, env)
    with open(course / "grades.csv") as fh:
        rows = {r["student_id"]: r for r in csv.DictReader(fh)}
    return {"course": course, "home": home, "rows": rows, "plan": plan, "result": result, "feedback": feedback,
            "before": before, "after": {k: _tree_hash(p) for k, p in watched.items()}, "started": started,
            "grades_text": grades_text, "seconds": seconds}


def _run_env(cmd, cwd, env):
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)


def test_the_class_is_graded(graded):
    assert graded["result"].returncode == 0, graded["result"].stderr[-3000:]
    submitted = {p.name for p in (graded["course"] / "submitted").iterdir()}
    assert set(graded["rows"]) == submitted, "every student has a row in grades.csv"


@pytest.mark.parametrize("sid", ["aaa-honest", "zzz-honest", "honest-pasted-test-cell", "honest-unknown-schema",
                                 "honest-renamed"])
def test_honest_students_keep_full_marks(graded, sid):
    row = graded["rows"][sid]
    assert float(row["score"]) == FULL, row
    assert row["status"] == "graded", row


def test_a_renamed_notebook_is_matched_and_reported(graded):
    assert "exercises (1).ipynb" in graded["rows"]["honest-renamed"]["notes"]


@pytest.mark.parametrize("name", sorted(attacks(Path("/c"), Path("/h"))))
def test_an_attack_earns_only_what_its_honest_part_earns(graded, name):
    spec, row = graded["plan"][name], graded["rows"][name]
    assert float(row["score"]) == spec.get("expect", 0.0), row
    assert row["status"] in ("graded", "flagged"), row
    if "flag" in spec:
        assert row["status"] == "flagged" and spec["flag"] in row["reason"], row
    if "event" in spec:
        events = spec["event"] if isinstance(spec["event"], tuple) else (spec["event"],)
        assert any(event in row["reason"] for event in events), (row["reason"], row["notes"])


@pytest.mark.parametrize("sid", ["stripped-setup-metadata", "skip-tags"])
def test_tampered_metadata_scores_zero(graded, sid):
    assert float(graded["rows"][sid]["score"]) == 0.0


@pytest.mark.parametrize("sid,status,words", [("empty-file", "unreadable", "empty"),
                                              ("binary-file", "unreadable", "not text"),
                                              ("not-json", "unreadable", "not valid JSON"),
                                              ("symlink-to-classmate", "rejected", "symbolic link"),
                                              ("no-notebook", "missing", "no notebook")])
def test_malformed_submissions_get_a_clear_status(graded, sid, status, words):
    row = graded["rows"][sid]
    assert row["status"] == status and words in row["reason"] and float(row["score"]) == 0.0, row


def test_nothing_outside_a_submission_changed(graded):
    assert graded["after"] == graded["before"]
    assert not Path("/tmp/pwned").exists()
    assert not (ROOT / ".venv" / "lib" / "evil.pth").exists()
    newer = [p for p in (ROOT / ".venv").rglob("*") if p.is_file() and p.stat().st_mtime > graded["started"]
             and "__pycache__" not in p.parts]
    assert not newer, f"the virtual environment changed: {newer[:5]}"
    assert (graded["course"] / "grades.csv").read_text() == graded["grades_text"], "grades.csv changed after the run"


def test_the_gradebook_keeps_the_instructors_tests(graded):
    from nbgrader.api import Gradebook
    source = nbformat.read(graded["course"] / "solutions" / CHAPTER / f"{NOTEBOOK}.ipynb", as_version=4)
    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}") as gb:
        stored = {c.name: c.source for c in gb.find_notebook(NOTEBOOK, CHAPTER).source_cells}
    for cell in source.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            assert SECRET["hidden"] in stored["test_central_difference"]
            assert stored[cell.metadata["nbgrader"]["grade_id"]].strip() != "pass"


def test_no_secret_reaches_feedback(graded):
    assert graded["feedback"].returncode == 0, graded["feedback"].stderr[-2000:]
    pages = list((graded["course"] / "feedback").rglob("*.html"))
    assert len(pages) >= 20
    for page in pages:
        raw = page.read_text()
        sid = page.relative_to(graded["course"] / "feedback").parts[0]
        for key, secret in SECRET.items():
            if key == "classmate" and "honest" in sid:
                continue   # their own notes
            assert secret not in raw, f"{key} secret in {sid}'s feedback"
        assert len(raw) < 3_000_000, f"{sid}'s feedback is {len(raw)} bytes"


def test_feedback_shows_student_markup_as_text(graded):
    page = graded["course"] / "feedback" / "markup" / CHAPTER / f"{NOTEBOOK}.html"
    raw = page.read_text()
    assert not re.search(r"href=[\"']?\s*javascript", raw, flags=re.I), "a live javascript: link"
    scripts = re.findall(r"<script[^>]*>(.*?)</script>", raw, flags=re.S)
    assert not [s for s in scripts if "alert(" in s], "a student's script is live in the feedback"
    assert not re.search(r"<img[^>]*onerror", raw), "a student's HTML is live in the feedback"
    assert "&lt;script&gt;alert(" in raw, "the student's markdown is not shown as text"


def test_feedback_keeps_helpful_messages(graded):
    page = graded["course"] / "feedback" / "rebind-helper" / CHAPTER / f"{NOTEBOOK}.html"
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    assert "central_difference(np.sin, 0.3)" in text and "should be" in text


def test_hidden_inputs_do_not_reach_feedback_through_messages(graded):
    page = graded["course"] / "feedback" / "leak-hidden-inputs" / CHAPTER / f"{NOTEBOOK}.html"
    text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
    assert "LEAK names=(" not in text and "globals={'" not in text   # the leak's values, not its source
    assert "your directional_derivative() raised ValueError in a hidden test" in text


def test_a_flooding_kernel_does_not_flood_the_grader(graded):
    log = graded["course"] / ".gradeguard" / CHAPTER / "autograde.log"
    assert log.stat().st_size < 5_000_000, "a kernel's writes reached the grader's log"
    assert graded["seconds"] < 600, f"grading the class took {graded['seconds']:.0f} s"
