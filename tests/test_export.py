"""The public student repository that `make student` exports from this private one.

It holds the book, the student notebooks and descentlab, as one fresh commit: no solution,
no hidden test and no instructor file, in its files or in its history. It builds the book
with its own `make book`, and that book's buttons point at the student repository.

The leak check here is written independently of the one inside tools/export_student.py, and
each check is shown to fail on a planted leak.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
import yaml

from conftest import ROOT, run
from test_launch import dropdown

sys.path.insert(0, str(ROOT / "tools"))
import export_student  # noqa: E402

# The allow-list as this test states it (the exporter keeps its own copy).
EXPORTED_FILES = {"_config.yml", "_toc.yml", "intro.md", "notation.md", "glossary.md", "bibliography.md",
                  "references.bib", "LICENSE", "constraints.txt"}
EXPORTED_DIRS = ("_ext/", "_static/", "binder/", "chapters/", "src/descentlab/")
GENERATED = {"pyproject.toml", "Makefile", "README.md", ".gitignore"}
EDITED = {"_toc.yml", "_config.yml", "intro.md"}
PRIVATE = ("solutions/", "tests/", "tools/", "benchmarks/", ".ci/", "nbgrader_config.py", "instructors.md")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
# descentlab is published with the book and states this solution line too (see the exporter).
LIBRARY_LINES = {"weight = np.exp(-np.logaddexp(0.0, margin))": "src/descentlab/losses.py"}

CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO = CONFIG["repository"]["url"].rstrip("/")
BRANCH = CONFIG["repository"]["branch"]
OWNER, NAME = urlsplit(REPO).path.strip("/").split("/")


def git(cwd, *args: str) -> str:
    return run(["git", *args], cwd=cwd).stdout


HEAD = git(ROOT, "rev-parse", "HEAD").strip()


def head_files() -> list[str]:
    return git(ROOT, "ls-tree", "-r", "--name-only", "--full-tree", "HEAD").splitlines()


def at_head(path: str) -> bytes:
    return subprocess.run(["git", "show", f"HEAD:{path}"], cwd=ROOT, capture_output=True, check=True).stdout


# ------------------------------------------------------------------ the secrets and the scanner

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def secret_lines() -> set[str]:
    """Lines longer than 30 characters inside the solution and hidden-test regions of
    solutions/*/exercises.ipynb (as committed), minus those that the visible part shows anyway."""
    secret, visible = set(), []
    for path in head_files():
        if path.startswith("solutions/") and path.endswith(".ipynb"):
            for cell in nbformat.reads(at_head(path).decode(), as_version=4).cells:
                for region in SOLUTION.findall(cell.source) + HIDDEN.findall(cell.source):
                    secret |= {ln.strip() for ln in region.splitlines() if len(ln.strip()) > 30}
                visible.append(SOLUTION.sub("", HIDDEN.sub("", cell.source)))
    public = "\n".join(visible)
    return {s for s in secret if s not in public}


@pytest.fixture(scope="module")
def secrets() -> set[str]:
    return secret_lines()


def found_in(path: str, text: str, secrets: set[str]) -> list[str]:
    hits = [m for m in MARKERS if m in text]
    for s in secrets:
        if LIBRARY_LINES.get(s) == path:
            continue
        if s in text or json.dumps(s)[1:-1] in text or html.escape(s) in text or html.escape(s, quote=False) in text:
            hits.append(s)
    return hits


def tree_leaks(root, secrets: set[str], skip=(".git",)) -> dict[str, list[str]]:
    leaks = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and not path.is_symlink() and rel.parts[0] not in skip:
            if hits := found_in(rel.as_posix(), path.read_text(errors="ignore"), secrets):
                leaks[rel.as_posix()] = hits
    return leaks


def history_leaks(repo, secrets: set[str]) -> list[str]:
    """Markers and secret lines anywhere in the history. The one allowed library line is allowed
    only in the patch of its own file."""
    log = git(repo, "log", "--all", "-p", "--format=commit %H%n%B")
    hits = []
    for chunk in re.split(r"^(?=diff --git )", log, flags=re.M):
        m = re.match(r"diff --git a/(\S+)", chunk)
        hits += found_in(m.group(1) if m else "", chunk, secrets)
    return hits


# ------------------------------------------------------------------ the export

@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    out = tmp_path_factory.mktemp("export") / "student-repo"
    result = run(["make", "student", f"OUT={out}"])
    assert f"Push it to {REPO}" in result.stdout and "never push the instructor repository there" in result.stdout
    return out


def exported_files(root) -> set[str]:
    return set(git(root, "ls-files").splitlines())


def test_the_export_is_the_allow_list(exported):
    files = exported_files(exported)
    on_disk = {p.relative_to(exported).as_posix() for p in exported.rglob("*")
               if p.is_file() and ".git" not in p.relative_to(exported).parts}
    assert files == on_disk, "every file of the export is committed"
    expected = {p for p in head_files() if p in EXPORTED_FILES or p.startswith(EXPORTED_DIRS)} | GENERATED
    assert files == expected
    for path in files:
        assert not path.startswith(PRIVATE), path
        assert not path.startswith("src/") or path.startswith("src/descentlab/"), path
    assert {p.split("/")[1] for p in files if p.startswith("src/")} == {"descentlab"}
    assert (exported / "binder" / "postBuild").stat().st_mode & 0o111, "postBuild stays executable"


def test_a_new_instructor_file_or_package_stays_private(tmp_path):
    """The exporter copies an allow-list: whatever is added elsewhere is not exported by default."""
    clone = tmp_path / "instructor"
    git(tmp_path, "clone", "-q", "--shared", str(ROOT), str(clone))
    planted = ["src/gradeguard/__init__.py", "src/othertool/cli.py", "grading-notes.md", "tests/test_new.py",
               "solutions/01-gradients/grading-notes.md", "tools/new_tool.py", ".ci/deploy", "instructor/answers.md"]
    for path in planted:
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_text("instructor only\n")
    ignored = clone / "chapters" / "01-gradients" / ".ipynb_checkpoints" / "exercises-checkpoint.ipynb"
    ignored.parent.mkdir()
    ignored.write_text("{}")
    git(clone, "add", "-f", *planted, str(ignored.relative_to(clone)))
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "instructor files")
    export_student.export(tmp_path / "out", root=clone)
    files = exported_files(tmp_path / "out")
    assert not set(planted) & files
    assert not any(".ipynb_checkpoints" in p for p in files), "a tracked but git-ignored file is not exported"
    assert "chapters/01-gradients/exercises.ipynb" in files


def test_nothing_secret_in_the_files_or_the_history(exported, secrets):
    assert tree_leaks(exported, secrets) == {}
    assert history_leaks(exported, secrets) == []
    assert git(exported, "rev-list", "--all").split() == [git(exported, "rev-parse", "HEAD").strip()]
    assert int(run(["bash", "-c", "git rev-list --all | wc -l"], cwd=exported).stdout) == 1
    # no object outside that one commit (nothing of the instructor history came along)
    stored = set(git(exported, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split())
    reachable = {ln.split()[0] for ln in git(exported, "rev-list", "--objects", "--all").splitlines()}
    assert stored == reachable
    message = git(exported, "log", "-1", "--format=%B")
    assert f"instructor commit {HEAD}" in message
    assert git(exported, "rev-parse", "--abbrev-ref", "HEAD").strip() == BRANCH
    assert not git(exported, "remote").strip(), "the export has no remote: it never knew the instructor repository"


def test_the_secrets_are_real_and_both_checks_agree(secrets):
    assert len(secrets) > 100
    assert "return X.T @ (X @ w - y) / len(y)" in secrets                       # a solution line
    assert any("least_squares_grad(w_star, X, y)" in s for s in secrets)       # a hidden-test line
    assert export_student.secrets_at(ROOT, "HEAD") == secrets
    assert export_student.LIBRARY_LINES == LIBRARY_LINES
    for line, path in LIBRARY_LINES.items():
        assert line in secrets and line in at_head(path).decode(), "drop an allowance that no longer applies"


def test_the_scanner_catches_planted_leaks(exported, secrets, tmp_path):
    hidden = sorted(s for s in secrets if "assert" in s)[0]
    quoted = sorted(s for s in secrets if '"' in s or "\\" in s)[0]     # spelled differently in JSON
    copy = tmp_path / "copy"
    shutil.copytree(exported, copy, symlinks=True)
    with open(copy / "chapters" / "01-gradients" / "index.md", "a") as f:
        f.write(f"\n```python\n{hidden}\n```\n")
    nb_path = copy / "chapters" / "02-backprop" / "exercises.ipynb"
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(f"x = 1\n{quoted}\n"))
    nbformat.write(nb, nb_path)
    (copy / "notation.md").write_text((copy / "notation.md").read_text() + "\n### BEGIN HIDDEN TESTS\n")
    (copy / "glossary.md").write_text((copy / "glossary.md").read_text() + "\n" + next(iter(LIBRARY_LINES)))
    leaks = tree_leaks(copy, secrets)
    assert leaks["chapters/01-gradients/index.md"] == [hidden]
    assert leaks["chapters/02-backprop/exercises.ipynb"] == [quoted]
    assert leaks["notation.md"] == ["BEGIN HIDDEN TESTS"]
    assert leaks["glossary.md"] == [next(iter(LIBRARY_LINES))], "the library allowance is for its own file only"

    # a leak that was committed and then removed: the files are clean, the history is not
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(exported), str(clone))
    (clone / "notes.py").write_text(hidden + "\n")
    git(clone, "add", "notes.py")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "oops")
    git(clone, "rm", "-q", "notes.py")
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "remove")
    assert tree_leaks(clone, secrets) == {}
    assert set(history_leaks(clone, secrets)) == {hidden}     # added, then removed
    assert len(git(clone, "rev-list", "--all").split()) == 3


def test_the_exporter_refuses_a_leaking_tree(tmp_path):
    """Its own guard: a hidden test in a student notebook stops the export before anything is written."""
    clone = tmp_path / "instructor"
    git(tmp_path, "clone", "-q", "--shared", str(ROOT), str(clone))
    nb_path = clone / "chapters" / "01-gradients" / "exercises.ipynb"
    hidden = sorted(s for s in secret_lines() if "assert" in s)[0]
    nb = nbformat.read(nb_path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(hidden))
    nbformat.write(nb, nb_path)
    git(clone, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "leak")
    with pytest.raises(export_student.ExportError, match="exercises.ipynb"):
        export_student.export(tmp_path / "out", root=clone)
    assert not (tmp_path / "out").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["instructor"], "no half-written export is left behind"


def test_the_exporter_will_not_overwrite_what_it_did_not_write(tmp_path, exported):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "thesis.tex").write_text("x")
    with pytest.raises(export_student.ExportError, match="not a previous student export"):
        export_student.export(precious)
    with pytest.raises(export_student.ExportError, match="not git-ignored"):
        export_student.export(ROOT / "chapters" / "student")
    with pytest.raises(export_student.ExportError, match="holds this repository"):
        export_student.export(ROOT.parent)
    # a previous export is replaced
    again = tmp_path / "again"
    shutil.copytree(exported, again, symlinks=True)
    (again / "stale.txt").write_text("x")
    export_student.export(again)
    assert not (again / "stale.txt").exists()
    assert exported_files(again) == exported_files(exported)


# ------------------------------------------------------------------ the copied and edited files

def test_exported_notebooks_equal_the_student_notebooks(exported):
    notebooks = sorted(p for p in head_files() if re.fullmatch(r"chapters/[^/]+/exercises\.ipynb", p))
    assert len(notebooks) >= 6
    assert sorted(p.relative_to(exported).as_posix() for p in exported.glob("chapters/*/*.ipynb")) == notebooks
    for path in notebooks:
        assert (exported / path).read_bytes() == at_head(path), path
        if not git(ROOT, "status", "--porcelain", "--", path).strip():
            assert (exported / path).read_bytes() == (ROOT / path).read_bytes(), path


def test_every_other_file_is_copied_unchanged(exported):
    for path in exported_files(exported) - GENERATED - EDITED:
        assert (exported / path).read_bytes() == at_head(path), path


def test_the_toc_config_and_intro_lose_only_the_instructor_guide(exported):
    def drop(entries):
        return [{k: drop(v) if isinstance(v, list) else v for k, v in e.items()}
                for e in entries if e.get("file") != "instructors"]
    toc = yaml.safe_load(at_head("_toc.yml"))
    student_toc = yaml.safe_load((exported / "_toc.yml").read_text())
    assert "instructors" in at_head("_toc.yml").decode()
    assert student_toc == {**toc, "parts": [{**p, "chapters": drop(p["chapters"])} for p in toc["parts"]]}
    assert "instructors" not in (exported / "_toc.yml").read_text()

    # the same settings, the same repository address: only the comment above it differs
    assert yaml.safe_load((exported / "_config.yml").read_text()) == yaml.safe_load(at_head("_config.yml"))
    assert "private" in at_head("_config.yml").decode()
    assert "private" not in (exported / "_config.yml").read_text()

    intro = (exported / "intro.md").read_text()
    assert "<instructors>" in at_head("intro.md").decode()
    assert not re.search(r"<\s*(\.\./)*/?instructors\s*>|\]\((\.\./)*/?instructors", intro)
    assert "{doc}`notation page <notation>`" in intro, "other links stay"


@pytest.mark.parametrize("text, expected", [
    ("- a\n- b {doc}`guide <instructors>` c\n  more\n- d\n", "- a\n- d\n"),
    ("See the {doc}`instructor guide <../instructors>` now.\n", "See the instructor guide now.\n"),
    ("See [the guide](instructors.md#launch).\n", "See the guide.\n"),
    ("1. one\n2. the [guide](/instructors)\n\nNext {doc}`notation`\n", "1. one\n\nNext {doc}`notation`\n"),
])
def test_links_to_the_instructor_guide_are_taken_out(text, expected):
    assert export_student.unlink_page(text, "instructors") == expected


def test_student_pyproject_has_the_book_and_nothing_for_grading(exported):
    text = (exported / "pyproject.toml").read_text()
    data = tomllib.loads(text)
    instructor = tomllib.loads(at_head("pyproject.toml").decode())
    assert data["project"]["name"] == "descentlab"
    assert data["project"]["dependencies"] == instructor["project"]["dependencies"]
    extras = instructor["project"]["optional-dependencies"]
    assert data["project"]["optional-dependencies"] == {"plot": extras["plot"], "book": extras["book"]}
    assert "scripts" not in data["project"] and set(data["tool"]) == {"setuptools"}
    assert data["tool"]["setuptools"]["packages"]["find"]["include"] == ["descentlab", "descentlab.*"]
    for word in ("nbgrader", "pytest", "grading", "gradeguard", "torch"):
        assert word not in text, word
    assert data["project"]["readme"] == "README.md" and (exported / "README.md").is_file()


def test_student_readme_says_how_to_build_and_do_the_exercises(exported):
    readme = (exported / "README.md").read_text()
    for needed in ("make book", "YOUR CODE HERE", "hidden tests", "download", "Binder", REPO, f"{REPO}/issues"):
        assert needed in readme, needed
    for private in ("solutions/", "nbgrader", "instructors.md", "make grade", "$"):
        assert private not in readme, private


def test_student_makefile_sets_up_like_the_instructor_makefile(exported, tmp_path):
    makefile = (exported / "Makefile").read_text()
    instructor = at_head("Makefile").decode()
    rule = export_student.makefile_rule
    assert rule(makefile, "$(MATHJAX)") == rule(instructor, "$(MATHJAX)")
    assert rule(makefile, "setup") == rule(instructor, "setup")
    assert rule(makefile, "book") == rule(instructor, "book")
    assert rule(makefile, "$(STAMP)") == rule(instructor, "$(STAMP)").replace(
        re.search(r"-e '\.\[[^\]]*\]'", instructor).group(0), "-e '.[book]'")
    assert "-e '.[book]'" in makefile
    for target in ("book", "serve", "help", "clean"):
        assert re.search(rf"^{target}:", makefile, re.M), target
    for private in ("grade", "release", "nbgrader", "solutions", "student"):
        assert not re.search(rf"^{private}\b", makefile, re.M), private

    # on a fresh clone (no .venv, no MathJax) `make book` would create both
    clone = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(exported), str(clone))
    plan = run(["make", "-n", "book"], cwd=clone).stdout
    assert "python3 -m venv .venv" in plan
    assert "pip install --quiet -e '.[book]'" in plan
    assert "npm install" in plan and "mathjax@" in plan
    assert "jupyter-book build . --path-output . -W -n --keep-going" in plan
    assert "make book" in run(["make", "help"], cwd=clone).stdout


# ------------------------------------------------------------------ the student book

@pytest.mark.book
def test_the_student_repository_builds_its_own_book(book, exported, secrets, tmp_path, monkeypatch):
    clone = tmp_path / "student"
    git(tmp_path, "clone", "-q", str(exported), str(clone))
    # The pages are the instructor book's pages: its execution cache (keyed by the
    # code's hash) spares re-running them; a page that differed would still execute.
    shutil.copytree(ROOT / "_build" / ".jupyter_cache", clone / "_build" / ".jupyter_cache")
    # Seed what `make book` would otherwise download (the test above shows it would): this
    # project's venv and MathJax. The venv is shared, so make must not reinstall into it.
    (clone / ".venv").symlink_to(ROOT / ".venv")
    shutil.copytree(ROOT / "_extra", clone / "_extra")
    os.utime(clone / "pyproject.toml", (0, 0))
    plan = run(["make", "-n", "book"], cwd=clone).stdout
    assert "pip install" not in plan and "npm install" not in plan, plan
    monkeypatch.setenv("PYTHONPATH", str(clone / "src"))      # the pages import the exported descentlab
    run(["make", "book"], cwd=clone, timeout=1800)

    book = clone / "_build" / "html"
    pages = sorted(p for p in book.rglob("*.html") if "_static" not in p.parts and "mathjax" not in p.parts)
    assert len(pages) >= 15 and (book / "chapters" / "01-gradients" / "exercises.html").is_file()
    assert not list(book.rglob("instructors*")), "no instructor guide page or source"
    assert all("instructors.html" not in p.read_text() for p in pages)
    assert tree_leaks(book, secrets, skip=("mathjax",)) == {}

    for page in pages:
        name = page.relative_to(book).as_posix()
        if name in {"search.html", "genindex.html", "index.html"}:
            continue
        text = page.read_text()
        links = dropdown(text, "source-buttons")
        assert links.get("Repository") == REPO, name
        assert links.get("Open issue", "").startswith(f"{REPO}/issues/new?"), name
        launch = dropdown(text, "launch-buttons")
        if launch:
            source = next(p.relative_to(clone).as_posix() for p in (clone / name).parent.glob(
                page.stem + ".*") if p.suffix in {".md", ".ipynb"})
            assert launch["Binder"] == (f"{CONFIG['launch_buttons']['binderhub_url']}/v2/gh/{OWNER}/{NAME}/"
                                        f"{BRANCH}?urlpath=lab/tree/{source}"), name
            assert f"{OWNER}/{NAME}" in launch["Binder"] and source in exported_files(exported)
            if CONFIG["launch_buttons"].get("jupyterhub_url"):
                assert parse_qs(urlsplit(launch["JupyterHub"]).query)["repo"] == [REPO], name
            else:
                assert "JupyterHub" not in launch, name
